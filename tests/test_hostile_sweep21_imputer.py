"""Hostile use, twenty-first sweep: VAEImputer's contract against scikit-learn's imputers.

Swept and found sound: against IterativeImputer on the same arrays, rows
whose missing pattern never occurred at fit (a row missing in every cell, in
three of four), columns complete at fit with holes at transform (an int64
column given as float64 with NaN or as Int64 with pd.NA: whole fills; a
category, string and object-boolean column: seen categories, dtypes kept),
``add_indicator`` names and order (``missingindicator_<name>`` after the
kept columns, as IterativeImputer's, under ``set_output("pandas")`` too, and
x0.. for integer labels where ``set_output`` renames, as SimpleImputer);
``keep_empty_features`` on object, category, string, boolean and Int64
columns empty at fit (the recorded decision of sweep 8 kept: labels take the
number 0); ``missing_values`` of -1 on an int16 array (dtype kept, whole
fills, also through ``multiple_imputations`` and ``sample_posterior``),
None and pd.NA in object arrays, ``"?"`` on an array (refused, naming the
placeholder and what to do); fills within the observed range and whole for
integer-like float columns and counts, under ``"ignorable"`` and
``"self_masking"``, with and without ``sample_posterior``; successive
``sample_posterior`` transforms differ and repeat after a refit with the same
``random_state``; ``multiple_imputations`` (shapes, dtypes, float32 kept,
reproducible, copies differing, an int array and its float twin giving the
same draws); ``fit_transform`` equal to ``fit().transform()`` on a mixed
table under both mechanisms, with ``add_indicator`` and
``keep_empty_features``, and without the refinement; observed cells returned
bit for bit (float32 -0.0 and -3.4e38, float64 -0.0 and +-1.7e308);
``missing_mechanism="self_masking"`` on a column never missing, all missing,
constant, categorical, on tables of one and two rows, with holes only at
transform, and self-masked continuous columns near 1.79e308 (fills finite;
beyond the observed range by the recorded design of ``skvae._schema.decode``);
120 random small tables (1 to 40 rows; float64 and float32 arrays with
-0.0, 1e300, 1e-310 and level columns; DataFrames of float, float32, Int64,
object labels, boolean, constant and level columns with NaN, None and
pd.NA) under random ``missing_mechanism``, ``sample_posterior``,
``add_indicator`` and ``keep_empty_features``: no hole, observed cells and
dtypes kept, names equal to ``get_feature_names_out``, ``fit_transform``
equal to ``fit().transform()``, no RuntimeWarning; a DataFrame's index kept
by every output; duplicated incomplete rows given distinct draws;
``missing_values=pd.NA`` and None taking a float column's NaN as missing on
a DataFrame (documented; SimpleImputer does for pd.NA), -1 refusing a NaN by
its column.

Each family below failed once (see the commit that added its tests):

- **Level values near float64's limits under self-masking**
  (``skvae._missingness._standardized_levels``): the self-masking mechanism
  standardises the levels of every categorical column of numbers; the mean
  of levels near 1.7e308 overflowed, the deviation of levels near 1e-300
  underflowed to 0 and that of -1e308 and 1e308 overflowed, so the logits
  were NaN (or every level 0) and ``VAEImputer(missing_mechanism=
  "self_masking")`` refused a table that ``"ignorable"`` imputed ("The
  training loss became nan in epoch 1"), with the default
  ``likelihood="auto"`` too (three levels 1e-300, 2e-300, 3e-300). Such
  levels are standardised in units of their largest magnitude; ordinary
  levels keep the direct formula, bit for bit.
- **The refinement's check on a column of huge values** (``skvae._refinement._squared_errors``):
  a checked column (numbers as levels, counts, spiked) keeps the blend
  only where its squared errors beat the VAE's on hidden cells; for values
  beyond about 1e154 both sums overflowed to infinity, so the blend could
  never win, and NumPy's "overflow encountered in square" reached the
  caller of ``fit`` (below about 1e-154 they underflowed to a tie of 0,
  which the blend lost as well). Such sums are taken in units of the largest magnitude;
  ordinary columns are checked as before, bit for bit.
- **The caller's attrs with add_indicator** (``VAEImputer._with_indicator``):
  a DataFrame's ``attrs`` came back from every output (sweep 13) but was
  dropped once the indicator was appended: pandas' ``concat`` keeps attrs
  only where every frame holds the same. They are copied (deeply, as pandas
  copies them) onto the output with its indicator.

Found and LEFT:

- A DataFrame's indicator columns are ``bool`` (MissingIndicator's own
  output), where IterativeImputer and SimpleImputer under
  ``set_output(transform="pandas")`` give float64 (they stack everything in
  one float array); an array's take the array's dtype, as theirs. A
  DataFrame output keeps each column's dtype, and callers may test the
  flags as booleans: changing it would break them for a cosmetic match.
- Under ``missing_mechanism="self_masking"`` the self-masked continuous
  columns' fills leave the observed range (a constant column of 5.0 drawn
  as 4.0 or 7.0, a positive column modelled ``"gaussian"`` drawn below 0):
  the recorded design of ``skvae._schema.TableSchema.decode``
  (``beyond_range``: under a self-masking mechanism the missing values are
  expected where the observed ones are not), not reversed here.
"""

