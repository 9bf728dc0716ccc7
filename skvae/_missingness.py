r"""The missingness mechanism p(s | x): which cells are missing, given the values.

An estimator's ``missing_mechanism`` names one of two models of the mask s
(s_j = 1 where cell j is missing):

- ``"ignorable"`` (no module here: ``None``). The mask carries no information
  about the missing values (missing at random), so p(s | x) drops out of the
  likelihood of the observed cells: training maximises a bound on
  log p(x_obs) and imputation is MIWAE's (Mattei & Frellsen, 2019).
- ``"self_masking"``: :class:`SelfMasking`, not-MIWAE's self-masking logistic
  model (Ipsen, Mattei & Frellsen, ICLR 2021). Per column j,
  P(s_j = 1 | x_j) = sigmoid(a_j (x_j - b_j)), with x_j in the column's
  encoded units (standardised, or the standardised logarithm of a
  ``"lognormal"`` column) and one trainable pair (a_j, b_j) per column:
  a_j > 0 means large values go missing more often, a_j < 0 small ones.

The self-masking columns are those whose encoded value is Gaussian
(``"gaussian"``, ``"quantile_normal"`` and ``"lognormal"`` columns, in their encoded units) and that had missing cells in the
first fit. The other columns stay ignorable: a categorical, count or
Bernoulli value has no reparameterised draw to carry the mechanism's gradient
to the decoder.

With the mechanism, the objective is the importance-weighted bound on
log p(x_obs, s) (:mod:`skvae._objectives`): per importance sample k,
z_k ~ q(z | x_obs, s), M = :data:`DRAWS_PER_SAMPLE` draws
x_mis,km ~ p(x_mis | z_k) by reparameterisation (mean + standard deviation *
eps), and

    log w_k = log p(x_obs | z_k) + log (1/M) sum_m p(s | x_obs, x_mis,km) + log p(z_k) - log q(z_k | x_obs, s).

The inner average is an unbiased estimate of p(s | x_obs, z_k), so this is
still a lower bound (M = 1 is not-MIWAE's own). The draws' eps are the
trailing :attr:`SelfMasking.noise_width` entries of each sample's noise,
after the ``latent_dim`` entries of z, so that a row's draws stay a function
of the row alone (:mod:`skvae._row_noise`).
"""

import math
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from ._composite import _column_selector

#: Draws of the missing values per importance sample (see SelfMasking.log_prob).
#: Each draw costs a few elementwise operations on the decoder's output, against
#: a decoder pass per sample: more draws buy a steadier estimate of
#: p(s | x_obs, z) in training and steadier fills for almost nothing
#: (benchmarks/README.md, "Self-masking").
DRAWS_PER_SAMPLE = 8

#: The values of the estimators' ``missing_mechanism`` parameter.
MECHANISMS = ("ignorable", "self_masking")

#: a_j and b_j are this multiple of their trainable parameters. Adam moves
#: each parameter by about the learning rate per step, whatever its gradient's
#: scale: at 1e-3 a slope takes a thousand steps to reach 1, more than a fit
#: of a few hundred rows makes, while the networks' weights need no such
#: travel. Scaled by 10 the mechanism keeps up with the networks, with one
#: Adam parameter group for all.
RATE = 10.0


