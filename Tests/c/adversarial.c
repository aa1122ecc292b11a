/* adversarial.c: adversarial autoencoders through the C ABI (issue 16): training with the
 * supervised mixture prior (labels per sample), the three losses in the progress callback and
 * after a trainer step, determinism with a seed, sampling the prior and generating, the
 * discriminator's accuracy, the model file round trip, and the bad inputs. */
#include <math.h>

#include "check.h"

#define IN 12
#define ROWS 24

static const char *spec(int seed, const char *discriminator, int supervised) {
    static char text[2048];
    snprintf(text, sizeof text,
             "{\"input_size\": %d, \"seed\": %d,"
             " \"encoder\": [{\"type\": \"dense\", \"units\": 8, \"activation\": \"tanh\"}, {\"type\": \"dense\", \"units\": 2}],"
             " \"decoder\": [{\"type\": \"dense\", \"units\": 8, \"activation\": \"tanh\"},"
             "               {\"type\": \"dense\", \"units\": %d, \"activation\": \"sigmoid\"}], \"loss\": \"bce\","
             " \"adversarial\": {\"discriminator\": %s,"
             "                   \"prior\": {\"type\": \"mixture\", \"components\": 3, \"radius\": 2, \"std\": 0.3, \"supervised\": %s}}}",
             IN, seed, IN, discriminator, supervised ? "true" : "false");
    return text;
}

typedef struct { int reports; double discriminator, generator, reconstruction; } seen_losses;

static int progress(const ae_progress *p, void *user_data) {
    seen_losses *seen = (seen_losses *)user_data;
    seen->reports++;
    seen->discriminator = p->discriminator_loss;
    seen->generator = p->generator_loss;
    seen->reconstruction = p->reconstruction_loss;
    return 0;
}

static int kl_progress(const ae_progress *p, void *user_data) {
    *(double *)user_data = p->discriminator_loss;
    return 0;
}

