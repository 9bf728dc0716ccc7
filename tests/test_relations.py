"""Exact linear relations among numeric columns (a total of its parts, shares summing to 1), kept by the imputer."""

import copy
import io

import numpy as np
import pandas as pd
import pytest

import skvae
from skvae import VAEImputer
from skvae._relations import MIN_COMPLETE_ROWS, fill_relations, fit_relations

FAST = dict(random_state=0, max_iter=30, hidden_layer_sizes=(16,), latent_dim=2)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def relation_table(n=500, seed=0):
    """Two parts and their total (whole numbers), three shares summing to 1 (6 decimals), a weight in two units,
    and a number that only correlates with the parts."""
    rng = np.random.default_rng(seed)
    salary, benefits = rng.integers(20, 80, n) * 1000, rng.integers(2, 20, n) * 500
    shares = rng.dirichlet([2.0, 3.0, 5.0], n).round(6)
    shares[:, 2] = (1 - shares[:, 0] - shares[:, 1]).round(6)
    ounces = rng.normal(120, 15, n).round(1)
    return pd.DataFrame({"salary": salary, "benefits": benefits, "total": salary + benefits,
                         "food": shares[:, 0], "fuel": shares[:, 1], "other": shares[:, 2],
                         "ounces": ounces, "grams": (ounces * 28.35).round(3),
                         "noisy": salary + benefits + rng.normal(0, 500, n)})


def _raw(frame):
    raw = frame.to_numpy(dtype=np.float64)
    return raw, ~np.isnan(raw)


def _columns(frame):
    return [{"kind": "gaussian"} for _ in frame.columns]


def test_relations_are_found_with_their_columns_only():
    frame = relation_table()
    state = fit_relations(_columns(frame), *_raw(frame))
    assert sorted(state["columns"]) == [[0, 1, 2], [3, 4, 5], [6, 7]]  # not noisy (8), which only correlates
    for positions, coef, constant in zip(state["columns"], state["coef"], state["constant"]):
        residual = frame.iloc[:, positions].to_numpy(np.float64) @ coef - constant
        assert np.abs(residual).max() < 1e-3 * np.abs(coef).max() * frame.iloc[:, positions].std().max()


def test_no_relation_from_too_few_complete_rows_or_categorical_columns():
    frame = relation_table(n=MIN_COMPLETE_ROWS - 1)
    assert fit_relations(_columns(frame), *_raw(frame)) is None
    # Without the column that only correlates with the total (which, ranked before the total's parts, puts a
    # fourth column in the total's candidates: observed together in too few rows here).
    frame = relation_table(n=200).drop(columns="noisy")
    holed = frame.mask(np.random.default_rng(1).random(frame.shape) < 0.4)
    # About 1 % of the rows observe every column, but each relation's columns are observed together in 40 or
    # more rows: found among each column and its most correlated others.
    assert holed.notna().all(axis=1).sum() < MIN_COMPLETE_ROWS
    assert sorted(fit_relations(_columns(holed), *_raw(holed))["columns"]) == [[0, 1, 2], [3, 4, 5], [6, 7]]
    few = relation_table(n=60).mask(np.random.default_rng(1).random((60, 9)) < 0.4)  # about 13 rows a relation
    assert fit_relations(_columns(few), *_raw(few)) is None
    columns = [{"kind": "categorical", "categories": [0, 1]}] * frame.shape[1]
    assert fit_relations(columns, *_raw(frame)) is None


def test_fill_relations_fills_the_one_missing_member_only():
    state = {"columns": [[0, 1, 2]], "coef": [np.array([1.0, 1.0, -1.0])], "constant": [0.0]}
    completed = np.array([[2.0, 3.0, np.nan], [np.nan, 3.0, 7.0], [np.nan, np.nan, 7.0], [1.0, 1.0, 2.0]])
    missing = np.isnan(completed)
    values = np.full(completed.shape, -1.0)
    filled = fill_relations(values, completed, missing, state)
    np.testing.assert_array_equal(filled, [[-1, -1, 5], [4, -1, -1], [-1, -1, -1], [-1, -1, -1]])
    assert (values == -1.0).all()


@pytest.fixture(scope="module")
def fitted():
    frame = relation_table()
    hidden = np.random.default_rng(2).random(frame.shape) < 0.15
    missing = frame.mask(hidden)
    return frame, hidden, missing, VAEImputer(**FAST).fit(missing)


def _decided(hidden, positions):
    """Rows whose one missing cell of `positions` is that column's."""
    return [(hidden[:, positions].sum(axis=1) == 1) & hidden[:, j] for j in positions]


