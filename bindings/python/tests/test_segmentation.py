"""Segmentation models ("loss": "cross_entropy"): fit(X, y) against integer labels, segment(X),
labelled trainer steps, label checks, ignore_index, validation, refusals, saving."""

import contextlib
import copy
import pickle

import numpy as np
import pytest

import autoencoders as ae
from autoencoders._segmentation import split_holding_out
from conftest import not_for_this_class

UNET = {
    "input_shape": [1, 16, 16],
    "encoder": [{"type": "conv2d", "name": "e1", "filters": 8, "kernel": 3, "padding": 1,
                 "activation": "relu"},
                {"type": "max_pool2d", "name": "p1", "kernel": 2},
                {"type": "conv2d", "name": "e2", "filters": 16, "kernel": 3, "padding": 1,
                 "activation": "relu"}],
    "decoder": [{"type": "upsample_nearest2d", "name": "up", "scale": 2},
                {"type": "concat", "name": "cat", "inputs": ["up", "e1"]},
                {"type": "conv2d", "name": "d1", "filters": 8, "kernel": 3, "padding": 1,
                 "activation": "relu"},
                {"type": "conv2d", "name": "logits", "filters": 2, "kernel": 1}],
    "loss": "cross_entropy",
    "optimizer": {"type": "adam", "lr": 0.01},
    "seed": 0,
}


def unet(**loss):
    spec = copy.deepcopy(UNET)
    if loss:
        spec["loss"] = {"type": "cross_entropy", **loss}
    return spec


def squares(n, seed=0, size=16):
    """Noisy images (n, 1, size, size) with one bright square each; labels (n, size, size) are
    1 on the square's pixels and 0 elsewhere."""
    rng = np.random.default_rng(seed)
    images = rng.normal(0, 0.3, (n, 1, size, size)).astype(np.float32)
    labels = np.zeros((n, size, size), dtype=np.int64)
    for i in range(n):
        side = rng.integers(4, 10)
        row, col = rng.integers(0, size - side, 2)
        images[i, 0, row:row + side, col:col + side] += 1.0
        labels[i, row:row + side, col:col + side] = 1
    return images, labels


@pytest.fixture(scope="module")
def squares_data():
    return squares(256), squares(64, seed=1)


@pytest.fixture
def seg_model():
    m = ae.SegmentationNetwork.from_spec(unet(), verbose=0)
    yield m
    m.close()


def test_unet_learns_to_segment_squares(squares_data):
    (x, y), (x_test, y_test) = squares_data
    model = ae.SegmentationNetwork.from_spec(unet(), epochs=10, batch_size=32, verbose=0).fit(x, y)
    predicted = model.segment(x_test)
    assert predicted.shape == (64, 16, 16) and predicted.dtype == np.int32
    accuracy = (predicted == y_test).mean()
    chance = max(y_test.mean(), 1 - y_test.mean())  # always predicting the majority class
    assert accuracy > 0.97 and accuracy > chance + 0.1, (accuracy, chance)
    both = ((predicted == 1) & (y_test == 1)).sum()
    either = ((predicted == 1) | (y_test == 1)).sum()
    assert both / either > 0.8  # foreground intersection over union
    assert model.report_.epochs_run == 10 and model.history_["train_loss"][-1] < 0.2


def test_properties(seg_model):
    assert seg_model.is_segmentation and seg_model.n_classes == 2
    assert seg_model.input_shape == (1, 16, 16) and seg_model.label_shape == (16, 16)
    assert seg_model.label_size == 256 and seg_model.ignore_index == -100
    with not_for_this_class("can_decode"):
        assert not seg_model.can_decode  # U-Net: the decoder reads e1
    with ae.SegmentationNetwork.from_spec(unet(ignore_index=255), verbose=0) as m:
        assert m.ignore_index == 255


