"""Hostile use, thirty-second sweep: scikit-learn workflows around skvae's estimators on real tables.

Swept and found sound (tiny fits: ``max_iter=3``, ``hidden_layer_sizes=(8,)``,
``latent_dim=2``), each beside the same workflow with PCA, SimpleImputer or
IsolationForest: a Pipeline of a VAEImputer before HistGradientBoosting
(``cross_val_score`` on scikit-learn's diabetes with 10% holes; on
palmerpenguins with ``categorical_features="from_dtype"`` under pandas
output, the category dtypes kept) and before a ColumnTransformer of a
OneHotEncoder (``make_column_selector(dtype_include=object)``: the imputer
keeps pandas 3's ``str`` columns, so the selector still finds them) and a
StandardScaler then LogisticRegression, ``get_feature_names_out`` through
it; ``permutation_importance`` of that Pipeline; ``BaggingRegressor`` with
``max_features=0.5`` over an imputer-then-Ridge Pipeline; GridSearchCV over
``latent_dim``, ``beta`` and ``hidden_layer_sizes`` with ``scoring=None``
(the VAE's ``score``) and a Pipeline's downstream score, ``n_jobs`` 1 and 2,
the search's ``transform``, ``inverse_transform``, ``score_samples`` and
``score``; ``cross_validate(return_estimator=True)`` with ``n_jobs=2`` (the
returned estimators score in the parent); ``joblib.dump``/``load`` of a
fitted Pipeline (equal probabilities) and ``skvae.save`` of its imputer step
(equal fills); ``clone`` of a fitted Pipeline refitted; ColumnTransformer
with ``remainder="passthrough"`` and FeatureUnion beside PCA under pandas
output (names equal ``get_feature_names_out``); ``inverse_transform`` of a
ColumnTransformer's prefixed codes, of renamed codes and of a subset of rows,
and ``Pipeline(StandardScaler(), VAE).inverse_transform``, as PCA's; metadata
routing on (a search's default score with ``n_importance`` requested, n_jobs 1
and 2; ``sample_weight`` routed to a LogisticRegression past the imputer,
refused for its unrequested ``score`` exactly as past SimpleImputer); the
detector in a Pipeline (``fit_predict``, ``score_samples``) and through
``cross_val_predict`` (``predict``, ``decision_function``) as IsolationForest;
the global ``transform_output="pandas"`` (``multiple_imputations`` gives
DataFrames, as ``transform`` does; ``sample`` is left as sweep 21 recorded);
``multiple_imputations`` with a NumPy integer count, on complete rows, on one
row, with ``add_indicator`` (the indicator columns as ``transform`` gives
them), the draws differing between tables and the index kept; a loop of
``VAEImputer(sample_posterior=True, random_state=i)`` as scikit-learn's
IterativeImputer example writes it; under pandas 2.3 (``/work/peers``)
statsmodels' ``fair`` with holes: ``multiple_imputations`` analysed by
``smf.ols`` per table, and GridSearchCV with ``n_jobs=2`` over an
imputer-then-LogisticRegression Pipeline (``latent_dim``,
``sample_posterior``); a ``pivot_table`` over a category column (a
CategoricalIndex of columns: names recorded as PCA records them, the
imputer's output keeping the index); ``estimator_html_repr`` fitted and not
("Fitted"/"Not fitted" as PCA's); torch's thread counts, default dtype,
grad mode and RNG and NumPy's global RNG after a search refused mid-way
(``error_score="raise"``) and after ``cross_val_score``; the detector's
``contamination="auto"`` and ``decision_function`` sign as IsolationForest's.
Not defects: a search over 120 rows of diabetes scores NaN in every fold,
since column ``s4`` then has ten levels and is typed categorical (the
recorded typing rule) and each fold holds a level its training rows lack,
refused by name with ``handle_unknown='ignore'`` advised (OneHotEncoder's
default refuses alike; on all 442 rows ``s4`` is a number). A search on
penguins with an unshuffled ``cv=3`` meets a species its training folds lack
(the table is sorted by species), refused by name as OneHotEncoder would.

Each family below failed once (see the commit that added its tests):

- **Sparse output of an earlier step** (``skvae._input._refuse_sparse_matrix``):
  ``make_pipeline(ColumnTransformer(..., sparse_threshold=0.9), VAETransformer())``
  on penguins (a OneHotEncoder beside a StandardScaler: csr output), or
  ``make_pipeline(OneHotEncoder(), ...)``, was refused with scikit-learn's
  advice alone, "Use '.toarray()' to convert to a dense numpy array", which a
  caller cannot apply between a Pipeline's steps (PCA and IsolationForest
  take the matrix). Still refused, as sweep 15 decided, on every face; the
  refusal now names the settings that keep the steps' output dense
  (``sparse_threshold=0``, ``sparse_output=False``) or handing skvae the
  table's own columns. The test takes that advice.
- **Labels from everyday reshaping** (``skvae._column_types._json_label``):
  ``groupby(...).agg(["mean", "max"])`` and ``pivot_table`` with several
  values or functions make a MultiIndex of tuple labels, a pivot over dates
  Timestamp labels; PCA and SimpleImputer take such a table, skvae refused it
  ("Column labels must be strings or integers; got ('mean', 'v', 'a')
  (tuple).") without saying what to do. Still refused, as sweep 13 decided
  (the labels are kept in the model's file and named by likelihood dicts and
  ``given``); the refusal now gives the relabelling (levels joined by ``_``
  for a MultiIndex, ``X.columns.astype(str)`` otherwise), which the tests
  apply and fit, one distinct label per column.
- **A likelihood dict behind a ColumnTransformer** (``skvae._column_types._pipeline_names_hint``):
  ``make_pipeline(make_column_transformer((SimpleImputer(), selector)),
  VAETransformer(likelihood={"body_mass_g": "poisson"}))`` on a DataFrame was
  refused with "X's columns are positions 0..1", to a caller who had passed
  named columns (the ColumnTransformer's default container is an array);
  under pandas output, with the prefixed names listed and no word on why
  (``simpleimputer__body_mass_g``). The refusal now says that X is an array
  and names ``set_output(transform="pandas")`` on the Pipeline, or gives
  the prefixed name to write and ``verbose_feature_names_out=False``; each
  face, each way out taken by the tests. (The command line checks its
  ``--likelihood`` columns itself, before this refusal.) Likewise
  ``pipeline[-1].sample(given={"body_mass_g": ...})`` of a VAE fitted behind
  the ColumnTransformer is told the prefixed name (``skvae._conditional._check_known``).

Found and LEFT:

- ``estimator_html_repr`` links PCA's box to its scikit-learn page; skvae's
  boxes have no link, since skvae sets no ``_doc_link_template`` (its pages
  are built locally, with no address to point to). A feature, not a defect.
- ``cross_val_predict(..., method="score_samples")`` is refused by
  scikit-learn's parameter validation for the detector exactly as for
  IsolationForest: scikit-learn's list of methods, not skvae's.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import skvae
from skvae import VAEImputer, VAEOutlierDetector, VAETransformer

TINY = dict(max_iter=3, hidden_layer_sizes=(8,), latent_dim=2, random_state=0)
FACES = [VAETransformer, VAEImputer, VAEOutlierDetector]


def _penguin_like(n=60, seed=0):
    """A small table shaped like palmerpenguins: text categories beside measurements."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "island": rng.choice(["Biscoe", "Dream", "Torgersen"], n),
        "sex": rng.choice(["female", "male"], n),
        "bill_length_mm": np.round(rng.normal(44, 5, n), 1),
        "body_mass_g": np.round(rng.normal(4200, 800, n), -1),
    })


