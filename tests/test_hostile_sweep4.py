"""Hostile input, fourth sweep: other libraries' dataframes, the index of returned tables, CLI files and options.

Each family failed once (see the commit that added its tests): the tests pin
the mechanism, not the example, so each runs over the faces, formats or
shapes the mechanism serves.
"""

import bz2
import gzip
import io
import lzma
import zipfile

import numpy as np
import pandas as pd
import pytest

from skvae import VAEImputer, VAEOutlierDetector, VAETransformer
from skvae._cli import main

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(latent_dim=2, hidden_layer_sizes=(4,), max_iter=2, batch_size=16, random_state=0)
FACES = [VAETransformer, VAEImputer, VAEOutlierDetector]
N = 30
FAST_FIT = ["--latent-dim", "2", "--max-iter", "2", "--hidden-layer-sizes", "4", "--batch-size", "16", "-q"]


def _table(seed=0, holes=False):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "x": rng.normal(size=N),
        "n": rng.integers(0, 100, N),
        "c": rng.choice(["p", "q", "r"], N),
        "f": rng.choice([True, False], N),
    })
    if holes:
        frame.loc[[1, 4], "x"] = np.nan
        frame.loc[[2], "c"] = None
    return frame


def _reading(model):
    """The method that reads X with a fitted face: the detector's decision_function, the others' transform."""
    return model.decision_function if isinstance(model, VAEOutlierDetector) else model.transform


def _answer(model, X):
    """What a fitted face gives for X: compared before and after a refused call."""
    return _reading(model)(X)


def _assert_refused_and_unchanged(model, X, bad, error, message):
    """Reading `bad` with the fitted `model` raises `error` matching `message`; its answer for X is as before."""
    before = _answer(model, X)
    with pytest.raises(error, match=message):
        _reading(model)(bad)
    _assert_same(_answer(model, X), before)


def _assert_same(answer, expected):
    if isinstance(expected, pd.DataFrame):
        # Text columns may come back as str or object, as each library's conversion types them.
        pd.testing.assert_frame_equal(answer, expected, check_dtype=False, rtol=1e-6)
    else:
        np.testing.assert_allclose(answer, expected, rtol=1e-6)


# ---------------------------------------------------------------- other libraries' dataframes


def _arrow(frame, preserve_index=False):
    """`frame` as a pyarrow Table (the test is skipped where pyarrow is not installed)."""
    pyarrow = pytest.importorskip("pyarrow")
    return pyarrow.Table.from_pandas(frame, preserve_index=preserve_index)


class InterchangeOnly:
    """A dataframe with nothing but the interchange protocol (``__dataframe__``) of a pandas frame."""

    def __init__(self, frame):
        self._frame = frame

    def __dataframe__(self, nan_as_null=False, allow_copy=True):
        return self._frame.__dataframe__(nan_as_null=nan_as_null, allow_copy=allow_copy)


class ArrowStreamOnly:
    """A table with nothing but the Arrow PyCapsule stream (``__arrow_c_stream__``), as duckdb or nanoarrow give."""

    def __init__(self, table):
        self._table = table

    def __arrow_c_stream__(self, requested_schema=None):
        return self._table.__arrow_c_stream__(requested_schema)


class FailingFrame:
    """A dataframe-like whose conversion raises, as another library's may (a missing optional dependency)."""

    columns = ["x", "n", "c", "f"]
    shape = (N, 4)

    def to_pandas(self):
        raise ImportError("pyarrow is required for to_pandas")


def _converters():
    converters = [pytest.param(InterchangeOnly, id="interchange-protocol")]
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return converters
    return converters + [pytest.param(_arrow, id="pyarrow-table"),
                         pytest.param(lambda frame: _arrow(frame).to_batches()[0], id="pyarrow-record-batch"),
                         pytest.param(lambda frame: ArrowStreamOnly(_arrow(frame)), id="arrow-stream")]


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("convert", _converters())
def test_another_librarys_dataframe_is_read_as_the_pandas_dataframe_it_converts_to(face, convert):
    # A pyarrow Table went to scikit-learn's np.asarray: its text column was refused as "an array
    # must hold numbers", and the names it kept were whatever scikit-learn found.
    X = _table(holes=face is VAEImputer)
    from_pandas = face(**TINY).fit(X)
    model = face(**TINY).fit(convert(X))
    assert list(model.feature_names_in_) == list(X.columns)
    vae, vae_pandas = (getattr(m, "vae_", m) for m in (model, from_pandas))
    assert vae.column_kinds_ == vae_pandas.column_kinds_
    assert vae.column_kinds_["c"] == vae.column_kinds_["f"] == "categorical"  # text and booleans, as in pandas
    _assert_same(_answer(model, convert(X)), _answer(from_pandas, X))


