import sys, warnings, os
import numpy as np
sys.path.insert(0, '/work/main')
from benchmarks import imputation as imp
import skvae._refinement as R
import skvae._imputer as I
from skvae import VAEImputer
warnings.simplefilter("ignore")
SEED = int(os.environ.get("SEED", 0))
orig_refine = R.refine
def make(lo, hi):
    def refine(values, completed, missing, refinement, columns):
        design, _ = R._design(completed, columns)
        predicted = ((design - refinement["mean"]) / refinement["scale"]) @ refinement["coef"].T + refinement["intercept"]
        share = 1.0 - missing.mean(1)
        w = np.clip(share, lo, hi)
        for i, j in enumerate(refinement["columns"]):
            rows = missing[:, j]
            values[rows, j] = (1.0 - w[rows]) * values[rows, j] + w[rows] * predicted[rows, i]
        return values
    return refine
variants = {"0.5": orig_refine, "0.75": None, "clip(.25,.75)": make(0.25, 0.75), "clip(.5,.75)": make(0.5, 0.75)}
for dname in sys.argv[1:]:
    df = imp.DATASETS[dname][0](imp.MAX_ROWS)
    cols = imp.describe_columns(df)
    for sname, (kind, rate) in imp.SCENARIOS.items():
        mask, missing = imp.hidden(df, kind, rate, SEED, cols["numeric"])
        v = VAEImputer(random_state=SEED).fit(missing)
        r = {}
        for name, f in variants.items():
            if f is None:
                I.refine = orig_refine; R.LINEAR_SHARE = 0.75
            else:
                I.refine = f; R.LINEAR_SHARE = 0.5
            r[name] = round(imp.score_fill(df, v.transform(missing), mask, cols["numeric"], cols["categorical"])["rmse"], 3)
        print(dname, sname, r, flush=True)
