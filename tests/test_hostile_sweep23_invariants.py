"""Hostile use, twenty-third sweep: the library's promises checked on many random small tables.

A seeded generator (:func:`random_table`) draws DataFrames of 30 to 200 rows
and 2 to 5 columns, each of one kind: real floats (a wide range, a narrow
one, negative only, with exact zeros, with a spike at a bound), shares in
[0, 1] (with exact ones), two decimals, 0.5 steps, 25-unit steps, whole
numbers as float, int64 (small and beyond 1e9), 0/1 ints, bools, counts,
float32, pandas nullable Int64, boolean and string, a category dtype with a
category no row holds, object text and a constant column; each with no
hole, a few (5%) or most (70%) of its cells missing. Every table is fitted
(``max_iter=2``) and checked against what the user guide promises.

Swept and found sound (90 tables, and 55 more with kinds named per column
where the column admits them and ``missing_mechanism`` drawn at random, then
the pinned ones below): ``column_kinds_``
against the typing rule written out independently (:func:`documented_kind`:
bool, category, object and string columns categorical; two values or at
most ten seen three times each categorical; a tenth and five rows on one
value inflated; otherwise quantile-normal from 50 observed values, Gaussian
below); ``sample``, ``sample(return_mean=True)``,
``sample(with_missing=True)``, ``inverse_transform(transform(X))`` and
VAEImputer's fills in the training dtypes and column order, every numeric
value inside its column's observed range and written in no more decimals
than the column records, levels of two-valued columns and categories only
seen ones (a category dtype's unused category never drawn); the imputer's
observed cells returned unchanged; ``transform`` and ``score_samples`` (K 1
and 3) of a permuted table equal to the table's rows permuted, and of
7-row slices; scores finite for every row, rows with holes included;
``skvae.save``/``load`` giving the same ``transform``, scores, seeded
``sample`` and ``column_kinds_``; with named kinds and either mechanism
(25 tables, a third as float32), ``skvae.save``/``load`` of all three
faces giving the same ``transform``, ``score_samples``,
``sample(with_missing=True)``, ``inverse_transform``, imputer fills and
``multiple_imputations``, ``decision_function`` and ``score_columns``, and
``transform`` of a float32 table in float32; ``sample(given=...)`` keeping
the condition and the promises; ``score_columns`` NaN exactly at the holes;
on float32 tables (14) a row alone equal to its batch in ``transform``
(also with ``n_jobs=2``), scores, reconstructions, fills and column scores.

Each family below failed once (see the commit that added its tests):

- **The likelihood's arithmetic rounded a row by the rows beside it**
  (``skvae._inference.InferenceNetworks``, :data:`skvae._inference.LIKELIHOOD_LOOP_BYTES`):
  inference padded the rows of its network calls to a multiple of 16, and
  ``_ShortCategoricals`` said its leading-dimension log-softmax was bit for
  bit "where the rows fill whole vector lanes (a multiple of 16 rows, as
  inference pads them)", but the likelihood saw the rows unpadded. torch's
  CPU kernels of softplus, sigmoid, logaddexp, ndtri and that log-softmax
  compute the end of a tensor shorter than a whole loop step in a scalar
  loop that rounds otherwise, so a row's ``score_samples`` (K = 1 too: a
  table with a few-level categorical column, a negative binomial column)
  differed in its last bit alone and in its batch, as did
  ``score_columns``. The likelihood's evaluations (``elbo``, the importance
  weights, cell log-likelihoods, imputation means, point decodings) now run
  on a row count padded to a multiple of 16 (32 in float32) with copies of
  the first row; draws from a generator take the rows given, so their
  streams are unchanged. The cost falls on a lone row with many draws (one
  row at K = 1,000: 4 ms before, 30-45 ms after on a busy 2-core machine), decided for the
  documented promise; batches pay at most 15 (31) rows more.
- **VAEImputer's blend rounded a row by the rows beside it**
  (``skvae._refinement._row_products``): the linear refinement's prediction
  was ``design @ coef.T``, whose matrix library sums a row's terms in
  another order for another number of rows, so a fill of a bernoulli or
  inflated column differed in its last bits alone and in a batch. The sums
  are taken feature by feature now, the same for every batch.
- **Under self-masking a complete row scored by whether its call held a hole**
  (``skvae._missingness._log_mean_exp``): with a mask, the mechanism's
  estimate was ``logsumexp`` over the M = 8 draws minus log 8, which for a
  complete row (8 equal terms) rounds ``v + log 8 - log 8`` away from the
  ``v`` that the path without a mask (a call of complete rows only, a row
  alone) computes: one bit, in ``score_samples`` (K 1 and 3). The mean is
  taken as shares of the largest term summed in draw order, exact on equal
  terms.

Left: nothing found in the value invariants (ranges, decimals, dtypes,
levels, kinds, save/load) on these tables. Under ``"self_masking"`` the
imputer's fills and ``multiple_imputations`` leave a column's observed range
(a share in [0, 1] filled at -0.23, a constant column's 7.25 at 4.8): the
user guide says they move "beyond the column's observed range if need be",
the recorded design (sweep 21), so kept. A lone row scored with more draws
than a batch holds runs its likelihood on 16 (32) padded rows per chunk, so
its tensors reach 16 (32) times the batch bound
(``skvae._inference.likelihood_rows``): chunking by the padded rows instead
would split a full batch's draws where a lone row's stay whole, and the
bits would differ again; the bits were decided worth the memory. (Sweep 24,
review: batches of scores are now whole paddings and draws are chunked by
the padded rows, so both hold; tests/test_hostile_sweep24_review.py.)
"""

