"""Hostile use, twenty-eighth sweep: model files, their paths and permissions, and CSV files.

Swept and found sound: ``skvae.save``/``load``, pickle, ``copy.deepcopy``
and joblib of VAETransformer, VAEImputer (``sample_posterior`` too) and
VAEOutlierDetector fitted on a DataFrame of float, category, Int64,
boolean, string and object columns with holes under
``missing_mechanism="self_masking"``: the copy's ``partial_fit``,
``warm_start`` fit, fresh fit, ``sample``, draws and scores equal the
original's bit for bit; pickle protocols 0 to 5; ``joblib.load(...,
mmap_mode="r")`` of each face (``transform``, scores, ``partial_fit`` and
``fit`` on the read-only arrays, no warning); parameters given as NumPy
scalars of every fixed size, ``np.int64`` keys of a ``likelihood`` dict, an
``OrderedDict`` or ``defaultdict`` ``likelihood`` (read back as a dict, the
same model), a ``torch.device``, integers beyond 2**64: loaded equal, saved
again to the same bytes, refitted with ``warm_start``; column names and
levels holding NUL, ``$tensor``, ``x.y``, ``#``, emoji, 3,000 characters or
a lone surrogate: saved and loaded equal; torch's thread count, default
dtype, grad and inference modes, deterministic flag and generators, and
NumPy's, after saves, loads and refused loads and saves; an unreadable file
and a name over 255 bytes (Python's errors, naming the path); an unfitted
estimator (``NotFittedError``). CSV headers duplicated after pandas' own
renaming (``a,a,a.1``), or through quotes, a trailing space or a
no-break space (refused by name), differing in case (two columns), ``sep=;``
after a byte-order mark, two byte-order marks, ``\r\r\n``, a ``#``
name, a backslash-escaped quote (refused with the quoting advice); gzip,
bzip2 and xz files of several members, with trailing bytes, truncated or
damaged (read or refused as before this sweep's change to their reading).

Each family below failed once (see the commit that added its tests):

- **A read-only file replaced, a read-only folder named by a temporary file**
  (``skvae._files.destination_problem``, ``_permission_problem``): every
  output is written to a temporary file beside it and renamed over it, which
  needs only the folder's permission. So ``skvae.save``, ``skvae fit --out``
  and every CSV ``--out`` replaced a file made read-only (``chmod a-w``) to
  keep it, without a word, where ``open(path, "w")``, the shell's ``>``,
  ``torch.save``, ``joblib.dump`` and ``to_csv`` refuse it; and
  ``skvae.save`` into a folder without write permission failed with
  "Permission denied: '.../.m.skvae.<hex>.tmp'", a name the user never gave
  (the command line checked the folder itself, through the link's folder,
  not its target's; ``demo --out`` not at all: an existing read-only
  folder failed after the demo's training, a folder to be made in one with
  Python's "[Errno 13] Permission denied"). Both are refused before any work now, naming the file
  or the folder (a PermissionError from ``save``, a refusal from the command
  line). Decided: a read-only file is refused as ``open`` refuses it
  (``os.access``), so the superuser, whom ``open`` lets write it, replaces it.
  Likewise another user's file in a sticky folder (``/tmp``): writable, but
  only its owner may rename over it, so the rename failed after the work
  ("Operation not permitted", naming the temporary file, or nothing from the
  command line); refused before the work (decided: not written in place,
  which would give up the whole-or-nothing write).
- **A path object that gives bytes** (``skvae._persistence._fspath``):
  ``os.PathLike`` may return bytes (the entries of ``os.scandir(b"models")``
  do); ``skvae.save`` then failed with "a bytes-like object is required,
  not 'str'" while ``load`` read it and named it ``b'...'``. Such a path is
  decoded as the file system encodes names (``os.fsdecode``, lossless, a
  name of non-UTF-8 bytes too); bytes given alone are still refused (sweep
  18's decision: they may be a model's contents, to pass as ``io.BytesIO``).
- **A fitted model save refused** (``skvae._persistence._DTYPES``, the
  ``$object_array`` tag): ``hidden_layer_sizes`` may be any 1-D integer
  array, and an int8, int16, uint16, uint64 or object array of them fitted
  and then could not be saved ("only plain numeric arrays are allowed").
  Such arrays are written in their dtype and read back equal (an older
  skvae refuses such a file, which it could not have written). A tensor of
  the new dtypes is still refused by the state's schema. Sweep 18's
  decision kept: a ``np.longdouble`` parameter is refused (no portable
  record), but the refusal said no way out, and for an imputer or a
  detector named ``beta`` first, whose advice (``set_params``) could not
  work, since the fitted VAE holds its own copy (``vae_.beta``): the VAE's
  fields are checked first, and the advice is ``set_params`` where that
  suffices (changing no fitted result) and to fit again where it does not.
- **A compressed CSV file larger than memory** (``skvae._csv._decompressed_within_memory``):
  a ``.csv.gz``, ``.bz2``, ``.xz`` or ``.zip`` was decompressed whole in
  one call, and text compresses a thousandfold: a file of a megabyte or two
  (a decompression bomb, or a table too large for the machine) asked for
  hundreds of gigabytes at once and the system killed the command without
  a word. It is decompressed in pieces, refused naming the file and the
  memory once it would outgrow what is available; what fits reads as before
  (multi-member, truncated, damaged and trailing-data files alike).
- **A path starting with ``~``** (``skvae._files.home_unexpanded``):
  ``skvae.save(model, "~/models/m.skvae")`` was told that
  ``/working/folder/~/models`` does not exist, "create it first" (a folder
  named ``~``, one ``rm -r ~`` from a disaster); ``load``, a model or data
  file and ``--out=~/...`` (which the shell leaves as typed) said only "no
  such file". ``~`` is still not expanded (decided: ``open``,
  ``torch.save`` and ``joblib.dump`` do not, and a folder may be named so);
  where such a path names nothing, the message says why and what to give.
- **A file of a newer skvae called corrupted** (``skvae._persistence._newer_writer``):
  a newer skvae writing the same ``format_version`` may store what an older
  reader does not know (this sweep adds integer arrays of 8, 16 and 64 bits
  and the ``$object_array`` tag; a new fitted attribute is the same), and
  the older one said "is corrupted: unknown value tag" or "has dtype I8,
  which skvae files never hold", sending the user after a damaged copy.
  Where the file's digest holds and its writer is newer, the message names
  that version and says to upgrade; otherwise it is damage, as before.
- **A full disk, named by nothing** (``skvae.save``'s ``write``): "[Errno
  28] No space left on device", as the command line's ``fit`` said it
  before sweep 18 (which named the file there only); the error now names
  the model's path (``filename`` too).
- **Files of other libraries, unnamed** (``skvae._persistence._compression``,
  ``_looks_like_pickle``, ``_OTHER_FORMATS``): ``joblib.dump(model, path,
  compress=3)`` (zlib, joblib's usual compression) and ``compress="lzma"``,
  ``np.save`` and HDF5 files were "not a safetensors file, or it is
  truncated or corrupt (Error while deserializing: header too large)", and a
  pickle of protocol 0 "text (a CSV file?)"; a joblib file compressed with
  gzip, bzip2 or xz was told to be decompressed, and only then refused as a
  pickle. Each is named now (a compressed joblib file as the pickle it is,
  told apart from a model sent compressed by its first bytes decompressed);
  a truncated model is still "truncated or corrupt".

Found and LEFT:

- Sweep 18's decision kept: a ``np.longdouble`` parameter is not saved (no
  portable record); only the refusal's advice changed (above).
- skvae releases before this one call a file holding the new integer
  arrays or ``$object_array`` "corrupted" (they cannot be changed); readers
  from this version on say "upgrade" for what a later version adds.
- A plain (uncompressed) CSV file larger than memory is read whole without
  a check: it costs its own size (no small file asks for more); the scale
  of tables is another family's.
- ``inverse_transform`` and ``sample`` of a model fitted on a DataFrame
  whose column name holds a lone surrogate (``"\udcff"``, from
  ``os.fsdecode`` of a non-UTF-8 name) fail in pandas' Arrow-backed column
  index (UnicodeEncodeError); save and load keep such names. A pandas 3
  limitation for a sweep of input types.
- A header field starting with a byte-order mark after the first
  (``a,\ufeffa``, files glued together) makes a column ``'\ufeffa'`` beside
  ``a``; the command's "Fitting" line shows it by its repr. Left, as sweep
  18 left such cells named.
- ``skvae.save`` to a file object opened ``"r+b"`` over a longer file
  leaves the old tail after the model (``load`` then refuses it as
  appended-to): the caller's object and position, as ``json.dump`` or
  ``pickle.dump`` treat them.
"""

