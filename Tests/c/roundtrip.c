/* roundtrip.c: the library used as intended, end to end.
 *
 * The classic model is created from its spec, trained with progress callbacks (one recording the
 * epochs, one stopping after two), saved and loaded (from a file and from memory) with bit-exact
 * reconstructions, trained step by step, its parameters and input scaling read and written, run
 * from 4 threads at once with the same results as serial calls, trained while other threads run
 * inference and change it, and trained twice from the same spec to bit-identical parameters.
 *
 * Anomaly detection: the fitted threshold is the quantile (computed here) of ae_model_score, predict
 * is score > threshold, and the threshold survives save/load. Inpainting keeps known inputs bit for
 * bit and fills the missing ones with the reconstruction of the zero-filled input. Masked training
 * (options.mask, ae_trainer_step_masked) with a mask of ones equals unmasked training bit for bit,
 * and ignores what missing entries hold. Denoising and the other families (sparse, contractive,
 * k-sparse, correntropy) train deterministically and infer without noise.
 *
 * Usage: roundtrip [--quick] [directory for temporary files]   (--quick: a smaller run for valgrind)
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "autoencoders.h"
#include "check.h"
#include "testdata.h"

#define D 100 /* input size of the classic model */
#define C 10  /* its code size */

static int quick = 0;
static const char *tmpdir = "/tmp";
static size_t samples = 256;

/* ---- helpers ---- */

/* All parameters of a model, concatenated in tensor order. Caller frees. */
static float *all_parameters(const ae_model *model, size_t *total) {
    size_t count = 0, tensors = 0, i, offset = 0;
    float *values;
    if (ae_model_parameter_count(model, &count) != AE_OK || ae_model_tensor_count(model, &tensors) != AE_OK) return NULL;
    values = (float *)malloc(count * sizeof(float));
    if (!values) return NULL;
    for (i = 0; i < tensors; i++) {
        const char *name = NULL;
        size_t n = 0;
        if (ae_model_tensor_info(model, i, &name, NULL, 0, NULL, &n) != AE_OK ||
            ae_model_get_parameter(model, name, values + offset, n) != AE_OK) {
            free(values);
            return NULL;
        }
        offset += n;
    }
    *total = offset;
    return values;
}

static int same_parameters(const ae_model *a, const ae_model *b) {
    size_t na = 0, nb = 0;
    float *pa = all_parameters(a, &na), *pb = all_parameters(b, &nb);
    int same = pa && pb && na == nb && memcmp(pa, pb, na * sizeof(float)) == 0;
    free(pa);
    free(pb);
    return same;
}

static ae_model *create(const char *spec) {
    ae_model *model = NULL;
    CHECK_OK(ae_model_create(spec, &model));
    return model;
}

/* ---- progress callbacks ---- */

typedef struct {
    size_t epoch_reports, batch_reports, seen_epochs[64];
    int struct_size_ok, validation_nan, validation_finite, losses_finite, stop_after;
    ae_model *model; /* if set, the callback runs inference on it */
    int inference_ok;
} recorder;

static int record_progress(const ae_progress *p, void *user_data) {
    recorder *r = (recorder *)user_data;
    if (p->struct_size != sizeof(ae_progress)) r->struct_size_ok = 0;
    if (!isfinite(p->train_loss) || !(p->learning_rate > 0) || p->elapsed_seconds < 0) r->losses_finite = 0;
    if (p->is_epoch_end) {
        if (r->epoch_reports < 64) r->seen_epochs[r->epoch_reports] = p->epoch;
        r->epoch_reports++;
        if (isnan(p->validation_loss)) r->validation_nan++; else if (isfinite(p->validation_loss)) r->validation_finite++;
        if (p->batch != p->batches) r->losses_finite = 0;
    } else {
        r->batch_reports++;
        if (!isnan(p->validation_loss)) r->losses_finite = 0;
    }
    if (r->model) {
        /* The header allows inference on the model being trained from its callback. */
        float x[D], y[D];
        int i;
        for (i = 0; i < D; i++) x[i] = 0.5f;
        if (ae_model_reconstruct(r->model, x, 1, D, y, D) != AE_OK) r->inference_ok = 0;
    }
    return r->stop_after > 0 && r->epoch_reports >= (size_t)r->stop_after;
}

static void init_recorder(recorder *r) {
    memset(r, 0, sizeof *r);
    r->struct_size_ok = 1;
    r->losses_finite = 1;
    r->inference_ok = 1;
}

/* ---- tests ---- */

static void test_create_and_query(void) {
    ae_model *model = create(classic_spec);
    size_t input = 0, code = 0, params = 0, tensors = 0, rank = 0, dims[4] = {0, 0, 0, 0}, epochs = 99, i, sum = 0;
    int can_decode = -1;
    const char *spec = NULL;
    if (!model) return;
    CHECK_OK(ae_model_input_size(model, &input));
    CHECK(input == D);
    CHECK_OK(ae_model_code_size(model, &code));
    CHECK(code == C);
    CHECK_OK(ae_model_input_shape(model, dims, 4, &rank));
    CHECK(rank == 1 && dims[0] == D);
    CHECK_OK(ae_model_parameter_count(model, &params));
    CHECK(params == 100 * 50 + 50 + 50 * 25 + 25 + 25 * 10 + 10 + 10 * 25 + 25 + 25 * 50 + 50 + 50 * 100 + 100);
    CHECK_OK(ae_model_can_decode(model, &can_decode));
    CHECK(can_decode == 1);
    CHECK_OK(ae_model_spec(model, &spec));
    CHECK(spec != NULL && strstr(spec, "\"input_size\"") != NULL);
    CHECK_OK(ae_model_epochs_completed(model, &epochs));
    CHECK(epochs == 0);
    CHECK_OK(ae_model_tensor_count(model, &tensors));
    CHECK(tensors == 12);
    for (i = 0; i < tensors; i++) {
        const char *name = NULL;
        size_t r = 0, n = 0, shape[2] = {0, 0};
        CHECK_OK(ae_model_tensor_info(model, i, &name, shape, 2, &r, &n));
        CHECK(name != NULL && (r == 1 || r == 2));
        CHECK(n == (r == 2 ? shape[0] * shape[1] : shape[0]));
        sum += n;
    }
    CHECK(sum == params);
    {
        const char *name = NULL;
        size_t r = 0, shape[2] = {0, 0};
        CHECK_OK(ae_model_tensor_info(model, 0, &name, shape, 2, &r, NULL));
        CHECK(strcmp(name, "encoder.0.weight") == 0 && r == 2 && shape[0] == 50 && shape[1] == 100); /* [out, in] */
    }
    ae_model_free(model);
}

