"""Ctrl-C during fit: a warning, and a usable model with the best weights so far."""

import io

import numpy as np
import pytest
import torch

import skvae
import skvae._training
from skvae import VAETransformer
from skvae._model import VAEModel, network_spec, new_seed
from skvae._schema import TableSchema
from skvae._validation import training_params

from _datasets import first_epochs_of_a_long_fit

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(latent_dim=2, hidden_layer_sizes=(8,), batch_size=8, random_state=0)
N_ROWS = 40
STEPS_PER_EPOCH = N_ROWS // SMALL["batch_size"]


def _data():
    return np.random.RandomState(0).randn(N_ROWS, 4)


def _interrupt_epoch(monkeypatch, epoch):
    """Ctrl-C at the start of the `epoch`-th epoch run from now on."""
    real_run_epoch = skvae._training.Trainer.run_epoch
    calls = {"n": 0}

    def run_epoch(self, X):
        calls["n"] += 1
        if calls["n"] == epoch:
            raise KeyboardInterrupt
        return real_run_epoch(self, X)

    monkeypatch.setattr(skvae._training.Trainer, "run_epoch", run_epoch)


def _interrupt_step(monkeypatch, step):
    """Ctrl-C after `step` Adam steps from now on: in the middle of an epoch."""
    real_train_step = skvae._training.Trainer.train_step
    calls = {"n": 0}

    def train_step(self, *batch):
        calls["n"] += 1
        if calls["n"] > step:
            raise KeyboardInterrupt
        return real_train_step(self, *batch)

    monkeypatch.setattr(skvae._training.Trainer, "train_step", train_step)


def _same_weights(a, b):
    return all(
        torch.equal(p.cpu(), q.cpu())
        for net in ("encoder_", "decoder_")
        for p, q in zip(getattr(a, net).parameters(), getattr(b, net).parameters())
    )


def test_interrupt_between_epochs_keeps_the_finished_epochs(monkeypatch):
    X = _data()
    reference = first_epochs_of_a_long_fit(VAETransformer(**SMALL, max_iter=3), X, monkeypatch)
    _interrupt_epoch(monkeypatch, 4)
    estimator = VAETransformer(**SMALL, max_iter=50)
    with pytest.warns(UserWarning, match="Training interrupted by the user during epoch 4.*best weights so far"):
        estimator.fit(X)
    assert estimator.n_iter_ == 3
    assert estimator.loss_curve_ == reference.loss_curve_
    assert estimator.best_loss_ == min(reference.loss_curve_)
    assert _same_weights(estimator, reference)
    assert np.all(np.isfinite(estimator.transform(X)))
    assert np.isfinite(estimator.score(X))


def test_interrupt_mid_epoch_rolls_back_the_partial_epoch(monkeypatch):
    X = _data()
    reference = first_epochs_of_a_long_fit(VAETransformer(**SMALL, max_iter=3), X, monkeypatch)
    _interrupt_step(monkeypatch, 3 * STEPS_PER_EPOCH + 2)  # two steps into epoch 4
    estimator = VAETransformer(**SMALL, max_iter=50)
    with pytest.warns(UserWarning, match="interrupted by the user during epoch 4"):
        estimator.fit(X)
    assert estimator.n_iter_ == 3
    assert _same_weights(estimator, reference)


def test_warm_start_continues_after_an_interrupt(monkeypatch):
    X = _data()
    _interrupt_epoch(monkeypatch, 4)
    estimator = VAETransformer(**SMALL, max_iter=50, warm_start=True)
    with pytest.warns(UserWarning, match="interrupted"):
        estimator.fit(X)
    interrupted_curve = list(estimator.loss_curve_)
    monkeypatch.undo()
    estimator.set_params(max_iter=4).fit(X)
    assert estimator.n_iter_ == 3 + 4
    assert len(estimator.loss_curve_) == 3 + 4
    assert estimator.loss_curve_[:3] == interrupted_curve
    assert np.all(np.isfinite(estimator.loss_curve_))
    assert np.all(np.isfinite(estimator.transform(X)))


def test_interrupt_with_early_stopping_restores_the_best_validation_epoch(monkeypatch):
    X = _data()
    params = dict(SMALL, early_stopping=True, validation_fraction=0.25, learning_rate=0.05)
    reference = first_epochs_of_a_long_fit(VAETransformer(**params, max_iter=8), X, monkeypatch)
    best_epoch = int(np.argmax(reference.validation_scores_)) + 1
    assert best_epoch < 8, "the best epoch must not be the last, or restoring it proves nothing"
    _interrupt_epoch(monkeypatch, 9)
    estimator = VAETransformer(**params, max_iter=50)
    with pytest.warns(UserWarning, match="interrupted by the user during epoch 9"):
        estimator.fit(X)
    assert estimator.n_iter_ == 8
    assert estimator.validation_scores_ == reference.validation_scores_
    assert estimator.best_validation_score_ == max(reference.validation_scores_)
    # Both runs end on the best validation epoch's weights, not on epoch 8's:
    # the weights a run stopped at that epoch ends with.
    assert _same_weights(estimator, reference)
    assert _same_weights(estimator, first_epochs_of_a_long_fit(VAETransformer(**params, max_iter=best_epoch), X,
                                                               monkeypatch))


