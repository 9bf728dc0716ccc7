"""Hostile sweep 26, found by the lead beside the helpers' families (and items their reports left).

- **Booleans beside numbers were called text.** An object column holding ``True`` and ``1`` was refused
  as one that "mixes text and other values", with advice to coerce the "text" to missing. It is now
  refused as mixing booleans and numbers, with the conversions that keep them (reported by the
  conditional-sampling helper, outside its family).
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
    for conversion in (lambda f: f.astype(bool), lambda f: f.astype(float), lambda f: f.astype(str)):
        VAETransformer(max_iter=1, random_state=0).fit(table.assign(f=conversion(table["f"])))
