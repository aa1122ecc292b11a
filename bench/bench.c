/*
 * bench: the benchmark workloads of docs/BENCHMARKS.md (W1 to W7, cold start, peak memory),
 * measured through the C API as an embedding application sees it. Timings are medians; the
 * machine's load is printed with them, because two threads collapse when another process takes a
 * core. The PyTorch and ONNX Runtime figures are measured in the same run by scripts/bench.py
 * (`make bench`), which calls this program one workload at a time, alternating with
 * bench/reference.py: no reference figure is compiled in here.
 *
 *   usage: bench DATA_DIR [--quick]       every workload at 1 then 2 threads, ours alone
 *          bench DATA_DIR --workload NAME THREADS [--quick]
 *                                         one workload, one line "NAME THREADS VALUE UNIT load L"
 *                                         (NAME: w1 w2 w3-one w3-batch w4 w5 w6 w7 cold-start
 *                                         peak-memory peak-memory-source; for scripts/bench.py)
 *          bench DATA_DIR --w6 [REPEATS [THREADS]]  (only W6, REPEATS times at 1 then 2 threads, or
 *                                          at THREADS only: for runs interleaved with
 *                                          bench/pytorch_w6.py, and for profiling)
 *          bench --w7 THREADS EPOCHS   (only W7: for runs paired with bench/pytorch_w7.py, bench/w7_paired.sh)
 *          bench --w2 THREADS REPEATS [DATA_DIR]  (only W2, REPEATS times, one line each: for runs
 *                                          paired with bench/pytorch_w2.py, bench/w2_paired.sh)
 *          bench --info                the library's version and GEMM kernel (ae_gemm_kernel_description)
 *          bench --cold-start          (internal: child process for the cold-start figure)
 *          bench --train-w1 DATA_DIR   (internal: child process for the peak-memory figure; prints
 *                                       its own peak RSS, VmHWM, in MiB)
 *          bench --train-w1-source DATA_DIR  (internal: the same with the images kept as bytes and
 *                                       given batch by batch through ae_model_train_source)
 */
#define _DEFAULT_SOURCE
#include <autoencoders.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <spawn.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../examples/c/npy.h"
#include "workloads.h"

#define EPOCH_SAMPLES 10240

#define W6_STEPS 50
#define W6_FEATURES 32
#define W6_SAMPLES 2048

