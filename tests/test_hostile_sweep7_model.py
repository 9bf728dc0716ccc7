"""Hostile input, seventh sweep: the model's newer features (column kinds, conditional sampling, options).

Each family failed once (see the commit that added its tests): a
``quantile_normal`` (or ``inflated_gaussian``) column whose values span
-1.7e308 to 1.7e308 failed training (two adjacent knots differed by more
than float64's largest number, so the segment's slope was 0, its
log-Jacobian -inf and the loss inf; an inflated column's spike at -1.7e308
beyond knots at 1.7e308 was encoded as -inf; knots 5e-324 apart, a column of
subnormal values, had a slope of inf and a loss of -inf), and such a
column's draws beyond its last knot were refused as the networks' overflow
(its inverse map did not saturate at float64's top as the Gaussian's does);
the linear refinement skipped a column holding float64's largest value
itself (log2 of it rounds to 1024, a unit of 2**1024 = inf); ``sample``
accepted any ``n_importance`` (-1, 2.5, None) without ``given``, and took a
boolean array (a mask of the cells meant to be given) as conditions giving
every cell as 0.0 or 1.0; a given whole number was judged and put back
through float64, so a uint64 column's own 2**64 - 1 was refused (with a
range that left it out) and a nullable integer column of conditions with
free cells gave 2**62 + 1 back as 2**62; a continued fit (``warm_start``,
``partial_fit``) on a row far outside the first fit's scaling (1e50 where it
saw values near 1) failed after training, in the Gaussian mixture of the
latent draws that ``sample`` uses (covariances not positive definite, or
infinite), with scikit-learn's, torch's or SciPy's error; VAEImputer handed
its ``likelihood`` unchanged to a VAE that sees X without its empty columns,
so a position named another column ({1: "poisson"} on X's empty second
column set the third's kind) and a label or position of X was "a column X
does not have" (and a warm start whose empty columns changed was told of
feature names "unseen at fit time" while X had the same columns);
``score_columns`` refused a row with a cell of 1e300 as the networks'
overflow, where ``score_samples`` scored the same row -inf (a log-density
that underflows); an ``inflated_gaussian`` column's spike far from its
continuous values (0 beside values of 1e6 +- 1) reached the encoder as its
encoding along the continuous part's slope, -4e5 standard units, so the
training loss was 1e9 and the latent codes 1e4 (at float64's ends, Adam's
moments were infinite and ``skvae.save`` refused the model). The tests pin
the mechanism over the faces, kinds and methods it serves.
"""

import copy

import numpy as np
import pandas as pd
import pytest

from skvae import VAEImputer, VAEOutlierDetector, VAETransformer
from skvae._likelihoods import InflatedGaussianBlock, QuantileNormalBlock
from skvae._refinement import fit_refinement

from _equality import assert_same

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(latent_dim=2, hidden_layer_sizes=(4,), max_iter=3, batch_size=16, random_state=0)
N = 40
LARGEST = float(np.finfo(np.float64).max)


def _unchanged(estimator):
    """A snapshot of the fitted state, for :func:`assert_same` after a refused call."""
    return copy.deepcopy(estimator.__getstate__())


# --- a quantile-normal column spanning float64's whole range -----------------------------

def _spanning_the_range(seed=0, holes=False):
    rng = np.random.default_rng(seed)
    values = np.where(rng.random(N) < 0.5, 1.7e308, -1.7e308)
    if holes:  # a third knot in the middle: each segment fits, the end slopes carry draws beyond 1.7e308
        values[::3] = 5.0
        values[1::7] = np.nan
    return pd.DataFrame({"wide": values, "b": rng.normal(size=N)})


@pytest.mark.parametrize("kind", [QuantileNormalBlock, InflatedGaussianBlock])
def test_the_quantile_maps_slopes_are_finite_where_adjacent_knots_span_the_range(kind):
    entries = [{"knots": [-1.7e308, 1.7e308], "knot_scores": [-1.0, 1.0], "spike": 0.0},
               {"knots": [-LARGEST, 0.0, LARGEST], "knot_scores": [-1.0, 0.0, 1.0], "spike": 0.0},
               {"knots": [1.0, 2.0], "knot_scores": [-1.0, 1.0], "spike": 0.0},
               {"knots": [0.0, 5e-324, 1e-323], "knot_scores": [-1.0, 0.0, 1.0], "spike": 0.0}]
    constants = kind.block_constants(entries)
    assert np.all(np.isfinite(constants["slopes"])) and np.all(constants["slopes"] > 0)
    values = np.array([[-1.7e308, -LARGEST, 1.0, 0.0], [0.0, 1e308, 1.5, 5e-324], [1.7e308, LARGEST, 2.0, 1e-323]])
    encoded = kind.encode(values, constants)
    assert np.all(np.isfinite(encoded))
    block = kind.from_constants(list(range(4)), constants)
    assert np.all(np.isfinite(block.stats["log_slopes"].numpy()))
    import torch

    back = QuantileNormalBlock.user_units(block, torch.as_tensor(encoded)).numpy()
    np.testing.assert_allclose(back, values, rtol=1e-12, atol=0)


