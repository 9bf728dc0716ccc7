"""Hostile input, thirtieth sweep: output fidelity and round trips (``sample``, ``inverse_transform``, VAEImputer).

Swept and found sound: ``sample()``, ``sample(with_missing=True)``,
``sample(given=...)``, ``inverse_transform(transform(X))`` (from an array and
from ``set_output(transform="pandas")``'s DataFrame) and VAEImputer's
``transform`` on a DataFrame of float64, float32, int64, int8, uint8, Int8,
Int64, Float32, boolean, bool, string, pandas 3's ``str``, object and
ordered category columns (with an unused level) keep each column's dtype,
categories and their order, the column labels (integers too) and their
order; the transform outputs keep the input's row index and its name (a
named string index); the imputer keeps the columns' own name and its
``add_indicator`` columns are bool; the missing cells of
``with_missing=True`` are NaN in float and category columns and ``pd.NA``
in Int64, boolean and string ones, as the table wrote them; draws and
decoded rows keep to each column's observed range (2000 draws and a
transform scaled by 50 never left it; int8/uint8/Int8 at their extremes)
and precision (1 or 2 decimals, mixed 0.001/100.5/7.25 levels, quarter
steps on 1e15, whole floats with NaN, and 1e-6 values left unrounded);
``given`` cells come back exactly (0.123456789; 0.1 in float32 as float32's
0.1) and in the fitted dtype, and values the dtype cannot hold (1000 for
int8, -5 or 300 for uint8, 200 for Int8, 2.5 for an integer, 1e40 for
float32, also in a DataFrame of conditions) are refused naming the column,
the dtype and the values it holds; samples (with holes too) fit a new
estimator; observed cells pass the imputer unchanged in value and type
(int64, Int64 and objects beyond 2**60, uint64 beyond 2**63, float16);
constant columns (Int64, bool, float, string, category, object) with
holes; ``multiple_imputations`` keeps dtypes and a string index; a
DataFrame of conditions keeps its named index; integer column labels in
any order. VAEImputer with ``set_output(transform="pandas")`` names
integer-labelled columns x0, x1, ... as scikit-learn's SimpleImputer does
(its default output keeps the labels): scikit-learn's convention, kept.

Defect found and fixed:

- **An object column's missing cells in another representation**
  (``skvae._column_types.missing_cell_marker``, the schema's
  ``missing_cell`` entry, ``skvae._schema._decode_column``):
  ``sample(with_missing=True)`` gave an object column's holes as None where
  its values decode as categories and as NaN where they decode as numbers,
  whatever the table held: integers held as objects with None holes came
  back with NaN ones, text with NaN holes (``read_csv`` before pandas 3)
  with None, and ``pd.NA`` holes as None. Decided: the fitted column's
  holes, where written one way (None, NaN or ``pd.NA``), are how its
  sampled holes are written; the schema records it only where it differs
  from the decoding's own, so schemas of columns that agree (and files
  saved before) are unchanged. A column that mixes them keeps the
  decoding's own.
- **Given cells of an object column of numbers in another type**
  (``skvae._conditional._as_object_numbers``): such a column's sampled
  cells are Python ints (floats, bools) of one type, but ``given`` cells
  came back as given: ``"3"`` and ``"1.5"`` as text amid numbers, 3.0 a
  float amid ints, ``np.int64(3)`` and ``np.True_`` NumPy scalars amid
  Python ones, 1 amid booleans. Decided: each comes back as the number the
  schema read it as (its value unchanged, as ``transform`` reads it), of the
  column's cell type; a fraction in a column of integers stays a float, and
  an integer beyond 2**53 stays exact.

- **A float32 array's columns lost their decimals**
  (``skvae._schema.TableSchema.fit_with_raw_values``): an array's columns
  are recorded as float64, so a float32 array of values written with 1
  decimal (0.3 held as 0.30000001192...) was found to have none, and the
  imputer's fills and the samples came back unrounded (0.2971818) where a
  float64 array's, or a DataFrame's float32 column's, came back at 1
  decimal. The array's own float type now decides how its values are read
  for decimals, as a DataFrame column's dtype does (a float32 torch tensor
  too; a list of such floats is float64 values, read as they are).

Found but LEFT:

- A float16 array has the same defect, but the input checks read it as
  float64 before the schema sees it (float32 arrays pass as float32):
  carrying its dtype there is a change to the input path, shared with
  another helper's family this round.

- A plain NumPy array is fitted as float64 columns: ``sample`` on an int
  or bool array gives float64 (whole numbers, within range), while
  ``inverse_transform`` gives its input's float dtype (float32 for float32
  codes). Long-standing, tested elsewhere (test_gpu: float64 samples);
  changing the returned dtype of arrays is a change of API for a later round.
- ``sample`` and ``inverse_transform`` drop the columns' own name
  (``df.columns.name``) that VAEImputer keeps; scikit-learn's
  ``set_output`` drops it too, and no value is lost.
"""

