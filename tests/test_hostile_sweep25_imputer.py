"""Hostile use, twenty-fifth sweep: VAEImputer's and VAEOutlierDetector's contracts under hostile data.

Swept and found sound: a DataFrame of float64, float32, Int64, boolean,
string, category, object text and object boolean columns with NaN, None and
pd.NA under both mechanisms, with and without ``sample_posterior`` (no hole,
dtypes kept, observed cells kept, labels only seen ones, object booleans
filled with bools, fills within the observed range under ``"ignorable"``;
under ``"self_masking"`` a float32 column's fills left it, the recorded
design of sweep 21) and ``multiple_imputations`` on it (dtypes kept);
object columns of Python ints, of floats, of ints and floats, category
columns of ints and floats, whole float and 0/1 float columns; pyarrow
int64, double, bool, string and uint8 columns with nulls; Int8, UInt64,
Float32 and a constant Int64 column; ``missing_values="?"`` on a DataFrame
of text columns, ``-1`` on a DataFrame of int64 columns and on int16 and
uint8 (255) arrays, with a column of nothing but the placeholder (dropped;
``keep_empty_features`` gives 0 in the dtype, through
``multiple_imputations`` too); a float16 array (kept float16); a row
missing in every cell and a column missing in every row at ``transform``;
columns given at ``transform`` in another dtype than at fit (a category
with its categories reordered and one more, object for category and
string, boolean and object for bool, Int8 for int64: the caller's dtype
kept; a float column as Int64, which widens to float64 for fractional
fills, as ``skvae._imputer._set_fills`` records; 0/1 floats for a bool
column and a fraction for a column of levels: refused by name);
scikit-learn's global ``transform_output="pandas"`` for an int array with
-1 (int64 kept), a float32 array with ``add_indicator`` and
``multiple_imputations``. The detector: ``contamination`` 1e-9, 0.5 and
0.4999999 (0 and 0.6 refused by scikit-learn's parameter check), a training
set of identical rows (no row flagged, warned), novelty rows with a missing
cell and with none observed (-inf, flagged, warned), an unseen category
refused by every scoring method naming the column and
``handle_unknown='ignore'``, which treats it as a missing cell (as
documented), the global ``transform_output="pandas"`` (predictions stay
arrays; ``score_columns`` of a DataFrame a DataFrame); no ``set_output``
(sweep 22). Also sound: ``multiple_imputations`` of the mixed table above
under both mechanisms (fills valid in every copy, as ``transform``'s);
every ``likelihood`` kind on its own column (fills whole for counts, in
range, with no more decimals than observed, booleans for ``bernoulli``),
with and without the refinement and ``sample_posterior``; datetime,
timedelta, tz-aware, period, interval, complex, bytes, tuple, list,
frozenset, arrow decimal and text-beside-number columns (refused by name
with a conversion); object columns of np.str_, of "" beside text, of
Python ints beyond 2**53 (warned, sweep 19's left item), NaN written as
np.float32 NaN, NaT or np.datetime64 NaT; int8 and uint64 extremes,
float16, a category of booleans, an empty category and an all-NA Int64
column (dropped; ``keep_empty_features``: 0 in the dtype; the detector
refuses it by name); arrays and DataFrames of 0 rows at ``transform``,
``multiple_imputations``, ``predict`` and ``score_columns`` (scikit-learn's
"Found array with 0 sample(s)"); half the training rows missing in every
cell (imputer and detector, both mechanisms); a column observed once; a
table of one row; ``"self_masking"`` on a table of float, constant, level,
category, never-missing, boolean and Int64 columns at ``transform`` with
holes in the never-missing column and a row missing in every cell
(imputer: no hole, dtypes kept; detector: ``fit_predict`` equal to
``fit().predict()``, "auto" and 0.2).

Each family below failed once (see the commit that added its tests):

- **A boolean cell of an array taken for a number's placeholder**
  (``skvae._imputer._boolean_cells``, ``VAEImputer._missing_mask``): sweep 17
  decided that a boolean cell is never a number's placeholder, but fixed it
  for DataFrames only. Validation makes an array's booleans 1.0 and 0.0, so
  ``VAEImputer(missing_values=0)`` (or 1, 0.0, 1.0) took every False (True)
  of a bool array, of an object array's boolean cells or of a nested list
  of booleans for a missing cell and overwrote it with the other value (a
  column of False was dropped as empty), without a word. The boolean cells
  are read before validation and never matched. A bool array, which thus
  holds no missing cell, comes back as bool (it came back float64 0.0/1.0),
  as a DataFrame's bool column does.
- **A tiny contamination flagged no training row** (``skvae._outliers._threshold``):
  with ``contamination=1e-14`` (or 1e-300, 5e-324) on 40 rows the
  interpolated quantile lies within the tie allowance above the lowest
  score, so no row was flagged, against the documented "exactly one
  training row is flagged (unless they tie)", and the warning spoke of
  identical rows for two lowest scores 0.1 apart. The threshold is raised
  just above the lower of the two scores the quantile lies between where
  they do not tie; ties are inliers as before.
- **A NaN held as a value in an Arrow float column** (``skvae._input.missing_cells``):
  Arrow tells NaN from null (parquet read with the pyarrow backend, polars,
  Arrow's 0 / 0), and ``isna()`` sees only the null, while the model reads
  every NaN as a missing cell. So VAEImputer left such a NaN in its output
  (and let it pass under ``missing_values=-1``, which refuses NaN), and
  VAEOutlierDetector scored a row of nothing else 0 (log 1) and called it
  an inlier, where the same table with nulls had the cell filled and the
  row flagged. Both faces read such NaN as missing now.
- **What handle_unknown="ignore" does, unsaid by the faces' refusals** (``skvae._refusals.advice_reworded``,
  ``skvae._outliers._IGNORE_UNKNOWN_FOR_SCORES``, ``skvae._imputer._IGNORE_UNKNOWN_FOR_FILLS``,
  the detector's ``handle_unknown`` entry): both faces refused an unseen
  category with the VAE's advice "Set handle_unknown='ignore' to treat them
  as missing cells". Followed on the detector, a missing cell drops out of
  the row's score, so a never-seen category raises the score instead of
  lowering it and the row goes unflagged for the very value that made it
  unusual, which neither the refusal nor the docs said; on the imputer it
  read as if the cell would be filled with a known category, where the
  imputer keeps it as given (its documented rule). Decided: both behaviours
  are kept (documented, and OneHotEncoder's for the detector) and said:
  each face gives the advice in its own words (the same advice key, so the
  command line's own words are unchanged), and the detector's
  ``handle_unknown`` entry says an unseen category never lowers a score.
- **A column of Arrow's null type** (``skvae._imputer._set_fills``, ``_zeros_in_dtype``):
  a column missing in every row at ``transform`` given as ``null[pyarrow]``
  (an all-null column read or converted with the pyarrow backend) failed
  inside pyarrow ("NumPyConverter doesn't implement <null> conversion",
  "Converting strings to null is not implemented") from ``transform`` and
  ``multiple_imputations``, as did ``keep_empty_features=True`` for such a
  column at fit. It holds no value, so it is filled as an all-None object
  column is (in the fit's dtype), and kept empty as zeros (the number).
  Two more Arrow types of such a column failed the contract the same way:
  an empty Arrow dictionary column made pandas' ``mask`` fail inside the
  imputer ("cannot do a non-empty take from an empty axes";
  ``skvae._imputer._masked`` leaves a column missing in every row as it
  is), and ``bool[pyarrow]``, which takes any number, turned a real
  column's fills into True (-0.15 among them), silently, also where the
  column held some True and False (``skvae._imputer._not_booleans``: only
  booleans, 0 and 1 are set into a boolean column; other fills take the
  fit's dtype, or widen the column, as for pandas' own boolean dtype).
- **An array of durations advised a dates conversion** (``skvae._validation.check_array_dtype``):
  a timedelta64 array (or an object array holding a NumPy duration) given
  to either face was refused with "Convert it first (dates to numbers, e.g.
  days since a date)"; it now advises durations to numbers (seconds).

Found and LEFT:

- A category dtype's declared categories that no training row holds are
  scored by the full softmax (sweep 19's recorded design: decoding gives
  them probability 0, likelihoods keep them), so the detector neither
  refuses such a level under ``handle_unknown="error"`` nor, after a short
  fit, flags it: a declared but never seen ``'z'`` scored -2.55 against
  -2.32 for a seen ``'a'`` after 150 epochs (offset -4.2). Refusing it, or
  scoring it -inf, reverses that decision, and ``partial_fit`` may still
  bring the level in (sweep 19).
- A row with no observed cell scores ``-inf`` (sweep 15's decision), which
  scikit-learn's ranking metrics refuse: ``roc_auc_score`` of such scores
  is "Input contains infinity", and ``cross_val_score(..., scoring=
  "roc_auc")`` gives NaN for a fold holding such a row. A finite floor
  would change the recorded score and every test of it; dropping such rows
  first (the warning's advice) avoids it.
- Object arrays and nested lists of booleans come back as float64 0.0/1.0
  (an array is read as numbers, sweep 14); only a bool ndarray keeps its
  dtype, as only an integer ndarray keeps its own.
- A column missing in every row at ``transform`` given as an Arrow text
  type (``string[pyarrow]``, ``large_string[pyarrow]``) keeps that type, its
  fills written by Arrow's cast: a real column's as their repr, a bool
  column's as ``'true'``/``'false'`` (Python writes ``'True'``). The
  caller's text dtype is kept as sweep 23 keeps it for numbers written as
  text; the spelling of a bool there is Arrow's.
- A column fitted as reals and given at ``transform`` as Int64 comes back
  float64 where a fill is fractional (``skvae._imputer._set_fills``'
  recorded widening); its observed cells are kept.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from skvae import VAEImputer, VAEOutlierDetector
from skvae._outliers import _threshold

TINY = dict(max_iter=3, hidden_layer_sizes=(8,), latent_dim=2, random_state=0)


# ------------------------------------------------- booleans of an array


def _bool_array(n_rows=20, seed=0):
    rng = np.random.default_rng(seed)
    booleans = rng.random((n_rows, 2)) < 0.5
    booleans[0] = [False, True]  # both values in each column
    booleans[1] = [True, False]
    return booleans


@pytest.mark.parametrize("missing_values", [0, 1, 0.0, 1.0, np.int64(0)])
def test_a_bool_arrays_cells_are_never_a_numbers_placeholder(missing_values):
    """Every False (True) of a bool array was taken for the placeholder 0 (1) and overwritten."""
    booleans = _bool_array()
    imputer = VAEImputer(missing_values=missing_values, **TINY)
    for out in (imputer.fit_transform(booleans), imputer.transform(booleans)):
        assert out.dtype == bool
        np.testing.assert_array_equal(out, booleans)


def test_a_column_of_false_is_not_dropped_as_empty_under_the_placeholder_0():
    booleans = _bool_array()
    booleans[:, 1] = False
    out = VAEImputer(missing_values=0, **TINY).fit_transform(booleans)
    np.testing.assert_array_equal(out, booleans)


@pytest.mark.parametrize("missing_values", [0, 1])
def test_an_object_arrays_boolean_cells_are_kept_and_its_placeholders_filled(missing_values):
    """Booleans beside numbers in an object array: the placeholder's numbers are filled, the booleans kept."""
    rng = np.random.default_rng(1)
    n_rows = 24
    cells = np.empty((n_rows, 2), dtype=object)
    cells[:, 0] = [bool(value) for value in rng.random(n_rows) < 0.5]
    cells[0, 0], cells[1, 0] = False, True
    cells[:, 1] = [float(value) for value in rng.integers(2, 9, n_rows)]
    placeholder_rows = [3, 7, 11]
    for row in placeholder_rows:
        cells[row, 1] = missing_values  # an int: a number's placeholder, no boolean
    imputer = VAEImputer(missing_values=missing_values, **TINY)
    for out in (imputer.fit_transform(cells), imputer.transform(cells)):
        np.testing.assert_array_equal(out[:, 0], cells[:, 0].astype(float))
        observed = np.setdiff1d(np.arange(n_rows), placeholder_rows)
        np.testing.assert_array_equal(out[observed, 1], cells[observed, 1].astype(float))
        fills = out[placeholder_rows, 1]
        assert np.all((fills >= 2) & (fills <= 8)), fills


