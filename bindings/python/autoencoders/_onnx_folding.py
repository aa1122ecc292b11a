"""Batch norm in ONNX export (onnx_export.py): a BatchNormalization node, or with
``batch_norm="fold"`` the inference formula of Sources/Autoencoders/Layers/BatchNorm.swift,
y = γ·(x − running_mean)/√(running_var + ε) + β, written y = a·x + b per channel and folded into
the dense/conv/conv_transpose layer the batch norm directly follows (its weight scaled by a along
the output channels, its bias taken to a·bias + b), else one Mul and Add per channel."""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Set, Tuple

import numpy as np

from ._errors import UnsupportedError
from ._onnx_ops import Graph, Value, per_channel


class BatchNorms:
    """The model's batch norms in the graph under construction: the exporter passes each
    dense/conv layer's parameters through :meth:`fold_following` and each batch norm entry
    through :meth:`apply`, which leaves out those folded into the layer before them."""

    def __init__(self, g: Graph, spec: Mapping[str, Any],
                 param: Callable[[str, str], np.ndarray], fold: bool) -> None:
        """``param(name, path)`` reads a parameter (``path``: the entry, for errors); ``fold``:
        ``batch_norm="fold"``."""
        self.g = g
        self.spec = spec
        self.param = param
        self.fold = fold
        self.folded: Set[str] = set()  # batch norms merged into the layer before them
        # Names read explicitly by some entry (a conv read elsewhere cannot absorb a batch norm).
        entries = [e for part in ("encoder", "decoder") for e in spec.get(part, [])]
        self.read_by_name = {name for e in entries for name in e.get("inputs", [])}
        for e in entries:  # recurrent initial states read nodes by name too
            state = e.get("initial_state")
            self.read_by_name.update([state] if isinstance(state, str) else state or [])

    def _foldable(self, entry: Mapping[str, Any], name: str,
                  following: Optional[Mapping[str, Any]]) -> bool:
        """Whether the batch norm that follows this layer reads only its raw output."""
        return (self.fold and following is not None and following.get("type") == "batch_norm"
                and "inputs" not in following
                and entry.get("activation") in (None, "identity", "linear")
                and name not in self.read_by_name and name not in self._code_names())

    def _code_names(self) -> Set[str]:
        encoder = self.spec.get("encoder", [])
        return {encoder[-1].get("name", f"encoder.{len(encoder) - 1}")} if encoder else set()

    def _bn_affine(self, entry: Mapping[str, Any], name: str,
                   path: str) -> Tuple[np.ndarray, np.ndarray]:
        """a, b of the inference batch norm y = a·x + b, in float64 then rounded."""
        eps = float(entry.get("eps", 1e-5))
        gamma = self.param(f"{name}.gamma", path).astype(np.float64)
        beta = self.param(f"{name}.beta", path).astype(np.float64)
        mean = self.param(f"{name}.running_mean", path).astype(np.float64)
        var = self.param(f"{name}.running_var", path).astype(np.float64)
        a = gamma / np.sqrt(var + np.float64(np.float32(eps)))
        return a, beta - mean * a

    def _entry_position(self, name: str) -> Tuple[str, int]:
        for part in ("encoder", "decoder"):
            for i, e in enumerate(self.spec.get(part, [])):
                if e.get("name", f"{part}.{i}") == name:
                    return part, i
        raise UnsupportedError(f"ONNX export: internal: no entry named {name!r}")

    def fold_following(self, entry: Mapping[str, Any], name: str, weight: np.ndarray,
                       bias: Optional[np.ndarray], channel_axis: int,
                       following: Optional[Mapping[str, Any]]
                       ) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """The weight and bias (None: none) of the dense/conv layer ``entry``, with the batch norm
        ``following`` it folded in when that reads only this layer's raw output, else unchanged.
        ``channel_axis``: the weight's output-channel axis (1 for conv_transpose's [in, out, …])."""
        if not self._foldable(entry, name, following):
            return weight, bias
        assert following is not None
        position = self._entry_position(name)
        bn_name = following.get("name", f"{position[0]}.{position[1] + 1}")
        a, b = self._bn_affine(following, bn_name, f"{position[0]}[{position[1] + 1}]")
        shape = [1] * weight.ndim
        shape[channel_axis] = -1
        folded_w = (weight.astype(np.float64) * a.reshape(shape)).astype(np.float32)
        base = np.zeros_like(a) if bias is None else bias.astype(np.float64)
        folded_b = (base * a + b).astype(np.float32)
        self.folded.add(bn_name)
        return folded_w, folded_b

    def apply(self, entry: Mapping[str, Any], name: str, x: Value, path: str) -> Value:
        """The batch norm entry ``name`` on ``x``: nothing if folded into the layer before it."""
        g = self.g
        if name in self.folded:
            return x
        eps = float(entry.get("eps", 1e-5))
        if self.fold:  # not after a conv/dense layer it could join: one multiply-add per channel
            a, b = self._bn_affine(entry, name, path)
            rank = len(x.shape)
            out = g.op("Mul", [x.name, g.const(f"{name}.scale", per_channel(a, rank))],
                       f"{name}.scaled")
            out = g.op("Add", [out, g.const(f"{name}.shift", per_channel(b, rank))], name)
            return Value(out, x.shape)
        inputs = [x.name] + [g.const(f"{name}.{suffix}", self.param(f"{name}.{suffix}", path))
                             for suffix in ("gamma", "beta", "running_mean", "running_var")]
        out = g.op("BatchNormalization", inputs, name, epsilon=eps)
        return Value(out, x.shape)
