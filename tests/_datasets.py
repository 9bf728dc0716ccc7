"""Data shared by the streaming and Dask tests."""

import numpy as np

N_FEATURES, TRUE_LATENT_DIM = 10, 2


def linear_gaussian(n_rows, seed):
    """Rows of x = W z + 0.3 eps: 2 latent dimensions in 10 features, W fixed, z and eps standard normal."""
    loadings = np.random.default_rng(0).normal(size=(TRUE_LATENT_DIM, N_FEATURES))
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n_rows, TRUE_LATENT_DIM))
    return (z @ loadings + 0.3 * rng.normal(size=(n_rows, N_FEATURES))).astype(np.float32)


def shift_scale(estimator):
    """The fitted standardization of an all-Gaussian model: per-column shift and scale."""
    columns = estimator._schema.columns
    return (np.array([c["shift"] for c in columns], dtype=np.float64),
            np.array([c["scale"] for c in columns], dtype=np.float64))


def first_epochs_of_a_long_fit(estimator, X, monkeypatch):
    """`estimator` fitted for its max_iter epochs at the constant learning rate of a long budget's first epochs.

    A fit anneals its learning rate over the last quarter of max_iter, so a
    3-epoch fit is not the first 3 epochs of a 50-epoch fit; this one is.
    """
    import skvae._training

    with monkeypatch.context() as patch:
        patch.setattr(skvae._training, "BUDGET_ANNEAL_FLOOR", 1.0)
        return estimator.fit(X)