def test_an_imputed_arrow_table_comes_back_as_a_pandas_dataframe_with_its_stored_index():
    X = _table(holes=True).set_axis([f"r{i}" for i in range(N)])
    imputer = VAEImputer(**TINY).fit(X)
    out = imputer.transform(_arrow(X, preserve_index=True))
    assert isinstance(out, pd.DataFrame)
    assert list(out.index) == list(X.index) and list(out.columns) == list(X.columns)
    assert not out.isna().any().any()
    pd.testing.assert_frame_equal(out, imputer.transform(X), check_dtype=False)


def test_outlier_cells_of_an_arrow_table_are_a_dataframe_of_its_columns():
    X = _table()
    detector = VAEOutlierDetector(**TINY).fit(X)
    cells = detector.score_columns(_arrow(X))
    assert isinstance(cells, pd.DataFrame) and list(cells.columns) == list(X.columns)
    np.testing.assert_allclose(cells.to_numpy(), detector.score_columns(X).to_numpy(), rtol=1e-6)


@pytest.mark.parametrize("convert", _converters())
def test_conditions_given_as_another_librarys_dataframe_are_read_as_pandas(convert):
    X = _table()
    vae = VAETransformer(**TINY).fit(X)
    given = pd.DataFrame({"c": ["p", "r", "q"]})
    drawn = vae.sample(given=convert(given), random_state=0)
    pd.testing.assert_frame_equal(drawn, vae.sample(given=given, random_state=0))
    assert drawn["c"].tolist() == ["p", "r", "q"]


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("change, error, message", [
    (lambda X: FailingFrame(), TypeError, r"X is a .*FailingFrame.*converting it failed \(ImportError: pyarrow is"),
    (lambda X: _arrow(X).append_column("x", _arrow(X).column("x")), ValueError, r"duplicated column names \['x'\]"),
    (lambda X: _arrow(X[["n", "x", "c", "f"]]), ValueError, r"same order.*\['n', 'x'\] are out of place"),
], ids=["conversion-fails", "duplicated-names", "reordered"])
def test_a_refused_dataframe_of_another_library_names_the_problem_and_changes_nothing(face, change, error, message):
    pytest.importorskip("pyarrow")
    X = _table()
    _assert_refused_and_unchanged(face(**TINY).fit(X), X, change(X), error, message)


def test_a_one_column_array_of_another_library_is_not_taken_for_a_table():
    pyarrow = pytest.importorskip("pyarrow")
    vae = VAETransformer(**TINY).fit(_table()[["x"]].to_numpy())
    with pytest.raises(ValueError, match="2D array"):
        vae.transform(pyarrow.chunked_array([[0.5, 1.5]]))
    with pytest.raises(TypeError, match="ArrowStreamOnly, an Arrow stream that is not a table"):
        vae.transform(ArrowStreamOnly(pyarrow.chunked_array([[0.5, 1.5]])))


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("change, message", [
    (lambda X: X.to_dict(orient="list"), r"X is a dict \(of columns\?\), not a table: pass pandas.DataFrame\(X\)"),
    (lambda X: X.to_dict(orient="records"), r"X is a list of dicts \(records\?\), not a table"),
], ids=["dict-of-columns", "records"])
def test_a_dict_of_columns_or_a_list_of_records_is_refused_naming_the_fix(face, change, message):
    # NumPy made an object array of the dicts: "float() argument must be ... not 'dict'".
    X = _table()
    _assert_refused_and_unchanged(face(**TINY).fit(X), X, change(X), TypeError, message)
    with pytest.raises(TypeError, match=message):
        face(**TINY).fit(change(X))


