"""The sequence and token calls of :class:`NativeModel`: thin methods over the ``_sequences`` and
``_tokens`` functions of the C ABI (include/autoencoders.h, "Sequences").

Arguments arrive validated: float32 ``(n, T*F)`` or int32 ``(n, T)`` C-contiguous matrices and
int32 ``(n,)`` lengths, or None for "every sample fills T steps" (NULL with a count of 0). These
functions were added after library 0.1.0; a library without them raises
:class:`UnsupportedError` here, at the call, instead of refusing to load.
"""

from __future__ import annotations

from ctypes import byref, c_double, c_int, c_size_t
from typing import Any, Dict, Optional, Tuple

import numpy as np

from . import _library
from ._arrays import float_pointer, int32_pointer
from ._errors import UnsupportedError, check
from ._handle import Handle
from ._library import lib

__all__ = ["SequenceCalls", "sequence_description"]


def require(name: str) -> None:
    """Raises :class:`UnsupportedError` when the loaded library does not export ``name``."""
    if not _library.has(name):
        raise UnsupportedError(f"{name}: the library at {_library.path} predates sequence models "
                               "(variable lengths and token input); rebuild it with `make library`")


def _recurrent(spec: Dict[str, Any]) -> bool:
    """Whether a spec has a recurrent layer (the library's rule for a sequence model, with an
    input shape [T, F])."""
    entries = [entry for part in ("encoder", "decoder") for entry in spec.get(part) or []]
    return any(isinstance(entry, dict) and entry.get("type") in ("lstm", "gru")
               for entry in entries)


def sequence_description(handle: Handle, input_shape: Tuple[int, ...],
                         spec: Dict[str, Any]) -> Tuple[int, int, bool, int]:
    """``(steps, features, is_sequence, vocabulary_size)`` of a model: T and F of a sequence
    model's ``[T, F]`` input (F is 1 for a token model), and V for a token model (else 0). With a
    library that predates these queries, read from the input shape and the spec (such a library
    has no token models; its sequence models take no lengths, which then raise
    UnsupportedError)."""
    if not (_library.has("ae_model_sequence_shape") and _library.has("ae_model_vocabulary_size")):
        if len(input_shape) == 2 and _recurrent(spec):
            return input_shape[0], input_shape[1], True, 0
        return 0, 0, False, 0
    steps, features, flag, vocabulary = c_size_t(), c_size_t(), c_int(), c_size_t()
    with handle.borrow() as m:
        check(lib.ae_model_sequence_shape(m, byref(steps), byref(features), byref(flag)))
        check(lib.ae_model_vocabulary_size(m, byref(vocabulary)))
    return int(steps.value), int(features.value), bool(flag.value), int(vocabulary.value)


def _lengths(lengths: Optional[np.ndarray]) -> Tuple[Any, int]:
    """The ``lengths`` pointer and count: NULL and 0 for None."""
    if lengths is None:
        return None, 0
    return int32_pointer(lengths), lengths.size


