/*
 * ae_model_train_source: training on samples the caller's function produces batch by batch.
 *
 * - Given the samples of an array, it trains bit for bit as ae_model_train on that array: with
 *   shuffling, a validation split, input scaling and early stopping; and with 8-bit pixels kept
 *   as bytes and divided by 255 in the source, as on their floats.
 * - It asks for each epoch's training samples once, in batches of at most batch_size, in the
 *   epoch's shuffled order, then for the held-out last samples in order.
 * - A source that returns non-zero is AE_ERR_IO, a non-finite sample AE_ERR_NUMERIC, a BCE target
 *   outside [0, 1] AE_ERR_INVALID_ARGUMENT, each message naming the request or the sample, and the
 *   model (trained once before) is exactly as before the call.
 * - The source may run the model's inference, not train it; NULL arguments, n 0, masks, lengths, segmentation
 *   and token models are refused with their names.
 *
 * Usage: sample_source [directory for temporary files (unused)]
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoencoders.h"
#include "check.h"
#include "models.h"
#include "testdata.h"

#define D 100
#define N 200
#define BATCH 32

/* A source over the rows of an array of floats, or of bytes / 255, that records its requests and
 * can be told to fail. */
typedef struct {
    const float *floats;        /* rows of D floats, or NULL */
    const unsigned char *bytes; /* rows of D bytes (pixels / 255), or NULL */
    size_t requests, samples_asked, asked[4 * N];
    size_t fail_at;             /* 1-based request that returns an error (0: none) */
    size_t poison_at;           /* 1-based request whose 2nd row gets `poison` at feature 7 (0: none) */
    float poison;
    size_t largest_request, bad_index, bad_count;
    ae_model *model;            /* when set, each request runs an inference on it and tries to train it */
    int inference_ok, training_refused;
} array_source;

static int fill_rows(const size_t *indices, size_t count, float *rows, size_t rows_count, void *user_data) {
    array_source *s = (array_source *)user_data;
    size_t r, j;
    s->requests++;
    if (count > s->largest_request) s->largest_request = count;
    if (rows_count != count * D) s->bad_count++;
    if (s->fail_at == s->requests) return -5;
    for (r = 0; r < count; r++) {
        size_t i = indices[r];
        if (i >= N) { s->bad_index++; continue; }
        if (s->samples_asked < 4 * N) s->asked[s->samples_asked] = i;
        s->samples_asked++;
        for (j = 0; j < D; j++) rows[r * D + j] = s->floats ? s->floats[i * D + j] : s->bytes[i * D + j] / 255.0f;
    }
    if (s->poison_at == s->requests && count > 1) rows[D + 7] = s->poison;
    if (s->model) {
        float y[D];
        if (ae_model_reconstruct(s->model, rows, 1, D, y, D) != AE_OK) s->inference_ok = 0;
        /* Changing the model from its own source is refused, and training goes on. */
        if (ae_model_train(s->model, rows, 1, D, NULL, NULL) == AE_ERR_INVALID_ARGUMENT) s->training_refused++;
    }
    return 0;
}

static const char *const bce_spec =
    "{\"input_size\": 100,"
    " \"encoder\": [{\"type\": \"dense\", \"units\": 40, \"activation\": \"relu\"},"
    "               {\"type\": \"dense\", \"units\": 8, \"activation\": \"relu\"}],"
    " \"decoder\": [{\"type\": \"dense\", \"units\": 40, \"activation\": \"relu\"},"
    "               {\"type\": \"dense\", \"units\": 100, \"activation\": \"sigmoid\"}],"
    " \"loss\": \"bce\", \"noise\": {\"type\": \"gaussian\", \"stddev\": 0.05},"
    " \"optimizer\": {\"type\": \"adam\", \"lr\": 0.002}, \"seed\": 12}";

