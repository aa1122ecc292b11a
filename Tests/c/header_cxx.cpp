// header_cxx.cpp: the header compiles as C++11 with every warning as an error, its declarations
// have C linkage, and every type is usable from C++.
//
//   g++ -std=c++11 -Wall -Wextra -Werror -pedantic -I include -c Tests/c/header_cxx.cpp
#include "autoencoders.h"  // first: the header must be self-contained

#include <cstddef>
#include <memory>
#include <type_traits>

static_assert(std::is_same<decltype(&ae_model_create), ae_status (*)(const char *, ae_model **)>::value,
              "ae_model_create's signature");
static_assert(std::is_same<decltype(&ae_model_encode),
                           ae_status (*)(const ae_model *, const float *, size_t, size_t, float *, size_t)>::value,
              "ae_model_encode's signature");
static_assert(std::is_same<decltype(&ae_model_inpaint), ae_status (*)(const ae_model *, const float *, const float *, size_t,
                                                                      size_t, float *, size_t)>::value,
              "ae_model_inpaint's signature");
static_assert(std::is_same<decltype(&ae_trainer_step_masked),
                           ae_status (*)(ae_trainer *, const float *, const float *, size_t, size_t, double *)>::value,
              "ae_trainer_step_masked's signature");
static_assert(std::is_same<decltype(&ae_model_fit_threshold),
                           ae_status (*)(ae_model *, const float *, size_t, size_t, double, float *)>::value,
              "ae_model_fit_threshold's signature");
static_assert(std::is_same<decltype(&ae_model_set_threshold), ae_status (*)(ae_model *, float)>::value,
              "ae_model_set_threshold's signature");
static_assert(std::is_same<decltype(&ae_model_get_threshold), ae_status (*)(const ae_model *, float *, int *)>::value,
              "ae_model_get_threshold's signature");
static_assert(std::is_same<decltype(&ae_model_predict),
                           ae_status (*)(const ae_model *, const float *, size_t, size_t, int32_t *, size_t)>::value,
              "ae_model_predict's signature");
static_assert(std::is_same<decltype(&ae_model_class_count), ae_status (*)(const ae_model *, size_t *)>::value,
              "ae_model_class_count's signature");
static_assert(std::is_same<decltype(&ae_model_label_size), ae_status (*)(const ae_model *, size_t *)>::value,
              "ae_model_label_size's signature");
static_assert(std::is_same<decltype(&ae_model_train_labels),
                           ae_status (*)(ae_model *, const float *, size_t, size_t, const int32_t *, size_t,
                                         const ae_train_options *, ae_train_report *)>::value,
              "ae_model_train_labels's signature");
static_assert(std::is_same<ae_sample_source_fn, int (*)(const size_t *, size_t, float *, size_t, void *)>::value,
              "ae_sample_source_fn's signature");
static_assert(std::is_same<decltype(&ae_model_train_source),
                           ae_status (*)(ae_model *, size_t, ae_sample_source_fn, void *, const ae_train_options *,
                                         ae_train_report *)>::value,
              "ae_model_train_source's signature");
static_assert(std::is_same<decltype(&ae_trainer_step_labels),
                           ae_status (*)(ae_trainer *, const float *, const int32_t *, size_t, size_t, size_t, double *)>::value,
              "ae_trainer_step_labels's signature");
static_assert(std::is_same<decltype(&ae_model_segment),
                           ae_status (*)(const ae_model *, const float *, size_t, size_t, int32_t *, size_t)>::value,
              "ae_model_segment's signature");
static_assert(std::is_same<decltype(ae_train_options::mask), const float *>::value, "ae_train_options::mask");
static_assert(std::is_same<decltype(ae_train_options::mask_count), size_t>::value, "ae_train_options::mask_count");
#if defined(__LP64__) || defined(_LP64)
static_assert(sizeof(ae_train_options) == 144, "sizeof(ae_train_options)");
static_assert(offsetof(ae_train_options, user_data) == 88, "ae_train_options::user_data");
static_assert(offsetof(ae_train_options, mask) == 96, "ae_train_options::mask");
static_assert(offsetof(ae_train_options, mask_count) == 104, "ae_train_options::mask_count");
static_assert(offsetof(ae_train_options, lengths) == 112, "ae_train_options::lengths");
static_assert(offsetof(ae_train_options, validation_lengths_count) == 136, "ae_train_options::validation_lengths_count");
#endif
static_assert(std::is_same<ae_progress_fn, int (*)(const ae_progress *, void *)>::value, "ae_progress_fn");
static_assert(std::is_standard_layout<ae_train_options>::value && std::is_trivial<ae_train_options>::value,
              "ae_train_options is a plain C struct");
