"""The used-by lines, end to end: Pipeline, GridSearchCV, joblib."""

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skvae import VAETransformer

# Each fit has an epoch budget below convergence, to keep the suite quick; the
# assertions hold at that budget, and the warning saying so is expected.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_pipeline_with_a_classifier():
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    pipeline = Pipeline(
        [
            ("scale", StandardScaler()),
            ("vae", VAETransformer(latent_dim=5, max_iter=60, random_state=0)),
            ("clf", LogisticRegression(max_iter=1000)),
        ]
    ).fit(X_train, y_train)
    assert pipeline.score(X_test, y_test) > 0.9
    assert pipeline.named_steps["vae"].transform(X_test[:3]).shape == (3, 5)


@pytest.mark.slow
def test_grid_search_selects_the_true_latent_dimension():
    # Three latent factors: one latent dimension cannot explain the data, and
    # the held-out ELBO (greater is better) must say so.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3)) @ rng.normal(size=(3, 8)) * 2 + 0.3 * rng.normal(size=(600, 8))
    search = GridSearchCV(
        VAETransformer(hidden_layer_sizes=(64,), learning_rate=3e-3, max_iter=100, random_state=0),
        {"latent_dim": [1, 3]},
        cv=3,
    ).fit(X)
    assert search.best_params_ == {"latent_dim": 3}
    one, three = search.cv_results_["mean_test_score"]
    # Measured: about -19.0 for one latent dimension against -12.4 for three.
    assert three > one + 3.0


def test_joblib_round_trip_gives_an_identical_model(tmp_path):
    X = np.random.default_rng(1).normal(size=(200, 6))
    vae = VAETransformer(latent_dim=2, max_iter=5, random_state=0).fit(X)
    path = tmp_path / "vae.joblib"
    joblib.dump(vae, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.transform(X), vae.transform(X))
    np.testing.assert_array_equal(loaded.score_samples(X), vae.score_samples(X))
    np.testing.assert_array_equal(loaded.sample(5, random_state=0), vae.sample(5, random_state=0))
    assert loaded.get_params() == vae.get_params()
    assert loaded.loss_curve_ == vae.loss_curve_
