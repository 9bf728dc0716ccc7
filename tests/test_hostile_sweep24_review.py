"""Hostile sweep 24 (review): a demanding reviewer's read of sweep 23's merged changes (b45cab7..HEAD).

Placeholder docstring: rewritten at the end of the sweep.
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
