"""The command line: python -m skvae (skvae/_cli.py, skvae/_demo.py)."""

import io
import re
import subprocess
import sys

import numpy as np
import pytest

import skvae
from skvae import VAETransformer
from skvae._cli import main
from skvae._csv import EXACT_FLOATS, read_table, write_table

COMMANDS = ("demo", "fit", "transform", "inverse", "sample", "score")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FAST_FIT = ["--latent-dim", "2", "--max-iter", "3", "--hidden-layer-sizes", "8", "--batch-size", "16", "-q"]


def _fast_vae():
    """The estimator FAST_FIT describes, to compare the command line against."""
    return VAETransformer(latent_dim=2, max_iter=3, hidden_layer_sizes=(8,), batch_size=16, random_state=0)


@pytest.fixture
def data(tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 4)) * [1.0, 10.0, 0.1, 3.0]
    path = tmp_path / "data.csv"
    np.savetxt(path, X, delimiter=",", fmt="%.17g", header="a,b,c,d", comments="")
    return X, path


@pytest.fixture
def model_path(data, tmp_path):
    _, csv = data
    path = tmp_path / "model.skvae"
    assert main(["fit", str(csv), "--out", str(path), *FAST_FIT]) == 0
    return path


def _frame(path):
    import pandas as pd

    return pd.read_csv(path, **EXACT_FLOATS)


def _read_output(path):
    with open(path) as file:
        header = file.readline().strip().split(",")
    return header, np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)


# --------------------------------------------------------------- help


def test_help_lists_the_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert re.search(rf"^\s+{command}\s+\S", out, flags=re.MULTILINE), command
    assert "python -m skvae demo --out demo/" in out


@pytest.mark.slow
def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "skvae", "--help"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "demo" in result.stdout and "transform" in result.stdout


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "commands:" in capsys.readouterr().err


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(command, capsys):
    assert main([command, "--help"]) == 0
    assert f"usage: python -m skvae {command}" in capsys.readouterr().out


# --------------------------------------------------------------- demo


def test_demo_writes_four_pictures_and_prints_scores(tmp_path, capsys):
    pytest.importorskip("matplotlib")  # the [plot] extra, not the [test] one (hostile sweep 33)
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--max-iter", "2", "-q"]) == 0
    report = capsys.readouterr().out
    for name in ("samples", "reconstructions", "latent_space", "loss_curve"):
        picture = out / f"{name}.png"
        content = picture.read_bytes()
        assert content.startswith(PNG_SIGNATURE), name
        assert len(content) > 5000, name
    held_out = re.search(r"8-D model: ELBO, 450 held-out images\s+(-?\d+\.\d+)", report)
    assert held_out, report
    model = skvae.load(out / "model.skvae")
    assert model.n_iter_ == 2
    # The printed score is the saved model's held-out score.
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    _, X_test = train_test_split(X / 16, test_size=0.25, stratify=y, random_state=0)
    assert float(held_out.group(1)) == pytest.approx(model.score(X_test), abs=0.006)
    vae_accuracy = re.search(r"VAETransformer\(latent_dim=2\) \+ LogisticRegression\s+(\d\.\d{3})", report)
    pca_accuracy = re.search(r"PCA\(n_components=2\) \+ LogisticRegression\s+(\d\.\d{3})", report)
    assert vae_accuracy and pca_accuracy, report
    assert 0.1 < float(pca_accuracy.group(1)) <= 1.0


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_demo_pictures_have_the_expected_content(tmp_path):
    image = pytest.importorskip("matplotlib.image")
    from skvae._demo import run_demo

    results = run_demo(tmp_path, latent_dim=3, max_iter=2, verbose=0, stream=io.StringIO())
    assert results.n_iter == 2
    samples = image.imread(results.files["samples"])
    # A 10 x 10 grid of digits: roughly square and large enough to see.
    assert samples.shape[0] > 300 and 0.8 < samples.shape[1] / samples.shape[0] < 1.2
    assert np.ptp(samples[..., :3]) > 0.5  # not a blank canvas


def test_demo_without_matplotlib_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    # A None entry in sys.modules makes `import matplotlib...` raise ImportError.
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "matplotlib" in err and "pip install 'skvae[plot]'" in err
    assert "Traceback" not in err
    assert not out.exists()  # it failed before fitting anything


