"""Statistical quality: held-out log-likelihood against the truth and against linear models.

Known truth. Rows are x = g(z) + noise, z ~ N(0, I_2), with g a fixed random
tanh network from 2 to ``n_features`` dimensions and isotropic Gaussian
noise. The true density p(x) = E_z N(x; g(z), sigma^2 I) is a 2-D integral,
computed by quadrature on a grid of z (step ``h``, over [-6, 6]^2): for a
smooth integrand a uniform grid converges faster than any power of h, and
the result is checked against the grid of step 2h. Every model is fitted on
the same training rows and scored (mean log-density, nats) on the same
held-out rows: ``FactorAnalysis``, probabilistic ``PCA`` (``PCA.score``),
``GaussianMixture`` and skvae's ELBO and importance-weighted bound.

Real data. scikit-learn's bundled digits and breast-cancer data: accuracy of
``LogisticRegression`` on VAE features against PCA features at equal
dimension (stratified 5-fold cross-validation), and held-out ``score``
against ``FactorAnalysis.score``.
"""

import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.decomposition import PCA, FactorAnalysis
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skvae import VAETransformer

LOG_2PI = np.log(2.0 * np.pi)


class RandomDecoder:
    """g(z) = W3 tanh(W2 tanh(W1 z + b1) + b2) + b3, with fixed random weights."""

    def __init__(self, n_features, latent_dim=2, hidden=32, seed=0):
        rng = np.random.default_rng(seed)
        self.W1 = rng.standard_normal((latent_dim, hidden)) * 1.5
        self.b1 = rng.standard_normal(hidden) * 0.5
        self.W2 = rng.standard_normal((hidden, hidden)) / np.sqrt(hidden) * 1.5
        self.b2 = rng.standard_normal(hidden) * 0.5
        self.W3 = rng.standard_normal((hidden, n_features)) / np.sqrt(hidden)
        self.b3 = rng.standard_normal(n_features)
        self.latent_dim = latent_dim

    def __call__(self, z):
        return np.tanh(np.tanh(z @ self.W1 + self.b1) @ self.W2 + self.b2) @ self.W3 + self.b3


def sample_known_truth(decoder, n_rows, noise_std, seed):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n_rows, decoder.latent_dim))
    return decoder(z) + noise_std * rng.standard_normal((n_rows, decoder.W3.shape[1]))


def true_log_density(decoder, X, noise_std, step, half_width=6.0, rows_per_block=64):
    """log p(x) per row by quadrature over a 2-D grid of z with spacing `step`."""
    axis = np.arange(-half_width + step / 2, half_width, step)
    grid = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
    log_weights = -0.5 * (2 * LOG_2PI + (grid**2).sum(1)) + 2 * np.log(step)  # prior x cell area
    means = torch.from_numpy(decoder(grid))
    mean_norms = (means**2).sum(1)
    n_features = X.shape[1]
    constant = -0.5 * n_features * (LOG_2PI + 2 * np.log(noise_std))
    out = np.empty(X.shape[0])
    log_weights_t = torch.from_numpy(log_weights)
    for start in range(0, X.shape[0], rows_per_block):
        x = torch.from_numpy(X[start : start + rows_per_block])
        squared = (x**2).sum(1, keepdim=True) - 2 * x @ means.T + mean_norms
        log_terms = -0.5 * squared.clamp_min(0) / noise_std**2 + log_weights_t
        out[start : start + rows_per_block] = torch.logsumexp(log_terms, dim=1).numpy() + constant
    return out


def _quiet_fit(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X)


def known_truth(n_train=20_000, n_test=2000, n_features=30, noise_std=0.1, grid_step=0.02,
                n_importance=1000, vae_configs=None, n_mixture_components=20, seed=0):
    """Held-out mean log p(x) of every model on data with a computable true density.

    `vae_configs` maps a label to VAETransformer parameters; by default the
    defaults with the true latent dimension (2) and the plain defaults.
    Returns a dict with ``truth`` (and its quadrature check), ``scores``
    (label -> mean held-out log-density or bound, nats), ``fit_seconds`` and
    ``loss_curves`` of the VAEs.
    """
    decoder = RandomDecoder(n_features, seed=seed)
    X_train = sample_known_truth(decoder, n_train, noise_std, seed + 1)
    X_test = sample_known_truth(decoder, n_test, noise_std, seed + 2)
    truth = true_log_density(decoder, X_test, noise_std, grid_step)
    truth_coarse = true_log_density(decoder, X_test, noise_std, 2 * grid_step)
    if vae_configs is None:
        vae_configs = {"skvae, latent_dim=2": {"latent_dim": 2}, "skvae, all defaults": {}}

    scores, fit_seconds, loss_curves, n_iter = {}, {}, {}, {}
    n_factors = min(10, n_features)
    baselines = {
        "FactorAnalysis(2)": FactorAnalysis(2, random_state=seed),
        f"FactorAnalysis({n_factors})": FactorAnalysis(n_factors, random_state=seed),
        "PCA(2) (probabilistic)": PCA(2, random_state=seed),
        f"GaussianMixture({n_mixture_components})": GaussianMixture(
            n_mixture_components, covariance_type="full", random_state=seed),
    }
    for label, model in baselines.items():
        start = time.perf_counter()
        _quiet_fit(model, X_train)
        fit_seconds[label] = time.perf_counter() - start
        scores[label] = float(model.score(X_test))
    for label, params in vae_configs.items():
        vae = VAETransformer(**{"random_state": seed, **params})
        start = time.perf_counter()
        _quiet_fit(vae, X_train)
        fit_seconds[label] = time.perf_counter() - start
        scores[f"{label}: ELBO"] = vae.score(X_test)
        scores[f"{label}: IW bound, K={n_importance}"] = vae.score(X_test, n_importance=n_importance)
        loss_curves[label] = [float(v) for v in vae.loss_curve_]
        n_iter[label] = int(vae.n_iter_)
    return {
        "config": {"n_train": n_train, "n_test": n_test, "n_features": n_features, "latent_dim": 2,
                   "noise_std": noise_std, "grid_step": grid_step, "n_importance": n_importance, "seed": seed},
        "truth": float(truth.mean()),
        "truth_quadrature_check": float(abs(truth.mean() - truth_coarse.mean())),
        "scores": scores,
        "gap_to_truth": {label: float(truth.mean() - value) for label, value in scores.items()},
        "fit_seconds": fit_seconds,
        "loss_curves": loss_curves,
        "n_iter": n_iter,
    }


