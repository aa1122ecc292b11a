"""Compression (autoencoders/_codec.py): fitting the quantiser, compress and decompress, the
quantiser in the model file and through pickling, and the refusals: no quantiser, truncated or
corrupted bytes, bytes made by another model."""

import pickle

import numpy as np
import pytest

import autoencoders as ae
from conftest import SMALL_SPEC


def _data(n=64, seed=0):
    return np.random.default_rng(seed).random((n, 12), dtype=np.float32)


@pytest.fixture
def codec():
    model = ae.Autoencoder.from_spec(SMALL_SPEC)
    model.fit(_data(), epochs=3, verbose=0)
    return model.fit_quantizer(_data(), bits=6)


def test_compress_round_trip_is_the_decoder_of_the_quantised_code(codec):
    X = _data(20, seed=1)
    data = codec.compress(X)
    assert isinstance(data, bytes) and data[:4] == b"AEC\x1a"
    assert len(data) < 44 + 20 * 3, "header and checksum, then under a byte per code value"
    out = codec.decompress(data)
    assert out.shape == (20, 12) and out.dtype == np.float32
    # Close to the unquantised reconstruction (6 bits per code value), and deterministic.
    assert np.max(np.abs(out - codec.reconstruct(X))) < 0.1
    np.testing.assert_array_equal(out, codec.decompress(data))
    assert codec.quantizer_bits == 6


def test_quantizer_survives_saving_and_pickling(codec, tmp_path):
    X = _data(10, seed=2)
    data = codec.compress(X, path=tmp_path / "x.aec")
    assert (tmp_path / "x.aec").read_bytes() == data
    path = tmp_path / "m.aem"
    codec.save(path)
    loaded = ae.Autoencoder.load(path)
    assert loaded.quantizer_bits == 6
    np.testing.assert_array_equal(loaded.decompress(tmp_path / "x.aec"), codec.decompress(data))
    again = pickle.loads(pickle.dumps(codec))
    np.testing.assert_array_equal(again.decompress(data), codec.decompress(data))


def test_without_quantizer_compress_says_how_to_fit_one():
    model = ae.Autoencoder.from_spec(SMALL_SPEC)
    assert model.quantizer_bits is None
    with pytest.raises(ae.UnsupportedError, match="fit"):
        model.compress(_data(2))
    with pytest.raises(ValueError, match="bits"):
        model.fit_quantizer(_data(), bits=3)


def test_damaged_and_foreign_files_are_refused(codec):
    data = codec.compress(_data(15, seed=3))
    for length in range(0, len(data), 7):
        with pytest.raises(ae.FormatError):
            codec.decompress(data[:length])
    for position in range(0, len(data), 5):
        damaged = bytearray(data)
        damaged[position] ^= 0x20
        with pytest.raises(ae.FormatError):
            codec.decompress(bytes(damaged))
    other = ae.Autoencoder.from_spec(dict(SMALL_SPEC, seed=8)).fit_quantizer(_data(), bits=6)
    with pytest.raises(ae.FormatError, match="another model"):
        other.decompress(data)