static void test_train_progress(const float *x) {
    ae_model *model = create(classic_spec);
    ae_train_options options;
    ae_train_report report;
    recorder r;
    size_t epochs = 0, k;
    double loss_before = 0, loss_after = 0;
    if (!model) return;
    CHECK_OK(ae_model_evaluate(model, x, samples, samples * D, &loss_before));

    ae_train_options_init(&options, sizeof options);
    CHECK(options.struct_size == sizeof(ae_train_options) && options.epochs == 10 && options.batch_size == 32 &&
          options.shuffle == 1 && options.restore_best_weights == 1 && options.progress == NULL);
    init_recorder(&r);
    r.model = model;
    options.epochs = 3;
    options.progress = record_progress;
    options.user_data = &r;
    memset(&report, 0xAB, sizeof report);
    report.struct_size = sizeof report;
    CHECK_OK(ae_model_train(model, x, samples, samples * D, &options, &report));
    CHECK(r.epoch_reports == 3 && r.batch_reports == 0);
    for (k = 0; k < 3 && k < r.epoch_reports; k++) CHECK(r.seen_epochs[k] == k);
    CHECK(r.struct_size_ok && r.losses_finite && r.inference_ok);
    CHECK(r.validation_nan == 3); /* no validation data: NaN */
    CHECK(report.epochs_run == 3 && report.stop_reason == AE_STOP_COMPLETED);
    CHECK(isfinite(report.final_train_loss) && isnan(report.final_validation_loss));
    CHECK(report.best_epoch < 3 && isfinite(report.best_loss) && report.seconds >= 0);
    CHECK_OK(ae_model_evaluate(model, x, samples, samples * D, &loss_after));
    CHECK(loss_after < loss_before);
    CHECK_OK(ae_model_epochs_completed(model, &epochs));
    CHECK(epochs == 3);

    /* Per-batch reports and validation. */
    init_recorder(&r);
    options.epochs = 2;
    options.report_batches = 1;
    options.validation_split = 0.25f;
    CHECK_OK(ae_model_train(model, x, samples, samples * D, &options, &report));
    {
        size_t train_rows = samples - (size_t)(samples * 0.25 + 0.5);
        size_t batches = (train_rows + 31) / 32;
        CHECK(r.epoch_reports == 2 && r.batch_reports == 2 * (batches - 1));
    }
    CHECK(r.validation_finite == 2 && r.losses_finite && r.struct_size_ok);
    CHECK(isfinite(report.final_validation_loss));
    CHECK_OK(ae_model_epochs_completed(model, &epochs));
    CHECK(epochs == 5);

    /* Explicit validation data. */
    init_recorder(&r);
    options.report_batches = 0;
    options.validation_split = 0;
    options.validation_data = x;
    options.validation_samples = 16;
    options.validation_count = 16 * D;
    options.epochs = 1;
    CHECK_OK(ae_model_train(model, x, samples, samples * D, &options, &report));
    CHECK(r.validation_finite == 1 && isfinite(report.final_validation_loss));

    /* A callback that stops after 2 of 5 epochs. */
    ae_train_options_init(&options, sizeof options);
    init_recorder(&r);
    r.stop_after = 2;
    options.epochs = 5;
    options.progress = record_progress;
    options.user_data = &r;
    CHECK_OK(ae_model_train(model, x, samples, samples * D, &options, &report));
    CHECK(report.stop_reason == AE_STOP_CALLBACK && report.epochs_run == 2 && r.epoch_reports == 2);
    CHECK_OK(ae_model_epochs_completed(model, &epochs));
    CHECK(epochs == 8);

    /* NULL options and report are the defaults (10 epochs). */
    if (!quick) {
        CHECK_OK(ae_model_train(model, x, samples, samples * D, NULL, NULL));
        CHECK_OK(ae_model_epochs_completed(model, &epochs));
        CHECK(epochs == 18);
    }
    ae_model_free(model);
}

static void test_early_stopping(const float *x) {
    /* A learning rate so small that nothing improves by min_delta: patience 2 stops after 3 epochs. */
    const char *spec =
        "{\"input_size\": 100, \"encoder\": [{\"type\": \"dense\", \"units\": 10, \"activation\": \"relu\"}],"
        " \"decoder\": [{\"type\": \"dense\", \"units\": 100}], \"optimizer\": {\"type\": \"sgd\", \"lr\": 1e-9}}";
    ae_model *model = create(spec);
    ae_train_options options;
    ae_train_report report;
    if (!model) return;
    ae_train_options_init(&options, sizeof options);
    options.epochs = 20;
    options.patience = 2;
    options.min_delta = 1.0f;
    report.struct_size = sizeof report;
    CHECK_OK(ae_model_train(model, x, samples, samples * D, &options, &report));
    CHECK(report.stop_reason == AE_STOP_EARLY_STOPPING && report.epochs_run == 3 && report.best_epoch == 0);
    ae_model_free(model);
}

static void test_save_load(const float *x) {
    ae_model *model = create(classic_spec), *loaded = NULL, *from_memory = NULL;
    float *out1 = (float *)malloc(samples * D * sizeof(float)), *out2 = (float *)malloc(samples * D * sizeof(float));
    float *code1 = (float *)malloc(samples * C * sizeof(float)), *code2 = (float *)malloc(samples * C * sizeof(float));
    float scores1[16], scores2[16];
    char path[512];
    void *bytes = NULL;
    size_t size = 0, epochs = 0;
    const char *spec1 = NULL, *spec2 = NULL;
    ae_train_options options;
    if (!model || !out1 || !out2 || !code1 || !code2) goto done;
    ae_train_options_init(&options, sizeof options);
    options.epochs = 2;
    CHECK_OK(ae_model_fit_input_scaling(model, AE_SCALING_STANDARDIZE, x, samples, samples * D));
    CHECK_OK(ae_model_train(model, x, samples, samples * D, &options, NULL));

    snprintf(path, sizeof path, "%s/ae_roundtrip_%d.safetensors", tmpdir, (int)getpid());
    CHECK_OK(ae_model_save(model, path, 1));
    CHECK_OK(ae_model_load(path, &loaded));
    if (!loaded) goto done;
    CHECK(same_parameters(model, loaded));
    CHECK_OK(ae_model_reconstruct(model, x, samples, samples * D, out1, samples * D));
    CHECK_OK(ae_model_reconstruct(loaded, x, samples, samples * D, out2, samples * D));
    CHECK(memcmp(out1, out2, samples * D * sizeof(float)) == 0);
    CHECK_OK(ae_model_encode(model, x, samples, samples * D, code1, samples * C));
    CHECK_OK(ae_model_encode(loaded, x, samples, samples * D, code2, samples * C));
    CHECK(memcmp(code1, code2, samples * C * sizeof(float)) == 0);
    CHECK_OK(ae_model_score(model, x, 16, 16 * D, scores1, 16));
    CHECK_OK(ae_model_score(loaded, x, 16, 16 * D, scores2, 16));
    CHECK(memcmp(scores1, scores2, sizeof scores1) == 0);
    CHECK_OK(ae_model_epochs_completed(loaded, &epochs));
    CHECK(epochs == 2);
    CHECK_OK(ae_model_spec(model, &spec1));
    CHECK_OK(ae_model_spec(loaded, &spec2));
    CHECK(spec1 && spec2 && strcmp(spec1, spec2) == 0);

    /* Resuming from the file (optimizer state included) equals training on. */
    options.epochs = 1;
    CHECK_OK(ae_model_train(model, x, samples, samples * D, &options, NULL));
    CHECK_OK(ae_model_train(loaded, x, samples, samples * D, &options, NULL));
    CHECK(same_parameters(model, loaded));

    /* From memory. */
    CHECK_OK(ae_model_save_to_memory(model, 0, &bytes, &size));
    CHECK(bytes != NULL && size > 8);
    CHECK_OK(ae_model_load_from_memory(bytes, size, &from_memory));
    ae_free(bytes);
    if (!from_memory) goto done;
    CHECK(same_parameters(model, from_memory));
    CHECK_OK(ae_model_reconstruct(model, x, samples, samples * D, out1, samples * D));
    CHECK_OK(ae_model_reconstruct(from_memory, x, samples, samples * D, out2, samples * D));
    CHECK(memcmp(out1, out2, samples * D * sizeof(float)) == 0);
    {
        /* decode(encode(x)) matches reconstruct(x). */
        size_t i;
        float worst = 0;
        CHECK_OK(ae_model_encode(model, x, samples, samples * D, code1, samples * C));
        CHECK_OK(ae_model_decode(model, code1, samples, samples * C, out2, samples * D));
        for (i = 0; i < samples * D; i++) worst = fmaxf(worst, fabsf(out1[i] - out2[i]));
        CHECK(worst <= 1e-5f);
    }
done:
    unlink(path);
    ae_model_free(model);
    ae_model_free(loaded);
    ae_model_free(from_memory);
    free(out1);
    free(out2);
    free(code1);
    free(code2);
}

