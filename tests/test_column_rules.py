"""The typing rule of likelihood="auto" and the decoding rules (range, precision, integers), by family."""

import numpy as np
import pandas as pd
import pytest

from skvae import VAEImputer, VAETransformer
from skvae._column_types import AUTO_MAX_LEVELS, AUTO_MIN_QUANTILE_ROWS, AUTO_MIN_SPIKE_SHARE
from skvae._likelihoods import MAX_COUNT
from skvae._schema import TableSchema, _decode_column

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(latent_dim=2, hidden_layer_sizes=(16,), max_iter=5, random_state=0)


def _kind(series):
    return TableSchema.fit(pd.DataFrame({"x": series})).kinds[0]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("values", [(0, 1), (1, 2), (-5, 7), (0.0, 1.0), (2.5, 3.5)])
def test_two_valued_columns_are_categorical(values, seed):
    rng = np.random.default_rng(seed)
    column = pd.Series(rng.choice(values, size=rng.integers(20, 300)))
    assert _kind(column) == "categorical"


@pytest.mark.parametrize("n_levels", range(3, AUTO_MAX_LEVELS + 1))
def test_a_handful_of_distinct_numbers_is_categorical(n_levels):
    rng = np.random.default_rng(n_levels)
    levels = rng.choice(np.arange(1000), size=n_levels, replace=False)
    assert _kind(pd.Series(rng.choice(levels, size=40 * n_levels))) == "categorical"
    # The same values as floats with decimals: still a lookup, still categorical.
    assert _kind(pd.Series(rng.choice(levels / 7.0, size=40 * n_levels))) == "categorical"


@pytest.mark.parametrize("low, high", [(1000, 4000), (18, 90), (5_000, 500_000)])
def test_integer_measurements_are_continuous_not_counts(low, high):
    rng = np.random.default_rng(low)
    assert _kind(pd.Series(rng.integers(low, high, size=500))) == "quantile_normal"
    # Too few values to pin quantiles down: a plain Gaussian.
    assert _kind(pd.Series(rng.integers(low, high, size=AUTO_MIN_QUANTILE_ROWS - 1))) == "gaussian"


@pytest.mark.parametrize("mean", [3.0, 6.0, 12.0])
def test_small_overdispersed_whole_numbers_follow_their_quantiles_and_come_back_whole(mean):
    # Counts are decoded as whole numbers from a continuous kind: a negative binomial mixed over
    # the latent codes followed real counts' marginals worse (see _column_types: 9 of 10 columns).
    rng = np.random.default_rng(1)
    values = rng.negative_binomial(1.0, 1.0 / (1.0 + mean), size=2000)
    assert len(np.unique(values)) > AUTO_MAX_LEVELS
    kind = _kind(pd.Series(values))
    assert kind in ("inflated_gaussian", "quantile_normal")
    # The zeros of a count with a mean of 3 are a third of it: a point mass.
    assert (kind == "inflated_gaussian") == (np.mean(values == np.bincount(values).argmax()) >= AUTO_MIN_SPIKE_SHARE)
    frame = pd.DataFrame({"visits": values[:600], "noise": rng.normal(size=600)})
    sampled = VAETransformer(**SMALL).fit(frame).sample(500, random_state=0)["visits"]
    assert (sampled == np.round(sampled)).all() and sampled.min() >= 0 and sampled.max() <= values[:600].max()


@pytest.mark.parametrize("spike", [0.0, 100.0, -2.5])
def test_a_measurement_piled_on_one_value_is_an_inflated_gaussian(spike):
    rng = np.random.default_rng(3)
    values = rng.lognormal(5, 1, size=1000).round(2) + 200
    on_spike = rng.random(1000) < 2 * AUTO_MIN_SPIKE_SHARE
    assert _kind(pd.Series(values)) == "quantile_normal"
    assert _kind(pd.Series(np.where(on_spike, spike, values))) == "inflated_gaussian"
    # Below the share, one repeated value is not a point mass of the column.
    rare = rng.random(1000) < AUTO_MIN_SPIKE_SHARE / 3
    assert _kind(pd.Series(np.where(rare, spike, values))) == "quantile_normal"


