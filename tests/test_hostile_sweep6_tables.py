"""Hostile input, sixth sweep: scikit-learn composition and the edges of real tables.

Each family failed once (see the commit that added its tests): a column whose
observed values are all equal got a standard deviation of 1e-17 from rounding
(not 0), so any other value at transform became 1e16 standard deviations
(latent codes of 1e15, scores of -1e32). The tests pin the mechanism over the
faces and methods it serves.
"""

import numpy as np
import pandas as pd
import pytest

from skvae import VAEImputer, VAEOutlierDetector, VAETransformer
from skvae._moments import shift_scale_columns
from skvae._refinement import _moments as refinement_moments

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(latent_dim=2, hidden_layer_sizes=(4,), max_iter=3, batch_size=16, random_state=0)
N = 20

# Ten copies of this value have np.std 2.8e-17, not 0: the sums behind the moments round.
ROUNDING_CONSTANT = -0.1321048632913019


def _rows(seed=0):
    return np.random.default_rng(seed).normal(size=(N, 3))


# --- a constant column is constant exactly, however its sums round -------------------

def test_equal_values_have_the_shift_of_their_value_and_unit_scale():
    block = np.full((10, 2), ROUNDING_CONSTANT)
    block[3, 1] = np.nan
    assert np.std(np.full(10, ROUNDING_CONSTANT)) > 0  # the premise: summing rounds
    shifts, scales = shift_scale_columns(block)
    assert shifts == [ROUNDING_CONSTANT, ROUNDING_CONSTANT]
    assert scales == [1.0, 1.0]


def test_the_refinements_moments_of_a_constant_column_are_its_value_and_unit_scale():
    design = np.column_stack([np.full(10, ROUNDING_CONSTANT), np.arange(10.0)])
    mean, scale = refinement_moments(design)
    assert mean[0] == ROUNDING_CONSTANT and scale[0] == 1.0
    assert scale[1] == pytest.approx(np.std(np.arange(10.0)))


@pytest.mark.parametrize("layout", ["duplicate-rows", "one-constant-column"])
@pytest.mark.parametrize("face, method", [(VAETransformer, "transform"),
                                          (VAEOutlierDetector, "score_samples"),
                                          (VAEOutlierDetector, "score_columns")])
def test_a_constant_column_at_fit_keeps_other_values_at_transform_in_proportion(face, method, layout):
    X = _rows()
    if layout == "duplicate-rows":
        fitted_on = np.tile(X[1], (10, 1))  # every column constant at -0.132...
    else:
        fitted_on = X.copy()
        fitted_on[:, 1] = ROUNDING_CONSTANT
    estimator = face(**TINY).fit(fitted_on)
    out = np.asarray(getattr(estimator, method)(X[:4]), dtype=float)
    assert np.all(np.isfinite(out))
    # Values a few units from the constant are a few (unit-scale) units off,
    # not 1e16 standard deviations.
    assert np.abs(out).max() < 1e4
