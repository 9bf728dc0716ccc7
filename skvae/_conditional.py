"""Conditional sampling: rows drawn from p(x_free | x_given) of a fitted VAE.

``VAETransformer.sample(n, given=...)`` fixes some cells of each row and draws
the others from the model's conditional distribution. The given cells play
the part of observed cells and the free ones of missing cells, so the
machinery is MIWAE's (see :mod:`skvae._inference`): K importance samples
z_k ~ q(z | x_given) are weighted by w_k ∝ p(x_given | z_k) p(z_k) / q(z_k | x_given),
one z_k is picked in proportion to w_k (sampling-importance-resampling) and
the free cells are drawn from p(x | z_k). As K grows the draw's distribution
tends to the model's exact conditional; each row costs K decoder passes.
With ``return_mean=True`` each row gets the weighted conditional mean
(for a categorical column, the level nearest it when the levels are
numbers, the most probable one when they are labels) instead of a draw.

Each row gets its own K fresh importance samples from the call's generator,
so rows with the same conditions are independent draws.
"""

import contextlib

import numpy as np
import torch

from ._column_types import CELL_TYPE, _equal, look_alike_hint, prefixed_names_hint
from ._inference import NetworkOverflow, map_row_batches
from ._refusals import Refusal, parameter
from ._refusals import column as refused_column
from ._refusals import row as refused_row
from ._refusals import rows as refused_rows
from ._refusals import said
from ._schema import dtype_from_name, is_dataframe

#: Importance samples per row by default: enough that the draws of a small
#: table's conditionals match rejection sampling within sampling noise (tests).
DEFAULT_N_IMPORTANCE = 500


def condition_table(vae, n_samples, given):
    """The rows to complete: given cells set, free cells missing, in the model's columns.

    Returns (table, given_mask): a DataFrame (or float array for an array
    model) of the model's columns, and a boolean array of the given cells.
    """
    import pandas as pd

    # The fitted labels, also where scikit-learn keeps none (a DataFrame with integer labels):
    # a condition names its column by label, as the columns of a DataFrame of conditions do.
    names = list(vae._schema.names)
    if isinstance(given, dict):
        _check_known(given.keys(), names)
        _check_dict_values(given)
        n_rows = n_samples  # validated by sample
        frame = pd.DataFrame({name: pd.Series([given[name]] * n_rows, dtype=object) if name in given
                              else np.full(n_rows, np.nan) for name in names})
    elif is_dataframe(given):
        _check_known(given.columns, names)
        if len(given) < 1:
            raise ValueError("given is a DataFrame without rows: there is nothing to sample.")
        if not given.columns.is_unique:
            raise ValueError(f"given has duplicated columns {list(given.columns[given.columns.duplicated()])!r}.")
        if n_samples not in (1, len(given)):
            raise ValueError(
                f"given is a DataFrame of {len(given)} rows of conditions, one per sampled row; "
                f"n_samples={n_samples!r} must be {len(given)} (or left at 1)."
            )
        frame = pd.DataFrame({name: given[name].reset_index(drop=True) if name in given.columns
                              else np.full(len(given), np.nan) for name in names})
    elif isinstance(given, np.ndarray) and given.ndim == 2 and not hasattr(vae, "feature_names_in_"):
        if given.shape[1] != len(names):
            raise ValueError(f"given has {given.shape[1]} columns; the model has {len(names)}.")
        if given.shape[0] < 1:
            raise ValueError("given is an array without rows: there is nothing to sample.")
        if n_samples not in (1, given.shape[0]):
            raise ValueError(f"given has {given.shape[0]} rows of conditions; n_samples={n_samples!r} must "
                             f"be {given.shape[0]} (or left at 1).")
        if given.dtype.kind == "b":
            # A boolean array has no NaN, so it would give every cell, as 0.0 and 1.0: it is a mask
            # of the cells meant to be given, not their values.
            raise ValueError("given is a boolean array: conditions are the given cells' values, NaN where a cell "
                             "is free (np.where(mask, values, np.nan) for a mask of the given cells).")
        if given.dtype.kind not in "iufO":
            raise ValueError(f"given is an array of {given.dtype}; a model fitted on an array takes numbers "
                             "(NaN: free).")
        # An object array stays object: pandas made a column of NumPy dates datetime64, which then
        # read as seconds since 1970 and came back as the condition (hostile sweep 14).
        frame = pd.DataFrame(given, columns=names, dtype=object if given.dtype == object else None)
    else:
        raise TypeError(
            "given must be a dict {column: value}, a DataFrame of per-row conditions (NaN: free), or for a "
            f"model fitted on an array a 2-D array; got {type(given).__name__}."
        )
    # A copy of its own: pandas' array of a frame of one dtype is a read-only view, and the cells read as
    # missing are taken off the mask (_free_where_read_as_missing). Hostile sweep 26: a table of
    # conditions of object columns only, or an array's, with "" or "nan" in it failed so, with
    # NumPy's "output array is read-only".
    given_mask = frame.notna().to_numpy(dtype=bool, copy=True)
    with _in_conditions_terms(isinstance(given, dict)):
        frame = _read_conditions(vae, names, frame, given_mask, from_dict=isinstance(given, dict))
    return frame, given_mask


