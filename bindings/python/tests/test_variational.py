"""Variational autoencoders, training: the negative ELBO (its reconstruction and KL terms in
the progress reports and history), β and its warm-up, convolutional VAEs, a VAE branch
regularizing a segmentation model, and saving and pickling (the model's generator included).
The inference API and the refusals are in test_variational_inference.py; the dense VAE spec,
the data and the fixtures both files use are in conftest.py."""

import copy
import ctypes
import io
import math
import pickle

import numpy as np
import pytest

import autoencoders as ae
from autoencoders import _library
from autoencoders._progress import PROGRESS_KEYS, ProgressPrinter, progress_dict
from conftest import DENSE_VAE, line_decodings, not_for_this_class

CONV_VAE = {
    "input_shape": [1, 8, 8],
    "encoder": [{"type": "conv2d", "filters": 4, "kernel": 3, "padding": 1, "stride": 2,
                 "activation": "relu"},
                {"type": "flatten"},
                {"type": "variational", "units": 4}],
    "decoder": [{"type": "dense", "units": 64, "activation": "relu"},
                {"type": "reshape", "shape": [4, 4, 4]},
                {"type": "conv_transpose2d", "filters": 1, "kernel": 2, "stride": 2,
                 "activation": "sigmoid"}],
    "loss": "bce",
    "optimizer": {"type": "adam", "lr": 0.01},
    "seed": 2,
}

#: A small segmentation network whose shared encoder a VAE branch regularizes (docs/SPEC.md
#: "Branches"): the branch reads enc2 and reconstructs the clean input.
SEGMENTATION_WITH_VAE_BRANCH = {
    "input_shape": [1, 8, 8],
    "encoder": [{"type": "conv2d", "name": "enc1", "filters": 8, "kernel": 3, "padding": 1,
                 "activation": "relu"},
                {"type": "conv2d", "name": "enc2", "filters": 8, "kernel": 3, "padding": 1,
                 "activation": "relu"}],
    "decoder": [{"type": "conv2d", "name": "logits", "filters": 2, "kernel": 1}],
    "loss": "cross_entropy",
    "branches": [{"name": "vae", "weight": 0.01, "loss": "mse",
                  "layers": [{"type": "flatten", "inputs": ["enc2"]},
                             {"type": "variational", "units": 4},
                             {"type": "dense", "units": 64},
                             {"type": "reshape", "shape": [1, 8, 8]}]}],
    "optimizer": {"type": "adam", "lr": 0.01},
    "seed": 0,
}


def squares(n, seed=0, size=8):
    """Noisy images (n, 1, size, size) with a bright square; labels (n, size, size) mark it."""
    rng = np.random.default_rng(seed)
    images = rng.normal(0, 0.2, (n, 1, size, size)).astype(np.float32)
    labels = np.zeros((n, size, size), dtype=np.int64)
    for i in range(n):
        side = rng.integers(2, 5)
        row, col = rng.integers(0, size - side, 2)
        images[i, 0, row:row + side, col:col + side] += 1.0
        labels[i, row:row + side, col:col + side] = 1
    return images, labels


# ---- Training -------------------------------------------------------------------------------


def test_vae_trains_and_the_elbo_goes_down(trained_vae):
    history = trained_vae.history_
    losses = history["train_loss"]
    assert len(losses) == 15 and trained_vae.report_.epochs_run == 15
    assert all(math.isfinite(v) for v in losses)
    assert losses[-1] < 0.6 * losses[0], losses
    assert all(later <= earlier * 1.05 for earlier, later in zip(losses, losses[1:]))
    # β = 1 and no warm-up: the objective is the negative ELBO, reconstruction + KL per sample.
    for total, reconstruction, kl in zip(losses, history["reconstruction_loss"],
                                         history["kl_divergence"]):
        assert total == pytest.approx(reconstruction + kl, rel=1e-6)


def test_kl_in_the_history_is_positive(trained_vae):
    kl = trained_vae.history_["kl_divergence"]
    assert len(kl) == 15
    assert all(isinstance(v, float) and math.isfinite(v) and v > 0 for v in kl), kl
    assert kl[-1] > 0.5  # the codes carry information: no posterior collapse on this data


