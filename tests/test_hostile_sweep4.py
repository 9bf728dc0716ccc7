"""Hostile input, fourth sweep: other libraries' dataframes, the index of returned tables, CLI files and options.

Each family failed once (see the commit that added its tests): the tests pin
the mechanism, not the example, so each runs over the faces, formats or
shapes the mechanism serves.
"""

import bz2
import gzip
import io
import lzma
import zipfile

import numpy as np
import pandas as pd
import pytest

from skvae import VAEImputer, VAEOutlierDetector, VAETransformer
from skvae._cli import main

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(latent_dim=2, hidden_layer_sizes=(4,), max_iter=2, batch_size=16, random_state=0)
FACES = [VAETransformer, VAEImputer, VAEOutlierDetector]
N = 30
FAST_FIT = ["--latent-dim", "2", "--max-iter", "2", "--hidden-layer-sizes", "4", "--batch-size", "16", "-q"]


def _table(seed=0, holes=False):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "x": rng.normal(size=N),
        "n": rng.integers(0, 100, N),
        "c": rng.choice(["p", "q", "r"], N),
        "f": rng.choice([True, False], N),
    })
    if holes:
        frame.loc[[1, 4], "x"] = np.nan
        frame.loc[[2], "c"] = None
    return frame


def _answer(model, X):
    """What a fitted face gives for X: compared before and after a refused call."""
    if isinstance(model, VAEOutlierDetector):
        return model.decision_function(X)
    if isinstance(model, VAEImputer):
        return model.transform(X)
    return model.transform(X)


def _assert_same(answer, expected):
    if isinstance(expected, pd.DataFrame):
        # Text columns may come back as str or object, as each library's conversion types them.
        pd.testing.assert_frame_equal(answer, expected, check_dtype=False, rtol=1e-6)
    else:
        np.testing.assert_allclose(answer, expected, rtol=1e-6)


# ---------------------------------------------------------------- other libraries' dataframes


def _arrow(frame, preserve_index=False):
    """`frame` as a pyarrow Table (the test is skipped where pyarrow is not installed)."""
    pyarrow = pytest.importorskip("pyarrow")
    return pyarrow.Table.from_pandas(frame, preserve_index=preserve_index)


class InterchangeOnly:
    """A dataframe with nothing but the interchange protocol (``__dataframe__``) of a pandas frame."""

    def __init__(self, frame):
        self._frame = frame

    def __dataframe__(self, nan_as_null=False, allow_copy=True):
        return self._frame.__dataframe__(nan_as_null=nan_as_null, allow_copy=allow_copy)


class FailingFrame:
    """A dataframe-like whose conversion raises, as another library's may (a missing optional dependency)."""

    columns = ["x", "n", "c", "f"]
    shape = (N, 4)

    def to_pandas(self):
        raise ImportError("pyarrow is required for to_pandas")


def _converters():
    converters = [pytest.param(InterchangeOnly, id="interchange-protocol")]
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return converters
    return converters + [pytest.param(_arrow, id="pyarrow-table"),
                         pytest.param(lambda frame: _arrow(frame).to_batches()[0], id="pyarrow-record-batch")]


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("convert", _converters())
def test_another_librarys_dataframe_is_read_as_the_pandas_dataframe_it_converts_to(face, convert):
    # A pyarrow Table went to scikit-learn's np.asarray: its text column was refused as "an array
    # must hold numbers", and the names it kept were whatever scikit-learn found.
    X = _table(holes=face is VAEImputer)
    from_pandas = face(**TINY).fit(X)
    model = face(**TINY).fit(convert(X))
    assert list(model.feature_names_in_) == list(X.columns)
    vae, vae_pandas = (getattr(m, "vae_", m) for m in (model, from_pandas))
    assert vae.column_kinds_ == vae_pandas.column_kinds_
    assert vae.column_kinds_["c"] == vae.column_kinds_["f"] == "categorical"  # text and booleans, as in pandas
    _assert_same(_answer(model, convert(X)), _answer(from_pandas, X))


def test_an_imputed_arrow_table_comes_back_as_a_pandas_dataframe_with_its_stored_index():
    X = _table(holes=True).set_axis([f"r{i}" for i in range(N)])
    imputer = VAEImputer(**TINY).fit(X)
    out = imputer.transform(_arrow(X, preserve_index=True))
    assert isinstance(out, pd.DataFrame)
    assert list(out.index) == list(X.index) and list(out.columns) == list(X.columns)
    assert not out.isna().any().any()
    pd.testing.assert_frame_equal(out, imputer.transform(X), check_dtype=False)


