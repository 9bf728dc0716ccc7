"""How many CPU threads torch may use inside one skvae call, and putting it back after.

Why skvae chooses at all: torch runs as many OpenMP threads as the machine
has cores, and every matrix product ends at a barrier where all of them
meet. skvae's steps are small (128 rows through layers ~100 wide), so a step
is over in well under a millisecond, and when any other process holds a core,
the thread scheduled behind it keeps the others waiting at each barrier for a
time slice: a fit then runs many times slower than on one thread
(benchmarks/README.md, "Numbers behind the code").

The policy (``n_jobs=None``):

1. **The machine's limits** (:func:`usable_cores`): the CPUs this process may
   run on (``os.sched_getaffinity``) and the cgroup CPU quota (containers,
   ``docker --cpus``), whichever is smaller.
2. **The environment's limits** (:func:`environment_limit`): ``OMP_NUM_THREADS``
   and the current torch setting of the calling thread, which is where
   ``threadpoolctl.threadpool_limits``, joblib's workers (they start with
   ``OMP_NUM_THREADS`` set to their share of the cores) and the user's own
   ``torch.set_num_threads`` show up.
3. **The work** (:func:`threads_for_work`): one thread per
   :data:`WORK_PER_THREAD` multiply-adds of one step, so a small network on a
   small batch runs on one thread, where it is fastest anyway.
4. **Measured, during training** (:class:`ThreadTuner`): when 1-3 allow more
   than one thread and at least two cores are idle (the kernel's count of
   runnable tasks), the training loop times short blocks of steps on one
   thread and on the allowed number, keeps the faster, and looks again
   after :data:`FIRST_REPROBE_SECONDS`, then at doubling gaps up to every
   :data:`REPROBE_SECONDS`, since another process may start or stop.

``n_jobs=-1`` uses every usable core, ``n_jobs=k`` exactly k threads (as in
joblib, ``-2`` is all but one), with no measuring.

**Leaving torch as it was.** :func:`torch_threads` sets torch's intra-op
thread count for the duration of a call and restores it after. With torch's
OpenMP backend (the usual CPU build) the count is per Python thread once that
thread has used torch, so calls from different threads do not see each
other's setting and each restores its own thread's value. With a
process-wide backend (torch's native thread pool), overlapping calls from
several threads share one setting: the first to enter saves the user's value
and the last to leave restores it, so that an earlier exit never puts back a
value another call had set. Either way, one lock and one count per scope
(thread or process) do it.

**Thread counts and the bits.** On several threads torch's CPU matrix
library splits the sums of some products across threads: on this 2-core
machine, a 784-wide layer's product gave other last bits on 2 threads than
on 1 for 16-64 rows, and the same bits for 128 rows and more. So:

- inference never runs a product on several threads: where it has more than
  one, it spreads blocks of rows over them, each on one intra-op thread
  (:func:`skvae._inference.map_row_batches`), and a row's result is the
  same whatever the thread count and its batch;
- training runs its steps on the chosen count, and a wide network's short
  steps (the last batch of an epoch) may differ in the last bits between
  counts. With ``n_jobs`` an int, an int ``random_state`` repeats a fit bit
  for bit on a machine; with ``n_jobs=None`` it does as long as the policy
  chooses the same count, which for the usual small networks is always one
  thread (30 features: identical fits on 1 and 2 threads; 784 features:
  codes 2e-7 apart after 3 epochs).
"""

import contextlib
import functools
import math
import os
import statistics
import threading
import time

import torch
from threadpoolctl import ThreadpoolController

#: Multiply-adds of one forward step that justify one more thread. Below
#: ~1e7 (a batch of 128 through ~80k weights) a step lasts well under a
#: millisecond and a second thread costs more in barriers than it saves.
WORK_PER_THREAD = 10_000_000

#: Seconds between two measurements of one thread against several.
REPROBE_SECONDS = 5.0

#: Steps timed per candidate thread count in one measurement (each after an untimed
#: step that wakes or parks the thread pool). Three, so that the median is a middle
#: value: with two, the "median" was the slower step, and one slow step (a fit's
#: second step still pays for first allocations) sent an idle machine to one thread.
PROBE_STEPS = 3

