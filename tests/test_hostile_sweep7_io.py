"""Hostile input, seventh sweep: input types, scikit-learn composition, threads and the command line.

Swept and found sound: pandas' nullable and Arrow dtypes (Int8..UInt64,
Float32, boolean, string[pyarrow], int64/bool/large_string[pyarrow]) come
back in their dtypes; categoricals (ordered, unused or mixed-type levels),
uint64 above 2**63 and int64 above 2**53 fit and come back; columns given at
transform in another dtype (Int64 then float64, category then object) encode
alike, and a boolean column given as 0/1 is refused naming it; MultiIndex,
mixed or duplicate column labels are refused by name; Pipeline,
ColumnTransformer with set_output("pandas"), GridSearchCV and
cross_val_score with n_jobs=2, clone after fit, FunctionTransformer and
TransformedTargetRegressor work; torch's settings survive every call and
refusal; --likelihood refuses bad kinds, unknown, dropped and repeated
columns and kinds the data cannot have; BOM, quoted newlines, semicolon and
tab files, long lines, header-only and duplicate headers, Latin-1 files and
model files truncated or of another face are handled or refused by name.

Each family below failed once (see the commit that added its tests):

- **A word pandas reads as missing, in a column of text** (the CLI's CSV
  reader): ``NA``, ``N/A``, ``null``, ``None`` and a dozen more were missing
  cells in every column, so a column of country codes was fitted without
  Namibia (``NA``), ``impute`` overwrote those cells with other countries,
  and nothing said so. Now they are text in a column of text (and still
  missing in a column of numbers, which cannot hold text), the commands
  that learn from a file name the words kept, and ``--missing-values``
  names texts that are missing in every column (a refused unknown category
  says so too).
- **A numeric dtype pd.to_numeric refuses** (``skvae._schema``): a
  ``halffloat[pyarrow]`` column was classed as numbers and then refused at
  fit as holding "values that are not numbers"; numbers are now converted by
  their dtype. pyarrow's dictionary (categories) and duration columns were
  told to ``.astype(float) or .astype(str)``; they are told
  ``.astype('category')`` and ``.dt.total_seconds()``.
- **Booleans given as 0/1** (``skvae._schema._same_text_hint``): a boolean
  column given at transform as Int64 or float 0/1 (or a 0/1 column as
  booleans) was refused as unseen categories with no word of why, where
  ``'1'`` for ``1`` was named as the same label in another type; now it is,
  with a conversion that keeps missing cells missing.
- **An object column of integers** (``skvae._imputer._set_fills``): no
  dtype says its cells are integers, and ``VAEImputer`` filled it with
  floats (144.0 amid 143 and 150); it now fills such a column with ints.
- **Another thread during a call** (``skvae._transaction``): a call wrote
  its attributes one by one, so a pickle, ``copy.deepcopy`` or
  :func:`skvae.save` taken while a ``fit`` ran in another thread held half
  a state (pickled without a word, refused on loading: "the fitted state
  lacks [...]"), and ``transform`` during a refit on other columns checked
  X against the new names and encoded it with the old networks, silently.
  Now each estimator's state-changing calls hold a readers-writer lock for
  writing, and inference and pickling hold it for reading; a forked child
  starts with no lock held.
"""

import copy
import datetime
import os
import pickle
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

import skvae
from skvae import VAEImputer, VAEOutlierDetector, VAETransformer
from _cli_run import run_cli as _run
from skvae._csv import read_table

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(latent_dim=2, hidden_layer_sizes=(4,), max_iter=3, batch_size=16, random_state=0)
FAST_FIT = ["--latent-dim", "2", "--max-iter", "2", "--hidden-layer-sizes", "4", "--batch-size", "16", "-q"]
FAST_IMPUTE = ["--latent-dim", "2", "--max-iter", "2", "-q"]

