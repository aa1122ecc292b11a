// The LSTM cell step (aelstm.h) for each instruction set: lstm_cell_lanes.h instantiated for
// AVX-512F (16 floats), AVX2 + FMA (8) and scalar C (1, also each row's last units when H is not
// a multiple of the vector), and the choice among them, made once from what the CPU and the OS
// support (aeg_kernel_supported), whatever GEMM kernel runs. The vector instructions are enabled
// per function by attribute, as in the GEMM kernels, so nothing else is compiled for them.
#include <pthread.h>
#include <string.h>

#include "aegemm.h"
#include "aelstm.h"

#define AEG_LANES_SCALAR
#include "lanes_isa.h"
#define AEG_TAIL_FORWARD(...) ((void)0)
#define AEG_TAIL_BACKWARD(...) ((void)0)
#include "lstm_cell_lanes.h"
#include "lanes_end.h"
#undef AEG_TAIL_FORWARD
#undef AEG_TAIL_BACKWARD

// The vector versions finish a row's last H mod VN units with the scalar code.
#define AEG_TAIL_FORWARD forward_row_scalar
#define AEG_TAIL_BACKWARD backward_row_scalar

#define AEG_LANES_AVX2
#include "lanes_isa.h"
#include "lstm_cell_lanes.h"
#include "lanes_end.h"

#define AEG_LANES_AVX512
#include "lanes_isa.h"
#include "lstm_cell_lanes.h"
#include "lanes_end.h"

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
