#!/usr/bin/env python3
"""Evidence for the variational autoencoders: W4 against PyTorch, a convolutional VAE, a VAE branch.

Runs each experiment on the fixed MNIST split of data/ (4,000 training, 1,000 test images, pixels
/ 255) and on digits pasted on textured backgrounds (scripts/make_segmentation_data.py), prints
each figure beside its target, and writes pictures to out/vae/. The figures are recorded in
docs/RESULTS.md.

    python3 examples/python/variational_autoencoders.py [--out out/vae] [--only NAME ...]

Experiments: w4, conv, branch. About 2-3 minutes on 2 cores.
Runs from a checkout (after `make library`) or with the package installed. Needs numpy, Pillow.

The test negative ELBO is computed here, in numpy, the way the PyTorch reference computes it: for
each test image, the binary cross-entropy summed over its pixels of decode(z), z = mu + sigma * eps
with eps drawn from a fixed numpy generator, plus KL(q(z|x) || N(0, I)) in closed form; averaged
over the images, then over 5 draws of eps (the spread over draws is reported as well). It uses
Autoencoder.encode_distribution (mu, log sigma^2) and decode; the pictures use generate (samples
from the prior) and interpolate (decoded points between the codes of two images).

Pictures: w4_samples.png and conv_samples.png (64 samples from the prior, seed 0),
w4_interpolation.png (each row: a test digit, 10 steps, the other digit), branch_segmentation.png
(rows: canvases, labels, the U-Net without the branch, with branch weight 0.1, with 0.001).
"""

import copy
import sys
import time

import numpy as np

from evidence import ROOT, ae, flat, grid, main, mnist, mnist_labels, train


def require_vae_api():
    """The VAE methods of the bindings (Autoencoder.encode_distribution, generate, interpolate)."""
    missing = [name for name in ("encode_distribution", "generate", "interpolate") if not hasattr(ae.Autoencoder, name)]
    if missing:
        sys.exit(f"these bindings lack Autoencoder.{', '.join(missing)}: update bindings/python")


def negative_elbo(model, T, draws=5, seed=0):
    """Test negative ELBO per image over `draws` draws of eps: (mean, sd over draws, mean BCE, mean KL)."""
    mean, logvar = (a.astype(np.float64) for a in model.encode_distribution(T))
    kl = -0.5 * np.sum(1 + logvar - mean ** 2 - np.exp(logvar), axis=1)
    rng = np.random.default_rng(seed)
    x = T.astype(np.float64)
    values, bces = [], []
    for _ in range(draws):
        z = mean + np.exp(0.5 * logvar) * rng.standard_normal(mean.shape)
        p = flat(model.decode(z.astype(np.float32))).astype(np.float64)
        # PyTorch's binary_cross_entropy: logs clamped at -100.
        bce = -np.sum(x * np.maximum(np.log(p), -100) + (1 - x) * np.maximum(np.log1p(-p), -100), axis=1)
        values.append(np.mean(bce + kl))
        bces.append(np.mean(bce))
    return float(np.mean(values)), float(np.std(values, ddof=1)), float(np.mean(bces)), float(np.mean(kl))


def last_epoch_terms(model) -> str:
    """The last epoch's training objective, split into its reconstruction and KL terms when the
    bindings report them."""
    history = model.history_
    text = f"train objective {history['train_loss'][-1]:.2f}"
    if history.get("reconstruction_loss") and history.get("kl_divergence"):
        text += f" = reconstruction {history['reconstruction_loss'][-1]:.2f} + KL {history['kl_divergence'][-1]:.2f}"
    return text


EPOCHS, BATCH = 20, 128
PYTORCH_W4 = 126.8  # PyTorch's test negative ELBO for W4 after 20 epochs (sd 0.13 over eps draws)

# ---- 1. W4: the dense VAE of the PyTorch example --------------------------------------------------

W4 = {
    "input_size": 784, "name": "w4-vae", "init": "pytorch",
    "encoder": [{"type": "dense", "units": 400, "activation": "relu"}, {"type": "variational", "units": 20}],
    "decoder": [{"type": "dense", "units": 400, "activation": "relu"}, {"type": "dense", "units": 784, "activation": "sigmoid"}],
    "loss": "bce", "optimizer": {"type": "adam", "lr": 1e-3}, "seed": 1}

