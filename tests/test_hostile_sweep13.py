"""Hostile use, thirteenth sweep: polars and pyarrow columns with nulls, one-column inputs, odd conditions, the CLI.

Swept and found sound: polars Int8/Int16/UInt8/UInt64/Float32/Boolean/Utf8/
Categorical/Enum columns with and without nulls through fit, transform,
sample, inverse_transform, VAEImputer and a save/load round trip (then
transform with polars and with pandas input); polars Date, Datetime (with a
time zone), Duration, Decimal, List, Array, Struct, Object, Time, Binary and
Null-dtype columns refused naming the column; zero-row frames (scikit-learn's
"0 sample(s)"), one-row frames; a LazyFrame at every entry point (refused,
told ``.collect()``); ``set_output(transform="polars")``, also after a
save/load; pandas: duplicate, tuple and MultiIndex column labels refused by
name, integer labels kept in every output, columns named like internal
names (``__index_level_0__``, ``index``, ``nan``, ``""``, ``x0``, ...);
string, duplicate, DatetimeIndex and reversed indexes kept by transform
(pandas output), inverse_transform, ``sample(given=DataFrame)`` and the
imputer (observed cells kept); sparse columns; ``attrs``; ``pd.NA`` in
object and Float64 columns; nullable UInt64 beyond 2**63; ``sample(given=)``
with unknown columns, text for a number, unseen categories, None/NaN/pd.NA
values in a dict, infinity, a DataFrame with more, fewer or no rows, a
DataFrame of NaN (all free), arrays for a DataFrame model, dicts of lists;
the CLI with BOM, semicolon and tab files, quoted newlines, Latin-1, header
only, blank lines, an empty column, duplicate headers, 3,000 columns, ragged
rows, NUL bytes, ``--likelihood`` with unknown columns or kinds, ``--out`` a
folder, a missing folder, the input itself (also via a symlink) or the
model, and model files that are CSV text, junk, empty or a folder.

Each family below failed once (see the commit that added its tests):

- **Integer and boolean columns with nulls of another library**
  (``skvae._input._nullable_integers_kept``): ``to_pandas()`` of a polars
  DataFrame or pyarrow table makes such a column float64 (booleans object),
  so a UInt64 column's observed 2**63 + 14 came back from ``VAEImputer`` as
  2**63 (an observed cell changed, and without the warning an integer column
  gets), and integers were sampled and imputed as floats. They are now read
  in pandas' nullable dtypes (``UInt64``, ``Int8``, ``boolean``), as a pandas
  DataFrame of those dtypes is.
- **One column of another library** (``skvae._input._refuse_series``): a
  polars Series failed with ``'Float64' object has no attribute 'kind'``
  from inside pandas; a pyarrow Array or ChunkedArray got scikit-learn's
  reshape advice. Each is refused naming X (or ``given``) and its type.
- **A Decimal (or Fraction, date) condition** (``skvae._conditional.condition_table``):
  ``sample(given={"a": Decimal("1.5")})`` was accepted (converted to the
  fitted float), while ``Decimal("1.1")`` was refused and fit and transform
  refuse Decimal cells (sweep 10); conditions now go through the same
  refusal in a column of numbers, naming the column and the type (a
  categorical column still answers with its own "unseen category" or
  "cannot be a category", sweep 5).

Found, not changed: ``given={"i": Decimal("3")}`` on a column of few
integers modelled as categories is taken as the label 3 (Decimal(3) == 3
and hashes alike, as in any dict lookup); ``given={"a": True}`` on a numeric column and
``given={"b": 1}`` on a boolean column are accepted (True == 1 in Python and
NumPy, and transform accepts booleans in a numeric column); a column
label mix of int and str gets scikit-learn's own TypeError; a polars Int128
column is refused as a failed conversion (pyarrow cannot read it), naming X
but not the column; ``impute`` writes comma-separated output for a
semicolon file (the documented output format); an unwritable ``--out``
could not be probed as root.
"""

import decimal
import fractions

import numpy as np
import pandas as pd
import pytest

import skvae
from skvae import VAEImputer, VAEOutlierDetector, VAETransformer

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")

TINY = dict(latent_dim=2, hidden_layer_sizes=(8,), max_iter=2, random_state=0, device="cpu")
BIG = [None if k in (1, 5) else 2**63 + 7 * k for k in range(20)]
INTS = [None if k in (1, 5) else k % 4 for k in range(20)]
BOOLS = [None if k in (1, 5) else bool(k % 2) for k in range(20)]


def _polars():
    return pl.DataFrame({"f": np.linspace(0, 1, 20), "i": pl.Series(INTS, dtype=pl.Int8),
                         "b": pl.Series(BOOLS, dtype=pl.Boolean), "u": pl.Series(BIG, dtype=pl.UInt64)})


def _arrow():
    return pa.table({"f": np.linspace(0, 1, 20), "i": pa.array(INTS, pa.int8()), "b": pa.array(BOOLS),
                     "u": pa.array(BIG, pa.uint64())})