# ---------------------------------------------------------------- the index of returned tables


@pytest.mark.parametrize("index", [
    pd.Index([f"r{i}" for i in range(N)]),
    pd.Index([7] * N),
    pd.MultiIndex.from_arrays([np.arange(N) // 2, np.arange(N) % 2]),
], ids=["labels", "duplicated", "multi"])
def test_inverse_transform_keeps_the_index_of_a_dataframe_of_codes(index):
    # inverse_transform went through check_array, which dropped the index: the decoded rows
    # came back numbered 0..n-1 even where transform (set_output="pandas") had kept X's.
    X = _table().set_axis(index)
    vae = VAETransformer(**TINY).set_output(transform="pandas").fit(X)
    codes = vae.transform(X)
    assert codes.index.equals(X.index)
    decoded = vae.inverse_transform(codes)
    assert decoded.index.equals(X.index)
    reversed_codes = codes.iloc[::-1]
    np.testing.assert_array_equal(vae.inverse_transform(reversed_codes).index, X.index[::-1])
    # The values are those of the same codes as an array.
    pd.testing.assert_frame_equal(decoded.reset_index(drop=True), vae.inverse_transform(codes.to_numpy()))


def test_inverse_transform_of_an_array_keeps_its_form():
    X = _table()
    vae = VAETransformer(**TINY).fit(X)
    Z = vae.transform(X)
    assert list(vae.inverse_transform(Z).index) == list(range(N))
    array_vae = VAETransformer(**TINY).fit(X[["x", "n"]].to_numpy(dtype=float))
    decoded = array_vae.inverse_transform(pd.DataFrame(array_vae.transform(X[["x", "n"]].to_numpy(dtype=float)),
                                                       index=np.arange(N) + 100))
    assert isinstance(decoded, np.ndarray)


@pytest.mark.parametrize("index", [pd.Index([f"r{i}" for i in range(N)]), pd.Index([3] * N)],
                         ids=["labels", "duplicated"])
def test_every_method_returning_a_table_keeps_the_index_of_its_input(index):
    X = _table(holes=True).set_axis(index)
    imputer = VAEImputer(**TINY, add_indicator=True).fit(X)
    assert imputer.transform(X).index.equals(X.index)
    assert all(copy.index.equals(X.index) for copy in imputer.multiple_imputations(X, n_imputations=2))
    assert VAEImputer(**TINY).fit_transform(X).index.equals(X.index)
    given = X[["c"]].dropna().iloc[:4]
    assert imputer.vae_.sample(given=given, random_state=0).index.equals(given.index)
    detector = VAEOutlierDetector(**TINY).fit(X.dropna())
    assert detector.score_columns(X.dropna()).index.equals(X.dropna().index)


# ---------------------------------------------------------------- the command line: --columns and --drop


def _write(path, frame):
    frame.to_csv(path, index=False)
    return str(path)


def _one_error_line(err, prefix):
    """The command's error: one line, naming the command, no traceback."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"skvae {prefix}: error: ") and "Traceback" not in err
    return lines[0]


@pytest.fixture
def comma_names(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"id": np.arange(N), "height, cm": rng.normal(170, 10, N).round(1),
                          'say "hi"': rng.normal(size=N).round(3), "mass": rng.normal(70, 5, N).round(1)})
    return frame, _write(tmp_path / "commas.csv", frame)


@pytest.mark.parametrize("options, expected", [
    (["--columns", '"height, cm",mass'], ["height, cm", "mass"]),
    (["--columns", ' "height, cm" , "say ""hi""" '], ["height, cm", 'say "hi"']),
    (["--columns", "mass", "--columns", '"height, cm"'], ["mass", "height, cm"]),
    (["--drop", 'id,"height, cm"'], ['say "hi"', "mass"]),
    (["--drop", "id", "--drop", '"say ""hi"""'], ["height, cm", "mass"]),
], ids=["quoted", "quote-in-name", "repeated", "drop-quoted", "drop-repeated"])
def test_column_names_holding_commas_are_given_quoted_as_in_a_csv_header(comma_names, tmp_path, options, expected):
    # --columns split its value on every comma: a name holding one could not be chosen at all.
    import skvae

    _, path = comma_names
    model = tmp_path / "m.skvae"
    assert main(["fit", path, *options, "--out", str(model), *FAST_FIT], stdout=io.StringIO()) == 0
    assert list(skvae.load(str(model)).feature_names_in_) == expected


