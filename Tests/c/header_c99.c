/* header_c99.c: the header compiles as strict C99 with every warning as an error, every type is
 * usable, every function has the signature written here, and the training structs have the
 * layout the library reads (the library computes C offsets itself; on LP64 they are these).
 *
 *   gcc -std=c99 -Wall -Wextra -Werror -pedantic -I include -c Tests/c/header_c99.c
 */
#include "autoencoders.h" /* first: the header must be self-contained */

#include <stddef.h>

/* A compile-time assertion that C99 accepts (a negative array size is an error). */
#define STATIC_CHECK(name, condition) typedef char static_check_##name[(condition) ? 1 : -1]

#if defined(__LP64__) || defined(_LP64)
STATIC_CHECK(options_size, sizeof(ae_train_options) == 144);
STATIC_CHECK(options_epochs, offsetof(ae_train_options, epochs) == 8);
STATIC_CHECK(options_batch_size, offsetof(ae_train_options, batch_size) == 16);
STATIC_CHECK(options_shuffle, offsetof(ae_train_options, shuffle) == 24);
STATIC_CHECK(options_validation_split, offsetof(ae_train_options, validation_split) == 28);
STATIC_CHECK(options_validation_data, offsetof(ae_train_options, validation_data) == 32);
STATIC_CHECK(options_validation_samples, offsetof(ae_train_options, validation_samples) == 40);
STATIC_CHECK(options_validation_count, offsetof(ae_train_options, validation_count) == 48);
STATIC_CHECK(options_patience, offsetof(ae_train_options, patience) == 56);
STATIC_CHECK(options_min_delta, offsetof(ae_train_options, min_delta) == 64);
STATIC_CHECK(options_restore_best_weights, offsetof(ae_train_options, restore_best_weights) == 68);
STATIC_CHECK(options_report_batches, offsetof(ae_train_options, report_batches) == 72);
STATIC_CHECK(options_progress, offsetof(ae_train_options, progress) == 80);
STATIC_CHECK(options_user_data, offsetof(ae_train_options, user_data) == 88);
STATIC_CHECK(options_mask, offsetof(ae_train_options, mask) == 96);
STATIC_CHECK(options_mask_count, offsetof(ae_train_options, mask_count) == 104);
STATIC_CHECK(options_lengths, offsetof(ae_train_options, lengths) == 112);
STATIC_CHECK(options_lengths_count, offsetof(ae_train_options, lengths_count) == 120);
STATIC_CHECK(options_validation_lengths, offsetof(ae_train_options, validation_lengths) == 128);
STATIC_CHECK(options_validation_lengths_count, offsetof(ae_train_options, validation_lengths_count) == 136);
STATIC_CHECK(progress_size, sizeof(ae_progress) == 112);
STATIC_CHECK(progress_epoch, offsetof(ae_progress, epoch) == 8);
STATIC_CHECK(progress_discriminator_loss, offsetof(ae_progress, discriminator_loss) == 96);
STATIC_CHECK(progress_generator_loss, offsetof(ae_progress, generator_loss) == 104);
STATIC_CHECK(progress_epochs, offsetof(ae_progress, epochs) == 16);
STATIC_CHECK(progress_batch, offsetof(ae_progress, batch) == 24);
STATIC_CHECK(progress_batches, offsetof(ae_progress, batches) == 32);
STATIC_CHECK(progress_train_loss, offsetof(ae_progress, train_loss) == 40);
STATIC_CHECK(progress_validation_loss, offsetof(ae_progress, validation_loss) == 48);
STATIC_CHECK(progress_learning_rate, offsetof(ae_progress, learning_rate) == 56);
STATIC_CHECK(progress_elapsed_seconds, offsetof(ae_progress, elapsed_seconds) == 64);
STATIC_CHECK(progress_is_epoch_end, offsetof(ae_progress, is_epoch_end) == 72);
STATIC_CHECK(progress_reconstruction_loss, offsetof(ae_progress, reconstruction_loss) == 80);
STATIC_CHECK(progress_kl_divergence, offsetof(ae_progress, kl_divergence) == 88);
STATIC_CHECK(report_size, sizeof(ae_train_report) == 64);
STATIC_CHECK(report_epochs_run, offsetof(ae_train_report, epochs_run) == 8);
STATIC_CHECK(report_stop_reason, offsetof(ae_train_report, stop_reason) == 16);
STATIC_CHECK(report_final_train_loss, offsetof(ae_train_report, final_train_loss) == 24);
STATIC_CHECK(report_final_validation_loss, offsetof(ae_train_report, final_validation_loss) == 32);
STATIC_CHECK(report_best_epoch, offsetof(ae_train_report, best_epoch) == 40);
STATIC_CHECK(report_best_loss, offsetof(ae_train_report, best_loss) == 48);
STATIC_CHECK(report_seconds, offsetof(ae_train_report, seconds) == 56);
#endif
STATIC_CHECK(enums_are_int_sized, sizeof(ae_status) == sizeof(int) && sizeof(ae_stop_reason) == sizeof(int) &&
                                      sizeof(ae_scaling_kind) == sizeof(int));
