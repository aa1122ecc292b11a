"""ONNX export (autoencoders/onnx_export.py): one model of each kind is exported, checked with
onnx.checker, run in ONNX Runtime on the same inputs as the library, and the outputs compared
(max abs difference within 1e-5 of the output's scale). Skipped without onnx/onnxruntime."""

import json
import subprocess
import sys

import numpy as np
import pytest

import autoencoders as ae
from conftest import PACKAGE_ROOT, blobs

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TOLERANCE = 1e-5


def session(proto):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(proto.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


def relative_error(got, want):
    want = np.asarray(want, np.float64)
    got = np.asarray(got, np.float64).reshape(want.shape)
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30))


def check_reconstruction(model, X, **options):
    """Exports `model`, runs it, and returns the relative errors of reconstruction and code."""
    proto = model.export_onnx(None, **options)
    onnx.checker.check_model(proto, full_check=True)
    assert [o.name for o in proto.graph.output] == ["reconstruction", "code"]
    reconstruction, code = session(proto).run(None, {"input": X})
    assert reconstruction.shape == (len(X),) + model.input_shape
    errors = (relative_error(reconstruction, model.reconstruct(X)),
              relative_error(code, model.encode(X)))
    assert max(errors) <= TOLERANCE, errors
    return errors


def trained(spec, X, y=None, epochs=2):
    model = ae.Autoencoder.from_spec(spec, epochs=epochs, batch_size=16, verbose=0)
    model.fit(X, y)
    return model


DENSE = {
    "input_size": 12,
    "encoder": [{"type": "dense", "units": 10, "activation": "elu"},
                {"type": "dense", "units": 8, "activation": "gelu"},
                {"type": "dense", "units": 8, "activation": {"type": "softplus", "beta": 2}},
                {"type": "selu"},
                {"type": "batch_norm"},  # after an activation: a Mul and Add when folding
                {"type": "dense", "units": 6, "activation": {"type": "leaky_relu", "negative_slope": 0.2}},
                {"type": "dense", "units": 4, "activation": "gelu_tanh"}],
    "decoder": [{"type": "dense", "units": 8},
                {"type": "batch_norm"},  # folded into the Gemm before it
                {"type": "activation", "function": "sigmoid"},
                {"type": "dense", "units": 12}],
    "seed": 3,
}


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(5)
    return (rng.standard_normal((64, 12)) * 3 + 10).astype(np.float32)


def test_dense_with_input_scaling_every_activation_and_batch_norm(rows):
    model = trained(DENSE, rows)
    model.fit_input_scaling(rows)
    for batch_norm in ("op", "fold"):
        check_reconstruction(model, rows, batch_norm=batch_norm)
    ops = [node.op_type for node in model.export_onnx(batch_norm="op").graph.node]
    assert ops.count("BatchNormalization") == 2
    ops = [node.op_type for node in model.export_onnx(batch_norm="fold").graph.node]
    assert "BatchNormalization" not in ops and ops.count("Gemm") == 7


def test_tied_weights_k_sparse_and_bce_with_logits(rows):
    spec = {"input_size": 12,
            "encoder": [{"type": "dense", "units": 9, "activation": "relu"},
                        {"type": "dense", "units": 6}, {"type": "k_sparse", "k": 3}],
            "decoder": [{"type": "dense", "units": 9, "activation": "relu"},
                        {"type": "dense", "units": 12}],
            "tied_weights": True, "loss": "bce_with_logits", "seed": 2}
    X = 1 / (1 + np.exp(-(rows - 10) / 3))
    model = trained(spec, X.astype(np.float32))
    check_reconstruction(model, X.astype(np.float32))
    code = session(model.export_onnx()).run(["code"], {"input": X.astype(np.float32)})[0]
    assert np.all((code != 0).sum(axis=1) <= 3)


CONV = {
    "input_shape": [1, 8, 8],
    "encoder": [{"type": "conv2d", "filters": 4, "kernel": 3, "padding": 1, "name": "c1"},
                {"type": "batch_norm"}, {"type": "relu"},
                {"type": "max_pool2d", "kernel": 2, "name": "p1"},
                {"type": "conv2d", "filters": 6, "kernel": 3, "padding": 1, "dilation": 1,
                 "activation": "relu"},
                {"type": "avg_pool2d", "kernel": 3, "stride": 2, "padding": 1},
                {"type": "flatten"}, {"type": "dense", "units": 5}],
    "decoder": [{"type": "dense", "units": 24, "activation": "relu"},
                {"type": "reshape", "shape": [6, 2, 2]},
                {"type": "upsample_nearest2d"},
                {"type": "conv2d", "filters": 4, "kernel": 3, "padding": 1},
                {"type": "max_unpool2d", "indices_from": "p1"},
                {"type": "conv2d", "filters": 3, "kernel": 3, "stride": 2, "padding": 1},
                {"type": "bed_of_nails2d"},
                {"type": "conv_transpose2d", "filters": 2, "kernel": 3, "stride": 2,
                 "padding": 1, "output_padding": 1},
                {"type": "batch_norm"}, {"type": "dropout", "rate": 0.2},
                {"type": "conv2d", "filters": 2, "kernel": 2, "stride": 2, "dilation": 1},
                {"type": "conv_transpose2d", "filters": 1, "kernel": 3, "padding": 1,
                 "activation": "sigmoid"}],
    "loss": "bce",
    "seed": 1,
}


