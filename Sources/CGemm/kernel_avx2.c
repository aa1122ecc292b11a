// The AVX2 + FMA micro-kernel: a 6 x 16 tile of C in 12 ymm accumulators (the tile of BLIS's
// Haswell kernel). Each step of k loads two vectors of B and broadcasts 6 values of A: 12 FMAs,
// 15 of the 16 vector registers live. Compiled for AVX2 + FMA by a function attribute only; it
// runs only when aeg_kernel_supported says the CPU and the OS support it (cpu.c).
#include <immintrin.h>

#include "kernels.h"

#define AEG_ROW(i)                                                   \
    {                                                                \
        __m256 ai = _mm256_broadcast_ss(a + (i));                    \
        c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0);                  \
        c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1);                  \
    }

#define AEG_STORE(i)                                                                          \
    {                                                                                         \
        float *row = c + (i) * ldc;                                                           \
        if (beta == 0.0f) {                                                                   \
            _mm256_storeu_ps(row, _mm256_mul_ps(va, c##i##0));                                \
            _mm256_storeu_ps(row + 8, _mm256_mul_ps(va, c##i##1));                            \
        } else {                                                                              \
            _mm256_storeu_ps(row, _mm256_fmadd_ps(vb, _mm256_loadu_ps(row), _mm256_mul_ps(va, c##i##0))); \
            _mm256_storeu_ps(row + 8,                                                         \
                             _mm256_fmadd_ps(vb, _mm256_loadu_ps(row + 8), _mm256_mul_ps(va, c##i##1))); \
        }                                                                                     \
    }

__attribute__((target("avx2,fma")))
void aeg_kernel_avx2(long kc, const float *a, const float *b, float *c, long ldc, float alpha, float beta) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00,
           c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (long p = 0; p < kc; p++) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        AEG_ROW(0) AEG_ROW(1) AEG_ROW(2) AEG_ROW(3) AEG_ROW(4) AEG_ROW(5)
        a += AEG_AVX2_MR;
        b += AEG_AVX2_NR;
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    AEG_STORE(0) AEG_STORE(1) AEG_STORE(2) AEG_STORE(3) AEG_STORE(4) AEG_STORE(5)
}

// out[p * width + r] = source[r * ld + p] for r < rows, p < kc; out[p * width + r] = 0 for
// rows <= r < width. Packs rows of a matrix that run along k (A not transposed, B transposed)
// with 8 x 8 in-register transposes: element by element, this packing took a fifth of the time.
__attribute__((target("avx2,fma")))
void aeg_pack_rows_avx2(long rows, long kc, const float *source, long ld, float *out, long width) {
    long r0 = 0;
    for (; r0 + 8 <= rows; r0 += 8) {
        const float *s = source + r0 * ld;
        long p = 0;
        for (; p + 8 <= kc; p += 8) {
            __m256 x0 = _mm256_loadu_ps(s + p), x1 = _mm256_loadu_ps(s + ld + p), x2 = _mm256_loadu_ps(s + 2 * ld + p),
                   x3 = _mm256_loadu_ps(s + 3 * ld + p), x4 = _mm256_loadu_ps(s + 4 * ld + p),
                   x5 = _mm256_loadu_ps(s + 5 * ld + p), x6 = _mm256_loadu_ps(s + 6 * ld + p),
                   x7 = _mm256_loadu_ps(s + 7 * ld + p);
            __m256 t0 = _mm256_unpacklo_ps(x0, x1), t1 = _mm256_unpackhi_ps(x0, x1), t2 = _mm256_unpacklo_ps(x2, x3),
                   t3 = _mm256_unpackhi_ps(x2, x3), t4 = _mm256_unpacklo_ps(x4, x5), t5 = _mm256_unpackhi_ps(x4, x5),
                   t6 = _mm256_unpacklo_ps(x6, x7), t7 = _mm256_unpackhi_ps(x6, x7);
            __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee),
                   u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee),
                   u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee),
                   u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
            float *o = out + p * width + r0;
            _mm256_storeu_ps(o, _mm256_permute2f128_ps(u0, u4, 0x20));
            _mm256_storeu_ps(o + width, _mm256_permute2f128_ps(u1, u5, 0x20));
            _mm256_storeu_ps(o + 2 * width, _mm256_permute2f128_ps(u2, u6, 0x20));
            _mm256_storeu_ps(o + 3 * width, _mm256_permute2f128_ps(u3, u7, 0x20));
            _mm256_storeu_ps(o + 4 * width, _mm256_permute2f128_ps(u0, u4, 0x31));
            _mm256_storeu_ps(o + 5 * width, _mm256_permute2f128_ps(u1, u5, 0x31));
            _mm256_storeu_ps(o + 6 * width, _mm256_permute2f128_ps(u2, u6, 0x31));
            _mm256_storeu_ps(o + 7 * width, _mm256_permute2f128_ps(u3, u7, 0x31));
        }
        for (; p < kc; p++)
            for (long r = 0; r < 8; r++) out[p * width + r0 + r] = s[r * ld + p];
    }
    for (long p = 0; p < kc; p++) {
        for (long r = r0; r < rows; r++) out[p * width + r] = source[r * ld + p];
        for (long r = rows; r < width; r++) out[p * width + r] = 0;
    }
}
