"""Volumes: the lecture's brain-tumour network (examples/specs/brain_unet3d_vae.json, a 3-D U-Net
with group norm, residual adds, a soft Dice + cross-entropy head and a variational branch) trains
from Python on (n, 1, 32, 32, 32) volumes with (n, 32, 32, 32) labels, and segments them."""

import json

import numpy as np
import pytest

import autoencoders as ae

from conftest import REPOSITORY

SPEC = REPOSITORY / "examples" / "specs" / "brain_unet3d_vae.json"


def cubes(n, seed=0):
    """Noisy volumes with one bright cube each; labels are 1 on the cube."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0.3, 0.05, (n, 1, 32, 32, 32)).astype(np.float32)
    y = np.zeros((n, 32, 32, 32), np.int64)
    for i in range(n):
        d, h, w = rng.integers(4, 20, 3)
        X[i, 0, d:d + 8, h:h + 8, w:w + 8] += 0.5
        y[i, d:d + 8, h:h + 8, w:w + 8] = 1
    return X, y


def test_the_spec_trains_two_steps_and_segments():
    spec = json.loads(SPEC.read_text())
    model = ae.SegmentationNetwork.from_spec(spec, epochs=1, batch_size=2, verbose=0)
    X, y = cubes(4)
    model.fit(X, y)
    losses = model.history_["train_loss"]
    assert len(losses) == 1 and np.isfinite(losses[0]) and losses[0] > 0
    labels = model.segment(X[:2])
    assert labels.shape == (2, 32, 32, 32) and set(np.unique(labels)) <= {0, 1}


def test_labels_outside_the_classes_are_refused():
    model = ae.SegmentationNetwork.from_spec(json.loads(SPEC.read_text()), epochs=1, batch_size=2, verbose=0)
    X, y = cubes(2)
    y[1, 3, 4, 5] = 2
    with pytest.raises(ae.InvalidArgumentError):
        model.fit(X, y)


def test_spec_errors_name_the_entry_and_the_sizes():
    spec = json.loads(SPEC.read_text())
    spec["input_shape"] = [1, 30, 32, 32]       # stride-2 convolutions give 15, then 8: the adds do not line up
    with pytest.raises(ae.SpecError):
        ae.Autoencoder.from_spec(spec)
    spec = json.loads(SPEC.read_text())
    spec["encoder"][1]["groups"] = 3             # 8 channels in 3 groups
    with pytest.raises(ae.SpecError, match=r"encoder\[1\].*groups \(3\).*8 channels"):
        ae.Autoencoder.from_spec(spec)
