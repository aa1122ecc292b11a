#!/usr/bin/env python3
"""Evidence for the convolutional autoencoders: denoising, upsampling, U-Net segmentation, 1-D signals.

Runs each experiment on the fixed MNIST split of data/ (4,000 training, 1,000 test images, pixels
/ 255), on digits pasted on textured backgrounds (scripts/make_segmentation_data.py) and on
synthetic periodic signals, prints each figure beside its target, and writes pictures to
out/conv/. The figures are recorded in docs/RESULTS.md.

    python3 examples/python/convolutional_autoencoders.py [--out out/conv] [--only NAME ...]

Experiments: denoising, upsampling, segmentation, signals. About 2-3 minutes on 2 cores.
Runs from a checkout (after `make library`) or with the package installed. Needs numpy, Pillow.
"""

import sys
import time

import numpy as np
from PIL import Image, ImageDraw

from evidence import DIGITS, ROOT, ae, flat, grid, main, mnist, one_per_digit, psnr, roc_auc, train


# ---- spec helpers -------------------------------------------------------------------------------

def conv(filters, kernel=3, stride=1, padding=1, activation="relu", dims=2, name=None, **extra):
    layer = {"type": f"conv{dims}d", "filters": filters, "kernel": kernel, "stride": stride, "padding": padding, **extra}
    if activation:
        layer["activation"] = activation
    if name:
        layer["name"] = name
    return layer


def tconv(filters, kernel=4, stride=2, padding=1, activation="relu", dims=2, name=None, **extra):
    layer = conv(filters, kernel, stride, padding, activation, dims, name, **extra)
    layer["type"] = f"conv_transpose{dims}d"
    return layer


def pool(name=None, kernel=2):
    return {"type": "max_pool2d", "kernel": kernel, **({"name": name} if name else {})}


# ---- 1. denoising: convolutional against dense ---------------------------------------------------

NOISE = {"type": "gaussian", "stddev": 0.5}

# The dense reference of autoencoder_families.py: 784-256-64 ReLU / 256 ReLU-784 sigmoid.
DENSE_DENOISER = {
    "input_size": 784,
    "encoder": [{"type": "dense", "units": 256, "activation": "relu"}, {"type": "dense", "units": 64, "activation": "relu"}],
    "decoder": [{"type": "dense", "units": 256, "activation": "relu"}, {"type": "dense", "units": 784, "activation": "sigmoid"}],
    "loss": "bce", "optimizer": {"type": "adam", "lr": 1e-3}, "noise": NOISE, "seed": 1}

# Strided convolutions down to a linear [4, 4, 4] code (64 values, as the dense code), transposed
# convolutions back up: 28 -> 14 -> 7 -> 4 -> 7 -> 14 -> 28.
CONV_DENOISER = {
    "input_shape": [1, 28, 28],
    "encoder": [conv(16, stride=2), conv(32, stride=2), conv(32), conv(4, stride=2, activation=None)],
    "decoder": [tconv(32, kernel=3), tconv(16), conv(16), tconv(1, activation="sigmoid")],
    "loss": "bce", "optimizer": {"type": "adam", "lr": 1e-3}, "noise": NOISE, "seed": 1}