def test_progress_dicts_carry_the_elbo_terms(images):
    reports = []
    model = ae.Autoencoder.from_spec(DENSE_VAE, verbose=0)
    model.fit(images.reshape(256, 64), epochs=2, batch_size=64, report_batches=True,
              callback=reports.append)
    # Four batches an epoch: three batch reports, then the report that closes the epoch.
    assert [r["is_epoch_end"] for r in reports] == ([False] * 3 + [True]) * 2
    for report in reports:
        assert set(PROGRESS_KEYS) <= set(report)
        assert report["kl_divergence"] > 0 and math.isfinite(report["kl_divergence"])
        assert report["reconstruction_loss"] > 0
        assert report["train_loss"] == pytest.approx(
            report["reconstruction_loss"] + report["kl_divergence"], rel=1e-6)
    ends = [r for r in reports if r["is_epoch_end"]]
    assert [r["kl_divergence"] for r in ends] == model.history_["kl_divergence"]
    assert [r["reconstruction_loss"] for r in ends] == model.history_["reconstruction_loss"]


def test_beta_and_warmup_weight_the_kl_term(images):
    data = images.reshape(256, 64)
    spec = copy.deepcopy(DENSE_VAE)
    spec["encoder"][-1].update(beta=0.5, kl_warmup_epochs=0)
    history = ae.Autoencoder.from_spec(spec, epochs=2, verbose=0).fit(data).history_
    for total, reconstruction, kl in zip(history["train_loss"], history["reconstruction_loss"],
                                         history["kl_divergence"]):
        assert total == pytest.approx(reconstruction + 0.5 * kl, rel=1e-6)
        assert kl > 0  # reported unweighted
    # A warm-up ramps β linearly over its epochs: (epoch + 1) / kl_warmup_epochs, then β.
    spec["encoder"][-1].update(beta=2, kl_warmup_epochs=4)
    history = ae.Autoencoder.from_spec(spec, epochs=6, verbose=0).fit(data).history_
    for epoch, weight in enumerate([0.5, 1.0, 1.5, 2.0, 2.0, 2.0]):
        total = history["reconstruction_loss"][epoch] + weight * history["kl_divergence"][epoch]
        assert history["train_loss"][epoch] == pytest.approx(total, rel=1e-6), epoch


def test_models_that_are_not_vaes_report_no_kl(plain, images):
    reports = []
    plain.fit(images.reshape(256, 64), epochs=2, callback=reports.append)
    assert plain.history_["kl_divergence"] == [None, None]
    assert [r["kl_divergence"] for r in reports] == [None, None]
    for report, loss in zip(reports, plain.history_["train_loss"]):
        assert report["reconstruction_loss"] == pytest.approx(loss, rel=1e-6)  # no regularizer


def test_epoch_lines_show_kl_for_vaes(images, capsys):
    data = images.reshape(256, 64)
    ae.Autoencoder.from_spec(DENSE_VAE, epochs=2, verbose=2).fit(data)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    for number, line in enumerate(lines, 1):
        assert line.startswith(f"epoch {number}/2 loss ") and " kl " in line, line
        kl = float(line.split(" kl ")[1].split()[0])
        assert kl > 0
    ae.Autoencoder.dense(64, hidden=[16], code_size=4, epochs=1, verbose=2).fit(data)
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert " kl " not in line and line.startswith("epoch 1/1 loss ")


def test_the_bar_shows_kl_for_vaes():
    printer = ProgressPrinter("bar", io.StringIO())
    base = {"epoch": 0, "epochs": 2, "batch": 1, "batches": 2, "train_loss": 10.0,
            "validation_loss": None, "learning_rate": 1e-3, "elapsed_seconds": 1.0,
            "is_epoch_end": False, "epochs_completed": 0, "reconstruction_loss": 9.0}
    assert " kl 1.0000 " in printer.bar_line({**base, "kl_divergence": 1.0})
    assert " kl " not in printer.bar_line({**base, "kl_divergence": None})


def test_progress_fields_of_an_older_library_read_as_none():
    """A library older than the VAE fields fills a smaller ae_progress: they are absent, not
    garbage."""
    record = _library.ae_progress()
    record.struct_size = _library.ae_progress.reconstruction_loss.offset
    record.train_loss, record.validation_loss = 1.5, math.nan
    record.reconstruction_loss, record.kl_divergence = 7.0, 8.0
    progress = progress_dict(record, 0)
    assert progress["reconstruction_loss"] is None and progress["kl_divergence"] is None
    record.struct_size = ctypes.sizeof(record)
    progress = progress_dict(record, 0)
    assert progress["reconstruction_loss"] == 7.0 and progress["kl_divergence"] == 8.0
    record.kl_divergence = math.nan
    assert progress_dict(record, 0)["kl_divergence"] is None


# ---- Convolutional VAE ----------------------------------------------------------------------


