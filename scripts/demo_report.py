"""Quality report of the demo: test MSE of the trained autoencoders beside PCA, and a picture.

usage: python3 scripts/demo_report.py DATA_DIR OUT_DIR
Reads OUT_DIR/{linear,deep}.recon.npy written by examples/c/evaluate_mnist and writes
OUT_DIR/reconstructions.png (one test digit per class; rows: the image, PCA-32, linear AE, deep AE).
"""
import sys
from pathlib import Path

import numpy as np


data, out = Path(sys.argv[1]), Path(sys.argv[2])
train = np.load(data / "mnist5k_train_X.npy").reshape(-1, 784).astype(np.float64) / 255
test = np.load(data / "mnist5k_test_X.npy").reshape(-1, 784).astype(np.float64) / 255

# PCA fitted on the training images: the best any linear 32-wide code can do.
mean = train.mean(axis=0)
_, _, components = np.linalg.svd(train - mean, full_matrices=False)
def pca(k):
    basis = components[:k]
    return (test - mean) @ basis.T @ basis + mean
pca_mse = {k: float(np.mean((pca(k) - test) ** 2)) for k in (16, 32, 64)}

recon = {name: np.load(out / f"{name}.recon.npy").reshape(-1, 784) / 255 for name in ("linear", "deep")}
mse = {name: float(np.mean((r - test) ** 2)) for name, r in recon.items()}

linear_gap = mse["linear"] / pca_mse[32] - 1
rows = [
    ("PCA, 16 / 32 / 64 components", f"{pca_mse[16]:.5f} / {pca_mse[32]:.5f} / {pca_mse[64]:.5f}", ""),
    ("linear AE 784-32-784, MSE, 200 epochs", f"{mse['linear']:.5f}",
     f"{100 * linear_gap:+.2f}% vs PCA-32 (target within 1%): {'PASS' if abs(linear_gap) <= 0.01 else 'FAIL'}"),
    ("deep AE (W1), BCE, 100 epochs", f"{mse['deep']:.5f}",
     f"target <= 0.0155, PyTorch 0.01507: {'PASS' if mse['deep'] <= 0.0155 else 'FAIL'}"),
]
print(f"{'model':42} {'test MSE':>26}   verdict")
for name, value, verdict in rows:
    print(f"{name:42} {value:>26}   {verdict}")

# Picture: one test digit of each class (the split is sorted by label), with labelled rows.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "python"))
from picture import labelled_grid  # noqa: E402  (examples/python, beside the evidence scripts)

labels = np.load(data / "mnist5k_test_y.npy")
picks = np.array([int(np.flatnonzero(labels == d)[0]) for d in range(10)])
strips = [test[picks], pca(32)[picks], recon["linear"][picks], recon["deep"][picks]]
labelled_grid(strips, out / "reconstructions.png",
              row_labels=["test image", "PCA, 32", "linear AE, 32", "deep AE (W1), 32"],
              column_labels=[str(d) for d in range(10)])
print(f"\nwrote {out / 'reconstructions.png'} (rows: test image, PCA-32, linear AE, deep AE)")
