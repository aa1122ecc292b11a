"""What the evidence scripts of examples/python share: the bindings, the data, the figures, the run.

autoencoder_families.py, convolutional_autoencoders.py and variational_autoencoders.py import this
module (they run as `python3 examples/python/<script>.py`, which puts this folder on sys.path).
Importing it makes `autoencoders` importable from a checkout (after `make library`) as well as
from an installed package, and re-exports it as `ae`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np

from picture import labelled_grid

ROOT = Path(__file__).resolve().parents[2]
try:
    import autoencoders as ae
except ImportError:  # running from a checkout without installing: use bindings/python
    sys.path.insert(0, str(ROOT / "bindings" / "python"))
    import autoencoders as ae

__all__ = ["ROOT", "ae", "load", "mnist", "mnist_labels", "one_per_digit", "DIGITS", "train", "flat", "psnr", "roc_auc", "grid",
           "Report", "main"]


# ---- data -----------------------------------------------------------------------------------------

def load(name: str) -> np.ndarray:
    """The array data/<name> of the checkout."""
    return np.load(ROOT / "data" / name)


def mnist(split: str) -> np.ndarray:
    """The split's images as (n, 784) float32 in [0, 1] (NCHW [1, 28, 28] flattened)."""
    images = load(f"mnist5k_{split}_X.npy")
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


def mnist_labels(split: str) -> np.ndarray:
    """The split's digit labels, 0 to 9."""
    return load(f"mnist5k_{split}_y.npy")


#: Column labels for pictures of one test image per digit.
DIGITS = [str(d) for d in range(10)]


def one_per_digit(split: str = "test") -> np.ndarray:
    """The index of the first image of each digit 0 to 9 (the splits are sorted by label)."""
    labels = mnist_labels(split)
    return np.array([int(np.flatnonzero(labels == d)[0]) for d in range(10)])


# ---- models and figures ---------------------------------------------------------------------------

def train(spec: dict, X: np.ndarray, epochs: int, batch_size: int, y: Optional[np.ndarray] = None):
    """A model built from `spec`, fitted quietly to X (to targets y, when given)."""
    model = ae.Model.from_spec(spec, epochs=epochs, batch_size=batch_size, verbose=0)
    return model.fit(X) if y is None else model.fit(X, y)


def flat(array) -> np.ndarray:
    """Model outputs as (n, features), whatever per-sample layout they come back in."""
    array = np.asarray(array)
    return array.reshape(len(array), -1)


def psnr(estimate, clean: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of images with values in [0, 1]."""
    return 10 * np.log10(1.0 / np.mean((flat(estimate) - clean) ** 2))


def roc_auc(scores, positive) -> float:
    """Area under the ROC curve: the probability that a positive outranks a negative (ties count half)."""
    scores, positive = np.asarray(scores, np.float64), np.asarray(positive, bool)
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[inverse]  # average 1-based rank over ties
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return (ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def grid(rows: Sequence[Sequence[np.ndarray]], path: Path, shape: Tuple[int, int] = (28, 28), scale: int = 3,
         row_labels: Optional[Sequence[str]] = None, column_labels: Optional[Sequence[str]] = None,
         title: Optional[str] = None) -> None:
    """Saves rows of images (values in [0, 1]) as one picture, rows and columns labelled, with
    gaps between the tiles (picture.labelled_grid)."""
    labelled_grid(rows, path, shape, scale, row_labels, column_labels, title)


class Report:
    """The figures of a run, each printed as it comes: figure, value, target, PASS or FAIL."""

    def __init__(self) -> None:
        self.rows: list = []

    def add(self, experiment: str, figure: str, value: str, target: str, passed: bool) -> None:
        self.rows.append((experiment, figure, value, target, passed))
        print(f"  {figure:46} {value:>14}   {target:34} {'PASS' if passed else 'FAIL'}", flush=True)

    def summary(self) -> bool:
        """Prints how many targets were met; True when all were."""
        failed = [r for r in self.rows if not r[4]]
        print(f"\n{len(self.rows) - len(failed)} of {len(self.rows)} targets met")
        return not failed


# ---- the run --------------------------------------------------------------------------------------

Experiment = Callable[[Report, Path], None]


def main(doc: str, experiments: Dict[str, Experiment], out: Path, total: bool = True,
         prepare: Optional[Callable[[], None]] = None) -> int:
    """Parses --out (default `out`) and --only, runs the experiments in order, each under its name
    and followed by its seconds, then the summary; `total` adds the run's seconds to the last line.
    `prepare` runs once the output folder exists, before anything is printed. Returns the exit
    status: 0 when every target is met."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(out))
    parser.add_argument("--only", nargs="*", choices=sorted(experiments), help="run only these experiments")
    arguments = parser.parse_args()
    out = Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)
    if prepare:
        prepare()
    print(f"autoencoders {ae.__version__}, {ae.get_num_threads()} threads")
    report = Report()
    started = time.perf_counter()
    for name, experiment in experiments.items():
        if arguments.only and name not in arguments.only:
            continue
        start = time.perf_counter()
        print(f"\n{name}")
        experiment(report, out)
        print(f"  ({time.perf_counter() - start:.0f} s)")
    ok = report.summary()
    seconds = f"total {time.perf_counter() - started:.0f} s; " if total else ""
    print(f"{seconds}pictures in {out}")
    return 0 if ok else 1
