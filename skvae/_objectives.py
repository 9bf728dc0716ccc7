r"""The variational objectives, per row, in nats.

Notation: prior p(z) = N(0, I); encoder q(z|x) = N(mu, diag sigma^2) with
``log_variance = log sigma^2``; decoder p(x|z) given by a likelihood object.

- :func:`reparameterize`: z = mu + sigma * eps, eps ~ N(0, I). The factor is
  the standard deviation sigma = Sigma^{1/2} = exp(log_variance / 2) (some
  notes misprint it as Sigma^{-1/2}; ``tests/test_objectives.py`` checks the
  sample moments).
- :func:`kl_to_standard_normal`: KL(q || p) in closed form.
- :func:`negative_elbo`: -E_q[log p(x|z)] + beta * KL, one reparameterised
  sample for the expectation. This is the training loss; :func:`elbo`
  (scores) is its negative at beta = 1.
- :func:`importance_weighted_bound`: log (1/K) sum_k p(x, z_k) / q(z_k|x)
  (Burda et al., 2016), which increases with K towards log p(x).

Each takes a `missingness` module (:mod:`skvae._missingness`; None for an
ignorable mechanism, the default). With one, the likelihood term of each
draw also holds log p(s | x_obs, x_mis) at a reparameterised draw x_mis of
the missing values, and the bounds are on log p(x_obs, s) (not-MIWAE); the
noise then carries the draws' eps after those of z.

Training (:mod:`skvae._training`) and inference (:mod:`skvae._inference`)
both call these functions: the encoder and decoder they pass are the
training modules, or inference's padded-row wrappers of the same weights.
"""

import math

import torch

from ._missingness import split_noise

LOG_2PI = math.log(2.0 * math.pi)


def reparameterize(mean, log_variance, noise):
    """z = mu + sigma * eps, with sigma the standard deviation exp(log_variance / 2)."""
    return mean + torch.exp(0.5 * log_variance) * noise


def kl_to_standard_normal(mean, log_variance):
    """KL(N(mu, diag sigma^2) || N(0, I)) = 1/2 sum(mu^2 + sigma^2 - 1 - log sigma^2)."""
    return 0.5 * (mean.square() + log_variance.exp() - 1.0 - log_variance).sum(-1)


def encode(encoder, likelihood, x, observed=None, encoder_input=None):
    """q(z|x) of a batch: the encoder applied to the likelihood's view of it (with the mask).

    `encoder_input`, where given, is that view already computed
    (``likelihood.encoder_input(x, observed)``, a function of each row alone).
    """
    return encoder(likelihood.encoder_input(x, observed) if encoder_input is None else encoder_input)


def negative_elbo(encoder, decoder, likelihood, x, noise, beta=1.0, observed=None, missingness=None,
                  encoder_input=None, constants=True):
    """Per-row -ELBO = -log p(x_obs | z) + beta * KL(q(z|x) || p(z)), z reparameterised.

    `noise` is eps ~ N(0, I) of shape (n_rows, latent_dim), drawn by the caller
    so that training and scoring control their own randomness. `observed`
    (bool, like x, or None for complete data) drops missing cells from the
    likelihood. With `missingness`, -log p(s | x_obs, x_mis) at one draw of
    the missing values joins the reconstruction term, and `noise` has the
    draw's eps after z's. `encoder_input`: the likelihood's encoder view of
    these rows where the caller computed it once (training), else None.
    ``constants=False`` leaves out the likelihood's terms that depend on the
    data alone (``likelihood.log_constant``): training adds their sum once
    per epoch instead of computing them at every step.
    """
    noise, value_noise = split_noise(noise, missingness)
    mean, log_variance = encode(encoder, likelihood, x, observed, encoder_input)
    z = reparameterize(mean, log_variance, noise)
    decoded = decoder(z)
    reconstruction = likelihood.log_prob(x, decoded, observed, constants=constants)
    if missingness is not None:
        reconstruction = reconstruction + missingness.log_prob(likelihood, x, observed, decoded, value_noise)[0]
    return beta * kl_to_standard_normal(mean, log_variance) - reconstruction


def elbo(encoder, decoder, likelihood, x, noise, observed=None, missingness=None):
    """Per-row ELBO = log p(x_obs | z) - KL(q(z|x) || p(z)): the training loss at beta = 1, negated.

    Negation is exact in floating point, so scores and training agree to the bit.
    """
    return -negative_elbo(encoder, decoder, likelihood, x, noise, observed=observed, missingness=missingness)