import numpy as np
import pandas as pd
import pytest
import torch

from skvae import VAEImputer
from skvae._missingness import _standardized_levels
from skvae._refinement import _squared_errors

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(latent_dim=2, hidden_layer_sizes=(8,), max_iter=3, random_state=0, device="cpu")


# ------------------------------------------------------------------ a. level values near float64's limits

EXTREME_LEVELS = {
    "tiny": [1e-300, 2e-300, 3e-300],
    "subnormal": [5e-324, 1e-323, 1.5e-323],
    "near_max": [1.5e308, 1.6e308, 1.7e308],
    "both_signs": [-1e308, 0.0, 1e308],
    "wide": [-1e200, 0.0, 1e200],
}


@pytest.mark.parametrize("levels", EXTREME_LEVELS.values(), ids=EXTREME_LEVELS.keys())
def test_self_masking_standardises_extreme_levels_to_mean_0_and_deviation_1(levels):
    standardized = _standardized_levels(torch.tensor([levels], dtype=torch.float64))
    assert torch.isfinite(standardized).all()
    assert standardized.mean().abs() < 1e-12
    assert abs(standardized.std(correction=0).item() - 1.0) < 1e-12
    assert (standardized.diff(dim=-1) > 0).all() == (np.diff(levels) > 0).all()


def test_ordinary_levels_are_standardised_as_before_bit_for_bit():
    values = torch.tensor([[0.0, 1.0, 0.0], [1.0, 2.0, 7.0], [-3.5, 0.25, 11.0]], dtype=torch.float64)
    direct = (values - values.mean(-1, keepdim=True)) / values.std(-1, correction=0, keepdim=True)
    assert torch.equal(_standardized_levels(values), direct)


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("likelihood", ["auto", "categorical"])
@pytest.mark.parametrize("levels", EXTREME_LEVELS.values(), ids=EXTREME_LEVELS.keys())
@pytest.mark.parametrize(("mechanism", "sample_posterior"),
                         [("ignorable", False), ("self_masking", False), ("self_masking", True)])
def test_a_column_of_extreme_levels_is_imputed_under_either_mechanism(levels, likelihood, mechanism,
                                                                      sample_posterior):
    """Fitted (self-masking's first epoch was NaN), filled with seen levels, no overflow warning from the check."""
    rng = np.random.RandomState(0)
    column = np.array(levels * 4 + [np.nan] * 3)
    table = pd.DataFrame({"a": rng.randn(len(column)), "t": column})
    table.loc[[0, 4], "a"] = np.nan
    kind = (VAEImputer(likelihood={"t": likelihood}, **TINY).fit(table).vae_._schema.columns[1]["kind"])
    if kind != "categorical":
        pytest.skip(f"likelihood='auto' models these levels as {kind!r}, not as levels")
    imputer = VAEImputer(missing_mechanism=mechanism, sample_posterior=sample_posterior,
                         likelihood={"t": likelihood}, **TINY)
    out = imputer.fit_transform(table)
    copies = imputer.multiple_imputations(table, 2)
    for filled in [out, *copies]:
        fills = filled.loc[table["t"].isna(), "t"]
        assert fills.isin(levels).all()
        assert filled["t"][table["t"].notna()].equals(table["t"][table["t"].notna()])


