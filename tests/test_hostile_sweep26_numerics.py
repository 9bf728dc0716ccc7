"""Hostile use, twenty-sixth sweep: numerical extremes through every column kind.

Swept and found sound: DataFrame columns of 1e12 + noise of 1e-3, 1e15 plus
small integers, 10**(-15..15), one 1e300 among values in [0, 1), float64's
smallest normal with spread, -0.0 beside [0, 1), counts in the billions,
Cauchy, exact bounds held by a third of the rows each (0 and 100), float32
near 3.4e38, float64 near 1.7e308 and at its largest repeated, {-max, max},
{-max, 0, max}, {5e-324, max}, {0, max}, int64 2**40 + {0, 1, 2}, int64 near
2**53, uint64 near its largest, int64 at both extremes (two and three
values), int64 and uint64 spread over their whole range, under every kind
(``"auto"``, gaussian, quantile_normal, inflated_gaussian, lognormal,
poisson, negative_binomial, categorical; bernoulli on [0, 1]): ``fit``,
``transform``, ``inverse_transform``, ``sample`` (and ``return_mean``),
``score_samples`` (``n_importance`` 1 and 3), VAEImputer's fills (observed
cells kept) and the detector's ``score_samples`` and ``score_columns`` give
finite values in the column's dtype and observed range with no NumPy or
torch warning (integers beyond 2**53 up to float64's rounding, left below),
and a kind whose support a column leaves is refused naming the column, the
value and its row. float32 arrays (float32 networks) of 1e6 in steps of
1/16, 10**(-30..30), an outlier at 3e38, subnormals from 1.4e-45, float32's
smallest normal, values near +-3.4e38, integers near 2**24 and Cauchy under
gaussian, quantile_normal and inflated_gaussian; counts up to 2**24 (and 0
beside 2**24) under poisson and negative_binomial; lognormal over 60 orders
and over {1.2e-38, 3.4e38}; bernoulli on [0, 1] with exact 0s and 1s:
float32 kept, finite, in range, scores within float32's precision of the
float64 copy's (Gaussian columns). float16 columns of subnormals (steps of
6e-8), the smallest normal, +-65504, 10**(-7..4.8) and whole numbers, under
every kind. ``missing_mechanism="self_masking"`` (imputer and transformer)
on 1e12 + 1e-3 noise, 10**(-150..150), a 1e300 outlier, float64's largest
repeated, subnormal multiples of 5e-324 and Cauchy: fills and draws
finite, ``sample(with_missing=True)`` in range, ``given`` kept exactly.
VAEImputer(``sample_posterior=True``) and ``multiple_imputations`` on float32
arrays at +-3.4e38 and of subnormals, counts up to 2**24 and float64's
largest repeated, and the detector's ``score_columns`` and
``decision_function`` there: finite, in range. Constant columns at
+-1.8e308, 5e-324, 3.4e38, 1.4e-45, 2**24 and 0 under each kind that admits
them: decoded, sampled and filled as the constant, scores finite.
``missing_values`` 0.1, ``np.float32(0.1)`` and 3.4e38 on float32 arrays and
DataFrames find the cells SimpleImputer finds.
Object columns of Python ints beyond 2**64 are warned about (sweep 21),
Decimal (1e400, 1e-400) and Fraction refused as types (sweeps 18, 22).
Categorical levels {-3.4e38, 0, 3.4e38}, {1e300, 2e300, 3e300} and three
values within 0.2% of float64's largest decode to levels only. The command
line refuses ``1e400`` by its line (sweep 15) and reads ``-0`` as 0.

Each family below failed once (see the commit that added its tests):

- **float32 codes decoded in float32 into a DataFrame's columns** (``skvae._model.VAEModel.decode_mean``):
  ``inverse_transform`` of float32 codes (a pipeline's float32 step) by a
  model fitted on a DataFrame ran the float32 networks and clipped in
  float32, so an int64 column of ids near 5e8 came back as multiples of 32
  and a column of 1e12 +- 0.002 as 1e12 - 4096, below its observed minimum.
  A float32 code is exactly a float64 one: such a model decodes in float64
  into its columns' dtypes. A model fitted on an array keeps float32 codes
  in float32 (its output's dtype, scikit-learn's rule).
- **A count's log-probability cancelled away in float32** (``skvae._likelihoods.PoissonBlock.cell_log_prob``):
  the scores of a float32 table (array or all-float32 DataFrame) run the
  likelihood in float32, and a Poisson or negative binomial cell's
  log-probability is a small difference of large terms (x log mu, mu and
  log x!, about 2.6e8 each at x = 1.5e7): a cell near 2**24 scored up to
  33 nats off its float64 value (1 nat near 1e6), where the user guide
  promises float32's relative precision. Its terms are summed in float64
  (exact for float32 inputs) and cast back; training steps, which
  differentiate the variable terms only (gradient x - mu, no cancellation),
  are unchanged (early stopping's held-out score gets the exact sum too).
- **A continuous part at the top of the dtype** (``skvae._likelihoods.QuantileNormalBlock.conditional_mean``,
  ``skvae._likelihoods._around``): a column of float32's largest beside a
  spike at its negative (or at 0), ``inflated_gaussian``, in a float32 array:
  each quadrature node of the continuous part's mean saturated at float32's
  largest, and their sum (weights summing to 1 + an ulp) was inf, so the
  training rows' ``inverse_transform`` and VAEImputer's ``fit`` were refused
  as the networks' overflow. The sum saturates as ``Block.point``'s does.
  At float64's largest itself, the two knots around the continuous part's
  one value were the value and inf, ``np.spacing`` warning "overflow
  encountered in spacing" to the caller of ``fit``: the step below the
  value (2**971) is taken there.
- **Numeric levels further apart than float64's largest** (``skvae._refinement._nearest_level``,
  ``skvae._schema.TableSchema.decode``): a categorical column of -1.8e308, 0
  and 1.8e308 (what ``likelihood="auto"`` makes of three such values): the
  imputer's refinement took the nearest level by subtracting, which
  overflowed (NumPy's "overflow encountered in subtract" reached the caller
  of ``fit``), and two infinite distances tied to the first level. A row
  where a distance overflows is measured in halves. An array model's levels
  beyond float32 (1e300), decoded from float32 codes into float32, were cast
  to inf with "overflow encountered in cast": they saturate at float32's
  largest, as a number column's decoded values do (sweep 25).
- **A value beside the spike taken for it in float32** (``skvae._likelihoods.InflatedGaussianBlock.encode``):
  a cell is at the spike when its encoded value is the spike's, compared
  in float32 in training and in a float32 table's scores. Beside a spike at
  0, a value of 2**-30 (the continuous part's first knot, the next at 1.3)
  encoded 5e-10 from the spike's encoding, one float32 value: it was
  trained on as a spike cell, and its float32 copy scored -2.9 where the
  same row in float64 scored -11.2. An encoding that float32 cannot tell
  from the spike's is moved to the float32 value beside it, on its own
  side (a shift below float32's spacing, the same in both dtypes).
- **An integer placeholder beyond 2**53 in an integer array** (``skvae._imputer._not_placeholder_cells``):
  VAEImputer reads an array as float64 before finding the placeholder's
  cells, so under ``missing_values=np.iinfo(np.int64).max`` (a common
  sentinel; int64's minimum and uint64's maximum alike) every id within 512
  of it was the placeholder too: a column of observed ids was dropped as
  empty, without a word (SimpleImputer, comparing the integers, finds the
  sentinel's cells only). Where the placeholder is an integer beyond 2**53,
  an integer array's cells are compared with it as integers.

Found and LEFT:

- The command line reads ``1e-400`` as 0.0 without a word (an underflow),
  where ``1e400`` is refused: 0.0 is float64's nearest value, as pandas and
  NumPy read it, while an overflow is read as inf, which is no number. A
  lognormal column then refuses "found 0.0" on that cell's line. Left.
- Integer columns beyond 2**53 decode up to float64's rounding outside
  their observed range (a uint64 column within 4,096 of 2**64 has no
  float64 inside its range, and decodes 2**64 - 4096 below its minimum):
  sweep 19's and 25's left item; keeping the bounds needs exact integer
  bounds in the fitted schema (the file format).
- A float32 copy of a table scores a quantile-normal (or inflated) column's
  training values up to about 6 nats a row away from the table (a 3-epoch
  fit): every training value is a knot of the column's map, its float32
  rounding lies on the other side of it, and there the log-Jacobian is the
  neighbouring segment's (the piecewise-linear map's density is
  discontinuous at its knots). Inherent to the map; a float32 copy of a
  Gaussian column scores as the table.
- A float32 copy whose inflated column's spike is no float32 value (a spike
  at 0.1, or at a value seen once) scores those cells as values of the
  continuous part: float32(0.1) is not the spike. A categorical column
  refuses such a copy's levels as unseen, explicitly. Matching values "as
  the input's dtype holds them" is a design decision beyond a sweep.
- float32 codes given to an array model decode into float32 (scikit-learn's
  dtype rule), which cannot hold a column of 1e12 +- 0.002: its values come
  back as float32's nearest, outside the observed range. The DataFrame case
  is fixed above (its columns' dtypes are the training data's).
- A fill of an integer column beyond 2**53 lies up to float64's rounding
  from the observed values (the left item above), so in a column of ids
  just above int64's minimum under ``missing_values=np.iinfo(np.int64).min``
  the fills round onto -2**63, the placeholder itself: a filled cell that
  reads as missing. Same mechanism as the left item above.
- An object column of numbers is ``gaussian`` under ``"auto"`` whatever its
  values (sweeps 18 and 19 recorded it); not reopened.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from skvae import VAEImputer, VAEOutlierDetector, VAETransformer

TINY = dict(latent_dim=2, hidden_layer_sizes=(8,), max_iter=3, random_state=0, device="cpu")


@pytest.fixture(autouse=True)
def _every_warning_an_error():
    """No NumPy or torch warning may reach a caller of these extremes."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# --------------------------------------------------------------------------
