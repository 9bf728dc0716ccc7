"""Hostile input, fifteenth sweep.

Part 1, what sweep 14 found but left:

- **Decimal and Fraction cells of an array** (``skvae._validation.check_array_dtype``):
  an object array (or a list of rows) holding one was read with float(),
  while a DataFrame column and a condition of them are refused (sweeps 10
  and 13). Decided: refused on every path, naming the column and row; the
  caller decides how an exact number is rounded.
- **A row with no observed cell in the detector** (``skvae._outliers._refuse_empty_rows``):
  it scored log 1 = 0, above every observed row, so it was never flagged,
  a silent "inlier" nothing was seen of. ``score_samples``,
  ``decision_function``, ``predict`` and ``fit_predict`` refuse such rows
  now, naming them; ``fit`` accepts them and sets ``offset_`` from the
  other rows (it had counted their zeros). Under ``self_masking`` such a row
  scores log p(s) and is scored as before.
- **contamination set after fit**: decided not changed, as IsolationForest
  and LocalOutlierFactor (``offset_`` is fitted): documented in the
  parameter's docstring, tested below.
- **A CSV cell beyond float64** (``skvae._csv._refuse_overflowing_numbers``):
  ``1e400`` was refused as "inf in column 'a'"; it is refused by its text now,
  saying it overflows float64.
- **A text cell of a file of codes** (``skvae._cli._refuse_text_codes``):
  ``skvae inverse`` named its column by position among the codes; now by
  its name in the file.
- **Categories of an extension or sized dtype** (``skvae._column_types.categories_dtype``):
  a category column whose categories are Int64, string, boolean, float32 or
  int8 came back from ``sample`` and ``inverse_transform`` with categories
  of the dtype pandas infers (int64, str, bool, float64); the schema keeps
  the categories' dtype now (the imputer kept it already).
"""

import copy
import decimal
import fractions
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

import skvae
from skvae import VAEImputer, VAEOutlierDetector, VAETransformer
from skvae._cli import main

from _equality import assert_same

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(latent_dim=2, hidden_layer_sizes=(8,), max_iter=2, random_state=0, device="cpu")
FACES = [VAETransformer, VAEImputer, VAEOutlierDetector]


def _array(n=30, seed=0):
    return np.random.RandomState(seed).randn(n, 3)