def test_samples_and_fills_keep_a_point_mass_where_a_gaussian_smears_it():
    rng = np.random.default_rng(0)
    n = 800
    income = rng.normal(50, 10, size=n).round(1)
    debt = np.where(rng.random(n) < 0.6, 0.0, (rng.lognormal(7, 1, size=n) + 20 * income).round(2))
    frame = pd.DataFrame({"income": income, "debt": debt})
    vae = VAETransformer(random_state=0, max_iter=60).fit(frame)
    assert vae.column_kinds_ == {"income": "quantile_normal", "debt": "inflated_gaussian"}
    sampled = vae.sample(4000, random_state=0)["debt"]
    assert abs((sampled == 0).mean() - 0.6) < 0.06 and sampled.min() >= 0
    smeared = VAETransformer(random_state=0, max_iter=60, likelihood="gaussian").fit(frame)
    assert (smeared.sample(4000, random_state=0)["debt"] == 0).mean() < 0.5 * (sampled == 0).mean()
    assert np.isfinite(vae.score_samples(frame)).all()


def test_coded_answers_bunched_at_the_top_are_not_counts():
    # An income bracket 1-24, most answers high: whole, small, overdispersed, but skewed to the left.
    rng = np.random.default_rng(2)
    brackets = np.clip(np.round(24 - rng.gamma(2.0, 4.0, size=900)), 1, 24).astype(np.int64)
    assert len(np.unique(brackets)) > AUTO_MAX_LEVELS and brackets.var() >= brackets.mean() > 0
    assert brackets.mean() < np.median(brackets)
    assert _kind(pd.Series(brackets)) in ("quantile_normal", "inflated_gaussian")


def test_samples_follow_a_bimodal_skewed_marginal_where_a_gaussian_smooths_it():
    from scipy.stats import ks_2samp

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": np.concatenate([rng.normal(0, 1, 500), rng.normal(6, 0.5, 500)]),
                          "y": rng.lognormal(0, 1, 1000)})
    shapes = {}
    for likelihood in ("auto", "gaussian"):
        vae = VAETransformer(random_state=0, max_iter=50, likelihood=likelihood).fit(frame)
        sampled = vae.sample(3000, random_state=0)
        shapes[likelihood] = [1 - ks_2samp(frame[c], sampled[c]).statistic for c in frame]
    assert vae.column_kinds_ == {"x": "gaussian", "y": "gaussian"}
    assert min(shapes["auto"]) > 0.93 and max(shapes["gaussian"]) < 0.9


def test_auto_never_picks_a_kind_the_fit_refuses():
    rng = np.random.default_rng(0)
    values = rng.negative_binomial(1.0, 0.3, size=300).astype(np.int64)
    values[0] = MAX_COUNT * 4  # one value beyond what the count kinds hold
    frame = pd.DataFrame({"x": values, "y": rng.normal(size=300)})
    vae = VAETransformer(**SMALL).fit(frame)
    assert vae.column_kinds_["x"] in ("gaussian", "inflated_gaussian")  # a continuous kind, not a count


@pytest.mark.parametrize("offset", [2**53, 2**60, 2**63 - 20])
def test_integer_ids_beyond_float_precision_stay_distinct_categories(offset):
    ids = np.array([offset + k for k in range(4)], dtype=np.int64)
    frame = pd.DataFrame({"id": np.repeat(ids, 30), "y": np.arange(120.0)})
    vae = VAETransformer(**SMALL).fit(frame)
    assert vae.column_kinds_["id"] == "categorical"
    sampled = vae.sample(200, random_state=0)["id"]
    assert sampled.dtype == np.int64 and set(sampled) <= set(ids.tolist())
    assert len(vae._schema.columns[0]["categories"]) == 4


