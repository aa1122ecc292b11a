"""One training run of ``ae_model_train`` (``ae_model_train_labels`` for segmentation): the
options struct, the progress callback bridge (history, progress display, the user's callback),
and the report."""

from __future__ import annotations

import contextlib
import math
import signal
import threading
from ctypes import byref, sizeof
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional

import numpy as np

from . import _library
from ._errors import check
from ._params import SIZE_MAX, integer
from ._native import NativeModel
from ._native_sequences import require
from ._progress import ProgressPrinter, progress_dict
from ._sample_source import SampleSource

#: ``callback(progress) -> bool | None``: return False to stop training. ``progress`` is a dict
#: with epoch, epochs, batch, batches, train_loss, validation_loss (None without validation
#: data), learning_rate, elapsed_seconds, is_epoch_end, epochs_completed, reconstruction_loss (the
#: reconstruction term of train_loss) and kl_divergence (a VAE's unweighted KL per sample, None
#: for other models), discriminator_loss and generator_loss (an adversarial autoencoder's
#: regularization phases, None for other models).
ProgressCallback = Callable[[Dict[str, Any]], Optional[bool]]

_STOP_REASONS = {_library.AE_STOP_COMPLETED: "completed",
                 _library.AE_STOP_EARLY_STOPPING: "early_stopping",
                 _library.AE_STOP_CALLBACK: "callback"}
_HISTORY_KEYS = ("train_loss", "validation_loss", "learning_rate", "elapsed_seconds",
                 "reconstruction_loss", "kl_divergence", "discriminator_loss", "generator_loss")


#: The most epochs one call trains (the library's limit).
EPOCHS_MAX = 1_000_000


def count(value: Any, name: str, minimum: int, maximum: int = SIZE_MAX) -> int:
    """An integer option in ``[minimum, maximum]`` (a size_t in C by default: neither a negative
    value nor one above 2**64 - 1 may wrap around); see :func:`._params.integer`."""
    return integer(value, name, minimum, maximum)


@dataclass(frozen=True)
class TrainReport:
    """What one :meth:`Autoencoder.fit` call did (``ae_train_report``).

    Attributes:
        epochs_run: epochs run by this call.
        stop_reason: ``"completed"``, ``"early_stopping"`` or ``"callback"``.
        final_train_loss: mean objective of the last epoch.
        final_validation_loss: validation loss of the last epoch, None without validation data.
        best_epoch: 0-based epoch (of this call) with the best monitored loss.
        best_loss: that loss.
        seconds: wall time of the call.
    """

    epochs_run: int
    stop_reason: str
    final_train_loss: float
    final_validation_loss: Optional[float]
    best_epoch: int
    best_loss: float
    seconds: float

    @classmethod
    def from_struct(cls, report: "_library.ae_train_report") -> "TrainReport":
        validation = report.final_validation_loss
        return cls(epochs_run=int(report.epochs_run),
                   stop_reason=_STOP_REASONS.get(report.stop_reason, str(report.stop_reason)),
                   final_train_loss=float(report.final_train_loss),
                   final_validation_loss=None if math.isnan(validation) else float(validation),
                   best_epoch=int(report.best_epoch), best_loss=float(report.best_loss),
                   seconds=float(report.seconds))


@dataclass(frozen=True)
class FitSettings:
    """The validated training settings of one fit call."""

    epochs: int
    batch_size: int
    shuffle: bool
    validation_split: float
    patience: int
    min_delta: float
    restore_best_weights: bool
    verbose: int

    @classmethod
    def resolve(cls, defaults: Dict[str, Any], overrides: Dict[str, Any]) -> "FitSettings":
        """The estimator's values (``defaults``) with the non-None ``overrides``, checked."""
        value = {name: overrides[name] if overrides.get(name) is not None else defaults[name]
                 for name in cls.__dataclass_fields__}
        split = float(value["validation_split"])
        if not 0.0 <= split < 1.0:
            raise ValueError(f"validation_split is {split}; expected a fraction in [0, 1)")
        delta = float(value["min_delta"])
        if not (delta >= 0.0 and math.isfinite(delta)):
            raise ValueError(f"min_delta is {delta}; expected a finite number >= 0")
        return cls(epochs=count(value["epochs"], "epochs", 1, EPOCHS_MAX),
                   batch_size=count(value["batch_size"], "batch_size", 1),
                   shuffle=bool(value["shuffle"]), validation_split=split,
                   patience=count(value["patience"], "patience", 0), min_delta=delta,
                   restore_best_weights=bool(value["restore_best_weights"]),
                   verbose=int(value["verbose"]))


@dataclass
class TrainingOutcome:
    """What a run left: the per-epoch history, the report (None on failure), the library's
    status, and the first exception raised in a callback (which stopped the run)."""

    history: Dict[str, List[Any]]
    report: Optional[TrainReport]
    status: int
    error: Optional[BaseException]

    def raise_for_failure(self) -> None:
        if self.error is not None:
            raise self.error
        check(self.status)


