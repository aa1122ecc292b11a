/*
 * autoencoders.h: the C interface of libautoencoders, an embeddable runtime for creating,
 * training, saving and running autoencoders.
 *
 * Conventions that hold for every function below:
 *
 *  - Errors. Every fallible function returns an ae_status; AE_OK (0) means success. On failure,
 *    ae_last_error() returns a message naming the argument and what was expected, and nothing
 *    the function was asked to change has changed (a model keeps its last good weights, an
 *    existing file is not touched, output pointers are left alone).
 *  - Ownership. Handles come from a _create or _load function and are released by the matching
 *    _free function, which accepts NULL. Memory the library returns is released with ae_free()
 *    when the function says so, and is otherwise owned by the handle it came from.
 *  - Buffers. Arrays are float32, row-major, sample-major: a batch of n samples of a model whose
 *    input size is d is n*d floats. Each buffer argument comes with its element count, which
 *    the library checks against the model's shapes before touching memory.
 *  - Data. Inputs are raw data: a model applies the input scaling it carries (if any) itself.
 *    NaN or infinite inputs are rejected with AE_ERR_NUMERIC.
 *  - Threads. Any number of threads may run inference (encode, decode, reconstruct, score,
 *    queries) on one model at once. Calls that change a model (training, trainer steps, setting
 *    parameters or scaling) are serialised per model: a second one waits for the first. Inference
 *    may run while the model trains: it waits for the batch in progress and sees the weights as
 *    that batch left them. ae_set_num_threads must be called while no other thread is inside the
 *    library (OpenBLAS cannot change its thread count during a computation). ae_model_free must
 *    not race with other calls on the same model. Different models are independent.
 *  - No input can crash the host: invalid handles aside (a freed or foreign pointer cannot be
 *    detected), every argument is checked and reported through ae_status.
 *
 * The model spec is a JSON document (docs/SPEC.md, schema in docs/spec.schema.json). The model
 * file is a safetensors file (docs/FILE_FORMAT.md) readable by any safetensors reader.
 */
#ifndef AUTOENCODERS_H
#define AUTOENCODERS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define AE_API __attribute__((visibility("default")))
#else
#define AE_API
#endif

/* ==== Versions ============================================================================== */

#define AE_VERSION_MAJOR 0
#define AE_VERSION_MINOR 1
#define AE_VERSION_PATCH 0

/* The library's version at run time, e.g. "0.1.0". Static storage; never NULL. */
AE_API const char *ae_version_string(void);
/* The run-time version numbers. A program built against header X.Y works with a library X.Z, Z >= Y. */
AE_API int ae_version_major(void);
AE_API int ae_version_minor(void);
AE_API int ae_version_patch(void);

/* ==== Errors ================================================================================ */

typedef enum ae_status {
    AE_OK = 0,
    AE_ERR_INVALID_ARGUMENT = 1, /* a NULL pointer, a value out of range, malformed options */
    AE_ERR_SHAPE = 2,            /* a buffer's element count does not match the model's shapes */
    AE_ERR_INVALID_SPEC = 3,     /* the JSON spec is malformed; the message names its JSON path */
    AE_ERR_IO = 4,               /* a file could not be opened, read, written or renamed */
    AE_ERR_FORMAT = 5,           /* a model file is truncated, corrupted or of a newer format */
    AE_ERR_NUMERIC = 6,          /* NaN or infinite data, or a training run that diverged */
    AE_ERR_UNSUPPORTED = 7,      /* the operation does not apply to this model */
    AE_ERR_OUT_OF_MEMORY = 8,    /* an allocation failed or a size overflowed */
    AE_ERR_INTERNAL = 9          /* a bug in the library; please report it with the message */
} ae_status;

/* A short, static name of a status ("AE_ERR_SHAPE"); "AE_UNKNOWN_STATUS" for other values. */
AE_API const char *ae_status_string(ae_status status);

/* The message of the last failed call on this thread, or "" if none failed yet. The string is
 * owned by the library and stays valid until the next failing call on the same thread. */
AE_API const char *ae_last_error(void);

/* Releases memory the library returned (ae_model_save_to_memory). Accepts NULL. */
AE_API void ae_free(void *pointer);

/* ==== Threads =============================================================================== */

/* Sets the number of threads the library computes with, process-wide. 1 <= threads <= 1024. Dense
 * and recurrent layers use them through OpenBLAS; convolutional layers (and the pooling,
 * activation and normalisation layers around them) split a batch into that many parts of
 * samples, run on the library's own helper threads (started on first use, at most 63). Same
 * seed and same thread count give bit-identical training. */
AE_API ae_status ae_set_num_threads(int threads);
/* The current thread count, or 0 if unknown. */
AE_API int ae_get_num_threads(void);

/* ==== GEMM kernels ========================================================================== */
/* Matrix products run on the library's own packed micro-kernels for AVX-512F ("avx512") or
 * AVX2 + FMA ("avx2"), chosen at load time from what the CPU reports (CPUID) and what the OS
 * saves (XGETBV), or on OpenBLAS's cblas_sgemm ("openblas"). OpenBLAS's own settings
 * (OPENBLAS_CORETYPE, OPENBLAS_NUM_THREADS) apply to its calls only; the environment variable
 * AE_GEMM=auto|avx512|avx2|openblas chooses the kernel at load time (a kernel this CPU or OS
 * cannot run is refused: a line on stderr gives the reason and the automatic choice is used).
 * The library's kernels use the thread count of ae_set_num_threads. Results agree within float
 * rounding whatever the kernel; for one kernel they are bit-identical across thread counts. */

/* The kernel in use: "avx512", "avx2" or "openblas". Static storage; never NULL. */
AE_API const char *ae_gemm_kernel_name(void);

/* One line on the kernel in use: its name and micro-tile, how it was chosen (automatically,
 * AE_GEMM, ae_set_gemm_kernel), OpenBLAS's version, configuration, core and OPENBLAS_CORETYPE,
 * and the instruction sets of inference, of training's element-wise passes (the optimizer, the
 * sigmoid + cross-entropy, ReLU) and of the LSTM cell, always the widest this CPU and OS run.
 * A static buffer rewritten by each call (copy it before calling again from another thread);
 * never NULL. */
AE_API const char *ae_gemm_kernel_description(void);

/* Selects the kernel, process-wide, for the calls that start afterwards: "auto", "avx512", "avx2"
 * or "openblas". Errors: AE_ERR_INVALID_ARGUMENT (name NULL or unknown), AE_ERR_UNSUPPORTED (the
 * CPU or the OS lacks what the kernel needs, e.g. "the avx512 kernel cannot run here: this CPU
 * lacks AVX-512F (CPUID leaf 7, EBX bit 16)"); the kernel in use is then unchanged. */
AE_API ae_status ae_set_gemm_kernel(const char *name);

/* ==== Models ================================================================================ */

typedef struct ae_model ae_model;

