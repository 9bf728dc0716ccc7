"""The math: reparameterisation, KL, the ELBO and the importance-weighted bound."""

import math

import numpy as np
import torch
from scipy import stats

from skvae import _row_noise
from skvae._likelihoods import CompositeLikelihood, GaussianBlock
from skvae._objectives import (
    importance_weighted_bound,
    kl_to_standard_normal,
    negative_elbo,
    reparameterize,
)


def _normal(shape, seed):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_reparameterized_samples_have_mean_mu_and_standard_deviation_sigma():
    # sigma = 3 tells the standard deviation (Sigma^1/2) from its inverse
    # (Sigma^-1/2, the misprint in the source notes): 3 versus 1/3.
    mean = torch.tensor([1.5, -2.0], dtype=torch.float64)
    sigma = torch.tensor([3.0, 0.25], dtype=torch.float64)
    noise = _normal((200_000, 2), seed=0)
    z = reparameterize(mean, torch.log(sigma**2), noise)
    np.testing.assert_allclose(z.mean(0), mean, atol=4 * float(sigma.max()) / math.sqrt(200_000))
    np.testing.assert_allclose(z.std(0), sigma, rtol=0.01)


def test_reparameterize_is_mu_plus_sigma_times_eps_exactly():
    mean, log_variance, noise = _normal((5, 3), 1), _normal((5, 3), 2), _normal((5, 3), 3)
    expected = mean + torch.sqrt(torch.exp(log_variance)) * noise
    torch.testing.assert_close(reparameterize(mean, log_variance, noise), expected)


def test_closed_form_kl_matches_monte_carlo():
    mean = torch.tensor([[0.5, -1.0, 2.0]], dtype=torch.float64)
    log_variance = torch.tensor([[-1.0, 0.5, 0.0]], dtype=torch.float64)
    noise = _normal((400_000, 3), seed=4)
    z = reparameterize(mean, log_variance, noise)
    log_q = -0.5 * (math.log(2 * math.pi) + log_variance + noise**2).sum(-1)
    log_p = -0.5 * (math.log(2 * math.pi) + z**2).sum(-1)
    samples = log_q - log_p
    standard_error = float(samples.std()) / math.sqrt(len(samples))
    closed_form = float(kl_to_standard_normal(mean, log_variance)[0])
    assert abs(float(samples.mean()) - closed_form) < 4 * standard_error
    assert closed_form > 0


def test_kl_is_zero_exactly_at_the_prior():
    zeros = torch.zeros(4, 3, dtype=torch.float64)
    torch.testing.assert_close(kl_to_standard_normal(zeros, zeros), torch.zeros(4, dtype=torch.float64))


class _Linear(torch.nn.Module):
    """A fixed affine map standing in for a network: the encoder's two heads, or the decoder's output."""

    def __init__(self, weights, biases, decoder=False):
        super().__init__()
        self.weights, self.biases, self.decoder = weights, biases, decoder

    def forward(self, x):
        heads = tuple(x @ w + b for w, b in zip(self.weights, self.biases))
        return (torch.cat(heads, dim=-1), torch.zeros(0, dtype=x.dtype)) if self.decoder else heads


def _gaussian(n_columns):
    stats = {name: torch.full((n_columns,), value, dtype=torch.float64)
             for name, value in (("shift", 0.0), ("scale", 1.0), ("log_scale", 0.0))}
    return CompositeLikelihood([GaussianBlock(range(n_columns), stats)], n_columns)


def _networks(seed):
    encoder = _Linear([_normal((4, 2), seed), 0.1 * _normal((4, 2), seed + 1)], [_normal((2,), seed + 2), _normal((2,), seed + 3)])
    decoder = _Linear([_normal((2, 4), seed + 4), _normal((2, 4), seed + 5)], [_normal((4,), seed + 6), _normal((4,), seed + 7)], decoder=True)
    return encoder, decoder


def test_negative_elbo_is_reconstruction_plus_beta_kl():
    from skvae._likelihoods import VARIANCE_FLOOR

    x, noise = _normal((6, 4), 5), _normal((6, 2), 6)
    encoder, decoder = _networks(7)
    likelihood = _gaussian(4)
    mean, log_variance = encoder(x)
    z = mean + torch.exp(0.5 * log_variance) * noise
    params, _ = decoder(z)
    variance = VARIANCE_FLOOR + torch.nn.functional.softplus(params[:, 4:])
    log_px = torch.distributions.Normal(params[:, :4], variance.sqrt()).log_prob(x).sum(-1)
    kl = torch.distributions.kl_divergence(
        torch.distributions.Normal(mean, torch.exp(0.5 * log_variance)), torch.distributions.Normal(0.0, 1.0)
    ).sum(-1)
    for beta in (0.0, 1.0, 2.5):
        torch.testing.assert_close(
            negative_elbo(encoder, decoder, likelihood, x, noise, beta=beta), -log_px + beta * kl
        )


