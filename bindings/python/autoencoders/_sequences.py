"""Sequence batches: what a sequence or text model's methods accept, made into what the C calls
take.

A sequence model (input ``[T, F]``) takes

- an array ``(n, T, F)`` (or flat ``(n, T*F)``; ``(n, T)`` when F is 1), every sample filling T
  steps unless ``lengths=`` gives each sample's number of valid steps (1..T; the steps past it
  are padding, whatever they hold);
- a list of arrays ``(t_i, F)`` (``(t_i,)`` when F is 1) of 1..T steps each: padded to T here,
  the lengths taken from the list; results per step come back as a list of ``(t_i, F)`` arrays.

A token (text) model (input ``[T]`` token ids) takes int ids ``(n, T)`` with optional lengths,
a list of id sequences, or, with a vocabulary, a list of strings (see ``_vocabulary``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

import numpy as np

from ._arrays import as_array, as_samples
from ._errors import NumericError, ShapeError
from ._native import NativeModel
from ._vocabulary import CharacterVocabulary

__all__ = ["SequenceBatch", "as_lengths", "is_listed", "full_lengths", "refuse_lengths",
           "sequence_scaling", "padding_id"]

_INT32 = np.iinfo(np.int32)


def is_listed(values: Any) -> bool:
    """Whether ``values`` is a Python list or tuple (of sequences or strings), as opposed to an
    array: lists carry their own lengths."""
    return isinstance(values, (list, tuple))


def as_lengths(values: Any, name: str, samples: int, steps: int) -> Optional[np.ndarray]:
    """Per-sample lengths as an int32 ``(samples,)`` array, each in 1..steps; None stays None.

    Raises TypeError for non-integer values, :class:`ShapeError` for a count that is not
    ``samples``, ValueError naming the first length outside 1..steps."""
    if values is None:
        return None
    array = np.asarray(values)
    if array.dtype.kind not in "iu":
        if not (array.dtype.kind == "f" and array.size
                and np.all(np.isfinite(array)) and np.all(array == np.round(array))):
            raise TypeError(f"{name} holds {array.dtype}; expected integers (a length per sample)")
    if array.ndim != 1:
        raise ShapeError(f"{name} has shape {tuple(array.shape)}; expected ({samples},): one "
                         "length per sample")
    if array.shape[0] != samples:
        raise ShapeError(f"{name} has {array.shape[0]} values but there are {samples} samples; "
                         "expected one length per sample")
    bad = (array < 1) | (array > steps)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name}[{index}] = {array[index]}; expected a length in 1..{steps} "
                         f"(the model's steps T = {steps})")
    return np.ascontiguousarray(array, dtype=np.int32)


def _refuse_lengths(lengths: Any, what: str) -> None:
    if lengths is not None:
        raise ValueError(f"lengths is given, but {what} carries its own lengths; pass lengths= "
                         "only with a padded array")


@dataclass
class SequenceBatch:
    """n samples of a sequence or token model, ready for the library.

    Attributes:
        data: float32 ``(n, T*F)`` (sequence models) or int32 ``(n, T)`` ids (token models),
            padded to T steps.
        lengths: int32 ``(n,)`` valid steps per sample, or None when every sample fills T.
        listed: the lengths of a list input (results per step go back as a list of that many
            steps each), or None for an array input.
        strings: the input was a list of strings (results go back as strings).
    """

    data: np.ndarray
    lengths: Optional[np.ndarray]
    listed: Optional[List[int]] = None
    strings: bool = False

    @property
    def samples(self) -> int:
        return int(self.data.shape[0])

    # ---- Preparing ----

    @classmethod
    def prepare(cls, native: NativeModel, values: Any, lengths: Any = None, name: str = "X",
                vocabulary: Optional[CharacterVocabulary] = None) -> "SequenceBatch":
        """The batch for ``native`` (a sequence or token model) from a method's arguments."""
        if native.is_tokens:
            return cls._tokens(native, values, lengths, name, vocabulary)
        return cls._floats(native, values, lengths, name)

    @classmethod
    def _floats(cls, native: NativeModel, values: Any, lengths: Any,
                name: str) -> "SequenceBatch":
        steps, features = native.steps, native.features
        if not is_listed(values):
            data, _ = as_samples(values, name, (steps, features), steps * features)
            return cls(data, as_lengths(lengths, "lengths", data.shape[0], steps))
        _refuse_lengths(lengths, f"{name}, a list of sequences,")
        if not values:
            raise ValueError(f"{name} is an empty list; expected at least one sequence")
        data = np.zeros((len(values), steps * features), dtype=np.float32)
        listed = []
        for index, item in enumerate(values):
            array = as_array(item, f"{name}[{index}]")
            if array.ndim == 1 and features == 1:
                array = array.reshape(-1, 1)
            if array.ndim != 2 or array.shape[1] != features:
                raise ShapeError(f"{name}[{index}] has shape {tuple(array.shape)}; expected "
                                 f"(steps, {features}) with 1 to {steps} steps")
            count = array.shape[0]
            if not 1 <= count <= steps:
                raise ValueError(f"{name}[{index}] has {count} steps; expected 1 to {steps} "
                                 f"(the model's steps T = {steps})")
            data[index, : count * features] = array.reshape(-1)
            listed.append(int(count))
        full = all(count == steps for count in listed)
        return cls(data, None if full else np.asarray(listed, dtype=np.int32), listed)

    @classmethod
    def _tokens(cls, native: NativeModel, values: Any, lengths: Any, name: str,
                vocabulary: Optional[CharacterVocabulary]) -> "SequenceBatch":
        steps = native.steps
        if isinstance(values, np.ndarray) and values.dtype.kind in "UO":
            values = values.tolist()  # an array of strings is a list of strings
        if isinstance(values, str) or (is_listed(values) and values
                                       and all(isinstance(v, str) for v in values)):
            if vocabulary is None:
                raise ValueError(f"{name} holds strings, but this model has no vocabulary: build "
                                 "it with Autoencoder.text(vocabulary, ...), set "
                                 "model.vocabulary, or pass token ids")
            _refuse_lengths(lengths, f"{name}, a list of strings,")
            ids, counts = vocabulary.encode(values, steps, name=name)
            return cls(ids, counts, [int(c) for c in counts], strings=True)
        if is_listed(values):
            _refuse_lengths(lengths, f"{name}, a list of id sequences,")
            if not values:
                raise ValueError(f"{name} is an empty list; expected at least one sequence")
            padding = padding_id(native.spec)
            rows = [_token_ids(item, f"{name}[{index}]", steps)
                    for index, item in enumerate(values)]
            data = np.full((len(rows), steps), padding, dtype=np.int32)
            for index, row in enumerate(rows):
                data[index, : row.size] = row
            listed = [int(row.size) for row in rows]
            return cls(data, np.asarray(listed, dtype=np.int32), listed)
        array = _token_array(values, name)
        if array.ndim != 2 or array.shape[1] != steps:
            raise ShapeError(f"{name} has shape {tuple(array.shape)}; expected (n, {steps}) token "
                             "ids, a list of id sequences or a list of strings")
        if array.shape[0] == 0:
            raise ValueError(f"{name} is empty (shape {tuple(array.shape)}); expected at least "
                             "one sample")
        data = np.require(array, dtype=np.int32, requirements=("C_CONTIGUOUS", "ALIGNED"))
        return cls(data, as_lengths(lengths, "lengths", data.shape[0], steps))

    # ---- Calls: the _tokens one, the plain one when every sample fills T, else _sequences ----

    def encode(self, native: NativeModel) -> np.ndarray:
        """Codes ``(n, code_size)``."""
        if native.is_tokens:
            return native.encode_tokens(self.data, self.lengths)
        if self.lengths is None:
            return native.encode(self.data)
        return native.encode_sequences(self.data, self.lengths)

    def reconstruct(self, native: NativeModel) -> np.ndarray:
        """Per-step results, padded: float32 ``(n, T, F)`` or int32 ids ``(n, T)``."""
        if native.is_tokens:
            return native.reconstruct_tokens(self.data, self.lengths)
        if self.lengths is None:
            output = native.reconstruct(self.data)
        else:
            output = native.reconstruct_sequences(self.data, self.lengths)
        return output.reshape((self.samples,) + tuple(native.input_shape))

    def score(self, native: NativeModel) -> np.ndarray:
        """Per-sample scores ``(n,)``."""
        if native.is_tokens:
            return native.score_tokens(self.data, self.lengths)
        if self.lengths is None:
            return native.score(self.data)
        return native.score_sequences(self.data, self.lengths)

    def evaluate(self, native: NativeModel) -> float:
        """The mean objective."""
        if native.is_tokens:
            return native.evaluate_tokens(self.data, self.lengths)
        if self.lengths is None:
            return native.evaluate(self.data)
        return native.evaluate_sequences(self.data, self.lengths)

    # ---- Results per step ----

    def unpad(self, output: np.ndarray) -> Any:
        """Per-step results ``(n, T, ...)`` as the input came: the array itself, or for a list
        input a list of each sample's first ``t_i`` steps (copies)."""
        if self.listed is None:
            return output
        return [output[index, :count].copy() for index, count in enumerate(self.listed)]


