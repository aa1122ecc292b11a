// The training step's element-wise passes in wide vectors: the Adam update, the fused sigmoid +
// binary cross-entropy, ReLU with its gradient, sigmoid and the sums of partial gradients, in AVX-512F or AVX2 when the CPU and the OS
// have them (chosen once, from CPUID and XGETBV as the GEMM kernels are), in scalar C otherwise.
// The Swift core is compiled for the x86-64 baseline, where its loops vectorise to 4 floats; these
// passes were 15-19 % of a W1 or W4 step at one thread. Internal to the library (names aeg_*,
// outside the C ABI's ae_* symbols); the formulas and their callers are in the Swift core
// (Optimizers/Adam.swift, Losses/ReconstructionLoss.swift, Layers/Activation.swift).
//
// Every result is the same bit for bit in every instruction set, and the same as the Swift
// formulas it replaces: no operation is fused (each rounds as a separate multiply and add would)
// and sums are formed in an order that does not depend on the vector width.
#ifndef AEELEMENTWISE_H
#define AEELEMENTWISE_H

#ifdef __cplusplus
extern "C" {
#endif

/// Adam's update of `count` parameters, PyTorch's rule, with the gradient zeroed for the next step:
///     g = gradients[i] + coupled_decay * parameters[i];   gradients[i] = 0
///     m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g g
///     parameters[i] = parameters[i] * shrink - step_size * m / (sqrt(v) * inverse_bias_correction2 + epsilon)
/// (Adam: coupled_decay = weight decay, shrink = 1; AdamW: coupled_decay = 0, shrink = 1 - lr wd;
/// step_size = lr / (1 - beta1^t), inverse_bias_correction2 = 1 / sqrt(1 - beta2^t)).
void aeg_adam_update(long count, float *parameters, float *gradients, float *first_moment, float *second_moment,
                     float beta1, float beta2, float epsilon, float step_size, float inverse_bias_correction2,
                     float coupled_decay, float shrink);

/// Sigmoid + binary cross-entropy from logits z against targets t, elements 0 ..< count:
/// gradient[i] = scale * (sigmoid(z) - t), and returns the sum of the per-element losses
/// max(z, 0) - z t + log(1 + e^-|z|) (each clamped at 100, as PyTorch clamps the log at -100).
/// The sum runs over blocks of 1,024 elements from the start: within a block, element j goes to
/// lane j mod 16, the 16 lanes are added in order into a float, and the blocks into a double.
double aeg_sigmoid_bce(long count, const float *logits, const float *target, float *gradient, float scale);

/// y = x where x > 0, else 0 (NaN gives 0). x and y may be the same.
void aeg_relu(long count, const float *x, float *y);

/// dx (+)= dy where x > 0, else 0: dx = that when accumulate is 0, dx + that otherwise.
void aeg_relu_gradient(long count, const float *x, const float *dy, float *dx, int accumulate);

/// target[i] += source[i] for i < count (partial gradients into the whole; col2im's runs).
void aeg_add(long count, const float *source, float *target);

/// y = sigmoid(x) = 1 / (1 + e^-x), as Math.swift's `sigmoid` (e = e^-|x| by FastMath.exp,
/// p = 1 / (1 + e), then p or e p): sigmoid layers, and the output of a logits loss at inference.
/// x and y may be the same.
void aeg_sigmoid(long count, const float *x, float *y);

/// The instruction set the functions above use here: "avx512", "avx2" or "scalar".
const char *aeg_elementwise_instruction_set(void);

/// For the tests: runs the functions above in "avx512", "avx2" or "scalar" from now on (not while
/// another thread calls them); "auto" returns to the widest. Returns 0; -1, changing nothing, for
/// an unknown name or an instruction set this CPU or OS lacks.
int aeg_elementwise_select(const char *name);

#ifdef __cplusplus
}
#endif

#endif