def test_demo_rejects_a_latent_dim_larger_than_the_images(tmp_path, capsys):
    pytest.importorskip("matplotlib")  # the [plot] extra, not the [test] one (hostile sweep 33)
    assert main(["demo", "--out", str(tmp_path), "--latent-dim", "65"]) == 1
    # The option, not the Python parameter (hostile sweep 28).
    assert "--latent-dim must be between 1 and 64" in capsys.readouterr().err


# ------------------------------------------------- fit, transform, sample, score


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fit_then_transform_round_trip(data, tmp_path, capsys):
    X, csv = data
    model_path = tmp_path / "model.skvae"
    assert main(["fit", str(csv), "--out", str(model_path), *FAST_FIT]) == 0
    report = capsys.readouterr().out
    assert "Fitting 40 rows x 4 columns of " in report and "data.csv: a, b, c, d" in report
    assert str(model_path) in report

    model = skvae.load(model_path)
    reference = _fast_vae().fit(X)
    # The options reached the estimator: same parameters, same fit.
    assert model.get_params() == reference.get_params()
    np.testing.assert_array_equal(model.loss_curve_, reference.loss_curve_)

    latent_csv = tmp_path / "latent.csv"
    assert main(["transform", str(model_path), str(csv), "--out", str(latent_csv)]) == 0
    header, Z = _read_output(latent_csv)
    assert header == ["vaetransformer0", "vaetransformer1"]
    # The values written read back exactly. (The command line fits on a
    # DataFrame, whose column-major memory may change the last bit of a sum.)
    np.testing.assert_array_equal(Z, model.transform(_frame(csv)))
    np.testing.assert_allclose(Z, reference.transform(X), rtol=1e-12, atol=1e-15)


