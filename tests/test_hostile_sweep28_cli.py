r"""Hostile use, twenty-eighth sweep: the command line end to end.

Swept and found sound: ``fit`` with ``--learning-rate 0``,
``--hidden-layer-sizes ''`` or ``0``, ``--batch-size 1e3``, ``--max-iter
1e9``, ``--device mps`` (each refused by its option), the data a folder or
``''``, ``--out`` a folder or ``''``; ``demo --out`` a file, ``''``,
``--max-iter 0``, ``--generator-latent-dim 0``; cells of ``1e308`` and
``-1e308`` (fitted, sampled, copied by ``impute``), ``1e400`` (refused
naming the cell), integers beyond 2**53 (warned, with each command's
advice), one row, a column empty in every row (``fit`` refused with
``--drop``; ``impute`` leaves it empty with a note), an unclosed quote
(refused naming the line it opened on); ``inverse`` given codes with NaN,
an empty cell, ``inf``, text, too many or too few columns, ``1e300`` or a
header only (each refused naming the file, column and line, or decoded);
``transform`` and ``score`` given ``inf``, an unseen category, a missing
column or the columns reordered; ``score --out -`` with
``--n-importance``; ``sample --mean``.

Each family below failed once (see the commit that added its tests):

- **The device and the demo's sizes refused in Python's words**
  (``skvae._device.resolve_device``, ``skvae._demo.run_demo``,
  ``skvae._refusals.ParameterRefusal``): ``skvae demo --device cuda`` on a
  machine without CUDA printed the demo's introduction, made the
  ``--out`` folder, loaded the digits and then said "device='cuda' was
  requested ... use device='auto' or device='cpu'" (``--device bogus``:
  "The 'device' parameter must be ..."), and ``demo --latent-dim 65``
  "latent_dim must be between 1 and 64": Python parameters the command has
  as options. ``fit`` and ``impute`` said the device's options only by
  rewriting the message's text with a pattern (``_cli._as_options``). The
  device refusals are now :class:`~skvae._refusals.ParameterRefusal` s
  (scikit-learn's InvalidParameterError too, their Python text unchanged)
  with the parameter and its values as terms, the demo's sizes refusals
  with the parameter as a term, and the demo checks both before it prints
  or makes its folder; every command says them with its options.
- **A line ``""`` taken for a blank line** (``skvae._csv._records``): the
  reader's record pass, which numbers the rows by their lines, skipped a
  record of one empty field as blank, while pandas reads the line ``""``
  (how pandas and the csv module write a one-column row whose cell is
  empty) as a row. Lines and rows no longer matched, so the checks that
  need a cell's line were skipped or vaguer: ``1e400`` after such a line
  was "holds an infinite value (... data row 3)" instead of the overflow
  refusal naming line 4, and an unseen category was named by its "data
  row", not its line. A record is blank now where its line is (spaces
  only), as pandas decides; ``""`` in a file of two columns is refused as a
  short row, as any other line of one field there.
- **Warnings of transform, inverse, sample and score in Python's format**
  (``skvae._cli``, ``skvae._face_hooks._warn_of_scores_past_float64``,
  ``skvae._refusals.rows``, ``method``): only ``fit`` and ``impute`` showed
  the library's warnings as one line in their words; ``skvae score`` of a
  row far outside the fitted data printed "<frozen runpy>:88: UserWarning:
  score_samples: the bound of 1 row of X (row 0) lies below float64's
  range", naming a Python method, ``X`` and a 0-based row for the file's
  line 2. Each command that reads a model now shows the warnings raised
  there as "skvae COMMAND: warning: ..." in its words, and the warning of
  scores past float64 is a :class:`~skvae._refusals.TermWarning` whose
  method, table and rows are terms: "the bound of 1 row of far.csv (line
  2) lies below ...", the Python text unchanged.
- **A standard output whose encoding lacks a character**
  (``skvae._csv._refuse_unwritable_characters``, ``skvae._cli._StandardOutput``):
  with ``PYTHONIOENCODING=ascii`` (or a Windows console's code page),
  ``sample`` and ``impute`` of a table with a column
  ``été`` failed with Python's "'ascii' codec can't encode character
  '\xe9' in position 4: ordinal not in range(128)", and ``fit`` failed on
  its own report line ("Fitting ... columns: nom, été") without fitting.
  Rows for standard output are checked first and refused, nothing written,
  naming the encoding, the character and its line, with ``--out`` (UTF-8)
  or ``PYTHONIOENCODING=utf-8`` as the way out; a report line is written
  with the character escaped (``\xe9``, as standard error shows it).
- **A word that starts with '-' read as an option** (``skvae._cli._Parser.error``):
  ``fit -data.csv --out m.skvae`` (a file whose name starts with a dash)
  was refused as "the following arguments are required: DATA.csv", naming
  neither the word nor why, and ``--out -m.skvae``, ``--missing-values
  -NAN`` or ``--columns -a`` as "expected one argument". Each command's
  parser now adds how to give such a word: the file as ``./-data.csv`` (or
  after ``--``), the value as ``--out=-m.skvae``, as the library's advice
  writes such values (hostile sweep 25). A negative number stays a value.
- **The score's summary line** (``skvae._cli._score_phrase``): a row far
  outside the fitted data but finite (``1e38`` in a column of units) made
  ``score``'s mean about -3.5e72, written with 4 decimals as a number of 73
  digits; and under a self-masking model the line named the Python
  parameter (``missing_mechanism='self_masking'``) in ``fit`` and
  ``score``. Beyond a billion nats per row the mean is written in 5
  significant digits (``-3.5397e+72``); the mechanism is named by the
  option that fitted it.
- **Training's advice in Python's words** (``skvae._training``): ``fit
  --learning-rate 1e30`` was refused with "This usually means
  learning_rate is too large", and a fit with the default ``--max-iter
  auto`` that ran out of epochs warned "the budget max_iter='auto' gives
  ...; an int max_iter above N trains longer". The divergence refusal is a
  :class:`~skvae._refusals.Refusal` and both warnings a
  ``TermConvergenceWarning`` (scikit-learn's ConvergenceWarning too), with
  the parameters as terms: ``fit`` says ``--learning-rate`` and
  ``--max-iter``, as it now says ``--early-stopping`` of one row
  (``skvae._model``), which named ``early_stopping=True``; the Python text
  is unchanged. (``impute`` has no such options: there the parameters keep
  their Python names.) ``demo`` says the warnings raised in it in its
  words too (its ``--max-iter``, ``--device``).

Found, not changed:

- A column of whole numbers beyond 1e15 (``1.989e30``, ``1e308``) is
  written by ``sample`` and ``inverse`` with up to 17 significant digits
  (``-2.887357799721777e+307``) where the file wrote two: significant
  digits are recorded only within 1e-15 to 1e15, where every rounding uses
  an exact power of ten (``skvae._moments._DIGITS_RANGE``), and whole
  numbers keep 0 decimals, which beyond 2**53 round nothing: the decoding
  rule's owner's decision.
- A path whose bytes are not UTF-8 is named as Python holds it,
  ``\udcff.csv``, not as the shell shows it: every message says paths with
  ``str()``; another spelling is a change to every message.
- A truly blank line in a one-column file stays no row (as pandas, R and
  earlier sweeps read blank lines); pandas and the csv module write such a
  row's empty cell as ``""``, which is a row now (above).
- scikit-learn's own InvalidParameterError ("The 'beta' parameter of
  VAETransformer must be ...") is still said with options by a pattern
  over its text (``skvae._cli._as_options``): scikit-learn's message has
  no parts; skvae's own parameter refusals (the device's) are terms now.
- The early-stopping refusal of one row keeps "got n_samples=1" on the
  command line: scikit-learn's estimator checks look for those words.
"""