import os
import tempfile
import warnings

import numpy as np
import pandas as pd
import pytest

import skvae
from skvae import VAEImputer, VAEOutlierDetector, VAETransformer

SMALL = dict(max_iter=2, hidden_layer_sizes=(8,), latent_dim=2)

COLUMN_KINDS = (
    "real_wide", "real_narrow", "real_negative", "real_zeros", "real_spike_bound", "unit", "dec2",
    "half_steps", "step25", "whole_float", "int_small", "int_large", "binary01", "bool", "Int64",
    "boolean", "string", "category", "object_text", "counts", "constant", "float32",
)


def random_column(kind, n, rng):
    """A column of `n` rows of one generator kind."""
    if kind == "real_wide":
        return pd.Series(rng.normal(0, 1, n) * 10.0 ** rng.integers(-3, 6))
    if kind == "real_narrow":
        return pd.Series(100 + rng.normal(0, 1e-3, n))
    if kind == "real_negative":
        return pd.Series(-np.abs(rng.lognormal(0, 1, n)))
    if kind == "real_zeros":
        values = rng.lognormal(0, 1, n)
        values[rng.random(n) < rng.uniform(0.1, 0.6)] = 0.0
        return pd.Series(values)
    if kind == "real_spike_bound":
        return pd.Series(np.maximum(np.minimum(rng.normal(0, 1, n), rng.uniform(0, 1)), -0.5))
    if kind == "unit":
        values = rng.uniform(0, 1, n)
        if rng.random() < 0.5:
            values[rng.random(n) < 0.1] = 1.0
        return pd.Series(values)
    if kind == "dec2":
        return pd.Series(np.round(rng.normal(50, 20, n), 2))
    if kind == "half_steps":
        return pd.Series(np.round(rng.normal(0, 5, n) * 2) / 2)
    if kind == "step25":
        return pd.Series(25.0 * rng.integers(0, 60, n))
    if kind == "whole_float":
        return pd.Series(rng.integers(-1000, 1000, n).astype(float))
    if kind == "int_small":
        return pd.Series(rng.integers(-5, 60, n), dtype="int64")
    if kind == "int_large":
        return pd.Series(rng.integers(10**9, 10**12, n), dtype="int64")
    if kind == "binary01":
        return pd.Series(rng.integers(0, 2, n), dtype="int64")
    if kind == "bool":
        return pd.Series(rng.random(n) < 0.4, dtype=bool)
    if kind == "Int64":
        return pd.Series(rng.integers(0, rng.integers(2, 300), n), dtype="Int64")
    if kind == "boolean":
        return pd.Series(rng.random(n) < 0.6, dtype="boolean")
    if kind == "string":
        return pd.Series(rng.choice(["a", "bb", "c c", ""], n), dtype="string")
    if kind == "category":
        return pd.Series(pd.Categorical(rng.choice(["lo", "mid", "hi"], n), categories=["lo", "mid", "hi", "never"]))
    if kind == "object_text":
        return pd.Series(rng.choice(["x", "y", "z", "w"], n), dtype=object)
    if kind == "counts":
        return pd.Series(rng.poisson(rng.uniform(0.3, 8), n), dtype="int64")
    if kind == "constant":
        return pd.Series(np.full(n, 7.25))
    assert kind == "float32"
    return pd.Series(np.round(rng.normal(3, 2, n), 3).astype(np.float32))


