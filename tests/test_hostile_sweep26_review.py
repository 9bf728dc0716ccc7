"""Hostile sweep 26, found by the lead beside the helpers' families (and items their reports left).

- **Booleans beside numbers were called text.** An object column holding ``True`` and ``1`` was refused
  as one that "mixes text and other values", with advice to coerce the "text" to missing. It is now
  refused as mixing booleans and numbers, with the conversions that keep them (reported by the
  conditional-sampling helper, outside its family).
- **A score past float64's range came back -inf without a word** (found by sweep 27's detector helper,
  which ran out of time before fixing it). A finite row far outside the fitted data (1e155 in a column
  fitted on standard normals) has a bound near -(1e155)**2 / 2, below -1.8e308: ``score_samples`` of the
  transformer and the detector returned -inf silently (the networks had not overflowed, so no refusal
  named the cells). -inf is that number as float64 rounds it, and the detector flags the row as it
  should, so it is kept; a UserWarning now names the rows and says why.
"""

import numpy as np
import pandas as pd
import pytest

from skvae import VAETransformer


@pytest.mark.parametrize("cells, words", [
    ([True, 1, 0, False], "mixes booleans and numbers (for example True and 1)"),
    ([True, "a", 1, 0], "mixes text and other values (for example 'a' and 1)"),
])
def test_booleans_beside_numbers_are_not_called_text(cells, words):
    table = pd.DataFrame({"f": pd.Series(cells * 10, dtype=object), "x": np.arange(40.0)})
    with pytest.raises(ValueError, match="mixes") as refused:
        VAETransformer(max_iter=1).fit(table)
    assert words in str(refused.value)


def test_the_advice_for_booleans_beside_numbers_works():
    table = pd.DataFrame({"f": pd.Series([True, 1, 0, False] * 10, dtype=object), "x": np.arange(40.0)})
    for conversion in (lambda f: f.map(bool, na_action="ignore"), lambda f: f.astype(float),
                       lambda f: f.astype("string")):
        VAETransformer(max_iter=1, random_state=0).fit(table.assign(f=conversion(table["f"])))


@pytest.mark.parametrize("face", ["VAETransformer", "VAEOutlierDetector"])
def test_a_score_past_float64s_range_is_named(face):
    import skvae

    X = np.random.default_rng(0).standard_normal((30, 3))
    estimator = getattr(skvae, face)(max_iter=2, hidden_layer_sizes=(8,), latent_dim=2, random_state=0).fit(X)
    far = np.array([[0.0, 0.0, 0.0], [1e155, 0.0, 0.0], [1e100, 0.0, 0.0]])
    with pytest.warns(UserWarning, match=r"1 row of X \(row 1\) lies below float64's range") as caught:
        scores = estimator.score_samples(far)
    assert np.isneginf(scores[1]) and np.isfinite(scores[[0, 2]]).all()
    assert len([w for w in caught if "float64's range" in str(w.message)]) == 1
    if face == "VAEOutlierDetector":
        assert estimator.predict(far[[1]]).tolist() == [-1]
