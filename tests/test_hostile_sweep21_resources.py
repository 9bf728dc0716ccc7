"""Hostile use, twenty-first sweep: the environment and resources (threads, signals, streams, processes).

Swept and found sound: ``OMP_NUM_THREADS`` set to 0, ``garbage``, ``""``,
``-3`` (libgomp's own complaint, then torch's default), 64 and ``2,1``;
``MKL_NUM_THREADS=garbage``; ``CUDA_VISIBLE_DEVICES=''``; the process
pinned to one core (``taskset -c 0``): fit, transform, sample and score with
``n_jobs`` None, 1, 2 and -1, torch's thread count left as it was;
``warnings.simplefilter("error")`` (ConvergenceWarning ignored) around every
method of the three faces on a DataFrame of mixed columns with holes and on
an array (``fit``, ``transform``, ``inverse_transform``, ``sample`` with and
without ``given`` and ``with_missing``, ``score``, ``score_samples``,
``score_columns``, ``partial_fit``, ``set_output``, the imputer's
``sample_posterior``, ``add_indicator`` and ``multiple_imputations``, the
detector's ``predict``/``decision_function``/``fit_predict``, save/load,
``early_stopping``, ``verbose``): skvae raises no warning of its own nor
triggers a NumPy, pandas or torch deprecation; ``python -W error -c "import
skvae"`` and ``python -W error -m skvae fit``; a ConvergenceWarning made an
error in a ``warm_start`` fit rolls the fit back bit for bit (weights,
Adam's state, ``loss_curve_``); warnings filters as the caller had them
after every call; a KeyboardInterrupt raised at each function call skvae
makes in a fresh ``fit`` and ``partial_fit`` (each face), ``transform``,
``sample``, ``sample(given=...)``, ``score_samples``, ``inverse_transform``,
the imputer's ``transform`` and the detector's ``predict`` and
``score_columns``: reading calls leave the estimator as it was, and torch's
default dtype, grad and inference mode, deterministic algorithms, anomaly
mode, inter-op threads, global RNGs (torch's and NumPy's) and NumPy's error
handling are as they were, except as found below; joblib's loky, threading
and multiprocessing backends fitting and transforming (the same codes as in
the parent); ``verbose`` with ``sys.stdout`` None; ``torch.set_default_dtype(torch.float64)``,
``torch.use_deterministic_algorithms(True)``, ``torch.set_flush_denormal(True)``
and ``torch.no_grad()`` around fit, transform, sample, score, the imputer and
a refused ``n_jobs=0`` (the same codes; each setting as the caller left it).

Each family below failed once (see the commit that added its tests):

- **Ctrl-C as a call put torch's thread count back**
  (``skvae._threads.torch_threads``, ``one_blas_and_openmp_thread``): a
  KeyboardInterrupt that arrived as the bookkeeping was called (Python
  raises it at the next function call) skipped it: the call stayed counted
  in for good, so no later call put the user's count back (torch stayed on
  skvae's one thread, BLAS and OpenMP on one thread, and ``current_threads``
  reported the old count for ever). The bookkeeping is idempotent (a token
  per call, removed in one step) and retried until it completes; the
  interrupt is raised after it.
- **A fit in a forked child** (``skvae._threads._after_fork_in_child``): after
  the parent had run torch on several threads, ``fit`` (every face),
  ``partial_fit`` and ``skvae.load`` in a child of ``os.fork`` or of
  multiprocessing's "fork" start method hung for ever in GNU OpenMP (the
  latent mixture's Cholesky factor and the loaded state's checks ran on the
  caller's thread count; the parent's pool threads are not in the child).
  In such a child skvae's torch work runs on one intra-op thread, and an
  explicit ``n_jobs`` above 1 for training is refused naming ``n_jobs`` and
  the start methods that work. Decided: refused, not run on one thread,
  since ``n_jobs=k`` is exact; inference with ``n_jobs=2`` still runs (its
  threads are Python's, one intra-op thread each).
- **verbose with no usable stderr** (``skvae._progress.EpochReporter``):
  with ``sys.stderr`` None the progress lines went to stdout (``print(file=None)``);
  with stderr closed, or a pipe whose reader had gone, the write's
  ValueError or BrokenPipeError failed the fit after its training and the
  model was thrown away. Decided: no stream, no output; a stream that
  refuses a write gets no more of the fit's progress, and the fit goes on
  (the output is a report on the fit, not its result).
- **An address-space limit** (``skvae._memory._address_space_remaining``):
  under ``resource.setrlimit(RLIMIT_AS, ...)`` (``ulimit -v``, a batch
  system's limit) networks beyond it passed the memory check (the host's
  free memory) and failed in torch's allocator, "[enforce fail at
  alloc_cpu.cpp] ... can't allocate memory", naming no parameter. What the
  limit leaves is now part of the memory available, so they are refused
  before allocating, naming ``hidden_layer_sizes``.

Found and NOT fixed:

- A Ctrl-C at the very entry of contextlib's ``__exit__`` around
  ``torch_threads`` (outside skvae's code) defers putting the count back
  until the context's generator is collected: at once in CPython, unless
  the traceback is kept (``sys.last_traceback`` in an interactive session).
  Left: no Python code closes that window; the count is no longer lost.
- Under a tight address-space limit, allocations beyond the check's
  estimates (data copies, glibc's per-thread arenas count against the limit
  too) still fail with torch's RuntimeError "can't allocate memory" (NumPy's
  are MemoryError). Left: the check covers the networks and a step's
  activations by estimate, and telling torch's allocator failure apart
  would mean matching its message text.
- A ConvergenceWarning made an error by the caller's filter rolls back the
  whole fit, a ``warm_start`` fit's epochs too (scikit-learn's MLP keeps
  them): decided sound, a failed call changes nothing.
- ``OMP_NUM_THREADS=0`` (or text) makes libgomp print "Invalid value for
  environment variable OMP_NUM_THREADS" as torch loads: libgomp's own.
"""

