/* compression.c: the codec through the C ABI (issue 16): fitting a quantiser, compressing,
 * decompressing, the quantiser in the model file, and the bad inputs: a model without quantiser,
 * truncated and corrupted files, a file made by another model, wrong counts. Failed calls leave
 * their outputs untouched. */
#include <math.h>

#include "check.h"

#define IN 16
#define ROWS 40

static const char *spec(int seed) {
    static char text[1024];
    snprintf(text, sizeof text,
             "{\"input_size\": %d, \"seed\": %d,"
             " \"encoder\": [{\"type\": \"dense\", \"units\": 8, \"activation\": \"tanh\"}, {\"type\": \"dense\", \"units\": 3}],"
             " \"decoder\": [{\"type\": \"dense\", \"units\": 8, \"activation\": \"tanh\"},"
             "               {\"type\": \"dense\", \"units\": %d, \"activation\": \"sigmoid\"}], \"loss\": \"bce\"}",
             IN, seed, IN);
    return text;
}

int main(void) {
    static float data[ROWS * IN], out[ROWS * IN], again[ROWS * IN], recon[ROWS * IN];
    for (int i = 0; i < ROWS * IN; i++) data[i] = (float)((i * 37) % 101) / 100.0f;

    ae_model *model = NULL, *other = NULL, *loaded = NULL;
    CHECK_OK(ae_model_create(spec(3), &model));
    CHECK_OK(ae_model_create(spec(4), &other));

    /* No quantiser yet: compress says how to fit one. */
    void *bytes = (void *)0x1;
    size_t size = 77;
    int bits = -1;
    CHECK_OK(ae_model_quantizer_bits(model, &bits));
    CHECK(bits == 0);
    EXPECT_FAIL_MSG(ae_model_compress(model, data, ROWS, ROWS * IN, &bytes, &size), AE_ERR_UNSUPPORTED,
                    "ae_model_compress", "fit");
    CHECK(bytes == (void *)0x1 && size == 77);

    /* Fitting: arguments checked. */
    EXPECT_FAIL_MSG(ae_model_fit_quantizer(model, data, ROWS, ROWS * IN, 3), AE_ERR_INVALID_ARGUMENT, "ae_model_fit_quantizer", "bits");
    EXPECT_FAIL_MSG(ae_model_fit_quantizer(model, data, ROWS, ROWS * IN, 9), AE_ERR_INVALID_ARGUMENT, "ae_model_fit_quantizer", "bits");
    EXPECT_FAIL_MSG(ae_model_fit_quantizer(model, data, ROWS, ROWS * IN - 1, 6), AE_ERR_SHAPE, "ae_model_fit_quantizer", "count");
    EXPECT_FAIL_MSG(ae_model_fit_quantizer(model, NULL, ROWS, ROWS * IN, 6), AE_ERR_INVALID_ARGUMENT, "ae_model_fit_quantizer", "data");
    EXPECT_FAIL_MSG(ae_model_fit_quantizer(model, data, 0, 0, 6), AE_ERR_INVALID_ARGUMENT, "ae_model_fit_quantizer", "n");
    CHECK_OK(ae_model_quantizer_bits(model, &bits));
    CHECK(bits == 0);
    CHECK_OK(ae_model_fit_quantizer(model, data, ROWS, ROWS * IN, 6));
    CHECK_OK(ae_model_quantizer_bits(model, &bits));
    CHECK(bits == 6);
    CHECK_OK(ae_model_fit_quantizer(other, data, ROWS, ROWS * IN, 6));

    /* Compress and decompress. */
    EXPECT_FAIL_MSG(ae_model_compress(model, data, ROWS, ROWS * IN + 1, &bytes, &size), AE_ERR_SHAPE, "ae_model_compress", "input_count");
    CHECK_OK(ae_model_compress(model, data, ROWS, ROWS * IN, &bytes, &size));
    CHECK(size > 40 && size < 40 + ROWS * 3);   /* 3 code values of at most 6 bits per sample, plus the header */
    size_t n = 0, count = 0;
    CHECK_OK(ae_model_compressed_info(model, bytes, size, &n, &count));
    CHECK(n == ROWS && count == ROWS * IN);
    CHECK_OK(ae_model_decompress(model, bytes, size, out, ROWS * IN));
    CHECK_OK(ae_model_reconstruct(model, data, ROWS, ROWS * IN, recon, ROWS * IN));
    double worst = 0;
    for (int i = 0; i < ROWS * IN; i++) worst = fmax(worst, fabs(out[i] - recon[i]));
    CHECK(worst < 0.1);   /* 6-bit codes: close to the unquantised reconstruction */
    EXPECT_FAIL_MSG(ae_model_decompress(model, bytes, size, out, ROWS * IN - 1), AE_ERR_SHAPE, "ae_model_decompress", "output_count");

    /* No samples: a valid file of no samples. */
    void *empty = NULL;
    size_t empty_size = 0;
    CHECK_OK(ae_model_compress(model, data, 0, 0, &empty, &empty_size));
    CHECK(empty_size == 44 + 5);   /* header, checksum, and the range coder's 5 bytes */
    n = 7;
    CHECK_OK(ae_model_compressed_info(model, empty, empty_size, &n, &count));
    CHECK(n == 0 && count == 0);
    CHECK_OK(ae_model_decompress(model, empty, empty_size, again, 0));
    EXPECT_FAIL_MSG(ae_model_decompress(model, empty, empty_size, again, 1), AE_ERR_SHAPE, "ae_model_decompress", "output_count");
    ae_free(empty);

    /* The quantiser travels in the model file; the loaded model decodes the same file identically. */
    void *file = NULL;
    size_t file_size = 0;
    CHECK_OK(ae_model_save_to_memory(model, 0, &file, &file_size));
    CHECK_OK(ae_model_load_from_memory(file, file_size, &loaded));
    ae_free(file);
    CHECK_OK(ae_model_quantizer_bits(loaded, &bits));
    CHECK(bits == 6);
    CHECK_OK(ae_model_decompress(loaded, bytes, size, again, ROWS * IN));
    CHECK(memcmp(out, again, sizeof out) == 0);

    /* Truncated at every length, and every byte corrupted: AE_ERR_FORMAT, output untouched. */
    unsigned char *copy = malloc(size);
    memcpy(copy, bytes, size);
    int refused = 0, untouched = 1;
    for (size_t length = 0; length < size; length++) {
        for (int i = 0; i < ROWS * IN; i++) again[i] = -1;
        ae_status status = ae_model_decompress(model, copy, length, again, ROWS * IN);
        refused += status == AE_ERR_FORMAT;
        for (int i = 0; i < ROWS * IN; i++) untouched &= again[i] == -1;
    }
    CHECK(refused == (int)size);
    CHECK(untouched);
    refused = 0;
    for (size_t position = 0; position < size; position++) {
        copy[position] ^= 0x04;
        refused += ae_model_decompress(model, copy, size, again, ROWS * IN) == AE_ERR_FORMAT;
        copy[position] ^= 0x04;
    }
    CHECK(refused == (int)size);
    EXPECT_FAIL_MSG(ae_model_decompress(model, copy, size - 1, again, ROWS * IN), AE_ERR_FORMAT, "ae_model_decompress", "truncated");
    copy[size / 2] ^= 0xFF;
    EXPECT_FAIL_MSG(ae_model_decompress(model, copy, size, again, ROWS * IN), AE_ERR_FORMAT, "ae_model_decompress", "checksum");
    free(copy);
    EXPECT_FAIL_MSG(ae_model_decompress(model, "hello, world", 12, again, ROWS * IN), AE_ERR_FORMAT, "ae_model_decompress", "not a compressed file");
    EXPECT_FAIL_MSG(ae_model_decompress(model, NULL, 10, again, ROWS * IN), AE_ERR_INVALID_ARGUMENT, "ae_model_decompress", "data");

    /* Made by another model, or by this model before its quantiser changed. */
    EXPECT_FAIL_MSG(ae_model_compressed_info(other, bytes, size, &n, NULL), AE_ERR_FORMAT, "ae_model_compressed_info", "another model");
    EXPECT_FAIL_MSG(ae_model_decompress(other, bytes, size, again, ROWS * IN), AE_ERR_FORMAT, "ae_model_decompress", "another model");
    CHECK_OK(ae_model_fit_quantizer(loaded, data, ROWS, ROWS * IN, 5));
    EXPECT_FAIL_MSG(ae_model_decompress(loaded, bytes, size, again, ROWS * IN), AE_ERR_FORMAT, "ae_model_decompress", "another model");
    CHECK_OK(ae_model_remove_quantizer(loaded));
    CHECK_OK(ae_model_quantizer_bits(loaded, &bits));
    CHECK(bits == 0);
    ae_free(bytes);

    ae_model_free(loaded);
    ae_model_free(other);
    ae_model_free(model);
    return check_summary("compression");
}
