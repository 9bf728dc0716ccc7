"""Every ``>>>`` example runs as written: skvae's docstrings and the docs' .rst pages.

The outputs the examples show are checked with ELLIPSIS and
NORMALIZE_WHITESPACE, so that they may elide long reprs (``Pipeline(...)``)
and wrap lines; everything else must match.
"""

import contextlib
import doctest
import importlib
import pkgutil
import re
import warnings
from pathlib import Path

import pytest
from sklearn.exceptions import ConvergenceWarning

import skvae

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _module_names():
    return ["skvae", *sorted(info.name for info in pkgutil.walk_packages(skvae.__path__, "skvae."))]


def _pages_with_examples():
    pages = [
        path for path in DOCS.rglob("*.rst")
        if not {"_build", "generated"} & set(path.relative_to(DOCS).parts)
        and re.search(r"^\s*>>> ", path.read_text("utf-8"), flags=re.MULTILINE)
    ]
    return sorted(pages)


@contextlib.contextmanager
def _few_epochs_expected():
    # The examples train for a few epochs on purpose; the warning is expected.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.mark.parametrize("module_name", _module_names())
def test_docstring_examples(module_name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    module = importlib.import_module(module_name)
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    with _few_epochs_expected():
        for test in doctest.DocTestFinder(exclude_empty=True).find(module, module_name):
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {module_name} failed (see stdout)"


@pytest.mark.parametrize("page", _pages_with_examples(), ids=lambda p: str(p.relative_to(DOCS)))
def test_docs_page_examples(page, tmp_path, monkeypatch):
    if "import matplotlib" in page.read_text("utf-8") or "from matplotlib" in page.read_text("utf-8"):
        pytest.importorskip("matplotlib")  # the [plot] extra, not the [test] one (hostile sweep 33)
    monkeypatch.chdir(tmp_path)
    with _few_epochs_expected():
        result = doctest.testfile(str(page), module_relative=False, optionflags=OPTIONS, encoding="utf-8")
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {page.name} failed (see stdout)"


def test_the_examples_are_collected():
    # Guards the collection itself: an empty parametrization would pass silently.
    estimator_examples = doctest.DocTestFinder(exclude_empty=True).find(importlib.import_module("skvae._estimator"))
    assert sum(len(test.examples) for test in estimator_examples) >= 5
    pages = {str(path.relative_to(DOCS)) for path in _pages_with_examples()}
    assert {"getting_started.rst", "user_guide.rst", "examples/pipeline.rst", "examples/grid_search.rst",
            "examples/anomaly_detection.rst", "examples/digits.rst"} <= pages


def test_readme_code_compiles_and_uses_real_names():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text("utf-8"), flags=re.DOTALL)
    assert blocks, "README.md has no python code blocks"
    for block in blocks:
        compile(block, "README.md", "exec")
    used = set(re.findall(r"skvae\.(\w+)", "\n".join(blocks)))
    used |= {name.strip() for names in re.findall(r"from skvae import ([\w, ]+)", "\n".join(blocks))
             for name in names.split(",")}
    assert used, "README.md code does not use skvae"
    assert all(hasattr(skvae, name) for name in used), sorted(n for n in used if not hasattr(skvae, n))
