"""The model: builders, properties, inference, parameters, input scaling, saving, pickling,
closing, and error reporting."""

import gc
import json
import os
import pickle
import weakref

import numpy as np
import pytest

import autoencoders as ae
from conftest import REPOSITORY


def test_dense_builder_makes_the_documented_architecture():
    m = ae.Autoencoder.dense(784, hidden=[512, 128], code_size=32, activation="relu",
                             output_activation="sigmoid", loss="bce", optimizer="adam", lr=1e-3,
                             seed=0, tied_weights=False)
    assert m.input_size == 784 and m.code_size == 32 and m.input_shape == (784,)
    assert m.can_decode and m.epochs_completed == 0
    expected = 784 * 512 + 512 + 512 * 128 + 128 + 128 * 32 + 32
    expected += 32 * 128 + 128 + 128 * 512 + 512 + 512 * 784 + 784
    assert m.n_parameters == expected
    spec = m.spec
    assert [layer["units"] for layer in spec["encoder"]] == [512, 128, 32]
    assert [layer["units"] for layer in spec["decoder"]] == [128, 512, 784]
    assert spec["decoder"][-1]["activation"] == "sigmoid" and "activation" not in spec["encoder"][-1]
    assert spec["loss"] == "bce" and spec["optimizer"] == {"type": "adam", "lr": 1e-3}
    assert m.parameter_names[:2] == ["encoder.0.weight", "encoder.0.bias"]
    assert m.get_parameter("encoder.0.weight").shape == (512, 784)  # PyTorch's [out, in]


def test_tied_weights_and_schedule_go_into_the_spec():
    m = ae.Autoencoder.dense(20, hidden=[10], code_size=4, tied_weights=True,
                             schedule={"type": "step", "step_size": 2, "gamma": 0.5})
    untied = ae.Autoencoder.dense(20, hidden=[10], code_size=4)
    assert m.spec["tied_weights"] is True and m.spec["schedule"]["type"] == "step"
    assert m.n_parameters < untied.n_parameters  # decoder weights are the encoder's


def test_from_spec_accepts_dict_and_json(small_spec):
    a = ae.Autoencoder.from_spec(small_spec)
    b = ae.Autoencoder.from_spec(json.dumps(small_spec))
    assert a.spec == b.spec == small_spec
    for name in a.parameter_names:  # same seed: same initial weights
        np.testing.assert_array_equal(a.get_parameter(name), b.get_parameter(name))


def test_spec_error_names_the_json_path(small_spec):
    small_spec["encoder"][1]["units"] = -3
    with pytest.raises(ae.SpecError) as info:
        ae.Autoencoder.from_spec(small_spec)
    assert "encoder[1].units" in str(info.value)
    assert info.value.status == 3 and info.value.status_name == "AE_ERR_INVALID_SPEC"
    assert isinstance(info.value, ae.AutoencoderError) and isinstance(info.value, ValueError)
    with pytest.raises(ae.SpecError, match="unknown key"):
        ae.Autoencoder.from_spec({"input_size": 4, "encoder": [{"type": "dense", "units": 2,
                                                                 "activaton": "relu"}],
                                  "decoder": [{"type": "dense", "units": 4}]})
    with pytest.raises(ae.SpecError, match="not valid JSON"):
        ae.Autoencoder.from_spec("{not json")


def test_inference_shapes_and_consistency(model, data):
    codes = model.encode(data)
    assert codes.shape == (200, 3) and codes.dtype == np.float32
    recon = model.reconstruct(data)
    assert recon.shape == data.shape and recon.dtype == np.float32
    np.testing.assert_allclose(model.decode(codes), recon, rtol=1e-5, atol=1e-6)
    scores = model.reconstruction_error(data)
    assert scores.shape == (200,) and scores.dtype == np.float32
    np.testing.assert_allclose(scores, ((recon - data) ** 2).mean(axis=1), rtol=1e-4, atol=1e-7)
    assert model.evaluate(data) > 0


