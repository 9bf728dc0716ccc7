"""Bad input gets a clear ValueError/TypeError (or NotFittedError) that names the problem."""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import NotFittedError

from skvae import VAETransformer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(latent_dim=2, hidden_layer_sizes=(4,), max_iter=2, random_state=0)


def _data(n_rows=20, n_features=3):
    return np.random.RandomState(0).randn(n_rows, n_features)


def _with(value, row=0, column=0):
    X = _data()
    X[row, column] = value
    return X


@pytest.fixture(scope="module")
def fitted():
    return VAETransformer(**TINY).fit(_data())


@pytest.fixture(scope="module")
def fitted_bernoulli():
    return VAETransformer(**TINY, likelihood="bernoulli").fit((_data() > 0).astype(float))


# ---------------------------------------------------------------- fit input

BAD_FIT_INPUT = [
    ("inf", _with(np.inf), ValueError, r"infinite value \(inf in column 0, row 0\). Infinity is not a missing value"),
    ("-inf", _with(-np.inf, 3, 2), ValueError, r"infinite value \(-inf in column 2, row 3\)"),
    ("all-missing-column", _with(np.nan, slice(None), 1), ValueError, "Column 1 has no observed value"),
    ("no-rows", np.empty((0, 3)), ValueError, r"0 sample\(s\) \(shape=\(0, 3\)\).*minimum of 1"),
    ("no-columns", np.empty((5, 0)), ValueError, r"0 feature\(s\) \(shape=\(5, 0\)\).*minimum of 1"),
    # scikit-learn's words: "Found array with dim 3, while dim <= 2 is required." in 1.9, "Found array with
    # dim 3. VAETransformer expected <= 2." in 1.6 (the oldest pyproject.toml allows); both name the dims.
    ("3-d", np.zeros((4, 3, 2)), ValueError, "Found array with dim 3.*<= 2"),
    ("1-d", np.zeros(5), ValueError, "Expected 2D array, got 1D array"),
    ("scalar", 3.0, ValueError, "Expected 2D array, got scalar array"),
    ("none", None, ValueError, "Expected 2D array, got scalar array"),
    ("strings", np.array([["a", "b"], ["c", "d"]]), ValueError, r"X holds text \('a' in column 0, row 0\).*DataFrame"),
    ("bytes", np.array([[b"a", b"b"]]), ValueError, r"X holds text \(b'a' in column 0, row 0\)"),
    ("objects", np.array([[1.0, "x"], [2.0, 3.0]], dtype=object), ValueError, r"X holds text \('x' in column 1, row 0\)"),
    ("complex", _data() + 1j, ValueError, r"X is an array of complex numbers \(complex128\).*\.real and \.imag"),
    ("ragged", [[1.0, 2.0], [3.0]], ValueError, "inhomogeneous shape"),
    ("dict", {"a": 1.0}, TypeError, r"X is a dict \(of columns\?\), not a table: pass pandas.DataFrame\(X\)"),
    ("sparse-csr", sp.csr_matrix(_data()), TypeError, "Sparse data was passed for X, but dense data is required"),
    ("sparse-coo", sp.coo_array(_data()), TypeError, "Sparse data was passed for X, but dense data is required"),
]


@pytest.mark.parametrize("method", ["fit", "partial_fit", "fit_transform"])
@pytest.mark.parametrize("X, error, message", [case[1:] for case in BAD_FIT_INPUT],
                         ids=[case[0] for case in BAD_FIT_INPUT])
def test_bad_training_input(method, X, error, message):
    estimator = VAETransformer(**TINY)
    with pytest.raises(error, match=message):
        getattr(estimator, method)(X)
    assert not estimator.__sklearn_is_fitted__()


