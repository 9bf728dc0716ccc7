"""The state of an estimator: one schema, checked by unpickling and by :func:`skvae.load`.

``__getstate__`` hands out a dict of attributes; ``__setstate__`` (pickle,
joblib, ``copy.deepcopy``) and :func:`skvae.load` hand one back. Whatever its
origin (a corrupted file, a hostile one, a pickle from another skvae version),
:func:`check_state` accepts it only if it hangs together, and otherwise raises
a ValueError naming the first field that does not:

- every key is a constructor parameter or a field of the schema, and none
  shadows an attribute of the class (a method, a property);
- the parameters of a fitted state pass the class's ``_parameter_constraints``
  (an unfitted one's are validated by ``fit``, as in scikit-learn);
- an unfitted state holds no fitted field; a fitted one holds all the
  required fields of :data:`FITTED_FIELDS`, each of its declared type, shape
  and range (weights finite, scales positive, devices among 'cpu', 'cuda',
  'cuda:N', 'mps'; the column schema a well-formed
  :meth:`skvae._schema.TableSchema.to_dict` with finite constants and
  distinct, finite categories);
- the fields agree with each other (:data:`CROSS_CHECKS`): ``n_features_in_``
  with the schema's columns and the feature names; the network spec's input
  and output widths with those of the schema's likelihood; the weights' names
  and shapes with the spec; the missingness mechanism's parameters (when the
  model has one) with the schema's columns; the schema's seen pairs with
  its discrete columns and their levels; the optimizer state with the
  weights and those parameters; the loss
  history with ``n_iter_``.

A field may name a ``restore`` function: :func:`check_state` returns the
state with such fields rebuilt (the schema's dict becomes a ``TableSchema``),
and the cross-checks see the rebuilt values.

Shapes are compared against :func:`skvae._networks.parameter_shapes`, which
derives them from the spec without allocating anything, so a spec that
declares enormous layers is refused before any network is built.

A new fitted attribute is one row of :data:`FITTED_FIELDS` (and a cross-check
if it must agree with others). An estimator class names its table in
``_fitted_state_fields`` and its cross-checks in ``_state_cross_checks``; a
subclass that adds state extends them.

The imputer and the detector have their own tables (:data:`IMPUTER_FIELDS`,
:data:`DETECTOR_FIELDS`). Their fitted VAE, ``vae_``, is held in their state
as the VAETransformer's own state dict and rebuilt through
``VAETransformer.__setstate__`` (:func:`skvae._faces.face_from_state`), so
that it is checked by this same schema, whether it comes from a pickle or a
file, and its networks are built only once the whole state hangs together.
The imputer's missing-value indicator is held as the positions of its
features, and its empty columns as a list of bools.
"""

import math
import numbers
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from sklearn.utils._param_validation import (
    InvalidParameterError,
    validate_parameter_constraints,
)

from ._column_types import CELL_TYPE, MAX_CATEGORIES, MISSING_CELL, MISSING_CELL_VALUES
from ._latent_mixture import LATENT_MIXTURE_MAX_ROWS
from ._likelihoods import BLOCKS, KINDS
from ._missingness import SelfMasking
from ._networks import ACTIVATIONS, parameter_shapes
from ._refusals import Refusal, advice
from ._schema import MAX_MISSING_PATTERNS, TableSchema
from ._exclusive_groups import check_state as check_exclusive_groups
from ._seen_pairs import check_seen_pairs

#: Parameters added since 0.2.0, with the value a state without them stands for.
ADDED_PARAMETERS = {"missing_mechanism": "ignorable",
                    # VAEImputer's files of skvae 0.6.0 and older fill with the VAE alone.
                    "refinement": None}


class InvalidState(ValueError):
    """A state that does not describe a valid estimator."""