int main(void) {
    static float data[ROWS * IN], out[ROWS * IN];
    static int32_t labels[ROWS];
    for (int i = 0; i < ROWS * IN; i++) data[i] = (float)((i * 37) % 101) / 100.0f;
    for (int i = 0; i < ROWS; i++) labels[i] = i % 3;
    const char *mlp = "{\"hidden\": [6], \"activation\": \"tanh\"}";

    /* A discriminator whose input does not match the code: a spec error at its JSON path. */
    ae_model *model = NULL, *twin = NULL, *loaded = NULL, *plain = NULL;
    EXPECT_FAIL_MSG(ae_model_create(spec(1, "{\"hidden\": [6], \"input_size\": 2}", 1), &model), AE_ERR_INVALID_SPEC,
                    "ae_model_create", "adversarial.discriminator.input_size");
    CHECK(model == NULL);
    CHECK_OK(ae_model_create(spec(1, mlp, 1), &model));
    CHECK_OK(ae_model_create(spec(1, mlp, 1), &twin));
    int flag = -1, supervised = -1;
    size_t components = 0, label_size = 0;
    CHECK_OK(ae_model_is_adversarial(model, &flag));
    CHECK(flag == 1);
    CHECK_OK(ae_model_prior_components(model, &components, &supervised));
    CHECK(components == 3 && supervised == 1);
    CHECK_OK(ae_model_label_size(model, &label_size));
    CHECK(label_size == 1);

    /* Training: the supervised prior needs labels, each a component. */
    ae_train_options options;
    CHECK_OK(ae_train_options_init(&options, sizeof options));
    options.epochs = 3;
    options.batch_size = 8;
    EXPECT_FAIL_MSG(ae_model_train(model, data, ROWS, ROWS * IN, &options, NULL), AE_ERR_INVALID_ARGUMENT, "ae_model_train", "labels");
    labels[5] = 3;
    EXPECT_FAIL_MSG(ae_model_train_labels(model, data, ROWS, ROWS * IN, labels, ROWS, &options, NULL), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_train_labels", "labels[5] = 3");
    labels[5] = 2;
    EXPECT_FAIL_MSG(ae_model_train_labels(model, data, ROWS, ROWS * IN, labels, ROWS * IN, &options, NULL), AE_ERR_SHAPE,
                    "ae_model_train_labels", "labels_count");
    seen_losses seen = {0, NAN, NAN, NAN};
    options.progress = progress;
    options.user_data = &seen;
    ae_train_report report;
    report.struct_size = sizeof report;
    CHECK_OK(ae_model_train_labels(model, data, ROWS, ROWS * IN, labels, ROWS, &options, &report));
    CHECK(report.epochs_run == 3);
    CHECK(seen.reports == 3);
    CHECK(isfinite(seen.discriminator) && seen.discriminator > 0);
    CHECK(isfinite(seen.generator) && seen.generator > 0);
    CHECK(isfinite(seen.reconstruction));
    options.progress = NULL;
    CHECK_OK(ae_model_train_labels(twin, data, ROWS, ROWS * IN, labels, ROWS, &options, NULL));

    /* Same seed, same weights. */
    size_t count = 0;
    CHECK_OK(ae_model_parameter_count(model, &count));
    float *a = malloc(count * sizeof *a), *b = malloc(count * sizeof *b);
    CHECK_OK(ae_model_get_parameters(model, a, count));
    CHECK_OK(ae_model_get_parameters(twin, b, count));
    CHECK(memcmp(a, b, count * sizeof *a) == 0);

    /* Step-wise, with the three losses of the last step. */
    ae_trainer *trainer = NULL;
    double loss = NAN, reconstruction = NAN, discriminator = NAN, generator = NAN;
    CHECK_OK(ae_trainer_create(model, 8, &trainer));
    CHECK_OK(ae_trainer_last_losses(trainer, &reconstruction, &discriminator, &generator));
    CHECK(isnan(discriminator) && isnan(generator));
    EXPECT_FAIL_MSG(ae_trainer_step(trainer, data, 8, 8 * IN, &loss), AE_ERR_INVALID_ARGUMENT, "ae_trainer_step", "labels");
    CHECK_OK(ae_trainer_step_labels(trainer, data, labels, 8, 8 * IN, 8, &loss));
    CHECK_OK(ae_trainer_last_losses(trainer, &reconstruction, &discriminator, &generator));
    CHECK(isfinite(loss) && isfinite(reconstruction) && isfinite(discriminator) && isfinite(generator));
    CHECK_OK(ae_trainer_last_losses(trainer, NULL, NULL, &generator));
    ae_trainer_free(trainer);

    /* The prior, generation, the discriminator's accuracy. */
    float codes[ROWS * 2], again[ROWS * 2];
    CHECK_OK(ae_model_sample_prior(model, ROWS, 5, labels, ROWS, codes, ROWS * 2));
    CHECK_OK(ae_model_sample_prior(model, ROWS, 5, labels, ROWS, again, ROWS * 2));
    CHECK(memcmp(codes, again, sizeof codes) == 0);
    CHECK(fabsf(codes[0] - 2.0f) < 1.5f);   /* component 0 sits at (2, 0) */
    CHECK_OK(ae_model_sample_prior(model, ROWS, 5, NULL, 0, codes, ROWS * 2));
    EXPECT_FAIL_MSG(ae_model_sample_prior(model, ROWS, 5, labels, ROWS, codes, ROWS), AE_ERR_SHAPE, "ae_model_sample_prior", "codes_count");
    EXPECT_FAIL_MSG(ae_model_sample_prior(model, ROWS, 5, NULL, 3, codes, ROWS * 2), AE_ERR_INVALID_ARGUMENT, "ae_model_sample_prior", "labels");
    CHECK_OK(ae_model_generate(model, ROWS, 9, out, ROWS * IN));
    CHECK(out[0] >= 0 && out[0] <= 1);
    double accuracy = -1;
    CHECK_OK(ae_model_discriminator_accuracy(model, data, ROWS, ROWS * IN, labels, ROWS, 1, &accuracy));
    CHECK(accuracy >= 0 && accuracy <= 1);
    EXPECT_FAIL_MSG(ae_model_discriminator_accuracy(model, data, ROWS, ROWS * IN, NULL, 0, 1, &accuracy), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_discriminator_accuracy", "labels");

    /* The model file keeps the discriminator and the phase optimizers: training resumes identically. */
    void *bytes = NULL;
    size_t size = 0;
    CHECK_OK(ae_model_save_to_memory(model, 1, &bytes, &size));
    CHECK_OK(ae_model_load_from_memory(bytes, size, &loaded));
    ae_free(bytes);
    options.epochs = 1;
    CHECK_OK(ae_model_train_labels(model, data, ROWS, ROWS * IN, labels, ROWS, &options, NULL));
    CHECK_OK(ae_model_train_labels(loaded, data, ROWS, ROWS * IN, labels, ROWS, &options, NULL));
    CHECK_OK(ae_model_get_parameters(model, a, count));
    CHECK_OK(ae_model_get_parameters(loaded, b, count));
    CHECK(memcmp(a, b, count * sizeof *a) == 0);

    /* Unsupervised: no labels; other models: no prior, NaN adversarial losses. */
    ae_model_free(twin);
    CHECK_OK(ae_model_create(spec(2, mlp, 0), &twin));
    CHECK_OK(ae_model_train(twin, data, ROWS, ROWS * IN, &options, NULL));
    EXPECT_FAIL_MSG(ae_model_train_labels(twin, data, ROWS, ROWS * IN, labels, ROWS, &options, NULL), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_train_labels", "not supervised");
    CHECK_OK(ae_model_create("{\"input_size\": 12, \"encoder\": [{\"type\": \"dense\", \"units\": 2}],"
                             " \"decoder\": [{\"type\": \"dense\", \"units\": 12}]}", &plain));
    CHECK_OK(ae_model_is_adversarial(plain, &flag));
    CHECK(flag == 0);
    EXPECT_FAIL_MSG(ae_model_sample_prior(plain, ROWS, 5, NULL, 0, codes, ROWS * 2), AE_ERR_UNSUPPORTED, "ae_model_sample_prior", "adversarial");
    EXPECT_FAIL_MSG(ae_model_discriminator_accuracy(plain, data, ROWS, ROWS * IN, NULL, 0, 1, &accuracy), AE_ERR_UNSUPPORTED,
                    "ae_model_discriminator_accuracy", "discriminator");
    double plain_discriminator = 0;
    options.progress = kl_progress;
    options.user_data = &plain_discriminator;
    CHECK_OK(ae_model_train(plain, data, ROWS, ROWS * IN, &options, NULL));
    CHECK(isnan(plain_discriminator));

    free(a);
    free(b);
    ae_model_free(plain);
    ae_model_free(loaded);
    ae_model_free(twin);
    ae_model_free(model);
    return check_summary("adversarial");
}
