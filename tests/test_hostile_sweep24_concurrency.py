"""Hostile use, twenty-fourth sweep: one fitted model used from several threads and processes at once.

Swept and found sound: 8 Python threads sharing a fitted ``VAETransformer``,
``VAEImputer`` and ``VAEOutlierDetector`` (a mixed DataFrame with holes)
calling ``transform``, ``score_samples``, ``inverse_transform``, seeded
``sample`` with and without ``given``, the imputer's ``transform``, the
detector's ``predict``, ``decision_function`` and ``score_columns`` six
times each at once: every result bit for bit the single-threaded one, no
exception, no hang; unseeded ``sample`` and ``score_samples`` from 8 threads;
torch's thread count, grad mode and default dtype as the caller left them
after; four threads transforming and sampling while a fifth runs
``skvae.save``/``skvae.load``, ``pickle``, ``copy.deepcopy``,
``partial_fit`` and ``set_output`` in turn (no exception, no hang, no half
state: sweeps 6 and 20 already pin ``set_params`` and ``fit`` beside
inference); ``joblib.Parallel`` with the loky and threading backends over a
fitted model's ``transform`` (the parent's codes) and over fits with
``n_jobs=2`` inside (the codes of the same fit in the parent), and over the
imputer's ``multiple_imputations``; ``cross_val_score(n_jobs=2)`` over a
transformer and a detector; a multiprocessing "fork" child after fits
(``transform`` equal to the parent's, a new fit, an ``n_jobs=2`` imputer's
transform: sweep 21's fork fix holds).

Each family below failed once (see the commit that added its tests):

- **A failed call rewound another thread's draws** (``skvae._transaction.generator_kept_on_failure``
  and ``transaction``'s generators): a call that draws from a generator
  that outlives it (the imputer's generator of successive draws, a
  ``RandomState`` passed to ``sample``, NumPy's global one under
  ``random_state=None``) puts it back as it was at the call's start when the
  call fails, so that a refused call changes nothing. With two calls at once
  (one imputer shared by threads, a documented use), a call refused in one
  thread after another thread's call had drawn put the generator back to
  before that draw: the next call gave the other thread's imputations again,
  bit for bit, duplicates where independent draws are promised. Now a
  failed call puts the generator back only where no other skvae call drew
  from it while it ran. Decided: a failed call that overlapped another
  call's draws leaves its own step taken (the stream then differs from a
  run without the failed call, as it would in any interleaving of threads),
  since putting it back would give the other call's draws twice. A call
  inside another of the same thread (an imputer's fit fits its VAE with the
  same generator) is part of it and is put back with it (sweep 18's rule).
- **set_output beside a running call** (``skvae._transaction.AtomicSetParams.set_output``):
  scikit-learn's ``set_output`` changes the output container in place and
  took no lock, so a ``set_output`` from another thread while
  ``multiple_imputations`` ran (it wraps each copy as ``transform``'s output
  is wrapped) returned a list of some ndarrays and some DataFrames. It
  changes the estimator, so it now holds it as ``set_params`` does: it waits
  for running calls, and later calls see its container.
- **A fork during a refit in another thread** (``skvae._transaction._roll_back_the_parents_writes``):
  a process forked while another thread refitted an estimator (a server
  forking its workers while a background thread refits the shared model)
  got the estimator halfway: after a refit on other columns had validated
  its X, the child's ``transform`` took the new column names and encoded
  them with the old networks, without a word (sweep 21 frees the locks in
  a child, so nothing waited). The thread that would finish the call is not
  in the child, so there the call ends as a failed call does: what it
  changed is put back (innermost call first, the weights copied on one
  torch thread), and the child has the model as it was before the refit.
  A call of the forking thread itself goes on in the child and is left alone.

Found and NOT fixed:

- A child forked while another thread holds a fitted model's cache lock
  (``InferenceCache._lock`` while building the networks on a first
  ``transform``, ``InferenceNetworks._wide_lock``, ``skvae._inference._row_pools_lock``)
  hangs for ever in its first ``transform`` (the holder is not in the
  child). A fix renewing these locks after a fork (a lock class registered
  in a WeakSet, renewed by ``os.register_at_fork``) cured the reproduction
  but hung part of ``test_hostile_sweep21_resources.py`` under this
  session's time limit, and was taken out; left for the next sweep.
"""

import copy
import threading

import numpy as np
import pytest

import skvae._conditional
import skvae._imputer
import skvae._transaction

