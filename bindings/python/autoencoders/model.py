"""The :class:`Autoencoder` estimator: hyperparameters in, a native model built lazily in ``fit``.

``Autoencoder(...)`` holds only hyperparameters (scikit-learn conventions: ``get_params``,
``set_params``, ``clone``). The native model is created by the first :meth:`Autoencoder.fit`, or
at once by the builders :meth:`Autoencoder.dense`, :meth:`Autoencoder.from_spec`,
:meth:`Autoencoder.load` and :meth:`Autoencoder.from_bytes`.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _library
from ._arrays import as_array, as_float32, as_samples, as_vector
from ._errors import NotFittedError, ShapeError
from ._fit import FitSettings, ProgressCallback, TrainReport, count, train
from ._native import NativeModel, PathLike
from ._params import ParamsMixin, equal
from ._spec import Activation, SpecLike, as_dict, dense_spec, to_json

__all__ = ["Autoencoder", "TrainReport", "ProgressCallback"]

_SCALING_KINDS = {"standardize": _library.AE_SCALING_STANDARDIZE,
                  "minmax": _library.AE_SCALING_MINMAX}

#: Hyperparameters that shape the native model: changing one discards a built model.
_ARCHITECTURE = ("hidden", "code_size", "activation", "code_activation", "output_activation",
                 "loss", "optimizer", "lr", "schedule", "tied_weights", "init", "seed")
#: Training settings: defaults of fit, which can override each.
_TRAINING = ("epochs", "batch_size", "shuffle", "validation_split", "patience", "min_delta",
             "restore_best_weights", "verbose")


class Autoencoder(ParamsMixin):
    """An autoencoder: a scikit-learn style estimator over a native libautoencoders model.

    Build one from hyperparameters (the model is created lazily by :meth:`fit`, its input size
    taken from the data), from a full spec dict (``spec=``, docs/SPEC.md), or with the builders
    :meth:`dense`, :meth:`from_spec`, :meth:`load` and :meth:`from_bytes`, which create the
    native model at once.

    Architecture (a symmetric dense autoencoder; ignored when ``spec`` is given):
        hidden: widths of the hidden encoder layers; the decoder mirrors them.
        code_size: width of the code (bottleneck).
        activation: activation of the hidden layers ("relu", "elu", "gelu", "tanh", ... or a
            dict such as ``{"type": "leaky_relu", "negative_slope": 0.2}``).
        code_activation: activation of the code layer (None: linear).
        output_activation: activation of the output layer (None: linear; "sigmoid" for data
            in [0, 1], with ``loss="bce"``).
        loss: "mse", "l1", "bce", "bce_with_logits", or a dict (``{"type": "huber", "delta": 1}``).
        optimizer: "adam", "adamw", "sgd", "rmsprop", "adagrad", or a dict of its options.
        lr: the optimizer's learning rate (None: the optimizer's default, 1e-3 for Adam).
        schedule: learning-rate schedule dict, e.g. ``{"type": "cosine", "t_max": 50}``.
        tied_weights: decoder weights are the transposed encoder weights.
        init: default initializer of every layer ("he_uniform", "xavier_uniform", ...).
        seed: seeds initialisation and shuffling (same seed and thread count: same model).
        spec: a complete spec (dict or JSON text) instead of the arguments above.
        input_scaling: "standardize" or "minmax" to fit the model's input scaling on the
            training data of the first ``fit`` (None: raw data).

    Training (defaults of :meth:`fit`, which can override each):
        epochs, batch_size, shuffle: passes over the data, samples per step, reshuffling.
        validation_split: fraction of the samples (the last ones) held out for validation.
        patience: early stopping after this many epochs without improvement (0: off).
        min_delta: least decrease of the monitored loss that counts as an improvement.
        restore_best_weights: with early stopping, end on the best epoch's weights.
        verbose: 0 silent; 1 a progress bar on a terminal (else one line per epoch);
            2 one line per epoch. Progress goes to stderr.
        warm_start: True (default): each ``fit`` continues training the model it has, as
            ``ae_model_train`` does (weights, optimizer state, epoch count). False: each ``fit``
            starts from a newly built model, as scikit-learn estimators do (fitting twice
            equals fitting once; anything set on the previous model is discarded).

    Example::

        model = Autoencoder(hidden=[256, 64], code_size=16, epochs=20, validation_split=0.1)
        codes = model.fit(X).transform(X)
        scores = model.score(X_new)          # per-sample reconstruction error
    """

    _MODEL_PARAMS = _ARCHITECTURE + ("spec", "input_scaling")

    def __init__(self, *, hidden: Sequence[int] = (128,), code_size: Optional[int] = 32,
                 activation: Activation = "relu", code_activation: Activation = None,
                 output_activation: Activation = None,
                 loss: Union[str, Mapping[str, Any]] = "mse",
                 optimizer: Union[str, Mapping[str, Any]] = "adam", lr: Optional[float] = None,
                 schedule: Union[str, Mapping[str, Any], None] = None, tied_weights: bool = False,
                 init: Optional[str] = None, seed: int = 0, spec: Optional[SpecLike] = None,
                 input_scaling: Optional[str] = None, epochs: int = 10, batch_size: int = 32,
                 shuffle: bool = True, validation_split: float = 0.0, patience: int = 0,
                 min_delta: float = 0.0, restore_best_weights: bool = True,
                 verbose: int = 1, warm_start: bool = True) -> None:
        # scikit-learn's rule: store the arguments unchanged; validate in fit.
        self._native: Optional[NativeModel] = None
        self._closed = False
        self.hidden = hidden
        self._code_size = code_size
        self.activation = activation
        self.code_activation = code_activation
        self.output_activation = output_activation
        self.loss = loss
        self.optimizer = optimizer
        self.lr = lr
        self.schedule = schedule
        self.tied_weights = tied_weights
        self.init = init
        self.seed = seed
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

    # ==== Builders ===============================================================================

    @classmethod
    def dense(cls, input_size: int, hidden: Sequence[int] = (128,), code_size: int = 32, *,
              activation: Activation = "relu", code_activation: Activation = None,
              output_activation: Activation = None, loss: Union[str, Mapping[str, Any]] = "mse",
              optimizer: Union[str, Mapping[str, Any]] = "adam", lr: Optional[float] = None,
              schedule: Union[str, Mapping[str, Any], None] = None, tied_weights: bool = False,
              init: Optional[str] = None, seed: int = 0, **training: Any) -> "Autoencoder":
        """A dense autoencoder ``input_size -> hidden... -> code_size -> ...hidden -> input_size``,
        built now (with freshly initialised weights).

        Example: ``Autoencoder.dense(784, hidden=[512, 128], code_size=32, activation="relu",
        output_activation="sigmoid", loss="bce", lr=1e-3, seed=0)``. Further keyword arguments
        are the training defaults of the constructor (``epochs=``, ``batch_size=``, ...).
        """
        model = cls(hidden=hidden, code_size=code_size, activation=activation,
                    code_activation=code_activation, output_activation=output_activation,
                    loss=loss, optimizer=optimizer, lr=lr, schedule=schedule,
                    tied_weights=tied_weights, init=init, seed=seed, **training)
        model._build(count(input_size, "input_size", 1))
        return model

    @classmethod
    def from_spec(cls, spec: SpecLike, **training: Any) -> "Autoencoder":
        """A model built now from a complete spec (a dict or JSON text; see docs/SPEC.md).

        Raises :class:`SpecError` naming the JSON path of the first problem."""
        model = cls(spec=spec, **training)
        model._build(None)
        return model

    @classmethod
    def load(cls, path: PathLike, **training: Any) -> "Autoencoder":
        """Loads a model file written by :meth:`save` (or by any other binding).

        Raises :class:`FileError` if it cannot be read, :class:`FormatError` if it is not a
        valid model file."""
        return cls._adopt(NativeModel.load(path), training)

    @classmethod
    def from_bytes(cls, data: Union[bytes, bytearray, memoryview], **training: Any) -> "Autoencoder":
        """A model from the bytes of a model file (as :meth:`to_bytes` returns them)."""
        return cls._adopt(NativeModel.from_bytes(data), training)

    @classmethod
    def _adopt(cls, native: NativeModel, training: Dict[str, Any]) -> "Autoencoder":
        try:
            model = cls(spec=native.spec, **training)
        except BaseException:
            native.close()
            raise
        model._native = native
        return model

    def _spec_dict(self, input_size: Optional[int]) -> Dict[str, Any]:
        """The spec the hyperparameters describe, for ``input_size`` features."""
        if self._spec is not None:
            defaults = self._defaults()
            changed = [name for name in _ARCHITECTURE
                       if not equal(self._param(name), defaults[name])]
            if changed:
                raise ValueError(f"pass either spec or the architecture arguments, not both "
                                 f"(spec is given, and so is {', '.join(changed)})")
            return as_dict(self._spec)
        if input_size is None:
            raise NotFittedError("the input size is not known before fit: call fit(X), or build "
                                 "the model with Autoencoder.dense(input_size, ...)")
        return dense_spec(input_size, self.hidden, count(self._code_size, "code_size", 1),
                          activation=self.activation, code_activation=self.code_activation,
                          output_activation=self.output_activation, loss=self.loss,
                          optimizer=self.optimizer, lr=self.lr, schedule=self.schedule,
                          tied_weights=bool(self.tied_weights), init=self.init,
                          seed=count(self.seed, "seed", 0))

    def _build(self, input_size: Optional[int]) -> NativeModel:
        if self._closed:
            raise ValueError("model is closed")
        self._native = NativeModel.create(to_json(self._spec_dict(input_size)))
        return self._native

    # ==== State ==================================================================================

    def _model(self) -> NativeModel:
        """The native model; ValueError if closed, NotFittedError if not built yet."""
        if self._closed:
            raise ValueError("model is closed")
        if self._native is None:
            raise NotFittedError(f"this {type(self).__name__} has no model yet: call fit(X) first, "
                                 "or build one with Autoencoder.dense, from_spec or load")
        return self._native

    def _discard(self) -> None:
        """Frees the native model and forgets it (the estimator becomes unfitted)."""
        native, self._native = self._native, None
        if native is not None:
            native.close()
        for fitted in ("history_", "report_"):
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

    def __enter__(self) -> "Autoencoder":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def is_built(self) -> bool:
        """True when the native model exists (after fit or a builder) and is not closed."""
        return self._native is not None and not self._closed

    def __sklearn_is_fitted__(self) -> bool:
        return self.is_built

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's estimator tags (>= 1.6): an unsupervised transformer of dense arrays
        (imported lazily; scikit-learn is not a dependency)."""
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags
        return Tags(estimator_type=None, target_tags=TargetTags(required=False),
                    transformer_tags=TransformerTags(preserves_dtype=["float32"]),
                    input_tags=InputTags(two_d_array=True, allow_nan=False), requires_fit=True)

    # ==== Properties of the model ================================================================

    @property
    def input_size(self) -> int:
        """Elements per sample of the input (and of the reconstruction)."""
        return self._model().input_size

    @property
    def n_features_in_(self) -> int:
        """scikit-learn's name of :attr:`input_size`."""
        return self._model().input_size

    @property
    def code_size(self) -> Optional[int]:
        """Elements per sample of the code: the model's once built; before that, the
        ``code_size`` hyperparameter (settable, like every hyperparameter)."""
        if self._native is not None and not self._closed:
            return self._native.code_size
        if self._spec is not None and self._code_size == self._defaults()["code_size"]:
            raise NotFittedError("the code size of a spec is known once the model is built")
        return self._code_size

    @code_size.setter
    def code_size(self, value: Optional[int]) -> None:
        self.set_params(code_size=value)

    @property
    def input_shape(self) -> Tuple[int, ...]:
        """The per-sample input shape, e.g. ``(784,)`` (``(C, H, W)`` for image models)."""
        return self._model().input_shape

    @property
    def spec(self) -> Dict[str, Any]:
        """The model's spec as a dict (a copy): the native model's once built; before that, the
        ``spec`` hyperparameter. Setting it is ``set_params(spec=...)``."""
        if self._native is not None and not self._closed:
            return self._native.spec
        if self._spec is not None:
            return as_dict(self._spec)
        raise NotFittedError("this Autoencoder has no spec yet: it is built from its "
                             "hyperparameters by fit(X), which knows the input size")

    @spec.setter
    def spec(self, value: Optional[SpecLike]) -> None:
        self.set_params(spec=value)

    @property
    def n_parameters(self) -> int:
        """Number of float parameters of the model."""
        return self._model().n_parameters

    @property
    def epochs_completed(self) -> int:
        """Epochs trained so far (carried through save and load)."""
        return self._model().epochs_completed

    @property
    def can_decode(self) -> bool:
        """Whether :meth:`decode` works (not for decoders that read encoder feature maps)."""
        return self._model().can_decode

    # ==== Parameters =============================================================================

    @property
    def parameter_names(self) -> List[str]:
        """Names of the parameter tensors, in the model's order ("encoder.0.weight", ...)."""
        return list(self._model().tensors)

    def parameter_shape(self, name: str) -> Tuple[int, ...]:
        """The shape of a parameter tensor (dense weights are ``[out, in]``, as in PyTorch)."""
        return self._model().tensor(name)[0]

    def get_parameter(self, name: str) -> np.ndarray:
        """A copy of the named parameter tensor as a float32 array of its shape.

        Raises :class:`ParameterNameError` (a ``KeyError``) for an unknown name."""
        return self._model().get_parameter(name)

    def set_parameter(self, name: str, values: Any) -> None:
        """Replaces the named parameter tensor; ``values`` must have its shape (any real dtype,
        converted to float32) and be finite."""
        native = self._model()
        shape, _ = native.tensor(name)
        array = as_array(values, "values")
        if tuple(array.shape) != shape:
            raise ShapeError(f"values has shape {tuple(array.shape)}; parameter {name!r} has shape "
                             f"{shape}")
        native.set_parameter(name, as_float32(array))

    def parameters(self) -> Dict[str, np.ndarray]:
        """Every parameter tensor, by name (copies)."""
        native = self._model()
        return {name: native.get_parameter(name) for name in native.tensors}

    def set_parameters(self, values: Mapping[str, Any]) -> None:
        """Sets several parameter tensors (e.g. the dict :meth:`parameters` returned)."""
        for name, array in values.items():
            self.set_parameter(name, array)

    # ==== Input scaling ==========================================================================

    def set_input_scaling(self, offset: Any, scale: Any) -> "Autoencoder":
        """Sets the scaling the model applies to raw inputs, ``x' = (x - offset) / scale``, and
        undoes on reconstructions. ``offset`` and ``scale`` are scalars or vectors of
        :attr:`input_size` values (scale non-zero); ``None, None`` removes the scaling.
        Returns self."""
        native = self._model()
        if offset is None and scale is None:
            native.set_input_scaling(None, None)
            return self
        if offset is None or scale is None:
            raise ValueError("pass both offset and scale, or None for both to remove the scaling")
        native.set_input_scaling(as_vector(offset, "offset", native.input_size),
                                 as_vector(scale, "scale", native.input_size))
        return self

    def fit_input_scaling(self, X: Any, kind: str = "standardize") -> "Autoencoder":
        """Fits the input scaling to samples ``X`` and sets it: "standardize" (offset = mean,
        scale = standard deviation) or "minmax" (offset = min, scale = max - min). Constant
        features get scale 1. Returns self."""
        if kind not in _SCALING_KINDS:
            raise ValueError(f"kind is {kind!r}; expected 'standardize' or 'minmax'")
        native = self._model()
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        native.fit_input_scaling(_SCALING_KINDS[kind], data)
        return self

    def get_input_scaling(self) -> Optional[Tuple[np.ndarray, np.ndarray]]:
        """The model's input scaling as ``(offset, scale)`` float32 vectors, or None when it has
        none."""
        return self._model().get_input_scaling()

    # ==== Training ===============================================================================

    def fit(self, X: Any, y: Any = None, *, validation_data: Any = None, mask: Any = None,
            callback: Optional[ProgressCallback] = None, report_batches: bool = False,
            epochs: Optional[int] = None, batch_size: Optional[int] = None,
            shuffle: Optional[bool] = None, validation_split: Optional[float] = None,
            patience: Optional[int] = None, min_delta: Optional[float] = None,
            restore_best_weights: Optional[bool] = None,
            verbose: Optional[int] = None) -> "Autoencoder":
        """Trains the model on samples ``X`` (``(n, input_size)``; ``y`` is ignored) and returns
        self.

        The first call builds the native model (its input size from ``X``). With
        ``warm_start=True`` (the default) later calls continue training from where the previous
        one stopped (weights, optimizer state, epoch count, and so the schedule), as
        ``ae_model_train`` does; with ``warm_start=False`` each call starts from a newly built
        model. ``sklearn.base.clone`` gives an unfitted copy.

        Args:
            validation_data: validation samples (an array, or a Keras-style ``(X_val, y_val)``
                tuple); overrides ``validation_split``. Early stopping monitors the validation
                loss when there is one, else the training loss.
            mask: for data with missing values (inpainting): an array of X's shape, 1 where an
                input is known and 0 where it is missing. The loss counts known inputs only;
                missing ones enter the network as zero.
            callback: called with a progress dict after every epoch (and after every batch with
                ``report_batches=True``); returning False stops training, keeping the weights
                it has then. Exceptions it raises stop training and propagate.
            epochs, batch_size, shuffle, validation_split, patience, min_delta,
            restore_best_weights, verbose: override the estimator's values for this call.

        After the call, ``history_`` holds per-epoch lists (``epoch``, ``train_loss``,
        ``validation_loss``, ``learning_rate``, ``elapsed_seconds``) and ``report_`` the
        :class:`TrainReport`.

        Raises:
            NumericError: the loss became NaN or infinite (the weights of the last completed
                epoch are restored), or X holds NaN or infinite values.
        """
        if self._closed:
            raise ValueError("model is closed")
        settings = FitSettings.resolve(
            {name: getattr(self, name) for name in _TRAINING},
            {"epochs": epochs, "batch_size": batch_size, "shuffle": shuffle,
             "validation_split": validation_split, "patience": patience, "min_delta": min_delta,
             "restore_best_weights": restore_best_weights, "verbose": verbose})
        if callback is not None and not callable(callback):
            raise TypeError(f"callback is {callback!r}; expected a callable")

        if not self.warm_start and self._native is not None:
            self._native.close()
            self._native = None
        fresh = self._native is None
        if fresh:
            if self._spec is None:
                X = as_array(X, "X")
                if X.ndim != 2:
                    raise ShapeError(f"X has shape {tuple(X.shape)}; expected (n, features)")
                native = self._build(count(X.shape[1], "the number of features", 1))
            else:
                native = self._build(None)
        else:
            native = self._model()
        try:
            data, _ = as_samples(X, "X", native.input_shape, native.input_size)
            validation = None
            if validation_data is not None:
                if isinstance(validation_data, tuple):
                    if not 1 <= len(validation_data) <= 2:
                        raise ValueError("validation_data is a tuple of "
                                         f"{len(validation_data)} items; expected X_val or "
                                         "(X_val, y_val)")
                    validation_data = validation_data[0]
                validation, _ = as_samples(validation_data, "validation_data",
                                           native.input_shape, native.input_size)
            mask_data = None if mask is None else self._mask(mask, data, native)
            if self.input_scaling is not None and native.epochs_completed == 0 \
                    and not native.has_input_scaling():
                if self.input_scaling not in _SCALING_KINDS:
                    raise ValueError(f"input_scaling is {self.input_scaling!r}; expected "
                                     "'standardize', 'minmax' or None")
                native.fit_input_scaling(_SCALING_KINDS[self.input_scaling], data)
            outcome = train(native, data, settings, validation=validation, mask=mask_data,
                            callback=callback, report_batches=report_batches)
        except BaseException:
            if fresh:  # a failed first fit leaves the estimator unfitted
                self._discard()
            raise
        self.history_ = outcome.history
        failed = outcome.error is not None or outcome.report is None
        if failed and fresh and native.epochs_completed == 0:
            self._discard()  # a first fit that trained nothing leaves the estimator unfitted
        outcome.raise_for_failure()
        self.report_ = outcome.report
        return self

    @staticmethod
    def _mask(mask: Any, data: np.ndarray, native: NativeModel) -> np.ndarray:
        """A mask for ``data`` as a float32 matrix of its shape."""
        matrix, _ = as_samples(mask, "mask", native.input_shape, native.input_size)
        if matrix.shape[0] != data.shape[0]:
            raise ShapeError(f"mask has {matrix.shape[0]} samples but the data has "
                             f"{data.shape[0]}; expected one mask value per input")
        return matrix

    def evaluate(self, X: Any) -> float:
        """The mean training objective (loss plus regularizers) on ``X``, without training."""
        native = self._model()
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        return native.evaluate(data)

    # ==== Inference ==============================================================================

    def encode(self, X: Any) -> np.ndarray:
        """The codes of samples ``X``: a float32 array ``(n, code_size)``."""
        native = self._model()
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        return native.encode(data)

    def decode(self, Z: Any) -> np.ndarray:
        """Reconstructions (in data space) from codes ``Z`` ``(n, code_size)``: float32
        ``(n, *input_shape)``. Raises :class:`UnsupportedError` when :attr:`can_decode` is
        False."""
        native = self._model()
        code, _ = as_samples(Z, "Z", (native.code_size,), native.code_size)
        return native.decode(code).reshape((code.shape[0],) + native.input_shape)

    def reconstruct(self, X: Any) -> np.ndarray:
        """``decode(encode(X))`` in one pass, in data space, in the layout of ``X``."""
        native = self._model()
        data, used = as_samples(X, "X", native.input_shape, native.input_size)
        return native.reconstruct(data).reshape((data.shape[0],) + used)

    def score(self, X: Any, y: Any = None) -> np.ndarray:
        """Per-sample anomaly scores: each sample's mean squared reconstruction error (in the
        model's scaled space), a float32 array ``(n,)``. Large scores flag anomalies.

        Note: unlike scikit-learn's ``score`` this is per sample (``y`` is ignored); use
        :meth:`evaluate` for one number, e.g. in a scorer for ``GridSearchCV``."""
        native = self._model()
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        return native.score(data)

    def inpaint(self, X: Any, mask: Any = None) -> np.ndarray:
        """Fills in missing inputs. ``mask`` has X's shape, 1 (or True) where an input is known
        and 0 where it is missing (missing entries of X may hold any finite value); without a
        mask, the NaN entries of X are the missing ones. Returns X's known inputs unchanged and
        the model's reconstruction where they were missing, in the layout of X. Train with
        ``fit(X, mask=...)`` for the best fills."""
        native = self._model()
        data, used = as_samples(X, "X", native.input_shape, native.input_size)
        if mask is None:
            missing = np.isnan(data)
            matrix = (~missing).astype(np.float32)
            if missing.any():
                data = np.where(missing, np.float32(0), data)  # a copy: X is left alone
        else:
            matrix = self._mask(mask, data, native)
        return native.inpaint(data, matrix).reshape((data.shape[0],) + used)

    # ---- Anomaly detection ----

    def fit_threshold(self, X: Any, quantile: float = 0.99) -> float:
        """Sets the anomaly threshold to the ``quantile`` (0 to 1) of the scores of normal
        samples ``X`` (linear interpolation, as ``numpy.quantile``) and returns it. The threshold
        is kept in the model file."""
        native = self._model()
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        quantile = float(quantile)
        if not 0.0 <= quantile <= 1.0:
            raise ValueError(f"quantile is {quantile}; expected a number in [0, 1], e.g. 0.99")
        return native.fit_threshold(data, quantile)

    @property
    def threshold(self) -> Optional[float]:
        """The anomaly threshold on :meth:`score`, or None if the model has none. Settable
        (a finite number >= 0)."""
        return self._model().get_threshold()

    @threshold.setter
    def threshold(self, value: float) -> None:
        value = float(value)
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"threshold is {value}; expected a finite number >= 0")
        self._model().set_threshold(value)

    def is_anomaly(self, X: Any) -> np.ndarray:
        """Anomaly flags (``ae_model_predict``): a boolean array ``(n,)``, True where a sample's
        score exceeds the threshold, so ``X[model.is_anomaly(X)]`` selects the anomalies.
        Raises :class:`UnsupportedError` when the model has no threshold (set one with
        :meth:`fit_threshold` or :attr:`threshold`)."""
        native = self._model()
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        flags: np.ndarray = native.predict(data) != 0
        return flags

    # ---- scikit-learn's transformer names ----

    def transform(self, X: Any) -> np.ndarray:
        """scikit-learn's name of :meth:`encode`."""
        return self.encode(X)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """scikit-learn's name of :meth:`decode`."""
        return self.decode(Z)

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        """``fit(X, **fit_params)`` then ``transform(X)``."""
        return self.fit(X, y, **fit_params).transform(X)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the code features: ``autoencoder0``, ``autoencoder1``, ..."""
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}{i}" for i in range(self._model().code_size)], dtype=object)

    # ==== Saving =================================================================================

    def save(self, path: PathLike, include_optimizer_state: bool = True) -> None:
        """Saves the model file (spec, weights, input scaling, training state and, by default,
        the optimizer state so that training resumes exactly). Atomic: a failure never leaves a
        half-written file. Raises :class:`FileError` if the path cannot be written."""
        self._model().save(path, include_optimizer_state)

    def to_bytes(self, include_optimizer_state: bool = True) -> bytes:
        """The bytes of the model file (what :meth:`save` would write)."""
        return self._model().to_bytes(include_optimizer_state)

    def __getstate__(self) -> Dict[str, Any]:
        if self._closed:
            raise ValueError("model is closed")
        state = self.__dict__.copy()
        native = state.pop("_native")
        state["_model_bytes"] = native.to_bytes(True) if native is not None else None
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        model_bytes = state.pop("_model_bytes", None)
        self.__dict__.update(state)
        self._native = NativeModel.from_bytes(model_bytes) if model_bytes is not None else None

    # ==== scikit-learn parameters ===============================================================

    def _param(self, name: str) -> Any:
        if name == "spec":
            return self._spec
        if name == "code_size":
            return self._code_size
        return getattr(self, name)

    def _store_param(self, name: str, value: Any) -> None:
        if name == "spec":
            self._spec = value
        elif name == "code_size":
            self._code_size = value
        else:
            setattr(self, name, value)

    def _model_params_changed(self) -> None:
        if not self._closed:
            self._discard()

    def get_params(self, deep: bool = True) -> Dict[str, Any]:
        """The constructor arguments (hyperparameters) of this estimator, by name."""
        return super().get_params(deep)

    def set_params(self, **params: Any) -> "Autoencoder":
        """Sets hyperparameters; returns self. Changing one that shapes the model (architecture,
        optimizer, seed, spec, input_scaling) discards a built model: the next ``fit`` builds a
        new one. Training settings (epochs, batch_size, ...) keep it."""
        super().set_params(**params)
        return self

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"{type(self).__name__}({self._repr_params()}){state}"
