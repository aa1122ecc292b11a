/*
 * startup: where the cold start's milliseconds and the W1 training's mebibytes go
 * (docs/BENCHMARKS.md, "Start-up and memory"; `make bench-startup`).
 *
 * The probe is linked against libc alone and loads the pieces itself, in the order the dynamic
 * loader would, timing each stage (wall clock and this process's CPU time) and reading
 * /proc/self/status (VmRSS, VmHWM, RssAnon, RssFile) after it:
 *
 *   exec     fork + exec of this probe until main() (the kernel's and ld.so's own cost for a
 *            minimal C program: no library of ours)
 *   blas     dlopen libopenblas.so.0 (with libgfortran, libquadmath): relocation, and OpenBLAS's
 *            constructor (CPU detection, its thread pool: one thread per further core unless
 *            OPENBLAS_NUM_THREADS says otherwise)
 *   cxx      dlopen libstdc++.so.6 (the Swift runtime's dependency)
 *   library  dlopen libautoencoders.so.0: its relocations and the Swift runtime's initialisers
 *   model    ae_model_create(W1): the spec parsed, 942,304 parameters and their gradients
 *            allocated and initialised
 *   trainer  ae_trainer_create(model, 256): the optimizer and the training workspace
 *            (the figure `bench` calls "cold start to model + optimizer" ends here)
 *   data     the W1 epoch (10,240 x 784 floats, 30.6 MiB) in the probe's memory
 *   step     ae_model_train's first batch of 256 (first GEMMs: OpenBLAS's buffer, the optimizer's
 *            state, fit's snapshot and workspace)
 *   epochs   the rest of 1 + EPOCHS epochs of W1 (batch 256), as `bench --train-w1` trains
 *
 * With STARTUP_MAPS=K the first run also lists the mappings with K KiB or more of RSS after
 * training (on stderr).
 *
 *     startup [--runs N] [--epochs E] [--library PATH] [--data DIR]
 *
 * prints, per stage, the median over N runs (each a fresh process) of wall milliseconds, CPU
 * milliseconds of the process (every thread: OpenBLAS's spinning workers too) and of the main
 * thread alone, and the RSS after it, then the peak RSS (VmHWM) with and without the training data. Figures
 * only: nothing here fails on timing.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../include/autoencoders.h"
#include "workloads.h"

#define EPOCH_SAMPLES 10240
#define BATCH 256
#define MAX_STAGES 12
#define MAX_RUNS 101

enum { WALL, CPU, THREAD, RSS, HWM, ANON, FILE_RSS, FIELDS };
static const char *stage_names[MAX_STAGES];
static int stage_count;

static double clock_ms(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* kB fields of /proc/self/status, in MiB. */
static void memory(double *rss, double *hwm, double *anon, double *file) {
    FILE *status = fopen("/proc/self/status", "r");
    char line[256];
    *rss = *hwm = *anon = *file = -1;
    while (status && fgets(line, sizeof line, status)) {
        long kb;
        if (sscanf(line, "VmRSS: %ld", &kb) == 1) *rss = kb / 1024.0;
        if (sscanf(line, "VmHWM: %ld", &kb) == 1) *hwm = kb / 1024.0;
        if (sscanf(line, "RssAnon: %ld", &kb) == 1) *anon = kb / 1024.0;
        if (sscanf(line, "RssFile: %ld", &kb) == 1) *file = kb / 1024.0;
    }
    if (status) fclose(status);
}

/* The child writes one line per stage to `out`: name wall cpu rss hwm anon file. */
static double last_wall, last_cpu, last_thread;
static void stage(FILE *out, const char *name) {
    double wall = clock_ms(CLOCK_MONOTONIC), cpu = clock_ms(CLOCK_PROCESS_CPUTIME_ID),
           thread = clock_ms(CLOCK_THREAD_CPUTIME_ID), rss, hwm, anon, file;
    memory(&rss, &hwm, &anon, &file);
    fprintf(out, "%s %.4f %.4f %.4f %.3f %.3f %.3f %.3f\n", name, wall - last_wall, cpu - last_cpu,
            thread - last_thread, rss, hwm, anon, file);
    last_wall = clock_ms(CLOCK_MONOTONIC);
    last_cpu = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    last_thread = clock_ms(CLOCK_THREAD_CPUTIME_ID);
}

static void *need(void *handle, const char *what) {
    if (!handle) {
        fprintf(stderr, "startup: %s: %s\n", what, dlerror());
        exit(1);
    }
    return handle;
}

/* The W1 epoch of bench/bench.c: the 5,000 MNIST images / 255 tiled to 10,240 samples (bytes
 * read straight into floats: the uint8 .npy never exists as floats twice). */
