// The micro-kernels and their tile sizes (internal to CGemm).
//
// A micro-kernel computes one MR x NR tile of C from a packed A micro-panel (kc steps of MR
// values: column p of op(A)'s MR rows) and a packed B micro-panel (kc steps of NR values: row p
// of op(B)'s NR columns): C = alpha * A B + beta * C, beta == 0 never reading C.
#ifndef AEGEMM_KERNELS_H
#define AEGEMM_KERNELS_H

#define AEG_AVX512_MR 12
#define AEG_AVX512_NR 32
#define AEG_AVX2_MR 6
#define AEG_AVX2_NR 16
#define AEG_MAX_MR 12
#define AEG_MAX_NR 32

typedef void (*aeg_micro_kernel)(long kc, const float *a, const float *b, float *c, long ldc, float alpha,
                                 float beta);

void aeg_kernel_avx512(long kc, const float *a, const float *b, float *c, long ldc, float alpha, float beta);
void aeg_kernel_avx2(long kc, const float *a, const float *b, float *c, long ldc, float alpha, float beta);



// out[p * width + r] = source[r * ld + p] (r < rows, p < kc), zero up to `width`: AVX2.
void aeg_pack_rows_avx2(long rows, long kc, const float *source, long ld, float *out, long width);
#endif