import inspect
import io

import numpy as np
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError

from skvae import VAETransformer
from skvae._cli import main
from _cli_run import run_cli as _run


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b,c\n1,2.5,x\n2,3.5,y\n3,,x\n4,5.25,y\n5,6.5,x\n6,7.5,y\n")
    return path


FAST = ["--max-iter", 2, "--latent-dim", 2, "-q"]

def _device_command(command, table, tmp_path):
    """The argv of `command` (fit, impute or demo) on `table`, and the output it would make."""
    out = tmp_path / ("pictures" if command == "demo" else "result")
    argv = {"fit": ["fit", table, "--out", out, *FAST], "impute": ["impute", table, "--out", out, *FAST],
            "demo": ["demo", "--out", out, "--max-iter", 1, "-q"]}[command]
    return argv, out


needs_no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="the refusal of a device this machine lacks")


@needs_no_cuda
@pytest.mark.parametrize("command", ["fit", "impute", "demo"])
def test_a_missing_cuda_device_is_refused_by_option_in_every_command(command, table, tmp_path):
    argv, out = _device_command(command, table, tmp_path)
    status, printed, err = _run([*argv, "--device", "cuda"])
    assert status == 1
    assert err == (f"skvae {command}: error: --device cuda was requested but CUDA is not available on this machine; "
                   "use --device auto or --device cpu.\n")
    # Refused before any work: nothing printed, no folder or file made.
    assert printed == "" and not out.exists()


