"""The latent law of ``sample``: a Gaussian mixture fitted to the aggregate posterior of the training rows.

See :meth:`skvae._model.VAEModel.set_latent_mixture` for why; the face fits
it after each fit (scikit-learn's GaussianMixture stays out of the core).

The mixture is fitted to draws z ~ q(z | x) of the training rows, not to
their posterior means: the decoder was trained on such draws, and where a
latent dimension is only weakly used (posterior standard deviations near the
prior's 1 while the means vary a little), a mixture of the means alone is far
narrower than what the decoder saw and sends samples to the middle of the
latent space, whose decodings are blurred (on anes96 this doubled the
share of impossible category pairs; benchmarks/README.md, "Numbers behind
the code").
"""

import math
import sys

import numpy as np
import torch
from sklearn import config_context

from ._inference import NetworkOverflow
from ._schema import is_dataframe
from ._threads import one_blas_and_openmp_thread


def __getattr__(name):
    """``GaussianMixture``, imported on first use: sklearn.mixture (and the k-means it starts from) takes
    0.3 s to import, which every process paid in ``import skvae``, the command line's sample, transform and
    score included. The name stays this module's, where tests put their own."""
    if name == "GaussianMixture":
        from sklearn.mixture import GaussianMixture

        return GaussianMixture
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: The latent mixture of ``sample`` has up to this many components, each for
#: at least LATENT_MIXTURE_ROWS_PER_COMPONENT training rows, and is fitted on
#: at most LATENT_MIXTURE_MAX_ROWS of them (a subsample on larger data).
LATENT_MIXTURE_COMPONENTS = 10
LATENT_MIXTURE_ROWS_PER_COMPONENT = 20
LATENT_MIXTURE_MAX_ROWS = 2_000
#: Draws from q(z | x) per row: enough for LATENT_MIXTURE_MAX_ROWS draws in all, at most this many.
LATENT_MIXTURE_MAX_DRAWS_PER_ROW = 5
#: EM stops when the mean log-likelihood per draw gains less than this.
LATENT_MIXTURE_TOL = 1e-2
#: Rows whose draws reach beyond this magnitude (10,000 prior standard
#: deviations: the KL term alone would cost such a row 5e7 nats, so a trained
#: encoder maps none of its rows there) are left out of the mixture. Only a
#: row far outside the scaling that a continued fit keeps from the first one
#: (a value of 1e50 where the first fit saw values near 1) is mapped so far,
#: and it broke the mixture: a component holding it with ordinary rows had a
#: covariance too ill-conditioned for the 1e-4 regularisation to keep it
#: positive definite in float64, and beyond 1e150 the squares were infinite;
#: the fit failed after training, with scikit-learn's, torch's or SciPy's
#: error ("array must not contain infs or NaNs").
LATENT_MIXTURE_MAX_ABS = 1e4
#: Components x latent_dim**2, the covariance entries of the mixture, at most
#: this many (8 MB in float64): 10 components up to 323 dimensions, fewer
#: beyond, and no mixture beyond 1,024 (samples then come from the prior).
#: Hostile sweep 20: the mixture had 10 full d x d covariances whatever d, so
#: latent_dim=3000 on a 2,000-row table spent 86 s and 3.7 GB on EM after a
#: one-epoch fit of tiny networks, and latent_dim=20000 asked for tens of GB.
#: Such a mixture is also meaningless: its 2,000 draws cannot estimate a full
#: covariance of more dimensions than draws per component.
LATENT_MIXTURE_MAX_COVARIANCE_ENTRIES = 2 ** 20
# Why these numbers, and full covariances: benchmarks/README.md, "Numbers behind the code".


