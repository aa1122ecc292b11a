"""The shared base of the estimator family: :class:`Model` holds hyperparameters, builds the
native model lazily in ``fit`` (or at once in the builders), trains it, saves it and speaks
scikit-learn's and Keras's conventions.

The classes users pick (``_autoencoder.py``, ``_segmentation_network.py``) say what a model
does: :class:`Autoencoder` reconstructs its input (dense, convolutional, sequence and text
models), :class:`VariationalAutoencoder` adds sampling, :class:`SegmentationNetwork` labels
every position. ``Model.load``/``from_spec``/``from_bytes`` return the class the spec calls for.
A method that applies to every kind (an exporter, say) belongs here, on :class:`Model`.
"""

from __future__ import annotations

import types
import warnings
from typing import Any, Callable, ClassVar, Dict, List, Optional, Sequence, Tuple, Type, Union

import numpy as np

from ._builders import BuildersMixin
from ._errors import NotFittedError, NumericError, SpecError
from ._fit import FitSettings, ProgressCallback, TrainReport
from ._inference import EncodingMixin
from ._native import NativeModel
from ._params import ParamsMixin, equal
from ._saving import SavingMixin
from ._sequences import SequenceBatch, sequence_scaling
from ._sklearn import SklearnMixin
from ._spec import SpecLike, as_dict, to_json
from ._training_data import TrainingData
from ._weights import SCALING_KINDS, WeightsMixin
from .callbacks import CallbackRunner

__all__ = ["Model", "Autoencoder", "VariationalAutoencoder", "SegmentationNetwork",
           "TrainReport", "ProgressCallback", "register_kind", "kind_of"]

#: Training settings: defaults of fit, which can override each.
TRAINING = ("epochs", "batch_size", "shuffle", "validation_split", "patience", "min_delta",
            "restore_best_weights", "verbose")

#: The class of each kind of model ("reconstruction", "variational", "segmentation"), filled in
#: by the modules that define them (see :func:`register_kind`).
_FAMILY: Dict[str, Type["Model"]] = {}


def register_kind(kind: str) -> Callable[[Type["Model"]], Type["Model"]]:
    """Class decorator: the class that ``Model.load`` and ``from_spec`` return for ``kind``."""
    def register(cls: Type["Model"]) -> Type["Model"]:
        cls._KIND = kind
        _FAMILY[kind] = cls
        return cls
    return register


def kind_of(native: NativeModel) -> str:
    """What a native model does: "segmentation", "variational" or "reconstruction"."""
    if native.is_segmentation:
        return "segmentation"
    return "variational" if native.is_variational else "reconstruction"


