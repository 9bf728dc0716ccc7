"""Hostile use, thirty-fourth sweep: the interpreter's own modes.

Swept and found sound: ``python -X dev -W error`` (fit and sample on the
command line), ``python -I`` (isolated mode), ``python -b -W
error::BytesWarning``, ``python -X importtime``, ``python -O``;
``np.seterr(all="raise")`` around every method of the three faces, save and
load, early stopping and ``partial_fit`` on a mixed table with holes (zero-
inflated, constant and 1e300-scale columns) and on an array, and five CLI
commands; the CLI writing non-ASCII categories to a stdout of ``ascii`` or
``latin-1`` encoding (sweep 7's refusal naming the encoding, or the
encoding's replacement) and under ``LC_ALL=C``.

Each family below failed once (see the commit that added its tests):

- **``python -OO`` could not import skvae** (``skvae._faces.with_vae_parameters_doc``):
  the imputer's and the detector's docstrings are composed at import from the
  transformer's Parameters section, and ``-OO`` (``PYTHONOPTIMIZE=2``, some
  deployments' setting) strips every docstring: ``None.index`` raised an
  AttributeError at ``import skvae``, so neither the library nor ``python -m
  skvae`` ran at all. With no docstrings there is nothing to compose.
- **skvae's own text reads named no encoding** (``skvae._memory``): the
  memory checks read ``/proc/meminfo`` and the cgroup files in the locale's
  encoding, and under ``python -X warn_default_encoding`` (PEP 597, the
  check for code that depends on the locale) with its EncodingWarning made an
  error, ``sample`` and ``transform`` failed in skvae's code. They are ASCII,
  read as such. (torch's and joblib's own such reads are theirs.)

- **A model used in an atexit handler failed** (``skvae._inference._on_threads``):
  at the interpreter's exit (an ``atexit`` hook that scores or saves a model,
  a kernel's shutdown), concurrent.futures refuses new work ("cannot schedule
  new futures after interpreter shutdown"), and a ``transform`` of 3,000
  rows, which shares its blocks of rows with skvae's row threads, raised it.
  The calling thread now takes the blocks no thread could, with the same bits.

LEFT: nothing.
"""

import os
import subprocess
import sys
import textwrap

import pytest

_WORK = textwrap.dedent("""
    import io
    import numpy as np
    import pandas as pd
    import skvae
    from skvae import VAEImputer, VAEOutlierDetector, VAETransformer
    from skvae._cli import main

    rng = np.random.default_rng(0)
    table = pd.DataFrame({"a": rng.normal(size=60), "b": rng.choice(["x", "y"], 60), "c": rng.integers(0, 5, 60)})
    model = VAETransformer(max_iter=2, random_state=0).fit(table)
    path = PATH / "m.skvae"
    skvae.save(model, path)
    model = skvae.load(path)
    assert model.transform(table).shape == (60, 10) and model.sample(3).shape == (3, 3)
    holes = table.copy()
    holes.loc[::4, "a"] = np.nan
    assert VAEImputer(max_iter=2, random_state=0).fit_transform(holes)["a"].notna().all()
    assert VAEOutlierDetector(max_iter=2, random_state=0).fit(table).predict(table).shape == (60,)
    table.to_csv(PATH / "t.csv", index=False)
    for words in (["fit", str(PATH / "t.csv"), "--out", str(PATH / "c.skvae"), "--max-iter", "2", "-q"],
                  ["sample", str(PATH / "c.skvae"), "--n", "2"], ["impute", str(PATH / "t.csv"), "--max-iter", "2"],
                  ["score", str(PATH / "c.skvae"), str(PATH / "t.csv")]):
        out, err = io.StringIO(), io.StringIO()
        assert main(words, out, err) == 0, (words, err.getvalue())
    print("worked")
""")


def _run(flags, tmp_path, prelude=""):
    code = f"import pathlib\nPATH = pathlib.Path({str(tmp_path)!r})\n{prelude}\n{_WORK}"
    return subprocess.run([sys.executable, *flags, "-c", code], capture_output=True, text=True, timeout=600)


def test_skvae_imports_and_works_with_docstrings_stripped(tmp_path):
    """``python -OO``: import, the three faces, save/load and the command line work; the docstrings are None."""
    done = _run(["-OO"], tmp_path, prelude="import skvae\nassert skvae.VAEImputer.__doc__ is None")
    assert done.returncode == 0 and "worked" in done.stdout, done.stderr[-3000:]
    helped = subprocess.run([sys.executable, "-OO", "-m", "skvae", "--help"], capture_output=True, text=True,
                            timeout=300)
    assert helped.returncode == 0 and "impute" in helped.stdout, helped.stderr[-3000:]


def test_skvae_reads_no_text_in_the_locales_encoding(tmp_path):
    """Under ``-X warn_default_encoding``, no EncodingWarning from skvae's code (made an error here)."""
    prelude = ("import warnings\n"
               "warnings.filterwarnings('error', category=EncodingWarning, module=r'skvae')")
    done = _run(["-X", "warn_default_encoding"], tmp_path, prelude=prelude)
    assert done.returncode == 0 and "worked" in done.stdout, done.stderr[-3000:]


_AT_EXIT = textwrap.dedent("""
    import atexit, hashlib
    import numpy as np
    from skvae import VAEImputer, VAETransformer

    X = np.random.default_rng(0).normal(size=(3000, 40))
    model = VAETransformer(max_iter=2, random_state=0, n_jobs=2).fit(X)  # rows shared with a second thread
    if WARM:
        model.transform(X)  # skvae's row threads started before the exit

    def digest(values):
        return hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()

    expected = (digest(model.transform(X)), digest(model.score_samples(X)))

    def at_exit():
        assert (digest(model.transform(X)), digest(model.score_samples(X))) == expected
        holes = X[:300].copy()
        holes[::3, 1] = np.nan
        assert not np.isnan(VAEImputer(max_iter=2, random_state=0).fit_transform(holes)).any()
        print("worked at exit", flush=True)

    atexit.register(at_exit)
""")


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_a_model_works_in_an_atexit_handler_with_the_same_bits(warm):
    """transform, score_samples and an imputer's fit in an atexit hook, bit for bit as before the exit."""
    env = {name: value for name, value in os.environ.items() if name != "OMP_NUM_THREADS"}  # the suite's 1
    done = subprocess.run([sys.executable, "-c", f"WARM = {warm}\n{_AT_EXIT}"], capture_output=True, text=True,
                          timeout=600, env=env)
    assert done.returncode == 0 and "worked at exit" in done.stdout, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
