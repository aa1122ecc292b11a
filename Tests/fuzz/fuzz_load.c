/* libFuzzer harness: a model file from memory (ae_model_load_from_memory), then, if it loads,
 * one sample through inference, a save-load round trip and one training step. Seeds: Tests/fuzz/make_seeds.c.
 *
 * The file's checksum is first recomputed (FuzzChecksum.swift): a mutation would otherwise almost
 * always end at "checksum mismatch", and the checks behind it would never be fuzzed. (The CRC is
 * for corruption, not authenticity: an attacker recomputes it just the same.) */
#include "harness.h"

void fuzz_fix_checksum(uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    uint8_t *file = malloc(size ? size : 1);
    if (!file) return 0;
    if (size) memcpy(file, data, size);
    fuzz_fix_checksum(file, size);
    ae_model *model = NULL;
    ae_status status = ae_model_load_from_memory(file, size, &model);
    free(file);
    if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "fuzz_load: %s %s\n", ae_status_string(status), status ? ae_last_error() : "");
    if (status != AE_OK) {
        if (model != NULL) fuzz_fail("a failed load set *out", status);
        return 0;
    }
    fuzz_check_finite(model, "loading");
    fuzz_exercise(model, size ? data[size / 2] : 0);
    fuzz_round_trip(model);
    fuzz_train_step(model, 1); /* training resumes from the loaded optimizer state */
    ae_model_free(model);
    return 0;
}
