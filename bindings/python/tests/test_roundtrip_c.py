"""Round trips across languages through the model file: a model trained in Python, saved and
loaded by a C program gives identical reconstructions; a model trained in C loads in Python with
identical results; and the same spec, data, seed and thread count train the same weights in
both. The C programs are compiled here with cc against build/include and build/lib."""

import json
import subprocess

import numpy as np


import autoencoders as ae

COMMON = r"""
#include <autoencoders.h>
#include <stdio.h>
#include <stdlib.h>

static void fail(const char *what, ae_status status) {
    fprintf(stderr, "%s: %s: %s\n", what, ae_status_string(status), ae_last_error());
    exit(1);
}
#define CHECK(call) do { ae_status s_ = (call); if (s_ != AE_OK) fail(#call, s_); } while (0)

static inline float *read_floats(const char *path, size_t count) {
    float *values = malloc(count * sizeof(float));
    FILE *file = fopen(path, "rb");
    if (!values || !file || fread(values, sizeof(float), count, file) != count) { perror(path); exit(1); }
    fclose(file);
    return values;
}

static inline void write_floats(const char *path, const float *values, size_t count) {
    FILE *file = fopen(path, "wb");
    if (!file || fwrite(values, sizeof(float), count, file) != count) { perror(path); exit(1); }
    fclose(file);
}

static inline char *read_text(const char *path) {
    FILE *file = fopen(path, "rb");
    if (!file) { perror(path); exit(1); }
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *text = calloc((size_t)size + 1, 1);
    if (!text || fread(text, 1, (size_t)size, file) != (size_t)size) { perror(path); exit(1); }
    fclose(file);
    return text;
}
"""

# usage: evaluate MODEL INPUT N RECON_OUT CODES_OUT SCORES_OUT
EVALUATE = COMMON + r"""
int main(int argc, char **argv) {
    if (argc != 7) return 2;
    CHECK(ae_set_num_threads(1));
    ae_model *model = NULL;
    CHECK(ae_model_load(argv[1], &model));
    size_t d = 0, k = 0, n = (size_t)strtoull(argv[3], NULL, 10);
    CHECK(ae_model_input_size(model, &d));
    CHECK(ae_model_code_size(model, &k));
    float *input = read_floats(argv[2], n * d);
    float *recon = malloc(n * d * sizeof(float)), *codes = malloc(n * k * sizeof(float));
    float *scores = malloc(n * sizeof(float));
    CHECK(ae_model_reconstruct(model, input, n, n * d, recon, n * d));
    CHECK(ae_model_encode(model, input, n, n * d, codes, n * k));
    CHECK(ae_model_score(model, input, n, n * d, scores, n));
    write_floats(argv[4], recon, n * d);
    write_floats(argv[5], codes, n * k);
    write_floats(argv[6], scores, n);
    free(input); free(recon); free(codes); free(scores);
    ae_model_free(model);
    return 0;
}
"""

# usage: train SPEC_JSON_FILE DATA N EPOCHS BATCH MODEL_OUT RECON_OUT
TRAIN = COMMON + r"""
int main(int argc, char **argv) {
    if (argc != 8) return 2;
    CHECK(ae_set_num_threads(1));
    char *spec = read_text(argv[1]);
    ae_model *model = NULL;
    CHECK(ae_model_create(spec, &model));
    size_t d = 0, n = (size_t)strtoull(argv[3], NULL, 10);
    CHECK(ae_model_input_size(model, &d));
    float *data = read_floats(argv[2], n * d);
    CHECK(ae_model_fit_input_scaling(model, AE_SCALING_MINMAX, data, n, n * d));
    ae_train_options options;
    CHECK(ae_train_options_init(&options, sizeof options));
    options.epochs = (size_t)strtoull(argv[4], NULL, 10);
    options.batch_size = (size_t)strtoull(argv[5], NULL, 10);
    options.validation_split = 0.25f;
    CHECK(ae_model_train(model, data, n, n * d, &options, NULL));
    CHECK(ae_model_save(model, argv[6], 1));
    float *recon = malloc(n * d * sizeof(float));
    CHECK(ae_model_reconstruct(model, data, n, n * d, recon, n * d));
    write_floats(argv[7], recon, n * d);
    free(spec); free(data); free(recon);
    ae_model_free(model);
    return 0;
}
"""


def run(program, *args):
    result = subprocess.run([str(program), *map(str, args)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr


def test_trained_in_python_runs_identically_in_c(compile_c, tmp_path, data, threads_pinned):
    program = compile_c(EVALUATE, "evaluate")
    model = ae.Autoencoder.dense(12, hidden=[10, 6], code_size=3, output_activation="sigmoid",
                                 loss="bce", seed=3, verbose=0)
    model.set_input_scaling(-0.1, 1.2)  # [0, 1] -> [1/12, 11/12]: BCE targets stay in [0, 1]
    model.fit(data, epochs=4, batch_size=16)
    path = tmp_path / "python.aem"
    model.save(path)
    data.tofile(tmp_path / "input.bin")
    run(program, path, tmp_path / "input.bin", len(data), tmp_path / "recon.bin",
        tmp_path / "codes.bin", tmp_path / "scores.bin")
    recon = np.fromfile(tmp_path / "recon.bin", dtype=np.float32).reshape(data.shape)
    codes = np.fromfile(tmp_path / "codes.bin", dtype=np.float32).reshape(len(data), 3)
    scores = np.fromfile(tmp_path / "scores.bin", dtype=np.float32)
    np.testing.assert_array_equal(recon, model.reconstruct(data))
    np.testing.assert_array_equal(codes, model.encode(data))
    np.testing.assert_array_equal(scores, model.reconstruction_error(data))


def test_trained_in_c_loads_identically_in_python(compile_c, tmp_path, data, small_spec,
                                                  threads_pinned):
    program = compile_c(TRAIN, "train")
    (tmp_path / "spec.json").write_text(json.dumps(small_spec))
    data.tofile(tmp_path / "data.bin")
    run(program, tmp_path / "spec.json", tmp_path / "data.bin", len(data), 5, 16,
        tmp_path / "c.aem", tmp_path / "recon.bin")
    loaded = ae.Autoencoder.load(tmp_path / "c.aem")
    recon_c = np.fromfile(tmp_path / "recon.bin", dtype=np.float32).reshape(data.shape)
    np.testing.assert_array_equal(loaded.reconstruct(data), recon_c)
    assert loaded.epochs_completed == 5 and loaded.spec == small_spec
    offset, scale = loaded.get_input_scaling()
    np.testing.assert_allclose(offset, data.min(axis=0))

    # The same training in Python (same spec, data, options, seed, threads): the same weights.
    python = ae.Autoencoder.from_spec(small_spec, verbose=0)
    python.fit_input_scaling(data, kind="minmax")
    python.fit(data, epochs=5, batch_size=16, validation_split=0.25)
    for name in loaded.parameter_names:
        np.testing.assert_array_equal(python.get_parameter(name), loaded.get_parameter(name),
                                      err_msg=name)
    assert python.to_bytes() == loaded.to_bytes()  # the same model file, byte for byte
