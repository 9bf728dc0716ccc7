"""One helper makes every public call transactional: a refused or failed call changes nothing.

Every face (``VAETransformer``, ``VAEImputer``, ``VAEOutlierDetector``) wraps
the body of each state-changing public method in :func:`transaction`. On any
exception (a refused parameter, bad data, a diverged fit, Ctrl-C) the
attribute dicts of the estimator and of every estimator it owns (for example
a face's fitted ``vae_``) are put back as they were when the call began.

Why dicts and not deep copies: a fresh fit builds new networks and a new
optimizer, so the old ones are never touched and restoring the references is
enough; a continued fit (``warm_start``, ``partial_fit``) changes the
networks in place only by completed training epochs, which is the documented
meaning of interrupting one, unless the call then fails: the model's
``rollback_point`` (weights, Adam's state, its record) is taken at the start
and put back. Validation runs before any training.

**Other threads see a call's state before or after, never halfway.** A
call writes its attributes one after another (``fit`` sets
``n_features_in_`` when it validates X, the model when training ends). So,
while a ``fit`` ran in one thread, another thread's pickle (a checkpoint,
``copy.deepcopy``, :func:`skvae.save`) held half a state, which pickling
wrote without a word and unpickling refused ("the fitted state lacks
[...]"); and during a refit on other columns, ``transform`` checked X
against the new column names and encoded it with the old networks: a
column ``p`` went into the network of ``x``, silently. So each estimator
has a readers-writer lock (:func:`state_lock`): a state-changing call holds
it for writing from start to end; inference and pickling hold it for
reading, together with each other, and wait for a running write. Both are
re-entrant in a thread (a fit scores its own rows; a call copies its own
estimator), and a waiting write goes before new reads, so a stream of
``transform`` calls cannot hold a refit off for ever.
A forked child starts with the locks free: the thread that held one in the
parent is not in the child to release it.
"""

import contextlib
import functools
import os
import threading
import weakref

import numpy as np
from sklearn.utils._set_output import _SetOutputMixin
from sklearn.utils.metaestimators import available_if


class StateLock:
    """A re-entrant readers-writer lock: many readers or one writer (who may also read)."""

    def __init__(self):
        self._condition = threading.Condition(threading.Lock())
        self._writer = None
        self._write_depth = 0
        self._waiting_writers = 0
        self._readers = {}  # thread ident -> depth

    @contextlib.contextmanager
    def writing(self):
        me = threading.get_ident()
        with self._condition:
            self._waiting_writers += 1
            try:
                # A thread reading may write once it reads alone (a call inside a read; none does today).
                while not (self._writer in (None, me) and set(self._readers) <= {me}):
                    self._condition.wait()
            finally:
                self._waiting_writers -= 1
            self._writer = me
            self._write_depth += 1
        try:
            yield
        finally:
            with self._condition:
                self._write_depth -= 1
                if self._write_depth == 0:
                    self._writer = None
                self._condition.notify_all()

    def acquire_read(self):
        me = threading.get_ident()
        with self._condition:
            # A thread already reading or writing reads on (waiting would wait for itself);
            # others let a waiting writer go first.
            if not (self._writer == me or me in self._readers):
                while self._writer is not None or self._waiting_writers:
                    self._condition.wait()
            self._readers[me] = self._readers.get(me, 0) + 1

    def release_read(self):
        me = threading.get_ident()
        with self._condition:
            depth = self._readers[me] - 1
            if depth:
                self._readers[me] = depth
                return
            del self._readers[me]
            # Only a writer waits for readers to leave: no wake-up on the path of every inference call.
            if self._waiting_writers:
                self._condition.notify_all()

    @contextlib.contextmanager
    def reading(self):
        self.acquire_read()
        try:
            yield
        finally:
            self.release_read()


#: Each estimator's lock, held by a weak reference so that it goes with the estimator
#: (kept out of the estimator's attributes, which pickling and ``clone`` read).
_state_locks = weakref.WeakKeyDictionary()
_state_locks_guard = threading.Lock()


def _forget_state_locks():
    # A forked child has one thread: a lock another thread of the parent held would never be released.
    global _state_locks, _state_locks_guard, _drawing_guard
    _state_locks = weakref.WeakKeyDictionary()
    _state_locks_guard = threading.Lock()
    _drawing_guard = threading.Lock()
    _drawing_calls.clear()  # the calls of the parent's other threads are not in the child
    _roll_back_the_parents_writes()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_state_locks)