# float32 codes decoded by a DataFrame model


@pytest.mark.parametrize("kind", ["gaussian", "quantile_normal", "inflated_gaussian", "lognormal"])
def test_float32_codes_decode_a_dataframe_model_in_its_columns_precision(kind):
    """``inverse_transform`` of float32 codes gives what their float64 values give, inside the observed range.

    The codes were decoded by the float32 networks: ids near 5e8 came back
    as multiples of 32 in their int64 column, and a column of 1e12 +- 0.002
    as 1e12 - 4096, below its minimum.
    """
    rng = np.random.default_rng(0)
    n = 60
    X = pd.DataFrame({
        "id": rng.integers(10**8, 10**9, n).astype(np.int64),
        "stamp": 1e12 + rng.normal(size=n) * 1e-3,
        "r": rng.normal(size=n),
    })
    model = VAETransformer(likelihood={"id": kind, "stamp": kind if kind != "lognormal" else "gaussian"},
                           **TINY).fit(X)
    codes = model.transform(X).astype(np.float32)
    decoded = model.inverse_transform(codes)
    expected = model.inverse_transform(codes.astype(np.float64))
    pd.testing.assert_frame_equal(decoded, expected)
    assert decoded["id"].dtype == np.int64
    assert decoded["stamp"].between(X["stamp"].min(), X["stamp"].max()).all()
    assert decoded["id"].between(X["id"].min(), X["id"].max()).all()


