"""Training and inference speed of skvae against a hand-written loop, skorch and PCA.

Training contenders fit the same network (MLP encoder 784 -> 256 -> 128 ->
(mean, log-variance) of a 20-dimensional z; mirrored decoder to a diagonal
Gaussian with a softplus variance floored at 1e-3), on the same standardized
data, with Adam at the same learning rate and batch size, for the same number
of epochs. Each timed call is a whole fit: building the networks and the
optimizer, standardizing the data, and the epochs.

- ``hand-written``: the reference, the loop a PyTorch user writes: the data
  preloaded as one tensor, batches taken by index slices of a permutation,
  ``torch.optim.Adam`` with its default settings.
- ``hand-written, fused Adam``: the same loop with ``Adam(fused=True)``, to
  show how much of any difference is the optimizer kernel.
- ``skorch``: the same module trained through ``skorch.NeuralNet`` with its
  defaults (a ``DataLoader`` over the rows).
- ``skvae``: ``VAETransformer.fit``.

Inference: ``transform`` of one row against ``PCA(20).transform`` of one row,
and bulk ``transform`` against a raw batched forward pass of the same encoder.
Peak memory of a bulk ``transform`` is measured in a child process
(:mod:`benchmarks._memory_probe`).
"""

import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA
from torch import nn
from torch.nn import functional as F

from skvae import VAETransformer

from ._common import RoundRobin, low_rank_data, per_call_seconds, timed

LOG_2PI = math.log(2.0 * math.pi)
VARIANCE_FLOOR = 1e-3


def _mlp(sizes):
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers)


class PlainVAE(nn.Module):
    """The benchmark's VAE written as a PyTorch user would, without skvae."""

    def __init__(self, n_features, hidden_layer_sizes, latent_dim):
        super().__init__()
        hidden = list(hidden_layer_sizes)
        self.encoder_trunk = _mlp([n_features, *hidden])
        self.encoder_mean = nn.Linear(hidden[-1], latent_dim)
        self.encoder_log_variance = nn.Linear(hidden[-1], latent_dim)
        self.decoder_trunk = _mlp([latent_dim, *hidden[::-1]])
        self.decoder_mean = nn.Linear(hidden[0], n_features)
        self.decoder_raw_variance = nn.Linear(hidden[0], n_features)

    def forward(self, x):
        hidden = self.encoder_trunk(x)
        mean, log_variance = self.encoder_mean(hidden), self.encoder_log_variance(hidden)
        z = mean + torch.exp(0.5 * log_variance) * torch.randn_like(mean)
        hidden = self.decoder_trunk(z)
        return mean, log_variance, self.decoder_mean(hidden), self.decoder_raw_variance(hidden)


def plain_negative_elbo(outputs, x):
    """Mean over rows of -log N(x; mean, var) + KL(q || N(0, I))."""
    mean, log_variance, x_mean, raw_variance = outputs
    variance = VARIANCE_FLOOR + F.softplus(raw_variance)
    nll = 0.5 * (LOG_2PI + torch.log(variance) + (x - x_mean).square() / variance).sum(-1)
    kl = 0.5 * (mean.square() + log_variance.exp() - 1.0 - log_variance).sum(-1)
    return (nll + kl).mean()


def standardize(X):
    """(X - mean) / std per feature, float32: what every contender trains on."""
    scale = X.std(axis=0, dtype=np.float64)
    scale[scale == 0] = 1.0
    return ((X - X.mean(axis=0, dtype=np.float64)) / scale).astype(np.float32)


