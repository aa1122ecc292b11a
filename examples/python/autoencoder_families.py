#!/usr/bin/env python3
"""Evidence for the regularized, sparse, denoising, contractive and robust autoencoders.

Runs each experiment on the fixed MNIST split of data/ (4,000 training, 1,000 test images, pixels
/ 255) and on Breast Cancer Wisconsin, prints each figure beside its target, and writes pictures
to out/families/. The figures are recorded in docs/RESULTS.md.

    python3 examples/python/autoencoder_families.py [--out out/families] [--only NAME ...]

Experiments: sparse, denoising, inpainting, anomaly, wdbc.
Runs from a checkout (after `make library`) or with the package installed. Needs numpy, Pillow.
"""

import sys

import numpy as np
from PIL import Image, ImageDraw

from evidence import DIGITS, ROOT, ae, grid, load, main, mnist, mnist_labels, one_per_digit, psnr, roc_auc, train


def dense_spec(encoder, decoder, **extra):
    """A spec from (units, activation) pairs; 784 inputs, BCE, Adam 1e-3."""
    layer = lambda units, activation: {"type": "dense", "units": units, **({"activation": activation} if activation else {})}
    spec = {"input_size": 784, "encoder": [layer(*e) for e in encoder], "decoder": [layer(*d) for d in decoder],
            "loss": "bce", "optimizer": {"type": "adam", "lr": 1e-3}, "seed": 1}
    spec.update(extra)
    return spec


# The 784-256-64-256-784 network of the reference figures (ReLU, sigmoid output).
REFERENCE_ENCODER = [(256, "relu"), (64, "relu")]
REFERENCE_DECODER = [(256, "relu"), (784, "sigmoid")]


def sparse(report, out):
    """KL-sparse code: mean activation near the target rho, reconstruction close to the unpenalized net."""
    X, T = mnist("train"), mnist("test")
    rho = 0.1
    encoder = [(256, "relu"), (32, "relu"), (1024, "sigmoid")]
    plain = train(dense_spec(encoder, REFERENCE_DECODER), X, 100, 128)
    penalized = train(dense_spec(encoder, REFERENCE_DECODER,
                                 regularization={"sparsity": {"type": "kl", "target": rho, "weight": 1e-3}}), X, 100, 128)
    activation = penalized.encode(T).mean()
    plain_mse = np.mean((plain.reconstruct(T) - T) ** 2)
    sparse_mse = np.mean((penalized.reconstruct(T) - T) ** 2)
    print(f"  (unpenalized: mean code activation {plain.encode(T).mean():.3f})")
    report.add("sparse", f"mean code activation (rho = {rho})", f"{activation:.4f}",
               f"within 20%: [{0.8 * rho:.3f}, {1.2 * rho:.3f}]", abs(activation - rho) <= 0.2 * rho)
    report.add("sparse", "test MSE, sparse / unpenalized", f"{sparse_mse:.5f} / {plain_mse:.5f}",
               f"ratio {sparse_mse / plain_mse:.3f} <= 1.10", sparse_mse <= 1.1 * plain_mse)


def denoising(report, out):
    """Gaussian sigma = 0.5 denoising against the noisy input and a plain autoencoder."""
    X, T = mnist("train"), mnist("test")
    noisy = (T + np.random.default_rng(0).normal(0, 0.5, T.shape)).astype(np.float32)
    dae = train(dense_spec(REFERENCE_ENCODER, REFERENCE_DECODER, noise={"type": "gaussian", "stddev": 0.5}), X, 30, 128)
    plain = train(dense_spec(REFERENCE_ENCODER, REFERENCE_DECODER), X, 30, 128)
    denoised, plain_out = dae.reconstruct(noisy), plain.reconstruct(noisy)
    noisy_psnr, dae_psnr, plain_psnr = psnr(noisy, T), psnr(denoised, T), psnr(plain_out, T)
    report.add("denoising", "PSNR noisy -> denoised (dB)", f"{noisy_psnr:.1f} -> {dae_psnr:.1f}",
               f"gain {dae_psnr - noisy_psnr:.1f} >= 9 (PyTorch 6.0 -> 16.7)", dae_psnr - noisy_psnr >= 9)
    report.add("denoising", "PSNR plain AE on the noisy images (dB)", f"{plain_psnr:.1f}",
               f"below denoising (PyTorch 14.3)", plain_psnr < dae_psnr)
    p = one_per_digit()
    grid([T[p], np.clip(noisy[p], 0, 1), denoised[p], plain_out[p]], out / "denoising.png",
         row_labels=["clean", "noisy (σ 0.5)", "denoising AE", "plain AE"], column_labels=DIGITS)


