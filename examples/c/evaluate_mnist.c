/*
 * evaluate_mnist: loads saved autoencoders and measures them on the 1,000 MNIST test images:
 * test MSE (pixels in [0, 1]), the per-image anomaly score, and the reconstructions and codes,
 * written as .npy files for plotting.
 *
 *   usage: evaluate_mnist DATA_DIR MODEL.aem... (writes MODEL.recon.npy and MODEL.codes.npy)
 */
#include <autoencoders.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"

static int evaluate(const char *path, const npy_array *images) {
    ae_model *model = NULL;
    if (ae_model_load(path, &model) != AE_OK) {
        fprintf(stderr, "evaluate_mnist: %s\n", ae_last_error());
        return 1;
    }
    size_t n = images->shape[0], d = 0, code_size = 0;
    ae_model_input_size(model, &d);
    ae_model_code_size(model, &code_size);
    float *recon = malloc(n * d * sizeof(float));
    float *codes = malloc(n * code_size * sizeof(float));
    float *scores = malloc(n * sizeof(float));
    int failed = !recon || !codes || !scores
        || ae_model_reconstruct(model, images->data, n, images->count, recon, n * d) != AE_OK
        || ae_model_encode(model, images->data, n, images->count, codes, n * code_size) != AE_OK
        || ae_model_score(model, images->data, n, images->count, scores, n) != AE_OK;
    if (failed) {
        fprintf(stderr, "evaluate_mnist: %s: %s\n", path, ae_last_error());
    } else {
        /* Reconstructions come back as raw pixels (the model undoes its scaling). */
        double sum = 0, mean_score = 0;
        for (size_t i = 0; i < n * d; i++) {
            double diff = (recon[i] - images->data[i]) / 255.0;
            sum += diff * diff;
        }
        for (size_t i = 0; i < n; i++) mean_score += scores[i] / n;
        size_t parameters = 0;
        ae_model_parameter_count(model, &parameters);
        printf("%-28s test MSE %.5f   mean score %.5f   code %zu   parameters %zu\n", path, sum / (double)(n * d),
               mean_score, code_size, parameters);

        char out[4096];
        size_t shape[3] = {n, 28, 28}, code_shape[2] = {n, code_size};
        snprintf(out, sizeof out, "%.*s.recon.npy", (int)(strlen(path) - 4), path);
        failed |= npy_save(out, recon, shape, 3);
        snprintf(out, sizeof out, "%.*s.codes.npy", (int)(strlen(path) - 4), path);
        failed |= npy_save(out, codes, code_shape, 2);
    }
    free(recon);
    free(codes);
    free(scores);
    ae_model_free(model);
    return failed;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s DATA_DIR MODEL.aem...\n", argv[0]);
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/mnist5k_test_X.npy", argv[1]);
    npy_array images;
    if (npy_load(path, &images) != 0) return 1;
    int failed = 0;
    for (int i = 2; i < argc; i++) failed |= evaluate(argv[i], &images);
    free(images.data);
    return failed;
}
