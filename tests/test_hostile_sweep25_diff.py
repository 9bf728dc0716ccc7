"""Hostile use, twenty-fifth sweep: differential consistency, the same question asked two ways.

Swept and found sound (tiny fits, fixed ``random_state``; bit for bit unless
said): a NumPy array against the same data as a DataFrame (string, integer,
NumPy-string, ``str``/``string``/categorical column indexes, NumPy integer
labels) under ``likelihood="gaussian"``: ``transform``, ``score_samples``,
``sample``, ``inverse_transform``, the imputer's fills and the detector's
scores, ``offset_`` and ``score_columns`` equal, each output in its
documented type (``likelihood="auto"`` types a DataFrame's columns and
leaves every column of an array Gaussian, as documented; ``sample`` of an
array fit is float64, of a DataFrame fit the training dtypes); Fortran,
strided, read-only, masked, ``longdouble``, list and tensor forms of one
array (the same fit and results); a DataFrame built from columns or from a
2-D block, with a shuffled, duplicated or string index, or a slice (the
same fit; the imputer's draws too); ``fit().transform()`` against
``fit_transform`` (transformer, imputer with and without
``sample_posterior``); a row alone, in a batch of 3, 17 and 37 rows and in a
permuted batch for ``transform``, ``score_samples`` (K 3), ``inverse_transform``,
the imputer's point fills (with and without the refinement, under
``"self_masking"`` too) and the detector's ``score_samples`` and
``score_columns``; float32 against float64 (codes and scores to float32's
precision, output dtypes by scikit-learn's rule: float32 only where every
column is float32, nullable ``Float32`` read as float64 as scikit-learn does;
``sample(given=...)`` with float32 conditions the same bits); ``n_jobs`` 1,
2, -1 and None (fits, codes, scores, ``sample`` plain, ``given`` and
``with_missing``, the imputer's draws, the detector's scores and column
scores); pickle, ``skvae.save``/``load`` and the original (``transform``,
scores, seeded and unseeded ``sample``, ``inverse_transform``, the
imputer's draws with an int seed); ``clone`` refitted twice; ``score`` the
float64 mean of ``score_samples`` (of float32 scores too, so it can differ
from ``np.mean`` of them in float32 in the last bits: the float64 sum is the
better); ``set_output(transform="pandas")`` against the default (values,
dtypes, the imputer's indicator columns); an int ``random_state`` against a
fresh ``RandomState`` of that seed (the transformer's fit and ``sample``
equal; a RandomState passed advances, so refits and unseeded ``sample``
differ, scikit-learn's convention; the imputer's first draw with a
RandomState differs from an int's, its fit having drawn from the same
generator first); ``sample`` twice with one seed; ``given`` as a dict
against a DataFrame of the same conditions, with or without free NaN
columns and ``n_samples``; ``likelihood="auto"`` against the dict of the
kinds it chose, ``verbose`` 0/1/2, ``device="cpu"``, layers as a list
(the same fit); object, ``category`` (sorted), ``string`` text, ``bool``
against ``boolean`` and object bools, int64 against Int64, float and int32,
integer categories against floats and Int64 (the same fit); ``fit`` with
``max_iter=1`` against a first ``partial_fit``; the imputer with and without
``add_indicator``, ``copy=False`` (in place, the same fills), ``-1`` in an
int array against NaN in its float twin, Int64 against float64;
``multiple_imputations(X, 1)`` against the next ``transform`` draw (both
mechanisms, arrays, DataFrames, float32); the detector against its own
``vae_``; the command line against the library on one CSV and seed (``fit``,
``transform``, ``inverse``, ``score``, ``sample`` seeded, unseeded and
``--mean``, ``impute``, ``impute --draw``, ``--draws 3`` against
``multiple_imputations``, ``--columns`` in another order, standard input
against a file); columns out of order (refused at every reading entry point,
sweep 23; a file of codes with its columns permuted is read by name by
``skvae inverse``, while ``inverse_transform`` refuses such a DataFrame:
both say what they read, neither misaligns).

Differences found documented and reasoned, kept: a ``warm_start`` fit of
2 + 2 epochs or two ``partial_fit`` calls against one fit of 4 or 2 epochs
(each fit anneals its own last quarter and seeds its shuffles from its
start, user guide "Continuing"); ``sample(given={})`` against ``sample()``
(``given`` conditions the model itself, the mixture is not used);
``sample(given=..., return_mean=True)`` and the imputer's
``sample_posterior`` draws of a row alone against in a batch (draws take
the call's generator row after row; the docs promise reproducibility per
call, not per row); a fit on the same rows in another order (minibatches,
the validation split and the mixture's draws are drawn by position, as in
scikit-learn's MLP); an imputer with ``random_state=None`` pickled or
copied draws from its own copy of NumPy's global generator (sweep 23's
decision, as IterativeImputer).

Each family below failed once (see the commit that added its tests):

- **One generator saved as several** (``skvae._persistence._Encoder.encode``,
  ``_Decoder._random_state``): a ``RandomState`` given as a VAEImputer's or
  VAEOutlierDetector's ``random_state`` is also its ``vae_``'s and (the
  imputer) the generator of its ``sample_posterior`` draws, one object, as
  ``pickle`` and ``copy.deepcopy`` keep it. ``skvae.save`` wrote each place
  as a generator of its own, so after ``load`` a draw moved only the draws'
  generator: the loaded imputer refitted after a ``transform`` (or a
  detector after its ``vae_`` sampled) seeded from a generator that had
  not moved, and every later result differed from the original's and its
  pickle's. Every place now refers to the first one's keys array and the
  loader makes one generator of them (a file that gives one keys array two
  states is refused as corrupted; older skvae reads them as copies, as it
  did).
- **A float32 copy of a table drew other imputations** (``skvae._model.VAEModel.reconstruct``):
  one imputer at one point of its sequence gave a table and its float32
  copy unrelated ``sample_posterior`` draws and ``multiple_imputations``
  (relative differences of 5 to 12), where their point fills and scores
  agree to float32's precision (sweep 22 keyed the scores' noise so):
  torch draws other numbers from one generator for float32 tensors than
  for float64 ones (``torch.multinomial`` over the weights, the
  likelihood's draws). Draws are now made in float64 whatever the input's
  dtype (a float32 value is exactly a float64 one) and cast back, so the
  two agree to float32's precision; a float32 table's draws differ from
  those of earlier versions, and cost what a float64 table's do (a
  2,000 x 10 draw, one thread on two shared cores: 0.50 s before, 0.75 s
  after, against 0.60-0.70 s for float64; point fills unchanged).
- **Successive draws resampled the same importance samples** (``VAEModel.reconstruct``,
  ``_draws_noise_seed``): the K samples of z behind a ``sample_posterior``
  draw were keyed on the row and the fitted seed alone (as a score's noise
  is, so that scores repeat), so every successive ``transform`` of a row
  resampled the same K samples: with ``n_importance=1`` every draw decoded
  one z (the draws' spread over 12 calls was that of the copies of one
  ``multiple_imputations`` call, 0.09 against 0.72 with fresh samples, on a
  one-factor table). ``VAEImputer``'s docstrings promise successive
  independent draws, each with importance samples of its own, unlike the
  copies of one ``multiple_imputations`` call. The samples are now keyed on
  the call's seed too: fresh at each call, still a function of the row alone
  (the same alone as in its batch), shared by one call's copies, and
  ``multiple_imputations(X, 1)`` still gives the next ``transform``'s copy.
  Sweep 23's variance comparison (0.163 against 0.162 at K=1, "no collapse")
  was measured with both sides sharing the samples. Every draw differs from
  those of earlier versions.
- **One model, files of other bytes** (``skvae._persistence._canonical_header``,
  ``_fields_sorted``): safetensors writes its header's keys in the order of
  a Rust hash map, other at each call, so one fitted model saved twice gave
  two files of other bytes (other checksums; a model file under version
  control or a cache keyed by its hash changed with nothing changed); and
  ``__setstate__`` restores the fields in another order than the original
  listed them, so a loaded (or unpickled) model saved again differed too.
  The header is written with sorted keys, and the state's fields (a face's
  VAE's too) in sorted order; a value's own dicts (a ``likelihood`` dict)
  keep the caller's order. The content and what ``load`` reads are
  unchanged.

Found and LEFT:

- **A category column's declared order decides the fit.** The same cells as
  ``pd.Categorical(k, categories=["w", "v", "u"])`` and as text (or a
  category of sorted levels) give two different fits (codes up to 0.24
  apart, scores up to 5 nats, by one seed), where OneHotEncoder's
  ``categories="auto"`` sorts. The schema keeps a category dtype's
  categories as the model's levels in their order because decoding rebuilds
  the dtype from them (``skvae._column_types.fit_column``), and an ordered
  category's order means something. Both fits are equally good models (the
  one-hot inputs permuted under one initialisation); sorting the levels
  apart from the dtype's order would touch the schema, decoding and every
  saved model's layout, more than this sweep should change beside two other
  helpers. Transform-time order is read by value (sweep 23), so nothing is
  misaligned.
"""

