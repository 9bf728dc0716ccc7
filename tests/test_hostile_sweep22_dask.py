"""Hostile sweep 22: Dask and out-of-core use.

Swept and found sound: a Dask array given to ``fit``, ``partial_fit``,
``transform``, ``fit_transform``, ``score``, ``score_samples``,
``inverse_transform`` (VAETransformer), the imputer's ``fit``/``transform``
and the detector's ``fit``/``score_samples``/``predict``/
``decision_function`` (the same results as the NumPy array it holds), also
with chunks of unknown size (``nan`` chunks after a boolean filter) and a
Dask array of conditions in ``sample(given=...)``; dask-ml's
``ParallelPostFit`` around a fitted VAETransformer (``transform`` and
``score(X, None)`` equal to the NumPy path, float64, the input's row chunks;
the lazy result's width is dask-ml's, documented in docs/examples/dask.rst)
and around a VAEOutlierDetector (``predict``, int64, equal), also over a
Dask DataFrame with a categorical column (dask-ml hands each partition as a
pandas DataFrame: the refusal below is of a Dask DataFrame itself); float32
input keeps float32 through ``ParallelPostFit``; dask-ml's
``Incremental`` (one ``partial_fit`` per block, equal to calling
``partial_fit`` per block in one process); ``GridSearchCV`` under joblib's
``"dask"`` backend on a ``LocalCluster(processes=False, n_workers=1)``
(the same ``cv_results_`` as in one process); fitted estimators pickled to
a worker and back (``transform`` equal there, ``partial_fit`` continues),
and through ``distributed.protocol.serialize`` (what a worker process
gets: the same results, and the optimizer state, so the next block trains
alike); torch's thread count unchanged by fits on an in-process worker
(one thread and two), and one thread in a worker process (Dask's ``OMP_NUM_THREADS=1``); a Dask
DataFrame's partitions fed to ``partial_fit`` (the documented loop) with
unknown categories (each partition's categories, in any order, read by
value: the model is that of the same partitions with object columns).
A block of 0 rows given to ``partial_fit`` is refused with scikit-learn's
"Found array with 0 sample(s)", which the estimator checks expect; kept.

Each family below failed once (see the commit that added its tests):

- **Dask DataFrames and Series** (``skvae._input._computed_dask_array``):
  every entry point (``fit``, ``partial_fit``, ``transform``,
  ``score_samples``, ``score``, the imputer's and detector's, and
  ``sample(given=)``) failed inside validation with Dask's own "Trying to
  convert <dask_expr.expr.Scalar ...> to a boolean value", naming neither
  X nor the fix. Decided: refused (a TypeError naming X, the Dask
  collection, ``.compute()`` and the documented partition loop), not
  computed, as a polars LazyFrame is (sweep 10): it is a query, often a
  scan of files larger than memory, and computing it would run it as a
  side effect of a call that reads a table. The class is recognised by
  its module in ``dask`` or ``dask_expr`` (where Dask's DataFrame lived
  from 2024.3 to 2025.1; skvae allows dask>=2024.1).
- **Dask arrays computed more than once** (same function): each
  ``np.asarray`` of a validation pass recomputed the whole graph, twice in
  the imputer's ``fit`` and ``transform`` and in the detector's
  ``score_samples``, and scikit-learn's copy check handed the lazy array
  to ``np.may_share_memory``, which leaked Dask's FutureWarning ("not
  implemented by Dask array") to the caller. Decided: a Dask array is
  accepted (it implements NumPy's ``__array__`` for NumPy's readers, and
  skvae accepted it before) and computed once, at the input adapter.
- **A masked Dask array lost its mask** (same function): the adapter's
  ``numpy.ma`` check saw a Dask array, not a masked one, and scikit-learn's
  ``np.asarray`` then computed it to a masked array and dropped the mask:
  the values under it were fitted as observed. The Dask array is computed
  before that check, so its masked cells are missing cells, as a
  ``numpy.ma`` array's are.

- **The imputer's ``multiple_imputations`` read X's size before the
  adapter** (``VAEImputer.multiple_imputations``): a Dask array with chunks
  of unknown size was refused as needing "about nan EiB" of memory, and a
  Dask DataFrame got Dask's "convert to a boolean value". The adapter reads
  X first, as at every other entry point.

Left: ``dask_ml.wrappers.ParallelPostFit(model).transform`` announces the
input's width before computing (dask-ml maps ``transform`` without
``chunks``); documented in docs/examples/dask.rst, dask-ml's to fix.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from skvae import VAEImputer, VAEOutlierDetector, VAETransformer

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
dask = pytest.importorskip("dask")

TINY = dict(max_iter=2, hidden_layer_sizes=(8,), latent_dim=2, random_state=0)
ESTIMATORS = (VAETransformer, VAEImputer, VAEOutlierDetector)


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).normal(size=(40, 3))


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(1)
    return pd.DataFrame({"a": rng.normal(size=40), "n": rng.integers(0, 5, 40),
                         "c": pd.Categorical(rng.choice(list("xyz"), 40))})


def _computes_counted(X, chunks):
    """A Dask array of X and a dict whose "blocks" counts the blocks computed."""
    seen = {"blocks": 0}

    def counted(block):
        seen["blocks"] += block.size > 0  # not Dask's calls on an empty stand-in for the dtype
        return block

    return da.from_array(X, chunks=chunks).map_blocks(counted, dtype=X.dtype), seen


# ------------------------------------------------------------ Dask DataFrames


def _calls(estimator_class, fitted):
    calls = {"fit": lambda data: estimator_class(**TINY).fit(data)}
    for method in ("partial_fit", "transform", "fit_transform", "inverse_transform", "score_samples", "score",
                   "predict", "decision_function", "fit_predict", "score_columns", "multiple_imputations"):
        if hasattr(fitted, method):
            calls[method] = getattr(fitted, method)
    return calls


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_a_dask_dataframe_is_refused_by_name_at_every_entry_point(estimator_class, frame):
    fitted = estimator_class(**TINY).fit(frame)
    ddf = dd.from_pandas(frame, npartitions=2)
    before = fitted.transform(frame) if hasattr(fitted, "transform") else fitted.score_samples(frame)
    for method, call in _calls(estimator_class, fitted).items():
        with pytest.raises(TypeError) as refused:
            call(ddf)
        message = str(refused.value)
        assert "X is a Dask DataFrame" in message, (method, message)
        assert "X.compute()" in message and "X.partitions" in message, (method, message)
        assert "boolean value" not in message
    # The refused calls changed nothing.
    after = fitted.transform(frame) if hasattr(fitted, "transform") else fitted.score_samples(frame)
    pd.testing.assert_frame_equal(pd.DataFrame(after), pd.DataFrame(before))


def test_a_dask_series_and_dask_conditions_are_refused_by_name(frame):
    with pytest.raises(TypeError, match=r"X is a Dask Series.*X\.compute\(\)"):
        VAETransformer(**TINY).fit(dd.from_pandas(frame, npartitions=2)["a"])
    fitted = VAETransformer(**TINY).fit(frame)
    conditions = dd.from_pandas(frame[["a"]].head(4), npartitions=2)
    with pytest.raises(TypeError, match=r"given is a Dask DataFrame.*given\.compute\(\)"):
        fitted.sample(4, given=conditions)


def test_a_dask_dataframe_is_not_computed_by_the_refusal(frame):
    seen = {"partitions": 0}

    def counted(partition):
        seen["partitions"] += len(partition) > 0
        return partition

    ddf = dd.from_pandas(frame, npartitions=2).map_partitions(counted, meta=frame.iloc[:0])
    with dask.config.set(scheduler="sync"), pytest.raises(TypeError, match="Dask DataFrame"):
        VAETransformer(**TINY).fit(ddf)
    assert seen["partitions"] == 0


def test_the_refusal_keeps_its_advice_as_a_term(frame):
    from skvae._refusals import TypeRefusal

    with pytest.raises(TypeRefusal) as refused:
        VAETransformer(**TINY).fit(dd.from_pandas(frame, npartitions=2))
    assert refused.value.term("advice").fields["key"] == "compute_dask_frame"


def test_the_documented_partition_loop_reads_unknown_categories_by_value(frame):
    ddf = dd.from_pandas(frame.astype({"c": object}), npartitions=2)
    ddf = ddf.assign(c=ddf["c"].astype("category").cat.as_unknown())
    partitions = [partition.compute() for partition in ddf.partitions]
    # The second partition's categories in the reverse order: codes differ, values do not.
    reordered = partitions[1].copy()
    reordered["c"] = reordered["c"].cat.reorder_categories(list(reversed(reordered["c"].cat.categories)))
    streamed, as_objects = VAETransformer(**TINY), VAETransformer(**TINY)
    for partition in (partitions[0], reordered):
        streamed.partial_fit(partition)
    for partition in partitions:
        as_objects.partial_fit(partition.astype({"c": object}))
    np.testing.assert_allclose(streamed.transform(frame), as_objects.transform(frame))


# ------------------------------------------------------------ Dask arrays


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_a_dask_array_is_computed_once_per_call_and_warns_nothing(estimator_class, X):
    lazy, seen = _computes_counted(X, chunks=(20, 3))
    with dask.config.set(scheduler="sync"), warnings.catch_warnings():
        warnings.simplefilter("error")  # Dask's may_share_memory FutureWarning leaked before
        fitted = estimator_class(**TINY).fit(lazy)
        assert seen["blocks"] == 2  # each of the 2 blocks once
        seen["blocks"] = 0
        inference = fitted.transform if hasattr(fitted, "transform") else fitted.score_samples
        inference(lazy)
        assert seen["blocks"] == 2


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_a_dask_array_gives_the_numpy_arrays_results(estimator_class, X):
    lazy = da.from_array(X, chunks=(15, 3))
    on_numpy, on_dask = estimator_class(**TINY).fit(X), estimator_class(**TINY).fit(lazy)
    for method in ("transform", "score_samples", "predict"):
        if hasattr(on_numpy, method):
            expected, got = getattr(on_numpy, method)(X), getattr(on_dask, method)(lazy)
            assert isinstance(got, np.ndarray)
            np.testing.assert_array_equal(got, expected)


def test_unknown_chunk_sizes_are_read_as_their_rows(X):
    filtered = da.from_array(X, chunks=(10, 3))
    filtered = filtered[filtered[:, 0] > -0.5]
    assert np.isnan(filtered.chunks[0][0])
    kept = X[X[:, 0] > -0.5]
    fitted = VAETransformer(**TINY).fit(filtered)
    np.testing.assert_array_equal(fitted.transform(filtered), VAETransformer(**TINY).fit(kept).transform(kept))


def test_a_masked_dask_array_keeps_its_mask(X):
    hidden = np.zeros_like(X, dtype=bool)
    hidden[0, 0] = True
    under_mask = X.copy()
    under_mask[0, 0] = 1e6  # fitted as if observed, were the mask dropped
    masked_dask = da.ma.masked_array(da.from_array(under_mask, chunks=(20, 3)), mask=hidden)
    with_nan = X.copy()
    with_nan[0, 0] = np.nan
    np.testing.assert_array_equal(VAETransformer(**TINY).fit(masked_dask).transform(X),
                                  VAETransformer(**TINY).fit(with_nan).transform(X))


def test_a_block_of_zero_rows_is_refused_and_changes_nothing(X):
    fitted = VAETransformer(**TINY).fit(X)
    before = fitted.transform(X)
    empty = da.from_array(X, chunks=(10, 3))
    empty = empty[empty[:, 0] > 100]  # nan chunks that compute to no rows
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        fitted.partial_fit(empty)
    assert fitted.n_iter_ == 2
    np.testing.assert_array_equal(fitted.transform(X), before)


# ------------------------------------------------------------ dask-ml and distributed


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("dask_ml")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield client


def test_parallel_post_fit_equals_the_numpy_path(client, X):
    from dask_ml.wrappers import ParallelPostFit

    fitted = VAETransformer(**TINY).fit(X)
    lazy = da.from_array(X, chunks=(20, 3))
    latent = ParallelPostFit(fitted).transform(lazy)
    assert latent.chunks[0] == (20, 20, 20)[: len(latent.chunks[0])] and latent.dtype == np.float64
    np.testing.assert_array_equal(latent.compute(), fitted.transform(X))
    assert ParallelPostFit(fitted).score(lazy, None) == pytest.approx(fitted.score(X))
    detector = VAEOutlierDetector(**TINY).fit(X)
    np.testing.assert_array_equal(ParallelPostFit(detector).predict(lazy).compute(), detector.predict(X))


def test_incremental_equals_partial_fit_per_block(client, X):
    from dask_ml.wrappers import Incremental

    streamed = Incremental(VAETransformer(**TINY), shuffle_blocks=False).fit(da.from_array(X, chunks=(20, 3)))
    by_hand = VAETransformer(**TINY)
    for start in range(0, len(X), 20):
        by_hand.partial_fit(X[start:start + 20])
    assert streamed.estimator_.n_iter_ == by_hand.n_iter_ == 2
    np.testing.assert_array_equal(streamed.estimator_.transform(X), by_hand.transform(X))


def test_grid_search_on_joblibs_dask_backend_equals_one_process(client, X):
    import joblib
    from sklearn.model_selection import GridSearchCV

    def search():
        return GridSearchCV(VAETransformer(**TINY), {"latent_dim": [1, 2]}, cv=2, n_jobs=-1)

    threads = torch.get_num_threads()
    with joblib.parallel_backend("dask"):
        on_cluster = search().fit(X)
    assert torch.get_num_threads() == threads
    np.testing.assert_allclose(on_cluster.cv_results_["mean_test_score"],
                               search().fit(X).cv_results_["mean_test_score"])


def test_a_fitted_model_travels_to_a_worker_and_back(client, X):
    fitted = VAETransformer(**TINY).fit(X)
    np.testing.assert_array_equal(client.submit(lambda model, data: model.transform(data), fitted, X).result(),
                                  fitted.transform(X))
    continued = client.submit(lambda model, data: model.partial_fit(data), fitted, X).result()
    assert continued.n_iter_ == fitted.n_iter_ + 1
    assert fitted.n_iter_ == 2  # the client's copy is untouched


def test_multiple_imputations_read_a_dask_array_of_unknown_chunk_sizes(X):
    with_holes = X.copy()
    with_holes[::5, 1] = np.nan
    imputer = VAEImputer(**TINY).fit(with_holes)
    lazy = da.from_array(with_holes, chunks=(10, 3))
    lazy = lazy[lazy[:, 0] > -10]  # every row, in chunks of unknown size
    assert np.isnan(lazy.shape[0])
    expected = VAEImputer(**TINY).fit(with_holes).multiple_imputations(with_holes, 2)
    got = imputer.multiple_imputations(lazy, 2)
    assert len(got) == 2
    for copy, expected_copy in zip(got, expected):
        np.testing.assert_array_equal(copy, expected_copy)


def test_parallel_post_fit_over_a_dask_dataframe_hands_pandas_partitions(client, frame):
    """The refusal is of a Dask DataFrame given to skvae; dask-ml gives each partition as pandas."""
    from dask_ml.wrappers import ParallelPostFit

    fitted = VAETransformer(**TINY).fit(frame)
    lazy = dd.from_pandas(frame, npartitions=2)
    np.testing.assert_array_equal(np.asarray(ParallelPostFit(fitted).transform(lazy).compute()),
                                  fitted.transform(frame))


def test_a_dask_dataframe_of_the_separate_dask_expr_package_is_refused_too(frame):
    """dask>=2024.1 is allowed: from 2024.3 to 2025.1 Dask's DataFrame class lived in ``dask_expr``."""
    ddf = dd.from_pandas(frame, npartitions=2)
    as_dask_expr_named_it = type("DataFrame", (type(ddf),), {"__module__": "dask_expr._collection"})
    ddf.__class__ = as_dask_expr_named_it
    with pytest.raises(TypeError, match="X is a Dask DataFrame"):
        VAETransformer(**TINY).fit(ddf)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_distributed_serialization_keeps_the_model_and_its_training_state(estimator_class, frame):
    """What distributed does to send a model to a worker process (pickle), and back, loses nothing."""
    from distributed.protocol import deserialize, serialize

    fitted = estimator_class(**TINY).fit(frame)
    travelled = deserialize(*serialize(fitted))
    inference = "transform" if hasattr(fitted, "transform") else "score_samples"
    np.testing.assert_array_equal(np.asarray(getattr(travelled, inference)(frame)),
                                  np.asarray(getattr(fitted, inference)(frame)))
    if hasattr(fitted, "partial_fit"):  # the optimizer's state travels too: the next block continues alike
        fitted.partial_fit(frame)
        travelled.partial_fit(frame)
        np.testing.assert_array_equal(travelled.transform(frame), fitted.transform(frame))