def denoising(report, out):
    """Gaussian sigma = 0.5 denoising: a convolutional net against the dense one, same 64-wide code."""
    X, T = mnist("train"), mnist("test")
    noisy = (T + np.random.default_rng(0).normal(0, 0.5, T.shape)).astype(np.float32)
    dense = train(DENSE_DENOISER, X, 30, 128)
    convolutional = train(CONV_DENOISER, X, 30, 128)
    dense_out, conv_out = flat(dense.reconstruct(noisy)), flat(convolutional.reconstruct(noisy))
    dense_psnr, conv_psnr = psnr(dense_out, T), psnr(conv_out, T)
    code = flat(convolutional.encode(T[:1])).shape[1]
    print(f"  (noisy test images: {psnr(noisy, T):.1f} dB; code sizes: dense {flat(dense.encode(T[:1])).shape[1]}, "
          f"convolutional {code})")
    report.add("denoising", "test PSNR, conv / dense (dB)", f"{conv_psnr:.2f} / {dense_psnr:.2f}",
               "conv above dense (dense ~17.0)", conv_psnr > dense_psnr)
    report.add("denoising", "parameters, conv / dense",
               f"{convolutional.n_parameters / 1e3:.1f}k / {dense.n_parameters / 1e3:.1f}k",
               f"conv fewer ({dense.n_parameters / convolutional.n_parameters:.0f}x fewer)",
               convolutional.n_parameters < dense.n_parameters and code == 64)
    p = one_per_digit()
    grid([T[p], np.clip(noisy[p], 0, 1), dense_out[p], conv_out[p]], out / "denoising.png",
         row_labels=["clean", "noisy (σ 0.5)", "dense DAE", "conv DAE"], column_labels=DIGITS)


# ---- 2. the four ways up --------------------------------------------------------------------------

def upsampling_spec(kind, channels=8):
    """conv 16 -> max pool -> conv 8 -> max pool (a [8, 7, 7] code), decoder the mirror with `kind`
    as both upsampling steps: up -> conv 16 -> up -> conv 1 sigmoid."""
    def up(pool_name, filters):
        return {"nearest": {"type": "upsample_nearest2d", "scale": 2},
                "bed of nails": {"type": "bed_of_nails2d", "scale": 2},
                "max unpool": {"type": "max_unpool2d", "indices_from": pool_name},
                "transposed conv": tconv(filters, kernel=2, stride=2, padding=0, activation=None)}[kind]
    return {"input_shape": [1, 28, 28],
            "encoder": [conv(16), pool("pool1"), conv(channels), pool("pool2")],
            "decoder": [up("pool2", channels), conv(16), up("pool1", 16), conv(1, activation="sigmoid")],
            "loss": "bce", "optimizer": {"type": "adam", "lr": 1e-3}, "seed": 1}


UPSAMPLING_KINDS = ["nearest", "bed of nails", "max unpool", "transposed conv"]


def upsampling(report, out):
    """Nearest neighbour, bed of nails, max unpooling (SegNet indices), transposed convolution."""
    X, T = mnist("train"), mnist("test")
    p = one_per_digit()
    rows, pictures = [], [T[p]]
    for kind in UPSAMPLING_KINDS:
        start = time.perf_counter()
        model = train(upsampling_spec(kind), X, 10, 128)
        reconstruction = flat(model.reconstruct(T))
        rows.append((kind, np.mean((reconstruction - T) ** 2), model.n_parameters, model.can_decode,
                     time.perf_counter() - start))
        pictures.append(reconstruction[p])
    print(f"  {'upsampling (10 epochs, [8, 7, 7] code)':40} {'test MSE':>9} {'parameters':>11} {'decode(code)':>13} {'time':>6}")
    for kind, mse, parameters, can_decode, seconds in rows:
        print(f"  {kind:40} {mse:9.5f} {parameters:11,} {'yes' if can_decode else 'no':>13} {seconds:5.0f}s")
    best = min(rows, key=lambda r: r[1])
    print(f"  (a comparison, no target; lowest test MSE: {best[0]})")
    grid(pictures, out / "upsampling.png", row_labels=["original"] + UPSAMPLING_KINDS, column_labels=DIGITS)


# ---- 3. U-Net segmentation ------------------------------------------------------------------------

