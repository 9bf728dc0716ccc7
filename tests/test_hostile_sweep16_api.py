"""Hostile input, sixteenth sweep: the Python API given arrays and tensors of unusual kinds, odd labels, odd calls.

Swept and found sound: ``np.matrix`` (refused with scikit-learn's TypeError
naming it and ``np.asarray``); masked arrays (masked cells are missing, as
sweep 1 decided), memmaps, read-only, Fortran-ordered and strided arrays,
``np.longdouble``, bool, int8 and uint64 arrays, lists and tuples of rows,
a ``memoryview`` and rows of ``array.array``; torch tensors of int, bool,
uint16, float8, a strided view and a negated-conjugate view, as X, codes and
``given``; ``torch.use_deterministic_algorithms(True)`` and anomaly
detection on around a fit, torch's threads, default dtype, grad mode and
global RNG left as they were after every call and refusal; column labels
that are bytes, timestamps, dates, periods, intervals, frozensets, floats,
bools, None and NaN (refused by name), negative integers (kept), a named
column index, a ``CategoricalIndex`` or ``string[pyarrow]`` index of labels
and ``allows_duplicate_labels=False``; an imputer's empty columns with
``add_indicator`` and ``keep_empty_features`` (names, ``set_output`` and
``multiple_imputations`` agree); ``sample``, ``score``, ``score_samples``
and ``score_columns`` with NumPy integers, bools, floats, None, text and
huge counts, and ``latent``, ``with_missing``, ``seen_pairs_only`` and
``return_mean`` of the wrong type; keyword arguments no method takes
(``sample_weight``) refused by Python.

Each family below failed once (see the commit that added its tests):

- **A torch tensor with no NumPy array of its values** (``skvae._input._refuse_tensor_without_array``):
  a sparse tensor (COO or CSR) reached the caller as torch's "can't convert
  Sparse layout tensor to numpy", a tensor on the ``meta`` device as a
  NotImplementedError ("Cannot copy out of meta tensor; no data!"), a
  nested tensor as a RuntimeError asking the caller to file an issue with
  torch, and a quantized one as "Got unsupported ScalarType QInt8" with
  skvae's advice ``.float()``, which fails on it too. None named X (or
  ``given``) and two were not a ValueError or TypeError. Each is refused now
  by what it is, naming the argument and the conversion (``.to_dense()``,
  ``.dequantize()``, padding), at every entry point that reads a table.
- **An array of complex numbers** (``skvae._validation.check_array_dtype``):
  scikit-learn's "Complex data not supported" followed by a dump of the
  array, naming neither X nor a way out, where a DataFrame column of complex
  numbers is refused by name with its conversion (sweep 9). A complex array
  or tensor is refused now naming X, its dtype, ``.real`` and ``.imag``.
- **NumPy 2's variable-width strings** (``skvae._input._na_as_missing``):
  an array of ``StringDType`` is text as an object array of ``str`` is, but
  validation missed its kind: a text cell was NumPy's "could not convert
  string to float: 'abc'" (no X, no cell, no advice), and an array whose
  ``na_object`` marks missing cells was refused as "Arrays with missing data
  cannot be converted to a non-nullable type", though a missing cell is
  what skvae models. Such an array is read as objects now: numbers in text
  are read as an object array's are, its missing cells are missing, and a
  text cell is named by column and row.
- **A column labelled pd.NA** (``skvae._validation._is_missing_label``):
  sweep 15 refused None and NaN labels by position, and meant pd.NA too,
  but ``bool(pd.NA != pd.NA)`` raises, which the check read as "a label":
  such a column reached scikit-learn's "your input has ['NAType', 'str']
  as feature name types". It is refused by position now, as NaN is.
- **pyarrow's string type in pandas** (``skvae._column_types.dtype_name``):
  ``pd.ArrowDtype(pa.string())`` is named "string[pyarrow]", as pandas'
  own ``StringDtype("pyarrow")`` is, and the schema kept that name, which
  pandas reads back as the StringDtype: such a column (or categories of
  that type) came back from ``sample`` and ``inverse_transform``, also after
  a save and load, in the other dtype, while the imputer kept it. The
  schema keeps pyarrow's other name of the type, ``utf8[pyarrow]``, which
  reads back as the ArrowDtype.
- **An Arrow type pandas holds but does not implement** (``skvae._input._refuse_unimplemented_arrow_columns``):
  a column of ``pd.ArrowDtype(pa.string_view())`` (or ``binary_view``,
  ``list_view``, ...) failed fit with pandas' bare "NotImplementedError:
  string_view" and transform, the imputer, the detector and ``given`` with
  pyarrow's "Function 'array_filter' has no kernel matching input types".
  It is refused now, naming the column, its dtype and a cast in pyarrow
  (pandas' own ``astype`` fails on such a column); the test runs the advice.

Found, not changed: a column index's ``name`` is not carried to the tables
``sample`` and ``inverse_transform`` return (scikit-learn's ``set_output``
drops it too); a pyarrow ``time64``, ``binary`` or ``null`` column is refused
by name with the generic advice ``.astype(float) or .astype(str)``, of which
only the second applies.
"""

