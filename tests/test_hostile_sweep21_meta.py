"""Hostile use, twenty-first sweep: scikit-learn meta-estimators and persistence together.

Swept and found sound: ``ColumnTransformer`` with ``make_column_selector``
(``dtype_include="number"``), ``remainder="passthrough"`` and
``verbose_feature_names_out`` both ways under ``set_output`` pandas and
polars (the columns equal ``get_feature_names_out``, the imputer's
indicator columns included); ``FeatureUnion`` of two VAEs with pandas
output; ``TransformedTargetRegressor``; ``GridSearchCV``,
``RandomizedSearchCV`` and ``HalvingGridSearchCV`` (by rows, and with
``resource="max_iter"``) over ``latent_dim`` and ``likelihood`` dicts
(a kind spelt ``"Gaussian"`` is refused with the lower-case names, as any
other parameter value); ``cross_validate(return_estimator=True)``;
``cross_val_predict`` of a Pipeline and of the detector (a transformer is
refused by scikit-learn: it has no ``predict``); ``StackingClassifier`` with
a VAE pipeline as a base estimator; ``make_column_selector(dtype_include="category")``
imputed by a VAEImputer beside a numeric one; a Pipeline of a VAE and the
detector (``predict``, ``score_samples``, ``decision_function``); the
estimators of ``cross_validate`` and a detector search's best estimator
through ``skvae.save``/``load`` (bit-identical); metadata routing on (a step's
``sample_weight`` routed past the VAE, ``n_importance`` routed to
``score`` in ``cross_validate``; ``fit`` takes no metadata, as sweep 12
decided); ``sklearn.set_config(assume_finite=True)`` set globally (infinity
in ``fit``/``transform`` and ``given`` still refused by name; see below for
the rest) and ``transform_output`` "pandas"/"polars" set globally
(``sample`` and ``inverse_transform`` are not wrapped, as
scikit-learn wraps only ``transform``); ``clone`` of fitted composites
(unfitted, refitted bit for bit); pickle at every protocol 0-5 and
``joblib.dump``/``load`` of a fitted Pipeline holding a ColumnTransformer
of a VAEImputer and a VAETransformer (bit-identical ``transform``,
``predict_proba`` and seeded ``sample``); ``copy.deepcopy`` and ``copy.copy`` of a
fitted estimator, the copy then fitted, ``partial_fit``, warm-started or
refitted with other parameters (the original unchanged); ``print_changed_only=False``
repr and html of every face; ``estimator_html_repr`` of fitted and
unfitted composites with likelihood dicts; ``get_params(deep=True)`` and
``set_params`` through two levels; a likelihood dict and a layer list are
never mutated by fit; ``requires_fit``, ``allow_nan`` (the imputer's
follows ``missing_values``), ``string`` False (an array of text is
refused), the detector's ``estimator_type``.

Each family below failed once (see the commit that added its tests):

- **skvae.save of a composite** (``skvae._persistence._check_saveable``):
  a fitted Pipeline, ColumnTransformer or search holding skvae estimators
  was refused only as "got Pipeline", leaving the caller to find out how to
  keep the model. Still refused (the format holds one estimator that load
  rebuilds without importing anyone's code), now naming where each fitted
  skvae estimator sits as a Python accessor (``.steps[1][1]``,
  ``.best_estimator_.steps[0][1].transformers_[0][1]``: a ColumnTransformer
  and a search fit clones, so ``get_params`` would reach unfitted templates)
  and advising ``skvae.save`` of each or ``joblib.dump`` of the whole.
- **Untruthful tags** (``VAETransformer.__sklearn_tags__``,
  ``VAEImputer.__sklearn_tags__``): ``input_tags.categorical`` was
  scikit-learn's default False though every face models a DataFrame's
  category, text and bool columns; the imputer's ``preserves_dtype`` listed
  float64 alone though it returns float32 for float32 (so scikit-learn's
  dtype check never ran on float32). The detector takes its VAE's input tags.
- **A metadata request lost every copy** (``skvae._state.PicklesValidParameters.__getstate__``,
  ``skvae._state.check_state``): ``set_score_request(n_importance=...)``
  keeps a scikit-learn ``MetadataRequest`` in ``_metadata_request``, a key
  the state schema did not know, so pickle, ``copy.deepcopy`` and joblib
  of a requesting VAETransformer, fitted or not, failed to restore it
  ("unknown state keys ['_metadata_request']"): ``GridSearchCV(n_jobs=2)``
  with metadata routing on broke its process pool, and ``skvae.save`` could
  not write the request. It travels now as plain
  ``{method: {metadata: True/False/None/alias}}``, checked (a broken one
  refused naming ``_metadata_request``) and rebuilt for every face.
- **assume_finite switched off refusals skvae relies on scikit-learn for**
  (``VAEImputer._validate``, ``VAETransformer.inverse_transform``): under
  ``sklearn.set_config(assume_finite=True)`` or its ``config_context``, an
  array's NaN under ``missing_values=-1`` was taken in by ``fit`` and came
  back from ``transform`` unfilled, without a word (a DataFrame's was
  refused, and the tags say ``allow_nan=False``); a NaN or infinite latent
  code given to ``inverse_transform`` was blamed on the networks
  overflowing "far outside the range of the training data". Both are
  refused whatever the setting, as infinity in ``transform`` is (sweep 20),
  in the words used without it.

Found and LEFT:

- Under ``set_output(transform="polars")`` the imputer's ``transform`` (and
  ``multiple_imputations``) of a table with category or text columns fails
  in scikit-learn's polars adapter with polars' own ImportError "pyarrow is
  required for converting a pandas dataframe to Polars" when pyarrow is not
  installed. The message names the fix; the conversion is scikit-learn's
  and polars', and numeric tables convert without pyarrow. Likewise a
  Pipeline under polars output whose next skvae step receives a polars
  table is refused by that step naming the failed conversion
  (``No module named 'pyarrow'``) and advising ``X.to_pandas()``.
- An unfitted Pipeline of skvae estimators given to ``skvae.save`` is
  refused plainly ("got Pipeline."): there is no fitted model to keep.
"""