/* Builds a model from a JSON spec (UTF-8, NUL-terminated) with freshly initialised parameters
 * drawn from the spec's seed.
 *   spec_json  the spec; see docs/SPEC.md. Example:
 *              {"input_size": 100,
 *               "encoder": [{"type": "dense", "units": 50, "activation": "relu"},
 *                           {"type": "dense", "units": 10, "activation": "relu"}],
 *               "decoder": [{"type": "dense", "units": 50, "activation": "relu"},
 *                           {"type": "dense", "units": 100, "activation": "sigmoid"}],
 *               "loss": "bce", "optimizer": {"type": "adam", "lr": 0.001}}
 *   out        receives the new model; free it with ae_model_free.
 * Errors: AE_ERR_INVALID_ARGUMENT (NULL), AE_ERR_INVALID_SPEC (with the JSON path). */
AE_API ae_status ae_model_create(const char *spec_json, ae_model **out);

/* Loads a model file written by ae_model_save (any binding). Only a regular file is read: a
 * directory, FIFO, device or socket is refused at once, without waiting. The header is read
 * first; every size in it is bounded by the file's size, and the stored spec's parameter tensors
 * are compared with the file's tensor table before the model is built, so a file cannot make the
 * library allocate much more than the file holds. The checksum (which covers the data, the tensor
 * table and the metadata), every parameter (finite), the optimizer state (finite; non-negative
 * running squares) and the training state are verified before the model is returned. Files of
 * model-file format 1 (library 0.1) still load. The checksum detects accidental corruption only:
 * to refuse files that someone may have changed on purpose, use ae_model_load_verified.
 * Errors: AE_ERR_INVALID_ARGUMENT (NULL, empty path), AE_ERR_IO (cannot open/read, not a regular
 * file), AE_ERR_FORMAT (not a model file, truncated, corrupted, invalid values, newer format
 * version), AE_ERR_OUT_OF_MEMORY (the model does not fit in memory). */
AE_API ae_status ae_model_load(const char *path, ae_model **out);

/* Loads a model from the bytes of a model file in memory (size bytes at data). The bytes are read
 * in place, not copied as a whole, and not kept: the caller keeps ownership of data and may free
 * it when the call returns. Errors as ae_model_load. */
AE_API ae_status ae_model_load_from_memory(const void *data, size_t size, ae_model **out);

/* Saves the model (spec, parameters, input scaling, training state and, if
 * include_optimizer_state is non-zero, the optimizer state so training resumes exactly).
 * Atomic: the tensors are streamed to a temporary file ".aem-..." in the same folder (its name
 * is short, so any valid file name can be saved), which is flushed (fsync) and renamed over path;
 * then the folder is flushed. A failure or crash never leaves a half-written file in place of
 * the old one. Only a regular file (or nothing) at path is replaced: a directory, FIFO, device,
 * socket or symbolic link there is an error, and is left as it is. Temporary files that killed
 * saves of the same path left behind are removed (docs/FILE_FORMAT.md says when).
 * Errors: AE_ERR_INVALID_ARGUMENT (NULL, empty path), AE_ERR_IO (cannot write, or path is not a
 * regular file). */
AE_API ae_status ae_model_save(const ae_model *model, const char *path, int include_optimizer_state);

/* The model-file bytes in memory. *data receives a buffer of *size bytes that the caller
 * releases with ae_free. The buffer is allocated once, at its final size; when that fails the
 * result is AE_ERR_OUT_OF_MEMORY and *data and *size are left alone. */
AE_API ae_status ae_model_save_to_memory(const ae_model *model, int include_optimizer_state,
                                         void **data, size_t *size);

/* ---- Signed model files (for files from untrusted places) -------------------------------------
 * A signed file carries an HMAC-SHA256 of its data, tensor table and metadata under a secret key
 * that the caller supplies (key_len bytes at key, 1 to 65536; 32 random bytes are recommended).
 * Loading with the key refuses any file that was not signed with that same key, or that changed
 * after signing, before the model is returned. The key is copied for the call and not kept; the
 * caller keeps ownership. A signed file is an ordinary model file: ae_model_load reads it too
 * (checking only its checksum). Keep the key secret: whoever has it can sign files.
 * Errors: as the unsigned functions, and AE_ERR_INVALID_ARGUMENT (key NULL, key_len 0 or above
 * 65536); the _verified loads return AE_ERR_FORMAT for a file that is unsigned, of format 1, or
 * whose signature does not match ("signature mismatch"). */
AE_API ae_status ae_model_save_signed(const ae_model *model, const char *path, int include_optimizer_state,
                                      const void *key, size_t key_len);
AE_API ae_status ae_model_save_to_memory_signed(const ae_model *model, int include_optimizer_state,
                                                const void *key, size_t key_len,
                                                void **data, size_t *size);
AE_API ae_status ae_model_load_verified(const char *path, const void *key, size_t key_len, ae_model **out);
AE_API ae_status ae_model_load_from_memory_verified(const void *data, size_t size,
                                                    const void *key, size_t key_len, ae_model **out);

/* Frees a model and everything it owns. Accepts NULL. */
AE_API void ae_model_free(ae_model *model);

/* ==== Shapes and spec ======================================================================= */

/* Elements per sample of the input (and of the reconstruction). */
AE_API ae_status ae_model_input_size(const ae_model *model, size_t *out);
/* Elements per sample of the code (the bottleneck). */
AE_API ae_status ae_model_code_size(const ae_model *model, size_t *out);
/* The per-sample input shape: *rank receives the number of dimensions (1 for dense models,
 * 3 for C×H×W images), and up to `capacity` dimensions are written to dims (may be NULL when
 * capacity is 0). */
AE_API ae_status ae_model_input_shape(const ae_model *model, size_t *dims, size_t capacity, size_t *rank);
/* Number of float parameters in the model. */
AE_API ae_status ae_model_parameter_count(const ae_model *model, size_t *out);
/* Classes of a segmentation model (0 for a model that reconstructs its input). */
AE_API ae_status ae_model_class_count(const ae_model *model, size_t *out);
/* Training targets per sample: the positions of a segmentation model (H*W, or L), 1 for an
 * adversarial autoencoder with a supervised prior (the component of each sample), else the input
 * size. */
AE_API ae_status ae_model_label_size(const ae_model *model, size_t *out);
/* Non-zero if ae_model_decode works for this model (it does not when the decoder reads encoder
 * feature maps besides the code, as in U-Net or SegNet). */
AE_API ae_status ae_model_can_decode(const ae_model *model, int *out);
/* The spec the model was built from, as JSON text. *out points into the model and stays valid
 * until the model is freed. */
AE_API ae_status ae_model_spec(const ae_model *model, const char **out);
/* Epochs trained so far (it carries over through save and load). */
AE_API ae_status ae_model_epochs_completed(const ae_model *model, size_t *out);

/* ==== Parameters ============================================================================ */

/* The number of named parameter tensors ("encoder.0.weight", "encoder.0.bias", ...). */
AE_API ae_status ae_model_tensor_count(const ae_model *model, size_t *out);
/* Describes tensor `index` (0 <= index < tensor count): its name (owned by the model, valid until
 * it is freed), its rank and up to `capacity` dimensions, and its element count. Any of name,
 * dims, rank, count may be NULL if not wanted. Weights use PyTorch's layout: dense [out, in]. */
AE_API ae_status ae_model_tensor_info(const ae_model *model, size_t index, const char **name,
                                      size_t *dims, size_t capacity, size_t *rank, size_t *count);