def _mixed_table(n=300, seed=0):
    rng = np.random.default_rng(seed)
    share = rng.uniform(0, 1, size=n)
    return pd.DataFrame({
        "share": np.round(share, 3),                                   # in [0, 1], 3 decimals
        "amount": np.round(np.exp(rng.normal(3, 1, size=n)), 2),      # non-negative, 2 decimals
        "price": (1000 + 3000 * share + rng.normal(0, 100, size=n)).round().astype(np.int64),
        "whole": np.round(rng.normal(50, 15, size=n)),                 # float64 of whole numbers
    })


@pytest.fixture(scope="module")
def mixed_model():
    table = _mixed_table()
    return table, VAETransformer(**SMALL).fit(table)


def test_samples_stay_in_each_columns_observed_range(mixed_model):
    table, vae = mixed_model
    for return_mean in (False, True):
        sampled = vae.sample(2000, random_state=1, return_mean=return_mean)
        for name in table:
            assert sampled[name].min() >= table[name].min() and sampled[name].max() <= table[name].max(), name


def test_decoded_values_keep_each_columns_precision(mixed_model):
    table, vae = mixed_model
    sampled = vae.sample(500, random_state=2)
    assert sampled["price"].dtype == np.int64
    assert sampled["whole"].dtype == np.float64 and np.array_equal(sampled["whole"], np.round(sampled["whole"]))
    np.testing.assert_array_equal(sampled["amount"], np.round(sampled["amount"], 2))
    np.testing.assert_array_equal(sampled["share"], np.round(sampled["share"], 3))
    reconstructed = vae.inverse_transform(vae.transform(table))
    np.testing.assert_array_equal(reconstructed["share"], np.round(reconstructed["share"], 3))


def test_a_column_written_in_significant_digits_keeps_them():
    """Values written as 9.417e-06 have no decimals below MAX_DECIMALS: samples came back with 17 digits."""
    from skvae._moments import round_significant

    rng = np.random.default_rng(5)
    tiny = np.array([float(f"{value:.4g}") for value in rng.lognormal(size=200) * 1e-5])  # 4 significant digits
    table = pd.DataFrame({"tiny": tiny, "x": rng.normal(size=200)})
    vae = VAETransformer(**SMALL).fit(table)
    columns = {column["name"]: column for column in vae._schema.columns}
    assert columns["tiny"]["digits"] == 4 and "digits" not in columns["x"]  # x: measured, all 17 digits
    sampled = vae.sample(300, random_state=0)
    np.testing.assert_array_equal(sampled["tiny"], round_significant(sampled["tiny"], 4))
    assert not np.array_equal(sampled["x"], round_significant(sampled["x"], 6))
    assert max(len(repr(value)) for value in sampled["tiny"]) <= len("1.234e-05")
    holes = table.mask(rng.random(table.shape) < 0.2)
    filled = VAEImputer(**{**SMALL, "max_iter": 5}, n_importance=10).fit_transform(holes)
    np.testing.assert_array_equal(filled["tiny"], round_significant(filled["tiny"], 4))


def test_rounding_to_significant_digits_reproduces_written_values():
    from skvae._moments import round_significant, significant_digits

    written = np.array([9.417e-06, -3.5e-09, 1.2e20, 7.0, 0.0, np.nan, -np.inf])
    np.testing.assert_array_equal(round_significant(written, 4), written)
    np.testing.assert_array_equal(round_significant(np.array([1.23456e-7, 98765.4]), 3), [1.23e-7, 98800.0])
    block = np.c_[[9.417e-06, -3.5e-09, 1.2e10, 7.0, 0.0], [0.5, 0.25, 0.125, 1.0, 2.0],
                  np.random.default_rng(0).normal(size=5)]
    assert significant_digits(block, [None, 3, None]) == [4, None, None]  # decimals decide the second
    # Beyond 1e15 (or below 1e-15) the rounding cannot apply: no digits, rather than one that "writes" them all.
    huge = np.array([[1.5e300], [2.5e280], [1e16]])
    assert significant_digits(huge, [None]) == [None]
    assert significant_digits(np.array([[1e-20], [3e-3]]), [None]) == [None]