@pytest.mark.parametrize("value, message", [
    ('mass,"height, cm', "cannot read the column names"),
    ("mass,,id", "expected comma-separated column names"),
    ('""', "expected comma-separated column names"),
])
def test_malformed_column_names_are_a_usage_error_naming_the_value(comma_names, tmp_path, value, message):
    _, path = comma_names
    err = io.StringIO()
    assert main(["fit", path, "--columns", value, "--out", str(tmp_path / "m.skvae"), *FAST_FIT],
                stdout=io.StringIO(), stderr=err) == 2
    assert message in err.getvalue() and repr(value) in err.getvalue()
    assert not (tmp_path / "m.skvae").exists()


def test_impute_takes_quoted_column_names_too(comma_names, tmp_path):
    frame, _ = comma_names
    frame = frame.copy()
    frame.loc[[3, 7], "height, cm"] = np.nan
    path = _write(tmp_path / "holes.csv", frame)
    out = tmp_path / "done.csv"
    assert main(["impute", path, "--columns", '"height, cm",mass', "--out", str(out), "--max-iter", "2", "-q"],
                stdout=io.StringIO(), stderr=io.StringIO()) == 0
    done = pd.read_csv(out)
    assert list(done.columns) == list(frame.columns) and not done["height, cm"].isna().any()


# ---------------------------------------------------------------- the command line: report lines of wide tables


@pytest.mark.parametrize("n_columns", [25, 300])
def test_reports_of_a_wide_table_stay_readable_and_count_what_they_leave_out(tmp_path, n_columns):
    # 'fit' printed every column and every column's kind on one line each: thousands of characters.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"feature_{j:03d}": rng.normal(size=N).round(3) for j in range(n_columns)})
    frame["label"] = rng.choice(["a", "b"], N)
    path = _write(tmp_path / "wide.csv", frame)
    out = io.StringIO()
    assert main(["fit", path, "--out", str(tmp_path / "m.skvae"), *FAST_FIT], stdout=out) == 0
    report = out.getvalue()
    assert max(len(line) for line in report.splitlines()) <= 200, report
    assert f"({n_columns + 1 - 9} more)" in report  # the Fitting line: 8 first names and the last
    assert "feature_000" in report and "label" in report
    # The kinds, one line per kind with its count: the counts add up to the table's width.
    kinds = [line for line in report.splitlines() if line.startswith("  ") and "): " in line]
    counts = [int(line.split("(")[1].split(")")[0]) for line in kinds]
    assert sum(counts) == n_columns + 1 and any(line.startswith("  categorical (1): label") for line in kinds)


def test_a_narrow_table_with_long_names_is_reported_in_full_on_wrapped_lines(tmp_path):
    rng = np.random.default_rng(0)
    names = [f"a_rather_long_measurement_name_{j}" for j in range(12)]
    frame = pd.DataFrame({name: rng.normal(size=N).round(3) for name in names})
    path = _write(tmp_path / "long.csv", frame)
    out = io.StringIO()
    assert main(["fit", path, "--out", str(tmp_path / "m.skvae"), *FAST_FIT], stdout=out) == 0
    report = out.getvalue()
    assert max(len(line) for line in report.splitlines()) <= 200, report
    assert "more)" not in report
    for name in names:  # every name, and its kind, whole on one line
        assert any(f"{name}: " in line for line in report.splitlines())
        assert sum(report.count(f"{name}{end}") for end in (",", "\n", ": ")) >= 2


# ---------------------------------------------------------------- the command line: files


def _compressed(method, data):
    if method == "gzip":
        return gzip.compress(data)
    if method == "bz2":
        return bz2.compress(data)
    if method == "xz":
        return lzma.compress(data)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.csv", data)
    return buffer.getvalue()


