"""Hostile input, seventeenth sweep: VAEImputer's placeholders, the detector, ``sample(given=...)``.

Swept and found sound: ``missing_values`` of np.nan, None and pandas.NA on
arrays (an object array of None too), -1 on float arrays holding a -1.0 and
on integer arrays (the dtype kept, whole fills), ``"?"`` in a text column
and in an object column of numbers, ``""`` in a ``string`` column, -1 in an
``Int64`` column; nullable Int64, boolean, Float64, category and string
columns with holes through ``fit_transform``, ``sample_posterior=True`` and
``multiple_imputations`` (each dtype kept, no hole left); a column missing
in every row at fit, and a row missing in every cell, under each
combination of ``add_indicator`` and ``keep_empty_features``; a column
missing in every row at transform only; ``missing_mechanism="self_masking"``
with and without ``sample_posterior``; the detector's ``contamination``
("auto", 0.1, 0.5, 1e-9) through ``fit_predict``, ``predict``,
``decision_function`` and ``score_samples`` on one to three rows, lists,
integer arrays, DataFrames with a non-Range index, 1e300 cells, infinity
(refused by name), tables of one row repeated and of two, a fit with
missing cells scored on complete rows and the reverse; ``score_columns``
keeping the index; ``sample(given=...)`` with conditions on every column
(given back exactly, in the fitted dtypes), on none (an empty dict, a
DataFrame of no columns), an object DataFrame of conditions with a row of
NaN and a string index, MultiIndex and duplicate indexes (kept), categories
declared in another order or with unseen ones, unseen categories (refused,
a RandomState passed left where it was), a Series (refused), arrays of int,
of objects holding None, of text, lists and 1-D arrays for an array model.

Each family below failed once (see the commit that added its tests):

- **A numeric placeholder matching booleans** (``skvae._imputer._without_boolean_cells``):
  ``False == 0`` and ``True == 1`` in pandas, so ``VAEImputer(missing_values=0)``
  (or 1, 0.0, 1.0) on a DataFrame took every False (True) of a ``bool``,
  ``boolean`` or object column of booleans for a missing cell, and filled it
  with the label the other cells hold: half a column overwritten, without a
  word (a category column of booleans compared by its own rules and was
  sound). Sweep 14 refused a bool placeholder for the converse reason.
  Decided: a boolean cell is never a number's placeholder; the column is
  left as it is, its missing cells (None, pd.NA) refused as before with a
  placeholder other than NaN.
- **A condition of another type read as the fitted one** (``skvae._conditional._as_fitted``):
  a column of conditions was converted to the fitted dtype where the
  conversion compared equal, and ``True == 1``: so ``sample(given={"b": 1})``
  on a bool column gave True, ``given={"i": True}`` on an integer column
  (modelled as categories) gave 1, and a DataFrame of conditions of 0/1 for
  a bool column was read as booleans, while ``transform`` refuses those very
  cells ("1 (int) is the known category True (bool) written as another
  type"), and so did ``given`` once the column held a NaN. Now a conversion
  that turns a bool into a number, or a number into a bool, keeps nothing:
  the condition is refused as ``transform`` refuses the cell. A bool given
  for a column modelled as real numbers is read as 1.0 or 0.0, as
  ``transform`` reads it.
"""

import copy

import numpy as np
import pandas as pd
import pytest

from skvae import VAEImputer, VAETransformer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(latent_dim=1, hidden_layer_sizes=(8,), max_iter=2, random_state=0, device="cpu")


