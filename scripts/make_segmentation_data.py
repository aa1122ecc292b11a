#!/usr/bin/env python3
"""A synthetic segmentation task: MNIST digits pasted on textured backgrounds.

Each sample is a 32x32 canvas: a smooth random texture (bilinearly interpolated random grid) plus
a linear gradient, at a random brightness and contrast; one or two MNIST digits (cropped to their
bounding box) pasted at random positions with a random intensity that may be brighter or darker
than the background under it; then Gaussian pixel noise (sigma 0.03-0.10) and clipping to
[0, 1]. The label is 1 where a digit's pixel exceeds half its maximum, else 0 (2 classes).

Training canvases use the digits of data/mnist5k_train_X.npy, test canvases those of
data/mnist5k_test_X.npy, so no digit appears on both sides. Deterministic (numpy seeds).

    python3 scripts/make_segmentation_data.py [--out out/segmentation] [--train 4000] [--test 1000]

writes seg_train_X.npy (n, 32, 32) float32 in [0, 1], seg_train_y.npy (n, 32, 32) uint8, and the
same for seg_test. Examples import `make` to generate in memory instead.
"""

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SIZE = 32


def _texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """A smooth random field in [0, 1]: a random grid of 3 to 6 cells per side, bilinearly
    interpolated, plus a random linear gradient."""
    cells = int(rng.integers(3, 7))
    grid = rng.random((cells + 1, cells + 1))
    position = np.linspace(0, cells, size)
    i0 = np.minimum(position.astype(int), cells - 1)
    f = position - i0
    rows = grid[i0] * (1 - f)[:, None] + grid[i0 + 1] * f[:, None]              # (size, cells+1)
    field = rows[:, i0] * (1 - f)[None, :] + rows[:, i0 + 1] * f[None, :]      # (size, size)
    angle = rng.uniform(0, 2 * np.pi)
    y, x = np.mgrid[0:size, 0:size] / (size - 1) - 0.5
    gradient = np.cos(angle) * x + np.sin(angle) * y + 0.5
    weight = rng.uniform(0.2, 0.8)
    return (1 - weight) * field + weight * gradient


def _crop(digit: np.ndarray) -> np.ndarray:
    """The digit (28x28, values in [0, 1]) cut to the bounding box of its non-zero pixels."""
    rows, cols = np.flatnonzero(digit.max(axis=1) > 0), np.flatnonzero(digit.max(axis=0) > 0)
    return digit[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def make(digits: np.ndarray, count: int, seed: int, size: int = SIZE):
    """`count` canvases from `digits` ((n, 28, 28) or (n, 784), 0-255 or 0-1).

    Returns (X, y): X (count, size, size) float32 in [0, 1], y (count, size, size) uint8 in {0, 1}.
    """
    rng = np.random.default_rng(seed)
    digits = np.asarray(digits, dtype=np.float32).reshape(len(digits), 28, 28)
    if digits.max() > 1.5:
        digits = digits / 255.0
    X = np.empty((count, size, size), np.float32)
    y = np.zeros((count, size, size), np.uint8)
    for n in range(count):
        brightness, contrast = rng.uniform(0.1, 0.7), rng.uniform(0.2, 0.6)
        canvas = np.clip(brightness + contrast * (_texture(rng, size) - 0.5), 0, 1)
        for _ in range(int(rng.integers(1, 3))):
            digit = _crop(digits[rng.integers(len(digits))])
            alpha = digit / digit.max()
            h, w = alpha.shape
            top, left = rng.integers(0, size - h + 1), rng.integers(0, size - w + 1)
            region = canvas[top:top + h, left:left + w]
            # Brighter or darker than the background under the digit, by 0.3 to 0.6.
            base = region[alpha > 0.5].mean()
            sign = 1.0 if base < 0.35 else -1.0 if base > 0.65 else rng.choice([-1.0, 1.0])
            intensity = np.clip(base + sign * rng.uniform(0.3, 0.6), 0, 1)
            canvas[top:top + h, left:left + w] = (1 - alpha) * region + alpha * intensity
            y[n, top:top + h, left:left + w] |= (alpha > 0.5).astype(np.uint8)
        canvas = canvas + rng.normal(0, rng.uniform(0.03, 0.10), canvas.shape)
        X[n] = np.clip(canvas, 0, 1)
    return X, y


def dataset(train_count: int = 4000, test_count: int = 1000):
    """The train and test canvases: ((X_train, y_train), (X_test, y_test))."""
    train = np.load(ROOT / "data" / "mnist5k_train_X.npy")
    test = np.load(ROOT / "data" / "mnist5k_test_X.npy")
    return make(train, train_count, seed=11), make(test, test_count, seed=12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "out" / "segmentation"))
    parser.add_argument("--train", type=int, default=4000)
    parser.add_argument("--test", type=int, default=1000)
    arguments = parser.parse_args()
    out = Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)
    (X, y), (T, t) = dataset(arguments.train, arguments.test)
    for name, array in [("seg_train_X", X), ("seg_train_y", y), ("seg_test_X", T), ("seg_test_y", t)]:
        np.save(out / f"{name}.npy", array)
    print(f"{len(X)} training and {len(T)} test canvases of {SIZE}x{SIZE} in {out}; "
          f"digit pixels: {y.mean():.1%} (train), {t.mean():.1%} (test)")


if __name__ == "__main__":
    main()
