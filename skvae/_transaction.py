"""One helper makes every public call transactional: a refused or failed call changes nothing.

Every face (``VAETransformer``, ``VAEImputer``, ``VAEOutlierDetector``) wraps
the body of each state-changing public method in :func:`transaction`. On any
exception (a refused parameter, bad data, a diverged fit, Ctrl-C) the
attribute dicts of the estimator and of every estimator it owns (for example
a face's fitted ``vae_``) are put back as they were when the call began.

Why dicts and not deep copies: a fresh fit builds new networks and a new
optimizer, so the old ones are never touched and restoring the references is
enough; a continued fit (``warm_start``, ``partial_fit``) changes the
networks in place only by completed training epochs, which is the documented
meaning of interrupting one. Validation therefore runs before any training.
"""

import contextlib
import functools


def _owned_estimators(estimator):
    """The estimator and the estimators it holds as fitted attributes (one level down)."""
    owned = [estimator]
    for value in list(vars(estimator).values()):
        if hasattr(value, "get_params") and hasattr(value, "__dict__") and value is not estimator:
            owned.append(value)
    return owned


@contextlib.contextmanager
def transaction(estimator):
    """Restore `estimator` (and the estimators it owns) if the block raises."""
    saved = [(owned, dict(vars(owned))) for owned in _owned_estimators(estimator)]
    try:
        yield
    except BaseException:
        for owned, state in saved:
            owned.__dict__.clear()
            owned.__dict__.update(state)
        raise


def transactional(method):
    """Decorate a public method so that a call that raises changes nothing."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with transaction(self):
            return method(self, *args, **kwargs)

    return wrapper


class AtomicSetParams:
    """Mixin (before BaseEstimator): ``set_params`` sets every parameter or, when one is refused, none.

    scikit-learn's ``set_params`` sets the parameters in the order given and
    raises at the first unknown name, keeping those set before it:
    ``set_params(latent_dim=5, nope=1)`` would raise and yet change ``latent_dim``.
    """

    def set_params(self, **params):
        with transaction(self):
            return super().set_params(**params)
