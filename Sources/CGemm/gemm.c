// The packed GEMM driver (the loop nest of GotoBLAS and BLIS around a micro-kernel).
//
//   for each slab of k (kc <= 320 steps, split evenly):          beta applies to the first only
//     for each block of n (nc <= 512 columns):  pack op(B)[kc, nc] into NR-column micro-panels
//       for each MR rows of op(A):               pack op(A)[MR, kc] into one micro-panel (L1)
//         for each NR columns of the block:      micro-kernel -> C[MR, NR]   (B block from L2)
//
// Packing reads A and B in any of the four transpose combinations, so the kernels see one layout.
// Edge tiles are computed into a small tile and merged. Each element of C is summed in the same
// order whatever the thread count (threads split C's columns, or rows, in whole micro-tiles and
// the k slabs depend on k alone), so results are bit-identical across thread counts.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "aegemm.h"
#include "kernels.h"
#include "pool.h"

#define AEG_KC 320
#define AEG_NC 512
// Products smaller than this in any dimension go to OpenBLAS whatever the kernel: packing and
// partly filled edge tiles cost more than they save there (bench/gemm.c: 16x9 . 9x784 runs at a
// third of OpenBLAS's speed, 256x128 . 128x32 at three quarters).
#define AEG_MIN_M 48
#define AEG_MIN_N 64
#define AEG_MIN_K 48
// Below this many multiply-adds a second thread costs more than it saves.
#define AEG_MIN_PARALLEL_WORK (64L * 64 * 64)

typedef struct {
    int mr, nr;
    aeg_micro_kernel kernel;
} aeg_shape;

// Per-thread packing buffers, grown on demand and freed when the thread exits.
typedef struct {
    float *b;      // [kc][nc] as NR-column micro-panels
    float *a;      // [kc][MR]
    size_t b_size; // floats
} aeg_buffers;

static pthread_key_t buffers_key;
static pthread_once_t buffers_once = PTHREAD_ONCE_INIT;

static void free_buffers(void *pointer) {
    aeg_buffers *buffers = pointer;
    free(buffers->b);
    free(buffers->a);
    free(buffers);
}

static void make_key(void) { pthread_key_create(&buffers_key, free_buffers); }

static aeg_buffers *thread_buffers(size_t b_floats) {
    pthread_once(&buffers_once, make_key);
    aeg_buffers *buffers = pthread_getspecific(buffers_key);
    if (!buffers) {
        buffers = calloc(1, sizeof *buffers);
        if (!buffers) return 0;
        if (posix_memalign((void **)&buffers->a, 64, AEG_KC * AEG_MAX_MR * sizeof(float)) != 0) {
            free(buffers);
            return 0;
        }
        pthread_setspecific(buffers_key, buffers);
    }
    if (buffers->b_size < b_floats) {
        float *b;
        if (posix_memalign((void **)&b, 64, b_floats * sizeof(float)) != 0) return 0;
        free(buffers->b);
        buffers->b = b;
        buffers->b_size = b_floats;
    }
    return buffers;
}

// op(A)[i0 ..< i0 + rows, p0 ..< p0 + kc] -> panel[p][MR], rows beyond `rows` zero. Both kernels
// run on CPUs with AVX2, so packing may use it.
static void pack_a(int mr, long rows, long kc, const float *a, long lda, int transposed, long i0, long p0,
                   float *panel) {
    if (!transposed) {
        aeg_pack_rows_avx2(rows, kc, a + i0 * lda + p0, lda, panel, mr);
        return;
    }
    for (long p = 0; p < kc; p++) {
        const float *source = a + (p0 + p) * lda + i0;
        for (long i = 0; i < rows; i++) panel[p * mr + i] = source[i];
        for (long i = rows; i < mr; i++) panel[p * mr + i] = 0;
    }
}

// op(B)[p0 ..< p0 + kc, j0 ..< j0 + nc] -> NR-column micro-panels [p][NR], columns beyond nc zero.
static void pack_b(int nr, long nc, long kc, const float *b, long ldb, int transposed, long p0, long j0,
                   float *packed) {
    for (long jr = 0; jr < nc; jr += nr) {
        long columns = nc - jr < nr ? nc - jr : nr;
        float *panel = packed + jr * kc;
        if (!transposed) {
            for (long p = 0; p < kc; p++) {
                memcpy(panel + p * nr, b + (p0 + p) * ldb + j0 + jr, (size_t)columns * sizeof(float));
                for (long j = columns; j < nr; j++) panel[p * nr + j] = 0;
            }
        } else {
            aeg_pack_rows_avx2(columns, kc, b + (j0 + jr) * ldb + p0, ldb, panel, nr);
        }
    }
}

typedef struct {
    aeg_shape shape;
    int transpose_a, transpose_b;
    long m, n, k;
    float alpha, beta;
    const float *a, *b;
    float *c;
    long lda, ldb, ldc;
    int split_rows;   // split C's rows (else its columns) across the parts
    int parts;
} aeg_job;

static void openblas(int transpose_a, int transpose_b, long m, long n, long k, float alpha, const float *a,
                     long lda, const float *b, long ldb, float beta, float *c, long ldc) {
    cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans, transpose_b ? CblasTrans : CblasNoTrans,
                (blasint)m, (blasint)n, (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb, beta, c, (blasint)ldc);
}