/* Wall-clock time: between processes (cold start) and whenever BENCH_CLOCK is not "cpu". */
static double wall(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The clock of the timed sections: the wall clock, or with BENCH_CLOCK=cpu this process's CPU
 * time (meaningful at one thread only: what a core does when the scheduler gives it to us, for
 * figures taken on a loaded machine; scripts/bench.py --cpu-clock). */
static double now(void) {
    static int cpu = -1;
    if (cpu < 0) cpu = getenv("BENCH_CLOCK") && strcmp(getenv("BENCH_CLOCK"), "cpu") == 0;
    if (!cpu) return wall();
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *values, size_t count) {
    qsort(values, count, sizeof *values, compare_doubles);
    return count % 2 ? values[count / 2] : 0.5 * (values[count / 2 - 1] + values[count / 2]);
}

static double load_average(void) {
    double load = -1;
    FILE *file = fopen("/proc/loadavg", "r");
    if (file) {
        if (fscanf(file, "%lf", &load) != 1) load = -1;
        fclose(file);
    }
    return load;
}

static void die(const char *what) {
    fprintf(stderr, "bench: %s: %s\n", what, ae_last_error());
    exit(1);
}

/* The W1 epoch: the 5,000 MNIST images / 255, tiled to 10,240 samples. */
static float *w1_data(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/mnist5k_X.npy", dir);
    npy_array images;
    if (npy_load(path, &images) != 0) exit(1);
    float *data = malloc((size_t)EPOCH_SAMPLES * 784 * sizeof(float));
    for (size_t i = 0; i < EPOCH_SAMPLES; i++)
        for (size_t j = 0; j < 784; j++) data[i * 784 + j] = images.data[(i % 5000) * 784 + j] / 255.0f;
    free(images.data);
    return data;
}

/* The W6 epoch: 2,048 windows of 50 steps x 32 channels, channel f of window i at step t being
 * 0.8 sin(2 pi t / (4 + f) + 0.37 i) (the same formula as bench/pytorch_w6.py). */
static float *w6_data(void) {
    float *data = malloc((size_t)W6_SAMPLES * W6_STEPS * W6_FEATURES * sizeof(float));
    for (size_t i = 0; i < W6_SAMPLES; i++)
        for (size_t t = 0; t < W6_STEPS; t++)
            for (size_t f = 0; f < W6_FEATURES; f++)
                data[(i * W6_STEPS + t) * W6_FEATURES + f] =
                    (float)(0.8 * sin(6.283185307179586 * (double)t / (4.0 + (double)f) + 0.37 * (double)i));
    return data;
}

typedef struct { double times[64]; size_t count; double last; } epoch_clock;

static int record_epoch(const ae_progress *progress, void *user_data) {
    epoch_clock *clock = user_data;
    double t = now();
    if (progress->is_epoch_end && clock->count < 64) clock->times[clock->count++] = t - clock->last;
    clock->last = t;
    return 0;
}

/* Samples/s of training a spec on `samples` samples of `features` values: one warm-up epoch, then
 * the median of `epochs` timed epochs. Returns -1 when the library cannot build the spec. */
static double training_throughput_of(const char *spec, const float *data, size_t samples, size_t features,
                                     size_t epochs, size_t batch_size) {
    ae_model *model;
    if (ae_model_create(spec, &model) != AE_OK) return -1;
    ae_train_options options;
    ae_train_options_init(&options, sizeof options);
    options.epochs = epochs + 1;
    options.batch_size = batch_size;
    epoch_clock clock = {{0}, 0, now()};
    options.progress = record_epoch;
    options.user_data = &clock;
    if (ae_model_train(model, data, samples, samples * features, &options, NULL) != AE_OK) die("ae_model_train");
    ae_model_free(model);
    return samples / median(clock.times + 1, clock.count - 1);
}

/* The same on the W1 epoch of 10,240 MNIST images. */
static double training_throughput(const char *spec, const float *data, size_t epochs, size_t batch_size) {
    return training_throughput_of(spec, data, EPOCH_SAMPLES, 784, epochs, batch_size);
}

/* W6 samples/s at the current thread count: median of `epochs` epochs after a warm-up epoch. */
static double w6_throughput(const float *data, size_t epochs) {
    return training_throughput_of(W6_SPEC, data, W6_SAMPLES, W6_STEPS * W6_FEATURES, epochs, 64);
}

/* Only W6, `repeats` times at 1 then 2 threads (at `only_threads` alone when it is not 0), one
 * line per figure with the load average. */
static int w6_only(size_t repeats, int only_threads) {
    float *data = w6_data();
    printf("libautoencoders %s, W6 (LSTM AE training, T = 50, batch 64), samples/s\n", ae_version_string());
    int first = only_threads ? only_threads : 1, last = only_threads ? only_threads : 2;
    for (size_t r = 0; r < repeats; r++)
        for (int threads = first; threads <= last; threads++) {
            ae_set_num_threads(threads);
            double w6 = w6_throughput(data, 3);
            if (w6 < 0) die("W6");
            printf("ours threads=%d samples/s=%.1f load=%.2f\n", threads, w6, load_average());
            fflush(stdout);
        }
    free(data);
    return 0;
}

/* W7: the 3-D U-Net with a VAE branch of examples/specs/brain_unet3d_vae.json (run from the
 * repository root) on 1x32^3 volumes, batch 2: samples/s of training on 16 volumes per epoch (a
 * bright cube in noise, labelled 1), one warm-up epoch, then the median of `epochs` timed epochs.
 * bench/pytorch_w7.py measures the same network the same way. */
#define W7_VOLUMES 16
#define W7_VOXELS (32 * 32 * 32)
static double w7_throughput(size_t epochs) {
    FILE *file = fopen("examples/specs/brain_unet3d_vae.json", "rb");
    if (!file) return -1;
    char *spec = calloc(1 << 16, 1);
    size_t length = fread(spec, 1, (1 << 16) - 1, file);
    fclose(file);
    float *x = malloc((size_t)W7_VOLUMES * W7_VOXELS * sizeof(float));
    int32_t *labels = malloc((size_t)W7_VOLUMES * W7_VOXELS * sizeof(int32_t));
    unsigned state = 12345;
    for (size_t i = 0; i < (size_t)W7_VOLUMES * W7_VOXELS; i++) {
        size_t v = i % W7_VOXELS, d = v / 1024, h = v / 32 % 32, w = v % 32, s = i / W7_VOXELS;
        int inside = d >= 4 + s && d < 14 + s && h >= 10 && h < 20 && w >= 8 && w < 18;
        state = state * 1103515245u + 12345u;
        x[i] = (inside ? 0.8f : 0.3f) + 0.1f * (float)(state >> 16 & 0x7fff) / 32768.0f;
        labels[i] = inside;
    }
    ae_model *model;
    double result = -1;
    if (length > 0 && ae_model_create(spec, &model) == AE_OK) {
        ae_train_options options;
        ae_train_options_init(&options, sizeof options);
        options.epochs = epochs + 1;
        options.batch_size = 2;
        epoch_clock clock = {{0}, 0, now()};
        options.progress = record_epoch;
        options.user_data = &clock;
        if (ae_model_train_labels(model, x, W7_VOLUMES, (size_t)W7_VOLUMES * W7_VOXELS, labels,
                                  (size_t)W7_VOLUMES * W7_VOXELS, &options, NULL) != AE_OK) die("W7 ae_model_train_labels");
        result = W7_VOLUMES / median(clock.times + 1, clock.count - 1);
        ae_model_free(model);
    }
    free(spec);
    free(x);
    free(labels);
    return result;
}

/* Median latency in microseconds of reconstructing one sample, each call timed alone. */
static double latency(const ae_model *model, const float *sample, size_t features, size_t warmup, size_t calls) {
    float *output = malloc(features * sizeof(float));
    double *times = malloc(calls * sizeof(double));
    for (size_t i = 0; i < warmup; i++) ae_model_reconstruct(model, sample, 1, features, output, features);
    for (size_t i = 0; i < calls; i++) {
        double start = now();
        if (ae_model_reconstruct(model, sample, 1, features, output, features) != AE_OK) die("ae_model_reconstruct");
        times[i] = (now() - start) * 1e6;
    }
    double result = median(times, calls);
    free(times);
    free(output);
    return result;
}

/* Samples/s of reconstructing batches of 256 (median of 200 calls). */
static double batch_throughput(const ae_model *model, const float *data) {
    float *output = malloc(256 * 784 * sizeof(float));
    double times[200];
    for (int i = 0; i < 20; i++) ae_model_reconstruct(model, data, 256, 256 * 784, output, 256 * 784);
    for (int i = 0; i < 200; i++) {
        double start = now();
        ae_model_reconstruct(model, data + (size_t)(i % 40) * 256 * 784, 256, 256 * 784, output, 256 * 784);
        times[i] = now() - start;
    }
    free(output);
    return 256 / median(times, 200);
}

/* bench --latency MODEL.aem THREADS: one-sample latency (median of 2,000 calls after 300, as W3)
 * and batch-256 throughput (median of 200 calls after 20) of any model file, e.g. the float and
 * int8 models of examples/python/int8_evidence.py. Inputs: deterministic values in [0, 1). */
static int latency_of_file(const char *path, int threads) {
    ae_model *model;
    size_t features;
    if (ae_model_load(path, &model) != AE_OK || ae_model_input_size(model, &features) != AE_OK) die("ae_model_load");
    if (ae_set_num_threads(threads) != AE_OK) die("ae_set_num_threads");
    float *data = malloc(256 * features * sizeof(float)), *output = malloc(256 * features * sizeof(float));
    for (size_t i = 0; i < 256 * features; i++) data[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
    double one = latency(model, data, features, 300, 2000);
    double times[200];
    for (int i = 0; i < 20; i++) ae_model_reconstruct(model, data, 256, 256 * features, output, 256 * features);
    for (int i = 0; i < 200; i++) {
        double start = now();
        if (ae_model_reconstruct(model, data, 256, 256 * features, output, 256 * features) != AE_OK) die("ae_model_reconstruct");
        times[i] = now() - start;
    }
    int is_int8 = 0;
    ae_model_is_int8(model, &is_int8);
    printf("latency %s threads %d int8 %d kernel %s one-sample-us %.3f batch256-samples/s %.1f load %.2f\n", path, threads,
           is_int8, is_int8 ? ae_int8_kernel_name() : ae_gemm_kernel_name(), one, 256 / median(times, 200), load_average());
    free(data);
    free(output);
    ae_model_free(model);
    return 0;
}

/* Child: prints the monotonic time at which a W1 model and its optimizer are ready. */
static int cold_start_child(void) {
    ae_model *model;
    ae_trainer *trainer;
    if (ae_model_create(W1_SPEC, &model) != AE_OK || ae_trainer_create(model, 256, &trainer) != AE_OK) die("cold start");
    printf("%.9f\n", wall());
    ae_trainer_free(trainer);
    ae_model_free(model);
    return 0;
}

extern char **environ;

/* Process start to a W1 model with its optimizer, median of 7 children. They are started with
 * posix_spawn, as Python's subprocess starts the PyTorch child (vfork): a fork would first copy
 * the page tables of this process, which holds the data set (about 1 ms more here). */
static double cold_start_ms(const char *self) {
    double samples[7];
    for (int i = 0; i < 7; i++) {
        int pipefd[2];
        if (pipe(pipefd) != 0) return -1;
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
        posix_spawn_file_actions_addclose(&actions, pipefd[0]);
        char *arguments[] = {(char *)self, "--cold-start", NULL};
        double start = wall();
        pid_t pid;
        int failed = posix_spawn(&pid, self, &actions, NULL, arguments, environ);
        posix_spawn_file_actions_destroy(&actions);
        if (failed) return -1;
        close(pipefd[1]);
        char buffer[64] = {0};
        ssize_t got = read(pipefd[0], buffer, sizeof buffer - 1);
        close(pipefd[0]);
        waitpid(pid, NULL, 0);
        samples[i] = got > 0 ? (atof(buffer) - start) * 1e3 : -1;
    }
    return median(samples, 7);
}

/* The peak RSS (VmHWM) of this process in MiB, from /proc/self/status; -1 when unreadable. */
static double peak_rss_mib(void) {
    FILE *status = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (status && fgets(line, sizeof line, status))
        if (sscanf(line, "VmHWM: %ld", &kb) == 1) break;
    if (status) fclose(status);
    return kb < 0 ? -1 : kb / 1024.0;
}

/* The W1 epoch as a sample source: the 5,000 MNIST images kept as their bytes (3.7 MiB where the
 * epoch's floats take 30.6), sample i being image i % 5000 / 255, as in w1_data. */
typedef struct { const unsigned char *images; } byte_images;

static int fill_w1_rows(const size_t *indices, size_t count, float *rows, size_t rows_count, void *user_data) {
    const byte_images *source = user_data;
    (void)rows_count;
    for (size_t r = 0; r < count; r++) {
        const unsigned char *image = source->images + (indices[r] % 5000) * 784;
        for (size_t j = 0; j < 784; j++) rows[r * 784 + j] = image[j] / 255.0f;
    }
    return 0;
}

/* The child of the second peak-memory figure: W1 trained for two epochs (as --train-w1) from the
 * images' bytes through ae_model_train_source, so that only a batch is ever held as floats. */
static int train_w1_from_bytes(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/mnist5k_X.npy", dir);
    npy_array shape;
    byte_images source;
    unsigned char *images;
    if (npy_load_bytes(path, &shape, &images) != 0 || shape.count != 5000 * 784) return 1;
    source.images = images;
    ae_set_num_threads(1);
    ae_model *model;
    if (ae_model_create(W1_SPEC, &model) != AE_OK) die("create W1");
    ae_train_options options;
    ae_train_options_init(&options, sizeof options);
    options.epochs = 2;
    options.batch_size = 256;
    if (ae_model_train_source(model, EPOCH_SAMPLES, fill_w1_rows, &source, &options, NULL) != AE_OK)
        die("ae_model_train_source");
    printf("%.2f\n", peak_rss_mib());
    ae_model_free(model);
    free(images);
    return 0;
}

/* Peak RSS in MiB of a child process that trains W1 for two epochs at one thread, the W1 data
 * (30.6 MiB of floats, the caller's) included. The child reads its own VmHWM: the rusage of a
 * child (wait4's ru_maxrss) also holds the RSS it inherited from this process at fork, which
 * after the other workloads is larger than the child's own peak (it read 85.6 MiB where the child
 * peaked at 73.7). */
static double training_peak_mib(const char *self, const char *dir, const char *child) {
    int pipefd[2];
    if (pipe(pipefd) != 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 1);
        execl(self, self, child, dir, (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    char buffer[64] = {0};
    ssize_t got = read(pipefd[0], buffer, sizeof buffer - 1);
    close(pipefd[0]);
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || got <= 0) return -1;
    return atof(buffer);
}

typedef struct {
    const char *name, *title, *unit;
} workload;

static const workload workloads[] = {
    {"w1", "W1 dense AE training", "samples/s"},
    {"w4", "W4 VAE training", "samples/s"},
    {"w2", "W2 conv AE training", "samples/s"},
    {"w3-one", "W3 one-sample latency", "us"},
    {"w3-batch", "W3 batch-256 inference", "samples/s"},
    {"w5", "W5 tiny-model latency", "us"},
    {"w6", "W6 LSTM AE training", "samples/s"},
    {"w7", "W7 3-D U-Net + VAE training", "samples/s"},
    {"cold-start", "cold start to model + optimizer", "ms"},
    {"peak-memory", "peak memory, W1 training", "MiB"},
    {"peak-memory-source", "peak memory, W1 training from bytes", "MiB"},
};
#define WORKLOADS (sizeof workloads / sizeof workloads[0])

/* One workload at the current thread count; -1 when the library cannot run it. */
static double run_workload(const char *name, const char *self, const char *dir, const float *data, int quick) {
    if (strcmp(name, "w1") == 0) return training_throughput(W1_SPEC, data, quick ? 2 : 5, 256);
    if (strcmp(name, "w4") == 0) return training_throughput(W4_SPEC, data, quick ? 2 : 5, 128);
    if (strcmp(name, "w2") == 0) return training_throughput(W2_SPEC, data, quick ? 1 : 3, 64);
    if (strcmp(name, "w3-one") == 0 || strcmp(name, "w3-batch") == 0) {
        ae_model *model;
        if (ae_model_create(W1_SPEC, &model) != AE_OK) die("create W1");
        double value = strcmp(name, "w3-one") == 0 ? latency(model, data, 784, 300, quick ? 500 : 2000)
                                                   : batch_throughput(model, data);
        ae_model_free(model);
        return value;
    }
    if (strcmp(name, "w5") == 0) {
        ae_model *model;
        if (ae_model_create(W5_SPEC, &model) != AE_OK) die("create W5");
        float sample[100];
        for (int i = 0; i < 100; i++) sample[i] = data[i + 300];
        double value = latency(model, sample, 100, 500, quick ? 1000 : 5000);
        ae_model_free(model);
        return value;
    }
    if (strcmp(name, "w6") == 0) {
        float *w6 = w6_data();
        double value = w6_throughput(w6, quick ? 2 : 3);
        free(w6);
        return value;
    }
    if (strcmp(name, "w7") == 0) return w7_throughput(quick ? 1 : 3);
    if (strcmp(name, "cold-start") == 0) return cold_start_ms(self);
    if (strcmp(name, "peak-memory") == 0) return training_peak_mib(self, dir, "--train-w1");
    if (strcmp(name, "peak-memory-source") == 0) return training_peak_mib(self, dir, "--train-w1-source");
    fprintf(stderr, "bench: unknown workload %s\n", name);
    exit(2);
}

static const workload *find_workload(const char *name) {
    for (size_t i = 0; i < WORKLOADS; i++)
        if (strcmp(workloads[i].name, name) == 0) return &workloads[i];
    return NULL;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--cold-start") == 0) return cold_start_child();
    if (argc == 3 && strcmp(argv[1], "--train-w1") == 0) {
        float *data = w1_data(argv[2]);
        ae_set_num_threads(1);
        training_throughput(W1_SPEC, data, 1, 256);
        printf("%.2f\n", peak_rss_mib());
        free(data);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "--train-w1-source") == 0) return train_w1_from_bytes(argv[2]);
    if (argc == 4 && strcmp(argv[1], "--latency") == 0) return latency_of_file(argv[2], atoi(argv[3]));
    if (argc == 2 && strcmp(argv[1], "--info") == 0) {
        printf("libautoencoders %s, GEMM: %s\n", ae_version_string(), ae_gemm_kernel_description());
        return 0;
    }
    if (argc >= 3 && strcmp(argv[2], "--w6") == 0)
        return w6_only(argc > 3 ? (size_t)atoi(argv[3]) : 1, argc > 4 ? atoi(argv[4]) : 0);
    if (argc == 4 && strcmp(argv[1], "--w7") == 0) {   /* bench --w7 THREADS EPOCHS: W7 alone (bench/w7_paired.sh) */
        ae_set_num_threads(atoi(argv[2]));
        struct timespec cpu0, cpu1;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
        double w7 = w7_throughput((size_t)atoi(argv[3]));
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
        if (w7 < 0) die("W7");
        double cpu = (double)(cpu1.tv_sec - cpu0.tv_sec) + (double)(cpu1.tv_nsec - cpu0.tv_nsec) * 1e-9;
        /* Also samples per second of process CPU time over all epochs (warm-up included). */
        printf("W7 ours threads %d samples/s %.2f load %.2f cpu-samples/s %.2f\n", atoi(argv[2]), w7, load_average(),
               (atoi(argv[3]) + 1) * (double)W7_VOLUMES / cpu);
        return 0;
    }
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "--w2") == 0) {   /* bench --w2 THREADS REPEATS [DATA_DIR] */
        float *data = w1_data(argc == 5 ? argv[4] : "data");
        ae_set_num_threads(atoi(argv[2]));
        for (int r = 0; r < atoi(argv[3]); r++) {
            /* Also samples per second of process CPU time over the 4 epochs: on a loaded machine
             * that is the figure one thread's speed can be compared by. */
            struct timespec cpu0, cpu1;
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
            double w2 = training_throughput(W2_SPEC, data, 3, 64);
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
            if (w2 < 0) die("W2");
            double cpu = (double)(cpu1.tv_sec - cpu0.tv_sec) + (double)(cpu1.tv_nsec - cpu0.tv_nsec) * 1e-9;
            printf("W2 ours threads %d samples/s %.1f load %.2f cpu-samples/s %.1f\n", atoi(argv[2]), w2, load_average(),
                   4.0 * EPOCH_SAMPLES / cpu);
            fflush(stdout);
        }
        free(data);
        return 0;
    }
    if (argc >= 5 && strcmp(argv[2], "--workload") == 0) {
        const workload *w = find_workload(argv[3]);
        int threads = atoi(argv[4]);
        if (!w || threads < 1) {
            fprintf(stderr, "bench: --workload NAME THREADS: unknown workload %s or bad thread count %s\n", argv[3], argv[4]);
            return 2;
        }
        int quick = argc > 5 && strcmp(argv[5], "--quick") == 0;
        float *data = w1_data(argv[1]);
        if (ae_set_num_threads(threads) != AE_OK) die("ae_set_num_threads");
        double value = run_workload(w->name, argv[0], argv[1], data, quick);
        if (value < 0) {
            printf("%s %d - %s load %.2f (%s)\n", w->name, threads, w->unit, load_average(), ae_last_error());
        } else {
            printf("%s %d %.6g %s load %.2f\n", w->name, threads, value, w->unit, load_average());
        }
        free(data);
        return 0;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATA_DIR [--quick | --workload NAME THREADS [--quick] | --w6 [REPEATS [THREADS]]]"
                        " | --w7 THREADS EPOCHS | --w2 THREADS REPEATS [DATA_DIR] | --latency MODEL.aem THREADS | --info\n", argv[0]);
        return 2;
    }
    int quick = argc > 2 && strcmp(argv[2], "--quick") == 0;
    const char *dir = argv[1];
    float *data = w1_data(dir);
    printf("libautoencoders %s, load average %.2f at start\n", ae_version_string(), load_average());
    printf("GEMM: %s\n\n", ae_gemm_kernel_description());
    printf("%-38s %8s %12s\n", "workload", "threads", "ours");
    for (int threads = 1; threads <= 2; threads++) {
        ae_set_num_threads(threads);
        for (size_t i = 0; i < WORKLOADS; i++) {
            const workload *w = &workloads[i];
            if (strcmp(w->name, "cold-start") == 0 || strncmp(w->name, "peak-memory", 11) == 0) continue;
            char title[64];
            snprintf(title, sizeof title, "%s, %s", w->title, w->unit);
            double value = run_workload(w->name, argv[0], dir, data, quick);
            if (value < 0)
                printf("%-38s %8d %12s   (%s)\n", title, threads, "-", ae_last_error());
            else
                printf("%-38s %8d %12.*f\n", title, threads, value < 100 ? 2 : 0, value);
            fflush(stdout);
        }
    }
    printf("%-38s %8s %12.1f\n", "cold start to model + optimizer, ms", "-", cold_start_ms(argv[0]));
    printf("%-38s %8s %12.1f\n", "peak memory, W1 training, MiB", "1", training_peak_mib(argv[0], dir, "--train-w1"));
    printf("%-38s %8s %12.1f\n", "  the same, data as bytes (a source)", "1",
           training_peak_mib(argv[0], dir, "--train-w1-source"));
    printf("\nload average %.2f at end (figures are unreliable when it exceeds ~0.5 before a run)\n", load_average());
    printf("PyTorch and ONNX Runtime side by side: make bench-setup, then make bench\n");
    free(data);
    return 0;
}
