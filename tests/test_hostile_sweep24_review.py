"""Hostile sweep 24 (review): a demanding reviewer's read of sweep 23's merged changes (b45cab7..HEAD).

Swept and found sound: the likelihood's row padding (``_padded_rows``) with
the mechanism's ``modelled_missingness`` (padded rows copy the first row's
values, mask and noise, the mechanism's noise columns included, and are cut
before the overflow check, so ``NetworkOverflow`` names only real rows);
``impute`` pads only without a generator, so seeded draws keep their stream;
the imputer's ``_row_products`` and ``_passes``; the inference copy of
``missingness_`` remade on edits (read per batch: a concatenation of a few
numbers); the detector's empty rows under a mechanism that models no column;
``duplicates --change --base b45cab7``: no pair in library code (three
boilerplate pairs in tests). One-row latency, timeit in one process, the two
versions' modules swapped in turn (3-5 interleaved rounds, best of each,
300 x 30 table, hidden (64,), 2 shared cores): ``transform`` 0.94-1.09 x
b45cab7 (no likelihood padding on that path), ``score_samples`` (K = 1)
1.08-1.10 x, 64 rows 0.95-1.00 x.

Found and fixed, each an interaction of two branches:

- A ``self_masking`` fit that models no column (the mechanism branch made it
  the ignorable one, ``modelled_missingness``) still held out rows with no
  observed cell, scored by the KL term alone: the training branch's rule
  read the mechanism's module (``VAEModel._validatable_rows``), so
  ``early_stopping=True`` on one observed row was accepted and ``"auto"``
  counted the empty rows.
- ``score_samples`` with many draws chunked them by the rows given, after
  which the invariants branch padded each chunk to 16 (32) rows: a lone row,
  K = 100,000 on 30 columns, grew its peak from 16 MB to 209 MB (16 times
  the batch bound). Draws are now chunked by the padded rows and batches of
  scores are whole paddings, so the bits alone and in a batch (sweep 23's
  invariant) hold past one chunk too; the sweep 23 invariants docstring's
  "left" note says so.
- Where many draws leave a batch room for fewer rows than one padding, each
  batch of 1-15 rows was padded to 16: 40 rows ran the likelihood on 20
  batches of 16. Batches of ``score_samples``, ``score_columns`` and the
  imputer's point fills now hold one padding's worth (the memory their
  tensors took anyway): an imputer's ``transform`` of 50 rows with
  ``n_importance=2000`` took 1.02 s, now 0.31 s (b45cab7: 0.19 s).

Left:

- skvae/_inference.py:125 (LIKELIHOOD_LOOP_BYTES): a lone row still pays the
  padding's 16 rows of likelihood work where it has many draws, measured in
  one process against b45cab7: ``VAEImputer.transform`` of one row
  (n_importance=100) 2.0-2.2 x, ``score_samples(n_importance=1000)`` of one
  row 10 x, an imputer's transform of 50 rows 1.35 x. The invariants branch
  recorded this cost as worth a row's bits being its own in any batch, and
  issue 22's one-row promise is of ``transform``, which does not pay it. A
  cheaper padding exists in principle (only K x rows x width must fill whole
  vector steps, so with K a multiple of 4 one row needs 4 rows, not 16), but
  every tensor without the draws' dimension and the leading-dimension
  log-softmax would have to be checked: not a local change.
- skvae/_model.py (``reconstruct``) and ``score_columns``: these do not
  chunk their draws, so a lone row with draws beyond the batch bound
  (n_importance in the tens of thousands) still takes 16 (32) rows' worth
  of it, as since sweep 23; chunking ``impute``'s draws would change how its
  self-normalised weights are summed.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import skvae
from skvae._refusals import Refusal

TINY = dict(hidden_layer_sizes=(8,), latent_dim=2, max_iter=2, random_state=0)


def _text_only(n_observed, n_empty):
    """Text categories only (a kind self_masking does not model), `n_empty` rows with no observed cell."""
    levels = np.array(["x", "y", "z"])[np.arange(n_observed) % 3]
    return pd.DataFrame({"a": list(levels) + [None] * n_empty,
                         "b": list(levels[::-1]) + [None] * n_empty})


def _fit(X, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the "models no column" warning is sweep 23's, pinned there
        return skvae.VAETransformer(**{**TINY, **params}).fit(X)


@pytest.mark.parametrize("mechanism", ["ignorable", "self_masking"])
def test_a_mechanism_that_models_no_column_holds_out_no_empty_row(mechanism):
    # The training branch drew held-out rows from rows with an observed cell unless a mechanism was
    # fitted; the mechanism branch made a self_masking fit that models no column the ignorable one
    # (p(s) = 1). Merged, such a fit held out empty rows, scored by the KL term alone.
    with pytest.raises(Refusal, match="at least 2 rows with an observed cell"):
        _fit(_text_only(1, 7), early_stopping=True, missing_mechanism=mechanism)


@pytest.mark.parametrize("mechanism", ["ignorable", "self_masking"])
@pytest.mark.parametrize("n_observed, n_empty, validates", [(100, 400, False), (500, 0, True)])
def test_auto_validation_counts_the_rows_with_an_observed_cell_alike(mechanism, n_observed, n_empty, validates):
    # 'auto' asks for 50 held-out rows: 10% of 500 rows, but of only 100 with an observed cell. Networks
    # wide enough (over 10 weights a row) that the row count decides.
    vae = _fit(_text_only(n_observed, n_empty), early_stopping="auto", missing_mechanism=mechanism,
               hidden_layer_sizes=(128, 64))
    assert bool(vae.validation_scores_) == validates


def _recording_chunks(monkeypatch):
    """Record (draws, rows) of every noise chunk the importance-weighted bound runs its likelihood on."""
    import skvae._inference as inference

    shapes, bound = [], inference.importance_weighted_bound

    def recording(encoder, decoder, likelihood, x, noise_chunks, *args, **kwargs):
        def seen(chunks):
            for chunk in chunks:
                shapes.append(chunk.shape[:2])
                yield chunk
        return bound(encoder, decoder, likelihood, x, seen(noise_chunks), *args, **kwargs)

    monkeypatch.setattr(inference, "importance_weighted_bound", recording)
    return shapes


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_rows", [1, 5, 40])
def test_scores_with_many_draws_keep_the_likelihood_within_the_batch_bound(monkeypatch, dtype, n_rows):
    # The invariants branch padded the likelihood's rows to 16 (32) after the draws were chunked by the
    # rows given: a lone row's chunk of K = 100,000 draws ran on 16 times the bound (16 MB to 209 MB).
    from skvae._inference import MAX_BATCH_ELEMENTS

    X = np.random.default_rng(3).normal(size=(60, 4)).astype(dtype)
    vae = _fit(X)
    shapes = _recording_chunks(monkeypatch)
    vae.score_samples(X[:n_rows], n_importance=20_000)
    assert shapes and sum(draws for draws, _ in shapes) >= 20_000
    row_width = vae._model.row_width()
    assert max(draws * rows * row_width for draws, rows in shapes) <= MAX_BATCH_ELEMENTS


def test_a_row_scores_its_bits_alone_and_in_a_batch_when_its_draws_take_several_chunks():
    # Chunked by the padded rows, a row alone and a batch of fewer rows than one padding take the same
    # chunks, and batches are whole paddings: the bits of sweep 23's invariant stand past one chunk.
    X = np.random.default_rng(2).normal(size=(40, 4))
    vae = _fit(X)
    together = vae.score_samples(X, n_importance=10_000)
    rows = [0, 7, 23, 39]
    alone = np.concatenate([vae.score_samples(X[i:i + 1], n_importance=10_000) for i in rows])
    np.testing.assert_array_equal(alone, together[rows])


@pytest.mark.parametrize("call", ["imputer transform", "score_samples", "score_columns"])
def test_calls_with_many_draws_pad_their_rows_once_not_per_small_batch(monkeypatch, call):
    # Where many draws leave the bound room for fewer rows than one padding (2 rows here), each batch
    # was padded to 16 rows: 40 rows ran the likelihood on 20 batches of 16 (8 times the work; an
    # imputer's transform with n_importance=2000, 5.7 times slower than b45cab7's). Batches now hold
    # a padding's worth of rows, which their tensors take anyway.
    from skvae._inference import InferenceNetworks, likelihood_rows

    X = np.random.default_rng(4).normal(size=(60, 30))
    X[np.random.default_rng(5).random(X.shape) < 0.1] = np.nan
    n_rows, draws = 40, 3000
    method = {"imputer transform": "impute", "score_samples": "importance_weighted_bound",
              "score_columns": "cell_log_likelihood"}[call]
    rows_per_call, original = [], getattr(InferenceNetworks, method)

    def recording(self, x, *args, **kwargs):
        rows_per_call.append(x.shape[0])
        return original(self, x, *args, **kwargs)

    if call == "imputer transform":
        fitted = skvae.VAEImputer(**TINY, n_importance=draws).fit(X)
        monkeypatch.setattr(InferenceNetworks, method, recording)
        fitted.transform(X[:n_rows])
    elif call == "score_samples":
        fitted = _fit(X)
        monkeypatch.setattr(InferenceNetworks, method, recording)
        fitted.score_samples(X[:n_rows], n_importance=draws)
    else:
        fitted = skvae.VAEOutlierDetector(**TINY).fit(X)
        monkeypatch.setattr(InferenceNetworks, method, recording)
        fitted.score_columns(X[:n_rows], n_samples=draws)
    assert sum(rows_per_call) == n_rows
    assert sum(likelihood_rows(n, torch_float64()) for n in rows_per_call) == likelihood_rows(n_rows, torch_float64())


def torch_float64():
    import torch

    return torch.float64
