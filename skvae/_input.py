"""One input adapter at the entry of every face: what users hand in, as the faces expect it.

scikit-learn's validation converts a ``numpy.ma`` masked array with
``np.asarray``, which drops the mask: the hidden values would be fitted,
scored and handed back by the imputer as if observed. pandas' sparse columns
would be densified by truncation in some paths. This module turns such input
into the plain form every face validates (a float array, or a DataFrame of
dense columns) once, before anything else reads it.

Other dataframes (a pyarrow ``Table`` or ``RecordBatch``, a polars
``DataFrame``, anything with the dataframe interchange protocol's
``__dataframe__``) are read as the pandas DataFrame they convert to
(:func:`as_pandas_frame`): their column names become ``feature_names_in_``
and their text columns categories, as a pandas DataFrame's do. Read as
arrays (scikit-learn's ``np.asarray``), a table with a text column was
refused as "an array must hold numbers" and a numeric one kept only the names
scikit-learn happened to find. Results that are tables (``inverse_transform``,
``sample``, the imputer's) come back as pandas DataFrames.
"""

import numpy as np

from ._schema import is_dataframe


def as_plain_input(X, missing=np.nan):
    """X with masked cells as `missing` (NaN by default) and sparse columns dense.

    An object array (or a nested list) holding ``pd.NA`` gets `missing` there:
    pandas.NA is a missing cell, as None is, but NumPy's float conversion
    refuses it with a TypeError that names neither the cell nor the problem.
    Another library's dataframe is converted to pandas (:func:`as_pandas_frame`).
    Anything else comes back as it is: validation decides what it accepts.
    """
    X = _computed_dask_array(X)  # first: a masked Dask array computes to a masked NumPy array
    if isinstance(X, np.ma.MaskedArray):
        return _unmasked(X, missing)
    _refuse_sparse_matrix(X)
    refuse_non_tables(X)
    _refuse_mappings(X)
    X = as_pandas_frame(X)
    if is_dataframe(X):
        return _dense_frame(_native_byte_order(X))
    return _na_as_missing(X, missing)


def as_pandas_frame(X, name="X"):
    """X as a pandas DataFrame when it is another library's dataframe; anything else as it is.

    The library's own ``to_pandas()`` is preferred (pyarrow, polars: it keeps
    a pyarrow table's stored index and its dictionary columns as
    categories); an object with only the interchange protocol's
    ``__dataframe__`` goes through ``pandas.api.interchange.from_dataframe``,
    and one with only the Arrow PyCapsule stream (``__arrow_c_stream__``)
    through pyarrow. A dataframe that does not convert is refused with a
    TypeError naming `name` and its type, rather than read as an array of
    whatever ``np.asarray`` makes of it. pandas DataFrames are left as they
    are; so is a single column (a pyarrow ChunkedArray), which validation
    refuses as it refuses any 1-D input. Lazy frames are refused (a polars
    LazyFrame, a Dask DataFrame: :func:`_computed_dask_array`), and a Dask
    array is computed once.
    """
    _refuse_lazy_frame(X, name)
    X = _computed_dask_array(X, name)
    X = _host_array(X, name)
    if is_dataframe(X):
        _refuse_unimplemented_arrow_columns(X, name)
        return X
    _refuse_series(X, name)
    if not _is_other_dataframe(X):
        return X
    import pandas as pd

    kind = f"{type(X).__module__.partition('.')[0]}.{type(X).__name__}"
    if not callable(getattr(X, "to_pandas", None)) and not hasattr(X, "__dataframe__"):
        return _from_arrow_stream(X, name, kind)
    try:
        if callable(getattr(X, "to_pandas", None)):
            frame = X.to_pandas()
        else:
            import warnings

            with warnings.catch_warnings():
                # pandas 3 deprecates the protocol for users; reading it here is skvae's call, not theirs.
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.filterwarnings("ignore", message=".*[Ii]nterchange [Pp]rotocol.*")
                frame = pd.api.interchange.from_dataframe(X)
    except Exception as error:  # whatever the other library raises: say which conversion failed
        raise TypeError(
            f"{name} is a {kind}, a dataframe that skvae reads as a pandas DataFrame, but converting it failed "
            f"({type(error).__name__}: {error}). Convert it yourself (e.g. {name}.to_pandas()) and pass that."
        ) from None
    if isinstance(frame, pd.Series):
        return X
    if isinstance(frame, pd.DataFrame):
        frame = _nullable_integers_kept(X, frame)
        _refuse_unimplemented_arrow_columns(frame, name)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"{name} is a {kind}, which converts to a {type(frame).__name__}, not a table: pass a 2-D table "
            "(a DataFrame) or a 2-D array."
        )
    return frame