def with_holes(series, rate, rng):
    """`series` with about `rate` of its cells missing (two cells kept), in the dtype pandas gives it."""
    n = len(series)
    missing = rng.random(n) < rate
    if (~missing).sum() < 2:
        missing[rng.choice(n, 2, replace=False)] = False
    if not missing.any():
        return series
    if series.dtype == bool:
        series = series.astype(object)
    elif series.dtype == np.int64:
        series = series.astype(float)
    else:
        series = series.copy()
    extension = isinstance(series.dtype, pd.api.extensions.ExtensionDtype)
    series[missing] = pd.NA if extension and not isinstance(series.dtype, pd.CategoricalDtype) else np.nan
    return series


def random_table(seed):
    """A DataFrame of 30-200 rows and 2-5 columns of distinct kinds, holes at random rates."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 201))
    kinds = rng.choice(COLUMN_KINDS, int(rng.integers(2, 6)), replace=False)
    return pd.DataFrame({
        f"{kind}_{i}": with_holes(random_column(kind, n, rng), rng.choice([0.0, 0.0, 0.05, 0.7]), rng)
        for i, kind in enumerate(kinds)
    })


def recorded_decimals(values):
    """The fewest decimals (up to 6) that write every value exactly; None where none does."""
    for decimals in range(7):
        if np.array_equal(np.round(values, decimals), values):
            return decimals
    return None


def documented_kind(series):
    """The kind the user guide's rule of ``likelihood="auto"`` gives a DataFrame column."""
    if pd.api.types.is_bool_dtype(series.dtype) or isinstance(series.dtype, pd.CategoricalDtype):
        return "categorical"
    observed = series.dropna()
    if pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype):
        if all(isinstance(v, (str, bool, np.bool_)) for v in observed):
            return "categorical"
    counts = observed.value_counts().to_numpy()
    if counts.size <= 2 or (counts.size <= 10 and observed.size >= 3 * counts.size):
        return "categorical"
    if counts.max() >= max(0.1 * observed.size, 5):
        return "inflated_gaussian"
    return "quantile_normal" if observed.size >= 50 else "gaussian"


def broken_promises(what, X, out, holes_allowed=False):
    """The documented properties of decoded values that `out` breaks, as text (empty: none)."""
    if list(out.columns) != list(X.columns):
        return [f"{what}: columns {list(out.columns)}"]
    problems = []
    for name in X.columns:
        fitted, decoded = X[name], out[name]
        if decoded.dtype != fitted.dtype:
            problems.append(f"{what}: {name} is {decoded.dtype}, fitted as {fitted.dtype}")
        if not holes_allowed and decoded.isna().any():
            problems.append(f"{what}: {name} has holes")
        decoded, fitted = decoded.dropna(), fitted.dropna()
        if not decoded.size:
            continue
        if pd.api.types.is_numeric_dtype(fitted.dtype) and not pd.api.types.is_bool_dtype(fitted.dtype):
            got, seen = decoded.to_numpy(dtype=float), fitted.to_numpy(dtype=float)
            if got.min() < seen.min() or got.max() > seen.max():
                problems.append(f"{what}: {name} leaves [{seen.min()}, {seen.max()}]: {got.min()}..{got.max()}")
            decimals = recorded_decimals(seen)
            # A float32 column's decimals are those of its float32 values (the user guide), not float64's.
            if decimals is not None and fitted.dtype != np.float32 and not np.array_equal(np.round(got, decimals), got):
                problems.append(f"{what}: {name} has more than {decimals} decimals")
            if np.unique(seen).size <= 2 and not set(np.unique(got)) <= set(np.unique(seen)):
                problems.append(f"{what}: {name} holds a level no row held")
        elif not set(decoded.tolist()) <= set(fitted.tolist()):
            problems.append(f"{what}: {name} holds unseen categories {set(decoded.tolist()) - set(fitted.tolist())}")
    return problems