/* Copies the named tensor into values, which holds exactly `count` floats (its element count). */
AE_API ae_status ae_model_get_parameter(const ae_model *model, const char *name, float *values, size_t count);
/* Replaces the named tensor with `count` finite floats (its element count). */
AE_API ae_status ae_model_set_parameter(ae_model *model, const char *name, const float *values, size_t count);

/* ==== Input scaling ========================================================================= */

/* Sets the per-feature scaling the model applies to raw inputs: x' = (x - offset) / scale, and
 * undoes on its reconstructions. offset and scale hold `features` (= input size) floats each;
 * scale values must be non-zero. Passing NULL for both (features 0) removes the scaling. */
AE_API ae_status ae_model_set_input_scaling(ae_model *model, const float *offset, const float *scale, size_t features);

typedef enum ae_scaling_kind {
    AE_SCALING_STANDARDIZE = 0, /* offset = mean, scale = standard deviation */
    AE_SCALING_MINMAX = 1       /* offset = min, scale = max - min: features in [0, 1] */
} ae_scaling_kind;

/* Fits the input scaling to n samples of data (n * input size floats, `count` elements) and
 * sets it. Constant features get scale 1. */
AE_API ae_status ae_model_fit_input_scaling(ae_model *model, ae_scaling_kind kind, const float *data, size_t n, size_t count);

/* Reads the scaling into offset and scale (`features` floats each). *has_scaling receives 0
 * when the model has none (the buffers are then untouched). offset and scale may both be NULL
 * when features is 0, to ask only whether the model has a scaling. */
AE_API ae_status ae_model_get_input_scaling(const ae_model *model, float *offset, float *scale, size_t features, int *has_scaling);

/* ==== Training ============================================================================== */

/* What the progress callback receives. */
typedef struct ae_progress {
    size_t struct_size;      /* sizeof(ae_progress) of the library that filled it */
    size_t epoch;            /* 0-based epoch of this run */
    size_t epochs;           /* epochs asked for */
    size_t batch;            /* batches done in this epoch */
    size_t batches;          /* batches per epoch */
    double train_loss;       /* mean training objective so far this epoch */
    double validation_loss;  /* at an epoch end with validation data, else NaN */
    double learning_rate;    /* the learning rate of this epoch */
    double elapsed_seconds;  /* since training started */
    int is_epoch_end;        /* 1 for the report that closes an epoch, 0 within an epoch */
    double reconstruction_loss; /* the reconstruction term of train_loss (per sample for a VAE) */
    double kl_divergence;    /* a VAE's KL(q(z|x) || N(0, I)) per sample, unweighted; NaN otherwise.
                                The negative ELBO is reconstruction_loss + kl_divergence. */
    /* Added with adversarial autoencoders (read them only when struct_size covers them): */
    double discriminator_loss; /* mean BCE of the discriminator phase (prior = 1, codes = 0); NaN
                                  for other models. About 2 ln 2 = 1.386 when it cannot tell them apart */
    double generator_loss;   /* mean BCE of the generator phase (codes against 1); NaN for other
                                models. About ln 2 = 0.693 at that equilibrium */
} ae_progress;

/* Called during training; return 0 to continue, non-zero to stop after this report (the model
 * keeps the weights it has then; an epoch stopped within does not count as completed, and no
 * further report follows). Runs on the training thread; it may call inference, query and
 * save functions on the same model, but not change it: training it, a trainer step on it, and
 * setting its parameters or input scaling fail there with AE_ERR_INVALID_ARGUMENT. */
typedef int (*ae_progress_fn)(const ae_progress *progress, void *user_data);

/* Options of ae_model_train. Always initialise with ae_train_options_init, then change fields:
 * struct_size lets a newer library accept an older caller's smaller struct. */
typedef struct ae_train_options {
    size_t struct_size;            /* set by ae_train_options_init */
    size_t epochs;                 /* default 10 */
    size_t batch_size;             /* default 32 */
    int shuffle;                   /* reshuffle every epoch (default 1), from the model's seeded generator */
    float validation_split;        /* hold out this fraction (the last samples) for validation; default 0 */
    const float *validation_data;  /* or explicit validation samples (overrides validation_split); default NULL */
    size_t validation_samples;     /* number of validation samples */
    size_t validation_count;       /* floats in validation_data: validation_samples * input size */
    size_t patience;               /* early stopping: epochs without improvement; 0 (default) disables */
    float min_delta;               /* least decrease that counts as improvement; default 0 */
    int restore_best_weights;      /* with early stopping, end on the best epoch's weights (default 1) */
    int report_batches;            /* also call progress after every batch (default 0: epochs only) */
    ae_progress_fn progress;       /* may be NULL */
    void *user_data;               /* passed to progress */
    const float *mask;             /* inpainting: 1 where an input is known, 0 where missing (n * input
                                      size values, like the data); the loss counts known inputs only and
                                      missing ones enter the network as zero. NULL: all known */
    size_t mask_count;             /* elements in mask: equal to the data's count, or 0 without a mask */
    /* Added with sequence models (see "Sequences" below); older callers' smaller structs mean no lengths: */
    const int32_t *lengths;        /* per-sample lengths of the training data, n values in 1..T; steps at and
                                      past a sample's length are padding. NULL (default): every sample fills
                                      T steps. With validation_split the held-out samples keep their lengths. */
    size_t lengths_count;          /* values in lengths: n, or 0 without lengths */
    const int32_t *validation_lengths; /* lengths of validation_data: validation_samples values, or NULL */
    size_t validation_lengths_count;   /* validation_samples, or 0 without validation lengths */
} ae_train_options;

/* Fills options with the defaults above and sets options->struct_size = struct_size. Pass
 * sizeof(ae_train_options): the library writes exactly struct_size bytes (defaults for the fields
 * it knows, zero beyond), so a library newer than the caller's header never writes past the
 * caller's struct.
 * Errors: AE_ERR_INVALID_ARGUMENT (options is NULL, or struct_size is neither the struct of
 * version 0.1 (without the lengths fields) nor at least the struct with them, or larger than 1 MiB). */
AE_API ae_status ae_train_options_init(ae_train_options *options, size_t struct_size);

typedef enum ae_stop_reason {
    AE_STOP_COMPLETED = 0,      /* all epochs ran */
    AE_STOP_EARLY_STOPPING = 1, /* no improvement for `patience` epochs */
    AE_STOP_CALLBACK = 2        /* the progress callback asked to stop */
} ae_stop_reason;

/* What ae_model_train reports. Initialise struct_size = sizeof(ae_train_report). */
typedef struct ae_train_report {
    size_t struct_size;
    size_t epochs_run;
    ae_stop_reason stop_reason;
    double final_train_loss;        /* mean objective of the last epoch */
    double final_validation_loss;   /* NaN without validation data */
    size_t best_epoch;              /* 0-based epoch with the best monitored loss */
    double best_loss;
    double seconds;
} ae_train_report;

