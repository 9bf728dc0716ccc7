r"""Hostile use, twenty-fifth sweep: the command line under hostile files and options.

Swept and found sound: files in UTF-8 with a byte-order mark, UTF-16 and
Latin-1 (the latter two refused naming the encoding or the byte), separated
by ``;``, tabs and ``|``, quoted cells holding line ends and separators,
CRLF line ends and trailing blank lines, a header only, ragged rows,
duplicate and empty header names, a header of numbers, a 100,000-character
cell, NUL bytes, an empty file or one of blank lines, ``NA``/``n/a``/``?``
and empty cells (a word kept as text is named in a note, with
``--missing-values``); every command with ``--out`` an existing file
while the input is refused (the file untouched, no temporary left), a
folder, a missing folder, the input or the model file, ``/dev/null`` and
``-``; standard input ``-`` for the data of each command (empty too) and
refused for the model; ``--draws``, ``-n`` and ``--n-importance`` of 0,
-1 and 1.5 (refused by the option), ``--random-state`` ``1e3`` or beyond
2**32; ``--likelihood`` naming a missing column, a column left out by
``--drop``, a kind unknown or capitalised, ``a=`` or ``=gaussian``, a
column twice, a kind for every column beside a column's kind or twice, a
kind the column's values cannot have; ``--columns`` empty, ``,`` or
``a,``, a name twice, beside ``--drop``; ``--drop`` of every column;
``--skip-rows`` -1 or past the file; ``--max-iter 0``, ``--latent-dim 0``,
``--beta -1`` and networks or latent spaces beyond memory; ``--header``
with ``--no-header``; ``--out`` twice; ``--columns``, ``--drop`` and
``--missing-values`` given twice (they add up, by design); model files of
another estimator (VAEImputer, VAEOutlierDetector), of a model fitted
without column names, truncated by one byte or by half, with bits flipped
in the header or the tensors (refused by the recorded SHA-256), with bytes
appended, empty (``/dev/null``), a folder, a CSV file, missing; a model
given a file whose columns are renamed, reordered, extra, or hold an unseen
category; one table written in eleven dialects (``;`` with decimal commas,
tabs, ``|`` with CRLF, a BOM and a ``sep=;`` line, every field quoted,
columns reordered, trailing blank lines, CR line ends, a title line with
``--skip-rows 1``) transformed to the same bytes; column names with a
comma, quotes, a line break, spaces around, a leading ``=`` and non-ASCII
letters through ``fit``, ``sample``, ``transform``, ``inverse`` and
``score``; ``impute`` keeping scientific notation, 12-digit integers,
mixed decimals and the file's column order (``--columns d,a`` too); data
from a pipe (``<(cat data.csv)``) and ``--out`` a FIFO; 28 random CSV
files (separators, line ends, encodings, NA spellings, ragged rows, odd
headers) through ``fit`` and ``impute`` and 40 random command lines of
every command: no traceback, no hang, each refusal naming its file,
column, line or option.

Each family below failed once (see the commit that added its tests):

- **A refusal of impute --draws by its memory named Python's words**
  (``skvae._imputer.VAEImputer.multiple_imputations``, ``skvae._memory.check_host_allocation``):
  ``skvae impute data.csv --draws 10**20`` was refused as "Returning
  n_imputations=... copies of X needs about ... Ask for fewer imputations,
  or impute X in parts.", naming a parameter and an argument the command
  line has not. The count, the table and the advice are refusal terms now
  (``--draws``'s dest is the parameter it sets, as ``sample -n``'s), which
  the command says as "Returning N copies (--draws N) of data.csv ... Ask
  for fewer --draws"; the Python message is unchanged.
- **Advice naming an option whose value the shell or argparse splits**
  (``skvae._csv.option_words``, ``skvae._cli._drop_option``,
  ``_likelihood_option``): the advice to leave out a column empty in every
  row (``fit``), an identifier or a column of integers beyond 2**53
  (``impute``) wrote ``--drop my col`` (the shell gives --drop ``my``;
  ``Unnamed: 3``, the name of an empty header field, the same), and every
  piece of advice wrote a value starting with ``-`` as a word of its own
  (``--drop -x``, ``--likelihood -x=categorical``, ``--missing-values
  -NAN`` for a stray NaN spelling, ``--missing-values -1.5e3`` for the odd
  cell among padded codes), which argparse takes for an option and refuses
  ("expected one argument"). Each piece of advice is now shell words that,
  pasted, do what it says: quoted, and joined with ``=`` where the value
  starts with ``-``. The tests follow each piece of advice and check it
  works.
- **Several columns' kinds in one --likelihood** (``skvae._cli._one_spec_per_option_hint``):
  ``--columns`` and ``--drop`` take lists, so ``--likelihood
  a=gaussian,b=poisson`` is a natural slip; it was refused as a column
  ``'a=gaussian,b'`` the file has not, without a word of the option's
  form. Where each piece names a column of the file and a kind, the
  refusal now gives the options meant, one per column (a name holding
  ``=`` is still read as written).

Found, not changed:

- Ctrl-C while ``python -m skvae`` (or the ``skvae`` script) is still
  importing torch, the first seconds of every command, prints torch's
  import traceback: the package's ``__init__`` imports the estimators
  (torch) before ``__main__`` or ``main`` runs, so no handler of skvae's
  is installed yet. Once a command runs, an interrupt is one line and
  status 130 (pinned earlier). Catching it would need the package's imports
  made lazy, a change to ``import skvae`` itself, beyond this sweep.
- ``skvae impute --draws M`` fits the imputer before the copies' memory
  is checked, so a refused ``M`` costs one fit: the size of a copy is known
  only from the fitted columns (the Python API's ``multiple_imputations``
  is called after ``fit`` too).
- A refusal of a category unseen in a column of few numbers says
  "which likelihood='auto' models as categories" in ``transform`` and
  ``score``: those commands have no ``--likelihood`` (the words are the
  schema's, the advice after them is fit's option).
- A header with an empty field before one named ``Unnamed: 1`` gets
  pandas' ``Unnamed: 1.1`` for the empty one: the same names in every
  command reading that file; a rare collision with pandas' own naming.
"""

