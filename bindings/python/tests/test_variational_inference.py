"""Variational autoencoders, inference: the distribution of a code, generation from the prior,
interpolation and sampled codes, the checks of their arguments, and the refusals on models
that are not VAEs (or cannot decode). The dense VAE spec, the data and the fixtures are
conftest.py's."""

import copy

import numpy as np
import pytest

import autoencoders as ae
from conftest import DENSE_VAE, blobs, line_decodings, not_for_this_class

#: Decoders that read encoder maps (a SegNet-style index link): no decode from a code alone.
SEGNET = {
    "input_shape": [1, 8, 8],
    "encoder": [{"type": "conv2d", "name": "enc1", "filters": 4, "kernel": 3, "padding": 1,
                 "activation": "relu"},
                {"type": "max_pool2d", "name": "pool", "kernel": 2}],
    "decoder": [{"type": "max_unpool2d", "name": "unpool", "indices_from": "pool"},
                {"type": "conv_transpose2d", "name": "dec", "filters": 1, "kernel": 3,
                 "padding": 1, "activation": "sigmoid"}],
    "loss": "bce",
    "seed": 0,
}


# ---- Inference ------------------------------------------------------------------------------


def test_properties(trained_vae, plain):
    assert trained_vae.is_variational and trained_vae.code_size == 4
    assert trained_vae.can_decode and not trained_vae.is_segmentation
    assert not plain.is_variational
    names = trained_vae.parameter_names
    for suffix in ("mu.weight", "mu.bias", "logvar.weight", "logvar.bias"):
        assert any(name.endswith(suffix) for name in names), names


def test_encode_is_the_mean_of_the_distribution(trained_vae, images):
    data = images.reshape(256, 64)
    mean, logvar = trained_vae.encode_distribution(data)
    assert mean.shape == logvar.shape == (256, 4)
    assert mean.dtype == logvar.dtype == np.float32
    np.testing.assert_array_equal(mean, trained_vae.encode(data))
    assert np.isfinite(logvar).all()
    assert not np.array_equal(mean, logvar)
    # Training spreads the means and narrows the posteriors below the prior's unit variance.
    assert np.exp(logvar).mean() < 1.0
    # Every accepted layout and dtype gives the same answer.
    for layout in (data.astype(np.float64), np.asfortranarray(data), data.tolist()):
        m2, l2 = trained_vae.encode_distribution(layout)
        np.testing.assert_array_equal(m2, mean)
        np.testing.assert_array_equal(l2, logvar)


def test_encode_distribution_checks_its_input(trained_vae):
    with pytest.raises(ae.ShapeError, match=r"X has shape \(3, 63\)"):
        trained_vae.encode_distribution(np.zeros((3, 63)))
    bad = np.zeros((2, 64), dtype=np.float32)
    bad[1, 5] = np.nan
    with pytest.raises(ae.NumericError):
        trained_vae.encode_distribution(bad)


def test_generate_is_deterministic_per_seed(trained_vae):
    first = trained_vae.generate(16, seed=3)
    assert first.shape == (16, 64) and first.dtype == np.float32
    assert np.isfinite(first).all() and (first >= 0).all() and (first <= 1).all()  # sigmoid
    np.testing.assert_array_equal(trained_vae.generate(16, seed=3), first)
    np.testing.assert_array_equal(trained_vae.generate(16, seed=np.uint64(3)), first)
    other = trained_vae.generate(16, seed=4)
    assert not np.array_equal(other, first)
    assert not np.array_equal(trained_vae.generate(16), first)  # seed 0
    np.testing.assert_array_equal(trained_vae.generate(16), trained_vae.generate(16, seed=0))
    # The draws of a seed are a sequence: more samples extend it (up to the rounding of a
    # differently sized matrix product).
    np.testing.assert_allclose(trained_vae.generate(20, seed=3)[:16], first, rtol=1e-5, atol=1e-6)
    assert trained_vae.generate(0).shape == (0, 64)
    big = trained_vae.generate(1, seed=2 ** 64 - 1)
    assert big.shape == (1, 64) and np.isfinite(big).all()


def test_generate_does_not_touch_the_models_generator(images):
    """generate uses its own generator: training afterwards is as if it had not been called."""
    data = images.reshape(256, 64)
    base = ae.Autoencoder.from_spec(DENSE_VAE, verbose=0).to_bytes()
    a = ae.Autoencoder.from_bytes(base, verbose=0)
    b = ae.Autoencoder.from_bytes(base, verbose=0)
    a.generate(8, seed=1)
    a.fit(data, epochs=1)
    b.fit(data, epochs=1)
    for name, values in a.parameters().items():
        np.testing.assert_array_equal(values, b.parameters()[name])


