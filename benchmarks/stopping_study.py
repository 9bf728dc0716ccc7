"""Time to quality of the stopping rule: the new defaults against the previous rule and a fixed-epoch loop.

Usage: ``python benchmarks/stopping_study.py [--quick] [--seeds N] [--out DIR]``; writes
``DIR/STOPPING_STUDY.md`` and ``stopping_study.json``.

Rules compared (everything else at the defaults):

- ``defaults``: the library's rule (``early_stopping="auto"``, patience of at
  least 700 steps, learning rate divided by 5 at the first two plateaus, and
  annealed over the last quarter of ``max_iter``);
- ``previous rule``: the rule before it (training loss, ``tol=1e-3``, 10
  epochs of patience, constant learning rate), by switching the new parts off;
- ``fixed epochs``: ``max_iter`` epochs and no stopping rule, the loop a
  PyTorch user writes (with the library's end-of-budget annealing).

After every epoch the held-out ELBO of a fixed test set is recorded (its
time is not counted). *Best* is the best held-out ELBO any epoch of any rule
reached for that data and seed; *time to quality* is the training time until
the held-out ELBO is first within 0.1 nat of it.

Data: the known-truth data of :mod:`benchmarks.quality` (20 features, 2-D
latent, noise 0.1) at 5,000 and 200 training rows, with the gap of the
held-out ELBO and of the importance-weighted bound (K=1000) to the true
log-likelihood; and the digits as Bernoulli intensities (X / 16; 75% train),
with LogisticRegression accuracy on the features at latent 10 and 2 against
PCA at the same dimension.
"""

import argparse
import contextlib
import json
import math
import statistics
import sys
import time
import warnings
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from benchmarks import quality  # noqa: E402
from benchmarks._common import module_constant  # noqa: E402
from skvae import VAETransformer, _training  # noqa: E402

QUALITY_MARGIN = 0.1  # nats


@contextlib.contextmanager
def previous_rule():
    """The rule of 0.1.0: no step-based patience, no learning-rate decay or annealing."""
    import skvae._estimator as estimator_module

    # The estimator imported LR_DECAYS by name: its copy is set too.
    with module_constant(_training, "MIN_PATIENCE_STEPS", 0), module_constant(_training, "LR_DECAYS", 0), \
            module_constant(_training, "BUDGET_ANNEAL_FLOOR", 1.0), module_constant(estimator_module, "LR_DECAYS", 0):
        yield


RULES = {
    "defaults": ({}, contextlib.nullcontext),
    "previous rule": ({"early_stopping": False}, previous_rule),
    "fixed epochs": ({"early_stopping": False, "tol": 0.0, "n_iter_no_change": 10**6}, contextlib.nullcontext),
}


@contextlib.contextmanager
def held_out_trace(X_test):
    """Record (training seconds so far, held-out ELBO) after every epoch of the fits inside."""
    trace = {"model": None, "points": []}
    original = _training.Trainer.run_epoch
    clock = {"train": 0.0}

    def run_epoch(self, X):
        start = time.perf_counter()
        loss = original(self, X)
        clock["train"] += time.perf_counter() - start
        trace["points"].append((clock["train"], float(trace["model"].score(X_test))))
        return loss

    _training.Trainer.run_epoch = run_epoch
    try:
        yield trace
    finally:
        _training.Trainer.run_epoch = original


def fit_traced(params, X_train, X_test, context):
    """A fitted model, its held-out trace and its whole fit time (tracing excluded)."""
    model = VAETransformer(**params)
    X_test32 = X_test.astype(np.float32)  # scored by the live float32 networks during the fit
    with context(), held_out_trace(X_test32) as trace, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trace["model"] = model
        model.fit(X_train)
    return model, trace["points"]


def time_to_quality(points, best):
    return next((seconds for seconds, score in points if score >= best - QUALITY_MARGIN), math.inf)


def known_truth_case(n_train, seed, n_features=20, n_test=1000, n_importance=1000, quick=False):
    decoder = quality.RandomDecoder(n_features, seed=0)
    X_train = quality.sample_known_truth(decoder, n_train, 0.1, 1 + seed)
    X_test = quality.sample_known_truth(decoder, n_test, 0.1, 1000 + seed)
    truth = float(quality.true_log_density(decoder, X_test, 0.1, 0.05 if quick else 0.02).mean())
    out = {}
    for rule, (params, context) in RULES.items():
        model, points = fit_traced({"latent_dim": 2, "random_state": seed, **params, **_quick(quick)},
                                   X_train, X_test, context)
        out[rule] = {"points": points, "n_iter": int(model.n_iter_), "seconds": points[-1][0],
                     # float32 rows, as in the trace: a row's Monte Carlo noise is keyed by its values.
                     "final": float(model.score(X_test.astype(np.float32))),
                     "iw_gap": truth - float(model.score(X_test, n_importance=n_importance)),
                     "elbo_gap": truth - float(model.score(X_test))}
    return _summarize(out)


