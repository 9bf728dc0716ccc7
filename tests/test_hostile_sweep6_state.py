"""Hostile callers, sixth sweep: torch's process-wide state while a call runs.

torch keeps the default dtype for the whole process, not per Python thread.
skvae once set it to float32 for the duration of each public call and put
the caller's value back after: while a call ran, the caller's other threads
made float32 tensors where they had asked for float64, and a thread that set
its own default during a fit broke that fit ("mat1 and mat2 must have the
same dtype") or had its setting undone when the fit ended. Now no call sets
it: every tensor skvae makes names its dtype.

What another thread sees or does during a call is observed here without a
race: a torch function mode (per thread, like the call) records torch's
default dtype at every torch function the call runs, or sets it as another
thread would, at the n-th.
"""

import io
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from torch.overrides import TorchFunctionMode

import skvae
from skvae import VAEImputer, VAEOutlierDetector, VAETransformer

from _equality import assert_same

TINY = dict(latent_dim=2, hidden_layer_sizes=(4,), max_iter=2, random_state=0, batch_size=16, device="cpu")


def _table():
    """A mixed table with missing cells: numbers, a category, counts, flags."""
    rng = np.random.default_rng(0)
    table = pd.DataFrame({
        "x": rng.normal(size=24),
        "kind": pd.Categorical(rng.choice(["a", "b", "c"], 24)),
        "count": rng.integers(0, 5, 24),
        "flag": rng.choice([True, False], 24),
    })
    table.loc[::5, "x"] = np.nan
    table.loc[1::6, "kind"] = np.nan
    return table


def _saved_and_loaded(estimator):
    buffer = io.BytesIO()
    skvae.save(estimator, buffer)
    return skvae.load(io.BytesIO(buffer.getvalue()))


#: id -> (estimator class, whether the call gets a fitted estimator, the call). Each call returns
#: what it computed (a fit its estimator's transform or scores), so that results can be compared.
CALLS = {
    "transformer-fit": (VAETransformer, False, lambda e, X: e.fit(X).transform(X)),
    "transformer-partial_fit": (VAETransformer, False, lambda e, X: e.partial_fit(X).transform(X)),
    "transformer-fit_transform": (VAETransformer, False, lambda e, X: e.fit_transform(X)),
    "transformer-self-masking-fit": (VAETransformer, False,
                                     lambda e, X: e.set_params(missing_mechanism="self_masking").fit(X).transform(X)),
    "transformer-transform": (VAETransformer, True, lambda e, X: e.transform(X)),
    "transformer-inverse_transform": (VAETransformer, True, lambda e, X: e.inverse_transform(e.transform(X))),
    "transformer-score": (VAETransformer, True, lambda e, X: e.score(X)),
    "transformer-score_samples": (VAETransformer, True, lambda e, X: e.score_samples(X, n_importance=3)),
    "transformer-sample": (VAETransformer, True, lambda e, X: e.sample(5, random_state=1)),
    "transformer-sample-given": (VAETransformer, True, lambda e, X: e.sample(given=X.iloc[:3, :1], random_state=1)),
    "transformer-load": (VAETransformer, True, lambda e, X: _saved_and_loaded(e).transform(X)),
    "imputer-fit": (VAEImputer, False, lambda e, X: e.fit(X).transform(X)),
    "imputer-transform": (VAEImputer, True, lambda e, X: e.transform(X)),
    "imputer-multiple_imputations": (VAEImputer, True, lambda e, X: e.multiple_imputations(X, n_imputations=2)),
    "detector-fit": (VAEOutlierDetector, False, lambda e, X: e.fit(X).decision_function(X)),
    "detector-predict": (VAEOutlierDetector, True, lambda e, X: e.predict(X)),
    "detector-score_columns": (VAEOutlierDetector, True, lambda e, X: e.score_columns(X)),
    "detector-load": (VAEOutlierDetector, True, lambda e, X: _saved_and_loaded(e).score_samples(X)),
}


def _estimator(call_id, X):
    cls, fitted, _ = CALLS[call_id]
    estimator = cls(**TINY)
    return estimator.fit(X) if fitted else estimator


class _DefaultDtypeWatch(TorchFunctionMode):
    """Records torch's default dtype at every torch function run inside; sets it at the `set_at`-th, if given."""

    def __init__(self, set_at=None, set_to=torch.float64):
        super().__init__()
        self.seen, self.calls, self.set_at, self.set_to = set(), 0, set_at, set_to

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.calls += 1
        if self.calls == self.set_at:
            torch.set_default_dtype(self.set_to)  # as another thread of the caller's would, mid-call
        self.seen.add(torch.get_default_dtype())
        return func(*args, **(kwargs or {}))


