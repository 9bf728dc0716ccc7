"""One input adapter at the entry of every face: what users hand in, as the faces expect it.

scikit-learn's validation converts a ``numpy.ma`` masked array with
``np.asarray``, which drops the mask: the hidden values would be fitted,
scored and handed back by the imputer as if observed. pandas' sparse columns
would be densified by truncation in some paths. This module turns such input
into the plain form every face validates (a float array, or a DataFrame of
dense columns) once, before anything else reads it.
"""

import numpy as np

from ._schema import is_dataframe


def as_plain_input(X, missing=np.nan):
    """X with masked cells as `missing` (NaN by default) and sparse columns dense.

    An object array (or a nested list) holding ``pd.NA`` gets `missing` there:
    pandas.NA is a missing cell, as None is, but NumPy's float conversion
    refuses it with a TypeError that names neither the cell nor the problem.
    Anything else comes back as it is: validation decides what it accepts.
    """
    if isinstance(X, np.ma.MaskedArray):
        return _unmasked(X, missing)
    if is_dataframe(X):
        return _dense_frame(X)
    return _na_as_missing(X, missing)


def _na_as_missing(X, missing):
    """An object array or nested list with its ``pd.NA`` cells as `missing`; X itself when it has none."""
    if isinstance(X, np.ndarray):
        if X.dtype != object:
            return X
        array = X
    elif isinstance(X, (list, tuple)):
        try:
            array = np.asarray(X, dtype=object)
        except (TypeError, ValueError):  # ragged: validation says what is wrong with it
            return X
    else:
        return X
    if array.size == 0:
        return X
    import pandas as pd

    is_na = np.frompyfunc(lambda value: value is pd.NA, 1, 1)(array).astype(bool)
    if not is_na.any():
        return X
    out = array.copy()
    out[is_na] = missing
    return out


def _unmasked(X, missing):
    mask = np.ma.getmaskarray(X)
    data = np.ma.getdata(X)
    if not mask.any():
        return np.asarray(data)
    if data.dtype.kind in "biuf" and (isinstance(missing, float) and np.isnan(missing)):
        out = data.astype(np.float64 if data.dtype.kind != "f" else data.dtype, copy=True)
    else:
        out = data.astype(object, copy=True)
    out[mask] = missing
    return out


def _dense_frame(X):
    import pandas as pd

    sparse = [name for name, dtype in X.dtypes.items() if isinstance(dtype, pd.SparseDtype)]
    if not sparse:
        return X
    dtypes = {name: str(X[name].dtype) for name in sparse}
    X = X.copy()
    for name in sparse:
        X[name] = X[name].sparse.to_dense()
    # The schema decodes to the dtypes the user's columns had (sample, inverse_transform).
    X.attrs[SPARSE_DTYPES] = dtypes
    return X


#: Key of the dense copy's ``attrs`` that holds {label: sparse dtype name} of the columns
#: :func:`as_plain_input` densified (read by :meth:`skvae._schema.TableSchema.fit`).
SPARSE_DTYPES = "skvae_sparse_dtypes"


def sparse_dtypes(X):
    """{label: dtype} of X's pandas sparse columns ({} for anything else): what :func:`with_sparse_dtypes` restores."""
    if not is_dataframe(X):
        return {}
    import pandas as pd

    return {name: dtype for name, dtype in X.dtypes.items() if isinstance(dtype, pd.SparseDtype)}


def with_sparse_dtypes(frame, dtypes):
    """`frame` with the columns that came in sparse (:func:`sparse_dtypes`) sparse again.

    :func:`as_plain_input` densified them for validation; a result that lives
    in the input's columns (the imputer's) comes back in the input's dtypes.
    """
    if not dtypes or not is_dataframe(frame):
        return frame
    present = {name: dtype for name, dtype in dtypes.items() if name in frame.columns}
    return frame.astype(present) if present else frame
