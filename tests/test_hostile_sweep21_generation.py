"""Hostile input, twenty-first sweep: the generation API, ``sample`` (``given``, ``with_missing``, seeds, refits).

Swept and found sound: ``sample`` on a mixed DataFrame (float, int, category,
bool, object text, Int64, boolean and string columns with holes) gives the
training dtypes and column order, plain, with ``with_missing`` (each
column's missing rate near the table's), ``return_mean`` and ``given``;
``given`` as a dict of every column, of none (``{}``), with NumPy bools and
integers, a float for an Int64 column modelled as categories (2.0: the
category 2), "1.5" for a float column (read as ``transform`` reads it),
and refused naming the column and the known categories: 2.5 or "2" for
that Int64 column, a float for a category of labels, "True" for a
boolean column, an unseen text or string category; an integer far beyond the fitted range (the
model's extrapolation, given back exactly); a DataFrame of conditions with
pd.NA in Float64, Int64, boolean and string columns and None in an object
column of bools (free cells), Categorical conditions, columns in another
order, a duplicated index (kept), a row count that disagrees with
``n_samples`` (refused naming both); a Series (refused with the conversion
to make); reproducibility (the same seed gives the same rows, another seed
other rows, with and without ``given``; a RandomState passed advances, so
two calls differ; an int ``random_state`` of the estimator repeats; None
draws anew), with ``given`` too; the seen-pairs rule (no unseen pair of
two category columns with holes among 2,000 rows plain, with
``with_missing``, ``return_mean``, after ``partial_fit`` and with
category and float32 dtypes; unseen pairs back with
``seen_pairs_only=False`` and ``latent="prior"``, as documented); a model
fitted on an array given a 2-D float32 or int array, a DataFrame, a dict by
position (NumPy integers too; "0", "x0", -1, 1-D arrays and lists refused
by name); ``with_missing`` together with ``given`` (refused, ``{}`` too);
``given`` for a DataFrame with integer column labels (a string label
refused), 3.0 or ``np.float32(3)`` for an integer category, a Categorical
of numbers or of numeric text for a float column (read as ``transform``
reads it), datetimes (refused by dtype), fractions for int64 and Int32
columns and 2**40 for Int32 (refused with the range), UInt64 and Int64
tables of conditions with pd.NA, text numbers, bytes, Decimal, Fraction,
complex and Timestamp values (refused naming the column), ``"inf"``
(refused as infinite), ``""`` for a category (an unseen category, as
sweep 4 decided); conditions on Bernoulli and Poisson columns (0.5 kept,
2.0, -1, 2.5 refused as ``transform`` refuses them); a million conditioned
rows (5 s at ``n_importance=1``) and a billion (refused by memory).

Each family below failed once (see the commit that added its tests):

- **The latent law after ``partial_fit`` was the last block's alone**
  (``skvae._latent_mixture.fit_latent_mixture``): every fit refitted the
  mixture ``sample`` draws z from to the posteriors of the rows of that
  call, so ``partial_fit`` on a block of one category's rows, after a fit
  on a table of two categories nearly evenly split, made ``sample`` draw
  that category in 98% of rows (45% before); a block of fewer than 20 rows
  (a stream's remainder) dropped the mixture, and ``sample`` went back to
  the prior (the unseen combinations the mixture keeps out came back).
  ``partial_fit``'s block is one part of a stream, as its docstring says, so
  its mixture now pools draws from the previous mixture with the block's, in
  proportion to the rows behind each, the previous one counted as at most
  2,000 rows (the rows a fit's mixture is fitted on): the mixture follows
  the training networks, the last rows weighing most, and a small block
  moves it little. The count is kept with the mixture (``n_rows``; models
  saved without it count as 2,000 rows). Decided: a ``warm_start`` fit is
  a fit of its X (its score and ``loss_curve_`` are X's), so its mixture
  stays X's alone.
- **The ``sample`` command said it draws from the prior** (``skvae._cli``, its description):
  its description read "Draw z from the prior N(0, I)", while it calls
  ``sample`` with its default ``latent="aggregate"``, the training rows'
  latent mixture, kept to the seen pairs of categories. It says so now.
  (The command has no ``--given`` or ``--with-missing``: nothing more of
  this family to sweep there.)
- **A condition the schema reads as missing** (``skvae._conditional._free_where_read_as_missing``):
  ``pd.to_numeric`` reads ``""`` as NaN, so ``transform`` takes an empty
  string in a column of numbers for a missing cell, while ``given`` took it
  for a condition (pandas' ``notna``): every row was drawn with the cell
  free, then putting the "given" cell back failed with NumPy's "could not
  convert string to float: ''", naming neither ``given`` nor the column.
  Decided: a condition is read as ``transform`` reads the cell, so in a
  DataFrame of conditions it is free (as NaN is), and in a dict it is
  refused as a dict's NaN is, before any draw.

Found and LEFT:

- A stream of ``partial_fit`` blocks each of fewer than 20 rows from the
  first call has no latent mixture (nothing before a block to pool with,
  and a mixture of fewer rows is not fitted), so it samples from the prior,
  as a fit on fewer than 20 rows does (documented). Keeping the rows' draws
  between calls to pool them later would grow the state with the stream.
- ``with_missing`` draws the missing patterns of the first fit (or first
  ``partial_fit`` block) only, as documented: a stream whose first block has
  no holes samples none. Changing what the patterns are is a design choice
  beyond this sweep.
- Refusals of a condition by a likelihood's range (``given={"d": 2.0}`` on
  a Bernoulli column) give ``fit``'s advice (rescale, or another
  likelihood), as ``transform`` does; sweep 15 settled how ``given`` says
  the schema's refusals.
"""

