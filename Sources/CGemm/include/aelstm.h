// The LSTM cell's element-wise step in wide vectors: the gate nonlinearities, the cell update and
// their gradients for a block of samples, in AVX-512F or AVX2 + FMA when the CPU and the OS have
// them (chosen once, from CPUID and XGETBV as the GEMM kernels are), in scalar C otherwise. The
// GEMMs around it stay in aeg_sgemm. Used by the recurrent layer (Layers/LSTM.swift), where the
// equations are; internal to the library (names aeg_*, outside the C ABI's ae_* symbols).
//
// Rows: sample s of the block is at `pointer + s * stride` for every argument; H = `hidden`.
// sigmoid and tanh are the library's FastMath formulas (a degree-6 polynomial exp, relative
// error < 2e-7; tanh by its Taylor series below |x| = 1/8), the same in every instruction set
// up to the rounding of fused multiply-adds.
#ifndef AELSTM_H
#define AELSTM_H

#ifdef __cplusplus
extern "C" {
#endif

/// Forward step of `count` samples. On entry `gates` [4H] holds a = W_hh h_{t-1} (+ W_ih x_t);
/// `projection` [4H] (or NULL) is added to it, and `bias` [4H] (b_ih + b_hh). On exit `gates`
/// holds i, f, g, o (sigmoid, sigmoid, tanh, sigmoid of a, blocks of H in that order), and
///     c = f * c_prev + i * g,   tanh_c = tanh(c),   h = o * tanh_c      ([H] each).
void aeg_lstm_forward(long count, long hidden, float *gates, long gates_stride, const float *projection,
                      long projection_stride, const float *bias, const float *c_prev, long c_prev_stride, float *c,
                      float *tanh_c, long cell_stride, float *h, long h_stride);

/// Backward step of `count` samples, from the forward gates i, f, g, o, tanh c_t and c_{t-1}:
/// with dh = `dh` (+ `d_output`, or NULL) and the running dc,
///     dc  += dh * o * (1 - tanh_c^2)
///     da_i = dc * g * i(1 - i),   da_f = dc * c_prev * f(1 - f),
///     da_g = dc * i * (1 - g^2),  da_o = dh * tanh_c * o(1 - o)
/// written to `da` [4H]; then dc *= f (the gradient for c_{t-1}) in place.
void aeg_lstm_backward(long count, long hidden, const float *gates, long gates_stride, const float *tanh_c,
                       long tanh_c_stride, const float *c_prev, long c_prev_stride, const float *d_output,
                       long d_output_stride, const float *dh, long dh_stride, float *dc, long dc_stride, float *da,
                       long da_stride);

/// The instruction set the two functions above use here: "avx512", "avx2" or "scalar".
const char *aeg_lstm_instruction_set(void);

/// For the tests: runs the functions above in "avx512", "avx2" or "scalar" from now on (not while
/// another thread calls them). Returns 0; -1, changing nothing, for an unknown name or an
/// instruction set this CPU or OS lacks.
int aeg_lstm_select(const char *name);

#ifdef __cplusplus
}
#endif

#endif