import errno
import io
import multiprocessing
import subprocess
import sys
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from threadpoolctl import threadpool_info

import skvae
from skvae import VAEImputer, VAEOutlierDetector, VAETransformer, _threads
from skvae._refusals import Refusal

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(latent_dim=2, hidden_layer_sizes=(8,), max_iter=2, random_state=0)
SKVAE_FOLDER = skvae.__file__.rsplit("/", 1)[0]


def _table(n=30, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(["a", "b", "c"], n), "n": rng.integers(0, 4, n)})
    frame.loc[[1, 3], "x"] = np.nan
    return frame


@pytest.fixture
def three_torch_threads():
    """torch on 3 threads, a count skvae never chooses for a tiny model, and the suite's count back after."""
    saved = torch.get_num_threads()
    torch.set_num_threads(3)
    yield 3
    torch.set_num_threads(saved)


def _thread_settings():
    return torch.get_num_threads(), [(pool["user_api"], pool["num_threads"]) for pool in threadpool_info()]


class _InterruptAtCall:
    """A trace function that raises KeyboardInterrupt at the `n`-th call of a function of skvae or threadpoolctl."""

    def __init__(self, n):
        self.n, self.calls, self.where = n, 0, None

    def __call__(self, frame, event, arg):
        filename = frame.f_code.co_filename
        if event == "call" and (filename.startswith(SKVAE_FOLDER) or "threadpoolctl" in filename):
            self.calls += 1
            if self.calls == self.n:
                self.where = f"{filename.rsplit('/', 1)[1]}:{frame.f_code.co_name}"
                raise KeyboardInterrupt  # Python unsets the trace function: one interrupt per call
        return None


def _interrupted_at(n, call):
    tracer = _InterruptAtCall(n)
    sys.settrace(tracer)
    try:
        call()
    except KeyboardInterrupt:
        pass
    finally:
        sys.settrace(None)
    return tracer