import io
import json
import os
import pickle
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy

import skvae
from skvae import VAEImputer, VAEOutlierDetector, VAETransformer
from _cli_run import run_cli as _run
from skvae._csv import CommandError, read_table
from skvae._persistence import file_digest

ROOT = Path(__file__).resolve().parents[1]
FAST = dict(max_iter=2, hidden_layer_sizes=(8,), latent_dim=2, random_state=0)
FIT_FAST = ["--max-iter", "2", "--hidden-layer-sizes", "8", "--latent-dim", "2"]


@pytest.fixture(scope="module")
def fitted():
    X = np.random.RandomState(0).randn(20, 3)
    return VAETransformer(**FAST).fit(X), X


# ------------------------------------------------------------ permissions

# Run in a child process as an unprivileged user: the superuser may write any file, so a check of
# permissions shows only without privileges. The child imports skvae (and torch) first, as the
# user who runs the tests, then drops its privileges where it has them.
_UNPRIVILEGED = r"""
import io, json, os, pwd, sys
import skvae
from skvae._cli import main
from skvae._csv import CommandError, read_table
base = sys.argv[1]
model = skvae.load(os.path.join(base, "rw", "model.skvae"))
if os.geteuid() == 0:
    nobody = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)
results = {}

def attempt(name, call):
    try:
        call()
        results[name] = ["ok", ""]
    except Exception as error:
        results[name] = [type(error).__name__, str(error)]

attempt("save over read-only", lambda: skvae.save(model, os.path.join(base, "rw", "kept.skvae")))
attempt("save through a link to read-only", lambda: skvae.save(model, os.path.join(base, "rw", "link.skvae")))
attempt("save into read-only folder", lambda: skvae.save(model, os.path.join(base, "ro", "new.skvae")))
attempt("save over writable", lambda: skvae.save(model, os.path.join(base, "rw", "writable.skvae")))
attempt("save over another's in a sticky folder",
        lambda: skvae.save(model, os.path.join(base, "sticky", "theirs.skvae")))
for name, argv in {
    "cli transform over read-only": ["transform", os.path.join(base, "rw", "model.skvae"),
                                     os.path.join(base, "rw", "data.csv"), "--out",
                                     os.path.join(base, "rw", "kept.csv")],
    "cli fit over read-only": ["fit", os.path.join(base, "rw", "data.csv"), "--out",
                               os.path.join(base, "rw", "kept.skvae"), *sys.argv[2:]],
    "cli fit into read-only folder": ["fit", os.path.join(base, "rw", "data.csv"), "--out",
                                      os.path.join(base, "ro", "new.skvae"), *sys.argv[2:]],
    "cli demo into read-only folder": ["demo", "--out", os.path.join(base, "ro")],
    "cli demo inside read-only folder": ["demo", "--out", os.path.join(base, "ro", "demo")],
    "cli transform over another's in a sticky folder": ["transform", os.path.join(base, "rw", "model.skvae"),
                                                        os.path.join(base, "rw", "data.csv"), "--out",
                                                        os.path.join(base, "sticky", "theirs.csv")],
}.items():
    out, err = io.StringIO(), io.StringIO()
    status = main(argv, out, err)
    results[name] = [status, out.getvalue() + err.getvalue()]
print(json.dumps(results))
"""


