/*
 * bounds: the findings of issue 10 through the C ABI, each a regression test.
 *
 *   1. Sizes: the 265-byte spec whose transposed convolution makes a node of 2^48 floats per
 *      sample (the training workspace `capacity x outputSize` wrapped to 0 and the first forward
 *      pass wrote past a 1-float buffer: SIGSEGV) is AE_ERR_INVALID_SPEC naming encoder[0] and
 *      the size; a workspace beyond physical memory is AE_ERR_OUT_OF_MEMORY; 100,000 branch
 *      layers are refused at the list's cap (they took 7 s to build, quadratically).
 *   2. Names: a layer name with NUL is a spec error at its JSON path.
 *   3. A failed call changes nothing: a diverging ae_model_train and an ae_trainer_step at
 *      learning rate 1e30 (finite loss and weights, overflowing outputs: it used to return AE_OK)
 *      leave the model file bytes identical: weights, optimizer state, epochs and generator.
 *   4. Writers cannot starve: 8 threads run inference without pause beside a trainer of 50 steps,
 *      which all finish (0 of 50 finished in 40 s with the reader-preferring lock). A watchdog
 *      (alarm) turns a hang into a failure; nothing is timed.
 *
 * Usage: bounds [tmpdir]. Prints "bounds: N passed, M failed".
 */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include "check.h"

static const char *const huge_node_spec =
    "{\"input_shape\": [1, 16, 16], \"encoder\": [{\"type\": \"conv_transpose2d\", \"filters\": 65536, \"kernel\": 1, "
    "\"stride\": 4096, \"output_padding\": 4095}, {\"type\": \"conv2d\", \"filters\": 1, \"kernel\": 1, \"stride\": 4096}], "
    "\"decoder\": [{\"type\": \"conv2d\", \"filters\": 1, \"kernel\": 1}]}";

static void test_huge_node(void) {
    ae_model *model = NULL;
    ae_status status;
    CHECK(strlen(huge_node_spec) < 300);
    check_reset_last_error();
    status = ae_model_create(huge_node_spec, &model);
    REGRESSION("a node of 2^48 floats per sample wrapped the workspace size to 0 and crashed training",
               check_failure(status, AE_ERR_INVALID_SPEC, "ae_model_create", "encoder[0]", "ae_model_create(huge node)",
                             __FILE__, __LINE__));
    CHECK(strstr(ae_last_error(), "281474976710656 floats") != NULL);
    if (status == AE_OK) {
        /* Today's library gets here: the first forward pass of this batch wrote past its buffer. */
        size_t n = 65536;
        float *x = calloc(n * 256, sizeof(float)), y[256];
        ae_train_options options;
        ae_train_options_init(&options, sizeof options);
        options.epochs = 1;
        options.batch_size = n;
        if (x) (void)ae_model_train(model, x, n, n * 256, &options, NULL);
        (void)ae_model_reconstruct(model, x, 1, 256, y, 256);
        free(x);
        ae_model_free(model);
    }
}

static void test_workspace_beyond_memory(void) {
    /* Every node within bounds (2^28 floats, 1 GiB per sample), but a batch of 4096 needs terabytes. */
    const char *spec = "{\"input_shape\": [1, 4, 4], \"encoder\": [{\"type\": \"upsample_nearest2d\", \"scale\": 4096},"
                       " {\"type\": \"avg_pool2d\", \"kernel\": 4096}], \"decoder\": [{\"type\": \"conv2d\", \"filters\": 1, \"kernel\": 1}]}";
    ae_model *model = NULL;
    ae_trainer *trainer = NULL;
    CHECK_OK(ae_model_create(spec, &model));
    if (!model) return;
    EXPECT_FAIL_MSG(ae_trainer_create(model, 4096, &trainer), AE_ERR_OUT_OF_MEMORY, "ae_trainer_create", "workspace for 4096 samples");
    CHECK(trainer == NULL);
    ae_model_free(model);
}

