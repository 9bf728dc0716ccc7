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