import io
import pickle

import numpy as np
import pandas as pd
import pytest

import skvae
from skvae import VAEImputer, VAEOutlierDetector, VAETransformer
from skvae._persistence import _Corrupted, _Decoder

_TINY = dict(max_iter=2, hidden_layer_sizes=(8,), latent_dim=2)


def _holey_frame(n_rows=40, seed=0):
    """A small mixed table with holes: a float, a text category and a positive column."""
    rng = np.random.RandomState(seed)
    frame = pd.DataFrame({"x": rng.normal(size=n_rows), "k": rng.choice(["u", "v", "w"], n_rows),
                          "g": rng.gamma(2.0, size=n_rows)})
    frame.loc[rng.rand(n_rows) < 0.25, "x"] = np.nan
    return frame


def _saved_and_loaded(estimator):
    buffer = io.BytesIO()
    skvae.save(estimator, buffer)
    buffer.seek(0)
    return skvae.load(buffer)


def _generators(estimator):
    """Every RandomState the estimator holds, by where it is held."""
    found = {"random_state": estimator.random_state}
    if hasattr(estimator, "vae_"):
        found["vae_.random_state"] = estimator.vae_.random_state
    if hasattr(estimator, "_draws"):
        found["_draws"] = estimator._draws
    return {where: value for where, value in found.items() if isinstance(value, np.random.RandomState)}