# --------------------------------------------------------------------------
# a count's log-probability of float32 inputs


@pytest.mark.parametrize("kind", ["poisson", "negative_binomial"])
@pytest.mark.parametrize("count", [1e4, 1e6, 2.0**24 - 3])
def test_count_log_probability_of_float32_inputs_keeps_float32_precision(kind, count):
    """A float32 count's log-probability is the float64 one's rounding: not the float32 terms' cancellation.

    x log mu - mu - log x! is a difference of terms near 2.6e8 at 1.5e7, so
    in float32 the scores of a float32 table lay 20 nats and more off the
    same table's in float64, where the user guide promises float32's
    relative precision.
    """
    import torch

    from skvae._likelihoods import BLOCKS

    block = BLOCKS[kind]([0, 1, 2])
    x = torch.tensor([[count, count + 1.0, count - 2.0]] * 4, dtype=torch.float32)
    # Log-means near each count, as a fitted decoder gives them; free: NB's dispersion.
    params = (torch.log(x.double()) + torch.linspace(-1e-3, 1e-3, 4, dtype=torch.float64)[:, None]).float()
    free = torch.tensor([2.0, 5.0, 9.0], dtype=torch.float32) if block.n_free else None
    narrow = block.cell_log_prob(x, params, free)
    wide = block.cell_log_prob(x.double(), params.double(), None if free is None else free.double())
    assert narrow.dtype == torch.float32
    # Within a few float32 ulps of the float64 value (the values are about -8 to -15).
    np.testing.assert_allclose(narrow.numpy(), wide.numpy(), rtol=4e-7, atol=1e-6)
    assert np.isfinite(narrow.numpy()).all()


