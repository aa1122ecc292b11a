// The int8 GEMM of quantised inference: C[m, n] = Σ_p A[i, p] · B[j, p], A unsigned 8-bit
// (activations, asymmetric), B signed 8-bit (weights, symmetric), int32 accumulation; both
// operands row-major with p contiguous (B is the weight [out, in] as stored). Three kernels
// with the same integer results (exact arithmetic, no saturation anywhere):
//
//   portable    plain C, any CPU
//   avx2        widens 16 bytes of A (zero-extend) and of B (sign-extend) to int16 and multiplies
//               with vpmaddwd: each int32 lane gets a0·b0 + a1·b1 exactly (|255 · −128| · 2 <
//               2^31). vpmaddubsw is not used: it adds two u8 × s8 products into a *saturating*
//               int16 (255·127·2 = 64770 > 32767), which would differ from the portable result.
//   avx512vnni  vpdpbusd: four u8 × s8 products summed into each int32 lane, without saturation
//               (the saturating form is vpdpbusds), AVX-512F + AVX512_VNNI.
//
// Exactness needs the int32 sums not to overflow: k · 255 · 128 < 2^31, i.e. k <= 65793; the
// callers (Int8Weights.swift) keep k <= 32768, so that the dequantisation's acc − z · Σq also fits
// an int32 (and vectorises). Each SIMD kernel is compiled for its instruction
// set by a function attribute only and runs only where aeg_int8_kernel_supported says the CPU
// and the OS support it (CPUID, XGETBV, as cpu.c does for the float kernels).
#define _GNU_SOURCE
#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aegemm.h"
#include "cpu_features.h"

// No multiply and add is fused into one rounding anywhere in this file (the vector passes must
// give the scalar formulas' bits).
#pragma clang fp contract(off)

static const char *const int8_names[] = {"portable", "avx2", "avx512vnni"};

const char *aeg_int8_kernel_name(aeg_int8_kernel kernel) {
    return (unsigned)kernel <= AEG_INT8_AVX512VNNI ? int8_names[kernel] : "unknown";
}

static void int8_unsupported_reason(aeg_int8_kernel kernel, char *reason, size_t size) {
    reason[0] = 0;
    if (kernel == AEG_INT8_PORTABLE) return;
    aeg_isa_unsupported_reason(kernel == AEG_INT8_AVX512VNNI ? AEG_ISA_AVX512_VNNI : AEG_ISA_AVX2, reason, size);
}

int aeg_int8_kernel_supported(aeg_int8_kernel kernel) {
    char reason[256];
    if ((unsigned)kernel > AEG_INT8_AVX512VNNI) return 0;
    int8_unsupported_reason(kernel, reason, sizeof reason);
    return reason[0] == 0;
}

// ---- Kernels -------------------------------------------------------------------------------

static void gemm_portable(long m, long n, long k, const uint8_t *a, long lda, const int8_t *b, long ldb, int32_t *c,
                          long ldc) {
    for (long i = 0; i < m; i++) {
        const uint8_t *ai = a + i * lda;
        for (long j = 0; j < n; j++) {
            const int8_t *bj = b + j * ldb;
            int32_t sum = 0;
            for (long p = 0; p < k; p++) sum += (int32_t)ai[p] * (int32_t)bj[p];
            c[i * ldc + j] = sum;
        }
    }
}

static inline int32_t tail_dot(const uint8_t *a, const int8_t *b, long from, long k) {
    int32_t sum = 0;
    for (long p = from; p < k; p++) sum += (int32_t)a[p] * (int32_t)b[p];
    return sum;
}