def test_parameters_get_set_and_dict(model):
    params = model.parameters()
    assert list(params) == model.parameter_names
    assert sum(p.size for p in params.values()) == model.n_parameters
    w = params["encoder.0.weight"]
    assert w.shape == model.parameter_shape("encoder.0.weight") == (8, 12)
    model.set_parameter("encoder.0.weight", np.arange(96, dtype=np.float64).reshape(8, 12) / 100)
    np.testing.assert_array_equal(model.get_parameter("encoder.0.weight"),
                                  (np.arange(96).reshape(8, 12) / 100).astype(np.float32))
    model.set_parameters(params)
    np.testing.assert_array_equal(model.get_parameter("encoder.0.weight"), w)
    raw = np.zeros(96 * 4 + 1, dtype=np.uint8)  # a misaligned float32 buffer is copied first
    misaligned = raw[1:].view(np.float32).reshape(8, 12)
    misaligned[...] = w
    model.set_parameter("encoder.0.weight", misaligned)
    np.testing.assert_array_equal(model.get_parameter("encoder.0.weight"), w)
    # The returned arrays are copies.
    params["encoder.0.bias"][:] = 42
    assert not np.any(model.get_parameter("encoder.0.bias") == 42)


def test_parameter_errors(model):
    with pytest.raises(ae.ParameterNameError, match="no parameter 'nope'.*encoder.0.weight") as info:
        model.get_parameter("nope")
    assert isinstance(info.value, KeyError)
    with pytest.raises(ValueError, match=r"shape \(12, 8\).*shape \(8, 12\)"):
        model.set_parameter("encoder.0.weight", np.zeros((12, 8)))
    bad = np.zeros((8, 12))
    bad[3, 4] = np.nan
    before = model.get_parameter("encoder.0.weight")
    with pytest.raises(ae.NumericError):
        model.set_parameter("encoder.0.weight", bad)
    np.testing.assert_array_equal(model.get_parameter("encoder.0.weight"), before)  # unchanged


def test_input_scaling(model, data):
    assert model.get_input_scaling() is None
    model.set_input_scaling(0.0, 255.0)  # scalars broadcast
    offset, scale = model.get_input_scaling()
    assert offset.shape == (12,) and np.all(scale == 255)
    # The model applies the scaling itself: raw * 255 through a /255 scaling = raw unscaled.
    unscaled = ae.Autoencoder.from_spec(model.spec)
    np.testing.assert_allclose(model.encode(data * 255), unscaled.encode(data), rtol=1e-5, atol=1e-5)
    model.set_input_scaling(None, None)
    assert model.get_input_scaling() is None
    model.fit_input_scaling(data, kind="standardize")
    offset, scale = model.get_input_scaling()
    np.testing.assert_allclose(offset, data.mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scale, data.std(axis=0), rtol=1e-4)
    model.fit_input_scaling(data, kind="minmax")
    offset, scale = model.get_input_scaling()
    np.testing.assert_allclose(offset, data.min(axis=0))
    np.testing.assert_allclose(scale, data.max(axis=0) - data.min(axis=0), rtol=1e-6)
    with pytest.raises(ValueError, match="kind"):
        model.fit_input_scaling(data, kind="robust")
    with pytest.raises(ae.ShapeError, match=r"expected \(12,\) or a scalar"):
        model.set_input_scaling(np.zeros(5), 1.0)
    with pytest.raises(ae.AutoencoderError):
        model.set_input_scaling(0.0, 0.0)  # scale must be non-zero
    with pytest.raises(ValueError, match="both"):
        model.set_input_scaling(None, 1.0)


def test_save_and_load_round_trip(model, data, tmp_path):
    model.set_input_scaling(-0.5, 2.0)  # data in [0, 1] -> [0.25, 0.75]: BCE targets stay in [0, 1]
    model.fit(data, epochs=2)
    path = tmp_path / "model.aem"
    model.save(path)
    loaded = ae.Autoencoder.load(path)
    assert loaded.spec == model.spec and loaded.epochs_completed == 2
    np.testing.assert_array_equal(loaded.reconstruct(data), model.reconstruct(data))
    np.testing.assert_array_equal(loaded.get_input_scaling()[1], model.get_input_scaling()[1])
    # Training resumes exactly (optimizer state included): 2 more epochs on both.
    model.fit(data, epochs=2)
    loaded.fit(data, epochs=2, verbose=0)
    for name in model.parameter_names:
        np.testing.assert_array_equal(loaded.get_parameter(name), model.get_parameter(name))
    # str, bytes and PathLike paths.
    model.save(str(tmp_path / "b.aem"), include_optimizer_state=False)
    assert ae.Autoencoder.load(os.fsencode(str(tmp_path / "b.aem"))).input_size == 12
    assert os.path.getsize(tmp_path / "b.aem") < os.path.getsize(path)


