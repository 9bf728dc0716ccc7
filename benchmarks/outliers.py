"""Outlier detection: skvae's VAEOutlierDetector against the usual detectors, by ROC AUC.

Usage::

    python benchmarks/outliers.py                # full run (a few minutes on 2 busy CPU cores)
    python benchmarks/outliers.py --quick        # one split per data set, short training (code paths only)
    python benchmarks/outliers.py --threads 1 --out /tmp/outliers
    python benchmarks/outliers.py --n-importance-study   # AUC and score time for K = 1 ... 50

Protocols (novelty detection: fit on normal rows only, rank held-out rows):

- breast cancer (scikit-learn): fit on 200 benign rows; test on the other
  benign rows plus 20 malignant ones; 5 seeds.
- digits (scikit-learn): fit on 60% of one class; test on the rest of that
  class against every other class; classes 0, 3 and 8.
- wine (scikit-learn): as digits, each of the three cultivars in turn.
- penguins (palmerpenguins, a mixed-type table): Adelie and Gentoo are normal,
  Chinstrap the outlier class; fit on 60% of the normal rows; test on the
  rest plus 20 Chinstraps; 5 seeds. Rows with a missing cell are dropped.

Every contender sees the same standardized features (categorical columns
one-hot encoded): ``VAEOutlierDetector`` with default parameters (the
importance-weighted bound with K=10), with the ELBO (K=1) and with K=50, ``IsolationForest``,
``LocalOutlierFactor(novelty=True)``, PCA reconstruction error (components
for 90% of the variance) and PyOD's ``VAE`` with its defaults (batch size capped at the number of
training rows, which it needs). Reported: mean
ROC AUC over the splits of a data set, and fit and score times as the median
over splits of the ratio to IsolationForest's time in the same split. For
skvae and IsolationForest the rows flagged by ``contamination="auto"`` are
reported too (false-positive rate on held-out normal rows, true-positive
rate on outliers).
"""

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.compose import make_column_transformer  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits, load_wine  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.neighbors import LocalOutlierFactor  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

from benchmarks._common import machine_description  # noqa: E402
from skvae import VAEOutlierDetector  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
REFERENCE = "IsolationForest"
DEFAULTS = "skvae (defaults: IW bound, K=10)"
N_IMPORTANCE_STUDY = (1, 5, 10, 20, 50)


# ------------------------------------------------------------------ splits


def breast_cancer_splits(n_seeds):
    X, y = load_breast_cancer(return_X_y=True)
    benign, malignant = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    for seed in range(n_seeds):
        rng = np.random.default_rng(seed)
        order = rng.permutation(benign)
        train, test_normal = order[:200], order[200:]
        test_outliers = rng.choice(malignant, 20, replace=False)
        yield f"seed {seed}", X[train], X[test_normal], X[test_outliers]


def class_splits(X, y, classes, seed=0):
    """One class is normal: fit on 60% of it; test on the rest against every other class."""
    for label in classes:
        rng = np.random.default_rng(seed + int(label))
        members = rng.permutation(np.flatnonzero(y == label))
        n_train = int(round(0.6 * len(members)))
        yield f"class {label}", X[members[:n_train]], X[members[n_train:]], X[y != label]


def digits_splits(classes):
    X, y = load_digits(return_X_y=True)
    yield from class_splits(X, y, classes)


def wine_splits(classes):
    X, y = load_wine(return_X_y=True)
    yield from class_splits(X, y, classes)


def penguins_table():
    from palmerpenguins import load_penguins

    frame = load_penguins().drop(columns="year").dropna().reset_index(drop=True)
    return frame.drop(columns="species"), frame["species"].to_numpy()


def penguins_splits(n_seeds):
    X, species = penguins_table()
    normal, outliers = np.flatnonzero(species != "Chinstrap"), np.flatnonzero(species == "Chinstrap")
    for seed in range(n_seeds):
        rng = np.random.default_rng(seed)
        order = rng.permutation(normal)
        n_train = int(round(0.6 * len(order)))
        yield (f"seed {seed}", X.iloc[order[:n_train]], X.iloc[order[n_train:]],
               X.iloc[rng.choice(outliers, 20, replace=False)])