from skvae import VAEImputer, VAETransformer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(latent_dim=2, hidden_layer_sizes=(8,), max_iter=2, random_state=0, batch_size=32)
TIMEOUT = 120


def _reconstruct_owner():
    """The class that defines the VAE's ``_reconstruct`` (the imputer's step after its seed is drawn)."""
    return next(cls for cls in VAETransformer.__mro__ if "_reconstruct" in vars(cls))


def _with_holes():
    X = np.random.default_rng(0).normal(size=(60, 3))
    X[::4, 1] = np.nan
    return X


def _refused_while_another_draws(monkeypatch, owner, name, call_a, call_b):
    """Run `call_a` in a thread that fails after its draw, and `call_b` meanwhile; `call_b`'s result.

    `call_a` reaches ``owner.name`` (called after its seed is drawn), waits
    there until `call_b` has finished in this thread, then is refused.
    """
    original = getattr(owner, name)
    drew, other_done, refused = threading.Event(), threading.Event(), []

    def stalled(*args, **kwargs):
        if threading.current_thread().name == "refused":
            drew.set()
            assert other_done.wait(TIMEOUT)
            raise ValueError("refused after its draw")
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, stalled)

    def run_a():
        try:
            call_a()
        except ValueError as error:
            refused.append(error)
        finally:
            drew.set()  # refused before its draw: the test fails below, without waiting

    thread = threading.Thread(target=run_a, name="refused")
    thread.start()
    assert drew.wait(TIMEOUT)
    result = call_b()
    other_done.set()
    thread.join(TIMEOUT)
    assert not thread.is_alive() and len(refused) == 1
    return result


@pytest.mark.parametrize("method", ["multiple_imputations", "transform"])
def test_a_refused_imputation_does_not_rewind_another_threads_draw(monkeypatch, method):
    X = _with_holes()
    imputer = VAEImputer(**TINY, sample_posterior=True).fit(X)
    alone = copy.deepcopy(imputer)
    impute = {"multiple_imputations": lambda e: e.multiple_imputations(X, n_imputations=2),
              "transform": lambda e: e.transform(X)}[method]
    # Alone, one call after another: the failed call's step is taken (it overlapped B's draw), B draws the
    # second step of the stream and the next call the third.
    expected = [impute(alone) for _ in range(3)][1:]
    during = _refused_while_another_draws(monkeypatch, _reconstruct_owner(), "_reconstruct",
                                          lambda: impute(imputer), lambda: impute(imputer))
    monkeypatch.undo()
    after = impute(imputer)
    np.testing.assert_array_equal(np.asarray(during), np.asarray(expected[0]))
    np.testing.assert_array_equal(np.asarray(after), np.asarray(expected[1]))
    assert not np.array_equal(np.asarray(after), np.asarray(during))


def test_a_refused_sample_does_not_rewind_another_threads_draw_from_a_shared_generator(monkeypatch):
    X = _with_holes()
    transformer = VAETransformer(**TINY).fit(np.nan_to_num(X))
    shared = np.random.RandomState(5)
    # sample(given=...) reconstructs its conditions; the refused one fails there, after its seeds are taken.
    generator_after = {}

    def refused():
        conditions = np.full((3, 3), np.nan)
        conditions[:, 0] = [0.5, -0.5, 1.0]  # the first column given, the others drawn
        transformer.sample(given=conditions, random_state=shared)

    def other():
        draws = transformer.sample(4, random_state=shared)
        generator_after["state"] = shared.get_state()[1].copy()
        return draws

    _refused_while_another_draws(monkeypatch, skvae._conditional, "with_given_cells", refused, other)
    # Not put back to before the other call's draws: the next draw is not a repeat of them.
    np.testing.assert_array_equal(shared.get_state()[1], generator_after["state"])


def test_a_refused_call_alone_still_changes_nothing(monkeypatch):
    X = _with_holes()
    imputer = VAEImputer(**TINY, sample_posterior=True).fit(X)
    alone = copy.deepcopy(imputer)
    monkeypatch.setattr(_reconstruct_owner(), "_reconstruct", lambda *a, **k: (_ for _ in ()).throw(ValueError("refused")))
    with pytest.raises(ValueError, match="refused"):
        imputer.multiple_imputations(X, n_imputations=2)
    monkeypatch.undo()
    np.testing.assert_array_equal(np.asarray(imputer.multiple_imputations(X, n_imputations=2)),
                                  np.asarray(alone.multiple_imputations(X, n_imputations=2)))


