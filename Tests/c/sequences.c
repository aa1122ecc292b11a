/* sequences.c: the sequence and token C ABI (issue 11).
 *
 * Happy path: an LSTM autoencoder on sequences [n, T, F] and a GRU text autoencoder on token ids
 * [n, T] train a few steps (losses decrease), through ae_model_train with lengths and through the
 * trainer; encode, reconstruct and score give the documented shapes, padded steps of a
 * reconstruction are 0 (tokens: the padding id), and lengths change the results against no
 * lengths; an initial state (seq2seq decoder starting from the code) trains too.
 *
 * Bad input, each with its status, a message naming the function and the argument, and the model
 * unchanged (parameters bit-identical): lengths of 0 and > T, lengths_count not n, lengths NULL
 * with a count, lengths on a non-sequence model, token ids outside the vocabulary, a flat buffer
 * of the wrong size, NaN in a sequence, float calls on a token model and token calls on a float
 * model, NULL pointers.
 *
 *   Tests/c/run.sh builds and runs it.
 */
#include <math.h>
#include <stdint.h>

#include "check.h"
#include "models.h"

#define N 16
#define T 6
#define F 3
#define H 8
#define V 7

static const char *lstm_spec =
    "{\"input_shape\": [6, 3], \"seed\": 5,"
    " \"encoder\": [{\"type\": \"lstm\", \"units\": 8, \"return\": \"last\"}],"
    " \"decoder\": [{\"type\": \"repeat\", \"steps\": 6}, {\"type\": \"lstm\", \"units\": 8},"
    "             {\"type\": \"time_distributed_dense\", \"units\": 3}],"
    " \"optimizer\": {\"type\": \"adam\", \"lr\": 0.01, \"clip_grad_norm\": 1.0}}";

static const char *text_spec =
    "{\"input_shape\": [6], \"seed\": 3,"
    " \"encoder\": [{\"type\": \"embedding\", \"vocabulary\": 7, \"units\": 5, \"padding_id\": 0},"
    "             {\"type\": \"gru\", \"units\": 8, \"return\": \"last\"}],"
    " \"decoder\": [{\"type\": \"repeat\", \"steps\": 6}, {\"type\": \"gru\", \"units\": 8},"
    "             {\"type\": \"time_distributed_dense\", \"units\": 7}],"
    " \"loss\": \"sequence_cross_entropy\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.02}}";

/* A seq2seq decoder whose LSTM starts from the code (h_0 = code). */
static const char *seq2seq_spec =
    "{\"input_shape\": [6, 3], \"seed\": 2,"
    " \"encoder\": [{\"type\": \"lstm\", \"units\": 8, \"return\": \"last\", \"name\": \"code\"}],"
    " \"decoder\": [{\"type\": \"repeat\", \"steps\": 6},"
    "             {\"type\": \"lstm\", \"units\": 8, \"initial_state\": \"code\"},"
    "             {\"type\": \"time_distributed_dense\", \"units\": 3}],"
    " \"optimizer\": {\"type\": \"adam\", \"lr\": 0.01}}";

static const char *dense_spec =
    "{\"input_size\": 18, \"encoder\": [{\"type\": \"dense\", \"units\": 4}],"
    " \"decoder\": [{\"type\": \"dense\", \"units\": 18}]}";

static float sequences[N * T * F];
static int32_t lengths[N];
static int32_t tokens[N * T];

static void make_data(void) {
    int n, t, f;
    for (n = 0; n < N; n++) {
        lengths[n] = 2 + n % (T - 1); /* 2..T */
        for (t = 0; t < T; t++) {
            for (f = 0; f < F; f++) sequences[(n * T + t) * F + f] = (float)sin(0.7 * t + 0.9 * n + 1.3 * f);
            /* Words of ids 1..6, padded with 0 past the length. */
            tokens[n * T + t] = t < lengths[n] ? 1 + (n + 2 * t) % (V - 1) : 0;
        }
    }
}

static int unchanged(const ae_model *model, const float *before, size_t count) {
    size_t n = 0;
    float *now = parameters_copy(model, &n);
    int same = now && before && n == count && memcmp(now, before, count * sizeof(float)) == 0;
    free(now);
    return same;
}

