"""Hostile use, thirty-fourth sweep: the interpreter's own modes.

Swept and found sound: ``python -X dev -W error`` (fit and sample on the
command line), ``python -I`` (isolated mode), ``python -b -W
error::BytesWarning``, ``python -X importtime``, ``python -O``.

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

LEFT: nothing.
"""

import subprocess
import sys
import textwrap

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
