"""scikit-learn's conventions that go beyond get_params/set_params, without depending on it:
feature names (``feature_names_in_``, ``get_feature_names_out``), ``set_output`` (pandas or
polars containers), the messages scikit-learn's checks expect, its estimator tags, and
``clone`` (which marks the copy, so that ``verbose="auto"`` is silent inside meta-estimators).

scikit-learn, pandas and polars are imported only when the caller uses them.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any, Callable, Dict, Optional

import numpy as np

__all__ = ["SklearnMixin", "available_if", "feature_names", "output_config"]

#: The containers ``set_output(transform=...)`` accepts.
OUTPUT_CONTAINERS = ("default", "pandas", "polars")


def feature_names(X: Any) -> Optional[np.ndarray]:
    """The column names of a dataframe ``X`` as an object array, or None (no dataframe, or
    names that are not all strings, as scikit-learn's ``_get_feature_names``). Mixed string and
    non-string names are a TypeError, as in scikit-learn."""
    columns = getattr(X, "columns", None)
    if columns is None or not hasattr(X, "shape") or len(getattr(X, "shape", ())) != 2:
        return None
    names = np.asarray(list(columns), dtype=object)
    strings = [isinstance(name, str) for name in names]
    if names.size and all(strings):
        return names
    if any(strings):
        raise TypeError("Feature names are only supported if all input features have string "
                        f"names, but your input has {sorted({type(n).__name__ for n in names})} "
                        "as feature name / column name types. Convert them all to strings, e.g. "
                        "X.columns = X.columns.astype(str).")
    return None


def output_config(estimator: Any) -> str:
    """The container of ``transform``'s output: the estimator's ``set_output`` choice, else
    scikit-learn's global ``transform_output`` (when scikit-learn is installed), else
    ``"default"`` (numpy)."""
    config = getattr(estimator, "_sklearn_output_config", {}).get("transform", "default")
    if config != "default":
        return str(config)
    try:
        import sklearn
    except ImportError:
        return "default"
    return str(sklearn.get_config().get("transform_output", "default"))


def _listed(names: Any, most: int = 5) -> str:
    """``- name`` lines, at most ``most`` of them, as scikit-learn writes them."""
    lines = [f"- {name}\n" for name in list(names)[:most]]
    return "".join(lines) + ("- ...\n" if len(names) > most else "")


class available_if:
    """A method present only when ``check(self)`` is true, as scikit-learn's ``available_if``:
    ``hasattr(model, "predict")`` is False until a threshold is fitted, so meta-estimators and
    scikit-learn's checks do not call it before. The class attribute is the function itself
    (``help`` shows it)."""

    def __init__(self, check: Callable[[Any], bool], reason: str) -> None:
        self.check = check
        self.reason = reason

    def __call__(self, function: Callable[..., Any]) -> "available_if":
        self.function = function
        self.__doc__ = function.__doc__
        self.__name__ = function.__name__
        return self

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self.function
        if not self.check(instance):
            raise AttributeError(f"{type(instance).__name__}.{self.__name__} is not available: "
                                 f"{self.reason}")
        return self.function.__get__(instance, owner)


class SklearnMixin:
    """Feature names, ``set_output``, tags and ``clone`` of a :class:`Model`."""

    _native: Any
    _sklearn_output_config: Dict[str, str]
    get_params: Callable[..., Dict[str, Any]]  # from ParamsMixin

    def _model(self) -> Any:  # provided by Model
        raise NotImplementedError

    # ---- Input checks with scikit-learn's messages ----

    def _check_features(self, X: Any, *, reset: bool) -> None:
        """Records (``reset``, in fit) or checks the feature names of a dataframe ``X``; then
        (not ``reset``) checks the number of features of a 2-D ``X`` of a model that takes flat
        vectors, and that X is finite, with the messages scikit-learn's checks look for."""
        names = feature_names(X)
        if reset:
            if names is not None:
                self.feature_names_in_ = names
            else:
                self.__dict__.pop("feature_names_in_", None)
            return
        fitted = self.__dict__.get("feature_names_in_")
        name = type(self).__name__
        if names is not None and fitted is None:
            warnings.warn(f"X has feature names, but {name} was fitted without feature names",
                          UserWarning, stacklevel=3)
        elif names is None and fitted is not None and hasattr(X, "shape"):
            warnings.warn(f"X does not have valid feature names, but {name} was fitted with "
                          "feature names", UserWarning, stacklevel=3)
        elif names is not None and fitted is not None and \
                (len(names) != len(fitted) or not np.array_equal(names, fitted)):
            unexpected = sorted(set(names) - set(fitted))
            missing = sorted(set(fitted) - set(names))
            message = "The feature names should match those that were passed during fit.\n"
            if unexpected:
                message += "Feature names unseen at fit time:\n" + _listed(unexpected)
            if missing:
                message += "Feature names seen at fit time, yet now missing:\n" + _listed(missing)
            if not unexpected and not missing:
                message += "Feature names must be in the same order as they were in fit.\n"
            raise ValueError(message)
        self._check_n_features(X)
        self._check_finite(X)

    def _check_n_features(self, X: Any) -> None:
        """scikit-learn's message for a 2-D ``X`` with the wrong number of features, for a
        model that takes flat vectors."""
        name = type(self).__name__
        native = self._model()
        shape = getattr(X, "shape", None)
        if shape is not None and len(shape) == 2 and len(native.input_shape) == 1 \
                and not (native.is_sequence or native.is_tokens) \
                and int(shape[1]) != native.input_size:
            from ._errors import ShapeError
            raise ShapeError(f"X has {int(shape[1])} features, but {name} is expecting "
                             f"{native.input_size} features as input (X has shape "
                             f"{tuple(int(d) for d in shape)}; expected (n, {native.input_size}))")

    def _check_finite(self, X: Any) -> None:
        """ValueError naming NaN or inf in an array ``X`` (scikit-learn's transformers refuse
        them; the library's inference would pass them through)."""
        if isinstance(X, (list, tuple)):
            return
        from ._arrays import as_array
        array = as_array(X, "X")
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            from ._errors import NumericError
            raise NumericError("X holds NaN or inf; data must be finite")

    # ---- Output ----

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the code features, scikit-learn's ``ClassNamePrefixFeaturesOutMixin`` way:
        ``autoencoder0``, ``autoencoder1``, ... (the class name in lower case, then the index).
        ``input_features``, when given, must match the features seen in fit."""
        native = self._model()
        if input_features is not None:
            given = np.asarray(input_features, dtype=object)
            fitted = self.__dict__.get("feature_names_in_")
            if fitted is not None and not np.array_equal(given, fitted):
                raise ValueError("input_features is not equal to feature_names_in_")
            if fitted is None and len(given) != native.input_size:
                raise ValueError(f"input_features should have length equal to number of "
                                 f"features ({native.input_size}), got {len(given)}")
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}{i}" for i in range(native.code_size)], dtype=object)

    def set_output(self, *, transform: Optional[str] = None) -> Any:
        """scikit-learn's output API: ``transform="pandas"`` (or ``"polars"``) makes
        :meth:`transform` and ``fit_transform`` return a dataframe whose columns are
        :meth:`get_feature_names_out` (and whose index is X's when X is a pandas dataframe);
        ``"default"`` returns numpy arrays; None leaves the setting unchanged. Returns self."""
        if transform is None:
            return self
        if transform not in OUTPUT_CONTAINERS:
            raise ValueError(f"transform is {transform!r}; expected one of "
                             f"{', '.join(map(repr, OUTPUT_CONTAINERS))} or None")
        self._sklearn_output_config = {"transform": transform}
        return self

    def _wrap_output(self, codes: Any, X: Any) -> Any:
        """``codes`` in the container that :func:`output_config` asks for."""
        container = output_config(self)
        if container == "default" or not isinstance(codes, np.ndarray) or codes.ndim != 2:
            return codes
        columns = list(self.get_feature_names_out())
        if container == "pandas":
            import pandas
            index = X.index if isinstance(X, pandas.DataFrame) else None
            return pandas.DataFrame(codes, columns=columns, index=index, copy=False)
        if container == "polars":
            import polars
            return polars.DataFrame(codes, schema=columns, orient="row")
        raise ValueError(f"transform output {container!r} is not supported; expected "
                         f"{', '.join(map(repr, OUTPUT_CONTAINERS))}")

    # ---- Tags and clone ----

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's estimator tags (>= 1.6): an unsupervised transformer of dense 2-D
        float arrays that refuses NaN (imported lazily; scikit-learn is not a dependency)."""
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags
        return Tags(estimator_type=None, target_tags=TargetTags(required=False),
                    transformer_tags=TransformerTags(preserves_dtype=["float32"]),
                    input_tags=InputTags(two_d_array=True, allow_nan=False), requires_fit=True)

    def __sklearn_clone__(self) -> Any:
        """``sklearn.base.clone``: an unfitted estimator with the same hyperparameters (each
        cloned, as scikit-learn does) and the same ``set_output`` setting, marked as made by a
        clone: with ``verbose="auto"`` it trains silently, as the copies that GridSearchCV,
        cross_validate and other meta-estimators fit should."""
        from sklearn.base import clone
        params: Dict[str, Any] = {name: clone(value, safe=False)
                                  for name, value in self.get_params(deep=False).items()}
        twin = type(self)(**params)
        twin._cloned = True
        if "_sklearn_output_config" in self.__dict__:
            twin._sklearn_output_config = copy.deepcopy(self._sklearn_output_config)
        return twin