def test_bytes_round_trip(model, data):
    blob = model.to_bytes()
    assert isinstance(blob, bytes) and len(blob) > 100
    again = ae.Autoencoder.from_bytes(bytearray(blob))
    np.testing.assert_array_equal(again.encode(data), model.encode(data))


def test_file_errors(model, tmp_path):
    with pytest.raises(ae.FileError, match="cannot") as info:
        model.save(tmp_path / "missing-folder" / "m.aem")
    assert isinstance(info.value, OSError) and info.value.status_name == "AE_ERR_IO"
    with pytest.raises(ae.FileError):
        ae.Autoencoder.load(tmp_path / "absent.aem")
    not_a_model = tmp_path / "text.aem"
    not_a_model.write_text("hello, this is not a model file at all")
    with pytest.raises(ae.FormatError):
        ae.Autoencoder.load(not_a_model)
    good = tmp_path / "good.aem"
    model.save(good)
    corrupted = bytearray(good.read_bytes())
    corrupted[len(corrupted) // 2] ^= 0xFF
    with pytest.raises(ae.FormatError):
        ae.Autoencoder.from_bytes(bytes(corrupted))
    with pytest.raises(ae.FormatError):
        ae.Autoencoder.from_bytes(good.read_bytes()[:100])
    with pytest.raises(ae.FormatError):
        ae.Autoencoder.from_bytes(b"")


def test_unwritable_paths(model, tmp_path):
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    with pytest.raises(ae.FileError, match="plain.txt"):
        model.save(a_file / "m.aem")  # its parent is a file: writable by nobody, root included
    assert a_file.read_text() == "x"
    with pytest.raises(ae.FileError):
        model.save(tmp_path)  # a folder, not a file
    with pytest.raises(ae.FileError):
        ae.Autoencoder.load(tmp_path)


def test_unwritable_path_does_not_touch_the_existing_file(model, tmp_path):
    folder = tmp_path / "readonly"
    folder.mkdir()
    target = folder / "m.aem"
    model.save(target)
    before = target.read_bytes()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        with pytest.raises(ae.FileError):
            model.save(target)
        assert target.read_bytes() == before
    finally:
        folder.chmod(0o700)


def test_pickle_round_trip(model, data):
    model.fit(data, epochs=1)
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        clone = pickle.loads(pickle.dumps(model, protocol=protocol))
        assert clone is not model and clone.get_params() == model.get_params()
        assert clone.epochs_completed == 1
        np.testing.assert_array_equal(clone.reconstruct(data), model.reconstruct(data))
        assert clone.history_ == model.history_
        clone.close()
    unfitted = pickle.loads(pickle.dumps(ae.Autoencoder(hidden=[5], code_size=2)))
    assert not unfitted.is_built and unfitted.get_params()["hidden"] == [5]


def test_copy_and_deepcopy_are_independent(model, data):
    import copy
    duplicate = copy.deepcopy(model)
    duplicate.set_parameter("decoder.1.bias", np.ones(12))
    assert not np.array_equal(model.get_parameter("decoder.1.bias"), np.ones(12))


def test_closed_model_raises_before_calling_c(small_spec, data, monkeypatch):
    m = ae.Autoencoder.from_spec(small_spec)
    m.close()
    m.close()  # idempotent
    assert m.closed and not m.is_built and "closed" in repr(m)
    from autoencoders import _library

    def forbidden(*args):
        raise AssertionError("the library was called on a closed model")
    for name in ("ae_model_encode", "ae_model_decode", "ae_model_reconstruct", "ae_model_score",
                 "ae_model_train", "ae_model_save", "ae_model_get_parameter"):
        monkeypatch.setattr(_library.lib, name, forbidden)
    calls = [lambda: m.encode(data), lambda: m.decode(np.zeros((1, 3))),
             lambda: m.reconstruct(data), lambda: m.reconstruction_error(data), lambda: m.fit(data),
             lambda: m.save("x.aem"), lambda: m.get_parameter("encoder.0.weight"),
             lambda: m.input_size, lambda: m.epochs_completed, lambda: m.to_bytes(),
             lambda: m.transform(data), lambda: m.set_input_scaling(0, 1),
             lambda: ae.Trainer(m)]
    for call in calls:
        with pytest.raises(ValueError, match="model is closed"):
            call()
    with pytest.raises(ValueError, match="model is closed"):
        pickle.dumps(m)


def test_context_manager_closes(small_spec, data):
    with ae.Autoencoder.from_spec(small_spec) as m:
        m.encode(data)
    assert m.closed
    with pytest.raises(ValueError, match="closed"):
        m.encode(data)


def test_finalizer_frees_an_unreferenced_model(small_spec):
    m = ae.Autoencoder.from_spec(small_spec)
    handle = m._native.handle
    finalizer = handle._finalizer
    assert finalizer.alive
    ref = weakref.ref(m)
    del m, handle
    gc.collect()
    assert ref() is None and not finalizer.alive


def test_unfitted_estimator_says_so():
    m = ae.Autoencoder(hidden=[4], code_size=2)
    assert not m.is_built
    with pytest.raises(ae.NotFittedError, match="fit"):
        m.encode(np.zeros((2, 5)))
    assert m.code_size == 2  # the hyperparameter, before the model exists
    with pytest.raises(ae.NotFittedError):
        m.spec
    assert not hasattr(m, "n_features_in_")  # NotFittedError is an AttributeError


def test_spec_and_architecture_arguments_are_exclusive(small_spec, data):
    m = ae.Autoencoder(spec=small_spec, hidden=[4])
    with pytest.raises(ValueError, match="either spec or the architecture.*hidden"):
        m.fit(data)
    assert not m.is_built


def test_version_and_threads():
    assert isinstance(ae.__version__, str) and ae.__version__.count(".") == 2
    before = ae.get_num_threads()
    try:
        ae.set_num_threads(1)
        assert ae.get_num_threads() == 1
        ae.set_num_threads(2)
        assert ae.get_num_threads() == 2
        for bad in (0, -1, 1025, 2 ** 40):
            with pytest.raises(ValueError):
                ae.set_num_threads(bad)
        with pytest.raises(TypeError):
            ae.set_num_threads(1.5)
    finally:
        ae.set_num_threads(max(before, 1))


def test_same_threads_same_seed_same_model(small_spec, data):
    models = []
    for _ in range(2):
        m = ae.Autoencoder.from_spec(small_spec, verbose=0)
        m.fit(data, epochs=3, batch_size=16)
        models.append(m)
    for name in models[0].parameter_names:
        np.testing.assert_array_equal(models[0].get_parameter(name), models[1].get_parameter(name))


def test_help_is_useful():
    import pydoc
    text = pydoc.render_doc(ae.Autoencoder, renderer=pydoc.plaintext)
    for method in ("fit", "encode", "decode", "reconstruct", "score", "save", "load",
                   "get_parameter", "set_input_scaling", "transform", "get_params"):
        assert method in text
    public = [name for name in dir(ae.Autoencoder) if not name.startswith("_")]
    for name in public:
        assert getattr(ae.Autoencoder, name).__doc__, f"{name} has no docstring"
    for name in [n for n in dir(ae.Trainer) if not n.startswith("_")]:
        assert getattr(ae.Trainer, name).__doc__, f"Trainer.{name} has no docstring"
    for name in ae.__all__:
        obj = getattr(ae, name)
        if callable(obj) and getattr(obj, "__module__", "") != "typing":
            assert obj.__doc__, name


def test_spec_examples_of_the_repository_build():
    folder = REPOSITORY / "examples" / "specs"
    for path in sorted(folder.glob("*.json")):
        m = ae.Model.from_spec(path.read_text())
        assert m.input_size >= 1
        m.close()
