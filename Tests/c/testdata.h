/* Specs and synthetic data shared by the C tests. */
#ifndef AE_TESTS_TESTDATA_H
#define AE_TESTS_TESTDATA_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "autoencoders.h"

/* The classic dense autoencoder: 100 -> 50 -> 25 -> 10 -> 25 -> 50 -> 100, ReLU throughout. */
static const char *const classic_spec =
    "{\"input_size\": 100,"
    " \"encoder\": [{\"type\": \"dense\", \"units\": 50, \"activation\": \"relu\"},"
    "               {\"type\": \"dense\", \"units\": 25, \"activation\": \"relu\"},"
    "               {\"type\": \"dense\", \"units\": 10, \"activation\": \"relu\"}],"
    " \"decoder\": [{\"type\": \"dense\", \"units\": 25, \"activation\": \"relu\"},"
    "               {\"type\": \"dense\", \"units\": 50, \"activation\": \"relu\"},"
    "               {\"type\": \"dense\", \"units\": 100, \"activation\": \"relu\"}],"
    " \"loss\": \"mse\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.001}, \"seed\": 7}";

/* A tiny model (4 -> 2 -> 4) for tests that repeat a call many times. */
static const char *const tiny_spec =
    "{\"input_size\": 4,"
    " \"encoder\": [{\"type\": \"dense\", \"units\": 2, \"activation\": \"tanh\"}],"
    " \"decoder\": [{\"type\": \"dense\", \"units\": 4}],"
    " \"loss\": \"mse\", \"optimizer\": {\"type\": \"sgd\", \"lr\": 0.05, \"momentum\": 0.9}, \"seed\": 3}";

/* A deterministic generator (SplitMix64), so every run sees the same data. */
static uint64_t testdata_state = 0x1234567;

static inline double testdata_uniform(void) {
    uint64_t z = (testdata_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

/* n samples of d features with low-rank structure (3 latent factors) plus a little noise, in
 * [0, 1]: something an autoencoder can learn. Caller frees. */
static inline float *testdata_make(size_t n, size_t d, uint64_t seed) {
    float *x = (float *)malloc(n * d * sizeof(float));
    size_t i, j;
    testdata_state = seed;
    if (!x) return NULL;
    for (i = 0; i < n; i++) {
        double a = testdata_uniform(), b = testdata_uniform(), c = testdata_uniform();
        for (j = 0; j < d; j++) {
            double t = (double)j / (double)d;
            double v = 0.5 + 0.25 * a * sin(6.2831853 * t) + 0.2 * b * cos(12.566 * t) + 0.1 * c * t +
                       0.02 * (testdata_uniform() - 0.5);
            x[i * d + j] = (float)v;
        }
    }
    return x;
}

#endif
