/* Shared by the C harnesses: exercising a model briefly, the way an application would after
 * creating or loading it. A harness reports a finding by aborting (libFuzzer saves the input):
 * a crash or sanitizer report inside the library, or a broken promise of the C ABI, such as a
 * model the library saved and then refuses to load. */
#ifndef FUZZ_HARNESS_H
#define FUZZ_HARNESS_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoencoders.h"

/* Inference on one sample runs only when the model is this small, so that every input is fast
 * enough for the fuzzer (the sizes a model may have are the library's business, not the
 * harness's: creating and loading are exercised whatever the sizes). */
enum { FUZZ_MAX_FEATURES = 1 << 16, FUZZ_MAX_PARAMETERS = 1 << 22 };

static void fuzz_fail(const char *what, ae_status status) {
    fprintf(stderr, "fuzz: broken promise: %s: %s: %s\n", what, ae_status_string(status), ae_last_error());
    abort();
}

static void fuzz_init(void) {
    static int done = 0;
    if (!done) {
        done = 1;
        ae_set_num_threads(1); /* the machine is shared; one fuzzer process uses one core */
    }
}

/* One sample through every inference entry point that applies to the model; errors are fine
 * (a model may not decode, may not be a segmentation model), crashes are not. */
static void fuzz_exercise(const ae_model *model, uint8_t salt) {
    size_t features = 0, code = 0, classes = 0, labels = 0, parameters = 0;
    if (ae_model_input_size(model, &features) != AE_OK || ae_model_code_size(model, &code) != AE_OK ||
        ae_model_class_count(model, &classes) != AE_OK || ae_model_label_size(model, &labels) != AE_OK ||
        ae_model_parameter_count(model, &parameters) != AE_OK) {
        fuzz_fail("the size queries of a valid model", AE_ERR_INTERNAL);
    }
    size_t rank = 0, dims[8];
    (void)ae_model_input_shape(model, dims, 8, &rank);
    const char *spec = NULL;
    (void)ae_model_spec(model, &spec);
    size_t tensors = 0;
    if (ae_model_tensor_count(model, &tensors) == AE_OK && tensors > 0) {
        const char *name = NULL;
        size_t tensor_rank = 0, tensor_dims[8], count = 0;
        (void)ae_model_tensor_info(model, 0, &name, tensor_dims, 8, &tensor_rank, &count);
    }
    if (features == 0 || features > FUZZ_MAX_FEATURES || code > FUZZ_MAX_FEATURES || labels > FUZZ_MAX_FEATURES ||
        parameters > FUZZ_MAX_PARAMETERS) {
        return;
    }
    float *input = malloc(features * sizeof(float)), *output = malloc(features * sizeof(float));
    float *codes = malloc((code ? code : 1) * sizeof(float)), *logvar = malloc((code ? code : 1) * sizeof(float));
    int32_t *segments = malloc((labels ? labels : 1) * sizeof(int32_t));
    if (!input || !output || !codes || !logvar || !segments) abort();
    for (size_t i = 0; i < features; i++) input[i] = (float)((i * 37 + salt) % 101) / 100.0f;

    float score = 0, threshold = 0;
    int32_t label = 0;
    int has_threshold = 0, can_decode = 0;
    if (classes > 0) {
        (void)ae_model_segment(model, input, 1, features, segments, labels);
    } else {
        (void)ae_model_reconstruct(model, input, 1, features, output, features);
        (void)ae_model_score(model, input, 1, features, &score, 1);
    }
    if (code > 0) {
        (void)ae_model_encode(model, input, 1, features, codes, code);
        (void)ae_model_encode_distribution(model, input, 1, features, codes, code, logvar, code);
        if (ae_model_can_decode(model, &can_decode) == AE_OK && can_decode) {
            (void)ae_model_decode(model, codes, 1, code, output, features);
        }
    }
    if (ae_model_get_threshold(model, &threshold, &has_threshold) == AE_OK && has_threshold) {
        (void)ae_model_predict(model, input, 1, features, &label, 1);
    }
    free(input);
    free(output);
    free(codes);
    free(logvar);
    free(segments);
}

/* Every parameter tensor of the model is finite (the library refuses non-finite weights on load and
 * rolls back a step that makes them non-finite). */
