// Products against a matrix packed once (aegemm.h, aeg_pack_b): a recurrent layer multiplies the
// same W_hh at every step of a sequence, 2·T times per batch, and a GEMM that packs it at every
// call (OpenBLAS, aeg_sgemm) spends a tenth of the product doing so. Here op(B) is packed once
// into NR-column micro-panels and each call packs only its own rows of A (MR at a time, in L1).
//
// Kernels: AVX-512F with an 8 x 32 tile (16 zmm accumulators; 8 divides the batch sizes and
// batch halves a recurrent step has, where gemm.c's 12-row tile would leave a third of its last
// tile empty), or gemm.c's AVX2 + FMA 6 x 16 kernel. Each element of C is summed over k in the
// same order whatever m, so a sample's row does not depend on how the batch is split.
#include <immintrin.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "aegemm.h"
#include "kernels.h"

#define AEG_PACKED_MR 8
#define AEG_PACKED_NR 32
#define AEG_PACKED_MAX_K 1024

enum { packing_none = 0, packing_avx512 = 1, packing_avx2 = 2 };

#define AEG_ROW8(i)                                                  \
    {                                                                \
        __m512 ai = _mm512_set1_ps(a[i]);                            \
        c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0);                  \
        c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1);                  \
    }

#define AEG_STORE8(i)                                                                                    \
    {                                                                                                    \
        float *row = c + (i) * ldc;                                                                      \
        if (beta == 0.0f) {                                                                              \
            _mm512_storeu_ps(row, c##i##0);                                                              \
            _mm512_storeu_ps(row + 16, c##i##1);                                                         \
        } else {                                                                                         \
            _mm512_storeu_ps(row, _mm512_fmadd_ps(vb, _mm512_loadu_ps(row), c##i##0));                   \
            _mm512_storeu_ps(row + 16, _mm512_fmadd_ps(vb, _mm512_loadu_ps(row + 16), c##i##1));         \
        }                                                                                                \
    }

// C[8, 32] = A B + beta C from an A panel [kc][8] and a B panel [kc][32].
__attribute__((target("avx512f")))
static void kernel_avx512_8x32(long kc, const float *a, const float *b, float *c, long ldc, float alpha, float beta) {
    (void)alpha;
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00,
           c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    for (long p = 0; p < kc; p++) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        AEG_ROW8(0) AEG_ROW8(1) AEG_ROW8(2) AEG_ROW8(3) AEG_ROW8(4) AEG_ROW8(5) AEG_ROW8(6) AEG_ROW8(7)
        a += AEG_PACKED_MR;
        b += AEG_PACKED_NR;
    }
    __m512 vb = _mm512_set1_ps(beta);
    AEG_STORE8(0) AEG_STORE8(1) AEG_STORE8(2) AEG_STORE8(3) AEG_STORE8(4) AEG_STORE8(5) AEG_STORE8(6) AEG_STORE8(7)
}

// For the tests (aeg_packed_select): the widest packing allowed, 2 to keep AVX-512F out.
static _Atomic int widest = packing_avx512;

int aeg_packed_select(const char *name) {
    if (strcmp(name, "auto") == 0 || (strcmp(name, "avx512") == 0 && aeg_kernel_supported(AEG_KERNEL_AVX512))) {
        atomic_store(&widest, packing_avx512);
        return 0;
    }
    if (strcmp(name, "avx2") == 0 && aeg_kernel_supported(AEG_KERNEL_AVX2)) {
        atomic_store(&widest, packing_avx2);
        return 0;
    }
    return -1;
}

long aeg_packed_size(long k, long n) {
    return (n + AEG_PACKED_NR - 1) / AEG_PACKED_NR * AEG_PACKED_NR * k;
}

int aeg_pack_b(int transpose_b, long k, long n, const float *b, long ldb, float *packed) {
    if (k < 1 || n < 1 || k > AEG_PACKED_MAX_K || aeg_openblas_requested()) return packing_none;
    int packing = aeg_kernel_supported(AEG_KERNEL_AVX512) && atomic_load(&widest) == packing_avx512 ? packing_avx512
                  : aeg_kernel_supported(AEG_KERNEL_AVX2) ? packing_avx2
                                                          : packing_none;
    if (packing == packing_none) return packing_none;
    const long nr = packing == packing_avx512 ? AEG_PACKED_NR : AEG_AVX2_NR;
    for (long jr = 0; jr < n; jr += nr) {
        const long columns = n - jr < nr ? n - jr : nr;
        float *panel = packed + jr * k;
        if (transpose_b) {
            aeg_pack_rows_avx2(columns, k, b + jr * ldb, ldb, panel, nr);
        } else {
            for (long p = 0; p < k; p++) {
                memcpy(panel + p * nr, b + p * ldb + jr, (size_t)columns * sizeof(float));
                for (long j = columns; j < nr; j++) panel[p * nr + j] = 0;
            }
        }
    }
    return packing;
}

void aeg_gemm_packed_b(int packing, long m, long n, long k, const float *a, long lda, const float *packed, float beta,
                       float *c, long ldc) {
    const int mr = packing == packing_avx512 ? AEG_PACKED_MR : AEG_AVX2_MR;
    const long nr = packing == packing_avx512 ? AEG_PACKED_NR : AEG_AVX2_NR;
    const aeg_micro_kernel kernel = packing == packing_avx512 ? kernel_avx512_8x32 : aeg_kernel_avx2;
    float panel[AEG_PACKED_MAX_K * AEG_PACKED_MR] __attribute__((aligned(64)));
    float tile[AEG_PACKED_MR * AEG_PACKED_NR] __attribute__((aligned(64)));
    for (long i0 = 0; i0 < m; i0 += mr) {
        const long rows = m - i0 < mr ? m - i0 : mr;
        aeg_pack_rows_avx2(rows, k, a + i0 * lda, lda, panel, mr);
        for (long jr = 0; jr < n; jr += nr) {
            const long columns = n - jr < nr ? n - jr : nr;
            float *target = c + i0 * ldc + jr;
            if (rows == mr && columns == nr) {
                kernel(k, panel, packed + jr * k, target, ldc, 1.0f, beta);
                continue;
            }
            kernel(k, panel, packed + jr * k, tile, nr, 1.0f, 0.0f);
            for (long i = 0; i < rows; i++)
                for (long j = 0; j < columns; j++)
                    target[i * ldc + j] = beta == 0.0f ? tile[i * nr + j] : tile[i * nr + j] + beta * target[i * ldc + j];
        }
    }
}