@contextlib.contextmanager
def _in_conditions_terms(from_dict):
    """The schema's refusal of a cell, said of ``given`` (hostile sweep 15).

    The schema speaks of its input ("Column 'a' was fitted as numbers, but
    holds 'hello' in row 0 (2 such cells)"): of a dict of conditions, which
    has no rows, the row and the count were those of its copies, one per
    sampled row; of a DataFrame of conditions, the row did not say whose.
    The refusal's row, count and example terms are said as ``given``'s
    (:func:`_condition_words`).
    """
    try:
        yield
    except ValueError as error:
        if str(error).startswith("given"):
            raise
        raise type(error)(f"given: {said(error, _condition_words(from_dict))}") from None


def _condition_words(from_dict):
    """How ``given`` says a refusal's terms: a dict has no rows (nor copies to count); a DataFrame's rows are its own."""
    def words(term):
        if from_dict and term.kind in ("row", "such_cells", "example"):
            return ""
        if term.kind == "advice" and term.fields.get("key") == "text_in_numbers":
            return ""  # a condition is given as a value, not a column to convert
        if term.kind == "row":
            return f"{term.fields['lead']}row {term.fields['row']} of the conditions"
        return None

    return words


def _read_conditions(vae, names, frame, given_mask, from_dict):
    """`frame` of conditions read in the model's dtypes, its cells checked (see condition_table).

    `given_mask` loses the cells the schema reads as missing (see
    :func:`_free_where_read_as_missing`).
    """

    from ._schema import _refuse_unmodelled_cells

    for name, column in zip(names, vae._schema.columns):
        if frame[name].dtype == object and column["kind"] != "categorical":
            # Hostile sweep 13: a Decimal condition was converted to the fitted float (1.5 given,
            # 1.1 refused as unequal to its float), where fit and transform refuse Decimal cells
            # in a column of numbers. (A categorical column names a cell that is no label itself.)
            _refuse_unmodelled_cells(frame[name], name)
    as_given = frame  # for a refusal to show a cell as the caller wrote it ('nan', not nan)
    if vae._schema.is_dataframe:
        # The model's dtypes, so that categories and numbers are read as at fit.
        for name, column in zip(names, vae._schema.columns):
            frame[name] = _as_fitted(frame[name], column["dtype"])
    else:
        try:
            # pd.NA and None are free cells, as NaN (NumPy refuses float(pd.NA)). A copy of its own, as
            # the mask's (condition_table), for _free_where_read_as_missing to set.
            frame = frame.where(frame.notna(), np.nan).to_numpy(dtype=np.float64, copy=True)
        except (TypeError, ValueError):
            raise ValueError(f"given holds values that are not numbers ({_first_non_number(frame)}); a model "
                             "fitted on an array takes numbers (NaN: free).") from None
    _refuse_infinite(vae._schema, frame, given_mask)
    raw = vae._schema.raw_values(frame, handle_unknown="condition")
    frame = _free_where_read_as_missing(vae._schema, frame, given_mask, raw, from_dict, as_given)
    _check_values(vae._schema, frame, given_mask, raw, from_dict)
    return frame


