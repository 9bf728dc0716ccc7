"""skvae.save / skvae.load of the imputer and the detector: exact round trips, every fitted attribute, refusals."""

import copy
import io
import json
import pickle
import struct
import warnings

import numpy as np
import pandas as pd
import pytest
import safetensors.numpy
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError

import skvae
from skvae import VAEImputer, VAEOutlierDetector, VAETransformer
from skvae._persistence import file_digest

from _equality import assert_same

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(latent_dim=2, hidden_layer_sizes=(8,), max_iter=3, batch_size=32, random_state=0)


def _array(n=80, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 1))
    X = np.hstack([z, 2 * z, -z, z ** 2]) + 0.1 * rng.normal(size=(n, 4))
    X[rng.random(X.shape) < 0.2] = np.nan
    return X


def _table(n=80, seed=0):
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({
        "size": np.round(rng.normal(10, 2, n), 2),
        "count": rng.poisson(3, n).astype("int64"),
        "colour": pd.Categorical(rng.choice(["red", "green", "blue"], n)),
        "label": rng.choice(["a", "b"], n).astype(object),
    })
    table.loc[::7, "size"] = np.nan
    table.loc[3::9, "colour"] = np.nan
    table.loc[5::11, "label"] = np.nan
    return table


def _nullable_table(n=80, seed=0):
    """pandas' nullable and extension dtypes, each with missing cells."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({
        "count": pd.array(rng.integers(0, 9, n), dtype="Int64"),
        "word": pd.array(rng.choice(["x", "y"], n), dtype="string"),
        "small": rng.normal(size=n).astype("float32"),
        "grade": pd.Categorical(rng.choice(["p", "q", "r"], n), ordered=True),
    })
    table.loc[::5, "count"] = pd.NA
    table.loc[2::7, "word"] = pd.NA
    table.loc[1::6, "small"] = np.nan
    table.loc[3::8, "grade"] = np.nan
    return table


def _saved(estimator):
    buffer = io.BytesIO()
    skvae.save(estimator, buffer)
    return buffer.getvalue()


def _loaded(data):
    return skvae.load(io.BytesIO(data))


def _open(data):
    (length,) = struct.unpack("<Q", data[:8])
    metadata = json.loads(data[8 : 8 + length])["__metadata__"]
    return metadata, json.loads(metadata["state"]), safetensors.numpy.load(data)


def _forged(data, change):
    """The file with change(metadata, state, arrays) applied and its digest recomputed, as a careful forger would."""
    metadata, state, arrays = _open(data)
    change(metadata, state, arrays)
    metadata["state"] = json.dumps(state)
    metadata["sha256"] = file_digest(metadata, arrays)
    return safetensors.numpy.save(arrays, metadata=metadata)


def _assert_same_attributes(original, restored):
    """Every attribute but the VAE equal; the VAE equal by its own state (weights, optimizer, schema)."""
    mine, theirs = dict(vars(original)), dict(vars(restored))
    vae_a, vae_b = mine.pop("vae_", None), theirs.pop("vae_", None)
    assert_same(mine, theirs, type(original).__name__)
    if vae_a is not None:
        assert_same(vae_a.__getstate__(), vae_b.__getstate__(), "vae_")


# ------------------------------------------------------------- round trips


IMPUTERS = {
    "array": (dict(), _array),
    "array-indicator-empty-kept": (dict(add_indicator=True, keep_empty_features=True), _array),
    "array-draws": (dict(sample_posterior=True), _array),
    "table-indicator": (dict(add_indicator=True), _table),
    "table-draws": (dict(sample_posterior=True, n_importance=7), _table),
    "nullable-table-draws-RandomState": (dict(sample_posterior=True), _nullable_table),
}


@pytest.mark.parametrize("case", sorted(IMPUTERS))
def test_imputer_round_trip_is_exact_and_keeps_every_attribute(case):
    params, make = IMPUTERS[case]
    X = make()
    if case.endswith("RandomState"):
        params = dict(params, random_state=np.random.RandomState(3))
    if case.startswith("array") and "empty" in case:
        X[:, 2] = np.nan  # a column empty at fit: dropped from the VAE, kept (zeros) in the output
    imputer = VAEImputer(**{**SMALL, **params}).fit(X)
    imputer.transform(X)  # the generator of successive draws has moved on before saving
    data = _saved(imputer)
    pickled = pickle.loads(pickle.dumps(imputer))
    restored = _loaded(data)

    assert type(restored) is VAEImputer
    _assert_same_attributes(imputer, restored)
    _assert_same_attributes(pickled, restored)
    # Successive draws continue as the unpickled copy's and the original's do, call after call.
    for _ in range(2):
        expected = pickled.transform(X)
        got = restored.transform(X)
        original = imputer.transform(X)
        if isinstance(X, pd.DataFrame):
            pd.testing.assert_frame_equal(got, expected)
            pd.testing.assert_frame_equal(got, original)
        else:
            np.testing.assert_array_equal(got, expected)
            np.testing.assert_array_equal(got, original)
    for a, b in zip(restored.multiple_imputations(X, 3), imputer.multiple_imputations(X, 3)):
        np.testing.assert_array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object))
    assert list(restored.get_feature_names_out()) == list(imputer.get_feature_names_out())


def test_successive_draws_differ_and_the_loaded_copy_continues_them():
    """The draws do move on (the test above would pass trivially if they did not)."""
    X = _array()
    imputer = VAEImputer(**SMALL, sample_posterior=True).fit(X)
    restored = _loaded(_saved(imputer))
    first, second = imputer.transform(X), imputer.transform(X)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(restored.transform(X), first)
    np.testing.assert_array_equal(restored.transform(X), second)


@pytest.mark.parametrize("make", [_array, _table, _nullable_table], ids=["array", "table", "nullable-table"])
@pytest.mark.parametrize("contamination", ["auto", 0.1])
def test_detector_round_trip_is_exact_and_keeps_every_attribute(make, contamination):
    X = make()
    detector = VAEOutlierDetector(**SMALL, contamination=contamination, n_importance=3).fit(X)
    restored = _loaded(_saved(detector))
    pickled = pickle.loads(pickle.dumps(detector))

    assert type(restored) is VAEOutlierDetector
    _assert_same_attributes(detector, restored)
    _assert_same_attributes(pickled, restored)
    for method in ("score_samples", "decision_function", "predict"):
        np.testing.assert_array_equal(getattr(restored, method)(X), getattr(detector, method)(X))
    columns_restored, columns = restored.score_columns(X), detector.score_columns(X)
    np.testing.assert_array_equal(np.asarray(columns_restored), np.asarray(columns))
    assert restored.offset_ == detector.offset_


@pytest.mark.parametrize("missing_values", [-1, "?", None, pd.NA])
def test_imputer_placeholders_survive_the_file(missing_values):
    table = _table().drop(columns="colour")
    if isinstance(missing_values, (int, str)):
        table = table.dropna()
        column = "count" if missing_values == -1 else "label"
        table.loc[table.index[::6], column] = missing_values
    imputer = VAEImputer(**SMALL, missing_values=missing_values).fit(table)
    restored = _loaded(_saved(imputer))
    assert restored.missing_values is missing_values or restored.missing_values == missing_values
    pd.testing.assert_frame_equal(restored.transform(table), imputer.transform(table))


def test_output_config_survives_the_file():
    X = _array()
    imputer = VAEImputer(**SMALL).set_output(transform="pandas").fit(X)
    restored = _loaded(_saved(imputer))
    pd.testing.assert_frame_equal(restored.transform(X), imputer.transform(X))


@pytest.mark.parametrize("face", [VAEImputer, VAEOutlierDetector])
def test_warm_start_after_load_continues_as_the_original_would(face):
    X = _array()
    original = face(**SMALL).fit(X)
    restored = _loaded(_saved(original))
    for estimator in (original, restored):
        estimator.set_params(warm_start=True, max_iter=2).fit(X)
    assert restored.n_iter_ == original.n_iter_ == SMALL["max_iter"] + 2
    _assert_same_attributes(original, restored)


@pytest.mark.parametrize("face", [VAEImputer, VAEOutlierDetector])
def test_unfitted_faces_are_not_saved_and_still_pickle(face, tmp_path):
    with pytest.raises(NotFittedError):
        skvae.save(face(), tmp_path / "model.skvae")
    assert not (tmp_path / "model.skvae").exists()
    copy.deepcopy(face(**SMALL)).fit(_array())


def test_pickles_of_skvae_0_2_0_imputers_still_load():
    """0.2.0 pickled the imputer's attributes as they were (objects, no generator of draws)."""
    X = _array()
    imputer = VAEImputer(**SMALL, add_indicator=True).fit(X)
    legacy = dict(vars(imputer))
    del legacy["_draws"]
    restored = VAEImputer.__new__(VAEImputer)
    restored.__setstate__(legacy)
    np.testing.assert_array_equal(restored.transform(X), imputer.transform(X))
    restored.set_params(sample_posterior=True).transform(X)


