"""Hostile use, twelfth sweep: parameter values as a demanding scikit-learn user writes them, method order, integration.

Swept and found sound: NumPy integer and float scalars for every numeric
parameter; bools, floats, ``inf``, ``nan``, ``-0.0`` and ``10**30`` where an
int is expected (refused by name; ``10**30`` accepted where any size is
meaningful: ``batch_size``, capped at the rows, ``max_iter``,
``n_iter_no_change``, ``verbose``); a
``latent_dim`` or a layer of ``10**30`` refused by the size of the networks;
every method before fit (NotFittedError); columns reordered, added, dropped
or renamed at ``transform``, ``partial_fit``, ``predict`` and the imputer's
``transform``; ``warm_start`` after ``set_params`` of ``latent_dim``,
``hidden_layer_sizes``, ``likelihood``, ``activation``, ``missing_mechanism``
(refused naming both values) or of the same layers as a list or an array
(continued); ``sample`` with 0, negative, float, bool, ``None``, text and
huge ``n_samples``, with every kind of ``random_state`` (a refused call
leaves a RandomState given to it where it was); ``score_samples``
and ``score`` with ``n_importance`` at and beyond its cap; ``inverse_transform``
of the wrong width, NaN, inf, 1-D or 3-D; clone, deepcopy, pickle and joblib
of fitted and unfitted estimators alone and in a Pipeline or
ColumnTransformer; ``set_output`` pandas and polars; GridSearchCV with
``n_jobs=2``; cross_val_score; ``estimator_html_repr`` and ``repr`` of odd
parameters; metadata routing on (no ``set_fit_request``: ``fit`` takes no
metadata, as PCA's; ``score``'s ``n_importance`` routed by
``set_score_request``); a saved, pickled or deep-copied estimator keeps its
``set_output``; ``fit_transform`` and ``fit_predict`` equal ``fit`` then
``transform`` or ``predict``; no call mutates its X.

Each family below failed once (see the commit that added its tests):

- **A refused ``hidden_layer_sizes`` or ``device`` was a plain ValueError**
  (``skvae._validation.training_params``, ``skvae._device.resolve_device``):
  every other parameter is refused with scikit-learn's InvalidParameterError,
  which a caller (or a search) catches as the refusal of a parameter; these
  two are now refused with it too, their messages unchanged; so is a kind
  no column has in a ``likelihood`` dict (``{"a": "Gaussian"}``,
  ``skvae._column_types.requested_kinds``), as ``likelihood="Gaussian"`` was.
- **``get_feature_names_out`` with odd ``input_features``**
  (``skvae._validation.check_input_features``): a string on an estimator fitted
  on an array was a TypeError ``len() of unsized object`` from inside
  scikit-learn, a column of names was taken as names, and names that
  differ from the fitted columns were refused without saying which were
  expected.
- **``inverse_transform`` of text** said only NumPy's ``could not convert
  string to float``; it names the cell now, as ``transform`` does.
- **``inverse_transform`` of the codes with their columns reordered**
  (``VAETransformer._check_code_columns``): the output of ``transform``
  under ``set_output(transform="pandas")``, its columns reordered or some
  renamed, was decoded by position, each latent dimension as another,
  without a word; a DataFrame whose columns name some of the codes must
  now name all of them in order (other names are still read by position).
- **``skvae.load`` of a file object left at its end** (``skvae._persistence``):
  loading the buffer ``skvae.save`` had just written, without ``seek(0)``,
  was refused as "empty (0 bytes), as a save that never ran", sending the
  user after a save that had worked; it now says where the object stands
  and to seek back.
- **An empty or 3-D table given to ``VAEOutlierDetector``** (``skvae._outliers``):
  no rows, no columns or a third dimension at ``fit``, ``fit_predict``,
  ``score_samples``, ``decision_function`` or ``predict`` was refused "as
  required by VAETransformer", the VAE inside; it names the detector now.
"""

import io
import re

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError

import skvae
from skvae import VAEImputer, VAEOutlierDetector, VAETransformer

TINY = dict(latent_dim=2, hidden_layer_sizes=(8,), max_iter=2, random_state=0, device="cpu")
CLASSES = [VAETransformer, VAEImputer, VAEOutlierDetector]


def _array():
    return np.random.RandomState(0).randn(24, 3)


def _frame():
    return pd.DataFrame(_array(), columns=["a", "b", "c"])


def _output(model, X):
    return model.score_samples(X) if isinstance(model, VAEOutlierDetector) else model.transform(X)


# ---------------------------------------------------------------- parameters refused as scikit-learn refuses them


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("sizes", [(), [], (0,), (8, -1), (8.0,), np.array([8.0]), (True,), np.array([[8]]), {8},
                                   {8: 1}, ((8,),)], ids=repr)
