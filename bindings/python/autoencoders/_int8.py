"""int8 inference (include/autoencoders.h, "int8 inference").

:meth:`Int8Mixin.quantize_int8` returns a *new*, inference-only estimator whose dense and
convolutional weights are quantised to 8 bits per output row (symmetric), with their inputs
quantised to unsigned 8 bits either per sample (dynamic, the default) or with fixed ranges
calibrated on ``X_calibration``. The original estimator is not changed (as scikit-learn
transformers leave their inputs alone); the copy answers ``transform``, ``inverse_transform``,
``reconstruct``, ``score_samples``, ``predict``, ``compress`` and ``save`` as usual, and raises
:class:`UnsupportedError` on ``fit``/``partial_fit``. Layers with weights but no int8 path (tied
dense decoders, transposed convolutions, recurrent and time-distributed layers) stay in float,
unless ``require_all=True`` asks for an error naming the layer; ``keep_float`` leaves chosen
quantisable layers in float as well.
"""

from __future__ import annotations

from ctypes import byref, c_char_p, c_int, c_size_t
from typing import Any, Dict, Optional, Sequence

from . import _library
from ._arrays import as_samples, float_pointer
from ._errors import check
from ._library import lib
from ._native import NativeModel

__all__ = ["Int8Mixin", "int8_kernel", "set_int8_kernel"]

#: ``ae_model_quantize_int8_keeping``'s flag.
REQUIRE_ALL = 1


def int8_kernel() -> str:
    """The int8 GEMM kernel in use: "avx512vnni", "avx2" or "portable"."""
    return (lib.ae_int8_kernel_name() or b"").decode("ascii")


def set_int8_kernel(name: str) -> None:
    """Selects the int8 kernel ("auto", "avx512vnni", "avx2", "portable"), process-wide.
    Raises :class:`UnsupportedError`, with the reason, for one this CPU cannot run."""
    check(lib.ae_set_int8_kernel(str(name).encode("utf-8")))


def int8_info(native: NativeModel) -> Dict[str, Any]:
    quantized, fallback, calibrated = c_size_t(), c_size_t(), c_int()
    with native.handle.borrow() as m:
        check(lib.ae_model_int8_info(m, byref(quantized), byref(fallback), byref(calibrated)))
    return {"quantized_layers": quantized.value, "fallback_layers": fallback.value,
            "calibrated": bool(calibrated.value)}


class Int8Mixin:
    """``quantize_int8`` and ``is_int8`` of every estimator (see the module's docstring)."""

    _model: Any

    def quantize_int8(self, X_calibration: Any = None, *, require_all: bool = False,
                      keep_float: Sequence[str] = ()) -> Any:
        """A new inference-only estimator of the same class with int8 weights (this one is
        unchanged). ``X_calibration``: samples (raw, like the training data) that fix each int8
        layer's input range; None for dynamic, per-sample ranges. ``keep_float``: names of dense
        or convolutional layers to leave in float (as ONNX Runtime's ``nodes_to_exclude``; the
        names before ".weight" in :meth:`parameter_names`, e.g. ``"decoder.0"``), such as the
        decoder layer reading a small code. Raises :class:`UnsupportedError` for a model that is
        int8 already, has no dense or convolutional layer, or -- with ``require_all`` -- has a
        layer without an int8 path; :class:`InvalidArgumentError` for a name in ``keep_float``
        that is not such a layer (the message lists them)."""
        native = self._model()
        out = _library.ModelPointer()
        flags = REQUIRE_ALL if require_all else 0
        if isinstance(keep_float, (str, bytes)):
            keep_float = [keep_float]  # type: ignore[list-item]
        names = [str(name).encode("utf-8") for name in keep_float]
        layers = (c_char_p * max(len(names), 1))(*names)
        with native.handle.borrow() as m:
            if X_calibration is None:
                check(lib.ae_model_quantize_int8_keeping(m, None, 0, 0, flags, layers, len(names), byref(out)))
            else:
                data = as_samples(X_calibration, "X_calibration", native.input_shape, native.input_size)[0]
                check(lib.ae_model_quantize_int8_keeping(m, float_pointer(data), data.shape[0], data.size, flags,
                                                         layers, len(names), byref(out)))
        training: Dict[str, Any] = {"warm_start": True}
        vocabulary: Optional[Any] = getattr(self, "vocabulary", None)
        if vocabulary is not None:
            training["vocabulary"] = vocabulary
        return type(self)._adopt(NativeModel(out), training, origin="from_bytes")  # type: ignore[attr-defined]

    @property
    def is_int8(self) -> bool:
        """Whether this is an int8 (inference-only) model."""
        flag = c_int()
        native = self._model()
        with native.handle.borrow() as m:
            check(lib.ae_model_is_int8(m, byref(flag)))
        return bool(flag.value)

    def int8_info(self) -> Dict[str, Any]:
        """For an int8 model: ``quantized_layers``, ``fallback_layers`` (run in float) and
        ``calibrated``; zeros and False for a float model."""
        return int8_info(self._model())
