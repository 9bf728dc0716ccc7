"""Exactly-one groups of 0/1 columns (one-hot dummies): found at fit, kept by the imputer's point fills."""

import copy
import io

import numpy as np
import pandas as pd
import pytest

import skvae
from skvae import VAEImputer
from skvae._exclusive_groups import MIN_COMPLETE_ROWS, fit_exclusive_groups, keep_exclusive_groups

FAST = dict(random_state=0, max_iter=30, hidden_layer_sizes=(16,), latent_dim=2)
# The small fits stop at their budget on purpose: what is tested is the groups, not convergence.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def dummies_table(n=600, seed=0, levels=(0.4, 0.3, 0.2, 0.1)):
    """A level drawn per row, held as one 0/1 dummy per level, beside two numbers that depend on it weakly."""
    rng = np.random.default_rng(seed)
    level = rng.choice(len(levels), size=n, p=levels)
    frame = pd.DataFrame({"x": 0.3 * level + rng.normal(size=n), "y": rng.normal(size=n)})
    for k in range(len(levels)):
        frame[f"level{k}"] = (level == k).astype(np.int64)
    return frame


def _raw(frame):
    raw = frame.to_numpy(dtype=np.float64)
    return raw, ~np.isnan(raw)


def _columns(frame):
    return [{"kind": "gaussian"} for _ in frame.columns]


def test_a_group_of_dummies_is_found_and_a_reference_level_left_out_is_not():
    frame = dummies_table()
    assert fit_exclusive_groups(_columns(frame), *_raw(frame)) == [[2, 3, 4, 5]]
    # Without the last dummy a tenth of the rows set none: not exactly one.
    dropped = frame.drop(columns="level3")
    assert fit_exclusive_groups(_columns(dropped), *_raw(dropped)) is None
    # Two dummies set in one row: not exclusive.
    broken = frame.copy()
    broken.loc[0, ["level0", "level1"]] = 1
    assert fit_exclusive_groups(_columns(broken), *_raw(broken)) is None


def test_a_rare_column_of_another_variable_does_not_join_the_group():
    frame = dummies_table()
    # A rare 0/1 column never 1 beside level0 or level1 (so exclusive with two members), set in few rows.
    rare = np.zeros(len(frame), dtype=np.int64)
    rare[np.flatnonzero(frame["level2"].to_numpy() == 1)[:5]] = 1
    frame.insert(2, "rare", rare)
    assert fit_exclusive_groups(_columns(frame), *_raw(frame)) == [[3, 4, 5, 6]]


def test_too_few_complete_rows_are_no_evidence():
    frame = dummies_table(n=MIN_COMPLETE_ROWS - 1)
    assert fit_exclusive_groups(_columns(frame), *_raw(frame)) is None
    frame = dummies_table(n=4 * MIN_COMPLETE_ROWS)
    holed = frame.mask(np.random.default_rng(1).random(frame.shape) < 0.5)
    # About a sixteenth of the rows observe all four dummies: fewer than MIN_COMPLETE_ROWS.
    assert fit_exclusive_groups(_columns(holed), *_raw(holed)) is None


def test_the_certain_cells_are_filled_and_the_others_left():
    completed = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    missing = np.array([[False, True, True], [True, False, False], [True, True, False], [False, False, False]])
    values = np.array([[9.0, 1.0, 1.0], [0.0, 9.0, 9.0], [0.0, 0.0, 9.0], [9.0, 9.0, 9.0]])
    kept = keep_exclusive_groups(values, completed, missing, [[0, 1, 2]])
    # Row 0: a member observed 1, the hidden ones 0. Row 1: the one hidden member 1. Row 2: two hidden, left.
    np.testing.assert_array_equal(kept, [[9.0, 0.0, 0.0], [1.0, 9.0, 9.0], [0.0, 0.0, 9.0], [9.0, 9.0, 9.0]])
    assert values[0, 1] == 1.0  # not in place


@pytest.fixture(scope="module")
def fitted():
    frame = dummies_table()
    hidden = np.random.default_rng(2).random(frame.shape) < 0.2
    missing = frame.mask(hidden)
    return frame, hidden, missing, VAEImputer(**FAST).fit(missing)