def state_lock(estimator):
    """The :class:`StateLock` of `estimator`: its state-changing calls write, inference and pickling read."""
    lock = _state_locks.get(estimator)  # the common case, without the guard: one dictionary read
    if lock is not None:
        return lock
    with _state_locks_guard:
        lock = _state_locks.get(estimator)
        if lock is None:
            lock = _state_locks[estimator] = StateLock()
        return lock


def _owned_estimators(estimator):
    """The estimator and the estimators it holds as fitted attributes (one level down)."""
    owned = [estimator]
    for value in list(vars(estimator).values()):
        if hasattr(value, "get_params") and hasattr(value, "__dict__") and value is not estimator:
            owned.append(value)
    return owned


@contextlib.contextmanager
def transaction(estimator):
    """Restore `estimator` (and the estimators it owns) if the block raises; hold its state lock throughout.

    Attributes are restored by reference; what a call changes in place (a
    fitted model's networks and optimizer, trained further by a continued
    fit) is put back by the holder's own ``rollback_point`` / ``roll_back``.
    """
    with state_lock(estimator).writing():
        saved = [(owned, dict(vars(owned))) for owned in _owned_estimators(estimator)]
        points = [(value, value.rollback_point()) for owned, state in saved for value in state.values()
                  if hasattr(value, "rollback_point")]
        generators = _generator_states(saved)
        call = object()
        _writing_calls[call] = (threading.get_ident(), saved, points, generators)  # one step each way
        try:
            yield
        except BaseException:
            _roll_back(saved, points, generators)
            raise
        finally:
            _writing_calls.pop(call, None)
        for drawing in generators:
            drawing.leave(failed=False)


def _roll_back(saved, points, generators):
    """Put back what :func:`transaction` saved: the attribute dicts, the models changed in place, the generators."""
    for owned, state in saved:
        owned.__dict__.clear()
        owned.__dict__.update(state)
    for value, point in points:
        value.roll_back(point)
    for drawing in generators:
        drawing.leave(failed=True)


#: The state-changing calls running now (in entry order): token -> (thread id, what
#: :func:`_roll_back` needs), for a forked child (:func:`_roll_back_the_parents_writes`).
_writing_calls = {}


def _roll_back_the_parents_writes():
    """In a forked child: put back the estimators that another thread of the parent was changing.

    Hostile sweep 24: a process forked while a thread refitted an estimator
    (a server's worker forked while a background thread refits the shared
    model) got the estimator as the fork found it, halfway: after a refit
    on other columns had validated X, ``transform`` in the child took the
    new column names and encoded them with the old networks, silently. The
    thread that would finish the call is not in the child, so the call ends
    there as a failed call ends: what it changed is put back, innermost
    call first. A call of the forking thread itself goes on in the child and is left alone.
    """
    me = threading.get_ident()
    interrupted = [entry for entry in _writing_calls.values() if entry[0] != me]
    _writing_calls.clear()
    if not interrupted:
        return
    import torch  # the models' weights are put back by tensor copies: on one thread, as in any forked child

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _, saved, points, generators in reversed(interrupted):
            _roll_back(saved, points, generators)
    finally:
        torch.set_num_threads(threads)


def _generator_states(saved):
    """(generator, state) for each NumPy generator a call may draw from, to put back if it fails.

    Hostile sweep 18: a fresh fit draws its model seed from ``random_state``
    before the data are validated (and a fit may fail after), so a refused
    fit moved a ``RandomState`` the caller passed, or NumPy's global
    generator under ``random_state=None``: the caller's next draws, and the
    next fit with the same generator, differed from a run without the
    refused call. Generators are changed in place, not reassigned, so
    restoring the attribute dicts does not put them back; their states are.
    The global generator is put back as ``sample`` puts it back on a refusal.
    """
    generators = {}
    for owned, state in saved:
        values = list(state.values())
        if "random_state" in state and state["random_state"] is None:
            values.append(np.random.mtrand._rand)  # what check_random_state(None) draws from
        for value in values:
            if isinstance(value, np.random.RandomState):
                generators[id(value)] = value
    return [_DrawingCall(generator) for generator in generators.values()]


#: id(generator) -> the :class:`_DrawingCall` objects of the calls now drawing from it (each keeps its
#: generator alive, so an id is not reused while listed). Guarded by ``_drawing_guard``.
_drawing_calls = {}
_drawing_guard = threading.Lock()


