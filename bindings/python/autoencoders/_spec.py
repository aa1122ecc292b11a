"""Model specs (docs/SPEC.md) as Python dicts: parsing, and building the common dense shape."""

from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional, Sequence, Union

from ._params import JSON_INT_MAX, WIDTH_MAX, integer

#: An activation: a name ("relu"), a dict ({"type": "leaky_relu", "negative_slope": 0.2}) or
#: None (linear).
Activation = Union[str, Mapping[str, Any], None]
#: A spec as a dict or as JSON text.
SpecLike = Union[Mapping[str, Any], str]


def as_dict(spec: SpecLike) -> Dict[str, Any]:
    """A spec given as a mapping or JSON text, as a fresh dict (validated by the library later)."""
    if isinstance(spec, (str, bytes)):
        try:
            parsed = json.loads(spec)
        except json.JSONDecodeError as error:
            from ._errors import SpecError
            raise SpecError(f"the spec is not valid JSON: {error}") from None
    elif isinstance(spec, Mapping):
        parsed = json.loads(to_json(spec))  # a deep copy that also checks it is JSON-able
    else:
        raise TypeError(f"spec is a {type(spec).__name__}; expected a dict or JSON text")
    if not isinstance(parsed, dict):
        from ._errors import SpecError
        raise SpecError("the spec must be a JSON object")
    return parsed


def to_json(spec: Mapping[str, Any]) -> str:
    """A spec dict as JSON text (numpy scalars and tuples accepted)."""
    def default(value: Any) -> Any:
        if hasattr(value, "item") and callable(value.item):  # numpy scalars
            return value.item()
        if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays
            return value.tolist()
        raise TypeError(f"{type(value).__name__} is not JSON serializable")
    try:
        return json.dumps(spec, default=default, allow_nan=False)
    except (TypeError, ValueError) as error:
        from ._errors import SpecError
        raise SpecError(f"the spec cannot be written as JSON: {error}") from None


def _layer(units: int, activation: Activation) -> Dict[str, Any]:
    layer: Dict[str, Any] = {"type": "dense", "units": int(units)}
    if activation is not None and activation not in ("linear", "identity"):
        layer["activation"] = activation if isinstance(activation, str) else dict(activation)
    return layer


def dense_spec(input_size: int, hidden: Sequence[int] = (128,), code_size: int = 32, *,
               activation: Activation = "relu", code_activation: Activation = None,
               output_activation: Activation = None, loss: Union[str, Mapping[str, Any]] = "mse",
               optimizer: Union[str, Mapping[str, Any]] = "adam", lr: Optional[float] = None,
               schedule: Union[str, Mapping[str, Any], None] = None, tied_weights: bool = False,
               init: Optional[str] = None, seed: int = 0) -> Dict[str, Any]:
    """The spec of a symmetric dense autoencoder.

    The encoder is ``input_size -> hidden[0] -> ... -> hidden[-1] -> code_size`` and the decoder
    mirrors it back to ``input_size``. Hidden layers use ``activation``, the code layer
    ``code_activation`` and the last decoder layer ``output_activation`` (None: linear).
    ``optimizer`` is a name ("adam", "adamw", "sgd", "rmsprop", "adagrad") or a dict of its
    options; ``lr`` (when not None) sets its learning rate. ``schedule`` is a dict such as
    ``{"type": "cosine", "t_max": 50}`` (a bare name means its defaults).
    """
    if isinstance(hidden, (int, float)) or isinstance(hidden, (str, bytes)):
        raise TypeError(f"hidden is {hidden!r}; expected a sequence of layer widths such as [512, 128]")
    hidden = [integer(h, f"hidden[{i}]", 1, WIDTH_MAX) for i, h in enumerate(hidden)]
    input_size = integer(input_size, "input_size", 1, WIDTH_MAX)
    code_size = integer(code_size, "code_size", 1, WIDTH_MAX)
    seed = integer(seed, "seed", 0, JSON_INT_MAX)
    encoder = [_layer(units, activation) for units in hidden] + [_layer(code_size, code_activation)]
    decoder = [_layer(units, activation) for units in reversed(hidden)]
    decoder.append(_layer(input_size, output_activation))

    if isinstance(optimizer, str):
        optimizer_spec: Dict[str, Any] = {"type": optimizer}
    elif isinstance(optimizer, Mapping):
        optimizer_spec = dict(optimizer)
    else:
        raise TypeError(f"optimizer is {optimizer!r}; expected a name such as 'adam' or a dict")
    if lr is not None:
        optimizer_spec["lr"] = float(lr)

    spec: Dict[str, Any] = {"input_size": int(input_size), "encoder": encoder, "decoder": decoder,
                            "loss": loss if isinstance(loss, str) else dict(loss),
                            "optimizer": optimizer_spec, "seed": seed}
    if tied_weights:
        spec["tied_weights"] = True
    if schedule is not None:
        spec["schedule"] = {"type": schedule} if isinstance(schedule, str) else dict(schedule)
    if init is not None:
        spec["init"] = init
    return spec
