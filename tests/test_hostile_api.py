"""Hostile usage of the public API, by family: a clear error before any change, torch left as it was.

Each test throws one kind of misuse at the estimators and asserts the
contract: the error's type and a message naming the parameter or problem,
and for a refused call, an estimator exactly as before (unfitted stays
unfitted, fitted keeps its state) and torch's global settings untouched.
"""

import copy
import io
import json
import os
import pickle
import re

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

import skvae
from skvae import VAEImputer, VAEOutlierDetector, VAETransformer
from skvae import _memory, _persistence, _threads
from skvae._cli import main

from _equality import assert_same

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(latent_dim=2, hidden_layer_sizes=(4,), max_iter=2, random_state=0, batch_size=16, device="cpu")
FACES = [VAETransformer, VAEImputer, VAEOutlierDetector]


def _data(cls=VAETransformer, n_rows=20):
    X = np.random.RandomState(0).randn(n_rows, 3)
    if cls is VAEImputer:
        X[0, 1] = np.nan
    return X


def _torch_state():
    return (torch.get_num_threads(), torch.get_default_dtype(), torch.random.get_rng_state(),
            torch.is_grad_enabled(), torch.is_inference_mode_enabled(), torch.are_deterministic_algorithms_enabled(),
            torch.get_default_device())


def _assert_torch_state(before):
    after = _torch_state()
    assert after[:2] == before[:2] and after[3:] == before[3:]
    assert torch.equal(after[2], before[2])


def _refused_unfitted(estimator, X, error, match):
    before = _torch_state()
    with pytest.raises(error, match=match):
        estimator.fit(X)
    assert not hasattr(estimator, "n_features_in_")
    _assert_torch_state(before)


@pytest.fixture(scope="module")
def fitted():
    return VAETransformer(**TINY).fit(_data())


# ---------------------------------------------------------------- parameters


@pytest.mark.parametrize("cls", FACES)
@pytest.mark.parametrize("name", ["beta", "learning_rate", "tol", "n_jobs"])
def test_a_bool_is_not_a_number(cls, name):
    # True is an int and a float to Python; as a step size or a thread count it is a mistake.
    _refused_unfitted(cls(**{**TINY, name: True}), _data(cls), ValueError, f"'{name}' parameter")


@pytest.mark.parametrize("cls", FACES)
@pytest.mark.parametrize("sizes", [{4}, {4: 1}, np.array([[4, 3]])], ids=["set", "dict", "2-d"])
def test_hidden_layer_sizes_must_be_ordered_layers(cls, sizes):
    _refused_unfitted(cls(**{**TINY, "hidden_layer_sizes": sizes}), _data(cls), ValueError, "hidden_layer_sizes")


@pytest.mark.parametrize("cls", FACES)
def test_numpy_scalars_are_accepted(cls):
    estimator = cls(**{**TINY, "latent_dim": np.int64(2), "hidden_layer_sizes": (np.int32(4),),
                       "learning_rate": np.float32(1e-3), "batch_size": np.int64(8), "n_jobs": np.int64(1)})
    assert estimator.fit(_data(cls)).n_features_in_ == 3


@pytest.mark.parametrize("cls", FACES)
def test_n_importance_train_beyond_the_cap_is_refused(cls):
    _refused_unfitted(cls(**{**TINY, "n_importance_train": 10**9}), _data(cls), ValueError, "n_importance_train")


def test_a_training_step_beyond_memory_is_refused_before_allocating(monkeypatch):
    # 16 rows x 1000 samples of a small network: a few MB that this budget does not have.
    monkeypatch.setattr(_memory, "available_bytes", lambda device: 2**20)
    _refused_unfitted(VAETransformer(**{**TINY, "n_importance_train": 1000}), _data(), ValueError,
                      "n_importance_train=1000")


@pytest.mark.parametrize("cls", FACES)
def test_n_jobs_beyond_what_openmp_can_create_is_refused(cls):
    # torch.set_num_threads(10**6) aborts the whole process inside OpenMP: no exception to catch.
    n_jobs = 10**6
    assert n_jobs > _threads.MAX_THREADS_PER_CPU * (os.cpu_count() or 1)
    _refused_unfitted(cls(**{**TINY, "n_jobs": n_jobs}), _data(cls), ValueError, "n_jobs=1000000")


@pytest.mark.parametrize("likelihood, match", [
    ({0.0: "gaussian"}, r"columns \[0\.0\]"),
    # The key's repr: np.float64(1.0) under NumPy 2, 1.0 under numpy 1.23 (the oldest allowed; hostile sweep 33).
    ({np.float64(1.0): "categorical"}, rf"columns \[{re.escape(repr(np.float64(1.0)))}\]"),
    ({0: "gaussian", -3: "categorical"}, "names column 0 twice"),
    ({0: 3}, r"likelihood\[0\] must be one of"),
])
def test_likelihood_keys_name_each_column_once_and_by_its_own_sort(likelihood, match):
    _refused_unfitted(VAETransformer(**{**TINY, "likelihood": likelihood}), _data(), ValueError, match)


