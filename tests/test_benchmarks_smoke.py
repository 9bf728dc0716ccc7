"""The benchmark suite's code paths at tiny sizes: structure and correctness, never timings."""

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `pytest` (unlike `python -m pytest`) does not put the repo root on the path
    sys.path.insert(0, str(ROOT))

from benchmarks import quality, report, run_all, speed, threads  # noqa: E402
from benchmarks._common import RoundRobin  # noqa: E402

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
    run_all.main(["--quick", "--out", str(tmp_path)])
    markdown = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert "Smoke run" in markdown and "torch" in markdown
    saved = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert set(saved) >= {"machine", "speed", "quality", "threads"}
    assert "## Thread policy" in markdown
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == ["inference.png", "loss_curves.png", "quality_known_truth.png", "real_data_accuracy.png",
                    "training_throughput.png"]
    for name in pngs:
        assert f"({name})" in markdown
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


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