static void test_twice_equals_once(const float *x) {
    /* "Calling train twice for 2 epochs equals calling it once for 4." */
    ae_model *a = create(classic_spec), *b = create(classic_spec);
    ae_train_options options;
    if (!a || !b) goto done;
    CHECK(same_parameters(a, b)); /* same spec and seed: same initial parameters */
    ae_train_options_init(&options, sizeof options);
    options.epochs = 2;
    CHECK_OK(ae_model_train(a, x, samples, samples * D, &options, NULL));
    CHECK_OK(ae_model_train(a, x, samples, samples * D, &options, NULL));
    options.epochs = 4;
    CHECK_OK(ae_model_train(b, x, samples, samples * D, &options, NULL));
    CHECK(same_parameters(a, b));
done:
    ae_model_free(a);
    ae_model_free(b);
}

static void test_determinism(const float *x) {
    ae_model *a = create(classic_spec), *b = create(classic_spec);
    ae_train_options options;
    ae_trainer *ta = NULL, *tb = NULL;
    int i;
    if (!a || !b) goto done;
    ae_train_options_init(&options, sizeof options);
    options.epochs = quick ? 1 : 3;
    options.validation_split = 0.1f;
    CHECK_OK(ae_model_train(a, x, samples, samples * D, &options, NULL));
    CHECK_OK(ae_model_train(b, x, samples, samples * D, &options, NULL));
    CHECK(same_parameters(a, b));
    CHECK_OK(ae_trainer_create(a, 16, &ta));
    CHECK_OK(ae_trainer_create(b, 16, &tb));
    for (i = 0; i < 4; i++) {
        CHECK_OK(ae_trainer_step(ta, x + i * 16 * D, 16, 16 * D, NULL));
        CHECK_OK(ae_trainer_step(tb, x + i * 16 * D, 16, 16 * D, NULL));
    }
    CHECK(same_parameters(a, b));
done:
    ae_trainer_free(ta);
    ae_trainer_free(tb);
    ae_model_free(a);
    ae_model_free(b);
}

static void test_trainer(const float *x) {
    ae_model *model = create(classic_spec);
    ae_trainer *trainer = NULL;
    double loss = -1, first = 0, last = 0, lr = 0;
    size_t steps = 99;
    int i;
    if (!model) return;
    CHECK_OK(ae_trainer_create(model, 32, &trainer));
    if (!trainer) goto done;
    CHECK_OK(ae_trainer_step_count(trainer, &steps));
    CHECK(steps == 0);
    CHECK_OK(ae_trainer_get_learning_rate(trainer, &lr));
    CHECK(fabs(lr - 0.001) < 1e-9);
    for (i = 0; i < 40; i++) {
        size_t batch = (size_t)i % (samples / 32);
        CHECK_OK(ae_trainer_step(trainer, x + batch * 32 * D, 32, 32 * D, &loss));
        CHECK(isfinite(loss));
        if (i == 0) first = loss;
        last = loss;
    }
    CHECK(last < first);
    CHECK_OK(ae_trainer_step(trainer, x, 5, 5 * D, NULL)); /* a partial batch, loss not wanted */
    CHECK_OK(ae_trainer_step_count(trainer, &steps));
    CHECK(steps == 41);
    CHECK_OK(ae_trainer_set_learning_rate(trainer, 0.0005));
    CHECK_OK(ae_trainer_get_learning_rate(trainer, &lr));
    CHECK(fabs(lr - 0.0005) < 1e-9);
    CHECK_OK(ae_trainer_step(trainer, x, 32, 32 * D, &loss));
    /* The trainer keeps the model alive: free the model handle first, then the trainer. */
    ae_model_free(model);
    model = NULL;
    CHECK_OK(ae_trainer_step(trainer, x, 32, 32 * D, &loss));
    CHECK_OK(ae_trainer_step_count(trainer, &steps));
    CHECK(steps == 43);
done:
    ae_trainer_free(trainer);
    ae_model_free(model);
}

static void test_parameters(void) {
    ae_model *model = create(classic_spec);
    float bias[50], back[50], weight[5000];
    size_t i;
    if (!model) return;
    CHECK_OK(ae_model_get_parameter(model, "encoder.0.bias", bias, 50));
    for (i = 0; i < 50; i++) bias[i] = (float)i * 0.25f - 3.0f;
    CHECK_OK(ae_model_set_parameter(model, "encoder.0.bias", bias, 50));
    CHECK_OK(ae_model_get_parameter(model, "encoder.0.bias", back, 50));
    CHECK(memcmp(bias, back, sizeof bias) == 0);
    CHECK_OK(ae_model_get_parameter(model, "decoder.2.weight", weight, 5000));
    for (i = 0; i < 5000; i++) weight[i] = 0;
    CHECK_OK(ae_model_set_parameter(model, "decoder.2.weight", weight, 5000));
    {
        /* Zero last-layer weights: the output is relu(bias), whatever the input. */
        float x[D], y[D], b[D];
        for (i = 0; i < D; i++) x[i] = (float)i;
        CHECK_OK(ae_model_get_parameter(model, "decoder.2.bias", b, D));
        CHECK_OK(ae_model_reconstruct(model, x, 1, D, y, D));
        for (i = 0; i < D; i++) CHECK(y[i] == (b[i] > 0 ? b[i] : 0));
    }
    ae_model_free(model);
}

static void test_input_scaling(const float *x) {
    ae_model *model = create(classic_spec), *copy = NULL;
    float offset[D], scale[D], got_offset[D], got_scale[D];
    int has = -1;
    size_t i;
    void *bytes = NULL;
    size_t size = 0;
    if (!model) return;
    CHECK_OK(ae_model_get_input_scaling(model, got_offset, got_scale, D, &has));
    CHECK(has == 0);
    CHECK_OK(ae_model_get_input_scaling(model, NULL, NULL, 0, &has)); /* query only */
    CHECK(has == 0);
    for (i = 0; i < D; i++) {
        offset[i] = (float)i * 0.01f;
        scale[i] = 1.0f + (float)i * 0.1f;
    }
    CHECK_OK(ae_model_set_input_scaling(model, offset, scale, D));
    CHECK_OK(ae_model_get_input_scaling(model, got_offset, got_scale, D, &has));
    CHECK(has == 1 && memcmp(offset, got_offset, sizeof offset) == 0 && memcmp(scale, got_scale, sizeof scale) == 0);

    /* The scaling travels in the model file. */
    CHECK_OK(ae_model_save_to_memory(model, 1, &bytes, &size));
    CHECK_OK(ae_model_load_from_memory(bytes, size, &copy));
    ae_free(bytes);
    if (copy) {
        has = 0;
        memset(got_offset, 0, sizeof got_offset);
        CHECK_OK(ae_model_get_input_scaling(copy, got_offset, got_scale, D, &has));
        CHECK(has == 1 && memcmp(offset, got_offset, sizeof offset) == 0 && memcmp(scale, got_scale, sizeof scale) == 0);
        ae_model_free(copy);
    }

    /* Fitted scalings: min-max puts every feature in [0, 1] with offset = min. */
    CHECK_OK(ae_model_fit_input_scaling(model, AE_SCALING_MINMAX, x, samples, samples * D));
    CHECK_OK(ae_model_get_input_scaling(model, got_offset, got_scale, D, &has));
    {
        float low = x[0];
        for (i = 0; i < samples; i++) low = fminf(low, x[i * D]);
        CHECK(has == 1 && got_offset[0] == low && got_scale[0] > 0);
    }
    CHECK_OK(ae_model_fit_input_scaling(model, AE_SCALING_STANDARDIZE, x, samples, samples * D));
    CHECK_OK(ae_model_get_input_scaling(model, got_offset, got_scale, D, &has));
    {
        double mean = 0;
        for (i = 0; i < samples; i++) mean += x[i * D + 5];
        mean /= (double)samples;
        CHECK(has == 1 && fabs(got_offset[5] - mean) < 1e-5 && got_scale[5] > 0);
    }
    /* Removing it. */
    CHECK_OK(ae_model_set_input_scaling(model, NULL, NULL, 0));
    CHECK_OK(ae_model_get_input_scaling(model, got_offset, got_scale, D, &has));
    CHECK(has == 0);
    ae_model_free(model);
}

