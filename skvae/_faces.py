"""What the public faces over a VAETransformer share: its parameters, passed through.

:class:`~skvae.VAEOutlierDetector` and :class:`~skvae.VAEImputer` hold a
fitted :class:`~skvae.VAETransformer` (``vae_``) and take every one of its
parameters besides their own, written out in their own keyword-only
``__init__`` as HistGradientBoostingClassifier and ...Regressor each write
theirs: users call ``VAEImputer(max_iter=100)`` and grid-search
``latent_dim`` on the imputer itself, which composition
(``VAEImputer(vae=VAETransformer(...))``, ``vae__latent_dim``) would make
longer for the common case. What they share is not copied: the constraints
(``VAETransformer._parameter_constraints``), the docstring entries (spliced
in below with each face's own defaults), and the list of names passed to the
VAE (read from ``VAETransformer.__init__``). tests/test_docstrings_agree.py
keeps each docstring and signature in agreement.
"""

import inspect
import re

import numpy as np

from ._estimator import VAETransformer
from ._state import check_state

VAE_PARAMETERS = tuple(
    parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY)
    for name, parameter in inspect.signature(VAETransformer.__init__).parameters.items()
    if name != "self"
)
VAE_PARAMETER_NAMES = tuple(parameter.name for parameter in VAE_PARAMETERS)


def vae_from(face):
    """An unfitted VAETransformer with the face's VAE parameters."""
    return VAETransformer(**{name: getattr(face, name) for name in VAE_PARAMETER_NAMES})


def vae_to_fit(face):
    """The VAE a face's fit trains: its fitted ``vae_`` with the face's parameters when warm-starting, else a new one.

    The parameters are set on the fitted VAE before it trains, so its own
    continuation check refuses an architecture change; the face's
    transaction then puts the old parameters back.
    """
    if not (face.warm_start and hasattr(face, "vae_")):
        return vae_from(face)
    return face.vae_.set_params(**{name: getattr(face, name) for name in VAE_PARAMETER_NAMES})


def in_the_vaes_form(vae, X):
    """A continued fit's X, already checked by its face, as the first fit gave its VAE: named columns or none.

    Hostile sweep 26: a face fitted on a DataFrame and warm-started on an
    array (or the reverse) is warned by scikit-learn's feature-name check in
    the face's name; the VAE's own check then warned again, naming
    VAETransformer, a class the caller never made. The VAE reads a table by
    position either way (its fitted names go with the array as its columns;
    a DataFrame's labels become positions, which scikit-learn reads as no
    names), so only the form changes. `X` is the face's validated table: a
    2-D array or a DataFrame; other input (a nested list) is left to the
    VAE's conversion.
    """
    from sklearn.utils.validation import _get_feature_names

    names = getattr(vae, "feature_names_in_", None)
    if names is not None and isinstance(X, np.ndarray) and X.ndim == 2:
        import pandas as pd

        return pd.DataFrame(X, columns=names, copy=False)
    if names is None and hasattr(X, "columns") and _get_feature_names(X) is not None:
        return X.set_axis(range(X.shape[1]), axis=1)
    return X


def plain_face_state(face_state):
    """A copy of a face's ``__dict__`` (`face_state`) with its fitted VAE as the VAE's own state.

    One path for the model wherever it sits: the VAE's state is the one its
    own pickling and :func:`skvae.save` write, and the face's
    ``__setstate__`` rebuilds it through ``VAETransformer.__setstate__``,
    which checks it (see :mod:`skvae._state`).
    """
    # BaseEstimator may hand back the __dict__ itself: copy before editing.
    state = dict(face_state)
    if "vae_" in state:
        state["vae_"] = state["vae_"].__getstate__()
    return state