import io
import re
import shlex

import numpy as np
import pytest

from _cli_run import run_cli as _run

FAST = ["--max-iter", "1", "--latent-dim", "2", "-q"]
FIT_FAST = [*FAST, "--hidden-layer-sizes", "8"]


def _write(path, header, rows):
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _advised(message, pattern):
    """The shell words of the advice `pattern` captures in `message`, as the shell splits them."""
    found = re.search(pattern, message)
    assert found, message
    return shlex.split(found.group(1))


# Names a shell splits, a CSV list splits, or argparse takes for an option.
HOSTILE_NAMES = ["my col", "Unnamed: 3", "-x", "- total", "a,b", 'say "hi"']


def _csv_field(name):
    return f'"{name.replace(chr(34), chr(34) * 2)}"' if ("," in name or '"' in name) else name


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_fit_advice_to_drop_an_empty_column_can_be_pasted(tmp_path, name):
    rng = np.random.default_rng(0)
    data = _write(tmp_path / "data.csv", f"a,{_csv_field(name)},c",
                  [f"{rng.normal():.3f},,{'xy'[i % 2]}" for i in range(12)])
    status, _, err = _run(["fit", data, "--out", tmp_path / "m.skvae", *FIT_FAST])
    assert status == 1 and not (tmp_path / "m.skvae").exists()
    words = _advised(err, r"Leave it out with (.*), or choose the columns")
    status, _, err = _run(["fit", data, "--out", tmp_path / "m.skvae", *FIT_FAST, *words])
    assert status == 0, err


@pytest.mark.parametrize("name", ["my id", "-id"])
def test_identifier_advice_can_be_pasted_in_fit_and_impute(tmp_path, name):
    rng = np.random.default_rng(1)
    data = _write(tmp_path / "data.csv", f"a,{name},c",
                  [f"{rng.normal():.3f},{'' if i == 3 else f'ID-{i:04d}'},{'' if i == 5 else 'xy'[i % 2]}"
                   for i in range(60)])
    # fit: keep it as categories, and the warning away.
    status, _, err = _run(["fit", data, "--out", tmp_path / "m.skvae", *FIT_FAST])
    assert status == 0 and "looks like an identifier" in err, err
    words = _advised(err, r"this warning away, give (.*)\.$")
    status, _, err = _run(["fit", data, "--out", tmp_path / "m.skvae", *FIT_FAST, *words])
    assert status == 0 and "looks like an identifier" not in err, err
    # impute: leave it out, written back as it is.
    status, _, err = _run(["impute", data, *FAST])
    assert status == 0 and "looks like an identifier" in err, err
    words = _advised(err, r"as it is in the file written, give (.*)\.$")
    status, out, err = _run(["impute", data, *FAST, *words])
    assert status == 0 and "looks like an identifier" not in err, err
    assert out.splitlines()[4].split(",")[1] == ""  # the left-out column's hole stays a hole


def test_impute_advice_to_drop_a_column_of_huge_integers_can_be_pasted(tmp_path):
    rng = np.random.default_rng(2)
    data = _write(tmp_path / "data.csv", "a,big num",
                  [f"{'' if i == 2 else round(rng.normal(), 3)},{2**60 + int(rng.integers(0, 1000))}"
                   for i in range(30)])
    status, _, err = _run(["impute", data, *FAST])
    assert status == 0 and "beyond 2**53" in err, err
    words = _advised(err, r"or leave it out with (.*), to keep every digit")
    status, out, err = _run(["impute", data, *FAST, *words])
    assert status == 0 and "beyond 2**53" not in err, err
    assert [line.split(",")[1] for line in out.splitlines()[1:]] == \
        [line.split(",")[1] for line in data.read_text().splitlines()[1:]]