#: What pandas' read_csv reads as missing by default, among them the ones files hold as values.
PANDAS_MISSING_WORDS = ["NA", "N/A", "n/a", "null", "NULL", "None", "NaN", "nan", "<NA>", "#N/A"]


# --- a numeric dtype is read as numbers by its dtype ----------------------------------

def _halffloat_table(n=40):
    pa = pytest.importorskip("pyarrow")  # no extra declares it (hostile sweep 33 ran without it)

    rng = np.random.default_rng(0)
    values = rng.normal(size=n).astype(np.float16).astype(object)
    values[[3, 7]] = None
    half = pd.arrays.ArrowExtensionArray(pa.array(list(values), type=pa.float16()))
    return pd.DataFrame({"x": rng.normal(size=n), "h": half})


@pytest.mark.parametrize("face, method", [(VAETransformer, "inverse"), (VAETransformer, "sample"),
                                          (VAEImputer, "transform"), (VAEOutlierDetector, "score_samples")])
def test_a_pyarrow_halffloat_column_is_numbers_at_fit_and_after(face, method):
    # pd.to_numeric refuses halffloat[pyarrow]; fit called the column "values that are not numbers".
    X = _halffloat_table()
    estimator = face(**TINY).fit(X)
    if method == "score_samples":
        assert np.isfinite(estimator.score_samples(X)).all()
        return
    out = {"inverse": lambda: estimator.inverse_transform(estimator.transform(X)),
           "sample": lambda: estimator.sample(5, random_state=0),
           "transform": lambda: estimator.transform(X)}[method]()
    assert out["h"].dtype == X["h"].dtype and out["h"].notna().all()
    if method == "transform":
        observed = X["h"].notna()
        assert out["h"][observed].equals(X["h"][observed])


@pytest.mark.parametrize("arrow_type, values, advice", [
    # A dictionary of text, numbers or booleans is modelled since (tests/test_hostile_sweep9_known.py).
    ("dictionary", [datetime.date(2020, 1, 1), datetime.date(2020, 1, 2)] * 10, ".astype('string')"),
    ("duration", [1, 2] * 10, ".dt.total_seconds()"),
])
def test_a_pyarrow_column_of_categories_or_durations_is_refused_with_its_conversion(arrow_type, values, advice):
    pa = pytest.importorskip("pyarrow")  # no extra declares it (hostile sweep 33 ran without it)

    array = (pa.array(values).dictionary_encode() if arrow_type == "dictionary"
             else pa.array(values, type=pa.duration("s")))
    X = pd.DataFrame({"x": np.arange(20.0), "v": pd.arrays.ArrowExtensionArray(array)})
    for face in (VAETransformer, VAEImputer, VAEOutlierDetector):
        with pytest.raises(ValueError, match="Column 'v'") as refusal:
            face(**TINY).fit(X)
        assert advice in str(refusal.value)
    # The advice runs, and what it makes fits.
    converted = X["v"].astype("string") if arrow_type == "dictionary" else X["v"].dt.total_seconds()
    assert VAETransformer(**TINY).fit(X.assign(v=converted)).n_features_in_ == 2


# --- booleans given as 0/1, or 0/1 as booleans, are named with their conversion ------------

def _flag_table(n=40):
    rng = np.random.default_rng(0)
    flags = pd.array(rng.integers(0, 2, n).astype(bool), dtype="boolean")
    flags[[2, 5]] = pd.NA
    return pd.DataFrame({"x": rng.normal(size=n), "f": flags, "d": rng.integers(0, 2, n)})


@pytest.mark.parametrize("column, given, conversion", [
    ("f", lambda f: f.astype("Int64"), "X['f'].map({0: False, 1: True})"),
    ("f", lambda f: f.astype("Float64").astype(float), "X['f'].map({0: False, 1: True})"),
    ("d", lambda d: d.astype(bool), "X['d'].map({False: 0, True: 1})"),
])
@pytest.mark.parametrize("face, method", [(VAETransformer, "transform"), (VAEImputer, "transform"),
                                          (VAEOutlierDetector, "score_samples")])
