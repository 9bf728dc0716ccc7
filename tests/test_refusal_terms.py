"""Refusals said in each face's terms (``skvae._refusals``).

The library builds a refusal from its parts; ``str()`` is the Python API's
message, naming parameters, and the command line says the same parts with
its options and its file's lines. These tests pin both wordings of the
refusals whose advice differs by face.
"""

import pickle

import numpy as np
import pandas as pd
import pytest

from skvae import VAETransformer
from _cli_run import run_cli as _run


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("refusals")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"c": rng.choice(["a", "b"], 60), "year": rng.choice([2001, 2002, 2003], 60),
                          "v": np.round(rng.random(60), 3)})
    data = folder / "data.csv"
    frame.to_csv(data, index=False)
    model = folder / "m.skvae"
    assert _run(["fit", data, "--out", model, "--max-iter", 2, "--random-state", 0])[0] == 0
    vae = VAETransformer(max_iter=2, random_state=0).fit(frame)
    return folder, model, vae


def test_unseen_category(fitted):
    folder, model, vae = fitted
    with pytest.raises(ValueError, match=r"Set handle_unknown='ignore' to treat them as missing cells\.$"):
        vae.transform(pd.DataFrame({"c": ["z"], "year": [2001], "v": [0.5]}))
    path = folder / "new.csv"
    path.write_text("c,year,v\nz,2001,0.5\n")
    status, _, err = _run(["transform", model, path])
    assert status == 1
    assert err == ("skvae transform: error: new.csv, line 2: Column 'c' holds categories not seen during fit: "
                   "['z']. Known categories: ['a', 'b']. Leave such a cell empty, or name its text with "
                   "--missing-values, to have it treated as a missing cell.\n").replace("new.csv", str(path))


def test_unseen_number_of_a_column_typed_categorical(fitted):
    folder, model, vae = fitted
    with pytest.raises(ValueError, match=r"fit with likelihood=\{'year': 'gaussian'\} \(or 'quantile_normal'\)"):
        vae.transform(pd.DataFrame({"c": ["a"], "year": [2009], "v": [0.5]}))
    path = folder / "year.csv"
    path.write_text("c,year,v\na,2009,0.5\n")
    status, _, err = _run(["transform", model, path])
    assert status == 1
    assert err.endswith("to model it as numbers, fit with --likelihood year=gaussian (or year=quantile_normal).\n")
    assert "handle_unknown" not in err and "likelihood={" not in err


def test_too_many_rows_to_draw(fitted):
    folder, model, vae = fitted
    with pytest.raises(ValueError, match=r"^Drawing n_samples=100000000000000 rows needs about .*Ask for fewer rows"):
        vae.sample(10**14)
    status, _, err = _run(["sample", model, "-n", 10**14])
    assert status == 1
    assert err.startswith("skvae sample: error: Drawing 100000000000000 rows (-n 100000000000000) needs about ")
    assert "n_samples" not in err


def test_refusals_pickle_with_their_message(fitted):
    _, _, vae = fitted
    with pytest.raises(ValueError) as caught:
        vae.sample(10**14)
    again = pickle.loads(pickle.dumps(caught.value))
    assert type(again) is type(caught.value)
    assert str(again) == str(caught.value)


def test_a_cell_refusal_names_the_line_of_the_file(fitted):
    folder, model, vae = fitted
    frame = pd.DataFrame({"c": ["a", "b"], "year": [2001, 2002], "v": [0.5, "x"]})
    with pytest.raises(ValueError, match=r"^Column 'v' was fitted as numbers, but holds 'x' in row 1 \(1 such cell\)\. "
                                         r"Fix such cells, or read them as missing cells: "
                                         r"X\['v'\] = pd\.to_numeric\(X\['v'\], errors='coerce'\)\.$"):
        vae.transform(frame)
    path = folder / "text.csv"
    path.write_text("c,year,v\na,2001,0.5\nb,2002,x\n")
    status, _, err = _run(["transform", model, path])
    assert status == 1
    assert (f"{path}: Column 'v' was fitted as numbers, but holds 'x' in line 3 (1 such cell). Fix the cell, or leave "
            "it empty to mark it missing (or give --missing-values x to read such cells as missing).") in err


