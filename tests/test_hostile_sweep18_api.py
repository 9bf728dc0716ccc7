"""Hostile use, eighteenth sweep: refused calls against the caller's generators, odd parameters and tables.

(Docstring completed below as the sweep goes.)
"""

import numpy as np
import pandas as pd
import pytest

from skvae import VAEImputer, VAEOutlierDetector, VAETransformer

FACES = [VAETransformer, VAEImputer, VAEOutlierDetector]
TINY = dict(latent_dim=1, hidden_layer_sizes=(4,), max_iter=2, device="cpu")


def _table(n=12, seed=0):
    rng = np.random.RandomState(seed)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(list("xyz"), n)})


def _refusals():
    X = _table()
    return {
        "infinite cell": (X.assign(a=[np.inf] + [0.0] * (len(X) - 1)), {}),
        "date column": (X.assign(a=pd.Timestamp("2020-01-01")), {}),
        "likelihood the column cannot have": (X, {"likelihood": {"c": "gaussian"}}),
    }


def _next_draw(rng):
    return rng.randint(2**31 - 1, size=4).tolist()


@pytest.mark.parametrize("face", FACES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("refusal", list(_refusals()))
def test_refused_fit_leaves_a_given_randomstate_where_it_was(face, refusal):
    X, params = _refusals()[refusal]
    rng = np.random.RandomState(5)
    with pytest.raises(ValueError):
        face(**TINY, **params, random_state=rng).fit(X)
    assert _next_draw(rng) == _next_draw(np.random.RandomState(5))


@pytest.mark.parametrize("face", FACES, ids=lambda f: f.__name__)
def test_refused_fit_leaves_numpys_global_generator_where_it_was(face):
    X, params = _refusals()["infinite cell"]
    np.random.seed(11)
    with pytest.raises(ValueError):
        face(**TINY, **params, random_state=None).fit(X)
    after = _next_draw(np.random)
    np.random.seed(11)
    assert after == _next_draw(np.random)


def test_fit_after_a_refused_fit_equals_the_fit_without_it():
    X, _ = _refusals()["infinite cell"]
    good = _table()
    rng = np.random.RandomState(3)
    vae = VAETransformer(**TINY, random_state=rng)
    with pytest.raises(ValueError):
        vae.fit(X)
    first = vae.fit(good).transform(good)
    second = VAETransformer(**TINY, random_state=np.random.RandomState(3)).fit(good).transform(good)
    np.testing.assert_array_equal(first, second)
    assert vae.loss_curve_ == VAETransformer(**TINY, random_state=np.random.RandomState(3)).fit(good).loss_curve_


def _params(estimator):
    # NaN (the imputer's missing_values) is not equal to itself.
    return {k: "nan" if isinstance(v, float) and np.isnan(v) else v for k, v in estimator.get_params().items()}


def _round_trip(estimator):
    import io

    import skvae

    buffer = io.BytesIO()
    skvae.save(estimator, buffer)
    buffer.seek(0)
    return skvae.load(buffer)


@pytest.mark.parametrize("face, params", [
    (VAETransformer, {"activation": np.str_("tanh")}),
    (VAETransformer, {"handle_unknown": np.str_("ignore"), "missing_mechanism": np.str_("ignorable")}),
    (VAETransformer, {"likelihood": {"c": np.str_("categorical")}, "batch_size": np.str_("auto")}),
    (VAETransformer, {"device": np.str_("cpu"), "early_stopping": np.str_("auto")}),
    (VAEImputer, {"refinement": np.str_("linear")}),
    (VAEOutlierDetector, {"contamination": np.str_("auto")}),
], ids=lambda v: getattr(v, "__name__", None) or ",".join(v))
def test_numpy_string_parameters_are_saved(face, params):
    X = _table()
    fitted = face(**{**TINY, "random_state": 0, **params}).fit(X)
    loaded = _round_trip(fitted)
    assert _params(loaded) == _params(fitted)
    method = "score_samples" if face is VAEOutlierDetector else "transform"
    np.testing.assert_array_equal(np.asarray(getattr(loaded, method)(X)), np.asarray(getattr(fitted, method)(X)))


def test_numpy_string_placeholder_is_saved():
    X = _table()
    X["c"] = X["c"].where(X.index % 3 > 0, "?")
    fitted = VAEImputer(**TINY, random_state=0, missing_values=np.str_("?")).fit(X)
    loaded = _round_trip(fitted)
    assert loaded.missing_values == "?"
    pd.testing.assert_frame_equal(loaded.transform(X), fitted.transform(X))


@pytest.mark.parametrize("face", FACES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("learning_rate", [1e6, 1e37])
def test_a_learning_rate_that_breaks_the_first_epochs_weights_is_refused_by_name(face, learning_rate):
    # One batch per epoch: the first epoch's loss is taken before its one step, whose weights
    # the second epoch's first step finds non-finite. They were kept as "the last good epoch"
    # (a model scoring -1e51) or failed later as the networks' overflow on the training rows.
    X = _table(20)
    estimator = face(**{**TINY, "max_iter": 5, "random_state": 0, "learning_rate": learning_rate})
    with pytest.raises(ValueError, match="learning_rate is too large"):
        estimator.fit(X)
    assert not hasattr(estimator, "n_features_in_")


def test_a_divergence_keeps_weights_a_step_scored_finite(monkeypatch):
    # The fit that diverges at epoch 3 keeps a model whose scores are those of a sound model.
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    X = _table(40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for learning_rate in (1e-3, 3.0, 1e3):
            try:
                vae = VAETransformer(**{**TINY, "max_iter": 6, "random_state": 0, "batch_size": 20,
                                        "learning_rate": learning_rate}).fit(X)
            except ValueError as error:
                assert "learning_rate is too large" in str(error)
                continue
            assert np.all(np.isfinite(vae.loss_curve_))
            assert np.isfinite(vae.score(X))


@pytest.mark.parametrize("call", ["fit max_iter=1", "partial_fit"])
def test_networks_broken_by_the_last_step_are_named_as_training_broke_them(call):
    # No later epoch scores the last step's weights: the latent mixture's pass over the
    # training rows finds them overflowing. That was "far outside the range of the training
    # data", said of the training rows themselves.
    X = _table(40)
    vae = VAETransformer(**{**TINY, "max_iter": 1, "random_state": 0, "learning_rate": 1e37})
    with pytest.raises(ValueError, match="training rows.*learning_rate") as caught:
        vae.fit(X) if call.startswith("fit") else vae.partial_fit(X)
    assert "far outside the range of the training data" not in str(caught.value)
    assert not hasattr(vae, "n_features_in_")


def _every_call(face, X):
    """Fit, then each inference call of the face: their outputs, as NumPy arrays."""
    estimator = face(**TINY, random_state=0).fit(X)
    if face is VAETransformer:
        codes = estimator.transform(X)
        given = {"c": "x"} if isinstance(X, pd.DataFrame) else {0: 0.5}
        outputs = [codes, estimator.score_samples(X, n_importance=3), estimator.inverse_transform(codes),
                   estimator.sample(3, random_state=1), estimator.sample(2, given=given, random_state=1)]
        estimator.partial_fit(X)
        outputs.append(estimator.transform(X))
    elif face is VAEImputer:
        outputs = [estimator.transform(X), *estimator.multiple_imputations(X, 2)]
    else:
        outputs = [estimator.score_samples(X), estimator.predict(X), estimator.score_columns(X)]
    return [np.asarray(pd.DataFrame(out).astype(str)) for out in outputs]


@pytest.mark.parametrize("face", FACES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("data", ["DataFrame", "array"])
def test_a_callers_autocast_reaches_no_call(face, dtype, data):
    # torch.autocast is the caller's thread's setting, as grad mode is: inside it the networks ran
    # in bfloat16 or float16, so every result differed from the same call outside it, and an
    # array model's transform failed with NumPy's "Got unsupported ScalarType BFloat16".
    import torch

    X = _table(24)
    if face is VAEImputer:
        X.loc[[1, 5], "a"] = np.nan
        X.loc[[2], "c"] = None
    if data == "array":
        X = X[["a", "b"]].to_numpy()
    expected = _every_call(face, X)
    with torch.autocast("cpu", dtype=getattr(torch, dtype)):
        got = _every_call(face, X)
        assert torch.is_autocast_enabled("cpu")  # the caller's setting, as it was
    for a, b in zip(expected, got):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("face", FACES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("cells", ["near float64's top", "subnormal"])
def test_a_callers_numpy_error_state_reaches_no_call(face, cells):
    # np.seterr(all="raise") (a debugging habit) made skvae's own NumPy arithmetic on such
    # columns fail with NumPy's FloatingPointError ("underflow encountered in square" in the
    # column scaling), naming nothing the caller gave.
    X = _table(24)
    X["b"] = np.r_[1e300, -1e300, X["b"].to_numpy()[2:]] if cells.startswith("near") else np.arange(24) * 5e-324
    if face is VAEImputer:
        X.loc[[1, 5], "a"] = np.nan
    expected = _every_call(face, X)
    with np.errstate(all="raise"):
        got = _every_call(face, X)
        assert np.geterr() == {"divide": "raise", "over": "raise", "under": "raise", "invalid": "raise"}
    for a, b in zip(expected, got):
        np.testing.assert_array_equal(a, b)


def test_a_call_that_fails_setting_torchs_threads_leaves_later_calls_putting_them_back():
    # torch_threads counted the call in before setting the threads, and a setting that failed
    # (n_jobs=0 under scikit-learn's skip_parameter_validation: torch's "set_num_threads
    # expects a positive integer") never counted it out: every later call then saw "another
    # call still running" and left torch on its own thread count, not the caller's.
    import sklearn
    import torch

    users = torch.get_num_threads()
    X = _table()
    with sklearn.config_context(skip_parameter_validation=True):
        with pytest.raises(Exception):
            VAETransformer(**TINY, n_jobs=0).fit(X)
    assert torch.get_num_threads() == users
    for n_jobs in (1, 2):
        VAETransformer(**TINY, n_jobs=n_jobs).fit(X)
        assert torch.get_num_threads() == users
    torch.set_num_threads(users + 1)
    try:
        VAETransformer(**TINY, n_jobs=1).fit(X)
        assert torch.get_num_threads() == users + 1
    finally:
        torch.set_num_threads(users)


@pytest.mark.parametrize("dtype", ["Float64", "Int64"])
def test_a_missing_code_in_a_nullable_column_is_refused_as_a_missing_code(dtype):
    # inverse_transform refuses a missing code ("Input X contains NaN.", as PCA's); one held as
    # pd.NA in a nullable column was named a value float() cannot read, "(NaN, None or
    # pandas.NA for a missing cell)": the very marker refused, called the allowed one.
    vae = VAETransformer(**{**TINY, "latent_dim": 2}, random_state=0).fit(_table())
    codes = pd.DataFrame({"vaetransformer0": pd.array([1, None], dtype=dtype), "vaetransformer1": [1.0, 2.0]})
    with pytest.raises(ValueError, match="contains NaN") as caught:
        vae.inverse_transform(codes)
    assert "NAType" not in str(caught.value)


@pytest.mark.parametrize("n_importance", [np.uint8(200), np.int8(100), np.uint16(60000)])
def test_imputer_takes_a_small_numpy_integer_n_importance(n_importance):
    # The fit's own point fills passed n_importance to the model as given, where the thread
    # plan multiplied it by the rows: NumPy's "Python integer 10000000 out of bounds for uint8".
    X = _table()
    X.loc[[1, 5], "a"] = np.nan
    expected = VAEImputer(**TINY, random_state=0, n_importance=int(n_importance)).fit_transform(X)
    got = VAEImputer(**TINY, random_state=0, n_importance=n_importance).fit_transform(X)
    pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize("face, name", [
    (VAETransformer, "beta"), (VAETransformer, "learning_rate"), (VAETransformer, "tol"),
    (VAETransformer, "validation_fraction"), (VAEOutlierDetector, "contamination"), (VAEImputer, "missing_values"),
])
def test_a_fraction_parameter_is_refused_by_name(face, name):
    # fractions.Fraction is a numbers.Real, so scikit-learn's Interval went on to np.isnan(it):
    # NumPy's "ufunc 'isnan' not supported for the input types", naming no parameter.
    from fractions import Fraction

    from sklearn.utils._param_validation import InvalidParameterError

    estimator = face(**TINY, **{name: Fraction(1, 10)})
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter .*Fraction"):
        estimator.fit(_table())
    assert not hasattr(estimator, "n_features_in_")


@pytest.mark.parametrize("nat", ["pd.NaT", "np.datetime64('NaT')", "np.timedelta64('NaT')"])
def test_nat_among_numbers_is_a_missing_cell(nat):
    # NaT is a missing value to pandas (isna), and the column's typing passed over it as one,
    # but the encoding's pd.to_numeric refused it: fit said "Column 'd' was fitted as numbers,
    # but holds values that are not numbers", during the fit itself, naming no cell. A NaT
    # among strings was a missing cell already; so it is among numbers.
    marker = eval(nat)
    X = _table(20)
    X["d"] = pd.Series([1.0, marker, 2.5, 4.0] * 5, dtype=object).to_numpy()
    expected_X = X.assign(d=pd.Series([1.0, None, 2.5, 4.0] * 5, dtype=object).to_numpy())
    vae = VAETransformer(**TINY, random_state=0).fit(X)
    reference = VAETransformer(**TINY, random_state=0).fit(expected_X)
    np.testing.assert_array_equal(vae.transform(X), reference.transform(expected_X))
    filled = VAEImputer(**TINY, random_state=0).fit_transform(X)
    assert filled["d"].notna().all()
    pd.testing.assert_frame_equal(filled, VAEImputer(**TINY, random_state=0).fit_transform(expected_X))