__attribute__((target("avx2"))) static inline int32_t hsum_avx2(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

// C[i, j .. j + cols) for one row of A against `cols` rows of B (a constant 1 or 4 at each call,
// so the loops unroll to exactly its accumulators).
__attribute__((target("avx2"), always_inline)) static inline void avx2_block(const int cols, long kv, long k,
                                                                              const uint8_t *a, const int8_t *b,
                                                                              long ldb, int32_t *c) {
    __m256i s[4];
#pragma GCC unroll 4
    for (int j = 0; j < cols; j++) s[j] = _mm256_setzero_si256();
    for (long p = 0; p < kv; p += 16) {
        const __m256i av = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(a + p)));
#pragma GCC unroll 4
        for (int j = 0; j < cols; j++) {
            const __m256i bv = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + j * ldb + p)));
            s[j] = _mm256_add_epi32(s[j], _mm256_madd_epi16(av, bv));
        }
    }
#pragma GCC unroll 4
    for (int j = 0; j < cols; j++) c[j] = hsum_avx2(s[j]) + tail_dot(a, b + j * ldb, kv, k);
}

__attribute__((target("avx2"))) static void gemm_avx2(long m, long n, long k, const uint8_t *a, long lda,
                                                      const int8_t *b, long ldb, int32_t *c, long ldc) {
    const long kv = k & ~15L;
    for (long i = 0; i < m; i++) {
        long j = 0;
        for (; j + 4 <= n; j += 4) avx2_block(4, kv, k, a + i * lda, b + j * ldb, ldb, c + i * ldc + j);
        for (; j < n; j++) avx2_block(1, kv, k, a + i * lda, b + j * ldb, ldb, c + i * ldc + j);
    }
}

// C[i .. i + rows, j .. j + cols) for `rows` (1 or 2) rows of A against `cols` (1 or 4) rows of
// B, constants at each call: two by four is 8 accumulators, 6 loads per 8 vpdpbusd.
__attribute__((target("avx512f,avx512vnni"), always_inline)) static inline void
vnni_block(const int rows, const int cols, long kv, long k, const uint8_t *a, long lda, const int8_t *b, long ldb,
           int32_t *c, long ldc) {
    __m512i s[2][4];
#pragma GCC unroll 2
    for (int r = 0; r < rows; r++)
#pragma GCC unroll 4
        for (int j = 0; j < cols; j++) s[r][j] = _mm512_setzero_si512();
    for (long p = 0; p < kv; p += 64) {
        __m512i w[4], x[2];
#pragma GCC unroll 4
        for (int j = 0; j < cols; j++) w[j] = _mm512_loadu_si512((const void *)(b + j * ldb + p));
#pragma GCC unroll 2
        for (int r = 0; r < rows; r++) x[r] = _mm512_loadu_si512((const void *)(a + r * lda + p));
#pragma GCC unroll 2
        for (int r = 0; r < rows; r++)
#pragma GCC unroll 4
            for (int j = 0; j < cols; j++) s[r][j] = _mm512_dpbusd_epi32(s[r][j], x[r], w[j]);
    }
#pragma GCC unroll 2
    for (int r = 0; r < rows; r++)
#pragma GCC unroll 4
        for (int j = 0; j < cols; j++)
            c[r * ldc + j] = _mm512_reduce_add_epi32(s[r][j]) + tail_dot(a + r * lda, b + j * ldb, kv, k);
}

__attribute__((target("avx512f,avx512vnni"))) static void gemm_avx512vnni(long m, long n, long k, const uint8_t *a,
                                                                          long lda, const int8_t *b, long ldb,
                                                                          int32_t *c, long ldc) {
    const long kv = k & ~63L;
    for (long i = 0; i < m; i += 2) {
        const uint8_t *ai = a + i * lda;
        int32_t *ci = c + i * ldc;
        const int pair = i + 2 <= m;
        long j = 0;
        for (; j + 4 <= n; j += 4) {
            if (pair) vnni_block(2, 4, kv, k, ai, lda, b + j * ldb, ldb, ci + j, ldc);
            else vnni_block(1, 4, kv, k, ai, lda, b + j * ldb, ldb, ci + j, ldc);
        }
        for (; j < n; j++) {
            if (pair) vnni_block(2, 1, kv, k, ai, lda, b + j * ldb, ldb, ci + j, ldc);
            else vnni_block(1, 1, kv, k, ai, lda, b + j * ldb, ldb, ci + j, ldc);
        }
    }
}

