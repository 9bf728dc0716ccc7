"""Hostile use, twenty-sixth sweep: scikit-learn composition and output containers.

Swept and found sound: ``get_feature_names_out``
before ``fit`` (NotFittedError, every face), after it with ``input_features``
that mismatch by name, count or type (sweep 5's refusals), and through
Pipelines after a StandardScaler fitted on an array or a DataFrame (names
passed on, the imputer's indicator names following them);
``feature_names_in_`` and the feature-name warnings by scikit-learn's rules
(``str`` labels recorded; integer and NumPy integer labels not recorded and
matched by label by skvae; ``str`` mixed with ``int`` refused by
scikit-learn's TypeError; duplicated, float, bytes and missing labels
refused by name; a DataFrame model given an array and the other way round
warn as StandardScaler does); ColumnTransformer with columns given by a
boolean mask, a callable, ``make_column_selector``, an empty list (the
transformer skipped; only empty lists give an (n, 0) frame), ``remainder``
an imputer or a VAE with no column left, ``n_jobs=2``, a duplicated
MultiIndex row index kept under pandas output, names equal to the columns;
the default container with an imputer's DataFrame beside a OneHotEncoder's
array (an object array) and with ``sparse_threshold`` (csr from numeric
fills; a category column refused by scipy, as any text); FeatureUnion with
``n_jobs=2`` of an imputer and an imputer-then-VAE Pipeline under pandas
output (dtypes and index kept); ``set_output`` "default" after "pandas",
``None`` leaving it, the global ``transform_output="pandas"`` for each face
(an array to the imputer: ``x0``.., int64 kept); pickle, ``clone`` and
``skvae.save`` of each ``set_output`` value, fitted and not;
TransformedTargetRegressor with a ``VAETransformer(latent_dim=1)`` as the
target's transformer, under both containers and in ``cross_val_score``;
RandomizedSearchCV over scipy's ``randint``, ``uniform`` and
``loguniform`` (NumPy scalars as parameters), its best estimator through
``skvae.save`` bit for bit; GridSearchCV with ``n_jobs=2`` under the global
pandas container over a Pipeline of an imputer, a ColumnTransformer of a
VAE and a regressor (the index kept by the best pipeline's transform), over
``missing_values`` NaN, ``pd.NA`` and None, over likelihood dicts and layer
lists; metadata routing on: each face's ``get_metadata_routing``, ``fit``
taking no metadata (TypeError, as sweep 12 decided), unknown metadata to a
Pipeline, a search or ``cross_validate`` refused by scikit-learn naming it,
an unrequested ``n_importance`` refused naming ``set_score_request``,
``n_importance`` routed by name, by alias and to ``n_jobs=2`` workers, a
routed ``n_importance=0`` refused by name; ``cross_val_score`` of the
detector with ``roc_auc``, ``average_precision``, ``accuracy`` and ``f1``
(as IsolationForest's); no ``scoring`` for the imputer or the detector
(scikit-learn's "should have a 'score' method"); ``repr`` and
``_repr_html_`` with ``missing_values`` pd.NA, None, float32 NaN, "?" and
-1, a RandomState, a likelihood dict of mixed keys, an ndarray of layers, a
NumPy ``beta``, fitted too; ``get_params(deep=True)`` of a Pipeline of the
detector; ``clone`` keeping ``pd.NA``; ``skvae.save`` of a ColumnTransformer
holding an unfitted skvae transformer for an empty column list (only the
fitted one is named); GridSearchCV's ``cv_results_`` bit for bit alike with
``n_jobs`` 1 and 2 (loky workers); a subclass of a face through pickle,
``clone``, ``GridSearchCV(n_jobs=2)``, html and ``set_output`` (``skvae.save``
refuses it by name, as recorded). The fixes below were also run under
pandas 2.3 (``/work/peers``), where a shallow copy shares memory without
copy-on-write: the caller's labels kept there too.

Each family below failed once (see the commit that added its tests):

- **set_output relabelled the caller's own DataFrame** (``VAEImputer._output``):
  with ``copy=False`` a DataFrame is imputed in place and returned itself,
  and scikit-learn's ``set_output`` wrapper (``set_output(transform="pandas")``
  or the global ``transform_output="pandas"``) relabels the DataFrame it
  is handed in place (its pandas adapter assigns ``.columns``). So the
  caller's X, labelled 0, 1, came back labelled ``x0``, ``x1`` (and the
  next ``transform`` of it was refused: "X has the columns ['x0', 'x1'],
  but the model was fitted on [0, 1]"), and a ``string``-dtype or named
  column Index lost its dtype and name. The caller's cells are still imputed
  in place; what is returned under a container is a shallow copy sharing
  them, which scikit-learn relabels.
- **Advice a caller of a composite could not take** (``skvae._input._refuse_series``,
  ``skvae._validation._TEXT_IN_DATA``): ``ColumnTransformer([("vae",
  VAETransformer(), "age")])`` hands its transformer the Series ``X["age"]``,
  refused with "pass a DataFrame (X.to_frame() ...)" to a caller who had
  passed one and cannot reach inside; it now adds that if a
  ColumnTransformer handed it on, its columns were one label: write
  ``['age']`` (said as a condition: a row, ``X.iloc[0]``, is a Series named
  by its label too). Likewise a
  Pipeline whose earlier step (``SimpleImputer(strategy="most_frequent")``)
  hands skvae an object array of text was told "Pass the table as a pandas
  DataFrame"; the advice now names ``set_output(transform="pandas")`` on
  the Pipeline. Both tests take the advice.

- **A container that could not be made after the call had worked**
  (``VAEImputer._output``, ``VAEImputer.fit_transform``,
  ``VAETransformer.fit_transform``): scikit-learn's ``set_output`` makes the
  output's container around skvae's method, after it returned, so where the
  container cannot be made (``transform_output="polars"`` set globally
  without polars installed; a category column under polars without pyarrow,
  sweep 21's left item) the call was refused, yet
  ``VAEImputer(sample_posterior=True).transform`` had moved its generator
  of successive draws (the next fills differed from a run without the
  refused call) and ``fit_transform`` of the imputer and the transformer
  had fitted (or refitted) the estimator. The imputer now makes the
  container inside its call (scikit-learn's wrapper then finds it made and
  only relabels it), and ``fit_transform`` is one transaction on both faces.

Found and LEFT:

- **Pipeline.score under metadata routing** (scikit-learn's): with
  ``enable_metadata_routing=True``, ``Pipeline.score`` hands ``sample_weight``
  (None) to the router whatever the caller passed, and refuses it ("got
  unexpected argument(s) {'sample_weight'}, which are not routed to any
  object") wherever the final step's ``score`` takes no ``sample_weight``:
  so ``cross_val_score`` or a search's default scoring of a Pipeline ending
  in a VAETransformer fails under routing, exactly as one ending in PCA or
  GaussianMixture does (scikit-learn 1.9; see scikit-learn issue #30937 on
  the same routing of ``Pipeline.score``). Routing off, or a ``scoring``
  callable, works; giving ``score`` a ``sample_weight`` would change its
  signature and routing requests for a scikit-learn bug.
- **Integer labels with add_indicator under the default container**: the
  kept columns keep their integer labels (the recorded rule of sweep 13), so
  the indicator columns, ``missingindicator_0``, make labels of int and str
  that the next scikit-learn or skvae step refuses with scikit-learn's
  TypeError (which advises ``X.columns.astype(str)``). No label that is not
  a str can say "indicator", and ``set_output(transform="pandas")`` relabels
  the whole output ``x0``, .., ``missingindicator_x0`` (as
  ``get_feature_names_out`` names it). Left with the recorded rule.
- A ColumnTransformer handing the imputer only columns missing in every
  row fails ``fit`` (refused by name: nothing to learn from), where
  SimpleImputer gives (n, 0): the recorded decision of sweep 8.
"""