def fit_hand_written(X, config, fused=False):
    """The reference loop; returns the trained module."""
    device = config["device"]
    model = PlainVAE(X.shape[1], config["hidden_layer_sizes"], config["latent_dim"]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config["learning_rate"], fused=fused or None)
    data = torch.from_numpy(standardize(X)).to(device)
    batch_size = config["batch_size"]
    for _ in range(config["epochs"]):
        order = torch.randperm(data.shape[0], device=device)
        for start in range(0, data.shape[0], batch_size):
            batch = data[order[start : start + batch_size]]
            loss = plain_negative_elbo(model(batch), batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model


def fit_skvae(X, config):
    """``VAETransformer.fit`` for exactly ``config["epochs"]`` epochs."""
    model = VAETransformer(
        latent_dim=config["latent_dim"],
        hidden_layer_sizes=config["hidden_layer_sizes"],
        batch_size=config["batch_size"],
        learning_rate=config["learning_rate"],
        max_iter=config["epochs"],
        # No stopping rule and no held-out rows: every contender runs the same epochs on the same rows.
        tol=0.0,
        early_stopping=False,
        n_iter_no_change=config["epochs"] + 1,
        device=config["device"],
        n_jobs=config.get("n_jobs"),
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X)


def fit_skorch(X, config):
    """The same module trained by ``skorch.NeuralNet`` with its default data loading."""
    from skorch import NeuralNet

    class UnsupervisedNet(NeuralNet):
        # skorch's documented way to train without targets: a loss of (y_pred, X).
        def get_loss(self, y_pred, y_true, X=None, training=False):
            return plain_negative_elbo(y_pred, X)

    net = UnsupervisedNet(
        PlainVAE,
        module__n_features=X.shape[1],
        module__hidden_layer_sizes=config["hidden_layer_sizes"],
        module__latent_dim=config["latent_dim"],
        criterion=nn.MSELoss,  # unused: get_loss replaces it
        optimizer=torch.optim.Adam,
        lr=config["learning_rate"],
        batch_size=config["batch_size"],
        max_epochs=config["epochs"],
        train_split=None,
        iterator_train__shuffle=True,
        device=config["device"],
        verbose=0,
    )
    return net.fit(standardize(X), None)


def skorch_available():
    try:
        import skorch  # noqa: F401
    except ImportError:
        return False
    return True


def training_throughput(n_rows=5000, n_features=784, hidden_layer_sizes=(256, 128), latent_dim=20,
                        batch_size=128, epochs=3, n_rounds=5, device="cpu", include_skorch=True):
    """Rows per second of each contender's fit, with per-round ratios.

    Returns a dict: ``config``, ``rows_per_second`` (name -> list per round),
    ``median_rows_per_second`` and ``ratios`` (skvae against each other
    contender, median of per-round ratios).
    """
    config = {
        "n_rows": n_rows, "n_features": n_features, "hidden_layer_sizes": tuple(hidden_layer_sizes),
        "latent_dim": latent_dim, "batch_size": batch_size, "epochs": epochs,
        "learning_rate": 1e-3, "device": device, "n_rounds": n_rounds,
    }
    X = low_rank_data(n_rows, n_features, seed=0)
    fits = {
        "hand-written": lambda: fit_hand_written(X, config),
        "hand-written, fused Adam": lambda: fit_hand_written(X, config, fused=True),
        "skvae": lambda: fit_skvae(X, config),
    }
    if include_skorch and skorch_available():
        fits["skorch"] = lambda: fit_skorch(X, config)
    torch.manual_seed(0)
    for fit in fits.values():  # warm-up round: first-call costs (allocator, thread pool, imports)
        fit()
    rows = n_rows * epochs
    rounds = RoundRobin().run({name: (lambda f=fit: rows / timed(f, device)) for name, fit in fits.items()},
                              n_rounds)
    return {
        "config": config,
        "rows_per_second": rounds.values,
        "median_rows_per_second": {name: rounds.median(name) for name in fits},
        "ratios": {
            f"skvae / {name}": rounds.ratio("skvae", name) for name in fits if name != "skvae"
        },
    }


def _fitted_pair(n_features, hidden_layer_sizes, latent_dim, device, seed=0, n_rows=2000):
    """A briefly trained skvae model and a PCA on the same data."""
    X = low_rank_data(n_rows, n_features, seed=seed).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vae = VAETransformer(latent_dim=latent_dim, hidden_layer_sizes=hidden_layer_sizes, max_iter=2,
                             device=device, random_state=seed).fit(X)
    pca = PCA(latent_dim, random_state=seed).fit(X)
    return vae, pca, X


def single_row_latency(n_features=784, hidden_layer_sizes=(256, 128), latent_dim=20, n_calls=200,
                       n_rounds=15, device="cpu"):
    """Seconds per ``transform`` of one float64 row: skvae against ``PCA(latent_dim)``.

    Returns a dict with per-round seconds per call and ``ratio`` = median of
    per-round skvae / PCA (below 1 means skvae is faster).
    """
    vae, pca, X = _fitted_pair(n_features, hidden_layer_sizes, latent_dim, device)
    row = X[:1]
    vae.transform(row), pca.transform(row)  # warm-up: builds the inference cache
    rounds = RoundRobin().run({
        "skvae": lambda: per_call_seconds(lambda: vae.transform(row), n_calls),
        "PCA": lambda: per_call_seconds(lambda: pca.transform(row), n_calls),
    }, n_rounds)
    return {
        "config": {"n_features": n_features, "hidden_layer_sizes": tuple(hidden_layer_sizes),
                   "latent_dim": latent_dim, "n_calls": n_calls, "n_rounds": n_rounds, "device": device},
        "seconds_per_call": rounds.values,
        "median_seconds_per_call": {name: rounds.median(name) for name in rounds.values},
        "ratio": rounds.ratio("skvae", "PCA"),
    }


def raw_forward(vae, X, batch_rows):
    """The encoder mean of X by a hand-written batched forward pass of skvae's own networks."""
    encoder = vae.encoder_
    device = encoder.mean_head.weight.device
    columns = vae._schema.columns
    shift = torch.as_tensor([c["shift"] for c in columns], dtype=torch.float32, device=device)
    scale = torch.as_tensor([c["scale"] for c in columns], dtype=torch.float32, device=device)
    out = np.empty((X.shape[0], encoder.mean_head.out_features), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, X.shape[0], batch_rows):
            x = torch.from_numpy(X[start : start + batch_rows]).to(device)
            out[start : start + batch_rows] = encoder.mean((x - shift) / scale).cpu().numpy()
    return out


def bulk_transform_throughput(n_rows=100_000, n_features=784, hidden_layer_sizes=(256, 128), latent_dim=20,
                              batch_rows=4096, n_rounds=5, device="cpu"):
    """Rows per second of bulk float32 ``transform`` against :func:`raw_forward`."""
    vae, _, _ = _fitted_pair(n_features, hidden_layer_sizes, latent_dim, device)
    X = low_rank_data(n_rows, n_features, seed=1)
    expected = raw_forward(vae, X[:1000], batch_rows)
    np.testing.assert_allclose(vae.transform(X[:1000]), expected, rtol=1e-4, atol=1e-4)
    rounds = RoundRobin().run({
        "skvae": lambda: n_rows / timed(lambda: vae.transform(X), device),
        "raw torch": lambda: n_rows / timed(lambda: raw_forward(vae, X, batch_rows), device),
    }, n_rounds)
    return {
        "config": {"n_rows": n_rows, "n_features": n_features, "batch_rows": batch_rows,
                   "n_rounds": n_rounds, "device": device},
        "rows_per_second": rounds.values,
        "median_rows_per_second": {name: rounds.median(name) for name in rounds.values},
        "ratio": rounds.ratio("skvae", "raw torch"),
    }


def float64_inference_ratio(n_rows=100_000, n_features=784, hidden_layer_sizes=(256, 128), latent_dim=20,
                            n_rounds=5, device="cpu"):
    """Seconds of ``transform`` and ``score_samples`` on float64 input over the same on float32 input.

    The same rows in both dtypes, timed in rotating order in the same rounds;
    a ratio of 1 means float64 input costs nothing extra. Also the largest
    difference between the two dtypes' results.
    """
    vae, _, _ = _fitted_pair(n_features, hidden_layer_sizes, latent_dim, device)
    X64 = low_rank_data(n_rows, n_features, seed=1).astype(np.float64)
    X32 = X64.astype(np.float32)
    ratios, gaps = {}, {}
    for method in ("transform", "score_samples"):
        function = getattr(vae, method)
        gaps[method] = float(np.max(np.abs(function(X64[:1000]) - function(X32[:1000]))))
        rounds = RoundRobin().run({
            "float64": lambda: timed(lambda: function(X64), device),
            "float32": lambda: timed(lambda: function(X32), device),
        }, n_rounds)
        ratios[method] = {"seconds": rounds.values, "ratio": rounds.ratio("float64", "float32")}
    return {
        "config": {"n_rows": n_rows, "n_features": n_features, "hidden_layer_sizes": tuple(hidden_layer_sizes),
                   "latent_dim": latent_dim, "n_rounds": n_rounds, "device": device},
        "methods": ratios,
        "largest_difference": gaps,
    }


def transform_peak_memory(row_counts=(100_000, 1_000_000), n_features=784, device="cpu", timeout=900):
    """Peak extra resident memory of one bulk ``transform``, in a fresh child process per size.

    For each row count: the input's size, the output's size, the peak
    resident memory added during ``transform`` (``VmHWM`` reset right
    before), and the working set = peak added - output. A working set that
    stays flat as the input grows tenfold is the bounded-memory claim.
    """
    root = Path(__file__).resolve().parents[1]
    results = []
    for n_rows in row_counts:
        completed = subprocess.run(
            [sys.executable, "-m", "benchmarks._memory_probe", str(n_rows), str(n_features), device],
            cwd=root, capture_output=True, text=True, timeout=timeout, check=True,
        )
        results.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    return {"rows": results}


def run(quick=False, device="cpu", include_skorch=True):
    """Every speed benchmark at full or smoke-test sizes; a JSON-able dict."""
    if quick:
        sizes = dict(n_rows=600, n_features=64, hidden_layer_sizes=(32, 16), latent_dim=4)
        return {
            "training": training_throughput(**sizes, batch_size=128, epochs=1, n_rounds=1, device=device,
                                            include_skorch=include_skorch),
            "single_row": single_row_latency(64, (32, 16), 4, n_calls=5, n_rounds=2, device=device),
            "bulk": bulk_transform_throughput(2000, 64, (32, 16), 4, batch_rows=512, n_rounds=1, device=device),
            "float64": float64_inference_ratio(2000, 64, (32, 16), 4, n_rounds=1, device=device),
            "memory": transform_peak_memory((2000, 20000), 64, device=device),
        }
    return {
        "training": training_throughput(device=device, include_skorch=include_skorch, epochs=3, n_rounds=7),
        "single_row": single_row_latency(device=device),
        "bulk": bulk_transform_throughput(device=device),
        "float64": float64_inference_ratio(device=device),
        "memory": transform_peak_memory(device=device),
    }
