/*
 * npy.h: a minimal reader and writer of NumPy .npy files for the examples (header-only).
 * Reads little-endian uint8 ('|u1') and float32 ('<f4') arrays in C order into float32, or
 * uint8 arrays as their bytes; writes float32. Not part of the library: the library takes plain float buffers.
 */
#ifndef EXAMPLES_NPY_H
#define EXAMPLES_NPY_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct npy_array {
    size_t shape[4];
    size_t rank;
    size_t count;   /* product of shape */
    float *data;    /* malloc'd; release with free() */
} npy_array;

/* Opens path and reads its header: *is_u8 is 1 for uint8, 0 for float32; shape, rank and count
 * go to *out (data untouched). Returns the file positioned at the data, or NULL with a message. */
static inline FILE *npy_open(const char *path, npy_array *out, int *is_u8) {
    FILE *file = fopen(path, "rb");
    if (!file) { fprintf(stderr, "npy: cannot open %s\n", path); return NULL; }
    unsigned char preamble[10];
    if (fread(preamble, 1, 10, file) != 10 || memcmp(preamble, "\x93NUMPY", 6) != 0 || preamble[6] != 1) {
        fprintf(stderr, "npy: %s is not a version 1 .npy file\n", path);
        fclose(file);
        return NULL;
    }
    size_t header_length = (size_t)preamble[8] | ((size_t)preamble[9] << 8);
    char header[65536];
    if (header_length >= sizeof header || fread(header, 1, header_length, file) != header_length) {
        fprintf(stderr, "npy: %s has a truncated header\n", path);
        fclose(file);
        return NULL;
    }
    header[header_length] = '\0';
    int u8 = strstr(header, "'|u1'") != NULL, f32 = strstr(header, "'<f4'") != NULL;
    const char *shape = strstr(header, "'shape': (");
    if ((!u8 && !f32) || strstr(header, "'fortran_order': True") || !shape) {
        fprintf(stderr, "npy: %s must hold C-ordered uint8 or float32\n", path);
        fclose(file);
        return NULL;
    }
    shape += strlen("'shape': (");
    out->rank = 0;
    out->count = 1;
    while (*shape && *shape != ')' && out->rank < 4) {
        char *end;
        unsigned long long dim = strtoull(shape, &end, 10);
        if (end == shape) break;
        out->shape[out->rank++] = (size_t)dim;
        out->count *= (size_t)dim;
        shape = end;
        while (*shape == ',' || *shape == ' ') shape++;
    }
    *is_u8 = u8;
    return file;
}

/* Loads path into *out. Returns 0 on success, -1 with a message on stderr otherwise. */
static inline int npy_load(const char *path, npy_array *out) {
    int is_u8;
    FILE *file = npy_open(path, out, &is_u8);
    if (!file) return -1;
    out->data = malloc(out->count * sizeof(float));
    if (!out->data) { fclose(file); return -1; }
    size_t item = is_u8 ? 1 : 4;
    unsigned char *raw = malloc(out->count * item);
    if (!raw || fread(raw, item, out->count, file) != out->count) {
        fprintf(stderr, "npy: %s is truncated\n", path);
        free(raw);
        free(out->data);
        fclose(file);
        return -1;
    }
    for (size_t i = 0; i < out->count; i++) {
        if (is_u8) out->data[i] = (float)raw[i];
        else memcpy(&out->data[i], raw + 4 * i, 4);
    }
    free(raw);
    fclose(file);
    return 0;
}

/* Loads a uint8 array as its bytes (a quarter of its floats), for data a sample source converts
 * batch by batch (ae_model_train_source). *bytes is malloc'd; shape, rank and count go to *out
 * (out->data is set to NULL). Returns 0 on success, -1 with a message on stderr otherwise. */
static inline int npy_load_bytes(const char *path, npy_array *out, unsigned char **bytes) {
    int is_u8;
    FILE *file = npy_open(path, out, &is_u8);
    if (!file) return -1;
    out->data = NULL;
    *bytes = is_u8 ? malloc(out->count) : NULL;
    if (!is_u8 || !*bytes || fread(*bytes, 1, out->count, file) != out->count) {
        fprintf(stderr, "npy: %s is %s\n", path, is_u8 ? "truncated" : "not uint8");
        free(*bytes);
        *bytes = NULL;
        fclose(file);
        return -1;
    }
    fclose(file);
    return 0;
}

/* Writes `count` floats with the given shape as a float32 .npy file. Returns 0 or -1. */
static inline int npy_save(const char *path, const float *data, const size_t *shape, size_t rank) {
    char dims[128] = "";
    size_t count = 1;
    for (size_t i = 0; i < rank; i++) {
        char dim[32];
        snprintf(dim, sizeof dim, "%zu,%s", shape[i], (rank > 1 && i + 1 < rank) ? " " : "");
        strncat(dims, dim, sizeof dims - strlen(dims) - 1);
        count *= shape[i];
    }
    char header[256];
    int length = snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", dims);
    int padded = ((10 + length + 1 + 63) / 64) * 64 - 10;   /* data starts on a 64-byte boundary */
    memset(header + length, ' ', (size_t)(padded - length - 1));
    header[padded - 1] = '\n';
    FILE *file = fopen(path, "wb");
    if (!file) { fprintf(stderr, "npy: cannot write %s\n", path); return -1; }
    unsigned char preamble[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(padded & 0xff), (unsigned char)(padded >> 8)};
    int ok = fwrite(preamble, 1, 10, file) == 10 && fwrite(header, 1, (size_t)padded, file) == (size_t)padded
          && fwrite(data, sizeof(float), count, file) == count;
    return (fclose(file) == 0 && ok) ? 0 : -1;
}

#endif