/* The same model, trained on an array and on a source over it, ends bit for bit the same. */
static void test_same_as_an_array(const float *x) {
    const char *specs[] = {classic_spec, bce_spec};
    size_t s;
    for (s = 0; s < 2; s++) {
        int scaled;
        for (scaled = 0; scaled < 2; scaled++) {
            ae_model *a = create(specs[s]), *b = create(specs[s]);
            array_source source;
            ae_train_options options;
            ae_train_report ra, rb;
            size_t i, first_epoch_sum = 0, held_out_in_order = 1;
            if (!a || !b) goto next;
            if (scaled) {
                CHECK_OK(ae_model_fit_input_scaling(a, AE_SCALING_MINMAX, x, N, N * D));
                CHECK_OK(ae_model_fit_input_scaling(b, AE_SCALING_MINMAX, x, N, N * D));
            }
            memset(&source, 0, sizeof source);
            source.floats = x;
            ae_train_options_init(&options, sizeof options);
            options.epochs = 4;
            options.batch_size = BATCH;
            options.validation_split = 0.2f;
            options.patience = scaled ? 2 : 0;
            ra.struct_size = rb.struct_size = sizeof(ae_train_report);
            CHECK_OK(ae_model_train(a, x, N, N * D, &options, &ra));
            CHECK_OK(ae_model_train_source(b, N, fill_rows, &source, &options, &rb));
            CHECK(same_parameters(a, b));
            CHECK(ra.epochs_run == rb.epochs_run && ra.best_epoch == rb.best_epoch);
            CHECK(ra.final_train_loss == rb.final_train_loss);
            CHECK(ra.final_validation_loss == rb.final_validation_loss && isfinite(rb.final_validation_loss));
            /* Epoch 1: 160 training samples in 5 requests of 32, each once, then the last 40 in 2. */
            CHECK(source.largest_request == BATCH && source.bad_index == 0 && source.bad_count == 0);
            CHECK(source.requests == rb.epochs_run * 7);
            for (i = 0; i < 160; i++) first_epoch_sum += source.asked[i];
            CHECK(first_epoch_sum == 159 * 160 / 2);
            for (i = 0; i < 40; i++) held_out_in_order &= source.asked[160 + i] == 160 + i;
            CHECK(held_out_in_order);
            /* And one more call continues alike (same generator, optimizer state, epochs). */
            options.epochs = 1;
            CHECK_OK(ae_model_train(a, x, N, N * D, &options, NULL));
            CHECK_OK(ae_model_train_source(b, N, fill_rows, &source, &options, NULL));
            CHECK(same_parameters(a, b));
        next:
            ae_model_free(a);
            ae_model_free(b);
        }
    }
}

/* 8-bit pixels kept as bytes (a quarter of their floats) train as their floats / 255. */
static void test_bytes_as_their_floats(void) {
    unsigned char *bytes = (unsigned char *)malloc(N * D);
    float *floats = (float *)malloc(N * D * sizeof(float));
    ae_model *a = create(bce_spec), *b = create(bce_spec);
    array_source source;
    ae_train_options options;
    size_t i;
    if (!bytes || !floats || !a || !b) goto done;
    testdata_state = 77;
    for (i = 0; i < N * D; i++) {
        bytes[i] = (unsigned char)(testdata_uniform() * 256);
        floats[i] = bytes[i] / 255.0f;
    }
    memset(&source, 0, sizeof source);
    source.bytes = bytes;
    ae_train_options_init(&options, sizeof options);
    options.epochs = 3;
    options.batch_size = 50;
    CHECK_OK(ae_model_train(a, floats, N, N * D, &options, NULL));
    CHECK_OK(ae_model_train_source(b, N, fill_rows, &source, &options, NULL));
    CHECK(same_parameters(a, b));
done:
    ae_model_free(a);
    ae_model_free(b);
    free(bytes);
    free(floats);
}

/* Every failure leaves the model as before the call: a source error in training or in the
 * validation pass, a NaN, an infinite value, a BCE target above 1. */
static void test_failures_change_nothing(const float *x) {
    struct {
        size_t fail_at, poison_at;
        float poison;
        ae_status status;
        const char *needle;
    } cases[] = {
        {3, 0, 0, AE_ERR_IO, "returned -5"},
        {6, 0, 0, AE_ERR_IO, "request 6 of this call"}, /* the first epoch's validation pass */
        {0, 2, NAN, AE_ERR_NUMERIC, "feature 7 of sample"},
        {0, 9, INFINITY, AE_ERR_NUMERIC, "data must be finite"},
        {0, 4, 1.5f, AE_ERR_INVALID_ARGUMENT, "of the sample source"},
    };
    size_t c;
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ae_model *model = create(bce_spec), *twin = create(bce_spec);
        array_source source;
        ae_train_options options;
        size_t epochs = 0, twin_epochs = 0;
        if (!model || !twin) goto next;
        ae_train_options_init(&options, sizeof options);
        options.epochs = 2;
        options.batch_size = BATCH;
        options.validation_split = 0.2f;
        CHECK_OK(ae_model_train(model, x, N, N * D, &options, NULL));
        CHECK_OK(ae_model_train(twin, x, N, N * D, &options, NULL));
        memset(&source, 0, sizeof source);
        source.floats = x;
        source.fail_at = cases[c].fail_at;
        source.poison_at = cases[c].poison_at;
        source.poison = cases[c].poison;
        EXPECT_FAIL_MSG(ae_model_train_source(model, N, fill_rows, &source, &options, NULL), cases[c].status,
                        "ae_model_train_source", cases[c].needle);
        CHECK(same_parameters(model, twin));
        CHECK_OK(ae_model_epochs_completed(model, &epochs));
        CHECK_OK(ae_model_epochs_completed(twin, &twin_epochs));
        CHECK(epochs == 2 && twin_epochs == 2);
        /* The optimizer's state and generator too: training on continues alike. */
        source.fail_at = source.poison_at = 0;
        CHECK_OK(ae_model_train_source(model, N, fill_rows, &source, &options, NULL));
        CHECK_OK(ae_model_train(twin, x, N, N * D, &options, NULL));
        CHECK(same_parameters(model, twin));
    next:
        ae_model_free(model);
        ae_model_free(twin);
    }
}

