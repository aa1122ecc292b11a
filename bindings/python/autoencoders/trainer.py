"""The step-wise :class:`Trainer`: the caller feeds batches, one optimisation step each."""

from __future__ import annotations

import math
from ctypes import byref, c_double, c_size_t
from typing import Any, Dict, Optional

from . import _library
from ._arrays import as_mask, as_samples, float_pointer, int32_pointer
from ._errors import check
from ._fit import count
from ._handle import Handle
from ._library import lib
from ._native import NativeModel
from ._native_sequences import require
from ._segmentation import as_labels
from ._sequences import SequenceBatch, refuse_lengths
from ._training_data import component_labels
from .model import Autoencoder, Model

__all__ = ["Trainer"]


class Trainer:
    """Step-wise training of an :class:`Autoencoder` (``ae_trainer_*``).

    Each :meth:`step` runs one optimisation step (the model's loss, regularizers and optimizer)
    on a batch of up to ``batch_size`` samples and returns the batch's objective before the
    update. The learning rate is the model's until :attr:`learning_rate` is set; the spec's
    schedule applies to :meth:`Autoencoder.fit`, not here. The native trainer keeps the native
    model alive, so the two may be closed in either order.

    Example::

        model = Autoencoder.dense(100, hidden=[50], code_size=10)
        with Trainer(model, batch_size=64) as trainer:
            for epoch in range(10):
                for start in range(0, len(X), 64):
                    loss = trainer.step(X[start:start + 64])

    A segmentation model steps on labelled batches:
    ``trainer.step(images[i:j], labels=masks[i:j])``; a sequence model takes ``lengths=`` (or a
    list of variable-length sequences) and a text model a list of strings, as
    :meth:`Autoencoder.fit` does.
    """

    def __init__(self, model: Autoencoder, batch_size: int = 32) -> None:
        """``model``: a built model (after fit, or from a builder); ``batch_size``: the most
        samples a step takes (1 to 1048576)."""
        if not isinstance(model, Model):
            raise TypeError(f"model is a {type(model).__name__}; expected an Autoencoder (or "
                            "another autoencoders.Model)")
        batch_size = count(batch_size, "batch_size", 1)  # the library bounds it further (1048576)
        native = model._model()
        out = _library.TrainerPointer()
        with native.handle.borrow() as m:
            check(lib.ae_trainer_create(m, batch_size, byref(out)))
        self._handle = Handle(out, lib.ae_trainer_free, "trainer")
        self._model = model
        self._native: NativeModel = native
        self._batch_size = batch_size

    @property
    def model(self) -> Autoencoder:
        """The model this trainer trains."""
        return self._model

    @property
    def batch_size(self) -> int:
        """The most samples one step takes."""
        return self._batch_size

    def step(self, batch: Any, mask: Any = None, *, labels: Any = None,
             lengths: Any = None) -> float:
        """One optimisation step on ``batch`` (``(n, input_size)`` or ``(n, *input_shape)``,
        1 <= n <= batch_size).

        ``mask`` (optional, the batch's shape; reconstruction models): 1 where an input is known,
        0 where it is missing; the loss then counts the known inputs only. ``labels`` (required
        for, and only for, a segmentation model): integer classes ``(n, *label_shape)`` or
        ``(n, label_size)``, as in :meth:`Autoencoder.fit`. ``lengths`` (sequence and text
        models): the valid steps of each sample of an array batch. Returns the objective on the
        batch before the update. A NaN loss leaves the weights unchanged and raises
        :class:`NumericError`."""
        native = self._native
        if native.is_sequence or native.is_tokens:
            if labels is not None:
                raise ValueError("labels are for segmentation models; a sequence model's target "
                                 "is the batch itself")
            sequences = SequenceBatch.prepare(native, batch, lengths, "batch",
                                              self._model.vocabulary)
            if sequences.lengths is not None or native.is_tokens:
                if mask is not None:
                    raise ValueError("mask cannot be combined with lengths or token input")
                return self._step_sequences(sequences)
            batch = sequences.data
        elif lengths is not None:
            refuse_lengths(native, lengths, "lengths")
        data, _ = as_samples(batch, "batch", native.input_shape, native.input_size)
        if data.shape[0] > self._batch_size:
            raise ValueError(f"batch has {data.shape[0]} samples; this trainer takes at most "
                             f"{self._batch_size} (its batch_size)")
        loss = c_double()
        if native.is_segmentation:
            if labels is None:
                raise ValueError("labels are required: a segmentation model steps on labelled "
                                 "batches, trainer.step(batch, labels=y)")
            if mask is not None:
                raise ValueError("mask is for reconstruction models; a segmentation model leaves "
                                 "positions out of the loss by labelling them with the ignore "
                                 "index")
            targets = as_labels(labels, "labels", native, data.shape[0])
            with self._handle.borrow() as t:
                check(lib.ae_trainer_step_labels(t, float_pointer(data), int32_pointer(targets),
                                                 data.shape[0], data.size, targets.size,
                                                 byref(loss)))
        elif native.is_adversarial and labels is not None and native.prior_components()[1]:
            # The supervised prior of an adversarial autoencoder: one component per sample.
            if mask is not None:
                raise ValueError("mask cannot be combined with the labels of a supervised prior")
            targets = component_labels(native, labels, "labels", data.shape[0])
            with self._handle.borrow() as t:
                check(lib.ae_trainer_step_labels(t, float_pointer(data), int32_pointer(targets),
                                                 data.shape[0], data.size, targets.size,
                                                 byref(loss)))
        elif labels is not None:
            raise ValueError("labels are for segmentation models and the supervised prior of an "
                             "adversarial autoencoder; this model reconstructs its input (its "
                             "target is the batch itself)")
        elif mask is None:
            with self._handle.borrow() as t:
                check(lib.ae_trainer_step(t, float_pointer(data), data.shape[0], data.size,
                                          byref(loss)))
        else:
            matrix = as_mask(mask, data, native.input_shape, native.input_size)
            with self._handle.borrow() as t:
                check(lib.ae_trainer_step_masked(t, float_pointer(data), float_pointer(matrix),
                                                 data.shape[0], data.size, byref(loss)))
        return float(loss.value)

    @property
    def last_losses(self) -> Dict[str, Optional[float]]:
        """The losses of the last step: ``reconstruction`` and, for an adversarial autoencoder,
        ``discriminator`` and ``generator`` (None for other models and before the first step)."""
        values = [c_double(), c_double(), c_double()]
        with self._handle.borrow() as t:
            check(lib.ae_trainer_last_losses(t, byref(values[0]), byref(values[1]), byref(values[2])))
        return {name: None if math.isnan(v.value) else float(v.value)
                for name, v in zip(("reconstruction", "discriminator", "generator"), values)}

    def _step_sequences(self, sequences: SequenceBatch) -> float:
        """``ae_trainer_step_sequences`` or ``ae_trainer_step_tokens``."""
        native = self._native
        n = sequences.samples
        if n > self._batch_size:
            raise ValueError(f"batch has {n} samples; this trainer takes at most "
                             f"{self._batch_size} (its batch_size)")
        lengths = sequences.lengths
        pointer = None if lengths is None else int32_pointer(lengths)
        count_ = 0 if lengths is None else lengths.size
        loss = c_double()
        name = "ae_trainer_step_tokens" if native.is_tokens else "ae_trainer_step_sequences"
        require(name)
        with self._handle.borrow() as t:
            if native.is_tokens:
                check(lib.ae_trainer_step_tokens(t, int32_pointer(sequences.data), pointer, n,
                                                 sequences.data.size, count_, byref(loss)))
            else:
                check(lib.ae_trainer_step_sequences(t, float_pointer(sequences.data), pointer, n,
                                                    sequences.data.size, count_, byref(loss)))
        return float(loss.value)

    @property
    def learning_rate(self) -> float:
        """The learning rate of the next step; settable (> 0)."""
        value = c_double()
        with self._handle.borrow() as t:
            check(lib.ae_trainer_get_learning_rate(t, byref(value)))
        return float(value.value)

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        with self._handle.borrow() as t:
            check(lib.ae_trainer_set_learning_rate(t, float(value)))

    @property
    def step_count(self) -> int:
        """Optimizer steps taken so far on the model (by any trainer or fit)."""
        out = c_size_t()
        with self._handle.borrow() as t:
            check(lib.ae_trainer_step_count(t, byref(out)))
        return int(out.value)

    def close(self) -> None:
        """Frees the native trainer (not the model). Idempotent."""
        self._handle.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._handle.closed

    def __enter__(self) -> "Trainer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __reduce__(self) -> Any:
        raise TypeError("a Trainer cannot be pickled; pickle its model and make a new Trainer")

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"Trainer(batch_size={self._batch_size}){state}"
