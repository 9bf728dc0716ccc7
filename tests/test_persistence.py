"""Persistence: skvae.save/load (no unpickling, integrity checks), pickle and joblib."""

import copy
import io
import json
import os
import pickle
import re
import struct
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import safetensors
import safetensors.numpy
import torch
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import skvae
from skvae import VAETransformer
from skvae._persistence import DIGESTED_FIELDS, FORMAT_VERSION, file_digest

from _equality import assert_same

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(latent_dim=2, hidden_layer_sizes=(6, 4), max_iter=3, batch_size=16)


def _data(n_rows=40, n_features=5, seed=0):
    return np.random.RandomState(seed).randn(n_rows, n_features)


def _fitted(**params):
    return VAETransformer(**{**SMALL, "random_state": 0, **params}).fit(_data())


def _assert_same_outputs(original, restored, X):
    for dtype in (np.float64, np.float32):
        Xd = X.astype(dtype)
        np.testing.assert_array_equal(restored.transform(Xd), original.transform(Xd))
        np.testing.assert_array_equal(restored.score_samples(Xd), original.score_samples(Xd))
        np.testing.assert_array_equal(
            restored.score_samples(Xd, n_importance=4), original.score_samples(Xd, n_importance=4)
        )
        Z = original.transform(Xd)
        np.testing.assert_array_equal(restored.inverse_transform(Z), original.inverse_transform(Z))
    np.testing.assert_array_equal(restored.sample(7, random_state=3), original.sample(7, random_state=3))
    np.testing.assert_array_equal(
        restored.sample(7, random_state=3, return_mean=True), original.sample(7, random_state=3, return_mean=True)
    )
    assert restored.score(X) == original.score(X)


def _save_to_bytes(estimator):
    buffer = io.BytesIO()
    skvae.save(estimator, buffer)
    return buffer.getvalue()


def _open(data):
    """(metadata, state document, arrays) of a skvae file's bytes."""
    (length,) = struct.unpack("<Q", data[:8])
    metadata = json.loads(data[8 : 8 + length])["__metadata__"]
    return metadata, json.loads(metadata["state"]), safetensors.numpy.load(data)


def _forge(metadata, state, arrays, redigest=True):
    """A skvae file from its parts; with `redigest`, the digest matches, as a careful forger's would."""
    metadata = dict(metadata, state=json.dumps(state))
    if redigest and "sha256" in metadata and all(key in metadata for key in DIGESTED_FIELDS):
        metadata["sha256"] = file_digest(metadata, arrays)
    return safetensors.numpy.save(arrays, metadata=metadata)


def _edit(data, change):
    """The file with change(metadata, state, arrays) applied in place, digest recomputed."""
    metadata, state, arrays = _open(data)
    change(metadata, state, arrays)
    return _forge(metadata, state, arrays)


# ------------------------------------------------------------- round trips


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"likelihood": "bernoulli", "activation": "tanh"},
        {"early_stopping": True, "validation_fraction": 0.25, "random_state": np.random.RandomState(1)},
        {"device": torch.device("cpu"), "hidden_layer_sizes": [5], "beta": 0.5},
    ],
    ids=["gaussian", "bernoulli", "early-stopping-RandomState", "device-object-list-sizes"],
)
def test_save_load_round_trip_is_exact(tmp_path, params):
    X = _data()
    if params.get("likelihood") == "bernoulli":
        X = (X > 0).astype(float)
    original = VAETransformer(**{**SMALL, "random_state": 0, **params}).fit(X)
    path = tmp_path / "model.skvae"
    skvae.save(original, path)
    restored = skvae.load(path)

    assert type(restored) is VAETransformer
    assert_same(restored.get_params(), original.get_params(), "params")
    assert_same(restored.__getstate__(), original.__getstate__())
    _assert_same_outputs(original, restored, X)


def test_round_trip_keeps_feature_names_and_output_config():
    X = pd.DataFrame(_data(), columns=[f"f{i}" for i in range(5)])
    original = VAETransformer(**SMALL, random_state=0).fit(X).set_output(transform="pandas")
    restored = skvae.load(io.BytesIO(_save_to_bytes(original)))
    np.testing.assert_array_equal(restored.feature_names_in_, original.feature_names_in_)
    assert restored.feature_names_in_.dtype == object
    pd.testing.assert_frame_equal(restored.transform(X), original.transform(X))
    with pytest.warns(UserWarning, match="feature names"):
        restored.transform(X.to_numpy())


