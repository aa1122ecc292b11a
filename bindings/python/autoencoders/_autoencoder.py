"""The models that reconstruct their input: :class:`Autoencoder` (dense, convolutional,
sequence and text models) and :class:`VariationalAutoencoder`."""

from __future__ import annotations

from typing import Any, ClassVar, Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from ._arrays import as_array
from ._builders import AutoencoderBuildersMixin, check_vocabulary
from ._codec import CodecMixin
from ._errors import NotFittedError, ShapeError
from ._fit import count
from ._inference import ReconstructionMixin
from ._native import NativeModel
from ._params import JSON_INT_MAX, WIDTH_MAX, equal
from ._segmentation import SegmentationMixin
from ._spec import Activation, SpecLike, as_dict, dense_spec
from ._variational import VariationalMixin
from ._vocabulary import CharacterVocabulary
from .model import Model, register_kind

__all__ = ["Autoencoder", "VariationalAutoencoder"]

#: Hyperparameters that shape a dense model: changing one discards a built model.
_ARCHITECTURE = ("hidden", "code_size", "activation", "code_activation", "output_activation",
                 "loss", "optimizer", "lr", "schedule", "tied_weights", "init", "seed")

_SEGMENTATION_ONLY = "it is for SegmentationNetwork models"
_VARIATIONAL_ONLY = "it is for VariationalAutoencoder models"


def _deprecated(mixin: type, names: Sequence[str], advice: str) -> Dict[str, Tuple[Any, str]]:
    return {name: (mixin.__dict__[name], advice) for name in names}


_SEGMENTATION_NAMES = ("segment", "n_classes", "label_shape", "label_size", "ignore_index")
_VARIATIONAL_NAMES = ("encode_distribution", "sample_codes", "generate")


