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
"""

import io
import pickle

import numpy as np
import pandas as pd
import pytest

import skvae
from skvae import VAEImputer, VAETransformer
from skvae._state import InvalidState

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
    with pytest.raises(InvalidState, match=r"\['cell_type'\] must be 'int'; got"):
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
