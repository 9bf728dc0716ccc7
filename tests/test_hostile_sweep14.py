"""Hostile input, fourteenth sweep.

Each family below failed once (see the commit that added its tests):

- **An infinite condition** (``skvae._conditional._refuse_infinite``):
  ``sample(given={"a": np.inf})`` (or a DataFrame or array of conditions
  holding inf) was refused as "X contains an infinite value ... use NaN
  (or None) for missing cells", naming X, which the caller never passed,
  with advice a dict of conditions refuses. It now names ``given``, the
  column and the row of the conditions.
- **NumPy dates and durations held as objects** (``skvae._validation.check_array_dtype``):
  ``float()`` reads ``np.datetime64('2020-01-01')`` as 18262.0, so an object
  array (or a list of rows) holding one was fitted, transformed and decoded
  without a word, while an array of dates and a ``datetime.datetime`` cell
  are refused. Such a cell is now refused naming its column and row;
  ``inverse_transform`` refuses an array of dates as codes too.
- **A structured array** (``check_array_dtype``): NumPy's "Cannot cast
  array data from dtype([('a', '<f8'), ...])" named neither X nor the fix;
  it is now refused naming its fields and ``pandas.DataFrame(X)``.
- **An empty path on the command line** (``skvae._cli._refuse_empty_paths``):
  ``--out ''`` was "cannot write : Is a directory" after the work (impute
  fitted first), "skvae.save needs a file path" for fit (a Python
  function), and demo wrote its pictures into the working folder; an empty
  DATA.csv or MODEL was "no such file: " with no name. Each is now refused
  before any work, naming the argument.
- **Column labels of another sort** (``skvae._validation.check_same_columns``):
  ``[False, True] == [0, 1]`` and ``[0.0, 1.0] == [0, 1]`` in Python, so a
  table with those labels was transformed, scored and imputed as the columns
  of a model fitted on 0 and 1 (the imputer returned them under the new
  labels), while a condition keyed by True or 1.0 names no column (sweep 5).
  Such a table is now refused, naming both sets of labels.
- **The name a gzip output stores** (``skvae._csv.write_table``): gzip
  keeps the name of the file it compressed, which was the temporary file's
  (``.out.csv.gz.<hex>.tmp``), so ``gunzip -N`` (and extractors that name
  what they extract by it) made a hidden ``.tmp`` file. It is now the
  destination's name without ``.gz``.
- **An --out named as a compression skvae does not write** (``skvae._cli._check_output_path``):
  ``--out out.csv.zst`` (or ``.tar.gz``, ``.7z``...) got plain CSV text
  (gzip text for ``.tar.gz``) under a name announcing a format skvae
  neither writes nor reads back. It is refused before the work, naming the
  suffixes it does write.
- **partial_fit's advice after a changed parameter** (``skvae._model.fit_model``):
  ``set_params(latent_dim=3).partial_fit(X)`` (or another likelihood,
  activation, missing_mechanism) was refused with "Set warm_start=False ...
  to refit", but partial_fit continues whatever warm_start says: following
  the advice gave the same refusal. partial_fit's refusal now says to call
  fit.
- **The imputer's placeholder as a category** (``skvae._imputer.VAEImputer._with_nan``):
  with ``missing_values=-1`` on a category column whose categories hold -1,
  the masked cells' category stayed declared, the VAE modelled it as a
  level and filled missing cells with it: the output held -1, which reads
  as still missing. The placeholder is no category of the VAE's input now
  (only a category the column's own comparison reads as the placeholder and
  no cell holds: True == 1, but a column of booleans keeps its True cells);
  the output keeps the column's dtype.
- **A text placeholder for an array** (``VAEImputer._validate``): an
  array is read as numbers, so ``missing_values='?'`` matched no cell and
  nothing was imputed, without a word (an object array holding '?' was
  refused as "X holds text '?'", the placeholder the caller declared).
  It is refused now, naming missing_values and the two ways out.
- **A bool placeholder** (``VAEImputer._parameter_constraints``):
  ``missing_values=True`` passed scikit-learn's constraint (a bool is an
  int), and True == 1.0, so every 1.0 of a numeric column was imputed
  (False: every 0.0). It is an InvalidParameterError now, as other
  parameters refuse bools.
- **The command line's refusal of networks too large** (now ``skvae._cli._CommandLineWords``):
  ``fit --hidden-layer-sizes 200000,200000`` and ``impute --latent-dim
  100000000`` were told to "use smaller hidden_layer_sizes or latent_dim",
  Python parameters, one of which impute has no option for. The message now
  names the options of the command.
- **A column name holding a line break or a tab in a report** (``skvae._cli._short_name``):
  a quoted header field ``"a<newline>b"`` broke fit's "Fitting ..." and
  "Column kinds: ..." lines in two (the second starting "b: inflated_gaussian",
  which reads as a column b), and a tab hid where a name ends. Such a name
  is shown quoted and escaped (``'a\\nb'``); other names as before.
- **An object array of conditions** (``skvae._conditional.condition_table``):
  for a model fitted on an array, ``given=np.array([[np.datetime64('2020-01-01'),
  np.nan]], dtype=object)`` became a datetime64 column in pandas, read as
  seconds since 1970, and came back as the "given" 1577836800.0; a pd.NA
  (a free cell, as None is) was refused as "not numbers", and a text cell
  was refused naming neither the cell nor its column. Dates are refused by
  type now, as in a dict of conditions, pd.NA is free, and a text cell is
  named with its column and row.
- **An infinite cell of a CSV file** (now ``skvae._cli._CommandLineWords``):
  the command line passed on the schema's words, "data.csv: X contains an
  infinite value ... use NaN (or None) for missing cells, or remove the
  row", telling a file's user to write Python values into it. It now says
  the file holds it, and that a missing cell is an empty one. A text cell
  in a file of latent codes was "X holds text ... an array must hold
  numbers. inverse_transform decodes latent codes"; it is said in the
  command line's terms too.
- **A torch tensor of bfloat16** (``skvae._input._host_array``): a tensor
  is read as its NumPy array, but NumPy has no bfloat16 (nor float8), and
  torch's "Got unsupported ScalarType BFloat16" reached the caller from fit,
  transform, inverse_transform and given. Such a tensor is read as
  float32, which holds each of its values exactly.

Found, not changed: ``Decimal`` and ``Fraction`` cells of an object NumPy
array (or a list of rows) are read with float(), as documented for arrays,
while a DataFrame column of them is refused (sweep 10); a detector scores a
row with no observed cell 0.0, the log-likelihood of nothing, above any
complete row, so it is never flagged; ``contamination`` set after a
detector's fit is ignored until the next fit (``offset_`` is fitted, as
IsolationForest's is); a CSV cell ``1e400`` is refused as "inf in column
'a'", not by its text; ``skvae inverse`` names a text cell's column by
position; categories of an extension dtype (``Int64``, ``string[pyarrow]``)
come back from ``sample`` with categories of the NumPy dtype (values equal).
"""