/* ---- concurrent inference ---- */

typedef struct {
    const ae_model *model;
    const float *x;
    float *reconstruction, *code, *scores;
    size_t n;
    int rounds, ok;
} worker;

static void *run_worker(void *argument) {
    worker *w = (worker *)argument;
    int round;
    w->ok = 1;
    for (round = 0; round < w->rounds; round++) {
        /* Alternate batch sizes: one-sample calls use a different workspace path than batches. */
        size_t n = (round % 2) ? w->n : 1;
        if (ae_model_reconstruct(w->model, w->x, n, n * D, w->reconstruction, n * D) != AE_OK) w->ok = 0;
        if (ae_model_encode(w->model, w->x, n, n * D, w->code, n * C) != AE_OK) w->ok = 0;
        if (ae_model_score(w->model, w->x, n, n * D, w->scores, n) != AE_OK) w->ok = 0;
    }
    /* End on a full-size call, whose results the main thread compares. */
    if (ae_model_reconstruct(w->model, w->x, w->n, w->n * D, w->reconstruction, w->n * D) != AE_OK) w->ok = 0;
    if (ae_model_encode(w->model, w->x, w->n, w->n * D, w->code, w->n * C) != AE_OK) w->ok = 0;
    if (ae_model_score(w->model, w->x, w->n, w->n * D, w->scores, w->n) != AE_OK) w->ok = 0;
    return NULL;
}

static void test_concurrent_inference(const float *x) {
    enum { THREADS = 4 };
    ae_model *model = create(classic_spec);
    pthread_t threads[THREADS];
    worker workers[THREADS];
    size_t n = samples;
    float *serial_r = (float *)malloc(n * D * sizeof(float)), *serial_c = (float *)malloc(n * C * sizeof(float));
    float *serial_s = (float *)malloc(n * sizeof(float));
    int t;
    ae_train_options options;
    if (!model || !serial_r || !serial_c || !serial_s) goto done;
    ae_train_options_init(&options, sizeof options);
    options.epochs = 1;
    CHECK_OK(ae_model_fit_input_scaling(model, AE_SCALING_STANDARDIZE, x, n, n * D));
    CHECK_OK(ae_model_train(model, x, n, n * D, &options, NULL));
    CHECK_OK(ae_model_reconstruct(model, x, n, n * D, serial_r, n * D));
    CHECK_OK(ae_model_encode(model, x, n, n * D, serial_c, n * C));
    CHECK_OK(ae_model_score(model, x, n, n * D, serial_s, n));
    for (t = 0; t < THREADS; t++) {
        workers[t].model = model;
        workers[t].x = x;
        workers[t].n = n;
        workers[t].rounds = quick ? 2 : 20;
        workers[t].reconstruction = (float *)calloc(n * D, sizeof(float));
        workers[t].code = (float *)calloc(n * C, sizeof(float));
        workers[t].scores = (float *)calloc(n, sizeof(float));
        CHECK(pthread_create(&threads[t], NULL, run_worker, &workers[t]) == 0);
    }
    for (t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        CHECK(workers[t].ok);
        CHECK(memcmp(workers[t].reconstruction, serial_r, n * D * sizeof(float)) == 0);
        CHECK(memcmp(workers[t].code, serial_c, n * C * sizeof(float)) == 0);
        CHECK(memcmp(workers[t].scores, serial_s, n * sizeof(float)) == 0);
        free(workers[t].reconstruction);
        free(workers[t].code);
        free(workers[t].scores);
    }
done:
    ae_model_free(model);
    free(serial_r);
    free(serial_c);
    free(serial_s);
}

/* ---- training concurrent with inference and changes from other threads ---- */

typedef struct {
    ae_model *model;
    const float *x;
    int rounds, ok, stop;
    char path[512];
} busy;

static void *busy_trainer(void *argument) {
    busy *b = (busy *)argument;
    ae_train_options options;
    ae_train_options_init(&options, sizeof options);
    options.epochs = quick ? 1 : 4;
    options.batch_size = 16;
    b->ok = ae_model_train(b->model, b->x, samples, samples * D, &options, NULL) == AE_OK;
    return NULL;
}

static void *busy_inference(void *argument) {
    busy *b = (busy *)argument;
    float y[4 * D];
    int round, i;
    b->ok = 1;
    for (round = 0; round < b->rounds; round++) {
        if (ae_model_reconstruct(b->model, b->x, 4, 4 * D, y, 4 * D) != AE_OK) b->ok = 0;
        for (i = 0; i < 4 * D; i++) if (!isfinite(y[i])) b->ok = 0;
    }
    return NULL;
}

/* Changes and reads that take the model exclusively: they wait for the training run. */
static void *busy_writer(void *argument) {
    busy *b = (busy *)argument;
    float offset[D], scale[D], bias[50];
    size_t epochs = 0, i;
    int round;
    b->ok = 1;
    for (i = 0; i < D; i++) {
        offset[i] = 0.0f;
        scale[i] = 1.0f;
    }
    for (round = 0; round < b->rounds; round++) {
        if (ae_model_set_input_scaling(b->model, offset, scale, D) != AE_OK) b->ok = 0;
        if (ae_model_get_parameter(b->model, "encoder.0.bias", bias, 50) != AE_OK) b->ok = 0;
        if (ae_model_set_parameter(b->model, "encoder.0.bias", bias, 50) != AE_OK) b->ok = 0;
        if (ae_model_epochs_completed(b->model, &epochs) != AE_OK) b->ok = 0;
        if (ae_model_save(b->model, b->path, 1) != AE_OK) b->ok = 0;
    }
    return NULL;
}

static void test_training_with_other_threads(const float *x) {
    enum { THREADS = 4 };
    ae_model *model = create(classic_spec);
    pthread_t threads[THREADS];
    busy work[THREADS];
    void *(*bodies[THREADS])(void *) = {busy_trainer, busy_inference, busy_inference, busy_writer};
    int t;
    size_t epochs = 0;
    if (!model) return;
    for (t = 0; t < THREADS; t++) {
        memset(&work[t], 0, sizeof work[t]);
        work[t].model = model;
        work[t].x = x;
        work[t].rounds = quick ? 2 : 20;
        snprintf(work[t].path, sizeof work[t].path, "%s/ae_roundtrip_busy_%d.safetensors", tmpdir, (int)getpid());
        CHECK(pthread_create(&threads[t], NULL, bodies[t], &work[t]) == 0);
    }
    for (t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        CHECK(work[t].ok);
    }
    CHECK_OK(ae_model_epochs_completed(model, &epochs));
    CHECK(epochs == (quick ? 1u : 4u));
    unlink(work[0].path);
    ae_model_free(model);
}

/* ---- anomaly detection: threshold and predict ---- */