def _sparse_before(**encoder):
    return make_column_transformer(
        (OneHotEncoder(**encoder), make_column_selector(dtype_include=object)),
        (StandardScaler(), make_column_selector(dtype_include="number")),
        sparse_threshold=0.9,
    )


def _call(estimator, X):
    """The main method after fit: the detector's (or its Pipeline's) predict, else transform."""
    if not hasattr(estimator, "transform"):
        return estimator.predict(X)
    return estimator.transform(X)


# ------------------------------------------------------------------ sparse output of an earlier step


@pytest.mark.parametrize("face", FACES)
def test_sparse_output_of_a_pipeline_step_is_refused_with_advice_the_pipeline_can_take(face):
    table = _penguin_like().astype({"island": object, "sex": object})
    assert hasattr(_sparse_before().fit_transform(table), "toarray")  # the step's output is a SciPy matrix
    with pytest.raises(TypeError) as refused:
        make_pipeline(_sparse_before(), face(**TINY)).fit(table)
    message = str(refused.value)
    # scikit-learn's words stay first (its checks look for "sparse"), then the Pipeline's way out.
    assert message.startswith("Sparse data was passed for X, but dense data is required.")
    assert "sparse_threshold=0" in message and "sparse_output=False" in message
    assert isinstance(refused.value, skvae._refusals.Refusal) and refused.value.has("advice")
    # Taking the advice works: the ColumnTransformer's output dense.
    pipeline = make_pipeline(_sparse_before().set_params(sparse_threshold=0), face(**TINY)).fit(table)
    assert np.all(np.isfinite(np.asarray(_call(pipeline, table), dtype=float)))


