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

    size_t capacity = 1;
    for (size_t i = size; i > 0 && capacity < (1u << 16) && data[i - 1] && strchr(" \t\r\n", data[i - 1]); i--) {
        capacity *= 2;
    }
    fuzz_train_step(model, capacity);
    fuzz_round_trip(model);
    ae_model_free(model);
    return 0;
}