static int compare_floats(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of n sorted values, linear interpolation between order statistics (numpy's
 * default), in double. */
static double quantile_of_sorted(const float *sorted, size_t n, double q) {
    double position = q * (double)(n - 1);
    size_t below = (size_t)floor(position), above = below + 1 < n ? below + 1 : n - 1;
    return (double)sorted[below] + ((double)sorted[above] - (double)sorted[below]) * (position - (double)below);
}

/* fit_threshold(q) on the first n samples: the threshold it returns and the one get_threshold
 * reads are the same float, and that float is the quantile computed here of ae_model_score over
 * the same samples. `exact`: the interpolation is exact in float (q = 0, 1, or an integer or
 * half-integer position), so the two must agree bit for bit; otherwise to float rounding. */
static void check_fitted_quantile(ae_model *model, const float *x, size_t n, double q, int exact) {
    float *scores = (float *)malloc(n * sizeof(float)), fitted = -1, got = -2;
    int has = -1;
    double expected;
    if (!scores) return;
    CHECK_OK(ae_model_score(model, x, n, n * D, scores, n));
    qsort(scores, n, sizeof(float), compare_floats);
    expected = quantile_of_sorted(scores, n, q);
    CHECK_OK(ae_model_fit_threshold(model, x, n, n * D, q, &fitted));
    CHECK_OK(ae_model_get_threshold(model, &got, &has));
    CHECK(has == 1 && memcmp(&fitted, &got, sizeof got) == 0);
    if (exact) {
        CHECK(got == (float)expected);
    } else {
        CHECK(fabs((double)got - expected) <= 1e-6 * fabs(expected) + 1e-30);
    }
    if (q == 0) CHECK(got == scores[0]);
    if (q == 1) CHECK(got == scores[n - 1]);
    if (!(exact ? got == (float)expected : fabs((double)got - expected) <= 1e-6 * fabs(expected) + 1e-30))
        fprintf(stderr, "  quantile %g of %zu scores: library %.9g, C %.9g\n", q, n, (double)got, expected);
    free(scores);
}

/* predict's labels are exactly score > threshold. Returns the number flagged. */
static size_t check_predict_matches_score(const ae_model *model, const float *x, size_t n) {
    float *scores = (float *)malloc(n * sizeof(float)), threshold = -1;
    int32_t *labels = (int32_t *)malloc(n * sizeof(int32_t));
    int has = 0, consistent = 1;
    size_t i, flagged = 0;
    if (!scores || !labels) goto done;
    CHECK_OK(ae_model_get_threshold(model, &threshold, &has));
    CHECK(has == 1);
    CHECK_OK(ae_model_score(model, x, n, n * D, scores, n));
    for (i = 0; i < n; i++) labels[i] = -1;
    CHECK_OK(ae_model_predict(model, x, n, n * D, labels, n));
    for (i = 0; i < n; i++) {
        if (labels[i] != (scores[i] > threshold ? 1 : 0)) consistent = 0;
        flagged += labels[i] == 1;
    }
    CHECK(consistent);
done:
    free(scores);
    free(labels);
    return flagged;
}

static void test_anomaly_threshold(const float *x) {
    ae_model *model = create(classic_spec), *loaded = NULL, *from_memory = NULL, *plain = NULL;
    ae_train_options options;
    float scores[16], threshold = 0, got = 0, *outliers = (float *)malloc(16 * D * sizeof(float));
    int32_t labels[16], labels_back[16];
    int has = -1;
    size_t i, flagged, n_odd = samples - 1;
    char path[512];
    void *bytes = NULL;
    size_t size = 0;
    if (!model || !outliers) goto done;
    snprintf(path, sizeof path, "%s/ae_roundtrip_threshold_%d.safetensors", tmpdir, (int)getpid());
    ae_train_options_init(&options, sizeof options);
    options.epochs = quick ? 1 : 3;
    CHECK_OK(ae_model_train(model, x, samples, samples * D, &options, NULL));

    /* The quantile, computed in C from ae_model_score over the same data. */
    check_fitted_quantile(model, x, samples, 0.0, 1);
    check_fitted_quantile(model, x, samples, 1.0, 1);
    check_fitted_quantile(model, x, n_odd, 0.5, 1);  /* position (n - 1) / 2: an order statistic */
    check_fitted_quantile(model, x, n_odd, 0.25, 1); /* a half-integer position: the midpoint */
    check_fitted_quantile(model, x, samples, 0.5, 0);
    check_fitted_quantile(model, x, samples, 0.9, 0);
    check_fitted_quantile(model, x, samples, 0.123, 0);
    check_fitted_quantile(model, x, 1, 0.7, 1); /* one sample: its score */
    check_fitted_quantile(model, x, 2, 0.5, 0);
    check_fitted_quantile(model, x, samples, 0.99, 0);

    /* predict == score > threshold, at q = 0.99 and 0.9, and after set_threshold. */
    flagged = check_predict_matches_score(model, x, samples);
    CHECK(flagged >= 1 && flagged <= samples / 50 + 1); /* about 1 %: ties aside, n - 1 - floor(0.99 (n - 1)) */
    CHECK_OK(ae_model_fit_threshold(model, x, samples, samples * D, 0.9, &threshold));
    flagged = check_predict_matches_score(model, x, samples);
    CHECK(flagged >= samples / 20 && flagged <= samples / 5);
    /* "exceeds": a sample whose score equals the threshold is normal, one just above it is not. */
    CHECK_OK(ae_model_score(model, x, 16, 16 * D, scores, 16));
    CHECK_OK(ae_model_set_threshold(model, scores[3]));
    CHECK_OK(ae_model_predict(model, x, 16, 16 * D, labels, 16));
    CHECK(labels[3] == 0);
    CHECK_OK(ae_model_set_threshold(model, nextafterf(scores[3], 0.0f)));
    CHECK_OK(ae_model_predict(model, x, 16, 16 * D, labels, 16));
    CHECK(labels[3] == 1);
    CHECK(check_predict_matches_score(model, x, 16) == (size_t)(labels[0] + labels[1] + labels[2] + labels[3] + labels[4] +
                                                                 labels[5] + labels[6] + labels[7] + labels[8] + labels[9] +
                                                                 labels[10] + labels[11] + labels[12] + labels[13] +
                                                                 labels[14] + labels[15]));
    /* Samples far from the training data are all flagged at the 0.99 threshold. */
    CHECK_OK(ae_model_fit_threshold(model, x, samples, samples * D, 0.99, &threshold));
    for (i = 0; i < 16 * D; i++) outliers[i] = (i % 2) ? 5.0f : -3.0f;
    CHECK_OK(ae_model_predict(model, outliers, 16, 16 * D, labels, 16));
    for (i = 0, flagged = 0; i < 16; i++) flagged += labels[i] == 1;
    CHECK(flagged == 16);

    /* The threshold survives save and load (file, memory, with and without optimizer state). */
    CHECK_OK(ae_model_predict(model, x, 16, 16 * D, labels, 16));
    CHECK_OK(ae_model_save(model, path, 1));
    CHECK_OK(ae_model_load(path, &loaded));
    if (loaded) {
        has = -1;
        CHECK_OK(ae_model_get_threshold(loaded, &got, &has));
        CHECK(has == 1 && memcmp(&got, &threshold, sizeof got) == 0);
        CHECK_OK(ae_model_predict(loaded, x, 16, 16 * D, labels_back, 16));
        CHECK(memcmp(labels, labels_back, sizeof labels) == 0);
    }
    CHECK_OK(ae_model_save_to_memory(model, 0, &bytes, &size));
    CHECK_OK(ae_model_load_from_memory(bytes, size, &from_memory));
    ae_free(bytes);
    bytes = NULL;
    if (from_memory) {
        has = -1;
        CHECK_OK(ae_model_get_threshold(from_memory, &got, &has));
        CHECK(has == 1 && memcmp(&got, &threshold, sizeof got) == 0);
        CHECK_OK(ae_model_predict(from_memory, x, 16, 16 * D, labels_back, 16));
        CHECK(memcmp(labels, labels_back, sizeof labels) == 0);
        /* Saved again, the copy keeps it too; a new threshold on the copy leaves the original alone. */
        CHECK_OK(ae_model_set_threshold(from_memory, 123.0f));
        CHECK_OK(ae_model_get_threshold(model, &got, &has));
        CHECK(has == 1 && got == threshold);
    }
    /* A model without a threshold stays without one through save and load. */
    plain = create(classic_spec);
    if (plain) {
        ae_model *back = NULL;
        CHECK_OK(ae_model_save_to_memory(plain, 1, &bytes, &size));
        CHECK_OK(ae_model_load_from_memory(bytes, size, &back));
        ae_free(bytes);
        bytes = NULL;
        has = -1;
        if (back) CHECK_OK(ae_model_get_threshold(back, NULL, &has));
        CHECK(has == 0);
        ae_model_free(back);
    }
done:
    unlink(path);
    free(outliers);
    ae_model_free(model);
    ae_model_free(loaded);
    ae_model_free(from_memory);
    ae_model_free(plain);
}

/* ---- inpainting ---- */

/* Bitwise float comparison of the entries where mask == want. */
static int same_where(const float *a, const float *b, const float *mask, float want, size_t count) {
    size_t i;
    for (i = 0; i < count; i++) {
        if (mask[i] == want && memcmp(&a[i], &b[i], sizeof(float)) != 0) return 0;
    }
    return 1;
}

static void check_inpaint(const ae_model *model, const float *x, size_t n, const float *fill_value_per_feature) {
    size_t count = n * D, i, missing = 0;
    float *mask = (float *)malloc(count * sizeof(float)), *input = (float *)malloc(count * sizeof(float));
    float *filled = (float *)malloc(count * sizeof(float)), *reference = (float *)malloc(count * sizeof(float));
    float *recon = (float *)malloc(count * sizeof(float));
    int finite = 1;
    if (!mask || !input || !filled || !reference || !recon) goto done;
    for (i = 0; i < count; i++) {
        mask[i] = ((i * 7 + 3) % 10 < 3) ? 0.0f : 1.0f; /* 30 % missing */
        missing += mask[i] == 0.0f;
        /* Missing entries hold any finite value: garbage here. */
        input[i] = mask[i] != 0.0f ? x[i] : 1000.0f + (float)(i % 13);
        /* Missing entries enter the network as zero (in its scaled space): the raw value that scales to zero. */
        reference[i] = mask[i] != 0.0f ? x[i] : (fill_value_per_feature ? fill_value_per_feature[i % D] : 0.0f);
    }
    CHECK(missing > 0 && missing < count);
    CHECK_OK(ae_model_inpaint(model, input, mask, n, count, filled, count));
    CHECK(same_where(filled, input, mask, 1.0f, count)); /* known entries kept bit for bit */
    CHECK_OK(ae_model_reconstruct(model, reference, n, count, recon, count));
    CHECK(same_where(filled, recon, mask, 0.0f, count)); /* missing ones: the reconstruction of the zero-filled input */
    for (i = 0; i < count; i++) finite &= isfinite(filled[i]) != 0;
    CHECK(finite);
    CHECK(!same_where(filled, input, mask, 0.0f, count)); /* the garbage is gone */

    /* A mask of ones: the input itself. A mask of zeros: the reconstruction of all-"zero" input. */
    for (i = 0; i < count; i++) mask[i] = 1.0f;
    CHECK_OK(ae_model_inpaint(model, x, mask, n, count, filled, count));
    CHECK(memcmp(filled, x, count * sizeof(float)) == 0);
    for (i = 0; i < count; i++) {
        mask[i] = 0.0f;
        reference[i] = fill_value_per_feature ? fill_value_per_feature[i % D] : 0.0f;
    }
    CHECK_OK(ae_model_inpaint(model, x, mask, n, count, filled, count));
    CHECK_OK(ae_model_reconstruct(model, reference, n, count, recon, count));
    CHECK(memcmp(filled, recon, count * sizeof(float)) == 0);
done:
    free(mask);
    free(input);
    free(filled);
    free(reference);
    free(recon);
}

static void test_inpaint(const float *x) {
    ae_model *model = create(classic_spec), *scaled = create(classic_spec);
    ae_train_options options;
    float offset[D], scale[D];
    int has = 0;
    if (!model || !scaled) goto done;
    ae_train_options_init(&options, sizeof options);
    options.epochs = 1;
    CHECK_OK(ae_model_train(model, x, samples, samples * D, &options, NULL));
    check_inpaint(model, x, 16, NULL); /* no input scaling: missing = 0 */
    /* With input scaling, "zero" is zero in the scaled space: the raw value offset[j]. */
    CHECK_OK(ae_model_fit_input_scaling(scaled, AE_SCALING_STANDARDIZE, x, samples, samples * D));
    CHECK_OK(ae_model_train(scaled, x, samples, samples * D, &options, NULL));
    CHECK_OK(ae_model_get_input_scaling(scaled, offset, scale, D, &has));
    CHECK(has == 1);
    check_inpaint(scaled, x, 16, offset);
done:
    ae_model_free(model);
    ae_model_free(scaled);
}

/* ---- masked training ---- */

static void test_masked_training(const float *x) {
    ae_model *a = create(classic_spec), *b = create(classic_spec), *c = create(classic_spec), *d = create(classic_spec);
    size_t count = samples * D, i;
    float *ones = (float *)malloc(count * sizeof(float)), *mask = (float *)malloc(count * sizeof(float));
    float *zero_filled = (float *)malloc(count * sizeof(float)), *garbage = (float *)malloc(count * sizeof(float));
    ae_train_options options;
    ae_train_report ra, rb, rc, rd;
    double loss = 0;
    if (!a || !b || !c || !d || !ones || !mask || !zero_filled || !garbage) goto done;
    for (i = 0; i < count; i++) {
        ones[i] = 1.0f;
        mask[i] = ((i * 11 + 5) % 7 < 2) ? 0.0f : 1.0f; /* about 29 % missing */
        zero_filled[i] = mask[i] != 0.0f ? x[i] : 0.0f;
        garbage[i] = mask[i] != 0.0f ? x[i] : 7.0f + (float)(i % 5);
    }
    ra.struct_size = rb.struct_size = rc.struct_size = rd.struct_size = sizeof(ae_train_report);

    /* A mask of all ones is no mask: same weights and losses bit for bit (same seed), with
     * explicit validation data too. */
    ae_train_options_init(&options, sizeof options);
    options.epochs = quick ? 1 : 2;
    options.validation_data = x;
    options.validation_samples = 16;
    options.validation_count = 16 * D;
    CHECK_OK(ae_model_train(a, x, samples, count, &options, &ra));
    options.mask = ones;
    options.mask_count = count;
    CHECK_OK(ae_model_train(b, x, samples, count, &options, &rb));
    CHECK(same_parameters(a, b));
    CHECK(memcmp(&ra.final_train_loss, &rb.final_train_loss, sizeof(double)) == 0);
    CHECK(memcmp(&ra.final_validation_loss, &rb.final_validation_loss, sizeof(double)) == 0);
    CHECK(ra.epochs_run == rb.epochs_run && ra.best_epoch == rb.best_epoch);

    /* A mask with holes: what the missing entries hold never matters (zeros or garbage give the
     * same weights bit for bit), and the result differs from unmasked training. */
    options.mask = mask;
    CHECK_OK(ae_model_train(c, zero_filled, samples, count, &options, &rc));
    CHECK_OK(ae_model_train(d, garbage, samples, count, &options, &rd));
    CHECK(same_parameters(c, d));
    CHECK(memcmp(&rc.final_train_loss, &rd.final_train_loss, sizeof(double)) == 0);
    CHECK(isfinite(rc.final_train_loss) && isfinite(rc.final_validation_loss));
    CHECK(!same_parameters(a, c));
    CHECK_OK(ae_model_evaluate(c, x, samples, count, &loss));
    CHECK(isfinite(loss));
done:
    free(ones);
    free(mask);
    free(zero_filled);
    free(garbage);
    ae_model_free(a);
    ae_model_free(b);
    ae_model_free(c);
    ae_model_free(d);
}

static void test_trainer_step_masked(const float *x) {
    enum { B = 16 };
    ae_model *a = create(classic_spec), *b = create(classic_spec), *c = create(classic_spec), *d = create(classic_spec);
    ae_trainer *ta = NULL, *tb = NULL, *tc = NULL, *td = NULL;
    float ones[B * D], mask[B * D], zero_filled[B * D], garbage[B * D], recon[B * D];
    double la = 0, lb = 0, lc = 0, ld = 0, expected = 0, known = 0;
    size_t i, sa = 0, sb = 0;
    int step, same_losses = 1, same_masked_losses = 1;
    if (!a || !b || !c || !d) goto done;
    CHECK_OK(ae_trainer_create(a, B, &ta));
    CHECK_OK(ae_trainer_create(b, B, &tb));
    CHECK_OK(ae_trainer_create(c, B, &tc));
    CHECK_OK(ae_trainer_create(d, B, &td));
    if (!ta || !tb || !tc || !td) goto done;
    for (i = 0; i < B * D; i++) ones[i] = 1.0f;

    /* A mask of ones: the same steps as ae_trainer_step, bit for bit. */
    for (step = 0; step < 4; step++) {
        const float *batch = x + (size_t)step * B * D;
        CHECK_OK(ae_trainer_step(ta, batch, B, B * D, &la));
        CHECK_OK(ae_trainer_step_masked(tb, batch, ones, B, B * D, &lb));
        if (memcmp(&la, &lb, sizeof la) != 0) same_losses = 0;
    }
    CHECK_OK(ae_trainer_step(ta, x, 5, 5 * D, &la)); /* a partial batch */
    CHECK_OK(ae_trainer_step_masked(tb, x, ones, 5, 5 * D, &lb));
    if (memcmp(&la, &lb, sizeof la) != 0) same_losses = 0;
    CHECK(same_losses);
    CHECK(same_parameters(a, b));
    CHECK_OK(ae_trainer_step_count(ta, &sa));
    CHECK_OK(ae_trainer_step_count(tb, &sb));
    CHECK(sa == 5 && sb == 5);

    /* With holes: the loss before the update is the mean squared error over the known entries of
     * the reconstruction of the zero-filled batch (mse, no regularizer, no noise), and what the
     * missing entries hold does not matter. */
    for (i = 0; i < B * D; i++) {
        mask[i] = ((i * 13 + 1) % 5 == 0) ? 0.0f : 1.0f;
        zero_filled[i] = mask[i] != 0.0f ? x[i] : 0.0f;
        garbage[i] = mask[i] != 0.0f ? x[i] : -50.0f;
    }
    CHECK_OK(ae_model_reconstruct(c, zero_filled, B, B * D, recon, B * D));
    for (i = 0; i < B * D; i++) {
        if (mask[i] != 0.0f) {
            double e = (double)recon[i] - (double)x[i];
            expected += e * e;
            known += 1;
        }
    }
    expected /= known;
    for (step = 0; step < 3; step++) {
        CHECK_OK(ae_trainer_step_masked(tc, zero_filled, mask, B, B * D, &lc));
        CHECK_OK(ae_trainer_step_masked(td, garbage, mask, B, B * D, &ld));
        if (step == 0) {
            CHECK(fabs(lc - expected) <= 1e-5 * expected);
            if (!(fabs(lc - expected) <= 1e-5 * expected)) fprintf(stderr, "  masked loss %.9g, expected %.9g\n", lc, expected);
        }
        if (memcmp(&lc, &ld, sizeof lc) != 0) same_masked_losses = 0;
    }
    CHECK(same_masked_losses);
    CHECK(same_parameters(c, d));
    CHECK(!same_parameters(a, c));
done:
    ae_trainer_free(ta);
    ae_trainer_free(tb);
    ae_trainer_free(tc);
    ae_trainer_free(td);
    ae_model_free(a);
    ae_model_free(b);
    ae_model_free(c);
    ae_model_free(d);
}

/* ---- denoising and the other families ---- */

#define SMALL_SPEC(encoder, decoder_activation, extra)                                              \
    "{\"input_size\": 100, \"encoder\": [" encoder "],"                                             \
    " \"decoder\": [{\"type\": \"dense\", \"units\": 100, \"activation\": \"" decoder_activation "\"}]," \
    " \"optimizer\": {\"type\": \"adam\", \"lr\": 0.003}, \"seed\": 11" extra "}"
#define RELU_32 "{\"type\": \"dense\", \"units\": 32, \"activation\": \"relu\"}"
#define SIGMOID_32 "{\"type\": \"dense\", \"units\": 32, \"activation\": \"sigmoid\"}"

/* Inference on a model is deterministic: encode, reconstruct, score and evaluate twice give the
 * same bits, and so does a copy through save/load. */
static void check_inference_deterministic(const ae_model *model, const float *x, size_t n) {
    float *r1 = (float *)malloc(n * D * sizeof(float)), *r2 = (float *)malloc(n * D * sizeof(float));
    float *c1 = (float *)malloc(n * 32 * sizeof(float)), *c2 = (float *)malloc(n * 32 * sizeof(float));
    float *s1 = (float *)malloc(n * sizeof(float)), *s2 = (float *)malloc(n * sizeof(float));
    double e1 = 1, e2 = 2;
    ae_model *copy = NULL;
    void *bytes = NULL;
    size_t size = 0;
    if (!r1 || !r2 || !c1 || !c2 || !s1 || !s2) goto done;
    CHECK_OK(ae_model_reconstruct(model, x, n, n * D, r1, n * D));
    CHECK_OK(ae_model_reconstruct(model, x, n, n * D, r2, n * D));
    CHECK(memcmp(r1, r2, n * D * sizeof(float)) == 0);
    CHECK_OK(ae_model_encode(model, x, n, n * D, c1, n * 32));
    CHECK_OK(ae_model_encode(model, x, n, n * D, c2, n * 32));
    CHECK(memcmp(c1, c2, n * 32 * sizeof(float)) == 0);
    CHECK_OK(ae_model_score(model, x, n, n * D, s1, n));
    CHECK_OK(ae_model_score(model, x, n, n * D, s2, n));
    CHECK(memcmp(s1, s2, n * sizeof(float)) == 0);
    CHECK_OK(ae_model_evaluate(model, x, n, n * D, &e1));
    CHECK_OK(ae_model_evaluate(model, x, n, n * D, &e2));
    CHECK(e1 == e2 && isfinite(e1));
    CHECK_OK(ae_model_save_to_memory(model, 1, &bytes, &size));
    CHECK_OK(ae_model_load_from_memory(bytes, size, &copy));
    ae_free(bytes);
    if (copy) {
        CHECK_OK(ae_model_reconstruct(copy, x, n, n * D, r2, n * D));
        CHECK(memcmp(r1, r2, n * D * sizeof(float)) == 0);
        CHECK_OK(ae_model_score(copy, x, n, n * D, s2, n));
        CHECK(memcmp(s1, s2, n * sizeof(float)) == 0);
        ae_model_free(copy);
    }
done:
    free(r1);
    free(r2);
    free(c1);
    free(c2);
    free(s1);
    free(s2);
}

static void test_denoising(const float *x) {
    static const char *const noisy = SMALL_SPEC(RELU_32, "sigmoid", ", \"noise\": {\"type\": \"gaussian\", \"stddev\": 0.5}");
    static const char *const clean = SMALL_SPEC(RELU_32, "sigmoid", "");
    ae_model *a = create(noisy), *b = create(noisy), *c = create(clean), *e = create(noisy);
    ae_train_options options;
    ae_train_report report;
    ae_trainer *trainer = NULL;
    double before = 0, after = 0, step_loss = 0, clean_loss = 0;
    if (!a || !b || !c || !e) goto done;
    CHECK_OK(ae_model_evaluate(a, x, samples, samples * D, &before));
    ae_train_options_init(&options, sizeof options);
    options.epochs = quick ? 2 : 5;
    report.struct_size = sizeof report;
    CHECK_OK(ae_model_train(a, x, samples, samples * D, &options, &report));
    CHECK(isfinite(report.final_train_loss));
    CHECK_OK(ae_model_evaluate(a, x, samples, samples * D, &after));
    CHECK(after < before); /* it learns, noise and all */
    /* The noise comes from the model's seeded generator: the same spec trains to the same bits... */
    CHECK_OK(ae_model_train(b, x, samples, samples * D, &options, NULL));
    CHECK(same_parameters(a, b));
    /* ...and it is there: without it, training ends elsewhere. */
    CHECK_OK(ae_model_train(c, x, samples, samples * D, &options, NULL));
    CHECK(!same_parameters(a, c));
    /* Noise only in training: inference is deterministic and equal after save/load. */
    check_inference_deterministic(a, x, 32);
    /* A trainer step sees the corrupted batch: its loss is not the clean objective on that batch. */
    CHECK_OK(ae_model_evaluate(e, x, 16, 16 * D, &clean_loss));
    CHECK_OK(ae_trainer_create(e, 16, &trainer));
    if (trainer) CHECK_OK(ae_trainer_step(trainer, x, 16, 16 * D, &step_loss));
    CHECK(isfinite(step_loss) && step_loss != clean_loss);
done:
    ae_trainer_free(trainer);
    ae_model_free(a);
    ae_model_free(b);
    ae_model_free(c);
    ae_model_free(e);
}

/* Each new family trains (finite loss, twice to the same bits) and infers deterministically. */
static void test_families(const float *x) {
    static const char *const specs[] = {
        SMALL_SPEC(RELU_32, "sigmoid", ", \"noise\": {\"type\": \"masking\", \"fraction\": 0.3}"),
        SMALL_SPEC(RELU_32, "sigmoid", ", \"noise\": {\"type\": \"salt_and_pepper\", \"fraction\": 0.1}"),
        SMALL_SPEC(RELU_32, "sigmoid", ", \"noise\": {\"type\": \"gaussian\", \"stddev\": 0.3, \"clip\": [0, 1]}"),
        SMALL_SPEC(SIGMOID_32, "sigmoid", ", \"loss\": \"bce\","
                   " \"regularization\": {\"sparsity\": {\"type\": \"kl\", \"target\": 0.05, \"weight\": 0.5}}"),
        SMALL_SPEC(RELU_32, "sigmoid", ", \"regularization\": {\"sparsity\": {\"type\": \"l1\", \"weight\": 0.001}}"),
        SMALL_SPEC(SIGMOID_32, "sigmoid", ", \"regularization\": {\"contractive\": {\"weight\": 0.01}}"),
        SMALL_SPEC("{\"type\": \"dense\", \"units\": 32}, {\"type\": \"k_sparse\", \"k\": 5}", "sigmoid", ""),
        SMALL_SPEC(RELU_32, "sigmoid", ", \"loss\": {\"type\": \"correntropy\", \"sigma\": 1}"),
        SMALL_SPEC(SIGMOID_32, "sigmoid", ", \"noise\": {\"type\": \"gaussian\", \"stddev\": 0.5},"
                   " \"regularization\": {\"sparsity\": {\"type\": \"kl\", \"target\": 0.1, \"weight\": 0.1},"
                   " \"contractive\": {\"weight\": 0.01}}"),
    };
    size_t k;
    for (k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        ae_model *a = create(specs[k]), *b = create(specs[k]);
        ae_train_options options;
        ae_train_report report;
        if (!a || !b) {
            fprintf(stderr, "  family spec %zu: %s\n", k, ae_last_error());
        } else {
            ae_train_options_init(&options, sizeof options);
            options.epochs = quick ? 1 : 2;
            report.struct_size = sizeof report;
            CHECK_OK(ae_model_train(a, x, samples, samples * D, &options, &report));
            CHECK(isfinite(report.final_train_loss) && report.final_train_loss >= 0);
            CHECK_OK(ae_model_train(b, x, samples, samples * D, &options, NULL));
            CHECK(same_parameters(a, b));
            check_inference_deterministic(a, x, 16);
        }
        ae_model_free(a);
        ae_model_free(b);
    }
    {
        /* k_sparse keeps exactly k non-zero code values per sample (ties aside). */
        ae_model *model = create(SMALL_SPEC("{\"type\": \"dense\", \"units\": 32}, {\"type\": \"k_sparse\", \"k\": 5}", "sigmoid", ""));
        float code[8 * 32];
        size_t i, j, ok = 0;
        if (model) {
            CHECK_OK(ae_model_encode(model, x, 8, 8 * D, code, 8 * 32));
            for (i = 0; i < 8; i++) {
                size_t nonzero = 0;
                for (j = 0; j < 32; j++) nonzero += code[i * 32 + j] != 0.0f;
                ok += nonzero == 5;
            }
            CHECK(ok == 8);
        }
        ae_model_free(model);
    }
}

static void test_versions(void) {
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", AE_VERSION_MAJOR, AE_VERSION_MINOR, AE_VERSION_PATCH);
    CHECK(strcmp(ae_version_string(), expected) == 0);
    CHECK(ae_version_major() == AE_VERSION_MAJOR && ae_version_minor() == AE_VERSION_MINOR &&
          ae_version_patch() == AE_VERSION_PATCH);
    if (!quick) { /* under valgrind (--quick), OpenBLAS stays on one thread */
        CHECK_OK(ae_set_num_threads(2));
        CHECK(ae_get_num_threads() == 2);
    }
    CHECK_OK(ae_set_num_threads(1));
    CHECK(ae_get_num_threads() == 1);
}

int main(int argc, char **argv) {
    float *x;
    int i;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) quick = 1; else tmpdir = argv[i];
    }
    if (quick) samples = 64;
    x = testdata_make(samples, D, 42);
    if (!x) return 2;
    test_versions();
    test_create_and_query();
    test_train_progress(x);
    test_early_stopping(x);
    test_save_load(x);
    test_twice_equals_once(x);
    test_determinism(x);
    test_trainer(x);
    test_parameters();
    test_input_scaling(x);
    test_concurrent_inference(x);
    test_training_with_other_threads(x);
    test_anomaly_threshold(x);
    test_inpaint(x);
    test_masked_training(x);
    test_trainer_step_masked(x);
    test_denoising(x);
    test_families(x);
    free(x);
    return check_summary(quick ? "roundtrip --quick" : "roundtrip");
}