static void test_list_caps(void) {
    const char *head = "{\"input_size\": 4, \"encoder\": [{\"type\": \"dense\", \"units\": 4}],"
                       " \"decoder\": [{\"type\": \"dense\", \"units\": 4}], \"branches\": [{\"layers\": [";
    const char *layer = "{\"type\": \"relu\"}, ";
    size_t layers = 100000, length = strlen(head) + layers * strlen(layer) + 16, i;
    char *spec = malloc(length), *p = spec;
    ae_model *model = NULL;
    if (!spec) return;
    p += sprintf(p, "%s", head);
    for (i = 0; i < layers; i++) p += sprintf(p, "%s", layer);
    p -= 2; /* the last ", " */
    sprintf(p, "]}]}");
    REGRESSION("100,000 branch layers took 7 s to build (quadratic); branches were uncapped",
               EXPECT_FAIL_MSG(ae_model_create(spec, &model), AE_ERR_INVALID_SPEC, "ae_model_create",
                               "branches[0].layers: holds 100000 entries; at most 1000"));
    CHECK(model == NULL);
    free(spec);
}

static void test_names(void) {
    ae_model *model = NULL;
    REGRESSION("a layer name containing NUL made its tensors unreachable from C",
               EXPECT_FAIL_MSG(ae_model_create("{\"input_size\": 4, \"encoder\": [{\"type\": \"dense\", \"units\": 2, \"name\": \"a\\u0000b\"}],"
                                               " \"decoder\": [{\"type\": \"dense\", \"units\": 4}]}", &model),
                               AE_ERR_INVALID_SPEC, "ae_model_create", "encoder[0].name"));
    CHECK(model == NULL);
}

/* The model file bytes (with optimizer state): weights, optimizer state, epochs, generator. */
static unsigned char *image(const ae_model *model, size_t *size) {
    void *data = NULL;
    unsigned char *copy = NULL;
    *size = 0;
    if (ae_model_save_to_memory(model, 1, &data, size) != AE_OK) return NULL;
    copy = malloc(*size);
    if (copy) memcpy(copy, data, *size);
    ae_free(data);
    return copy;
}

static int same_image(const ae_model *model, const unsigned char *before, size_t size) {
    size_t now_size;
    unsigned char *now = image(model, &now_size);
    int same = now != NULL && before != NULL && now_size == size && memcmp(now, before, size) == 0;
    free(now);
    return same;
}

#define D 16
#define N 64

static void test_failed_calls_change_nothing(void) {
    const char *spec = "{\"input_size\": 16, \"encoder\": [{\"type\": \"dense\", \"units\": 8}],"
                       " \"decoder\": [{\"type\": \"dense\", \"units\": 16}], \"noise\": {\"type\": \"gaussian\", \"stddev\": 0.1},"
                       " \"optimizer\": {\"type\": \"adam\", \"lr\": 0.01}, \"seed\": 3}";
    const char *diverging = "{\"input_size\": 16, \"encoder\": [{\"type\": \"dense\", \"units\": 8}],"
                            " \"decoder\": [{\"type\": \"dense\", \"units\": 16}], \"optimizer\": {\"type\": \"sgd\", \"lr\": 1000},"
                            " \"schedule\": {\"type\": \"constant\", \"warmup_epochs\": 1000}, \"seed\": 1}";
    float x[N * D];
    size_t i, size, steps = 99;
    unsigned char *before;
    ae_model *model = NULL;
    ae_trainer *trainer = NULL;
    ae_train_options options;
    for (i = 0; i < N * D; i++) x[i] = (float)sin(0.37 * (double)i) * 0.8f;

    /* A fit that diverges after some epochs: the generator, the epochs and the optimizer (none
     * before the call) are as before. */
    CHECK_OK(ae_model_create(diverging, &model));
    if (!model) return;
    before = image(model, &size);
    ae_train_options_init(&options, sizeof options);
    options.epochs = 100;
    options.batch_size = 8;
    REGRESSION("a diverging fit advanced the generator and created optimizer state",
               EXPECT_FAIL_MSG(ae_model_train(model, x, N, N * D, &options, NULL), AE_ERR_NUMERIC, "ae_model_train", "diverged");
               CHECK(same_image(model, before, size)));
    free(before);
    ae_model_free(model);

    /* A step at learning rate 1e30: finite loss, finite weights, overflowing outputs. */
    model = NULL;
    CHECK_OK(ae_model_create(spec, &model));
    if (!model) return;
    CHECK_OK(ae_trainer_create(model, 8, &trainer));
    if (!trainer) { ae_model_free(model); return; }
    for (i = 0; i < 3; i++) CHECK_OK(ae_trainer_step(trainer, x + i * 8 * D, 8, 8 * D, NULL));
    before = image(model, &size);
    CHECK_OK(ae_trainer_set_learning_rate(trainer, 1e30));
    REGRESSION("a step at learning rate 1e30 returned AE_OK and left weights whose outputs overflow",
               EXPECT_FAIL_MSG(ae_trainer_step(trainer, x, 8, 8 * D, NULL), AE_ERR_NUMERIC, "ae_trainer_step", "not finite");
               CHECK(same_image(model, before, size)));
    CHECK_OK(ae_trainer_step_count(trainer, &steps));
    CHECK(steps == 3);
    CHECK_OK(ae_trainer_set_learning_rate(trainer, 0.01));
    CHECK_OK(ae_trainer_step(trainer, x, 8, 8 * D, NULL));
    free(before);
    ae_trainer_free(trainer);
    ae_model_free(model);
}

