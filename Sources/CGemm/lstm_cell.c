// The LSTM cell step (aelstm.h) for each instruction set: lstm_cell_lanes.h instantiated for
// AVX-512F (16 floats), AVX2 + FMA (8) and scalar C (1, also each row's last units when H is not
// a multiple of the vector), and the choice among them, made once from what the CPU and the OS
// support (aeg_kernel_supported), whatever GEMM kernel runs. The vector instructions are enabled
// per function by attribute, as in the GEMM kernels, so nothing else is compiled for them.
#include <immintrin.h>
#include <pthread.h>
#include <string.h>

#include "aegemm.h"
#include "aelstm.h"

// Scalar C.

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
#define VFMA(a, b, c) ((a) * (b) + (c))
#define VLESS(x, y, a, b) ((x) < (y) ? (a) : (b))
#define VABS(x) aeg_scalar_abs(x)
#define VPOW2(s) aeg_scalar_pow2(s)
#define AEG_TAIL_FORWARD(...) ((void)0)
#define AEG_TAIL_BACKWARD(...) ((void)0)
#include "lstm_cell_lanes.h"
#undef AEG_TAIL_FORWARD
#undef AEG_TAIL_BACKWARD

// The vector versions finish a row's last H mod VN units with the scalar code.
#define AEG_TAIL_FORWARD forward_row_scalar
#define AEG_TAIL_BACKWARD backward_row_scalar

// AVX2 + FMA.

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
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VLESS(x, y, a, b) _mm256_blendv_ps((b), (a), _mm256_cmp_ps((x), (y), _CMP_LT_OQ))
#define VABS(x) _mm256_and_ps((x), _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF)))
#define VPOW2(s)                                                                                              \
    _mm256_castsi256_ps(_mm256_slli_epi32(                                                                    \
        _mm256_add_epi32(_mm256_sub_epi32(_mm256_castps_si256(s), _mm256_set1_epi32(0x4B400000)),             \
                         _mm256_set1_epi32(127)),                                                             \
        23))
#include "lstm_cell_lanes.h"

// AVX-512F.

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
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define VLESS(x, y, a, b) _mm512_mask_blend_ps(_mm512_cmp_ps_mask((x), (y), _CMP_LT_OQ), (b), (a))
#define VABS(x) _mm512_castsi512_ps(_mm512_and_epi32(_mm512_castps_si512(x), _mm512_set1_epi32(0x7FFFFFFF)))
#define VPOW2(s)                                                                                              \
    _mm512_castsi512_ps(_mm512_slli_epi32(                                                                    \
        _mm512_add_epi32(_mm512_sub_epi32(_mm512_castps_si512(s), _mm512_set1_epi32(0x4B400000)),             \
                         _mm512_set1_epi32(127)),                                                             \
        23))
#include "lstm_cell_lanes.h"

// The choice.

typedef void (*forward_function)(long, long, float *, long, const float *, long, const float *, const float *, long,
                                 float *, float *, long, float *, long);
typedef void (*backward_function)(long, long, const float *, long, const float *, long, const float *, long,
                                  const float *, long, const float *, long, float *, long, float *, long);

static forward_function forward_chosen = aeg_lstm_forward_scalar;
static backward_function backward_chosen = aeg_lstm_backward_scalar;
static const char *chosen_name = "scalar";
static pthread_once_t choose_once = PTHREAD_ONCE_INIT;

static void choose(void) {
    if (aeg_kernel_supported(AEG_KERNEL_AVX512)) {
        forward_chosen = aeg_lstm_forward_avx512;
        backward_chosen = aeg_lstm_backward_avx512;
        chosen_name = "avx512";
    } else if (aeg_kernel_supported(AEG_KERNEL_AVX2)) {
        forward_chosen = aeg_lstm_forward_avx2;
        backward_chosen = aeg_lstm_backward_avx2;
        chosen_name = "avx2";
    }
}

void aeg_lstm_forward(long count, long hidden, float *gates, long gates_stride, const float *projection,
                      long projection_stride, const float *bias, const float *c_prev, long c_prev_stride, float *c,
                      float *tanh_c, long cell_stride, float *h, long h_stride) {
    pthread_once(&choose_once, choose);
    forward_chosen(count, hidden, gates, gates_stride, projection, projection_stride, bias, c_prev, c_prev_stride, c,
                   tanh_c, cell_stride, h, h_stride);
}

void aeg_lstm_backward(long count, long hidden, const float *gates, long gates_stride, const float *tanh_c,
                       long tanh_c_stride, const float *c_prev, long c_prev_stride, const float *d_output,
                       long d_output_stride, const float *dh, long dh_stride, float *dc, long dc_stride, float *da,
                       long da_stride) {
    pthread_once(&choose_once, choose);
    backward_chosen(count, hidden, gates, gates_stride, tanh_c, tanh_c_stride, c_prev, c_prev_stride, d_output,
                    d_output_stride, dh, dh_stride, dc, dc_stride, da, da_stride);
}

const char *aeg_lstm_instruction_set(void) {
    pthread_once(&choose_once, choose);
    return chosen_name;
}

int aeg_lstm_select(const char *name) {
    pthread_once(&choose_once, choose);
    if (strcmp(name, "scalar") == 0) {
        forward_chosen = aeg_lstm_forward_scalar;
        backward_chosen = aeg_lstm_backward_scalar;
    } else if (strcmp(name, "avx2") == 0 && aeg_kernel_supported(AEG_KERNEL_AVX2)) {
        forward_chosen = aeg_lstm_forward_avx2;
        backward_chosen = aeg_lstm_backward_avx2;
    } else if (strcmp(name, "avx512") == 0 && aeg_kernel_supported(AEG_KERNEL_AVX512)) {
        forward_chosen = aeg_lstm_forward_avx512;
        backward_chosen = aeg_lstm_backward_avx512;
    } else {
        return -1;
    }
    chosen_name = strcmp(name, "scalar") == 0 ? "scalar" : strcmp(name, "avx2") == 0 ? "avx2" : "avx512";
    return 0;
}
