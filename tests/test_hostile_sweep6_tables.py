"""Hostile input, sixth sweep: scikit-learn composition and the edges of real tables.

Each family failed once (see the commit that added its tests): a column whose
observed values are all equal got a standard deviation of 1e-17 from rounding
(not 0), so any other value at transform became 1e16 standard deviations
(latent codes of 1e15, scores of -1e32); a category fitted as 1 and given as
'1' (a table read back from text) was refused with two lists that differ only
in quotes; a column of durations, periods or intervals was told to "convert
dates"; a table with values near +-1.7e308 failed VAEImputer's fit on its own
rows (a decoded mean a little beyond float64's top was refused as the
networks' overflow, and the refinement's unit rounded to 2**1024); a column of
labels missing in every row at transform (pandas makes it float64) crashed
VAEImputer with pandas' "could not convert string to float", or turned True
into 1.0, and a column of only pd.NA (object to pandas) came back object, not
Int64, Float32, boolean or its categories. The tests pin the mechanism over the faces and methods it serves.
"""

import numpy as np
import pandas as pd
import pytest

from skvae import VAEImputer, VAEOutlierDetector, VAETransformer
from skvae._moments import shift_scale_columns
from skvae._refinement import _moments as refinement_moments

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(latent_dim=2, hidden_layer_sizes=(4,), max_iter=3, batch_size=16, random_state=0)
N = 20

# Ten copies of this value have np.std 2.8e-17, not 0: the sums behind the moments round.
ROUNDING_CONSTANT = -0.1321048632913019


def _rows(seed=0):
    return np.random.default_rng(seed).normal(size=(N, 3))


# --- a constant column is constant exactly, however its sums round -------------------

def test_equal_values_have_the_shift_of_their_value_and_unit_scale():
    block = np.full((10, 2), ROUNDING_CONSTANT)
    block[3, 1] = np.nan
    assert np.std(np.full(10, ROUNDING_CONSTANT)) > 0  # the premise: summing rounds
    shifts, scales = shift_scale_columns(block)
    assert shifts == [ROUNDING_CONSTANT, ROUNDING_CONSTANT]
    assert scales == [1.0, 1.0]


def test_the_refinements_moments_of_a_constant_column_are_its_value_and_unit_scale():
    design = np.column_stack([np.full(10, ROUNDING_CONSTANT), np.arange(10.0)])
    mean, scale = refinement_moments(design)
    assert mean[0] == ROUNDING_CONSTANT and scale[0] == 1.0
    assert scale[1] == pytest.approx(np.std(np.arange(10.0)))


@pytest.mark.parametrize("layout", ["duplicate-rows", "one-constant-column"])
@pytest.mark.parametrize("face, method", [(VAETransformer, "transform"),
                                          (VAEOutlierDetector, "score_samples"),
                                          (VAEOutlierDetector, "score_columns")])
def test_a_constant_column_at_fit_keeps_other_values_at_transform_in_proportion(face, method, layout):
    X = _rows()
    if layout == "duplicate-rows":
        fitted_on = np.tile(X[1], (10, 1))  # every column constant at -0.132...
    else:
        fitted_on = X.copy()
        fitted_on[:, 1] = ROUNDING_CONSTANT
    estimator = face(**TINY).fit(fitted_on)
    out = np.asarray(getattr(estimator, method)(X[:4]), dtype=float)
    assert np.all(np.isfinite(out))
    # Values a few units from the constant are a few (unit-scale) units off,
    # not 1e16 standard deviations.
    assert np.abs(out).max() < 1e4


# --- a category label of another type names the type, and the conversion ---------------



def _call(estimator, method, X):
    if method == "sample":
        return estimator.sample(given=X[["c"]], random_state=0)
    return getattr(estimator, method)(X)