# ---------------------------------------------------------------- one generator, saved once


@pytest.mark.parametrize("face", [VAEImputer, VAEOutlierDetector])
def test_a_shared_random_state_stays_one_generator_through_save_and_load(face):
    """The places that hold one RandomState hold one after ``load``, as after ``pickle``."""
    fitted = face(random_state=np.random.RandomState(0), **_TINY).fit(_holey_frame())
    held = _generators(fitted)
    assert len(held) >= 2 and len({id(value) for value in held.values()}) == 1
    for copy in (pickle.loads(pickle.dumps(fitted)), _saved_and_loaded(fitted)):
        copied = _generators(copy)
        assert copied.keys() == held.keys()
        assert len({id(value) for value in copied.values()}) == 1
        first = next(iter(copied.values()))
        assert first is not fitted.random_state  # a copy, never the caller's object
        np.testing.assert_array_equal(first.get_state()[1], fitted.random_state.get_state()[1])


def test_a_loaded_imputer_refitted_after_a_draw_continues_as_the_original_and_its_pickle():
    """transform (a draw), fit, transform: the loaded imputer's tables are the original's and its pickle's.

    Before the fix ``load`` made three generators of the one: the draw
    advanced ``_draws`` alone, so the refit seeded from a ``random_state``
    that had not moved, and every later draw differed.
    """
    frame = _holey_frame()
    fitted = VAEImputer(sample_posterior=True, random_state=np.random.RandomState(0), **_TINY).fit(frame)
    runs = {}
    for name, imputer in (("pickle", pickle.loads(pickle.dumps(fitted))), ("load", _saved_and_loaded(fitted)),
                          ("original", fitted)):
        first = imputer.transform(frame)
        imputer.fit(frame)
        runs[name] = (first, imputer.transform(frame), imputer.multiple_imputations(frame, 2))
    for name in ("pickle", "load"):
        pd.testing.assert_frame_equal(runs[name][0], runs["original"][0], check_exact=True)
        pd.testing.assert_frame_equal(runs[name][1], runs["original"][1], check_exact=True)
        for got, expected in zip(runs[name][2], runs["original"][2]):
            pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_a_loaded_detector_refitted_after_its_vae_sampled_continues_as_the_original():
    """The detector's ``vae_`` draws from the detector's generator, so a refit after them seeds alike."""
    frame = _holey_frame()
    fitted = VAEOutlierDetector(random_state=np.random.RandomState(0), **_TINY).fit(frame)
    scores = {}
    for name, detector in (("load", _saved_and_loaded(fitted)), ("original", fitted)):
        detector.vae_.sample(3)
        scores[name] = detector.fit(frame).score_samples(frame)
    np.testing.assert_array_equal(scores["load"], scores["original"])


