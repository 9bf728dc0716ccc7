"""Files written by skvae 0.2.0 and 0.19.0 load and give the same outputs (see tests/data/make_v0_*_files.py)."""

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


def test_an_imputer_file_of_0_19_0_fills_as_0_19_0_did():
    """A 0.19.0 file holds the linear, label and tree refinements but no labels' forests (0.20.0's): it loads, keeps
    its label's logistic rule, and fills every cell as 0.19.0 did (tests/data/make_v0_19_0_files.py)."""
    model = skvae.load(DATA / "v0_19_0_imputer.skvae")
    assert model._label_refinement["rules"] == ["gated"]
    assert "forests" not in model._label_refinement and model._tree_refinement is not None
    table = pd.read_csv(DATA / "v0_19_0_imputer.csv")
    expected = np.load(DATA / "v0_19_0_imputer_expected.npz")
    filled = model.transform(table)
    np.testing.assert_allclose(filled.drop(columns="label").to_numpy(float), expected["numbers"], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(filled["label"].to_numpy(str), expected["label"])
    assert table.isna().any().all()  # every column has holes, so each refinement has cells to fill
