"""Keras-style training callbacks: ``model.fit(X, callbacks=[EarlyStopping(patience=3)])``.

A callback is any object with some of the methods of :class:`Callback` (duck typing, as in
Keras): ``set_model(model)``, ``on_train_begin(logs)``, ``on_epoch_begin(epoch, logs)``,
``on_epoch_end(epoch, logs)`` and ``on_train_end(logs)``. ``epoch`` counts from 0 within the
``fit`` call. ``logs`` at an epoch's end holds ``loss`` (the mean training objective),
``val_loss`` (with validation data), ``learning_rate``, ``elapsed_seconds`` and, for a VAE,
``reconstruction_loss`` and ``kl_divergence``. Setting ``model.stop_training = True`` stops
training after the current epoch, keeping the weights it has then.

During training a callback may query and save the model (``save``, ``encode``, ``parameters``)
but not change it; ``on_train_end`` runs once the library has returned and may. A callback that
raises stops training: ``fit`` raises :class:`CallbackError` (its cause is the original
exception) and the model is as it was before ``fit`` (unfitted again after a first ``fit``).
"""

from __future__ import annotations

import csv
import math
import os
import warnings
from typing import IO, Any, Dict, List, Optional, Sequence

import numpy as np

from ._errors import AutoencoderError

__all__ = ["Callback", "EarlyStopping", "ModelCheckpoint", "CSVLogger", "CallbackError"]

Logs = Dict[str, Any]
_HOOKS = ("on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_end")


class CallbackError(AutoencoderError, RuntimeError):
    """A training callback raised: the message names the callback, the hook and the epoch; the
    original exception is the ``__cause__``. The model is as it was before ``fit``."""


class Callback:
    """Base class of training callbacks (optional: any object with these methods will do).

    Attributes:
        model: the estimator being trained (set by ``fit`` through :meth:`set_model`).
        params: ``{"epochs": ..., "batch_size": ..., "verbose": ...}`` of the ``fit`` call.
    """

    def __init__(self) -> None:
        self.model: Any = None
        self.params: Dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: Dict[str, Any]) -> None:
        self.params = params

    def on_train_begin(self, logs: Optional[Logs] = None) -> None:
        """Before the first epoch of a ``fit`` call."""

    def on_epoch_begin(self, epoch: int, logs: Optional[Logs] = None) -> None:
        """Before epoch ``epoch`` (0-based within the call)."""

    def on_epoch_end(self, epoch: int, logs: Optional[Logs] = None) -> None:
        """After epoch ``epoch`` with its ``logs`` (see the module's documentation)."""

    def on_train_end(self, logs: Optional[Logs] = None) -> None:
        """After the last epoch (the model may be changed here), with the last epoch's logs."""


def _better(mode: str, min_delta: float):  # type: ignore[no-untyped-def]
    """The comparison of ``mode`` ("min" or "max"): new is better than best by min_delta."""
    if mode == "max":
        return lambda new, best: new > best + min_delta
    return lambda new, best: new < best - min_delta