def test_generators_of_an_int_seed_stay_apart():
    """With an int ``random_state`` the imputer's draws have a generator of their own; so after load."""
    fitted = VAEImputer(sample_posterior=True, random_state=0, **_TINY).fit(_holey_frame())
    loaded = _saved_and_loaded(fitted)
    assert loaded.random_state == 0 and loaded.vae_.random_state == 0
    assert isinstance(loaded._draws, np.random.RandomState)


def test_a_file_giving_one_generator_two_states_is_refused():
    """Two references to one keys array must agree: a file that says otherwise was not written by save."""
    keys = np.random.RandomState(0).get_state()[1]
    decoder = _Decoder({"g.keys": keys}, "model.skvae")
    document = {"a": {"$random_state": ["MT19937", "g.keys", 3, 0, 0.0]},
                "b": {"$random_state": ["MT19937", "g.keys", 3, 0, 0.0]}}
    decoded = decoder.decode(document)
    assert decoded["a"] is decoded["b"]
    forged = {"a": {"$random_state": ["MT19937", "g.keys", 3, 0, 0.0]},
              "b": {"$random_state": ["MT19937", "g.keys", 7, 0, 0.0]}}
    with pytest.raises(_Corrupted, match="different states"):
        _Decoder({"g.keys": keys}, "model.skvae").decode(forged)


# ---------------------------------------------------------------- draws of a float32 copy


def _holey_numbers(n_rows=50, seed=0):
    rng = np.random.RandomState(seed)
    frame = pd.DataFrame({"x": rng.normal(size=n_rows), "y": rng.gamma(2.0, size=n_rows) * 100,
                          "z": rng.normal(size=n_rows) * 0.01 + 3})
    frame[rng.rand(n_rows, 3) < 0.25] = np.nan
    return frame


def _assert_same_draws_to_float32(got, expected, missing, scale):
    """Equal to float32's precision: 1e-5 of the value or of its column's spread (float32 networks between)."""
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    tolerance = 1e-5 * (np.abs(expected) + scale[None, :])
    assert (np.abs(got - expected)[missing] <= tolerance[missing]).all(), np.abs(got - expected)[missing].max()