def inpainting(report, out):
    """25% of the pixels missing: the autoencoder's fill against the per-pixel training mean."""
    X, T = mnist("train"), mnist("test")
    model = train(dense_spec(REFERENCE_ENCODER, REFERENCE_DECODER, noise={"type": "masking", "fraction": 0.25}), X, 30, 128)
    mask = (np.random.default_rng(1).random(T.shape) >= 0.25).astype(np.float32)
    missing = mask == 0
    filled = model.inpaint(T * mask, mask)
    mean_fill = np.where(missing, X.mean(axis=0), T)
    model_mse, mean_mse = np.mean((filled - T)[missing] ** 2), np.mean((mean_fill - T)[missing] ** 2)
    report.add("inpainting", "MSE on missing pixels, AE / pixel mean", f"{model_mse:.4f} / {mean_mse:.4f}",
               "AE below the mean fill", model_mse < mean_mse)
    p = one_per_digit()
    grid([T[p], T[p] * mask[p], filled[p]], out / "inpainting.png",
         row_labels=["original", "25% missing", "inpainted"], column_labels=DIGITS)


def anomaly(report, out):
    """One-class detection: trained on one digit, scored on all test images, ROC AUC per digit."""
    X, y = mnist("train"), mnist_labels("train")
    T, labels = mnist("test"), mnist_labels("test")
    aucs = []
    for digit in range(10):
        model = train(dense_spec(REFERENCE_ENCODER, REFERENCE_DECODER, seed=digit), X[y == digit], 60, 64)
        aucs.append(roc_auc(model.reconstruction_error(T), labels != digit))
    print("  ROC AUC per digit: " + ", ".join(f"{d}: {a:.3f}" for d, a in enumerate(aucs)))
    report.add("anomaly", "mean ROC AUC over the ten digits", f"{np.mean(aucs):.3f}",
               f">= 0.94 (PyTorch 0.948)", np.mean(aucs) >= 0.94)


def wdbc(report, out):
    """A 2-wide contractive code of the 30 Breast Cancer Wisconsin features, and a linear classifier on it."""
    features, diagnosis = load("wdbc_X.npy").astype(np.float32), load("wdbc_y.npy").astype(int)
    spec = {"input_size": 30, "name": "wdbc-contractive",
            "encoder": [{"type": "dense", "units": 16, "activation": "tanh"},
                        {"type": "dense", "units": 2, "activation": "sigmoid"}],
            "decoder": [{"type": "dense", "units": 16, "activation": "tanh"}, {"type": "dense", "units": 30}],
            "loss": "mse", "optimizer": {"type": "adam", "lr": 3e-3},
            "regularization": {"contractive": {"weight": 0.05}}, "seed": 1}
    model = ae.Autoencoder.from_spec(spec, epochs=300, batch_size=32, verbose=0)
    model.fit_input_scaling(features, kind="standardize")
    codes = model.fit(features).encode(features)

    # Logistic regression on the 2-D code, by gradient descent; accuracy on a held-out 30%.
    order = np.random.default_rng(2).permutation(len(codes))
    test, fit_part = order[: len(order) * 3 // 10], order[len(order) * 3 // 10:]
    mean, std = codes[fit_part].mean(axis=0), codes[fit_part].std(axis=0) + 1e-8
    Z = np.hstack([(codes - mean) / std, np.ones((len(codes), 1))])
    w = np.zeros(3)
    for _ in range(3000):
        p = 1 / (1 + np.exp(-Z[fit_part] @ w))
        w -= 0.1 * Z[fit_part].T @ (p - diagnosis[fit_part]) / len(fit_part)
    accuracy = np.mean(((Z[test] @ w) > 0) == diagnosis[test])
    report.add("wdbc", "linear classifier on the 2-D code, held out", f"{100 * accuracy:.1f}%",
               "separates the diagnoses (>= 90%)", accuracy >= 0.90)

    # Scatter plot: malignant red, benign blue.
    size, margin = 480, 30
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    low, high = codes.min(axis=0), codes.max(axis=0)
    for (a, b), label in zip(codes, diagnosis):
        x = margin + (a - low[0]) / (high[0] - low[0] + 1e-12) * (size - 2 * margin)
        y = size - margin - (b - low[1]) / (high[1] - low[1] + 1e-12) * (size - 2 * margin)
        color = (200, 40, 40) if label == 0 else (40, 80, 200)
        draw.ellipse([x - 3, y - 3, x + 3, y + 3], outline=color)
    draw.text((margin, 8), "wdbc: 2-D contractive code (red malignant, blue benign)", fill="black")
    image.save(out / "wdbc_code.png")


EXPERIMENTS = {"sparse": sparse, "denoising": denoising, "inpainting": inpainting, "anomaly": anomaly, "wdbc": wdbc}


if __name__ == "__main__":
    sys.exit(main(__doc__, EXPERIMENTS, ROOT / "out" / "families", total=False))