/* Trains the model on n samples of raw data (`count` = n * input size floats) with the
 * optimizer, loss, regularizers and schedule of its spec. options may be NULL for defaults;
 * report may be NULL. Training continues from the model's state (epochs completed, optimizer
 * state), so calling it twice for 5 epochs equals calling it once for 10.
 * If the loss, a weight or the final outputs become NaN or infinite, AE_ERR_NUMERIC is returned
 * and the model is as before the call (weights, optimizer state, epochs, generator): a failed
 * call changes nothing.
 * A "bce" or "bce_with_logits" loss reads its targets, the data after the model's input scaling,
 * as probabilities: a value outside [0, 1] (e.g. 8-bit pixels not divided by 255) is
 * AE_ERR_INVALID_ARGUMENT, naming the element, before anything changes (also in
 * ae_model_evaluate and ae_trainer_step).
 * Errors: AE_ERR_INVALID_ARGUMENT, AE_ERR_SHAPE, AE_ERR_NUMERIC. */
AE_API ae_status ae_model_train(ae_model *model, const float *data, size_t n, size_t count,
                                const ae_train_options *options, ae_train_report *report);

/* ae_model_train for a segmentation model (spec "loss": "cross_entropy"), or for an adversarial
 * autoencoder with a supervised prior (one label per sample, its component in 0..components-1;
 * validation needs no labels). For a segmentation model labels holds, for each
 * sample, the class of every position (n * label size int32 values, labels_count of them; see
 * ae_model_label_size), or the spec's ignore_index (default -100) where a position is not
 * counted. Validation uses options->validation_split (explicit validation_data has no labels).
 * AE_ERR_INVALID_ARGUMENT for a label outside 0..classes-1 (the message gives its position), or
 * for a reconstruction model. */
AE_API ae_status ae_model_train_labels(ae_model *model, const float *data, size_t n, size_t count, const int32_t *labels,
                                       size_t labels_count, const ae_train_options *options, ae_train_report *report);

/* Writes the raw samples (before the model's input scaling) at indices[0..count-1], each in
 * 0..n-1, to rows: `count` rows of the model's input size, rows_count = count * input size floats.
 * Returns 0 when it has filled them; any other value stops training (see ae_model_train_source).
 * It runs on the training thread, outside the model's lock: it may call inference, query and
 * save functions on the same model, but not change it (as the progress callback). */
typedef int (*ae_sample_source_fn)(const size_t *indices, size_t count, float *rows, size_t rows_count,
                                   void *user_data);

/* ae_model_train on n samples that `source` produces on request instead of an array of floats:
 * data read from disk, decompressed, augmented, or kept in its own compact form (8-bit pixels
 * are a quarter of their floats), so that only a batch is ever held as floats. Every epoch asks
 * for each batch's samples, in the epoch's order (shuffled as ae_model_train shuffles), and with
 * options->validation_split for the last samples at the epoch's end (explicit validation_data is
 * in memory, as in ae_model_train). Given the same samples, the model trains bit for bit as with
 * ae_model_train. The samples are checked as they arrive: a non-finite value is AE_ERR_NUMERIC, a
 * BCE target outside [0, 1] AE_ERR_INVALID_ARGUMENT (each naming the sample's index), and a
 * source that returns non-zero AE_ERR_IO; in every failure the model is as before the call.
 * options->mask, lengths and validation_lengths must be NULL (every sample fills a sequence
 * model's whole time axis).
 * Errors: AE_ERR_INVALID_ARGUMENT (NULL model or source, n 0, a mask or lengths in options, a
 * segmentation model: use ae_model_train_labels), AE_ERR_UNSUPPORTED (a token model: use
 * ae_model_train_tokens), AE_ERR_IO, AE_ERR_NUMERIC, AE_ERR_OUT_OF_MEMORY, and those of
 * ae_model_train's options. */
AE_API ae_status ae_model_train_source(ae_model *model, size_t n, ae_sample_source_fn source, void *user_data,
                                       const ae_train_options *options, ae_train_report *report);

/* The mean objective (reconstruction loss + regularizers) of the model on n samples, without
 * training. AE_ERR_INVALID_ARGUMENT for BCE targets outside [0, 1], as in ae_model_train. */
AE_API ae_status ae_model_evaluate(const ae_model *model, const float *data, size_t n, size_t count, double *loss);

/* ae_model_evaluate for a segmentation model: the mean cross-entropy of n samples against their
 * labels (n * label size int32 values, labels_count of them), without training. */
AE_API ae_status ae_model_evaluate_labels(const ae_model *model, const float *data, size_t n, size_t count,
                                          const int32_t *labels, size_t labels_count, double *loss);

/* ---- Step-wise training ---- */

typedef struct ae_trainer ae_trainer;

/* A trainer that takes batches of up to batch_size samples from the caller. It keeps a
 * reference to the model, so the model lives until both are freed (in either order).
 * Errors: AE_ERR_INVALID_ARGUMENT (batch_size 0 or above 1048576), AE_ERR_OUT_OF_MEMORY (a
 * workspace of batch_size samples cannot be allocated). */
AE_API ae_status ae_trainer_create(ae_model *model, size_t batch_size, ae_trainer **out);
/* One optimisation step on n samples (1 <= n <= batch size, `count` = n * input size floats).
 * *loss (may be NULL) receives the objective on the batch before the update. A NaN loss, or an
 * update after which the batch's outputs are not finite (a learning rate far too large), returns
 * AE_ERR_NUMERIC with the step undone: weights, optimizer state, step count and generator as
 * before. BCE targets outside [0, 1] are AE_ERR_INVALID_ARGUMENT, as in ae_model_train. */
AE_API ae_status ae_trainer_step(ae_trainer *trainer, const float *batch, size_t n, size_t count, double *loss);
/* ae_trainer_step with a mask of the batch's shape: 1 where an input is known, 0 where it is
 * missing. The loss counts the known inputs only; missing ones enter the network as zero. */
AE_API ae_status ae_trainer_step_masked(ae_trainer *trainer, const float *batch, const float *mask, size_t n,
                                        size_t count, double *loss);
/* ae_trainer_step for a segmentation model: labels holds n * label size class indices. */
AE_API ae_status ae_trainer_step_labels(ae_trainer *trainer, const float *batch, const int32_t *labels, size_t n,
                                        size_t count, size_t labels_count, double *loss);
/* Sets the learning rate of the following steps (lr > 0). */
AE_API ae_status ae_trainer_set_learning_rate(ae_trainer *trainer, double learning_rate);
/* The learning rate the next step uses. */
AE_API ae_status ae_trainer_get_learning_rate(const ae_trainer *trainer, double *learning_rate);
/* Optimizer steps taken so far on this model. */
AE_API ae_status ae_trainer_step_count(const ae_trainer *trainer, size_t *out);
/* The losses of the trainer's last step (each pointer may be NULL): the reconstruction term and,
 * for an adversarial autoencoder, the discriminator and generator losses of its phases (NaN for
 * other models, and before the first step). */
AE_API ae_status ae_trainer_last_losses(const ae_trainer *trainer, double *reconstruction, double *discriminator,
                                        double *generator);
/* Frees the trainer (not the model). Accepts NULL. */
AE_API void ae_trainer_free(ae_trainer *trainer);