@pytest.mark.parametrize("fitted, given, conversion", [
    (pd.Categorical([1, 2] * (N // 2)), ["1"], "pd.to_numeric(X['c'])"),
    ([1, 2], ["2"], "pd.to_numeric(X['c'])"),
    (["1", "2"], [1], "X['c'].astype('string')"),
    ([1.5, 2.5], ["1.5"], "pd.to_numeric(X['c'])"),
    ([True, False], ["False"], "X['c'].map({'True': True, 'False': False})"),
])
@pytest.mark.parametrize("face, method", [(VAETransformer, "transform"), (VAETransformer, "sample"),
                                          (VAEImputer, "transform"), (VAEOutlierDetector, "score_samples")])
def test_a_known_category_written_as_another_type_is_named_with_its_conversion(face, method, fitted, given,
                                                                                conversion):
    # Numbers as labels are categories by dtype (under likelihood="auto" so are strings and bools).
    labels = fitted if isinstance(fitted, pd.Categorical) else pd.Categorical((fitted * N)[:N])
    table = pd.DataFrame({"a": np.random.default_rng(1).normal(size=N), "c": labels})
    estimator = face(**TINY).fit(table)
    with pytest.raises(ValueError, match="written as another type") as refused:
        _call(estimator, method, pd.DataFrame({"a": [0.0], "c": given}))
    assert conversion in str(refused.value)


# --- a column of a dtype skvae cannot model says how to make it numbers --------------------

@pytest.mark.parametrize("column, conversion", [
    (pd.date_range("2020", periods=N), "(X['when'] - X['when'].min()).dt.days"),
    (pd.date_range("2020", periods=N, tz="UTC"), "(X['when'] - X['when'].min()).dt.days"),
    (pd.to_timedelta(np.arange(N), "D"), "X['when'].dt.total_seconds()"),
    (pd.period_range("2020", periods=N, freq="D"), "(X['when'] - X['when'].min()).map(lambda offset: offset.n, na_action='ignore')"),
    (pd.interval_range(0, N), "X['when'].array.mid"),
    (pd.array(np.arange(N) + 1j), "X['when'].to_numpy().real and .imag"),
])
@pytest.mark.parametrize("face", [VAETransformer, VAEImputer, VAEOutlierDetector])
def test_a_column_of_dates_durations_periods_intervals_or_complex_numbers_names_its_conversion(face, column,
                                                                                             conversion):
    table = pd.DataFrame({"a": np.random.default_rng(2).normal(size=N), "when": column})
    with pytest.raises(ValueError, match="Column 'when' has dtype") as refused:
        face(**TINY).fit(table)
    assert conversion in str(refused.value)
    # The advice is runnable as given.
    X = table
    if "real and" not in conversion:
        converted = eval(conversion)  # noqa: S307 - the message's own expression, on the test's table
        assert pd.api.types.is_numeric_dtype(pd.Series(converted).dtype)


# --- values at float64's top: a decoded value beyond it is its top, not an overflow ---------

def _at_the_top(likelihood, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, 3))
    if likelihood == "lognormal":
        X[:, 2] = np.where(rng.random(N) < 0.5, 1.7e308, 1e-300)
    else:
        X[:, 2] = np.where(rng.random(N) < 0.5, 1.7e308, -1.7e308)
    return X, {2: likelihood}


# Sweep 25 review: no NumPy "invalid value encountered in reduce" from the finiteness check either.
@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("likelihood", ["gaussian", "lognormal"])
@pytest.mark.parametrize("sample_posterior", [False, True])
def test_the_imputer_fits_and_fills_a_column_at_the_top_of_float64(likelihood, sample_posterior):
    X, likelihoods = _at_the_top(likelihood)
    holes = X.copy()
    holes[:6, 2] = np.nan
    # Fit imputes its own training rows (for the refinement), and failed there.
    imputer = VAEImputer(likelihood=likelihoods, sample_posterior=sample_posterior, **TINY).fit(X)
    filled = imputer.transform(holes)[:6, 2]
    assert np.all(np.isfinite(filled))
    assert np.all((X[:, 2].min() <= filled) & (filled <= X[:, 2].max()))


@pytest.mark.parametrize("likelihood", ["gaussian", "lognormal"])
@pytest.mark.parametrize("method", ["sample", "inverse_transform"])
def test_generated_values_at_the_top_of_float64_stay_in_the_columns_range(likelihood, method):
    X, likelihoods = _at_the_top(likelihood)
    transformer = VAETransformer(likelihood=likelihoods, **TINY).fit(X)
    if method == "sample":
        out = transformer.sample(300, random_state=0)
    else:
        out = transformer.inverse_transform(10 * transformer.transform(X))  # codes beyond the fitted ones
    assert np.all(np.isfinite(out[:, 2]))
    assert np.all((X[:, 2].min() <= out[:, 2]) & (out[:, 2] <= X[:, 2].max()))


def test_an_overflow_inside_the_networks_is_still_refused():
    """Saturation is for finite values beyond the dtype's top: a non-finite network output stays an error."""
    import torch

    from skvae._likelihoods import _saturated

    values = torch.tensor([np.inf, -np.inf, np.nan, 1.0], dtype=torch.float64)
    out = _saturated(values, torch.tensor([False, True, False, True]))
    assert out[0] == np.inf and out[1] == -np.finfo(np.float64).max
    assert torch.isnan(out[2]) and out[3] == 1.0


# Sweep 25 review: no NumPy "invalid value encountered in reduce" from the finiteness check either.
@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_the_linear_refinement_fits_a_column_at_the_top_of_float64():
    """Its power-of-two unit was rounded to 2**1024 = inf there: the column silently kept the VAE's fills."""
    X, likelihoods = _at_the_top("gaussian")
    imputer = VAEImputer(likelihood=likelihoods, **TINY).fit(X)
    assert 2 in imputer._refinement["columns"]


# --- a column of labels missing in every row at transform (so float64) gets labels ---------

@pytest.mark.parametrize("labels", [
    pd.Categorical(["x", "y"] * (N // 2), categories=["x", "y", "z"]),
    np.array(["p", "q"] * (N // 2), dtype=object),
    np.array([True, False] * (N // 2)),
])
def test_the_imputer_fills_labels_into_a_column_missing_in_every_row_at_transform(labels):
    rng = np.random.default_rng(4)
    fitted = pd.DataFrame({"a": rng.normal(size=N), "label": labels})
    empty = fitted.copy()
    empty["label"] = np.nan  # pandas makes a column of only NaN float64
    filled = VAEImputer(**TINY).fit(fitted).transform(empty)["label"]
    assert set(filled.tolist()) <= set(pd.Series(labels).tolist())
    # True == 1.0: the labels must come back as labels, not as the floats of the column at transform.
    assert not any(isinstance(value, float) for value in filled.tolist())
    if isinstance(labels, pd.Categorical):  # with nothing of its own, the column has the fit's dtype
        assert filled.dtype == fitted["label"].dtype


@pytest.mark.parametrize("column", [
    pd.array(np.arange(N) % 7, dtype="Int64"),
    pd.array(np.linspace(0, 1, N), dtype="Float32"),
    pd.array([True, False] * (N // 2), dtype="boolean"),
    pd.Categorical(["x", "y"] * (N // 2), categories=["x", "y", "z"]),
])
def test_a_column_of_only_pd_na_at_transform_comes_back_in_its_dtype_at_fit(column):
    """pandas makes a column of only pd.NA object: its integers came back as Python objects."""
    rng = np.random.default_rng(5)
    fitted = pd.DataFrame({"a": rng.normal(size=N), "col": column})
    empty = fitted.copy()
    empty["col"] = pd.NA
    assert empty["col"].dtype == object
    filled = VAEImputer(**TINY).fit(fitted).transform(empty)
    assert filled["col"].dtype == fitted["col"].dtype
    assert filled["col"].notna().all()
    assert filled.index.equals(empty.index)
