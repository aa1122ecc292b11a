/* libFuzzer harness: a JSON spec (ae_model_create), then, if the model is small enough, one
 * sample through inference, one trainer step on a 1-sample batch, and a save-load round trip.
 * Seeds: the specs written by Tests/fuzz/make_seeds.c.
 *
 * The trainer's capacity (its batch size) is 2^n for n trailing whitespace bytes after the JSON
 * (at most 2^16): JSON ignores them, so a spec can ask for a large workspace (capacity times every
 * node's size), which is where sizes overflow (issue 10: a transposed convolution of 2^48 floats
 * per sample wraps the workspace size at a capacity of 2^16). */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    char *spec = malloc(size + 1); /* the ABI takes a NUL-terminated string */
    if (!spec) return 0;
    memcpy(spec, data, size);
    spec[size] = 0;
    ae_model *model = NULL;
    ae_status status = ae_model_create(spec, &model);
    free(spec);
    if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "fuzz_create: %s %s\n", ae_status_string(status), status ? ae_last_error() : "");
    if (status != AE_OK) {
        if (model != NULL) fuzz_fail("a failed create set *out", status);
        return 0;
    }
    fuzz_exercise(model, (uint8_t)size);

    size_t features = 0, classes = 0, labels = 0, parameters = 0;
    ae_model_input_size(model, &features);
    ae_model_class_count(model, &classes);
    ae_model_label_size(model, &labels);
    ae_model_parameter_count(model, &parameters);
    if (features > 0 && features <= FUZZ_MAX_FEATURES && labels <= FUZZ_MAX_FEATURES && parameters <= FUZZ_MAX_PARAMETERS) {
        ae_trainer *trainer = NULL;
        size_t capacity = 1;
        for (size_t i = size; i > 0 && capacity < (1u << 16) && strchr(" \t\r\n", data[i - 1]) && data[i - 1]; i--) {
            capacity *= 2;
        }
        if (ae_trainer_create(model, capacity, &trainer) == AE_OK) {
            float *batch = calloc(features, sizeof(float));
            int32_t *targets = calloc(labels ? labels : 1, sizeof(int32_t));
            double loss = 0;
            if (batch && targets) {
                for (size_t i = 0; i < features; i++) batch[i] = (float)(i % 7) / 7.0f;
                if (classes > 0) {
                    (void)ae_trainer_step_labels(trainer, batch, targets, 1, features, labels, &loss);
                } else {
                    (void)ae_trainer_step(trainer, batch, 1, features, &loss);
                }
            }
            free(batch);
            free(targets);
            ae_trainer_free(trainer);
        }
    }
    fuzz_round_trip(model);
    ae_model_free(model);
    return 0;
}