@pytest.fixture
def permission_places(fitted):
    """Folders the unprivileged child may write (``rw``), may not (``ro``), and a sticky one, outside pytest's tmp."""
    model, X = fitted
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("nobody")
        except (ImportError, KeyError):
            pytest.skip("no unprivileged user to run as")
    base = Path(tempfile.mkdtemp(prefix="skvae-sweep28-"))
    if os.geteuid() == 0 and any(not folder.stat().st_mode & stat.S_IXOTH for folder in base.parents):
        base.rmdir()
        pytest.skip("the temporary folder is private: another user cannot reach it")
    try:
        (base / "rw").mkdir()
        (base / "ro").mkdir()
        skvae.save(model, base / "rw" / "model.skvae")
        (base / "rw" / "data.csv").write_text(
            "a,b,c\n" + "".join(f"{x:.4f},{y:.4f},{z:.4f}\n" for x, y, z in X))
        for name in ("kept.skvae", "kept.csv"):
            (base / "rw" / name).write_bytes(b"keep me\n")
            (base / "rw" / name).chmod(0o444)
        (base / "rw" / "link.skvae").symlink_to("kept.skvae")
        (base / "rw" / "writable.skvae").write_bytes(b"replace me\n")
        (base / "rw" / "writable.skvae").chmod(0o666)
        (base / "sticky").mkdir()
        for name in ("theirs.skvae", "theirs.csv"):
            (base / "sticky" / name).write_bytes(b"theirs\n")
            (base / "sticky" / name).chmod(0o666)  # anyone may write it; only its owner may replace it
        (base / "sticky").chmod(0o1777)
        base.chmod(0o755)
        (base / "rw").chmod(0o777)
        (base / "ro").chmod(0o555)
        yield base
    finally:
        (base / "ro").chmod(0o755)
        shutil.rmtree(base)


