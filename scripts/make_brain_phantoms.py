#!/usr/bin/env python3
"""Synthetic brain-like MRI phantoms with tumours: a 3-D segmentation task for the volumetric
examples (examples/python/volumetric_autoencoders.py, docs/RESULTS.md).

Each sample is a 32x32x32 volume:
* a "head": an ellipsoid with random radii (10-14 voxels) and centre, a bright "skull" shell
  (1.5 voxels) around it, and inside it two "tissues" (grey and white matter) separated by a
  threshold on a smooth random field, each with its own intensity, plus a low-amplitude
  smooth texture;
* one or two "tumours": blobs inside the brain whose radius (2-6 voxels), shape (a randomly
  stretched ellipsoid whose surface is perturbed by a smooth field) and contrast (brighter by
  0.15-0.45 or darker by 0.15-0.3 than the tissue under it) vary from sample to sample, with a
  soft edge;
* a smooth bias field (intensity inhomogeneity, +-10 %), Gaussian noise (sigma 0.03-0.08) and
  clipping to [0, 1] (`make(..., noise=False)` gives the volumes without this noise, the clean
  targets of the denoising experiment).

The label is 1 inside a tumour and 0 elsewhere (2 classes). Deterministic: sample i of a split
draws from numpy's generator seeded with (seed, split, i), so a volume does not depend on how
many others are generated.

    python3 scripts/make_brain_phantoms.py [--out out/phantoms] [--train 128] [--test 32] [--seed 0]

writes phantoms_train_X.npy (n, 1, 32, 32, 32) float32, phantoms_train_y.npy (n, 32, 32, 32)
uint8, and the same for the test split. Examples import `dataset` to generate in memory instead.
"""

import argparse
from pathlib import Path

import numpy as np

SIZE = 32
SPLITS = {"train": 0, "test": 1}


def smooth_field(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """A smooth random field in about [0, 1]: a random grid of `cells` cells per side,
    trilinearly interpolated to size^3."""
    grid = rng.random((cells + 1,) * 3)
    position = np.linspace(0, cells, size)
    i0 = np.minimum(position.astype(int), cells - 1)
    f = position - i0
    # Interpolate along each axis in turn.
    a = grid[i0] * (1 - f)[:, None, None] + grid[i0 + 1] * f[:, None, None]
    a = a[:, i0] * (1 - f)[None, :, None] + a[:, i0 + 1] * f[None, :, None]
    a = a[:, :, i0] * (1 - f)[None, None, :] + a[:, :, i0 + 1] * f[None, None, :]
    return a


def phantom(rng: np.random.Generator, size: int = SIZE, noise: bool = True):
    """One (volume [size]^3 float32, label [size]^3 uint8); without `noise`, the same volume
    before its Gaussian noise (the noise is the last draw)."""
    z, y, x = np.mgrid[0:size, 0:size, 0:size].astype(np.float64)
    centre = size / 2 - 0.5 + rng.uniform(-1.5, 1.5, 3)
    radii = rng.uniform(10, 14, 3)
    r = np.sqrt(((z - centre[0]) / radii[0]) ** 2 + ((y - centre[1]) / radii[1]) ** 2 + ((x - centre[2]) / radii[2]) ** 2)
    head = r < 1
    brain = r < 1 - 1.5 / radii.mean()
    skull = head & ~brain

    volume = np.zeros((size,) * 3)
    white = smooth_field(rng, size, 4) > 0.5
    grey_level, white_level = rng.uniform(0.35, 0.45), rng.uniform(0.55, 0.65)
    volume[brain] = np.where(white, white_level, grey_level)[brain]
    volume[brain] += 0.08 * (smooth_field(rng, size, 8)[brain] - 0.5)
    volume[skull] = rng.uniform(0.8, 0.95)

    label = np.zeros((size,) * 3, dtype=np.uint8)
    for _ in range(int(rng.integers(1, 3))):
        # A centre well inside the brain, a radius, a stretch per axis and a bumpy surface.
        radius = rng.uniform(2, 6)
        for _attempt in range(50):
            c = centre + rng.uniform(-1, 1, 3) * (radii - radius - 3) * 0.7
            if brain[tuple(np.clip(np.round(c).astype(int), 0, size - 1))]:
                break
        stretch = rng.uniform(0.7, 1.4, 3)
        d = np.sqrt(((z - c[0]) * stretch[0]) ** 2 + ((y - c[1]) * stretch[1]) ** 2 + ((x - c[2]) * stretch[2]) ** 2)
        d = d / radius + 0.35 * (smooth_field(rng, size, 6) - 0.5)
        inside = (d < 1) & brain
        contrast = rng.uniform(0.15, 0.45) if rng.random() < 0.7 else -rng.uniform(0.15, 0.3)
        edge = np.clip((1.15 - d) / 0.3, 0, 1) * brain                 # soft edge: 1 inside, ramping to 0
        volume += contrast * edge
        label[inside] = 1

    bias = 1 + 0.2 * (smooth_field(rng, size, 2) - 0.5)
    volume = volume * bias
    if noise:
        volume = volume + rng.normal(0, rng.uniform(0.03, 0.08), volume.shape)
    return np.clip(volume, 0, 1).astype(np.float32), label


def make(count: int, split: str = "train", seed: int = 0, size: int = SIZE, noise: bool = True):
    """`count` phantoms of a split: X (count, 1, size, size, size) float32, y (count, size, size, size)
    uint8; without `noise`, the same volumes before their Gaussian noise."""
    X = np.zeros((count, 1, size, size, size), np.float32)
    y = np.zeros((count, size, size, size), np.uint8)
    for i in range(count):
        X[i, 0], y[i] = phantom(np.random.default_rng([seed, SPLITS[split], i]), size, noise)
    return X, y


def dataset(train: int = 128, test: int = 32, seed: int = 0):
    """((X_train, y_train), (X_test, y_test))."""
    return make(train, "train", seed), make(test, "test", seed)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="out/phantoms")
    parser.add_argument("--train", type=int, default=128)
    parser.add_argument("--test", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    out = Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)
    for split, count in (("train", arguments.train), ("test", arguments.test)):
        X, y = make(count, split, arguments.seed)
        np.save(out / f"phantoms_{split}_X.npy", X)
        np.save(out / f"phantoms_{split}_y.npy", y)
        print(f"{split}: {count} volumes, tumour share {y.mean():.3f}")