import gzip
import os
import warnings

import numpy as np
import pandas as pd
import pytest

import skvae
from skvae import VAEImputer, VAEOutlierDetector, VAETransformer
from _cli_run import run_cli as _run

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(latent_dim=2, hidden_layer_sizes=(8,), max_iter=2, random_state=0, device="cpu")


def _frame(n=30, seed=0):
    rng = np.random.RandomState(seed)
    return pd.DataFrame({"a": rng.randn(n), "b": rng.randn(n), "c": list("xyz") * (n // 3)})


def _array(n=30, seed=0):
    return np.random.RandomState(seed).randn(n, 3)


# ------------------------------------------------------------------ infinite conditions


@pytest.fixture(scope="module")
def frame_model():
    return VAETransformer(**TINY).fit(_frame())


@pytest.fixture(scope="module")
def array_model():
    return VAETransformer(**TINY).fit(_array())


@pytest.mark.parametrize("given, column, row", [
    ({"a": np.inf}, "'a'", 0),
    ({"b": -np.inf}, "'b'", 0),
    ({"a": float("1e400")}, "'a'", 0),
    (pd.DataFrame({"a": [1.0, np.inf]}), "'a'", 1),
    (pd.DataFrame({"b": pd.Series([np.nan, -np.inf], dtype=object)}), "'b'", 1),
])
def test_an_infinite_condition_names_given_not_x(frame_model, given, column, row):
    n = len(given) if isinstance(given, pd.DataFrame) else 2
    with pytest.raises(ValueError, match=f"given sets column {column} to -?inf \\(row {row} of the conditions\\)") as info:
        frame_model.sample(n, given=given)
    assert "X contains" not in str(info.value)


@pytest.mark.parametrize("given", [{1: np.inf}, np.array([[np.nan, np.inf, np.nan]])])
def test_an_infinite_condition_of_an_array_model_names_its_position(array_model, given):
    with pytest.raises(ValueError, match="given sets column 1 to inf"):
        array_model.sample(1, given=given)


def test_finite_conditions_still_come_back_exactly(frame_model):
    out = frame_model.sample(3, given={"a": 1e3, "c": "y"})
    assert (out["a"] == 1e3).all() and (out["c"] == "y").all()


# ------------------------------------------------------------------ NumPy dates held as objects


@pytest.mark.parametrize("cell, what", [(np.datetime64("2020-01-01"), "a date"),
                                        (np.timedelta64(3, "D"), "a duration"),
                                        (np.datetime64("2020-01-01T10:00", "ns"), "a date")])
@pytest.mark.parametrize("face", [VAETransformer, VAEImputer, VAEOutlierDetector])
@pytest.mark.parametrize("container", [np.array, lambda X: X.tolist()])
def test_a_numpy_date_held_as_an_object_is_refused_at_fit(cell, what, face, container):
    X = _array().astype(object)
    X[4, 2] = cell
    with pytest.raises(ValueError, match=f"in column 2, row 4, {what}, which skvae cannot model"):
        face(**TINY).fit(container(X))


@pytest.mark.parametrize("face", [VAETransformer, VAEImputer, VAEOutlierDetector])
def test_a_numpy_date_held_as_an_object_is_refused_after_fit_and_changes_nothing(face):
    fitted = face(**TINY).fit(_array())
    before = fitted.get_params()
    X = _array(5).astype(object)
    X[1, 0] = np.datetime64("1999-12-31")
    call = fitted.transform if hasattr(fitted, "transform") else fitted.score_samples
    with pytest.raises(ValueError, match="in column 0, row 1, a date"):
        call(X)
    assert fitted.get_params() == before
    call(_array(5))  # still usable


@pytest.mark.parametrize("codes", [np.array([[1, 2]], dtype="datetime64[D]"),
                                   np.array([[np.datetime64("2020-01-01"), 0.0]], dtype=object),
                                   [[np.timedelta64(1, "D"), 0.0]]])
def test_inverse_transform_refuses_dates_as_codes(array_model, codes):
    with pytest.raises(ValueError, match="date|duration"):
        array_model.inverse_transform(codes)


def test_an_object_array_of_numbers_and_missing_cells_still_fits():
    X = _array().astype(object)
    X[0, 0] = None
    X[1, 1] = "2.5"
    model = VAETransformer(**TINY).fit(X)
    assert model.transform(X).shape == (30, 2)


# ------------------------------------------------------------------ structured arrays


@pytest.mark.parametrize("face", [VAETransformer, VAEImputer, VAEOutlierDetector])
def test_a_structured_array_is_refused_naming_its_fields_and_the_dataframe(face):
    X = np.zeros(10, dtype=[("height", "f8"), ("weight", "f8")])
    with pytest.raises(TypeError, match=r"structured array \(fields \['height', 'weight'\]\).*pandas.DataFrame\(X\)"):
        face(**TINY).fit(X)
    # the advice works
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X["height"] = np.arange(10.0)
        X["weight"] = np.arange(10.0) ** 2
        assert list(face(**TINY).fit(pd.DataFrame(X)).feature_names_in_) == ["height", "weight"]


# ------------------------------------------------------------------ labels of another sort


@pytest.mark.parametrize("labels", [[False, True], [0.0, 1.0], [np.float32(0), 1], [0, np.True_]], ids=repr)
@pytest.mark.parametrize("face", [VAETransformer, VAEImputer, VAEOutlierDetector])
def test_labels_equal_to_the_fitted_integers_but_of_another_sort_are_refused(labels, face):
    X = pd.DataFrame(_array(30)[:, :2])
    X.iloc[0, 0] = np.nan
    fitted = face(**TINY).fit(X)
    before = fitted.get_params()
    other = X.set_axis(pd.Index(labels, dtype=object), axis=1)
    call = fitted.transform if hasattr(fitted, "transform") else fitted.score_samples
    with pytest.raises(ValueError, match=r"X has the columns \[.*\], but the model was fitted on \[0, 1\]"):
        call(other)
    assert fitted.get_params() == before
    # the same integers, Python's or NumPy's, are the fitted labels
    assert len(call(X.set_axis(pd.Index([np.int64(0), np.int8(1)], dtype=object), axis=1))) == 30


def test_a_frame_of_conditions_and_a_frame_of_codes_keep_their_own_label_rules():
    X = pd.DataFrame(_array(30))
    model = VAETransformer(**TINY).fit(X)
    with pytest.raises(ValueError, match="given names columns"):
        model.sample(given=pd.DataFrame({1.0: [0.5]}))
    out = model.sample(given=pd.DataFrame({np.int64(1): [0.5]}))
    assert out.iloc[0, 1] == 0.5


# ------------------------------------------------------------------ partial_fit's advice


@pytest.mark.parametrize("change", [{"latent_dim": 3}, {"activation": "tanh"}, {"likelihood": "quantile_normal"},
                                    {"missing_mechanism": "self_masking"}], ids=lambda change: next(iter(change)))
def test_partial_fit_refusing_a_changed_parameter_says_to_call_fit(change):
    X = pd.DataFrame(_array())
    X.iloc[0, 0] = np.nan
    model = VAETransformer(**TINY).fit(X)
    model.set_params(**change)
    with pytest.raises(ValueError, match=r"Cannot continue training: .*Call fit \(with warm_start=False\)") as info:
        model.partial_fit(X)
    assert "Set warm_start=False" not in str(info.value)
    # the advice works: fit refits with the new parameter
    model.set_params(warm_start=False).fit(X)
    model.partial_fit(X)
    # warm_start's own refusal keeps its advice
    model.set_params(warm_start=True, latent_dim=5)
    with pytest.raises(ValueError, match="Set warm_start=False"):
        model.fit(X)


# ------------------------------------------------------------------ the imputer's placeholder as a category


@pytest.mark.parametrize("categories, placeholder", [([-1, 1, 2], -1), ([-1.0, 1.5, 2.5], -1), (["?", "x", "y"], "?"),
                                                     ([0, 1, 2], 0)])
def test_the_imputer_never_fills_with_its_placeholder_category(categories, placeholder):
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"a": rng.randn(60), "k": pd.Categorical(list(categories) * 20)})
    X.loc[::7, "a"] = placeholder if not isinstance(placeholder, str) else X.loc[::7, "a"]
    imputer = VAEImputer(missing_values=placeholder, **TINY)
    for seed in range(3):
        out = imputer.set_params(random_state=seed).fit_transform(X)
        assert not (out["k"] == placeholder).any()
        assert out["k"].dtype == X["k"].dtype  # the column's own dtype, the placeholder's category included
        assert placeholder not in imputer.vae_._schema.columns[1]["categories"]
        again = imputer.transform(X)
        assert not (again["k"] == placeholder).any()
    # the caller's table is untouched
    assert (X["k"] == placeholder).sum() == 20


@pytest.mark.parametrize("X", [np.array([[1.0, 2.0], [3.0, 4.0]] * 5),
                               np.array([[1.0, "?"], [3.0, 4.0]] * 5, dtype=object),
                               [[1.0, "?"], [3.0, 4.0]] * 5], ids=["floats", "object array", "list"])
def test_a_text_placeholder_for_an_array_is_refused_naming_missing_values(X):
    with pytest.raises(ValueError, match=r"missing_values='\?' is text, but X is an array"):
        VAEImputer(missing_values="?", **TINY).fit(X)
    # after a fit on a DataFrame, an array at transform is refused the same way, changing nothing
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0] * 4, "c": ["x", "?", "y"] * 4})
    imputer = VAEImputer(missing_values="?", **TINY).fit(frame)
    draws = imputer._draws.get_state()[1].copy()
    with pytest.raises(ValueError, match=r"missing_values='\?' is text"):
        imputer.transform(np.asarray(X, dtype=object)[:, :1])
    assert np.array_equal(imputer._draws.get_state()[1], draws)
    assert (imputer.transform(frame)["c"] != "?").all()