static float *w1_data(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/mnist5k_X.npy", dir);
    FILE *file = fopen(path, "rb");
    if (!file) return NULL;
    unsigned char header[128];
    if (fread(header, 1, 128, file) != 128) return fclose(file), NULL;   /* a version-1 header of 128 bytes */
    unsigned char *bytes = malloc(5000 * 784);
    float *data = malloc((size_t)EPOCH_SAMPLES * 784 * sizeof(float));
    if (!bytes || !data || fread(bytes, 1, 5000 * 784, file) != 5000 * 784) return fclose(file), NULL;
    fclose(file);
    for (size_t i = 0; i < EPOCH_SAMPLES; i++)
        for (size_t j = 0; j < 784; j++) data[i * 784 + j] = bytes[(i % 5000) * 784 + j] / 255.0f;
    free(bytes);
    return data;
}

static int first_batch(const ae_progress *progress, void *user_data) {
    static int seen;
    if (!seen++) stage(user_data, "step");
    (void)progress;
    return 0;
}

/* The mappings holding at least STARTUP_MAPS KiB of RSS, from /proc/self/smaps. */
static void maps(FILE *out) {
    FILE *smaps = fopen("/proc/self/smaps", "r");
    char line[512], header[512] = "";
    while (smaps && fgets(line, sizeof line, smaps)) {
        long kb;
        if (strchr(line, '-') && strchr(line, '-') < strchr(line, ' ') && line[0] != ' ') snprintf(header, sizeof header, "%s", line);
        else if (sscanf(line, "Rss: %ld", &kb) == 1 && kb >= (getenv("STARTUP_MAPS") ? atol(getenv("STARTUP_MAPS")) : 256)) fprintf(out, "%8.1f MiB  %s", kb / 1024.0, header);
    }
    if (smaps) fclose(smaps);
}

