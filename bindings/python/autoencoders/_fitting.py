"""Training a :class:`Model`: ``fit`` (Keras's habits: validation data, callbacks, history),
``partial_fit`` (scikit-learn's streaming), and what they keep so that a failed call leaves the
estimator as it was. One run of the library's training is :func:`_fit.train`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Union

import numpy as np

from ._errors import NumericError
from ._fit import FitSettings, ProgressCallback
from ._native import NativeModel
from ._sample_source import SampleSource
from ._sequences import SequenceBatch, sequence_scaling
from ._training_data import TrainingData
from ._weights import SCALING_KINDS
from .callbacks import CallbackRunner

__all__ = ["FittingMixin", "TRAINING"]

#: Training settings: defaults of fit, which can override each.
TRAINING = ("epochs", "batch_size", "shuffle", "validation_split", "patience", "min_delta",
            "restore_best_weights", "verbose")


class FittingMixin:
    """``fit``, ``partial_fit`` and ``fit_transform`` of :class:`Model`."""

    _native: Optional[NativeModel]
    _closed: bool
    warm_start: bool
    input_scaling: Optional[str]

    if TYPE_CHECKING:
        def _model(self) -> NativeModel: ...

        def _build_for_fit(self, X: Any) -> NativeModel: ...

        def _check_features(self, X: Any, *, reset: bool) -> None: ...

        def _check_n_features(self, X: Any) -> None: ...

        def transform(self, X: Any, *, lengths: Any = None) -> Any: ...

        @property
        def stop_training(self) -> bool: ...

    def fit(self, X: Any, y: Any = None, *, lengths: Any = None, validation_data: Any = None,
            validation_lengths: Any = None, mask: Any = None,
            callbacks: Optional[Sequence[Any]] = None,
            callback: Optional[ProgressCallback] = None, report_batches: bool = False,
            epochs: Optional[int] = None, batch_size: Optional[int] = None,
            shuffle: Optional[bool] = None, validation_split: Optional[float] = None,
            patience: Optional[int] = None, min_delta: Optional[float] = None,
            restore_best_weights: Optional[bool] = None,
            verbose: Optional[Union[int, str]] = None) -> Any:
        """Trains the model on samples ``X`` (``(n, input_size)`` or ``(n, *input_shape)``) and
        returns self. ``y`` is ignored by models that reconstruct their input (so Keras's
        ``fit(X, X)`` works); a segmentation model requires it: integer class labels
        ``(n, *label_shape)`` (e.g. ``(n, H, W)``) or ``(n, label_size)``, each a class in
        ``0..n_classes-1`` or the spec's ``ignore_index`` (a position that does not count).

        The first call builds the native model. Later calls start from a newly built model
        (``warm_start=False``, the default) or continue training (``warm_start=True``); see
        the class's documentation. ``sklearn.base.clone`` gives an unfitted copy.

        Sequence models (``"input_shape": [T, F]`` and a recurrent layer) take ``X`` as
        ``(n, T, F)`` with optional ``lengths`` (n ints in 1..T: the valid steps of each sample;
        steps past them are padding and do not count), or as a list of ``(t_i, F)`` arrays
        (padded here, the lengths taken from the list). Text models take a list of strings (with
        a :attr:`vocabulary`), a list of id sequences, or int ids ``(n, T)`` with ``lengths``.

        Args:
            lengths: sequence models: the valid steps of each sample of an ``(n, T, F)`` array.
            validation_data: validation samples (an array, or a Keras-style ``(X_val, y_val)``
                tuple, required for segmentation models); overrides ``validation_split``.
                Sequence and text models take ``X_val`` (or ``(X_val, X_val)``), in any form
                ``X`` may take (with ``validation_lengths`` for an array).
            validation_lengths: the valid steps of each sample of an array ``validation_data``.
                Early stopping monitors the validation loss when there is one, else the
                training loss. (For segmentation the C API's validation data has no labels,
                so the validation samples are appended to a copy of the training data and held
                out with the matching ``validation_split``.)
            mask: for data with missing values (inpainting): an array of X's shape, 1 where an
                input is known and 0 where it is missing. Reconstruction models only.
            callbacks: Keras-style callbacks (see :mod:`autoencoders.callbacks`: objects with
                ``on_epoch_end(epoch, logs)`` and the like; ``EarlyStopping``,
                ``ModelCheckpoint``, ``CSVLogger``). One that raises stops training: ``fit``
                raises :class:`~autoencoders.callbacks.CallbackError` and the model is as it
                was before the call.
            callback: the older progress function, called with a progress dict after every
                epoch (and after every batch with ``report_batches=True``); returning False
                stops training, keeping the weights it has then. Exceptions it raises stop
                training and propagate (the model keeps what it trained).
            epochs, batch_size, shuffle, validation_split, patience, min_delta,
            restore_best_weights, verbose: override the estimator's values for this call.

        After the call, ``history_`` holds per-epoch lists, Keras's ``loss`` (and ``val_loss``
        with validation data) among them, and also ``epoch``, ``train_loss``,
        ``validation_loss``, ``learning_rate``, ``elapsed_seconds``, ``reconstruction_loss``
        and ``kl_divergence``; ``report_`` is the :class:`TrainReport`. For a VAE the loss is
        the negative ELBO per sample and ``kl_divergence`` the unweighted KL(q(z|x) || N(0, I))
        per sample (None for other models, as ``validation_loss`` is without validation data).

        Raises:
            NumericError: the loss became NaN or infinite (the weights of the last completed
                epoch are restored), or X holds NaN or infinite values.
            ShapeError: X, y or the validation data do not match the model's shapes.
            InvalidArgumentError: a label is neither a class nor the ignore index (the message
                gives its position, e.g. ``labels[3, 2, 5] = 7 is not a class in 0..<2``).
            CallbackError: a callback raised.
        """
        overrides = {"epochs": epochs, "batch_size": batch_size, "shuffle": shuffle,
                     "validation_split": validation_split, "patience": patience,
                     "min_delta": min_delta, "restore_best_weights": restore_best_weights,
                     "verbose": verbose}
        return self._fit(X, y, restart=not self.warm_start, overrides=overrides,
                         lengths=lengths, validation_data=validation_data,
                         validation_lengths=validation_lengths, mask=mask, callbacks=callbacks,
                         callback=callback, report_batches=report_batches)

    def partial_fit(self, X: Any, y: Any = None, *, lengths: Any = None, mask: Any = None,
                    callbacks: Optional[Sequence[Any]] = None,
                    verbose: Optional[Union[int, str]] = 0) -> Any:
        """One pass (epoch) over ``X``, continuing from the model there is, whatever
        ``warm_start`` says: scikit-learn's streaming API. On an unfitted estimator the first
        call builds the model from ``X``. ``batch_size`` and ``shuffle`` are the estimator's;
        no validation, no early stopping, silent unless ``verbose`` says otherwise. Returns
        self (``history_`` and ``report_`` describe this pass)."""
        overrides = {"epochs": 1, "validation_split": 0.0, "patience": 0, "verbose": verbose}
        return self._fit(X, y, restart=False, overrides=overrides, lengths=lengths, mask=mask,
                         callbacks=callbacks, refit_threshold=False, partial=True)

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """``fit(X, y, **fit_params)`` then ``transform(X)`` (with fit's ``lengths``)."""
        return self.fit(X, y, **fit_params).transform(X, lengths=fit_params.get("lengths"))

    def _settings(self, overrides: Dict[str, Any]) -> FitSettings:
        values = {name: getattr(self, name) for name in TRAINING}
        verbose = overrides.get("verbose")
        verbose = values["verbose"] if verbose is None else verbose
        if verbose == "auto":
            verbose = 0 if self.__dict__.get("_cloned") else 1
        if isinstance(verbose, bool) or not isinstance(verbose, (int, np.integer)):
            raise ValueError(f"verbose is {verbose!r}; expected 0, 1, 2 or 'auto'")
        overrides = {**overrides, "verbose": int(verbose)}
        return FitSettings.resolve(values, overrides)

    def _prepare_input_scaling(self, native: NativeModel, arrays: TrainingData) -> None:
        """Fits the ``input_scaling`` hyperparameter on the data of the first training."""
        if self.input_scaling is None or native.epochs_completed != 0 \
                or native.has_input_scaling():
            return
        if self.input_scaling not in SCALING_KINDS:
            raise ValueError(f"input_scaling is {self.input_scaling!r}; expected "
                             "'standardize', 'minmax' or None")
        if isinstance(arrays.data, SampleSource):
            raise ValueError(f"input_scaling={self.input_scaling!r} is fitted on the training data, "
                             "which needs X as an array: call fit_input_scaling on a sample of the "
                             "source first (or set the scaling in the spec)")
        if native.is_tokens:
            raise ValueError("input_scaling does not apply to a text model (its inputs "
                             "are token ids); leave it None")
        if native.is_sequence:  # per feature, over the valid steps (see _sequences)
            batch = SequenceBatch(arrays.data, arrays.lengths)
            native.set_input_scaling(*sequence_scaling(
                self.input_scaling, batch, native.steps, native.features))
        else:
            native.fit_input_scaling(SCALING_KINDS[self.input_scaling], arrays.data)

    def _after_fit(self, X: Any, lengths: Any) -> None:
        """Hook run after a successful ``fit`` (the anomaly threshold of ``contamination``)."""

    def _fit(self, X: Any, y: Any, *, restart: bool, overrides: Dict[str, Any],
             lengths: Any = None, validation_data: Any = None, validation_lengths: Any = None,
             mask: Any = None, callbacks: Optional[Sequence[Any]] = None,
             callback: Optional[ProgressCallback] = None, report_batches: bool = False,
             refit_threshold: bool = True, partial: bool = False) -> Any:
        if self._closed:
            raise ValueError("model is closed")
        settings = self._settings(overrides)
        if callback is not None and not callable(callback):
            raise TypeError(f"callback is {callback!r}; expected a callable")
        runner = None
        if callbacks is not None:
            runner = CallbackRunner(callbacks, self, {"epochs": settings.epochs,
                                                      "batch_size": settings.batch_size,
                                                      "verbose": settings.verbose})

        # What fit may have to put back: the model it had and what the last fit recorded.
        kept = {name: self.__dict__[name] for name in ("history_", "report_", "feature_names_in_")
                if name in self.__dict__}
        previous: Optional[NativeModel] = None
        if restart and self._native is not None and self._native.epochs_completed > 0:
            previous, self._native = self._native, None
        fresh = self._native is None
        snapshot = None

        def roll_back() -> None:
            """The estimator as it was before this call."""
            native_now, self._native = self._native, None
            if native_now is not None and native_now is not previous:
                native_now.close()
            if previous is not None:
                self._native = previous
            elif snapshot is not None:
                self._native = NativeModel.from_bytes(snapshot)
            for name in ("history_", "report_", "feature_names_in_"):
                self.__dict__.pop(name, None)
            self.__dict__.update(kept)

        # A sample source's first sample stands for X where a model is built or features checked.
        source = X if isinstance(X, SampleSource) else None
        if source is not None and getattr(self, "contamination", None) is not None:
            raise ValueError("contamination sets the anomaly threshold from the training data's "
                             "scores, which needs X as an array: fit on the source with "
                             "contamination=None, then call fit_threshold on a sample of it")
        shaped = source.example() if source is not None else X
        try:
            native = self._build_for_fit(shaped) if fresh else self._model()
            if not fresh:  # scikit-learn's messages first (partial_fit keeps the names)
                self._check_features(shaped, reset=False) if partial else self._check_n_features(shaped)
            if runner is not None and not fresh:
                snapshot = native.to_bytes(True)
            arrays = TrainingData.prepare(native, X, y, validation_data, mask, lengths,
                                          validation_lengths, getattr(self, "vocabulary", None))
            if source is None and not arrays.tokens and not np.isfinite(arrays.data).all():
                index = int(np.flatnonzero(~np.isfinite(arrays.data))[0])
                raise NumericError(f"X holds NaN or inf (element {index} of sample "
                                   f"{index // arrays.data.shape[1]}); data must be finite")
            if fresh or not partial:
                self._check_features(shaped, reset=True)
            self._prepare_input_scaling(native, arrays)
            progress = callback
            if runner is not None:
                self._stop_training = False
                if not (runner.call("on_train_begin", {})
                        and runner.call("on_epoch_begin", 0, {}, epoch=0)):
                    raise runner.error  # type: ignore[misc]
                progress = _combined(callback, runner)
            outcome = arrays.train(native, settings, callback=progress,
                                   report_batches=report_batches)
            if runner is not None and runner.error is None and outcome.error is None \
                    and outcome.report is not None:
                runner.call("on_train_end", runner.last_logs)
            if runner is not None and runner.error is not None:
                raise runner.error
        except BaseException:
            if fresh or snapshot is not None:
                roll_back()
            raise
        finally:
            self.__dict__.pop("_stop_training", None)
        failed = outcome.error is not None or outcome.report is None
        if failed and fresh and native.epochs_completed == 0:
            roll_back()  # a first fit that trained nothing leaves the estimator as it was
            outcome.raise_for_failure()
        if previous is not None:
            previous.close()
        self.history_ = _keras_history(outcome.history)
        outcome.raise_for_failure()
        self.report_ = outcome.report
        if refit_threshold:
            self._after_fit(X, lengths)
        return self


def _combined(callback: Optional[ProgressCallback], runner: CallbackRunner) -> ProgressCallback:
    """One progress function: the older ``callback`` first, then the Keras callbacks at each
    epoch's end."""
    def progress(values: Dict[str, Any]) -> Optional[bool]:
        if callback is not None:
            answer = callback(values)
            if answer is not None and not answer:
                return False
        if values["is_epoch_end"]:
            return runner.progress(values)
        return True
    return progress


def _keras_history(history: Dict[str, List[Any]]) -> Dict[str, List[Any]]:
    """The run's per-epoch history with Keras's names first: ``loss``, and ``val_loss`` when
    there was validation data."""
    keras: Dict[str, List[Any]] = {"loss": list(history["train_loss"])}
    if any(value is not None for value in history["validation_loss"]):
        keras["val_loss"] = list(history["validation_loss"])
    keras.update(history)
    for key in ("discriminator_loss", "generator_loss"):  # adversarial autoencoders only
        if key in keras and all(value is None for value in keras[key]):
            del keras[key]
    return keras
