"""Variational autoencoders (an encoder whose last entry is ``{"type": "variational", ...}``):
the distribution q(z | x) of a code, new samples from the prior, and interpolation between the
codes of two samples.

A VAE trains on the negative ELBO per sample (the reconstruction loss summed over features plus
β · KL(q(z|x) ‖ N(0, I))) and uses the mean of q(z | x) as its code at inference, so
:meth:`encode` returns ``encode_distribution(X)[0]``. Generated and interpolated samples come
back in data space (the model's input scaling undone), shaped like reconstructions.
"""

from __future__ import annotations

from typing import Any, Tuple

import numpy as np

from ._arrays import as_array, as_float32, as_samples, describe_layouts, sample_layouts
from ._errors import ShapeError, UnsupportedError
from ._fit import count
from ._params import UINT64_MAX
from ._native import NativeModel
from ._segmentation import require_reconstruction

__all__ = ["VariationalMixin", "as_sample"]

#: Seeds are ``uint64_t`` in C.
_SEED_MAX = UINT64_MAX


def require_variational(native: NativeModel, operation: str, decodes: bool) -> None:
    """Refuses, as the library does, a VAE-only operation on a model without a variational code
    (and, first, one that ``decodes`` on a segmentation model, whose output is not in data
    space)."""
    if decodes:
        require_reconstruction(native, operation)
    if not native.is_variational:
        raise UnsupportedError(f"{operation}: the model has no variational code (it is not a "
                               "VAE); give the spec's encoder a last entry "
                               "{\"type\": \"variational\", \"units\": ...}")


def require_decoder(native: NativeModel, operation: str) -> None:
    """Refuses an operation that decodes codes on a model that cannot decode from the code alone
    (a segmentation model, or a decoder reading encoder feature maps)."""
    require_reconstruction(native, operation)
    if not native.can_decode:
        raise UnsupportedError(f"{operation}: this model's decoder reads encoder feature maps "
                               "besides the code (skip or index links), so it cannot decode "
                               "codes alone")


def as_sample(values: Any, name: str, native: NativeModel) -> np.ndarray:
    """One sample as a float32 C-contiguous vector of ``input_size`` elements.

    Accepts any per-sample layout of the model (``input_shape``, ``(H, W)`` when C is 1, flat
    ``(input_size,)``), or a batch of exactly one sample in such a layout."""
    array = as_array(values, name)
    layouts = sample_layouts(native.input_shape, native.input_size)
    shape = tuple(int(d) for d in array.shape)
    if shape not in layouts and not (array.ndim >= 2 and shape[0] == 1
                                     and shape[1:] in layouts):
        texts = describe_layouts(layouts, "1")
        single = ", ".join(str(layout) for layout in layouts)
        raise ShapeError(f"{name} has shape {shape}; expected one sample: {single}, or a batch "
                         f"of one, {texts}")
    return as_float32(array).reshape(native.input_size)


class VariationalMixin:
    """The VAE side of :class:`Autoencoder`: :attr:`is_variational`,
    :meth:`encode_distribution`, :meth:`generate` and :meth:`interpolate`."""

    def _model(self) -> NativeModel:  # provided by Autoencoder
        raise NotImplementedError

    @property
    def is_variational(self) -> bool:
        """True for a variational autoencoder: the spec's encoder ends in
        ``{"type": "variational", "units": d, "beta": 1, "kl_warmup_epochs": 0}``. (A
        variational *branch*, e.g. regularizing a segmentation encoder, does not make a model a
        VAE.)"""
        return self._model().is_variational

    def encode_distribution(self, X: Any) -> Tuple[np.ndarray, np.ndarray]:
        """The parameters of q(z | x) for samples ``X`` (any layout :meth:`encode` accepts):
        ``(mean, logvar)``, float32 arrays ``(n, code_size)`` each; the standard deviation is
        ``np.exp(logvar / 2)``. ``mean`` equals :meth:`encode`'s codes.

        Raises :class:`UnsupportedError` for a model that is not a VAE."""
        native = self._model()
        require_variational(native, "encode_distribution", decodes=False)
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        return native.encode_distribution(data)

    def sample_codes(self, X: Any, seed: int = 0) -> np.ndarray:
        """Codes sampled from q(z | x) for samples ``X``: ``mean + exp(logvar / 2) * eps`` with
        ``eps`` from a generator seeded with ``seed`` (``encode`` returns the mean). Decode them
        to sample reconstructions. A float32 array ``(n, code_size)``.

        Raises :class:`UnsupportedError` for a model that is not a VAE."""
        native = self._model()
        require_variational(native, "sample_codes", decodes=False)
        seed = count(seed, "seed", 0, _SEED_MAX)
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        return native.sample_codes(data, seed)

    def generate(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` new samples: codes drawn from the prior N(0, I) by a generator seeded with
        ``seed`` (an integer in [0, 2**64); the model's own generator is not used, so the same
        seed gives the same samples), decoded into data space. A float32 array shaped like
        reconstructions: ``(n, *input_shape)`` (``(n, input_size)`` for dense models).

        Raises :class:`UnsupportedError` for a model that is not a VAE (and for segmentation
        models, whose outputs are not in data space)."""
        native = self._model()
        require_variational(native, "generate", decodes=True)
        n = count(n, "n", 0)
        seed = count(seed, "seed", 0, _SEED_MAX)
        return native.generate(n, seed).reshape((n,) + native.input_shape)

    def interpolate(self, a: Any, b: Any, steps: int = 8) -> np.ndarray:
        """``steps`` (>= 2) samples decoded along the straight line between the codes of samples
        ``a`` and ``b``: ``result[i] = decode((1 - t) * encode(a) + t * encode(b))`` with ``t``
        evenly spaced from 0 to 1, so the first is ``decode(encode(a))`` and the last
        ``decode(encode(b))``. ``a`` and ``b`` are single samples in any layout the model accepts
        (``input_shape``, ``(H, W)`` for one channel, flat, or a batch of one). Returns float32
        ``(steps, *input_shape)``.

        Works for any model that can decode (for a VAE the codes are the means of q(z | x));
        raises :class:`UnsupportedError` for segmentation models and decoders that read encoder
        feature maps (U-Net, SegNet)."""
        native = self._model()
        require_decoder(native, "interpolate")
        steps = count(steps, "steps", 2)
        first = as_sample(a, "a", native)
        last = as_sample(b, "b", native)
        return native.interpolate(first, last, steps).reshape((steps,) + native.input_shape)