@pytest.mark.parametrize("mechanism", ["ignorable", "self_masking"])
@pytest.mark.parametrize("as_frame", [True, False])
def test_a_float32_copy_of_a_table_is_given_the_tables_draws(mechanism, as_frame):
    """One imputer at one point of its draws: the float32 copy's draws are the table's, to float32's precision.

    Its point fills and scores already were (sweep 22); the draws were other
    numbers altogether (relative differences of 5 to 12), torch drawing
    other numbers from one generator for float32 tensors than for float64.
    """
    table = _holey_numbers()
    table = table if as_frame else table.to_numpy()
    copy32 = table.astype(np.float32) if as_frame else table.astype(np.float32)
    fitted = VAEImputer(sample_posterior=True, missing_mechanism=mechanism, random_state=0, **_TINY).fit(table)
    missing = np.isnan(np.asarray(table, dtype=float))
    scale = np.nanstd(np.asarray(table, dtype=float), axis=0)
    as64 = pickle.loads(pickle.dumps(fitted)).transform(table)
    as32 = pickle.loads(pickle.dumps(fitted)).transform(copy32)
    assert (as32.dtypes == np.float32).all() if as_frame else as32.dtype == np.float32
    _assert_same_draws_to_float32(as32, as64, missing, scale)
    copies64 = pickle.loads(pickle.dumps(fitted)).multiple_imputations(table, 3)
    copies32 = pickle.loads(pickle.dumps(fitted)).multiple_imputations(copy32, 3)
    for got, expected in zip(copies32, copies64):
        _assert_same_draws_to_float32(got, expected, missing, scale)
    # Still draws: the copies differ from each other, and the next call from this one.
    assert not np.array_equal(np.asarray(copies32[0])[missing], np.asarray(copies32[1])[missing])
    again = fitted.transform(copy32), fitted.transform(copy32)
    assert not np.array_equal(np.asarray(again[0])[missing], np.asarray(again[1])[missing])


def test_an_imputer_fitted_on_a_float32_copy_draws_as_one_fitted_on_the_table():
    """Fitted and drawn in float32 or in float64, by one seed: the same draws to float32's precision."""
    table = _holey_numbers()
    missing = table.isna().to_numpy()
    draws64 = VAEImputer(sample_posterior=True, random_state=0, **_TINY).fit_transform(table)
    draws32 = VAEImputer(sample_posterior=True, random_state=0, **_TINY).fit_transform(table.astype(np.float32))
    _assert_same_draws_to_float32(draws32, draws64, missing, table.std().to_numpy())


def test_one_of_multiple_imputations_is_still_the_next_draw_of_a_float32_table():
    """``n_imputations=1`` gives the copy the next ``transform`` draw gives (its docstring), float32 too."""
    table = _holey_numbers().astype(np.float32)
    fitted = VAEImputer(sample_posterior=True, random_state=0, **_TINY).fit(table)
    (copy,) = pickle.loads(pickle.dumps(fitted)).multiple_imputations(table, 1)
    pd.testing.assert_frame_equal(copy, pickle.loads(pickle.dumps(fitted)).transform(table), check_exact=True)


# ---------------------------------------------------------------- successive draws, their own importance samples


def _importance_noise_of_draws(monkeypatch):
    """Record the importance noise (K, rows, width) of every draw the networks make, as float64 arrays."""
    from skvae._inference import InferenceNetworks

    recorded, impute = [], InferenceNetworks.impute

    def recording(self, x, observed, noise, generator=None, **options):
        if generator is not None:
            recorded.append(noise.detach().cpu().numpy().astype(np.float64))
        return impute(self, x, observed, noise, generator, **options)

    monkeypatch.setattr(InferenceNetworks, "impute", recording)
    return recorded


