"""Hostile input, ninth sweep: unusual Python cells, look-alike labels and names, typeset numbers, encodings.

Swept and found sound: int8 and uint8 columns sampled and decoded far
beyond their range (clipped to the type, never wrapped); float16 arrays
(fit, transform, imputed in float16); a column of one value 2**53 + 1 (int64
and Int64 with a missing cell, imputed exactly); a column constant but for a
missing cell; -0.0; a nullable boolean or an object column of booleans with
missing cells, imputed as booleans; 100,000-character labels; labels ``"nan"``
and ``""`` (kept as labels, not missing cells); complex, datetime (with a
time zone), bytes and Decimal columns refused by name with a conversion;
columns reordered, added or dropped at transform, and an array holding text
after a fit on a DataFrame, refused by name (an array of numbers warns, as
scikit-learn does); ``get_feature_names_out`` equal to the columns
of ``set_output(transform="pandas")``; ``inverse_transform`` of the wrong
width, 1-D, NaN, infinite or of no rows refused as PCA's is; a pickled or
deep-copied unfitted estimator; an invalid ``set_params`` on a fitted
estimator reaching no inference; ``warm_start`` with another ``latent_dim``
refused naming both; ``partial_fit`` on a column given in another dtype (text
numbers, a category) or as 0/1 for labels; Pipeline, cross_val_score,
GridSearchCV(n_jobs=2) and ColumnTransformer with set_output("pandas") on a
table of nullable Int16, UInt16, Float32, boolean, string, ordered and
number categoricals with missing cells (each dtype kept, observed cells
kept), categories reordered or given as text at transform, int column
labels (x0.. under set_output, as SimpleImputer); a Series, a 1-D array, a
list of dicts, a dict of lists, tuple and duplicate column labels refused by
name; CSV files with CRLF or CR line ends, a UTF-16 byte-order mark. (An
object column of integers decoded as floats was found here too, and had
been fixed on main meanwhile: ``cell_type``, tests/test_hostile_sweep9_known.py.)

Each family below failed once (see the commit that added its tests):

- **A number type pandas does not read** (``skvae._column_types``): a
  column of ``fractions.Fraction`` was classed as numbers (a Fraction is a
  ``numbers.Real``) and then refused at its own fit as "fitted as numbers,
  but holds Fraction(1, 3)"; a column is numbers now where its cells are
  what the encoder reads as numbers, and Fractions (complex numbers held
  as objects too) are refused by type with the conversion, as Decimals are.
- **A label in another Unicode normal form** (``skvae._schema``): ``'café'``
  written as ``e`` + U+0301 at transform, fitted as U+00E9, was refused as
  "categories not seen during fit: ['café']. Known categories: ['café',
  ...]", two lists that look alike. Labels are still not normalised
  (OneHotEncoder does not: two spellings are two labels), and the message
  now says the label is the known one in another normal form, with the
  code points and a conversion; a label with spaces around it or a
  zero-width character is named the same way, with a replacement (the
  command line says what to write in the file instead).
- **A column name written with other characters** (``skvae._validation``,
  ``skvae._column_types``, the CLI): a DataFrame at transform whose column
  is a fitted one in another Unicode normal form, with spaces around it or
  an invisible character (U+200B, U+FEFF) got scikit-learn's "unseen at fit
  time: café; seen at fit time, yet now missing: café"; ``likelihood`` and
  ``sample(given=...)`` naming such a column, and the CLI's ``--likelihood``,
  ``--columns``, ``--drop`` and a file at ``transform`` whose header writes
  the name otherwise, listed two names that read alike. Names are still
  matched exactly (as scikit-learn matches them); each message now names
  the pairs with their code points (and at transform, the rename).
- **X in the other form than at fit, imputed** (``skvae._imputer``):
  scikit-learn lets a model fitted on a DataFrame transform an array (and
  the other way round) with a warning about feature names; VAEImputer gave
  it, then handed X in the caller's form to its VAE, which gave it again
  naming VAETransformer, an estimator the caller never made. The VAE now
  gets X in the form it was fitted on (the same cells): one warning, naming
  VAEImputer, and the same fills.
- **Numbers as typeset text writes them** (the CLI's reader): a column of
  numbers written with the minus sign U+2212 (copied from a web page or a
  word processor), in full-width digits, or with no-break spaces around
  them was read by pandas as text and modelled as categories, one per
  distinct number, without a word (its positive cells were numbers, so it
  was not refused as numbers with stray text either). Such a column is now
  read as numbers: only characters that mean one thing are read (U+2212,
  and what NFKC maps to ASCII); ``impute`` writes its observed cells as
  they were. A unit (5%, $5) stays text: 5% may mean 5 or 0.05.
- **A file in UTF-32 or in UTF-16 without a byte-order mark** (the CLI's
  reader): UTF-32 was called UTF-16 (its little-endian mark begins with
  UTF-16's), and UTF-16 without a mark was called "binary data, not CSV
  text" for its NUL bytes; each is now named, with the fix (save as UTF-8).
"""

