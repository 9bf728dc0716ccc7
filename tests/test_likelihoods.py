"""Each likelihood block against torch.distributions, in the user's units; draws and means agree."""

import math

import numpy as np
import pytest
import scipy.integrate
import torch

from skvae._likelihoods import (
    BLOCKS,
    KINDS,
    RANGE_ENTRIES,
    BernoulliBlock,
    CategoricalBlock,
    CompositeLikelihood,
    GaussianBlock,
    InflatedGaussianBlock,
    QuantileNormalBlock,
    LogNormalBlock,
    NegativeBinomialBlock,
    PoissonBlock,
    VARIANCE_FLOOR,
)

D = torch.float64


def _normal(shape, seed):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=D)


def _t(values):
    return torch.tensor(values, dtype=D)


def _scaled(block_cls, shift, scale):
    return block_cls([0, 1], {"shift": _t(shift), "scale": _t(scale), "log_scale": torch.log(_t(scale))})


def test_gaussian_is_a_density_of_the_raw_values():
    block = _scaled(GaussianBlock, [10.0, -3.0], [2.0, 0.5])
    params = _normal((5, 4), 0)
    raw = _normal((5, 2), 1) * 3 + 4
    encoded = (raw - block.stats["shift"]) / block.stats["scale"]
    mean = params[:, :2] * block.stats["scale"] + block.stats["shift"]
    sd = (VARIANCE_FLOOR + torch.nn.functional.softplus(params[:, 2:])).sqrt() * block.stats["scale"]
    expected = torch.distributions.Normal(mean, sd).log_prob(raw)
    torch.testing.assert_close(block.cell_log_prob(encoded, params, None), expected)


def test_lognormal_is_a_density_of_the_raw_values():
    block = _scaled(LogNormalBlock, [1.0, 0.5], [0.7, 2.0])
    params = _normal((5, 4), 2)
    raw = torch.exp(_normal((5, 2), 3))
    encoded = (torch.log(raw) - block.stats["shift"]) / block.stats["scale"]
    mu = params[:, :2] * block.stats["scale"] + block.stats["shift"]
    sd = (VARIANCE_FLOOR + torch.nn.functional.softplus(params[:, 2:])).sqrt() * block.stats["scale"]
    expected = torch.distributions.LogNormal(mu, sd).log_prob(raw)
    torch.testing.assert_close(block.cell_log_prob(encoded, params, None), expected)


def _inflated(values):
    entry = {name: per_column[0]
             for name, per_column in InflatedGaussianBlock.fit_constants(np.asarray(values)[:, None]).items()}
    constants = InflatedGaussianBlock.block_constants([entry])
    return InflatedGaussianBlock.from_constants([0], constants), constants, entry


def _debts(seed=0):
    rng = np.random.default_rng(seed)
    return np.where(rng.random(600) < 0.4, 0.0, rng.lognormal(3, 1, 600))  # 40% exact zeros


def test_inflated_gaussian_is_a_mass_at_its_spike_and_the_quantile_density_elsewhere():
    block, constants, entry = _inflated(_debts())
    assert entry["spike"] == 0.0
    continuous = QuantileNormalBlock.from_constants([0], QuantileNormalBlock.block_constants([entry]))
    x = np.array([[0.0], [3.0], [0.0], [25.0], [400.0]])
    u = torch.as_tensor(InflatedGaussianBlock.encode(x, constants))
    params = _normal((5, 3), 5)
    logit = params[:, :1]
    expected = torch.where(torch.as_tensor(x) == 0.0, torch.nn.functional.logsigmoid(logit),
                           torch.nn.functional.logsigmoid(-logit) + continuous.cell_log_prob(u, params[:, 1:], None))
    torch.testing.assert_close(block.cell_log_prob(u, params, None), expected)


def test_inflated_gaussian_sums_to_one_and_samples_its_spike_as_often_as_it_says():
    block, constants, _ = _inflated(_debts())
    params = _t([[0.3, 0.2, -0.4]])
    grid = np.linspace(-200, 3000, 400_001)[:, None]
    grid = grid[grid[:, 0] != 0.0]  # the continuous part: every value but the spike
    u = torch.as_tensor(InflatedGaussianBlock.encode(grid, constants))
    density = block.cell_log_prob(u, params.expand(len(grid), -1), None).exp()[:, 0]
    spike = block.cell_log_prob(torch.as_tensor(constants["encoded_spike"])[None], params, None).exp()[0, 0]
    # The density jumps at each knot, where the trapezoid rule errs by up to a step times the jump.
    torch.testing.assert_close(torch.trapezoid(density, torch.as_tensor(grid[:, 0])) + spike, _t(1.0),
                               atol=1e-3, rtol=0)
    draws = block.sample(params.expand(40_000, -1), None, torch.Generator().manual_seed(0))
    torch.testing.assert_close((draws == 0.0).double().mean(), spike, atol=0.01, rtol=0)