def test_a_nested_list_of_booleans_keeps_its_cells():
    booleans = _bool_array()
    out = VAEImputer(missing_values=1, **TINY).fit_transform(booleans.tolist())
    np.testing.assert_array_equal(out, booleans.astype(float))


def test_a_bool_array_comes_back_as_bool_from_every_output():
    """An imputer fitted on floats with holes, given a bool array: nothing to fill, the array comes back as given."""
    booleans = _bool_array()
    rng = np.random.default_rng(2)
    numbers = rng.normal(size=booleans.shape)
    numbers[::5, 0] = np.nan
    imputer = VAEImputer(sample_posterior=True, add_indicator=True, **TINY).fit(numbers)
    out = imputer.transform(booleans)
    assert out.dtype == bool
    np.testing.assert_array_equal(out[:, :2], booleans)
    assert not out[:, 2:].any()  # the indicator: no cell missing
    for copy in imputer.multiple_imputations(booleans, n_imputations=2):
        assert copy.dtype == bool
        np.testing.assert_array_equal(copy[:, :2], booleans)


# ------------------------------------------------- contamination at its extremes


def _distinct_rows(n_rows=40):
    rng = np.random.default_rng(3)
    return rng.normal(size=(n_rows, 3))


@pytest.mark.parametrize(("contamination", "dtype"), [(1e-14, np.float64), (1e-16, np.float64),
                                                     (1e-300, np.float64), (5e-324, np.float64),
                                                     (1e-7, np.float32), (1e-300, np.float32)])
