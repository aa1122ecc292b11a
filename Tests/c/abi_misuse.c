/* abi_misuse.c: every exported function called wrongly, and nothing crashes.
 *
 * Each function gets NULL for each pointer argument, wrong element counts (too small, too large,
 * SIZE_MAX, n * size overflowing), and invalid values (thread counts, learning rates, option
 * struct sizes, enum values, indices, tensor names, non-UTF-8 strings, bad specs, NaN and
 * infinite data, damaged model files, unusable paths). Every failure must return the expected
 * status with a message that names the function (and, where it matters, the argument).
 *
 * Then the "nothing lost" rules: a failed save keeps the existing file, a failed set keeps the
 * old values, a diverging training run or step keeps the last good weights and the model still
 * works, a failed threshold set or fit keeps the old threshold (or none), failed inference and
 * predict calls leave the output buffers alone.
 *
 * The anomaly and inpainting functions (ae_model_fit_threshold, _set_threshold, _get_threshold,
 * _predict, _inpaint), masked training (options.mask, mask_count; ae_trainer_step_masked) and the
 * new spec families (noise, sparsity, contractive, k_sparse, correntropy) get the same treatment.
 *
 * Segmentation (ae_model_train_labels, ae_trainer_step_labels, ae_model_segment, _class_count,
 * _label_size): NULL pointers, wrong and overflowing counts, labels outside 0..classes-1 (the
 * message gives the position) and the ignore label, segmentation calls on reconstruction models
 * and reconstruction calls on segmentation models. Malformed convolutional specs are rejected
 * with the JSON path of the entry at fault.
 *
 * Variational autoencoders (ae_model_encode_distribution, _generate, _interpolate): NULL pointers,
 * wrong and overflowing counts (mean_count, logvar_count, output_count), steps of 0, 1 and beyond
 * 2^20, n too large, NaN samples, models that are not VAEs (AE_ERR_UNSUPPORTED for
 * encode_distribution and generate, whatever the batch), interpolation on models that cannot
 * decode, outputs untouched on failure; malformed variational specs (no units, negative beta, not
 * the encoder's last entry, no flatten) with the JSON path.
 *
 * Usage: abi_misuse [directory for temporary files]
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "autoencoders.h"
#include "check.h"
#include "models.h"
#include "testdata.h"

#define D 100
#define C 10
#define N 8

static const char *tmpdir = "/tmp";
static char scratch_path[512];

static const char *temp_path(const char *name) {
    snprintf(scratch_path, sizeof scratch_path, "%s/ae_misuse_%d_%s", tmpdir, (int)getpid(), name);
    return scratch_path;
}

static int write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    size_t written;
    if (!f) return 0;
    written = fwrite(data, 1, size, f);
    return fclose(f) == 0 && written == size;
}

static void *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    long length;
    void *data;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    length = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc(length > 0 ? (size_t)length : 1);
    if (data && fread(data, 1, (size_t)length, f) != (size_t)length) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *size = (size_t)length;
    return data;
}

static int parameters_equal(const ae_model *model, const float *expected, size_t count) {
    size_t n = 0;
    float *now = parameters_copy(model, &n);
    int same = now && n == count && memcmp(now, expected, count * sizeof(float)) == 0;
    free(now);
    return same;
}

static const size_t huge = SIZE_MAX;
static const size_t overflowing = SIZE_MAX / 50; /* times 100 (input size) overflows */

/* ---- errors, versions, threads ---- */

static void *fresh_thread_last_error(void *out) {
    *(int *)out = strcmp(ae_last_error(), "") == 0;
    return NULL;
}

/* Fails a call on its own thread and exits: the message is per thread and freed at thread exit
 * (valgrind reports it as lost otherwise). */
static void *failing_thread(void *out) {
    ae_model *model = NULL;
    *(int *)out = ae_model_create(NULL, &model) == AE_ERR_INVALID_ARGUMENT &&
                  strstr(ae_last_error(), "ae_model_create") != NULL;
    return NULL;
}

static void test_errors_versions_threads(void) {
    pthread_t thread;
    int empty = 0, failed_there = 0;
    CHECK(pthread_create(&thread, NULL, fresh_thread_last_error, &empty) == 0);
    pthread_join(thread, NULL);
    CHECK(empty); /* no failed call on that thread yet: "" */
    check_reset_last_error();
    CHECK(pthread_create(&thread, NULL, failing_thread, &failed_there) == 0);
    pthread_join(thread, NULL);
    CHECK(failed_there);
    CHECK(strstr(ae_last_error(), "ae_set_num_threads") != NULL); /* this thread's message is unchanged */

    CHECK(strcmp(ae_status_string(AE_OK), "AE_OK") == 0);
    CHECK(strcmp(ae_status_string(AE_ERR_SHAPE), "AE_ERR_SHAPE") == 0);
    CHECK(strcmp(ae_status_string(AE_ERR_INTERNAL), "AE_ERR_INTERNAL") == 0);
    CHECK(strcmp(ae_status_string((ae_status)-1), "AE_UNKNOWN_STATUS") == 0);
    CHECK(strcmp(ae_status_string((ae_status)10), "AE_UNKNOWN_STATUS") == 0);
    CHECK(strcmp(ae_status_string((ae_status)123456), "AE_UNKNOWN_STATUS") == 0);
    ae_free(NULL);
    CHECK(ae_version_string() != NULL && ae_version_major() == AE_VERSION_MAJOR);

    EXPECT_FAIL_MSG(ae_set_num_threads(0), AE_ERR_INVALID_ARGUMENT, "ae_set_num_threads", "threads");
    EXPECT_FAIL(ae_set_num_threads(-1), AE_ERR_INVALID_ARGUMENT, "ae_set_num_threads");
    EXPECT_FAIL(ae_set_num_threads(-2147483647 - 1), AE_ERR_INVALID_ARGUMENT, "ae_set_num_threads");
    EXPECT_FAIL(ae_set_num_threads(1025), AE_ERR_INVALID_ARGUMENT, "ae_set_num_threads");
    EXPECT_FAIL(ae_set_num_threads(2147483647), AE_ERR_INVALID_ARGUMENT, "ae_set_num_threads");
    CHECK_OK(ae_set_num_threads(1));
    CHECK(ae_get_num_threads() == 1);

    /* A message survives successful calls on the same thread. */
    check_reset_last_error();
    CHECK_OK(ae_set_num_threads(1));
    CHECK(strstr(ae_last_error(), "ae_set_num_threads") != NULL);
}

/* ---- create ---- */