static_assert(std::is_standard_layout<ae_train_report>::value && std::is_trivial<ae_train_report>::value,
              "ae_train_report is a plain C struct");
static_assert(std::is_standard_layout<ae_progress>::value && std::is_trivial<ae_progress>::value,
              "ae_progress is a plain C struct");
static_assert(AE_OK == 0 && AE_ERR_INTERNAL == 9, "status codes");

namespace {

// The RAII wrappers a C++ user would write: the _free functions fit std::unique_ptr deleters.
struct ModelDeleter {
    void operator()(ae_model *model) const { ae_model_free(model); }
};
struct TrainerDeleter {
    void operator()(ae_trainer *trainer) const { ae_trainer_free(trainer); }
};
using ModelPointer = std::unique_ptr<ae_model, ModelDeleter>;
using TrainerPointer = std::unique_ptr<ae_trainer, TrainerDeleter>;

extern "C" int stop_at_once(const ae_progress *progress, void *) { return progress->is_epoch_end; }

}  // namespace

int header_cxx_use();
int header_cxx_use() {
    ae_model *raw = nullptr;
    if (ae_model_create("{}", &raw) != AE_OK) return 1;
    ModelPointer model(raw);
    ae_trainer *raw_trainer = nullptr;
    if (ae_trainer_create(model.get(), 8, &raw_trainer) != AE_OK) return 2;
    TrainerPointer trainer(raw_trainer);

    ae_train_options options;
    ae_train_options_init(&options, sizeof options);
    options.progress = stop_at_once;
    const float mask[4] = {1, 1, 0, 1};
    options.mask = mask;
    options.mask_count = 4;
    ae_train_report report = ae_train_report();
    report.struct_size = sizeof report;
    ae_scaling_kind kind = AE_SCALING_MINMAX;
    ae_stop_reason reason = AE_STOP_EARLY_STOPPING;
    ae_progress progress = ae_progress();
    progress.struct_size = sizeof progress;
    float x[4] = {0, 0, 0, 0};
    std::size_t n = 1;
    ae_status status = ae_model_fit_input_scaling(model.get(), kind, x, n, 4);
    status = ae_model_train(model.get(), x, n, 4, &options, &report);
    double lr = 0;
    status = ae_trainer_get_learning_rate(trainer.get(), &lr);
    status = ae_trainer_step_masked(trainer.get(), x, mask, n, 4, &lr);
    float filled[4] = {0, 0, 0, 0};
    status = ae_model_inpaint(model.get(), x, mask, n, 4, filled, 4);
    float threshold = 0;
    int has_threshold = 0;
    status = ae_model_fit_threshold(model.get(), x, n, 4, 0.99, &threshold);
    status = ae_model_set_threshold(model.get(), threshold);
    status = ae_model_get_threshold(model.get(), &threshold, &has_threshold);
    int32_t labels[1] = {0};
    status = ae_model_predict(model.get(), x, n, 4, labels, 1);
    // Segmentation: int32_t class labels in, int32_t class labels out.
    std::size_t classes = 0, label_size = 0;
    status = ae_model_class_count(model.get(), &classes);
    status = ae_model_label_size(model.get(), &label_size);
    const int32_t targets[4] = {0, 1, 1, -100};
    status = ae_model_train_labels(model.get(), x, n, 4, targets, 4, &options, &report);
    status = ae_trainer_step_labels(trainer.get(), x, targets, n, 4, 4, &lr);
    int32_t segmented[4] = {0, 0, 0, 0};
    status = ae_model_segment(model.get(), x, n, 4, segmented, 4);
    return static_cast<int>(status) + static_cast<int>(reason) + (ae_status_string(status)[0] == 'A') +
           (ae_last_error() != nullptr) + AE_VERSION_MAJOR + options.progress(&progress, nullptr);
}
