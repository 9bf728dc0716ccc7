"""Hostile use, twenty-sixth sweep: numerical extremes through every column kind.

Each family below failed once (see the commit that added its tests):

- **float32 codes decoded in float32 into a DataFrame's columns** (``skvae._model.VAEModel.decode_mean``):
  ``inverse_transform`` of float32 codes (a pipeline's float32 step) by a
  model fitted on a DataFrame ran the float32 networks and clipped in
  float32, so an int64 column of ids near 5e8 came back as multiples of 32
  and a column of 1e12 +- 0.002 as 1e12 - 4096, below its observed minimum.
  A float32 code is exactly a float64 one: such a model decodes in float64
  into its columns' dtypes. A model fitted on an array keeps float32 codes
  in float32 (its output's dtype, scikit-learn's rule).
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from skvae import VAEImputer, VAEOutlierDetector, VAETransformer

TINY = dict(latent_dim=2, hidden_layer_sizes=(8,), max_iter=3, random_state=0, device="cpu")


@pytest.fixture(autouse=True)
def _every_warning_an_error():
    """No NumPy or torch warning may reach a caller of these extremes."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# --------------------------------------------------------------------------
# float32 codes decoded by a DataFrame model


@pytest.mark.parametrize("kind", ["gaussian", "quantile_normal", "inflated_gaussian", "lognormal"])
def test_float32_codes_decode_a_dataframe_model_in_its_columns_precision(kind):
    """``inverse_transform`` of float32 codes gives what their float64 values give, inside the observed range.

    The codes were decoded by the float32 networks: ids near 5e8 came back
    as multiples of 32 in their int64 column, and a column of 1e12 +- 0.002
    as 1e12 - 4096, below its minimum.
    """
    rng = np.random.default_rng(0)
    n = 60
    X = pd.DataFrame({
        "id": rng.integers(10**8, 10**9, n).astype(np.int64),
        "stamp": 1e12 + rng.normal(size=n) * 1e-3,
        "r": rng.normal(size=n),
    })
    model = VAETransformer(likelihood={"id": kind, "stamp": kind if kind != "lognormal" else "gaussian"},
                           **TINY).fit(X)
    codes = model.transform(X).astype(np.float32)
    decoded = model.inverse_transform(codes)
    expected = model.inverse_transform(codes.astype(np.float64))
    pd.testing.assert_frame_equal(decoded, expected)
    assert decoded["id"].dtype == np.int64
    assert decoded["stamp"].between(X["stamp"].min(), X["stamp"].max()).all()
    assert decoded["id"].between(X["id"].min(), X["id"].max()).all()