def _quantile_block(values):
    entry = {name: per_column[0] for name, per_column in QuantileNormalBlock.fit_constants(values[:, None]).items()}
    constants = QuantileNormalBlock.block_constants([entry])
    return QuantileNormalBlock.from_constants([0], constants), constants


def test_quantile_normal_is_a_density_of_x_that_sums_to_one_and_decodes_through_its_inverse():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0, 1, 400), rng.lognormal(2, 0.5, 400), [np.nan]])  # skewed, bimodal
    block, constants = _quantile_block(values)
    params = _t([[0.4, -0.7]])
    grid = np.linspace(-40, 120, 400_001)[:, None]
    u = torch.as_tensor(QuantileNormalBlock.encode(grid, constants))
    density = block.cell_log_prob(u, params.expand(len(grid), -1), None).exp()[:, 0]
    # The density jumps at each knot, where the trapezoid rule errs by up to a step times the jump.
    torch.testing.assert_close(torch.trapezoid(density, torch.as_tensor(grid[:, 0])), _t(1.0), atol=1e-4, rtol=0)
    # Against the change of variables written out: N(g(x); m, v) * g'(x), g' by finite differences.
    x = np.array([[-3.0], [0.1], [5.0], [9.0], [60.0]])
    h = 1e-6
    slope = (QuantileNormalBlock.encode(x + h, constants) - QuantileNormalBlock.encode(x - h, constants)) / (2 * h)
    sd = float(np.sqrt(VARIANCE_FLOOR + np.log1p(np.exp(-0.7))))
    expected = torch.distributions.Normal(0.4, sd).log_prob(torch.as_tensor(QuantileNormalBlock.encode(x, constants)))
    got = block.cell_log_prob(torch.as_tensor(QuantileNormalBlock.encode(x, constants)), params.expand(5, -1), None)
    torch.testing.assert_close(got, expected + torch.as_tensor(np.log(slope)), atol=0, rtol=1e-6)  # finite differences
    # g^{-1}(g(x)) = x, inside the knots and beyond them.
    back = block.user_units(torch.as_tensor(QuantileNormalBlock.encode(x, constants)))
    torch.testing.assert_close(back, torch.as_tensor(x))


