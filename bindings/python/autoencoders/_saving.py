"""Saving an :class:`Autoencoder`: the model file on disk or in memory, and pickling (through
the model file's bytes, optimizer state included)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from ._native import NativeModel, PathLike

__all__ = ["SavingMixin"]


class SavingMixin:
    """``save``, ``to_bytes`` and the pickle protocol of :class:`Autoencoder` (its builders
    ``load`` and ``from_bytes`` read what these write)."""

    _native: Optional[NativeModel]
    _closed: bool

    def _model(self) -> NativeModel:  # provided by Autoencoder
        raise NotImplementedError

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