import numpy as np
import pandas as pd
import pytest

import skvae
from skvae import VAEImputer, VAETransformer

TINY = dict(max_iter=2, hidden_layer_sizes=(8,), latent_dim=2, random_state=0)


def _table(holes, n=30):
    """A table of an object column of text, of integers and of booleans, each with `holes` in every fourth row."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "text": pd.Series(rng.choice(["a", "b", "c"], n), dtype=object),
        "ints": pd.Series([int(v) for v in rng.integers(0, 40, n)], dtype=object),
        "flags": pd.Series([bool(v) for v in rng.random(n) < 0.5], dtype=object),
        "x": rng.normal(size=n),
    })
    for name in ("text", "ints", "flags"):
        frame.loc[frame.index % 4 == 1, name] = holes
        frame[name] = frame[name].astype(object)
    return frame


def _holes(series):
    """The distinct kinds of the missing cells of `series`: 'None', 'nan' or 'NA'."""
    kinds = set()
    for value in series[series.isna()]:
        kinds.add("None" if value is None else "NA" if value is pd.NA else "nan")
    return kinds


@pytest.mark.parametrize("holes, kind", [(None, "None"), (np.nan, "nan"), (pd.NA, "NA")])
def test_sampled_holes_of_object_columns_are_written_as_the_table_wrote_them(holes, kind):
    """Each object column's sampled holes are the fitted table's (before: None for text, NaN for numbers)."""
    table = _table(holes)
    for name in ("text", "ints", "flags"):
        assert _holes(table[name]) == {kind}
    model = VAETransformer(**TINY).fit(table)
    drawn = model.sample(200, random_state=0, with_missing=True)
    for name in ("text", "ints", "flags"):
        assert drawn[name].dtype == object
        assert drawn[name].isna().any(), name
        assert _holes(drawn[name]) == {kind}, name
    # The observed cells keep their Python types.
    assert all(isinstance(v, int) for v in drawn["ints"].dropna())
    assert all(isinstance(v, bool) for v in drawn["flags"].dropna())
    # Samples with their holes fit a new model, which samples them alike.
    refit = VAETransformer(**TINY).fit(drawn)
    assert _holes(refit.sample(200, random_state=1, with_missing=True)["text"]) == {kind}


def test_holes_survive_save_and_load(tmp_path):
    """The record of how holes were written is saved with the model (and checked on load)."""
    model = VAETransformer(**TINY).fit(_table(np.nan))
    path = tmp_path / "model.skvae"
    skvae.save(model, path)
    loaded = skvae.load(path)
    drawn = loaded.sample(200, random_state=0, with_missing=True)
    assert _holes(drawn["text"]) == {"nan"} and _holes(drawn["ints"]) == {"nan"}
    pd.testing.assert_frame_equal(drawn, model.sample(200, random_state=0, with_missing=True))


def test_the_schema_records_holes_only_where_decoding_would_write_them_otherwise():
    """Text with None holes and numbers with NaN holes decode so already: nothing is recorded for them."""
    table = _table(None)
    table["ints"] = table["ints"].where(table["ints"].notna(), np.nan).astype(object)
    model = VAETransformer(**TINY).fit(table)
    columns = {column["name"]: column for column in model._model.schema.columns}
    assert "missing_cell" not in columns["text"]
    assert "missing_cell" not in columns["ints"]
    assert columns["flags"].get("missing_cell") in (None, "None")


def test_a_column_mixing_holes_keeps_the_decodings_own():
    """None and NaN in one column: no one way to write them, so the decoding's (None for text) stays."""
    table = _table(None)
    table.loc[2, "text"] = np.nan
    assert _holes(table["text"]) == {"None", "nan"}
    model = VAETransformer(**TINY).fit(table)
    assert _holes(model.sample(200, random_state=0, with_missing=True)["text"]) == {"None"}


def test_imputer_and_inverse_transform_leave_no_holes_in_such_columns():
    """The record only writes holes: the imputer's fills and decoded rows have none, in the fitted dtypes."""
    table = _table(np.nan)
    filled = VAEImputer(**TINY).fit_transform(table)
    assert not filled.isna().any().any()
    assert (filled.dtypes == table.dtypes).all()
    model = VAETransformer(**TINY).fit(table)
    decoded = model.inverse_transform(model.transform(table))
    assert not decoded.isna().any().any()
    assert all(isinstance(v, int) for v in decoded["ints"])


@pytest.mark.parametrize("change, words", [
    ({"missing_cell": "null"}, "missing_cell"),
    ({"missing_cell": None}, "missing_cell"),
    ({"missing_cell": "nan", "dtype": "float64"}, "not object"),
])
def test_a_tampered_record_of_holes_is_refused_on_load(change, words):
    """A saved model's record is one of the names it writes, on an object column; anything else is refused."""
    from skvae._state import InvalidState, _schema_column

    model = VAETransformer(**TINY).fit(_table(np.nan))
    column = dict(next(c for c in model._model.schema.columns if c["name"] == "text"))
    assert column["missing_cell"] == "nan"
    _schema_column(column, "text")  # as saved: accepted
    column.update(change)
    with pytest.raises(InvalidState, match=words):
        _schema_column(column, "text")