class PicklesValidParameters:
    """Mixin of the public estimators (before BaseEstimator): a fitted one pickles only with valid parameters.

    ``set_params`` does not validate (scikit-learn's rule: fit does), but
    unpickling a fitted state checks its parameters (:func:`check_state`):
    a fitted estimator given an invalid value after fit was pickled (pickle,
    joblib) without a word into bytes that no unpickling could read, and
    ``copy.deepcopy`` failed on the way back in. The refusal comes on the
    way out instead, naming the parameter, as :func:`skvae.save` refuses it.
    An unfitted estimator pickles whatever its parameters, as
    :func:`check_state` lets it back in (joblib workers, then fit's error).
    """

    def __reduce_ex__(self, protocol):
        from ._transaction import state_lock

        # A call running in another thread (a fit) has written part of its state: wait for its end.
        with state_lock(self).reading():
            return self._checked_reduce_ex(protocol)

    def _checked_reduce_ex(self, protocol):
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        try:
            check_is_fitted(self)
        except NotFittedError:
            # Hostile sweep 22: an unfitted estimator given an attribute by hand (a detector's offset_,
            # which its docs invite setting) was pickled into bytes every unpickling refused ("the
            # fitted state lacks [...]", "unknown state keys"), and copy.deepcopy failed the same way.
            # Refused on the way out, as a fitted estimator's invalid parameters are below.
            try:
                check_state(type(self), self.__getstate__())
            except InvalidState as error:
                raise Refusal(
                    f"This unfitted {type(self).__name__} cannot be pickled or deep-copied: unpickling checks its "
                    f"state and would refuse it: {error} ",
                    advice("pickle_unfitted",
                           "Fit it first, or delete the attributes set on it by hand (e.g. del estimator.offset_)."),
                ) from None
            return super().__reduce_ex__(protocol)
        cls = type(self)
        try:
            _check_params(cls, self.get_params(deep=False), cls._get_param_names())
        except InvalidState as error:
            raise ValueError(
                f"This fitted {cls.__name__} cannot be pickled or deep-copied: unpickling checks its parameters "
                f"and would refuse them. {error} Set a valid value with set_params first."
            ) from None
        reduced = super().__reduce_ex__(protocol)
        # Hostile sweep 28: a fitted estimator with a fitted attribute deleted by hand (del
        # detector.offset_, as the refusal above advises for an unfitted one) pickled into bytes every
        # unpickling refused ("the fitted state lacks ['offset_']"), while skvae.save refused it on the
        # way out. The state's keys are checked here (not its values: that is unpickling's whole check).
        state = reduced[2] if len(reduced) > 2 else None
        fields = {**COMMON_FIELDS, **cls._fitted_state_fields}
        lacking = [key for key, field in fields.items() if field.required and key not in (state or {})]
        if isinstance(state, dict) and lacking:
            raise Refusal(
                f"This fitted {cls.__name__} cannot be pickled or deep-copied: its fitted state lacks {lacking}, "
                "so unpickling would refuse it. ",
                advice("pickle_lacking", f"Set {lacking[0]} again, or fit again, before pickling."),
            )
        return reduced

    def __getstate__(self):
        """The state with a metadata request (``set_score_request``) as plain values.

        Hostile sweep 21: ``set_score_request(n_importance=True)`` keeps a
        scikit-learn ``MetadataRequest`` in ``_metadata_request``, which the
        state schema did not know: every pickle, ``copy.deepcopy`` and joblib
        worker (``GridSearchCV(n_jobs=2)`` with metadata routing on) failed
        to restore the estimator ("unknown state keys ['_metadata_request']"),
        fitted or not, and :func:`skvae.save` could not write it. The request
        travels as ``{method: {metadata: True, False, None or an alias}}`` and
        is rebuilt by :func:`check_state`.
        """
        state = dict(super().__getstate__())
        if "_metadata_request" in state:
            state["_metadata_request"] = plain_metadata_request(state["_metadata_request"])
        return state


def plain_metadata_request(request):
    """``{method: {metadata: request}}`` of a scikit-learn ``MetadataRequest``, its methods with a request only."""
    from sklearn.utils._metadata_requests import SIMPLE_METHODS

    plain = {}
    for method in SIMPLE_METHODS:
        requests = getattr(getattr(request, method, None), "requests", None)
        if requests:
            plain[method] = dict(requests)
    return plain


def _metadata_request(value, name):
    from sklearn.utils._metadata_requests import SIMPLE_METHODS

    if not isinstance(value, dict) or not all(method in SIMPLE_METHODS for method in value):
        _fail(name, f"a dict whose keys are among {SIMPLE_METHODS}", value)
    for method, requests in value.items():
        if not isinstance(requests, dict) or not all(
                isinstance(metadata, str) and metadata.isidentifier()
                and (request is None or type(request) is bool or (isinstance(request, str) and request.isidentifier()))
                for metadata, request in requests.items()):
            _fail(f"{name}[{method!r}]", "a dict of metadata names to True, False, None or an alias", requests)


def _rebuilt_metadata_request(value, owner):
    """The scikit-learn ``MetadataRequest`` of `owner` (a class name) from a checked plain request."""
    from sklearn.utils._metadata_requests import MetadataRequest

    # Owned by the class's name, as scikit-learn's own _get_metadata_request names it.
    request = MetadataRequest(owner=owner)
    for method, requests in value.items():
        for metadata, alias in requests.items():
            try:
                getattr(request, method).add_request(param=metadata, alias=alias)
            except ValueError as error:
                raise InvalidState(f"_metadata_request[{method!r}][{metadata!r}]: {error}") from None
    return request


@dataclass(frozen=True)
class Field:
    """One fitted attribute: its check, whether every fitted state has it, how to rebuild it."""

    check: Callable
    required: bool = True
    #: ``restore(value, name)``: the attribute from its checked state value (None: the value itself).
    restore: Callable = None


#: Fields any skvae estimator's state may hold, fitted or not, beside its class's own.
COMMON_FIELDS = {
    "_metadata_request": Field(_metadata_request, required=False),
}


