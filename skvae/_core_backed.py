"""The face's side of the model core: fitted attributes and the pickled state.

A face that owns a :class:`skvae._model.VAEModel` as ``_model`` answers the
fitted attributes of its pickled state (``encoder_``, ``n_iter_``,
``_schema``, ...; :data:`skvae._model.STATE_FIELDS`) from the core, and
pickles to 0.2.0's plain state, checked by :mod:`skvae._state` on the way in.
"""

from sklearn.exceptions import NotFittedError

from ._model import STATE_FIELDS, VAEModel
from ._state import CROSS_CHECKS, FITTED_FIELDS, check_state
from ._torch_scope import with_torch_defaults


class CoreBacked:
    """Mixin (before BaseEstimator) for a face whose fitted state is a model core."""

    # Read from the core, and written to this estimator's own copy of it, so
    # that estimators sharing a core (copy.copy) never change each other.
    def __getattr__(self, name):
        model = self.__dict__.get("_model")
        if model is None and _is_fitted_attribute(type(self), name):
            # NotFittedError is an AttributeError: hasattr() still answers False.
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet: {name} is set by fit. Call 'fit' with "
                "appropriate arguments before using this attribute."
            )
        if model is None or name not in STATE_FIELDS:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        value = getattr(model, STATE_FIELDS[name])
        # Hostile sweep 26: loss_curve_ and validation_scores_ were the core's own lists, so a caller's
        # `curve = vae.loss_curve_; curve += more` (or an append) rewrote the record: n_iter_ no longer
        # counted its entries, and every later copy (pickle, copy.deepcopy, skvae.save) was refused as an
        # invalid state; a copy.copy sharing the core changed with it. Each read is the caller's own
        # list; assigning one (__setattr__) still replaces the record, in this estimator's core only.
        return list(value) if isinstance(value, list) else value

    def __dir__(self):
        # Tools find fitted attributes with dir(): dask-ml keys its Incremental
        # tasks by them, so leaving them out made successive passes look alike.
        fitted = STATE_FIELDS if "_model" in self.__dict__ else ()
        return sorted(set(super().__dir__()) | set(fitted))

    def __setattr__(self, name, value):
        if name in STATE_FIELDS and "_model" in self.__dict__:
            self._model = self._model.replaced(STATE_FIELDS[name], value)
        else:
            super().__setattr__(name, value)

    @with_torch_defaults
    def __getstate__(self):
        """0.2.0's plain state: the core's fields (networks and optimizer as CPU tensors, the schema as a dict)."""
        # BaseEstimator may hand back self.__dict__ itself: copy before editing.
        state = dict(super().__getstate__())
        model = state.pop("_model", None)
        if model is not None:
            state.update(model.state())
        return state

    #: The schema of the fitted state (see skvae._state); a subclass adding state extends it.
    _fitted_state_fields = FITTED_FIELDS
    _state_cross_checks = CROSS_CHECKS

    @with_torch_defaults
    def __setstate__(self, state):
        """Restore a state from ``__getstate__``, refusing one that does not hang together.

        Pickle, joblib, ``copy.deepcopy`` and :func:`skvae.load` all come here,
        so one schema (:mod:`skvae._state`) guards them all: a ValueError names
        the first inconsistency, and nothing is restored.
        """
        state = check_state(type(self), state)
        model_state = {field: state.pop(field) for field in STATE_FIELDS if field in state}
        model = VAEModel.from_state(model_state) if model_state else None
        super().__setstate__(state)
        if model is not None:
            self._model = model


def _is_fitted_attribute(cls, name):
    """Whether `name` is a fitted attribute of `cls`: one of the core's, or a property such as ``column_kinds_``.

    A property that raises NotFittedError (an AttributeError) before fit
    lands here too, and must keep its message rather than become "no attribute".
    """
    if name in STATE_FIELDS or name == "n_features_in_":
        return not name.startswith("_")
    return name.endswith("_") and not name.startswith("_") and isinstance(getattr(cls, name, None), property)
