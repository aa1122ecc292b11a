"""Sequence models from Python: (n, T, F) arrays with lengths, lists of variable-length arrays,
fit / encode / reconstruct / score / evaluate / thresholds, the step-wise trainer, saving, and
bad input. The tests that pass lengths need a library with the sequence C ABI; they skip when
the loaded library does not export it."""

import pickle

import numpy as np
import pytest

import autoencoders as ae
from autoencoders import _library

T, F, H = 12, 3, 8

needs_lengths = pytest.mark.skipif(
    not all(_library.has(name) for name in ("ae_model_encode_sequences",
                                             "ae_model_reconstruct_sequences",
                                             "ae_model_score_sequences",
                                             "ae_model_evaluate_sequences",
                                             "ae_trainer_step_sequences")),
    reason="the library does not export the sequence calls (ae_model_*_sequences)")


def waves(n, seed=0):
    """(n, T, F) float32: phase-shifted sines of a few frequencies, one per feature."""
    rng = np.random.default_rng(seed)
    t = np.arange(T, dtype=np.float32)[None, :, None]
    frequency = rng.uniform(0.3, 0.8, (n, 1, 1)).astype(np.float32)
    phase = rng.uniform(0, 2 * np.pi, (n, 1, F)).astype(np.float32)
    return np.sin(frequency * t + phase).astype(np.float32)


@pytest.fixture(scope="module")
def X():
    return waves(64)


@pytest.fixture(scope="module")
def lengths():
    return np.random.default_rng(3).integers(2, T + 1, 64).astype(np.int32)


@pytest.fixture(scope="module")
def trained(X):
    """A small LSTM autoencoder trained a few epochs on full-length waves."""
    model = ae.Autoencoder.sequence(T, F, hidden=H, epochs=3, batch_size=16, lr=0.01, seed=1,
                                    verbose=0)
    model.fit(X)
    yield model
    model.close()


def lengths_of(X):
    return np.full(len(X), T, dtype=np.int32)


def garbage_in_padding(X, lengths, seed=9):
    """X with large finite values in every padded step."""
    noisy = X.copy()
    rng = np.random.default_rng(seed)
    for i, length in enumerate(lengths):
        noisy[i, length:] = rng.uniform(-50, 50, (T - length, F))
    return noisy


# ---- Builders and shapes ---------------------------------------------------------------------

def test_sequence_spec_is_the_classic_recurrent_autoencoder():
    spec = ae.sequence_spec(50, 32, hidden=64)
    assert spec["input_shape"] == [50, 32]
    assert spec["encoder"] == [{"type": "lstm", "units": 64, "return": "last"}]
    assert [entry["type"] for entry in spec["decoder"]] == ["repeat", "lstm",
                                                            "time_distributed_dense"]
    assert spec["decoder"][0]["steps"] == 50 and spec["decoder"][-1]["units"] == 32
    assert spec["optimizer"]["clip_grad_norm"] == 1.0
    gru = ae.sequence_spec(10, 2, hidden=4, cell="gru", code_size=3, layers=2)
    assert gru["encoder"][0] == {"type": "gru", "units": 4, "return": "last", "layers": 2}
    assert gru["encoder"][1] == {"type": "dense", "units": 3}
    seq2seq = ae.sequence_spec(10, 2, hidden=4, layers=2, code_size=8, initial_state=True)
    assert seq2seq["encoder"][-1]["name"] == "code"
    assert seq2seq["decoder"][1]["initial_state"] == "code"
    with pytest.raises(ValueError, match="layers \\* hidden = 8 values; it has 5"):
        ae.sequence_spec(10, 2, hidden=4, layers=2, code_size=5, initial_state=True)
    with pytest.raises(ValueError, match="cell"):
        ae.sequence_spec(10, 2, cell="rnn")
    with pytest.raises(ValueError, match="steps"):
        ae.sequence_spec(0, 2)


