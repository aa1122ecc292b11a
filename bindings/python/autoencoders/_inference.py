"""Inference: what every model answers (:class:`EncodingMixin`: encode, transform, the
objective) and what a model that reconstructs its input adds (:class:`ReconstructionMixin`:
decode, reconstruct, reconstruction errors and scikit-learn's scores, inpaint, anomaly
detection). Segmentation models answer :meth:`SegmentationMixin.segment` instead.

Inputs come as ``(n, input_size)`` or in the model's per-sample shape (see
:func:`_arrays.sample_layouts`); reconstructions come back as ``(n, *input_shape)``, which is
``(n, input_size)`` for dense models. Codes are flat ``(n, code_size)``: the C API has no query
of the code's shape.

Sequence models (input ``[T, F]``) also take ``lengths=`` and lists of variable-length
sequences, and text models lists of strings (see ``_sequences``): each method turns its input
into a :class:`SequenceBatch` and calls the ``_sequences`` or ``_tokens`` function of the C ABI
(the plain one when every sample fills T steps, which gives the same result).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, List, Optional, Tuple, Union

import numpy as np

from ._arrays import as_mask, as_samples
from ._errors import UnsupportedError
from ._native import NativeModel
from ._segmentation import as_labels, require_reconstruction
from ._sklearn import available_if
from ._sequences import SequenceBatch, refuse_lengths
from ._vocabulary import CharacterVocabulary

__all__ = ["EncodingMixin", "ReconstructionMixin"]


def _has_threshold(model: Any) -> bool:
    """Whether ``model`` is built and has an anomaly threshold (predict applies)."""
    return model.is_built and model._native.get_threshold() is not None


class EncodingMixin:
    """What every model answers: codes (``encode``, scikit-learn's ``transform``) and the
    training objective (``evaluate``)."""

    if TYPE_CHECKING:
        def _model(self) -> NativeModel: ...

        def _check_features(self, X: Any, *, reset: bool) -> None: ...

        def _wrap_output(self, codes: Any, X: Any) -> Any: ...

        def _check_finite(self, X: Any) -> None: ...

    def _batch(self, native: NativeModel, X: Any, lengths: Any,
               name: str = "X") -> Optional[SequenceBatch]:
        """``X`` (and ``lengths``) as a :class:`SequenceBatch` for a sequence or text model;
        None for other models (which refuse ``lengths``)."""
        if native.is_sequence or native.is_tokens:
            return SequenceBatch.prepare(native, X, lengths, name, getattr(self, "vocabulary", None))
        refuse_lengths(native, lengths, "lengths")
        return None

    @property
    def code_shape(self) -> Tuple[int, ...]:
        """The per-sample shape of :meth:`encode`'s codes: ``(code_size,)``. Codes are flat for
        every model, convolutional ones included (a code's feature maps are not reported by the
        library); decode takes them flat too."""
        return (self._model().code_size,)

    def evaluate(self, X: Any, y: Any = None, *, lengths: Any = None) -> float:
        """The mean training objective (loss plus regularizers) on ``X``, without training. A
        segmentation model needs the labels ``y`` (as :meth:`fit` takes them): its objective is the
        mean cross-entropy. Sequence models average over the valid steps (``lengths``); a text
        model's objective is the mean per-step cross-entropy.

        Raises :class:`UnsupportedError` for a segmentation model without ``y``."""
        native = self._model()
        batch = self._batch(native, X, lengths)
        if batch is not None:
            return batch.evaluate(native)
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        if native.is_segmentation:
            if y is None:
                raise UnsupportedError("evaluate: a segmentation model's objective needs the labels: "
                                       "evaluate(X, y)")
            labels = as_labels(y, "y", native, data.shape[0])
            return native.evaluate_labels(data, labels)
        return native.evaluate(data)

    def encode(self, X: Any, *, lengths: Any = None) -> np.ndarray:
        """The codes of samples ``X``: a float32 array ``(n, code_size)``.

        Sequence models take ``(n, T, F)`` with optional ``lengths`` (a recurrent encoder that
        returns its last state takes it at each sample's last valid step, so padding does not
        change a code) or a list of ``(t_i, F)`` arrays; text models a list of strings (with a
        vocabulary), a list of id sequences, or ids ``(n, T)`` with ``lengths``."""
        native = self._model()
        batch = self._batch(native, X, lengths)
        if batch is not None:
            return batch.encode(native)
        self._check_features(X, reset=False)
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        return native.encode(data)

    # ---- scikit-learn's transformer names ----

    def transform(self, X: Any, *, lengths: Any = None) -> Any:
        """scikit-learn's name of :meth:`encode` (a dataframe after ``set_output``)."""
        return self._wrap_output(self.encode(X, lengths=lengths), X)



class ReconstructionMixin:
    """What a model that reconstructs its input answers: decoding, reconstruction, errors and
    scores, inpainting, anomaly detection and scikit-learn's ``inverse_transform``."""

    vocabulary: Optional[CharacterVocabulary]
    _native: Optional[NativeModel]

    if TYPE_CHECKING:
        is_built: bool

        def _model(self) -> NativeModel: ...

        def _check_features(self, X: Any, *, reset: bool) -> None: ...

        def _batch(self, native: NativeModel, X: Any, lengths: Any,
                   name: str = "X") -> Optional[SequenceBatch]: ...

    def decode(self, Z: Any) -> Union[np.ndarray, List[str]]:
        """Reconstructions (in data space) from codes ``Z`` ``(n, code_size)``: float32
        ``(n, *input_shape)``. Raises :class:`UnsupportedError` when :attr:`can_decode` is
        False (decoders that read encoder feature maps besides the code, as in U-Net or SegNet)
        and for segmentation models.

        A text model gives the most likely token at every step, ``(n, T)`` int32 ids, or with a
        :attr:`vocabulary` the strings they spell (each read up to its end mark)."""
        native = self._model()
        require_reconstruction(native, "decode")
        code, _ = as_samples(Z, "Z", (native.code_size,), native.code_size)
        if native.is_tokens:
            ids = native.decode_tokens(code)
            return self.vocabulary.decode(ids) if self.vocabulary is not None else ids
        return native.decode(code).reshape((code.shape[0],) + native.input_shape)

    def reconstruct(self, X: Any, *, lengths: Any = None) -> Any:
        """``decode(encode(X))`` in one pass, in data space: float32 ``(n, *input_shape)``
        (``(n, input_size)`` for dense models; ``(n, C, H, W)`` for images, whichever accepted
        layout ``X`` came in).

        Sequence models: ``(n, T, F)`` with the padded steps (past ``lengths``) 0, or for a list
        of ``(t_i, F)`` arrays a list of ``(t_i, F)`` reconstructions. Text models: the most
        likely token at every valid step: strings for a list of strings, a list of id vectors
        for a list of id sequences, ``(n, T)`` int32 ids (padding id past ``lengths``) for an
        array."""
        native = self._model()
        require_reconstruction(native, "reconstruct")
        batch = self._batch(native, X, lengths)
        if batch is not None:
            output = batch.reconstruct(native)
            if batch.strings and self.vocabulary is not None:
                return self.vocabulary.decode(output, batch.lengths)
            return batch.unpad(output)
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        return native.reconstruct(data).reshape((data.shape[0],) + native.input_shape)

    def reconstruction_error(self, X: Any, *, lengths: Any = None) -> np.ndarray:
        """Per-sample reconstruction errors: each sample's mean squared reconstruction error (in
        the model's scaled space), a float32 array ``(n,)``; large errors flag anomalies.
        Sequence models average over each sample's valid steps (``lengths``, or a list's own
        lengths); text models give each sample's mean per-step cross-entropy. (This was
        ``score`` before 0.2; :meth:`score_samples` is its negative.)"""
        native = self._model()
        require_reconstruction(native, "reconstruction_error")
        batch = self._batch(native, X, lengths)
        if batch is not None:
            return batch.score(native)
        self._check_features(X, reset=False)
        data, _ = as_samples(X, "X", native.input_shape, native.input_size)
        return native.score(data)

    def score_samples(self, X: Any, *, lengths: Any = None) -> np.ndarray:
        """scikit-learn's per-sample score, IsolationForest's convention (higher means more
        normal): the negative :meth:`reconstruction_error`, float32 ``(n,)``."""
        return -self.reconstruction_error(X, lengths=lengths)

    def score(self, X: Any, y: Any = None, *, lengths: Any = None) -> float:
        """One number, higher is better (scikit-learn's rule, so that GridSearchCV's default
        scoring works): the negative mean reconstruction error of ``X``, i.e. the mean of
        :meth:`score_samples`. ``y`` is ignored. (Before 0.2 ``score`` gave per-sample errors:
        that is :meth:`reconstruction_error` now.)"""
        return float(np.mean(self.score_samples(X, lengths=lengths), dtype=np.float64))

    def inpaint(self, X: Any, mask: Any = None) -> np.ndarray:
        """Fills in missing inputs. ``mask`` has X's shape, 1 (or True) where an input is known
        and 0 where it is missing (missing entries of X may hold any finite value); without a
        mask, the NaN entries of X are the missing ones. Returns X's known inputs unchanged and
        the model's reconstruction where they were missing, as ``(n, *input_shape)``. Train with
        ``fit(X, mask=...)`` for the best fills."""
        native = self._model()
        require_reconstruction(native, "inpaint")
        if native.is_tokens:
            raise UnsupportedError("inpaint: a text model's inputs are token ids; use reconstruct")
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

    def fit_threshold(self, X: Any, quantile: float = 0.99, *, lengths: Any = None) -> float:
        """Sets the anomaly threshold to the ``quantile`` (0 to 1) of the scores of normal
        samples ``X`` (linear interpolation, as ``numpy.quantile``) and returns it. The threshold
        is kept in the model file. Sequence and text models take ``X`` (and ``lengths``) as
        :meth:`score` does."""
        native = self._model()
        require_reconstruction(native, "fit_threshold")
        if not (native.is_sequence or native.is_tokens):
            self._check_features(X, reset=False)
        quantile = float(quantile)
        if not 0.0 <= quantile <= 1.0:
            raise ValueError(f"quantile is {quantile}; expected a number in [0, 1], e.g. 0.99")
        batch = self._batch(native, X, lengths)
        if batch is not None and (native.is_tokens or batch.lengths is not None):
            # No C call fits a threshold with lengths: the same quantile of the same scores.
            scores = batch.score(native).astype(np.float64)
            native.set_threshold(float(np.quantile(scores, quantile)))
            threshold = native.get_threshold()
            assert threshold is not None
            return threshold
        data = batch.data if batch is not None else \
            as_samples(X, "X", native.input_shape, native.input_size)[0]
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

    def is_anomaly(self, X: Any, *, lengths: Any = None) -> np.ndarray:
        """Anomaly flags (``ae_model_predict``): a boolean array ``(n,)``, True where a sample's
        score exceeds the threshold, so ``X[model.is_anomaly(X)]`` selects the anomalies.
        Raises :class:`UnsupportedError` when the model has no threshold (set one with
        :meth:`fit_threshold` or :attr:`threshold`). Sequence and text models take ``X`` (and
        ``lengths``) as :meth:`score` does."""
        native = self._model()
        require_reconstruction(native, "is_anomaly")
        batch = self._batch(native, X, lengths)
        if batch is not None and (native.is_tokens or batch.lengths is not None):
            threshold = native.get_threshold()
            if threshold is None:
                raise UnsupportedError("is_anomaly: the model has no anomaly threshold; set one "
                                       "with fit_threshold(X) or model.threshold = value")
            anomalous: np.ndarray = batch.score(native) > np.float32(threshold)
            return anomalous
        data = batch.data if batch is not None else \
            as_samples(X, "X", native.input_shape, native.input_size)[0]
        flags: np.ndarray = native.predict(data) != 0
        return flags

    @property
    def offset_(self) -> float:
        """IsolationForest's ``offset_``: ``decision_function = score_samples - offset_``, so
        it is minus the :attr:`threshold`. AttributeError while the model has no threshold."""
        threshold = self._model().get_threshold() if self._native is not None else None
        if threshold is None:
            raise AttributeError("offset_: the model has no anomaly threshold; set one with "
                                 "fit_threshold(X), contamination= or model.threshold = value")
        return -float(threshold)

    @available_if(_has_threshold, "the model has no anomaly threshold; set one with "
                  "fit_threshold(X), contamination= or model.threshold = value")
    def decision_function(self, X: Any, *, lengths: Any = None) -> np.ndarray:
        """IsolationForest's convention: ``score_samples(X) - offset_``, i.e. the threshold
        minus each sample's reconstruction error, float32 ``(n,)``: negative for outliers,
        positive or zero for inliers. Available once the model has a threshold."""
        threshold = np.float32(self._model().get_threshold())
        decision: np.ndarray = threshold - self.reconstruction_error(X, lengths=lengths)
        return decision

    @available_if(_has_threshold, "the model has no anomaly threshold; set one with "
                  "fit_threshold(X), contamination= or model.threshold = value")
    def predict(self, X: Any, *, lengths: Any = None) -> np.ndarray:
        """Outlier detection as in scikit-learn: ``+1`` for an inlier, ``-1`` for an outlier (a
        reconstruction error above the threshold, as :meth:`is_anomaly`), an int array
        ``(n,)``. Available once the model has a threshold."""
        return np.where(self.decision_function(X, lengths=lengths) < 0, -1, 1)

    # ---- scikit-learn's transformer names ----

    def inverse_transform(self, Z: Any) -> Any:
        """scikit-learn's name of :meth:`decode`, flat as scikit-learn's arrays are:
        ``(n, input_size)`` for every model (a text model's strings stay strings)."""
        decoded = self.decode(Z)
        if isinstance(decoded, list):
            return decoded
        return decoded.reshape(decoded.shape[0], -1)