def test_convolutional_pools_unpool_upsampling_transposed_conv_batch_norm():
    # Max unpooling puts each value where its window's maximum was: two nearly equal maxima may
    # be ordered differently by the library's and ONNX Runtime's rounding, which moves a value
    # to another pixel. Noisy images have no such near ties (smooth blobs have many).
    X = np.random.default_rng(3).random((32, 1, 8, 8), dtype=np.float32)
    model = trained(CONV, X)
    for batch_norm in ("op", "fold"):
        proto = model.export_onnx(None, batch_norm=batch_norm)
        ops = {node.op_type for node in proto.graph.node}
        assert {"Conv", "ConvTranspose", "MaxPool", "MaxUnpool", "AveragePool"} <= ops
        assert ("BatchNormalization" in ops) == (batch_norm == "op")
        check_reconstruction(model, X, batch_norm=batch_norm)


def test_one_and_three_dimensional_layers_group_norm_and_residual_add():
    rng = np.random.default_rng(2)
    signals = rng.random((16, 2, 16), dtype=np.float32)
    spec1 = {"input_shape": [2, 16],
             "encoder": [{"type": "conv1d", "filters": 4, "kernel": 5, "padding": 2, "activation": "relu"},
                         {"type": "max_pool1d", "kernel": 2, "name": "p"},
                         {"type": "conv1d", "filters": 4, "kernel": 3, "padding": 2, "dilation": 2}],
             "decoder": [{"type": "max_unpool1d", "indices_from": "p"},
                         {"type": "upsample_nearest1d", "scale": 2},
                         {"type": "avg_pool1d", "kernel": 2},
                         {"type": "bed_of_nails1d", "scale": 2},
                         {"type": "avg_pool1d", "kernel": 3, "stride": 2, "padding": 1},
                         {"type": "conv_transpose1d", "filters": 2, "kernel": 3, "padding": 2,
                          "dilation": 2}]}
    check_reconstruction(trained(spec1, signals), signals)
    volumes = rng.random((8, 2, 4, 4, 4), dtype=np.float32)
    spec3 = {"input_shape": [2, 4, 4, 4],
             "encoder": [{"type": "conv3d", "filters": 4, "kernel": 3, "padding": 1, "name": "enc1"},
                         {"type": "group_norm", "groups": 2}, {"type": "relu"},
                         {"type": "conv3d", "filters": 4, "kernel": 3, "padding": 1, "name": "r"},
                         {"type": "add", "inputs": ["r", "enc1"]},
                         {"type": "max_pool3d", "kernel": 2, "name": "p"}],
             "decoder": [{"type": "max_unpool3d", "indices_from": "p"},
                         {"type": "upsample_nearest3d"}, {"type": "avg_pool3d", "kernel": 2},
                         {"type": "bed_of_nails3d", "scale": 2},
                         {"type": "conv3d", "filters": 4, "kernel": 2, "stride": 2},
                         {"type": "conv_transpose3d", "filters": 2, "kernel": 3, "stride": 2,
                          "padding": 1, "output_padding": 1},
                         {"type": "max_pool3d", "kernel": 2}]}
    check_reconstruction(trained(spec3, volumes), volumes)


UNET = {
    "input_shape": [1, 8, 8],
    "encoder": [{"type": "conv2d", "name": "enc1", "filters": 4, "kernel": 3, "padding": 1,
                 "activation": "relu"},
                {"type": "max_pool2d", "kernel": 2},
                {"type": "conv2d", "name": "enc2", "filters": 8, "kernel": 3, "padding": 1,
                 "activation": "relu"}],
    "decoder": [{"type": "conv_transpose2d", "name": "up1", "filters": 4, "kernel": 2, "stride": 2},
                {"type": "concat", "inputs": ["up1", "enc1"]},
                {"type": "conv2d", "filters": 4, "kernel": 3, "padding": 1, "activation": "relu"},
                {"type": "conv2d", "filters": 1, "kernel": 1}],
    "seed": 4,
}


