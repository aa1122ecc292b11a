/* mpi_train: one autoencoder trained by N MPI processes (data parallelism), each on a shard of
 * every global batch; rank 0 saves the model. docs/DISTRIBUTED.md explains the rules.
 *
 *   mpirun -np 2 ./mpi_train --out model.ae
 *
 * A step on every rank: ae_trainer_compute_gradients on its rows of the global batch (the library
 * scales the gradient by rows / global rows), MPI_Allreduce(SUM) of the flat gradient buffer,
 * ae_trainer_set_gradients, ae_trainer_apply_gradients: every rank makes the same update, and
 * the model is the one a single process training on the whole batches would make (within float
 * rounding). Before the first step the ranks compare the model's fingerprint (a mismatch stops
 * every rank with a message) and take rank 0's parameters (MPI_Bcast).
 *
 * Options:  --workload demo|w1|w2  the model and its synthetic data (default demo: windows of 64
 *                                  sensor values, 64→32→8→32→64; w1 and w2 as in docs/BENCHMARKS.md)
 *           --epochs E             (default 5)        --batch B  global batch size (default 64)
 *           --samples S            samples (default 2048)          --threads T  per rank (default 1)
 *           --units U              the demo's code size (default 8)
 *           --out PATH             where rank 0 saves the model
 *           --fail-rank R          puts a NaN into rank R's data (shows how a failing rank stops all)
 *           --bench                waits at a barrier before each all-reduce, so that the all-reduce
 *                                  time is the transfer alone (the wait is printed apart)
 * Prints (rank 0) the loss of every epoch, then the time per step spent computing and all-reducing.
 * Exits 1 on every rank when any rank fails. */
#include <autoencoders.h>
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *DEMO_SPEC =
    "{\"input_size\": 64, \"seed\": 7,"
    " \"encoder\": [{\"type\": \"dense\", \"units\": 32, \"activation\": \"tanh\"},"
    "             {\"type\": \"dense\", \"units\": %d}],"
    " \"decoder\": [{\"type\": \"dense\", \"units\": 32, \"activation\": \"tanh\"}, {\"type\": \"dense\", \"units\": 64}],"
    " \"optimizer\": {\"type\": \"adam\", \"lr\": 0.003}}";

static const char *W1_SPEC =
    "{\"input_size\": 784,"
    " \"encoder\": [{\"type\": \"dense\", \"units\": 512, \"activation\": \"relu\"},"
    "             {\"type\": \"dense\", \"units\": 128, \"activation\": \"relu\"},"
    "             {\"type\": \"dense\", \"units\": 32, \"activation\": \"relu\"}],"
    " \"decoder\": [{\"type\": \"dense\", \"units\": 128, \"activation\": \"relu\"},"
    "             {\"type\": \"dense\", \"units\": 512, \"activation\": \"relu\"},"
    "             {\"type\": \"dense\", \"units\": 784, \"activation\": \"sigmoid\"}],"
    " \"loss\": \"bce\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.001}, \"init\": \"pytorch\"}";

static const char *W2_SPEC =
    "{\"input_shape\": [1, 28, 28],"
    " \"encoder\": [{\"type\": \"conv2d\", \"filters\": 16, \"kernel\": 3, \"padding\": 1, \"activation\": \"relu\"},"
    "             {\"type\": \"max_pool2d\", \"kernel\": 2},"
    "             {\"type\": \"conv2d\", \"filters\": 32, \"kernel\": 3, \"padding\": 1, \"activation\": \"relu\"},"
    "             {\"type\": \"max_pool2d\", \"kernel\": 2}],"
    " \"decoder\": [{\"type\": \"conv_transpose2d\", \"filters\": 16, \"kernel\": 3, \"stride\": 2, \"padding\": 1,"
    "               \"output_padding\": 1, \"activation\": \"relu\"},"
    "             {\"type\": \"conv_transpose2d\", \"filters\": 1, \"kernel\": 3, \"stride\": 2, \"padding\": 1,"
    "               \"output_padding\": 1, \"activation\": \"sigmoid\"}],"
    " \"loss\": \"bce\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.001}, \"init\": \"pytorch\"}";