def test_likelihood_twice_for_one_dataframe_column_is_refused():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(_data(), columns=["a", "b", "c"])
    _refused_unfitted(VAETransformer(**{**TINY, "likelihood": {"a": "gaussian", 0: "lognormal"}}), frame,
                      ValueError, "names column 'a' twice")


# ---------------------------------------------------------------- call order


@pytest.mark.parametrize("cls", FACES)
def test_set_params_with_an_unknown_name_sets_nothing(cls):
    estimator = cls(**TINY)
    with pytest.raises(ValueError, match="Invalid parameter 'not_a_parameter'"):
        estimator.set_params(latent_dim=5, not_a_parameter=1)
    assert estimator.latent_dim == TINY["latent_dim"]


@pytest.mark.parametrize("cls", FACES)
def test_set_params_with_a_bad_value_fails_at_fit_and_keeps_the_fitted_model(cls):
    X = _data(cls)
    estimator = cls(**TINY).fit(X)
    state = copy.deepcopy(estimator.__getstate__())
    estimator.set_params(latent_dim=-3)
    with pytest.raises(ValueError, match="'latent_dim' parameter"):
        estimator.fit(X)
    state["latent_dim"] = -3
    assert_same(estimator.__getstate__(), state)


@pytest.mark.parametrize("name", ["encoder_", "n_iter_", "column_kinds_", "n_features_in_"])
def test_fitted_attributes_before_fit_are_not_fitted_errors(name):
    estimator = VAETransformer(**TINY)
    with pytest.raises(NotFittedError, match=f"{name} is set by fit"):
        getattr(estimator, name)
    # NotFittedError is an AttributeError: scikit-learn's hasattr checks still answer False.
    assert not hasattr(estimator, name)
    with pytest.raises(AttributeError, match="no attribute 'not_an_attribute_'"):
        estimator.not_an_attribute_  # noqa: B018


# ---------------------------------------------------------------- methods' own arguments


def _refused_call(estimator, call, error, match):
    state = copy.deepcopy(estimator.__getstate__())
    before = _torch_state()
    with pytest.raises(error, match=match):
        call()
    assert_same(estimator.__getstate__(), state)
    _assert_torch_state(before)


def test_sample_beyond_memory_is_refused_before_drawing(fitted):
    _refused_call(fitted, lambda: fitted.sample(10**12), ValueError, "n_samples=1000000000000")


@pytest.mark.parametrize("name", ["return_mean", "with_missing", "seen_pairs_only"])
def test_sample_flags_must_be_bools(fitted, name):
    # "no" is truthy: taken as a flag it would switch the option on.
    _refused_call(fitted, lambda: fitted.sample(2, **{name: "no"}), ValueError, f"{name} must be True or False")


@pytest.mark.parametrize("random_state", [np.random.default_rng(0), -1, "seed", 1.5, True])
def test_sample_random_state_is_named(fitted, random_state):
    _refused_call(fitted, lambda: fitted.sample(2, random_state=random_state), ValueError, "random_state must be")


def test_multiple_imputations_beyond_memory_leaves_the_generator_alone():
    imputer = VAEImputer(**TINY).fit(_data(VAEImputer))
    _refused_call(imputer, lambda: imputer.multiple_imputations(_data(VAEImputer), n_imputations=10**12),
                  ValueError, "n_imputations=1000000000000")


# ---------------------------------------------------------------- torch's global state


@pytest.fixture(params=["float64-default", "meta-default-device", "no-grad", "inference-mode"])
def user_torch_setting(request):
    """A torch setting the user may hold around a call, set and put back by the test."""
    if request.param == "float64-default":
        torch.set_default_dtype(torch.float64)
        yield
        torch.set_default_dtype(torch.float32)
    elif request.param == "meta-default-device":
        torch.set_default_device("meta")
        yield
        torch.set_default_device("cpu")
    elif request.param == "no-grad":
        with torch.no_grad():
            yield
    else:
        with torch.inference_mode():
            yield


@pytest.mark.parametrize("cls", FACES)
def test_calls_work_under_the_users_torch_settings_and_keep_them(cls, user_torch_setting):
    before = _torch_state()
    X = _data(cls)
    estimator = cls(**TINY).fit(X)
    restored = pickle.loads(pickle.dumps(estimator))
    buffer = io.BytesIO()
    skvae.save(estimator, buffer)
    loaded = skvae.load(io.BytesIO(buffer.getvalue()))
    for model in (estimator, restored, loaded):
        if cls is VAETransformer:
            model.partial_fit(X)
            assert model.transform(X).dtype == np.float64
            assert np.isfinite(model.score_samples(X, n_importance=2)).all()
            assert model.sample(2).shape == (2, 3)
        elif cls is VAEImputer:
            assert not np.isnan(model.transform(X)).any()
        else:
            assert model.predict(X).shape == (20,)
    _assert_torch_state(before)