@pytest.mark.parametrize("face", FACES)
def test_a_fitted_face_refuses_a_sparse_matrix_with_the_same_advice_and_stays_as_it_was(face):
    sparse = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 3))
    fitted = face(**TINY).fit(X)
    before = _call(fitted, X)
    for method in ("fit", "partial_fit", "score_samples", "transform", "predict"):
        if not hasattr(fitted, method):
            continue
        with pytest.raises(TypeError, match=r"Sparse data was passed.*sparse_output=False"):
            getattr(fitted, method)(sparse.csr_matrix(X))
    np.testing.assert_array_equal(_call(fitted, X), before)


def test_a_one_hot_encoder_straight_before_a_vae_takes_the_advice():
    table = _penguin_like()[["island", "sex"]].astype(object)
    with pytest.raises(TypeError, match=r"sparse_output=False"):
        make_pipeline(OneHotEncoder(), VAETransformer(**TINY)).fit(table)
    codes = make_pipeline(OneHotEncoder(sparse_output=False), VAETransformer(**TINY)).fit_transform(table)
    assert codes.shape == (len(table), 2)


# ------------------------------------------------------------------ labels from everyday reshaping


def _long_table(seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"user": rng.integers(0, 30, 400), "item": rng.choice(list("abc"), 400),
                         "day": rng.choice(pd.date_range("2024-01-01", periods=3), 400),
                         "v": rng.random(400)})


def _reshaped_tables():
    """Wide tables as pandas' reshaping makes them, each with labels skvae cannot keep."""
    long = _long_table()
    return {
        "groupby_agg": long.groupby("user")[["v"]].agg(["mean", "max"]),
        "pivot_two_values": long.pivot_table(index="user", columns="item", values="v", aggfunc=["mean", "max"]),
        "pivot_over_dates": long.pivot_table(index="user", columns="day", values="v", aggfunc="mean"),
    }


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("kind", ["groupby_agg", "pivot_two_values", "pivot_over_dates"])
def test_reshaped_labels_are_refused_with_the_relabelling_that_fits(face, kind):
    """A MultiIndex or Timestamp column labels are still refused (sweep 13's decision: labels are kept
    in the model's file and named by likelihood dicts and ``given``); the refusal now says how to relabel,
    and the relabelling it gives fits, keeping one distinct string per column."""
    table = _reshaped_tables()[kind]
    original = table.copy()
    with pytest.raises(ValueError, match=r"Column labels must be strings or integers; got ") as refused:
        face(**TINY).fit(table)
    assert refused.value.has("advice")
    assert table.equals(original) and table.columns.equals(original.columns)  # the caller's table untouched
    relabelled = table.copy()
    if isinstance(table.columns, pd.MultiIndex):
        assert "X.columns = ['_'.join(map(str, label)) for label in X.columns]" in str(refused.value)
        relabelled.columns = ['_'.join(map(str, label)) for label in relabelled.columns]
    else:
        assert "X.columns = X.columns.astype(str)" in str(refused.value)
        relabelled.columns = relabelled.columns.astype(str)
    model = face(**TINY).fit(relabelled)
    assert list(model.feature_names_in_) == list(relabelled.columns)
    assert len(set(model.feature_names_in_)) == table.shape[1]