STATIC_CHECK(version, AE_VERSION_MAJOR >= 0 && AE_VERSION_MINOR >= 0 && AE_VERSION_PATCH >= 0);

static int on_progress(const ae_progress *progress, void *user_data) {
    (void)user_data;
    return progress->is_epoch_end && progress->epoch + 1 >= progress->epochs;
}

/* Every function, bound to a pointer of the exact type this test expects. */
int header_c99_use(void);
int header_c99_use(void) {
    const char *(*version_string)(void) = ae_version_string;
    int (*version_major)(void) = ae_version_major;
    int (*version_minor)(void) = ae_version_minor;
    int (*version_patch)(void) = ae_version_patch;
    const char *(*status_string)(ae_status) = ae_status_string;
    const char *(*last_error)(void) = ae_last_error;
    void (*free_memory)(void *) = ae_free;
    ae_status (*set_num_threads)(int) = ae_set_num_threads;
    int (*get_num_threads)(void) = ae_get_num_threads;
    ae_status (*model_create)(const char *, ae_model **) = ae_model_create;
    ae_status (*model_load)(const char *, ae_model **) = ae_model_load;
    ae_status (*model_load_from_memory)(const void *, size_t, ae_model **) = ae_model_load_from_memory;
    ae_status (*model_save)(const ae_model *, const char *, int) = ae_model_save;
    ae_status (*model_save_to_memory)(const ae_model *, int, void **, size_t *) = ae_model_save_to_memory;
    void (*model_free)(ae_model *) = ae_model_free;
    ae_status (*model_input_size)(const ae_model *, size_t *) = ae_model_input_size;
    ae_status (*model_code_size)(const ae_model *, size_t *) = ae_model_code_size;
    ae_status (*model_input_shape)(const ae_model *, size_t *, size_t, size_t *) = ae_model_input_shape;
    ae_status (*model_parameter_count)(const ae_model *, size_t *) = ae_model_parameter_count;
    ae_status (*model_can_decode)(const ae_model *, int *) = ae_model_can_decode;
    ae_status (*model_spec)(const ae_model *, const char **) = ae_model_spec;
    ae_status (*model_epochs_completed)(const ae_model *, size_t *) = ae_model_epochs_completed;
    ae_status (*model_tensor_count)(const ae_model *, size_t *) = ae_model_tensor_count;
    ae_status (*model_tensor_info)(const ae_model *, size_t, const char **, size_t *, size_t, size_t *, size_t *) =
        ae_model_tensor_info;
    ae_status (*model_get_parameter)(const ae_model *, const char *, float *, size_t) = ae_model_get_parameter;
    ae_status (*model_set_parameter)(ae_model *, const char *, const float *, size_t) = ae_model_set_parameter;
    ae_status (*model_set_input_scaling)(ae_model *, const float *, const float *, size_t) = ae_model_set_input_scaling;
    ae_status (*model_fit_input_scaling)(ae_model *, ae_scaling_kind, const float *, size_t, size_t) =
        ae_model_fit_input_scaling;
    ae_status (*model_get_input_scaling)(const ae_model *, float *, float *, size_t, int *) = ae_model_get_input_scaling;
    ae_status (*train_options_init)(ae_train_options *, size_t) = ae_train_options_init;
    ae_status (*model_train)(ae_model *, const float *, size_t, size_t, const ae_train_options *, ae_train_report *) =
        ae_model_train;
    ae_status (*model_evaluate)(const ae_model *, const float *, size_t, size_t, double *) = ae_model_evaluate;
    int (*sample_source)(const size_t *, size_t, float *, size_t, void *) = (ae_sample_source_fn)0;
    ae_status (*model_train_source)(ae_model *, size_t, ae_sample_source_fn, void *, const ae_train_options *,
                                    ae_train_report *) = ae_model_train_source;
    ae_status (*trainer_create)(ae_model *, size_t, ae_trainer **) = ae_trainer_create;
    ae_status (*trainer_step)(ae_trainer *, const float *, size_t, size_t, double *) = ae_trainer_step;
    ae_status (*trainer_set_learning_rate)(ae_trainer *, double) = ae_trainer_set_learning_rate;
    ae_status (*trainer_get_learning_rate)(const ae_trainer *, double *) = ae_trainer_get_learning_rate;
    ae_status (*trainer_step_count)(const ae_trainer *, size_t *) = ae_trainer_step_count;
    void (*trainer_free)(ae_trainer *) = ae_trainer_free;
    ae_status (*model_encode)(const ae_model *, const float *, size_t, size_t, float *, size_t) = ae_model_encode;
    ae_status (*model_decode)(const ae_model *, const float *, size_t, size_t, float *, size_t) = ae_model_decode;
    ae_status (*model_reconstruct)(const ae_model *, const float *, size_t, size_t, float *, size_t) = ae_model_reconstruct;
    ae_status (*model_score)(const ae_model *, const float *, size_t, size_t, float *, size_t) = ae_model_score;
    ae_status (*model_inpaint)(const ae_model *, const float *, const float *, size_t, size_t, float *, size_t) =
        ae_model_inpaint;
    ae_status (*trainer_step_masked)(ae_trainer *, const float *, const float *, size_t, size_t, double *) =
        ae_trainer_step_masked;
    ae_status (*model_fit_threshold)(ae_model *, const float *, size_t, size_t, double, float *) = ae_model_fit_threshold;
    ae_status (*model_set_threshold)(ae_model *, float) = ae_model_set_threshold;
    ae_status (*model_get_threshold)(const ae_model *, float *, int *) = ae_model_get_threshold;
    ae_status (*model_predict)(const ae_model *, const float *, size_t, size_t, int32_t *, size_t) = ae_model_predict;
    /* Segmentation. */
    ae_status (*model_class_count)(const ae_model *, size_t *) = ae_model_class_count;
    ae_status (*model_label_size)(const ae_model *, size_t *) = ae_model_label_size;
    ae_status (*model_train_labels)(ae_model *, const float *, size_t, size_t, const int32_t *, size_t,
                                    const ae_train_options *, ae_train_report *) = ae_model_train_labels;
    ae_status (*trainer_step_labels)(ae_trainer *, const float *, const int32_t *, size_t, size_t, size_t, double *) =
        ae_trainer_step_labels;
    ae_status (*model_segment)(const ae_model *, const float *, size_t, size_t, int32_t *, size_t) = ae_model_segment;
    /* Variational autoencoders. */
    ae_status (*model_encode_distribution)(const ae_model *, const float *, size_t, size_t, float *, size_t, float *, size_t) =
        ae_model_encode_distribution;
    ae_status (*model_evaluate_labels)(const ae_model *, const float *, size_t, size_t, const int32_t *, size_t, double *) =
        ae_model_evaluate_labels;
    ae_status (*model_sample_codes)(const ae_model *, const float *, size_t, size_t, uint64_t, float *, size_t) =
        ae_model_sample_codes;
    ae_status (*model_generate)(const ae_model *, size_t, uint64_t, float *, size_t) = ae_model_generate;
    ae_status (*model_interpolate)(const ae_model *, const float *, const float *, size_t, float *, size_t) =
        ae_model_interpolate;
    /* Data-parallel training. */
    ae_status (*model_fingerprint)(const ae_model *, uint64_t *) = ae_model_fingerprint;
    ae_status (*model_get_parameters)(const ae_model *, float *, size_t) = ae_model_get_parameters;
    ae_status (*model_set_parameters)(ae_model *, const float *, size_t) = ae_model_set_parameters;
    ae_status (*trainer_gradient_count)(const ae_trainer *, size_t *) = ae_trainer_gradient_count;
    ae_status (*trainer_compute_gradients)(ae_trainer *, const float *, size_t, size_t, size_t, size_t, double *) =
        ae_trainer_compute_gradients;
    ae_status (*trainer_get_gradients)(const ae_trainer *, float *, size_t) = ae_trainer_get_gradients;
    ae_status (*trainer_set_gradients)(ae_trainer *, const float *, size_t) = ae_trainer_set_gradients;
    ae_status (*trainer_apply_gradients)(ae_trainer *) = ae_trainer_apply_gradients;
    /* Sequences and tokens. */
    ae_status (*model_sequence_shape)(const ae_model *, size_t *, size_t *, int *) = ae_model_sequence_shape;
    ae_status (*model_vocabulary_size)(const ae_model *, size_t *) = ae_model_vocabulary_size;
    ae_status (*trainer_step_sequences)(ae_trainer *, const float *, const int32_t *, size_t, size_t, size_t, double *) =
        ae_trainer_step_sequences;
    ae_status (*model_encode_sequences)(const ae_model *, const float *, const int32_t *, size_t, size_t, size_t, float *,
                                        size_t) = ae_model_encode_sequences;
    ae_status (*model_reconstruct_sequences)(const ae_model *, const float *, const int32_t *, size_t, size_t, size_t,
                                             float *, size_t) = ae_model_reconstruct_sequences;
    ae_status (*model_score_sequences)(const ae_model *, const float *, const int32_t *, size_t, size_t, size_t, float *,
                                       size_t) = ae_model_score_sequences;
    ae_status (*model_evaluate_sequences)(const ae_model *, const float *, const int32_t *, size_t, size_t, size_t,
                                          double *) = ae_model_evaluate_sequences;
    ae_status (*model_train_tokens)(ae_model *, const int32_t *, size_t, size_t, const int32_t *, size_t,
                                    const ae_train_options *, ae_train_report *) = ae_model_train_tokens;
    ae_status (*trainer_step_tokens)(ae_trainer *, const int32_t *, const int32_t *, size_t, size_t, size_t, double *) =
        ae_trainer_step_tokens;
    ae_status (*model_encode_tokens)(const ae_model *, const int32_t *, const int32_t *, size_t, size_t, size_t, float *,
                                     size_t) = ae_model_encode_tokens;
    ae_status (*model_reconstruct_tokens)(const ae_model *, const int32_t *, const int32_t *, size_t, size_t, size_t,
                                          int32_t *, size_t) = ae_model_reconstruct_tokens;
    ae_status (*model_decode_tokens)(const ae_model *, const float *, size_t, size_t, int32_t *, size_t) =
        ae_model_decode_tokens;
    ae_status (*model_score_tokens)(const ae_model *, const int32_t *, const int32_t *, size_t, size_t, size_t, float *,
                                    size_t) = ae_model_score_tokens;
    ae_status (*model_evaluate_tokens)(const ae_model *, const int32_t *, const int32_t *, size_t, size_t, size_t,
                                       double *) = ae_model_evaluate_tokens;

    /* Every type and enumerator. */
    ae_model *model = NULL;
    ae_trainer *trainer = NULL;
    ae_status statuses[] = {AE_OK, AE_ERR_INVALID_ARGUMENT, AE_ERR_SHAPE, AE_ERR_INVALID_SPEC, AE_ERR_IO, AE_ERR_FORMAT,
                            AE_ERR_NUMERIC, AE_ERR_UNSUPPORTED, AE_ERR_OUT_OF_MEMORY, AE_ERR_INTERNAL};
    ae_scaling_kind kinds[] = {AE_SCALING_STANDARDIZE, AE_SCALING_MINMAX};
    ae_stop_reason reasons[] = {AE_STOP_COMPLETED, AE_STOP_EARLY_STOPPING, AE_STOP_CALLBACK};
    ae_progress progress = {sizeof(ae_progress), 0, 1, 0, 1, 0.0, 0.0, 0.001, 0.0, 1, 0.0, 0.0, 0.0, 0.0};
    ae_progress_fn callback = on_progress;
    ae_train_options options;
    ae_train_report report;
    report.struct_size = sizeof report;
    report.stop_reason = reasons[2];
    options.struct_size = sizeof options;
    options.progress = callback;
    options.user_data = &report;
    options.mask = NULL;
    options.mask_count = 0;

    return (version_string != 0) + (version_major != 0) + (version_minor != 0) + (version_patch != 0) +
           (status_string != 0) + (last_error != 0) + (free_memory != 0) + (set_num_threads != 0) +
           (get_num_threads != 0) + (model_create != 0) + (model_load != 0) + (model_load_from_memory != 0) +
           (model_save != 0) + (model_save_to_memory != 0) + (model_free != 0) + (model_input_size != 0) +
           (model_code_size != 0) + (model_input_shape != 0) + (model_parameter_count != 0) + (model_can_decode != 0) +
           (model_spec != 0) + (model_epochs_completed != 0) + (model_tensor_count != 0) + (model_tensor_info != 0) +
           (model_get_parameter != 0) + (model_set_parameter != 0) + (model_set_input_scaling != 0) +
           (model_fit_input_scaling != 0) + (model_get_input_scaling != 0) + (train_options_init != 0) +
           (model_train != 0) + (model_evaluate != 0) + (sample_source == 0) + (model_train_source != 0) + (trainer_create != 0) + (trainer_step != 0) +
           (trainer_set_learning_rate != 0) + (trainer_get_learning_rate != 0) + (trainer_step_count != 0) +
           (trainer_free != 0) + (model_encode != 0) + (model_decode != 0) + (model_reconstruct != 0) +
           (model_score != 0) + (model_inpaint != 0) + (trainer_step_masked != 0) + (model_fit_threshold != 0) +
           (model_set_threshold != 0) + (model_get_threshold != 0) + (model_predict != 0) + (model_class_count != 0) + (model_label_size != 0) +
           (model_train_labels != 0) + (trainer_step_labels != 0) + (model_segment != 0) +
           (model_encode_distribution != 0) + (model_sample_codes != 0) + (model_evaluate_labels != 0) + (model_generate != 0) + (model_interpolate != 0) + (options.mask == NULL) +
           (model_fingerprint != 0) + (model_get_parameters != 0) + (model_set_parameters != 0) +
           (trainer_gradient_count != 0) + (trainer_compute_gradients != 0) + (trainer_get_gradients != 0) +
           (trainer_set_gradients != 0) + (trainer_apply_gradients != 0) +
           (model_sequence_shape != 0) + (model_vocabulary_size != 0) + (trainer_step_sequences != 0) +
           (model_encode_sequences != 0) + (model_reconstruct_sequences != 0) + (model_score_sequences != 0) +
           (model_evaluate_sequences != 0) + (model_train_tokens != 0) + (trainer_step_tokens != 0) +
           (model_encode_tokens != 0) + (model_reconstruct_tokens != 0) + (model_decode_tokens != 0) +
           (model_score_tokens != 0) + (model_evaluate_tokens != 0) +
           (int)options.mask_count + (model == NULL) + (trainer == NULL) + (int)statuses[9] + (int)kinds[1] +
           options.progress(&progress, options.user_data);
}
