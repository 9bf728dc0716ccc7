"""Lookups: a column holding one value per level of another, filled by the imputer from that level."""

import copy
import io

import numpy as np
import pandas as pd
import pytest

import skvae
from skvae import VAEImputer
from skvae._lookups import MIN_ROWS_PER_LEVEL, fill_lookups, fit_lookups

FAST = dict(random_state=0, max_iter=30, hidden_layer_sizes=(16,), latent_dim=2)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def lookup_table(n=600, seed=0):
    """A month, an advertising budget set by the month, a root and its square, a price of all of them, a label."""
    rng = np.random.default_rng(seed)
    month = rng.integers(1, 25, n)
    budget = rng.choice(np.arange(40, 340), 25, replace=False)[month]  # a different budget each month
    root = rng.integers(-4, 5, n)
    price = 10 * month + 0.1 * budget + 3 * root ** 2 + rng.normal(0, 5, n)
    return pd.DataFrame({"month": month, "budget": budget, "root": root, "square": root ** 2, "price": price,
                         "shop": np.where(month % 2 == 0, "even", "odd")})


def _raw(frame):
    raw = frame.drop(columns="shop").to_numpy(dtype=np.float64)
    return raw, ~np.isnan(raw)


def test_lookups_are_found_both_ways_where_they_are_functions():
    frame = lookup_table()
    raw, observed = _raw(frame.mask(np.random.default_rng(1).random(frame.shape) < 0.2))
    state = fit_lookups(raw, observed)
    pairs = set(zip(state["sources"], state["targets"]))
    # month -> budget and back (the budgets differ by month), root -> square but not back (a square has two roots).
    assert {(0, 1), (1, 0), (2, 3)} <= pairs and (3, 2) not in pairs
    assert not any(target == 4 for target in state["targets"])  # the price is no lookup of anything
    month = state["sources"].index(0)
    np.testing.assert_array_equal(state["keys"][month], np.unique(frame["month"]))
    np.testing.assert_array_equal(state["values"][month], frame.groupby("month")["budget"].first().to_numpy())


def test_no_lookup_without_evidence():
    rng = np.random.default_rng(0)
    # Each of 30 levels seen about twice: one value per level of a fair coin happens (2^-30 of the time
    # for all levels at once, but it is still no evidence).
    few = np.c_[np.arange(60) % 30, rng.integers(0, 2, 60)].astype(np.float64)
    few[:, 1] = few[:, 0] % 2  # a function of the level, but fewer than MIN_ROWS_PER_LEVEL rows a level
    assert 60 < MIN_ROWS_PER_LEVEL * 30
    assert fit_lookups(few, np.ones(few.shape, dtype=bool)) is None
    # A constant column is no lookup; a level seen once is not kept.
    X = np.c_[np.repeat([0, 1, 2, 3], 10), np.zeros(40), np.repeat([5, 6, 7, 8], 10)].astype(np.float64)
    X[-9:, 0] = 3.0
    X = np.r_[X, [[4.0, 0.0, 9.0]]]
    state = fit_lookups(X, np.ones(X.shape, dtype=bool))
    assert set(zip(state["sources"], state["targets"])) == {(0, 2), (2, 0)}
    assert 4.0 not in state["keys"][state["sources"].index(0)]


def test_fill_lookups_fills_only_missing_targets_with_an_observed_kept_source():
    state = {"sources": [0], "targets": [1], "keys": [np.array([1.0, 2.0])], "values": [np.array([10.0, 20.0])]}
    completed = np.array([[1.0, np.nan], [2.0, np.nan], [3.0, np.nan], [np.nan, np.nan], [2.0, 7.0]])
    missing = np.array([[False, True], [False, True], [False, True], [True, True], [False, False]])
    values = np.full((5, 2), -1.0)
    filled = fill_lookups(values, completed, missing, state)
    np.testing.assert_array_equal(filled[:, 1], [10.0, 20.0, -1.0, -1.0, -1.0])
    assert (values == -1.0).all()


@pytest.fixture(scope="module")
def fitted():
    frame = lookup_table()
    hidden = np.random.default_rng(2).random(frame.shape) < 0.2
    missing = frame.mask(hidden)
    return frame, hidden, missing, VAEImputer(**FAST).fit(missing)


def test_the_imputer_fills_a_lookup_exactly(fitted):
    frame, hidden, missing, imputer = fitted
    filled = imputer.transform(missing)
    for source, target in (("month", "budget"), ("budget", "month"), ("root", "square")):
        rows = hidden[:, frame.columns.get_loc(target)] & ~hidden[:, frame.columns.get_loc(source)]
        assert rows.sum() > 50
        np.testing.assert_array_equal(filled[target][rows], frame[target][rows])
    # The VAE and its refinements alone miss some of them (what the rule is for).
    without = copy.deepcopy(imputer)
    without._lookups = None
    rows = hidden[:, 1] & ~hidden[:, 0]
    assert (without.transform(missing)["budget"][rows] != frame["budget"][rows]).any()


