"""Hostile input, ninth sweep: the gaps the eighth sweep's closing note left known.

Swept: object columns of Python integers through ``sample``,
``inverse_transform``, ``VAEImputer`` and a saved model; conditions of
``sample(given=...)`` far outside a column's range; pyarrow's dictionary
(categorical) columns.

Each family below failed once (see the commit that added its tests):

- **An object column of integers, decoded** (``skvae._column_types.CELL_TYPE``):
  no dtype says an object column's cells are integers, so ``sample`` and
  ``inverse_transform`` gave 144.0 for 144, and ``VAEImputer`` (which
  looked at the column's observed cells at transform) filled a column with
  none observed with floats. The fitted schema now records the cells'
  type (``"cell_type": "int"``), decoding restores it, and the imputer
  shares the one conversion; a schema without the record (a model saved
  before it) loads and decodes floats as it did, and a malformed record is
  refused on loading.
- **A condition far outside a column's range** (``skvae._conditional``):
  ``sample(given={"a": 1e300})`` on a column of values near 50 failed with
  the networks' "overflowed on 3 of 3 rows", naming neither ``given`` nor
  the column, and a ``RandomState`` passed as ``random_state`` had moved
  on. Decided: a number beyond the range is answered by the model's
  extrapolation (as before); one the networks overflow on is refused naming
  ``given``, the column, the value and the fitted range, and the refused
  call leaves the generator where it was.
- **pyarrow's dictionary columns** (``skvae._column_types.arrow_dictionary``):
  ``pd.ArrowDtype(pa.dictionary(...))`` was refused with a conversion to
  ``category``, though it is pandas' category in Arrow's terms. Decided:
  accepted as categorical when its values are text, numbers or booleans
  (its observed values, sorted, are the categories); outputs come back in
  the same dictionary dtype, rebuilt from the codes and the fitted
  categories (exact, index and value types and ``ordered`` kept), and
  ``VAEImputer`` fills such a column in its dtype, where pandas' own
  assignment failed inside pyarrow for a dictionary of numbers. A
  dictionary of other values (dates) is still refused, told ``.astype(str)``.
"""

import copy
import io
import pickle

import numpy as np
import pandas as pd
import pytest

import skvae
from skvae import VAEImputer, VAEOutlierDetector, VAETransformer
from skvae._state import InvalidState

from _equality import assert_same

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(latent_dim=2, hidden_layer_sizes=(4,), max_iter=3, batch_size=16, random_state=0)


# --- an object column of integers comes back as integers -----------------------------------

def _object_integers(n=60, seed=0, holes=False):
    rng = np.random.default_rng(seed)
    counts = pd.Series([int(v) for v in rng.integers(1, 100, n)], dtype=object)
    if holes:
        counts[[3, 7, 11]] = None
    return pd.DataFrame({"x": rng.normal(size=n), "n": counts})


def _assert_integers_as_objects(column):
    assert column.dtype == object
    # 144, not 144.0: the type the user's cells had.
    assert {type(value) for value in column if value is not None and value == value} == {int}


@pytest.fixture(scope="module")
def integers_model():
    X = _object_integers()
    return VAETransformer(**TINY).fit(X), X


@pytest.mark.parametrize("call", ["sample", "sample_mean", "inverse_transform", "given", "with_missing"])
def test_an_object_column_of_integers_decodes_to_integers(integers_model, call):
    model, X = integers_model
    out = {"sample": lambda: model.sample(20, random_state=0),
           "sample_mean": lambda: model.sample(20, random_state=0, return_mean=True),
           "inverse_transform": lambda: model.inverse_transform(model.transform(X)),
           "given": lambda: model.sample(5, random_state=0, given={"x": 0.5}),
           "with_missing": lambda: model.sample(20, random_state=0, with_missing=True)}[call]()
    _assert_integers_as_objects(out["n"])
    assert out["n"].notna().all()
    assert X["n"].min() <= out["n"].min() and out["n"].max() <= X["n"].max()


def test_the_record_of_integers_survives_pickle_and_files(integers_model):
    model, _ = integers_model
    buffer = io.BytesIO()
    skvae.save(model, buffer)
    for restored in (pickle.loads(pickle.dumps(model)), skvae.load(io.BytesIO(buffer.getvalue()))):
        out = restored.sample(10, random_state=1)
        _assert_integers_as_objects(out["n"])
        pd.testing.assert_frame_equal(out, model.sample(10, random_state=1))


def test_a_model_saved_without_the_record_loads_and_decodes_as_before(integers_model):
    model, _ = integers_model
    state = model.__getstate__()
    schema = dict(state["_schema"])
    schema["columns"] = [{key: value for key, value in column.items() if key != "cell_type"}
                         for column in schema["columns"]]
    older = VAETransformer()
    older.__setstate__({**state, "_schema": schema})
    before, now = older.sample(10, random_state=2), model.sample(10, random_state=2)
    # The same draws, as the floats such a model gave.
    assert {type(value) for value in before["n"]} == {float}
    assert [float(value) for value in before["n"]] == [float(value) for value in now["n"]]