@pytest.mark.parametrize("method", ["transform", "score_samples", "score", "partial_fit", "fit_transform-warm"])
@pytest.mark.parametrize(
    "X, message",
    [
        (_data(5, 4), "X has 4 features, but VAETransformer is expecting 3 features as input"),
        (_data(5, 2), "X has 2 features, but VAETransformer is expecting 3 features as input"),
        (_with(np.inf), "Infinity is not a missing value"),
        (np.empty((0, 3)), r"0 sample\(s\)"),
        (np.zeros(3), "Expected 2D array, got 1D array"),
    ],
    ids=["too-wide", "too-narrow", "inf", "no-rows", "1-d"],
)
def test_bad_input_to_a_fitted_model(fitted, method, X, message):
    if method == "fit_transform-warm":
        estimator = VAETransformer(**TINY, warm_start=True).fit(_data())
        call = estimator.fit_transform
    else:
        estimator = fitted if method != "partial_fit" else VAETransformer(**TINY).fit(_data())
        call = getattr(estimator, method)
    with pytest.raises(ValueError, match=message):
        call(X)


@pytest.mark.parametrize(
    "Z, error, message",
    [
        (_data(5, 3), ValueError, "X has 3 features, but inverse_transform of VAETransformer expects latent_dim=2"),
        (_data(5, 1), ValueError, "X has 1 features, but inverse_transform of VAETransformer expects latent_dim=2"),
        (np.zeros(2), ValueError, "Expected 2D array, got 1D array"),
        (np.full((2, 2), np.nan), ValueError, "Input X contains NaN"),
        (np.array([["a", "b"]]), ValueError, r"X holds text \(.a. in column 0, row 0\): an array must hold numbers"),
        (sp.csr_matrix(np.ones((2, 2))), TypeError, "Sparse data was passed"),
    ],
    ids=["too-wide", "too-narrow", "1-d", "nan", "strings", "sparse"],
)
def test_bad_input_to_inverse_transform(fitted, Z, error, message):
    with pytest.raises(error, match=message):
        fitted.inverse_transform(Z)


# ---------------------------------------------------------------- parameters

BAD_PARAMS = [
    ({"latent_dim": 0}, "'latent_dim' parameter of VAETransformer must be an int in the range \\[1, inf\\). Got 0"),
    ({"latent_dim": -3}, "'latent_dim' parameter .* must be an int in the range \\[1, inf\\). Got -3"),
    ({"latent_dim": 2.5}, "'latent_dim' parameter .* must be an int in the range \\[1, inf\\). Got 2.5"),
    ({"latent_dim": "2"}, "'latent_dim' parameter .* must be an int"),
    ({"batch_size": 0}, "'batch_size' parameter .* must be an int in the range \\[1, inf\\) or a str among {'auto'}. Got 0"),
    ({"learning_rate": -0.1}, "'learning_rate' parameter .* must be a float in the range \\(0.0, 1e\\+37\\]. Got -0.1"),
    ({"learning_rate": 0.0}, "'learning_rate' parameter .* Got 0.0"),
    ({"learning_rate": float("nan")}, "'learning_rate' parameter .* Got nan"),
    ({"learning_rate": 1e38}, "'learning_rate' parameter .* range \\(0.0, 1e\\+37\\]. Got 1e\\+38"),
    ({"beta": -1.0}, "'beta' parameter .* must be a float in the range \\[0.0, 1000000000000.0\\]. Got -1.0"),
    ({"beta": float("inf")}, "'beta' parameter .* Got inf"),
    ({"max_iter": 0}, "'max_iter' parameter .* Got 0"),
    ({"tol": -1e-3}, "'tol' parameter .* Got -0.001"),
    ({"n_iter_no_change": 0}, "'n_iter_no_change' parameter .* Got 0"),
    ({"validation_fraction": 1.0}, "'validation_fraction' parameter .* range \\(0.0, 1.0\\). Got 1.0"),
    ({"likelihood": "zebra"}, "'likelihood' parameter .* must be a str among .*'bernoulli'.*Got 'zebra'"),
    ({"likelihood": {0: "zebra"}}, r"likelihood\[0\] must be one of .*'categorical'.*got 'zebra'"),
    ({"likelihood": {7: "gaussian"}}, r"likelihood names columns \[7\] that X does not have"),
    ({"handle_unknown": "skip"}, "'handle_unknown' parameter .* must be a str among"),
    ({"activation": "swish"}, "'activation' parameter .* must be a str among .*'relu'.*Got 'swish'"),
    ({"device": "tpu"}, "'device' parameter must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got 'tpu'"),
    ({"device": "cuda:x"}, "'device' parameter must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got 'cuda:x'"),
    ({"device": 3}, "'device' parameter .* must be an instance of 'str' or an instance of 'torch.device'"),
    ({"hidden_layer_sizes": ()}, "hidden_layer_sizes must be a non-empty sequence of positive integers; got \\(\\)"),
    ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes must be a non-empty .*; got \\(0,\\)"),
    ({"hidden_layer_sizes": (8, 0)}, "hidden_layer_sizes must be a non-empty .*; got \\(8, 0\\)"),
    ({"hidden_layer_sizes": (8, -2)}, "hidden_layer_sizes must be a non-empty .*; got \\(8, -2\\)"),
    ({"hidden_layer_sizes": (4.0,)}, "hidden_layer_sizes must be a non-empty .*; got \\(4.0,\\)"),
    ({"hidden_layer_sizes": 0}, "'hidden_layer_sizes' parameter .* Got 0"),
    ({"hidden_layer_sizes": "wide"}, "'hidden_layer_sizes' parameter .* Got 'wide'"),
    ({"hidden_layer_sizes": (2**40,)}, "Could not build the networks with hidden_layer_sizes=\\(1099511627776,\\)"),
    ({"early_stopping": "yes"}, "'early_stopping' parameter .* Got 'yes'"),
    ({"random_state": "seed"}, "'random_state' parameter .* Got 'seed'"),
]


