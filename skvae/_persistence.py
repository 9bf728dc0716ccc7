"""Safe persistence: :func:`save` and :func:`load`, a format that never unpickles.

A pickle (and so a joblib file) runs arbitrary code when it is loaded, so a
model file from someone else is a program from someone else. The skvae format
holds data only:

- ``skvae.json``: the format name (``"skvae"``) and ``format_version``, the
  skvae version that wrote it, the estimator's constructor parameters
  (``get_params()``), its fitted non-tensor state, and the SHA-256 of the
  arrays member;
- ``arrays.npz``: every tensor of the encoder, decoder and optimizer state
  dicts and every NumPy array of the fitted state, written by ``np.savez`` and
  read back with ``np.load(..., allow_pickle=False)``.

Both live in a plain zip archive. The state is the one ``pickle`` uses
(``VAETransformer.__getstate__`` / ``__setstate__``), so the two cannot drift
apart. JSON values that are not plain JSON (tuples, dicts with integer keys,
arrays, tensors, NumPy scalars, ``RandomState`` instances, ``torch.device``)
are written as one-key objects whose key starts with ``$``; :func:`load`
accepts only the tags listed in this module.

The digest detects corrupted or altered array bytes even where the zip's own
CRC was recomputed. It is a checksum, not a signature: whoever can edit the
file can also edit the digest. What makes loading safe is that nothing in the
file is ever executed.
"""

import hashlib
import io
import json
import os
import uuid
import zipfile

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ._estimator import VAETransformer

FORMAT_NAME = "skvae"
#: Bumped whenever a file written by this version cannot be read by the previous one.
FORMAT_VERSION = 1
METADATA_MEMBER = "skvae.json"
ARRAYS_MEMBER = "arrays.npz"
#: skvae.json of a real model is a few kB; refusing huge ones bounds what a
#: hostile archive (a zip bomb) can make :func:`load` decompress.
_MAX_METADATA_BYTES = 64 * 2**20

# The fitted state a model file must hold: the networks and the optimizer.
_TORCH_STATE = ("encoder_", "decoder_", "optimizer_")
# Real-number dtypes an array or scalar may have in a file; object, string and
# void dtypes are refused so that no reader ever needs pickle.
_NUMERIC_KINDS = frozenset("biuf")


def save(estimator, path):
    """Save a fitted :class:`~skvae.VAETransformer` to `path` in the skvae format.

    Unlike ``pickle``/``joblib``, the file holds no code: :func:`load` reads
    it back with ``json`` and ``np.load(allow_pickle=False)`` only, so a model
    file can be shared and loaded from untrusted sources.

    Parameters
    ----------
    estimator : VAETransformer
        A fitted estimator.
    path : str, os.PathLike or binary file object
        Where to write. A path is written through a temporary file in the same
        folder and renamed at the end, so an interrupted save never leaves a
        truncated model behind (an existing file stays intact).

    Raises
    ------
    TypeError
        If `estimator` is not a VAETransformer, or holds state the format
        cannot represent.
    sklearn.exceptions.NotFittedError
        If `estimator` is not fitted.

    See Also
    --------
    load : Read the file back.
    """
    if not isinstance(estimator, VAETransformer):
        raise TypeError(f"skvae.save expects a VAETransformer; got {type(estimator).__name__}.")
    check_is_fitted(estimator)
    payload = _encode_estimator(estimator)
    if hasattr(path, "write"):
        _write_archive(path, *payload)
        return
    path = os.path.abspath(os.fspath(path))
    # Not tempfile.mkstemp: its files are private (0600) whatever the umask,
    # and a model file is usually meant to be shared.
    temporary = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "xb") as file:
            _write_archive(file, *payload)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def load(path):
    """Load a :class:`~skvae.VAETransformer` written by :func:`save`.

    Nothing in the file is executed: the metadata is JSON, the arrays are read
    with ``allow_pickle=False``. A model saved on a GPU loads on a machine
    without one, on the CPU, with a warning.

    Parameters
    ----------
    path : str, os.PathLike or binary file object
        The file to read.

    Returns
    -------
    estimator : VAETransformer
        The fitted estimator, with the parameters, fitted attributes, network
        weights and optimizer state it was saved with.

    Raises
    ------
    ValueError
        If the file is not a zip archive (a pickle or joblib file, for
        instance), is truncated or corrupted, is not a skvae file, was written
        by a newer skvae format, or its arrays do not match their SHA-256
        digest. The message says which.

    See Also
    --------
    save : Write a fitted estimator.
    """
    name = _display_name(path)
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ValueError(
            f"{name} is not a skvae model file: it is not a zip archive, or it is truncated. "
            "(pickle and joblib files are refused: loading them would run code.)"
        ) from None
    with archive:
        metadata = _read_metadata(archive, name)
        arrays = _read_arrays(archive, name, metadata["arrays_sha256"])
    return _decode_estimator(metadata, arrays, name)


# ------------------------------------------------------------------ writing