static void test_create(void) {
    ae_model *model = (ae_model *)&model; /* a sentinel: must be left alone on failure */
    ae_model *const sentinel = model;
    char *deep;
    size_t i, depth = 100000;

    EXPECT_FAIL_MSG(ae_model_create(NULL, &model), AE_ERR_INVALID_ARGUMENT, "ae_model_create", "spec_json");
    EXPECT_FAIL_MSG(ae_model_create(tiny_spec, NULL), AE_ERR_INVALID_ARGUMENT, "ae_model_create", "out");
    EXPECT_FAIL_MSG(ae_model_create("{\"input_size\": 4, \"name\": \"\xff\xfe\"}", &model), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_create", "UTF-8");
    EXPECT_FAIL_MSG(ae_model_create("{\"input_size\": \xc3", &model), AE_ERR_INVALID_ARGUMENT, "ae_model_create", "UTF-8");
    EXPECT_FAIL(ae_model_create("", &model), AE_ERR_INVALID_SPEC, "ae_model_create");
    EXPECT_FAIL(ae_model_create("{", &model), AE_ERR_INVALID_SPEC, "ae_model_create");
    EXPECT_FAIL(ae_model_create("[1, 2", &model), AE_ERR_INVALID_SPEC, "ae_model_create");
    EXPECT_FAIL(ae_model_create("null", &model), AE_ERR_INVALID_SPEC, "ae_model_create");
    EXPECT_FAIL(ae_model_create("{} trailing", &model), AE_ERR_INVALID_SPEC, "ae_model_create");
    EXPECT_FAIL_MSG(ae_model_create("{\"encoder\": [{\"type\": \"dense\", \"units\": 2}], \"decoder\": [{\"type\": \"dense\", \"units\": 4}]}",
                                    &model),
                    AE_ERR_INVALID_SPEC, "ae_model_create", "input_size");
    EXPECT_FAIL_MSG(ae_model_create("{\"input_size\": 4, \"encoder\": [{\"type\": \"dense\", \"units\": 2},"
                                    " {\"type\": \"dense\", \"units\": 0}], \"decoder\": [{\"type\": \"dense\", \"units\": 4}]}",
                                    &model),
                    AE_ERR_INVALID_SPEC, "ae_model_create", "encoder[1].units");
    EXPECT_FAIL_MSG(ae_model_create("{\"input_size\": 4, \"encoder\": [{\"type\": \"dense\", \"units\": 2, \"activation\": \"relux\"}],"
                                    " \"decoder\": [{\"type\": \"dense\", \"units\": 4}]}",
                                    &model),
                    AE_ERR_INVALID_SPEC, "ae_model_create", "encoder[0].activation");
    EXPECT_FAIL_MSG(ae_model_create("{\"input_size\": 4, \"encoder\": [{\"type\": \"dense\", \"units\": 2}],"
                                    " \"decoder\": [{\"type\": \"dense\", \"units\": 4}], \"optimizer\": {\"type\": \"adam\", \"lr\": -1}}",
                                    &model),
                    AE_ERR_INVALID_SPEC, "ae_model_create", "optimizer.lr");
    EXPECT_FAIL_MSG(ae_model_create("{\"input_size\": 4, \"encoder\": [{\"type\": \"dense\", \"units\": 2}],"
                                    " \"decoder\": [{\"type\": \"dense\", \"units\": 5}]}",
                                    &model),
                    AE_ERR_INVALID_SPEC, "ae_model_create", "decoder");
    EXPECT_FAIL_MSG(ae_model_create("{\"input_size\": 4, \"encoderr\": []}", &model), AE_ERR_INVALID_SPEC, "ae_model_create",
                    "encoderr");
    EXPECT_FAIL(ae_model_create("{\"input_size\": 1e400, \"encoder\": [], \"decoder\": []}", &model), AE_ERR_INVALID_SPEC,
                "ae_model_create");
    EXPECT_FAIL(ae_model_create("{\"input_size\": 99999999999999999999, \"encoder\": [{\"type\": \"dense\", \"units\": 2}],"
                                " \"decoder\": [{\"type\": \"dense\", \"units\": 4}]}",
                                &model),
                AE_ERR_INVALID_SPEC, "ae_model_create");
    /* 100,000 nested arrays: an error, not a stack overflow. */
    deep = (char *)malloc(2 * depth + 1);
    if (deep) {
        for (i = 0; i < depth; i++) deep[i] = '[';
        for (i = 0; i < depth; i++) deep[depth + i] = ']';
        deep[2 * depth] = '\0';
        EXPECT_FAIL(ae_model_create(deep, &model), AE_ERR_INVALID_SPEC, "ae_model_create");
        free(deep);
    }
    CHECK(model == sentinel);
}

/* ---- load, save ---- */

static void test_load_save(void) {
    ae_model *model = create(tiny_spec), *loaded = (ae_model *)&loaded, *const sentinel = loaded;
    void *bytes = NULL, *const bytes_sentinel = &bytes, *out_bytes = bytes_sentinel;
    size_t size = 0, out_size = 12345, i, rejected = 0;
    unsigned char *damaged;
    char path_copy[512];
    struct stat info;
    if (!model) return;

    /* load */
    EXPECT_FAIL_MSG(ae_model_load(NULL, &loaded), AE_ERR_INVALID_ARGUMENT, "ae_model_load", "path");
    EXPECT_FAIL_MSG(ae_model_load(temp_path("x"), NULL), AE_ERR_INVALID_ARGUMENT, "ae_model_load", "out");
    EXPECT_FAIL_MSG(ae_model_load("/nonexistent/dir/model.safetensors", &loaded), AE_ERR_IO, "ae_model_load",
                    "/nonexistent/dir/model.safetensors");
    EXPECT_FAIL(ae_model_load(temp_path("missing"), &loaded), AE_ERR_IO, "ae_model_load");
    EXPECT_FAIL(ae_model_load("", &loaded), AE_ERR_INVALID_ARGUMENT, "ae_model_load");
    EXPECT_FAIL(ae_model_load(tmpdir, &loaded), AE_ERR_IO, "ae_model_load"); /* a directory */
    EXPECT_FAIL_MSG(ae_model_load("/tmp/\xff\xfe.safetensors", &loaded), AE_ERR_INVALID_ARGUMENT, "ae_model_load", "UTF-8");
    CHECK(write_file(temp_path("empty"), "", 0));
    EXPECT_FAIL(ae_model_load(temp_path("empty"), &loaded), AE_ERR_FORMAT, "ae_model_load");
    CHECK(write_file(temp_path("text"), "hello, this is not a model file", 31));
    EXPECT_FAIL(ae_model_load(temp_path("text"), &loaded), AE_ERR_FORMAT, "ae_model_load");
    unlink(temp_path("empty"));
    unlink(temp_path("text"));

    /* save_to_memory */
    EXPECT_FAIL_MSG(ae_model_save_to_memory(NULL, 1, &out_bytes, &out_size), AE_ERR_INVALID_ARGUMENT, "ae_model_save_to_memory",
                    "model");
    EXPECT_FAIL_MSG(ae_model_save_to_memory(model, 1, NULL, &out_size), AE_ERR_INVALID_ARGUMENT, "ae_model_save_to_memory", "data");
    EXPECT_FAIL_MSG(ae_model_save_to_memory(model, 1, &out_bytes, NULL), AE_ERR_INVALID_ARGUMENT, "ae_model_save_to_memory", "size");
    CHECK(out_bytes == bytes_sentinel && out_size == 12345); /* untouched */
    CHECK_OK(ae_model_save_to_memory(model, 1, &bytes, &size));
    if (!bytes) goto done;

    /* load_from_memory */
    EXPECT_FAIL_MSG(ae_model_load_from_memory(NULL, size, &loaded), AE_ERR_INVALID_ARGUMENT, "ae_model_load_from_memory", "data");
    EXPECT_FAIL_MSG(ae_model_load_from_memory(bytes, size, NULL), AE_ERR_INVALID_ARGUMENT, "ae_model_load_from_memory", "out");
    EXPECT_FAIL(ae_model_load_from_memory(bytes, 0, &loaded), AE_ERR_FORMAT, "ae_model_load_from_memory");
    EXPECT_FAIL_MSG(ae_model_load_from_memory(bytes, huge, &loaded), AE_ERR_INVALID_ARGUMENT, "ae_model_load_from_memory", "size");
    /* The bytes are read in place (no copy to allocate): a size larger than the file is caught by the
     * tensor table, which must cover the data section exactly, before anything past the file is read. */
    EXPECT_FAIL_MSG(ae_model_load_from_memory(bytes, ((size_t)1 << 62), &loaded), AE_ERR_FORMAT, "ae_model_load_from_memory",
                    "belong to no tensor");
    /* Every truncation is rejected. */
    for (i = 0; i < size; i++) {
        ae_model *m = NULL;
        ae_status status;
        check_reset_last_error();
        status = ae_model_load_from_memory(bytes, i, &m);
        if (status == AE_ERR_FORMAT && strstr(ae_last_error(), "ae_model_load_from_memory")) rejected++;
        ae_model_free(m);
    }
    CHECK(rejected == size);
    /* Every single damaged byte is rejected (XOR 0xFF turns any header byte into invalid UTF-8 or
     * a wrong length; any data byte fails the checksum). */
    damaged = (unsigned char *)malloc(size);
    rejected = 0;
    if (damaged) {
        for (i = 0; i < size; i++) {
            ae_model *m = NULL;
            ae_status status;
            memcpy(damaged, bytes, size);
            damaged[i] ^= 0xFF;
            check_reset_last_error();
            status = ae_model_load_from_memory(damaged, size, &m);
            if (status == AE_ERR_FORMAT && strstr(ae_last_error(), "ae_model_load_from_memory")) {
                rejected++;
            } else {
                fprintf(stderr, "  byte %zu flipped: %s %s\n", i, ae_status_string(status), ae_last_error());
            }
            ae_model_free(m);
        }
        CHECK(rejected == size);
        /* A truncated file and a file with one flipped byte, through ae_model_load. */
        CHECK(write_file(temp_path("truncated"), bytes, size / 2));
        EXPECT_FAIL(ae_model_load(temp_path("truncated"), &loaded), AE_ERR_FORMAT, "ae_model_load");
        memcpy(damaged, bytes, size);
        damaged[size - 3] ^= 0x01;
        CHECK(write_file(temp_path("flipped"), damaged, size));
        EXPECT_FAIL_MSG(ae_model_load(temp_path("flipped"), &loaded), AE_ERR_FORMAT, "ae_model_load", "checksum");
        unlink(temp_path("truncated"));
        unlink(temp_path("flipped"));
        free(damaged);
    }
    CHECK(loaded == sentinel);

    /* save */
    EXPECT_FAIL_MSG(ae_model_save(NULL, temp_path("m"), 1), AE_ERR_INVALID_ARGUMENT, "ae_model_save", "model");
    EXPECT_FAIL_MSG(ae_model_save(model, NULL, 1), AE_ERR_INVALID_ARGUMENT, "ae_model_save", "path");
    EXPECT_FAIL(ae_model_save(model, "", 1), AE_ERR_INVALID_ARGUMENT, "ae_model_save");
    EXPECT_FAIL_MSG(ae_model_save(model, "/tmp/\xc3(bad.safetensors", 1), AE_ERR_INVALID_ARGUMENT, "ae_model_save", "UTF-8");
    EXPECT_FAIL_MSG(ae_model_save(model, "/nonexistent/dir/model.safetensors", 1), AE_ERR_IO, "ae_model_save", "/nonexistent/dir");
    CHECK(mkdir(temp_path("directory"), 0700) == 0);
    EXPECT_FAIL(ae_model_save(model, scratch_path, 1), AE_ERR_IO, "ae_model_save"); /* a directory */
    rmdir(temp_path("directory"));

    /* A failed save keeps the existing file: make the write fail with a file size limit. */
    snprintf(path_copy, sizeof path_copy, "%s", temp_path("keep.safetensors"));
    CHECK(write_file(path_copy, "old model", 9));
    {
        struct rlimit old_limit, limit;
        void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
        getrlimit(RLIMIT_FSIZE, &old_limit);
        limit = old_limit;
        limit.rlim_cur = 64;
        CHECK(setrlimit(RLIMIT_FSIZE, &limit) == 0);
        EXPECT_FAIL(ae_model_save(model, path_copy, 1), AE_ERR_IO, "ae_model_save");
        setrlimit(RLIMIT_FSIZE, &old_limit);
        signal(SIGXFSZ, old_handler);
    }
    {
        size_t kept_size = 0;
        char *kept = (char *)read_file(path_copy, &kept_size);
        CHECK(kept != NULL && kept_size == 9 && memcmp(kept, "old model", 9) == 0);
        free(kept);
    }
    /* ... and leaves no temporary file behind. */
    {
        char temp[600];
        snprintf(temp, sizeof temp, "%s.tmp-%d", path_copy, (int)getpid());
        CHECK(stat(temp, &info) != 0 && errno == ENOENT);
    }
    /* A successful save replaces it, and loads. */
    CHECK_OK(ae_model_save(model, path_copy, 0));
    {
        ae_model *back = NULL;
        CHECK_OK(ae_model_load(path_copy, &back));
        ae_model_free(back);
    }
    unlink(path_copy);
done:
    ae_free(bytes);
    ae_model_free(model);
    ae_model_free(NULL);
}

/* ---- queries ---- */

static void test_queries(void) {
    ae_model *model = create(classic_spec);
    size_t value = 777, dims[3] = {555, 555, 555}, rank = 777;
    int flag = 7;
    const char *text = (const char *)&text, *const text_sentinel = text;
    if (!model) return;
#define NULL_MODEL_AND_OUT(fn, out)                                                                 \
    EXPECT_FAIL_MSG(fn(NULL, out), AE_ERR_INVALID_ARGUMENT, #fn, "model");                          \
    EXPECT_FAIL_MSG(fn(model, NULL), AE_ERR_INVALID_ARGUMENT, #fn, "out")
    NULL_MODEL_AND_OUT(ae_model_input_size, &value);
    NULL_MODEL_AND_OUT(ae_model_code_size, &value);
    NULL_MODEL_AND_OUT(ae_model_parameter_count, &value);
    NULL_MODEL_AND_OUT(ae_model_can_decode, &flag);
    NULL_MODEL_AND_OUT(ae_model_spec, &text);
    NULL_MODEL_AND_OUT(ae_model_epochs_completed, &value);
    NULL_MODEL_AND_OUT(ae_model_tensor_count, &value);
#undef NULL_MODEL_AND_OUT
    CHECK(value == 777 && flag == 7 && text == text_sentinel);

    EXPECT_FAIL_MSG(ae_model_input_shape(NULL, dims, 3, &rank), AE_ERR_INVALID_ARGUMENT, "ae_model_input_shape", "model");
    EXPECT_FAIL_MSG(ae_model_input_shape(model, dims, 3, NULL), AE_ERR_INVALID_ARGUMENT, "ae_model_input_shape", "rank");
    EXPECT_FAIL_MSG(ae_model_input_shape(model, NULL, 3, &rank), AE_ERR_INVALID_ARGUMENT, "ae_model_input_shape", "dims");
    EXPECT_FAIL_MSG(ae_model_input_shape(model, NULL, huge, &rank), AE_ERR_INVALID_ARGUMENT, "ae_model_input_shape", "dims");
    CHECK(rank == 777 && dims[0] == 555);
    CHECK_OK(ae_model_input_shape(model, NULL, 0, &rank)); /* the rank only */
    CHECK(rank == 1);
    CHECK_OK(ae_model_input_shape(model, dims, 3, &rank)); /* capacity beyond the rank: only rank dims written */
    CHECK(rank == 1 && dims[0] == D && dims[1] == 555 && dims[2] == 555);

    /* tensor_info */
    rank = 777;
    EXPECT_FAIL_MSG(ae_model_tensor_info(NULL, 0, &text, dims, 3, &rank, &value), AE_ERR_INVALID_ARGUMENT, "ae_model_tensor_info",
                    "model");
    EXPECT_FAIL_MSG(ae_model_tensor_info(model, 12, &text, dims, 3, &rank, &value), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_tensor_info", "index");
    EXPECT_FAIL_MSG(ae_model_tensor_info(model, huge, &text, dims, 3, &rank, &value), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_tensor_info", "index");
    CHECK(text == text_sentinel && rank == 777 && value == 777);
    CHECK_OK(ae_model_tensor_info(model, 11, NULL, NULL, 0, NULL, NULL)); /* nothing wanted */
    CHECK_OK(ae_model_tensor_info(model, 11, NULL, NULL, 2, NULL, NULL)); /* "any of ... may be NULL" */
    dims[0] = dims[1] = 555;
    CHECK_OK(ae_model_tensor_info(model, 0, NULL, dims, 1, &rank, NULL)); /* capacity below the rank */
    CHECK(rank == 2 && dims[0] == 50 && dims[1] == 555);
    ae_model_free(model);
}

/* ---- parameters ---- */

static void test_parameters(void) {
    ae_model *model = create(classic_spec);
    float bias[50], before[50], after[50], big[51];
    size_t i;
    if (!model) return;
    CHECK_OK(ae_model_get_parameter(model, "encoder.0.bias", before, 50));
    memcpy(bias, before, sizeof bias);

    EXPECT_FAIL_MSG(ae_model_get_parameter(NULL, "encoder.0.bias", bias, 50), AE_ERR_INVALID_ARGUMENT, "ae_model_get_parameter",
                    "model");
    EXPECT_FAIL_MSG(ae_model_get_parameter(model, NULL, bias, 50), AE_ERR_INVALID_ARGUMENT, "ae_model_get_parameter", "name");
    EXPECT_FAIL_MSG(ae_model_get_parameter(model, "encoder.0.bias", NULL, 50), AE_ERR_INVALID_ARGUMENT, "ae_model_get_parameter",
                    "values");
    EXPECT_FAIL_MSG(ae_model_get_parameter(model, "encoder.9.bias", bias, 50), AE_ERR_INVALID_ARGUMENT, "ae_model_get_parameter",
                    "encoder.9.bias");
    EXPECT_FAIL_MSG(ae_model_get_parameter(model, "", bias, 50), AE_ERR_INVALID_ARGUMENT, "ae_model_get_parameter", "name");
    EXPECT_FAIL_MSG(ae_model_get_parameter(model, "encoder.0.\xff", bias, 50), AE_ERR_INVALID_ARGUMENT, "ae_model_get_parameter",
                    "UTF-8");
    EXPECT_FAIL_MSG(ae_model_get_parameter(model, "encoder.0.bias", bias, 49), AE_ERR_SHAPE, "ae_model_get_parameter", "count");
    EXPECT_FAIL_MSG(ae_model_get_parameter(model, "encoder.0.bias", big, 51), AE_ERR_SHAPE, "ae_model_get_parameter", "count");
    EXPECT_FAIL(ae_model_get_parameter(model, "encoder.0.bias", bias, 0), AE_ERR_SHAPE, "ae_model_get_parameter");
    EXPECT_FAIL(ae_model_get_parameter(model, "encoder.0.bias", bias, huge), AE_ERR_SHAPE, "ae_model_get_parameter");

    for (i = 0; i < 50; i++) bias[i] = 1.0f;
    EXPECT_FAIL_MSG(ae_model_set_parameter(NULL, "encoder.0.bias", bias, 50), AE_ERR_INVALID_ARGUMENT, "ae_model_set_parameter",
                    "model");
    EXPECT_FAIL_MSG(ae_model_set_parameter(model, NULL, bias, 50), AE_ERR_INVALID_ARGUMENT, "ae_model_set_parameter", "name");
    EXPECT_FAIL_MSG(ae_model_set_parameter(model, "encoder.0.bias", NULL, 50), AE_ERR_INVALID_ARGUMENT, "ae_model_set_parameter",
                    "values");
    EXPECT_FAIL_MSG(ae_model_set_parameter(model, "nope", bias, 50), AE_ERR_INVALID_ARGUMENT, "ae_model_set_parameter", "nope");
    EXPECT_FAIL_MSG(ae_model_set_parameter(model, "\xfe", bias, 50), AE_ERR_INVALID_ARGUMENT, "ae_model_set_parameter", "UTF-8");
    EXPECT_FAIL_MSG(ae_model_set_parameter(model, "encoder.0.bias", bias, 25), AE_ERR_SHAPE, "ae_model_set_parameter", "count");
    EXPECT_FAIL_MSG(ae_model_set_parameter(model, "encoder.0.bias", big, 51), AE_ERR_SHAPE, "ae_model_set_parameter", "count");
    EXPECT_FAIL(ae_model_set_parameter(model, "encoder.0.bias", bias, huge), AE_ERR_SHAPE, "ae_model_set_parameter");
    bias[49] = NAN;
    EXPECT_FAIL_MSG(ae_model_set_parameter(model, "encoder.0.bias", bias, 50), AE_ERR_NUMERIC, "ae_model_set_parameter",
                    "values[49]");
    bias[49] = 1.0f;
    bias[0] = INFINITY;
    EXPECT_FAIL(ae_model_set_parameter(model, "encoder.0.bias", bias, 50), AE_ERR_NUMERIC, "ae_model_set_parameter");
    bias[0] = -INFINITY;
    EXPECT_FAIL(ae_model_set_parameter(model, "encoder.0.bias", bias, 50), AE_ERR_NUMERIC, "ae_model_set_parameter");
    /* The old values remain after every failed set. */
    CHECK_OK(ae_model_get_parameter(model, "encoder.0.bias", after, 50));
    CHECK(memcmp(before, after, sizeof before) == 0);
    ae_model_free(model);
}

/* ---- input scaling ---- */

static void test_scaling(const float *x) {
    ae_model *model = create(classic_spec);
    float offset[D], scale[D], got_offset[D], got_scale[D], bad[N * D];
    int has = 7;
    size_t i;
    if (!model) return;
    for (i = 0; i < D; i++) {
        offset[i] = 0.5f;
        scale[i] = 2.0f;
    }
    CHECK_OK(ae_model_set_input_scaling(model, offset, scale, D));

    EXPECT_FAIL_MSG(ae_model_set_input_scaling(NULL, offset, scale, D), AE_ERR_INVALID_ARGUMENT, "ae_model_set_input_scaling",
                    "model");
    EXPECT_FAIL_MSG(ae_model_set_input_scaling(model, NULL, scale, D), AE_ERR_INVALID_ARGUMENT, "ae_model_set_input_scaling",
                    "offset");
    EXPECT_FAIL_MSG(ae_model_set_input_scaling(model, offset, NULL, D), AE_ERR_INVALID_ARGUMENT, "ae_model_set_input_scaling",
                    "scale");
    EXPECT_FAIL_MSG(ae_model_set_input_scaling(model, NULL, NULL, D), AE_ERR_INVALID_ARGUMENT, "ae_model_set_input_scaling",
                    "offset");
    EXPECT_FAIL_MSG(ae_model_set_input_scaling(model, offset, scale, D - 1), AE_ERR_SHAPE, "ae_model_set_input_scaling",
                    "features");
    EXPECT_FAIL(ae_model_set_input_scaling(model, offset, scale, 0), AE_ERR_SHAPE, "ae_model_set_input_scaling");
    EXPECT_FAIL(ae_model_set_input_scaling(model, offset, scale, huge), AE_ERR_SHAPE, "ae_model_set_input_scaling");
    scale[7] = 0.0f;
    EXPECT_FAIL_MSG(ae_model_set_input_scaling(model, offset, scale, D), AE_ERR_INVALID_ARGUMENT, "ae_model_set_input_scaling",
                    "scale[7]");
    scale[7] = INFINITY;
    EXPECT_FAIL(ae_model_set_input_scaling(model, offset, scale, D), AE_ERR_INVALID_ARGUMENT, "ae_model_set_input_scaling");
    scale[7] = 3.0f;
    offset[3] = NAN;
    EXPECT_FAIL_MSG(ae_model_set_input_scaling(model, offset, scale, D), AE_ERR_NUMERIC, "ae_model_set_input_scaling", "offset[3]");
    /* The old scaling remains. */
    CHECK_OK(ae_model_get_input_scaling(model, got_offset, got_scale, D, &has));
    CHECK(has == 1 && got_offset[3] == 0.5f && got_scale[7] == 2.0f);

    EXPECT_FAIL_MSG(ae_model_fit_input_scaling(NULL, AE_SCALING_STANDARDIZE, x, N, N * D), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_fit_input_scaling", "model");
    EXPECT_FAIL_MSG(ae_model_fit_input_scaling(model, (ae_scaling_kind)2, x, N, N * D), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_fit_input_scaling", "kind");
    EXPECT_FAIL_MSG(ae_model_fit_input_scaling(model, (ae_scaling_kind)-1, x, N, N * D), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_fit_input_scaling", "kind");
    EXPECT_FAIL_MSG(ae_model_fit_input_scaling(model, AE_SCALING_MINMAX, NULL, N, N * D), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_fit_input_scaling", "data");
    EXPECT_FAIL_MSG(ae_model_fit_input_scaling(model, AE_SCALING_MINMAX, x, 0, 0), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_fit_input_scaling", "n");
    EXPECT_FAIL_MSG(ae_model_fit_input_scaling(model, AE_SCALING_MINMAX, x, N, N * D - 1), AE_ERR_SHAPE,
                    "ae_model_fit_input_scaling", "count");
    EXPECT_FAIL(ae_model_fit_input_scaling(model, AE_SCALING_MINMAX, x, N, N * D + 1), AE_ERR_SHAPE, "ae_model_fit_input_scaling");
    EXPECT_FAIL(ae_model_fit_input_scaling(model, AE_SCALING_MINMAX, x, N, huge), AE_ERR_SHAPE, "ae_model_fit_input_scaling");
    EXPECT_FAIL_MSG(ae_model_fit_input_scaling(model, AE_SCALING_MINMAX, x, overflowing, 100), AE_ERR_SHAPE,
                    "ae_model_fit_input_scaling", "overflow");
    EXPECT_FAIL(ae_model_fit_input_scaling(model, AE_SCALING_MINMAX, x, huge, N * D), AE_ERR_INVALID_ARGUMENT,
                "ae_model_fit_input_scaling");
    memcpy(bad, x, sizeof bad);
    bad[3 * D + 4] = NAN;
    EXPECT_FAIL_MSG(ae_model_fit_input_scaling(model, AE_SCALING_STANDARDIZE, bad, N, N * D), AE_ERR_NUMERIC,
                    "ae_model_fit_input_scaling", "sample 3");
    bad[3 * D + 4] = INFINITY;
    EXPECT_FAIL(ae_model_fit_input_scaling(model, AE_SCALING_MINMAX, bad, N, N * D), AE_ERR_NUMERIC, "ae_model_fit_input_scaling");
    CHECK_OK(ae_model_get_input_scaling(model, got_offset, got_scale, D, &has));
    CHECK(has == 1 && got_offset[3] == 0.5f && got_scale[7] == 2.0f);

    has = 7;
    EXPECT_FAIL_MSG(ae_model_get_input_scaling(NULL, got_offset, got_scale, D, &has), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_get_input_scaling", "model");
    EXPECT_FAIL_MSG(ae_model_get_input_scaling(model, got_offset, got_scale, D, NULL), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_get_input_scaling", "has_scaling");
    EXPECT_FAIL_MSG(ae_model_get_input_scaling(model, NULL, got_scale, D, &has), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_get_input_scaling", "offset");
    EXPECT_FAIL_MSG(ae_model_get_input_scaling(model, got_offset, NULL, D, &has), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_get_input_scaling", "scale");
    EXPECT_FAIL_MSG(ae_model_get_input_scaling(model, got_offset, got_scale, D + 1, &has), AE_ERR_SHAPE,
                    "ae_model_get_input_scaling", "features");
    EXPECT_FAIL(ae_model_get_input_scaling(model, got_offset, got_scale, huge, &has), AE_ERR_SHAPE, "ae_model_get_input_scaling");
    CHECK(has == 7);
    ae_model_free(model);
}

/* ---- training ---- */

static int stop_immediately(const ae_progress *progress, void *user_data) {
    (void)progress;
    (void)user_data;
    return 1;
}

typedef struct {
    ae_model *model;
    const float *x;
    ae_status train_status, set_status, trainer_status, save_status, infer_status;
    char train_message[512];
    const char *save_path;
} reentry;

/* From a progress callback: inference and saving work; training and changing the model do not. */
static int reenter(const ae_progress *progress, void *user_data) {
    reentry *r = (reentry *)user_data;
    float bias[50] = {0}, y[D];
    ae_trainer *trainer = NULL;
    (void)progress;
    r->train_status = ae_model_train(r->model, r->x, N, N * D, NULL, NULL);
    snprintf(r->train_message, sizeof r->train_message, "%s", ae_last_error());
    r->set_status = ae_model_set_parameter(r->model, "encoder.0.bias", bias, 50);
    if (ae_trainer_create(r->model, 4, &trainer) == AE_OK) {
        r->trainer_status = ae_trainer_step(trainer, r->x, 4, 4 * D, NULL);
        ae_trainer_free(trainer);
    }
    r->infer_status = ae_model_reconstruct(r->model, r->x, 1, D, y, D);
    r->save_status = ae_model_save(r->model, r->save_path, 1);
    return 1;
}

static void test_train(const float *x) {
    ae_model *model = create(classic_spec);
    ae_train_options options;
    ae_train_report report, untouched;
    unsigned char bigger[sizeof(ae_train_options) + 64];
    float bad[N * D];
    double loss = -7;
    if (!model) return;
    memset(&untouched, 0x5A, sizeof untouched);
    EXPECT_FAIL_MSG(ae_train_options_init(NULL, sizeof options), AE_ERR_INVALID_ARGUMENT, "ae_train_options_init", "options");
    EXPECT_FAIL_MSG(ae_train_options_init(&options, 8), AE_ERR_INVALID_ARGUMENT, "ae_train_options_init", "struct_size");
    EXPECT_FAIL_MSG(ae_train_options_init(&options, sizeof options - 1), AE_ERR_INVALID_ARGUMENT, "ae_train_options_init", "struct_size");
    ae_train_options_init(&options, sizeof options);
    options.epochs = 1;
    memcpy(&report, &untouched, sizeof report);
    report.struct_size = sizeof report;

    EXPECT_FAIL_MSG(ae_model_train(NULL, x, N, N * D, &options, &report), AE_ERR_INVALID_ARGUMENT, "ae_model_train", "model");
    EXPECT_FAIL_MSG(ae_model_train(model, NULL, N, N * D, &options, &report), AE_ERR_INVALID_ARGUMENT, "ae_model_train", "data");
    EXPECT_FAIL_MSG(ae_model_train(model, x, 0, 0, &options, &report), AE_ERR_INVALID_ARGUMENT, "ae_model_train", "n");
    EXPECT_FAIL_MSG(ae_model_train(model, x, N, N * D - 1, &options, &report), AE_ERR_SHAPE, "ae_model_train", "count");
    EXPECT_FAIL(ae_model_train(model, x, N, N * D + 1, &options, &report), AE_ERR_SHAPE, "ae_model_train");
    EXPECT_FAIL(ae_model_train(model, x, N, huge, &options, &report), AE_ERR_SHAPE, "ae_model_train");
    EXPECT_FAIL_MSG(ae_model_train(model, x, overflowing, N * D, &options, &report), AE_ERR_SHAPE, "ae_model_train", "overflow");
    EXPECT_FAIL(ae_model_train(model, x, huge, N * D, &options, &report), AE_ERR_INVALID_ARGUMENT, "ae_model_train");

    /* struct_size: 0, too small, one byte short; a larger one (a newer header) is accepted. */
    options.struct_size = 0;
    EXPECT_FAIL_MSG(ae_model_train(model, x, N, N * D, &options, &report), AE_ERR_INVALID_ARGUMENT, "ae_model_train",
                    "options->struct_size");
    options.struct_size = 8;
    EXPECT_FAIL_MSG(ae_model_train(model, x, N, N * D, &options, &report), AE_ERR_INVALID_ARGUMENT, "ae_model_train",
                    "options->struct_size");
    options.struct_size = sizeof options - 1;
    EXPECT_FAIL_MSG(ae_model_train(model, x, N, N * D, &options, &report), AE_ERR_INVALID_ARGUMENT, "ae_model_train",
                    "options->struct_size");
    /* A newer header's larger struct: init zeroes exactly struct_size bytes and training accepts it. */
    memset(bigger, 0xEE, sizeof bigger);
    CHECK_OK(ae_train_options_init((ae_train_options *)(void *)bigger, sizeof bigger - 16));
    CHECK(((ae_train_options *)(void *)bigger)->struct_size == sizeof bigger - 16);
    CHECK(bigger[sizeof bigger - 17] == 0 && bigger[sizeof bigger - 16] == 0xEE); /* wrote struct_size bytes, no more */
    ((ae_train_options *)(void *)bigger)->epochs = 1;
    CHECK_OK(ae_model_train(model, x, N, N * D, (ae_train_options *)(void *)bigger, NULL));

#define BAD_OPTION(field, value, status, needle)                                                    \
    do {                                                                                            \
        ae_train_options_init(&options, sizeof options);                                            \
        options.field = value;                                                                      \
        EXPECT_FAIL_MSG(ae_model_train(model, x, N, N * D, &options, &report), status, "ae_model_train", needle); \
    } while (0)
    BAD_OPTION(epochs, 1000001, AE_ERR_INVALID_ARGUMENT, "options->epochs");
    BAD_OPTION(epochs, huge, AE_ERR_INVALID_ARGUMENT, "options->epochs");
    BAD_OPTION(batch_size, 0, AE_ERR_INVALID_ARGUMENT, "options->batch_size");
    BAD_OPTION(batch_size, huge, AE_ERR_INVALID_ARGUMENT, "options->batch_size");
    BAD_OPTION(validation_split, 1.0f, AE_ERR_INVALID_ARGUMENT, "options->validation_split");
    BAD_OPTION(validation_split, -0.5f, AE_ERR_INVALID_ARGUMENT, "options->validation_split");
    BAD_OPTION(validation_split, NAN, AE_ERR_INVALID_ARGUMENT, "options->validation_split");
    BAD_OPTION(validation_split, 0.01f, AE_ERR_INVALID_ARGUMENT, "validation_split"); /* of 8 samples: none held out */
    BAD_OPTION(min_delta, -1.0f, AE_ERR_INVALID_ARGUMENT, "options->min_delta");
    BAD_OPTION(min_delta, NAN, AE_ERR_INVALID_ARGUMENT, "options->min_delta");
    BAD_OPTION(min_delta, INFINITY, AE_ERR_INVALID_ARGUMENT, "options->min_delta");
    BAD_OPTION(validation_samples, 3, AE_ERR_INVALID_ARGUMENT, "options->validation_data");
    BAD_OPTION(validation_count, 300, AE_ERR_INVALID_ARGUMENT, "options->validation_data");
#undef BAD_OPTION
    ae_train_options_init(&options, sizeof options);
    options.validation_data = x;
    options.validation_samples = 0;
    options.validation_count = 0;
    EXPECT_FAIL_MSG(ae_model_train(model, x, N, N * D, &options, &report), AE_ERR_INVALID_ARGUMENT, "ae_model_train",
                    "options->validation_samples");
    options.validation_samples = 2;
    options.validation_count = 2 * D - 1;
    EXPECT_FAIL_MSG(ae_model_train(model, x, N, N * D, &options, &report), AE_ERR_SHAPE, "ae_model_train",
                    "options->validation_count");
    options.validation_samples = overflowing;
    options.validation_count = 2 * D;
    EXPECT_FAIL(ae_model_train(model, x, N, N * D, &options, &report), AE_ERR_SHAPE, "ae_model_train");
    options.validation_samples = huge;
    EXPECT_FAIL(ae_model_train(model, x, N, N * D, &options, &report), AE_ERR_INVALID_ARGUMENT, "ae_model_train");

    /* The report's struct_size. */
    ae_train_options_init(&options, sizeof options);
    options.epochs = 1;
    report.struct_size = 0;
    EXPECT_FAIL_MSG(ae_model_train(model, x, N, N * D, &options, &report), AE_ERR_INVALID_ARGUMENT, "ae_model_train",
                    "report->struct_size");
    report.struct_size = sizeof report - 1;
    EXPECT_FAIL_MSG(ae_model_train(model, x, N, N * D, &options, &report), AE_ERR_INVALID_ARGUMENT, "ae_model_train",
                    "report->struct_size");
    report.struct_size = sizeof report;

    /* NaN and infinite data. */
    memcpy(bad, x, sizeof bad);
    bad[5 * D + 1] = NAN;
    EXPECT_FAIL_MSG(ae_model_train(model, bad, N, N * D, &options, &report), AE_ERR_NUMERIC, "ae_model_train", "sample 5");
    bad[5 * D + 1] = -INFINITY;
    EXPECT_FAIL(ae_model_train(model, bad, N, N * D, &options, &report), AE_ERR_NUMERIC, "ae_model_train");
    options.validation_data = bad;
    options.validation_samples = N;
    options.validation_count = N * D;
    EXPECT_FAIL(ae_model_train(model, x, N, N * D, &options, &report), AE_ERR_NUMERIC, "ae_model_train");
    /* The report is left alone on every failure. */
    untouched.struct_size = sizeof report;
    CHECK(memcmp(&report, &untouched, sizeof report) == 0);

    /* A callback that stops at once still reports. */
    ae_train_options_init(&options, sizeof options);
    options.epochs = 3;
    options.progress = stop_immediately;
    CHECK_OK(ae_model_train(model, x, N, N * D, &options, &report));
    CHECK(report.stop_reason == AE_STOP_CALLBACK && report.epochs_run == 1);

    /* Re-entry from the callback. */
    {
        reentry r;
        char save_path[512];
        memset(&r, 0, sizeof r);
        snprintf(save_path, sizeof save_path, "%s", temp_path("checkpoint.safetensors"));
        r.model = model;
        r.x = x;
        r.save_path = save_path;
        r.trainer_status = AE_OK;
        options.progress = reenter;
        options.user_data = &r;
        CHECK_OK(ae_model_train(model, x, N, N * D, &options, &report));
        CHECK(r.train_status == AE_ERR_INVALID_ARGUMENT && strstr(r.train_message, "ae_model_train") != NULL);
        CHECK(r.set_status == AE_ERR_INVALID_ARGUMENT);
        CHECK(r.trainer_status == AE_ERR_INVALID_ARGUMENT);
        CHECK(r.infer_status == AE_OK);
        CHECK(r.save_status == AE_OK); /* checkpointing from the callback works */
        unlink(save_path);
    }

    /* evaluate */
    EXPECT_FAIL_MSG(ae_model_evaluate(NULL, x, N, N * D, &loss), AE_ERR_INVALID_ARGUMENT, "ae_model_evaluate", "model");
    EXPECT_FAIL_MSG(ae_model_evaluate(model, NULL, N, N * D, &loss), AE_ERR_INVALID_ARGUMENT, "ae_model_evaluate", "data");
    EXPECT_FAIL_MSG(ae_model_evaluate(model, x, N, N * D, NULL), AE_ERR_INVALID_ARGUMENT, "ae_model_evaluate", "loss");
    EXPECT_FAIL_MSG(ae_model_evaluate(model, x, 0, 0, &loss), AE_ERR_INVALID_ARGUMENT, "ae_model_evaluate", "n");
    EXPECT_FAIL_MSG(ae_model_evaluate(model, x, N, N * D - 1, &loss), AE_ERR_SHAPE, "ae_model_evaluate", "count");
    EXPECT_FAIL(ae_model_evaluate(model, x, N, huge, &loss), AE_ERR_SHAPE, "ae_model_evaluate");
    EXPECT_FAIL(ae_model_evaluate(model, x, overflowing, N * D, &loss), AE_ERR_SHAPE, "ae_model_evaluate");
    memcpy(bad, x, sizeof bad);
    bad[0] = NAN;
    EXPECT_FAIL(ae_model_evaluate(model, bad, N, N * D, &loss), AE_ERR_NUMERIC, "ae_model_evaluate");
    CHECK(loss == -7);
    CHECK_OK(ae_model_evaluate(model, x, N, N * D, &loss));
    CHECK(isfinite(loss) && loss >= 0);
    ae_model_free(model);
}

/* A model and data on which plain SGD with a huge learning rate blows up within the first epoch. */
static const char *const diverging_spec =
    "{\"input_size\": 100, \"encoder\": [{\"type\": \"dense\", \"units\": 10}],"
    " \"decoder\": [{\"type\": \"dense\", \"units\": 100}], \"optimizer\": {\"type\": \"sgd\", \"lr\": 1000000}, \"seed\": 1}";

static void test_divergence(const float *x) {
    ae_model *model = create(diverging_spec);
    float *big = (float *)malloc(64 * D * sizeof(float)), *before = NULL, y_before[D], y_after[D];
    size_t count = 0, i, epochs = 99;
    ae_train_options options;
    ae_train_report report;
    if (!model || !big) goto done;
    for (i = 0; i < 64 * D; i++) big[i] = x[i % (N * D)] * 1000.0f;
    before = parameters_copy(model, &count);
    CHECK_OK(ae_model_reconstruct(model, big, 1, D, y_before, D));
    ae_train_options_init(&options, sizeof options);
    options.epochs = 3;
    options.batch_size = 8;
    report.struct_size = sizeof report;
    report.epochs_run = 12345;
    EXPECT_FAIL_MSG(ae_model_train(model, big, 64, 64 * D, &options, &report), AE_ERR_NUMERIC, "ae_model_train", "diverged");
    CHECK(report.epochs_run == 12345);
    CHECK(before != NULL && parameters_equal(model, before, count)); /* the last good weights */
    CHECK_OK(ae_model_epochs_completed(model, &epochs));
    CHECK(epochs == 0);
    CHECK_OK(ae_model_reconstruct(model, big, 1, D, y_after, D));
    CHECK(memcmp(y_before, y_after, sizeof y_before) == 0);
    {
        /* Step-wise: a NaN loss leaves the weights as they were before that step. */
        ae_trainer *trainer = NULL;
        ae_status status = AE_OK;
        int steps = 0;
        float *last = NULL;
        size_t n = 0;
        CHECK_OK(ae_trainer_create(model, 8, &trainer));
        while (trainer && status == AE_OK && steps < 100) {
            free(last);
            last = parameters_copy(model, &n);
            status = ae_trainer_step(trainer, big + (steps % 8) * 8 * D, 8, 8 * D, NULL);
            steps++;
        }
        CHECK(status == AE_ERR_NUMERIC && strstr(ae_last_error(), "ae_trainer_step") != NULL);
        CHECK(last != NULL && parameters_equal(model, last, n));
        free(last);
        ae_trainer_free(trainer);
    }
done:
    free(before);
    free(big);
    ae_model_free(model);
}

/* ---- trainer ---- */

static void test_trainer(const float *x) {
    ae_model *model = create(classic_spec);
    ae_trainer *trainer = (ae_trainer *)&trainer, *const sentinel = trainer;
    double lr = -3, loss = -3;
    size_t steps = 777;
    float bad[N * D];
    if (!model) return;
    EXPECT_FAIL_MSG(ae_trainer_create(NULL, 8, &trainer), AE_ERR_INVALID_ARGUMENT, "ae_trainer_create", "model");
    EXPECT_FAIL_MSG(ae_trainer_create(model, 8, NULL), AE_ERR_INVALID_ARGUMENT, "ae_trainer_create", "out");
    EXPECT_FAIL_MSG(ae_trainer_create(model, 0, &trainer), AE_ERR_INVALID_ARGUMENT, "ae_trainer_create", "batch_size");
    EXPECT_FAIL_MSG(ae_trainer_create(model, huge, &trainer), AE_ERR_INVALID_ARGUMENT, "ae_trainer_create", "batch_size");
    EXPECT_FAIL(ae_trainer_create(model, ((size_t)1 << 20) + 1, &trainer), AE_ERR_INVALID_ARGUMENT, "ae_trainer_create");
    CHECK(trainer == sentinel);
    {
        /* A valid batch size whose workspace cannot be allocated: an error, not an allocation trap. */
        ae_model *wide = create("{\"input_size\": 1048576, \"encoder\": [{\"type\": \"dense\", \"units\": 1}],"
                                " \"decoder\": [{\"type\": \"dense\", \"units\": 1048576}]}");
        EXPECT_FAIL_MSG(ae_trainer_create(wide, (size_t)1 << 20, &trainer), AE_ERR_OUT_OF_MEMORY, "ae_trainer_create",
                        "batch_size");
        ae_model_free(wide);
    }
    CHECK(trainer == sentinel);
    trainer = NULL;
    CHECK_OK(ae_trainer_create(model, N, &trainer));
    if (!trainer) goto done;

    EXPECT_FAIL_MSG(ae_trainer_step(NULL, x, N, N * D, &loss), AE_ERR_INVALID_ARGUMENT, "ae_trainer_step", "trainer");
    EXPECT_FAIL_MSG(ae_trainer_step(trainer, NULL, N, N * D, &loss), AE_ERR_INVALID_ARGUMENT, "ae_trainer_step", "batch");
    EXPECT_FAIL_MSG(ae_trainer_step(trainer, x, 0, 0, &loss), AE_ERR_INVALID_ARGUMENT, "ae_trainer_step", "n");
    EXPECT_FAIL_MSG(ae_trainer_step(trainer, x, N + 1, (N + 1) * D, &loss), AE_ERR_INVALID_ARGUMENT, "ae_trainer_step", "n");
    EXPECT_FAIL(ae_trainer_step(trainer, x, huge, N * D, &loss), AE_ERR_INVALID_ARGUMENT, "ae_trainer_step");
    EXPECT_FAIL_MSG(ae_trainer_step(trainer, x, N, N * D - 1, &loss), AE_ERR_SHAPE, "ae_trainer_step", "count");
    EXPECT_FAIL(ae_trainer_step(trainer, x, N, N * D + 1, &loss), AE_ERR_SHAPE, "ae_trainer_step");
    EXPECT_FAIL(ae_trainer_step(trainer, x, N, huge, &loss), AE_ERR_SHAPE, "ae_trainer_step");
    memcpy(bad, x, sizeof bad);
    bad[N * D - 1] = INFINITY;
    EXPECT_FAIL(ae_trainer_step(trainer, bad, N, N * D, &loss), AE_ERR_NUMERIC, "ae_trainer_step");
    CHECK(loss == -3);

    EXPECT_FAIL_MSG(ae_trainer_set_learning_rate(NULL, 0.1), AE_ERR_INVALID_ARGUMENT, "ae_trainer_set_learning_rate", "trainer");
    EXPECT_FAIL_MSG(ae_trainer_set_learning_rate(trainer, 0), AE_ERR_INVALID_ARGUMENT, "ae_trainer_set_learning_rate",
                    "learning_rate");
    EXPECT_FAIL(ae_trainer_set_learning_rate(trainer, -0.1), AE_ERR_INVALID_ARGUMENT, "ae_trainer_set_learning_rate");
    EXPECT_FAIL(ae_trainer_set_learning_rate(trainer, NAN), AE_ERR_INVALID_ARGUMENT, "ae_trainer_set_learning_rate");
    EXPECT_FAIL(ae_trainer_set_learning_rate(trainer, INFINITY), AE_ERR_INVALID_ARGUMENT, "ae_trainer_set_learning_rate");
    EXPECT_FAIL(ae_trainer_set_learning_rate(trainer, 1e300), AE_ERR_INVALID_ARGUMENT, "ae_trainer_set_learning_rate");
    EXPECT_FAIL(ae_trainer_set_learning_rate(trainer, 1e-300), AE_ERR_INVALID_ARGUMENT, "ae_trainer_set_learning_rate");
    EXPECT_FAIL_MSG(ae_trainer_get_learning_rate(NULL, &lr), AE_ERR_INVALID_ARGUMENT, "ae_trainer_get_learning_rate", "trainer");
    EXPECT_FAIL_MSG(ae_trainer_get_learning_rate(trainer, NULL), AE_ERR_INVALID_ARGUMENT, "ae_trainer_get_learning_rate",
                    "learning_rate");
    CHECK_OK(ae_trainer_get_learning_rate(trainer, &lr));
    CHECK(fabs(lr - 0.001) < 1e-9);
    EXPECT_FAIL_MSG(ae_trainer_step_count(NULL, &steps), AE_ERR_INVALID_ARGUMENT, "ae_trainer_step_count", "trainer");
    EXPECT_FAIL_MSG(ae_trainer_step_count(trainer, NULL), AE_ERR_INVALID_ARGUMENT, "ae_trainer_step_count", "out");
    CHECK_OK(ae_trainer_step_count(trainer, &steps));
    CHECK(steps == 0); /* no failed step counted */
done:
    ae_trainer_free(trainer);
    ae_trainer_free(NULL);
    ae_model_free(model);
}

/* ---- inference ---- */

typedef ae_status (*forward_fn)(const ae_model *, const float *, size_t, size_t, float *, size_t);

/* encode, decode, reconstruct and score share one shape of arguments: (model, in, n, in_count, out, out_count). */
static void misuse_forward(const char *name, forward_fn fn, const ae_model *model, const float *input, size_t in_size,
                           float *output, size_t out_size, const char *in_name, const char *out_name) {
    float *bad = (float *)malloc(N * in_size * sizeof(float));
    char in_count_name[64], out_count_name[64];
    snprintf(in_count_name, sizeof in_count_name, "%s_count", in_name);
    snprintf(out_count_name, sizeof out_count_name, "%s_count", out_name);
    EXPECT_FAIL_MSG(fn(NULL, input, N, N * in_size, output, N * out_size), AE_ERR_INVALID_ARGUMENT, name, "model");
    EXPECT_FAIL_MSG(fn(model, NULL, N, N * in_size, output, N * out_size), AE_ERR_INVALID_ARGUMENT, name, in_name);
    EXPECT_FAIL_MSG(fn(model, input, N, N * in_size, NULL, N * out_size), AE_ERR_INVALID_ARGUMENT, name, out_name);
    EXPECT_FAIL_MSG(fn(model, input, N, N * in_size - 1, output, N * out_size), AE_ERR_SHAPE, name, in_count_name);
    EXPECT_FAIL_MSG(fn(model, input, N, N * in_size + 1, output, N * out_size), AE_ERR_SHAPE, name, in_count_name);
    EXPECT_FAIL_MSG(fn(model, input, N, 0, output, N * out_size), AE_ERR_SHAPE, name, in_count_name);
    EXPECT_FAIL_MSG(fn(model, input, N, huge, output, N * out_size), AE_ERR_SHAPE, name, in_count_name);
    EXPECT_FAIL_MSG(fn(model, input, N, N * in_size, output, N * out_size - 1), AE_ERR_SHAPE, name, out_count_name);
    EXPECT_FAIL_MSG(fn(model, input, N, N * in_size, output, N * out_size + 1), AE_ERR_SHAPE, name, out_count_name);
    EXPECT_FAIL_MSG(fn(model, input, N, N * in_size, output, huge), AE_ERR_SHAPE, name, out_count_name);
    EXPECT_FAIL_MSG(fn(model, input, huge, N * in_size, output, N * out_size), AE_ERR_INVALID_ARGUMENT, name, "n");
    EXPECT_FAIL_MSG(fn(model, input, SIZE_MAX / in_size + 1, 0, output, 0), AE_ERR_SHAPE, name, "overflow");
    EXPECT_FAIL_MSG(fn(model, input, ((size_t)1 << 62) / in_size, 4, output, 4), AE_ERR_SHAPE, name, in_count_name);
    if (bad) {
        memcpy(bad, input, N * in_size * sizeof(float));
        bad[2 * in_size + 1] = NAN;
        EXPECT_FAIL_MSG(fn(model, bad, N, N * in_size, output, N * out_size), AE_ERR_NUMERIC, name, "sample 2");
        bad[2 * in_size + 1] = INFINITY;
        EXPECT_FAIL(fn(model, bad, N, N * in_size, output, N * out_size), AE_ERR_NUMERIC, name);
        bad[2 * in_size + 1] = -INFINITY;
        EXPECT_FAIL(fn(model, bad, N, N * in_size, output, N * out_size), AE_ERR_NUMERIC, name);
        free(bad);
    }
    /* n = 0 with empty buffers is a valid no-op. */
    CHECK_OK(fn(model, input, 0, 0, output, 0));
}

static void test_inference(const float *x) {
    ae_model *model = create(classic_spec);
    float code[N * C], out[N * D], scores[N + 1], *bad = NULL;
    if (!model) return;
    CHECK_OK(ae_model_encode(model, x, N, N * D, code, N * C));
    misuse_forward("ae_model_encode", ae_model_encode, model, x, D, code, C, "input", "code");
    misuse_forward("ae_model_decode", ae_model_decode, model, code, C, out, D, "code", "output");
    misuse_forward("ae_model_reconstruct", ae_model_reconstruct, model, x, D, out, D, "input", "output");

    /* score: scores_count is n. */
    EXPECT_FAIL_MSG(ae_model_score(NULL, x, N, N * D, scores, N), AE_ERR_INVALID_ARGUMENT, "ae_model_score", "model");
    EXPECT_FAIL_MSG(ae_model_score(model, NULL, N, N * D, scores, N), AE_ERR_INVALID_ARGUMENT, "ae_model_score", "input");
    EXPECT_FAIL_MSG(ae_model_score(model, x, N, N * D, NULL, N), AE_ERR_INVALID_ARGUMENT, "ae_model_score", "scores");
    EXPECT_FAIL_MSG(ae_model_score(model, x, N, N * D - 1, scores, N), AE_ERR_SHAPE, "ae_model_score", "input_count");
    EXPECT_FAIL_MSG(ae_model_score(model, x, N, huge, scores, N), AE_ERR_SHAPE, "ae_model_score", "input_count");
    EXPECT_FAIL_MSG(ae_model_score(model, x, N, N * D, scores, N - 1), AE_ERR_SHAPE, "ae_model_score", "scores_count");
    EXPECT_FAIL_MSG(ae_model_score(model, x, N, N * D, scores, N + 1), AE_ERR_SHAPE, "ae_model_score", "scores_count");
    EXPECT_FAIL_MSG(ae_model_score(model, x, N, N * D, scores, huge), AE_ERR_SHAPE, "ae_model_score", "scores_count");
    EXPECT_FAIL_MSG(ae_model_score(model, x, overflowing, 0, scores, overflowing), AE_ERR_SHAPE, "ae_model_score", "overflow");
    EXPECT_FAIL(ae_model_score(model, x, huge, N * D, scores, huge), AE_ERR_INVALID_ARGUMENT, "ae_model_score");
    bad = (float *)malloc(sizeof(float) * N * D);
    if (bad) {
        memcpy(bad, x, sizeof(float) * N * D);
        bad[7 * D] = NAN;
        EXPECT_FAIL(ae_model_score(model, bad, N, N * D, scores, N), AE_ERR_NUMERIC, "ae_model_score");
        free(bad);
    }
    /* Decoding NaN codes. */
    code[3] = NAN;
    EXPECT_FAIL_MSG(ae_model_decode(model, code, N, N * C, out, N * D), AE_ERR_NUMERIC, "ae_model_decode", "code");
    CHECK_OK(ae_model_score(model, x, N, N * D, scores, N));
    ae_model_free(model);
}

/* ---- new spec families: rejected at create, with the JSON path ---- */

static void test_family_specs(void) {
    ae_model *model = (ae_model *)&model, *const sentinel = model;
#define FAMILY_SPEC(encoder, extra)                                                                 \
    "{\"input_size\": 8, \"encoder\": [" encoder "], \"decoder\": [{\"type\": \"dense\", \"units\": 8}]" extra "}"
#define BAD_FAMILY(encoder, extra, needle)                                                          \
    EXPECT_FAIL_MSG(ae_model_create(FAMILY_SPEC(encoder, extra), &model), AE_ERR_INVALID_SPEC, "ae_model_create", needle)
    BAD_FAMILY("{\"type\": \"dense\", \"units\": 4, \"activation\": \"relu\"}",
               ", \"regularization\": {\"sparsity\": {\"type\": \"kl\", \"target\": 0.05, \"weight\": 1}}",
               "regularization.sparsity"); /* KL needs a sigmoid code */
    BAD_FAMILY("{\"type\": \"dense\", \"units\": 4, \"activation\": \"sigmoid\"}",
               ", \"regularization\": {\"sparsity\": {\"type\": \"kl\", \"target\": 1.5, \"weight\": 1}}",
               "regularization.sparsity.target");
    BAD_FAMILY("{\"type\": \"dense\", \"units\": 4, \"activation\": \"sigmoid\"}",
               ", \"regularization\": {\"sparsity\": {\"type\": \"kl\", \"target\": 0.05, \"weight\": -1}}",
               "regularization.sparsity.weight");
    BAD_FAMILY("{\"type\": \"dense\", \"units\": 4, \"activation\": \"sigmoid\"}",
               ", \"regularization\": {\"sparsity\": {\"type\": \"l2\", \"weight\": 1}}", "regularization.sparsity.type");
    BAD_FAMILY("{\"type\": \"dense\", \"units\": 4, \"activation\": \"relu\"}",
               ", \"regularization\": {\"contractive\": {\"weight\": 0.1}}", "regularization.contractive");
    BAD_FAMILY("{\"type\": \"dense\", \"units\": 4, \"activation\": \"sigmoid\"}",
               ", \"regularization\": {\"contractive\": {\"weight\": -0.1}}", "regularization.contractive.weight");
    BAD_FAMILY("{\"type\": \"dense\", \"units\": 4}, {\"type\": \"k_sparse\", \"k\": 0}", "", "encoder[1].k");
    BAD_FAMILY("{\"type\": \"dense\", \"units\": 4}, {\"type\": \"k_sparse\", \"k\": 5}", "", "encoder[1].k");
    BAD_FAMILY("{\"type\": \"dense\", \"units\": 4}", ", \"noise\": {\"type\": \"gaussian\", \"stddev\": -0.5}", "noise.stddev");
    BAD_FAMILY("{\"type\": \"dense\", \"units\": 4}", ", \"noise\": {\"type\": \"dropout\", \"fraction\": 0.5}", "noise.type");
    BAD_FAMILY("{\"type\": \"dense\", \"units\": 4}", ", \"noise\": {\"type\": \"masking\", \"fraction\": 1.5}", "noise.fraction");
    BAD_FAMILY("{\"type\": \"dense\", \"units\": 4}", ", \"noise\": {\"type\": \"masking\", \"stddev\": 0.5, \"fraction\": 0.5}",
               "stddev");
    BAD_FAMILY("{\"type\": \"dense\", \"units\": 4}", ", \"loss\": {\"type\": \"correntropy\", \"sigma\": 0}", "loss.sigma");
    BAD_FAMILY("{\"type\": \"dense\", \"units\": 4}", ", \"loss\": {\"type\": \"correntropy\", \"sigma\": -1}", "loss.sigma");
#undef BAD_FAMILY
#undef FAMILY_SPEC
    CHECK(model == sentinel);
}

/* ---- anomaly detection: threshold and predict ---- */

static float threshold_of(const ae_model *model, int *has) {
    float value = -12345.0f;
    *has = -1;
    if (ae_model_get_threshold(model, &value, has) != AE_OK) *has = -2;
    return value;
}

/* Every way to call ae_model_fit_threshold wrongly; none may change the model's threshold or *threshold. */
static void misuse_fit_threshold(ae_model *model, const float *x) {
    float out = -5.0f, *bad = (float *)malloc(N * D * sizeof(float));
    const char *fn = "ae_model_fit_threshold";
    EXPECT_FAIL_MSG(ae_model_fit_threshold(NULL, x, N, N * D, 0.9, &out), AE_ERR_INVALID_ARGUMENT, fn, "model");
    EXPECT_FAIL_MSG(ae_model_fit_threshold(model, NULL, N, N * D, 0.9, &out), AE_ERR_INVALID_ARGUMENT, fn, "data");
    EXPECT_FAIL_MSG(ae_model_fit_threshold(model, x, 0, 0, 0.9, &out), AE_ERR_INVALID_ARGUMENT, fn, "n");
    EXPECT_FAIL_MSG(ae_model_fit_threshold(model, x, N, N * D - 1, 0.9, &out), AE_ERR_SHAPE, fn, "count");
    EXPECT_FAIL_MSG(ae_model_fit_threshold(model, x, N, N * D + 1, 0.9, &out), AE_ERR_SHAPE, fn, "count");
    EXPECT_FAIL_MSG(ae_model_fit_threshold(model, x, N, 0, 0.9, &out), AE_ERR_SHAPE, fn, "count");
    EXPECT_FAIL_MSG(ae_model_fit_threshold(model, x, N, huge, 0.9, &out), AE_ERR_SHAPE, fn, "count");
    EXPECT_FAIL_MSG(ae_model_fit_threshold(model, x, overflowing, N * D, 0.9, &out), AE_ERR_SHAPE, fn, "overflow");
    EXPECT_FAIL_MSG(ae_model_fit_threshold(model, x, SIZE_MAX / D + 1, 0, 0.9, &out), AE_ERR_SHAPE, fn, "overflow");
    EXPECT_FAIL_MSG(ae_model_fit_threshold(model, x, huge, N * D, 0.9, &out), AE_ERR_INVALID_ARGUMENT, fn, "n");
    EXPECT_FAIL_MSG(ae_model_fit_threshold(model, x, N, N * D, -0.1, &out), AE_ERR_INVALID_ARGUMENT, fn, "quantile");
    EXPECT_FAIL_MSG(ae_model_fit_threshold(model, x, N, N * D, 1.5, &out), AE_ERR_INVALID_ARGUMENT, fn, "quantile");
    EXPECT_FAIL_MSG(ae_model_fit_threshold(model, x, N, N * D, NAN, &out), AE_ERR_INVALID_ARGUMENT, fn, "quantile");
    EXPECT_FAIL_MSG(ae_model_fit_threshold(model, x, N, N * D, INFINITY, &out), AE_ERR_INVALID_ARGUMENT, fn, "quantile");
    EXPECT_FAIL_MSG(ae_model_fit_threshold(model, x, N, N * D, -INFINITY, &out), AE_ERR_INVALID_ARGUMENT, fn, "quantile");
    EXPECT_FAIL_MSG(ae_model_fit_threshold(model, x, N, N * D, 1.0000001, &out), AE_ERR_INVALID_ARGUMENT, fn, "quantile");
    EXPECT_FAIL_MSG(ae_model_fit_threshold(model, x, N, N * D, -1e-300, &out), AE_ERR_INVALID_ARGUMENT, fn, "quantile");
    if (bad) {
        memcpy(bad, x, N * D * sizeof(float));
        bad[3 * D + 4] = NAN;
        EXPECT_FAIL_MSG(ae_model_fit_threshold(model, bad, N, N * D, 0.9, &out), AE_ERR_NUMERIC, fn, "sample 3");
        EXPECT_FAIL_MSG(ae_model_fit_threshold(model, bad, N, N * D, 0.9, &out), AE_ERR_NUMERIC, fn, "element 304");
        bad[3 * D + 4] = INFINITY;
        EXPECT_FAIL(ae_model_fit_threshold(model, bad, N, N * D, 0.9, &out), AE_ERR_NUMERIC, fn);
        bad[3 * D + 4] = -INFINITY;
        EXPECT_FAIL(ae_model_fit_threshold(model, bad, N, N * D, 0.9, &out), AE_ERR_NUMERIC, fn);
        free(bad);
    }
    CHECK(out == -5.0f); /* *threshold untouched on every failure */
}

/* Every invalid threshold value; none may change the model's threshold. */
static void misuse_set_threshold(ae_model *model) {
    const char *fn = "ae_model_set_threshold";
    EXPECT_FAIL_MSG(ae_model_set_threshold(NULL, 1.0f), AE_ERR_INVALID_ARGUMENT, fn, "model");
    EXPECT_FAIL_MSG(ae_model_set_threshold(model, -1.0f), AE_ERR_INVALID_ARGUMENT, fn, "threshold");
    EXPECT_FAIL_MSG(ae_model_set_threshold(model, -1e-30f), AE_ERR_INVALID_ARGUMENT, fn, "threshold");
    EXPECT_FAIL_MSG(ae_model_set_threshold(model, NAN), AE_ERR_INVALID_ARGUMENT, fn, "threshold");
    EXPECT_FAIL_MSG(ae_model_set_threshold(model, -NAN), AE_ERR_INVALID_ARGUMENT, fn, "threshold");
    EXPECT_FAIL_MSG(ae_model_set_threshold(model, INFINITY), AE_ERR_INVALID_ARGUMENT, fn, "threshold");
    EXPECT_FAIL_MSG(ae_model_set_threshold(model, -INFINITY), AE_ERR_INVALID_ARGUMENT, fn, "threshold");
}

static void test_threshold(const float *x) {
    ae_model *model = create(classic_spec);
    float value = -5.0f, bad[N * D];
    int has = 7;
    int32_t labels[N + 1];
    size_t i;
    int untouched;
    const char *fn = "ae_model_predict";
    if (!model) return;

    /* get_threshold */
    EXPECT_FAIL_MSG(ae_model_get_threshold(NULL, &value, &has), AE_ERR_INVALID_ARGUMENT, "ae_model_get_threshold", "model");
    EXPECT_FAIL_MSG(ae_model_get_threshold(model, &value, NULL), AE_ERR_INVALID_ARGUMENT, "ae_model_get_threshold",
                    "has_threshold");
    EXPECT_FAIL_MSG(ae_model_get_threshold(model, NULL, NULL), AE_ERR_INVALID_ARGUMENT, "ae_model_get_threshold",
                    "has_threshold");
    CHECK(has == 7 && value == -5.0f);
    CHECK_OK(ae_model_get_threshold(model, &value, &has));
    CHECK(has == 0 && value == -5.0f); /* no threshold: *threshold is left alone */
    has = 7;
    CHECK_OK(ae_model_get_threshold(model, NULL, &has)); /* threshold may be NULL */
    CHECK(has == 0);

    /* predict without a threshold: AE_ERR_UNSUPPORTED, whatever the batch. */
    for (i = 0; i < N + 1; i++) labels[i] = -9;
    EXPECT_FAIL_MSG(ae_model_predict(model, x, N, N * D, labels, N), AE_ERR_UNSUPPORTED, fn, "threshold");
    EXPECT_FAIL_MSG(ae_model_predict(model, x, 1, D, labels, 1), AE_ERR_UNSUPPORTED, fn, "threshold");
    EXPECT_FAIL(ae_model_predict(model, x, 0, 0, labels, 0), AE_ERR_UNSUPPORTED, fn);

    /* Failed sets and fits leave the model without a threshold. */
    misuse_set_threshold(model);
    misuse_fit_threshold(model, x);
    value = threshold_of(model, &has);
    CHECK(has == 0 && value == -12345.0f);

    /* With a threshold: failed sets and fits keep it, bit for bit. */
    CHECK_OK(ae_model_set_threshold(model, 0.25f));
    value = threshold_of(model, &has);
    CHECK(has == 1 && value == 0.25f);
    misuse_set_threshold(model);
    misuse_fit_threshold(model, x);
    value = threshold_of(model, &has);
    CHECK(has == 1 && value == 0.25f);
    /* Edge values that are valid: 0, -0, the largest float. */
    CHECK_OK(ae_model_set_threshold(model, 0.0f));
    value = threshold_of(model, &has);
    CHECK(has == 1 && value == 0.0f);
    CHECK_OK(ae_model_set_threshold(model, -0.0f));
    value = threshold_of(model, &has);
    CHECK(has == 1 && value == 0.0f);
    CHECK_OK(ae_model_set_threshold(model, 3.4028235e38f));
    value = threshold_of(model, &has);
    CHECK(has == 1 && value == 3.4028235e38f);
    /* Quantiles 0 and 1 are valid, and threshold may be NULL. */
    CHECK_OK(ae_model_fit_threshold(model, x, N, N * D, 0.0, NULL));
    CHECK_OK(ae_model_fit_threshold(model, x, 1, D, 1.0, NULL));
    CHECK_OK(ae_model_set_threshold(model, 0.25f));

    /* predict */
    EXPECT_FAIL_MSG(ae_model_predict(NULL, x, N, N * D, labels, N), AE_ERR_INVALID_ARGUMENT, fn, "model");
    EXPECT_FAIL_MSG(ae_model_predict(model, NULL, N, N * D, labels, N), AE_ERR_INVALID_ARGUMENT, fn, "input");
    EXPECT_FAIL_MSG(ae_model_predict(model, x, N, N * D, NULL, N), AE_ERR_INVALID_ARGUMENT, fn, "labels");
    EXPECT_FAIL_MSG(ae_model_predict(model, x, N, N * D - 1, labels, N), AE_ERR_SHAPE, fn, "input_count");
    EXPECT_FAIL_MSG(ae_model_predict(model, x, N, N * D + 1, labels, N), AE_ERR_SHAPE, fn, "input_count");
    EXPECT_FAIL_MSG(ae_model_predict(model, x, N, 0, labels, N), AE_ERR_SHAPE, fn, "input_count");
    EXPECT_FAIL_MSG(ae_model_predict(model, x, N, huge, labels, N), AE_ERR_SHAPE, fn, "input_count");
    EXPECT_FAIL_MSG(ae_model_predict(model, x, N, N * D, labels, N - 1), AE_ERR_SHAPE, fn, "labels_count");
    EXPECT_FAIL_MSG(ae_model_predict(model, x, N, N * D, labels, N + 1), AE_ERR_SHAPE, fn, "labels_count");
    EXPECT_FAIL_MSG(ae_model_predict(model, x, N, N * D, labels, 0), AE_ERR_SHAPE, fn, "labels_count");
    EXPECT_FAIL_MSG(ae_model_predict(model, x, N, N * D, labels, huge), AE_ERR_SHAPE, fn, "labels_count");
    EXPECT_FAIL_MSG(ae_model_predict(model, x, N, N * D, labels, N * D), AE_ERR_SHAPE, fn, "labels_count");
    EXPECT_FAIL_MSG(ae_model_predict(model, x, huge, N * D, labels, huge), AE_ERR_INVALID_ARGUMENT, fn, "n");
    EXPECT_FAIL_MSG(ae_model_predict(model, x, SIZE_MAX / D + 1, 0, labels, SIZE_MAX / D + 1), AE_ERR_SHAPE, fn, "overflow");
    EXPECT_FAIL_MSG(ae_model_predict(model, x, overflowing, 0, labels, overflowing), AE_ERR_SHAPE, fn, "overflow");
    EXPECT_FAIL_MSG(ae_model_predict(model, x, ((size_t)1 << 62) / D, 4, labels, ((size_t)1 << 62) / D), AE_ERR_SHAPE, fn,
                    "input_count");
    memcpy(bad, x, sizeof bad);
    bad[2 * D + 1] = NAN;
    EXPECT_FAIL_MSG(ae_model_predict(model, bad, N, N * D, labels, N), AE_ERR_NUMERIC, fn, "sample 2");
    bad[2 * D + 1] = INFINITY;
    EXPECT_FAIL(ae_model_predict(model, bad, N, N * D, labels, N), AE_ERR_NUMERIC, fn);
    bad[2 * D + 1] = -INFINITY;
    EXPECT_FAIL(ae_model_predict(model, bad, N, N * D, labels, N), AE_ERR_NUMERIC, fn);
    untouched = 1;
    for (i = 0; i < N + 1; i++) untouched &= labels[i] == -9;
    CHECK(untouched); /* labels untouched on every failure */
    CHECK_OK(ae_model_predict(model, x, 0, 0, labels, 0)); /* n = 0: a no-op */
    CHECK(labels[0] == -9);
    CHECK_OK(ae_model_predict(model, x, N, N * D, labels, N));
    untouched = 1;
    for (i = 0; i < N; i++) untouched &= labels[i] == 0 || labels[i] == 1;
    CHECK(untouched && labels[N] == -9); /* 0 or 1, and nothing past labels_count */
    ae_model_free(model);
}

/* ---- inpainting ---- */

static void test_inpaint(const float *x) {
    ae_model *model = create(classic_spec);
    float *mask = (float *)malloc(N * D * sizeof(float)), *out = (float *)malloc((N * D + 1) * sizeof(float));
    float *bad = (float *)malloc(N * D * sizeof(float));
    const char *fn = "ae_model_inpaint";
    size_t i;
    int untouched;
    if (!model || !mask || !out || !bad) goto done;
    for (i = 0; i < N * D; i++) mask[i] = (i % 3 == 0) ? 0.0f : 1.0f;
    for (i = 0; i < N * D + 1; i++) out[i] = 12345.0f;

    EXPECT_FAIL_MSG(ae_model_inpaint(NULL, x, mask, N, N * D, out, N * D), AE_ERR_INVALID_ARGUMENT, fn, "model");
    EXPECT_FAIL_MSG(ae_model_inpaint(model, NULL, mask, N, N * D, out, N * D), AE_ERR_INVALID_ARGUMENT, fn, "input");
    EXPECT_FAIL_MSG(ae_model_inpaint(model, x, NULL, N, N * D, out, N * D), AE_ERR_INVALID_ARGUMENT, fn, "mask");
    EXPECT_FAIL_MSG(ae_model_inpaint(model, x, mask, N, N * D, NULL, N * D), AE_ERR_INVALID_ARGUMENT, fn, "output");
    EXPECT_FAIL_MSG(ae_model_inpaint(model, x, mask, N, N * D - 1, out, N * D), AE_ERR_SHAPE, fn, "input_count");
    EXPECT_FAIL_MSG(ae_model_inpaint(model, x, mask, N, N * D + 1, out, N * D), AE_ERR_SHAPE, fn, "input_count");
    EXPECT_FAIL_MSG(ae_model_inpaint(model, x, mask, N, 0, out, N * D), AE_ERR_SHAPE, fn, "input_count");
    EXPECT_FAIL_MSG(ae_model_inpaint(model, x, mask, N, huge, out, N * D), AE_ERR_SHAPE, fn, "input_count");
    EXPECT_FAIL_MSG(ae_model_inpaint(model, x, mask, N, N * D, out, N * D - 1), AE_ERR_SHAPE, fn, "output_count");
    EXPECT_FAIL_MSG(ae_model_inpaint(model, x, mask, N, N * D, out, N * D + 1), AE_ERR_SHAPE, fn, "output_count");
    EXPECT_FAIL_MSG(ae_model_inpaint(model, x, mask, N, N * D, out, 0), AE_ERR_SHAPE, fn, "output_count");
    EXPECT_FAIL_MSG(ae_model_inpaint(model, x, mask, N, N * D, out, huge), AE_ERR_SHAPE, fn, "output_count");
    EXPECT_FAIL_MSG(ae_model_inpaint(model, x, mask, huge, N * D, out, N * D), AE_ERR_INVALID_ARGUMENT, fn, "n");
    EXPECT_FAIL_MSG(ae_model_inpaint(model, x, mask, SIZE_MAX / D + 1, 0, out, 0), AE_ERR_SHAPE, fn, "overflow");
    EXPECT_FAIL_MSG(ae_model_inpaint(model, x, mask, ((size_t)1 << 62) / D, 4, out, 4), AE_ERR_SHAPE, fn, "input_count");

    /* Masks hold 0 or 1 only. */
    mask[5] = 0.5f;
    EXPECT_FAIL_MSG(ae_model_inpaint(model, x, mask, N, N * D, out, N * D), AE_ERR_INVALID_ARGUMENT, fn, "mask");
    mask[5] = NAN;
    EXPECT_FAIL_MSG(ae_model_inpaint(model, x, mask, N, N * D, out, N * D), AE_ERR_INVALID_ARGUMENT, fn, "mask");
    mask[5] = -1.0f;
    EXPECT_FAIL_MSG(ae_model_inpaint(model, x, mask, N, N * D, out, N * D), AE_ERR_INVALID_ARGUMENT, fn, "mask");
    mask[5] = 2.0f;
    EXPECT_FAIL_MSG(ae_model_inpaint(model, x, mask, N, N * D, out, N * D), AE_ERR_INVALID_ARGUMENT, fn, "mask");
    mask[5] = 1.0f;
    mask[N * D - 1] = INFINITY; /* the very last element */
    EXPECT_FAIL_MSG(ae_model_inpaint(model, x, mask, N, N * D, out, N * D), AE_ERR_INVALID_ARGUMENT, fn, "mask");
    mask[N * D - 1] = 1.0f;

    /* NaN and infinite inputs, known or missing (missing entries may hold any finite value only). */
    memcpy(bad, x, N * D * sizeof(float));
    bad[2 * D + 1] = NAN; /* known */
    EXPECT_FAIL_MSG(ae_model_inpaint(model, bad, mask, N, N * D, out, N * D), AE_ERR_NUMERIC, fn, "sample 2");
    bad[2 * D + 1] = x[2 * D + 1];
    CHECK(mask[2 * D + 1] == 0.0f || mask[2 * D + 2] == 0.0f || mask[2 * D + 3] == 0.0f);
    for (i = 2 * D; i < 3 * D; i++) {
        if (mask[i] == 0.0f) {
            bad[i] = INFINITY; /* missing */
            break;
        }
    }
    EXPECT_FAIL_MSG(ae_model_inpaint(model, bad, mask, N, N * D, out, N * D), AE_ERR_NUMERIC, fn, "sample 2");
    untouched = 1;
    for (i = 0; i < N * D + 1; i++) untouched &= out[i] == 12345.0f;
    CHECK(untouched); /* output untouched on every failure */

    CHECK_OK(ae_model_inpaint(model, x, mask, 0, 0, out, 0)); /* n = 0: a no-op */
    CHECK(out[0] == 12345.0f);
    CHECK_OK(ae_model_inpaint(model, x, mask, N, N * D, out, N * D));
    CHECK(out[N * D] == 12345.0f); /* nothing written past output_count */
done:
    free(mask);
    free(out);
    free(bad);
    ae_model_free(model);
}

/* ---- masked training: options.mask, ae_trainer_step_masked ---- */

static void test_masked_training(const float *x) {
    ae_model *model = create(classic_spec);
    float *mask = (float *)malloc(N * D * sizeof(float)), *before = NULL, bad[N * D];
    ae_train_options options;
    ae_train_report report, untouched;
    ae_trainer *trainer = NULL;
    size_t count = 0, epochs = 99, steps = 99, i;
    double loss = -3;
    const char *fn = "ae_model_train";
    if (!model || !mask) goto done;
    for (i = 0; i < N * D; i++) mask[i] = (i % 4 == 1) ? 0.0f : 1.0f;
    before = parameters_copy(model, &count);
    memset(&untouched, 0x5A, sizeof untouched);
    untouched.struct_size = sizeof report;
    memcpy(&report, &untouched, sizeof report);

    /* The defaults: no mask. */
    memset(&options, 0x77, sizeof options);
    CHECK_OK(ae_train_options_init(&options, sizeof options));
    CHECK(options.mask == NULL && options.mask_count == 0);

#define BAD_MASK(mask_value, count_value, status, needle)                                          \
    do {                                                                                            \
        ae_train_options_init(&options, sizeof options);                                            \
        options.epochs = 1;                                                                         \
        options.mask = (mask_value);                                                                \
        options.mask_count = (count_value);                                                         \
        EXPECT_FAIL_MSG(ae_model_train(model, x, N, N * D, &options, &report), status, fn, needle); \
    } while (0)
    BAD_MASK(mask, 0, AE_ERR_SHAPE, "mask_count");         /* a mask without mask_count */
    BAD_MASK(NULL, N * D, AE_ERR_INVALID_ARGUMENT, "mask"); /* mask_count without a mask */
    BAD_MASK(NULL, 1, AE_ERR_INVALID_ARGUMENT, "options->mask");
    BAD_MASK(mask, N * D - 1, AE_ERR_SHAPE, "mask_count");
    BAD_MASK(mask, N * D + 1, AE_ERR_SHAPE, "mask_count");
    BAD_MASK(mask, D, AE_ERR_SHAPE, "mask_count");
    BAD_MASK(mask, huge, AE_ERR_SHAPE, "mask_count");
    mask[3 * D + 7] = 0.5f;
    BAD_MASK(mask, N * D, AE_ERR_INVALID_ARGUMENT, "mask");
    mask[3 * D + 7] = NAN;
    BAD_MASK(mask, N * D, AE_ERR_INVALID_ARGUMENT, "mask");
    mask[3 * D + 7] = -INFINITY;
    BAD_MASK(mask, N * D, AE_ERR_INVALID_ARGUMENT, "mask");
    mask[3 * D + 7] = 1.0f;
    mask[N * D - 1] = 0.999f;
    BAD_MASK(mask, N * D, AE_ERR_INVALID_ARGUMENT, "mask");
    mask[N * D - 1] = 1.0f;
#undef BAD_MASK
    /* A mask with a validation split (whose held-out samples would be masked) is refused. */
    ae_train_options_init(&options, sizeof options);
    options.mask = mask;
    options.mask_count = N * D;
    options.validation_split = 0.25f;
    EXPECT_FAIL_MSG(ae_model_train(model, x, N, N * D, &options, &report), AE_ERR_INVALID_ARGUMENT, fn, "validation_split");
    /* NaN data with a mask: still rejected, also where the mask says missing. */
    options.validation_split = 0;
    memcpy(bad, x, sizeof bad);
    bad[1] = NAN; /* mask[1] == 0: a missing entry */
    EXPECT_FAIL_MSG(ae_model_train(model, bad, N, N * D, &options, &report), AE_ERR_NUMERIC, fn, "sample 0");
    /* A struct of the 0.1 size without the mask fields is now too small. */
    options.struct_size = offsetof(ae_train_options, mask);
    EXPECT_FAIL_MSG(ae_model_train(model, x, N, N * D, &options, &report), AE_ERR_INVALID_ARGUMENT, fn, "options->struct_size");
    CHECK(memcmp(&report, &untouched, sizeof report) == 0);
    CHECK(before != NULL && parameters_equal(model, before, count)); /* nothing trained */
    CHECK_OK(ae_model_epochs_completed(model, &epochs));
    CHECK(epochs == 0);

    /* ae_trainer_step_masked */
    fn = "ae_trainer_step_masked";
    CHECK_OK(ae_trainer_create(model, N, &trainer));
    if (!trainer) goto done;
    EXPECT_FAIL_MSG(ae_trainer_step_masked(NULL, x, mask, N, N * D, &loss), AE_ERR_INVALID_ARGUMENT, fn, "trainer");
    EXPECT_FAIL_MSG(ae_trainer_step_masked(trainer, NULL, mask, N, N * D, &loss), AE_ERR_INVALID_ARGUMENT, fn, "batch");
    EXPECT_FAIL_MSG(ae_trainer_step_masked(trainer, x, NULL, N, N * D, &loss), AE_ERR_INVALID_ARGUMENT, fn, "mask");
    EXPECT_FAIL_MSG(ae_trainer_step_masked(trainer, x, mask, 0, 0, &loss), AE_ERR_INVALID_ARGUMENT, fn, "n");
    EXPECT_FAIL_MSG(ae_trainer_step_masked(trainer, x, mask, N + 1, (N + 1) * D, &loss), AE_ERR_INVALID_ARGUMENT, fn, "n");
    EXPECT_FAIL_MSG(ae_trainer_step_masked(trainer, x, mask, huge, N * D, &loss), AE_ERR_INVALID_ARGUMENT, fn, "n");
    EXPECT_FAIL_MSG(ae_trainer_step_masked(trainer, x, mask, N, N * D - 1, &loss), AE_ERR_SHAPE, fn, "count");
    EXPECT_FAIL_MSG(ae_trainer_step_masked(trainer, x, mask, N, N * D + 1, &loss), AE_ERR_SHAPE, fn, "count");
    EXPECT_FAIL_MSG(ae_trainer_step_masked(trainer, x, mask, N, huge, &loss), AE_ERR_SHAPE, fn, "count");
    mask[2 * D] = 0.5f;
    EXPECT_FAIL_MSG(ae_trainer_step_masked(trainer, x, mask, N, N * D, &loss), AE_ERR_INVALID_ARGUMENT, fn, "mask");
    mask[2 * D] = NAN;
    EXPECT_FAIL_MSG(ae_trainer_step_masked(trainer, x, mask, N, N * D, &loss), AE_ERR_INVALID_ARGUMENT, fn, "mask");
    mask[2 * D] = 1.0f;
    mask[N * D - 1] = -0.5f;
    EXPECT_FAIL_MSG(ae_trainer_step_masked(trainer, x, mask, N, N * D, &loss), AE_ERR_INVALID_ARGUMENT, fn, "mask");
    mask[N * D - 1] = 1.0f;
    bad[1] = NAN; /* at a missing entry */
    EXPECT_FAIL_MSG(ae_trainer_step_masked(trainer, bad, mask, N, N * D, &loss), AE_ERR_NUMERIC, fn, "batch");
    bad[1] = INFINITY;
    EXPECT_FAIL(ae_trainer_step_masked(trainer, bad, mask, N, N * D, &loss), AE_ERR_NUMERIC, fn);
    CHECK(loss == -3);
    CHECK_OK(ae_trainer_step_count(trainer, &steps));
    CHECK(steps == 0); /* no failed step counted */
    CHECK(before != NULL && parameters_equal(model, before, count));
    /* A valid masked step works; a mask of zeros only (nothing known) too, with a finite loss. */
    CHECK_OK(ae_trainer_step_masked(trainer, x, mask, N, N * D, &loss));
    CHECK(isfinite(loss) && loss >= 0);
    for (i = 0; i < N * D; i++) bad[i] = 0.0f;
    loss = -3;
    CHECK_OK(ae_trainer_step_masked(trainer, x, bad, N, N * D, &loss));
    CHECK(isfinite(loss));
done:
    ae_trainer_free(trainer);
    free(before);
    free(mask);
    ae_model_free(model);
}

/* ---- convolutional and segmentation models ---- */

/* A segmentation model on 1×4×4 inputs: 3 classes at each of the 16 positions. */
#define SEG_P 16 /* positions = input size = label size (one channel) */
#define SEG_K 3  /* classes */
#define SEG_SPEC(loss)                                                                                      \
    "{\"input_shape\": [1, 4, 4],"                                                                          \
    " \"encoder\": [{\"type\": \"conv2d\", \"filters\": 4, \"kernel\": 3, \"padding\": 1, \"activation\": \"relu\"}]," \
    " \"decoder\": [{\"type\": \"conv2d\", \"filters\": 3, \"kernel\": 1}], \"loss\": " loss ", \"seed\": 2}"
static const char *const seg_spec = SEG_SPEC("\"cross_entropy\"");
static const char *const seg_spec_ignore255 = SEG_SPEC("{\"type\": \"cross_entropy\", \"ignore_index\": 255}");
static const char *const seg_spec_ignore_max = SEG_SPEC("{\"type\": \"cross_entropy\", \"ignore_index\": 2147483647}");

static const size_t seg_overflowing = SIZE_MAX / 4; /* fits a signed size, but times 16 overflows */

/* Labels 0, 1, 2, 0, ... for N samples. */
static void seg_labels(int32_t *labels) {
    size_t i;
    for (i = 0; i < N * SEG_P; i++) labels[i] = (int32_t)(i % SEG_K);
}

static void test_segmentation_queries(void) {
    ae_model *seg = create(seg_spec), *classic = create(classic_spec), *signal = NULL;
    size_t value = 777;
    int flag = 7;
#define NULL_MODEL_AND_OUT(fn, out)                                                                 \
    EXPECT_FAIL_MSG(fn(NULL, out), AE_ERR_INVALID_ARGUMENT, #fn, "model");                          \
    EXPECT_FAIL_MSG(fn(seg, NULL), AE_ERR_INVALID_ARGUMENT, #fn, "out")
    NULL_MODEL_AND_OUT(ae_model_class_count, &value);
    NULL_MODEL_AND_OUT(ae_model_label_size, &value);
#undef NULL_MODEL_AND_OUT
    CHECK(value == 777);
    if (!seg || !classic) goto done;
    CHECK_OK(ae_model_class_count(seg, &value));
    CHECK(value == SEG_K);
    CHECK_OK(ae_model_label_size(seg, &value));
    CHECK(value == SEG_P);
    CHECK_OK(ae_model_input_size(seg, &value));
    CHECK(value == SEG_P);
    CHECK_OK(ae_model_class_count(classic, &value));
    CHECK(value == 0); /* a reconstruction model */
    CHECK_OK(ae_model_label_size(classic, &value));
    CHECK(value == D); /* its training targets are its inputs */
    /* [C, L] inputs: the label size is L, not C * L. */
    signal = create("{\"input_shape\": [2, 10], \"encoder\": [{\"type\": \"conv1d\", \"filters\": 3, \"kernel\": 3, \"padding\": 1}],"
                    " \"decoder\": [{\"type\": \"conv1d\", \"filters\": 4, \"kernel\": 1}], \"loss\": \"cross_entropy\"}");
    if (signal) {
        CHECK_OK(ae_model_label_size(signal, &value));
        CHECK(value == 10);
        CHECK_OK(ae_model_class_count(signal, &value));
        CHECK(value == 4);
        CHECK_OK(ae_model_input_size(signal, &value));
        CHECK(value == 20);
    }
    /* decode cannot work on a segmentation model (it outputs class logits, not data). */
    REGRESSION("ae_model_can_decode reported 1 for a segmentation model, whose ae_model_decode always fails",
              CHECK_OK(ae_model_can_decode(seg, &flag)); CHECK(flag == 0));
done:
    ae_model_free(seg);
    ae_model_free(classic);
    ae_model_free(signal);
}

typedef struct {
    ae_model *model;
    const float *x;
    const int32_t *labels;
    ae_status train_status, step_status, segment_status;
    int segment_in_range;
} seg_reentry;

/* From a progress callback: segment works; training the model (with labels, or by steps) does not. */
static int seg_reenter(const ae_progress *progress, void *user_data) {
    seg_reentry *r = (seg_reentry *)user_data;
    ae_trainer *trainer = NULL;
    int32_t got[SEG_P];
    size_t i;
    (void)progress;
    r->train_status = ae_model_train_labels(r->model, r->x, N, N * SEG_P, r->labels, N * SEG_P, NULL, NULL);
    if (ae_trainer_create(r->model, 4, &trainer) == AE_OK) {
        r->step_status = ae_trainer_step_labels(trainer, r->x, r->labels, 4, 4 * SEG_P, 4 * SEG_P, NULL);
        ae_trainer_free(trainer);
    }
    r->segment_status = ae_model_segment(r->model, r->x, 1, SEG_P, got, SEG_P);
    r->segment_in_range = 1;
    for (i = 0; i < SEG_P; i++) r->segment_in_range &= got[i] >= 0 && got[i] < SEG_K;
    return 0;
}

static void test_train_labels(const float *x) {
    ae_model *model = create(seg_spec), *classic = create(classic_spec), *model255 = create(seg_spec_ignore255);
    ae_model *model_max = create(seg_spec_ignore_max);
    int32_t labels[N * SEG_P], bad_labels[N * SEG_P];
    float bad[N * SEG_P], *before = NULL;
    ae_train_options options;
    ae_train_report report, untouched;
    size_t count = 0, epochs = 99, i;
    const char *fn = "ae_model_train_labels";
    if (!model || !classic || !model255 || !model_max) goto done;
    seg_labels(labels);
    before = parameters_copy(model, &count);
    memset(&untouched, 0x5A, sizeof untouched);
    untouched.struct_size = sizeof report;
    memcpy(&report, &untouched, sizeof report);
    ae_train_options_init(&options, sizeof options);
    options.epochs = 1;

    EXPECT_FAIL_MSG(ae_model_train_labels(NULL, x, N, N * SEG_P, labels, N * SEG_P, &options, &report), AE_ERR_INVALID_ARGUMENT, fn, "model");
    EXPECT_FAIL_MSG(ae_model_train_labels(model, NULL, N, N * SEG_P, labels, N * SEG_P, &options, &report), AE_ERR_INVALID_ARGUMENT, fn, "data");
    EXPECT_FAIL_MSG(ae_model_train_labels(model, x, N, N * SEG_P, NULL, N * SEG_P, &options, &report), AE_ERR_INVALID_ARGUMENT, fn, "labels");
    EXPECT_FAIL_MSG(ae_model_train_labels(model, x, 0, 0, labels, 0, &options, &report), AE_ERR_INVALID_ARGUMENT, fn, "n");
    /* The data's count. */
    EXPECT_FAIL_MSG(ae_model_train_labels(model, x, N, N * SEG_P - 1, labels, N * SEG_P, &options, &report), AE_ERR_SHAPE, fn, "input size");
    EXPECT_FAIL_MSG(ae_model_train_labels(model, x, N, N * SEG_P + 1, labels, N * SEG_P, &options, &report), AE_ERR_SHAPE, fn, "input size");
    EXPECT_FAIL_MSG(ae_model_train_labels(model, x, N, 0, labels, N * SEG_P, &options, &report), AE_ERR_SHAPE, fn, "input size");
    EXPECT_FAIL_MSG(ae_model_train_labels(model, x, N, huge, labels, N * SEG_P, &options, &report), AE_ERR_SHAPE, fn, "input size");
    /* labels_count. */
    EXPECT_FAIL_MSG(ae_model_train_labels(model, x, N, N * SEG_P, labels, N * SEG_P - 1, &options, &report), AE_ERR_SHAPE, fn, "labels_count");
    EXPECT_FAIL_MSG(ae_model_train_labels(model, x, N, N * SEG_P, labels, N * SEG_P + 1, &options, &report), AE_ERR_SHAPE, fn, "labels_count");
    EXPECT_FAIL_MSG(ae_model_train_labels(model, x, N, N * SEG_P, labels, 0, &options, &report), AE_ERR_SHAPE, fn, "labels_count");
    EXPECT_FAIL_MSG(ae_model_train_labels(model, x, N, N * SEG_P, labels, N, &options, &report), AE_ERR_SHAPE, fn, "labels_count");
    EXPECT_FAIL_MSG(ae_model_train_labels(model, x, N, N * SEG_P, labels, N * SEG_P * SEG_K, &options, &report), AE_ERR_SHAPE, fn,
                    "labels_count"); /* one per class and position: that is the output, not the labels */
    EXPECT_FAIL_MSG(ae_model_train_labels(model, x, N, N * SEG_P, labels, huge, &options, &report), AE_ERR_SHAPE, fn, "labels_count");
    /* n: SIZE_MAX, overflowing products, products that do not overflow but match nothing. */
    EXPECT_FAIL_MSG(ae_model_train_labels(model, x, huge, N * SEG_P, labels, N * SEG_P, &options, &report), AE_ERR_INVALID_ARGUMENT, fn, "n");
    EXPECT_FAIL_MSG(ae_model_train_labels(model, x, SIZE_MAX / SEG_P + 1, 0, labels, 0, &options, &report), AE_ERR_SHAPE, fn, "overflow");
    EXPECT_FAIL_MSG(ae_model_train_labels(model, x, seg_overflowing, N * SEG_P, labels, N * SEG_P, &options, &report), AE_ERR_SHAPE, fn,
                    "overflow");
    EXPECT_FAIL_MSG(ae_model_train_labels(model, x, ((size_t)1 << 62) / SEG_P, 4, labels, 4, &options, &report), AE_ERR_SHAPE, fn,
                    "labels_count");

    /* Labels outside 0..classes-1: rejected, the message gives the position [sample, row, column]. */
#define BAD_LABEL(index, value, needle)                                                              \
    do {                                                                                             \
        memcpy(bad_labels, labels, sizeof labels);                                                   \
        bad_labels[index] = (value);                                                                 \
        EXPECT_FAIL_MSG(ae_model_train_labels(model, x, N, N * SEG_P, bad_labels, N * SEG_P, &options, &report), \
                        AE_ERR_INVALID_ARGUMENT, fn, needle);                                        \
    } while (0)
    BAD_LABEL(5 * SEG_P + 2 * 4 + 3, -1, "labels[5, 2, 3]");
    BAD_LABEL(5 * SEG_P + 2 * 4 + 3, SEG_K, "labels[5, 2, 3]");
    BAD_LABEL(5 * SEG_P + 2 * 4 + 3, 1000, "labels[5, 2, 3] = 1000");
    BAD_LABEL(0, INT32_MIN, "labels[0, 0, 0]");
    BAD_LABEL(0, INT32_MAX, "labels[0, 0, 0]");
    BAD_LABEL(N * SEG_P - 1, 3, "labels[7, 3, 3] = 3");
    BAD_LABEL(N * SEG_P - 1, 255, "labels[7, 3, 3]"); /* the ignore label of another spec */
    BAD_LABEL(3 * SEG_P + 1, -99, "labels[3, 0, 1]");
#undef BAD_LABEL

    /* NaN and infinite data. */
    memcpy(bad, x, sizeof bad);
    bad[6 * SEG_P + 3] = NAN;
    EXPECT_FAIL_MSG(ae_model_train_labels(model, bad, N, N * SEG_P, labels, N * SEG_P, &options, &report), AE_ERR_NUMERIC, fn, "sample 6");
    bad[6 * SEG_P + 3] = -INFINITY;
    EXPECT_FAIL(ae_model_train_labels(model, bad, N, N * SEG_P, labels, N * SEG_P, &options, &report), AE_ERR_NUMERIC, fn);

    /* Options: explicit validation data has no labels; bad struct sizes as for ae_model_train. */
    options.validation_data = x;
    options.validation_samples = 2;
    options.validation_count = 2 * SEG_P;
    EXPECT_FAIL_MSG(ae_model_train_labels(model, x, N, N * SEG_P, labels, N * SEG_P, &options, &report), AE_ERR_INVALID_ARGUMENT, fn,
                    "validation labels");
    ae_train_options_init(&options, sizeof options);
    options.epochs = 1;
    options.struct_size = 8;
    EXPECT_FAIL_MSG(ae_model_train_labels(model, x, N, N * SEG_P, labels, N * SEG_P, &options, &report), AE_ERR_INVALID_ARGUMENT, fn,
                    "options->struct_size");
    options.struct_size = sizeof options;
    report.struct_size = 4;
    EXPECT_FAIL_MSG(ae_model_train_labels(model, x, N, N * SEG_P, labels, N * SEG_P, &options, &report), AE_ERR_INVALID_ARGUMENT, fn,
                    "report->struct_size");
    report.struct_size = sizeof report;

    /* ae_model_train without labels, and ae_model_evaluate (which has none), on a segmentation model. */
    EXPECT_FAIL_MSG(ae_model_train(model, x, N, N * SEG_P, &options, &report), AE_ERR_INVALID_ARGUMENT, "ae_model_train",
                    "labels are required");
    EXPECT_FAIL_MSG(ae_model_train(model, x, N, N * SEG_P, NULL, NULL), AE_ERR_INVALID_ARGUMENT, "ae_model_train", "label");
    {
        double loss = -7;
        EXPECT_FAIL_MSG(ae_model_evaluate(model, x, N, N * SEG_P, &loss), AE_ERR_INVALID_ARGUMENT, "ae_model_evaluate", "labels");
        CHECK(loss == -7);
    }
    /* Labels for a reconstruction model. */
    {
        int32_t zeros[N * D];
        memset(zeros, 0, sizeof zeros);
        EXPECT_FAIL_MSG(ae_model_train_labels(classic, x, N, N * D, zeros, N * D, &options, &report), AE_ERR_INVALID_ARGUMENT, fn,
                        "takes no labels");
        EXPECT_FAIL_MSG(ae_model_train_labels(classic, x, N, N * D, zeros, N * SEG_P, &options, &report), AE_ERR_SHAPE, fn, "labels_count");
        CHECK_OK(ae_model_epochs_completed(classic, &epochs));
        CHECK(epochs == 0);
    }

    /* Nothing trained, the report untouched. */
    CHECK(memcmp(&report, &untouched, sizeof report) == 0);
    CHECK(before != NULL && parameters_equal(model, before, count));
    CHECK_OK(ae_model_epochs_completed(model, &epochs));
    CHECK(epochs == 0);

    /* The ignore label is accepted wherever a label goes: the default -100, or the spec's. */
    memcpy(bad_labels, labels, sizeof labels);
    for (i = 0; i < N * SEG_P; i += 5) bad_labels[i] = -100;
    CHECK_OK(ae_model_train_labels(model, x, N, N * SEG_P, bad_labels, N * SEG_P, &options, &report));
    CHECK(report.epochs_run == 1 && isfinite(report.final_train_loss) && report.final_train_loss > 0);
    for (i = 0; i < N * SEG_P; i += 5) bad_labels[i] = 255;
    CHECK_OK(ae_model_train_labels(model255, x, N, N * SEG_P, bad_labels, N * SEG_P, &options, NULL));
    bad_labels[2 * SEG_P + 5] = -100; /* not this spec's ignore label */
    EXPECT_FAIL_MSG(ae_model_train_labels(model255, x, N, N * SEG_P, bad_labels, N * SEG_P, &options, NULL), AE_ERR_INVALID_ARGUMENT, fn,
                    "labels[2, 1, 1]");
    bad_labels[2 * SEG_P + 5] = 256;
    EXPECT_FAIL_MSG(ae_model_train_labels(model255, x, N, N * SEG_P, bad_labels, N * SEG_P, &options, NULL), AE_ERR_INVALID_ARGUMENT, fn,
                    "labels[2, 1, 1] = 256");
    /* Every position ignored: nothing to learn from, but not an error. */
    for (i = 0; i < N * SEG_P; i++) bad_labels[i] = -100;
    CHECK_OK(ae_model_train_labels(model, x, N, N * SEG_P, bad_labels, N * SEG_P, &options, &report));
    /* A validation split holds out the last samples' labels too. */
    options.validation_split = 0.25f;
    CHECK_OK(ae_model_train_labels(model, x, N, N * SEG_P, labels, N * SEG_P, &options, &report));
    CHECK(isfinite(report.final_validation_loss) && report.final_validation_loss > 0);
    options.validation_split = 0;

    /* Re-entry from the progress callback. */
    {
        seg_reentry r;
        memset(&r, 0, sizeof r);
        r.model = model;
        r.x = x;
        r.labels = labels;
        r.step_status = AE_OK;
        options.progress = seg_reenter;
        options.user_data = &r;
        CHECK_OK(ae_model_train_labels(model, x, N, N * SEG_P, labels, N * SEG_P, &options, &report));
        CHECK(r.train_status == AE_ERR_INVALID_ARGUMENT && r.step_status == AE_ERR_INVALID_ARGUMENT);
        CHECK(r.segment_status == AE_OK && r.segment_in_range);
        options.progress = NULL;
        options.user_data = NULL;
    }

    /* int32 labels are compared exactly, also far from 0 (an ignore label near INT32_MAX). */
    memcpy(bad_labels, labels, sizeof labels);
    bad_labels[9] = INT32_MAX;
    CHECK_OK(ae_model_train_labels(model_max, x, N, N * SEG_P, bad_labels, N * SEG_P, &options, NULL));
    REGRESSION("int32 labels were compared as float: a label that rounds to the ignore label is taken for it",
              bad_labels[9] = 2147483600;
              EXPECT_FAIL_MSG(ae_model_train_labels(model_max, x, N, N * SEG_P, bad_labels, N * SEG_P, &options, NULL),
                              AE_ERR_INVALID_ARGUMENT, fn, "labels[0, 2, 1]"));
    REGRESSION("int32 labels were converted to float: the message showed 16777216 for the label 16777217",
              bad_labels[9] = 16777217;
              EXPECT_FAIL_MSG(ae_model_train_labels(model_max, x, N, N * SEG_P, bad_labels, N * SEG_P, &options, NULL),
                              AE_ERR_INVALID_ARGUMENT, fn, "labels[0, 2, 1] = 16777217"));
done:
    free(before);
    ae_model_free(model);
    ae_model_free(classic);
    ae_model_free(model255);
    ae_model_free(model_max);
}

static void test_trainer_step_labels(const float *x) {
    ae_model *model = create(seg_spec), *classic = create(classic_spec);
    ae_trainer *trainer = NULL, *classic_trainer = NULL;
    int32_t labels[N * SEG_P], bad_labels[N * SEG_P];
    float bad[N * SEG_P], ones[N * SEG_P], *before = NULL;
    double loss = -3;
    size_t count = 0, steps = 99, i;
    const char *fn = "ae_trainer_step_labels";
    if (!model || !classic) goto done;
    seg_labels(labels);
    for (i = 0; i < N * SEG_P; i++) ones[i] = 1.0f;
    before = parameters_copy(model, &count);
    CHECK_OK(ae_trainer_create(model, N, &trainer));
    CHECK_OK(ae_trainer_create(classic, N, &classic_trainer));
    if (!trainer || !classic_trainer) goto done;

    EXPECT_FAIL_MSG(ae_trainer_step_labels(NULL, x, labels, N, N * SEG_P, N * SEG_P, &loss), AE_ERR_INVALID_ARGUMENT, fn, "trainer");
    EXPECT_FAIL_MSG(ae_trainer_step_labels(trainer, NULL, labels, N, N * SEG_P, N * SEG_P, &loss), AE_ERR_INVALID_ARGUMENT, fn, "batch");
    EXPECT_FAIL_MSG(ae_trainer_step_labels(trainer, x, NULL, N, N * SEG_P, N * SEG_P, &loss), AE_ERR_INVALID_ARGUMENT, fn, "labels");
    EXPECT_FAIL_MSG(ae_trainer_step_labels(trainer, x, labels, 0, 0, 0, &loss), AE_ERR_INVALID_ARGUMENT, fn, "n");
    EXPECT_FAIL_MSG(ae_trainer_step_labels(trainer, x, labels, N + 1, (N + 1) * SEG_P, (N + 1) * SEG_P, &loss), AE_ERR_INVALID_ARGUMENT, fn,
                    "batch size");
    EXPECT_FAIL_MSG(ae_trainer_step_labels(trainer, x, labels, huge, N * SEG_P, N * SEG_P, &loss), AE_ERR_INVALID_ARGUMENT, fn, "n");
    EXPECT_FAIL_MSG(ae_trainer_step_labels(trainer, x, labels, SIZE_MAX / SEG_P + 1, 0, 0, &loss), AE_ERR_SHAPE, fn, "overflow");
    EXPECT_FAIL_MSG(ae_trainer_step_labels(trainer, x, labels, seg_overflowing, 0, 0, &loss), AE_ERR_SHAPE, fn, "overflow");
    EXPECT_FAIL_MSG(ae_trainer_step_labels(trainer, x, labels, N, N * SEG_P - 1, N * SEG_P, &loss), AE_ERR_SHAPE, fn, "input size");
    EXPECT_FAIL_MSG(ae_trainer_step_labels(trainer, x, labels, N, N * SEG_P + 1, N * SEG_P, &loss), AE_ERR_SHAPE, fn, "input size");
    EXPECT_FAIL_MSG(ae_trainer_step_labels(trainer, x, labels, N, huge, N * SEG_P, &loss), AE_ERR_SHAPE, fn, "input size");
    EXPECT_FAIL_MSG(ae_trainer_step_labels(trainer, x, labels, N, N * SEG_P, N * SEG_P - 1, &loss), AE_ERR_SHAPE, fn, "labels_count");
    EXPECT_FAIL_MSG(ae_trainer_step_labels(trainer, x, labels, N, N * SEG_P, N * SEG_P + 1, &loss), AE_ERR_SHAPE, fn, "labels_count");
    EXPECT_FAIL_MSG(ae_trainer_step_labels(trainer, x, labels, N, N * SEG_P, 0, &loss), AE_ERR_SHAPE, fn, "labels_count");
    EXPECT_FAIL_MSG(ae_trainer_step_labels(trainer, x, labels, N, N * SEG_P, N, &loss), AE_ERR_SHAPE, fn, "labels_count");
    EXPECT_FAIL_MSG(ae_trainer_step_labels(trainer, x, labels, N, N * SEG_P, huge, &loss), AE_ERR_SHAPE, fn, "labels_count");
    memcpy(bad_labels, labels, sizeof labels);
    bad_labels[4 * SEG_P + 3 * 4 + 2] = SEG_K;
    EXPECT_FAIL_MSG(ae_trainer_step_labels(trainer, x, bad_labels, N, N * SEG_P, N * SEG_P, &loss), AE_ERR_INVALID_ARGUMENT, fn,
                    "labels[4, 3, 2] = 3");
    bad_labels[4 * SEG_P + 3 * 4 + 2] = -1;
    EXPECT_FAIL_MSG(ae_trainer_step_labels(trainer, x, bad_labels, N, N * SEG_P, N * SEG_P, &loss), AE_ERR_INVALID_ARGUMENT, fn,
                    "labels[4, 3, 2] = -1");
    bad_labels[4 * SEG_P + 3 * 4 + 2] = INT32_MIN;
    EXPECT_FAIL_MSG(ae_trainer_step_labels(trainer, x, bad_labels + 4 * SEG_P, 1, SEG_P, SEG_P, &loss), AE_ERR_INVALID_ARGUMENT, fn,
                    "labels[0, 3, 2]"); /* positions count from the batch given */
    memcpy(bad, x, sizeof bad);
    bad[3 * SEG_P] = NAN;
    EXPECT_FAIL(ae_trainer_step_labels(trainer, bad, labels, N, N * SEG_P, N * SEG_P, &loss), AE_ERR_NUMERIC, fn);
    bad[3 * SEG_P] = INFINITY;
    EXPECT_FAIL(ae_trainer_step_labels(trainer, bad, labels, N, N * SEG_P, N * SEG_P, &loss), AE_ERR_NUMERIC, fn);
    /* Steps without labels on a segmentation model, with labels on a reconstruction model. */
    EXPECT_FAIL_MSG(ae_trainer_step(trainer, x, N, N * SEG_P, &loss), AE_ERR_INVALID_ARGUMENT, "ae_trainer_step", "labels are required");
    EXPECT_FAIL_MSG(ae_trainer_step_masked(trainer, x, ones, N, N * SEG_P, &loss), AE_ERR_INVALID_ARGUMENT, "ae_trainer_step_masked",
                    "labels are required");
    {
        int32_t zeros[N * D];
        memset(zeros, 0, sizeof zeros);
        EXPECT_FAIL_MSG(ae_trainer_step_labels(classic_trainer, x, zeros, N, N * D, N * D, &loss), AE_ERR_INVALID_ARGUMENT, fn,
                        "takes no labels");
    }
    CHECK(loss == -3);
    CHECK_OK(ae_trainer_step_count(trainer, &steps));
    CHECK(steps == 0); /* no failed step counted */
    CHECK(before != NULL && parameters_equal(model, before, count));

    /* Valid steps: full and partial batches, ignore labels. */
    CHECK_OK(ae_trainer_step_labels(trainer, x, labels, N, N * SEG_P, N * SEG_P, &loss));
    CHECK(isfinite(loss) && loss > 0);
    CHECK_OK(ae_trainer_step_labels(trainer, x, labels, 1, SEG_P, SEG_P, &loss));
    memcpy(bad_labels, labels, sizeof labels);
    bad_labels[0] = -100;
    CHECK_OK(ae_trainer_step_labels(trainer, x, bad_labels, N, N * SEG_P, N * SEG_P, NULL)); /* loss may be NULL */
    CHECK_OK(ae_trainer_step_count(trainer, &steps));
    CHECK(steps == 3);
    CHECK(!parameters_equal(model, before, count));
done:
    free(before);
    ae_trainer_free(trainer);
    ae_trainer_free(classic_trainer);
    ae_model_free(model);
    ae_model_free(classic);
}

static void test_segment(const float *x) {
    ae_model *model = create(seg_spec), *classic = create(classic_spec);
    int32_t labels[N * SEG_P + 1], classic_labels[N * D];
    float bad[N * SEG_P], out[N * SEG_P * SEG_K + 1], code[N * 4 * SEG_P], ones[N * SEG_P], scores[N];
    size_t i;
    int untouched;
    const char *fn = "ae_model_segment";
    if (!model || !classic) goto done;
    for (i = 0; i < N * SEG_P + 1; i++) labels[i] = -9;

    EXPECT_FAIL_MSG(ae_model_segment(NULL, x, N, N * SEG_P, labels, N * SEG_P), AE_ERR_INVALID_ARGUMENT, fn, "model");
    EXPECT_FAIL_MSG(ae_model_segment(model, NULL, N, N * SEG_P, labels, N * SEG_P), AE_ERR_INVALID_ARGUMENT, fn, "input");
    EXPECT_FAIL_MSG(ae_model_segment(model, x, N, N * SEG_P, NULL, N * SEG_P), AE_ERR_INVALID_ARGUMENT, fn, "labels");
    EXPECT_FAIL_MSG(ae_model_segment(model, x, N, N * SEG_P - 1, labels, N * SEG_P), AE_ERR_SHAPE, fn, "input_count");
    EXPECT_FAIL_MSG(ae_model_segment(model, x, N, N * SEG_P + 1, labels, N * SEG_P), AE_ERR_SHAPE, fn, "input_count");
    EXPECT_FAIL_MSG(ae_model_segment(model, x, N, 0, labels, N * SEG_P), AE_ERR_SHAPE, fn, "input_count");
    EXPECT_FAIL_MSG(ae_model_segment(model, x, N, huge, labels, N * SEG_P), AE_ERR_SHAPE, fn, "input_count");
    EXPECT_FAIL_MSG(ae_model_segment(model, x, N, N * SEG_P, labels, N * SEG_P - 1), AE_ERR_SHAPE, fn, "labels_count");
    EXPECT_FAIL_MSG(ae_model_segment(model, x, N, N * SEG_P, labels, N * SEG_P + 1), AE_ERR_SHAPE, fn, "labels_count");
    EXPECT_FAIL_MSG(ae_model_segment(model, x, N, N * SEG_P, labels, 0), AE_ERR_SHAPE, fn, "labels_count");
    EXPECT_FAIL_MSG(ae_model_segment(model, x, N, N * SEG_P, labels, N), AE_ERR_SHAPE, fn, "labels_count");
    EXPECT_FAIL_MSG(ae_model_segment(model, x, N, N * SEG_P, labels, N * SEG_P * SEG_K), AE_ERR_SHAPE, fn, "labels_count");
    EXPECT_FAIL_MSG(ae_model_segment(model, x, N, N * SEG_P, labels, huge), AE_ERR_SHAPE, fn, "labels_count");
    EXPECT_FAIL_MSG(ae_model_segment(model, x, huge, N * SEG_P, labels, N * SEG_P), AE_ERR_INVALID_ARGUMENT, fn, "n");
    EXPECT_FAIL_MSG(ae_model_segment(model, x, SIZE_MAX / SEG_P + 1, 0, labels, 0), AE_ERR_SHAPE, fn, "overflow");
    EXPECT_FAIL_MSG(ae_model_segment(model, x, seg_overflowing, 0, labels, 0), AE_ERR_SHAPE, fn, "overflow");
    EXPECT_FAIL_MSG(ae_model_segment(model, x, ((size_t)1 << 62) / SEG_P, 4, labels, 4), AE_ERR_SHAPE, fn, "input_count");
    memcpy(bad, x, sizeof bad);
    bad[2 * SEG_P + 1] = NAN;
    EXPECT_FAIL_MSG(ae_model_segment(model, bad, N, N * SEG_P, labels, N * SEG_P), AE_ERR_NUMERIC, fn, "sample 2");
    bad[2 * SEG_P + 1] = INFINITY;
    EXPECT_FAIL(ae_model_segment(model, bad, N, N * SEG_P, labels, N * SEG_P), AE_ERR_NUMERIC, fn);
    bad[2 * SEG_P + 1] = -INFINITY;
    EXPECT_FAIL(ae_model_segment(model, bad, N, N * SEG_P, labels, N * SEG_P), AE_ERR_NUMERIC, fn);
    /* On a reconstruction model: unsupported, whatever the batch. */
    for (i = 0; i < N * D; i++) classic_labels[i] = -9;
    EXPECT_FAIL_MSG(ae_model_segment(classic, x, N, N * D, classic_labels, N * D), AE_ERR_UNSUPPORTED, fn, "cross_entropy");
    EXPECT_FAIL_MSG(ae_model_segment(classic, x, 1, D, classic_labels, D), AE_ERR_UNSUPPORTED, fn, "reconstructs");
    EXPECT_FAIL(ae_model_segment(classic, x, 0, 0, classic_labels, 0), AE_ERR_UNSUPPORTED, fn);
    untouched = classic_labels[0] == -9 && classic_labels[N * D - 1] == -9;
    for (i = 0; i < N * SEG_P + 1; i++) untouched &= labels[i] == -9;
    CHECK(untouched); /* labels untouched on every failure */

    CHECK_OK(ae_model_segment(model, x, 0, 0, labels, 0)); /* n = 0: a no-op */
    CHECK(labels[0] == -9);
    CHECK_OK(ae_model_segment(model, x, N, N * SEG_P, labels, N * SEG_P));
    untouched = 1;
    for (i = 0; i < N * SEG_P; i++) untouched &= labels[i] >= 0 && labels[i] < SEG_K;
    CHECK(untouched && labels[N * SEG_P] == -9); /* classes only, and nothing past labels_count */

    /* The reconstruction functions on a segmentation model: AE_ERR_UNSUPPORTED, output untouched.
     * encode still works (the code is there). */
    for (i = 0; i < N * SEG_P; i++) ones[i] = 1.0f;
    for (i = 0; i < N * SEG_P * SEG_K + 1; i++) out[i] = 12345.0f;
    for (i = 0; i < N; i++) scores[i] = 12345.0f;
    CHECK_OK(ae_model_encode(model, x, N, N * SEG_P, code, N * 4 * SEG_P));
    EXPECT_FAIL_MSG(ae_model_score(model, x, N, N * SEG_P, scores, N), AE_ERR_UNSUPPORTED, "ae_model_score", "segmentation");
    EXPECT_FAIL_MSG(ae_model_fit_threshold(model, x, N, N * SEG_P, 0.9, NULL), AE_ERR_UNSUPPORTED, "ae_model_fit_threshold",
                    "segmentation");
    CHECK_OK(ae_model_set_threshold(model, 0.5f));
    EXPECT_FAIL_MSG(ae_model_predict(model, x, N, N * SEG_P, labels, N), AE_ERR_UNSUPPORTED, "ae_model_predict", "segmentation");
    /* With output counts that pass the shape check (n * classes * positions)... */
    EXPECT_FAIL_MSG(ae_model_reconstruct(model, x, N, N * SEG_P, out, N * SEG_P * SEG_K), AE_ERR_UNSUPPORTED, "ae_model_reconstruct",
                    "segmentation");
    EXPECT_FAIL_MSG(ae_model_decode(model, code, N, N * 4 * SEG_P, out, N * SEG_P * SEG_K), AE_ERR_UNSUPPORTED, "ae_model_decode",
                    "segmentation");
    EXPECT_FAIL_MSG(ae_model_inpaint(model, x, ones, N, N * SEG_P, out, N * SEG_P * SEG_K), AE_ERR_UNSUPPORTED, "ae_model_inpaint",
                    "segmentation");
    EXPECT_FAIL_MSG(ae_model_reconstruct(model, x, 0, 0, out, 0), AE_ERR_UNSUPPORTED, "ae_model_reconstruct", "segment");
    /* ...and with the counts the header documents (output_count = n * input size). */
    REGRESSION("reconstruct/decode/inpaint on a segmentation model checked output_count against n * classes * positions "
              "(\"n * input size = 8 * 48\") and returned AE_ERR_SHAPE before AE_ERR_UNSUPPORTED",
              EXPECT_FAIL_MSG(ae_model_reconstruct(model, x, N, N * SEG_P, out, N * SEG_P), AE_ERR_UNSUPPORTED, "ae_model_reconstruct",
                              "segmentation");
              EXPECT_FAIL_MSG(ae_model_decode(model, code, N, N * 4 * SEG_P, out, N * SEG_P), AE_ERR_UNSUPPORTED, "ae_model_decode",
                              "segmentation");
              EXPECT_FAIL_MSG(ae_model_inpaint(model, x, ones, N, N * SEG_P, out, N * SEG_P), AE_ERR_UNSUPPORTED, "ae_model_inpaint",
                              "segmentation"));
    untouched = scores[0] == 12345.0f && scores[N - 1] == 12345.0f;
    for (i = 0; i < N * SEG_P * SEG_K + 1; i++) untouched &= out[i] == 12345.0f;
    CHECK(untouched);
done:
    ae_model_free(model);
    ae_model_free(classic);
}

/* Malformed convolutional and segmentation specs: AE_ERR_INVALID_SPEC, with the JSON path of the
 * entry at fault and the reason in the message. */
static void bad_spec(const char *spec, const char *path, const char *reason, int line) {
    ae_model *model = NULL;
    ae_status status;
    const char *message;
    check_reset_last_error();
    status = ae_model_create(spec, &model);
    check_failure(status, AE_ERR_INVALID_SPEC, "ae_model_create", path, spec, __FILE__, line);
    message = ae_last_error();
    if (reason != NULL && strstr(message, reason) == NULL) {
        fprintf(stderr, "%s:%d: FAILED: the message \"%s\" lacks \"%s\"\n", __FILE__, line, message, reason);
        check_record(0, spec, __FILE__, line);
    }
    CHECK(model == NULL);
    ae_model_free(model);
}
#define BAD_SPEC(spec, path, reason) bad_spec(spec, path, reason, __LINE__)

#define IMAGE_SPEC(encoder, decoder, extra) \
    "{\"input_shape\": [1, 8, 8], \"encoder\": [" encoder "], \"decoder\": [" decoder "]" extra "}"
#define CONV(filters) "{\"type\": \"conv2d\", \"filters\": " #filters ", \"kernel\": 3, \"padding\": 1}"
#define NAMED_CONV(name) "{\"type\": \"conv2d\", \"filters\": 4, \"kernel\": 3, \"padding\": 1, \"name\": \"" name "\"}"
#define MAX_POOL(name) "{\"type\": \"max_pool2d\", \"kernel\": 2, \"name\": \"" name "\"}"

static void test_conv_specs(void) {
    ae_model *model = NULL;
    /* A kernel larger than the padded input: in the encoder, the decoder, with dilation, in 1-D, pooling. */
    BAD_SPEC(IMAGE_SPEC("{\"type\": \"conv2d\", \"filters\": 4, \"kernel\": 11}", CONV(1), ""), "encoder[0]", "larger than the padded input");
    BAD_SPEC(IMAGE_SPEC("{\"type\": \"conv2d\", \"filters\": 4, \"kernel\": 11, \"padding\": 1}", CONV(1), ""), "encoder[0]",
             "larger than the padded input");
    BAD_SPEC(IMAGE_SPEC(CONV(4) ", " MAX_POOL("p"), CONV(4) ", {\"type\": \"conv2d\", \"filters\": 1, \"kernel\": 5}", ""),
             "decoder[1]", "kernel");
    BAD_SPEC(IMAGE_SPEC("{\"type\": \"conv2d\", \"filters\": 4, \"kernel\": 3, \"dilation\": 5}", CONV(1), ""), "encoder[0]", "dilation");
    BAD_SPEC("{\"input_shape\": [1, 8], \"encoder\": [{\"type\": \"conv1d\", \"filters\": 2, \"kernel\": 9}],"
             " \"decoder\": [{\"type\": \"conv1d\", \"filters\": 1, \"kernel\": 1}]}", "encoder[0]", "length");
    BAD_SPEC(IMAGE_SPEC(CONV(4) ", {\"type\": \"max_pool2d\", \"kernel\": 16}", CONV(1), ""), "encoder[1]", "kernel 16");
    /* concat of mismatched spatial shapes. */
    BAD_SPEC(IMAGE_SPEC(NAMED_CONV("a") ", " MAX_POOL("b"), "{\"type\": \"concat\", \"inputs\": [\"a\", \"b\"]}, " CONV(1), ""),
             "decoder[0]", "spatial");
    BAD_SPEC(IMAGE_SPEC(NAMED_CONV("a"), "{\"type\": \"concat\", \"inputs\": [\"a\"]}, " CONV(1), ""), "decoder[0].inputs", "two");
    BAD_SPEC(IMAGE_SPEC(NAMED_CONV("a"), "{\"type\": \"concat\", \"inputs\": [\"a\", \"nowhere\"]}, " CONV(1), ""), "decoder[0].inputs[1]",
             "nowhere");
    /* max_unpool2d whose indices_from is not a max pooling layer, unknown, missing, or of another shape. */
    BAD_SPEC(IMAGE_SPEC(NAMED_CONV("a") ", " MAX_POOL("p"), "{\"type\": \"max_unpool2d\", \"indices_from\": \"a\"}, " CONV(1), ""),
             "decoder[0].indices_from", "not a max pooling layer");
    BAD_SPEC(IMAGE_SPEC(NAMED_CONV("a") ", {\"type\": \"avg_pool2d\", \"kernel\": 2, \"name\": \"p\"}",
                        "{\"type\": \"max_unpool2d\", \"indices_from\": \"p\"}, " CONV(1), ""),
             "decoder[0].indices_from", "not a max pooling layer");
    BAD_SPEC(IMAGE_SPEC(NAMED_CONV("a") ", " MAX_POOL("p"), "{\"type\": \"max_unpool2d\", \"indices_from\": \"input\"}, " CONV(1), ""),
             "decoder[0].indices_from", "not a max pooling layer");
    BAD_SPEC(IMAGE_SPEC(NAMED_CONV("a") ", " MAX_POOL("p"), "{\"type\": \"max_unpool2d\", \"indices_from\": \"pool\"}, " CONV(1), ""),
             "decoder[0].indices_from", "\"pool\"");
    BAD_SPEC(IMAGE_SPEC(NAMED_CONV("a") ", " MAX_POOL("p"),
                        "{\"type\": \"max_unpool2d\", \"indices_from\": \"later\"}, " MAX_POOL("later") ", " CONV(1), ""),
             "decoder[0].indices_from", "later"); /* only earlier nodes */
    BAD_SPEC(IMAGE_SPEC(NAMED_CONV("a") ", " MAX_POOL("p"), "{\"type\": \"max_unpool2d\"}, " CONV(1), ""), "decoder[0].indices_from",
             "required");
    BAD_SPEC(IMAGE_SPEC(NAMED_CONV("a") ", " MAX_POOL("p"),
                        CONV(4) ", {\"type\": \"max_pool2d\", \"kernel\": 2}, {\"type\": \"max_unpool2d\", \"indices_from\": \"p\"}, " CONV(1), ""),
             "decoder[2]", "\"p\"");
    /* 2-D layers on flat inputs, 1-D layers on images. */
    BAD_SPEC("{\"input_shape\": [784], \"encoder\": [{\"type\": \"conv2d\", \"filters\": 4, \"kernel\": 3}],"
             " \"decoder\": [{\"type\": \"dense\", \"units\": 784}]}", "encoder[0]", "[channels, height, width]");
    BAD_SPEC("{\"input_size\": 784, \"encoder\": [{\"type\": \"conv2d\", \"filters\": 4, \"kernel\": 3}],"
             " \"decoder\": [{\"type\": \"dense\", \"units\": 784}]}", "encoder[0]", "[784]");
    BAD_SPEC("{\"input_shape\": [1, 8, 8], \"encoder\": [{\"type\": \"conv1d\", \"filters\": 2, \"kernel\": 3}],"
             " \"decoder\": [{\"type\": \"conv1d\", \"filters\": 1, \"kernel\": 1}]}", "encoder[0]", "[channels, length]");
    /* dense after a convolution without flatten. */
    BAD_SPEC(IMAGE_SPEC(CONV(4) ", {\"type\": \"dense\", \"units\": 10}", "{\"type\": \"dense\", \"units\": 64}, "
                        "{\"type\": \"reshape\", \"shape\": [1, 8, 8]}", ""), "encoder[1]", "flatten");
    /* The output shape does not match the input: channels, size, a flat output, a segmentation output. */
    BAD_SPEC(IMAGE_SPEC(CONV(4), CONV(2), ""), "decoder", "must equal the input shape");
    BAD_SPEC(IMAGE_SPEC(CONV(4), "{\"type\": \"conv_transpose2d\", \"filters\": 1, \"kernel\": 3, \"stride\": 2, \"padding\": 1,"
                                 " \"output_padding\": 1}", ""), "decoder", "[1, 16, 16]");
    BAD_SPEC(IMAGE_SPEC(CONV(4) ", {\"type\": \"flatten\"}, {\"type\": \"dense\", \"units\": 8}", "{\"type\": \"dense\", \"units\": 64}", ""),
             "decoder", "must equal the input shape");
    BAD_SPEC(IMAGE_SPEC(CONV(4), "{\"type\": \"conv2d\", \"filters\": 2, \"kernel\": 3}", ", \"loss\": \"cross_entropy\""), "decoder",
             "[classes] + the input's spatial shape");
    BAD_SPEC("{\"input_size\": 8, \"encoder\": [{\"type\": \"dense\", \"units\": 4}], \"decoder\": [{\"type\": \"dense\", \"units\": 16}],"
             " \"loss\": \"cross_entropy\"}", "decoder", "segmentation");
    /* Keys and values of the new entries. */
    BAD_SPEC(IMAGE_SPEC("{\"type\": \"conv2d\", \"filters\": 4, \"kernal\": 3}", CONV(1), ""), "encoder[0].kernal", "unknown key");
    BAD_SPEC(IMAGE_SPEC("{\"type\": \"conv2d\", \"filters\": 0, \"kernel\": 3}", CONV(1), ""), "encoder[0].filters", NULL);
    BAD_SPEC(IMAGE_SPEC("{\"type\": \"conv2d\", \"filters\": 4, \"kernel\": 3, \"stride\": 0}", CONV(1), ""), "encoder[0].stride", NULL);
    BAD_SPEC(IMAGE_SPEC("{\"type\": \"conv2d\", \"filters\": 4, \"kernel\": 3, \"output_padding\": 1}", CONV(1), ""),
             "encoder[0].output_padding", "unknown key");
    BAD_SPEC(IMAGE_SPEC(CONV(4), "{\"type\": \"conv_transpose2d\", \"filters\": 1, \"kernel\": 3, \"stride\": 2, \"padding\": 1,"
                                 " \"output_padding\": 2}", ""), "decoder[0]", "output padding");
    BAD_SPEC(IMAGE_SPEC(CONV(4) ", {\"type\": \"dropout\", \"rate\": 1}", CONV(1), ""), "encoder[1].rate", NULL);
    BAD_SPEC(IMAGE_SPEC(CONV(4) ", {\"type\": \"dropout\", \"rate\": -0.1}", CONV(1), ""), "encoder[1].rate", NULL);
    BAD_SPEC(IMAGE_SPEC(CONV(4) ", {\"type\": \"batch_norm\", \"eps\": 0}", CONV(1), ""), "encoder[1].eps", NULL);
    BAD_SPEC(IMAGE_SPEC(CONV(4) ", {\"type\": \"batch_norm\", \"momentum\": 2}", CONV(1), ""), "encoder[1].momentum", NULL);
    BAD_SPEC(IMAGE_SPEC(CONV(4), "{\"type\": \"upsample_nearest2d\", \"scale\": 0}, " CONV(1), ""), "decoder[0].scale", NULL);
    BAD_SPEC(IMAGE_SPEC(CONV(4) ", {\"type\": \"flatten\"}", "{\"type\": \"reshape\", \"shape\": [1, 9, 9]}", ""), "decoder[0]", "81");
    BAD_SPEC(IMAGE_SPEC(CONV(4), "{\"type\": \"conv4d\", \"filters\": 1, \"kernel\": 1}", ""), "decoder[0].type", "conv4d");
    BAD_SPEC(IMAGE_SPEC(CONV(4), CONV(1) ", {\"type\": \"conv2d\", \"filters\": 1, \"kernel\": 1, \"inputs\": [\"encoder.0\", \"decoder.0\"]}", ""),
             "decoder[1].inputs", "exactly one");
    BAD_SPEC(IMAGE_SPEC(CONV(4), "{\"type\": \"conv2d\", \"filters\": 2, \"kernel\": 1}",
                        ", \"loss\": {\"type\": \"cross_entropy\", \"ignore_index\": 1.5}"), "loss.ignore_index", NULL);
    BAD_SPEC(IMAGE_SPEC(CONV(4), "{\"type\": \"conv2d\", \"filters\": 2, \"kernel\": 1}",
                        ", \"loss\": {\"type\": \"cross_entropy\", \"weight\": [1, 2]}"), "loss.weight", "unknown key");
    BAD_SPEC("{\"input_shape\": [1, 0, 8], \"encoder\": [" CONV(4) "], \"decoder\": [" CONV(1) "]}", "input_shape[1]", NULL);
    BAD_SPEC("{\"input_shape\": [1, 2, 2, 2, 2], \"encoder\": [" CONV(4) "], \"decoder\": [" CONV(1) "]}", "input_shape", "dimensions");
    BAD_SPEC("{\"input_shape\": [1, 8, 8], \"input_size\": 64, \"encoder\": [" CONV(4) "], \"decoder\": [" CONV(1) "]}", "input_size",
             "not both");
    /* And the good ones are accepted (sanity for the macros above). */
    CHECK_OK(ae_model_create(IMAGE_SPEC(NAMED_CONV("a") ", " MAX_POOL("p"),
                                        "{\"type\": \"max_unpool2d\", \"indices_from\": \"p\"}, {\"type\": \"concat\", \"inputs\": [\"a\", \"decoder.0\"]}, "
                                        CONV(1), ""),
                             &model));
    ae_model_free(model);
}
#undef IMAGE_SPEC
#undef CONV
#undef NAMED_CONV
#undef MAX_POOL

/* ---- variational autoencoders ---- */

/* 100 -> 8 -> variational 3 -> 8 -> 100. */
#define VAE_Z 3
static const char *const vae_spec =
    "{\"input_size\": 100, \"encoder\": [{\"type\": \"dense\", \"units\": 8, \"activation\": \"relu\"},"
    " {\"type\": \"variational\", \"units\": 3}], \"decoder\": [{\"type\": \"dense\", \"units\": 8, \"activation\": \"relu\"},"
    " {\"type\": \"dense\", \"units\": 100}], \"seed\": 4}";

/* A reconstruction model that cannot decode from its code alone: its decoder unpools with the
 * indices of an encoder pooling layer (SegNet). */
static const char *const unpool_spec =
    "{\"input_shape\": [1, 4, 4], \"encoder\": [{\"type\": \"conv2d\", \"filters\": 2, \"kernel\": 3, \"padding\": 1},"
    " {\"type\": \"max_pool2d\", \"kernel\": 2, \"name\": \"pool\"}], \"decoder\": [{\"type\": \"max_unpool2d\", \"indices_from\": \"pool\"},"
    " {\"type\": \"conv2d\", \"filters\": 1, \"kernel\": 3, \"padding\": 1}], \"seed\": 1}";

static int all_equal(const float *values, size_t count, float want) {
    size_t i;
    for (i = 0; i < count; i++)
        if (values[i] != want) return 0;
    return 1;
}

/* ae_model_evaluate_labels: argument checks, label checks, and the value of a segmentation model. */
static void test_evaluate_labels(const float *x) {
    ae_model *seg = create(seg_spec), *classic = create(classic_spec);
    int32_t labels[N * SEG_P];
    double loss = -7, again = -7;
    const char *fn = "ae_model_evaluate_labels";
    size_t i;
    if (!seg || !classic) goto done;
    for (i = 0; i < N * SEG_P; i++) labels[i] = x[i] > 0.5f ? 1 : 0;
    EXPECT_FAIL_MSG(ae_model_evaluate_labels(NULL, x, N, N * SEG_P, labels, N * SEG_P, &loss), AE_ERR_INVALID_ARGUMENT, fn, "model");
    EXPECT_FAIL_MSG(ae_model_evaluate_labels(seg, NULL, N, N * SEG_P, labels, N * SEG_P, &loss), AE_ERR_INVALID_ARGUMENT, fn, "data");
    EXPECT_FAIL_MSG(ae_model_evaluate_labels(seg, x, N, N * SEG_P, NULL, N * SEG_P, &loss), AE_ERR_INVALID_ARGUMENT, fn, "labels");
    EXPECT_FAIL_MSG(ae_model_evaluate_labels(seg, x, N, N * SEG_P, labels, N * SEG_P, NULL), AE_ERR_INVALID_ARGUMENT, fn, "loss");
    EXPECT_FAIL_MSG(ae_model_evaluate_labels(seg, x, 0, 0, labels, 0, &loss), AE_ERR_INVALID_ARGUMENT, fn, "n");
    EXPECT_FAIL_MSG(ae_model_evaluate_labels(seg, x, N, N * SEG_P - 1, labels, N * SEG_P, &loss), AE_ERR_SHAPE, fn, "count");
    EXPECT_FAIL_MSG(ae_model_evaluate_labels(seg, x, N, N * SEG_P, labels, N * SEG_P + 1, &loss), AE_ERR_SHAPE, fn, "labels_count");
    EXPECT_FAIL_MSG(ae_model_evaluate_labels(seg, x, seg_overflowing, 0, labels, 0, &loss), AE_ERR_SHAPE, fn, "overflow");
    labels[3] = 7;
    EXPECT_FAIL_MSG(ae_model_evaluate_labels(seg, x, N, N * SEG_P, labels, N * SEG_P, &loss), AE_ERR_INVALID_ARGUMENT, fn, "= 7");
    labels[3] = -100; /* the ignore label */
    CHECK(loss == -7); /* untouched on failure */
    CHECK_OK(ae_model_evaluate_labels(seg, x, N, N * SEG_P, labels, N * SEG_P, &loss));
    CHECK_OK(ae_model_evaluate_labels(seg, x, N, N * SEG_P, labels, N * SEG_P, &again));
    CHECK(isfinite(loss) && loss > 0 && loss == again);
    EXPECT_FAIL_MSG(ae_model_evaluate_labels(classic, x, N, N * D, labels, N * D, &loss), AE_ERR_INVALID_ARGUMENT, fn, "no labels");
    EXPECT_FAIL_MSG(ae_model_evaluate(seg, x, N, N * SEG_P, &loss), AE_ERR_INVALID_ARGUMENT, "ae_model_evaluate", "labels");
done:
    ae_model_free(seg);
    ae_model_free(classic);
}

/* ae_model_sample_codes: argument checks, refusal for models that are not VAEs, seeded draws. */
static void test_sample_codes(const float *x) {
    ae_model *vae = create(vae_spec), *classic = create(classic_spec);
    float codes[N * VAE_Z], again[N * VAE_Z], mean[N * VAE_Z], logvar[N * VAE_Z], big[N * C];
    const char *fn = "ae_model_sample_codes";
    size_t i;
    if (!vae || !classic) goto done;
    for (i = 0; i < N * VAE_Z; i++) codes[i] = 12345.0f;
    EXPECT_FAIL_MSG(ae_model_sample_codes(NULL, x, N, N * D, 1, codes, N * VAE_Z), AE_ERR_INVALID_ARGUMENT, fn, "model");
    EXPECT_FAIL_MSG(ae_model_sample_codes(vae, NULL, N, N * D, 1, codes, N * VAE_Z), AE_ERR_INVALID_ARGUMENT, fn, "input");
    EXPECT_FAIL_MSG(ae_model_sample_codes(vae, x, N, N * D, 1, NULL, N * VAE_Z), AE_ERR_INVALID_ARGUMENT, fn, "codes");
    EXPECT_FAIL_MSG(ae_model_sample_codes(vae, x, N, N * D - 1, 1, codes, N * VAE_Z), AE_ERR_SHAPE, fn, "input_count");
    EXPECT_FAIL_MSG(ae_model_sample_codes(vae, x, N, N * D, 1, codes, N * VAE_Z + 1), AE_ERR_SHAPE, fn, "codes_count");
    EXPECT_FAIL_MSG(ae_model_sample_codes(vae, x, huge, N * D, 1, codes, N * VAE_Z), AE_ERR_INVALID_ARGUMENT, fn, "n");
    EXPECT_FAIL_MSG(ae_model_sample_codes(vae, x, overflowing, 0, 1, codes, 0), AE_ERR_SHAPE, fn, "overflow");
    CHECK(all_equal(codes, N * VAE_Z, 12345.0f)); /* untouched on failure */
    EXPECT_FAIL_MSG(ae_model_sample_codes(classic, x, N, N * D, 1, big, N * C), AE_ERR_UNSUPPORTED, fn, "variational");

    /* Same seed, same draws; another seed, other draws; draws are mean + std * eps. */
    CHECK_OK(ae_model_sample_codes(vae, x, N, N * D, 7, codes, N * VAE_Z));
    CHECK_OK(ae_model_sample_codes(vae, x, N, N * D, 7, again, N * VAE_Z));
    CHECK(memcmp(codes, again, sizeof codes) == 0);
    CHECK_OK(ae_model_sample_codes(vae, x, N, N * D, 8, again, N * VAE_Z));
    CHECK(memcmp(codes, again, sizeof codes) != 0);
    CHECK_OK(ae_model_encode_distribution(vae, x, N, N * D, mean, N * VAE_Z, logvar, N * VAE_Z));
    for (i = 0; i < N * VAE_Z; i++) CHECK(isfinite(codes[i]) && fabsf(codes[i] - mean[i]) <= 8.0f * expf(0.5f * logvar[i]));
done:
    ae_model_free(vae);
    ae_model_free(classic);
}

static void test_encode_distribution(const float *x) {
    ae_model *vae = create(vae_spec), *classic = create(classic_spec), *seg = create(seg_spec);
    float mean[N * VAE_Z + 1], logvar[N * VAE_Z + 1], *bad = NULL, big_mean[N * C], big_logvar[N * C];
    float seg_mean[N * 4 * SEG_P], seg_logvar[N * 4 * SEG_P];
    const char *fn = "ae_model_encode_distribution";
    size_t i;
    if (!vae || !classic || !seg) goto done;
    for (i = 0; i < N * VAE_Z + 1; i++) mean[i] = logvar[i] = 12345.0f;

    EXPECT_FAIL_MSG(ae_model_encode_distribution(NULL, x, N, N * D, mean, N * VAE_Z, logvar, N * VAE_Z), AE_ERR_INVALID_ARGUMENT, fn, "model");
    EXPECT_FAIL_MSG(ae_model_encode_distribution(vae, NULL, N, N * D, mean, N * VAE_Z, logvar, N * VAE_Z), AE_ERR_INVALID_ARGUMENT, fn, "input");
    EXPECT_FAIL_MSG(ae_model_encode_distribution(vae, x, N, N * D, NULL, N * VAE_Z, logvar, N * VAE_Z), AE_ERR_INVALID_ARGUMENT, fn, "mean");
    EXPECT_FAIL_MSG(ae_model_encode_distribution(vae, x, N, N * D, mean, N * VAE_Z, NULL, N * VAE_Z), AE_ERR_INVALID_ARGUMENT, fn, "logvar");
    EXPECT_FAIL_MSG(ae_model_encode_distribution(vae, x, N, N * D - 1, mean, N * VAE_Z, logvar, N * VAE_Z), AE_ERR_SHAPE, fn, "input_count");
    EXPECT_FAIL_MSG(ae_model_encode_distribution(vae, x, N, N * D + 1, mean, N * VAE_Z, logvar, N * VAE_Z), AE_ERR_SHAPE, fn, "input_count");
    EXPECT_FAIL_MSG(ae_model_encode_distribution(vae, x, N, 0, mean, N * VAE_Z, logvar, N * VAE_Z), AE_ERR_SHAPE, fn, "input_count");
    EXPECT_FAIL_MSG(ae_model_encode_distribution(vae, x, N, huge, mean, N * VAE_Z, logvar, N * VAE_Z), AE_ERR_SHAPE, fn, "input_count");
    EXPECT_FAIL_MSG(ae_model_encode_distribution(vae, x, N, N * D, mean, N * VAE_Z - 1, logvar, N * VAE_Z), AE_ERR_SHAPE, fn, "mean_count");
    EXPECT_FAIL_MSG(ae_model_encode_distribution(vae, x, N, N * D, mean, N * VAE_Z + 1, logvar, N * VAE_Z), AE_ERR_SHAPE, fn, "mean_count");
    EXPECT_FAIL_MSG(ae_model_encode_distribution(vae, x, N, N * D, mean, 0, logvar, N * VAE_Z), AE_ERR_SHAPE, fn, "mean_count");
    EXPECT_FAIL_MSG(ae_model_encode_distribution(vae, x, N, N * D, mean, huge, logvar, N * VAE_Z), AE_ERR_SHAPE, fn, "mean_count");
    EXPECT_FAIL_MSG(ae_model_encode_distribution(vae, x, N, N * D, mean, N * VAE_Z, logvar, N * VAE_Z - 1), AE_ERR_SHAPE, fn, "logvar_count");
    EXPECT_FAIL_MSG(ae_model_encode_distribution(vae, x, N, N * D, mean, N * VAE_Z, logvar, N * VAE_Z + 1), AE_ERR_SHAPE, fn, "logvar_count");
    EXPECT_FAIL_MSG(ae_model_encode_distribution(vae, x, N, N * D, mean, N * VAE_Z, logvar, 0), AE_ERR_SHAPE, fn, "logvar_count");
    EXPECT_FAIL_MSG(ae_model_encode_distribution(vae, x, N, N * D, mean, N * VAE_Z, logvar, huge), AE_ERR_SHAPE, fn, "logvar_count");
    EXPECT_FAIL_MSG(ae_model_encode_distribution(vae, x, huge, N * D, mean, N * VAE_Z, logvar, N * VAE_Z), AE_ERR_INVALID_ARGUMENT, fn, "n");
    EXPECT_FAIL_MSG(ae_model_encode_distribution(vae, x, overflowing, 0, mean, 0, logvar, 0), AE_ERR_SHAPE, fn, "overflow");
    EXPECT_FAIL_MSG(ae_model_encode_distribution(vae, x, ((size_t)1 << 62) / D, 4, mean, 4, logvar, 4), AE_ERR_SHAPE, fn, "input_count");
    bad = (float *)malloc(N * D * sizeof(float));
    if (bad) {
        memcpy(bad, x, N * D * sizeof(float));
        bad[2 * D + 1] = NAN;
        EXPECT_FAIL_MSG(ae_model_encode_distribution(vae, bad, N, N * D, mean, N * VAE_Z, logvar, N * VAE_Z), AE_ERR_NUMERIC, fn, "sample 2");
        bad[2 * D + 1] = INFINITY;
        EXPECT_FAIL(ae_model_encode_distribution(vae, bad, N, N * D, mean, N * VAE_Z, logvar, N * VAE_Z), AE_ERR_NUMERIC, fn);
        bad[2 * D + 1] = -INFINITY;
        EXPECT_FAIL(ae_model_encode_distribution(vae, bad, N, N * D, mean, N * VAE_Z, logvar, N * VAE_Z), AE_ERR_NUMERIC, fn);
        free(bad);
    }
    CHECK(all_equal(mean, N * VAE_Z + 1, 12345.0f) && all_equal(logvar, N * VAE_Z + 1, 12345.0f)); /* untouched on failure */

    /* Models that are not VAEs: AE_ERR_UNSUPPORTED whatever the batch, outputs untouched. */
    for (i = 0; i < N * C; i++) big_mean[i] = big_logvar[i] = 12345.0f;
    EXPECT_FAIL_MSG(ae_model_encode_distribution(classic, x, N, N * D, big_mean, N * C, big_logvar, N * C), AE_ERR_UNSUPPORTED, fn,
                    "variational");
    EXPECT_FAIL(ae_model_encode_distribution(classic, x, 1, D, big_mean, C, big_logvar, C), AE_ERR_UNSUPPORTED, fn);
    EXPECT_FAIL(ae_model_encode_distribution(classic, x, 0, 0, big_mean, 0, big_logvar, 0), AE_ERR_UNSUPPORTED, fn);
    EXPECT_FAIL(ae_model_encode_distribution(seg, x, N, N * SEG_P, seg_mean, N * 4 * SEG_P, seg_logvar, N * 4 * SEG_P), AE_ERR_UNSUPPORTED, fn);
    CHECK(all_equal(big_mean, N * C, 12345.0f) && all_equal(big_logvar, N * C, 12345.0f));

    /* n = 0 is a no-op; then a good call fills exactly the counts asked for. */
    CHECK_OK(ae_model_encode_distribution(vae, x, 0, 0, mean, 0, logvar, 0));
    CHECK(mean[0] == 12345.0f && logvar[0] == 12345.0f);
    CHECK_OK(ae_model_encode_distribution(vae, x, N, N * D, mean, N * VAE_Z, logvar, N * VAE_Z));
    CHECK(mean[N * VAE_Z] == 12345.0f && logvar[N * VAE_Z] == 12345.0f && isfinite(mean[0]) && isfinite(logvar[N * VAE_Z - 1]));
done:
    ae_model_free(vae);
    ae_model_free(classic);
    ae_model_free(seg);
}

static void test_generate(void) {
    ae_model *vae = create(vae_spec), *classic = create(classic_spec), *seg = create(seg_spec);
    float out[N * D + 1], seg_out[N * SEG_P * SEG_K];
    const char *fn = "ae_model_generate";
    size_t i;
    if (!vae || !classic || !seg) goto done;
    for (i = 0; i < N * D + 1; i++) out[i] = 12345.0f;

    EXPECT_FAIL_MSG(ae_model_generate(NULL, N, 1, out, N * D), AE_ERR_INVALID_ARGUMENT, fn, "model");
    EXPECT_FAIL_MSG(ae_model_generate(vae, N, 1, NULL, N * D), AE_ERR_INVALID_ARGUMENT, fn, "output");
    EXPECT_FAIL_MSG(ae_model_generate(vae, 0, 1, NULL, 0), AE_ERR_INVALID_ARGUMENT, fn, "output");
    EXPECT_FAIL_MSG(ae_model_generate(vae, N, 1, out, N * D - 1), AE_ERR_SHAPE, fn, "output_count");
    EXPECT_FAIL_MSG(ae_model_generate(vae, N, 1, out, N * D + 1), AE_ERR_SHAPE, fn, "output_count");
    EXPECT_FAIL_MSG(ae_model_generate(vae, N, 1, out, 0), AE_ERR_SHAPE, fn, "output_count");
    EXPECT_FAIL_MSG(ae_model_generate(vae, N, 1, out, N), AE_ERR_SHAPE, fn, "output_count");
    EXPECT_FAIL_MSG(ae_model_generate(vae, N, 1, out, N * VAE_Z), AE_ERR_SHAPE, fn, "output_count");
    EXPECT_FAIL_MSG(ae_model_generate(vae, N, 1, out, huge), AE_ERR_SHAPE, fn, "output_count");
    EXPECT_FAIL_MSG(ae_model_generate(vae, 0, 1, out, 1), AE_ERR_SHAPE, fn, "output_count");
    EXPECT_FAIL_MSG(ae_model_generate(vae, huge, 1, out, N * D), AE_ERR_INVALID_ARGUMENT, fn, "n");
    EXPECT_FAIL_MSG(ae_model_generate(vae, (size_t)1 << 63, 1, out, 0), AE_ERR_INVALID_ARGUMENT, fn, "n");
    EXPECT_FAIL_MSG(ae_model_generate(vae, overflowing, 1, out, 0), AE_ERR_SHAPE, fn, "overflow");
    EXPECT_FAIL_MSG(ae_model_generate(vae, SIZE_MAX / D + 1, 1, out, 0), AE_ERR_SHAPE, fn, "overflow");
    EXPECT_FAIL_MSG(ae_model_generate(vae, ((size_t)1 << 62) / D, 1, out, 4), AE_ERR_SHAPE, fn, "output_count");
    /* Models that are not VAEs, whatever the batch. */
    EXPECT_FAIL_MSG(ae_model_generate(classic, N, 1, out, N * D), AE_ERR_UNSUPPORTED, fn, "variational");
    EXPECT_FAIL(ae_model_generate(classic, 1, 0, out, D), AE_ERR_UNSUPPORTED, fn);
    EXPECT_FAIL(ae_model_generate(classic, 0, 0, out, 0), AE_ERR_UNSUPPORTED, fn);
    /* A segmentation model (output counts that pass the shape check: classes × positions). */
    EXPECT_FAIL(ae_model_generate(seg, N, 1, seg_out, N * SEG_P * SEG_K), AE_ERR_UNSUPPORTED, fn);
    CHECK(all_equal(out, N * D + 1, 12345.0f)); /* untouched on every failure */

    CHECK_OK(ae_model_generate(vae, 0, 1, out, 0)); /* n = 0: a no-op */
    CHECK(out[0] == 12345.0f);
    CHECK_OK(ae_model_generate(vae, N, UINT64_MAX, out, N * D));
    CHECK(out[N * D] == 12345.0f && isfinite(out[0]) && isfinite(out[N * D - 1])); /* nothing past output_count */
done:
    ae_model_free(vae);
    ae_model_free(classic);
    ae_model_free(seg);
}

static void test_interpolate(const float *x) {
    ae_model *vae = create(vae_spec), *classic = create(classic_spec), *unpool = create(unpool_spec), *seg = create(seg_spec);
    float out[4 * D + 1], seg_out[2 * SEG_P * SEG_K], bad[D];
    const char *fn = "ae_model_interpolate";
    const float *a = x, *b = x + D;
    int can_decode = -1;
    size_t i;
    if (!vae || !classic || !unpool || !seg) goto done;
    for (i = 0; i < 4 * D + 1; i++) out[i] = 12345.0f;

    EXPECT_FAIL_MSG(ae_model_interpolate(NULL, a, b, 4, out, 4 * D), AE_ERR_INVALID_ARGUMENT, fn, "model");
    EXPECT_FAIL_MSG(ae_model_interpolate(vae, NULL, b, 4, out, 4 * D), AE_ERR_INVALID_ARGUMENT, fn, "a");
    EXPECT_FAIL_MSG(ae_model_interpolate(vae, a, NULL, 4, out, 4 * D), AE_ERR_INVALID_ARGUMENT, fn, "b");
    EXPECT_FAIL_MSG(ae_model_interpolate(vae, a, b, 4, NULL, 4 * D), AE_ERR_INVALID_ARGUMENT, fn, "output");
    /* steps: at least the two ends, at most 2^20. */
    EXPECT_FAIL_MSG(ae_model_interpolate(vae, a, b, 0, out, 0), AE_ERR_INVALID_ARGUMENT, fn, "steps");
    EXPECT_FAIL_MSG(ae_model_interpolate(vae, a, b, 1, out, D), AE_ERR_INVALID_ARGUMENT, fn, "steps");
    EXPECT_FAIL_MSG(ae_model_interpolate(vae, a, b, huge, out, 4 * D), AE_ERR_INVALID_ARGUMENT, fn, "steps");
    EXPECT_FAIL_MSG(ae_model_interpolate(vae, a, b, (size_t)1 << 63, out, 0), AE_ERR_INVALID_ARGUMENT, fn, "steps");
    EXPECT_FAIL_MSG(ae_model_interpolate(vae, a, b, overflowing, out, 0), AE_ERR_INVALID_ARGUMENT, fn, "steps");
    EXPECT_FAIL_MSG(ae_model_interpolate(vae, a, b, ((size_t)1 << 20) + 1, out, (((size_t)1 << 20) + 1) * D), AE_ERR_INVALID_ARGUMENT, fn,
                    "steps");
    /* output_count = steps * input size. */
    EXPECT_FAIL_MSG(ae_model_interpolate(vae, a, b, 4, out, 4 * D - 1), AE_ERR_SHAPE, fn, "output_count");
    EXPECT_FAIL_MSG(ae_model_interpolate(vae, a, b, 4, out, 4 * D + 1), AE_ERR_SHAPE, fn, "output_count");
    EXPECT_FAIL_MSG(ae_model_interpolate(vae, a, b, 4, out, 0), AE_ERR_SHAPE, fn, "output_count");
    EXPECT_FAIL_MSG(ae_model_interpolate(vae, a, b, 4, out, D), AE_ERR_SHAPE, fn, "output_count");
    EXPECT_FAIL_MSG(ae_model_interpolate(vae, a, b, 4, out, 4 * VAE_Z), AE_ERR_SHAPE, fn, "output_count");
    EXPECT_FAIL_MSG(ae_model_interpolate(vae, a, b, 4, out, huge), AE_ERR_SHAPE, fn, "output_count");
    /* NaN or infinite samples. */
    memcpy(bad, b, sizeof bad);
    bad[9] = NAN;
    EXPECT_FAIL(ae_model_interpolate(vae, a, bad, 4, out, 4 * D), AE_ERR_NUMERIC, fn);
    EXPECT_FAIL(ae_model_interpolate(vae, bad, b, 4, out, 4 * D), AE_ERR_NUMERIC, fn);
    bad[9] = -INFINITY;
    EXPECT_FAIL(ae_model_interpolate(vae, a, bad, 4, out, 4 * D), AE_ERR_NUMERIC, fn);
    /* A model that cannot decode from its code alone. */
    CHECK_OK(ae_model_can_decode(unpool, &can_decode));
    CHECK(can_decode == 0);
    EXPECT_FAIL_MSG(ae_model_interpolate(unpool, x, x + 16, 4, out, 4 * 16), AE_ERR_UNSUPPORTED, fn, "decode");
    EXPECT_FAIL(ae_model_interpolate(unpool, x, x + 16, 2, out, 2 * 16), AE_ERR_UNSUPPORTED, fn);
    /* A segmentation model (output counts that pass the shape check: classes × positions). */
    EXPECT_FAIL_MSG(ae_model_interpolate(seg, x, x + SEG_P, 2, seg_out, 2 * SEG_P * SEG_K), AE_ERR_UNSUPPORTED, fn, "segment");
    CHECK(all_equal(out, 4 * D + 1, 12345.0f)); /* untouched on every failure */

    /* It works for any model that can decode, a VAE or not, and writes nothing past output_count. */
    CHECK_OK(ae_model_interpolate(vae, a, b, 4, out, 4 * D));
    CHECK(out[4 * D] == 12345.0f && isfinite(out[0]) && isfinite(out[4 * D - 1]));
    CHECK_OK(ae_model_interpolate(classic, a, b, 2, out, 2 * D));
    CHECK_OK(ae_model_interpolate(vae, a, a, 2, out, 2 * D));
    CHECK(memcmp(out, out + D, D * sizeof(float)) == 0);
done:
    ae_model_free(vae);
    ae_model_free(classic);
    ae_model_free(unpool);
    ae_model_free(seg);
}

/* Reconstruction-only VAE calls on a segmentation model with the counts the header documents
 * (n or steps times the input size) must be refused as unsupported, as reconstruct, decode and
 * inpaint are, not as a shape mismatch against classes × positions. */
static void test_vae_calls_on_segmentation_documented_counts(const float *x) {
    ae_model *seg = create(seg_spec);
    float out[N * SEG_P];
    if (!seg) return;
    EXPECT_FAIL_MSG(ae_model_generate(seg, N, 1, out, N * SEG_P), AE_ERR_UNSUPPORTED, "ae_model_generate", "segment");
    EXPECT_FAIL_MSG(ae_model_interpolate(seg, x, x + SEG_P, 2, out, 2 * SEG_P), AE_ERR_UNSUPPORTED, "ae_model_interpolate", "segment");
    ae_model_free(seg);
}

/* Malformed variational specs: the JSON path of the entry at fault and the reason. */
#define VAE_SPEC(code, extra)                                                                                 \
    "{\"input_size\": 100, \"encoder\": [{\"type\": \"dense\", \"units\": 8, \"activation\": \"relu\"}, " code \
    "], \"decoder\": [{\"type\": \"dense\", \"units\": 100}]" extra "}"

static void test_vae_specs(void) {
    ae_model *model = NULL;
    BAD_SPEC(VAE_SPEC("{\"type\": \"variational\"}", ""), "encoder[1].units", "required");
    BAD_SPEC(VAE_SPEC("{\"type\": \"variational\", \"beta\": 1}", ""), "encoder[1].units", "required");
    BAD_SPEC(VAE_SPEC("{\"type\": \"variational\", \"units\": 0}", ""), "encoder[1].units", NULL);
    BAD_SPEC(VAE_SPEC("{\"type\": \"variational\", \"units\": 1.5}", ""), "encoder[1].units", NULL);
    BAD_SPEC(VAE_SPEC("{\"type\": \"variational\", \"units\": 4, \"beta\": -1}", ""), "encoder[1].beta", "at least 0");
    BAD_SPEC(VAE_SPEC("{\"type\": \"variational\", \"units\": 4, \"beta\": -0.001}", ""), "encoder[1].beta", NULL);
    BAD_SPEC(VAE_SPEC("{\"type\": \"variational\", \"units\": 4, \"beta\": \"big\"}", ""), "encoder[1].beta", NULL);
    BAD_SPEC(VAE_SPEC("{\"type\": \"variational\", \"units\": 4, \"kl_warmup_epochs\": -1}", ""), "encoder[1].kl_warmup_epochs", NULL);
    BAD_SPEC(VAE_SPEC("{\"type\": \"variational\", \"units\": 4, \"activation\": \"relu\"}", ""), "encoder[1].activation", "unknown key");
    /* Not the encoder's last entry, or in the decoder. */
    BAD_SPEC(VAE_SPEC("{\"type\": \"variational\", \"units\": 4}, {\"type\": \"dense\", \"units\": 2}", ""), "encoder[1]", "last entry");
    BAD_SPEC("{\"input_size\": 100, \"encoder\": [{\"type\": \"variational\", \"units\": 4}, {\"type\": \"dense\", \"units\": 2}],"
             " \"decoder\": [{\"type\": \"dense\", \"units\": 100}]}", "encoder[0]", "last entry");
    BAD_SPEC("{\"input_size\": 100, \"encoder\": [{\"type\": \"dense\", \"units\": 8}],"
             " \"decoder\": [{\"type\": \"variational\", \"units\": 4}, {\"type\": \"dense\", \"units\": 100}]}", "decoder[0]", "last entry");
    /* On feature maps without a flatten. */
    BAD_SPEC("{\"input_shape\": [1, 4, 4], \"encoder\": [{\"type\": \"conv2d\", \"filters\": 2, \"kernel\": 3, \"padding\": 1},"
             " {\"type\": \"variational\", \"units\": 2}], \"decoder\": [{\"type\": \"dense\", \"units\": 16},"
             " {\"type\": \"reshape\", \"shape\": [1, 4, 4]}]}", "encoder[1]", "flatten");
    /* The good ones are accepted (sanity for the macro). */
    CHECK_OK(ae_model_create(VAE_SPEC("{\"type\": \"variational\", \"units\": 4, \"beta\": 0, \"kl_warmup_epochs\": 3}", ""), &model));
    ae_model_free(model);
}
#undef VAE_SPEC

/* ---- BCE targets ---- */

/* Binary cross-entropy reads the input as probabilities: ae_model_train, ae_model_evaluate and
 * ae_trainer_step refuse data outside [0, 1] (after the model's input scaling) with
 * AE_ERR_INVALID_ARGUMENT naming the data, the element and the fix, and change nothing. */
static const char *const bce_spec =
    "{\"input_size\": 100, \"encoder\": [{\"type\": \"dense\", \"units\": 10, \"activation\": \"relu\"}],"
    " \"decoder\": [{\"type\": \"dense\", \"units\": 100, \"activation\": \"sigmoid\"}], \"loss\": \"bce\", \"seed\": 4}";

static void test_bce_targets(const float *x) {
    ae_model *model = create(bce_spec);
    ae_trainer *trainer = NULL;
    float raw[N * D], offset[D], scale[D], *before = NULL;
    size_t i, count = 0, epochs = 99;
    double loss = -7;
    ae_train_options options;
    ae_train_report report;
    if (!model) return;
    for (i = 0; i < N * D; i++) raw[i] = x[i] * 255.0f; /* pixels not divided by 255 */
    before = parameters_copy(model, &count);
    ae_train_options_init(&options, sizeof options);
    options.epochs = 2;
    options.batch_size = 4;
    report.struct_size = sizeof report;
    report.epochs_run = 12345;
    EXPECT_FAIL_MSG(ae_model_train(model, raw, N, N * D, &options, &report), AE_ERR_INVALID_ARGUMENT, "ae_model_train",
                    "data: element 0 (sample 0, feature 0) is");
    CHECK(strstr(ae_last_error(), "the bce loss needs targets in [0, 1]") != NULL);
    CHECK(strstr(ae_last_error(), "divide by 255") != NULL);
    CHECK(report.epochs_run == 12345);
    EXPECT_FAIL_MSG(ae_model_evaluate(model, raw, N, N * D, &loss), AE_ERR_INVALID_ARGUMENT, "ae_model_evaluate", "data: element 0");
    CHECK(loss == -7);
    raw[0] = x[0];
    for (i = 1; i < N * D; i++) raw[i] = x[i];
    raw[3 * D + 17] = -0.5f;
    EXPECT_FAIL_MSG(ae_model_train(model, raw, N, N * D, &options, NULL), AE_ERR_INVALID_ARGUMENT, "ae_model_train",
                    "data: element 317 (sample 3, feature 17) is -0.5;");
    CHECK_OK(ae_trainer_create(model, 4, &trainer));
    EXPECT_FAIL_MSG(ae_trainer_step(trainer, raw + 2 * D, 4, 4 * D, &loss), AE_ERR_INVALID_ARGUMENT, "ae_trainer_step",
                    "batch: element 117 (sample 1, feature 17) is -0.5;");
    ae_trainer_free(trainer);
    CHECK(before != NULL && parameters_equal(model, before, count));
    CHECK_OK(ae_model_epochs_completed(model, &epochs));
    CHECK(epochs == 0);
    /* The check reads the input after the model's scaling: x * 255 with scale 255 is in range. */
    for (i = 0; i < N * D; i++) raw[i] = x[i] * 255.0f;
    for (i = 0; i < D; i++) { offset[i] = 0; scale[i] = 255; }
    CHECK_OK(ae_model_set_input_scaling(model, offset, scale, D));
    CHECK_OK(ae_model_train(model, raw, N, N * D, &options, NULL));
    CHECK_OK(ae_model_evaluate(model, raw, N, N * D, &loss));
    raw[5] = 300.0f;
    EXPECT_FAIL_MSG(ae_model_evaluate(model, raw, N, N * D, &loss), AE_ERR_INVALID_ARGUMENT, "ae_model_evaluate",
                    "data: element 5 (sample 0, feature 5) is 300.0 after the model's input scaling");
    free(before);
    ae_model_free(model);
}

/* ---- data-parallel training ---- */

/* Every data-parallel function called wrongly (nothing changes), then two shards of a batch on two
 * models summed and applied: the update of one model on the whole batch. */
static void test_data_parallel(const float *x) {
    ae_model *model = create(classic_spec), *other = create(classic_spec), *whole = create(classic_spec);
    ae_model *different = create("{\"input_size\": 100, \"encoder\": [{\"type\": \"dense\", \"units\": 9}],"
                                 " \"decoder\": [{\"type\": \"dense\", \"units\": 100}]}");
    ae_trainer *trainer = NULL, *other_trainer = NULL, *whole_trainer = NULL;
    uint64_t fa = 1, fb = 2, fc = 3;
    size_t count = 0, parameters = 0, i;
    double loss = -3, la = 0, lb = 0, lw = 0, worst = 0;
    float *ga = NULL, *gb = NULL, *gw = NULL, *pa = NULL, *pw = NULL;
    if (!model || !other || !whole || !different) goto done;
    EXPECT_FAIL_MSG(ae_model_fingerprint(NULL, &fa), AE_ERR_INVALID_ARGUMENT, "ae_model_fingerprint", "model");
    EXPECT_FAIL_MSG(ae_model_fingerprint(model, NULL), AE_ERR_INVALID_ARGUMENT, "ae_model_fingerprint", "out");
    CHECK_OK(ae_model_fingerprint(model, &fa));
    CHECK_OK(ae_model_fingerprint(other, &fb));
    CHECK_OK(ae_model_fingerprint(different, &fc));
    CHECK(fa == fb && fa != fc);

    CHECK_OK(ae_model_parameter_count(model, &parameters));
    pa = malloc(sizeof(float) * parameters);
    pw = malloc(sizeof(float) * parameters);
    if (!pa || !pw) goto done;
    EXPECT_FAIL_MSG(ae_model_get_parameters(NULL, pa, parameters), AE_ERR_INVALID_ARGUMENT, "ae_model_get_parameters", "model");
    EXPECT_FAIL_MSG(ae_model_get_parameters(model, NULL, parameters), AE_ERR_INVALID_ARGUMENT, "ae_model_get_parameters", "values");
    EXPECT_FAIL_MSG(ae_model_get_parameters(model, pa, parameters - 1), AE_ERR_SHAPE, "ae_model_get_parameters", "count");
    EXPECT_FAIL(ae_model_get_parameters(model, pa, huge), AE_ERR_INVALID_ARGUMENT, "ae_model_get_parameters");
    CHECK_OK(ae_model_get_parameters(model, pa, parameters));
    EXPECT_FAIL_MSG(ae_model_set_parameters(NULL, pa, parameters), AE_ERR_INVALID_ARGUMENT, "ae_model_set_parameters", "model");
    EXPECT_FAIL_MSG(ae_model_set_parameters(model, NULL, parameters), AE_ERR_INVALID_ARGUMENT, "ae_model_set_parameters", "values");
    EXPECT_FAIL_MSG(ae_model_set_parameters(model, pa, parameters + 1), AE_ERR_SHAPE, "ae_model_set_parameters", "count");
    pa[3] = NAN;
    EXPECT_FAIL_MSG(ae_model_set_parameters(model, pa, parameters), AE_ERR_NUMERIC, "ae_model_set_parameters", "values[3]");
    CHECK_OK(ae_model_get_parameters(model, pa, parameters));
    CHECK(!isnan(pa[3])); /* the refused call changed nothing */

    CHECK_OK(ae_trainer_create(model, N, &trainer));
    CHECK_OK(ae_trainer_create(other, N, &other_trainer));
    CHECK_OK(ae_trainer_create(whole, N, &whole_trainer));
    if (!trainer || !other_trainer || !whole_trainer) goto done;
    EXPECT_FAIL_MSG(ae_trainer_gradient_count(NULL, &count), AE_ERR_INVALID_ARGUMENT, "ae_trainer_gradient_count", "trainer");
    EXPECT_FAIL_MSG(ae_trainer_gradient_count(trainer, NULL), AE_ERR_INVALID_ARGUMENT, "ae_trainer_gradient_count", "out");
    CHECK_OK(ae_trainer_gradient_count(trainer, &count));
    CHECK(count == parameters);
    ga = malloc(sizeof(float) * count);
    gb = malloc(sizeof(float) * count);
    gw = malloc(sizeof(float) * count);
    if (!ga || !gb || !gw) goto done;

    EXPECT_FAIL_MSG(ae_trainer_apply_gradients(NULL), AE_ERR_INVALID_ARGUMENT, "ae_trainer_apply_gradients", "trainer");
    EXPECT_FAIL_MSG(ae_trainer_apply_gradients(trainer), AE_ERR_INVALID_ARGUMENT, "ae_trainer_apply_gradients", "no gradient is held");
    EXPECT_FAIL_MSG(ae_trainer_compute_gradients(NULL, x, N, N * D, 0, N, &loss), AE_ERR_INVALID_ARGUMENT,
                    "ae_trainer_compute_gradients", "trainer");
    EXPECT_FAIL_MSG(ae_trainer_compute_gradients(trainer, NULL, N, N * D, 0, N, &loss), AE_ERR_INVALID_ARGUMENT,
                    "ae_trainer_compute_gradients", "batch");
    EXPECT_FAIL_MSG(ae_trainer_compute_gradients(trainer, x, 0, 0, 0, N, &loss), AE_ERR_INVALID_ARGUMENT,
                    "ae_trainer_compute_gradients", "n");
    EXPECT_FAIL_MSG(ae_trainer_compute_gradients(trainer, x, N, N * D - 1, 0, N, &loss), AE_ERR_SHAPE,
                    "ae_trainer_compute_gradients", "count");
    EXPECT_FAIL_MSG(ae_trainer_compute_gradients(trainer, x, N, N * D, 1, N, &loss), AE_ERR_INVALID_ARGUMENT,
                    "ae_trainer_compute_gradients", "total_rows");
    EXPECT_FAIL_MSG(ae_trainer_compute_gradients(trainer, x, N, N * D, 0, N - 1, &loss), AE_ERR_INVALID_ARGUMENT,
                    "ae_trainer_compute_gradients", "total_rows");
    EXPECT_FAIL(ae_trainer_compute_gradients(trainer, x, N, N * D, huge, N, &loss), AE_ERR_INVALID_ARGUMENT,
                "ae_trainer_compute_gradients");
    CHECK(loss == -3);
    EXPECT_FAIL_MSG(ae_trainer_get_gradients(NULL, ga, count), AE_ERR_INVALID_ARGUMENT, "ae_trainer_get_gradients", "trainer");
    EXPECT_FAIL_MSG(ae_trainer_get_gradients(trainer, NULL, count), AE_ERR_INVALID_ARGUMENT, "ae_trainer_get_gradients", "values");
    EXPECT_FAIL_MSG(ae_trainer_get_gradients(trainer, ga, count + 1), AE_ERR_SHAPE, "ae_trainer_get_gradients", "count");
    EXPECT_FAIL_MSG(ae_trainer_set_gradients(NULL, ga, count), AE_ERR_INVALID_ARGUMENT, "ae_trainer_set_gradients", "trainer");
    EXPECT_FAIL_MSG(ae_trainer_set_gradients(trainer, NULL, count), AE_ERR_INVALID_ARGUMENT, "ae_trainer_set_gradients", "values");
    EXPECT_FAIL_MSG(ae_trainer_set_gradients(trainer, ga, count - 1), AE_ERR_SHAPE, "ae_trainer_set_gradients", "count");

    /* Rows 0..2 on one model, 3..7 on another, summed: one model's step on all 8 rows. */
    CHECK_OK(ae_trainer_compute_gradients(whole_trainer, x, N, N * D, 0, N, &lw));
    CHECK_OK(ae_trainer_compute_gradients(trainer, x, 3, 3 * D, 0, N, &la));
    CHECK_OK(ae_trainer_compute_gradients(other_trainer, x + 3 * D, N - 3, (N - 3) * D, 3, N, &lb));
    CHECK(fabs(la + lb - lw) <= 1e-5 * lw);
    CHECK_OK(ae_trainer_get_gradients(trainer, ga, count));
    CHECK_OK(ae_trainer_get_gradients(other_trainer, gb, count));
    CHECK_OK(ae_trainer_get_gradients(whole_trainer, gw, count));
    for (i = 0; i < count; i++) {
        ga[i] += gb[i];
        if (fabs(ga[i] - gw[i]) > worst) worst = fabs(ga[i] - gw[i]);
    }
    CHECK(worst < 1e-5);
    ga[0] = INFINITY;
    EXPECT_FAIL_MSG(ae_trainer_set_gradients(trainer, ga, count), AE_ERR_NUMERIC, "ae_trainer_set_gradients", "gradients[0]");
    ga[0] = gw[0];
    CHECK_OK(ae_trainer_set_gradients(trainer, ga, count));
    CHECK_OK(ae_trainer_apply_gradients(trainer));
    CHECK_OK(ae_trainer_apply_gradients(whole_trainer));
    EXPECT_FAIL(ae_trainer_apply_gradients(trainer), AE_ERR_INVALID_ARGUMENT, "ae_trainer_apply_gradients"); /* consumed */
    CHECK_OK(ae_model_get_parameters(model, pa, parameters));
    CHECK_OK(ae_model_get_parameters(whole, pw, parameters));
    worst = 0;
    for (i = 0; i < parameters; i++)
        if (fabs(pa[i] - pw[i]) > worst) worst = fabs(pa[i] - pw[i]);
    CHECK(worst < 1e-5);
    /* Broadcast: the other model takes these parameters. */
    CHECK_OK(ae_model_set_parameters(other, pa, parameters));
    CHECK_OK(ae_model_get_parameters(other, pw, parameters));
    CHECK(memcmp(pa, pw, sizeof(float) * parameters) == 0);
done:
    free(ga);
    free(gb);
    free(gw);
    free(pa);
    free(pw);
    ae_trainer_free(trainer);
    ae_trainer_free(other_trainer);
    ae_trainer_free(whole_trainer);
    ae_model_free(model);
    ae_model_free(other);
    ae_model_free(whole);
    ae_model_free(different);
}

int main(int argc, char **argv) {
    float *x;
    if (argc > 1) tmpdir = argv[1];
    x = testdata_make(N, D, 5);
    if (!x) return 2;
    test_errors_versions_threads();
    test_create();
    test_load_save();
    test_queries();
    test_parameters();
    test_scaling(x);
    test_train(x);
    test_divergence(x);
    test_trainer(x);
    test_inference(x);
    test_family_specs();
    test_threshold(x);
    test_inpaint(x);
    test_masked_training(x);
    test_segmentation_queries();
    test_train_labels(x);
    test_trainer_step_labels(x);
    test_segment(x);
    test_conv_specs();
    test_encode_distribution(x);
    test_sample_codes(x);
    test_evaluate_labels(x);
    test_generate();
    test_interpolate(x);
    test_vae_calls_on_segmentation_documented_counts(x);
    test_vae_specs();
    test_bce_targets(x);
    test_data_parallel(x);
    free(x);
    return check_summary("abi_misuse");
}