def test_outlier_cells_of_an_arrow_table_are_a_dataframe_of_its_columns():
    X = _table()
    detector = VAEOutlierDetector(**TINY).fit(X)
    cells = detector.score_columns(_arrow(X))
    assert isinstance(cells, pd.DataFrame) and list(cells.columns) == list(X.columns)
    np.testing.assert_allclose(cells.to_numpy(), detector.score_columns(X).to_numpy(), rtol=1e-6)


@pytest.mark.parametrize("convert", _converters())
def test_conditions_given_as_another_librarys_dataframe_are_read_as_pandas(convert):
    X = _table()
    vae = VAETransformer(**TINY).fit(X)
    given = pd.DataFrame({"c": ["p", "r", "q"]})
    drawn = vae.sample(given=convert(given), random_state=0)
    pd.testing.assert_frame_equal(drawn, vae.sample(given=given, random_state=0))
    assert drawn["c"].tolist() == ["p", "r", "q"]


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("change, error, message", [
    (lambda X: FailingFrame(), TypeError, r"X is a .*FailingFrame.*converting it failed \(ImportError: pyarrow is"),
    (lambda X: _arrow(X).append_column("x", _arrow(X).column("x")), ValueError, r"duplicated column names \['x'\]"),
    (lambda X: _arrow(X[["n", "x", "c", "f"]]), ValueError, r"same order.*\['n', 'x'\] are out of place"),
], ids=["conversion-fails", "duplicated-names", "reordered"])
def test_a_refused_dataframe_of_another_library_names_the_problem_and_changes_nothing(face, change, error, message):
    pytest.importorskip("pyarrow")
    X = _table()
    model = face(**TINY).fit(X)
    before = _answer(model, X)
    method = model.decision_function if face is VAEOutlierDetector else model.transform
    with pytest.raises(error, match=message):
        method(change(X))
    _assert_same(_answer(model, X), before)


def test_a_one_column_array_of_another_library_is_not_taken_for_a_table():
    pyarrow = pytest.importorskip("pyarrow")
    vae = VAETransformer(**TINY).fit(_table()[["x"]].to_numpy())
    with pytest.raises(ValueError, match="2D array"):
        vae.transform(pyarrow.chunked_array([[0.5, 1.5]]))


# ---------------------------------------------------------------- the index of returned tables


@pytest.mark.parametrize("index", [
    pd.Index([f"r{i}" for i in range(N)]),
    pd.Index([7] * N),
    pd.MultiIndex.from_arrays([np.arange(N) // 2, np.arange(N) % 2]),
], ids=["labels", "duplicated", "multi"])
def test_inverse_transform_keeps_the_index_of_a_dataframe_of_codes(index):
    # inverse_transform went through check_array, which dropped the index: the decoded rows
    # came back numbered 0..n-1 even where transform (set_output="pandas") had kept X's.
    X = _table().set_axis(index)
    vae = VAETransformer(**TINY).set_output(transform="pandas").fit(X)
    codes = vae.transform(X)
    assert codes.index.equals(X.index)
    decoded = vae.inverse_transform(codes)
    assert decoded.index.equals(X.index)
    reversed_codes = codes.iloc[::-1]
    np.testing.assert_array_equal(vae.inverse_transform(reversed_codes).index, X.index[::-1])
    # The values are those of the same codes as an array.
    pd.testing.assert_frame_equal(decoded.reset_index(drop=True), vae.inverse_transform(codes.to_numpy()))


def test_inverse_transform_of_an_array_keeps_its_form():
    X = _table()
    vae = VAETransformer(**TINY).fit(X)
    Z = vae.transform(X)
    assert list(vae.inverse_transform(Z).index) == list(range(N))
    array_vae = VAETransformer(**TINY).fit(X[["x", "n"]].to_numpy(dtype=float))
    decoded = array_vae.inverse_transform(pd.DataFrame(array_vae.transform(X[["x", "n"]].to_numpy(dtype=float)),
                                                       index=np.arange(N) + 100))
    assert isinstance(decoded, np.ndarray)


@pytest.mark.parametrize("index", [pd.Index([f"r{i}" for i in range(N)]), pd.Index([3] * N)],
                         ids=["labels", "duplicated"])
def test_every_method_returning_a_table_keeps_the_index_of_its_input(index):
    X = _table(holes=True).set_axis(index)
    imputer = VAEImputer(**TINY, add_indicator=True).fit(X)
    assert imputer.transform(X).index.equals(X.index)
    assert all(copy.index.equals(X.index) for copy in imputer.multiple_imputations(X, n_imputations=2))
    assert VAEImputer(**TINY).fit_transform(X).index.equals(X.index)
    given = X[["c"]].dropna().iloc[:4]
    assert imputer.vae_.sample(given=given, random_state=0).index.equals(given.index)
    detector = VAEOutlierDetector(**TINY).fit(X.dropna())
    assert detector.score_columns(X.dropna()).index.equals(X.dropna().index)
