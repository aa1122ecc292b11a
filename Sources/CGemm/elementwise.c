// The training step's element-wise passes (aeelementwise.h) for each instruction set:
// elementwise_lanes.h instantiated for scalar C, AVX2 and AVX-512F, and the choice among them,
// made once from what the CPU and the OS support (aeg_kernel_supported), whatever GEMM kernel runs.
#include <pthread.h>
#include <string.h>

#include "aeelementwise.h"
#include "aegemm.h"

// Every instance must round as the Swift formulas do: a * b + c stays a multiply and an add.
#pragma clang fp contract(off)

#define AEG_LANES_SCALAR
#include "lanes_isa.h"
#include "elementwise_lanes.h"
#include "lanes_end.h"

#define AEG_LANES_AVX2
#include "lanes_isa.h"
#include "elementwise_lanes.h"
#include "lanes_end.h"

#define AEG_LANES_AVX512
#include "lanes_isa.h"
#include "elementwise_lanes.h"
#include "lanes_end.h"

// The choice.

typedef struct {
    const char *name;
    int requires; // the aeg_kernel whose instructions it needs, or -1 (scalar C runs everywhere)
    void (*adam)(long, float *, float *, float *, float *, float, float, float, float, float, float, float);
    double (*sigmoid_bce)(long, const float *, const float *, float *, float);
    void (*relu)(long, const float *, float *);
    void (*relu_gradient)(long, const float *, const float *, float *, int);
    void (*add)(long, const float *, float *);
    void (*sigmoid)(long, const float *, float *);
} instruction_set;

static const instruction_set sets[] = {
    {"avx512", AEG_KERNEL_AVX512, adam_avx512, sigmoid_bce_avx512, relu_avx512, relu_gradient_avx512, add_avx512, sigmoid_avx512},
    {"avx2", AEG_KERNEL_AVX2, adam_avx2, sigmoid_bce_avx2, relu_avx2, relu_gradient_avx2, add_avx2, sigmoid_avx2},
    {"scalar", -1, adam_scalar, sigmoid_bce_scalar, relu_scalar, relu_gradient_scalar, add_scalar, sigmoid_scalar},
};
enum { set_count = sizeof sets / sizeof sets[0] };

static const instruction_set *chosen = &sets[set_count - 1];
static pthread_once_t choose_once = PTHREAD_ONCE_INIT;

static int runs_here(const instruction_set *set) {
    return set->requires < 0 || aeg_kernel_supported((aeg_kernel)set->requires);
}

static const instruction_set *widest(void) {
    int s = 0;
    while (!runs_here(&sets[s])) s++;
    return &sets[s];
}

static void choose(void) { chosen = widest(); }

static const instruction_set *current(void) {
    pthread_once(&choose_once, choose);
    return chosen;
}

void aeg_adam_update(long count, float *parameters, float *gradients, float *first_moment, float *second_moment,
                     float beta1, float beta2, float epsilon, float step_size, float inverse_bias_correction2,
                     float coupled_decay, float shrink) {
    current()->adam(count, parameters, gradients, first_moment, second_moment, beta1, beta2, epsilon, step_size,
                    inverse_bias_correction2, coupled_decay, shrink);
}

double aeg_sigmoid_bce(long count, const float *logits, const float *target, float *gradient, float scale) {
    return current()->sigmoid_bce(count, logits, target, gradient, scale);
}

void aeg_relu(long count, const float *x, float *y) { current()->relu(count, x, y); }

void aeg_relu_gradient(long count, const float *x, const float *dy, float *dx, int accumulate) {
    current()->relu_gradient(count, x, dy, dx, accumulate);
}

void aeg_add(long count, const float *source, float *target) { current()->add(count, source, target); }

void aeg_sigmoid(long count, const float *x, float *y) { current()->sigmoid(count, x, y); }

const char *aeg_elementwise_instruction_set(void) { return current()->name; }

int aeg_elementwise_select(const char *name) {
    pthread_once(&choose_once, choose);
    if (strcmp(name, "auto") == 0) {
        chosen = widest();
        return 0;
    }
    for (int s = 0; s < set_count; s++)
        if (strcmp(name, sets[s].name) == 0) {
            if (!runs_here(&sets[s])) return -1;
            chosen = &sets[s];
            return 0;
        }
    return -1;
}