import copy

import numpy as np
import pandas as pd
import pytest
import torch

import skvae
from skvae import VAETransformer
from skvae._latent_mixture import LATENT_MIXTURE_MAX_ROWS, mixture_rows

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# ------------------------------------------------------------------ a. the latent law after partial_fit


def _two_groups(n=400, seed=0):
    """Two categories, each with its own numbers: a latent space that separates them."""
    rng = np.random.RandomState(seed)
    group = rng.choice(["a", "b"], size=n)
    return pd.DataFrame({
        "g": group,
        "x": np.where(group == "a", -3.0, 3.0) + 0.3 * rng.normal(size=n),
        "y": np.where(group == "a", 5.0, -5.0) + 0.3 * rng.normal(size=n),
    })


def _separating_fit(frame):
    params = dict(latent_dim=1, hidden_layer_sizes=(32,), max_iter=200, learning_rate=1e-2, random_state=0,
                  device="cpu")
    return VAETransformer(**params).fit(frame)


def _share_of_a(vae):
    return float((vae.sample(1000, random_state=1)["g"] == "a").mean())


@pytest.fixture(scope="module")
def separating():
    frame = _two_groups()
    return frame, _separating_fit(frame)


def test_a_partial_fit_block_of_one_category_moves_the_samples_by_its_share_of_the_rows(separating):
    """The mixture was the block's alone: 98% of samples were b after a block of 60 b rows."""
    frame, fitted = separating
    vae = copy.deepcopy(fitted)
    before = _share_of_a(vae)
    assert 0.3 < before < 0.6  # a model that draws both categories
    vae.partial_fit(frame[frame["g"] == "b"].iloc[:60])
    # The block is 60 of 460 rows: a's share may drop by its share (a seventh), not to nothing.
    after = _share_of_a(vae)
    assert after > 0.6 * before
    assert mixture_rows(vae._model.latent_mixture) == 460


def test_a_small_partial_fit_block_keeps_the_latent_mixture(separating):
    """A block of fewer than 20 rows dropped the mixture: samples came from the prior."""
    frame, fitted = separating
    vae = copy.deepcopy(fitted)
    vae.partial_fit(frame.iloc[:5])
    assert vae._model.latent_mixture is not None
    assert mixture_rows(vae._model.latent_mixture) == 405
    aggregate = vae.sample(50, random_state=3)
    assert not aggregate.equals(vae.sample(50, random_state=3, latent="prior"))


def test_the_rows_behind_a_mixture_are_capped_and_a_fresh_fit_counts_its_own():
    frame = _two_groups(n=60)
    vae = VAETransformer(latent_dim=2, hidden_layer_sizes=(8,), max_iter=2, random_state=0, device="cpu")
    vae.partial_fit(frame.iloc[:10])  # too few rows for a mixture, and nothing before them
    assert vae._model.latent_mixture is None
    vae.partial_fit(frame)
    assert mixture_rows(vae._model.latent_mixture) == 60  # nothing to pool: the block's own rows
    vae.partial_fit(frame.iloc[:30])
    assert mixture_rows(vae._model.latent_mixture) == 90
    big = pd.concat([frame] * 40, ignore_index=True)  # 2,400 rows
    vae.partial_fit(big)
    assert mixture_rows(vae._model.latent_mixture) == LATENT_MIXTURE_MAX_ROWS
    vae.fit(frame)  # a fresh fit: its rows alone
    assert mixture_rows(vae._model.latent_mixture) == 60


def test_a_warm_start_fit_fits_the_mixture_to_its_own_rows():
    """Decided: a warm_start fit is a fit of its X, so its mixture is X's alone (the module docstring)."""
    frame = _two_groups(n=80)
    vae = VAETransformer(latent_dim=2, hidden_layer_sizes=(8,), max_iter=2, random_state=0, device="cpu",
                         warm_start=True).fit(frame)
    vae.fit(frame.iloc[:40])
    assert mixture_rows(vae._model.latent_mixture) == 40


