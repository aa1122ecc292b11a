/*
 * anomaly_detection: the embedded use case. A sensor delivers windows of 64 readings of a
 * periodic signal; an autoencoder trained on normal windows reconstructs them well, and a window
 * it cannot reconstruct (a spike, a flat line, a shifted segment) is flagged.
 *
 * Training: 3,000 normal windows. Threshold: the 99th percentile of the training scores.
 * Test: 1,000 windows, 10% of them with an injected fault.
 */
#include <autoencoders.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 64
#define TRAIN 3000
#define TEST 1000

static const char *SPEC =
    "{\"name\": \"sensor-window\", \"input_size\": 64,"
    " \"encoder\": [{\"type\": \"dense\", \"units\": 32, \"activation\": \"tanh\"},"
    "             {\"type\": \"dense\", \"units\": 6, \"activation\": \"tanh\"}],"
    " \"decoder\": [{\"type\": \"dense\", \"units\": 32, \"activation\": \"tanh\"},"
    "             {\"type\": \"dense\", \"units\": 64}],"
    " \"loss\": \"mse\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.003},"
    " \"schedule\": {\"type\": \"cosine\", \"t_max\": 40}, \"seed\": 3}";

static double uniform(unsigned long long *state) {
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*state >> 11) / 9007199254740992.0;
}

/* A window of a two-tone periodic signal with random phase, amplitude and noise; with `fault`,
 * one of three faults is injected. */
static void window(float *x, int fault, unsigned long long *state) {
    double phase = 6.283185307 * uniform(state), amplitude = 0.8 + 0.4 * uniform(state);
    for (int t = 0; t < WINDOW; t++)
        x[t] = (float)(amplitude * sin(phase + 0.3 * t) + 0.3 * sin(2 * phase + 0.9 * t) + 0.05 * (uniform(state) - 0.5));
    int at = (int)(uniform(state) * (WINDOW - 16));
    switch (fault) {
    case 1: x[at] += 2.5f; break;                                               /* spike */
    case 2: for (int t = at; t < at + 16; t++) x[t] = x[at]; break;             /* flat line */
    case 3: for (int t = at; t < at + 16; t++) x[t] += 0.8f; break;             /* shifted segment */
    default: break;
    }
}

static int compare(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

int main(void) {
    static float train[TRAIN * WINDOW], test[TEST * WINDOW], scores[TRAIN];
    static int faulty[TEST];
    unsigned long long state = 42;
    for (int i = 0; i < TRAIN; i++) window(train + i * WINDOW, 0, &state);
    for (int i = 0; i < TEST; i++) {
        faulty[i] = uniform(&state) < 0.1 ? 1 + (int)(uniform(&state) * 3) : 0;
        window(test + i * WINDOW, faulty[i], &state);
    }

    ae_model *model = NULL;
    ae_train_options options;
    ae_train_options_init(&options, sizeof options);
    options.epochs = 40;
    options.batch_size = 64;
    if (ae_model_create(SPEC, &model) != AE_OK || ae_model_train(model, train, TRAIN, sizeof train / sizeof *train, &options, NULL) != AE_OK
        || ae_model_score(model, train, TRAIN, sizeof train / sizeof *train, scores, TRAIN) != AE_OK) {
        fprintf(stderr, "anomaly_detection: %s\n", ae_last_error());
        ae_model_free(model);
        return 1;
    }
    qsort(scores, TRAIN, sizeof *scores, compare);
    float threshold = scores[(int)(0.99 * TRAIN)];

    static float test_scores[TEST];
    ae_model_score(model, test, TEST, sizeof test / sizeof *test, test_scores, TEST);
    int true_positive = 0, false_positive = 0, faults = 0, caught[4] = {0}, total[4] = {0};
    for (int i = 0; i < TEST; i++) {
        int flagged = test_scores[i] > threshold;
        faults += faulty[i] != 0;
        total[faulty[i]]++;
        caught[faulty[i]] += flagged;
        true_positive += flagged && faulty[i];
        false_positive += flagged && !faulty[i];
    }
    printf("threshold (99th percentile of training scores): %.5f\n", threshold);
    printf("faulty windows flagged: %d of %d (spikes %d/%d, flat lines %d/%d, shifts %d/%d)\n", true_positive, faults,
           caught[1], total[1], caught[2], total[2], caught[3], total[3]);
    printf("normal windows flagged: %d of %d\n", false_positive, TEST - faults);
    ae_model_free(model);
    return 0;
}
