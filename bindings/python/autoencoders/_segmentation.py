"""Segmentation models (spec ``"loss": "cross_entropy"``): integer labels in, label maps out.

A segmentation model outputs one logit per class at every position of its input (``[classes]``
plus the input's spatial shape). It trains against a class label per position, and
:meth:`SegmentationMixin.segment` returns the most likely class of each. Labels arrive as
``(n, *label_shape)`` or flat ``(n, label_size)`` arrays of integers (or of integral floats, or
booleans) and go to the library as int32 C-contiguous matrices; the library checks that every
label is a class or the spec's ``ignore_index``.
"""

from __future__ import annotations

import math
from typing import Any, List, Mapping, Optional, Tuple

import numpy as np

from ._arrays import as_samples, describe_layouts
from ._errors import InvalidArgumentError, NumericError, ShapeError, UnsupportedError
from ._native import NativeModel

__all__ = ["SegmentationMixin", "as_labels", "check_classes", "ignore_index", "hold_out",
           "require_reconstruction", "require_segmentation"]

#: The label of positions that do not count, unless the spec sets ``ignore_index``.
DEFAULT_IGNORE_INDEX = -100
_INT32 = np.iinfo(np.int32)


def _position(shape: Tuple[int, ...], flat_index: int) -> str:
    """``"3, 2, 5"``: a flat index of an array of ``shape`` as its multi-index."""
    return ", ".join(str(int(i)) for i in np.unravel_index(flat_index, shape))


def label_layouts(native: NativeModel) -> List[Tuple[int, ...]]:
    """Per-sample label shapes accepted: the spatial shape, with a leading channel axis of 1
    (``(1, H, W)``, as a PyTorch mask), and flat."""
    spatial = native.label_shape
    layouts = [spatial, (1,) + spatial]
    if (native.label_size,) not in layouts:
        layouts.append((native.label_size,))
    return layouts


def as_labels(values: Any, name: str, native: NativeModel, samples: int) -> np.ndarray:
    """Labels for ``samples`` samples of a segmentation model as an int32 C-contiguous matrix
    ``(samples, label_size)`` (``values`` itself when it already is one).

    Raises TypeError for non-numeric data, :class:`ShapeError` (a ValueError) naming the expected
    shape, and ValueError naming the position of a label that is not an integer or does not fit
    int32. Whether labels are classes is the library's check (it names the position too).
    """
    if values is None:
        raise TypeError(f"{name} is None; expected integer class labels")
    if hasattr(values, "tocsr") or hasattr(values, "todense"):
        raise TypeError(f"{name} is a sparse matrix; pass {name}.toarray()")
    try:
        array = np.asarray(values)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{name} cannot be converted to an array of labels: {error}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} holds dtype {array.dtype}; expected integer class labels (any "
                        "integer dtype, booleans, or floats holding whole numbers)")
    layouts = label_layouts(native)
    if array.ndim < 1 or tuple(array.shape[1:]) not in layouts:
        raise ShapeError(f"{name} has shape {tuple(array.shape)}; expected "
                         f"{describe_layouts(layouts, str(samples))} class labels, one per "
                         "position of each sample")
    if array.shape[0] != samples:
        raise ShapeError(f"{name} has labels for {array.shape[0]} samples, but there are "
                         f"{samples} samples; expected one label map per sample")
    if array.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(array) | (array != np.round(array))
        if bad.any():
            index = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name}[{_position(array.shape, index)}] = "
                             f"{array.reshape(-1)[index]} is not an integer class label")
    if array.dtype.kind in "iuf" and array.size:
        outside = (array < _INT32.min) | (array > _INT32.max)
        if outside.any():
            index = int(np.flatnonzero(outside)[0])
            raise ValueError(f"{name}[{_position(array.shape, index)}] = "
                             f"{array.reshape(-1)[index]} does not fit a 32-bit label")
    labels = np.require(array, dtype=np.int32, requirements=("C_CONTIGUOUS", "ALIGNED"))
    return labels.reshape(samples, native.label_size)


def ignore_index(spec: Mapping[str, Any]) -> int:
    """The label of positions that do not count: the spec's ``loss.ignore_index``, else -100."""
    loss = spec.get("loss")
    if isinstance(loss, Mapping) and loss.get("ignore_index") is not None:
        return int(loss["ignore_index"])
    return DEFAULT_IGNORE_INDEX