import numpy as np
import pandas as pd
import pytest
import torch

from skvae import VAEImputer, VAEOutlierDetector, VAETransformer

pytestmark = [pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
              pytest.mark.filterwarnings("ignore::UserWarning")]

TINY = dict(latent_dim=2, hidden_layer_sizes=(8,), max_iter=2, random_state=0, device="cpu")
FACES = [VAETransformer, VAEImputer, VAEOutlierDetector]


def _array(n=30, seed=0):
    return np.random.RandomState(seed).randn(n, 3)


def _torch_state():
    return (torch.get_num_threads(), torch.get_default_dtype(), torch.is_grad_enabled(),
            torch.random.get_rng_state().clone())


def _same_torch_state(before):
    after = _torch_state()
    assert after[:3] == before[:3]
    assert torch.equal(after[3], before[3])


def _entry_points(fitted_face, X):
    """Every call of `fitted_face` that reads a table X, by name: a fresh fit, a refit of it, and its inference."""
    calls = {"fit": lambda: type(fitted_face)(**TINY).fit(X), "refit": lambda: fitted_face.fit(X)}
    if isinstance(fitted_face, VAEImputer):
        calls["transform"] = lambda: fitted_face.transform(X)
    elif isinstance(fitted_face, VAEOutlierDetector):
        calls["score_samples"] = lambda: fitted_face.score_samples(X)
        calls["predict"] = lambda: fitted_face.predict(X)
    else:
        calls["transform"] = lambda: fitted_face.transform(X)
        calls["score_samples"] = lambda: fitted_face.score_samples(X)
    return calls


def _result(model):
    """What `model` answers for the plain table: it must not change under a refused call."""
    X = _array(seed=1)
    return model.score_samples(X) if isinstance(model, VAEOutlierDetector) else model.transform(X)


@pytest.fixture(scope="module")
def fitted():
    X = _array()
    return {face: face(**TINY).fit(X) for face in FACES}


# ------------------------------------------------------------------ tensors with no NumPy array

def _tensors():
    T = torch.tensor(_array())
    return {
        "sparse_coo": (lambda: T.to_sparse(), TypeError,
                       r"{arg} is a torch tensor of layout torch\.sparse_coo.*{arg}\.to_dense\(\)"),
        "sparse_csr": (lambda: T.to_sparse_csr(), TypeError,
                       r"{arg} is a torch tensor of layout torch\.sparse_csr.*{arg}\.to_dense\(\)"),
        "meta": (lambda: torch.empty(30, 3, device="meta"), ValueError,
                 r"{arg} is a torch tensor on the 'meta' device.*no values"),
        "nested": (lambda: torch.nested.nested_tensor([T[0], T[1, :2]]), TypeError,
                   r"{arg} is a nested torch tensor.*to_padded_tensor\({arg}"),
        "jagged": (lambda: torch.nested.nested_tensor([T[0], T[1, :2]], layout=torch.jagged), TypeError,
                   r"{arg} is a nested torch tensor.*to_padded_tensor\({arg}"),
        "quantized": (lambda: torch.quantize_per_tensor(T.float(), 0.1, 0, torch.qint8), TypeError,
                      r"{arg} is a quantized torch tensor \(torch\.qint8\).*{arg}\.dequantize\(\)"),
        "complex": (lambda: T.to(torch.complex64), ValueError,
                    r"{arg} is an array of complex numbers \(complex64\).*\.real and \.imag"),
    }


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("kind", list(_tensors()))
@pytest.mark.parametrize("face", FACES)
def test_a_tensor_without_a_numpy_array_is_refused_by_what_it_is(kind, face, fitted):
    make, error, message = _tensors()[kind]
    X = make()
    model = fitted[face]
    before, result = _torch_state(), _result(model)
    for call in _entry_points(model, X).values():
        with pytest.raises(error, match=message.format(arg="X")):
            call()
        _same_torch_state(before)
    np.testing.assert_array_equal(_result(model), result)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("kind", ["sparse_coo", "meta", "nested", "quantized"])
def test_a_tensor_without_a_numpy_array_is_refused_as_codes_and_as_given(kind, fitted):
    make, error, message = _tensors()[kind]
    model = fitted[VAETransformer]
    X = make()
    with pytest.raises(error, match=message.format(arg="X")):
        model.inverse_transform(X[:, :2] if kind in ("meta", "quantized") else X)
    with pytest.raises(error, match=message.format(arg="given")):
        model.sample(1, given=X[:1] if kind in ("meta", "quantized") else X)


