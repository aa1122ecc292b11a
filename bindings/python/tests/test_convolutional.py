"""Convolutional models: image and signal layouts in, the model's input shape out; training,
saving, loading and pickling; SegNet-style index links (no decode, but reconstruct)."""

import copy
import pickle

import numpy as np
import pytest

import autoencoders as ae

CONV_AE = {
    "input_shape": [1, 16, 16],
    "encoder": [{"type": "conv2d", "filters": 8, "kernel": 3, "padding": 1, "activation": "relu"},
                {"type": "max_pool2d", "kernel": 2},
                {"type": "conv2d", "filters": 4, "kernel": 3, "padding": 1, "activation": "relu"},
                {"type": "max_pool2d", "kernel": 2}],
    "decoder": [{"type": "conv_transpose2d", "filters": 8, "kernel": 2, "stride": 2,
                 "activation": "relu"},
                {"type": "conv_transpose2d", "filters": 1, "kernel": 2, "stride": 2,
                 "activation": "sigmoid"}],
    "loss": "bce",
    "optimizer": {"type": "adam", "lr": 0.01},
    "seed": 3,
}

SEGNET = {
    "input_shape": [1, 8, 8],
    "encoder": [{"type": "conv2d", "name": "enc1", "filters": 4, "kernel": 3, "padding": 1,
                 "activation": "relu"},
                {"type": "max_pool2d", "name": "pool", "kernel": 2},
                {"type": "conv2d", "name": "enc2", "filters": 8, "kernel": 3, "padding": 1,
                 "activation": "relu"}],
    "decoder": [{"type": "conv2d", "name": "dec1", "filters": 4, "kernel": 3, "padding": 1,
                 "activation": "relu"},
                {"type": "max_unpool2d", "name": "unpool", "indices_from": "pool"},
                {"type": "conv_transpose2d", "name": "dec2", "filters": 1, "kernel": 3,
                 "padding": 1, "activation": "sigmoid"}],
    "loss": "bce",
    "seed": 0,
}

SIGNAL_AE = {
    "input_shape": [2, 32],
    "encoder": [{"type": "conv1d", "filters": 4, "kernel": 3, "padding": 1, "activation": "tanh"},
                {"type": "max_pool1d", "kernel": 2}],
    "decoder": [{"type": "upsample_nearest1d", "scale": 2},
                {"type": "conv1d", "filters": 2, "kernel": 3, "padding": 1}],
    "seed": 0,
}


