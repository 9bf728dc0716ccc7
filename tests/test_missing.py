"""Incomplete rows: fit, transform and score with missing cells; refused fits change nothing."""

import numpy as np
import pandas as pd
import pytest

from skvae import VAETransformer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(latent_dim=2, hidden_layer_sizes=(16,), max_iter=20, random_state=0)


def _correlated(n=300, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    return z @ rng.normal(size=(2, 5)) + 0.2 * rng.normal(size=(n, 5))


def _holes(X, fraction=0.2, seed=1):
    X = X.copy()
    X[np.random.default_rng(seed).random(X.shape) < fraction] = np.nan
    return X


def test_tags_say_nan_is_allowed():
    assert VAETransformer().__sklearn_tags__().input_tags.allow_nan


def test_fit_transform_score_on_incomplete_arrays():
    X = _holes(_correlated())
    vae = VAETransformer(**SMALL).fit(X)
    assert np.all(np.isfinite(vae.transform(X)))
    assert np.all(np.isfinite(vae.score_samples(X, n_importance=5)))
    assert np.all(np.isfinite(vae.loss_curve_))
    # The encoder sees which cells are missing where fit had missing cells.
    assert vae._schema.mask_columns == [0, 1, 2, 3, 4]


def test_a_missing_cell_drops_out_of_the_likelihood():
    X = _correlated()
    vae = VAETransformer(**SMALL).fit(_holes(X))
    rows = X[:50].copy()
    rows[:, 2] = np.nan
    # Another hole is another bound: of the likelihood of other observed cells.
    other = rows.copy()
    other[:, 3] = np.nan
    assert not np.allclose(vae.score_samples(rows), vae.score_samples(other))
    cells = vae._column_log_likelihood(rows, n_samples=4)
    assert np.all(np.isnan(cells[:, 2])) and np.all(np.isfinite(np.delete(cells, 2, axis=1)))


def test_a_row_with_nothing_observed_is_the_prior():
    X = _holes(_correlated())
    vae = VAETransformer(**SMALL).fit(X)
    empty = np.full((3, X.shape[1]), np.nan)
    np.testing.assert_array_equal(vae.transform(empty), np.zeros((3, 2)))
    # log p(nothing) = log 1 = 0, exactly.
    np.testing.assert_array_equal(vae.score_samples(empty), np.zeros(3))
    np.testing.assert_array_equal(vae.score_samples(empty, n_importance=7), np.zeros(3))


def test_nan_at_transform_in_a_column_complete_at_fit():
    X = _correlated()
    vae = VAETransformer(**SMALL).fit(X)
    assert vae._schema.mask_columns == []
    holes = _holes(X[:40])
    assert np.all(np.isfinite(vae.transform(holes)))
    assert np.all(np.isfinite(vae.score_samples(holes)))


def test_none_and_pd_na_are_missing_in_dataframes():
    frame = pd.DataFrame({
        "x": pd.array([1.0, None, 3.0, 2.0] * 30, dtype="Float64"),
        "c": pd.Series(["a", None, "b", pd.NA] * 30, dtype=object),
    })
    vae = VAETransformer(**SMALL).fit(frame)
    as_nan = pd.DataFrame({"x": frame["x"].astype(float), "c": frame["c"].where(frame["c"].notna(), np.nan)})
    np.testing.assert_array_equal(vae.score_samples(frame), vae.score_samples(as_nan))


def test_infinity_is_not_a_missing_value():
    X = _correlated()
    X[3, 1] = -np.inf
    with pytest.raises(ValueError, match=r"infinite value \(-inf in column 1, row 3\)\. Infinity is not a missing value"):
        VAETransformer(**SMALL).fit(X)


@pytest.mark.parametrize("refusal", ["bernoulli-on-reals", "missing-cuda", "wider-and-bernoulli"])
def test_a_refused_refit_leaves_the_fitted_model_as_it_was(refusal):
    X = _correlated()
    vae = VAETransformer(**SMALL).fit(X)
    before = {name: vae.transform(X) for name in ("transform",)}
    scores = vae.score_samples(X)
    state = dict(vae.__dict__)
    if refusal == "bernoulli-on-reals":
        vae.set_params(likelihood="bernoulli")
        data = X
    elif refusal == "missing-cuda":
        pytest.importorskip("torch")
        import torch

        if torch.cuda.is_available():
            pytest.skip("a CUDA device is present")
        vae.set_params(device="cuda")
        data = np.c_[X, X]
    else:
        vae.set_params(likelihood="bernoulli")
        data = np.c_[X, X]
    with pytest.raises(ValueError):
        vae.fit(data)
    vae.set_params(likelihood="auto", device="auto")
    assert vae.n_features_in_ == X.shape[1]
    assert {k: id(v) for k, v in vae.__dict__.items() if k not in ("likelihood", "device")} == {
        k: id(v) for k, v in state.items() if k not in ("likelihood", "device")}
    np.testing.assert_array_equal(vae.transform(X), before["transform"])
    np.testing.assert_array_equal(vae.score_samples(X), scores)


def test_importance_weighted_training_objective():
    X = _holes(_correlated())
    elbo = VAETransformer(**SMALL).fit(X)
    iwae = VAETransformer(**SMALL, n_importance_train=8).fit(X)
    assert np.all(np.isfinite(iwae.loss_curve_))
    assert iwae.score(X, n_importance=50) != elbo.score(X, n_importance=50)
    with pytest.raises(ValueError, match="set beta=1 or n_importance_train=1"):
        VAETransformer(**SMALL, n_importance_train=4, beta=0.5).fit(X)
