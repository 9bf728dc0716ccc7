"""Checks every face shares: parameter constraints, counts, and the input table.

A face validates its input here once per call, then hands the model core
(:mod:`skvae._model`) a float array or a DataFrame of the fitted columns.
"""

import decimal
import numbers
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    validate_parameter_constraints,
)
from sklearn.utils.validation import _check_feature_names_in, validate_data

from ._column_types import look_alike_names, look_alike_text, short_repr
from ._input import as_plain_input
from ._refusals import Refusal, TypeRefusal, parameter, row
from ._schema import is_dataframe

#: The most importance samples per row a call takes. The bound's gap to log p(x)
#: shrinks like 1/K, so far below this K it is under the estimate's own noise;
#: each row costs K decoder passes, and Ctrl-C is only seen between batches, so
#: K = 10**9 would hold one row for minutes that cannot be interrupted.
MAX_N_IMPORTANCE = 100_000


class IntNotBool(Interval):
    """An integer Interval that refuses bools: ``latent_dim=True`` is a mistake, not 1."""

    def __init__(self, low, high, closed):
        super().__init__(Integral, low, high, closed=closed)

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(_as_python(val))


class RealNotBool(Interval):
    """A real Interval that refuses bools: ``learning_rate=True`` is a mistake, not 1.0."""

    def __init__(self, low, high, closed):
        super().__init__(Real, low, high, closed=closed)

    def is_satisfied_by(self, val):
        if isinstance(val, (bool, np.bool_)) or not is_plain_real(val):
            return False
        return super().is_satisfied_by(_as_python(val))


def is_plain_real(val):
    """Whether `val` is a real number NumPy can test (a Python or NumPy int or float).

    Hostile sweep 18: ``fractions.Fraction`` is a ``numbers.Real``, so
    scikit-learn's Interval went on to ``np.isnan`` of it, whose TypeError
    ("ufunc 'isnan' not supported for the input types") named no parameter.
    Such a value is refused as the parameter's own InvalidParameterError.
    """
    return isinstance(val, (int, float, np.integer, np.floating))


def _as_python(val):
    # Compared as Python numbers: np.float16(0.5) against the bound 1e12 overflows
    # (a RuntimeWarning), and NumPy integers may wrap against 2**32 - 1.
    return val.item() if isinstance(val, (np.integer, np.floating)) else val


#: The usual values of parameters read at every inference call: they pass without building
#: scikit-learn's constraint objects, which would cost a one-row call as much as its network pass.
_USUAL_VALUES = {
    "handle_unknown": lambda value: isinstance(value, str) and value in ("error", "ignore"),
    "n_jobs": lambda value: value is None or type(value) is int and value != 0,
}


def check_inference_parameters(estimator):
    """Check the parameters `estimator` reads at every inference call (its ``_inference_parameters``).

    ``fit`` validates every parameter, but one set by ``set_params`` after
    fit reaches ``transform``, ``score_samples``, ``sample``, ... unchecked:
    ``handle_unknown="bogus"`` read unknown categories as missing cells
    without a word, ``n_jobs=0`` failed in torch's ``set_num_threads``, the
    imputer's ``sample_posterior="no"`` (a truthy string) drew its fills.
    The refusal is scikit-learn's InvalidParameterError, as at fit, against
    the estimator's own constraints.
    """
    names = type(estimator)._inference_parameters
    values = {name: getattr(estimator, name) for name in names}
    if all(name in _USUAL_VALUES and _USUAL_VALUES[name](value) for name, value in values.items()):
        return
    validate_parameter_constraints({name: estimator._parameter_constraints[name] for name in names}, values,
                                   caller_name=type(estimator).__name__)


