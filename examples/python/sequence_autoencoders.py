#!/usr/bin/env python3
"""Evidence for the sequence autoencoders: anomaly localisation on arterial blood pressure, speech
features of variable length, and a character-level autoencoder of English words.

Runs each experiment on the copies in data/signals and data/text (data/README.md: sources and
licences), prints each figure beside its target, and writes pictures to out/sequences/. The figures
are recorded in docs/RESULTS.md.

    python3 examples/python/sequence_autoencoders.py [--out out/sequences] [--only NAME ...]

Experiments: localisation, vowels, words. About 3-5 minutes on 2 cores, most of it the words.
Runs from a checkout (after `make library`) or with the package installed. Needs numpy, Pillow.
"""

import sys

import numpy as np
from PIL import Image, ImageDraw

from evidence import ROOT, ae, flat, grid, main, train


def signal(name: str) -> np.ndarray:
    return np.load(ROOT / "data" / "signals" / name)


# ---- 1. anomaly localisation: UCR anomaly archive, series 135 ---------------------------------------

WINDOW, TRAIN_STRIDE, TEST_STRIDE = 64, 1, 2
TOLERANCE = 100  # the archive's rule: a location within +-100 points of the labelled anomaly
CODE = 16


def starts(size: int, length: int, stride: int) -> np.ndarray:
    """Window starts every `stride` points, plus a last window ending at the last point."""
    return np.unique(np.append(np.arange(0, size - length + 1, stride), size - length))


def windows(x: np.ndarray, length: int, stride: int) -> np.ndarray:
    return np.stack([x[s:s + length] for s in starts(len(x), length, stride)]).astype(np.float32)


def recurrent_spec(kind: str) -> dict:
    """The classic recurrent autoencoder: encoder -> last state (the code) -> repeat -> decoder ->
    per-step dense back to one value per step."""
    return {"input_shape": [WINDOW, 1],
            "encoder": [{"type": kind, "units": 32, "return": "last"}, {"type": "dense", "units": CODE}],
            "decoder": [{"type": "repeat", "steps": WINDOW},
                        {"type": kind, "units": 32},
                        {"type": "time_distributed_dense", "units": 1}],
            "loss": "mse", "optimizer": {"type": "adam", "lr": 3e-3, "clip_grad_norm": 1.0}, "seed": 1}


def conv1d(filters, activation="relu"):
    """A kernel-5, stride-2 convolution that halves the length."""
    layer = {"type": "conv1d", "filters": filters, "kernel": 5, "stride": 2, "padding": 2}
    return {**layer, "activation": activation} if activation else layer


def tconv1d(filters, activation="relu"):
    """A kernel-4, stride-2 transposed convolution that doubles the length."""
    layer = {"type": "conv_transpose1d", "filters": filters, "kernel": 4, "stride": 2, "padding": 1}
    return {**layer, "activation": activation} if activation else layer


# 64 -> 32 -> 16 -> 8 samples by strided convolutions to a linear [2, 8] code (16 values), back up
# by transposed convolutions.
CONV_SPEC = {"input_shape": [1, WINDOW],
             "encoder": [conv1d(16), conv1d(32), conv1d(2, activation=None)],
             "decoder": [tconv1d(32), tconv1d(16), tconv1d(1, activation=None)],
             "loss": "mse", "optimizer": {"type": "adam", "lr": 3e-3}, "seed": 1}

DENSE_SPEC = {"input_size": WINDOW,
              "encoder": [{"type": "dense", "units": 32, "activation": "relu"}, {"type": "dense", "units": CODE}],
              "decoder": [{"type": "dense", "units": 32, "activation": "relu"}, {"type": "dense", "units": WINDOW}],
              "loss": "mse", "optimizer": {"type": "adam", "lr": 3e-3}, "seed": 1}

LOCALISATION_MODELS = [("LSTM AE", recurrent_spec("lstm"), 20), ("GRU AE", recurrent_spec("gru"), 20),
                       ("1-D conv AE", CONV_SPEC, 60), ("dense AE", DENSE_SPEC, 60)]


