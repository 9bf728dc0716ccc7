"""Hostile use, twenty-sixth sweep: the estimators' lifecycle, state over sequences of calls.

Swept and found sound (tiny fits, ``hidden_layer_sizes=(8,)``,
``latent_dim=2``): an exception raised from inside training (the trainer's
step patched to raise ``RuntimeError`` at its n-th call) in a fresh fit, a
refit of a fitted estimator, a ``warm_start`` fit and a ``partial_fit`` of
every face: the estimator as before (its attributes, ``transform``,
``score_samples``, the imputer's draws), and continuing it gives the bits of
a copy made before the failed call; the same for a failure after training
(the latent mixture, the imputer's refinement and point fills, the
detector's threshold) under ``warm_start`` with and without
``early_stopping`` and in ``partial_fit``; Ctrl-C inside training keeps the
finished epochs, as ``test_interrupts.py`` pins; ``KeyboardInterrupt`` and
``RuntimeError`` raised from the inference networks in ``transform``,
``sample``, ``score_samples`` (K 3), the imputer's ``transform`` (with and
without ``sample_posterior``) and ``multiple_imputations``, the detector's
``predict``: the next call's bits as a copy's first. After each of those and
after fits, refused fits (a network beyond memory) and diverged fits, with
an int ``random_state`` and with None: torch's thread counts, default dtype,
grad and inference mode, deterministic-algorithms flag, float32 matmul
precision, anomaly mode and global RNG, NumPy's and Python's global RNG as
they were (an unseeded fit draws its seed from NumPy's, scikit-learn's
convention); a refused fit leaves a ``RandomState`` passed as
``random_state`` unadvanced. ``fit`` with the same ``random_state`` after
``sample``, ``score_samples``, ``partial_fit`` and reseeding NumPy and torch
(identical codes; the imputer's draws too); ``copy.deepcopy``, pickle and
``skvae.save``/``load`` in the middle of a ``partial_fit``/``warm_start``
sequence, each copy continued (the same bits and ``loss_curve_``; the
imputer's next draw the same); ``set_params`` after a fit without refitting
(``latent_dim``, ``hidden_layer_sizes``, ``activation``,
``missing_mechanism``, ``likelihood``, ``device``; inference keeps the fitted
model; ``get_feature_names_out`` the fitted codes; the imputer's
``add_indicator`` refused by name, ``keep_empty_features`` and
``missing_values`` read at ``transform`` as SimpleImputer reads them) and
through pickle, ``copy.deepcopy`` and ``skvae.save`` (the changed parameters
kept); ``set_output`` through ``clone``, pickle, deepcopy and save/load;
``warm_start`` with float32 after float64; the imputer warm-started with a
column that was empty now observed, or the reverse (refused by name, with or
without ``keep_empty_features``), with ``missing_values`` or
``add_indicator`` changed; the detector warm-started with ``contamination``
changed (a new ``offset_``); ``partial_fit`` blocks with a column missing in
every row, only missing cells, one row, float32, fewer rows than
``batch_size``; values a likelihood cannot have (negative or fractional
counts, Bernoulli values outside [0, 1], non-positive log-normal values,
unseen levels) in ``partial_fit``, ``warm_start``, ``transform`` and
``score_samples``, each refused naming the column, value and row; integer
column labels permuted, renamed or replaced (refused naming both orders);
``max_iter=0`` (scikit-learn's parameter error), ``max_iter=1`` with
``early_stopping=True``, and ``early_stopping=True`` on 2, 3 and 4 rows
(``validation_fraction`` 0.01 too) on every face; fits, continued fits and
inference inside ``torch.no_grad()``, ``torch.inference_mode()``,
``detect_anomaly()``, under ``use_deterministic_algorithms(True)`` and a
float64 default dtype (the same bits as outside), and a model whose caches
were built in inference mode continued outside it; a ``copy.copy`` of each
face continued (``warm_start`` with other parameters, ``partial_fit``: the
original's weights, parameters and ``n_iter_`` unchanged); the detector's
``fit_predict`` and the imputer's ``fit_transform`` under ``warm_start``
(equal to ``fit`` then ``predict``/``transform`` of a copy); a refit of a
fitted estimator interrupted in its first epoch keeps the refit's initial
weights, as MLPRegressor's refit keeps its new ones (``test_interrupts.py``
pins the warning); an int and a ``RandomState`` ``random_state`` through
``skvae.save``/``load`` and pickle of the imputer (``_draws`` stays the
parameter itself, so copies refit and draw alike).

Each family below failed once (see the commit that added its tests):

- **A face's continued fit checked X in another estimator's name, or not
  at all** (``skvae._imputer.VAEImputer._fit``, ``skvae._outliers.VAEOutlierDetector._fit``,
  ``skvae._faces.in_the_vaes_form``): a ``warm_start`` fit of
  ``VAEImputer`` validated X as a first fit does, so after a fit on a
  DataFrame one on an array (or the reverse) replaced the imputer's
  ``feature_names_in_`` while its ``vae_`` kept the first fit's:
  ``get_feature_names_out`` changed from the column names to ``x0, x1,
  ...`` (or back), and ``transform`` of the first fit's DataFrame warned
  that the imputer "was fitted without feature names" (and its refusal of
  a column empty at the first fit and observed now named it ``[2]`` where
  the first fit had named it ``'c'``). The only warning of
  the continued fit itself, and the refusal of another column count, named
  ``VAETransformer``, a class the caller never made; the detector's
  likewise. A continued fit now keeps the first fit's columns, as
  ``VAETransformer``'s does, and checks X against them in the face's own
  name (scikit-learn's words); the VAE is handed X in the form of its first
  fit (it reads tables by position either way: the same bits), so it does
  not warn a second time.
- **A record list read from a fitted model was the model's own**
  (``skvae._core_backed.CoreBacked.__getattr__``): ``loss_curve_`` and
  ``validation_scores_`` handed out the lists the model keeps, so a
  caller's ``curve = vae.loss_curve_; curve += more`` (or an ``append``)
  rewrote the record: ``n_iter_`` no longer counted its entries, and every
  later ``copy.deepcopy``, pickle and ``skvae.save`` was refused as an
  invalid state ("loss_curve_ has 3 entries, but n_iter_ is 2"), the
  imputer's and detector's through their ``vae_`` too; a ``copy.copy``
  sharing the model changed with it. Each read is now the caller's own list
  (MLPRegressor's attribute is its own list too, but nothing there checks
  it against ``n_iter_`` when copied); assigning a list still replaces the
  record, in that estimator only.
- **best_validation_score_ of weights thrown away** (``skvae._model.VAEModel._record``):
  a validated ``warm_start`` fit keeps the weights it started from unless
  an epoch beats their held-out score (sweep 23), but that score was not
  recorded, so after a fit without validation (``early_stopping=False``, a
  ``partial_fit``) a continued fit none of whose epochs beat its start
  reported the best of its discarded epochs (-7.60 beside kept weights
  scoring -6.65 on an 80-row table, ``learning_rate=0.3``), and one
  interrupted before its first epoch reported None. The start's score is a
  candidate for ``best_validation_score_`` now (documented as the kept
  weights' score); ``validation_scores_`` stays one entry per epoch. After
  a validated fit nothing changes: its best, the weights started from, is
  in the record already.

Found and LEFT:

- A ``warm_start`` fit of any face on an array after a DataFrame (or the
  reverse) is accepted with scikit-learn's warning, as scikit-learn's own
  estimators accept it: columns are read by position, and the first fit's
  schema (names, kinds) stays.
- A nested list given to a face's continued fit after a DataFrame fit warns
  twice, the second time naming VAETransformer: a list is left to the VAE's
  own conversion (turning it into a DataFrame would read text columns
  otherwise than an array's).
- A continued fit with validation after a fit without it (or with a larger
  ``validation_fraction``) holds out rows the fit before trained on, whose
  score falls as training goes on without them, so the rule favours the
  start; the user asked for validation after training on every row, as
  MLPRegressor's ``warm_start`` allows. Sweep 23's fixed split covers the
  case of unchanged parameters.
- A validated fit that restores an earlier epoch's weights keeps Adam's
  state of its last epoch (``early_stopping=True``, best epoch 1 of 15:
  Adam's step count 15), so a ``partial_fit`` or ``warm_start`` fit after
  it starts from moments those weights did not see; sweep 20 put Adam's
  state back with the weights for a Ctrl-C, not here. MLPRegressor also
  keeps its optimizer's state beside its restored best coefficients. Left:
  it needs a copy of Adam's state at every improving epoch of every
  validated fit, in the loop ``test_interrupts.py`` pins, a change for a
  sweep of the training loop rather than the end of this one.
"""

