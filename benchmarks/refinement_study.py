"""The study behind ``VAEImputer(refinement="linear")``: the RMSE of hidden cells with and without it.

For each of the imputation benchmark's tables (``benchmarks/imputation.py``:
the same loaders, masks and scoring) and scenario, one mask: VAEImputer's
defaults with ``refinement=None`` and with ``refinement="linear"``, the RMSE
of the hidden numeric cells (column sd units) and the fit + transform
seconds of each. The refinement fits nothing for tables without continuous
columns (``refined columns`` 0), whose fills it leaves as they were.

    python benchmarks/refinement_study.py [--datasets ...] [--scenarios ...] [--seed 0]

Prints one line per table and scenario; the numbers in ``skvae/_refinement.py``
and the user guide come from its run on seed 0.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.imputation import DATASETS, SCENARIOS, describe_columns, hidden, score_fill, study_main  # noqa: E402


def study(name, scenario, seed, params=None, max_rows=1000):
    """The row of one table and scenario; `params` override VAEImputer's defaults (tests)."""
    from skvae import VAEImputer

    df = DATASETS[name][0](max_rows)
    columns = describe_columns(df)
    mask, missing = hidden(df, *SCENARIOS[scenario], seed, columns["numeric"])
    result = {}
    for refinement in (None, "linear"):
        start = time.perf_counter()
        imputer = VAEImputer(**{"random_state": seed, **(params or {}), "refinement": refinement}).fit(missing)
        filled = imputer.transform(missing)
        result[f"{refinement}: rmse"] = round(
            score_fill(df, filled, mask, columns["numeric"], columns["categorical"])["rmse"], 3)
        result[f"{refinement}: seconds"] = round(time.perf_counter() - start, 1)
    result["refined columns"] = 0 if imputer._refinement is None else len(imputer._refinement["columns"])
    return result


def main():
    study_main(study, __doc__, list(DATASETS), ["MCAR 20%", "MCAR 50%", "MCAR 80%", "MAR"])

if __name__ == "__main__":
    main()
