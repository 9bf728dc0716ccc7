"""The CUDA path end to end, and its speed against the CPU and a hand-written loop on the same GPU.

Run on a machine with a GPU (``python -m benchmarks.gpu_check --out DIR``). Every
case runs even when an earlier one fails: a failure is recorded with its
traceback, so that one run shows everything that breaks on CUDA.

Cases:

- ``training``: the issue-22 network (784 -> 256 -> 128 -> 20, batch 128) fitted
  by skvae on CUDA against the hand-written loop of :mod:`benchmarks.speed` on
  the same GPU (rows per second; best of alternated rounds).
- ``inference``: bulk ``transform`` against a raw batched forward pass, float64
  against float32 input, and a one-row ``transform``, all on CUDA.
- ``faces``: a mixed table with missing cells through ``VAETransformer``
  (fit, transform, score_samples with importance sampling, sample, conditional
  sample, save/load), ``VAEImputer`` (ignorable and self-masking) and
  ``VAEOutlierDetector``, each on CUDA and on the CPU: the results must agree
  in kind (dtypes, columns, no NaN, same shapes) and the time ratio is reported.
"""

import argparse
import cProfile
import io
import json
import pstats
import platform
import tempfile
import time
import traceback
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import skvae
from skvae import VAEImputer, VAEOutlierDetector, VAETransformer

from . import speed


def _mixed_table(n_rows=3000, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n_rows, 2))
    table = pd.DataFrame({
        "income": np.exp(1 + 0.5 * z[:, 0] + 0.2 * rng.normal(size=n_rows)).round(2),
        "age": (40 + 10 * z[:, 1]).clip(18, 90).round().astype("int64"),
        "children": rng.poisson(np.exp(0.3 * z[:, 0])),
        "member": (z[:, 0] + rng.normal(size=n_rows) > 0).astype("int64"),
        "region": pd.Categorical(np.where(z[:, 1] > 0.5, "north", np.where(z[:, 1] < -0.5, "south", "east"))),
        "score": z[:, 0] - z[:, 1] + 0.3 * rng.normal(size=n_rows),
    })
    holes = rng.random(table.shape) < 0.1
    with_holes = table.astype({"age": "float64", "children": "float64", "member": "float64"}).mask(holes)
    return table, with_holes


def _check_frame(result, like):
    assert isinstance(result, pd.DataFrame), type(result)
    assert list(result.columns) == list(like.columns), list(result.columns)
    assert not result.isna().any().any(), "NaN in output"


def _faces(device):
    """Every face on one device; returns seconds per face and summaries to compare across devices."""
    table, with_holes = _mixed_table()
    out, seconds = {}, {}
    common = dict(device=device, random_state=0, max_iter=30)

    start = time.perf_counter()
    model = VAETransformer(**common).fit(with_holes)
    Z = model.transform(with_holes)
    assert isinstance(Z, np.ndarray) and Z.shape == (len(table), model.latent_dim) and np.isfinite(Z).all()
    elbo = model.score_samples(with_holes)
    iwae = model.score_samples(with_holes, n_importance=20)
    assert np.isfinite(elbo).all() and np.isfinite(iwae).all()
    samples = model.sample(500, random_state=1)
    _check_frame(samples, table)
    given = model.sample(200, random_state=2, given={"region": "north"})
    assert (given["region"] == "north").all()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.skvae"
        skvae.save(model, path)
        restored = skvae.load(path)
    np.testing.assert_allclose(restored.transform(with_holes), Z, rtol=1e-5, atol=1e-6)
    seconds["transformer"] = time.perf_counter() - start
    out["transformer"] = {"device_": model.device_, "column_kinds_": dict(model.column_kinds_),
                          "mean_elbo": float(np.mean(elbo)), "mean_iwae20": float(np.mean(iwae)),
                          "epochs": int(model.n_iter_)}

    start = time.perf_counter()
    imputer = VAEImputer(**common).fit(with_holes)
    filled = imputer.transform(with_holes)
    _check_frame(filled, table)
    observed = with_holes.notna()
    numeric = ["income", "score"]
    assert np.array_equal(filled[numeric].to_numpy()[observed[numeric].to_numpy()],
                          with_holes[numeric].to_numpy()[observed[numeric].to_numpy()])
    draws = imputer.multiple_imputations(with_holes, n_imputations=3)
    assert len(draws) == 3
    hidden = ~observed["score"].to_numpy()
    rmse = float(np.sqrt(np.mean((filled["score"].to_numpy()[hidden] - table["score"].to_numpy()[hidden]) ** 2))
                 / table["score"].std())
    masking = VAEImputer(**common, missing_mechanism="self_masking").fit(with_holes)
    _check_frame(masking.transform(with_holes), table)
    seconds["imputer"] = time.perf_counter() - start
    out["imputer"] = {"score_rmse_sd": rmse}

    start = time.perf_counter()
    numeric_table = table[["income", "age", "children", "score"]].to_numpy(float)
    detector = VAEOutlierDetector(**common).fit(numeric_table)
    labels = detector.predict(numeric_table)
    assert set(np.unique(labels)) <= {-1, 1}
    seconds["detector"] = time.perf_counter() - start
    out["detector"] = {"outlier_share": float(np.mean(labels == -1))}
    return out, seconds