def _frame(n=30, seed=0):
    rng = np.random.RandomState(seed)
    return pd.DataFrame({"a": rng.randn(n), "b": rng.randn(n), "c": list("xyz") * (n // 3)})


def _state(fitted):
    """A copy of the fitted state, to compare before and after a refused call."""
    return copy.deepcopy(fitted.__getstate__())


def _call(fitted):
    return fitted.transform if hasattr(fitted, "transform") else fitted.score_samples


def _run(argv, capsys):
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# ------------------------------------------------------------------ a. Decimal and Fraction cells


@pytest.mark.parametrize("cell", [decimal.Decimal("1.5"), fractions.Fraction(1, 2)], ids=repr)
@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("container", [np.array, lambda X: X.tolist()], ids=["array", "list"])
def test_an_exact_number_in_an_array_is_refused_as_in_a_dataframe(cell, face, container):
    X = _array().astype(object)
    X[3, 1] = cell
    with pytest.raises(ValueError, match=f"X holds {type(cell).__name__}.* in column 1, row 3, of type "
                                         f"{type(cell).__name__}.*X.astype\\(float\\)"):
        face(**TINY).fit(container(X))
    with pytest.raises(ValueError, match=f"holds values of type {type(cell).__name__}"):
        face(**TINY).fit(pd.DataFrame(X).astype({0: float, 2: float}))


@pytest.mark.parametrize("face", FACES)
def test_an_exact_number_in_an_array_after_fit_is_refused_and_changes_nothing(face):
    fitted = face(**TINY).fit(_array())
    before = _state(fitted)
    X = _array(5).astype(object)
    X[2, 0] = decimal.Decimal("0.1")
    with pytest.raises(ValueError, match="in column 0, row 2, of type Decimal"):
        _call(fitted)(X)
    assert_same(_state(fitted), before)
    # the advice works
    assert len(_call(fitted)(X.astype(float))) == 5


def test_floats_ints_and_numpy_numbers_in_an_object_array_still_fit():
    X = _array().astype(object)
    X[0, 0], X[1, 1], X[2, 2] = 3, np.float32(1.5), np.int64(2)
    assert VAETransformer(**TINY).fit(X).transform(X).shape == (30, 2)


# ------------------------------------------------------------------ b. rows with no observed cell


@pytest.fixture(scope="module")
def detector():
    X = _array(60)
    X[5] = np.nan  # a training row with no observed cell
    return VAEOutlierDetector(**TINY).fit(X)


@pytest.mark.parametrize("method", ["score_samples", "decision_function", "predict"])
def test_the_detector_refuses_a_row_with_no_observed_cell(detector, method):
    X = _array(4, seed=1)
    X[[1, 3]] = np.nan
    before = _state(detector)
    with pytest.raises(ValueError, match=rf"VAEOutlierDetector.{method}: 2 rows of X \(rows 1, 3\) have no "
                                         "observed cell.*neither an inlier nor an outlier"):
        getattr(detector, method)(X)
    assert_same(_state(detector), before)
    assert len(getattr(detector, method)(X[[0, 2]])) == 2  # rows with an observed cell are scored


def test_the_detector_names_the_row_of_a_dataframe_and_an_ignored_category():
    detector = VAEOutlierDetector(handle_unknown="ignore", **TINY).fit(_frame())
    X = pd.DataFrame({"a": [0.0, np.nan], "b": [0.0, np.nan], "c": ["x", "never seen"]})
    with pytest.raises(ValueError, match=r"row 1\) has no observed cell \(a category unseen at fit"):
        detector.predict(X)


def test_fit_leaves_empty_rows_out_of_the_threshold():
    X = _array(60)
    full = VAEOutlierDetector(contamination=0.1, **TINY).fit(X)
    holed = np.vstack([X, np.full((20, 3), np.nan)])
    with_empty = VAEOutlierDetector(contamination=0.1, **TINY).fit(holed)
    # the empty rows' scores (0, above all others) no longer move the quantile
    scores = with_empty.score_samples(X)
    assert np.isclose(with_empty.offset_, np.percentile(scores, 10), rtol=1e-6, atol=1e-6)
    assert np.isfinite(full.offset_)


def test_fit_predict_with_an_empty_row_is_refused_and_changes_nothing(detector):
    before = _state(detector)
    X = _array(40, seed=2)
    X[7] = np.nan
    with pytest.raises(ValueError, match=r"VAEOutlierDetector.fit_predict: 1 row of X \(row 7\)"):
        detector.fit_predict(X)
    assert_same(_state(detector), before)


def test_under_self_masking_an_empty_row_is_scored_by_its_pattern():
    X = _array(60)
    X[::4, 0] = np.nan
    detector = VAEOutlierDetector(missing_mechanism="self_masking", **TINY).fit(X)
    scores = detector.score_samples(np.full((1, 3), np.nan))
    assert scores.shape == (1,) and scores[0] < 0


# ------------------------------------------------------------------ c. contamination after fit


def test_contamination_set_after_fit_takes_effect_at_the_next_fit_as_in_isolation_forest():
    from sklearn.ensemble import IsolationForest

    X = _array(80)
    forest = IsolationForest(contamination=0.05, random_state=0).fit(X)
    forest_offset = forest.offset_
    forest.set_params(contamination=0.4)
    assert forest.offset_ == forest_offset  # scikit-learn's semantics

    detector = VAEOutlierDetector(contamination=0.05, **TINY).fit(X)
    offset, labels = detector.offset_, detector.predict(X)
    detector.set_params(contamination=0.4)
    assert detector.offset_ == offset and (detector.predict(X) == labels).all()
    detector.fit(X)
    assert detector.offset_ > offset and (detector.predict(X) == -1).sum() > (labels == -1).sum()
    assert "takes effect at the next ``fit``" in VAEOutlierDetector.__doc__


# ------------------------------------------------------------------ d, e. the command line's cells


@pytest.fixture(scope="module")
def cli_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli15")
    data = folder / "d.csv"
    _frame(30).round(3).to_csv(data, index=False)
    assert main(["fit", str(data), "--out", str(folder / "m.skvae"), "--max-iter", "2", "--latent-dim", "2"]) == 0
    return folder / "m.skvae"


@pytest.mark.parametrize("cell, sign", [("1e400", ""), ("-1E999", "-"), ("  2.5e308", "")])
@pytest.mark.parametrize("command", ["transform", "score"])
def test_a_number_beyond_float64_is_refused_by_its_text(cli_model, tmp_path, capsys, cell, sign, command):
    path = tmp_path / "big.csv"
    path.write_text(f"a,b,c\n0.5,1,x\n{cell},2,y\n")
    status, _, err = _run([command, cli_model, path], capsys)
    assert status == 1
    assert f"column 'a', line 3: {cell.strip()!r} overflows float64" in err
    assert f"would be read as {sign}inf" in err


def test_infinity_written_as_such_keeps_its_refusal(cli_model, tmp_path, capsys):
    path = tmp_path / "inf.csv"
    path.write_text("a,b,c\n0.5,1,x\ninf,2,y\n")
    status, _, err = _run(["transform", cli_model, path], capsys)
    assert status == 1 and "holds an infinite value (inf in column 'a', line 3)" in err


def test_a_text_code_is_named_by_its_column_in_the_file(cli_model, tmp_path, capsys):
    codes = tmp_path / "codes.csv"
    # columns reordered, an extra column: the position among the codes is no column of the file
    codes.write_text("vaetransformer1,note,vaetransformer0\n0.1,ok,0.2\n0.3,ok,abc\n")
    status, _, err = _run(["inverse", cli_model, codes], capsys)
    assert status == 1
    assert "column 'vaetransformer0' holds text ('abc' at line 3)" in err
    assert "column 1" not in err and "column 2" not in err


# ------------------------------------------------------------------ f. categories' dtypes


CATEGORIES = {
    "Int64": pd.array([1, 2, 3], dtype="Int64"),
    "string[python]": pd.array(list("xyz"), dtype="string[python]"),
    "boolean": pd.array([True, False], dtype="boolean"),
    "float32": np.array([1.5, 2.5, 3.5], dtype="float32"),
    "int8": np.array([1, 2, 3], dtype="int8"),
}


def _category_frame(categories, n=30):
    values = [categories[i % len(categories)] for i in range(n)]
    return pd.DataFrame({"a": np.random.RandomState(0).randn(n), "k": pd.Categorical(values, categories=categories)})


@pytest.mark.parametrize("name", list(CATEGORIES))
def test_categories_keep_their_dtype_through_every_face(name, tmp_path):
    X = _category_frame(CATEGORIES[name])
    model = VAETransformer(**TINY).fit(X)
    assert model.sample(4)["k"].dtype == X["k"].dtype
    assert model.inverse_transform(model.transform(X))["k"].dtype == X["k"].dtype
    assert model.sample(2, given={"k": X["k"].iloc[0]})["k"].dtype == X["k"].dtype
    holed = X.copy()
    holed.loc[3, "k"] = np.nan
    assert VAEImputer(**TINY).fit_transform(holed)["k"].dtype == X["k"].dtype
    skvae.save(model, tmp_path / "m.skvae")
    assert skvae.load(tmp_path / "m.skvae").sample(2)["k"].dtype == X["k"].dtype


def test_categories_pandas_infers_back_are_not_recorded():
    model = VAETransformer(**TINY).fit(_category_frame(["x", "y", "z"]))
    assert "categories_dtype" not in model._schema.columns[1]
    assert "categories_dtype" in VAETransformer(**TINY).fit(_category_frame(CATEGORIES["int8"]))._schema.columns[1]


def test_a_malformed_categories_dtype_in_a_state_is_refused():
    model = VAETransformer(**TINY).fit(_category_frame(CATEGORIES["int8"]))
    model._schema.columns[1]["categories_dtype"] = 8
    with pytest.raises(Exception, match="categories_dtype"):
        pickle.loads(pickle.dumps(model))
