"""Hostile input, eighth sweep: the outlier detector, multiple imputation, tiny tables and importance-weighted scores.

Swept and found sound: ``contamination`` (0 and values above 0.5 refused by
name, 0.5, float32, tiny fractions; one, two or three training rows),
``fit_predict`` against ``fit().predict()``, ``predict``,
``decision_function``, ``score_samples`` and ``score_columns`` on rows with
missing cells, unseen categories (refused, or missing cells with
``handle_unknown="ignore"``), rows missing in every cell and duplicates;
``multiple_imputations`` with m of 0, 1, 2.0, True, None or 10**12 (refused
by name, the generator untouched), draws that differ from each other and
from call to call, in the fitted dtypes (categorical, Int64, boolean, bool);
``random_state`` of every refused type; tables of 1 to 3 rows, a
categorical column of one level, every column categorical, every row
identical, column names that are empty, hold a newline or are not ASCII,
2,000 columns of 5 rows, through fit, transform, score, sample, impute and
detect; ``score_samples`` with ``n_importance`` of 1, 5 and 50 on a mixed
table with missing cells (finite, equal for a row alone, in its batch or
in another order, and ``score`` their mean).

Each family below failed once (see the commit that added its tests):

- **A table with no observed cell** (VAEImputer): fitting on rows that
  are missing in every column (one all-missing row, a column of NaN beside
  a column of None) failed with scikit-learn's "Found array with 0
  feature(s) (shape=(3, 0))", a shape the caller never gave: every column
  was dropped as empty and the VAE was handed nothing. Now the fit is
  refused naming the cause, and a fitted imputer keeps its state; ``skvae
  impute`` on a file of empty cells said "this model does not accept
  missing values" (its refusal translation matched the word "missing").
- **A column kept empty** (VAEImputer, ``keep_empty_features=True``): a
  column missing in every row of fit was set to 0 in every row at
  transform, its observed cells too (SimpleImputer and IterativeImputer,
  which the docstring cites, fill only the missing ones), and a boolean
  column's zeros came back int64, the one dtype lost (Int64 and float32
  kept theirs): pandas refused 0 in it and the column was widened to object
  and inferred as integers. Now only the missing cells are filled, with 0
  in the column's own dtype where that dtype holds 0 as itself (False in a
  boolean column), and 0 as a number only where it does not (labels).
"""

import copy
import io

import numpy as np
import pandas as pd
import pytest

from skvae import VAEImputer
from skvae._cli import main

from _equality import assert_same

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(latent_dim=2, hidden_layer_sizes=(4,), max_iter=3, batch_size=16, random_state=0)


# --- a table with no observed cell ---------------------------------------------------------

_NOTHING_OBSERVED = {
    "ndarray": np.full((3, 2), np.nan),
    "frame": pd.DataFrame({"a": [np.nan] * 3, "b": [None] * 3}),
    "one row": pd.DataFrame({"a": [np.nan], "b": pd.Categorical([None], categories=["x"])}),
}


@pytest.mark.parametrize("keep_empty_features", [False, True])
@pytest.mark.parametrize("method", ["fit", "fit_transform"])
@pytest.mark.parametrize("case", sorted(_NOTHING_OBSERVED))
def test_an_imputer_refuses_a_table_with_no_observed_cell_by_name(case, method, keep_empty_features):
    X = _NOTHING_OBSERVED[case]
    with pytest.raises(ValueError, match="no observed value in any column"):
        getattr(VAEImputer(keep_empty_features=keep_empty_features, **TINY), method)(X)


def test_a_refused_fit_on_a_table_with_no_observed_cell_leaves_a_fitted_imputer_as_it_was():
    imputer = VAEImputer(**TINY).fit(pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [2.0, 4.0, np.nan]}))
    before = copy.deepcopy(imputer.__getstate__())
    with pytest.raises(ValueError, match="no observed value in any column"):
        imputer.fit(pd.DataFrame({"a": [np.nan] * 3, "b": [np.nan] * 3}))
    assert_same(imputer.__getstate__(), before)




def test_impute_on_a_file_of_empty_cells_says_so(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("a,b\n,\n,\n,\n")
    stdout, stderr = io.StringIO(), io.StringIO()
    status = main(["impute", str(path), "--max-iter", "2", "--out", str(tmp_path / "out.csv")],
                  stdout=stdout, stderr=stderr)
    assert status == 1
    assert "every cell is empty: there is nothing to learn the imputations from" in stderr.getvalue()
    assert "does not accept missing values" not in stderr.getvalue()
    assert not (tmp_path / "out.csv").exists()


# --- a column kept empty: its observed cells kept, its zeros in its own dtype --------------

@pytest.mark.parametrize("sample_posterior", [False, True])
@pytest.mark.parametrize("dtype, given, zero", [("boolean", True, False), ("Int64", 7, 0), ("float32", 2.5, 0.0),
                                                ("UInt8", 3, 0), ("float64", -1.5, 0.0)])
def test_a_kept_empty_column_keeps_its_observed_cells_and_is_zero_in_its_own_dtype(dtype, given, zero,
                                                                                 sample_posterior):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"a": rng.normal(size=20), "b": rng.choice(["x", "y"], 20),
                          "e": pd.Series([None] * 20, dtype=object)})
    imputer = VAEImputer(keep_empty_features=True, sample_posterior=sample_posterior, **TINY).fit(table)
    # The column empty at fit holds values in some rows now.
    X = table.assign(e=pd.Series([given if i % 3 == 0 else None for i in range(20)], dtype=object).astype(dtype))
    observed = X["e"].notna().to_numpy()
    for out in [imputer.transform(X), *imputer.multiple_imputations(X, 2)]:
        assert out["e"].dtype == X["e"].dtype
        values = out["e"].astype(object).to_numpy()
        assert (values[observed] == given).all()
        assert all(value == zero and type(value) is type(pd.Series([zero], dtype=dtype).astype(object)[0])
                   for value in values[~observed])


def test_a_kept_empty_column_of_an_array_keeps_its_observed_cells():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=20), np.full(20, np.nan)])
    imputer = VAEImputer(keep_empty_features=True, **TINY).fit(X)
    X[::3, 1] = 4.0
    for out in [imputer.transform(X), *imputer.multiple_imputations(X, 2)]:
        np.testing.assert_array_equal(out[:, 1], np.where(np.arange(20) % 3 == 0, 4.0, 0.0))