def digits_case(latent_dim, seed, quick=False):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)

    def accuracy(reducer):
        pipeline = make_pipeline(reducer, StandardScaler(), LogisticRegression(max_iter=5000))
        return float(pipeline.fit(X_train, y_train).score(X_test, y_test))

    out = {}
    for rule, (params, context) in RULES.items():
        full = {"latent_dim": latent_dim, "likelihood": "bernoulli", "random_state": seed, **params, **_quick(quick)}
        model, points = fit_traced(full, X_train, X_test, context)
        features = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
        features.fit(model.transform(X_train), y_train)
        out[rule] = {"points": points, "n_iter": int(model.n_iter_), "seconds": points[-1][0],
                     "final": float(model.score(X_test.astype(np.float32))),
                     "accuracy": float(features.score(model.transform(X_test), y_test))}
    summary = _summarize(out)
    summary["pca_accuracy"] = accuracy(PCA(latent_dim, random_state=seed))
    return summary


def _quick(quick):
    return {"max_iter": 4} if quick else {}


def _summarize(out):
    best = max(score for result in out.values() for _, score in result["points"])
    for result in out.values():
        result["best_epoch_gap"] = best - result["final"]
        result["time_to_quality"] = time_to_quality(result["points"], best)
    return {"best": best, "rules": out}


def run(seeds=(0,), quick=False):
    cases = {
        "known truth, 5,000 rows": lambda seed: known_truth_case(300 if quick else 5000, seed, quick=quick),
        "known truth, 200 rows": lambda seed: known_truth_case(200, seed, quick=quick),
        "digits, bernoulli, latent 10": lambda seed: digits_case(10, seed, quick),
        "digits, bernoulli, latent 2": lambda seed: digits_case(2, seed, quick),
    }
    results = {}
    for name, case in cases.items():
        results[name] = [case(seed) for seed in seeds]
        print(name, {rule: (r["n_iter"], round(r["best_epoch_gap"], 3), round(r["seconds"], 1))
                     for rule, r in results[name][0]["rules"].items()}, flush=True)
    return results


def markdown(results, seeds):
    lines = [
        "# Stopping rule study",
        "",
        f"Seeds {tuple(seeds)}; medians over seeds. *gap to best*: best held-out ELBO of any epoch of any rule "
        "minus the rule's final held-out ELBO (nats). *time to quality*: training seconds until the held-out "
        f"ELBO is first within {QUALITY_MARGIN} nat of that best (inf: never). *ratio*: the rule's time to "
        "quality / the fixed-epoch loop's, per seed. Training time only; the per-epoch held-out scoring is "
        "not counted. Run on a shared 2-core machine: compare rows within one case, not absolute seconds.",
        "",
        "| data | rule | epochs | fit seconds | gap to best | time to quality (s) | ratio | extra |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for case, per_seed in results.items():
        for rule in RULES:
            rows = [s["rules"][rule] for s in per_seed]
            fixed = [s["rules"]["fixed epochs"]["time_to_quality"] for s in per_seed]
            ratio = statistics.median(r["time_to_quality"] / f if math.isfinite(f) else math.nan
                                      for r, f in zip(rows, fixed))
            extra = []
            if "elbo_gap" in rows[0]:
                extra.append(f"ELBO gap to truth {statistics.median(r['elbo_gap'] for r in rows):.2f}, "
                             f"IW (K=1000) gap {statistics.median(r['iw_gap'] for r in rows):.2f}")
            if "accuracy" in rows[0]:
                extra.append(f"accuracy {100 * statistics.median(r['accuracy'] for r in rows):.1f} % "
                             f"(PCA {100 * statistics.median(s['pca_accuracy'] for s in per_seed):.1f} %)")
            med = {key: statistics.median(r[key] for r in rows)
                   for key in ("n_iter", "seconds", "best_epoch_gap", "time_to_quality")}
            lines.append(f"| {case} | {rule} | {med['n_iter']:.0f} | {med['seconds']:.1f} | "
                         f"{med['best_epoch_gap']:.2f} | {med['time_to_quality']:.1f} | {ratio:.2f} | "
                         f"{'; '.join(extra)} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description="Time to quality of the stopping rules.")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args(argv)
    seeds = tuple(range(args.seeds))
    results = run(seeds, quick=args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "STOPPING_STUDY.md").write_text(markdown(results, seeds), encoding="utf-8")
    slim = {case: [{**s, "rules": {rule: {k: v for k, v in r.items() if k != "points"} | {
        "curve": [[round(t, 3), round(v, 4)] for t, v in r["points"]]} for rule, r in s["rules"].items()}}
        for s in per_seed] for case, per_seed in results.items()}
    (args.out / "stopping_study.json").write_text(json.dumps(slim, indent=1), encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