# --------------------------------------------------------------------------
# a point mass beside a continuous part at the top of the dtype


def _at_the_top(dtype, n=40, seed=0):
    """Two columns: the dtype's largest (30 rows) with its negative (10 rows), and a normal column."""
    top = np.finfo(dtype).max
    rng = np.random.default_rng(seed)
    return np.c_[np.r_[np.full(30, top), np.full(n - 30, -top)], rng.normal(size=n)].astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inflated_column_at_the_dtypes_top_decodes_and_fills(dtype):
    """A spike at -max beside values all at +max: decoded, sampled and filled inside the range, no warning.

    In float32 (an array, so its networks run in float32) each quadrature
    node of the continuous part's mean saturated at float32's largest and
    their sum, the weights summing to 1 + an ulp, was inf: the training
    rows' ``inverse_transform`` and VAEImputer's fit were refused as the
    networks' overflow. In float64 at its largest, the knots around the
    continuous part's one value were that value and inf, and ``fit`` warned
    "overflow encountered in spacing".
    """
    X = _at_the_top(dtype)
    top = np.finfo(dtype).max
    for kind in ["inflated_gaussian", "quantile_normal"]:
        model = VAETransformer(likelihood=kind, **TINY).fit(X)
        for decoded in (model.inverse_transform(model.transform(X)),
                        model.sample(50, random_state=0, return_mean=True), model.sample(50, random_state=0)):
            assert np.isfinite(decoded).all()
            assert ((decoded[:, 0] >= -top) & (decoded[:, 0] <= top)).all()
        assert np.isfinite(model.score_samples(X)).all()
        holes = X.copy()
        holes[::5, 0] = np.nan
        filled = VAEImputer(likelihood=kind, n_importance=3, n_importance_train=1, **TINY).fit_transform(holes)
        assert filled.dtype == dtype and np.isfinite(filled).all()
        np.testing.assert_array_equal(filled[1::5], X[1::5])


def test_knots_around_float64s_largest_are_finite_and_increase():
    """The two knots of a constant continuous part at +-1.797e308 are finite, distinct and hold the value."""
    from skvae._likelihoods import _around

    for value in (np.finfo(np.float64).max, -np.finfo(np.float64).max, np.float64(2.0**1023), 1e308):
        low, high = _around(value)
        assert np.isfinite([low, high]).all() and low < high and low <= value <= high


# --------------------------------------------------------------------------
# numeric levels further apart than float64's largest


def test_imputer_fills_levels_spanning_float64_without_overflow():
    """Levels -1.8e308, 0 and 1.8e308 (categorical): VAEImputer fits and fills with levels, no warning.

    The refinement's nearest level subtracted the levels from the blend:
    1.8e308 - (-1.8e308) overflowed, NumPy warning to the caller of ``fit``.
    """
    top = np.finfo(np.float64).max
    rng = np.random.default_rng(0)
    n = 60
    levels = np.r_[np.full(20, -top), np.full(20, top), np.zeros(n - 40)]
    X = pd.DataFrame({"x": levels, "y": rng.integers(1, 4, n)})
    holes = X.copy()
    holes.loc[::7, "x"] = np.nan
    imputer = VAEImputer(likelihood={"x": "categorical"}, n_importance=3, n_importance_train=1, **TINY)
    filled = imputer.fit_transform(holes)
    assert filled["x"].isin([-top, 0.0, top]).all()
    pd.testing.assert_series_equal(filled["x"][holes["x"].notna()], X["x"][holes["x"].notna()])


def test_nearest_level_across_float64s_range():
    """The nearest level of values beyond every level's distance in float64, measured in halves."""
    from skvae._refinement import _nearest_level

    top = np.finfo(np.float64).max
    levels = np.array([-top, -0.9 * top, -0.5 * top])
    values = np.array([top, -top, 0.1, -0.96 * top, -0.8 * top])
    # top lies 2, 1.9 and 1.5 top from the levels: every distance overflows, and -0.5 top is the nearest.
    np.testing.assert_array_equal(_nearest_level(values, levels), [2.0, 0.0, 2.0, 0.0, 1.0])


