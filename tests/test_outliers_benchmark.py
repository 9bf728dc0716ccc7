"""benchmarks/outliers.py at tiny sizes: splits, scores and report, never timings."""

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import outliers  # noqa: E402


def test_breast_cancer_protocol():
    (label, train, normal, odd), *_ = outliers.breast_cancer_splits(1)
    assert train.shape == (200, 30) and len(odd) == 20
    assert len(train) + len(normal) == 357  # every benign row once
    assert not (set(map(bytes, train)) & set(map(bytes, normal)))


def test_class_protocol_holds_out_the_class():
    X = np.arange(40.0).reshape(20, 2)
    y = np.repeat([0, 1], 10)
    ((label, train, normal, odd),) = outliers.class_splits(X, y, classes=(1,))
    assert label == "class 1" and len(train) == 6 and len(normal) == 4
    np.testing.assert_array_equal(odd, X[:10])
    assert sorted(np.r_[train, normal][:, 0]) == sorted(X[10:, 0])


def test_penguins_is_a_mixed_table_split_by_species():
    pytest.importorskip("palmerpenguins")
    (label, train, normal, odd), *_ = outliers.penguins_splits(1)
    assert {"island", "sex"} <= set(train.columns) and len(odd) == 20
    features = outliers.preprocessor(train).transform(normal)
    assert features.shape[1] == 4 + 3 + 2  # numbers, islands, sexes


def test_pca_reconstruction_error_is_zero_on_the_subspace():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 2)) @ rng.standard_normal((2, 6))
    model = outliers.PCAReconstruction().fit(X)
    np.testing.assert_allclose(model.outlier_score(X), 0, atol=1e-20)
    assert model.outlier_score(X + 1.0).min() > 0


def test_split_evaluation_and_report(tmp_path):
    X_train, X_test = np.random.default_rng(0).standard_normal((2, 80, 4))
    odd = X_test[:10] * 6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        split = outliers.evaluate_split(X_train, X_test, odd, quick=True, seed=0)
    assert {outliers.DEFAULTS, "IsolationForest", "PCA reconstruction error"} <= set(split)
    for result in split.values():
        assert 0 <= result["auc"] <= 1 and result["fit_seconds"] > 0
    assert 0 <= split[outliers.DEFAULTS]["auto_false_positive_rate"] <= 1
    summary = outliers.summarize({"a": split, "b": split})
    assert summary["methods"]["IsolationForest"]["fit_time_ratio"] == 1.0
    text = outliers.markdown({"toy": summary}, {"CPU": "test"}, quick=True, command="x", seconds=1.0)
    assert "Smoke run" in text and "| toy |" in text and "skvae IW bound, K=50" in text