def padding_id(spec: Any) -> int:
    """The padding id of a token model's embedding (its spec's ``padding_id``, else 0)."""
    encoder = spec.get("encoder") if isinstance(spec, dict) else None
    if isinstance(encoder, list) and encoder and isinstance(encoder[0], dict):
        value = encoder[0].get("padding_id")
        if isinstance(value, int):
            return value
    return 0


def _token_array(values: Any, name: str) -> np.ndarray:
    """``values`` as an integer array (any integer dtype; integral floats are not guessed at)."""
    if values is None:
        raise TypeError(f"{name} is None; expected token ids or strings")
    array = np.asarray(values)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} holds {array.dtype}; expected integer token ids (or strings, "
                        "with a vocabulary)")
    if array.size and (array.min() < _INT32.min or array.max() > _INT32.max):
        raise ValueError(f"{name} holds ids that do not fit 32 bits")
    return array


def _token_ids(item: Any, name: str, steps: int) -> np.ndarray:
    """One sample's ids (1..steps of them) as an int32 vector."""
    array = _token_array(item, name).reshape(-1) if np.ndim(item) <= 1 else None
    if array is None:
        raise ShapeError(f"{name} has shape {np.shape(item)}; expected a sequence of token ids")
    if not 1 <= array.size <= steps:
        raise ValueError(f"{name} has {array.size} tokens; expected 1 to {steps} (the model's "
                         f"steps T = {steps})")
    return array.astype(np.int32)