import contextlib
import copy
import io
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn import config_context as sklearn_config
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils import get_tags

import skvae
from skvae import VAEImputer, VAEOutlierDetector, VAETransformer
from skvae._refusals import TypeRefusal

pytestmark = [pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
              pytest.mark.filterwarnings("ignore::UserWarning")]

TINY = dict(latent_dim=2, hidden_layer_sizes=(8,), max_iter=2, random_state=0, device="cpu")
FACES = [VAETransformer, VAEImputer, VAEOutlierDetector]


def _table(n_rows=40, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=n_rows), "b": rng.normal(size=n_rows),
                          "c": pd.Categorical(rng.choice(["x", "y", "z"], n_rows)),
                          "d": rng.choice(["p", "q"], n_rows)})
    frame.loc[::5, "a"] = np.nan
    return frame


def _labels(frame):
    return (frame["b"] > 0).astype(int).to_numpy()


def _pipeline():
    """A Pipeline holding skvae estimators at two depths: one inside a ColumnTransformer (fitted as a clone)."""
    return make_pipeline(
        ColumnTransformer([("imputer", VAEImputer(**TINY), ["a", "c"])], remainder="passthrough"),
        VAETransformer(**TINY), LogisticRegression()).set_output(transform="pandas")


# --- skvae.save of a composite ----------------------------------------------------------------

