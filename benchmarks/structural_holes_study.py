"""Study: do the holes of ``sample(with_missing=True)`` follow the rows' values?

A simulated table whose holes are structural (income missing unless
employed, pension missing unless retired) and one column with holes at
random. One fit; its samples are drawn twice in the same run: with the
holes of a training row drawn by its posterior's density at the sample's z
(skvae's way since 0.11), and with patterns drawn apart from the rows (the
fallback, skvae 0.10's way, got by removing the recorded posteriors from the
model's state). Reported: each column's missing rate (both keep it) and how
often a hole disagrees with the status.

    python -m benchmarks.structural_holes_study [--rows 2000] [--epochs 60] [--seed 0]
"""

import argparse
import warnings

import numpy as np
import pandas as pd

from skvae import VAETransformer


def structural_table(n, seed):
    rng = np.random.default_rng(seed)
    status = rng.choice(["employed", "unemployed", "retired"], n, p=[0.6, 0.25, 0.15])
    return pd.DataFrame({
        "status": status,
        "income": np.where(status == "employed", rng.lognormal(10, 0.4, n), np.nan),
        "pension": np.where(status == "retired", rng.normal(1500, 200, n), np.nan),
        "age": np.where(status == "retired", rng.normal(70, 5, n), rng.normal(40, 10, n)),
        "other": np.where(rng.random(n) < 0.1, np.nan, rng.normal(0, 1, n)),
    })


def disagreements(table):
    employed, retired = table.status == "employed", table.status == "retired"
    return {
        "employed, no income": table.income[employed].isna().mean(),
        "not employed, an income": table.income[~employed].notna().mean(),
        "retired, no pension": table.pension[retired].isna().mean(),
        "not retired, a pension": table.pension[~retired].notna().mean(),
        **{f"missing rate {column}": table[column].isna().mean() for column in ("income", "pension", "other")},
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    real = structural_table(args.rows, args.seed)
    vae = VAETransformer(max_iter=args.epochs, random_state=args.seed).fit(real)
    apart = VAETransformer()
    state = vae.__getstate__()
    state["_latent_mixture"] = {key: state["_latent_mixture"][key] for key in ("weights", "means", "scale_trils")}
    apart.__setstate__(state)
    rows = {
        "real table": disagreements(real),
        "holes of a training row at z": disagreements(vae.sample(args.samples, random_state=1, with_missing=True)),
        "patterns apart from the rows": disagreements(apart.sample(args.samples, random_state=1, with_missing=True)),
    }
    print(pd.DataFrame(rows).round(3).to_string())


if __name__ == "__main__":
    main()
