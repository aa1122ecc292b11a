"""Keras habits: fit(X, X, validation_data=(Xv, Xv), callbacks=[...]), the callbacks' hooks
and logs, EarlyStopping, ModelCheckpoint, CSVLogger, history_, and a callback that raises."""

import csv

import numpy as np
import pytest

import autoencoders as ae
from autoencoders.callbacks import Callback


class Recorder(Callback):
    """Records every hook call, and the weights at each epoch's end."""

    def __init__(self):
        super().__init__()
        self.calls = []
        self.weights = []

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin",))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, dict(logs)))
        self.weights.append(self.model.parameters())

    def on_train_end(self, logs=None):
        self.calls.append(("train_end",))


def test_keras_style_fit_with_validation_data_and_callbacks(model, data):
    train, held = data[:160], data[160:]
    recorder = Recorder()
    assert model.fit(train, train, validation_data=(held, held), epochs=3,
                     callbacks=[recorder]) is model
    assert recorder.model is model and recorder.params["epochs"] == 3
    hooks = [call[0] if call[0] != "epoch_begin" else call[:2] for call in recorder.calls
             if call[0] != "epoch_end"]
    assert hooks == ["train_begin", ("epoch_begin", 0), ("epoch_begin", 1), ("epoch_begin", 2),
                     "train_end"]
    ends = [call for call in recorder.calls if call[0] == "epoch_end"]
    assert [call[1] for call in ends] == [0, 1, 2]
    logs = ends[-1][2]
    assert set(logs) == {"loss", "val_loss", "learning_rate", "elapsed_seconds"}
    # history_ as in Keras: a dict of per-epoch lists, "loss" and "val_loss" among them.
    assert model.history_["loss"] == [call[2]["loss"] for call in ends]
    assert model.history_["val_loss"] == [call[2]["val_loss"] for call in ends]
    assert model.history_["loss"] == model.history_["train_loss"]
    no_validation = ae.Autoencoder(hidden=[4], code_size=2, epochs=1, verbose=0).fit(data)
    assert "val_loss" not in no_validation.history_ and len(no_validation.history_["loss"]) == 1


def test_a_callback_stops_training_through_stop_training(model, data):
    class StopAfterTwo:  # duck typing: no base class needed
        def set_model(self, model):
            self.model = model

        def on_epoch_end(self, epoch, logs):
            if epoch == 1:
                self.model.stop_training = True
    model.fit(data, epochs=10, callbacks=[StopAfterTwo()])
    assert model.epochs_completed == 2 and model.report_.stop_reason == "callback"
    assert not model.stop_training  # cleared when fit returns
    assert "_stop_training" not in vars(model)


def test_early_stopping_stops_and_restores_the_best_weights(model, data):
    recorder = Recorder()
    # The loss falls every epoch, so with mode="max" the first epoch stays the best.
    stopper = ae.EarlyStopping(monitor="loss", mode="max", patience=2, restore_best_weights=True)
    model.fit(data, epochs=20, callbacks=[recorder, stopper])
    assert model.epochs_completed == 3 and stopper.stopped_epoch == 2 and stopper.best_epoch == 0
    for name, values in recorder.weights[0].items():
        np.testing.assert_array_equal(model.get_parameter(name), values)
    with pytest.warns(RuntimeWarning, match="no 'val_loss'"):
        ae.Autoencoder(hidden=[4], code_size=2, epochs=1, verbose=0).fit(
            data, callbacks=[ae.EarlyStopping()])


def test_early_stopping_on_the_validation_loss(data):
    m = ae.Autoencoder(hidden=[8], code_size=3, epochs=50, verbose=0)
    stopper = ae.EarlyStopping(patience=1, min_delta=1e9)  # nothing counts as an improvement
    m.fit(data[:160], validation_data=data[160:], callbacks=[stopper])
    assert m.epochs_completed == 2 and len(m.history_["val_loss"]) == 2


