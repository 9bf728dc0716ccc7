"""The state of the faces that hold a VAE: VAEImputer's and VAEOutlierDetector's fields and checks.

The schema of :mod:`skvae._state`, extended: a face's own fitted attributes,
and its VAE checked by the transformer's schema.
"""

import importlib

import numpy as np

from ._state import (
    Field,
    InvalidState,
    _fail,
    _finite_float,
    _int_at_least,
    _int_in,
    _is_int,
    _output_config,
    _shown,
    _string_vector,
    check_state,
)
from ._validation import MAX_N_IMPORTANCE

# A face (VAEImputer, VAEOutlierDetector) holds a fitted VAETransformer,
# ``vae_``. Its state holds that VAE's own state dict (the transformer's
# ``__getstate__``), rebuilt by the transformer's ``__setstate__``: one schema
# for the model, wherever it sits. Pickles written before faces had a plain
# state hold the VAETransformer itself, already checked by its unpickling.


def _vae_state(value, name):
    from ._estimator import VAETransformer  # here: _estimator imports this module

    if isinstance(value, dict):
        return  # checked by _checked_vae_state
    if type(value) is not VAETransformer or "_model" not in vars(value):
        _fail(name, "the state of a fitted VAETransformer", value)


def _checked_vae_state(value, name):
    """A VAE state dict checked by the VAETransformer's own schema (its schema rebuilt, no networks built).

    The face's ``__setstate__`` builds the VAE from it (see
    :func:`skvae._faces.face_from_state`); checking alone, as :func:`skvae.save`
    does, builds no networks.
    """
    from ._estimator import VAETransformer

    if not isinstance(value, dict):
        return value
    try:
        checked = check_state(VAETransformer, value)
    except InvalidState as error:
        raise InvalidState(f"{name}: {error}") from None
    if "n_features_in_" not in checked:
        raise InvalidState(f"{name} is the state of an unfitted VAETransformer; a fitted face holds a fitted one.")
    return checked


def _vae_attribute(vae, key):
    """A fitted attribute of ``vae_``, a VAETransformer or its checked state; None if it has none."""
    return vae.get(key) if isinstance(vae, dict) else getattr(vae, key, None)


def _positions(value, name):
    if not isinstance(value, list) or not all(_is_int(j) and j >= 0 for j in value) or value != sorted(set(value)):
        _fail(name, "a sorted list of distinct column positions", value)


def _indicator_state(value, name):
    from sklearn.impute import MissingIndicator

    if value is None or isinstance(value, MissingIndicator):
        return
    if not isinstance(value, dict) or set(value) != {"features", "n_features"}:
        _fail(name, "None or a dict with the keys 'features' and 'n_features'", value)
    _int_at_least(1)(value["n_features"], f"{name}['n_features']")
    _positions(value["features"], f"{name}['features']")
    if value["features"] and value["features"][-1] >= value["n_features"]:
        raise InvalidState(f"{name} marks columns {_shown(value['features'])} of {value['n_features']}.")


def _rebuild_indicator(value, name):
    if not isinstance(value, dict):
        return value
    from ._imputer import fitted_indicator  # here: _imputer imports this module

    return fitted_indicator(value["features"], value["n_features"])


def _empty_features(value, name):
    if isinstance(value, np.ndarray):  # pickles written before faces had a plain state
        if value.dtype != bool or value.ndim != 1:
            _fail(name, "a 1-D bool array", value)
        return
    if not isinstance(value, list) or not all(type(flag) is bool for flag in value):
        _fail(name, "a list of bools", value)


def _bool_array(value, name):
    return np.array(value, dtype=bool)


def _random_state(value, name):
    if not isinstance(value, np.random.RandomState):
        _fail(name, "a numpy RandomState", value)


def _float_vector(value, name):
    if not isinstance(value, np.ndarray) or value.dtype != np.float64 or value.ndim != 1:
        _fail(name, "a 1-D float64 array", value)
    # NaN is a column without observed training cells; infinity is no median of log-likelihoods.
    if np.isinf(value).any():
        raise InvalidState(f"{name} holds infinite values.")


