"""The :class:`Autoencoder` estimator: hyperparameters in, a native model built lazily in ``fit``.

``Autoencoder(...)`` holds only hyperparameters (scikit-learn conventions: ``get_params``,
``set_params``, ``clone``). The native model is created by the first :meth:`Autoencoder.fit`, or
at once by the builders :meth:`Autoencoder.dense`, :meth:`Autoencoder.from_spec`,
:meth:`Autoencoder.load` and :meth:`Autoencoder.from_bytes`.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from ._arrays import as_array
from ._builders import BuildersMixin, check_vocabulary
from ._codec import CodecMixin
from ._errors import NotFittedError, ShapeError
from ._fit import FitSettings, ProgressCallback, TrainReport, count
from ._params import JSON_INT_MAX, WIDTH_MAX
from ._inference import InferenceMixin
from ._native import NativeModel
from ._params import ParamsMixin, equal
from ._saving import SavingMixin
from ._segmentation import SegmentationMixin
from ._sequences import SequenceBatch, sequence_scaling
from ._spec import Activation, SpecLike, as_dict, dense_spec, to_json
from ._training_data import TrainingData
from ._variational import VariationalMixin
from ._vocabulary import CharacterVocabulary
from ._weights import SCALING_KINDS, WeightsMixin

__all__ = ["Autoencoder", "TrainReport", "ProgressCallback"]

#: Hyperparameters that shape the native model: changing one discards a built model.
_ARCHITECTURE = ("hidden", "code_size", "activation", "code_activation", "output_activation",
                 "loss", "optimizer", "lr", "schedule", "tied_weights", "init", "seed")
#: Training settings: defaults of fit, which can override each.
_TRAINING = ("epochs", "batch_size", "shuffle", "validation_split", "patience", "min_delta",
             "restore_best_weights", "verbose")


class Autoencoder(ParamsMixin, BuildersMixin, WeightsMixin, InferenceMixin,
                  SegmentationMixin, VariationalMixin, SavingMixin, CodecMixin):
    """An autoencoder: a scikit-learn style estimator over a native libautoencoders model.

    Build one from hyperparameters (the model is created lazily by :meth:`fit`, its input size
    taken from the data), from a full spec dict (``spec=``, docs/SPEC.md), or with the builders
    :meth:`dense`, :meth:`from_spec`, :meth:`load` and :meth:`from_bytes`, which create the
    native model at once. Convolutional models (``"input_shape": [C, H, W]``) and segmentation
    models (``"loss": "cross_entropy"``: ``fit(X, y)`` with integer labels, then
    :meth:`segment`) come from a spec, and so do variational autoencoders (an encoder ending in
    ``{"type": "variational", "units": d}``: :meth:`encode_distribution`, :meth:`generate`,
    :meth:`interpolate`).

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

    Text (token models, whose first encoder entry is an ``embedding``):
        vocabulary: a :class:`CharacterVocabulary` turning strings into token ids and back, so
            that fit, encode, reconstruct, score and decode take and give lists of strings
            (:meth:`text` builds the model and sets it; :meth:`save` keeps it beside the model
            file and :meth:`load` finds it there). None: the model takes int token ids.

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
                 verbose: int = 1, warm_start: bool = True,
                 vocabulary: Optional[CharacterVocabulary] = None) -> None:
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
        self.vocabulary = vocabulary

    # ==== Building the native model ==============================================================

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
        return dense_spec(input_size, self.hidden, count(self._code_size, "code_size", 1, WIDTH_MAX),
                          activation=self.activation, code_activation=self.code_activation,
                          output_activation=self.output_activation, loss=self.loss,
                          optimizer=self.optimizer, lr=self.lr, schedule=self.schedule,
                          tied_weights=bool(self.tied_weights), init=self.init,
                          seed=count(self.seed, "seed", 0, JSON_INT_MAX))

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
        raise NotFittedError("this Autoencoder has no spec yet: it is built from its "
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
    def is_text(self) -> bool:
        """True for a token (text) model: its first encoder entry is an ``embedding``, and it
        takes token ids (or, with a :attr:`vocabulary`, strings)."""
        return self._model().is_tokens

    @property
    def vocabulary_size(self) -> int:
        """V, the token ids of a text model's embedding (0 for other models)."""
        return self._model().vocabulary_size

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

    # ==== Training ===============================================================================

    def fit(self, X: Any, y: Any = None, *, lengths: Any = None, validation_data: Any = None,
            validation_lengths: Any = None, mask: Any = None,
            callback: Optional[ProgressCallback] = None, report_batches: bool = False,
            epochs: Optional[int] = None, batch_size: Optional[int] = None,
            shuffle: Optional[bool] = None, validation_split: Optional[float] = None,
            patience: Optional[int] = None, min_delta: Optional[float] = None,
            restore_best_weights: Optional[bool] = None,
            verbose: Optional[int] = None) -> "Autoencoder":
        """Trains the model on samples ``X`` (``(n, input_size)`` or ``(n, *input_shape)``) and
        returns self. ``y`` is ignored by models that reconstruct their input; a segmentation
        model (spec ``"loss": "cross_entropy"``) requires it: integer class labels
        ``(n, *label_shape)`` (e.g. ``(n, H, W)``) or ``(n, label_size)``, each a class in
        ``0..n_classes-1`` or the spec's ``ignore_index`` (a position that does not count).

        The first call builds the native model (its input size from ``X``). With
        ``warm_start=True`` (the default) later calls continue training from where the previous
        one stopped (weights, optimizer state, epoch count, and so the schedule), as
        ``ae_model_train`` does; with ``warm_start=False`` each call starts from a newly built
        model. ``sklearn.base.clone`` gives an unfitted copy.

        Sequence models (``"input_shape": [T, F]`` and a recurrent layer) take ``X`` as
        ``(n, T, F)`` with optional ``lengths`` (n ints in 1..T: the valid steps of each sample;
        steps past them are padding and do not count), or as a list of ``(t_i, F)`` arrays
        (padded here, the lengths taken from the list). Text models take a list of strings (with
        a :attr:`vocabulary`), a list of id sequences, or int ids ``(n, T)`` with ``lengths``.

        Args:
            lengths: sequence models: the valid steps of each sample of an ``(n, T, F)`` array.
            validation_data: validation samples (an array, or a Keras-style ``(X_val, y_val)``
                tuple, required for segmentation models); overrides ``validation_split``.
                Sequence and text models take ``X_val`` only, in any form ``X`` may take
                (with ``validation_lengths`` for an array).
            validation_lengths: the valid steps of each sample of an array ``validation_data``.
                Early stopping monitors the validation loss when there is one, else the
                training loss. (For segmentation the C API's validation data has no labels,
                so the validation samples are appended to a copy of the training data and held
                out with the matching ``validation_split``.)
            mask: for data with missing values (inpainting): an array of X's shape, 1 where an
                input is known and 0 where it is missing. The loss counts known inputs only;
                missing ones enter the network as zero. Reconstruction models only.
            callback: called with a progress dict after every epoch (and after every batch with
                ``report_batches=True``); returning False stops training, keeping the weights
                it has then. Exceptions it raises stop training and propagate.
            epochs, batch_size, shuffle, validation_split, patience, min_delta,
            restore_best_weights, verbose: override the estimator's values for this call.

        After the call, ``history_`` holds per-epoch lists (``epoch``, ``train_loss``,
        ``validation_loss``, ``learning_rate``, ``elapsed_seconds``, ``reconstruction_loss``,
        ``kl_divergence``) and ``report_`` the :class:`TrainReport`. For a VAE ``train_loss`` is
        the negative ELBO per sample, ``reconstruction_loss`` its reconstruction term and
        ``kl_divergence`` the unweighted KL(q(z|x) || N(0, I)) per sample (None for other
        models, as ``validation_loss`` is None without validation data).

        Raises:
            NumericError: the loss became NaN or infinite (the weights of the last completed
                epoch are restored), or X holds NaN or infinite values.
            ShapeError: X, y or the validation data do not match the model's shapes.
            InvalidArgumentError: a label is neither a class nor the ignore index (the message
                gives its position, e.g. ``labels[3, 2, 5] = 7 is not a class in 0..<2``).
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
                if isinstance(X, (list, tuple)) and X and isinstance(X[0], str):
                    raise ValueError("strings need a text model: build it with "
                                     "Autoencoder.text(vocabulary, max_length, ...)")
                if lengths is not None or isinstance(X, (list, tuple)) and X \
                        and not np.isscalar(X[0]) and np.ndim(X[0]) != 1:
                    raise ValueError("sequences need a sequence model: build it with "
                                     "Autoencoder.sequence(steps, features, ...) or from a spec "
                                     "with \"input_shape\": [T, F]")
                X = as_array(X, "X")
                if X.ndim != 2:
                    raise ShapeError(f"X has shape {tuple(X.shape)}; expected (n, features)")
                native = self._build(count(X.shape[1], "the number of features", 1))
            else:
                native = self._build(None)
                try:
                    check_vocabulary(native, self.vocabulary)
                except BaseException:
                    self._discard()
                    raise
        else:
            native = self._model()
        try:
            arrays = TrainingData.prepare(native, X, y, validation_data, mask, lengths,
                                          validation_lengths, self.vocabulary)
            if self.input_scaling is not None and native.epochs_completed == 0 \
                    and not native.has_input_scaling():
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
            outcome = arrays.train(native, settings, callback=callback,
                                   report_batches=report_batches)
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

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        """``fit(X, y, **fit_params)`` then ``transform(X)`` (with fit's ``lengths``)."""
        return self.fit(X, y, **fit_params).transform(X, lengths=fit_params.get("lengths"))

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

    # ==== Interoperability (autoencoders/onnx_export.py, autoencoders/torch_import.py) ==========

    def export_onnx(self, path: Any = None, *, batch_norm: str = "op",
                    segmentation: str = "labels", lengths: bool = False) -> Any:
        """Writes the model's inference path (input scaling included) to an ONNX file at
        ``path`` and returns the ``onnx.ModelProto`` (needs the ``onnx`` package). Outputs: the
        reconstruction (a segmentation model: ``"labels"`` or, with
        ``segmentation="logits"``, ``"logits"``) and the code. ``batch_norm="fold"`` merges
        batch norms into the conv/dense layer before them; ``lengths=True`` gives a sequence
        model's graph a second input, the int32 lengths ``[N]``. Raises :class:`UnsupportedError`
        naming the entry for a layer the export cannot express. See
        :mod:`autoencoders.onnx_export`."""
        from .onnx_export import export_onnx
        return export_onnx(self, path, batch_norm=batch_norm, segmentation=segmentation,
                           lengths=lengths)

    def load_state_dict(self, state_dict: Mapping[str, Any], *, name_map: Any = "auto",
                        strict: bool = True) -> "Autoencoder":
        """Sets the parameters from a PyTorch ``state_dict`` (tensors or numpy arrays), its
        names translated by ``name_map`` (see :func:`autoencoders.torch_import.load_state_dict`
        and docs/INTEROP.md). Every name and shape is checked first; on any error nothing
        changes. Returns self."""
        from .torch_import import load_state_dict
        load_state_dict(self, state_dict, name_map=name_map, strict=strict)
        return self

    @classmethod
    def from_state_dict(cls, spec: SpecLike, state_dict: Mapping[str, Any], *,
                        name_map: Any = "auto", strict: bool = True,
                        **training: Any) -> "Autoencoder":
        """A model built from ``spec`` with the parameters of a PyTorch ``state_dict`` (see
        :meth:`load_state_dict`)."""
        model = cls.from_spec(spec, **training)
        try:
            model.load_state_dict(state_dict, name_map=name_map, strict=strict)
        except BaseException:
            model.close()
            raise
        return model

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"{type(self).__name__}({self._repr_params()}){state}"
