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


def test_score_is_one_number_and_score_samples_follow_isolation_forest(data):
    m = ae.Autoencoder(**HYPER).fit(data)
    errors = m.reconstruction_error(data)
    score = m.score(data)
    assert isinstance(score, float) and score == pytest.approx(-errors.mean(dtype=np.float64))
    np.testing.assert_array_equal(m.score_samples(data), -errors)  # higher: more normal
    assert score == pytest.approx(m.score_samples(data).mean(dtype=np.float64))


def test_decision_function_and_predict_once_a_threshold_is_fitted(data):
    m = ae.Autoencoder(**HYPER).fit(data)
    assert not hasattr(m, "predict") and not hasattr(m, "decision_function")
    assert not hasattr(m, "offset_")
    with pytest.raises(AttributeError, match="no anomaly threshold"):
        m.predict(data)
    threshold = m.fit_threshold(data, 0.9)
    assert m.offset_ == -threshold
    decision = m.decision_function(data)
    np.testing.assert_allclose(decision, m.score_samples(data) - np.float32(m.offset_),
                               rtol=1e-6, atol=1e-7)
    labels = m.predict(data)
    assert set(np.unique(labels)) == {-1, 1}
    np.testing.assert_array_equal(labels == -1, m.is_anomaly(data))
    np.testing.assert_array_equal(labels == -1, decision < 0)
    assert (labels == -1).mean() == pytest.approx(0.1, abs=0.01)


def test_contamination_fits_the_threshold_in_fit(data):
    m = ae.Autoencoder(**HYPER, contamination=0.05).fit(data)
    assert (m.predict(data) == -1).mean() == pytest.approx(0.05, abs=0.01)
    with pytest.raises(ValueError, match="contamination"):
        ae.Autoencoder(**HYPER, contamination=0.9).fit(data)


def test_warm_start_defaults_to_false_and_fitting_twice_equals_once(data):
    m = ae.Autoencoder(**HYPER)
    assert m.warm_start is False
    first = m.fit(data).transform(data)
    np.testing.assert_array_equal(m.fit(data).transform(data), first)
    assert m.epochs_completed == HYPER["epochs"]


def test_loaded_models_train_on(model, data, tmp_path):
    model.fit(data, epochs=2)
    model.save(tmp_path / "m.aem")
    loaded = ae.load(tmp_path / "m.aem", verbose=0)
    assert loaded.warm_start is True
    loaded.fit(data, epochs=1)
    assert loaded.epochs_completed == 3


def test_verbose_auto_shows_progress_in_a_direct_fit(data, capsys):
    assert ae.Autoencoder().verbose == "auto"
    ae.Autoencoder(hidden=[4], code_size=2, epochs=2).fit(data)
    assert len(capsys.readouterr().err.splitlines()) == 2  # lines: stderr is no terminal here
    with pytest.raises(ValueError, match="verbose"):
        ae.Autoencoder(hidden=[4], verbose="loud").fit(data)


def test_feature_names_and_pandas_output(data):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(data, columns=[f"f{i}" for i in range(12)], index=range(100, 300))
    m = ae.Autoencoder(**HYPER).fit(frame)
    assert list(m.feature_names_in_) == list(frame.columns)
    assert isinstance(m.transform(frame), np.ndarray)
    out = m.set_output(transform="pandas").transform(frame)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == ["autoencoder0",
                                                                   "autoencoder1", "autoencoder2"]
    assert list(out.index) == list(frame.index)
    np.testing.assert_array_equal(out.to_numpy(), m.set_output(transform="default").transform(frame))
    with pytest.raises(ValueError, match="feature names should match"):
        m.transform(frame[frame.columns[::-1]])
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        m.transform(data)
    with pytest.raises(ValueError, match="transform is 'arrow'"):
        m.set_output(transform="arrow")


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


def test_sklearn_clone_is_silent_with_verbose_auto(data, capsys):
    pytest.importorskip("sklearn", minversion="1.3")  # __sklearn_clone__
    from sklearn import base
    m = ae.Autoencoder(hidden=[4], code_size=2, epochs=2)
    copy = base.clone(m)
    assert copy.get_params() == m.get_params() and copy.verbose == "auto"
    copy.fit(data)
    assert capsys.readouterr().err == ""  # what meta-estimators fit trains silently
    base.clone(m.set_params(verbose=2)).fit(data)  # unless asked explicitly
    assert len(capsys.readouterr().err.splitlines()) == 2


def test_sklearn_grid_search(data):
    pytest.importorskip("sklearn")
    from sklearn.model_selection import GridSearchCV

    def scorer(estimator, X, y=None):
        return -estimator.evaluate(X)  # score() is per sample; pass a scorer
    search = GridSearchCV(ae.Autoencoder(**HYPER), {"code_size": [2, 4]}, cv=2, scoring=scorer)
    search.fit(data)
    assert search.best_params_["code_size"] in (2, 4)
    assert search.best_estimator_.is_built
