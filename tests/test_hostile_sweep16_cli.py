r"""Hostile input, sixteenth sweep: the command line, its CSV reader and model files.

Swept and found sound: a plain pickle given as a model (refused as a pickle,
never unpickled), a model truncated to its first bytes, ``--out`` the model
itself, in a missing folder, named ``.CSV.GZ`` or ``.gzip``; ``--out`` given
twice; ``--random-state`` negative or beyond 2**32, ``--beta nan``,
``--learning-rate inf`` or ``1e-400``, ``--device ''`` or ``CPU``, ``--hidden-layer-sizes
8,,8``, ``--batch-size 0``, ``--latent-dim 1e3`` (each refused by its option);
gzip data on standard input; ``+`` signs, ``inf``/``-Infinity``/``NaN``
cells, quoted numbers, CRLF and trailing blank lines.

Each family below failed once (see the commit that added its tests):

- **A --skip-rows beyond the file** (``skvae._csv._records``): the lines
  were skipped by counting to N, one empty read after the file's end each,
  so ``--skip-rows 99999999999999999999999`` (a slip) never ended. Skipping
  now stops at the file's end, and the command says the file has nothing
  after the skipped lines.
- **A number spelling Python reads and pandas does not** (``skvae._csv._is_number``):
  the reader's "is this cell a number" was ``float()``, which reads
  ``1_000``, ``NAN``, ``+nan`` and digits of other scripts, while pandas
  leaves them as text. A column of numbers holding one such cell was read
  as text, the check for a stray text cell counted the cell as a number and
  let the column through, and it was modelled as categories, one per
  distinct number, without a word (``impute`` left a ``NAN`` cell as it was,
  reporting 0 empty cells). Now a cell is a number where pandas (or the
  typeset-number reading of sweep 9) reads one, so the column is refused
  naming the file, column, line and cell, and a NaN spelling is told
  ``--missing-values``.
- **A digit of another script** (``skvae._csv``'s number patterns): ``\d``
  in the patterns that find typeset numbers, decimal commas and thousands
  separators matched any Unicode digit, so a cell ``١٢`` (Arabic-Indic) in a
  column of numbers, or ``"١,٥"`` among quoted decimal commas, was passed to
  pandas' conversion, and the command failed with "Unable to parse string
  '١٢' at position 20", naming no file, column or line. The patterns are
  ASCII now; such a cell is text, refused as a stray cell where its column
  holds numbers.
- **Refusals of sample's and score's sizes named Python parameters**
  (then ``skvae._cli._command_line_advice``, now ``_CommandLineWords``): ``sample -n 10**14`` was "Drawing
  n_samples=... rows needs ...", ``score --n-importance 10**8`` was
  "n_importance=... is more than skvae takes"; the options are named now.

Found then, fixed since (``tests/test_csv_codes.py``): a column of quoted decimal commas (``"1,5"`` in a
comma file), or of numbers with thousands separators (``"1,234.5"``), with one stray word was modelled as
categories, as the stray-text check read cells with the file's decimal point; a column of codes written
with leading zeros (zip codes ``02134``) was read as integers and fitted as numbers (``sample`` wrote
``2134``).
"""


import numpy as np
import pandas as pd
import pytest

from _cli_run import run_cli as _run
from skvae._csv import CommandError, _is_number, read_table


def _numbers_with(cell, path, n=20):
    lines = ["a,b"] + [f"{i * 1.5},{i % 3}" for i in range(n)] + [f"{cell},1"]
    path.write_text("\n".join(lines) + "\n")
    return path


# ------------------------------------------------------------ --skip-rows beyond the file


@pytest.mark.parametrize("skip", [3, 10**6 + 7, 10**23])
def test_skip_rows_beyond_the_file_ends_at_once_saying_so(tmp_path, skip):
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    with pytest.raises(CommandError, match=rf"has nothing after the {skip} skipped line"):
        read_table(str(data), skip_rows=skip)


