"""VAEOutlierDetector: the outlier contract, its thresholds, explanations and bad input."""

import inspect
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from skvae import VAEOutlierDetector, VAETransformer
from skvae._objectives import kl_to_standard_normal

SMALL = dict(hidden_layer_sizes=(16,), latent_dim=2, max_iter=30, random_state=0)


@pytest.fixture(autouse=True)
def _few_epochs_expected():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def correlated_rows(n_rows, seed=0, scales=(1.0, 1.0, 1.0, 1.0)):
    """Rows near a 1-D curve in 4-D, each column in its own units."""
    rng = np.random.default_rng(seed)
    t = rng.standard_normal(n_rows)
    X = np.c_[t, np.sin(t), t**2 - 1, -t] + 0.1 * rng.standard_normal((n_rows, 4))
    return X * np.asarray(scales)


@pytest.fixture(scope="module")
def fitted():
    X = correlated_rows(300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return VAEOutlierDetector(**SMALL).fit(X), X


# ------------------------------------------------------------- parameters


def test_parameters_are_the_vaes_plus_its_own():
    vae_defaults = VAETransformer().get_params()
    params = VAEOutlierDetector().get_params()
    assert set(params) == set(vae_defaults) | {"contamination", "n_importance"}
    # The detector keeps the 200-epoch budget and the 128-row batch its benchmark measured, not "auto".
    own_defaults = {"max_iter": 200, "batch_size": 128}
    assert {name: params[name] for name in vae_defaults} == {**vae_defaults, **own_defaults}
    assert params["contamination"] == "auto" and params["n_importance"] == 10
    signature = inspect.signature(VAEOutlierDetector)
    assert list(signature.parameters)[: len(vae_defaults)] == list(inspect.signature(VAETransformer).parameters)
    for name in vae_defaults:  # constraints are the VAE's too
        assert VAEOutlierDetector._parameter_constraints[name] is VAETransformer._parameter_constraints[name]


def test_parameters_reach_the_vae(fitted):
    detector, _ = fitted
    vae_params = detector.vae_.get_params()
    assert {name: getattr(detector, name) for name in vae_params} == vae_params
    assert detector.vae_.hidden_layer_sizes == (16,) and detector.n_iter_ == detector.vae_.n_iter_


def test_unknown_parameter_is_a_type_error():
    with pytest.raises(TypeError, match="n_components"):
        VAEOutlierDetector(n_components=2)


def test_docstring_lists_every_parameter():
    doc = VAEOutlierDetector.__doc__
    for name in VAEOutlierDetector().get_params():
        assert f"\n    {name} : " in doc, name


# ------------------------------------------------------------ the contract


def test_decision_function_and_predict_follow_the_scores(fitted):
    detector, X = fitted
    scores = detector.score_samples(X)
    np.testing.assert_array_equal(scores, detector.vae_.score_samples(X, n_importance=10))  # the default K
    np.testing.assert_allclose(detector.decision_function(X), scores - detector.offset_)
    labels = detector.predict(X)
    np.testing.assert_array_equal(labels, np.where(scores < detector.offset_, -1, 1))
    assert set(np.unique(labels)) == {-1, 1}


def test_scores_are_deterministic_and_row_wise(fitted):
    detector, X = fitted
    first = detector.score_samples(X)
    np.testing.assert_array_equal(first, detector.score_samples(X))
    # Another batch (here a negative-stride view) may change the last bit, as in VAETransformer.
    np.testing.assert_allclose(first[::-1][:7], detector.score_samples(X[::-1][:7]), rtol=1e-12)


def test_auto_threshold_is_tukeys_fence(fitted):
    detector, X = fitted
    q1, q3 = np.percentile(detector.score_samples(X), [25, 75])
    assert detector.offset_ == pytest.approx(q1 - 1.5 * (q3 - q1))


def test_auto_flags_planted_outliers_in_contaminated_training_data():
    X = correlated_rows(400, seed=1)
    planted = correlated_rows(12, seed=2)
    # Each moved 3 (thirty noise deviations) off the curve, in its own direction:
    # isolated rows, not a second cluster the VAE could learn.
    planted[np.arange(12), np.arange(12) % 4] += 3.0 * np.resize([1, -1, -1], 12)
    labels = VAEOutlierDetector(**{**SMALL, "max_iter": 200}).fit_predict(np.r_[X, planted])
    assert np.mean(labels[-12:] == -1) >= 0.9
    assert np.mean(labels[:-12] == -1) <= 0.08  # the fence flags a few percent of a clean curve


def test_contamination_flags_that_fraction_of_the_training_rows():
    X = correlated_rows(200, seed=3)
    detector = VAEOutlierDetector(contamination=0.1, **SMALL).fit(X)
    assert np.sum(detector.predict(X) == -1) == 20
    assert detector.offset_ == pytest.approx(np.percentile(detector.score_samples(X), 10))


def test_fit_predict_equals_fit_then_predict():
    X = correlated_rows(150, seed=4)
    detector = VAEOutlierDetector(contamination=0.05, **SMALL)
    np.testing.assert_array_equal(detector.fit_predict(X), detector.fit(X).predict(X))


def test_n_importance_one_scores_by_the_elbo(fitted):
    default, X = fitted
    detector = VAEOutlierDetector(n_importance=1, **SMALL).fit(X)
    elbo = detector.score_samples(X)
    np.testing.assert_array_equal(elbo, detector.vae_.score_samples(X))
    # Same seed, same fit: the default's IW bound is tighter on average than the ELBO. Tighter in
    # expectation over the noise: one draw per row left the ELBO's mean over these rows 0.17 nats
    # above its expectation (hostile sweep 22, whose noise keys changed the draws), so the ELBO is
    # averaged over 20 copies of each row, apart beyond float32's precision, so each draws its own noise.
    copies = np.concatenate([X * (1 + 1e-5 * j) for j in range(20)])
    assert default.score_samples(X).mean() > detector.vae_.score(copies)


def test_n_importance_changed_after_fit_waits_for_the_next_fit(fitted):
    _, X = fitted
    detector = VAEOutlierDetector(n_importance=4, **SMALL).fit(X)
    before = detector.decision_function(X[:20])
    detector.set_params(n_importance=1)
    # offset_ belongs to the 4-sample bound: scores must stay on that scale.
    np.testing.assert_array_equal(detector.decision_function(X[:20]), before)


def test_tags_follow_the_vae():
    detector_tags = VAEOutlierDetector().__sklearn_tags__()
    vae_tags = VAETransformer().__sklearn_tags__()
    assert detector_tags.input_tags == vae_tags.input_tags
    assert detector_tags.estimator_type == "outlier_detector"


def test_feature_name_warning_is_given_once():
    pd = pytest.importorskip("pandas")
    X = correlated_rows(100, seed=5)
    detector = VAEOutlierDetector(**SMALL).fit(pd.DataFrame(X, columns=list("abcd")))
    np.testing.assert_array_equal(detector.feature_names_in_, list("abcd"))
    with pytest.warns(UserWarning, match="VAEOutlierDetector was fitted with feature names") as record:
        detector.predict(X)
    assert sum("feature names" in str(w.message) for w in record) == 1
    detector.fit(X)  # refit without names forgets them
    assert not hasattr(detector, "feature_names_in_")


# ------------------------------------------------------------- bad input


@pytest.mark.parametrize("contamination", [0.0, -0.1, 0.51, 1.0, "high", None])
def test_contamination_outside_its_range_is_refused_and_changes_nothing(fitted, contamination):
    detector, X = fitted
    offset, vae = detector.offset_, detector.vae_
    with pytest.raises(ValueError, match="'contamination' parameter of VAEOutlierDetector"):
        detector.set_params(contamination=contamination).fit(X)
    detector.set_params(contamination="auto")
    assert detector.offset_ == offset and detector.vae_ is vae


@pytest.mark.parametrize("method", ["predict", "decision_function", "score_samples", "score_columns"])
def test_methods_before_fit_raise_not_fitted(method):
    with pytest.raises(NotFittedError, match="VAEOutlierDetector"):
        getattr(VAEOutlierDetector(), method)(np.zeros((2, 3)))


def test_wrong_number_of_features_names_the_detector(fitted):
    detector, X = fitted
    with pytest.raises(ValueError, match="VAEOutlierDetector is expecting 4 features"):
        detector.predict(X[:, :3])


def test_a_refit_that_fails_keeps_the_fitted_model(fitted):
    detector, X = fitted
    offset, vae = detector.offset_, detector.vae_
    bad = X.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError):
        detector.fit(bad)
    assert detector.offset_ == offset and detector.vae_ is vae and detector.n_features_in_ == 4