class _DrawingCall:
    """One call that may draw from a NumPy `generator` that outlives it, and may put it back if it fails.

    Hostile sweep 24: a failed call put the generator back to its state at
    the call's start, and with calls in several threads (one imputer or one
    ``RandomState`` shared by threads) that undid the draws another call had
    made meanwhile: the next call repeated that call's draws bit for bit.
    So a call puts the generator back only where no other skvae call drew
    from it while it ran (:meth:`leave`). Decided: a failed call that
    overlapped another leaves its own step taken, which any interleaving of
    threads could give; putting it back would hand out the other call's
    draws twice. Draws of the caller's own code in another thread are not
    seen (NumPy's global generator under ``random_state=None``): use a
    generator per thread there, as NumPy advises.
    """

    __slots__ = ("generator", "before", "overlapped", "thread")

    def __init__(self, generator):
        self.generator, self.thread = generator, threading.get_ident()
        with _drawing_guard:
            calls = _drawing_calls.setdefault(id(generator), [])
            # A call inside another of the same thread (an imputer's fit fits its VAE) is part of it:
            # the outer call's state covers the inner's draws. Calls of other threads overlap.
            others = [other for other in calls if other.thread != self.thread]
            for other in others:
                other.overlapped = True
            self.overlapped = bool(others)
            calls.append(self)
            self.before = generator.get_state()  # under the guard: no skvae call restores it meanwhile

    def leave(self, failed):
        """Count this call out; where it `failed` and ran alone, put the generator back as it found it."""
        with _drawing_guard:
            calls = _drawing_calls.get(id(self.generator), [])
            if self in calls:  # once only, also when a Ctrl-C made the caller repeat it
                calls.remove(self)
                if not calls:
                    del _drawing_calls[id(self.generator)]
            if failed and not self.overlapped:
                self.generator.set_state(self.before)


@contextlib.contextmanager
def generator_kept_on_failure(generator):
    """Put the NumPy `generator` (None: none) back as it stood if the block raises.

    For the calls that draw from a generator that outlives them (a
    RandomState the caller passed, NumPy's global one under
    ``random_state=None``, the imputer's generator of successive draws) and
    are not transactions: ``sample``, the imputer's ``transform`` and
    ``multiple_imputations``. Hostile sweep 23: they put it back only when
    one step failed (the VAE's pass, the conditional draw), so a failure
    after it (a MemoryError or Ctrl-C while the draws were written out, a
    refusal of the unconditional draw) left the generator moved, and the
    next draws differed from those of a run without the failed call.
    """
    if generator is None:
        yield
        return
    drawing = _DrawingCall(generator)  # with other threads' calls: see _DrawingCall
    try:
        yield
    except BaseException:
        drawing.leave(failed=True)
        raise
    drawing.leave(failed=False)


def reads_state(method):
    """Decorate a public method that reads the fitted state: it runs while no call changes it."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        # acquire/release, not a generator context manager: this wraps every inference call
        # (a one-row transform takes tens of microseconds).
        lock = state_lock(self)
        lock.acquire_read()
        try:
            return method(self, *args, **kwargs)
        finally:
            lock.release_read()

    return wrapper


def transactional(method):
    """Decorate a public method so that a call that raises changes nothing."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with transaction(self):
            return method(self, *args, **kwargs)

    return wrapper


class AtomicSetParams:
    """Mixin (before BaseEstimator): ``set_params`` sets every parameter or, when one is refused, none.

    scikit-learn's ``set_params`` sets the parameters in the order given and
    raises at the first unknown name, keeping those set before it:
    ``set_params(latent_dim=5, nope=1)`` would raise and yet change ``latent_dim``.
    """

    def set_params(self, **params):
        with transaction(self):
            return super().set_params(**params)

    # Hostile sweep 24: scikit-learn's set_output changes the output container in place without the
    # state lock, so a set_output from another thread during multiple_imputations (which wraps each
    # copy as transform's output is wrapped) gave a list of some ndarrays and some DataFrames. It
    # changes the estimator, so it holds it as set_params does. Only where the face has set_output
    # (VAEOutlierDetector has none: no transform).
    def set_output(self, *, transform=None):
        with transaction(self):
            return super().set_output(transform=transform)

    set_output.__doc__ = _SetOutputMixin.set_output.__doc__
    set_output = available_if(lambda self: hasattr(super(AtomicSetParams, self), "set_output"))(set_output)