CSV_BYTES = b"a,b\n" + b"".join(b"%d,%d\n" % (i, (7 * i) % 13) for i in range(3000))
SUFFIX = {"gzip": ".csv.gz", "bz2": ".csv.bz2", "xz": ".csv.xz", "zip": ".zip"}


def _damaged(data, start=None):
    data = bytearray(data)
    start = len(data) // 2 if start is None else start
    data[start:start + 40] = bytes((b ^ 0x5A) for b in data[start:start + 40])
    return bytes(data)


@pytest.mark.parametrize("method", ["gzip", "bz2", "xz", "zip"])
@pytest.mark.parametrize("content, message", [
    (lambda method: CSV_BYTES, "is named as a {method} file but is not {method}-compressed"),
    (lambda method: b"\x00" * 64, "is named as a {method} file but is not {method}-compressed"),
    (lambda method: bytes(range(200, 256)) * 3, "is named as a {method} file but is not {method}-compressed"),
    (lambda method: b"", "is empty"),
    (lambda method: _compressed(method, CSV_BYTES)[: len(_compressed(method, CSV_BYTES)) // 2],
     "cannot decompress {path} ({method}): the file is"),
    (lambda method: _damaged(_compressed(method, CSV_BYTES)), "cannot decompress {path} ({method}): the file is"),
], ids=["plain-text", "zeros", "binary", "empty", "truncated", "damaged"])
@pytest.mark.parametrize("command", ["fit", "score"])
def test_a_compressed_file_that_is_not_what_its_name_says_is_one_clear_error(tmp_path, method, content, message,
                                                                            command):
    # A truncated or damaged deflate stream leaked zlib.error's traceback; a file named .gz that was no
    # gzip was read as text (NUL bytes made a header line without rows).
    import skvae

    model = tmp_path / "m.skvae"
    skvae.save(VAETransformer(**TINY).fit(pd.DataFrame({"a": np.arange(N) * 1.0, "b": np.arange(N) % 7 * 1.0})),
               str(model))
    path = tmp_path / f"data{SUFFIX[method]}"
    path.write_bytes(content(method))
    argv = (["fit", str(path), "--out", str(tmp_path / "new.skvae"), *FAST_FIT] if command == "fit"
            else ["score", str(model), str(path)])
    err = io.StringIO()
    assert main(argv, stdout=io.StringIO(), stderr=err) == 1
    line = _one_error_line(err.getvalue(), command)
    assert str(path) in line and message.format(method=method, path=path) in line
    assert not (tmp_path / "new.skvae").exists()


@pytest.mark.parametrize("method", ["gzip", "bz2", "xz", "zip"])
def test_a_whole_compressed_file_is_still_read_whatever_its_name(tmp_path, method):
    from skvae._csv import read_table

    for name in (f"data{SUFFIX[method]}", "data.csv"):
        path = tmp_path / name
        path.write_bytes(_compressed(method, CSV_BYTES))
        table = read_table(str(path))
        assert list(table.frame.columns) == ["a", "b"] and len(table.frame) == 3000


@pytest.mark.parametrize("data, message", [
    ("a,b\n1,2\n".encode("utf-16"), "is UTF-16 text"),
    (b"a,b\n1,\x002\n3,4\n", "holds NUL bytes"),
    (b"", "is empty"),
    (b"\xef\xbb\xbf", "is empty"),
    (b"\r\n\r\n  \r\n", "is empty"),
    (b"\xef\xbb\xbfa,b\r\n", "has a header line but no rows of data"),
    (b"a,b,a\r\n1,2,3\r\n4,5,6\r\n", "names the column(s) 'a' more than once"),
    (b"a,b\n\xff\xfe1,2\n", "is not UTF-8 text"),
], ids=["utf-16", "nul", "empty", "bom-only", "blank-crlf", "header-only", "duplicate-names", "latin-1"])
def test_a_file_that_is_no_csv_text_is_one_clear_error_naming_it(tmp_path, data, message):
    path = tmp_path / "odd.csv"
    path.write_bytes(data)
    err = io.StringIO()
    assert main(["fit", str(path), "--out", str(tmp_path / "m.skvae"), *FAST_FIT],
                stdout=io.StringIO(), stderr=err) == 1
    line = _one_error_line(err.getvalue(), "fit")
    assert str(path) in line and message in line


@pytest.mark.parametrize("data", [
    b"\xef\xbb\xbfa,b\r\n1,2\r\n3,4\r\n",
    b"\xef\xbb\xbf\xef\xbb\xbfa,b\n1,2\n3,4\n",  # twice, as after two spreadsheet programs
    b'\xef\xbb\xbf"a","b"\r1,2\r3,4\r',  # old Mac line ends
    b"a,b\r\n1,2\r\n\r\n3,4",  # a blank line, no line end at the end
])
def test_byte_order_marks_and_line_ends_leave_names_and_values_as_written(tmp_path, data):
    from skvae._csv import read_table

    path = tmp_path / "marks.csv"
    path.write_bytes(data)
    table = read_table(str(path))
    assert list(table.frame.columns) == ["a", "b"]  # no "\ufeffa": --columns a finds it
    assert table.frame.to_numpy().tolist() == [[1, 2], [3, 4]]


# ---------------------------------------------------------------- an empty string: a category, or a missing cell


@pytest.mark.parametrize("dtype", [object, "string", "category"])
def test_an_empty_string_is_a_category_at_fit_and_at_transform_alike(dtype):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=N), "c": rng.choice(["p", "", "q"], N)}).astype({"c": dtype})
    vae = VAETransformer(**TINY).fit(X)
    assert "" in vae._schema.columns[1]["categories"]
    row = X.iloc[:1].copy()
    with_empty = row.assign(c=pd.Series([""], index=row.index, dtype=X["c"].dtype))
    with_missing = row.assign(c=pd.Series([None], index=row.index, dtype=X["c"].dtype))
    # Read as missing, the cell would drop out of the score (a row scores its observed cells only).
    assert vae.score_samples(with_empty)[0] != vae.score_samples(with_missing)[0]
    # The imputer leaves it as it is: it is observed, not a hole.
    imputer = VAEImputer(**TINY).fit(X)
    assert imputer.transform(X)["c"].tolist() == X["c"].tolist()