def point_errors(model, test: np.ndarray) -> np.ndarray:
    """Each test point's squared reconstruction error, averaged over the windows that cover it."""
    W = windows(test, WINDOW, TEST_STRIDE)
    R = flat(model.reconstruct(W))
    total, count = np.zeros(len(test)), np.zeros(len(test))
    for i, start in enumerate(starts(len(test), WINDOW, TEST_STRIDE)):
        total[start:start + WINDOW] += (R[i] - W[i]) ** 2
        count[start:start + WINDOW] += 1
    return total / np.maximum(count, 1)


def localisation(report, out):
    """Train on the normal part only; the location of the highest reconstruction error on the test
    part must fall within +-100 points of the labelled anomaly."""
    normal, test = signal("ucr135_internal_bleeding16_train.npy"), signal("ucr135_internal_bleeding16_test.npy")
    labelled = np.flatnonzero(signal("ucr135_internal_bleeding16_test_anomaly.npy"))
    begin, end = int(labelled[0]), int(labelled[-1])
    mean, std = normal.mean(), normal.std()
    normal, test = (normal - mean) / std, (test - mean) / std
    X = windows(normal, WINDOW, TRAIN_STRIDE)
    print(f"  ({len(X):,} training windows of {WINDOW} points, stride {TRAIN_STRIDE}, from the {len(normal):,} normal "
          f"points; test: {len(test):,} points in windows of {WINDOW}, stride {TEST_STRIDE}; labelled anomaly at "
          f"test points {begin}-{end}; error of a point = mean over the windows covering it)")
    curves = []
    for name, spec, epochs in LOCALISATION_MODELS:
        model = train(spec, X, epochs, 64)
        errors = point_errors(model, test)
        location = int(np.argmax(errors))
        distance = max(begin - location, location - end, 0)
        report.add("localisation", f"{name}: location of the highest error", f"{location} (off {distance})",
                   f"within {begin - TOLERANCE}-{end + TOLERANCE}", distance <= TOLERANCE)
        print(f"    {model.n_parameters:,} parameters, {epochs} epochs; error at the anomaly / median error: "
              f"{errors[begin:end + 1].max() / np.median(errors):.0f}x")
        curves.append((name, errors, location))
    plot_localisation(test, curves, begin, end, out / "ucr135_localisation.png")


