// Fully connected inference on pre-packed weights (aedense.h): y = act(x · Wᵀ + b).
//
// W is packed once, as op(B) of the GEMM, into NR-column panels, k slab by k slab (the slabs of
// gemm.c: kc <= 320 steps, split evenly):
//
//   panels[p0 * npad + jp * NR * kc + p * NR + j] = W[jp * NR + j, p0 + p]    (0 past column n)
//
//   for each k slab:                        the first starts from the bias, later ones from y
//     for each block of 16 panels:          (B block from L2)
//       for each MR rows of x:              x read in place (broadcast loads), no packing
//         for each panel of the block:      micro-kernel -> y[MR, NR], ReLU after the last slab
//
// Each output is summed as in the batch kernel: the slab's products in order of p, fused
// multiply-adds from zero, then added to the bias (first slab) or to the previous slabs' sum. The
// matrix–vector kernel for one sample (and a few) keeps that order, interleaving four panels
// for independent chains instead, so a sample's output does not depend on the batch size; it
// runs on the calling thread. Threads split a batch's whole panels, so no output depends on the
// thread count either.
#define _GNU_SOURCE
#include <immintrin.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "aedense.h"
#include "aegemm.h"
#include "kernels.h"
#include "pool.h"

#define AEG_DENSE_KC 320
#define AEG_DENSE_BLOCK 16     // panels per block of B (16 x 32 columns x 320 steps = 640 KB)
#define AEG_DENSE_GEMV_ROWS 4  // fewer rows than this: the matrix–vector kernel, row by row
#define AEG_DENSE_MIN_PARALLEL_WORK (128L * 1024)
#define AEG_DENSE_GEMV_MIN_PARALLEL_WORK (64L * 1024) // 256 KB of weights: ~6 us on one core

struct aeg_packed_weights {
    aeg_kernel kernel;
    int mr, nr;
    long n, k, npad, kc_max;
    float *panels;
};

long aeg_packed_weights_floats(const aeg_packed_weights *packed) { return packed ? packed->k * packed->npad : 0; }

void aeg_packed_weights_free(aeg_packed_weights *packed) {
    if (!packed) return;
    free(packed->panels);
    free(packed);
}

// The widest packed kernel this CPU and OS run, or -1: asked once (CPUID traps to the
// hypervisor in a virtual machine: asking on every call took 15 % of a one-sample inference).
static _Atomic int widest = -2;

int aeg_dense_kernel(void) {
    aeg_kernel kernel = aeg_current_kernel();
    if (kernel != AEG_KERNEL_OPENBLAS) return kernel;
    if (aeg_openblas_requested()) return -1;
    int found = atomic_load_explicit(&widest, memory_order_relaxed);
    if (found == -2) {
        found = aeg_kernel_supported(AEG_KERNEL_AVX512) ? AEG_KERNEL_AVX512
                : aeg_kernel_supported(AEG_KERNEL_AVX2) ? AEG_KERNEL_AVX2
                                                         : -1;
        atomic_store_explicit(&widest, found, memory_order_relaxed);
    }
    return found;
}

aeg_packed_weights *aeg_pack_weights(int k_by_n, long n, long k, const float *w, long ldw) {
    if (n <= 0 || k <= 0) return 0;
    const int chosen = aeg_dense_kernel();
    if (chosen < 0) return 0;
    const aeg_kernel kernel = (aeg_kernel)chosen;
    aeg_packed_weights *packed = calloc(1, sizeof *packed);
    if (!packed) return 0;
    packed->kernel = kernel;
    packed->mr = kernel == AEG_KERNEL_AVX512 ? AEG_AVX512_MR : AEG_AVX2_MR;
    packed->nr = kernel == AEG_KERNEL_AVX512 ? AEG_AVX512_NR : AEG_AVX2_NR;
    packed->n = n;
    packed->k = k;
    packed->npad = (n + packed->nr - 1) / packed->nr * packed->nr;
    long slabs = (k + AEG_DENSE_KC - 1) / AEG_DENSE_KC;
    packed->kc_max = (k + slabs - 1) / slabs;
    if (posix_memalign((void **)&packed->panels, 64, (size_t)(k * packed->npad) * sizeof(float)) != 0) {
        free(packed);
        return 0;
    }
    const int nr = packed->nr;
    for (long p0 = 0; p0 < k; p0 += packed->kc_max) {
        const long kc = k - p0 < packed->kc_max ? k - p0 : packed->kc_max;
        for (long jp = 0; jp * nr < n; jp++) {
            float *panel = packed->panels + p0 * packed->npad + jp * nr * kc;
            const long j0 = jp * nr, columns = n - j0 < nr ? n - j0 : nr;
            if (!k_by_n) {
                aeg_pack_rows_avx2(columns, kc, w + j0 * ldw + p0, ldw, panel, nr);
            } else {
                for (long p = 0; p < kc; p++) {
                    memcpy(panel + p * nr, w + (p0 + p) * ldw + j0, (size_t)columns * sizeof(float));
                    for (long j = columns; j < nr; j++) panel[p * nr + j] = 0;
                }
            }
        }
    }
    return packed;
}