def test_an_empty_string_not_seen_at_fit_is_an_unknown_category_not_a_missing_cell():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=N), "c": rng.choice(["p", "q"], N)})
    vae = VAETransformer(**TINY).fit(X)
    with pytest.raises(ValueError, match=r"Column 'c' holds categories not seen during fit: \[''\]"):
        vae.transform(X.assign(c=[""] + X["c"].tolist()[1:]))


def test_an_empty_cell_of_a_csv_file_is_missing_at_fit_and_at_every_later_command(tmp_path):
    import skvae
    from skvae._csv import read_table

    rng = np.random.default_rng(0)
    lines = ["x,c"] + [f"{value:.3f},{rng.choice(['p', 'q'])}" for value in rng.normal(size=N)]
    lines[3] = lines[3].split(",")[0] + ","        # empty
    lines[5] = lines[5].split(",")[0] + ',""'      # quoted empty
    path = tmp_path / "holes.csv"
    path.write_text("\n".join(lines) + "\n")
    table = read_table(str(path))
    assert table.frame["c"].isna().tolist()[:6] == [False, False, True, False, True, False]
    model = tmp_path / "m.skvae"
    assert main(["fit", str(path), "--out", str(model), *FAST_FIT], stdout=io.StringIO()) == 0
    vae = skvae.load(str(model))
    assert vae._schema.columns[1]["categories"] == ["p", "q"]  # no "" category
    scores = tmp_path / "scores.csv"
    assert main(["score", str(model), str(path), "--out", str(scores)], stdout=io.StringIO()) == 0
    np.testing.assert_allclose(pd.read_csv(scores)["score"], vae.score_samples(table.frame), rtol=1e-12)


def test_a_sparse_dok_array_is_not_taken_for_a_dict_of_columns():
    # scipy's dok_array is a dict subclass: it keeps the message about sparse input.
    sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match="Sparse data was passed"):
        VAETransformer(**TINY).fit(sparse.dok_array(np.eye(4)))
