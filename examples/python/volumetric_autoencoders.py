#!/usr/bin/env python3
"""Evidence for volumes (docs/RESULTS.md, "Volumes"): the lecture's brain-tumour segmentation
network (Myronenko 2018: a 3-D U-Net-style encoder-decoder with group norm and residual blocks, a
soft Dice + cross-entropy head, and a VAE branch reconstructing the input from the deepest
features as a regulariser) on synthetic brain-like phantoms, with and without the VAE branch at
16 and 128 training volumes; and a 3-D convolutional denoising autoencoder on the same phantoms.

    make volumetric            (python3 examples/python/volumetric_autoencoders.py [--out out/volumetric])

The phantoms (32^3, scripts/make_brain_phantoms.py, seed 0) are generated in memory. The network
is examples/specs/brain_unet3d_vae.json at half its width (4-8-16 channels instead of 8-16-32) to
keep the run to a few minutes on 2 cores. Every run trains for the same number of optimizer
steps (the 16-volume runs for 8x more epochs), so the comparison is between data set sizes, not
compute budgets. Dice is the hard Dice of the tumour class per held-out volume, averaged over the
32 test volumes, then over four seeds (initialisation and batch order) per configuration.
"""

import copy
import json
import sys
import time

import numpy as np

from evidence import ROOT, ae, grid, main

sys.path.insert(0, str(ROOT / "scripts"))
from make_brain_phantoms import make  # noqa: E402

SPEC_PATH = ROOT / "examples" / "specs" / "brain_unet3d_vae.json"
TEST_VOLUMES = 32
STEP_SAMPLES = 768          # samples seen by every segmentation run (batch 2: 384 optimizer steps)
WIDTH = 0.5                 # channel multiplier of the committed spec
SEEDS = (0, 1, 2, 3)        # every configuration is trained from four initialisations


def brain_spec(vae: bool, width: float = WIDTH, seed: int = 0) -> dict:
    """The committed network, its main path's channels scaled by `width`; without its VAE branch
    when `vae` is False."""
    spec = json.loads(SPEC_PATH.read_text())
    for entry in spec["encoder"] + spec["decoder"]:
        if "filters" in entry and entry.get("name") != "logits":
            entry["filters"] = max(1, int(round(entry["filters"] * width)))
    if not vae:
        del spec["branches"]
    spec["seed"] = seed
    return spec


