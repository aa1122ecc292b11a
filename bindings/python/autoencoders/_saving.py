"""Saving an :class:`Autoencoder`: the model file on disk or in memory, and pickling (through
the model file's bytes, optimizer state included)."""

from __future__ import annotations

import os
from typing import Any, Dict, Optional

from ._native import KeyLike, NativeModel, PathLike

__all__ = ["SavingMixin", "vocabulary_path"]

#: What a text model's vocabulary file adds to the model file's path.
VOCABULARY_SUFFIX = ".vocabulary.json"


def vocabulary_path(path: PathLike) -> str:
    """Where :meth:`SavingMixin.save` keeps the vocabulary of the model saved at ``path``."""
    return os.fsdecode(os.fspath(path)) + VOCABULARY_SUFFIX


class SavingMixin:
    """``save``, ``to_bytes`` and the pickle protocol of :class:`Autoencoder` (its builders
    ``load`` and ``from_bytes`` read what these write)."""

    _native: Optional[NativeModel]
    _closed: bool

    def _model(self) -> NativeModel:  # provided by Autoencoder
        raise NotImplementedError

    def save(self, path: PathLike, include_optimizer_state: bool = True,
             key: Optional[KeyLike] = None) -> None:
        """Saves the model file (spec, weights, input scaling, training state and, by default,
        the optimizer state so that training resumes exactly). Atomic: a failure never leaves a
        half-written file. Only a regular file (or nothing) at ``path`` is replaced.

        With ``key`` (bytes, e.g. ``os.urandom(32)`` kept secret), the file is signed with
        HMAC-SHA256, and ``Autoencoder.load(path, key=key)`` accepts only files signed with that
        key and unchanged since.

        Raises :class:`FileError` if the path cannot be written (or is a directory, FIFO,
        device or symbolic link), :class:`InvalidArgumentError` for a path holding a NUL byte or
        an empty key.

        A text model's :attr:`vocabulary` is written beside the model file, as
        ``<path>.vocabulary.json`` (:func:`vocabulary_path`; the model file has no place for
        it), where :meth:`load` finds it (a text model without a vocabulary removes such a
        file left by an earlier save). That file is not covered by the signature."""
        native = self._model()
        native.save(path, include_optimizer_state, key)
        if native.is_tokens:
            vocabulary = getattr(self, "vocabulary", None)
            companion = vocabulary_path(path)
            if vocabulary is not None:
                vocabulary.save(companion)
            elif os.path.isfile(companion):  # never pair the model with an earlier save's
                os.remove(companion)

    def to_bytes(self, include_optimizer_state: bool = True, key: Optional[KeyLike] = None) -> bytes:
        """The bytes of the model file (what :meth:`save` would write; signed with ``key``).
        A text model's vocabulary is not in them: pass it to ``from_bytes(data,
        vocabulary=...)`` (pickling keeps it)."""
        return self._model().to_bytes(include_optimizer_state, key)

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