// ---- Dispatch ------------------------------------------------------------------------------

static _Atomic int int8_current = -1;
static pthread_once_t int8_once = PTHREAD_ONCE_INIT;

static aeg_int8_kernel int8_best(void) {
    if (aeg_int8_kernel_supported(AEG_INT8_AVX512VNNI)) return AEG_INT8_AVX512VNNI;
    if (aeg_int8_kernel_supported(AEG_INT8_AVX2)) return AEG_INT8_AVX2;
    return AEG_INT8_PORTABLE;
}

static int int8_parse(const char *name) {
    if (strcmp(name, "auto") == 0) return -2;
    for (int i = 0; i <= AEG_INT8_AVX512VNNI; i++)
        if (strcmp(name, int8_names[i]) == 0) return i;
    return -1;
}

static void int8_resolve(void) {
    const char *requested = getenv("AE_GEMM_INT8");
    aeg_int8_kernel best = int8_best();
    if (requested && requested[0]) {
        char reason[320];
        if (aeg_int8_select(requested, reason, sizeof reason) == 0) return;
        fprintf(stderr, "libautoencoders: AE_GEMM_INT8=%s refused: %s; using %s\n", requested, reason, int8_names[best]);
    }
    atomic_store(&int8_current, best);
}

aeg_int8_kernel aeg_int8_current_kernel(void) {
    int kernel = atomic_load_explicit(&int8_current, memory_order_relaxed);
    if (kernel >= 0) return (aeg_int8_kernel)kernel;
    pthread_once(&int8_once, int8_resolve);
    return (aeg_int8_kernel)atomic_load(&int8_current);
}

int aeg_int8_select(const char *name, char *reason, size_t reason_size) {
    if (!name) name = "(null)";
    int kernel = int8_parse(name);
    if (kernel == -1) {
        if (reason && reason_size)
            snprintf(reason, reason_size, "unknown int8 GEMM kernel \"%.40s\"; expected auto, avx512vnni, avx2 or portable", name);
        return -1;
    }
    if (kernel == -2) kernel = int8_best();
    char why[256];
    int8_unsupported_reason((aeg_int8_kernel)kernel, why, sizeof why);
    if (why[0]) {
        if (reason && reason_size) snprintf(reason, reason_size, "the %s int8 kernel cannot run here: %s", int8_names[kernel], why);
        return -2;
    }
    atomic_store(&int8_current, kernel);
    return 0;
}

int aeg_gemm_u8s8_with(aeg_int8_kernel kernel, long m, long n, long k, const uint8_t *a, long lda, const int8_t *b,
                       long ldb, int32_t *c, long ldc) {
    if (!aeg_int8_kernel_supported(kernel)) return -2;
    switch (kernel) {
    case AEG_INT8_AVX512VNNI: gemm_avx512vnni(m, n, k, a, lda, b, ldb, c, ldc); break;
    case AEG_INT8_AVX2: gemm_avx2(m, n, k, a, lda, b, ldb, c, ldc); break;
    default: gemm_portable(m, n, k, a, lda, b, ldb, c, ldc); break;
    }
    return 0;
}

void aeg_gemm_u8s8(long m, long n, long k, const uint8_t *a, long lda, const int8_t *b, long ldb, int32_t *c,
                   long ldc) {
    switch (aeg_int8_current_kernel()) {
    case AEG_INT8_AVX512VNNI: gemm_avx512vnni(m, n, k, a, lda, b, ldb, c, ldc); break;
    case AEG_INT8_AVX2: gemm_avx2(m, n, k, a, lda, b, ldb, c, ldc); break;
    default: gemm_portable(m, n, k, a, lda, b, ldb, c, ldc); break;
    }
}

// ---- The packed AVX-512 VNNI kernel (weights packed once, at quantisation) --------------------
//
// B [n, k] is packed in panels of 32 columns: for each group of 4 k, the 4 bytes of each of the
// 32 columns (128 bytes: two zmm). A tile of 8 rows of A and 32 columns then takes, per group of 4
// k, two loads of B, 8 broadcasts of 4 bytes of A and 16 vpdpbusd into 16 accumulators, with no
// horizontal sums: the batch path. (The dot-product kernel above sums horizontally once per
// output, which costs more than the products for short rows.) Same integers as the others.