def blobs(n, size=16, seed=0):
    """Images (n, 1, size, size) in [0, 1]: a soft bright disc at a random place."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size]
    centres = rng.uniform(3, size - 3, (n, 2))
    radius = rng.uniform(2, 4, (n, 1, 1))
    distance = np.hypot(rows[None] - centres[:, 0, None, None],
                        cols[None] - centres[:, 1, None, None])
    images = 1 / (1 + np.exp(2 * (distance - radius)))
    return images[:, None].astype(np.float32)


@pytest.fixture
def conv_model():
    m = ae.Autoencoder.from_spec(copy.deepcopy(CONV_AE), verbose=0)
    yield m
    m.close()


def test_shapes_and_properties(conv_model):
    m = conv_model
    assert m.input_shape == (1, 16, 16) and m.input_size == 256
    assert m.code_size == 4 * 4 * 4 and m.code_shape == (64,)  # codes are flat
    assert m.can_decode and not m.is_segmentation and not m.is_variational
    # Segmentation properties are not an Autoencoder's (they were, before issue 14).
    assert {"n_classes", "label_shape", "ignore_index"}.isdisjoint(dir(m))


def test_every_layout_gives_the_model_input_shape(conv_model):
    x = blobs(5)
    reference = conv_model.reconstruct(x)
    assert reference.shape == (5, 1, 16, 16) and reference.dtype == np.float32
    for layout in (x, x[:, 0], x.reshape(5, 256), x.astype(np.float64), x.tolist()):
        np.testing.assert_array_equal(conv_model.reconstruct(layout), reference)
    codes = conv_model.encode(x[:, 0])
    assert codes.shape == (5, 64)
    np.testing.assert_array_equal(codes, conv_model.encode(x))
    decoded = conv_model.decode(codes)
    assert decoded.shape == (5, 1, 16, 16)
    np.testing.assert_allclose(decoded, reference, rtol=1e-5, atol=1e-6)
    assert conv_model.inverse_transform(codes).shape == (5, 256)  # scikit-learn's 2-D
    assert conv_model.reconstruction_error(x[:, 0]).shape == (5,)
    mask = np.ones_like(x)
    mask[:, :, :4] = 0
    filled = conv_model.inpaint(x[:, 0], mask[:, 0])
    assert filled.shape == (5, 1, 16, 16)
    np.testing.assert_array_equal(filled[:, :, 4:], x[:, :, 4:])


def test_wrong_layouts_name_the_accepted_ones(conv_model):
    expected = r"expected \(n, 1, 16, 16\), \(n, 16, 16\) or \(n, 256\)"
    for shape in [(5, 16, 8), (5, 2, 16, 16), (5, 1, 1, 16, 16), (256,)]:
        with pytest.raises(ae.ShapeError, match=expected):
            conv_model.reconstruct(np.zeros(shape, dtype=np.float32))
    with pytest.raises(ae.ShapeError, match=r"expected \(n, 64\)"):
        conv_model.decode(np.zeros((5, 4, 4, 4)))


def test_multi_channel_images_do_not_drop_the_channel_axis():
    spec = copy.deepcopy(CONV_AE)
    spec["input_shape"] = [3, 16, 16]
    spec["decoder"][-1]["filters"] = 3
    with ae.Autoencoder.from_spec(spec, verbose=0) as m:
        x = np.random.default_rng(0).random((2, 3, 16, 16), dtype=np.float32)
        assert m.reconstruct(x.reshape(2, -1)).shape == (2, 3, 16, 16)
        with pytest.raises(ae.ShapeError, match=r"expected \(n, 3, 16, 16\) or \(n, 768\)"):
            m.reconstruct(x[:, 0])


def test_conv_autoencoder_trains_saves_loads_and_reconstructs_identically(tmp_path):
    x = blobs(256)
    m = ae.Autoencoder.from_spec(copy.deepcopy(CONV_AE), verbose=0, warm_start=True)
    m.fit(x, epochs=8, batch_size=32)
    losses = m.history_["train_loss"]
    assert len(losses) == 8 and losses[-1] < 0.8 * losses[0]
    path = tmp_path / "conv.aem"
    m.save(path)
    loaded = ae.Autoencoder.load(path, verbose=0)
    assert loaded.input_shape == (1, 16, 16) and loaded.epochs_completed == 8
    np.testing.assert_array_equal(loaded.reconstruct(x[:20]), m.reconstruct(x[:20]))
    np.testing.assert_array_equal(loaded.encode(x[:20]), m.encode(x[:20]))
    for name, values in m.parameters().items():
        np.testing.assert_array_equal(loaded.get_parameter(name), values)
    assert m.parameter_shape("encoder.0.weight") == (8, 1, 3, 3)  # PyTorch's conv layout
    # Training resumes from the file (optimizer state included) exactly as from the original.
    m.fit(x, epochs=1, shuffle=False)
    loaded.fit(x, epochs=1, shuffle=False)
    np.testing.assert_array_equal(loaded.reconstruct(x[:5]), m.reconstruct(x[:5]))


def test_pickling_a_conv_model(conv_model):
    x = blobs(8)
    conv_model.fit(x, epochs=1)
    clone = pickle.loads(pickle.dumps(conv_model))
    assert clone.input_shape == (1, 16, 16) and clone.spec == conv_model.spec
    np.testing.assert_array_equal(clone.reconstruct(x), conv_model.reconstruct(x))
    deep = copy.deepcopy(conv_model)
    np.testing.assert_array_equal(deep.encode(x), conv_model.encode(x))


def test_segnet_cannot_decode_but_reconstructs():
    with ae.Autoencoder.from_spec(copy.deepcopy(SEGNET), verbose=0) as m:
        assert not m.can_decode and m.code_size == 8 * 4 * 4
        x = blobs(6, size=8)
        m.fit(x, epochs=2)
        assert m.reconstruct(x[:, 0]).shape == (6, 1, 8, 8)
        codes = m.encode(x)
        with pytest.raises(ae.UnsupportedError, match="decode.*feature maps.*reconstruct") as info:
            m.decode(codes)
        assert info.value.status_name == "AE_ERR_UNSUPPORTED"
        with pytest.raises(ae.UnsupportedError):
            m.inverse_transform(codes)


def test_signals_take_channels_by_length():
    with ae.Autoencoder.from_spec(copy.deepcopy(SIGNAL_AE), verbose=0) as m:
        assert m.input_shape == (2, 32) and m.input_size == 64
        t = np.linspace(0, 2 * np.pi, 32)
        x = np.stack([np.stack([np.sin(t + p), np.cos(t + p)]) for p in np.linspace(0, 3, 40)])
        m.fit(x, epochs=3, batch_size=8)
        out = m.reconstruct(x)
        assert out.shape == (40, 2, 32)
        np.testing.assert_array_equal(m.reconstruct(x.reshape(40, 64)), out)
        with pytest.raises(ae.ShapeError, match=r"expected \(n, 2, 32\) or \(n, 64\)"):
            m.reconstruct(x[:, 0])


def test_trainer_steps_on_image_batches(conv_model):
    x = blobs(64)
    with ae.Trainer(conv_model, batch_size=16) as trainer:
        first = trainer.step(x[:16])
        for _ in range(30):
            last = trainer.step(x[16:32, 0])  # (n, H, W) works too
    assert last < first
    with pytest.raises(ValueError, match="labels are for segmentation models"):
        ae.Trainer(conv_model, 16).step(x[:16], labels=np.zeros((16, 16, 16), dtype=int))
