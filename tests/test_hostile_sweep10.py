"""Hostile input, tenth sweep: polars and pyarrow faces, Decimal cells, the imputer's overflow, wide integers.

Swept: polars and pyarrow tables through the faces (fit, transform,
``sample(given=...)``, the imputer, a save/load round trip), including
Enum/Categorical, nulls, and types skvae cannot model (Decimal, List,
Duration: refused naming the column and its type, as before); a pandas
object column of ``decimal.Decimal``; ``VAEImputer`` on rows its networks
overflow on; integer columns beyond float64's exact range, float16,
nullable and timezone-aware columns.

Each family below failed once (see the commit that added its tests):

- **A polars LazyFrame** (``skvae._input._refuse_lazy_frame``): it reached
  NumPy, whose "setting an array element with a sequence" named neither X
  nor the LazyFrame. Decided: refused (a TypeError naming X, the LazyFrame
  and ``.collect()``), not collected: collecting runs the caller's whole
  query as a side effect of a call that reads a table.
- **Decimal cells** (``skvae._schema._refuse_unmodelled_cells``): fit
  refused a pandas object column of ``Decimal`` ("holds values of type
  Decimal"), but transform accepted the same column, since
  ``pd.to_numeric`` reads Decimals. Decided: refused everywhere, naming the
  column, the type and the row, with the advice ``.astype(float)``.
- **VAEImputer's overflow** (``skvae._conditional.overflowing_cells``):
  ``transform`` on a row holding 1e308 after a fit on values near 0 said
  "overflowed on 2 of 40 rows (the first is row 3)", naming no column. It
  now names the overflowing rows, the columns whose observed values lie
  beyond their fitted ranges, and the farthest value with its range; a
  refused call leaves the imputer's draws where they were.
- **Integers beyond 2**53** (``skvae._schema._warn_inexact_integers``): an
  int64 column at int64's maximum or a uint64 column near 2**63 was fitted
  and decoded as integers of its dtype, but rounded to the nearest float64
  (2**63 + 5 came back as 2**63) without a word. Decided: still fitted,
  with a UserWarning naming the column, an example value and its rounding,
  and the ways to keep every digit (an offset, or categories). Decoded
  values keep the column's integer dtype, as before.

Probed and found right (tests below pin them): polars Enum and nulls,
polars Decimal/List/Duration refused naming the column, outputs as pandas
DataFrames, float16 and nullable ``Int64`` kept in their dtypes,
timezone-aware datetimes refused naming the column.
"""

import decimal
import warnings

import numpy as np
import pandas as pd
import pytest

from skvae import VAEImputer, VAETransformer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(latent_dim=2, hidden_layer_sizes=(4,), max_iter=2, batch_size=16, random_state=0)


def _frame(n=40, seed=0):
    rng = np.random.RandomState(seed)
    return pd.DataFrame({"a": rng.randn(n), "b": rng.randn(n)})


# --- polars ----------------------------------------------------------------------------------

def test_polars_lazy_frame_is_refused_naming_collect_and_changes_nothing():
    pl = pytest.importorskip("polars")
    df = _frame()
    model = VAETransformer(**TINY).fit(df)
    before = model.transform(df)
    with pytest.raises(TypeError, match=r"LazyFrame.*collect\(\)"):
        model.transform(pl.from_pandas(df).lazy())
    with pytest.raises(TypeError, match=r"LazyFrame.*collect\(\)"):
        model.partial_fit(pl.from_pandas(df).lazy())
    with pytest.raises(TypeError, match=r"LazyFrame"):
        VAETransformer(**TINY).fit(pl.from_pandas(df).lazy())
    np.testing.assert_array_equal(model.transform(df), before)


def test_polars_collected_frame_with_enum_and_nulls_fits_and_comes_back_as_pandas():
    pl = pytest.importorskip("polars")
    rng = np.random.RandomState(1)
    frame = pl.DataFrame({
        "x": [None if i % 7 == 0 else float(v) for i, v in enumerate(rng.randn(40))],
        "c": pl.Series(["u", "v", "w", "u"] * 10, dtype=pl.Enum(["u", "v", "w"])),
    })
    model = VAETransformer(**TINY).fit(frame)
    out = model.sample(5, random_state=0)
    assert isinstance(out, pd.DataFrame)
    assert set(out["c"].astype(str)) <= {"u", "v", "w"}
    assert np.isfinite(model.transform(frame)).all()


@pytest.mark.parametrize("column", ["decimal", "list", "duration"])
def test_polars_unmodellable_columns_are_refused_naming_the_column(column):
    pl = pytest.importorskip("polars")
    series = {
        "decimal": lambda: pl.Series("odd", [decimal.Decimal("1.5")] * 40),
        "list": lambda: pl.Series("odd", [[1, 2]] * 40),
        "duration": lambda: pl.Series("odd", list(range(40))).cast(pl.Duration),
    }[column]()
    frame = pl.from_pandas(_frame()).with_columns(series)
    with pytest.raises(ValueError, match="Column 'odd'"):
        VAETransformer(**TINY).fit(frame)


# --- Decimal cells: refused at fit and at transform ------------------------------------------

def _with_decimals(df):
    out = df.copy()
    out["a"] = [decimal.Decimal(str(round(v, 3))) for v in out["a"]]
    return out