@pytest.mark.parametrize("params, message", BAD_PARAMS, ids=[repr(p) for p, _ in BAD_PARAMS])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_invalid_parameters(params, message, method):
    estimator = VAETransformer(**{**TINY, **params})
    with pytest.raises((ValueError, TypeError), match=message):
        getattr(estimator, method)(_data())


def test_cuda_device_without_cuda(monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    with pytest.raises(ValueError, match="device='cuda' was requested but CUDA is not available on this machine"):
        VAETransformer(**TINY, device="cuda").fit(_data())


def test_early_stopping_needs_two_rows():
    with pytest.raises(ValueError, match="early_stopping=True needs at least 2 samples.*got n_samples=1"):
        VAETransformer(**TINY, early_stopping=True).fit(_data(1, 3))


def test_changed_architecture_cannot_continue():
    estimator = VAETransformer(**TINY).fit(_data())
    estimator.set_params(latent_dim=3)
    with pytest.raises(ValueError, match="Cannot continue training: the fitted model has latent_dim=2 .* latent_dim=3"):
        estimator.partial_fit(_data())


# ---------------------------------------------------------------- bernoulli data


@pytest.mark.parametrize("value, shown", [(1.5, "1.5"), (-0.25, "-0.25"), (255.0, "255.0"),
                                          (1 + 1e-12, "1.000000000001"), (-5e-324, "-5e-324")])
@pytest.mark.parametrize("method", ["fit", "partial_fit", "transform", "score_samples", "score"])
def test_bernoulli_refuses_data_outside_unit_interval(fitted_bernoulli, method, value, shown):
    X = (_data() > 0).astype(float)
    X[2, 1] = value
    estimator = VAETransformer(**TINY, likelihood="bernoulli") if "fit" in method else fitted_bernoulli
    with pytest.raises(ValueError, match=f"likelihood='bernoulli' requires every value of column 1 to lie in "
                                         f"\\[0, 1\\]; found {re.escape(shown)} in row 2\\."):
        getattr(estimator, method)(X)


# ---------------------------------------------------------------- other arguments


@pytest.mark.parametrize("n_samples", [-1, 0, 1.5, "3", True, None])
def test_sample_needs_a_positive_integer(fitted, n_samples):
    with pytest.raises(ValueError, match=f"n_samples must be a positive integer; got {n_samples!r}"):
        fitted.sample(n_samples)


@pytest.mark.parametrize("n_importance", [0, -2, 1.5, True])
def test_score_samples_needs_positive_n_importance(fitted, n_importance):
    with pytest.raises(ValueError, match=f"n_importance must be a positive integer; got {n_importance!r}"):
        fitted.score_samples(_data(), n_importance=n_importance)


def test_sample_rejects_bad_random_state(fitted):
    with pytest.raises(ValueError, match="cannot be used to seed"):
        fitted.sample(2, random_state="seed")


@pytest.mark.parametrize(
    "method, args",
    [
        ("transform", (_data(),)),
        ("inverse_transform", (np.zeros((2, 2)),)),
        ("score_samples", (_data(),)),
        ("score", (_data(),)),
        ("sample", (3,)),
        ("get_feature_names_out", ()),
    ],
)
def test_every_method_needs_fit(method, args):
    with pytest.raises(NotFittedError, match="This VAETransformer instance is not fitted yet"):
        getattr(VAETransformer(), method)(*args)


# ---------------------------------------------------------------- properties

# Values spread over every scale from 1e-300 to 1e300, with both signs and zero.
_finite = st.one_of(
    st.just(0.0),
    st.builds(lambda m, e: m * 10.0**e, st.floats(-10, 10), st.integers(-300, 300)),
    st.floats(allow_nan=False, allow_infinity=False),
)
# Mostly tables (2-D); 1-D and 3-D arrays must be refused.
_arrays = st.sampled_from([1, 2, 2, 2, 2, 3]).flatmap(
    lambda ndim: hnp.arrays(np.float64, hnp.array_shapes(min_dims=ndim, max_dims=ndim, min_side=0, max_side=6),
                            elements=_finite)
)


def _is_clear(error):
    """A user-facing error: the right type, a sentence, not a torch internals message."""
    text = str(error)
    return isinstance(error, (ValueError, TypeError)) and len(text) > 20 and "torch" not in text.lower()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(X=_arrays, dtype=st.sampled_from([np.float64, np.float32]))
def test_any_finite_array_gives_a_clear_error_or_a_finite_result(X, dtype):
    with warnings.catch_warnings():
        # float32 casts of values beyond 3.4e38 are part of the test, not a problem.
        warnings.simplefilter("ignore")
        X = X.astype(dtype)
        estimator = VAETransformer(latent_dim=2, hidden_layer_sizes=(3,), max_iter=2, batch_size=4, random_state=0)
        try:
            estimator.fit(X)
        except Exception as error:  # noqa: BLE001 - the property is about every exception
            assert _is_clear(error), repr(error)
            assert not estimator.__sklearn_is_fitted__()
            return
        assert np.all(np.isfinite(estimator.loss_curve_))
        for method in ("transform", "score_samples", "score"):
            try:
                result = getattr(estimator, method)(X)
            except Exception as error:  # noqa: BLE001
                assert _is_clear(error), repr(error)
                continue
            assert np.all(np.isfinite(result)), (method, result)


@settings(max_examples=25, deadline=None)
@given(X=hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.just(3)), elements=_finite),
       shift=st.floats(-1e6, 1e6), log_scale=st.integers(-6, 6))
@pytest.mark.filterwarnings("ignore:score_samples. the bound:UserWarning")  # far rows score -inf, named
def test_new_data_never_gives_nan(fitted, X, shift, log_scale):
    """A fitted model meets unseen data of any width and scale: clear error or a non-NaN result."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X = X * 10.0**log_scale + shift
    for method in ("transform", "score_samples"):
        try:
            result = getattr(fitted, method)(X)
        except ValueError as error:
            assert _is_clear(error)
            continue
        # An extreme outlier may score -inf (a log-density below the float range), never NaN.
        assert not np.any(np.isnan(result))
        if method == "transform":
            assert np.all(np.isfinite(result))
