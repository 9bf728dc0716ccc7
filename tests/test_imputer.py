"""VAEImputer: scikit-learn's imputer contract on mixed, incomplete tables."""

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skvae import VAEImputer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(latent_dim=2, hidden_layer_sizes=(32,), batch_size=32, max_iter=100, random_state=0, n_importance=20)


def _correlated(n=300, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    return z @ rng.normal(size=(2, 6)) + 0.1 * rng.normal(size=(n, 6))


def _mask(shape, fraction=0.3, seed=1):
    return np.random.default_rng(seed).random(shape) < fraction


def test_fills_every_hole_keeps_observed_cells_bit_for_bit_and_beats_the_mean():
    X = _correlated()
    hidden = _mask(X.shape)
    X_missing = np.where(hidden, np.nan, X)
    filled = VAEImputer(**SMALL).fit_transform(X_missing)
    assert not np.isnan(filled).any()
    np.testing.assert_array_equal(filled[~hidden], X_missing[~hidden])
    mean_error = np.mean((SimpleImputer().fit_transform(X_missing)[hidden] - X[hidden]) ** 2)
    vae_error = np.mean((filled[hidden] - X[hidden]) ** 2)
    assert vae_error < 0.5 * mean_error


def test_other_markers_and_no_copy():
    X = np.round(np.abs(_correlated()) * 10)
    hidden = _mask(X.shape)
    X_marked = np.where(hidden, -1.0, X)
    imputer = VAEImputer(**SMALL, missing_values=-1, copy=False).fit(X_marked)
    out = imputer.transform(X_marked)
    assert out is X_marked and not np.any(out == -1)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        imputer.transform(np.where(hidden, np.nan, X))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint16])
def test_an_integer_array_comes_back_in_its_dtype_with_whole_fills_in_range(dtype):
    X = np.round(np.abs(_correlated()) * 10).astype(dtype)
    hidden = _mask(X.shape)
    X_marked = np.where(hidden, 999, X).astype(dtype)
    imputer = VAEImputer(**{**SMALL, "max_iter": 5}, missing_values=999, add_indicator=True).fit(X_marked)
    for out in (imputer.transform(X_marked), *imputer.multiple_imputations(X_marked, 2)):
        assert out.dtype == dtype
        filled = out[:, :X.shape[1]]
        np.testing.assert_array_equal(filled[~hidden], X[~hidden])
        observed = np.where(hidden, np.nan, X)
        assert (filled >= np.nanmin(observed, axis=0)).all() and (filled <= np.nanmax(observed, axis=0)).all()
        np.testing.assert_array_equal(out[:, X.shape[1]:], hidden.astype(dtype))


def test_categories_are_filled_with_a_category_and_the_table_comes_back_as_it_was():
    rng = np.random.default_rng(0)
    group = rng.integers(0, 3, size=300)
    frame = pd.DataFrame({
        "size": np.array([1.0, 4.0, 9.0])[group] + rng.normal(size=300) * 0.2,
        "colour": pd.Series(np.array(["red", "green", "blue"])[group], dtype=object),
        "n": rng.integers(0, 5, size=300),
    })
    holes = frame.copy()
    hidden = _mask((300,), 0.25)
    holes.loc[hidden, "colour"] = None
    size_hidden = _mask((300,), 0.25, seed=2)
    holes.loc[size_hidden, "size"] = np.nan
    filled = VAEImputer(**SMALL).fit_transform(holes)
    assert isinstance(filled, pd.DataFrame) and list(filled.columns) == list(frame.columns)
    assert list(filled.dtypes) == list(holes.dtypes)
    assert not filled.isna().any().any()
    assert set(filled["colour"]) <= {"red", "green", "blue"}
    pd.testing.assert_frame_equal(filled[holes.notna().all(axis=1)], holes[holes.notna().all(axis=1)])
    # The category follows the size it goes with, where the size was observed.
    rows = hidden & ~size_hidden
    assert (filled.loc[rows, "colour"] == frame.loc[rows, "colour"]).mean() > 0.9


