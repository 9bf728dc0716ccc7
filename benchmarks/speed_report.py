"""Issue 22's speed report: every ratio in one run, idle and beside a busy core, before and after.

``python benchmarks/speed_report.py --before OLD_TREE [--after .] [--rounds 3] [--readme README.md]``

Each measurement runs in a child process whose ``PYTHONPATH`` is one source
tree (before or after), so both versions are timed on the same machine in
alternating order, each round once *idle* (whatever else the machine runs)
and once *busy*, beside one extra process spinning on one core. Inside a
child, skvae and its references are timed back to back, so every ratio
compares two things measured in the same conditions; the report gives the
median over rounds of each ratio.

Cases (the issue's):

- ``fit784``: 5,000 x 784 rows, hidden (256, 128), latent 20, batch 128,
  8 epochs with a fixed budget; ``fit30``: the same on 5,000 x 30 rows with
  hidden (128, 64), latent 10 (narrow tabular data). Contenders: the
  hand-written loop of :func:`benchmarks.speed.fit_hand_written` on 1 and on
  all usable threads, and skvae with ``n_jobs=None`` (its policy), 1 and all
  threads, each the best of two runs. Ratios are throughputs: skvae's policy
  against the loop at its best thread count, and skvae at equal threads
  against the loop.
- ``infer``: one-row ``transform`` against ``PCA(20).transform`` (784
  features, the model of ``fit784`` trained 2 epochs; best of 300 calls
  each); float64 against float32 input for ``transform`` and
  ``score_samples`` on 50,000 rows at widths 30 and 784; and the time of a
  ``transform`` of 100,000 x 784 rows, after over before.
- ``grid``: ``GridSearchCV`` over ``latent_dim`` (digits, 2 values, cv=2,
  ``max_iter=5``): ``n_jobs=2`` against ``n_jobs=1``.

The hand-written loop is the one in each tree's ``benchmarks/speed.py``; the
report says whether the two trees' loops are the same code.

Writes ``results/SPEED_REPORT.md`` and ``results/speed_report.json``; with
``--readme``, the README's speed table between its
``<!-- speed-report:start -->`` / ``<!-- speed-report:end -->`` markers.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import busy_core, run_in_tree  # noqa: E402

CHILD = r'''
import hashlib, inspect, json, os, sys, time, warnings
import numpy as np
import torch
warnings.simplefilter("ignore")
from benchmarks import speed
from benchmarks._common import low_rank_data
from skvae import VAETransformer
from skvae._threads import usable_cores

case = sys.argv[1]
cores = usable_cores()
out = {"loop_source": hashlib.sha256((inspect.getsource(speed.fit_hand_written)
                                      + inspect.getsource(speed.PlainVAE)).encode()).hexdigest()[:16]}

def seconds(function):
    start = time.perf_counter(); function(); return time.perf_counter() - start

def hand(X, config, threads):
    saved = torch.get_num_threads(); torch.set_num_threads(threads)
    try:
        return seconds(lambda: speed.fit_hand_written(X, config))
    finally:
        torch.set_num_threads(saved)

NETWORKS = {"fit784": dict(n_features=784, hidden_layer_sizes=(256, 128), latent_dim=20),
            "fit30": dict(n_features=30, hidden_layer_sizes=(128, 64), latent_dim=10)}

if case in NETWORKS:
    net = NETWORKS[case]
    X = low_rank_data(5000, net["n_features"], seed=0)
    config = {"hidden_layer_sizes": net["hidden_layer_sizes"], "latent_dim": net["latent_dim"], "batch_size": 128,
              "learning_rate": 1e-3, "epochs": 8, "device": "cpu"}
    warm = {**config, "epochs": 1}
    speed.fit_hand_written(X[:500], warm); speed.fit_skvae(X[:500], warm)  # imports, allocator, thread pools
    runs = [("hand 1", lambda: hand(X, config, 1)), (f"hand {cores}", lambda: hand(X, config, cores)),
            ("skvae None", lambda: seconds(lambda: speed.fit_skvae(X, {**config, "n_jobs": None}))),
            ("skvae 1", lambda: seconds(lambda: speed.fit_skvae(X, {**config, "n_jobs": 1}))),
            (f"skvae {cores}", lambda: seconds(lambda: speed.fit_skvae(X, {**config, "n_jobs": cores})))]
    # Best of two, the second pass in reverse order: a burst of load hits one run, not a contender.
    for name, run in runs + runs[::-1]:
        out[name] = min(out.get(name, float("inf")), run())
    out["cores"] = cores
elif case == "infer":
    from sklearn.decomposition import PCA
    X = low_rank_data(5000, 784, seed=0).astype(np.float64)
    vae = VAETransformer(latent_dim=20, hidden_layer_sizes=(256, 128), max_iter=2, random_state=0).fit(X)
    pca = PCA(20, random_state=0).fit(X)
    row = X[:1]
    def best_call(function, n_calls=300):
        function()
        return min(seconds(function) for _ in range(n_calls))
    out["one_row skvae"] = best_call(lambda: vae.transform(row))
    out["one_row PCA"] = best_call(lambda: pca.transform(row))
    for width, hidden, latent in ((30, (128, 64), 10), (784, (256, 128), 20)):
        data = low_rank_data(50_000, width, seed=1).astype(np.float64)
        model = VAETransformer(latent_dim=latent, hidden_layer_sizes=hidden, max_iter=1,
                               random_state=0).fit(data[:5000])
        for method in ("transform", "score_samples"):
            call = getattr(model, method)
            call(data[:100].astype(np.float32)); call(data[:100])
            t32 = min(seconds(lambda: call(data.astype(np.float32))) for _ in range(3))
            t64 = min(seconds(lambda: call(data)) for _ in range(3))
            out[f"float64/float32 {method} {width}"] = t64 / t32
    big = low_rank_data(100_000, 784, seed=2)
    vae.transform(big[:1000])
    out["transform 100k s"] = min(seconds(lambda: vae.transform(big)) for _ in range(2))
elif case == "grid":
    from sklearn.datasets import load_digits
    from sklearn.model_selection import GridSearchCV
    X = load_digits().data
    grid = lambda n_jobs: GridSearchCV(VAETransformer(max_iter=5, random_state=0),
                                       {"latent_dim": [2, 8]}, cv=2, n_jobs=n_jobs)
    grid(1).fit(X[:200])  # warm-up, the joblib pool included
    grid(2).fit(X[:200])
    out["grid n_jobs=1"] = seconds(lambda: grid(1).fit(X))
    out["grid n_jobs=2"] = seconds(lambda: grid(2).fit(X))
print(json.dumps(out))
'''

CASES = ("fit784", "fit30", "infer", "grid")
CONDITIONS = ("idle", "busy")
README_START, README_END = "<!-- speed-report:start -->", "<!-- speed-report:end -->"


def ratios(case, run):
    """The ratios of one child's measurements (throughput ratios: above 1, skvae is faster)."""
    if case in ("fit784", "fit30"):
        cores = run["cores"]
        best = min(run["hand 1"], run[f"hand {cores}"])
        return {"policy vs best loop": best / run["skvae None"],
                "1 thread vs loop on 1": run["hand 1"] / run["skvae 1"],
                f"{cores} threads vs loop on {cores}": run[f"hand {cores}"] / run[f"skvae {cores}"]}
    if case == "infer":
        values = {"one-row transform time / PCA's": run["one_row skvae"] / run["one_row PCA"]}
        values.update({key: value for key, value in run.items() if key.startswith("float64/float32")})
        values["transform 100k s"] = run["transform 100k s"]
        return values
    return {"GridSearchCV n_jobs=2 time / n_jobs=1": run["grid n_jobs=2"] / run["grid n_jobs=1"]}