static int rank = 0, ranks = 1;

static double now(void) { return MPI_Wtime(); }

/* Prints the library's message and stops this rank alone: only for what fails before the ranks
 * start exchanging (every rank then fails the same way, or the collective below catches it). */
static void die(const char *what) {
    fprintf(stderr, "rank %d: %s: %s\n", rank, what, ae_last_error());
    MPI_Abort(MPI_COMM_WORLD, 1);
    exit(1);
}

/* Whether every rank succeeded; a rank that failed says why first. Every rank calls it at the
 * same points, so no rank waits for one that has stopped. */
static int all_ok(int ok, const char *what) {
    int everyone = 0;
    if (!ok) fprintf(stderr, "rank %d: %s: %s\n", rank, what, ae_last_error());
    MPI_Allreduce(&ok, &everyone, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!everyone && rank == 0) fprintf(stderr, "mpi_train: a rank failed (%s); every rank stops\n", what);
    return everyone;
}

int main(int argc, char **argv) {
    const char *workload = "demo", *out = NULL;
    size_t epochs = 5, batch = 64, samples = 2048, features, i, j, b;
    int threads = 1, units = 8, fail_rank = -1, status = 1, bench = 0;
    char spec[2048];
    uint64_t fingerprint, lowest, highest;
    size_t parameters = 0, gradients = 0;
    float *data = NULL, *values = NULL, *grad = NULL;
    ae_model *model = NULL;
    ae_trainer *trainer = NULL;
    double compute = 0, wait = 0, reduce = 0, apply = 0, start;
    size_t steps = 0;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    for (i = 1; i < (size_t)argc; i += 2) {
        if (!strcmp(argv[i], "--bench")) { bench = 1; i--; continue; }
        if (i + 1 >= (size_t)argc) { if (rank == 0) fprintf(stderr, "mpi_train: %s needs a value\n", argv[i]); MPI_Finalize(); return 2; }
        if (!strcmp(argv[i], "--workload")) workload = argv[i + 1];
        else if (!strcmp(argv[i], "--epochs")) epochs = (size_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--batch")) batch = (size_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--samples")) samples = (size_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--units")) units = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--out")) out = argv[i + 1];
        else if (!strcmp(argv[i], "--fail-rank")) fail_rank = atoi(argv[i + 1]);
        else { if (rank == 0) fprintf(stderr, "mpi_train: unknown option %s\n", argv[i]); MPI_Finalize(); return 2; }
    }
    if (batch < (size_t)ranks || samples < batch) {
        if (rank == 0) fprintf(stderr, "mpi_train: need ranks <= batch <= samples\n");
        MPI_Finalize();
        return 2;
    }
    /* One thread per rank unless asked: ranks, not threads, use the cores. */
    if (ae_set_num_threads(threads) != AE_OK) die("threads");
    if (!strcmp(workload, "w1")) snprintf(spec, sizeof spec, "%s", W1_SPEC);
    else if (!strcmp(workload, "w2")) snprintf(spec, sizeof spec, "%s", W2_SPEC);
    else snprintf(spec, sizeof spec, DEMO_SPEC, units);

    /* The model, the same on every rank: compare fingerprints, then take rank 0's parameters. */
    if (!all_ok(ae_model_create(spec, &model) == AE_OK, "ae_model_create")) goto done;
    ae_model_fingerprint(model, &fingerprint);
    MPI_Allreduce(&fingerprint, &lowest, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&fingerprint, &highest, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
    if (lowest != highest) {
        fprintf(stderr, "rank %d: the ranks hold different models (fingerprint %016llx here; %016llx to %016llx across "
                        "ranks): give every rank the same spec\n", rank, (unsigned long long)fingerprint,
                (unsigned long long)lowest, (unsigned long long)highest);
        goto done;
    }
    ae_model_parameter_count(model, &parameters);
    ae_model_input_size(model, &features);
    values = malloc(sizeof(float) * parameters);
    if (!all_ok(values != NULL, "allocating the parameters")) goto done;
    if (rank == 0) ae_model_get_parameters(model, values, parameters);
    MPI_Bcast(values, (int)parameters, MPI_FLOAT, 0, MPI_COMM_WORLD);
    if (!all_ok(ae_model_set_parameters(model, values, parameters) == AE_OK, "ae_model_set_parameters")) goto done;

    /* The data: every rank makes the same synthetic set and reads its rows of each batch. */
    data = malloc(sizeof(float) * samples * features);
    if (!all_ok(data != NULL, "allocating the data")) goto done;
    srand(11);
    for (i = 0; i < samples; i++) {
        float phase = (float)rand() / RAND_MAX * 6.28f, rate = 0.05f + 0.2f * (float)rand() / RAND_MAX;
        for (j = 0; j < features; j++) {
            float wave = sinf(phase + rate * (float)j) + 0.05f * ((float)rand() / RAND_MAX - 0.5f);
            data[i * features + j] = strcmp(workload, "demo") ? 0.5f + 0.45f * wave : wave;
        }
    }
    if (rank == fail_rank) data[batch * (size_t)rank / (size_t)ranks * features + 1] = NAN; /* in its first batch */

    if (!all_ok(ae_trainer_create(model, (batch + ranks - 1) / ranks, &trainer) == AE_OK, "ae_trainer_create")) goto done;
    ae_trainer_gradient_count(trainer, &gradients);
    grad = malloc(sizeof(float) * gradients);
    if (!all_ok(grad != NULL, "allocating the gradient")) goto done;

    for (size_t epoch = 0; epoch < epochs; epoch++) {
        double total[2] = {0, 0};  /* the epoch's loss summed over batches, weighted by rows; and the rows */
        for (b = 0; b + batch <= samples; b += batch) {
            /* This rank's rows of the global batch [b, b + batch). */
            size_t first = batch * (size_t)rank / (size_t)ranks, end = batch * (size_t)(rank + 1) / (size_t)ranks;
            double loss = 0, sum = 0;
            start = now();
            int ok = ae_trainer_compute_gradients(trainer, data + (b + first) * features, end - first,
                                                  (end - first) * features, first, batch, &loss) == AE_OK &&
                     ae_trainer_get_gradients(trainer, grad, gradients) == AE_OK;
            compute += now() - start;
            if (!all_ok(ok, "ae_trainer_compute_gradients")) goto done;
            if (bench) {
                start = now();
                MPI_Barrier(MPI_COMM_WORLD);
                wait += now() - start;
            }
            start = now();
            MPI_Allreduce(MPI_IN_PLACE, grad, (int)gradients, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            MPI_Allreduce(&loss, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
            reduce += now() - start;
            start = now();
            ok = ae_trainer_set_gradients(trainer, grad, gradients) == AE_OK && ae_trainer_apply_gradients(trainer) == AE_OK;
            apply += now() - start;
            if (!all_ok(ok, "ae_trainer_apply_gradients")) goto done;
            total[0] += sum * (double)batch;
            total[1] += (double)batch;
            steps++;
        }
        if (rank == 0) printf("epoch %zu loss %.9g\n", epoch + 1, total[0] / total[1]);
    }
    if (rank == 0) {
        printf("ranks %d threads %d: %.3f ms compute, %.3f ms waiting, %.3f ms all-reduce (%zu floats), %.3f ms apply "
               "per step; %.0f samples/s\n", ranks, threads, 1e3 * compute / (double)steps, 1e3 * wait / (double)steps,
               1e3 * reduce / (double)steps, gradients, 1e3 * apply / (double)steps,
               (double)(steps * batch) / (compute + wait + reduce + apply));
        if (out && ae_model_save(model, out, 1) != AE_OK) die("ae_model_save");
        if (out) printf("saved %s\n", out);
    }
    status = 0;
done:
    free(data);
    free(values);
    free(grad);
    ae_trainer_free(trainer);
    ae_model_free(model);
    MPI_Finalize();
    return status;
}