def unet_spec(width=8):
    """Two-level U-Net on 32x32: e1 (32x32) - pool - e2 (16x16) - pool - e3 (8x8), decoder stages
    up (transposed conv) -> concat with the encoder map of that size -> conv; 1x1 conv to 2 logits."""
    return {"input_shape": [1, 32, 32],
            "encoder": [conv(width, name="e1"), pool("p1"), conv(2 * width, name="e2"), pool("p2"),
                        conv(4 * width, name="e3")],
            "decoder": [tconv(2 * width, kernel=2, padding=0, name="up2"),
                        {"type": "concat", "name": "cat2", "inputs": ["up2", "e2"]},
                        conv(2 * width, name="d2"),
                        tconv(width, kernel=2, padding=0, name="up1"),
                        {"type": "concat", "name": "cat1", "inputs": ["up1", "e1"]},
                        conv(width, name="d1"),
                        conv(2, kernel=1, padding=0, activation=None, name="logits")],
            "loss": "cross_entropy", "optimizer": {"type": "adam", "lr": 3e-3}, "seed": 1}


def mean_iou(predicted, true, classes=2):
    ious = [np.sum((predicted == k) & (true == k)) / np.sum((predicted == k) | (true == k)) for k in range(classes)]
    return float(np.mean(ious)), ious


def segmentation(report, out):
    """Digits on textured backgrounds: a small U-Net's mean IoU on held-out canvases."""
    if not hasattr(ae.Autoencoder, "segment"):
        report.add("segmentation", "mean IoU on held-out canvases", "n/a",
                   "needs Autoencoder.segment", False)
        return
    sys.path.insert(0, str(ROOT / "scripts"))
    from make_segmentation_data import dataset
    (X, y), (T, t) = dataset()
    X, T = X.reshape(len(X), -1), T.reshape(len(T), -1)
    model = train(unet_spec(), X, 5, 32, y=y)
    predicted = np.asarray(model.segment(T)).reshape(t.shape)
    iou, per_class = mean_iou(predicted, t)
    # Baseline: the best single intensity threshold (either polarity), chosen on the training canvases.
    candidates = [(level, sign) for level in np.linspace(0.05, 0.95, 19) for sign in (1, -1)]
    level, sign = max(candidates, key=lambda c: mean_iou(threshold(X, *c), y.reshape(len(y), -1))[0])
    baseline, _ = mean_iou(threshold(T, level, sign), t.reshape(len(t), -1))
    print(f"  ({len(X):,} training / {len(T):,} test canvases of 32x32, {model.n_parameters:,} parameters; "
          f"IoU background {per_class[0]:.3f}, digit {per_class[1]:.3f}; "
          f"best global threshold: mean IoU {baseline:.3f})")
    report.add("segmentation", "U-Net mean IoU, held-out canvases", f"{iou:.3f}", ">= 0.80", iou >= 0.80)
    grid([T[:12], t[:12], predicted[:12]], out / "segmentation.png", shape=(32, 32),
         row_labels=["image", "true mask", "U-Net"], column_labels=[f"#{i + 1}" for i in range(12)])


def threshold(X, level, sign):
    """1 where a pixel is above `level` (sign 1) or below it (sign -1)."""
    return (sign * (X - level) > 0).astype(np.int32)


# ---- 4. 1-D signals ---------------------------------------------------------------------------------

SIGNAL_LENGTH = 128
ANOMALY_KINDS = ["spike", "flat line", "shifted segment"]


def signal_windows(count, rng, kinds=None):
    """Windows of a three-tone periodic signal (periods 32, 12 and 7 samples) with random phases
    and amplitudes plus N(0, 0.05^2) noise; kinds[i] = 1, 2, 3 injects a spike, a flat line or a
    shifted segment into window i."""
    t = np.arange(SIGNAL_LENGTH)
    phases = rng.uniform(0, 2 * np.pi, (count, 3))
    amplitudes = rng.uniform([0.6, 0.2, 0.1], [1.0, 0.5, 0.3], (count, 3))
    frequencies = 2 * np.pi / np.array([32.0, 12.0, 7.0])
    x = (amplitudes[:, :, None] * np.sin(frequencies[None, :, None] * t + phases[:, :, None])).sum(axis=1)
    x += rng.normal(0, 0.05, x.shape)
    for i, kind in enumerate(kinds if kinds is not None else []):
        if kind == 1:    # one sample off by 1 to 2
            x[i, rng.integers(SIGNAL_LENGTH)] += rng.choice([-1, 1]) * rng.uniform(1.0, 2.0)
        elif kind == 2:  # the sensor sticks for 12 to 24 samples
            width = rng.integers(12, 25)
            at = rng.integers(0, SIGNAL_LENGTH - width)
            x[i, at:at + width] = x[i, at]
        elif kind == 3:  # an offset of 0.5 to 0.9 over 16 to 32 samples
            width = rng.integers(16, 33)
            at = rng.integers(0, SIGNAL_LENGTH - width)
            x[i, at:at + width] += rng.choice([-1, 1]) * rng.uniform(0.5, 0.9)
    return x.astype(np.float32)


