"""Hostile use, twenty-fifth sweep: seeded random hostile-but-legal tables through the whole public API.

A seeded generator of small tables (the fuzzer, kept outside the suite; a
20-case version of it is :func:`test_seeded_hostile_tables_keep_the_contract`
below) drew about 2,000 cases: DataFrames of 1, 2, 3, 4-12 or 12-40 rows and
1-5 columns, or 2-3 rows and 15-30 columns, each column one of float,
whole-valued float, int8/int64/uint8/uint64 (near 2**63), int64 near 2**62,
bool, object booleans, nullable Int64/UInt8/Float64/boolean, string (python
and pyarrow), object text, object integers, text mixed with numbers,
category (unused categories, one used level), ordered categories of text
and of integers, categories of integers, constant, -0.0 beside 0.0, [0, 1]
shares, float16, float32 (also near 3e38 and 1e-38), 1e300 and 1e-300
magnitudes, int64 at its limits and near 2**62, Int64 up to 2**62, labels
``""``, ``" "`` and ``"nan"``, a bool column all True; no hole, holes in
about a third of the rows, or missing in every row; a duplicated row; a
range, string, reversed or all-equal row index; and NumPy float64 (also
scaled by 1e300, 1e150, 1e-300), float32 (1e37, 1e-37), float16, int64 and
uint8 arrays with holes, an empty column and a constant column. Each
went through ``VAETransformer`` (``missing_mechanism``, ``handle_unknown``
and ``batch_size`` drawn at random; ``likelihood`` dicts of the kinds a
column's dtype admits; ``set_output("pandas")``): ``fit``, ``transform``,
``fit_transform``, ``inverse_transform`` of its codes and of random codes up
to 1e6 from the origin, ``sample`` plain, ``return_mean``, ``with_missing``,
``latent="prior"``, ``seen_pairs_only=False`` and ``given`` (a dict of the
first column's value, a DataFrame of rows of some columns), ``score`` and
``score_samples`` (``n_importance`` 1-5), ``partial_fit``, a ``warm_start``
refit, and the table reversed, its last row alone and a row missing in every
cell; ``VAEImputer`` (``fit_transform``, ``transform``, the same three other
batches, ``multiple_imputations``, ``sample_posterior``, ``add_indicator``,
``keep_empty_features``, ``get_feature_names_out``); ``VAEOutlierDetector``
(``fit``, ``predict``, ``fit_predict``, ``decision_function``,
``score_samples``, ``score_columns``, the three other batches); and a
``skvae.save``/``load`` and a pickle round trip of each fitted estimator,
each copy's results compared with the original's; then rows far from the
fit (each number times 1e3, 1e8, -1e8 or 1e150) through ``transform``,
``score_samples``, the imputer's ``transform`` and the detector's
``predict`` and ``score_columns``, and codes of 1e10, 1e30 and 1e300
through ``inverse_transform``. Fits of ``max_iter`` 2, and 5 for 370 cases.
Timed out at 60 s a case (none did).

Swept and found sound (after the fixes below): no exception but a clean
refusal (a column with no observed value, told to drop it; a column of text
mixed with numbers, told ``.astype(str)`` or ``pd.to_numeric``; a kind a
column cannot have, naming the column, value and row; a far row the
networks overflow on, naming the rows, columns and fitted ranges; a far
row's unseen category, naming it); no NaN or infinity
in codes, scores, decisions or decoded values of finite inputs (a row
missing in every cell scores -inf in the detector, as sweep 15 decided);
draws, means, reconstructions and fills in the fitted dtypes and column
order, whole where the column is whole, inside the observed range (the
imputer's fills under ``"self_masking"`` aside, documented), categories only
seen ones; conditions given back exactly; ``fit_transform`` equal to
``fit().transform()``, ``fit_predict`` to ``fit().predict()``; save/load and
pickle copies giving bit-identical codes, draws, fills and scores; the
caller's table never mutated; no call hanging.

Each family below failed once (see the commit that added its tests):

- **Numeric levels float64 cannot tell apart, under self-masking**
  (``skvae._missingness._standardized_levels``): a column of two integer
  levels beyond 2**53 that round to one float64 (uint64 2**63 + 196 and
  2**63 + 569, int64 2**62 + 100 and 2**62 + 200), typed categorical by
  ``likelihood="auto"``, was standardised 0 / 0 by the mechanism, even in
  the fallback sweep 21 added for levels near float64's limits (their unit
  deviation is 0 too), so ``missing_mechanism="self_masking"`` fits of all
  three faces failed at their first epoch with "The training loss became
  nan ... learning_rate is too large", advice that cannot help, on a table
  ``"ignorable"`` fits. Such levels now standardise to one value (0), as
  two of them beside other levels already did: the column's missingness is
  its intercept's alone.
- **Every seen level underflowed beside an unused one**
  (``skvae._likelihoods.CategoricalBlock._seen_log_probabilities``): a
  category dtype's unused categories get probability 0 when decoding (sweep
  19), by zeroing them after the softmax; where the decoder's logits lay far
  apart (codes far from the training rows, a row far beyond the fitted
  range), the seen levels' probabilities underflowed to 0 and the unused one
  held the mass, so the decoding probabilities were all zeros:
  ``inverse_transform`` and ``VAEImputer``'s fills gave the unused category
  (level 0, never observed), a column of numbers decoded 0 / 0, and
  ``VAEImputer(sample_posterior=True)`` failed with torch's "invalid
  multinomial distribution (sum of probabilities <= 0)", a RuntimeError.
  Such cells are conditioned on the seen levels in log space; every other
  cell decodes bit for bit as before.
- **Self-masked fills beyond a narrow float's range**
  (``skvae._schema._decode_column``, ``VAEImputer._filled``): under
  ``missing_mechanism="self_masking"`` a column's fills may leave its
  observed range (documented), and for a float32, Float32,
  ``float[pyarrow]`` or float16 column of a DataFrame, or a float16 array
  (the networks run in float32), of values near the type's top they left
  the type's range too: ``VAEImputer``'s fills and ``multiple_imputations``
  came back as -inf / inf with NumPy's "overflow encountered in cast".
  Decoded values of a narrow float column now saturate at the type's
  largest, as an integer column's saturate at its type's bounds (sweep 9)
  and a float64 column's at float64's (sweep 21); a float16 array's fills
  likewise.
- **A lone column of numeric levels** (``skvae._refinement.refinement_applies``):
  the imputer's refinement regresses each level column on the other
  columns, and judged "one column, nothing to regress on" by the design's
  width, which a column of three or more numeric levels (a 1-5 rating, 12
  rows or more, typed categorical by ``likelihood="auto"``) fills alone;
  so ``VAEImputer.fit`` of such a one-column DataFrame (also beside a
  column it drops as empty) failed with scikit-learn's "Found array with 0
  feature(s) (shape=(12, 0)) while a minimum of 1 is required by
  BayesianRidge", under either mechanism. The rule counts columns now.
- **An infinite cell of an array, in the imputer** (``skvae._imputer._refuse_infinite_cells``):
  ``VAEImputer``'s ``fit``, ``transform`` and ``multiple_imputations``
  refused it with scikit-learn's "Input X contains infinity or a value too
  large for dtype('float64')", naming no cell and no way out, while the same
  cell of a DataFrame, and of an array given to ``VAETransformer`` or
  ``VAEOutlierDetector``, is "X contains an infinite value (-inf in column
  2, row 5). Infinity is not a missing value: ...". It is that refusal now.

Found and LEFT:

- An int64 column holding only int64's maximum decodes (``sample``,
  ``inverse_transform``) as 2**63 - 1024, the largest float64 int64 holds:
  the left item of sweep 19 (integers beyond 2**53 decode up to float64's
  rounding), not reopened.
- ``inverse_transform`` of codes from ``transform`` comes back with a
  RangeIndex, not X's index: the codes are a plain ndarray (without
  ``set_output("pandas")``), which carries none; as PCA. Not a defect.
- A float16 array given to an imputer fitted on a float64 array saturates
  its fills at 65504 (family c), where a DataFrame column given at
  transform in a dtype narrower than its fitted one is widened to float64
  (``skvae._imputer._set_fills``, an earlier decision): an array has one
  dtype for every column, kept as documented ("imputed in float16").
"""