def test_shapes_of_a_sequence_model(trained, X):
    assert trained.is_sequence and not trained.is_text
    assert trained.steps == T and trained.input_shape == (T, F)
    assert trained.encode(X).shape == (64, H)
    assert trained.reconstruct(X).shape == (64, T, F)
    assert trained.reconstruct(X.reshape(64, T * F)).shape == (64, T, F)  # flat input too
    scores = trained.reconstruction_error(X)
    assert scores.shape == (64,) and np.all(np.isfinite(scores)) and np.all(scores >= 0)
    assert np.isfinite(trained.evaluate(X))
    assert trained.decode(trained.encode(X[:4])).shape == (4, T, F)


def test_training_lowers_the_loss(trained):
    losses = trained.history_["train_loss"]
    assert len(losses) == 3 and losses[-1] < losses[0]


def test_a_list_of_full_length_sequences_equals_the_array(trained, X):
    listed = list(X[:5])
    np.testing.assert_allclose(trained.encode(listed), trained.encode(X[:5]), atol=1e-6)
    out = trained.reconstruct(listed)
    assert isinstance(out, list) and len(out) == 5 and out[0].shape == (T, F)
    np.testing.assert_allclose(np.stack(out), trained.reconstruct(X[:5]), atol=1e-6)


# ---- Lengths ---------------------------------------------------------------------------------

