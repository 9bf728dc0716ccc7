"""Hostile use, twenty-fifth sweep: differential consistency, the same question asked two ways.

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
  those of earlier versions.
"""

import io
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

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