size_t aeg_int8_packed_size(long n, long k) { return (size_t)((n + 31) / 32) * 32 * (size_t)((k + 3) / 4 * 4); }

void aeg_int8_pack(long n, long k, const int8_t *b, long ldb, int8_t *packed) {
    long groups = (k + 3) / 4;
    for (long jb = 0; jb < (n + 31) / 32; jb++)
        for (long g = 0; g < groups; g++)
            for (long jj = 0; jj < 32; jj++)
                for (long r = 0; r < 4; r++) {
                    long j = jb * 32 + jj, p = g * 4 + r;
                    packed[((jb * groups + g) * 32 + jj) * 4 + r] = j < n && p < k ? b[j * ldb + p] : 0;
                }
}

#define AEG_VROW(i)                                                                  \
    {                                                                                \
        int32_t word;                                                                \
        memcpy(&word, a + (i) * lda + 4 * g, 4);                                     \
        __m512i x = _mm512_set1_epi32(word);                                         \
        c##i##0 = _mm512_dpbusd_epi32(c##i##0, x, w0);                               \
        c##i##1 = _mm512_dpbusd_epi32(c##i##1, x, w1);                               \
    }
// Row t of the tile (row i + t of A): int32 sums into C, or, with a dequantisation `dq`, floats
// into its output.
#define AEG_VSTORE(t)                                                                \
    {                                                                                \
        if (dq) {                                                                    \
            dequantize_lanes(c##t##0, dq, i + (t), column, m0);                      \
            dequantize_lanes(c##t##1, dq, i + (t), column + 16, m1);                 \
        } else {                                                                     \
            _mm512_mask_storeu_epi32(c + (i + (t)) * ldc, m0, c##t##0);              \
            _mm512_mask_storeu_epi32(c + (i + (t)) * ldc + 16, m1, c##t##1);         \
        }                                                                            \
    }

// What the batch kernel needs to write floats instead of int32 sums (aeg_int8_dense_packed).
typedef struct {
    const aeg_int8_input_range *ranges;  // per row of A
    const int32_t *b_sums;
    const float *b_scales, *bias;
    float *out;
    long ldo;
} dequantization;

// out[l] = (a_scale · scales[l]) · (sum[l] − a_zero · sums[l]) (+ bias[l]) for the lanes l of mask m:
// the dequantisation's formula, operation for operation as dequantize_one's, for the pass over
// int32 sums (dequantize_avx512) and for the VNNI kernel's registers (dequantize_lanes) alike.
__attribute__((target("avx512f"), always_inline)) static inline void dequantize_vector(__m512i sum, float a_scale, int a_zero,
                                                                                       const int32_t *sums, const float *scales,
                                                                                       const float *bias, float *out,
                                                                                       __mmask16 m) {
    __m512i d = _mm512_sub_epi32(sum, _mm512_mullo_epi32(_mm512_set1_epi32(a_zero), _mm512_maskz_loadu_epi32(m, sums)));
    __m512 v = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(a_scale), _mm512_maskz_loadu_ps(m, scales)), _mm512_cvtepi32_ps(d));
    if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias));
    _mm512_mask_storeu_ps(out, m, v);
}

// Output row `row`, columns column + l for the lanes l of mask m, from the kernel's sums.
__attribute__((target("avx512f"), always_inline)) static inline void dequantize_lanes(__m512i sum, const dequantization *dq,
                                                                                      long row, long column, __mmask16 m) {
    if (!m) return;
    const aeg_int8_input_range r = dq->ranges[row];
    dequantize_vector(sum, r.scale, r.zero_point, dq->b_sums + column, dq->b_scales + column,
                      dq->bias ? dq->bias + column : 0, dq->out + row * dq->ldo + column, m);
}

