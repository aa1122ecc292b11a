"""Input arrays: zero-copy for float32 C-contiguous data, conversion of other dtypes and layouts,
and a clear Python exception for every kind of bad input."""

import ctypes

import numpy as np
import pytest

import autoencoders as ae
from autoencoders import _library


@pytest.fixture
def record_pointers(monkeypatch):
    """Wraps a library function to record the address of its second argument (the data)."""
    def install(name):
        original = getattr(_library.lib, name)
        seen = []

        def wrapper(*args):
            seen.append(ctypes.cast(args[1], ctypes.c_void_p).value)
            return original(*args)
        monkeypatch.setattr(_library.lib, name, wrapper)
        return seen
    return install


@pytest.mark.parametrize("method,function", [
    ("encode", "ae_model_encode"), ("reconstruct", "ae_model_reconstruct"),
    ("score", "ae_model_score"), ("evaluate", "ae_model_evaluate"),
])
def test_float32_c_contiguous_input_is_passed_without_a_copy(model, data, record_pointers,
                                                             method, function):
    seen = record_pointers(function)
    getattr(model, method)(data)
    assert seen == [data.ctypes.data]


def test_fit_passes_data_and_validation_without_a_copy(model, data, monkeypatch):
    original = _library.lib.ae_model_train
    seen = {}

    def wrapper(m, pointer, n, count, options, report):
        seen["data"] = ctypes.cast(pointer, ctypes.c_void_p).value
        opts = ctypes.cast(options, ctypes.POINTER(_library.ae_train_options)).contents
        seen["validation"] = ctypes.cast(opts.validation_data, ctypes.c_void_p).value
        return original(m, pointer, n, count, options, report)
    monkeypatch.setattr(_library.lib, "ae_model_train", wrapper)
    validation = data[150:].copy()
    model.fit(data, validation_data=validation, epochs=1)
    assert seen == {"data": data.ctypes.data, "validation": validation.ctypes.data}


def test_a_contiguous_row_slice_is_still_zero_copy(model, data, record_pointers):
    seen = record_pointers("ae_model_encode")
    view = data[10:20]
    model.encode(view)
    assert seen == [view.ctypes.data]


@pytest.mark.parametrize("convert", [
    lambda x: x.astype(np.float64),
    lambda x: x.astype(np.float16),
    lambda x: np.asfortranarray(x),
    lambda x: np.repeat(x, 2, axis=1)[:, ::2],                   # strided columns
    lambda x: x.astype(">f4"),                                    # big-endian
    lambda x: x.tolist(),                                         # nested lists
    lambda x: np.repeat(x, 2, axis=0)[::2],                      # strided rows
])
def test_other_dtypes_and_layouts_are_converted(model, data, convert):
    expected = model.encode(data.astype(np.float32))
    converted = convert(data)
    got = model.encode(converted)
    np.testing.assert_allclose(got, expected, rtol=2e-3, atol=2e-3)  # float16 loses precision


def test_misaligned_float32_is_converted(model, data):
    raw = np.zeros(data.size * 4 + 1, dtype=np.uint8)
    misaligned = raw[1:].view(np.float32).reshape(data.shape)
    misaligned[...] = data
    assert not misaligned.flags.aligned
    np.testing.assert_array_equal(model.encode(misaligned), model.encode(data))


def test_integer_and_boolean_inputs(model):
    ints = np.array([[0, 1] * 6] * 4, dtype=np.int64)
    np.testing.assert_array_equal(model.encode(ints), model.encode(ints.astype(np.float32)))
    np.testing.assert_array_equal(model.encode(ints.astype(bool)), model.encode(ints.astype(np.float32)))


def test_the_callers_array_is_never_modified(model, data):
    before = data.copy()
    model.fit(data, epochs=1)
    model.fit_input_scaling(data)
    model.reconstruct(data)
    np.testing.assert_array_equal(data, before)


@pytest.mark.parametrize("bad,error,pattern", [
    (np.zeros((4, 12), dtype=np.complex64), TypeError, "complex"),
    (np.array([[object()] * 12] * 2), TypeError, "dtype object"),
    (np.array([["a"] * 12] * 2), TypeError, "dtype <U1"),
    (np.zeros((4, 12), dtype="datetime64[s]"), TypeError, "datetime64"),
    (None, TypeError, "None"),
    (np.zeros(12, dtype=np.float32), ValueError, r"shape \(12,\); expected \(n, 12\). Reshape your"),
    (np.zeros((2, 3, 4), dtype=np.float32), ValueError, r"shape \(2, 3, 4\); expected \(n, 12\)"),
    (np.zeros((4, 11), dtype=np.float32), ValueError, r"shape \(4, 11\); expected \(n, 12\)"),
    (np.float32(3.0), ValueError, r"shape \(\); expected"),
    (np.zeros((0, 12), dtype=np.float32), ValueError, "empty"),
    ([[1, 2], [3]], ValueError, "cannot be converted"),
])
def test_bad_inputs_raise_clear_python_errors(model, bad, error, pattern):
    for call in (model.encode, model.reconstruct, model.score, model.fit):
        with pytest.raises(error, match=pattern):
            call(bad)


def test_shape_errors_are_shape_errors(model):
    with pytest.raises(ae.ShapeError) as info:
        model.encode(np.zeros((3, 5)))
    assert isinstance(info.value, ValueError) and info.value.status_name == "AE_ERR_SHAPE"
    with pytest.raises(ae.ShapeError, match=r"Z has shape \(3, 5\); expected \(n, 3\)"):
        model.decode(np.zeros((3, 5)))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_are_numeric_errors(model, data, value):
    bad = data.copy()
    bad[5, 7] = value
    for call in (model.encode, model.reconstruct, model.score, model.evaluate, model.fit,
                 model.fit_input_scaling):
        with pytest.raises(ae.NumericError, match="sample 5|finite") as info:
            call(bad)
        assert info.value.status == 6
    with pytest.raises(ae.NumericError):
        model.decode(np.full((1, 3), value))


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
def test_float64_too_large_for_float32_is_rejected(model):
    with pytest.raises(ae.NumericError):
        model.encode(np.full((1, 12), 1e300))


def test_rejected_calls_change_nothing(model, data):
    before = model.parameters()
    bad = data.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ae.NumericError):
        model.fit(bad, epochs=1)
    for name, values in model.parameters().items():
        np.testing.assert_array_equal(values, before[name])
    assert model.epochs_completed == 0


def test_multi_dimensional_samples_accept_both_layouts():
    # For a model of input_shape (C, H, W) = (2, 3, 2), samples come as (n, 2, 3, 2) or (n, 12).
    # (Tested on the array layer: dense models are flat; image models arrive with convolutions.)
    from autoencoders._arrays import as_samples
    x = np.random.default_rng(0).random((5, 2, 3, 2), dtype=np.float32)
    matrix, used = as_samples(x, "X", (2, 3, 2), 12)
    assert matrix.shape == (5, 12) and used == (2, 3, 2) and np.shares_memory(matrix, x)
    matrix, used = as_samples(x.reshape(5, 12), "X", (2, 3, 2), 12)
    assert matrix.shape == (5, 12) and used == (12,)
    with pytest.raises(ae.ShapeError, match=r"expected \(n, 2, 3, 2\) or \(n, 12\)"):
        as_samples(np.zeros((5, 3, 2, 2)), "X", (2, 3, 2), 12)


def test_sparse_input_is_refused_clearly(model):
    sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match="sparse input is not supported.*toarray"):
        model.encode(sparse.csr_matrix(np.eye(12, dtype=np.float32)))
