/* libFuzzer harness: a model file from memory (ae_model_load_from_memory), then, if it loads,
 * one sample through inference and a save-load round trip. Seeds: Tests/fuzz/make_corpus.py. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    ae_model *model = NULL;
    /* A NULL data pointer with size 0 is an argument error, not a model: pass a real pointer. */
    static const uint8_t empty[1] = {0};
    ae_status status = ae_model_load_from_memory(size ? data : empty, size, &model);
    if (status != AE_OK) {
        if (model != NULL) fuzz_fail("a failed load set *out", status);
        return 0;
    }
    fuzz_exercise(model, size ? data[size / 2] : 0);
    fuzz_round_trip(model);
    ae_model_free(model);
    return 0;
}