/* ==== Data-parallel training ============================================================== */
/* One model trained by N processes (MPI ranks, say), each holding the same model and a shard of
 * every global batch. A step is: ae_trainer_compute_gradients on each process's shard, a sum of
 * the gradient buffers over the processes (ae_trainer_get_gradients, e.g. MPI_Allreduce with
 * MPI_SUM, ae_trainer_set_gradients), then ae_trainer_apply_gradients on every process, which all
 * make the same update. Before the first step, compare ae_model_fingerprint across processes and
 * broadcast rank 0's parameters (ae_model_get_parameters / ae_model_set_parameters).
 *
 * Scaling: the gradient and the loss of a shard of n rows are multiplied by n / total_rows, so
 * their plain sums over the processes are those of the global batch, exactly for every term that
 * is a mean over samples (the reconstruction loss, a VAE's ELBO and KL, branch losses) and for
 * the weight penalty. Terms of the whole batch use the shard's own statistics, so differ from one
 * process on the whole batch: a sparsity KL on the batch-mean code, batch normalisation (running
 * statistics then differ per process; rank 0's are the ones it saves), and the count of known
 * values of a mask or of counted labels. A VAE draws for a shard the noise one process would draw
 * for those rows; denoising corruption and dropout draw from each process's generator as if the
 * shard were the whole batch. docs/DISTRIBUTED.md has the details. */

/* A 64-bit hash of the model's spec (as serialized) and parameter table: processes that train
 * together must agree on it before their first step. */
AE_API ae_status ae_model_fingerprint(const ae_model *model, uint64_t *out);
/* Copies the whole flat parameter buffer (count = ae_model_parameter_count: the trainable
 * parameters first, then non-trainable state such as batch norm's running statistics). */
AE_API ae_status ae_model_get_parameters(const ae_model *model, float *values, size_t count);
/* Replaces the whole flat parameter buffer with count = ae_model_parameter_count finite floats
 * (e.g. rank 0's, broadcast). AE_ERR_SHAPE_MISMATCH for another count, AE_ERR_NUMERIC for a NaN
 * or infinity; nothing changes then. Drops a gradient held by a trainer of the model. */
AE_API ae_status ae_model_set_parameters(ae_model *model, const float *values, size_t count);
/* The floats of the trainer's gradient buffer (the trainable parameters; at most the parameter
 * count). */
AE_API ae_status ae_trainer_gradient_count(const ae_trainer *trainer, size_t *out);
/* Computes, without updating anything, the gradient of n samples (1 <= n <= batch size, count =
 * n * input size floats) that are rows first_row .. first_row + n - 1 of a global batch of
 * total_rows rows (first_row + n <= total_rows); the trainer holds it, replacing any held before.
 * The held gradient and *loss (may be NULL) are scaled by n / total_rows (see above); with
 * first_row = 0 and total_rows = n they are the batch's own. A NaN loss is AE_ERR_NUMERIC and
 * holds no gradient; a failed call changes nothing. */
AE_API ae_status ae_trainer_compute_gradients(ae_trainer *trainer, const float *batch, size_t n, size_t count,
                                              size_t first_row, size_t total_rows, double *loss);
/* Copies the held gradient (count = ae_trainer_gradient_count floats) into values. */
AE_API ae_status ae_trainer_get_gradients(const ae_trainer *trainer, float *values, size_t count);
/* Replaces the held gradient with count = ae_trainer_gradient_count finite floats (the sum over
 * the processes). Another count is refused (AE_ERR_SHAPE_MISMATCH), a NaN or infinity too
 * (AE_ERR_NUMERIC); nothing changes then. */
AE_API ae_status ae_trainer_set_gradients(ae_trainer *trainer, const float *values, size_t count);
/* The optimizer's update with the held gradient, clipped first when the spec says so: the step
 * count and the optimizer's state advance as in ae_trainer_step, and the
 * gradient is consumed. AE_ERR_INVALID_ARGUMENT when no gradient is held; AE_ERR_NUMERIC when
 * the updated parameters are not finite (the update is undone, the gradient dropped). An
 * ae_trainer_step in between drops a held gradient. */
AE_API ae_status ae_trainer_apply_gradients(ae_trainer *trainer);

/* ==== Inference ============================================================================= */

/* code[n, code size] = encoder(x[n, input size]). input_count and code_count are the element
 * counts of the two buffers and must equal n * input size and n * code size. For all four
 * inference functions, n = 0 (with counts 0) does nothing and succeeds; pointers must not be NULL. */
AE_API ae_status ae_model_encode(const ae_model *model, const float *input, size_t n, size_t input_count,
                                 float *code, size_t code_count);
/* output[n, input size] = decoder(code[n, code size]), in data space (input scaling undone).
 * AE_ERR_UNSUPPORTED when the decoder needs encoder side information (ae_model_can_decode). */
AE_API ae_status ae_model_decode(const ae_model *model, const float *code, size_t n, size_t code_count,
                                 float *output, size_t output_count);
/* output[n, input size] = decoder(encoder(input)), in data space. */
AE_API ae_status ae_model_reconstruct(const ae_model *model, const float *input, size_t n, size_t input_count,
                                      float *output, size_t output_count);
/* scores[n]: each sample's reconstruction error, the mean over its features of the squared
 * difference between reconstruction and input (in the model's scaled space). Large scores flag
 * anomalies. scores_count must equal n. */
AE_API ae_status ae_model_score(const ae_model *model, const float *input, size_t n, size_t input_count,
                                float *scores, size_t scores_count);

/* Fills in missing inputs (inpainting). mask has the shape of input: 1 where an input is known,
 * 0 where it is missing (missing entries of input may hold any finite value). output receives the
 * known inputs unchanged and the model's reconstruction where inputs were missing. Train the model
 * with masking noise or with masks (ae_train_options.mask) for the best fills. */
AE_API ae_status ae_model_inpaint(const ae_model *model, const float *input, const float *mask, size_t n,
                                  size_t input_count, float *output, size_t output_count);

/* Segmentation models (spec "loss": "cross_entropy") output a logit per class at every input
 * position. labels[n, label size] receives the most likely class of each position.
 * labels_count must equal n * label size. AE_ERR_UNSUPPORTED for a reconstruction model (which
 * in turn refuses reconstruct, decode, score and inpaint on a segmentation model). */
AE_API ae_status ae_model_segment(const ae_model *model, const float *input, size_t n, size_t input_count,
                                  int32_t *labels, size_t labels_count);

/* ==== Adversarial autoencoders ============================================================ */

/* A spec with an "adversarial" section (docs/SPEC.md) is an adversarial autoencoder (Makhzani et
 * al. 2015): a discriminator network on the code and a prior (gaussian, uniform, or a mixture of
 * Gaussians). Every training step (ae_model_train, ae_trainer_step) runs three phases on its
 * batch, each with its own optimizer: reconstruction (encoder and decoder), discriminator (only
 * the discriminator: prior samples labelled 1, codes 0) and generator (only the encoder: codes
 * against 1). Their losses reach the progress callback (ae_progress.discriminator_loss and
 * generator_loss) and ae_trainer_last_losses. With the supervised mixture prior
 * ("supervised": true) each sample's label picks its component: train with
 * ae_model_train_labels / ae_trainer_step_labels, one int32 label per sample in
 * 0..components-1 (ae_model_label_size is 1). ae_model_generate decodes samples of the prior.
 * Data-parallel training of these models is AE_ERR_UNSUPPORTED. */