import io
import pickle
import signal
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

import skvae
from skvae import VAEImputer, VAEOutlierDetector, VAETransformer
from skvae._likelihoods import CategoricalBlock
from skvae._missingness import _standardized_levels

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(max_iter=2, hidden_layer_sizes=(8,), latent_dim=2, random_state=0)


def _faces(**params):
    return [VAETransformer(**SMALL, **params), VAEImputer(**SMALL, **params), VAEOutlierDetector(**SMALL, **params)]


# ------------------------------------------------------------------ a. levels float64 cannot tell apart

COLLAPSED_LEVELS = {
    "uint64_near_2**63": (np.uint64, "UInt64", [2**63 + 569, 2**63 + 569, 2**63 + 196, 2**63 + 196]),
    "int64_near_2**62": (np.int64, "Int64", [2**62 + 100, 2**62 + 200, 2**62 + 100, 2**62 + 200]),
}


def test_levels_float64_cannot_tell_apart_standardise_to_one_value():
    equal = torch.tensor([[float(2**63 + 196), float(2**63 + 569)]], dtype=torch.float64)
    assert equal[0, 0] == equal[0, 1]  # the premise: one float64
    assert torch.equal(_standardized_levels(equal), torch.zeros_like(equal))
    # Beside distinct levels, the collapsed ones already shared one value; ordinary rows are unchanged.
    mixed = torch.tensor([[float(2**63), float(2**63 + 196), float(2**63 + 4096)], [0.0, 1.0, 5.0]],
                         dtype=torch.float64)
    standardized = _standardized_levels(mixed)
    assert torch.isfinite(standardized).all() and standardized[0, 0] == standardized[0, 1]
    direct = (mixed[1] - mixed[1].mean()) / mixed[1].std(correction=0)
    assert torch.equal(standardized[1], direct)


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("case", COLLAPSED_LEVELS.values(), ids=COLLAPSED_LEVELS.keys())
@pytest.mark.parametrize("face", range(3), ids=["transformer", "imputer", "detector"])
def test_self_masking_fits_levels_float64_cannot_tell_apart(case, face):
    """Fitted as ``"ignorable"`` fits it (the first epoch was NaN); fills are the column's own levels."""
    numpy_dtype, nullable, levels = case
    table = pd.DataFrame({"a": pd.array(levels + [levels[0]], dtype=nullable),
                          "b": np.arange(len(levels) + 1, dtype=float)})
    table.loc[0, "a"] = pd.NA
    table.loc[1, "b"] = np.nan
    estimator = _faces(missing_mechanism="self_masking")[face].fit(table)
    vae = estimator if face == 0 else estimator.vae_
    assert vae.column_kinds_["a"] == "categorical"
    if face == 1:
        filled = estimator.transform(table)
        assert filled["a"].dtype == nullable and set(filled["a"]) <= set(levels)
    else:
        assert np.isfinite(estimator.score_samples(table)).all()
    # A complete array of the same levels, each face: no NaN epoch either.
    complete = pd.DataFrame({"a": np.array(levels, dtype=numpy_dtype), "b": np.arange(len(levels), dtype=float)})
    _faces(missing_mechanism="self_masking")[face].fit(complete)


