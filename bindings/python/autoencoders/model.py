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
from typing import Any, Callable, ClassVar, Dict, Mapping, Optional, Tuple, Type, Union

from ._builders import BuildersMixin
from ._errors import NotFittedError, SpecError
from ._fit import ProgressCallback, TrainReport
from ._fitting import FittingMixin
from ._inference import EncodingMixin
from ._int8 import Int8Mixin
from ._native import NativeModel
from ._params import ParamsMixin
from ._saving import SavingMixin
from ._sklearn import SklearnMixin
from ._spec import SpecLike, as_dict, to_json
from ._weights import WeightsMixin

__all__ = ["Model", "Autoencoder", "VariationalAutoencoder", "SegmentationNetwork", "AdversarialAutoencoder",
           "TrainReport", "ProgressCallback", "register_kind", "kind_of"]

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
    if native.is_adversarial:
        return "adversarial"
    return "variational" if native.is_variational else "reconstruction"


class Model(ParamsMixin, BuildersMixin, FittingMixin, WeightsMixin, SklearnMixin, SavingMixin,
            EncodingMixin, Int8Mixin):
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
                        strict: bool = True) -> "Model":
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
                        **training: Any) -> "Model":
        """A model built from ``spec`` with the parameters of a PyTorch ``state_dict`` (see
        :meth:`load_state_dict`), of the class the spec calls for (as :meth:`from_spec`)."""
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
from ._adversarial_autoencoder import AdversarialAutoencoder  # noqa: E402