def test_a_refused_hidden_layer_sizes_is_an_invalid_parameter_error(cls, sizes):
    with pytest.raises(InvalidParameterError, match="hidden_layer_sizes must be "):
        cls(**{**TINY, "hidden_layer_sizes": sizes}).fit(_array())


@pytest.mark.parametrize("cls", CLASSES)
def test_a_refused_hidden_layer_sizes_on_a_fitted_estimator_changes_nothing(cls):
    model = cls(**TINY).fit(_array())
    before, attributes = _output(model, _array()), model.n_features_in_
    model.set_params(hidden_layer_sizes=(), warm_start=True)
    with pytest.raises(InvalidParameterError, match="hidden_layer_sizes must be a non-empty sequence"):
        model.fit(_array())
    np.testing.assert_array_equal(_output(model, _array()), before)
    assert model.n_features_in_ == attributes


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("device", ["CPU", " cpu", "cpu ", "Auto", "", "cuda:abc", "tpu"])
def test_a_device_that_names_no_device_is_an_invalid_parameter_error(cls, device):
    with pytest.raises(InvalidParameterError, match=f"'device' parameter must be .*; got {device!r}"):
        cls(**{**TINY, "device": device}).fit(_array())


def test_a_device_this_machine_lacks_is_an_invalid_parameter_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(InvalidParameterError, match="device='cuda' was requested but CUDA is not available"):
        VAETransformer(**{**TINY, "device": "cuda"}).fit(_array())


def test_a_search_with_error_score_raise_raises_the_parameters_refusal():
    search = GridSearchCV(VAETransformer(**TINY), {"hidden_layer_sizes": [(8,), ()]}, cv=2, error_score="raise")
    with pytest.raises(InvalidParameterError, match="hidden_layer_sizes must be a non-empty sequence"):
        search.fit(_array())


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("name, value", [
    ("likelihood", "Auto"), ("likelihood", " auto"), ("likelihood", "GAUSSIAN"), ("activation", "Relu"),
    ("max_iter", "Auto"), ("early_stopping", "Auto"), ("early_stopping", 1), ("handle_unknown", "Ignore"),
    ("missing_mechanism", "Ignorable"), ("learning_rate", -0.0), ("validation_fraction", -0.0),
    ("n_jobs", -0.0), ("latent_dim", np.float32(2.0)), ("latent_dim", float("inf")), ("latent_dim", np.array(2)),
    ("batch_size", np.float64(8.0)), ("random_state", 10**30), ("random_state", np.random.default_rng(0)),
    ("beta", float("nan")), ("tol", float("inf")), ("warm_start", "False"), ("verbose", "1"),
])
def test_parameter_values_written_otherwise_are_refused_by_name(cls, name, value):
    # Strings are not case- or space-folded: scikit-learn's StrOptions does not fold them either.
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter of {cls.__name__} must be"):
        cls(**{**TINY, name: value}).fit(_array())


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("kind", ["Gaussian", " gaussian", None, 1, ["gaussian"]], ids=repr)
def test_a_likelihood_dict_with_a_kind_no_column_has_is_an_invalid_parameter_error(cls, kind):
    model = cls(**TINY).fit(_frame())
    before = _output(model, _frame())
    model.set_params(likelihood={"a": kind})
    with pytest.raises(InvalidParameterError, match=r"likelihood\['a'\] must be one of \['auto', 'gaussian', "):
        model.fit(_frame())
    np.testing.assert_array_equal(_output(model, _frame()), before)


@pytest.mark.parametrize("name, value", [("beta", -0.0), ("tol", -0.0), ("latent_dim", np.uint8(2)),
                                         ("batch_size", 10**30), ("max_iter", np.int64(2)),
                                         ("random_state", np.uint32(2**32 - 1)), ("early_stopping", np.bool_(False))])
def test_parameter_values_that_mean_a_valid_one_fit(name, value):
    model = VAETransformer(**{**TINY, name: value}).fit(_array())
    Z = model.transform(_array())
    assert type(Z) is np.ndarray and Z.shape == (24, 2) and np.isfinite(Z).all()