def test_the_imputers_fills_keep_the_group(fitted):
    frame, hidden, missing, imputer = fitted
    assert imputer.vae_._schema.exclusive_groups == [[2, 3, 4, 5]]
    filled = imputer.transform(missing)
    dummies = [f"level{k}" for k in range(4)]
    holes = hidden[:, 2:]
    observed_one = (missing[dummies] == 1).any(axis=1).to_numpy()
    one_hidden = (holes.sum(axis=1) == 1) & ~observed_one
    # Every row the group decides holds exactly one 1, and its fills are the truth.
    decided = (observed_one | one_hidden) & holes.any(axis=1)
    assert decided.sum() > 50
    np.testing.assert_array_equal(filled[dummies].to_numpy()[decided].sum(axis=1), 1)
    np.testing.assert_array_equal(filled[dummies].to_numpy()[decided], frame[dummies].to_numpy()[decided])
    # The VAE alone leaves some of those rows outside the group (what the rule is for).
    alone = copy.deepcopy(imputer).set_params(refinement=None).transform(missing)
    assert (alone[dummies].to_numpy()[decided].sum(axis=1) != 1).any()


def test_arrays_of_whole_numbers_keep_their_groups_too():
    frame = dummies_table()
    hidden = np.random.default_rng(3).random(frame.shape) < 0.2
    X = frame.to_numpy(dtype=np.float64)
    X[hidden] = np.nan
    imputer = VAEImputer(**FAST).fit(X)
    assert imputer.vae_._schema.exclusive_groups == [[2, 3, 4, 5]]
    filled = imputer.transform(X)
    one_hidden = (hidden[:, 2:].sum(axis=1) == 1) & ~(X[:, 2:] == 1).any(axis=1)
    np.testing.assert_array_equal(filled[one_hidden, 2:].sum(axis=1), 1)


def test_without_refinement_the_fills_are_the_vaes_alone(fitted):
    _, hidden, missing, imputer = fitted
    alone = VAEImputer(**{**FAST, "refinement": None}).fit(missing)
    assert alone.vae_._schema.exclusive_groups == [[2, 3, 4, 5]]  # the schema's, which sample keeps to
    vae_fills = alone.vae_._reconstruct(missing, alone.n_importance)  # codes 0/1 of the dummies
    np.testing.assert_array_equal(alone.transform(missing).to_numpy(dtype=np.float64)[:, 2:],
                                  np.where(hidden[:, 2:], vae_fills[:, 2:], missing.to_numpy(np.float64)[:, 2:]))


def test_files_keep_the_groups_and_old_schemas_have_none(fitted):
    _, _, missing, imputer = fitted
    buffer = io.BytesIO()
    skvae.save(imputer, buffer)
    buffer.seek(0)
    loaded = skvae.load(buffer)
    assert loaded.vae_._schema.exclusive_groups == imputer.vae_._schema.exclusive_groups
    pd.testing.assert_frame_equal(loaded.transform(missing), imputer.transform(missing))
    # A schema of skvae 0.21: no groups.
    state = imputer.__getstate__()
    vae_state = dict(state["vae_"])
    vae_state["_schema"] = {k: v for k, v in vae_state["_schema"].items() if k != "exclusive_groups"}
    restored = VAEImputer.__new__(VAEImputer)
    restored.__setstate__({**state, "vae_": vae_state})
    without = copy.deepcopy(imputer)
    without.vae_._schema.exclusive_groups = None
    pd.testing.assert_frame_equal(restored.transform(missing), without.transform(missing))
    assert not restored.transform(missing).equals(imputer.transform(missing))


@pytest.fixture(scope="module")
def transformer_state():
    rng = np.random.default_rng(0)
    frame = dummies_table()
    frame["label"] = rng.choice(["a", "b"], size=len(frame))  # column 6
    vae = skvae.VAETransformer(**{**FAST, "max_iter": 5, "n_iter_no_change": 5}).fit(frame)
    assert [c["kind"] for c in vae._schema.columns][2:] == ["categorical"] * 5
    return vae.__getstate__()


@pytest.mark.parametrize("groups", [[], [[2]], [[2, 2, 3]], [[3, 2]], [[2, 3], [3, 4]], [[-1, 2]], [[2, 7]],
                                    [[2, "3"]], [[True, 2]], "2,3", [[2.0, 3]],
                                    [[2, 6]]])  # label (column 6) is categorical of levels 'a' and 'b'
