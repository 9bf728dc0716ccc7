"""Hostile input, fifth sweep: the command line's options, its output files, CSV cells and saved model files.

Each family failed once (see the commit that added its tests): the tests pin
the mechanism, not the example, so each runs over the commands, options or
files the mechanism serves.
"""

import fcntl
import io
import os
import stat

import numpy as np
import pandas as pd
import pytest

import skvae
from skvae import VAETransformer
from skvae._cli import main
from _cli_run import run_cli as _run
from skvae._csv import CommandError, read_table, write_table

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(latent_dim=2, hidden_layer_sizes=(4,), max_iter=2, batch_size=16, random_state=0)
FAST_FIT = ["--latent-dim", "2", "--max-iter", "2", "--hidden-layer-sizes", "4", "--batch-size", "16", "-q"]
N = 30


@pytest.fixture
def files(tmp_path):
    """A CSV file of three numeric columns and a model fitted on it: paths of both."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(N, 3)).round(3), columns=["a", "b", "c"])
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    model = tmp_path / "model.skvae"
    skvae.save(VAETransformer(**TINY).fit(frame), model)
    return data, model


def _one_line_error(err, prefix):
    """A refused command says why in one line starting with `prefix`, without a traceback."""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(prefix), err
    return lines[0]


# ---------------------------------------------- an output that is an input


@pytest.mark.parametrize("command, option", [
    ("fit {data} --out {data}", "data"),
    ("fit {data} --out {link}", "data"),
    ("impute {data} --out {data} --max-iter 2", "data"),
    ("transform {model} {data} --out {model}", "model"),
    ("transform {model} {data} --out {data}", "data"),
    ("inverse {model} {data} --out {model}", "model"),
    ("score {model} {data} --out {data}", "data"),
    ("sample {model} --out {model}", "model"),
    ("sample {model} --out {dotted}", "model"),
])
def test_an_output_that_is_an_input_file_is_refused_and_left_as_it_was(files, tmp_path, command, option):
    """--out naming the command's own data or model file (by any name) replaced it: a fit saved over its CSV."""
    data, model = files
    link = tmp_path / "other-name.csv"
    os.link(data, link)  # a second name of the same file
    dotted = tmp_path / "." / model.name
    argv = command.format(data=data, model=model, link=link, dotted=dotted).split()
    before = {path: path.read_bytes() for path in (data, model)}
    status, _, err = _run([*argv, *(FAST_FIT if argv[0] == "fit" else [])])
    assert status == 1
    line = _one_line_error(err, f"skvae {argv[0]}: error: --out ")
    assert f"the {option} file this command reads" in line
    assert {path: path.read_bytes() for path in (data, model)} == before


@pytest.mark.parametrize("command", ["fit {data} --out {out}", "sample {model} --out {out}",
                                     "transform {model} {data} --out {out}", "impute {data} --out {out} --max-iter 2"])
def test_an_output_named_as_a_folder_that_does_not_exist_is_refused(files, tmp_path, command):
    """--out results/ wrote a file named 'results' (the slash dropped), where a folder was meant."""
    data, model = files
    out = f"{tmp_path / 'results'}{os.sep}"
    argv = command.format(data=data, model=model, out=out).split()
    status, report, err = _run([*argv, *(FAST_FIT if argv[0] == "fit" else [])])
    assert status == 1
    assert "ends with a path separator, so it names a folder" in _one_line_error(err, f"skvae {argv[0]}: error: ")
    assert not (tmp_path / "results").exists() and "Fitting" not in report


def test_save_to_a_path_named_as_a_folder_that_does_not_exist_is_refused(tmp_path):
    with pytest.raises(IsADirectoryError, match="ends with a path separator, so it names a folder"):
        skvae.save(_model(), f"{tmp_path / 'models'}{os.sep}")
    assert not (tmp_path / "models").exists()


# ------------------------------------------- a write that fails half-way


class _Interrupted(Exception):
    pass


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt(), _Interrupted()])
@pytest.mark.parametrize("name", ["out.csv", "out.csv.gz", "out.csv.zip"])
def test_a_write_that_fails_half_way_leaves_the_existing_output_as_it_was(tmp_path, monkeypatch, failure, name):
    """write_table wrote into the output itself: a full disk or ^C half-way left a truncated file in its place."""
    path = tmp_path / name
    path.write_bytes(b"the previous result\n")
    original = pd.DataFrame.to_csv

    def half_then_fail(frame, target, **kwargs):
        original(frame.iloc[:1], target, **kwargs)  # some rows reach the file, then the write fails
        raise failure

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_fail)
    with pytest.raises((CommandError, KeyboardInterrupt, _Interrupted)):
        write_table(str(path), np.arange(6.0).reshape(3, 2), ["p", "q"])
    assert path.read_bytes() == b"the previous result\n"
    assert sorted(os.listdir(tmp_path)) == [name]  # no temporary file left behind


