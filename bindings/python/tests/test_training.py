"""fit: validation data and split, early stopping, schedules, callbacks and their stop, the
progress display, continuation, divergence, masks; anomaly thresholds and inpainting."""

import io
import sys

import numpy as np
import pytest

import autoencoders as ae
from autoencoders._progress import ProgressPrinter


def twin(spec, **kw):
    kw.setdefault("warm_start", True)  # these tests train in steps, as ae_model_train does
    return ae.Autoencoder.from_spec(spec, verbose=0, **kw)


def test_fit_returns_self_and_records_history(model, data):
    assert model.fit(data, epochs=3, batch_size=20) is model
    assert model.epochs_completed == 3
    history = model.history_
    assert history["epoch"] == [1, 2, 3]
    assert len(history["train_loss"]) == 3 and history["train_loss"][-1] < history["train_loss"][0]
    assert history["validation_loss"] == [None, None, None]
    report = model.report_
    assert report.epochs_run == 3 and report.stop_reason == "completed"
    assert report.final_validation_loss is None and report.seconds >= 0
    assert report.final_train_loss == pytest.approx(history["train_loss"][-1])


def test_validation_split_and_data(small_spec, data):
    a = twin(small_spec).fit(data, epochs=2, validation_split=0.25)
    assert all(v is not None for v in a.history_["validation_loss"])
    # validation_split holds out the last samples: the same as passing them explicitly.
    b = twin(small_spec).fit(data[:150], epochs=2, validation_data=data[150:])
    np.testing.assert_allclose(a.history_["validation_loss"], b.history_["validation_loss"], rtol=1e-6)
    c = twin(small_spec).fit(data[:150], epochs=2, validation_data=(data[150:], None))  # Keras style
    assert c.history_["validation_loss"] == b.history_["validation_loss"]
    assert b.report_.final_validation_loss == pytest.approx(b.history_["validation_loss"][-1])


def test_early_stopping_restores_the_best_weights(small_spec, data):
    # min_delta so large that no epoch after the first counts as an improvement.
    m = twin(small_spec).fit(data, epochs=20, patience=2, min_delta=1e6, validation_split=0.2)
    assert m.report_.stop_reason == "early_stopping"
    assert m.report_.epochs_run == 3 and m.report_.best_epoch == 0
    one_epoch = twin(small_spec).fit(data, epochs=1, validation_split=0.2)
    for name in m.parameter_names:
        np.testing.assert_array_equal(m.get_parameter(name), one_epoch.get_parameter(name))
    keep_last = twin(small_spec).fit(data, epochs=20, patience=2, min_delta=1e6,
                                     validation_split=0.2, restore_best_weights=False)
    assert keep_last.report_.epochs_run == 3
    assert not np.array_equal(keep_last.get_parameter("encoder.0.weight"),
                              one_epoch.get_parameter("encoder.0.weight"))


def test_estimator_defaults_are_used_and_fit_overrides_them(small_spec, data):
    m = ae.Autoencoder(spec=small_spec, epochs=4, batch_size=50, validation_split=0.1, verbose=0)
    m.fit(data)
    assert m.report_.epochs_run == 4 and m.history_["validation_loss"][0] is not None
    m.fit(data, epochs=1, validation_split=0.0)
    assert m.report_.epochs_run == 1 and m.history_["validation_loss"] == [None]


def test_schedule_from_the_builder(data):
    m = ae.Autoencoder.dense(12, hidden=[8], code_size=3, lr=0.01, verbose=0, warm_start=True,
                             schedule={"type": "step", "step_size": 1, "gamma": 0.5})
    m.fit(data, epochs=3)
    np.testing.assert_allclose(m.history_["learning_rate"], [0.01, 0.005, 0.0025], rtol=1e-6)
    m.fit(data, epochs=1)  # the schedule continues across calls
    np.testing.assert_allclose(m.history_["learning_rate"], [0.00125], rtol=1e-6)