def test_a_self_masking_imputer_of_extreme_levels_saves_and_loads_to_the_same_draws(tmp_path):
    """The standardised levels are rebuilt from the schema at load (not saved): the same buffer, the same draws."""
    import pickle

    import skvae

    rng = np.random.RandomState(0)
    table = pd.DataFrame({"a": rng.randn(15), "t": EXTREME_LEVELS["tiny"] * 4 + [np.nan] * 3})
    table.loc[[0, 4], "a"] = np.nan
    imputer = VAEImputer(missing_mechanism="self_masking", sample_posterior=True, **TINY).fit(table)
    skvae.save(imputer, tmp_path / "imputer.skvae")
    copies = [skvae.load(tmp_path / "imputer.skvae"), pickle.loads(pickle.dumps(imputer))]
    expected = imputer.transform(table)
    for other in copies:
        assert other.transform(table).equals(expected)


# ------------------------------------------------------------------ b. the refinement's check on huge columns


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("unit", [1.0, 1e150, 1e300, 1e-300])
def test_the_refinement_check_orders_the_errors_of_a_column_at_any_magnitude(unit):
    target = np.array([1.5, -1.6, 1.7]) * unit
    closer = np.array([1.4, -1.6, 1.7]) * unit
    farther = np.array([1.7, -1.0, 1.2]) * unit
    plain, refined = _squared_errors(farther, closer, target)
    assert np.isfinite(plain) and np.isfinite(refined) and refined < plain
    plain, refined = _squared_errors(closer, farther, target)
    assert refined > plain


def test_the_refinement_check_of_ordinary_cells_is_the_plain_sum_of_squares():
    target, plain, refined = np.array([0.1, 2.0, -3.0]), np.array([0.3, 1.0, -2.5]), np.array([0.2, 2.5, -3.25])
    assert _squared_errors(plain, refined, target) == (np.sum((plain - target) ** 2), np.sum((refined - target) ** 2))


# ------------------------------------------------------------------ c. the caller's attrs with the indicator


@pytest.mark.parametrize("add_indicator", [False, True])
@pytest.mark.parametrize("output", [None, "pandas"])
def test_the_callers_attrs_are_kept_with_the_indicator_appended(add_indicator, output):
    rng = np.random.RandomState(0)
    table = pd.DataFrame({"a": rng.randn(12), "b": rng.randn(12),
                          "s": pd.arrays.SparseArray(rng.choice([0.0, 1.0], 12), fill_value=0.0)},
                         index=[f"r{i}" for i in range(12)])
    table.loc[table.index[::3], "a"] = np.nan
    table.attrs = {"source": "survey", "units": {"a": "kg"}}
    imputer = VAEImputer(add_indicator=add_indicator, **TINY)
    if output:
        imputer.set_output(transform=output)
    outputs = [imputer.fit_transform(table), imputer.transform(table), *imputer.multiple_imputations(table, 2)]
    for out in outputs:
        assert out.attrs == {"source": "survey", "units": {"a": "kg"}}  # skvae's own marker is not among them
        assert list(out.columns) == list(imputer.get_feature_names_out())
        assert isinstance(out["s"].dtype, pd.SparseDtype)
    # pandas 2.1 and later copy attrs deeply (so do skvae's outputs, as pandas does); pandas 1.5 (the oldest
    # pyproject.toml allows) shares a nested value between a frame and its copy: there skvae does as pandas.
    probe = pd.DataFrame({"a": [1.0]})
    probe.attrs = {"units": {}}
    if probe.copy().attrs["units"] is not probe.attrs["units"]:
        outputs[0].attrs["units"]["a"] = "g"
        assert table.attrs["units"] == {"a": "kg"}
