"""The builders of an :class:`Autoencoder`: classmethods that create the native model at once
(from dense hyperparameters, a full spec, a model file or its bytes), where ``Autoencoder(...)``
builds it lazily in ``fit``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Sequence, Type, TypeVar, Union

from ._fit import count
from ._params import WIDTH_MAX
from ._native import NativeModel, PathLike
from ._saving import vocabulary_path
from ._sequence_spec import sequence_spec, text_spec
from ._spec import Activation, SpecLike, as_dict, to_json
from ._vocabulary import CharacterVocabulary

__all__ = ["BuildersMixin", "AutoencoderBuildersMixin", "check_vocabulary"]


def check_vocabulary(native: NativeModel, vocabulary: Any) -> None:
    """ValueError unless ``vocabulary`` (when given) fits ``native``: a text model whose
    embedding has as many ids as the vocabulary."""
    if vocabulary is None:
        return
    if not isinstance(vocabulary, CharacterVocabulary):
        raise TypeError(f"vocabulary is {type(vocabulary).__name__}; expected a "
                        "CharacterVocabulary")
    if not native.is_tokens:
        raise ValueError("vocabulary is for text models (an embedding as the first encoder "
                         "entry); this model takes floats")
    if vocabulary.size != native.vocabulary_size:
        raise ValueError(f"vocabulary has {vocabulary.size} ids but the model's embedding has "
                         f"{native.vocabulary_size}; they must match")

_Self = TypeVar("_Self", bound="BuildersMixin")
_Built = TypeVar("_Built", bound="AutoencoderBuildersMixin")


class BuildersMixin:
    """``from_spec``, ``load`` and ``from_bytes`` of every :class:`Model` (the model files that
    ``load`` and ``from_bytes`` read are written by :class:`SavingMixin`); each returns the
    class the model calls for."""

    _native: Optional[NativeModel]

    if TYPE_CHECKING:  # Autoencoder's constructor takes the hyperparameters by keyword
        def __init__(self, **params: Any) -> None: ...

    def _build(self, input_size: Optional[int]) -> NativeModel:  # provided by Autoencoder
        raise NotImplementedError

    @classmethod
    def from_spec(cls: Type[_Self], spec: SpecLike, **training: Any) -> _Self:
        """A model built now from a complete spec (a dict or JSON text; see docs/SPEC.md), of
        the class the spec calls for (``Model.from_spec`` picks any; ``Autoencoder.from_spec``
        of a VAE spec gives a :class:`VariationalAutoencoder`). Keyword arguments are the
        constructor's (training settings, ``vocabulary``, ...).

        Raises :class:`SpecError` naming the JSON path of the first problem, TypeError when the
        spec describes a model of another class (e.g. a segmentation network for
        ``VariationalAutoencoder.from_spec``)."""
        native = NativeModel.create(to_json(as_dict(spec)))
        return cls._adopt(native, training, spec=spec, origin="from_spec")

    @classmethod
    def load(cls: Type[_Self], path: PathLike, key: Optional[bytes] = None, **training: Any) -> _Self:
        """Loads a model file written by :meth:`save` (or by any other binding).

        With ``key``, only a file signed with that key (``save(path, key=...)``) and unchanged
        since is accepted: use it for files from places you do not trust. Without it, the file's
        checksum only guards against accidental corruption.

        A text model's vocabulary is read from ``<path>.vocabulary.json`` when that file exists
        (``vocabulary=`` overrides it).

        Raises :class:`FileError` if it cannot be read (or is not a regular file),
        :class:`FormatError` if it is not a valid model file or its signature does not match."""
        native = NativeModel.load(path, key)
        if native.is_tokens and training.get("vocabulary") is None:
            companion = vocabulary_path(path)
            if os.path.isfile(companion):
                try:
                    training["vocabulary"] = CharacterVocabulary.load(companion)
                except BaseException:
                    native.close()
                    raise
        training.setdefault("warm_start", True)
        return cls._adopt(native, training, origin="load")

    @classmethod
    def from_bytes(cls: Type[_Self], data: Union[bytes, bytearray, memoryview],
                   key: Optional[bytes] = None, **training: Any) -> _Self:
        """A model from the bytes of a model file (as :meth:`to_bytes` returns them); ``key`` as
        in :meth:`load`. Like :meth:`load`, defaults to ``warm_start=True``."""
        training.setdefault("warm_start", True)
        return cls._adopt(NativeModel.from_bytes(data, key), training, origin="from_bytes")

    @classmethod
    def _adopt(cls: Type[_Self], native: NativeModel, training: Dict[str, Any], *,
               spec: Optional[SpecLike] = None, origin: str) -> _Self:
        """An estimator of the class ``native`` calls for (see :func:`model.model_class`)
        holding ``native``; ``native`` is closed when that fails."""
        from .model import model_class
        try:
            target = model_class(cls, native, origin)  # type: ignore[arg-type]
            check_vocabulary(native, training.get("vocabulary"))
            model = target(spec=native.spec if spec is None else spec, **training)
        except BaseException:
            native.close()
            raise
        model._native = native
        return model  # type: ignore[return-value]


class AutoencoderBuildersMixin:
    """``dense``, ``sequence`` and ``text`` of :class:`Autoencoder`: models that reconstruct
    their input, built now."""

    if TYPE_CHECKING:
        def __init__(self, **params: Any) -> None: ...

        def _build(self, input_size: Optional[int]) -> NativeModel: ...

        @classmethod
        def from_spec(cls: Type[_Built], spec: SpecLike, **training: Any) -> _Built: ...

    @classmethod
    def dense(cls: Type[_Built], input_size: int, hidden: Sequence[int] = (128,),
              code_size: int = 32, *,
              activation: Activation = "relu", code_activation: Activation = None,
              output_activation: Activation = None, loss: Union[str, Mapping[str, Any]] = "mse",
              optimizer: Union[str, Mapping[str, Any]] = "adam", lr: Optional[float] = None,
              schedule: Union[str, Mapping[str, Any], None] = None, tied_weights: bool = False,
              init: Optional[str] = None, seed: int = 0, **training: Any) -> _Built:
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
        model._build(count(input_size, "input_size", 1, WIDTH_MAX))
        return model

    @classmethod
    def sequence(cls: Type[_Built], steps: int, features: int, hidden: int = 64, *,
                 cell: str = "lstm", code_size: Optional[int] = None, layers: int = 1,
                 dropout: float = 0.0, code_activation: Activation = None,
                 output_activation: Activation = None, initial_state: bool = False,
                 loss: Union[str, Mapping[str, Any]] = "mse",
                 optimizer: Union[str, Mapping[str, Any]] = "adam", lr: Optional[float] = None,
                 clip_grad_norm: Optional[float] = 1.0, seed: int = 0, **training: Any) -> _Built:
        """The classic recurrent autoencoder of ``[steps, features]`` sequences, built now (see
        :func:`sequence_spec`): ``cell`` ("lstm" or "gru") encoder → last state (the code, of
        ``hidden`` values unless ``code_size`` adds a dense code) → repeat → ``cell`` decoder →
        a dense layer of ``features`` at every step (``initial_state=True``: the decoder also
        starts from the code). Further keyword arguments are the training defaults of the
        constructor (``epochs=``, ``batch_size=``, ...).

        Example: ``Autoencoder.sequence(50, 32, hidden=64, epochs=20)`` then
        ``fit(X, lengths=lengths)`` on ``X`` of shape ``(n, 50, 32)``."""
        spec = sequence_spec(steps, features, hidden, cell=cell, code_size=code_size,
                             layers=layers, dropout=dropout, code_activation=code_activation,
                             output_activation=output_activation,
                             initial_state=initial_state, loss=loss,
                             optimizer=optimizer, lr=lr, clip_grad_norm=clip_grad_norm,
                             seed=seed)
        return cls.from_spec(spec, **training)

    @classmethod
    def text(cls: Type[_Built], vocabulary: CharacterVocabulary, max_length: int, *,
             embedding_size: int = 16, hidden: int = 64, cell: str = "gru",
             code_size: Optional[int] = None, layers: int = 1, dropout: float = 0.0,
             code_activation: Activation = None, initial_state: bool = True,
             optimizer: Union[str, Mapping[str, Any]] = "adam", lr: Optional[float] = 0.005,
             clip_grad_norm: Optional[float] = 1.0, seed: int = 0, **training: Any) -> _Built:
        """A character-level text autoencoder for strings of up to ``max_length`` characters
        over a fitted ``vocabulary`` (see :func:`text_spec`), built now with the vocabulary set,
        so that fit, encode, reconstruct, score and decode take and give strings. Further
        keyword arguments are the training defaults of the constructor.

        Example::

            vocabulary = CharacterVocabulary().fit(words)
            model = Autoencoder.text(vocabulary, max_length=12, epochs=30, verbose=0)
            model.fit(words)
            model.reconstruct(["house"])         # ['house'] once trained
        """
        if not isinstance(vocabulary, CharacterVocabulary):
            raise TypeError(f"vocabulary is {type(vocabulary).__name__}; expected a fitted "
                            "CharacterVocabulary")
        spec = text_spec(vocabulary, max_length, embedding_size=embedding_size, hidden=hidden,
                         cell=cell, code_size=code_size, layers=layers, dropout=dropout,
                         code_activation=code_activation, initial_state=initial_state,
                         optimizer=optimizer, lr=lr,
                         clip_grad_norm=clip_grad_norm, seed=seed)
        return cls.from_spec(spec, vocabulary=vocabulary, **training)

