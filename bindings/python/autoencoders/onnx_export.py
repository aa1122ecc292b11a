"""ONNX export: a model's inference path as an ONNX graph (opset 17), built with the ``onnx``
package's helper API from the model's spec (docs/SPEC.md) and its parameters.

The exported graph takes raw data, as the library does: input ``"input"`` is
``[N, *input_shape]`` float32 and the model's input scaling (if any) is the graph's first step.
Outputs:

* a reconstruction model: ``"reconstruction"`` ``[N, *input_shape]`` (the output activation of a
  ``bce_with_logits`` loss and the inverse input scaling included, as ``reconstruct``), then
  ``"code"`` (the encoder's output, as ``encode``; the mean μ of a VAE);
* a segmentation model: ``"labels"`` ``[N, *spatial]`` int32 (the most likely class, as
  ``segment``) or, with ``segmentation="logits"``, ``"logits"`` ``[N, classes, *spatial]``; then
  ``"code"``.

Every layer maps to standard operators: dense → Gemm; conv/conv_transpose 1-D/2-D/3-D → Conv /
ConvTranspose; max/avg pooling → MaxPool / AveragePool (``count_include_pad``); max unpooling →
MaxUnpool with the linked MaxPool's indices and its input's shape; nearest upsampling and bed of
nails → Reshape + Expand / Pad + Reshape (exact); batch norm → BatchNormalization, or folded
into the preceding conv/dense layer (``batch_norm="fold"``, _onnx_folding.py); group norm →
Reshape + ReduceMean (_onnx_ops.py); concat → Concat on the channel axis; add → Sum; k-sparse →
TopK + ScatterElements; the VAE's code → Gemm of the mean head; activations → their operators
(GELU in its erf or tanh form); lstm/gru (stacked, bidirectional, "sequence" or "last", initial
states) → ONNX LSTM/GRU with the gate blocks reordered (_onnx_sequences.py); repeat → Expand;
time_distributed_dense → MatMul + Add. A sequence model's graph takes full-length sequences, or
with ``lengths=True`` a second input ``"lengths"`` (int32 ``[N]``) that the LSTM/GRU nodes read
as ``sequence_lens``. A token (text) model takes int64 ids ``[N, T]`` (embedding → Gather) and
outputs the most likely token per step, int32, as ``reconstruct``. Branches (training-only
heads) and dropout are left out. An entry the exporter does not know raises
:class:`UnsupportedError` naming it.

Use :func:`export_onnx` (or ``Autoencoder.export_onnx``), or
``python -m autoencoders export-onnx model.aem model.onnx``.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import numpy as np

from ._errors import UnsupportedError
from ._onnx_folding import BatchNorms
from ._onnx_ops import Graph, Value, activation, group_norm, k_sparse
from ._onnx_sequences import recurrent

__all__ = ["export_onnx", "to_onnx", "OPSET"]

#: The ONNX operator set of exported graphs (ONNX Runtime >= 1.13, TensorRT 8.5+, onnxruntime-web).
OPSET = 17

#: The 1-D/2-D/3-D layer families ("conv" of "conv2d").
_SPATIAL = ("conv", "conv_transpose", "max_pool", "avg_pool", "max_unpool", "upsample_nearest",
            "bed_of_nails")
_SEGMENTATION_LOSSES = ("cross_entropy", "dice", "dice_cross_entropy")
_ACTIVATIONS = ("identity", "linear", "relu", "leaky_relu", "elu", "selu", "gelu", "gelu_tanh",
                "sigmoid", "tanh", "softplus")


def _require_onnx() -> Any:
    try:
        import onnx  # noqa: F401
    except ImportError:  # pragma: no cover - exercised only without onnx
        raise ImportError("ONNX export needs the onnx package: pip install onnx "
                          "(and onnxruntime to run the exported model)") from None
    return onnx


def _loss_type(spec: Mapping[str, Any]) -> str:
    loss = spec.get("loss", "mse")
    return loss if isinstance(loss, str) else str(loss.get("type", ""))


class _Exporter:
    def __init__(self, spec: Mapping[str, Any], parameters: Mapping[str, np.ndarray],
                 scaling: Optional[Tuple[np.ndarray, np.ndarray]], *, batch_norm: str,
                 segmentation: str, lengths: bool) -> None:
        onnx = _require_onnx()
        if batch_norm not in ("op", "fold"):
            raise ValueError(f"batch_norm is {batch_norm!r}; expected 'op' (BatchNormalization) "
                             "or 'fold' (into the preceding conv/dense layer where possible)")
        if segmentation not in ("labels", "logits"):
            raise ValueError(f"segmentation is {segmentation!r}; expected 'labels' or 'logits'")
        self.onnx = onnx
        self.spec = spec
        self.params = parameters
        self.scaling = scaling
        self.segmentation_output = segmentation
        entries = list(spec.get("encoder", [])) + list(spec.get("decoder", []))
        if lengths and not any(e.get("type") in ("lstm", "gru") for e in entries):
            raise ValueError("lengths=True applies to sequence models (with an lstm or gru "
                             "entry); this model has none")
        #: The graph input of per-sample lengths, when exported with lengths=True.
        self.lengths = "lengths" if lengths else ""
        self.g = Graph(onnx)
        if "input_shape" in spec:
            self.input_shape = tuple(int(d) for d in spec["input_shape"])
        else:
            self.input_shape = (int(spec["input_size"]),)
        self.loss = _loss_type(spec)
        self.by_name: Dict[str, Value] = {}
        # Tied weights: the encoder's dense weights in order, and how many decoder layers used one.
        self.encoder_dense: List[str] = []
        self.decoder_dense_used = 0
        # pool name -> (its indices, its input, the input's per-sample shape)
        self.pool_indices: Dict[str, Tuple[str, str, Tuple[int, ...]]] = {}
        self.unpooled = {e.get("indices_from") for e in entries if "indices_from" in e}
        self.batch_norms = BatchNorms(self.g, spec, self.param, fold=batch_norm == "fold")

    # ---- parameters -----------------------------------------------------------------------------

    def param(self, name: str, path: str) -> np.ndarray:
        if name not in self.params:
            raise UnsupportedError(f"ONNX export: {path}: the model has no parameter {name!r}")
        return np.asarray(self.params[name], np.float32)

    # ---- the walk -------------------------------------------------------------------------------

    def build(self) -> Any:
        g, helper, T = self.g, self.onnx.helper, self.onnx.TensorProto
        tokens = self.loss == "sequence_cross_entropy"
        x = Value("input", self.input_shape)
        if self.scaling is not None and not tokens:
            offset, scale = self.scaling
            shape = (1,) + self.input_shape
            inverse = (np.float32(1) / np.asarray(scale, np.float32)).astype(np.float32)
            centred = g.op("Sub", [x.name, g.const("input_scaling.offset",
                                                     np.reshape(offset, shape))], "input.centred")
            x = Value(g.op("Mul", [centred, g.const("input_scaling.inverse_scale",
                                                     np.reshape(inverse, shape))], "input.scaled"),
                       self.input_shape)
        self.by_name["input"] = x
        last = x
        code: Optional[Value] = None
        entries: List[Tuple[str, int, Mapping[str, Any]]] = \
            [("encoder", i, e) for i, e in enumerate(self.spec.get("encoder", []))] + \
            [("decoder", i, e) for i, e in enumerate(self.spec.get("decoder", []))]
        for position, (part, i, entry) in enumerate(entries):
            path = f"{part}[{i}]"
            name = entry.get("name", f"{part}.{i}")
            if "inputs" in entry:
                inputs = [self.by_name[n] for n in entry["inputs"]]
            else:
                inputs = [last]
            following = entries[position + 1][2] if position + 1 < len(entries) else None
            last = self.entry(entry, name, inputs, path, part, following)
            self.by_name[name] = last
            if part == "encoder" and i == len(self.spec["encoder"]) - 1:
                code = last
        assert code is not None
        outputs = []
        if tokens:  # the most likely token per step, as the library's reconstruction
            argmax = g.op("ArgMax", [last.name], "reconstruction.int64", axis=2, keepdims=0)
            if self.lengths:  # the padding id past each sample's length
                argmax = g.op("Where", [self.valid_steps(2), argmax,
                                        g.const("padding_id", self.padding_id(), np.int64)],
                              "reconstruction.padded")
            ids = g.op("Cast", [argmax], "reconstruction", exact=True, to=T.INT32)
            outputs.append(helper.make_tensor_value_info(ids, T.INT32, ["N", last.shape[0]]))
        elif self.loss in _SEGMENTATION_LOSSES:
            if self.segmentation_output == "labels":
                argmax = g.op("ArgMax", [last.name], "labels.int64", axis=1, keepdims=0)
                labels = g.op("Cast", [argmax], "labels", exact=True, to=T.INT32)
                outputs.append(helper.make_tensor_value_info(labels, T.INT32,
                                                             ["N"] + list(last.shape[1:])))
            else:
                logits = g.op("Identity", [last.name], "logits", exact=True)
                outputs.append(helper.make_tensor_value_info(logits, T.FLOAT,
                                                             ["N"] + list(last.shape)))
        else:
            out = last.name
            if self.loss == "bce_with_logits":
                out = g.op("Sigmoid", [out], "output.sigmoid")
            if self.scaling is not None:
                offset, scale = self.scaling
                shape = (1,) + self.input_shape
                out = g.op("Mul", [out, g.const("output_scaling.scale", np.reshape(scale, shape))],
                           "output.scaled")
                out = g.op("Add", [out, g.const("output_scaling.offset",
                                                np.reshape(offset, shape))], "output.unscaled")
            if self.lengths and len(last.shape) == 2 and last.shape[0] == self.input_shape[0]:
                out = g.op("Where", [self.valid_steps(3), out, g.const("zero", 0.0)],
                           "output.padded")  # 0 past each sample's length, as the library
            out = g.op("Identity", [out], "reconstruction", exact=True)
            outputs.append(helper.make_tensor_value_info(out, T.FLOAT, ["N"] + list(last.shape)))
        code_out = g.op("Identity", [code.name], "code", exact=True)
        outputs.append(helper.make_tensor_value_info(code_out, T.FLOAT, ["N"] + list(code.shape)))
        inputs = [helper.make_tensor_value_info("input", T.INT64 if tokens else T.FLOAT,
                                                ["N"] + list(self.input_shape))]
        if self.lengths:
            inputs.append(helper.make_tensor_value_info(self.lengths, T.INT32, ["N"]))
        graph = helper.make_graph(
            g.nodes, str(self.spec.get("name", "autoencoder")), inputs,
            outputs, initializer=g.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="autoencoders")
        model.ir_version = 8  # opset 17's IR: loadable by ONNX Runtime >= 1.13
        model.doc_string = "exported by the autoencoders Python package (docs/INTEROP.md)"
        helper.set_model_props(model, {"autoencoders.spec": json.dumps(self.spec, sort_keys=True)})
        return model

    def valid_steps(self, rank: int) -> str:
        """A bool tensor [N, T] (rank 2) or [N, T, 1] (rank 3): step t < the sample's length."""
        g = self.g
        steps = g.const("steps", np.arange(self.input_shape[0], dtype=np.int32).reshape(
            (1, -1) + (1,) * (rank - 2)), np.int32)
        shape = (-1, 1) + (1,) * (rank - 2)
        column = g.op("Reshape", [self.lengths, g.ints(f"lengths.rank{rank}", shape)],
                      f"lengths.rank{rank}")
        return g.op("Less", [steps, column], f"valid_steps.rank{rank}")

    def padding_id(self) -> int:
        encoder = self.spec.get("encoder", [])
        padding = encoder[0].get("padding_id") if encoder else None
        return int(padding) if padding is not None else 0

    def entry(self, entry: Mapping[str, Any], name: str, inputs: List[Value], path: str,
              part: str, following: Optional[Mapping[str, Any]]) -> Value:
        g = self.g
        kind = str(entry.get("type"))
        x = inputs[0]
        if kind == "embedding":  # ids [T] -> rows of the weight [T, E]
            weight = self.param(f"{name}.weight", path)
            out = g.op("Gather", [g.const(f"{name}.weight", weight), x.name], name, axis=0)
            return Value(out, x.shape + (weight.shape[1],))
        if kind in ("lstm", "gru"):
            return recurrent(g, entry, name, x, lambda p: self.param(p, path), self.by_name,
                             self.lengths)
        if kind == "repeat":  # [H] -> [T, H]
            steps = int(entry["steps"])
            column = g.op("Unsqueeze", [x.name, g.ints(f"{name}.axis", [1])], f"{name}.column")
            out = g.op("Expand", [column, g.ints(f"{name}.steps", (1, steps, 1))], name)
            return Value(out, (steps,) + x.shape)
        if kind == "time_distributed_dense":  # [T, F] -> [T, units], one dense layer per step
            weight = self.param(f"{name}.weight", path)
            out = g.op("MatMul", [x.name, g.const(f"{name}.weight_t", weight.T)], f"{name}.matmul")
            if entry.get("bias", True):
                out = g.op("Add", [out, g.const(f"{name}.bias", self.param(f"{name}.bias", path))],
                           name)
            if entry.get("activation") is not None:
                out = activation(g, entry["activation"], out, f"{name}.activation")
            return Value(out, (x.shape[0], weight.shape[0]))
        if kind == "dense":
            return self.dense(entry, name, x, path, part, following)
        if kind == "variational":  # inference: z = μ
            w = self.param(f"{name}.mu.weight", path)
            b = self.param(f"{name}.mu.bias", path)
            out = g.op("Gemm", [x.name, g.const(f"{name}.mu.weight", w),
                                g.const(f"{name}.mu.bias", b)], name, transB=1)
            return Value(out, (w.shape[0],))
        if kind == "activation":
            return Value(activation(g, entry["function"], x.name, name), x.shape)
        if kind in _ACTIVATIONS:
            return Value(activation(g, dict(entry), x.name, name), x.shape)
        if kind == "k_sparse":
            return k_sparse(g, int(entry["k"]), name, x)
        if kind in ("flatten", "reshape"):
            shape = (int(np.prod(x.shape)),) if kind == "flatten" else \
                tuple(int(d) for d in entry["shape"])
            out = g.op("Reshape", [x.name, g.ints(f"{name}.shape", (0,) + shape)], name)
            return Value(out, shape)
        if kind == "dropout":
            return x
        if kind == "concat":
            channels = sum(v.shape[0] for v in inputs)
            out = g.op("Concat", [v.name for v in inputs], name, axis=1)
            return Value(out, (channels,) + inputs[0].shape[1:])
        if kind == "add":
            return Value(g.op("Sum", [v.name for v in inputs], name), x.shape)
        if kind == "batch_norm":
            return self.batch_norms.apply(entry, name, x, path)
        if kind == "group_norm":
            return group_norm(g, entry, name, x, self.param(f"{name}.gamma", path),
                              self.param(f"{name}.beta", path))
        family, dims = kind[:-2], kind[-2:]
        if dims not in ("1d", "2d", "3d") or family not in _SPATIAL:
            raise UnsupportedError(f"ONNX export: {path} ({kind!r}, named {name!r}): this layer "
                                   "type has no ONNX mapping in this exporter")
        n = int(dims[0])
        if family in ("conv", "conv_transpose"):
            return self.convolution(entry, name, x, path, family == "conv_transpose", n, following)
        if family in ("max_pool", "avg_pool"):
            k = int(entry["kernel"])
            s = int(entry.get("stride", k))
            p = int(entry.get("padding", 0))
            spatial = tuple((d + 2 * p - k) // s + 1 for d in x.shape[1:])
            attributes = dict(kernel_shape=[k] * n, strides=[s] * n, pads=[p] * (2 * n))
            if family == "avg_pool":
                out = g.op("AveragePool", [x.name], name, count_include_pad=1, **attributes)
            elif name in self.unpooled:
                out, indices = g.op("MaxPool", [x.name], name, outputs=2, **attributes)
                self.pool_indices[name] = (indices, x.name, x.shape)
            else:
                out = g.op("MaxPool", [x.name], name, **attributes)
            return Value(out, (x.shape[0],) + spatial)
        if family == "max_unpool":
            pool_name = entry["indices_from"]
            indices, pool_input, pool_shape = self.pool_indices[pool_name]
            pool = self._pool_entry(pool_name)
            k = int(pool["kernel"])
            s = int(pool.get("stride", k))
            p = int(pool.get("padding", 0))
            shape = g.op("Shape", [pool_input], f"{name}.output_shape")
            out = g.op("MaxUnpool", [x.name, indices, shape], name, kernel_shape=[k] * n,
                       strides=[s] * n, pads=[p] * (2 * n))
            return Value(out, pool_shape)
        if family in ("upsample_nearest", "bed_of_nails"):
            scale = int(entry.get("scale", 2))
            channels, spatial = x.shape[0], x.shape[1:]
            split = (0, channels) + tuple(v for d in spatial for v in (d, 1))
            out = g.op("Reshape", [x.name, g.ints(f"{name}.split", split)], f"{name}.split")
            if family == "upsample_nearest":
                blocks = (1, 1) + tuple(v for _ in spatial for v in (1, scale))
                out = g.op("Expand", [out, g.ints(f"{name}.blocks", blocks)], f"{name}.blocks")
            else:  # each value at the top-left of its block, zeros elsewhere
                ends = (0, 0) + tuple(v for _ in spatial for v in (0, scale - 1))
                pads = (0,) * len(ends) + ends
                out = g.op("Pad", [out, g.ints(f"{name}.pads", pads)], f"{name}.blocks")
            shape = (channels,) + tuple(d * scale for d in spatial)
            out = g.op("Reshape", [out, g.ints(f"{name}.shape", (0,) + shape)], name)
            return Value(out, shape)
        raise AssertionError(family)  # pragma: no cover - _SPATIAL lists the families above

    def _pool_entry(self, pool_name: str) -> Mapping[str, Any]:
        for part in ("encoder", "decoder"):
            for i, e in enumerate(self.spec.get(part, [])):
                if e.get("name", f"{part}.{i}") == pool_name:
                    return e
        raise UnsupportedError(f"ONNX export: no pooling layer named {pool_name!r}")

    # ---- layers with parameters -----------------------------------------------------------------

    def dense(self, entry: Mapping[str, Any], name: str, x: Value, path: str, part: str,
              following: Optional[Mapping[str, Any]]) -> Value:
        g = self.g
        if len(x.shape) != 1:
            raise UnsupportedError(f"ONNX export: {path}: a dense layer needs a flat input")
        units = int(entry["units"])
        tied = part == "decoder" and bool(self.spec.get("tied_weights", False))
        if tied:
            mirror = len(self.encoder_dense) - 1 - self.decoder_dense_used
            self.decoder_dense_used += 1
            weight = self.param(self.encoder_dense[mirror], path).T
        else:
            weight = self.param(f"{name}.weight", path)
        if part == "encoder":
            self.encoder_dense.append(f"{name}.weight")
        bias = self.param(f"{name}.bias", path) if entry.get("bias", True) else None
        weight, bias = self.batch_norms.fold_following(entry, name, weight, bias, 0, following)
        inputs = [x.name, g.const(f"{name}.weight", weight)]
        if bias is not None:
            inputs.append(g.const(f"{name}.bias", bias))
        out = g.op("Gemm", inputs, name, transB=1)
        if entry.get("activation") is not None:
            out = activation(g, entry["activation"], out, f"{name}.activation")
        return Value(out, (units,))

    def convolution(self, entry: Mapping[str, Any], name: str, x: Value, path: str,
                    transposed: bool, n: int, following: Optional[Mapping[str, Any]]) -> Value:
        g = self.g
        if len(x.shape) != n + 1:
            raise UnsupportedError(f"ONNX export: {path}: expected a [C, ...] input of rank "
                                   f"{n + 1}")
        k = int(entry["kernel"])
        s = int(entry.get("stride", 1))
        p = int(entry.get("padding", 0))
        d = int(entry.get("dilation", 1))
        op = int(entry.get("output_padding", 0))
        filters = int(entry["filters"])
        weight = self.param(f"{name}.weight", path)
        bias = self.param(f"{name}.bias", path) if entry.get("bias", True) else None
        weight, bias = self.batch_norms.fold_following(entry, name, weight, bias,
                                                       1 if transposed else 0, following)
        inputs = [x.name, g.const(f"{name}.weight", weight)]
        if bias is not None:
            inputs.append(g.const(f"{name}.bias", bias))
        attributes = dict(kernel_shape=[k] * n, strides=[s] * n, pads=[p] * (2 * n),
                          dilations=[d] * n)
        if transposed:
            spatial = tuple((i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i in x.shape[1:])
            out = g.op("ConvTranspose", inputs, name, output_padding=[op] * n, **attributes)
        else:
            spatial = tuple((i + 2 * p - d * (k - 1) - 1) // s + 1 for i in x.shape[1:])
            out = g.op("Conv", inputs, name, **attributes)
        if entry.get("activation") is not None:
            out = activation(g, entry["activation"], out, f"{name}.activation")
        return Value(out, (filters,) + spatial)


def to_onnx(spec: Mapping[str, Any], parameters: Mapping[str, np.ndarray],
            scaling: Optional[Tuple[np.ndarray, np.ndarray]] = None, *,
            batch_norm: str = "op", segmentation: str = "labels", lengths: bool = False) -> Any:
    """The ONNX ``ModelProto`` of a model given by its spec, parameters (by library name) and
    input scaling ``(offset, scale)`` (None: none), checked with ``onnx.checker``.

    ``batch_norm``: "op" keeps each batch norm as a BatchNormalization node; "fold" merges it into
    the conv/dense layer it directly follows (elsewhere it becomes one Mul and Add per channel).
    ``segmentation``: a segmentation model outputs "labels" (int32 argmax) or "logits".
    ``lengths``: a sequence model's graph gets a second input ``"lengths"`` (int32 ``[N]``, each
    1..T): its LSTM/GRU nodes stop at each sample's length (``sequence_lens``) and the
    reconstruction is 0 (a token model: the padding id) past it, as the library's
    ``lengths=``; without it every sequence is taken at its full length.
    Raises :class:`UnsupportedError` naming the entry for a layer ONNX export cannot express."""
    exporter = _Exporter(spec, parameters, scaling, batch_norm=batch_norm,
                         segmentation=segmentation, lengths=lengths)
    model = exporter.build()
    exporter.onnx.checker.check_model(model, full_check=True)
    return model


def export_onnx(model: Any, path: Union[str, "os.PathLike[str]", None] = None, *,
                batch_norm: str = "op", segmentation: str = "labels",
                lengths: bool = False) -> Any:
    """Exports an :class:`Autoencoder` (its current weights and input scaling) to an ONNX file
    at ``path`` (None: only return it) and returns the ``onnx.ModelProto``. See the module
    documentation for inputs, outputs and the layers exported."""
    proto = to_onnx(model.spec, model.parameters(), model.get_input_scaling(),
                    batch_norm=batch_norm, segmentation=segmentation, lengths=lengths)
    if path is not None:
        _require_onnx().save_model(proto, os.fspath(path))
    return proto