# ------------------------------------------------------------------ b. seen levels underflowing beside unused ones

CATEGORIES = ["lo", "mid", "hi"]


def _table_without_lo():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x": rng.normal(0, 1, 12),
                         "c": pd.Categorical(rng.choice(["mid", "hi"], 12), categories=CATEGORIES)})


@pytest.mark.parametrize("far", [1e8, 1e12, 1e15])
@pytest.mark.parametrize("sample_posterior", [False, True])
def test_a_far_row_is_filled_with_a_seen_category(far, sample_posterior):
    """The unused 'lo' was filled (a draw failed in torch's multinomial); now a seen one."""
    imputer = VAEImputer(sample_posterior=sample_posterior, **SMALL).fit(_table_without_lo())
    far_rows = pd.DataFrame({"x": [far, -far], "c": pd.Categorical([np.nan, np.nan], categories=CATEGORIES)})
    filled = imputer.transform(far_rows)
    assert set(filled["c"]) <= {"mid", "hi"}
    assert filled["c"].dtype == far_rows["c"].dtype
    for copy in imputer.multiple_imputations(far_rows, 2):
        assert set(copy["c"]) <= {"mid", "hi"}


def test_far_codes_decode_to_seen_categories():
    vae = VAETransformer(**SMALL).fit(_table_without_lo())
    rng = np.random.default_rng(1)
    codes = rng.normal(0, 1, (100, 2)) * 1e6
    assert set(vae.inverse_transform(codes)["c"]) <= {"mid", "hi"}
    # Codes near the training rows' decode as before the fix (no seen level underflows there).
    near = vae.transform(_table_without_lo())
    assert vae.inverse_transform(near)["c"].isin(["mid", "hi"]).all()