def test_transform_writes_to_standard_output_and_reads_standard_input(data, model_path, monkeypatch, capsys):
    X, csv = data
    monkeypatch.setattr(sys, "stdin", io.StringIO(csv.read_text()))
    assert main(["transform", str(model_path), "-"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "vaetransformer0,vaetransformer1"
    Z = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    np.testing.assert_array_equal(Z, skvae.load(model_path).transform(_frame(csv)))


def test_sample_writes_rows_from_the_model(model_path, tmp_path):
    out = tmp_path / "generated.csv"
    assert main(["sample", str(model_path), "-n", "7", "--random-state", "3", "--out", str(out)]) == 0
    header, X_new = _read_output(out)
    model = skvae.load(model_path)
    assert header == ["a", "b", "c", "d"]  # the training data's column names
    np.testing.assert_array_equal(X_new, model.sample(7, random_state=3))
    assert main(["sample", str(model_path), "-n", "7", "--random-state", "3", "--mean", "--out", str(out)]) == 0
    np.testing.assert_array_equal(_read_output(out)[1], model.sample(7, random_state=3, return_mean=True))


def test_score_writes_per_row_scores(data, model_path, tmp_path, capsys):
    X, csv = data
    out = tmp_path / "scores.csv"
    assert main(["score", str(model_path), str(csv), "--n-importance", "4", "--out", str(out)]) == 0
    header, scores = _read_output(out)
    model = skvae.load(model_path)
    expected = model.score_samples(_frame(csv), n_importance=4)
    assert header == ["score"]
    np.testing.assert_array_equal(scores[:, 0], expected)
    assert f"Mean score of 40 rows: {expected.mean():.4f} nats per row" in capsys.readouterr().out


def test_read_table_detects_a_header(tmp_path):
    with_header = tmp_path / "h.csv"
    with_header.write_text('"x","y"\n1,2\n3.5,-4e-3\n')
    table = read_table(str(with_header))
    assert table.has_header and list(table.frame.columns) == ["x", "y"]
    np.testing.assert_array_equal(table.frame.to_numpy(), [[1.0, 2.0], [3.5, -4e-3]])
    without_header = tmp_path / "n.csv"
    without_header.write_text("1,2\n3,4\n")
    table = read_table(str(without_header))
    assert not table.has_header and list(table.frame.columns) == ["x0", "x1"]
    assert table.frame.shape == (2, 2)
    # An empty first cell is a missing value, not a sign of a header.
    gappy = tmp_path / "g.csv"
    gappy.write_text(",2\n3,4\n")
    assert not read_table(str(gappy)).has_header
    # The options override the guess.
    assert read_table(str(without_header), header="yes").frame.columns.tolist() == ["1", "2"]
    assert read_table(str(with_header), header="no", skip_rows=1).frame.shape == (2, 2)


# --------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "argv, message",
    [
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["demo", "--max-iter", "0"], "--max-iter: expected a positive integer or 'auto', got '0'"),
        (["demo", "--latent-dim", "two"], "--latent-dim: expected a positive integer, got 'two'"),
        (["fit", "data.csv"], "the following arguments are required: --out"),
        (["fit", "data.csv", "--out", "m", "--hidden-layer-sizes", "12,x"], "comma-separated positive integers"),
        (["fit", "data.csv", "--out", "m", "--likelihood", "zebra"], "unknown kind 'zebra'"),
        (["sample", "model.skvae", "-n", "-3"], "expected a positive integer, got '-3'"),
    ],
)
def test_bad_arguments_fail_with_usage(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "usage: python -m skvae" in err
    assert message in err


def test_missing_files_are_named(tmp_path, model_path, capsys):
    assert main(["transform", str(tmp_path / "absent.skvae"), "data.csv"]) == 1
    assert "skvae transform: error: no such model file" in capsys.readouterr().err
    assert main(["fit", str(tmp_path / "absent.csv"), "--out", str(tmp_path / "m")]) == 1
    assert "skvae fit: error: no such file" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "is empty"),
        ("a,b,c,d\n", "has a header line but no rows"),
        ("1,2,3,4\n5,6,7\n", "line 2 has 3 values, but line 1 has 4"),
        ("a,b,c\n1,2,3\n", "has no column 'd', which the model was fitted on; its columns are 'a', 'b', 'c'"),
        ("1,2,3\n4,5,6\n", "has no header line and 3 columns, but the model was fitted on 4: 'a', 'b', 'c', 'd'"),
        ('a,b,c,d\n1,"2,3,4\n', "line 2: unexpected end of data"),
    ],
)
def test_bad_data_gets_a_clear_error(content, message, tmp_path, model_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    assert main(["transform", str(model_path), str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("skvae transform: error: ")
    assert message in err
    assert "Traceback" not in err


def test_a_file_that_is_not_a_model_is_refused(data, capsys):
    _, csv = data
    assert main(["sample", str(csv)]) == 1
    assert "is not a skvae model file" in capsys.readouterr().err


def test_bernoulli_fit_on_data_outside_0_1_explains(data, tmp_path, capsys):
    _, csv = data
    assert main(["fit", str(csv), "--out", str(tmp_path / "m"), "--likelihood", "bernoulli", "-q"]) == 1
    # Sweep 18: in the option's terms (was "likelihood='bernoulli' requires ...", the Python parameter).
    assert "--likelihood bernoulli requires every value of column" in capsys.readouterr().err


# ------------------------------------------------------- real CSV files


def _sklearn_csv(name):
    from importlib.resources import files

    return str(files("sklearn.datasets") / "data" / name)


@pytest.fixture
def labelled(tmp_path):
    """A CSV file with named feature columns, a label and an id, as tables come."""
    import pandas as pd

    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(40, 3)), columns=["height", "width", "depth"])
    frame.insert(0, "id", np.arange(40))
    frame["label"] = rng.integers(0, 3, 40)
    path = tmp_path / "labelled.csv"
    frame.to_csv(path, index=False)
    return frame, path


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_scikit_learns_wine_csv_fits_with_its_label_dropped(tmp_path, capsys):
    # Its first line is counts and class names, not a header of its 14 columns.
    wine = _sklearn_csv("wine_data.csv")
    assert main(["fit", wine, "--out", str(tmp_path / "m"), *FAST_FIT]) == 1
    err = capsys.readouterr().err
    assert "the header (line 1) names 5 columns but line 2 has 14 values" in err
    assert "--skip-rows 1" in err

    model_path = tmp_path / "wine.skvae"
    assert main(["fit", wine, "--skip-rows", "1", "--drop", "x13", "--out", str(model_path), *FAST_FIT]) == 0
    model = skvae.load(model_path)
    assert list(model.feature_names_in_) == [f"x{i}" for i in range(13)]
    # transform picks the 13 fitted columns and says it left the label out.
    assert main(["transform", str(model_path), wine, "--skip-rows", "1", "--out", str(tmp_path / "z.csv")]) == 0
    assert "leaving out column(s) the model was not fitted on: x13" in capsys.readouterr().err
    assert _read_output(tmp_path / "z.csv")[1].shape == (178, 2)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_names_are_kept_and_columns_chosen_by_name(labelled, tmp_path, capsys):
    frame, csv = labelled
    model_path = tmp_path / "model.skvae"
    assert main(["fit", str(csv), "--drop", "id,label", "--out", str(model_path), *FAST_FIT]) == 0
    model = skvae.load(model_path)
    assert list(model.feature_names_in_) == ["height", "width", "depth"]

    # A file with the columns in another order, and extra ones: picked by name.
    shuffled = tmp_path / "shuffled.csv"
    frame[["label", "depth", "height", "id", "width"]].to_csv(shuffled, index=False)
    latent = tmp_path / "latent.csv"
    assert main(["transform", str(model_path), str(shuffled), "--out", str(latent)]) == 0
    assert "leaving out column(s) the model was not fitted on: label, id" in capsys.readouterr().err
    _, Z = _read_output(latent)
    np.testing.assert_array_equal(Z, model.transform(_frame(csv)[["height", "width", "depth"]]))

    # Generated and decoded rows carry the training names.
    generated = tmp_path / "generated.csv"
    assert main(["sample", str(model_path), "-n", "3", "--out", str(generated)]) == 0
    assert _read_output(generated)[0] == ["height", "width", "depth"]
    decoded = tmp_path / "decoded.csv"
    assert main(["inverse", str(model_path), str(latent), "--out", str(decoded)]) == 0
    header, X_decoded = _read_output(decoded)
    assert header == ["height", "width", "depth"]
    np.testing.assert_array_equal(X_decoded, model.inverse_transform(Z))

    # --columns chooses and orders.
    assert main(["fit", str(csv), "--columns", "width,height", "--out", str(model_path), *FAST_FIT]) == 0
    assert list(skvae.load(model_path).feature_names_in_) == ["width", "height"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--drop", "label,colour"], "--drop: {name} has no column 'colour'; its columns are 'id', 'height'"),
        (["--columns", "height,size,mass"], "--columns: {name} has no column 'size', 'mass'; its columns are"),
        (["--columns", "height,height"], "--columns: column 'height' is named more than once"),
        (["--columns", "id,label", "--drop", "id,label"], "--columns and --drop both name 'id', 'label'"),
        (["--drop", "id,height,width,depth,label"], "no columns of {name} are left to use"),
    ],
)
def test_unknown_columns_are_named(argv, message, labelled, tmp_path, capsys):
    _, csv = labelled
    assert main(["fit", str(csv), *argv, "--out", str(tmp_path / "m")]) == 1
    err = capsys.readouterr().err
    assert message.format(name=csv) in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "m").exists()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_transform_names_the_fitted_columns_a_file_lacks(labelled, tmp_path, capsys):
    frame, csv = labelled
    model_path = tmp_path / "model.skvae"
    skvae.save(VAETransformer(max_iter=1, random_state=0).fit(frame[["height", "width"]]), model_path)
    partial = tmp_path / "partial.csv"
    frame[["id", "width"]].to_csv(partial, index=False)
    assert main(["score", str(model_path), str(partial)]) == 1
    assert "has no column 'height', which the model was fitted on; its columns are 'id', 'width'" in (
        capsys.readouterr().err)