def test_a_tiny_contamination_flags_exactly_the_lowest_training_row(contamination, dtype):
    """The documented rule: fewer than 1 / contamination rows, exactly one flagged unless the two lowest tie."""
    X = _distinct_rows().astype(dtype)
    detector = VAEOutlierDetector(contamination=contamination, **TINY)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        labels = detector.fit_predict(X)
    scores = detector.score_samples(X)
    ordered = np.sort(scores)
    assert ordered[1] - ordered[0] > 1e-6  # the two lowest do not tie
    np.testing.assert_array_equal(np.flatnonzero(labels == -1), [np.argmin(scores)])
    np.testing.assert_array_equal(detector.predict(X), labels)
    decision = detector.decision_function(X)
    np.testing.assert_array_equal(decision, scores - detector.offset_)
    np.testing.assert_array_equal(labels, np.where(decision < 0, -1, 1))


def test_a_tiny_contamination_keeps_tying_lowest_rows_inliers():
    """The two lowest scores tie (identical rows, rounded apart): the quantile between them is a tie, an inlier."""
    scores = np.array([-7.5, -7.5 * (1 + 1e-15), -7.4, -7.0, -6.5, -6.1])
    with pytest.warns(UserWarning, match="flags no training row"):
        offset = _threshold(scores, 1e-14)
    assert not (scores < offset).any()