@pytest.mark.parametrize("level_values", [[np.nan] * 3, [1.0, 2.0, 5.0]], ids=["labels", "numbers"])
def test_a_block_whose_seen_levels_underflow_decodes_a_seen_level(level_values):
    """Level 0 unused; logits 2000 apart put all float64 mass on it. Cells with mass on seen levels: unchanged."""
    block = CategoricalBlock([0], {"level_values": torch.tensor([level_values], dtype=torch.float64),
                                   "unseen": torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64)}, n_levels=3)
    far = torch.tensor([[[2000.0, 0.0, -5.0]]], dtype=torch.float64)
    near = torch.tensor([[[0.5, 0.0, 1.0]]], dtype=torch.float64)
    weights = torch.ones(1, 1, dtype=torch.float64)
    assert block.point(far, None, weights).item() == 1.0
    assert block.sample(far, None, torch.Generator().manual_seed(0)).item() == 1.0
    probabilities = torch.softmax(near, -1).masked_fill(torch.tensor([True, False, False]), 0.0)
    expected_point = (probabilities.argmax(-1) if np.isnan(level_values[0])
                      else (torch.tensor(level_values) - (probabilities * torch.tensor(level_values)).sum()
                            / probabilities.sum()).abs().argmin()).item()
    assert block.point(near, None, weights).item() == expected_point


# ------------------------------------------------------------------ c. self-masked fills beyond a narrow float's range

NARROW_FLOATS = {"float32": (np.float32, "float32"), "Float32": (np.float32, "Float32"),
                 "float16": (np.float16, "float16"), "float32[pyarrow]": (np.float32, "float32[pyarrow]")}


def _near_the_types_top(numpy_dtype, rng):
    """Eight values spread over 95% of the type's range, three of them missing."""
    values = (rng.uniform(-1, 1, 8) * 0.95 * float(np.finfo(numpy_dtype).max)).astype(numpy_dtype)
    values[[1, 3, 5]] = np.nan
    return values


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("dtype", NARROW_FLOATS.values(), ids=NARROW_FLOATS.keys())
def test_self_masked_fills_of_a_narrow_float_column_stay_finite(dtype):
    """Fills beyond float32's (float16's) top were cast to inf with NumPy's overflow warning; now they saturate."""
    numpy_dtype, name = dtype
    if name.endswith("[pyarrow]"):
        pytest.importorskip("pyarrow")  # not among the [test] extras (hostile sweep 33 ran without it)
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"a": pd.Series(_near_the_types_top(numpy_dtype, rng)).astype(name),
                          "b": rng.normal(size=8)})
    imputer = VAEImputer(missing_mechanism="self_masking", sample_posterior=True, **SMALL).fit(table)
    largest = float(np.finfo(numpy_dtype).max)
    for filled in imputer.multiple_imputations(table, 40):
        assert filled["a"].dtype == table["a"].dtype
        values = filled["a"].to_numpy(dtype=np.float64)
        assert np.isfinite(values).all() and np.abs(values).max() <= largest
        pd.testing.assert_series_equal(filled["a"][table["a"].notna()], table["a"][table["a"].notna()])


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_self_masked_fills_of_a_float16_array_stay_finite():
    rng = np.random.default_rng(0)
    X = _near_the_types_top(np.float16, rng).reshape(-1, 1).repeat(2, axis=1)
    imputer = VAEImputer(missing_mechanism="self_masking", sample_posterior=True, **SMALL).fit(X)
    for filled in imputer.multiple_imputations(X, 40):
        assert filled.dtype == np.float16 and np.isfinite(filled).all()
        assert np.array_equal(filled[~np.isnan(X)], X[~np.isnan(X)])


# ------------------------------------------------------------------ d. a lone column of numeric levels in the imputer

LONE_LEVEL_COLUMNS = {
    "int64": pd.DataFrame({"rating": [1, 2, 3] * 4}),
    "float_with_holes": pd.DataFrame({"rating": [1.0, 2.0, 3.0, np.nan] * 4}),
    "Int64_with_holes": pd.DataFrame({"rating": pd.array([1, 5, 3, None] * 4, dtype="Int64")}),
    "beside_an_empty_column": pd.DataFrame({"rating": [1.0, 2.0, 3.0, np.nan] * 4, "empty": np.nan}),
}


