"""Shared fixtures. The tests run from a repository checkout without installing the package:
bindings/python goes on sys.path, and the package finds build/lib/libautoencoders.so.0."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
REPOSITORY = PACKAGE_ROOT.parents[1]
if str(PACKAGE_ROOT) not in sys.path:
    sys.path.insert(0, str(PACKAGE_ROOT))

import autoencoders as ae  # noqa: E402

HEADER = REPOSITORY / "include" / "autoencoders.h"
BUILD = REPOSITORY / "build"

SMALL_SPEC = {
    "input_size": 12,
    "encoder": [{"type": "dense", "units": 8, "activation": "relu"},
                {"type": "dense", "units": 3}],
    "decoder": [{"type": "dense", "units": 8, "activation": "relu"},
                {"type": "dense", "units": 12, "activation": "sigmoid"}],
    "loss": "bce",
    "optimizer": {"type": "adam", "lr": 0.01},
    "seed": 7,
}


@pytest.fixture
def small_spec():
    """A 12 -> 8 -> 3 -> 8 -> 12 spec (a fresh copy per test)."""
    import copy
    return copy.deepcopy(SMALL_SPEC)


@pytest.fixture
def data():
    """200 samples of 12 features in [0, 1) with some structure (float32)."""
    rng = np.random.default_rng(1)
    base = rng.random((200, 3), dtype=np.float32)
    mix = rng.random((3, 12), dtype=np.float32)
    x = base @ mix / 3.0 + 0.05 * rng.random((200, 12), dtype=np.float32)
    return np.clip(x, 0, 1).astype(np.float32)


@pytest.fixture
def model(small_spec):
    # warm_start=True: consecutive fits continue training, as ae_model_train does (many tests
    # train in steps); scikit-learn's default, False, is tested in test_sklearn.py.
    m = ae.Autoencoder.from_spec(small_spec, verbose=0, warm_start=True)
    yield m
    m.close()


@pytest.fixture
def threads_pinned():
    """Pins the math kernels to one thread (bit-identical results across processes), restoring
    the previous count afterwards."""
    before = ae.get_num_threads()
    ae.set_num_threads(1)
    yield
    if before >= 1:
        ae.set_num_threads(before)


# ---- Variational autoencoders (test_variational.py, test_variational_inference.py) ----------

DENSE_VAE = {
    "input_size": 64,
    "encoder": [{"type": "dense", "units": 32, "activation": "relu"},
                {"type": "variational", "units": 4, "beta": 1, "kl_warmup_epochs": 0}],
    "decoder": [{"type": "dense", "units": 32, "activation": "relu"},
                {"type": "dense", "units": 64, "activation": "sigmoid"}],
    "loss": "bce",
    "optimizer": {"type": "adam", "lr": 0.005},
    "seed": 1,
}


def blobs(n, size=8, seed=0):
    """Images (n, 1, size, size) in (0, 1): a soft bright disc at a random place and size."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size]
    centres = rng.uniform(1.5, size - 1.5, (n, 2))
    radius = rng.uniform(1.2, 2.5, (n, 1, 1))
    distance = np.hypot(rows[None] - centres[:, 0, None, None],
                        cols[None] - centres[:, 1, None, None])
    return (1 / (1 + np.exp(4 * (distance - radius))))[:, None].astype(np.float32)


@pytest.fixture(scope="module")
def images():
    return blobs(256)


@pytest.fixture(scope="module")
def trained_vae(images):
    """A dense VAE trained for 15 epochs on the 8x8 blobs (flat, 64 features)."""
    model = ae.Autoencoder.from_spec(DENSE_VAE, epochs=15, batch_size=32, verbose=0)
    model.fit(images.reshape(len(images), 64))
    yield model
    model.close()


@pytest.fixture
def plain():
    """A dense autoencoder that is not variational, on 64 features."""
    m = ae.Autoencoder.dense(64, hidden=[16], code_size=4, seed=0, verbose=0)
    yield m
    m.close()


def not_for_this_class(name):
    """The deprecation warning of a method or property the model's class does not have (issue 14:
    kept for one release, absent from ``dir()``): ``with not_for_this_class("generate"): ...``."""
    return pytest.warns(DeprecationWarning, match=rf"\.{name} does not apply to this class")


def line_decodings(model, a, b, steps):
    """interpolate's definition, computed here: decode(code(a) + t (code(b) - code(a))) for t
    evenly spaced in [0, 1], the last point code(b) itself, with a and b each encoded alone and
    the points decoded together, as the library does (so the result is bit for bit the library's:
    the same calls on the same shapes). Also returns the line and the two codes."""
    codes = np.concatenate([model.encode(np.asarray(v, np.float32).reshape(1, -1)) for v in (a, b)])
    t = (np.arange(steps, dtype=np.float32) / np.float32(steps - 1))[:, None]
    line = codes[0] + t * (codes[1] - codes[0])
    line[-1] = codes[1]
    assert line.dtype == np.float32
    return model.decode(line), line, codes


def _c_compiler():
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return name
    return None


@pytest.fixture(scope="session")
def compile_c(tmp_path_factory):
    """compile_c(source_text, name) -> path of an executable linked against build/lib."""
    compiler = _c_compiler()
    if compiler is None:
        pytest.skip("no C compiler (cc) on PATH")
    if not (BUILD / "include" / "autoencoders.h").is_file() or not (BUILD / "lib").is_dir():
        pytest.skip("build/ is not staged: run `make library`")
    folder = tmp_path_factory.mktemp("c")

    def build(source: str, name: str) -> Path:
        source_path = folder / f"{name}.c"
        source_path.write_text(source)
        executable = folder / name
        command = [compiler, "-std=c99", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra", "-Werror", "-O1",
                   "-I", str(BUILD / "include"), str(source_path), "-o", str(executable),
                   "-L", str(BUILD / "lib"), f"-Wl,-rpath,{BUILD / 'lib'}", "-lautoencoders", "-lm"]
        result = subprocess.run(command, capture_output=True, text=True)
        assert result.returncode == 0, f"{' '.join(command)}\n{result.stderr}"
        return executable

    return build


def rss_bytes() -> int:
    """Resident set size of this process, from /proc/self/statm."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