static int child(FILE *out, double exec_start, const char *library, const char *dir, int epochs) {
    last_wall = exec_start;
    last_cpu = last_thread = 0;   /* CPU time since the fork (the exec included) */
    stage(out, "exec");
    need(dlopen("libopenblas.so.0", RTLD_NOW | RTLD_GLOBAL), "libopenblas.so.0");
    stage(out, "blas");
    need(dlopen("libstdc++.so.6", RTLD_NOW | RTLD_GLOBAL), "libstdc++.so.6");
    stage(out, "cxx");
    void *lib = need(dlopen(library, RTLD_NOW | RTLD_GLOBAL), library);
    stage(out, "library");
    ae_status (*model_create)(const char *, ae_model **) = (ae_status(*)(const char *, ae_model **))dlsym(lib, "ae_model_create");
    ae_status (*trainer_create)(ae_model *, size_t, ae_trainer **) =
        (ae_status(*)(ae_model *, size_t, ae_trainer **))dlsym(lib, "ae_trainer_create");
    ae_status (*set_threads)(int32_t) = (ae_status(*)(int32_t))dlsym(lib, "ae_set_num_threads");
    const char *(*last_error)(void) = (const char *(*)(void))dlsym(lib, "ae_last_error");
    ae_model *model;
    ae_trainer *trainer;
    if (model_create(W1_SPEC, &model) != AE_OK) return fprintf(stderr, "startup: %s\n", last_error()), 1;
    stage(out, "model");
    if (trainer_create(model, BATCH, &trainer) != AE_OK) return fprintf(stderr, "startup: %s\n", last_error()), 1;
    stage(out, "trainer");
    if (!dir) return 0;
    if (getenv("STARTUP_THREADS")) set_threads(atoi(getenv("STARTUP_THREADS")));
    else set_threads(1);   /* bench --train-w1 trains at one thread */
    float *data = w1_data(dir);
    if (!data) return fprintf(stderr, "startup: cannot read %s/mnist5k_X.npy\n", dir), 1;
    stage(out, "data");
    /* The official figure's path (bench --train-w1): ae_model_train, two epochs of batch 256
     * (a warm-up and a timed one), on the model created above (the trainer freed first: fit makes
     * its own). "step" is recorded after the first batch. */
    void (*trainer_free)(ae_trainer *) = (void (*)(ae_trainer *))dlsym(lib, "ae_trainer_free");
    ae_status (*options_init)(ae_train_options *, size_t) = (ae_status(*)(ae_train_options *, size_t))dlsym(lib, "ae_train_options_init");
    ae_status (*train)(ae_model *, const float *, size_t, size_t, const ae_train_options *, ae_train_report *) =
        (ae_status(*)(ae_model *, const float *, size_t, size_t, const ae_train_options *, ae_train_report *))dlsym(lib, "ae_model_train");
    trainer_free(trainer);
    ae_train_options options;
    options_init(&options, sizeof options);
    options.epochs = (size_t)epochs + 1;
    options.batch_size = BATCH;
    options.report_batches = 1;
    options.progress = first_batch;
    options.user_data = out;
    if (train(model, data, EPOCH_SAMPLES, (size_t)EPOCH_SAMPLES * 784, &options, NULL) != AE_OK)
        return fprintf(stderr, "startup: %s\n", last_error()), 1;
    stage(out, "epochs");
    if (getenv("STARTUP_MAPS")) maps(stderr);
    return 0;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int runs = 21, epochs = 1;
    const char *library = "libautoencoders.so.0", *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--child") == 0 && i + 1 < argc) {
            /* argv: --child START_MS LIBRARY DIR|- EPOCHS */
            return child(stdout, atof(argv[i + 1]), argv[i + 2], strcmp(argv[i + 3], "-") ? argv[i + 3] : NULL,
                         atoi(argv[i + 4]));
        }
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc) epochs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--library") == 0 && i + 1 < argc) library = argv[++i];
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) dir = argv[++i];
        else {
            fprintf(stderr, "usage: startup [--runs N] [--epochs E] [--library PATH] [--data DIR]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > MAX_RUNS) runs = 21;
    static double values[MAX_STAGES][FIELDS][MAX_RUNS];
    for (int r = 0; r < runs; r++) {
        int pipefd[2];
        if (pipe(pipefd) != 0) return 1;
        char start[64], epoch_text[16];
        snprintf(start, sizeof start, "%.6f", clock_ms(CLOCK_MONOTONIC));
        snprintf(epoch_text, sizeof epoch_text, "%d", epochs);
        pid_t pid = fork();
        if (pid == 0) {
            dup2(pipefd[1], 1);
            /* Only the first run trains: the start-up figures need no data. */
            execl("/proc/self/exe", argv[0], "--child", start, library, r == 0 && dir ? dir : "-", epoch_text, (char *)NULL);
            _exit(127);
        }
        close(pipefd[1]);
        FILE *in = fdopen(pipefd[0], "r");
        char name[32];
        double v[FIELDS];
        int s = 0;
        while (fscanf(in, "%31s %lf %lf %lf %lf %lf %lf %lf", name, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]) == 8 &&
               s < MAX_STAGES) {
            if (r == 0) stage_names[s] = strdup(name), stage_count = s + 1;
            for (int f = 0; f < FIELDS; f++) values[s][f][r] = v[f];
            s++;
        }
        fclose(in);
        int status;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return fprintf(stderr, "startup: child failed\n"), 1;
    }
    double load[3] = {0};
    FILE *loadavg = fopen("/proc/loadavg", "r");
    if (loadavg && fscanf(loadavg, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = -1;
    if (loadavg) fclose(loadavg);
    printf("%s, %d runs (medians; the training stages from the first run), load average %.2f %.2f %.2f\n", library,
           runs, load[0], load[1], load[2]);
    printf("OPENBLAS_NUM_THREADS=%s OPENBLAS_CORETYPE=%s\n", getenv("OPENBLAS_NUM_THREADS") ? getenv("OPENBLAS_NUM_THREADS") : "(unset)",
           getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "(unset)");
    printf("%-8s %9s %9s %9s %9s %9s %9s %9s\n", "stage", "wall ms", "cpu ms", "main ms", "RSS MiB", "HWM MiB", "anon MiB",
           "file MiB");
    double total_wall = 0, total_cpu = 0, total_thread = 0;
    for (int s = 0; s < stage_count; s++) {
        int training = strcmp(stage_names[s], "data") == 0 || strcmp(stage_names[s], "step") == 0 ||
                       strcmp(stage_names[s], "epochs") == 0;
        int n = training ? 1 : runs;
        double m[FIELDS];
        for (int f = 0; f < FIELDS; f++) {
            qsort(values[s][f], (size_t)n, sizeof(double), compare);
            m[f] = n % 2 ? values[s][f][n / 2] : 0.5 * (values[s][f][n / 2 - 1] + values[s][f][n / 2]);
        }
        if (!training) total_wall += m[WALL], total_cpu += m[CPU], total_thread += m[THREAD];
        printf("%-8s %9.2f %9.2f %9.2f %9.1f %9.1f %9.1f %9.1f\n", stage_names[s], m[WALL], m[CPU], m[THREAD], m[RSS], m[HWM],
               m[ANON], m[FILE_RSS]);
        if (strcmp(stage_names[s], "trainer") == 0)
            printf("%-8s %9.2f %9.2f %9.2f   (cold start: exec to model + optimizer, sum of medians)\n", "total", total_wall,
                   total_cpu, total_thread);
    }
    if (dir) printf("training data (10,240 x 784 floats): %.1f MiB of the peak\n", EPOCH_SAMPLES * 784 * 4 / 1048576.0);
    return 0;
}