import copy
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

import skvae._training
from skvae import VAEImputer, VAEOutlierDetector, VAETransformer

TINY = dict(hidden_layer_sizes=(8,), latent_dim=2, max_iter=2, random_state=0)


def _table():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    X[::4, 1] = np.nan
    return X, pd.DataFrame(X, columns=["a", "b", "c"])


def _fit_warnings(estimator, X):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(X)
    return [str(warning.message) for warning in caught]


def _output(estimator, X):
    if isinstance(estimator, VAEImputer):
        return np.asarray(estimator.transform(X), dtype=float)
    return estimator.score_samples(X)


FACES = [VAEImputer, VAEOutlierDetector]


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("first, then", [("frame", "array"), ("array", "frame")])
def test_a_continued_fit_on_the_other_form_keeps_the_first_fits_columns(face, first, then):
    """An array after a DataFrame (or the reverse) under warm_start: the face's names stay its VAE's.

    Before the fix the imputer took the new X's names (none, or the
    DataFrame's) while its ``vae_`` kept the first fit's.
    """
    X, frame = _table()
    tables = {"frame": frame, "array": X}
    estimator = face(**TINY, warm_start=True).fit(tables[first])
    names_before = getattr(estimator, "feature_names_in_", None)
    out_names_before = (estimator.get_feature_names_out().tolist()
                        if hasattr(estimator, "get_feature_names_out") else None)
    _fit_warnings(estimator, tables[then])
    names = getattr(estimator, "feature_names_in_", None)
    vae_names = getattr(estimator.vae_, "feature_names_in_", None)
    assert (names is None) == (names_before is None) == (vae_names is None)
    if names is not None:
        assert names.tolist() == vae_names.tolist() == ["a", "b", "c"]
    if out_names_before is not None:
        assert estimator.get_feature_names_out().tolist() == out_names_before
    # The first fit's form is still the one transform takes without a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _output(estimator, tables[first])


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("first, then", [("frame", "array"), ("array", "frame")])
def test_a_continued_fit_warns_once_in_the_faces_own_name(face, first, then):
    """scikit-learn's feature-name warning names the class the caller fitted, once; it named VAETransformer."""
    X, frame = _table()
    tables = {"frame": frame, "array": X}
    estimator = face(**TINY, warm_start=True).fit(tables[first])
    messages = [message for message in _fit_warnings(estimator, tables[then]) if "feature names" in message]
    assert len(messages) == 1, messages
    assert f"but {face.__name__} was fitted" in messages[0]


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("first", ["frame", "array"])
def test_a_continued_fit_on_another_column_count_is_refused_in_the_faces_name(face, first):
    X, frame = _table()
    estimator = face(**TINY, warm_start=True).fit(frame if first == "frame" else X)
    state = dict(vars(estimator))
    with warnings.catch_warnings(), pytest.raises(
            ValueError, match=f"X has 4 features, but {face.__name__} is expecting 3 features"):
        warnings.simplefilter("ignore")  # after a DataFrame, scikit-learn also warns that X has no names
        estimator.fit(np.c_[X, X[:, :1]])
    assert vars(estimator).keys() == state.keys()
    assert all(vars(estimator)[name] is value for name, value in state.items())