def _free_where_read_as_missing(schema, table, given_mask, raw, from_dict, as_given):
    """Cells pandas holds as values but the schema reads as missing: free in a table of conditions, refused in a dict.

    Hostile sweep 21: ``pd.to_numeric`` reads an empty string as NaN, so
    ``transform`` takes ``""`` in a column of numbers for a missing cell,
    while ``given`` took it for a condition (``notna``): the rows were
    drawn with the cell free, and then putting the "given" cell back failed
    with NumPy's "could not convert string to float: ''", naming neither
    ``given`` nor the column. Decided: a condition is read as ``transform``
    reads the cell, so such a cell of a DataFrame of conditions is free, as
    NaN is, and in a dict it is refused, as a dict's NaN is (a dict's value
    conditions every row; a missing one conditions nothing). `as_given`:
    the conditions as the caller gave them, a DataFrame: a refusal shows
    the cell so ('nan'), where an array model's `table` holds it as a float.
    """
    read_missing = given_mask & np.isnan(raw)
    if not read_missing.any():
        return table
    row, j = (int(index[0]) for index in np.nonzero(read_missing))
    if from_dict:
        name = schema.columns[j]["name"]
        cell = as_given.iloc[row, j]
        raise Refusal(
            parameter("given"), f"[{name!r}] is {cell!r}, which ", refused_column(f"column {name!r}"),
            " reads as a missing cell (as transform reads it): a dict of conditions gives each column one value "
            "for every row. Leave the column out of given to draw it, or give a number."
        )
    given_mask &= ~read_missing
    if is_dataframe(table):
        for j in np.flatnonzero(read_missing.any(axis=0)):
            column = table.iloc[:, j].astype(object)
            column[read_missing[:, j]] = np.nan
            table.isetitem(j, column)
    else:
        table[read_missing] = np.nan
    return table


def _first_non_number(frame):
    """The first cell of `frame` that float() refuses, with its column and row, for a message."""
    for column in frame.columns:
        for row, cell in enumerate(frame[column]):
            try:
                float(cell)
            except (TypeError, ValueError):
                return f"{cell!r} in column {column!r}, row {row} of the conditions"
    return "a cell float() refuses"


def _refuse_infinite(schema, table, given_mask):
    """An infinite condition is refused as a condition (hostile sweep 14).

    The schema refused it as input: "X contains an infinite value ... use
    NaN (or None) for missing cells", naming X, which the caller never
    passed, and advice a dict of conditions refuses (a NaN condition).
    """
    for j, column in enumerate(schema.columns):
        if column["kind"] == "categorical" or not given_mask[:, j].any():
            continue  # a categorical column refuses infinity as a category it does not know
        rows = np.flatnonzero(given_mask[:, j])
        cells = table[rows, j] if isinstance(table, np.ndarray) else table.iloc[rows, j]
        values = _as_floats(cells)
        infinite = np.isinf(values)
        if infinite.any():
            raise ValueError(
                f"given sets column {column['name']!r} to {float(values[infinite][0])!r} (row "
                f"{int(rows[infinite][0])} of the conditions), an infinite value: a condition is finite. Leave "
                "the column out of given (NaN in a DataFrame or array of conditions) to draw it."
            )


def _check_dict_values(given):
    """A dict's value conditions every row: a missing one (NaN, None, pd.NA) conditions nothing.

    A DataFrame of conditions marks its free cells so; in a dict it is a
    mistake (the column would silently be drawn), so the column is left out
    instead.
    """
    import pandas as pd

    for name, value in given.items():
        if pd.api.types.is_scalar(value) and pd.isna(value):
            raise ValueError(
                f"given[{name!r}] is {value!r}, a missing value: a dict of conditions gives each column one "
                "value for every row. Leave the column out of given to draw it."
            )