def test_booleans_given_as_numbers_or_numbers_as_booleans_are_named_with_their_conversion(
        face, method, column, given, conversion):
    X = _flag_table()
    estimator = face(**TINY).fit(X)
    expected = getattr(estimator, method)(X)
    changed = X.assign(**{column: given(X[column])})
    with pytest.raises(ValueError, match="written as another type") as refusal:
        getattr(estimator, method)(changed)
    assert conversion in str(refusal.value)
    # The conversion named gives the labels of fit back, and the result of the table fitted.
    advised = changed.assign(**{column: eval(conversion, {"X": changed})})
    np.testing.assert_array_equal(np.asarray(getattr(estimator, method)(advised), dtype=object),
                                  np.asarray(expected, dtype=object))


# --- an object column of integers is filled with integers -------------------------------

@pytest.mark.parametrize("call", ["transform", "fit_transform", "multiple_imputations"])
def test_an_object_column_of_integers_is_filled_with_integers(call):
    rng = np.random.default_rng(0)
    counts = pd.Series([int(v) for v in rng.integers(0, 300, 40)], dtype=object)
    counts[[3, 7, 11]] = None
    X = pd.DataFrame({"x": rng.normal(size=40), "n": counts})
    imputer = VAEImputer(**TINY)
    outs = {"transform": lambda: [imputer.fit(X).transform(X)],
            "fit_transform": lambda: [imputer.fit_transform(X)],
            "multiple_imputations": lambda: imputer.fit(X).multiple_imputations(X, 2)}[call]()
    for out in outs:
        assert out["n"].dtype == object and out["n"].notna().all()
        # 144, not 144.0: the column's own type, as its other cells have it.
        assert {type(value) for value in out["n"]} == {int}
        assert out["n"][X["n"].notna()].equals(X["n"][X["n"].notna()])


# --- a word pandas reads as missing is text in a column of text ------------------------

def _countries_file(tmp_path, word, n=40):
    """A CSV file: country codes, `word` in every fourth row and two cells empty; numbers, `word` once."""
    codes = [[word, "DE", "FR", "IT"][i % 4] for i in range(n)]
    codes[6] = codes[11] = ""
    numbers = [f"{value:.3f}" for value in np.random.default_rng(0).normal(size=n)]
    numbers[2] = word  # in a column of numbers the same word can only mean a missing cell
    path = tmp_path / "countries.csv"
    path.write_text("country,gdp\n" + "".join(f"{c},{g}\n" for c, g in zip(codes, numbers)))
    return path


@pytest.mark.parametrize("word", PANDAS_MISSING_WORDS)
def test_a_word_pandas_reads_as_missing_is_text_in_a_text_column_and_missing_in_a_number_column(tmp_path, word):
    table = read_table(str(_countries_file(tmp_path, word)))
    country = table.frame["country"]
    assert (country == word).sum() == 10
    assert country.isna().sum() == 2  # the empty cells, and only they
    assert pd.api.types.is_float_dtype(table.frame["gdp"]) and table.frame["gdp"].isna().sum() == 1
    assert table.missing_words == {"country": [word]}


def test_missing_values_names_texts_that_are_missing_in_every_column(tmp_path):
    path = _countries_file(tmp_path, "NA")
    table = read_table(str(path), missing_values=["NA", "DE"])
    assert table.frame["country"].isna().sum() == 2 + 10 + 10
    assert set(table.frame["country"].dropna()) == {"FR", "IT"}
    assert table.frame["gdp"].isna().sum() == 1
    assert table.missing_words == {}


def test_a_column_of_only_such_words_is_an_empty_column(tmp_path):
    # An R export writes NA in every cell of a column it has no values for: nothing to keep as text.
    path = tmp_path / "empty.csv"
    path.write_text("a,b\n" + "".join(f"{i},NA\n" for i in range(12)))
    table = read_table(str(path))
    assert table.frame["b"].isna().all() and table.missing_words == {}