@pytest.mark.parametrize("face", FACES)
def test_a_continued_fit_on_the_other_form_trains_as_on_the_first(face):
    """Handing the VAE X in its first fit's form changes no bit: the VAE reads a table by position."""
    X, frame = _table()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        on_array = face(**TINY, warm_start=True).fit(frame).fit(X)
        on_frame = face(**TINY, warm_start=True).fit(frame).fit(frame)
        assert np.array_equal(_output(on_array, X), _output(on_frame, X))
        from_array_on_frame = face(**TINY, warm_start=True).fit(X).fit(frame)
        from_array_on_array = face(**TINY, warm_start=True).fit(X).fit(X)
        assert np.array_equal(_output(from_array_on_frame, X), _output(from_array_on_array, X))


@pytest.mark.parametrize("attribute, early_stopping", [("loss_curve_", False), ("validation_scores_", True)])
def test_a_read_record_list_changed_by_the_caller_leaves_the_model_alone(attribute, early_stopping):
    """Extending the list ``loss_curve_`` gave rewrote the model's record: every later copy was refused.

    ``n_iter_`` no longer counted its entries, so pickle, ``copy.deepcopy``
    and ``skvae.save`` refused the state, and a ``copy.copy`` sharing the
    model changed with it. Decided: each read is the caller's own list (a
    fit still appends to the record; assigning a list still replaces it).
    """
    X, frame = _table()
    estimator = VAETransformer(**TINY, early_stopping=early_stopping).fit(frame)
    shallow = copy.copy(estimator)
    record = list(getattr(estimator, attribute))
    read = getattr(estimator, attribute)
    read.append(1.0)
    read += [2.0]
    assert getattr(estimator, attribute) == record
    assert getattr(shallow, attribute) == record
    assert len(estimator.loss_curve_) == estimator.n_iter_
    restored = pickle.loads(pickle.dumps(copy.deepcopy(estimator)))
    assert getattr(restored, attribute) == record
    epochs = estimator.n_iter_
    estimator.partial_fit(frame)
    assert len(estimator.loss_curve_) == estimator.n_iter_ == epochs + 1