# An interrupt inside a generator expression that is closed later is "ignored" by Python, as it says.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_ctrl_c_at_any_call_of_transform_leaves_the_thread_counts_as_they_were(three_torch_threads):
    model = VAETransformer(**SMALL).fit(_table())
    X = _table(seed=1)
    expected_codes = model.transform(X)
    before = _thread_settings()
    n_calls = _interrupted_at(-1, lambda: model.transform(X)).calls
    assert n_calls > 50  # the tracer sees skvae's calls
    for n in range(1, n_calls + 1):
        tracer = _interrupted_at(n, lambda: model.transform(X))
        assert _thread_settings() == before, f"interrupted at {tracer.where}"
        assert not _threads._scopes and not _threads._blas_scope[0], f"interrupted at {tracer.where}"
    # Later calls still put the user's count back, and compute as before.
    np.testing.assert_array_equal(model.transform(X), expected_codes)
    assert _thread_settings() == before and _threads.current_threads() == three_torch_threads


def test_ctrl_c_in_the_bookkeeping_of_torch_threads_still_restores_and_is_raised(monkeypatch, three_torch_threads):
    leave = _threads._leave_locked
    interrupts = iter([True, True, False])

    def interrupted_twice(*args):
        if next(interrupts):
            raise KeyboardInterrupt
        leave(*args)

    monkeypatch.setattr(_threads, "_leave_locked", interrupted_twice)
    with pytest.raises(KeyboardInterrupt):
        with _threads.torch_threads(1):
            assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == three_torch_threads and not _threads._scopes
    # Nested calls: the inner one's interrupted leaving neither restores early nor loses the outer one.
    interrupts = iter([True, False, False])
    with _threads.torch_threads(1):
        with pytest.raises(KeyboardInterrupt):
            with _threads.torch_threads(2):
                pass
        assert torch.get_num_threads() == 2 and len(_threads._scopes) == 1
    assert torch.get_num_threads() == three_torch_threads and not _threads._scopes


def _parent_runs_torch_on_two_threads():
    torch.set_num_threads(2)
    a = torch.randn(400, 400, dtype=torch.float64)
    torch.linalg.cholesky(a @ a.T + 400 * torch.eye(400, dtype=torch.float64))


def _fit_and_transform(face, params, X):
    return np.asarray(face(**params).fit(X).transform(X) if face is not VAEOutlierDetector
                      else face(**params).fit(X).score_samples(X))


def _load_and_transform(path, X):
    return skvae.load(path).transform(X)


def _refusal_of_fit(params, X):
    model = VAETransformer(**params)
    try:
        model.fit(X)
    except Refusal as error:
        return str(error), "_model" in model.__dict__
    return None, "_model" in model.__dict__


@pytest.mark.parametrize("face", [VAETransformer, VAEImputer, VAEOutlierDetector])
def test_a_forked_child_fits_and_loads_after_the_parent_ran_torch_threads(face, tmp_path):
    saved = torch.get_num_threads()
    try:
        _parent_runs_torch_on_two_threads()
        X = _table()
        parent = VAETransformer(**SMALL).fit(X)
        path = tmp_path / "model.skvae"
        skvae.save(parent, path)
        with multiprocessing.get_context("fork").Pool(1) as children:
            # A hang (the defect) is a TimeoutError here; the pool's exit ends the child.
            fitted = children.apply_async(_fit_and_transform, (face, SMALL, X)).get(timeout=120)
            loaded = children.apply_async(_load_and_transform, (str(path), X)).get(timeout=120)
            message, kept = children.apply_async(_refusal_of_fit, (dict(SMALL, n_jobs=2), X)).get(timeout=120)
        np.testing.assert_array_equal(fitted, _fit_and_transform(face, SMALL, X))
        np.testing.assert_array_equal(loaded, parent.transform(X))
        assert message is not None and "n_jobs=2" in message and "'spawn'" in message and not kept
        assert torch.get_num_threads() == 2  # the parent's setting is its own
    finally:
        torch.set_num_threads(saved)


class _BrokenPipe(io.TextIOBase):
    def writable(self):
        return True

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")


class _BrokenTerminal(_BrokenPipe):
    def isatty(self):
        return True


def _closed_stream():
    stream = io.StringIO()
    stream.close()
    return stream