def plot_localisation(test, curves, begin, end, path, width=760, panel=70):
    """The test signal, then one panel per model of its per-point error (log scale), the labelled
    anomaly shaded in every panel and each model's chosen location marked in red."""
    rows = 1 + len(curves)
    image = Image.new("RGB", (width, panel * rows + 4), "white")
    draw = ImageDraw.Draw(image)
    left, right = 6, width - 6

    def x_of(i):
        return left + i * (right - left) / (len(test) - 1)

    def line(values, top, colour, log=False):
        v = np.log10(np.maximum(values, 1e-6)) if log else values
        low, high = float(v.min()), float(v.max())
        step = max(1, len(v) // (right - left))  # one point per pixel column: the column's maximum
        columns = [v[i:i + step].max() for i in range(0, len(v), step)]
        points = [(x_of(i * step), top + panel - 6 - (c - low) / (high - low + 1e-12) * (panel - 22))
                  for i, c in enumerate(columns)]
        draw.line(points, fill=colour, width=1)

    for r in range(rows):
        top = r * panel
        draw.rectangle([x_of(begin - TOLERANCE), top + 14, x_of(end + TOLERANCE), top + panel - 4], fill=(255, 236, 200))
        draw.rectangle([x_of(begin), top + 14, x_of(end) + 1, top + panel - 4], fill=(255, 190, 120))
    draw.text((left, 2), "UCR 135 test part (arterial blood pressure); shaded: labelled anomaly and +-100", fill="black")
    line(test, 0, (0, 0, 0))
    for r, (name, errors, location) in enumerate(curves, start=1):
        top = r * panel
        draw.text((left, top + 2), f"{name}: reconstruction error per point (log scale); red: its highest", fill="black")
        line(errors, top, (40, 40, 160), log=True)
        draw.line([(x_of(location), top + 14), (x_of(location), top + panel - 4)], fill=(220, 30, 30), width=2)
    image.save(path, optimize=True)


# ---- 2. Japanese Vowels: variable-length speech features ---------------------------------------------

FRAMES, COEFFICIENTS, SPEAKERS = 29, 12, 9
VOWEL_EPOCHS, VOWEL_HIDDEN = 60, 32


def vowels_data():
    """(X, lengths, speaker 0-8) of the train and test parts: each coefficient standardised over the
    training part's valid frames; padding frames (past each length) hold 0."""
    parts = [(signal(f"japanese_vowels_{p}_X.npy"), signal(f"japanese_vowels_{p}_lengths.npy").astype(np.int32),
              signal(f"japanese_vowels_{p}_y.npy").astype(int) - 1) for p in ("train", "test")]
    X, lengths, _ = parts[0]
    valid = X[np.arange(FRAMES)[None, :] < lengths[:, None]]
    mean, std = valid.mean(axis=0), valid.std(axis=0)
    out = []
    for X, lengths, y in parts:
        inside = (np.arange(FRAMES)[None, :] < lengths[:, None])[:, :, None]
        out.append((np.where(inside, (X - mean) / std, 0).astype(np.float32), lengths, y))
    return out


def logistic_regression(F, y, F_test, l2=1e-3, iterations=2000, lr=0.5):
    """Predicted classes of F_test from a multinomial logistic regression fitted to (F, y) by full-batch
    gradient descent on the mean cross-entropy + l2/2 |W|^2 (no penalty on the biases); features
    standardised with the training statistics."""
    mean, std = F.mean(axis=0), F.std(axis=0) + 1e-8
    F = np.hstack([(F - mean) / std, np.ones((len(F), 1))])
    F_test = np.hstack([(F_test - mean) / std, np.ones((len(F_test), 1))])
    classes = int(y.max()) + 1
    W, Y = np.zeros((F.shape[1], classes)), np.eye(classes)[y]
    for _ in range(iterations):
        Z = F @ W
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        penalty = l2 * W
        penalty[-1] = 0
        W -= lr * (F.T @ (P - Y) / len(F) + penalty)
    return np.argmax(F_test @ W, axis=1)


def masked_mse(R, X, lengths):
    """Each sample's mean squared error over its valid frames."""
    inside = np.arange(X.shape[1])[None, :] < lengths[:, None]
    return (((R - X) ** 2).mean(axis=2) * inside).sum(axis=1) / lengths


def vowels(report, out):
    """A variable-length recurrent autoencoder of the utterances: its code as speaker features, and
    its reconstruction error against the same network trained on the zero-padded arrays."""
    (X, lengths, y), (T, test_lengths, t) = vowels_data()
    print(f"  ({len(X)} training / {len(T)} test utterances of {lengths.min()}-{max(lengths.max(), test_lengths.max())} "
          f"frames x {COEFFICIENTS} LPC cepstrum coefficients, {SPEAKERS} speakers; classifier: multinomial "
          f"logistic regression in numpy, l2 1e-3, fixed beforehand)")
    pooled = logistic_regression(X.sum(axis=1) / lengths[:, None], y, T.sum(axis=1) / test_lengths[:, None])
    pooled_accuracy = np.mean(pooled == t)
    print(f"    mean-pooled frames ({COEFFICIENTS} features): test accuracy {pooled_accuracy:.3f}")
    for cell in ("gru", "lstm"):
        def fitted(**lengths_given):
            model = ae.Autoencoder.sequence(FRAMES, COEFFICIENTS, hidden=VOWEL_HIDDEN, cell=cell, lr=3e-3, seed=1,
                                            epochs=VOWEL_EPOCHS, batch_size=32, verbose=0)
            return model.fit(X, **lengths_given)
        variable, padded = fitted(lengths=lengths), fitted()
        codes = np.asarray(variable.encode(X, lengths=lengths)), np.asarray(variable.encode(T, lengths=test_lengths))
        accuracy = np.mean(logistic_regression(codes[0], y, codes[1]) == t)
        report.add("vowels", f"{cell.upper()} code: speaker accuracy (test)", f"{accuracy:.3f}",
                   f">= mean-pooled frames ({pooled_accuracy:.3f})", accuracy >= pooled_accuracy)
        variable_mse = float(np.mean(variable.reconstruction_error(T, lengths=test_lengths)))
        padded_mse = float(np.mean(masked_mse(np.asarray(padded.reconstruct(T)).reshape(T.shape), T, test_lengths)))
        report.add("vowels", f"{cell.upper()}: test MSE, lengths / padded", f"{variable_mse:.3f} / {padded_mse:.3f}",
                   "lengths lower", variable_mse < padded_mse)
        if cell == "gru":
            plot_vowels(T, test_lengths, variable, padded, out / "vowels_reconstructions.png")
    print(f"    (code: the last hidden state, {VOWEL_HIDDEN} values; {VOWEL_EPOCHS} epochs, batch 32; MSE over the "
          f"valid frames of the standardised test utterances, both models scored the same way)")


def plot_vowels(T, lengths, variable, padded, path, count=10):
    """Test utterances as coefficient x frame maps (12 rows, 29 columns, grey = 0, padding at 0),
    above the GRU reconstructions with lengths and without (padded training)."""
    picks = np.linspace(0, len(T) - 1, count).astype(int)
    inside = (np.arange(FRAMES)[None, :] < lengths[picks, None])[:, :, None]
    rows = [T[picks],
            np.where(inside, np.asarray(variable.reconstruct(T[picks], lengths=lengths[picks])).reshape(-1, FRAMES, COEFFICIENTS), 0),
            np.asarray(padded.reconstruct(T[picks])).reshape(-1, FRAMES, COEFFICIENTS)]
    grid([[np.clip(0.5 + u.T / 6, 0, 1) for u in row] for row in rows], path, shape=(COEFFICIENTS, FRAMES), scale=3,
         row_labels=["test utterance", "GRU, lengths", "GRU, padded"],
         column_labels=[f"{lengths[i]} fr." for i in picks])


# ---- 3. a character-level autoencoder of English words ------------------------------------------------

WORD_TRAINING, WORD_TEST, WORD_EPOCHS, WORD_HIDDEN = 20000, 2000, 25, 128
PROBES = ["house", "running", "quickly", "computer", "happiness", "zebra"]


def words(report, out):
    """A GRU sequence-to-sequence autoencoder of characters (embedding -> GRU -> last state -> repeat
    -> GRU -> per-step logits): exact reconstruction of held-out words, and nearest neighbours in
    code space."""
    every = (ROOT / "data" / "text" / "words_en.txt").read_text().split()
    held_out = every[5::20][:WORD_TEST]  # every 20th word of the sorted list, never trained on
    rest = [w for i, w in enumerate(every) if i % 20 != 5]
    training = [rest[i] for i in np.random.default_rng(0).permutation(len(rest))[:WORD_TRAINING]]
    vocabulary = ae.CharacterVocabulary().fit(every)
    spec = ae.text_spec(vocabulary, max_length=12, hidden=WORD_HIDDEN, cell="gru", lr=5e-3, seed=1)
    spec["schedule"] = {"type": "cosine", "t_max": WORD_EPOCHS, "eta_min": 1e-4}  # settles the last epochs
    model = ae.Autoencoder.from_spec(spec, vocabulary=vocabulary, epochs=WORD_EPOCHS, batch_size=64, verbose=0)
    model.fit(training)
    exact = np.mean([a == b for a, b in zip(model.reconstruct(held_out), held_out)])
    seen = np.mean([a == b for a, b in zip(model.reconstruct(training[:WORD_TEST]), training[:WORD_TEST])])
    print(f"  ({len(every):,} words of 3-12 letters; {WORD_TRAINING:,} drawn for training, {WORD_TEST:,} held out (every 20th "
          f"word of the sorted list, none trained on); {vocabulary.size} token ids; {model.n_parameters:,} parameters; "
          f"code: the last GRU state, {WORD_HIDDEN} values; {WORD_EPOCHS} epochs, batch 64, Adam 5e-3 with a cosine "
          f"schedule; training words "
          f"reconstructed exactly: {seen:.3f})")
    report.add("words", "held-out words reconstructed exactly", f"{exact:.3f}", ">= 0.80", exact >= 0.80)
    codes = np.asarray(model.encode(every))
    unit = codes / np.linalg.norm(codes, axis=1, keepdims=True)
    print("    nearest neighbours by cosine similarity of the codes, among all words:")
    for probe in PROBES:
        similarity = unit @ unit[every.index(probe)]
        nearest = [every[i] for i in np.argsort(-similarity) if every[i] != probe][:6]
        print(f"      {probe:10} {', '.join(nearest)}")


EXPERIMENTS = {"localisation": localisation, "vowels": vowels, "words": words}


if __name__ == "__main__":
    sys.exit(main(__doc__, EXPERIMENTS, ROOT / "out" / "sequences"))