def measure(trees, rounds, cases):
    """{condition: {case: {side: [ratios per round]}}} and the loop-source digests per side."""
    results = {c: {case: {side: [] for side in trees} for case in cases} for c in CONDITIONS}
    loops = {}
    for round_ in range(rounds):
        for condition in CONDITIONS:
            with busy_core(condition == "busy"):
                for case in cases:
                    sides = list(trees) if round_ % 2 == 0 else list(trees)[::-1]
                    for side in sides:
                        # The policy reads the machine, not a caller's limit.
                        run = run_in_tree(trees[side], CHILD, case, drop_env=("OMP_NUM_THREADS",))
                        loops[side] = run["loop_source"]
                        results[condition][case][side].append({"raw": run, "ratios": ratios(case, run)})
                        print(f"round {round_} {condition} {case} {side}: "
                              + ", ".join(f"{k} {v:.3g}" for k, v in ratios(case, run).items()), flush=True)
    return results, loops


def medians(results):
    """{condition: {case: {side: {ratio name: median over rounds}}}}."""
    return {condition: {case: {side: {name: statistics.median(r["ratios"][name] for r in runs)
                                      for name in runs[0]["ratios"]}
                               for side, runs in by_side.items()}
                        for case, by_side in by_case.items()}
            for condition, by_case in results.items()}