@pytest.mark.parametrize("mechanism", ["ignorable", "self_masking"])
def test_successive_draws_take_importance_samples_of_their_own(monkeypatch, mechanism):
    """Each ``transform`` draw gets fresh samples of z; a row's are its own whatever rows share the call.

    Before the fix every draw of a row resampled the K samples of z keyed on
    the fitted seed, the same at every call: with ``n_importance=1`` every
    draw decoded one z, where the docstrings promise successive independent
    draws, each with its own importance samples (unlike the copies of one
    ``multiple_imputations`` call, which share them).
    """
    table = _holey_numbers()
    fitted = VAEImputer(sample_posterior=True, missing_mechanism=mechanism, n_importance=3, random_state=0,
                        **_TINY).fit(table)
    recorded = _importance_noise_of_draws(monkeypatch)
    fitted.transform(table)
    fitted.transform(table)
    first, second = recorded
    assert first.shape == second.shape
    assert not np.isclose(first, second).any()
    # A row's noise at a call is its own: the same alone as among the others, from the same point of the sequence.
    recorded.clear()
    row = 7
    pickle.loads(pickle.dumps(fitted)).transform(table)
    pickle.loads(pickle.dumps(fitted)).transform(table.iloc[[row]])
    among, alone = recorded
    np.testing.assert_array_equal(alone[:, 0], among[:, row])
    # The copies of one multiple_imputations call share their row's samples (one pass, as documented).
    recorded.clear()
    fitted.multiple_imputations(table, 3)
    assert len(recorded) == 1


def test_successive_draws_of_one_importance_sample_spread_as_fresh_ones():
    """With ``n_importance=1`` successive draws vary with z: more than the copies of one call, which share it."""
    rng = np.random.RandomState(1)
    latent = rng.normal(size=400)
    table = pd.DataFrame({"a": latent + 0.05 * rng.normal(size=400), "b": latent + 0.05 * rng.normal(size=400)})
    holes = table.copy()
    holes.loc[:199, "b"] = np.nan
    # Trained long enough for the decoder to follow z (on 60 epochs its own noise hides z's spread).
    fitted = VAEImputer(sample_posterior=True, n_importance=1, max_iter=200, hidden_layer_sizes=(16,), latent_dim=1,
                        refinement=None, random_state=0).fit(holes)
    successive = np.array([fitted.transform(holes)["b"].to_numpy()[:200] for _ in range(12)])
    shared = np.array([copy["b"].to_numpy()[:200] for copy in fitted.multiple_imputations(holes, 12)])
    # Fresh z per draw adds the posterior's spread of z to the decoder's own noise.
    assert successive.var(axis=0).mean() > 3 * shared.var(axis=0).mean()


# ---------------------------------------------------------------- one model, one file


def _saved_bytes(estimator):
    buffer = io.BytesIO()
    skvae.save(estimator, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("face", [VAETransformer, VAEImputer, VAEOutlierDetector])
@pytest.mark.parametrize("seed", [0, "RandomState"])
def test_one_model_is_saved_as_the_same_bytes_however_it_was_reached(face, seed):
    """Saved twice, saved after a load, after a pickle: the same bytes (files compare by checksum).

    safetensors wrote the header's keys in a hash map's order, other at each
    call, and ``__setstate__`` restores the fields in another order than the
    original listed them, so the same model gave files of other bytes.
    """
    frame = _holey_frame()
    frame = frame.rename(columns={"k": 'café\\n"☃"'})
    random_state = np.random.RandomState(0) if seed == "RandomState" else seed
    fitted = face(random_state=random_state, likelihood={"g": "lognormal", "x": "gaussian"}, **_TINY).fit(frame)
    first = _saved_bytes(fitted)
    assert _saved_bytes(fitted) == first
    loaded = skvae.load(io.BytesIO(first))
    assert _saved_bytes(loaded) == first
    assert _saved_bytes(pickle.loads(pickle.dumps(fitted))) == first
    # A caller's dict keeps its order through the file.
    assert list(loaded.likelihood) == ["g", "x"]
