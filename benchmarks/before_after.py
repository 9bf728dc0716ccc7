"""Two source trees of skvae, side by side in one run: same outputs? same speed?

``python benchmarks/before_after.py --before OLD_TREE [--after .] [--rounds 5]``

Each measurement runs in a child process whose ``PYTHONPATH`` is one tree,
so both versions are timed on the same machine in alternating order; the
report gives the median over rounds of the per-round time ratio after /
before, and whether the two versions' outputs agree (the same seed, data and
parameters on both sides).

Cases:

- ``array``: 3,000 x 100 low-rank Gaussian data, hidden (128, 64), latent 10,
  8 epochs with a fixed budget, one thread: the per-step path;
- ``table``: palmerpenguins' table (mixed types, missing cells), defaults
  with ``max_iter=40``: the schema, the likelihood blocks and the decoding;
- ``one_row``: ``transform`` of one row of the array case (best of 200).

Writes ``results/BEFORE_AFTER.md`` and ``results/before_after.json``.
"""

import argparse
import json
import statistics
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import run_in_tree  # noqa: E402

CHILD = r'''
import json, sys, time, warnings, hashlib
import numpy as np
warnings.simplefilter("ignore")
from skvae import VAETransformer

case = sys.argv[1]
out = {}
if case in ("array", "one_row"):
    rng = np.random.RandomState(0)
    X = (rng.randn(3000, 10) @ rng.randn(10, 100) + 0.3 * rng.randn(3000, 100)).astype(np.float32)
    model = VAETransformer(hidden_layer_sizes=(128, 64), latent_dim=10, max_iter=8, n_iter_no_change=8,
                           early_stopping=False, tol=0.0, n_jobs=1, random_state=0)
    start = time.perf_counter(); model.fit(X); out["fit_s"] = time.perf_counter() - start
    if case == "one_row":
        row = X[:1]
        times = []
        for _ in range(200):
            start = time.perf_counter(); model.transform(row); times.append(time.perf_counter() - start)
        out["one_row_s"] = min(times)
    Z = model.transform(X[:500])
    out["score"] = float(model.score(X[:500]))
else:
    import palmerpenguins
    X = palmerpenguins.load_penguins()
    model = VAETransformer(max_iter=40, random_state=0, n_jobs=1)
    start = time.perf_counter(); model.fit(X); out["fit_s"] = time.perf_counter() - start
    Z = model.transform(X)
    out["score"] = float(model.score(X))
    sample = model.sample(200, random_state=0)
    out["sample_digest"] = hashlib.sha256(sample.to_csv().encode()).hexdigest()[:16]
out["transform_digest"] = hashlib.sha256(np.ascontiguousarray(Z).tobytes()).hexdigest()[:16]
out["loss_curve_end"] = float(model.loss_curve_[-1])
print(json.dumps(out))
'''


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True)
    parser.add_argument("--after", default=".")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    cases = ("array", "table", "one_row")
    runs = {case: {"before": [], "after": []} for case in cases}
    for round_ in range(args.rounds):
        for case in cases:
            order = ("before", "after") if round_ % 2 == 0 else ("after", "before")
            for side in order:
                runs[case][side].append(run_in_tree(getattr(args, side), CHILD, case))
    rows = []
    for case in cases:
        before, after = runs[case]["before"], runs[case]["after"]
        key = "one_row_s" if case == "one_row" else "fit_s"
        ratio = statistics.median(a[key] / b[key] for a, b in zip(after, before))
        same = all(a.get(k) == b.get(k) for a, b in zip(after, before)
                   for k in ("transform_digest", "sample_digest", "score", "loss_curve_end"))
        rows.append({"case": case, "timed": key, "ratio_after_over_before": ratio, "same_outputs": same,
                     "score_before": before[0]["score"], "score_after": after[0]["score"]})
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "before_after.json").write_text(json.dumps({"rows": rows, "runs": runs}, indent=1))
    lines = ["# Before and after, one run", "",
             f"before: `{args.before}`, after: `{args.after}`; {args.rounds} rounds, alternating order; "
             "time ratio = median over rounds of after / before (below 1: after is faster).", "",
             "| case | timed | after / before | same outputs | score before | score after |",
             "| --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        lines.append(f"| {row['case']} | {row['timed']} | {row['ratio_after_over_before']:.2f} | "
                     f"{'yes' if row['same_outputs'] else 'no'} | {row['score_before']:.4f} | {row['score_after']:.4f} |")
    (Path(args.out) / "BEFORE_AFTER.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