def table(summary):
    """The Markdown table: one line per ratio, before and after, idle and busy."""
    lines = ["| case | ratio | idle: before | idle: after | busy: before | busy: after |",
             "| --- | --- | --- | --- | --- | --- |"]
    first = summary["idle"]
    for case, by_side in first.items():
        for name in by_side["after"]:
            cells = []
            for condition in CONDITIONS:
                before, after = (summary[condition][case][side].get(name) for side in ("before", "after"))
                if name.endswith(" s"):  # a time: after as a ratio to before, measured in the same rounds
                    cells += ["1", f"{after / before:.2f}"]
                else:
                    cells += [f"{before:.2f}", f"{after:.2f}"]
            label = name[:-2] + " time, after / before" if name.endswith(" s") else name
            lines.append(f"| {case} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def describe(tree):
    """The tree's commit (and its version tag, if any) for the report, else its path."""
    result = subprocess.run(["git", "-C", str(tree), "describe", "--always", "--tags", "--dirty"],
                            capture_output=True, text=True)
    return f"commit {result.stdout.strip()}" if result.returncode == 0 else str(tree)


def write_readme(readme, text):
    content = Path(readme).read_text()
    if README_START not in content or README_END not in content:
        raise SystemExit(f"{readme} has no {README_START} ... {README_END} markers")
    head, rest = content.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    Path(readme).write_text(f"{head}{README_START}\n{text}\n{README_END}{tail}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the source tree to compare against")
    parser.add_argument("--after", default=".")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    parser.add_argument("--readme", default=None, help="README to regenerate the speed table in")
    args = parser.parse_args(argv)
    trees = {"before": args.before, "after": args.after}
    start = time.time()
    results, loops = measure(trees, args.rounds, args.cases)
    summary = medians(results)
    load = Path("/proc/loadavg").read_text().strip() if Path("/proc/loadavg").exists() else "n/a"
    header = (f"Before: {describe(args.before)}, after: {describe(args.after)}; {args.rounds} rounds, trees in alternating order, "
              f"each round idle and beside one busy core; {os.cpu_count()} CPUs ({platform.processor() or 'cpu'}), "
              f"load average at the end {load}; {time.time() - start:.0f} s. Medians over rounds. Training "
              "ratios are throughputs (above 1: skvae is faster); time ratios are skvae's time over the "
              "reference's (below 1: skvae is faster). The hand-written loop is "
              + ("the same code in both trees." if len(set(loops.values())) == 1 else "DIFFERENT in the two trees."))
    text = header + "\n\n" + table(summary)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "speed_report.json").write_text(json.dumps({"summary": summary, "runs": results, "trees": trees,
                                                       "loops": loops}, indent=1))
    (out / "SPEED_REPORT.md").write_text("# Speed report (issue 22), one run\n\n"
                                         "Produced by `python benchmarks/speed_report.py`.\n\n" + text + "\n")
    if args.readme:
        write_readme(args.readme, text)
    print(text)


if __name__ == "__main__":
    main()
