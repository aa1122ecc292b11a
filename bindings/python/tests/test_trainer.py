"""The step-wise Trainer, and the numerics of a small model against the PyTorch golden fixture
model_a_dense_ae: PyTorch's initial weights, five Adam steps on x.npy, every loss and every final
weight within rtol 1e-4 and atol 1e-5 * max|ref|."""

import gc
import json

import numpy as np
import pytest

import autoencoders as ae
from conftest import REPOSITORY

FIXTURE = REPOSITORY / "Tests" / "Fixtures" / "torch" / "model_a_dense_ae"
LAYERS = [("enc0", "encoder.0"), ("enc1", "encoder.1"), ("enc2", "encoder.2"),
          ("dec0", "decoder.0"), ("dec1", "decoder.1"), ("dec2", "decoder.2")]
MODEL_A = {"input_size": 100,
           "encoder": [{"type": "dense", "units": 50, "activation": "relu"},
                       {"type": "dense", "units": 25, "activation": "relu"},
                       {"type": "dense", "units": 10, "activation": "relu"}],
           "decoder": [{"type": "dense", "units": 25, "activation": "relu"},
                       {"type": "dense", "units": 50, "activation": "relu"},
                       {"type": "dense", "units": 100, "activation": "relu"}],
           "loss": "mse", "optimizer": {"type": "adam", "lr": 0.001}}


def assert_golden(ours, name):
    ref = np.load(FIXTURE / f"{name}.npy")
    ours = np.asarray(ours, dtype=np.float64).reshape(ref.shape)
    atol = 1e-5 * float(np.max(np.abs(ref)))
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=atol, err_msg=name)


@pytest.fixture
def model_a():
    if not FIXTURE.is_dir():
        pytest.skip("the PyTorch fixtures are not in this checkout")
    model = ae.Autoencoder.from_spec(MODEL_A)
    assert model.parameter_names == [f"{p}.{k}" for _, p in LAYERS for k in ("weight", "bias")]
    for fixture, prefix in LAYERS:
        for kind in ("weight", "bias"):
            model.set_parameter(f"{prefix}.{kind}", np.load(FIXTURE / f"{fixture}_{kind}_init.npy"))
    return model, np.load(FIXTURE / "x.npy")


def test_model_a_forward_matches_pytorch(model_a):
    model, x = model_a
    assert_golden(model.encode(x), "code0")
    assert_golden(model.reconstruct(x), "recon0")


def test_model_a_five_adam_steps_match_pytorch(model_a):
    model, x = model_a
    with ae.Trainer(model, batch_size=8) as trainer:
        losses = [trainer.step(x) for _ in range(5)]
        assert trainer.step_count == 5
    assert_golden(losses, "losses")
    assert_golden([model.evaluate(x)], "loss_after")
    for fixture, prefix in LAYERS:
        for kind in ("weight", "bias"):
            assert_golden(model.get_parameter(f"{prefix}.{kind}"), f"{fixture}_{kind}_final")


def test_manifest_tolerance_is_the_one_used():
    manifest = json.loads((FIXTURE.parent / "MANIFEST.json").read_text())
    case = next(c for c in manifest["cases"] if c["name"] == "model_a_dense_ae")
    assert case["tolerance"] == {"rtol": 1e-4, "atol_rel": 1e-5}


def test_trainer_learning_rate_and_step_count(model, data):
    trainer = ae.Trainer(model, batch_size=16)
    assert trainer.batch_size == 16 and trainer.model is model
    assert trainer.learning_rate == pytest.approx(0.01)
    trainer.learning_rate = 0.5
    assert trainer.learning_rate == pytest.approx(0.5)
    for bad in (0.0, -1.0, float("nan"), 1e300):
        with pytest.raises(ae.InvalidArgumentError):
            trainer.learning_rate = bad
    first = trainer.step(data[:16])
    trainer.step(data[16:20])  # a smaller batch is fine
    assert trainer.step_count == 2 and np.isfinite(first)
    model.fit(data, epochs=1, batch_size=50)  # steps are counted per model
    assert trainer.step_count == 2 + 4
    trainer.close()
    assert trainer.closed and "closed" in repr(trainer)
    with pytest.raises(ValueError, match="trainer is closed"):
        trainer.step(data[:4])


def test_trainer_steps_equal_fit_without_shuffle(small_spec, data):
    a = ae.Autoencoder.from_spec(small_spec, verbose=0)
    a.fit(data, epochs=1, batch_size=50, shuffle=False)
    b = ae.Autoencoder.from_spec(small_spec)
    trainer = ae.Trainer(b, batch_size=50)
    for start in range(0, 200, 50):
        trainer.step(data[start:start + 50])
    for name in a.parameter_names:
        np.testing.assert_allclose(a.get_parameter(name), b.get_parameter(name), rtol=1e-6, atol=1e-7)


def test_trainer_errors(model, data):
    with pytest.raises(TypeError):
        ae.Trainer("not a model")
    for bad, error in ((0, ValueError), (-3, ValueError), (2.0, TypeError), (True, TypeError)):
        with pytest.raises(error):
            ae.Trainer(model, batch_size=bad)
    assert ae.Trainer(model, batch_size=np.int64(4)).batch_size == 4
    with pytest.raises(ae.InvalidArgumentError):
        ae.Trainer(model, batch_size=2 ** 21)
    with pytest.raises(ae.NotFittedError):
        ae.Trainer(ae.Autoencoder())
    trainer = ae.Trainer(model, batch_size=8)
    with pytest.raises(ValueError, match="batch has 9 samples; this trainer takes at most 8"):
        trainer.step(data[:9])
    with pytest.raises(ae.ShapeError):
        trainer.step(data[:4, :5])
    bad = data[:4].copy()
    bad[1, 1] = np.inf
    with pytest.raises(ae.NumericError):
        trainer.step(bad)
    with pytest.raises(ValueError, match="empty"):
        trainer.step(data[:0])
    with pytest.raises(TypeError, match="cannot be pickled"):
        import pickle
        pickle.dumps(trainer)


def test_masked_steps(model, data):
    trainer = ae.Trainer(model, batch_size=20)
    mask = np.ones((20, 12), dtype=np.float32)
    mask[:, :6] = 0
    loss = trainer.step(data[:20], mask=mask)
    assert np.isfinite(loss)
    with pytest.raises(ae.ShapeError, match="mask has 10 samples"):
        trainer.step(data[:20], mask=mask[:10])


def test_model_and_trainer_close_in_either_order(small_spec, data):
    model = ae.Autoencoder.from_spec(small_spec)
    trainer = ae.Trainer(model, batch_size=10)
    model.close()  # the native trainer keeps the native model alive
    assert np.isfinite(trainer.step(data[:10]))
    trainer.close()
    model2 = ae.Autoencoder.from_spec(small_spec)
    trainer2 = ae.Trainer(model2, batch_size=10)
    trainer2.close()
    assert model2.encode(data[:2]).shape == (2, 3)
    model2.close()
    # And with neither closed explicitly: the finalizers free both.
    trainer3 = ae.Trainer(ae.Autoencoder.from_spec(small_spec), batch_size=4)
    finalizer = trainer3._handle._finalizer
    del trainer3
    gc.collect()
    assert not finalizer.alive
