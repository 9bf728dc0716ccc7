"""The study behind the refinement's weight (``skvae._refinement.LINEAR_SHARE``).

For each of the imputation benchmark's tables (``benchmarks/imputation.py``:
the same loaders, masks and scoring) and scenario, one mask and one
VAEImputer fit with its defaults; then the same fitted imputer's fills
with the regression's weight in the blend set four ways:

* ``1/2``: a fixed weight of 1/2 (0.7.0's plain average);
* ``3/4``: a fixed weight of 3/4;
* ``share in [1/4, 3/4]``: the row's observed share of cells, clipped;
* ``share in [1/2, 3/4]``: the same, clipped to [1/2, 3/4] (the default since).

    python benchmarks/refinement_weight_study.py [--datasets ...] [--scenarios ...] [--seed 0]

Prints the RMSE of the hidden numeric cells (column sd units) per weight, one
line per table and scenario. The numbers in ``skvae/_refinement.py`` and the
user guide come from its runs on seeds 0 and 1 over breast cancer, diabetes
and penguins (the tables with several continuous columns).
"""

import sys
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.imputation import DATASETS, SCENARIOS, describe_columns, hidden, score_fill, study_main  # noqa: E402

WEIGHTS = {"1/2": (0.5, 0.5), "3/4": (0.75, 0.75), "share in [1/4, 3/4]": (0.25, 0.75),
           "share in [1/2, 3/4]": (0.5, 0.75)}


def study(name, scenario, seed, params=None, max_rows=1000):
    """The row of one table and scenario; `params` override VAEImputer's defaults (tests)."""
    from skvae import VAEImputer

    df = DATASETS[name][0](max_rows)
    columns = describe_columns(df)
    mask, missing = hidden(df, *SCENARIOS[scenario], seed, columns["numeric"])
    imputer = VAEImputer(**{"random_state": seed, **(params or {})}).fit(missing)
    result = {}
    for label, share in WEIGHTS.items():
        # A fixed weight w is the range (w, w); the weight is read at each transform.
        with mock.patch("skvae._refinement.LINEAR_SHARE", share):
            filled = imputer.transform(missing)
        result[label] = round(score_fill(df, filled, mask, columns["numeric"], columns["categorical"])["rmse"], 3)
    return result


def main():
    study_main(study, __doc__, ["breast cancer", "diabetes", "penguins"], list(SCENARIOS))


if __name__ == "__main__":
    main()