@pytest.mark.parametrize("method", ["gzip", "bz2", "xz", "zip"])
@pytest.mark.parametrize("suffix", [".csv", ".data"])  # recognised by content, whatever the name
def test_compressed_files_are_read(method, suffix, labelled, tmp_path):
    frame, csv = labelled
    path = tmp_path / f"data{suffix}"
    options = {"archive_name": "data.csv"} if method == "zip" else {}
    frame.to_csv(path, index=False, compression={"method": method, **options})
    assert path.read_bytes()[:2] != b"id"
    table = read_table(str(path))
    assert list(table.frame.columns) == list(frame.columns)
    np.testing.assert_array_equal(table.frame.to_numpy(), _frame(csv).to_numpy())


def test_compressed_output_by_extension(model_path, tmp_path):
    out = tmp_path / "generated.csv.gz"
    assert main(["sample", str(model_path), "-n", "4", "--random-state", "0", "--out", str(out)]) == 0
    assert out.read_bytes()[:2] == b"\x1f\x8b"
    table = read_table(str(out))
    np.testing.assert_array_equal(table.frame.to_numpy(), skvae.load(model_path).sample(4, random_state=0))


def test_line_numbers_count_skipped_and_blank_lines(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("exported by a tool\n\na,b\n1,2\n\n3,4\n")
    table = read_table(str(path), skip_rows=1)
    assert list(table.frame.columns) == ["a", "b"]
    assert [table.where(row) for row in range(2)] == ["line 4", "line 6"]


def _strict_fit(self, X, y=None):
    """VAETransformer.fit as it was before it took text and missing cells: numbers only."""
    from sklearn.utils.validation import validate_data

    validate_data(self, X, dtype=np.float64)
    raise AssertionError("the data should have been refused")


@pytest.mark.parametrize(
    "content, message",
    [
        # Column names and 1-based file lines, whatever scikit-learn's message said.
        ("a,b,c\n1,2,3\n4,,6\n7,8,nan\n",
         "{name} has 2 missing value(s) (empty or NaN cells), the first in column 'b' at line 3; "
         "this model does not accept missing values."),
        ("a,b,kind\n1,2,3\n4,5,large\n",
         "{name}: column 'kind' holds text ('large' at line 3), and this model takes numbers only. "
         "Leave it out with --drop kind"),
        ("a,b\n1,2\n4,inf\n", "{name}: column 'b' holds an infinite value at line 3."),
    ],
)
def test_refused_cells_are_named_by_column_and_line(content, message, tmp_path, monkeypatch, capsys):
    # Whether the estimator accepts text or missing cells is its business; when
    # it refuses them, the command line says where they are in one line.
    monkeypatch.setattr(VAETransformer, "fit", _strict_fit)
    path = tmp_path / "cells.csv"
    path.write_text(content)
    assert main(["fit", str(path), "--out", str(tmp_path / "m"), "-q"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("skvae fit: error: ")
    assert message.format(name=path) in err
    assert err.count("\n") == 1
    assert "HistGradientBoosting" not in err


def test_a_multi_line_message_is_printed_on_one_line(data, monkeypatch, capsys):
    _, csv = data

    def refuse(self, X, y=None):
        raise ValueError("Input X is odd.\nAdvice that runs on\nfor lines.")

    monkeypatch.setattr(VAETransformer, "fit", refuse)
    assert main(["fit", str(csv), "--out", "m", "-q"]) == 1
    assert capsys.readouterr().err == "skvae fit: error: Input X is odd. Advice that runs on for lines.\n"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_positive_score_is_explained(data, tmp_path, capsys):
    # Millimetre-scale data in metres: densities far above 1, log-densities positive.
    X, _ = data
    small = tmp_path / "small.csv"
    np.savetxt(small, X * 1e-4, delimiter=",", header="a,b,c,d", comments="")
    assert main(["fit", str(small), "--out", str(tmp_path / "m"), *FAST_FIT]) == 0
    report = capsys.readouterr().out
    score = float(re.search(r"Training score: (-?\d+\.\d+) nats per row, the average ELBO", report).group(1))
    assert score > 0
    assert "positive because densities of continuous data can exceed 1" in report
    assert main(["score", str(tmp_path / "m"), str(small)]) == 0
    assert "positive because densities" in capsys.readouterr().out


def test_impute_fills_empty_cells_and_copies_the_rest(tmp_path, capsys):
    rng = np.random.default_rng(0)
    z = rng.normal(size=120)
    lines = ["a,b,kind,id"]
    for i, value in enumerate(z):
        a = "" if i % 7 == 3 else repr(float(value))
        b = "" if i % 5 == 1 else repr(float(2 * value))
        kind = "" if i % 11 == 2 else ("high" if value > 0 else "low")
        lines.append(f"{a},{b},{kind},{i}")
    path = tmp_path / "holes.csv"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "completed.csv"
    assert main(["impute", str(path), "--drop", "id", "--max-iter", "40", "--out", str(out), "-q"]) == 0
    import pandas as pd

    before, after = pd.read_csv(path), pd.read_csv(out)
    assert list(after.columns) == ["a", "b", "kind", "id"] and not after.isna().any().any()
    observed = before.notna()
    for column in before.columns:
        assert (after[column][observed[column]] == before[column][observed[column]]).all()
    assert set(after["kind"]) <= {"high", "low"}
    assert "Imputing" in capsys.readouterr().out



@pytest.mark.parametrize("header", [True, False])
def test_impute_draws_writes_m_numbered_copies_from_one_fit(tmp_path, capsys, header):
    """--draws M: M completed copies one after another, numbered 1..M in a first column, observed cells as read
    in every copy, fills that differ between copies, the same file for the same seed; a file without a header
    gets none."""
    import pandas as pd

    rng = np.random.default_rng(0)
    z = rng.normal(size=80)
    lines = ["a,b,kind"] if header else []
    for i, value in enumerate(z):
        a = "" if i % 7 == 3 else f"{value:.3f}"
        kind = "" if i % 11 == 2 else ("high" if value > 0 else "low")
        lines.append(f"{a},{2 * value:.3f},{kind}")
    path = tmp_path / "holes.csv"
    path.write_text("\n".join(lines) + "\n")
    options = [] if header else ["--no-header"]
    outs = []
    for run in range(2):
        out = tmp_path / f"copies{run}.csv"
        assert main(["impute", str(path), "--draws", "3", "--max-iter", "5", "--out", str(out), "-q", *options]) == 0
        outs.append(out.read_text())
    assert outs[0] == outs[1]
    before = pd.read_csv(path, header=0 if header else None, dtype=str, keep_default_na=False)
    after = pd.read_csv(tmp_path / "copies0.csv", header=0 if header else None, dtype=str, keep_default_na=False)
    if header:
        assert list(after.columns) == [".imp", "a", "b", "kind"]
    assert len(after) == 3 * len(before)
    assert list(after.iloc[:, 0]) == [str(m) for m in (1, 2, 3) for _ in range(len(before))]
    copies = [after.iloc[m * len(before):(m + 1) * len(before), 1:].reset_index(drop=True) for m in range(3)]
    holes = (before == "").to_numpy()
    for copy in copies:
        copy.columns = before.columns
        assert (copy.to_numpy()[~holes] == before.to_numpy()[~holes]).all()
        assert (copy.to_numpy()[holes] != "").all()
        assert set(copy.iloc[:, 2]) <= {"high", "low"}
    assert (copies[0].to_numpy()[holes] != copies[1].to_numpy()[holes]).any()
    refused = tmp_path / "refused.csv"
    status = main(["impute", str(path), "--draws", "0", "--out", str(refused), "-q", *options])
    assert status != 0 and not refused.exists()
    assert "--draws" in capsys.readouterr().err


@pytest.mark.parametrize("max_iter, accepted", [("auto", True), ("3", True), ("often", False), ("0", False)])
def test_impute_and_fit_take_an_epoch_count_or_auto(tmp_path, capsys, max_iter, accepted):
    path = tmp_path / "holes.csv"
    path.write_text("a,b\n" + "".join(f"{i},{'' if i % 4 == 1 else 2 * i}\n" for i in range(40)))
    out = tmp_path / "completed.csv"
    assert main(["impute", str(path), "--max-iter", max_iter, "--out", str(out), "-q"]) == (0 if accepted else 2)
    assert out.exists() == accepted
    if not accepted:
        assert "--max-iter" in capsys.readouterr().err
    # fit's default is the transformer's "auto" budget; parsing is all that is checked here.
    from skvae._cli import build_parser

    if accepted:
        parsed = build_parser().parse_args(["fit", str(path), "--max-iter", max_iter, "--out", "m.skvae"])
        assert parsed.max_iter == (max_iter if max_iter == "auto" else int(max_iter))
    else:
        with pytest.raises(SystemExit):
            build_parser().parse_args(["fit", str(path), "--max-iter", max_iter, "--out", "m.skvae"])


# ------------------------------------------------------ column kinds


def _mixed_csv(tmp_path, n_columns=14):
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"col{j}": rng.normal(size=60).round(3) for j in range(n_columns)})
    frame["year"] = rng.choice([2001, 2002, 2003], size=60)
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    return frame, path


@pytest.mark.parametrize("option, expected", [
    (["--likelihood", "year=gaussian"], "year: gaussian"),
    (["--likelihood", "year=categorical", "--likelihood", "col0=lognormal"], None),
    ([], "year: categorical"),
])
def test_fit_sets_a_kind_per_column_and_prints_every_kind(tmp_path, capsys, option, expected):
    frame, path = _mixed_csv(tmp_path)
    out_model = tmp_path / "m.skvae"
    code = main(["fit", str(path), "--out", str(out_model), *FAST_FIT, *option])
    captured = capsys.readouterr()
    if expected is None:  # lognormal needs positive values: refused in one line naming the column
        assert code != 0 and "col0" in captured.err
        return
    assert code == 0, captured.err
    assert expected in captured.out
    # Every column is named, none hidden behind "(1 more)".
    for name in frame.columns:
        assert f"{name}: " in captured.out
    assert "more)" not in captured.out


@pytest.mark.parametrize("bad", ["year=", "=gaussian", "year=nonsense", "nonsense"])
def test_a_malformed_likelihood_option_is_refused(tmp_path, capsys, bad):
    _, path = _mixed_csv(tmp_path, n_columns=2)
    assert main(["fit", str(path), "--out", str(tmp_path / "m.skvae"), "--likelihood", bad]) == 2
    assert "--likelihood" in capsys.readouterr().err
    assert not (tmp_path / "m.skvae").exists()


def test_the_commands_defaults_are_the_estimators(capsys):
    from skvae import VAEImputer

    assert main(["fit", "--help"]) == 0
    fit_help = capsys.readouterr().out
    assert f"epochs (default: {VAETransformer().max_iter})" in fit_help
    assert main(["impute", "--help"]) == 0
    assert f"epochs (default: {VAEImputer().max_iter})" in capsys.readouterr().out


# ------------------------------------------------------------ dialects


@pytest.mark.parametrize("separator, decimal_comma", [
    (",", False), (";", False), ("\t", False), ("|", False), (";", True), ("\t", True), ("|", True),
])
def test_the_separator_and_decimal_mark_are_sniffed(tmp_path, separator, decimal_comma):
    rng = np.random.default_rng(0)
    values = rng.normal(size=(30, 2)).round(3)
    colours = rng.choice(["red", "blue"], size=30)
    lines = [separator.join(["size", "weight", "colour"])]
    for (a, b), colour in zip(values, colours):
        numbers = [f"{a}", f"{b}"]
        if decimal_comma:
            numbers = [n.replace(".", ",") for n in numbers]
        lines.append(separator.join([*numbers, colour]))
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines) + "\n")
    table = read_table(str(path))
    assert list(table.frame.columns) == ["size", "weight", "colour"]
    np.testing.assert_array_equal(table.frame[["size", "weight"]].to_numpy(), values)


