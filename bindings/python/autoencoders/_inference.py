"""Inference of an :class:`Autoencoder` that reconstructs its input: encode, decode,
reconstruct, score, inpaint, the objective, anomaly detection, and scikit-learn's transformer
names. (Segmentation models answer :meth:`SegmentationMixin.segment` instead and refuse the
reconstruction calls, with :class:`UnsupportedError`.)

Inputs come as ``(n, input_size)`` or in the model's per-sample shape (see
:func:`_arrays.sample_layouts`); reconstructions come back as ``(n, *input_shape)``, which is
``(n, input_size)`` for dense models. Codes are flat ``(n, code_size)``: the C API has no query
of the code's shape.
"""

from __future__ import annotations

import math
from typing import Any, Optional, Tuple

import numpy as np

from ._arrays import as_mask, as_samples
from ._errors import UnsupportedError
from ._native import NativeModel
from ._segmentation import as_labels, require_reconstruction

__all__ = ["InferenceMixin"]


class InferenceMixin:
    """Encoding, decoding, reconstruction, scores and anomaly flags of :class:`Autoencoder`."""

    def _model(self) -> NativeModel:  # provided by Autoencoder
        raise NotImplementedError

    @property
    def code_shape(self) -> Tuple[int, ...]:
        """The per-sample shape of :meth:`encode`'s codes: ``(code_size,)``. Codes are flat for
        every model, convolutional ones included (a code's feature maps are not reported by the
        library); decode takes them flat too."""
        return (self._model().code_size,)

    def evaluate(self, X: Any, y: Any = None) -> float:
        """The mean training objective (loss plus regularizers) on ``X``, without training. A
        segmentation model needs the labels ``y`` (as :meth:`fit` takes them): its objective is the
        mean cross-entropy.

        Raises :class:`UnsupportedError` for a segmentation model without ``y``."""
        native = self._model()
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        if native.is_segmentation:
            if y is None:
                raise UnsupportedError("evaluate: a segmentation model's objective needs the labels: "
                                       "evaluate(X, y)")
            labels = as_labels(y, "y", native, data.shape[0])
            return native.evaluate_labels(data, labels)
        return native.evaluate(data)

    def encode(self, X: Any) -> np.ndarray:
        """The codes of samples ``X``: a float32 array ``(n, code_size)``."""
        native = self._model()
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        return native.encode(data)

    def decode(self, Z: Any) -> np.ndarray:
        """Reconstructions (in data space) from codes ``Z`` ``(n, code_size)``: float32
        ``(n, *input_shape)``. Raises :class:`UnsupportedError` when :attr:`can_decode` is
        False (decoders that read encoder feature maps besides the code, as in U-Net or SegNet)
        and for segmentation models."""
        native = self._model()
        require_reconstruction(native, "decode")
        code, _ = as_samples(Z, "Z", (native.code_size,), native.code_size)
        return native.decode(code).reshape((code.shape[0],) + native.input_shape)

    def reconstruct(self, X: Any) -> np.ndarray:
        """``decode(encode(X))`` in one pass, in data space: float32 ``(n, *input_shape)``
        (``(n, input_size)`` for dense models; ``(n, C, H, W)`` for images, whichever accepted
        layout ``X`` came in)."""
        native = self._model()
        require_reconstruction(native, "reconstruct")
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        return native.reconstruct(data).reshape((data.shape[0],) + native.input_shape)

    def score(self, X: Any, y: Any = None) -> np.ndarray:
        """Per-sample anomaly scores: each sample's mean squared reconstruction error (in the
        model's scaled space), a float32 array ``(n,)``. Large scores flag anomalies.

        Note: unlike scikit-learn's ``score`` this is per sample (``y`` is ignored); use
        :meth:`evaluate` for one number, e.g. in a scorer for ``GridSearchCV``."""
        native = self._model()
        require_reconstruction(native, "score")
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        return native.score(data)

    def inpaint(self, X: Any, mask: Any = None) -> np.ndarray:
        """Fills in missing inputs. ``mask`` has X's shape, 1 (or True) where an input is known
        and 0 where it is missing (missing entries of X may hold any finite value); without a
        mask, the NaN entries of X are the missing ones. Returns X's known inputs unchanged and
        the model's reconstruction where they were missing, as ``(n, *input_shape)``. Train with
        ``fit(X, mask=...)`` for the best fills."""
        native = self._model()
        require_reconstruction(native, "inpaint")
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        if mask is None:
            missing = np.isnan(data)
            matrix = (~missing).astype(np.float32)
            if missing.any():
                data = np.where(missing, np.float32(0), data)  # a copy: X is left alone
        else:
            matrix = as_mask(mask, data, native.input_shape, native.input_size)
        return native.inpaint(data, matrix).reshape((data.shape[0],) + native.input_shape)

    # ---- Anomaly detection ----

    def fit_threshold(self, X: Any, quantile: float = 0.99) -> float:
        """Sets the anomaly threshold to the ``quantile`` (0 to 1) of the scores of normal
        samples ``X`` (linear interpolation, as ``numpy.quantile``) and returns it. The threshold
        is kept in the model file."""
        native = self._model()
        require_reconstruction(native, "fit_threshold")
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        quantile = float(quantile)
        if not 0.0 <= quantile <= 1.0:
            raise ValueError(f"quantile is {quantile}; expected a number in [0, 1], e.g. 0.99")
        return native.fit_threshold(data, quantile)

    @property
    def threshold(self) -> Optional[float]:
        """The anomaly threshold on :meth:`score`, or None if the model has none. Settable
        (a finite number >= 0)."""
        return self._model().get_threshold()

    @threshold.setter
    def threshold(self, value: float) -> None:
        value = float(value)
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"threshold is {value}; expected a finite number >= 0")
        self._model().set_threshold(value)

    def is_anomaly(self, X: Any) -> np.ndarray:
        """Anomaly flags (``ae_model_predict``): a boolean array ``(n,)``, True where a sample's
        score exceeds the threshold, so ``X[model.is_anomaly(X)]`` selects the anomalies.
        Raises :class:`UnsupportedError` when the model has no threshold (set one with
        :meth:`fit_threshold` or :attr:`threshold`)."""
        native = self._model()
        require_reconstruction(native, "is_anomaly")
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        flags: np.ndarray = native.predict(data) != 0
        return flags

    # ---- scikit-learn's transformer names ----

    def transform(self, X: Any) -> np.ndarray:
        """scikit-learn's name of :meth:`encode`."""
        return self.encode(X)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """scikit-learn's name of :meth:`decode`, flat as scikit-learn's arrays are:
        ``(n, input_size)`` for every model."""
        decoded = self.decode(Z)
        return decoded.reshape(decoded.shape[0], -1)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the code features: ``autoencoder0``, ``autoencoder1``, ..."""
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}{i}" for i in range(self._model().code_size)], dtype=object)
