/* A C program built against an installed libautoencoders with `pkg-config --cflags --libs`:
 * checks the version, trains a small dense autoencoder a few steps and reconstructs. Prints
 * "ok <version> <first loss> <last loss>" and exits 0 when the loss went down. */
#include <autoencoders.h>
#include <stdio.h>
#include <string.h>

#define N 64
#define SIZE 16

static int fail(const char *what) {
    fprintf(stderr, "%s: %s\n", what, ae_last_error());
    return 1;
}

int main(void) {
    if (ae_version_major() != AE_VERSION_MAJOR || ae_version_minor() != AE_VERSION_MINOR) {
        fprintf(stderr, "header %d.%d, library %s\n", AE_VERSION_MAJOR, AE_VERSION_MINOR, ae_version_string());
        return 1;
    }
    static float data[N * SIZE], output[N * SIZE];
    for (size_t i = 0; i < N * SIZE; i++) data[i] = (float)((i * 7919) % 101) / 100.0f;

    ae_model *model = NULL;
    ae_trainer *trainer = NULL;
    if (ae_model_create("{\"input_size\": 16, \"seed\": 1,"
                        " \"encoder\": [{\"type\": \"dense\", \"units\": 4, \"activation\": \"tanh\"}],"
                        " \"decoder\": [{\"type\": \"dense\", \"units\": 16}],"
                        " \"optimizer\": {\"type\": \"adam\", \"lr\": 0.01}}", &model) != AE_OK)
        return fail("ae_model_create");
    if (ae_trainer_create(model, N, &trainer) != AE_OK) return fail("ae_trainer_create");
    double first = 0, loss = 0;
    for (int step = 0; step < 50; step++) {
        if (ae_trainer_step(trainer, data, N, N * SIZE, &loss) != AE_OK) return fail("ae_trainer_step");
        if (step == 0) first = loss;
    }
    if (ae_model_reconstruct(model, data, N, N * SIZE, output, N * SIZE) != AE_OK) return fail("ae_model_reconstruct");
    ae_trainer_free(trainer);
    ae_model_free(model);
    printf("ok %s %.4f %.4f\n", ae_version_string(), first, loss);
    return loss < first ? 0 : 1;
}