@register_kind("reconstruction")
class Autoencoder(Model, ReconstructionMixin, AutoencoderBuildersMixin, CodecMixin):
    """An autoencoder: it encodes samples into codes and reconstructs them; a scikit-learn
    transformer (``transform`` gives codes) and outlier detector (``score_samples``,
    ``decision_function``, ``predict``), trained like a Keras model.

    Build one from hyperparameters (a symmetric dense autoencoder, created lazily by
    :meth:`fit`, its input size taken from the data), from a spec (``spec=``, docs/SPEC.md:
    convolutional, sequence and text models too), or with the builders :meth:`dense`,
    :meth:`sequence`, :meth:`text`, :meth:`from_spec` and :meth:`load`, which create the native
    model at once. A variational spec gives a :class:`VariationalAutoencoder`; a segmentation
    spec belongs to :class:`SegmentationNetwork`.

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

    Anomaly detection:
        contamination: the expected fraction of outliers in the training data, in (0, 0.5]:
            each ``fit`` then sets the anomaly threshold to the ``1 - contamination`` quantile
            of the training data's reconstruction errors, so that :meth:`predict` and
            :meth:`decision_function` apply at once. None (default): no threshold until
            :meth:`fit_threshold` or :attr:`threshold`.

    Text (token models, whose first encoder entry is an ``embedding``):
        vocabulary: a :class:`CharacterVocabulary` turning strings into token ids and back, so
            that fit, encode, reconstruct and decode take and give lists of strings.

    The shared hyperparameters (``spec``, ``input_scaling``, the training settings,
    ``verbose`` and ``warm_start``) are described in :class:`Model`.

    Example::

        model = Autoencoder(hidden=[256, 64], code_size=16, epochs=20, validation_split=0.1)
        codes = model.fit(X).transform(X)
        model.fit_threshold(X_normal, 0.99)
        labels = model.predict(X_new)        # +1 inlier, -1 outlier
    """

    _MODEL_PARAMS = _ARCHITECTURE + ("spec", "input_scaling")
    _DEPRECATED: ClassVar[Dict[str, Tuple[Any, str]]] = {
        **_deprecated(SegmentationMixin, _SEGMENTATION_NAMES, _SEGMENTATION_ONLY),
        **_deprecated(VariationalMixin, _VARIATIONAL_NAMES, _VARIATIONAL_ONLY)}

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
                 verbose: Union[int, str] = "auto", warm_start: bool = False,
                 contamination: Optional[float] = None,
                 vocabulary: Optional[CharacterVocabulary] = None) -> None:
        super().__init__(spec=spec, input_scaling=input_scaling, epochs=epochs,
                         batch_size=batch_size, shuffle=shuffle,
                         validation_split=validation_split, patience=patience,
                         min_delta=min_delta, restore_best_weights=restore_best_weights,
                         verbose=verbose, warm_start=warm_start)
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
        self.contamination = contamination
        self.vocabulary = vocabulary

    #: Works for any model that can decode (see VariationalMixin.interpolate).
    interpolate = VariationalMixin.interpolate

    # ==== Building ===============================================================================

    def _spec_dict(self, input_size: Optional[int]) -> Dict[str, Any]:
        if self._spec is not None:
            defaults = self._defaults()
            changed = [name for name in _ARCHITECTURE
                       if name in defaults and not equal(self._param(name), defaults[name])]
            if changed:
                raise ValueError(f"pass either spec or the architecture arguments, not both "
                                 f"(spec is given, and so is {', '.join(changed)})")
            return as_dict(self._spec)
        if input_size is None:
            raise NotFittedError("the input size is not known before fit: call fit(X), or build "
                                 f"the model with {type(self).__name__}.dense(input_size, ...)")
        return dense_spec(input_size, self.hidden, count(self._code_size, "code_size", 1, WIDTH_MAX),
                          activation=self.activation, code_activation=self.code_activation,
                          output_activation=self.output_activation, loss=self.loss,
                          optimizer=self.optimizer, lr=self.lr, schedule=self.schedule,
                          tied_weights=bool(self.tied_weights), init=self.init,
                          seed=count(self.seed, "seed", 0, JSON_INT_MAX))

    @classmethod
    def _kind_problem(cls, native: NativeModel) -> Optional[str]:
        if native.is_segmentation and cls is Autoencoder:
            import warnings
            warnings.warn("an Autoencoder with a segmentation spec is deprecated and will be "
                          "refused in the next release: use SegmentationNetwork",
                          DeprecationWarning, stacklevel=5)
            return None
        if native.is_variational and issubclass(cls, Autoencoder):
            return None  # a VAE reconstructs its input too
        return super()._kind_problem(native)

    def _build_for_fit(self, X: Any) -> NativeModel:
        if self._spec is not None:
            native = self._build(None)
            try:
                check_vocabulary(native, self.vocabulary)
            except BaseException:
                self._discard()
                raise
            return native
        if isinstance(X, (list, tuple)) and X and isinstance(X[0], str):
            raise ValueError("strings need a text model: build it with "
                             "Autoencoder.text(vocabulary, max_length, ...)")
        if isinstance(X, (list, tuple)) and X and not np.isscalar(X[0]) and np.ndim(X[0]) != 1:
            raise ValueError("sequences need a sequence model: build it with "
                             "Autoencoder.sequence(steps, features, ...) or from a spec "
                             "with \"input_shape\": [T, F]")
        X = as_array(X, "X")
        if X.ndim != 2:
            raise ShapeError(f"X has shape {tuple(X.shape)}; expected (n, features)")
        if X.shape[1] == 0:
            raise ValueError(f"X has 0 feature(s) (shape={tuple(X.shape)}) while a minimum of 1 "
                             "is required.")
        return self._build(count(X.shape[1], "the number of features", 1))

    def _after_fit(self, X: Any, lengths: Any) -> None:
        if self.contamination is None:
            return
        contamination = float(self.contamination)
        if not 0.0 < contamination <= 0.5:
            raise ValueError(f"contamination is {self.contamination!r}; expected a fraction in "
                             "(0, 0.5] or None")
        self.fit_threshold(X, 1.0 - contamination, lengths=lengths)

    # ==== Properties =============================================================================

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
    def can_decode(self) -> bool:
        """Whether :meth:`decode` works (not for decoders that read encoder feature maps)."""
        return self._model().can_decode

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

    # ==== Parameters =============================================================================

    def _param(self, name: str) -> Any:
        if name == "code_size":
            return self._code_size
        return super()._param(name)

    def _store_param(self, name: str, value: Any) -> None:
        if name == "code_size":
            self._code_size = value
        else:
            super()._store_param(name, value)


