"""VAEImputer's training budget: RMSE and fit+transform time, as a ratio to missForest-style's, per configuration.

Usage: ``python benchmarks/imputer_budget_study.py [--datasets ...] [--scenarios ...] [--configs ...]
[--seeds 0] [--out DIR]``; writes ``DIR/IMPUTER_STUDY.md`` and ``DIR/imputer_study.json`` after every case,
so a long run keeps what it has measured. ``--merge A.json B.json --out DIR`` joins runs made one after
the other (each case holds its own missForest-style reference, so ratios of different runs stay comparable).

Every case (data set, scenario, mask seed) is the protocol of :mod:`benchmarks.imputation`: the same
tables, masks and scores (RMSE over the hidden numeric cells in column standard deviations, accuracy over
hidden categories). In each case the peers run first -- mean, KNNImputer, IterativeImputer (BayesianRidge)
and the missForest-style ``IterativeImputer(ExtraTreesRegressor(n_estimators=50), max_iter=5)`` exactly as
``benchmarks/imputation.py`` builds them -- and then every VAEImputer configuration; time is fit +
transform as a ratio to missForest-style's in the same case. miceforest is left out (it needs the peers'
environment); its RMSE is in ``results/imputation.md``.

Configurations (``CONFIGS``) vary what the imputer's fixed training budget is made of: the epochs
(``max_iter``, or a number of optimizer steps that sets it from the table's rows), the importance samples of the training bound (``n_importance_train``, K), the batch size,
and the stopping rule. A configuration with ``n_fits`` M > 1 averages the fills of M fits with different
seeds (the most frequent fill for a category); one with several ``n_importance`` values fits once and
times each transform separately (the row's time is the fit plus that transform).
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import imputation as protocol  # noqa: E402
from skvae._training import epochs_for_steps  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results"

#: The imputer's budget before this study (skvae 0.4's defaults), written out so that rows stay what they
#: say whatever the defaults become.
BEFORE = {"n_importance_train": 20, "max_iter": 500, "n_iter_no_change": 500, "early_stopping": False,
          "batch_size": 128}


def _config(n_fits=1, n_importance=(100,), steps=None, steps_per_column=None, **params):
    """`steps`: a budget of optimizer steps instead of epochs (max_iter set per table from its rows);
    `steps_per_column`: that many steps per column of the table."""
    return {"params": {**BEFORE, **params}, "n_fits": n_fits, "n_importance": list(n_importance), "steps": steps,
            "steps_per_column": steps_per_column}


def _epochs_for_steps(steps, n_rows, batch_size):
    return epochs_for_steps(steps, math.ceil(n_rows / batch_size))


#: name -> configuration: VAEImputer parameters over BEFORE, fits averaged, transform's importance samples.
CONFIGS = {
    "K=20, 500 epochs (before)": _config(),
    "K=20, 100 epochs": _config(max_iter=100),
    "K=5, 500 epochs": _config(n_importance_train=5),
    "K=10, 100 epochs": _config(n_importance_train=10, max_iter=100),
    "K=10, 50 epochs": _config(n_importance_train=10, max_iter=50),
    "K=5, 100 epochs": _config(n_importance_train=5, max_iter=100, n_importance=(100, 1000)),
    "K=5, 50 epochs": _config(n_importance_train=5, max_iter=50),
    "K=5, 800 steps": _config(n_importance_train=5, steps=800),
    "K=10, 400 steps": _config(n_importance_train=10, steps=400),
    "K=5, 100 epochs, hidden (64, 32)": _config(n_importance_train=5, max_iter=100, hidden_layer_sizes=[64, 32]),
    "K=5, 100 epochs, batch 256": _config(n_importance_train=5, max_iter=100, batch_size=256),
    "K=5, 100 epochs, mean of 3 fits": _config(n_fits=3, n_importance_train=5, max_iter=100),
    "K=5, 80 steps per column": _config(n_importance_train=5, steps_per_column=80),
    "K=10, 80 steps per column": _config(n_importance_train=10, steps_per_column=80),
    "K=20, 80 steps per column": _config(n_importance_train=20, steps_per_column=80),
    "K=5, 160 steps per column": _config(n_importance_train=5, steps_per_column=160),
    "K=5, 80 steps per column, learning rate 2e-3": _config(n_importance_train=5, steps_per_column=80,
                                                            learning_rate=0.002),
    "defaults (max_iter=\"auto\")": _config(n_importance_train=10, max_iter="auto"),
    "K=20, stopping rule (10 epochs, 700 steps)": _config(n_iter_no_change=10),
    "K=20, validation stopping": _config(n_iter_no_change=10, early_stopping=True),
}
#: Run unless --configs names others: the cheap ones (the 500-epoch rows cost 5-20 times as much).
DEFAULT_CONFIGS = ["K=20, 100 epochs", "K=10, 50 epochs", "K=10, 400 steps", "K=5, 100 epochs", "K=5, 800 steps",
                   "K=5, 50 epochs", "K=5, 100 epochs, batch 256", "K=5, 100 epochs, hidden (64, 32)",
                   "K=5, 100 epochs, mean of 3 fits"]
DEFAULT_DATASETS = ["diabetes", "penguins", "randhie", "fair", "breast cancer"]
DEFAULT_SCENARIOS = ["MCAR 20%", "MCAR 50%"]
PEERS = (protocol.MEAN, protocol.KNN, protocol.ITERATIVE, protocol.MISSFOREST)


def _resolved(config, shape):
    """The configuration's VAEImputer parameters for a table of `shape` (rows, columns)."""
    params = dict(config["params"])
    steps = config.get("steps") or (config.get("steps_per_column") or 0) * shape[1]
    if steps:
        params["max_iter"] = _epochs_for_steps(steps, shape[0], params["batch_size"])
    if "hidden_layer_sizes" in params:  # JSON has lists, the estimator tuples
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    return params


