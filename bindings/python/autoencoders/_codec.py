"""Compression: a model with a quantiser is a lossy codec (include/autoencoders.h, "Compression").

:meth:`CodecMixin.fit_quantizer` learns, on training data, a per-dimension scale and zero point
that map each code value to one of 2**bits levels (4 to 8 bits), and a per-dimension histogram
of those levels; both are kept in the model file. :meth:`CodecMixin.compress` quantises the
codes of samples and range-codes them with the histograms into a checksummed container that
names the model it needs; :meth:`CodecMixin.decompress` gives the decoder's output of the
dequantised codes. A truncated or corrupted file, or one made by another model (or by this one
before its weights or quantiser changed), raises :class:`FormatError`.
"""

from __future__ import annotations

import ctypes
import os
from ctypes import byref, c_int, c_size_t, c_void_p
from typing import Any, Optional, Union

import numpy as np

from ._arrays import as_samples, float_pointer
from ._errors import check
from ._library import lib
from ._native import NativeModel

__all__ = ["CodecMixin"]

PathOrBytes = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]"]


def quantizer_bits(native: NativeModel) -> Optional[int]:
    bits = c_int()
    with native.handle.borrow() as m:
        check(lib.ae_model_quantizer_bits(m, byref(bits)))
    return bits.value or None


def fit_quantizer(native: NativeModel, X: Any, bits: int) -> None:
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 4 <= int(bits) <= 8:
        raise ValueError(f"bits is {bits!r}; expected an integer from 4 to 8")
    data = as_samples(X, "X", native.input_shape, native.input_size)[0]
    with native.handle.borrow() as m:
        check(lib.ae_model_fit_quantizer(m, float_pointer(data), data.shape[0], data.size, int(bits)))


def compress(native: NativeModel, X: Any) -> bytes:
    data = as_samples(X, "X", native.input_shape, native.input_size)[0]
    buffer, size = c_void_p(), c_size_t()
    with native.handle.borrow() as m:
        check(lib.ae_model_compress(m, float_pointer(data), data.shape[0], data.size, byref(buffer), byref(size)))
    try:
        return ctypes.string_at(buffer.value, size.value) if buffer.value and size.value else b""
    finally:
        lib.ae_free(buffer)


def decompress(native: NativeModel, data: bytes) -> np.ndarray:
    raw = ctypes.create_string_buffer(bytes(data), len(data)) if data else ctypes.create_string_buffer(1)
    n, count = c_size_t(), c_size_t()
    with native.handle.borrow() as m:
        check(lib.ae_model_compressed_info(m, raw, len(data), byref(n), byref(count)))
        out = np.empty((n.value, native.input_size), dtype=np.float32)
        check(lib.ae_model_decompress(m, raw, len(data), float_pointer(out), count.value))
    return out.reshape((n.value,) + tuple(native.input_shape))


class CodecMixin:
    """Compression methods of :class:`~autoencoders.Autoencoder` (see the module's docstring);
    the estimator provides ``_model()``, its native model."""

    _model: Any

    def fit_quantizer(self, X: Any, bits: int = 8) -> Any:
        """Fits the quantiser compression needs on training samples ``X`` (``bits`` per code
        value, 4 to 8) and returns ``self``. It replaces any quantiser the model had (files
        compressed before can then no longer be decompressed)."""
        fit_quantizer(self._model(), X, bits)
        return self

    @property
    def quantizer_bits(self) -> Optional[int]:
        """Bits per code value of the model's quantiser, or None when it has none."""
        return quantizer_bits(self._model())

    def compress(self, X: Any, path: Optional[Union[str, "os.PathLike[str]"]] = None) -> bytes:
        """The compressed bytes of samples ``X`` (written to ``path`` too when given). Raises
        :class:`UnsupportedError` when the model has no quantiser (see :meth:`fit_quantizer`)."""
        data = compress(self._model(), X)
        if path is not None:
            with open(path, "wb") as f:
                f.write(data)
        return data

    def decompress(self, data: PathOrBytes) -> np.ndarray:
        """Decodes what :meth:`compress` wrote (bytes, or a path to a file) with this same model:
        the reconstructions, shaped ``(n, *input_shape)``."""
        if isinstance(data, (str, os.PathLike)):
            with open(data, "rb") as f:
                data = f.read()
        return decompress(self._model(), bytes(data))
