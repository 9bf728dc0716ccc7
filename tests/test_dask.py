"""skvae on a real dask.distributed cluster (worker processes on loopback).

Needs the ``skvae[dask]`` extra; without it only the lean-import test runs.
One cluster (2 worker processes, 1 thread each) serves the whole module.
"""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from skvae import VAETransformer

from _datasets import N_FEATURES, linear_gaussian

pytestmark = pytest.mark.slow  # the quick set (-m 'not slow') leaves this module out

BLOCK_ROWS, N_BLOCKS, EPOCHS = 1024, 4, 30
SMALL = dict(hidden_layer_sizes=(32,), batch_size=128, learning_rate=3e-3)

# As in test_streaming.py, which derives it: streamed and in-memory fits with
# the same number of epochs agree within this many nats per row.
STREAMING_TOLERANCE = 0.1


def test_import_skvae_does_not_import_dask():
    code = (
        "import sys, skvae; "
        "print(sorted(m for m in sys.modules if m.partition('.')[0] in {'dask', 'distributed', 'dask_ml'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("dask_ml")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        # Both workers import torch and skvae at once, not each on its first task.
        client.run(exec, "import skvae")
        yield client


@pytest.fixture(scope="module")
def train_test():
    return linear_gaussian(N_BLOCKS * BLOCK_ROWS, seed=1), linear_gaussian(1024, seed=2)


def _worker_addresses(client):
    return set(client.scheduler_info()["workers"])


def _tasks_named(task_stream, prefix):
    """Tasks whose key is (name, index, ...) with name starting with `prefix` and index >= 0."""
    return [
        task for task in task_stream.data
        if isinstance(task["key"], tuple) and task["key"][0].startswith(prefix) and task["key"][1] >= 0
    ]


@pytest.fixture(scope="module")
def incremental_run(client, train_test):
    """Incremental training on the cluster: EPOCHS passes over a 4-block dask array."""
    import dask.array as da
    from dask_ml.wrappers import Incremental
    from distributed import get_task_stream

    X, _ = train_test
    X_dask = da.from_array(X, chunks=(BLOCK_ROWS, N_FEATURES))
    incremental = Incremental(VAETransformer(latent_dim=2, random_state=0, **SMALL), shuffle_blocks=False)
    with get_task_stream(client) as task_stream:
        incremental.fit(X_dask)
        for _ in range(EPOCHS - 1):
            incremental.partial_fit(X_dask)
    return incremental, task_stream


def test_incremental_runs_partial_fit_blockwise_on_the_workers(client, incremental_run):
    incremental, task_stream = incremental_run
    model = incremental.estimator_
    assert model.n_iter_ == len(model.loss_curve_) == EPOCHS * N_BLOCKS
    assert np.isfinite(model.loss_curve_).all()
    # dask-ml's partial_fit tasks are ("fit-<token>", i), i >= 0: one per block per
    # pass ((..., -1) holds the model sent in).
    fit_tasks = _tasks_named(task_stream, "fit-")
    assert len(fit_tasks) == EPOCHS * N_BLOCKS
    assert {task["worker"] for task in fit_tasks} <= _worker_addresses(client)


def test_incremental_equals_partial_fit_in_one_process(incremental_run, train_test):
    # The model travels between worker processes as a pickle after each block;
    # the result must be the same stream of updates as in one process.
    X, X_test = train_test
    model = incremental_run[0].estimator_
    local = VAETransformer(latent_dim=2, random_state=0, **SMALL)
    for _ in range(EPOCHS):
        for block in np.split(X, N_BLOCKS):
            local.partial_fit(block)
    # Bit for bit when this process also computes with one thread; with more,
    # torch's reductions round differently (measured: 2e-7 relative).
    np.testing.assert_allclose(model.loss_curve_, local.loss_curve_, rtol=1e-5)
    np.testing.assert_allclose(model.transform(X_test), local.transform(X_test), rtol=1e-4, atol=1e-5)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_incremental_model_scores_like_the_in_memory_fit(incremental_run, train_test):
    X, X_test = train_test
    model = incremental_run[0].estimator_
    in_memory = VAETransformer(
        latent_dim=2, random_state=0, max_iter=EPOCHS, tol=0.0, n_iter_no_change=EPOCHS,
        early_stopping=False, **SMALL  # the streamed model trains on every row too
    ).fit(X)
    streamed_score, in_memory_score = model.score(X_test), in_memory.score(X_test)
    assert np.isfinite(streamed_score)
    assert abs(streamed_score - in_memory_score) <= STREAMING_TOLERANCE


@pytest.fixture(scope="module")
def held_out_blocks(train_test):
    da = pytest.importorskip("dask.array")
    return da.from_array(train_test[1], chunks=(256, N_FEATURES))


def test_parallel_post_fit_transforms_a_dask_array_on_the_workers(client, incremental_run, held_out_blocks):
    from dask_ml.wrappers import ParallelPostFit
    from distributed import get_task_stream

    model = incremental_run[0].estimator_
    with get_task_stream(client) as task_stream:
        Z = ParallelPostFit(model).transform(held_out_blocks).compute()
    assert Z.shape == (held_out_blocks.shape[0], 2) and Z.dtype == np.float32
    np.testing.assert_allclose(Z, model.transform(held_out_blocks.compute()), rtol=1e-5, atol=1e-6)
    assert len(_tasks_named(task_stream, "_transform")) == held_out_blocks.numblocks[0]


def test_dask_ml_transform_metadata_keeps_the_input_width(incremental_run, held_out_blocks):
    # dask-ml 2025.1's ParallelPostFit.transform calls map_blocks without
    # `chunks`, so the lazy result claims the input's 10 columns while each
    # block holds latent_dim = 2 (true of any width-changing transformer, PCA
    # too). docs/examples/dask.rst therefore maps transform with explicit
    # chunks. If this fails, dask-ml has fixed it: simplify the docs.
    from dask_ml.wrappers import ParallelPostFit

    lazy = ParallelPostFit(incremental_run[0].estimator_).transform(held_out_blocks)
    assert lazy.shape[1] == N_FEATURES
    assert lazy.compute().shape[1] == 2


def test_map_blocks_with_explicit_chunks_gives_correct_metadata(incremental_run, held_out_blocks):
    model = incremental_run[0].estimator_
    Z = held_out_blocks.map_blocks(
        model.transform, chunks=(held_out_blocks.chunks[0], (model.latent_dim,)), dtype=held_out_blocks.dtype
    )
    assert Z.shape == (held_out_blocks.shape[0], model.latent_dim)
    np.testing.assert_allclose(Z.compute(), model.transform(held_out_blocks.compute()), rtol=1e-5, atol=1e-6)


def test_score_samples_blockwise_equals_in_memory(incremental_run, held_out_blocks):
    # Each row's Monte Carlo noise is a function of the row, so blocks do not matter.
    model = incremental_run[0].estimator_
    scores = held_out_blocks.map_blocks(model.score_samples, drop_axis=1, dtype=held_out_blocks.dtype)
    np.testing.assert_allclose(scores.compute(), model.score_samples(held_out_blocks.compute()), rtol=1e-5)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grid_search_on_the_cluster_finds_the_latent_dimension(client):
    import joblib
    from distributed import get_task_stream

    X = linear_gaussian(1536, seed=3)
    search_params = dict(
        estimator=VAETransformer(max_iter=15, random_state=0, **SMALL),
        param_grid={"latent_dim": [1, 2, 4]},
        cv=3,
    )
    search = GridSearchCV(n_jobs=-1, **search_params)
    with get_task_stream(client) as task_stream, joblib.parallel_backend("dask"):
        search.fit(X)
    ran_on = {task["worker"] for task in task_stream.data}
    assert ran_on and ran_on <= _worker_addresses(client)

    scores = dict(zip(search.cv_results_["param_latent_dim"], search.cv_results_["mean_test_score"]))
    assert np.isfinite(list(scores.values())).all()
    assert search.best_params_["latent_dim"] in (2, 4)
    # One latent dimension misses a direction of the data (5.6 nats in the exact linear model).
    assert scores[1] < scores[2] - 1.0

    serial = GridSearchCV(n_jobs=1, **search_params).fit(X)
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"], rtol=1e-4
    )
