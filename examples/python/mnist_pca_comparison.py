#!/usr/bin/env python3
"""Train a dense autoencoder on MNIST with the Python bindings and compare it with PCA.

Trains 784 -> 512 -> 128 -> 32 -> 128 -> 512 -> 784 (ReLU, sigmoid output, binary
cross-entropy) on the 4,000 training images of data/ (pixels / 255), prints the test MSE of the
autoencoder beside PCA with the same 32 components (numpy SVD), and saves originals above
their reconstructions to out/python/reconstructions.png.

    python3 examples/python/mnist_pca_comparison.py [--epochs 50] [--out out/python]

Runs from a checkout (after `make library`) or with the package installed
(`pip install ./bindings/python`). Needs numpy and Pillow.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
try:
    import autoencoders as ae
except ImportError:  # running from a checkout without installing: use bindings/python
    sys.path.insert(0, str(ROOT / "bindings" / "python"))
    import autoencoders as ae

CODE_SIZE = 32


def load_images(name: str) -> np.ndarray:
    """An MNIST split as float32 rows of 784 pixels in [0, 1]."""
    images = np.load(ROOT / "data" / f"mnist5k_{name}_X.npy")
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


def pca_reconstruct(train: np.ndarray, test: np.ndarray, components: int) -> np.ndarray:
    """Projects test onto the first principal components of train (numpy SVD) and back."""
    mean = train.mean(axis=0)
    _, _, vt = np.linalg.svd(train - mean, full_matrices=False)
    basis = vt[:components]
    return (test - mean) @ basis.T @ basis + mean


def save_picture(path: Path, rows, labels, count: int = 12, zoom: int = 2) -> None:
    """Digits side by side, one labelled row per image set."""
    from PIL import Image, ImageDraw

    side, gap, margin = 28 * zoom, 4, 90
    width = margin + count * (side + gap)
    height = len(rows) * (side + gap) + gap
    canvas = Image.new("L", (width, height), color=255)
    draw = ImageDraw.Draw(canvas)
    for r, (images, label) in enumerate(zip(rows, labels)):
        top = gap + r * (side + gap)
        draw.text((6, top + side // 2 - 6), label, fill=0)
        for i in range(count):
            pixels = np.clip(images[i].reshape(28, 28) * 255.0, 0, 255).astype(np.uint8)
            digit = Image.fromarray(255 - pixels).resize((side, side), Image.NEAREST)
            canvas.paste(digit, (margin + i * (side + gap), top))
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50, help="most epochs (default 50)")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "python",
                        help="folder for the picture and the model (default out/python)")
    parser.add_argument("--verbose", type=int, default=1, help="0 silent, 1 bar, 2 lines")
    args = parser.parse_args()

    train, test = load_images("train"), load_images("test")
    print(f"autoencoders {ae.__version__} ({ae.library_path}), {ae.get_num_threads()} threads")
    print(f"MNIST: {len(train)} training and {len(test)} test images of {train.shape[1]} pixels")

    model = ae.Autoencoder.dense(784, hidden=[512, 128], code_size=CODE_SIZE, activation="relu",
                                 output_activation="sigmoid", loss="bce", optimizer="adam",
                                 lr=1e-3, seed=1)
    started = time.perf_counter()
    model.fit(train, epochs=args.epochs, batch_size=128, validation_split=0.1, patience=5,
              restore_best_weights=True, verbose=args.verbose)
    seconds = time.perf_counter() - started
    report = model.report_
    print(f"trained {report.epochs_run} epochs ({report.stop_reason}) in {seconds:.1f} s, "
          f"best validation loss {report.best_loss:.4f} at epoch {report.best_epoch + 1}, "
          f"{model.n_parameters:,} parameters")

    recon_ae = model.reconstruct(test)
    recon_pca = pca_reconstruct(train, test, CODE_SIZE)
    mse_ae = float(np.mean((recon_ae - test) ** 2))
    mse_pca = float(np.mean((recon_pca - test) ** 2))
    print()
    print(f"test MSE, {CODE_SIZE} numbers per image (pixels in [0, 1]):")
    print(f"  autoencoder  {mse_ae:.5f}")
    print(f"  PCA          {mse_pca:.5f}")
    print(f"  ratio        {mse_ae / mse_pca:.2f} (autoencoder / PCA)")

    picture = args.out / "reconstructions.png"
    save_picture(picture, [test, recon_ae, recon_pca],
                 ["original", "autoencoder", f"PCA-{CODE_SIZE}"])
    model.save(args.out / "mnist_dense.aem")
    print()
    print(f"wrote {picture} and {args.out / 'mnist_dense.aem'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