def face_from_state(cls, state):
    """A face's checked state (:func:`skvae._state.check_state`) with its VAE rebuilt from the VAE's own state.

    The VAE is built last, through ``VAETransformer.__setstate__``, once the
    face's whole state is known to hang together: a refused state allocates
    no networks.
    """
    restored = check_state(cls, state)
    if isinstance(state.get("vae_"), dict):
        vae = VAETransformer.__new__(VAETransformer)
        vae.__setstate__(state["vae_"])
        restored["vae_"] = vae
    return restored


#: Wording of VAETransformer's entries that names what only the transformer has:
#: the faces have no ``partial_fit`` (hostile sweep 22: ``help(VAEImputer)``
#: promised ``partial_fit`` calls in three entries), no ``missingness_``, and no transform to
#: the latent space. Each face adds its own
#: rewordings; every phrase must be found, so an edit of the transformer's
#: docstring cannot leave a face's rewording silently unapplied.
FACE_WORDING = (
    ("``fit`` (or one ``partial_fit`` call)\n        is given", "``fit``\n        is given"),
    ("``fit``, ``partial_fit`` and inference", "``fit`` and inference"),
    # A face's transform (the imputer's) returns the table, not the latent codes.
    ("Dimension q of the latent space, the number of output features of\n        ``transform``.",
     "Dimension q of the latent space of the VAE the face fits (``vae_``)."),
    # The fitted mechanism is the VAE's attribute, not the face's.
    ("with the VAE (``missingness_``)", "with the VAE (``vae_.missingness_``)"),
)


def with_vae_parameters_doc(doc, own_parameters=(), *, wording=(), own_entries=None):
    """`doc` with ``{vae_parameters}`` replaced by the Parameters section of VAETransformer's docstring.

    A VAE parameter the face gives another default (``own_parameters``) is
    documented with the face's default, the one its signature has: a reader
    of ``help(VAEImputer)`` must see ``n_importance_train=10``, not the transformer's.

    Parameters
    ----------
    doc : str
        The face's docstring, holding ``{vae_parameters}`` on a line of its own.
    own_parameters : sequence of (str, object)
        The VAE parameters whose default the face changes.
    wording : sequence of (str, str)
        Phrases of the transformer's entries rewritten for the face (besides
        :data:`FACE_WORDING`).
    own_entries : dict of str to str, optional
        Parameters whose whole description the face writes itself (its
        ``max_iter="auto"`` is another rule, say), by name: the text below the
        entry's header line, indented as the other entries are.

    Raises
    ------
    ValueError
        If a phrase of `wording` or a name of `own_entries` is not in the
        transformer's section (the transformer's docstring changed under the
        face's rewording: found at import, not by a reader).
    """
    vae_doc = VAETransformer.__doc__
    if doc is None or vae_doc is None:  # python -OO (PYTHONOPTIMIZE=2) strips docstrings: none to compose
        return doc
    start = vae_doc.index("----------\n", vae_doc.index("    Parameters\n")) + len("----------\n")
    section = vae_doc[start : vae_doc.index("    Attributes\n")].strip("\n")
    for old, new in (*FACE_WORDING, *wording):
        if old not in section:
            raise ValueError(f"VAETransformer's Parameters section no longer holds {old!r}: reword the face's entry")
        section = section.replace(old, new)
    for name, body in (own_entries or {}).items():
        entry = re.compile(rf"^(    {name} : [^\n]*\n)(.*?)(?=^    \w+ : |\Z)", flags=re.MULTILINE | re.DOTALL)
        if not entry.search(section):
            raise ValueError(f"VAETransformer's Parameters section has no entry {name!r}")
        section = entry.sub(lambda match: match.group(1) + body.strip("\n") + "\n\n", section, count=1)
    section = section.rstrip("\n")
    for name, default in own_parameters:
        section = re.sub(rf"^(    {name} : .*default=).*$", lambda match: match.group(1) + _doc_value(default),
                         section, flags=re.MULTILINE)
    return doc.replace("    {vae_parameters}", section)


def _doc_value(value):
    """A default as numpydoc writes it: strings in double quotes, NaN as np.nan."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float) and value != value:
        return "np.nan"
    return repr(value)