/* *out = 1 for an adversarial autoencoder, else 0. */
AE_API ae_status ae_model_is_adversarial(const ae_model *model, int *out);
/* *out = the prior's mixture components (0 without a mixture prior); *supervised (may be NULL)
 * = 1 when training takes a label per sample. */
AE_API ae_status ae_model_prior_components(const ae_model *model, size_t *out, int *supervised);
/* codes[n, code size] drawn from the model's prior by a generator seeded with `seed` (the
 * model's own generator is not used). labels (n values, labels_count = n; or NULL with 0) pick
 * each sample's mixture component; without them components are drawn uniformly. Decode the codes
 * (ae_model_decode) to generate data. AE_ERR_UNSUPPORTED for a model without a prior;
 * AE_ERR_INVALID_ARGUMENT for labels with a prior that is not a mixture, or a label outside
 * 0..components-1. */
AE_API ae_status ae_model_sample_prior(const ae_model *model, size_t n, uint64_t seed, const int32_t *labels,
                                       size_t labels_count, float *codes, size_t codes_count);
/* The discriminator's accuracy on the codes of n samples (classified as codes) and n prior
 * samples (classified as prior; drawn by a generator seeded with `seed`), in inference mode:
 * about 0.5 when it cannot tell the codes' distribution from the prior. labels (n values, or
 * NULL with 0) as for training with the supervised prior. AE_ERR_UNSUPPORTED for a model
 * without a discriminator. */
AE_API ae_status ae_model_discriminator_accuracy(const ae_model *model, const float *data, size_t n, size_t count,
                                                 const int32_t *labels, size_t labels_count, uint64_t seed,
                                                 double *accuracy);

/* ==== Variational autoencoders ============================================================= */

/* A model whose encoder ends in {"type": "variational", "units": d} is a VAE: training samples
 * z = mu + exp(logvar / 2) * eps and adds beta * KL(q(z|x) || N(0, I)); encode, reconstruct and
 * score use z = mu. These calls return AE_ERR_UNSUPPORTED for other models. */

/* mean[n, code size] and logvar[n, code size]: the parameters of q(z | x) for n samples. */
AE_API ae_status ae_model_encode_distribution(const ae_model *model, const float *input, size_t n, size_t input_count,
                                              float *mean, size_t mean_count, float *logvar, size_t logvar_count);
/* codes[n, code size] sampled from q(z | x): z = mu + exp(logvar / 2) * eps, eps from a generator
 * seeded with `seed` (encode itself returns z = mu). Decode them to sample reconstructions. */
AE_API ae_status ae_model_sample_codes(const ae_model *model, const float *input, size_t n, size_t input_count,
                                       uint64_t seed, float *codes, size_t codes_count);
/* n new samples: codes drawn from the prior N(0, I) by a generator seeded with `seed` (the
 * model's own generator is not used), decoded into data space; output holds n * input size floats.
 * For an adversarial autoencoder the codes come from its own prior (mixture components drawn
 * uniformly). */
AE_API ae_status ae_model_generate(const ae_model *model, size_t n, uint64_t seed, float *output, size_t output_count);
/* steps >= 2 samples decoded along the straight line between the codes of two samples a and b
 * (input size floats each): output[t] = decode((1 - t) code(a) + t code(b)), t evenly spaced in
 * [0, 1]; output holds steps * input size floats. Works for any model that can decode (for a VAE
 * the codes are the means). */
AE_API ae_status ae_model_interpolate(const ae_model *model, const float *a, const float *b, size_t steps,
                                      float *output, size_t output_count);

/* ==== Anomaly detection ===================================================================== */

/* A sample is an anomaly when its score (ae_model_score) exceeds the model's threshold. The
 * threshold is kept in the model file. */

/* Scores n samples of normal data and sets the threshold to the given quantile of their scores
 * (0 <= quantile <= 1, e.g. 0.99; linear interpolation between order statistics, as numpy).
 * *threshold (may be NULL) receives it. */
AE_API ae_status ae_model_fit_threshold(ae_model *model, const float *data, size_t n, size_t count, double quantile,
                                        float *threshold);
/* Sets the threshold (finite, >= 0). */
AE_API ae_status ae_model_set_threshold(ae_model *model, float threshold);
/* *has_threshold receives 1 and *threshold (may be NULL) the threshold if the model has one, else 0. */
AE_API ae_status ae_model_get_threshold(const ae_model *model, float *threshold, int *has_threshold);
/* labels[n]: 1 for a sample whose score exceeds the threshold, else 0. labels_count must equal n.
 * AE_ERR_UNSUPPORTED when the model has no threshold. */
AE_API ae_status ae_model_predict(const ae_model *model, const float *input, size_t n, size_t input_count,
                                  int32_t *labels, size_t labels_count);

/* ==== int8 inference ======================================================================= */
/* An int8 model is an inference-only copy of a trained model whose dense and convolutional
 * weights are quantised to 8 bits, per output row (a dense layer's output feature, a convolution's
 * filter), symmetric: W[o, :] ~ s[o] * q[o, :], s[o] = max|W[o, :]| / 127, q in -127..127. Each
 * such layer quantises its input to unsigned 8 bits (asymmetric, x ~ s_x * (q_x - z)), multiplies
 * in int8 with int32 sums (AVX-512 VNNI, AVX2 or portable C: bit-identical integers), then
 * dequantises and adds the bias in float. The input ranges are either dynamic (each sample's own
 * minimum and maximum, so a sample's result does not depend on its batch) or calibrated (fixed per
 * layer from data passed at quantisation: the range each layer's input takes on it).
 *
 * ae_model_encode, _decode, _reconstruct, _score, _save, _load, the codec and the anomaly
 * threshold work unchanged on an int8 model; it saves in model-file format 5 (its int8 weights as
 * I8 tensors: about a quarter of the float file; docs/FILE_FORMAT.md). Training it, and
 * ae_model_set_parameter, are refused with AE_ERR_UNSUPPORTED ("this is an int8 model, for
 * inference only"); ae_model_get_parameter returns the dequantised weights s[o] * q[o, p].
 *
 * Layers with a weight matrix but no int8 path -- tied dense decoders, transposed convolutions,
 * recurrent (LSTM, GRU) and time-distributed dense layers -- keep their float weights and run in
 * float (a documented fallback; ae_model_int8_info counts them), unless AE_INT8_REQUIRE_ALL asks
 * for an error naming the first such layer. Normalisation and embedding layers always run in
 * float. */

/* ae_model_quantize_int8's flags. */
#define AE_INT8_REQUIRE_ALL 1 /* refuse (AE_ERR_UNSUPPORTED, naming the layer) rather than fall back */