def test_partial_fit_after_load_continues_exactly():
    X = _data()
    original = _fitted()
    restored = skvae.load(io.BytesIO(_save_to_bytes(original)))
    original.partial_fit(X)
    restored.partial_fit(X)
    assert restored.n_iter_ == original.n_iter_ == SMALL["max_iter"] + 1
    assert len(restored.loss_curve_) == SMALL["max_iter"] + 1
    # The Adam moments were restored too, so the next step is the same step.
    assert_same(restored.__getstate__(), original.__getstate__())


def test_warm_start_fit_after_load_grows_history():
    X = _data()
    restored = skvae.load(io.BytesIO(_save_to_bytes(_fitted())))
    restored.set_params(warm_start=True, max_iter=2).fit(X)
    assert restored.n_iter_ == SMALL["max_iter"] + 2
    assert np.all(np.isfinite(restored.loss_curve_))


def test_saving_an_existing_path_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "model.skvae"
    skvae.save(_fitted(), path)
    before = path.read_bytes()

    def fail_midway(file, data):
        file.write(data[:100])
        raise KeyboardInterrupt

    monkeypatch.setattr("skvae._persistence._write", fail_midway)
    with pytest.raises(KeyboardInterrupt):
        skvae.save(_fitted(random_state=1), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.skvae"]


def test_saved_file_is_readable_by_others(tmp_path):
    previous = os.umask(0o022)
    try:
        skvae.save(_fitted(), tmp_path / "model.skvae")
    finally:
        os.umask(previous)
    assert (tmp_path / "model.skvae").stat().st_mode & 0o777 == 0o644


def test_file_is_a_plain_safetensors_file(tmp_path):
    """Any safetensors tool opens it: named numeric tensors, string metadata, no code."""
    estimator = _fitted()
    skvae.save(estimator, tmp_path / "model.skvae")
    with safetensors.safe_open(tmp_path / "model.skvae", framework="np") as file:
        metadata = file.metadata()
        weight = file.get_tensor("encoder_.mean_head.weight")
        assert all(file.get_tensor(key).dtype.kind in "biuf" for key in file.keys())
    assert metadata["format"] == "skvae"
    assert metadata["format_version"] == str(FORMAT_VERSION) == "2"
    assert metadata["skvae_version"] == skvae.__version__
    assert metadata["estimator"] == "VAETransformer"
    assert json.loads(metadata["state"])["latent_dim"] == SMALL["latent_dim"]
    np.testing.assert_array_equal(weight, estimator.encoder_.mean_head.weight.detach().cpu().numpy())


# ------------------------------------------------------------- refusals


def test_unfitted_estimator_is_not_saved(tmp_path):
    with pytest.raises(NotFittedError):
        skvae.save(VAETransformer(), tmp_path / "model.skvae")
    assert not (tmp_path / "model.skvae").exists()


def test_only_vae_transformers_are_saved(tmp_path):
    from sklearn.decomposition import PCA

    with pytest.raises(TypeError, match="expects one of skvae's estimators \\(VAETransformer, VAEImputer, "
                       "VAEOutlierDetector\\); got PCA"):
        skvae.save(PCA().fit(_data()), tmp_path / "model.skvae")


def test_state_the_format_cannot_hold_is_a_type_error(tmp_path):
    estimator = _fitted()
    estimator.set_params(random_state=np.random.default_rng(0))
    with pytest.raises(TypeError, match="cannot store random_state of type Generator"):
        skvae.save(estimator, tmp_path / "model.skvae")
    assert not (tmp_path / "model.skvae").exists()


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        skvae.load(tmp_path / "nowhere.skvae")


class _WritesAFile:
    """Unpickling this creates `path`: stands for any code a pickle can run."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_hostile_pickle_is_refused_without_running_it(tmp_path):
    control, target = tmp_path / "control", tmp_path / "pwned"
    pickle.loads(pickle.dumps(_WritesAFile(control)))
    assert control.exists(), "the payload must be live, or this test proves nothing"

    hostile = tmp_path / "model.pkl"
    hostile.write_bytes(pickle.dumps(_WritesAFile(target)))
    with pytest.raises(ValueError, match="is a pickle .*pickle and joblib files are refused"):
        skvae.load(hostile)
    joblib.dump(_WritesAFile(target), tmp_path / "model.joblib")
    with pytest.raises(ValueError, match="is a pickle .*joblib"):
        skvae.load(tmp_path / "model.joblib")
    assert not target.exists()


def test_tensor_of_a_dtype_skvae_never_writes_is_refused():
    def change(metadata, state, arrays):
        key = state["encoder_"]["mean_head.weight"]["$tensor"]
        arrays[key] = arrays[key].astype(np.float16)

    with pytest.raises(ValueError, match="tensor 'encoder_.mean_head.weight' has dtype F16"):
        skvae.load(io.BytesIO(_edit(_save_to_bytes(_fitted()), change)))


def test_torch_save_file_is_refused_as_foreign(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"weights": torch.zeros(3)}, path)  # a zip archive
    with pytest.raises(ValueError, match="not a skvae model file: it is a zip archive.*format_version 1"):
        skvae.load(path)


def test_not_a_model_file_is_refused(tmp_path):
    path = tmp_path / "model.skvae"
    path.write_bytes(b"just some bytes, not a model")
    with pytest.raises(ValueError, match="not a skvae model file: it is not a safetensors file"):
        skvae.load(path)


def test_other_safetensors_file_is_refused_as_foreign():
    data = safetensors.numpy.save({"weight": np.zeros(3, np.float32)}, metadata={"format": "pt"})
    with pytest.raises(ValueError, match="a safetensors file but not a skvae model file: its format is 'pt'"):
        skvae.load(io.BytesIO(data))


def test_truncated_file_is_refused(tmp_path):
    data = _save_to_bytes(_fitted())
    path = tmp_path / "model.skvae"
    for cut in (4, len(data) // 2, len(data) - 10):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="not a safetensors file, or it is truncated or corrupt"):
            skvae.load(path)


def test_flipped_weight_byte_is_caught_by_the_digest():
    data = bytearray(_save_to_bytes(_fitted()))
    data[-3] ^= 0x10  # in the last tensor's bytes
    with pytest.raises(ValueError, match="corrupted or was altered after saving: its SHA-256 digest"):
        skvae.load(io.BytesIO(bytes(data)))


def test_altered_array_value_is_caught_by_the_digest():
    data = _save_to_bytes(_fitted())
    metadata, state, arrays = _open(data)
    key = state["encoder_"]["mean_head.weight"]["$tensor"]
    arrays[key] = arrays[key].copy()
    arrays[key][0, 0] += 1.0
    with pytest.raises(ValueError, match="altered after saving: its SHA-256 digest"):
        skvae.load(io.BytesIO(_forge(metadata, state, arrays, redigest=False)))
    # The rewritten, unaltered file loads: the digest, not the rewriting, is what fails.
    skvae.load(io.BytesIO(_forge(*_open(data), redigest=False)))


def _set(path, value):
    def change(metadata, state, arrays):
        *parents, last = path
        target = state
        for key in parents:
            target = target[key]
        if value is _POP:
            del target[last]
        else:
            target[last] = value

    return change


def _set_metadata(key, value):
    def change(metadata, state, arrays):
        if value is _POP:
            del metadata[key]
        else:
            metadata[key] = value

    return change


_POP = object()


@pytest.mark.parametrize(
    "change, message",
    [
        (_set_metadata("format", "joblib"), "its format is 'joblib', expected 'skvae'"),
        (_set_metadata("format", _POP), r"metadata lacks \['format'\]"),
        (_set_metadata("format_version", "3"), "format_version 3.*Upgrade skvae"),
        (_set_metadata("format_version", "1"), "format_version 1 .*reads format_version 2 only"),
        (_set_metadata("format_version", "two"), "format_version is 'two', expected a positive integer"),
        (_set_metadata("estimator", "PCA"), "holds a 'PCA'"),
        (_set_metadata("sha256", _POP), r"metadata lacks \['sha256'\]"),
        (_set(["n_layers"], 3), r"unknown state keys \['n_layers'\]"),
        (_set(["latent_dim"], 0), "does not describe a valid VAETransformer.*'latent_dim' parameter"),
        (_set(["decoder_"], _POP), r"fitted state lacks \['decoder_'\]"),
        (_set(["_seed"], {"$pickle": "x"}), "unknown value tag '\\$pickle'"),
        (_set(["encoder_", "trunk.0.weight"], {"$tensor": "a999"}), "refers to an array 'a999'"),
        (_set(["_network_spec", "latent_dim"], 3), "(?s)does not describe a valid VAETransformer.*network spec implies"),
    ],
    ids=["foreign-format", "no-format", "newer-version", "older-version", "bad-version", "other-estimator",
         "no-digest", "unknown-param", "invalid-param", "missing-network", "unknown-tag", "missing-array",
         "wrong-shapes"],
)
def test_bad_metadata_is_refused_with_the_reason(change, message):
    data = _edit(_save_to_bytes(_fitted()), change)
    with pytest.raises(ValueError, match=message):
        skvae.load(io.BytesIO(data))


def test_state_that_is_not_json_is_refused():
    metadata, _, arrays = _open(_save_to_bytes(_fitted()))
    metadata = dict(metadata, state="{not json")
    metadata["sha256"] = file_digest(metadata, arrays)
    with pytest.raises(ValueError, match="its state is not valid JSON"):
        skvae.load(io.BytesIO(safetensors.numpy.save(arrays, metadata=metadata)))


# ---------------------------------------------------- pickle, joblib, devices


def test_pickle_round_trip_is_exact():
    X = _data()
    original = _fitted()
    restored = pickle.loads(pickle.dumps(original))
    assert_same(restored.__getstate__(), original.__getstate__())
    _assert_same_outputs(original, restored, X)


def test_joblib_round_trip_is_exact(tmp_path):
    X = (_data() > 0).astype(float)
    original = VAETransformer(**SMALL, likelihood="bernoulli", random_state=0).fit(X)
    joblib.dump(original, tmp_path / "model.joblib")
    restored = joblib.load(tmp_path / "model.joblib")
    assert_same(restored.__getstate__(), original.__getstate__())
    _assert_same_outputs(original, restored, X)


def test_unfitted_estimator_pickles():
    estimator = VAETransformer(latent_dim=3)
    restored = pickle.loads(pickle.dumps(estimator))
    assert restored.get_params() == estimator.get_params()
    with pytest.raises(NotFittedError):
        restored.transform(_data())


def _pretend_fitted_on_gpu():
    estimator = _fitted()
    expected = estimator.transform(_data())
    estimator.device_ = "cuda"
    return estimator, expected


@pytest.mark.parametrize("round_trip", ["pickle", "skvae"])
def test_model_fitted_on_gpu_loads_on_cpu(monkeypatch, round_trip):
    estimator, expected = _pretend_fitted_on_gpu()
    data = pickle.dumps(estimator) if round_trip == "pickle" else _save_to_bytes(estimator)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="fitted on 'cuda', which is not available here; it is loaded on the CPU"):
        restored = pickle.loads(data) if round_trip == "pickle" else skvae.load(io.BytesIO(data))
    assert restored.device_ == "cpu"
    assert restored.encoder_.mean_head.weight.device.type == "cpu"
    np.testing.assert_array_equal(restored.transform(_data()), expected)
    restored.partial_fit(_data())  # and it trains on the CPU
    assert restored.optimizer_.state_dict()["state"][0]["exp_avg"].device.type == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_real_gpu_model_round_trips():
    X = _data()
    original = _fitted(device="cuda")
    restored = skvae.load(io.BytesIO(_save_to_bytes(original)))
    assert restored.device_ == original.device_
    np.testing.assert_array_equal(restored.transform(X), original.transform(X))


def test_loading_emits_no_warning_on_cpu():
    data = _save_to_bytes(_fitted())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        skvae.load(io.BytesIO(data))


# ---------------------------------------------------- mixed tables with holes


def _penguins():
    """palmerpenguins with more kinds: text, a pandas category, floats and text with holes,
    a year modelled as categories, a nullable Int64 count with pd.NA, booleans."""
    from palmerpenguins import load_penguins

    frame = load_penguins()
    rng = np.random.default_rng(0)
    frame["island"] = frame["island"].astype("category")
    clutch = pd.array(rng.poisson(2, len(frame)) * rng.integers(0, 3, len(frame)), dtype="Int64")
    clutch[::17] = pd.NA
    frame["clutch"] = clutch
    frame["tagged"] = rng.random(len(frame)) < 0.3
    return frame


@pytest.fixture(scope="module")
def penguins():
    return _penguins()


@pytest.fixture(scope="module")
def penguin_model(penguins):
    return VAETransformer(
        **SMALL, random_state=0, likelihood={"year": "categorical", "clutch": "negative_binomial"},
        handle_unknown="ignore"
    ).fit(penguins)


def _assert_same_table_outputs(original, restored, frame):
    np.testing.assert_array_equal(restored.transform(frame), original.transform(frame))
    np.testing.assert_array_equal(restored.score_samples(frame), original.score_samples(frame))
    np.testing.assert_array_equal(
        restored.score_samples(frame, n_importance=4), original.score_samples(frame, n_importance=4)
    )
    Z = original.transform(frame)
    pd.testing.assert_frame_equal(restored.inverse_transform(Z), original.inverse_transform(Z))
    for return_mean in (False, True):
        pd.testing.assert_frame_equal(
            restored.sample(9, random_state=3, return_mean=return_mean),
            original.sample(9, random_state=3, return_mean=return_mean),
        )
    np.testing.assert_array_equal(
        restored._column_log_likelihood(frame.head(20)), original._column_log_likelihood(frame.head(20))
    )


@pytest.mark.parametrize("round_trip", ["skvae", "pickle"])
def test_mixed_table_with_missing_cells_round_trips(penguins, penguin_model, round_trip):
    original = penguin_model
    assert penguins.isna().any().sum() >= 5, "the table must have holes, or this test proves less"
    data = _save_to_bytes(original) if round_trip == "skvae" else pickle.dumps(original)
    restored = skvae.load(io.BytesIO(data)) if round_trip == "skvae" else pickle.loads(data)

    assert_same(restored.get_params(), original.get_params(), "params")
    assert restored.get_params()["likelihood"] == {"year": "categorical", "clutch": "negative_binomial"}
    assert_same(restored.__getstate__(), original.__getstate__())
    assert restored._schema.to_dict() == original._schema.to_dict()
    assert restored.column_kinds_ == original.column_kinds_
    assert set(restored.column_kinds_.values()) == {"categorical", "quantile_normal", "negative_binomial"}
    _assert_same_table_outputs(original, restored, penguins)
    # The generated table has the training table's dtypes, categories included.
    pd.testing.assert_series_equal(restored.sample(5).dtypes, penguins.dtypes)
    # And it goes on learning from where it was.
    restored.partial_fit(penguins)
    original_copy = pickle.loads(pickle.dumps(original)).partial_fit(penguins)
    assert_same(restored.__getstate__(), original_copy.__getstate__())


@pytest.mark.parametrize(
    "likelihood",
    [{1: "poisson", 2: "categorical"}, {"$odd": "gaussian"}, "lognormal"],
    ids=["int-keys", "dollar-key", "one-kind"],
)
def test_likelihood_parameter_survives_the_file(likelihood):
    """int keys and keys that look like the format's tags are not plain JSON objects: both come back."""
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.lognormal(size=60), rng.poisson(3, 60), rng.integers(1, 4, 60)]).astype(float)
    if likelihood == {"$odd": "gaussian"}:
        X = pd.DataFrame(X, columns=["$odd", "b", "c"])
    original = VAETransformer(**SMALL, random_state=0, likelihood=likelihood).fit(X)
    restored = skvae.load(io.BytesIO(_save_to_bytes(original)))
    assert restored.likelihood == likelihood and type(restored.likelihood) is type(likelihood)
    assert restored.column_kinds_ == original.column_kinds_
    np.testing.assert_array_equal(restored.score_samples(X), original.score_samples(X))