@pytest.mark.parametrize("name", ["out.csv", "out.csv.gz", "out.csv.zip"])
def test_a_finished_write_replaces_the_output_and_keeps_its_compression(tmp_path, monkeypatch, name):
    """The temporary file's name must not decide the compression (nor a zip member's name): the output's does."""
    path = tmp_path / name
    path.write_bytes(b"the previous result\n")
    original = pd.DataFrame.to_csv
    targets = []

    def recording(frame, target, **kwargs):
        targets.append(str(target))
        return original(frame, target, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", recording)
    write_table(str(path), np.arange(6.0).reshape(3, 2), ["p", "q"])
    assert targets and targets[0] != str(path)  # written beside the output, then renamed
    monkeypatch.undo()
    np.testing.assert_array_equal(pd.read_csv(path).to_numpy(), np.arange(6.0).reshape(3, 2))
    assert sorted(os.listdir(tmp_path)) == [name]


# ------------------------------- save through a link, into a pipe or device


def _model():
    frame = pd.DataFrame(np.random.default_rng(1).normal(size=(N, 2)), columns=["a", "b"])
    return VAETransformer(**TINY).fit(frame)


def test_save_through_a_symbolic_link_replaces_the_file_it_points_to(tmp_path):
    """save renamed its temporary file onto the link: the link became a file, what it pointed to stayed old."""
    folder = tmp_path / "models"
    folder.mkdir()
    target = folder / "current.skvae"
    target.write_bytes(b"an older model")
    link = tmp_path / "model.skvae"
    link.symlink_to(target)
    model = _model()
    skvae.save(model, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    loaded = skvae.load(target)
    np.testing.assert_array_equal(loaded.encoder_.trunk[0].weight.detach().numpy(),
                                  model.encoder_.trunk[0].weight.detach().numpy())
    assert sorted(os.listdir(folder)) == ["current.skvae"]


def test_save_into_a_named_pipe_writes_the_pipe_and_leaves_it_a_pipe(tmp_path):
    """save renamed a regular file onto the pipe: the pipe was gone and its reader never got the model."""
    pipe = tmp_path / "model.pipe"
    os.mkfifo(pipe)
    model = _model()
    expected = io.BytesIO()
    skvae.save(model, expected)
    # Opened read-write, a pipe has a reader at once (the open does not wait) and no end of file.
    end = os.open(pipe, os.O_RDWR | os.O_NONBLOCK)
    try:
        fcntl.fcntl(end, fcntl.F_SETPIPE_SZ, max(len(expected.getvalue()) + 4096, 65536))
        skvae.save(model, pipe)
        assert stat.S_ISFIFO(os.stat(pipe).st_mode)
        received = os.read(end, len(expected.getvalue()) + 1)
    finally:
        os.close(end)
    assert len(received) == len(expected.getvalue())
    loaded = skvae.load(io.BytesIO(received))
    np.testing.assert_array_equal(loaded.encoder_.trunk[0].weight.detach().numpy(),
                                  model.encoder_.trunk[0].weight.detach().numpy())


def test_save_through_a_link_to_a_named_pipe_writes_the_pipe(tmp_path):
    """As /dev/stdout is a link to the process's pipe: save replaced the link with a file, the reader got nothing."""
    pipe = tmp_path / "model.pipe"
    os.mkfifo(pipe)
    link = tmp_path / "stdout"
    link.symlink_to(pipe)
    model = _model()
    end = os.open(pipe, os.O_RDWR | os.O_NONBLOCK)
    try:
        fcntl.fcntl(end, fcntl.F_SETPIPE_SZ, 1 << 20)
        skvae.save(model, link)
        assert link.is_symlink() and stat.S_ISFIFO(os.stat(pipe).st_mode)
        received = os.read(end, 1 << 20)
    finally:
        os.close(end)
    assert skvae.load(io.BytesIO(received)).n_features_in_ == 2


def test_save_into_a_device_writes_the_device_and_leaves_it_a_device(tmp_path):
    """save renamed a regular file onto the device node: as root, skvae.save(model, "/dev/null") replaced it."""
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a second /dev/null, in a folder of the test's own
    except PermissionError:
        pytest.skip("making a device node needs root; only root could replace one by renaming onto it")
    skvae.save(_model(), node)
    assert stat.S_ISCHR(os.stat(node).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["null"]


# ------------------------------------------------ options given twice


@pytest.mark.parametrize("command, repeated, message", [
    ("fit {data}", ["--out", "{a}", "--out", "{b}"], "argument --out: given twice"),
    ("fit {data} --out {a}", ["--latent-dim", "2", "--latent-dim=3"], "argument --latent-dim: given twice"),
    ("fit {data} --out {a}", ["--early-stopping", "--no-early-stopping"],
     "argument --no-early-stopping: cannot be combined with --early-stopping"),
    ("fit {data} --out {a}", ["--header", "--header"], "argument --header: given twice"),
    ("sample {model} --out {a}", ["-n", "2", "--n-samples", "3"], "argument -n/--n-samples: given twice"),
    ("sample {model} --out {a}", ["--random-state", "1", "--random-state", "2"], "given twice"),
    ("transform {model} {data}", ["--out", "{a}", "--out", "{b}"], "argument --out: given twice"),
    ("score {model} {data} --out {a}", ["--n-importance", "2", "--n-importance", "3"], "given twice"),
    ("impute {data} --out {a}", ["--max-iter", "2", "--max-iter", "3"], "argument --max-iter: given twice"),
])
def test_an_option_that_takes_one_value_given_twice_is_refused(files, tmp_path, command, repeated, message):
    """argparse kept the last one silently: --out a --out b saved to b only, whichever the user meant."""
    data, model = files
    names = dict(data=data, model=model, a=tmp_path / "a.out", b=tmp_path / "b.out")
    argv = [*command.format(**names).split(), *(part.format(**names) for part in repeated)]
    status, _, err = _run([*argv, *(FAST_FIT if argv[0] == "fit" else [])])
    assert status == 2
    assert message in err and "Traceback" not in err
    assert not names["a"].exists() and not names["b"].exists()


# ------------------------------------- columns that --likelihood, --drop name


@pytest.mark.parametrize("options, message", [
    (["--likelihood", "zz=gaussian"], "--likelihood zz=gaussian: {data} has no column 'zz'"),
    (["--likelihood", "a=categorical", "--drop", "a"], "--likelihood a=categorical: column 'a' of {data} is left out"),
    (["--likelihood", "c=gaussian", "--columns", "a,b"], "--likelihood c=gaussian: column 'c' of {data} is left out"),
])
def test_likelihood_of_a_column_not_fitted_names_the_option_before_fitting(files, tmp_path, options, message):
    """The estimator's refusal came after 'Fitting ...', named no option, and said X lacks a column the file has."""
    data, _ = files
    out = tmp_path / "m.skvae"
    status, report, err = _run(["fit", data, "--out", out, *FAST_FIT, *options])
    assert status == 1
    assert message.format(data=data) in _one_line_error(err, "skvae fit: error: ")
    assert "Fitting" not in report and not out.exists()


@pytest.mark.parametrize("command", ["fit", "impute"])
@pytest.mark.parametrize("options, message", [
    (["--columns", "a,b", "--drop", "c"], "--drop names 'c', which --columns leaves out already"),
    (["--columns", "a,b", "--drop", "a"], "--columns and --drop both name 'a'"),
])
def test_columns_and_drop_naming_one_column_say_so(files, tmp_path, command, options, message):
    """--columns a,b --drop a fitted b alone silently; --drop c said the file had no column c, which it has."""
    data, _ = files
    out = tmp_path / "out"
    extra = FAST_FIT if command == "fit" else ["--max-iter", "2"]
    status, _, err = _run([command, data, "--out", out, *extra, *options])
    assert status == 1
    assert message in _one_line_error(err, f"skvae {command}: error: ")
    assert not out.exists()


# ------------------------------------------------------ cells of a CSV file


@pytest.mark.parametrize("where", ["header", "cell"])
def test_a_field_longer_than_the_csv_modules_limit_is_read(tmp_path, where):
    """Python's csv module stops at 128 KiB a field, which no CSV file or pandas imposes: the file was refused."""
    long = "w" * 200_000
    path = tmp_path / "long.csv"
    if where == "header":
        path.write_text(f"a,{long}\n1,2\n3,4\n")
    else:
        path.write_text(f"a,b\n1,{long}\n3,short\n")
    frame = read_table(str(path)).frame
    assert frame.shape == (2, 2)
    assert (long in frame.columns) if where == "header" else frame["b"].iloc[0] == long


@pytest.mark.parametrize("text, expected", [
    ('a,b\n"1,234,567",1\n"12,345",2\n5,3\n', [1234567, 12345, 5]),
    ('a,b\n"1,234.5",1\n"12,345",2\n"",3\n', [1234.5, 12345.0, np.nan]),
    ('a,b\n"-1,000,000",1\n"+2,000",2\n7.5,3\n', [-1e6, 2000.0, 7.5]),
    ("a;b\n1.234,5;1\n2.345,5;2\n1,5;3\n", [1234.5, 2345.5, 1.5]),
    ("a;b\n1.234.567;1\n2,5;2\n3;3\n", [1234567.0, 2.5, 3.0]),
])
def test_numbers_with_thousands_separators_are_numbers(tmp_path, text, expected):
    """They were text, so the column was modelled as categories, one per distinct number."""
    path = tmp_path / "grouped.csv"
    path.write_text(text)
    column = read_table(str(path)).frame["a"]
    assert pd.api.types.is_numeric_dtype(column.dtype)
    np.testing.assert_array_equal(column.to_numpy(dtype=float), np.array(expected, dtype=float))


@pytest.mark.parametrize("text, cell, line", [
    ('a,b\n"1,234",1\n"12,345",2\n"5,000",3\n', "'1,234'", 2),
    ('a,b\n7,1\n"5,000",2\n8,3\n', "'5,000'", 3),
    ("a;b\n2,5;1\n1.234;2\n3;3\n", "'1.234'", 3),
])
def test_a_separator_that_may_mark_thousands_or_decimals_is_refused(tmp_path, text, cell, line):
    """"5,000" was read as 5.0 (a decimal comma) where it may as well be 5000: a silently wrong number."""
    path = tmp_path / "ambiguous.csv"
    path.write_text(text)
    with pytest.raises(CommandError, match=rf"column 'a', line {line}: {cell} may be a number with a thousands "):
        read_table(str(path))


# ------------------------------------------------------------ model files


def test_an_empty_model_file_is_called_empty(files, tmp_path):
    """A 0-byte file (a save that never ran) was 'not a safetensors file ... (header too small)'."""
    empty = tmp_path / "empty.skvae"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match=r"is empty \(0 bytes\)"):
        skvae.load(empty)
    status, _, err = _run(["sample", empty])
    assert status == 1
    assert "is empty (0 bytes)" in _one_line_error(err, "skvae sample: error: ")


@pytest.mark.parametrize("command", ["transform {data}", "inverse {data}", "score {data}", "sample"])
def test_a_model_named_as_standard_input_says_models_are_read_from_files(files, command):
    """'-' as the model was 'no such model file: -', as if a file of that name were missing."""
    data, _ = files
    argv = command.format(data=data).split()
    status, _, err = _run([argv[0], "-", *argv[1:]])
    assert status == 1
    assert "reads the model from a file, not from standard input" in _one_line_error(err, f"skvae {argv[0]}: error: ")


# ------------------------------------------------------ codes for 'inverse'


@pytest.mark.parametrize("text", ["p,q,r\n1,2,3\n", "1,2,3\n4,5,6\n", "vaetransformer0\n1\n"])
def test_codes_of_the_wrong_width_name_the_file_and_the_columns_expected(files, tmp_path, text):
    """The estimator's 'X has 3 features, but ... expects latent_dim=2' named neither the file nor the columns."""
    _, model = files
    codes = tmp_path / "codes.csv"
    codes.write_text(text)
    status, _, err = _run(["inverse", model, codes])
    assert status == 1
    line = _one_line_error(err, f"skvae inverse: error: {codes} has ")
    assert "'vaetransformer0', 'vaetransformer1'" in line


# ----------------------------------------------------------- infinite cells


def _column_with(cells):
    return "a,b\n" + "".join(f"{cell},{i % 3}\n" for i, cell in enumerate(cells))


_MANY = [f"{v:.3f}" for v in np.random.default_rng(2).normal(size=30)]


@pytest.mark.parametrize("cells, options, line", [
    (["inf", "1", "2", "1", "2", "1", "2", "1", "2", "1"], [], 2),  # few distinct numbers: categorical under "auto"
    (["1", "2", "1", "-inf", "2", "1"], ["--likelihood", "a=categorical"], 5),
    (["1", "1e400", "1", "1"], [], 3),  # an overflow is read as inf
    ([*_MANY[:4], "", *_MANY[5:7], "inf", *_MANY[8:]], [], 9),  # besides an empty cell
])
def test_an_infinite_cell_is_refused_naming_its_line_whatever_the_columns_kind(tmp_path, cells, options, line):
    """inf became a category of its own (a model of it was saved), or the refusal blamed the empty cells."""
    path = tmp_path / "inf.csv"
    path.write_text(_column_with(cells))
    out = tmp_path / "m.skvae"
    status, _, err = _run(["fit", path, "--out", out, *FAST_FIT, *options])
    assert status == 1
    message = _one_line_error(err, "skvae fit: error: ")
    if "1e400" in cells:
        # Sweep 15: an overflow is refused by its text, before it is read as inf.
        assert f"column 'a', line {line}: '1e400' overflows float64" in message
    else:
        assert "infinite value" in message and f"column 'a', line {line})" in message
    assert "does not accept missing values" not in message
    assert not out.exists()


@pytest.mark.parametrize("X, likelihood", [
    (pd.DataFrame({"a": [1.0, np.inf, 1.0, 1.0], "b": ["p", "q", "p", "q"]}), "auto"),
    (pd.DataFrame({"a": pd.array([1.0, -np.inf, 2.0], dtype=object), "b": [1.0, 2.0, 3.0]}), {"a": "categorical"}),
    (np.array([[np.inf, 1.0], [1.0, 2.0], [2.0, 1.0]]), "categorical"),
])
def test_infinity_is_no_category_of_a_numeric_column(X, likelihood):
    with pytest.raises(ValueError, match=r"X contains an infinite value \(-?inf in column "):
        VAETransformer(**TINY, likelihood=likelihood).fit(X)


def test_fit_to_standard_output_is_refused_rather_than_saved_as_a_file_named_dash(files, tmp_path, monkeypatch):
    """'-' is standard output for CSV outputs; fit --out - saved the model to a file named '-' and said so."""
    data, _ = files
    monkeypatch.chdir(tmp_path)
    status, report, err = _run(["fit", data, "--out", "-", *FAST_FIT])
    assert status == 1
    assert "writes a model file, not standard output" in _one_line_error(err, "skvae fit: error: --out -: ")
    assert not (tmp_path / "-").exists() and "Fitting" not in report


# ------------------------------------------------- quotes and header guesses


@pytest.mark.parametrize("text, skip, line", [
    ('a,b\n1,"2\n3,4\n5,6\n', 0, 2),
    ('a,b\n1,2\n3,4\n5,"6\n', 0, 4),
    ('title\na,b\n1,"2\n3,4\n', 1, 3),
])
def test_a_quote_never_closed_names_the_line_it_opened_on(tmp_path, text, skip, line):
    """The message named the file's last line ('unexpected end of data'), not the line with the stray quote."""
    path = tmp_path / "quote.csv"
    path.write_text(text)
    with pytest.raises(CommandError, match=rf"double quote opened in the record starting on line {line} is never "
                                           r"closed"):
        read_table(str(path), skip_rows=skip)


@pytest.mark.parametrize("command", ["transform", "score"])
def test_a_headerless_one_line_file_taken_for_a_header_says_how_to_read_it_as_data(files, tmp_path, command):
    """A single line holding text was 'a header line but no rows of data', with no word of --no-header."""
    _, model = files
    path = tmp_path / "one.csv"
    path.write_text("1.5,x,2\n")
    status, _, err = _run([command, model, path])
    assert status == 1
    assert "give --no-header" in _one_line_error(err, f"skvae {command}: error: {path} has a header line but no rows")


# ------------------------------------------------------- standard output


class _FullStream(io.StringIO):
    """Standard output on a full disk (`> /dev/full`): every write fails."""

    def write(self, text):
        raise OSError(28, "No space left on device")


_WRITING_TO_STDOUT = ["transform {model} {data}", "sample {model} -n 3", "score {model} {data} --out -"]


@pytest.mark.parametrize("command", _WRITING_TO_STDOUT)
def test_a_closed_standard_output_is_one_line_error(files, monkeypatch, command):
    """With stdout closed (`command >&-`) Python's sys.stdout is None: writing the rows was an AttributeError."""
    data, model = files
    argv = command.format(data=data, model=model).split()
    err = io.StringIO()
    monkeypatch.setattr("sys.stdout", None)
    status = main(argv, stdout=None, stderr=err)
    assert status == 1
    assert "cannot write standard output: it is closed" in _one_line_error(err.getvalue(), f"skvae {argv[0]}: error: ")


@pytest.mark.parametrize("command", _WRITING_TO_STDOUT)
def test_a_full_standard_output_names_standard_output(files, command):
    """The message was '[Errno 28] No space left on device', naming no file or stream."""
    data, model = files
    argv = command.format(data=data, model=model).split()
    err = io.StringIO()
    status = main(argv, stdout=_FullStream(), stderr=err)
    assert status == 1
    line = _one_line_error(err.getvalue(), f"skvae {argv[0]}: error: ")
    assert "cannot write standard output: No space left on device" in line


# ------------------------------------------------ parameters out of range


@pytest.mark.parametrize("command", ["fit", "impute"])
@pytest.mark.parametrize("option, value, message", [
    ("--device", "nowhere", "--device must be 'auto', 'cpu', 'cuda' or 'cuda:N'"),
    ("--device", "cuda:63", "--device cuda:63 "),
])
def test_an_option_out_of_range_is_refused_by_its_name_before_the_file_is_read(files, tmp_path, command, option,
                                                                               value, message):
    """The refusal came from the fit, after the file was read, as "The 'random_state' parameter of ..."."""
    data, _ = files
    out = tmp_path / "out"
    extra = FAST_FIT if command == "fit" else ["--max-iter", "2"]
    status, report, err = _run([command, data, "--out", out, *extra, option, value])
    assert status == 1
    assert message in _one_line_error(err, f"skvae {command}: error: ")
    assert "Fitting" not in report and "Imputing" not in report and not out.exists()


@pytest.mark.parametrize("command", ["fit", "impute"])
@pytest.mark.parametrize("value", ["-1", str(2**40)])
def test_a_seed_out_of_range_is_refused_by_the_option_before_the_file_is_read(files, tmp_path, command, value):
    """As the parser refuses any option's value (sweep 16; it was the fit's refusal, in Python's terms, with
    "an instance of 'numpy.random.mtrand.RandomState' or None")."""
    data, _ = files
    out = tmp_path / "out"
    extra = FAST_FIT if command == "fit" else ["--max-iter", "2"]
    status, report, err = _run([command, data, "--out", out, *extra, "--random-state", value])
    assert status == 2
    assert f"argument --random-state: expected a seed, an integer from 0 to 4294967295, got {value!r}" in err
    assert "RandomState" not in err
    assert "Fitting" not in report and "Imputing" not in report and not out.exists()


@pytest.mark.parametrize("option, value", [("--beta", "nan"), ("--beta", "-1"), ("--learning-rate", "0"),
                                           ("--learning-rate", "inf")])
def test_a_fit_option_out_of_range_is_refused_by_its_name_before_the_file_is_read(files, tmp_path, option, value):
    data, _ = files
    out = tmp_path / "m.skvae"
    status, report, err = _run(["fit", data, "--out", out, *FAST_FIT, option, value])
    assert status == 1
    assert f"{option} must be a float in the range" in _one_line_error(err, "skvae fit: error: ")
    assert "Fitting" not in report and not out.exists()


# ------------------------------------------ permissions of a replaced file


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444])
def test_a_saved_over_model_keeps_its_permissions(tmp_path, mode):
    """The new file had the umask's 0644: a model made private (0600) became readable by everyone when saved again.

    (The CLI's CSV outputs share the mechanism, skvae._files.replace_file.)
    """
    path = tmp_path / "model.skvae"
    path.write_bytes(b"old")
    os.chmod(path, mode)
    skvae.save(_model(), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    assert path.read_bytes() != b"old"


# --------------------------------------------- the header's first line


@pytest.mark.parametrize("text, skip, lines", [
    ("sep=;\na;b\n1;2\n3;4\n5;6\n", 0, [3, 4, 5]),
    ('"sep=,"\na,b\n1,2\n3,4\n5,6\n', 0, [3, 4, 5]),
    ("sep=|\r\na|b\r\n1|2\r\n3|4\r\n5|6\r\n", 0, [3, 4, 5]),
    ("a title\nsep=;\na;b\n1;2\n3;4\n5;6\n", 1, [4, 5, 6]),
])
def test_excels_separator_line_declares_the_separator_and_is_no_row(tmp_path, text, skip, lines):
    """'sep=;' became a header ('sep=', 'Unnamed: 1') over rows of whole lines, and a model of that was fitted."""
    path = tmp_path / "excel.csv"
    path.write_text(text)
    table = read_table(str(path), skip_rows=skip)
    assert list(table.frame.columns) == ["a", "b"]
    np.testing.assert_array_equal(table.frame.to_numpy(), [[1, 2], [3, 4], [5, 6]])
    assert table.lines == lines


@pytest.mark.parametrize("header", ["a,b,,", "a,,b,", ",,a,b"])
def test_a_header_with_several_empty_names_says_they_are_empty(tmp_path, header):
    """It said the header named the column '' more than once, which reads as a quoting slip, not empty names."""
    path = tmp_path / "empty-names.csv"
    path.write_text(header + "\n" + "1,2,,\n3,4,,\n")
    with pytest.raises(CommandError, match=r"the header \(line 1\) has 2 empty column names"):
        read_table(str(path))


# ------------------------------------------------- a model read from a pipe


def _load_from_a_pipe_left_open(tmp_path, payload):
    """skvae.load of a named pipe whose writer writes `payload` and stays open (at most 10 s).

    Returns (what load returned or raised, whether the writer was still open when it did).
    """
    import threading

    pipe = tmp_path / "model.pipe"
    os.mkfifo(pipe)
    done, closing = threading.Event(), threading.Event()

    def writer():
        with open(pipe, "wb") as end:
            end.write(payload)
            end.flush()
            done.wait(10)  # a writer that has not finished (a program still running, a stream with no end)
            closing.set()  # before the end of file a reader waiting for it gets

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        result = skvae.load(pipe)
    except ValueError as error:
        result = error
    still_open = not closing.is_set()
    done.set()
    thread.join(15)
    return result, still_open


def test_a_model_from_a_pipe_is_read_as_far_as_its_header_declares(tmp_path):
    """load read a pipe to its end: a writer that stays open (or never ends, /dev/zero) kept it waiting or growing."""
    model = _model()
    data = io.BytesIO()
    skvae.save(model, data)
    loaded, still_open = _load_from_a_pipe_left_open(tmp_path, data.getvalue())
    assert still_open
    np.testing.assert_array_equal(loaded.encoder_.trunk[0].weight.detach().numpy(),
                                  model.encoder_.trunk[0].weight.detach().numpy())


def test_a_stream_declaring_an_impossible_header_is_refused_at_once(tmp_path):
    refused, still_open = _load_from_a_pipe_left_open(tmp_path, (10**15).to_bytes(8, "little") + b"{")
    assert still_open
    assert isinstance(refused, ValueError) and "declare a header of 1,000,000,000,000,000 bytes" in str(refused)


@pytest.mark.parametrize("payload, message", [
    (b"\x00" * 60_000, "holds NUL bytes"),  # less than a pipe holds: the writer waits with the stream open
    (b"\xda\x91\x07\xff" * 15_000, "is not UTF-8 text"),
])
def test_binary_data_from_a_stream_is_refused_without_reading_to_its_end(tmp_path, payload, message):
    """fit /dev/zero (or a pipe of binary data) read until memory ran out before refusing the first bytes."""
    import threading

    pipe = tmp_path / "data.pipe"
    os.mkfifo(pipe)
    done, closing = threading.Event(), threading.Event()

    def writer():
        try:
            with open(pipe, "wb") as end:
                end.write(payload)
                end.flush()
                done.wait(10)  # the stream goes on
                closing.set()  # before the end of file a reader waiting for it gets
        except BrokenPipeError:  # the reader stopped reading, as it should
            pass

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    with pytest.raises(CommandError, match=message):
        read_table(str(pipe))
    still_open = not closing.is_set()  # the read did not wait for the stream's end
    done.set()
    thread.join(15)
    assert still_open


# ----------------------------------------------- a header of numbers


@pytest.mark.parametrize("command", ["transform", "score"])
@pytest.mark.parametrize("header", ["1,2,3", "3,1,2", "2020,2021,2022"])
def test_a_header_of_numbers_the_model_was_fitted_on_is_its_header(tmp_path, command, header):
    """Without --header again, the line of names (numbers) was read as a row of data: one row too many, made up."""
    rng = np.random.default_rng(3)
    path = tmp_path / "numbers.csv"
    path.write_text(header + "\n" + "".join(f"{a:.4f},{b:.4f},{c:.4f}\n" for a, b, c in rng.normal(size=(N, 3))))
    model = tmp_path / "m.skvae"
    assert _run(["fit", path, "--header", "--out", model, *FAST_FIT])[0] == 0
    results = {}
    for option in ([], ["--header"]):
        out = tmp_path / f"out{len(option)}.csv"
        status, _, err = _run([command, model, path, "--out", out, *option])
        assert status == 0, err
        results[len(option)] = pd.read_csv(out)
    assert len(results[0]) == N
    pd.testing.assert_frame_equal(results[0], results[1])


# ---------------------------------------- advice in the command line's terms


@pytest.mark.parametrize("command", ["transform", "score"])
def test_advice_on_an_unseen_category_names_no_python_parameter(tmp_path, command):
    """The advice was handle_unknown='ignore' and likelihood={'a': 'gaussian'}, which the command line lacks."""
    path = tmp_path / "levels.csv"
    path.write_text("a,b\n" + "".join(f"{i % 4}.5,{i * 0.37:.2f}\n" for i in range(N)))
    model = tmp_path / "m.skvae"
    assert _run(["fit", path, "--out", model, *FAST_FIT])[0] == 0
    later = tmp_path / "later.csv"
    later.write_text("a,b\n3.0,1\n")
    status, _, err = _run([command, model, later])
    assert status == 1
    line = _one_line_error(err, f"skvae {command}: error: {later}, line 2: Column 'a' holds categories not seen")
    assert "handle_unknown" not in line and "likelihood={" not in line
    assert "--likelihood a=gaussian" in line and "Leave such a cell empty" in line


# ------------------------------------------------- long names, odd folders


def test_save_to_a_name_near_the_file_systems_limit_works(tmp_path):
    """The temporary file's name added ~40 characters to the model's: a valid 240-character name failed."""
    path = tmp_path / ("m" * 234 + ".skvae")
    skvae.save(_model(), path)
    assert skvae.load(path).n_features_in_ == 2
    assert sorted(os.listdir(tmp_path)) == [path.name]


def test_fit_to_a_name_near_the_file_systems_limit_works(files, tmp_path):
    data, _ = files
    out = tmp_path / ("m" * 234 + ".skvae")
    status, _, err = _run(["fit", data, "--out", out, *FAST_FIT])
    assert status == 0, err
    assert out.exists()


@pytest.mark.parametrize("command", ["fit {data} --out {out}", "sample {model} --out {out}"])
def test_a_name_too_long_for_the_file_system_is_refused_before_the_work(files, tmp_path, command):
    """It failed after the fit, naming the temporary file ('File name too long: .mmm...tmp')."""
    data, model = files
    out = tmp_path / ("m" * 300 + ".out")
    argv = command.format(data=data, model=model, out=out).split()
    status, report, err = _run([*argv, *(FAST_FIT if argv[0] == "fit" else [])])
    assert status == 1
    line = _one_line_error(err, f"skvae {argv[0]}: error: cannot write {out}: its name is 304 bytes long")
    assert ".tmp" not in line and "Fitting" not in report


def test_an_output_inside_a_file_says_the_file_is_no_folder(files, tmp_path):
    """It said the folder did not exist, while it exists as a file."""
    data, model = files
    status, _, err = _run(["sample", model, "--out", data / "rows.csv"])
    assert status == 1
    assert f"{data} is a file, not a folder" in _one_line_error(err, "skvae sample: error: ")


# ------------------------------------------- fills written as the column writes


@pytest.mark.parametrize("true, false", [("true", "false"), ("TRUE", "FALSE"), ("True", "false")])
def test_imputed_booleans_are_spelled_as_the_column_spells_them(tmp_path, true, false):
    """Fills were written 'True'/'False' in a column of 'true'/'false': two spellings in one column."""
    rows = [f"{i * 0.3:.1f},{true if i % 3 else false}" for i in range(N)]
    rows[4] = rows[4].split(",")[0] + ","
    rows[9] = rows[9].split(",")[0] + ","
    path = tmp_path / "flags.csv"
    path.write_text("a,b\n" + "\n".join(rows) + "\n")
    out = tmp_path / "filled.csv"
    status, _, err = _run(["impute", path, "--out", out, "--max-iter", "2"])
    assert status == 0, err
    column = [line.split(",")[1] for line in out.read_text().splitlines()[1:]]
    assert column[4] in (true, false) and column[9] in (true, false)
    assert set(column) <= {true, false}


# ----------------------------------------------- the reader of the output stops reading


class _ClosedPipe(io.StringIO):
    """Standard output whose reader went away: every write raises EPIPE, as a pipe's does after `head` exits."""

    def __init__(self, descriptor=None):
        super().__init__()
        self.descriptor = descriptor

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self):
        if self.descriptor is None:
            raise io.UnsupportedOperation("fileno")
        return self.descriptor