def _as_floats(cells):
    """`cells` as float64 where each reads as a number, NaN where not (the schema says why later)."""
    import pandas as pd

    cells = np.asarray(cells)
    if cells.dtype.kind in "biuf":
        return cells.astype(np.float64)
    if not pd.api.types.is_object_dtype(cells.dtype):
        cells = cells.astype(object)

    def read(cell):
        try:
            return float(cell)
        except (TypeError, ValueError, OverflowError):  # text, a huge int: not infinity
            return np.nan

    return np.frompyfunc(read, 1, 1)(cells).astype(np.float64)


def _check_values(schema, table, given_mask, raw, from_dict):
    """Refuse, before any draw, conditions the model cannot read or the output cannot hold.

    The schema reads the table as it reads any input (text in a numeric
    column, unknown categories, infinity: errors naming the column), unknown
    categories refused whatever ``handle_unknown`` says, since a condition is
    never a missing cell. A given cell comes back exactly, so a column
    fitted as integers refuses a fraction or a number beyond its dtype
    instead of returning it rounded or wrapped. `raw`: `table` as the
    schema reads it (``raw_values``, which refuses what it cannot read).
    A refusal names the row of a table of conditions (`from_dict` False),
    as the schema's refusal of text and an infinite condition's do: hostile
    sweep 26 found these two naming none, so one fraction among a thousand
    rows of conditions could not be found.
    """
    from ._schema import _float_bounds, _integer_numpy_dtype

    if not schema.is_dataframe:
        return
    for j, column in enumerate(schema.columns):
        rows = np.flatnonzero(given_mask[:, j])
        if column["kind"] != "categorical" and rows.size:
            _check_float_range(column, raw[rows, j], rows, from_dict)
        integer = _integer_numpy_dtype(column["dtype"]) if column["kind"] != "categorical" else None
        if integer is None or not rows.size:
            continue
        values = raw[rows, j]
        low, high = _float_bounds(integer)
        bad = (values != np.round(values)) | (values < low) | (values > high)
        cells = table.iloc[rows, j]
        # As float64, 2**64 - 1 is 2**64, beyond uint64: a whole number is judged by its exact value
        # (the column's own largest value was refused, with a range that left it out). So is a number
        # written as text, which float64 reads rounded ("3.0000000000000000001" as 3.0).
        exactly = bad | _text_cells(cells)
        if exactly.any():  # every bad cell is among them after this
            cells = cells.to_numpy(dtype=object)
            bad[exactly] = ~np.array([_holds_exactly(integer, cell) for cell in cells[exactly]], dtype=bool)
        if bad.any():
            info = np.iinfo(integer)
            first = cells[bad][0]
            shown = repr(first) if isinstance(first, str) else repr(float(values[bad][0]))
            raise ValueError(
                f"given sets column {column['name']!r}, fitted as {column['dtype']}, to {shown}"
                f"{_in_row(rows[bad][0], from_dict)}, "
                "which that dtype cannot hold (a given cell comes back exactly): give a whole number in "
                f"[{int(info.min)}, {int(info.max)}]."
            )


def _text_cells(cells):
    """A boolean array: which of the Series `cells` are text (none where its dtype is numeric: no per-cell look)."""
    if cells.dtype.kind in "biuf":
        return np.zeros(len(cells), dtype=bool)
    return np.frompyfunc(lambda cell: isinstance(cell, str), 1, 1)(cells.to_numpy(dtype=object)).astype(bool)


def _holds_exactly(integer_dtype, cell):
    """Whether `cell` is a whole number (see :func:`_whole_number`) within `integer_dtype`'s range."""
    value = _whole_number(cell)
    info = np.iinfo(integer_dtype)
    return value is not None and int(info.min) <= value <= int(info.max)