def _schema_column(column_name, /, **changes):
    """Edit the schema column called `column_name` in a file's state document."""

    def change(metadata, state, arrays):
        (column,) = [c for c in state["_schema"]["columns"] if c["name"] == column_name]
        for key, value in changes.items():
            if value is _POP:
                del column[key]
            else:
                column[key] = value(column[key]) if callable(value) else value

    return change


@pytest.mark.parametrize(
    "change, message",
    [
        (_schema_column("sex", categories=["female", {"$float": "nan"}]), r"\['categories'\]\[1\] must be a string, bool or number other than NaN; got nan"),
        (_schema_column("sex", categories=["male", "male"]), r"\['categories'\] holds a category twice"),
        (_schema_column("year", categories=[2007, 2007.0, 2009]), "holds a category twice"),
        (_schema_column("species", categories=lambda c: c[:2]), r"_network_spec\['n_inputs'\] is 23, but the column schema implies 22"),
        (_schema_column("species", categories=lambda c: c + ["Emperor"]), r"_network_spec\['n_inputs'\] is 23, but the column schema implies 24"),
        (_schema_column("species", categories=[]), r"\['categories'\] must be a list of 1 to 1000 categories"),
        (_schema_column("species", categories={"$tuple": ["Adelie"]}), r"\['categories'\] must be a list"),
        (_schema_column("species", categories=[["Adelie"], "Gentoo"]), r"\['categories'\]\[0\] must be a string, bool or number"),
        (_schema_column("island", ordered="yes"), r"\['ordered'\] must be a bool; got 'yes'"),
        (_schema_column("clutch", input_scale={"$float": "inf"}), r"\['input_scale'\] must be a positive finite float; got inf"),
        (_schema_column("clutch", input_shift={"$float": "nan"}), r"\['input_shift'\] must be a finite float; got nan"),
        (_schema_column("body_mass_g", knots=lambda k: [k[0], {"$float": "nan"}, *k[2:]]),
         r"\['knots'\] must be a list of finite floats"),
        (_schema_column("body_mass_g", knot_scores=lambda u: u[::-1]), "knots or knot scores that do not increase"),
        (_schema_column("body_mass_g", knot_scores=lambda u: u[:-1]), "knots and .* knot scores: 2 to 101 each"),
        (_schema_column("clutch", kind="poisson"), r"_network_spec\['n_free'\] is 1, but the column schema implies 0"),
        (_schema_column("sex", name="gender"), "column names differ from feature_names_in_"),
        (_set(["_schema", "mask_columns"], [2, 3, 4, 5]), r"_network_spec\['n_inputs'\] is 23, but the column schema implies 22"),
        (_set(["_schema", "is_dataframe"], 1), r"_schema\['is_dataframe'\] must be a bool; got 1"),
        (_set(["_schema", "columns"], {"$items": []}), r"_schema\['columns'\] must be a non-empty list"),
        (_set(["_schema"], _POP), r"fitted state lacks \['_schema'\]"),
    ],
    ids=["category-nan", "category-twice", "category-equal-numbers", "category-dropped", "category-added",
         "no-categories", "categories-tuple", "category-list", "ordered-string", "count-scale-inf",
         "count-shift-nan", "knots-nan", "knot-scores-decreasing", "knots-unequal", "kind-vs-free-weights", "renamed-column",
         "mask-dropped", "is-dataframe-int", "columns-not-a-list", "no-schema"],
)
def test_corrupted_schema_in_the_file_is_refused(penguin_model, change, message):
    data = _edit(_save_to_bytes(penguin_model), change)
    with pytest.raises(ValueError, match="does not describe a valid VAETransformer: .*" + message):
        skvae.load(io.BytesIO(data))