def test_fit_keeps_such_words_as_categories_and_names_them(tmp_path):
    data, model = _countries_file(tmp_path, "NA"), tmp_path / "model.skvae"
    status, _, err = _run(["fit", data, "--out", model, *FAST_FIT])
    assert status == 0
    assert "column(s) of text: 'country' ('NA')" in err and "--missing-values" in err
    fitted = skvae.load(model)
    # 'NA' is a category of the model: a row of it is no unknown category, and it is no missing cell.
    frame = pd.DataFrame({"country": ["NA"], "gdp": [0.1]})
    fitted.set_params(handle_unknown="error").transform(frame)
    assert fitted.score_samples(frame)[0] != fitted.score_samples(frame.assign(country=[None]))[0]


def test_impute_keeps_such_words_and_fills_them_only_when_told_they_are_missing(tmp_path):
    data, out = _countries_file(tmp_path, "NA"), tmp_path / "out.csv"
    status, _, err = _run(["impute", data, "--out", out, *FAST_IMPUTE])
    assert status == 0 and "'country' ('NA')" in err
    written = pd.read_csv(out, keep_default_na=False, dtype=str)
    assert (written["country"] == "NA").sum() == 10  # kept as written, none overwritten
    assert (written["country"] != "").all()  # the two empty cells are filled

    status, _, err = _run(["impute", data, "--out", out, "--missing-values", "NA", *FAST_IMPUTE])
    assert status == 0 and "note: read as text" not in err
    written = pd.read_csv(out, keep_default_na=False, dtype=str)
    assert set(written["country"]) <= {"DE", "FR", "IT"}  # every NA cell filled with a country


def test_such_a_word_unseen_at_fit_is_an_unknown_category_whose_refusal_names_missing_values(tmp_path):
    fitted, data, model = tmp_path / "fit.csv", tmp_path / "new.csv", tmp_path / "model.skvae"
    fitted.write_text("c,g\n" + "".join(f"{['DE', 'FR'][i % 2]},{i / 10}\n" for i in range(30)))
    data.write_text("c,g\n" + "".join(f"{['DE', 'NA'][i % 2]},{i / 10}\n" for i in range(6)))
    assert _run(["fit", fitted, "--out", model, *FAST_FIT])[0] == 0
    status, _, err = _run(["score", model, data])
    assert status != 0 and "['NA']" in err and "--missing-values" in err
    status, out, _ = _run(["score", model, data, "--missing-values", "NA"])
    assert status == 0 and "Mean score of 6 rows" in out


# --- another thread sees a call's state before or after, never halfway ------------------

def _frames(n=60):
    rng = np.random.default_rng(0)
    first = pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})
    # Other names, other units: the model of x and y given p and q encodes them wrongly.
    other = pd.DataFrame({"p": 100 * rng.normal(size=n), "q": rng.normal(size=n) - 5})
    return first, other


def _during_fit(monkeypatch, action, wait=0.5):
    """Run `action` in another thread when a fit reaches training (its input validated); its outcome after.

    The fit waits up to `wait` seconds for the thread, so that an action the
    fit does not hold off runs while the fit is halfway.
    """
    import skvae._estimator as estimator_module

    outcome, threads = {}, []
    real_fit_model = estimator_module.fit_model

    def run():
        try:
            outcome["value"] = action()
        except Exception as error:  # the outcome a test looks at
            outcome["error"] = error

    def fit_model(*args, **kwargs):
        if not threads:
            thread = threading.Thread(target=run)
            threads.append(thread)
            thread.start()
            thread.join(wait)
        return real_fit_model(*args, **kwargs)

    monkeypatch.setattr(estimator_module, "fit_model", fit_model)

    def result():
        threads[0].join(30)
        assert not threads[0].is_alive()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    return result


def _inference(face):
    return {VAETransformer: "transform", VAEImputer: "transform", VAEOutlierDetector: "score_samples"}[face]