def check_state(cls, state):
    """The state, its restorable fields rebuilt, if it is a valid state of an instance of `cls`.

    Raises :class:`InvalidState` otherwise. `state` itself is not changed.
    """
    if not isinstance(state, dict) or not all(isinstance(key, str) for key in state):
        raise InvalidState(f"the state of a {cls.__name__} must be a dict with str keys; got {_kind(state)}.")
    fields = {**COMMON_FIELDS, **cls._fitted_state_fields}
    params = cls._get_param_names()
    # A state from before a parameter existed (an older file or pickle) meant its default.
    state = {**{name: default for name, default in ADDED_PARAMETERS.items() if name in params}, **state}
    _check_keys(cls, state, params, fields)
    restored = dict(state)
    for key, field in fields.items():
        if key in state:
            field.check(state[key], key)
            if field.restore is not None:
                restored[key] = field.restore(state[key], key)
    if "_metadata_request" in state:
        restored["_metadata_request"] = _rebuilt_metadata_request(state["_metadata_request"], cls.__name__)
    required = [key for key, field in fields.items() if field.required]
    if not any(key in state for key in required):
        # Unfitted: as in scikit-learn, parameters are validated by fit, so an
        # estimator with a parameter still to be corrected pickles (joblib workers).
        return restored
    missing = [key for key in required if key not in state]
    if missing:
        raise InvalidState(f"the fitted state lacks {missing}.")
    _check_params(cls, state, params)
    for cross_check in cls._state_cross_checks:
        cross_check(restored)
    return restored


def _check_keys(cls, state, params, fields):
    known = set(params) | set(fields)
    for key in state:
        if key not in known and hasattr(cls, key):
            raise InvalidState(
                f"the state key {key!r} would shadow the attribute {cls.__name__}.{key}; "
                "a state holds parameters and fitted attributes only."
            )
    unknown = sorted(set(state) - known)
    if unknown:
        raise InvalidState(f"unknown state keys {unknown}: {cls.__name__} has no such parameters or fitted attributes.")
    missing = [name for name in params if name not in state]
    if missing:
        raise InvalidState(f"the state lacks the parameters {missing}.")


def _check_params(cls, state, params):
    try:
        validate_parameter_constraints(
            cls._parameter_constraints, {name: state[name] for name in params}, caller_name=cls.__name__
        )
    except InvalidParameterError as error:
        raise InvalidState(str(error)) from None


# ------------------------------------------------------------------ field checks


def _kind(value):
    return type(value).__name__


def _shown(value):
    """The offending value as the user would write it, abridged when long."""
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return f"a {_kind(value)} of dtype {value.dtype} and shape {tuple(value.shape)}"
    text = repr(value)
    if len(text) <= 80:
        return text
    size = f" of length {len(value)}" if isinstance(value, (list, dict, tuple, str)) else ""
    return f"a {_kind(value)}{size} starting {text[:60]}..."


def _fail(name, expected, value):
    raise InvalidState(f"{name} must be {expected}; got {_shown(value)}.")


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _int_at_least(low):
    def check(value, name):
        if not _is_int(value) or value < low:
            _fail(name, f"an int >= {low}", value)

    return check


def _int_in(low, high):
    def check(value, name):
        if not _is_int(value) or not low <= value <= high:
            _fail(name, f"an int in [{low}, {high}]", value)

    return check


def _finite_float(value, name):
    if not _is_real(value) or not _is_finite(value):
        _fail(name, "a finite float", value)


def _is_finite(value):
    """Whether the real number `value` is a finite float64: an int beyond it (``10**400``) is not.

    Hostile sweep 28: ``math.isfinite`` raises OverflowError on such an int, which a hand-made
    state passed to unpickling as itself, not as the InvalidState of a bad state.
    """
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _optional(check):
    def optional_check(value, name):
        if value is not None:
            check(value, name)

    return optional_check


def _list_of(check):
    def list_check(value, name):
        if not isinstance(value, list):
            _fail(name, "a list", value)
        for i, item in enumerate(value):
            check(item, f"{name}[{i}]")

    return list_check


def _string_vector(value, name):
    if (
        not isinstance(value, np.ndarray)
        or value.dtype != object
        or value.ndim != 1
        or not all(isinstance(item, str) for item in value)
    ):
        raise InvalidState(f"{name} must be a 1-D object array of str.")


# 'cuda:N' and 'mps:N' with a plausible index; 'meta', 'cpu:0x', ... are refused.
_DEVICE_NAME = re.compile(r"cpu|(cuda|mps)(:\d{1,4})?")


def _device_name(value, name):
    if not isinstance(value, str) or not _DEVICE_NAME.fullmatch(value):
        _fail(name, "one of 'cpu', 'cuda', 'cuda:N', 'mps'", value)


def _one_of(value, name, options):
    if not isinstance(value, str) or value not in options:
        _fail(name, f"one of {sorted(options)}", value)