@pytest.mark.parametrize("placeholder", [True, False, np.True_])
def test_a_bool_placeholder_is_an_invalid_parameter(placeholder):
    from sklearn.utils._param_validation import InvalidParameterError

    X = np.array([[1.0, 0.0], [2.0, 3.0]] * 5)
    with pytest.raises(InvalidParameterError, match=r"'missing_values' parameter .*not a bool.*Got (np\.)?(True|False)"):
        VAEImputer(missing_values=placeholder, **TINY).fit(X)
    fitted = VAEImputer(missing_values=1, **TINY).fit(X)
    fitted.set_params(missing_values=placeholder)
    with pytest.raises(InvalidParameterError, match="missing_values"):
        fitted.transform(X)
    # the number itself is a placeholder
    assert VAEImputer(missing_values=0, **TINY).fit_transform(X)[:, 1].min() != 0


def test_a_category_the_placeholder_does_not_mask_keeps_its_cells():
    # True == 1 in Python, but a column of booleans holds no cell the placeholder 1 masks: no True is lost.
    X = pd.DataFrame({"a": np.arange(20.0), "k": pd.Categorical([True, False] * 10)})
    X.loc[0, "a"] = 1
    imputer = VAEImputer(missing_values=1, **TINY).fit(X)
    assert imputer.vae_._schema.columns[1]["categories"] == [False, True]
    out = imputer.transform(X)
    assert out["k"].tolist() == X["k"].tolist()