@pytest.mark.parametrize("refit", [False, True], ids=["fresh", "refit"])
@pytest.mark.parametrize("copier", ["pickle", "deepcopy", "save"])
@pytest.mark.parametrize("face", [VAETransformer, VAEImputer, VAEOutlierDetector])
def test_a_copy_taken_while_a_fit_runs_in_another_thread_is_the_state_before_or_after(
        monkeypatch, tmp_path, face, copier, refit):
    first, other = _frames()
    estimator = face(**TINY)
    if refit:
        estimator.fit(first)
    path = tmp_path / "model.skvae"
    take = {"pickle": lambda: pickle.loads(pickle.dumps(estimator)),
            "deepcopy": lambda: copy.deepcopy(estimator),
            "save": lambda: (skvae.save(estimator, path), skvae.load(path))[1]}[copier]
    copied = _during_fit(monkeypatch, take)
    estimator.fit(other)
    taken = copied()
    method = _inference(face)
    expected = getattr(estimator, method)(other)
    np.testing.assert_array_equal(np.asarray(getattr(taken, method)(other)), np.asarray(expected))


@pytest.mark.parametrize("face, method", [(VAETransformer, "transform"), (VAETransformer, "score_samples"),
                                          (VAEImputer, "transform"), (VAEOutlierDetector, "score_samples"),
                                          (VAEOutlierDetector, "predict")])
def test_inference_while_a_refit_runs_in_another_thread_uses_one_model(monkeypatch, face, method):
    first, other = _frames()
    other.iloc[::7, 0] = np.nan  # something for the imputer to fill
    estimator = face(**TINY).fit(first)
    during = _during_fit(monkeypatch, lambda: getattr(estimator, method)(other))
    estimator.fit(other)
    # Checked against the new names and run by the old networks, it had come back without a word.
    np.testing.assert_array_equal(np.asarray(during()), np.asarray(getattr(estimator, method)(other)))


def test_sample_while_a_refit_runs_in_another_thread_draws_from_one_model(monkeypatch):
    first, other = _frames()
    estimator = VAETransformer(**TINY).fit(first)
    during = _during_fit(monkeypatch, lambda: estimator.sample(5, random_state=0))
    estimator.fit(other)
    pd.testing.assert_frame_equal(during(), estimator.sample(5, random_state=0))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_while_another_thread_holds_the_lock_uses_the_estimator():
    from skvae._transaction import state_lock

    first, _ = _frames()
    estimator = VAETransformer(**TINY).fit(first)
    held, release = threading.Event(), threading.Event()

    def hold():
        with state_lock(estimator).writing():
            held.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    try:
        pid = os.fork()
        if pid == 0:  # the child: the thread holding the lock was not forked with it
            code = 1
            try:
                estimator.transform(first)
                code = 0
            finally:
                os._exit(code)
        for _ in range(600):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child waited for a lock no thread of it holds")
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        release.set()
        holder.join()


def test_the_state_lock_shares_reads_and_orders_writes():
    from skvae._transaction import StateLock

    lock = StateLock()
    events = []
    with lock.reading():
        # Another thread reads alongside; a writer waits for the reads to end.
        def read_briefly():
            with lock.reading():
                events.append("other read")

        def write():
            with lock.writing():
                events.append("write")

        reader = threading.Thread(target=read_briefly)
        reader.start()
        reader.join(5)
        assert events == ["other read"]
        writer = threading.Thread(target=write)
        writer.start()
        writer.join(0.2)
        assert writer.is_alive() and events == ["other read"]
        with lock.reading():  # re-entrant while a writer waits: waiting would wait for itself
            events.append("nested read")
    writer.join(5)
    assert events == ["other read", "nested read", "write"]
    with lock.writing():
        with lock.reading(), lock.writing():  # a writer reads and writes on
            events.append("inside")
    assert events[-1] == "inside"