def test_read_only_files_and_folders_are_refused_before_any_work(permission_places):
    base = permission_places
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.run([sys.executable, "-c", _UNPRIVILEGED, str(base), *FIT_FAST], capture_output=True,
                           text=True, env=env, timeout=300, cwd=str(base))
    assert child.returncode == 0, child.stderr
    results = json.loads(child.stdout.strip().splitlines()[-1])
    kept = str(base / "rw" / "kept.skvae")
    # A read-only file is not replaced, directly or through a symbolic link: named, and what to do.
    for case in ("save over read-only", "save through a link to read-only"):
        kind, message = results[case]
        assert kind == "PermissionError", results[case]
        assert "read-only" in message and "chmod u+w" in message, message
    assert kept in results["save over read-only"][1]
    # A folder without write permission is named, not the temporary file written in it.
    kind, message = results["save into read-only folder"]
    assert kind == "PermissionError" and str(base / "ro") in message and ".tmp" not in message, message
    assert results["save over writable"] == ["ok", ""]
    assert skvae.load(base / "rw" / "writable.skvae").latent_dim == 2
    # The command line: refused by name before the work (no "Fitting" line), the file untouched.
    for case in ("cli transform over read-only", "cli fit over read-only"):
        status, said = results[case]
        assert status == 1 and "read-only" in said and "Fitting" not in said, said
    status, said = results["cli fit into read-only folder"]
    assert status == 1 and f"its folder {base / 'ro'} is not writable" in said and "Fitting" not in said, said
    for case in ("cli demo into read-only folder", "cli demo inside read-only folder"):
        status, said = results[case]  # refused before the demo's training, which takes up to a minute
        assert status == 1 and f"the folder {base / 'ro'} is not writable" in said, said
    for name in ("kept.skvae", "kept.csv"):
        assert (base / "rw" / name).read_bytes() == b"keep me\n"
        assert stat.S_IMODE((base / "rw" / name).stat().st_mode) == 0o444
    assert (base / "rw" / "link.skvae").is_symlink()
    # Another user's file in a sticky folder (as /tmp): writable, but only its owner may rename over it.
    if os.geteuid() == 0:  # the child runs as another user than the files' owner
        kind, message = results["save over another's in a sticky folder"]
        assert kind == "PermissionError" and "belongs to another user" in message and ".tmp" not in message, message
        status, said = results["cli transform over another's in a sticky folder"]
        assert status == 1 and "belongs to another user" in said, said
        for name in ("theirs.skvae", "theirs.csv"):
            assert (base / "sticky" / name).read_bytes() == b"theirs\n"
    else:  # the child owns them
        assert results["save over another's in a sticky folder"] == ["ok", ""]
    assert sorted(os.listdir(base / "ro")) == []
    assert not [name for name in os.listdir(base / "rw") if name.endswith(".tmp")]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="the superuser's case")
