"""The refinement of labels (categorical columns of text): a logistic regression that earns its place on a check."""

import copy
import io
from unittest import mock

import numpy as np
import pandas as pd
import pytest

import skvae
from skvae import VAEImputer
from skvae import _refinement
from skvae._model import VAEModel

FAST = dict(random_state=0, max_iter=30, hidden_layer_sizes=(16,), latent_dim=2)


def label_table(n_columns, label_of, n, seed=0):
    """Independent normal columns, a label that is a rule of them, and a fifth of the cells hidden (a mask)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_columns))
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(n_columns)])
    frame["label"] = label_of(X)
    return frame, rng.random(frame.shape) < 0.2


def rule_table(n=400, seed=0):
    """Six columns and a label that is the sign of their sum: a linear rule a latent of 2 cannot hold."""
    return label_table(6, lambda X: np.where(X.sum(axis=1) > 0, "up", "down"), n, seed)


def _fitted_with_holes(frame, hidden):
    missing = frame.mask(hidden)
    return frame, hidden, missing, VAEImputer(**FAST).fit(missing)


@pytest.fixture(scope="module")
def fitted():
    return _fitted_with_holes(*rule_table())


def _accuracy(filled, frame, hidden):
    rows = hidden[:, -1]
    return float((filled["label"][rows] == frame["label"][rows]).mean())


def test_a_label_the_regression_reads_better_than_the_vae_is_refined(fitted):
    frame, hidden, missing, imputer = fitted
    assert imputer._label_refinement["columns"] == [6]
    refined = _accuracy(imputer.transform(missing), frame, hidden)
    vae_alone = _accuracy(imputer.set_params(refinement=None).transform(missing), frame, hidden)
    imputer.set_params(refinement="linear")
    # 88 hidden labels: 0.83 against 0.65 when written.
    assert refined > vae_alone + 0.1


def test_refined_labels_are_seen_levels_and_observed_cells_stay(fitted):
    frame, hidden, missing, imputer = fitted
    filled = imputer.transform(missing)
    assert set(filled["label"]) <= {"up", "down"}
    observed = ~hidden[:, -1]
    pd.testing.assert_series_equal(filled["label"][observed], missing["label"][observed])


def test_a_labels_fills_do_not_depend_on_the_rows_beside_it(fitted):
    _, _, missing, imputer = fitted
    whole = imputer.transform(missing)
    for rows in (slice(0, 1), slice(3, 10), slice(100, 400)):
        pd.testing.assert_frame_equal(imputer.transform(missing.iloc[rows]), whole.iloc[rows])


def test_fit_transform_is_fit_then_transform_with_labels(fitted):
    _, _, missing, imputer = fitted
    pd.testing.assert_frame_equal(VAEImputer(**FAST).fit_transform(missing), imputer.transform(missing))


def test_draws_are_not_refined(fitted):
    _, _, missing, imputer = fitted
    params = {**FAST, "sample_posterior": True}
    draws = VAEImputer(**params).fit(missing).transform(missing)
    pd.testing.assert_frame_equal(draws, VAEImputer(**params, refinement=None).fit(missing).transform(missing))


def test_labels_are_not_refined_under_self_masking():
    frame, hidden = rule_table(n=200)
    imputer = VAEImputer(**{**FAST, "max_iter": 3}, missing_mechanism="self_masking").fit(frame.mask(hidden))
    assert imputer._label_refinement is None


def test_a_table_of_labels_alone_is_refined_through_one_more_pass():
    rng = np.random.default_rng(0)
    first = rng.choice(["p", "q", "r"], 300)
    # b copies a: the regression reads it from a's one-hot columns.
    table = pd.DataFrame({"a": first, "b": np.char.add(first, "!"), "c": rng.choice(["x", "y"], 300)})
    table = table.mask(rng.random(table.shape) < 0.2)
    with mock.patch.object(VAEModel, "reconstruct", autospec=True, side_effect=VAEModel.reconstruct) as passes:
        imputer = VAEImputer(**{**FAST, "max_iter": 3}).fit(table)
    # The point fills, then the labels' check.
    assert imputer._refinement is None and passes.call_count == 2
    assert imputer._label_refinement is not None


def test_the_rule_is_kept_only_where_it_wins_by_enough():
    classes = np.array([0, 1])
    # Logits that always say level 1, whatever the row.
    model = (classes, np.zeros((2, 1)), np.array([0.0, 5.0]))
    design, weight = np.zeros((40, 1)), np.full(40, 0.75)
    truth = np.ones(40)
    vae_wrong, vae_right = np.zeros(40), np.ones(40)
    assert _refinement._earned_rule(model, None, None, design, vae_wrong, truth, weight) == "gated"
    assert _refinement._earned_rule(model, None, None, design, vae_right, truth, weight) is None
    # Three cells changed, two of them right: no evidence (McNemar's statistic 1 / sqrt(3) < 1) ...
    vae = np.array([0.0, 0.0, 0.0] + [1.0] * 37)
    truth = np.array([1.0, 1.0, 0.0] + [1.0] * 37)
    assert _refinement._earned_rule(model, None, None, design, vae, truth, weight) is None
    # ... and four changed cells, all four right, are (4 / sqrt(4) = 2 > 1).
    truth[2], vae[3] = 1.0, 0.0
    assert _refinement._earned_rule(model, None, None, design, vae, truth, weight) == "gated"


def test_files_keep_the_label_refinement_and_old_states_leave_labels_to_the_vae(fitted):
    _, _, missing, imputer = fitted
    buffer = io.BytesIO()
    skvae.save(imputer, buffer)
    buffer.seek(0)
    pd.testing.assert_frame_equal(skvae.load(buffer).transform(missing), imputer.transform(missing))
    # A state of skvae 0.17: no label refinement (nor the forests of 0.19.0, which read the refined labels).
    state = {k: v for k, v in imputer.__getstate__().items() if k not in ("_label_refinement", "_tree_refinement")}
    restored = VAEImputer.__new__(VAEImputer)
    restored.__setstate__(state)
    expected = copy.deepcopy(imputer)
    expected._tree_refinement = None
    with_labels = expected.transform(missing)
    vae_alone = expected.set_params(refinement=None).transform(missing)
    got = restored.transform(missing)
    pd.testing.assert_series_equal(got["label"], vae_alone["label"])
    pd.testing.assert_frame_equal(got.drop(columns="label"), with_labels.drop(columns="label"))


@pytest.mark.parametrize("tamper", ["column", "level", "width", "rule", "nan", "length"])
def test_hostile_label_refinement_states_are_refused(fitted, tamper):
    imputer = fitted[3]
    state = imputer.__getstate__()
    labels = {k: (v.copy() if isinstance(v, np.ndarray) else list(v)) for k, v in state["_label_refinement"].items()}
    if tamper == "column":
        labels["columns"] = [0]  # a continuous column
    elif tamper == "level":
        labels["classes"] = [np.array([0, 2], dtype=np.int64)]
    elif tamper == "width":
        labels["mean"], labels["scale"] = labels["mean"][:-1], labels["scale"][:-1]
        labels["coef"] = [coef[:, :-1] for coef in labels["coef"]]
    elif tamper == "rule":
        labels["rules"] = ["always"]
    elif tamper == "nan":
        labels["coef"] = [np.full_like(coef, np.nan) for coef in labels["coef"]]
    else:
        labels["rules"] = labels["rules"] * 2
    with pytest.raises(ValueError, match="_label_refinement"):
        VAEImputer.__new__(VAEImputer).__setstate__({**state, "_label_refinement": labels})


def test_the_check_reads_its_rows_as_its_own_pass_fills_them():
    """A first pass's fills of a row's other cells saw the label the check hides: read, they tell it back.

    Here the first pass filled x, missing in every row, with the label's own
    code, and the check's pass (the label hidden) fills it with noise. Read
    from the first pass, x predicted every checked label and the check kept a
    regression that knows nothing on cells really missing; read from the
    check's pass, it earns nothing and the label keeps the VAE's fills.
    """
    rng = np.random.default_rng(0)
    n = 400
    label = rng.integers(0, 2, n).astype(float)
    columns = [{"name": "x", "kind": "gaussian", "dtype": "float64"},
               {"name": "label", "kind": "categorical", "dtype": "object", "categories": ["p", "q"]}]
    observed = np.column_stack([np.zeros(n, dtype=bool), np.ones(n, dtype=bool)])
    completed = np.column_stack([label, label])  # x as the first pass filled it, the label observed
    labels = _refinement.checked_labels(columns, observed)
    assert labels == [1]
    check = _refinement.cells_to_check(labels, observed)
    # The check's pass: x filled without the label's help, the label by a coin (the VAE's guess).
    fills = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n).astype(float)])
    assert _refinement.fit_label_refinement(completed, observed, columns, labels, check, fills) is None
    # The same regression, read with the first pass's x, "earns" its place: the leak this test guards against.
    leaky = np.where(check, fills, completed)
    leaked_fills = np.column_stack([leaky[:, 0], fills[:, 1]])
    state = _refinement.fit_label_refinement(completed, observed, columns, labels, check, leaked_fills)
    assert state is not None and state["columns"] == [1]


def xor_table(n=600, seed=0):
    """A label that is whether two of four columns share a sign: a line reads nothing of it, a tree reads it."""
    return label_table(4, lambda X: np.where((X[:, 0] > 0) == (X[:, 1] > 0), "same", "other"), n, seed)


@pytest.fixture(scope="module")
def blended():
    return _fitted_with_holes(*xor_table())


def test_a_label_of_an_interaction_is_refined_by_the_blend_with_a_forest(blended, monkeypatch):
    frame, hidden, missing, imputer = blended
    labels = imputer._label_refinement
    assert labels["columns"] == [4] and labels["rules"] == ["blend"]
    forest = labels["forests"][0]
    assert forest["value"].shape[1] == len(labels["classes"][0])
    refined = _accuracy(imputer.transform(missing), frame, hidden)
    vae_alone = _accuracy(copy.deepcopy(imputer).set_params(refinement=None).transform(missing), frame, hidden)
    # 130 hidden labels: 0.83 against the VAE's 0.57 when written.
    assert refined > vae_alone + 0.15
    # Without a forest, no rule earns its place: the regression reads nothing of the interaction.
    monkeypatch.setattr(_refinement, "LABEL_RULES", ("gated", "logistic"))
    assert VAEImputer(**FAST).fit(missing)._label_refinement is None


def test_blended_labels_do_not_depend_on_the_rows_beside_them_and_survive_a_file(blended):
    _, hidden, missing, imputer = blended
    whole = imputer.transform(missing)
    rows = np.flatnonzero(hidden[:, -1])[:7]
    pd.testing.assert_frame_equal(imputer.transform(missing.iloc[rows]), whole.iloc[rows])
    buffer = io.BytesIO()
    skvae.save(imputer, buffer)
    buffer.seek(0)
    pd.testing.assert_frame_equal(skvae.load(buffer).transform(missing), whole)


def test_a_state_of_0_19_without_forests_still_refines_its_labels(fitted):
    _, _, missing, imputer = fitted
    state = imputer.__getstate__()
    labels = {k: v for k, v in state["_label_refinement"].items() if k != "forests"}
    restored = VAEImputer.__new__(VAEImputer)
    restored.__setstate__({**state, "_label_refinement": labels})
    pd.testing.assert_frame_equal(restored.transform(missing), imputer.transform(missing))


@pytest.mark.parametrize("tamper", ["missing forest", "forest for a regression", "outputs", "walk", "length"])
def test_hostile_label_forests_are_refused(blended, fitted, tamper):
    state = blended[3].__getstate__()
    labels = {k: (v.copy() if isinstance(v, np.ndarray) else list(v)) for k, v in state["_label_refinement"].items()}
    forest = {k: v.copy() for k, v in labels["forests"][0].items()}
    if tamper == "missing forest":
        labels["forests"] = [None]
    elif tamper == "forest for a regression":
        labels["rules"] = ["logistic"]
    elif tamper == "outputs":
        forest["value"] = forest["value"][:, :1]
        labels["forests"] = [forest]
    elif tamper == "walk":
        forest["left"][0] = 0  # the root its own child: a walk that never ends
        labels["forests"] = [forest]
    else:
        labels["forests"] = labels["forests"] * 2
    with pytest.raises(ValueError, match="_label_refinement"):
        VAEImputer.__new__(VAEImputer).__setstate__({**state, "_label_refinement": labels})


def test_a_label_of_many_levels_gets_no_forest():
    rng = np.random.default_rng(0)
    design = rng.normal(size=(200, 3))
    others = np.ones(3, dtype=bool)
    for n_levels, has_forest in ((_refinement.LABEL_TREE_MAX_LEVELS, True),
                                 (_refinement.LABEL_TREE_MAX_LEVELS + 1, False)):
        classes = np.arange(n_levels, dtype=np.int64)
        target = rng.integers(0, n_levels, 200).astype(float)
        forest = _refinement._label_forest(design, target, np.ones(200, dtype=bool), others, classes,
                                           np.random.default_rng(0))
        assert (forest is not None) == has_forest
        if has_forest:
            assert forest["value"].shape[1] == n_levels