@pytest.mark.parametrize("stderr", [None, _closed_stream, _BrokenPipe, _BrokenTerminal],
                         ids=["None", "closed", "broken-pipe", "broken-terminal"])
@pytest.mark.parametrize("verbose", [1, 2])
def test_verbose_fit_with_no_usable_stderr_keeps_its_model_and_writes_nothing_to_stdout(
        stderr, verbose, monkeypatch, capsys):
    X = _table()
    quiet = VAETransformer(**SMALL).fit(X)
    monkeypatch.setattr(sys, "stderr", stderr() if stderr is not None else None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning either: the output is simply not shown
        model = VAETransformer(verbose=verbose, **SMALL).fit(X)
    monkeypatch.undo()
    assert capsys.readouterr().out == ""
    assert model.n_iter_ == quiet.n_iter_ and model.loss_curve_ == quiet.loss_curve_
    np.testing.assert_array_equal(model.transform(X), quiet.transform(X))


class _FullTerminal(_BrokenPipe):
    """A terminal whose writes fail with an error tqdm does not absorb itself (no space left on the device)."""

    def isatty(self):
        return True

    def write(self, text):
        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("stderr", [_BrokenTerminal, _FullTerminal], ids=["broken-terminal", "full-terminal"])
def test_a_bar_whose_terminal_refuses_a_write_leaves_tqdms_lock_free(stderr, monkeypatch):
    """A refused write never raises inside tqdm, whose refresh would keep its process-wide lock held.

    The whole suite on the oldest declared versions (tqdm 4.60, which let a broken pipe's error through)
    hung at the interpreter's exit: tqdm's exit handler joins its monitor thread, which waited for the lock
    the failed refresh had kept; every later progress bar in the process would have hung the same way.
    Any tqdm lets a full disk's error through.
    """
    from tqdm import tqdm

    X = _table()
    quiet = VAETransformer(**SMALL).fit(X)
    monkeypatch.setattr(sys, "stderr", stderr())
    model = VAETransformer(verbose=1, **SMALL).fit(X)
    monkeypatch.undo()
    assert model.loss_curve_ == quiet.loss_curve_
    taken = []

    def take_and_release():  # in another thread: tqdm's locks are reentrant, so the failed thread could retake them
        locks = tqdm.get_lock().locks  # tqdm's own acquire() takes no timeout and returns nothing
        got = [lock.acquire(timeout=10) for lock in locks]
        for lock, held in zip(locks[::-1], got[::-1]):
            if held:
                lock.release()
        taken.extend(got)

    other = threading.Thread(target=take_and_release)
    other.start()
    other.join()
    assert taken and all(taken), "tqdm's lock stays held by the failed refresh"
    assert not [bar for bar in tqdm._instances if getattr(bar, "fp", None) is not None
                and not getattr(bar, "disable", True)], "the failed bar stays on tqdm's list of bars"


_FIT_UNDER_AN_ADDRESS_SPACE_LIMIT = """
import resource, sys
import numpy as np
import torch
from skvae import VAETransformer

def mapped():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))

resource.setrlimit(resource.RLIMIT_AS, (mapped() + 300 * 2**20, resource.getrlimit(resource.RLIMIT_AS)[1]))
model = VAETransformer(latent_dim=2, hidden_layer_sizes=(4000, 4000), max_iter=1, random_state=0)
try:
    model.fit(np.random.default_rng(0).normal(size=(20, 3)))
except Exception as error:
    print(type(error).__name__, "_model" in model.__dict__, error)
else:
    print("fitted")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc/self/status are Linux's")
def test_networks_beyond_an_address_space_limit_are_refused_by_name_before_allocating():
    # 32 million parameters need ~612 MiB to train; 300 MiB are left under the limit, with gigabytes free on the host.
    result = subprocess.run([sys.executable, "-c", _FIT_UNDER_AN_ADDRESS_SPACE_LIMIT], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    kind, fitted, message = result.stdout.split(" ", 2)
    assert (kind, fitted) == ("Refusal", "False"), result.stdout
    assert "hidden_layer_sizes=(4000, 4000)" in message and "can't allocate" not in message
