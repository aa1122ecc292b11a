"""Turning user arrays into what the C functions take: C-contiguous float32 matrices.

A float32, C-contiguous, aligned array is passed to the library as it is (no copy: the pointer
the library receives is ``X.ctypes.data``); any other real dtype or layout is converted.
Complex, object, string and date arrays, wrong shapes and empty batches raise before any C call.
"""

from __future__ import annotations

from typing import Any, List, Sequence, Tuple

import numpy as np

from . import _library
from ._errors import ShapeError

#: dtype kinds converted to float32: booleans, signed and unsigned integers, floats.
_REAL_KINDS = "biuf"


def sample_layouts(sample_shape: Sequence[int], size: int) -> List[Tuple[int, ...]]:
    """The per-sample shapes a batch may have: ``sample_shape`` itself, the flat ``(size,)``,
    and, for single-channel images (``(1, H, W)``), ``(H, W)`` without the channel axis."""
    sample_shape = tuple(int(d) for d in sample_shape)
    layouts = [sample_shape]
    if len(sample_shape) > 2 and sample_shape[0] == 1:
        layouts.append(sample_shape[1:])
    if (size,) not in layouts:
        layouts.append((size,))
    return layouts


def describe_layouts(layouts: Sequence[Tuple[int, ...]], leading: str = "n") -> str:
    """``"(n, 1, 28, 28), (n, 28, 28) or (n, 784)"``."""
    texts = [f"({', '.join([leading] + [str(d) for d in layout])})" for layout in layouts]
    return texts[0] if len(texts) == 1 else f"{', '.join(texts[:-1])} or {texts[-1]}"


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
    if array.dtype.kind == "O":  # numbers held as Python objects (pandas, object arrays)
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{name} holds dtype object with elements that are not numbers "
                            f"({error})") from None
    if array.dtype.kind == "c":
        raise ComplexDataError(f"{name} holds complex numbers; expected real numbers (Complex "
                               "data not supported)")
    if array.dtype.kind not in _REAL_KINDS:
        raise TypeError(f"{name} holds dtype {array.dtype}; expected real numbers (float32, or "
                        "any integer or float dtype, which is converted to float32)")
    return array


class ComplexDataError(TypeError, ValueError):
    """Complex input: a TypeError (the dtype is wrong) that scikit-learn's checks, which
    expect a ValueError, also recognise."""


def as_float32(array: np.ndarray) -> np.ndarray:
    """``array`` itself when it is float32, C-contiguous and aligned; else a converted copy."""
    return np.require(array, dtype=np.float32, requirements=("C_CONTIGUOUS", "ALIGNED"))


def as_samples(values: Any, name: str, sample_shape: Sequence[int],
               size: int) -> Tuple[np.ndarray, Tuple[int, ...]]:
    """A batch of samples as a float32 C-contiguous matrix ``(n, size)``.

    Accepts ``(n, size)``, ``(n, *sample_shape)`` for models whose samples have several
    dimensions, and ``(n, H, W)`` for single-channel images of shape ``(1, H, W)`` (see
    :func:`sample_layouts`). Returns the matrix (a view of ``values`` when no conversion was
    needed) and the per-sample shape the caller used.
    """
    array = as_array(values, name)
    layouts = sample_layouts(sample_shape, size)
    used = tuple(int(d) for d in array.shape[1:])
    if array.ndim < 2 or used not in layouts:
        hint = ""
        if array.ndim == 1 and array.shape[0] == size:
            hint = f". Reshape your data: {name}.reshape(1, -1) for a single sample"
        raise ShapeError(f"{name} has shape {tuple(array.shape)}; expected "
                         f"{describe_layouts(layouts)}{hint}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(array.shape)}); expected at least one "
                         "sample")
    matrix = as_float32(array).reshape(array.shape[0], size)
    return matrix, used


def as_mask(values: Any, data: np.ndarray, sample_shape: Sequence[int], size: int) -> np.ndarray:
    """A mask for the samples ``data`` (1 known, 0 missing) as a float32 matrix of its shape."""
    matrix, _ = as_samples(values, "mask", sample_shape, size)
    if matrix.shape[0] != data.shape[0]:
        raise ShapeError(f"mask has {matrix.shape[0]} samples but the data has "
                         f"{data.shape[0]}; expected one mask value per input")
    return matrix


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


def int32_pointer(array: np.ndarray) -> Any:
    """An ``int32_t *`` to the data of an int32 C-contiguous array (no copy)."""
    return array.ctypes.data_as(_library.Int32Pointer)