def test_save_of_a_fitted_pipeline_names_each_skvae_step_and_the_advice_keeps_the_model(tmp_path):
    """The refusal's accessors reach the fitted steps; saving those and rebuilding predicts bit for bit."""
    frame = _table()
    pipeline = _pipeline().fit(frame, _labels(frame))
    path = tmp_path / "pipeline.skvae"
    with pytest.raises(TypeError, match=r"got Pipeline, a composite holding 2 fitted skvae estimators") as caught:
        skvae.save(pipeline, path)
    assert isinstance(caught.value, TypeRefusal) and caught.value.has("advice")
    message = str(caught.value)
    assert "joblib.dump" in message and "skvae.save(pipeline.steps[0][1].transformers_[0][1], path)" in message
    assert not path.exists()  # refused before anything was written

    # The accessors, as the message lists them, reach fitted skvae estimators: follow the advice.
    listed = message[message.index("fitted skvae estimators (") + len("fitted skvae estimators ("):]
    places = listed[:listed.index("). ")].split(", ")
    assert places == [".steps[0][1].transformers_[0][1]", ".steps[1][1]"]
    rebuilt = copy.deepcopy(pipeline)
    for place, holder_path in zip(places, ["imputer", "vae"]):
        step = eval("pipeline" + place, {"pipeline": pipeline})  # noqa: S307 - the message's own accessor
        assert isinstance(step, (VAEImputer, VAETransformer))
        skvae.save(step, tmp_path / f"{holder_path}.skvae")
    rebuilt.steps[0][1].transformers_[0] = ("imputer", skvae.load(tmp_path / "imputer.skvae"), ["a", "c"])
    rebuilt.steps[1] = ("vaetransformer", skvae.load(tmp_path / "vae.skvae"))
    np.testing.assert_array_equal(rebuilt.predict_proba(frame), pipeline.predict_proba(frame))
    np.testing.assert_array_equal(rebuilt[:-1].transform(frame), pipeline[:-1].transform(frame))