def fit_latent_mixture(model, X, handle_unknown, n_jobs, *, pooled=False):
    """Fit the Gaussian mixture ``sample`` draws z from to draws from the posteriors of X's rows.

    Fewer rows than one component's worth, or a latent space too wide for one
    component's covariance (LATENT_MIXTURE_MAX_COVARIANCE_ENTRIES), leave the
    model without a mixture: its samples come from the prior.

    With `pooled` (``partial_fit`` continuing a model), X is one block of a
    longer stream, and the model's previous mixture stands for the rows
    before it: the new mixture is fitted to draws from that mixture and from
    X's posteriors, in proportion to the rows behind each, the previous
    mixture counted as at most LATENT_MIXTURE_MAX_ROWS rows (so the mixture
    follows the networks as they train, at least the last such number of
    rows weighing in). Hostile sweep 21: the mixture was X's alone, so after
    ``partial_fit`` on a block of one category's rows ``sample`` drew that
    category in 98% of rows (45% before), and a block of fewer than 20 rows
    (the remainder of a stream) sent ``sample`` back to the prior.
    """
    latent_dim = model.latent_dim
    max_components = LATENT_MIXTURE_MAX_COVARIANCE_ENTRIES // (latent_dim * latent_dim)
    previous = model.latent_mixture if pooled else None
    previous_rows = mixture_rows(previous)
    if X.shape[0] + previous_rows < LATENT_MIXTURE_ROWS_PER_COMPONENT or max_components < 1:
        model.latent_mixture = None
        return
    rng = np.random.RandomState(model.seed)
    block_rows = X.shape[0]
    rows = None  # the training rows checked, where a subsample
    if X.shape[0] > LATENT_MIXTURE_MAX_ROWS:
        rows = np.sort(rng.choice(X.shape[0], LATENT_MIXTURE_MAX_ROWS, replace=False))
        X = X.iloc[rows] if is_dataframe(X) else X[rows]
    try:
        # draws: (per row, rows, latent_dim)
        means, deviations, holes, draws = _posterior_draws(model, X, handle_unknown, n_jobs, rng)
    except NetworkOverflow as error:
        # Hostile sweep 18: the networks' own message ("far outside the range of the training data")
        # is wrong here, where the rows are the training rows: the last step of training broke the
        # networks (no later epoch scores its weights; learning_rate=1e37 does it), or a continued
        # fit was given rows far beyond the first fit's.
        positions = [int(rows[r]) for r in error.rows] if rows is not None else error.rows
        raise NetworkOverflow(
            f"Training left networks that overflow on {len(error.rows)} of the {X.shape[0]} training rows "
            f"checked (the first is row {positions[0]}): the last optimizer steps broke them, which a learning_rate "
            "too large for this data does (lower it), or, in a continued fit (warm_start, partial_fit), "
            "these rows lie far beyond the range of the data the model was first fitted on.",
            positions,
        ) from None
    within = (np.abs(draws) <= LATENT_MIXTURE_MAX_ABS).all(axis=(0, 2))  # False for NaN too
    if not (holes.any() or previous is not None and "holes" in previous):
        holes = None  # nothing to record: no cell of these rows, nor of earlier blocks, is missing
    if not within.all():
        draws, means, deviations = draws[:, within], means[within], deviations[within]
        holes = None if holes is None else holes[within]
    n_rows = draws.shape[1]
    # The rows of X the checked ones stand for (all of X's, less the share left out).
    block_rows = block_rows * n_rows / within.size
    rows_behind = min(int(round(block_rows)) + previous_rows, LATENT_MIXTURE_MAX_ROWS)
    if (n_rows if previous is None else rows_behind) < LATENT_MIXTURE_ROWS_PER_COMPONENT:
        model.latent_mixture = None
        return
    draws = draws.reshape(-1, draws.shape[2])
    if previous is not None:
        # The previous mixture's share of the pooled draws is its share of the rows behind them.
        n_previous = (LATENT_MIXTURE_MAX_ROWS if n_rows == 0
                      else math.ceil(draws.shape[0] * previous_rows / block_rows))
        generator = torch.Generator().manual_seed(int(rng.randint(np.iinfo(np.int32).max)))
        earlier = model._draw_latent(n_previous, generator, prior=False).numpy()
        draws = np.concatenate([draws, earlier]) if n_rows else earlier
    n_components = int(np.clip(rows_behind // LATENT_MIXTURE_ROWS_PER_COMPONENT, 1,
                               min(LATENT_MIXTURE_COMPONENTS, max_components)))
    # reg_covar keeps a collapsed latent dimension's variance positive.
    # The draws are NumPy whatever the user's array API setting (it would refuse k-means initialisation).
    # One thread for BLAS and OpenMP alike: the matrices are latent_dim wide, where OpenBLAS's
    # threads cost more than they save, and the k-means that starts EM runs on scikit-learn's
    # OpenMP threads, which right after training waited on torch's for a second or more
    # (benchmarks/README.md, "Numbers behind the code"). BLAS's count is process-wide: see
    # one_blas_and_openmp_thread for overlapping fits.
    # Read through the module (see __getattr__), so that it is imported on first use only.
    GaussianMixture = getattr(sys.modules[__name__], "GaussianMixture")
    with config_context(array_api_dispatch=False), one_blas_and_openmp_thread():
        mixture = GaussianMixture(n_components, covariance_type="full", reg_covar=1e-4, tol=LATENT_MIXTURE_TOL,
                                  random_state=rng).fit(draws)
    hole_record = None if holes is None else (means, deviations, holes)
    if previous is not None:
        hole_record = _pooled_hole_record(previous, hole_record, previous_rows, block_rows, rng)
    model.set_latent_mixture(mixture.weights_, mixture.means_, mixture.covariances_, rows_behind,
                             hole_record=hole_record)


