"""The arrays of one :meth:`Autoencoder.fit` call, checked against the model: the samples, their
labels (segmentation models), the validation data and the mask, and the run that uses them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Optional, Tuple

import numpy as np

from ._arrays import as_mask, as_samples, sample_layouts
from ._errors import ShapeError
from ._fit import FitSettings, ProgressCallback, TrainingOutcome, train
from ._native import NativeModel
from ._sample_source import SampleSource
from ._segmentation import as_labels, check_classes, hold_out, ignore_index, split_holding_out
from ._sequences import SequenceBatch, full_lengths, refuse_lengths
from ._vocabulary import CharacterVocabulary

__all__ = ["TrainingData"]


def component_labels(native: NativeModel, y: Any, name: str, n: int) -> np.ndarray:
    """The supervised prior's labels of an adversarial autoencoder: one int32 component per
    sample, shaped ``(n, 1)``."""
    components, _ = native.prior_components()
    if y is None:
        raise ValueError(f"{name} is required: the supervised mixture prior picks each sample's "
                         f"component from its label; call fit(X, y) with y of shape (n,), values "
                         f"in 0..{components - 1}")
    values = np.asarray(y)
    if values.shape not in ((n,), (n, 1)):
        raise ShapeError(f"{name} has shape {values.shape}; expected ({n},): one label per sample")
    if values.dtype.kind not in "iub" and not (values.dtype.kind == "f" and np.all(values == np.round(values))):
        raise ValueError(f"{name} must hold integer labels, got {values.dtype}")
    labels = np.ascontiguousarray(values.reshape(n, 1), dtype=np.int32)
    bad = np.flatnonzero((labels < 0) | (labels >= components))
    if bad.size:
        raise ValueError(f"{name}[{int(bad[0])}] = {int(labels[bad[0], 0])} is not a component of "
                         f"the prior in 0..{components - 1}")
    return labels


@dataclass
class TrainingData:
    """float32 ``(n, input_size)`` samples, and what goes with them.

    Attributes:
        data: the training samples.
        labels: int32 ``(n, label_size)`` labels of a segmentation model, else None.
        validation: explicit validation samples, or None.
        validation_labels: their labels (segmentation models), or None.
        mask: float32 mask of ``data``'s shape (reconstruction models), or None.
        lengths: int32 ``(n,)`` valid steps of sequence samples, or None (every sample fills T).
        validation_lengths: the same for the validation samples.
        tokens: ``data`` (and ``validation``) are int32 token ids of a text model.
    """

    data: np.ndarray
    labels: Optional[np.ndarray] = None
    validation: Optional[np.ndarray] = None
    validation_labels: Optional[np.ndarray] = None
    mask: Optional[np.ndarray] = None
    lengths: Optional[np.ndarray] = None
    validation_lengths: Optional[np.ndarray] = None
    tokens: bool = False

    @classmethod
    def prepare(cls, native: NativeModel, X: Any, y: Any = None, validation_data: Any = None,
                mask: Any = None, lengths: Any = None, validation_lengths: Any = None,
                vocabulary: Optional[CharacterVocabulary] = None) -> "TrainingData":
        """Checks and converts fit's arguments. ``y`` is required (and used) for a segmentation
        model and ignored otherwise, as scikit-learn passes it to unsupervised estimators too."""
        if isinstance(X, SampleSource):
            return cls._source(native, X, y, validation_data, mask, lengths, validation_lengths)
        if native.is_sequence or native.is_tokens:
            return cls._sequences(native, X, validation_data, mask, lengths, validation_lengths,
                                  vocabulary)
        refuse_lengths(native, lengths, "lengths")
        refuse_lengths(native, validation_lengths, "validation_lengths")
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        labels = None
        if native.is_segmentation:
            if y is None:
                shape = ", ".join(str(d) for d in native.label_shape)
                raise ValueError("y is required: a segmentation model trains against a class "
                                 f"label per position; call fit(X, y) with y of shape (n, {shape})")
            labels = as_labels(y, "y", native, data.shape[0])
            if mask is not None:
                raise ValueError("mask is for reconstruction models (inpainting); a segmentation "
                                 "model leaves positions out of the loss by their label: give them "
                                 f"the ignore index, {ignore_index(native.spec)}")
        elif native.is_adversarial and native.prior_components()[1]:
            labels = component_labels(native, y, "y", data.shape[0])
        validation, validation_labels = cls._validation(native, validation_data)
        matrix = None
        if mask is not None:
            matrix = as_mask(mask, data, native.input_shape, native.input_size)
        return cls(data, labels, validation, validation_labels, matrix)

    @classmethod
    def _source(cls, native: NativeModel, source: SampleSource, y: Any, validation_data: Any,
                mask: Any, lengths: Any, validation_lengths: Any) -> "TrainingData":
        """fit's arguments when X is a :class:`SampleSource` (``ae_model_train_source``): a model
        that reconstructs float inputs, every sample filling a sequence model's whole time axis."""
        if native.is_tokens or native.is_segmentation or \
                (native.is_adversarial and native.prior_components()[1]):
            what = "token ids" if native.is_tokens else "labels"
            raise ValueError(f"a sample source gives float samples only; this model trains on {what}: "
                             "pass arrays to fit")
        for name, value in (("mask", mask), ("lengths", lengths), ("validation_lengths", validation_lengths)):
            if value is not None:
                raise ValueError(f"{name} needs X as an array; with a sample source every sample is "
                                 "complete (and fills a sequence model's whole time axis)")
        del y  # ignored, as for arrays of a reconstruction model
        if source.sample_shape not in sample_layouts(native.input_shape, native.input_size):
            raise ShapeError(f"the sample source's samples have shape {source.sample_shape}; the "
                             f"model takes {tuple(native.input_shape)} (or {native.input_size} values)")
        validation, _ = cls._validation(native, validation_data)
        return cls(source, None, validation)  # type: ignore[arg-type]

    @classmethod
    def _sequences(cls, native: NativeModel, X: Any, validation_data: Any, mask: Any,
                   lengths: Any, validation_lengths: Any,
                   vocabulary: Optional[CharacterVocabulary]) -> "TrainingData":
        """fit's arguments for a sequence or token model (see ``_sequences``)."""
        batch = SequenceBatch.prepare(native, X, lengths, "X", vocabulary)
        matrix = None
        if mask is not None:
            if native.is_tokens:
                raise ValueError("mask is for models of float inputs; a text model leaves steps "
                                 "out of the loss through the lengths")
            if batch.listed is not None:
                raise ValueError("mask needs X as a padded (n, T, F) array, as the mask is")
            matrix = as_mask(mask, batch.data, (native.steps, native.features), native.input_size)
        validation = validation_batch = None
        if isinstance(validation_data, tuple) and len(validation_data) == 2 \
                and validation_data[1] is validation_data[0]:
            validation_data = validation_data[0]  # Keras's (X_val, X_val) of fit(X, X, ...)
        if validation_data is not None:
            if isinstance(validation_data, tuple) and len(validation_data) == 2 \
                    and isinstance(validation_data[0], np.ndarray) and validation_data[0].ndim >= 2:
                raise ValueError("validation_data of a sequence or text model is X_val alone (an "
                                 "array, with validation_lengths= for its lengths, or a list of "
                                 "sequences), not a tuple (X_val, y_val)")
            validation_batch = SequenceBatch.prepare(native, validation_data, validation_lengths,
                                                     "validation_data", vocabulary)
            validation = validation_batch.data
        elif validation_lengths is not None:
            raise ValueError("validation_lengths is given without validation_data")
        validation_lengths = None if validation_batch is None else validation_batch.lengths
        return cls(batch.data, validation=validation, mask=matrix, lengths=batch.lengths,
                   validation_lengths=validation_lengths, tokens=native.is_tokens)

    @staticmethod
    def _validation(native: NativeModel,
                    validation_data: Any) -> Tuple[Optional[np.ndarray], Optional[np.ndarray]]:
        """``validation_data`` (``X_val`` or ``(X_val, y_val)``) as samples and labels."""
        if validation_data is None:
            return None, None
        y_val = None
        if isinstance(validation_data, tuple):
            if not 1 <= len(validation_data) <= 2:
                raise ValueError(f"validation_data is a tuple of {len(validation_data)} items; "
                                 "expected X_val or (X_val, y_val)")
            if len(validation_data) == 2:
                y_val = validation_data[1]
            validation_data = validation_data[0]
        validation, _ = as_samples(validation_data, "validation_data", native.input_shape,
                                   native.input_size)
        if not native.is_segmentation:
            return validation, None  # y_val is ignored, as y is
        if y_val is None:
            raise ValueError("validation_data of a segmentation model is a tuple (X_val, y_val): "
                             "its validation loss needs the labels (or use validation_split)")
        labels = as_labels(y_val, "y_val", native, validation.shape[0])
        check_classes(labels, "y_val", native)
        return validation, labels

    def train(self, native: NativeModel, settings: FitSettings, *,
              callback: Optional[ProgressCallback] = None,
              report_batches: bool = False) -> TrainingOutcome:
        """Runs the training (see :func:`_fit.train`). Explicit validation data of a
        segmentation model is appended to the training data and held out with a
        ``validation_split`` (see :func:`_segmentation.hold_out`): the C API's
        ``validation_data`` has no labels."""
        data, labels, validation = self.data, self.labels, self.validation
        lengths, validation_lengths = self.lengths, self.validation_lengths
        if labels is not None and validation is not None and self.validation_labels is not None:
            data, labels, split = hold_out(data, labels, validation, self.validation_labels)
            settings = dataclasses.replace(settings, validation_split=split)
            validation = None
        if self.tokens and validation is not None:
            # ae_model_train_tokens takes no validation_data: hold the samples out as above.
            steps = data.shape[1]
            lengths = np.concatenate([full_lengths(lengths, data.shape[0], steps),
                                      full_lengths(validation_lengths, validation.shape[0], steps)])
            split = split_holding_out(data.shape[0] + validation.shape[0], validation.shape[0])
            data = np.concatenate([data, validation])
            settings = dataclasses.replace(settings, validation_split=split)
            validation = validation_lengths = None
        return train(native, data, settings, validation=validation, mask=self.mask, labels=labels,
                     lengths=lengths, validation_lengths=validation_lengths, tokens=self.tokens,
                     callback=callback, report_batches=report_batches)