@register_kind("variational")
class VariationalAutoencoder(Autoencoder, VariationalMixin):
    """A variational autoencoder: an :class:`Autoencoder` whose code is a distribution
    q(z | x), trained on the negative ELBO; it adds :meth:`encode_distribution`,
    :meth:`sample_codes` and :meth:`generate` (new samples from the prior).

    From hyperparameters it is the dense autoencoder of :class:`Autoencoder` whose code layer
    is ``{"type": "variational", "units": code_size, "beta": beta}``; from a spec, the encoder
    ends in such an entry (docs/SPEC.md).

    Args:
        beta: weight of the KL term of the loss (β-VAE); the other arguments are
            :class:`Autoencoder`'s.
    """

    _MODEL_PARAMS = Autoencoder._MODEL_PARAMS + ("beta",)
    _DEPRECATED: ClassVar[Dict[str, Tuple[Any, str]]] = \
        _deprecated(SegmentationMixin, _SEGMENTATION_NAMES, _SEGMENTATION_ONLY)

    def __init__(self, *, hidden: Sequence[int] = (128,), code_size: Optional[int] = 32,
                 beta: float = 1.0, activation: Activation = "relu",
                 output_activation: Activation = None,
                 loss: Union[str, Mapping[str, Any]] = "mse",
                 optimizer: Union[str, Mapping[str, Any]] = "adam", lr: Optional[float] = None,
                 schedule: Union[str, Mapping[str, Any], None] = None,
                 init: Optional[str] = None, seed: int = 0, spec: Optional[SpecLike] = None,
                 input_scaling: Optional[str] = None, epochs: int = 10, batch_size: int = 32,
                 shuffle: bool = True, validation_split: float = 0.0, patience: int = 0,
                 min_delta: float = 0.0, restore_best_weights: bool = True,
                 verbose: Union[int, str] = "auto", warm_start: bool = False,
                 contamination: Optional[float] = None) -> None:
        super().__init__(hidden=hidden, code_size=code_size, activation=activation,
                         output_activation=output_activation, loss=loss, optimizer=optimizer,
                         lr=lr, schedule=schedule, init=init, seed=seed, spec=spec,
                         input_scaling=input_scaling, epochs=epochs, batch_size=batch_size,
                         shuffle=shuffle, validation_split=validation_split, patience=patience,
                         min_delta=min_delta, restore_best_weights=restore_best_weights,
                         verbose=verbose, warm_start=warm_start, contamination=contamination)
        self.beta = beta

    def _spec_dict(self, input_size: Optional[int]) -> Dict[str, Any]:
        if self._spec is not None:
            if not equal(self.beta, 1.0):
                raise ValueError("pass either spec or beta, not both (set the spec's "
                                 "variational entry's \"beta\")")
            return super()._spec_dict(input_size)
        spec = super()._spec_dict(input_size)
        code = spec["encoder"][-1]
        spec["encoder"][-1] = {"type": "variational", "units": code["units"],
                               "beta": float(self.beta)}
        return spec

    @classmethod
    def _kind_problem(cls, native: NativeModel) -> Optional[str]:
        return Model._kind_problem.__func__(cls, native)  # type: ignore[attr-defined]
