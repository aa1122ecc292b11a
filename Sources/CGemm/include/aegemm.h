// The core's single-precision GEMM: packed micro-kernels for AVX-512F and AVX2+FMA chosen at run
// time from CPUID and XGETBV (what the CPU has and what the OS saves), OpenBLAS otherwise.
//
// Internal to the library: the names start with `aeg_`, so the C ABI's version script (ae_*)
// keeps them out of libautoencoders.so's exported symbols. docs/ARCHITECTURE.md, "GEMM kernels".
#ifndef AEGEMM_H
#define AEGEMM_H

#include <stddef.h>
#include <stdint.h>

#include "aedense.h" // inference on pre-packed weights

#ifdef __cplusplus
extern "C" {
#endif

/// The kernels, in the order of preference.
typedef enum {
    AEG_KERNEL_AVX512 = 0,  ///< 12x32 micro-tile, 24 zmm accumulators (AVX-512F)
    AEG_KERNEL_AVX2 = 1,    ///< 6x16 micro-tile, 12 ymm accumulators (AVX2 + FMA)
    AEG_KERNEL_OPENBLAS = 2 ///< cblas_sgemm
} aeg_kernel;

/// C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C, row-major, as cblas_sgemm with
/// CblasRowMajor (beta == 0 never reads C). `threads` is the thread count to use (at most the
/// library's own pool; calls from several threads at once are safe: one of them gets the pool,
/// the others run on their own thread).
void aeg_sgemm(int transpose_a, int transpose_b, long m, long n, long k, float alpha,
               const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc,
               int threads);

/// Runs part(arg, 0) .. part(arg, parts - 1), part 0 on the calling thread and the others on a
/// pool's threads, returning 1 when all ran, or 0 having run none (the caller then runs them alone).
typedef int (*aeg_parallel_runner)(int parts, void (*part)(void *arg, int index), void *arg);

/// The pool the packed kernels split their work on (aeg_sgemm's bands of C, dense inference's
/// panels): the library installs its own (Parallel.swift), so that one set of threads serves
/// every kernel and layer; NULL (the default) is CGemm's own pool (pool.c), for C programs that
/// link CGemm alone.
void aeg_set_parallel_runner(aeg_parallel_runner runner);

/// Threads CGemm's own pool has started (0 while a runner is installed from the start).
int aeg_own_pool_threads(void);

/// Whether this process is a child of fork() from a process that had called this function
/// before: such a child has none of its parent's pool threads. The first call registers the
/// fork handler; later calls read one word (where getpid() is a system call of some 140 ns).
int aeg_forked_since_first_call(void);

/// Whether aeg_sgemm hands this product to OpenBLAS: the kernel in use is OpenBLAS, or the product
/// is too small in some dimension (or alpha is 0) for the packed kernels to pay.
int aeg_sgemm_runs_openblas(long m, long n, long k, float alpha);

/// The kernel in use (resolved on first use from the CPU and the AE_GEMM environment variable).
aeg_kernel aeg_current_kernel(void);

/// Its name: "avx512", "avx2" or "openblas".
const char *aeg_kernel_name(aeg_kernel kernel);

/// A one-line description of the GEMM in use: kernel, micro-tile, why it was chosen (CPU
/// features, AE_GEMM), OpenBLAS's own core and configuration, and the instruction sets of
/// inference, of the element-wise passes (aeelementwise.h) and of the LSTM cell. Static storage.
const char *aeg_description(void);

/// Selects a kernel by name ("auto", "avx512", "avx2", "openblas"). Returns 0; or -1 when the name
/// is unknown, -2 when the CPU or the OS lacks what the kernel needs, with the reason in `reason`
/// (NUL-terminated, at most `reason_size` bytes); the kernel in use is then unchanged.
int aeg_select(const char *name, char *reason, size_t reason_size);

/// Whether this CPU and OS can run the kernel (CPUID feature bits and XGETBV state bits).
int aeg_kernel_supported(aeg_kernel kernel);

/// Whether OpenBLAS was asked for by name (AE_GEMM=openblas, aeg_select("openblas")) rather than
/// chosen automatically: then no product runs on the library's own kernels, packed ones included.
int aeg_openblas_requested(void);

/// Products against a matrix packed once and used many times (a recurrent layer's W_hh, at every
/// step of a sequence): op(B) [k, n] packed into the micro-panels of the library's widest kernel
/// here, so that each product packs only its rows of A. Used whatever kernel aeg_sgemm runs
/// (OpenBLAS repacks B at every call), unless OpenBLAS was requested by name.
///
/// Floats `packed` needs for op(B) [k, n] (for any kernel).
long aeg_packed_size(long k, long n);

/// Packs op(B) [k, n] (B itself when transpose_b is 0, else B [n, k] read transposed) into
/// `packed` (aeg_packed_size(k, n) floats). Returns the packing (1: AVX-512F, 2: AVX2 + FMA) to
/// pass to aeg_gemm_packed_b; or 0, packing nothing, when there is no kernel for it here (neither
/// AVX-512F nor AVX2 + FMA, OpenBLAS requested by name, k > 1024): then use aeg_sgemm.
int aeg_pack_b(int transpose_b, long k, long n, const float *b, long ldb, float *packed);

/// For the tests: aeg_pack_b packs for at most "avx2", or again for the widest ("auto", "avx512")
/// from now on. Returns 0; -1, changing nothing, when the name is unknown or this CPU lacks it.
int aeg_packed_select(const char *name);

/// C[m, n] = A[m, k] * op(B) + beta * C with op(B) packed by aeg_pack_b (same k and n; its return
/// value as `packing`, not 0). A is not transposed (row-major, leading dimension lda). beta == 0
/// never reads C. On the calling thread.
void aeg_gemm_packed_b(int packing, long m, long n, long k, const float *a, long lda, const float *packed, float beta,
                       float *c, long ldc);

/* ---- int8 (int8.c) -------------------------------------------------------------------------- */

/// The int8 GEMM kernels. All give bit-identical int32 results.
typedef enum {
    AEG_INT8_PORTABLE = 0,   ///< plain C
    AEG_INT8_AVX2 = 1,       ///< u8/s8 widened to int16, vpmaddwd (exact, no saturation)
    AEG_INT8_AVX512VNNI = 2  ///< vpdpbusd (AVX-512F + AVX512_VNNI)
} aeg_int8_kernel;

/// C[i, j] = sum_p A[i, p] * B[j, p] for i < m, j < n, p < k: A unsigned 8-bit [m, k] (row
/// stride lda), B signed 8-bit [n, k] (row stride ldb), C int32 (row stride ldc). Exact for
/// k <= 65793 (the int32 sums cannot overflow). Runs the kernel in use.
void aeg_gemm_u8s8(long m, long n, long k, const uint8_t *a, long lda, const int8_t *b, long ldb, int32_t *c,
                   long ldc);
/// The same with a given kernel; returns -2 (computing nothing) when this CPU or OS cannot run it.
int aeg_gemm_u8s8_with(aeg_int8_kernel kernel, long m, long n, long k, const uint8_t *a, long lda,
                       const int8_t *b, long ldb, int32_t *c, long ldc);
/// The int8 kernel in use (the best this CPU supports, or AE_GEMM_INT8 when it names one it can run).
aeg_int8_kernel aeg_int8_current_kernel(void);
/// "portable", "avx2" or "avx512vnni".
const char *aeg_int8_kernel_name(aeg_int8_kernel kernel);
/// Whether this CPU and OS can run the kernel.
int aeg_int8_kernel_supported(aeg_int8_kernel kernel);
/// Selects the int8 kernel by name ("auto", "avx512vnni", "avx2", "portable"): 0; -1 unknown name;
/// -2 the CPU or OS lacks what it needs (the reason in `reason`); the kernel is then unchanged.
int aeg_int8_select(const char *name, char *reason, size_t reason_size);

/// Bytes of B [n, k] packed for the AVX-512 VNNI batch kernel (panels of 32 columns, groups of 4 k).
size_t aeg_int8_packed_size(long n, long k);
/// Packs B [n, k] (row stride ldb) into `packed` (aeg_int8_packed_size bytes), zero padded.
void aeg_int8_pack(long n, long k, const int8_t *b, long ldb, int8_t *packed);
/// aeg_gemm_u8s8 on packed B with the VNNI batch kernel (k a multiple of 4); -2 where it cannot run.
int aeg_gemm_u8s8_packed(long m, long n, long k, const uint8_t *a, long lda, const int8_t *packed, int32_t *c, long ldc);
/// The weights' product: the packed VNNI kernel when `packed` is given and the kernel in use is
/// avx512vnni, else aeg_gemm_u8s8 on B. Same integers either way.
void aeg_gemm_u8s8_weights(long m, long n, long k, const uint8_t *a, long lda, const int8_t *b, long ldb,
                           const int8_t *packed, int32_t *c, long ldc);

/// An input row's quantisation: q = clamp(round(x / scale) + zero_point, 0, 255).
typedef struct {
    float scale;
    int32_t zero_point;
} aeg_int8_input_range;

/// The weights' product dequantised on its way out, where the packed VNNI kernel runs (`packed`
/// given, the kernel in use avx512vnni, k a multiple of 4): out[i * ldo + j] =
/// ranges[i].scale · b_scales[j] · (Σ_p a[i, p] · B[j, p] − ranges[i].zero_point · b_sums[j])
/// (+ bias[j]), the bits of aeg_gemm_u8s8_weights followed by aeg_dequantize row by row, without
/// the int32 sums in memory. Returns 1; 0, doing nothing, where that kernel does not run.
int aeg_int8_dense_packed(long m, long n, long k, const uint8_t *a, long lda, const int8_t *packed,
                          const aeg_int8_input_range *ranges, const int32_t *b_sums, const float *b_scales,
                          const float *bias, float *out, long ldo);

/// The quantisation of the range [min(low, 0), max(high, 0)] in 255 steps: scale = width / 255,
/// zero_point = clamp(round(−min(low, 0) / scale), 0, 255) (half to even); a range of width 0, or
/// not finite, gets scale 1 and zero point 0. (Int8ActivationRange in Swift is this function.)
aeg_int8_input_range aeg_int8_range_from(float low, float high);

/// Each of `rows` rows of x (k values, rows ldx apart) quantised into out (rows ldo apart, zero
/// points from k to ldo): with `fixed`, by that range (a calibrated layer); else by the row's own
/// (aeg_range, then aeg_int8_range_from). Each row's range goes to ranges[i]. The same bytes as
/// those calls with aeg_quantize_u8, row by row.
void aeg_int8_quantize_rows(long rows, long k, const float *x, long ldx, const aeg_int8_input_range *fixed, uint8_t *out,
                            long ldo, aeg_int8_input_range *ranges);

/// The smallest and largest of count values x[i * stride], with 0 always inside the range.
void aeg_range(long count, const float *x, long stride, float *low, float *high);
/// out[i, p] = clamp(round(x[i * row_stride + p * element_stride] / scale) + zero_point, 0, 255)
/// for p < k (round half to even), and zero_point for k <= p < ldo (padding).
void aeg_quantize_u8(long rows, long k, const float *x, long row_stride, long element_stride, float scale,
                     int zero_point, uint8_t *out, long ldo);
/// out[i * row_stride + j * column_stride] = a_scale * b_scales[j] * (acc[i, j] - a_zero * b_sums[j])
/// (+ bias[j] when bias is not NULL): the dequantisation of an int8 GEMM's result.
void aeg_dequantize(long m, long n, const int32_t *acc, long ldc, float a_scale, int a_zero, const int32_t *b_sums,
                    const float *b_scales, const float *bias, float *out, long row_stride, long column_stride);

#ifdef __cplusplus
}
#endif

#endif