def test_rows_tying_with_the_flagged_lowest_row_are_flagged_with_it():
    """Scores 0 and 1 tie, 2 does not: a quantile just above score 1 flags both tying rows, not row 2."""
    scores = np.array([-7.5 * (1 + 1e-15), -7.5, -7.4, -7.0, -6.5, -6.1])
    position = 1 + 1e-14  # contamination * (n - 1)
    offset = _threshold(scores, position / (len(scores) - 1))
    np.testing.assert_array_equal(scores < offset, [True, True, False, False, False, False])


@pytest.mark.parametrize("contamination", [0.1, 0.25, 0.5])
def test_an_ordinary_contamination_flags_its_share_as_before(contamination):
    X = _distinct_rows()
    labels = VAEOutlierDetector(contamination=contamination, **TINY).fit_predict(X)
    assert (labels == -1).sum() == int(np.ceil(contamination * (len(X) - 1)))


# ------------------------------------------------- NaN held as a value in an Arrow float column


def _arrow_floats(values, nan_as_value):
    """A pyarrow-backed float64 column whose None are NaN values (Arrow's NaN, not null) or nulls."""
    pa = pytest.importorskip("pyarrow")
    cells = [float("nan") if (value is None and nan_as_value) else value for value in values]
    return pd.Series(pd.arrays.ArrowExtensionArray(pa.array(cells, from_pandas=False)))


def _arrow_table(nan_as_value):
    rng = np.random.default_rng(4)
    a = [float(value) for value in rng.normal(size=24)]
    b = [float(value) for value in rng.normal(size=24)]
    a[2] = a[5] = None
    b[5] = b[9] = None  # row 5: no observed cell
    return pd.DataFrame({"a": _arrow_floats(a, nan_as_value), "b": _arrow_floats(b, nan_as_value)})