def test_a_label_is_a_source_and_a_target(fitted):
    frame, hidden, missing, imputer = fitted
    state = imputer._lookups
    shop = frame.columns.get_loc("shop")
    # month -> shop (a label: its codes) is found; shop -> month is not (12 months a shop).
    assert (0, shop) in set(zip(state["sources"], state["targets"]))
    assert not any(source == shop and target == 0 for source, target in zip(state["sources"], state["targets"]))
    rows = hidden[:, shop] & ~hidden[:, 0]
    np.testing.assert_array_equal(imputer.transform(missing)["shop"][rows], frame["shop"][rows])


def test_no_lookups_without_refinement(fitted):
    missing = fitted[2]
    assert VAEImputer(**{**FAST, "refinement": None}).fit(missing)._lookups is None


def test_files_keep_the_lookups_and_old_states_have_none(fitted):
    _, _, missing, imputer = fitted
    buffer = io.BytesIO()
    skvae.save(imputer, buffer)
    buffer.seek(0)
    pd.testing.assert_frame_equal(skvae.load(buffer).transform(missing), imputer.transform(missing))
    restored = VAEImputer.__new__(VAEImputer)
    restored.__setstate__({k: v for k, v in imputer.__getstate__().items() if k != "_lookups"})
    without = copy.deepcopy(imputer)
    without._lookups = None
    pd.testing.assert_frame_equal(restored.transform(missing), without.transform(missing))


@pytest.mark.parametrize("tamper", ["list", "keys-missing", "empty", "lengths", "same-column", "beyond",
                                    "bool-position", "unsorted-keys", "nan-value", "value-shape", "int-keys",
                                    "code-beyond-levels", "fractional-code"])
def test_hostile_lookup_states_are_refused(fitted, tamper):
    imputer = fitted[3]
    state = imputer.__getstate__()
    lookups = {part: list(values) for part, values in state["_lookups"].items()}
    shop = fitted[0].columns.get_loc("shop")
    if tamper == "list":
        lookups = [lookups]
    elif tamper == "keys-missing":
        del lookups["keys"]
    elif tamper == "empty":
        lookups = {part: [] for part in lookups}
    elif tamper == "lengths":
        lookups["targets"] = lookups["targets"][:-1]
    elif tamper == "same-column":
        lookups["targets"][0] = lookups["sources"][0]
    elif tamper == "beyond":
        lookups["targets"][0] = 6
    elif tamper == "bool-position":
        lookups["sources"][0] = True
    elif tamper == "unsorted-keys":
        lookups["keys"][0] = lookups["keys"][0][::-1].copy()
    elif tamper == "nan-value":
        lookups["values"][0] = lookups["values"][0].copy()
        lookups["values"][0][0] = np.nan
    elif tamper == "value-shape":
        lookups["values"][0] = lookups["values"][0][:-1]
    elif tamper == "int-keys":
        lookups["keys"][0] = lookups["keys"][0].astype(np.int64)
    else:
        k = next(k for k, target in enumerate(lookups["targets"]) if target == shop)
        lookups["values"][k] = lookups["values"][k] + (5.0 if tamper == "code-beyond-levels" else 0.5)
    with pytest.raises(ValueError, match="_lookups"):
        VAEImputer.__new__(VAEImputer).__setstate__({**state, "_lookups": lookups})


def test_draws_take_the_certain_cells_too(fitted):
    frame, hidden, missing, imputer = fitted
    rows = hidden[:, 1] & ~hidden[:, 0]
    copies = copy.deepcopy(imputer).multiple_imputations(missing, n_imputations=3)
    for filled in copies:
        np.testing.assert_array_equal(filled["budget"][rows], frame["budget"][rows])
    # Draws still differ where nothing is certain.
    free = hidden[:, 4]
    assert not np.array_equal(copies[0]["price"][free], copies[1]["price"][free])
    drawn = copy.deepcopy(imputer).set_params(sample_posterior=True).transform(missing)
    np.testing.assert_array_equal(drawn["budget"][rows], frame["budget"][rows])
    # Without the refinement, the VAE's draws alone.
    alone = copy.deepcopy(imputer).set_params(sample_posterior=True, refinement=None).transform(missing)
    assert (alone["budget"][rows] != frame["budget"][rows]).any()
