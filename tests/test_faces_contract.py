"""The imputer and the detector: refused calls change nothing, parameters, warm start, multiple imputation."""

import copy

import numpy as np
import pandas as pd
import pytest

from skvae import VAEImputer, VAEOutlierDetector, VAETransformer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(latent_dim=2, hidden_layer_sizes=(8,), max_iter=3, random_state=0)


def _data(n=150, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 1))
    return np.hstack([z, 2 * z, -z, z ** 2]) + 0.1 * rng.normal(size=(n, 4))


def _holes(X, seed=1, share=0.2):
    X = X.copy()
    X[np.random.default_rng(seed).random(X.shape) < share] = np.nan
    return X


def _snapshot(estimator):
    state = copy.deepcopy({k: v for k, v in vars(estimator).items() if k != "vae_"})
    vae = getattr(estimator, "vae_", None)
    return state, (None if vae is None else (vae.get_params(), copy.deepcopy(vae.encoder_.state_dict())))


def _same(a, b):
    (state_a, vae_a), (state_b, vae_b) = a, b
    assert state_a.keys() == state_b.keys()
    if vae_a is None:
        return
    assert vae_a[0] == vae_b[0]
    for key in vae_a[1]:
        assert vae_a[1][key].equal(vae_b[1][key])


@pytest.mark.parametrize("bad_call", [
    lambda est, X: est.set_params(latent_dim=3, warm_start=True).fit(X),    # architecture change refused
    lambda est, X: est.fit(X[:, :3]),                                        # refused later by transform? no: a refit
    lambda est, X: est.set_params(n_importance=True).fit(X),                 # a bool is not a count
    lambda est, X: est.fit(np.full_like(X, np.nan)),                         # nothing observed
])
@pytest.mark.parametrize("face", [VAEImputer, VAEOutlierDetector])
def test_a_refused_call_changes_nothing(face, bad_call):
    X = _holes(_data())
    estimator = face(**SMALL).fit(X)
    before = _snapshot(estimator)
    outputs = estimator.transform(X) if face is VAEImputer else estimator.score_samples(X)
    params = estimator.get_params()
    try:
        bad_call(estimator, X)
    except (ValueError, TypeError):
        estimator.set_params(**params)
        _same(before, _snapshot(estimator))
        again = estimator.transform(X) if face is VAEImputer else estimator.score_samples(X)
        np.testing.assert_array_equal(again, outputs)
        return
    # Not refused (refitting on other columns is a new fit): then it must be a working estimator.
    assert estimator.n_features_in_ in (3, 4)


@pytest.mark.parametrize("face", [VAEImputer, VAEOutlierDetector])
def test_n_importance_refuses_bools_before_any_training(face):
    estimator = face(**SMALL, n_importance=True)
    with pytest.raises(ValueError, match="n_importance"):
        estimator.fit(_holes(_data()))
    assert not hasattr(estimator, "vae_")


@pytest.mark.parametrize("marker", [None, pd.NA])
def test_none_and_na_markers_impute_nan_cells_of_an_array(marker):
    X = _holes(_data())
    filled = VAEImputer(**SMALL, missing_values=marker, n_importance=5).fit_transform(X)
    assert not np.isnan(filled).any()


def test_warm_start_continues_the_imputers_vae():
    X = _holes(_data())
    imputer = VAEImputer(**SMALL, warm_start=True).fit(X)
    vae = imputer.vae_
    imputer.fit(X)
    assert imputer.vae_ is vae and vae.n_iter_ == 2 * SMALL["max_iter"]
    cold = VAEImputer(**SMALL).fit(X)
    first = cold.vae_
    cold.fit(X)
    assert cold.vae_ is not first and cold.vae_.n_iter_ == SMALL["max_iter"]


def test_successive_posterior_draws_are_new_and_reproducible():
    X = _holes(_data())
    missing = np.isnan(X)
    imputer = VAEImputer(**SMALL, sample_posterior=True, n_importance=20).fit(X)
    first, second = imputer.transform(X), imputer.transform(X)
    assert not np.array_equal(first[missing], second[missing])
    np.testing.assert_array_equal(first[~missing], X[~missing])
    again = VAEImputer(**SMALL, sample_posterior=True, n_importance=20).fit(X)
    np.testing.assert_array_equal(again.transform(X), first)
    np.testing.assert_array_equal(again.transform(X), second)