def test_model_checkpoint_and_csv_logger(model, data, tmp_path):
    checkpoint = ae.ModelCheckpoint(tmp_path / "m-{epoch:02d}.aem", monitor="loss")
    best = ae.ModelCheckpoint(tmp_path / "best.aem", monitor="val_loss", save_best_only=True)
    logger = ae.CSVLogger(tmp_path / "log.csv")
    model.fit(data[:160], validation_data=data[160:], epochs=3,
              callbacks=[checkpoint, best, logger])
    assert [p.name for p in sorted(tmp_path.glob("m-*.aem"))] == ["m-01.aem", "m-02.aem",
                                                                  "m-03.aem"]
    assert ae.load(tmp_path / "m-02.aem").epochs_completed == 2
    best_epoch = int(np.argmin(model.history_["val_loss"])) + 1
    assert ae.load(tmp_path / "best.aem").epochs_completed == best_epoch
    with open(tmp_path / "log.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["epoch"] for row in rows] == ["0", "1", "2"]
    assert float(rows[2]["val_loss"]) == pytest.approx(model.history_["val_loss"][2])
    model.fit(data, epochs=1, callbacks=[ae.CSVLogger(tmp_path / "log.csv", append=True)])
    with open(tmp_path / "log.csv", newline="") as file:
        assert len(list(csv.DictReader(file))) == 4  # appended, one header


class Boom(Exception):
    pass


class RaisesAt(Callback):
    def __init__(self, hook, epoch=1):
        super().__init__()
        self.hook, self.epoch = hook, epoch

    def on_train_begin(self, logs=None):
        if self.hook == "on_train_begin":
            raise Boom("before training")

    def on_epoch_end(self, epoch, logs=None):
        if self.hook == "on_epoch_end" and epoch == self.epoch:
            raise Boom("at the end of an epoch")

    def on_train_end(self, logs=None):
        if self.hook == "on_train_end":
            raise Boom("after training")


@pytest.mark.parametrize("hook", ["on_train_begin", "on_epoch_end", "on_train_end"])
def test_a_callback_that_raises_leaves_the_model_unchanged(model, data, hook):
    model.fit(data, epochs=2)
    before = model.parameters()
    history, threshold = model.history_, model.fit_threshold(data)
    with pytest.raises(ae.CallbackError, match=f"callback RaisesAt.{hook} raised Boom") as info:
        model.fit(data, epochs=5, callbacks=[RaisesAt(hook)])
    assert isinstance(info.value.__cause__, Boom)
    assert "the model is as it was before fit" in str(info.value)
    assert model.epochs_completed == 2 and model.history_ is history
    assert model.threshold == threshold
    for name, values in before.items():
        np.testing.assert_array_equal(model.get_parameter(name), values)
    model.fit(data, epochs=1)  # and it trains on from there
    assert model.epochs_completed == 3


def test_a_callback_that_raises_in_a_first_fit_leaves_it_unfitted(data):
    m = ae.Autoencoder(hidden=[4], code_size=2, epochs=5, verbose=0)
    with pytest.raises(ae.CallbackError, match="at epoch 1"):
        m.fit(data, callbacks=[RaisesAt("on_epoch_end")])
    assert not m.is_built and not hasattr(m, "history_")
    refit = ae.Autoencoder(hidden=[4], code_size=2, epochs=2, verbose=0).fit(data)
    codes = refit.transform(data)
    with pytest.raises(ae.CallbackError):  # warm_start=False: the refit fails, the fit stays
        refit.fit(data, callbacks=[RaisesAt("on_epoch_end", 0)])
    np.testing.assert_array_equal(refit.transform(data), codes)


def test_callbacks_argument_errors(model, data):
    with pytest.raises(TypeError, match="expected a list of callbacks"):
        model.fit(data, callbacks=ae.EarlyStopping())
    with pytest.raises(TypeError, match="none of the methods"):
        model.fit(data, callbacks=[object()])
    assert model.epochs_completed == 0


def test_partial_fit_streams_one_epoch_per_call(data):
    m = ae.Autoencoder(hidden=[8], code_size=3, batch_size=20, verbose=0)
    assert m.warm_start is False  # scikit-learn's default
    for start in range(0, 200, 50):
        assert m.partial_fit(data[start:start + 50]) is m
    assert m.epochs_completed == 4 and m.report_.epochs_run == 1
    losses = [m.partial_fit(data).history_["loss"][0] for _ in range(5)]
    assert losses[-1] < losses[0] and m.epochs_completed == 9
    with pytest.raises(ValueError, match="X has 5 features, but Autoencoder is expecting 12"):
        m.partial_fit(data[:, :5])