// ---- AVX-512F: tiles of up to 12 x 32 -------------------------------------------------------

// c[rows, 32 columns, those of masks m0 | m1] = act(a[rows, kc] (row stride lda) · b (a packed
// panel) + init), for rows in 1...12: `rows` is a constant at every call (tile_avx512's switch),
// so the loops unroll to exactly its accumulators. init rows are init_ld apart (0: one row, the
// bias), or NULL.
__attribute__((target("avx512f"), always_inline))
static inline void tile512(const int rows, long kc, const float *a, long lda, const float *b, float *c, long ldc,
                           const float *init, long init_ld, int relu, __mmask16 m0, __mmask16 m1) {
    __m512 left[AEG_AVX512_MR], right[AEG_AVX512_MR];
#pragma GCC unroll 12
    for (int i = 0; i < AEG_AVX512_MR; i++)
        if (i < rows) left[i] = right[i] = _mm512_setzero_ps();
    for (long p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 12
        for (int i = 0; i < AEG_AVX512_MR; i++) {
            if (i < rows) {
                const __m512 ai = _mm512_set1_ps(a[i * lda]);
                left[i] = _mm512_fmadd_ps(ai, b0, left[i]);
                right[i] = _mm512_fmadd_ps(ai, b1, right[i]);
            }
        }
        a += 1;
        b += AEG_AVX512_NR;
    }
    const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 12
    for (int i = 0; i < AEG_AVX512_MR; i++) {
        if (i < rows) {
            __m512 v0 = left[i], v1 = right[i];
            if (init) {
                v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, init + i * init_ld));
                v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, init + i * init_ld + 16));
            }
            if (relu) {
                v0 = _mm512_max_ps(v0, zero);
                v1 = _mm512_max_ps(v1, zero);
            }
            _mm512_mask_storeu_ps(c + i * ldc, m0, v0);
            _mm512_mask_storeu_ps(c + i * ldc + 16, m1, v1);
        }
    }
}

__attribute__((target("avx512f")))
static void tile_avx512(int rows, int columns, long kc, const float *a, long lda, const float *b, float *c, long ldc,
                        const float *init, long init_ld, int relu) {
    const __mmask16 m0 = columns >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << columns) - 1);
    const __mmask16 m1 = columns >= 32 ? (__mmask16)0xffff : columns <= 16 ? 0 : (__mmask16)((1u << (columns - 16)) - 1);
#define AEG_TILE512(r) \
    case r: tile512(r, kc, a, lda, b, c, ldc, init, init_ld, relu, m0, m1); break;
    switch (rows) {
        AEG_TILE512(1) AEG_TILE512(2) AEG_TILE512(3) AEG_TILE512(4) AEG_TILE512(5) AEG_TILE512(6)
        AEG_TILE512(7) AEG_TILE512(8) AEG_TILE512(9) AEG_TILE512(10) AEG_TILE512(11) AEG_TILE512(12)
    }
#undef AEG_TILE512
}