def test_multiple_imputations_in_one_pass():
    X = _holes(_data())
    missing = np.isnan(X)
    imputer = VAEImputer(**SMALL, n_importance=50).fit(X)
    draws = imputer.multiple_imputations(X, n_imputations=4)
    assert len(draws) == 4
    for completed in draws:
        assert not np.isnan(completed).any()
        np.testing.assert_array_equal(completed[~missing], X[~missing])
    assert len({completed[missing].tobytes() for completed in draws}) == 4
    # Their spread is the conditional's: around the single imputation (the conditional mean).
    mean = imputer.transform(X)[missing]
    stacked = np.stack([completed[missing] for completed in draws])
    assert np.abs(stacked.mean(axis=0) - mean).mean() < np.abs(stacked - mean).mean() * 1.5
    again = VAEImputer(**SMALL, n_importance=50).fit(X).multiple_imputations(X, n_imputations=4)
    for a, b in zip(draws, again):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="n_imputations"):
        imputer.multiple_imputations(X, n_imputations=0)


def test_multiple_imputations_of_a_table_keep_its_schema():
    penguins = pytest.importorskip("palmerpenguins").load_penguins()
    imputer = VAEImputer(**SMALL, n_importance=20).fit(penguins)
    for completed in imputer.multiple_imputations(penguins, n_imputations=2):
        assert completed.isna().sum().sum() == 0 and completed.dtypes.equals(penguins.dtypes)


@pytest.mark.slow
def test_a_convergence_warning_names_the_users_line(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "user.py"
    script.write_text(
        "import warnings\n"
        "import numpy as np\n"
        "from sklearn.model_selection import GridSearchCV\n"
        "from skvae import VAEOutlierDetector, VAETransformer\n"
        "X = np.random.default_rng(0).normal(size=(60, 3))\n"
        "warnings.simplefilter('default')\n"
        "VAEOutlierDetector(max_iter=2, n_iter_no_change=1).fit(X)\n"
        "GridSearchCV(VAETransformer(max_iter=2, n_iter_no_change=1), {'latent_dim': [1, 2]}, cv=2).fit(X)\n"
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                            env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "ConvergenceWarning" in line]
    # Each warning names the user's own line, the detector's fit (7) or the search's (8), once per line,
    # though scikit-learn's search runs each of its four fits under a fresh catch_warnings().
    assert [line.split(": ConvergenceWarning")[0] for line in lines] == [f"{script}:7", f"{script}:8"], result.stderr


@pytest.mark.parametrize("face", ["transformer", "imputer", "detector"])
def test_a_fit_validates_the_table_once_and_reads_it_once_per_pass(face, monkeypatch):
    import skvae._model
    import skvae._schema
    import skvae._validation

    calls = {}

    def counted(owner, name):
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            calls[name] = calls.get(name, 0) + 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)

    counted(skvae._schema.TableSchema, "raw_values")
    counted(skvae._validation, "validate_data")
    counted(skvae._model.VAEModel, "thread_plan")
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"a": rng.rand(120), "b": rng.choice(["x", "y", "z"], 120)})
    X.loc[::7, "a"] = np.nan
    estimator = {"transformer": VAETransformer, "imputer": VAEImputer, "detector": VAEOutlierDetector}[face]
    # n_importance=5 for the imputer: a pass of K samples per row reads the table in slices of bounded
    # memory, so with its default K=100 the refinement's pass reads these 120 rows in several.
    estimator(max_iter=2, random_state=0, **({"n_importance": 5} if face == "imputer" else {})).fit(X)
    # After training, one pass encodes the rows for the latent mixture of
    # sample(); the detector passes twice more (scores, typical cells), the
    # imputer once more (the fills its linear refinement is fitted on), and
    # reads the table once more to complete it with them (a table with a
    # spiked column or one of few numbers pays one more pass for the
    # refinement's check; this one has none), and once more for the check of
    # its label (b: 120 observed cells, enough to hide about 20; since 0.18.0),
    # and once more for the check of its forest (a: 102 observed cells; since 0.19.0).
    # Each pass encodes its batch and sizes its threads.
    passes = {"transformer": 2, "imputer": 5, "detector": 4}[face]
    reads = passes + (face == "imputer")
    assert calls == {"raw_values": reads, "validate_data": 1, "thread_plan": passes}