def _vae_fits(params, n_fits, missing, seed):
    """[(fitted imputer, fit seconds)] for `n_fits` fits (seeds seed, seed + 1000, ...)."""
    import skvae

    fits = []
    for member in range(n_fits):
        imputer = skvae.VAEImputer(**params, random_state=seed + 1000 * member)
        start = time.perf_counter()
        protocol._quietly(imputer.fit, missing)
        fits.append((imputer, time.perf_counter() - start))
    return fits


def _averaged(filled, categorical):
    """One completed table from several: numeric cells averaged, each category the most frequent fill."""
    out = filled[0].copy()
    for column in out.columns:
        if column in categorical:
            votes = pd.concat([f[column].astype(object) for f in filled], axis=1)
            out[column] = pd.Categorical(votes.mode(axis=1).iloc[:, 0], categories=filled[0][column].cat.categories)
        else:
            out[column] = np.mean([pd.to_numeric(f[column]).to_numpy(float) for f in filled], axis=0)
    return out


def run_vae(config, missing, seed, categorical):
    """{n_importance: (completed table, seconds, epochs)} of one configuration on one incomplete table."""
    fits = _vae_fits(_resolved(config, missing.shape), config["n_fits"], missing, seed)
    fit_seconds = sum(seconds for _, seconds in fits)
    out = {}
    for n_importance in config["n_importance"]:
        start = time.perf_counter()
        filled = [protocol._quietly(imputer.set_params(n_importance=n_importance).transform, missing)
                  for imputer, _ in fits]
        seconds = fit_seconds + time.perf_counter() - start
        out[n_importance] = (_averaged(filled, categorical) if len(filled) > 1 else filled[0], seconds,
                             [int(imputer.n_iter_) for imputer, _ in fits])
    return out


def run_case(df, kind, rate, seed, config_names):
    """Scores and seconds of the peers and the VAE configurations on one mask; ratios to missForest-style."""
    columns = protocol.describe_columns(df)
    mask = protocol.scenario_mask(df, kind, rate, seed)
    missing = df.mask(mask)
    missing[columns["numeric"]] = missing[columns["numeric"]].astype(float)
    peers = protocol.imputers(seed)
    rows = {}
    for name in PEERS:
        start = time.perf_counter()
        completed = peers[name](missing)
        rows[name] = {"seconds": time.perf_counter() - start,
                      **protocol.score_fill(df, completed, mask, columns["numeric"], columns["categorical"])}
    # A configuration that resolves to one already run on this table (800 steps on 1,000 rows are 100
    # epochs) takes its rows instead of running again.
    already = {}
    for name in config_names:
        config = CONFIGS[name]
        key = json.dumps([_resolved(config, missing.shape), config["n_fits"]], sort_keys=True)
        label = (lambda n: name) if len(config["n_importance"]) == 1 else (lambda n: f"{name}, n_importance={n}")
        if key in already and set(config["n_importance"]) <= set(already[key][1]):
            first, produced = already[key]
            for n_importance in config["n_importance"]:
                rows[label(n_importance)] = {**produced[n_importance], "config": config, "same_as": first}
            print(f"    {name}: as {first}", flush=True)
            continue
        produced = {}
        for n_importance, (completed, seconds, epochs) in run_vae(config, missing, seed,
                                                                   columns["categorical"]).items():
            rows[label(n_importance)] = produced[n_importance] = {
                "seconds": seconds, "epochs": epochs, "config": config,
                **protocol.score_fill(df, completed, mask, columns["numeric"], columns["categorical"])}
        already.setdefault(key, (name, produced))
        print(f"    {name}: " + ", ".join(f"n_importance={n}: RMSE {row['rmse']:.3f}, {row['seconds']:.1f} s"
                                          for n, row in produced.items()), flush=True)
    reference = rows[protocol.MISSFOREST]["seconds"]
    for row in rows.values():
        row["time_vs_missforest"] = row["seconds"] / reference
    return {"missing_fraction": float(mask.mean()), "rows": rows}