def _profile(function, top=25):
    """`function()` under cProfile: the `top` entries by own time, as text."""
    profile = cProfile.Profile()
    profile.enable()
    function()
    torch.cuda.synchronize() if torch.cuda.is_available() else None
    profile.disable()
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(top)
    return text.getvalue()


def _profiles(device):
    """Where a fit and a bulk transform spend their time on `device` (the training case's network)."""
    X = speed.low_rank_data(5000, 784, seed=0)
    config = dict(hidden_layer_sizes=(256, 128), latent_dim=20, batch_size=128, device=device, random_state=0)
    VAETransformer(**config, max_iter=1).fit(X)  # warm-up: CUDA context, kernels
    fit = _profile(lambda: VAETransformer(**config, max_iter=3, early_stopping=False).fit(X))
    model = VAETransformer(**config, max_iter=1).fit(X)
    bulk = speed.low_rank_data(100_000, 784, seed=1)
    model.transform(bulk[:1000])
    return {"fit": fit, "transform_100k": _profile(lambda: model.transform(bulk))}


def _run_case(results, name, function):
    start = time.perf_counter()
    try:
        results[name] = {"ok": True, "result": function()}
    except Exception:  # noqa: BLE001 - every failure is recorded and the next case runs
        results[name] = {"ok": False, "traceback": traceback.format_exc()}
    results[name]["seconds"] = time.perf_counter() - start
    print(name, "ok" if results[name]["ok"] else "FAILED", f"{results[name]['seconds']:.1f} s", flush=True)
    if not results[name]["ok"]:
        print(results[name]["traceback"], flush=True)


def _faces_on_both(device):
    here, here_seconds = _faces(device)
    cpu, cpu_seconds = _faces("cpu")
    return {device: here, "cpu": cpu,
            "seconds_over_cpu": {k: here_seconds[k] / cpu_seconds[k] for k in here_seconds}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run on any machine)")
    parser.add_argument("--inference-only", action="store_true", help="only the bulk and one-row inference cases")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    warnings.simplefilter("ignore")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    results = {"machine": {"python": platform.python_version(), "torch": torch.__version__,
                           "cuda": torch.version.cuda, "device": device,
                           "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None,
                           "skvae": skvae.__version__, "cpu_threads": torch.get_num_threads()}}
    if args.inference_only:
        _run_case(results, "bulk_transform", lambda: speed.bulk_transform_throughput(n_rounds=3, device=device))
        _run_case(results, "single_row", lambda: speed.single_row_latency(n_calls=100, n_rounds=5, device=device))
        (args.out / "gpu_check.json").write_text(json.dumps(results, indent=2, default=str))
        return 0 if all(entry.get("ok", True) for entry in results.values() if isinstance(entry, dict)) else 1
    if args.quick:
        sizes = dict(n_rows=1000, n_features=64, hidden_layer_sizes=(32, 16), latent_dim=4)
        _run_case(results, "training", lambda: speed.training_throughput(
            **sizes, batch_size=128, epochs=1, n_rounds=1, device=device, include_skorch=False))
    else:
        _run_case(results, "training", lambda: speed.training_throughput(
            epochs=3, n_rounds=3, device=device, include_skorch=False))
        _run_case(results, "bulk_transform", lambda: speed.bulk_transform_throughput(n_rounds=3, device=device))
        _run_case(results, "float64", lambda: speed.float64_inference_ratio(n_rounds=3, device=device))
        _run_case(results, "single_row", lambda: speed.single_row_latency(n_calls=100, n_rounds=5, device=device))
    _run_case(results, "faces", lambda: _faces_on_both(device))
    _run_case(results, "profiles", lambda: _profiles(device))
    if results["profiles"]["ok"]:
        for name, text in results["profiles"]["result"].items():
            (args.out / f"profile_{name}.txt").write_text(text)
    (args.out / "gpu_check.json").write_text(json.dumps(results, indent=2, default=str))
    failed = [name for name, entry in results.items() if isinstance(entry, dict) and entry.get("ok") is False]
    print("failed cases:", failed or "none")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