def test_segment_takes_every_layout(seg_model):
    x, _ = squares(4)
    labels = seg_model.segment(x)
    assert labels.shape == (4, 16, 16) and labels.dtype == np.int32
    assert set(np.unique(labels)) <= {0, 1}
    for layout in (x[:, 0], x.reshape(4, 256), x.astype(np.float64)):
        np.testing.assert_array_equal(seg_model.segment(layout), labels)


def test_label_layouts_and_dtypes_train_identically(squares_data, threads_pinned):
    (x, y), _ = squares_data
    x, y = x[:64], y[:64]
    base = ae.SegmentationNetwork.from_spec(unet(), verbose=0).to_bytes()
    variants = [y, y.astype(np.int32), y.reshape(64, 256), y[:, None], y.astype(np.uint8),
                y.astype(np.float64), y.astype(bool), np.asfortranarray(y), y.tolist()]
    results = []
    for labels in variants:
        m = ae.SegmentationNetwork.from_bytes(base, verbose=0)
        m.fit(x, labels, epochs=1, batch_size=32, shuffle=False)
        results.append(m.parameters())
    for other in results[1:]:
        for name, values in results[0].items():
            np.testing.assert_array_equal(other[name], values)


def test_labels_out_of_range_raise_with_the_position(seg_model, squares_data):
    (x, y), _ = squares_data
    before = seg_model.parameters()
    for bad_value in (2, -1, 255):
        bad = y.copy()
        bad[3, 2, 5] = bad_value
        with pytest.raises(ae.InvalidArgumentError,
                           match=rf"labels\[3, 2, 5\] = {bad_value} is not a class in 0\.\.<2 "
                                 r"nor the ignore label -100"):
            seg_model.fit(x, bad, epochs=1)
    assert seg_model.epochs_completed == 0
    for name, values in seg_model.parameters().items():
        np.testing.assert_array_equal(values, before[name])


def test_label_checks_before_the_library(seg_model, squares_data):
    (x, y), _ = squares_data
    with pytest.raises(ValueError, match=r"y is required.*fit\(X, y\).*\(n, 16, 16\)"):
        seg_model.fit(x)
    with pytest.raises(ae.ShapeError, match=r"y has shape \(256, 16, 8\); expected "
                                            r"\(256, 16, 16\), \(256, 1, 16, 16\) or \(256, 256\)"):
        seg_model.fit(x, y[:, :, :8])
    with pytest.raises(ValueError, match="labels for 255 samples, but there are 256"):
        seg_model.fit(x, y[:255])
    fractional = y.astype(np.float32)
    fractional[7, 1, 2] = 0.5
    with pytest.raises(ValueError, match=r"y\[7, 1, 2\] = 0.5 is not an integer class label"):
        seg_model.fit(x, fractional)
    fractional[7, 1, 2] = np.nan
    with pytest.raises(ValueError, match=r"y\[7, 1, 2\] = nan is not an integer"):
        seg_model.fit(x, fractional)
    huge = y.copy()
    huge[0, 0, 1] = 2 ** 40
    with pytest.raises(ValueError, match=r"y\[0, 0, 1\] = 1099511627776 does not fit"):
        seg_model.fit(x, huge)
    with pytest.raises(TypeError, match="integer class labels"):
        seg_model.fit(x, y.astype(str))
    with pytest.raises(ValueError, match="mask is for reconstruction models"):
        seg_model.fit(x, y, mask=np.ones_like(x))
    assert seg_model.epochs_completed == 0


