/* W6 measured by CPU time: the W6 training of bench.c (same spec, data, batch 64, Adam; the two
 * definitions below mirror bench.c's W6_SPEC and w6_data) with each epoch timed by the wall clock
 * and by the process's CPU time. At one thread the CPU time is the work done, so the figure stays
 * meaningful on a machine other processes keep busy (docs/BENCHMARKS.md, W6). Not a test.
 *
 *   make library
 *   cc -O2 -Iinclude -o build/bench/w6_cputime bench/w6_cputime.c -Lbuild/lib \
 *      -Wl,-rpath,"$PWD/build/lib" -lautoencoders -lm
 *   build/bench/w6_cputime [THREADS [EPOCHS]]
 *
 * bench/pytorch_w6_cputime.py measures the PyTorch side the same way. */
#define _POSIX_C_SOURCE 200809L
#include <autoencoders.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *W6_SPEC =
    "{\"input_shape\": [50, 32],"
    " \"encoder\": [{\"type\": \"lstm\", \"units\": 64, \"return\": \"last\"}],"
    " \"decoder\": [{\"type\": \"repeat\", \"steps\": 50},"
    "             {\"type\": \"lstm\", \"units\": 64},"
    "             {\"type\": \"time_distributed_dense\", \"units\": 32}],"
    " \"loss\": \"mse\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.001}, \"init\": \"pytorch\"}";

enum { STEPS = 50, FEATURES = 32, SAMPLES = 2048, MAX_EPOCHS = 64 };

static double seconds(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Channel f of window i at step t: 0.8 sin(2 pi t / (4 + f) + 0.37 i). */
static float *w6_data(void) {
    float *data = malloc((size_t)SAMPLES * STEPS * FEATURES * sizeof(float));
    if (!data) return NULL;
    for (size_t i = 0; i < SAMPLES; i++)
        for (size_t t = 0; t < STEPS; t++)
            for (size_t f = 0; f < FEATURES; f++)
                data[(i * STEPS + t) * FEATURES + f] =
                    (float)(0.8 * sin(6.283185307179586 * (double)t / (4.0 + (double)f) + 0.37 * (double)i));
    return data;
}

typedef struct { double wall[MAX_EPOCHS], cpu[MAX_EPOCHS], last_wall, last_cpu; int count; } epoch_clocks;

static int record_epoch(const ae_progress *progress, void *user_data) {
    epoch_clocks *clocks = user_data;
    if (!progress->is_epoch_end) return 0;
    double wall = seconds(CLOCK_MONOTONIC), cpu = seconds(CLOCK_PROCESS_CPUTIME_ID);
    if (clocks->count < MAX_EPOCHS) {
        clocks->wall[clocks->count] = wall - clocks->last_wall;
        clocks->cpu[clocks->count] = cpu - clocks->last_cpu;
        clocks->count++;
    }
    clocks->last_wall = wall;
    clocks->last_cpu = cpu;
    return 0;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1, epochs = argc > 2 ? atoi(argv[2]) : 3;
    if (threads < 1 || epochs < 1 || epochs >= MAX_EPOCHS) {
        fprintf(stderr, "usage: %s [THREADS >= 1 [EPOCHS 1..%d]]\n", argv[0], MAX_EPOCHS - 1);
        return 2;
    }
    float *data = w6_data();
    ae_model *model;
    if (!data || ae_set_num_threads(threads) != AE_OK || ae_model_create(W6_SPEC, &model) != AE_OK) {
        fprintf(stderr, "w6_cputime: %s\n", data ? ae_last_error() : "out of memory");
        return 1;
    }
    ae_train_options options;
    ae_train_options_init(&options, sizeof options);
    options.epochs = (size_t)epochs + 1;  /* the first is a warm-up */
    options.batch_size = 64;
    epoch_clocks clocks = {{0}, {0}, seconds(CLOCK_MONOTONIC), seconds(CLOCK_PROCESS_CPUTIME_ID), 0};
    options.progress = record_epoch;
    options.user_data = &clocks;
    if (ae_model_train(model, data, SAMPLES, (size_t)SAMPLES * STEPS * FEATURES, &options, NULL) != AE_OK) {
        fprintf(stderr, "w6_cputime: %s\n", ae_last_error());
        return 1;
    }
    double wall = 1e30, cpu = 1e30;
    for (int i = 1; i < clocks.count; i++) {
        if (clocks.wall[i] < wall) wall = clocks.wall[i];
        if (clocks.cpu[i] < cpu) cpu = clocks.cpu[i];
    }
    double load = -1;
    FILE *file = fopen("/proc/loadavg", "r");
    if (file) {
        if (fscanf(file, "%lf", &load) != 1) load = -1;
        fclose(file);
    }
    printf("ours threads=%d best-epoch samples/s: wall=%.0f cpu=%.0f load=%.2f\n", threads, SAMPLES / wall, SAMPLES / cpu, load);
    ae_model_free(model);
    free(data);
    return 0;
}
