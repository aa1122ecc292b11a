// Square root without errno, for the core's vectorised loops (the optimizer updates).
//
// Swift's Float.squareRoot() goes through the C sqrtf, which by default may set errno: the
// compiler then keeps a scalar sqrtss plus a call for negative inputs, and the loop does not
// vectorise. __builtin_elementwise_sqrt is llvm.sqrt, which never touches errno, so the loops
// become sqrtps without the -fno-math-errno flag (an unsafeFlag that would stop Swift packages
// from depending on this one by version). Inputs here are never negative.
#ifndef AE_SQRT_H
#define AE_SQRT_H

static inline float ae_sqrtf(float x) {
#if defined(__has_builtin) && __has_builtin(__builtin_elementwise_sqrt)
    return __builtin_elementwise_sqrt(x);
#else
    return __builtin_sqrtf(x);
#endif
}

#endif