import numpy as np
import pandas as pd
import pytest
import sklearn

from skvae import VAEImputer, VAEOutlierDetector, VAETransformer

TINY = dict(hidden_layer_sizes=(8,), latent_dim=2, max_iter=2, random_state=0)


def _holed(columns):
    X = pd.DataFrame({"p": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0, 7.0, 8.0] * 2,
                      "q": [1.0, 3.0, 2.0, np.nan, 4.0, 6.0, 8.0, 7.0] * 2},
                     index=pd.Index([f"r{i}" for i in range(16)], name="row"))
    X.columns = columns
    return X


# --- set_output and an imputer working in place -----------------------------------------------

@pytest.mark.parametrize("columns", [
    pd.Index([0, 1]),
    pd.Index(["a", "b"], dtype="string"),
    pd.Index(["a", "b"], name="feature"),
], ids=["integer labels", "string dtype", "named index"])
@pytest.mark.parametrize("how", ["set_output transform", "global fit_transform"])
@pytest.mark.parametrize("sample_posterior", [False, True])
def test_copy_false_under_a_pandas_container_keeps_the_callers_labels(columns, how, sample_posterior):
    X = _holed(columns)
    original_columns = X.columns.copy()
    imputer = VAEImputer(copy=False, sample_posterior=sample_posterior, **TINY)
    if how == "set_output transform":
        imputer.fit(X.copy()).set_output(transform="pandas")
        out = imputer.transform(X)
    else:
        with sklearn.config_context(transform_output="pandas"):
            out = imputer.fit_transform(X)
    # The caller's labels, their Index's dtype and name, are as they were...
    pd.testing.assert_index_equal(X.columns, original_columns, exact=True)
    assert X.columns.name == original_columns.name
    # ...its cells are imputed in place, as copy=False documents...
    assert not X.isna().any().any()
    # ...and what comes back is labelled as scikit-learn labels it, holding the same cells.
    assert out.columns.tolist() == imputer.get_feature_names_out().tolist()
    np.testing.assert_array_equal(out.to_numpy(), X.to_numpy())
    pd.testing.assert_index_equal(out.index, X.index)
    # The symptom: the caller's X, relabelled, was refused by the next transform.
    imputer.transform(X)


