"""int8 inference (autoencoders/_int8.py): quantize_int8 returns a new inference-only model close
to the float one (dense and convolutional, dynamic and calibrated), which saves, loads and
pickles as int8 and refuses training; layers without an int8 path fall back to float or, with
require_all, are named in the error; layers kept in float by name; the int8 kernel choice."""

import pickle

import numpy as np
import pytest

import autoencoders as ae
from conftest import SMALL_SPEC

CONV_SPEC = {
    "input_shape": [1, 8, 8], "seed": 3,
    "encoder": [{"type": "conv2d", "filters": 4, "kernel": 3, "padding": 1, "activation": "relu"},
                {"type": "conv2d", "filters": 4, "kernel": 3, "stride": 2, "padding": 1, "activation": "relu"}],
    "decoder": [{"type": "upsample_nearest2d", "scale": 2},
                {"type": "conv2d", "filters": 1, "kernel": 3, "padding": 1, "activation": "sigmoid"}],
    "loss": "mse", "optimizer": {"type": "adam", "lr": 0.01},
}


def _data(shape, n=96, seed=0):
    rng = np.random.default_rng(seed)
    basis = rng.random((3,) + tuple(shape), dtype=np.float32)
    weights = rng.random((n, 3), dtype=np.float32)
    return (np.tensordot(weights, basis, axes=1) / 3).astype(np.float32)


@pytest.mark.parametrize("spec,shape", [(SMALL_SPEC, (12,)), (CONV_SPEC, (1, 8, 8))])
@pytest.mark.parametrize("calibrate", [False, True])
def test_int8_model_is_close_to_the_float_model(spec, shape, calibrate, tmp_path):
    X = _data(shape)
    model = ae.Autoencoder.from_spec(spec)
    model.fit(X, epochs=20, batch_size=16, verbose=0)
    q = model.quantize_int8(X if calibrate else None)
    assert isinstance(q, ae.Autoencoder) and q is not model
    assert q.is_int8 and not model.is_int8
    info = q.int8_info()
    assert info["quantized_layers"] >= 3 and info["fallback_layers"] == 0 and info["calibrated"] == calibrate
    ef = float(np.mean((model.reconstruct(X) - X) ** 2))
    eq = float(np.mean((q.reconstruct(X) - X) ** 2))
    assert abs(eq - ef) / ef < 0.02, (ef, eq)
    np.testing.assert_allclose(q.transform(X), model.transform(X), atol=0.05 * float(np.abs(model.transform(X)).max()))
    # Saved, loaded, pickled: still int8, same outputs (file sizes: the C and CLI tests, on larger models).
    q.save(tmp_path / "q.aem")
    loaded = ae.load(tmp_path / "q.aem")
    assert loaded.is_int8 and loaded.int8_info()["calibrated"] == calibrate
    np.testing.assert_array_equal(loaded.reconstruct(X), q.reconstruct(X))
    again = pickle.loads(pickle.dumps(q))
    assert again.is_int8
    np.testing.assert_array_equal(again.reconstruct(X), q.reconstruct(X))


def test_int8_model_refuses_training_and_requantising():
    X = _data((12,))
    model = ae.Autoencoder.from_spec(SMALL_SPEC)
    model.fit(X, epochs=2, verbose=0)
    q = model.quantize_int8()
    with pytest.raises(ae.UnsupportedError, match="inference only"):
        q.fit(X, epochs=1, verbose=0)
    with pytest.raises(ae.UnsupportedError, match="already an int8 model"):
        q.quantize_int8()
    with pytest.raises(ae.ShapeError):
        model.quantize_int8(np.zeros((4, 5), dtype=np.float32))
    # The original still trains.
    model.fit(X, epochs=1, verbose=0)


def test_layers_without_an_int8_path_fall_back_or_are_named():
    tied = ae.Autoencoder.dense(12, hidden=[8], code_size=3, tied_weights=True)
    q = tied.quantize_int8()
    assert q.int8_info()["fallback_layers"] >= 1
    X = _data((12,), n=8)
    np.testing.assert_allclose(q.reconstruct(X), tied.reconstruct(X), atol=0.05)
    with pytest.raises(ae.UnsupportedError, match="has no int8 path"):
        tied.quantize_int8(require_all=True)


def test_layers_kept_in_float_by_name(tmp_path):
    X = _data((1, 8, 8))
    model = ae.Autoencoder.from_spec(CONV_SPEC)
    model.fit(X, epochs=5, batch_size=16, verbose=0)
    q = model.quantize_int8(X, keep_float=["decoder.1"], require_all=True)
    info = q.int8_info()
    assert info["quantized_layers"] == 2 and info["fallback_layers"] == 1 and info["calibrated"]
    np.testing.assert_array_equal(q.get_parameter("decoder.1.weight"), model.get_parameter("decoder.1.weight"))
    assert not np.array_equal(q.get_parameter("encoder.0.weight"), model.get_parameter("encoder.0.weight"))
    q.save(tmp_path / "kept.aem")
    loaded = ae.load(tmp_path / "kept.aem")
    assert loaded.int8_info() == info
    np.testing.assert_array_equal(loaded.reconstruct(X), q.reconstruct(X))
    assert model.quantize_int8(keep_float="decoder.1").int8_info()["fallback_layers"] == 1  # one name alone
    with pytest.raises(ae.InvalidArgumentError, match=r'"decoder\.0".*encoder\.0, encoder\.1, decoder\.1'):
        model.quantize_int8(keep_float=["decoder.0"])  # upsampling: no weights
    with pytest.raises(ae.UnsupportedError, match="all of them are kept in float"):
        model.quantize_int8(keep_float=["encoder.0", "encoder.1", "decoder.1"])


def test_int8_kernel_choice():
    kernel = ae.int8_kernel()
    assert kernel in ("portable", "avx2", "avx512vnni")
    with pytest.raises(ae.InvalidArgumentError):
        ae.set_int8_kernel("avx1024")
    ae.set_int8_kernel("portable")
    try:
        assert ae.int8_kernel() == "portable"
    finally:
        ae.set_int8_kernel("auto")
    assert ae.int8_kernel() == kernel
