// The core's single-precision GEMM: packed micro-kernels for AVX-512F and AVX2+FMA chosen at run
// time from CPUID and XGETBV (what the CPU has and what the OS saves), OpenBLAS otherwise.
//
// Internal to the library: the names start with `aeg_`, so the C ABI's version script (ae_*)
// keeps them out of libautoencoders.so's exported symbols. docs/ARCHITECTURE.md, "GEMM kernels".
#ifndef AEGEMM_H
#define AEGEMM_H

#include <stddef.h>

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

/// The kernel in use (resolved on first use from the CPU and the AE_GEMM environment variable).
aeg_kernel aeg_current_kernel(void);

/// Its name: "avx512", "avx2" or "openblas".
const char *aeg_kernel_name(aeg_kernel kernel);

/// A one-line description of the GEMM in use: kernel, micro-tile, why it was chosen (CPU
/// features, AE_GEMM), and OpenBLAS's own core and configuration. Static storage.
const char *aeg_description(void);

/// Selects a kernel by name ("auto", "avx512", "avx2", "openblas"). Returns 0; or -1 when the name
/// is unknown, -2 when the CPU or the OS lacks what the kernel needs, with the reason in `reason`
/// (NUL-terminated, at most `reason_size` bytes); the kernel in use is then unchanged.
int aeg_select(const char *name, char *reason, size_t reason_size);

/// Whether this CPU and OS can run the kernel (CPUID feature bits and XGETBV state bits).
int aeg_kernel_supported(aeg_kernel kernel);

#ifdef __cplusplus
}
#endif

#endif