def _bimodal_scale_table(n=600, seed=0):
    """Two correlated numbers and a 1-7 scale independent of them: 1 with probability 0.6, 7 with 0.3.

    The scale's conditional law given the rest is its marginal, whose mode (1) lies far from its mean
    (3.1): the least squared error a seen level can make is 3's.
    """
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    scale = rng.choice(np.arange(1, 8), size=n, p=[0.6, 0.02, 0.02, 0.02, 0.02, 0.02, 0.3])
    frame = pd.DataFrame({"a": z + 0.1 * rng.normal(size=n), "b": -z + 0.1 * rng.normal(size=n),
                          "scale": scale.astype(np.int64)})
    return frame, np.random.default_rng(seed + 1).random(n) < 0.3


def test_a_scale_of_numbers_is_filled_with_the_seen_level_nearest_its_conditional_mean():
    frame, hidden = _bimodal_scale_table()
    holes = frame.astype({"scale": "Int64"})
    holes.loc[hidden, "scale"] = pd.NA
    imputer = VAEImputer(**SMALL).fit(holes)
    assert imputer.vae_.column_kinds_["scale"] == "categorical"
    # The VAE's and the line's conditional mean: a forest (0.19.0) is another estimate of it.
    imputer._tree_refinement = None
    filled = imputer.transform(holes)
    assert filled["scale"].dtype == "Int64"
    fills = filled["scale"].to_numpy(dtype=np.int64)[hidden]
    observed = frame["scale"].to_numpy()[~hidden]
    assert set(fills) <= set(observed)
    # The model's conditional means scatter around the column's mean: every fill is one of the two
    # levels around it, never the mode.
    levels = np.unique(observed)
    around_mean = {levels[levels <= observed.mean()].max(), levels[levels >= observed.mean()].min()}
    assert around_mean == {3, 4}
    assert set(fills) <= around_mean, np.unique(fills, return_counts=True)
    truth = frame["scale"].to_numpy()[hidden]
    mode = np.bincount(observed).argmax()
    assert np.mean((fills - truth) ** 2) < 0.7 * np.mean((mode - truth) ** 2)


def test_a_scale_of_labels_is_filled_with_its_most_probable_label():
    frame, hidden = _bimodal_scale_table()
    labels = frame.assign(scale=frame["scale"].map(dict(zip(range(1, 8), "abcdefg"))).astype(object))
    labels.loc[hidden, "scale"] = None
    filled = VAEImputer(**SMALL).fit_transform(labels)
    fills = filled["scale"].to_numpy(dtype=object)[hidden]
    assert filled["scale"].dtype == object and set(fills) <= set("abcdefg")
    assert np.mean(fills == "a") >= 0.9, np.unique(fills, return_counts=True)


@pytest.mark.slow
def test_empty_features_and_the_indicator():
    X = _correlated()
    X[_mask(X.shape)] = np.nan
    X[:, 4] = np.nan
    dropped = VAEImputer(**SMALL).fit(X)
    assert dropped.transform(X).shape == (300, 5)
    assert list(dropped.get_feature_names_out()) == ["x0", "x1", "x2", "x3", "x5"]
    kept = VAEImputer(**SMALL, keep_empty_features=True, add_indicator=True).fit(X)
    out = kept.transform(X)
    assert out.shape == (300, 12)
    np.testing.assert_array_equal(out[:, 4], 0.0)
    np.testing.assert_array_equal(out[:, 6:], np.isnan(X).astype(float))
    assert kept.get_feature_names_out()[6] == "missingindicator_x0"


@pytest.mark.slow
def test_multiple_imputation_draws_vary_with_the_seed_and_centre_on_the_single_imputation():
    X = _correlated()
    X_missing = np.where(_mask(X.shape), np.nan, X)
    single = VAEImputer(**SMALL).fit(X_missing)
    centre = single.transform(X_missing)
    # Successive transform calls are successive draws (no set_params per draw).
    drawer = VAEImputer(**{**SMALL, "random_state": 0}, sample_posterior=True).fit(X_missing)
    draws = [drawer.transform(X_missing) for _ in range(8)]
    holes = np.isnan(X_missing)
    assert not np.allclose(draws[0][holes], draws[1][holes])
    np.testing.assert_array_equal(draws[0][~holes], X_missing[~holes])
    spread = np.mean(np.abs(np.mean(draws, axis=0)[holes] - centre[holes]))
    assert spread < np.std(X[holes])