import fractions
import io

import numpy as np
import pandas as pd
import pytest

import skvae
from skvae import VAEImputer, VAEOutlierDetector, VAETransformer
from skvae._cli import main

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(latent_dim=2, hidden_layer_sizes=(4,), max_iter=3, batch_size=16, random_state=0)
FACES = [VAETransformer, VAEImputer, VAEOutlierDetector]
FAST_FIT = ["--latent-dim", "2", "--max-iter", "2", "--hidden-layer-sizes", "4", "--batch-size", "16", "-q"]


# --- a number type pandas does not read -----------------------------------------------------

@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("cells, type_name", [
    ([fractions.Fraction(1, 3), fractions.Fraction(1, 2)] * 4, "Fraction"),
    ([fractions.Fraction(1, 3), 0.5, None, 2] * 2, "Fraction"),
    (np.array([np.complex128(1 + 2j), np.complex128(3)] * 4, dtype=object), "complex128"),
])
def test_a_column_of_numbers_pandas_does_not_read_is_refused_by_type_at_fit(face, cells, type_name):
    X = pd.DataFrame({"a": pd.Series(list(cells), dtype=object), "b": np.arange(8.0)})
    with pytest.raises(ValueError, match=f"Column 'a' holds values of type {type_name}") as error:
        face(**TINY).fit(X)
    # The conversion for the type (sweep 30): astype(float) discards a complex number's imaginary part.
    conversion = ".real and .imag" if type_name == "complex128" else ".astype(float)"
    assert "fitted as numbers" not in str(error.value) and conversion in str(error.value)


def test_a_refused_column_of_fractions_leaves_a_fitted_estimator_as_it_was():
    X = pd.DataFrame({"a": np.arange(8.0), "b": np.arange(8.0) ** 2})
    model = VAETransformer(**TINY).fit(X)
    before = model.transform(X)
    with pytest.raises(ValueError, match="type Fraction"):
        model.fit(X.assign(a=[fractions.Fraction(k, 3) for k in range(8)]))
    np.testing.assert_array_equal(model.transform(X), before)


# --- a label in another Unicode normal form -------------------------------------------------

@pytest.mark.parametrize("fitted, given, form", [("caf\u00e9", "cafe\u0301", "NFC"), ("cafe\u0301", "caf\u00e9", "NFD"),
                                                 ("\uac00", "\u1100\u1161", "NFC")])
@pytest.mark.parametrize("face", FACES)
def test_a_label_in_another_unicode_normal_form_is_named_as_the_known_one(face, fitted, given, form):
    X = pd.DataFrame({"a": [fitted, "tea"] * 4, "b": np.arange(8.0)})
    model = face(**TINY).fit(X)
    method = "transform" if face is not VAEOutlierDetector else "score_samples"
    with pytest.raises(ValueError, match="not seen during fit") as error:
        getattr(model, method)(pd.DataFrame({"a": [given], "b": [1.0]}))
    message = str(error.value)
    assert "another Unicode normal form" in message and ascii(given) in message and ascii(fitted) in message
    assert f"unicodedata.normalize({form!r}" in message


def test_the_normal_form_hint_names_no_label_that_differs_otherwise():
    X = pd.DataFrame({"a": ["caf\u00e9", "tea"] * 4, "b": np.arange(8.0)})
    model = VAETransformer(**TINY).fit(X)
    with pytest.raises(ValueError, match="not seen during fit") as error:
        model.transform(pd.DataFrame({"a": ["cafe"], "b": [1.0]}))
    assert "normal form" not in str(error.value)