@pytest.mark.parametrize("command", ["fit", "impute", "demo"])
def test_an_unknown_device_is_refused_by_option_in_every_command(command, table, tmp_path):
    argv, out = _device_command(command, table, tmp_path)
    status, printed, err = _run([*argv, "--device", "bogus"])
    assert status == 1
    assert err == (f"skvae {command}: error: --device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got 'bogus'.\n")
    assert printed == "" and not out.exists()


@pytest.mark.parametrize(("option", "value"), [("--latent-dim", 65), ("--generator-latent-dim", 100000)])
def test_the_demo_refuses_its_sizes_by_option_before_any_work(option, value, tmp_path):
    out = tmp_path / "pictures"
    status, printed, err = _run(["demo", "--out", out, option, value, "--max-iter", 1, "-q"])
    assert status == 1
    assert err == f"skvae demo: error: {option} must be between 1 and 64 (the number of pixels); got {value}.\n"
    assert printed == "" and not out.exists()


def test_the_python_api_keeps_its_device_words_and_error_class():
    """The Python API's message and scikit-learn's error class are unchanged by the terms."""
    X = np.zeros((6, 2))
    with pytest.raises(InvalidParameterError, match=r"^The 'device' parameter must be 'auto', 'cpu', 'cuda' or "
                                                    r"'cuda:N'; got 'bogus'\.$"):
        VAETransformer(device="bogus", max_iter=1).fit(X)
    if not torch.cuda.is_available():
        with pytest.raises(InvalidParameterError, match=r"^device='cuda:1' was requested but CUDA is not available "
                                                        r"on this machine; use device='auto' or device='cpu'\.$"):
            VAETransformer(device="cuda:1", max_iter=1).fit(X)


def test_the_python_demo_keeps_its_parameter_words(tmp_path):
    from skvae._demo import run_demo

    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match=r"^latent_dim must be between 1 and 64 \(the number of pixels\); got 0\.$"):
        run_demo(tmp_path / "pictures", latent_dim=0, stream=io.StringIO())
    assert not (tmp_path / "pictures").exists()


# ------------------------------------------------- a line holding one quoted empty field