def test_decimal_cells_are_refused_at_fit_and_at_transform_naming_the_column():
    df = _frame()
    with pytest.raises(ValueError, match="Column 'a' holds values of type Decimal"):
        VAETransformer(**TINY).fit(_with_decimals(df))
    model = VAETransformer(**TINY).fit(df)
    before = model.transform(df)
    with pytest.raises(ValueError, match=r"Column 'a' holds values of type Decimal .*row 0.*astype\(float\)"):
        model.transform(_with_decimals(df))
    with pytest.raises(ValueError, match="Column 'a' holds values of type Decimal"):
        model.score_samples(_with_decimals(df))
    np.testing.assert_array_equal(model.transform(df), before)


def test_decimal_cells_are_refused_by_the_imputer_at_transform():
    df = _frame()
    imputer = VAEImputer(**TINY).fit(df)
    with pytest.raises(ValueError, match="Column 'a' holds values of type Decimal"):
        imputer.transform(_with_decimals(df))


def test_numbers_as_text_and_python_numbers_in_object_columns_still_transform():
    df = _frame()
    model = VAETransformer(**TINY).fit(df)
    objects = df.astype(object)
    np.testing.assert_allclose(model.transform(objects), model.transform(df))


# --- VAEImputer's overflow names the columns ---------------------------------------------------

def test_imputer_overflow_names_the_columns_and_rows_and_keeps_its_draws():
    df = _frame()
    imputer = VAEImputer(sample_posterior=True, **TINY).fit(df)
    hostile = df.copy()
    hostile.iloc[3, 0] = 1e308
    hostile.iloc[5, 1] = -1e308
    hostile.iloc[7, 0] = np.nan
    state = imputer._draws.get_state()
    with pytest.raises(ValueError) as caught:
        imputer.transform(hostile)
    message = str(caught.value)
    assert "'a'" in message and "'b'" in message
    assert "rows 3, 5" in message
    assert "fitted on" in message
    after = imputer._draws.get_state()
    assert all(np.array_equal(x, y) for x, y in zip(state, after))


# --- integers beyond 2**53 -------------------------------------------------------------------

@pytest.mark.parametrize("values", [
    np.array([2**63 + i for i in range(40)], dtype=np.uint64),
    np.array([np.iinfo(np.int64).max - i for i in range(40)], dtype=np.int64),
    np.array([np.iinfo(np.int64).min + i for i in range(40)], dtype=np.int64),
], ids=["uint64-near-2**63", "int64-max", "int64-min"])
def test_integers_float64_cannot_hold_warn_naming_the_column_and_decode_in_their_dtype(values):
    df = pd.DataFrame({"ids": values, "b": np.random.RandomState(0).randn(40)})
    with pytest.warns(UserWarning, match=r"Column 'ids' holds integers beyond 2\*\*53"):
        model = VAETransformer(**TINY).fit(df)
    assert model.sample(3, random_state=0)["ids"].dtype == values.dtype
    assert model.inverse_transform(model.transform(df))["ids"].dtype == values.dtype


@pytest.mark.parametrize("cells", [
    [2**70 + i for i in range(40)],
    [-(2**60)] + [1.5] * 39,
    [None, 2**53 + 1] + list(range(38)),
], ids=["python-ints-past-int64", "a-big-int-among-floats", "with-a-missing-cell"])
def test_object_columns_of_python_integers_float64_cannot_hold_warn_too(cells):
    # Object columns reach the model as float64 like int64 columns: the same rounding, the same warning.
    df = pd.DataFrame({"ids": pd.Series(cells, dtype=object), "b": np.random.RandomState(0).randn(40)})
    with pytest.warns(UserWarning, match=r"Column 'ids' holds integers beyond 2\*\*53 \(for example -?\d+\)"):
        VAETransformer(**TINY).fit(df)


def test_object_columns_within_float64s_exact_range_or_of_text_do_not_warn():
    df = pd.DataFrame({"n": pd.Series([2**53 - i for i in range(40)], dtype=object),
                       "t": pd.Series(["x", "y"] * 20, dtype=object), "f": pd.Series([1e300] * 40, dtype=object)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        VAETransformer(**TINY).fit(df)


def test_integers_within_float64s_exact_range_do_not_warn():
    df = pd.DataFrame({"n": np.arange(40, dtype=np.int64) + 2**52, "m": np.arange(40, dtype=np.uint64)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        VAETransformer(**TINY).fit(df)


def test_float16_and_nullable_integers_keep_their_dtypes_and_tz_dates_are_refused():
    rng = np.random.RandomState(0)
    df = pd.DataFrame({"h": rng.randn(40).astype(np.float16),
                       "n": pd.array([1, 2, None, 4] * 10, dtype="Int64")})
    model = VAETransformer(**TINY).fit(df)
    out = model.sample(4, random_state=0)
    assert out["h"].dtype == np.float16 and str(out["n"].dtype) == "Int64"
    tz = pd.DataFrame({"t": pd.date_range("2020", periods=40, tz="UTC"), "b": rng.randn(40)})
    with pytest.raises(ValueError, match="Column 't'"):
        VAETransformer(**TINY).fit(tz)
