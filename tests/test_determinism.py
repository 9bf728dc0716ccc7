"""Same data and random_state: the same model, bit for bit, whatever other threads do."""

import pickle
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from skvae import VAETransformer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(latent_dim=2, hidden_layer_sizes=(16, 8), batch_size=16, max_iter=8)


def _data(seed=0):
    return np.random.RandomState(seed).randn(120, 6)


def _assert_same_model(a, b):
    assert a.loss_curve_ == b.loss_curve_
    assert a.validation_scores_ == b.validation_scores_
    for net in ("encoder_", "decoder_"):
        state_a, state_b = getattr(a, net).state_dict(), getattr(b, net).state_dict()
        assert list(state_a) == list(state_b)
        for key in state_a:
            assert torch.equal(state_a[key], state_b[key]), f"{net}.{key}"
    moments_a, moments_b = a.optimizer_.state_dict()["state"], b.optimizer_.state_dict()["state"]
    assert list(moments_a) == list(moments_b)
    for index in moments_a:
        for key in moments_a[index]:
            assert torch.equal(moments_a[index][key], moments_b[index][key]), f"optimizer[{index}].{key}"


def _different_models(a, b):
    return any(
        not torch.equal(p, q) for p, q in zip(a.encoder_.parameters(), b.encoder_.parameters())
    )


@pytest.mark.parametrize(
    "params",
    [{}, {"early_stopping": True}, {"likelihood": "bernoulli", "activation": "tanh"}],
    ids=["gaussian", "early-stopping", "bernoulli"],
)
def test_same_seed_same_model(params):
    X = _data()
    if params.get("likelihood") == "bernoulli":
        X = (X > 0).astype(float)
    first = VAETransformer(**SMALL, **params, random_state=7).fit(X)
    second = VAETransformer(**SMALL, **params, random_state=7).fit(X)
    _assert_same_model(first, second)
    np.testing.assert_array_equal(first.sample(5), second.sample(5))
    other_seed = VAETransformer(**SMALL, **params, random_state=8).fit(X)
    assert _different_models(first, other_seed)


def test_same_seed_same_model_with_partial_fit_and_warm_start():
    X = _data()
    runs = []
    for _ in range(2):
        estimator = VAETransformer(**SMALL, random_state=3, warm_start=True)
        estimator.partial_fit(X[:60]).partial_fit(X[60:])
        estimator.set_params(max_iter=3).fit(X)
        runs.append(estimator)
    _assert_same_model(*runs)


def test_seeded_fit_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    VAETransformer(**SMALL, random_state=0).fit(_data())
    assert torch.equal(torch.rand(3), expected)


def _busy_matmuls(stop):
    a = torch.randn(256, 256)
    while not stop.is_set():
        a = torch.tanh(a @ a)


def _other_fits(stop):
    X = _data(seed=1)
    while not stop.is_set():
        VAETransformer(**SMALL, random_state=None).fit(X)


@pytest.mark.parametrize("background", [_busy_matmuls, _other_fits], ids=["matmuls", "another-fit"])
def test_same_model_while_other_threads_use_torch(background):
    X = _data()
    alone = VAETransformer(**SMALL, random_state=11).fit(X)
    stop = threading.Event()
    worker = threading.Thread(target=background, args=(stop,), daemon=True)
    worker.start()
    try:
        busy = VAETransformer(**SMALL, random_state=11).fit(X)
    finally:
        stop.set()
        worker.join()
    _assert_same_model(alone, busy)


def test_concurrent_inference_matches_single_threaded():
    X = _data()
    fitted = VAETransformer(**SMALL, random_state=0).fit(X)
    reference = pickle.loads(pickle.dumps(fitted))
    # A fresh copy: its float64 networks get built while the threads race for them.
    shared = pickle.loads(pickle.dumps(fitted))
    blocks = [np.random.RandomState(seed).randn(50 + seed, 6) for seed in range(12)]
    calls = [
        (method, block.astype(dtype))
        for block in blocks
        for method in ("transform", "score_samples")
        for dtype in (np.float64, np.float32)
    ]
    expected = [getattr(reference, method)(block) for method, block in calls]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda call: getattr(shared, call[0])(call[1]), calls))
    for (method, block), result, wanted in zip(calls, results, expected):
        assert result.dtype == block.dtype
        np.testing.assert_array_equal(result, wanted, err_msg=method)


def test_concurrent_sampling_matches_single_threaded():
    fitted = VAETransformer(**SMALL, random_state=0).fit(_data())
    expected = [fitted.sample(20, random_state=seed) for seed in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda seed: fitted.sample(20, random_state=seed), range(16)))
    for result, wanted in zip(results, expected):
        np.testing.assert_array_equal(result, wanted)