_trained = {}


def dense_vae(X):
    """W4 trained for 20 epochs (once per run: the conv experiment compares with it), and its seconds."""
    if "w4" not in _trained:
        start = time.perf_counter()
        model = train(W4, X, EPOCHS, BATCH)
        _trained["w4"] = (model, time.perf_counter() - start)
    return _trained["w4"]


def w4(report, out):
    """W4 against PyTorch's test negative ELBO; samples from the prior; interpolations."""
    X, T = mnist("train"), mnist("test")
    model, seconds = dense_vae(X)
    elbo, sd, bce, kl = negative_elbo(model, T)
    low, high = 0.97 * PYTORCH_W4, 1.03 * PYTORCH_W4
    print(f"  ({model.n_parameters:,} parameters, {EPOCHS} epochs in {seconds:.1f} s; {last_epoch_terms(model)}; "
          f"test: BCE {bce:.2f} + KL {kl:.2f})")
    report.add("w4", "test negative ELBO per image (5 eps draws)", f"{elbo:.2f} sd {sd:.2f}",
               f"PyTorch {PYTORCH_W4} sd 0.13: [{low:.1f}, {high:.1f}]", low <= elbo <= high)

    samples = flat(model.generate(64, seed=0))
    again, other = flat(model.generate(64, seed=0)), flat(model.generate(64, seed=1))
    report.add("w4", "generate(64): same seed same, new seed new", f"{np.abs(samples - again).max():.1e}",
               "identical; seed 1 differs", np.array_equal(samples, again) and not np.allclose(samples, other))
    grid([samples[r * 8:(r + 1) * 8] for r in range(8)], out / "w4_samples.png",
         title="W4: 64 samples from the prior N(0, I), seed 0")

    labels = mnist_labels("test")
    pairs = [(int(np.flatnonzero(labels == a)[0]), int(np.flatnonzero(labels == b)[0]))
             for a, b in [(0, 6), (1, 7), (2, 3), (4, 9), (5, 8), (3, 8)]]
    rows = [np.concatenate([T[i:i + 1], flat(model.interpolate(T[i], T[j], steps=10)), T[j:j + 1]]) for i, j in pairs]
    # The ends of each strip decode the means of the two images' codes.
    mean, _ = model.encode_distribution(T[[pairs[0][0], pairs[0][1]]])
    ends = flat(model.decode(mean))
    gap = max(np.abs(rows[0][1] - ends[0]).max(), np.abs(rows[0][-2] - ends[1]).max())
    report.add("w4", "interpolate: ends = decode(mean of q(z|x))", f"{gap:.1e}", "<= 1e-5", gap <= 1e-5)
    grid(rows, out / "w4_interpolation.png", row_labels=[f"{a} → {b}" for a, b in [(0, 6), (1, 7), (2, 3), (4, 9), (5, 8), (3, 8)]],
         column_labels=["image"] + [f"t={k / 9:.2f}".replace("0.", ".") if 0 < k < 9 else f"t={k // 9}" for k in range(10)] + ["image"])


# ---- 2. a convolutional VAE -------------------------------------------------------------------------

# 28 -> 14 -> 7 by strided convolutions, a variational 20-wide code of the flattened [64, 7, 7] map,
# a dense layer back to [64, 7, 7], transposed convolutions 7 -> 14 -> 28.
CONV_VAE = {
    "input_shape": [1, 28, 28], "name": "conv-vae", "init": "pytorch",
    "encoder": [{"type": "conv2d", "filters": 32, "kernel": 4, "stride": 2, "padding": 1, "activation": "relu"},
                {"type": "conv2d", "filters": 64, "kernel": 4, "stride": 2, "padding": 1, "activation": "relu"},
                {"type": "flatten"},
                {"type": "variational", "units": 20}],
    "decoder": [{"type": "dense", "units": 64 * 7 * 7, "activation": "relu"},
                {"type": "reshape", "shape": [64, 7, 7]},
                {"type": "conv_transpose2d", "filters": 32, "kernel": 4, "stride": 2, "padding": 1, "activation": "relu"},
                {"type": "conv_transpose2d", "filters": 1, "kernel": 4, "stride": 2, "padding": 1, "activation": "sigmoid"}],
    "loss": "bce", "optimizer": {"type": "adam", "lr": 1e-3}, "seed": 1}