class SequenceCalls:
    """Mixed into :class:`NativeModel`, which provides the attributes below."""

    __slots__ = ()

    handle: Handle
    code_size: int
    steps: int

    # ---- Float sequences: data float32 (n, T*F) ----

    def encode_sequences(self, data: np.ndarray, lengths: Optional[np.ndarray]) -> np.ndarray:
        """``ae_model_encode_sequences``: codes ``(n, code_size)``."""
        require("ae_model_encode_sequences")
        code = np.empty((data.shape[0], self.code_size), dtype=np.float32)
        pointer, count = _lengths(lengths)
        with self.handle.borrow() as m:
            check(lib.ae_model_encode_sequences(m, float_pointer(data), pointer, data.shape[0],
                                                data.size, count, float_pointer(code), code.size))
        return code

    def reconstruct_sequences(self, data: np.ndarray,
                              lengths: Optional[np.ndarray]) -> np.ndarray:
        """``ae_model_reconstruct_sequences``: ``data``'s shape, padded steps 0."""
        require("ae_model_reconstruct_sequences")
        output = np.empty_like(data)
        pointer, count = _lengths(lengths)
        with self.handle.borrow() as m:
            check(lib.ae_model_reconstruct_sequences(m, float_pointer(data), pointer,
                                                     data.shape[0], data.size, count,
                                                     float_pointer(output), output.size))
        return output

    def score_sequences(self, data: np.ndarray, lengths: Optional[np.ndarray]) -> np.ndarray:
        """``ae_model_score_sequences``: ``(n,)`` mean squared errors over the valid steps."""
        require("ae_model_score_sequences")
        scores = np.empty(data.shape[0], dtype=np.float32)
        pointer, count = _lengths(lengths)
        with self.handle.borrow() as m:
            check(lib.ae_model_score_sequences(m, float_pointer(data), pointer, data.shape[0],
                                               data.size, count, float_pointer(scores),
                                               scores.size))
        return scores

    def evaluate_sequences(self, data: np.ndarray, lengths: Optional[np.ndarray]) -> float:
        """``ae_model_evaluate_sequences``: the mean objective."""
        require("ae_model_evaluate_sequences")
        loss = c_double()
        pointer, count = _lengths(lengths)
        with self.handle.borrow() as m:
            check(lib.ae_model_evaluate_sequences(m, float_pointer(data), pointer, data.shape[0],
                                                  data.size, count, byref(loss)))
        return float(loss.value)

    # ---- Tokens: int32 (n, T) ids ----

    def encode_tokens(self, tokens: np.ndarray, lengths: Optional[np.ndarray]) -> np.ndarray:
        """``ae_model_encode_tokens``: codes ``(n, code_size)``."""
        require("ae_model_encode_tokens")
        code = np.empty((tokens.shape[0], self.code_size), dtype=np.float32)
        pointer, count = _lengths(lengths)
        with self.handle.borrow() as m:
            check(lib.ae_model_encode_tokens(m, int32_pointer(tokens), pointer, tokens.shape[0],
                                             tokens.size, count, float_pointer(code), code.size))
        return code

    def reconstruct_tokens(self, tokens: np.ndarray,
                           lengths: Optional[np.ndarray]) -> np.ndarray:
        """``ae_model_reconstruct_tokens``: the most likely id per step ``(n, T)``, padded steps
        holding the padding id."""
        require("ae_model_reconstruct_tokens")
        output = np.empty_like(tokens)
        pointer, count = _lengths(lengths)
        with self.handle.borrow() as m:
            check(lib.ae_model_reconstruct_tokens(m, int32_pointer(tokens), pointer,
                                                  tokens.shape[0], tokens.size, count,
                                                  int32_pointer(output), output.size))
        return output

    def decode_tokens(self, code: np.ndarray) -> np.ndarray:
        """``ae_model_decode_tokens``: the most likely id per step ``(n, T)`` from codes."""
        require("ae_model_decode_tokens")
        output = np.empty((code.shape[0], self.steps), dtype=np.int32)
        with self.handle.borrow() as m:
            check(lib.ae_model_decode_tokens(m, float_pointer(code), code.shape[0], code.size,
                                             int32_pointer(output), output.size))
        return output

    def score_tokens(self, tokens: np.ndarray, lengths: Optional[np.ndarray]) -> np.ndarray:
        """``ae_model_score_tokens``: ``(n,)`` mean cross-entropies over the counted steps."""
        require("ae_model_score_tokens")
        scores = np.empty(tokens.shape[0], dtype=np.float32)
        pointer, count = _lengths(lengths)
        with self.handle.borrow() as m:
            check(lib.ae_model_score_tokens(m, int32_pointer(tokens), pointer, tokens.shape[0],
                                            tokens.size, count, float_pointer(scores),
                                            scores.size))
        return scores

    def evaluate_tokens(self, tokens: np.ndarray, lengths: Optional[np.ndarray]) -> float:
        """``ae_model_evaluate_tokens``: the mean sequence cross-entropy."""
        require("ae_model_evaluate_tokens")
        loss = c_double()
        pointer, count = _lengths(lengths)
        with self.handle.borrow() as m:
            check(lib.ae_model_evaluate_tokens(m, int32_pointer(tokens), pointer, tokens.shape[0],
                                               tokens.size, count, byref(loss)))
        return float(loss.value)

    def train_tokens(self, tokens: np.ndarray, lengths: Optional[np.ndarray],
                     options: "_library.ae_train_options",
                     report: "_library.ae_train_report") -> int:
        """``ae_model_train_tokens``; returns the status (the caller raises after clean-up)."""
        require("ae_model_train_tokens")
        pointer, count = _lengths(lengths)
        with self.handle.borrow() as m:
            return int(lib.ae_model_train_tokens(m, int32_pointer(tokens), tokens.shape[0],
                                                 tokens.size, pointer, count, byref(options),
                                                 byref(report)))