#: The pyarrow type to cast a column of a type pandas does not implement to, by the type's name.
_IMPLEMENTED_ARROW_TYPE = {"string_view": "pa.string()", "binary_view": "pa.binary()"}


def _refuse_unimplemented_arrow_columns(frame, name):
    """Refuse a column of an Arrow type pandas holds but does not implement, naming it and a cast that works.

    Hostile sweep 16: ``pd.ArrowDtype(pa.string_view())`` (also ``binary_view``,
    ``list_view``, ``run_end_encoded``, ``month_day_nano_interval``) makes a
    column whose dtype raises pandas' NotImplementedError on every type check
    (``dtype.type``): fit failed with "NotImplementedError: string_view" from
    inside pandas, and transform with pyarrow's "Function 'array_filter' has no
    kernel matching input types (string_view, bool)", neither a ValueError nor
    naming the column. pandas' own ``astype`` fails on such a column too, so the
    advice is a cast in pyarrow.
    """
    import pandas as pd

    if not any(isinstance(dtype, pd.ArrowDtype) for dtype in getattr(frame, "dtypes", ())):
        return
    for column, dtype in frame.dtypes.items():
        if not isinstance(dtype, pd.ArrowDtype):
            continue
        try:
            dtype.type  # noqa: B018 (pandas raises here for the types it does not implement)
        except NotImplementedError:
            arrow = dtype.pyarrow_dtype
            target = _IMPLEMENTED_ARROW_TYPE.get(str(arrow), "a type pandas implements")
            # A ValueError, as the schema's refusal of a column of a dtype skvae cannot model.
            raise ValueError(
                f"Column {column!r} of {name} has dtype {dtype}, an Arrow type pandas holds but does not implement "
                f"(its own astype and filters fail on it): cast it in pyarrow first, e.g. {name}[{column!r}] = "
                f"pd.arrays.ArrowExtensionArray(pa.array({name}[{column!r}]).cast({target}))."
            ) from None


def _nullable_integers_kept(X, frame):
    """Integer and boolean columns with nulls in pandas' nullable dtypes, not float64 or object (sweep 13).

    ``to_pandas()`` of a polars DataFrame or a pyarrow table makes an integer
    column with a null float64 and a boolean one object: a UInt64 column's
    2**63 + 14 came back 2**63 (its observed cells changed, without the
    warning an integer column gets), and integers were imputed and sampled
    as floats. Such a column is now read as pandas' own conversion of the
    same column (``UInt64``, ``Int8``, ``boolean``), exact, as a pandas
    DataFrame of nullable dtypes is.
    """
    import pandas as pd

    arrow = None
    try:
        if type(X).__module__.partition(".")[0] == "polars" and callable(getattr(X, "to_arrow", None)):
            arrow = X.to_arrow()
        elif type(X).__module__.partition(".")[0] == "pyarrow" and hasattr(X, "schema"):
            arrow = X
    except Exception:  # a conversion the other library refuses: the frame as it came
        return frame
    if arrow is None or not frame.columns.is_unique:
        return frame
    import pyarrow as pa

    names = list(arrow.schema.names)
    for position, field in enumerate(arrow.schema):
        if names.count(field.name) != 1 or field.name not in frame.columns:
            continue
        column = arrow.column(position)
        if column.null_count == 0 or not (pa.types.is_integer(field.type) or pa.types.is_boolean(field.type)):
            continue
        nullable = pd.api.types.pandas_dtype("boolean" if pa.types.is_boolean(field.type)
                                             else str(field.type).replace("u", "U").replace("int", "Int")
                                             if str(field.type).startswith("u") else str(field.type).capitalize())
        frame[field.name] = pd.Series(column.to_pandas(types_mapper={field.type: nullable}.get).array,
                                      index=frame.index, name=field.name)
    return frame