class Model(ParamsMixin, BuildersMixin, WeightsMixin, SklearnMixin, SavingMixin, EncodingMixin):
    """The base of :class:`Autoencoder`, :class:`VariationalAutoencoder` and
    :class:`SegmentationNetwork`: a scikit-learn estimator (and Keras-like model) over a native
    libautoencoders model. Use one of those; ``Model.load(path)`` returns the right one.

    Hyperparameters shared by every model:
        spec: a complete spec (dict or JSON text, docs/SPEC.md).
        input_scaling: "standardize" or "minmax" to fit the model's input scaling on the
            training data of the first ``fit`` (None: raw data).

    Training (defaults of :meth:`fit`, which can override each):
        epochs, batch_size, shuffle: passes over the data, samples per step, reshuffling.
        validation_split: fraction of the samples (the last ones) held out for validation.
        patience: early stopping after this many epochs without improvement (0: off); see
            also the :class:`~autoencoders.callbacks.EarlyStopping` callback.
        min_delta: least decrease of the monitored loss that counts as an improvement.
        restore_best_weights: with early stopping, end on the best epoch's weights.
        verbose: 0 silent; 1 progress (a ``tqdm.auto`` bar when tqdm is installed and the
            output is a terminal or a notebook, the built-in bar on a terminal, else one line
            per epoch); 2 one line per epoch. ``"auto"`` (the default) is 1, except in a copy
            made by ``sklearn.base.clone`` (what GridSearchCV, cross_validate and other
            meta-estimators fit), where it is 0. Progress goes to stderr.
        warm_start: False (the default, as in scikit-learn): ``fit`` on a model that has
            trained starts from a newly built model (fitting twice equals fitting once). A model
            that has not trained yet (from ``from_spec``, or with weights set) is trained as it
            is. True: each ``fit`` continues training the model it has (weights, optimizer
            state, epoch count), as ``ae_model_train`` and Keras do. :meth:`load` and
            :meth:`from_bytes` default to True, so that a loaded model trains on.
            :meth:`partial_fit` always continues.
    """

    _MODEL_PARAMS: ClassVar[Tuple[str, ...]] = ("spec", "input_scaling")
    #: The kind this class stands for (see :func:`register_kind`); None for the base.
    _KIND: ClassVar[Optional[str]] = None
    #: Methods that do not apply to this class, kept for one release: name -> (the function
    #: or property, advice). Reached through ``__getattr__`` with a DeprecationWarning.
    _DEPRECATED: ClassVar[Dict[str, Tuple[Any, str]]] = {}

    def __init__(self, *, spec: Optional[SpecLike] = None, input_scaling: Optional[str] = None,
                 epochs: int = 10, batch_size: int = 32, shuffle: bool = True,
                 validation_split: float = 0.0, patience: int = 0, min_delta: float = 0.0,
                 restore_best_weights: bool = True, verbose: Union[int, str] = "auto",
                 warm_start: bool = False) -> None:
        # scikit-learn's rule: store the arguments unchanged; validate in fit.
        self._native: Optional[NativeModel] = None
        self._closed = False
        self._spec = spec
        self.input_scaling = input_scaling
        self.epochs = epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.validation_split = validation_split
        self.patience = patience
        self.min_delta = min_delta
        self.restore_best_weights = restore_best_weights
        self.verbose = verbose
        self.warm_start = warm_start

    # ==== Deprecated names (one release) =========================================================

    def __getattr__(self, name: str) -> Any:
        # Only called for names not found the normal way: the deprecated ones, else an error.
        if hasattr(type(self), name):  # a property that raised AttributeError: raise it again
            return object.__getattribute__(self, name)
        entry = type(self)._DEPRECATED.get(name) if not name.startswith("__") else None
        if entry is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        member, advice = entry
        warnings.warn(f"{type(self).__name__}.{name} does not apply to this class and will be "
                      f"removed in the next release: {advice}", DeprecationWarning, stacklevel=2)
        if isinstance(member, property):
            return member.fget(self)  # type: ignore[misc]
        return types.MethodType(member, self)

    # ==== Building the native model ==============================================================

    def _spec_dict(self, input_size: Optional[int]) -> Dict[str, Any]:
        """The spec the hyperparameters describe (``input_size``: the features of the data, for
        classes that build a spec from hyperparameters)."""
        if self._spec is None:
            raise NotFittedError(f"{type(self).__name__} needs spec= (a dict or JSON text, "
                                 "docs/SPEC.md), or a builder: from_spec, load")
        return as_dict(self._spec)

    @classmethod
    def _kind_problem(cls, native: NativeModel) -> Optional[str]:
        """Why ``native`` cannot be a model of this class (None: it can)."""
        if cls._KIND is None or cls._KIND == kind_of(native):
            return None
        return (f"{cls.__name__} cannot hold a {kind_of(native)} model (see docs/SPEC.md); use "
                f"{_FAMILY[kind_of(native)].__name__}, or autoencoders.Model.from_spec, which "
                "picks the class")

    def _build(self, input_size: Optional[int]) -> NativeModel:
        if self._closed:
            raise ValueError("model is closed")
        native = NativeModel.create(to_json(self._spec_dict(input_size)))
        problem = self._kind_problem(native)
        if problem is not None:
            native.close()
            raise SpecError(problem)
        self._native = native
        return native

    def _build_for_fit(self, X: Any) -> NativeModel:
        """The native model a first ``fit`` on ``X`` trains (subclasses take sizes from X)."""
        return self._build(None)

    # ==== State ==================================================================================

    def _model(self) -> NativeModel:
        """The native model; ValueError if closed, NotFittedError if not built yet."""
        if self._closed:
            raise ValueError("model is closed")
        if self._native is None:
            raise NotFittedError(f"this {type(self).__name__} has no model yet: call fit(X) first, "
                                 f"or build one with {type(self).__name__}.from_spec or load")
        return self._native

    def _discard(self) -> None:
        """Frees the native model and forgets it (the estimator becomes unfitted)."""
        native, self._native = self._native, None
        if native is not None:
            native.close()
        for fitted in ("history_", "report_", "feature_names_in_"):
            self.__dict__.pop(fitted, None)

    def close(self) -> None:
        """Frees the native model now (it is otherwise freed when garbage-collected). Any later
        call raises ``ValueError("model is closed")``. Idempotent."""
        self._closed = True
        if self._native is not None:
            self._native.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def is_built(self) -> bool:
        """True when the native model exists (after fit or a builder) and is not closed."""
        return self._native is not None and not self._closed

    def __sklearn_is_fitted__(self) -> bool:
        return self.is_built

    @property
    def stop_training(self) -> bool:
        """Keras's flag: a callback sets ``model.stop_training = True`` to stop training after
        the current epoch. ``fit`` clears it when it starts."""
        return bool(self.__dict__.get("_stop_training", False))

    @stop_training.setter
    def stop_training(self, value: bool) -> None:
        self._stop_training = bool(value)

    # ==== Properties of the model ================================================================

    @property
    def input_size(self) -> int:
        """Elements per sample of the input (and of the reconstruction)."""
        return self._model().input_size

    @property
    def n_features_in_(self) -> int:
        """scikit-learn's name of :attr:`input_size` (absent until the model exists)."""
        return self._model().input_size

    @property
    def code_size(self) -> Optional[int]:
        """Elements per sample of the code."""
        return self._model().code_size

    @property
    def input_shape(self) -> Tuple[int, ...]:
        """The per-sample input shape, e.g. ``(784,)`` (``(C, H, W)`` for images, ``(C, L)`` for
        signals). Samples may come as ``(n, *input_shape)`` or ``(n, input_size)`` (and as
        ``(n, H, W)`` when C is 1); reconstructions come back as ``(n, *input_shape)``."""
        return self._model().input_shape

    @property
    def spec(self) -> Dict[str, Any]:
        """The model's spec as a dict (a copy): the native model's once built; before that, the
        ``spec`` hyperparameter. Setting it is ``set_params(spec=...)``."""
        if self._native is not None and not self._closed:
            return self._native.spec
        if self._spec is not None:
            return as_dict(self._spec)
        raise NotFittedError(f"this {type(self).__name__} has no spec yet: it is built from its "
                             "hyperparameters by fit(X), which knows the input size")

    @spec.setter
    def spec(self, value: Optional[SpecLike]) -> None:
        self.set_params(spec=value)

    @property
    def is_sequence(self) -> bool:
        """True for a sequence model (input ``[T, F]`` and a recurrent layer) or a text model:
        its methods take ``lengths=`` and lists of variable-length sequences."""
        native = self._model()
        return native.is_sequence or native.is_tokens

    @property
    def steps(self) -> int:
        """T, the steps of a sequence or text model's input (0 for other models)."""
        return self._model().steps

    @property
    def is_variational(self) -> bool:
        """True for a variational autoencoder (the spec's encoder ends in a ``variational``
        entry; a variational *branch* of a segmentation encoder does not count)."""
        return self._model().is_variational

    @property
    def is_segmentation(self) -> bool:
        """True for a segmentation model (spec ``"loss": "cross_entropy"``): a
        :class:`SegmentationNetwork`, which trains against labels (``fit(X, y)``)."""
        return self._model().is_segmentation

    @property
    def n_parameters(self) -> int:
        """Number of float parameters of the model."""
        return self._model().n_parameters

    @property
    def epochs_completed(self) -> int:
        """Epochs trained so far (carried through save and load)."""
        return self._model().epochs_completed

    # ==== Training ===============================================================================

    def fit(self, X: Any, y: Any = None, *, lengths: Any = None, validation_data: Any = None,
            validation_lengths: Any = None, mask: Any = None,
            callbacks: Optional[Sequence[Any]] = None,
            callback: Optional[ProgressCallback] = None, report_batches: bool = False,
            epochs: Optional[int] = None, batch_size: Optional[int] = None,
            shuffle: Optional[bool] = None, validation_split: Optional[float] = None,
            patience: Optional[int] = None, min_delta: Optional[float] = None,
            restore_best_weights: Optional[bool] = None,
            verbose: Optional[Union[int, str]] = None) -> "Model":
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
                    verbose: Optional[Union[int, str]] = 0) -> "Model":
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
             refit_threshold: bool = True, partial: bool = False) -> "Model":
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

        try:
            native = self._build_for_fit(X) if fresh else self._model()
            if not fresh:  # scikit-learn's messages first (partial_fit keeps the names)
                self._check_features(X, reset=False) if partial else self._check_n_features(X)
            if runner is not None and not fresh:
                snapshot = native.to_bytes(True)
            arrays = TrainingData.prepare(native, X, y, validation_data, mask, lengths,
                                          validation_lengths, getattr(self, "vocabulary", None))
            if not arrays.tokens and not np.isfinite(arrays.data).all():
                index = int(np.flatnonzero(~np.isfinite(arrays.data))[0])
                raise NumericError(f"X holds NaN or inf (element {index} of sample "
                                   f"{index // arrays.data.shape[1]}); data must be finite")
            if fresh or not partial:
                self._check_features(X, reset=True)
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

    # ==== scikit-learn parameters ===============================================================

    def _param(self, name: str) -> Any:
        if name == "spec":
            return self._spec
        return getattr(self, name)

    def _store_param(self, name: str, value: Any) -> None:
        if name == "spec":
            self._spec = value
        else:
            setattr(self, name, value)

    def _model_params_changed(self) -> None:
        if not self._closed:
            self._discard()

    def get_params(self, deep: bool = True) -> Dict[str, Any]:
        """The constructor arguments (hyperparameters) of this estimator, by name."""
        return super().get_params(deep)

    def set_params(self, **params: Any) -> "Model":
        """Sets hyperparameters; returns self. Changing one that shapes the model (architecture,
        optimizer, seed, spec, input_scaling) discards a built model: the next ``fit`` builds a
        new one. Training settings (epochs, batch_size, ...) keep it."""
        super().set_params(**params)
        return self

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"{type(self).__name__}({self._repr_params()}){state}"


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
    return keras