def test_float32_codes_of_an_array_model_saturate_levels_beyond_float32():
    """An array model's levels of 1e300, decoded from float32 codes into float32, saturate, with no warning."""
    rng = np.random.default_rng(0)
    n = 60
    X = np.c_[rng.choice([-1e300, 1e300, 2e300], n), rng.integers(1, 4, n)]
    model = VAETransformer(likelihood="categorical", **TINY).fit(X)
    decoded = model.inverse_transform(model.transform(X).astype(np.float32))
    top = np.finfo(np.float32).max
    assert decoded.dtype == np.float32
    assert np.isin(decoded[:, 0], [-top, top]).all()
    assert np.isin(decoded[:, 1], [1, 2, 3]).all()


# --------------------------------------------------------------------------
# a value beside the spike, in float32


def test_value_beside_the_spike_is_no_spike_cell_in_float32():
    """2**-30 beside a spike at 0 (and values from 1 up) scores alike in a float32 copy: as a value, not the spike.

    Its encoding lay 5e-10 from the spike's, one float32 value, so training
    and the float32 copy's scores took it for a spike cell (-2.9 where
    float64 scored it -11.2). 2**-30 and 0 are float32 values, so the copy
    is the same table.
    """
    rng = np.random.default_rng(0)
    n = 100
    X = np.c_[np.r_[np.zeros(40), [2.0**-30], rng.uniform(1, 100, n - 41)], rng.normal(size=n)]
    model = VAETransformer(likelihood={0: "inflated_gaussian", 1: "gaussian"}, **TINY).fit(X)
    rows = X[[0, 40]]  # a spike cell, and the value beside it
    np.testing.assert_allclose(model.score_samples(rows.astype(np.float32)), model.score_samples(rows), rtol=1e-5)
    from skvae._likelihoods import InflatedGaussianBlock

    constants = model._model.schema.likelihood().blocks[0].stats
    encoded = InflatedGaussianBlock.encode(
        X[[0, 40], :1], {name: value.numpy() for name, value in constants.items()}).astype(np.float32)
    spike = np.float32(constants["encoded_spike"].numpy()[0])
    assert encoded[0, 0] == spike and encoded[1, 0] > spike


# --------------------------------------------------------------------------
# an integer placeholder beyond 2**53 in an integer array


@pytest.mark.parametrize("dtype, placeholder", [
    (np.int64, int(np.iinfo(np.int64).max)),
    (np.int64, np.iinfo(np.int64).min),
    (np.uint64, np.uint64(np.iinfo(np.uint64).max)),
])
def test_integer_placeholder_beyond_2_53_marks_only_its_own_cells(dtype, placeholder):
    """ids within 512 of int64's (uint64's) extreme beside that extreme as ``missing_values``: only its cells fill.

    Validation made the array float64, where every such id is the
    placeholder: the whole column of observed ids was dropped as empty (or
    its ids filled over), without a word, where SimpleImputer, comparing the
    integers, finds the placeholder's cells only.
    """
    rng = np.random.default_rng(0)
    n = 30
    step = -1 if int(placeholder) > 0 else 1
    ids = np.array([int(placeholder) + step * int(k) for k in rng.integers(1, 400, n)], dtype=object)
    ids[::5] = int(placeholder)
    X = np.c_[ids.astype(dtype), rng.integers(0, 5, n).astype(dtype)]
    holes = X[:, 0] == placeholder
    imputer = VAEImputer(missing_values=placeholder, add_indicator=True, n_importance=3, n_importance_train=1,
                         **TINY)
    for out in (imputer.fit_transform(X), imputer.transform(X)):
        assert out.shape == (n, 3) and out.dtype == dtype
        np.testing.assert_array_equal(out[~holes, :2], X[~holes])
        np.testing.assert_array_equal(out[:, 2], holes.astype(dtype))
    for draw in imputer.multiple_imputations(X, n_imputations=2):
        np.testing.assert_array_equal(draw[~holes, :2], X[~holes])