static void test_queries(ae_model *lstm, ae_model *text, ae_model *dense) {
    size_t steps = 99, features = 99, vocabulary = 99;
    int is_sequence = -1;
    CHECK_OK(ae_model_sequence_shape(lstm, &steps, &features, &is_sequence));
    CHECK(steps == T && features == F && is_sequence == 1);
    CHECK_OK(ae_model_sequence_shape(text, &steps, &features, &is_sequence));
    CHECK(steps == T && features == 1 && is_sequence == 1);
    CHECK_OK(ae_model_sequence_shape(dense, &steps, &features, &is_sequence));
    CHECK(steps == 0 && features == 0 && is_sequence == 0);
    CHECK_OK(ae_model_sequence_shape(lstm, NULL, NULL, NULL));
    CHECK_OK(ae_model_vocabulary_size(text, &vocabulary));
    CHECK(vocabulary == V);
    CHECK_OK(ae_model_vocabulary_size(lstm, &vocabulary));
    CHECK(vocabulary == 0);
    EXPECT_FAIL_MSG(ae_model_sequence_shape(NULL, &steps, &features, &is_sequence), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_sequence_shape", "model");
    EXPECT_FAIL_MSG(ae_model_vocabulary_size(text, NULL), AE_ERR_INVALID_ARGUMENT, "ae_model_vocabulary_size", "out");
}

static void test_lstm_training(ae_model *model) {
    ae_train_options options;
    ae_train_report report;
    ae_trainer *trainer = NULL;
    double first = 0, loss = 0, with = 0, without = 0;
    int i;
    CHECK_OK(ae_model_evaluate_sequences(model, sequences, lengths, N, N * T * F, N, &first));
    CHECK_OK(ae_train_options_init(&options, sizeof options));
    options.epochs = 15;
    options.batch_size = 8;
    options.lengths = lengths;
    options.lengths_count = N;
    options.validation_split = 0.25f;
    report.struct_size = sizeof report;
    CHECK_OK(ae_model_train(model, sequences, N, N * T * F, &options, &report));
    CHECK(report.epochs_run == 15 && isfinite(report.final_validation_loss));
    CHECK_OK(ae_model_evaluate_sequences(model, sequences, lengths, N, N * T * F, N, &loss));
    printf("  lstm: loss over valid steps %.4f -> %.4f after 15 epochs\n", first, loss);
    CHECK(loss < first);
    /* Lengths change the objective. */
    CHECK_OK(ae_model_evaluate_sequences(model, sequences, lengths, N, N * T * F, N, &with));
    CHECK_OK(ae_model_evaluate_sequences(model, sequences, NULL, N, N * T * F, 0, &without));
    CHECK(fabs(with - without) > 1e-6);
    /* The trainer with lengths. */
    CHECK_OK(ae_trainer_create(model, 8, &trainer));
    for (i = 0; i < 5; i++) CHECK_OK(ae_trainer_step_sequences(trainer, sequences, lengths, 8, 8 * T * F, 8, &loss));
    CHECK(isfinite(loss));
    CHECK_OK(ae_trainer_step_sequences(trainer, sequences, NULL, 8, 8 * T * F, 0, &loss));
    ae_trainer_free(trainer);
    /* Explicit validation data with its lengths. */
    CHECK_OK(ae_train_options_init(&options, sizeof options));
    options.epochs = 1;
    options.lengths = lengths;
    options.lengths_count = 12;
    options.validation_data = sequences + 12 * T * F;
    options.validation_samples = 4;
    options.validation_count = 4 * T * F;
    options.validation_lengths = lengths + 12;
    options.validation_lengths_count = 4;
    CHECK_OK(ae_model_train(model, sequences, 12, 12 * T * F, &options, &report));
    CHECK(isfinite(report.final_validation_loss));
}

static void test_lstm_inference(ae_model *model) {
    static float code[N * H], code_all[N * H], output[N * T * F], output_all[N * T * F];
    float scores[N], scores_all[N], plain[N];
    int n, t, f, padded_zero = 1, differs = 0, plain_same = 1;
    CHECK_OK(ae_model_encode_sequences(model, sequences, lengths, N, N * T * F, N, code, N * H));
    CHECK_OK(ae_model_encode_sequences(model, sequences, NULL, N, N * T * F, 0, code_all, N * H));
    for (n = 0; n < N; n++)
        if (lengths[n] < T && fabsf(code[n * H] - code_all[n * H]) > 1e-6f) differs++;
    CHECK(differs > 0); /* the last state is taken at the last valid step */
    CHECK_OK(ae_model_reconstruct_sequences(model, sequences, lengths, N, N * T * F, N, output, N * T * F));
    CHECK_OK(ae_model_reconstruct_sequences(model, sequences, NULL, N, N * T * F, 0, output_all, N * T * F));
    for (n = 0; n < N; n++)
        for (t = lengths[n]; t < T; t++)
            for (f = 0; f < F; f++) padded_zero &= output[(n * T + t) * F + f] == 0.0f;
    CHECK(padded_zero);
    CHECK_OK(ae_model_score_sequences(model, sequences, lengths, N, N * T * F, N, scores, N));
    CHECK_OK(ae_model_score_sequences(model, sequences, NULL, N, N * T * F, 0, scores_all, N));
    CHECK_OK(ae_model_score(model, sequences, N, N * T * F, plain, N));
    differs = 0;
    for (n = 0; n < N; n++) {
        double sum = 0;
        CHECK(isfinite(scores[n]) && scores[n] >= 0);
        if (lengths[n] < T && fabsf(scores[n] - scores_all[n]) > 1e-7f) differs++;
        plain_same &= fabsf(plain[n] - scores_all[n]) <= 1e-6f * (1 + plain[n]);
        /* The score is the mean squared error over the valid steps' values. */
        for (t = 0; t < lengths[n]; t++)
            for (f = 0; f < F; f++) {
                double d = output[(n * T + t) * F + f] - sequences[(n * T + t) * F + f];
                sum += d * d;
            }
        CHECK(fabs(sum / (lengths[n] * F) - scores[n]) <= 1e-4 * (1 + scores[n]));
    }
    CHECK(differs > 0);
    CHECK(plain_same); /* NULL lengths equal the plain call */
    /* n = 0 does nothing. */
    CHECK_OK(ae_model_encode_sequences(model, sequences, NULL, 0, 0, 0, code, 0));
}

static void test_text(ae_model *model) {
    ae_train_options options;
    ae_train_report report;
    ae_trainer *trainer = NULL;
    double first = 0, loss = 0, with = 0, without = 0;
    static float code[N * H];
    static int32_t out[N * T], decoded[N * T];
    float scores[N];
    int n, t, padded = 1, correct = 0, counted = 0;
    CHECK_OK(ae_model_evaluate_tokens(model, tokens, lengths, N, N * T, N, &first));
    CHECK(fabs(first - log((double)V)) < 0.5); /* about log V at the start */
    CHECK_OK(ae_train_options_init(&options, sizeof options));
    options.epochs = 40;
    options.batch_size = 8;
    report.struct_size = sizeof report;
    CHECK_OK(ae_model_train_tokens(model, tokens, N, N * T, lengths, N, &options, &report));
    CHECK_OK(ae_model_evaluate_tokens(model, tokens, lengths, N, N * T, N, &loss));
    printf("  text: cross-entropy %.4f -> %.4f after 40 epochs\n", first, loss);
    CHECK(loss < first);
    CHECK_OK(ae_model_evaluate_tokens(model, tokens, NULL, N, N * T, 0, &without));
    CHECK_OK(ae_model_evaluate_tokens(model, tokens, lengths, N, N * T, N, &with));
    CHECK(isfinite(without) && isfinite(with));
    CHECK_OK(ae_trainer_create(model, 8, &trainer));
    CHECK_OK(ae_trainer_step_tokens(trainer, tokens, lengths, 8, 8 * T, 8, &loss));
    CHECK(isfinite(loss));
    ae_trainer_free(trainer);

    CHECK_OK(ae_model_encode_tokens(model, tokens, lengths, N, N * T, N, code, N * H));
    CHECK_OK(ae_model_reconstruct_tokens(model, tokens, lengths, N, N * T, N, out, N * T));
    for (n = 0; n < N; n++)
        for (t = 0; t < T; t++) {
            if (t >= lengths[n]) padded &= out[n * T + t] == 0;
            else { correct += out[n * T + t] == tokens[n * T + t]; counted++; }
            CHECK(out[n * T + t] >= 0 && out[n * T + t] < V);
        }
    CHECK(padded);
    printf("  text: %d of %d valid tokens reconstructed\n", correct, counted);
    CHECK_OK(ae_model_decode_tokens(model, code, N, N * H, decoded, N * T));
    for (n = 0; n < N * T; n++) CHECK(decoded[n] >= 0 && decoded[n] < V);
    CHECK_OK(ae_model_score_tokens(model, tokens, lengths, N, N * T, N, scores, N));
    for (n = 0; n < N; n++) CHECK(isfinite(scores[n]) && scores[n] >= 0);
}

static void test_seq2seq(void) {
    ae_model *model = create(seq2seq_spec);
    ae_train_options options;
    double before = 0, after = 0;
    if (!model) return;
    CHECK_OK(ae_model_evaluate_sequences(model, sequences, lengths, N, N * T * F, N, &before));
    CHECK_OK(ae_train_options_init(&options, sizeof options));
    options.epochs = 10;
    options.batch_size = 8;
    options.lengths = lengths;
    options.lengths_count = N;
    CHECK_OK(ae_model_train(model, sequences, N, N * T * F, &options, NULL));
    CHECK_OK(ae_model_evaluate_sequences(model, sequences, lengths, N, N * T * F, N, &after));
    CHECK(after < before);
    ae_model_free(model);
}

static void test_bad_sequences(ae_model *model, ae_model *dense) {
    size_t count = 0;
    float *before = parameters_copy(model, &count);
    static float bad[N * T * F], output[N * T * F], code[N * H];
    float scores[N], untouched = 12345.0f;
    int32_t bad_lengths[N];
    ae_train_options options;
    ae_trainer *trainer = NULL;
    double loss = -7;
    const char *fn;

    memcpy(bad_lengths, lengths, sizeof bad_lengths);
    bad_lengths[3] = 0;
    fn = "ae_model_encode_sequences";
    EXPECT_FAIL_MSG(ae_model_encode_sequences(model, sequences, bad_lengths, N, N * T * F, N, code, N * H), AE_ERR_INVALID_ARGUMENT, fn, "lengths[3] = 0");
    bad_lengths[3] = T + 1;
    EXPECT_FAIL_MSG(ae_model_encode_sequences(model, sequences, bad_lengths, N, N * T * F, N, code, N * H), AE_ERR_INVALID_ARGUMENT, fn, "lengths[3] = 7");
    bad_lengths[3] = -2;
    EXPECT_FAIL_MSG(ae_model_encode_sequences(model, sequences, bad_lengths, N, N * T * F, N, code, N * H), AE_ERR_INVALID_ARGUMENT, fn, "T = 6");
    EXPECT_FAIL_MSG(ae_model_encode_sequences(model, sequences, lengths, N, N * T * F, N - 1, code, N * H), AE_ERR_INVALID_ARGUMENT, fn, "lengths_count");
    EXPECT_FAIL_MSG(ae_model_encode_sequences(model, sequences, NULL, N, N * T * F, N, code, N * H), AE_ERR_INVALID_ARGUMENT, fn, "lengths_count");
    EXPECT_FAIL_MSG(ae_model_encode_sequences(model, sequences, lengths, N, N * T * F - 1, N, code, N * H), AE_ERR_SHAPE, fn, "T * F = 6 * 3");
    EXPECT_FAIL_MSG(ae_model_encode_sequences(model, sequences, lengths, N, N * T, N, code, N * H), AE_ERR_SHAPE, fn, "input_count");
    EXPECT_FAIL_MSG(ae_model_encode_sequences(model, sequences, lengths, N, N * T * F, N, code, N * H - 1), AE_ERR_SHAPE, fn, "code_count");
    EXPECT_FAIL_MSG(ae_model_encode_sequences(NULL, sequences, lengths, N, N * T * F, N, code, N * H), AE_ERR_INVALID_ARGUMENT, fn, "model");
    EXPECT_FAIL_MSG(ae_model_encode_sequences(model, NULL, lengths, N, N * T * F, N, code, N * H), AE_ERR_INVALID_ARGUMENT, fn, "input");
    EXPECT_FAIL_MSG(ae_model_encode_sequences(model, sequences, lengths, N, N * T * F, N, NULL, N * H), AE_ERR_INVALID_ARGUMENT, fn, "code");
    /* The plain calls name T and F too. */
    EXPECT_FAIL_MSG(ae_model_score(model, sequences, N, N * T, scores, N), AE_ERR_SHAPE, "ae_model_score", "T * F = 6 * 3");
    EXPECT_FAIL_MSG(ae_model_train(model, sequences, N, N * T * F + 1, NULL, NULL), AE_ERR_SHAPE, "ae_model_train", "T * F = 6 * 3");
    memcpy(bad, sequences, sizeof bad);
    bad[5 * T * F + 4] = NAN;
    EXPECT_FAIL_MSG(ae_model_encode_sequences(model, bad, lengths, N, N * T * F, N, code, N * H), AE_ERR_NUMERIC, fn, "sample 5");
    bad[5 * T * F + 4] = INFINITY;
    EXPECT_FAIL_MSG(ae_model_reconstruct_sequences(model, bad, NULL, N, N * T * F, 0, output, N * T * F), AE_ERR_NUMERIC,
                    "ae_model_reconstruct_sequences", "input");

    output[0] = untouched;
    bad_lengths[3] = 0;
    fn = "ae_model_reconstruct_sequences";
    EXPECT_FAIL_MSG(ae_model_reconstruct_sequences(model, sequences, bad_lengths, N, N * T * F, N, output, N * T * F), AE_ERR_INVALID_ARGUMENT, fn, "lengths[3]");
    EXPECT_FAIL_MSG(ae_model_reconstruct_sequences(model, sequences, lengths, N, N * T * F, N, output, N * T * F - 1), AE_ERR_SHAPE, fn, "output_count");
    CHECK(output[0] == untouched);
    fn = "ae_model_score_sequences";
    scores[0] = untouched;
    EXPECT_FAIL_MSG(ae_model_score_sequences(model, sequences, bad_lengths, N, N * T * F, N, scores, N), AE_ERR_INVALID_ARGUMENT, fn, "lengths[3]");
    EXPECT_FAIL_MSG(ae_model_score_sequences(model, sequences, lengths, N, N * T * F, N, scores, N - 1), AE_ERR_SHAPE, fn, "scores_count");
    CHECK(scores[0] == untouched);
    fn = "ae_model_evaluate_sequences";
    EXPECT_FAIL_MSG(ae_model_evaluate_sequences(model, sequences, bad_lengths, N, N * T * F, N, &loss), AE_ERR_INVALID_ARGUMENT, fn, "lengths[3]");
    EXPECT_FAIL_MSG(ae_model_evaluate_sequences(model, sequences, lengths, N, N * T * F + 3, N, &loss), AE_ERR_SHAPE, fn, "count");
    CHECK(loss == -7);

    /* Training: options->lengths checked before anything changes. */
    fn = "ae_model_train";
    CHECK_OK(ae_train_options_init(&options, sizeof options));
    options.epochs = 2;
    options.lengths = bad_lengths;
    options.lengths_count = N;
    EXPECT_FAIL_MSG(ae_model_train(model, sequences, N, N * T * F, &options, NULL), AE_ERR_INVALID_ARGUMENT, fn, "options->lengths[3] = 0");
    options.lengths = lengths;
    options.lengths_count = N + 1;
    EXPECT_FAIL_MSG(ae_model_train(model, sequences, N, N * T * F, &options, NULL), AE_ERR_INVALID_ARGUMENT, fn, "options->lengths_count");
    options.lengths = NULL;
    options.lengths_count = N;
    EXPECT_FAIL_MSG(ae_model_train(model, sequences, N, N * T * F, &options, NULL), AE_ERR_INVALID_ARGUMENT, fn, "options->lengths");
    options.lengths = lengths;
    options.lengths_count = N;
    options.validation_lengths = lengths;
    options.validation_lengths_count = 4;
    EXPECT_FAIL_MSG(ae_model_train(model, sequences, N, N * T * F, &options, NULL), AE_ERR_INVALID_ARGUMENT, fn, "validation");
    options.validation_data = sequences;
    options.validation_samples = 4;
    options.validation_count = 4 * T * F;
    options.validation_lengths = bad_lengths;
    EXPECT_FAIL_MSG(ae_model_train(model, sequences, N, N * T * F, &options, NULL), AE_ERR_INVALID_ARGUMENT, fn, "options->validation_lengths[3]");
    options.validation_lengths = lengths;
    options.validation_lengths_count = 3;
    EXPECT_FAIL_MSG(ae_model_train(model, sequences, N, N * T * F, &options, NULL), AE_ERR_INVALID_ARGUMENT, fn, "options->validation_lengths_count");
    options.validation_lengths_count = 4;
    EXPECT_FAIL_MSG(ae_model_train(model, bad, N, N * T * F, &options, NULL), AE_ERR_NUMERIC, fn, "data");

    fn = "ae_trainer_step_sequences";
    CHECK_OK(ae_trainer_create(model, 8, &trainer));
    EXPECT_FAIL_MSG(ae_trainer_step_sequences(trainer, sequences, bad_lengths, 8, 8 * T * F, 8, &loss), AE_ERR_INVALID_ARGUMENT, fn, "lengths[3]");
    EXPECT_FAIL_MSG(ae_trainer_step_sequences(trainer, sequences, lengths, 8, 8 * T * F, 7, &loss), AE_ERR_INVALID_ARGUMENT, fn, "lengths_count");
    EXPECT_FAIL_MSG(ae_trainer_step_sequences(trainer, sequences, lengths, 8, 8 * T * F - 1, 8, &loss), AE_ERR_SHAPE, fn, "count");
    EXPECT_FAIL_MSG(ae_trainer_step_sequences(trainer, sequences, lengths, 9, 9 * T * F, 9, &loss), AE_ERR_INVALID_ARGUMENT, fn, "n");
    EXPECT_FAIL_MSG(ae_trainer_step_sequences(trainer, bad, lengths, 8, 8 * T * F, 8, &loss), AE_ERR_NUMERIC, fn, "batch");
    EXPECT_FAIL_MSG(ae_trainer_step_sequences(trainer, NULL, lengths, 8, 8 * T * F, 8, &loss), AE_ERR_INVALID_ARGUMENT, fn, "batch");
    EXPECT_FAIL_MSG(ae_trainer_step_sequences(NULL, sequences, lengths, 8, 8 * T * F, 8, &loss), AE_ERR_INVALID_ARGUMENT, fn, "trainer");
    ae_trainer_free(trainer);
    CHECK(loss == -7);
    CHECK(unchanged(model, before, count));

    /* Lengths on a model without sequences. */
    EXPECT_FAIL_MSG(ae_model_encode_sequences(dense, sequences, lengths, N, N * T * F, N, code, N * 4), AE_ERR_INVALID_ARGUMENT,
                    "ae_model_encode_sequences", "sequence models");
    CHECK_OK(ae_train_options_init(&options, sizeof options));
    options.lengths = lengths;
    options.lengths_count = N;
    EXPECT_FAIL_MSG(ae_model_train(dense, sequences, N, N * T * F, &options, NULL), AE_ERR_INVALID_ARGUMENT, "ae_model_train",
                    "options->lengths");
    /* Without lengths the _sequences calls work on any model (n * input size floats). */
    CHECK_OK(ae_model_encode_sequences(dense, sequences, NULL, N, N * T * F, 0, code, N * 4));
    free(before);
}

static void test_bad_tokens(ae_model *text, ae_model *lstm) {
    size_t count = 0;
    float *before = parameters_copy(text, &count);
    static int32_t bad[N * T], out[N * T];
    static float code[N * H];
    float scores[N];
    int32_t bad_lengths[N];
    ae_train_options options;
    ae_trainer *trainer = NULL;
    double loss = -7;
    const char *fn = "ae_model_train_tokens";

    memcpy(bad, tokens, sizeof bad);
    bad[2 * T + 1] = V;
    CHECK_OK(ae_train_options_init(&options, sizeof options));
    options.epochs = 1;
    EXPECT_FAIL_MSG(ae_model_train_tokens(text, bad, N, N * T, lengths, N, &options, NULL), AE_ERR_INVALID_ARGUMENT, fn, "tokens[13]");
    EXPECT_FAIL_MSG(ae_model_train_tokens(text, bad, N, N * T, lengths, N, &options, NULL), AE_ERR_INVALID_ARGUMENT, fn, "V = 7");
    bad[2 * T + 1] = -1;
    EXPECT_FAIL_MSG(ae_model_train_tokens(text, bad, N, N * T, lengths, N, &options, NULL), AE_ERR_INVALID_ARGUMENT, fn, "= -1");
    memcpy(bad_lengths, lengths, sizeof bad_lengths);
    bad_lengths[0] = 0;
    EXPECT_FAIL_MSG(ae_model_train_tokens(text, tokens, N, N * T, bad_lengths, N, &options, NULL), AE_ERR_INVALID_ARGUMENT, fn, "lengths[0] = 0");
    EXPECT_FAIL_MSG(ae_model_train_tokens(text, tokens, N, N * T, lengths, 2, &options, NULL), AE_ERR_INVALID_ARGUMENT, fn, "lengths_count");
    EXPECT_FAIL_MSG(ae_model_train_tokens(text, tokens, N, N * T + 1, lengths, N, &options, NULL), AE_ERR_SHAPE, fn, "count");
    EXPECT_FAIL_MSG(ae_model_train_tokens(text, NULL, N, N * T, lengths, N, &options, NULL), AE_ERR_INVALID_ARGUMENT, fn, "tokens");
    options.lengths = lengths;
    options.lengths_count = N;
    EXPECT_FAIL_MSG(ae_model_train_tokens(text, tokens, N, N * T, lengths, N, &options, NULL), AE_ERR_INVALID_ARGUMENT, fn, "options->lengths");
    CHECK_OK(ae_train_options_init(&options, sizeof options));

    fn = "ae_trainer_step_tokens";
    CHECK_OK(ae_trainer_create(text, 8, &trainer));
    bad[2 * T + 1] = 99;
    EXPECT_FAIL_MSG(ae_trainer_step_tokens(trainer, bad, lengths, 8, 8 * T, 8, &loss), AE_ERR_INVALID_ARGUMENT, fn, "tokens[13]");
    EXPECT_FAIL_MSG(ae_trainer_step_tokens(trainer, tokens, bad_lengths, 8, 8 * T, 8, &loss), AE_ERR_INVALID_ARGUMENT, fn, "lengths[0]");
    EXPECT_FAIL_MSG(ae_trainer_step_tokens(trainer, tokens, lengths, 8, 8 * T - 1, 8, &loss), AE_ERR_SHAPE, fn, "count");
    /* Float calls on a token model point to the token calls. */
    EXPECT_FAIL_MSG(ae_trainer_step(trainer, (const float *)(const void *)tokens, 8, 8 * T, &loss), AE_ERR_UNSUPPORTED,
                    "ae_trainer_step", "ae_trainer_step_tokens");
    ae_trainer_free(trainer);
    CHECK(loss == -7);

    EXPECT_FAIL_MSG(ae_model_encode_tokens(text, bad, lengths, N, N * T, N, code, N * H), AE_ERR_INVALID_ARGUMENT, "ae_model_encode_tokens", "tokens[13]");
    out[0] = 4242;
    EXPECT_FAIL_MSG(ae_model_reconstruct_tokens(text, bad, lengths, N, N * T, N, out, N * T), AE_ERR_INVALID_ARGUMENT, "ae_model_reconstruct_tokens", "tokens[13]");
    EXPECT_FAIL_MSG(ae_model_reconstruct_tokens(text, tokens, lengths, N, N * T, N, out, N * T - 1), AE_ERR_SHAPE, "ae_model_reconstruct_tokens", "out_count");
    CHECK(out[0] == 4242);
    EXPECT_FAIL_MSG(ae_model_score_tokens(text, tokens, bad_lengths, N, N * T, N, scores, N), AE_ERR_INVALID_ARGUMENT, "ae_model_score_tokens", "lengths[0]");
    EXPECT_FAIL_MSG(ae_model_decode_tokens(text, code, N, N * H + 1, out, N * T), AE_ERR_SHAPE, "ae_model_decode_tokens", "code_count");
    EXPECT_FAIL_MSG(ae_model_evaluate_tokens(text, bad, NULL, N, N * T, 0, &loss), AE_ERR_INVALID_ARGUMENT, "ae_model_evaluate_tokens", "tokens[13]");

    EXPECT_FAIL_MSG(ae_model_train(text, code, N, N * T, NULL, NULL), AE_ERR_UNSUPPORTED, "ae_model_train", "ae_model_train_tokens");
    EXPECT_FAIL_MSG(ae_model_encode(text, code, N, N * T, code, N * H), AE_ERR_UNSUPPORTED, "ae_model_encode", "ae_model_encode_tokens");
    EXPECT_FAIL_MSG(ae_model_score(text, code, N, N * T, scores, N), AE_ERR_UNSUPPORTED, "ae_model_score", "ae_model_score_tokens");
    EXPECT_FAIL_MSG(ae_model_reconstruct(text, code, N, N * T, code, N * T), AE_ERR_UNSUPPORTED, "ae_model_reconstruct", "token");
    EXPECT_FAIL_MSG(ae_model_encode_sequences(text, code, NULL, N, N * T, 0, code, N * H), AE_ERR_UNSUPPORTED,
                    "ae_model_encode_sequences", "ae_model_encode_tokens");
    EXPECT_FAIL_MSG(ae_model_evaluate(text, code, N, N * T, &loss), AE_ERR_UNSUPPORTED, "ae_model_evaluate", "ae_model_evaluate_tokens");
    {
        float offset[T] = {0}, scale[T] = {1, 1, 1, 1, 1, 1};
        EXPECT_FAIL_MSG(ae_model_set_input_scaling(text, offset, scale, T), AE_ERR_UNSUPPORTED, "ae_model_set_input_scaling", "token");
    }
    /* Token calls on a float model. */
    EXPECT_FAIL_MSG(ae_model_encode_tokens(lstm, tokens, NULL, N, N * T, 0, code, N * H), AE_ERR_UNSUPPORTED, "ae_model_encode_tokens", "floats");
    EXPECT_FAIL_MSG(ae_model_train_tokens(lstm, tokens, N, N * T, NULL, 0, NULL, NULL), AE_ERR_UNSUPPORTED, "ae_model_train_tokens", "floats");
    CHECK(unchanged(text, before, count));
    free(before);
}

static void test_bad_specs(void) {
    ae_model *model = NULL;
    EXPECT_FAIL_MSG(ae_model_create("{\"input_shape\": [6], \"encoder\": [{\"type\": \"embedding\", \"units\": 4},"
                                    " {\"type\": \"gru\", \"units\": 4, \"return\": \"last\"}],"
                                    " \"decoder\": [{\"type\": \"repeat\", \"steps\": 6}, {\"type\": \"time_distributed_dense\", \"units\": 7}],"
                                    " \"loss\": \"sequence_cross_entropy\"}", &model),
                    AE_ERR_INVALID_SPEC, "ae_model_create", "encoder[0].vocabulary");
    EXPECT_FAIL_MSG(ae_model_create("{\"input_shape\": [6], \"encoder\": [{\"type\": \"embedding\", \"vocabulary\": 7, \"units\": 4},"
                                    " {\"type\": \"gru\", \"units\": 4, \"return\": \"last\"}],"
                                    " \"decoder\": [{\"type\": \"repeat\", \"steps\": 6}, {\"type\": \"time_distributed_dense\", \"units\": 7}]}", &model),
                    AE_ERR_INVALID_SPEC, "ae_model_create", "sequence_cross_entropy");
    EXPECT_FAIL_MSG(ae_model_create("{\"input_shape\": [6, 3], \"encoder\": [{\"type\": \"lstm\", \"units\": 8, \"return\": \"last\", \"name\": \"code\"}],"
                                    " \"decoder\": [{\"type\": \"repeat\", \"steps\": 6},"
                                    " {\"type\": \"lstm\", \"units\": 5, \"initial_state\": \"code\"},"
                                    " {\"type\": \"time_distributed_dense\", \"units\": 3}]}", &model),
                    AE_ERR_INVALID_SPEC, "ae_model_create", "decoder[1].initial_state");
    CHECK(model == NULL);
}

int main(int argc, char **argv) {
    ae_model *lstm, *text, *dense;
    (void)argc;
    (void)argv;
    ae_set_num_threads(1);
    make_data();
    lstm = create(lstm_spec);
    text = create(text_spec);
    dense = create(dense_spec);
    if (!lstm || !text || !dense) return check_summary("sequences");
    test_queries(lstm, text, dense);
    test_bad_sequences(lstm, dense);
    test_bad_tokens(text, lstm);
    test_bad_specs();
    test_lstm_training(lstm);
    test_lstm_inference(lstm);
    test_text(text);
    test_seq2seq();
    ae_model_free(lstm);
    ae_model_free(text);
    ae_model_free(dense);
    return check_summary("sequences");
}
