"""Files written by skvae 0.2.0 load and give the same outputs (see tests/data/make_v0_2_0_files.py)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris

import skvae

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def expected():
    return np.load(DATA / "v0_2_0_expected.npz")


def test_array_model_of_0_2_0_gives_the_same_outputs(expected):
    model = skvae.load(DATA / "v0_2_0_array.skvae")
    X = load_iris().data
    np.testing.assert_allclose(model.transform(X), expected["array_transform"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.score_samples(X), expected["array_scores"], rtol=1e-5, atol=1e-4)


def test_table_model_of_0_2_0_gives_the_same_outputs(expected):
    model = skvae.load(DATA / "v0_2_0_table.skvae")
    table = pd.read_csv(DATA / "v0_2_0_table.csv")
    np.testing.assert_allclose(model.transform(table), expected["table_transform"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.score_samples(table), expected["table_scores"], rtol=1e-5, atol=1e-4)
    assert list(model.sample(3, random_state=0).columns) == list(table.columns)


def test_a_file_without_its_missing_patterns_refuses_with_missing_by_name():
    model = skvae.load(DATA / "v0_2_0_table.skvae")
    before = model.sample(3, random_state=0)
    with pytest.raises(ValueError, match="does not know the missing cells.*refit"):
        model.sample(3, random_state=0, with_missing=True)
    pd.testing.assert_frame_equal(model.sample(3, random_state=0), before)
