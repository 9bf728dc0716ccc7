"""Persistence: skvae.save/load (no unpickling, integrity checks), pickle and joblib."""

import hashlib
import io
import json
import os
import pickle
import warnings
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import skvae
from skvae import VAETransformer
from skvae._persistence import ARRAYS_MEMBER, FORMAT_VERSION, METADATA_MEMBER

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(latent_dim=2, hidden_layer_sizes=(6, 4), max_iter=3, batch_size=16)


def _data(n_rows=40, n_features=5, seed=0):
    return np.random.RandomState(seed).randn(n_rows, n_features)


def _fitted(**params):
    return VAETransformer(**{**SMALL, "random_state": 0, **params}).fit(_data())


def _assert_same_state(a, b, where="state"):
    """Recursive equality of __getstate__ values: tensors bit for bit, arrays with dtype."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and torch.equal(a, b), where
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a, b), where
    elif isinstance(a, np.random.RandomState):
        state_a, state_b = a.get_state(), b.get_state()
        assert state_a[0] == state_b[0] and np.array_equal(state_a[1], state_b[1]), where
        assert state_a[2:] == state_b[2:], where
    elif isinstance(a, dict):
        # Attribute order is not state: __setstate__ itself re-adds the networks last.
        assert sorted(a) == sorted(b), where
        for key in a:
            _assert_same_state(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same_state(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


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


def _rewrite_archive(data, edit):
    """A new zip with every member passed through edit(name, bytes) -> bytes.

    zipfile computes fresh CRCs, as a careful forger (or a repacking tool) would.
    """
    source = zipfile.ZipFile(io.BytesIO(data))
    target_buffer = io.BytesIO()
    with zipfile.ZipFile(target_buffer, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, edit(info.filename, source.read(info.filename)))
    return target_buffer.getvalue()


def _edit_metadata(data, change):
    def edit(name, content):
        if name != METADATA_MEMBER:
            return content
        metadata = json.loads(content)
        change(metadata)
        return json.dumps(metadata).encode()

    return _rewrite_archive(data, edit)


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
    _assert_same_state(restored.get_params(), original.get_params(), "params")
    _assert_same_state(restored.__getstate__(), original.__getstate__())
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
    _assert_same_state(restored.__getstate__(), original.__getstate__())


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

    def fail_midway(file, metadata, arrays_bytes):
        file.write(b"PK partial")
        raise KeyboardInterrupt

    monkeypatch.setattr("skvae._persistence._write_archive", fail_midway)
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


def test_file_holds_only_json_and_plain_arrays():
    data = _save_to_bytes(_fitted())
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert sorted(archive.namelist()) == sorted([METADATA_MEMBER, ARRAYS_MEMBER])
    metadata = json.loads(archive.read(METADATA_MEMBER))
    assert metadata["format"] == "skvae"
    assert metadata["format_version"] == FORMAT_VERSION
    assert metadata["skvae_version"] == skvae.__version__
    assert metadata["params"]["latent_dim"] == SMALL["latent_dim"]
    with np.load(io.BytesIO(archive.read(ARRAYS_MEMBER)), allow_pickle=False) as npz:
        assert all(npz[key].dtype.kind in "biuf" for key in npz.files)


# ------------------------------------------------------------- refusals


def test_unfitted_estimator_is_not_saved(tmp_path):
    with pytest.raises(NotFittedError):
        skvae.save(VAETransformer(), tmp_path / "model.skvae")
    assert not (tmp_path / "model.skvae").exists()


def test_only_vae_transformers_are_saved(tmp_path):
    from sklearn.decomposition import PCA

    with pytest.raises(TypeError, match="expects a VAETransformer; got PCA"):
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
    with pytest.raises(ValueError, match="not a zip archive.*pickle and joblib files are refused"):
        skvae.load(hostile)
    joblib.dump(_WritesAFile(target), tmp_path / "model.joblib")
    with pytest.raises(ValueError, match="not a zip archive"):
        skvae.load(tmp_path / "model.joblib")
    assert not target.exists()


def test_hostile_pickle_inside_the_arrays_is_refused(tmp_path):
    """An object array (stored as a pickle by np.save) smuggled into arrays.npz."""
    target = tmp_path / "pwned"
    good = _save_to_bytes(_fitted())
    archive = zipfile.ZipFile(io.BytesIO(good))
    with np.load(io.BytesIO(archive.read(ARRAYS_MEMBER))) as npz:
        arrays = {key: npz[key] for key in npz.files}
    payload = np.empty(1, dtype=object)
    payload[0] = _WritesAFile(target)
    arrays["a1"] = payload
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    hostile_arrays = buffer.getvalue()
    digest = hashlib.sha256(hostile_arrays).hexdigest()

    def edit(name, content):
        if name == ARRAYS_MEMBER:
            return hostile_arrays
        metadata = json.loads(content)
        metadata["arrays_sha256"] = digest  # a forger can update the digest too
        return json.dumps(metadata).encode()

    with pytest.raises(ValueError, match="arrays.npz cannot be read.*allow_pickle=False"):
        skvae.load(io.BytesIO(_rewrite_archive(good, edit)))
    assert not target.exists()


def test_torch_save_file_is_refused_as_foreign(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"weights": torch.zeros(3)}, path)  # itself a zip archive
    with pytest.raises(ValueError, match="zip archive but not a skvae model file.*skvae.json"):
        skvae.load(path)


def test_not_a_zip_is_refused(tmp_path):
    path = tmp_path / "model.skvae"
    path.write_bytes(b"just some bytes, not a model")
    with pytest.raises(ValueError, match="not a skvae model file: it is not a zip archive"):
        skvae.load(path)


def test_truncated_file_is_refused(tmp_path):
    data = _save_to_bytes(_fitted())
    path = tmp_path / "model.skvae"
    for cut in (len(data) // 2, len(data) - 10):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="not a zip archive, or it is truncated|is corrupted"):
            skvae.load(path)


def test_flipped_byte_is_caught_by_the_zip_crc():
    data = bytearray(_save_to_bytes(_fitted()))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.getinfo(ARRAYS_MEMBER)
    # The local header is 30 bytes plus the name and extra field; then the stored bytes.
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + info.compress_size - 5] ^= 0xFF
    with pytest.raises(ValueError, match="is corrupted: member 'arrays.npz' cannot be read.*CRC"):
        skvae.load(io.BytesIO(bytes(data)))


def test_altered_array_value_with_recomputed_crc_is_caught_by_the_digest():
    original = _fitted()
    data = _save_to_bytes(original)
    metadata = json.loads(zipfile.ZipFile(io.BytesIO(data)).read(METADATA_MEMBER))
    key = metadata["state"]["encoder_"]["mean_head.weight"]["$tensor"]

    def edit(name, content):
        if name != ARRAYS_MEMBER:
            return content
        with np.load(io.BytesIO(content)) as npz:
            arrays = {k: npz[k] for k in npz.files}
        arrays[key] = arrays[key].copy()
        arrays[key][0, 0] += 1.0
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return buffer.getvalue()

    altered = _rewrite_archive(data, edit)
    assert zipfile.ZipFile(io.BytesIO(altered)).testzip() is None  # every CRC checks out
    with pytest.raises(ValueError, match="altered after saving: the SHA-256 digest of arrays.npz"):
        skvae.load(io.BytesIO(altered))
    # The unaltered rewrite loads: the digest, not the rewriting, is what fails.
    skvae.load(io.BytesIO(_rewrite_archive(data, lambda name, content: content)))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m.update(format="joblib"), "its format is 'joblib', expected 'skvae'"),
        (lambda m: m.pop("format"), "its format is None, expected 'skvae'"),
        (lambda m: m.update(format_version=FORMAT_VERSION + 1), "format_version 2.*Upgrade skvae"),
        (lambda m: m.update(format_version="1"), "format_version is '1', expected a positive integer"),
        (lambda m: m.update(estimator="PCA"), "holds a 'PCA'"),
        (lambda m: m.pop("arrays_sha256"), "lacks a valid 'arrays_sha256'"),
        (lambda m: m["params"].update(n_layers=3), r"parameters \['n_layers'\]"),
        (lambda m: m["params"].update(latent_dim=0), "does not describe a valid VAETransformer.*latent_dim"),
        (lambda m: m["state"].pop("decoder_"), r"lacks \['decoder_'\]"),
        (lambda m: m["state"].update(_seed={"$pickle": "x"}), "unknown value tag '\\$pickle'"),
        (lambda m: m["state"]["encoder_"].update({"trunk.0.weight": {"$tensor": "a999"}}),
         "refers to an array 'a999'"),
        (lambda m: m["state"]["_network_spec"].update(latent_dim=3),
         "(?s)does not describe a valid VAETransformer.*size mismatch"),
    ],
    ids=["foreign-format", "no-format", "newer-version", "bad-version", "other-estimator", "no-digest",
         "unknown-param", "invalid-param", "missing-network", "unknown-tag", "missing-array", "wrong-shapes"],
)
def test_bad_metadata_is_refused_with_the_reason(change, message):
    data = _edit_metadata(_save_to_bytes(_fitted()), change)
    with pytest.raises(ValueError, match=message):
        skvae.load(io.BytesIO(data))


def test_metadata_that_is_not_json_is_refused():
    data = _rewrite_archive(
        _save_to_bytes(_fitted()), lambda name, content: b"{not json" if name == METADATA_MEMBER else content
    )
    with pytest.raises(ValueError, match="skvae.json is not valid JSON"):
        skvae.load(io.BytesIO(data))


# ---------------------------------------------------- pickle, joblib, devices


def test_pickle_round_trip_is_exact():
    X = _data()
    original = _fitted()
    restored = pickle.loads(pickle.dumps(original))
    _assert_same_state(restored.__getstate__(), original.__getstate__())
    _assert_same_outputs(original, restored, X)


def test_joblib_round_trip_is_exact(tmp_path):
    X = (_data() > 0).astype(float)
    original = VAETransformer(**SMALL, likelihood="bernoulli", random_state=0).fit(X)
    joblib.dump(original, tmp_path / "model.joblib")
    restored = joblib.load(tmp_path / "model.joblib")
    _assert_same_state(restored.__getstate__(), original.__getstate__())
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