def test_unedited_penguin_file_loads(penguin_model, penguins):
    """The corruptions above are each one change away from a file that loads."""
    restored = skvae.load(io.BytesIO(_edit(_save_to_bytes(penguin_model), lambda *parts: None)))
    np.testing.assert_array_equal(restored.transform(penguins), penguin_model.transform(penguins))


# ------------------------------------------------ damaged files, generated


def _damaged_copies(data, seed=0):
    """Truncations at every length class and single-bit flips across the header and the arrays."""
    (length,) = struct.unpack("<Q", data[:8])
    cuts = sorted({1, 7, 8, 9, 8 + length // 2, 8 + length - 1, 8 + length, 8 + length + 1, len(data) // 2,
                   len(data) - 1})
    for cut in cuts:
        yield f"truncated at {cut}", data[:cut]
    rng = np.random.RandomState(seed)
    positions = list(range(8)) + list(rng.randint(8, 8 + length, size=40)) + list(rng.randint(8 + length, len(data), size=20))
    for position in positions:
        flipped = bytearray(data)
        flipped[position] ^= 1 << int(rng.randint(8))
        yield f"bit flip at {position}", bytes(flipped)


@pytest.mark.slow
def test_damaged_files_are_called_damaged_never_a_pickle_or_a_newer_format():
    data = _save_to_bytes(_fitted())
    refused = 0
    for what, damaged in _damaged_copies(data):
        try:
            skvae.load(io.BytesIO(damaged))
        except ValueError as error:
            message = str(error)
            assert "pickle" not in message and "Upgrade" not in message and "written in skvae format" not in message, (what, message)
            assert re.search(r"truncated|corrupt|altered|not valid JSON|not a safetensors", message), (what, message)
            refused += 1
        # A flip that JSON and the digest cannot see (none expected) would load: count it as not refused.
    assert refused >= 0.9 * (len(list(_damaged_copies(data))))


