"""Training budget study (issue 20, item 5): does a default fit end by its stopping rule on the tables benchmark?

Usage (the tables need statsmodels and palmerpenguins, the shapes sdmetrics: the ``bench`` extra)::

    python benchmarks/budget_study.py [--seeds 0 1] [--tables penguins fair] [--out DIR]
        [--config "name:max_iter=500,MAX_PATIENCE_EPOCHS=20" ...]

writes ``DIR/BUDGET_STUDY.md`` and ``DIR/budget_study.json``.

For every table of :mod:`benchmarks.tables` (same loaders, same 70 / 30 split, same seeds) skvae's
``VAETransformer`` is fitted once per configuration, on one torch thread (``n_jobs=1``), and scored:

- *epochs*: epochs run (``n_iter_``) and the budget (``max_iter``, or what ``"auto"`` gave);
- *stopped by rule*: the fit ended on its third plateau, not on the budget (no ``ConvergenceWarning``);
- *held-out log-lik*: ``score`` of the held-out rows (nats per row; a category first seen in the held-out
  rows counts as a missing cell, ``handle_unknown="ignore"``);
- *fit time*: a ratio to the ``before`` configuration's fit in the same round (the configurations of a
  round run back to back, in an order that rotates with the round);
- *shapes* and *pairs*: SDMetrics' column shapes and column-pair trends (the definitions of
  :mod:`benchmarks.tables`) of 2,000 sampled rows against the training rows, when sdmetrics is installed.

Configurations: ``before`` is the rule before this study (``max_iter=200`` epochs, which keeps the patience
of at least 700 steps without a cap); ``after`` the library's defaults (``max_iter="auto"``). ``--config`` adds candidates: lower-case keys
are estimator parameters, upper-case keys constants of :mod:`skvae._training` (``MIN_PATIENCE_STEPS``,
``MAX_PATIENCE_EPOCHS``, ``AUTO_BUDGET_STEPS``, ``AUTO_MIN_EPOCHS``, ...), set for that fit only.
"""

import argparse
import ast
import contextlib
import json
import math
import statistics
import sys
import time
import warnings
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from benchmarks import tables  # noqa: E402
from benchmarks._common import machine_description, module_constant  # noqa: E402
from skvae import VAETransformer, _training  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
N_SAMPLES = 2000

#: name -> (estimator parameters, constants of skvae._training)
CONFIGS = {
    # An int max_iter keeps the patience of the step floor whole.
    "before": ({"max_iter": 200}, {}),
    "after": ({}, {}),
}


def parse_config(text):
    """``"name:key=value,key=value"`` -> (name, (params, constants)); values are Python literals."""
    name, _, body = text.partition(":")
    params, constants = {}, {}
    for item in filter(None, body.split(",")):
        key, _, value = item.partition("=")
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            pass  # a bare string such as auto
        (constants if key.isupper() else params)[key] = value
    return name, (params, constants)


@contextlib.contextmanager
def constants(values):
    with contextlib.ExitStack() as stack:
        for key, value in values.items():
            if not hasattr(_training, key):
                raise KeyError(f"skvae._training has no constant {key}")
            stack.enter_context(module_constant(_training, key, value))
        yield


def split(name, seed):
    df, target = tables.TABLES[name]()
    stratify = df[target] if tables.is_classification(df, target) else None
    train, test = train_test_split(df, test_size=0.3, random_state=seed, stratify=stratify)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def fit_one(train, test, seed, params, overrides, with_sdmetrics):
    full = {"random_state": seed, "n_jobs": 1, **params}
    with constants(overrides), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        model = VAETransformer(**full).fit(train)
        seconds = time.perf_counter() - start
        n_train = train.shape[0] if model.validation_scores_ is None else \
            train.shape[0] - min(max(1, round(model.validation_fraction * train.shape[0])), train.shape[0] - 1)
        budget = _training.budget_epochs(model.max_iter, math.ceil(n_train / model.batch_size))
        patience = _training.patience_epochs(model.n_iter_no_change, math.ceil(n_train / model.batch_size),
                                             auto_budget=model.max_iter == "auto")
    hit_budget = any(issubclass(w.category, ConvergenceWarning) and "maximum iterations" in str(w.message)
                     for w in caught)
    entry = {"seconds": seconds, "n_iter": int(model.n_iter_), "budget": int(budget), "patience": int(patience),
             # A fixed budget (n_iter_no_change >= max_iter) warns of nothing but is no stop by the rule.
             "stopped_by_rule": not hit_budget and model.n_iter_ < budget,
             "validation": model.validation_scores_ is not None,
             "best_validation_epoch": None if model.validation_scores_ is None
             else int(np.argmax(model.validation_scores_)) + 1}
    model.set_params(handle_unknown="ignore")
    entry["heldout_loglik"] = float(model.score(test))
    if with_sdmetrics:
        synthetic = tables.like(model.sample(N_SAMPLES, random_state=seed), train)
        entry["shapes"], _ = tables.column_shapes(train, synthetic)
        entry["pairs"], _ = tables.column_pair_trends(train, synthetic)
    return entry


