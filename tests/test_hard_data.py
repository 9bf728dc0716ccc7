"""Hard data gives a sound model; divergence stops cleanly and keeps the last good weights."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from torch.nn import functional as F

import skvae._training
from skvae import VAETransformer
from skvae._likelihoods import LOG_2PI, VARIANCE_FLOOR

from _datasets import first_epochs_of_a_long_fit, shift_scale

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(latent_dim=2, hidden_layer_sizes=(8,), batch_size=8, random_state=0)


def _rng():
    return np.random.RandomState(0)


def _scales(n=40):
    rng = _rng()
    return np.c_[rng.randn(n) * 1e-6, rng.randn(n) * 1e6, rng.randn(n), 1e6 + rng.randn(n) * 1e-3]


def _constant_and_duplicated(n=40):
    rng = _rng()
    a = rng.randn(n)
    return np.c_[a, a, np.full(n, 7.0), np.zeros(n), rng.randn(n)]


HARD_DATA = {
    "scales-1e-6-and-1e6": _scales(),
    "constant-and-duplicated-columns": _constant_and_duplicated(),
    "single-row": _rng().randn(1, 4),
    "two-identical-rows": np.repeat(_rng().randn(1, 4), 2, axis=0),
    "all-rows-identical": np.repeat(_rng().randn(1, 3), 30, axis=0),
    "integers": _rng().randint(-5, 100, size=(40, 4)),
    "booleans": _rng().rand(40, 4) > 0.5,
    "magnitudes-1e300-and-1e-300": np.c_[_rng().randn(40) * 1e300, _rng().randn(40) * 1e-300],
    "single-feature": _rng().randn(40, 1),
}


def _floor_bound(estimator, n_features):
    """An upper bound on any row's ELBO that only the variance floor provides.

    log N(x; m, v) <= -(log 2 pi + log v) / 2 <= -(log 2 pi + log floor) / 2 per
    standardized feature, KL >= 0, plus the log-Jacobian of the standardization.
    """
    return n_features * -0.5 * (LOG_2PI + np.log(VARIANCE_FLOOR)) - np.sum(np.log(shift_scale(estimator)[1]))


@pytest.mark.parametrize("X", HARD_DATA.values(), ids=HARD_DATA.keys())
def test_hard_data_gives_a_sound_model(X):
    estimator = VAETransformer(**SMALL, max_iter=40).fit(X)
    assert np.all(np.isfinite(estimator.loss_curve_))
    for dtype in (np.float64, np.float32):
        if dtype == np.float32 and np.abs(X).max() > 1e30:
            continue  # beyond float32's range: float64 only
        Xd = np.asarray(X, dtype=dtype)
        Z = estimator.transform(Xd)
        assert np.all(np.isfinite(Z))
        scores = estimator.score_samples(Xd)
        assert np.all(np.isfinite(scores))
        assert np.all(scores <= _floor_bound(estimator, X.shape[1]) + 1e-3)
        assert np.all(np.isfinite(estimator.score_samples(Xd, n_importance=3)))
        assert np.isfinite(estimator.score(Xd))
        assert np.all(np.isfinite(estimator.inverse_transform(Z)))
    assert np.all(np.isfinite(estimator.sample(5)))


def test_variance_floor_holds_a_constant_column():
    """A constant column pulls its decoder variance to the floor, and the floor alone keeps scores finite."""
    X = _constant_and_duplicated(32)
    estimator = VAETransformer(**SMALL, learning_rate=3e-2, max_iter=40, tol=0.0, n_iter_no_change=40).fit(X)
    with torch.no_grad():
        Z = torch.from_numpy(estimator.transform(X.astype(np.float32))).to(estimator.device_)
        params, _ = estimator.decoder_(Z)
        variance = VARIANCE_FLOOR + F.softplus(params[:, X.shape[1]:])
    constant_columns = [2, 3]
    # Training drives these variances to the floor: without it, they would go to 0
    # and the scores to +infinity.
    assert variance[:, constant_columns].max() < 1.5 * VARIANCE_FLOOR
    assert variance.min() >= VARIANCE_FLOOR
    scores = estimator.score_samples(X)
    assert np.all(np.isfinite(scores))
    assert np.all(scores <= _floor_bound(estimator, X.shape[1]))


def test_integer_data_is_fitted_as_its_float64_values():
    X = _rng().randint(0, 10, size=(40, 4))
    from_int = VAETransformer(**SMALL, max_iter=5).fit(X)
    from_float = VAETransformer(**SMALL, max_iter=5).fit(X.astype(np.float64))
    assert from_int.loss_curve_ == from_float.loss_curve_
    for a, b in zip(from_int.encoder_.parameters(), from_float.encoder_.parameters()):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(from_int.transform(X), from_float.transform(X.astype(np.float64)))


def test_extreme_new_rows_raise_instead_of_returning_nan():
    X = _rng().randn(40, 10)
    estimator = VAETransformer(**SMALL, max_iter=2).fit(X)
    with torch.no_grad():
        # All-positive first layer: ten values of 3e38 sum past float32's range.
        estimator.encoder_.trunk[0].weight.fill_(1.0)
    estimator._model.inference_cache.clear()
    extreme = np.full((3, 10), 3e38, dtype=np.float32)
    extreme[0] = X[0]
    for method in ("transform", "score_samples"):
        # The refusal says it all: no NumPy "overflow encountered in cast" beside it.
        with warnings.catch_warnings(), pytest.raises(ValueError, match="overflowed on 2 of 3 rows \\(rows 1, 2\\).*column.*float64 input has a far wider range than float32"):
            warnings.simplefilter("error", RuntimeWarning)
            getattr(estimator, method)(extreme)
    assert np.all(np.isfinite(estimator.transform(X.astype(np.float32))))


def test_extreme_outlier_scores_minus_infinity_not_nan():
    estimator = VAETransformer(**SMALL, max_iter=2).fit(_rng().randn(40, 3))
    with pytest.warns(UserWarning, match=r"row 0\) lies below float64's range"):  # named since 0.14.0
        scores = estimator.score_samples(np.array([[1e200, 1e200, 1e200], [0.0, 0.0, 0.0]]))
    assert scores[0] == -np.inf  # a log-density below -1e308, as an IEEE float
    assert np.isfinite(scores[1])


# ------------------------------------------------------------ divergence


def _poison_epoch(monkeypatch, bad_epoch, poison):
    """Run real epochs, but apply `poison(trainer)` at the start of epoch `bad_epoch` (1-based, this fit)."""
    real_run_epoch = skvae._training.Trainer.run_epoch
    calls = {"n": 0}

    def run_epoch(self, X):
        calls["n"] += 1
        if calls["n"] == bad_epoch:
            return poison(self, real_run_epoch, X)
        return real_run_epoch(self, X)

    monkeypatch.setattr(skvae._training.Trainer, "run_epoch", run_epoch)


def _nan_loss_and_weights(trainer, real_run_epoch, X):
    real_run_epoch(trainer, X)
    with torch.no_grad():
        trainer.encoder.mean_head.weight.fill_(float("nan"))
    return float("nan")


def _same_weights(a, b):
    return all(
        torch.equal(p, q)
        for net in ("encoder_", "decoder_")
        for p, q in zip(getattr(a, net).parameters(), getattr(b, net).parameters())
    )


def test_nan_epoch_stops_and_keeps_the_last_good_weights(monkeypatch):
    X = _rng().randn(40, 4)
    reference = first_epochs_of_a_long_fit(VAETransformer(**SMALL, max_iter=2), X, monkeypatch)
    _poison_epoch(monkeypatch, 3, _nan_loss_and_weights)
    estimator = VAETransformer(**SMALL, max_iter=10)
    with pytest.warns(ConvergenceWarning, match="training loss became nan in epoch 3.*weights of the last good epoch"):
        estimator.fit(X)
    assert estimator.n_iter_ == 2
    assert estimator.loss_curve_ == reference.loss_curve_
    assert _same_weights(estimator, reference)
    assert np.all(np.isfinite(estimator.transform(X)))
    assert np.all(np.isfinite(estimator.score_samples(X)))


def test_nan_in_the_first_epoch_is_an_error_and_leaves_no_model(monkeypatch):
    _poison_epoch(monkeypatch, 1, _nan_loss_and_weights)
    estimator = VAETransformer(**SMALL, max_iter=10)
    with pytest.raises(ValueError, match="training loss became nan in epoch 1.*No finite epoch was reached"):
        estimator.fit(_rng().randn(40, 4))
    with pytest.raises(NotFittedError):
        estimator.transform(_rng().randn(3, 4))


def test_nan_in_partial_fit_keeps_the_fitted_model(monkeypatch):
    X = _rng().randn(40, 4)
    estimator = VAETransformer(**SMALL, max_iter=3).fit(X)
    before = estimator.transform(X)
    _poison_epoch(monkeypatch, 1, _nan_loss_and_weights)
    with pytest.warns(ConvergenceWarning, match="training loss became nan in epoch 4"):
        estimator.partial_fit(X)
    assert estimator.n_iter_ == 3
    np.testing.assert_array_equal(estimator.transform(X), before)


class _NaNGradient(torch.autograd.Function):
    """Identity forward, NaN backward: a finite loss whose step breaks the weights."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * float("nan")