def importance_log_weights(encoder, decoder, likelihood, x, noise, observed=None, missingness=None,
                           prior_share=0.0, encoder_input=None, constants=True):
    """log p(x_obs | z_k) + log p(z_k) - log q(z_k | x) for K samples; also the K decodings and draws.

    With ``prior_share`` = a > 0, the proposal is instead the defensive
    mixture a N(0, I) + (1 - a) q(z | x) (Hesterberg, 1995): the first
    round(a K) samples are drawn from the prior, and every weight divides by
    the mixture's density. Weights are then bounded by p(x_obs | z) / a, so
    an encoder that is overconfident about rows it never saw (a few given
    cells, say) cannot leave the true posterior's mass unsampled.

    `noise` has shape (K, n_rows, latent_dim), with `missingness` (K, n_rows,
    latent_dim + its noise_width); the weights have shape (K, n_rows). With
    `missingness`, each weight also holds its estimate of log p(s | x_obs,
    z_k) from draws x_mis ~ p(x_mis | z_k), and the third value is those
    draws (:class:`skvae._missingness.MissingDraws`); without, it is None.
    """
    noise, value_noise = split_noise(noise, missingness)
    mean, log_variance = encode(encoder, likelihood, x, observed, encoder_input)
    z = reparameterize(mean, log_variance, noise)
    n_from_prior = round(prior_share * noise.shape[0])
    if n_from_prior:
        z = torch.cat([noise[:n_from_prior], z[n_from_prior:]])
    decoded = decoder(z)
    log_likelihood = likelihood.log_prob(x, decoded, observed, constants=constants)
    draws = None
    if missingness is not None:
        log_mechanism, draws = missingness.log_prob(likelihood, x, observed, decoded, value_noise)
        log_likelihood = log_likelihood + log_mechanism
    log_prior = -0.5 * (LOG_2PI + z.square()).sum(-1)
    if n_from_prior:
        standardized = (z - mean) * torch.exp(-0.5 * log_variance)
        log_posterior = -0.5 * (LOG_2PI + log_variance + standardized.square()).sum(-1)
        log_proposal = torch.logaddexp(math.log(prior_share) + log_prior,
                                       math.log1p(-prior_share) + log_posterior)
        return log_likelihood + log_prior - log_proposal, decoded, draws
    # log q(z|x) written with eps = (z - mu) / sigma, which is exactly `noise`.
    log_posterior = -0.5 * (LOG_2PI + log_variance + noise.square()).sum(-1)
    return log_likelihood + log_prior - log_posterior, decoded, draws


def sum_over_draws(values):
    """values.sum(0) over the K draws of (K, n_rows, ...) tensors, each row's bits independent of n_rows.

    A cumulative sum adds a row's draws one after another in draw order,
    whatever the other rows of the tensor or torch's thread count, where
    ``sum(0)`` vectorises across the rows of a wide tensor and along the draws
    of a lone row, and so rounds a row's total differently with the rows that
    share its call (see :func:`logsumexp_over_draws`).
    """
    return values.cumsum(dim=0)[-1]


def logsumexp_over_draws(log_weights):
    """log sum_k exp(w_k) over dim 0 of (K, n_rows) log-weights, each row's bits independent of n_rows.

    ``torch.logsumexp(dim=0)`` sums a column of a wide tensor in another
    order than the same column alone (the CPU kernel vectorises across the
    rows of a batch, and a lone row across its draws), so the importance-
    weighted score of a row differed in its last bits with the rows that
    shared its call, though a row's score is documented as bit for bit the
    same whichever rows share its call (hostile sweep 22). A cumulative sum
    adds each row's draws one after another, in draw order, whatever the
    tensor's width or torch's thread count. The maximum is taken out first,
    as logsumexp does; an infinite maximum (every weight -inf, or one +inf)
    is replaced by 0 so that the result is -inf or +inf, not NaN.
    """
    peak = log_weights.amax(dim=0)
    peak = torch.where(torch.isfinite(peak), peak, torch.zeros_like(peak))
    return torch.log(sum_over_draws(torch.exp(log_weights - peak))) + peak


def importance_weighted_bound(encoder, decoder, likelihood, x, noise, observed=None, n_importance=None,
                              missingness=None, encoder_input=None, constants=True):
    """Per-row log (1/K) sum_k p(x | z_k) p(z_k) / q(z_k | x), z_k = mu + sigma * eps_k.

    `noise` has shape (K, n_rows, latent_dim), or is an iterable of such
    chunks that together hold `n_importance` = K draws: inference walks any K
    in chunks of bounded memory with a running log-sum-exp, and a single
    chunk gives the same bits as the whole tensor. With K = 1 this is a
    one-sample ELBO estimate; it is non-decreasing in expectation as K grows.
    Missing cells drop out of p(x | z): the bound is then on log p(x_observed),
    or with `missingness` on log p(x_observed, s). ``constants=False``: as
    :func:`negative_elbo` (the data-only terms are the same in every weight).
    """
    if isinstance(noise, torch.Tensor):
        noise, n_importance = (noise,), noise.shape[0]
    total = None
    for chunk in noise:
        log_weights, _, _ = importance_log_weights(encoder, decoder, likelihood, x, chunk, observed, missingness,
                                                   encoder_input=encoder_input, constants=constants)
        chunk_total = logsumexp_over_draws(log_weights)
        total = chunk_total if total is None else torch.logaddexp(total, chunk_total)
    return total - math.log(n_importance)
