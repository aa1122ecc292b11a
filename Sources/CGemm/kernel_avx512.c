// The AVX-512F micro-kernel: a 12 x 32 tile of C in 24 zmm accumulators. Each step of k loads
// two vectors of B (32 columns) and broadcasts 12 values of A: 24 FMAs for 14 loads, with 27 of
// the 32 vector registers live. Compiled for AVX-512F by a function attribute only, so nothing
// else in the library uses AVX-512; it runs only when aeg_kernel_supported says the CPU and the
// OS support it (cpu.c).
#include <immintrin.h>

#include "kernels.h"

#define AEG_ROW(i)                                                   \
    {                                                                \
        __m512 ai = _mm512_set1_ps(a[i]);                            \
        c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0);                  \
        c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1);                  \
    }

#define AEG_STORE(i)                                                                          \
    {                                                                                         \
        float *row = c + (i) * ldc;                                                           \
        if (beta == 0.0f) {                                                                   \
            _mm512_storeu_ps(row, _mm512_mul_ps(va, c##i##0));                                \
            _mm512_storeu_ps(row + 16, _mm512_mul_ps(va, c##i##1));                           \
        } else {                                                                              \
            _mm512_storeu_ps(row, _mm512_fmadd_ps(vb, _mm512_loadu_ps(row), _mm512_mul_ps(va, c##i##0))); \
            _mm512_storeu_ps(row + 16,                                                        \
                             _mm512_fmadd_ps(vb, _mm512_loadu_ps(row + 16), _mm512_mul_ps(va, c##i##1))); \
        }                                                                                     \
    }

__attribute__((target("avx512f")))
void aeg_kernel_avx512(long kc, const float *a, const float *b, float *c, long ldc, float alpha, float beta) {
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00,
           c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00,
           c80 = c00, c81 = c00, c90 = c00, c91 = c00, c100 = c00, c101 = c00, c110 = c00, c111 = c00;
    for (long p = 0; p < kc; p++) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        _mm_prefetch((const char *)(b + 8 * AEG_AVX512_NR), _MM_HINT_T0);
        AEG_ROW(0) AEG_ROW(1) AEG_ROW(2) AEG_ROW(3) AEG_ROW(4) AEG_ROW(5)
        AEG_ROW(6) AEG_ROW(7) AEG_ROW(8) AEG_ROW(9) AEG_ROW(10) AEG_ROW(11)
        a += AEG_AVX512_MR;
        b += AEG_AVX512_NR;
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    AEG_STORE(0) AEG_STORE(1) AEG_STORE(2) AEG_STORE(3) AEG_STORE(4) AEG_STORE(5)
    AEG_STORE(6) AEG_STORE(7) AEG_STORE(8) AEG_STORE(9) AEG_STORE(10) AEG_STORE(11)
}
