"""Hostile model files and states: only a ValueError (TypeError for a wrong argument type) comes out.

Families (issue 11): C, ``load`` raises the right exception; D, tiny files
cannot cost gigabytes; E, a state that does not hang together is refused by
pickle and ``load`` alike (one schema, ``skvae._state``); F, ``save`` and
``load`` agree on which classes they handle; H, parameters: bools are not
integers, ``beta`` is bounded, networks that cannot fit are refused before
they are allocated. Property-based tests fuzz files with truncations, byte
flips and forged headers, sizes and values, with memory bounded.
"""

import contextlib
import copy
import io
import json
import os
import pickle
import re
import struct
import time
import tracemalloc
import warnings

import numpy as np
import pytest
import safetensors
import safetensors.numpy
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import skvae
from skvae import VAETransformer
from skvae import _memory
from skvae._networks import build_networks, count_parameters, parameter_shapes
from skvae._likelihoods import KINDS
from skvae._model import network_spec
from skvae._persistence import FORMAT_VERSION, LOADABLE_ESTIMATORS, NOT_SAVEABLE, _Encoder, file_digest
from skvae._schema import TableSchema
from skvae._validation import training_params
from skvae._state import FITTED_FIELDS

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(latent_dim=2, hidden_layer_sizes=(6, 4), max_iter=2, batch_size=16, random_state=0)
#: What loading one of these small files may add to the process's peak memory.
MEMORY_BOUND = 64 * 2**20


def _data(n_rows=40, n_features=5):
    return np.random.RandomState(0).randn(n_rows, n_features)


@pytest.fixture(scope="module")
def fitted():
    return VAETransformer(**SMALL).fit(_data())


@pytest.fixture(scope="module")
def good_file(fitted):
    buffer = io.BytesIO()
    skvae.save(fitted, buffer)
    return buffer.getvalue()


def _file_from_state(state, estimator="VAETransformer", version=FORMAT_VERSION):
    """A skvae file holding `state` exactly, with a matching digest: what a careful forger writes."""
    encoder = _Encoder()
    document = json.dumps({key: encoder.encode(value, key) for key, value in state.items()})
    metadata = {
        "format": "skvae",
        "format_version": str(version),
        "skvae_version": skvae.__version__,
        "estimator": estimator,
        "state": document,
    }
    metadata["sha256"] = file_digest(metadata, encoder.arrays)
    return safetensors.numpy.save(encoder.arrays, metadata=metadata)


def _file_from_document(document, arrays):
    text = document if isinstance(document, str) else json.dumps(document)
    metadata = {
        "format": "skvae",
        "format_version": str(FORMAT_VERSION),
        "skvae_version": skvae.__version__,
        "estimator": "VAETransformer",
        "state": text,
    }
    metadata["sha256"] = file_digest(metadata, arrays)
    return safetensors.numpy.save(arrays, metadata=metadata)


def _open(data):
    (length,) = struct.unpack("<Q", data[:8])
    metadata = json.loads(data[8 : 8 + length])["__metadata__"]
    return json.loads(metadata["state"]), safetensors.numpy.load(data)


def _header(data):
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + length]), data[8 + length :]


def _with_header(header, body):
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


# --------------------------------------------------------------- memory


def _status(field):
    with open("/proc/self/status") as file:
        return int(re.search(field + r":\s+(\d+) kB", file.read()).group(1)) * 1024


def _can_reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as file:
            file.write("5")
        return True
    except OSError:
        return False


@contextlib.contextmanager
def _memory_bounded(limit=MEMORY_BOUND):
    """Assert that the block raises the process's peak memory by less than `limit`.

    The kernel's peak-RSS counter sees every allocation, torch's included; where
    it cannot be reset (not Linux), tracemalloc sees Python's and NumPy's.
    """
    if _can_reset_peak():
        before = _status("VmRSS")
        yield
        grown = _status("VmHWM") - before
    else:
        tracemalloc.start()
        try:
            yield
            grown = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert grown < limit, f"peak memory grew by {grown / 2**20:.0f} MiB"