def test_a_refused_relabelling_leaves_a_fitted_model_as_it_was():
    table = _reshaped_tables()["pivot_two_values"]
    flat = table.set_axis(['_'.join(map(str, label)) for label in table.columns], axis=1)
    model = VAETransformer(**TINY).fit(flat)
    codes = model.transform(flat)
    with pytest.raises(ValueError, match="MultiIndex of columns"):
        model.fit(table)
    np.testing.assert_array_equal(model.transform(flat), codes)
    assert list(model.feature_names_in_) == list(flat.columns)


# ------------------------------------------------------------------ a likelihood dict behind a ColumnTransformer


def _measurements(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"island": rng.choice(["Biscoe", "Dream"], n),
                         "body_mass_g": rng.integers(2700, 6300, n).astype(float),
                         "flipper_length_mm": np.round(rng.normal(200, 14, n), 1)})


def _kinds(estimator):
    """The fitted VAE's column kinds (the imputer and the detector keep theirs in ``vae_``)."""
    return getattr(estimator, "vae_", estimator).column_kinds_


def _numbers_through(container=None, **ct_params):
    from sklearn.impute import SimpleImputer

    step = make_column_transformer((SimpleImputer(strategy="median"), make_column_selector(dtype_include="number")),
                                   **ct_params)
    return step.set_output(transform=container) if container else step


@pytest.mark.parametrize("face", FACES)
def test_a_likelihood_dict_after_a_column_transformer_is_told_about_the_array_it_was_handed(face):
    """The default container hands the next step an array: the refusal says so and names set_output."""
    table = _measurements()
    with pytest.raises(ValueError, match=r"positions 0\.\.1 \(n_features=2\)\. X is an array") as refused:
        make_pipeline(_numbers_through(), face(**TINY, likelihood={"body_mass_g": "poisson"})).fit(table)
    assert 'set_output(transform="pandas") on the Pipeline' in str(refused.value)
    pipeline = make_pipeline(_numbers_through(), face(**TINY, likelihood={"simpleimputer__body_mass_g": "poisson"}))
    pipeline.set_output(transform="pandas").fit(table)
    assert _kinds(pipeline[-1])["simpleimputer__body_mass_g"] == "poisson"


@pytest.mark.parametrize("face", FACES)
def test_a_likelihood_dict_after_a_column_transformer_is_told_the_prefixed_name(face):
    table = _measurements()
    with pytest.raises(ValueError, match=r"write 'body_mass_g' as 'simpleimputer__body_mass_g', or set "
                                         r"verbose_feature_names_out=False"):
        make_pipeline(_numbers_through("pandas"), face(**TINY, likelihood={"body_mass_g": "poisson"})).fit(table)
    # Both ways out fit, the column Poisson.
    prefixed = make_pipeline(_numbers_through("pandas"),
                             face(**TINY, likelihood={"simpleimputer__body_mass_g": "poisson"})).fit(table)
    assert _kinds(prefixed[-1])["simpleimputer__body_mass_g"] == "poisson"
    plain = make_pipeline(_numbers_through("pandas", verbose_feature_names_out=False),
                          face(**TINY, likelihood={"body_mass_g": "poisson"})).fit(table)
    assert _kinds(plain[-1])["body_mass_g"] == "poisson"


def test_a_name_no_prefix_explains_gets_no_pipeline_hint():
    table = _measurements()[["body_mass_g", "flipper_length_mm"]]
    with pytest.raises(ValueError) as refused:
        VAETransformer(**TINY, likelihood={"mass": "poisson"}).fit(table)
    assert "ColumnTransformer" not in str(refused.value) and "X is an array" not in str(refused.value)
    with pytest.raises(ValueError) as refused:
        VAETransformer(**TINY, likelihood={5: "poisson"}).fit(table.to_numpy())
    assert "X is an array" not in str(refused.value)  # a position, not a name: the array has it or not


def test_a_condition_on_a_vae_fitted_behind_a_column_transformer_is_told_the_prefixed_name():
    table = _measurements()
    pipeline = make_pipeline(_numbers_through("pandas"), VAETransformer(**TINY)).fit(table)
    vae = pipeline[-1]
    with pytest.raises(ValueError, match=r"write 'body_mass_g' as 'simpleimputer__body_mass_g'"):
        vae.sample(3, given={"body_mass_g": 4000.0}, random_state=0)
    rows = vae.sample(3, given={"simpleimputer__body_mass_g": 4000.0}, random_state=0)
    assert (rows["simpleimputer__body_mass_g"] == 4000.0).all()
