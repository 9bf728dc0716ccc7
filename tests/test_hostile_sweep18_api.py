"""Hostile use, eighteenth sweep: refused calls and the caller's global state, odd parameters, training breakdowns.

Swept and found sound: a refused ``partial_fit`` (new column, infinity,
unseen category, a step too large for memory after ``set_params`` of the
learning rate) leaves ``loss_curve_``, Adam's learning rate and every later
result bit for bit as without it; ``partial_fit`` and ``warm_start`` from a
DataFrame to an array and back, with float32, Int64 or category columns,
reordered, added or dropped columns (refused by name); ``set_params`` of
each training parameter between continued fits; NumPy integer, float and
bool scalars, tuples, lists and arrays (empty, 2-D, of floats, text or
bools) for every parameter; ``likelihood`` dicts by label, position
(negative too), NumPy integers and strings, unknown columns, twice-named
columns and kinds a column cannot have; tables of 1e300, subnormals,
constants, one observed cell, 2**60 and uint64 integers, float16, nullable
Int64/Float64/boolean with pd.NA, ordered categories with unused levels,
categories of dates/intervals/tuples (refused by name), object columns of
NumPy scalars, duplicate, MultiIndex, string, date and float row indexes
(kept by every output, ``set_output`` pandas, the imputer's indicator and
empty columns included); a row transformed and scored alone as in its
batch, bit for bit (in a permuted batch two of 3,000 scores, and alone an
imputed fill, differed in the last bit: float rounding of other batch
shapes, not a defect);
``sample``, ``score_samples``, ``multiple_imputations`` and
``score_columns`` counts of every type; ``given`` dicts of NumPy scalars,
lists, Series, tensors and NaT; Pipeline and ColumnTransformer with
``set_output(transform="pandas")``, GridSearchCV with ``error_score="raise"``,
clone, pickle, joblib and deepcopy at every stage; ``torch.no_grad``,
``inference_mode``, a float64 default dtype, ``set_flush_denormal`` and a
default device around every call; scikit-learn's ``assume_finite``; pandas'
``future.infer_string`` off; ``skvae.save``/``load`` of odd paths and objects.

Each family below failed once (see the commit that added its tests):

- **A refused fit moved the caller's generator** (``skvae._transaction._generator_states``):
  a fresh fit draws its seed from ``random_state`` before X is validated, so
  a fit refused for an infinite cell, a date column or a likelihood the
  column cannot have advanced a ``RandomState`` passed to it (or NumPy's
  global one under ``random_state=None``): the caller's next draws and the
  next fit differed from a run without the refused call. A call that raises
  now puts back every generator the estimator holds.
- **NumPy strings as parameters could not be saved** (``skvae._persistence._Encoder``):
  ``activation=np.str_("tanh")`` (or a likelihood dict of ``np.str_`` kinds,
  ``missing_values=np.str_("?")``, ...) fitted, but ``skvae.save`` refused it
  "of dtype <U4". Stored as the str it is.
- **Divergence kept the broken weights as "the last good epoch"** (``skvae._training.Trainer.run``):
  an epoch's loss is taken before each step, so the weights after its last
  step are first scored by the next epoch's first step. With one batch per
  epoch, ``learning_rate=1e6`` kept a model scoring -1e51 under a warning
  calling its weights good, and ``1e37`` failed after training with the
  networks' overflow "far outside the range of the training data". Where
  the diverging epoch's first step is already non-finite, the epoch before
  it is undone too; a fresh fit left with none is refused, naming
  ``learning_rate``.
- **A last step that broke the networks** (``skvae._latent_mixture.fit_latent_mixture``):
  with no later epoch to score it (``max_iter=1``, ``partial_fit``), the
  latent mixture's pass over the training rows met the overflow and blamed
  the data; it now says training left the networks overflowing on their own
  training rows, naming ``learning_rate`` (and the continued-fit case).
- **A caller's ``torch.autocast``** (``skvae._torch_scope._precision``): per
  thread, as grad mode is, and left on: every call ran in bfloat16 or
  float16 (other results, without a word), and an array model's
  ``transform`` failed with "Got unsupported ScalarType BFloat16". Turned
  off inside each call, the caller's setting left as it was.
- **A caller's ``np.seterr(all="raise")``** (``skvae._torch_scope._precision``):
  a column of subnormals, or one holding 1e300, failed ``fit`` with NumPy's
  bare FloatingPointError (an underflow that is 0 by design). Each public
  call of every face now runs under NumPy's default error handling.
- **A refused thread setting lost the caller's count** (``skvae._threads.torch_threads``):
  ``n_jobs=0`` under scikit-learn's ``skip_parameter_validation`` failed in
  torch's ``set_num_threads`` after the call had been counted in, and was
  never counted out: every later call then left torch on its own count.
- **pd.NA among latent codes** (``skvae._validation.text_in_array_refusal``):
  ``inverse_transform`` of a nullable column of codes holding pd.NA named
  it "a value float() cannot read ... (NaN, None or pandas.NA for a missing
  cell)"; it is refused as a NaN code is ("Input X contains NaN.").
- **Parameters NumPy cannot take** (``skvae._imputer._point_fills``,
  ``skvae._validation.is_plain_real``): ``VAEImputer(n_importance=np.uint8(200))``
  overflowed in the fit's own point fills ("out of bounds for uint8"); a
  ``fractions.Fraction`` for ``beta``, ``learning_rate``, ``tol``,
  ``validation_fraction``, ``contamination`` or ``missing_values`` reached
  ``np.isnan`` inside scikit-learn's check ("ufunc 'isnan' not supported").
  The count is passed as a Python int; a Fraction is refused by name.
- **NaT among numbers** (``skvae._schema._numbers_with_missing_markers``):
  an object column of numbers holding ``pd.NaT`` was typed as numbers with
  NaT missing, then refused by the encoding: "was fitted as numbers, but
  holds values that are not numbers", during the fit itself, naming no
  cell. NaT is a missing cell there, as in a column of text.

Found, not changed:

- An object column of numbers is always ``"gaussian"`` under
  ``likelihood="auto"``: the numeric rules (a few levels categorical, heaped
  values inflated, 50+ values quantile-normal) apply to numeric dtypes
  only, so ``[1, 2, 3]`` as int64 and as objects are modelled differently.
  A typing policy with benchmark evidence behind it, not a crash: left to
  its owners.
- A fit of one epoch (``max_iter=1``, each ``partial_fit``) whose step
  breaks the weights into finite nonsense (``learning_rate=1e6``) is kept:
  no later step scores them, and scoring the end weights would cost every
  ``partial_fit`` a pass over its rows.
- Under scikit-learn's ``skip_parameter_validation=True`` a bad parameter
  meets skvae's arithmetic unchecked (``latent_dim=0``: ZeroDivisionError;
  ``activation="bogus"``: KeyError), as the option documents for
  scikit-learn's own estimators.
- ``skvae.save`` refuses a ``np.longdouble`` parameter (``beta``) by name:
  float128's width differs between platforms, so no portable record exists.
- An object *array* holding ``pd.NaT`` is refused naming the cell (arrays
  take NaN, None and pd.NA for missing), where a DataFrame column now reads
  it as missing.
- A refused call restores NumPy's global generator under
  ``random_state=None`` (as ``sample`` already did): draws another thread
  made from it during that call are undone with it.
- ``VAEOutlierDetector``'s ``n_importance`` set after ``fit`` does not
  change its scores: the threshold ``offset_`` was set with the fitted
  value (as ``contamination``, sweep 15); it is not documented there.
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
