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

The self-masking columns are those whose value the mechanism can be given:

- *continuous* columns that had missing cells in the first fit, whose
  encoded value is Gaussian (``"gaussian"``, ``"quantile_normal"`` and
  ``"lognormal"`` columns, in their encoded units): a missing value is
  drawn by reparameterisation, as below;
- *level* columns, every categorical column whose levels are numbers (a
  1-5 rating, a 0/1 dummy, a count of a few values; the levels standardised
  over the column's levels): the missing value's L possible levels are
  summed over exactly, p(s_j = 1 | z) = sum_c p(x_j = c | z)
  sigmoid(a_j v_c + c_j), so no draw is needed and the gradient reaches the
  decoder's logits directly. Every such column, holes or not: the schema
  records which columns had holes only where the encoder sees a mask
  (a categorical cell's one-hot is its own mask), and a column without
  holes simply learns P(missing) near 0.

The other columns stay ignorable: a count, Bernoulli, zero-inflated or
labelled categorical value has neither a reparameterised draw nor numeric
levels to sum over.

With the mechanism, the objective is the importance-weighted bound on
log p(x_obs, s) (:mod:`skvae._objectives`): per importance sample k,
z_k ~ q(z | x_obs, s), M = :data:`DRAWS_PER_SAMPLE` draws
x_mis,km ~ p(x_mis | z_k) by reparameterisation (mean + standard deviation *
eps), and

    log w_k = log p(x_obs | z_k) + log (1/M) sum_m p(s | x_obs, x_mis,km) + log p(z_k) - log q(z_k | x_obs, s).

The inner average is an unbiased estimate of the continuous columns' part of
p(s | x_obs, z_k), and the level columns' part is exact, so this is still a
lower bound (M = 1 is not-MIWAE's own). The draws' eps are the
trailing :attr:`SelfMasking.noise_width` entries of each sample's noise,
after the ``latent_dim`` entries of z, so that a row's draws stay a function
of the row alone (:mod:`skvae._row_noise`).
"""

from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from ._composite import _column_selector
from ._torch_scope import DTYPE

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

    def __init__(self, normal_columns, mask_columns, level_parts=()):
        super().__init__()
        masked = set(mask_columns)
        positions = [i for i, column in enumerate(normal_columns) if column in masked]
        #: Table positions of the continuous self-masking columns (drawn by reparameterisation).
        self.columns = [normal_columns[i] for i in positions]
        self._n_normal = len(normal_columns)
        self._positions = _column_selector(positions, len(normal_columns))
        self._table_columns = _column_selector(self.columns, max(self.columns, default=0) + 1)
        self._level_groups = self._group_levels(
            [part for part in level_parts if len(part[3]) > 1], len(self.columns))
        #: Table positions of the level self-masking columns (summed over exactly), in block order.
        self.level_columns = [column for group in self._level_groups for column in group.columns]
        n_columns = len(self.columns) + len(self.level_columns)
        self.slope_raw = nn.Parameter(torch.zeros(n_columns, dtype=DTYPE))
        self.intercept_raw = nn.Parameter(torch.zeros(n_columns, dtype=DTYPE))

    def _group_levels(self, level_parts, start):
        """One :class:`_LevelGroup` per categorical block, its level values buffers of this module."""
        groups = []
        for b in sorted({part[1] for part in level_parts}):
            parts = [part for part in level_parts if part[1] == b]
            values = _standardized_levels(torch.stack([part[3] for part in parts]).to(torch.float64))
            name = f"_level_values_{len(groups)}"
            # Not persistent: rebuilt from the schema, so files keep only the trainable pairs.
            self.register_buffer(name, values.to(DTYPE), persistent=False)
            groups.append(_LevelGroup(b, [part[2] for part in parts], [part[0] for part in parts], name,
                                      slice(start, start + len(parts))))
            start += len(parts)
        return groups

    @property
    def all_columns(self):
        """Table positions of every self-masking column: the continuous ones, then the level ones."""
        return self.columns + self.level_columns

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
    def for_likelihood(cls, likelihood, n_parameters=None):
        """The mechanism of a table's likelihood (``CompositeLikelihood``).

        `n_parameters`: the length of a saved ``slope_raw``. A file of skvae
        0.6.0 or older has a pair per continuous column only (level columns
        were ignorable then), and stays that model.
        """
        mechanism = cls(likelihood.normal_columns, likelihood.mask_columns, likelihood.numeric_level_parts)
        if n_parameters is not None and n_parameters == len(mechanism.columns) != len(mechanism.all_columns):
            mechanism = cls(likelihood.normal_columns, likelihood.mask_columns)
        return mechanism

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
        continuous, draws = self._continuous_log_prob(likelihood, x, observed, decoded, noise)
        if self._level_groups:
            continuous = continuous + self._level_log_prob(likelihood, x, observed, decoded)
        return continuous, draws

    def _continuous_log_prob(self, likelihood, x, observed, decoded, noise):
        """The continuous columns' part of :meth:`log_prob`, estimated from the draws."""
        mean, deviation = likelihood.encoded_normal(decoded) if self.columns else (None, None)
        draws = noise.unflatten(-1, (DRAWS_PER_SAMPLE, len(self.columns)))  # (K, n, M, m)
        if not self.columns:
            inner = noise.new_zeros(draws.shape[:-1])
            return inner[..., 0], MissingDraws(draws, inner)
        draws = (mean[..., self._positions].unsqueeze(-2)
                 + deviation[..., self._positions].unsqueeze(-2) * draws)
        n_columns = len(self.columns)
        slope, intercept = self.slope[:n_columns], self.intercept[:n_columns]
        values = x[..., self._table_columns].unsqueeze(-2)
        if observed is None:
            log_observed = F.logsigmoid(-(slope * values + intercept)).sum(-1)  # (n, 1)
            inner = log_observed.expand(draws.shape[:-1])
            return log_observed[..., 0].expand(draws.shape[:-2]), MissingDraws(draws, inner)
        seen = observed[..., self._table_columns].unsqueeze(-2)
        logits = slope * torch.where(seen, values, draws) + intercept
        inner = torch.where(seen, F.logsigmoid(-logits), F.logsigmoid(logits)).sum(-1)  # (K, n, M)
        return _log_mean_exp(inner), MissingDraws(draws, inner)

    def _level_logits(self, group):
        """logit P(s_j = 1 | x_j = level c) of a group's columns, (columns, L)."""
        values = getattr(self, group.values)
        return self.slope[group.parameters, None] * values + self.intercept[group.parameters, None]

    def _level_log_prob(self, likelihood, x, observed, decoded):
        """The level columns' part of :meth:`log_prob`: exact, (K, n) or (n,) like the decodings.

        An observed cell contributes log P(s_j = 0 | its level); a missing
        one log sum_c p(x_j = c | z) P(s_j = 1 | c).
        """
        total = 0.0
        for group in self._level_groups:
            logits = self._level_logits(group)  # (m, L)
            codes = x[..., group.columns].long().clamp_(0, logits.shape[-1] - 1)  # (n, m); missing cells hold a stand-in
            level_logits = logits.expand(*codes.shape, -1).gather(-1, codes.unsqueeze(-1)).squeeze(-1)
            log_observed = F.logsigmoid(-level_logits)  # (n, m)
            if observed is None:
                total = total + log_observed.sum(-1)
                continue
            # log sum_c softmax(l)_c f_c = logsumexp(l + log f) - logsumexp(l), on the group's columns
            # only: no normalised copy of the whole block (the likelihood makes its own).
            level_scores = likelihood.block_logits(group.block, decoded)[..., group.positions, :]
            log_missing = (torch.logsumexp(level_scores + F.logsigmoid(logits), dim=-1)
                           - torch.logsumexp(level_scores, dim=-1))  # (K, n, m)
            total = total + torch.where(observed[..., group.columns], log_observed, log_missing).sum(-1)
        return total

    def tilted(self, likelihood, decoded):
        """`decoded` with each level column's p(x_j = c | z) reweighted by P(s_j = 1 | c).

        For a missing cell that is p(x_j = c | z, s_j = 1), the distribution
        its fill and draws come from (observed cells keep their values, so
        the tilt of theirs is never used).
        """
        for group in self._level_groups:
            block = likelihood.blocks[group.block]
            factors = decoded[0].new_zeros((block.n_columns, block.n_levels))
            factors[group.positions] = F.logsigmoid(self._level_logits(group)).to(factors.dtype)
            decoded = likelihood.tilt_levels(group.block, decoded, factors)
        return decoded

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
        # The draws' sum in draw order (a row's fill independent of its batch; see _objectives.sum_over_draws).
        return (within.unsqueeze(-1) * self._user_units(likelihood, decoded, draws.values)).sum(2).cumsum(0)[-1]

    def resampled(self, likelihood, decoded, draws, chosen, generator):
        """For samples `chosen` per row ((n,) or (n, D)), a draw x_km with m picked by p(s | x_km): (n, [D,] m)."""
        rows = torch.arange(chosen.shape[0], device=chosen.device)
        rows = rows if chosen.dim() == 1 else rows[:, None]
        within = torch.softmax(draws.inner_log_probs[chosen, rows], dim=-1)  # (n, [D,] M)
        picked = torch.multinomial(within.reshape(-1, DRAWS_PER_SAMPLE), 1, generator=generator)
        picked = picked.reshape(chosen.shape)
        values = self._user_units(likelihood, decoded, draws.values)  # (K, n, M, m)
        return values[chosen, rows, picked]


def _standardized_levels(values):
    """Each row of level values (columns, L) less its mean, over its standard deviation; finite for any finite levels.

    Standardised over each column's levels: slopes on one scale for a 0/1
    dummy and a 1-7 rating. Hostile sweep 21: levels near float64's limits
    made the mean or the standard deviation leave float64 (levels near
    1.7e308 summed to infinity, levels -1e308 and 1e308 had an infinite
    deviation and standardised to 0; the squared deviations of levels near
    1e-300 underflowed to 0, and the division gave infinity), so the
    mechanism's logits were NaN and a ``missing_mechanism="self_masking"``
    fit failed at its first epoch ("The training loss became nan") on a
    column that ``"ignorable"`` fitted. Such a row is standardised in units
    of its largest magnitude instead, which changes nothing in exact
    arithmetic; the others keep the direct formula, so fitted models give
    the fills they gave, bit for bit (the buffer is rebuilt at load).

    Hostile sweep 25: distinct integer levels beyond 2**53 can be one
    float64 (2**63 + 196 and 2**63 + 569 both read 2**63), so a row's levels
    were all equal, its scale 0 in either unit, and 0 / 0 made the fit fail
    as "The training loss became nan". Levels float64 cannot tell apart get
    one standardised value, as two such levels among others already do: such
    a row is all zeros, where the slope multiplies nothing and the column's
    missingness is its intercept's alone (missing completely at random).
    """
    scale = values.std(-1, correction=0, keepdim=True)
    standardized = (values - values.mean(-1, keepdim=True)) / scale
    # An infinite scale (levels -1e308 and 1e308) gives finite zeros, no standardised levels at all.
    bad = ~torch.isfinite(standardized).all(-1) | ~torch.isfinite(scale[:, 0]) | (scale[:, 0] == 0)
    if bad.any():
        unit = values[bad] / values[bad].abs().amax(-1, keepdim=True)
        unit_scale = unit.std(-1, correction=0, keepdim=True)
        rescaled = (unit - unit.mean(-1, keepdim=True)) / unit_scale
        standardized[bad] = torch.where(unit_scale == 0, torch.zeros_like(rescaled), rescaled)
    return standardized


class _LevelGroup(NamedTuple):
    """Level self-masking columns of one categorical block."""

    block: int  # the block's index in the likelihood
    positions: list  # the columns' indices in the block
    columns: list  # their table positions
    values: str  # the name of the buffer of their standardised level values (m, L)
    parameters: slice  # their (slope, intercept) pairs in the mechanism's vectors


class MissingDraws(NamedTuple):
    """The draws x_mis,km (K, n, M, m) in encoded units and log p(s | x_obs, x_mis,km) (K, n, M)."""

    values: torch.Tensor
    inner_log_probs: torch.Tensor


def build_missingness(missing_mechanism, likelihood, n_parameters=None):
    """The mechanism module for the estimators' `missing_mechanism` (None when ignorable).

    `n_parameters`: see :meth:`SelfMasking.for_likelihood` (loading a file).
    """
    if missing_mechanism == "ignorable":
        return None
    if missing_mechanism == "self_masking":
        return SelfMasking.for_likelihood(likelihood, n_parameters)
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


def _log_mean_exp(inner):
    """log (1/M) sum_m exp(inner_m) over the last dimension of (..., M), exact where the M values are equal.

    A row with no missing cell among the self-masking columns has M equal
    terms, and its estimate is then its log-probability of being observed
    exactly, as the path without a mask computes it: ``torch.logsumexp(inner)
    - log M`` rounded ``v + log M - log M`` away from ``v``, so a complete
    row scored one bit otherwise when another row of its call had a hole
    (hostile sweep 23). Here the largest term comes out first and the M
    shares are summed in draw order (a cumulative sum) and divided by M: M
    equal terms give exactly 1, and the estimate exactly the peak. A peak of
    -inf (every term -inf) is replaced by 0, so the estimate is -inf, not NaN.
    """
    peak = inner.detach().amax(dim=-1, keepdim=True)
    peak = torch.where(torch.isfinite(peak), peak, torch.zeros_like(peak))
    shares = torch.exp(inner - peak).cumsum(dim=-1)[..., -1]
    return torch.log(shares / inner.shape[-1]) + peak[..., 0]