def test_the_mixtures_row_count_is_saved_checked_and_optional(tmp_path):
    frame = _two_groups(n=60)
    vae = VAETransformer(latent_dim=2, hidden_layer_sizes=(8,), max_iter=2, random_state=0, device="cpu").fit(frame)
    vae.partial_fit(frame.iloc[:7])
    path = tmp_path / "model.skvae"
    skvae.save(vae, path)
    loaded = skvae.load(path)
    assert mixture_rows(loaded._model.latent_mixture) == 67
    pd.testing.assert_frame_equal(loaded.sample(20, random_state=0), vae.sample(20, random_state=0))
    state = vae.__getstate__()
    mixture = state["_latent_mixture"]
    for bad in (torch.tensor(0.0), torch.tensor(2.5), torch.tensor(float(LATENT_MIXTURE_MAX_ROWS + 1)),
                torch.tensor([67.0]), torch.tensor(67, dtype=torch.int64), 67):
        with pytest.raises(ValueError, match="n_rows"):
            VAETransformer().__setstate__({**state, "_latent_mixture": {**mixture, "n_rows": bad}})
    # A model saved before the count was kept: its mixture stands for LATENT_MIXTURE_MAX_ROWS rows.
    older = VAETransformer()
    older.__setstate__({**state, "_latent_mixture": {k: v for k, v in mixture.items() if k != "n_rows"}})
    assert mixture_rows(older._model.latent_mixture) == LATENT_MIXTURE_MAX_ROWS
    older.partial_fit(frame.iloc[:20])
    assert mixture_rows(older._model.latent_mixture) == LATENT_MIXTURE_MAX_ROWS


# ------------------------------------------------------------------ b. the command line says what sample draws


def test_the_sample_commands_help_says_it_draws_from_the_training_rows_latent_law(tmp_path, capsys):
    """Its description said "Draw z from the prior N(0, I)", while the command draws from the mixture."""
    from skvae._cli import main

    frame = _two_groups(n=60)
    csv, model_path, out = tmp_path / "data.csv", tmp_path / "model.skvae", tmp_path / "drawn.csv"
    frame[["x", "y"]].to_csv(csv, index=False)
    assert main(["fit", str(csv), "--out", str(model_path), "--latent-dim", "2", "--max-iter", "2",
                 "--hidden-layer-sizes", "8", "-q"]) == 0
    assert main(["sample", str(model_path), "-n", "20", "--random-state", "3", "--out", str(out)]) == 0
    model = skvae.load(model_path)
    assert model._model.latent_mixture is not None
    drawn = pd.read_csv(out).to_numpy()
    np.testing.assert_allclose(drawn, model.sample(20, random_state=3), rtol=1e-12)
    assert not np.allclose(drawn, model.sample(20, random_state=3, latent="prior"))
    assert main(["sample", "--help"]) == 0
    described = " ".join(capsys.readouterr().out.split())
    assert "latent law of the training rows" in described and "Draw z from the prior" not in described


# ------------------------------------------------------------------ c. a condition the schema reads as missing


@pytest.fixture(scope="module")
def numbers_and_labels():
    frame = _two_groups(n=40)
    vae = VAETransformer(latent_dim=2, hidden_layer_sizes=(8,), max_iter=2, random_state=0, device="cpu").fit(frame)
    return frame, vae


def test_an_empty_string_in_a_dict_of_conditions_is_refused_as_a_missing_value(numbers_and_labels):
    """``given={"x": ""}`` drew every row, then failed with NumPy's "could not convert string to float: ''"."""
    _, vae = numbers_and_labels
    seeds = np.random.RandomState(5)
    before = seeds.get_state()[1].copy()
    with pytest.raises(ValueError, match=r"given\['x'\] is '', which column 'x' reads as a missing cell"):
        vae.sample(3, given={"x": "", "g": "a"}, random_state=seeds)
    np.testing.assert_array_equal(seeds.get_state()[1], before)


@pytest.mark.parametrize("dtype", [object, "string"])
def test_an_empty_string_in_a_table_of_conditions_is_a_free_cell_as_transform_reads_it(numbers_and_labels, dtype):
    """Decided: the cell is read as ``transform`` reads it, a missing cell, so it is drawn, as NaN is."""
    frame, vae = numbers_and_labels
    conditions = pd.DataFrame({"x": pd.Series(["", "1.5", ""], dtype=dtype), "g": ["a", "b", "b"]})
    conditions.index = [7, 3, 9]
    kept = conditions.copy()
    drawn = vae.sample(given=conditions, random_state=2)
    as_nan = vae.sample(given=conditions.assign(x=[np.nan, 1.5, np.nan]), random_state=2)
    pd.testing.assert_frame_equal(drawn, as_nan)
    assert drawn["x"].tolist()[1] == 1.5 and drawn["g"].tolist() == ["a", "b", "b"]
    assert drawn.dtypes.equals(frame.dtypes) and list(drawn.index) == [7, 3, 9]
    pd.testing.assert_frame_equal(conditions, kept)  # the caller's table as it was
    # transform reads the same cell as missing: the pairing of the two readings.
    row = frame.iloc[[0]]
    np.testing.assert_array_equal(vae.transform(row.assign(x=pd.Series([""], index=row.index, dtype=dtype))),
                                  vae.transform(row.assign(x=np.nan)))