# ------------------------------------------------------------------ empty paths on the command line


@pytest.fixture
def cli_files(tmp_path):
    frame = pd.DataFrame(np.random.RandomState(0).randn(12, 2).round(3), columns=["a", "b"])
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    holes = tmp_path / "holes.csv"
    frame.mask(np.eye(12, 2, dtype=bool)).to_csv(holes, index=False)
    model = tmp_path / "model.skvae"
    skvae.save(VAETransformer(**TINY).fit(frame), model)
    return {"data": data, "holes": holes, "model": model}


@pytest.mark.parametrize("argv, message", [
    (["fit", "{data}", "--max-iter", "2", "--out", ""], "--out '' is empty: give a file name such as model.skvae"),
    (["impute", "{holes}", "--max-iter", "2", "--out", ""], "--out '' is empty: give a file name"),
    (["transform", "{model}", "{data}", "--out", ""], "--out '' is empty"),
    (["sample", "{model}", "--out", ""], "--out '' is empty"),
    (["score", "{model}", "{data}", "--out", ""], "--out '' is empty"),
    (["demo", "--out", ""], "--out '' is empty: give a folder"),
    (["fit", "", "--out", "{tmp}/m.skvae"], "DATA.csv '' is empty"),
    (["impute", "", "--out", "{tmp}/o.csv"], "DATA.csv '' is empty"),
    (["transform", "", "{data}"], "MODEL '' is empty"),
    (["inverse", "{model}", ""], "CODES.csv '' is empty"),
])
def test_an_empty_path_is_refused_by_name_before_the_work(cli_files, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(tmp_path))
    names = {key: str(value) for key, value in cli_files.items()}
    status, out, err = _run([arg.format(tmp=tmp_path, **names) for arg in argv])
    assert status == 1
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert message in err
    assert "Fitting" not in out and "Imputing" not in out + err  # refused before the work
    assert sorted(os.listdir(tmp_path)) == before  # nothing written, not even into the working folder