def test_a_refused_fit_keeps_the_users_torch_settings():
    torch.set_default_dtype(torch.float64)
    try:
        with torch.no_grad():
            _refused_unfitted(VAETransformer(**TINY), np.full((4, 3), np.inf), ValueError, "infinite")
            assert not torch.is_grad_enabled()
        assert torch.get_default_dtype() == torch.float64
    finally:
        torch.set_default_dtype(torch.float32)


# ---------------------------------------------------------------- persistence


def test_save_to_a_folder_is_refused_before_writing(fitted, tmp_path):
    with pytest.raises(IsADirectoryError, match="needs a file path, not a folder"):
        skvae.save(fitted, tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert list(tmp_path.parent.glob(f".{tmp_path.name}.*.tmp")) == []


def test_save_into_a_missing_folder_names_it(fitted, tmp_path):
    with pytest.raises(FileNotFoundError, match="its folder does not exist") as caught:
        skvae.save(fitted, tmp_path / "missing" / "model.skvae")
    assert caught.value.filename == str(tmp_path / "missing")
    assert list(tmp_path.iterdir()) == []


def test_load_from_a_text_mode_file_is_a_type_error(fitted, tmp_path):
    path = tmp_path / "model.skvae"
    skvae.save(fitted, path)
    with open(path, encoding="utf-8") as text, pytest.raises(TypeError, match="binary file object"):
        skvae.load(text)


@pytest.mark.parametrize("cls, params", [
    (VAETransformer, {"device": "cpu:0"}),
    (VAETransformer, {"device": torch.device("cpu", 1)}),
    (VAETransformer, {"warm_start": np.False_, "early_stopping": np.True_, "verbose": np.False_}),
    (VAEImputer, {"add_indicator": np.True_, "sample_posterior": np.True_}),
    # Arithmetic on np.int8(8) overflows (fit failed); int16, uint64 and float16 scalars could not be saved.
    (VAETransformer, {"batch_size": np.int8(8), "latent_dim": np.int16(2), "max_iter": np.uint64(2),
                      "beta": np.float16(0.5)}),
    (VAEOutlierDetector, {"n_importance": np.int8(100), "contamination": np.float16(0.1)}),
], ids=["cpu:0", "cpu-index", "numpy-bools", "imputer-numpy-bools", "small-numpy-scalars", "detector-numpy-scalars"])
def test_accepted_parameters_save_pickle_and_copy(cls, params):
    # What fit accepts, save must write: "cpu:0" once became a device_ no state check knew.
    estimator = cls(**{**TINY, **params}).fit(_data(cls))
    assert (estimator if cls is VAETransformer else estimator.vae_).device_ == "cpu"
    buffer = io.BytesIO()
    skvae.save(estimator, buffer)
    loaded = skvae.load(io.BytesIO(buffer.getvalue()))
    for copied in (loaded, pickle.loads(pickle.dumps(estimator)), copy.deepcopy(estimator)):
        assert {name: copied.get_params()[name] for name in params} == params


def test_load_refuses_arrays_the_state_never_refers_to(fitted):
    # An added tensor with a recomputed digest: the digest is a checksum, not a signature.
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    buffer = io.BytesIO()
    skvae.save(fitted, buffer)
    arrays = safetensors_numpy.load(buffer.getvalue())
    metadata = json.loads(buffer.getvalue()[8:8 + int.from_bytes(buffer.getvalue()[:8], "little")])["__metadata__"]
    arrays["smuggled"] = np.zeros(3, dtype=np.float32)
    metadata["sha256"] = _persistence.file_digest(metadata, arrays)
    tampered = safetensors_numpy.save(arrays, metadata=metadata)
    with pytest.raises(ValueError, match=r"never refers to \(\['smuggled'\]\)"):
        skvae.load(io.BytesIO(tampered))


# ---------------------------------------------------------------- command line


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "table.csv"
    rows = np.random.RandomState(0).randn(30, 2)
    path.write_text("a,b\n" + "".join(f"{x:.4f},{y:.4f}\n" for x, y in rows), encoding="utf-8")
    return path


def _cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    status = main([str(arg) for arg in argv], stdout=out, stderr=err)
    return status, err.getvalue()


def test_cli_refuses_a_columns_likelihood_given_twice(table, tmp_path):
    status, err = _cli("fit", table, "--out", tmp_path / "m.skvae", "--max-iter", 1, "-q",
                       "--likelihood", "a=gaussian", "--likelihood", "a=lognormal")
    assert status == 1
    assert "--likelihood names column 'a' twice" in err and "Traceback" not in err
    assert not (tmp_path / "m.skvae").exists()


def test_cli_sample_beyond_memory_is_one_line(table, tmp_path):
    model = tmp_path / "m.skvae"
    assert _cli("fit", table, "--out", model, "--max-iter", 1, "-q", "--hidden-layer-sizes", 4,
                "--latent-dim", 2)[0] == 0
    status, err = _cli("sample", model, "-n", 10**12)
    assert status == 1
    # In the command line's terms (hostile sweep 16): the option, not the Python parameter.
    assert "(-n 1000000000000)" in err and "n_samples=" not in err and "Traceback" not in err
    assert err.count("\n") == 1
