"""VAETransformer's own behaviour beyond scikit-learn's generic checks."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from skvae import VAETransformer, _row_noise
from skvae._training import patience_epochs
from skvae._likelihoods import VARIANCE_FLOOR

from _datasets import shift_scale

# The fits here run a few epochs on purpose (behaviour, not quality, is under
# test); the warning that they stopped before converging is expected.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(300, 2))
    return np.tanh(latent @ rng.normal(size=(2, 5))) + 0.1 * rng.normal(size=(300, 5))


def _small(**params):
    defaults = dict(latent_dim=2, hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    return VAETransformer(**{**defaults, **params})


@pytest.fixture(scope="module")
def fitted(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _small().fit(data)


def test_fitted_attributes(fitted, data):
    assert fitted.n_features_in_ == 5
    assert fitted.n_iter_ == 5 == len(fitted.loss_curve_)
    assert fitted.best_loss_ == min(fitted.loss_curve_)
    assert fitted.validation_scores_ is None and fitted.best_validation_score_ is None
    assert fitted.device_ == ("cuda:0" if torch.cuda.is_available() else "cpu")
    assert isinstance(fitted.encoder_, torch.nn.Module) and isinstance(fitted.decoder_, torch.nn.Module)
    assert all(np.isfinite(fitted.loss_curve_))


def test_outputs_are_numpy_in_the_input_dtype(fitted, data):
    for dtype in (np.float32, np.float64):
        X = data.astype(dtype)
        for result in (fitted.transform(X), fitted.score_samples(X), fitted.inverse_transform(fitted.transform(X))):
            assert type(result) is np.ndarray and result.dtype == dtype
    assert isinstance(fitted.score(data), float)
    assert fitted.sample(3).dtype == np.float64


def test_float32_and_float64_inference_agree(fitted, data):
    np.testing.assert_allclose(fitted.transform(data.astype(np.float32)), fitted.transform(data), atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", ["transform", "score_samples"])
def test_a_rows_bits_do_not_depend_on_its_batch(fitted, data, dtype, method):
    # The float32 networks see padded row counts: one to three rows would
    # otherwise take another matrix kernel, with other last bits.
    X = data.astype(dtype)
    full = getattr(fitted, method)(X)
    for rows in (slice(0, 1), slice(1, 3), slice(7, 10), slice(3, 20), slice(290, 300)):
        np.testing.assert_array_equal(getattr(fitted, method)(X[rows]), full[rows])
    np.testing.assert_array_equal(getattr(fitted, method)(X[::-1]), full[::-1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_plain_array_path_gives_the_general_paths_bits(fitted, data, dtype, monkeypatch):
    # transform of a few plain float rows of an all-Gaussian model skips the
    # general encoding (VAEModel._transform_plain); it must not change a bit.
    X = data.astype(dtype)
    model = fitted._model
    assert model._transform_plain(X[:3], None) is not None  # the path is taken
    fast = [fitted.transform(X[start : start + n]) for n in range(1, 40) for start in (0, 5)]
    monkeypatch.setattr(type(model), "_transform_plain", lambda self, X, n_jobs: None)
    general = [fitted.transform(X[start : start + n]) for n in range(1, 40) for start in (0, 5)]
    for a, b in zip(fast, general):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_array_equal(a, b)


def test_the_plain_array_path_leaves_missing_and_extreme_rows_to_the_general_path(fitted, data):
    model = fitted._model
    X = data[:4].copy()
    X[1, 2] = np.nan
    assert model._transform_plain(X, None) is None
    X[1, 2] = 1e30
    assert model._transform_plain(X, None) is None
    assert model._transform_plain(data[:4].tolist(), None) is None


def test_float64_input_runs_the_training_networks_without_a_float64_copy(fitted, data):
    fitted.transform(data), fitted.score_samples(data)
    networks = fitted._model.networks(np.float64)
    assert networks._wide is None  # no float64 copy built for ordinary rows
    assert all(p.dtype == torch.float32 for p in fitted.encoder_.parameters())


def test_rows_beyond_float32_range_are_computed_in_float64_alone_or_in_a_batch(fitted, data):
    X = data[:6].copy()
    X[2] = 1e30  # standardized, beyond FLOAT32_SAFE: float32 layers could overflow
    Z = fitted.transform(X)
    assert np.all(np.isfinite(Z))
    np.testing.assert_array_equal(Z[2:3], fitted.transform(X[2:3]))
    np.testing.assert_array_equal(np.delete(Z, 2, axis=0), fitted.transform(np.delete(X, 2, axis=0)))
    scores = fitted.score_samples(X)
    assert scores[2] < -1e50 and np.all(np.isfinite(np.delete(scores, 2)))
    np.testing.assert_array_equal(np.delete(scores, 2), fitted.score_samples(np.delete(X, 2, axis=0)))


def test_transform_is_the_posterior_mean(fitted, data):
    shift, scale = shift_scale(fitted)
    x = torch.as_tensor((data - shift) / scale, dtype=torch.float32, device=fitted.device_)
    with torch.no_grad():
        mean, _ = fitted.encoder_(x)
    np.testing.assert_allclose(fitted.transform(data), mean.cpu().numpy(), atol=1e-5)


def test_score_samples_is_deterministic_and_tightens_with_importance_samples(fitted, data):
    np.testing.assert_array_equal(fitted.score_samples(data), fitted.score_samples(data))
    elbo = fitted.score(data)
    iwae = [fitted.score(data, n_importance=k) for k in (5, 50)]
    assert elbo < iwae[0] < iwae[1]


def test_score_is_the_elbo_whatever_beta(data):
    # beta weights the KL term during training only; scores are always the true ELBO.
    vae = _small(beta=4.0).fit(data)
    vae_as_beta_one = _small(beta=1.0).fit(data)
    assert vae.score(data) != vae_as_beta_one.score(data)
    eps = torch.as_tensor(_row_noise.standard_normal(_row_noise.row_keys(data, vae._seed), 1, 2)[0])
    with torch.inference_mode():
        networks = vae._model.networks(np.float64)
        eps = eps.to(networks.device)
        shift, scale = (torch.as_tensor(v, device=networks.device) for v in shift_scale(vae))
        x = (torch.as_tensor(data, device=networks.device) - shift) / scale
        mean, log_variance = networks.encoder(x)
        kl = 0.5 * (mean**2 + log_variance.exp() - 1 - log_variance).sum(-1)
        z = mean + torch.exp(0.5 * log_variance) * eps
        params, _ = networks.decoder(z)
        variance = VARIANCE_FLOOR + torch.nn.functional.softplus(params[:, 5:])
        reconstruction = torch.distributions.Normal(params[:, :5] * scale + shift, variance.sqrt() * scale).log_prob(
            torch.as_tensor(data, device=networks.device)).sum(-1)
        expected = reconstruction - kl
    np.testing.assert_allclose(vae.score_samples(data), expected.cpu().numpy(), rtol=1e-10)


def test_sample_draws_from_the_model(fitted):
    draws = fitted.sample(4000, random_state=1)
    means = fitted.sample(4000, random_state=1, return_mean=True)
    assert draws.shape == means.shape == (4000, 5)
    assert draws.var(0).sum() > means.var(0).sum()  # observation noise on top of the mean
    np.testing.assert_array_equal(draws, fitted.sample(4000, random_state=1))
    assert not np.array_equal(draws, fitted.sample(4000, random_state=2))


def test_bernoulli_samples_are_binary_and_means_are_probabilities():
    X = (np.random.default_rng(0).uniform(size=(100, 6)) > 0.5).astype(float)
    vae = _small(likelihood="bernoulli").fit(X)
    assert set(np.unique(vae.sample(50, random_state=0))) <= {0.0, 1.0}
    probabilities = vae.inverse_transform(vae.transform(X))
    assert probabilities.min() > 0 and probabilities.max() < 1


def test_inverse_transform_reconstructs(data):
    vae = VAETransformer(latent_dim=2, random_state=0, max_iter=100).fit(data)
    reconstruction = vae.inverse_transform(vae.transform(data))
    assert np.mean((reconstruction - data) ** 2) < 0.2 * np.mean((data - data.mean(0)) ** 2)


def test_random_state_repeats_the_fit_and_leaves_global_rngs_alone(data):
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    first, second = _small(random_state=7).fit(data), _small(random_state=7).fit(data)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state[1])
    for a, b in zip(first.encoder_.state_dict().values(), second.encoder_.state_dict().values()):
        assert torch.equal(a, b)
    assert first.loss_curve_ == second.loss_curve_
    assert _small(random_state=8).fit(data).loss_curve_ != first.loss_curve_


def test_early_stopping_records_validation_scores(data):
    vae = _small(early_stopping=True, max_iter=30, n_iter_no_change=3, tol=10.0).fit(data)
    assert vae.best_loss_ is None
    assert len(vae.validation_scores_) == vae.n_iter_ == len(vae.loss_curve_)
    assert vae.best_validation_score_ == max(vae.validation_scores_)
    # tol=10 nats cannot be met after the first epoch: three plateaus (two
    # learning-rate decays, then the stop) of at least 700 steps of 2 batches each.
    assert vae.n_iter_ == min(30, 1 + 3 * patience_epochs(3, 2, auto_budget=False))


def test_convergence_warning_at_max_iter(data):
    with pytest.warns(ConvergenceWarning, match="maximum iterations") as caught:
        _small(max_iter=3, n_iter_no_change=2, tol=0.0).fit(data)
    message = str(caught[0].message)
    assert "an int max_iter above 3 trains longer" in message and "'auto'" not in message


def test_the_warning_at_an_auto_budget_says_where_its_epochs_came_from(data, monkeypatch):
    from skvae import _training

    # A 15-epoch auto budget, so that the rule (three plateaus of at least 10 epochs) cannot end it.
    monkeypatch.setattr(_training, "AUTO_MIN_EPOCHS", 15)
    monkeypatch.setattr(_training, "AUTO_BUDGET_STEPS", 1)
    with pytest.warns(ConvergenceWarning, match=r"maximum iterations \(15\) reached") as caught:
        vae = _small(max_iter="auto", tol=0.0).fit(data)
    assert vae.n_iter_ == 15
    assert "the budget max_iter='auto' gives data of this size; an int max_iter above 15" in str(caught[0].message)


def test_no_convergence_warning_for_a_fixed_budget(data):
    # Patience as long as the budget: the rule cannot stop, so max_iter is the plan.
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        vae = _small(max_iter=3, n_iter_no_change=3).fit(data)
    assert vae.n_iter_ == 3


def test_warm_start_continues_and_partial_fit_appends(data):
    vae = _small(warm_start=True).fit(data)
    weights = vae.encoder_.mean_head.weight.detach().clone()
    vae.fit(data)
    assert vae.n_iter_ == 10 and len(vae.loss_curve_) == 10
    assert not torch.equal(weights, vae.encoder_.mean_head.weight)
    vae.partial_fit(data)
    assert vae.n_iter_ == 11

    cold = _small().fit(data)
    cold.fit(data)
    assert cold.n_iter_ == 5


def test_continuing_with_a_changed_architecture_is_refused(data):
    vae = _small(warm_start=True).fit(data)
    vae.set_params(latent_dim=3)
    with pytest.raises(ValueError, match="latent_dim=2.*latent_dim=3"):
        vae.fit(data)


@pytest.mark.parametrize(
    "device, message",
    [
        ("tpu", "'device' parameter"),
        ("not a device", "'device' parameter"),
        pytest.param(
            "cuda", "CUDA is not available",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present"),
        ),
    ],
)
def test_unknown_device_is_a_clear_error_at_fit(data, device, message):
    vae = _small(device=device)  # __init__ only stores it
    with pytest.raises(ValueError, match=message):
        vae.fit(data)


def test_device_auto_resolves_to_what_is_available(fitted):
    assert fitted.device_ == ("cuda:0" if torch.cuda.is_available() else "cpu")


def test_impossible_network_size_is_a_value_error_naming_the_parameter(data):
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        _small(hidden_layer_sizes=(10**12,)).fit(data)


def test_feature_names_out(fitted):
    np.testing.assert_array_equal(fitted.get_feature_names_out(), ["vaetransformer0", "vaetransformer1"])


def test_set_output_pandas(data):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(data, columns=list("abcde"))
    out = _small().set_output(transform="pandas").fit_transform(frame)
    assert list(out.columns) == ["vaetransformer0", "vaetransformer1"]
    assert list(out.index) == list(frame.index)


def test_inference_follows_the_fitted_likelihood_not_a_changed_parameter(fitted, data):
    # data lies outside [0, 1]: it is valid for the fitted Gaussian model, and a
    # later set_params only matters at the next fit.
    changed = _small().fit(data).set_params(likelihood="bernoulli")
    np.testing.assert_array_equal(changed.transform(data), fitted.transform(data))
    with pytest.raises(ValueError, match="bernoulli"):
        changed.fit(data)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "gelu", "identity"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_row_transform_runs_the_encoder_modules_arithmetic(data, activation, dtype):
    # transform's layer list (addmm on transposed weight views, in-place
    # activations) must give the bits of the encoder module's own forward on
    # the same padded float32 rows, a row alone as in a batch of rows (CPU:
    # rows padded to a multiple of ROW_MULTIPLE).
    model = _small(activation=activation, hidden_layer_sizes=(16, 8), max_iter=2, device="cpu").fit(data)
    X = data[:40].astype(dtype)
    full = model.transform(X)
    for row in (0, 17, 39):
        np.testing.assert_array_equal(model.transform(X[row : row + 1]), full[row : row + 1])
    encoded = model._model.rows(X, "error", with_noise=False)[0:40].values
    padded = torch.zeros((48, X.shape[1]), dtype=torch.float32)
    padded[:40] = torch.from_numpy(encoded)
    with torch.inference_mode():
        expected = model.encoder_.mean(padded)[:40].to(torch.from_numpy(full).dtype).numpy()
    np.testing.assert_array_equal(full, expected)


def test_the_transposed_weight_views_follow_training_in_place(data):
    # The inference cache keeps views of the training weights: a continued
    # fit changes what they compute, even if the cache were not cleared.
    model = _small(warm_start=True, max_iter=2, device="cpu").fit(data)
    networks = model._model.networks(np.float64)
    model.partial_fit(data)
    rows = torch.from_numpy(data[:16].astype(np.float32))
    with torch.inference_mode():
        np.testing.assert_array_equal(networks._narrow.mean(rows).numpy(), model.encoder_.mean(rows).numpy())


def test_an_empty_row_gets_the_prior_mean_alone_and_in_a_batch(fitted, data):
    X = data[:5].copy()
    X[3] = np.nan
    Z = fitted.transform(X)
    np.testing.assert_array_equal(Z[3], 0.0)
    np.testing.assert_array_equal(fitted.transform(X[3:4]), Z[3:4])
    np.testing.assert_array_equal(fitted.transform(X[:3]), Z[:3])


def test_extreme_rows_are_found_by_magnitude_whatever_else_the_batch_holds():
    from skvae._inference import FLOAT32_SAFE, _extreme_rows

    rows = torch.zeros((4, 3), dtype=torch.float64)
    assert _extreme_rows(rows) is None and _extreme_rows(rows[:0]) is None
    rows[1, 2] = -2 * FLOAT32_SAFE
    rows[3, 0] = np.nan  # a NaN is not extreme, and does not hide the row that is
    assert _extreme_rows(rows).tolist() == [False, True, False, False]
    rows[1, 2] = FLOAT32_SAFE  # at the bound: still float32's
    assert _extreme_rows(rows) is None