def _whole_number(cell):
    """`cell` as the exact Python int it is, or None: a Python or NumPy integer (not a bool), or text of a whole number.

    Text is read exactly (as a decimal, "3.0", "1e2" and " 3 " included):
    float64 rounds "9007199254740993" and "3.0000000000000000001", and
    NumPy's own conversion to an integer dtype reads only integer literals
    (``int("3.0")`` fails). Anything else (a float, a Decimal) is no exact
    integer here: the schema reads it, and the range check judges it.
    """
    import decimal
    import numbers

    if isinstance(cell, (bool, np.bool_)):
        return None
    if isinstance(cell, numbers.Integral):
        return int(cell)
    if isinstance(cell, str):
        try:
            value = decimal.Decimal(cell)
        except decimal.InvalidOperation:
            return None
        if value.is_zero():
            return 0  # "0e5000" too, whose exponent alone is past the check below
        # An exponent past any integer dtype's 20 digits is no int64 or uint64 (and 1e999999999 would take
        # a billion digits to write as an int).
        if not value.is_finite() or value.adjusted() > 40 or value != value.to_integral_value():
            return None
        return int(value)
    return None


def _in_row(row, from_dict):
    """Where a refused condition is: `` (row 5 of the conditions)`` in a table of conditions; nothing for a dict's."""
    return "" if from_dict else f" (row {int(row)} of the conditions)"


def _check_float_range(column, values, rows, from_dict):
    """A condition beyond the range of a column's narrower float dtype (float16, float32) would come back infinite.

    `values` are the given cells of the column, at `rows` of the conditions.
    """
    import pandas as pd

    dtype = dtype_from_name(column["dtype"])
    numpy_dtype = getattr(dtype, "numpy_dtype", None) or getattr(dtype, "subtype", None) or dtype
    try:
        numpy_dtype = np.dtype(numpy_dtype)
    except TypeError:
        return
    if numpy_dtype.kind != "f" or numpy_dtype.itemsize >= 8 or not pd.api.types.is_float_dtype(dtype):
        return
    largest = float(np.finfo(numpy_dtype).max)
    # Hostile sweep 26: judged by what the dtype makes of the value, not by its largest value: 3.4028235e38,
    # float32's largest as NumPy prints it, is a little above it as float64 and rounds to it (as 0.1
    # rounds to float32's nearest), yet was refused as "could only hold infinity". Only a value past
    # the largest by half a unit in the last place (65520 for float16) turns into infinity.
    with np.errstate(over="ignore"):
        beyond = np.isinf(np.asarray(values, dtype=np.float64).astype(numpy_dtype))
    if beyond.any():
        raise ValueError(
            f"given sets column {column['name']!r}, fitted as {column['dtype']}, to {float(values[beyond][0])!r}"
            f"{_in_row(rows[beyond][0], from_dict)}, beyond the largest value that dtype holds ({largest:g}): the "
            "sampled rows could only hold infinity."
        )


#: Share of the importance samples drawn from the prior N(0, I) rather than
#: from q(z | x_given): the encoder learned from whole rows and can be
#: overconfident given a few cells, and then SIR's draws missed part of
#: p(x_free | x_given) (means off by several standard errors against
#: rejection sampling on 5 of 6 fits of tests/test_conditional.py's table).
DEFENSIVE_PRIOR_SHARE = 0.5


def draw(vae, table, given_mask, n_importance, random_state, return_mean):
    """Decoded values (user units, codes for categories) of every cell, free cells drawn.

    `table` and `given_mask` come from :func:`condition_table`;
    `random_state` is a seeded ``numpy.random.RandomState``. A condition
    the networks overflow on is refused naming it (:func:`_overflowing_condition`).
    """
    model = vae._model
    encoded = model.rows(vae._validate_input(table), vae.handle_unknown, with_noise=False)
    networks = model.networks(encoded.dtype)
    latent_dim = model.latent_dim
    noise_seed, pick_seed = random_state.randint(np.iinfo(np.int32).max, size=2)
    noise_generator = torch.Generator().manual_seed(int(noise_seed))
    pick_generator = None if return_mean else torch.Generator(device=networks.device).manual_seed(int(pick_seed))

    def complete(batch):
        x, observed = networks.batch(batch.values)
        noise = torch.randn((n_importance, x.shape[0], latent_dim), generator=noise_generator, dtype=torch.float64)
        return networks.impute(x, observed, networks.as_tensor(noise.numpy()), pick_generator,
                               prior_share=DEFENSIVE_PRIOR_SHARE)

    try:
        return map_row_batches(complete, encoded, (vae.n_features_in_,), model.draws_width(n_importance),
                               out_dtype=np.float64, sequential=True,
                               n_threads=model.inference_threads(vae.n_jobs, encoded.shape[0] * n_importance))
    except NetworkOverflow as overflow:
        message = _overflowing_condition(vae._schema, table, given_mask, overflow.rows, np.dtype(encoded.dtype))
        if message is None:
            raise
        raise ValueError(message) from None