def test_a_nan_value_in_an_arrow_float_column_is_imputed_as_a_null_is():
    """The imputer left such a NaN in its output (isna() does not see it; the VAE read it as missing)."""
    with_nan, with_null = _arrow_table(True), _arrow_table(False)
    assert not with_nan.isna().any().any()  # what made the imputer miss them
    imputer = VAEImputer(add_indicator=True, **TINY)
    out = imputer.fit_transform(with_nan)
    expected = VAEImputer(add_indicator=True, **TINY).fit_transform(with_null)
    pd.testing.assert_frame_equal(out, expected)
    assert not np.isnan(out[["a", "b"]].to_numpy(dtype=np.float64, na_value=np.nan)).any()
    pd.testing.assert_frame_equal(imputer.transform(with_nan), expected)
    drawing = VAEImputer(sample_posterior=True, **TINY).fit(with_nan)
    for copy in drawing.multiple_imputations(with_nan, n_imputations=2):
        assert not np.isnan(copy.to_numpy(dtype=np.float64, na_value=np.nan)).any()


def test_a_nan_value_in_an_arrow_float_column_is_refused_under_another_placeholder():
    with_nan = _arrow_table(True).fillna(-1.0)  # fills the nulls only: none here
    with pytest.raises(ValueError, match="Input X contains NaN \\(in column 'a'\\)"):
        VAEImputer(missing_values=-1, **TINY).fit(with_nan)


def test_a_row_of_arrow_nan_values_is_flagged_as_a_row_of_nulls():
    """The detector scored a row holding nothing but such NaN 0 (log 1) and called it an inlier."""
    with_nan, with_null = _arrow_table(True), _arrow_table(False)
    detector = VAEOutlierDetector(contamination=0.1, **TINY)
    with pytest.warns(UserWarning, match="row 5"):
        labels = detector.fit_predict(with_nan)
    assert labels[5] == -1
    for method in ("predict", "decision_function", "score_samples"):
        with pytest.warns(UserWarning, match=r"\(row 5\) has no observed cell"):
            given_nan = getattr(detector, method)(with_nan)
        with pytest.warns(UserWarning, match=r"\(row 5\) has no observed cell"):
            given_null = getattr(detector, method)(with_null)
        np.testing.assert_array_equal(given_nan, given_null)


# ------------------------------------------------- an unseen category, for a detector


def _labelled_table():
    rng = np.random.default_rng(5)
    return pd.DataFrame({"c": rng.choice(["a", "b"], 40), "x": rng.normal(size=40)})


@pytest.mark.parametrize("method", ["predict", "decision_function", "score_samples", "score_columns"])
def test_the_detectors_refusal_of_an_unseen_category_says_what_ignore_does_to_a_score(method):
    """The advice "treat them as missing cells" hid that, followed, the unseen category never lowers a score."""
    detector = VAEOutlierDetector(**TINY).fit(_labelled_table())
    unseen = pd.DataFrame({"c": ["a", "zzz"], "x": [0.0, 0.0]})
    with pytest.raises(ValueError, match="holds categories not seen during fit") as refused:
        getattr(detector, method)(unseen)
    message = str(refused.value)
    assert "handle_unknown='ignore' to score such a row on its other cells" in message
    assert "never lowers it" in message
    assert "'zzz'" in message and "Known categories: ['a', 'b']" in message
    # Still the same advice for a face that says it in its own words (the command line).
    keys = [part.fields.get("key") for part in refused.value.parts if getattr(part, "kind", None) == "advice"]
    assert "ignore_unknown" in keys


def test_the_transformers_refusal_of_an_unseen_category_is_unchanged():
    from skvae import VAETransformer

    vae = VAETransformer(**TINY).fit(_labelled_table())
    with pytest.raises(ValueError, match="Set handle_unknown='ignore' to treat them as missing cells\\."):
        vae.score_samples(pd.DataFrame({"c": ["zzz"], "x": [0.0]}))


def test_under_ignore_an_unseen_category_scores_as_a_missing_cell_as_documented():
    """What the detector's handle_unknown entry now says: the row is scored on its other cells."""
    detector = VAEOutlierDetector(handle_unknown="ignore", **TINY).fit(_labelled_table())
    rows = pd.DataFrame({"c": ["zzz", None], "x": [0.3, 0.3]})
    scores = detector.score_samples(rows)
    assert scores[0] == scores[1]
    assert "never lowers the score" in " ".join(VAEOutlierDetector.__doc__.split())


