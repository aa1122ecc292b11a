"""Binary cross-entropy reads its targets as probabilities: data outside [0, 1] (pixels not
divided by 255) is refused in fit, evaluate and Trainer.step, with a message naming the data,
the element and the fix, and the failed call changes nothing."""

import numpy as np
import pytest

import autoencoders as ae

BCE = {"input_size": 16,
       "encoder": [{"type": "dense", "units": 4, "activation": "relu"}],
       "decoder": [{"type": "dense", "units": 16, "activation": "sigmoid"}],
       "loss": "bce", "seed": 3}


def pixels(rows=40):
    return np.random.default_rng(0).integers(0, 256, size=(rows, 16)).astype(np.float32)


def snapshot(model):
    return {name: model.get_parameter(name).copy() for name in model.parameter_names}


def assert_unchanged(model, before):
    for name, value in before.items():
        np.testing.assert_array_equal(model.get_parameter(name), value)


@pytest.mark.parametrize("loss", ["bce", "bce_with_logits"])
def test_fit_refuses_raw_pixels_and_says_how_to_scale(loss):
    spec = dict(BCE, loss=loss)
    if loss == "bce_with_logits":
        spec["decoder"] = [{"type": "dense", "units": 16}]
    model = ae.Autoencoder.from_spec(spec, epochs=2)
    X = pixels()
    with pytest.raises(ae.InvalidArgumentError,
                       match=rf"data: element \d+ \(sample \d+, feature \d+\) is \d+\.0; the {loss} loss "
                             r"needs targets in \[0, 1\].*/ 255\.0"):
        model.fit(X)
    model.fit(X / 255.0)  # the same data scaled trains
    assert np.isfinite(model.evaluate(X / 255.0))


def test_the_first_offending_element_is_named():
    X = np.full((5, 16), 0.5, np.float32)
    X[3, 9] = -0.25
    model = ae.Autoencoder.from_spec(BCE, epochs=1)
    with pytest.raises(ae.InvalidArgumentError, match=r"data: element 57 \(sample 3, feature 9\) is -0\.25"):
        model.fit(X)


def test_evaluate_and_validation_data_are_checked_and_nothing_changes():
    model = ae.Autoencoder.from_spec(BCE, epochs=1).fit(pixels() / 255.0)
    before = snapshot(model)
    epochs = model.epochs_completed
    with pytest.raises(ae.InvalidArgumentError, match=r"^.*data: element \d+ .*needs targets in \[0, 1\]"):
        model.evaluate(pixels())
    bad = pixels(8) / 255.0
    bad[2, 1] = 2.0
    with pytest.raises(ae.InvalidArgumentError, match=r"validation data: element 33 \(sample 2, feature 1\) is 2\.0"):
        model.fit(pixels() / 255.0, validation_data=bad)
    assert_unchanged(model, before)
    assert model.epochs_completed == epochs


def test_trainer_step_refuses_a_batch_beyond_one():
    model = ae.Autoencoder.from_spec(BCE)
    with ae.Trainer(model, batch_size=8) as trainer:
        trainer.step(pixels(8) / 255.0)
        before = snapshot(model)
        with pytest.raises(ae.InvalidArgumentError, match=r"batch: element \d+ .*needs targets in \[0, 1\]"):
            trainer.step(pixels(8))
        assert trainer.step_count == 1
    assert_unchanged(model, before)


def test_the_check_is_after_the_models_input_scaling():
    # minmax scaling fitted on the training pixels maps them into [0, 1]: raw pixels are fine.
    X = pixels()
    model = ae.Autoencoder.from_spec(BCE, epochs=1, input_scaling="minmax").fit(X)
    assert np.isfinite(model.evaluate(X))
    beyond = X.copy()
    beyond[0, 0] = X[:, 0].max() + 100  # beyond the fitted range: above 1 once scaled
    with pytest.raises(ae.InvalidArgumentError, match=r"after the model's input scaling"):
        model.evaluate(beyond)


def test_other_losses_take_any_finite_targets():
    model = ae.Autoencoder.from_spec(dict(BCE, loss="mse", decoder=[{"type": "dense", "units": 16}]), epochs=1)
    X = pixels() / 255.0 * 4 - 2
    assert np.isfinite(model.fit(X).evaluate(X))