def dice(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Hard Dice of class 1 per volume (1 when both are empty)."""
    p, t = predicted.reshape(len(predicted), -1) == 1, truth.reshape(len(truth), -1) == 1
    inter, total = (p & t).sum(1), p.sum(1) + t.sum(1)
    return np.where(total == 0, 1.0, 2 * inter / np.maximum(total, 1))


def middle_slices(volumes: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The axial slice (along the depth) with the most tumour voxels of each volume."""
    depth = labels.reshape(len(labels), labels.shape[1], -1).sum(2).argmax(1)
    return np.array([v[d] for v, d in zip(volumes, depth)]), depth


def segmentation(report, out):
    """Dice on held-out phantoms with and without the VAE branch, at 16 and 128 training volumes."""
    (X, y), (T, t) = make(128, "train"), make(TEST_VOLUMES, "test")
    results, predictions = {}, {}
    for count in (16, 128):
        for vae in (False, True):
            runs = []
            for seed in SEEDS:
                spec = brain_spec(vae, seed=seed)
                epochs = STEP_SAMPLES // count
                model = ae.Model.from_spec(spec, epochs=epochs, batch_size=2, verbose=0)
                start = time.perf_counter()
                model.fit(X[:count], y[:count])
                seconds = time.perf_counter() - start
                predicted = np.asarray(model.segment(T))
                scores = dice(predicted, t)
                runs.append(scores.mean())
                if seed == SEEDS[0]:
                    predictions[(count, vae)] = predicted
                print(f"  {count:3d} volumes, {'with' if vae else 'without':7} VAE branch, seed {seed}: Dice {scores.mean():.3f} "
                      f"(sd over volumes {scores.std():.3f}) after {epochs} epochs, {seconds:.0f} s, "
                      f"{model.n_parameters:,} parameters, last loss {model.history_['train_loss'][-1]:.3f}", flush=True)
            results[(count, vae)] = np.array(runs)
    for count in (16, 128):
        without, with_vae = results[(count, False)].mean(), results[(count, True)].mean()
        report.add("segmentation", f"Dice, {count} volumes: without / with VAE", f"{without:.3f} / {with_vae:.3f}",
                   f"reported ({len(SEEDS)} seeds each)", True)
    more = np.mean([results[(128, v)].mean() for v in (False, True)]) - np.mean([results[(16, v)].mean() for v in (False, True)])
    report.add("segmentation", "Dice gain from 8x the training volumes", f"{more:+.3f}", "> 0 (more data helps)", more > 0)
    gain16 = results[(16, True)].mean() - results[(16, False)].mean()
    gain128 = results[(128, True)].mean() - results[(128, False)].mean()
    report.add("segmentation", "VAE gain in Dice, 16 / 128 volumes", f"{gain16:+.3f} / {gain128:+.3f}",
               "reported, not a target", True)
    # Pictures: the slice with the most tumour of the first six test volumes.
    picks = list(range(6))
    image, depth = middle_slices(T[picks, 0], t[picks])
    rows = [image, t[picks, :, :, :][np.arange(6), depth].astype(np.float32)]
    names = ["phantom", "tumour"]
    for count in (16, 128):
        for vae in (False, True):
            rows.append(predictions[(count, vae)][picks][np.arange(6), depth].astype(np.float32))
            names.append(f"{count} vol{', VAE' if vae else ''}")
    grid(rows, out / "volumetric_segmentation.png", shape=(32, 32), scale=3, row_labels=names,
         column_labels=[f"#{i + 1} z={d}" for i, d in enumerate(depth)])


DENOISER = {
    "input_shape": [1, 32, 32, 32],
    "encoder": [{"type": "conv3d", "filters": 8, "kernel": 3, "padding": 1, "activation": "relu"},
                {"type": "conv3d", "filters": 8, "kernel": 3, "stride": 2, "padding": 1, "activation": "relu"}],
    "decoder": [{"type": "conv_transpose3d", "filters": 8, "kernel": 2, "stride": 2, "activation": "relu"},
                {"type": "conv3d", "filters": 1, "kernel": 3, "padding": 1}],
    "loss": "mse", "noise": {"type": "gaussian", "stddev": 0.1},
    "optimizer": {"type": "adam", "lr": 3e-3}, "seed": 0,
}


def psnr(estimate, clean):
    return float(10 * np.log10(1.0 / np.mean((np.asarray(estimate).reshape(clean.shape) - clean) ** 2)))


def denoising(report, out):
    """A 3-D convolutional denoising autoencoder (code [8, 16, 16, 16]) trained on noise-free
    phantoms corrupted by sigma 0.1 Gaussian noise each batch: PSNR of noisy held-out phantoms
    against their noise-free volumes, before and after."""
    X, _ = make(128, "train", noise=False)
    T, t = make(TEST_VOLUMES, "test", noise=False)
    noisy = (T + np.random.default_rng(1).normal(0, 0.1, T.shape)).astype(np.float32)
    model = ae.Autoencoder.from_spec(DENOISER, epochs=8, batch_size=1, verbose=0)
    start = time.perf_counter()
    model.fit(X)
    restored = np.asarray(model.reconstruct(noisy)).reshape(T.shape)
    before, after = psnr(noisy, T), psnr(restored, T)
    print(f"  (128 noise-free training volumes, 8 epochs of batch 1, {time.perf_counter() - start:.0f} s, {model.n_parameters:,} parameters; "
          f"noise sigma 0.1 on {TEST_VOLUMES} test volumes)")
    report.add("denoising", "test PSNR noisy -> denoised (dB)", f"{before:.2f} -> {after:.2f}", "above the noisy input",
               after > before)
    picks = list(range(6))
    image, depth = middle_slices(T[picks, 0], t[picks])
    rows = [image, np.clip(noisy[picks, 0][np.arange(6), depth], 0, 1), np.clip(restored[picks, 0][np.arange(6), depth], 0, 1)]
    grid(rows, out / "volumetric_denoising.png", shape=(32, 32), scale=3,
         row_labels=["clean", "noisy (σ 0.1)", "3-D DAE"], column_labels=[f"#{i + 1} z={d}" for i, d in enumerate(depth)])


EXPERIMENTS = {"segmentation": segmentation, "denoising": denoising}


if __name__ == "__main__":
    sys.exit(main(__doc__, EXPERIMENTS, ROOT / "out" / "volumetric"))