def test_a_file_starting_with_the_pickle_byte_is_not_called_a_pickle_when_damaged():
    data = bytearray(_save_to_bytes(_fitted()))
    # Make the header-length's low byte 0x80 by padding the header, as 1 saved file in 32 is.
    (length,) = struct.unpack("<Q", bytes(data[:8]))
    header = bytes(data[8 : 8 + length])
    padded = header + b" " * ((0x80 - (length & 0xFF)) % 256)
    rebuilt = struct.pack("<Q", len(padded)) + padded + bytes(data[8 + length :])
    assert rebuilt[0] == 0x80
    skvae.load(io.BytesIO(rebuilt))  # the padded file is a valid file
    for cut in (2, 9, len(rebuilt) // 2, len(rebuilt) - 1):
        with pytest.raises(ValueError, match="truncated or corrupt") as error:
            skvae.load(io.BytesIO(rebuilt[:cut]))
        assert "pickle" not in str(error.value)


def test_a_flipped_format_version_is_corruption_not_a_newer_format():
    data = _save_to_bytes(_fitted())
    flipped = data.replace(b'"format_version":"2"', b'"format_version":"3"', 1)
    assert flipped != data
    with pytest.raises(ValueError, match="corrupted or was altered after saving") as error:
        skvae.load(io.BytesIO(flipped))
    assert "Upgrade" not in str(error.value)


@pytest.mark.parametrize("copier", [copy.copy, copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))])
def test_training_a_copy_leaves_the_original_as_it_was(copier):
    X = _data()
    original = _fitted()
    before = pickle.dumps(original)
    trained = copier(original).partial_fit(X)
    assert trained.n_iter_ == original.n_iter_ + 1 and len(trained.loss_curve_) == len(original.loss_curve_) + 1
    assert_same(pickle.loads(before).__getstate__(), original.__getstate__())


