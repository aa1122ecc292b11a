"""The package's exceptions: one per ``ae_status``, all derived from :class:`AutoencoderError`.

Each also derives from the built-in exception a Python programmer would catch for the same
problem (``ValueError`` for a bad spec, shape or value, ``OSError`` for a file that cannot be
read or written, ``MemoryError``), so generic handlers keep working.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple, Type

from . import _library

__all__ = [
    "AutoencoderError", "InvalidArgumentError", "ShapeError", "SpecError", "FileError",
    "FormatError", "NumericError", "UnsupportedError", "OutOfMemoryError", "InternalError",
    "ParameterNameError", "NotFittedError", "check", "last_error",
]


class AutoencoderError(Exception):
    """An error reported by libautoencoders (or detected in Python before calling it).

    Attributes:
        message: the library's message (it names the function, the argument and what was
            expected), or the message of the Python-side check.
        status: the ``ae_status`` code (``int``), e.g. ``2`` for ``AE_ERR_SHAPE``.
        status_name: the status's name, e.g. ``"AE_ERR_SHAPE"``.
    """

    #: The ae_status this class stands for (set on each subclass).
    default_status: int = _library.AE_ERR_INTERNAL

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = self.default_status if status is None else int(status)
        self.status_name = status_name(self.status)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> Tuple[Any, Tuple[str, int]]:  # pickling (multiprocessing)
        return (self.__class__, (self.message, self.status))


class InvalidArgumentError(AutoencoderError, ValueError):
    """``AE_ERR_INVALID_ARGUMENT``: a value out of range, malformed options, a misuse."""

    default_status = _library.AE_ERR_INVALID_ARGUMENT


class ShapeError(AutoencoderError, ValueError):
    """``AE_ERR_SHAPE``: an array's shape does not match the model's shapes."""

    default_status = _library.AE_ERR_SHAPE


class SpecError(AutoencoderError, ValueError):
    """``AE_ERR_INVALID_SPEC``: the model spec is malformed; the message names its JSON path."""

    default_status = _library.AE_ERR_INVALID_SPEC


class FileError(AutoencoderError, OSError):
    """``AE_ERR_IO``: a file could not be opened, read, written or renamed."""

    default_status = _library.AE_ERR_IO

    def __str__(self) -> str:  # OSError would format its own way
        return self.message


class FormatError(AutoencoderError, ValueError):
    """``AE_ERR_FORMAT``: not a model file, or truncated, corrupted or of a newer format."""

    default_status = _library.AE_ERR_FORMAT


class NumericError(AutoencoderError, ValueError):
    """``AE_ERR_NUMERIC``: NaN or infinite data, or a training run that diverged."""

    default_status = _library.AE_ERR_NUMERIC


class UnsupportedError(AutoencoderError):
    """``AE_ERR_UNSUPPORTED``: the operation does not apply to this model (e.g. decode on a
    U-Net)."""

    default_status = _library.AE_ERR_UNSUPPORTED


class OutOfMemoryError(AutoencoderError, MemoryError):
    """``AE_ERR_OUT_OF_MEMORY``: an allocation failed or a size overflowed."""

    default_status = _library.AE_ERR_OUT_OF_MEMORY


class InternalError(AutoencoderError):
    """``AE_ERR_INTERNAL``: a bug in the library; please report it with the message."""

    default_status = _library.AE_ERR_INTERNAL


class ParameterNameError(InvalidArgumentError, KeyError):
    """No parameter tensor of that name (also a ``KeyError``, as in a dict lookup)."""

    def __str__(self) -> str:  # KeyError would print the repr of its argument
        return self.message


class NotFittedError(ValueError, AttributeError):
    """The estimator has no model yet: call ``fit`` first (or build one with
    ``Autoencoder.dense``, ``Autoencoder.from_spec`` or ``Autoencoder.load``).

    Like scikit-learn's exception of the same name, it is a ``ValueError`` and an
    ``AttributeError``."""


_BY_STATUS: Dict[int, Type[AutoencoderError]] = {
    cls.default_status: cls
    for cls in (InvalidArgumentError, ShapeError, SpecError, FileError, FormatError, NumericError,
                UnsupportedError, OutOfMemoryError, InternalError)
}


def status_name(status: int) -> str:
    """The library's name of a status code (``"AE_ERR_SHAPE"``)."""
    name = _library.lib.ae_status_string(int(status))
    return name.decode("ascii", "replace") if name else "AE_UNKNOWN_STATUS"


def last_error() -> str:
    """The library's message of the last failed call on this thread."""
    message = _library.lib.ae_last_error()
    return message.decode("utf-8", "replace") if message else ""


def error_for(status: int, message: Optional[str] = None) -> AutoencoderError:
    """The exception for a failed call's status (reading the message unless given)."""
    cls = _BY_STATUS.get(int(status), AutoencoderError)
    if message is None:
        message = last_error() or f"the call failed with {status_name(status)}"
    return cls(message, status)


def check(status: int) -> None:
    """Raises the matching :class:`AutoencoderError` unless ``status`` is ``AE_OK``.

    Must run on the thread that made the call (the library's last error is per thread)."""
    if status != _library.AE_OK:
        raise error_for(status)
