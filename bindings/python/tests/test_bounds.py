"""Issue 10 from Python: integers are range-checked before they reach ctypes (ctypes would wrap
2**64 + 8 to 8), names with control characters are spec errors from the core, and the spec
whose node held 2**48 floats per sample is refused instead of crashing the interpreter."""

import subprocess
import sys

import numpy as np
import pytest

import autoencoders as ae
from autoencoders._params import integer

from conftest import PACKAGE_ROOT

HUGE = 2**64 + 8


def test_integer_helper_names_the_argument_and_the_range():
    assert integer(np.int64(5), "n") == 5
    with pytest.raises(ValueError, match=r"n is 18446744073709551624; expected an integer in \[0, 18446744073709551615\]"):
        integer(HUGE, "n")
    with pytest.raises(ValueError, match=r"n is -1; expected an integer >= 0"):
        integer(-1, "n")
    with pytest.raises(TypeError, match="expected an integer"):
        integer(True, "n")
    with pytest.raises(TypeError, match="expected an integer"):
        integer(3.0, "n")


@pytest.mark.parametrize("argument", ["batch_size", "epochs", "patience"])
def test_fit_integers_above_the_c_range_raise_instead_of_wrapping(small_spec, argument):
    model = ae.Autoencoder.from_spec(small_spec)
    X = np.random.default_rng(0).random((32, 12), dtype=np.float32)
    with pytest.raises(ValueError, match=rf"{argument} is {HUGE}; expected an integer in \["):
        model.fit(X, **{argument: HUGE})


def test_batch_size_2_64_plus_8_does_not_train_with_8(small_spec):
    model = ae.Autoencoder.from_spec(small_spec)
    X = np.random.default_rng(0).random((32, 12), dtype=np.float32)
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(X, batch_size=2**64 + 8, epochs=1)
    with pytest.raises(ValueError, match=r"batch_size is 18446744073709551624; expected an integer in \[1, 18446744073709551615\]"):
        ae.Trainer(model, batch_size=2**64 + 8)


def test_other_integer_arguments_are_bounded(small_spec):
    with pytest.raises(ValueError, match=r"threads is 4294967297"):
        ae.set_num_threads(2**32 + 1)
    with pytest.raises(ValueError, match=r"seed is 18446744073709551624"):
        ae.Autoencoder(hidden=[8], code_size=3, seed=HUGE).fit(np.zeros((4, 12), np.float32), epochs=1)
    with pytest.raises(ValueError, match=r"code_size is 18446744073709551624"):
        ae.Autoencoder(hidden=[8], code_size=HUGE).fit(np.zeros((4, 12), np.float32), epochs=1)
    with pytest.raises(ValueError, match=r"hidden\[0\] is 18446744073709551624"):
        ae.Autoencoder(hidden=[HUGE], code_size=3).fit(np.zeros((4, 12), np.float32), epochs=1)


def test_generate_and_interpolate_integers_are_bounded():
    spec = {"input_size": 6, "encoder": [{"type": "dense", "units": 4, "activation": "tanh"},
                                         {"type": "variational", "units": 2}],
            "decoder": [{"type": "dense", "units": 4, "activation": "tanh"}, {"type": "dense", "units": 6}]}
    model = ae.Autoencoder.from_spec(spec)
    with pytest.raises(ValueError, match=r"seed is 18446744073709551624; expected an integer in \[0, 18446744073709551615\]"):
        model.generate(2, seed=HUGE)
    with pytest.raises(ValueError, match=r"n is 18446744073709551624"):
        model.generate(HUGE)
    with pytest.raises(ValueError, match=r"steps is 18446744073709551624"):
        model.interpolate(np.zeros(6, np.float32), np.ones(6, np.float32), steps=HUGE)
    assert model.generate(2, seed=2**64 - 1).shape == (2, 6)


@pytest.mark.parametrize("name", ["a\x00b", "tab\there", "new\nline", "del\x7f"])
def test_layer_and_branch_names_with_control_characters_are_spec_errors(small_spec, name):
    small_spec["encoder"][0]["name"] = name
    with pytest.raises(ae.SpecError, match=r"encoder\[0\]\.name"):
        ae.Autoencoder.from_spec(small_spec)


def test_the_2_48_float_node_is_a_spec_error_not_a_crash():
    # Run in a child: on a library without the bound, the training call below kills the process.
    code = r"""
import numpy as np, autoencoders as ae
spec = {"input_shape": [1, 16, 16],
        "encoder": [{"type": "conv_transpose2d", "filters": 65536, "kernel": 1, "stride": 4096, "output_padding": 4095},
                    {"type": "conv2d", "filters": 1, "kernel": 1, "stride": 4096}],
        "decoder": [{"type": "conv2d", "filters": 1, "kernel": 1}]}
try:
    model = ae.Autoencoder.from_spec(spec)
    model.fit(np.zeros((65536, 1, 16, 16), np.float32), epochs=1, batch_size=65536)
    print("trained")
except ae.SpecError as error:
    print("SpecError:", error)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                            cwd=str(PACKAGE_ROOT))
    assert result.returncode == 0, f"the interpreter died (status {result.returncode}): {result.stderr[-500:]}"
    assert "SpecError: " in result.stdout and "encoder[0]" in result.stdout, result.stdout
    assert "281474976710656 floats" in result.stdout, result.stdout
