"""The imputer's tree refinement: a small forest per numeric column that earns its blend on a check."""

import copy
import io

import numpy as np
import pandas as pd
import pytest

import skvae
from skvae import VAEImputer, _forest, _refinement

FAST = dict(random_state=0, max_iter=30, hidden_layer_sizes=(16,), latent_dim=2)


def step_table(n=600, seed=0):
    """Four independent columns and one that steps with them: what a tree copies and a line or a smooth decoder blurs."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(4)])
    frame["step"] = 3.0 * (X[:, 0] > 0) + 3.0 * ((X[:, 1] > 0) & (X[:, 2] > 0)) + 0.1 * rng.normal(size=n)
    hidden = np.zeros(frame.shape, dtype=bool)
    hidden[:, -1] = rng.random(n) < 0.2
    return frame, hidden


@pytest.fixture(scope="module")
def fitted():
    frame, hidden = step_table()
    missing = frame.mask(hidden)
    return frame, hidden, missing, VAEImputer(**FAST).fit(missing)


def _rmse(filled, frame, hidden):
    rows = hidden[:, -1]
    return float(np.sqrt(np.mean((filled["step"][rows] - frame["step"][rows]) ** 2)))


def test_a_step_the_forest_reads_is_refined(fitted):
    frame, hidden, missing, imputer = fitted
    # x0 to x2 are partly read back from the step too.
    assert 4 in imputer._tree_refinement["columns"]
    with_trees = _rmse(imputer.transform(missing), frame, hidden)
    without = copy.deepcopy(imputer)
    without._tree_refinement = None
    # 118 hidden cells: 0.88 against 1.27 without the forest when written.
    assert with_trees < 0.85 * _rmse(without.transform(missing), frame, hidden)


def test_fills_stay_in_range_and_do_not_depend_on_the_rows_beside_them(fitted):
    frame, hidden, missing, imputer = fitted
    whole = imputer.transform(missing)
    observed = missing["step"].dropna()
    assert whole["step"].between(observed.min(), observed.max()).all()
    pd.testing.assert_frame_equal(whole[~hidden[:, -1]], frame[~hidden[:, -1]])
    for rows in (slice(0, 1), slice(3, 10), slice(100, 600)):
        pd.testing.assert_frame_equal(imputer.transform(missing.iloc[rows]), whole.iloc[rows])
    pd.testing.assert_frame_equal(VAEImputer(**FAST).fit_transform(missing), whole)


def test_no_trees_under_self_masking_nor_without_refinement(fitted):
    frame, hidden, missing, imputer = fitted
    assert VAEImputer(**{**FAST, "max_iter": 3}, missing_mechanism="self_masking").fit(missing)._tree_refinement \
        is None
    plain = copy.deepcopy(imputer).set_params(refinement=None).transform(missing)
    # refinement=None on a fitted imputer: the VAE's fills alone, no forest either.
    assert _rmse(plain, frame, hidden) > _rmse(imputer.transform(missing), frame, hidden)


def test_the_forest_arrays_predict_as_scikit_learns_forest():
    from sklearn.ensemble import ExtraTreesRegressor

    rng = np.random.default_rng(1)
    design = rng.normal(size=(300, 5)) * [1, 10, 1e-3, 1, 100]
    target = np.sin(design[:, 0]) + design[:, 1] / 10 + rng.normal(size=300) * 0.1
    rows = np.arange(250)
    forest = _forest.fit(design[rows], target[rows], n_trees=7, max_leaves=32, min_leaf=3, seed=4)
    assert _forest.check_state(forest, 5) is None
    model = ExtraTreesRegressor(n_estimators=7, max_leaf_nodes=32, min_samples_leaf=3, random_state=4,
                                n_jobs=1).fit(design[rows].astype(np.float32), target[rows])
    np.testing.assert_allclose(_forest.predict(forest, design), model.predict(design.astype(np.float32)),
                               rtol=1e-12, atol=1e-12)
    # Beyond float32 the design cannot be read as the trees read it: no forest.
    assert _forest.fit(design * 1e300, target, n_trees=2, max_leaves=8, min_leaf=3, seed=0) is None


def test_a_forest_of_several_outputs_predicts_as_scikit_learns_and_its_state_says_how_many():
    from sklearn.ensemble import ExtraTreesRegressor

    rng = np.random.default_rng(2)
    design = rng.normal(size=(300, 4))
    codes = (design[:, 0] > 0).astype(int) + (design[:, 1] > 0.5)
    shares = np.eye(3)[codes]
    forest = _forest.fit(design, shares, n_trees=5, max_leaves=16, min_leaf=2, seed=3)
    assert forest["value"].shape[1] == 3
    assert _forest.check_state(forest, 4, outputs=3) is None
    model = ExtraTreesRegressor(n_estimators=5, max_leaf_nodes=16, min_samples_leaf=2, random_state=3,
                                n_jobs=1).fit(design.astype(np.float32), shares)
    predicted = _forest.predict(forest, design)
    np.testing.assert_allclose(predicted, model.predict(design.astype(np.float32)), rtol=1e-12, atol=1e-12)
    # Leaves hold each level's share of their rows.
    np.testing.assert_allclose(predicted.sum(axis=1), 1.0)
    # A state read as another number of outputs, or as one, is refused by name.
    assert "'value' of 2 outputs" in _forest.check_state(forest, 4, outputs=2)
    assert "'value' a 1-D" in _forest.check_state(forest, 4)


def test_the_check_keeps_a_forest_only_on_evidence():
    truth = np.zeros(40)
    plain = np.ones(40)
    assert _refinement._paired_statistic(plain, np.zeros(40), truth) > _refinement.TREE_CHECK_Z
    assert _refinement._paired_statistic(plain, plain, truth) == 0.0
    # Better on two cells and worse on one: no evidence.
    blended = plain.copy()
    blended[:2], blended[2] = 0.0, 2.0
    assert _refinement._paired_statistic(plain, blended, truth) < _refinement.TREE_CHECK_Z


def test_files_keep_the_forests_and_old_states_have_none(fitted):
    _, _, missing, imputer = fitted
    buffer = io.BytesIO()
    skvae.save(imputer, buffer)
    buffer.seek(0)
    expected = imputer.transform(missing)
    pd.testing.assert_frame_equal(skvae.load(buffer).transform(missing), expected)
    assert imputer._tree_refinement["shares"] == [_refinement.TREE_SHARE] * len(imputer._tree_refinement["columns"])
    # A state of skvae 0.20: no shares (each the half share).
    restored = VAEImputer.__new__(VAEImputer)
    state = imputer.__getstate__()
    restored.__setstate__({**state, "_tree_refinement": {key: value for key, value in state["_tree_refinement"].items()
                                                         if key != "shares"}})
    pd.testing.assert_frame_equal(restored.transform(missing), expected)
    # A state of skvae 0.18: no forests.
    restored = VAEImputer.__new__(VAEImputer)
    restored.__setstate__({k: v for k, v in imputer.__getstate__().items() if k != "_tree_refinement"})
    without = copy.deepcopy(imputer)
    without._tree_refinement = None
    pd.testing.assert_frame_equal(restored.transform(missing), without.transform(missing))


@pytest.mark.parametrize("tamper", ["column", "cycle", "width", "nan", "length", "dtype", "roots", "share",
                                    "whole-share-of-a-continuous-column", "shares-length", "share-type"])
def test_hostile_tree_refinement_states_are_refused(fitted, tamper):
    imputer = fitted[3]
    state = imputer.__getstate__()
    trees = {"columns": list(state["_tree_refinement"]["columns"]),
             "forests": [{k: v.copy() for k, v in forest.items()} for forest in state["_tree_refinement"]["forests"]]}
    forest = trees["forests"][0]
    inner = np.flatnonzero(forest["feature"] >= 0)
    if tamper == "column":
        trees["columns"] = [5]  # beyond the table's five columns
    elif tamper == "cycle":
        forest["left"][inner[-1]] = inner[0]  # a walk that would never end
    elif tamper == "width":
        forest["feature"][inner[0]] = 99
    elif tamper == "nan":
        forest["value"][0] = np.nan
    elif tamper == "length":
        trees["forests"] = trees["forests"] * 2
    elif tamper == "dtype":
        forest["left"] = forest["left"].astype(np.float64)
    elif tamper == "share":
        trees["shares"] = [3.0] * len(trees["columns"])
    elif tamper == "whole-share-of-a-continuous-column":
        trees["shares"] = [1.0] * len(trees["columns"])  # "step" is continuous: its check takes the half share only
    elif tamper == "shares-length":
        trees["shares"] = [0.5] * (len(trees["columns"]) + 1)
    elif tamper == "share-type":
        trees["shares"] = ["0.5"] * len(trees["columns"])
    else:
        forest["roots"] = forest["roots"][::-1].copy()
    with pytest.raises(ValueError, match="_tree_refinement"):
        VAEImputer.__new__(VAEImputer).__setstate__({**state, "_tree_refinement": trees})


def test_forests_are_sized_whatever_the_table(monkeypatch):
    """A forest per column, each on at most TREE_MAX_ROWS rows and TREE_MAX_FEATURES design columns a split."""
    fitted_on = []
    fit = _forest.fit

    def recorded(design, target, **kwargs):
        fitted_on.append((design.shape, kwargs["max_features"]))
        return fit(design, target, **kwargs)

    monkeypatch.setattr(_forest, "fit", recorded)
    rng = np.random.default_rng(0)
    n, width = 3_000, 80
    completed = rng.normal(size=(n, width))
    observed = np.ones((n, width), dtype=bool)
    columns = [{"name": f"x{j}", "kind": "gaussian", "dtype": "float64"} for j in range(width)]
    candidates = [0, 1]
    check = _refinement.cells_to_check(candidates, observed)
    _refinement.fit_tree_refinement(completed, observed, columns, candidates, check, completed)
    assert [shape for shape, _ in fitted_on] == [(_refinement.TREE_MAX_ROWS, width)] * 2
    assert all(share * width == _refinement.TREE_MAX_FEATURES for _, share in fitted_on)


def xor_table(n=800, seed=0):
    """Two 0/1 columns, their exclusive or (0/1), and noise: a column of two levels that only a tree copies."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    frame = pd.DataFrame({"a": a, "b": b, "x": rng.normal(size=n), "y": rng.normal(size=n), "xor": a ^ b})
    hidden = np.zeros(frame.shape, dtype=bool)
    hidden[:, -1] = rng.random(n) < 0.2
    return frame, hidden