def model_class(cls: Type[Model], native: NativeModel, origin: str) -> Type[Model]:
    """The class that ``cls.load``/``from_spec``/``from_bytes`` (``origin``) returns for
    ``native``: the kind's class when it is ``cls`` or derives from it (``Model.load`` gives any
    kind, ``Autoencoder.load`` a VAE too), ``cls`` itself when it derives from the kind's class.
    ``Autoencoder.load`` of a segmentation model still gives a SegmentationNetwork, with a
    DeprecationWarning (one release); anything else is a TypeError naming the right class."""
    kind = kind_of(native)
    target = _FAMILY[kind]
    if issubclass(target, cls):
        return target
    if issubclass(cls, target) and cls._KIND == kind:  # a user's subclass
        return cls
    reconstruction = _FAMILY["reconstruction"]
    if kind == "variational" and issubclass(cls, reconstruction) and cls._KIND != "variational":
        return cls
    if cls is reconstruction and kind == "segmentation":
        warnings.warn(f"Autoencoder.{origin} of a segmentation model returns a "
                      f"SegmentationNetwork; call SegmentationNetwork.{origin} or "
                      f"autoencoders.Model.{origin} (Autoencoder will refuse it in the next "
                      "release)", DeprecationWarning, stacklevel=4)
        return target
    raise TypeError(f"{cls.__name__}.{origin}: the model is a {kind} model; use "
                    f"{target.__name__}.{origin} or autoencoders.Model.{origin}, which picks "
                    "the class")


# The family, importable from here as before (``from autoencoders.model import Autoencoder``);
# defined after Model, which they derive from, and registering their kinds on import.
from ._autoencoder import Autoencoder, VariationalAutoencoder  # noqa: E402
from ._segmentation_network import SegmentationNetwork  # noqa: E402
