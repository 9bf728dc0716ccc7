"""Bounds against an exactly known log p(x): linear-Gaussian (probabilistic PCA) models.

With identity activations the networks can represent a probabilistic PCA
model x = A z + c + noise exactly, and an encoder equal to its true posterior.
Then log p(x) is a Gaussian density in closed form, and so is the gap
KL(q(z|x) || p(z|x)) between it and the ELBO, so the estimator's scores can be
checked against exact numbers rather than against each other.
"""

import warnings

import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.exceptions import ConvergenceWarning

from skvae import VAETransformer

from _datasets import shift_scale

N_FEATURES, LATENT_DIM, NOISE_VARIANCE = 6, 2, 0.3


def _softplus_inverse(y):
    return np.log(np.expm1(y))


@pytest.fixture(scope="module")
def ppca():
    """A fitted estimator whose networks are overwritten with an exact PPCA model."""
    rng = np.random.default_rng(0)
    X_init = rng.normal(size=(200, N_FEATURES)) * rng.uniform(0.5, 3.0, N_FEATURES) + rng.normal(size=N_FEATURES)
    # One epoch builds the networks, whose weights are then overwritten: the
    # warning that it did not converge is expected.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae = VAETransformer(
            latent_dim=LATENT_DIM, hidden_layer_sizes=(N_FEATURES,), activation="identity", max_iter=1,
            random_state=0,
        ).fit(X_init)

    # Orthogonal columns make the true posterior covariance diagonal, so the
    # diagonal encoder can equal the true posterior exactly.
    basis, _ = np.linalg.qr(rng.normal(size=(N_FEATURES, LATENT_DIM)))
    A = basis * np.array([2.0, 1.2])
    c = rng.normal(size=N_FEATURES) * 0.5
    posterior_cov = np.linalg.inv(np.eye(LATENT_DIM) + A.T @ A / NOISE_VARIANCE)
    posterior_map = posterior_cov @ A.T / NOISE_VARIANCE
    assert np.allclose(posterior_cov, np.diag(np.diag(posterior_cov)))

    from skvae._likelihoods import VARIANCE_FLOOR

    with torch.no_grad():
        enc, dec = vae.encoder_, vae.decoder_
        enc.trunk[0].weight.copy_(torch.eye(N_FEATURES))
        enc.trunk[0].bias.zero_()
        enc.mean_head.weight.copy_(torch.as_tensor(posterior_map))
        enc.mean_head.bias.copy_(torch.as_tensor(-posterior_map @ c))
        enc.log_variance_head.weight.zero_()
        enc.log_variance_head.bias.copy_(torch.as_tensor(np.log(np.diag(posterior_cov))))
        dec.trunk[0].weight.copy_(torch.as_tensor(np.eye(N_FEATURES, LATENT_DIM)))
        dec.trunk[0].bias.zero_()
        # The decoder's head: N_FEATURES means, then N_FEATURES raw variances.
        head = dec.head
        head.weight[:N_FEATURES].copy_(torch.as_tensor(np.hstack([A, np.zeros((N_FEATURES, N_FEATURES - LATENT_DIM))])))
        head.bias[:N_FEATURES].copy_(torch.as_tensor(c))
        head.weight[N_FEATURES:].zero_()
        head.bias[N_FEATURES:].fill_(float(_softplus_inverse(NOISE_VARIANCE - VARIANCE_FLOOR)))
    vae._model.inference_cache.clear()

    # The same model in the user's units: x = shift + scale * x_standardized.
    shift, scale = shift_scale(vae)
    true_density = stats.multivariate_normal(
        shift + scale * c, np.diag(scale) @ (A @ A.T + NOISE_VARIANCE * np.eye(N_FEATURES)) @ np.diag(scale)
    )
    X = true_density.rvs(size=4000, random_state=1)
    return {
        "vae": vae,
        "X": X,
        "log_px": true_density.logpdf(X),
        "density": true_density,
        "standardized": (X - shift) / scale,
        "A": A,
        "c": c,
        "posterior_map": posterior_map,
        "posterior_cov": posterior_cov,
    }


def _perturb_encoder(vae, mean_shift, log_variance_shift):
    with torch.no_grad():
        vae.encoder_.mean_head.bias.add_(mean_shift)
        vae.encoder_.log_variance_head.bias.add_(log_variance_shift)
    vae._model.inference_cache.clear()


def _exact_elbo(model, mean_shift, log_variance_shift):
    """log p(x) - KL(q(z|x) || p(z|x)) in closed form for the perturbed encoder."""
    true_mean = (model["standardized"] - model["c"]) @ model["posterior_map"].T
    true_var = np.diag(model["posterior_cov"])
    q_mean = true_mean + mean_shift
    q_var = true_var * np.exp(log_variance_shift)
    kl = 0.5 * np.sum(q_var / true_var + (q_mean - true_mean) ** 2 / true_var - 1 + np.log(true_var / q_var), axis=1)
    return model["log_px"] - kl