def check_classes(labels: np.ndarray, name: str, native: NativeModel) -> None:
    """Raises :class:`InvalidArgumentError`, as the library does, naming the first label of the
    ``(n, label_size)`` matrix that is neither a class nor the ignore index. (For validation
    labels, which reach the library appended to the training labels, so that its message would
    count their samples from the wrong origin.)"""
    ignored = ignore_index(native.spec)
    bad = ((labels < 0) | (labels >= native.class_count)) & (labels != ignored)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        shape = (labels.shape[0],) + native.label_shape
        raise InvalidArgumentError(f"{name}[{_position(shape, index)}] = "
                                   f"{labels.reshape(-1)[index]} is not a class in "
                                   f"0..<{native.class_count} nor the ignore label {ignored}")


def split_holding_out(total: int, held_out: int) -> float:
    """The ``validation_split`` that makes the library hold out exactly the last ``held_out`` of
    ``total`` samples: it holds out ``round(float32(total) * split)`` (float32 arithmetic,
    halves rounded up), so the float32 nearest ``held_out / total`` is nudged until it does."""
    split = np.float32(held_out / total)
    for _ in range(16):
        count = math.floor(float(np.float32(total) * split) + 0.5)
        if count == held_out:
            break
        direction = np.float32(np.inf if count < held_out else -np.inf)
        split = np.nextafter(split, direction, dtype=np.float32)
    else:
        raise ValueError(f"cannot hold out exactly {held_out} of {total} samples for validation")
    if not 0.0 < float(split) < 1.0:
        raise ValueError(f"{held_out} validation samples for {total - held_out} training samples "
                         "are too many: the validation fraction must be below 1")
    return float(split)


def hold_out(data: np.ndarray, labels: np.ndarray, validation: np.ndarray,
             validation_labels: np.ndarray) -> Tuple[np.ndarray, np.ndarray, float]:
    """Explicit validation data for a segmentation model. ``ae_train_options.validation_data``
    carries no labels, so the validation samples are appended to the training samples (a copy
    of both) and held out with the ``validation_split`` that selects exactly them: the library
    holds out the last samples and shuffles only the training ones. Returns the merged data,
    the merged labels and that split."""
    if not np.isfinite(validation).all():
        index = int(np.flatnonzero(~np.isfinite(validation))[0])
        raise NumericError(f"validation_data: element {index} (sample "
                           f"{index // validation.shape[1]}) is {validation.reshape(-1)[index]}; "
                           "data must be finite")
    total = data.shape[0] + validation.shape[0]
    split = split_holding_out(total, validation.shape[0])
    return (np.concatenate([data, validation]), np.concatenate([labels, validation_labels]),
            split)


def require_reconstruction(native: NativeModel, operation: str) -> None:
    """Refuses, as the library does, a reconstruction-only operation on a segmentation model
    (before any buffer is sized for an output the model does not have)."""
    if native.is_segmentation:
        raise UnsupportedError(f"{operation}: this is a segmentation model (cross-entropy "
                               "against labels); use segment")


def require_segmentation(native: NativeModel, operation: str) -> None:
    """Refuses, as the library does, a segmentation operation on a reconstruction model."""
    if not native.is_segmentation:
        raise UnsupportedError(f"{operation}: this model reconstructs its input; segmentation "
                               "needs a model whose spec has \"loss\": \"cross_entropy\"")


class SegmentationMixin:
    """What a :class:`SegmentationNetwork` adds: :meth:`segment` and the class queries."""

    def _model(self) -> NativeModel:  # provided by Autoencoder
        raise NotImplementedError

    @property
    def n_classes(self) -> int:
        """Classes of a segmentation model (0 for a model that reconstructs its input)."""
        return self._model().class_count

    @property
    def label_shape(self) -> Tuple[int, ...]:
        """The per-sample shape of a segmentation model's labels: its input's spatial shape,
        ``(H, W)`` for ``(C, H, W)`` images, ``(L,)`` for ``(C, L)`` signals (``()`` for a
        reconstruction model)."""
        return self._model().label_shape

    @property
    def label_size(self) -> int:
        """Labels per sample of a segmentation model (``H * W``); the input size for a
        reconstruction model (whose training target is its input)."""
        return self._model().label_size

    @property
    def ignore_index(self) -> Optional[int]:
        """The label of positions that do not count in training (the spec's
        ``{"type": "cross_entropy", "ignore_index": ...}``, default -100); None for a
        reconstruction model."""
        native = self._model()
        return ignore_index(native.spec) if native.is_segmentation else None

    def segment(self, X: Any) -> np.ndarray:
        """The most likely class of every position of samples ``X``: an int32 array
        ``(n, *label_shape)``, e.g. ``(n, H, W)`` for images ``(n, C, H, W)`` (also accepted as
        ``(n, C*H*W)``, or ``(n, H, W)`` when C is 1).

        Raises :class:`UnsupportedError` for a model that reconstructs its input."""
        native = self._model()
        require_segmentation(native, "segment")
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        return native.segment(data).reshape((data.shape[0],) + native.label_shape)