def test_missing_values_advice_for_a_nan_spelling_starting_with_a_minus_can_be_pasted(tmp_path):
    rng = np.random.default_rng(3)
    data = _write(tmp_path / "data.csv", "a,b", [*(f"{rng.normal():.2f},{i % 3}" for i in range(14)), "-NAN,1"])
    status, _, err = _run(["fit", data, "--out", tmp_path / "m.skvae", *FIT_FAST])
    assert status == 1 and "'-NAN' is not a number" in err, err
    words = _advised(err, r"\(or give (.*) to read such cells as missing\)")
    status, _, err = _run(["fit", data, "--out", tmp_path / "m.skvae", *FIT_FAST, *words])
    assert status == 0, err


def test_missing_values_advice_for_the_odd_cell_among_padded_codes_can_be_pasted(tmp_path):
    data = _write(tmp_path / "data.csv", "zip,b", [*(f"0{2134 + i},{i % 3}" for i in range(14)), "-1.5e3,1"])
    status, _, err = _run(["impute", data, *FAST])
    assert status == 0 and "losing the leading zeros" in err, err
    words = _advised(err, r"give (.*) to read the column as text codes")
    status, out, err = _run(["impute", data, *FAST, *words])
    assert status == 0 and "losing the leading zeros" not in err, err
    assert out.splitlines()[1].split(",")[0] == "02134"


def test_likelihood_advice_for_a_column_named_with_a_minus_can_be_pasted(tmp_path):
    """A refusal's alternative kinds are each said as words that work alone, too."""
    rng = np.random.default_rng(4)
    data = _write(tmp_path / "data.csv", "-x,b", [f"{rng.normal():.3f},{i % 3}" for i in range(20)])
    status, _, err = _run(["fit", data, "--out", tmp_path / "m.skvae", *FIT_FAST, "--likelihood=-x=poisson"])
    assert status == 1, err
    first = _advised(err, r"fit with (--likelihood\S*) \(or")
    alternative = _advised(err, r"\(or (--likelihood\S*)\)")
    for words in (first, alternative):
        status, _, err = _run(["fit", data, "--out", tmp_path / "m.skvae", *FIT_FAST, *words])
        assert status == 0, err


@pytest.mark.parametrize("data_name", ["data.csv", "-"])
def test_impute_draws_beyond_memory_are_refused_in_the_commands_words(tmp_path, monkeypatch, data_name):
    text = "a,b\n1,\n,2\n3,4\n5,6\n"
    data = _write(tmp_path / "data.csv", "a,b", ["1,", ",2", "3,4", "5,6"])
    if data_name == "-":
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    out_file = tmp_path / "out.csv"
    out_file.write_text("precious\n")
    m = 10**20
    status, _, err = _run(["impute", data if data_name != "-" else "-", "--draws", m, "--out", out_file, *FAST])
    assert status == 1
    assert f"--draws {m}" in err and "Ask for fewer --draws" in err, err
    named = str(data) if data_name != "-" else "standard input"
    assert f"copies (--draws {m}) of {named} needs about" in err, err
    assert "n_imputations" not in err and " X " not in err and " X." not in err, err
    assert out_file.read_text() == "precious\n"
    # A count that fits is written, one copy after the other.
    status, out, err = _run(["impute", data, "--draws", 2, *FAST])
    assert status == 0, err
    assert [line.split(",")[0] for line in out.splitlines()[1:]] == ["1"] * 4 + ["2"] * 4


def test_several_kinds_in_one_likelihood_are_told_as_one_option_per_column(tmp_path):
    rng = np.random.default_rng(5)
    data = _write(tmp_path / "data.csv", "a,my b,c", [f"{rng.normal():.3f},{i % 4},{'xy'[i % 2]}" for i in range(20)])
    model = tmp_path / "m.skvae"
    status, _, err = _run(["fit", data, "--out", model, *FIT_FAST, "--likelihood", "a=gaussian,my b=poisson"])
    assert status == 1 and not model.exists()
    words = _advised(err, r"Give --likelihood once per column: (.*)\.$")
    assert words == ["--likelihood", "a=gaussian", "--likelihood", "my b=poisson"]
    status, out, err = _run(["fit", data, "--out", model, *FIT_FAST, *words])
    assert status == 0, err
    assert "a: gaussian, my b: poisson" in out
    # A piece that names no column of the file: no options are made up.
    status, _, err = _run(["fit", data, "--out", model, *FIT_FAST, "--likelihood", "a=gaussian,zz=poisson"])
    assert status == 1 and "no column 'a=gaussian,zz'" in err and "once per column" not in err, err