def test_interrupt_in_partial_fit_keeps_the_model(monkeypatch):
    X = _data()
    estimator = VAETransformer(**SMALL, max_iter=2).fit(X)
    before = estimator.transform(X)
    _interrupt_step(monkeypatch, 1)
    with pytest.warns(UserWarning, match="interrupted by the user during epoch 3"):
        estimator.partial_fit(X)
    assert estimator.n_iter_ == 2
    np.testing.assert_array_equal(estimator.transform(X), before)


def test_interrupt_in_the_first_epoch_leaves_the_initial_model(monkeypatch):
    X = _data()
    _interrupt_step(monkeypatch, 1)
    estimator = VAETransformer(**SMALL, max_iter=5, warm_start=True)
    with pytest.warns(UserWarning, match="interrupted by the user during epoch 1"):
        estimator.fit(X)
    assert estimator.n_iter_ == 0
    assert estimator.loss_curve_ == []
    untrained = VAETransformer(**SMALL, max_iter=1)
    schema = TableSchema.fit(X)
    spec = network_spec(schema.likelihood(), training_params(untrained))
    untrained._model = VAEModel(schema, spec, "cpu", new_seed(np.random.RandomState(SMALL["random_state"])), 1e-3)
    assert _same_weights(estimator, untrained)
    assert np.all(np.isfinite(estimator.transform(X)))
    monkeypatch.undo()
    estimator.fit(X)
    assert estimator.n_iter_ == 5


def test_interrupted_model_survives_save_and_load(monkeypatch):
    X = _data()
    _interrupt_epoch(monkeypatch, 3)
    estimator = VAETransformer(**SMALL, max_iter=50)
    with pytest.warns(UserWarning, match="interrupted"):
        estimator.fit(X)
    buffer = io.BytesIO()
    skvae.save(estimator, buffer)
    restored = skvae.load(io.BytesIO(buffer.getvalue()))
    assert restored.n_iter_ == 2
    np.testing.assert_array_equal(restored.transform(X), estimator.transform(X))


# ------------------------------------------------------------ a continued fit that fails after training


def _trained_state(estimator):
    model = estimator._model
    weights = [p.detach().clone() for p in model._parameters()]
    adam = {i: {k: v.clone() for k, v in state.items()} for i, state in model.optimizer.state_dict()["state"].items()}
    return weights, adam, model.n_iter, list(model.loss_curve)


@pytest.mark.parametrize("call", ["warm_start", "partial_fit"])
def test_a_continued_fit_that_fails_after_training_leaves_weights_and_adams_state_as_they_were(monkeypatch, call):
    # Training runs its epochs in place; the latent mixture after it fails: the call must change nothing.
    X = np.random.default_rng(0).normal(size=(60, 3))
    estimator = VAETransformer(latent_dim=2, hidden_layer_sizes=(4,), max_iter=3, batch_size=16, random_state=0,
                               warm_start=call == "warm_start").fit(X)
    weights, adam, n_iter, curve = _trained_state(estimator)
    scores = estimator.score_samples(X)

    def broken_mixture(*args, **kwargs):
        raise RuntimeError("mixture failed")

    monkeypatch.setattr(skvae._estimator, "fit_latent_mixture", broken_mixture)
    with pytest.raises(RuntimeError, match="mixture failed"):
        estimator.fit(X) if call == "warm_start" else estimator.partial_fit(X)
    after_weights, after_adam, after_n_iter, after_curve = _trained_state(estimator)
    assert (after_n_iter, after_curve) == (n_iter, curve)
    assert all(torch.equal(a, b) for a, b in zip(weights, after_weights))
    assert adam.keys() == after_adam.keys()
    assert all(torch.equal(adam[i][k], after_adam[i][k]) for i in adam for k in adam[i])
    np.testing.assert_array_equal(estimator.score_samples(X), scores)
    monkeypatch.undo()
    estimator.partial_fit(X)  # and it trains on from there
    assert estimator.n_iter_ == n_iter + 1


def _adam_state(estimator):
    state = estimator.optimizer_.state_dict()["state"]
    return {k: {name: value.clone() for name, value in v.items()} for k, v in state.items()}


@pytest.mark.parametrize("steps_into_epoch", [0, 2])
def test_interrupt_mid_epoch_puts_adams_moments_back_too(monkeypatch, steps_into_epoch):
    # The partial epoch's steps moved Adam's moments and step counts on; the weights are undone to the epoch's
    # start, and so is Adam's state, so that a continued fit starts where the whole epochs left off.
    X = _data()
    reference = first_epochs_of_a_long_fit(VAETransformer(**SMALL, max_iter=3), X, monkeypatch)
    _interrupt_step(monkeypatch, 3 * STEPS_PER_EPOCH + steps_into_epoch)
    estimator = VAETransformer(**SMALL, max_iter=50)
    with pytest.warns(UserWarning, match="interrupted by the user during epoch 4"):
        estimator.fit(X)
    expected, actual = _adam_state(reference), _adam_state(estimator)
    assert expected.keys() == actual.keys()
    for key in expected:
        for name in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(actual[key][name], expected[key][name]), (key, name)


def test_interrupt_in_the_first_steps_leaves_adam_without_state(monkeypatch):
    _interrupt_step(monkeypatch, 2)  # two steps into the first epoch of a fresh fit
    estimator = VAETransformer(**SMALL, max_iter=50)
    with pytest.warns(UserWarning, match="interrupted by the user during epoch 1"):
        estimator.fit(_data())
    assert estimator.optimizer_.state_dict()["state"] == {}
