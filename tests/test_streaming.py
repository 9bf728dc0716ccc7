"""partial_fit as a true streaming update: one epoch over each block, state kept.

The data is a linear-Gaussian model (x = W z + noise, 2 latent dimensions in
10 features), whose exact maximum-likelihood fit is probabilistic PCA, so
"the streamed model is as good as the in-memory one" can be measured against a
known optimum rather than only against another network.
"""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.decomposition import PCA

from skvae import VAETransformer

from _datasets import TRUE_LATENT_DIM, linear_gaussian, shift_scale

BATCH_SIZE = 128


def adam_steps(model):
    """The Adam step count of the model's optimizer (the same for every parameter)."""
    steps = {int(state["step"]) for state in model.optimizer_.state.values()}
    assert len(steps) == 1, steps
    return steps.pop()


@pytest.fixture(scope="module")
def stream():
    return np.split(linear_gaussian(2048, seed=1), 4)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_first_partial_fit_is_exactly_one_epoch_of_fit(stream):
    params = dict(latent_dim=2, hidden_layer_sizes=(16,), batch_size=BATCH_SIZE, random_state=0)
    streamed = VAETransformer(**params).partial_fit(stream[0])
    # partial_fit never holds out rows; fit on 500+ rows would (early_stopping="auto").
    fitted = VAETransformer(max_iter=1, early_stopping=False, **params).fit(stream[0])
    assert streamed.loss_curve_ == fitted.loss_curve_
    np.testing.assert_array_equal(streamed.transform(stream[1]), fitted.transform(stream[1]))


def test_optimizer_state_persists_across_calls(stream):
    model = VAETransformer(latent_dim=2, hidden_layer_sizes=(16,), batch_size=BATCH_SIZE, random_state=0)
    model.partial_fit(stream[0][:300])  # 3 minibatches
    optimizer = model.optimizer_
    assert adam_steps(model) == 3
    model.partial_fit(stream[1][:200])  # 2 more: a fresh optimizer would count 2
    assert model.optimizer_ is optimizer
    assert adam_steps(model) == 5


def test_each_call_appends_one_epoch_and_keeps_the_data_scaling(stream):
    model = VAETransformer(latent_dim=2, hidden_layer_sizes=(16,), batch_size=BATCH_SIZE, random_state=0)
    model.partial_fit(stream[0])
    shift, scale = shift_scale(model)
    for n_calls, block in enumerate(stream[1:] + stream, start=2):
        previous = list(model.loss_curve_)
        model.partial_fit(block)
        assert model.n_iter_ == n_calls
        assert model.loss_curve_[:-1] == previous and len(model.loss_curve_) == n_calls
        assert adam_steps(model) == n_calls * len(block) // BATCH_SIZE
    assert np.isfinite(model.loss_curve_).all()
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    assert model.best_loss_ == min(model.loss_curve_)
    # The standardization is fixed by the first block, so later blocks see the same units.
    np.testing.assert_array_equal(shift_scale(model)[0], shift)
    np.testing.assert_array_equal(shift_scale(model)[1], scale)


def test_partial_fit_ignores_max_iter_and_early_stopping(stream):
    model = VAETransformer(latent_dim=2, hidden_layer_sizes=(16,), max_iter=1, early_stopping=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning: max_iter does not apply
        model.partial_fit(stream[0]).partial_fit(stream[1])
    assert model.n_iter_ == 2
    assert model.validation_scores_ is None and model.best_validation_score_ is None


def test_a_block_with_other_features_is_refused_and_changes_nothing(stream):
    model = VAETransformer(latent_dim=2, hidden_layer_sizes=(16,), random_state=0).partial_fit(stream[0])
    with pytest.raises(ValueError, match="X has 5 features, but VAETransformer is expecting 10 features"):
        model.partial_fit(stream[1][:, :5])
    assert model.n_iter_ == 1 and len(model.loss_curve_) == 1


def test_a_pickled_model_continues_the_stream_identically(stream):
    # Dask moves the model between processes between blocks, as a pickle.
    model = VAETransformer(latent_dim=2, hidden_layer_sizes=(16,), batch_size=64, random_state=0)
    model.partial_fit(stream[0]).partial_fit(stream[1])
    restored = pickle.loads(pickle.dumps(model))
    assert adam_steps(restored) == adam_steps(model)
    model.partial_fit(stream[2])
    restored.partial_fit(stream[2])
    assert restored.loss_curve_ == model.loss_curve_
    np.testing.assert_array_equal(restored.transform(stream[3]), model.transform(stream[3]))


EPOCHS = 30
N_BLOCKS = 4

# Tolerance for |held-out score of the streamed model - that of the in-memory
# fit|, in nats per row. Both do the same number of Adam steps (asserted) on
# the same rows; they differ only in shuffling (within blocks vs across all
# rows) and in the standardization (first block vs all rows). Measured over 16
# seed/learning-rate pairs the gap was at most 0.05 nats, while in-memory fits
# that differ only in their seed spread over 0.12 nats: 0.1 is below that
# seed-to-seed spread, with 2x headroom over the largest gap. (This problem
# is easy: mistakes in the update, such as a reset optimizer, cost only ~0.1
# nats here; the tests above catch those directly.)
STREAMING_TOLERANCE = 0.1

# The ELBO is a lower bound and 30 epochs is finite training: both models must
# still be within this of the exact maximum likelihood (PCA's score; a model
# after one pass over one block is ~7 nats below it, a trained one 0.1-0.2).
DISTANCE_TO_OPTIMUM = 0.5


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("seed", [0, 1])
def test_streamed_model_scores_like_the_in_memory_fit(seed):
    X, X_test = linear_gaussian(4096, seed=1), linear_gaussian(2048, seed=2)
    params = dict(latent_dim=2, hidden_layer_sizes=(32,), batch_size=BATCH_SIZE, learning_rate=3e-3,
                  random_state=seed)
    # tol=0 with n_iter_no_change=EPOCHS never stops early: exactly EPOCHS epochs.
    # early_stopping=False: partial_fit never holds out rows, so neither may the fit it is compared with.
    in_memory = VAETransformer(max_iter=EPOCHS, tol=0.0, n_iter_no_change=EPOCHS, early_stopping=False,
                               **params).fit(X)
    streamed = VAETransformer(**params)
    for _ in range(EPOCHS):
        for block in np.split(X, N_BLOCKS):  # 1024 rows: whole minibatches, as in the fit
            streamed.partial_fit(block)

    assert streamed.n_iter_ == N_BLOCKS * in_memory.n_iter_
    assert adam_steps(streamed) == adam_steps(in_memory) == EPOCHS * len(X) // BATCH_SIZE
    in_memory_score, streamed_score = in_memory.score(X_test), streamed.score(X_test)
    assert abs(streamed_score - in_memory_score) <= STREAMING_TOLERANCE
    optimum = PCA(n_components=TRUE_LATENT_DIM).fit(X).score(X_test)
    assert min(in_memory_score, streamed_score) >= optimum - DISTANCE_TO_OPTIMUM