def test_in_a_pipeline_with_a_classifier():
    X = _correlated()
    y = (X[:, 0] > np.median(X[:, 0])).astype(int)
    X[_mask(X.shape)] = np.nan
    model = make_pipeline(VAEImputer(**SMALL), LogisticRegression()).fit(X, y)
    assert model.score(X, y) > 0.8


def test_the_auto_budget_is_a_number_of_steps_per_column_whatever_the_rows():
    from skvae._imputer import AUTO_STEPS_PER_COLUMN

    tiny = dict(latent_dim=1, hidden_layer_sizes=(8,), batch_size=64, n_importance=5, random_state=0)
    steps = {}
    for n_rows, n_columns in ((256, 2), (512, 2), (256, 4)):
        X = np.where(_mask((n_rows, n_columns)), np.nan, _correlated(n_rows)[:, :n_columns])
        imputer = VAEImputer(**tiny).fit(X)
        assert imputer.max_iter == "auto" and isinstance(imputer.vae_.max_iter, int)
        steps[n_rows, n_columns] = imputer.n_iter_ * -(-n_rows // 64)
    # Twice the rows: half the epochs, the same steps; twice the columns: twice the steps.
    assert steps[256, 2] == steps[512, 2] == AUTO_STEPS_PER_COLUMN * 2
    assert steps[256, 4] == 2 * steps[256, 2]


def test_an_integer_max_iter_is_the_number_of_epochs_and_a_bad_one_is_refused():
    X = np.where(_mask((100, 3)), np.nan, _correlated(100)[:, :3])
    assert VAEImputer(**{**SMALL, "max_iter": 7}).fit(X).n_iter_ == 7
    with pytest.raises(ValueError, match="max_iter"):
        VAEImputer(max_iter="often").fit(X)


def test_the_refinement_check_passes_only_the_rows_holding_a_checked_cell_with_the_whole_passs_fills(monkeypatch):
    """The check pass (fit hides a fifth of a checked column's observed cells) runs on the rows holding one.

    Every other row's input is the first pass's, and a row's fills do not depend on the rows
    sharing its call: the fills the check reads must be a whole second pass's, bit for bit.
    """
    from skvae import _imputer

    frame, hidden = _bimodal_scale_table()
    holes = frame.astype({"scale": "Int64"})
    holes.loc[hidden, "scale"] = pd.NA
    passes, seen = [], {}
    point_fills, keep_earned = _imputer.VAEImputer._point_fills, _imputer.keep_earned

    def counted_point_fills(self, vae, vae_input):
        passes.append(len(vae_input))
        return point_fills(self, vae, vae_input)

    def kept(refinement, truth, check, fills, *args, **kwargs):
        seen.update(check=check.copy(), fills=fills.copy())
        return keep_earned(refinement, truth, check, fills, *args, **kwargs)

    monkeypatch.setattr(_imputer.VAEImputer, "_point_fills", counted_point_fills)
    monkeypatch.setattr(_imputer, "keep_earned", kept)
    imputer = VAEImputer(**{**SMALL, "max_iter": 10}).fit(holes)
    assert "check" in seen, "the scale column of numbers is refined with a check"
    with_check = int(seen["check"].any(axis=1).sum())
    # Then the forests' check (0.19.0), a pass of its own.
    assert passes[:2] == [len(holes), with_check] and 0 < with_check < len(holes) and len(passes) == 3
    X, _ = imputer._validate(holes, reset=False)
    missing, kept_columns = imputer._missing_mask(X), ~imputer._empty_features
    hidden_for_check = missing.copy()
    hidden_for_check[:, kept_columns] |= seen["check"]
    whole_pass = point_fills(imputer, imputer.vae_, imputer._with_nan(X, hidden_for_check, kept_columns))
    np.testing.assert_array_equal(seen["fills"], whole_pass)