def test_a_quantile_column_of_subnormal_values_fits_and_keeps_them_apart():
    X = pd.DataFrame({"tiny": np.resize([0.0, 5e-324, 1e-323], N), "b": np.random.default_rng(0).normal(size=N)})
    transformer = VAETransformer(likelihood={"tiny": "quantile_normal"}, **TINY).fit(X)
    assert np.all(np.isfinite(transformer.score_samples(X)))
    assert set(transformer.sample(100, random_state=0)["tiny"]) <= {0.0, 5e-324, 1e-323}


@pytest.mark.parametrize("likelihood", ["quantile_normal", "inflated_gaussian"])
@pytest.mark.parametrize("holes", [False, True])
def test_a_quantile_column_spanning_float64s_range_fits_scores_and_samples(likelihood, holes):
    X = _spanning_the_range(holes=holes)
    transformer = VAETransformer(likelihood={"wide": likelihood}, **TINY).fit(X)
    assert np.all(np.isfinite(transformer.score_samples(X)))
    for out in (transformer.sample(200, random_state=0), transformer.sample(5, given={"b": 0.0}, random_state=0),
                transformer.inverse_transform(10 * transformer.transform(X))):
        wide = out["wide"].to_numpy()
        assert np.all((np.nanmin(X["wide"]) <= wide) & (wide <= np.nanmax(X["wide"])))


@pytest.mark.parametrize("face", [VAEImputer, VAEOutlierDetector])
def test_the_other_faces_fit_a_quantile_column_spanning_float64s_range(face):
    X = _spanning_the_range(holes=True)
    fitted = face(likelihood={"wide": "quantile_normal"}, **TINY).fit(X)
    if face is VAEImputer:
        filled = fitted.transform(X)["wide"].to_numpy()
        assert np.all(np.isfinite(filled))
        assert np.all((np.nanmin(X["wide"]) <= filled) & (filled <= np.nanmax(X["wide"])))
    else:
        assert np.all(np.isfinite(fitted.score_samples(X)))


def test_the_linear_refinement_fits_a_column_holding_float64s_largest_value():
    """log2 of the largest float64 rounds to 1024: the power-of-two unit was 2**1024 = inf."""
    rng = np.random.default_rng(0)
    completed = rng.normal(size=(N, 3))
    completed[:, 2] = np.where(completed[:, 0] > 0, LARGEST, -LARGEST / 2)
    columns = [{"kind": "gaussian", "name": j} for j in range(3)]
    refinement = fit_refinement(completed, np.ones_like(completed, dtype=bool), columns)
    assert 2 in refinement["columns"]


# --- sample's options: each is checked whether or not the call uses it ---------------------

@pytest.mark.parametrize("n_importance", [0, -1, 2.5, True, None, 10**6])
@pytest.mark.parametrize("with_given", [False, True])
def test_sample_refuses_a_bad_n_importance_with_or_without_given(n_importance, with_given):
    """Without ``given``, n_importance=-1 was accepted in silence (as "ignored")."""
    transformer = VAETransformer(**TINY).fit(np.random.default_rng(0).normal(size=(N, 3)))
    before = _unchanged(transformer)
    given = {0: 1.0} if with_given else None
    with pytest.raises(ValueError, match="n_importance"):
        transformer.sample(2, given=given, n_importance=n_importance)
    assert_same(before, transformer.__getstate__())


@pytest.mark.parametrize("mask", [np.array([[True, False, False]] * 2), np.zeros((2, 3), dtype=bool)])
def test_a_boolean_array_is_no_array_of_conditions(mask):
    """A boolean array has no free (NaN) cell: it gave every cell, as 0.0 and 1.0, where it meant a mask."""
    transformer = VAETransformer(**TINY).fit(np.random.default_rng(0).normal(size=(N, 3)))
    before = _unchanged(transformer)
    with pytest.raises(ValueError, match="boolean array.*NaN where a cell is free"):
        transformer.sample(2, given=mask)
    assert_same(before, transformer.__getstate__())