# ---------------------------------------------------------------- warm_start after set_params


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("change, named", [
    ({"hidden_layer_sizes": (9,)}, r"hidden_layer_sizes=\[8\] but the parameters now ask for hidden_layer_sizes=\[9\]"),
    ({"hidden_layer_sizes": [8, 4]}, r"hidden_layer_sizes=\[8\] but the parameters now ask for "
                                     r"hidden_layer_sizes=\[8, 4\]"),
    ({"activation": "tanh"}, "activation='relu' but the parameters now ask for activation='tanh'"),
    ({"likelihood": "lognormal"}, "likelihood now asks for other column kinds than the fitted model has"),
    ({"missing_mechanism": "self_masking"}, "missing_mechanism='ignorable' but the parameters now ask for"),
], ids=["layers", "layers-list", "activation", "likelihood", "mechanism"])
def test_a_warm_start_after_changing_the_architecture_is_refused_and_changes_nothing(cls, change, named):
    model = cls(**TINY, warm_start=True).fit(_array())
    before, n_iter = _output(model, _array()), model.n_iter_
    model.set_params(**change)
    with pytest.raises(ValueError, match=f"Cannot continue training: .*{named}.*Set warm_start=False"):
        model.fit(_array())
    np.testing.assert_array_equal(_output(model, _array()), before)
    assert model.n_iter_ == n_iter


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("sizes", [[8], np.array([8]), 8, np.int64(8), (np.int64(8),)], ids=repr)
def test_a_warm_start_with_the_same_layers_written_otherwise_continues(cls, sizes):
    model = cls(**TINY, warm_start=True).fit(_array())
    n_iter = model.n_iter_
    model.set_params(hidden_layer_sizes=sizes).fit(_array())
    assert model.n_iter_ > n_iter


# ---------------------------------------------------------------- get_feature_names_out and its input_features


@pytest.mark.parametrize("cls", [VAETransformer, VAEImputer])
@pytest.mark.parametrize("input_features", ["abc", b"abc", 3, np.array([["x0", "x1", "x2"]]),
                                            np.array([["x0"], ["x1"], ["x2"]]), [0, 1, 2], {"x0", "x1", "x2"}],
                         ids=repr)
def test_input_features_that_are_no_list_of_names_are_refused_by_name(cls, input_features):
    model = cls(**TINY).fit(_array())
    with pytest.raises(ValueError, match=r"input_features must be None or a list of 3 column names \(one str per "
                                         rf"column {cls.__name__} was fitted on\); got "):
        model.get_feature_names_out(input_features)


@pytest.mark.parametrize("cls", [VAETransformer, VAEImputer])
def test_input_features_of_another_length_say_how_many(cls):
    model = cls(**TINY).fit(_array())
    with pytest.raises(ValueError, match=f"input_features has 2 names, but {cls.__name__} was fitted on 3 columns"):
        model.get_feature_names_out(["x0", "x1"])


@pytest.mark.parametrize("cls", [VAETransformer, VAEImputer])
@pytest.mark.parametrize("input_features", [["c", "b", "a"], ["x0", "x1", "x2"], ["a", "b"]], ids=repr)
def test_input_features_other_than_the_fitted_columns_name_them(cls, input_features):
    model = cls(**TINY).fit(_frame())
    with pytest.raises(ValueError, match=r"pass None or its feature_names_in_ \['a', 'b', 'c'\]"):
        model.get_feature_names_out(input_features)


@pytest.mark.parametrize("cls", [VAETransformer, VAEImputer])
@pytest.mark.parametrize("fitted_on", ["array", "frame"])
def test_the_fitted_columns_as_input_features_give_the_default_names(cls, fitted_on):
    model = cls(**TINY).fit(_array() if fitted_on == "array" else _frame())
    names = ["x0", "x1", "x2"] if fitted_on == "array" else ["a", "b", "c"]
    for input_features in (names, tuple(names), np.array(names), pd.Index(names)):
        assert list(model.get_feature_names_out(input_features)) == list(model.get_feature_names_out())


@pytest.mark.parametrize("cls", [VAETransformer, VAEImputer])
def test_get_feature_names_out_before_fit_is_not_fitted(cls):
    with pytest.raises(NotFittedError):
        cls(**TINY).get_feature_names_out(["x0", "x1", "x2"])


# ---------------------------------------------------------------- inverse_transform of what is no latent code


@pytest.mark.parametrize("fitted_on", ["array", "frame"])
def test_inverse_transform_of_text_names_the_cell_and_changes_nothing(fitted_on):
    X = _array() if fitted_on == "array" else _frame()
    model = VAETransformer(**TINY).fit(X)
    Z = model.transform(X)
    decoded = model.inverse_transform(Z)
    with pytest.raises(ValueError, match=r"X holds text \('a' in column 1, row 0\): an array must hold numbers. "
                                         "inverse_transform decodes latent codes"):
        model.inverse_transform(np.array([["0.5", "a"]]))
    np.testing.assert_array_equal(model.transform(X), Z)
    if fitted_on == "frame":
        pd.testing.assert_frame_equal(model.inverse_transform(Z), decoded)
    else:
        np.testing.assert_array_equal(model.inverse_transform(Z), decoded)