def _refuse_lazy_frame(X, name):
    """A polars LazyFrame is refused, told to ``.collect()`` it (hostile sweep 10).

    Decided: refused rather than collected, since collecting runs the
    caller's whole query (perhaps a scan of files larger than memory) as a
    side effect of a call that reads a table; before, np.asarray made
    "setting an array element with a sequence" of it.
    """
    if type(X).__name__ == "LazyFrame" and type(X).__module__.partition(".")[0] == "polars":
        raise TypeError(f"{name} is a polars LazyFrame, a query rather than a table: pass {name}.collect() "
                        "(a polars DataFrame) instead.")


def _computed_dask_array(X, name="X"):
    """A Dask array as the NumPy array it computes to, once; a Dask DataFrame or Series refused.

    Hostile sweep 22 (Dask). Decided, for a Dask array: accepted and
    computed here, once. Dask arrays implement NumPy's ``__array__`` so that
    NumPy consumers can read them, scikit-learn's validation reads them so,
    and skvae accepted them before; but every ``np.asarray`` recomputed the
    whole graph (the imputer's fit computed it twice, the detector's
    ``score_samples`` twice), and scikit-learn's copy check passed the lazy
    array to ``np.may_share_memory``, which leaked Dask's FutureWarning
    ("not implemented by Dask array") to the caller. Computing first (before
    the masked-array check, since a masked Dask array computes to a
    ``numpy.ma`` array whose mask must be kept: before, scikit-learn's
    ``np.asarray`` computed it and dropped the mask) gives every reader after
    this the same NumPy array.

    Decided, for a Dask DataFrame or Series: refused (a TypeError naming
    `name`, what it is, and both ways on), not computed, as a polars
    LazyFrame is (hostile sweep 10): it is a query, often a scan of files
    larger than memory, and computing it would run that as a side effect of
    a call that reads a table. Before, validation's ``if`` on its lazy size
    raised Dask's "Trying to convert ... to a boolean value", naming neither
    `name` nor the fix. (A Dask array is no such query in practice: its
    blocks are NumPy arrays, and dask-ml hands skvae NumPy blocks anyway.)
    """
    import sys

    # Dask's DataFrame lived in the separate dask_expr package from 2024.3 until 2025.1 moved it in.
    if "dask" not in sys.modules or type(X).__module__.partition(".")[0] not in ("dask", "dask_expr"):
        return X  # whoever made a Dask collection imported Dask: nothing else is one
    from dask import is_dask_collection

    if not is_dask_collection(X):
        return X
    array_module = sys.modules.get("dask.array")
    if array_module is not None and isinstance(X, array_module.Array):
        return X.compute()
    from ._refusals import TypeRefusal, advice

    kind = f"Dask {type(X).__name__}"
    raise TypeRefusal(
        f"{name} is a {kind}, a lazy query rather than a table in memory, which skvae does not compute "
        "for you (that would run the whole query). ",
        advice("compute_dask_frame",
               f"Pass {name}.compute() (a pandas object) when it fits in memory; to train a VAETransformer on a larger "
               f"one, call its partial_fit on each of {name}.partitions computed in turn (for partition in "
               f"{name}.partitions: model.partial_fit(partition.compute())).", collection=kind),
    )


class NotATableError(TypeError, ValueError):
    """Input that holds no table (see :func:`refuse_non_tables`).

    Both a TypeError and a ValueError, as scikit-learn's InvalidParameterError
    is: scikit-learn raised a ValueError for some of these inputs (a string)
    and a TypeError for others (a set, a generator), so a caller catching
    either keeps working.
    """