def test_rounded_values_are_never_negative_zero():
    """-0.004 rounded to 2 decimals is -0.0, which a CSV file showed as "-0.0"."""
    rng = np.random.default_rng(6)
    table = pd.DataFrame({"y": np.round(rng.normal(0, 0.05, size=300), 2), "x": rng.normal(size=300)})
    sampled = VAETransformer(**SMALL).fit(table).sample(3000, random_state=0)["y"]
    assert (sampled == 0).any() and not np.signbit(sampled[sampled == 0]).any()


def test_imputed_cells_are_valid_for_their_column():
    table = _mixed_table(seed=3)
    rng = np.random.default_rng(4)
    holes = table.mask(rng.random(table.shape) < 0.2)
    filled = VAEImputer(**{**SMALL, "max_iter": 5}, n_importance=10).fit_transform(holes)
    assert not filled.isna().any().any()
    for name in table:
        assert filled[name].min() >= holes[name].min() and filled[name].max() <= holes[name].max(), name
    assert np.array_equal(filled["whole"], np.round(filled["whole"]))
    np.testing.assert_array_equal(filled["amount"], np.round(filled["amount"], 2))


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint8", "uint64"])
def test_integer_decoding_saturates_instead_of_wrapping(dtype):
    info = np.iinfo(dtype)
    column = {"kind": "gaussian", "dtype": dtype}
    decoded = _decode_column(np.array([1e30, -1e30, 3.6, -0.4 if info.min == 0 else -3.6]), column)
    assert decoded.dtype == np.dtype(dtype)
    assert decoded.iloc[0] > 0 and decoded.iloc[0] >= info.max - 2048
    assert decoded.iloc[1] == info.min
    assert decoded.iloc[2] == 4  # rounded, not truncated


def test_scores_are_unchanged_by_the_decoding_rules(mixed_model):
    # Range and precision are decoding rules: the density, and so the score, is the model's.
    table, vae = mixed_model
    scores = vae.score_samples(table)
    assert np.all(np.isfinite(scores))
    state = vae._schema.columns[0]
    assert {"min", "max", "decimals"} <= set(state)


def _digits_column_by_column(block, decimals):
    """The definition, one column at a time: the fewest digits (1-6) that write every counted cell."""
    from skvae._moments import MAX_DIGITS, round_significant

    found = []
    for j in range(block.shape[1]):
        column = block[:, j][np.isfinite(block[:, j]) & (block[:, j] != 0)]
        if decimals[j] is not None or not column.size or np.abs(column).min() < 1e-15 or np.abs(column).max() > 1e15:
            found.append(None)
            continue
        found.append(next((d for d in range(1, MAX_DIGITS + 1)
                           if np.array_equal(round_significant(column, d), column)), None))
    return found


@pytest.mark.parametrize("seed", range(20))
def test_significant_digits_of_all_columns_at_once_are_each_columns_own(seed):
    from skvae._moments import significant_digits

    rng = np.random.default_rng(seed)
    n_rows, width = int(rng.integers(1, 200)), int(rng.integers(1, 30))
    scaled = rng.normal(size=(n_rows, width)) * 10.0 ** rng.integers(-8, 8, size=width)
    block = np.column_stack([np.round(scaled[:, j], int(rng.integers(0, 6))) for j in range(width)])
    block[rng.random(block.shape) < 0.1] = np.nan
    block[rng.random(block.shape) < 0.1] = 0.0
    # A column that passes on its first 64 rows and fails after them must not be taken for a written one.
    if n_rows > 70:
        block[:64, 0] = np.round(block[:64, 0], 2)
        block[70, 0] = np.pi
    decimals = [None if rng.random() < 0.8 else 2 for _ in range(width)]
    assert significant_digits(block, decimals) == _digits_column_by_column(block, decimals)