def test_weights_broken_by_the_last_step_count_as_divergence(monkeypatch):
    X = _rng().randn(40, 4)
    reference = first_epochs_of_a_long_fit(VAETransformer(**SMALL, max_iter=2), X, monkeypatch)
    real_negative_elbo = skvae._training.negative_elbo
    steps = {"n": 0}
    steps_per_epoch = -(-40 // SMALL["batch_size"])

    def negative_elbo(*args, **kwargs):
        steps["n"] += 1
        loss = real_negative_elbo(*args, **kwargs)
        # The last step of epoch 3: its loss is finite, its update is NaN.
        return _NaNGradient.apply(loss) if steps["n"] == 3 * steps_per_epoch else loss

    monkeypatch.setattr(skvae._training, "negative_elbo", negative_elbo)
    estimator = VAETransformer(**SMALL, max_iter=10)
    with pytest.warns(ConvergenceWarning, match="weights became non-finite in epoch 3"):
        estimator.fit(X)
    assert estimator.n_iter_ == 2
    assert _same_weights(estimator, reference)
    assert np.all(np.isfinite(estimator.transform(X)))


def test_training_continues_after_a_divergence(monkeypatch):
    """The optimizer's moments of the diverged epoch are dropped, so warm_start recovers."""
    X = _rng().randn(40, 4)
    real_negative_elbo = skvae._training.negative_elbo
    steps = {"n": 0}

    def negative_elbo(*args, **kwargs):
        steps["n"] += 1
        loss = real_negative_elbo(*args, **kwargs)
        return loss * float("nan") if steps["n"] == 12 else loss  # a NaN batch in epoch 3

    monkeypatch.setattr(skvae._training, "negative_elbo", negative_elbo)
    estimator = VAETransformer(**SMALL, max_iter=10, warm_start=True)
    with pytest.warns(ConvergenceWarning, match="training loss became nan in epoch 3"):
        estimator.fit(X)
    assert estimator.n_iter_ == 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.set_params(max_iter=3).fit(X)
    assert not [w for w in caught if "became" in str(w.message)]
    assert estimator.n_iter_ == 5
    assert np.all(np.isfinite(estimator.loss_curve_))
    for parameter in estimator.encoder_.parameters():
        assert torch.isfinite(parameter).all()


@pytest.mark.parametrize("batch_size", [8, 64])
def test_absurd_learning_rate_gives_a_clear_error_or_a_finite_model(batch_size):
    X = _rng().randn(40, 4)
    estimator = VAETransformer(**{**SMALL, "batch_size": batch_size}, learning_rate=1e12, max_iter=5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            estimator.fit(X)
        except ValueError as error:
            assert "learning_rate is too large" in str(error)
            assert not estimator.__sklearn_is_fitted__()
            return
    assert any("learning_rate is too large" in str(w.message) for w in caught)
    assert np.all(np.isfinite(estimator.loss_curve_))
    assert np.all(np.isfinite(estimator.transform(X)))
    assert not np.any(np.isnan(estimator.score_samples(X)))
