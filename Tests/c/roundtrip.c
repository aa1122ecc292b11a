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
 * Convolutional models: a 2-D autoencoder with max-unpooling links (which cannot decode) and a 1-D
 * one train, and save/load reproduces them bit for bit. A segmentation model learns to label the
 * pixels of squares (ae_model_train_labels, ae_trainer_step_labels, ae_model_segment) well above
 * the majority class, and keeps its label maps through save/load; the ignore label adds nothing.
 * batch_norm and dropout train deterministically, and inference with them is deterministic.
 *
 * Variational autoencoders: a small VAE trains with progress reports whose kl_divergence is positive
 * and finite (NaN for other models) and whose reconstruction_loss and KL sum to the loss (β = 1);
 * the mean of ae_model_encode_distribution is ae_model_encode's code bit for bit; ae_model_generate
 * is deterministic for a seed, differs across seeds and leaves the model's generator alone;
 * ae_model_interpolate's ends are decode(encode(a)) and decode(encode(b)) bit for bit; save/load
 * keeps generate identical. A convolutional VAE trains and generates; a VAE branch trains with a
 * segmentation model, which still segments and is not a VAE.
 *
 * Usage: roundtrip [--quick] [directory for temporary files]   (--quick: a smaller run for valgrind)
 *        roundtrip --volumetric   (only the 3-D network, which --quick skips: for a run under valgrind)
 */
#include <math.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "autoencoders.h"
#include "check.h"
#include "models.h"
#include "testdata.h"

#define D 100 /* input size of the classic model */
#define C 10  /* its code size */

static int quick = 0;
static const char *tmpdir = "/tmp";
static size_t samples = 256;

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

/* ---- fork: a child has none of its parent's helper threads ---- */

/* A model large enough that training and inference split their work across two threads. */
static const char *wide_spec = "{\"input_size\": 100, \"encoder\": [{\"type\": \"dense\", \"units\": 512,"
                               " \"activation\": \"relu\"}, {\"type\": \"dense\", \"units\": 512}],"
                               " \"decoder\": [{\"type\": \"dense\", \"units\": 100}]}";
static ae_model *fork_model;
static const float *fork_x;

/* In the child: train and reconstruct on two threads; 0 when both succeed with finite results.
 * alarm() turns a wait for the parent's helpers, which the child does not have, into a failure. */
static int train_in_child(void) {
    ae_train_options options;
    float *out = malloc(samples * D * sizeof(float));
    size_t i;
    alarm(20);
    if (!out || ae_set_num_threads(2) != AE_OK) return 10;
    ae_train_options_init(&options, sizeof options);
    options.epochs = 1;
    if (ae_model_train(fork_model, fork_x, samples, samples * D, &options, NULL) != AE_OK) return 11;
    if (ae_model_reconstruct(fork_model, fork_x, samples, samples * D, out, samples * D) != AE_OK) return 12;
    for (i = 0; i < samples * D; i++)
        if (!isfinite(out[i])) return 13;
    free(out);
    return 0;
}