def run(names, seeds, configs):
    try:
        import sdmetrics  # noqa: F401
        with_sdmetrics = True
    except ImportError:
        with_sdmetrics = False
    warm, _ = split(names[0], 0)
    with warnings.catch_warnings():  # the first fit of a process pays one-off costs: not in any timing
        warnings.simplefilter("ignore")
        VAETransformer(max_iter=2, n_jobs=1, random_state=0).fit(warm)
    results = {}
    for name in names:
        results[name] = []
        for round_number, seed in enumerate(seeds):
            train, test = split(name, seed)
            order = list(configs)
            shift = round_number % len(order)
            order = order[shift:] + order[:shift]
            per_config = {}
            for config in order:
                params, overrides = configs[config]
                per_config[config] = fit_one(train, test, seed, params, overrides, with_sdmetrics)
                e = per_config[config]
                print(f"{name} seed {seed} {config}: {e['n_iter']}/{e['budget']} epochs "
                      f"(best validation epoch {e['best_validation_epoch']}) "
                      f"(patience {e['patience']}), rule {e['stopped_by_rule']}, "
                      f"loglik {e['heldout_loglik']:.3f}, {e['seconds']:.2f} s"
                      + (f", shapes {e['shapes']:.3f}, pairs {e['pairs']:.3f}" if with_sdmetrics else ""),
                      flush=True)
            for entry in per_config.values():
                entry["time_ratio"] = entry["seconds"] / per_config["before"]["seconds"] \
                    if "before" in per_config else math.nan
            results[name].append({"seed": seed, "n_train": len(train), "configs": per_config})
    return results, with_sdmetrics


def markdown(results, configs, with_sdmetrics, machine, command):
    lines = [
        "# Training budget study (issue 20, item 5)",
        "",
        f"Produced by `{command}`. One torch thread, `n_jobs=1`; tables, split and seeds of "
        "`benchmarks/tables.py`. *epochs*: run / budget (median over seeds); *rule*: fits that ended on "
        "their stopping rule rather than on the budget; *held-out log-lik*: `score` of the held-out rows "
        "(nats per row, mean over seeds); *time*: fit seconds over the `before` fit's in the same round "
        "(median over seeds); *shapes*, *pairs*: SDMetrics' column shapes and column-pair trends of "
        f"{N_SAMPLES:,} sampled rows (mean over seeds).",
        "",
        "Configurations: " + "; ".join(f"`{name}`: {_describe(*configs[name])}" for name in configs) + ".",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items())
        + ". The machine was shared with other jobs: only the ratios mean anything.",
        "",
        "| table | rows (train) | config | epochs | patience | rule | held-out log-lik | time / before |"
        + (" shapes | pairs |" if with_sdmetrics else ""),
        "| --- | --- | --- | --- | --- | --- | --- | --- |" + (" --- | --- |" if with_sdmetrics else ""),
    ]
    for name, per_seed in results.items():
        for config in configs:
            rows = [s["configs"][config] for s in per_seed]
            n_iter = statistics.median(r["n_iter"] for r in rows)
            budget = statistics.median(r["budget"] for r in rows)
            rule = sum(r["stopped_by_rule"] for r in rows)
            line = (f"| {name} | {per_seed[0]['n_train']} | {config} | {n_iter:.0f} / {budget:.0f} | "
                    f"{statistics.median(r['patience'] for r in rows):.0f} | {rule} of {len(rows)} | "
                    f"{statistics.mean(r['heldout_loglik'] for r in rows):.3f} | "
                    f"{statistics.median(r['time_ratio'] for r in rows):.2f} |")
            if with_sdmetrics:
                line += (f" {statistics.mean(r['shapes'] for r in rows):.3f} |"
                         f" {statistics.mean(r['pairs'] for r in rows):.3f} |")
            lines.append(line)
    return "\n".join(lines) + "\n"


def _describe(params, overrides):
    parts = [f"{k}={v!r}" for k, v in params.items()] + [f"{k}={v}" for k, v in overrides.items()]
    return ", ".join(parts) if parts else "the library's defaults"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--tables", nargs="+", choices=list(tables.TABLES), default=list(tables.TABLES))
    parser.add_argument("--config", action="append", default=[], metavar="NAME:KEY=VALUE,...",
                        help="an extra configuration (repeatable)")
    parser.add_argument("--only", nargs="+", default=None, metavar="NAME",
                        help="run only these configurations (before is always run: the time reference)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    configs = dict(CONFIGS)
    configs.update(parse_config(text) for text in args.config)
    if args.only:
        configs = {name: configs[name] for name in ["before", *args.only] if name in configs}
    machine = machine_description("cpu")
    results, with_sdmetrics = run(args.tables, args.seeds, configs)
    command = "python benchmarks/budget_study.py --seeds " + " ".join(map(str, args.seeds)) \
        + (" --tables " + " ".join(args.tables) if args.tables != list(tables.TABLES) else "") \
        + "".join(f' --config "{text}"' for text in args.config) \
        + (" --only " + " ".join(args.only) if args.only else "")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "BUDGET_STUDY.md").write_text(markdown(results, configs, with_sdmetrics, machine, command),
                                              encoding="utf-8")
    (args.out / "budget_study.json").write_text(json.dumps({"configs": {k: list(v) for k, v in configs.items()},
                                                            "machine": machine, "results": results}, indent=1),
                                                encoding="utf-8")
    print(f"wrote {args.out / 'BUDGET_STUDY.md'}", flush=True)
    return results


if __name__ == "__main__":
    main()