def refuse_non_tables(X, name="X"):
    """Text, a set or an iterator (a generator) is refused naming its type: it holds no table.

    scikit-learn reads a string as one number to convert ("could not
    convert string to float"), and a set or a generator as one object to
    pass to float(): none of its messages says that X is not a table. (None
    is left to scikit-learn, whose "Expected 2D array, got scalar array"
    says so.)
    """
    from collections.abc import Iterator

    if isinstance(X, (str, bytes, set, frozenset, Iterator)):
        raise NotATableError(f"{name} is a {type(X).__name__}, not a table: pass a 2-D array (a NumPy array, a list "
                             "of rows) or a pandas DataFrame.")


def _host_array(X, name="X"):
    """A torch tensor as the NumPy array it holds (detached, on the host); anything else as it is.

    NumPy reads a CPU tensor through ``__array__``, but one that requires
    grad or lives on a GPU makes it raise torch's RuntimeError or TypeError
    ("Use tensor.detach().numpy() instead"): a tensor of values is input
    like any array. A float dtype NumPy has not (bfloat16, float8) is read
    as float32, which holds each of its values exactly; before (hostile
    sweep 14), torch's "Got unsupported ScalarType BFloat16" named neither
    `name` nor the fix.
    """
    import sys

    torch = sys.modules.get("torch")
    if torch is None or not isinstance(X, torch.Tensor):
        return X
    _refuse_tensor_without_array(X, name)
    tensor = X.detach().cpu()
    try:
        return tensor.numpy()
    except TypeError:
        if tensor.is_floating_point():
            return tensor.float().numpy()
        raise TypeError(f"{name} is a torch tensor of {tensor.dtype}, which NumPy cannot hold: convert it to a "
                        f"dtype NumPy reads first (e.g. {name}.float()).") from None


def _refuse_tensor_without_array(tensor, name):
    """Refuse a torch tensor that holds no NumPy array of its values, naming `name`, what it is and the fix.

    Hostile sweep 16: a sparse tensor reached the caller as torch's "can't
    convert Sparse layout tensor to numpy", a meta tensor as a
    NotImplementedError ("Cannot copy out of meta tensor"), a nested tensor
    as a RuntimeError asking to file an issue with torch, and a quantized
    one as "Got unsupported ScalarType QInt8" with the advice ``.float()``,
    which fails on it too: none named `name`, and two were not even a
    ValueError or TypeError. Each is refused by what it is, before torch
    tries to copy it.
    """
    import torch  # imported already: whoever made the tensor did

    if tensor.is_nested:
        raise TypeError(f"{name} is a nested torch tensor (rows of different lengths), not a 2-D table: pad it to one "
                        f"width first (torch.nested.to_padded_tensor({name}, float('nan')) marks the padding as "
                        "missing cells).")
    if tensor.layout != torch.strided:
        raise TypeError(f"{name} is a torch tensor of layout {tensor.layout}, which skvae does not read: pass "
                        f"{name}.to_dense().")
    if tensor.device.type == "meta":
        raise ValueError(f"{name} is a torch tensor on the 'meta' device, which has a shape but no values: pass a "
                         "tensor that holds data.")
    if tensor.is_quantized:
        raise TypeError(f"{name} is a quantized torch tensor ({tensor.dtype}): pass {name}.dequantize(), the real "
                        "numbers it stands for.")