@needs_lengths
def test_padding_does_not_change_codes_reconstructions_or_scores(trained, X, lengths):
    noisy = garbage_in_padding(X, lengths)
    np.testing.assert_allclose(trained.encode(noisy, lengths=lengths),
                               trained.encode(X, lengths=lengths), rtol=1e-5, atol=1e-6)
    clean = trained.reconstruct(X, lengths=lengths)
    np.testing.assert_allclose(trained.reconstruct(noisy, lengths=lengths), clean,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(trained.reconstruction_error(noisy, lengths=lengths),
                               trained.reconstruction_error(X, lengths=lengths), rtol=1e-5, atol=1e-7)
    assert trained.evaluate(noisy, lengths=lengths) == pytest.approx(
        trained.evaluate(X, lengths=lengths), rel=1e-5)
    for i, length in enumerate(lengths):
        assert not clean[i, length:].any(), "padded steps of a reconstruction are 0"


@needs_lengths
def test_lengths_change_the_code(trained, X):
    short = np.full(len(X), T // 2, dtype=np.int32)
    assert not np.allclose(trained.encode(X, lengths=short), trained.encode(X), atol=1e-4)


@needs_lengths
def test_full_lengths_equal_no_lengths(trained, X):
    full = np.full(len(X), T, dtype=np.int32)
    np.testing.assert_allclose(trained.encode(X, lengths=full), trained.encode(X), atol=1e-5)
    np.testing.assert_allclose(trained.reconstruction_error(X, lengths=full), trained.reconstruction_error(X), rtol=1e-5)


@needs_lengths
def test_a_list_of_variable_length_sequences_equals_padded_and_lengths(trained, X, lengths):
    listed = [X[i, :length] for i, length in enumerate(lengths)]
    np.testing.assert_allclose(trained.encode(listed), trained.encode(X, lengths=lengths),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(trained.reconstruction_error(listed), trained.reconstruction_error(X, lengths=lengths),
                               rtol=1e-5, atol=1e-7)
    assert trained.evaluate(listed) == pytest.approx(trained.evaluate(X, lengths=lengths),
                                                     rel=1e-5)
    out = trained.reconstruct(listed)
    padded = trained.reconstruct(X, lengths=lengths)
    assert [o.shape for o in out] == [(length, F) for length in lengths]
    for i, length in enumerate(lengths):
        np.testing.assert_allclose(out[i], padded[i, :length], rtol=1e-5, atol=1e-6)


@needs_lengths
def test_single_feature_sequences_may_be_vectors():
    with ae.Autoencoder.sequence(T, 1, hidden=4, cell="gru", verbose=0) as model:
        listed = [np.linspace(0, 1, n, dtype=np.float32) for n in (3, T, 7)]
        out = model.reconstruct(listed)
        assert [o.shape for o in out] == [(3, 1), (T, 1), (7, 1)]
        padded = np.zeros((3, T), np.float32)
        for i, v in enumerate(listed):
            padded[i, :v.size] = v
        np.testing.assert_allclose(model.encode(listed),
                                   model.encode(padded, lengths=[3, T, 7]), atol=1e-6)


@needs_lengths
def test_fit_with_lengths_and_validation(X, lengths):
    model = ae.Autoencoder.sequence(T, F, hidden=H, cell="gru", epochs=2, batch_size=16,
                                    lr=0.01, verbose=0)
    model.fit(X[:48], lengths=lengths[:48], validation_data=X[48:],
              validation_lengths=lengths[48:])
    assert all(np.isfinite(model.history_["validation_loss"]))
    # The list form trains on exactly the same batches: same seed, same result.
    other = ae.Autoencoder.sequence(T, F, hidden=H, cell="gru", epochs=2, batch_size=16,
                                    lr=0.01, verbose=0)
    other.fit([X[i, :n] for i, n in enumerate(lengths[:48])],
              validation_data=[X[i, :n] for i, n in zip(range(48, 64), lengths[48:])])
    np.testing.assert_allclose(other.history_["train_loss"], model.history_["train_loss"],
                               rtol=1e-4)
    np.testing.assert_allclose(other.encode(X, lengths=lengths),
                               model.encode(X, lengths=lengths), rtol=1e-4, atol=1e-5)
    # Padding garbage in the training data changes nothing either, with a validation split.
    histories, codes = [], []
    for data in (X[:48], garbage_in_padding(X[:48], lengths[:48])):
        third = ae.Autoencoder.sequence(T, F, hidden=H, cell="gru", epochs=2, batch_size=16,
                                        lr=0.01, verbose=0)
        third.fit(data, lengths=lengths[:48], validation_split=0.25)
        histories.append(third.history_["train_loss"] + third.history_["validation_loss"])
        codes.append(third.encode(X, lengths=lengths))
    np.testing.assert_allclose(histories[1], histories[0], rtol=1e-4)
    np.testing.assert_allclose(codes[1], codes[0], rtol=1e-4, atol=1e-5)


@needs_lengths
def test_input_scaling_counts_only_valid_steps(X, lengths):
    a = ae.Autoencoder.sequence(T, F, hidden=4, epochs=1, input_scaling="standardize",
                                verbose=0)
    b = ae.Autoencoder.sequence(T, F, hidden=4, epochs=1, input_scaling="standardize",
                                verbose=0)
    a.fit(X, lengths=lengths)
    b.fit(garbage_in_padding(X, lengths), lengths=lengths)
    offset_a, scale_a = a.get_input_scaling()
    offset_b, scale_b = b.get_input_scaling()
    np.testing.assert_allclose(offset_a, offset_b, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(scale_a, scale_b, rtol=1e-6)
    valid = np.concatenate([X[i, :n] for i, n in enumerate(lengths)])
    np.testing.assert_allclose(offset_a.reshape(T, F)[0], valid.mean(axis=0), rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(scale_a.reshape(T, F)[5], valid.std(axis=0), rtol=1e-4)


@needs_lengths
def test_threshold_and_anomalies_with_lengths(X, lengths):
    with ae.Autoencoder.sequence(T, F, hidden=4, verbose=0) as model:
        threshold = model.fit_threshold(X, 0.9, lengths=lengths)
        scores = model.reconstruction_error(X, lengths=lengths)
        assert threshold == pytest.approx(float(np.quantile(scores.astype(np.float64), 0.9)),
                                          rel=1e-6)
        assert model.threshold == pytest.approx(threshold)
        flags = model.is_anomaly(X, lengths=lengths)
        assert flags.dtype == bool and np.array_equal(flags, scores > np.float32(threshold))
        assert 3 <= flags.sum() <= 10


@needs_lengths
def test_trainer_steps_with_lengths(X, lengths):
    with ae.Autoencoder.sequence(T, F, hidden=4, lr=0.01, verbose=0) as model, \
            ae.Trainer(model, batch_size=16) as trainer:
        first = trainer.step(X[:16], lengths=lengths[:16])
        for _ in range(30):
            last = trainer.step(X[:16], lengths=lengths[:16])
        assert last < first
        listed = trainer.step([X[i, :n] for i, n in enumerate(lengths[:16])])
        assert np.isfinite(listed)
        with pytest.raises(ValueError, match="lengths"):
            trainer.step(X[:4], lengths=[0, 1, 2, 3])


# ---- Saving ----------------------------------------------------------------------------------

def test_save_load_and_pickle_keep_a_sequence_model(trained, X, tmp_path):
    path = tmp_path / "sequences.aem"
    trained.save(path)
    loaded = ae.Autoencoder.load(path)
    assert loaded.is_sequence and loaded.input_shape == (T, F)
    np.testing.assert_allclose(loaded.encode(X), trained.encode(X), atol=1e-6)
    copy = pickle.loads(pickle.dumps(trained))
    np.testing.assert_allclose(copy.reconstruct(X[:3]), trained.reconstruct(X[:3]), atol=1e-6)


@needs_lengths
def test_a_loaded_model_answers_the_same_with_lengths(trained, X, lengths, tmp_path):
    path = tmp_path / "sequences.aem"
    trained.save(path)
    loaded = ae.Autoencoder.load(path)
    np.testing.assert_allclose(loaded.encode(X, lengths=lengths),
                               trained.encode(X, lengths=lengths), atol=1e-6)
    np.testing.assert_allclose(loaded.reconstruction_error(X, lengths=lengths),
                               trained.reconstruction_error(X, lengths=lengths), rtol=1e-6)


# ---- Bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize("bad, message", [
    ([0] + [T] * 63, r"lengths\[0\] = 0; expected a length in 1\.\.12"),
    ([T] * 5 + [T + 1] + [T] * 58, r"lengths\[5\] = 13"),
    ([-1] + [T] * 63, r"lengths\[0\] = -1"),
])
def test_lengths_outside_1_to_T_are_refused(trained, X, bad, message):
    with pytest.raises(ValueError, match=message):
        trained.encode(X, lengths=bad)
    with pytest.raises(ValueError, match=message):
        trained.fit(X, lengths=bad)


def test_lengths_must_match_the_samples(trained, X):
    with pytest.raises(ae.ShapeError, match="lengths has 3 values but there are 64 samples"):
        trained.reconstruction_error(X, lengths=[T, T, T])
    with pytest.raises(ae.ShapeError, match=r"expected \(64,\)"):
        trained.reconstruction_error(X, lengths=np.full((64, 1), T))
    with pytest.raises(TypeError, match="lengths holds"):
        trained.reconstruction_error(X, lengths=np.full(64, 2.5))
    with pytest.raises(ValueError, match="validation_lengths is given without validation_data"):
        trained.fit(X, validation_lengths=[T] * 64)
    with pytest.raises(ValueError, match=r"X_val alone .* not a tuple \(X_val, y_val\)"):
        trained.fit(X, validation_data=(X, lengths_of(X)))


def test_wrong_feature_count_or_steps_are_refused(trained, X):
    with pytest.raises(ae.ShapeError, match=r"X has shape \(64, 12, 4\); expected \(n, 12, 3\)"):
        trained.encode(np.zeros((64, T, F + 1), np.float32))
    with pytest.raises(ae.ShapeError, match=r"X has shape \(64, 30\)"):
        trained.encode(np.zeros((64, 30), np.float32))
    with pytest.raises(ae.ShapeError, match=r"X\[1\] has shape \(5, 4\); expected \(steps, 3\)"):
        trained.encode([X[0], np.zeros((5, 4), np.float32)])


def test_a_too_long_or_empty_sequence_in_a_list_is_named(trained, X):
    with pytest.raises(ValueError, match=r"X\[2\] has 13 steps; expected 1 to 12"):
        trained.reconstruct([X[0], X[1], np.zeros((T + 1, F), np.float32)])
    with pytest.raises(ValueError, match=r"X\[1\] has 0 steps"):
        trained.reconstruct([X[0], np.zeros((0, F), np.float32)])
    with pytest.raises(ValueError, match="empty list"):
        trained.encode([])
    with pytest.raises(ValueError, match="carries its own lengths"):
        trained.encode([X[0], X[1]], lengths=[T, T])


def test_nan_is_refused_and_nothing_changes(trained, X):
    before = trained.parameters()
    bad = X.copy()
    bad[2, 4, 1] = np.nan
    with pytest.raises(ae.NumericError):
        trained.fit(bad, epochs=1)
    with pytest.raises(ValueError):
        trained.encode(bad)
    after = trained.parameters()
    assert all(np.array_equal(before[name], after[name]) for name in before)


@needs_lengths
def test_nan_in_a_valid_step_with_lengths_is_refused(trained, X, lengths):
    bad = X.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ae.NumericError):
        trained.reconstruction_error(bad, lengths=lengths)


def test_lengths_on_a_model_that_is_not_a_sequence_model(model, data):
    with pytest.raises(ValueError, match=r"lengths is for sequence models .* \(12,\)"):
        model.encode(data, lengths=[1] * len(data))
    with pytest.raises(ValueError, match="lengths is for sequence models"):
        model.fit(data, lengths=[1] * len(data))


# ---- Across languages ------------------------------------------------------------------------

# usage: sequences MODEL INPUT LENGTHS N CODES_OUT RECON_OUT SCORES_OUT
C_SEQUENCES = r"""
#include <autoencoders.h>
#include <stdio.h>
#include <stdlib.h>
#define CHECK(call) do { ae_status s_ = (call); if (s_ != AE_OK) { \
    fprintf(stderr, "%s: %s\n", #call, ae_last_error()); return 1; } } while (0)

static void *read_file(const char *path, size_t bytes) {
    void *data = malloc(bytes);
    FILE *file = fopen(path, "rb");
    if (!data || !file || fread(data, 1, bytes, file) != bytes) { perror(path); exit(1); }
    fclose(file);
    return data;
}

static void write_file(const char *path, const void *data, size_t bytes) {
    FILE *file = fopen(path, "wb");
    if (!file || fwrite(data, 1, bytes, file) != bytes) { perror(path); exit(1); }
    fclose(file);
}

int main(int argc, char **argv) {
    if (argc != 8) return 2;
    ae_model *model = NULL;
    CHECK(ae_model_load(argv[1], &model));
    size_t steps = 0, features = 0, k = 0, n = (size_t)strtoull(argv[4], NULL, 10);
    int is_sequence = 0;
    CHECK(ae_model_sequence_shape(model, &steps, &features, &is_sequence));
    CHECK(ae_model_code_size(model, &k));
    if (!is_sequence) return 3;
    size_t count = n * steps * features;
    float *input = read_file(argv[2], count * sizeof(float));
    int32_t *lengths = read_file(argv[3], n * sizeof(int32_t));
    float *codes = malloc(n * k * sizeof(float)), *recon = malloc(count * sizeof(float));
    float *scores = malloc(n * sizeof(float));
    CHECK(ae_model_encode_sequences(model, input, lengths, n, count, n, codes, n * k));
    CHECK(ae_model_reconstruct_sequences(model, input, lengths, n, count, n, recon, count));
    CHECK(ae_model_score_sequences(model, input, lengths, n, count, n, scores, n));
    write_file(argv[5], codes, n * k * sizeof(float));
    write_file(argv[6], recon, count * sizeof(float));
    write_file(argv[7], scores, n * sizeof(float));
    free(input); free(lengths); free(codes); free(recon); free(scores);
    ae_model_free(model);
    return 0;
}
"""


@needs_lengths
def test_c_reads_a_python_sequence_model_with_the_same_lengths(trained, X, lengths, compile_c,
                                                                tmp_path):
    import subprocess
    program = compile_c(C_SEQUENCES, "sequences")
    trained.save(tmp_path / "model.aem")
    X.astype(np.float32).tofile(tmp_path / "input.f32")
    lengths.astype(np.int32).tofile(tmp_path / "lengths.i32")
    outputs = [tmp_path / name for name in ("codes.f32", "recon.f32", "scores.f32")]
    subprocess.run([str(program), str(tmp_path / "model.aem"), str(tmp_path / "input.f32"),
                    str(tmp_path / "lengths.i32"), str(len(X))] + [str(p) for p in outputs],
                   check=True)
    codes, recon, scores = (np.fromfile(p, dtype=np.float32) for p in outputs)
    np.testing.assert_allclose(codes.reshape(len(X), H), trained.encode(X, lengths=lengths),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(recon.reshape(X.shape), trained.reconstruct(X, lengths=lengths),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scores, trained.reconstruction_error(X, lengths=lengths), rtol=1e-5)