def test_skip_rows_within_the_file_still_skips_them(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("title\nmore title\na,b\n1,2\n3,4\n")
    table = read_table(str(data), skip_rows=2)
    assert list(table.frame.columns) == ["a", "b"]
    assert table.frame["a"].tolist() == [1, 3]
    assert table.lines == [4, 5]


# ------------------------------------------------------------ number spellings pandas does not read


@pytest.mark.parametrize("cell", ["1_000", "NAN", "+nan", "Nan", "\u0661\u0662"])
def test_a_cell_python_reads_as_a_number_but_pandas_does_not_is_refused(tmp_path, cell):
    data = _numbers_with(cell, tmp_path / "data.csv")
    with pytest.raises(CommandError, match=r"column 'a', line 22: .* is not a number, in a column of 20 numbers"):
        read_table(str(data))


@pytest.mark.parametrize("command", ["fit", "impute"])
def test_the_commands_refuse_such_a_column_instead_of_modelling_categories(tmp_path, command):
    data = _numbers_with("NAN", tmp_path / "data.csv")
    out = tmp_path / ("model.skvae" if command == "fit" else "out.csv")
    out.write_text("before")
    status, _, err = _run([command, data, "--out", out, "--max-iter", 2, "-q"])
    assert status == 1
    assert "'NAN' is not a number" in err and "line 22" in err
    assert "--missing-values NAN" in err
    assert "Traceback" not in err
    assert out.read_text() == "before"


def test_a_nan_spelling_named_with_missing_values_is_a_missing_cell(tmp_path):
    data = _numbers_with("NAN", tmp_path / "data.csv")
    table = read_table(str(data), missing_values=["NAN"])
    assert pd.api.types.is_float_dtype(table.frame["a"].dtype)
    assert table.frame["a"].isna().sum() == 1


@pytest.mark.parametrize("text, expected", [
    ("1", True), ("-2.5", True), ("+3e5", True), (" 4 ", True), (".5", True), ("5.", True),
    ("inf", True), ("-Infinity", True), ("\u22123.5", True), ("\uff11\uff12", True),
    ("1_000", False), ("nan", False), ("NAN", False), ("\u0661", False), ("0x10", False), ("", False),
])
def test_is_number_agrees_with_what_the_reader_reads(text, expected):
    assert _is_number(text) is expected


def test_is_number_with_a_decimal_comma():
    assert _is_number("1,5", ",")
    assert not _is_number("1_5", ",")


def test_typeset_numbers_with_a_stray_word_are_still_refused(tmp_path):
    # Full-width digits are numbers to the reader (sweep 9), so a word among them is still a stray cell.
    lines = ["a,b"] + [f"{chr(0xFF11 + i % 9)},{i % 3}" for i in range(20)] + ["oops,1"]
    data = tmp_path / "data.csv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"'oops' is not a number, in a column of 20 numbers"):
        read_table(str(data))


def test_a_column_of_numbers_still_reads_as_numbers(tmp_path):
    data = _numbers_with("7.25", tmp_path / "data.csv")
    table = read_table(str(data))
    assert pd.api.types.is_float_dtype(table.frame["a"].dtype)
    np.testing.assert_array_equal(table.frame["a"].to_numpy()[-1], 7.25)


# ------------------------------------------------------------ refusals of sizes, in the options' terms


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    data = folder / "data.csv"
    frame = pd.DataFrame(np.random.RandomState(0).randn(20, 2).round(3), columns=["a", "b"])
    frame.to_csv(data, index=False)
    model = folder / "model.skvae"
    status, _, err = _run(["fit", data, "--out", model, "--max-iter", 2, "-q", "--device", "cpu"])
    assert status == 0, err
    return model, data


def test_sample_too_many_rows_names_the_option(model_file):
    model, _ = model_file
    status, out, err = _run(["sample", model, "-n", 10**14])
    assert status == 1
    assert "-n 100000000000000" in err
    assert "n_samples" not in err
    assert out == ""


def test_score_too_many_importance_samples_names_the_option(model_file, tmp_path):
    model, data = model_file
    scores = tmp_path / "scores.csv"
    status, _, err = _run(["score", model, data, "--n-importance", 10**8, "--out", scores])
    assert status == 1
    assert "--n-importance 100000000" in err
    assert "n_importance" not in err
    assert not scores.exists()


# ------------------------------------------------------------ digits of another script


def test_quoted_decimal_commas_with_a_digit_of_another_script_are_read_without_a_crash(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a,b\n" + "".join(f'"{i},5",{i % 3}\n' for i in range(5)) + '"\u0661,\u0665",1\n',
                    encoding="utf-8")
    table = read_table(str(data))  # was pandas' "Unable to parse string"
    assert table.frame["a"].iloc[-1] == "\u0661,\u0665"


@pytest.mark.parametrize("lines", [
    ["a,b"] + [f"{i * 1.5},{i % 3}" for i in range(20)] + ["\u0661\u0662,1"],
    ["a,b"] + [f"\u2212{i}.5,{i % 3}" for i in range(20)] + ["\u0661\u0662,1"],
    ["a;b"] + [f"{i},5;{i % 3}" for i in range(20)] + ["\u0661,\u0665;1"],
], ids=["plain", "typeset", "decimal-comma-file"])
def test_a_digit_of_another_script_is_a_stray_cell_named_by_line(tmp_path, lines):
    data = tmp_path / "data.csv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"column 'a', line 22: .* is not a number, in a column of 20 numbers"):
        read_table(str(data))
    status, _, err = _run(["fit", data, "--out", tmp_path / "m.skvae", "--max-iter", 2, "-q"])
    assert status == 1
    assert "line 22" in err and "Unable to parse" not in err
    assert not (tmp_path / "m.skvae").exists()


# ------------------------------------------------------------ seeds and float options in the option's terms


@pytest.fixture
def fitted(tmp_path):
    data = _numbers_with(1.0, tmp_path / "d.csv")
    model = tmp_path / "m.skvae"
    assert _run(["fit", data, "--out", model, "--max-iter", 1, "-q"])[0] == 0
    return data, model


@pytest.mark.parametrize("seed", ["-1", "4294967296", "1.5", "abc"])
def test_a_seed_out_of_range_is_refused_as_the_option_not_as_python(fitted, tmp_path, seed):
    data, model = fitted
    for argv in (["sample", model, "-n", 2, "--random-state", seed],
                 ["fit", data, "--out", tmp_path / "n.skvae", "--max-iter", 1, "-q", "--random-state", seed]):
        status, _, err = _run(argv)
        assert status == 2
        assert f"argument --random-state: expected a seed, an integer from 0 to 4294967295, got {seed!r}" in err
        assert "RandomState" not in err
    assert not (tmp_path / "n.skvae").exists()


def test_the_largest_seed_is_taken(fitted):
    _, model = fitted
    status, out, _ = _run(["sample", model, "-n", 2, "--random-state", 2**32 - 1])
    assert status == 0 and len(out.splitlines()) == 3


@pytest.mark.parametrize("option", ["--learning-rate", "--beta"])
@pytest.mark.parametrize("text, says", [("1e-400", "is too small for a float64: it reads as 0.0"),
                                        ("1e400", "is too large for a float64: it reads as infinity")])
def test_a_number_float64_cannot_hold_is_refused_quoting_its_text(fitted, tmp_path, option, text, says):
    data, _ = fitted
    status, _, err = _run(["fit", data, "--out", tmp_path / "n.skvae", "--max-iter", 1, "-q", option, text])
    assert status == 2
    assert f"argument {option}: {text!r} {says}" in err
    assert "Got 0.0" not in err and "Got inf" not in err