def _warm_up():
    """One tiny fit and transform, so that the first configuration timed does not pay the process's first
    call into torch (lazy initialisation)."""
    import skvae

    X = np.random.default_rng(0).standard_normal((64, 4))
    X[::5, 1] = np.nan
    protocol._quietly(skvae.VAEImputer(max_iter=3, random_state=0).fit_transform, X)


def run(datasets, scenarios, seeds, config_names, max_rows=protocol.MAX_ROWS, on_progress=None):
    _warm_up()
    result = {"config": {"datasets": datasets, "scenarios": scenarios, "seeds": list(seeds),
                         "configs": {name: CONFIGS[name] for name in config_names}, "max_rows": max_rows},
              "cases": []}
    for dataset in datasets:
        loader, _ = protocol.DATASETS[dataset]
        df = loader(max_rows)
        for label in scenarios:
            kind, rate = protocol.SCENARIOS[label]
            for seed in seeds:
                print(f"{dataset}, {label}, seed {seed} ...", flush=True)
                case = run_case(df, kind, rate, seed, config_names)
                result["cases"].append({"dataset": dataset, "shape": list(df.shape), "scenario": label,
                                        "seed": seed, **case})
                if on_progress is not None:
                    on_progress(result)
    return result


# --------------------------------------------------------------------------------------------- report

def _case_label(case):
    return f"{case['dataset']}, {case['scenario']}" + (f" (seed {case['seed']})" if case["seed"] else "")


def _best_peer(rows):
    rmse, name = min((row["rmse"], name) for name, row in rows.items() if name in PEERS and "rmse" in row)
    return rmse, name