def test_the_imputer_fills_the_relations(fitted):
    frame, hidden, missing, imputer = fitted
    assert sorted(imputer._relations["columns"]) == [[0, 1, 2], [3, 4, 5], [6, 7]]
    filled = imputer.transform(missing)
    for positions in ([0, 1, 2], [3, 4, 5], [6, 7]):
        for j, rows in zip(positions, _decided(hidden, positions)):
            assert rows.sum() > 5
            # Whole numbers come back whole, decimals at the column's precision: the truth, kept in the
            # column's observed range as every fill is (a share below every observed one is put at the least).
            seen = missing.iloc[:, j]
            truth = frame.iloc[:, j][rows].clip(seen.min(), seen.max())
            np.testing.assert_allclose(filled.iloc[:, j][rows], truth, rtol=0, atol=1.5e-6)
    without = copy.deepcopy(imputer)
    without._relations = None
    rows = _decided(hidden, [0, 1, 2])[2]
    assert (without.transform(missing)["total"][rows] != frame["total"][rows]).any()
    # Draws take the certain cells too.
    drawn = copy.deepcopy(imputer).set_params(sample_posterior=True).transform(missing)
    np.testing.assert_array_equal(drawn["total"][rows], frame["total"][rows])


def test_no_relations_without_refinement(fitted):
    assert VAEImputer(**{**FAST, "refinement": None}).fit(fitted[2])._relations is None


def test_files_keep_the_relations_and_old_states_have_none(fitted):
    _, _, missing, imputer = fitted
    buffer = io.BytesIO()
    skvae.save(imputer, buffer)
    buffer.seek(0)
    pd.testing.assert_frame_equal(skvae.load(buffer).transform(missing), imputer.transform(missing))
    restored = VAEImputer.__new__(VAEImputer)
    restored.__setstate__({k: v for k, v in imputer.__getstate__().items() if k != "_relations"})
    without = copy.deepcopy(imputer)
    without._relations = None
    pd.testing.assert_frame_equal(restored.transform(missing), without.transform(missing))


@pytest.mark.parametrize("tamper", ["list", "key", "empty", "lengths", "one-column", "repeated", "beyond",
                                    "coef-shape", "zero-coef", "nan-coef", "int-constant", "inf-constant",
                                    "categorical"])
def test_hostile_relation_states_are_refused(fitted, tamper):
    imputer = fitted[3]
    state = imputer.__getstate__()
    relations = {part: list(values) for part, values in state["_relations"].items()}
    if tamper == "list":
        relations = [relations]
    elif tamper == "key":
        relations["weights"] = relations.pop("coef")
    elif tamper == "empty":
        relations = {part: [] for part in relations}
    elif tamper == "lengths":
        relations["constant"] = relations["constant"][:-1]
    elif tamper == "one-column":
        relations["columns"][0] = relations["columns"][0][:1]
        relations["coef"][0] = relations["coef"][0][:1]
    elif tamper == "repeated":
        relations["columns"][0] = [relations["columns"][0][0]] * len(relations["columns"][0])
    elif tamper == "beyond":
        relations["columns"][0] = relations["columns"][0][:-1] + [9]
    elif tamper == "coef-shape":
        relations["coef"][0] = relations["coef"][0][:-1]
    elif tamper == "zero-coef":
        relations["coef"][0] = relations["coef"][0] * 0.0
    elif tamper == "nan-coef":
        relations["coef"][0] = relations["coef"][0] * np.nan
    elif tamper == "int-constant":
        relations["constant"][0] = 1
    elif tamper == "inf-constant":
        relations["constant"][0] = float("inf")
    else:
        frame = fitted[0].assign(label=np.where(fitted[0]["salary"] > 50000, "high", "low"))  # column 9
        other = VAEImputer(**FAST).fit(frame.mask(np.c_[fitted[1], np.zeros(len(frame), dtype=bool)]))
        state = other.__getstate__()
        relations = {part: list(values) for part, values in state["_relations"].items()}
        relations["columns"][0] = relations["columns"][0][:-1] + [9]  # the label
    with pytest.raises(ValueError, match="_relations"):
        VAEImputer.__new__(VAEImputer).__setstate__({**state, "_relations": relations})


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_values_near_the_float64_maximum_are_read_without_overflow():
    frame = relation_table(n=200)
    frame["huge"] = np.where(np.arange(200) % 2 == 0, 1.7e308, -1.7e308)
    frame["huge_too"] = -frame["huge"]  # huge + huge_too == 0: a relation whose sums would overflow unscaled
    state = fit_relations(_columns(frame), *_raw(frame))
    assert [9, 10] in state["columns"] and [0, 1, 2] in state["columns"]
    completed = frame.to_numpy(np.float64)
    missing = np.zeros(completed.shape, dtype=bool)
    missing[0, 10] = missing[1, 2] = True
    filled = fill_relations(np.zeros(completed.shape), completed, missing, state)
    assert filled[0, 10] == pytest.approx(-1.7e308) and filled[1, 2] == pytest.approx(completed[1, 2], abs=1e-6)
