/*
 * classic: the textbook first autoencoder, 100 -> 50 -> 25 -> 10 -> 25 -> 50 -> 100 with ReLU,
 * trained on synthetic data that lies near a 10-dimensional subspace, then used to encode and
 * reconstruct. The shortest complete use of the C API.
 *
 * The textbook puts a ReLU after the last layer too (examples/specs/classic_100_50_25_10.json
 * has it exactly); here the output layer is linear, because an output unit whose ReLU starts
 * negative for every sample gets no gradient and never recovers.
 */
#include <autoencoders.h>
#include <stdio.h>
#include <stdlib.h>

#define SAMPLES 2000
#define FEATURES 100
#define CODE 10

static const char *SPEC =
    "{\"input_size\": 100,"
    " \"encoder\": [{\"type\": \"dense\", \"units\": 50, \"activation\": \"relu\"},"
    "             {\"type\": \"dense\", \"units\": 25, \"activation\": \"relu\"},"
    "             {\"type\": \"dense\", \"units\": 10, \"activation\": \"relu\"}],"
    " \"decoder\": [{\"type\": \"dense\", \"units\": 25, \"activation\": \"relu\"},"
    "             {\"type\": \"dense\", \"units\": 50, \"activation\": \"relu\"},"
    "             {\"type\": \"dense\", \"units\": 100}],"
    " \"loss\": \"mse\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.002}, \"seed\": 7}";

static float uniform(unsigned *state) {
    *state = *state * 1664525u + 1013904223u;
    return (float)(*state >> 8) / 16777216.0f;
}

int main(void) {
    /* Data: non-negative mixtures of 10 fixed patterns, plus a little noise. */
    static float patterns[CODE][FEATURES], data[SAMPLES * FEATURES];
    unsigned seed = 1;
    for (int k = 0; k < CODE; k++)
        for (int j = 0; j < FEATURES; j++) patterns[k][j] = uniform(&seed);
    for (int i = 0; i < SAMPLES; i++)
        for (int k = 0; k < CODE; k++) {
            float weight = uniform(&seed) * 0.2f;
            for (int j = 0; j < FEATURES; j++) data[i * FEATURES + j] += weight * patterns[k][j] + 0.001f * uniform(&seed);
        }

    ae_model *model = NULL;
    if (ae_model_create(SPEC, &model) != AE_OK) {
        fprintf(stderr, "%s\n", ae_last_error());
        return 1;
    }
    ae_train_options options;
    ae_train_options_init(&options, sizeof options);
    options.epochs = 60;
    options.batch_size = 64;
    options.validation_split = 0.1f;
    options.patience = 10;
    ae_train_report report = {sizeof report, 0, AE_STOP_COMPLETED, 0, 0, 0, 0, 0};
    if (ae_model_train(model, data, SAMPLES, SAMPLES * FEATURES, &options, &report) != AE_OK) {
        fprintf(stderr, "%s\n", ae_last_error());
        ae_model_free(model);
        return 1;
    }
    printf("trained %zu epochs: loss %.6f, validation loss %.6f\n", report.epochs_run, report.final_train_loss,
           report.final_validation_loss);

    float code[CODE], reconstruction[FEATURES];
    ae_model_encode(model, data, 1, FEATURES, code, CODE);
    ae_model_reconstruct(model, data, 1, FEATURES, reconstruction, FEATURES);
    printf("sample 0 code:");
    for (int k = 0; k < CODE; k++) printf(" %.3f", code[k]);
    printf("\nsample 0: x[0..4] = %.3f %.3f %.3f %.3f %.3f\n", data[0], data[1], data[2], data[3], data[4]);
    printf("       x_hat[0..4] = %.3f %.3f %.3f %.3f %.3f\n", reconstruction[0], reconstruction[1],
           reconstruction[2], reconstruction[3], reconstruction[4]);
    ae_model_free(model);
    return 0;
}
