"""The pieces ONNX export builds graphs from (onnx_export.py): the graph under construction with
its unique tensor names, a tensor with its per-sample shape, and the activations as operators
(the formulas of Sources/Autoencoders/Layers/Activation.swift)."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Sequence, Union

import numpy as np

from ._errors import UnsupportedError

#: The graph's input and output names, never given to inner tensors.
RESERVED = ("input", "lengths", "reconstruction", "labels", "logits", "code")
#: SELU's α and λ, as the library's (Activation.swift).
_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805


class Graph:
    """The ONNX graph under construction: nodes, initializers, unique names."""

    def __init__(self, onnx: Any) -> None:
        self.onnx = onnx
        self.helper = onnx.helper
        self.nodes: List[Any] = []
        self.initializers: List[Any] = []
        # The graph's input and output names are never given to inner tensors.
        self._used: Dict[str, int] = {name: 1 for name in RESERVED}

    def unique(self, hint: str) -> str:
        hint = hint or "t"
        count = self._used.get(hint, 0)
        self._used[hint] = count + 1
        return hint if count == 0 else f"{hint}_{count}"

    def const(self, hint: str, values: Any, dtype: Any = np.float32) -> str:
        array = np.ascontiguousarray(np.asarray(values, dtype=dtype))
        name = self.unique(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def ints(self, hint: str, values: Sequence[int]) -> str:
        return self.const(hint, np.asarray(list(values), np.int64), np.int64)

    def op(self, op_type: str, inputs: Sequence[str], hint: str, outputs: int = 1,
           exact: bool = False, **attributes: Any) -> Union[str, List[str]]:
        """Appends a node; its outputs get unique names from ``hint`` (``exact``: ``hint``
        itself, for the graph's outputs)."""
        if exact:
            names = [hint]
        else:
            names = [self.unique(hint if i == 0 else f"{hint}.out{i}") for i in range(outputs)]
        self.nodes.append(self.helper.make_node(op_type, list(inputs), names, name=names[0],
                                                **attributes))
        return names[0] if outputs == 1 else names


class Value:
    """A tensor of the graph and its per-sample shape (without the batch axis)."""

    def __init__(self, name: str, shape: Sequence[int]) -> None:
        self.name = name
        self.shape = tuple(int(d) for d in shape)


def activation(g: Graph, function: Any, x: str, hint: str) -> str:
    """y = f(x) for a spec activation (a name or a dict), as in Layers/Activation.swift."""
    if isinstance(function, Mapping):
        name = function.get("type")
        params = function
    else:
        name, params = function, {}
    if name in (None, "identity", "linear"):
        return x
    if name == "relu":
        return g.op("Relu", [x], hint)
    if name == "leaky_relu":
        return g.op("LeakyRelu", [x], hint, alpha=float(params.get("negative_slope", 0.01)))
    if name == "elu":
        return g.op("Elu", [x], hint, alpha=float(params.get("alpha", 1.0)))
    if name == "selu":
        return g.op("Selu", [x], hint, alpha=_SELU_ALPHA, gamma=_SELU_SCALE)
    if name == "sigmoid":
        return g.op("Sigmoid", [x], hint)
    if name == "tanh":
        return g.op("Tanh", [x], hint)
    if name == "gelu":  # ½x(1 + erf(x/√2))
        scaled = g.op("Mul", [x, g.const(f"{hint}.inv_sqrt2", 0.7071067811865476)],
                      f"{hint}.scaled")
        erf = g.op("Erf", [scaled], f"{hint}.erf")
        one_plus = g.op("Add", [erf, g.const(f"{hint}.one", 1.0)], f"{hint}.cdf2")
        half_x = g.op("Mul", [x, g.const(f"{hint}.half", 0.5)], f"{hint}.half_x")
        return g.op("Mul", [half_x, one_plus], hint)
    if name == "gelu_tanh":  # ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
        cube = g.op("Mul", [g.op("Mul", [x, x], f"{hint}.x2"), x], f"{hint}.x3")
        inner = g.op("Add", [x, g.op("Mul", [cube, g.const(f"{hint}.c", 0.044715)], f"{hint}.cx3")],
                     f"{hint}.inner")
        tanh = g.op("Tanh", [g.op("Mul", [inner, g.const(f"{hint}.k", 0.7978845608028654)],
                                  f"{hint}.arg")], f"{hint}.tanh")
        one_plus = g.op("Add", [tanh, g.const(f"{hint}.one", 1.0)], f"{hint}.sum")
        half_x = g.op("Mul", [x, g.const(f"{hint}.half", 0.5)], f"{hint}.half_x")
        return g.op("Mul", [half_x, one_plus], hint)
    if name == "softplus":  # x where βx > threshold, else log(1 + e^{βx})/β
        beta = float(params.get("beta", 1.0))
        threshold = float(params.get("threshold", 20.0))
        bx = g.op("Mul", [x, g.const(f"{hint}.beta", beta)], f"{hint}.bx")
        soft = g.op("Div", [g.op("Softplus", [bx], f"{hint}.sp"), g.const(f"{hint}.beta_d", beta)],
                    f"{hint}.soft")
        above = g.op("Greater", [bx, g.const(f"{hint}.threshold", threshold)], f"{hint}.above")
        return g.op("Where", [above, x, soft], hint)
    raise UnsupportedError(f"ONNX export: unknown activation {name!r}")


def per_channel(values: np.ndarray, rank: int) -> np.ndarray:
    """A per-channel vector [C] shaped to broadcast over [N, C, ...] of per-sample rank ``rank``."""
    return np.reshape(values, (1, -1) + (1,) * (rank - 1))


def group_norm(g: Graph, entry: Mapping[str, Any], name: str, x: Value, gamma: np.ndarray,
               beta: np.ndarray) -> Value:
    """Per sample and group of channels/groups contiguous channels: (x − mean)/√(var + ε)
    (biased variance), then γ·x̂ + β per channel (GroupNorm.swift)."""
    groups = int(entry["groups"])
    eps = float(entry.get("eps", 1e-5))
    grouped = g.op("Reshape", [x.name, g.ints(f"{name}.groups", (0, groups, -1))],
                   f"{name}.grouped")
    mean = g.op("ReduceMean", [grouped], f"{name}.mean", axes=[2], keepdims=1)
    centred = g.op("Sub", [grouped, mean], f"{name}.centred")
    var = g.op("ReduceMean", [g.op("Mul", [centred, centred], f"{name}.squares")],
               f"{name}.var", axes=[2], keepdims=1)
    std = g.op("Sqrt", [g.op("Add", [var, g.const(f"{name}.eps", eps)], f"{name}.var_eps")],
               f"{name}.std")
    normalized = g.op("Div", [centred, std], f"{name}.normalized")
    out = g.op("Reshape", [normalized, g.ints(f"{name}.shape", (0,) + x.shape)],
               f"{name}.ungrouped")
    rank = len(x.shape)
    out = g.op("Mul", [out, g.const(f"{name}.gamma", per_channel(gamma, rank))],
               f"{name}.scaled")
    out = g.op("Add", [out, g.const(f"{name}.beta", per_channel(beta, rank))], name)
    return Value(out, x.shape)

def k_sparse(g: Graph, k: int, name: str, x: Value) -> Value:
    """The k largest values of each sample kept, the rest zeroed (ties: earliest first)."""
    flat = g.op("Reshape", [x.name, g.ints(f"{name}.flat", (0, -1))], f"{name}.flat")
    values, indices = g.op("TopK", [flat, g.ints(f"{name}.k", [k])], f"{name}.topk",
                           outputs=2, axis=1, largest=1, sorted=1)
    zeros = g.op("Mul", [flat, g.const(f"{name}.zero", 0.0)], f"{name}.zeros")
    kept = g.op("ScatterElements", [zeros, indices, values], f"{name}.kept", axis=1)
    out = g.op("Reshape", [kept, g.ints(f"{name}.shape", (0,) + x.shape)], name)
    return Value(out, x.shape)