#: Untimed steps on the allowed count before a fit's first measurement: the first
#: steps allocate and fault in memory, and their times say nothing about threads.
WARMUP_STEPS = 2

#: Seconds before the second measurement of a fit; the gap then doubles up to
#: REPROBE_SECONDS, so that a short fit can still correct a first decision made
#: during a burst of load.
FIRST_REPROBE_SECONDS = 1.0

#: A candidate this many times slower than the other after CLEAR_LOSS_STEPS timed
#: steps each loses at once: under load the slow count costs several steps' time
#: per step. Two steps, not one: a single slow step (a burst of load, late
#: allocations) is common and would decide the measurement on its own.
CLEAR_LOSS = 1.5
CLEAR_LOSS_STEPS = 2


def _cgroup_cpu_quota(root="/sys/fs/cgroup"):
    """The cgroup CPU limit in cores (may be fractional), or None when unlimited."""
    candidates = (
        (f"{root}/cpu.max", None),  # cgroup v2: "<quota> <period>" or "max <period>"
        (f"{root}/cpu/cpu.cfs_quota_us", f"{root}/cpu/cpu.cfs_period_us"),  # v1
    )
    for quota_path, period_path in candidates:
        try:
            with open(quota_path, encoding="ascii") as file:
                fields = file.read().split()
            if period_path is not None:
                with open(period_path, encoding="ascii") as file:
                    fields.append(file.read().strip())
        except (OSError, ValueError):
            continue
        if len(fields) < 2 or fields[0] in ("max", "-1"):
            return None
        try:
            quota, period = int(fields[0]), int(fields[1])
        except ValueError:
            return None
        return quota / period if quota > 0 and period > 0 else None
    return None


@functools.lru_cache(maxsize=1)
def _cached_cgroup_cpu_quota():
    # Read once per process: a container's quota is fixed when it starts.
    return _cgroup_cpu_quota()


def usable_cores():
    """CPUs this process may use: its affinity mask, capped by the cgroup quota (at least 1)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    quota = _cached_cgroup_cpu_quota()
    if quota is not None:
        # A quota of 1.5 cores still lets 2 threads run half the time each:
        # rounding up is what joblib's cpu_count does too.
        cores = min(cores, math.ceil(quota))
    return max(1, cores)


def environment_limit():
    """Threads the environment allows: OMP_NUM_THREADS and the calling thread's torch setting."""
    limit = current_threads()
    try:
        omp = int(os.environ.get("OMP_NUM_THREADS", "").split(",")[0])
    except ValueError:
        omp = None
    if omp is not None and omp >= 1:
        limit = min(limit, omp)
    return max(1, limit)


def _own_running_threads(task_root="/proc/self/task"):
    """Threads of this process in the kernel's running state (``R``), at least 1 (the reader)."""
    running = 0
    try:
        tasks = os.listdir(task_root)
    except OSError:
        return 1
    for task in tasks:
        try:
            with open(f"{task_root}/{task}/stat", encoding="ascii", errors="replace") as file:
                stat = file.read()
        except OSError:  # the thread ended while we listed
            continue
        # The state follows the command name, which is in parentheses and may hold spaces.
        state = stat[stat.rfind(")") + 2:stat.rfind(")") + 3]
        running += state == "R"
    return max(1, running)