static void fuzz_check_finite(const ae_model *model, const char *after) {
    size_t tensors = 0;
    if (ae_model_tensor_count(model, &tensors) != AE_OK) return;
    for (size_t t = 0; t < tensors; t++) {
        const char *name = NULL;
        size_t dims[8], rank = 0, count = 0;
        if (ae_model_tensor_info(model, t, &name, dims, 8, &rank, &count) != AE_OK || count > FUZZ_MAX_PARAMETERS) continue;
        float *values = malloc((count ? count : 1) * sizeof(float));
        if (!values) abort();
        ae_status status = ae_model_get_parameter(model, name, values, count);
        if (status != AE_OK) {
            /* The name the model reports must reach its tensor (a name with a NUL did not). */
            fprintf(stderr, "fuzz: broken promise: tensor %zu, named \"%s\" by ae_model_tensor_info, cannot be read: %s\n",
                    t, name, ae_last_error());
            abort();
        }
        for (size_t i = 0; i < count; i++) {
            if (!isfinite(values[i])) {
                fprintf(stderr, "fuzz: broken promise: %s returned AE_OK, but %s[%zu] = %g\n", after, name, i, values[i]);
                abort();
            }
        }
        free(values);
    }
}

/* One trainer step of `capacity` samples' workspace on one sample (labels 0 for a segmentation
 * model): a failed step is fine, a step that returns AE_OK must leave finite weights. */
static void fuzz_train_step(ae_model *model, size_t capacity) {
    size_t features = 0, classes = 0, labels = 0, parameters = 0;
    ae_model_input_size(model, &features);
    ae_model_class_count(model, &classes);
    ae_model_label_size(model, &labels);
    ae_model_parameter_count(model, &parameters);
    if (features == 0 || features > FUZZ_MAX_FEATURES || labels > FUZZ_MAX_FEATURES || parameters > FUZZ_MAX_PARAMETERS) {
        return;
    }
    ae_trainer *trainer = NULL;
    if (ae_trainer_create(model, capacity, &trainer) != AE_OK) return;
    float *batch = calloc(features, sizeof(float));
    int32_t *targets = calloc(labels ? labels : 1, sizeof(int32_t));
    double loss = 0;
    if (!batch || !targets) abort();
    for (size_t i = 0; i < features; i++) batch[i] = (float)(i % 7) / 7.0f;
    ae_status status = classes > 0 ? ae_trainer_step_labels(trainer, batch, targets, 1, features, labels, &loss)
                                   : ae_trainer_step(trainer, batch, 1, features, &loss);
    ae_trainer_free(trainer);
    if (status == AE_OK) {
        fuzz_check_finite(model, "a trainer step");
        /* ... and outputs that are finite on the sample it trained on. */
        float *output = malloc(features * sizeof(float));
        if (!output) abort();
        if (classes == 0 && ae_model_reconstruct(model, batch, 1, features, output, features) == AE_OK) {
            for (size_t i = 0; i < features; i++) {
                if (!isfinite(output[i])) {
                    fprintf(stderr, "fuzz: broken promise: a trainer step returned AE_OK, but the reconstruction of its "
                                    "sample holds %g at %zu\n", output[i], i);
                    abort();
                }
            }
        }
        free(output);
    }
    free(batch);
    free(targets);
}

/* Everything the library writes, it loads: save the model to memory (with and without the
 * optimizer state), load the bytes back, and save again: the second image must equal the first. */
static void fuzz_round_trip(const ae_model *model) {
    for (int optimizer = 0; optimizer <= 1; optimizer++) {
        void *saved = NULL;
        size_t size = 0;
        ae_status status = ae_model_save_to_memory(model, optimizer, &saved, &size);
        if (status != AE_OK) {
            if (status == AE_ERR_OUT_OF_MEMORY) continue;
            fuzz_fail("saving a valid model to memory", status);
        }
        ae_model *reloaded = NULL;
        status = ae_model_load_from_memory(saved, size, &reloaded);
        if (status != AE_OK && status != AE_ERR_OUT_OF_MEMORY) {
            fuzz_fail(optimizer ? "loading what the library saved (with optimizer state)"
                                : "loading what the library saved", status);
        }
        if (reloaded) {
            void *again = NULL;
            size_t again_size = 0;
            status = ae_model_save_to_memory(reloaded, optimizer, &again, &again_size);
            if (status == AE_OK && (again_size != size || memcmp(again, saved, size) != 0)) {
                fprintf(stderr, "fuzz: broken promise: saving a reloaded model changed its %zu-byte image (now %zu bytes)\n",
                        size, again_size);
                abort();
            }
            ae_free(again);
            ae_model_free(reloaded);
        }
        ae_free(saved);
    }
}

#endif
