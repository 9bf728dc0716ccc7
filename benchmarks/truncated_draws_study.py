"""Draws of Gaussian columns clipped onto the observed range (skvae's rule) against draws truncated to it.

A ``gaussian`` column's draw N(mean, var) can leave the column's observed range; decoding clips it onto the
nearer bound, which puts a point mass there (hostile sweep 22: an exponential column's samples hold 11 % of its
minimum, a value the data hold once). The alternative measured here draws the same Gaussian truncated to the
range by the inverse CDF (what rejecting the draws outside it would give), with no mass on the bounds.

One fit per data set (defaults, ``random_state=0``: NumPy arrays, every column ``gaussian``, and the numeric columns
of two statsmodels tables of fewer than 50 rows, as arrays too), then ``sample(4000, random_state=1)``
both ways from the same model and seeds: per column the KS complement (1 - the two-sample KS distance, SDMetrics'
column shape) of the samples against the data, and the share of samples on a bound against the data's.

    python benchmarks/truncated_draws_study.py --out /tmp/truncated

Writes ``truncated_draws_study.json`` and prints the table. Needs statsmodels for the two tables.
"""

import argparse
import contextlib
import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _lower_tail(x):
    """Phi(x) through erfc, accurate far below 0."""
    return 0.5 * torch.special.erfc(x * -math.sqrt(0.5))


def truncated_normal(noise, low, high):
    """Standard normal draws truncated to [low, high] per cell, by the inverse CDF of the uniforms Phi(noise),
    worked in the lower tail (an interval above 0 mirrored) and in float64; an interval holding no mass float64
    can tell draws the bound nearer the mean."""
    dtype = noise.dtype
    noise, low, high = noise.double(), low.double(), high.double()
    mirrored = (low + high) > 0
    lower, upper = torch.where(mirrored, -high, low), torch.where(mirrored, -low, high)
    p_lower, p_upper = _lower_tail(lower), _lower_tail(upper)
    uniform = _lower_tail(torch.where(mirrored, -noise, noise))
    drawn = torch.special.ndtri(p_lower + uniform * (p_upper - p_lower))
    drawn = torch.where(p_upper > p_lower, torch.minimum(torch.maximum(drawn, lower), upper), upper)
    return torch.where(mirrored, -drawn, drawn).to(dtype)


@contextlib.contextmanager
def truncated_gaussian_draws(model):
    """Within the block, `model`'s ``gaussian`` columns draw truncated to their observed range."""
    from skvae._likelihoods import GaussianBlock

    schema = model._schema
    plain = GaussianBlock.sample

    def sample(block, params, free, generator):
        mean, variance = block._mean_variance(params)
        noise = torch.randn(mean.shape, generator=generator, dtype=mean.dtype, device=mean.device)
        deviation = variance.sqrt()
        entries = [schema.columns[j] for j in block.columns]
        bounds = [torch.tensor([[(e[key] - e["shift"]) / e["scale"] for e in entries]], dtype=mean.dtype)
                  for key in ("min", "max")]
        noise = truncated_normal(noise, (bounds[0] - mean) / deviation, (bounds[1] - mean) / deviation)
        return GaussianBlock.user_units(block, mean + deviation * noise)

    GaussianBlock.sample = sample
    try:
        yield
    finally:
        GaussianBlock.sample = plain


def data_sets():
    """name -> 2-D float array of the study's data."""
    from sklearn import datasets

    rng = np.random.default_rng(0)
    out = {
        "synthetic (exponential, normal, uniform) 600 x 3": np.column_stack(
            [rng.exponential(1.0, 600), rng.normal(size=600), rng.uniform(0, 1, 600)]),
        "diabetes 442 x 10": datasets.load_diabetes().data,
        "breast cancer 569 x 30": datasets.load_breast_cancer().data,
        "wine 178 x 13": datasets.load_wine().data,
    }
    try:
        import statsmodels.api as sm
    except ImportError:
        return out
    for name, loader in (("committee", sm.datasets.committee), ("china_smoking", sm.datasets.china_smoking)):
        table = loader.load_pandas().data.select_dtypes("number")
        out[f"{name} {table.shape[0]} x {table.shape[1]}"] = table.to_numpy(float)
    return out


def scores(X, samples):
    from scipy import stats

    on_bound = lambda values, column: np.mean((values == column.min()) | (values == column.max()))  # noqa: E731
    columns = range(X.shape[1])
    shapes = [1 - stats.ks_2samp(X[:, j], samples[:, j]).statistic for j in columns]
    return {"shapes_mean": float(np.mean(shapes)), "shapes_min": float(np.min(shapes)),
            "on_bound": float(np.mean([on_bound(samples[:, j], X[:, j]) for j in columns])),
            "data_on_bound": float(np.mean([on_bound(X[:, j], X[:, j]) for j in columns]))}


def study():
    import skvae

    results = {}
    for name, X in data_sets().items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = skvae.VAETransformer(random_state=0).fit(X)
            clipped = model.sample(4000, random_state=1)
            with truncated_gaussian_draws(model):
                truncated = model.sample(4000, random_state=1)
        results[name] = {"clipped": scores(X, clipped), "truncated": scores(X, truncated)}
        row = results[name]
        print(f"{name}: shapes clipped {row['clipped']['shapes_mean']:.4f} truncated "
              f"{row['truncated']['shapes_mean']:.4f}; on a bound: data {row['clipped']['data_on_bound']:.4f}, "
              f"clipped {row['clipped']['on_bound']:.4f}, truncated {row['truncated']['on_bound']:.4f}", flush=True)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    results = study()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "truncated_draws_study.json").write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
