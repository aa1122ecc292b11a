// Inference of fully connected layers on pre-packed weights: y = act(x · Wᵀ + b).
//
// The weight matrix is packed once into the micro-kernel's column panels (as ONNX Runtime's MLAS
// does) and reused by every call until the weights change; the input rows are read where they
// are (no packing of A), the bias is the accumulators' starting value and ReLU is applied while
// a tile is in registers. One sample (and a few) runs a matrix–vector kernel over the same
// panels, summing each output in the same order as the batch kernel, so a sample's result does
// not depend on the batch it is in. Internal to the library (names aeg_*); docs/ARCHITECTURE.md,
// "Inference on pre-packed weights".
#ifndef AEDENSE_H
#define AEDENSE_H

#ifdef __cplusplus
extern "C" {
#endif

/// Weights packed for one kernel (opaque).
typedef struct aeg_packed_weights aeg_packed_weights;

/// Packs W for y = x · Wᵀ: W is [n, k] row-major (row stride ldw) when `k_by_n` is 0, or [k, n]
/// (y = x · W, a tied decoder's borrowed encoder weight) when it is 1. Returns NULL when no packed
/// kernel should run (the CPU has neither AVX-512F nor AVX2 + FMA, or AE_GEMM / aeg_select asked
/// for OpenBLAS by name) or memory is short: the caller then uses its ordinary path.
aeg_packed_weights *aeg_pack_weights(int k_by_n, long n, long k, const float *w, long ldw);

/// The kernel packs are made for now: the GEMM kernel in use when it is one of the packed ones;
/// when it is OpenBLAS, the widest packed kernel this CPU runs, unless OpenBLAS was asked for by
/// name (AE_GEMM=openblas, aeg_select("openblas")); -1 for none (the ordinary path).
int aeg_dense_kernel(void);

/// Frees a pack (NULL is ignored).
void aeg_packed_weights_free(aeg_packed_weights *packed);

/// Floats the pack holds (for memory accounting).
long aeg_packed_weights_floats(const aeg_packed_weights *packed);

/// y[m, n] (row stride ldy) = act(x[m, k] (row stride ldx) · Wᵀ + bias), bias [n] or NULL,
/// act = ReLU when `relu` is 1, identity when 0. `threads` as aeg_sgemm's.
void aeg_dense_infer(const aeg_packed_weights *packed, long m, const float *x, long ldx, const float *bias,
                     int relu, float *y, long ldy, int threads);


#ifdef __cplusplus
}
#endif

#endif