#: Image intensities: the Bernoulli likelihood on [0, 1]-scaled pixels, the usual VAE for images,
#: is benchmarked beside the default Gaussian one.
IMAGE_DATASETS = {"digits"}


def _datasets():
    digits = load_digits()
    cancer = load_breast_cancer()
    return {"digits": (digits.data, digits.target), "breast_cancer": (cancer.data, cancer.target)}


def _vae_reducers(name, k, vae_params, seed):
    """label -> VAE feature extractor(s) benchmarked on dataset `name` at latent dimension k."""
    params = {"random_state": seed, **vae_params, "latent_dim": k}
    reducers = {f"VAETransformer({k})": VAETransformer(**params)}
    if name in IMAGE_DATASETS:
        reducers[f"MinMaxScaler + VAETransformer({k}, bernoulli)"] = make_pipeline(
            MinMaxScaler(clip=True), VAETransformer(**{**params, "likelihood": "bernoulli"}))
    return reducers


def real_data(dimensions=(2, 10), vae_params=None, n_splits=5, seed=0, datasets=None):
    """Classification accuracy of VAE vs PCA features, and held-out score vs FactorAnalysis.

    Returns ``{dataset: {"accuracy": {label: (mean, std)}, "score": {label: nats},
    "n_iter": {label: epochs}}}``; scores are of the Gaussian VAE, comparable
    with FactorAnalysis's (both densities of the raw features).
    """
    vae_params = dict(vae_params or {})
    results = {}
    for name, (X, y) in (datasets or _datasets()).items():
        cv = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
        accuracy = {}
        for k in dimensions:
            reducers = {
                f"PCA({k})": PCA(k, random_state=seed),
                f"StandardScaler + PCA({k})": make_pipeline(StandardScaler(), PCA(k, random_state=seed)),
                **_vae_reducers(name, k, vae_params, seed),
            }
            for label, reducer in reducers.items():
                pipeline = make_pipeline(reducer, StandardScaler(), LogisticRegression(max_iter=5000))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    folds = cross_val_score(pipeline, X, y, cv=cv)
                accuracy[label] = (float(folds.mean()), float(folds.std()))
        X_train, X_test = train_test_split(X, test_size=0.25, random_state=seed, stratify=y)
        score, n_iter = {}, {}
        for k in dimensions:
            score[f"FactorAnalysis({k})"] = float(
                _quiet_fit(FactorAnalysis(k, random_state=seed), X_train).score(X_test))
            vae = _quiet_fit(VAETransformer(**{"random_state": seed, **vae_params, "latent_dim": k}), X_train)
            score[f"VAETransformer({k}): ELBO"] = vae.score(X_test)
            score[f"VAETransformer({k}): IW bound, K=100"] = vae.score(X_test, n_importance=100)
            n_iter[f"VAETransformer({k})"] = int(vae.n_iter_)
        results[name] = {"accuracy": accuracy, "score": score, "n_iter": n_iter}
    return results


def run(quick=False):
    """Both quality benchmarks at full or smoke-test sizes; a JSON-able dict."""
    if quick:
        small = {"max_iter": 3}
        X, y = load_digits(return_X_y=True)
        return {
            "known_truth": known_truth(n_train=400, n_test=50, n_features=6, grid_step=0.05, n_importance=8,
                                       vae_configs={"skvae, latent_dim=2": {"latent_dim": 2, **small}}),
            "real_data": real_data(dimensions=(2,), vae_params=small, n_splits=2,
                                   datasets={"digits": (X[:300], y[:300])}),
        }
    return {"known_truth": known_truth(), "real_data": real_data()}
