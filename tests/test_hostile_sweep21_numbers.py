"""Hostile input, twenty-first sweep: numbers at the edges, in tables.

Swept and found sound: DataFrame columns of 1e300 (positive, negative and
mixed signs), 1e-300, subnormals (5e-324 and up), int64 at its minimum and
maximum, uint64 at its maximum and near 2**63, float16 near 65504, float32
near 3e38, nullable Int64/UInt64/Float32 at those edges with pd.NA, one
distinct value, two distinct values in int8 ({3, 7}), int16 ({-1, 1}) and
float32 ({0.5, 2}), a near-constant column (1 + 1e-15 noise), Cauchy and
Pareto(0.5) tails, 99.9% zeros, [0, 1] with exact 0s and 1s, negative-only
values and whole numbers stored as float with holes, each alone and all
together, on 60, 3 and 2 rows: fit under ``likelihood="auto"`` and every
kind, ``transform``, ``inverse_transform``, ``sample``, ``sample(given=...)``,
``score_samples`` (``n_importance`` 1 and 3), VAEImputer fills and
VAEOutlierDetector scores give finite values, in the column's dtype and in
its observed range (beyond 2**53 up to float64's rounding, the left item of
sweep 19), with no warning from NumPy or torch; kinds whose support a column
leaves (``lognormal`` on zeros or negatives, counts on fractions, negatives
or values beyond 2**24, ``bernoulli`` beyond [0, 1]) are refused naming the
column, the value and a way out; ``bernoulli`` on values inside [0, 1]
(1e-300) decodes probabilities, as documented (``keeps_range = False``).
The typing rule (user guide, "likelihood='auto'"; ``_column_types``) gives
the documented kinds at these edges (two values or fewer: categorical; a
tenth on one value: inflated; 50 values or more: quantile-normal), and
``column_kinds_`` reports them. A float16 or float32 table scored far out
stays finite (scores in float64 for float16 arrays, scikit-learn's float
rule). ``inverse_transform`` of codes from 1e3 to +-3e38 and 1e300 decodes
every such column inside its range, in its dtype; int64, Int64, uint64 and
UInt64 columns a few thousand below their maximum, under ``gaussian``,
``quantile_normal`` and ``inflated_gaussian``, never wrap around on the way
back from float64. Whole numbers with holes stay whole, money keeps two
decimals, [0, 1] and non-negative columns stay inside, in samples, ``given``,
``return_mean``, reconstructions and VAEImputer's fills and
``multiple_imputations`` on 3, 5 and 60 rows. NumPy arrays of these edges
(float64, float32 near 3.4e38, 1e-38 and subnormal, int64 and uint64
extremes, two rows) through the three faces: finite, in range.

Each family below failed once (see the commit that added its tests):

- **The spike of "auto" counted on rounded values** (``skvae._column_types._numeric_auto_kind``):
  the distinct values were counted exactly (sweep 10's integers beyond
  2**53), but the share of the commonest one on float64 values, where
  integers near 2**60 lie 256 apart: 60 distinct ids fell on four floats,
  and the column was typed ``inflated_gaussian`` with a point mass on a
  value no row holds, where the same ids minus 2**60 are quantile-normal.
  The spike is counted on the exact values now.
- **VAEImputer lost the digits of int64 columns it masked** (``skvae._imputer._integers_kept_exact``):
  ``DataFrame.mask`` turns an int64 or uint64 column with a masked cell
  into float64, so a column holding int64's extremes or ids beyond 2**53,
  typed categorical, reached the VAE as ``9.223372036854776e+18`` for
  ``9223372036854775807``: ``fit`` on a complete table failed with
  "categories not seen during fit" (its refinement hides observed cells),
  as did ``transform`` of a row with a hole elsewhere under a
  ``missing_values`` placeholder. Such columns are masked in Int64 / UInt64.
- **An unseen number that is a known integer rounded** (``skvae._schema._rounded_integer_hint``):
  a column fitted as int64 and given as float64 (a missing cell set by
  pandas) was refused listing ``9.223372036854776e+18`` beside the known
  ``9223372036854775807`` with no reason. Decided: still refused (two
  categories can round to one float64, and the digits are lost), now saying
  which category it rounds and how to keep the integers (advice term
  ``keep_exact_integers``; the command line says it in its words).
- **The command line read integer columns with holes as float64** (``skvae._csv._exact_integers_with_holes``):
  a file whose column of large integers had an empty cell lost their last
  digits, and a model fitted on the same column without a hole refused it.
  Beyond int64's maximum pandas read it as text, the empty cell as the
  text ``''``, which ``fit`` and ``impute`` modelled as a category (a hole
  "filled" with nothing). Where every present cell is written as an integer
  and one lies beyond 2**53, the column is read into Int64 (UInt64) from its
  written cells.
- **A value far beyond a column of tiny numbers** (``skvae._likelihoods.QuantileNormalBlock.encode``,
  ``skvae._model.VAEModel._naming_overflowing_cells``): 1e300 (or 1e30) in
  a column fitted near 1e-300 maps beyond float64 in the quantile-normal
  encoding: NumPy's "overflow encountered in multiply" (or divide) reached
  the caller as a RuntimeWarning, and ``transform``, ``score_samples``
  (any ``n_importance``) and the detector's scores were refused as "The
  fitted networks overflowed on 1 of 4 rows", naming no column. The
  encoding is silent now (its infinity is the overflow refused), and the
  refusal names the rows, the columns and the farthest value with its
  fitted range, as VAEImputer's (sweep 10) and ``given``'s do. The
  detector's ``score_columns`` returned NaN for every cell of such a row
  (NaN is its answer for a missing cell, so the overflow check let it
  through): refused alike now (``VAEModel.column_log_likelihood``).
- **The warning of integers beyond 2**53 spoke Python on the command line** (``skvae._schema._warn_inexact_integers``):
  ``skvae fit`` and ``skvae impute`` on a column of ids beyond 2**53 told the
  file's user to "model the column as categories (likelihood='categorical')".
  The warning is a TermWarning now (a UserWarning still), its way out the
  advice ``keep_every_digit``: fit says ``--likelihood id=categorical``,
  impute (which has no --likelihood) ``--drop id``.

Found, not changed:

- A float16 NumPy array comes back from ``transform``, ``inverse_transform``
  and ``sample`` as float64 (scikit-learn's ``check_array`` keeps only float32
  and float64); a float16 DataFrame column keeps float16 (sweep 10). Scores
  of float16 in float16 would overflow at -65504, so float64 is the safer
  reading; left as scikit-learn's rule.
- On fewer than ten rows, any numeric column of three or more distinct
  values is ``inflated_gaussian`` under "auto" (one row is a tenth of them:
  rule 3 as documented), its spike one of the values seen once. A typing
  policy for tiny tables (sweep 20 left first-block typing alike): left.
- ``sample`` of a model fitted on a float32 array gives float64, as its
  docstring says ("float64 for a model fitted on an array").
- (Fixed in sweep 33, tests/test_hostile_sweep33_left.py: a ``rows`` term,
  said as lines by the command line.) The overflow refusal's list of rows
  was plain text, 0-based rows beside the "line 3" of the same cell.
- Refusals of a kind's support quote an int64 value as float64
  (``found -9.223372036854776e+18`` for int64's minimum): the value is the
  one the likelihood sees; the column and kind are named. Cosmetic, left.
"""