def test_hostile_group_states_are_refused(transformer_state, groups):
    state = transformer_state
    assert state["_schema"]["exclusive_groups"] == [[2, 3, 4, 5]]
    schema = {**state["_schema"], "exclusive_groups": groups}
    with pytest.raises(ValueError, match="exclusive_groups"):
        skvae.VAETransformer.__new__(skvae.VAETransformer).__setstate__({**state, "_schema": schema})


@pytest.fixture(scope="module")
def sampler():
    frame = dummies_table(n=800, levels=(0.4, 0.3, 0.2, 0.1))
    return frame, skvae.VAETransformer(random_state=0).fit(frame)  # defaults: the tiny FAST model draws 0.2 for 0.1


def test_samples_keep_the_group_and_its_shares(sampler):
    frame, vae = sampler
    dummies = [f"level{k}" for k in range(4)]
    samples = vae.sample(2000, random_state=0)
    np.testing.assert_array_equal(samples[dummies].to_numpy(dtype=np.float64).sum(axis=1), 1)
    # The shares of 1s are the model's, scaled to sum to 1: near the table's.
    np.testing.assert_allclose(samples[dummies].mean().to_numpy(), frame[dummies].mean().to_numpy(), atol=0.03)
    # The model alone (a schema of skvae 0.21, without the groups) draws rows with no dummy set, or two.
    schema = copy.deepcopy(vae)
    schema._schema.set_exclusive_groups(None)
    unkept = schema.sample(2000, random_state=0)[dummies].to_numpy(dtype=np.float64).sum(axis=1)
    assert (unkept != 1).mean() > 0.01
    # Draws with the training table's holes keep the group in their observed cells.
    holed = frame.mask(np.random.default_rng(4).random(frame.shape) < 0.1)
    with_holes = skvae.VAETransformer(**FAST).fit(holed).sample(1000, random_state=1, with_missing=True)
    block = with_holes[dummies].to_numpy(dtype=np.float64)
    assert np.isnan(block).any()
    assert ((block == 1).sum(axis=1) <= 1).all()
    complete = ~np.isnan(block).any(axis=1)
    np.testing.assert_array_equal(block[complete].sum(axis=1), 1)


def test_a_continued_fit_drops_a_group_its_rows_break(sampler):
    frame, vae = sampler
    vae = copy.deepcopy(vae)
    vae.partial_fit(frame.iloc[:100])
    assert vae._schema.exclusive_groups == [[2, 3, 4, 5]]
    broken = frame.iloc[:100].copy()
    broken.loc[broken.index[0], [f"level{k}" for k in range(4)]] = 0
    vae.partial_fit(broken)
    assert vae._schema.exclusive_groups is None
    assert vae._schema.sampled_groups == []


def test_an_arrays_group_is_filled_but_not_checked_in_samples():
    X = dummies_table().to_numpy(dtype=np.float64)
    vae = skvae.VAETransformer(**FAST).fit(X)
    # Columns of an array are Gaussian under "auto": drawn as any number, made whole only when decoded.
    assert vae._schema.exclusive_groups == [[2, 3, 4, 5]] and vae._schema.sampled_groups == []


def test_the_groups_are_named_by_the_estimator_and_the_command_line(sampler, tmp_path):
    from _cli_run import run_cli

    frame, vae = sampler
    assert vae.exclusive_groups_ == [[f"level{k}" for k in range(4)]]
    assert skvae.VAETransformer(**FAST).fit(frame.drop(columns="level3")).exclusive_groups_ == []
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    status, out, err = run_cli(["fit", data, "--max-iter", "2", "--out", tmp_path / "m.skvae"])
    assert status == 0, err
    assert "Exactly one of these 0/1 columns is 1 in every row (samples keep to it): level0, level1, level2, " \
           "level3" in out


def test_draws_keep_the_groups_certain_cells(fitted):
    frame, hidden, missing, imputer = fitted
    dummies = [f"level{k}" for k in range(4)]
    holes = hidden[:, 2:]
    observed_one = (missing[dummies] == 1).any(axis=1).to_numpy()
    decided = (observed_one | ((holes.sum(axis=1) == 1) & ~observed_one)) & holes.any(axis=1)
    for filled in copy.deepcopy(imputer).multiple_imputations(missing, n_imputations=3):
        np.testing.assert_array_equal(filled[dummies].to_numpy()[decided], frame[dummies].to_numpy()[decided])
