"""The weights and input scaling of an :class:`Autoencoder`: named parameter tensors (PyTorch
layout) and the per-feature scaling the model applies to raw inputs."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple, TypeVar

import numpy as np

from . import _library
from ._arrays import as_array, as_float32, as_samples, as_vector
from ._errors import ShapeError
from ._native import NativeModel

__all__ = ["WeightsMixin", "SCALING_KINDS"]

#: The input scalings by name, as ``ae_scaling_kind``.
SCALING_KINDS = {"standardize": _library.AE_SCALING_STANDARDIZE,
                 "minmax": _library.AE_SCALING_MINMAX}

_Self = TypeVar("_Self", bound="WeightsMixin")


class WeightsMixin:
    """Parameters and input scaling of :class:`Autoencoder`."""

    def _model(self) -> NativeModel:  # provided by Autoencoder
        raise NotImplementedError

    # ==== Parameters =============================================================================

    @property
    def parameter_names(self) -> List[str]:
        """Names of the parameter tensors, in the model's order ("encoder.0.weight", ...)."""
        return list(self._model().tensors)

    def parameter_shape(self, name: str) -> Tuple[int, ...]:
        """The shape of a parameter tensor (dense weights are ``[out, in]``, as in PyTorch)."""
        return self._model().tensor(name)[0]

    def get_parameter(self, name: str) -> np.ndarray:
        """A copy of the named parameter tensor as a float32 array of its shape.

        Raises :class:`ParameterNameError` (a ``KeyError``) for an unknown name."""
        return self._model().get_parameter(name)

    def set_parameter(self, name: str, values: Any) -> None:
        """Replaces the named parameter tensor; ``values`` must have its shape (any real dtype,
        converted to float32) and be finite."""
        native = self._model()
        shape, _ = native.tensor(name)
        array = as_array(values, "values")
        if tuple(array.shape) != shape:
            raise ShapeError(f"values has shape {tuple(array.shape)}; parameter {name!r} has shape "
                             f"{shape}")
        native.set_parameter(name, as_float32(array))

    def parameters(self) -> Dict[str, np.ndarray]:
        """Every parameter tensor, by name (copies)."""
        native = self._model()
        return {name: native.get_parameter(name) for name in native.tensors}

    def set_parameters(self, values: Mapping[str, Any]) -> None:
        """Sets several parameter tensors (e.g. the dict :meth:`parameters` returned)."""
        for name, array in values.items():
            self.set_parameter(name, array)

    # ==== Input scaling ==========================================================================

    def set_input_scaling(self: _Self, offset: Any, scale: Any) -> _Self:
        """Sets the scaling the model applies to raw inputs, ``x' = (x - offset) / scale``, and
        undoes on reconstructions. ``offset`` and ``scale`` are scalars or vectors of
        :attr:`input_size` values (scale non-zero); ``None, None`` removes the scaling.
        Returns self."""
        native = self._model()
        if offset is None and scale is None:
            native.set_input_scaling(None, None)
            return self
        if offset is None or scale is None:
            raise ValueError("pass both offset and scale, or None for both to remove the scaling")
        native.set_input_scaling(as_vector(offset, "offset", native.input_size),
                                 as_vector(scale, "scale", native.input_size))
        return self

    def fit_input_scaling(self: _Self, X: Any, kind: str = "standardize") -> _Self:
        """Fits the input scaling to samples ``X`` and sets it: "standardize" (offset = mean,
        scale = standard deviation) or "minmax" (offset = min, scale = max - min). Constant
        features get scale 1. Returns self."""
        if kind not in SCALING_KINDS:
            raise ValueError(f"kind is {kind!r}; expected 'standardize' or 'minmax'")
        native = self._model()
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        native.fit_input_scaling(SCALING_KINDS[kind], data)
        return self

    def get_input_scaling(self) -> Optional[Tuple[np.ndarray, np.ndarray]]:
        """The model's input scaling as ``(offset, scale)`` float32 vectors, or None when it has
        none."""
        return self._model().get_input_scaling()