def _refuse_series(X, name):
    """A pandas Series is refused as one column or one row, naming the DataFrame to pass instead.

    It has the Arrow stream protocol, so it was read as a stream and refused
    as "an Arrow stream that is not a table", which names neither the Series
    nor the fix.
    """
    import sys

    pd = sys.modules.get("pandas")
    library = type(X).__module__.partition(".")[0]
    if library in ("polars", "pyarrow") and type(X).__name__ in ("Series", "ChunkedArray") or (
            library == "pyarrow" and type(X).__name__.endswith("Array")):
        # One column of another library (hostile sweep 13): a polars Series reached
        # pandas as its dtype and failed with "'Float64' object has no attribute 'kind'".
        raise ValueError(f"{name} is a {library} {type(X).__name__}, one column, where skvae expects a 2-D table "
                         "(a DataFrame or 2D array): "
                         f"pass a DataFrame of it ({name}.to_frame() for polars, or a table of one column).")
    if pd is None or not isinstance(X, pd.Series):
        return
    instead = f"{name}.to_frame() for one column, {name}.to_frame().T for one row"
    if name == "given":
        instead += ", or a dict of conditions, given.to_dict()"
    elif isinstance(X.name, (str, int, np.integer)) and not isinstance(X.name, (bool, np.bool_)):
        # Hostile sweep 26: ColumnTransformer([("vae", VAETransformer(), "age")]) hands its
        # transformer the Series X["age"], and the caller, who passed a DataFrame to the
        # ColumnTransformer, could not call to_frame() inside it: the fix there is the list.
        label = repr(X.name if isinstance(X.name, str) else int(X.name))
        # Said as a condition: a row (X.iloc[0]) is a Series named by its row's label too.
        instead += (f"; if a ColumnTransformer handed it on, its columns were given as one label, {label}: "
                    f"write [{label}]")
    raise ValueError(f"{name} is a pandas Series, one column or one row of a table, where skvae expects a 2-D table: "
                     f"pass a DataFrame ({instead}).")


def _is_other_dataframe(X):
    """Whether X may be another library's dataframe: a dataframe or Arrow protocol, or ``to_pandas`` with columns.

    A 1-D column (a polars Series) has ``to_pandas`` but neither protocol nor
    column names: it is left to validation, which asks for a 2-D table.
    """
    if isinstance(X, (np.ndarray, list, tuple)) or X is None:
        return False
    if hasattr(X, "__dataframe__") or hasattr(X, "__arrow_c_stream__"):
        return True
    return callable(getattr(X, "to_pandas", None)) and (hasattr(X, "column_names") or hasattr(X, "columns"))


def _from_arrow_stream(X, name, kind):
    """A DataFrame from an object with only the Arrow PyCapsule stream (``__arrow_c_stream__``).

    pyarrow reads the stream; a stream of one column type, not of records
    (a chunked array), is no table: refused, as NumPy would make an object
    array of the object itself.
    """
    try:
        import pyarrow
    except ImportError:
        raise TypeError(
            f"{name} is a {kind}, an Arrow table (__arrow_c_stream__), which skvae reads with pyarrow: install "
            f"pyarrow, or convert {name} to a pandas DataFrame yourself."
        ) from None
    try:
        table = pyarrow.table(X)
    except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError, TypeError) as error:
        raise TypeError(f"{name} is a {kind}, an Arrow stream that is not a table ({error}): pass a 2-D table "
                        "(a DataFrame) or a 2-D array.") from None
    return table.to_pandas()


def _refuse_sparse_matrix(X, name="X"):
    """A SciPy sparse matrix or array is refused in scikit-learn's words, then with the way out of a Pipeline.

    Refused, as hostile sweep 15 decided (the encoder reads dense rows, and
    densifying a wide one-hot matrix unasked could exhaust memory).
    Hostile sweep 32: in ``make_pipeline(OneHotEncoder(), VAETransformer())``,
    or after a ColumnTransformer whose ``sparse_threshold`` made its output
    sparse (PCA and IsolationForest take it), the caller met scikit-learn's
    advice alone, ``.toarray()``, which cannot be applied between a
    Pipeline's steps: the advice now names the settings of those steps.
    """
    import sys

    sparse = sys.modules.get("scipy.sparse")
    if sparse is None or not sparse.issparse(X):
        return
    from ._refusals import TypeRefusal, advice

    raise TypeRefusal(
        # scikit-learn's words first: its estimator checks look for "sparse" in the refusal.
        f"Sparse data was passed for {name}, but dense data is required. Use '.toarray()' to convert to a dense "
        "numpy array. ",
        advice("sparse_from_a_step",
               "If a step before skvae's made it sparse, set sparse_threshold=0 on a ColumnTransformer and "
               "sparse_output=False on a OneHotEncoder; or hand skvae the table's own columns (a DataFrame), "
               "whose categories it models itself."),
    )