def test_a_failed_fit_in_one_thread_does_not_rewind_a_generator_another_threads_fit_drew_from():
    """``transaction``'s generators (a fit's ``random_state``) follow the same rule as the inference calls'."""
    shared = np.random.RandomState(5)
    first, second = VAETransformer(random_state=shared), VAETransformer(random_state=shared)
    inside, other_done, failures = threading.Event(), threading.Event(), []

    def failing_fit():
        try:
            with skvae._transaction.transaction(first):
                shared.randint(100)  # the fit's seed
                inside.set()
                assert other_done.wait(TIMEOUT)
                raise ValueError("refused after its seed")
        except ValueError as error:
            failures.append(error)
        finally:
            inside.set()

    thread = threading.Thread(target=failing_fit)
    thread.start()
    assert inside.wait(TIMEOUT)
    with skvae._transaction.transaction(second):
        shared.randint(100)
    after_other = shared.get_state()[1].copy()
    other_done.set()
    thread.join(TIMEOUT)
    assert not thread.is_alive() and len(failures) == 1
    np.testing.assert_array_equal(shared.get_state()[1], after_other)


def test_a_failed_call_inside_another_of_the_same_thread_is_put_back_with_it():
    """An imputer's fit fits its VAE with the same generator: one call, put back whole (sweep 18's rule)."""
    shared = np.random.RandomState(5)
    outer, inner = VAETransformer(random_state=shared), VAETransformer(random_state=shared)
    with pytest.raises(ValueError), skvae._transaction.transaction(outer):
        shared.randint(100)
        with skvae._transaction.transaction(inner):
            shared.randint(100)
        raise ValueError("refused")
    assert shared.randint(2**31 - 1, size=4).tolist() == np.random.RandomState(5).randint(2**31 - 1, size=4).tolist()


@pytest.mark.parametrize("output", ["pandas", "default"])
def test_set_output_from_another_thread_waits_for_a_running_multiple_imputations(monkeypatch, output):
    """``set_output`` changes the estimator: it holds it as ``set_params`` does, and a running call's
    copies all come in one container."""
    X = _with_holes()
    imputer = VAEImputer(**TINY).fit(X).set_output(transform="default" if output == "pandas" else "pandas")
    wrap = skvae._imputer._wrap_data_with_container
    switcher = threading.Thread(target=lambda: imputer.set_output(transform=output))

    def wrap_then_switch(*args, **kwargs):
        wrapped = wrap(*args, **kwargs)
        if not switcher.is_alive() and switcher.ident is None:
            switcher.start()  # another thread switches the container between the copies
            switcher.join(1.0)  # done at once where set_output does not wait for the call
        return wrapped

    monkeypatch.setattr(skvae._imputer, "_wrap_data_with_container", wrap_then_switch)
    copies = imputer.multiple_imputations(X, n_imputations=3)
    switcher.join(TIMEOUT)
    assert not switcher.is_alive()
    assert len({type(copy) for copy in copies}) == 1, [type(copy).__name__ for copy in copies]
    assert imputer.multiple_imputations(X, n_imputations=1)[0].__class__.__name__ == (
        "DataFrame" if output == "pandas" else "ndarray")


def _mixed_table():
    import pandas as pd

    rng = np.random.default_rng(0)
    table = pd.DataFrame({"x": rng.normal(size=80), "kind": pd.Categorical(rng.choice(["a", "b", "c"], 80)),
                          "count": rng.integers(0, 5, 80), "flag": rng.choice([True, False], 80)})
    table.loc[::5, "x"] = np.nan
    table.loc[1::6, "kind"] = np.nan
    return table


def _same(a, b):
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if hasattr(a, "equals"):
        return a.equals(b)
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


def test_eight_threads_on_one_fitted_model_each_get_the_single_threaded_result():
    """Deterministic and seeded calls of the three faces from 8 threads at once: the bits of one thread alone."""
    import torch
    from concurrent.futures import ThreadPoolExecutor

    from skvae import VAEOutlierDetector

    table = _mixed_table()
    transformer, imputer, detector = (face(**TINY).fit(table) for face in (VAETransformer, VAEImputer,
                                                                           VAEOutlierDetector))
    calls = {
        "transform": lambda: transformer.transform(table),
        "score_samples": lambda: transformer.score_samples(table),
        "inverse_transform": lambda: transformer.inverse_transform(transformer.transform(table)),
        "sample": lambda: transformer.sample(10, random_state=3),
        "sample given": lambda: transformer.sample(given=table.iloc[:4, :1], random_state=3),
        "impute": lambda: imputer.transform(table),
        "predict": lambda: detector.predict(table),
        "decision_function": lambda: detector.decision_function(table),
        "score_columns": lambda: detector.score_columns(table),
    }
    alone = {name: call() for name, call in calls.items()}
    threads_before, grad_before, dtype_before = torch.get_num_threads(), torch.is_grad_enabled(), torch.get_default_dtype()
    with ThreadPoolExecutor(8) as pool:
        futures = [(name, pool.submit(call)) for _ in range(3) for name, call in calls.items()]
        differ = [name for name, future in futures if not _same(future.result(timeout=TIMEOUT), alone[name])]
    assert differ == []
    assert (torch.get_num_threads(), torch.is_grad_enabled(), torch.get_default_dtype()) == (
        threads_before, grad_before, dtype_before)