def test_identical_rows_flag_no_training_row_but_flag_other_rows():
    X = np.tile([[1.0, -2.0, 3.0]], (50, 1))
    with pytest.warns(UserWarning, match="contamination=0.1 flags no training row"):
        detector = VAEOutlierDetector(contamination=0.1, **SMALL).fit(X)
    assert np.all(detector.predict(X) == 1)
    assert detector.predict([[1.0, -2.0, 4.0]])[0] == -1
    auto = VAEOutlierDetector(**SMALL).fit(X)  # "auto" expects no fraction: no warning, nothing flagged
    assert np.all(auto.predict(X) == 1) and auto.predict([[1.5, -2.0, 3.0]])[0] == -1


def test_fraction_smaller_than_one_row_flags_the_lowest_row():
    X = correlated_rows(20, seed=6)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        detector = VAEOutlierDetector(contamination=0.01, **SMALL).fit(X)
    assert not [w for w in record if "flags no training row" in str(w.message)]
    scores = detector.score_samples(X)
    np.testing.assert_array_equal(detector.predict(X) == -1, scores == scores.min())


# ---------------------------------------------------------- explanations


def _kl(vae, X):
    networks = vae._model.networks(np.float64)
    encoded = networks.as_tensor(vae._schema.encode(vae._schema.raw_values(X)))
    with torch.no_grad():
        mean, log_variance = networks.encoder(networks.likelihood.encoder_input(encoded))
        return kl_to_standard_normal(mean, log_variance).cpu().numpy()


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_column_terms_minus_kl_sum_to_the_elbo(likelihood):
    X = correlated_rows(120, seed=7, scales=(1e-3, 1.0, 50.0, 1e4))
    if likelihood == "bernoulli":
        X = (X - X.min(0)) / (X.max(0) - X.min(0))
    vae = VAETransformer(likelihood=likelihood, **SMALL).fit(X)
    cells = vae._column_log_likelihood(X, n_samples=1)
    assert cells.shape == X.shape
    np.testing.assert_allclose(cells.sum(1) - _kl(vae, X), vae.score_samples(X), rtol=1e-10, atol=1e-8)
    # More samples: an average of such one-sample terms, close to the same ELBO on average.
    many = vae._column_log_likelihood(X, n_samples=64).sum(1) - _kl(vae, X)
    assert abs(many.mean() - vae.score_samples(X).mean()) < 0.1 * abs(vae.score_samples(X).mean()) + 0.5