def test_the_superuser_replaces_a_read_only_file_as_open_would(tmp_path, fitted):
    """Decided: permissions are read as ``open`` reads them (``os.access``), and ``open`` lets root write."""
    model, X = fitted
    path = tmp_path / "kept.skvae"
    path.write_bytes(b"old")
    path.chmod(0o444)
    skvae.save(model, path)
    assert np.array_equal(skvae.load(path).transform(X), model.transform(X))
    assert stat.S_IMODE(path.stat().st_mode) == 0o444  # the mode kept, as for any file replaced


# ------------------------------------------------------------ paths as bytes


class _BytesPath:
    """An os.PathLike whose __fspath__ gives bytes, as os.DirEntry of a bytes folder does."""

    def __init__(self, path):
        self.path = path

    def __fspath__(self):
        return self.path


def test_path_objects_giving_bytes_are_saved_and_loaded(tmp_path, fitted):
    model, X = fitted
    skvae.save(model, tmp_path / "first.skvae")
    entries = list(os.scandir(os.fsencode(tmp_path)))
    assert isinstance(os.fspath(entries[0]), bytes)
    skvae.save(model, entries[0])  # over itself, through the entry
    assert np.array_equal(skvae.load(entries[0]).transform(X), model.transform(X))
    # A name that is not UTF-8: written under exactly those bytes, read back, named in messages as text.
    odd = os.fsencode(tmp_path) + b"/model-\xff.skvae"
    skvae.save(model, _BytesPath(odd))
    assert b"model-\xff.skvae" in os.listdir(os.fsencode(tmp_path))
    assert np.array_equal(skvae.load(_BytesPath(odd)).transform(X), model.transform(X))
    with pytest.raises(FileNotFoundError, match="skvae.save cannot write"):
        skvae.save(model, _BytesPath(os.fsencode(tmp_path) + b"/no/such/folder/m.skvae"))
    (tmp_path / "empty.skvae").write_bytes(b"")
    with pytest.raises(ValueError, match="empty") as refused:
        skvae.load(_BytesPath(os.fsencode(tmp_path / "empty.skvae")))
    assert "b'" not in str(refused.value)
    # Bytes alone stay refused (sweep 18): they may be a model's contents.
    with pytest.raises(TypeError, match="io.BytesIO"):
        skvae.load(os.fsencode(tmp_path / "first.skvae"))


# ------------------------------------------------------------ parameters fit accepts, save must write