static void test_fork_after_threads(const float *x) {
    ae_train_options options;
    pid_t pid;
    int status = -1;
    if (quick) return; /* under valgrind OpenBLAS stays on one thread, and fork is not the point */
    fork_model = create(wide_spec);
    fork_x = x;
    if (!fork_model) return;
    CHECK_OK(ae_set_num_threads(2));
    ae_train_options_init(&options, sizeof options);
    options.epochs = 1;
    CHECK_OK(ae_model_train(fork_model, x, samples, samples * D, &options, NULL)); /* the pool's helpers start */
    fflush(NULL);
    pid = fork();
    if (pid == 0) _exit(train_in_child());
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fprintf(stderr, "  child status %d\n", status);
    /* The parent's pool still works after the fork. */
    CHECK_OK(ae_model_train(fork_model, x, samples, samples * D, &options, NULL));
    CHECK_OK(ae_set_num_threads(1));
    ae_model_free(fork_model);
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

/* ---- convolutional models and segmentation ---- */

#define IMG 64 /* 1×8×8 images */
#define SIG 32 /* 1×32 signals */

/* n images of 1×8×8: a dark, slightly noisy background with one bright square (side 2 to 4) at a
 * random place, and labels: 1 inside the square, 0 outside. Caller frees both. */
static void make_squares(size_t n, uint64_t seed, float **images, int32_t **labels) {
    size_t i, r, c;
    float *x = (float *)malloc(n * IMG * sizeof(float));
    int32_t *y = (int32_t *)malloc(n * IMG * sizeof(int32_t));
    testdata_state = seed;
    for (i = 0; x && y && i < n; i++) {
        size_t side = 2 + (size_t)(testdata_uniform() * 3);
        size_t top = (size_t)(testdata_uniform() * (double)(8 - side + 1)), left = (size_t)(testdata_uniform() * (double)(8 - side + 1));
        for (r = 0; r < 8; r++) {
            for (c = 0; c < 8; c++) {
                int inside = r >= top && r < top + side && c >= left && c < left + side;
                x[i * IMG + r * 8 + c] = (float)(inside ? 0.75 + 0.2 * testdata_uniform() : 0.05 + 0.2 * testdata_uniform());
                y[i * IMG + r * 8 + c] = inside;
            }
        }
    }
    *images = x;
    *labels = y;
}

/* n signals of 1×32: a·sin(2π f t + φ) + b, with random amplitude, frequency, phase and offset. */
static float *make_signals(size_t n, uint64_t seed) {
    float *x = (float *)malloc(n * SIG * sizeof(float));
    size_t i, t;
    testdata_state = seed;
    for (i = 0; x && i < n; i++) {
        double a = 0.3 + 0.5 * testdata_uniform(), f = 1 + 2 * testdata_uniform(), phase = 6.2831853 * testdata_uniform();
        double b = 0.2 * (testdata_uniform() - 0.5);
        for (t = 0; t < SIG; t++) x[i * SIG + t] = (float)(a * sin(6.2831853 * f * (double)t / SIG + phase) + b);
    }
    return x;
}

/* save to a file (with the optimizer state) and to memory, load both: same parameters, spec and
 * epochs, and `same_outputs` (reconstructions or label maps) holds for each copy. */
typedef int (*outputs_equal_fn)(const ae_model *a, const ae_model *b, const float *x, size_t n);

static void check_save_load(const ae_model *model, const float *x, size_t n, outputs_equal_fn same_outputs, const char *tag) {
    ae_model *from_file = NULL, *from_memory = NULL;
    char path[512];
    void *bytes = NULL;
    size_t size = 0, e1 = 1, e2 = 2;
    const char *s1 = NULL, *s2 = NULL;
    snprintf(path, sizeof path, "%s/ae_roundtrip_%d_%s.safetensors", tmpdir, (int)getpid(), tag);
    CHECK_OK(ae_model_save(model, path, 1));
    CHECK_OK(ae_model_load(path, &from_file));
    unlink(path);
    CHECK_OK(ae_model_save_to_memory(model, 0, &bytes, &size));
    CHECK_OK(ae_model_load_from_memory(bytes, size, &from_memory));
    ae_free(bytes);
    if (!from_file || !from_memory) goto done;
    CHECK(same_parameters(model, from_file) && same_parameters(model, from_memory));
    CHECK(same_outputs(model, from_file, x, n));
    CHECK(same_outputs(model, from_memory, x, n));
    CHECK_OK(ae_model_spec(model, &s1));
    CHECK_OK(ae_model_spec(from_file, &s2));
    CHECK(s1 && s2 && strcmp(s1, s2) == 0);
    CHECK_OK(ae_model_epochs_completed(model, &e1));
    CHECK_OK(ae_model_epochs_completed(from_memory, &e2));
    CHECK(e1 == e2);
done:
    ae_model_free(from_file);
    ae_model_free(from_memory);
}

/* Reconstructions equal bit for bit. */
static int same_reconstructions(const ae_model *a, const ae_model *b, const float *x, size_t n) {
    size_t d = 0;
    float *ra, *rb;
    int same;
    if (ae_model_input_size(a, &d) != AE_OK) return 0;
    ra = (float *)malloc(n * d * sizeof(float));
    rb = (float *)malloc(n * d * sizeof(float));
    same = ra && rb && ae_model_reconstruct(a, x, n, n * d, ra, n * d) == AE_OK &&
           ae_model_reconstruct(b, x, n, n * d, rb, n * d) == AE_OK && memcmp(ra, rb, n * d * sizeof(float)) == 0;
    free(ra);
    free(rb);
    return same;
}

/* Label maps equal. */
static int same_segments(const ae_model *a, const ae_model *b, const float *x, size_t n) {
    size_t d = 0, p = 0;
    int32_t *la, *lb;
    int same;
    if (ae_model_input_size(a, &d) != AE_OK || ae_model_label_size(a, &p) != AE_OK) return 0;
    la = (int32_t *)malloc(n * p * sizeof(int32_t));
    lb = (int32_t *)malloc(n * p * sizeof(int32_t));
    same = la && lb && ae_model_segment(a, x, n, n * d, la, n * p) == AE_OK && ae_model_segment(b, x, n, n * d, lb, n * p) == AE_OK &&
           memcmp(la, lb, n * p * sizeof(int32_t)) == 0;
    free(la);
    free(lb);
    return same;
}

/* Reconstructing samples one at a time gives the rows of the batched reconstruction (nothing in
 * inference mixes samples: batch norm uses its running statistics, dropout is off). */
static float batch_independence_error(const ae_model *model, const float *x, size_t n, size_t d) {
    float *all = (float *)malloc(n * d * sizeof(float)), *one = (float *)malloc(d * sizeof(float)), worst = 0;
    size_t i, j;
    if (!all || !one || ae_model_reconstruct(model, x, n, n * d, all, n * d) != AE_OK) worst = INFINITY;
    for (i = 0; worst < INFINITY && i < n; i++) {
        if (ae_model_reconstruct(model, x + i * d, 1, d, one, d) != AE_OK) {
            worst = INFINITY;
            break;
        }
        for (j = 0; j < d; j++) worst = fmaxf(worst, fabsf(one[j] - all[i * d + j]));
    }
    free(all);
    free(one);
    return worst;
}

/* conv2d → max_pool2d → conv2d / conv2d → max_unpool2d (the pool's indices) → conv_transpose2d. */
static const char *const conv_spec =
    "{\"input_shape\": [1, 8, 8],"
    " \"encoder\": [{\"type\": \"conv2d\", \"filters\": 4, \"kernel\": 3, \"padding\": 1, \"activation\": \"relu\"},"
    "               {\"type\": \"max_pool2d\", \"kernel\": 2, \"name\": \"pool\"},"
    "               {\"type\": \"conv2d\", \"filters\": 2, \"kernel\": 3, \"padding\": 1, \"activation\": \"relu\"}],"
    " \"decoder\": [{\"type\": \"conv2d\", \"filters\": 4, \"kernel\": 3, \"padding\": 1, \"activation\": \"relu\"},"
    "               {\"type\": \"max_unpool2d\", \"indices_from\": \"pool\"},"
    "               {\"type\": \"conv_transpose2d\", \"filters\": 1, \"kernel\": 3, \"padding\": 1, \"activation\": \"sigmoid\"}],"
    " \"loss\": \"bce\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.01}, \"seed\": 5}";

static void test_conv_autoencoder(void) {
    size_t n = quick ? 32 : 256, i;
    float *x = NULL, *out = NULL, *code = NULL, *code2 = NULL;
    int32_t *unused = NULL;
    ae_model *model = create(conv_spec), *twin = create(conv_spec), *resumed = NULL;
    ae_train_options options;
    ae_train_report report;
    size_t dims[4] = {0, 0, 0, 0}, rank = 0, value = 0;
    int can_decode = -1;
    double before = 0, after = 0;
    recorder r;
    make_squares(n, 17, &x, &unused);
    out = (float *)malloc(n * IMG * sizeof(float));
    code = (float *)malloc(n * 32 * sizeof(float));
    code2 = (float *)malloc(n * 32 * sizeof(float));
    if (!model || !twin || !x || !out || !code || !code2) goto done;

    /* Shapes: input [1, 8, 8], code [2, 4, 4], PyTorch's weight layouts. */
    CHECK_OK(ae_model_input_shape(model, dims, 4, &rank));
    CHECK(rank == 3 && dims[0] == 1 && dims[1] == 8 && dims[2] == 8);
    CHECK_OK(ae_model_input_size(model, &value));
    CHECK(value == IMG);
    CHECK_OK(ae_model_code_size(model, &value));
    CHECK(value == 2 * 4 * 4);
    CHECK_OK(ae_model_class_count(model, &value));
    CHECK(value == 0);
    CHECK_OK(ae_model_label_size(model, &value));
    CHECK(value == IMG);
    CHECK_OK(ae_model_parameter_count(model, &value));
    CHECK(value == (4 * 9 + 4) + (2 * 4 * 9 + 2) + (4 * 2 * 9 + 4) + (4 * 1 * 9 + 1));
    {
        const char *name = NULL;
        size_t shape[4] = {0, 0, 0, 0};
        CHECK_OK(ae_model_tensor_info(model, 0, &name, shape, 4, &rank, &value));
        CHECK(strcmp(name, "encoder.0.weight") == 0 && rank == 4 && shape[0] == 4 && shape[1] == 1 && shape[2] == 3 && shape[3] == 3);
        CHECK_OK(ae_model_tensor_info(model, 6, &name, shape, 4, &rank, &value)); /* conv_transpose: [in, out, kh, kw] */
        CHECK(strcmp(name, "decoder.2.weight") == 0 && rank == 4 && shape[0] == 4 && shape[1] == 1);
    }
    /* The decoder reads the pooling indices: no decoding from codes alone. */
    CHECK_OK(ae_model_can_decode(model, &can_decode));
    CHECK(can_decode == 0);
    CHECK_OK(ae_model_encode(model, x, n, n * IMG, code, n * 32));
    for (i = 0; i < n * IMG; i++) out[i] = -1.0f;
    check_reset_last_error();
    CHECK(ae_model_decode(model, code, n, n * 32, out, n * IMG) == AE_ERR_UNSUPPORTED &&
          strstr(ae_last_error(), "ae_model_decode") != NULL);
    CHECK(out[0] == -1.0f && out[n * IMG - 1] == -1.0f);

    /* It learns: a few epochs with progress reports, the loss goes down. */
    CHECK_OK(ae_model_evaluate(model, x, n, n * IMG, &before));
    ae_train_options_init(&options, sizeof options);
    options.epochs = quick ? 2 : 5;
    options.batch_size = 16;
    init_recorder(&r);
    options.progress = record_progress;
    options.user_data = &r;
    report.struct_size = sizeof report;
    CHECK_OK(ae_model_train(model, x, n, n * IMG, &options, &report));
    CHECK(r.epoch_reports == options.epochs && r.losses_finite && report.epochs_run == options.epochs);
    CHECK_OK(ae_model_evaluate(model, x, n, n * IMG, &after));
    CHECK(isfinite(after) && after < before);
    if (!(after < before)) fprintf(stderr, "  conv autoencoder: loss %g -> %g\n", before, after);
    CHECK_OK(ae_model_reconstruct(model, x, n, n * IMG, out, n * IMG));
    {
        int in_range = 1;
        for (i = 0; i < n * IMG; i++) in_range &= out[i] >= 0 && out[i] <= 1;
        CHECK(in_range); /* sigmoid output */
    }
    CHECK(batch_independence_error(model, x, quick ? 4 : 16, IMG) <= 1e-5f);

    /* The same spec trains to the same bits; save/load reproduces reconstructions and codes bit for bit. */
    options.progress = NULL;
    CHECK_OK(ae_model_train(twin, x, n, n * IMG, &options, NULL));
    CHECK(same_parameters(model, twin));
    check_save_load(model, x, n, same_reconstructions, "conv");
    {
        void *bytes = NULL;
        size_t size = 0;
        CHECK_OK(ae_model_save_to_memory(model, 1, &bytes, &size));
        CHECK_OK(ae_model_load_from_memory(bytes, size, &resumed));
        ae_free(bytes);
    }
    if (resumed) {
        CHECK_OK(ae_model_encode(model, x, n, n * IMG, code, n * 32));
        CHECK_OK(ae_model_encode(resumed, x, n, n * IMG, code2, n * 32));
        CHECK(memcmp(code, code2, n * 32 * sizeof(float)) == 0);
        CHECK_OK(ae_model_can_decode(resumed, &can_decode));
        CHECK(can_decode == 0);
        /* Resuming from the copy (optimizer state included) equals training on. */
        options.epochs = 1;
        CHECK_OK(ae_model_train(model, x, n, n * IMG, &options, NULL));
        CHECK_OK(ae_model_train(resumed, x, n, n * IMG, &options, NULL));
        CHECK(same_parameters(model, resumed));
    }
done:
    free(x);
    free(unused);
    free(out);
    free(code);
    free(code2);
    ae_model_free(model);
    ae_model_free(twin);
    ae_model_free(resumed);
}

/* A 1-D convolutional autoencoder on [1, 32] signals: strided conv1d down, conv_transpose1d up. */
static const char *const conv1d_spec =
    "{\"input_shape\": [1, 32],"
    " \"encoder\": [{\"type\": \"conv1d\", \"filters\": 4, \"kernel\": 5, \"stride\": 2, \"padding\": 2, \"activation\": \"tanh\"},"
    "               {\"type\": \"conv1d\", \"filters\": 2, \"kernel\": 3, \"padding\": 1, \"activation\": \"tanh\"}],"
    " \"decoder\": [{\"type\": \"conv_transpose1d\", \"filters\": 4, \"kernel\": 5, \"stride\": 2, \"padding\": 2, \"output_padding\": 1,"
    "                \"activation\": \"tanh\"},"
    "               {\"type\": \"conv1d\", \"filters\": 1, \"kernel\": 1}],"
    " \"loss\": \"mse\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.01}, \"seed\": 3}";

static void test_conv1d_autoencoder(void) {
    size_t n = quick ? 32 : 256, i, dims[2] = {0, 0}, rank = 0, code_size = 0;
    float *x = make_signals(n, 23), *out = (float *)malloc(n * SIG * sizeof(float)), *decoded = (float *)malloc(n * SIG * sizeof(float));
    float *code = (float *)malloc(n * 32 * sizeof(float)), worst = 0;
    ae_model *model = create(conv1d_spec);
    ae_train_options options;
    double before = 0, after = 0;
    int can_decode = -1;
    if (!model || !x || !out || !decoded || !code) goto done;
    CHECK_OK(ae_model_input_shape(model, dims, 2, &rank));
    CHECK(rank == 2 && dims[0] == 1 && dims[1] == SIG);
    CHECK_OK(ae_model_code_size(model, &code_size));
    CHECK(code_size == 2 * 16);
    CHECK_OK(ae_model_evaluate(model, x, n, n * SIG, &before));
    ae_train_options_init(&options, sizeof options);
    options.epochs = quick ? 2 : 8;
    options.batch_size = 16;
    CHECK_OK(ae_model_train(model, x, n, n * SIG, &options, NULL));
    CHECK_OK(ae_model_evaluate(model, x, n, n * SIG, &after));
    CHECK(isfinite(after) && after < before);
    if (!(after < before)) fprintf(stderr, "  conv1d autoencoder: loss %g -> %g\n", before, after);
    /* No links from the encoder: decode works, and decode(encode(x)) is reconstruct(x). */
    CHECK_OK(ae_model_can_decode(model, &can_decode));
    CHECK(can_decode == 1);
    if (code_size == 32) {
        CHECK_OK(ae_model_encode(model, x, n, n * SIG, code, n * 32));
        CHECK_OK(ae_model_decode(model, code, n, n * 32, decoded, n * SIG));
        CHECK_OK(ae_model_reconstruct(model, x, n, n * SIG, out, n * SIG));
        for (i = 0; i < n * SIG; i++) worst = fmaxf(worst, fabsf(out[i] - decoded[i]));
        CHECK(worst <= 1e-5f);
    }
    CHECK(batch_independence_error(model, x, 8, SIG) <= 1e-5f);
    check_save_load(model, x, n, same_reconstructions, "conv1d");
done:
    free(x);
    free(out);
    free(decoded);
    free(code);
    ae_model_free(model);
}

/* Segmentation: 2 classes (square or background) at every pixel of 1×8×8 images. */
static const char *const seg_spec =
    "{\"input_shape\": [1, 8, 8],"
    " \"encoder\": [{\"type\": \"conv2d\", \"filters\": 8, \"kernel\": 3, \"padding\": 1, \"activation\": \"relu\"}],"
    " \"decoder\": [{\"type\": \"conv2d\", \"filters\": 2, \"kernel\": 3, \"padding\": 1}],"
    " \"loss\": \"cross_entropy\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.02}, \"seed\": 9}";

/* The fraction of positions where segment(x) equals the labels, or -1 on failure. */
static double segment_accuracy(const ae_model *model, const float *x, const int32_t *labels, size_t n, int *in_range) {
    int32_t *got = (int32_t *)malloc(n * IMG * sizeof(int32_t));
    size_t i, right = 0;
    *in_range = 1;
    if (!got || ae_model_segment(model, x, n, n * IMG, got, n * IMG) != AE_OK) {
        free(got);
        return -1;
    }
    for (i = 0; i < n * IMG; i++) {
        right += got[i] == labels[i];
        *in_range &= got[i] == 0 || got[i] == 1;
    }
    free(got);
    return (double)right / (double)(n * IMG);
}

/* The lecture's brain-tumour network (examples/specs/brain_unet3d_vae.json: a 3-D U-Net with group
 * norm, residual adds, a Dice + cross-entropy head and a variational branch) trains two steps on
 * four 32^3 volumes from C, and segments. Skipped with --quick (valgrind). */
static void test_volumetric_spec(void) {
    enum { VOXELS = 32 * 32 * 32, N = 4 };
    FILE *file = fopen("examples/specs/brain_unet3d_vae.json", "rb");
    char *spec = NULL;
    long length = 0;
    float *x = NULL;
    int32_t *labels = NULL, *segmented = NULL;
    ae_model *model = NULL;
    ae_train_options options;
    ae_train_report report;
    size_t i, value = 0, classes = 0;
    int valid = 1;
    CHECK(file != NULL);
    if (!file) return;
    if (fseek(file, 0, SEEK_END) == 0) length = ftell(file);
    rewind(file);
    spec = (char *)calloc((size_t)(length > 0 ? length : 0) + 1, 1);
    if (spec && length > 0 && fread(spec, 1, (size_t)length, file) != (size_t)length) length = 0;
    fclose(file);
    x = (float *)malloc(N * VOXELS * sizeof(float));
    labels = (int32_t *)malloc(N * VOXELS * sizeof(int32_t));
    segmented = (int32_t *)malloc(VOXELS * sizeof(int32_t));
    CHECK(spec && length > 0 && x && labels && segmented);
    if (!spec || length <= 0 || !x || !labels || !segmented) goto done;
    /* A bright cube in noise, labelled 1. */
    for (i = 0; i < N * VOXELS; i++) {
        size_t v = i % VOXELS, d = v / 1024, h = v / 32 % 32, w = v % 32, s = i / VOXELS;
        int inside = d >= 8 + s && d < 16 + s && h >= 10 && h < 20 && w >= 12 && w < 22;
        x[i] = (inside ? 0.8f : 0.3f) + 0.05f * (float)((i * 2654435761u) % 1000) / 1000.0f;
        labels[i] = inside;
    }
    model = create(spec);
    if (!model) goto done;
    CHECK_OK(ae_model_label_size(model, &value));
    CHECK(value == VOXELS);
    CHECK_OK(ae_model_class_count(model, &classes));
    CHECK(classes == 2);
    ae_train_options_init(&options, sizeof options);
    options.epochs = 1;
    options.batch_size = 2;
    report.struct_size = sizeof report;
    CHECK_OK(ae_model_train_labels(model, x, N, N * VOXELS, labels, N * VOXELS, &options, &report));
    CHECK(report.epochs_run == 1 && report.final_train_loss == report.final_train_loss && report.final_train_loss > 0);
    CHECK_OK(ae_model_segment(model, x, 1, VOXELS, segmented, VOXELS));
    for (i = 0; i < VOXELS; i++) valid &= segmented[i] == 0 || segmented[i] == 1;
    CHECK(valid);
    labels[5] = 2; /* outside the classes: refused, naming the position */
    CHECK(ae_model_train_labels(model, x, N, N * VOXELS, labels, N * VOXELS, &options, NULL) == AE_ERR_INVALID_ARGUMENT);
done:
    ae_model_free(model);
    free(spec);
    free(x);
    free(labels);
    free(segmented);
}

static void test_segmentation(void) {
    size_t n = quick ? 32 : 256, i, value = 0, foreground = 0, steps = 0;
    float *x = NULL;
    int32_t *labels = NULL;
    ae_model *model = create(seg_spec), *stepped = create(seg_spec), *twin = create(seg_spec);
    ae_trainer *trainer = NULL;
    ae_train_options options;
    ae_train_report report;
    double accuracy, chance, first = 0, last = 0, loss = 0;
    int in_range = 0, can_decode = -1;
    recorder r;
    make_squares(n, 29, &x, &labels);
    if (!model || !stepped || !twin || !x || !labels) goto done;
    for (i = 0; i < n * IMG; i++) foreground += labels[i] == 1;
    chance = (double)(foreground > n * IMG / 2 ? foreground : n * IMG - foreground) / (double)(n * IMG); /* the majority class */

    CHECK_OK(ae_model_class_count(model, &value));
    CHECK(value == 2);
    CHECK_OK(ae_model_label_size(model, &value));
    CHECK(value == IMG);
    CHECK_OK(ae_model_input_size(model, &value));
    CHECK(value == IMG);
    CHECK_OK(ae_model_can_decode(model, &can_decode)); /* (reported: should be 0 for a segmentation model) */

    /* ae_model_train_labels, with a validation split and progress reports. */
    ae_train_options_init(&options, sizeof options);
    options.epochs = quick ? 4 : 6;
    options.batch_size = 16;
    options.validation_split = 0.25f;
    init_recorder(&r);
    options.progress = record_progress;
    options.user_data = &r;
    report.struct_size = sizeof report;
    CHECK_OK(ae_model_train_labels(model, x, n, n * IMG, labels, n * IMG, &options, &report));
    CHECK(report.epochs_run == options.epochs && r.epoch_reports == options.epochs && r.validation_finite == (int)options.epochs);
    CHECK(isfinite(report.final_train_loss) && isfinite(report.final_validation_loss) && report.final_train_loss < 0.6931);
    CHECK_OK(ae_model_epochs_completed(model, &value));
    CHECK(value == options.epochs);
    accuracy = segment_accuracy(model, x, labels, n, &in_range);
    CHECK(in_range);
    CHECK(accuracy > chance + 0.5 * (1 - chance)); /* well above the majority class */
    if (!(accuracy > chance + 0.5 * (1 - chance))) fprintf(stderr, "  segmentation: accuracy %.4f, chance %.4f\n", accuracy, chance);
    if (getenv("AE_TEST_VERBOSE")) printf("  segmentation: accuracy %.4f, chance %.4f\n", accuracy, chance);

    /* Same spec, same labels: the same bits; save/load keeps the label maps. */
    options.progress = NULL;
    CHECK_OK(ae_model_train_labels(twin, x, n, n * IMG, labels, n * IMG, &options, NULL));
    CHECK(same_parameters(model, twin));
    check_save_load(model, x, n, same_segments, "segmentation");

    /* ae_trainer_step_labels: the loss goes down over steps. */
    CHECK_OK(ae_trainer_create(stepped, 16, &trainer));
    if (!trainer) goto done;
    for (i = 0; i < (quick ? 24u : 64u); i++) {
        size_t batch = i % (n / 16);
        CHECK_OK(ae_trainer_step_labels(trainer, x + batch * 16 * IMG, labels + batch * 16 * IMG, 16, 16 * IMG, 16 * IMG, &loss));
        if (i == 0) first = loss;
        last = loss;
    }
    CHECK(isfinite(first) && first > 0 && last < first);
    CHECK_OK(ae_trainer_step_labels(trainer, x, labels, 5, 5 * IMG, 5 * IMG, NULL)); /* a partial batch */
    CHECK_OK(ae_trainer_step_count(trainer, &steps));
    CHECK(steps == (quick ? 25u : 65u));
    accuracy = segment_accuracy(stepped, x, labels, n, &in_range);
    CHECK(in_range && accuracy > chance);
done:
    ae_trainer_free(trainer);
    free(x);
    free(labels);
    ae_model_free(model);
    ae_model_free(stepped);
    ae_model_free(twin);
}

/* One epoch of ae_model_train_labels without shuffling equals ae_trainer_step_labels over the same
 * batches; a sample whose labels are all the ignore label adds nothing to a step. */
static void test_segmentation_steps(void) {
    static const char *const sgd_spec =
        "{\"input_shape\": [1, 8, 8],"
        " \"encoder\": [{\"type\": \"conv2d\", \"filters\": 4, \"kernel\": 3, \"padding\": 1, \"activation\": \"relu\"}],"
        " \"decoder\": [{\"type\": \"conv2d\", \"filters\": 2, \"kernel\": 1}],"
        " \"loss\": {\"type\": \"cross_entropy\", \"ignore_index\": 255}, \"optimizer\": {\"type\": \"sgd\", \"lr\": 0.1}, \"seed\": 4}";
    size_t n = 48, i, count = 0;
    float *x = NULL, *pa = NULL, *pb = NULL, worst = 0;
    int32_t *labels = NULL, *ignored = NULL;
    ae_model *a = create(seg_spec), *b = create(seg_spec), *c = create(sgd_spec), *d = create(sgd_spec), *e = create(seg_spec);
    ae_trainer *tb = NULL, *tc = NULL, *td = NULL, *te = NULL;
    ae_train_options options;
    ae_train_report report;
    double loss_b = 0, sum_b = 0, loss_c = 0, loss_d = 0;
    make_squares(n, 31, &x, &labels);
    ignored = (int32_t *)malloc(n * IMG * sizeof(int32_t));
    if (!a || !b || !c || !d || !e || !x || !labels || !ignored) goto done;

    ae_train_options_init(&options, sizeof options);
    options.epochs = 1;
    options.batch_size = 16;
    options.shuffle = 0;
    report.struct_size = sizeof report;
    CHECK_OK(ae_model_train_labels(a, x, n, n * IMG, labels, n * IMG, &options, &report));
    CHECK_OK(ae_trainer_create(b, 16, &tb));
    for (i = 0; tb && i < n / 16; i++) {
        CHECK_OK(ae_trainer_step_labels(tb, x + i * 16 * IMG, labels + i * 16 * IMG, 16, 16 * IMG, 16 * IMG, &loss_b));
        sum_b += loss_b;
    }
    CHECK(same_parameters(a, b));
    CHECK(fabs(report.final_train_loss - sum_b / (double)(n / 16)) <= 1e-6 * sum_b);

    /* Samples 0 and 1, and samples 0, 1 and 2 with every label of sample 2 ignored: one SGD step each
     * gives the same loss and the same weights (up to rounding in the sums). */
    memcpy(ignored, labels, 3 * IMG * sizeof(int32_t));
    for (i = 2 * IMG; i < 3 * IMG; i++) ignored[i] = 255;
    CHECK_OK(ae_trainer_create(c, 4, &tc));
    CHECK_OK(ae_trainer_create(d, 4, &td));
    if (!tc || !td) goto done;
    CHECK_OK(ae_trainer_step_labels(tc, x, labels, 2, 2 * IMG, 2 * IMG, &loss_c));
    CHECK_OK(ae_trainer_step_labels(td, x, ignored, 3, 3 * IMG, 3 * IMG, &loss_d));
    CHECK(fabs(loss_c - loss_d) <= 1e-6 * loss_c);
    pa = parameters_copy(c, &count);
    pb = parameters_copy(d, &count);
    for (i = 0; pa && pb && i < count; i++) worst = fmaxf(worst, fabsf(pa[i] - pb[i]));
    CHECK(pa && pb && worst <= 1e-6f);
    {
        ae_model *fresh = create(sgd_spec);
        CHECK(fresh && !same_parameters(c, fresh)); /* the step did change the weights */
        ae_model_free(fresh);
    }

    /* A first Adam step on labels that are all ignored has a zero gradient: the weights stay. */
    for (i = 0; i < 16 * IMG; i++) ignored[i] = -100;
    CHECK_OK(ae_trainer_create(e, 16, &te));
    if (te) {
        ae_model *fresh = create(seg_spec);
        CHECK_OK(ae_trainer_step_labels(te, x, ignored, 16, 16 * IMG, 16 * IMG, NULL));
        CHECK(fresh && same_parameters(e, fresh));
        ae_model_free(fresh);
    }
done:
    free(x);
    free(labels);
    free(ignored);
    free(pa);
    free(pb);
    ae_trainer_free(tb);
    ae_trainer_free(tc);
    ae_trainer_free(td);
    ae_trainer_free(te);
    ae_model_free(a);
    ae_model_free(b);
    ae_model_free(c);
    ae_model_free(d);
    ae_model_free(e);
}

/* batch_norm and dropout: the same seed trains to the same weights and running statistics,
 * dropout acts in training only, and inference is deterministic and per sample. */
static const char *const bn_conv_spec =
    "{\"input_shape\": [1, 8, 8],"
    " \"encoder\": [{\"type\": \"conv2d\", \"filters\": 4, \"kernel\": 3, \"padding\": 1}, {\"type\": \"batch_norm\"},"
    "               {\"type\": \"relu\"}, {\"type\": \"dropout\", \"rate\": 0.25}, {\"type\": \"max_pool2d\", \"kernel\": 2}],"
    " \"decoder\": [{\"type\": \"upsample_nearest2d\", \"scale\": 2},"
    "               {\"type\": \"conv2d\", \"filters\": 1, \"kernel\": 3, \"padding\": 1, \"activation\": \"sigmoid\"}],"
    " \"loss\": \"bce\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.01}, \"seed\": 21}";
static const char *const bn_conv_no_dropout_spec =
    "{\"input_shape\": [1, 8, 8],"
    " \"encoder\": [{\"type\": \"conv2d\", \"filters\": 4, \"kernel\": 3, \"padding\": 1}, {\"type\": \"batch_norm\"},"
    "               {\"type\": \"relu\"}, {\"type\": \"max_pool2d\", \"kernel\": 2}],"
    " \"decoder\": [{\"type\": \"upsample_nearest2d\", \"scale\": 2},"
    "               {\"type\": \"conv2d\", \"filters\": 1, \"kernel\": 3, \"padding\": 1, \"activation\": \"sigmoid\"}],"
    " \"loss\": \"bce\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.01}, \"seed\": 21}";
static const char *const bn_dense_spec =
    "{\"input_size\": 100, \"encoder\": [{\"type\": \"dense\", \"units\": 32}, {\"type\": \"batch_norm\", \"momentum\": 0.2},"
    " {\"type\": \"relu\"}, {\"type\": \"dropout\", \"rate\": 0.2}],"
    " \"decoder\": [{\"type\": \"dense\", \"units\": 100, \"activation\": \"sigmoid\"}], \"seed\": 4}";

static void check_bn_dropout(const char *spec, const char *no_dropout_spec, const float *x, size_t n, size_t d) {
    ae_model *a = create(spec), *b = create(spec), *c = no_dropout_spec ? create(no_dropout_spec) : NULL, *e = create(spec);
    ae_trainer *trainer = NULL;
    ae_train_options options;
    float *r1 = (float *)malloc(n * d * sizeof(float)), *r2 = (float *)malloc(n * d * sizeof(float)), stats[64];
    double e1 = 1, e2 = 2, clean = 0, step = 0;
    size_t i;
    int moved;
    if (!a || !b || !e || !r1 || !r2) goto done;
    ae_train_options_init(&options, sizeof options);
    options.epochs = quick ? 1 : 3;
    options.batch_size = 16;
    CHECK_OK(ae_model_train(a, x, n, n * d, &options, NULL));
    CHECK_OK(ae_model_train(b, x, n, n * d, &options, NULL));
    CHECK(same_parameters(a, b)); /* weights, batch-norm affine and running statistics, bit for bit */
    /* The running statistics moved away from their start (mean 0, variance 1). */
    CHECK_OK(ae_model_get_parameter(a, "encoder.1.running_mean", stats, d == IMG ? 4 : 32));
    moved = 0;
    for (i = 0; i < (d == IMG ? 4u : 32u); i++) moved |= stats[i] != 0.0f;
    CHECK(moved);
    CHECK_OK(ae_model_get_parameter(a, "encoder.1.running_var", stats, d == IMG ? 4 : 32));
    moved = 0;
    for (i = 0; i < (d == IMG ? 4u : 32u); i++) moved |= stats[i] != 1.0f;
    CHECK(moved);
    /* Dropout acts in training: without it, the same seed ends elsewhere. */
    if (c) {
        CHECK_OK(ae_model_train(c, x, n, n * d, &options, NULL));
        CHECK(!same_parameters(a, c));
    }
    /* Inference: deterministic, per sample (running statistics, no dropout), equal after save/load. */
    CHECK_OK(ae_model_reconstruct(a, x, n, n * d, r1, n * d));
    CHECK_OK(ae_model_reconstruct(a, x, n, n * d, r2, n * d));
    CHECK(memcmp(r1, r2, n * d * sizeof(float)) == 0);
    CHECK_OK(ae_model_evaluate(a, x, n, n * d, &e1));
    CHECK_OK(ae_model_evaluate(a, x, n, n * d, &e2));
    CHECK(e1 == e2 && isfinite(e1));
    CHECK(batch_independence_error(a, x, 8, d) <= 1e-5f);
    check_save_load(a, x, n, same_reconstructions, d == IMG ? "bn_conv" : "bn_dense");
    /* A training step sees dropout and batch statistics: its loss is not the inference objective. */
    CHECK_OK(ae_model_evaluate(e, x, 16, 16 * d, &clean));
    CHECK_OK(ae_trainer_create(e, 16, &trainer));
    if (trainer) CHECK_OK(ae_trainer_step(trainer, x, 16, 16 * d, &step));
    CHECK(isfinite(step) && step != clean);
done:
    ae_trainer_free(trainer);
    free(r1);
    free(r2);
    ae_model_free(a);
    ae_model_free(b);
    ae_model_free(c);
    ae_model_free(e);
}

static void test_batch_norm_dropout(const float *x) {
    size_t n = quick ? 32 : 128;
    float *images = NULL;
    int32_t *unused = NULL;
    make_squares(n, 37, &images, &unused);
    if (images) check_bn_dropout(bn_conv_spec, bn_conv_no_dropout_spec, images, n, IMG);
    check_bn_dropout(bn_dense_spec, NULL, x, quick ? 32 : samples, D);
    free(images);
    free(unused);
}

/* ---- variational autoencoders ---- */

/* 100 -> 32 -> variational 4 (mean and log-variance heads) -> 32 -> 100, on the classic data. */
#define VZ 4 /* latent size */
static const char *const vae_spec =
    "{\"input_size\": 100,"
    " \"encoder\": [{\"type\": \"dense\", \"units\": 32, \"activation\": \"relu\"},"
    "               {\"type\": \"variational\", \"units\": 4, \"beta\": 1, \"kl_warmup_epochs\": 0}],"
    " \"decoder\": [{\"type\": \"dense\", \"units\": 32, \"activation\": \"relu\"},"
    "               {\"type\": \"dense\", \"units\": 100, \"activation\": \"sigmoid\"}],"
    " \"loss\": \"bce\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.005}, \"seed\": 11}";

/* A convolutional VAE on 1×8×8 images: conv2d → flatten → variational / dense → reshape →
 * conv_transpose2d. */
static const char *const conv_vae_spec =
    "{\"input_shape\": [1, 8, 8],"
    " \"encoder\": [{\"type\": \"conv2d\", \"filters\": 4, \"kernel\": 3, \"stride\": 2, \"padding\": 1, \"activation\": \"relu\"},"
    "               {\"type\": \"flatten\"},"
    "               {\"type\": \"variational\", \"units\": 3}],"
    " \"decoder\": [{\"type\": \"dense\", \"units\": 64, \"activation\": \"relu\"},"
    "               {\"type\": \"reshape\", \"shape\": [4, 4, 4]},"
    "               {\"type\": \"conv_transpose2d\", \"filters\": 1, \"kernel\": 2, \"stride\": 2, \"activation\": \"sigmoid\"}],"
    " \"loss\": \"bce\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.01}, \"seed\": 12}";

/* A segmentation model whose encoder a VAE branch regularizes (trained alongside, skipped at
 * inference): the model is not a VAE. */
static const char *const seg_vae_branch_spec =
    "{\"input_shape\": [1, 8, 8],"
    " \"encoder\": [{\"type\": \"conv2d\", \"name\": \"enc\", \"filters\": 8, \"kernel\": 3, \"padding\": 1, \"activation\": \"relu\"}],"
    " \"decoder\": [{\"type\": \"conv2d\", \"filters\": 2, \"kernel\": 3, \"padding\": 1}],"
    " \"loss\": \"cross_entropy\","
    " \"branches\": [{\"name\": \"vae\", \"weight\": 0.01, \"loss\": \"mse\","
    "                 \"layers\": [{\"type\": \"flatten\", \"inputs\": [\"enc\"]}, {\"type\": \"variational\", \"units\": 4},"
    "                            {\"type\": \"dense\", \"units\": 64}, {\"type\": \"reshape\", \"shape\": [1, 8, 8]}]}],"
    " \"optimizer\": {\"type\": \"adam\", \"lr\": 0.02}, \"seed\": 9}";

/* What a progress callback sees of the ELBO's terms. */
typedef struct {
    size_t reports, epoch_reports;
    double first_loss, last_loss, last_kl, last_reconstruction;
    int kl_positive, kl_nan, reconstruction_finite, sum_matches, struct_size_ok;
} elbo_recorder;

static int record_elbo(const ae_progress *p, void *user_data) {
    elbo_recorder *r = (elbo_recorder *)user_data;
    if (p->struct_size != sizeof(ae_progress)) r->struct_size_ok = 0;
    if (!(isfinite(p->kl_divergence) && p->kl_divergence > 0)) r->kl_positive = 0;
    if (!isnan(p->kl_divergence)) r->kl_nan = 0;
    if (!(isfinite(p->reconstruction_loss) && p->reconstruction_loss > 0)) r->reconstruction_finite = 0;
    /* β = 1, no warm-up: the objective is the negative ELBO, reconstruction + KL (NaN adds nothing). */
    {
        double kl = isnan(p->kl_divergence) ? 0 : p->kl_divergence;
        if (fabs(p->train_loss - (p->reconstruction_loss + kl)) > 1e-6 * fabs(p->train_loss)) r->sum_matches = 0;
    }
    if (p->is_epoch_end) {
        if (r->epoch_reports == 0) r->first_loss = p->train_loss;
        r->last_loss = p->train_loss;
        r->last_kl = p->kl_divergence;
        r->last_reconstruction = p->reconstruction_loss;
        r->epoch_reports++;
    }
    r->reports++;
    return 0;
}

static void init_elbo_recorder(elbo_recorder *r) {
    memset(r, 0, sizeof *r);
    r->kl_positive = r->kl_nan = r->reconstruction_finite = r->sum_matches = r->struct_size_ok = 1;
}

/* The rows of ae_model_generate(model, n, seed), in `out` (n * d floats). */
static int generated(const ae_model *model, size_t n, uint64_t seed, size_t d, float *out) {
    return ae_model_generate(model, n, seed, out, n * d) == AE_OK;
}

/* interpolate(a, b, steps) against its definition, output[s] = decode(code(a) + t (code(b) - code(a))),
 * t = s / (steps - 1), the last point code(b) itself: the codes of a and b each from an ae_model_encode
 * of one row (as the library encodes them), the points of the line computed here, decoded in one batch
 * of `steps`. The rows must equal those decodings bit for bit (the same call on the same shapes), so
 * the first row is decode(encode(a)) and the last decode(encode(b)) bit for bit. Decoding the two
 * codes as a batch of two gives the ends again up to rounding only (OpenBLAS may round a row
 * differently at another position or with another number of rows). Returns the number of
 * mismatches, or -1 when a call fails. */
static int interpolation_mismatches(const ae_model *model, const float *a, const float *b, size_t steps, size_t d, size_t c) {
    float *codes = (float *)malloc(2 * c * sizeof(float));
    float *ends = (float *)malloc(2 * d * sizeof(float)), *path = (float *)malloc(steps * d * sizeof(float));
    float *line = (float *)malloc(steps * c * sizeof(float)), *decoded = (float *)malloc(steps * d * sizeof(float));
    int mismatches = -1;
    size_t s, j;
    if (!codes || !ends || !path || !line || !decoded) goto done;
    if (ae_model_interpolate(model, a, b, steps, path, steps * d) != AE_OK) goto done;
    if (ae_model_encode(model, a, 1, d, codes, c) != AE_OK) goto done;
    if (ae_model_encode(model, b, 1, d, codes + c, c) != AE_OK) goto done;
    if (ae_model_decode(model, codes, 2, 2 * c, ends, 2 * d) != AE_OK) goto done;
    for (s = 0; s < steps; s++) {
        float t = (float)s / (float)(steps - 1);
        for (j = 0; j < c; j++) line[s * c + j] = s == steps - 1 ? codes[c + j] : codes[j] + t * (codes[c + j] - codes[j]);
    }
    if (ae_model_decode(model, line, steps, steps * c, decoded, steps * d) != AE_OK) goto done;
    mismatches = (memcmp(line, codes, c * sizeof(float)) != 0) + (memcmp(line + (steps - 1) * c, codes + c, c * sizeof(float)) != 0);
    for (s = 0; s < steps; s++) mismatches += memcmp(path + s * d, decoded + s * d, d * sizeof(float)) != 0;
    for (j = 0; j < d; j++) {
        mismatches += fabsf(path[j] - ends[j]) > 1e-5f * (1 + fabsf(ends[j]));
        mismatches += fabsf(path[(steps - 1) * d + j] - ends[d + j]) > 1e-5f * (1 + fabsf(ends[d + j]));
    }
done:
    free(codes);
    free(ends);
    free(path);
    free(line);
    free(decoded);
    return mismatches;
}

static void test_vae(const float *x) {
    size_t n = quick ? 64 : samples, i, value = 0, k = quick ? 4 : 16;
    ae_model *model = create(vae_spec), *classic = create(classic_spec), *twin = NULL, *other = NULL, *loaded = NULL;
    ae_train_options options;
    ae_train_report report;
    elbo_recorder r;
    float *mean = NULL, *logvar = NULL, *code = NULL, *g1 = NULL, *g2 = NULL, *g3 = NULL;
    int can_decode = -1, finite = 1, in_range = 1;
    void *bytes = NULL;
    size_t size = 0;
    char path[512];
    mean = (float *)malloc(n * VZ * sizeof(float));
    logvar = (float *)malloc(n * VZ * sizeof(float));
    code = (float *)malloc(n * VZ * sizeof(float));
    g1 = (float *)malloc(k * D * sizeof(float));
    g2 = (float *)malloc(k * D * sizeof(float));
    g3 = (float *)malloc(k * D * sizeof(float));
    if (!model || !classic || !mean || !logvar || !code || !g1 || !g2 || !g3) goto done;

    /* A VAE decodes; its code is the latent mean, with mu and logvar heads in the parameters. */
    CHECK_OK(ae_model_code_size(model, &value));
    CHECK(value == VZ);
    CHECK_OK(ae_model_can_decode(model, &can_decode));
    CHECK(can_decode == 1);
    {
        float w[VZ * 32];
        CHECK_OK(ae_model_get_parameter(model, "encoder.1.mu.weight", w, VZ * 32));
        CHECK_OK(ae_model_get_parameter(model, "encoder.1.logvar.weight", w, VZ * 32));
        CHECK_OK(ae_model_get_parameter(model, "encoder.1.mu.bias", w, VZ));
        CHECK_OK(ae_model_get_parameter(model, "encoder.1.logvar.bias", w, VZ));
    }
    /* Copies made now (before training) to check determinism and the generator below. */
    CHECK_OK(ae_model_save_to_memory(model, 1, &bytes, &size));
    CHECK_OK(ae_model_load_from_memory(bytes, size, &twin));
    CHECK_OK(ae_model_load_from_memory(bytes, size, &other));
    ae_free(bytes);
    bytes = NULL;
    if (!twin || !other) goto done;

    /* Training: every report has a positive, finite KL and a reconstruction term summing to the loss. */
    ae_train_options_init(&options, sizeof options);
    options.epochs = quick ? 3 : 8;
    options.batch_size = 32;
    options.report_batches = 1;
    init_elbo_recorder(&r);
    options.progress = record_elbo;
    options.user_data = &r;
    report.struct_size = sizeof report;
    CHECK_OK(ae_model_train(model, x, n, n * D, &options, &report));
    CHECK(report.epochs_run == options.epochs && r.epoch_reports == options.epochs && r.reports > r.epoch_reports);
    CHECK(r.struct_size_ok && r.kl_positive && r.reconstruction_finite && r.sum_matches);
    if (!(r.kl_positive && r.sum_matches)) fprintf(stderr, "  vae: kl %g, reconstruction %g, loss %g\n", r.last_kl, r.last_reconstruction, r.last_loss);
    CHECK(r.last_loss < r.first_loss); /* the negative ELBO goes down */
    CHECK(fabs(report.final_train_loss - r.last_loss) <= 1e-12 * fabs(r.last_loss));
    if (getenv("AE_TEST_VERBOSE")) printf("  vae: loss %.3f -> %.3f, kl %.4f\n", r.first_loss, r.last_loss, r.last_kl);

    /* A model that is not a VAE reports NaN for the KL, and a reconstruction term equal to its loss. */
    ae_train_options_init(&options, sizeof options);
    options.epochs = 1;
    options.report_batches = 1;
    init_elbo_recorder(&r);
    options.progress = record_elbo;
    options.user_data = &r;
    CHECK_OK(ae_model_train(classic, x, n, n * D, &options, NULL));
    CHECK(r.reports > 1 && r.kl_nan && r.reconstruction_finite && r.sum_matches && r.struct_size_ok);

    /* encode_distribution: the mean is the code, bit for bit; log-variances are finite. */
    CHECK_OK(ae_model_encode_distribution(model, x, n, n * D, mean, n * VZ, logvar, n * VZ));
    CHECK_OK(ae_model_encode(model, x, n, n * D, code, n * VZ));
    CHECK(memcmp(mean, code, n * VZ * sizeof(float)) == 0);
    for (i = 0; i < n * VZ; i++) finite &= isfinite(logvar[i]) && isfinite(mean[i]);
    CHECK(finite && memcmp(mean, logvar, n * VZ * sizeof(float)) != 0);
    for (i = 1; i <= 3; i++) { /* smaller batches too */
        CHECK_OK(ae_model_encode_distribution(model, x + 5 * D, i, i * D, mean, i * VZ, logvar, i * VZ));
        CHECK_OK(ae_model_encode(model, x + 5 * D, i, i * D, code, i * VZ));
        CHECK(memcmp(mean, code, i * VZ * sizeof(float)) == 0);
    }
    CHECK_OK(ae_model_encode_distribution(model, x, 0, 0, mean, 0, logvar, 0)); /* n = 0: a no-op */

    /* generate: deterministic for a seed, different across seeds, in the sigmoid's range. */
    CHECK(generated(model, k, 7, D, g1) && generated(model, k, 7, D, g2) && generated(model, k, 8, D, g3));
    CHECK(memcmp(g1, g2, k * D * sizeof(float)) == 0);
    CHECK(memcmp(g1, g3, k * D * sizeof(float)) != 0);
    finite = 1;
    for (i = 0; i < k * D; i++) {
        finite &= isfinite(g1[i]);
        in_range &= g1[i] >= 0 && g1[i] <= 1;
    }
    CHECK(finite && in_range);
    CHECK(memcmp(g1, g1 + D, D * sizeof(float)) != 0); /* different codes, different samples */
    CHECK(generated(model, k, UINT64_MAX, D, g3));
    CHECK_OK(ae_model_generate(model, 0, 7, g3, 0)); /* n = 0: a no-op */

    /* generate leaves the model's own generator alone: training after it is as if it had not run. */
    CHECK(generated(other, k, 3, D, g2));
    ae_train_options_init(&options, sizeof options);
    options.epochs = 1;
    CHECK_OK(ae_model_train(twin, x, n, n * D, &options, NULL));
    CHECK_OK(ae_model_train(other, x, n, n * D, &options, NULL));
    CHECK(same_parameters(twin, other));

    /* interpolate: the ends are the reconstructions of a and b, the rest decoded points of the line. */
    CHECK(interpolation_mismatches(model, x, x + D, 5, D, VZ) == 0);
    CHECK(interpolation_mismatches(model, x + 3 * D, x + 9 * D, 2, D, VZ) == 0);
    CHECK(interpolation_mismatches(model, x + 4 * D, x + 4 * D, 3, D, VZ) == 0);
    CHECK(interpolation_mismatches(classic, x, x + D, 4, D, C) == 0); /* any model that can decode */

    /* save / load (file and memory): generate, encode_distribution and interpolate unchanged. */
    snprintf(path, sizeof path, "%s/ae_roundtrip_%d_vae.safetensors", tmpdir, (int)getpid());
    CHECK_OK(ae_model_save(model, path, 0));
    CHECK_OK(ae_model_load(path, &loaded));
    unlink(path);
    if (loaded) {
        float *lm = (float *)malloc(n * VZ * sizeof(float)), *ll = (float *)malloc(n * VZ * sizeof(float));
        CHECK(generated(loaded, k, 7, D, g2) && memcmp(g1, g2, k * D * sizeof(float)) == 0);
        CHECK_OK(ae_model_encode_distribution(model, x, n, n * D, mean, n * VZ, logvar, n * VZ));
        if (lm && ll) {
            CHECK_OK(ae_model_encode_distribution(loaded, x, n, n * D, lm, n * VZ, ll, n * VZ));
            CHECK(memcmp(mean, lm, n * VZ * sizeof(float)) == 0 && memcmp(logvar, ll, n * VZ * sizeof(float)) == 0);
        }
        CHECK(same_parameters(model, loaded));
        free(lm);
        free(ll);
        ae_model_free(loaded);
        loaded = NULL;
    }
    CHECK_OK(ae_model_save_to_memory(model, 1, &bytes, &size));
    CHECK_OK(ae_model_load_from_memory(bytes, size, &loaded));
    ae_free(bytes);
    bytes = NULL;
    if (loaded) {
        CHECK(generated(loaded, k, 7, D, g2) && memcmp(g1, g2, k * D * sizeof(float)) == 0);
        /* Resuming from the copy (optimizer state and generator included) equals training on. */
        ae_train_options_init(&options, sizeof options);
        options.epochs = 1;
        CHECK_OK(ae_model_train(model, x, n, n * D, &options, NULL));
        CHECK_OK(ae_model_train(loaded, x, n, n * D, &options, NULL));
        CHECK(same_parameters(model, loaded));
    }
done:
    free(mean);
    free(logvar);
    free(code);
    free(g1);
    free(g2);
    free(g3);
    ae_model_free(model);
    ae_model_free(classic);
    ae_model_free(twin);
    ae_model_free(other);
    ae_model_free(loaded);
}

static void test_conv_vae(void) {
    size_t n = quick ? 32 : 256, i, dims[3] = {0, 0, 0}, rank = 0, value = 0, k = 6;
    float *x = NULL, *g = NULL, *g2 = NULL, *mean = NULL, *logvar = NULL, *code = NULL;
    int32_t *unused = NULL;
    ae_model *model = create(conv_vae_spec), *twin = create(conv_vae_spec);
    ae_train_options options;
    ae_train_report report;
    elbo_recorder r;
    int in_range = 1;
    make_squares(n, 41, &x, &unused);
    g = (float *)malloc(k * IMG * sizeof(float));
    g2 = (float *)malloc(k * IMG * sizeof(float));
    mean = (float *)malloc(n * 3 * sizeof(float));
    logvar = (float *)malloc(n * 3 * sizeof(float));
    code = (float *)malloc(n * 3 * sizeof(float));
    if (!model || !twin || !x || !g || !g2 || !mean || !logvar || !code) goto done;
    CHECK_OK(ae_model_input_shape(model, dims, 3, &rank));
    CHECK(rank == 3 && dims[0] == 1 && dims[1] == 8 && dims[2] == 8);
    CHECK_OK(ae_model_code_size(model, &value));
    CHECK(value == 3);

    ae_train_options_init(&options, sizeof options);
    options.epochs = quick ? 3 : 8;
    options.batch_size = 16;
    init_elbo_recorder(&r);
    options.progress = record_elbo;
    options.user_data = &r;
    report.struct_size = sizeof report;
    CHECK_OK(ae_model_train(model, x, n, n * IMG, &options, &report));
    CHECK(report.epochs_run == options.epochs && r.epoch_reports == options.epochs);
    CHECK(r.kl_positive && r.reconstruction_finite && r.sum_matches && r.last_loss < r.first_loss);
    if (!(r.last_loss < r.first_loss)) fprintf(stderr, "  conv vae: loss %g -> %g\n", r.first_loss, r.last_loss);
    options.progress = NULL;
    CHECK_OK(ae_model_train(twin, x, n, n * IMG, &options, NULL));
    CHECK(same_parameters(model, twin)); /* the sampling noise comes from the seeded generator */

    CHECK(generated(model, k, 21, IMG, g) && generated(model, k, 21, IMG, g2));
    CHECK(memcmp(g, g2, k * IMG * sizeof(float)) == 0);
    for (i = 0; i < k * IMG; i++) in_range &= g[i] >= 0 && g[i] <= 1;
    CHECK(in_range);
    CHECK_OK(ae_model_encode_distribution(model, x, n, n * IMG, mean, n * 3, logvar, n * 3));
    CHECK_OK(ae_model_encode(model, x, n, n * IMG, code, n * 3));
    CHECK(memcmp(mean, code, n * 3 * sizeof(float)) == 0);
    CHECK(interpolation_mismatches(model, x, x + IMG, 4, IMG, 3) == 0);
    check_save_load(model, x, n, same_reconstructions, "conv_vae");
done:
    free(x);
    free(unused);
    free(g);
    free(g2);
    free(mean);
    free(logvar);
    free(code);
    ae_model_free(model);
    ae_model_free(twin);
}

/* The same segmentation network without the branch. */
static const char *const seg_no_branch_spec =
    "{\"input_shape\": [1, 8, 8],"
    " \"encoder\": [{\"type\": \"conv2d\", \"name\": \"enc\", \"filters\": 8, \"kernel\": 3, \"padding\": 1, \"activation\": \"relu\"}],"
    " \"decoder\": [{\"type\": \"conv2d\", \"filters\": 2, \"kernel\": 3, \"padding\": 1}],"
    " \"loss\": \"cross_entropy\", \"seed\": 9}";

/* A VAE branch on a segmentation model trains with it (its weights move); the model segments,
 * reports no KL of its own (its code is not variational), refuses the VAE calls, and infers
 * exactly as the network without the branch. */
static void test_vae_branch(void) {
    static const char *const shared[] = {"enc.weight", "enc.bias", "decoder.0.weight", "decoder.0.bias"};
    size_t n = quick ? 32 : 128, i, foreground = 0;
    float *x = NULL, out[2 * 2 * IMG], mean[8 * IMG], logvar[8 * IMG], before[4 * 8 * IMG], after[4 * 8 * IMG];
    float weights[2 * 8 * 9];
    int32_t *labels = NULL;
    ae_model *model = create(seg_vae_branch_spec), *plain = create(seg_no_branch_spec);
    ae_train_options options;
    elbo_recorder r;
    double accuracy, chance;
    int in_range = 0;
    make_squares(n, 43, &x, &labels);
    if (!model || !plain || !x || !labels) goto done;
    for (i = 0; i < n * IMG; i++) foreground += labels[i] == 1;
    chance = (double)(foreground > n * IMG / 2 ? foreground : n * IMG - foreground) / (double)(n * IMG);
    CHECK_OK(ae_model_get_parameter(model, "vae.1.mu.weight", before, 4 * 8 * IMG));

    ae_train_options_init(&options, sizeof options);
    options.epochs = quick ? 4 : 6;
    options.batch_size = 16;
    init_elbo_recorder(&r);
    options.progress = record_elbo;
    options.user_data = &r;
    CHECK_OK(ae_model_train_labels(model, x, n, n * IMG, labels, n * IMG, &options, NULL));
    CHECK(r.epoch_reports == options.epochs && r.kl_nan && r.reconstruction_finite && r.last_loss < r.first_loss);
    CHECK_OK(ae_model_get_parameter(model, "vae.1.mu.weight", after, 4 * 8 * IMG));
    CHECK(memcmp(before, after, sizeof before) != 0); /* the branch trained */
    accuracy = segment_accuracy(model, x, labels, n, &in_range);
    CHECK(in_range && accuracy > chance + 0.5 * (1 - chance));
    if (!(accuracy > chance + 0.5 * (1 - chance))) fprintf(stderr, "  vae branch: accuracy %.4f, chance %.4f\n", accuracy, chance);

    /* Not a VAE (with output counts that pass the shape checks: classes × positions per sample). */
    CHECK(ae_model_generate(model, 2, 0, out, 2 * 2 * IMG) == AE_ERR_UNSUPPORTED);
    CHECK(ae_model_encode_distribution(model, x, 1, IMG, mean, 8 * IMG, logvar, 8 * IMG) == AE_ERR_UNSUPPORTED);
    CHECK(ae_model_interpolate(model, x, x + IMG, 2, out, 2 * 2 * IMG) == AE_ERR_UNSUPPORTED);

    /* Skipped at inference: the network without the branch, given the shared weights, segments alike. */
    for (i = 0; i < 4; i++) {
        size_t count = 0;
        CHECK_OK(ae_model_tensor_info(model, i, NULL, NULL, 0, NULL, &count));
        CHECK_OK(ae_model_get_parameter(model, shared[i], weights, count));
        CHECK_OK(ae_model_set_parameter(plain, shared[i], weights, count));
    }
    CHECK(same_segments(model, plain, x, n));
done:
    free(x);
    free(labels);
    ae_model_free(model);
    ae_model_free(plain);
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
        if (strcmp(argv[i], "--volumetric") == 0) {
            test_volumetric_spec();
            return check_summary("roundtrip --volumetric");
        }
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
    test_fork_after_threads(x);
    test_anomaly_threshold(x);
    test_inpaint(x);
    test_masked_training(x);
    test_trainer_step_masked(x);
    test_denoising(x);
    test_families(x);
    test_conv_autoencoder();
    test_conv1d_autoencoder();
    test_segmentation();
    test_segmentation_steps();
    if (!quick) test_volumetric_spec();
    test_batch_norm_dropout(x);
    test_vae(x);
    test_conv_vae();
    test_vae_branch();
    free(x);
    return check_summary(quick ? "roundtrip --quick" : "roundtrip");
}