def _sorted_rows(rng, dtype):
    """A table of 1-5 increasing rows padded with +inf, as knot and heap scores are, some of them hostile."""
    width = int(rng.integers(1, 102))
    rows = []
    for _ in range(int(rng.integers(1, 6))):
        size = int(rng.integers(0, width + 1))
        shape = rng.integers(0, 4)
        if shape == 0:
            values = rng.normal(size=size)
        elif shape == 1:  # subnormal spacing: no grid serves, the binary search must
            values = rng.normal(size=size) * 1e-300
        elif shape == 2:  # clustered entries beside far ones
            values = np.cumsum(rng.exponential(size=size) ** 3) - 5
        else:
            values = rng.choice([-1e300, -1.0, 0.0, 1e-320, 1.0, 1e300], size=min(size, 6))
        values = np.asarray(values, dtype=np.float64)
        if dtype == torch.float32:
            values = values[np.abs(values) < 3e38].astype(np.float32)
        values = np.unique(values)
        rows.append(np.concatenate([values, np.full(width - len(values), np.inf)]))
    return torch.tensor(np.array(rows), dtype=dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_row_search_gives_torch_searchsorted_answers_bit_for_bit(dtype):
    """The bucket grid that replaces the binary search of knot scores answers as it does, whatever the values."""
    from skvae._likelihoods import _RowSearch

    rng = np.random.default_rng(0)
    used_grid = 0
    for _ in range(150):
        table = _sorted_rows(rng, dtype)
        entries = table[torch.isfinite(table)]
        specials = torch.tensor([math.inf, -math.inf, math.nan, 0.0, -0.0, 3e38, -3e38], dtype=dtype)
        pool = torch.cat([torch.randn(300, dtype=dtype) * 3, entries, specials,
                          torch.nextafter(entries, torch.full_like(entries, math.inf)),
                          torch.nextafter(entries, torch.full_like(entries, -math.inf))])
        cells = pool[torch.randint(len(pool), (7, 11, table.shape[0]))]
        search = _RowSearch(table)
        used_grid += search.grid is not None
        for right in (True, False):
            flat = cells.reshape(-1, table.shape[0]).T.contiguous()
            expected = torch.searchsorted(table, flat, right=right).T.reshape(cells.shape)
            assert torch.equal(search(cells, right), expected)
    assert 50 < used_grid < 150  # both the grid and the binary search were exercised


def test_a_quantile_normal_block_searches_its_knots_by_the_grid_and_pickles_without_it():
    import pickle

    rng = np.random.default_rng(1)
    block, _ = _quantile_block(np.concatenate([rng.lognormal(0, 1, 3000), rng.normal(5, 0.1, 500)]))
    u = torch.randn(40, 1, dtype=torch.float64) * 3
    decoded = block.user_units(u)
    assert block._derived_structures["knot_scores"].grid is not None
    copy = pickle.loads(pickle.dumps(block))
    assert "_derived_structures" not in copy.__dict__
    assert torch.equal(copy.user_units(u), decoded)
    assert torch.equal(copy.cell_log_constant(u), block.cell_log_constant(u))


@pytest.mark.parametrize("mean, raw_variance", [(0.0, 0.5), (0.8, -1.0), (-1.5, 1.5), (2.8, 0.2)])
def test_quantile_normal_conditional_mean_is_the_mean_of_its_decoded_draws(mean, raw_variance):
    """E[x | z] = E[g^{-1}(u)], not g^{-1}(E[u]): on a skewed column the median lies below the mean."""
    rng = np.random.default_rng(0)
    values = rng.lognormal(0.0, 1.0, 2000)
    block, _ = _quantile_block(values)
    params = _t([[mean, raw_variance]])
    got = float(block.conditional_mean(params, None)[0, 0])
    # The integral of g^{-1}(m + s t) phi(t) over a fine grid of t (g^{-1} is piecewise linear: the
    # trapezoid rule is exact but for its kinks), and the mean of decoded draws.
    _, variance = block._mean_variance(params)
    t = np.linspace(-12.0, 12.0, 1_200_001)
    decoded = block.user_units(torch.as_tensor(mean + t * float(variance.sqrt()[0, 0]))[:, None])[:, 0].numpy()
    # scipy's trapezoid, not np.trapezoid: NumPy added that name in 2.0, and pyproject.toml allows numpy 1.23.
    integral = scipy.integrate.trapezoid(decoded * np.exp(-t**2 / 2) / np.sqrt(2 * np.pi), t)
    assert got == pytest.approx(integral, rel=1e-2)  # 12 nodes over a function with 100 kinks
    draws = block.sample(params.expand(400_000, -1), None, torch.Generator().manual_seed(0))
    assert got == pytest.approx(float(draws.mean()), rel=1.5e-2)
    median = float(block.user_units(params[:, :1])[0, 0])
    assert got > median * 1.02  # a lognormal's mean lies above its median: the old point value


def test_bernoulli_matches_torch():
    block = BernoulliBlock([0, 1, 2])
    logits = _normal((5, 3), 4)
    x = torch.bernoulli(torch.full((5, 3), 0.4, dtype=D), generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(block.cell_log_prob(x, logits, None), torch.distributions.Bernoulli(logits=logits).log_prob(x))


def test_categorical_matches_torch_per_column():
    block = CategoricalBlock([0, 1], n_levels=3)
    logits = _normal((5, 6), 5)
    codes = _t([[0, 2], [1, 1], [2, 0], [0, 0], [1, 2]])
    expected = torch.distributions.Categorical(logits=logits.reshape(5, 2, 3)).log_prob(codes.long())
    torch.testing.assert_close(block.cell_log_prob(codes, logits, None), expected)
    one_hot = block.encoder_input(codes)
    assert one_hot.shape == (5, 6)
    torch.testing.assert_close(one_hot.reshape(5, 2, 3).argmax(-1).to(D), codes)


def test_poisson_and_negative_binomial_match_torch():
    counts = _t([[0, 3], [7, 1], [2, 40]])
    log_mean = _normal((3, 2), 6)
    poisson = PoissonBlock([0, 1], {"input_shift": _t([0, 0]), "input_scale": _t([1, 1])})
    torch.testing.assert_close(
        poisson.cell_log_prob(counts, log_mean, None), torch.distributions.Poisson(log_mean.exp()).log_prob(counts)
    )
    free = _t([0.3, -1.0])
    nb = NegativeBinomialBlock([0, 1], {"input_shift": _t([0, 0]), "input_scale": _t([1, 1])})
    theta = torch.nn.functional.softplus(free) + 1e-4
    mean = log_mean.exp()
    # torch's NB counts failures with total_count theta and success probability mean / (mean + theta).
    expected = torch.distributions.NegativeBinomial(total_count=theta, probs=mean / (mean + theta)).log_prob(counts)
    torch.testing.assert_close(nb.cell_log_prob(counts, log_mean, free), expected)


@pytest.mark.parametrize("block, params, free", [
    (_scaled(GaussianBlock, [5.0, -1.0], [2.0, 0.1]), _normal((1, 4), 7), torch.zeros(0, dtype=D)),
    (_scaled(LogNormalBlock, [0.2, 1.0], [0.3, 0.2]), _normal((1, 4), 8) * 0.3, torch.zeros(0, dtype=D)),
    (BernoulliBlock([0, 1]), _normal((1, 2), 9), torch.zeros(0, dtype=D)),
    (PoissonBlock([0, 1], {}), _t([[1.0, 2.5]]), torch.zeros(0, dtype=D)),
    (NegativeBinomialBlock([0, 1], {}), _t([[1.0, 2.5]]), _t([0.5, 2.0])),
])
def test_sample_mean_matches_conditional_mean(block, params, free):
    params = params.expand(200_000, params.shape[1])
    draws = block.sample(params, free, torch.Generator().manual_seed(0))
    mean = block.conditional_mean(params, free)[0]
    np.testing.assert_allclose(draws.mean(0), mean, rtol=0.03, atol=0.01)


def test_categorical_draws_follow_the_softmax():
    block = CategoricalBlock([0], n_levels=3)
    logits = _t([[0.0, 1.0, -1.0]]).expand(100_000, 3)
    draws = block.sample(logits, None, torch.Generator().manual_seed(0))
    frequencies = np.bincount(draws[:, 0].long().numpy(), minlength=3) / 100_000
    np.testing.assert_allclose(frequencies, torch.softmax(logits[0], -1).numpy(), atol=0.01)


def test_composite_drops_missing_cells_and_scatters_columns_in_order():
    gaussian = GaussianBlock([0, 2], _scaled(GaussianBlock, [0, 0], [1, 1]).stats)
    categorical = CategoricalBlock([1], n_levels=2)
    likelihood = CompositeLikelihood([gaussian, categorical], 3, mask_columns=[0])
    x = _t([[0.5, 1.0, -0.3], [1.5, 0.0, 0.2]])
    params = _normal((2, 6), 10)
    decoded = (params, torch.zeros(0, dtype=D))
    cells = likelihood.cell_log_prob(x, decoded)
    torch.testing.assert_close(cells[:, [0, 2]], gaussian.cell_log_prob(x[:, [0, 2]], params[:, :4], None))
    torch.testing.assert_close(cells[:, 1], categorical.cell_log_prob(x[:, [1]], params[:, 4:], None)[:, 0])
    torch.testing.assert_close(likelihood.log_prob(x, decoded), cells.sum(-1))
    observed = torch.tensor([[True, False, True], [False, True, True]])
    masked = likelihood.cell_log_prob(x, decoded, observed)
    assert math.isnan(masked[0, 1]) and math.isnan(masked[1, 0])
    torch.testing.assert_close(likelihood.log_prob(x, decoded, observed), masked.nan_to_num(0.0).sum(-1))
    # The encoder sees the gaussian values, the one-hot category and the mask of column 0.
    view = likelihood.encoder_input(x * observed, observed)
    assert view.shape == (2, 2 + 2 + 1)
    torch.testing.assert_close(view[:, -1], _t([1.0, 0.0]))
    torch.testing.assert_close(view[0, 2:4], _t([0.0, 0.0]))  # a missing category is no level at all


def _categorical_table(n_rows, seed):
    """A table of categorical blocks of 3, 2 and 20 levels around a Gaussian column, codes and a mask."""
    blocks = [CategoricalBlock([0, 3], n_levels=3), GaussianBlock([1], _scaled(GaussianBlock, [0], [1]).stats),
              CategoricalBlock([2], n_levels=2), CategoricalBlock([4], n_levels=20)]
    likelihood = CompositeLikelihood(blocks, 5)
    rng = np.random.default_rng(seed)
    x = _t(np.column_stack([rng.integers(0, 3, n_rows), rng.normal(size=n_rows), rng.integers(0, 2, n_rows),
                            rng.integers(0, 3, n_rows), rng.integers(0, 20, n_rows)]))
    observed = torch.as_tensor(rng.random((n_rows, 5)) > 0.2)
    return likelihood, x, observed


@pytest.mark.parametrize("leading", [(), (3,)])
def test_short_categorical_blocks_evaluated_together_give_each_blocks_values_and_gradients(leading):
    likelihood, x, observed = _categorical_table(32, 0)
    assert likelihood._categoricals.members == [0, 2]  # 20 levels take the last-dimension softmax alone
    params = _normal((*leading, 32, likelihood.n_params), 1).requires_grad_(True)
    decoded = (params, torch.zeros(0, dtype=D))
    together = likelihood.log_prob(x, decoded, observed)
    # Each block on its own, side by side in block order and summed once, as log_prob sums them.
    by_block = torch.cat([torch.where(observed[:, block.columns], block.cell_log_prob(x[:, block.columns], part, None),
                                      0.0)
                          for block, part in zip(likelihood.blocks,
                                                 params.split([b.n_params for b in likelihood.blocks], -1))],
                         dim=-1).sum(-1)
    (gradient,) = torch.autograd.grad(together.sum(), params)
    (expected,) = torch.autograd.grad(by_block.sum(), params)
    # 32 rows fill whole vector lanes: the same sums, the same bits.
    assert torch.equal(together, by_block) and torch.equal(gradient, expected)
    # A padded level is no level: no probability, no gradient.
    assert torch.isfinite(together).all() and torch.isfinite(gradient).all()


def test_training_computes_the_encoders_view_once_and_only_where_it_is_not_the_data():
    from skvae._training import ENCODER_INPUT_BYTES, Trainer

    likelihood, x, observed = _categorical_table(40, 2)
    likelihood = likelihood.to(torch.device("cpu"), torch.float32)
    x = x.float()
    encoder = torch.nn.Module()
    encoder.mean_head = torch.nn.Linear(2, 2)
    trainer = Trainer(encoder, None, likelihood, None, batch_size=8, beta=1.0, shuffle_generator=None,
                      noise_generator=None)
    _, _, view, _ = trainer.training_rows(x, observed)
    assert torch.equal(view, likelihood.encoder_input(x, observed))
    assert torch.equal(view[5:9], likelihood.encoder_input(x[5:9], observed[5:9]))  # a row's view is its own
    gaussian = CompositeLikelihood([GaussianBlock([0, 1], _scaled(GaussianBlock, [0, 0], [1, 1]).stats)], 2)
    trainer.likelihood = gaussian.to(torch.device("cpu"), torch.float32)
    assert trainer.training_rows(x[:, :2], None)[2] is None  # the view is the data itself
    many = torch.zeros((ENCODER_INPUT_BYTES // (4 * likelihood.input_width) + 1, 5))
    trainer.likelihood = likelihood
    assert trainer.training_rows(many, None)[2] is None  # too large to hold twice: computed per batch


def _every_kind_table(n_rows, seed):
    """A composite likelihood with one block of each kind that has data-only terms (and a categorical), float64."""
    rng = np.random.default_rng(seed)
    debts = _debts(seed)[:n_rows]
    inflated, inflated_constants, _ = _inflated(_debts(seed + 1))
    quantile, quantile_constants = _quantile_block(rng.lognormal(1, 1, 300))
    blocks = [
        GaussianBlock([0], {"shift": _t([1.0]), "scale": _t([3.0]), "log_scale": torch.log(_t([3.0]))}),
        LogNormalBlock([1], {"shift": _t([0.5]), "scale": _t([2.0]), "log_scale": torch.log(_t([2.0]))}),
        QuantileNormalBlock([2], quantile.stats),
        InflatedGaussianBlock([3], inflated.stats),
        PoissonBlock([4], {"input_shift": _t([0.0]), "input_scale": _t([1.0])}),
        NegativeBinomialBlock([5], {"input_shift": _t([0.0]), "input_scale": _t([1.0])}),
        CategoricalBlock([6], n_levels=3),
    ]
    likelihood = CompositeLikelihood(blocks, 7, mask_columns=[2])
    x = _t(np.column_stack([
        rng.normal(size=n_rows), rng.normal(size=n_rows),
        QuantileNormalBlock.encode(rng.lognormal(1, 1, (n_rows, 1)), quantile_constants)[:, 0],
        InflatedGaussianBlock.encode(debts[:, None], inflated_constants)[:, 0],
        rng.poisson(3.0, n_rows), rng.poisson(7.0, n_rows), rng.integers(0, 3, n_rows),
    ]))
    observed = torch.as_tensor(rng.random((n_rows, 7)) > 0.25)
    return likelihood, x, observed


def test_log_prob_is_its_variable_terms_plus_its_data_only_terms_with_the_same_gradient():
    likelihood, x, observed = _every_kind_table(40, 3)
    assert (x[:, 3] == likelihood.blocks[3].stats["encoded_spike"]).any()  # spike cells take the discrete part
    params = _normal((40, likelihood.n_params), 4).requires_grad_(True)
    free = _t([0.3]).requires_grad_(True)
    for mask in (None, observed):
        whole = likelihood.log_prob(x, (params, free), mask)
        variable = likelihood.log_prob(x, (params, free), mask, constants=False)
        constant = likelihood.log_constant(x, mask)
        assert not constant.requires_grad and (constant != 0).all()
        torch.testing.assert_close(variable + constant, whole)
        # Per cell, as scoring reads it: each block's terms add up to its log-density.
        cells = likelihood.cell_log_prob(x, (params, free), mask)
        torch.testing.assert_close(cells.nan_to_num(0.0).sum(-1), whole)
        gradients = torch.autograd.grad(whole.sum(), (params, free))
        torch.testing.assert_close(torch.autograd.grad(variable.sum(), (params, free)), gradients, rtol=0, atol=0)


def test_training_loss_adds_the_data_only_terms_once_per_epoch(monkeypatch):
    """A fit's epoch losses are those of steps that take every term, and so are its weights."""
    import pandas as pd

    import skvae._training as training
    from skvae import VAETransformer

    rng = np.random.default_rng(0)
    table = pd.DataFrame({"price": rng.lognormal(7, 0.4, 300).round(), "debt": np.where(rng.random(300) < 0.4, 0.0,
                                                                                         rng.lognormal(3, 1, 300)),
                          "visits": rng.poisson(4, 300).astype(float), "kind": rng.choice(list("abc"), 300)})
    table.iloc[::7, 0] = np.nan
    fast = VAETransformer(max_iter=3, random_state=0, n_jobs=1).fit(table)

    real_negative_elbo = training.negative_elbo
    monkeypatch.setattr(training, "negative_elbo", lambda *a, **k: real_negative_elbo(*a, **{**k, "constants": True}))
    monkeypatch.setattr(training.Trainer, "_log_constant", lambda self, X, observed: torch.zeros(()))
    every_step = VAETransformer(max_iter=3, random_state=0, n_jobs=1).fit(table)
    assert abs(fast.loss_curve_[0]) > 1.0
    np.testing.assert_allclose(fast.loss_curve_, every_step.loss_curve_, rtol=1e-5)
    np.testing.assert_allclose(fast.transform(table), every_step.transform(table), rtol=1e-4, atol=1e-5)


def test_importance_weighted_point_averages_means_and_votes_categories():
    gaussian = GaussianBlock([0], {"shift": _t([1.0]), "scale": _t([2.0]), "log_scale": torch.log(_t([2.0]))})
    categorical = CategoricalBlock([1], n_levels=3)
    likelihood = CompositeLikelihood([gaussian, categorical], 2)
    params = torch.stack([_t([[0.0, 0.0, 5.0, 0.0, 0.0]]), _t([[1.0, 0.0, 0.0, 0.0, 2.0]])])  # (K=2, n=1, 5)
    weights = _t([[0.25], [0.75]])
    point = likelihood.point((params, torch.zeros(0, dtype=D)), weights)
    assert point.shape == (1, 2)
    torch.testing.assert_close(point[0, 0], _t(0.25 * 1.0 + 0.75 * 3.0))
    p0, p1 = torch.softmax(params[0, 0, 2:], -1), torch.softmax(params[1, 0, 2:], -1)
    assert int(point[0, 1]) == int((0.25 * p0 + 0.75 * p1).argmax())


def test_categorical_point_of_numbers_is_the_level_nearest_the_mean_and_of_labels_the_mode():
    numbers = {"name": "rating", "kind": "categorical", "dtype": "int64", "categories": [1, 4, 7]}
    floats = {"name": "score", "kind": "categorical", "dtype": "float64", "categories": [0.0, 1.0, 10.0]}
    labels = {"name": "colour", "kind": "categorical", "dtype": "object", "categories": ["a", "b", "c"]}
    declared = {"name": "code", "kind": "categorical", "dtype": "category", "categories": [1, 4, 7]}
    entries = [numbers, floats, labels, declared]
    block = CategoricalBlock.from_constants([0, 1, 2, 3], CategoricalBlock.block_constants(entries)).to("cpu", D)
    # Two decodings (K=2) whose weighted mixture is (0.45, 0.2, 0.35) in every column: the mode is the
    # first level, the mean of 1, 4, 7 is 3.7 (nearest 4), the mean of 0, 1, 10 is 3.7 (nearest 1).
    first, second = torch.log(_t([0.7, 0.2, 0.1])), torch.log(_t([0.2, 0.2, 0.6]))
    params = torch.stack([first.repeat(4), second.repeat(4)]).unsqueeze(1)  # (K=2, n=1, 4 columns x 3)
    point = block.point(params, None, _t([[0.5], [0.5]]))
    torch.testing.assert_close(point, _t([[1.0, 1.0, 0.0, 0.0]]))
    # With mass at the top, the nearest level and the mode agree: the rule changes only what it should.
    top = torch.log(_t([0.1, 0.1, 0.8])).repeat(4).reshape(1, 1, 12)
    torch.testing.assert_close(block.point(top, None, _t([[1.0]])), _t([[2.0, 2.0, 2.0, 2.0]]))


def test_numeric_level_values_are_numbers_the_user_gave_as_numbers():
    from skvae._likelihoods import numeric_level_values

    np.testing.assert_array_equal(numeric_level_values({"dtype": "Int64", "categories": [0, 2, 5]}), [0, 2, 5])
    np.testing.assert_array_equal(numeric_level_values({"dtype": "float64", "categories": [0.5, 2.0]}), [0.5, 2])
    for entry in ({"dtype": "object", "categories": ["low", "high"]},
                  {"dtype": "bool", "categories": [False, True]},
                  {"dtype": "category", "categories": [1, 2, 3]},
                  {"dtype": "float64", "categories": [1.0, float("inf")]}):
        assert numeric_level_values(entry) is None, entry


# ---------------------------------------------------------------- kinds own their entries

_KIND_DATA = {
    "gaussian": [0.5, -1.25, 3.0, 2.0],
    "lognormal": [0.5, 1.25, 3.0, 2.0],
    "inflated_gaussian": [0.0, 0.0, 3.0, 2.0],
    "quantile_normal": [0.5, -1.25, 3.0, 2.0],
    "bernoulli": [0.0, 1.0, 1.0, 0.25],
    "categorical": [1.0, 2.0, 2.0, 7.0],
    "poisson": [0.0, 3.0, 1.0, 8.0],
    "negative_binomial": [0.0, 3.0, 1.0, 8.0],
}


@pytest.mark.parametrize("kind", KINDS)
def test_a_kind_class_decides_the_schema_entries_its_columns_keep(kind):
    from skvae._schema import TableSchema
    from skvae._state import InvalidState, _schema_column

    cls = BLOCKS[kind]
    schema = TableSchema.fit(np.array([_KIND_DATA[kind]]).T, likelihood=kind)
    entry = schema.columns[0]
    # "digits" is written only where a column has no decimals (these columns have some).
    ranged = set(RANGE_ENTRIES) - {"digits"} if cls.keeps_range else set()
    assert set(entry) - {"name", "kind", "dtype"} == set(cls.constants) | ranged
    _schema_column(entry, "column")  # the state's check accepts what the kind wrote
    if cls.keeps_range:
        _schema_column({**entry, "decimals": None, "digits": 4}, "column")
        for digits in (0, 16, 2.5, "4", True):
            with pytest.raises(InvalidState, match="digits"):
                _schema_column({**entry, "decimals": None, "digits": digits}, "column")
    for name in cls.constants:
        with pytest.raises(InvalidState, match=name):
            _schema_column({key: value for key, value in entry.items() if key != name}, "column")
    with pytest.raises(InvalidState, match="unknown entries"):
        _schema_column({**entry, "not_an_entry": 1.0}, "column")
    # The block built from the kind's constants is the one the composite likelihood holds.
    (block,) = schema.likelihood().blocks
    assert type(block) is cls and block.columns == [0]


@pytest.mark.parametrize("kind", [kind for kind in KINDS if BLOCKS[kind].domain])
def test_a_kind_class_states_its_domain(kind):
    from skvae._schema import TableSchema

    schema = TableSchema.fit(np.array([_KIND_DATA[kind]]).T, likelihood=kind)
    with pytest.raises(ValueError, match=rf"likelihood=.*{kind}.*column 0.*-2\.5"):
        schema.raw_values(np.array([[-2.5]]))


# ---------------------------------------------------------------- heaped columns decode to their heaps

_HEAPS = np.array([8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0, 6.0, 9.0, 11.0, 13.0])
_HEAP_MASSES = np.array([0.12, 0.10, 0.38, 0.10, 0.15, 0.05, 0.02, 0.02, 0.02, 0.02, 0.02])


def _heaped_values(n=2000, seed=0):
    """Years of schooling: most rows on 8, 10, 12, 14, 16, a few between (exact masses, shuffled)."""
    counts = np.round(_HEAP_MASSES * n).astype(int)
    return np.random.default_rng(seed).permutation(np.repeat(_HEAPS, counts))


def _unit_normal_params(n, n_columns=1):
    """Decoder outputs for u ~ N(0, 1) in every column: mean 0, softplus(raw) + floor = 1."""
    raw = math.log(math.expm1(1.0 - VARIANCE_FLOOR))
    return torch.cat([torch.zeros(n, n_columns, dtype=D), torch.full((n, n_columns), raw, dtype=D)], dim=1)


def test_a_heaped_column_draws_its_heaps_in_their_proportions_and_scores_as_before():
    values = _heaped_values()
    entry = {name: per_column[0] for name, per_column in QuantileNormalBlock.fit_constants(values[:, None]).items()}
    assert entry["heaps"] == sorted(_HEAPS.tolist()) and len(entry["heap_scores"]) == len(_HEAPS) - 1
    block = QuantileNormalBlock.from_constants([0], QuantileNormalBlock.block_constants([entry]))
    draws = block.sample(_unit_normal_params(200_000), None, torch.Generator().manual_seed(0))[:, 0].numpy()
    # Every draw is a heap, each heap as often as in the training values (u ~ N(0, 1) is their own law).
    heaps, counts = np.unique(draws, return_counts=True)
    np.testing.assert_array_equal(heaps, np.sort(_HEAPS))
    expected = np.array([np.mean(values == h) for h in heaps])
    np.testing.assert_allclose(counts / draws.size, expected, atol=0.005)
    # The interpolating inverse (the same column without its heaps) puts most draws between them.
    plain = {key: value for key, value in entry.items() if not key.startswith("heap")}
    interpolating = QuantileNormalBlock.from_constants([0], QuantileNormalBlock.block_constants([plain]))
    between = interpolating.sample(_unit_normal_params(200_000), None, torch.Generator().manual_seed(0))
    assert np.mean(np.isin(np.round(between[:, 0].numpy()), _HEAPS, invert=True)) > 0.02
    assert np.mean(np.isin(between[:, 0].numpy(), _HEAPS)) < 0.01
    # Decoding only: the density of x is the same.
    u = torch.as_tensor(QuantileNormalBlock.encode(values[:50, None], QuantileNormalBlock.block_constants([entry])))
    params = _normal((50, 2), 3)
    torch.testing.assert_close(block.cell_log_prob(u, params, None), interpolating.cell_log_prob(u, params, None))


def test_only_columns_of_few_values_each_held_by_many_rows_are_heaped():
    rng = np.random.default_rng(1)
    heaped = _heaped_values(2000)
    continuous = rng.normal(size=2000)
    sparse = rng.permutation(np.arange(90.0).repeat(6))  # 90 values of 6 rows each: not heaps
    sparse = np.concatenate([sparse, np.full(2000 - sparse.size, np.nan)])  # (counted over observed rows)
    constants = QuantileNormalBlock.fit_constants(np.column_stack([heaped, continuous, sparse]))
    assert constants["heaps"][0] is not None
    assert constants["heaps"][1] is None and constants["heaps"][2] is None
    # In one block, the column without heaps keeps the interpolating inverse.
    entries = [{name: per_column[j] for name, per_column in constants.items() if per_column[j] is not None}
               for j in range(3)]
    block = QuantileNormalBlock.from_constants([0, 1, 2], QuantileNormalBlock.block_constants(entries))
    draws = block.sample(_unit_normal_params(20_000, 3), None, torch.Generator().manual_seed(1)).numpy()
    assert np.isin(draws[:, 0], _HEAPS).all()
    assert np.unique(draws[:, 1]).size == draws.shape[0]
    assert np.mean(np.isin(draws[:, 2], sparse)) < 0.01
    assert QuantileNormalBlock.fit_constants(np.tile(sparse[:540], 2)[:, None])["heaps"][0] is not None  # 12 each


def test_an_inflated_column_draws_its_spike_or_the_heaps_off_it():
    values = np.concatenate([np.zeros(3000), _heaped_values(2000)])
    entry = {name: per_column[0] for name, per_column in InflatedGaussianBlock.fit_constants(values[:, None]).items()}
    assert entry["spike"] == 0.0 and entry["heaps"] == sorted(_HEAPS.tolist())
    block = InflatedGaussianBlock.from_constants([0], InflatedGaussianBlock.block_constants([entry]))
    params = torch.cat([torch.zeros(100_000, 1, dtype=D), _unit_normal_params(100_000)], dim=1)
    draws = block.sample(params, None, torch.Generator().manual_seed(2))[:, 0].numpy()
    assert np.isin(draws, np.concatenate([[0.0], _HEAPS])).all()
    off = draws[draws != 0]
    expected = np.array([np.mean(values[values != 0] == h) for h in np.sort(_HEAPS)])
    np.testing.assert_allclose(np.unique(off, return_counts=True)[1] / off.size, expected, atol=0.01)


def test_the_state_check_refuses_heaps_that_do_not_fit_together():
    from skvae._schema import TableSchema
    from skvae._state import InvalidState, _schema_column

    schema = TableSchema.fit(_heaped_values()[:, None], likelihood="quantile_normal")
    entry = schema.columns[0]
    _schema_column(entry, "column")
    for broken in ({"heap_scores": entry["heap_scores"][:-1]}, {"heaps": entry["heaps"][::-1]},
                   {"heaps": [float("nan")] * len(entry["heaps"])}):
        with pytest.raises(InvalidState, match="heap"):
            _schema_column({**entry, **broken}, "column")
    with pytest.raises(InvalidState, match="heap"):
        _schema_column({key: value for key, value in entry.items() if key != "heap_scores"}, "column")