def check_flag(value, name):
    """`value` as a bool if it is one (Python's or NumPy's), else a ValueError naming `name`.

    A truthy string such as ``"no"`` would otherwise switch the option on.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def check_seed(random_state, name="random_state"):
    """``check_random_state(random_state)``, its refusal a ValueError that names `name`.

    A bool is refused too: check_random_state would seed with True as 1.
    """
    if isinstance(random_state, (bool, np.bool_)):
        raise ValueError(f"{name} must be None, an int in [0, 2**32 - 1] or a numpy.random.RandomState; got "
                         f"{random_state!r}.")
    try:
        return check_random_state(random_state)
    except ValueError as error:
        raise ValueError(
            f"{name} must be None, an int in [0, 2**32 - 1] or a numpy.random.RandomState; got "
            f"{random_state!r} ({error})."
        ) from None


def check_count(value, name):
    """`value` as an int if it is a positive integer (bools are not), else a ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


def check_n_importance(value, name="n_importance"):
    """A count of importance samples per row, at most MAX_N_IMPORTANCE."""
    value = check_count(value, name)
    if value > MAX_N_IMPORTANCE:
        raise Refusal(
            parameter(name, value), f" is more than skvae takes ({MAX_N_IMPORTANCE:,} samples per row): each row "
            "costs ", parameter(name), " decoder passes and cannot be interrupted mid-row, while the bound it buys "
            "changes less than its own Monte Carlo noise long before. Use at most 100000."
        )
    return value


def check_input_features(estimator, input_features):
    """`input_features` of ``get_feature_names_out`` checked against the fitted columns; the names to use.

    scikit-learn's own check read a string as one 0-d name (a TypeError,
    ``len() of unsized object``, from an estimator fitted on an array), took
    a column of names as rows, and said only that names which differ "are
    not equal": the refusal here is a ValueError saying what was expected.
    """
    if input_features is None:
        return _check_feature_names_in(estimator, None)
    expected = getattr(estimator, "feature_names_in_", None)
    wanted = (f"its feature_names_in_ {short_repr(list(expected), 200)}" if expected is not None
              else f"{estimator.n_features_in_} column names")
    names = None if isinstance(input_features, (str, bytes, dict, set)) else np.asarray(input_features, dtype=object)
    if names is None or names.ndim != 1 or not all(isinstance(name, str) for name in names):
        raise ValueError(
            f"input_features must be None or a list of {wanted} (one str per column {type(estimator).__name__} "
            f"was fitted on); got {short_repr(input_features)}."
        )
    if len(names) != estimator.n_features_in_:
        raise ValueError(
            f"input_features has {len(names)} names, but {type(estimator).__name__} was fitted on "
            f"{estimator.n_features_in_} columns: pass None or {wanted}."
        )
    if expected is not None and not np.array_equal(names, expected):
        raise ValueError(
            f"input_features {list(names)!r} are not the columns {type(estimator).__name__} was fitted on: "
            f"pass None or {wanted}, in that order."
        )
    return names


def validate_table(estimator, X, reset, schema=None):
    """X with its feature count and names checked against `estimator`: a numeric array or a DataFrame.

    `schema` is the fitted one (None before a fit); the table is not yet encoded.
    """
    X = as_plain_input(X)
    if is_dataframe(X):
        check_frame(X, estimator=None if reset else estimator)
        if not reset:
            check_same_columns(schema, X, estimator)
        return validate_data(estimator, X, reset=reset, skip_check_array=True)
    # Not ensure_all_finite=True: NaN is a missing cell, and infinity gets
    # the schema's message saying it is not one.
    check_array_dtype(X)
    try:
        return validate_data(estimator, X, reset=reset, dtype=[np.float64, np.float32], ensure_all_finite=False)
    except (TypeError, ValueError, OverflowError) as error:
        raise text_in_array_refusal(X, error) from None


