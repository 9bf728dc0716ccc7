"""The peers' RMSE once their fills are made valid values, as skvae's are.

The imputation benchmark scores every imputer's fills as they come; on the
tables of few-level numeric columns (ratings, 0/1 dummies, codes) the peers'
fills are mostly fractions no row could hold (``off support`` in
``results/imputation.md``), and a fraction has a lower squared error than any
valid value. This study puts each peer's numeric fills on the column's
support the way skvae decodes its own (:func:`valid_fills`: a few-level
whole-valued column to its nearest seen level, another whole-valued column
rounded, every column clipped to its observed range) and scores them again,
with the benchmark's loaders, masks and scoring.

    python benchmarks/valid_fills_study.py [--datasets ...] [--scenarios ...] [--seed 0]

Prints one line per table and scenario: each peer's RMSE as given and with
valid fills. Needs the peers' environment (miceforest: pandas < 3) only for
miceforest, which it skips where missing.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.imputation import (  # noqa: E402
    DATASETS,
    ITERATIVE,
    KNN,
    MEAN,
    MISSFOREST,
    SCENARIOS,
    describe_columns,
    hidden,
    imputers,
    score_fill,
    study_main,
)

#: Whole-valued columns with at most this many distinct observed values are
#: levels (skvae's ``likelihood="auto"`` models them as categories).
MAX_LEVELS = 20
PEERS = (MEAN, KNN, ITERATIVE, MISSFOREST)


def valid_fills(filled, missing, numeric, discrete):
    """`filled` with each numeric column's values put on the support observed in `missing`."""
    out = filled.copy()
    for column in numeric:
        seen = np.unique(missing[column].dropna().to_numpy(float))
        values = filled[column].to_numpy(float)
        if column in discrete and len(seen) <= MAX_LEVELS:
            values = seen[np.abs(values[:, None] - seen[None, :]).argmin(1)]
        elif column in discrete:
            values = np.round(values)
        out[column] = np.clip(values, seen.min(), seen.max())
    return out


def study(name, scenario, seed, max_rows=1000):
    df = DATASETS[name][0](max_rows)
    columns = describe_columns(df)
    mask, missing = hidden(df, *SCENARIOS[scenario], seed, columns["numeric"])
    contenders = imputers(seed)
    row = {}
    for peer in PEERS:
        filled = contenders[peer](missing)
        for label, table in (("as given", filled),
                             ("valid", valid_fills(filled, missing, columns["numeric"], columns["discrete"]))):
            row[f"{peer}: {label}"] = round(
                score_fill(df, table, mask, columns["numeric"], columns["categorical"])["rmse"], 3)
    return row


def main():
    study_main(study, __doc__, ["diabetes", "randhie", "fair", "anes96"], ["MCAR 20%", "MCAR 80%"])

if __name__ == "__main__":
    main()
