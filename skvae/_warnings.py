"""Warnings that point at the user's line, not into skvae or scikit-learn.

A warning raised deep in training (a ConvergenceWarning, say) reaches the
user through a face, scikit-learn's ``_fit_context``, perhaps a Pipeline or a
GridSearchCV. A fixed ``stacklevel`` points at whichever of those is a fixed
distance away; :func:`warn` counts the frames instead, so the warning names
the user's own line, and Python's default filter shows it once per such line
(one warning for a whole grid search, not one per fit).
"""

import os
import sys
import warnings

import joblib
import sklearn

# skvae itself, and what runs estimators for the user: scikit-learn (pipelines, searches) and joblib.
_SKIPPED = tuple(os.path.dirname(module.__file__) + os.sep for module in (sklearn, joblib, sys.modules[__package__]))
# The standard library's wrappers (contextlib's context managers, functools) are not the user's line either.
_SKIPPED_STDLIB = (os.sep + "contextlib.py", os.sep + "functools.py")


def warn(message, category):
    """``warnings.warn`` with the stack level of the first frame outside skvae and scikit-learn."""
    frame, level = sys._getframe(1), 1
    while frame is not None:
        filename = frame.f_code.co_filename
        if not (filename.startswith(_SKIPPED) or filename.endswith(_SKIPPED_STDLIB)):
            break
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level + 1 if frame is not None else 2)
