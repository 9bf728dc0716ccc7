"""Synthetic tables: fidelity of sampled rows on real mixed-type tables, skvae against ctgan's TVAE.

Tables (all ship inside pip packages, nothing is downloaded):

* ``penguins`` -- palmerpenguins, the 333 complete rows; target ``species``.
* ``anes96`` -- statsmodels' 1996 American National Election Study extract (944 rows); target ``vote``;
  ``PID`` (party identification) and ``educ`` are categories, the 1-7 scales and counts stay integers,
  ``logpopul`` is left out (a deterministic transform of ``popul``).
* ``fair`` -- statsmodels' Fair (1978) affairs survey, a seeded 2,000-row subsample of the 6,366 rows
  (bounds TVAE's fit time); coded answers (``rate_marriage``, ``religious``, ``occupation``,
  ``occupation_husb``) are categories; target ``had_affair`` = ``affairs > 0``, and ``affairs`` itself is
  left out (it would give the target away).

Protocol per table and seed: a stratified 70 % / 30 % split; every generator is fitted on the training
rows and samples as many rows as there are training rows. Scores follow SDMetrics' definitions, computed
with its metric classes over *every* column and *every* pair (the 0.32 ``QualityReport`` silently drops
pairs whose real association falls under a threshold, which changes the numbers from version to version):

* column shapes -- mean over columns of ``KSComplement`` (1 - Kolmogorov-Smirnov statistic) for numbers
  and ``TVComplement`` (1 - total variation distance) for categories;
* column-pair trends -- mean over pairs of ``CorrelationSimilarity`` (Pearson; 1 - |r_real - r_synth| / 2)
  for two numbers and ``ContingencySimilarity`` (1 - total variation distance of the joint table) for pairs
  with a category, numbers binned into SDMetrics' 10 bins of the real column's range;
* machine-learning efficacy -- ``HistGradientBoostingClassifier`` (native categorical splits from the
  category dtype, ``random_state=0``) trained on the synthetic rows, accuracy (and macro F1) on the real
  held-out rows. Gradient boosting needs no scaling or encoding choices that could favour one generator.

Contenders: TVAE (``epochs=300``, its defaults otherwise), independent sampling of each column (a marginal
bootstrap: perfect shapes up to sampling noise, no dependence), the real training rows (efficacy only:
the ceiling) and skvae's ``VAETransformer`` with its defaults (also: held-out ``score``, nats per row).
TVAE and skvae are fitted back to back, in an order that alternates with the seed, and their fit-time ratio
is taken per seed, then the median.
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
METHODS = ("TVAE", "independent", "real rows", "skvae")
#: Targets from the issue, checked in the Markdown report.
TARGETS = {
    "penguins": {"shapes": 0.95, "pairs": 0.93, "accuracy": 0.93},
    "fit_time_ratio": 0.5,
}


# --------------------------------------------------------------------------------------------- tables

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


def load_fair(n_rows=2000, seed=0):
    from statsmodels.datasets import fair

    df = fair.load_pandas().data
    df = df.sample(n=min(n_rows, len(df)), random_state=seed).reset_index(drop=True)
    for column in ("rate_marriage", "religious", "occupation", "occupation_husb"):
        df[column] = pd.Categorical(df[column].astype(int))
    df["had_affair"] = pd.Categorical(np.where(df.pop("affairs") > 0, "yes", "no"))
    return df, "had_affair"


TABLES = {"penguins": load_penguins, "anes96": load_anes96, "fair": load_fair}


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
                    score = CorrelationSimilarity.compute(real[pair], synthetic[pair], coefficient="Pearson")
                else:
                    score = ContingencySimilarity.compute(real[pair], synthetic[pair],
                                                          continuous_column_names=numbers or None,
                                                          num_discrete_bins=num_discrete_bins)
                per_pair[f"{first} / {second}"] = float(score)
    finite = [v for v in per_pair.values() if np.isfinite(v)]
    return float(np.mean(finite)), per_pair


def _plain(data):
    """Categories as plain objects: sdmetrics' group-bys and comparisons expect them."""
    if isinstance(data, pd.Series):
        return data.astype(object) if isinstance(data.dtype, pd.CategoricalDtype) else data
    return data.apply(_plain)