def _assert_same_result(a, b):
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    elif isinstance(a, list) and a and isinstance(a[0], pd.DataFrame):
        for x, y in zip(a, b):
            pd.testing.assert_frame_equal(x, y, check_exact=True)
    else:
        assert_same(np.asarray(a), np.asarray(b), "result")


@pytest.fixture
def float64_default():
    """The caller's default dtype float64 for the test, float32 again after (whatever the test did)."""
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("call_id", CALLS)
def test_a_call_never_changes_the_process_wide_default_dtype_while_it_runs(call_id, float64_default):
    # What the caller's other threads would see at any moment of the call: float32 once, their float64 now.
    X = _table()
    estimator = _estimator(call_id, X)
    with _DefaultDtypeWatch() as watch:
        CALLS[call_id][2](estimator, X)
    assert watch.calls > 0
    assert watch.seen == {torch.float64}


@pytest.mark.parametrize("call_id", CALLS)
def test_a_default_dtype_set_by_another_thread_mid_call_is_kept_and_changes_no_result(call_id):
    # Once: "mat1 and mat2 must have the same dtype" halfway through a fit, or float32 put back at its end.
    X = _table()
    expected = CALLS[call_id][2](_estimator(call_id, X), X)
    estimator = _estimator(call_id, X)
    try:
        with _DefaultDtypeWatch(set_at=5) as watch:
            result = CALLS[call_id][2](estimator, X)
        assert watch.calls >= 5
        assert torch.get_default_dtype() == torch.float64
    finally:
        torch.set_default_dtype(torch.float32)
    _assert_same_result(result, expected)


@pytest.mark.parametrize("call_id", ["transformer-fit", "imputer-fit", "detector-fit"])
def test_a_fit_under_a_float64_default_gives_the_same_bits(call_id, float64_default):
    # float64 never reaches the networks: not through their layers, draws or buffers.
    X = _table()
    result = CALLS[call_id][2](_estimator(call_id, X), X)
    torch.set_default_dtype(torch.float32)
    _assert_same_result(result, CALLS[call_id][2](_estimator(call_id, X), X))


# ---------------------------------------------------------------- BLAS threads, process-wide too

#: Two fits held in their latent mixture's EM until both are there, the second let finish last: the order
#: that once left BLAS on one thread for good (the second fit saved the first's limit of 1 as the user's
#: value and restored it last). Run in a fresh interpreter: OpenBLAS started on one thread (the suite's
#: OMP_NUM_THREADS=1) does not report a limit set from another thread the same way.
_OVERLAPPING_FITS = r"""
import json, sys, threading
from concurrent.futures import ThreadPoolExecutor
import numpy as np, threadpoolctl
from skvae import VAEImputer, VAEOutlierDetector, VAETransformer, _latent_mixture

def blas_threads():
    return sorted({info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"})

barrier, first_done = threading.Barrier(2), threading.Event()

class HeldGaussianMixture(_latent_mixture.GaussianMixture):
    def fit(self, X, y=None):
        arrival = barrier.wait(timeout=60)
        if arrival == 1:
            first_done.wait(timeout=60)
        try:
            return super().fit(X, y)
        finally:
            if arrival == 0:
                first_done.set()

_latent_mixture.GaussianMixture = HeldGaussianMixture
cls = {"transformer": VAETransformer, "imputer": VAEImputer, "detector": VAEOutlierDetector}[sys.argv[1]]
X = np.random.default_rng(0).normal(size=(24, 3))
tiny = dict(latent_dim=2, hidden_layer_sizes=(4,), max_iter=2, random_state=0, batch_size=16, device="cpu")
before = blas_threads()
with ThreadPoolExecutor(2) as pool:
    for future in [pool.submit(getattr(cls(**tiny), sys.argv[2]), X) for _ in range(2)]:
        future.result(timeout=120)
print(json.dumps({"before": before, "after": blas_threads()}))
"""


@pytest.mark.parametrize("face, method", [("transformer", "fit"), ("transformer", "partial_fit"),
                                          ("imputer", "fit"), ("detector", "fit")])
def test_overlapping_fits_leave_blas_threads_as_the_user_had_them(face, method):
    env = {name: value for name, value in os.environ.items() if name != "OMP_NUM_THREADS"}
    env["OPENBLAS_NUM_THREADS"] = "2"  # the user's setting, whatever the machine
    result = subprocess.run([sys.executable, "-c", _OVERLAPPING_FITS, face, method], capture_output=True, text=True,
                            timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    threads = json.loads(result.stdout.splitlines()[-1])
    if threads["before"] != [2]:
        pytest.skip(f"BLAS threads the user set are not visible to threadpoolctl here: {threads['before']}")
    assert threads["after"] == [2]