def datasets(quick):
    n_seeds = 1 if quick else 5
    return {
        "breast cancer": lambda: breast_cancer_splits(n_seeds),
        "digits": lambda: digits_splits((0,) if quick else (0, 3, 8)),
        "wine": lambda: wine_splits((0,) if quick else (0, 1, 2)),
        "penguins (Chinstrap as outliers)": lambda: penguins_splits(n_seeds),
    }


def preprocessor(X_train):
    """Standardized numbers and one-hot categories, fitted on the training rows."""
    if hasattr(X_train, "select_dtypes"):
        categorical = list(X_train.select_dtypes(exclude="number").columns)
        numeric = [c for c in X_train.columns if c not in categorical]
        encoder = make_column_transformer(
            (StandardScaler(), numeric),
            (OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
        )
        return encoder.fit(X_train)
    return StandardScaler().fit(X_train)


# -------------------------------------------------------------- contenders


class PCAReconstruction:
    """Outlier score = squared distance to the principal subspace (90% of the variance)."""

    def __init__(self, variance=0.9):
        self.variance = variance

    def fit(self, X):
        self.pca_ = PCA(n_components=self.variance, svd_solver="full").fit(X)
        return self

    def outlier_score(self, X):
        residual = X - self.pca_.inverse_transform(self.pca_.transform(X))
        return (residual**2).sum(axis=1)


def contenders(quick, seed, n_train):
    """name -> (make, outlier_score(model, X)): higher outlier_score = more abnormal."""
    vae_settings = {"max_iter": 10} if quick else {}
    made = {
        DEFAULTS: (
            lambda: VAEOutlierDetector(random_state=seed, **vae_settings),
            lambda m, X: -m.score_samples(X),
        ),
        "skvae ELBO (n_importance=1)": (
            lambda: VAEOutlierDetector(n_importance=1, random_state=seed, **vae_settings),
            lambda m, X: -m.score_samples(X),
        ),
        "skvae IW bound, K=50": (
            lambda: VAEOutlierDetector(n_importance=50, random_state=seed, **vae_settings),
            lambda m, X: -m.score_samples(X),
        ),
        "IsolationForest": (lambda: IsolationForest(random_state=seed), lambda m, X: -m.score_samples(X)),
        "LocalOutlierFactor(novelty=True)": (
            lambda: LocalOutlierFactor(novelty=True), lambda m, X: -m.score_samples(X)),
        "PCA reconstruction error": (PCAReconstruction, lambda m, X: m.outlier_score(X)),
    }
    try:
        from pyod.models.vae import VAE
    except ImportError:
        return made
    pyod_settings = {"epoch_num": 2} if quick else {}
    # PyOD drops the last partial batch and fails when no full batch is left
    # (wine's smallest class trains on 29 rows): the one change to its defaults.
    pyod_settings["batch_size"] = min(32, n_train)
    made["PyOD VAE (defaults)"] = (
        lambda: VAE(random_state=seed, verbose=0, device="cpu", **pyod_settings),
        lambda m, X: m.decision_function(X),
    )
    return made


# ---------------------------------------------------------------- the run


def evaluate_split(X_train, X_normal, X_outliers, quick, seed):
    """AUC, fit and score seconds of every contender on one split."""
    transform = preprocessor(X_train)
    X_train, X_normal, X_outliers = (np.asarray(transform.transform(X), dtype=np.float64)
                                     for X in (X_train, X_normal, X_outliers))
    X_test = np.r_[X_normal, X_outliers]
    is_outlier = np.r_[np.zeros(len(X_normal)), np.ones(len(X_outliers))]
    out = {}
    for name, (make, outlier_score) in contenders(quick, seed, len(X_train)).items():
        model = make()
        start = time.perf_counter()
        model.fit(X_train)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        score = outlier_score(model, X_test)
        score_seconds = time.perf_counter() - start
        result = {"auc": float(roc_auc_score(is_outlier, score)), "fit_seconds": fit_seconds,
                  "score_seconds": score_seconds}
        if hasattr(model, "offset_") and hasattr(model, "predict") and not isinstance(model, LocalOutlierFactor):
            flagged = model.predict(X_test) == -1
            result["auto_false_positive_rate"] = float(flagged[is_outlier == 0].mean())
            result["auto_true_positive_rate"] = float(flagged[is_outlier == 1].mean())
        out[name] = result
    return out


def warm_up(quick):
    """Fit every contender once on small data, so one-off start-up costs stay out of the timings."""
    X = np.random.default_rng(0).standard_normal((60, 5))
    for make, outlier_score in contenders(quick=True, seed=0, n_train=len(X)).values():
        outlier_score(make().fit(X), X)


def run(quick=False):
    warm_up(quick)
    results = {}
    for dataset, splits in datasets(quick).items():
        per_split = {}
        for index, (label, X_train, X_normal, X_outliers) in enumerate(splits()):
            print(f"  {dataset}, {label} ...", flush=True)
            per_split[label] = evaluate_split(X_train, X_normal, X_outliers, quick, seed=index)
        results[dataset] = summarize(per_split)
    return results


def summarize(per_split):
    names = list(next(iter(per_split.values())))
    summary = {"splits": per_split, "methods": {}}
    for name in names:
        rows = [split[name] for split in per_split.values()]
        method = {
            "mean_auc": statistics.mean(r["auc"] for r in rows),
            "fit_time_ratio": statistics.median(r["fit_seconds"] / s[REFERENCE]["fit_seconds"]
                                                for r, s in zip(rows, per_split.values())),
            "score_time_ratio": statistics.median(r["score_seconds"] / s[REFERENCE]["score_seconds"]
                                                  for r, s in zip(rows, per_split.values())),
        }
        if "auto_false_positive_rate" in rows[0]:
            method["auto_false_positive_rate"] = statistics.mean(r["auto_false_positive_rate"] for r in rows)
            method["auto_true_positive_rate"] = statistics.mean(r["auto_true_positive_rate"] for r in rows)
        summary["methods"][name] = method
    return summary


# ---------------------------------------------------------------- report


def markdown(results, machine, quick, command, seconds):
    lines = ["# Outlier detection benchmark", ""]
    if quick:
        lines += ["**Smoke run (`--quick`): one split per data set, short training; numbers are not meaningful.**", ""]
    lines += [f"Produced by `{command}` in {seconds:.0f} s on {machine.get('CPU', '?')} "
              f"({machine.get('torch threads', '?')} torch threads), torch {machine.get('torch', '?')}, "
              f"scikit-learn {machine.get('scikit-learn', '?')}. Protocols: see `benchmarks/outliers.py`.", ""]
    lines += ["## Mean ROC AUC (higher is better; best per data set in bold)", ""]
    names = list(next(iter(results.values()))["methods"])
    header = ["method", *results]
    lines += ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    best = {d: max(r["methods"][n]["mean_auc"] for n in names) for d, r in results.items()}
    for name in names:
        cells = []
        for dataset, result in results.items():
            auc = result["methods"][name]["mean_auc"]
            cells.append(f"**{auc:.3f}**" if auc == best[dataset] else f"{auc:.3f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "## Target: skvae with defaults best, or within 0.01 of the best", ""]
    lines += ["| data set | skvae defaults | best | gap | met |", "| --- | --- | --- | --- | --- |"]
    for dataset, result in results.items():
        auc = result["methods"][DEFAULTS]["mean_auc"]
        top = max(result["methods"], key=lambda n: result["methods"][n]["mean_auc"])
        gap = best[dataset] - auc
        lines.append(f"| {dataset} | {auc:.3f} | {top} {best[dataset]:.3f} | {gap:.3f} | "
                     f"{'yes' if gap <= 0.01 else '**no**'} |")
    lines += ["", "## Time relative to IsolationForest in the same split (median over splits)", ""]
    lines += ["| method | " + " | ".join(f"{d}: fit / score" for d in results) + " |",
              "|" + "|".join(" --- " for _ in range(len(results) + 1)) + "|"]
    for name in names:
        cells = [f"{r['methods'][name]['fit_time_ratio']:.1f} / {r['methods'][name]['score_time_ratio']:.1f}"
                 for r in results.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "## Rows flagged with `contamination=\"auto\"` (held-out rows; mean over splits)", ""]
    lines += ["| method | " + " | ".join(f"{d}: normal flagged / outliers flagged" for d in results) + " |",
              "|" + "|".join(" --- " for _ in range(len(results) + 1)) + "|"]
    for name in names:
        if "auto_false_positive_rate" not in next(iter(results.values()))["methods"][name]:
            continue
        cells = [f"{100 * r['methods'][name]['auto_false_positive_rate']:.0f}% / "
                 f"{100 * r['methods'][name]['auto_true_positive_rate']:.0f}%" for r in results.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def n_importance_study(quick=False):
    """Mean AUC and scoring time (relative to K=1) of one default fit per split, scored with each K."""
    out = {}
    for dataset, splits in datasets(quick).items():
        aucs, ratios = {k: [] for k in N_IMPORTANCE_STUDY}, {k: [] for k in N_IMPORTANCE_STUDY}
        for index, (label, X_train, X_normal, X_outliers) in enumerate(splits()):
            print(f"  {dataset}, {label} ...", flush=True)
            transform = preprocessor(X_train)
            X_train, X_normal, X_outliers = (np.asarray(transform.transform(X), dtype=np.float64)
                                             for X in (X_train, X_normal, X_outliers))
            vae = VAEOutlierDetector(random_state=index, **({"max_iter": 10} if quick else {})).fit(X_train).vae_
            X_test = np.r_[X_normal, X_outliers]
            is_outlier = np.r_[np.zeros(len(X_normal)), np.ones(len(X_outliers))]
            seconds = {}
            for k in N_IMPORTANCE_STUDY:
                start = time.perf_counter()
                scores = vae.score_samples(X_test, n_importance=k)
                seconds[k] = time.perf_counter() - start
                aucs[k].append(roc_auc_score(is_outlier, -scores))
            for k in N_IMPORTANCE_STUDY:
                ratios[k].append(seconds[k] / seconds[1])
        out[dataset] = {"mean_auc": {k: statistics.mean(v) for k, v in aucs.items()},
                        "score_time_ratio": {k: statistics.median(v) for k, v in ratios.items()}}
    return out


def study_markdown(study, command, seconds):
    lines = ["# Outlier detection: how many importance samples?", "",
             f"Produced by `{command}` in {seconds:.0f} s. One default `VAEOutlierDetector` fit per split "
             "(splits of `benchmarks/outliers.py`), its test rows scored with the bound for each K.", "",
             "| data set | " + " | ".join(f"K={k}: AUC (score time / K=1)" for k in N_IMPORTANCE_STUDY) + " |",
             "|" + "|".join(" --- " for _ in range(len(N_IMPORTANCE_STUDY) + 1)) + "|"]
    for dataset, result in study.items():
        lines.append(f"| {dataset} | " + " | ".join(
            f"{result['mean_auc'][k]:.4f} ({result['score_time_ratio'][k]:.1f})" for k in N_IMPORTANCE_STUDY) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one split per data set, short training")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--n-importance-study", action="store_true",
                        help="instead: AUC and scoring time of the default detector for several n_importance")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    command = "python benchmarks/outliers.py" + (" --quick" if args.quick else "") + (
        f" --threads {args.threads}" if args.threads else "") + (
        " --n-importance-study" if args.n_importance_study else "")
    machine = machine_description("cpu")
    started = time.perf_counter()
    if args.n_importance_study:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            study = n_importance_study(quick=args.quick)
        args.out.mkdir(parents=True, exist_ok=True)
        name = "OUTLIERS_N_IMPORTANCE" + ("_QUICK" if args.quick else "")
        (args.out / f"{name}.md").write_text(study_markdown(study, command, time.perf_counter() - started),
                                             encoding="utf-8")
        print(f"wrote {args.out / (name + '.md')}", flush=True)
        return study
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        results = run(quick=args.quick)
    seconds = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    name = "OUTLIERS_QUICK" if args.quick else "OUTLIERS"
    (args.out / f"{name}.md").write_text(markdown(results, machine, args.quick, command, seconds), encoding="utf-8")
    (args.out / f"{name.lower()}.json").write_text(
        json.dumps({"machine": machine, "quick": args.quick, "seconds": seconds, "results": results}, indent=1),
        encoding="utf-8")
    print(f"wrote {args.out / (name + '.md')} in {seconds:.0f} s", flush=True)
    return results


if __name__ == "__main__":
    main()