def efficacy(train, test, target, seed=0):
    """Accuracy and macro F1 on real `test` rows of a classifier trained on `train` rows."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import accuracy_score, f1_score

    labelled = train.dropna(subset=[target])
    y_train = labelled[target].astype(object)
    y_test = test[target].astype(object)
    if y_train.nunique() < 2:  # a generator that collapsed onto one class: that class is its prediction
        predicted = np.full(len(test), y_train.iloc[0] if len(y_train) else None, dtype=object)
    else:
        model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed)
        model.fit(labelled.drop(columns=target), y_train)
        predicted = model.predict(test.drop(columns=target))
    return {"accuracy": float(accuracy_score(y_test, predicted)),
            "macro_f1": float(f1_score(y_test, predicted, average="macro"))}


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


def fit_independent(train, seed):
    def sample(n, seed):
        rng = np.random.default_rng(seed)
        return pd.DataFrame({c: train[c].to_numpy()[rng.integers(0, len(train), n)] for c in train.columns})
    return sample


def fit_skvae(train, seed, params):
    from skvae import VAETransformer

    model = VAETransformer(**{"random_state": seed, **params}).fit(train)
    return model


def _timed(function):
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


def _not_available(error):
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"not available: {type(error).__name__}: {first_line}"[:300]


# --------------------------------------------------------------------------------------------- one table

def evaluate_table(df, target, seed, tvae_epochs=300, skvae_params=None, methods=METHODS):
    """Scores of every method on one split of one table; a dict method -> scores (or status)."""
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(df, test_size=0.3, random_state=seed, stratify=df[target])
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    n = len(train)
    fitters = {
        "TVAE": lambda: fit_tvae(train, tvae_epochs, seed),
        "skvae": lambda: fit_skvae(train, seed, dict(skvae_params or {})),
    }
    order = [m for m in ("TVAE", "skvae") if m in methods]
    if seed % 2:  # alternate which of the two timed fits goes first
        order.reverse()
    fitted, seconds, status = {}, {}, {}
    for method in order:
        try:
            fitted[method], seconds[method] = _timed(fitters[method])
        except Exception as error:  # noqa: BLE001 -- a missing capability is a result, not a crash
            status[method] = _not_available(error)
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
            elif method == "TVAE":
                synthetic = fitted[method](n, seed)
            else:
                vae = fitted[method]
                synthetic = vae.sample(n, random_state=seed)
                entry["heldout_loglik"] = float(vae.score(test))
            entry["fit_seconds"] = seconds.get(method)
            synthetic = like(synthetic, train)
            entry["invalid_cells"] = int(synthetic.isna().to_numpy().sum())
            entry["shapes"], entry["shapes_per_column"] = column_shapes(train, synthetic)
            entry["pairs"], _ = column_pair_trends(train, synthetic)
            entry.update(efficacy(synthetic, test, target, seed))
        except Exception as error:  # noqa: BLE001
            entry = {"status": _not_available(error)}
        results[method] = entry
    return results, {"n_train": len(train), "n_test": len(test)}


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
    tvae_epochs = tvae_epochs or 300
    out = {"config": {"seeds": list(seeds), "tvae_epochs": tvae_epochs, "skvae_params": skvae_params or {},
                      "quick": quick, "classifier": "HistGradientBoostingClassifier(categorical_features="
                      "'from_dtype')", "split": "stratified 70/30", "methods": list(methods)},
           "tables": {}}
    for name in tables:
        df, target = TABLES[name]()
        per_method = {m: [] for m in methods}
        sizes = {}
        for seed in seeds:
            print(f"tables: {name}, seed {seed} ...", flush=True)
            scores, sizes = evaluate_table(df, target, seed, tvae_epochs, skvae_params, methods)
            for method, entry in scores.items():
                per_method[method].append(entry)
        out["tables"][name] = {
            "n_rows": len(df), **sizes, "target": target,
            "columns": {c: ("categorical" if is_categorical(df[c]) else "numerical") for c in df.columns},
            "runs": per_method,
            "summary": summarize(per_method),
        }
    return out


def summarize(per_method):
    """Mean and std over seeds of every score, per method; the skvae/TVAE fit-time ratio (median)."""
    summary = {}
    for method, runs in per_method.items():
        ok = [r for r in runs if r.get("status") == "ok"]
        if not ok:
            summary[method] = {"status": runs[0]["status"] if runs else "not run"}
            continue
        entry = {"status": "ok", "n_seeds": len(ok)}
        for key in ("shapes", "pairs", "accuracy", "macro_f1", "heldout_loglik", "fit_seconds"):
            values = [r[key] for r in ok if r.get(key) is not None]
            if values:
                entry[key] = [float(np.mean(values)), float(np.std(values))]
        summary[method] = entry
    tvae, vae = per_method.get("TVAE", []), per_method.get("skvae", [])
    ratios = [b["fit_seconds"] / a["fit_seconds"] for a, b in zip(tvae, vae)
              if a.get("status") == "ok" and b.get("status") == "ok"]
    summary["fit_time_ratio_skvae_tvae"] = float(np.median(ratios)) if ratios else None
    return summary


# --------------------------------------------------------------------------------------------- report

def _cell(entry, key, digits=3):
    if key not in entry:
        return ""
    mean, std = entry[key]
    return f"{mean:.{digits}f} +- {std:.{digits}f}" if std > 0 else f"{mean:.{digits}f}"


def targets(result):
    """(target, measured, met) for every target the results can decide."""
    checks = []
    for name, table in result["tables"].items():
        summary = table["summary"]
        vae, tvae = summary.get("skvae", {}), summary.get("TVAE", {})
        if vae.get("status") != "ok":
            checks.append((f"{name}: skvae defaults at least TVAE on shapes, pairs, efficacy",
                           vae.get("status", "not run"), False))
            continue
        for key in ("shapes", "pairs", "accuracy"):
            if key in tvae:
                checks.append((f"{name}: skvae {key} >= TVAE's", f"{vae[key][0]:.3f} vs {tvae[key][0]:.3f}",
                               vae[key][0] >= tvae[key][0]))
            if key in TARGETS.get(name, {}):
                threshold = TARGETS[name][key]
                checks.append((f"{name}: skvae {key} >= {threshold}", f"{vae[key][0]:.3f}",
                               vae[key][0] >= threshold))
        ratio = summary.get("fit_time_ratio_skvae_tvae")
        if ratio is not None:
            checks.append((f"{name}: fit time skvae / TVAE <= {TARGETS['fit_time_ratio']}", f"{ratio:.2f}",
                           ratio <= TARGETS["fit_time_ratio"]))
    return checks


def markdown(result, machine=None, command=""):
    config = result["config"]
    parts = ["# Synthetic tables: skvae against TVAE", ""]
    if config["quick"]:
        parts += ["**Smoke run (`--quick`): tiny sizes, numbers are not meaningful.**", ""]
    parts += [f"Produced by `{command}`." if command else "", "",
              f"Seeds {config['seeds']} (mean +- std over seeds); TVAE {config['tvae_epochs']} epochs; "
              f"split {config['split']}; efficacy classifier {config['classifier']} trained on synthetic rows, "
              "scored on real held-out rows. Shapes and pairs compare synthetic rows with the real training rows "
              "(SDMetrics' metrics over every column and every pair; see `benchmarks/tables.py`). Pairs without "
              "association in the real rows count too; there independent sampling scores near 1, which lifts its "
              "pair score on tables with many unrelated columns (anes96, fair). Efficacy of the real rows is the "
              "ceiling; on `fair` the target is barely predictable from the other columns, so there efficacy "
              "separates little.", ""]
    if machine:
        parts += ["Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()), ""]
    for name, table in result["tables"].items():
        summary = table["summary"]
        columns = table["columns"]
        n_cat = sum(v == "categorical" for v in columns.values())
        parts += [f"## {name}", "",
                  f"{table['n_rows']} rows ({table['n_train']} train / {table['n_test']} held out), "
                  f"{len(columns)} columns ({n_cat} categorical), target `{table['target']}`.", ""]
        rows = []
        for method in config["methods"]:
            entry = summary.get(method, {})
            if entry.get("status") != "ok":
                rows.append((method, entry.get("status", "not run"), "", "", "", "", ""))
                continue
            rows.append((method, _cell(entry, "shapes"), _cell(entry, "pairs"), _cell(entry, "accuracy"),
                         _cell(entry, "macro_f1"), _cell(entry, "heldout_loglik", 2),
                         _cell(entry, "fit_seconds", 1)))
        parts.append(_table(["method", "column shapes", "column-pair trends", "efficacy accuracy",
                             "efficacy macro F1", "held-out log-lik (nats/row)", "fit seconds"], rows))
        ratio = summary.get("fit_time_ratio_skvae_tvae")
        parts += ["", "Fit time skvae / TVAE (median of per-seed ratios, same run): "
                  + (f"{ratio:.2f}" if ratio is not None else "n/a"), ""]
    checks = targets(result)
    if checks:
        parts += ["## Targets", "", _table(["target", "measured", "met"],
                                           [(t, m, "yes" if ok else "**no**") for t, m, ok in checks]), ""]
    return "\n".join(parts)


def _table(header, rows):
    from benchmarks.report import _table as table

    return table(header, rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="penguins, one seed, a few epochs: code paths only")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--tables", nargs="+", choices=list(TABLES), default=None)
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    args = parser.parse_args(argv)
    from benchmarks._common import machine_description

    machine = machine_description("cpu")
    result = run(quick=args.quick, seeds=tuple(args.seeds), tables=args.tables, methods=tuple(args.methods))
    result["machine"] = machine
    command = "python benchmarks/tables.py" + (" --quick" if args.quick else f" --seeds {' '.join(map(str, args.seeds))}") \
        + (f" --tables {' '.join(args.tables)}" if args.tables else "")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tables.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    (args.out / "tables.md").write_text(markdown(result, machine, command), encoding="utf-8")
    print(f"wrote {args.out / 'tables.md'}", flush=True)
    return result


if __name__ == "__main__":
    main()