@pytest.mark.parametrize("sample_posterior", [False, True])
def test_the_imputers_refusal_of_an_unseen_category_says_the_cell_is_kept(sample_posterior):
    """The VAE's "treat them as missing cells" read as if the imputer would fill such a cell; it keeps it."""
    table = _labelled_table()
    table.loc[0, "x"] = np.nan
    imputer = VAEImputer(sample_posterior=sample_posterior, **TINY).fit(table)
    unseen = pd.DataFrame({"c": ["zzz"], "x": [np.nan]})
    for call in (imputer.transform, lambda X: imputer.multiple_imputations(X, n_imputations=2)):
        with pytest.raises(ValueError, match="holds categories not seen during fit") as refused:
            call(unseen)
        assert "handle_unknown='ignore' to keep such a cell as it is" in str(refused.value)
        assert "the cell itself is not filled" in str(refused.value)
    # What the advice says, followed: the cell comes back as given, the row's hole filled.
    out = VAEImputer(handle_unknown="ignore", **TINY).fit(table).transform(unseen)
    assert out.loc[0, "c"] == "zzz" and not np.isnan(out.loc[0, "x"])


def test_advice_reworded_keeps_the_refusals_class_fields_and_other_advice():
    """A face's words for one advice: the class (TypeError too), a NetworkOverflow's rows and any other advice kept."""
    from skvae._inference import NetworkOverflow
    from skvae._refusals import Refusal, TypeRefusal, advice, advice_reworded

    reworded = advice("k", "NEW.")
    made = [lambda: Refusal("a ", advice("k", "OLD."), " ", advice("other", "KEPT.")),
            lambda: TypeRefusal("a ", advice("k", "OLD."), " ", advice("other", "KEPT.")),
            lambda: NetworkOverflow(("a ", advice("k", "OLD."), " ", advice("other", "KEPT.")), rows=[3])]
    for make in made:
        original = make()
        with pytest.raises(type(original)) as raised:
            with advice_reworded(reworded):
                raise make()
        assert str(raised.value) == "a NEW. KEPT." and type(raised.value) is type(original)
        assert raised.value.args == ("a NEW. KEPT.",)
        assert getattr(raised.value, "rows", None) == getattr(original, "rows", None)
    with pytest.raises(Refusal, match="^a OLD.$"):  # no such advice: the refusal as raised
        with advice_reworded(advice("absent", "NEW.")):
            raise Refusal("a ", advice("k", "OLD."))


# ------------------------------------------------- an array of durations


@pytest.mark.parametrize("estimator", [VAEImputer, VAEOutlierDetector])
def test_an_array_of_durations_is_advised_a_durations_conversion(estimator):
    """Durations were advised "dates to numbers, e.g. days since a date", which they are not."""
    durations = np.array([[1, 2], [3, 4], [5, 6]], dtype="timedelta64[s]")
    with pytest.raises(ValueError, match=r"array of durations .*durations to numbers, e\.g\. seconds"):
        estimator(**TINY).fit(durations)
    held = np.array([[1.0, np.timedelta64(3, "s")], [2.0, 4.0]], dtype=object)
    with pytest.raises(ValueError, match=r"a duration, .*durations to numbers, e\.g\. seconds"):
        estimator(**TINY).fit(held)
    dates = np.array([["2020-01-01", "2020-01-02"]] * 3, dtype="datetime64[D]")
    with pytest.raises(ValueError, match=r"array of dates .*dates to numbers, e\.g\. days since a date"):
        estimator(**TINY).fit(dates)


# ------------------------------------------------- a column of Arrow's null type


def _arrow_nulls(n_rows, index=None):
    pa = pytest.importorskip("pyarrow")
    return pd.Series(pd.arrays.ArrowExtensionArray(pa.nulls(n_rows)), index=index)


def _mixed_table():
    rng = np.random.default_rng(6)
    table = pd.DataFrame({"a": rng.normal(size=30), "c": rng.choice(["x", "y"], 30), "i": rng.integers(0, 50, 30)})
    table.loc[0, "a"] = np.nan
    return table