import io
import warnings

import numpy as np
import pandas as pd
import pytest

from skvae import VAEImputer, VAEOutlierDetector, VAETransformer
from _cli_run import run_cli as _run
from skvae._csv import read_table
from skvae._refusals import Refusal

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(latent_dim=2, hidden_layer_sizes=(8,), max_iter=2, random_state=0, device="cpu")
I64, U64 = np.iinfo(np.int64), np.iinfo(np.uint64)
EDGE_INTEGERS = {
    "int64 extremes": np.array([I64.min, 0, I64.max] * 10, dtype=np.int64),
    "uint64 extremes": np.array([0, U64.max, 5] * 10, dtype=np.uint64),
    "ids beyond 2**53": (2 ** 60 + np.array([3, 517, 901] * 10)).astype(np.int64),
}


def _quiet(call):
    """`call()` with every warning an error, so NumPy's or torch's RuntimeWarnings fail the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message=".*beyond 2\\*\\*53.*", category=UserWarning)
        warnings.filterwarnings("ignore", category=Warning, module="sklearn")
        return call()


# ------------------------------------------------------------------ typing: the spike counted exactly


@pytest.mark.parametrize("dtype", [np.int64, np.uint64])
def test_auto_types_large_ids_as_the_same_ids_near_zero(dtype):
    """60 distinct ids near 2**60 fall on a handful of float64 values: no spike, as at a small offset."""
    offsets = np.arange(60) * 5
    near_zero = pd.DataFrame({"id": offsets.astype(dtype)})
    large = pd.DataFrame({"id": (offsets + 2 ** 60).astype(dtype)})
    assert np.unique(large["id"].to_numpy(dtype=np.float64)).size < 6  # the premise: float64 merges them
    expected = VAETransformer(**TINY).fit(near_zero).column_kinds_["id"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sweep 10's warning about digits beyond 2**53
        model = VAETransformer(**TINY).fit(large)
    assert expected == "quantile_normal"
    assert model.column_kinds_["id"] == expected == model._schema.columns[0]["kind"]


def test_a_real_spike_among_large_ids_is_still_one():
    """The exact count keeps the rule: a tenth of the rows on one id is a spike."""
    ids = 2 ** 60 + np.r_[np.full(12, 7), np.arange(100, 148) * 3].astype(np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model = VAETransformer(**TINY).fit(pd.DataFrame({"id": ids}))
    assert model.column_kinds_ == {"id": "inflated_gaussian"}


# ------------------------------------------------------------------ VAEImputer: masking keeps every digit


def _table(name):
    return pd.DataFrame({"n": EDGE_INTEGERS[name], "x": np.random.default_rng(0).normal(size=30)})


@pytest.mark.parametrize("name", list(EDGE_INTEGERS))
def test_the_imputer_fits_and_fills_integers_beyond_float64(name):
    """fit on a complete table, then fill a hole in each column: every integer comes back exactly."""
    X = _table(name)
    imputer = _quiet(lambda: VAEImputer(**TINY).fit(X))
    holed = X.astype({"n": "UInt64" if X["n"].dtype.kind == "u" else "Int64"})
    holed.loc[0, "n"] = pd.NA
    holed.loc[1, "x"] = np.nan
    filled = _quiet(lambda: imputer.transform(holed))
    assert filled["n"].iloc[0] in set(X["n"].tolist())
    pd.testing.assert_series_equal(filled["n"].iloc[1:], holed["n"].iloc[1:])
    assert np.isfinite(filled["x"].iloc[1]) and filled["n"].dtype == holed["n"].dtype
    # The caller's table is not changed by the call.
    assert holed["n"].isna().iloc[0] and np.isnan(holed["x"].iloc[1])


@pytest.mark.parametrize("name", list(EDGE_INTEGERS))
def test_a_placeholder_in_another_column_leaves_large_integers_exact(name):
    """missing_values=-7 masks a cell of x: the int64 column beside it reaches the VAE unrounded."""
    X = _table(name)
    X.loc[0, "x"] = -7.0
    imputer = _quiet(lambda: VAEImputer(missing_values=-7, **TINY).fit(X))
    filled = _quiet(lambda: imputer.transform(X))
    pd.testing.assert_series_equal(filled["n"], X["n"])
    assert filled["x"].iloc[0] != -7.0 and np.isfinite(filled["x"].iloc[0])


# ------------------------------------------------------------------ the refusal of a rounded integer


def test_a_known_integer_rounded_to_float64_is_refused_with_its_reason():
    X = _table("int64 extremes")
    model = _quiet(lambda: VAETransformer(**TINY).fit(X))
    rounded = X.astype({"n": np.float64})
    before = model.transform(X)
    with pytest.raises(ValueError, match="holds categories not seen during fit") as error:
        model.transform(rounded)
    message = str(error.value)
    assert "9223372036854775807 rounded to float64" in message and "astype('Int64')" in message
    assert isinstance(error.value, Refusal) and error.value.term("advice") is not None
    assert any(getattr(part, "fields", {}).get("key") == "keep_exact_integers" for part in error.value.parts)
    np.testing.assert_array_equal(model.transform(X), before)  # the refused call changed nothing


def test_neighbours_that_round_alike_are_both_named():
    X = pd.DataFrame({"n": (2 ** 60 + np.array([1, 2] * 15)).astype(np.int64)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model = VAETransformer(**TINY).fit(X)
    with pytest.raises(ValueError, match=f"{2 ** 60 + 1} or {2 ** 60 + 2} rounded to float64"):
        model.transform(X.astype(np.float64))


def test_an_unseen_float_that_rounds_no_category_gets_no_hint():
    model = _quiet(lambda: VAETransformer(**TINY).fit(_table("int64 extremes")))
    with pytest.raises(ValueError, match="not seen during fit") as error:
        model.transform(pd.DataFrame({"n": [2.0 ** 62], "x": [0.0]}))
    assert "rounded to float64" not in str(error.value)


# ------------------------------------------------------------------ the command line


def _write(path, rows):
    path.write_text("n,x\n" + "".join(f"{n},{x}\n" for n, x in rows))
    return path


@pytest.mark.parametrize("values, dtype", [([I64.max, -I64.max, 5], "Int64"), ([U64.max, 0, 5], "UInt64")])
def test_a_file_of_large_integers_with_a_hole_is_read_digit_for_digit(tmp_path, values, dtype):
    path = _write(tmp_path / "holed.csv", [(values[i % 3] if i != 1 else "", i) for i in range(7)])
    if dtype == "Int64" and pd.read_csv(io.StringIO(f"n,x\n{-I64.max},1\n,2\n"))["n"].isna().all():
        # Left by hostile sweep 33: pandas 1.x's parser reads -9223372036854775807
        # in a column with a hole as NaN, in every table it reads; skvae sees a missing cell there.
        pytest.xfail("pandas < 2 reads -9223372036854775807 beside an empty cell as missing")
    frame = read_table(str(path)).frame
    assert str(frame["n"].dtype) == dtype
    assert frame["n"].isna().tolist() == [i == 1 for i in range(7)]
    assert frame["n"].dropna().tolist() == [values[i % 3] for i in range(7) if i != 1]


def test_a_file_of_small_integers_with_a_hole_is_read_as_before(tmp_path):
    path = _write(tmp_path / "small.csv", [(i if i != 1 else "", i) for i in range(7)])
    assert read_table(str(path)).frame["n"].dtype == np.float64


def test_a_model_of_large_integers_takes_the_same_file_with_a_hole(tmp_path):
    big = [I64.max, -I64.max, 5]
    fitted = _write(tmp_path / "fit.csv", [(big[i % 3], i * 0.37) for i in range(30)])
    holed = _write(tmp_path / "holed.csv", [(big[i % 3] if i != 1 else "", i * 0.37) for i in range(6)])
    model = tmp_path / "m.skvae"
    status, _, err = _run(["fit", fitted, "--out", model, "--max-iter", "2", "--random-state", "0"])
    assert status == 0, err
    status, out, err = _run(["transform", model, holed])
    assert status == 0, err
    assert len(out.strip().splitlines()) == 7  # a header and six rows of codes


def test_the_command_line_says_a_rounded_integer_in_its_words(tmp_path):
    big = [I64.max, -I64.max, 5]
    fitted = _write(tmp_path / "fit.csv", [(big[i % 3], i * 0.37) for i in range(30)])
    rounded = _write(tmp_path / "rounded.csv", [("9.223372036854776e+18", 1.0), (5, 2.0)])
    model = tmp_path / "m.skvae"
    assert _run(["fit", fitted, "--out", model, "--max-iter", "2", "--random-state", "0"])[0] == 0
    status, _, err = _run(["transform", model, rounded])
    assert status != 0
    assert "rounded to float64" in err and "write the column's integers in full" in err
    assert "astype" not in err


def test_an_empty_cell_among_integers_beyond_int64_is_a_missing_cell(tmp_path):
    """pandas reads such a column as text, its empty cell as ''; it was fitted as a category ''."""
    path = _write(tmp_path / "u.csv", [(U64.max if i % 2 else 0, i) if i != 2 else ("", i) for i in range(8)])
    status, out, err = _run(["impute", path, "--max-iter", "2", "--random-state", "0"])
    assert status == 0, err
    filled = [line.split(",")[0] for line in out.strip().splitlines()[1:]]
    assert filled[2] in {str(U64.max), "0"}
    assert filled[:2] + filled[3:] == [str(U64.max if i % 2 else 0) for i in range(8) if i != 2]


# ------------------------------------------------------------------ a value far beyond a column of tiny numbers


def _tiny_scale_table():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"tiny": rng.uniform(1e-300, 1e-299, 60), "x": rng.normal(size=60)})


@pytest.mark.parametrize("far", [1e300, -1e300, 1e30])
@pytest.mark.parametrize("face, method", [(VAETransformer, "transform"), (VAETransformer, "score_samples"),
                                          (VAEOutlierDetector, "decision_function"), (VAEImputer, "transform")])
def test_a_value_far_beyond_tiny_numbers_is_refused_naming_its_cell_without_numpy_warnings(face, method, far):
    """1e300 in a column fitted near 1e-300: NumPy warned "overflow encountered in multiply", and the
    transformer's and detector's refusal named no column (the imputer's named it, sweep 10)."""
    X = _tiny_scale_table()
    model = _quiet(lambda: face(**TINY).fit(X))
    Y = X.iloc[:4].copy()
    Y.loc[2, "tiny"] = far
    if face is VAEImputer:
        Y.loc[0, "x"] = np.nan
    before = getattr(model, method)(X.iloc[:4])
    with pytest.raises(ValueError, match=r"overflowed on 1 of 4 rows \(row 2\).*column 'tiny' holds "
                                         + f"{far!r}".replace("+", r"\+") + " in row 2"):
        _quiet(lambda: getattr(model, method)(Y))
    np.testing.assert_array_equal(np.asarray(getattr(model, method)(X.iloc[:4])), np.asarray(before))


def test_score_samples_with_importance_names_the_cell_too():
    X = _tiny_scale_table()
    model = _quiet(lambda: VAETransformer(**TINY).fit(X))
    Y = X.iloc[:2].copy()
    Y.loc[1, "tiny"] = 1e300
    with pytest.raises(ValueError, match="column 'tiny' holds 1e\\+300 in row 1"):
        _quiet(lambda: model.score_samples(Y, n_importance=3))


# ------------------------------------------------------------------ the warning of integers beyond 2**53, in each face's words


def test_the_warning_of_inexact_integers_is_a_term_warning_with_python_words():
    from skvae._refusals import TermWarning

    X = pd.DataFrame({"id": (2 ** 60 + np.arange(60) * 999).astype(np.int64)})
    with pytest.warns(TermWarning, match=r"beyond 2\*\*53.*likelihood=\{'id': 'categorical'\}") as caught:
        VAETransformer(**TINY).fit(X)
    (warning,) = [w.message for w in caught if "2**53" in str(w.message)]
    assert any(getattr(part, "fields", {}).get("key") == "keep_every_digit" for part in warning.parts)


@pytest.mark.parametrize("command, option", [("fit", "--likelihood id=categorical"), ("impute", "--drop id")])
def test_the_command_line_warns_of_inexact_integers_in_its_options(tmp_path, command, option):
    """fit and impute said "model the column as categories (likelihood='categorical')", a Python parameter."""
    path = tmp_path / "ids.csv"
    path.write_text("id,x\n" + "".join(f"{2 ** 62 + 7919 * i},{i % 5}.5\n" for i in range(30)))
    argv = [command, path, "--max-iter", "1", "--random-state", "0"]
    argv += ["--out", tmp_path / "m.skvae"] if command == "fit" else []
    status, _, err = _run(argv)
    assert status == 0, err
    assert "beyond 2**53" in err and option in err and "likelihood=" not in err and "'categorical')" not in err


def test_score_columns_refuses_an_overflowing_row_instead_of_calling_its_cells_missing():
    """score_columns answered NaN (a missing cell's answer) for every cell of such a row, without a word."""
    X = _tiny_scale_table()
    detector = _quiet(lambda: VAEOutlierDetector(**TINY).fit(X))
    Y = X.iloc[:4].copy()
    Y.loc[2, "tiny"] = 1e300
    with pytest.raises(ValueError, match="column 'tiny' holds 1e\\+300 in row 2"):
        _quiet(lambda: detector.score_columns(Y))
    holed = X.iloc[:4].copy()
    holed.loc[1, "x"] = np.nan
    cells = detector.score_columns(holed)
    assert cells.isna().to_numpy().tolist() == holed.isna().to_numpy().tolist()  # missing cells still NaN