def test_ignore_index_pixels_do_not_count(squares_data):
    (x, y), _ = squares_data
    base = ae.SegmentationNetwork.from_spec(unet(ignore_index=255), verbose=0)

    def first_loss(batch, labels):
        model = ae.SegmentationNetwork.from_bytes(base.to_bytes())  # the same weights every time
        with ae.Trainer(model, batch_size=8) as trainer:
            return trainer.step(batch, labels=labels)

    # The loss is the mean over counted pixels: a second sample whose pixels are all ignored
    # changes nothing, and neither do the values of the input under ignored pixels.
    ignored = y[:2].copy()
    ignored[1] = 255
    alone = first_loss(x[:1], y[:1])
    assert first_loss(x[:2], ignored) == pytest.approx(alone, rel=1e-6)
    assert first_loss(x[:2], np.full_like(y[:2], 255)) == 0.0
    half = y[:4].copy()
    half[:, :, 8:] = 255
    assert first_loss(x[:4], half) != pytest.approx(first_loss(x[:4], y[:4]), rel=1e-3)
    # Training with ignored pixels works; the default ignore label is then an error.
    noisy = y.copy()
    noisy[np.random.default_rng(0).random(y.shape) < 0.3] = 255
    base.fit(x, noisy, epochs=1)
    noisy[noisy == 255] = -100
    with pytest.raises(ae.InvalidArgumentError, match="nor the ignore label 255"):
        base.fit(x, noisy, epochs=1)


def test_validation_data_tuple_equals_the_same_samples_held_out(squares_data):
    (x, y), (x_val, y_val) = squares_data
    explicit = ae.SegmentationNetwork.from_spec(unet(), verbose=0)
    explicit.fit(x, y, validation_data=(x_val, y_val), epochs=2, batch_size=32)
    merged = ae.SegmentationNetwork.from_spec(unet(), verbose=0)
    merged.fit(np.concatenate([x, x_val]), np.concatenate([y, y_val]), validation_split=0.2,
               epochs=2, batch_size=32)
    assert len(explicit.history_["validation_loss"]) == 2
    assert explicit.history_["validation_loss"] == merged.history_["validation_loss"]
    assert explicit.report_.final_validation_loss is not None
    np.testing.assert_array_equal(explicit.segment(x_val), merged.segment(x_val))


def test_validation_data_errors(seg_model, squares_data):
    (x, y), (x_val, y_val) = squares_data
    for validation in (x_val, (x_val,)):
        with pytest.raises(ValueError, match=r"tuple \(X_val, y_val\).*validation_split"):
            seg_model.fit(x, y, validation_data=validation)
    bad = y_val.copy()
    bad[4, 0, 9] = 3
    with pytest.raises(ae.InvalidArgumentError,
                       match=r"y_val\[4, 0, 9\] = 3 is not a class in 0\.\.<2"):
        seg_model.fit(x, y, validation_data=(x_val, bad))
    with pytest.raises(ae.ShapeError, match="y_val has labels for 63 samples, but there are 64"):
        seg_model.fit(x, y, validation_data=(x_val, y_val[:63]))
    x_bad = x_val.copy()
    x_bad[2, 0, 0, 3] = np.inf
    with pytest.raises(ae.NumericError, match=r"validation_data: element 515 \(sample 2\)"):
        seg_model.fit(x, y, validation_data=(x_bad, y_val))
    seg_model.fit(x[:64], y[:64], validation_split=0.25, epochs=1)  # the split works as usual
    assert seg_model.report_.final_validation_loss is not None