_SPEC_CHECKS = {
    "n_inputs": _int_at_least(1),
    "n_params": _int_at_least(1),
    "n_free": _int_at_least(0),
    "latent_dim": _int_at_least(1),
    "hidden_layer_sizes": None,  # below
    "activation": lambda v, name: _one_of(v, name, ACTIVATIONS),
}


def _network_spec(value, name):
    if not isinstance(value, dict) or set(value) != set(_SPEC_CHECKS):
        keys = sorted(value) if isinstance(value, dict) else _kind(value)
        raise InvalidState(f"{name} must be a dict with the keys {sorted(_SPEC_CHECKS)}; got {keys}.")
    sizes = value["hidden_layer_sizes"]
    if not isinstance(sizes, list) or not sizes or not all(_is_int(s) and s >= 1 for s in sizes):
        _fail(f"{name}['hidden_layer_sizes']", "a non-empty list of positive ints", sizes)
    for key, check in _SPEC_CHECKS.items():
        if check is not None:
            check(value[key], f"{name}[{key!r}]")


# A pandas or NumPy dtype name ("float64", "Int64", "category", "string[pyarrow]", "datetime64[ns, UTC]").
# "." "+" "-": Sparse[float64, -1.5e-05]; "<", "=", ">": dictionary<values=large_string, indices=int32, ordered=0>[pyarrow]
_DTYPE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_\[\], :.+<=>-]{0,79}")


def _table_schema(value, name):
    """A TableSchema.to_dict() whose every number is finite: what from_dict leaves unchecked, first."""
    # 'exclusive_groups' since skvae 0.22.
    required = {"columns", "is_dataframe", "mask_columns"}
    optional = {"missing_patterns", "seen_pairs", "exclusive_groups"}
    if not isinstance(value, dict) or not required <= set(value) <= required | optional:
        keys = sorted(value, key=str) if isinstance(value, dict) else _kind(value)
        raise InvalidState(f"{name} must be a dict with the keys ['columns', 'is_dataframe', 'mask_columns'] "
                           f"(and optionally 'missing_patterns', 'seen_pairs', 'exclusive_groups'); got {keys}.")
    if not isinstance(value["is_dataframe"], bool):
        _fail(f"{name}['is_dataframe']", "a bool", value["is_dataframe"])
    columns = value["columns"]
    if not isinstance(columns, list) or not columns:
        _fail(f"{name}['columns']", "a non-empty list", columns)
    for j, column in enumerate(columns):
        _schema_column(column, f"{name}['columns'][{j}]")
    mask = value["mask_columns"]
    if not isinstance(mask, list) or not all(_is_int(j) for j in mask) or mask != sorted(set(mask)):
        _fail(f"{name}['mask_columns']", "a sorted list of distinct column positions", mask)
    if "missing_patterns" in value:
        _missing_patterns(value["missing_patterns"], len(columns), f"{name}['missing_patterns']")