def test_dir_lists_the_fitted_attributes_tools_look_for():
    # dask-ml keys Incremental's tasks by the attributes dir() lists that end in "_".
    model = _fitted()
    listed = {name for name in dir(model) if name.endswith("_") and not name.startswith("_")}
    assert {"n_iter_", "loss_curve_", "encoder_", "decoder_", "n_features_in_"} <= listed
    assert "n_iter_" not in dir(VAETransformer())


# ------------------------------------------------------------- the command line's reading options


def _saved_with_reading(reading):
    from skvae._persistence import save_with_reading

    buffer = io.BytesIO()
    save_with_reading(_fitted(), buffer, reading)
    return buffer.getvalue()


def test_reading_options_round_trip_and_leave_the_model_as_save_writes_it():
    """``skvae fit --missing-values`` keeps its texts in the file; the model is the one ``save`` writes."""
    from skvae._persistence import load_with_reading

    words = ["NA", "-999", 'a "quoted", text', "é", "q" * 200_000]
    data = _saved_with_reading({"missing_values": words})
    model, reading = load_with_reading(io.BytesIO(data))
    assert reading == {"missing_values": words}
    plain = _save_to_bytes(_fitted())
    _, plain_reading = load_with_reading(io.BytesIO(plain))
    assert plain_reading == {}
    _assert_same_outputs(skvae.load(io.BytesIO(plain)), model, _data())
    # Empty options write no field: the file is save's, byte for byte.
    assert _saved_with_reading({"missing_values": []}) == plain
    assert _saved_with_reading(None) == plain


