/*
 * gemm: GFLOP/s of single-precision GEMM for the shapes the workloads run (docs/BENCHMARKS.md,
 * "GEMM kernels"), for each option: OpenBLAS as this process found it (OPENBLAS_CORETYPE
 * applies), another OpenBLAS build loaded at run time (e.g. the scipy-openblas32 wheel's, whose
 * symbols carry a scipy_ prefix), and the library's own kernels (Sources/CGemm, compiled in).
 *
 *   make bench-gemm                                  (builds build/bench/gemm and runs it)
 *   build/bench/gemm [--threads N] [--other-blas PATH/libscipy_openblas.so]
 *
 * One thread: best of 5 runs of thread CPU time, so that the load of a shared machine does not
 * count (what a core can do, not what the scheduler gave). Two threads: best of 5 wall-clock runs.
 */
#define _GNU_SOURCE
#include <cblas.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aegemm.h"

typedef struct {
    const char *what;
    int ta, tb;
    long m, n, k;
} shape;

static const shape shapes[] = {
    {"W1 fwd 784->512, batch 256 (X Wt)", 0, 1, 256, 512, 784},
    {"W1 fwd 512->784 (X Wt)", 0, 1, 256, 784, 512},
    {"W1 fwd 512->128 (X Wt)", 0, 1, 256, 128, 512},
    {"W1 fwd 128->32 (X Wt)", 0, 1, 256, 32, 128},
    {"W1 dW 784x512 (dYt X)", 1, 0, 512, 784, 256},
    {"W1 dX 256x512 (dY W)", 0, 0, 256, 512, 784},
    {"W4 fwd 784->400, batch 128", 0, 1, 128, 400, 784},
    {"W4 dW 400x784", 1, 0, 400, 784, 128},
    {"W3 batch 256, 784->512", 0, 1, 256, 512, 784},
    {"W2 conv1 fwd per sample (16x9 . 9x784)", 0, 0, 16, 784, 9},
    {"W2 conv2 fwd per sample (32x144 . 144x196)", 0, 0, 32, 196, 144},
    {"W2 conv2 dW per sample (32x196 . 196x144)", 0, 1, 32, 144, 196},
    {"W2 conv2 dcol per sample (144x32 . 32x196)", 1, 0, 144, 196, 32},
    {"W2 conv2 fwd, batch 64 as one GEMM", 0, 0, 32, 12544, 144},
    {"W6 LSTM gates, batch 64 (64x64 . 64x256)", 0, 1, 64, 256, 64},
    {"W6 dW_hh over N.T rows (dGt . H: 256x3200 . 3200x64)", 1, 0, 256, 64, 3200},
    {"W6 dW_hh transposed (Ht . dG: 64x3200 . 3200x256)", 1, 0, 64, 256, 3200},
    {"W6 dW_ih encoder (dGt . X: 256x3200 . 3200x32)", 1, 0, 256, 32, 3200},
    {"W6 dW_ih + dW_hh as one (dGt . [X|H]: 256x3200 . 3200x96)", 1, 0, 256, 96, 3200},
    {"W6 dW transposed as one ([X|H]t . dG: 96x3200 . 3200x256)", 1, 0, 96, 256, 3200},
    {"square 1024", 0, 0, 1024, 1024, 1024},
};
#define SHAPES (sizeof shapes / sizeof shapes[0])

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
typedef void (*set_threads_fn)(int);
typedef char *(*string_fn)(void);

