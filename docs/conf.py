"""Sphinx configuration of the skvae documentation.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html``
(what ``.ci/run`` does: every warning is an error).
"""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import skvae  # noqa: E402

project = "skvae"
author = "the skvae developers"
copyright = "the skvae developers"
release = skvae.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
# The API pages are generated from the docstrings into docs/generated/.
autosummary_generate = True
autodoc_default_options = {"member-order": "bysource"}
# The class template lists the methods itself; numpydoc's own member table
# would repeat them.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
default_role = "literal"

html_theme = "pydata_sphinx_theme"
html_title = f"skvae {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_context = {"default_mode": "light"}
