"""scikit-learn's parameter protocol (get_params, set_params, the repr), from the signature
of the class's ``__init__``, without depending on scikit-learn."""

from __future__ import annotations

import inspect
import numbers
from typing import Any, Dict, List, Tuple

#: The ranges of the C integer types behind the library's arguments. ctypes wraps an int that
#: does not fit (2**64 + 8 becomes 8), so every integer is checked against one of these first.
SIZE_MAX = 2**64 - 1
UINT64_MAX = 2**64 - 1
#: The largest integer a JSON spec holds exactly (the core reads numbers as doubles).
JSON_INT_MAX = 2**53
#: Layer widths and input sizes of a spec (docs/SPEC.md).
WIDTH_MAX = 1 << 24


def integer(value: Any, name: str, minimum: int = 0, maximum: int = SIZE_MAX) -> int:
    """``value`` as a Python int in ``[minimum, maximum]``: TypeError for a non-integer (bools
    included), ValueError naming ``name`` and the range otherwise. The one check every integer
    argument passes before it reaches ctypes or a spec."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} is {value!r}; expected an integer")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} is {value}; expected an integer >= {minimum}")
    if value > maximum:
        raise ValueError(f"{name} is {value}; expected an integer in [{minimum}, {maximum}]")
    return value


def equal(a: Any, b: Any) -> bool:
    """``a == b`` as a bool, falling back to identity when == is not a plain truth value."""
    try:
        return bool(a == b)
    except Exception:  # e.g. numpy arrays: ambiguous truth value
        return a is b


class ParamsMixin:
    """Hyperparameters are the keyword arguments of ``__init__``, stored unchanged.

    Subclasses may override ``_param`` / ``_store_param`` (where a parameter lives) and
    ``_model_params_changed`` (called by ``set_params`` when one of ``_MODEL_PARAMS`` changed).
    """

    #: Parameters whose change invalidates a built model.
    _MODEL_PARAMS: Tuple[str, ...] = ()

    @classmethod
    def _get_param_names(cls) -> List[str]:
        return [name for name, p in inspect.signature(cls.__init__).parameters.items()
                if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]

    @classmethod
    def _defaults(cls) -> Dict[str, Any]:
        return {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
                if name != "self"}

    def _param(self, name: str) -> Any:
        return getattr(self, name)

    def _store_param(self, name: str, value: Any) -> None:
        setattr(self, name, value)

    def _model_params_changed(self) -> None:
        pass

    def get_params(self, deep: bool = True) -> Dict[str, Any]:
        """The constructor arguments (hyperparameters) of this estimator, by name."""
        return {name: self._param(name) for name in self._get_param_names()}

    def set_params(self, **params: Any) -> "ParamsMixin":
        """Sets hyperparameters by name; returns self."""
        names = self._get_param_names()
        for name in params:
            if name not in names:
                raise ValueError(f"invalid parameter {name!r} for {type(self).__name__}; valid "
                                 f"parameters are {', '.join(names)}")
        changed = any(name in self._MODEL_PARAMS and not equal(self._param(name), value)
                      for name, value in params.items())
        for name, value in params.items():
            self._store_param(name, value)
        if changed:
            self._model_params_changed()
        return self

    def _repr_params(self) -> str:
        defaults = self._defaults()
        parts = []
        for name in self._get_param_names():
            value = self._param(name)
            if equal(value, defaults[name]):
                continue
            text = repr(value)
            if isinstance(value, (dict, str)) and len(text) > 60:
                text = "{...}" if isinstance(value, dict) else text[:57] + "...'"
            parts.append(f"{name}={text}")
        return ", ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._repr_params()})"
