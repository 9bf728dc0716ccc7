import os

# scikit-learn's check_array_api_input only runs (instead of skipping) when
# SciPy's array API mode is on; it must be set before SciPy is imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