def _refuse_mappings(X):
    """A dict of columns, or a list of dicts (records), is refused naming what to pass instead.

    NumPy makes an object array of the dicts themselves, whose error
    ("float() argument must be ... not 'dict'") names neither X nor the fix.
    """
    import sys
    from collections.abc import Mapping

    sparse = sys.modules.get("scipy.sparse")
    if sparse is not None and sparse.issparse(X):
        return  # a dok_array is a dict too: validation gives its message about sparse input
    if isinstance(X, Mapping):
        raise TypeError(f"X is a {type(X).__name__} (of columns?), not a table: pass pandas.DataFrame(X), whose "
                        "keys become the column names.")
    if isinstance(X, (list, tuple)) and X and isinstance(X[0], Mapping):
        raise TypeError(f"X is a {type(X).__name__} of {type(X[0]).__name__}s (records?), not a table: pass "
                        "pandas.DataFrame(X), whose keys become the column names.")


def _na_as_missing(X, missing):
    """An object array or nested list with its ``pd.NA`` cells as `missing`; X itself when it has none."""
    if isinstance(X, np.ndarray):
        if X.dtype.kind == "T":
            # Hostile sweep 16: NumPy 2's variable-width strings (StringDType) are text as an object
            # array's str cells are, but validation missed them: a text cell was NumPy's "could not
            # convert string to float: 'abc'", naming neither X nor the cell, and a missing cell (the
            # dtype's na_object) "Arrays with missing data cannot be converted to a non-nullable
            # type". As objects, its text is named by cell and its missing cells are missing.
            X = X.astype(object)
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
    if X.dtype.names:
        # Hostile sweep 29 (inputs): a masked structured array's mask is a record of booleans per
        # cell, and mask.any() failed with NumPy's "Iterator operand 1 dtype could not be cast from
        # dtype([('f0', '?'), ...]) to dtype('bool')", while an unmasked one is refused by name (sweep
        # 14) with pandas.DataFrame(X), which fails on a masked one the same way: the advice that
        # works keeps each field's masked cells missing.
        from ._refusals import TypeRefusal

        raise TypeRefusal(
            f"X is a masked structured array (fields {list(X.dtype.names)[:10]!r}), a table of named fields "
            "rather than a 2-D array: pass pandas.DataFrame({name: X[name] for name in X.dtype.names}), whose "
            "columns are the fields, with the masked cells missing."
        )
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


def _native_byte_order(X):
    """DataFrame X with each column of NumPy numbers stored in the other byte order as the same numbers in native order.

    Hostile sweep 29 (inputs). A column of ``>f8``, ``>f4`` or ``>i8`` (a
    table read from a big-endian file, ``pd.DataFrame(X.astype(">f8"))``)
    holds the same numbers as one of float64, float32 or int64, and pandas
    names both dtypes alike, but pandas' hashing and ``take`` refuse such a
    buffer: ``fit`` of every face failed in the typing rule's
    ``value_counts`` (and the imputer's refinement in ``iloc``) with pandas'
    bare "Big-endian buffer not supported on little-endian compiler".
    Decided: accepted, as scikit-learn and skvae accept a big-endian array:
    the byte order is storage, not a column type, so such a column is read
    as the same values in native order, in a new frame (X is untouched; so
    ``VAEImputer(copy=False)`` fills such a frame in a copy, as it does a
    frame of sparse columns). A frame without such a column comes back as
    it is, not copied.
    """
    swapped = [position for position, dtype in enumerate(X.dtypes)
               if isinstance(dtype, np.dtype) and not dtype.isnative]
    if not swapped:
        return X
    out = X.copy(deep=False)
    for position in swapped:  # by position: a duplicated label is refused by name after this
        out.isetitem(position, X.iloc[:, position].astype(X.dtypes.iloc[position].newbyteorder("=")))
    return out