def _encode_estimator(estimator):
    """(metadata dict, npz bytes) for a fitted estimator."""
    from . import __version__

    state = estimator.__getstate__()
    param_names = set(estimator._get_param_names())
    encoder = _Encoder()
    # Both in the attribute order of the estimator, which load restores.
    params = {key: encoder.encode(value, key) for key, value in state.items() if key in param_names}
    fitted_state = {key: encoder.encode(value, key) for key, value in state.items() if key not in param_names}
    buffer = io.BytesIO()
    np.savez(buffer, **encoder.arrays)
    arrays_bytes = buffer.getvalue()
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "skvae_version": __version__,
        "estimator": type(estimator).__name__,
        "params": params,
        "state": fitted_state,
        "arrays_sha256": hashlib.sha256(arrays_bytes).hexdigest(),
    }
    return metadata, arrays_bytes


def _write_archive(file, metadata, arrays_bytes):
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(METADATA_MEMBER, json.dumps(metadata, indent=1, allow_nan=True))
        # Float weights barely compress; storing them keeps save and load fast.
        archive.writestr(ARRAYS_MEMBER, arrays_bytes, compress_type=zipfile.ZIP_STORED)


class _Encoder:
    """Turns state values into JSON values, moving arrays and tensors to ``arrays``."""

    def __init__(self):
        self.arrays = {}

    def _store(self, array):
        key = f"a{len(self.arrays)}"
        self.arrays[key] = array
        return key

    def encode(self, value, where):
        # Exact types: NumPy scalars subclassing float go to the "$scalar" tag.
        if value is None or type(value) in (bool, int, float, str):
            return value
        if isinstance(value, torch.Tensor):
            array = value.detach().cpu().numpy()
            _check_numeric(array.dtype, where)
            return {"$tensor": self._store(array)}
        if isinstance(value, np.ndarray):
            if value.dtype == object and all(isinstance(v, str) for v in value.flat):
                # feature_names_in_ is an object array of str.
                return {"$str_array": [value.shape, value.ravel().tolist()]}
            _check_numeric(value.dtype, where)
            return {"$array": self._store(value)}
        if isinstance(value, np.generic):
            _check_numeric(value.dtype, where)
            return {"$scalar": [value.dtype.str, value.item()]}
        if isinstance(value, np.random.RandomState):
            bit_generator, keys, position, has_gauss, cached_gaussian = value.get_state()
            return {"$random_state": [bit_generator, self._store(keys), position, has_gauss, cached_gaussian]}
        if isinstance(value, torch.device):
            return {"$device": str(value)}
        if isinstance(value, tuple):
            return {"$tuple": [self.encode(v, where) for v in value]}
        if isinstance(value, list):
            return [self.encode(v, where) for v in value]
        if isinstance(value, dict):
            if all(isinstance(k, str) and not k.startswith("$") for k in value):
                return {k: self.encode(v, f"{where}[{k!r}]") for k, v in value.items()}
            return {"$items": [[self.encode(k, where), self.encode(v, f"{where}[{k!r}]")] for k, v in value.items()]}
        raise TypeError(
            f"skvae.save cannot store {where} of type {type(value).__name__}; the skvae format "
            "holds numbers, strings, lists, dicts and arrays only."
        )


def _check_numeric(dtype, where):
    if np.dtype(dtype).kind not in _NUMERIC_KINDS:
        raise TypeError(f"skvae.save cannot store {where} of dtype {dtype}: only numeric arrays are allowed.")


# ------------------------------------------------------------------ reading


def _display_name(path):
    if hasattr(path, "read"):
        return repr(getattr(path, "name", "the file object"))
    return repr(os.fspath(path))


def _read_member(archive, member, name, limit=None):
    try:
        info = archive.getinfo(member)
    except KeyError:
        raise ValueError(
            f"{name} is a zip archive but not a skvae model file: it has no {member!r} member."
        ) from None
    if limit is not None and info.file_size > limit:
        raise ValueError(f"{name} is not a valid skvae model file: {member!r} is implausibly large.")
    try:
        return archive.read(member)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as error:
        raise ValueError(f"{name} is corrupted: member {member!r} cannot be read ({error}).") from None


def _read_metadata(archive, name):
    raw = _read_member(archive, METADATA_MEMBER, name, limit=_MAX_METADATA_BYTES)
    try:
        metadata = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ValueError(f"{name} is corrupted: {METADATA_MEMBER} is not valid JSON.") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        found = metadata.get("format") if isinstance(metadata, dict) else None
        raise ValueError(
            f"{name} is not a skvae model file: its format is {found!r}, expected {FORMAT_NAME!r}."
        )
    version = metadata.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{name} is corrupted: format_version is {version!r}, expected a positive integer.")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{name} was written in skvae format_version {version} (by skvae "
            f"{metadata.get('skvae_version', 'unknown')}); this skvae reads format_version "
            f"{FORMAT_VERSION} and older. Upgrade skvae to load it."
        )
    for key, kind in (("params", dict), ("state", dict), ("arrays_sha256", str)):
        if not isinstance(metadata.get(key), kind):
            raise ValueError(f"{name} is corrupted: {METADATA_MEMBER} lacks a valid {key!r} entry.")
    if metadata.get("estimator") != VAETransformer.__name__:
        raise ValueError(
            f"{name} holds a {metadata.get('estimator')!r}, but skvae.load reads VAETransformer models."
        )
    return metadata


