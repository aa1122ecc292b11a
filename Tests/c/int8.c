/* int8.c: int8 inference through the C ABI (issue 13, item 5): quantising (dynamic and
 * calibrated), the same inference calls on the int8 model, save and load (format 5), training and
 * parameter changes refused, the float fallback and AE_INT8_REQUIRE_ALL, layers kept in float by
 * name, the kernel choice, and the bad arguments. Failed calls leave their outputs untouched. */
#include <math.h>

#include "check.h"

#define IN 40
#define ROWS 64

static const char *dense_spec =
    "{\"input_size\": 40, \"seed\": 5,"
    " \"encoder\": [{\"type\": \"dense\", \"units\": 24, \"activation\": \"relu\"}, {\"type\": \"dense\", \"units\": 6}],"
    " \"decoder\": [{\"type\": \"dense\", \"units\": 24, \"activation\": \"relu\"}, {\"type\": \"dense\", \"units\": 40}],"
    " \"loss\": \"mse\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.01}}";

static const char *lstm_spec =
    "{\"input_shape\": [5, 2],"
    " \"encoder\": [{\"type\": \"lstm\", \"units\": 3, \"return\": \"last\"}, {\"type\": \"dense\", \"units\": 3}],"
    " \"decoder\": [{\"type\": \"repeat\", \"steps\": 5}, {\"type\": \"lstm\", \"units\": 3},"
    "              {\"type\": \"time_distributed_dense\", \"units\": 2}], \"loss\": \"mse\"}";

static double mse(const float *a, const float *b, size_t count) {
    double sum = 0;
    for (size_t i = 0; i < count; i++) sum += (double)(a[i] - b[i]) * (a[i] - b[i]);
    return sum / (double)count;
}

