"""Adversarial autoencoders from Python: the class (kind "adversarial"), fit with and without
labels, the three losses in history_, the prior, generate, determinism, the model file, the
step-wise trainer's losses, and clear errors."""

import copy

import numpy as np
import pytest

import autoencoders as ae

SPEC = {
    "input_size": 12,
    "encoder": [{"type": "dense", "units": 8, "activation": "tanh"}, {"type": "dense", "units": 2}],
    "decoder": [{"type": "dense", "units": 8, "activation": "tanh"},
                {"type": "dense", "units": 12, "activation": "sigmoid"}],
    "loss": "bce",
    "adversarial": {"discriminator": {"hidden": [6], "activation": "tanh"},
                    "prior": {"type": "mixture", "components": 3, "radius": 2, "std": 0.3,
                              "supervised": True}},
    "seed": 3,
}

RNG = np.random.default_rng(0)
X = RNG.random((30, 12), dtype=np.float32)
Y = np.arange(30) % 3


def spec(**prior):
    s = copy.deepcopy(SPEC)
    if prior:
        s["adversarial"]["prior"] = prior
    return s


def test_class_kind_and_builders(tmp_path):
    model = ae.Model.from_spec(spec(), verbose=0)
    assert type(model) is ae.AdversarialAutoencoder and isinstance(model, ae.Autoencoder)
    assert model.is_adversarial and model.supervised and model.prior_components == 3
    model.fit(X, Y, epochs=2, batch_size=10)
    model.save(tmp_path / "aae.aem")
    loaded = ae.load(tmp_path / "aae.aem")
    assert type(loaded) is ae.AdversarialAutoencoder
    np.testing.assert_array_equal(loaded.parameters()["discriminator.0.weight"],
                                  model.parameters()["discriminator.0.weight"])


def test_fit_reports_three_losses_and_is_deterministic():
    a = ae.Model.from_spec(spec(), verbose=0).fit(X, Y, epochs=3, batch_size=10)
    b = ae.Model.from_spec(spec(), verbose=0).fit(X, Y, epochs=3, batch_size=10)
    for key in ("reconstruction_loss", "discriminator_loss", "generator_loss"):
        assert len(a.history_[key]) == 3 and all(np.isfinite(a.history_[key]))
    assert a.history_["discriminator_loss"] == b.history_["discriminator_loss"]
    for name, values in a.parameters().items():
        np.testing.assert_array_equal(values, b.parameters()[name], err_msg=name)
    # Other models keep their history's keys.
    plain = ae.Autoencoder(hidden=[4], code_size=2, epochs=1, verbose=0).fit(X)
    assert "discriminator_loss" not in plain.history_


def test_the_callback_sees_the_phases():
    seen = []
    ae.Model.from_spec(spec(), verbose=0).fit(X, Y, epochs=2, batch_size=10, callback=seen.append)
    assert [p["discriminator_loss"] is not None for p in seen] == [True, True]
    assert seen[-1]["generator_loss"] > 0


def test_supervised_prior_needs_labels():
    model = ae.Model.from_spec(spec(), verbose=0)
    with pytest.raises(ValueError, match="y is required"):
        model.fit(X, epochs=1)
    with pytest.raises(ValueError, match="not a component"):
        model.fit(X, np.full(30, 3), epochs=1)
    with pytest.raises(ae.ShapeError):
        model.fit(X, Y[:5], epochs=1)


def test_unsupervised_from_hyperparameters_generates():
    model = ae.AdversarialAutoencoder(hidden=[8], code_size=2, output_activation="sigmoid",
                                      loss="bce", prior={"type": "uniform", "range": [-1, 1]},
                                      discriminator_hidden=[8], epochs=3, batch_size=10,
                                      verbose=0)
    model.fit(X, Y)  # y is ignored without a supervised prior
    assert not model.supervised and model.prior_components == 0
    codes = model.sample_prior(50, seed=4)
    assert codes.shape == (50, 2) and np.all(np.abs(codes) <= 1)
    np.testing.assert_array_equal(codes, model.sample_prior(50, seed=4))
    samples = model.generate(6, seed=1)
    assert samples.shape == (6, 12) and np.all((samples >= 0) & (samples <= 1))
    assert model.generate(0).shape == (0, 12)
    assert 0 <= model.discriminator_accuracy(X) <= 1
    with pytest.raises(ae.InvalidArgumentError, match="mixture"):
        model.sample_prior(3, y=[0, 1, 2])
    assert model.get_params()["discriminator_hidden"] == [8]


def test_generate_with_labels_lands_near_the_components():
    model = ae.Model.from_spec(spec(), verbose=0)
    codes = model.sample_prior(300, y=np.repeat(np.arange(3), 100), seed=2)
    centres = codes.reshape(3, 100, 2).mean(axis=1)
    angles = 2 * np.pi * np.arange(3) / 3
    np.testing.assert_allclose(centres, 2 * np.stack([np.cos(angles), np.sin(angles)], 1), atol=0.1)
    model.fit(X, Y, epochs=1, batch_size=10)
    assert model.generate(3, y=[0, 1, 2]).shape == (3, 12)
    assert 0 <= model.discriminator_accuracy(X, Y) <= 1


def test_spec_error_at_its_path():
    bad = spec()
    bad["adversarial"]["discriminator"]["input_size"] = 2
    with pytest.raises(ae.SpecError, match=r"adversarial\.discriminator\.input_size"):
        ae.Model.from_spec(bad)


def test_trainer_step_losses():
    model = ae.Model.from_spec(spec(), verbose=0)
    trainer = ae.Trainer(model, batch_size=10)
    assert trainer.last_losses["discriminator"] is None
    with pytest.raises(ae.InvalidArgumentError, match="labels"):
        trainer.step(X[:10])
    loss = trainer.step(X[:10], labels=Y[:10])
    losses = trainer.last_losses
    assert np.isfinite(loss) and all(np.isfinite(v) for v in losses.values())
    plain = ae.Trainer(ae.Autoencoder(hidden=[4], code_size=2, verbose=0).fit(X, epochs=1), batch_size=5)
    plain.step(X[:5])
    assert plain.last_losses["generator"] is None and plain.last_losses["reconstruction"] > 0


def test_onnx_export_is_the_inference_path(tmp_path):
    """The exported graph is the encoder and decoder; the discriminator trains only."""
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model = ae.Model.from_spec(spec(), verbose=0).fit(X, Y, epochs=1, batch_size=10)
    proto = model.export_onnx(tmp_path / "aae.onnx")
    assert not any(i.name.startswith("discriminator") for i in proto.graph.initializer)
    session = ort.InferenceSession(str(tmp_path / "aae.onnx"))
    out = session.run(None, {session.get_inputs()[0].name: X})[0]
    np.testing.assert_allclose(out.reshape(len(X), -1), model.reconstruct(X).reshape(len(X), -1), atol=1e-5)