# --- a given whole number comes back exactly, up to its dtype's limits ----------------------

def _whole_numbers(dtype, top):
    values = np.resize(np.array([top, 5, 7, 9, 11, 13, 17, 19, 23, 29, 31, 37], dtype=object), N)
    # From NumPy's own integers: pandas 1.5 (the oldest pyproject.toml allows) reads a list of Python ints
    # past int64 through float64, and refuses it for UInt64 (hostile sweep 33).
    exact = np.array(values.tolist(), dtype=np.uint64 if dtype.lower().startswith("u") else np.int64)
    table = pd.DataFrame({"a": pd.array(exact, dtype=dtype), "b": np.random.default_rng(0).normal(size=N)})
    return VAETransformer(likelihood={"a": "gaussian"}, **TINY).fit(table)


INTEGER_LIMITS = [("uint64", 2**64 - 1), ("int64", 2**63 - 1), ("UInt64", 2**64 - 1), ("Int64", 2**63 - 1),
                  ("Int64", 2**62 + 1)]


@pytest.mark.parametrize(("dtype", "top"), INTEGER_LIMITS)
@pytest.mark.parametrize("form", ["dict", "numpy scalar", "frame with free cells"])
def test_a_given_whole_number_comes_back_exactly_up_to_its_dtypes_limit(dtype, top, form):
    """float64 rounds 2**64 - 1 to 2**64: the column's own largest value was refused as beyond uint64
    (with a range that left it out), and a nullable column with free cells was read as float64, so a
    given 2**62 + 1 came back as 2**62 (2**63 - 1 as -2**63)."""
    transformer = _whole_numbers(dtype, top)
    nullable = "U" if dtype.lower().startswith("u") else ""
    given = {"dict": {"a": top},
             "numpy scalar": {"a": np.uint64(top) if nullable else np.int64(top)},
             "frame with free cells": pd.DataFrame({"a": pd.array([top, None], dtype=f"{nullable}Int64")})}[form]
    out = transformer.sample(given=given, random_state=0)
    assert int(out["a"].iloc[0]) == top
    assert str(out["a"].dtype) == dtype


@pytest.mark.parametrize(("dtype", "top"), INTEGER_LIMITS[:4])
def test_a_given_number_beyond_an_integer_dtype_is_refused_with_the_dtypes_range(dtype, top):
    transformer = _whole_numbers(dtype, top)
    before = _unchanged(transformer)
    for beyond in (top + 1, float(top)):  # float(2**64 - 1) is 2**64
        with pytest.raises(ValueError, match=rf"cannot hold .*\[-?\d+, {top}\]"):
            transformer.sample(given={"a": beyond})
    assert_same(before, transformer.__getstate__())


# --- a continued fit on a row far outside the first fit's scaling -----------------------------

@pytest.mark.parametrize("face", [VAETransformer, VAEImputer, VAEOutlierDetector])
@pytest.mark.parametrize("far", [1e50, 1e120])
def test_a_continued_fit_on_a_row_far_outside_the_first_fits_scale_keeps_a_latent_mixture(face, far):
    """The row's latent draws (1e48 and beyond) broke the mixture ``sample`` draws from, after training:
    its covariances were not positive definite, or infinite, and the fit failed with another library's error."""
    X = np.random.default_rng(0).normal(size=(N, 3))
    fitted = face(warm_start=True, **TINY).fit(X)
    far_out = X.copy()
    far_out[0, 0] = far
    fitted.fit(far_out)
    vae = fitted if face is VAETransformer else fitted.vae_
    assert vae._model.latent_mixture is not None
    assert np.all(np.isfinite(vae.sample(50, random_state=0)))


def test_partial_fit_on_a_row_at_the_top_of_float64_keeps_a_latent_mixture():
    X = np.random.default_rng(0).normal(size=(N, 3))
    transformer = VAETransformer(**TINY).fit(X)
    far_out = X.copy()
    far_out[0, 0] = 1.7e308
    transformer.partial_fit(far_out)
    assert transformer._model.latent_mixture is not None
    assert np.all(np.isfinite(transformer.sample(50, random_state=0)))


# --- VAEImputer's likelihood names the user's columns, not the VAE's --------------------------

def _with_an_empty_column(frame):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=N), "empty": np.nan, "count": rng.poisson(30, N).astype(float)})
    return X if frame else X.to_numpy()