def test_a_one_column_file_written_by_pandas_keeps_its_rows_and_lines(tmp_path):
    """pandas (and the csv module) write a one-column row whose cell is empty as ``""``: a row, not a blank line.

    Decided: a record is a blank line (skipped, as pandas skips it) only when
    its line holds nothing but spaces; a truly blank line in a one-column
    file stays no row, as pandas, R and earlier sweeps read it (the writers
    above never write one).
    """
    pd = pytest.importorskip("pandas")
    data = tmp_path / "one.csv"
    pd.DataFrame({"a": [1.5, None, 2.5, 3.5]}).to_csv(data, index=False)
    assert data.read_text().splitlines()[2] == '""'
    out = tmp_path / "filled.csv"
    status, _, err = _run(["impute", data, "--out", out, *FAST])
    assert status == 0, err
    filled = pd.read_csv(out)
    assert len(filled) == 4 and filled["a"].notna().all()
    assert filled["a"].iloc[[0, 2, 3]].tolist() == [1.5, 2.5, 3.5]


@pytest.mark.parametrize("empty", ['""', ' ""'])
def test_a_refused_cell_after_a_quoted_empty_line_is_named_by_its_line(empty, tmp_path):
    data = tmp_path / "data.csv"
    data.write_text(f"a\n1.5\n{empty}\n2.5\n1e400\n")
    status, _, err = _run(["impute", data, "--out", tmp_path / "filled.csv", *FAST])
    assert status == 1
    assert err.startswith(f"skvae impute: error: {data}: column 'a', line 5: '1e400' overflows float64")


def test_an_unseen_category_after_a_quoted_empty_line_is_named_by_its_line(tmp_path):
    data, model = tmp_path / "data.csv", tmp_path / "m.skvae"
    data.write_text("c\nx\ny\nx\ny\n")
    assert _run(["fit", data, "--out", model, *FAST, "--hidden-layer-sizes", 8])[0] == 0
    new = tmp_path / "new.csv"
    new.write_text('c\nx\n""\ny\nzz\n')
    status, _, err = _run(["transform", model, new])
    assert status == 1
    assert err.startswith(f"skvae transform: error: {new}, line 5: Column 'c' holds categories not seen during fit")


def test_a_line_of_spaces_is_still_a_blank_line(tmp_path):
    """pandas skips it; so does the reader's record pass, so that lines and rows still match."""
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n   \n3,\n5,6\n")
    status, printed, err = _run(["impute", data, *FAST])
    assert status == 0, err
    assert printed.splitlines()[:2] == ["a,b", "1,2"] and len(printed.splitlines()) == 4


# ------------------------------------------------- warnings of the commands that read a model


@pytest.fixture
def model(tmp_path, table):
    path = tmp_path / "m.skvae"
    status, _, err = _run(["fit", table, "--out", path, *FAST, "--hidden-layer-sizes", 8])
    assert status == 0, err
    return path


@pytest.mark.parametrize(("lines", "named"), [
    (["1,1e155,x", "2,3,y"], "1 row of {data} (line 2) lies below float64's range (-1.8e308), so it scores -inf"),
    (["1,1e155,x", "2,3,y", "3,-1e155,x"], "2 rows of {data} (lines 2, 4) lies below"),
])
def test_score_warns_of_rows_past_float64_in_one_line_naming_the_file_and_lines(lines, named, model, tmp_path):
    """Python's warning format was "<frozen runpy>:88: UserWarning: score_samples: ... of X (row 0)"."""
    data = tmp_path / "far.csv"
    data.write_text("a,b,c\n" + "\n".join(lines) + "\n")
    status, printed, err = _run(["score", model, data, "--out", "-"])
    assert status == 0
    assert err.splitlines()[0].startswith("skvae score: warning: the bound of " + named.format(data=data))
    assert "score_samples" not in err and " of X " not in err and "runpy" not in err
    assert printed.splitlines()[1] == "-inf"


def test_the_python_warning_keeps_its_words(model):
    import skvae

    vae = skvae.load(model)
    pd = pytest.importorskip("pandas")
    with pytest.warns(UserWarning, match=r"^score_samples: the bound of 1 row of X \(row 1\) lies below float64's "
                                         r"range \(-1\.8e308\), so it scores -inf"):
        vae.score_samples(pd.DataFrame({"a": [1, 2], "b": [3.0, 1e155], "c": ["x", "y"]}))