def markdown(result, machine=None, command=""):
    from benchmarks.report import _table

    cases = result["cases"]
    names = list(dict.fromkeys(label for case in cases for label in case["rows"] if label not in PEERS))
    parts = ["# VAEImputer's training budget: accuracy against time", "",
             f"Produced by `{command}`." if command else "", "",
             ("Protocol: `benchmarks/imputer_budget_study.py` over the masks and scores of "
              "`benchmarks/imputation.py` (at most 1,000 rows). Each cell: RMSE over the hidden numeric cells "
              "(column standard deviations; lower is better) / fit+transform time as a ratio to "
              "missForest-style's (ExtraTrees, 50 trees, 5 iterations) on the same mask in the same run. "
              "Bold RMSE: at most the best peer's of the run (mean, KNN, IterativeImputer, missForest-style; "
              "miceforest is not run here). Bold ratio: within the target of 2."), ""]
    if machine:
        parts += ["Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()), ""]
    def cell(case, label):
        row = case["rows"].get(label)
        if row is None or "rmse" not in row:
            return ""
        best, _ = _best_peer(case["rows"])
        rmse = f"**{row['rmse']:.3f}**" if row["rmse"] <= best else f"{row['rmse']:.3f}"
        ratio = row["time_vs_missforest"]
        return f"{rmse} / " + (f"**{ratio:.2f}**" if ratio <= protocol.TARGET_TIME_RATIO else f"{ratio:.2f}")

    parts += ["## RMSE / time ratio per case", ""]
    for dataset in dict.fromkeys(case["dataset"] for case in cases):
        mine = [case for case in cases if case["dataset"] == dataset]
        shown = [label for label in PEERS + tuple(names) if any(label in case["rows"] for case in mine)]
        parts += [f"### {dataset} ({mine[0]['shape'][0]} x {mine[0]['shape'][1]})", "", _table(
            ["configuration"] + [_case_label(case) for case in mine],
            [[label] + [cell(case, label) for case in mine] for label in shown]), ""]
    parts += ["## Per configuration: mean RMSE gap to the best peer, worst time ratio", "",
              ("Gap: the configuration's RMSE minus the best peer's, averaged over the cases it ran (negative: "
               "better than every peer). Epochs: the ones each fit trained."), ""]
    summary = []
    for label in names:
        ran = [case for case in cases if label in case["rows"] and "rmse" in case["rows"][label]]
        gaps = [case["rows"][label]["rmse"] - _best_peer(case["rows"])[0] for case in ran]
        ratios = [case["rows"][label]["time_vs_missforest"] for case in ran]
        epochs = sorted({e for case in ran for e in case["rows"][label].get("epochs", [])})
        summary.append([label, str(len(ran)), f"{np.mean(gaps):+.3f}", f"{max(ratios):.2f}",
                        f"{np.median(ratios):.2f}", ", ".join(map(str, epochs[:6]))])
    parts.append(_table(["configuration", "cases", "mean RMSE gap", "worst time ratio", "median time ratio",
                         "epochs"], summary))
    accuracy = [case for case in cases if any("category_accuracy" in row for row in case["rows"].values())]
    if accuracy:
        parts += ["", "## Category accuracy", "", _table(
            ["configuration"] + [_case_label(case) for case in accuracy],
            [[label] + [f"{case['rows'][label]['category_accuracy']:.3f}"
                        if "category_accuracy" in case["rows"].get(label, {}) else "" for case in accuracy]
             for label in PEERS + tuple(names)])]
    return "\n".join(parts) + "\n"


def merge_cases(parts):
    """The cases of several runs, one per (data set, scenario, seed): the rows of every run, each
    configuration's time ratio to the missForest-style of its own run (the peers' scores agree)."""
    merged = {}
    for part in parts:
        for case in part["cases"]:
            key = (case["dataset"], case["scenario"], case["seed"])
            if key not in merged:
                merged[key] = {**case, "rows": dict(case["rows"])}
            else:
                merged[key]["rows"].update({k: v for k, v in case["rows"].items() if k not in PEERS})
    return list(merged.values())


def write(result, out, machine, command):
    (out / "imputer_study.json").write_text(json.dumps({**result, "machine": machine}, indent=1),
                                            encoding="utf-8")
    (out / "IMPUTER_STUDY.md").write_text(markdown(result, machine, command), encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", choices=list(protocol.DATASETS), default=DEFAULT_DATASETS)
    parser.add_argument("--scenarios", nargs="+", choices=list(protocol.SCENARIOS), default=DEFAULT_SCENARIOS)
    parser.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS,
                        help=f"names from CONFIGS ({', '.join(CONFIGS)}) or of --extra")
    parser.add_argument("--extra", action="append", default=[], metavar="NAME=JSON",
                        help='another configuration: its name, "=", then the keyword arguments of _config '
                             'as JSON, e.g. \'K=5, 200 epochs={"n_importance_train": 5, "max_iter": 200}\'')
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--max-rows", type=int, default=protocol.MAX_ROWS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--merge", nargs="+", type=Path, metavar="JSON", help="join the cases of earlier runs")
    args = parser.parse_args(argv)
    for extra in args.extra:
        name, _, arguments = extra.partition("={")  # names hold "=" themselves ("K=5")
        CONFIGS[name] = _config(**json.loads("{" + arguments))
    unknown = sorted(set(args.configs) - set(CONFIGS))
    if unknown:
        parser.error(f"unknown configurations {unknown}; known: {list(CONFIGS)}")
    from benchmarks._common import machine_description

    command = "python benchmarks/imputer_budget_study.py" + " ".join(
        [""] + [f"'{a}'" if " " in a else a for a in (argv if argv is not None else sys.argv[1:])])
    args.out.mkdir(parents=True, exist_ok=True)
    if args.merge:
        parts = [json.loads(Path(path).read_text(encoding="utf-8")) for path in args.merge]
        result = {"config": {"merged_from": [p["config"] for p in parts]}, "cases": merge_cases(parts)}
        write(result, args.out, parts[0].get("machine"), command)
        return result
    machine = machine_description("cpu")
    result = run(args.datasets, args.scenarios, tuple(args.seeds), args.configs, args.max_rows,
                 on_progress=lambda partial: write(partial, args.out, machine, command))
    write(result, args.out, machine, command)
    return result


if __name__ == "__main__":
    main()