@pytest.mark.parametrize("given, expected", [
    ({"v": "x"}, r"^given: Column 'v' was fitted as numbers, but holds 'x'\.$"),
    (pd.DataFrame({"v": [0.5, "x"]}),
     r"^given: Column 'v' was fitted as numbers, but holds 'x' in row 1 of the conditions \(1 such cell\)\.$"),
])
def test_a_condition_refusal_is_said_of_the_conditions(fitted, given, expected):
    _, _, vae = fitted
    with pytest.raises(ValueError, match=expected):
        vae.sample(2, given=given, random_state=0)


def test_refusal_of_a_type_is_a_type_error():
    from skvae._refusals import Refusal, TypeRefusal, row, said

    refusal = TypeRefusal("X holds ", row(3, "in "), ".")
    assert isinstance(refusal, TypeError) and isinstance(refusal, ValueError) and isinstance(refusal, Refusal)
    assert str(refusal) == "X holds in row 3."
    assert said(refusal, lambda term: "in line 5" if term.kind == "row" else None) == "X holds in line 5."
    assert said(ValueError("row 3"), lambda term: "never") == "row 3"


def test_empty_columns_and_tables_are_said_of_the_file(tmp_path):
    from skvae import VAEImputer

    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [np.nan] * 3})
    with pytest.raises(ValueError, match=r"^Column 'b' has no observed value: there is nothing to model\. Drop it"):
        VAETransformer(max_iter=1).fit(frame)
    with pytest.raises(ValueError, match=r"^X has no observed value in any column \(its 2 row\(s\) .*Fit on rows"):
        VAEImputer(max_iter=1).fit(pd.DataFrame({"a": [np.nan, np.nan], "b": [np.nan, np.nan]}))
    path = tmp_path / "e.csv"
    path.write_text("a,b\n1,\n2,\n3,\n")
    status, _, err = _run(["fit", path, "--out", tmp_path / "m.skvae", "--max-iter", 1, "-q"])
    assert status == 1
    assert err == (f"skvae fit: error: {path}: column 'b' is empty in every row: there is nothing to model. Leave it "
                   "out with --drop b, or choose the columns with --columns.\n")
    path.write_text("a,b\n,\n,\n")
    status, _, err = _run(["impute", path, "--max-iter", 1])
    assert status == 1
    assert err.endswith(f"skvae impute: error: {path}: every cell is empty: there is nothing to learn the "
                        "imputations from.\n")


def test_a_stray_word_among_numbers_fitted_as_categories_is_the_one_cell_refused(fitted):
    # 'year' holds three numbers, fitted as categories. A stray word makes the file's column text; the other
    # cells are read as the levels they spell, and only the word is refused, at its line.
    folder, model, vae = fitted
    path = folder / "word.csv"
    path.write_text("c,year,v\na,2001,0.5\nb,2002,0.25\na,soon,0.5\n")
    status, _, err = _run(["transform", model, path])
    assert status == 1
    assert f"{path}, line 4: Column 'year' holds categories not seen during fit: ['soon']" in err
    assert "'2001'" not in err


def test_an_array_refusal_naming_no_cell_keeps_scikit_learns_words():
    # Where skvae can name no cell, scikit-learn's message stays scikit-learn's (a plain error, not a Refusal
    # claiming skvae's words): the command line reads it to name the cell from its file.
    from skvae._refusals import Refusal
    from skvae._validation import text_in_array_refusal

    error = ValueError("could not convert string to float: 'x'")
    plain = text_in_array_refusal(np.ones((2, 2)), error)
    assert type(plain) is ValueError and str(plain) == str(error)
    named = text_in_array_refusal(np.array([[1.0, "x"]], dtype=object), error)
    assert isinstance(named, Refusal) and "'x' in column 1, row 0" in str(named)
    typed = text_in_array_refusal(np.ones((2, 2)), TypeError("float() argument must be a string"))
    assert type(typed) is TypeError