def test_copy_false_without_a_container_still_returns_x_itself():
    """Decided: the shallow copy is taken only where scikit-learn will relabel the output.

    With the default container the documented identity stays (X is what is
    returned, imputed in place): callers may rely on it.
    """
    X = _holed(pd.Index([0, 1]))
    imputer = VAEImputer(copy=False, **TINY).fit(X.copy())
    assert imputer.transform(X) is X
    assert not X.isna().any().any()
    assert X.columns.tolist() == [0, 1]


# --- a ColumnTransformer's single label ---------------------------------------------------------

@pytest.mark.parametrize("face", [VAETransformer, VAEImputer])
@pytest.mark.parametrize("labels", [["age", "other"], [0, 1]], ids=["text labels", "integer labels"])
def test_a_single_label_in_a_column_transformer_is_refused_naming_the_list(face, labels):
    """The Series a ColumnTransformer hands on for one label is refused naming the list to write.

    The refusal told the caller to pass ``X.to_frame()``, which a caller of
    a ColumnTransformer cannot do: it passed a DataFrame, and the
    ColumnTransformer took the column out of it as a Series. Decided: still
    refused (scikit-learn's own transformers refuse a 1-D X too; a Series
    may be a row as well as a column), naming the fix for that case.
    """
    from sklearn.compose import ColumnTransformer

    label = labels[0]
    X = pd.DataFrame(dict(zip(labels, ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2.0, 1.0, 4.0, 3.0, 6.0, 5.0]))))
    composite = ColumnTransformer([("vae", face(**TINY), label)])
    with pytest.raises(ValueError, match=r"X is a pandas Series, .* X.to_frame\(\).T for one row; if a "
                                         rf"ColumnTransformer handed it on, its columns were given as one label, "
                                         rf"{label!r}: write \[{label!r}\]\)\.$"):
        composite.fit(X)
    # The advice, taken, works.
    ColumnTransformer([("vae", face(**TINY), [label])]).fit(X)
    # The detector is no transformer, but given that Series it says the same.
    with pytest.raises(ValueError, match=rf"write \[{label!r}\]\)\.$"):
        VAEOutlierDetector(**TINY).fit(X[label])


