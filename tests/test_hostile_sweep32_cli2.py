r"""Hostile use, thirty-second sweep: the command line on real files, a second pass.

Swept and found sound: scikit-learn's bundled CSV files through ``fit``
(``iris.csv``, whose first line ``150,4,setosa,...`` is taken as names;
``wine_data.csv`` and ``breast_cancer.csv``, whose line of counts is shorter
than the rows: refused with ``--skip-rows 1``, which fits; ``digits.csv.gz``,
no header, read as ``x0`` ... ``x64``; ``linnerud_*.csv`` and
``diabetes_data_raw.csv.gz``, separated by spaces: refused as sweep 31
decided); a German Excel export (``;``, CRLF, decimal commas, dates
``31.12.2020``, umlauts); quoted cells holding newlines, commas and
semicolons (lines still named right after them); trailing blank and
whitespace-only lines; mixed ``\n``/``\r\n`` and ``\r``/``\n`` line ends;
a tab file whose rows are tabs and spaces only (the sweep-31 note, by
line); ``sample --out -`` piped into ``fit -``, ``impute --draws 3 --out -``
piped into ``score`` (``.imp`` and the dropped ``id`` named as left out);
statsmodels' 31 bundled CSV files through ``fit`` (the identifier
warnings and the space-separated refusals as sweep 31 left them); a
semicolon file of decimal commas with quoted newlines through ``impute``
(written with commas, as sweeps 13, 15 and 21 decided).

Each family below failed once (see the commit that added its tests):

- **A line that repeats the header** (``skvae._csv._refuse_repeated_header``):
  files joined with their headers (``cat a.csv b.csv``, Windows' ``copy /b``,
  an appended export; each of Excel's "CSV UTF-8" files with its own
  byte-order mark) leave the second header among the rows. pandas read it
  as a row of data: in a table of text columns the names became categories
  (``sample`` drew ``color`` as a color, ``impute`` copied the line back as
  a record), without a word; in a column of numbers the name was refused as
  a stray word with advice to declare the column categorical, which would
  have kept the line. Such a line is refused now, naming it and the header's
  line, with the advice to remove it (decided: refused, not dropped; see the
  function). A one-column table is not checked: a text column may hold its
  own name as a value. Likewise a line holding the header's names in
  another order (a joined file whose columns were in another order): its
  rows below were read under the first header's columns, swapped without a
  word (in a table of text); refused, naming the line. And a ``sep=;``
  line among the rows (spreadsheet exports joined, each with its
  directive, ``skvae._csv._refuse_separator_directive_among_rows``) was
  refused only as "line 5 has 2 values, but line 2 has 3"; it is named as
  the separator line now, with the same advice.

- **Thousands grouped by apostrophes** (``skvae._csv._GROUPING_APOSTROPHES``,
  ``_space_grouped_number``; sweep 31's LEFT item, small and clear): a
  spreadsheet in a Swiss locale writes an amount as ``1'234.50`` (or with
  the typographic ``’``). pandas left the column as text and it was
  modelled as categories, one per distinct amount, without a word (``impute``
  filled a hole with another row's amount). An apostrophe is never a
  decimal mark, so such cells are numbers now, as sweep 31 made the cells
  grouped by spaces; a stray word among them is refused as among other
  numbers.

Found, not changed:

- A repeated header whose names carry spaces the first one lacks
  (`` name , color ``) is not matched: the check compares a line's fields
  as the csv module reads them, with no call per line (the reader's cost
  is pinned per line by sweep 22), and such a line is not what joining two
  exports of one program writes.
- A file that is not UTF-8 (Latin-1, cp1252 from Excel's plain "CSV") is
  refused naming the byte and its offset, not its line; sweep 21 found that
  sound and it is left so.
- Percentages (``12,5 %``) and amounts with a currency stay text, as the
  reader's rule for units (``_typeset_numbers_as_numbers``: 5% may be 5 or
  0.05) and sweep 31 left them.
"""


