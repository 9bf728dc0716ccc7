"""Samples kept to the pairs of discrete values seen in training, against the same model's samples without the rule.

One skvae fit per table (the tables benchmark's seed-0 split, defaults), then ``--seeds`` samples of as many rows as
the training split for each of ``sample(seen_pairs_only=False)`` and the default ``sample()``: column shapes,
column-pair trends, efficacy, the DCR ratio and the impossible-pair rate of ``benchmarks/tables.py``, mean and
standard deviation over the samples. Separates what the rule changes from the sampling noise of one draw.

    python benchmarks/seen_pairs_study.py --tables anes96 --seeds 6 --out /tmp/seen_pairs

Needs the peers' environment (sdmetrics); writes ``seen_pairs_study.json`` and prints the table.
"""

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.tables import (
    TABLES,
    column_pair_trends,
    column_shapes,
    dcr_scores,
    distances_to_closest_record,
    efficacy,
    fit_skvae,
    impossible_pair_rate,
    is_classification,
    like,
)

SCORES = ("shapes", "pairs", "efficacy", "dcr_ratio", "impossible_pairs")


def study(name, n_seeds):
    """{"off" | "rule": [[score per SCORES] per sample seed]} for one table."""
    from sklearn.model_selection import train_test_split

    df, target = TABLES[name]()
    stratify = df[target] if is_classification(df, target) else None
    train, test = train_test_split(df, test_size=0.3, random_state=0, stratify=stratify)
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    holdout_dcr = distances_to_closest_record(test, train)
    vae = fit_skvae(train, 0, {})
    out = {}
    for mode in ("off", "rule"):
        rows = []
        for seed in range(n_seeds):
            synthetic = like(vae.sample(len(train), random_state=seed, seen_pairs_only=mode == "rule"), train)
            rows.append([column_shapes(train, synthetic)[0], column_pair_trends(train, synthetic)[0],
                         efficacy(synthetic, test, target, 0)["efficacy"],
                         dcr_scores(synthetic, train, test, holdout_dcr)["dcr_ratio"],
                         impossible_pair_rate(synthetic, train)[0]])
        out[mode] = rows
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", nargs="+", choices=list(TABLES), default=["anes96", "penguins", "randhie", "fair"])
    parser.add_argument("--seeds", type=int, default=6, help="samples per mode (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default: %(default)s)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    print("| table | samples | " + " | ".join(SCORES) + " |")
    print("| --- | --- |" + " --- |" * len(SCORES))
    for name in args.tables:
        results[name] = study(name, args.seeds)
        for mode, rows in results[name].items():
            rows = np.array(rows, dtype=float)
            cells = [f"{m:.4f} ± {s:.4f}" for m, s in zip(rows.mean(0), rows.std(0))]
            print(f"| {name} | {mode} | " + " | ".join(cells) + " |", flush=True)
    (args.out / "seen_pairs_study.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