@pytest.mark.parametrize("frame", [True, False])
@pytest.mark.parametrize("key", ["label", "position", "negative position"])
def test_the_imputers_likelihood_names_the_columns_of_x_when_one_is_empty(frame, key):
    """The VAE sees X without its empty columns: {2: 'poisson'} was "a column X does not have", and
    {1: 'poisson'} (the empty column) set the third column's kind in silence."""
    X = _with_an_empty_column(frame)
    name = {"label": "count" if frame else 2, "position": 2, "negative position": -1}[key]
    imputer = VAEImputer(likelihood={name: "poisson"}, **TINY).fit(X)
    assert list(imputer.vae_.column_kinds_.values()) == ["gaussian", "poisson"]
    empty_named = VAEImputer(likelihood={"empty" if frame else 1: "poisson"}, **TINY).fit(X)
    assert "poisson" not in empty_named.vae_.column_kinds_.values()  # nothing to model there


@pytest.mark.parametrize("frame", [True, False])
def test_the_imputer_refuses_a_likelihood_key_in_terms_of_x(frame):
    X = _with_an_empty_column(frame)
    imputer = VAEImputer(**TINY)
    with pytest.raises(ValueError, match=r"names columns \[3\] that X does not have; X's columns are "
                                         + (r"\['x', 'empty', 'count'\]" if frame else r"positions 0\.\.2")):
        imputer.set_params(likelihood={3: "poisson"}).fit(X)
    assert not hasattr(imputer, "vae_")


# --- a far-out cell's log-likelihood is -inf in score_columns, as its row's score is ---------

@pytest.mark.filterwarnings("ignore:score_samples. the bound:UserWarning")  # the far row's -inf, named
@pytest.mark.parametrize("likelihood", ["gaussian", "quantile_normal"])
def test_score_columns_gives_a_far_out_cell_minus_infinity_as_score_samples_gives_its_row(likelihood):
    """score_samples scored the row -inf (its density underflows); score_columns refused it as overflow."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=N), "q": rng.normal(size=N), "c": rng.choice(["a", "b"], N)})
    detector = VAEOutlierDetector(likelihood={"q": likelihood}, **TINY).fit(X)
    far = X.head(3).copy()
    far.loc[1, "q"] = 1e300
    assert detector.score_samples(far)[1] == -np.inf
    cells = detector.score_columns(far)
    assert cells.loc[1, "q"] == -np.inf
    assert not cells.isna().any().any() and not (cells == np.inf).any().any()
    np.testing.assert_array_equal(cells.drop(index=1).to_numpy(), detector.score_columns(X.head(3)).drop(index=1))


@pytest.mark.parametrize("frame", [True, False])
@pytest.mark.parametrize("change", ["filled", "emptied"])
def test_a_warm_started_imputer_refuses_other_empty_columns_by_name(frame, change):
    """The VAE's own check said feature names were "unseen at fit time" while X had the same columns."""
    X = _with_an_empty_column(frame)
    other = X.copy()
    if frame:
        other["empty"] = 1.0
    else:
        other[:, 1] = 1.0
    first, then = (X, other) if change == "filled" else (other, X)
    imputer = VAEImputer(warm_start=True, **TINY).fit(first)
    before = _unchanged(imputer)
    label = "'empty'" if frame else "1"
    with pytest.raises(ValueError, match=rf"Cannot continue training: columns \[{label}\].*warm_start=False"):
        imputer.fit(then)
    assert_same(before, imputer.__getstate__())


# --- an inflated column's spike far from its continuous values -----------------------------

@pytest.mark.parametrize(("spike", "values"), [(0.0, lambda rng: 1e6 + rng.normal(size=N)),
                                               (-1.7e308, lambda rng: np.full(N, 1.7e308))])
def test_an_inflated_columns_far_spike_reaches_the_encoder_within_its_continuous_range(spike, values):
    """Encoded along the continuous part's slope, 0 beside values of 1e6 +- 1 was -4e5 standard units:
    the encoder saw it as such, the training loss was 1e9 (1e29 at float64's ends) and the latent codes 1e4."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": np.where(rng.random(N) < 0.5, spike, values(rng)), "b": rng.normal(size=N)})
    transformer = VAETransformer(likelihood={"a": "inflated_gaussian"}, **TINY).fit(X)
    # Nats per row of the column's density: at float64's ends a continuous cell's log-density is about -670.
    assert max(transformer.loss_curve_) < 1e4
    assert np.all(np.abs(transformer.transform(X)) < 10)
    for state in transformer._model.optimizer.state_dict()["state"].values():
        assert all(np.isfinite(tensor.numpy()).all() for tensor in state.values() if tensor.ndim)
    sampled = transformer.sample(200, random_state=0)["a"]
    assert (sampled == spike).any() and (sampled != spike).any()