/* Creates an int8 copy of `model` in *out (free it with ae_model_free); `model` is not changed.
 *   calibration  n samples (count = n * input size floats) to calibrate the input ranges on, or
 *                NULL (with n = count = 0) for dynamic ranges
 *   flags        0 or AE_INT8_REQUIRE_ALL
 * The copy keeps the spec, input scaling, anomaly threshold, code quantiser and epoch count, and
 * drops the optimizer state.
 * Errors: AE_ERR_INVALID_ARGUMENT (NULL out, unknown flags, n = 0 with calibration data, n or
 * count non-zero without), AE_ERR_SHAPE (count), AE_ERR_NUMERIC (non-finite calibration data),
 * AE_ERR_UNSUPPORTED (the model is int8 already, has no dense or convolutional layer, or --
 * with AE_INT8_REQUIRE_ALL -- has a layer without an int8 path, e.g. "layer encoder.0 (lstm) has
 * no int8 path: recurrent layers have no int8 path; ..."). */
AE_API ae_status ae_model_quantize_int8(const ae_model *model, const float *calibration, size_t n, size_t count,
                                        int flags, ae_model **out);
/* ae_model_quantize_int8, leaving the layers named in float_layers[0 .. float_layer_count) in
 * float (ONNX Runtime's nodes_to_exclude): dense or convolutional layers, by the names
 * ae_model_tensor_info shows before ".weight" (e.g. "decoder.0"), whose 8-bit error matters
 * most, such as a decoder's first layer reading a small code. ae_model_int8_info counts them
 * with the fallback layers; AE_INT8_REQUIRE_ALL does not refuse them. float_layers may be NULL
 * when float_layer_count is 0.
 * Errors: those of ae_model_quantize_int8, and AE_ERR_INVALID_ARGUMENT for a NULL or non-UTF-8
 * name, or a name that is not a layer the model would quantise (the message lists those). */
AE_API ae_status ae_model_quantize_int8_keeping(const ae_model *model, const float *calibration, size_t n, size_t count,
                                                int flags, const char *const *float_layers, size_t float_layer_count,
                                                ae_model **out);
/* *out receives 1 for an int8 model, 0 for a float one. */
AE_API ae_status ae_model_is_int8(const ae_model *model, int *out);
/* For an int8 model: the number of layers that run in int8, of those with a weight matrix that
 * run in float (the fallback), and whether the input ranges are calibrated (1) or dynamic (0); all
 * 0 for a float model. Any pointer may be NULL. */
AE_API ae_status ae_model_int8_info(const ae_model *model, size_t *quantized_layers, size_t *fallback_layers,
                                    int *calibrated);
/* The int8 GEMM kernel in use: "avx512vnni", "avx2" or "portable" (the best this CPU and OS run,
 * or the one the environment variable AE_GEMM_INT8 names). Static storage; never NULL. */
AE_API const char *ae_int8_kernel_name(void);
/* Selects the int8 kernel, process-wide: "auto", "avx512vnni", "avx2" or "portable".
 * Errors: AE_ERR_INVALID_ARGUMENT (NULL, unknown name), AE_ERR_UNSUPPORTED (the CPU or the OS
 * lacks what the kernel needs: "the avx512vnni int8 kernel cannot run here: this CPU lacks
 * AVX512_VNNI (CPUID leaf 7, ECX bit 11)"); the kernel in use is then unchanged. */
AE_API ae_status ae_set_int8_kernel(const char *name);

/* ==== Compression =========================================================================== */

/* A model that reconstructs floats and decodes from its code alone (ae_model_can_decode) is a
 * lossy codec once it has a quantiser. The quantiser maps each code value to one of 2^bits levels
 * with a per-dimension scale s_j and integer zero point z_j learned on training data,
 *     q = clamp(round(c / s_j) + z_j, 0, 2^bits - 1),    c' = (q - z_j) * s_j,
 * and keeps a per-dimension histogram of the training levels; compression range-codes the levels
 * with those histograms (a level the training data made likely costs few bits). The quantiser is
 * saved in the model file (which then has model-file format 3: docs/FILE_FORMAT.md). A compressed
 * file (docs/FILE_FORMAT.md, "Compressed files") is versioned, CRC-32 checksummed, and names the
 * model that decodes it by a 64-bit digest of its parameters, input scaling and quantiser: any
 * change to them (further training, a new quantiser) makes older files undecodable, by design.
 * Decompression returns decoder(c'), in data space. */

/* Encodes n training samples (count = n * input size floats), fits a quantiser of `bits` bits per
 * code value (4 <= bits <= 8) to their codes (each dimension's range: its minimum to its maximum,
 * widened to include 0) and sets it, replacing any quantiser the model had.
 * Errors: AE_ERR_INVALID_ARGUMENT (NULL, n 0, bits out of range), AE_ERR_SHAPE (count),
 * AE_ERR_NUMERIC (non-finite data), AE_ERR_UNSUPPORTED (a segmentation or token model, or one
 * whose decoder needs encoder feature maps). */
AE_API ae_status ae_model_fit_quantizer(ae_model *model, const float *data, size_t n, size_t count, int bits);
/* *bits receives the quantiser's bits per code value, or 0 when the model has none. */
AE_API ae_status ae_model_quantizer_bits(const ae_model *model, int *bits);
/* Removes the quantiser (a model without one saves as model-file format 2). */
AE_API ae_status ae_model_remove_quantizer(ae_model *model);

/* Compresses n samples (input_count = n * input size floats): *data receives a malloc'd buffer of
 * *size bytes, released with ae_free. n = 0 gives a valid file of no samples.
 * Errors: AE_ERR_UNSUPPORTED when the model has no quantiser (the message says how to fit one) or
 * cannot decode from its code; AE_ERR_SHAPE, AE_ERR_NUMERIC as ae_model_encode;
 * AE_ERR_OUT_OF_MEMORY. */
AE_API ae_status ae_model_compress(const ae_model *model, const float *input, size_t n, size_t input_count,
                                   void **data, size_t *size);
/* Checks a compressed file (size bytes at data) against the model without decoding its payload:
 * header, version, checksum, the model digest, bits and shapes. *n receives its sample count and
 * *output_count (may be NULL) n * input size, the float count ae_model_decompress writes.
 * Errors: AE_ERR_FORMAT (not a compressed file, truncated, corrupted, a newer container version,
 * or made by another model: the message gives both digests), AE_ERR_INVALID_ARGUMENT (NULL). */
AE_API ae_status ae_model_compressed_info(const ae_model *model, const void *data, size_t size, size_t *n,
                                          size_t *output_count);
/* Decompresses: output[n, input size] = decoder(dequantised codes), output_count = n * input size
 * (ae_model_compressed_info). The payload is decoded completely before output is written, so on
 * any error output is untouched. Errors: as ae_model_compressed_info, AE_ERR_FORMAT for a payload
 * that does not decode to exactly n * code size levels, AE_ERR_SHAPE (output_count). */
AE_API ae_status ae_model_decompress(const ae_model *model, const void *data, size_t size, float *output,
                                     size_t output_count);

/* ==== Sequences ============================================================================= */