def idle_cores(loadavg_path="/proc/loadavg", own_running=_own_running_threads):
    """Usable cores minus the runnable tasks of other processes right now.

    ``/proc/loadavg``'s fourth field counts the runnable tasks at this
    instant. This process's own running threads are taken out of it: right
    after a step, torch's OpenMP workers still spin at their barrier and
    count as runnable, and counting them made an idle machine look busy
    (the tuner then never measured more than one thread). Where the file is
    missing (not Linux), all usable cores count as idle.
    """
    try:
        with open(loadavg_path, encoding="ascii") as file:
            running = int(file.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return usable_cores()
    others = max(0, running - own_running())
    return max(0, usable_cores() - others)


def threads_for_work(multiply_adds):
    """Threads that a step of `multiply_adds` multiply-adds can keep busy (at least 1)."""
    return max(1, int(multiply_adds // WORK_PER_THREAD))


#: Oversubscribing a few threads per CPU is the user's choice (``n_jobs=k`` is
#: exact); beyond this many, ``n_jobs`` is refused: torch's OpenMP runtime aborts
#: the whole process (no exception) when asked for a million threads.
MAX_THREADS_PER_CPU = 16


def resolve_n_jobs(n_jobs, multiply_adds):
    """The thread count for a call: the automatic policy for None, else scikit-learn's n_jobs.

    Returns ``(threads, tune)``: `tune` says whether training should measure
    one thread against `threads` (only the automatic policy does).
    """
    if n_jobs is None:
        threads = threads_for_work(multiply_adds)
        if threads > 1:  # else no limit can matter: one-row transforms stay fast
            threads = min(threads, usable_cores(), environment_limit())
        return threads, threads > 1
    if n_jobs < 0:
        return max(1, usable_cores() + 1 + n_jobs), False
    limit = MAX_THREADS_PER_CPU * (os.cpu_count() or 1)
    if n_jobs > limit:
        raise ValueError(
            f"n_jobs={n_jobs!r} asks for more threads than this machine's {os.cpu_count() or 1} CPU(s) can run "
            f"(at most {limit}: more only wait at each step's barrier, and OpenMP aborts the process when it "
            "cannot create them). Use n_jobs=-1 for every usable core, or None to let skvae choose."
        )
    return int(n_jobs), False


# --------------------------------------------------------- setting and restoring

def _backend_is_per_thread():
    """Whether torch's intra-op count is per Python thread (the OpenMP backend)."""
    try:
        return "parallel backend: OpenMP" in torch.__config__.parallel_info()
    except Exception:  # an unusual build: assume the stricter, process-wide case
        return False


_PER_THREAD = _backend_is_per_thread()
_lock = threading.Lock()
#: Whether this process was forked from one that had loaded torch (:func:`_after_fork_in_child`).
_forked = False
#: scope (thread id, or None for the process) -> its :class:`_Scope` (the calls inside, the value to restore)
_scopes = {}


def _scope():
    return threading.get_ident() if _PER_THREAD else None


def current_threads():
    """The value the user set (or torch's default), even while skvae calls are running."""
    with _lock:
        entry = _scopes.get(_scope())
        return entry.saved if entry is not None else torch.get_num_threads()


def set_threads(n_threads):
    """Set torch's intra-op threads inside a :func:`torch_threads` block (for the tuner)."""
    if torch.get_num_threads() != n_threads:
        torch.set_num_threads(n_threads)


def one_thread_for_this_thread():
    """One torch intra-op thread for the calling thread from now on, where that is per thread (OpenMP).

    For skvae's own worker threads (:func:`skvae._inference.map_row_batches`),
    which never give the setting back. Where the count is process-wide, the
    caller of those workers holds :func:`torch_threads` (1) around them instead,
    and this does nothing.
    """
    if _PER_THREAD:
        torch.set_num_threads(1)


class _Scope:
    """The skvae calls inside one scope (a thread, or the process), and the count to put back after the last."""

    __slots__ = ("calls", "saved")

    def __init__(self, saved):
        self.calls = set()  # one token per call inside: removing one is a single step, so it is never done twice
        self.saved = saved


@contextlib.contextmanager
def torch_threads(n_threads):
    """torch runs on `n_threads` intra-op threads inside the block, as the user had it after.

    Reentrant and safe from several Python threads (see the module
    docstring), and from a Ctrl-C while it puts the count back.
    `n_threads=None` leaves torch's setting alone.
    """
    if n_threads is None:
        yield
        return
    scope, call, entry = _scope(), object(), None
    try:
        with _lock:
            entry = _scopes.get(scope)
            if entry is None:
                entry = _scopes[scope] = _Scope(torch.get_num_threads())
            entry.calls.add(call)
            # Hostile sweep 18: a setting torch refused (n_jobs=0 under scikit-learn's
            # skip_parameter_validation) left the call counted in for good, so every later call
            # saw another still running and none put the user's count back: the finally counts it out.
            set_threads(n_threads)
        yield
    finally:
        # Hostile sweep 21: a Ctrl-C that arrived as the call left (Python raises KeyboardInterrupt at
        # the next function call, here the bookkeeping's) skipped it: the call stayed counted in for
        # good, so no later call put the user's count back (torch stayed on skvae's count, and
        # current_threads() reported the old value for ever). The bookkeeping is idempotent and
        # retried until it completes; the interrupt is raised after, so Ctrl-C still stops the call.
        # Written out here, not in a helper: a helper's own call would be the same window.
        interrupted = None
        while entry is not None:
            try:
                _leave_locked(scope, entry, call)
                break
            except KeyboardInterrupt as error:
                interrupted = error
        if interrupted is not None:
            raise interrupted


def _leave_locked(scope, entry, call):
    """:func:`_leave` under ``_lock``."""
    with _lock:
        _leave(scope, entry, call)


def _leave(scope, entry, call):
    """Count `call` out of `scope` (under ``_lock``); the last one out puts the user's count back.

    Safe to repeat after an interrupt at any point: the call's token is
    removed in one step, and the scope is dropped only after the count is
    put back, so a repeat finds either the scope to finish or nothing to do.
    """
    entry.calls.discard(call)
    if not entry.calls and _scopes.get(scope) is entry:
        set_threads(entry.saved)
        del _scopes[scope]


_blas_lock = threading.Lock()
#: [the calls inside :func:`one_blas_and_openmp_thread` (a token each), the limiter that puts the user's BLAS
#: threads back]
_blas_scope = [set(), None]


@contextlib.contextmanager
def one_blas_and_openmp_thread():
    """One BLAS and one OpenMP thread for NumPy and scikit-learn inside the block, as the user had them after.

    OpenMP's count is per thread (``omp_set_num_threads`` sets the calling
    thread's), so a plain limit restores it. BLAS's (OpenBLAS, MKL) is
    process-wide: as for torch's count under a process-wide backend, the
    first call to enter saves the user's values and the last to leave
    restores them. A plain ``threadpool_limits`` in each call, as skvae once
    had, let two overlapping fits leave BLAS on one thread for good: the
    second saved the first's limit as "the user's" and put it back last.
    Other threads' BLAS runs on one thread while a block is open, as it does
    inside scikit-learn's own k-means. Leaving is safe from Ctrl-C as
    :func:`torch_threads`'s is.
    """
    call = object()
    with _blas_lock:
        if not _blas_scope[0] and _blas_scope[1] is None:
            _blas_scope[1] = _OneBlasThread()
        _blas_scope[0].add(call)
    openmp = None
    try:
        openmp = _one_openmp_thread()
        yield
    finally:
        # Retried through a Ctrl-C as torch_threads's leaving is (both steps are idempotent): an
        # interrupted restore left BLAS, or the calling thread's OpenMP (torch's count), on one thread.
        interrupted = None
        while True:
            try:
                if openmp is not None:
                    openmp.restore_original_limits()
                _leave_blas(call)
                break
            except KeyboardInterrupt as error:
                interrupted = error
        if interrupted is not None:
            raise interrupted


def _one_openmp_thread():
    """A limit of one thread on the OpenMP libraries alone, whose restore puts back those alone.

    ``threadpool_limits(limits=1, user_api="openmp")`` limits the OpenMP
    libraries but restores every loaded library, BLAS included, to what it
    had at entry. A fit's OpenMP limit, taken while another fit held BLAS on
    one thread, put BLAS back to one thread as it left, racing the last
    fit's restore of the user's count (its ctypes calls release the GIL):
    two overlapping fits left BLAS on one thread for good, in one process
    out of a few or every time, as the timing fell.
    """
    return ThreadpoolController().select(user_api="openmp").limit(limits=1)


class _OneBlasThread:
    """BLAS on one thread from the calling Python thread, whatever thread set it last; ``restore_original_limits``.

    threadpoolctl 3.8 lets one Python thread at a time set a pthreads
    OpenBLAS's count: the first to set it while that thread lives, so that
    threads do not fight over a process-wide pool; any other thread's set is
    silently dropped. :func:`one_blas_and_openmp_thread` limits and restores
    BLAS from whichever thread enters first and leaves last, under its own
    lock, and so had its restore dropped where two fits overlapped on a
    thread pool's threads: BLAS stayed on one thread for good (one run in
    three under load, ``tests/test_hostile_sweep6_state.py``, overlapping
    fits); and where the caller's own thread controlled OpenBLAS, a fit on
    another thread ran its regressions on the caller's count. skvae's
    scope is itself the coordination threadpoolctl's rule stands in for, so
    it sets the count directly (threadpoolctl's ``_real_set_num_threads``,
    where a library controller has one; its public ``set_num_threads``
    elsewhere, and before threadpoolctl 3.8, where that sets it from any
    thread).
    """

    def __init__(self):
        self._libraries = ThreadpoolController().select(user_api="blas").lib_controllers
        self._saved = [library.get_num_threads() for library in self._libraries]
        for library in self._libraries:
            _set_blas_threads(library, 1)

    def restore_original_limits(self):
        for library, n_threads in zip(self._libraries, self._saved):
            if n_threads is not None:
                _set_blas_threads(library, n_threads)


def _set_blas_threads(library, n_threads):
    getattr(library, "_real_set_num_threads", library.set_num_threads)(n_threads)


def _leave_blas(call):
    """Count `call` out of :func:`one_blas_and_openmp_thread` (under ``_lock``); the last one out restores BLAS."""
    with _blas_lock:
        _blas_scope[0].discard(call)  # one step, so a repeat after an interrupt counts no call out twice
        if not _blas_scope[0] and _blas_scope[1] is not None:
            _blas_scope[1].restore_original_limits()
            _blas_scope[1] = None


def _after_fork_in_child():
    """In a forked child: skvae's torch work on one thread, and the thread bookkeeping started afresh.

    Hostile sweep 21: after a fit in the parent (torch's OpenMP pool
    started), a ``fit`` or :func:`skvae.load` in a child of ``os.fork`` or of
    multiprocessing's "fork" start method (Python's default on Linux) hung
    for ever: GNU OpenMP's first parallel region in the child waits for the
    parent's pool threads, which are not there. Inference ran (on one
    thread), but the latent mixture's Cholesky factor and the loaded state's
    checks ran on the caller's count. Now every skvae call in such a child
    runs its own torch work on one intra-op thread (:func:`forked_child_scope`),
    as torch's own ``DataLoader`` workers do, and ``n_jobs`` above 1 is refused for training
    there (:func:`training_threads`). The locks and counts are new: a thread
    of the parent that held them is not in the child to release them.
    """
    global _forked, _lock, _blas_lock
    _forked = True
    _lock, _blas_lock = threading.Lock(), threading.Lock()
    _scopes.clear()
    _blas_scope[0].clear()
    _blas_scope[1] = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def training_threads(n_jobs, n_threads, tune):
    """``(n_threads, tune)`` for training, as :func:`resolve_n_jobs` planned it, but one thread in a forked child.

    Training sets torch's intra-op count, whose OpenMP threads cannot start
    in a forked child (:func:`_after_fork_in_child`); inference spreads rows
    over Python threads of one intra-op thread each, which can, so only
    training is limited. Decided: an int ``n_jobs`` above 1 is refused
    there, not run on one thread: ``n_jobs=k`` is exact, as joblib's, and on
    k threads the fit would hang.
    """
    if not _forked or n_threads is None:  # None: off the CPU, torch's count is not used
        return n_threads, tune
    if n_jobs is not None and n_jobs > 1:
        from ._refusals import Refusal, parameter

        raise Refusal(
            parameter("n_jobs", n_jobs), " asks fit for several threads, but this process was forked (os.fork, "
            "or multiprocessing's 'fork' start method) from one that had loaded torch, where torch's OpenMP "
            "threads cannot start (the fit would hang). Use n_jobs=1, -1 or None (one thread for training "
            "here), or start the process with multiprocessing's 'spawn' or 'forkserver' method."
        )
    return 1, False


def forked_child_scope():
    """One torch thread for the block in a forked child (:func:`_after_fork_in_child`), else nothing."""
    return torch_threads(1) if _forked else contextlib.nullcontext()


class ThreadTuner:
    """Keeps training on whichever of 1 or `n_threads` threads is faster right now.

    The training loop calls :meth:`before_step` and :meth:`after_step` around
    each optimizer step. The tuner alternates the two counts in pairs of
    steps (interleaved, so that a burst of load hits both; the first step of
    a pair, which wakes or parks the pool, is not timed) until each has
    :data:`PROBE_STEPS` timed steps or one is :data:`CLEAR_LOSS` times slower,
    keeps the one with the smaller median step time, and measures again
    after :data:`FIRST_REPROBE_SECONDS`, then at doubling gaps up to
    :data:`REPROBE_SECONDS`. The first :data:`WARMUP_STEPS` steps of a fit
    are not measured. When fewer than two cores are idle at the
    start of a measurement (:func:`idle_cores`), it takes one thread without
    measuring: there, one step on several threads costs many on one. Steps are synchronous on the
    CPU, so a step's wall time is its cost.
    """

    def __init__(self, n_threads, clock=time.perf_counter, idle_cores=None):
        self.candidates = (n_threads, 1)
        self.clock = clock
        self.idle_cores = idle_cores or (lambda: globals()["idle_cores"]())
        self.chosen = n_threads
        self._times = {}
        self._probing = False
        self._step = 0
        self._warmup_left = WARMUP_STEPS
        self._probe_ended = -math.inf  # the first step after the warm-up starts a measurement
        self._reprobe_seconds = FIRST_REPROBE_SECONDS
        self._started = None

    def _start_probe(self):
        # On a busy machine a step on several threads costs many steps on one
        # (a thread waits a time slice at every barrier): not worth measuring.
        if self.idle_cores() < 2:
            self._take_one_thread()
            return
        self._probing, self._step = True, 0
        self._times = {n: [] for n in self.candidates}

    def _take_one_thread(self):
        self.chosen, self._probing, self._probe_ended = 1, False, self.clock()

    @property
    def _current(self):
        if self._probing:
            # Pairs of steps per candidate: the first step after a change pays for waking threads.
            return self.candidates[(self._step // 2) % 2]
        return self.chosen

    def before_step(self):
        if self._warmup_left == WARMUP_STEPS and self.idle_cores() < 2:
            # Busy from the start: no warm-up on several threads either.
            self._warmup_left = 0
            self._take_one_thread()
        elif self._warmup_left:
            self._warmup_left -= 1
        elif not self._probing and self.clock() - self._probe_ended > self._reprobe_seconds:
            if self._probe_ended > -math.inf:  # not the first measurement: the next gap is longer
                self._reprobe_seconds = min(2 * self._reprobe_seconds, REPROBE_SECONDS)
            self._start_probe()
        set_threads(self._current)
        self._started = self.clock()

    def after_step(self):
        elapsed = self.clock() - self._started
        if not self._probing:
            return
        if self._step % 2 == 1:  # the second step of a pair: threads already awake
            self._times[self._current].append(elapsed)
        self._step += 1
        counts = [len(times) for times in self._times.values()]
        if min(counts) < CLEAR_LOSS_STEPS:
            return
        medians = {n: statistics.median(t) for n, t in self._times.items()}
        fast, slow = sorted(self.candidates, key=lambda n: (medians[n], n))
        if min(counts) >= PROBE_STEPS or medians[slow] > CLEAR_LOSS * medians[fast]:
            self.chosen = fast
            self._probing = False
            self._probe_ended = self.clock()
