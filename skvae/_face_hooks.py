"""The private hooks through which VAEImputer and VAEOutlierDetector use their VAETransformer.

Each validates its input with the transformer's own checks, calls the model
core once and returns what the other face needs: per-cell log-likelihoods,
MIWAE reconstructions (and their decoding), and a fit with the training
rows' scores.

The options every inference call reads (``handle_unknown``, ``n_jobs``) are
the calling face's: a hook takes them as `options`, so that a face's
``set_params(handle_unknown=...)`` after fit takes effect as the
transformer's own does, and its fitted ``vae_`` is never changed by a call.
Without `options` a hook reads the transformer's own parameters.
"""

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_random_state

from ._refusals import TermWarning, method, rows, table
from ._torch_scope import with_torch_defaults
from ._transaction import reads_state, transactional
from ._validation import check_n_importance
from ._warnings import warn

#: The parameters every face's inference calls read, passed to a hook as its `options`.
INFERENCE_OPTIONS = ("handle_unknown", "n_jobs")


def inference_options(face):
    """The options of an inference call, from `face`'s parameters (see the module docstring)."""
    return {name: getattr(face, name) for name in INFERENCE_OPTIONS}


class FaceHooks:
    """Mixin of :class:`skvae.VAETransformer` (before BaseEstimator): the hooks of the other faces."""

    @with_torch_defaults
    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    def _fit_and_score(self, X, n_importance, n_samples):
        """``fit(X)``, then the training rows' scores and per-cell log-likelihoods, X validated once.

        The outlier detector's fit: its threshold and its typical cells come
        from the training rows (see ``score_samples``, ``_column_log_likelihood``).
        """
        X = self._validate_training_table(X)
        self._fit(X, incremental=False)
        options = self._inference_options()
        return (self._model.score_samples(X, n_importance, **options),
                self._model.column_log_likelihood(X, n_samples, **options))

    def _inference_options(self, options=None):
        """The options of an inference call: `options` (a face's), else this transformer's own."""
        return inference_options(self) if options is None else options

    @with_torch_defaults
    @reads_state
    def _score_samples(self, X, n_importance, options=None):
        """``score_samples`` with the calling face's options."""
        return self._scores_of(X, n_importance, options)

    def _scores_of(self, X, n_importance, options=None):
        """The body of ``score_samples`` (the transformer's own and the faces'), with the calling face's options."""
        n_importance = check_n_importance(n_importance)
        X = self._validate_input(X)
        scores = self._model.score_samples(X, n_importance, **self._inference_options(options))
        _warn_of_scores_past_float64(scores)
        return scores

    @with_torch_defaults
    @reads_state
    def _column_log_likelihood(self, X, n_samples=16, options=None):
        """E_q[log p(x_ij | z)] per cell, in nats (NaN for missing cells).

        A row's cells add up, minus KL(q(z|x) || p(z)), to its ELBO (averaged
        over `n_samples` draws of z): how much each column makes the row
        likely or unlikely. The draws are the row's own, as in ``score_samples``.
        """
        n_samples = check_n_importance(n_samples, "n_samples")
        X = self._validate_input(X)
        return self._model.column_log_likelihood(X, n_samples, **self._inference_options(options))

    @with_torch_defaults
    @reads_state
    def _reconstruct(self, X, n_importance=100, random_state=None, n_draws=1, options=None):
        """Every cell of X predicted from its row's observed cells (MIWAE), as encoded values.

        With ``random_state=None``, the self-normalised importance-weighted
        conditional mean (for categories, the level nearest it where the levels
        are numbers, the most probable one where they are labels) over
        ``n_importance`` samples of q(z | x_observed). Otherwise one draw from
        the approximate conditional p(x_missing | x_observed), by
        sampling-importance-resampling, seeded by `random_state`.
        :meth:`_decode_reconstruction` turns the result into the user's units.

        Observed cells are predicted too; callers keep them as they were.
        With `random_state` and ``n_draws=m > 1``: m draws per row from the
        same importance samples, shape (n_rows, m, n_features).
        """
        n_importance = check_n_importance(n_importance)
        X = self._validate_input(X)
        seed = None if random_state is None else check_random_state(random_state).randint(np.iinfo(np.int32).max)
        return self._model.reconstruct(X, n_importance, seed, n_draws=n_draws, **self._inference_options(options))

    def _decode_reconstruction(self, values):
        """What :meth:`_reconstruct` returned, in the user's units (``self._schema.decode``).

        A self-masking column's fills keep the column's precision but may
        leave its observed range: the mechanism puts the missing values where
        the observed ones are not (above them, when large values go missing).
        """
        return self._schema.decode(values, beyond_range=self._model.self_masked_columns)


def _warn_of_scores_past_float64(scores):
    """A UserWarning naming the rows whose bound fell below float64's range (scored -inf).

    Hostile sweep 27: a finite row far outside the fitted data (1e155 in a
    column fitted on standard normals) has a Gaussian log-density near
    -(1e155)**2 / 2, past float64's -1.8e308; it came back -inf without a word
    (the networks, which a refusal names, had not overflowed). -inf is that
    number rounded as float64 rounds it, and the detector flags such a row as
    it should, so it is returned; the warning says which rows and why, as the
    detector's warning about rows with nothing observed does.
    """
    positions = np.flatnonzero(np.isneginf(scores))
    if not positions.size:
        return
    # In terms (hostile sweep 28): ``skvae score`` says the file and its lines, not "X (row 0)".
    warn(TermWarning(
        method("score_samples"), f"the bound of {positions.size} row{'s' * (positions.size > 1)} of ", table("X"),
        " (", rows(positions), f") lies below float64's range (-1.8e308), so "
        f"{'they score' if positions.size > 1 else 'it scores'} -inf: such a row lies far outside the data the "
        "model was fitted on (check it for a unit or entry error)."), TermWarning)