def _refinement_state(value, name):
    """None, or the arrays of :func:`skvae._refinement.fit_refinement`, each of its shape and finite."""
    if value is None:
        return
    keys = {"columns", "mean", "scale", "coef", "intercept"}
    # States of skvae 0.10.0 and older have no level indicators.
    if not isinstance(value, dict) or set(value) not in (keys, keys | {"level_columns", "levels"}):
        _fail(name, "None or a dict with the keys 'columns', 'mean', 'scale', 'coef' and 'intercept', "
              "and optionally 'level_columns' and 'levels'", value)
    _positions(value["columns"], f"{name}['columns']")
    _level_indicators(value, name)
    arrays = {key: value[key] for key in ("mean", "scale", "coef", "intercept")}
    for key, array in arrays.items():
        if not isinstance(array, np.ndarray) or array.dtype != np.float64 or not np.isfinite(array).all():
            _fail(f"{name}[{key!r}]", "a finite float64 array", array)
    n_refined, width = len(value["columns"]), arrays["mean"].shape
    if not n_refined or arrays["mean"].ndim != 1 or arrays["scale"].shape != width \
            or arrays["coef"].shape != (n_refined, *width) or arrays["intercept"].shape != (n_refined,):
        raise InvalidState(f"{name} has arrays of inconsistent shapes for {n_refined} refined columns.")
    if (arrays["scale"] <= 0).any():
        raise InvalidState(f"{name}['scale'] holds values that are not positive.")


def _label_refinement_state(value, name):
    """None, or the state of :func:`skvae._refinement.fit_label_refinement`: finite arrays of consistent shapes,
    and a valid forest for each label whose rule reads one."""
    if value is None:
        return
    from ._forest import check_state
    from ._refinement import FOREST_RULES, LABEL_RULES, label_forests

    keys = {"columns", "rules", "classes", "coef", "intercept", "mean", "scale"}
    # Imputers of skvae 0.19 and older hold no forests.
    if not isinstance(value, dict) or set(value) not in (keys, keys | {"forests"}):
        _fail(name, "None or a dict with the keys " + ", ".join(repr(key) for key in sorted(keys))
              + " and, from skvae 0.20, 'forests'", value)
    _positions(value["columns"], f"{name}['columns']")
    for key in ("mean", "scale"):
        array = value[key]
        if not isinstance(array, np.ndarray) or array.dtype != np.float64 or array.ndim != 1 \
                or not np.isfinite(array).all():
            _fail(f"{name}[{key!r}]", "a finite 1-D float64 array", array)
    width = value["mean"].shape
    if value["scale"].shape != width or (value["scale"] <= 0).any():
        raise InvalidState(f"{name}['scale'] is not {width[0]} positive values, one per design column.")
    n_labels = len(value["columns"])
    forests = label_forests(value)
    if not n_labels or any(not isinstance(part, list) or len(part) != n_labels for part in (
            value["rules"], value["classes"], value["coef"], value["intercept"], forests)):
        raise InvalidState(f"{name} has lists of other lengths than its {n_labels} refined labels.")
    for rule, classes, coef, intercept, forest in zip(value["rules"], value["classes"], value["coef"],
                                                      value["intercept"], forests):
        if rule not in LABEL_RULES:
            _fail(f"{name}['rules']", " or ".join(repr(r) for r in LABEL_RULES), rule)
        if not isinstance(classes, np.ndarray) or classes.dtype != np.int64 or classes.ndim != 1 \
                or len(classes) < 2 or (np.diff(classes) <= 0).any() or classes[0] < 0:
            _fail(f"{name}['classes']", "strictly increasing 1-D int64 arrays of two or more level codes", classes)
        for key, array, shape in (("coef", coef, (len(classes), *width)), ("intercept", intercept, classes.shape)):
            if not isinstance(array, np.ndarray) or array.dtype != np.float64 or array.shape != shape \
                    or not np.isfinite(array).all():
                _fail(f"{name}[{key!r}]", f"finite float64 arrays of shape {shape}", array)
        if (forest is None) != (rule not in FOREST_RULES):
            raise InvalidState(f"{name} holds a forest for a label whose rule reads none, or none for one "
                               f"whose rule ({rule!r}) reads one.")
        problem = None if forest is None else check_state(forest, width[0], outputs=len(classes))
        if problem is not None:
            _fail(f"{name}['forests']", "forests with " + problem, type(forest).__name__)


def _tree_refinement_state(value, name):
    """None, or the state of :func:`skvae._refinement.fit_tree_refinement`: positions and one valid forest each."""
    if value is None:
        return
    from ._forest import check_state
    from ._refinement import tree_state_shares

    # Imputers of skvae 0.20 and older hold no shares (each column's was TREE_SHARE).
    if not isinstance(value, dict) or set(value) not in ({"columns", "forests"}, {"columns", "forests", "shares"}):
        _fail(name, "None or a dict with the keys 'columns' and 'forests' and, from skvae 0.21, 'shares'", value)
    _positions(value["columns"], f"{name}['columns']")
    forests = value["forests"]
    if not isinstance(forests, list) or len(forests) != len(value["columns"]) or not forests:
        raise InvalidState(f"{name} has a list of forests of another length than its {len(value['columns'])} "
                           "refined columns.")
    shares = tree_state_shares(value)
    if not isinstance(shares, list) or len(shares) != len(forests):
        raise InvalidState(f"{name} has a list of shares of another length than its {len(forests)} refined columns.")
    for forest in forests:
        # The design's width is checked against vae_'s schema with the other fields (a forest's split
        # features index it); here, that the arrays make a forest whose walk ends.
        problem = check_state(forest, np.iinfo(np.int64).max)
        if problem is not None:
            _fail(f"{name}['forests']", "forests with " + problem, type(forest).__name__)


