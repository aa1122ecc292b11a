"""scikit-learn conformance, with scikit-learn itself (skipped without it; CI installs it):
every check of check_estimator, the transformer checks it does not run for third-party
estimators (set_output, feature names, partial_fit), and model selection over the code size
inside a Pipeline. For Autoencoder and VariationalAutoencoder: the generic checks train
unsupervised transformers, which a SegmentationNetwork (labels per pixel of images) is not;
its scikit-learn methods are tested in test_family.py."""

import warnings

import numpy as np
import pytest

# Estimator tags (__sklearn_tags__) and expected_failed_checks came with scikit-learn 1.6;
# Debian 12's python3-sklearn is 1.2, so these skip on Debian's python3 (pip installs a
# current one for other pythons, see scripts/setup.sh).
pytest.importorskip("sklearn", minversion="1.6")

from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils import estimator_checks  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import autoencoders as ae  # noqa: E402

# The package does not depend on scikit-learn, so its estimators cannot derive from
# BaseEstimator; they follow its protocol instead, which is what these checks test.
pytestmark = pytest.mark.filterwarnings("ignore:Estimator .* does not inherit")

#: Small and quick; verbose="auto" is silent in the clones the checks fit.
ESTIMATOR = ae.Autoencoder(hidden=[8], code_size=3, epochs=2)
#: The VAE standardizes its input: on the checks' raw blobs (values near 10) the log-variance
#: of a 2-epoch VAE overflows and training stops with NumericError, as it should.
ESTIMATORS = [ESTIMATOR, ae.VariationalAutoencoder(hidden=[8], code_size=3, epochs=2,
                                                   input_scaling="standardize")]

#: Checks that fail, each with its reason (none today: every check that applies passes).
#: check_array_api_input skips itself unless SCIPY_ARRAY_API=1 (the model takes numpy only).
EXPECTED_FAILED_CHECKS = {}

#: Transformer checks that check_estimator yields only for scikit-learn's own estimators.
EXTRA_CHECKS = ["check_set_output_transform", "check_set_output_transform_pandas",
                "check_global_output_transform_pandas", "check_transformer_get_feature_names_out",
                "check_transformer_get_feature_names_out_pandas",
                "check_dataframe_column_names_consistency",
                "check_estimators_partial_fit_n_features"]


with warnings.catch_warnings():  # the same warning, at collection
    warnings.filterwarnings("ignore", "Estimator .* does not inherit")
    checks = parametrize_with_checks(ESTIMATORS,
                                     expected_failed_checks=lambda _: EXPECTED_FAILED_CHECKS)


@checks
def test_check_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("name", EXTRA_CHECKS)
@pytest.mark.filterwarnings("ignore:X (has|does not have valid) feature names")  # on purpose
def test_extra_transformer_checks(name, estimator):
    if "pandas" in name or "dataframe" in name:
        pytest.importorskip("pandas")
    getattr(estimator_checks, name)(type(estimator).__name__, clone(estimator))


def low_rank(n, rank, features=12, seed=0):
    """Samples on a random ``rank``-dimensional subspace, plus a little noise."""
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, rank)) @ rng.normal(size=(rank, features))
            + 0.01 * rng.normal(size=(n, features))).astype(np.float32)


def reconstruction_scorer(pipeline, X, y=None):
    """A custom scorer: minus the mean reconstruction error of the pipeline's autoencoder."""
    codes_input = pipeline[:-1].transform(X)
    return -float(np.mean(pipeline[-1].reconstruction_error(codes_input)))


@pytest.mark.parametrize("scoring", [None, reconstruction_scorer])
def test_grid_search_over_the_code_size_in_a_pipeline_picks_the_best(scoring, capsys):
    X = low_rank(240, rank=5)
    pipeline = Pipeline([("scale", StandardScaler()),
                         ("ae", ae.Autoencoder(hidden=[24], epochs=40, lr=0.01, seed=1))])
    search = GridSearchCV(pipeline, {"ae__code_size": [1, 2, 6]}, cv=3, scoring=scoring)
    search.fit(X)
    scores = search.cv_results_["mean_test_score"]
    assert search.best_params_ == {"ae__code_size": 6}  # the last candidate, not the first
    assert scores[2] > max(scores[:2]) + 0.2  # on rank-5 data: about -0.03 against -0.5, -0.7
    assert search.best_estimator_.named_steps["ae"].code_size == 6
    assert capsys.readouterr().err == ""  # verbose="auto": silent inside the search


def test_set_output_pandas_through_a_pipeline():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(low_rank(100, rank=3), columns=[f"x{i}" for i in range(12)])
    pipeline = make_pipeline(StandardScaler(), ae.Autoencoder(hidden=[8], code_size=3, epochs=2))
    out = pipeline.set_output(transform="pandas").fit_transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["autoencoder0", "autoencoder1", "autoencoder2"]
    assert list(pipeline[-1].feature_names_in_) == list(X.columns)  # names flow through
    assert list(pipeline.get_feature_names_out()) == list(out.columns)
    assert isinstance(pipeline.transform(X), pd.DataFrame)


def test_outlier_detection_like_isolation_forest():
    from sklearn.ensemble import IsolationForest
    normal, odd = low_rank(300, rank=2), low_rank(20, rank=8, seed=3) * 3
    scaler = StandardScaler().fit(normal)
    detectors = [ae.Autoencoder(hidden=[16], code_size=2, epochs=30, lr=0.01, contamination=0.02),
                 IsolationForest(contamination=0.02, random_state=0)]
    for detector in detectors:  # the same code drives both
        detector.fit(scaler.transform(normal))
        labels = detector.predict(scaler.transform(odd))
        decision = detector.decision_function(scaler.transform(odd))
        np.testing.assert_array_equal(labels == -1, decision < 0)
        assert np.allclose(decision, detector.score_samples(scaler.transform(odd))
                           - detector.offset_, atol=1e-5)
    assert (detectors[0].predict(scaler.transform(odd)) == -1).mean() > 0.8
