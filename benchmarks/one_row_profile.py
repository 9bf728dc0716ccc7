"""Where a one-row ``transform`` spends its time, and its ratio to PCA's (issue 22, item 3).

``python benchmarks/one_row_profile.py [--width 30|784] [--rounds 25] [--profile]``

Fits skvae (2 epochs) and ``PCA(latent_dim)`` on ``low_rank_data(2000,
width)``. Then it times one-row ``transform`` calls of both in the same
process, interleaved: `rounds` rounds of 200 calls each. It prints p10 /
median / p90 of the per-round time ratio (skvae over PCA; below 1 means
skvae is faster). With ``--profile`` it also prints torch's profiler view
(ops per call, self CPU time in torch ops, top ops) and cProfile's count of
Python-visible calls per ``transform``. Run it against two trees
(``PYTHONPATH=OLD`` then ``PYTHONPATH=.``), alternating, for a before/after;
the results are in ``results/PROFILE.md``, "One-row transform".
"""

import argparse
import cProfile
import json
import pstats
import sys
import time
import warnings
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import low_rank_data  # noqa: E402

NETWORKS = {30: ((128, 64), 10), 784: ((256, 128), 20)}


def fitted_pair(width):
    from sklearn.decomposition import PCA

    from skvae import VAETransformer

    hidden, latent = NETWORKS[width]
    X = low_rank_data(2000, width, seed=0).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vae = VAETransformer(latent_dim=latent, hidden_layer_sizes=hidden, max_iter=2, random_state=0).fit(X)
    return vae, PCA(latent, random_state=0).fit(X), X[:1]


def ratio_to_pca(vae, pca, row, rounds, calls=200):
    """p10, median, p90 over rounds of (skvae's time per call) / (PCA's), interleaved."""
    def per_call(function):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        return (time.perf_counter() - start) / calls

    vae.transform(row), pca.transform(row)
    ratios = [per_call(lambda: vae.transform(row)) / per_call(lambda: pca.transform(row)) for _ in range(rounds)]
    return [round(float(q), 3) for q in np.quantile(ratios, [0.1, 0.5, 0.9])]


def profile(vae, row, calls=2000):
    """torch ops and their self CPU time per call, the top ops' shares, Python-visible calls per call."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    for _ in range(300):
        vae.transform(row)
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(calls):
            vae.transform(row)
    events = sorted(prof.key_averages(), key=lambda event: -event.self_cpu_time_total)
    total = sum(event.self_cpu_time_total for event in events)
    python = cProfile.Profile()
    python.enable()
    for _ in range(calls):
        vae.transform(row)
    python.disable()
    return {
        "torch ops per call": round(sum(event.count for event in events) / calls, 1),
        "torch self CPU us per call": round(total / calls, 1),
        "top ops (share of torch time)": {event.key: round(event.self_cpu_time_total / total, 3) for event in events[:8]},
        "python calls per call": round(pstats.Stats(python).total_calls / calls, 1),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, choices=sorted(NETWORKS), default=30)
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    vae, pca, row = fitted_pair(args.width)
    result = {"width": args.width, "ratio to PCA p10/median/p90": ratio_to_pca(vae, pca, row, args.rounds)}
    if args.profile:
        result.update(profile(vae, row))
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