def test_save_of_a_fitted_search_names_the_best_estimator_first():
    """A search's template (``estimator``) is unfitted; the advice names the refitted best estimator."""
    frame = _table()
    search = GridSearchCV(_pipeline(), {"vaetransformer__latent_dim": [1, 2]}, cv=2).fit(frame, _labels(frame))
    with pytest.raises(TypeError, match=r"got GridSearchCV, a composite holding 2 fitted skvae estimators "
                       r"\(\.best_estimator_\.steps\[0\]\[1\]\.transformers_\[0\]\[1\], "
                       r"\.best_estimator_\.steps\[1\]\[1\]\)\. Save each with "
                       r"skvae\.save\(gridsearchcv\.best_estimator_\.steps\[0\]\[1\]\.transformers_\[0\]\[1\], path\)"):
        skvae.save(search, io.BytesIO())
    step = search.best_estimator_.steps[1][1]
    buffer = io.BytesIO()
    skvae.save(step, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(skvae.load(buffer).transform(search.best_estimator_[0].transform(frame)),
                                  search.best_estimator_[:-1].transform(frame))


def test_save_of_an_unfitted_pipeline_or_a_stranger_is_refused_plainly():
    """No fitted model inside: the old refusal, without advice that would point at unfitted templates."""
    for stranger, name in [(make_pipeline(VAETransformer(**TINY)), "Pipeline"), (object(), "object")]:
        with pytest.raises(TypeError, match=rf"expects one of skvae's estimators .*; got {name}\.$") as caught:
            skvae.save(stranger, io.BytesIO())
        assert not isinstance(caught.value, TypeRefusal)


# --- tags -------------------------------------------------------------------------------------

@pytest.mark.parametrize("face", FACES)
def test_every_face_says_it_takes_categorical_input_and_does(face):
    """``input_tags.categorical`` is true: a DataFrame of category and text columns fits (an array of text does not)."""
    tags = get_tags(face(**TINY))
    assert tags.input_tags.categorical is True
    assert tags.input_tags.string is False
    frame = _table().dropna()
    face(**TINY).fit(frame[["c", "d"]])
    with pytest.raises(ValueError, match="holds text"):
        face(**TINY).fit(frame[["c", "d"]].to_numpy())


@pytest.mark.parametrize("face", [VAETransformer, VAEImputer])
def test_preserves_dtype_lists_exactly_what_transform_preserves(face):
    """Each dtype the tag lists comes back from ``transform`` of an array and of a DataFrame in that dtype."""
    preserved = get_tags(face(**TINY)).transformer_tags.preserves_dtype
    assert preserved == ["float64", "float32"]
    rng = np.random.default_rng(1)
    values = rng.normal(size=(30, 3))
    values[::4, 1] = np.nan
    for dtype in preserved:
        array = values.astype(dtype)
        fitted = face(**TINY).fit(array)
        assert fitted.transform(array).dtype == np.dtype(dtype)
        frame = pd.DataFrame(array, columns=["a", "b", "c"])
        out = face(**TINY).set_output(transform="pandas").fit(frame).transform(frame)
        assert set(out.dtypes) == {np.dtype(dtype)}


def test_imputer_allow_nan_follows_its_placeholder():
    assert get_tags(VAEImputer()).input_tags.allow_nan is True
    assert get_tags(VAEImputer(missing_values=-1)).input_tags.allow_nan is False
    values = np.array([[1.0, -1.0], [np.nan, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match="missing_values"):
        VAEImputer(missing_values=-1, **TINY).fit(values)


# --- the sound sweep, pinned ------------------------------------------------------------------

def test_column_selector_with_passthrough_names_match_the_columns():
    frame = _table()
    for verbose in (True, False):
        transformer = ColumnTransformer(
            [("imputer", VAEImputer(add_indicator=True, **TINY), make_column_selector(dtype_include="number"))],
            remainder="passthrough", verbose_feature_names_out=verbose).set_output(transform="pandas")
        out = transformer.fit_transform(frame)
        assert list(out.columns) == list(transformer.get_feature_names_out())
        assert out.shape[1] == 5 and not out.iloc[:, :2].isna().any().any()


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pipeline_pickled_at_every_protocol_and_by_joblib_predicts_bit_for_bit(protocol):
    frame = _table()
    pipeline = _pipeline().fit(frame, _labels(frame))
    restored = pickle.loads(pickle.dumps(pipeline, protocol=protocol))
    np.testing.assert_array_equal(restored.predict_proba(frame), pipeline.predict_proba(frame))
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer, protocol=protocol)
    buffer.seek(0)
    restored = joblib.load(buffer)
    np.testing.assert_array_equal(restored[:-1].transform(frame), pipeline[:-1].transform(frame))
    pd.testing.assert_frame_equal(restored[1].sample(3, random_state=0), pipeline[1].sample(3, random_state=0))


@pytest.mark.parametrize("copier", [copy.deepcopy, copy.copy])
def test_a_copy_fitted_then_refitted_leaves_the_original_unchanged(copier):
    """A shallow copy too: the copy's networks and optimizer are its own, not the original's tensors."""
    frame = _table()
    original = VAETransformer(**TINY).fit(frame)
    before, curve = original.transform(frame), list(original.loss_curve_)
    for change in (lambda vae: vae.set_params(latent_dim=1).fit(frame.iloc[:20]),
                   lambda vae: vae.partial_fit(frame),
                   lambda vae: vae.set_params(warm_start=True, max_iter=3).fit(frame)):
        change(copier(original))
        np.testing.assert_array_equal(original.transform(frame), before)
        assert original.loss_curve_ == curve and original.warm_start is False


def test_clone_of_a_fitted_composite_is_unfitted_and_refits_bit_for_bit():
    frame = _table()
    pipeline = _pipeline().fit(frame, _labels(frame))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cloned = clone(pipeline)
    assert not hasattr(cloned[1], "n_iter_")
    cloned.fit(frame, _labels(frame))
    np.testing.assert_array_equal(cloned.predict_proba(frame), pipeline.predict_proba(frame))


# --- metadata requests through pickle, copy, joblib workers and skvae.save ---------------------

def _requests(estimator):
    return estimator.get_metadata_routing()._serialize()


@pytest.mark.parametrize("request_value", [True, False, "importance_samples"])
@pytest.mark.parametrize("fitted", [False, True])
def test_a_score_request_survives_every_copy_and_save(request_value, fitted, tmp_path):
    """``set_score_request`` before or after fit is kept by pickle, deepcopy, joblib, clone and skvae.save."""
    values = np.random.default_rng(0).normal(size=(30, 3))
    with sklearn_config(enable_metadata_routing=True):
        vae = VAETransformer(**TINY).set_score_request(n_importance=request_value)
        if fitted:
            vae.fit(values)
        expected = _requests(vae)
        assert expected == {"score": {"n_importance": request_value if request_value != "n_importance" else True}}
        buffer = io.BytesIO()
        joblib.dump(vae, buffer)
        buffer.seek(0)
        assert _requests(clone(vae)) == expected
        copies = [pickle.loads(pickle.dumps(vae)), copy.deepcopy(vae), joblib.load(buffer)]
        if fitted:
            skvae.save(vae, tmp_path / "vae.skvae")
            copies.append(skvae.load(tmp_path / "vae.skvae"))
        for restored in copies:
            assert _requests(restored) == expected
            if fitted:
                assert restored.score(values, n_importance=2) == vae.score(values, n_importance=2)


def test_a_search_in_worker_processes_routes_n_importance_to_score():
    """Each worker unpickles the requesting estimator; the routed value reaches ``score`` (not n_importance=1's)."""
    values = np.random.default_rng(0).normal(size=(40, 3))
    with sklearn_config(enable_metadata_routing=True):
        vae = VAETransformer(**TINY).set_score_request(n_importance=True)
        grid = {"latent_dim": [1, 2]}
        routed = GridSearchCV(vae, grid, cv=2, n_jobs=2, error_score="raise").fit(values, n_importance=8)
        alone = GridSearchCV(vae, grid, cv=2, n_jobs=1, error_score="raise").fit(values, n_importance=8)
        plain = GridSearchCV(vae, grid, cv=2, n_jobs=1, error_score="raise").fit(values)
    np.testing.assert_array_equal(routed.cv_results_["mean_test_score"], alone.cv_results_["mean_test_score"])
    assert not np.array_equal(routed.cv_results_["mean_test_score"], plain.cv_results_["mean_test_score"])


@pytest.mark.parametrize("bad_request", [{"nope": {}}, {"score": {"n_importance": 3}}, {"score": ["n_importance"]},
                                         "score", {"score": {"n importance": True}}])
def test_a_state_with_a_broken_metadata_request_is_refused_by_name(bad_request):
    state = VAETransformer(**TINY).fit(np.random.default_rng(0).normal(size=(20, 2))).__getstate__()
    state["_metadata_request"] = bad_request
    vae = VAETransformer.__new__(VAETransformer)
    with pytest.raises(ValueError, match=r"_metadata_request"):
        vae.__setstate__(state)
    assert vars(vae) == {}


# --- scikit-learn's assume_finite, set globally or in a context ---------------------------------

@contextlib.contextmanager
def _assume_finite_globally():
    """``sklearn.set_config(assume_finite=True)`` as a user sets it, put back afterwards."""
    sklearn.set_config(assume_finite=True)
    try:
        yield
    finally:
        sklearn.set_config(assume_finite=False)


@pytest.mark.parametrize("setting", [_assume_finite_globally, lambda: sklearn_config(assume_finite=True)])
def test_under_assume_finite_an_array_nan_under_another_placeholder_is_refused(setting):
    """As a DataFrame's is, whatever the setting: transform would return it unfilled (allow_nan is False)."""
    values = np.random.default_rng(0).normal(size=(20, 3))
    values[::4, 0] = -1.0
    with_nan = values.copy()
    with_nan[1, 2] = np.nan
    with setting():
        assert get_tags(VAEImputer(missing_values=-1)).input_tags.allow_nan is False
        with pytest.raises(ValueError, match=r"Input X contains NaN \(in column 2, row 1\) but missing_values=-1"):
            VAEImputer(missing_values=-1, **TINY).fit(with_nan)
        imputer = VAEImputer(missing_values=-1, **TINY).fit(values)
        before = imputer.transform(values)
        with pytest.raises(ValueError, match=r"Input X contains NaN \(in column 2, row 1\) but missing_values=-1"):
            imputer.transform(with_nan)
        np.testing.assert_array_equal(imputer.transform(values), before)
        assert not np.isnan(before).any()


@pytest.mark.parametrize("setting", [_assume_finite_globally, lambda: sklearn_config(assume_finite=True)])
@pytest.mark.parametrize("code", [np.nan, np.inf])
def test_under_assume_finite_inverse_transform_refuses_a_non_finite_code_in_scikit_learns_words(setting, code):
    """Not the networks' overflow "far outside the range of the training data": the code is not a number."""
    vae = VAETransformer(**TINY).fit(np.random.default_rng(0).normal(size=(20, 3)))
    word = "NaN" if np.isnan(code) else "infinity"
    with setting():
        with pytest.raises(ValueError, match=rf"Input X contains {word}"):
            vae.inverse_transform(np.array([[code, 0.0]]))
        assert vae.inverse_transform(np.zeros((1, 2))).shape == (1, 3)