def _dense_frame(X):
    import pandas as pd

    sparse = [name for name, dtype in X.dtypes.items() if isinstance(dtype, pd.SparseDtype)]
    if not sparse:
        # Only the marker this call sets is read: pandas carries attrs through copies and astype, so a
        # table densified by the user after an imputer's output still held it, and a model fitted on it
        # decoded the dense columns as sparse.
        return _without_marker(X)
    dtypes = {name: _sparse_dtype_name(X[name].dtype) for name in sparse}
    X = X.copy()
    for name in sparse:
        X[name] = X[name].sparse.to_dense()
    # The schema decodes to the dtypes the user's columns had (sample, inverse_transform).
    X.attrs[SPARSE_DTYPES] = dtypes
    return X


def _sparse_dtype_name(dtype):
    """A name of the sparse `dtype` that :func:`skvae._schema.dtype_from_name` reads back as it, where one exists.

    pandas writes a NumPy fill value as its repr, "Sparse[float32,
    np.float32(0.0)]", which no reader parses: the schema kept such a column
    dense, and it came back dense from ``sample`` and ``inverse_transform``
    (hostile sweep 19). The fill as a Python number names an equal dtype.
    """
    from ._schema import dtype_from_name

    name = str(dtype)
    fill = dtype.fill_value
    if isinstance(fill, np.generic):
        plain = f"Sparse[{dtype.subtype}, {fill.item()!r}]"
        if dtype_from_name(plain) == dtype:
            return plain
    return name


#: Key of the dense copy's ``attrs`` that holds {label: sparse dtype name} of the columns
#: :func:`as_plain_input` densified (read by :meth:`skvae._schema.TableSchema.fit`).
SPARSE_DTYPES = "skvae_sparse_dtypes"


def _without_marker(frame):
    """`frame`, or a shallow copy of it without skvae's marker (SPARSE_DTYPES) in its ``attrs``."""
    if SPARSE_DTYPES not in getattr(frame, "attrs", {}):
        return frame
    frame = frame.copy(deep=False)
    frame.attrs = {key: value for key, value in frame.attrs.items() if key != SPARSE_DTYPES}
    return frame


def missing_cells(frame):
    """Boolean (n_rows, n_columns): the cells of DataFrame `frame` that skvae reads as missing.

    Hostile sweep 25: ``isna()`` misses a NaN held as a value in a pyarrow
    float column (Arrow tells NaN from null: parquet files read with the
    pyarrow backend, polars frames and Arrow's own 0 / 0 hold both) or in a
    nullable Float column that keeps one, while the model reads every NaN as
    a missing cell. So VAEImputer left such a cell NaN in its output, and
    VAEOutlierDetector scored a row of nothing else 0 (log 1) and called it
    an inlier, where the same table in float64 had the cell filled and the
    row flagged. Such NaN count as missing here, as pd.NA does.
    """
    import pandas as pd

    missing = np.array(frame.isna().to_numpy(dtype=bool), dtype=bool)  # writeable (an Arrow frame's is not)
    for j, dtype in enumerate(frame.dtypes):
        if isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind == "f":
            values = frame.iloc[:, j].to_numpy(dtype=np.float64, na_value=np.nan)
            missing[:, j] |= np.isnan(values)
    return missing


def sparse_dtypes(X):
    """{label: dtype} of X's pandas sparse columns ({} for anything else): what :func:`with_sparse_dtypes` restores."""
    if not is_dataframe(X):
        return {}
    import pandas as pd

    return {name: dtype for name, dtype in X.dtypes.items() if isinstance(dtype, pd.SparseDtype)}


def with_sparse_dtypes(frame, dtypes):
    """`frame` with the columns that came in sparse (:func:`sparse_dtypes`) sparse again.

    :func:`as_plain_input` densified them for validation; a result that lives
    in the input's columns (the imputer's) comes back in the input's dtypes,
    without the dense copy's marker, which is skvae's, not the user's.
    """
    if not is_dataframe(frame):
        return frame
    frame = _without_marker(frame)
    if not dtypes:
        return frame
    present = {name: dtype for name, dtype in dtypes.items() if name in frame.columns}
    return frame.astype(present) if present else frame