def _raw_rows(schema, table, rows, handle_unknown):
    """The raw values of `rows` of `table` (a DataFrame or an array), as the schema reads them."""
    subset = table.iloc[rows] if is_dataframe(table) else table[rows]
    return schema.raw_values(subset, handle_unknown=handle_unknown)


def _farthest_out(schema, raw, mask):
    """(row, column, suspects) of the masked number of `raw` farthest beyond its column's range.

    `raw` holds the raw values of some rows and `mask` (the same shape) marks
    the cells to consider. None when no masked number lies outside its
    column's observed range (any masked number counts, for a model whose
    file recorded no range). "Farthest" is in the units the networks see
    (the encoding).
    """
    with np.errstate(all="ignore"):
        distance = np.abs(schema.encode(raw.copy()))
    distance[np.isnan(distance)] = np.inf  # an encoding that itself overflowed is as far out as it gets
    suspects = np.zeros(raw.shape, dtype=bool)
    for j, column in enumerate(schema.columns):
        if column["kind"] == "categorical":
            continue
        values = raw[:, j]
        with np.errstate(invalid="ignore"):
            beyond = ((values < column["min"]) | (values > column["max"]) if "min" in column
                      else np.ones(len(values), bool))
        suspects[:, j] = mask[:, j] & beyond
    if not suspects.any():
        return None
    row, j = np.unravel_index(np.argmax(np.where(suspects, distance, -1.0)), suspects.shape)
    return row, j, suspects


def overflowing_cells(schema, table, rows, n_rows, handle_unknown):
    """Why the networks overflowed on `rows` of `table` (a model's own input), naming columns and rows; None if unknown.

    The imputer's counterpart of :func:`_overflowing_condition` (hostile
    sweep 10): ``VAEImputer.transform`` on a row holding 1e300 in a column
    fitted on values near 1 said only "overflowed on 1 of 40 rows", naming
    no column. The observed numbers outside their fitted ranges on the
    overflowing rows are named, the farthest first.
    """
    rows = np.asarray(rows)
    raw = _raw_rows(schema, table, rows, handle_unknown)
    found = _farthest_out(schema, raw, ~np.isnan(raw))
    if found is None:
        return None
    row, j, suspects = found
    column = schema.columns[j]
    names = [repr(schema.columns[k]["name"]) for k in np.flatnonzero(suspects.any(axis=0))]
    fitted = (f"the range it was fitted on ([{column['min']:.6g}, {column['max']:.6g}])"
              if "min" in column else "the values it was fitted on")
    # The rows a term (hostile sweep 33, sweep 21's left item): the command line said 0-based rows beside
    # the "line 3" of the same cell; a file's face says their lines.
    return (
        f"The fitted networks' arithmetic overflowed on {len(rows)} of {n_rows} rows (", refused_rows(rows), "), "
        f"which hold values far outside their columns' fitted ranges (column{'s' if len(names) > 1 else ''} "
        f"{', '.join(names)}): for example column {column['name']!r} holds {float(raw[row, j])!r}",
        refused_row(rows[row], " in "), f", far outside {fitted}. Check those values (units, a sentinel such as 1e300).",
    )