@pytest.mark.parametrize("command", ["transform", "inverse", "sample", "score"])
def test_every_command_that_reads_a_model_says_a_warning_in_one_line(command, model, tmp_path, monkeypatch):
    """The mechanism, not the one warning: any warning the library raises there is one line in the command's words."""
    import warnings

    from skvae import VAETransformer
    from skvae._refusals import TermWarning, parameter

    method = {"transform": "transform", "inverse": "inverse_transform", "sample": "sample",
              "score": "score_samples"}[command]
    original = getattr(VAETransformer, method)

    def warning_then_original(self, *args, **kwargs):
        warnings.warn(TermWarning("a warning about ", parameter("random_state", 3), "."), stacklevel=2)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(VAETransformer, method, warning_then_original)
    codes = tmp_path / "codes.csv"
    codes.write_text("vaetransformer0,vaetransformer1\n0.1,0.2\n")
    data = tmp_path / "data.csv"
    data.write_text("a,b,c\n1,2.5,x\n")
    argv = {"transform": ["transform", model, data], "inverse": ["inverse", model, codes],
            "sample": ["sample", model, "-n", 2, "--random-state", 3], "score": ["score", model, data]}[command]
    status, _, err = _run(argv)
    assert status == 0
    said = "--random-state 3" if command == "sample" else "random_state=3"  # only sample has the option
    assert err.splitlines()[0] == f"skvae {command}: warning: a warning about {said}."


# ------------------------------------------------- a standard output whose encoding lacks a character


def _run_on_ascii_output(argv):
    raw = io.BytesIO()
    out, err = io.TextIOWrapper(raw, encoding="ascii", newline=""), io.StringIO()
    status = main([str(arg) for arg in argv], out, err)
    out.flush()
    return status, raw.getvalue(), err.getvalue()


@pytest.fixture
def accented(tmp_path):
    data = tmp_path / "accents.csv"
    data.write_text("nom,été\nà,1\nb,2\nà,3\nb,\n", encoding="utf-8")
    return data


def test_rows_are_refused_by_an_output_that_cannot_write_them_and_nothing_is_written(accented, tmp_path):
    """Decided: rows are data, so none is written with a character escaped; a file (UTF-8) writes them."""
    model = tmp_path / "m.skvae"
    status, report, err = _run_on_ascii_output(["fit", accented, "--out", model, *FAST, "--hidden-layer-sizes", 8])
    assert status == 0, err
    for argv in (["sample", model, "-n", 2], ["transform", model, accented], ["impute", accented, *FAST]):
        status, written, err = _run_on_ascii_output(argv)
        if argv[0] == "transform":  # latent codes are ASCII: written
            assert status == 0 and written.startswith(b"vaetransformer0,")
            continue
        assert status == 1
        assert err.splitlines()[-1] == (
            f"skvae {argv[0]}: error: cannot write the rows to standard output: its encoding (ascii) has no "
            "character 'é' (U+00E9, line 1 of the rows). Write them to a file with --out (files are written in "
            "UTF-8), or set the environment variable PYTHONIOENCODING=utf-8.")
        assert written == b""
    out = tmp_path / "rows.csv"
    assert _run_on_ascii_output(["sample", model, "-n", 2, "--out", out])[0] == 0
    assert out.read_text(encoding="utf-8").startswith("nom,été\n")


def test_a_report_line_is_written_escaped_not_failed(accented, tmp_path):
    """Decided: a report is for reading; its character escaped (as standard error shows it) fails no fit."""
    model = tmp_path / "m.skvae"
    status, report, err = _run_on_ascii_output(["fit", accented, "--out", model, *FAST, "--hidden-layer-sizes", 8])
    assert status == 0, err
    assert b"columns of " in report and b"nom, \\xe9t\\xe9" in report
    assert model.exists()


# ------------------------------------------------- a word that starts with '-'


