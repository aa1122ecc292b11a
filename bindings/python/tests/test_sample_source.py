"""fit on a SampleSource (``ae_model_train_source``): the same samples as an array train bit for
bit alike; the source's exceptions propagate with the model as before the call; what a source
cannot give is refused before anything trains."""

import numpy as np
import pytest

import autoencoders as ae

SEGMENTATION = {
    "input_shape": [1, 4, 4], "loss": "cross_entropy", "seed": 2,
    "encoder": [{"type": "conv2d", "filters": 2, "kernel": 3, "padding": 1, "activation": "relu"}],
    "decoder": [{"type": "conv2d", "filters": 3, "kernel": 1}],
}


def pixels(n=300, seed=4):
    """8-bit 'images' of 12 pixels with some structure."""
    rng = np.random.default_rng(seed)
    base = rng.random((n, 2)) @ rng.random((2, 12)) / 2
    return np.clip(base * 255 + rng.normal(0, 8, (n, 12)), 0, 255).astype(np.uint8)


def estimator(spec, **settings):
    return ae.Autoencoder.from_spec(spec, epochs=4, batch_size=32, verbose=0, **settings)


def test_a_source_trains_as_the_same_array_bit_for_bit(small_spec):
    images = pixels()
    as_floats = images.astype(np.float32) / 255
    for settings in ({}, {"validation_split": 0.2, "patience": 2}):
        a = estimator(small_spec, **settings).fit(as_floats)
        b = estimator(small_spec, **settings).fit(ae.SampleSource.from_array(images, scale=1 / 255))
        assert a.history_ == {**b.history_, "elapsed_seconds": a.history_["elapsed_seconds"]}
        assert np.array_equal(a.transform(as_floats), b.transform(as_floats))
        assert a.report_.epochs_run == b.report_.epochs_run


def test_an_estimator_builds_its_model_from_the_source(data):
    """Without a spec the input size comes from the source's samples, as from an array's."""
    a = ae.Autoencoder(code_size=3, epochs=2, batch_size=16, verbose=0, seed=5).fit(data)
    b = ae.Autoencoder(code_size=3, epochs=2, batch_size=16, verbose=0, seed=5).fit(
        ae.SampleSource.from_array(data))
    assert b.n_features_in_ == 12 and np.array_equal(a.transform(data), b.transform(data))


def test_a_memmap_of_bytes_on_disk(small_spec, tmp_path):
    images = pixels()
    np.save(tmp_path / "images.npy", images)
    on_disk = np.load(tmp_path / "images.npy", mmap_mode="r")
    a = estimator(small_spec).fit(images.astype(np.float32) / 255)
    b = estimator(small_spec).fit(ae.SampleSource.from_array(on_disk, scale=1 / 255))
    x = images[:20].astype(np.float32) / 255
    assert np.array_equal(a.inverse_transform(a.transform(x)), b.inverse_transform(b.transform(x)))


def test_the_source_is_asked_for_shuffled_batches_and_the_held_out_samples(small_spec):
    images = pixels(100)
    asked = []

    def fill(indices):
        asked.append(indices.copy())
        return images[indices] / 255.0

    estimator(small_spec, validation_split=0.2).fit(ae.SampleSource(100, fill), epochs=1)
    # The first call tells the sample shape; then 80 training samples in batches of at most 32,
    # each once and shuffled, then the last 20 in order.
    training = np.concatenate(asked[1:4])
    assert [len(i) for i in asked[1:4]] == [32, 32, 16]
    assert sorted(training) == list(range(80)) and list(training) != list(range(80))
    assert list(np.concatenate(asked[4:])) == list(range(80, 100))


def test_an_exception_in_the_source_propagates_and_changes_nothing(model, data):
    model.fit(data, epochs=2)
    before, epochs = model.transform(data), model.epochs_completed
    calls = []

    def failing(indices):
        calls.append(1)
        if len(calls) == 5:
            raise OSError("the disk went away")
        return data[indices]
    with pytest.raises(OSError, match="the disk went away"):
        model.fit(ae.SampleSource(len(data), failing), epochs=3)
    assert np.array_equal(model.transform(data), before) and model.epochs_completed == epochs
    # A wrong shape and a NaN, found in the second batch.
    shapes = ae.SampleSource(len(data), lambda i: data[i][:, :11] if len(i) < 32 else data[i], (12,))
    with pytest.raises(ae.ShapeError, match="fill returned shape"):
        model.fit(shapes, batch_size=32)
    poisoned = data.copy()
    poisoned[150, 3] = np.nan
    with pytest.raises(ae.NumericError, match="of sample 150"):
        model.fit(ae.SampleSource.from_array(poisoned), shuffle=False)
    assert np.array_equal(model.transform(data), before) and model.epochs_completed == epochs
    # And training goes on from there as from an array.
    model.fit(ae.SampleSource.from_array(data), epochs=1)
    assert model.epochs_completed == epochs + 1


def test_validation_data_and_partial_fit_with_a_source(small_spec, data):
    a = estimator(small_spec).fit(data[:150], validation_data=data[150:])
    b = estimator(small_spec).fit(ae.SampleSource.from_array(data[:150]), validation_data=data[150:])
    assert a.history_["val_loss"] == b.history_["val_loss"]
    c = estimator(small_spec).partial_fit(ae.SampleSource.from_array(data))
    d = estimator(small_spec).partial_fit(data)
    assert np.array_equal(c.transform(data), d.transform(data))


def test_what_a_source_cannot_give_is_refused_before_training(small_spec, data):
    source = ae.SampleSource.from_array(data)
    m = estimator(small_spec)
    with pytest.raises(ValueError, match="mask needs X as an array"):
        m.fit(source, mask=np.ones_like(data))
    with pytest.raises(ValueError, match="input_scaling='minmax' is fitted on the training data"):
        estimator(small_spec, input_scaling="minmax").fit(source)
    with pytest.raises(ValueError, match="contamination"):
        estimator(small_spec, contamination=0.05).fit(source)
    with pytest.raises(ae.ShapeError, match="X has 7 features"):
        estimator(small_spec).fit(ae.SampleSource.from_array(np.zeros((10, 7), np.float32)))
    with pytest.raises(ValueError, match="trains on labels"):
        ae.SegmentationNetwork(spec=SEGMENTATION, verbose=0).fit(
            ae.SampleSource.from_array(np.zeros((8, 1, 4, 4), np.float32)))
    with pytest.raises(ValueError, match="n_samples"):
        ae.SampleSource(0, lambda i: data[i])
    with pytest.raises(TypeError, match="fill"):
        ae.SampleSource(10, None)
    assert m.epochs_completed == 0  # nothing trained