def check_frame(X, estimator=None):
    """A DataFrame with at least one row and one column, its column labels unique.

    A DataFrame skips scikit-learn's array checks (its columns keep their
    dtypes), so the counts are checked here; and a duplicated label would
    reach narwhals' error inside scikit-learn, or make ``X[name]`` a frame.
    With a fitted `estimator`, the fitted columns in another order are
    refused naming both orders (scikit-learn's message names neither).
    """
    columns = X.columns
    # Hostile sweep 15: a column labelled None (which pandas may hold as NaN) reached scikit-learn's
    # "your input has ['float', 'str'] as feature name types", naming a type the caller never gave.
    unlabelled = [j for j, label in enumerate(columns) if _is_missing_label(label)]
    if unlabelled:
        raise ValueError(
            f"X's column{'s' * (len(unlabelled) > 1)} at position{'s' * (len(unlabelled) > 1)} "
            f"{', '.join(map(str, unlabelled[:10]))}{' ...' if len(unlabelled) > 10 else ''} "
            f"{'have' if len(unlabelled) > 1 else 'has'} no label (None or NaN): each column must be named by a "
            "string (or every column by an integer). Name them, e.g. X.columns = [...]."
        )
    if not columns.is_unique:
        duplicated = list(dict.fromkeys(columns[columns.duplicated()].tolist()))
        raise ValueError(
            f"X has duplicated column names {duplicated[:10]!r}{' ...' if len(duplicated) > 10 else ''}: each "
            "column must have its own label (rename or drop the duplicates)."
        )
    if X.shape[0] < 1:
        raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required.")
    if X.shape[1] < 1:
        raise ValueError(f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
    fitted = getattr(estimator, "feature_names_in_", None)
    if fitted is not None:
        given = list(columns)
        fitted = list(fitted)
        if given != fitted and len(given) == len(fitted) and set(given) == set(fitted):
            moved = [name for name, want in zip(given, fitted) if name != want]
            # scikit-learn's two sentences as it writes them, a newline between (hostile sweep 28): its
            # check_dataframe_column_names_consistency matches that text, which ": columns" and a space broke.
            raise ValueError(
                "The feature names should match those that were passed during fit.\nFeature names must be in "
                f"the same order as they were in fit. Columns {moved[:10]!r}{' ...' if len(moved) > 10 else ''} "
                f"are out of place (X has {given[:10]!r}{' ...' if len(given) > 10 else ''}; fit had "
                f"{fitted[:10]!r}{' ...' if len(fitted) > 10 else ''}). Reorder them, e.g. X[model.feature_names_in_]."
            )
        if given != fitted:
            _refuse_look_alike_names(given, fitted)


def _is_missing_label(label):
    """Whether a column label is None or NaN (a float NaN, np.nan, pd.NA)."""
    # pd.NA first (hostile sweep 16): ``bool(pd.NA != pd.NA)`` raises TypeError, which the except below
    # read as "a label", so a column labelled pd.NA still reached scikit-learn's "['NAType', 'str'] as
    # feature name types".
    if label is None or type(label).__name__ == "NAType":
        return True
    try:
        return bool(label != label)
    except (TypeError, ValueError):
        return False


def _refuse_look_alike_names(given, fitted):
    """Refuse X's columns that are fitted ones written with characters that do not show.

    scikit-learn lists the unseen and the missing names without quotes, so
    'café' (e + U+0301) against 'café' (U+00E9), 'price ' against 'price' or a
    name with a zero-width space read "unseen: café; missing: café". Names
    are still matched exactly, as scikit-learn matches them: only the caller
    knows which spelling their data meant.
    """
    pairs = look_alike_names(given, fitted)
    if pairs:
        raise ValueError(
            "The feature names should match those that were passed during fit. X names columns as fit did, but "
            f"written with other characters: {look_alike_text(pairs)}. Rename them: "
            f"X.rename(columns={ascii(dict(pairs))})."
        )




def check_same_columns(schema, X, estimator=None):
    """A DataFrame with other column labels than at fit is refused, not read by position.

    scikit-learn checks the names only when they are all strings; a table
    with integer labels (or mixed ones) would otherwise be read column by
    column in whatever order it comes. "Strings" as scikit-learn counts them
    (``sklearn.utils.validation._get_feature_names``): labels whose type is
    ``str`` itself. Labels of a str subclass (``np.str_``, as a NumPy array
    of names gives) get no ``feature_names_in_``, so scikit-learn checks
    nothing, and an ``isinstance`` test here took them for checked names:
    such columns given in another order were read by position. Left to
    scikit-learn (whose message the estimator checks pin) only where it
    compares: the fit recorded ``feature_names_in_`` and X's labels are str.
    """
    if schema is None or not schema.is_dataframe:
        return
    given = list(X.columns)
    checked_by_sklearn = (getattr(estimator, "feature_names_in_", None) is not None
                          and all(type(name) is str for name in given))
    if not _same_labels(given, schema.names) and not checked_by_sklearn:
        raise ValueError(
            f"X has the columns {given[:10]!r}{' ...' if len(given) > 10 else ''}, but the model was fitted on "
            f"{schema.names[:10]!r}{' ...' if len(schema.names) > 10 else ''}: pass the same columns in the "
            "same order (columns are matched by label, never by position)."
        )


def _same_labels(given, fitted):
    """Whether the labels are the fitted ones, each of its own sort: an int label is no bool or float one.

    Hostile sweep 14: ``[False, True] == [0, 1]`` and ``[0.0, 1.0] == [0, 1]``
    in Python, so a table with those labels was read as the columns of a
    model fitted on 0 and 1 (and the imputer returned it under its own
    labels), where a condition keyed by True or 1.0 names no column.
    """
    def sort(label):
        return (isinstance(label, (bool, np.bool_)), isinstance(label, numbers.Integral),
                isinstance(label, numbers.Real))

    return len(given) == len(fitted) and all(
        sort(a) == sort(b) and _equal_labels(a, b) for a, b in zip(given, fitted))


def _equal_labels(a, b):
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # an array-like label compares element-wise
        return False


#: How to turn an array's dates ("M") or durations ("m") into numbers. Hostile sweep 25: durations were
#: advised "dates to numbers, e.g. days since a date", which they are not.
_TIME_CONVERSION = {"M": "dates to numbers, e.g. days since a date",
                    "m": "durations to numbers, e.g. seconds: X / np.timedelta64(1, 's')"}


def check_array_dtype(X):
    """Refuse an array of dates or durations before NumPy reads it as numbers.

    ``np.asarray(dates, dtype=float)`` gives days (or nanoseconds) since 1970
    without a word; a DataFrame column of these dtypes is refused by the
    schema the same way. An array of complex numbers is refused by name too.
    """
    if isinstance(X, (list, tuple)):
        try:
            X = np.asarray(X)
        except (TypeError, ValueError):  # ragged: validation says what is wrong with it
            return
    dtype = getattr(X, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind in "mM":
        what = {"m": "durations", "M": "dates"}[dtype.kind]
        raise ValueError(
            f"X is an array of {what} ({dtype}), which skvae cannot model: an array must hold real numbers. "
            f"Convert it first ({_TIME_CONVERSION[dtype.kind]})."
        )
    if isinstance(dtype, np.dtype) and dtype.kind == "c":
        # Hostile sweep 16: scikit-learn's "Complex data not supported" followed by the whole array
        # named neither X nor a way out, where a DataFrame column of complex numbers is refused by
        # name with a conversion (sweep 9).
        raise ValueError(
            # "Complex data not supported" first: scikit-learn's own words, which its check_complex_data asks for.
            f"Complex data not supported: X is an array of complex numbers ({dtype}), which skvae cannot model: an "
            "array must hold real numbers. Pass X.real if the imaginary parts are 0, or split each complex "
            "column into two, its .real and .imag (np.hstack([X.real, X.imag]))."
        )
    if isinstance(dtype, np.dtype) and dtype.names:
        # Hostile sweep 14: NumPy's "Cannot cast array data from dtype([('a', '<f8'), ...])" named
        # neither X nor the fix; a structured array is a table whose fields are its columns.
        raise TypeError(
            f"X is a structured array (fields {list(dtype.names)[:10]!r}), a table of named fields rather than "
            "a 2-D array: pass pandas.DataFrame(X), whose columns are the fields."
        )
    if isinstance(dtype, np.dtype) and dtype.kind == "V":
        # Hostile sweep 29 (inputs): an array of raw bytes without fields (np.void, "V8": a buffer read
        # without its dtype) reached NumPy's "setting an array element with a sequence", naming neither
        # X nor what it is. Refused, not read: nothing says which numbers its bytes hold.
        raise TypeRefusal(
            f"X is an array of raw bytes ({dtype.str.lstrip('|')}, NumPy's void type without fields), which skvae cannot read "
            "as numbers: an array must hold real numbers. View it as the numbers its bytes hold first (for "
            "example X.view(np.float64) where each cell is one float64)."
        )
    if isinstance(X, np.ndarray) and dtype == object and X.size:
        # Hostile sweep 14: float() reads a NumPy date or duration held as an object as days (or
        # seconds) since 1970, so an object array holding one was fitted without a word, where an
        # array of dates, and a datetime.datetime cell, are refused.
        # Hostile sweep 15: float() reads a Decimal or a Fraction to the nearest double, where a
        # DataFrame column (and a condition) of them is refused (sweep 10): the two paths agree now,
        # and the caller, not skvae, decides how an exact number is rounded.
        odd = np.frompyfunc(_unmodelled_cell, 1, 1)(X).astype(bool)
        if odd.any():
            position = tuple(int(i) for i in np.argwhere(odd)[0])
            cell = X[position]
            where = (f"in column {position[1]}, ", row(position[0])) if len(position) == 2 else (f"at {position}",)
            if isinstance(cell, (np.datetime64, np.timedelta64)):
                duration = isinstance(cell, np.timedelta64)
                raise Refusal(
                    f"X holds {cell!r} ", *where, f", a {'duration' if duration else 'date'}, "
                    "which skvae cannot model: an array must hold real numbers. Convert it first "
                    f"({_TIME_CONVERSION['m' if duration else 'M']})."
                )
            raise Refusal(
                f"X holds {short_repr(cell)} ", *where, f", of type {type(cell).__name__}, which skvae does not round "
                "for you (as a DataFrame column of them is refused): an array must hold floats or integers. "
                "Convert it first, e.g. X.astype(float)."
            )


def _unmodelled_cell(cell):
    """Whether an object array's cell is a date, a duration or an exact number (Decimal, Fraction)."""
    if isinstance(cell, (np.datetime64, np.timedelta64, decimal.Decimal)):
        return True
    return isinstance(cell, numbers.Real) and not isinstance(cell, (int, float, np.number, np.bool_))


#: What to do about text in an array of data: the advice of text_in_array_refusal by default.
#: Hostile sweep 26: a caller who passed a DataFrame to a Pipeline met it too, for a step before
#: (SimpleImputer(strategy="most_frequent"), say) hands on an array: the Pipeline's clause.
_TEXT_IN_DATA = ("Pass the table as a pandas DataFrame, whose text columns are modelled as categories (in a "
                 "Pipeline, set_output(transform=\"pandas\") on it makes the steps before hand on a DataFrame).")


def text_in_array_refusal(X, error, fix=_TEXT_IN_DATA):
    """validate_data's refusal `error`, naming the column, row and value when an array holds text or other non-numbers.

    `fix` is the advice after the cell is named: the DataFrame of categories
    for data, another for input that can only be numbers (latent codes). A
    :class:`~skvae._refusals.TypeRefusal` where `error` is a TypeError; where
    no cell can be named, scikit-learn's message as a plain ValueError or
    TypeError.
    """
    parts = _text_in_array_parts(X, error, fix)
    if parts is None:
        # Nothing skvae can name: scikit-learn's own words, as a plain error of its type. A one-part
        # Refusal would claim skvae's words, and a face reads scikit-learn's ("could not convert") to
        # name the cell itself where it can (the command line, from the file).
        return (TypeError if isinstance(error, TypeError) else ValueError)(str(error))
    return (TypeRefusal if isinstance(error, TypeError) else Refusal)(*parts)


def _text_in_array_parts(X, error, fix):
    ragged = _ragged_message(X)
    if ragged:
        return (f"{ragged} ({error})",)
    try:
        array = np.asarray(X, dtype=object) if not hasattr(X, "dtype") or X.dtype.kind in "OUS" else None
    except (TypeError, ValueError):  # nested deeper than rows of cells
        return None
    if array is None or array.ndim != 2:
        return None
    for j in range(array.shape[1]):
        for i, value in enumerate(array[:, j]):
            if isinstance(value, (str, bytes)):
                try:
                    float(value)
                except ValueError:
                    return (f"X holds text ({value!r} in column {j}, ", row(i), f"): an array must hold numbers. {fix}")
            elif not _is_missing_cell(value):
                try:
                    float(value)
                except (TypeError, ValueError, OverflowError):
                    return (f"X holds {short_repr(value)} of type {type(value).__name__} in column {j}, ", row(i),
                            ": each cell of an array is read with float(), whose argument must be a string or a "
                            "real number that float64 can hold (NaN, None or pandas.NA for a missing cell).")
    return None


def _is_missing_cell(value):
    """None or pd.NA: a missing cell, which validation's own message reports, not a non-number.

    Hostile sweep 18: pd.NA (a nullable column of latent codes given to
    ``inverse_transform``) was named a value float() cannot read, with the
    advice that pandas.NA marks a missing cell: the very cell refused.
    """
    return value is None or type(value).__name__ == "NAType"


def _ragged_message(X):
    """For a list of rows of different lengths, which rows differ (NumPy's message names neither X nor a row)."""
    if not isinstance(X, (list, tuple)) or not X:
        return None
    lengths = [len(row) if hasattr(row, "__len__") and not isinstance(row, (str, bytes)) else None for row in X]
    odd = next((i for i, length in enumerate(lengths) if length != lengths[0]), None)
    if odd is None:
        return None
    shown = lambda length: "a single value" if length is None else f"{length} value{'s' * (length != 1)}"  # noqa: E731
    return (f"X is a {type(X).__name__} of rows of different lengths (row 0 has {shown(lengths[0])}, row {odd} has "
            f"{shown(lengths[odd])}): every row must hold one value per column (NaN or None for a missing cell).")


def training_params(estimator):
    """`estimator`'s parameters as the core reads them, checked where they depend on each other."""
    if estimator.n_importance_train > 1 and estimator.beta != 1:
        raise ValueError(
            f"beta={estimator.beta!r} weights the KL term of the ELBO, but n_importance_train="
            f"{estimator.n_importance_train} trains on the importance-weighted bound, which has none: "
            "set beta=1 or n_importance_train=1."
        )
    sizes = estimator.hidden_layer_sizes
    # A set or a dict is array-like to scikit-learn, but has no order of layers.
    if isinstance(sizes, np.ndarray) and sizes.ndim != 1 or not isinstance(sizes, (numbers.Integral, list, tuple,
                                                                                     np.ndarray)):
        # InvalidParameterError as for every other parameter (a ValueError and a TypeError): a caller
        # catching scikit-learn's refusal of a parameter catches this one too.
        raise InvalidParameterError(
            "hidden_layer_sizes must be an int or a list, tuple or 1-D array of positive integers (the layers "
            f"in order); got {sizes!r}."
        )
    sizes = (sizes,) if isinstance(sizes, numbers.Integral) else tuple(sizes)
    if not sizes or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1 for s in sizes):
        raise InvalidParameterError(
            "hidden_layer_sizes must be a non-empty sequence of positive integers; "
            f"got {estimator.hidden_layer_sizes!r}."
        )
    # NumPy scalars as Python numbers: np.int8(8) is a valid batch_size, but arithmetic on it wraps or overflows.
    params = {name: value.item() if isinstance(value, np.generic) else value
              for name, value in estimator.get_params(deep=False).items()}
    return {**params, "hidden_layer_sizes": tuple(int(s) for s in sizes)}