import pytest

from _cli_run import run_cli as _run


FAST = ["--max-iter", 2, "--latent-dim", 2, "-q"]
FIT_FAST = FAST + ["--hidden-layer-sizes", 8]

TEXT_TABLE = "name,color\na,red\nb,blue\nc,red\n"
MIXED_TABLE = "name,x\na,1\nb,\nc,3\n"


@pytest.mark.parametrize("first, second, repeated_line", [
    (TEXT_TABLE, "d,blue\ne,red\n", 5),
    (MIXED_TABLE, "d,4\ne,5\n", 5),
    ("\ufeff" + TEXT_TABLE.replace("\n", "\r\n"), "d,blue\r\ne,red\r\n", 5),  # Excel's CSV UTF-8, each with a BOM
], ids=["text", "numbers", "excel_utf8_bom"])
@pytest.mark.parametrize("command", ["fit", "impute"])
def test_a_header_repeated_among_the_rows_is_refused_naming_its_line(tmp_path, first, second, repeated_line,
                                                                     command):
    """The joined file's second header was a row of data: categories named after the columns, or a stray word."""
    header = first.lstrip("\ufeff").splitlines()[0]
    newline = "\r\n" if "\r\n" in first else "\n"
    bom = "\ufeff" if first.startswith("\ufeff") else ""
    data = tmp_path / "joined.csv"
    data.write_bytes((first + bom + header + newline + second).encode("utf-8"))
    out_path = tmp_path / ("model.skvae" if command == "fit" else "out.csv")
    status, out, err = _run([command, data, "--out", out_path, *(FIT_FAST if command == "fit" else FAST)])
    assert status == 1, (out, err)
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{data}: line {repeated_line} repeats the header (line 1)" in err
    assert "Remove the repeated header line" in err
    assert "--likelihood" not in err  # no advice that would keep the line as data
    assert not out_path.exists()


def test_every_repeated_header_line_is_named_and_a_model_command_refuses_it_too(tmp_path):
    """Three files joined: both later headers named; transform reads with the same reader."""
    clean = tmp_path / "clean.csv"
    clean.write_text(TEXT_TABLE)
    model = tmp_path / "model.skvae"
    assert _run(["fit", clean, "--out", model, *FIT_FAST])[0] == 0
    joined = tmp_path / "joined.csv"
    joined.write_text(TEXT_TABLE * 3)
    for command in (["transform", model, joined], ["score", model, joined]):
        status, out, err = _run(command)
        assert status == 1, (out, err)
        assert f"{joined}: lines 5, 9 repeat the header (line 1)" in err


@pytest.mark.parametrize("content", [
    "answer\nyes\nanswer\nno\n",  # one column: its own name may be a value
    "name,color\na,red\nname,blue\nred,color\n",  # names as values, never all of the header's names
], ids=["one_column", "names_as_values"])
def test_lines_that_are_not_the_header_again_are_read_as_before(tmp_path, content):
    """The check is narrow: a whole line equal to the header, in a table of two columns or more."""
    data = tmp_path / "data.csv"
    data.write_text(content)
    status, out, err = _run(["fit", data, "--out", tmp_path / "model.skvae", *FIT_FAST])
    assert status == 0, err


SWISS = "Kanton;Betrag;Menge\nZH;1'234.50;3\nBE;987.25;4\nGE;;3\nZH;2'003.75;1\nBE;450.00;2\nGE;3'210.10;5\n"