class SelfMasking(nn.Module):
    """P(s_j = missing | x_j) = sigmoid(slope_j * (x_j - threshold_j)) per self-masking column.

    Parameters
    ----------
    normal_columns : list of int
        Table positions of the columns with a Gaussian encoded value
        (``CompositeLikelihood.normal_columns``), in the likelihood's order.
    mask_columns : list of int
        Table positions of the columns that had missing cells in the first fit.

    Trained as logit P(s_j = 1 | x_j) = a_j x_j + c_j, the same family with
    b_j = -c_j / a_j: in the form a_j (x_j - b_j), a column whose slope
    starts near 0 needs a far threshold to fit its share of missing cells,
    and a far threshold turns the slope's gradient into one more intercept,
    a trap the fits were seen to fall in. a_j and c_j (:attr:`slope`,
    :attr:`intercept`) are :data:`RATE` times the trainable ``slope_raw`` and
    ``intercept_raw``, which start at 0: every cell missing with probability
    1/2 whatever its value, until the data say otherwise.
    """

    def __init__(self, normal_columns, mask_columns):
        super().__init__()
        masked = set(mask_columns)
        positions = [i for i, column in enumerate(normal_columns) if column in masked]
        #: Table positions of the self-masking columns.
        self.columns = [normal_columns[i] for i in positions]
        self._n_normal = len(normal_columns)
        self._positions = _column_selector(positions, len(normal_columns))
        self._table_columns = _column_selector(self.columns, max(self.columns, default=0) + 1)
        self.slope_raw = nn.Parameter(torch.zeros(len(positions)))
        self.intercept_raw = nn.Parameter(torch.zeros(len(positions)))

    @property
    def slope(self):
        """a_j per self-masking column: > 0 where large values go missing more often."""
        return RATE * self.slope_raw

    @property
    def intercept(self):
        """c_j = -a_j b_j per self-masking column: the logit of P(missing) at the column's mean."""
        return RATE * self.intercept_raw

    @property
    def threshold(self):
        """b_j per self-masking column, in encoded units: where P(missing) is 1/2 (infinite where a_j = 0)."""
        return -self.intercept / self.slope

    @classmethod
    def for_likelihood(cls, likelihood):
        """The mechanism of a table's likelihood (``CompositeLikelihood``)."""
        return cls(likelihood.normal_columns, likelihood.mask_columns)

    @property
    def row_width(self):
        """Elements per importance sample and row of the widest tensor here (the draws in user units)."""
        return DRAWS_PER_SAMPLE * self._n_normal

    @property
    def noise_width(self):
        """Standard normal entries per importance sample and row: DRAWS_PER_SAMPLE draws of each column."""
        return DRAWS_PER_SAMPLE * len(self.columns)

    def log_prob(self, likelihood, x, observed, decoded, noise):
        """(log of the estimate of p(s | x_obs, z_k) per sample and row, the :class:`MissingDraws`).

        `decoded` holds K decodings (K, n, ...) of p(x | z_k); `noise` the
        draws' eps (K, n, noise_width). Per sample k the estimate is
        (1/M) sum_m p(s | x_obs, x_mis,km) over M = DRAWS_PER_SAMPLE draws
        x_mis,km ~ p(x_mis | z_k): unbiased, so the bounds stay bounds, and
        with less variance than one draw. `observed` None: every cell observed.
        """
        mean, deviation = likelihood.encoded_normal(decoded) if self.columns else (None, None)
        draws = noise.unflatten(-1, (DRAWS_PER_SAMPLE, len(self.columns)))  # (K, n, M, m)
        if not self.columns:
            inner = noise.new_zeros(draws.shape[:-1])
            return inner[..., 0], MissingDraws(draws, inner)
        draws = (mean[..., self._positions].unsqueeze(-2)
                 + deviation[..., self._positions].unsqueeze(-2) * draws)
        slope, intercept = self.slope, self.intercept
        values = x[..., self._table_columns].unsqueeze(-2)
        if observed is None:
            log_observed = F.logsigmoid(-(slope * values + intercept)).sum(-1)  # (n, 1)
            inner = log_observed.expand(draws.shape[:-1])
            return log_observed[..., 0].expand(draws.shape[:-2]), MissingDraws(draws, inner)
        seen = observed[..., self._table_columns].unsqueeze(-2)
        logits = slope * torch.where(seen, values, draws) + intercept
        inner = torch.where(seen, F.logsigmoid(-logits), F.logsigmoid(logits)).sum(-1)  # (K, n, M)
        return torch.logsumexp(inner, dim=-1) - math.log(DRAWS_PER_SAMPLE), MissingDraws(draws, inner)

    def _user_units(self, likelihood, decoded, draws):
        """The draws (K, n, M, m) of the self-masking columns in the columns' units."""
        mean, _ = likelihood.encoded_normal(decoded)
        full = mean.unsqueeze(-2).expand(*draws.shape[:-1], mean.shape[-1]).clone()
        full[..., self._positions] = draws
        return likelihood.normal_user_units(full)[..., self._positions]

    def weighted_fill(self, likelihood, decoded, draws, weights):
        """sum_k w_k sum_m p(s | x_km) x_km / sum_m p(s | x_km): E[x_mis | x_obs, s] per row, (n, m).

        `weights` (K, n) are the self-normalised importance weights.
        """
        within = torch.softmax(draws.inner_log_probs, dim=-1) * weights.unsqueeze(-1)  # (K, n, M)
        return (within.unsqueeze(-1) * self._user_units(likelihood, decoded, draws.values)).sum((0, 2))

    def resampled(self, likelihood, decoded, draws, chosen, generator):
        """For samples `chosen` per row ((n,) or (n, D)), a draw x_km with m picked by p(s | x_km): (n, [D,] m)."""
        rows = torch.arange(chosen.shape[0], device=chosen.device)
        rows = rows if chosen.dim() == 1 else rows[:, None]
        within = torch.softmax(draws.inner_log_probs[chosen, rows], dim=-1)  # (n, [D,] M)
        picked = torch.multinomial(within.reshape(-1, DRAWS_PER_SAMPLE), 1, generator=generator)
        picked = picked.reshape(chosen.shape)
        values = self._user_units(likelihood, decoded, draws.values)  # (K, n, M, m)
        return values[chosen, rows, picked]


class MissingDraws(NamedTuple):
    """The draws x_mis,km (K, n, M, m) in encoded units and log p(s | x_obs, x_mis,km) (K, n, M)."""

    values: torch.Tensor
    inner_log_probs: torch.Tensor


def build_missingness(missing_mechanism, likelihood):
    """The mechanism module for the estimators' `missing_mechanism` (None when ignorable)."""
    if missing_mechanism == "ignorable":
        return None
    if missing_mechanism == "self_masking":
        return SelfMasking.for_likelihood(likelihood)
    raise ValueError(f"missing_mechanism must be one of {MECHANISMS}; got {missing_mechanism!r}.")


def mechanism_name(missingness):
    """The ``missing_mechanism`` value a (fitted) mechanism module stands for."""
    return "ignorable" if missingness is None else "self_masking"


def split_noise(noise, missingness):
    """(eps of z, eps of the missing values' draws or None): a draw's noise split after ``latent_dim``."""
    if missingness is None:
        return noise, None
    latent_dim = noise.shape[-1] - missingness.noise_width
    return noise[..., :latent_dim], noise[..., latent_dim:]