def test_conv_vae_trains_generates_and_interpolates(images):
    model = ae.Autoencoder.from_spec(CONV_VAE, epochs=10, batch_size=32, verbose=0)
    assert model.is_variational and model.input_shape == (1, 8, 8) and model.code_size == 4
    model.fit(images)
    losses = model.history_["train_loss"]
    assert losses[-1] < 0.8 * losses[0], losses
    assert all(kl > 0 for kl in model.history_["kl_divergence"])
    samples = model.generate(5, seed=11)
    assert samples.shape == (5, 1, 8, 8) and np.isfinite(samples).all()
    assert ((samples >= 0) & (samples <= 1)).all()
    np.testing.assert_array_equal(model.generate(5, seed=11), samples)
    mean, logvar = model.encode_distribution(images[:6, 0])  # (n, H, W) for one channel
    assert mean.shape == logvar.shape == (6, 4)
    np.testing.assert_array_equal(mean, model.encode(images[:6]))
    path = model.interpolate(images[0, 0], images[1], steps=4)  # (H, W) and (C, H, W)
    assert path.shape == (4, 1, 8, 8)
    np.testing.assert_array_equal(path, line_decodings(model, images[0], images[1], 4)[0])
    np.testing.assert_allclose(path[[0, -1]], model.reconstruct(images[:2]), rtol=1e-5, atol=1e-6)
    model.close()


# ---- A VAE branch on a segmentation model ---------------------------------------------------


def test_segmentation_with_a_vae_branch_trains_and_segments():
    x, y = squares(256)
    x_test, y_test = squares(64, seed=1)
    model = ae.SegmentationNetwork.from_spec(SEGMENTATION_WITH_VAE_BRANCH, epochs=8, verbose=0)
    assert model.is_segmentation and not model.is_variational  # the branch is not the code
    assert any(name.startswith("vae") for name in model.parameter_names)
    before = {name: model.get_parameter(name) for name in model.parameter_names
              if name.startswith("vae")}
    model.fit(x, y)
    losses = model.history_["train_loss"]
    assert losses[-1] < 0.5 * losses[0], losses
    # The branch trains with the main head (its weights move) and is skipped at inference.
    assert any(not np.array_equal(model.get_parameter(name), values)
               for name, values in before.items())
    assert model.history_["kl_divergence"] == [None] * 8  # the code is not variational
    predicted = model.segment(x_test)
    assert predicted.shape == (64, 8, 8) and predicted.dtype == np.int32
    chance = max(y_test.mean(), 1 - y_test.mean())
    assert (predicted == y_test).mean() > max(0.97, chance + 0.05)
    for name, call in (("generate", lambda: model.generate(2)),
                       ("interpolate", lambda: model.interpolate(x[0], x[1]))):
        with not_for_this_class(name), pytest.raises(ae.UnsupportedError, match="segmentation model"):
            call()
    with not_for_this_class("encode_distribution"), \
            pytest.raises(ae.UnsupportedError, match="encode_distribution: .*not a VAE"):
        model.encode_distribution(x[:2])
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.segment(x_test), predicted)
    model.close()
    restored.close()


# ---- Saving ---------------------------------------------------------------------------------


def test_pickling_a_vae_keeps_everything(trained_vae, images):
    data = images.reshape(256, 64)
    restored = pickle.loads(pickle.dumps(trained_vae))
    assert restored.is_variational and restored.epochs_completed == 15
    np.testing.assert_array_equal(restored.generate(8, seed=5), trained_vae.generate(8, seed=5))
    for ours, theirs in zip(restored.encode_distribution(data[:10]),
                            trained_vae.encode_distribution(data[:10])):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(restored.interpolate(data[0], data[1]),
                                  trained_vae.interpolate(data[0], data[1]))
    assert restored.history_ == trained_vae.history_
    restored.close()


def test_save_and_load_keep_generate(trained_vae, tmp_path):
    path = tmp_path / "vae.aem"
    trained_vae.save(path)
    loaded = ae.Autoencoder.load(path, verbose=0)
    assert loaded.is_variational and loaded.spec["encoder"][-1]["type"] == "variational"
    np.testing.assert_array_equal(loaded.generate(4, seed=9), trained_vae.generate(4, seed=9))
    loaded.close()


def test_training_resumes_identically_after_pickling(images, threads_pinned):
    """The model's generator (the reparameterisation noise) travels with the model."""
    data = images.reshape(256, 64)
    a = ae.Autoencoder.from_spec(DENSE_VAE, verbose=0).fit(data, epochs=1)
    b = pickle.loads(pickle.dumps(a))
    a.fit(data, epochs=1)
    b.fit(data, epochs=1)
    assert a.history_ == {**b.history_, "elapsed_seconds": a.history_["elapsed_seconds"]}
    np.testing.assert_array_equal(a.generate(3, seed=1), b.generate(3, seed=1))