def test_concurrent_draws_of_one_imputer_are_the_draws_of_successive_calls():
    """Each call takes one whole step of the imputer's stream: the results are those of calls one after another."""
    from concurrent.futures import ThreadPoolExecutor

    X = _with_holes()
    imputer = VAEImputer(**TINY, sample_posterior=True).fit(X)
    alone = copy.deepcopy(imputer)
    one_after_another = sorted(alone.multiple_imputations(X, n_imputations=2)[0].tobytes() for _ in range(6))
    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(imputer.multiple_imputations, X, 2) for _ in range(6)]
        at_once = sorted(future.result(timeout=TIMEOUT)[0].tobytes() for future in futures)
    assert at_once == one_after_another


def test_transform_beside_partial_fit_sees_one_whole_state():
    """Decided (documented): inference beside ``partial_fit`` sees the model before or after each call, never between."""
    X = np.random.default_rng(1).normal(size=(60, 3))
    transformer = VAETransformer(**TINY).fit(X)
    replay = copy.deepcopy(transformer)
    states = [replay.transform(X).tobytes()]
    for start in (0, 20, 40):
        states.append(replay.partial_fit(X[start:start + 20]).transform(X).tobytes())
    seen, done = [], threading.Event()

    def read():
        while not done.is_set():
            seen.append(transformer.transform(X).tobytes())

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    for start in (0, 20, 40):
        transformer.partial_fit(X[start:start + 20])
    done.set()
    for reader in readers:
        reader.join(TIMEOUT)
    assert not any(reader.is_alive() for reader in readers)
    assert transformer.transform(X).tobytes() == states[-1]
    assert set(seen) <= set(states)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="os.fork")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Python 3.12: fork() of a multi-threaded process
@pytest.mark.parametrize("face", ["VAETransformer", "VAEImputer"])
def test_a_child_forked_during_a_refit_in_another_thread_gets_the_model_before_it(monkeypatch, face):
    import os
    import pickle

    import pandas as pd

    import skvae._training

    rng = np.random.default_rng(0)
    before = pd.DataFrame(rng.normal(size=(60, 3)), columns=["x", "y", "z"])
    other = pd.DataFrame(rng.normal(size=(60, 3)), columns=["p", "q", "r"])
    estimator = {"VAETransformer": VAETransformer, "VAEImputer": VAEImputer}[face](**TINY).fit(before)
    codes_before = np.asarray(estimator.transform(before))
    run, training, forked = skvae._training.Trainer.run, threading.Event(), threading.Event()

    def stalled_run(*args, **kwargs):
        training.set()  # the refit has validated its X: the column names are the new ones
        assert forked.wait(TIMEOUT)
        return run(*args, **kwargs)

    monkeypatch.setattr(skvae._training.Trainer, "run", stalled_run)
    refit = threading.Thread(target=lambda: estimator.fit(other))
    refit.start()
    assert training.wait(TIMEOUT)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what the estimator is, then leave without pytest's teardown
        try:
            os.close(read_end)
            report = (list(estimator.feature_names_in_), np.asarray(estimator.transform(before)))
        except BaseException as error:  # noqa: BLE001 - the parent's assertion shows it
            report = repr(error)
        with os.fdopen(write_end, "wb") as pipe:
            pickle.dump(report, pipe)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        report = pickle.load(pipe)
    os.waitpid(pid, 0)
    forked.set()
    refit.join(TIMEOUT)
    assert not refit.is_alive()
    assert not isinstance(report, str), report
    assert report[0] == ["x", "y", "z"]
    np.testing.assert_array_equal(report[1], codes_before)
    assert list(estimator.feature_names_in_) == ["p", "q", "r"]  # the parent's refit went on
