"""The model file from Python: paths holding NUL are refused, signed files (``key=``), special
files and save targets, and format-1 files still load (issue 10)."""

import os
import stat
import struct
import json

import numpy as np
import pytest

import autoencoders as ae
from conftest import REPOSITORY

FIXTURES = REPOSITORY / "Tests" / "Fixtures" / "modelfile"


@pytest.fixture
def model(small_spec):
    m = ae.Autoencoder.from_spec(small_spec, epochs=1, batch_size=8)
    m.fit(np.random.default_rng(0).random((32, 12), dtype=np.float32))
    return m


def _sample():
    return np.random.default_rng(1).random((3, 12), dtype=np.float32)


@pytest.mark.parametrize("path", ["a\0b.aem", b"a\0b.aem", "\0"])
def test_a_path_holding_nul_is_refused(model, tmp_path, path, monkeypatch):
    """ctypes passes a char* cut at the NUL: save("a\\0b.aem") used to write a file named "a"."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ae.InvalidArgumentError, match="NUL"):
        model.save(path)
    with pytest.raises(ae.InvalidArgumentError, match="NUL"):
        ae.Autoencoder.load(path)
    assert os.listdir(tmp_path) == []


def test_a_path_holding_nul_is_refused_as_a_pathlike(model, tmp_path):
    class Weird(os.PathLike):
        def __fspath__(self):
            return str(tmp_path / "x\0y.aem")
    with pytest.raises(ae.InvalidArgumentError, match="NUL"):
        model.save(Weird())
    assert os.listdir(tmp_path) == []


def test_signed_files_load_only_with_their_key(model, tmp_path):
    key = os.urandom(32)
    path = tmp_path / "signed.aem"
    model.save(path, key=key)
    loaded = ae.Autoencoder.load(path, key=key)
    np.testing.assert_array_equal(loaded.reconstruct(_sample()), model.reconstruct(_sample()))
    ae.Autoencoder.load(path)  # a signed file is a model file
    with pytest.raises(ae.FormatError, match="signature mismatch"):
        ae.Autoencoder.load(path, key=b"another key")
    unsigned = tmp_path / "plain.aem"
    model.save(unsigned)
    with pytest.raises(ae.FormatError, match="not signed"):
        ae.Autoencoder.load(unsigned, key=key)

    data = model.to_bytes(key=key)
    ae.Autoencoder.from_bytes(data, key=key)
    ae.Autoencoder.from_bytes(bytearray(data), key=key)
    ae.Autoencoder.from_bytes(memoryview(data), key=key)
    tampered = bytearray(data)
    tampered[-1] ^= 1
    with pytest.raises(ae.FormatError, match="signature mismatch"):
        ae.Autoencoder.from_bytes(tampered, key=key)

    with pytest.raises(TypeError, match="key must be bytes"):
        model.save(path, key="a password")
    with pytest.raises(ae.InvalidArgumentError, match="key has 0 bytes"):
        model.save(path, key=b"")
    with pytest.raises(ae.InvalidArgumentError, match="key has 65537 bytes"):
        ae.Autoencoder.load(path, key=bytes(65537))


def test_format_1_files_still_load(tmp_path):
    model = ae.Autoencoder.load(FIXTURES / "v1_dense_adam.aem")
    x = np.load(FIXTURES / "v1_dense_adam_x.npy")
    expected = np.load(FIXTURES / "v1_dense_adam_reconstruction.npy")
    np.testing.assert_array_equal(model.reconstruct(x), expected)
    model.save(tmp_path / "v2.aem")
    raw = (tmp_path / "v2.aem").read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    metadata = json.loads(raw[8:8 + length])["__metadata__"]
    assert metadata["format_version"] == "2"
    assert metadata["checksum"].startswith("crc32:")


def test_special_files_are_refused_at_once(model, tmp_path):
    fifo = tmp_path / "fifo.aem"
    os.mkfifo(fifo)
    with pytest.raises(ae.FileError, match="FIFO"):
        ae.Autoencoder.load(fifo)
    with pytest.raises(ae.FileError, match="not a regular file"):
        ae.Autoencoder.load("/dev/zero")
    with pytest.raises(ae.FileError, match="directory"):
        ae.Autoencoder.load(tmp_path)


def test_saving_replaces_only_regular_files(model, tmp_path):
    fifo, link, folder = tmp_path / "fifo.aem", tmp_path / "link.aem", tmp_path / "folder.aem"
    target = tmp_path / "target.aem"
    target.write_bytes(b"original")
    os.mkfifo(fifo)
    os.symlink(target, link)
    folder.mkdir()
    for path, what in [(fifo, "FIFO"), (link, "symbolic link"), (folder, "directory")]:
        with pytest.raises(ae.FileError, match=what):
            model.save(path)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert stat.S_ISLNK(os.lstat(link).st_mode)
    assert target.read_bytes() == b"original"
    name = tmp_path / ("m" * 246 + ".aem")
    model.save(name)
    ae.Autoencoder.load(name)
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".aem-")]


def test_a_threshold_that_does_not_fit_a_float_is_refused(model):
    with pytest.raises(ae.AutoencoderError):
        model.threshold = 1e300
    data = model.to_bytes()
    assert b"null" not in data[: 8 + struct.unpack("<Q", data[:8])[0]]