def test_a_dense_tensor_is_still_read(fitted):
    """The refusals above are of layouts and devices, not of tensors: a plain one gives the array's result."""
    X = _array()
    model = fitted[VAETransformer]
    np.testing.assert_array_equal(model.transform(torch.tensor(X)), model.transform(X))
    np.testing.assert_array_equal(model.transform(torch.tensor(X).to_sparse().to_dense()), model.transform(X))


# ------------------------------------------------------------------ complex arrays

@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("face", FACES)
def test_an_array_of_complex_numbers_is_refused_naming_x_and_the_split(dtype, face, fitted):
    X = _array().astype(dtype)
    model = fitted[face]
    for name, call in _entry_points(model, X).items():
        with pytest.raises(ValueError, match=rf"X is an array of complex numbers \({np.dtype(dtype)}\).*X\.real.*"
                                             r"\.imag") as info:
            call()
        assert "[[" not in str(info.value), name  # not the whole array, as scikit-learn's message
    with pytest.raises(ValueError, match="X is an array of complex numbers"):
        fitted[VAETransformer].inverse_transform(_array()[:, :2].astype(dtype))
    with pytest.raises(ValueError, match="X is an array of complex numbers"):
        fitted[VAETransformer].transform(_array().astype(dtype).tolist())


# ------------------------------------------------------------------ NumPy's StringDType

def _strings(na_object=..., missing=False):
    # NumPy 2.0's; numpy 1.23 (the oldest pyproject.toml allows) has none (hostile sweep 33).
    StringDType = getattr(pytest.importorskip("numpy.dtypes"), "StringDType", None)
    if StringDType is None:
        pytest.skip("NumPy < 2 has no StringDType")

    dtype = StringDType() if na_object is ... else StringDType(na_object=na_object)
    X = _array().astype(str).astype(dtype)
    if missing:
        X[0, 0] = na_object
    return X


@pytest.mark.parametrize("face", FACES)
def test_an_array_of_string_dtype_names_its_text_cell(face, fitted):
    X = _strings()
    X[2, 1] = "abc"
    for call in _entry_points(fitted[face], X).values():
        with pytest.raises(ValueError, match=r"X holds text \('abc' in column 1, row 2\): an array must hold "
                                             "numbers"):
            call()
    codes = _strings()[:, :2]
    codes[0, 0] = "abc"
    with pytest.raises(ValueError, match=r"X holds text \('abc' in column 0, row 0\).*latent codes"):
        fitted[VAETransformer].inverse_transform(codes)


def test_an_array_of_string_dtype_is_read_as_the_same_object_array(fitted):
    """Numbers written as StringDType text give what the same object array gives: equal results, not refusals."""
    model = fitted[VAETransformer]
    X = _strings()
    np.testing.assert_array_equal(model.transform(X), model.transform(X.astype(object)))
    np.testing.assert_array_equal(model.transform(X), model.transform(X.astype(object).astype(float)))


@pytest.mark.parametrize("na_object", [np.nan, pd.NA, None], ids=["nan", "pd.NA", "None"])
def test_the_missing_cells_of_a_string_dtype_array_are_missing(na_object, fitted):
    X = _strings(na_object, missing=True)
    numbers = _array()
    numbers[0, 0] = np.nan
    imputer = fitted[VAEImputer]
    out = imputer.transform(X)
    assert out.dtype == np.float64 and np.isfinite(out).all()
    np.testing.assert_array_equal(out, imputer.transform(numbers))
    np.testing.assert_array_equal(fitted[VAETransformer].transform(X), fitted[VAETransformer].transform(numbers))
    np.testing.assert_array_equal(fitted[VAEOutlierDetector].score_samples(X),
                                  fitted[VAEOutlierDetector].score_samples(numbers))
    fresh = VAEImputer(**TINY).fit(X)
    np.testing.assert_array_equal(fresh.transform(X), VAEImputer(**TINY).fit(numbers).transform(numbers))


# ------------------------------------------------------------------ a column labelled pd.NA

@pytest.mark.parametrize("others", [["b", "c"], [1, 2]], ids=["str", "int"])
@pytest.mark.parametrize("face", FACES)
def test_a_column_labelled_pd_na_is_refused_by_position(others, face, fitted):
    X = pd.DataFrame(_array(), columns=pd.Index([pd.NA, *others], dtype=object))
    with pytest.raises(ValueError, match=r"X's column at position 0 has no label"):
        face(**TINY).fit(X)
    model = fitted[face]
    result = _result(model)
    for name, call in _entry_points(model, X).items():
        if name != "fit":
            with pytest.raises(ValueError, match=r"X's column at position 0 has no label"):
                call()
    np.testing.assert_array_equal(_result(model), result)