# --- a file in UTF-32 or in UTF-16 without a byte-order mark ----------------------------------

_TEXT = "a,b\n" + "".join(f"{k},{k * k}\n" for k in range(20))


@pytest.mark.parametrize("encoding, message", [
    ("utf-32", "is UTF-32 text"), ("utf-32-be", "is UTF-32 text"), ("utf-16", "is UTF-16 text"),
    ("utf-16-le", "UTF-16 text without a byte-order mark (little-endian"),
    ("utf-16-be", "UTF-16 text without a byte-order mark (big-endian"),
])
def test_a_file_in_a_wide_unicode_encoding_is_named(tmp_path, encoding, message):
    path = tmp_path / "wide.csv"
    data = _TEXT.encode(encoding)
    if encoding == "utf-32-be":
        data = b"\x00\x00\xfe\xff" + data
    path.write_bytes(data)
    err = io.StringIO()
    assert main(["fit", str(path), "--out", str(tmp_path / "m.skvae"), *FAST_FIT],
                stdout=io.StringIO(), stderr=err) == 1
    assert message in err.getvalue() and "save it as UTF-8" in err.getvalue()
    assert "binary data" not in err.getvalue()
    assert not (tmp_path / "m.skvae").exists()


def test_binary_data_with_nul_bytes_is_still_called_binary(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_bytes(b"a,b\n1,\x002\n3,4\n")
    err = io.StringIO()
    assert main(["fit", str(path), "--out", str(tmp_path / "m.skvae"), *FAST_FIT],
                stdout=io.StringIO(), stderr=err) == 1
    assert "holds NUL bytes" in err.getvalue()


# --- the other form of X than at fit: one warning, naming the caller's estimator ----------------

def _feature_name_warnings(call):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in caught if "feature names" in str(w.message)]


@pytest.mark.parametrize("fitted_on", ["frame", "array"])
@pytest.mark.parametrize("method", ["transform", "multiple_imputations"])
def test_an_imputer_given_x_in_the_other_form_warns_once_naming_itself(fitted_on, method):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=20), "b": rng.normal(size=20)}).mask(rng.random((20, 2)) < 0.2)
    imputer = VAEImputer(**TINY).fit(frame if fitted_on == "frame" else frame.to_numpy())
    X = frame.to_numpy() if fitted_on == "frame" else frame
    same_form = frame if fitted_on == "frame" else frame.to_numpy()
    call = (lambda data: imputer.transform(data)) if method == "transform" else (
        lambda data: imputer.multiple_imputations(data, 2)[0])
    seed_state = imputer._draws.get_state()
    result, messages = _feature_name_warnings(lambda: call(X))
    assert len(messages) == 1 and "VAEImputer" in messages[0], messages
    assert type(result) is type(X)  # the caller's form comes back
    imputer._draws.set_state(seed_state)
    expected = call(same_form)
    np.testing.assert_array_equal(np.asarray(result, dtype=np.float64), np.asarray(expected, dtype=np.float64))


def test_an_imputer_given_an_array_for_labels_still_names_the_cells():
    rng = np.random.default_rng(0)
    imputer = VAEImputer(**TINY).fit(pd.DataFrame({"a": rng.normal(size=20), "c": rng.choice(["x", "y"], 20)}))
    with pytest.warns(UserWarning, match="valid feature names"), \
            pytest.raises(ValueError, match="Column 'c' holds categories not seen during fit"):
        imputer.transform(np.c_[rng.normal(size=3), [1.0, 2.0, np.nan]])


# --- a column name written with other characters ------------------------------------------------

_LOOK_ALIKE = [("caf\u00e9", "cafe\u0301"), ("cafe\u0301", "caf\u00e9"), ("price", "price "), ("price", " price"),
               ("b", "b\u200b"), ("b", "\ufeffb")]