@pytest.mark.parametrize("total", [2, 3, 7, 10, 641, 1000, 99991, 1234567])
def test_split_holding_out_selects_exactly_the_validation_samples(total):
    for held in sorted({1, 2, total // 3, total // 2, total - 1} - {0, total}):
        split = split_holding_out(total, held)
        assert 0 < split < 1
        product = np.float32(total) * np.float32(split)  # the library's float32 arithmetic
        assert int(np.floor(float(product) + 0.5)) == held


def test_refusals(seg_model, squares_data, small_spec, data):
    (x, y), _ = squares_data
    codes = seg_model.encode(x[:2])  # the encoder works: codes of segmentation models
    assert codes.shape == (2, seg_model.code_size)
    calls = {"reconstruct": (x,), "decode": (codes,), "score": (x,), "inpaint": (x,),
             "evaluate": (x,), "fit_threshold": (x,), "is_anomaly": (x,)}
    for name, arguments in calls.items():
        # Reconstruction calls are not a SegmentationNetwork's: they warn, then refuse.
        deprecated = not_for_this_class(name) if name not in dir(seg_model) else contextlib.nullcontext()
        with deprecated, pytest.raises(ae.UnsupportedError, match=name) as info:
            getattr(seg_model, name)(*arguments)
        assert info.value.status_name == "AE_ERR_UNSUPPORTED"
    with ae.Autoencoder.from_spec(small_spec, verbose=0) as reconstruction:
        with not_for_this_class("n_classes"):
            assert not reconstruction.is_segmentation and reconstruction.n_classes == 0
        with not_for_this_class("segment"), \
                pytest.raises(ae.UnsupportedError, match="segment: this model reconstructs"):
            reconstruction.segment(data)
        reconstruction.fit(data, np.zeros(len(data)), epochs=1)  # y is ignored, as before


def test_trainer_steps_with_labels_equal_fit_without_shuffle(squares_data, threads_pinned):
    (x, y), _ = squares_data
    x, y = x[:64], y[:64]
    stepped = ae.SegmentationNetwork.from_spec(unet(), verbose=0)
    with ae.Trainer(stepped, batch_size=16) as trainer:
        losses = [trainer.step(x[i:i + 16], labels=y[i:i + 16]) for i in range(0, 64, 16)]
        with pytest.raises(ValueError, match=r"labels are required.*labels=y"):
            trainer.step(x[:16])
        with pytest.raises(ValueError, match="mask is for reconstruction models"):
            trainer.step(x[:16], np.ones((16, 256)), labels=y[:16])
        with pytest.raises(ae.ShapeError, match=r"labels has shape \(16, 8, 8\)"):
            trainer.step(x[:16], labels=y[:16, :8, :8])
        with pytest.raises(ae.InvalidArgumentError, match=r"labels\[0, 0, 0\] = 9"):
            trainer.step(x[:16], labels=np.full((16, 256), 9))
    assert all(np.isfinite(losses))
    fitted = ae.SegmentationNetwork.from_spec(unet(), verbose=0)
    fitted.fit(x, y, epochs=1, batch_size=16, shuffle=False)
    for name, values in fitted.parameters().items():
        np.testing.assert_array_equal(stepped.get_parameter(name), values)


def test_save_load_and_pickle_keep_the_segmentation(seg_model, squares_data, tmp_path):
    (x, y), _ = squares_data
    seg_model.fit(x[:64], y[:64], epochs=1)
    seg_model.save(tmp_path / "unet.aem")
    loaded = ae.load(tmp_path / "unet.aem")
    clone = pickle.loads(pickle.dumps(seg_model))
    for other in (loaded, clone):
        assert other.is_segmentation and other.n_classes == 2 and other.label_shape == (16, 16)
        np.testing.assert_array_equal(other.segment(x[:16]), seg_model.segment(x[:16]))


def test_estimator_style_fit_uses_y(squares_data):
    (x, y), _ = squares_data
    estimator = ae.SegmentationNetwork(spec=unet(), epochs=1, batch_size=32, verbose=0)
    assert not estimator.is_built
    codes = estimator.fit_transform(x[:64], y[:64])  # builds the model, trains on (X, y)
    assert estimator.is_segmentation and codes.shape == (64, estimator.code_size)
    assert estimator.segment(x[:3]).shape == (3, 16, 16)
    sklearn = pytest.importorskip("sklearn.base")
    fresh = sklearn.clone(estimator)
    assert not fresh.is_built
    fresh.fit(x[:64], y[:64])
    assert fresh.epochs_completed == 1


def test_evaluate_with_labels(seg_model, squares_data):
    (x, y), _ = squares_data
    loss = seg_model.evaluate(x, y)
    assert np.isfinite(loss) and loss > 0
    assert seg_model.evaluate(x, y.reshape(len(y), -1)) == loss
    wrong = np.full_like(y, 5)
    with pytest.raises(ae.AutoencoderError, match="labels"):
        seg_model.evaluate(x, wrong)