@pytest.mark.parametrize("column", ["a", "c", "i"])
@pytest.mark.parametrize("sample_posterior", [False, True])
def test_a_column_of_arrows_null_type_at_transform_is_filled_as_an_all_none_column(column, sample_posterior):
    """Setting a fill in a null[pyarrow] column failed inside pyarrow ("NumPyConverter doesn't implement <null>")."""
    table = _mixed_table()
    rows = table.head(4).copy()
    as_nulls, as_nones = rows.copy(), rows.copy()
    as_nulls[column] = _arrow_nulls(len(rows), index=rows.index)
    as_nones[column] = pd.Series([None] * len(rows), index=rows.index, dtype=object)
    imputer = VAEImputer(sample_posterior=sample_posterior, **TINY).fit(table)
    copies = imputer.multiple_imputations(as_nulls, n_imputations=2)
    out = imputer.transform(as_nulls)
    expected = VAEImputer(sample_posterior=sample_posterior, **TINY).fit(table)
    expected_copies = expected.multiple_imputations(as_nones, n_imputations=2)
    pd.testing.assert_frame_equal(out, expected.transform(as_nones))
    assert out[column].dtype == table[column].dtype  # the fit's, as an all-None column takes
    for copy, expected_copy in zip(copies, expected_copies):
        pd.testing.assert_frame_equal(copy, expected_copy)
        assert not copy.isna().any().any()


def test_a_column_of_arrows_null_type_at_fit_is_dropped_or_kept_as_zeros():
    table = _mixed_table()
    table["z"] = _arrow_nulls(len(table))
    assert list(VAEImputer(**TINY).fit_transform(table).columns) == ["a", "c", "i"]
    kept = VAEImputer(keep_empty_features=True, add_indicator=True, **TINY).fit_transform(table)
    assert list(kept.columns[:4]) == ["a", "c", "i", "z"]
    assert kept["z"].tolist() == [0] * len(table)  # Arrow's null type holds no 0: the number, as SimpleImputer


def _typed_nulls(n_rows, arrow_type, index):
    pa = pytest.importorskip("pyarrow")
    return pd.Series(pd.arrays.ArrowExtensionArray(pa.nulls(n_rows, type=arrow_type)), index=index)


@pytest.mark.parametrize("column", ["a", "c", "i"])
def test_a_column_of_an_empty_arrow_dictionary_at_transform_is_filled(column):
    """pandas' mask failed on it ("cannot do a non-empty take from an empty axes"), from inside the imputer."""
    pa = pytest.importorskip("pyarrow")
    table = _mixed_table()
    rows = table.head(4).copy()
    as_dictionary, as_nones = rows.copy(), rows.copy()
    as_dictionary[column] = _typed_nulls(len(rows), pa.dictionary(pa.int32(), pa.string()), rows.index)
    as_nones[column] = pd.Series([None] * len(rows), index=rows.index, dtype=object)
    imputer = VAEImputer(**TINY).fit(table)
    out, expected = imputer.transform(as_dictionary), imputer.transform(as_nones)
    assert out[column].tolist() == expected[column].tolist()
    pd.testing.assert_frame_equal(out.drop(columns=column), expected.drop(columns=column))
    for copy in imputer.multiple_imputations(as_dictionary, n_imputations=2):
        assert not copy.isna().any().any()


def test_a_real_columns_fills_are_not_read_as_booleans_by_an_arrow_bool_column():
    """pyarrow's bool type took any number: a real column given as bool[pyarrow] came back True (-0.15 too)."""
    pa = pytest.importorskip("pyarrow")
    table = _mixed_table()
    rows = table.head(4).copy()
    as_bools, as_nones = rows.copy(), rows.copy()
    as_bools["a"] = _typed_nulls(len(rows), pa.bool_(), rows.index)
    as_nones["a"] = pd.Series([None] * len(rows), index=rows.index, dtype=object)
    imputer = VAEImputer(**TINY).fit(table)
    pd.testing.assert_frame_equal(imputer.transform(as_bools), imputer.transform(as_nones))
    # Partly observed: its True and False kept as given, its fills the numbers they are, none cast to a bool.
    partly = rows.copy()
    partly["a"] = pd.Series(pd.arrays.ArrowExtensionArray(pa.array([True, None, False, None])), index=rows.index)
    out = imputer.transform(partly)
    assert out["a"].iloc[0] is True or out["a"].iloc[0] == True  # noqa: E712 (a NumPy or Python bool)
    fills = [out["a"].iloc[1], out["a"].iloc[3]]
    assert not any(isinstance(fill, (bool, np.bool_)) for fill in fills), fills
    low, high = table["a"].min(), table["a"].max()
    assert all(low <= fill <= high for fill in fills), fills