def test_a_file_with_reading_options_still_verifies_by_the_digest_older_skvae_checks():
    """The options have their own digest: dropping both fields leaves the file save writes (0.20 reads it)."""
    data = _saved_with_reading({"missing_values": ["NA"]})
    metadata, state, arrays = _open(data)
    assert metadata["sha256"] == file_digest(metadata, arrays)
    bare = {key: value for key, value in metadata.items() if not key.startswith("reading")}
    assert safetensors.numpy.save(arrays, metadata=bare) is not None
    assert skvae.load(io.BytesIO(safetensors.numpy.save(arrays, metadata=bare))).n_iter_ == _fitted().n_iter_


@pytest.mark.parametrize("change", [
    lambda metadata: metadata.update(reading=metadata["reading"].replace("NA", "NB")),
    lambda metadata: metadata.pop("reading_sha256"),
    lambda metadata: metadata.pop("reading"),
    lambda metadata: metadata.update(reading_sha256="0" * 64),
    lambda metadata: metadata.update(sha256=file_digest(dict(metadata, skvae_version="9"), {})),
], ids=["altered-text", "digest-dropped", "options-dropped", "digest-altered", "file-digest-altered"])
def test_altered_reading_options_are_refused_as_corruption(change):
    data = _saved_with_reading({"missing_values": ["NA"]})
    metadata, state, arrays = _open(data)
    change(metadata)
    forged = safetensors.numpy.save(arrays, metadata=metadata)
    with pytest.raises(ValueError, match="corrupted or was altered"):
        skvae.load(io.BytesIO(forged))