def test_an_unlabelled_series_is_refused_without_the_column_transformer_advice():
    with pytest.raises(ValueError, match=r"X.to_frame\(\).T for one row\)\.$"):
        VAETransformer(**TINY).fit(pd.Series([1.0, 2.0, 3.0]))


# --- text in the array a step before hands on ---------------------------------------------------

def test_text_from_a_step_before_names_the_pipelines_set_output():
    """A DataFrame given to a Pipeline reaches skvae as an object array when a step before makes one.

    The refusal said "Pass the table as a pandas DataFrame" to a caller who
    had; it now names ``set_output(transform="pandas")`` on the Pipeline,
    and the test takes that advice.
    """
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    X = pd.DataFrame({"a": [1.0, np.nan, 3.0, 4.0, 5.0, 6.0], "c": ["x", "y", None, "x", "y", "x"]})
    for face in (VAETransformer, VAEImputer):
        pipeline = make_pipeline(SimpleImputer(strategy="most_frequent"), face(**TINY))
        with pytest.raises(ValueError, match=r"^X holds text \('x' in column 1, row 0\): an array must hold numbers\. "
                                             r"Pass the table as a pandas DataFrame, .* \(in a Pipeline, "
                                             r'set_output\(transform="pandas"\) on it makes the steps before hand on '
                                             r"a DataFrame\)\.$"):
            pipeline.fit(X)
        out = pipeline.set_output(transform="pandas").fit_transform(X)
        assert out.shape[0] == 6 and not out.isna().any().any()


# --- a container that cannot be made -----------------------------------------------------------

class _ContainerFailure(MemoryError):
    pass


@pytest.fixture
def failing_pandas_container(monkeypatch):
    """scikit-learn's pandas container fails to be made, as polars' does without polars (or pyarrow)."""
    from sklearn.utils._set_output import PandasAdapter

    def create_container(self, X_output, X_original, columns, inplace=True):
        raise _ContainerFailure("the container could not be made")

    monkeypatch.setattr(PandasAdapter, "create_container", create_container)


def _imputer_twins(**params):
    X = _holed(pd.Index(["a", "b"]))
    return X, [VAEImputer(sample_posterior=True, **params, **TINY).fit(X) for _ in range(2)]


def test_a_refused_container_leaves_the_draws_where_they_were(failing_pandas_container):
    X, (refused, untouched) = _imputer_twins()
    with sklearn.config_context(transform_output="pandas"), pytest.raises(_ContainerFailure):
        refused.transform(X)
    with sklearn.config_context(transform_output="pandas"), pytest.raises(_ContainerFailure):
        refused.multiple_imputations(X, 2)
    # The next draws (in the default container, which is not made) are those of the twin that
    # never made the refused calls.
    pd.testing.assert_frame_equal(refused.transform(X), untouched.transform(X))
    for left, right in zip(refused.multiple_imputations(X, 2), untouched.multiple_imputations(X, 2)):
        pd.testing.assert_frame_equal(left, right)


@pytest.mark.parametrize("face, params", [(VAEImputer, {}), (VAEImputer, {"sample_posterior": True}),
                                          (VAETransformer, {})],
                         ids=["imputer", "imputer sample_posterior", "transformer"])
def test_a_refused_container_leaves_fit_transform_unfitted_or_as_fitted(face, params, failing_pandas_container):
    X = _holed(pd.Index(["a", "b"]))
    fresh = face(**params, **TINY)
    with sklearn.config_context(transform_output="pandas"), pytest.raises(_ContainerFailure):
        fresh.fit_transform(X)
    assert not fresh.__sklearn_is_fitted__()
    # A fitted one keeps its fit: its results are bit for bit those of a twin never refitted.
    fitted, twin = face(**params, **TINY).fit(X.iloc[:10]), face(**params, **TINY).fit(X.iloc[:10])
    with sklearn.config_context(transform_output="pandas"), pytest.raises(_ContainerFailure):
        fitted.fit_transform(X)
    np.testing.assert_array_equal(np.asarray(fitted.transform(X)), np.asarray(twin.transform(X)))