// Columns column ..< column + cols of C (or, with `dq`, of the dequantised output; c is then
// unused) for all rows; c points at column `column` of C's first row.
__attribute__((target("avx512f,avx512vnni"))) static void packed_panel(long rows, long groups, const uint8_t *a, long lda,
                                                                       const int8_t *panel, int32_t *c, long ldc,
                                                                       long cols, const dequantization *dq, long column) {
    __mmask16 m0 = cols >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << cols) - 1);
    __mmask16 m1 = cols >= 32 ? (__mmask16)0xffff : cols <= 16 ? (__mmask16)0 : (__mmask16)((1u << (cols - 16)) - 1);
    long i = 0;
    for (; i + 8 <= rows; i += 8, a += 8 * lda) {
        __m512i c00 = _mm512_setzero_si512(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00,
                c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
        const int8_t *w = panel;
        for (long g = 0; g < groups; g++, w += 128) {
            __m512i w0 = _mm512_loadu_si512((const void *)w), w1 = _mm512_loadu_si512((const void *)(w + 64));
            AEG_VROW(0) AEG_VROW(1) AEG_VROW(2) AEG_VROW(3) AEG_VROW(4) AEG_VROW(5) AEG_VROW(6) AEG_VROW(7)
        }
        AEG_VSTORE(0) AEG_VSTORE(1) AEG_VSTORE(2) AEG_VSTORE(3) AEG_VSTORE(4) AEG_VSTORE(5) AEG_VSTORE(6) AEG_VSTORE(7)
    }
    for (; i < rows; i++, a += lda) {
        __m512i c00 = _mm512_setzero_si512(), c01 = c00;
        const int8_t *w = panel;
        for (long g = 0; g < groups; g++, w += 128) {
            __m512i w0 = _mm512_loadu_si512((const void *)w), w1 = _mm512_loadu_si512((const void *)(w + 64));
            AEG_VROW(0)
        }
        AEG_VSTORE(0)
    }
}

// Every panel of packed B against all rows of A: int32 sums into C, or floats through `dq`.
__attribute__((target("avx512f,avx512vnni"))) static void packed_product(long m, long n, long k, const uint8_t *a, long lda,
                                                                         const int8_t *packed, int32_t *c, long ldc,
                                                                         const dequantization *dq) {
    long groups = k / 4;
    for (long jb = 0; jb < (n + 31) / 32; jb++)
        packed_panel(m, groups, a, lda, packed + jb * groups * 128, c ? c + jb * 32 : 0, ldc,
                     n - jb * 32 < 32 ? n - jb * 32 : 32, dq, jb * 32);
}

int aeg_gemm_u8s8_packed(long m, long n, long k, const uint8_t *a, long lda, const int8_t *packed, int32_t *c, long ldc) {
    if (!aeg_int8_kernel_supported(AEG_INT8_AVX512VNNI) || k % 4) return -2;
    packed_product(m, n, k, a, lda, packed, c, ldc, 0);
    return 0;
}

int aeg_int8_dense_packed(long m, long n, long k, const uint8_t *a, long lda, const int8_t *packed,
                          const aeg_int8_input_range *ranges, const int32_t *b_sums, const float *b_scales,
                          const float *bias, float *out, long ldo) {
    if (!packed || k % 4 || aeg_int8_current_kernel() != AEG_INT8_AVX512VNNI) return 0;
    const dequantization dq = {ranges, b_sums, b_scales, bias, out, ldo};
    packed_product(m, n, k, a, lda, packed, 0, 0, &dq);
    return 1;
}

void aeg_gemm_u8s8_weights(long m, long n, long k, const uint8_t *a, long lda, const int8_t *b, long ldb,
                           const int8_t *packed, int32_t *c, long ldc) {
    if (packed && k % 4 == 0 && aeg_int8_current_kernel() == AEG_INT8_AVX512VNNI) {
        packed_product(m, n, k, a, lda, packed, c, ldc, 0);
        return;
    }
    aeg_gemm_u8s8(m, n, k, a, lda, b, ldb, c, ldc);
}