// y[columns of panels jp0 ..< jp1] for one row: four panels at a time (eight independent chains).
__attribute__((target("avx512f")))
static void gemv_avx512(long kc, const float *x, const float *panels, long jp0, long jp1, long n, float *y,
                        const float *init, int relu) {
    const long nr = AEG_AVX512_NR;
    const __m512 zero = _mm512_setzero_ps();
    long jp = jp0;
    for (; jp + 4 <= jp1; jp += 4) {
        const float *b = panels + jp * nr * kc;
        const long stride = nr * kc;
        __m512 s00 = zero, s01 = zero, s10 = zero, s11 = zero, s20 = zero, s21 = zero, s30 = zero, s31 = zero;
        for (long p = 0; p < kc; p++) {
            __m512 xp = _mm512_set1_ps(x[p]);
            const float *q = b + p * nr;
            s00 = _mm512_fmadd_ps(xp, _mm512_load_ps(q), s00);
            s01 = _mm512_fmadd_ps(xp, _mm512_load_ps(q + 16), s01);
            s10 = _mm512_fmadd_ps(xp, _mm512_load_ps(q + stride), s10);
            s11 = _mm512_fmadd_ps(xp, _mm512_load_ps(q + stride + 16), s11);
            s20 = _mm512_fmadd_ps(xp, _mm512_load_ps(q + 2 * stride), s20);
            s21 = _mm512_fmadd_ps(xp, _mm512_load_ps(q + 2 * stride + 16), s21);
            s30 = _mm512_fmadd_ps(xp, _mm512_load_ps(q + 3 * stride), s30);
            s31 = _mm512_fmadd_ps(xp, _mm512_load_ps(q + 3 * stride + 16), s31);
        }
        __m512 sums[8] = {s00, s01, s10, s11, s20, s21, s30, s31};
        for (int h = 0; h < 8; h++) {
            long j = jp * nr + h * 16;
            if (j >= n) break;
            long left = n - j;
            __mmask16 mask = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
            __m512 v = sums[h];
            if (init) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, init + j));
            if (relu) v = _mm512_max_ps(v, zero);
            _mm512_mask_storeu_ps(y + j, mask, v);
        }
    }
    for (; jp < jp1; jp++) {
        const float *b = panels + jp * nr * kc;
        __m512 s0 = zero, s1 = zero;
        for (long p = 0; p < kc; p++) {
            __m512 xp = _mm512_set1_ps(x[p]);
            s0 = _mm512_fmadd_ps(xp, _mm512_load_ps(b + p * nr), s0);
            s1 = _mm512_fmadd_ps(xp, _mm512_load_ps(b + p * nr + 16), s1);
        }
        __m512 sums[2] = {s0, s1};
        for (int h = 0; h < 2; h++) {
            long j = jp * nr + h * 16;
            if (j >= n) break;
            long left = n - j;
            __mmask16 mask = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
            __m512 v = sums[h];
            if (init) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, init + j));
            if (relu) v = _mm512_max_ps(v, zero);
            _mm512_mask_storeu_ps(y + j, mask, v);
        }
    }
}

// ---- AVX2 + FMA: tiles of up to 6 x 16 ------------------------------------------------------

// tile512's order and contract with 8-lane vectors: rows in 1...6, the columns of masks m0 | m1.
__attribute__((target("avx2,fma"), always_inline))
static inline void tile256(const int rows, long kc, const float *a, long lda, const float *b, float *c, long ldc,
                           const float *init, long init_ld, int relu, __m256i m0, __m256i m1) {
    __m256 left[AEG_AVX2_MR], right[AEG_AVX2_MR];
#pragma GCC unroll 6
    for (int i = 0; i < AEG_AVX2_MR; i++)
        if (i < rows) left[i] = right[i] = _mm256_setzero_ps();
    for (long p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
        for (int i = 0; i < AEG_AVX2_MR; i++) {
            if (i < rows) {
                const __m256 ai = _mm256_broadcast_ss(a + i * lda);
                left[i] = _mm256_fmadd_ps(ai, b0, left[i]);
                right[i] = _mm256_fmadd_ps(ai, b1, right[i]);
            }
        }
        a += 1;
        b += AEG_AVX2_NR;
    }
    const __m256 zero = _mm256_setzero_ps();
#pragma GCC unroll 6
    for (int i = 0; i < AEG_AVX2_MR; i++) {
        if (i < rows) {
            __m256 v0 = left[i], v1 = right[i];
            if (init) {
                v0 = _mm256_add_ps(v0, _mm256_maskload_ps(init + i * init_ld, m0));
                v1 = _mm256_add_ps(v1, _mm256_maskload_ps(init + i * init_ld + 8, m1));
            }
            if (relu) {
                v0 = _mm256_max_ps(v0, zero);
                v1 = _mm256_max_ps(v1, zero);
            }
            _mm256_maskstore_ps(c + i * ldc, m0, v0);
            _mm256_maskstore_ps(c + i * ldc + 8, m1, v1);
        }
    }
}