@pytest.mark.parametrize("mechanism", ["ignorable", "self_masking"])
@pytest.mark.parametrize("table", LONE_LEVEL_COLUMNS.values(), ids=LONE_LEVEL_COLUMNS.keys())
def test_a_lone_column_of_numeric_levels_is_imputed(table, mechanism):
    """Every fit failed in BayesianRidge ("Found array with 0 feature(s)"); now no refinement, levels filled."""
    imputer = VAEImputer(missing_mechanism=mechanism, **SMALL)
    filled = imputer.fit_transform(table)
    assert imputer._refinement is None  # nothing to regress the column on
    levels = set(table["rating"].dropna())
    assert filled["rating"].dtype == table["rating"].dtype and set(filled["rating"]) <= levels
    assert filled.equals(imputer.transform(table))
    for copy in imputer.multiple_imputations(table, 2):
        assert set(copy["rating"]) <= levels


# ------------------------------------------------------------------ e. an infinite cell of an array, in the imputer

@pytest.mark.parametrize("dtype", [np.float64, np.float32, object])
@pytest.mark.parametrize("call", ["fit", "transform", "multiple_imputations"])
def test_the_imputer_names_an_arrays_infinite_cell(call, dtype):
    """scikit-learn's "Input X contains infinity or a value too large" named no cell; now as a DataFrame's."""
    X = np.random.default_rng(0).normal(size=(8, 3))
    X[1, 0] = np.nan
    infinite = X.astype(dtype)
    infinite[5, 2] = -np.inf
    imputer = VAEImputer(**SMALL).fit(X)
    before = imputer.transform(X)
    method = {"fit": VAEImputer(**SMALL).fit, "transform": imputer.transform,
              "multiple_imputations": lambda data: imputer.multiple_imputations(data, 2)}[call]
    with pytest.raises(ValueError, match=r"infinite value \(-inf in column 2, row 5\).*use NaN") as refused:
        method(infinite)
    assert refused.value.has("row") and refused.value.has("advice")
    framed = pd.DataFrame(infinite.astype(np.float64))
    with pytest.raises(ValueError) as of_the_frame:
        VAEImputer(**SMALL).fit(framed)
    assert str(of_the_frame.value) == str(refused.value)
    assert np.array_equal(imputer.transform(X), before)  # a refused call changes nothing


# ------------------------------------------------------------------ f. the seeded fuzzer, small

def _fuzz_column(kind, n, rng):
    """A column of `n` rows of one hostile-but-legal kind."""
    if kind == "float":
        return pd.Series(rng.normal(0, 1, n) * 10.0 ** int(rng.integers(-3, 4)))
    if kind == "whole":
        return pd.Series(rng.integers(-50, 50, n).astype(float))
    if kind == "huge":
        return pd.Series(rng.normal(0, 1, n) * 1e300)
    if kind == "Int64":
        return pd.Series(rng.integers(0, 30, n), dtype="Int64")
    if kind == "boolean":
        return pd.Series(rng.random(n) < 0.5, dtype="boolean")
    if kind == "string":
        return pd.Series(rng.choice(["a", "bb", ""], n), dtype="string")
    if kind == "category_unused":
        return pd.Series(pd.Categorical(rng.choice(["mid", "hi"], n), categories=["lo", "mid", "hi"]))
    if kind == "ordered":
        return pd.Series(pd.Categorical(rng.choice([1, 2], n), categories=[1, 2, 3], ordered=True))
    if kind == "constant":
        return pd.Series(np.full(n, 7.25))
    assert kind == "collapsed_levels"  # two uint64 levels that are one float64
    return pd.Series(rng.choice([2**63 + 196, 2**63 + 569], n).astype(np.uint64))


FUZZ_KINDS = ("float", "whole", "huge", "Int64", "boolean", "string", "category_unused", "ordered", "constant",
              "collapsed_levels")


def _fuzz_table(seed):
    """A DataFrame of 1-6 rows and 1-4 columns, a third of its columns with holes, an odd index."""
    rng = np.random.default_rng(seed)
    n = int(rng.choice([1, 2, 3, 6]))
    columns = {}
    for i, kind in enumerate(rng.choice(FUZZ_KINDS, int(rng.integers(1, 5)))):
        series = _fuzz_column(kind, n, rng)
        if n > 1 and rng.random() < 0.35:
            series = series.astype({"huge": float, "collapsed_levels": "UInt64"}.get(kind, series.dtype))
            series[int(rng.integers(n))] = np.nan if series.dtype == float or kind in (
                "category_unused", "ordered") else pd.NA
        columns[f"{kind}_{i}"] = series
    table = pd.DataFrame(columns)
    table.index = [f"r{i}" for i in range(n)][::-1]
    return table