def _booleans(kind, n):
    values = np.array([True, False] * (n // 2))
    return {
        "bool": pd.Series(values),
        "boolean": pd.Series(values, dtype="boolean"),
        "object": pd.Series(values, dtype=object),
        "category": pd.Series(pd.Categorical(values)),
    }[kind]


# ------------------------------------------------------------------ a. a numeric placeholder and booleans


@pytest.mark.parametrize("placeholder", [0, 1, 0.0, 1.0, -1])
@pytest.mark.parametrize("kind", ["bool", "boolean", "object", "category"])
def test_a_numeric_placeholder_never_takes_a_boolean_cell_for_a_missing_one(placeholder, kind):
    n = 20
    rng = np.random.RandomState(0)
    table = pd.DataFrame({"a": rng.randn(n), "b": _booleans(kind, n)})
    table.loc[0, "a"] = placeholder  # one real missing cell, so there is something to impute
    imputer = VAEImputer(missing_values=placeholder, **TINY)
    out = imputer.fit_transform(table)
    assert out["b"].astype(object).tolist() == table["b"].astype(object).tolist()
    assert out["b"].dtype == table["b"].dtype
    assert out.loc[0, "a"] != placeholder and np.isfinite(out.loc[0, "a"])
    again = imputer.transform(table)
    assert again["b"].astype(object).tolist() == table["b"].astype(object).tolist()


def test_a_numeric_placeholder_still_marks_the_numbers_of_other_columns():
    n = 20
    rng = np.random.RandomState(0)
    table = pd.DataFrame({"a": rng.randn(n), "i": pd.array([1, 2, 3, 0] * 5, dtype="Int64"),
                          "b": _booleans("bool", n)})
    imputer = VAEImputer(missing_values=0, add_indicator=True, **TINY)
    out = imputer.fit_transform(table)
    # The zeros of the integer column are the missing cells; the booleans are not, and have no indicator.
    assert (out["i"] != 0).all()
    assert list(out.columns) == ["a", "i", "b", "missingindicator_i"]
    assert out["missingindicator_i"].tolist() == (table["i"] == 0).tolist()


def test_a_missing_boolean_cell_with_a_numeric_placeholder_is_still_refused_by_name():
    table = pd.DataFrame({"a": np.arange(10.0), "b": pd.array([True, None] * 5, dtype="boolean")})
    with pytest.raises(ValueError, match=r"contains NaN \(in column 'b'\) but missing_values=0"):
        VAEImputer(missing_values=0, **TINY).fit(table)


# ------------------------------------------------------------------ b. conditions of another type


@pytest.fixture(scope="module")
def typed_model():
    rng = np.random.RandomState(0)
    n = 40
    table = pd.DataFrame({"a": rng.randn(n), "i": rng.randint(0, 5, n), "b": rng.rand(n) > 0.5,
                          "B": pd.array(rng.rand(n) > 0.5, dtype="boolean"),
                          "I": pd.array(rng.randint(0, 3, n), dtype="Int64")})
    return VAETransformer(**TINY).fit(table), table


@pytest.mark.parametrize("column, value", [
    ("b", 1), ("b", 0), ("b", 1.0), ("b", np.int64(0)), ("B", 1), ("B", 0.0),
    ("i", True), ("i", np.True_), ("I", True), ("I", False),
], ids=repr)
@pytest.mark.parametrize("form", ["dict", "frame", "object frame"])
def test_a_bool_for_a_number_or_a_number_for_a_bool_is_refused_as_transform_refuses_it(typed_model, column, value,
                                                                                         form):
    vae, table = typed_model
    given = {"dict": {column: value},
             "frame": pd.DataFrame({column: [value, value]}),
             "object frame": pd.DataFrame({column: pd.Series([value, value], dtype=object)})}[form]
    with pytest.raises(ValueError, match=f"(?s)Column '{column}'.*written as another type"):
        vae.transform(table.assign(**{column: pd.Series([value] * len(table), dtype=object)}))
    state, seeds = copy.deepcopy(vae.__getstate__()), np.random.RandomState(3)
    with pytest.raises(ValueError, match=f"(?s)given: Column '{column}'.*written as another type"):
        vae.sample(2, given=given, random_state=seeds)
    assert seeds.randint(10**9) == np.random.RandomState(3).randint(10**9)
    assert vae.__getstate__().keys() == state.keys()


@pytest.mark.parametrize("column, value, expected", [
    ("b", True, True), ("b", np.False_, False), ("B", True, True), ("i", 3, 3), ("i", np.int64(2), 2),
    ("i", 2.0, 2), ("I", 1, 1), ("a", True, 1.0),
], ids=repr)
def test_a_condition_of_the_fitted_type_comes_back_exactly(typed_model, column, value, expected):
    vae, table = typed_model
    out = vae.sample(3, given={column: value})
    assert out[column].tolist() == [expected] * 3
    assert out.dtypes.equals(table.dtypes)