def _fitted_model_file(tmp_path):
    data = tmp_path / "d.csv"
    rng = np.random.default_rng(0)
    data.write_text("a,b\n" + "".join(f"{a:.3f},{b:.3f}\n" for a, b in rng.normal(size=(N, 2))))
    model = tmp_path / "m.skvae"
    assert _run(["fit", data, "--out", model, *FAST_FIT])[0] == 0
    return model


def test_a_reader_that_stops_reading_ends_the_command_quietly(tmp_path):
    """`skvae sample m.skvae | head -1`: "error: cannot write standard output: Broken pipe" and status 1 before."""
    model = _fitted_model_file(tmp_path)
    err = io.StringIO()
    status = main(["sample", str(model), "-n", "50"], _ClosedPipe(), err)
    assert status == 141 and err.getvalue() == ""


def test_a_closed_pipe_on_the_process_output_is_pointed_at_the_null_device(tmp_path, monkeypatch):
    """Python flushes sys.stdout at exit: into the closed pipe that printed "Exception ignored ... BrokenPipeError"."""
    model = _fitted_model_file(tmp_path)
    descriptor = os.open(tmp_path / "stands-for-the-pipe", os.O_WRONLY | os.O_CREAT)
    try:
        stdout = _ClosedPipe(descriptor)
        monkeypatch.setattr("sys.stdout", stdout)
        assert main(["sample", str(model), "-n", "50"], None, io.StringIO()) == 141
        assert os.fstat(descriptor).st_rdev == os.stat(os.devnull).st_rdev  # now the null device
    finally:
        os.close(descriptor)
