"""The latent law of ``sample``: a Gaussian mixture fitted to the training rows' codes.

See :meth:`skvae._model.VAEModel.set_latent_mixture` for why; the face fits
it after each fit (scikit-learn's GaussianMixture stays out of the core).
"""

import numpy as np
from sklearn import config_context
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from ._schema import is_dataframe

#: The latent mixture of ``sample`` has up to this many components, each for
#: at least LATENT_MIXTURE_ROWS_PER_COMPONENT training rows, and is fitted on
#: at most LATENT_MIXTURE_MAX_ROWS of them (a subsample on larger data).
LATENT_MIXTURE_COMPONENTS = 10
LATENT_MIXTURE_ROWS_PER_COMPONENT = 20
LATENT_MIXTURE_MAX_ROWS = 2_000
#: EM stops when the mean log-likelihood per code gains less than this.
LATENT_MIXTURE_TOL = 1e-2
# Why 2,000 rows, full covariances and this tolerance: benchmarks/README.md, "Numbers behind the code".


def fit_latent_mixture(model, X, handle_unknown, n_jobs):
    """Fit the Gaussian mixture ``sample`` draws z from to the posterior means of X's rows.

    Fewer rows than one component's worth leave the model without a mixture:
    its samples come from the prior.
    """
    if X.shape[0] < LATENT_MIXTURE_ROWS_PER_COMPONENT:
        model.latent_mixture = None
        return
    rng = np.random.RandomState(model.seed)
    if X.shape[0] > LATENT_MIXTURE_MAX_ROWS:
        rows = np.sort(rng.choice(X.shape[0], LATENT_MIXTURE_MAX_ROWS, replace=False))
        X = X.iloc[rows] if is_dataframe(X) else X[rows]
    codes = model.transform(X, handle_unknown=handle_unknown, n_jobs=n_jobs).astype(np.float64)
    n_components = int(np.clip(len(codes) // LATENT_MIXTURE_ROWS_PER_COMPONENT, 1, LATENT_MIXTURE_COMPONENTS))
    # reg_covar keeps a collapsed latent dimension's variance positive (its codes are all ~0).
    # The codes are NumPy whatever the user's array API setting (it would refuse k-means initialisation).
    # One BLAS thread: the matrices are latent_dim wide, where OpenBLAS's threads cost more
    # than they save (benchmarks/README.md, "Numbers behind the code").
    with config_context(array_api_dispatch=False), threadpool_limits(limits=1, user_api="blas"):
        mixture = GaussianMixture(n_components, covariance_type="full", reg_covar=1e-4, tol=LATENT_MIXTURE_TOL,
                                  random_state=rng).fit(codes)
    model.set_latent_mixture(mixture.weights_, mixture.means_, mixture.covariances_)
