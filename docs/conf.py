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
    # MathJax from a Python package, copied into the site: the equations
    # render offline, with no request to a CDN.
    "sphinx-mathjax-offline",
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
html_static_path = ["_static"]
html_css_files = ["custom.css"]
# No left sidebar: on most pages the theme would show an empty "Section
# Navigation" there, and everywhere it squeezes the code blocks into
# sideways scrolling at 1280 px. The top bar, the section index pages and the
# previous/next links navigate instead.
html_sidebars = {"**": []}
# "fit()" rather than "VAETransformer.fit()" in the on-this-page list, which
# otherwise runs wider than its column on the API page.
toc_object_entries_show_parents = "hide"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_context = {"default_mode": "light"}
