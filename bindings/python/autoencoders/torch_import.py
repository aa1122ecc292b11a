"""PyTorch weights in: a model's parameters from a ``state_dict`` (PyTorch tensors or numpy arrays,
e.g. ``{k: v.numpy() for k, v in module.state_dict().items()}``), with the names translated to
this library's (docs/INTEROP.md has the full map).

The layouts are PyTorch's already (dense ``[out, in]``, conv ``[filters, in, k...]``, transposed
conv ``[in, filters, k...]``, LSTM/GRU gate blocks), so only names differ:

* the module's ``encoder`` and ``decoder`` are ``nn.Sequential`` with one module per spec entry,
  plus one module for the activation of an entry that has an ``activation`` key
  (``{"type": "dense", "units": 64, "activation": "relu"}`` is ``nn.Linear, nn.ReLU``);
  :func:`sequential_name_map` numbers them that way;
* batch and group norm: PyTorch's ``weight``/``bias`` are ``gamma``/``beta`` here;
  ``num_batches_tracked`` is not used (ignored);
* a ``variational`` entry is a custom module with two ``nn.Linear`` heads named ``mu`` and
  ``logvar``; LSTM/GRU entries are ``nn.LSTM``/``nn.GRU`` (``batch_first=True``) named as PyTorch
  names them.

Anything else (U-Net skips, SegNet unpooling, custom module names) takes an explicit
``name_map``: a dict from PyTorch names to library names (None drops a tensor) or a function.

Every name and shape is checked before anything is written: a missing, unexpected, duplicate,
mis-shaped or non-finite tensor raises an error naming it and leaves the model unchanged.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Union

import numpy as np

from ._errors import NumericError, ParameterNameError, ShapeError

__all__ = ["sequential_name_map", "load_state_dict", "from_state_dict", "to_numpy"]

#: A name map: "auto", "sequential", "identity" (or None), a dict, or a function.
NameMap = Union[str, None, Mapping[str, Optional[str]], Callable[[str], Optional[str]]]

#: Layer types with no module of their own in a Sequential (none: every entry is a module).
_LINKED = ("concat", "add", "max_unpool1d", "max_unpool2d", "max_unpool3d")
#: PyTorch's suffix -> this library's, per normalization type.
_NORM_SUFFIXES = {"weight": "gamma", "bias": "beta", "running_mean": "running_mean",
                  "running_var": "running_var"}
#: State tensors PyTorch keeps that have no counterpart here.
_IGNORED_SUFFIXES = ("num_batches_tracked",)


def to_numpy(value: Any) -> np.ndarray:
    """A PyTorch tensor (any device, with or without grad) or array-like as a numpy array."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _has_activation(entry: Mapping[str, Any]) -> bool:
    activation = entry.get("activation")
    return activation is not None and activation not in ("identity", "linear") and not (
        isinstance(activation, Mapping) and activation.get("type") in ("identity", "linear"))


def sequential_name_map(model: Any, encoder: str = "encoder", decoder: str = "decoder",
                        ) -> Dict[str, Optional[str]]:
    """PyTorch names -> library names for a module whose ``encoder`` and ``decoder`` attributes
    (renamed by the arguments; "" for a bare Sequential) are ``nn.Sequential`` mirroring the
    spec: one module per entry, plus one for each entry's ``activation``. BatchNorm's
    ``num_batches_tracked`` maps to None (ignored).

    Raises ValueError for a spec a Sequential cannot express (entries reading named inputs:
    skips, unpooling, merges), naming the entry."""
    spec = model.spec
    names = list(model.parameter_names)
    mapping: Dict[str, Optional[str]] = {}
    for part, prefix in (("encoder", encoder), ("decoder", decoder)):
        index = 0
        for i, entry in enumerate(spec.get(part, [])):
            kind = str(entry.get("type"))
            if "inputs" in entry or kind in _LINKED:
                raise ValueError(f"{part}[{i}] ({kind}) reads named inputs, which an nn.Sequential "
                                 "cannot express; pass name_map= with a dict from PyTorch names "
                                 "to library names (docs/INTEROP.md)")
            name = entry.get("name", f"{part}.{i}")
            module = f"{prefix}.{index}" if prefix else str(index)
            normalization = kind in ("batch_norm", "group_norm")
            for parameter in names:
                if not parameter.startswith(name + "."):
                    continue
                suffix = parameter[len(name) + 1:]
                if normalization:
                    torch_suffix = {v: k for k, v in _NORM_SUFFIXES.items()}.get(suffix, suffix)
                else:
                    torch_suffix = suffix
                mapping[f"{module}.{torch_suffix}"] = parameter
            if kind == "batch_norm":
                mapping[f"{module}.num_batches_tracked"] = None
            index += 2 if _has_activation(entry) else 1
    return mapping