@pytest.mark.parametrize("record", ["float", 1, None])
def test_a_malformed_record_of_the_cells_type_is_refused_on_loading(integers_model, record):
    model, _ = integers_model
    state = model.__getstate__()
    schema = dict(state["_schema"])
    schema["columns"] = [{**column, "cell_type": record} if column["name"] == "n" else column
                         for column in schema["columns"]]
    with pytest.raises(InvalidState, match=r"\['cell_type'\] must be 'int' or 'bool'; got"):
        VAETransformer().__setstate__({**state, "_schema": schema})


def test_the_record_of_integers_on_a_column_of_another_dtype_is_refused(integers_model):
    model, _ = integers_model
    state = model.__getstate__()
    schema = dict(state["_schema"])
    schema["columns"] = [{**column, "cell_type": "int"} for column in schema["columns"]]  # x is float64
    with pytest.raises(InvalidState, match="records 'cell_type' but has dtype 'float64'"):
        VAETransformer().__setstate__({**state, "_schema": schema})


def test_a_column_of_mixed_numbers_or_numpy_integers_as_objects():
    X = _object_integers()
    mixed = X.assign(n=pd.Series([1.5] + list(X["n"][1:]), dtype=object))
    assert {type(v) for v in VAETransformer(**TINY).fit(mixed).sample(10, random_state=0)["n"]} == {float}
    numpy_ints = X.assign(n=pd.Series([np.int64(v) for v in X["n"]], dtype=object))
    _assert_integers_as_objects(VAETransformer(**TINY).fit(numpy_ints).sample(10, random_state=0)["n"])


def test_the_imputer_fills_an_object_column_of_integers_with_none_observed_at_transform():
    X = _object_integers(holes=True)
    imputer = VAEImputer(**TINY).fit(X)
    # A column with no observed cell at transform: nothing there says its cells are integers.
    blank = X.assign(n=pd.Series([None] * len(X), dtype=object))
    out = imputer.transform(blank)
    _assert_integers_as_objects(out["n"])
    assert out["n"].notna().all()
    # The observed cells of a column with some are kept, the rest filled with integers.
    filled = imputer.transform(X)
    _assert_integers_as_objects(filled["n"])
    assert filled["n"][X["n"].notna()].equals(X["n"][X["n"].notna()])


# --- a condition far outside a column's range is named ---------------------------------------

@pytest.fixture(scope="module")
def ranged_model():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.uniform(1, 100, 60).round(1), "b": rng.normal(size=60),
                      "c": rng.choice(["x", "y"], 60)})
    return VAETransformer(**TINY).fit(X), X


@pytest.mark.parametrize("return_mean", [False, True])
@pytest.mark.parametrize("value", [1e300, -1e300, 1e200])
def test_a_condition_the_networks_overflow_on_is_refused_naming_given_and_the_column(ranged_model, value,
                                                                                  return_mean):
    model, X = ranged_model
    state = copy.deepcopy(model.__getstate__())
    seeds = np.random.RandomState(7)
    with pytest.raises(ValueError, match=r"given sets column 'a' to -?1e\+[23]00, far outside the range it was "
                                         r"fitted on \(\[1\.\d+, 99\.\d+\]\).*overflows"):
        model.sample(3, given={"a": value, "c": "x"}, random_state=seeds, return_mean=return_mean)
    # A refused call changes nothing: the caller's generator, the estimator.
    assert seeds.randint(10**9) == np.random.RandomState(7).randint(10**9)
    assert_same(model.__getstate__(), state)


def test_an_overflowing_condition_in_a_frame_of_conditions_names_its_row(ranged_model):
    model, _ = ranged_model
    given = pd.DataFrame({"a": [50.0, np.nan, 1e300], "b": [np.nan, 0.0, 0.0]})
    with pytest.raises(ValueError, match=r"given sets column 'a' to 1e\+300.* in 1 of 3 sampled rows "
                                         r"\(the first is row 2\)"):
        model.sample(given=given, random_state=0)


def test_an_overflowing_condition_of_an_array_model_is_named_by_position():
    rng = np.random.default_rng(1)
    model = VAETransformer(**TINY).fit(np.column_stack([rng.uniform(1, 100, 40), rng.normal(size=40)]))
    with pytest.raises(ValueError, match="given sets column 1 to 1e\\+300"):
        model.sample(2, given=np.array([[np.nan, 1e300], [np.nan, 1e300]]), random_state=0)