def _overflowing_condition(schema, table, given_mask, rows, dtype):
    """Why the networks overflowed on `rows`: the given number farthest beyond its column's range; None if none is.

    A condition is refused only where the networks cannot compute with it,
    not by a distance from the fitted range: a value beyond the range is a
    question the model answers by extrapolation (its conditional, free cells
    still decoded within their observed ranges), while one that overflows
    the arithmetic (1e300 in a column of values near 50: its squared
    standardized distance is beyond float64) leaves every importance weight
    infinite or NaN, and no distribution to draw from. The networks
    reported "overflowed" without a word of ``given``; the cause is named
    here, in the caller's terms. Which cell: among the given numbers outside
    their column's observed range (any given number, for a model whose file
    recorded no range), the one farthest out in the units the networks see.
    """
    rows = np.asarray(rows)
    raw = _raw_rows(schema, table, rows, "condition")
    found = _farthest_out(schema, raw, given_mask[rows])
    if found is None:
        return None
    row, j, _ = found
    column = schema.columns[j]
    fitted = (f"far outside the range it was fitted on ([{column['min']:.6g}, {column['max']:.6g}])"
              if "min" in column else "far outside the values it was fitted on")
    return (
        f"given sets column {column['name']!r} to {float(raw[row, j])!r}, {fitted}: the networks' {dtype} "
        f"arithmetic overflows on it in {len(rows)} of {len(given_mask)} sampled rows (the first is row "
        f"{int(rows[0])}), so the model has no conditional distribution to draw from there. Give a value "
        "nearer that range."
    )


def with_given_cells(vae, values, table, given_mask):
    """The decoded rows, with every given cell exactly as the user gave it.

    Given categories are put back as their codes before decoding (so they come
    back as the fitted category); given numbers after it, since decoding
    clips to the observed range and rounds to the column's decimals, and a
    condition is the user's, not the model's.
    """
    import pandas as pd

    schema = vae._schema
    raw = schema.raw_values(table, handle_unknown="error")
    categorical = np.array([column["kind"] == "categorical" for column in schema.columns])
    values = np.array(values, copy=True)
    values[given_mask & categorical] = raw[given_mask & categorical]
    decoded = schema.decode(values)
    numeric_given = given_mask & ~categorical
    if not numeric_given.any():
        return decoded
    if not is_dataframe(decoded):
        decoded[numeric_given] = raw[numeric_given]
        return decoded
    for j in np.flatnonzero(numeric_given.any(axis=0)):
        rows = numeric_given[:, j]
        column = decoded.iloc[:, j].to_numpy(copy=True)
        dtype = decoded.dtypes.iloc[j]
        if column.dtype == object and getattr(dtype, "kind", "O") in "iu" and decoded.iloc[:, j].notna().all():
            # Hostile sweep 33: pandas < 2 (1.5, the oldest pyproject.toml allows) gives a nullable integer
            # column without a missing cell as objects, which it then refused to cast back to Int64 ("Cannot
            # cast array data from dtype('O') to dtype('int64')", a traceback for a given 2**63 - 1). NumPy's
            # own dtype, as pandas 2 gives it, holds each value exactly.
            column = decoded.iloc[:, j].to_numpy(dtype=dtype.numpy_dtype, copy=True)
        # As objects: NumPy reads a nullable column with free (NA) cells as float64, which
        # turned a given 2**64 - 1 into 2**64 and so 0 in uint64 (2**63 - 1: -2**63 in int64).
        cells = table.iloc[:, j].to_numpy(dtype=object)[rows]
        text = _text_cells(table.iloc[:, j])[rows] if column.dtype.kind in "iu" else None
        if text is not None and text.any():
            # Hostile sweep 26: text the schema reads as a whole number ("3.0", "1e2") passed every check,
            # then NumPy's int("3.0") failed after the draw, naming neither given nor the column. It is
            # put back as the number it reads as exactly (_check_values refused any other).
            cells[text] = [_whole_number(cell) for cell in cells[text]]
        if column.dtype == object:
            cells = _as_object_numbers(cells, raw[rows, j], schema.columns[j].get(CELL_TYPE))
        column[rows] = cells.astype(column.dtype)
        # Set as a whole column in the decoded dtype: a sparse column takes no item assignment.
        decoded.isetitem(j, pd.Series(column, index=decoded.index).astype(decoded.dtypes.iloc[j]))
    return decoded