def _decoding_problems(what, table, decoded):
    """How `decoded` leaves the fitted table's dtypes, columns, observed ranges or seen categories."""
    if list(decoded.columns) != list(table.columns):
        return [f"{what}: columns {list(decoded.columns)}"]
    problems = []
    for name in table.columns:
        observed, values = table[name].dropna(), decoded[name]
        if values.dtype != table[name].dtype:
            problems.append(f"{what}: {name} came back {values.dtype}")
        if values.isna().any():
            problems.append(f"{what}: {name} has holes")
        if (pd.api.types.is_numeric_dtype(observed.dtype) and not pd.api.types.is_bool_dtype(observed.dtype)
                and not isinstance(observed.dtype, pd.CategoricalDtype)):
            got, seen = values.to_numpy(dtype=float), observed.to_numpy(dtype=float)
            if not np.isfinite(got).all() or got.min() < seen.min() or got.max() > seen.max():
                problems.append(f"{what}: {name} leaves [{seen.min()}, {seen.max()}]: {got}")
        elif not set(values.tolist()) <= set(observed.tolist()):
            problems.append(f"{what}: {name} holds unseen {set(values.tolist()) - set(observed.tolist())}")
    return problems


def _round_trips(estimator):
    buffer = io.BytesIO()
    skvae.save(estimator, buffer)
    buffer.seek(0)
    return [skvae.load(buffer), pickle.loads(pickle.dumps(estimator))]


def _fuzz_problems(seed):
    """Every broken promise of the three faces on the table of `seed`, as text (empty: none)."""
    table = _fuzz_table(seed)
    before = table.copy(deep=True)
    mechanism = "self_masking" if seed % 2 else "ignorable"
    problems = []
    vae = VAETransformer(missing_mechanism=mechanism, **SMALL).fit(table)
    codes = vae.transform(table)
    if not np.isfinite(codes).all():
        problems.append("transform: not finite")
    if not np.isfinite(vae.score_samples(table, n_importance=3)).all():
        problems.append("score_samples: not finite")
    far_codes = np.random.default_rng(seed).normal(0, 1, (20, 2)) * 1e6
    problems += _decoding_problems("inverse_transform(far codes)", table, vae.inverse_transform(far_codes))
    problems += _decoding_problems("inverse_transform", table, vae.inverse_transform(codes))
    drawn = vae.sample(8, random_state=1)
    problems += _decoding_problems("sample", table, drawn)
    imputer = VAEImputer(missing_mechanism=mechanism, **SMALL).fit(table)
    filled = imputer.transform(table)
    if mechanism == "ignorable":  # self-masked fills may leave the observed range, as documented
        problems += _decoding_problems("VAEImputer", table, filled)
    detector = VAEOutlierDetector(missing_mechanism=mechanism, **SMALL).fit(table)
    scores = detector.score_samples(table)
    if not np.isfinite(scores).all():
        problems.append("detector: not finite")
    for copy in _round_trips(vae):
        if not (np.array_equal(copy.transform(table), codes) and copy.sample(8, random_state=1).equals(drawn)):
            problems.append("transformer copy differs")
    for copy in _round_trips(imputer):
        if not copy.transform(table).equals(filled):
            problems.append("imputer copy differs")
    for copy in _round_trips(detector):
        if not np.array_equal(copy.score_samples(table), scores):
            problems.append("detector copy differs")
    if not table.equals(before):
        problems.append("the caller's table changed")
    return problems


def _alarm(signum, frame):
    raise TimeoutError("a fuzz case ran past 60 s")


@pytest.mark.parametrize("seed", range(20))
def test_seeded_hostile_tables_keep_the_contract(seed):
    """Tiny hostile tables (the fuzzer of this sweep, 20 of its cases): no internal error, no broken promise.

    Without the fixes, seeds 1 and 19 (two uint64 levels float64 cannot
    tell apart, under self-masking) failed as family a (the fit's NaN epoch),
    and seeds 7, 9 and 14 (a category no row holds, far codes decoded) as
    family b (the unused category came back).
    """
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(60)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # integers beyond 2**53, one-row fits: warned as documented
            assert _fuzz_problems(seed) == []
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