def test_a_condition_beyond_the_range_that_the_networks_compute_is_answered(ranged_model):
    model, X = ranged_model
    # Ten times the largest value: the model's extrapolation, the given cell exact, the free ones in range.
    out = model.sample(20, given={"a": 1000.0}, random_state=0)
    assert (out["a"] == 1000.0).all()
    assert out["b"].between(X["b"].min(), X["b"].max()).all() and set(out["c"]) <= {"x", "y"}


# --- pyarrow's dictionary columns are categories ----------------------------------------------

def _dictionary_column(values, value_type, index_type="int8", ordered=False):
    pa = pytest.importorskip("pyarrow")  # no extra declares it (hostile sweep 33 ran without it)

    encoded = pa.array(values, type=value_type, from_pandas=True).dictionary_encode()
    array = pa.DictionaryArray.from_arrays(encoded.indices.cast(index_type), encoded.dictionary, ordered=ordered)
    return pd.Series(pd.arrays.ArrowExtensionArray(array))


_DICTIONARY_VALUES = {
    "string": (["x", "y", "z"], "string"),
    "large_string": (["a", "b"], "large_string"),
    "int64": ([1, 5, 9], "int64"),
    "float32": ([1.5, 2.0], "float"),
    "bool": ([True, False], "bool"),
}


def _dictionary_table(value_name, ordered=False, n=60, seed=0):
    rng = np.random.default_rng(seed)
    levels, value_type = _DICTIONARY_VALUES[value_name]
    cells = [levels[k] for k in rng.integers(0, len(levels), n)]
    for row in (2, 5, 11):
        cells[row] = None
    return pd.DataFrame({"c": _dictionary_column(cells, value_type, ordered=ordered), "b": rng.normal(size=n)})


def _assert_in_the_dictionary_dtype(column, fitted):
    assert column.dtype == fitted.dtype  # index and value types, ordered, all kept
    assert set(column.dropna()) <= set(fitted.dropna())


@pytest.mark.parametrize("value_name", list(_DICTIONARY_VALUES))
def test_a_pyarrow_dictionary_column_is_modelled_as_categories(value_name):
    X = _dictionary_table(value_name, ordered=value_name == "float32")
    model = VAETransformer(**TINY).fit(X)
    assert model.column_kinds_["c"] == "categorical"
    assert model._schema.columns[0]["categories"] == sorted(set(X["c"].dropna()))
    for out in (model.sample(30, random_state=0), model.sample(30, random_state=0, return_mean=True),
                model.inverse_transform(model.transform(X)),
                model.sample(30, random_state=0, with_missing=True)):
        _assert_in_the_dictionary_dtype(out["c"], X["c"])
    given = X["c"].dropna().iloc[0]
    conditioned = model.sample(5, random_state=0, given={"c": given})
    _assert_in_the_dictionary_dtype(conditioned["c"], X["c"])
    assert (conditioned["c"] == given).all()
    # The same cells as objects or as a category dtype are the same rows.
    np.testing.assert_allclose(model.transform(X.assign(c=X["c"].astype(object))), model.transform(X))
    buffer = io.BytesIO()
    skvae.save(model, buffer)
    restored = skvae.load(io.BytesIO(buffer.getvalue()))
    pd.testing.assert_frame_equal(restored.sample(10, random_state=3), model.sample(10, random_state=3))


@pytest.mark.parametrize("value_name", list(_DICTIONARY_VALUES))
def test_the_imputer_fills_a_pyarrow_dictionary_column_in_its_dtype(value_name):
    X = _dictionary_table(value_name)
    imputer = VAEImputer(**TINY).fit(X)
    for out in [imputer.transform(X), *imputer.multiple_imputations(X, 2)]:
        _assert_in_the_dictionary_dtype(out["c"], X["c"])
        assert out["c"].notna().all()
        assert out["c"][X["c"].notna()].tolist() == X["c"].dropna().tolist()
    # A column with no observed cell at transform comes back in the fitted dtype.
    blank = imputer.transform(X.assign(c=pd.Series([None] * len(X), dtype=object)))
    _assert_in_the_dictionary_dtype(blank["c"], X["c"])
    assert blank["c"].notna().all()


def test_a_pyarrow_dictionary_column_refuses_other_kinds_and_unseen_labels():
    X = _dictionary_table("string")
    assert VAEOutlierDetector(**TINY).fit(X).predict(X).shape == (len(X),)
    with pytest.raises(ValueError, match="Column 'c' holds categories but likelihood asks for 'gaussian'"):
        VAETransformer(**TINY, likelihood={"c": "gaussian"}).fit(X)
    model = VAETransformer(**TINY).fit(X)
    unseen = X.assign(c=_dictionary_column(["q"] * len(X), "string"))
    with pytest.raises(ValueError, match=r"Column 'c' holds categories not seen during fit: \['q'\]"):
        model.transform(unseen)
