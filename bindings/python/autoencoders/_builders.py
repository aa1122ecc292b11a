"""The builders of an :class:`Autoencoder`: classmethods that create the native model at once
(from dense hyperparameters, a full spec, a model file or its bytes), where ``Autoencoder(...)``
builds it lazily in ``fit``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Sequence, Type, TypeVar, Union

from ._fit import count
from ._params import WIDTH_MAX
from ._native import NativeModel, PathLike
from ._spec import Activation, SpecLike

__all__ = ["BuildersMixin"]

_Self = TypeVar("_Self", bound="BuildersMixin")


class BuildersMixin:
    """``dense``, ``from_spec``, ``load`` and ``from_bytes`` of :class:`Autoencoder` (the model
    files that ``load`` and ``from_bytes`` read are written by :class:`SavingMixin`)."""

    _native: Optional[NativeModel]

    if TYPE_CHECKING:  # Autoencoder's constructor takes the hyperparameters by keyword
        def __init__(self, **params: Any) -> None: ...

    def _build(self, input_size: Optional[int]) -> NativeModel:  # provided by Autoencoder
        raise NotImplementedError

    @classmethod
    def dense(cls: Type[_Self], input_size: int, hidden: Sequence[int] = (128,),
              code_size: int = 32, *,
              activation: Activation = "relu", code_activation: Activation = None,
              output_activation: Activation = None, loss: Union[str, Mapping[str, Any]] = "mse",
              optimizer: Union[str, Mapping[str, Any]] = "adam", lr: Optional[float] = None,
              schedule: Union[str, Mapping[str, Any], None] = None, tied_weights: bool = False,
              init: Optional[str] = None, seed: int = 0, **training: Any) -> _Self:
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
    def from_spec(cls: Type[_Self], spec: SpecLike, **training: Any) -> _Self:
        """A model built now from a complete spec (a dict or JSON text; see docs/SPEC.md).

        Raises :class:`SpecError` naming the JSON path of the first problem."""
        model = cls(spec=spec, **training)
        model._build(None)
        return model

    @classmethod
    def load(cls: Type[_Self], path: PathLike, key: Optional[bytes] = None, **training: Any) -> _Self:
        """Loads a model file written by :meth:`save` (or by any other binding).

        With ``key``, only a file signed with that key (``save(path, key=...)``) and unchanged
        since is accepted: use it for files from places you do not trust. Without it, the file's
        checksum only guards against accidental corruption.

        Raises :class:`FileError` if it cannot be read (or is not a regular file),
        :class:`FormatError` if it is not a valid model file or its signature does not match."""
        return cls._adopt(NativeModel.load(path, key), training)

    @classmethod
    def from_bytes(cls: Type[_Self], data: Union[bytes, bytearray, memoryview],
                   key: Optional[bytes] = None, **training: Any) -> _Self:
        """A model from the bytes of a model file (as :meth:`to_bytes` returns them); ``key`` as
        in :meth:`load`."""
        return cls._adopt(NativeModel.from_bytes(data, key), training)

    @classmethod
    def _adopt(cls: Type[_Self], native: NativeModel, training: Dict[str, Any]) -> _Self:
        try:
            model = cls(spec=native.spec, **training)
        except BaseException:
            native.close()
            raise
        model._native = native
        return model
