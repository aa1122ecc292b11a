"""Turning user arrays into what the C functions take: C-contiguous float32 matrices.

A float32, C-contiguous, aligned array is passed to the library as it is (no copy: the pointer
the library receives is ``X.ctypes.data``); any other real dtype or layout is converted.
Complex, object, string and date arrays, wrong shapes and empty batches raise before any C call.
"""

from __future__ import annotations

from typing import Any, Sequence, Tuple

import numpy as np

from . import _library
from ._errors import ShapeError

#: dtype kinds converted to float32: booleans, signed and unsigned integers, floats.
_REAL_KINDS = "biuf"


def _describe_expected(sample_shape: Sequence[int], size: int, leading: str = "n") -> str:
    flat = f"({leading}, {size})"
    if len(sample_shape) > 1:
        return f"({leading}, {', '.join(str(d) for d in sample_shape)}) or {flat}"
    return flat


def as_array(values: Any, name: str) -> np.ndarray:
    """``values`` as a numpy array of a real dtype (not yet float32); TypeError otherwise."""
    if values is None:
        raise TypeError(f"{name} is None; expected an array of numbers")
    if hasattr(values, "tocsr") or hasattr(values, "todense"):  # scipy.sparse, without importing it
        raise TypeError(f"{name} is a sparse matrix; sparse input is not supported: pass "
                        f"{name}.toarray()")
    try:
        array = np.asarray(values)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{name} cannot be converted to a numeric array: {error}") from None
    if array.dtype.kind not in _REAL_KINDS:
        kind = "complex numbers" if array.dtype.kind == "c" else f"dtype {array.dtype}"
        raise TypeError(f"{name} holds {kind}; expected real numbers (float32, or any integer or "
                        "float dtype, which is converted to float32)")
    return array


def as_float32(array: np.ndarray) -> np.ndarray:
    """``array`` itself when it is float32, C-contiguous and aligned; else a converted copy."""
    return np.require(array, dtype=np.float32, requirements=("C_CONTIGUOUS", "ALIGNED"))


def as_samples(values: Any, name: str, sample_shape: Sequence[int],
               size: int) -> Tuple[np.ndarray, Tuple[int, ...]]:
    """A batch of samples as a float32 C-contiguous matrix ``(n, size)``.

    Accepts ``(n, size)``, or ``(n, *sample_shape)`` for models whose samples have several
    dimensions. Returns the matrix (a view of ``values`` when no conversion was needed) and the
    per-sample shape the caller used, so outputs can be given back in the same layout.
    """
    array = as_array(values, name)
    sample_shape = tuple(int(d) for d in sample_shape)
    if array.ndim == 2 and array.shape[1] == size:
        used = (size,)
    elif array.ndim == 1 + len(sample_shape) and tuple(array.shape[1:]) == sample_shape:
        used = sample_shape
    else:
        hint = ""
        if array.ndim == 1 and array.shape[0] == size:
            hint = f". Reshape your data: {name}.reshape(1, -1) for a single sample"
        raise ShapeError(f"{name} has shape {tuple(array.shape)}; expected "
                         f"{_describe_expected(sample_shape, size)}{hint}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(array.shape)}); expected at least one "
                         "sample")
    matrix = as_float32(array).reshape(array.shape[0], size)
    return matrix, used


def as_vector(values: Any, name: str, size: int) -> np.ndarray:
    """A float32 vector of ``size`` elements; a scalar is repeated ``size`` times."""
    array = as_array(values, name)
    if array.ndim == 0:
        return np.full(size, array, dtype=np.float32)
    if array.shape != (size,):
        raise ShapeError(f"{name} has shape {tuple(array.shape)}; expected ({size},) or a scalar")
    return as_float32(array)


def float_pointer(array: np.ndarray) -> Any:
    """A ``float *`` to the data of a float32 C-contiguous array (no copy)."""
    return array.ctypes.data_as(_library.FloatPointer)