def conv(report, out):
    """The convolutional VAE against W4, same optimizer, batch and epochs."""
    X, T = mnist("train"), mnist("test")
    dense, _ = dense_vae(X)
    start = time.perf_counter()
    model = train(CONV_VAE, X, EPOCHS, BATCH)
    seconds = time.perf_counter() - start
    dense_elbo, _, _, _ = negative_elbo(dense, T)
    elbo, sd, bce, kl = negative_elbo(model, T)
    print(f"  ({EPOCHS} epochs in {seconds:.1f} s; {last_epoch_terms(model)}; test: BCE {bce:.2f} + KL {kl:.2f})")
    report.add("conv", "test negative ELBO, conv / dense W4", f"{elbo:.2f} / {dense_elbo:.2f}",
               f"conv <= 1.05 x dense = {1.05 * dense_elbo:.1f}", elbo <= 1.05 * dense_elbo)
    print(f"  {'parameters, conv / dense W4':46} {model.n_parameters / 1e3:.1f}k / {dense.n_parameters / 1e3:.1f}k")
    samples = flat(model.generate(64, seed=0))
    grid([samples[r * 8:(r + 1) * 8] for r in range(8)], out / "conv_samples.png",
         title="convolutional VAE: 64 samples from the prior N(0, I), seed 0")


# ---- 3. a VAE branch regularizing a segmentation encoder --------------------------------------------

def _conv(filters, kernel=3, stride=1, padding=1, activation="relu", name=None, transpose=False):
    layer = {"type": "conv_transpose2d" if transpose else "conv2d", "filters": filters, "kernel": kernel,
             "stride": stride, "padding": padding}
    if activation:
        layer["activation"] = activation
    if name:
        layer["name"] = name
    return layer


def segmentation_spec(width=8):
    """The two-level U-Net of convolutional_autoencoders.py on 32x32 canvases: e1 (32x32) - pool - e2
    (16x16) - pool - e3 (8x8); up (transposed conv) -> concat with the encoder map -> conv; 1x1 conv
    to 2 logits per pixel."""
    return {"input_shape": [1, 32, 32], "name": "unet-segmentation",
            "encoder": [_conv(width, name="e1"), {"type": "max_pool2d", "kernel": 2, "name": "p1"},
                        _conv(2 * width, name="e2"), {"type": "max_pool2d", "kernel": 2, "name": "p2"},
                        _conv(4 * width, name="e3")],
            "decoder": [_conv(2 * width, kernel=2, stride=2, padding=0, name="up2", transpose=True),
                        {"type": "concat", "name": "cat2", "inputs": ["up2", "e2"]},
                        _conv(2 * width, name="d2"),
                        _conv(width, kernel=2, stride=2, padding=0, name="up1", transpose=True),
                        {"type": "concat", "name": "cat1", "inputs": ["up1", "e1"]},
                        _conv(width, name="d1"),
                        _conv(2, kernel=1, padding=0, activation=None, name="logits")],
            "loss": "cross_entropy", "optimizer": {"type": "adam", "lr": 3e-3}, "seed": 1}


def with_vae_branch(spec, weight, loss="bce", units=16):
    """The same model plus a variational branch reconstructing the canvas from the bottleneck map e3
    ([32, 8, 8]): flatten -> variational 16 -> dense 1024 sigmoid -> reshape [1, 32, 32]."""
    spec = copy.deepcopy(spec)
    spec["name"] += "+vae-branch"
    spec["branches"] = [{"name": "vae", "weight": weight, "loss": loss,
                         "layers": [{"type": "flatten", "inputs": ["e3"]},
                                    {"type": "variational", "units": units},
                                    {"type": "dense", "units": 32 * 32, "activation": "sigmoid"},
                                    {"type": "reshape", "shape": [1, 32, 32]}]}]
    return spec