# ------------------------------------------------------------------ compressed outputs


def _stored_gzip_name(path):
    """The original file name a gzip file's header holds (FNAME), or None."""
    data = open(path, "rb").read()
    assert data[:2] == b"\x1f\x8b"
    if not data[3] & 0x08:
        return None
    end = data.index(b"\0", 10)
    return data[10:end].decode("latin-1")


@pytest.mark.parametrize("name, stored", [("out.csv.gz", "out.csv"), ("out.gzip", "out"), ("OUT.CSV.GZ", "OUT.CSV")])
def test_a_gzip_output_stores_its_own_name_not_the_temporary_files(cli_files, tmp_path, name, stored):
    out = tmp_path / name
    status, _, err = _run(["sample", cli_files["model"], "-n", "3", "--out", out])
    assert status == 0, err
    assert _stored_gzip_name(out) == stored
    text = gzip.decompress(out.read_bytes()).decode()
    assert text.splitlines()[0] == "a,b" and len(text.splitlines()) == 4
    assert not [entry for entry in os.listdir(tmp_path) if entry.endswith(".tmp")]
    # and the file reads back as data
    status, _, err = _run(["score", cli_files["model"], out])
    assert status == 0, err


@pytest.mark.parametrize("name", ["out.csv.zst", "out.tar.gz", "out.tgz", "out.7z", "out.tar", "OUT.ZST"])
@pytest.mark.parametrize("command", [["sample", "{model}"], ["transform", "{model}", "{data}"],
                                     ["impute", "{holes}", "--max-iter", "2"], ["fit", "{data}", "--max-iter", "2"]])
