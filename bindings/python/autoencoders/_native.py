"""``NativeModel``: one ``ae_model *`` with thin methods over the C functions.

Arguments arrive validated (float32, C-contiguous, right shapes: see ``_arrays``); this layer
only allocates outputs, calls the library and turns statuses into exceptions. The shapes and
parameter table of a model never change, so they are read once, when the handle is made.
"""

from __future__ import annotations

import ctypes
import json
import os
from ctypes import byref, c_char_p, c_double, c_float, c_int, c_size_t, c_void_p
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np

from . import _library
from ._arrays import float_pointer, int32_pointer
from ._errors import InvalidArgumentError, ParameterNameError, UnsupportedError, check
from ._handle import Handle
from ._library import lib
from ._native_sequences import SequenceCalls, sequence_description

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


def _path_bytes(path: PathLike) -> bytes:
    """A path argument as the bytes the library takes (it requires UTF-8). A NUL byte is refused:
    ctypes would pass the path cut at it, and the library would open a different file."""
    path = os.fspath(path)
    encoded = path if isinstance(path, bytes) else os.fsencode(path)
    if b"\0" in encoded:
        raise InvalidArgumentError(f"path {path!r} contains a NUL byte; a file path cannot hold one")
    if not encoded:
        raise InvalidArgumentError("path is empty")
    return encoded


KeyLike = Union[bytes, bytearray, memoryview]


def _key_bytes(key: KeyLike) -> bytes:
    """A signing key as bytes: 1 to 65536 of them (32 random bytes are recommended). A str is
    refused, since its encoding would be a guess."""
    if isinstance(key, str) or not isinstance(key, (bytes, bytearray, memoryview)):
        raise TypeError(f"key must be bytes (for example os.urandom(32) or a key file's contents), "
                        f"got {type(key).__name__}")
    data = bytes(key)
    if not 1 <= len(data) <= 65536:
        raise InvalidArgumentError(f"key has {len(data)} bytes; expected 1 to 65536")
    return data


def _buffer(data: Union[bytes, bytearray, memoryview]) -> Tuple[Any, int]:
    """The address and length of a model file's bytes, without copying bytes or bytearrays."""
    if isinstance(data, bytearray):
        return (ctypes.c_char * len(data)).from_buffer(data), len(data)
    if not isinstance(data, bytes):
        data = bytes(data)
    return data, len(data)


def _size(function: Any, pointer: Any) -> int:
    out = c_size_t()
    check(function(pointer, byref(out)))
    return int(out.value)


def require(name: str) -> None:
    """Raises :class:`UnsupportedError` when the loaded library does not export ``name``."""
    if not _library.has(name):
        raise UnsupportedError(f"{name}: the library at {_library.path} predates adversarial "
                               "autoencoders; rebuild it with `make library`")


def _has_variational_code(spec: Dict[str, Any]) -> bool:
    """Whether a spec describes a VAE: its encoder's last entry is a ``variational`` layer (the
    code), which is the library's own rule (a variational layer elsewhere than there or in a
    branch is a spec error; one in a branch does not make the model a VAE)."""
    encoder = spec.get("encoder")
    if not isinstance(encoder, list) or not encoder or not isinstance(encoder[-1], dict):
        return False
    return encoder[-1].get("type") == "variational"


