"""Segmentation networks (spec ``"loss": "cross_entropy"``): a class label for every position
of the input, e.g. every pixel of an image."""

from __future__ import annotations

from typing import Any, ClassVar, Dict, Tuple

import numpy as np

from ._autoencoder import Autoencoder
from ._errors import UnsupportedError
from ._inference import ReconstructionMixin
from ._segmentation import SegmentationMixin
from ._variational import VariationalMixin
from .model import Model, register_kind

__all__ = ["SegmentationNetwork"]

_RECONSTRUCTION_ONLY = "a segmentation network does not reconstruct its input"
_RECONSTRUCTION_NAMES = ("decode", "reconstruct", "reconstruction_error", "inpaint",
                         "fit_threshold", "threshold", "is_anomaly", "inverse_transform")
_VARIATIONAL_NAMES = ("encode_distribution", "sample_codes", "generate", "interpolate")


@register_kind("segmentation")
class SegmentationNetwork(Model, SegmentationMixin):
    """A segmentation network (an encoder-decoder such as a U-Net or SegNet whose spec has
    ``"loss": "cross_entropy"``): trained with ``fit(X, y)`` on integer labels, it answers
    :meth:`segment` (also :meth:`predict`) with the most likely class of every position.

    Built from a spec (``SegmentationNetwork(spec=...)``, :meth:`from_spec`, :meth:`load`);
    the hyperparameters are :class:`Model`'s. ``score(X, y)`` is minus the mean cross-entropy,
    so scikit-learn's model selection picks the lowest loss.

    Example::

        net = SegmentationNetwork.from_spec(unet_spec, epochs=30)
        net.fit(images, masks, validation_data=(val_images, val_masks))
        labels = net.segment(test_images)         # (n, H, W) int32
    """

    _DEPRECATED: ClassVar[Dict[str, Tuple[Any, str]]] = {
        **{name: (ReconstructionMixin.__dict__[name], _RECONSTRUCTION_ONLY)
           for name in _RECONSTRUCTION_NAMES},
        **{name: (VariationalMixin.__dict__[name], _RECONSTRUCTION_ONLY)
           for name in _VARIATIONAL_NAMES},
        "can_decode": (Autoencoder.__dict__["can_decode"], _RECONSTRUCTION_ONLY)}

    def predict(self, X: Any) -> np.ndarray:
        """scikit-learn's name of :meth:`segment`: ``(n, *label_shape)`` int32 labels."""
        return self.segment(X)

    def score(self, X: Any, y: Any = None) -> float:
        """Minus the mean cross-entropy of ``X`` against the labels ``y`` (higher is better, as
        scikit-learn's model selection expects). Raises :class:`UnsupportedError` without
        ``y``."""
        if y is None:
            raise UnsupportedError("score: a segmentation model's score needs the labels: "
                                   "score(X, y)")
        return -float(self.evaluate(X, y))