@pytest.mark.parametrize("options, problem", [
    ('["NA"]', "are a list, not a dict"),
    ('{"na_values": ["NA"]}', "hold \\['na_values'\\]"),
    ('{"missing_values": "NA"}', "hold 'missing_values', which is not a list of texts"),
    ('{"missing_values": [1]}', "hold 'missing_values', which is not a list of texts"),
    ('{"missing_values": [["NA"]]}', "hold 'missing_values', which is not a list of texts"),
    ("{not json", "are not JSON"),
    ("[" * 100_000, "are not JSON"),
])
def test_reading_options_that_are_not_lists_of_texts_are_refused(options, problem):
    """Options that match their digest but are no lists of texts (a forger's, or a newer skvae's) are refused."""
    from skvae._persistence import _reading_digest

    data = _saved_with_reading({"missing_values": ["NA"]})
    metadata, state, arrays = _open(data)
    metadata["reading"] = options
    metadata["reading_sha256"] = _reading_digest(metadata)
    with pytest.raises(ValueError, match=f"is corrupted: its reading options {problem}"):
        skvae.load(io.BytesIO(safetensors.numpy.save(arrays, metadata=metadata)))


@pytest.mark.parametrize("reading", [["NA"], {"na_values": ["NA"]}, {"missing_values": [None]}])
def test_save_with_reading_refuses_options_it_could_not_read_back(reading, tmp_path):
    from skvae._persistence import save_with_reading

    with pytest.raises(ValueError, match="save_with_reading's reading options (are|hold)"):
        save_with_reading(_fitted(), tmp_path / "m.skvae", reading)
    assert not (tmp_path / "m.skvae").exists()