def _as_object_numbers(cells, read, cell_type):
    """Given cells of an object column of numbers as the Python numbers of the column's own cells.

    Hostile sweep 30: such a column's sampled cells are Python floats (ints
    or bools where the fit's cells all were, skvae._column_types.CELL_TYPE),
    but a given cell came back as given: "3" and "1.5" as text amid numbers,
    3.0 as a float amid ints, ``np.int64(3)`` and ``np.True_`` as NumPy
    scalars, so one column held several types (and a CSV of it wrote
    "3.0" beside "4"). Decided: each comes back as the number the schema
    read it as (`read`, as ``transform`` reads it; the value unchanged), of
    the type of the column's cells: a bool for a 0 or 1 in a column of
    booleans, a Python int for a whole number in a column of integers, a
    Python float otherwise (a fraction in a column of integers too, which
    an object column holds exactly).
    """
    out = np.empty(len(cells), dtype=object)
    for k, (cell, number) in enumerate(zip(cells.tolist(), read.tolist())):
        if cell_type == "bool" and number in (0.0, 1.0):
            out[k] = bool(number)
        elif cell_type == "int" and isinstance(cell, (int, np.integer)) and not isinstance(cell, (bool, np.bool_)):
            out[k] = int(cell)  # exact beyond 2**53, where the float read is not
        elif cell_type == "int" and float(number).is_integer():
            out[k] = int(number)
        else:
            out[k] = float(number)
    return out


def _check_known(keys, names):
    """Each key names a fitted column by its label, of the label's own sort.

    ``True`` and ``1.0`` equal ``1`` in Python, so ``key in names`` took
    them for the column labelled (or, for an array, at position) 1; the
    ``likelihood`` parameter refuses them so (see
    :func:`skvae._column_types._position`), and so does a condition.
    """
    import numbers

    def names_a_column(key):
        return not isinstance(key, (bool, np.bool_)) and any(
            isinstance(key, numbers.Integral) == isinstance(name, numbers.Integral) and _equal(key, name)
            for name in names)

    unknown = [key for key in keys if not names_a_column(key)]
    if unknown:
        # Hostile sweep 32: a model fitted behind a ColumnTransformer (pipeline[-1].sample(given=...))
        # knows its columns by the prefixed names; the hint says which to write.
        raise ValueError(f"given names columns {unknown!r} the model does not have; its columns are {names}."
                         f"{look_alike_hint(unknown, names)}{prefixed_names_hint(unknown, names)}")


def _as_fitted(series, dtype):
    """A column of conditions in the fitted dtype where it converts; as given otherwise (the schema then says why).

    A column with free (missing) cells stays as given: an integer dtype cannot hold them.
    """
    if dtype == "category" or series.isna().any():
        return series
    import warnings

    import pandas as pd

    try:
        with warnings.catch_warnings():
            # A conversion that drops something (complex to real) warns; the check below refuses it.
            warnings.simplefilter("ignore")
            converted = series.astype(dtype_from_name(dtype) or dtype)
    except (TypeError, ValueError, OverflowError, NameError):  # NameError: see skvae._schema.dtype_from_name
        return series
    # Only a conversion that keeps every value: "False" as a bool is True, 2.5 as an int is 2.
    # As given, the schema reads such a value and says why it cannot be the condition.
    try:
        kept = bool((converted.astype(object) == series.astype(object)).all())
    except (TypeError, ValueError):
        kept = False
    # Hostile sweep 17: True == 1 in Python, so given={"b": 1} on a bool column became True and
    # given={"i": True} on an integer column 1, while transform refuses those very cells ("1 (int) is
    # the known category True (bool) written as another type"). A bool read as a number, or a
    # number as a bool, is no value kept: as given, the schema refuses it as transform does.
    if kept and pd.api.types.is_bool_dtype(converted.dtype) != _all_booleans(series):
        kept = False
    return converted if kept else series


def _all_booleans(series):
    """Whether every cell of `series` is a bool (its dtype bool or boolean, or objects that are each a bool)."""
    import pandas as pd

    if series.dtype != object:
        return pd.api.types.is_bool_dtype(series.dtype)
    return all(isinstance(cell, (bool, np.bool_)) for cell in series)