def _resolve(model: Any, keys: List[str], name_map: NameMap,
             strict: bool) -> Callable[[str], Optional[str]]:
    """The PyTorch name -> library name function of ``name_map``. Without ``strict``, a name
    the map does not know is passed through (and skipped later, matching no parameter)."""
    library = set(model.parameter_names)
    if callable(name_map):
        return name_map  # type: ignore[return-value]
    if isinstance(name_map, Mapping):
        table = dict(name_map)

        def lookup(key: str) -> Optional[str]:
            if key not in table and not strict:
                return key
            if key not in table:
                raise ParameterNameError(f"state_dict tensor {key!r} is not in name_map (map it "
                                         "to a parameter name, or to None to drop it)")
            return table[key]
        return lookup
    if name_map in (None, "identity"):
        return lambda key: None if key.endswith(_IGNORED_SUFFIXES) else key
    if name_map not in ("auto", "sequential"):
        raise ValueError(f"name_map is {name_map!r}; expected 'auto', 'sequential', 'identity', "
                         "a dict or a function")
    try:
        sequential = sequential_name_map(model)
    except ValueError:
        if name_map == "sequential":
            raise
        sequential = None
    fits_sequential = sequential is not None and all(k in sequential for k in keys)
    if not strict and not fits_sequential and sequential is not None:
        # The numbering that explains more of the keys; the others are skipped.
        in_sequential = sum(k in sequential for k in keys)
        fits_sequential = in_sequential > sum(k in library for k in keys)
    if name_map == "sequential" or fits_sequential:
        assert sequential is not None
        table = sequential

        def lookup_sequential(key: str) -> Optional[str]:
            if key not in table and not strict:
                return key
            if key not in table:
                raise ParameterNameError(
                    f"state_dict tensor {key!r} matches no parameter of the model's layers as an "
                    f"nn.Sequential (expected names such as {', '.join(list(table)[:4])}); pass "
                    "name_map= (docs/INTEROP.md)")
            return table[key]
        return lookup_sequential
    if not strict or all(k in library or k.endswith(_IGNORED_SUFFIXES) for k in keys):
        return lambda key: None if key.endswith(_IGNORED_SUFFIXES) else key
    unknown = [k for k in keys if sequential is None or k not in sequential]
    raise ParameterNameError(
        f"state_dict tensor {unknown[0]!r} matches neither the model's parameter names nor its "
        "layers numbered as an nn.Sequential (encoder.<i>, decoder.<i>, one module per entry and "
        "per activation); pass name_map= with a dict from PyTorch names to library names "
        "(docs/INTEROP.md)")


def load_state_dict(model: Any, state_dict: Mapping[str, Any], *, name_map: NameMap = "auto",
                    strict: bool = True) -> None:
    """Sets ``model``'s parameters from ``state_dict`` (PyTorch names; tensors or arrays).

    ``name_map``: "auto" (the default: the nn.Sequential numbering of :func:`sequential_name_map`
    when every key fits it, else the library's own names), "sequential", "identity" (the keys
    are library names), a dict ``{torch_name: library_name or None}``, or a function of the
    torch name returning the library name (None: drop the tensor). With ``strict`` (default)
    every parameter of the model must be given and every tensor must map to one; without it,
    as PyTorch's ``strict=False``, tensors that match no parameter are skipped and parameters
    without a tensor keep their values (shapes and values are still checked).

    Raises :class:`ParameterNameError` (a KeyError) for a missing, unexpected or doubly mapped
    tensor, :class:`ShapeError` for a shape mismatch and :class:`NumericError` for a non-finite
    value, each naming the tensor; the model is then unchanged."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict is a {type(state_dict).__name__}; expected a mapping of "
                        "names to tensors or arrays")
    keys = [str(k) for k in state_dict]
    lookup = _resolve(model, keys, name_map, strict)
    library = list(model.parameter_names)
    known = set(library)
    values: Dict[str, np.ndarray] = {}
    sources: Dict[str, str] = {}
    for key in keys:
        target = lookup(key)
        if target is None:
            continue
        if target not in known:
            if strict:
                raise ParameterNameError(f"state_dict tensor {key!r} maps to {target!r}, which the "
                                         f"model does not have; it has {', '.join(library)}")
            continue
        if target in sources:
            raise ParameterNameError(f"state_dict tensors {sources[target]!r} and {key!r} both map "
                                     f"to parameter {target!r}")
        array = to_numpy(state_dict[key])
        expected = tuple(model.parameter_shape(target))
        if tuple(array.shape) != expected:
            raise ShapeError(f"state_dict tensor {key!r} has shape {tuple(array.shape)}; parameter "
                             f"{target!r} has shape {expected}")
        if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
            raise TypeError(f"state_dict tensor {key!r} has dtype {array.dtype}; expected real "
                            "numbers")
        array = array.astype(np.float32)
        if not np.all(np.isfinite(array)):
            raise NumericError(f"state_dict tensor {key!r} holds non-finite values")
        values[target] = array
        sources[target] = key
    if strict:
        missing = [name for name in library if name not in values]
        if missing:
            more = ""
            if len(missing) > 1:
                listed = ", ".join(missing[1:6]) + (", …" if len(missing) > 6 else "")
                more = f" (nor for {len(missing) - 1} more: {listed})"
            raise ParameterNameError(f"state_dict has no tensor for parameter {missing[0]!r}{more};"
                                     " pass strict=False to keep the model's own values")
    previous = {name: model.get_parameter(name) for name in values}
    try:
        for name, array in values.items():
            model.set_parameter(name, array)
    except BaseException:
        for name, array in previous.items():
            model.set_parameter(name, array)
        raise


def from_state_dict(spec: Any, state_dict: Mapping[str, Any], *, name_map: NameMap = "auto",
                    strict: bool = True, **training: Any) -> Any:
    """``Autoencoder.from_spec(spec, **training)`` with the parameters of ``state_dict`` (see
    :func:`load_state_dict`)."""
    from .model import Autoencoder
    return Autoencoder.from_state_dict(spec, state_dict, name_map=name_map, strict=strict,
                                       **training)
