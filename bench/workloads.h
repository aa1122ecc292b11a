/*
 * The benchmark workloads of docs/BENCHMARKS.md as specs: bench.c measures them, startup.c
 * takes W1 apart (bench/reference.py and bench/pytorch_w*.py build the same networks in PyTorch
 * and ONNX). Macros, so that a program using only some of them compiles without warnings.
 */
#ifndef AE_BENCH_WORKLOADS_H
#define AE_BENCH_WORKLOADS_H

#define W1_SPEC \
    "{\"input_size\": 784," \
    " \"encoder\": [{\"type\": \"dense\", \"units\": 512, \"activation\": \"relu\"}," \
    "             {\"type\": \"dense\", \"units\": 128, \"activation\": \"relu\"}," \
    "             {\"type\": \"dense\", \"units\": 32, \"activation\": \"relu\"}]," \
    " \"decoder\": [{\"type\": \"dense\", \"units\": 128, \"activation\": \"relu\"}," \
    "             {\"type\": \"dense\", \"units\": 512, \"activation\": \"relu\"}," \
    "             {\"type\": \"dense\", \"units\": 784, \"activation\": \"sigmoid\"}]," \
    " \"loss\": \"bce\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.001}, \"init\": \"pytorch\"}"

#define W2_SPEC \
    "{\"input_shape\": [1, 28, 28]," \
    " \"encoder\": [{\"type\": \"conv2d\", \"filters\": 16, \"kernel\": 3, \"padding\": 1, \"activation\": \"relu\"}," \
    "             {\"type\": \"max_pool2d\", \"kernel\": 2}," \
    "             {\"type\": \"conv2d\", \"filters\": 32, \"kernel\": 3, \"padding\": 1, \"activation\": \"relu\"}," \
    "             {\"type\": \"max_pool2d\", \"kernel\": 2}]," \
    " \"decoder\": [{\"type\": \"conv_transpose2d\", \"filters\": 16, \"kernel\": 3, \"stride\": 2, \"padding\": 1," \
    "               \"output_padding\": 1, \"activation\": \"relu\"}," \
    "             {\"type\": \"conv_transpose2d\", \"filters\": 1, \"kernel\": 3, \"stride\": 2, \"padding\": 1," \
    "               \"output_padding\": 1, \"activation\": \"sigmoid\"}]," \
    " \"loss\": \"bce\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.001}, \"init\": \"pytorch\"}"

#define W4_SPEC \
    "{\"input_size\": 784," \
    " \"encoder\": [{\"type\": \"dense\", \"units\": 400, \"activation\": \"relu\"}," \
    "             {\"type\": \"variational\", \"units\": 20}]," \
    " \"decoder\": [{\"type\": \"dense\", \"units\": 400, \"activation\": \"relu\"}," \
    "             {\"type\": \"dense\", \"units\": 784, \"activation\": \"sigmoid\"}]," \
    " \"loss\": \"bce\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.001}, \"init\": \"pytorch\"}"

#define W5_SPEC \
    "{\"input_size\": 100," \
    " \"encoder\": [{\"type\": \"dense\", \"units\": 50, \"activation\": \"relu\"}," \
    "             {\"type\": \"dense\", \"units\": 25, \"activation\": \"relu\"}," \
    "             {\"type\": \"dense\", \"units\": 10, \"activation\": \"relu\"}]," \
    " \"decoder\": [{\"type\": \"dense\", \"units\": 25, \"activation\": \"relu\"}," \
    "             {\"type\": \"dense\", \"units\": 50, \"activation\": \"relu\"}," \
    "             {\"type\": \"dense\", \"units\": 100, \"activation\": \"relu\"}]," \
    " \"loss\": \"mse\", \"init\": \"pytorch\"}"

/* W6: the classic LSTM autoencoder, encoder LSTM(32->64) -> last state -> repeat 50 -> decoder
 * LSTM(64->64) -> per-step dense 64->32, MSE, Adam (bench/pytorch_w6.py is the same in PyTorch). */
#define W6_SPEC \
    "{\"input_shape\": [50, 32]," \
    " \"encoder\": [{\"type\": \"lstm\", \"units\": 64, \"return\": \"last\"}]," \
    " \"decoder\": [{\"type\": \"repeat\", \"steps\": 50}," \
    "             {\"type\": \"lstm\", \"units\": 64}," \
    "             {\"type\": \"time_distributed_dense\", \"units\": 32}]," \
    " \"loss\": \"mse\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.001}, \"init\": \"pytorch\"}"

#endif