def test_missing_cells_drop_out_of_the_elbo():
    x, noise = _normal((6, 4), 40), _normal((6, 2), 41)
    encoder, decoder = _networks(42)
    likelihood = _gaussian(4)
    observed = torch.ones(6, 4, dtype=torch.bool)
    observed[:, 2] = False
    changed = x.clone()
    changed[:, 2] = 1e6  # whatever stands in a missing cell never reaches the loss
    torch.testing.assert_close(
        negative_elbo(encoder, decoder, likelihood, x * observed, noise, observed=observed),
        negative_elbo(encoder, decoder, likelihood, changed * observed, noise, observed=observed),
    )
    full = negative_elbo(encoder, decoder, likelihood, x, noise, beta=0.0)
    assert not torch.allclose(full, negative_elbo(encoder, decoder, likelihood, x * observed, noise, beta=0.0, observed=observed))


def test_gaussian_variance_never_falls_below_the_floor():
    from skvae._likelihoods import VARIANCE_FLOOR

    block = GaussianBlock([0, 1, 2, 3], {"shift": torch.zeros(4, dtype=torch.float64), "scale": torch.ones(4, dtype=torch.float64)})
    raw = torch.tensor([[0.0, 0.0, 0.0, 0.0, -1e4, -50.0, 0.0, 50.0]], dtype=torch.float64)
    _, variance = block._mean_variance(raw)
    assert float(variance.min()) >= VARIANCE_FLOOR
    assert torch.isfinite(variance).all()


def test_importance_weighted_bound_with_one_sample_is_the_single_sample_elbo():
    x = _normal((6, 4), 16)
    noise = _normal((1, 6, 2), 17)
    encoder, decoder = _networks(18)
    likelihood = _gaussian(4)
    mean, log_variance = encoder(x)
    z = reparameterize(mean, log_variance, noise[0])
    log_p = likelihood.log_prob(x, decoder(z)) + torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    log_q = torch.distributions.Normal(mean, torch.exp(0.5 * log_variance)).log_prob(z).sum(-1)
    torch.testing.assert_close(importance_weighted_bound(encoder, decoder, likelihood, x, noise), log_p - log_q)


class TestRowNoise:
    def test_is_standard_normal(self):
        rows = np.random.default_rng(0).normal(size=(5000, 3))
        eps = _row_noise.standard_normal(_row_noise.row_keys(rows, seed=1), n_draws=4, dim=5)
        assert eps.shape == (4, 5000, 5)
        assert stats.kstest(eps.ravel(), "norm").pvalue > 1e-3
        assert abs(np.corrcoef(eps[0, :, 0], eps[0, :, 1])[0, 1]) < 0.05
        assert abs(np.corrcoef(eps[0, :, 0], eps[1, :, 0])[0, 1]) < 0.05

    def test_depends_on_the_row_not_its_neighbours(self):
        rows = np.random.default_rng(1).normal(size=(50, 4))
        together = _row_noise.row_keys(rows, seed=3)
        alone = np.concatenate([_row_noise.row_keys(rows[i : i + 1], seed=3) for i in range(50)])
        shuffled = _row_noise.row_keys(rows[::-1], seed=3)[::-1]
        np.testing.assert_array_equal(together, alone)
        np.testing.assert_array_equal(together, shuffled)
        assert len(np.unique(together)) == 50

    def test_depends_on_seed_and_value(self):
        row = np.array([[1.0, 2.0, 3.0]])
        keys = {
            int(_row_noise.row_keys(row, seed=0)[0]),
            int(_row_noise.row_keys(row, seed=1)[0]),
            int(_row_noise.row_keys(row + 1e-3, seed=0)[0]),
            int(_row_noise.row_keys(row[:, ::-1].copy(), seed=0)[0]),
        }
        assert len(keys) == 4
        # Keys read the values to float32's precision (hostile sweep 22: a float64 table and its
        # float32 copy draw the same noise, so their scores agree to that precision).
        assert _row_noise.row_keys(row + 1e-12, 0)[0] == _row_noise.row_keys(row, 0)[0]
        # The same values in float32 and float64 give the same key.
        assert _row_noise.row_keys(row.astype(np.float32), 0)[0] == _row_noise.row_keys(row, 0)[0]
