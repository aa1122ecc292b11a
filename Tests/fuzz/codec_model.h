/* The model of the decompress harness, built the same way by fuzz_decompress.c and make_seeds.c
 * (so the seeds carry its digest): a small dense autoencoder with a 6-bit quantiser fitted on
 * fixed data. */
#ifndef FUZZ_CODEC_MODEL_H
#define FUZZ_CODEC_MODEL_H

#include <stdint.h>
#include <stdlib.h>

#include "autoencoders.h"

enum { CODEC_FEATURES = 16, CODEC_ROWS = 32 };

static const char codec_spec[] =
    "{\"input_size\": 16, \"seed\": 11,"
    " \"encoder\": [{\"type\": \"dense\", \"units\": 8, \"activation\": \"tanh\"}, {\"type\": \"dense\", \"units\": 4}],"
    " \"decoder\": [{\"type\": \"dense\", \"units\": 8, \"activation\": \"tanh\"},"
    "               {\"type\": \"dense\", \"units\": 16, \"activation\": \"sigmoid\"}], \"loss\": \"bce\"}";

/* Sample data in [0, 1]; rows * CODEC_FEATURES floats. */
static void codec_data(float *data, size_t rows) {
    for (size_t i = 0; i < rows * CODEC_FEATURES; i++) data[i] = (float)((i * 37 + i / 16) % 101) / 100.0f;
}

/* The quantised model, or NULL on failure (with ae_last_error). */
static ae_model *codec_model(int bits) {
    ae_model *model = NULL;
    float data[CODEC_ROWS * CODEC_FEATURES];
    codec_data(data, CODEC_ROWS);
    if (ae_model_create(codec_spec, &model) != AE_OK) return NULL;
    if (ae_model_fit_quantizer(model, data, CODEC_ROWS, CODEC_ROWS * CODEC_FEATURES, bits) != AE_OK) {
        ae_model_free(model);
        return NULL;
    }
    return model;
}

/* zlib's CRC-32, bit by bit (the container's checksum). */
static uint32_t codec_crc32(const uint8_t *bytes, size_t size) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < size; i++) {
        crc ^= bytes[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

#endif
