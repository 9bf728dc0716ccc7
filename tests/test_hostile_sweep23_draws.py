"""Hostile use, twenty-third sweep: multiple imputation and repeated random draws.

Swept and found sound: ``VAEImputer(sample_posterior=True)``'s successive
``transform`` draws (differ from call to call, repeat after a refit with the
same int ``random_state``, after ``clone`` and fit, as IterativeImputer's);
the sequence continued where it stood through pickle, joblib,
``copy.deepcopy`` and ``skvae.save``/``load`` taken mid-sequence (the copy
and the original give the same next draw); refused calls in the middle of
the sequence (a wrong column count, infinities, text in an array, for
``transform`` and ``multiple_imputations``) leave it where it stood, with an
int, a caller's RandomState and None (NumPy's global generator) as
``random_state``; ``set_params(random_state=...)`` after fit read by the
next fit only (as IterativeImputer's ``random_state_``); point fills
(``sample_posterior=False`` set between draws) taking no step; a
``warm_start`` refit restarting the sequence (documented: "the same sequence
after each fit"); ``random_state`` as a Generator, SeedSequence, float or
bool (refused by name), np.int64 and np.uint8 (used); ``n_imputations`` as
np.int64 and np.uint8 (used), np.bool_, np.float64(2.0), "3", Fraction(2),
0-d and 1-d arrays, -1, 0, 2**63 and np.uint64's top (refused by name or by
memory, the generator untouched); 40 draws (30 from ``multiple_imputations``,
10 from ``transform``) of a 60-row DataFrame of float, gamma, Int64, Int16,
UInt8, category, boolean, string and object-text columns: no hole, every
dtype kept, complete rows and observed cells returned unchanged, integer
fills whole and within the observed range, labels only seen ones, 40
distinct tables; torch's and NumPy's global generators untouched by the
imputer's draws under an int seed and by ``sample``; ``sample`` refusals
(``n_samples`` 0, 2.0 and 10**13, unknown and unseen ``given``, an infinite
condition, ``with_missing`` with ``given``, ``latent="nope"``,
``return_mean="yes"``) leaving a passed RandomState and NumPy's global
generator as they were; the between-copy variance of ``multiple_imputations``
against that of as many successive ``transform`` draws on the user guide's
example (0.255 against 0.270 at K=100; 0.163 against 0.162 at K=1: no
collapse of the shared importance samples); ``skvae impute --draw`` (the
same ``--random-state`` the same file, another seed other fills).

Each family below failed once (see the commit that added its tests):

- **A failure after the draw moved the sequence on**
  (``VAEImputer._draws_kept_on_failure``): the generator of successive draws
  was put back only when the VAE's pass failed; a failure while the draws
  were written into the output (a MemoryError among the m copies of
  ``multiple_imputations``, or Ctrl-C during the minutes m copies of a
  DataFrame can take) left it a step on, so every later draw differed from
  those of a run without the failed call (and a caller's RandomState, or
  NumPy's global generator under ``random_state=None``, stayed moved).
  ``transform`` and ``multiple_imputations`` now put it back on any failure
  after the draw. ``VAETransformer.sample`` had the same gap: a passed
  RandomState (or NumPy's global generator, for a model whose
  ``random_state`` is None) stayed moved when the unconditional draw failed
  (Ctrl-C in a long one), or when writing ``given``'s cells back did; one
  helper (``skvae._transaction.generator_kept_on_failure``) now covers the
  whole draw in the three calls.
- **multiple_imputations' memory check counted the cells only**
  (``skvae._imputer._copy_overhead_bytes``): 16 bytes a cell, where each
  copy is an ndarray or DataFrame of its own: a copy of a one-row DataFrame
  of two columns takes about 2.7 KB, not 32 bytes, so ``n_imputations`` in
  the millions passed the check, to write copies for an hour (3 ms each)
  towards more memory than the machine had. Each copy's container is now counted (measured per
  copy, rounded up; the test checks the count bounds what the copies take).
- **The docs' Rubin's rules named the wrong degrees of freedom**
  (``docs/examples/multiple_imputation.rst``): the text said "Barnard and
  Rubin's degrees of freedom", while the code (and
  ``benchmarks/multiple_imputation.py``, whose results the page reports) uses
  Rubin's (1987) large-sample ones, (m - 1) / lambda^2, which ignore the
  analysis' own degrees of freedom. The text now says what the code does;
  the code, and so the benchmark's numbers, are unchanged.
- **The one-pass copies against successive transforms, unsaid**
  (``VAEImputer.multiple_imputations``' docstring): the docs said the copies
  are new "as successive transform calls" give, not whether they are those
  calls' draws. They are not (they share each row's importance samples); a
  call takes one step of the same generator, so ``n_imputations=1`` gives
  the next ``transform`` draw. Now said, and pinned below.

Found and LEFT:

- Many copies of a DataFrame are slow to write (about 3 ms a copy of a small
  frame: one pandas assignment per column with holes), so
  ``multiple_imputations`` of m in the tens of thousands takes minutes
  though its draws take one pass; writing them faster would touch the
  output path every sweep has pinned (dtypes, categories, arrow columns).
- Two threads drawing from one imputer at once share its generator: which
  call gets which step depends on their timing, and a refused call in one
  thread puts the generator back over the other's step (which then repeats).
  Concurrent draws from one imputer are not reproducible in any case; an
  imputer per thread (``clone``) is.
- A caller's RandomState given as ``random_state`` is one generator behind
  the parameter, the imputer's successive draws and its ``vae_``; pickle
  keeps them one, but ``skvae.save`` writes each as a state of its own and
  ``skvae.load`` gives three generators. The loaded imputer continues the
  draws exactly (checked above); only a refit after further draws starts
  from the parameter's state at save, where the original's had moved with
  the draws. Keeping them one needs a reference tag in the file format (a
  new ``format_version``, which older skvae could not read): beyond a sweep.
- ``skvae impute --draw`` has no count of draws: m draws are m runs with m
  ``--random-state`` seeds, each refitting the model (documented: "vary
  --random-state"), which also carries the fit's own variability.
"""