// ---- Quantisation around the GEMM ----------------------------------------------------------
//
// The passes run in the vectors of the int8 kernel in use (avx512vnni: AVX-512F; avx2: AVX2;
// portable: scalar C), so selecting the portable kernel runs no vector instruction at all, and
// every instance gives the same bits: min and max are exact, and no multiply and add is fused
// (the pragma at the top), so each rounds as the scalar formula's separate operations do.

typedef enum { PASSES_SCALAR, PASSES_AVX2, PASSES_AVX512 } passes_isa;

static passes_isa passes(void) {
    switch (aeg_int8_current_kernel()) {
    case AEG_INT8_AVX512VNNI: return PASSES_AVX512;
    case AEG_INT8_AVX2: return PASSES_AVX2;
    default: return PASSES_SCALAR;
    }
}

static void range_scalar(long count, const float *x, long stride, float *lo, float *hi) {
    for (long i = 0; i < count; i++) {
        float v = x[i * stride];
        *lo = v < *lo ? v : *lo;
        *hi = v > *hi ? v : *hi;
    }
}

// The smallest and largest of 0 and x[0 ..< returned count] into lo, hi (vectors whole).
__attribute__((target("avx2"))) static long range_avx2(long count, const float *x, float *lo, float *hi) {
    __m256 vlo = _mm256_setzero_ps(), vhi = _mm256_setzero_ps();
    long i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        vlo = _mm256_min_ps(vlo, v);
        vhi = _mm256_max_ps(vhi, v);
    }
    __m128 l = _mm_min_ps(_mm256_castps256_ps128(vlo), _mm256_extractf128_ps(vlo, 1));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(vhi), _mm256_extractf128_ps(vhi, 1));
    l = _mm_min_ps(l, _mm_movehl_ps(l, l));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    *lo = _mm_cvtss_f32(_mm_min_ss(l, _mm_shuffle_ps(l, l, 1)));
    *hi = _mm_cvtss_f32(_mm_max_ss(h, _mm_shuffle_ps(h, h, 1)));
    return i;
}

// All of x: the last partial vector is loaded under a mask, its other lanes zeros, which the
// range holds anyway.
__attribute__((target("avx512f"))) static long range_avx512(long count, const float *x, float *lo, float *hi) {
    __m512 vlo = _mm512_setzero_ps(), vhi = _mm512_setzero_ps();
    long i = 0;
    for (; i + 16 <= count; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        vlo = _mm512_min_ps(vlo, v);
        vhi = _mm512_max_ps(vhi, v);
    }
    if (i < count) {
        __m512 v = _mm512_maskz_loadu_ps((__mmask16)((1u << (count - i)) - 1), x + i);
        vlo = _mm512_min_ps(vlo, v);
        vhi = _mm512_max_ps(vhi, v);
    }
    *lo = _mm512_reduce_min_ps(vlo);
    *hi = _mm512_reduce_max_ps(vhi);
    return count;
}

static void range_with(passes_isa isa, long count, const float *x, long stride, float *low, float *high) {
    float lo = 0, hi = 0;  // the range always holds 0, so padding zeros are exact
    long i = 0;
    if (stride == 1) {
        if (isa == PASSES_AVX512) i = range_avx512(count, x, &lo, &hi);
        else if (isa == PASSES_AVX2) i = range_avx2(count, x, &lo, &hi);
    }
    range_scalar(count - i, x + i * stride, stride, &lo, &hi);
    // The scalar fold, starting from +0, never ends at −0; the vectors' reduction may (vminps
    // returns its second operand when both are zeros): the same value, and now the same bits.
    *low = lo == 0 ? 0 : lo;
    *high = hi == 0 ? 0 : hi;
}

void aeg_range(long count, const float *x, long stride, float *low, float *high) {
    range_with(passes(), count, x, stride, low, high);
}

