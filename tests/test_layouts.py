"""Every memory layout NumPy allows works in every public method, with the same result.

A layout is how the values sit in memory, never what they are: every method
must give, for an array in any layout, exactly the answer it gives for a plain
C-contiguous copy of the same values.
"""

import warnings

import numpy as np
import pytest
from sklearn.utils import check_array

from skvae import VAETransformer

N_ROWS, N_FEATURES, LATENT_DIM = 40, 5, 2
BASE = np.random.default_rng(0).standard_normal((N_ROWS, N_FEATURES))


def _memmap(array, tmp_path, mode):
    path = tmp_path / f"X_{mode}.dat"
    writer = np.memmap(path, dtype=array.dtype, mode="w+", shape=array.shape)
    writer[:] = array
    writer.flush()
    del writer
    return np.memmap(path, dtype=array.dtype, mode=mode, shape=array.shape)


def _read_only(array):
    array = array.copy()
    array.flags.writeable = False
    return array


#: name -> make(plain C array, tmp_path): an array in that layout.
LAYOUTS = {
    "negative row stride": lambda A, _: A[::-1],
    "negative column stride": lambda A, _: A[:, ::-1],
    "Fortran order": lambda A, _: np.asfortranarray(A),
    "strided view": lambda A, _: np.repeat(A, 2, axis=1)[:, ::2],
    "every other row": lambda A, _: np.repeat(A, 2, axis=0)[::2],
    "read-only": lambda A, _: _read_only(A),
    "non-native byte order": lambda A, _: A.astype(A.dtype.newbyteorder()),
    "read-only memmap": lambda A, p: _memmap(A, p, "r"),
    "writable memmap": lambda A, p: _memmap(A, p, "r+"),
    "read-only negative stride": lambda A, _: _read_only(A)[::-1],
}

DTYPES = [np.float64, np.float32]


def _new():
    return VAETransformer(latent_dim=LATENT_DIM, hidden_layer_sizes=(8,), max_iter=2, random_state=0)


@pytest.fixture(scope="module")
def fitted():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _new().fit(BASE)


def _fit_methods(estimator, X):
    """The training entry points, each as the transform of X by the model it fits."""
    return {
        "fit": lambda: estimator.fit(X).transform(X),
        "fit_transform": lambda: estimator.fit_transform(X),
        "partial_fit": lambda: estimator.partial_fit(X).transform(X),
    }


TRAINING_METHODS = ["fit", "fit_transform", "partial_fit"]
INFERENCE_METHODS = ["transform", "score_samples", "score", "inverse_transform"]


def _inference(model, method, X):
    if method == "inverse_transform":
        return model.inverse_transform(X[:, :LATENT_DIM])
    if method == "score":
        return np.array(model.score(X))
    return getattr(model, method)(X)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("method", INFERENCE_METHODS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_inference_accepts_every_layout(fitted, layout, method, dtype, tmp_path):
    X = LAYOUTS[layout](BASE.astype(dtype), tmp_path)
    # The input's dtype as scikit-learn's check_array reads it: float32 in a
    # non-native byte order is not float32 there, and becomes float64.
    read_as = check_array(X, dtype=[np.float64, np.float32]).dtype
    plain = np.array(X, dtype=read_as, order="C")
    expected = _inference(fitted, method, plain)
    result = _inference(fitted, method, X)
    assert type(result) is np.ndarray
    if method != "score":
        assert result.dtype == read_as
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("method", TRAINING_METHODS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_training_accepts_every_layout(layout, method, tmp_path):
    X = LAYOUTS[layout](BASE, tmp_path)
    plain = np.array(X, dtype=np.float64, order="C")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _fit_methods(_new(), plain)[method]()
        result = _fit_methods(_new(), X)[method]()
    # An int random_state makes a CPU fit repeatable: same data, same model. Not
    # bit for bit: NumPy sums the feature means in an order that follows the
    # layout, which moves the data scaling by an ulp.
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)


def test_inputs_are_never_written(fitted, tmp_path):
    X = _memmap(BASE, tmp_path, "r+")
    before = np.array(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _new().fit(X)
        fitted.transform(X), fitted.score_samples(X)
    np.testing.assert_array_equal(X, before)
