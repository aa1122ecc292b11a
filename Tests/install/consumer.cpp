// A C++ program built with CMake (find_package(autoencoders), target autoencoders::autoencoders)
// against an installed libautoencoders: creates a model, saves it to memory, loads it back and
// compares the reconstructions. Prints "ok <version> <parameter count>".
#include <autoencoders.h>

#include <cstdio>
#include <memory>
#include <vector>

namespace {
struct ModelFree {
    void operator()(ae_model *model) const { ae_model_free(model); }
};
using Model = std::unique_ptr<ae_model, ModelFree>;

int fail(const char *what) {
    std::fprintf(stderr, "%s: %s\n", what, ae_last_error());
    return 1;
}
}  // namespace

int main() {
    const char *spec = R"({"input_size": 8, "seed": 3,
        "encoder": [{"type": "dense", "units": 3, "activation": "relu"}],
        "decoder": [{"type": "dense", "units": 8, "activation": "sigmoid"}]})";
    ae_model *raw = nullptr;
    if (ae_model_create(spec, &raw) != AE_OK) return fail("ae_model_create");
    Model model(raw);
    std::size_t parameters = 0;
    if (ae_model_parameter_count(model.get(), &parameters) != AE_OK) return fail("ae_model_parameter_count");

    void *bytes = nullptr;
    std::size_t length = 0;
    if (ae_model_save_to_memory(model.get(), 0, &bytes, &length) != AE_OK) return fail("ae_model_save_to_memory");
    if (ae_model_load_from_memory(bytes, length, &raw) != AE_OK) return fail("ae_model_load_from_memory");
    ae_free(bytes);
    Model copy(raw);

    std::vector<float> input(4 * 8), first(4 * 8), second(4 * 8);
    for (std::size_t i = 0; i < input.size(); i++) input[i] = static_cast<float>(i % 5) / 4.0f;
    if (ae_model_reconstruct(model.get(), input.data(), 4, input.size(), first.data(), first.size()) != AE_OK ||
        ae_model_reconstruct(copy.get(), input.data(), 4, input.size(), second.data(), second.size()) != AE_OK)
        return fail("ae_model_reconstruct");
    if (first != second) {
        std::fprintf(stderr, "the reloaded model reconstructs differently\n");
        return 1;
    }
    std::printf("ok %s %zu\n", ae_version_string(), parameters);
    return parameters == 8 * 3 + 3 + 3 * 8 + 8 ? 0 : 1;
}
