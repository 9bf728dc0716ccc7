"""The study behind the refinement's level indicators (``skvae._refinement.MAX_LEVELS``).

Real tables hold lookups: one value per level of another column (the issue's
computer prices: an advertising count set by the month). Trees copy them; a
regression through the level's number cannot. This study fits VAEImputer
with its defaults twice per table and scenario, with the level indicators
(``MAX_LEVELS`` = 64) and without (0), on:

* ``computers``: a synthetic table after the computer-prices data (1,000
  rows: price, speed, hd, ram, screen, cd, premium, ads, trend), its ``ads``
  one value per ``trend`` month, its price a line in the others plus noise;
  the peers of ``benchmarks/imputation.py`` run on it too;
* the imputation benchmark's tables (``--datasets``), where the indicators
  should change nothing unless a regression's evidence asks for them.

    python benchmarks/refinement_levels_study.py [--datasets computers diabetes ...] [--scenarios ...] [--seed 0]

Prints, per table and scenario, the RMSE of the hidden numeric cells (column
sd units) with and without the indicators, the best peer's on ``computers``,
and the per-column RMSE of the computers table at MCAR 20 %. The numbers in
``skvae/_refinement.py`` come from its run on seed 0 (2026-12-05).
"""

import argparse
import sys
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.imputation import (  # noqa: E402
    DATASETS,
    SCENARIOS,
    VAE,
    Skipped,
    VAE_SELF_MASKING,
    describe_columns,
    hidden,
    imputers,
    score_fill,
)

LEVELS = {"with level indicators": 64, "without": 0}


def computers(n_rows=1000, seed=0):
    """A table after the computer-prices data, with a lookup: ``ads`` is one value per ``trend`` month."""
    rng = np.random.default_rng(seed)
    speed = rng.choice([25, 33, 50, 66, 75, 100], n_rows)
    ram = rng.choice([2, 4, 8, 16, 24, 32], n_rows, p=[0.1, 0.4, 0.3, 0.15, 0.03, 0.02])
    screen = rng.choice([14, 15, 17], n_rows, p=[0.6, 0.3, 0.1])
    trend = rng.integers(1, 36, n_rows)
    premium, cd = rng.random(n_rows) < 0.9, rng.random(n_rows) < 0.45
    ads = rng.integers(39, 340, 36)[trend]
    hd = np.round(np.exp(4.5 + 0.06 * trend + 0.2 * np.log(ram) + rng.normal(0, 0.3, n_rows))).astype(int)
    price = np.round(900 + 9 * speed + 0.8 * hd + 50 * ram + 100 * (screen - 14) + 60 * cd - 500 * premium
                     - 50 * trend + rng.normal(0, 250, n_rows)).astype(int)
    return pd.DataFrame({"price": price, "speed": speed, "hd": hd, "ram": ram, "screen": screen,
                         "cd": cd.astype(int), "premium": premium.astype(int), "ads": ads, "trend": trend})


def _load(name, max_rows=1000):
    return computers(max_rows) if name == "computers" else DATASETS[name][0](max_rows)


def _per_column_rmse(df, filled, mask):
    filled = pd.DataFrame(filled, columns=df.columns)
    return {c: round(float(np.sqrt(np.mean(((pd.to_numeric(filled[c]).to_numpy(float) - df[c].to_numpy(float))
                                            / df[c].std(ddof=0))[mask[:, j]] ** 2))), 3)
            for j, c in enumerate(df.columns) if mask[:, j].any()}


def study(name, scenario, seed, params=None, max_rows=1000, per_column=False):
    """The row of one table and scenario; `params` override VAEImputer's defaults (tests)."""
    from skvae import VAEImputer

    df = _load(name, max_rows)
    columns = describe_columns(df)
    kind, rate = SCENARIOS[scenario]
    mask, missing = hidden(df, kind, rate, seed, columns["numeric"])
    mechanisms = ["ignorable", "self_masking"] if kind == "mnar" else ["ignorable"]
    result = {}
    for mechanism in mechanisms:
        for label, max_levels in LEVELS.items():
            with mock.patch("skvae._refinement.MAX_LEVELS", max_levels):
                imputer = VAEImputer(**{"random_state": seed, "missing_mechanism": mechanism, **(params or {})})
                filled = imputer.fit_transform(missing)
            key = f"{mechanism}, {label}"
            result[key] = round(score_fill(df, filled, mask, columns["numeric"], columns["categorical"])["rmse"], 3)
            if per_column:
                result[key + " per column"] = _per_column_rmse(df, filled, mask)
    if name == "computers":
        peers = {k: v for k, v in imputers(seed).items() if k not in (VAE, VAE_SELF_MASKING)}
        scores = {}
        for peer, impute in peers.items():
            try:
                scores[peer] = score_fill(df, impute(missing), mask, columns["numeric"], columns["categorical"])["rmse"]
            except Skipped:  # miceforest, outside the peers' environment
                continue
        best = min(scores, key=scores.get)
        result["best peer"] = f"{best} {scores[best]:.3f}"
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=["computers", *DATASETS], default=["computers", *DATASETS])
    parser.add_argument("--scenarios", nargs="+", choices=list(SCENARIOS), default=list(SCENARIOS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    for name in args.datasets:
        for scenario in args.scenarios:
            per_column = name == "computers" and scenario == "MCAR 20%"
            print(name, scenario, study(name, scenario, args.seed, per_column=per_column), flush=True)


if __name__ == "__main__":
    main()