def _saved(model):
    buffer = io.BytesIO()
    skvae.save(model, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("cls", [VAETransformer, VAEImputer])
@pytest.mark.parametrize("dtype", ["int8", "int16", "uint16", "uint64", "object"])
def test_hidden_layer_sizes_of_any_integer_array_are_saved(cls, dtype):
    """Any 1-D integer array is a valid ``hidden_layer_sizes``; save wrote only those of its tensors' dtypes."""
    rng = np.random.RandomState(0)
    X = rng.randn(20, 3)
    if cls is VAEImputer:
        X[rng.rand(20, 3) < 0.2] = np.nan
    sizes = np.array([8, 4], dtype=dtype)
    model = cls(**{**FAST, "hidden_layer_sizes": sizes}).fit(X)
    data = _saved(model)
    loaded = skvae.load(io.BytesIO(data))
    kept = loaded.get_params()["hidden_layer_sizes"]
    assert isinstance(kept, np.ndarray) and kept.dtype == sizes.dtype and kept.tolist() == [8, 4]
    if dtype == "object":
        assert [type(size) for size in kept] == [int, int]
    assert np.array_equal(loaded.transform(X), model.transform(X), equal_nan=True)
    assert _saved(loaded) == data  # the same bytes again
    assert np.array_equal(pickle.loads(pickle.dumps(loaded)).transform(X), model.transform(X), equal_nan=True)


def test_a_network_tensor_of_a_newly_admitted_dtype_is_still_refused(fitted):
    """The integer dtypes admitted for parameters give a hostile file no way to put integers in a network."""
    model, X = fitted
    data = _saved(model)
    (length,) = struct.unpack("<Q", data[:8])
    metadata = json.loads(data[8:8 + length])["__metadata__"]
    arrays = {key: np.array(value) for key, value in safetensors.numpy.load(data).items()}
    weight = next(key for key in sorted(arrays) if key.endswith("weight"))
    arrays[weight] = arrays[weight].astype(np.int8)
    metadata["sha256"] = file_digest(metadata, arrays)  # a forger recomputes the checksum
    with pytest.raises(ValueError, match="float32"):
        skvae.load(io.BytesIO(safetensors.numpy.save(arrays, metadata=metadata)))


@pytest.mark.parametrize("cls, parameter, value", [
    (VAETransformer, "beta", np.longdouble(1)),
    (VAEOutlierDetector, "contamination", np.longdouble(0.1)),
    (VAEImputer, "missing_values", np.longdouble(-1)),
    (VAEImputer, "beta", np.longdouble(1)),
    (VAEOutlierDetector, "learning_rate", np.longdouble(1e-3)),
])
def test_a_long_double_parameter_is_refused_with_a_way_out_that_works(cls, parameter, value):
    """Sweep 18 decided that save refuses a np.longdouble (no portable record); the refusal now says what to do.

    A parameter the face alone reads (``contamination``, ``missing_values``) or the transformer's own
    can be set to a Python number after fit (no fitted result changes); a parameter the face copied into
    its fitted VAE at fit (``beta``, ``learning_rate``) cannot be reached by ``set_params``: fit again.
    """
    rng = np.random.RandomState(0)
    X = rng.randn(20, 3)
    if parameter == "missing_values":
        X[rng.rand(20, 3) < 0.2] = -1
    model = cls(**{**FAST, parameter: value}).fit(X)
    with pytest.raises(TypeError, match=f"of dtype {np.dtype(np.longdouble)}") as refused:
        _saved(model)
    assert refused.value.has("advice")
    if "fit again" in str(refused.value):
        assert cls is not VAETransformer and parameter in ("beta", "learning_rate")
        model = cls(**{**FAST, parameter: float(value)}).fit(X)
    else:
        assert f"model.set_params({parameter}=float(model.{parameter}))" in str(refused.value)
        before = model.score_samples(X) if hasattr(model, "score_samples") else model.transform(X)
        model.set_params(**{parameter: float(getattr(model, parameter))})
        after = model.score_samples(X) if hasattr(model, "score_samples") else model.transform(X)
        assert np.array_equal(before, after)
    loaded = skvae.load(io.BytesIO(_saved(model)))
    assert loaded.get_params()[parameter] == float(value)


# ------------------------------------------------------------ compressed CSV files


def _text_bomb(megabytes, method):
    """A compressed CSV file of `megabytes` of rows, a few hundred times smaller than its text."""
    block = b"1.5,2.25,3\n" * (2**20 // 11)
    if method == "gzip":
        compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
        return b"".join([compressor.compress(b"a,b,c\n"), *(compressor.compress(block) for _ in range(megabytes)),
                         compressor.flush()])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive, \
            archive.open("data.csv", "w") as member:
        member.write(b"a,b,c\n")
        for _ in range(megabytes):
            member.write(block)
    return buffer.getvalue()


@pytest.mark.parametrize("method, suffix", [("gzip", ".csv.gz"), ("zip", ".zip")])
def test_a_compressed_csv_larger_than_memory_is_refused_while_decompressing(tmp_path, monkeypatch, method, suffix):
    """Decompressed a piece at a time, and refused naming the file before it outgrows the memory available.

    The machine's memory is made 150 MiB for the test (``_host_available_bytes``): a 200 MiB table in a
    file of a megabyte or two was decompressed whole at once, whatever the memory (the system's OOM
    killer ended the command on a large enough file, with no word).
    """
    import skvae._csv
    import skvae._memory

    bomb = tmp_path / f"bomb{suffix}"
    bomb.write_bytes(_text_bomb(200, method))
    assert bomb.stat().st_size < 4 * 2**20
    monkeypatch.setattr(skvae._memory, "_host_available_bytes", lambda: 150 * 2**20)
    with pytest.raises(CommandError) as refused:  # the reader every command reads its data with
        read_table(str(bomb))
    assert str(bomb) in str(refused.value) and "decompresses to more than" in str(refused.value)
    assert "150.0 MiB of memory available" in str(refused.value)
    # A file that fits is read as before, whole (in four pieces here).
    monkeypatch.setattr(skvae._csv, "_DECOMPRESSED_CHUNK", 2**19)
    small = tmp_path / f"small{suffix}"
    small.write_bytes(_text_bomb(2, method))
    table = read_table(str(small))
    assert table.frame.shape == (2 * (2**20 // 11), 3) and table.frame.iloc[-1].tolist() == [1.5, 2.25, 3.0]


# ------------------------------------------------------------ a home folder left unexpanded


def test_a_path_starting_with_a_tilde_that_names_nothing_is_explained(tmp_path, monkeypatch, fitted):
    """``~`` is not expanded (decided, as ``open``, ``torch.save`` and ``joblib.dump``); the messages say so.

    "Create it first" would have made a folder named ``~`` in the working folder.
    """
    model, X = fitted
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"starts with '~', which Python does not expand: pass "
                                                r"os.path.expanduser\(path\)") as refused:
        skvae.save(model, "~/models/m.skvae")
    assert "create it first" not in str(refused.value)
    with pytest.raises(FileNotFoundError, match=r"os.path.expanduser\(path\)"):
        skvae.load("~/models/m.skvae")
    for argv in (["transform", "~/m.skvae", "data.csv"], ["fit", "~/data.csv", "--out", "m.skvae"],
                 ["fit", "data.csv", "--out", "~/models/m.skvae", *FIT_FAST]):
        if argv[0] == "fit" and argv[1] == "data.csv":
            (tmp_path / "data.csv").write_text("a,b\n" + "".join(f"{x:.3f},{y:.3f}\n" for x, y, _ in X))
        status, out, err = _run(argv)
        assert status == 1 and "the shell expands ~ only unquoted at the start of a word" in err, err
        assert "create it first" not in err and "Fitting" not in out + err
    assert not (tmp_path / "~").exists()
    # A folder really named "~" is a path like any other: written and read, no word of the shell.
    (tmp_path / "~").mkdir()
    skvae.save(model, "~/m.skvae")
    assert np.array_equal(skvae.load("~/m.skvae").transform(X), model.transform(X))
    with pytest.raises(FileNotFoundError, match="create it first"):
        skvae.save(model, "~/models/m.skvae")


# ------------------------------------------------------------ a file of a newer skvae


def _forged(model, version, change):
    """`model`'s file as skvae `version` might write it: `change(state, arrays)` applied, the digest made anew."""
    data = _saved(model)
    (length,) = struct.unpack("<Q", data[:8])
    metadata = dict(json.loads(data[8:8 + length])["__metadata__"], skvae_version=version)
    arrays = {key: np.array(value) for key, value in safetensors.numpy.load(data).items()}
    state = json.loads(metadata["state"])
    change(state, arrays)
    metadata["state"] = json.dumps(state)
    metadata["sha256"] = file_digest(metadata, arrays)
    return io.BytesIO(safetensors.numpy.save(arrays, metadata=metadata))


def _new_tag(state, arrays):
    state["tol"] = {"$decimal": "0.0001"}


def _new_dtype(state, arrays):
    arrays["tol"] = np.array([1e-4], dtype=np.float16)
    state["tol"] = {"$array": "tol"}


def _new_field(state, arrays):
    state["calibration_"] = 1.0


@pytest.mark.parametrize("change, what", [(_new_tag, "a value tagged '$decimal'"),
                                          (_new_dtype, "tensor 'tol' of dtype F16"),
                                          (_new_field, "calibration_")])
def test_a_file_of_a_newer_skvae_says_to_upgrade_not_that_it_is_corrupted(fitted, change, what):
    """What this version does not read, in a file whose digest holds, is a newer writer's, not damage."""
    model, _ = fitted
    newer = f"{skvae.__version__.split('.')[0]}.{int(skvae.__version__.split('.')[1]) + 1}.0"
    with pytest.raises(ValueError, match="upgrade skvae to load it") as refused:
        skvae.load(_forged(model, newer, change))
    assert f"skvae {newer}" in str(refused.value) and what in str(refused.value)
    if change is not _new_field:
        assert "corrupted" not in str(refused.value)
    # Written by this version or an older one, the same content is damage (or a forgery), as before.
    with pytest.raises(ValueError) as refused:
        skvae.load(_forged(model, skvae.__version__, change))
    assert "upgrade" not in str(refused.value)
    if change is not _new_field:
        assert "is corrupted" in str(refused.value)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_is_named_by_save(fitted):
    model, _ = fitted
    with pytest.raises(OSError, match=r"No space left on device: '/dev/full'") as refused:
        skvae.save(model, "/dev/full")
    assert refused.value.errno == 28 and refused.value.filename == "/dev/full"


# ------------------------------------------------------------ files of other libraries


@pytest.mark.parametrize("compress", [True, 1, 3, 9, ("zlib", 6), ("lzma", 3), ("gzip", 3), ("bz2", 3), ("xz", 3)],
                         ids=repr)
def test_a_compressed_joblib_file_is_named_as_one(tmp_path, fitted, compress):
    joblib = pytest.importorskip("joblib")
    model, _ = fitted
    path = tmp_path / "model.joblib"
    joblib.dump(model, path, compress=compress)
    with pytest.raises(ValueError, match=r"compressed data, as joblib.dump\(..., compress=...\) writes: a pickle, "
                                         r"refused by skvae.load \(loading it would run code\)"):
        skvae.load(path)


@pytest.mark.parametrize("method", ["gzip", "bz2", "lzma"])
def test_a_compressed_model_is_told_to_be_decompressed_and_a_compressed_pickle_is_refused(fitted, method):
    model, _ = fitted
    compress = __import__(method).compress
    with pytest.raises(ValueError, match=r"compressed data; decompress it first \(a model file is read as saved\)"):
        skvae.load(io.BytesIO(compress(_saved(model))))
    for protocol in (0, 5):
        with pytest.raises(ValueError, match="a pickle, refused by skvae.load"):
            skvae.load(io.BytesIO(compress(pickle.dumps(model, protocol=protocol))))


@pytest.mark.parametrize("protocol", [0, 1, 2, 5])
def test_a_pickle_of_any_protocol_is_named_as_one(fitted, protocol):
    """Protocols 0 and 1 open with no PROTO byte; 0 is text, and was "text (a CSV file?)"."""
    model, _ = fitted
    with pytest.raises(ValueError, match=r"it is a pickle \(or joblib\) file"):
        skvae.load(io.BytesIO(pickle.dumps(model, protocol=protocol)))


def test_numpy_and_hdf5_files_are_named_and_a_truncated_model_is_still_truncated(fitted):
    model, X = fitted
    buffer = io.BytesIO()
    np.save(buffer, X)
    with pytest.raises(ValueError, match=r"it is a NumPy .npy file \(np.save\)\.$"):
        skvae.load(io.BytesIO(buffer.getvalue()))
    with pytest.raises(ValueError, match=r"it is an HDF5 file\.$"):
        skvae.load(io.BytesIO(b"\x89HDF\r\n\x1a\n" + bytes(500)))
    data = _saved(model)
    for end in (8, 9, 100, len(data) // 2, len(data) - 1):
        with pytest.raises(ValueError, match="truncated or corrupt") as refused:
            skvae.load(io.BytesIO(data[:end]))
        assert "compressed" not in str(refused.value) and "pickle" not in str(refused.value)