def full_lengths(lengths: Optional[np.ndarray], samples: int, steps: int) -> np.ndarray:
    """``lengths``, or ``steps`` for every sample when there are none."""
    if lengths is not None:
        return lengths
    return np.full(samples, steps, dtype=np.int32)


def refuse_lengths(native: NativeModel, lengths: Any, name: str) -> None:
    """ValueError for lengths given to a model that is not a sequence model."""
    if lengths is not None:
        raise ValueError(f"{name} is for sequence models (input [T, F] and a recurrent layer); "
                         f"this model's input shape is {tuple(native.input_shape)}")


def sequence_scaling(kind: str, batch: SequenceBatch, steps: int,
                     features: int) -> Tuple[np.ndarray, np.ndarray]:
    """The input scaling of a sequence model fitted on ``batch``: per feature, over the valid
    steps of every sample (padding does not count), by the library's rules ("standardize":
    mean and population standard deviation; "minmax": min and max - min; a constant feature
    gets scale 1), repeated over the T steps as ``(T*F,)`` vectors for
    ``ae_model_set_input_scaling``."""
    values = batch.data.reshape(batch.samples, steps, features)
    valid = np.arange(steps)[None, :] < full_lengths(batch.lengths, batch.samples, steps)[:, None]
    rows = values[valid].astype(np.float64)  # (valid steps, F)
    if not np.isfinite(rows).all():
        raise NumericError("X holds NaN or infinite values in its valid steps; the input scaling "
                           "(and training) need finite data")
    if kind == "standardize":
        offset = rows.mean(axis=0)
        spread = rows.std(axis=0)
    else:
        offset = rows.min(axis=0)
        spread = rows.max(axis=0) - offset
    scale = np.where(spread > 1e-12, spread, 1.0)
    return (np.tile(offset.astype(np.float32), steps), np.tile(scale.astype(np.float32), steps))