def _read_arrays(archive, name, expected_digest):
    raw = _read_member(archive, ARRAYS_MEMBER, name)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected_digest:
        raise ValueError(
            f"{name} is corrupted or was altered after saving: the SHA-256 digest of "
            f"{ARRAYS_MEMBER} is {digest}, but the file records {expected_digest}."
        )
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except (ValueError, OSError, EOFError, MemoryError, zipfile.BadZipFile) as error:
        raise ValueError(
            f"{name} is corrupted: {ARRAYS_MEMBER} cannot be read ({type(error).__name__}: {error})."
        ) from None


class _Corrupted(ValueError):
    """A file whose contents do not decode; raised as is through nested values."""


class _Decoder:
    """The inverse of :class:`_Encoder`; refuses every tag it does not know."""

    def __init__(self, arrays, name):
        self.arrays = arrays
        self.name = name

    def _fail(self, what):
        raise _Corrupted(f"{self.name} is corrupted: {what}.")

    def _array(self, key):
        if not isinstance(key, str) or key not in self.arrays:
            self._fail(f"it refers to an array {key!r} that {ARRAYS_MEMBER} does not hold")
        array = self.arrays[key]
        if array.dtype.kind not in _NUMERIC_KINDS:
            self._fail(f"array {key!r} has the non-numeric dtype {array.dtype}")
        return array

    def decode(self, value):
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        tags = [k for k in value if k.startswith("$")]
        if not tags:
            return {k: self.decode(v) for k, v in value.items()}
        if len(value) != 1:
            self._fail(f"a tagged value has extra keys {sorted(value)}")
        (tag,) = tags
        body = value[tag]
        decoder = self._TAGS.get(tag)
        if decoder is None:
            self._fail(f"unknown value tag {tag!r}")
        try:
            return decoder(self, body)
        except _Corrupted:
            raise
        except (TypeError, ValueError, KeyError, IndexError, OverflowError) as error:
            self._fail(f"malformed {tag!r} value ({error})")

    def _tensor(self, key):
        # copy(): a tensor must own writable memory, not a view of the npz buffer.
        return torch.from_numpy(self._array(key).copy())

    def _plain_array(self, key):
        return self._array(key).copy()

    def _str_array(self, body):
        shape, values = body
        if not all(isinstance(v, str) for v in values):
            raise TypeError("a string array holds a non-string")
        return np.array(values, dtype=object).reshape(shape)

    def _scalar(self, body):
        dtype, number = body
        dtype = np.dtype(dtype)
        if dtype.kind not in _NUMERIC_KINDS or not isinstance(number, (bool, int, float)):
            raise TypeError(f"not a numeric scalar: {dtype}, {number!r}")
        return dtype.type(number)

    def _random_state(self, body):
        bit_generator, keys, position, has_gauss, cached_gaussian = body
        random_state = np.random.RandomState()
        random_state.set_state((bit_generator, self._array(keys), position, has_gauss, cached_gaussian))
        return random_state

    def _device(self, body):
        if not isinstance(body, str):
            raise TypeError("a device is not a string")
        return torch.device(body)

    def _tuple(self, body):
        if not isinstance(body, list):
            raise TypeError("a tuple is not a list")
        return tuple(self.decode(v) for v in body)

    def _items(self, body):
        return {self.decode(k): self.decode(v) for k, v in body}

    _TAGS = {
        "$tensor": _tensor,
        "$array": _plain_array,
        "$str_array": _str_array,
        "$scalar": _scalar,
        "$random_state": _random_state,
        "$device": _device,
        "$tuple": _tuple,
        "$items": _items,
    }


def _decode_estimator(metadata, arrays, name):
    decoder = _Decoder(arrays, name)
    params = decoder.decode(metadata["params"])
    state = decoder.decode(metadata["state"])
    unknown = sorted(set(params) - set(VAETransformer._get_param_names()))
    if unknown:
        raise ValueError(
            f"{name} was saved with parameters {unknown} that this skvae's VAETransformer "
            "does not have; load it with the skvae version that saved it "
            f"({metadata.get('skvae_version', 'unknown')})."
        )
    missing = [key for key in _TORCH_STATE if key not in state]
    if missing:
        raise ValueError(f"{name} is corrupted: the fitted state lacks {missing}.")
    estimator = VAETransformer.__new__(VAETransformer)
    try:
        estimator.__setstate__({**params, **state})
        estimator._validate_params()
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError) as error:
        raise ValueError(f"{name} does not describe a valid VAETransformer: {error}") from None
    return estimator
