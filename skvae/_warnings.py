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


#: (category, message, file, line) of the warnings shown under the "default" action.
#: Python keeps such a registry per module, but scikit-learn's searches run each
#: fit inside ``warnings.catch_warnings()``, which resets it: without this one a
#: grid search printed the same warning for every fit.
_SHOWN = set()


def warn(message, category):
    """``warnings.warn`` at the first frame outside skvae, scikit-learn and joblib; once per line by default."""
    text = str(message)  # a warning instance (a TermWarning) is matched and shown once by its text
    frame, level = sys._getframe(1), 1
    while frame is not None:
        filename = frame.f_code.co_filename
        if not (filename.startswith(_SKIPPED) or filename.endswith(_SKIPPED_STDLIB)):
            break
        frame, level = frame.f_back, level + 1
    if frame is not None:
        module = frame.f_globals.get("__name__", "")
        key = (category, text, frame.f_code.co_filename, frame.f_lineno)
        if _action(category, text, module, frame.f_lineno) == "default":
            if key in _SHOWN:
                return
            _SHOWN.add(key)
    warnings.warn(message, category, stacklevel=level + 1 if frame is not None else 2)


def _action(category, message, module, lineno):
    """The action the current warning filters take for this warning (as ``warnings.warn_explicit`` finds it)."""
    for action, message_pattern, filter_category, module_pattern, filter_lineno in warnings.filters:
        if ((message_pattern is None or message_pattern.match(message))
                and issubclass(category, filter_category)
                and (module_pattern is None or module_pattern.match(module))
                and (filter_lineno == 0 or filter_lineno == lineno)):
            return action
    return warnings.defaultaction