def test_two_fits_equal_one_longer_fit(small_spec, data):
    a = twin(small_spec).fit(data, epochs=2).fit(data, epochs=3)
    b = twin(small_spec).fit(data, epochs=5)
    assert a.epochs_completed == b.epochs_completed == 5
    for name in a.parameter_names:
        np.testing.assert_array_equal(a.get_parameter(name), b.get_parameter(name))


def test_callback_false_stops_training(model, data):
    seen = []

    def callback(progress):
        seen.append(progress)
        return progress["epoch"] < 1  # False at the end of the second epoch
    model.fit(data, epochs=10, callback=callback)
    assert model.report_.stop_reason == "callback" and model.report_.epochs_run == 2
    assert model.epochs_completed == 2
    assert [p["epoch"] for p in seen] == [0, 1] and all(p["is_epoch_end"] for p in seen)
    assert set(seen[0]) == {"epoch", "epochs", "batch", "batches", "train_loss", "validation_loss",
                            "learning_rate", "elapsed_seconds", "is_epoch_end", "epochs_completed",
                            "reconstruction_loss", "kl_divergence",
                            "discriminator_loss", "generator_loss"}
    assert seen[1]["epochs_completed"] == 2 and seen[0]["epochs"] == 10


def test_callback_none_continues_and_batches_on_request(model, data):
    seen = []
    model.fit(data, epochs=2, batch_size=50, callback=seen.append, report_batches=True)
    assert model.report_.stop_reason == "completed"
    batches = [p for p in seen if not p["is_epoch_end"]]
    assert len(batches) >= 2 * 3 and batches[0]["batches"] == 4


def test_callback_stop_mid_epoch(model, data):
    calls = []

    def callback(progress):
        calls.append(progress)
        return not (progress["batch"] == 5 and not progress["is_epoch_end"])
    model.fit(data, epochs=3, batch_size=10, report_batches=True, callback=callback)
    assert model.report_.stop_reason == "callback"
    assert len(calls) == 5  # never called again after it asked to stop


def test_callback_exception_stops_training_and_propagates(model, data):
    class Boom(Exception):
        pass

    def callback(progress):
        if progress["epoch"] == 1:
            raise Boom("from the callback")
    with pytest.raises(Boom, match="from the callback"):
        model.fit(data, epochs=50, callback=callback)
    assert model.epochs_completed == 2  # stopped right there, not after 50 epochs
    assert len(model.history_["epoch"]) == 2


def test_keyboard_interrupt_in_callback_propagates(model, data):
    def callback(progress):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        model.fit(data, epochs=50, callback=callback)
    assert model.epochs_completed == 1


def test_callback_may_run_inference_but_not_train(model, data):
    codes = []

    def callback(progress):
        codes.append(model.encode(data[:2]))
        model.fit(data, epochs=1)  # changing the model from its own callback is refused
    with pytest.raises(ae.InvalidArgumentError, match="progress callback"):
        model.fit(data, epochs=3, callback=callback)
    assert len(codes) == 1


def test_verbose_0_is_silent(model, data, capsys):
    model.fit(data, epochs=2, verbose=0)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_verbose_2_prints_one_line_per_epoch(model, data, capsys):
    model.fit(data, epochs=3, verbose=2, validation_split=0.1)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("epoch 1/3 loss ") and " val_loss " in lines[0] and " lr 0.01 " in lines[0]


def test_verbose_1_outside_a_terminal_prints_lines(model, data, capsys):
    model.fit(data, epochs=2, verbose=1)
    assert len(capsys.readouterr().err.splitlines()) == 2


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_verbose_1_on_a_terminal_draws_a_bar(model, data, monkeypatch):
    from autoencoders import _progress
    monkeypatch.setattr(_progress, "tqdm_class", lambda: None)  # the built-in bar, tqdm or not
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    model.fit(data, epochs=2, batch_size=10, verbose=1)
    text = terminal.getvalue()
    assert "\r" in text and "[####################] 100%" in text and "done" in text
    assert text.endswith("\n") and text.count("\n") == 1  # one line, redrawn in place


def test_verbose_1_on_a_terminal_uses_tqdm_when_installed(model, data, monkeypatch):
    pytest.importorskip("tqdm")
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    model.fit(data, epochs=2, batch_size=10, verbose=1, validation_split=0.1)
    text = terminal.getvalue()
    assert "epoch 2/2" in text and "36/36" in text and "val=" in text  # 18 batches an epoch
    assert "[####################]" not in text