@pytest.mark.parametrize("fitted_on", ["array", "frame"])
@pytest.mark.parametrize("columns", [["vaetransformer1", "vaetransformer0"], ["vaetransformer0", "z1"]], ids=repr)
def test_inverse_transform_of_codes_with_their_columns_out_of_order_is_refused(fitted_on, columns):
    model = VAETransformer(**TINY).set_output(transform="pandas").fit(_array() if fitted_on == "array" else _frame())
    Z = model.transform(_array() if fitted_on == "array" else _frame())
    decoded = model.inverse_transform(Z)
    shuffled = Z[columns] if set(columns) <= set(Z.columns) else Z.set_axis(columns, axis=1)
    with pytest.raises(ValueError, match=re.escape(
            f"X's columns {columns!r} name some of the latent codes ['vaetransformer0', 'vaetransformer1'], but are "
            "not all of them in their order: inverse_transform reads the codes by position.")):
        model.inverse_transform(shuffled)
    # Codes named otherwise are read by position, as PCA reads them.
    for other in (["p", "q"], [0, 1]):
        again = model.inverse_transform(Z.set_axis(other, axis=1))
        if fitted_on == "frame":
            pd.testing.assert_frame_equal(again, decoded)
        else:
            np.testing.assert_array_equal(again, decoded)


def test_inverse_transform_of_text_numbers_reads_them_as_numbers():
    model = VAETransformer(**TINY).fit(_array())
    np.testing.assert_array_equal(model.inverse_transform([["0.5", "-1"]]), model.inverse_transform([[0.5, -1.0]]))


# ---------------------------------------------------------------- skvae.load of a file object


@pytest.mark.parametrize("cls", CLASSES)
def test_load_of_a_buffer_left_at_its_end_says_to_seek_back(cls):
    model = cls(**TINY).fit(_array())
    buffer = io.BytesIO()
    skvae.save(model, buffer)
    with pytest.raises(ValueError, match=r"skvae.load read nothing from 'the file object': it stands at byte "
                                         r"[\d,]+, past what it holds .* Call its seek\(0\) first."):
        skvae.load(buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(_output(skvae.load(buffer), _array()), _output(model, _array()))


def test_load_of_a_file_read_to_its_end_names_it(tmp_path):
    path = tmp_path / "model.skvae"
    skvae.save(VAETransformer(**TINY).fit(_array()), path)
    with open(path, "rb") as file:
        skvae.load(file)
        with pytest.raises(ValueError, match=f"skvae.load read nothing from {str(path)!r}: it stands at byte"):
            skvae.load(file)


def test_load_of_an_empty_buffer_is_still_called_empty():
    with pytest.raises(ValueError, match=r"'the file object' is not a skvae model file: .* it is empty \(0 bytes\)"):
        skvae.load(io.BytesIO())


# ---------------------------------------------------------------- the outlier detector names itself


@pytest.mark.parametrize("method", ["fit", "fit_predict", "score_samples", "decision_function", "predict"])
@pytest.mark.parametrize("X, what", [(np.zeros((0, 3)), r"0 sample\(s\) \(shape=\(0, 3\)\)"),
                                     (np.zeros((2, 0)), r"0 feature\(s\) \(shape=\(2, 0\)\)"),
                                     ([[]], r"0 feature\(s\) \(shape=\(1, 0\)\)"),
                                     (np.zeros((1, 2, 3)), "dim 3,")], ids=["no-rows", "no-columns", "[[]]", "3-d"])
def test_an_empty_table_refused_by_the_detector_names_the_detector(method, X, what):
    model = VAEOutlierDetector(**TINY).fit(_array())
    offset, scores = model.offset_, model.score_samples(_array())
    with pytest.raises(ValueError, match=f"Found array with {what} while .* required by VAEOutlierDetector."):
        getattr(model, method)(X)
    assert model.offset_ == offset
    np.testing.assert_array_equal(model.score_samples(_array()), scores)


# ---------------------------------------------------------------- a refused sample leaves the user's generator alone


def _generator_state(generator):
    name, keys, position, has_gauss, cached = generator.get_state()
    return name, keys.copy(), position, has_gauss, cached


@pytest.mark.parametrize("kwargs", [
    {"n_samples": 0}, {"n_samples": -1}, {"n_samples": 2.0}, {"n_samples": True}, {"n_samples": 10**30},
    {"n_samples": 2, "given": {5: 1.0}}, {"n_samples": 2, "given": {0: "a"}}, {"n_samples": 2, "given": {0: np.inf}},
    {"n_samples": 2, "latent": "Prior"}, {"n_samples": 2, "with_missing": 1},
    {"n_samples": 2, "given": {0: 1.0}, "n_importance": 0},
], ids=repr)
def test_a_refused_sample_leaves_the_users_generator_alone(kwargs):
    model = VAETransformer(**TINY).fit(_array())
    generator = np.random.RandomState(5)
    before = _generator_state(generator)
    with pytest.raises(ValueError):
        model.sample(random_state=generator, **kwargs)
    after = _generator_state(generator)
    assert before[0] == after[0] and np.array_equal(before[1], after[1]) and before[2:] == after[2:]