@pytest.mark.parametrize("apostrophe", ["'", "\u2019"], ids=["ascii", "typographic"])
def test_thousands_grouped_by_apostrophes_are_numbers(tmp_path, apostrophe):
    """The Swiss amounts were categories: impute filled the hole with another row's amount, as written."""
    from skvae import _csv

    data = tmp_path / "swiss.csv"
    data.write_text(SWISS.replace("'", apostrophe), encoding="utf-8")
    table = _csv.read_table(str(data))
    assert table.frame["Betrag"].dtype.kind == "f"
    assert table.frame["Betrag"].tolist()[:2] == [1234.5, 987.25]
    status, out, err = _run(["impute", data, "--out", "-", *FAST])
    assert status == 0, err
    filled = out.splitlines()[3].split(",")
    assert filled[0] == "GE" and float(filled[1]) not in (1234.5, 987.25, 2003.75, 450.0, 3210.1), out
    model = tmp_path / "model.skvae"
    status, out, err = _run(["fit", data, "--out", model, *FIT_FAST])
    assert status == 0, err
    from skvae import load

    assert dict(load(model).column_kinds_)["Betrag"] != "categorical"


def test_a_word_among_apostrophe_grouped_numbers_is_refused_as_a_slip(tmp_path):
    """Counted as numbers by the stray-text rule: the word is named by its line, not the column made categories."""
    rows = ["k,amount"] + [f"a,\"{i}\u2019{(i * 37) % 1000:03d}.{i % 100:02d}\"" for i in range(1, 30)]
    rows[7] = "a,unbekannt"
    data = tmp_path / "amounts.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    status, out, err = _run(["fit", data, "--out", tmp_path / "model.skvae", *FIT_FAST])
    assert status == 1, (out, err)
    assert f"{data}, column 'amount', line 8: 'unbekannt' is not a number" in err


@pytest.mark.parametrize("content", [
    "name,color,x\na,red,1\nb,blue,2\ncolor,name,x\nblue,d,4\nred,e,5\n",
    "name,color\na,red\nb,blue\n\ufeffcolor,name\nblue,d\nred,e\n",  # the joined file's BOM
], ids=["numbers", "text_bom"])
def test_a_header_repeated_in_another_order_is_refused(tmp_path, content):
    """The second file's rows were read under the first file's column order: colors as names, names as colors."""
    data = tmp_path / "joined.csv"
    data.write_bytes(content.encode("utf-8"))
    status, out, err = _run(["fit", data, "--out", tmp_path / "model.skvae", *FIT_FAST])
    assert status == 1, (out, err)
    assert err.count("\n") == 1
    assert f"{data}: line 4 holds the header's names (line 1) in another order" in err
    assert "read under the wrong columns" in err


@pytest.mark.parametrize("directive", ["sep=;", "sep=|", '"sep=;"'], ids=["own", "other", "quoted"])
def test_a_separator_line_among_the_rows_is_named_as_such(tmp_path, directive):
    """Two Excel exports joined: the second's 'sep=;' line was only 'line 5 has 2 values, but line 2 has 3'."""
    data = tmp_path / "joined.csv"
    data.write_text(f"sep=;\r\nk;v;w\r\na;1,5;1\r\nb;2,5;2\r\n{directive}\r\nk;v;w\r\nc;3,5;3\r\n")
    for command in ("fit", "impute"):
        out_path = tmp_path / f"{command}.out"
        status, out, err = _run([command, data, "--out", out_path, *(FIT_FAST if command == "fit" else FAST)])
        assert status == 1, (out, err)
        assert err.count("\n") == 1
        assert f"{data}: line 5 is a separator line ('sep=...')" in err
        assert "Remove it, and the header repeated after it" in err
        assert not out_path.exists()


def test_a_line_of_one_text_cell_in_a_narrower_row_is_still_a_width_refusal(tmp_path):
    """Only a directive is named so: a short row of data keeps the width refusal."""
    data = tmp_path / "short.csv"
    data.write_text("k,v,w\na,1.5,1\nseparate,\nb,2.5,2\nc,3.5,3\n")
    status, out, err = _run(["fit", data, "--out", tmp_path / "model.skvae", *FIT_FAST])
    assert status == 1 and "line 3 has 2 values, but line 1 has 3" in err, err