def test_unet_skip_links():
    X = blobs(32, seed=4)
    model = trained(UNET, X)
    proto = model.export_onnx()
    assert "Concat" in {node.op_type for node in proto.graph.node}
    check_reconstruction(model, X)


def test_variational_autoencoder_exports_the_mean():
    X = blobs(32, seed=5)
    spec = {"input_shape": [1, 8, 8],
            "encoder": [{"type": "conv2d", "filters": 4, "kernel": 3, "padding": 1, "stride": 2,
                         "activation": "relu"},
                        {"type": "flatten"}, {"type": "variational", "units": 3}],
            "decoder": [{"type": "dense", "units": 64, "activation": "sigmoid"},
                        {"type": "reshape", "shape": [1, 8, 8]}],
            "loss": "bce", "seed": 5}
    model = trained(spec, X)
    check_reconstruction(model, X)
    mean, _ = model.encode_distribution(X)
    code = session(model.export_onnx()).run(["code"], {"input": X})[0]
    assert relative_error(code, mean) <= TOLERANCE


def segmentation_model():
    X = blobs(48, seed=6)
    y = (X[:, 0] > 0.5).astype(np.int64)
    spec = dict(UNET, loss="cross_entropy")
    spec["decoder"] = UNET["decoder"][:-1] + [{"type": "conv2d", "filters": 2, "kernel": 1}]
    # A VAE branch (training only) is left out of the graph.
    spec["branches"] = [{"name": "vae", "weight": 0.001, "loss": "mse",
                         "layers": [{"type": "flatten", "inputs": ["enc2"]},
                                    {"type": "variational", "units": 4},
                                    {"type": "dense", "units": 64, "activation": "sigmoid"},
                                    {"type": "reshape", "shape": [1, 8, 8]}]}]
    model = trained(spec, X, y, epochs=3)
    model.fit_input_scaling(X)
    return model, X


def test_segmentation_labels_and_logits():
    model, X = segmentation_model()
    labels_proto = model.export_onnx(None)
    assert [o.name for o in labels_proto.graph.output] == ["labels", "code"]
    assert not any(t.name.startswith("vae") for t in labels_proto.graph.initializer)
    labels, code = session(labels_proto).run(None, {"input": X})
    want = model.segment(X)
    assert labels.dtype == np.int32 and labels.shape == want.shape
    logits, code2 = session(model.export_onnx(None, segmentation="logits")).run(None, {"input": X})
    assert logits.shape == (len(X), 2, 8, 8)
    # A label may differ only where the two logits tie to within the tolerance.
    margin = np.abs(logits[:, 1] - logits[:, 0])
    assert np.all((labels == want) | (margin < TOLERANCE * np.abs(logits).max()))
    assert np.mean(labels == want) > 0.99
    assert np.array_equal(np.argmax(logits, axis=1), labels)
    assert relative_error(code, model.encode(X)) <= TOLERANCE
    assert np.array_equal(code, code2)


SEQUENCE_SPECS = {
    "lstm": {"input_shape": [7, 3],
             "encoder": [{"type": "lstm", "units": 5, "return": "last"}],
             "decoder": [{"type": "repeat", "steps": 7}, {"type": "lstm", "units": 5},
                         {"type": "time_distributed_dense", "units": 3}]},
    "gru_stacked_bidirectional": {
        "input_shape": [7, 3],
        "encoder": [{"type": "gru", "units": 4, "layers": 2, "bidirectional": True,
                     "dropout": 0.1},
                    {"type": "time_distributed_dense", "units": 4, "activation": "tanh"},
                    {"type": "gru", "units": 3, "bidirectional": True, "return": "last"}],
        "decoder": [{"type": "repeat", "steps": 7},
                    {"type": "lstm", "units": 4, "layers": 2, "bidirectional": True},
                    {"type": "time_distributed_dense", "units": 3}]},
    "seq2seq_initial_state": {
        "input_shape": [7, 3],
        "encoder": [{"type": "lstm", "units": 6, "return": "last", "name": "code"},
                    {"type": "dense", "units": 12, "name": "state"}],
        "decoder": [{"type": "dense", "units": 4, "name": "c0"},
                    {"type": "repeat", "steps": 7, "inputs": ["state"]},
                    {"type": "lstm", "units": 6, "layers": 2, "initial_state": ["state", "state"]},
                    {"type": "gru", "units": 4, "initial_state": "c0"},
                    {"type": "time_distributed_dense", "units": 3}]},
}


@pytest.mark.parametrize("kind", sorted(SEQUENCE_SPECS))
def test_sequence_models(kind):
    rng = np.random.default_rng(8)
    X = np.cumsum(rng.standard_normal((24, 7, 3)), axis=1).astype(np.float32)
    spec = dict(SEQUENCE_SPECS[kind], optimizer={"type": "adam", "lr": 0.01, "clip_grad_norm": 1.0})
    model = trained(spec, X)
    model.fit_input_scaling(X.reshape(len(X), -1))
    check_reconstruction(model, X)