@pytest.mark.parametrize("fitted, given", _LOOK_ALIKE)
@pytest.mark.parametrize("face", FACES)
def test_a_column_name_in_other_characters_at_transform_is_named_with_its_code_points(face, fitted, given):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({fitted: rng.normal(size=12), "other": rng.normal(size=12)})
    model = face(**TINY).fit(X)
    method = "transform" if face is not VAEOutlierDetector else "score_samples"
    with pytest.raises(ValueError, match="The feature names should match") as error:
        getattr(model, method)(X.rename(columns={fitted: given}))
    message = str(error.value)
    assert ascii(given) in message and ascii(fitted) in message and "other characters" in message
    assert f"X.rename(columns={ascii({given: fitted})})" in message


def test_a_column_name_that_reads_otherwise_keeps_scikit_learns_message():
    X = pd.DataFrame({"caf\u00e9": np.arange(12.0), "other": np.arange(12.0) ** 2})
    model = VAETransformer(**TINY).fit(X)
    with pytest.raises(ValueError, match="Feature names unseen at fit time") as error:
        model.transform(X.rename(columns={"caf\u00e9": "Caf\u00e9"}))
    assert "other characters" not in str(error.value)


@pytest.mark.parametrize("where", ["likelihood", "given"])
def test_a_parameter_naming_a_column_in_other_characters_says_so(where):
    X = pd.DataFrame({"cafe\u0301": np.arange(12.0), "other": np.arange(12.0) ** 2})
    with pytest.raises(ValueError, match="Names are matched exactly") as error:
        if where == "likelihood":
            VAETransformer(likelihood={"caf\u00e9": "gaussian"}, **TINY).fit(X)
        else:
            VAETransformer(**TINY).fit(X).sample(2, given={"caf\u00e9": 1.0})
    assert ascii("caf\u00e9") in str(error.value) and ascii("cafe\u0301") in str(error.value)


@pytest.mark.parametrize("option", ["--likelihood", "--columns", "--drop", "transform"])
def test_the_command_line_names_a_column_written_with_other_characters(tmp_path, option):
    fitted, written = "caf\u00e9", "cafe\u0301"
    rows = "".join(f"{k},{k * k % 7}\n" for k in range(12))
    (tmp_path / "nfd.csv").write_text(f"{written},b\n{rows}", encoding="utf-8")
    err = io.StringIO()
    if option == "transform":
        (tmp_path / "nfc.csv").write_text(f"{fitted},b\n{rows}", encoding="utf-8")
        assert main(["fit", str(tmp_path / "nfc.csv"), "--out", str(tmp_path / "m.skvae"), *FAST_FIT],
                    stdout=io.StringIO(), stderr=io.StringIO()) == 0
        status = main(["transform", str(tmp_path / "m.skvae"), str(tmp_path / "nfd.csv")],
                      stdout=io.StringIO(), stderr=err)
    else:
        value = {"--likelihood": f"{fitted}=gaussian", "--columns": f"{fitted},b", "--drop": fitted}[option]
        status = main(["fit", str(tmp_path / "nfd.csv"), "--out", str(tmp_path / "m.skvae"), option, value,
                       *FAST_FIT], stdout=io.StringIO(), stderr=err)
        assert not (tmp_path / "m.skvae").exists()
    assert status == 1
    assert ascii(fitted) in err.getvalue() and ascii(written) in err.getvalue()
    assert "other characters" in err.getvalue() or "Names are matched exactly" in err.getvalue()


@pytest.mark.parametrize("given", ["tea ", " tea", "tea\u200b", "\ufefftea"])
def test_a_label_with_spaces_or_invisible_characters_is_named_as_the_known_one(given):
    X = pd.DataFrame({"a": ["caf\u00e9", "tea"] * 4, "b": np.arange(8.0)})
    model = VAEImputer(**TINY).fit(X)
    with pytest.raises(ValueError, match="not seen during fit") as error:
        model.transform(pd.DataFrame({"a": [given, None], "b": [1.0, 2.0]}))
    message = str(error.value)
    assert "written with other characters" in message and f".replace({ascii({given: 'tea'})}) on the column" in message


# --- numbers as typeset text writes them (the CLI's reader) -------------------------------------

_TYPESET = {
    "minus sign": lambda v: f"{v:.2f}".replace("-", "\u2212"),
    # NFKC maps U+FF10..U+FF19 to 0..9, U+FF0E to '.' and U+FF0D to '-'.
    "full-width": lambda v: f"{v:.2f}".translate(
        str.maketrans("0123456789.-", "".join(map(chr, range(0xFF10, 0xFF1A))) + "\uff0e\uff0d")),
    "no-break space": lambda v: f"\u00a0{v:.2f}\u00a0",
}