def _pooled_hole_record(previous, record, previous_rows, block_rows, rng):
    """The hole record of a ``partial_fit`` block pooled with the previous mixture's, as the mixture is pooled.

    The previous record's rows are kept in proportion to the rows behind it
    against the block's (drawn without replacement), and the pool is cut to
    LATENT_MIXTURE_MAX_ROWS rows: each block's rows then weigh as its rows
    do in the pooled mixture. Without a previous record (its rows had no
    missing cell, or the model was saved before skvae recorded them), the
    block's own record.
    """
    if "holes" not in previous:
        return record
    earlier = tuple(previous[key].double().numpy() for key in ("hole_means", "hole_deviations"))
    earlier = (*earlier, previous["holes"].numpy() > 0.5)
    n_earlier = earlier[0].shape[0]
    if record is None or not record[0].shape[0]:
        return earlier
    keep = min(n_earlier, math.ceil(record[0].shape[0] * previous_rows / max(block_rows, 1e-12)))
    chosen = np.sort(rng.choice(n_earlier, keep, replace=False))
    pooled = [np.concatenate([part[chosen], new]) for part, new in zip(earlier, record)]
    if pooled[0].shape[0] > LATENT_MIXTURE_MAX_ROWS:
        kept = np.sort(rng.choice(pooled[0].shape[0], LATENT_MIXTURE_MAX_ROWS, replace=False))
        pooled = [part[kept] for part in pooled]
    return tuple(pooled) if pooled[2].any() else None


def mixture_rows(mixture):
    """The training rows a latent mixture stands for (at most LATENT_MIXTURE_MAX_ROWS); 0 for none.

    A mixture of a model saved before skvae recorded the count stands for
    LATENT_MIXTURE_MAX_ROWS rows, as one of a fit on that many or more does.
    """
    if mixture is None:
        return 0
    return int(mixture["n_rows"]) if "n_rows" in mixture else LATENT_MIXTURE_MAX_ROWS


def _posterior_draws(model, X, handle_unknown, n_jobs, rng):
    """The posteriors of X's rows, their missing cells, and z = mu(x) + sigma(x) * eps, a few per row on small tables.

    Returns means and standard deviations of shape (rows, latent_dim), the
    missing cells (rows, columns) and draws of shape (draws per row, rows,
    latent_dim). ``sample(with_missing=True)`` gives a drawn row the missing
    cells of a training row drawn by how likely its posterior makes the
    row's z (see :meth:`skvae._model.VAEModel.set_latent_mixture`), so that
    holes follow the values as they did in training (an income column empty
    where the status says unemployed), not a pattern drawn apart from the row.
    """
    means, deviations, holes = model.posterior(X, handle_unknown=handle_unknown, n_jobs=n_jobs, with_holes=True)
    means, deviations = means.astype(np.float64), deviations.astype(np.float64)
    per_row = int(np.clip(math.ceil(LATENT_MIXTURE_MAX_ROWS / X.shape[0]), 1, LATENT_MIXTURE_MAX_DRAWS_PER_ROW))
    noise = rng.standard_normal((per_row, *means.shape))
    with np.errstate(over="ignore", invalid="ignore"):  # a row mapped beyond float64 is left out by the caller
        return means, deviations, holes, means + deviations * noise