__attribute__((target("avx2,fma")))
static void tile_avx2(int rows, int columns, long kc, const float *a, long lda, const float *b, float *c, long ldc,
                      const float *init, long init_ld, int relu) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(columns), lanes);
    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(columns - 8), lanes);
#define AEG_TILE256(r) \
    case r: tile256(r, kc, a, lda, b, c, ldc, init, init_ld, relu, m0, m1); break;
    switch (rows) { AEG_TILE256(1) AEG_TILE256(2) AEG_TILE256(3) AEG_TILE256(4) AEG_TILE256(5) AEG_TILE256(6) }
#undef AEG_TILE256
}

// Stores 8 lanes (fewer at the end of y) of act(v + init).
__attribute__((target("avx2,fma")))
static inline void store8(__m256 v, float *y, const float *init, long j, long n, int relu) {
    if (j >= n) return;
    if (n - j >= 8) {
        if (init) v = _mm256_add_ps(v, _mm256_loadu_ps(init + j));
        if (relu) v = _mm256_max_ps(v, _mm256_setzero_ps());
        _mm256_storeu_ps(y + j, v);
        return;
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, v);
    for (long l = 0; l < n - j; l++) {
        float value = init ? lanes[l] + init[j + l] : lanes[l];
        y[j + l] = relu && !(value > 0.0f) ? 0.0f : value;
    }
}

__attribute__((target("avx2,fma")))
static void gemv_avx2(long kc, const float *x, const float *panels, long jp0, long jp1, long n, float *y,
                      const float *init, int relu) {
    const long nr = AEG_AVX2_NR;
    long jp = jp0;
    for (; jp + 4 <= jp1; jp += 4) {
        const float *b = panels + jp * nr * kc;
        const long stride = nr * kc;
        __m256 s00 = _mm256_setzero_ps(), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00,
               s31 = s00;
        for (long p = 0; p < kc; p++) {
            __m256 xp = _mm256_broadcast_ss(x + p);
            const float *q = b + p * nr;
            s00 = _mm256_fmadd_ps(xp, _mm256_load_ps(q), s00);
            s01 = _mm256_fmadd_ps(xp, _mm256_load_ps(q + 8), s01);
            s10 = _mm256_fmadd_ps(xp, _mm256_load_ps(q + stride), s10);
            s11 = _mm256_fmadd_ps(xp, _mm256_load_ps(q + stride + 8), s11);
            s20 = _mm256_fmadd_ps(xp, _mm256_load_ps(q + 2 * stride), s20);
            s21 = _mm256_fmadd_ps(xp, _mm256_load_ps(q + 2 * stride + 8), s21);
            s30 = _mm256_fmadd_ps(xp, _mm256_load_ps(q + 3 * stride), s30);
            s31 = _mm256_fmadd_ps(xp, _mm256_load_ps(q + 3 * stride + 8), s31);
        }
        long j = jp * nr;
        store8(s00, y, init, j, n, relu);
        store8(s01, y, init, j + 8, n, relu);
        store8(s10, y, init, j + 16, n, relu);
        store8(s11, y, init, j + 24, n, relu);
        store8(s20, y, init, j + 32, n, relu);
        store8(s21, y, init, j + 40, n, relu);
        store8(s30, y, init, j + 48, n, relu);
        store8(s31, y, init, j + 56, n, relu);
    }
    for (; jp < jp1; jp++) {
        const float *b = panels + jp * nr * kc;
        __m256 s0 = _mm256_setzero_ps(), s1 = s0;
        for (long p = 0; p < kc; p++) {
            __m256 xp = _mm256_broadcast_ss(x + p);
            s0 = _mm256_fmadd_ps(xp, _mm256_load_ps(b + p * nr), s0);
            s1 = _mm256_fmadd_ps(xp, _mm256_load_ps(b + p * nr + 8), s1);
        }
        store8(s0, y, init, jp * nr, n, relu);
        store8(s1, y, init, jp * nr + 8, n, relu);
    }
}