/* The source runs outside the model's lock: it may run inference on the model being trained. */
static void test_source_may_use_the_model(const float *x) {
    ae_model *model = create(classic_spec);
    array_source source;
    ae_train_options options;
    if (!model) return;
    memset(&source, 0, sizeof source);
    source.floats = x;
    source.model = model;
    source.inference_ok = 1;
    ae_train_options_init(&options, sizeof options);
    options.epochs = 2;
    options.batch_size = 64;
    CHECK_OK(ae_model_train_source(model, N, fill_rows, &source, &options, NULL));
    CHECK(source.inference_ok && source.requests == 8 && source.training_refused == 8);
    ae_model_free(model);
}

static void test_refusals(const float *x) {
    ae_model *model = create(classic_spec), *segmentation = NULL, *tokens = NULL;
    array_source source;
    ae_train_options options;
    int32_t lengths[N] = {0};
    if (!model) return;
    memset(&source, 0, sizeof source);
    source.floats = x;
    ae_train_options_init(&options, sizeof options);
    EXPECT_FAIL_MSG(ae_model_train_source(NULL, N, fill_rows, &source, NULL, NULL), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_train_source", "model");
    EXPECT_FAIL_MSG(ae_model_train_source(model, N, NULL, &source, NULL, NULL), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_train_source", "source");
    EXPECT_FAIL_MSG(ae_model_train_source(model, 0, fill_rows, &source, NULL, NULL), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_train_source", "n is 0");
    options.mask = x;
    options.mask_count = N * D;
    EXPECT_FAIL_MSG(ae_model_train_source(model, N, fill_rows, &source, &options, NULL), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_train_source", "options->mask");
    ae_train_options_init(&options, sizeof options);
    options.lengths = lengths;
    options.lengths_count = N;
    EXPECT_FAIL_MSG(ae_model_train_source(model, N, fill_rows, &source, &options, NULL), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_train_source", "options->lengths");
    ae_train_options_init(&options, sizeof options);
    options.batch_size = 0;
    EXPECT_FAIL_MSG(ae_model_train_source(model, N, fill_rows, &source, &options, NULL), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_train_source", "options->batch_size");
    CHECK(source.requests == 0);
    CHECK_OK(ae_model_create("{\"input_shape\": [1, 10, 10], \"loss\": \"cross_entropy\", \"seed\": 2,"
                             " \"encoder\": [{\"type\": \"conv2d\", \"filters\": 2, \"kernel\": 3, \"padding\": 1}],"
                             " \"decoder\": [{\"type\": \"conv2d\", \"filters\": 3, \"kernel\": 1}]}",
                             &segmentation));
    EXPECT_FAIL_MSG(ae_model_train_source(segmentation, N, fill_rows, &source, NULL, NULL), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_train_source", "ae_model_train_labels");
    CHECK_OK(ae_model_create("{\"input_shape\": [5], \"loss\": \"sequence_cross_entropy\", \"seed\": 2,"
                             " \"encoder\": [{\"type\": \"embedding\", \"vocabulary\": 6, \"units\": 3},"
                             "               {\"type\": \"gru\", \"units\": 4, \"return\": \"last\"}],"
                             " \"decoder\": [{\"type\": \"repeat\", \"steps\": 5}, {\"type\": \"gru\", \"units\": 4},"
                             "               {\"type\": \"time_distributed_dense\", \"units\": 6}]}",
                             &tokens));
    EXPECT_FAIL_MSG(ae_model_train_source(tokens, N, fill_rows, &source, NULL, NULL), AE_ERR_UNSUPPORTED,
                    "ae_model_train_source", "ae_model_train_tokens");
    ae_model_free(model);
    ae_model_free(segmentation);
    ae_model_free(tokens);
}

int main(void) {
    float *x = testdata_make(N, D, 42);
    if (!x) return 2;
    test_same_as_an_array(x);
    test_bytes_as_their_floats();
    test_failures_change_nothing(x);
    test_source_may_use_the_model(x);
    test_refusals(x);
    free(x);
    return check_summary("sample_source");
}
