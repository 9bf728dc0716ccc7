"""Hostile sweep 24 (review): a demanding reviewer's read of sweep 23's merged changes (b45cab7..HEAD).

Placeholder docstring: rewritten at the end of the sweep.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import skvae
from skvae._refusals import Refusal

TINY = dict(hidden_layer_sizes=(8,), latent_dim=2, max_iter=2, random_state=0)


def _text_only(n_observed, n_empty):
    """Text categories only (a kind self_masking does not model), `n_empty` rows with no observed cell."""
    levels = np.array(["x", "y", "z"])[np.arange(n_observed) % 3]
    return pd.DataFrame({"a": list(levels) + [None] * n_empty,
                         "b": list(levels[::-1]) + [None] * n_empty})


def _fit(X, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the "models no column" warning is sweep 23's, pinned there
        return skvae.VAETransformer(**{**TINY, **params}).fit(X)


@pytest.mark.parametrize("mechanism", ["ignorable", "self_masking"])
def test_a_mechanism_that_models_no_column_holds_out_no_empty_row(mechanism):
    # The training branch drew held-out rows from rows with an observed cell unless a mechanism was
    # fitted; the mechanism branch made a self_masking fit that models no column the ignorable one
    # (p(s) = 1). Merged, such a fit held out empty rows, scored by the KL term alone.
    with pytest.raises(Refusal, match="at least 2 rows with an observed cell"):
        _fit(_text_only(1, 7), early_stopping=True, missing_mechanism=mechanism)


@pytest.mark.parametrize("mechanism", ["ignorable", "self_masking"])
@pytest.mark.parametrize("n_observed, n_empty, validates", [(100, 400, False), (500, 0, True)])
def test_auto_validation_counts_the_rows_with_an_observed_cell_alike(mechanism, n_observed, n_empty, validates):
    # 'auto' asks for 50 held-out rows: 10% of 500 rows, but of only 100 with an observed cell. Networks
    # wide enough (over 10 weights a row) that the row count decides.
    vae = _fit(_text_only(n_observed, n_empty), early_stopping="auto", missing_mechanism=mechanism,
               hidden_layer_sizes=(128, 64))
    assert bool(vae.validation_scores_) == validates