aeg_int8_input_range aeg_int8_range_from(float low, float high) {
    // Swift's min(low, 0) and max(high, 0), operand for operand (−0 and NaN included).
    const float lo = 0.0f < low ? 0.0f : low, hi = 0.0f >= high ? 0.0f : high;
    const float width = hi - lo;
    aeg_int8_input_range range = {1.0f, 0};
    if (!isfinite(width) || !(width > 0)) return range;
    range.scale = width / 255;
    float zero = nearbyintf(-lo / range.scale);  // half to even in the default rounding mode
    zero = zero < 255 ? zero : 255;
    zero = zero >= 0 ? zero : 0;
    range.zero_point = (int32_t)zero;
    return range;
}

// round(v) to nearest even for |v| < 2^22, as nearbyintf in the default rounding mode, without a
// libm call, so the loops vectorise: adding and subtracting 1.5 · 2^23 rounds away the fraction
// (not folded away: the library is not built with -ffast-math).
static inline float round_even(float v) {
    v = v < -1e6f ? -1e6f : v > 1e6f ? 1e6f : v;
    return (v + 12582912.0f) - 12582912.0f;
}

static inline uint8_t quantize_one(float x, float inverse, float zero) {
    float q = round_even(x * inverse) + zero;
    q = q < 0 ? 0 : q > 255 ? 255 : q;
    return (uint8_t)q;
}

// round_even(x · inverse) + zero, clamped to [0, 255], in each lane: the values are whole numbers
// there, so truncating them to integers is exact.
#define QUANTIZE_LANES(V, MUL, ADD, SUB, MIN, MAX, SET1)                                                     \
    MIN(MAX(ADD(SUB(ADD(MIN(MAX(MUL(V, SET1(inverse)), SET1(-1e6f)), SET1(1e6f)), SET1(12582912.0f)),         \
                    SET1(12582912.0f)),                                                                       \
                SET1(zero)),                                                                                  \
            SET1(0.0f)),                                                                                      \
        SET1(255.0f))

__attribute__((target("avx2"))) static long quantize_avx2(long k, const float *x, float inverse, float zero, uint8_t *out) {
    long p = 0;
    for (; p + 8 <= k; p += 8) {
        __m256 q = QUANTIZE_LANES(_mm256_loadu_ps(x + p), _mm256_mul_ps, _mm256_add_ps, _mm256_sub_ps, _mm256_min_ps,
                                  _mm256_max_ps, _mm256_set1_ps);
        __m256i w = _mm256_cvttps_epi32(q);
        __m128i h = _mm_packus_epi32(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
        _mm_storel_epi64((__m128i *)(out + p), _mm_packus_epi16(h, h));
    }
    return p;
}

// All of x: the last partial vector under a mask, its bytes copied out of a vector.
__attribute__((target("avx512f"))) static long quantize_avx512(long k, const float *x, float inverse, float zero, uint8_t *out) {
    long p = 0;
    for (; p + 16 <= k; p += 16) {
        __m512 q = QUANTIZE_LANES(_mm512_loadu_ps(x + p), _mm512_mul_ps, _mm512_add_ps, _mm512_sub_ps, _mm512_min_ps,
                                  _mm512_max_ps, _mm512_set1_ps);
        _mm_storeu_si128((__m128i *)(out + p), _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(q)));
    }
    if (p < k) {
        __m512 q = QUANTIZE_LANES(_mm512_maskz_loadu_ps((__mmask16)((1u << (k - p)) - 1), x + p), _mm512_mul_ps,
                                  _mm512_add_ps, _mm512_sub_ps, _mm512_min_ps, _mm512_max_ps, _mm512_set1_ps);
        uint8_t bytes[16];
        _mm_storeu_si128((__m128i *)bytes, _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(q)));
        memcpy(out + p, bytes, (size_t)(k - p));
    }
    return k;
}

// One row of k values (element_stride apart) into out, then zero points up to ldo.
static void quantize_row(passes_isa isa, long k, const float *x, long element_stride, float scale, int zero_point,
                         uint8_t *out, long ldo) {
    const float inverse = 1.0f / scale, zero = (float)zero_point;
    long p = element_stride != 1          ? 0
             : isa == PASSES_AVX512 ? quantize_avx512(k, x, inverse, zero, out)
             : isa == PASSES_AVX2   ? quantize_avx2(k, x, inverse, zero, out)
                                    : 0;
    for (; p < k; p++) out[p] = quantize_one(x[p * element_stride], inverse, zero);
    if (ldo > k) memset(out + k, zero_point, (size_t)(ldo - k));
}