def _load_refused(data, match=None):
    """Load `data`; return the ValueError, asserting memory stayed bounded."""
    with _memory_bounded(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(ValueError, match=match) as info:
            skvae.load(io.BytesIO(data))
    return info.value


# ============================================================ C: exceptions


def _zip_with_unsupported_version():
    """A zip whose member needs a zip version zipfile cannot extract (NotImplementedError there)."""
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("skvae.json", b"{}")
    data = bytearray(buffer.getvalue())
    data[4:6] = struct.pack("<H", 99)  # version needed to extract
    return bytes(data)


def _deep(depth):
    return "[" * depth + "]" * depth


C_FILES = [
    ("zip-unsupported-version", _zip_with_unsupported_version, "it is a zip archive"),
    ("zip-garbage", lambda: b"PK\x03\x04" + b"\x00" * 100, "it is a zip archive"),
    ("pickle", lambda: pickle.dumps({"a": 1}), "it is a pickle"),
    ("empty", lambda: b"", "not a safetensors file, or it is truncated"),
    ("header-length-only", lambda: struct.pack("<Q", 10), "not a safetensors file"),
    ("header-not-json", lambda: struct.pack("<Q", 5) + b"{nope", "not a safetensors file"),
    ("metadata-not-strings", lambda: _with_header({"__metadata__": {"format": 2}}, b""), "not a safetensors file"),
    ("no-metadata", lambda: safetensors.numpy.save({"x": np.zeros(2, np.float32)}), "not a skvae model file"),
    ("state-nested-600", lambda: _file_from_document(_deep(600), {}), "nested more than 32 levels deep"),
    ("state-nested-100000", lambda: _file_from_document(_deep(100_000), {}), "not valid JSON|nested more than 32 levels deep"),
    ("state-dict-nested-600", lambda: _file_from_document('{"a":' * 600 + "1" + "}" * 600, {}), "levels deep"),
    ("state-is-a-list", lambda: _file_from_document([], {}), "state is not a JSON object"),
    ("state-huge-int", lambda: _file_from_document('{"n_iter_": ' + "9" * 5000 + "}", {}), "not valid JSON"),
]


@pytest.mark.parametrize("make, message", [case[1:] for case in C_FILES], ids=[case[0] for case in C_FILES])
def test_malformed_files_are_value_errors(make, message):
    _load_refused(make(), match=message)


@pytest.mark.parametrize(
    "argument, message",
    [
        (b"model.skvae", "got bytes. To read bytes in memory, pass an io.BytesIO"),
        (bytearray(b"x"), "got bytearray"),
        (memoryview(b"x"), "got memoryview"),
        (3, "got int"),
        (None, "got NoneType"),
        (io.StringIO("text"), "binary file object .* returned str"),
    ],
    ids=["bytes", "bytearray", "memoryview", "int", "None", "text-file"],
)
def test_wrong_argument_types_are_type_errors(argument, message):
    with pytest.raises(TypeError, match=message):
        skvae.load(argument)


@pytest.mark.parametrize("argument", [b"model.skvae", 3, io.StringIO()], ids=["bytes", "int", "text-file"])
def test_save_refuses_wrong_argument_types(fitted, argument, tmp_path):
    with pytest.raises(TypeError, match="skvae.save"):
        skvae.save(fitted, argument)
    assert os.listdir(tmp_path) == []


# ============================================================ D: declared sizes


def _forged_tensor_size(good_file):
    """The first tensor re-declared as 512 MiB, in a file of a few kB."""
    header, body = _header(good_file)
    name = next(key for key in header if key != "__metadata__")
    header[name] = {"dtype": "F32", "shape": [2**27], "data_offsets": [0, 2**29]}
    return _with_header(header, body)


def _forged_header_length(good_file):
    return struct.pack("<Q", 2**40) + good_file[8:]


def _forged_spec(good_file, sizes):
    state, arrays = _open(good_file)
    state["_network_spec"]["hidden_layer_sizes"] = sizes
    return _file_from_document(state, arrays)


def _forged_str_array(good_file):
    state, arrays = _open(good_file)
    state["feature_names_in_"] = {"$str_array": [[2**40], ["a"]]}
    return _file_from_document(state, arrays)


D_CASES = [
    ("tensor-declares-512MiB", _forged_tensor_size, "invalid offset|not a safetensors file"),
    ("header-declares-1TiB", _forged_header_length, "not a safetensors file"),
    ("spec-2**27-wide", lambda f: _forged_spec(f, [2**27]), "network spec implies"),
    ("spec-2**27-wide-second", lambda f: _forged_spec(f, [6, 2**27]), "network spec implies"),
    ("spec-10**5-layers", lambda f: _forged_spec(f, [1] * 10**5), "network spec implies"),
    ("str-array-2**40", _forged_str_array, "does not hold 1 strings"),
]


@pytest.mark.parametrize("forge, message", [case[1:] for case in D_CASES], ids=[case[0] for case in D_CASES])
def test_declared_sizes_are_checked_before_allocating(good_file, forge, message):
    data = forge(good_file)
    assert len(data) < 2**20
    started = time.perf_counter()
    _load_refused(data, match=message)
    assert time.perf_counter() - started < 10


# ============================================================ E: state schema


def _mutate(path, value):
    def change(state):
        *parents, last = path
        target = state
        for key in parents:
            target = target[key]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value(target[last]) if callable(value) else value

    return change


_DELETE = object()


def _fill(number):
    return lambda tensor: torch.full_like(tensor, number)


def _column(j, **changes):
    """Change column j of the schema: keys set to values, or removed with _DELETE."""

    def change(state):
        column = state["_schema"]["columns"][j]
        for key, value in changes.items():
            if value is _DELETE:
                del column[key]
            else:
                column[key] = value

    return change


E_CASES = [
    ("device-meta", _mutate(["device_"], "meta"), "device_ must be one of 'cpu', 'cuda', 'cuda:N', 'mps'; got 'meta'"),
    ("device-garbage", _mutate(["device_"], "cuda:x"), "device_ must be .* got 'cuda:x'"),
    ("device-int", _mutate(["device_"], 0), "device_ must be .* got 0"),
    ("n-features-disagrees", _mutate(["n_features_in_"], 4), "n_features_in_ is 4, but the column schema's number of columns is 5"),
    ("n-features-bool", _mutate(["n_features_in_"], True), "n_features_in_ must be an int >= 1; got True"),
    ("schema-columns-dropped", _mutate(["_schema", "columns"], lambda c: c[:3]), "n_features_in_ is 5, but the column schema's number of columns is 3"),
    ("schema-shift-nan", _column(2, shift=float("nan")), "_schema\\['columns'\\]\\[2\\]\\['shift'\\] must be a finite float; got nan"),
    ("schema-shift-inf", _column(0, shift=float("-inf")), "\\['shift'\\] must be a finite float; got -inf"),
    ("schema-shift-string", _column(0, shift="0"), "\\['shift'\\] must be a finite float; got '0'"),
    ("schema-scale-zero", _column(3, scale=0.0), "_schema\\['columns'\\]\\[3\\]\\['scale'\\] must be a positive finite float; got 0.0"),
    ("schema-scale-inf", _column(3, scale=float("inf")), "\\['scale'\\] must be a positive finite float; got inf"),
    ("schema-scale-missing", _column(1, scale=_DELETE), "_schema\\['columns'\\]\\[1\\] \\(a 'gaussian' column\\) lacks \\['scale'\\]"),
    ("schema-unknown-entry", _column(1, code="x"), "\\(a 'gaussian' column\\) has unknown entries \\['code'\\]"),
    ("schema-unknown-kind", _column(1, kind="student_t"), "\\[1\\] must be a column with a kind among .*got kind 'student_t'"),
    ("schema-kind-vs-weights", _column(0, kind="bernoulli", shift=_DELETE, scale=_DELETE), "_network_spec\\['n_params'\\] is 10, but the column schema implies 9"),
    ("schema-mask-vs-weights", _mutate(["_schema", "mask_columns"], [0]), "_network_spec\\['n_inputs'\\] is 5, but the column schema implies 6"),
    ("schema-mask-out-of-range", _mutate(["_schema", "mask_columns"], [7]), "mask columns are malformed"),
    ("schema-mask-twice", _mutate(["_schema", "mask_columns"], [0, 0]), "must be a sorted list of distinct column positions"),
    ("schema-names-differ", _column(1, name="zz"), "the column schema's column names differ from feature_names_in_"),
    ("schema-array-of-dataframe", _mutate(["_schema", "is_dataframe"], False), "column names differ from feature_names_in_"),
    ("schema-dtype", _column(0, dtype="float64; import os"), "\\['dtype'\\] must be a dtype name"),
    ("schema-not-a-dict", _mutate(["_schema"], [1, 2]), "_schema must be a dict with the keys"),
    ("schema-missing", _mutate(["_schema"], _DELETE), "the fitted state lacks \\['_schema'\\]"),
    ("names-wrong-length", _mutate(["feature_names_in_"], np.array(["a"], dtype=object)), "len\\(feature_names_in_\\) is 1"),
    ("weight-nan", _mutate(["encoder_", "mean_head.weight"], _fill(np.nan)), "encoder_\\['mean_head.weight'\\] holds non-finite values"),
    ("weight-inf", _mutate(["decoder_", "head.bias"], _fill(np.inf)), "decoder_\\['head.bias'\\] holds non-finite"),
    ("weight-float64", _mutate(["encoder_", "trunk.0.bias"], lambda t: t.double()), "must be a float32 CPU tensor; got torch.float64"),
    ("weight-missing", _mutate(["decoder_", "head.bias"], _DELETE), "decoder_ lacks 'head.bias'"),
    ("weight-extra", _mutate(["decoder_", "head2.bias"], torch.zeros(5)), "decoder_ holds 'head2.bias', which the network spec does not have"),
    ("weight-shape", _mutate(["encoder_", "trunk.0.weight"], torch.zeros(6, 4)), "encoder_\\['trunk.0.weight'\\] has shape \\(6, 4\\), but the network spec implies \\(6, 5\\)"),
    ("adam-moment-nan", _mutate(["optimizer_", "state", 0, "exp_avg"], _fill(np.nan)), "optimizer_\\['state'\\]\\[0\\]\\['exp_avg'\\] holds non-finite"),
    ("adam-negative-second-moment", _mutate(["optimizer_", "state", 1, "exp_avg_sq"], _fill(-1.0)), "\\['exp_avg_sq'\\] holds negative values"),
    ("adam-moment-shape", _mutate(["optimizer_", "state", 0, "exp_avg"], torch.zeros(2)), "optimizer_\\['state'\\]\\[0\\]\\['exp_avg'\\] has shape \\(2,\\), but parameter 0 has shape \\(6, 5\\)"),
    ("adam-state-index", lambda state: state["optimizer_"]["state"].update({99: state["optimizer_"]["state"][0]}),
     "optimizer_ has state for parameter 99, but the networks have 15"),
    ("adam-amsgrad", _mutate(["optimizer_", "param_groups", 0, "amsgrad"], True), "\\['amsgrad'\\] must be False; got True"),
    ("adam-capturable", _mutate(["optimizer_", "param_groups", 0, "capturable"], True), "\\['capturable'\\] must be False"),
    ("adam-unknown-option", _mutate(["optimizer_", "param_groups", 0, "momentum"], 0.9), "unknown Adam options \\['momentum'\\]"),
    ("adam-params", _mutate(["optimizer_", "param_groups", 0, "params"], [0, 1]), "optimizer_ must cover the 15 network parameters"),
    ("adam-lr-nan", _mutate(["optimizer_", "param_groups", 0, "lr"], float("nan")), "\\['lr'\\] must be a float in \\(0, 1e37\\]; got nan"),
    ("shadows-method", _mutate(["transform"], "x"), "state key 'transform' would shadow the attribute VAETransformer.transform"),
    ("shadows-dunder", _mutate(["__class__"], "x"), "state key '__class__' would shadow"),
    ("shadows-property", _mutate(["_n_features_out"], 3), "state key '_n_features_out' would shadow"),
    ("unknown-key", _mutate(["coef_"], 1.0), "unknown state keys \\['coef_'\\]"),
    ("missing-field", _mutate(["n_iter_"], _DELETE), "the fitted state lacks \\['n_iter_'\\]"),
    ("missing-param", _mutate(["beta"], _DELETE), "the state lacks the parameters \\['beta'\\]"),
    ("param-invalid", _mutate(["latent_dim"], True), "'latent_dim' parameter of VAETransformer must be an int"),
    ("spec-n-params", _mutate(["_network_spec", "n_params"], 3), "_network_spec\\['n_params'\\] is 3, but the column schema implies 10"),
    ("spec-n-free-negative", _mutate(["_network_spec", "n_free"], -1), "_network_spec\\['n_free'\\] must be an int >= 0; got -1"),
    ("spec-old-keys", _mutate(["_network_spec", "n_features"], 5), "_network_spec must be a dict with the keys"),
    ("spec-activation", _mutate(["_network_spec", "activation"], "swish"), "\\['activation'\\] must be one of"),
    ("spec-extra-key", _mutate(["_network_spec", "dropout"], 0.5), "_network_spec must be a dict with the keys"),
    ("spec-sizes-bool", _mutate(["_network_spec", "hidden_layer_sizes"], [True, 4]), "must be a non-empty list of positive ints; got \\[True, 4\\]"),
    ("n-iter-negative", _mutate(["n_iter_"], -1), "n_iter_ must be an int >= 0; got -1"),
    ("history-length", _mutate(["loss_curve_"], [1.0]), "loss_curve_ has 1 entries, but n_iter_ is 2"),
    ("history-nan", _mutate(["loss_curve_"], [1.0, float("nan")]), "loss_curve_\\[1\\] must be a finite float; got nan"),
    ("seed-out-of-range", _mutate(["_seed"], 2**40), "_seed must be an int in \\[0, 2147483647\\]; got 1099511627776"),
    ("output-config", _mutate(["_sklearn_output_config"], {"transform": 3}), "_sklearn_output_config must be a dict of str to str"),
]


def _broken_state(fitted, change):
    state = copy.deepcopy(fitted.__getstate__())
    state.setdefault("_sklearn_output_config", {"transform": "default"})
    # As if fitted on a DataFrame: every optional field present.
    state["feature_names_in_"] = np.array([f"x{i}" for i in range(5)], dtype=object)
    state["_schema"]["is_dataframe"] = True
    for name, column in zip(state["feature_names_in_"], state["_schema"]["columns"]):
        column["name"] = name
    change(state)
    return state


@pytest.mark.parametrize("change, message", [case[1:] for case in E_CASES], ids=[case[0] for case in E_CASES])
def test_inconsistent_state_is_refused_by_setstate(fitted, change, message):
    state = _broken_state(fitted, change)
    estimator = VAETransformer.__new__(VAETransformer)
    with pytest.raises(ValueError, match=message):
        estimator.__setstate__(state)
    assert estimator.__dict__ == {}, "a refused state must leave nothing behind"


@pytest.mark.parametrize("change, message", [case[1:] for case in E_CASES], ids=[case[0] for case in E_CASES])
def test_inconsistent_state_is_refused_by_load(fitted, change, message):
    state = _broken_state(fitted, change)
    _load_refused(_file_from_state(state), match="does not describe a valid VAETransformer: .*" + message)


def test_the_unbroken_state_loads(fitted):
    """The cases above change one thing each: without it, both paths accept the state."""
    state = _broken_state(fitted, lambda state: None)
    VAETransformer.__new__(VAETransformer).__setstate__(copy.deepcopy(state))
    restored = skvae.load(io.BytesIO(_file_from_state(state)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the added feature names
        np.testing.assert_array_equal(restored.transform(_data()), fitted.transform(_data()))


@pytest.mark.parametrize(
    "attribute, value, message",
    [
        ("device_", "meta", "device_ must be one of"),
        ("n_features_in_", 7, "n_features_in_ is 7"),
        ("_schema", "two columns", "n_features_in_ is 5, but the column schema's number of columns is 2"),
        ("transform", "shadow", "would shadow the attribute VAETransformer.transform"),
    ],
)
def test_real_pickles_of_broken_estimators_are_refused(fitted, attribute, value, message):
    estimator = copy.copy(fitted)
    estimator.__dict__ = dict(fitted.__dict__)
    if value == "two columns":
        value = TableSchema.from_dict({**fitted._schema.to_dict(), "columns": fitted._schema.columns[:2]})
    setattr(estimator, attribute, value)
    data = pickle.dumps(estimator)
    with pytest.raises(ValueError, match=message):
        pickle.loads(data)


def test_nan_weights_in_a_real_pickle_are_refused(fitted):
    estimator = pickle.loads(pickle.dumps(fitted))
    with torch.no_grad():
        estimator.decoder_.head.weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="decoder_\\['head.weight'\\] holds non-finite"):
        pickle.loads(pickle.dumps(estimator))
    with pytest.raises(ValueError, match="skvae.save refuses a state skvae.load would refuse.*non-finite"):
        skvae.save(estimator, io.BytesIO())


def test_schema_fields_shadow_nothing():
    for name in [*FITTED_FIELDS, *VAETransformer._get_param_names()]:
        assert not hasattr(VAETransformer, name), name


def test_unfitted_state_with_fitted_fields_only_partly_is_refused():
    state = VAETransformer().__getstate__()
    state["n_iter_"] = 3
    with pytest.raises(ValueError, match="the fitted state lacks"):
        VAETransformer.__new__(VAETransformer).__setstate__(state)


def test_optimizer_implementation_flags_are_this_machines(fitted):
    state = copy.deepcopy(fitted.__getstate__())
    state["optimizer_"]["param_groups"][0].update(fused=True, foreach=True)  # never valid together
    restored = VAETransformer.__new__(VAETransformer)
    restored.__setstate__(state)
    group = restored.optimizer_.param_groups[0]
    assert not (group["fused"] and group["foreach"])
    restored.partial_fit(_data())


# ============================================================ F: classes


class _MyVAE(VAETransformer):
    pass


def test_save_refuses_subclasses_load_could_not_rebuild(tmp_path):
    estimator = _MyVAE(**SMALL).fit(_data())
    with pytest.raises(TypeError, match="got .*_MyVAE, a subclass, which load could not rebuild"):
        skvae.save(estimator, tmp_path / "model.skvae")
    assert os.listdir(tmp_path) == []
    pickle.loads(pickle.dumps(estimator))  # pickling a subclass still works


def test_load_refuses_class_names_outside_the_registry(fitted):
    state = fitted.__getstate__()
    for name in ("_MyVAE", "PCA", "__builtins__", ""):
        _load_refused(_file_from_state(state, estimator=name), match=f"holds a {name!r}, but skvae.load reads")


def test_every_public_estimator_is_loadable_or_refused_by_name():
    """A new public class must be registered, or listed as not saveable (with what to do instead)."""
    public = {name: getattr(skvae, name) for name in skvae.__all__ if isinstance(getattr(skvae, name), type)}
    assert set(LOADABLE_ESTIMATORS) | set(NOT_SAVEABLE) == set(public)
    assert not set(LOADABLE_ESTIMATORS) & set(NOT_SAVEABLE)
    for name, cls in LOADABLE_ESTIMATORS.items():
        assert public[name] is cls


def test_public_estimators_save_does_not_write_are_refused_with_a_way_out(monkeypatch):
    """Every public class is saved today; one taken out of the registry is refused with what to do instead."""
    from skvae import _persistence

    monkeypatch.setattr(_persistence, "NOT_SAVEABLE", {"VAEImputer": "pickle it instead (trusted files only)"})
    monkeypatch.setattr(_persistence, "LOADABLE_ESTIMATORS", {"VAETransformer": VAETransformer})
    estimator = skvae.VAEImputer(**SMALL).fit(_data())
    with pytest.raises(TypeError, match="skvae.save does not write VAEImputer models yet: pickle it instead"):
        skvae.save(estimator, io.BytesIO())


#: What each registered class's round trip compares.
_OUTPUT = {"VAETransformer": "transform", "VAEImputer": "transform", "VAEOutlierDetector": "score_samples"}


@pytest.mark.parametrize("name", sorted(LOADABLE_ESTIMATORS))
def test_every_registered_class_round_trips(name):
    original = LOADABLE_ESTIMATORS[name](**SMALL).fit(_data())
    buffer = io.BytesIO()
    skvae.save(original, buffer)
    restored = skvae.load(io.BytesIO(buffer.getvalue()))
    assert type(restored) is type(original)
    output = _OUTPUT[name]
    np.testing.assert_array_equal(getattr(restored, output)(_data()), getattr(original, output)(_data()))
    # What load relies on: the class's __setstate__ checks its state schema.
    state = copy.deepcopy(original.__getstate__())
    state["n_iter_"] = -1
    with pytest.raises(ValueError, match="n_iter_ must be an int >= 0"):
        LOADABLE_ESTIMATORS[name].__new__(LOADABLE_ESTIMATORS[name]).__setstate__(state)


# ============================================================ H: parameters

INTEGER_PARAMS = ["latent_dim", "batch_size", "max_iter", "n_iter_no_change", "random_state", "hidden_layer_sizes"]


@pytest.mark.parametrize("name", INTEGER_PARAMS)
@pytest.mark.parametrize("value", [True, False, np.True_])
def test_integer_parameters_refuse_bools(name, value):
    estimator = VAETransformer(**{**SMALL, name: value})
    with pytest.raises(ValueError, match=f"'{name}' parameter of VAETransformer must be .*Got {re.escape(repr(value))}"):
        estimator.fit(_data())
    assert not estimator.__sklearn_is_fitted__()


def test_hidden_layer_sizes_refuse_bool_widths():
    with pytest.raises(ValueError, match="hidden_layer_sizes must be a non-empty .*; got \\(True, 4\\)"):
        VAETransformer(**{**SMALL, "hidden_layer_sizes": (True, 4)}).fit(_data())


@pytest.mark.parametrize("beta", [1e39, 1e13, float("inf")])
def test_beta_is_bounded_by_what_float32_training_carries(beta):
    with pytest.raises(ValueError, match=f"'beta' parameter .* range \\[0.0, 1000000000000.0\\]. Got {re.escape(repr(beta))}"):
        VAETransformer(**{**SMALL, "beta": beta}).fit(_data())


def test_largest_beta_trains_finitely():
    estimator = VAETransformer(**{**SMALL, "beta": 1e12}).fit(_data())
    assert np.all(np.isfinite(estimator.loss_curve_))
    state = estimator.optimizer_.state_dict()["state"]
    assert all(torch.isfinite(entry["exp_avg_sq"]).all() for entry in state.values())
    skvae.load(io.BytesIO(_saved(estimator)))  # and the model is valid state


def _saved(estimator):
    buffer = io.BytesIO()
    skvae.save(estimator, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("sizes", [(10**9,), (8, 10**8), (2**40,)])
def test_networks_too_large_for_memory_are_refused_before_allocating(sizes, monkeypatch):
    # The host's memory, as an 8 GiB machine reports it: (8, 10**8) would fit
    # in the 128 GiB of some machines. A GPU's is checked the same way against
    # its own free memory.
    monkeypatch.setattr(skvae._memory, "_host_available_bytes", lambda: 8 * 2**30)
    estimator = VAETransformer(**{**SMALL, "hidden_layer_sizes": sizes, "device": "cpu"})
    started = time.perf_counter()
    with _memory_bounded(), pytest.raises(
        ValueError,
        match=re.escape(f"hidden_layer_sizes={sizes!r}, latent_dim=2 for 5 inputs and 10 outputs on device='cpu'")
        + ".* parameters need about .* more than the .* available",
    ):
        estimator.fit(_data())
    assert time.perf_counter() - started < 5
    assert not estimator.__sklearn_is_fitted__()


def test_a_refused_refit_keeps_the_fitted_model(fitted):
    estimator = pickle.loads(pickle.dumps(fitted))
    before = estimator.transform(_data())
    estimator.set_params(hidden_layer_sizes=(10**9,))
    with pytest.raises(ValueError, match="Could not build the networks"):
        estimator.fit(_data())
    assert estimator._network_spec == fitted._network_spec and estimator.device_ == fitted.device_
    np.testing.assert_array_equal(estimator.transform(_data()), before)


def test_loading_applies_the_same_memory_estimate(fitted, monkeypatch, good_file):
    _, needed = _memory.network_bytes(fitted._network_spec)
    monkeypatch.setattr(_memory, "available_bytes", lambda device: needed - 1)
    with pytest.raises(ValueError, match="cannot be loaded here: Could not build the networks .* more than the"):
        skvae.load(io.BytesIO(good_file))
    with pytest.raises(ValueError, match="Could not build the networks"):
        pickle.loads(pickle.dumps(fitted))
    monkeypatch.setattr(_memory, "available_bytes", lambda device: needed)
    skvae.load(io.BytesIO(good_file))


def _spec(X, **params):
    """The network spec a VAETransformer with `params` would build for X."""
    estimator = VAETransformer(**params)
    return network_spec(TableSchema.fit(X, estimator.likelihood).likelihood(), training_params(estimator))


def test_memory_estimate_covers_what_training_allocates():
    """Per parameter: weight, gradient, Adam's two moments, one snapshot: 5 float32."""
    spec = _spec(_data(n_features=100), hidden_layer_sizes=(300, 200))
    n_values, needed = _memory.network_bytes(spec)
    assert needed >= 5 * 4 * n_values
    assert needed < 5 * 4 * n_values * 1.1  # and does not refuse what fits
    assert _memory.available_bytes("cpu") > 0


def _column_of(kind, rng, n_rows=30):
    """Values a column of `kind` may hold."""
    if kind == "bernoulli":
        return rng.uniform(size=n_rows)
    if kind == "lognormal":
        return rng.lognormal(size=n_rows)
    if kind in ("categorical", "poisson", "negative_binomial"):
        return rng.integers(0, 4, size=n_rows).astype(float)
    return rng.normal(size=n_rows)


@settings(max_examples=30, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=6),
    holes=st.lists(st.booleans(), min_size=6, max_size=6),
    latent_dim=st.integers(1, 5),
    hidden=st.lists(st.integers(1, 9), min_size=1, max_size=4),
)
def test_parameter_shapes_match_the_built_networks(kinds, holes, latent_dim, hidden):
    """For every mix of column kinds, with and without missing cells (mask inputs)."""
    rng = np.random.default_rng(0)
    X = np.column_stack([_column_of(kind, rng) for kind in kinds])
    X[0, [j for j in range(len(kinds)) if holes[j]]] = np.nan
    spec = _spec(X, latent_dim=latent_dim, hidden_layer_sizes=hidden, likelihood=dict(enumerate(kinds)))
    encoder, decoder = build_networks(spec, torch.Generator().manual_seed(0))
    for module, shapes in zip((encoder, decoder), parameter_shapes(spec)):
        assert list(shapes) == [(key, tuple(value.shape)) for key, value in module.state_dict().items()]
        assert [key for key, _ in module.named_parameters()] == list(module.state_dict())
    parameters = [*encoder.parameters(), *decoder.parameters()]
    assert count_parameters(spec) == (len(parameters), sum(p.numel() for p in parameters))


# ============================================================ fuzzing

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _load_or_value_error(data, original):
    """Loading gives a ValueError, or an estimator equal to the original (a flip in JSON whitespace)."""
    with _memory_bounded(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            restored = skvae.load(io.BytesIO(data))
        except ValueError:
            return
    np.testing.assert_array_equal(restored.transform(_data()), original.transform(_data()))


@FUZZ
@given(cut=st.integers(0, 10**6))
def test_fuzz_truncations(fitted, good_file, cut):
    cut %= len(good_file)
    _load_refused(good_file[:cut])


@FUZZ
@given(flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), min_size=1, max_size=4))
def test_fuzz_byte_flips(fitted, good_file, flips):
    data = bytearray(good_file)
    for position, mask in flips:
        data[position % len(data)] ^= mask
    _load_or_value_error(bytes(data), fitted)


@FUZZ
@given(
    position=st.integers(0, 10**6),
    length=st.integers(1, 64),
    junk=st.binary(min_size=1, max_size=64),
)
def test_fuzz_overwritten_runs(fitted, good_file, position, length, junk):
    position %= len(good_file)
    data = good_file[:position] + junk + good_file[position + length :]
    _load_or_value_error(data, fitted)


_sizes = st.one_of(st.integers(0, 16), st.integers(2**20, 2**62), st.just(2**64 - 1))


@FUZZ
@given(data=st.data())
def test_fuzz_forged_safetensors_headers(fitted, good_file, data):
    """Forged header length, dtypes, shapes and offsets, in a file of unchanged size."""
    header, body = _header(good_file)
    names = sorted(key for key in header if key != "__metadata__")
    name = data.draw(st.sampled_from(names))
    entry = header[name]
    field = data.draw(st.sampled_from(["shape", "data_offsets", "dtype", "length"]))
    if field == "shape":
        entry["shape"] = data.draw(st.lists(_sizes, max_size=4))
    elif field == "data_offsets":
        entry["data_offsets"] = data.draw(st.lists(_sizes, min_size=2, max_size=2))
    elif field == "dtype":
        entry["dtype"] = data.draw(st.sampled_from(["F16", "BF16", "BOOL", "I8", "F64", "U64", "C64", "X"]))
    forged = _with_header(header, body)
    if field == "length":
        forged = struct.pack("<Q", data.draw(_sizes)) + forged[8:]
    _load_or_value_error(forged, fitted)


_json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
        st.sampled_from(["$tensor", "cuda:0", "meta", "MT19937"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(["$tensor", "$array", "$items", "$tuple", "$scalar", "$random_state",
                                         "$str_array", "$device", "$float", "a", "0"]), children, max_size=2),
    ),
    max_leaves=12,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


@FUZZ
@given(data=st.data())
def test_fuzz_forged_state_values(fitted, good_file, data):
    """Any value of the state document replaced by any JSON, with the digest recomputed."""
    state, arrays = _open(good_file)
    paths = [path for path in _paths(state) if path]
    path = data.draw(st.sampled_from(paths))
    target = state
    for key in path[:-1]:
        target = target[key]
    replacement = data.draw(_json_values)
    assume(target[path[-1]] != replacement)
    target[path[-1]] = replacement
    forged = _file_from_document(state, arrays)
    with _memory_bounded(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            skvae.load(io.BytesIO(forged))
        except ValueError:
            pass


@FUZZ
@given(
    name=st.sampled_from(sorted(FITTED_FIELDS)),
    value=st.one_of(
        st.none(), st.booleans(), st.integers(-(2**64), 2**64), st.floats(), st.text(max_size=4),
        st.lists(st.floats(), max_size=3),
        st.builds(lambda n: np.zeros(n), st.integers(0, 7)),
        st.builds(lambda n: torch.zeros(n), st.integers(0, 7)),
    ),
)
def test_fuzz_setstate_fields(fitted, name, value):
    """Any field set to a value of the wrong kind: __setstate__ gives a ValueError or a working model."""
    state = copy.deepcopy(fitted.__getstate__())
    state[name] = value
    estimator = VAETransformer.__new__(VAETransformer)
    try:
        estimator.__setstate__(state)
    except ValueError:
        return
    estimator.transform(_data())


def test_unfitted_estimator_with_a_bad_parameter_pickles_and_fit_refuses_it():
    """As in scikit-learn, parameters are validated by fit: joblib workers get the estimator, fit names the error."""
    estimator = pickle.loads(pickle.dumps(VAETransformer(latent_dim=True)))
    with pytest.raises(ValueError, match="'latent_dim' parameter of VAETransformer must be"):
        estimator.fit(_data())