def _lookups_state(value, name):
    """None, or a dict of the four lists of :func:`skvae._lookups.fit_lookups` (their entries checked with vae_)."""
    if value is not None and not (isinstance(value, dict) and set(value) == {"sources", "targets", "keys", "values"}):
        _fail(name, "None or a dict with the keys 'keys', 'sources', 'targets' and 'values'", value)


def _relations_state(value, name):
    """None, or a dict of the three lists of :func:`skvae._relations.fit_relations` (checked with vae_)."""
    if value is not None and not (isinstance(value, dict) and set(value) == {"columns", "coef", "constant"}):
        _fail(name, "None or a dict with the keys 'coef', 'columns' and 'constant'", value)


def _level_indicators(value, name):
    """A refinement's level columns: increasing positions, each with a strictly increasing finite float64 vector."""
    from ._refinement import MIN_LEVELS

    columns, levels = value.get("level_columns", []), value.get("levels", [])
    if not isinstance(columns, list) or not isinstance(levels, list) or len(columns) != len(levels):
        raise InvalidState(f"{name}['level_columns'] and {name}['levels'] are not two lists of one length.")
    if columns:
        _positions(columns, f"{name}['level_columns']")
    for values in levels:
        if not isinstance(values, np.ndarray) or values.dtype != np.float64 or values.ndim != 1 \
                or len(values) < MIN_LEVELS or not np.isfinite(values).all() or (np.diff(values) <= 0).any():
            _fail(f"{name}['levels']", f"finite, strictly increasing 1-D float64 arrays of at least {MIN_LEVELS} "
                  "values", values)


def _n_importance(value, name):
    _int_in(1, MAX_N_IMPORTANCE)(value, name)


_FACE_FIELDS = {
    "n_features_in_": Field(_int_at_least(1)),
    "feature_names_in_": Field(_string_vector, required=False),
    "vae_": Field(_vae_state, restore=_checked_vae_state),
    "n_iter_": Field(_int_at_least(0)),
}

#: The fitted attributes of a VAEImputer.
IMPUTER_FIELDS = {
    **_FACE_FIELDS,
    "indicator_": Field(_indicator_state, restore=_rebuild_indicator),
    "_empty_features": Field(_empty_features, restore=_bool_array),
    # Pickles of skvae 0.2.0 have no generator of successive draws; their
    # __setstate__ starts one as fit would.
    "_draws": Field(_random_state, required=False),
    "_sklearn_output_config": Field(_output_config, required=False),
    # Imputers of skvae 0.6.0 and older have no refinement (their refinement parameter reads None).
    "_refinement": Field(_refinement_state, required=False),
    # Imputers of skvae 0.17 and older refine no label.
    "_label_refinement": Field(_label_refinement_state, required=False),
    # Imputers of skvae 0.18 and older have no trees.
    "_tree_refinement": Field(_tree_refinement_state, required=False),
    # Imputers of skvae 0.21 and older fill no lookups; checked against vae_'s schema with the other fields.
    "_lookups": Field(_lookups_state, required=False),
    # Imputers of skvae 0.21 and older keep no linear relations; checked against vae_'s schema too.
    "_relations": Field(_relations_state, required=False),
}

#: The fitted attributes of a VAEOutlierDetector.
DETECTOR_FIELDS = {
    **_FACE_FIELDS,
    "_n_importance": Field(_n_importance),
    "offset_": Field(_finite_float),
    "typical_column_log_likelihood_": Field(_float_vector),
}