# ------------------------------------------------------------------ pyarrow's string type in pandas

def _arrow_frame(arrow_type):
    pa = pytest.importorskip("pyarrow")  # no extra declares it (hostile sweep 33 ran without it)

    rng = np.random.RandomState(0)
    return pd.DataFrame({"a": rng.randn(20),
                         "s": pd.array(["x", None, "y", "z"] * 5, dtype=pd.ArrowDtype(arrow_type or pa.string()))})


def test_a_pyarrow_string_column_comes_back_in_its_dtype(tmp_path):
    """``pd.ArrowDtype(pa.string())`` is named "string[pyarrow]" as pandas' StringDtype is, but is another dtype."""
    pa = pytest.importorskip("pyarrow")  # no extra declares it (hostile sweep 33 ran without it)

    import skvae

    X = _arrow_frame(pa.string())
    model = VAETransformer(**TINY).fit(X)
    assert model.sample(3)["s"].dtype == X["s"].dtype
    assert model.inverse_transform(model.transform(X))["s"].dtype == X["s"].dtype
    assert VAEImputer(**TINY).fit(X).transform(X)["s"].dtype == X["s"].dtype
    skvae.save(model, tmp_path / "m.skvae")
    assert skvae.load(tmp_path / "m.skvae").sample(2)["s"].dtype == X["s"].dtype
    # The other dtype of that name keeps its own.
    S = X.assign(s=X["s"].astype("string[pyarrow]"))
    assert isinstance(VAETransformer(**TINY).fit(S).sample(2)["s"].dtype, pd.StringDtype)


def test_categories_of_pyarrow_strings_come_back_in_their_dtype():
    pa = pytest.importorskip("pyarrow")  # no extra declares it (hostile sweep 33 ran without it)

    X = _arrow_frame(pa.string())
    X["s"] = X["s"].astype(pd.CategoricalDtype(pd.Index(["x", "y", "z"], dtype=pd.ArrowDtype(pa.string()))))
    model = VAETransformer(**TINY).fit(X)
    assert model.sample(3)["s"].dtype.categories.dtype == pd.ArrowDtype(pa.string())


@pytest.mark.parametrize("arrow_type", ["string_view", "binary_view"])
def test_an_arrow_type_pandas_does_not_implement_is_refused_naming_the_column(arrow_type, fitted):
    pa = pytest.importorskip("pyarrow")  # no extra declares it (hostile sweep 33 ran without it)

    values = ["x", None] * 10 if arrow_type == "string_view" else [b"x", None] * 10
    X = pd.DataFrame({"a": np.random.RandomState(0).randn(20),
                      "s": pd.array(values, dtype=pd.ArrowDtype(getattr(pa, arrow_type)()))})
    strings = X.assign(s=["x", None] * 10)  # models fitted on a column s that pandas implements
    message = rf"Column 's' of {{arg}} has dtype {arrow_type}\[pyarrow\], an Arrow type pandas .* does not implement"
    for face in FACES:
        with pytest.raises(ValueError, match=message.format(arg="X")):
            face(**TINY).fit(X)
        with pytest.raises(ValueError, match=message.format(arg="X")):
            face(**TINY, likelihood={"s": "categorical"}).fit(X)
    model = VAETransformer(**TINY).fit(strings)
    with pytest.raises(ValueError, match=message.format(arg="X")):
        model.transform(X)
    with pytest.raises(ValueError, match=message.format(arg="given")):
        model.sample(1, given=X.iloc[:1, 1:])
    imputer = VAEImputer(**TINY).fit(strings)
    with pytest.raises(ValueError, match=message.format(arg="X")):
        imputer.transform(X)
    detector = VAEOutlierDetector(**TINY).fit(strings)
    with pytest.raises(ValueError, match=message.format(arg="X")):
        detector.predict(X)


def test_the_cast_an_unimplemented_arrow_type_is_told_works():
    pa = pytest.importorskip("pyarrow")  # no extra declares it (hostile sweep 33 ran without it)

    X = pd.DataFrame({"a": np.random.RandomState(0).randn(20),
                      "s": pd.array(["x", None] * 10, dtype=pd.ArrowDtype(pa.string_view()))})
    with pytest.raises(ValueError) as info:
        VAETransformer(**TINY).fit(X)
    advice = str(info.value).split("e.g. ", 1)[1].rstrip(".")
    exec(advice, {"pd": pd, "pa": pa, "X": X})  # noqa: S102 (the advice is code: run it as the user would)
    out = VAETransformer(**TINY).fit(X).sample(3)
    assert out["s"].dtype == pd.ArrowDtype(pa.string())