def test_an_output_named_as_a_format_skvae_does_not_write_is_refused_before_the_work(cli_files, tmp_path, name,
                                                                                      command):
    names = {key: str(value) for key, value in cli_files.items()}
    status, out, err = _run([arg.format(**names) for arg in command] + ["--out", tmp_path / name])
    assert status == 1
    assert f"cannot write {tmp_path / name}: skvae does not write ." in err
    assert ("model.skvae" in err) == (command[0] == "fit")
    assert "Fitting" not in out and not (tmp_path / name).exists()


# ------------------------------------------------------------------ networks too large, in the command line's terms


@pytest.mark.parametrize("argv, named, advice", [
    (["fit", "{data}", "--max-iter", "1", "--hidden-layer-sizes", "1000000,1000000", "--out", "{tmp}/m.skvae"],
     "--hidden-layer-sizes 1000000,1000000, --latent-dim 10", "Use a smaller --hidden-layer-sizes or --latent-dim."),
    (["impute", "{holes}", "--max-iter", "1", "--latent-dim", "1000000000", "--out", "{tmp}/o.csv"],
     "hidden layers 128,64, --latent-dim 1000000000", "Use a smaller --latent-dim, or fewer columns"),
])
def test_networks_too_large_are_refused_in_the_options_of_the_command(cli_files, tmp_path, argv, named, advice):
    names = {key: str(value) for key, value in cli_files.items()}
    status, _, err = _run([arg.format(tmp=tmp_path, **names) for arg in argv])
    assert status == 1
    assert named in err and advice in err and "--device" in err
    assert "hidden_layer_sizes" not in err and "latent_dim" not in err


def test_a_training_step_too_large_names_the_options_of_the_command(monkeypatch):
    from skvae import _memory
    from skvae._cli import _CommandLineWords
    from skvae._refusals import Refusal, said

    monkeypatch.setattr(_memory, "available_bytes", lambda device: 2**20)
    spec = {"hidden_layer_sizes": (128, 64), "latent_dim": 10, "n_params": 20, "n_inputs": 10}
    with pytest.raises(Refusal) as caught:
        _memory.check_step_fits(spec, 128, 10, "cpu")
    assert str(caught.value).startswith("One training step of batch_size=128 rows with n_importance_train=10 ")
    assert str(caught.value).endswith("Lower n_importance_train or batch_size (or hidden_layer_sizes).")
    fit = said(caught.value, _CommandLineWords("fit"))
    assert "--batch-size 128" in fit and "--device cpu" in fit and fit.endswith("Lower --batch-size (or "
                                                                                "--hidden-layer-sizes).")
    # impute has no --batch-size: the size keeps its name there.
    impute = said(caught.value, _CommandLineWords("impute"))
    assert "batch_size=128" in impute and impute.endswith("Impute fewer columns (--columns, --drop).")
    assert said(ValueError("Column 'a' has latent_dim=3"), _CommandLineWords("fit")) == "Column 'a' has latent_dim=3"


# ------------------------------------------------------------------ names with line breaks in reports