def test_progress_bar_format():
    printer = ProgressPrinter("bar", stream=io.StringIO())
    line = printer.bar_line({"epoch": 2, "epochs": 20, "batch": 48, "batches": 100,
                             "train_loss": 0.1234, "validation_loss": None, "learning_rate": 1e-3,
                             "elapsed_seconds": 10.0, "is_epoch_end": False})
    assert line.startswith("epoch 3/20 [#########-----------]  48% loss 0.1234 lr 1.0e-03 ETA ")


def test_fit_argument_errors(model, data):
    for kwargs, error in [({"epochs": 0}, ValueError), ({"epochs": 2.5}, TypeError),
                          ({"batch_size": -1}, ValueError), ({"validation_split": 1.0}, ValueError),
                          ({"patience": -1}, ValueError), ({"min_delta": float("nan")}, ValueError),
                          ({"callback": 3}, TypeError),
                          ({"validation_data": np.zeros((5, 4))}, ae.ShapeError),
                          ({"validation_data": (1, 2, 3)}, ValueError)]:
        with pytest.raises(error):
            model.fit(data, **kwargs)
    assert model.epochs_completed == 0


def test_first_fit_infers_the_input_size_and_failure_leaves_it_unfitted(data):
    m = ae.Autoencoder(hidden=[6], code_size=2, verbose=0)
    with pytest.raises(ValueError, match=r"expected \(n, features\)"):
        m.fit(data.reshape(-1))
    bad = data.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ae.NumericError):
        m.fit(bad)
    assert not m.is_built
    m.fit(data, epochs=1)
    assert m.input_size == 12 and m.code_size == 2 and m.n_features_in_ == 12


def test_input_scaling_hyperparameter_fits_on_first_fit(data):
    m = ae.Autoencoder(hidden=[6], code_size=2, input_scaling="standardize", verbose=0,
                       warm_start=True)
    m.fit(data * 100 + 5, epochs=1)
    offset, scale = m.get_input_scaling()
    np.testing.assert_allclose(offset, (data * 100 + 5).mean(axis=0), rtol=1e-4)
    m.fit(data, epochs=1)  # later fits keep the scaling the model was trained with
    np.testing.assert_array_equal(m.get_input_scaling()[0], offset)
    with pytest.raises(ValueError, match="input_scaling"):
        ae.Autoencoder(input_scaling="zscore", verbose=0).fit(data)


def test_divergence_raises_numeric_error_and_keeps_finite_weights(data):
    m = ae.Autoencoder.dense(12, hidden=[8], code_size=3, optimizer="sgd", lr=1e30, verbose=0)
    with pytest.raises(ae.NumericError):
        m.fit(data * 1000, epochs=3)
    for values in m.parameters().values():
        assert np.all(np.isfinite(values))


def test_warm_start_false_refits_from_scratch(small_spec, data):
    m = ae.Autoencoder(spec=small_spec, warm_start=False, verbose=0)
    first = m.fit(data, epochs=2).transform(data)
    second = m.fit(data, epochs=2).transform(data)
    assert m.epochs_completed == 2
    np.testing.assert_array_equal(first, second)  # fit twice = fit once