/* ---- writers cannot starve ---- */

typedef struct {
    ae_model *model;
    const float *x;
    volatile int *stop;
    long calls;
} reader_args;

static void *reader(void *argument) {
    reader_args *args = argument;
    float y[N * D];
    while (!__atomic_load_n(args->stop, __ATOMIC_ACQUIRE)) {
        if (ae_model_reconstruct(args->model, args->x, N, N * D, y, N * D) == AE_OK) args->calls++;
    }
    return NULL;
}

static void on_alarm(int signal_number) {
    static const char message[] = "bounds: FAILED: the trainer did not finish beside 8 inference threads (hang)\n";
    (void)signal_number;
    (void)!write(2, message, sizeof message - 1);
    _exit(3);
}

static void test_writers_do_not_starve(void) {
    const char *spec = "{\"input_size\": 16, \"encoder\": [{\"type\": \"dense\", \"units\": 256, \"activation\": \"relu\"},"
                       " {\"type\": \"dense\", \"units\": 4}], \"decoder\": [{\"type\": \"dense\", \"units\": 256, \"activation\": \"relu\"},"
                       " {\"type\": \"dense\", \"units\": 16}]}";
    float x[N * D];
    pthread_t threads[8];
    reader_args args[8];
    volatile int stop = 0;
    int started = 0, i, steps_ok = 0;
    size_t steps = 0;
    ae_model *model = NULL;
    ae_trainer *trainer = NULL;
    for (i = 0; i < N * D; i++) x[i] = (float)cos(0.11 * (double)i);
    CHECK_OK(ae_model_create(spec, &model));
    if (!model) return;
    CHECK_OK(ae_trainer_create(model, N, &trainer));
    for (i = 0; i < 8; i++) {
        args[i].model = model;
        args[i].x = x;
        args[i].stop = &stop;
        args[i].calls = 0;
        if (pthread_create(&threads[i], NULL, reader, &args[i]) == 0) started++;
    }
    CHECK(started == 8);
    signal(SIGALRM, on_alarm);
    alarm(600); /* a hang guard, far above the few seconds this takes */
    for (i = 0; i < 50 && trainer; i++) steps_ok += ae_trainer_step(trainer, x, N, N * D, NULL) == AE_OK;
    alarm(0);
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    for (i = 0; i < started; i++) pthread_join(threads[i], NULL);
    REGRESSION("0 of 50 trainer steps finished in 40 s beside inference threads (reader-preferring lock)",
               CHECK(steps_ok == 50));
    CHECK_OK(ae_trainer_step_count(trainer, &steps));
    CHECK(steps == 50);
    for (i = 0; i < started; i++) CHECK(args[i].calls > 0);
    ae_trainer_free(trainer);
    ae_model_free(model);
}

int main(void) {
    test_huge_node();
    test_workspace_beyond_memory();
    test_list_caps();
    test_names();
    test_failed_calls_change_nothing();
    test_writers_do_not_starve();
    return check_summary("bounds");
}