@pytest.mark.parametrize("make", [_polars, _arrow], ids=["polars", "pyarrow"])
def test_nullable_integers_of_other_libraries_keep_their_cells(make):
    X = make()
    with pytest.warns(UserWarning, match="'u' holds integers beyond 2\\*\\*53"):
        out = VAEImputer(**TINY).fit_transform(X)
    assert str(out["i"].dtype) == "Int8" and str(out["b"].dtype) == "boolean" and str(out["u"].dtype) == "UInt64"
    observed = [k for k in range(20) if BIG[k] is not None]
    assert [int(out["u"].iloc[k]) for k in observed] == [BIG[k] for k in observed]
    assert [bool(out["b"].iloc[k]) for k in observed] == [BOOLS[k] for k in observed]
    with pytest.warns(UserWarning):
        vae = VAETransformer(**TINY).fit(X)
    drawn = vae.sample(3, random_state=0)
    assert str(drawn["i"].dtype) == "Int8" and str(drawn["b"].dtype) == "boolean"


def test_nullable_conversion_keeps_a_stored_index():
    frame = pd.DataFrame({"f": np.linspace(0, 1, 4), "i": pd.array([1, None, 3, 2], dtype="Int16")},
                         index=["w", "x", "y", "z"])
    out = VAEImputer(**TINY).fit_transform(pa.Table.from_pandas(frame))
    assert list(out.index) == ["w", "x", "y", "z"]
    assert out["i"].tolist()[::2] == [1, 3] and str(out["i"].dtype) == "Int16"


ONE_COLUMN = {"polars Series": lambda: pl.Series("a", [1.0, 2.0, 3.0]),
              "pyarrow ChunkedArray": lambda: pa.chunked_array([[1.0, 2.0, 3.0]]),
              "pyarrow Array": lambda: pa.array([1.0, 2.0, 3.0])}


@pytest.fixture(scope="module")
def fitted():
    X = pd.DataFrame({"a": np.linspace(-1, 1, 24), "n": np.arange(24.0) ** 2, "i": np.arange(24) % 4,
                      "c": list("xyz") * 8})
    return X, VAETransformer(**TINY).fit(X)


@pytest.mark.parametrize("kind", list(ONE_COLUMN))
def test_one_column_of_another_library_is_refused_by_name(kind, fitted):
    X, vae = fitted
    before = vae.transform(X)
    column = ONE_COLUMN[kind]()
    for call in (lambda: VAETransformer(**TINY).fit(column), lambda: vae.transform(column),
                 lambda: vae.inverse_transform(column), lambda: VAEImputer(**TINY).fit(column),
                 lambda: VAEOutlierDetector(**TINY).fit(column)):
        with pytest.raises(ValueError, match=f"X is a {kind.split()[0]} .*one column.*2-D table"):
            call()
    with pytest.raises(ValueError, match="given is a .*one column"):
        vae.sample(3, given=column)
    np.testing.assert_array_equal(vae.transform(X), before)


@pytest.mark.parametrize("value", [decimal.Decimal("1.5"), decimal.Decimal("3"), fractions.Fraction(1, 2),
                                   np.datetime64("2020-01-01")], ids=repr)
@pytest.mark.parametrize("column", ["a", "n"])
@pytest.mark.parametrize("as_frame", [False, True])
def test_a_condition_of_a_type_fit_refuses_is_refused(value, column, as_frame, fitted):
    X, vae = fitted
    before = vae.transform(X)
    state = np.random.RandomState(5)
    where = state.get_state()[1].copy()
    given = pd.DataFrame({column: pd.Series([value] * 3, dtype=object)}) if as_frame else {column: value}
    with pytest.raises(ValueError, match=f"Column '{column}' holds values of type {type(value).__name__}"):
        vae.sample(3, given=given, random_state=state)
    np.testing.assert_array_equal(state.get_state()[1], where)
    np.testing.assert_array_equal(vae.transform(X), before)


def test_plain_conditions_still_accepted(fitted):
    _, vae = fitted
    out = vae.sample(3, given={"a": 0.5, "i": 2, "c": "y"}, random_state=0)
    assert out["a"].tolist() == [0.5] * 3 and out["i"].tolist() == [2] * 3 and out["c"].tolist() == ["y"] * 3
    out = vae.sample(2, given=pd.DataFrame({"c": ["x", None]}, dtype=object), random_state=0)
    assert out["c"].iloc[0] == "x"


def test_polars_model_saved_and_loaded_reads_pandas_and_polars(tmp_path):
    X = _polars()
    with pytest.warns(UserWarning):
        vae = VAETransformer(**TINY).set_output(transform="polars").fit(X)
    path = tmp_path / "m.skvae"
    skvae.save(vae, path)
    loaded = skvae.load(path)
    codes = loaded.transform(X)
    assert isinstance(codes, pl.DataFrame)
    np.testing.assert_allclose(codes.to_numpy(), loaded.transform(X.to_pandas()).to_numpy())
    np.testing.assert_allclose(codes.to_numpy(), vae.transform(X).to_numpy())