def test_polars_output_without_polars_is_refused_without_moving_the_draws():
    """The case met: ``transform_output="polars"`` set globally where polars is not installed."""
    try:
        import polars  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("polars is installed: its container can be made")
    X, (refused, untouched) = _imputer_twins()
    with sklearn.config_context(transform_output="polars"), pytest.raises(ImportError, match="requires polars"):
        refused.transform(X)
    pd.testing.assert_frame_equal(refused.transform(X), untouched.transform(X))
    fresh = VAETransformer(**TINY)
    with sklearn.config_context(transform_output="polars"), pytest.raises(ImportError, match="requires polars"):
        fresh.fit_transform(X)
    assert not fresh.__sklearn_is_fitted__()


# --- pins of what was found sound ---------------------------------------------------------------

def test_column_transformer_with_an_empty_list_and_a_duplicated_multiindex_keeps_rows_and_names():
    """An empty column list skips its skvae transformer; the other's rows keep a duplicated MultiIndex."""
    from sklearn.compose import ColumnTransformer

    index = pd.MultiIndex.from_tuples([(i % 2, i % 3) for i in range(12)])
    X = pd.DataFrame({"a": np.linspace(0.0, 1.0, 12), "b": np.linspace(2.0, 1.0, 12) ** 2}, index=index)
    X.iloc[[1, 4], 0] = np.nan
    composite = ColumnTransformer([("none", VAETransformer(**TINY), []),
                                   ("imp", VAEImputer(add_indicator=True, **TINY), ["a", "b"])],
                                  remainder="drop").set_output(transform="pandas")
    out = composite.fit_transform(X)
    pd.testing.assert_index_equal(out.index, X.index)
    assert out.columns.tolist() == composite.get_feature_names_out().tolist() == [
        "imp__a", "imp__b", "imp__missingindicator_a"]
    assert not out.isna().any().any()
    # Only what a ColumnTransformer's fit fits is fitted: the skipped transformer is left unfitted.
    assert "vae_" in composite.named_transformers_["imp"].__dict__
    assert not hasattr(composite.named_transformers_["none"], "_model")


def test_routing_an_unrequested_n_importance_is_refused_and_a_requested_alias_is_routed():
    X = pd.DataFrame({"a": np.linspace(0.0, 1.0, 12), "b": np.linspace(2.0, 1.0, 12) ** 2})
    from sklearn.exceptions import UnsetMetadataPassedError
    from sklearn.model_selection import cross_validate

    with sklearn.config_context(enable_metadata_routing=True):
        # scikit-learn 1.9 names the method to call (set_score_request); 1.6 (the oldest pyproject.toml
        # allows) says "Call `.set_fit_request(...)`" for every method. Both name the estimator and n_importance.
        with pytest.raises(UnsetMetadataPassedError,
                           match=r"(?s)(?=.*VAETransformer)(?=.*n_importance).*set_\w+_request"):
            cross_validate(VAETransformer(**TINY), X, cv=2, params={"n_importance": 3})
        with pytest.raises(TypeError, match=r"unexpected argument\(s\) \{'unknown'\}"):
            cross_validate(VAETransformer(**TINY), X, cv=2, params={"unknown": 3})
        routed = cross_validate(VAETransformer(**TINY).set_score_request(n_importance="k"), X, cv=2,
                                params={"k": 3}, return_estimator=True)
    # KFold(2) without shuffling: the first fold tests the first six rows.
    for score, estimator, test in zip(routed["test_score"], routed["estimator"], (slice(0, 6), slice(6, 12))):
        assert score == estimator.score(X.iloc[test], n_importance=3)
        assert score != estimator.score(X.iloc[test])
