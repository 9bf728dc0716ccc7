"""Every code block of README.md runs as written, each as a script of its own.

The ```python blocks run in a subprocess each, in an empty folder; the ```sh
block of command lines runs line by line there too. The blocks are written to
be small (seconds each), so no setting is changed for the test: what runs
here is what a reader copies.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")
PYTHON_BLOCKS = re.findall(r"^```python\n(.*?)^```", README, flags=re.DOTALL | re.MULTILINE)
SHELL_BLOCKS = re.findall(r"^```sh\n(.*?)^```", README, flags=re.DOTALL | re.MULTILINE)

pytestmark = pytest.mark.slow


def _environment():
    env = dict(os.environ)
    # The checkout's skvae, whatever is installed; one torch thread per process.
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _first_line(block):
    return next(line for line in block.splitlines() if line.strip() and not line.startswith("#"))[:60]


def test_the_readme_has_the_blocks_this_test_runs():
    assert len(PYTHON_BLOCKS) >= 4
    assert any("__main__" in block and "LocalCluster" in block for block in PYTHON_BLOCKS)
    assert len(SHELL_BLOCKS) == 1 and "python -m skvae fit" in SHELL_BLOCKS[0]


def _missing_extra(block):
    """The optional package a block needs and this environment lacks (the README's install line has no dask)."""
    for module, extra in (("dask", "dask"), ("dask_ml", "dask"), ("distributed", "dask")):
        if re.search(rf"^\s*(import|from) {module}\b", block, flags=re.MULTILINE):
            try:
                __import__(module)
            except ImportError:
                return f"{module} (pip install -e '.[{extra}]')"
    return None


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=_first_line)
def test_python_block_runs_as_a_script(block, tmp_path):
    missing = _missing_extra(block)
    if missing:
        pytest.skip(f"this block needs {missing}")
    script = tmp_path / "readme_block.py"
    script.write_text(block, "utf-8")
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=_environment(),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.stdout.strip(), "every block prints what it computed"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_shell_block_runs_line_by_line(tmp_path, monkeypatch, capsys):
    from skvae._cli import main

    monkeypatch.chdir(tmp_path)
    for line in SHELL_BLOCKS[0].strip().splitlines():
        words = shlex.split(line)
        assert words[0] == "python", line
        if words[1:3] == ["-m", "skvae"]:
            # What `python -m skvae` runs, in this process: no interpreter start per line.
            assert main(words[3:]) == 0, f"{line}\n{capsys.readouterr().err}"
            continue
        result = subprocess.run([sys.executable, *words[1:]], cwd=tmp_path, env=_environment(),
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{line}\n{result.stderr[-3000:]}"
    for name in ("wine.csv", "model.skvae", "latent.csv", "reconstructed.csv", "generated.csv", "scores.csv",
                 "completed.csv"):
        assert (tmp_path / name).stat().st_size > 0, name
    header = (tmp_path / "generated.csv").read_text().splitlines()[0]
    assert header.startswith("alcohol,malic_acid,") and "target" not in header
