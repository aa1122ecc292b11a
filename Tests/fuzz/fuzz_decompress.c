/* libFuzzer harness: compressed files (ae_model_compressed_info, ae_model_decompress) against one
 * quantised model (codec_model.h). Seeds: files that model compressed (make_seeds.c).
 *
 * Most inputs get the model's digest written into the header and the CRC-32 recomputed, since a
 * mutation would otherwise end at "another model" or "checksum mismatch" and the payload decoder
 * behind them would never be fuzzed (an attacker can write both just the same). Inputs whose size
 * is 7 mod 8 are passed as they are. A decompression that succeeds must give finite values (the
 * decoder ends in a sigmoid) and the same values a second time. */
#include "harness.h"
#include "codec_model.h"

static ae_model *model;
static uint8_t digest[8];

static void setup(void) {
    if (model) return;
    fuzz_init();
    model = codec_model(6);
    if (!model) fuzz_fail("building the codec model", AE_ERR_INTERNAL);
    float data[CODEC_FEATURES];
    codec_data(data, 1);
    void *bytes = NULL;
    size_t size = 0;
    ae_status status = ae_model_compress(model, data, 1, CODEC_FEATURES, &bytes, &size);
    if (status != AE_OK || size < 16) fuzz_fail("compressing one sample", status);
    memcpy(digest, (uint8_t *)bytes + 8, 8);
    ae_free(bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    setup();
    uint8_t *file = malloc(size ? size : 1);
    if (!file) return 0;
    if (size) memcpy(file, data, size);
    if (size >= 20 && size % 8 != 7) {
        memcpy(file + 8, digest, 8);
        uint32_t crc = codec_crc32(file, size - 4);
        for (int i = 0; i < 4; i++) file[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    }
    size_t n = 0, count = 0;
    ae_status status = ae_model_compressed_info(model, file, size, &n, &count);
    if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "fuzz_decompress: %s %s\n", ae_status_string(status), status ? ae_last_error() : "");
    if (status == AE_OK && count <= (1u << 22)) {
        float *out = malloc((count ? count : 1) * sizeof(float)), *again = malloc((count ? count : 1) * sizeof(float));
        if (!out || !again) abort();
        status = ae_model_decompress(model, file, size, out, count);
        if (status == AE_OK) {
            for (size_t i = 0; i < count; i++) {
                if (!isfinite(out[i])) fuzz_fail("a decompressed value is not finite", AE_ERR_INTERNAL);
            }
            if (ae_model_decompress(model, file, size, again, count) != AE_OK || memcmp(out, again, count * sizeof(float)) != 0) {
                fuzz_fail("decompressing the same bytes twice", AE_ERR_INTERNAL);
            }
        } else if (status != AE_ERR_FORMAT && status != AE_ERR_OUT_OF_MEMORY) {
            fuzz_fail("decompress failed with an unexpected status", status);
        }
        free(out);
        free(again);
    } else if (status != AE_OK && status != AE_ERR_FORMAT) {
        fuzz_fail("compressed_info failed with an unexpected status", status);
    }
    free(file);
    return 0;
}