import gc
import copy
import doctest
import importlib.util
import pickle
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import skvae
import skvae._memory
from skvae import VAEImputer
import skvae._imputer
from skvae._refusals import Refusal

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(latent_dim=2, hidden_layer_sizes=(8,), max_iter=2, n_importance=5)


def _holey_array(n_rows=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, 3))
    X[:, 1] += X[:, 0]
    X[rng.random(X.shape) < 0.25] = np.nan
    X[0] = [1.0, 2.0, 3.0]  # a complete row
    return X


def _holey_frame(n_rows=30, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "f": rng.normal(size=n_rows).round(2),
        "i": pd.array(rng.integers(0, 9, n_rows), dtype="Int64"),
        "c": pd.Categorical(rng.choice(list("abc"), n_rows)),
    })
    for name in frame.columns:
        frame.loc[rng.random(n_rows) < 0.25, name] = None
    return frame


@pytest.fixture(scope="module")
def X():
    return _holey_array()


@pytest.fixture(scope="module")
def frame():
    return _holey_frame()


def _generator_state(generator):
    kind, keys, position, *rest = generator.get_state()
    return kind, keys.tolist(), position, *rest


# -- a failure after the draw leaves the sequence where it stood ---------------------------------


def _failing_on_call(monkeypatch, number, error):
    """Make the `number`-th call of VAEImputer._with_indicator (once per written copy) raise `error`."""
    original = VAEImputer._with_indicator
    calls = {"n": 0}

    def failing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == number:
            raise error
        return original(self, *args, **kwargs)

    monkeypatch.setattr(VAEImputer, "_with_indicator", failing)


@pytest.mark.parametrize("failing_call", ["transform", "multiple_imputations"])
@pytest.mark.parametrize("error", [KeyboardInterrupt, MemoryError])
def test_a_failure_while_writing_the_draws_puts_the_generator_back(X, monkeypatch, failing_call, error):
    """Ctrl-C or a MemoryError among the copies: the next draws are those of a run without the failed call."""
    imputer = VAEImputer(**TINY, sample_posterior=True, random_state=0).fit(X)
    imputer.transform(X)  # mid-sequence
    twin = copy.deepcopy(imputer)
    _failing_on_call(monkeypatch, 2 if failing_call == "multiple_imputations" else 1, error)
    with pytest.raises(error):
        if failing_call == "transform":
            imputer.transform(X)
        else:
            imputer.multiple_imputations(X, 3)
    monkeypatch.undo()
    np.testing.assert_array_equal(imputer.transform(X), twin.transform(X))
    for ours, theirs in zip(imputer.multiple_imputations(X, 2), twin.multiple_imputations(X, 2)):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("random_state", ["caller", None])