void aeg_quantize_u8(long rows, long k, const float *x, long row_stride, long element_stride, float scale,
                     int zero_point, uint8_t *out, long ldo) {
    const passes_isa isa = passes();
    for (long i = 0; i < rows; i++)
        quantize_row(isa, k, x + i * row_stride, element_stride, scale, zero_point, out + i * ldo, ldo);
}

void aeg_int8_quantize_rows(long rows, long k, const float *x, long ldx, const aeg_int8_input_range *fixed, uint8_t *out,
                            long ldo, aeg_int8_input_range *ranges) {
    const passes_isa isa = passes();
    for (long i = 0; i < rows; i++) {
        const float *xi = x + i * ldx;
        aeg_int8_input_range range;
        if (fixed) {
            range = *fixed;
        } else {
            float low, high;
            range_with(isa, k, xi, 1, &low, &high);
            range = aeg_int8_range_from(low, high);
        }
        ranges[i] = range;
        quantize_row(isa, k, xi, 1, range.scale, range.zero_point, out + i * ldo, ldo);
    }
}

static inline float dequantize_one(int32_t acc, float a_scale, int a_zero, int32_t sum, float scale) {
    return a_scale * scale * (float)(acc - a_zero * sum);
}

// out[j] = (a_scale · scales[j]) · (acc[j] − a_zero · sums[j]) (+ bias[j]) for j below the returned count.
__attribute__((target("avx2"))) static long dequantize_avx2(long n, const int32_t *acc, float a_scale, int a_zero,
                                                          const int32_t *sums, const float *scales, const float *bias,
                                                          float *out) {
    const __m256 as = _mm256_set1_ps(a_scale);
    const __m256i az = _mm256_set1_epi32(a_zero);
    long j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256i d = _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(acc + j)),
                                     _mm256_mullo_epi32(az, _mm256_loadu_si256((const __m256i *)(sums + j))));
        __m256 v = _mm256_mul_ps(_mm256_mul_ps(as, _mm256_loadu_ps(scales + j)), _mm256_cvtepi32_ps(d));
        if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + j));
        _mm256_storeu_ps(out + j, v);
    }
    return j;
}

// All of the row: the last partial vector under a mask.
__attribute__((target("avx512f"))) static long dequantize_avx512(long n, const int32_t *acc, float a_scale, int a_zero,
                                                               const int32_t *sums, const float *scales, const float *bias,
                                                               float *out) {
    for (long j = 0; j < n; j += 16) {
        const __mmask16 m = n - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j)) - 1);
        dequantize_vector(_mm512_maskz_loadu_epi32(m, acc + j), a_scale, a_zero, sums + j, scales + j, bias ? bias + j : 0,
                          out + j, m);
    }
    return n;
}

void aeg_dequantize(long m, long n, const int32_t *acc, long ldc, float a_scale, int a_zero, const int32_t *b_sums,
                    const float *b_scales, const float *bias, float *out, long row_stride, long column_stride) {
    passes_isa isa = column_stride == 1 ? passes() : PASSES_SCALAR;
    for (long i = 0; i < m; i++) {
        const int32_t *ci = acc + i * ldc;
        float *oi = out + i * row_stride;
        long j = isa == PASSES_AVX512 ? dequantize_avx512(n, ci, a_scale, a_zero, b_sums, b_scales, bias, oi)
                 : isa == PASSES_AVX2 ? dequantize_avx2(n, ci, a_scale, a_zero, b_sums, b_scales, bias, oi)
                                      : 0;
        for (; j < n; j++) {
            float v = dequantize_one(ci[j], a_scale, a_zero, b_sums[j], b_scales[j]);
            oi[j * column_stride] = bias ? v + bias[j] : v;
        }
    }
}
