"""Hostile use, twenty-ninth sweep: VAEImputer's contracts, with fresh eyes.

Swept and found sound: ``missing_values`` of 1e-300 on a float64 array (its
cells imputed) and on a float32 array (whose 0.0 cells are not it, as
scikit-learn's mask compares them), of np.float32 NaN, NaN, None and
pd.NA on a float array, ``"NaN"`` on an array (refused, sweep 14), True
(InvalidParameterError, sweep 14), np.int8(-1) and np.float64(1.5)
refusing a NaN by its column and row; 0 on an int array (dtype kept, fills
never 0), ``"?"`` on an ordered category holding ``'?'`` (categories and
order kept, no fill ``'?'``), ``-1`` on a DataFrame of an ordered int
category holding -1, Float64, uint8, ``int64[pyarrow]`` and
``double[pyarrow]`` columns (dtypes kept, no fill -1, the category's
declared -1 kept), 255 on a uint8 column, ``""`` on ``string``,
``string[pyarrow]`` and object text columns, 0 on an int category, a
``boolean`` column beside an int one (booleans untouched, sweep 17); an
Int64 column holding pd.NA under ``-1`` and a Float64 one under 0 (refused,
naming the column); ``add_indicator`` with ``keep_empty_features`` and
``set_output("pandas")`` (names and order as SimpleImputer's, the
indicator of a dropped column kept, as SimpleImputer's), an int array
under ``-1`` with the indicator (int64 throughout, the array's dtype, as
sweep 21 recorded); ``copy=False`` on float64, float32, float16, strided
and Fortran-ordered arrays (imputed in place, as SimpleImputer), a
big-endian array (a copy, as SimpleImputer), an int array (a copy, as
documented), DataFrames of float, int under ``-1``, category and Int64
columns (in place), and with a dropped column or an indicator (X still
filled; a new frame returned, as documented), a refused ``transform``
under ``copy=False`` (X unchanged); ``sample_posterior`` draws (successive
transforms differ, repeat after a refit with the same ``random_state``,
differ with None or a RandomState instance, ``fit_transform``'s draw is
``fit().transform()``'s, the sequence carried on by pickle, deepcopy and
``skvae.save``; ``multiple_imputations(X, 1)`` is the first transform's
draw, as documented; toggling ``sample_posterior`` off gives the same point
fills twice); ``transform`` on one row, on rows missing in every cell
(category, float and Int64 columns: dtypes kept, seen categories), on 0
rows (scikit-learn's "Found array with 0 sample(s)"), an unseen category
(refused by name; with ``handle_unknown="ignore"`` kept as given, as
documented), columns reordered (refused naming them), sparse input
(scikit-learn's dense-data refusal); a DataFrame with a duplicated index
or a MultiIndex under ``add_indicator``; ``get_feature_names_out`` with
wrong names or count (refused), and equal to ``transform``'s columns after
``add_indicator`` or ``keep_empty_features`` is set after fit; fills in the
column's support under point fills, ``sample_posterior`` and
``multiple_imputations`` (an ordered category with a declared, never seen
level: only seen levels, categories and order kept; UInt8 and Int8 columns
at their bounds: within them, dtypes kept; a [0, 1] column, a positive one
and counts: within the observed range, whole counts); ``copy=True``
leaving a DataFrame of category, object, Int64, float and int columns
untouched under pandas 2 and 3 (also with ``add_indicator`` and ``-1``);
``multiple_imputations`` after ``transform`` giving fresh draws, and
different copies under ``sample_posterior=False``, leaving the point fills
of ``transform`` unchanged.

The family below failed once (see the commit that added its tests):

- **A placeholder no column of a DataFrame can hold** (``skvae._imputer._refuse_placeholder_no_column_holds``):
  sweep 14 refused a text ``missing_values`` for an array (no cell of
  numbers can be it), but a DataFrame of nothing but numbers and booleans
  took ``missing_values="?"``, or ``"-1"`` (the text of its -1 cells, as a
  CSV's reader might suggest), and came back with nothing imputed, without
  a word; so did a DataFrame of nothing but text (``str``, ``string``,
  Arrow text, text categories) and booleans with ``missing_values=-1``,
  and one with no object column with an integer beyond float64 (sweep 19:
  only object cells can be it). scikit-learn's SimpleImputer refuses a text
  placeholder for numbers too. Such a placeholder is refused now, naming
  ``missing_values`` and what to set instead (the number ``"-1"`` writes,
  the text of ``-1``), at ``fit`` and at ``transform`` alike; a table where
  some column can hold it is imputed column by column as before. Decided: a
  frame of booleans alone under a number placeholder is let through, as
  sweep 25 lets a bool array through (it holds no missing cell and comes
  back as it is); beside a text column it is refused. The same held for
  integers: an integer array keeps its dtype (sweep 19), so ``-1`` or 300
  on a uint8 array, or 1.5 on any integer array or a DataFrame of integer
  columns, matched no cell and X came back unimputed, without a word
  (SimpleImputer, which reads the array as floats, is as silent). Such a
  placeholder is refused too, naming the range the dtypes hold; a frame
  where one integer column's range holds it (-1 beside an Int8 column) is
  imputed as before.

Found and LEFT:

- A DataFrame holding a column named ``missingindicator_a`` beside ``a``
  gets two output columns of that name under ``add_indicator``; scikit-learn's
  MissingIndicator names them the same way, and renaming the caller's
  column, or the indicator, would break its documented names.
- Under pandas < 3 a column of text (and a category's text categories)
  is ``object``, which can hold a number, so ``missing_values=-1`` on such a frame is let through as
  before; only pandas' ``str``/``string`` and Arrow text dtypes say that a
  column holds text alone, and reading every object cell to decide would
  walk the whole table on every call.
- Fills of an object column of numbers (``"?"`` marking its missing cells)
  are Python floats beside the caller's np.float64 cells; both are numbers
  equal in value and type-checks by ``numbers.Real`` pass for both.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from skvae import VAEImputer
from skvae._refusals import Refusal

_SMALL = dict(max_iter=2, hidden_layer_sizes=(8,), latent_dim=2, random_state=0)


def _numbers_and_booleans(n=12):
    pytest.importorskip("pyarrow")  # not among the [test] extras (hostile sweep 33 ran without it)
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "a": rng.choice([-1, 2, 3], n),
        "x": rng.normal(size=n),
        "b": rng.choice([True, False], n),
        "i": pd.array(rng.choice([-1, 1, 2], n), dtype="Int64"),
        "c": pd.Categorical(rng.choice([-1, 1, 2], n)),
        "f": pd.array(rng.choice([-1.0, 0.5], n), dtype="Float64"),
        "p": pd.array(rng.choice([-1, 4, 5], n), dtype="int64[pyarrow]"),
    })


def _texts_and_booleans(n=12):
    pa = pytest.importorskip("pyarrow")  # not among the [test] extras (hostile sweep 33 ran without it)

    rng = np.random.default_rng(1)
    return pd.DataFrame({
        "s": pd.array(rng.choice(["-1", "a", "b"], n), dtype="string"),
        "q": pd.array(rng.choice(["-1", "u", "v"], n), dtype="string[pyarrow]"),
        "r": pd.Series(rng.choice(["-1", "u", "v"], n)).astype(pd.ArrowDtype(pa.string())),
        # Text categories said as such under pandas < 3 too, whose default for them is object.
        "c": pd.Categorical(rng.choice(["-1", "x", "y"], n), categories=pd.Index(["-1", "x", "y"], dtype="string")),
        "b": pd.array(rng.choice([True, False], n), dtype="boolean"),
    })


def _fit_quietly(imputer, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return imputer.fit(X)


@pytest.mark.parametrize("placeholder, advised", [("?", None), ("-1", "missing_values=-1"),
                                                  (" 2.5 ", "missing_values=2.5")])
def test_a_text_placeholder_for_a_frame_of_numbers_is_refused(placeholder, advised):
    """Before the fix: fitted, and transform gave X back with its -1 cells as they were, without a word."""
    X = _numbers_and_booleans()
    before = X.copy()
    imputer = VAEImputer(missing_values=placeholder, **_SMALL)
    with pytest.raises(Refusal, match=r"missing_values=.* is text, but every column of X holds numbers or "
                                      r"booleans: no cell can be that placeholder") as refused:
        imputer.fit(X)
    message = str(refused.value)
    assert "set missing_values=np.nan" in message
    if advised is not None:
        assert advised in message
    # A refused call changes nothing: the caller's frame, nor the estimator (still unfitted).
    pd.testing.assert_frame_equal(X, before)
    assert not hasattr(imputer, "vae_")


@pytest.mark.parametrize("placeholder", [-1, 1.5, 0])
def test_a_number_placeholder_for_a_frame_of_text_is_refused(placeholder):
    """Before the fix: the text cells "-1" stayed in the output, never imputed, without a word."""
    X = _texts_and_booleans()
    before = X.copy()
    with pytest.raises(Refusal, match=r"is a number, but every column of X holds text or booleans") as refused:
        VAEImputer(missing_values=placeholder, **_SMALL).fit(X)
    assert f"missing_values={str(placeholder)!r}" in str(refused.value)
    pd.testing.assert_frame_equal(X, before)


def test_an_integer_beyond_float64_for_a_frame_without_object_columns_is_refused():
    """Sweep 19: only an object column can hold 10**400; a frame of none imputed nothing, silently."""
    with pytest.raises(Refusal, match=r"beyond float64's range, but X has no object column"):
        VAEImputer(missing_values=10 ** 400, **_SMALL).fit(_numbers_and_booleans())


def test_a_placeholder_no_column_holds_is_refused_at_transform_too():
    """Set after fit (``missing_values`` is read by transform), the placeholder is refused there, state kept."""
    X = _numbers_and_booleans()
    X.loc[::3, "x"] = np.nan
    imputer = _fit_quietly(VAEImputer(**_SMALL), X)
    expected = imputer.transform(X)
    imputer.set_params(missing_values="?")
    with pytest.raises(Refusal, match=r"missing_values='\?' is text"):
        imputer.transform(X.assign(x=X["x"].fillna(0.0)))
    imputer.set_params(missing_values=np.nan)
    pd.testing.assert_frame_equal(imputer.transform(X), expected)


@pytest.mark.parametrize("placeholder, column", [("-1", "s"), (-1, "a")])
def test_a_placeholder_some_column_holds_is_imputed_there_only(placeholder, column):
    """Where one column can hold the placeholder the frame is imputed as before: there, and nowhere else."""
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"s": rng.choice(["-1", "a", "b"], 20), "a": rng.choice([-1, 2, 3], 20),
                      "x": rng.normal(size=20)})
    X.loc[0, "s"], X.loc[1, "a"] = "-1", -1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = VAEImputer(missing_values=placeholder, **_SMALL).fit_transform(X)
    held = (X[column] == placeholder).to_numpy()
    assert held.any() and not (out[column] == placeholder).any()
    other = "a" if column == "s" else "s"
    pd.testing.assert_series_equal(out[other], X[other])
    pd.testing.assert_series_equal(out[column][~held], X[column][~held])


def test_a_frame_of_booleans_alone_under_a_number_placeholder_is_let_through_as_a_bool_array():
    """Decided (see the module docstring): as sweep 25's bool array, it holds no missing cell and comes back as is."""
    X = pd.DataFrame({"b": [True, False, True, False] * 3, "n": pd.array([True, False, None, True] * 3,
                                                                         dtype="boolean")})
    booleans = X.fillna(False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame_out = VAEImputer(missing_values=0, **_SMALL).fit_transform(booleans)
        array_out = VAEImputer(missing_values=0, **_SMALL).fit_transform(booleans["b"].to_numpy()[:, None])
    pd.testing.assert_frame_equal(frame_out, booleans)
    assert array_out.dtype == bool
    with pytest.raises(Refusal, match=r"is a number, but every column of X holds text or booleans"):
        VAEImputer(missing_values=0, **_SMALL).fit(booleans.assign(s=pd.array(["a", "b", "0"] * 4,
                                                                                    dtype="string")))


@pytest.mark.parametrize("dtype, placeholder", [(np.uint8, -1), (np.uint8, 300), (np.int8, 1.5), (np.int64, np.inf),
                                                (np.uint16, -0.5)])
def test_a_placeholder_an_integer_array_cannot_hold_is_refused(dtype, placeholder):
    """Before the fix: fitted, and transform gave the array back as it was (no cell can be the placeholder)."""
    X = np.random.default_rng(3).integers(0, 5, size=(12, 2)).astype(dtype)
    before = X.copy()
    imputer = VAEImputer(missing_values=placeholder, **_SMALL)
    with pytest.raises(Refusal, match=rf"missing_values={placeholder!r} is no whole number from "
                                      rf"{np.iinfo(dtype).min} to {np.iinfo(dtype).max}, the values of X's "
                                      rf"dtype {np.dtype(dtype)}: no cell can be that placeholder"):
        imputer.fit(X)
    np.testing.assert_array_equal(X, before)
    assert not hasattr(imputer, "vae_")


def test_a_placeholder_no_integer_column_can_hold_is_refused_and_one_that_some_can_is_imputed():
    """The integer columns' ranges together: 1.5 fits none (refused); -1 fits the Int8 column (imputed there)."""
    rng = np.random.default_rng(4)
    X = pd.DataFrame({"u": rng.integers(1, 5, 12).astype(np.uint8), "i": pd.array(rng.integers(1, 5, 12), dtype="Int8"),
                      "b": [True, False] * 6})
    with pytest.raises(Refusal, match=r"missing_values=1.5 is no whole number from -128 to 255, the values of "
                                      r"X's integer columns, and no other column of X can hold it"):
        VAEImputer(missing_values=1.5, **_SMALL).fit(X)
    X.loc[[0, 5], "i"] = -1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = VAEImputer(missing_values=-1, **_SMALL).fit_transform(X)
    assert not (out["i"] == -1).any() and str(out["i"].dtype) == "Int8"
    pd.testing.assert_series_equal(out["u"], X["u"])


def test_a_placeholder_an_integer_array_holds_is_imputed_as_before():
    """A whole placeholder within the dtype, as an int or a whole float, keeps sweep 21's contract: dtype kept."""
    X = np.random.default_rng(5).integers(1, 5, size=(16, 2)).astype(np.uint8)
    X[::4, 0] = 255
    for placeholder in (255, 255.0, np.int64(255)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = VAEImputer(missing_values=placeholder, **_SMALL).fit_transform(X)
        assert out.dtype == np.uint8 and not (out == 255).any()