# 128 -> 64 -> 32 -> 16 samples by strided convolutions to a linear [4, 16] code, transposed
# convolutions back.
SIGNAL_SPEC = {
    "input_shape": [1, SIGNAL_LENGTH],
    "encoder": [conv(16, 5, 2, 2, dims=1), conv(32, 5, 2, 2, dims=1), conv(4, 5, 2, 2, activation=None, dims=1)],
    "decoder": [tconv(32, dims=1), tconv(16, dims=1), tconv(1, activation=None, dims=1)],
    "loss": "mse", "optimizer": {"type": "adam", "lr": 3e-3}, "seed": 1}


def signals(report, out):
    """A 1-D convolutional autoencoder of normal windows scores injected anomalies."""
    rng = np.random.default_rng(5)
    X = signal_windows(4000, rng)
    kinds = np.zeros(2000, int)
    kinds[1000:] = 1 + np.arange(1000) % 3
    T = signal_windows(2000, rng, kinds)
    model = train(SIGNAL_SPEC, X, 30, 64)
    scores = model.reconstruction_error(T)
    auc = roc_auc(scores, kinds > 0)
    per_kind = [roc_auc(scores[(kinds == 0) | (kinds == k)], kinds[(kinds == 0) | (kinds == k)] > 0) for k in (1, 2, 3)]
    print(f"  (4,000 normal training windows of {SIGNAL_LENGTH}; test: 1,000 normal, 1,000 anomalous; "
          f"{model.n_parameters:,} parameters, code {flat(model.encode(T[:1])).shape[1]})")
    print("  ROC AUC per kind against the normal windows: "
          + ", ".join(f"{name} {a:.3f}" for name, a in zip(ANOMALY_KINDS, per_kind)))
    report.add("signals", "ROC AUC, 50% anomalous test windows", f"{auc:.3f}", ">= 0.95", auc >= 0.95)
    picks = [int(np.flatnonzero(kinds == k)[0]) for k in range(4)]
    plot_signals(T[picks], flat(model.reconstruct(T[picks])), ["normal"] + ANOMALY_KINDS, out / "signals.png")


def plot_signals(windows, reconstructions, titles, path, width=512, height=110):
    """One panel per window: the window in black, its reconstruction in red."""
    image = Image.new("RGB", (width, height * len(windows)), "white")
    draw = ImageDraw.Draw(image)
    low, high = min(windows.min(), reconstructions.min()), max(windows.max(), reconstructions.max())
    for row, (x, r, title) in enumerate(zip(windows, reconstructions, titles)):
        top = row * height
        def points(v):
            return [(4 + i * (width - 8) / (len(v) - 1), top + 16 + (high - a) / (high - low) * (height - 22)) for i, a in enumerate(v)]
        draw.line(points(x), fill=(0, 0, 0), width=1)
        draw.line(points(r), fill=(220, 30, 30), width=1)
        draw.text((6, top + 2), f"{title} (black: window, red: reconstruction)", fill="black")
    image.save(path)


EXPERIMENTS = {"denoising": denoising, "upsampling": upsampling, "segmentation": segmentation, "signals": signals}


if __name__ == "__main__":
    sys.exit(main(__doc__, EXPERIMENTS, ROOT / "out" / "conv"))