# (A file of full-width numbers with decimal commas is read with '.': the dialect is guessed from ASCII cells.)
@pytest.mark.parametrize("style, separator, decimal", [(style, ",", ".") for style in sorted(_TYPESET)]
                         + [("minus sign", ";", ","), ("no-break space", ";", ",")])
def test_a_column_of_typeset_numbers_is_read_as_numbers(tmp_path, style, separator, decimal):
    from skvae._csv import read_table

    values = np.round(np.random.default_rng(0).normal(size=30) * 10, 2)
    cells = [_TYPESET[style](v).replace(".", decimal) for v in values]
    cells[3] = ""  # a missing cell stays missing
    path = tmp_path / "typeset.csv"
    path.write_text(f"a{separator}b\n" + "".join(f"{c}{separator}{k % 3}\n" for k, c in enumerate(cells)),
                    encoding="utf-8")
    frame = read_table(str(path)).frame
    assert frame["a"].dtype == np.float64
    expected = values.copy()
    expected[3] = np.nan
    np.testing.assert_array_equal(frame["a"].to_numpy(), expected)


def test_a_model_fitted_on_typeset_numbers_models_them_as_numbers_and_impute_keeps_the_cells(tmp_path):
    values = np.round(np.random.default_rng(0).normal(size=30) * 10, 2)
    cells = [_TYPESET["minus sign"](v) for v in values]
    cells[5] = ""
    path = tmp_path / "typeset.csv"
    path.write_text("a,b\n" + "".join(f"{c},{k % 3}\n" for k, c in enumerate(cells)), encoding="utf-8")
    out = io.StringIO()
    assert main(["fit", str(path), "--out", str(tmp_path / "m.skvae"), *FAST_FIT[:-1]],
                stdout=out, stderr=io.StringIO()) == 0
    assert "a: categorical" not in out.getvalue()
    assert skvae.load(tmp_path / "m.skvae").column_kinds_["a"] != "categorical"
    written = io.StringIO()
    assert main(["impute", str(path), "--latent-dim", "2", "--max-iter", "2", "-q"],
                stdout=written, stderr=io.StringIO()) == 0
    lines = written.getvalue().splitlines()[1:]
    assert [line.split(",")[0] for k, line in enumerate(lines) if k != 5] == [c for k, c in enumerate(cells) if k != 5]
    assert lines[5].split(",")[0] != ""


@pytest.mark.parametrize("cells", [["5%", "10%", "15%"] * 10, ["$5", "$10", "$15"] * 10, ["caf\u00e9", "tea"] * 15,
                                   ["\u22125", "x", "3"] * 10])
def test_text_that_is_not_all_typeset_numbers_stays_text(tmp_path, cells):
    from skvae._csv import read_table

    path = tmp_path / "text.csv"
    path.write_text("a,b\n" + "".join(f"{c},{k}\n" for k, c in enumerate(cells)), encoding="utf-8")
    frame = read_table(str(path)).frame
    assert frame["a"].tolist() == cells


@pytest.mark.parametrize("written, advice", [("cafe\u0301", "write the file's labels in Unicode normal form NFC"),
                                             ('"caf\u00e9 "', "write the labels in the file as at fit")])
def test_the_command_line_names_a_label_written_with_other_characters_in_its_terms(tmp_path, written, advice):
    (tmp_path / "fit.csv").write_text("c,b\n" + "".join(f"{c},{k}\n" for k, c in enumerate(["caf\u00e9", "tea"] * 4)),
                                      encoding="utf-8")
    (tmp_path / "new.csv").write_text(f"c,b\n{written},1\ntea,2\n", encoding="utf-8")
    assert main(["fit", str(tmp_path / "fit.csv"), "--out", str(tmp_path / "m.skvae"), *FAST_FIT],
                stdout=io.StringIO(), stderr=io.StringIO()) == 0
    err = io.StringIO()
    assert main(["transform", str(tmp_path / "m.skvae"), str(tmp_path / "new.csv")],
                stdout=io.StringIO(), stderr=err) == 1
    assert advice in err.getvalue() and "X[" not in err.getvalue()