def _mode(mode: str, monitor: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode is {mode!r}; expected 'auto', 'min' or 'max'")
    if mode == "auto":
        return "max" if "acc" in monitor or monitor.endswith("score") else "min"
    return mode


class EarlyStopping(Callback):
    """Stops training when ``monitor`` has not improved for ``patience`` epochs (Keras's
    ``EarlyStopping``).

    Args:
        monitor: the logs key to watch ("val_loss", "loss", ...).
        min_delta: least change that counts as an improvement.
        patience: epochs without improvement before stopping (0: stop at the first).
        mode: "min", "max" or "auto" (min for losses).
        restore_best_weights: at the end, set the weights of the best epoch (when it was not
            the last one).
        start_from_epoch: epochs to wait before watching (a warm-up).

    After training, ``stopped_epoch`` is the epoch it stopped at (0 if it did not), and
    ``best`` / ``best_epoch`` the best value seen and its epoch.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 mode: str = "auto", restore_best_weights: bool = False,
                 start_from_epoch: int = 0) -> None:
        super().__init__()
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = int(patience)
        self.mode = _mode(mode, monitor)
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.last_epoch = -1
        self.best_weights: Optional[Dict[str, np.ndarray]] = None

    def on_train_begin(self, logs: Optional[Logs] = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: Optional[Logs] = None) -> None:
        value = (logs or {}).get(self.monitor)
        self.last_epoch = epoch
        if value is None:
            warnings.warn(f"EarlyStopping: the logs have no {self.monitor!r} (they have "
                          f"{', '.join(sorted(logs or {}))}); pass validation data to monitor "
                          "val_loss, or monitor='loss'", RuntimeWarning, stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        if _better(self.mode, self.min_delta)(float(value), self.best):
            self.best, self.best_epoch, self.wait = float(value), epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.parameters()
            return
        self.wait += 1
        if self.wait >= max(self.patience, 1):
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: Optional[Logs] = None) -> None:
        if self.best_weights is not None and self.best_epoch != self.last_epoch:
            self.model.set_parameters(self.best_weights)
        self.best_weights = None


class ModelCheckpoint(Callback):
    """Saves the model file after every epoch (Keras's ``ModelCheckpoint``).

    Args:
        filepath: where to save; may hold ``str.format`` fields: ``{epoch}`` (1-based) and any
            logs key, e.g. ``"model-{epoch:03d}-{val_loss:.4f}.aem"``.
        monitor, mode: what ``save_best_only`` compares ("val_loss", min for losses).
        save_best_only: save only when ``monitor`` improved (the file is overwritten when
            ``filepath`` has no fields).
        include_optimizer_state: keep the optimizer state in the file (to resume training).
    """

    def __init__(self, filepath: "os.PathLike[str] | str", monitor: str = "val_loss",
                 save_best_only: bool = False, mode: str = "auto",
                 include_optimizer_state: bool = True) -> None:
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.save_best_only = bool(save_best_only)
        self.mode = _mode(mode, monitor)
        self.include_optimizer_state = bool(include_optimizer_state)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.saved: List[str] = []

    def on_epoch_end(self, epoch: int, logs: Optional[Logs] = None) -> None:
        logs = logs or {}
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                warnings.warn(f"ModelCheckpoint: the logs have no {self.monitor!r}; saving "
                              "every epoch", RuntimeWarning, stacklevel=2)
            elif _better(self.mode, 0.0)(float(value), self.best):
                self.best = float(value)
            else:
                return
        path = self.filepath.format(epoch=epoch + 1, **logs)
        self.model.save(path, include_optimizer_state=self.include_optimizer_state)
        self.saved.append(path)


class CSVLogger(Callback):
    """Writes one CSV row per epoch: ``epoch`` (0-based within the call, as Keras) and the logs
    (Keras's ``CSVLogger``). ``append=True`` adds to an existing file (without a second header).
    """

    def __init__(self, filename: "os.PathLike[str] | str", separator: str = ",",
                 append: bool = False) -> None:
        super().__init__()
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = bool(append)
        self._file: Optional[IO[str]] = None
        self._writer: Any = None
        self._keys: Sequence[str] = ()

    def on_train_begin(self, logs: Optional[Logs] = None) -> None:
        exists = self.append and os.path.isfile(self.filename) and os.path.getsize(self.filename)
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._writer = None
        self._header = not exists

    def on_epoch_end(self, epoch: int, logs: Optional[Logs] = None) -> None:
        logs = logs or {}
        if self._file is None:
            self.on_train_begin()
        if self._writer is None:
            self._keys = sorted(logs)
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self._keys],
                                          delimiter=self.separator, extrasaction="ignore")
            if self._header:
                self._writer.writeheader()
        row = {"epoch": epoch, **{k: ("" if logs.get(k) is None else logs[k]) for k in self._keys}}
        self._writer.writerow(row)
        assert self._file is not None
        self._file.flush()

    def on_train_end(self, logs: Optional[Logs] = None) -> None:
        if self._file is not None:
            self._file.close()
        self._file = None
        self._writer = None


def epoch_logs(progress: Dict[str, Any]) -> Logs:
    """Keras's logs of an epoch from a progress dict (``val_loss`` only with validation data;
    ``reconstruction_loss`` and ``kl_divergence`` only for a VAE)."""
    logs: Logs = {"loss": progress["train_loss"]}
    if progress.get("validation_loss") is not None:
        logs["val_loss"] = progress["validation_loss"]
    logs["learning_rate"] = progress["learning_rate"]
    logs["elapsed_seconds"] = progress["elapsed_seconds"]
    if progress.get("kl_divergence") is not None:
        logs["reconstruction_loss"] = progress["reconstruction_loss"]
        logs["kl_divergence"] = progress["kl_divergence"]
    return logs


class CallbackRunner:
    """Runs a list of callbacks around one ``fit``: its :meth:`progress` is the progress
    function given to the training run. Records the first error (with its callback and hook)
    so that ``fit`` can restore the model and raise :class:`CallbackError`."""

    def __init__(self, callbacks: Sequence[Any], model: Any, params: Dict[str, Any]) -> None:
        if isinstance(callbacks, Callback) or not isinstance(callbacks, (list, tuple)):
            raise TypeError(f"callbacks is {type(callbacks).__name__}; expected a list of "
                            "callbacks (objects with on_epoch_end and the like)")
        for callback in callbacks:
            if not any(callable(getattr(callback, hook, None)) for hook in _HOOKS):
                raise TypeError(f"callbacks holds {callback!r}, which has none of the methods "
                                f"{', '.join(_HOOKS)}")
        self.callbacks = list(callbacks)
        self.model = model
        self.error: Optional[CallbackError] = None
        self.last_logs: Logs = {}
        for callback in self.callbacks:
            if callable(getattr(callback, "set_model", None)):
                callback.set_model(model)
            if callable(getattr(callback, "set_params", None)):
                callback.set_params(dict(params))

    def call(self, hook: str, *args: Any, epoch: Optional[int] = None) -> bool:
        """Calls ``hook`` on every callback having it; False (and the error recorded) when one
        raised an Exception (KeyboardInterrupt and the like propagate as they are)."""
        for callback in self.callbacks:
            method = getattr(callback, hook, None)
            if not callable(method):
                continue
            try:
                method(*args)
            except Exception as error:
                where = f" at epoch {epoch}" if epoch is not None else ""
                self.error = CallbackError(
                    f"callback {type(callback).__name__}.{hook} raised {type(error).__name__}"
                    f"{where}: {error}; training stopped, and the model is as it was before fit")
                self.error.__cause__ = error
                return False
        return True

    def progress(self, progress: Dict[str, Any]) -> bool:
        """The progress function: at an epoch's end, on_epoch_end then (unless stopping)
        on_epoch_begin of the next. False stops training."""
        epoch = int(progress["epoch"])
        logs = epoch_logs(progress)
        self.last_logs = logs
        if not self.call("on_epoch_end", epoch, logs, epoch=epoch):
            return False
        if self.model.stop_training:
            return False
        if epoch + 1 < int(progress["epochs"]):
            return self.call("on_epoch_begin", epoch + 1, {}, epoch=epoch + 1)
        return True