@pytest.mark.parametrize("column", [0, 1, 2, 3])
def test_planted_cell_has_the_most_negative_contribution(column):
    scales = (1e-3, 1.0, 50.0, 1e4)  # units must not decide which cell looks odd
    X = correlated_rows(400, seed=8, scales=scales)
    detector = VAEOutlierDetector(**{**SMALL, "max_iter": 200}).fit(X)
    rows = correlated_rows(10, seed=9, scales=scales)
    rows[:, column] += 1.5 * scales[column] * np.sign(rows[:, column] + 1e-12 * scales[column])
    contributions = detector.score_columns(rows)
    assert contributions.shape == rows.shape
    assert np.mean(np.argmin(contributions, axis=1) == column) >= 0.9
    assert detector.score_samples(rows).mean() < detector.score_samples(correlated_rows(10, seed=9, scales=scales)).mean()
    typical = detector.score_columns(X)
    np.testing.assert_allclose(np.median(typical, axis=0), 0, atol=1e-9)


def test_score_columns_keeps_a_dataframes_labels(fitted):
    pd = pytest.importorskip("pandas")
    X = correlated_rows(100, seed=10)
    frame = pd.DataFrame(X, columns=list("wxyz"), index=np.arange(100) * 3)
    detector = VAEOutlierDetector(**SMALL).fit(frame)
    explained = detector.score_columns(frame)
    assert list(explained.columns) == list("wxyz") and list(explained.index) == list(frame.index)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        np.testing.assert_array_equal(explained.to_numpy(), detector.score_columns(X))
    assert isinstance(fitted[0].score_columns(fitted[1]), np.ndarray)