def test_training_with_a_mask_and_inpainting(model, data):
    rng = np.random.default_rng(3)
    mask = (rng.random(data.shape) > 0.2).astype(np.float32)
    model.fit(data, mask=mask, epochs=3)
    assert model.report_.epochs_run == 3
    holes = data.copy()
    holes[mask == 0] = 0.0
    filled = model.inpaint(holes, mask)
    assert filled.shape == data.shape
    np.testing.assert_array_equal(filled[mask == 1], holes[mask == 1])  # known inputs unchanged
    # Missing inputs enter the network as zero: the fills are the reconstruction of the input
    # with zeros in the holes (no input scaling here), whatever the holes held.
    noisy = holes.copy()
    noisy[mask == 0] = 7.0
    filled_noisy = model.inpaint(noisy, mask)
    np.testing.assert_allclose(filled_noisy[mask == 0], model.reconstruct(holes)[mask == 0],
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(filled_noisy[mask == 0], filled[mask == 0], rtol=1e-5, atol=1e-6)
    with pytest.raises(ae.ShapeError, match="mask has 10 samples"):
        model.inpaint(data, mask[:10])
    # NaN marks the missing entries when no mask is given; boolean masks work too.
    with_nan = data.copy()
    with_nan[mask == 0] = np.nan
    np.testing.assert_array_equal(model.inpaint(with_nan), filled)
    assert np.isnan(with_nan[mask == 0]).all()  # the caller's array is untouched
    np.testing.assert_array_equal(model.inpaint(holes, mask.astype(bool)), filled)
    with pytest.raises(ae.InvalidArgumentError, match="1 \\(known\\) or 0 \\(missing\\)"):
        model.inpaint(holes, np.full(data.shape, 0.5))
    with pytest.raises(ae.ShapeError):
        model.fit(data, mask=mask[:, :5])


def test_anomaly_threshold_and_predict(model, data, tmp_path):
    model.fit(data, epochs=3)
    assert model.threshold is None
    with pytest.raises(ae.UnsupportedError, match="threshold"):
        model.is_anomaly(data)
    threshold = model.fit_threshold(data, quantile=0.9)
    scores = model.reconstruction_error(data)
    assert threshold == pytest.approx(float(np.quantile(scores.astype(np.float64), 0.9)), rel=1e-5)
    assert model.threshold == pytest.approx(threshold)
    flags = model.is_anomaly(data)
    assert flags.dtype == bool and flags.shape == (200,) and 10 <= flags.sum() <= 30
    np.testing.assert_array_equal(flags, scores > np.float32(threshold))
    assert data[flags].shape == (flags.sum(), 12)
    model.threshold = 0.0
    assert model.is_anomaly(data).all()
    with pytest.raises(ValueError):
        model.threshold = -1.0
    with pytest.raises(ValueError):
        model.fit_threshold(data, quantile=1.5)
    model.threshold = 0.25
    model.save(tmp_path / "t.aem")
    assert ae.Autoencoder.load(tmp_path / "t.aem").threshold == pytest.approx(0.25)


def test_ctrl_c_stops_a_long_epoch_promptly(tmp_path):
    """SIGINT during one long epoch (verbose=0, no callback) raises KeyboardInterrupt within a
    batch or so, not at the end of the epoch."""
    import signal
    import subprocess
    import time
    from conftest import PACKAGE_ROOT
    program = r"""
import sys, time, numpy as np
sys.path.insert(0, sys.argv[1])
import autoencoders as ae
import signal
signal.signal(signal.SIGINT, signal.default_int_handler)  # a background job may inherit SIG_IGN
x = np.random.default_rng(0).random((400000, 64), dtype=np.float32)
model = ae.Autoencoder.dense(64, hidden=[1024], code_size=8, verbose=0)  # an epoch of 15-60 s
print("training", flush=True)
started = time.perf_counter()
try:
    model.fit(x, epochs=1, batch_size=32)
    print("finished", time.perf_counter() - started, flush=True)
except KeyboardInterrupt:
    print("interrupted", model.epochs_completed, flush=True)
"""
    process = subprocess.Popen([sys.executable, "-c", program, str(PACKAGE_ROOT)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "training"
        time.sleep(0.5)
        sent = time.perf_counter()
        process.send_signal(signal.SIGINT)
        output, errors = process.communicate(timeout=60)
        reaction = time.perf_counter() - sent
    finally:
        process.kill()
    if output.startswith("finished"):
        pytest.skip(f"the epoch ended before the signal arrived ({output.strip()})")
    # The core counts the interrupted epoch as completed (see the report), so 0 or 1.
    assert output.startswith(("interrupted 0", "interrupted 1")), output + errors
    # A batch takes well under a millisecond; 5 s leaves room for a loaded machine's scheduler
    # and is still a small part of the epoch (so the signal was not seen only at its end).
    assert reaction < 5.0