class NativeModel(SequenceCalls):
    """An owned ``ae_model *`` and its fixed description (the sequence and token calls come from
    :class:`SequenceCalls`)."""

    __slots__ = ("handle", "input_size", "code_size", "input_shape", "n_parameters", "can_decode",
                 "class_count", "label_size", "spec_json", "tensors", "is_variational", "steps",
                 "features", "is_sequence", "vocabulary_size", "is_adversarial")

    def __init__(self, pointer: Any) -> None:
        """Takes ownership of ``pointer`` (freed on close or garbage collection)."""
        self.handle = Handle(pointer, lib.ae_model_free, "model")
        with self.handle.borrow() as m:
            self.input_size = _size(lib.ae_model_input_size, m)
            self.code_size = _size(lib.ae_model_code_size, m)
            rank = c_size_t()
            check(lib.ae_model_input_shape(m, None, 0, byref(rank)))
            dims = (c_size_t * max(rank.value, 1))()
            check(lib.ae_model_input_shape(m, dims, rank.value, byref(rank)))
            self.input_shape: Tuple[int, ...] = tuple(int(d) for d in dims[: rank.value])
            self.n_parameters = _size(lib.ae_model_parameter_count, m)
            flag = c_int()
            check(lib.ae_model_can_decode(m, byref(flag)))
            self.can_decode = bool(flag.value)
            self.class_count = _size(lib.ae_model_class_count, m)
            self.label_size = _size(lib.ae_model_label_size, m)
            text = c_char_p()
            check(lib.ae_model_spec(m, byref(text)))
            self.spec_json: str = (text.value or b"{}").decode("utf-8")
            self.is_variational = _has_variational_code(self.spec)
            self.is_adversarial = isinstance(self.spec.get("adversarial"), dict)
            self.tensors: Dict[str, Tuple[Tuple[int, ...], int]] = {}
            for index in range(_size(lib.ae_model_tensor_count, m)):
                name, dims, rank, count = c_char_p(), (c_size_t * 8)(), c_size_t(), c_size_t()
                check(lib.ae_model_tensor_info(m, index, byref(name), dims, 8, byref(rank),
                                               byref(count)))
                shape = tuple(int(d) for d in dims[: min(rank.value, 8)])
                self.tensors[(name.value or b"").decode("utf-8")] = (shape, int(count.value))
        self.steps, self.features, self.is_sequence, self.vocabulary_size = \
            sequence_description(self.handle, self.input_shape, self.spec)

    # ---- Construction ----

    @classmethod
    def create(cls, spec_json: str) -> "NativeModel":
        """``ae_model_create``."""
        out = _library.ModelPointer()
        check(lib.ae_model_create(spec_json.encode("utf-8"), byref(out)))
        return cls(out)

    @classmethod
    def load(cls, path: PathLike, key: Optional[KeyLike] = None) -> "NativeModel":
        """``ae_model_load``, or ``ae_model_load_verified`` with a key."""
        out = _library.ModelPointer()
        path_bytes = _path_bytes(path)
        if key is None:
            check(lib.ae_model_load(path_bytes, byref(out)))
        else:
            secret = _key_bytes(key)
            check(lib.ae_model_load_verified(path_bytes, secret, len(secret), byref(out)))
        return cls(out)

    @classmethod
    def from_bytes(cls, data: Union[bytes, bytearray, memoryview],
                   key: Optional[KeyLike] = None) -> "NativeModel":
        """``ae_model_load_from_memory`` (or its ``_verified`` form with a key); the library reads
        the bytes in place and keeps none of them."""
        buffer, size = _buffer(data)
        out = _library.ModelPointer()
        if key is None:
            check(lib.ae_model_load_from_memory(buffer, size, byref(out)))
        else:
            secret = _key_bytes(key)
            check(lib.ae_model_load_from_memory_verified(buffer, size, secret, len(secret), byref(out)))
        return cls(out)

    def close(self) -> None:
        self.handle.close()

    # ---- Saving ----

    def save(self, path: PathLike, include_optimizer_state: bool,
             key: Optional[KeyLike] = None) -> None:
        path_bytes = _path_bytes(path)
        secret = None if key is None else _key_bytes(key)
        with self.handle.borrow() as m:
            if secret is None:
                check(lib.ae_model_save(m, path_bytes, int(bool(include_optimizer_state))))
            else:
                check(lib.ae_model_save_signed(m, path_bytes, int(bool(include_optimizer_state)),
                                               secret, len(secret)))

    def to_bytes(self, include_optimizer_state: bool, key: Optional[KeyLike] = None) -> bytes:
        secret = None if key is None else _key_bytes(key)
        data, size = c_void_p(), c_size_t()
        with self.handle.borrow() as m:
            if secret is None:
                check(lib.ae_model_save_to_memory(m, int(bool(include_optimizer_state)), byref(data),
                                                  byref(size)))
            else:
                check(lib.ae_model_save_to_memory_signed(m, int(bool(include_optimizer_state)),
                                                         secret, len(secret), byref(data),
                                                         byref(size)))
        try:
            if not size.value or data.value is None:
                return b""
            return ctypes.string_at(data.value, size.value)
        finally:
            lib.ae_free(data)

    # ---- State ----

    @property
    def is_segmentation(self) -> bool:
        """A segmentation model (``"loss": "cross_entropy"``) has classes."""
        return self.class_count > 0

    @property
    def is_tokens(self) -> bool:
        """A token (text) model: its input is int32 ids, its first encoder entry an embedding."""
        return self.vocabulary_size > 0

    @property
    def label_shape(self) -> Tuple[int, ...]:
        """The per-sample shape of a segmentation model's labels: the input's spatial shape."""
        return self.input_shape[1:] if self.is_segmentation else ()

    @property
    def spec(self) -> Dict[str, Any]:
        spec: Dict[str, Any] = json.loads(self.spec_json)
        return spec

    @property
    def epochs_completed(self) -> int:
        with self.handle.borrow() as m:
            return _size(lib.ae_model_epochs_completed, m)

    def tensor(self, name: str) -> Tuple[Tuple[int, ...], int]:
        try:
            return self.tensors[name]
        except (KeyError, TypeError):
            raise ParameterNameError(f"the model has no parameter {name!r}; it has "
                                     f"{', '.join(self.tensors)}") from None

    def get_parameter(self, name: str) -> np.ndarray:
        shape, count = self.tensor(name)
        values = np.empty(shape, dtype=np.float32)
        with self.handle.borrow() as m:
            check(lib.ae_model_get_parameter(m, name.encode("utf-8"), float_pointer(values), count))
        return values

    def set_parameter(self, name: str, values: np.ndarray) -> None:
        """``values``: float32, C-contiguous, of the tensor's shape."""
        with self.handle.borrow() as m:
            check(lib.ae_model_set_parameter(m, name.encode("utf-8"), float_pointer(values),
                                             values.size))

    # ---- Input scaling ----

    def set_input_scaling(self, offset: Optional[np.ndarray], scale: Optional[np.ndarray]) -> None:
        with self.handle.borrow() as m:
            if offset is None or scale is None:
                check(lib.ae_model_set_input_scaling(m, None, None, 0))
            else:
                check(lib.ae_model_set_input_scaling(m, float_pointer(offset), float_pointer(scale),
                                                     offset.size))

    def fit_input_scaling(self, kind: int, data: np.ndarray) -> None:
        with self.handle.borrow() as m:
            check(lib.ae_model_fit_input_scaling(m, kind, float_pointer(data), data.shape[0],
                                                 data.size))

    def get_input_scaling(self) -> Optional[Tuple[np.ndarray, np.ndarray]]:
        offset = np.empty(self.input_size, dtype=np.float32)
        scale = np.empty(self.input_size, dtype=np.float32)
        has = c_int()
        with self.handle.borrow() as m:
            check(lib.ae_model_get_input_scaling(m, float_pointer(offset), float_pointer(scale),
                                                 self.input_size, byref(has)))
        return (offset, scale) if has.value else None

    def has_input_scaling(self) -> bool:
        has = c_int()
        with self.handle.borrow() as m:
            check(lib.ae_model_get_input_scaling(m, None, None, 0, byref(has)))
        return bool(has.value)

    # ---- Inference (inputs: float32 C-contiguous (n, input_size) matrices) ----

    def encode(self, data: np.ndarray) -> np.ndarray:
        code = np.empty((data.shape[0], self.code_size), dtype=np.float32)
        with self.handle.borrow() as m:
            check(lib.ae_model_encode(m, float_pointer(data), data.shape[0], data.size,
                                      float_pointer(code), code.size))
        return code

    def decode(self, code: np.ndarray) -> np.ndarray:
        output = np.empty((code.shape[0], self.input_size), dtype=np.float32)
        with self.handle.borrow() as m:
            check(lib.ae_model_decode(m, float_pointer(code), code.shape[0], code.size,
                                      float_pointer(output), output.size))
        return output

    def reconstruct(self, data: np.ndarray) -> np.ndarray:
        output = np.empty((data.shape[0], self.input_size), dtype=np.float32)
        with self.handle.borrow() as m:
            check(lib.ae_model_reconstruct(m, float_pointer(data), data.shape[0], data.size,
                                           float_pointer(output), output.size))
        return output

    def score(self, data: np.ndarray) -> np.ndarray:
        scores = np.empty(data.shape[0], dtype=np.float32)
        with self.handle.borrow() as m:
            check(lib.ae_model_score(m, float_pointer(data), data.shape[0], data.size,
                                     float_pointer(scores), scores.size))
        return scores

    def inpaint(self, data: np.ndarray, mask: np.ndarray) -> np.ndarray:
        output = np.empty((data.shape[0], self.input_size), dtype=np.float32)
        with self.handle.borrow() as m:
            check(lib.ae_model_inpaint(m, float_pointer(data), float_pointer(mask), data.shape[0],
                                       data.size, float_pointer(output), output.size))
        return output

    def evaluate(self, data: np.ndarray) -> float:
        loss = c_double()
        with self.handle.borrow() as m:
            check(lib.ae_model_evaluate(m, float_pointer(data), data.shape[0], data.size,
                                        byref(loss)))
        return float(loss.value)

    def evaluate_labels(self, data: np.ndarray, labels: np.ndarray) -> float:
        """``ae_model_evaluate_labels``: the mean objective of a segmentation model."""
        loss = c_double()
        with self.handle.borrow() as m:
            check(lib.ae_model_evaluate_labels(m, float_pointer(data), data.shape[0], data.size,
                                               int32_pointer(labels), labels.size, byref(loss)))
        return float(loss.value)

    def segment(self, data: np.ndarray) -> np.ndarray:
        """``ae_model_segment``: labels ``(n, label_size)`` int32."""
        labels = np.empty((data.shape[0], self.label_size), dtype=np.int32)
        with self.handle.borrow() as m:
            check(lib.ae_model_segment(m, float_pointer(data), data.shape[0], data.size,
                                       int32_pointer(labels), labels.size))
        return labels

    # ---- Variational autoencoders ----

    def encode_distribution(self, data: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """``ae_model_encode_distribution``: mean and log-variance ``(n, code_size)`` each."""
        mean = np.empty((data.shape[0], self.code_size), dtype=np.float32)
        logvar = np.empty((data.shape[0], self.code_size), dtype=np.float32)
        with self.handle.borrow() as m:
            check(lib.ae_model_encode_distribution(m, float_pointer(data), data.shape[0], data.size,
                                                   float_pointer(mean), mean.size,
                                                   float_pointer(logvar), logvar.size))
        return mean, logvar

    def sample_codes(self, data: np.ndarray, seed: int) -> np.ndarray:
        """``ae_model_sample_codes``: codes ``(n, code_size)`` drawn from q(z | x)."""
        codes = np.empty((data.shape[0], self.code_size), dtype=np.float32)
        with self.handle.borrow() as m:
            check(lib.ae_model_sample_codes(m, float_pointer(data), data.shape[0], data.size, seed,
                                            float_pointer(codes), codes.size))
        return codes

    def generate(self, n: int, seed: int) -> np.ndarray:
        """``ae_model_generate``: ``(n, input_size)`` samples decoded from prior draws."""
        # At least one element, so that the pointer is never NULL, even for n = 0.
        buffer = np.empty(max(n * self.input_size, 1), dtype=np.float32)
        with self.handle.borrow() as m:
            check(lib.ae_model_generate(m, n, seed, float_pointer(buffer), n * self.input_size))
        return buffer[: n * self.input_size].reshape(n, self.input_size)

    def sample_prior(self, n: int, seed: int, labels: Optional[np.ndarray]) -> np.ndarray:
        """``ae_model_sample_prior``: ``(n, code_size)`` codes from an adversarial autoencoder's
        prior; ``labels`` (int32, ``(n,)``, or None) pick mixture components."""
        require("ae_model_sample_prior")
        codes = np.empty((max(n, 1), self.code_size), dtype=np.float32)
        with self.handle.borrow() as m:
            check(lib.ae_model_sample_prior(m, n, seed, None if labels is None else int32_pointer(labels),
                                            0 if labels is None else labels.size,
                                            float_pointer(codes), n * self.code_size))
        return codes[:n]

    def discriminator_accuracy(self, data: np.ndarray, labels: Optional[np.ndarray], seed: int) -> float:
        """``ae_model_discriminator_accuracy`` on float32 samples ``(n, input_size)``."""
        require("ae_model_discriminator_accuracy")
        accuracy = c_double()
        with self.handle.borrow() as m:
            check(lib.ae_model_discriminator_accuracy(
                m, float_pointer(data), data.shape[0], data.size,
                None if labels is None else int32_pointer(labels), 0 if labels is None else labels.size,
                seed, byref(accuracy)))
        return float(accuracy.value)

    def prior_components(self) -> Tuple[int, bool]:
        """``ae_model_prior_components``: (components, supervised)."""
        require("ae_model_prior_components")
        out, supervised = c_size_t(), c_int()
        with self.handle.borrow() as m:
            check(lib.ae_model_prior_components(m, byref(out), byref(supervised)))
        return int(out.value), bool(supervised.value)

    def interpolate(self, a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
        """``ae_model_interpolate``: ``(steps, input_size)``; ``a``, ``b``: float32
        C-contiguous, ``input_size`` elements each."""
        output = np.empty((steps, self.input_size), dtype=np.float32)
        with self.handle.borrow() as m:
            check(lib.ae_model_interpolate(m, float_pointer(a), float_pointer(b), steps,
                                           float_pointer(output), output.size))
        return output

    # ---- Anomaly detection ----

    def fit_threshold(self, data: np.ndarray, quantile: float) -> float:
        threshold = c_float()
        with self.handle.borrow() as m:
            check(lib.ae_model_fit_threshold(m, float_pointer(data), data.shape[0], data.size,
                                             quantile, byref(threshold)))
        return float(threshold.value)

    def set_threshold(self, threshold: float) -> None:
        with self.handle.borrow() as m:
            check(lib.ae_model_set_threshold(m, threshold))

    def get_threshold(self) -> Optional[float]:
        threshold, has = c_float(), c_int()
        with self.handle.borrow() as m:
            check(lib.ae_model_get_threshold(m, byref(threshold), byref(has)))
        return float(threshold.value) if has.value else None

    def predict(self, data: np.ndarray) -> np.ndarray:
        labels = np.empty(data.shape[0], dtype=np.int32)
        with self.handle.borrow() as m:
            check(lib.ae_model_predict(m, float_pointer(data), data.shape[0], data.size,
                                       int32_pointer(labels), labels.size))
        return labels

    # ---- Training ----

    def train(self, data: np.ndarray, options: "_library.ae_train_options",
              report: "_library.ae_train_report", labels: Optional[np.ndarray] = None) -> int:
        """``ae_model_train``, or ``ae_model_train_labels`` when ``labels`` (int32, C-contiguous,
        ``(n, label_size)``) are given; returns the status (the caller raises, after its own
        clean-up). Sequence lengths travel in ``options``; token models train with
        :meth:`train_tokens`."""
        with self.handle.borrow() as m:
            if labels is None:
                return int(lib.ae_model_train(m, float_pointer(data), data.shape[0], data.size,
                                              byref(options), byref(report)))
            return int(lib.ae_model_train_labels(m, float_pointer(data), data.shape[0], data.size,
                                                 int32_pointer(labels), labels.size,
                                                 byref(options), byref(report)))

    def train_source(self, n: int, source: Any, options: "_library.ae_train_options",
                     report: "_library.ae_train_report") -> int:
        """``ae_model_train_source`` on ``n`` samples that ``source`` (an ``ae_sample_source_fn``)
        fills; returns the status."""
        with self.handle.borrow() as m:
            return int(lib.ae_model_train_source(m, n, source, None, byref(options), byref(report)))