/* A sequence model's input is [T, F] per sample: its spec has "input_shape": [T, F] and a
 * recurrent layer (lstm, gru) as its first encoder entry (docs/SPEC.md, "Sequence layers"). A
 * batch of n sequences is n * T * F floats, row-major and batch-first (sample, step, feature), so
 * the plain ae_model_* calls accept sequence models as they are, every sample filling T steps.
 *
 * Variable lengths: the _sequences calls below (and ae_train_options.lengths) take an optional
 * array `lengths` of n int32 values in 1..T, like PyTorch's packed sequences. A sample of length L
 * uses its steps 0..L-1; its steps L..T-1 are padding: their input values are ignored (they may
 * hold any finite value, but must be finite), the outputs there are 0, the last state of a recurrent layer is taken at
 * step L-1, and losses and scores skip padded steps. lengths may be NULL with lengths_count 0:
 * then every sample fills T steps (the result equals the plain call's).
 *
 * Errors common to every call of this section, reported before anything changes:
 *   AE_ERR_SHAPE             count != n * T * F (the message gives T and F and the expected count),
 *                            or a buffer's count does not match n;
 *   AE_ERR_INVALID_ARGUMENT  lengths_count != n while lengths is given (or lengths NULL with
 *                            lengths_count > 0), a length 0 or > T (the message names the element,
 *                            e.g. "lengths[3] = 0", and T), lengths on a model that is not a sequence
 *                            model, a NULL buffer. Without lengths, the _sequences calls accept any
 *                            model that takes floats (count = n * input size);
 *   AE_ERR_NUMERIC           NaN or infinite values anywhere in the data (padded steps included);
 *   AE_ERR_UNSUPPORTED       a token model given floats (use the _tokens calls) or a float model
 *                            given tokens. */

/* *steps and *features receive T and F of a sequence model's input [T, F] and *is_sequence 1; for
 * other models *is_sequence is 0 and *steps, *features receive 0. For a token model F is 1 (a
 * token id per step). Any of the three pointers may be NULL except model. */
AE_API ae_status ae_model_sequence_shape(const ae_model *model, size_t *steps, size_t *features, int *is_sequence);

/* *out receives the vocabulary size V of a token model (its first encoder entry is an
 * "embedding"), or 0 for a model that takes floats. */
AE_API ae_status ae_model_vocabulary_size(const ae_model *model, size_t *out);

/* One optimisation step on n sequences (1 <= n <= batch size, count = n * T * F floats) with
 * optional lengths (n values, or NULL with lengths_count 0). As ae_trainer_step otherwise: *loss
 * (may be NULL) receives the objective on the batch before the update, averaged over valid steps. */
AE_API ae_status ae_trainer_step_sequences(ae_trainer *trainer, const float *batch, const int32_t *lengths, size_t n,
                                           size_t count, size_t lengths_count, double *loss);

/* code[n, code size] = encoder(input[n, T, F]) with optional lengths (a recurrent encoder returning
 * its last state takes it at each sample's last valid step). code_count = n * code size. */
AE_API ae_status ae_model_encode_sequences(const ae_model *model, const float *input, const int32_t *lengths, size_t n,
                                           size_t input_count, size_t lengths_count, float *code, size_t code_count);

/* output[n, T, F] = decoder(encoder(input)) in data space, with optional lengths; the padded steps
 * of the output are 0. output_count = input_count. */
AE_API ae_status ae_model_reconstruct_sequences(const ae_model *model, const float *input, const int32_t *lengths,
                                                size_t n, size_t input_count, size_t lengths_count, float *output,
                                                size_t output_count);

/* scores[n]: each sample's mean squared reconstruction error over the L * F values of its valid
 * steps (in the model's scaled space), with optional lengths. scores_count = n. */
AE_API ae_status ae_model_score_sequences(const ae_model *model, const float *input, const int32_t *lengths, size_t n,
                                          size_t input_count, size_t lengths_count, float *scores, size_t scores_count);

/* The mean objective of the model on n sequences with optional lengths (the loss averaged over
 * valid steps, plus regularizers), without training. */
AE_API ae_status ae_model_evaluate_sequences(const ae_model *model, const float *data, const int32_t *lengths, size_t n,
                                             size_t count, size_t lengths_count, double *loss);

/* ---- Token (text) models ---- */

/* A token model's first encoder entry is {"type": "embedding", "vocabulary": V, "units": E,
 * "padding_id": p}, its input_shape is [T] and its loss "sequence_cross_entropy" (with an optional
 * "ignore_index", default the padding id): the output is a logit per vocabulary entry at every
 * step, [T, V] per sample, and the loss the per-step softmax cross-entropy against the input's own
 * tokens. Its input is n * T int32 token ids (count = n * T) with optional lengths as above; every
 * id, padded steps included, must lie in 0..V-1 (AE_ERR_INVALID_ARGUMENT naming the element, e.g.
 * "tokens[12] = 80", and V). Steps past a sample's length and steps whose target is ignore_index
 * are not counted by the loss. The float calls (ae_model_train, ae_model_encode, ...) refuse a
 * token model with AE_ERR_UNSUPPORTED pointing to these calls. */

/* ae_model_train for a token model: n samples of T token ids (count = n * T), lengths n values or
 * NULL with lengths_count 0. options as for ae_model_train, except that options->lengths must be
 * NULL (the lengths are this call's arguments) and options->validation_data must be NULL
 * (validation_split holds out the last samples with their lengths). */
AE_API ae_status ae_model_train_tokens(ae_model *model, const int32_t *tokens, size_t n, size_t count,
                                       const int32_t *lengths, size_t lengths_count, const ae_train_options *options,
                                       ae_train_report *report);

/* ae_trainer_step for a token model: n samples of T token ids (count = n * T), optional lengths. */
AE_API ae_status ae_trainer_step_tokens(ae_trainer *trainer, const int32_t *tokens, const int32_t *lengths, size_t n,
                                        size_t count, size_t lengths_count, double *loss);

/* code[n, code size] = encoder(tokens[n, T]) with optional lengths. */
AE_API ae_status ae_model_encode_tokens(const ae_model *model, const int32_t *tokens, const int32_t *lengths, size_t n,
                                        size_t count, size_t lengths_count, float *code, size_t code_count);

/* out_tokens[n, T]: the most likely token (argmax of the logits) at every step of the
 * reconstruction; padded steps receive the padding id. out_count = n * T. */
AE_API ae_status ae_model_reconstruct_tokens(const ae_model *model, const int32_t *tokens, const int32_t *lengths,
                                             size_t n, size_t count, size_t lengths_count, int32_t *out_tokens,
                                             size_t out_count);

/* out_tokens[n, T]: the most likely token at every step of decoder(code[n, code size]).
 * AE_ERR_UNSUPPORTED when the decoder needs encoder side information (ae_model_can_decode). */
AE_API ae_status ae_model_decode_tokens(const ae_model *model, const float *code, size_t n, size_t code_count,
                                        int32_t *out_tokens, size_t out_count);

/* scores[n]: each sample's mean cross-entropy over its valid steps whose token is not the
 * ignore_index (0 for a sample without such steps). scores_count = n. */
AE_API ae_status ae_model_score_tokens(const ae_model *model, const int32_t *tokens, const int32_t *lengths, size_t n,
                                       size_t count, size_t lengths_count, float *scores, size_t scores_count);

/* The mean sequence cross-entropy of a token model on n samples (plus regularizers), without
 * training. */
AE_API ae_status ae_model_evaluate_tokens(const ae_model *model, const int32_t *tokens, const int32_t *lengths, size_t n,
                                          size_t count, size_t lengths_count, double *loss);

#ifdef __cplusplus
}
#endif

#endif /* AUTOENCODERS_H */