static double clock_now(int cpu) {
    struct timespec t;
    clock_gettime(cpu ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* engine: "openblas", "other" (dlopened), or a CGemm kernel name. */
static double gflops(const char *engine, sgemm_fn other, const shape *s, int threads) {
    long lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
    float *a = malloc(sizeof(float) * (size_t)(s->m * s->k)), *b = malloc(sizeof(float) * (size_t)(s->k * s->n)),
          *c = calloc((size_t)(s->m * s->n), sizeof(float));
    for (long i = 0; i < s->m * s->k; i++) a[i] = (float)(i % 7) * 0.1f - 0.3f;
    for (long i = 0; i < s->k * s->n; i++) b[i] = (float)(i % 5) * 0.1f - 0.2f;
    double flops = 2.0 * (double)s->m * (double)s->n * (double)s->k, best = 1e30;
    long calls = (long)(2e8 / flops) + 2;
    int ours = strcmp(engine, "openblas") != 0 && strcmp(engine, "other") != 0;
    for (int run = 0; run < 6; run++) {
        double start = clock_now(threads == 1);
        for (long call = 0; call < calls; call++) {
            if (ours)
                aeg_sgemm(s->ta, s->tb, s->m, s->n, s->k, 1, a, lda, b, ldb, 0, c, s->n, threads);
            else
                (strcmp(engine, "other") == 0 ? other : (sgemm_fn)cblas_sgemm)(
                    CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans, (int)s->m,
                    (int)s->n, (int)s->k, 1, a, (int)lda, b, (int)ldb, 0, c, (int)s->n);
        }
        double seconds = (clock_now(threads == 1) - start) / (double)calls;
        if (run > 0 && seconds < best) best = seconds;  /* run 0 warms up */
    }
    free(a);
    free(b);
    free(c);
    return flops / best * 1e-9;
}

int main(int argc, char **argv) {
    int threads = 1;
    const char *other_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--other-blas") == 0 && i + 1 < argc) other_path = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--threads N] [--other-blas PATH]\n", argv[0]);
            return 2;
        }
    }
    sgemm_fn other = NULL;
    char other_name[256] = "";
    if (other_path) {
        void *library = dlopen(other_path, RTLD_NOW | RTLD_LOCAL);
        if (!library) {
            fprintf(stderr, "gemm: %s\n", dlerror());
            return 1;
        }
        other = (sgemm_fn)dlsym(library, "scipy_cblas_sgemm");
        if (!other) other = (sgemm_fn)dlsym(library, "cblas_sgemm");
        set_threads_fn set = (set_threads_fn)dlsym(library, "scipy_openblas_set_num_threads");
        string_fn corename = (string_fn)dlsym(library, "scipy_openblas_get_corename");
        string_fn config = (string_fn)dlsym(library, "scipy_openblas_get_config");
        if (!other) {
            fprintf(stderr, "gemm: no cblas_sgemm in %s\n", other_path);
            return 1;
        }
        if (set) set(threads);
        snprintf(other_name, sizeof other_name, "%s, core %s", config ? config() : other_path, corename ? corename() : "?");
    }
    openblas_set_num_threads(threads);
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    printf("GFLOP/s at %d thread%s (%s); OPENBLAS_CORETYPE=%s\n", threads, threads > 1 ? "s" : "",
           threads == 1 ? "best of 5, thread CPU time" : "best of 5, wall clock", coretype ? coretype : "(unset)");
    printf("openblas: %s, core %s\n", openblas_get_config(), openblas_get_corename());
    if (other) printf("other:    %s\n", other_name);
    const char *engines[] = {"openblas", "other", "avx512", "avx2"};
    printf("%-44s", "shape (m x k . k x n)");
    for (int e = 0; e < 4; e++) {
        if (e == 1 && !other) continue;
        if (e >= 2 && !aeg_kernel_supported(e == 2 ? AEG_KERNEL_AVX512 : AEG_KERNEL_AVX2)) continue;
        printf(" %9s", engines[e]);
    }
    printf("\n");
    for (size_t i = 0; i < SHAPES; i++) {
        printf("%-44s", shapes[i].what);
        fflush(stdout);
        for (int e = 0; e < 4; e++) {
            if (e == 1 && !other) continue;
            if (e >= 2) {
                char reason[256];
                if (aeg_select(engines[e], reason, sizeof reason) != 0) continue;
            }
            printf(" %9.1f", gflops(engines[e], other, &shapes[i], threads));
            fflush(stdout);
        }
        printf("\n");
    }
    return 0;
}