def test_a_failure_while_writing_the_draws_leaves_the_callers_generator(frame, monkeypatch, random_state):
    """A RandomState the caller passed, or NumPy's global one under None, is not moved by a failed call."""
    generator = np.random.RandomState(3) if random_state == "caller" else np.random.mtrand._rand
    imputer = VAEImputer(**TINY, sample_posterior=True,
                         random_state=generator if random_state == "caller" else None).fit(frame)
    before = _generator_state(generator)
    _failing_on_call(monkeypatch, 2, KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        imputer.multiple_imputations(frame, 4)
    assert _generator_state(generator) == before


def _raising(error):
    def raising(*args, **kwargs):
        raise error
    return raising


@pytest.mark.parametrize("given", [False, True])
@pytest.mark.parametrize("random_state", ["caller", None])
def test_a_failed_sample_leaves_the_callers_generator(frame, monkeypatch, given, random_state):
    """Ctrl-C in the draw (or in writing the given cells back): a passed RandomState, or NumPy's global one, unmoved."""
    from skvae import VAETransformer, _conditional

    model = VAETransformer(**{k: v for k, v in TINY.items() if k != "n_importance"}, random_state=None).fit(frame)
    generator = np.random.RandomState(5) if random_state == "caller" else np.random.mtrand._rand
    if given:
        monkeypatch.setattr(_conditional, "with_given_cells", _raising(KeyboardInterrupt))
    else:
        monkeypatch.setattr(type(model._model), "sample", _raising(KeyboardInterrupt))
    conditions = {"given": {"c": "a"}, "n_importance": 5} if given else {}
    before = _generator_state(generator)
    with pytest.raises(KeyboardInterrupt):
        model.sample(4, random_state=generator if random_state == "caller" else None, **conditions)
    assert _generator_state(generator) == before
    monkeypatch.undo()
    # And the next draw is the one a run without the failed call gives.
    twin = np.random.RandomState()
    twin.set_state(generator.get_state())
    drawn = model.sample(4, random_state=generator if random_state == "caller" else None, **conditions)
    if random_state is None:
        np.random.set_state(twin.get_state())
    pd.testing.assert_frame_equal(drawn, model.sample(4, random_state=twin if random_state == "caller" else None,
                                                      **conditions))


# -- multiple_imputations' memory check counts each copy's container ------------------------------


def _available(monkeypatch, n_bytes):
    monkeypatch.setattr(skvae._memory, "ALWAYS_AFFORDABLE_BYTES", 0)
    monkeypatch.setattr(skvae._memory, "_host_available_bytes", lambda: n_bytes)


@pytest.mark.parametrize("as_frame", [True, False])
def test_many_copies_of_a_small_table_are_refused_by_their_containers(frame, monkeypatch, as_frame):
    """1,000 copies of one row: 48 KB of cells, megabytes of DataFrames (or ndarrays' headers)."""
    imputer = VAEImputer(**TINY, sample_posterior=True, random_state=0).fit(frame if as_frame else _holey_array())
    one_row = frame.iloc[1:2] if as_frame else _holey_array()[1:2]
    m = 1000
    cells = 2 * 8 * m * one_row.shape[1]
    # Room for the cells, and for ten times the cells, but not for the copies' containers.
    _available(monkeypatch, cells * 10 if as_frame else cells + m * 100)
    before = _generator_state(imputer._draws)
    with pytest.raises(Refusal, match=r"n_imputations=1000 copies of X needs about .*fewer imputations"):
        imputer.multiple_imputations(one_row, m)
    assert _generator_state(imputer._draws) == before
    # A count whose copies fit is drawn.
    assert len(imputer.multiple_imputations(one_row, 2)) == 2


@pytest.mark.parametrize("kind", ["frame", "mixed frame", "array", "array under set_output pandas"])
def test_the_counted_container_bounds_what_a_copy_takes(kind):
    """The per-copy count is an upper bound of the memory each copy holds (measured with tracemalloc)."""
    rng = np.random.default_rng(0)
    if kind == "mixed frame":
        X = pd.DataFrame({"a": rng.normal(size=30), "c": pd.Categorical(rng.choice(list("ab"), 30)),
                          "i": pd.array(rng.integers(0, 5, 30), dtype="Int64"),
                          "s": pd.array(rng.choice(["x", "y"], 30), dtype="string")})
        for name in X.columns:
            X.loc[rng.random(30) < 0.3, name] = None
    elif kind == "frame":
        X = pd.DataFrame(_holey_array(), columns=["a", "b", "c"])
    else:
        X = _holey_array()
    imputer = VAEImputer(**TINY, random_state=0, add_indicator=True).fit(X)
    if kind == "array under set_output pandas":
        imputer.set_output(transform="pandas")
    one_row = X.iloc[3:4] if isinstance(X, pd.DataFrame) else X[3:4]

    def held(m):
        gc.collect()
        tracemalloc.start()
        try:
            copies = imputer.multiple_imputations(one_row, m)
            held, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert len(copies) == m
        return held

    # What a copy holds is the growth from 100 to 300 copies: what a call builds once and keeps (the
    # schema's cached decoding tables, about 20 KB on a first call, some KB more or less on later ones as
    # caches fill) is no copy's, and charged to 100 copies it passed the count on a fresh machine.
    imputer.multiple_imputations(one_row, 1)
    per_copy = (held(300) - held(100)) / 200
    counted = 2 * 8 * one_row.shape[1] + skvae._imputer._copy_overhead_bytes(imputer, one_row, one_row.shape[1])
    assert 0 < per_copy <= counted


# -- the one-pass copies against successive transforms, as documented ----------------------------


def test_one_call_of_multiple_imputations_takes_one_step_of_the_transforms_generator(frame):
    """n_imputations=1 gives the next transform draw; m copies take one step, then transform goes on."""
    imputer = VAEImputer(**TINY, sample_posterior=True, random_state=0).fit(frame)
    twin = copy.deepcopy(imputer)
    successive = [twin.transform(frame) for _ in range(3)]
    pd.testing.assert_frame_equal(imputer.multiple_imputations(frame, 1)[0], successive[0])
    copies = imputer.multiple_imputations(frame, 3)
    pd.testing.assert_frame_equal(imputer.transform(frame), successive[2])
    # Documented: the copies of one pass are not those of successive transforms (they share each row's
    # importance samples), and they differ from one another.
    assert not any(copies[k].equals(successive[k]) for k in range(3))
    assert not copies[0].equals(copies[1])
    docstring = " ".join(VAEImputer.multiple_imputations.__doc__.split())
    assert "not the copies that m successive ``transform`` calls" in docstring
    assert "``n_imputations=1`` gives the copy that the next such ``transform`` would give" in docstring


# -- the docs' Rubin's rules say what their code does ---------------------------------------------


def _benchmark_rubin():
    spec = importlib.util.spec_from_file_location("mi_benchmark", ROOT / "benchmarks" / "multiple_imputation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.rubin


def _docs_rubin():
    page = (ROOT / "docs" / "examples" / "multiple_imputation.rst").read_text("utf-8")
    namespace = {"np": np, "stats": stats}
    for example in doctest.DocTestParser().get_examples(page):
        if example.source.startswith("def rubin"):
            exec(example.source, namespace)
    return page, namespace["rubin"]


def test_the_docs_rubin_uses_the_degrees_of_freedom_it_names():
    """(m - 1) / lambda^2, Rubin's 1987 degrees of freedom, as the text says and the benchmark pools."""
    page, rubin = _docs_rubin()
    text = " ".join(page.split())
    assert "Rubin's (1987) large-sample degrees of freedom, (m - 1) / lambda^2" in text
    benchmark_rubin = _benchmark_rubin()
    rng = np.random.default_rng(0)
    for m in (2, 5, 10, 50):
        estimates, variances = rng.normal(2, 0.1, m), rng.uniform(0.001, 0.01, m)
        pooled, (low, high) = rubin(estimates, variances)
        total = variances.mean() + (1 + 1 / m) * estimates.var(ddof=1)
        share = (1 + 1 / m) * estimates.var(ddof=1) / total
        half = stats.t.ppf(0.975, (m - 1) / share ** 2) * np.sqrt(total)
        assert pooled == pytest.approx(estimates.mean())
        assert (low, high) == pytest.approx((pooled - half, pooled + half))
        benchmark_pooled, benchmark_interval = benchmark_rubin(estimates, variances)
        assert (benchmark_pooled, *benchmark_interval) == pytest.approx((pooled, low, high))


# -- swept and found sound: the sequence through copies and refusals ------------------------------


@pytest.mark.parametrize("random_state", [0, "caller", None])
def test_the_sequence_continues_through_copies_and_refused_calls(X, tmp_path, random_state):
    """Pickle, deepcopy and skvae.save mid-sequence continue it; refused calls do not move it."""
    seed = np.random.RandomState(0) if random_state == "caller" else random_state
    imputer = VAEImputer(**TINY, sample_posterior=True, random_state=seed).fit(X)
    first = imputer.transform(X)
    skvae.save(imputer, tmp_path / "imputer.skvae")
    copies = [pickle.loads(pickle.dumps(imputer)), copy.deepcopy(imputer), skvae.load(tmp_path / "imputer.skvae")]
    for bad in (X[:, :2], np.full((2, 3), np.inf)):
        for call in (imputer.transform, lambda data: imputer.multiple_imputations(data, 2)):
            with pytest.raises(ValueError):
                call(bad)
    following = imputer.transform(X)
    assert not np.array_equal(first, following)
    for other in copies:
        np.testing.assert_array_equal(other.transform(X), following)
    observed = ~np.isnan(X)
    for draw in (first, following, *imputer.multiple_imputations(X, 3)):
        np.testing.assert_array_equal(draw[observed], X[observed])
        assert not np.isnan(draw).any()