@pytest.mark.parametrize("kind", sorted(SEQUENCE_SPECS))
def test_sequence_models_with_lengths(kind):
    rng = np.random.default_rng(10)
    X = np.cumsum(rng.standard_normal((24, 7, 3)), axis=1).astype(np.float32)
    lengths = rng.integers(1, 8, 24).astype(np.int32)
    lengths[:2] = (7, 1)
    spec = dict(SEQUENCE_SPECS[kind], optimizer={"type": "adam", "lr": 0.01, "clip_grad_norm": 1.0})
    model = trained(spec, X)
    model.fit_input_scaling(X.reshape(len(X), -1))
    proto = model.export_onnx(lengths=True)
    assert [i.name for i in proto.graph.input] == ["input", "lengths"]
    reconstruction, code = session(proto).run(None, {"input": X, "lengths": lengths})
    want = model.reconstruct(X, lengths=lengths)
    assert relative_error(reconstruction, want) <= TOLERANCE
    assert relative_error(code, model.encode(X, lengths=lengths)) <= TOLERANCE
    assert np.all(reconstruction[1, 1:] == 0)


def test_lengths_need_a_sequence_model(model):
    with pytest.raises(ValueError, match="lengths=True applies to sequence models"):
        model.export_onnx(lengths=True)


def test_token_model_takes_ids_and_gives_the_most_likely_tokens():
    spec = {"input_shape": [6],
            "encoder": [{"type": "embedding", "vocabulary": 9, "units": 4, "padding_id": 0},
                        {"type": "gru", "units": 8, "return": "last"}],
            "decoder": [{"type": "repeat", "steps": 6}, {"type": "gru", "units": 8},
                        {"type": "time_distributed_dense", "units": 9}],
            "loss": "sequence_cross_entropy",
            "optimizer": {"type": "adam", "lr": 0.01, "clip_grad_norm": 1.0}}
    ids = np.random.default_rng(9).integers(1, 9, (32, 6))
    model = trained(spec, ids, epochs=5)
    proto = model.export_onnx()
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    tokens, code = session(proto).run(None, {"input": ids.astype(np.int64)})
    want = model.reconstruct(ids)
    assert tokens.dtype == np.int32 and tokens.shape == want.shape
    assert np.mean(tokens == want) > 0.99  # argmax ties aside
    assert relative_error(code, model.encode(ids)) <= TOLERANCE
    lengths = np.random.default_rng(9).integers(1, 7, len(ids)).astype(np.int32)
    tokens, code = session(model.export_onnx(lengths=True)).run(
        None, {"input": ids.astype(np.int64), "lengths": lengths})
    want = model.reconstruct(ids, lengths=lengths)
    assert np.mean(tokens == want) > 0.99
    assert all(np.all(tokens[i, n:] == 0) for i, n in enumerate(lengths))  # the padding id
    assert relative_error(code, model.encode(ids, lengths=lengths)) <= TOLERANCE


def test_unknown_layer_is_named(model):
    from autoencoders.onnx_export import to_onnx
    spec = model.spec
    spec["decoder"].insert(1, {"type": "fancy_norm", "name": "mystery"})
    with pytest.raises(ae.UnsupportedError, match=r"decoder\[1\] \('fancy_norm', named 'mystery'\)"):
        to_onnx(spec, model.parameters())


def test_bad_options_are_refused(model):
    with pytest.raises(ValueError, match="batch_norm"):
        model.export_onnx(batch_norm="merge")
    with pytest.raises(ValueError, match="segmentation"):
        model.export_onnx(segmentation="probabilities")


def test_command_line_export(tmp_path, model, data):
    model.fit(data, epochs=1)
    model.save(tmp_path / "m.aem")
    out = tmp_path / "m.onnx"
    result = subprocess.run([sys.executable, "-m", "autoencoders", "export-onnx",
                             str(tmp_path / "m.aem"), str(out)], cwd=PACKAGE_ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "outputs reconstruction, code" in result.stdout
    proto = onnx.load(str(out))
    onnx.checker.check_model(proto, full_check=True)
    properties = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(properties["autoencoders.spec"]) == model.spec
    reconstruction, _ = session(proto).run(None, {"input": data})
    assert relative_error(reconstruction, model.reconstruct(data)) <= TOLERANCE
    missing = subprocess.run([sys.executable, "-m", "autoencoders", "export-onnx",
                              str(tmp_path / "absent.aem"), str(out)], cwd=PACKAGE_ROOT,
                             capture_output=True, text=True)
    assert missing.returncode == 1 and "absent.aem" in missing.stderr