def test_exact_posterior_makes_every_bound_equal_log_px(ppca):
    vae, X, log_px = ppca["vae"], ppca["X"], ppca["log_px"]
    # Every importance weight p(x, z) / q(z | x) is then p(x) itself. (With
    # n_importance=1 the score is the ELBO with a closed-form KL, tested below.)
    for n_importance in (2, 7):
        bound = vae.score_samples(X[:500], n_importance=n_importance)
        # The networks run in float32 at inference (skvae._inference), so the
        # weights agree with p(x) to float32 rounding: about one part in 1e7.
        np.testing.assert_allclose(bound, log_px[:500], rtol=1e-6, atol=1e-6)


def test_incomplete_rows_are_bounded_by_the_log_likelihood_of_their_observed_cells(ppca):
    # A missing cell drops out of p(x | z): the bounds are then on the marginal
    # log p(x_observed), a Gaussian in closed form, and the importance-weighted
    # bound closes on it as K grows, whatever the encoder makes of the hole.
    vae, density = ppca["vae"], ppca["density"]
    X = ppca["X"][:300].copy()
    X[:, 1] = np.nan
    X[::2, 4] = np.nan
    observed_cells = [[0, 2, 3, 5], [0, 2, 3, 4, 5]]
    truth = np.empty(len(X))
    for rows, columns in ((slice(0, None, 2), observed_cells[0]), (slice(1, None, 2), observed_cells[1])):
        marginal = stats.multivariate_normal(density.mean[columns], density.cov[np.ix_(columns, columns)])
        truth[rows] = marginal.logpdf(X[rows][:, columns])
    gaps = [truth.mean() - vae.score(X, n_importance=k) for k in (1, 30, 3000)]
    assert gaps[0] > gaps[1] > gaps[2] > -0.01
    assert gaps[2] < 0.05


def test_elbo_is_unbiased_for_log_px_at_the_exact_posterior(ppca):
    # The ELBO estimate uses one sample for E_q log p(x|z) and the closed-form KL.
    error = ppca["vae"].score_samples(ppca["X"]) - ppca["log_px"]
    assert abs(error.mean()) < 4 * error.std() / np.sqrt(len(error))


def test_elbo_of_a_wrong_encoder_is_below_log_px_by_the_exact_gap(ppca):
    vae, X, log_px = ppca["vae"], ppca["X"], ppca["log_px"]
    mean_shift, log_variance_shift = 0.4, np.log(3.0)
    _perturb_encoder(vae, mean_shift, log_variance_shift)
    try:
        exact_elbo = _exact_elbo(ppca, mean_shift, log_variance_shift)
        estimate = vae.score_samples(X)
        error = estimate - exact_elbo
        assert abs(error.mean()) < 4 * error.std() / np.sqrt(len(error))
        gap = log_px.mean() - estimate.mean()
        assert gap > 0.3

        # The importance-weighted bound closes the gap monotonically towards log p(x).
        rows = slice(0, 500)
        gaps = [log_px[rows].mean() - vae.score(X[rows], n_importance=k) for k in (1, 10, 100, 2000)]
        assert gaps[0] > gaps[1] > gaps[2] > gaps[3] > -0.01
        assert gaps[3] < 0.02
    finally:
        _perturb_encoder(vae, -mean_shift, -log_variance_shift)


@pytest.mark.slow
def test_fitted_vae_on_linear_gaussian_data_brackets_the_true_likelihood():
    """End to end: trained by `fit`, scored on held-out rows of known density."""
    rng = np.random.default_rng(3)
    W = rng.normal(size=(8, 2)) * 2.0
    noise_std = rng.uniform(0.3, 0.8, size=8)
    truth = stats.multivariate_normal(rng.normal(size=8), W @ W.T + np.diag(noise_std**2))
    X_train, X_test = truth.rvs(size=3000, random_state=4), truth.rvs(size=1000, random_state=5)
    log_px = truth.logpdf(X_test).mean()

    # Explicit settings, so that a change of defaults does not move this test.
    vae = VAETransformer(
        latent_dim=2, hidden_layer_sizes=(128, 64), batch_size=128, learning_rate=1e-3,
        early_stopping=True, n_iter_no_change=10, tol=1e-3, random_state=0,
    ).fit(X_train)
    elbo, iwae = vae.score(X_test), vae.score(X_test, n_importance=500)
    # A fitted model cannot beat the true density on fresh data except by
    # sampling error (about 0.05 nats here); the bounds are below their model's
    # log p. Measured: ELBO 0.41 and IWAE(500) 0.10 nats below the truth.
    assert elbo < iwae < log_px + 0.05
    assert log_px - iwae < 0.15
    assert log_px - elbo < 0.6