def test_generate_checks_its_arguments(trained_vae):
    with pytest.raises(ValueError, match=r"n is -1"):
        trained_vae.generate(-1)
    with pytest.raises(TypeError, match=r"n is 2.5"):
        trained_vae.generate(2.5)
    with pytest.raises(ValueError, match=r"seed is -1"):
        trained_vae.generate(2, seed=-1)
    with pytest.raises(ValueError, match=r"seed is 18446744073709551616"):
        trained_vae.generate(2, seed=2 ** 64)
    with pytest.raises(TypeError, match=r"seed is '1'"):
        trained_vae.generate(2, seed="1")


def test_interpolate_ends_are_the_reconstructions(trained_vae, images):
    data = images.reshape(256, 64)
    a, b = data[0], data[1]
    path = trained_vae.interpolate(a, b, steps=8)
    assert path.shape == (8, 64) and path.dtype == np.float32
    # Bit for bit the decoded points of the line between the two codes (means), whose ends are
    # the codes themselves: the first row is decode(encode(a)), the last decode(encode(b)).
    expected, line, codes = line_decodings(trained_vae, a, b, 8)
    np.testing.assert_array_equal(line[0], codes[0])
    np.testing.assert_array_equal(line[-1], codes[1])
    np.testing.assert_array_equal(path, expected)
    # Computed one sample at a time they agree up to rounding (OpenBLAS may round a product
    # differently for another number of rows).
    for end, sample in ((path[0], a), (path[-1], b)):
        alone = trained_vae.decode(trained_vae.encode(sample[None]))[0]
        np.testing.assert_allclose(end, alone, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(end, trained_vae.reconstruct(sample[None])[0], rtol=1e-5,
                                   atol=1e-6)
    assert len({row.tobytes() for row in path}) == 8


def test_interpolate_takes_any_sample_layout(trained_vae, images):
    a, b = images[0].reshape(64), images[1].reshape(64)
    path = trained_vae.interpolate(a, b, steps=3)
    for left, right in ((a[None], b[None]), (a.tolist(), b.astype(np.float64)),
                        (np.asfortranarray(a[None]), b.reshape(1, 64))):
        np.testing.assert_array_equal(trained_vae.interpolate(left, right, steps=3), path)
    # One code decoded at four positions of a batch: equal up to the GEMM's rounding (OpenBLAS
    # may round a row differently at another position), not bit for bit.
    same = trained_vae.interpolate(a, a, steps=4)
    for row in same[1:]:
        np.testing.assert_allclose(row, same[0], rtol=1e-5, atol=1e-6)
    assert trained_vae.interpolate(a, b, steps=2).shape == (2, 64)
    assert trained_vae.interpolate(a, b, steps=np.int64(5)).shape == (5, 64)


def test_interpolate_checks_its_arguments(trained_vae, images):
    a, b = images[0].reshape(64), images[1].reshape(64)
    for steps in (0, 1):
        with pytest.raises(ValueError, match=rf"steps is {steps}; expected an integer >= 2"):
            trained_vae.interpolate(a, b, steps=steps)
    with pytest.raises(ae.InvalidArgumentError, match="steps"):
        trained_vae.interpolate(a, b, steps=(1 << 20) + 1)
    with pytest.raises(ae.ShapeError, match=r"a has shape \(2, 64\); expected one sample"):
        trained_vae.interpolate(np.stack([a, b]), b)
    with pytest.raises(ae.ShapeError, match=r"b has shape \(63,\); expected one sample: \(64,\)"):
        trained_vae.interpolate(a, b[:63])
    with pytest.raises(TypeError, match="b is None"):
        trained_vae.interpolate(a, None)
    bad = b.copy()
    bad[7] = np.inf
    with pytest.raises(ae.NumericError):
        trained_vae.interpolate(a, bad)


def test_sample_codes_are_seeded_draws_around_the_mean() -> None:
    import autoencoders as ae
    rng = np.random.default_rng(0)
    X = rng.random((64, 12)).astype(np.float32)
    spec = {"input_size": 12,
            "encoder": [{"type": "dense", "units": 8, "activation": "tanh"}, {"type": "variational", "units": 3}],
            "decoder": [{"type": "dense", "units": 8, "activation": "tanh"},
                        {"type": "dense", "units": 12, "activation": "sigmoid"}],
            "loss": "bce", "seed": 2}
    model = ae.Autoencoder.from_spec(spec, epochs=3, batch_size=16, verbose=0).fit(X)
    mean, logvar = model.encode_distribution(X)
    first, again, other = model.sample_codes(X, seed=5), model.sample_codes(X, seed=5), model.sample_codes(X, seed=6)
    assert first.shape == (64, 3)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    eps = (first - mean) / np.exp(logvar / 2)
    assert abs(float(eps.mean())) < 0.3 and 0.7 < float(eps.std()) < 1.3
    plain = ae.Autoencoder.from_spec({**spec, "encoder": [{"type": "dense", "units": 3}]}, verbose=0)
    with not_for_this_class("sample_codes"), pytest.raises(ae.UnsupportedError):
        plain.sample_codes(X)


# ---- Refusals -------------------------------------------------------------------------------


def test_models_that_are_not_vaes_refuse_vae_calls(plain, images):
    data = images.reshape(256, 64)
    # VAE calls are not an Autoencoder's (issue 14): they warn, then the library refuses them.
    with not_for_this_class("encode_distribution"), \
            pytest.raises(ae.UnsupportedError, match=r"encode_distribution: .*not a VAE"):
        plain.encode_distribution(data)
    with not_for_this_class("generate"), pytest.raises(ae.UnsupportedError, match=r"generate: .*not a VAE"):
        plain.generate(4)
    with not_for_this_class("generate"), pytest.raises(ae.UnsupportedError, match=r"generate"):
        plain.generate(0)
    # Interpolation only needs a decoder: it works for any model that can decode.
    path = plain.interpolate(data[0], data[1], steps=5)
    assert path.shape == (5, 64)
    np.testing.assert_array_equal(path, line_decodings(plain, data[0], data[1], 5)[0])


def test_the_library_refuses_what_python_refuses(plain):
    """The Python checks mirror the library's: called directly, it answers AE_ERR_UNSUPPORTED."""
    native = plain._model()
    with pytest.raises(ae.UnsupportedError, match="generate: the model has no variational code"):
        native.generate(2, 0)
    with pytest.raises(ae.UnsupportedError, match="encode_distribution"):
        native.encode_distribution(np.zeros((1, 64), dtype=np.float32))


def test_models_that_cannot_decode_refuse_interpolate():
    with ae.Autoencoder.from_spec(SEGNET, verbose=0) as segnet:
        assert not segnet.can_decode and not segnet.is_variational
        x = blobs(2)
        with pytest.raises(ae.UnsupportedError, match=r"interpolate: .*cannot decode"):
            segnet.interpolate(x[0], x[1])
        # And the library refuses it too, from its decode.
        sample = x[0].reshape(64)
        with pytest.raises(ae.UnsupportedError, match="decode"):
            segnet._model().interpolate(sample, sample, 2)
        with not_for_this_class("generate"), pytest.raises(ae.UnsupportedError):
            segnet.generate(1)


def test_closed_and_unfitted_models():
    model = ae.VariationalAutoencoder(code_size=4)
    with pytest.raises(ae.NotFittedError):
        model.generate(1)
    with pytest.raises(ae.NotFittedError):
        _ = model.is_variational
    vae = ae.Autoencoder.from_spec(DENSE_VAE, verbose=0)
    vae.close()
    with pytest.raises(ValueError, match="closed"):
        vae.encode_distribution(np.zeros((1, 64)))


def test_bad_variational_specs_name_the_path():
    spec = copy.deepcopy(DENSE_VAE)
    del spec["encoder"][1]["units"]
    with pytest.raises(ae.SpecError, match=r"encoder\[1\]\.units"):
        ae.Autoencoder.from_spec(spec)
    spec = copy.deepcopy(DENSE_VAE)
    spec["encoder"][1]["beta"] = -1
    with pytest.raises(ae.SpecError, match=r"encoder\[1\]\.beta"):
        ae.Autoencoder.from_spec(spec)
    spec = copy.deepcopy(DENSE_VAE)
    spec["encoder"].append({"type": "dense", "units": 4})
    with pytest.raises(ae.SpecError, match=r"encoder\[1\].*variational"):
        ae.Autoencoder.from_spec(spec)
