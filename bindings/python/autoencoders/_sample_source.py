"""Samples produced on request (``ae_model_train_source``): training on data that is not held
as float32, such as 8-bit images, a ``numpy.memmap`` on disk, or samples decoded or augmented as
they are read. Only a batch is ever float32."""

from __future__ import annotations

import ctypes
from typing import Any, Callable, Optional, Tuple

import numpy as np

from . import _library
from ._errors import ShapeError

__all__ = ["SampleSource"]


class SampleSource:
    """``n_samples`` samples that ``fill(indices)`` returns on request, to pass to ``fit`` (and
    ``partial_fit``) in place of an array.

    ``fill`` receives an int64 array of sample indices (each in ``0..n_samples-1``; shuffled as
    ``fit`` shuffles an array) and returns those samples as an array of shape
    ``(len(indices), *sample_shape)`` of any real dtype (converted to float32). Trained on the
    same samples, the model is bit for bit the one ``fit`` gives on the array. An exception that
    ``fill`` raises stops training and propagates, with the model as before the call.

    ``sample_shape`` defaults to the shape of ``fill(np.array([0]))[0]``. For arrays that are
    not float32, :meth:`from_array` is the usual source::

        images = np.load("mnist.npy", mmap_mode="r")              # uint8, on disk
        model.fit(SampleSource.from_array(images, scale=1 / 255))

    The model's input scaling cannot be fitted on a source (``input_scaling`` needs the data in
    memory: fit it on a sample with ``fit_input_scaling`` first), nor can ``contamination``'s
    threshold; masks, sequence lengths, labels and token ids need arrays.
    """

    def __init__(self, n_samples: int, fill: Callable[[np.ndarray], Any],
                 sample_shape: Optional[Tuple[int, ...]] = None) -> None:
        if not callable(fill):
            raise TypeError(f"fill is {fill!r}; expected a function of an array of indices")
        if isinstance(n_samples, bool) or int(n_samples) != n_samples or n_samples < 1:
            raise ValueError(f"n_samples is {n_samples!r}; expected a positive integer")
        self.n_samples = int(n_samples)
        self.fill = fill
        self._example: Optional[np.ndarray] = None
        #: The shape of one sample; None only while __init__ learns it from the first sample.
        self.sample_shape: Optional[Tuple[int, ...]] = \
            None if sample_shape is None else tuple(int(d) for d in sample_shape)
        if self.sample_shape is None:
            self._example = self.rows(np.zeros(1, dtype=np.int64))
            self.sample_shape = self._example.shape[1:]

    @classmethod
    def from_array(cls, X: Any, scale: Optional[float] = None) -> "SampleSource":
        """The rows of an array of any real dtype (a ``numpy.memmap`` too), as float32 times
        ``scale`` when given (``1 / 255`` for 8-bit pixels: the float32 of ``X[i] / 255``
        then rounds as ``X.astype(np.float32) / 255`` does)."""
        array = X if isinstance(X, np.ndarray) else np.asarray(X)
        if array.ndim < 2:
            raise ShapeError(f"X has shape {array.shape}; expected (n, features) or (n, *input_shape)")
        # 1 / 255 is applied as a division by 255, the float32 arithmetic of X / 255.
        inverse = None if scale is None else 1 / float(scale)
        divisor = np.float32(round(inverse)) if inverse is not None and abs(inverse - round(inverse)) < 1e-9 else None
        factor = np.float32(scale) if scale is not None and divisor is None else None

        def fill(indices: np.ndarray) -> np.ndarray:
            rows = np.asarray(array[indices], dtype=np.float32)
            if divisor is not None:
                return rows / divisor
            return rows if factor is None else rows * factor
        return cls(array.shape[0], fill, array.shape[1:])

    @property
    def shape(self) -> Tuple[int, ...]:
        """``(n_samples, *sample_shape)``, as an array's."""
        return (self.n_samples,) + (self.sample_shape or ())

    def __len__(self) -> int:
        return self.n_samples

    def rows(self, indices: np.ndarray) -> np.ndarray:
        """``fill(indices)`` as C-contiguous float32, checked to hold one sample per index."""
        rows = np.ascontiguousarray(self.fill(indices), dtype=np.float32)
        shape = self.sample_shape
        if rows.shape[:1] != (len(indices),) or (shape is not None and rows.shape[1:] != shape):
            expected = (len(indices),) + (shape if shape is not None else ("...",))
            raise ShapeError(f"the sample source's fill returned shape {rows.shape} for "
                             f"{len(indices)} indices; expected {expected}")
        return rows

    def example(self) -> np.ndarray:
        """The first sample as a ``(1, *sample_shape)`` array: what ``fit`` builds the model
        from and checks the features of."""
        if self._example is None:
            self._example = self.rows(np.zeros(1, dtype=np.int64))
        return self._example

    def c_function(self, errors: list) -> Any:
        """The ``ae_sample_source_fn`` that fills the library's rows; an exception goes to
        ``errors`` and stops training (keep the returned object referenced during the call)."""
        def fill_rows(indices: Any, count: int, rows: Any, rows_count: int, _user: Any) -> int:
            try:
                wanted = np.ctypeslib.as_array(indices, shape=(count,)).astype(np.int64)
                values = self.rows(wanted).reshape(-1)
                if values.size != rows_count:
                    raise ShapeError(f"the sample source gave {values.size} values for {count} "
                                     f"samples; the model takes {rows_count // max(count, 1)} per sample")
                ctypes.memmove(rows, values.ctypes.data, values.nbytes)
                return 0
            except BaseException as error:  # re-raised by fit once the library has rolled back
                errors.append(error)
                return 1
        return _library.ae_sample_source_fn(fill_rows)