// C[m0 ..< m1, n0 ..< n1] of the job on the calling thread (by OpenBLAS when the packing
// buffers cannot be allocated: it has its own).
static void gemm_block(const aeg_job *job, long m0, long m1, long n0, long n1) {
    const int mr = job->shape.mr, nr = job->shape.nr;
    const long k = job->k;
    const long slabs = (k + AEG_KC - 1) / AEG_KC;
    const long kc_max = (k + slabs - 1) / slabs;
    const long nc_max = n1 - n0 < AEG_NC ? ((n1 - n0 + nr - 1) / nr) * nr : AEG_NC;
    aeg_buffers *buffers = thread_buffers((size_t)kc_max * (size_t)nc_max);
    if (!buffers) {
        const float *a = job->a + (job->transpose_a ? m0 : m0 * job->lda);
        const float *b = job->b + (job->transpose_b ? n0 * job->ldb : n0);
        openblas(job->transpose_a, job->transpose_b, m1 - m0, n1 - n0, k, job->alpha, a, job->lda, b, job->ldb,
                 job->beta, job->c + m0 * job->ldc + n0, job->ldc);
        return;
    }
    float tile[AEG_MAX_MR * AEG_MAX_NR] __attribute__((aligned(64)));
    for (long p0 = 0; p0 < k; p0 += kc_max) {
        const long kc = k - p0 < kc_max ? k - p0 : kc_max;
        const float beta = p0 == 0 ? job->beta : 1.0f;
        for (long j0 = n0; j0 < n1; j0 += AEG_NC) {
            const long nc = n1 - j0 < AEG_NC ? n1 - j0 : AEG_NC;
            pack_b(nr, nc, kc, job->b, job->ldb, job->transpose_b, p0, j0, buffers->b);
            for (long i0 = m0; i0 < m1; i0 += mr) {
                const long rows = m1 - i0 < mr ? m1 - i0 : mr;
                pack_a(mr, rows, kc, job->a, job->lda, job->transpose_a, i0, p0, buffers->a);
                for (long jr = 0; jr < nc; jr += nr) {
                    const long columns = nc - jr < nr ? nc - jr : nr;
                    float *c = job->c + i0 * job->ldc + j0 + jr;
                    const float *panel = buffers->b + jr * kc;
                    if (rows == mr && columns == nr) {
                        job->shape.kernel(kc, buffers->a, panel, c, job->ldc, job->alpha, beta);
                    } else {
                        job->shape.kernel(kc, buffers->a, panel, tile, nr, 1.0f, 0.0f);
                        for (long i = 0; i < rows; i++)
                            for (long j = 0; j < columns; j++) {
                                float value = job->alpha * tile[i * nr + j];
                                c[i * job->ldc + j] = beta == 0.0f ? value : value + beta * c[i * job->ldc + j];
                            }
                    }
                }
            }
        }
    }
}

// Part `index` of `parts`: an equal share of whole micro-tiles along the split dimension.
static void gemm_part(void *argument, int index) {
    aeg_job *job = argument;
    long extent = job->split_rows ? job->m : job->n;
    long unit = job->split_rows ? job->shape.mr : job->shape.nr;
    long tiles = (extent + unit - 1) / unit;
    long first = tiles * index / job->parts * unit, last = tiles * (index + 1) / job->parts * unit;
    if (last > extent) last = extent;
    if (first >= last) return;
    if (job->split_rows)
        gemm_block(job, first, last, 0, job->n);
    else
        gemm_block(job, 0, job->m, first, last);
}

int aeg_sgemm_runs_openblas(long m, long n, long k, float alpha) {
    return aeg_current_kernel() == AEG_KERNEL_OPENBLAS || m < AEG_MIN_M || n < AEG_MIN_N || k < AEG_MIN_K || alpha == 0.0f;
}

void aeg_sgemm(int transpose_a, int transpose_b, long m, long n, long k, float alpha, const float *a, long lda,
               const float *b, long ldb, float beta, float *c, long ldc, int threads) {
    if (m <= 0 || n <= 0) return;
    if (aeg_sgemm_runs_openblas(m, n, k, alpha)) {
        openblas(transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    aeg_kernel kernel = aeg_current_kernel();
    aeg_job job = {
        .transpose_a = transpose_a, .transpose_b = transpose_b, .m = m, .n = n, .k = k, .alpha = alpha,
        .beta = beta, .a = a, .b = b, .c = c, .lda = lda, .ldb = ldb, .ldc = ldc, .parts = 1,
    };
    if (kernel == AEG_KERNEL_AVX512)
        job.shape = (aeg_shape){AEG_AVX512_MR, AEG_AVX512_NR, aeg_kernel_avx512};
    else
        job.shape = (aeg_shape){AEG_AVX2_MR, AEG_AVX2_NR, aeg_kernel_avx2};
    if (threads > 1 && m * n * k >= AEG_MIN_PARALLEL_WORK) {
        long column_tiles = (n + job.shape.nr - 1) / job.shape.nr, row_tiles = (m + job.shape.mr - 1) / job.shape.mr;
        job.split_rows = column_tiles < 2 * threads && row_tiles > column_tiles;
        long tiles = job.split_rows ? row_tiles : column_tiles;
        job.parts = tiles < threads ? (int)tiles : threads;
    }
    if (job.parts > 1 && aeg_parallel(job.parts, gemm_part, &job)) return;
    gemm_block(&job, 0, m, 0, n);
}
