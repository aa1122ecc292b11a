"""ONNX export of the sequence layers (onnx_export.py): LSTM and GRU stacks as ONNX LSTM/GRU
nodes (Sources/Autoencoders/Layers/Recurrent.swift follows PyTorch's equations, so the mapping is
PyTorch's to ONNX's)."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional

import numpy as np

from ._onnx_ops import Graph, Value


def recurrent(g: Graph, entry: Mapping[str, Any], name: str, x: Value,
              param: Callable[[str], np.ndarray], by_name: Mapping[str, Value],
              lengths: str) -> Value:
    """An ``lstm``/``gru`` entry (input ``x`` [N, T, F]) as ONNX LSTM/GRU nodes, one per layer,
    sequence-major inside. PyTorch's gate blocks (LSTM i, f, g, o; GRU r, z, n) are reordered to
    ONNX's (i, o, f, c; z, r, h); the GRU uses ``linear_before_reset`` as PyTorch does.
    ``param(name)`` reads a parameter; ``by_name`` holds the nodes an ``initial_state`` names;
    ``lengths`` is the graph's lengths input (``sequence_lens``), or "" for full lengths."""
    hidden = int(entry["units"])
    layers = int(entry.get("layers", 1))
    directions = 2 if entry.get("bidirectional", False) else 1
    steps = x.shape[0]
    lstm = entry.get("type") == "lstm"
    order = [0, 3, 1, 2] if lstm else [1, 0, 2]  # ONNX blocks, as PyTorch block indices

    def reorder(tensor: np.ndarray) -> np.ndarray:
        blocks = np.split(tensor, len(order), axis=0)
        return np.concatenate([blocks[i] for i in order], axis=0)

    initial = entry.get("initial_state")
    states: List[Optional[str]] = [None, None]
    if initial is not None:
        sources = [initial] if isinstance(initial, str) else list(initial)
        for i, source in enumerate(sources):  # [layers·D·H] -> [layers·D, N, H]
            value = by_name[source]
            rows = g.op("Reshape", [value.name, g.ints(f"{name}.state{i}.rows",
                                                       (0, layers * directions, hidden))],
                        f"{name}.state{i}.rows")
            states[i] = g.op("Transpose", [rows], f"{name}.state{i}", perm=[1, 0, 2])
    sequence = g.op("Transpose", [x.name], f"{name}.time_major", perm=[1, 0, 2])  # [T, N, F]
    last_hidden = ""
    for layer in range(layers):
        suffixes = [f"l{layer}"] + ([f"l{layer}_reverse"] if directions == 2 else [])
        w = np.stack([reorder(param(f"{name}.weight_ih_{s}")) for s in suffixes])
        r = np.stack([reorder(param(f"{name}.weight_hh_{s}")) for s in suffixes])
        b = np.stack([np.concatenate([reorder(param(f"{name}.bias_ih_{s}")),
                                      reorder(param(f"{name}.bias_hh_{s}"))])
                      for s in suffixes])
        hint = f"{name}.l{layer}"
        node_inputs = [sequence, g.const(f"{hint}.W", w), g.const(f"{hint}.R", r),
                       g.const(f"{hint}.B", b), lengths]
        for i, state in enumerate(states[:2 if lstm else 1]):
            if state is not None:
                rows = g.ints(f"{hint}.state{i}.range",
                              range(layer * directions, (layer + 1) * directions))
                state = g.op("Gather", [state, rows], f"{hint}.state{i}", axis=0)
            node_inputs.append(state or "")
        while node_inputs and node_inputs[-1] == "":
            node_inputs.pop()
        attributes: Dict[str, Any] = dict(
            hidden_size=hidden, direction="bidirectional" if directions == 2 else "forward")
        if not lstm:
            attributes["linear_before_reset"] = 1
        y, last_hidden = g.op("LSTM" if lstm else "GRU", node_inputs, hint, outputs=2,
                              **attributes)[:2]
        # Y [T, D, N, H] -> [T, N, D·H]: the next layer's input (forward half first).
        y = g.op("Transpose", [y], f"{hint}.steps", perm=[0, 2, 1, 3])
        sequence = g.op("Reshape", [y, g.ints(f"{hint}.concat", (0, 0, directions * hidden))],
                        f"{hint}.sequence")
    if entry.get("return", "sequence") == "last":  # Y_h [D, N, H] -> [N, D·H]
        last = g.op("Transpose", [last_hidden], f"{name}.last", perm=[1, 0, 2])
        out = g.op("Reshape", [last, g.ints(f"{name}.shape", (0, directions * hidden))], name)
        return Value(out, (directions * hidden,))
    out = g.op("Transpose", [sequence], name, perm=[1, 0, 2])
    return Value(out, (steps, directions * hidden))