def test_a_column_name_with_a_line_break_keeps_the_reports_lines_whole(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text('"a\nb","c\td",e\n' + "".join(f"{i},{i % 3},{i * 2}\n" for i in range(12)))
    status, out, err = _run(["fit", data, "--max-iter", "2", "--out", tmp_path / "m.skvae"])
    assert status == 0, err
    fitting = next(line for line in out.splitlines() if line.startswith("Fitting"))
    assert fitting.endswith("'a\\nb', 'c\\td', e")
    kinds = next(line for line in out.splitlines() if line.startswith("Column kinds"))
    assert "'a\\nb': " in kinds and "'c\\td': " in kinds and " e: " in kinds
    assert not any(line.startswith("b: ") for line in out.splitlines())
    # the model keeps the names as written
    assert list(skvae.load(tmp_path / "m.skvae").feature_names_in_) == ["a\nb", "c\td", "e"]


# ------------------------------------------------------------------ object arrays of conditions


def test_an_object_array_of_conditions_refuses_numpy_dates(array_model):
    given = np.array([[np.nan, np.datetime64("2020-01-01"), np.nan]], dtype=object)
    with pytest.raises(ValueError, match="Column 1 holds values of type datetime64"):
        array_model.sample(1, given=given)


@pytest.mark.parametrize("free", [None, pd.NA, np.nan], ids=repr)
def test_missing_cells_of_an_object_array_of_conditions_are_free(array_model, free):
    given = np.array([[free, 0.5, free], [1.5, free, free]], dtype=object)
    out = array_model.sample(given=given, n_samples=2)
    assert out[0, 1] == 0.5 and out[1, 0] == 1.5 and np.isfinite(out).all()


def test_a_text_condition_of_an_array_model_is_named(array_model):
    given = np.array([[np.nan, np.nan, np.nan], [np.nan, "abc", np.nan]], dtype=object)
    with pytest.raises(ValueError, match=r"given holds values that are not numbers \('abc' in column 1, row 1 of "
                                         r"the conditions\)"):
        array_model.sample(2, given=given)
    with pytest.raises(ValueError, match=r"not numbers \('abc' in column 2, row 0"):
        array_model.sample(2, given={2: "abc"})


# ------------------------------------------------------------------ infinite cells of a file


@pytest.mark.parametrize("cell", ["inf", "-Infinity", "1e400"])
@pytest.mark.parametrize("command", [["fit", "--max-iter", "2"], ["impute", "--max-iter", "2"], ["score", "{model}"]])
def test_an_infinite_cell_of_a_file_is_refused_in_the_files_terms(cli_files, tmp_path, cell, command):
    path = tmp_path / "inf.csv"
    path.write_text("a,b\n1.5,\n" + f"{cell},2.5\n" + "".join(f"{i / 3},{i}\n" for i in range(8)))
    argv = [arg.format(model=cli_files["model"]) for arg in command]
    argv = [argv[0], *argv[1:], path] if command[0] == "score" else [argv[0], path, *argv[1:]]
    status, _, err = _run([*argv, "--out", tmp_path / "out.csv" if command[0] != "fit" else tmp_path / "m.skvae"])
    assert status == 1
    if cell == "1e400":
        # Sweep 15: a number beyond float64's range is refused by its text, before it is read as inf.
        assert f"{path}: column 'a', line 3: '1e400' overflows float64" in err
        assert "leave the cell empty to mark it missing" in err
    else:
        assert f"{path} holds an infinite value (" in err and "column 'a', line 3)" in err
        assert "leave a missing cell empty, or remove the line" in err
    assert "X contains" not in err and "NaN (or None)" not in err


def test_a_text_cell_in_a_file_of_codes_is_refused_in_the_command_lines_terms(cli_files, tmp_path):
    codes = tmp_path / "codes.csv"
    codes.write_text("vaetransformer0,vaetransformer1\n0.1,0.2\n0.1,abc\n")
    status, _, err = _run(["inverse", cli_files["model"], codes])
    assert status == 1
    # Sweep 15: the column by its name in the file, not its position among the codes.
    assert f"{codes}: column 'vaetransformer1' holds text ('abc' at line 3): latent codes are numbers" in err
    assert "X holds" not in err and "inverse_transform" not in err


# ------------------------------------------------------------------ tensors of float dtypes NumPy lacks


@pytest.mark.parametrize("face", [VAETransformer, VAEImputer, VAEOutlierDetector])
def test_a_bfloat16_tensor_is_read_as_its_float32_values(face):
    torch = pytest.importorskip("torch")
    X = torch.tensor(_array(20), dtype=torch.bfloat16)
    values = X.float().numpy()
    fitted = face(**TINY).fit(X)
    out = fitted.transform(X) if hasattr(fitted, "transform") else fitted.score_samples(X)
    assert isinstance(out, np.ndarray) and np.isfinite(out).all()
    reference = face(**TINY).fit(values)
    expected = reference.transform(values) if hasattr(reference, "transform") else reference.score_samples(values)
    np.testing.assert_array_equal(out, expected)


def test_bfloat16_codes_and_conditions_are_read_too(array_model):
    torch = pytest.importorskip("torch")
    decoded = array_model.inverse_transform(torch.zeros(2, 2, dtype=torch.bfloat16))
    assert isinstance(decoded, np.ndarray) and decoded.shape == (2, 3)
    out = array_model.sample(given=torch.tensor([[0.5, float("nan"), float("nan")]], dtype=torch.bfloat16))
    assert isinstance(out, np.ndarray) and out[0, 0] == 0.5