@pytest.mark.parametrize("command", ["fit", "transform", "score", "impute"])
def test_a_data_file_named_with_a_leading_dash_is_told_how_to_give_it(command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = {"fit": ["fit", "-data.csv", "--out", "m.skvae"], "transform": ["transform", "m.skvae", "-data.csv"],
            "score": ["score", "m.skvae", "-data.csv"], "impute": ["impute", "-data.csv"]}[command]
    status, _, err = _run(argv)
    assert status == 2
    assert err.splitlines()[-1] == (
        f"python -m skvae {command}: error: the following arguments are required: DATA.csv; '-data.csv' was read as "
        "an option, as it starts with '-': give a file of that name as ./-data.csv (or after --)")


def test_the_advice_for_a_leading_dash_file_works(table, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-data.csv").write_text(table.read_text())
    assert _run(["fit", "./-data.csv", "--out", "a.skvae", *FAST])[0] == 0
    assert _run(["fit", "--out", "b.skvae", *FAST, "--", "-data.csv"])[0] == 0


@pytest.mark.parametrize(("option", "value"), [("--out", "-m.skvae"), ("--missing-values", "-NAN"),
                                               ("--columns", "-a"), ("--drop", "-b")])
def test_an_option_value_with_a_leading_dash_is_told_the_equals_form(option, value, table, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["fit", table, "--out", "m.skvae", *FAST]
    argv = [*argv[:2], *argv[4:], option, value] if option == "--out" else [*argv, option, value]
    status, _, err = _run(argv)
    assert status == 2
    assert err.splitlines()[-1] == (
        f"python -m skvae fit: error: argument {option}: expected one argument; argparse reads {value!r} as an "
        f"option, as it starts with '-': give the value as {option}={value}")


def test_the_equals_form_of_a_leading_dash_value_works(table, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, _, err = _run(["fit", table, "--out=-m.skvae", *FAST])
    assert status == 0, err
    assert (tmp_path / "-m.skvae").exists()


def test_a_negative_number_and_a_plain_missing_argument_get_no_dash_hint(model):
    status, _, err = _run(["sample", model, "-n", "-3"])
    assert status == 2 and "expected a positive integer, got '-3'" in err and "starts with '-'" not in err
    status, _, err = _run(["fit", "--out", "m.skvae", "-q"])
    assert status == 2 and err.splitlines()[-1].endswith("the following arguments are required: DATA.csv")


# ------------------------------------------------- the score's summary line


def test_a_huge_mean_score_is_written_in_significant_digits_not_seventy(model, tmp_path):
    """Decided: 4 decimals below a billion nats per row (as before), 5 significant digits beyond."""
    pd = pytest.importorskip("pandas")
    data = tmp_path / "far.csv"
    data.write_text("a,b,c\n1,2,x\n1,1e38,y\n")
    scores = tmp_path / "scores.csv"
    status, printed, err = _run(["score", model, data, "--out", scores])
    assert status == 0, err
    mean = float(np.mean(pd.read_csv(scores)["score"]))
    assert np.isfinite(mean) and abs(mean) >= 1e9  # the far row is finite, and huge
    number = printed.split("Mean score of 2 rows: ", 1)[1].split(" nats", 1)[0]
    assert number == f"{mean:.5g}" and "e+" in number


def test_an_ordinary_mean_score_keeps_four_decimals(model, table):
    status, printed, _ = _run(["score", model, table])
    assert status == 0
    number = printed.split("rows: ", 1)[1].split(" nats", 1)[0]
    assert len(number.split(".")[1]) == 4 and "e" not in number


def test_the_score_of_a_self_masking_model_names_the_option_not_the_parameter(tmp_path):
    data, model = tmp_path / "holes.csv", tmp_path / "m.skvae"
    data.write_text("a,b\n1,2\n2,\n3,4\n4,5\n5,\n6,7\n")
    status, printed, err = _run(["fit", data, "--out", model, *FAST, "--missing-mechanism", "self_masking"])
    assert status == 0, err
    assert "(a model fitted with --missing-mechanism self_masking; compare it only with scores of that mechanism)" \
        in printed
    status, printed, err = _run(["score", model, data])
    assert status == 0, err
    assert "--missing-mechanism self_masking" in printed and "missing_mechanism=" not in printed + err


# ------------------------------------------------- training's warnings and refusals


def test_a_diverged_fit_names_the_learning_rate_option(table, tmp_path):
    status, _, err = _run(["fit", table, "--out", tmp_path / "m.skvae", *FAST, "--learning-rate", "1e30"])
    assert status == 1
    assert "This usually means --learning-rate is too large for this data" in err
    assert "learning_rate" not in err


def test_the_python_api_keeps_learning_rate_in_its_words():
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match=r"This usually means learning_rate is too large for this data, or the data "
                                         r"holds extreme values\. No finite epoch was reached"):
        VAETransformer(learning_rate=1e30, max_iter=3, hidden_layer_sizes=(8,), latent_dim=2).fit(X)


def test_the_auto_budget_warning_names_the_max_iter_option(table, tmp_path, monkeypatch):
    from sklearn.exceptions import ConvergenceWarning

    from skvae import _training

    # A 15-epoch auto budget that the stopping rule cannot end (as tests/test_estimator.py makes one).
    monkeypatch.setattr(_training, "AUTO_MIN_EPOCHS", 15)
    monkeypatch.setattr(_training, "AUTO_BUDGET_STEPS", 1)
    with pytest.warns(ConvergenceWarning, match=r"the budget max_iter='auto' gives data of this size; an int "
                                                r"max_iter above 15 trains longer"):
        VAETransformer(hidden_layer_sizes=(8,), latent_dim=2, tol=0.0, max_iter="auto").fit(
            np.random.default_rng(0).normal(size=(30, 2)))
    # The command line has no --tol: a rule that never stops early, so that the budget ends the fit.
    defaults = VAETransformer.__init__.__kwdefaults__ or {}
    if "tol" in defaults:
        monkeypatch.setitem(VAETransformer.__init__.__kwdefaults__, "tol", 0.0)
    else:
        names = list(inspect.signature(VAETransformer.__init__).parameters)[1:]
        values = list(VAETransformer.__init__.__defaults__)
        values[names.index("tol") - (len(names) - len(values))] = 0.0
        monkeypatch.setattr(VAETransformer.__init__, "__defaults__", tuple(values))
    status, _, err = _run(["fit", table, "--out", tmp_path / "m.skvae", "--latent-dim", 2, "-q",
                           "--hidden-layer-sizes", 8])
    assert status == 0, err
    assert ("skvae fit: warning: Stochastic optimizer: maximum iterations (15) reached and the optimization hasn't "
            "converged yet (the budget --max-iter auto gives data of this size; --max-iter above 15 trains "
            "longer).") in err.splitlines()


def test_early_stopping_on_one_row_names_the_option(tmp_path):
    data = tmp_path / "one.csv"
    data.write_text("a,b\n1,1\n")
    status, _, err = _run(["fit", data, "--out", tmp_path / "m.skvae", *FAST, "--early-stopping"])
    assert status == 1
    assert err == ("skvae fit: error: --early-stopping needs at least 2 samples to hold out a validation set; got "
                   "n_samples=1.\n")
    with pytest.raises(ValueError, match=r"^early_stopping=True needs at least 2 samples to hold out a validation "
                                         r"set; got n_samples=1\.$"):
        VAETransformer(early_stopping=True, max_iter=2).fit(np.ones((1, 2)))


def test_the_demo_says_its_warnings_with_its_options(tmp_path, monkeypatch):
    import warnings

    from skvae import _demo
    from skvae._refusals import TermWarning, parameter

    def warning_demo(out_dir, **kwargs):
        warnings.warn(TermWarning("raise ", parameter("max_iter", 5), " for sharper pictures."), stacklevel=2)

    monkeypatch.setattr(_demo, "run_demo", warning_demo)
    status, _, err = _run(["demo", "--out", tmp_path / "pictures", "-q"])
    assert status == 0
    assert err == "skvae demo: warning: raise --max-iter 5 for sharper pictures.\n"
