// The vector vocabulary of the element-wise kernels (lstm_cell_lanes.h, elementwise_lanes.h), for
// one instruction set per inclusion (internal to CGemm). Define exactly one of AEG_LANES_SCALAR,
// AEG_LANES_AVX2 or AEG_LANES_AVX512, include this, then the kernels' lanes header, then
// "lanes_end.h", which undefines everything defined here and the selector:
//
//   AEG_NAME(x)     the function name for this instruction set (x ## _avx512, ...)
//   AEG_TARGET      its function attribute (target("avx512f"), ...; empty for scalar C)
//   V, VN           the vector type and its number of floats
//   VLOAD(p) VSTORE(p, v) VSET1(x) VADD VSUB VMUL VDIV VSQRT VFMA(a, b, c) = a * b + c
//                   (fused in the vector sets; kernels that must round as the Swift code does
//                   never use VFMA)
//   VLESS(x, y, a, b)  lane-wise x < y ? a : b (false for NaN)
//   VLESSEQ(x, y, a, b)  lane-wise x <= y ? a : b (false for NaN)
//   VABS(x)         |x| (the sign bit cleared)
//   VPOW2(s)        2^k from s = k + 1.5 * 2^23 (k in the low mantissa bits): the bits (s - 0x4B400000 + 127) << 23
//
// The vector instructions are enabled per function by AEG_TARGET, never for a whole file, so
// nothing outside these functions can use an instruction the CPU may lack.
#include <immintrin.h>
#include <string.h>

#ifndef AEG_LANES_SCALAR_HELPERS
#define AEG_LANES_SCALAR_HELPERS
static inline float aeg_scalar_abs(float x) {
    unsigned bits;
    memcpy(&bits, &x, sizeof bits);
    bits &= 0x7FFFFFFFu;
    memcpy(&x, &bits, sizeof x);
    return x;
}

static inline float aeg_scalar_pow2(float shifted) {
    unsigned bits;
    memcpy(&bits, &shifted, sizeof bits);
    bits = (bits - 0x4B400000u + 127u) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return scale;
}
#endif

#if defined(AEG_LANES_SCALAR)

#define AEG_NAME(x) x##_scalar
#define AEG_TARGET
#define V float
#define VN 1
#define VLOAD(p) (*(p))
#define VSTORE(p, v) (*(p) = (v))
#define VSET1(x) (x)
#define VADD(a, b) ((a) + (b))
#define VSUB(a, b) ((a) - (b))
#define VMUL(a, b) ((a) * (b))
#define VDIV(a, b) ((a) / (b))
#define VSQRT(a) __builtin_sqrtf(a)
#define VFMA(a, b, c) ((a) * (b) + (c))
#define VLESS(x, y, a, b) ((x) < (y) ? (a) : (b))
#define VLESSEQ(x, y, a, b) ((x) <= (y) ? (a) : (b))
#define VABS(x) aeg_scalar_abs(x)
#define VPOW2(s) aeg_scalar_pow2(s)

#elif defined(AEG_LANES_AVX2)

#define AEG_NAME(x) x##_avx2
#define AEG_TARGET __attribute__((target("avx2,fma")))
#define V __m256
#define VN 8
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VSET1(x) _mm256_set1_ps(x)
#define VADD(a, b) _mm256_add_ps((a), (b))
#define VSUB(a, b) _mm256_sub_ps((a), (b))
#define VMUL(a, b) _mm256_mul_ps((a), (b))
#define VDIV(a, b) _mm256_div_ps((a), (b))
#define VSQRT(a) _mm256_sqrt_ps(a)
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VLESS(x, y, a, b) _mm256_blendv_ps((b), (a), _mm256_cmp_ps((x), (y), _CMP_LT_OQ))
#define VLESSEQ(x, y, a, b) _mm256_blendv_ps((b), (a), _mm256_cmp_ps((x), (y), _CMP_LE_OQ))
#define VABS(x) _mm256_and_ps((x), _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF)))
#define VPOW2(s)                                                                                              \
    _mm256_castsi256_ps(_mm256_slli_epi32(                                                                    \
        _mm256_add_epi32(_mm256_sub_epi32(_mm256_castps_si256(s), _mm256_set1_epi32(0x4B400000)),             \
                         _mm256_set1_epi32(127)),                                                             \
        23))

#elif defined(AEG_LANES_AVX512)

#define AEG_NAME(x) x##_avx512
#define AEG_TARGET __attribute__((target("avx512f")))
#define V __m512
#define VN 16
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_storeu_ps((p), (v))
#define VSET1(x) _mm512_set1_ps(x)
#define VADD(a, b) _mm512_add_ps((a), (b))
#define VSUB(a, b) _mm512_sub_ps((a), (b))
#define VMUL(a, b) _mm512_mul_ps((a), (b))
#define VDIV(a, b) _mm512_div_ps((a), (b))
#define VSQRT(a) _mm512_sqrt_ps(a)
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define VLESS(x, y, a, b) _mm512_mask_blend_ps(_mm512_cmp_ps_mask((x), (y), _CMP_LT_OQ), (b), (a))
#define VLESSEQ(x, y, a, b) _mm512_mask_blend_ps(_mm512_cmp_ps_mask((x), (y), _CMP_LE_OQ), (b), (a))
#define VABS(x) _mm512_castsi512_ps(_mm512_and_epi32(_mm512_castps_si512(x), _mm512_set1_epi32(0x7FFFFFFF)))
#define VPOW2(s)                                                                                              \
    _mm512_castsi512_ps(_mm512_slli_epi32(                                                                    \
        _mm512_add_epi32(_mm512_sub_epi32(_mm512_castps_si512(s), _mm512_set1_epi32(0x4B400000)),             \
                         _mm512_set1_epi32(127)),                                                             \
        23))

#else
#error "define AEG_LANES_SCALAR, AEG_LANES_AVX2 or AEG_LANES_AVX512 before including lanes_isa.h"
#endif
