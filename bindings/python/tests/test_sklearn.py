"""scikit-learn conventions: get_params / set_params, clone of an unfitted estimator, a lazily
built native model, transform / inverse_transform / fit_transform, and a Pipeline. The tests
that need scikit-learn itself skip when it is not installed (it is not a dependency)."""

import numpy as np
import pytest

import autoencoders as ae

HYPER = dict(hidden=[8], code_size=3, activation="tanh", epochs=3, batch_size=20, seed=5, verbose=0)


def test_get_params_lists_the_constructor_arguments():
    m = ae.Autoencoder(**HYPER)
    params = m.get_params()
    assert params["hidden"] is HYPER["hidden"] and params["code_size"] == 3
    assert params["activation"] == "tanh" and params["spec"] is None and params["epochs"] == 3
    import inspect
    assert list(params) == [p for p in inspect.signature(ae.Autoencoder).parameters]
    assert m.get_params(deep=False) == params


def test_constructor_creates_nothing_native(monkeypatch):
    from autoencoders import _library
    monkeypatch.setattr(_library.lib, "ae_model_create", None)  # any call would fail
    m = ae.Autoencoder(**HYPER)
    ae.Autoencoder(**m.get_params())
    assert not m.is_built


def test_set_params_returns_self_and_validates_names(data):
    m = ae.Autoencoder(**HYPER)
    assert m.set_params(code_size=2, epochs=1) is m
    assert m.get_params()["code_size"] == 2
    with pytest.raises(ValueError, match="invalid parameter 'codesize'"):
        m.set_params(codesize=2)


def test_set_params_on_a_fitted_model(data):
    m = ae.Autoencoder(**HYPER).fit(data)
    m.set_params(epochs=1, verbose=0)  # training settings keep the model
    assert m.is_built and m.epochs_completed == 3
    m.set_params(code_size=2)  # the architecture changes: the next fit builds anew
    assert not m.is_built and not hasattr(m, "history_")
    m.fit(data)
    assert m.code_size == 2 and m.epochs_completed == 1
    m.code_size = 4  # properties that are hyperparameters set them too
    assert not m.is_built and m.code_size == 4


def test_transform_inverse_transform_fit_transform(data):
    m = ae.Autoencoder(**HYPER)
    codes = m.fit_transform(data)
    assert codes.shape == (200, 3)
    np.testing.assert_array_equal(codes, m.transform(data))
    np.testing.assert_array_equal(m.inverse_transform(codes), m.decode(codes))
    assert list(m.get_feature_names_out()) == ["autoencoder0", "autoencoder1", "autoencoder2"]
    same = ae.Autoencoder(**HYPER).fit(data)
    np.testing.assert_array_equal(same.transform(data), codes)  # deterministic


def test_repr_shows_non_default_parameters():
    assert repr(ae.Autoencoder()) == "Autoencoder()"
    text = repr(ae.Autoencoder(hidden=[8], code_size=3, epochs=3))
    assert text == "Autoencoder(hidden=[8], code_size=3, epochs=3)"
    long_spec = {"input_size": 100, "encoder": [{"type": "dense", "units": 10}] * 3,
                 "decoder": [{"type": "dense", "units": 100}]}
    assert repr(ae.Autoencoder(spec=long_spec)) == "Autoencoder(spec={...})"


def test_loaded_models_report_their_spec_as_parameter(small_spec, tmp_path, data):
    m = ae.Autoencoder.from_spec(small_spec, verbose=0).fit(data, epochs=1)
    m.save(tmp_path / "m.aem")
    loaded = ae.Autoencoder.load(tmp_path / "m.aem")
    assert loaded.get_params()["spec"] == small_spec
    rebuilt = ae.Autoencoder(**loaded.get_params())  # what clone does: fresh weights, same spec
    rebuilt.fit(data, epochs=1)
    np.testing.assert_array_equal(rebuilt.encode(data), m.encode(data))


# ---- With scikit-learn --------------------------------------------------------------------------

def test_sklearn_clone_of_unfitted_and_fitted(data):
    base = pytest.importorskip("sklearn.base")
    m = ae.Autoencoder(**HYPER)
    copy = base.clone(m)
    assert copy is not m and copy.get_params() == m.get_params() and not copy.is_built
    m.fit(data)
    fresh = base.clone(m)  # a fitted estimator clones to an unfitted one
    assert not fresh.is_built
    np.testing.assert_array_equal(fresh.fit(data).transform(data), m.transform(data))
    assert base.clone(ae.Autoencoder.dense(12, hidden=[4], code_size=2)).get_params()["hidden"] == [4]


def test_sklearn_check_is_fitted(data):
    validation = pytest.importorskip("sklearn.utils.validation")
    from sklearn.exceptions import NotFittedError
    m = ae.Autoencoder(**HYPER)
    with pytest.raises(NotFittedError):
        validation.check_is_fitted(m)
    validation.check_is_fitted(m.fit(data))


def test_sklearn_pipeline_like_pca(data):
    pytest.importorskip("sklearn")
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.linear_model import LinearRegression
    target = data @ np.arange(12, dtype=np.float32)
    pipe = Pipeline([("scale", StandardScaler()), ("ae", ae.Autoencoder(**HYPER)),
                     ("reg", LinearRegression())])
    pipe.fit(data, target)
    assert pipe.predict(data).shape == (200,)
    assert pipe.named_steps["ae"].is_built
    pipe.set_params(ae__code_size=2)
    assert not pipe.named_steps["ae"].is_built
    pipe.fit(data, target)
    assert pipe.named_steps["ae"].code_size == 2
    features = make_pipeline(StandardScaler(), ae.Autoencoder(**HYPER))
    assert features.fit_transform(data).shape == (200, 3)
    assert list(features.get_feature_names_out())[0] == "autoencoder0"
    recon = features.inverse_transform(features.transform(data))
    assert recon.shape == data.shape


def test_sklearn_grid_search(data):
    pytest.importorskip("sklearn")
    from sklearn.model_selection import GridSearchCV

    def scorer(estimator, X, y=None):
        return -estimator.evaluate(X)  # score() is per sample; pass a scorer
    search = GridSearchCV(ae.Autoencoder(**HYPER), {"code_size": [2, 4]}, cv=2, scoring=scorer)
    search.fit(data)
    assert search.best_params_["code_size"] in (2, 4)
    assert search.best_estimator_.is_built
