"""Codes written with leading zeros, and numbers with a decimal comma after thousands points, on the command line.

A column of digit strings, one at least with a leading zero (zip codes
``02134``), was read by pandas as integers: every file a command wrote lost
the zeros (``sample`` wrote ``2134``) and the codes were modelled as
magnitudes. Such a column is now text (see ``skvae._csv._codes_as_text``),
fitted as categories unless ``--likelihood COLUMN=KIND`` names a kind of
numbers, and a fitted model reads the column as it saw it (numbers for a
model that fitted numbers, text codes for one that fitted codes).
"""

import io

import numpy as np
import pandas as pd
import pytest

from _cli_run import run_cli as _run
from skvae._csv import CommandError, read_table


@pytest.fixture
def zips(tmp_path):
    rng = np.random.default_rng(0)
    n = 120
    frame = pd.DataFrame({
        "zip": rng.choice(["02134", "02139", "10001", "00501"], n),
        "amount": np.round(rng.normal(50, 10, n), 2),
    })
    path = tmp_path / "zips.csv"
    frame.to_csv(path, index=False)
    return path


def test_digits_with_leading_zeros_are_read_as_text(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("zip,n,month,x\n02134,0,01,0.5\n10001,12,12,1.5\n,3,,2.0\n00501,4,03,0.25\n")
    table = read_table(str(path))
    assert table.codes == ["zip", "month"]
    assert table.frame["zip"].tolist()[:2] == ["02134", "10001"]
    assert table.frame["zip"].isna().tolist() == [False, False, True, False]
    assert table.frame["month"].tolist()[:2] == ["01", "12"]
    # A lone 0 is no leading zero; decimals are numbers.
    assert pd.api.types.is_integer_dtype(table.frame["n"].dtype)
    assert pd.api.types.is_float_dtype(table.frame["x"].dtype)


@pytest.mark.parametrize("cells", [["-05", "12", "3"], ["05.5", "12", "3"], ["0", "12", "3"], ["5", "12", "3"]])
def test_signed_decimal_or_unpadded_numbers_stay_numbers(tmp_path, cells):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n" + "".join(f"{cell},1\n" for cell in cells))
    table = read_table(str(path))
    assert table.codes == []
    assert pd.api.types.is_numeric_dtype(table.frame["a"].dtype)


def test_file_without_header_keeps_codes(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("02134,1.5\n10001,2.5\n")
    table = read_table(str(path), header="no")
    assert table.codes == ["x0"]
    assert table.frame["x0"].tolist() == ["02134", "10001"]


def test_sample_writes_the_codes_with_their_zeros(zips, tmp_path):
    model = tmp_path / "m.skvae"
    status, out, err = _run(["fit", zips, "--out", model, "--max-iter", 2, "--random-state", 0])
    assert status == 0, err
    assert "'zip' (0" in err and "--likelihood COLUMN=gaussian" in err
    assert "zip: categorical" in out
    status, out, err = _run(["sample", model, "-n", 200, "--random-state", 0])
    assert status == 0, err
    written = pd.read_csv(io.StringIO(out), dtype=str)["zip"]
    assert set(written) <= {"02134", "02139", "10001", "00501"}
    assert written.str.startswith("0").any()


def test_likelihood_option_models_codes_as_numbers(zips, tmp_path):
    model = tmp_path / "m.skvae"
    status, out, err = _run(["fit", zips, "--out", model, "--max-iter", 2, "--likelihood", "zip=gaussian"])
    assert status == 0, err
    assert "zip: gaussian" in out
    assert "leading zeros" not in err
    # The model fitted numbers: a file of the same codes is read as numbers for it, in every command.
    status, out, err = _run(["score", model, zips])
    assert status == 0, err
    status, out, err = _run(["transform", model, zips])
    assert status == 0, err
    assert len(pd.read_csv(io.StringIO(out))) == 120


def test_model_of_codes_reads_a_file_whose_codes_have_no_zero(zips, tmp_path):
    model = tmp_path / "m.skvae"
    assert _run(["fit", zips, "--out", model, "--max-iter", 2, "--random-state", 0])[0] == 0
    other = tmp_path / "other.csv"
    other.write_text("zip,amount\n10001,50.5\n10001,48.0\n,51.0\n")  # pandas reads 10001 as an integer
    status, _, err = _run(["score", model, other])
    assert status == 0, err
    status, out, err = _run(["transform", model, other])
    assert status == 0, err
    # Digits the model never saw as a code are still refused as unknown categories, naming them.
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("zip,amount\n99999,50.5\n")
    status, out, err = _run(["transform", model, unknown])
    assert status == 1
    assert "99999" in err


def test_impute_fills_codes_with_seen_codes(tmp_path):
    path = tmp_path / "holes.csv"
    rows = ["zip,amount"] + [f"{['02134', '10001'][i % 2]},{i % 7 + 0.5}" for i in range(30)]
    rows[3] = ",3.5"
    rows[8] = "02134,"
    path.write_text("\n".join(rows) + "\n")
    status, out, err = _run(["impute", path, "--max-iter", 2, "--random-state", 0])
    assert status == 0, err
    written = pd.read_csv(io.StringIO(out), dtype=str)
    assert written["zip"].notna().all()
    assert set(written["zip"]) <= {"02134", "10001"}


def test_thousands_points_with_a_decimal_comma_in_a_semicolon_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a;b\n" + "".join(f"1.{i:03d},5;{i}\n" for i in range(12)))
    table = read_table(str(path))
    assert table.decimal == ","
    np.testing.assert_array_equal(table.frame["a"].to_numpy(), 1000.5 + np.arange(12))


@pytest.mark.parametrize("write", [
    lambda i: f'"{i},5"',  # quoted decimal commas in a comma file
    lambda i: f'"1,{i:03d}.5"',  # thousands commas, quoted
])
def test_a_stray_word_among_written_numbers_is_refused(tmp_path, write):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n" + "".join(f"{write(i)},{i}\n" for i in range(20)) + "oops,3\n")
    with pytest.raises(CommandError, match=r"column 'a', line 22: 'oops' is not a number, in a column of 20"):
        read_table(str(path))


def test_a_long_stray_cell_is_quoted_short(tmp_path):
    # Hostile sweep 18 left it: a stray cell of 100,000 characters made an error line of 100 KB.
    path = tmp_path / "t.csv"
    path.write_text("a,b\n" + "".join(f"{i}.5,{i}\n" for i in range(20)) + "x" * 100_000 + ",3\n")
    with pytest.raises(CommandError, match=r"line 22: 'xxx+\.\.\.x' is not a number") as caught:
        read_table(str(path))
    assert len(str(caught.value)) < 400


@pytest.mark.parametrize("command", ["fit", "impute"])
def test_codes_beside_a_signed_cell_are_numbers_and_the_command_says_so(tmp_path, command):
    # -1 among zip codes: the column stays numbers (a signed cell is a number, decided in sweep 19), the zeros
    # are lost, and the command names the column, the odd cell and how to read it as codes if it marks a hole.
    data = tmp_path / "d.csv"
    data.write_text("zip,v\n" + "".join(f"{z},{i}.5\n" for i, z in enumerate(["02134", "10001", "-1", "02139"] * 6)))
    table = read_table(str(data))
    assert table.padded_numbers == {"zip": ("02134", "-1")} and not table.codes
    assert pd.api.types.is_numeric_dtype(table.frame["zip"])
    out = tmp_path / ("m.skvae" if command == "fit" else "filled.csv")
    status, _, err = _run([command, data, "--out", out, "--max-iter", 2, "--random-state", 0])
    assert status == 0, err
    assert f"skvae {command}: note: read column 'zip' as numbers, losing the leading zeros of cells such as " \
           "'02134', because it also holds '-1'." in err
    assert "give --missing-values -1 to read the column as text codes" in err
    again = read_table(str(data), missing_values=["-1"])
    assert again.codes == ["zip"] and not again.padded_numbers