# ------------------------------------------------------------- refusals


@pytest.fixture(scope="module")
def imputer_file():
    return _saved(VAEImputer(**SMALL, add_indicator=True).fit(_table()))


@pytest.fixture(scope="module")
def detector_file():
    return _saved(VAEOutlierDetector(**SMALL).fit(_table()))


def _refused(data, match):
    torch_state, dtype = torch.get_rng_state(), torch.get_default_dtype()
    with pytest.raises(ValueError, match=match):
        _loaded(data)
    assert torch.equal(torch.get_rng_state(), torch_state) and torch.get_default_dtype() == dtype


def test_tampered_face_files_are_refused(imputer_file, detector_file):
    for data in (imputer_file, detector_file):
        _, _, arrays = _open(data)
        # The VAE's weights sit in the face's file under vae_.
        assert any(key.startswith("vae_.encoder_.") for key in arrays)
        # A flipped bit in the middle of the weights, in the metadata, and truncations.
        flipped = bytearray(data)
        # safetensors: an 8-byte header length, the JSON header, then the tensors' bytes.
        data_start = 8 + int.from_bytes(data[:8], "little")
        flipped[(data_start + len(flipped)) // 2] ^= 0x10
        _refused(bytes(flipped), "corrupted or was altered after saving")
        # The face's own n_iter_ in the state document (JSON inside the header's JSON, so escaped).
        edited = data.replace(b'"n_iter_\\": 3', b'"n_iter_\\": 4', 1)
        assert edited != data
        _refused(edited, "corrupted or was altered")
        for cut in (len(data) // 2, len(data) - 1, 9):
            _refused(data[:cut], "truncated or corrupt")


@pytest.mark.parametrize("change, message", [
    (lambda m, s, a: s.update(n_features_in_=5), "n_features_in_ is 5, but _empty_features has 4 entries"),
    (lambda m, s, a: s.update(_empty_features=[False, False, True, False]),
     "keeps 3 of its 4 columns .* but vae_ was fitted on 4"),
    (lambda m, s, a: s["vae_"].update(n_iter_=-1), "vae_: n_iter_ must be an int >= 0"),
    (lambda m, s, a: s["vae_"].pop("encoder_"), "vae_: the fitted state lacks \\['encoder_'\\]"),
    # A declared network of 10**9 units is refused by its shapes before anything is allocated.
    (lambda m, s, a: s["vae_"]["_network_spec"].update(hidden_layer_sizes=[10**9]),
     "vae_: encoder_\\['trunk.0.weight'\\] has shape \\(8, .*\\), but the network spec implies \\(1000000000, "),
    (lambda m, s, a: s["indicator_"].update(features=[0, 9]), "indicator_ marks columns \\[0, 9\\] of 4"),
    (lambda m, s, a: s["indicator_"].update(features=[2, 0]), "indicator_\\['features'\\] must be a sorted list"),
    (lambda m, s, a: s.update(feature_names_in_={"$str_array": [[4], ["size", "count", "label", "colour"]]}),
     "vae_'s column names differ"),
    (lambda m, s, a: s.pop("_empty_features"), "the fitted state lacks \\['_empty_features'\\]"),
    (lambda m, s, a: s.update(missing_values=[1]), "'missing_values' parameter of VAEImputer must be"),
    (lambda m, s, a: s.update(mystery=1), "unknown state keys \\['mystery'\\]"),
    (lambda m, s, a: s.update(transform=1), "would shadow the attribute VAEImputer.transform"),
])
def test_inconsistent_imputer_states_are_refused_with_the_field_named(imputer_file, change, message):
    _refused(_forged(imputer_file, change), "does not describe a valid VAEImputer: .*" + message)


@pytest.mark.parametrize("change, message", [
    (lambda m, s, a: s.update(n_features_in_=3), "n_features_in_ is 3, but vae_ was fitted on 4"),
    (lambda m, s, a: s.update(typical_column_log_likelihood_={"$array": "vae_.loss_curve_"}),
     "refers to an array"),
    (lambda m, s, a: s.update(offset_={"$float": "nan"}), "offset_ must be a finite float"),
    (lambda m, s, a: s.update(_n_importance=0), "_n_importance must be an int in \\[1, 100000\\]"),
    (lambda m, s, a: s.pop("feature_names_in_"), "feature_names_in_ differs from vae_.feature_names_in_"),
    (lambda m, s, a: s.update(vae_={"latent_dim": 2}), "vae_: the state lacks the parameters"),
    (lambda m, s, a: s.update(vae_=[1, 2]), "vae_ must be the state of a fitted VAETransformer"),
])
def test_inconsistent_detector_states_are_refused_with_the_field_named(detector_file, change, message):
    _refused(_forged(detector_file, change), message)


def test_typical_log_likelihoods_of_the_wrong_shape_are_refused(detector_file):
    def change(metadata, state, arrays):
        key = state["typical_column_log_likelihood_"]["$array"]
        arrays[key] = arrays[key][:3].copy()

    _refused(_forged(detector_file, change),
             "typical_column_log_likelihood_ has shape \\(3,\\), but n_features_in_ is 4")


def test_a_file_claiming_another_class_is_refused(imputer_file, detector_file):
    """The class comes from the digested metadata; a state of another class does not pass for it."""
    for data, claimed in ((imputer_file, "VAEOutlierDetector"), (detector_file, "VAEImputer"),
                          (imputer_file, "VAETransformer")):
        _refused(_forged(data, lambda m, s, a: m.update(estimator=claimed)),
                 f"does not describe a valid {claimed}: unknown state keys")
    # The VAE of a face is a VAETransformer's state, and loads as one once taken out.
    metadata, state, arrays = _open(imputer_file)
    vae_arrays = {key[len("vae_."):]: value for key, value in arrays.items() if key.startswith("vae_.")}

    def rename(value):
        if isinstance(value, dict):
            return {k: (v[len("vae_."):] if k in ("$tensor", "$array") else rename(v)) for k, v in value.items()}
        return [rename(v) for v in value] if isinstance(value, list) else value

    metadata = dict(metadata, estimator="VAETransformer", state=json.dumps(rename(state["vae_"])))
    metadata["sha256"] = file_digest(metadata, vae_arrays)
    vae = _loaded(safetensors.numpy.save(vae_arrays, metadata=metadata))
    assert type(vae) is VAETransformer


class _MyImputer(VAEImputer):
    pass


def test_face_subclasses_are_refused_by_save():
    estimator = _MyImputer(**SMALL).fit(_array())
    with pytest.raises(TypeError, match="got .*_MyImputer, a subclass, which load could not rebuild"):
        skvae.save(estimator, io.BytesIO())


def test_saving_does_not_change_the_face():
    X = _array()
    imputer = VAEImputer(**SMALL, sample_posterior=True).fit(X)
    before = pickle.loads(pickle.dumps(imputer))
    _saved(imputer)
    _assert_same_attributes(before, imputer)


# ------------------------------------------------------------- devices


@pytest.mark.parametrize("face", [VAEImputer, VAEOutlierDetector])
@pytest.mark.parametrize("round_trip", ["pickle", "skvae"])
def test_face_fitted_on_gpu_loads_on_cpu(face, round_trip, monkeypatch):
    X = _array()
    estimator = face(**SMALL, device="cpu").fit(X)
    output = "transform" if face is VAEImputer else "score_samples"
    expected = getattr(estimator, output)(X)
    estimator.vae_.device_ = "cuda"  # what a GPU fit records; the tensors are written from the CPU either way
    with warnings.catch_warnings():
        # Saving checks the VAE's state without rebuilding its networks (which would warn here).
        warnings.simplefilter("error")
        data = pickle.dumps(estimator) if round_trip == "pickle" else _saved(estimator)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="fitted on 'cuda', which is not available here; it is loaded on the CPU"):
        restored = pickle.loads(data) if round_trip == "pickle" else _loaded(data)
    assert restored.vae_.device_ == "cpu"
    np.testing.assert_array_equal(getattr(restored, output)(X), expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("face", [VAEImputer, VAEOutlierDetector])
def test_real_gpu_faces_round_trip(face):
    X = _table()
    original = face(**{**SMALL, "device": "cuda"}).fit(X)
    restored = _loaded(_saved(original))
    assert restored.vae_.device_ == original.vae_.device_
    _assert_same_attributes(original, restored)
    output = "transform" if face is VAEImputer else "score_samples"
    expected, got = getattr(original, output)(X), getattr(restored, output)(X)
    np.testing.assert_array_equal(np.asarray(got, dtype=object), np.asarray(expected, dtype=object))


# ------------------------------------------------------------- fuzzing


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 10**6),
       flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), min_size=1, max_size=3))
def test_damaged_face_files_give_a_value_error_or_the_same_face(imputer_file, detector_file, cut, flips):
    """Truncations always, byte flips unless they land in the header's JSON whitespace (then it loads unchanged)."""
    for data in (imputer_file, detector_file):
        with pytest.raises(ValueError):
            _loaded(data[: cut % len(data)])
        damaged = bytearray(data)
        for position, mask in flips:
            damaged[position % len(damaged)] ^= mask
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            try:
                restored = _loaded(bytes(damaged))
            except ValueError:
                continue
        _assert_same_attributes(_loaded(data), restored)