int main(int argc, char **argv) {
    const char *tmp = argc > 1 ? argv[1] : ".";
    static float data[ROWS * IN], floats[ROWS * IN], ints[ROWS * IN], again[ROWS * IN], scores[ROWS];
    for (int r = 0; r < ROWS; r++)
        for (int j = 0; j < IN; j++) data[r * IN + j] = 0.5f + 0.4f * sinf(0.3f * (float)j * (float)(1 + r % 3) + (float)r);

    ae_model *model = NULL, *q = NULL, *qc = NULL, *loaded = NULL;
    CHECK_OK(ae_model_create(dense_spec, &model));
    ae_train_options options;
    CHECK_OK(ae_train_options_init(&options, sizeof options));
    options.epochs = 30;
    options.batch_size = 16;
    CHECK_OK(ae_model_train(model, data, ROWS, ROWS * IN, &options, NULL));

    int is = -1;
    CHECK_OK(ae_model_is_int8(model, &is));
    CHECK(is == 0);

    /* Bad arguments: nothing is created. */
    q = (ae_model *)0x1;
    EXPECT_FAIL_MSG(ae_model_quantize_int8(model, NULL, 0, 0, 0, NULL), AE_ERR_INVALID_ARGUMENT, "ae_model_quantize_int8", "out");
    EXPECT_FAIL_MSG(ae_model_quantize_int8(NULL, NULL, 0, 0, 0, &q), AE_ERR_INVALID_ARGUMENT, "ae_model_quantize_int8", "model");
    EXPECT_FAIL_MSG(ae_model_quantize_int8(model, NULL, 0, 0, 4, &q), AE_ERR_INVALID_ARGUMENT, "ae_model_quantize_int8", "flags");
    EXPECT_FAIL_MSG(ae_model_quantize_int8(model, NULL, 3, 3 * IN, 0, &q), AE_ERR_INVALID_ARGUMENT, "ae_model_quantize_int8", "calibration");
    EXPECT_FAIL_MSG(ae_model_quantize_int8(model, data, 0, 0, 0, &q), AE_ERR_INVALID_ARGUMENT, "ae_model_quantize_int8", "n");
    EXPECT_FAIL_MSG(ae_model_quantize_int8(model, data, ROWS, ROWS * IN - 1, 0, &q), AE_ERR_SHAPE, "ae_model_quantize_int8", "count");
    data[7] = NAN;
    EXPECT_FAIL(ae_model_quantize_int8(model, data, ROWS, ROWS * IN, 0, &q), AE_ERR_NUMERIC, "ae_model_quantize_int8");
    data[7] = 0.5f;
    CHECK(q == (ae_model *)0x1);

    /* Dynamic and calibrated int8 copies: the same calls, close to the float model. */
    CHECK_OK(ae_model_quantize_int8(model, NULL, 0, 0, 0, &q));
    CHECK_OK(ae_model_quantize_int8(model, data, ROWS, ROWS * IN, AE_INT8_REQUIRE_ALL, &qc));
    CHECK_OK(ae_model_is_int8(q, &is));
    CHECK(is == 1);
    size_t quantized = 0, fallback = 9;
    int calibrated = -1;
    CHECK_OK(ae_model_int8_info(q, &quantized, &fallback, &calibrated));
    CHECK(quantized == 4 && fallback == 0 && calibrated == 0);
    CHECK_OK(ae_model_int8_info(qc, &quantized, NULL, &calibrated));
    CHECK(quantized == 4 && calibrated == 1);
    CHECK_OK(ae_model_is_int8(model, &is));
    CHECK(is == 0);

    CHECK_OK(ae_model_reconstruct(model, data, ROWS, ROWS * IN, floats, ROWS * IN));
    CHECK_OK(ae_model_reconstruct(q, data, ROWS, ROWS * IN, ints, ROWS * IN));
    double float_error = mse(floats, data, ROWS * IN), int8_error = mse(ints, data, ROWS * IN);
    printf("  reconstruction MSE: float %.6f, int8 dynamic %.6f\n", float_error, int8_error);
    CHECK(fabs(int8_error - float_error) / float_error < 0.02);
    CHECK(mse(ints, floats, ROWS * IN) < 1e-3 * float_error + 1e-6);
    CHECK_OK(ae_model_reconstruct(qc, data, ROWS, ROWS * IN, ints, ROWS * IN));
    int8_error = mse(ints, data, ROWS * IN);
    printf("  reconstruction MSE: int8 calibrated %.6f\n", int8_error);
    CHECK(fabs(int8_error - float_error) / float_error < 0.02);
    CHECK_OK(ae_model_score(q, data, ROWS, ROWS * IN, scores, ROWS));
    CHECK(scores[0] >= 0 && isfinite(scores[0]));

    /* Inference only. */
    EXPECT_FAIL_MSG(ae_model_train(q, data, ROWS, ROWS * IN, &options, NULL), AE_ERR_UNSUPPORTED, "ae_model_train", "int8");
    ae_trainer *trainer = (ae_trainer *)0x1;
    EXPECT_FAIL_MSG(ae_trainer_create(q, 8, &trainer), AE_ERR_UNSUPPORTED, "ae_trainer_create", "inference only");
    CHECK(trainer == (ae_trainer *)0x1);
    const char *name = NULL;
    size_t count = 0;
    CHECK_OK(ae_model_tensor_info(q, 0, &name, NULL, 0, NULL, &count));
    float *values = calloc(count, sizeof(float));
    CHECK_OK(ae_model_get_parameter(q, name, values, count));
    EXPECT_FAIL_MSG(ae_model_set_parameter(q, name, values, count), AE_ERR_UNSUPPORTED, "ae_model_set_parameter", "int8");
    free(values);
    ae_model *twice = (ae_model *)0x1;
    EXPECT_FAIL_MSG(ae_model_quantize_int8(q, NULL, 0, 0, 0, &twice), AE_ERR_UNSUPPORTED, "ae_model_quantize_int8", "already");
    CHECK(twice == (ae_model *)0x1);

    /* Saved and loaded: still int8, same results, about a quarter of the float file. */
    char path[4096];
    snprintf(path, sizeof path, "%s/int8.aem", tmp);
    CHECK_OK(ae_model_save(qc, path, 1));
    CHECK_OK(ae_model_load(path, &loaded));
    CHECK_OK(ae_model_int8_info(loaded, &quantized, &fallback, &calibrated));
    CHECK(quantized == 4 && fallback == 0 && calibrated == 1);
    CHECK_OK(ae_model_reconstruct(loaded, data, ROWS, ROWS * IN, again, ROWS * IN));
    CHECK(memcmp(again, ints, sizeof again) == 0);
    void *bytes = NULL, *float_bytes = NULL;
    size_t size = 0, float_size = 0;
    CHECK_OK(ae_model_save_to_memory(q, 0, &bytes, &size));
    CHECK_OK(ae_model_save_to_memory(model, 0, &float_bytes, &float_size));
    printf("  model file: float %zu bytes, int8 %zu bytes\n", float_size, size);
    CHECK(size < float_size / 2);
    ae_free(bytes);
    ae_free(float_bytes);

    /* Layers without an int8 path: float fallback, or an error naming the layer. */
    ae_model *recurrent = NULL, *rq = NULL;
    CHECK_OK(ae_model_create(lstm_spec, &recurrent));
    EXPECT_FAIL_MSG(ae_model_quantize_int8(recurrent, NULL, 0, 0, AE_INT8_REQUIRE_ALL, &rq), AE_ERR_UNSUPPORTED,
                    "ae_model_quantize_int8", "encoder.0 (lstm)");
    CHECK(rq == NULL);
    CHECK_OK(ae_model_quantize_int8(recurrent, NULL, 0, 0, 0, &rq));
    CHECK_OK(ae_model_int8_info(rq, &quantized, &fallback, NULL));
    CHECK(quantized == 1 && fallback == 3);
    static float sequence[5 * 2], out1[5 * 2], out2[5 * 2];
    for (int i = 0; i < 10; i++) sequence[i] = 0.1f * (float)i;
    CHECK_OK(ae_model_reconstruct(recurrent, sequence, 1, 10, out1, 10));
    CHECK_OK(ae_model_reconstruct(rq, sequence, 1, 10, out2, 10));
    for (int i = 0; i < 10; i++) CHECK(fabsf(out1[i] - out2[i]) < 0.05f);

    /* Layers kept in float by name: counted with the fallback, their weights unchanged. */
    ae_model *kept = (ae_model *)0x1;
    const char *keep[] = {"decoder.0"}, *unknown[] = {"decoder.9"}, *null_name[] = {NULL};
    const char *every[] = {"encoder.0", "encoder.1", "decoder.0", "decoder.1"};
    EXPECT_FAIL_MSG(ae_model_quantize_int8_keeping(model, NULL, 0, 0, 0, unknown, 1, &kept), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_quantize_int8_keeping", "\"decoder.9\"");
    CHECK(strstr(ae_last_error(), "encoder.0, encoder.1, decoder.0, decoder.1") != NULL);
    EXPECT_FAIL_MSG(ae_model_quantize_int8_keeping(model, NULL, 0, 0, 0, NULL, 1, &kept), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_quantize_int8_keeping", "float_layers");
    EXPECT_FAIL_MSG(ae_model_quantize_int8_keeping(model, NULL, 0, 0, 0, null_name, 1, &kept), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_quantize_int8_keeping", "float_layers[0]");
    EXPECT_FAIL_MSG(ae_model_quantize_int8_keeping(model, NULL, 0, 0, 0, every, 4, &kept), AE_ERR_UNSUPPORTED,
                    "ae_model_quantize_int8_keeping", "kept in float");
    CHECK(kept == (ae_model *)0x1);
    CHECK_OK(ae_model_quantize_int8_keeping(model, data, ROWS, ROWS * IN, AE_INT8_REQUIRE_ALL, keep, 1, &kept));
    CHECK_OK(ae_model_int8_info(kept, &quantized, &fallback, &calibrated));
    CHECK(quantized == 3 && fallback == 1 && calibrated == 1);
    static float original[24 * 6], copy[24 * 6];
    CHECK_OK(ae_model_get_parameter(model, "decoder.0.weight", original, 24 * 6));
    CHECK_OK(ae_model_get_parameter(kept, "decoder.0.weight", copy, 24 * 6));
    CHECK(memcmp(original, copy, sizeof copy) == 0);
    CHECK_OK(ae_model_reconstruct(kept, data, ROWS, ROWS * IN, again, ROWS * IN));
    printf("  reconstruction MSE: int8 calibrated, decoder.0 in float %.6f\n", mse(again, data, ROWS * IN));
    CHECK(fabs(mse(again, data, ROWS * IN) - float_error) / float_error < 0.02);
    ae_model *none = NULL;
    CHECK_OK(ae_model_quantize_int8_keeping(model, NULL, 0, 0, 0, NULL, 0, &none));
    CHECK_OK(ae_model_int8_info(none, &quantized, &fallback, NULL));
    CHECK(quantized == 4 && fallback == 0);
    ae_model_free(none);
    ae_model_free(kept);

    /* Kernels: the one in use, a bad name refused, each supported one selectable. */
    const char *kernel = ae_int8_kernel_name();
    CHECK(kernel != NULL && (strcmp(kernel, "portable") == 0 || strcmp(kernel, "avx2") == 0 || strcmp(kernel, "avx512vnni") == 0));
    printf("  int8 kernel: %s\n", kernel);
    EXPECT_FAIL_MSG(ae_set_int8_kernel("avx1024"), AE_ERR_INVALID_ARGUMENT, "ae_set_int8_kernel", "avx1024");
    EXPECT_FAIL(ae_set_int8_kernel(NULL), AE_ERR_INVALID_ARGUMENT, "ae_set_int8_kernel");
    CHECK(strcmp(ae_int8_kernel_name(), kernel) == 0);
    const char *names[] = {"portable", "avx2", "avx512vnni"};
    for (int i = 0; i < 3; i++) {
        ae_status status = ae_set_int8_kernel(names[i]);
        if (status == AE_OK) {
            CHECK_OK(ae_model_reconstruct(qc, data, ROWS, ROWS * IN, again, ROWS * IN));
            CHECK(memcmp(again, ints, sizeof again) == 0);  /* integer products: bit-identical */
        } else {
            CHECK(status == AE_ERR_UNSUPPORTED && strstr(ae_last_error(), "lacks") != NULL);
        }
    }
    CHECK_OK(ae_set_int8_kernel("auto"));

    ae_model_free(rq);
    ae_model_free(recurrent);
    ae_model_free(loaded);
    ae_model_free(qc);
    ae_model_free(q);
    ae_model_free(model);
    return check_summary("int8");
}
