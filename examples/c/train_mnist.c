/*
 * train_mnist: trains two autoencoders on the 4,000 MNIST training images and saves them.
 *
 *   linear.aem  784 -> 32 -> 784, no activations, MSE: the linear autoencoder, whose optimum is
 *               the PCA subspace with 32 components (Eckart-Young)
 *   deep.aem    784 -> 512 -> 128 -> 32 -> 128 -> 512 -> 784, ReLU, sigmoid output,
 *               binary cross-entropy: the W1 workload of the benchmarks
 *
 * The models carry their input scaling (pixels / 255), so callers pass raw pixel values.
 *
 *   usage: train_mnist DATA_DIR OUT_DIR [linear_epochs deep_epochs]
 */
#include <autoencoders.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "npy.h"

static const char *LINEAR_SPEC =
    "{\"name\": \"linear-32\", \"input_size\": 784,"
    " \"encoder\": [{\"type\": \"dense\", \"units\": 32}],"
    " \"decoder\": [{\"type\": \"dense\", \"units\": 784}],"
    " \"loss\": \"mse\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.001}, \"seed\": 1}";

static const char *DEEP_SPEC =
    "{\"name\": \"deep-32\", \"input_size\": 784,"
    " \"encoder\": [{\"type\": \"dense\", \"units\": 512, \"activation\": \"relu\"},"
    "             {\"type\": \"dense\", \"units\": 128, \"activation\": \"relu\"},"
    "             {\"type\": \"dense\", \"units\": 32, \"activation\": \"relu\"}],"
    " \"decoder\": [{\"type\": \"dense\", \"units\": 128, \"activation\": \"relu\"},"
    "             {\"type\": \"dense\", \"units\": 512, \"activation\": \"relu\"},"
    "             {\"type\": \"dense\", \"units\": 784, \"activation\": \"sigmoid\"}],"
    " \"loss\": \"bce\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.001}, \"seed\": 1}";

/* Prints one line every tenth of the run. */
static int report(const ae_progress *progress, void *user_data) {
    const char *name = user_data;
    size_t every = progress->epochs >= 10 ? progress->epochs / 10 : 1;
    if ((progress->epoch + 1) % every == 0 || progress->epoch + 1 == progress->epochs)
        printf("  %-9s epoch %3zu/%zu  loss %.5f  %5.1f s\n", name, progress->epoch + 1, progress->epochs,
               progress->train_loss, progress->elapsed_seconds);
    fflush(stdout);
    return 0;
}

static int check(ae_status status, const char *what) {
    if (status == AE_OK) return 0;
    fprintf(stderr, "train_mnist: %s failed: %s: %s\n", what, ae_status_string(status), ae_last_error());
    return 1;
}

static int train(const char *name, const char *spec, const npy_array *images, size_t epochs, const char *path) {
    ae_model *model = NULL;
    if (check(ae_model_create(spec, &model), "ae_model_create")) return 1;

    /* Pixels arrive as 0..255; the model stores x' = x / 255 and undoes it on reconstructions. */
    float offset[784], scale[784];
    for (int i = 0; i < 784; i++) { offset[i] = 0.0f; scale[i] = 255.0f; }
    int failed = check(ae_model_set_input_scaling(model, offset, scale, 784), "ae_model_set_input_scaling");

    ae_train_options options;
    ae_train_options_init(&options, sizeof options);
    options.epochs = epochs;
    options.batch_size = 256;
    options.progress = report;
    options.user_data = (void *)name;
    ae_train_report result = {sizeof(ae_train_report), 0, AE_STOP_COMPLETED, 0, 0, 0, 0, 0};
    size_t n = images->shape[0];
    if (!failed) failed = check(ae_model_train(model, images->data, n, images->count, &options, &result), "ae_model_train");
    if (!failed) {
        printf("  %-9s %zu epochs in %.1f s (%.0f samples/s), final loss %.5f\n", name, result.epochs_run,
               result.seconds, (double)(n * result.epochs_run) / result.seconds, result.final_train_loss);
        failed = check(ae_model_save(model, path, 1), "ae_model_save");
    }
    ae_model_free(model);
    return failed;
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 5) {
        fprintf(stderr, "usage: %s DATA_DIR OUT_DIR [linear_epochs deep_epochs]\n", argv[0]);
        return 2;
    }
    size_t linear_epochs = argc == 5 ? strtoul(argv[3], NULL, 10) : 200;
    size_t deep_epochs = argc == 5 ? strtoul(argv[4], NULL, 10) : 100;
    char path[4096];
    snprintf(path, sizeof path, "%s/mnist5k_train_X.npy", argv[1]);
    npy_array images;
    if (npy_load(path, &images) != 0) return 1;
    printf("training on %zu images of %zux%zu (libautoencoders %s)\n", images.shape[0], images.shape[1],
           images.shape[2], ae_version_string());

    int failed = 0;
    snprintf(path, sizeof path, "%s/linear.aem", argv[2]);
    failed |= train("linear-32", LINEAR_SPEC, &images, linear_epochs, path);
    snprintf(path, sizeof path, "%s/deep.aem", argv[2]);
    if (!failed) failed |= train("deep-32", DEEP_SPEC, &images, deep_epochs, path);
    free(images.data);
    return failed;
}