def test_assigning_a_record_list_still_replaces_it_in_that_estimator_only():
    X, frame = _table()
    estimator = VAETransformer(**TINY).fit(frame)
    shallow = copy.copy(estimator)
    before = shallow.loss_curve_
    estimator.loss_curve_ = [float(value) for value in range(estimator.n_iter_)]
    assert estimator.loss_curve_ == [0.0, 1.0]
    assert shallow.loss_curve_ == before


def _started_from(model, X):
    """The held-out score of `model`'s weights in a validated continued fit: one epoch whose steps change nothing."""
    probe = copy.deepcopy(model).set_params(warm_start=True, early_stopping=True, learning_rate=1e-300, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probe.fit(X)
    return probe.validation_scores_[-1]


def _fitted_without_validation():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    X[:, 1] += X[:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = VAETransformer(**{**TINY, "max_iter": 20}, early_stopping=False).fit(X)
    return model, X


def test_a_continued_fit_keeping_its_start_reports_the_start_weights_score():
    """best_validation_score_ named a discarded epoch's score beside the weights kept.

    A validated ``warm_start`` fit after one without validation, whose every
    epoch scores below the weights it started from (a learning rate far too
    large), keeps those weights (sweep 23); its best score was the best of
    the thrown-away epochs'.
    """
    model, X = _fitted_without_validation()
    codes = model.transform(X)
    start = _started_from(model, X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.set_params(warm_start=True, early_stopping=True, learning_rate=0.3, max_iter=3).fit(X)
    np.testing.assert_array_equal(model.transform(X), codes)  # the start weights kept
    assert len(model.validation_scores_) == 3 and max(model.validation_scores_) < start  # the case
    assert model.best_validation_score_ == start
    assert model.best_loss_ is None


def test_a_continued_fit_interrupted_before_its_first_epoch_reports_the_start_weights_score(monkeypatch):
    model, X = _fitted_without_validation()
    codes, epochs = model.transform(X), model.n_iter_
    start = _started_from(model, X)

    def interrupted(self, data):
        raise KeyboardInterrupt

    monkeypatch.setattr(skvae._training.Trainer, "run_epoch", interrupted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.set_params(warm_start=True, early_stopping=True).fit(X)
    np.testing.assert_array_equal(model.transform(X), codes)
    assert model.n_iter_ == epochs and model.validation_scores_ == []
    assert model.best_validation_score_ == start  # was None: no epoch, yet weights with a score


def test_a_continued_fit_whose_epoch_beats_its_start_still_reports_that_epoch():
    model, X = _fitted_without_validation()
    start = _started_from(model, X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.set_params(warm_start=True, early_stopping=True, max_iter=10).fit(X)
    assert max(model.validation_scores_) > start  # the case: training on improves the held-out score
    assert model.best_validation_score_ == max(model.validation_scores_)


def test_a_continued_fit_on_an_array_names_a_filled_empty_column_by_the_first_fits_name():
    """The refusal of a column empty at the first fit and observed now names it as the first fit did."""
    X, frame = _table()
    frame = frame.assign(c=np.nan)
    imputer = VAEImputer(**TINY, warm_start=True).fit(frame)
    with warnings.catch_warnings(), pytest.raises(ValueError, match=r"columns \['c'\], missing in every row"):
        warnings.simplefilter("ignore")  # X has no names: scikit-learn's warning
        imputer.fit(X)