def test_a_column_of_two_levels_is_refined_by_the_forest_alone_where_its_check_says_so(monkeypatch):
    """Half of the way to the forest's value never moves a 0/1 fill up (only down, where every tree says 0: a tie
    goes to the first level); the check may take the forest's whole share."""
    frame, hidden = xor_table()
    missing = frame.astype(float).mask(hidden)
    rows = hidden[:, -1]

    def errors(imputer):
        return float(np.mean(imputer.fit_transform(missing)["xor"][rows] != frame["xor"][rows]))

    imputer = VAEImputer(**FAST)
    refined = errors(imputer)
    trees = imputer._tree_refinement
    # a and b are each the exclusive or of the other two: their checks take the forest too.
    assert trees is not None and dict(zip(trees["columns"], trees["shares"])).get(4) == 1.0, trees
    buffer = io.BytesIO()
    skvae.save(imputer, buffer)
    buffer.seek(0)
    pd.testing.assert_frame_equal(skvae.load(buffer).transform(missing), imputer.transform(missing))
    monkeypatch.setattr(_refinement, "LEVEL_TREE_SHARES", (_refinement.TREE_SHARE,))
    half = VAEImputer(**FAST)
    assert refined < 0.05 < errors(half), (refined, errors(half))


def test_a_share_is_chosen_by_its_gain_and_an_overflowing_gain_still_counts():
    """The share chosen is the one of largest mean gain; a gain whose squares overflow is infinite, not lost."""
    truth = np.zeros(40)
    plain = np.ones(40)
    assert _refinement._mean_gain(plain, np.zeros(40), truth) == 1.0
    assert _refinement._mean_gain(plain, np.full(40, 0.5), truth) == 0.75
    huge = np.full(40, 1e200)  # (1e200)^2 overflows
    assert _refinement._mean_gain(huge, np.zeros(40), truth) == np.inf
    assert _refinement._paired_statistic(huge, np.zeros(40), truth) > _refinement.TREE_CHECK_Z
    assert _refinement._mean_gain(np.full(40, np.inf), np.full(40, np.inf), truth) == -np.inf  # inf - inf: none