def _missing_patterns(value, n_columns, name):
    """[[missing column positions, rows], ...]: distinct sorted patterns within the table, positive counts."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_MISSING_PATTERNS:
        _fail(name, f"a list of 1 to {MAX_MISSING_PATTERNS} patterns", value)
    seen = set()
    for k, pattern in enumerate(value):
        if not (isinstance(pattern, list) and len(pattern) == 2 and isinstance(pattern[0], list)
                and all(_is_int(j) and 0 <= j < n_columns for j in pattern[0]) and pattern[0] == sorted(set(pattern[0]))
                and _is_int(pattern[1]) and pattern[1] >= 1 and tuple(pattern[0]) not in seen):
            _fail(f"{name}[{k}]", "a new [sorted distinct column positions, positive row count] pair", pattern)
        seen.add(tuple(pattern[0]))


def _schema_column(column, name):
    if not isinstance(column, dict) or column.get("kind") not in BLOCKS:
        kind = column.get("kind") if isinstance(column, dict) else None
        raise InvalidState(f"{name} must be a column with a kind among {list(KINDS)}; got kind {kind!r}.")
    kind = column["kind"]
    # The kind's class names the entries its columns keep (skvae._likelihoods).
    constants, optional = BLOCKS[kind].constants, BLOCKS[kind].optional_entries
    allowed = {"name", "kind", "dtype", *constants, *optional}
    unknown = sorted(set(column) - allowed, key=str)
    if unknown:
        raise InvalidState(f"{name} (a {kind!r} column) has unknown entries {unknown}.")
    missing = sorted({"name", "dtype", *constants} - set(column))
    if missing:
        raise InvalidState(f"{name} (a {kind!r} column) lacks {missing}.")
    if not isinstance(column["dtype"], str) or not _DTYPE_NAME.fullmatch(column["dtype"]):
        _fail(f"{name}['dtype']", "a dtype name", column["dtype"])
    for key in constants:
        if key in BLOCKS[kind].list_constants:
            value = column[key]
            if not isinstance(value, list) or not all(_is_real(v) and _is_finite(v) for v in value):
                _fail(f"{name}[{key!r}]", "a list of finite floats", value)
        elif key == "categories":
            _categories(column[key], f"{name}['categories']")
        elif key.endswith("scale"):
            if not _is_real(column[key]) or not (_is_finite(column[key]) and column[key] > 0):
                _fail(f"{name}[{key!r}]", "a positive finite float", column[key])
        else:
            _finite_float(column[key], f"{name}[{key!r}]")
    problem = BLOCKS[kind].entry_problem(column)
    if problem is not None:
        raise InvalidState(f"{name} (a {kind!r} column) {problem}.")
    if "ordered" in column and not isinstance(column["ordered"], bool):
        _fail(f"{name}['ordered']", "a bool", column["ordered"])
    if "unseen_levels" in column:
        # The codes of categories no fit row held (sorted, distinct, some level left seen).
        unseen, n_levels = column["unseen_levels"], len(column.get("categories", []))
        if not (isinstance(unseen, list) and 1 <= len(unseen) < n_levels
                and all(_is_int(c) and 0 <= c < n_levels for c in unseen) and unseen == sorted(set(unseen))):
            _fail(f"{name}['unseen_levels']", f"a sorted list of distinct codes below {n_levels}, not all of them",
                  unseen)
    if "categories_dtype" in column and not (isinstance(column["categories_dtype"], str)
                                             and _DTYPE_NAME.fullmatch(column["categories_dtype"])):
        _fail(f"{name}['categories_dtype']", "a dtype name", column["categories_dtype"])
    if ("min" in column) != ("max" in column):
        raise InvalidState(f"{name} records one end of its range only.")
    if "min" in column:
        _finite_float(column["min"], f"{name}['min']")
        _finite_float(column["max"], f"{name}['max']")
        if not column["min"] <= column["max"]:
            raise InvalidState(f"{name} has a range whose min {column['min']!r} exceeds its max {column['max']!r}.")
    if "decimals" in column and column["decimals"] is not None and not (
        _is_int(column["decimals"]) and 0 <= column["decimals"] <= 15
    ):
        _fail(f"{name}['decimals']", "None or an integer from 0 to 15", column["decimals"])
    if "digits" in column and not (_is_int(column["digits"]) and 1 <= column["digits"] <= 15):
        _fail(f"{name}['digits']", "an integer from 1 to 15", column["digits"])
    if CELL_TYPE in column:
        if column[CELL_TYPE] not in ("int", "bool"):
            _fail(f"{name}[{CELL_TYPE!r}]", "'int' or 'bool'", column[CELL_TYPE])
        if column["dtype"] != "object":
            # Only an object column's cells have a type of their own: another dtype decodes to itself.
            raise InvalidState(f"{name} records {CELL_TYPE!r} but has dtype {column['dtype']!r}, not object.")
    if MISSING_CELL in column:
        if column[MISSING_CELL] not in MISSING_CELL_VALUES:
            _fail(f"{name}[{MISSING_CELL!r}]", f"one of {sorted(MISSING_CELL_VALUES)}", column[MISSING_CELL])
        if column["dtype"] != "object":
            raise InvalidState(f"{name} records {MISSING_CELL!r} but has dtype {column['dtype']!r}, not object.")


def _categories(value, name):
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_CATEGORIES:
        _fail(name, f"a list of 1 to {MAX_CATEGORIES} categories", value)
    for i, category in enumerate(value):
        # NaN is a missing cell, never a category (pandas agrees); infinity can be a label.
        if not isinstance(category, (str, bool, numbers.Real)) or (
            isinstance(category, float) and math.isnan(category)
        ):
            _fail(f"{name}[{i}]", "a string, bool or number other than NaN", category)
    # Equal categories (1 and 1.0 included) would make a value's code ambiguous.
    keys = {(type(c) is bool, c) for c in value}
    if len(keys) != len(value):
        raise InvalidState(f"{name} holds a category twice.")


def _rebuild_schema(value, name):
    try:
        return TableSchema.from_dict(value)
    except (ValueError, TypeError) as error:
        raise InvalidState(f"{name}: {error}.") from None


def _tensor(value, name, shape=None, nonnegative=False):
    if not isinstance(value, torch.Tensor) or value.layout != torch.strided:
        _fail(name, "a tensor", value)
    if value.device.type != "cpu" or value.dtype != torch.float32:
        raise InvalidState(f"{name} must be a float32 CPU tensor; got {value.dtype} on {value.device}.")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise InvalidState(f"{name} has shape {tuple(value.shape)}, expected {tuple(shape)}.")
    if not bool(torch.isfinite(value).all()):
        raise InvalidState(f"{name} holds non-finite values (NaN or infinity).")
    if nonnegative and bool((value < 0).any()):
        raise InvalidState(f"{name} holds negative values.")


def _tensor_dict(value, name):
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        _fail(name, "a dict of str to tensors", value)
    for key, tensor in value.items():
        _tensor(tensor, f"{name}[{key!r}]")


# Adam's options as skvae creates it (make_adam: lr only, the rest torch's
# defaults). Flags skvae never sets must be off: amsgrad would need state the
# schema does not hold, capturable and differentiable need devices and
# autograd skvae does not use. fused and foreach are this machine's choice and
# are reset on loading (VAETransformer._restore_torch_state).
def _flag(expected=None, optional=False):
    def check(value, name):
        if isinstance(value, bool) and (expected is None or value == expected):
            return
        if optional and value is None:
            return
        _fail(name, "False" if expected is False else "a bool" + (" or None" if optional else ""), value)

    return check


def _fraction(value, name):
    if not _is_real(value) or not 0.0 <= value < 1.0:
        _fail(name, "a float in [0, 1)", value)


def _betas(value, name):
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        _fail(name, "a pair of floats in [0, 1)", value)
    for i, beta in enumerate(value):
        _fraction(beta, f"{name}[{i}]")


def _nonnegative_float(value, name):
    if not _is_real(value) or not (_is_finite(value) and value >= 0):
        _fail(name, "a finite float >= 0", value)


def _learning_rate(value, name):
    if not _is_real(value) or not (_is_finite(value) and 0 < value <= 1e37):
        _fail(name, "a float in (0, 1e37]", value)


ADAM_OPTIONS = {
    "lr": _learning_rate,
    "betas": _betas,
    "eps": _nonnegative_float,
    "weight_decay": _nonnegative_float,
    "amsgrad": _flag(False),
    "maximize": _flag(False),
    "capturable": _flag(False),
    "differentiable": _flag(False),
    "decoupled_weight_decay": _flag(),
    "foreach": _flag(optional=True),
    "fused": _flag(optional=True),
}


def _adam_state(value, name):
    if not isinstance(value, dict) or set(value) != {"state", "param_groups"}:
        _fail(name, "an Adam state dict with the keys 'state' and 'param_groups'", value)
    groups = value["param_groups"]
    if not isinstance(groups, list) or len(groups) != 1 or not isinstance(groups[0], dict):
        _fail(f"{name}['param_groups']", "a list of one dict", groups)
    group = groups[0]
    unknown = sorted(set(group) - set(ADAM_OPTIONS) - {"params"})
    if unknown:
        raise InvalidState(f"{name}['param_groups'][0] has unknown Adam options {unknown}.")
    if "params" not in group or not isinstance(group["params"], list):
        raise InvalidState(f"{name}['param_groups'][0] lacks its 'params' list.")
    for key, check in ADAM_OPTIONS.items():
        if key in group:
            check(group[key], f"{name}['param_groups'][0][{key!r}]")
    state = value["state"]
    if not isinstance(state, dict) or not all(_is_int(key) for key in state):
        _fail(f"{name}['state']", "a dict with int keys", state)
    for key, entry in state.items():
        where = f"{name}['state'][{key}]"
        if not isinstance(entry, dict) or set(entry) != {"step", "exp_avg", "exp_avg_sq"}:
            _fail(where, "a dict with the keys 'step', 'exp_avg', 'exp_avg_sq'", entry)
        _tensor(entry["step"], f"{where}['step']", shape=(), nonnegative=True)
        _tensor(entry["exp_avg"], f"{where}['exp_avg']")
        _tensor(entry["exp_avg_sq"], f"{where}['exp_avg_sq']", nonnegative=True)


def _output_config(value, name):
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        _fail(name, "a dict of str to str", value)


#: The fitted attributes of a VAETransformer. Optional fields may appear in
#: an unfitted state too (``set_output`` before ``fit``).
def _latent_mixture_state(value, name):
    """{"weights": (k,), "means": (k, d), "scale_trils": (k, d, d), "n_rows": int}: a proper Gaussian mixture.

    ``n_rows`` (the training rows it stands for) is absent from the files of
    models saved before skvae recorded it (see
    :func:`skvae._latent_mixture.mixture_rows`). Optionally with
    "hole_means", "hole_deviations" (m, d; deviations positive) and "holes"
    (m, columns) of 0s and 1s: training rows' posteriors and missing cells
    (``sample(with_missing=True)``).
    """
    keys, holes = {"weights", "means", "scale_trils"}, {"hole_means", "hole_deviations", "holes"}
    present = set(value) if isinstance(value, dict) else set()
    if not isinstance(value, dict) or not keys <= present <= keys | {"n_rows"} | holes or (
            present & holes and not holes <= present):
        _fail(name, "a dict of 'weights', 'means', 'scale_trils' and 'n_rows' (and optionally 'hole_means', "
              "'hole_deviations' and 'holes', all three)", value)
    for key, tensor in value.items():
        _tensor(tensor, f"{name}[{key!r}]")
    if "n_rows" in value:
        # A 0-d float32 tensor, as every number of the state beside the networks' is a tensor.
        _tensor(value["n_rows"], f"{name}['n_rows']", shape=())
        n_rows = float(value["n_rows"])
        if n_rows != round(n_rows) or not 1 <= n_rows <= LATENT_MIXTURE_MAX_ROWS:
            raise InvalidState(f"{name}['n_rows'] must be a whole number in [1, {LATENT_MIXTURE_MAX_ROWS}]; "
                               f"got {n_rows!r}.")
    weights, means, trils = value["weights"], value["means"], value["scale_trils"]
    k = weights.shape[0] if weights.dim() == 1 else -1
    if k < 1 or means.dim() != 2 or means.shape[0] != k or tuple(trils.shape) != (k, means.shape[1], means.shape[1]):
        raise InvalidState(f"{name} has weights, means and scale_trils of shapes {tuple(weights.shape)}, "
                           f"{tuple(means.shape)} and {tuple(trils.shape)}: not (k,), (k, d) and (k, d, d).")
    if not (weights > 0).all() or abs(float(weights.double().sum()) - 1) > 1e-5:
        raise InvalidState(f"{name}['weights'] must be positive and sum to 1.")
    if not torch.equal(trils, torch.tril(trils)) or not (torch.diagonal(trils, dim1=-2, dim2=-1) > 0).all():
        raise InvalidState(f"{name}['scale_trils'] must be lower triangular with a positive diagonal.")
    if "holes" in value:
        codes, spreads, cells = value["hole_means"], value["hole_deviations"], value["holes"]
        if (codes.dim() != 2 or codes.shape[1] != means.shape[1] or spreads.shape != codes.shape
                or cells.dim() != 2 or cells.shape[0] != codes.shape[0] or codes.shape[0] < 1):
            raise InvalidState(f"{name} has hole_means, hole_deviations and holes of shapes {tuple(codes.shape)}, "
                               f"{tuple(spreads.shape)} and {tuple(cells.shape)}: not (m, {means.shape[1]}) twice "
                               "and (m, columns).")
        if not bool((spreads > 0).all()):
            raise InvalidState(f"{name}['hole_deviations'] must be positive.")
        if not bool(((cells == 0) | (cells == 1)).all()):
            raise InvalidState(f"{name}['holes'] must hold only 0s and 1s.")


FITTED_FIELDS = {
    "n_features_in_": Field(_int_at_least(1)),
    "feature_names_in_": Field(_string_vector, required=False),
    "device_": Field(_device_name),
    "_seed": Field(_int_in(0, np.iinfo(np.int32).max)),
    "_schema": Field(_table_schema, restore=_rebuild_schema),
    "_network_spec": Field(_network_spec),
    "encoder_": Field(_tensor_dict),
    "decoder_": Field(_tensor_dict),
    "optimizer_": Field(_adam_state),
    "n_iter_": Field(_int_at_least(0)),
    "loss_curve_": Field(_list_of(_finite_float)),
    "best_loss_": Field(_optional(_finite_float)),
    "validation_scores_": Field(_optional(_list_of(_finite_float))),
    "best_validation_score_": Field(_optional(_finite_float)),
    "_sklearn_output_config": Field(_output_config, required=False),
    # The self-masking mechanism's parameters; absent for an ignorable one (and in files before it).
    "missingness_": Field(_tensor_dict, required=False),
    "_latent_mixture": Field(_latent_mixture_state, required=False),
    # How rows' noise is keyed ("float32" since skvae 0.11); absent: float64 bits, as the model was fitted.
    "_noise_keys": Field(lambda value, name: _one_of(value, name, {"float32"}), required=False),
}


# ------------------------------------------------------------------ cross-checks


def _features_agree(state):
    n_features, schema = state["n_features_in_"], state["_schema"]
    lengths = {"the column schema's number of columns": len(schema.columns)}
    if "feature_names_in_" in state:
        lengths["len(feature_names_in_)"] = len(state["feature_names_in_"])
    for what, length in lengths.items():
        if length != n_features:
            raise InvalidState(f"n_features_in_ is {n_features}, but {what} is {length}.")
    if "feature_names_in_" in state:
        if not schema.is_dataframe or schema.names != list(state["feature_names_in_"]):
            raise InvalidState("the column schema's column names differ from feature_names_in_.")
    elif not schema.is_dataframe and schema.names != list(range(n_features)):
        raise InvalidState(
            f"the column schema of an array must name its columns 0..{n_features - 1}; got {_shown(schema.names)}."
        )


def _schema_matches_spec(state):
    # The spec's widths are what the weights were built for; the schema's
    # likelihood is what reads them. A file where they disagree would fail (or
    # silently misread columns) at the first transform.
    spec = state["_network_spec"]
    try:
        likelihood = state["_schema"].likelihood()
    except (ValueError, TypeError, KeyError, IndexError, RuntimeError) as error:
        raise InvalidState(f"the column schema does not describe a model: {error}") from None
    for key, implied in (
        ("n_inputs", likelihood.input_width),
        ("n_params", likelihood.n_params),
        ("n_free", likelihood.n_free),
    ):
        if spec[key] != implied:
            raise InvalidState(f"_network_spec[{key!r}] is {spec[key]}, but the column schema implies {implied}.")


def _weights_match_spec(state):
    for name, expected in zip(("encoder_", "decoder_"), parameter_shapes(state["_network_spec"])):
        _match_shapes(name, state[name], expected)


def _match_shapes(name, tensors, expected, source="the network spec"):
    # Walks both in step and stops at the first difference, so a spec declaring
    # a million layers costs as much as the file's own tensors, no more.
    actual = iter(tensors.items())
    for expected_name, shape in expected:
        key, tensor = next(actual, (None, None))
        if key is None:
            raise InvalidState(f"{name} lacks {expected_name!r}, which {source} implies.")
        if key != expected_name:
            raise InvalidState(f"{name} holds {key!r} where {source} implies {expected_name!r}.")
        if tuple(tensor.shape) != shape:
            raise InvalidState(
                f"{name}[{key!r}] has shape {tuple(tensor.shape)}, but {source} implies {shape}."
            )
    extra = next(actual, None)
    if extra is not None:
        raise InvalidState(f"{name} holds {extra[0]!r}, which {source} does not have.")


def _mechanism_matches_schema(state):
    if "missingness_" not in state:
        return
    # The module holds no other state than its parameters: its columns follow from the schema.
    # A file of skvae 0.6.0 or older pairs only the continuous columns (see SelfMasking.for_likelihood).
    saved = state["missingness_"].get("slope_raw")
    n_parameters = saved.shape[0] if getattr(saved, "ndim", None) == 1 else None
    mechanism = SelfMasking.for_likelihood(state["_schema"].likelihood(), n_parameters)
    expected = {name: tuple(parameter.shape) for name, parameter in mechanism.named_parameters()}
    _match_shapes("missingness_", state["missingness_"], expected.items(),
                  source="the column schema (its continuous and numeric-level columns with missing cells)")


def _mixture_matches_latent(state):
    mixture = state.get("_latent_mixture")
    if mixture is not None and mixture["means"].shape[1] != state["_network_spec"]["latent_dim"]:
        raise InvalidState(f"_latent_mixture has means of dimension {mixture['means'].shape[1]}, but the network "
                           f"spec's latent_dim is {state['_network_spec']['latent_dim']}.")
    if mixture is not None and "holes" in mixture and mixture["holes"].shape[1] != len(state["_schema"].columns):
        raise InvalidState(f"_latent_mixture['holes'] has {mixture['holes'].shape[1]} columns, but the column schema "
                           f"has {len(state['_schema'].columns)}.")


def _optimizer_matches_weights(state):
    weights = (*state["encoder_"].values(), *state["decoder_"].values(), *state.get("missingness_", {}).values())
    shapes = [tuple(t.shape) for t in weights]
    optimizer = state["optimizer_"]
    params = optimizer["param_groups"][0]["params"]
    if params != list(range(len(shapes))):
        raise InvalidState(
            f"optimizer_ must cover the {len(shapes)} network parameters as params 0..{len(shapes) - 1}; "
            f"got {params[:10]!r}{'...' if len(params) > 10 else ''}."
        )
    for key, entry in optimizer["state"].items():
        if not 0 <= key < len(shapes):
            raise InvalidState(f"optimizer_ has state for parameter {key}, but the networks have {len(shapes)}.")
        for moment in ("exp_avg", "exp_avg_sq"):
            if tuple(entry[moment].shape) != shapes[key]:
                raise InvalidState(
                    f"optimizer_['state'][{key}][{moment!r}] has shape {tuple(entry[moment].shape)}, "
                    f"but parameter {key} has shape {shapes[key]}."
                )


def _history_agrees(state):
    if len(state["loss_curve_"]) != state["n_iter_"]:
        raise InvalidState(
            f"loss_curve_ has {len(state['loss_curve_'])} entries, but n_iter_ is {state['n_iter_']}."
        )
    scores = state["validation_scores_"]
    if scores is not None and len(scores) > state["n_iter_"]:
        raise InvalidState(f"validation_scores_ has {len(scores)} entries, more than n_iter_={state['n_iter_']}.")


def _seen_pairs_match_schema(state):
    seen_pairs = state["_schema"].seen_pairs
    if seen_pairs is not None:
        try:
            check_seen_pairs(seen_pairs, state["_schema"].columns)
        except ValueError as error:
            raise InvalidState(f"_schema['seen_pairs']: {error}.") from None
    problem = check_exclusive_groups(state["_schema"].exclusive_groups, state["_schema"].columns)
    if problem is not None:
        raise InvalidState(f"_schema['exclusive_groups'] is not {problem}.")


CROSS_CHECKS = (
    _features_agree,
    _schema_matches_spec,
    _seen_pairs_match_schema,
    _weights_match_spec,
    _mechanism_matches_schema,
    _mixture_matches_latent,
    _optimizer_matches_weights,
    _history_agrees,
)