@contextlib.contextmanager
def signals_caught_into(errors: List[BaseException]) -> Iterator[None]:
    """Runs the SIGINT handler (Ctrl-C) as usual, but records what it raises in ``errors``.

    Python runs signal handlers when Python code next runs: during training, at the start of a
    progress callback, where an exception would escape the callback's own ``try`` and be
    swallowed by ctypes. Recorded here instead, it stops training and is raised by the caller.
    Only in the main thread and over a Python-level handler (not SIG_IGN or SIG_DFL)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous):
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        try:
            previous(signum, frame)
        except BaseException as error:
            errors.append(error)
    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def train(native: NativeModel, data: Any, settings: FitSettings, *,
          validation: Optional[np.ndarray] = None, mask: Optional[np.ndarray] = None,
          labels: Optional[np.ndarray] = None, lengths: Optional[np.ndarray] = None,
          validation_lengths: Optional[np.ndarray] = None, tokens: bool = False,
          callback: Optional[ProgressCallback] = None,
          report_batches: bool = False) -> TrainingOutcome:
    """Runs ``ae_model_train`` on validated float32 matrices (``ae_model_train_labels`` when
    ``labels``, an int32 ``(n, label_size)`` matrix, are given; ``ae_model_train_tokens`` when
    ``tokens``, ``data`` then being int32 ``(n, T)`` ids; ``ae_model_train_source`` when ``data``
    is a :class:`SampleSource`, whose exceptions are returned as the callback's). ``lengths`` and
    ``validation_lengths`` (int32, one per sample) are the sequences' valid steps. Never raises
    for the library's errors or the callback's exceptions: they are returned in the outcome, so
    the caller can tidy up first."""
    if callback is not None and not callable(callback):
        raise TypeError(f"callback is {callback!r}; expected a callable")
    options = _library.ae_train_options()
    check(_library.lib.ae_train_options_init(byref(options), sizeof(options)))
    options.epochs = settings.epochs
    options.batch_size = settings.batch_size
    options.shuffle = int(settings.shuffle)
    options.validation_split = settings.validation_split
    if validation is not None:
        options.validation_data = validation.ctypes.data_as(_library.FloatPointer)
        options.validation_samples = validation.shape[0]
        options.validation_count = validation.size
    options.patience = settings.patience
    options.min_delta = settings.min_delta
    options.restore_best_weights = int(settings.restore_best_weights)
    if mask is not None:
        options.mask = mask.ctypes.data_as(_library.FloatPointer)
        options.mask_count = mask.size
    if (lengths is not None or validation_lengths is not None) and not tokens:
        # An older library would read a smaller struct and ignore the lengths: refuse instead.
        require("ae_model_encode_sequences")
        if lengths is not None:
            options.lengths = lengths.ctypes.data_as(_library.Int32Pointer)
            options.lengths_count = lengths.size
        if validation_lengths is not None:
            options.validation_lengths = validation_lengths.ctypes.data_as(_library.Int32Pointer)
            options.validation_lengths_count = validation_lengths.size

    printer = ProgressPrinter.for_verbosity(settings.verbose)
    per_batch = callback is not None and bool(report_batches)
    wants_batches = printer.wants_batches or per_batch
    # Batch reports are always asked for, even when nobody shows them: Python handles signals
    # only when Python code runs, so this makes Ctrl-C stop training within one batch rather
    # than at the end of a long epoch. Unwanted ones return at once (under a microsecond).
    options.report_batches = 1
    epochs_before = native.epochs_completed
    history: Dict[str, List[Any]] = {"epoch": [], **{key: [] for key in _HISTORY_KEYS}}
    errors: List[BaseException] = []

    stop_requested: List[bool] = []

    def on_progress(pointer: Any, _user_data: Any) -> int:
        try:
            stopping = bool(errors or stop_requested)  # errors: e.g. Ctrl-C, see above
            record = pointer.contents
            if not (record.is_epoch_end or wants_batches):
                return int(stopping)
            progress = progress_dict(record, epochs_before)
            if progress["is_epoch_end"]:
                history["epoch"].append(progress["epochs_completed"])
                for key in _HISTORY_KEYS:
                    history[key].append(progress[key])
            printer.update(progress)
            if stopping:  # the library may report once more after a stop: no second callback
                return 1
            if callback is not None and (progress["is_epoch_end"] or per_batch):
                answer = callback(progress)
                if answer is not None and not answer:
                    stop_requested.append(True)
                    return 1
            return 0
        except BaseException as error:  # raised by the callback: stop, re-raise after the call
            errors.append(error)
            return 1

    c_callback = _library.ae_progress_fn(on_progress)  # referenced until the call returns
    options.progress = c_callback
    report = _library.ae_train_report()
    report.struct_size = sizeof(report)
    try:
        with signals_caught_into(errors):
            if tokens:
                status = native.train_tokens(data, lengths, options, report)
            elif isinstance(data, SampleSource):
                source = data.c_function(errors)  # referenced until the call returns
                status = native.train_source(data.n_samples, source, options, report)
            else:
                status = native.train(data, options, report, labels)
    finally:
        printer.finish()
    return TrainingOutcome(history=history,
                           report=TrainReport.from_struct(report) if status == 0 else None,
                           status=status, error=errors[0] if errors else None)