// ---- The driver ------------------------------------------------------------------------------

typedef struct {
    const aeg_packed_weights *packed;
    long m;
    const float *x, *bias;
    long ldx, ldy;
    float *y;
    int relu, parts;
} aeg_dense_job;

typedef void (*aeg_tile_kernel)(int, int, long, const float *, long, const float *, float *, long, const float *, long,
                                int);
typedef void (*aeg_gemv_kernel)(long, const float *, const float *, long, long, long, float *, const float *, int);

// Panels jp0 ..< jp1 of y (all rows) on the calling thread.
static void dense_panels(const aeg_dense_job *job, long jp0, long jp1) {
    const aeg_packed_weights *w = job->packed;
    const int mr = w->mr, nr = w->nr;
    const int wide = w->kernel == AEG_KERNEL_AVX512;
    const aeg_tile_kernel tile = wide ? tile_avx512 : tile_avx2;
    const aeg_gemv_kernel gemv = wide ? gemv_avx512 : gemv_avx2;
    const long n = w->n, k = w->k, m = job->m, ldx = job->ldx, ldy = job->ldy;
    for (long p0 = 0; p0 < k; p0 += w->kc_max) {
        const long kc = k - p0 < w->kc_max ? k - p0 : w->kc_max;
        const int last = p0 + kc == k, relu = job->relu && last;
        const float *panels = w->panels + p0 * w->npad;
        if (m < AEG_DENSE_GEMV_ROWS) {
            for (long i = 0; i < m; i++) {
                float *y = job->y + i * ldy;
                gemv(kc, job->x + i * ldx + p0, panels, jp0, jp1, n, y, p0 == 0 ? job->bias : y, relu);
            }
            continue;
        }
        for (long b0 = jp0; b0 < jp1; b0 += AEG_DENSE_BLOCK) {
            const long b1 = jp1 - b0 < AEG_DENSE_BLOCK ? jp1 : b0 + AEG_DENSE_BLOCK;
            for (long i0 = 0; i0 < m; i0 += mr) {
                const int rows = (int)(m - i0 < mr ? m - i0 : mr);
                const float *a = job->x + i0 * ldx + p0;
                for (long jp = b0; jp < b1; jp++) {
                    const long j0 = jp * nr;
                    const int columns = (int)(n - j0 < nr ? n - j0 : nr);
                    float *c = job->y + i0 * ldy + j0;
                    const float *init = p0 == 0 ? (job->bias ? job->bias + j0 : 0) : c;
                    tile(rows, columns, kc, a, ldx, panels + jp * nr * kc, c, ldy, init, p0 == 0 ? 0 : ldy, relu);
                }
            }
        }
    }
}

static void dense_part(void *argument, int index) {
    const aeg_dense_job *job = argument;
    const long panels = job->packed->npad / job->packed->nr;
    dense_panels(job, panels * index / job->parts, panels * (index + 1) / job->parts);
}

void aeg_dense_infer(const aeg_packed_weights *packed, long m, const float *x, long ldx, const float *bias, int relu,
                     float *y, long ldy, int threads) {
    if (!packed || m <= 0) return;
    aeg_dense_job job = {packed, m, x, bias, ldx, ldy, y, relu ? 1 : 0, 1};
    const long panels = packed->npad / packed->nr;
    // A few samples (the matrix-vector kernel) split from a larger product: each part reads its
    // share of the weights, which is what such a product costs, and the split pays only when
    // that share is large against waking a worker. (On a machine whose cores are all taken by
    // other processes a split waits for the worker to be scheduled: W3's one sample took
    // 420-530 us instead of 50 at two threads and load 6-10; one thread avoids that.)
    const long work = m * packed->n * packed->k;
    if (threads > 1 && work >= (m < AEG_DENSE_GEMV_ROWS ? AEG_DENSE_GEMV_MIN_PARALLEL_WORK : AEG_DENSE_MIN_PARALLEL_WORK))
        job.parts = panels < threads ? (int)panels : threads;
    if (job.parts > 1 && aeg_parallel(job.parts, dense_part, &job)) return;
    dense_panels(&job, 0, panels);
}