def test_duplicate_header_names_are_refused(tmp_path, capsys):
    path = tmp_path / "dup.csv"
    path.write_text("a,b,a\n1,2,3\n4,5,6\n")
    assert main(["fit", str(path), "--out", str(tmp_path / "m.skvae"), *FAST_FIT]) == 1
    assert "'a' more than once" in capsys.readouterr().err


def test_impute_writes_observed_cells_as_read_and_whole_fills_for_whole_columns(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 80
    count = rng.integers(0, 40, size=n)
    price = (rng.normal(10, 2, size=n)).round(2)
    colour = rng.choice(["red", "blue"], size=n)
    lines = ["count,price,colour,id"]
    for i in range(n):
        c = "" if i % 9 == 0 else str(count[i])
        p = "" if i % 7 == 0 else f"{price[i]:.2f}"  # trailing zeros kept in the file: 9.50
        lines.append(f"{c},{p},{colour[i]},{i:04d}")
    source = tmp_path / "holes.csv"
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "filled.csv"
    assert main(["impute", str(source), "--drop", "id", "--max-iter", "3", "--out", str(out), "-q"]) == 0, \
        capsys.readouterr().err
    written = out.read_text().splitlines()
    assert written[0] == lines[0]
    for before, after in zip(lines[1:], written[1:]):
        b, a = before.split(","), after.split(",")
        for cell_before, cell_after in zip(b, a):
            if cell_before:
                assert cell_after == cell_before  # exactly as read: no 1 -> 1.0, no 9.50 -> 9.5, id keeps 0007
        assert a[0] and float(a[0]).is_integer() and "." not in a[0]  # whole fills of a whole column
        assert a[1] and len(a[1].split(".")[-1]) <= 2


@pytest.mark.parametrize("position", [0, 17, 38])
@pytest.mark.parametrize("bad", ["oops", "12..5", "n/a?"])
def test_a_stray_text_cell_in_a_numeric_column_is_refused_with_file_column_line_and_value(tmp_path, capsys,
                                                                                         position, bad):
    values = [f"{v:.2f}" for v in np.random.default_rng(position).normal(size=40)]
    values[position] = bad
    path = tmp_path / "stray.csv"
    path.write_text("a,b\n" + "\n".join(f"{v},{i}" for i, v in enumerate(values)) + "\n")
    assert main(["fit", str(path), "--out", str(tmp_path / "m.skvae"), *FAST_FIT]) == 1
    err = capsys.readouterr().err
    assert f"column 'a', line {position + 2}: '{bad}' is not a number" in err and "stray.csv" in err


@pytest.mark.parametrize("command", ["transform", "score"])
@pytest.mark.parametrize("bad, expected", [
    ("oops", "holds 'oops' in line {line}"),
    ("purple", "line {line}: Column 'colour' holds categories not seen during fit: ['purple']"),
])
def test_transform_and_score_name_the_file_line_and_value(tmp_path, capsys, command, bad, expected):
    rng = np.random.default_rng(0)
    rows = [f"{v:.3f},{c}" for v, c in zip(rng.normal(size=40), rng.choice(["red", "blue"], size=40))]
    train = tmp_path / "train.csv"
    train.write_text("size,colour\n" + "\n".join(rows) + "\n")
    model = tmp_path / "m.skvae"
    assert main(["fit", str(train), "--out", str(model), *FAST_FIT]) == 0
    capsys.readouterr()
    broken = list(rows[:8])  # under ten numbers: the model, not the reader, refuses the cell
    position = 5
    size, colour = broken[position].split(",")
    broken[position] = f"{bad},{colour}" if bad == "oops" else f"{size},{bad}"
    new = tmp_path / "new.csv"
    new.write_text("size,colour\n" + "\n".join(broken) + "\n")
    assert main([command, str(model), str(new), "--out", str(tmp_path / "out.csv")]) == 1
    err = capsys.readouterr().err
    assert "new.csv" in err and expected.format(line=position + 2) in err and err.count("\n") == 1


def test_quoted_decimal_commas_in_a_comma_file_are_numbers(tmp_path):
    values = np.random.default_rng(0).normal(size=20).round(2)
    path = tmp_path / "quoted.csv"
    path.write_text("a,b\n" + "\n".join(f'"{str(v).replace(".", ",")}",{i}' for i, v in enumerate(values)) + "\n")
    frame = read_table(str(path)).frame
    assert frame["a"].dtype == np.float64
    np.testing.assert_array_equal(frame["a"].to_numpy(), values)


@pytest.mark.parametrize("face", ["VAEImputer", "VAEOutlierDetector"])
def test_a_saved_imputer_or_detector_is_refused_by_the_vae_commands(face, data, tmp_path, capsys):
    """skvae.save writes every face; the commands that encode, decode and score need a VAETransformer."""
    X, csv = data
    model = getattr(skvae, face)(latent_dim=2, max_iter=2, hidden_layer_sizes=(8,), random_state=0).fit(X)
    path = tmp_path / "face.skvae"
    skvae.save(model, path)
    for argv in (["transform", str(path), str(csv)], ["sample", str(path)], ["score", str(path), str(csv)],
                 ["inverse", str(path), str(csv)]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert f"holds a {face}, but 'skvae {argv[0]}' needs a VAETransformer model" in err, err


def test_floats_read_back_to_the_same_bits(tmp_path):
    # pandas 2 and 3.0's default parser is one bit off for most 17-digit numbers.
    values = np.random.default_rng(1).normal(size=(500, 3)) / 7
    path = tmp_path / "exact.csv"
    write_table(str(path), values, ["a", "b", "c"])
    np.testing.assert_array_equal(read_table(str(path)).frame.to_numpy(), values)