def segmentation_data():
    """((X, y), (T, t)): 4,000 training and 1,000 test 32x32 canvases from
    scripts/make_segmentation_data.py, or, without that script, MNIST digits on smooth random
    backgrounds (label: digit pixels above half their maximum)."""
    try:
        sys.path.insert(0, str(ROOT / "scripts"))
        from make_segmentation_data import dataset
        return dataset()
    except ImportError:
        def make(digits, count, seed):
            rng = np.random.default_rng(seed)
            digits = digits.reshape(len(digits), 28, 28)
            X, y = np.empty((count, 32, 32), np.float32), np.zeros((count, 32, 32), np.uint8)
            for n in range(count):
                coarse = rng.random((5, 5))
                smooth = np.kron(coarse, np.ones((8, 8)))[4:36, 4:36]
                canvas = 0.2 + 0.4 * smooth
                top, left = rng.integers(0, 5, 2)
                digit = digits[rng.integers(len(digits))]
                region = canvas[top:top + 28, left:left + 28]
                canvas[top:top + 28, left:left + 28] = (1 - digit) * region + digit * rng.uniform(0.7, 1.0)
                y[n, top:top + 28, left:left + 28] = digit > 0.5
                X[n] = np.clip(canvas + rng.normal(0, 0.05, canvas.shape), 0, 1)
            return X, y
        return make(mnist("train"), 4000, 11), make(mnist("test"), 1000, 12)


def mean_iou(predicted, true, classes=2):
    return float(np.mean([np.sum((predicted == k) & (true == k)) / np.sum((predicted == k) | (true == k))
                          for k in range(classes)]))


BRANCH_EPOCHS = 5
# The branch objective is per sample (BCE summed over 1,024 pixels + KL, ~650 at the start) while the
# cross-entropy is a mean over pixels (~0.3 at the start): weight 0.1 lets the branch dominate the
# shared encoder's gradient; 0.001 puts the two terms on a comparable scale.
BRANCH_WEIGHTS = [0.1, 0.001]


def branch(report, out):
    """U-Net segmentation with and without a variational reconstruction branch on its bottleneck."""
    (X, y), (T, t) = segmentation_data()
    X, T = X.reshape(len(X), -1), T.reshape(len(T), -1)
    rows, pictures = [], [T[:12], t[:12].reshape(12, -1)]
    for weight in [None] + BRANCH_WEIGHTS:
        spec = segmentation_spec() if weight is None else with_vae_branch(segmentation_spec(), weight)
        start = time.perf_counter()
        model = train(spec, X, BRANCH_EPOCHS, 32, y=y)
        seconds = time.perf_counter() - start
        predicted = flat(model.segment(T))
        losses = model.history_["train_loss"]
        rows.append((weight, mean_iou(predicted, t.reshape(len(t), -1)), model.n_parameters, losses[0], losses[-1],
                     seconds))
        pictures.append(predicted[:12])
    print(f"  ({len(X):,} training / {len(T):,} held-out canvases of 32x32, {BRANCH_EPOCHS} epochs, batch 32)")
    print(f"  {'model':34} {'mean IoU':>9} {'parameters':>11} {'objective epoch 1 -> last':>26} {'time':>6}")
    for weight, iou, parameters, first, last, seconds in rows:
        name = "U-Net, no branch" if weight is None else f"U-Net + VAE branch, weight {weight:g}"
        print(f"  {name:34} {iou:9.3f} {parameters:11,} {first:12.3f} -> {last:9.3f} {seconds:5.0f}s")
    plain = rows[0][1]
    print("  (a comparison, no target; held-out mean IoU with the branch minus without: "
          + ", ".join(f"weight {w:g}: {iou - plain:+.3f}" for w, iou, *_ in rows[1:]) + ")")
    weight, iou, _, first, last, _ = rows[1]
    report.add("branch", f"trains and segments, branch weight {weight:g}", f"IoU {iou:.3f}",
               "mean IoU >= 0.7, objective falls", iou >= 0.7 and last < first)
    grid(pictures, out / "branch_segmentation.png", shape=(32, 32),
         row_labels=["image", "true mask", "U-Net"] + [f"+ VAE branch {w:g}" for w in BRANCH_WEIGHTS],
         column_labels=[f"#{i + 1}" for i in range(12)])


EXPERIMENTS = {"w4": w4, "conv": conv, "branch": branch}


if __name__ == "__main__":
    sys.exit(main(__doc__, EXPERIMENTS, ROOT / "out" / "vae", prepare=require_vae_api))