def _fit_quietly(estimator, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # identifier-like text columns are warned about, as documented
        return estimator.fit(X)


def broken_invariants(seed):
    """Every documented invariant the tables of `seed` break, as text (empty: none)."""
    X = random_table(seed)
    vae = _fit_quietly(VAETransformer(random_state=seed, **SMALL), X)
    problems = [f"kind of {name}: {vae.column_kinds_[name]}, the rule says {documented_kind(X[name])}"
                for name in X.columns if vae.column_kinds_[name] != documented_kind(X[name])]
    problems += broken_promises("sample", X, vae.sample(60, random_state=1))
    problems += broken_promises("sample(return_mean=True)", X, vae.sample(60, random_state=1, return_mean=True))
    problems += broken_promises("sample(with_missing=True)", X, vae.sample(60, random_state=1, with_missing=True),
                                holes_allowed=True)
    codes = vae.transform(X)
    problems += broken_promises("inverse_transform", X, vae.inverse_transform(codes))
    order = np.random.default_rng(seed).permutation(len(X))
    if not np.array_equal(vae.transform(X.iloc[order]), codes[order]):
        problems.append("transform of the permuted rows")
    if not np.array_equal(np.vstack([vae.transform(X.iloc[i:i + 7]) for i in range(0, len(X), 7)]), codes):
        problems.append("transform of 7-row slices")
    for k in (1, 3):
        scores = vae.score_samples(X, n_importance=k)
        if not np.isfinite(scores).all():
            problems.append(f"score_samples (K={k}) not finite")
        if not np.array_equal(vae.score_samples(X.iloc[order], n_importance=k), scores[order]):
            problems.append(f"score_samples (K={k}) of the permuted rows")
        alone = np.concatenate([vae.score_samples(X.iloc[[i]], n_importance=k) for i in range(6)])
        if not np.array_equal(alone, scores[:6]):
            problems.append(f"score_samples (K={k}) of a row alone")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.skvae")
        skvae.save(vae, path)
        loaded = skvae.load(path)
    if not (np.array_equal(loaded.transform(X), codes)
            and np.array_equal(loaded.score_samples(X, n_importance=3), vae.score_samples(X, n_importance=3))
            and loaded.sample(20, random_state=3).equals(vae.sample(20, random_state=3))
            and loaded.column_kinds_ == vae.column_kinds_):
        problems.append("save/load changed the model's answers")
    if X.isna().any().any():
        imputer = VAEImputer(random_state=seed, **SMALL)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            filled = imputer.fit_transform(X)
        problems += broken_promises("VAEImputer", X, filled)
        for name in X.columns:
            seen = X[name].notna().to_numpy()
            if not X[name][seen].equals(filled[name][seen]):
                problems.append(f"VAEImputer changed observed cells of {name}")
        alone = pd.concat([imputer.transform(X.iloc[[i]]) for i in range(6)])
        if not alone.equals(imputer.transform(X).iloc[:6]):
            problems.append("VAEImputer's fills of a row alone")
    return problems


# 14 tables (about 40 s on a busy 2-core machine); 60 were swept when the sweep was written.
@pytest.mark.parametrize("seed", list(range(100, 114)))
def test_random_tables_keep_every_documented_invariant(seed):
    assert broken_invariants(seed) == []


def admissible_kind(series, rng):
    """A kind drawn from those whose support holds every observed value of a numeric column (None: not numeric)."""
    if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return None
    values = series.dropna().to_numpy(dtype=float)
    kinds = ["gaussian", "quantile_normal", "inflated_gaussian"]
    if (values > 0).all():
        kinds.append("lognormal")
    if (values >= 0).all() and np.array_equal(values, np.round(values)) and values.max() < 2**24:
        kinds += ["poisson", "negative_binomial"]
    if (values >= 0).all() and (values <= 1).all():
        kinds.append("bernoulli")
    return str(rng.choice(kinds))


# Seeds 17, 18, 19, 33 and 34 failed before the fixes of this sweep.
@pytest.mark.parametrize("seed", [15, 17, 18, 19, 33, 34])
def test_random_tables_with_named_kinds_and_mechanisms_keep_their_rows_own(seed):
    """Kinds named per column and ``missing_mechanism`` at random: the promises that hold under every kind.

    Decoded values keep dtypes, levels and (outside the documented
    exceptions) ranges and decimals; scores and fills of a row alone equal
    its batch's; observed cells stay. Left out by documented design: a
    ``bernoulli`` column decodes draws of 0 and 1 (``keeps_range`` False), and
    under ``"self_masking"`` the imputer's fills move "beyond the column's
    observed range if need be" (user guide, Missing values).
    """
    rng = np.random.default_rng(seed + 999)
    X = random_table(seed)
    kinds = {name: kind for name in X.columns
             if (kind := admissible_kind(X[name], rng)) is not None and rng.random() < 0.6}
    mechanism = str(rng.choice(["ignorable", "self_masking"]))
    params = dict(random_state=seed, likelihood=kinds or "auto", missing_mechanism=mechanism, **SMALL)
    vae = _fit_quietly(VAETransformer(**params), X)
    kept = [name for name in X.columns if vae.column_kinds_[name] != "bernoulli"]
    problems = broken_promises("sample", X[kept], vae.sample(60, random_state=1)[kept])
    problems += broken_promises("inverse_transform", X[kept], vae.inverse_transform(vae.transform(X))[kept])
    for k in (1, 3):
        alone, in_batch = _alone_and_in_batch(lambda d: vae.score_samples(d, n_importance=k), X, range(8))
        if not np.array_equal(alone, in_batch):
            problems.append(f"score_samples (K={k}) of a row alone")
    if X.isna().any().any():
        imputer = _fit_quietly(VAEImputer(**params), X)
        filled = imputer.transform(X)
        checked = kept if mechanism == "ignorable" else []
        problems += broken_promises("VAEImputer", X[checked], filled[checked])
        problems += [f"VAEImputer changed observed cells of {name}" for name in X.columns
                     if not X[name][X[name].notna()].equals(filled[name][X[name].notna()])]
        if not pd.concat([imputer.transform(X.iloc[[i]]) for i in range(8)]).equals(filled.iloc[:8]):
            problems.append("VAEImputer's fills of a row alone")
    assert problems == []


# ---------------------------------------------------------------- the defects, pinned


def _alone_and_in_batch(function, X, rows):
    full = function(X)
    alone = np.concatenate([function(X.iloc[[i]]) for i in rows])
    return alone, full[list(rows)]


@pytest.mark.parametrize("n_importance", [1, 3])
def test_scores_with_a_few_level_categorical_column_are_a_rows_own(n_importance):
    """Generator table 1 (counts typed categorical, quantile-normal and inflated columns, holes): rows 8 and 59 differed."""
    X = random_table(1)
    vae = _fit_quietly(VAETransformer(random_state=1, **SMALL), X)
    assert "categorical" in vae.column_kinds_.values()
    alone, in_batch = _alone_and_in_batch(lambda d: vae.score_samples(d, n_importance=n_importance), X, range(len(X)))
    np.testing.assert_array_equal(alone, in_batch)


def _named_kinds_table():
    rng = np.random.default_rng(0)
    n = 70
    X = pd.DataFrame({
        "visits": rng.poisson(3, n).astype(float), "claims": rng.poisson(5, n).astype(float),
        "income": rng.lognormal(0, 1, n), "share": rng.uniform(0, 1, n), "height": rng.normal(0, 1, n),
        "grade": rng.integers(0, 3, n).astype(float),
        "debt": np.where(rng.random(n) < 0.3, 0.0, rng.normal(2, 1, n)),
    })
    X[rng.random(X.shape) < 0.1] = np.nan
    kinds = {"visits": "poisson", "claims": "negative_binomial", "income": "lognormal", "share": "bernoulli",
             "height": "gaussian", "grade": "categorical", "debt": "inflated_gaussian"}
    return X, kinds


@pytest.mark.parametrize("mechanism", ["ignorable", "self_masking"])
def test_every_kind_scores_and_imputes_a_row_as_in_its_batch(mechanism):
    """Every kind named: scores (K 1 and 3), column scores and the imputer's fills of a row alone equal its batch's."""
    X, kinds = _named_kinds_table()
    params = dict(random_state=0, likelihood=kinds, **SMALL)
    vae = VAETransformer(missing_mechanism=mechanism, **params).fit(X)
    imputer = VAEImputer(missing_mechanism=mechanism, **params).fit(X)
    detector = VAEOutlierDetector(**params).fit(X)
    rows = range(40)
    for function in (vae.score_samples, lambda d: vae.score_samples(d, n_importance=3),
                     lambda d: detector.score_columns(d).to_numpy(), lambda d: imputer.transform(d).to_numpy(),
                     lambda d: vae.inverse_transform(vae.transform(d)).to_numpy()):
        alone, in_batch = _alone_and_in_batch(function, X, rows)
        np.testing.assert_array_equal(alone, in_batch)


def test_negative_binomial_scores_are_a_rows_own():
    """A negative binomial column beside a Gaussian one (its logaddexp): row 30 (K 1) and 28, 39 (K 3) differed."""
    X, kinds = _named_kinds_table()
    X = X[["claims", "height"]]
    vae = VAETransformer(random_state=0, likelihood={"claims": "negative_binomial"}, **SMALL).fit(X)
    for k in (1, 3):
        alone, in_batch = _alone_and_in_batch(lambda d: vae.score_samples(d, n_importance=k), X, range(len(X)))
        np.testing.assert_array_equal(alone, in_batch)


def test_the_imputers_blend_is_a_rows_own():
    """The linear refinement's prediction of a bernoulli column: row 31 differed alone."""
    X, kinds = _named_kinds_table()
    X = X[["share", "height"]]
    imputer = VAEImputer(random_state=0, likelihood={"share": "bernoulli"}, **SMALL).fit(X)
    alone, in_batch = _alone_and_in_batch(lambda d: imputer.transform(d).to_numpy(), X, range(len(X)))
    np.testing.assert_array_equal(alone, in_batch)


def test_row_products_are_the_matrix_product():
    """The refinement's feature-by-feature product is ``design @ coef.T`` to rounding."""
    from skvae._refinement import _row_products

    rng = np.random.default_rng(0)
    design, coef = rng.normal(size=(50, 9)), rng.normal(size=(3, 9))
    np.testing.assert_allclose(_row_products(design, coef), design @ coef.T, rtol=1e-12, atol=1e-12)
    one_row = _row_products(design[7:8], coef)
    np.testing.assert_array_equal(one_row[0], _row_products(design, coef)[7])


def test_draws_take_the_rows_given():
    """Draws from a generator are not padded: seeded samples and sample_posterior fills repeat, and keep their promises.

    (A bernoulli column decodes draws of 0 and 1, not its observed range: its
    ``keeps_range`` is False, as documented; it is left out of the range check.)
    """
    X, kinds = _named_kinds_table()
    params = dict(random_state=0, likelihood=kinds, **SMALL)
    vae = VAETransformer(**params).fit(X)
    pd.testing.assert_frame_equal(vae.sample(33, random_state=4), vae.sample(33, random_state=4))
    first = VAEImputer(sample_posterior=True, **params).fit(X).transform(X)
    pd.testing.assert_frame_equal(VAEImputer(sample_posterior=True, **params).fit(X).transform(X), first)
    assert not first.isna().any().any()
    others = X.columns.drop("share")
    assert broken_promises("sample_posterior", X[others], first[others]) == []


@pytest.mark.parametrize("n_importance", [1, 3])
def test_a_complete_row_scores_alike_beside_rows_with_holes_under_self_masking(n_importance):
    """Generator table 15's 0.5-step column (3% missing), self-masking: complete rows 85 and 167 differed alone.

    Alone, a complete row has no mask and takes the path without one; in a
    batch with a hole it took ``logsumexp`` of its M equal draws minus log M.
    """
    X = random_table(15)[["half_steps_2"]]
    assert X["half_steps_2"].isna().any()
    vae = VAETransformer(random_state=15, missing_mechanism="self_masking", **SMALL).fit(X)
    alone, in_batch = _alone_and_in_batch(lambda d: vae.score_samples(d, n_importance=n_importance), X, range(len(X)))
    np.testing.assert_array_equal(alone, in_batch)


def test_log_mean_exp_is_exact_on_equal_terms_and_logsumexp_otherwise():
    import torch

    from skvae._missingness import _log_mean_exp

    rng = np.random.default_rng(0)
    equal = torch.tensor(np.repeat(rng.normal(size=(50, 1)) * 30, 8, axis=1))
    np.testing.assert_array_equal(_log_mean_exp(equal).numpy(), equal[:, 0].numpy())
    terms = torch.tensor(rng.normal(size=(50, 8)) * 30)
    expected = torch.logsumexp(terms, dim=-1) - np.log(8)
    np.testing.assert_allclose(_log_mean_exp(terms).numpy(), expected.numpy(), rtol=1e-13)
    assert _log_mean_exp(torch.full((2, 8), -np.inf, dtype=torch.float64)).eq(-np.inf).all()


@pytest.mark.parametrize("n_importance", [37, 2000])
def test_padding_leaves_the_draws_in_the_same_chunks_alone_and_in_a_batch(n_importance):
    """A batch within its bound takes all its draws in one chunk, padded or not; a row alone the same."""
    X = np.random.default_rng(2).normal(size=(300, 4))
    vae = VAETransformer(random_state=0, **SMALL).fit(X)
    together = vae.score_samples(X, n_importance=n_importance)
    rows = range(0, 300, 29)
    alone = np.concatenate([vae.score_samples(X[i:i + 1], n_importance=n_importance) for i in rows])
    np.testing.assert_array_equal(alone, together[list(rows)])