def _imputer_columns_agree(state):
    n_features, empty = state["n_features_in_"], state["_empty_features"]
    if len(empty) != n_features:
        raise InvalidState(f"n_features_in_ is {n_features}, but _empty_features has {len(empty)} entries.")
    vae = state["vae_"]
    kept, vae_features = int((~empty).sum()), _vae_attribute(vae, "n_features_in_")
    if vae_features != kept:
        raise InvalidState(
            f"the imputer keeps {kept} of its {n_features} columns (those not empty at fit), but vae_ "
            f"was fitted on {vae_features}."
        )
    names = state.get("feature_names_in_")
    if names is not None:
        if len(names) != n_features:
            raise InvalidState(f"n_features_in_ is {n_features}, but len(feature_names_in_) is {len(names)}.")
        schema = _vae_attribute(vae, "_schema")
        if not schema.is_dataframe or list(schema.names) != list(names[~empty]):
            raise InvalidState("vae_'s column names differ from the imputer's kept feature_names_in_.")
    refinement = state.get("_refinement")
    if refinement is not None:
        from ._refinement import is_refined, state_design_width

        columns = _vae_attribute(vae, "_schema").columns
        _refines_only(refinement["columns"], columns, is_refined, "_refinement refines columns of vae_ whose kinds "
                      "are not refined (continuous, count or few-number columns).")
        level_columns = refinement.get("level_columns", [])
        if level_columns and (level_columns[-1] >= len(columns) or any(
                columns[j]["kind"] == "categorical" for j in level_columns)):
            raise InvalidState("_refinement has level indicators of columns that are not numeric columns of vae_.")
        width = state_design_width(refinement, columns)
        if refinement["mean"].shape != (width,):
            raise InvalidState(f"_refinement's design has {refinement['mean'].shape[0]} columns, but vae_'s "
                               f"schema and its level indicators imply {width}.")
    labels = state.get("_label_refinement")
    if labels is not None:
        from ._refinement import design_width, is_label

        columns = _vae_attribute(vae, "_schema").columns
        _refines_only(labels["columns"], columns, is_label, "_label_refinement refines columns of vae_ that are not "
                      "labels (categorical columns of levels other than numbers).")
        if any(classes[-1] >= len(columns[j]["categories"]) for j, classes in zip(labels["columns"],
                                                                                   labels["classes"])):
            raise InvalidState("_label_refinement's level codes exceed the levels of their columns in vae_.")
        if labels["mean"].shape != (design_width(columns),):
            raise InvalidState(f"_label_refinement's design has {labels['mean'].shape[0]} columns, but vae_'s "
                               f"schema implies {design_width(columns)}.")
    trees = state.get("_tree_refinement")
    if trees is not None:
        from ._refinement import design_width, is_refined, tree_shares, tree_state_shares

        columns = _vae_attribute(vae, "_schema").columns
        _refines_only(trees["columns"], columns, is_refined, "_tree_refinement refines columns of vae_ whose kinds "
                      "are not refined (continuous, count or few-number columns).")
        for j, share in zip(trees["columns"], tree_state_shares(trees)):
            # Exactly a share the column's check chooses from: a share of 3 would move fills past the forest's.
            if type(share) is not float or share not in tree_shares(columns[j]):
                raise InvalidState(f"_tree_refinement's share for column {j} is {share!r}, not one of its column's "
                                   f"shares {tree_shares(columns[j])}.")
        width = design_width(columns)
        if any(forest["feature"].max() >= width for forest in trees["forests"]):
            raise InvalidState(f"_tree_refinement's forests split on design columns beyond the {width} of vae_'s "
                               "schema.")
    for field, module in (("_lookups", "_lookups"), ("_relations", "_relations")):
        certain = state.get(field)
        if certain is not None:
            check_state = importlib.import_module(f"skvae.{module}").check_state
            problem = check_state(certain, _vae_attribute(vae, "_schema").columns)
            if problem is not None:
                raise InvalidState(f"{field} is not {problem} of vae_'s schema.")
    indicator = state["indicator_"]
    if indicator is not None:
        if indicator.n_features_in_ != n_features:
            raise InvalidState(
                f"indicator_ reads {indicator.n_features_in_} columns, but n_features_in_ is {n_features}."
            )


def _refines_only(positions, columns, accepts, message):
    """Raise InvalidState(`message`) unless every refined position is a column of the schema that `accepts`."""
    if positions[-1] >= len(columns) or any(not accepts(columns[j]) for j in positions):
        raise InvalidState(message)


def _detector_columns_agree(state):
    n_features, vae = state["n_features_in_"], state["vae_"]
    vae_features = _vae_attribute(vae, "n_features_in_")
    if vae_features != n_features:
        raise InvalidState(f"n_features_in_ is {n_features}, but vae_ was fitted on {vae_features}.")
    names, vae_names = state.get("feature_names_in_"), _vae_attribute(vae, "feature_names_in_")
    if (names is None) != (vae_names is None) or (names is not None and list(names) != list(vae_names)):
        raise InvalidState("feature_names_in_ differs from vae_.feature_names_in_.")
    typical = state["typical_column_log_likelihood_"]
    if typical.shape != (n_features,):
        raise InvalidState(
            f"typical_column_log_likelihood_ has shape {typical.shape}, but n_features_in_ is {n_features}."
        )


IMPUTER_CROSS_CHECKS = (_imputer_columns_agree,)
DETECTOR_CROSS_CHECKS = (_detector_columns_agree,)