def _object_numbers():
    """A model of object columns of integers (with a hole), floats and booleans, all modelled as numbers."""
    rng = np.random.default_rng(6)
    n = 30
    table = pd.DataFrame({
        "ints": pd.Series([int(v) for v in rng.integers(0, 30, n)], dtype=object),
        "floats": pd.Series([float(v) for v in rng.normal(size=n).round(2)], dtype=object),
        "flags": pd.Series([bool(v) for v in rng.random(n) < 0.5], dtype=object),
    })
    table.loc[2, "ints"] = None
    model = VAETransformer(likelihood={"flags": "bernoulli"}, **TINY).fit(table)
    assert [column["kind"] for column in model._model.schema.columns] == ["gaussian", "gaussian", "bernoulli"]
    return model


@pytest.mark.parametrize("name, given, expected", [
    ("ints", np.int64(3), 3), ("ints", 3.0, 3), ("ints", "3", 3), ("ints", True, 1), ("ints", 2.5, 2.5),
    ("ints", 2**60 + 1, 2**60 + 1),
    ("floats", "1.5", 1.5), ("floats", np.float32(0.5), 0.5), ("floats", 2, 2.0),
    ("flags", np.True_, True), ("flags", 1, True), ("flags", 0.0, False),
])
def test_given_cells_of_object_number_columns_come_back_as_the_columns_cells(name, given, expected):
    """A given cell comes back as the number it reads as, of the type of its column's sampled cells.

    Before: as given ("3" as text amid ints, 3.0 a float amid ints, NumPy
    scalars amid Python ones), so one object column held several types.
    """
    model = _object_numbers()
    drawn = model.sample(3, given={name: given}, random_state=0)
    free = model.sample(50, random_state=0)[name].dropna()
    cell_types = {type(value) for value in free}
    assert len(cell_types) == 1
    for value in drawn[name]:
        assert value == expected and type(value) is type(expected)
    if expected != 2.5:
        # A fraction in a column of integers is a float; every other given cell is of the column's own type.
        assert cell_types == {type(expected)}


def test_given_data_frame_cells_of_an_object_column_of_integers():
    """A DataFrame of conditions (Int64, float, NumPy ints held as objects) gives Python ints, free cells drawn."""
    model = _object_numbers()
    for conditions in (pd.array([4, None], dtype="Int64"), [4.0, np.nan],
                       pd.Series([np.int64(4), None], dtype=object)):
        drawn = model.sample(2, given=pd.DataFrame({"ints": conditions}), random_state=0)["ints"]
        assert drawn[0] == 4 and type(drawn[0]) is int
        assert type(drawn[1]) is int


@pytest.mark.parametrize("dtype", [np.float32])
def test_a_narrow_float_array_keeps_its_columns_decimals(dtype):
    """A float32 array of values written with 1 decimal: fills and samples at 1 decimal, as for float64.

    (A float16 array is LEFT: it is read as float64 before the schema sees
    it, see the module docstring.)

    Before: an array's columns are recorded as float64, so 0.3 held as
    float32 (0.30000001192...) wrote no count of decimals; the imputer's
    fills and the samples came back unrounded (0.2971818), while a float64
    array's and a DataFrame's float32 column's came back at 1 decimal.
    """
    rng = np.random.default_rng(9)
    written = np.column_stack([rng.normal(size=30).round(1), rng.integers(0, 9, 30).astype(float)])
    written[[1, 2], 0] = np.nan
    X = written.astype(dtype)
    filled = VAEImputer(**TINY).fit_transform(X)
    assert filled.dtype == dtype
    fills = filled[[1, 2], 0].astype(np.float64)
    np.testing.assert_array_equal(fills, np.round(fills, 1).astype(dtype).astype(np.float64))
    model = VAETransformer(**TINY).fit(X)
    assert model._model.schema.columns[0]["decimals"] == 1
    drawn = model.sample(50, random_state=0)[:, 0]
    np.testing.assert_array_equal(drawn, np.round(drawn, 1))
    # A float64 array of the same values agrees.
    assert VAETransformer(**TINY).fit(written)._model.schema.columns[0]["decimals"] == 1


def test_a_measured_float32_array_is_not_rounded_to_coarse_steps():
    """float32 values measured (not written) keep float32's own resolution, no coarser: draws stay distinct."""
    rng = np.random.default_rng(10)
    X = rng.normal(size=(30, 2)).astype(np.float32)
    model = VAETransformer(**TINY).fit(X)
    places = model._model.schema.columns[0]["decimals"]
    assert places is None or places >= 5
    assert len(np.unique(model.sample(200, random_state=0)[:, 0])) > 150
