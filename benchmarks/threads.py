"""Training speed idle and beside a busy core: skvae's thread policy against hand-written loops.

torch runs as many threads as there are cores; a step of a small network
lasts well under a millisecond, and when another process holds a core the
threads wait for each other at every matrix product. skvae's automatic
policy (``n_jobs=None``, :mod:`skvae._threads`) chooses the count itself.

Every measurement is made twice: *idle* (whatever else the machine runs) and
*busy*, beside one extra process that spins on one core for the whole
measurement. Contenders, timed in rotating order within each round:

- ``hand-written, 1 thread`` and ``hand-written, N threads`` (N = the usable
  cores): the loop of :func:`benchmarks.speed.fit_hand_written` with
  ``torch.set_num_threads`` set by hand; the reference of a round is the
  faster of the two, the loop at its best thread count for that condition;
- ``skvae`` (``n_jobs=None``);
- ``skvae, n_jobs=-1``: every core, what torch does by default (skvae's
  behaviour before the policy).

Two networks: the speed benchmark's (784 features, hidden (256, 128),
latent 20) and the defaults on digits-sized data (64 features, hidden
(128, 64), latent 10). Also timed, idle and busy, with the two skvae
settings: the README demo's fit (a pipeline of a Bernoulli VAE with
``early_stopping=True`` and LogisticRegression on 3/4 of the digits) and
``GridSearchCV(n_jobs=2)`` over ``latent_dim``.
"""

import contextlib
import statistics
import sys
import warnings

import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline

from skvae import VAETransformer
from skvae._threads import usable_cores

from ._common import RoundRobin, busy_core, low_rank_data, timed
from .speed import fit_hand_written, fit_skvae

NETWORKS = {
    "784 features, hidden (256, 128)": dict(n_rows=3000, n_features=784, hidden_layer_sizes=(256, 128),
                                            latent_dim=20, epochs=2),
    "64 features, hidden (128, 64)": dict(n_rows=1797, n_features=64, hidden_layer_sizes=(128, 64),
                                          latent_dim=10, epochs=5),
}


@contextlib.contextmanager
def torch_threads_set_to(n_threads):
    saved = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def _config(network, batch_size=128):
    return {**network, "batch_size": batch_size, "learning_rate": 1e-3, "device": "cpu"}


def training_under_load(n_rounds=3, networks=None, cores=None):
    """Rows per second idle and busy; skvae against the hand-written loop at its best count.

    Returns ``{network: {condition: {"rows_per_second": {...}, "ratios": {...}}}}``.
    """
    cores = cores or usable_cores()
    results = {}
    for label, network in (networks or NETWORKS).items():
        config = _config(network)
        X = low_rank_data(config["n_rows"], config["n_features"], seed=0)
        rows = config["n_rows"] * config["epochs"]

        def hand_written(n_threads):
            with torch_threads_set_to(n_threads):
                return rows / timed(lambda: fit_hand_written(X, config))

        contenders = {
            "hand-written, 1 thread": lambda: hand_written(1),
            f"hand-written, {cores} threads": lambda: hand_written(cores),
            "skvae": lambda: rows / timed(lambda: fit_skvae(X, config)),
            "skvae, n_jobs=-1": lambda: rows / timed(lambda: fit_skvae(X, {**config, "n_jobs": -1})),
        }
        results[label] = {"config": config}
        for condition in ("idle", "busy"):
            with busy_core(condition == "busy"), torch_threads_set_to(cores):
                for contender in contenders.values():  # warm-up
                    contender()
                rounds = RoundRobin().run(contenders, n_rounds)
            best = [max(a, b) for a, b in zip(rounds.values["hand-written, 1 thread"],
                                              rounds.values[f"hand-written, {cores} threads"])]
            results[label][condition] = {
                "rows_per_second": rounds.values,
                "median_rows_per_second": {name: rounds.median(name) for name in contenders},
                "ratios": {
                    f"{name} / best hand-written": statistics.median(a / b for a, b in zip(rounds.values[name], best))
                    for name in ("skvae", "skvae, n_jobs=-1")
                },
            }
    return results


def _demo_fit(n_jobs, max_iter):
    X, y = load_digits(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(X / 16.0, y, test_size=0.25, stratify=y, random_state=0)
    vae = VAETransformer(latent_dim=2, likelihood="bernoulli", max_iter=max_iter, early_stopping=True,
                         random_state=0, n_jobs=n_jobs)
    make_pipeline(vae, LogisticRegression(max_iter=1000)).fit(X_train, y_train)


def _grid_search(n_jobs, max_iter):
    X, _ = load_digits(return_X_y=True)
    search = GridSearchCV(VAETransformer(max_iter=max_iter, random_state=0, n_jobs=n_jobs),
                          {"latent_dim": [2, 5]}, cv=2, n_jobs=2)
    search.fit(X / 16.0)


TASKS = {"demo fit": _demo_fit, "GridSearchCV(n_jobs=2)": _grid_search}


def whole_tasks_under_load(n_rounds=2, max_iter=10, cores=None, tasks=None):
    """Seconds of the demo's fit and of GridSearchCV(n_jobs=2), idle and busy, per skvae setting."""
    cores = cores or usable_cores()
    tasks = {name: TASKS[name] for name in (tasks or TASKS)}
    results = {"config": {"max_iter": max_iter, "n_rounds": n_rounds}}
    for condition in ("idle", "busy"):
        with busy_core(condition == "busy"), torch_threads_set_to(cores), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            contenders = {}
            for task, run in tasks.items():
                for setting, n_jobs in (("skvae", None), ("n_jobs=-1", -1)):
                    contenders[f"{task}, {setting}"] = lambda run=run, n_jobs=n_jobs: timed(
                        lambda: run(n_jobs, max_iter))
            rounds = RoundRobin().run(contenders, n_rounds)
        results[condition] = {
            "seconds": rounds.values,
            "median_seconds": {name: rounds.median(name) for name in contenders},
            "ratios": {f"{task}: n_jobs=-1 / skvae": rounds.ratio(f"{task}, n_jobs=-1", f"{task}, skvae")
                       for task in tasks},
        }
    return results


def run(quick=False):
    """Both measurements at full or smoke-test sizes; a JSON-able dict."""
    if quick:
        small = {"tiny": dict(n_rows=300, n_features=16, hidden_layer_sizes=(16,), latent_dim=2, epochs=1)}
        return {"cores": usable_cores(), "training": training_under_load(1, small),
                "tasks": whole_tasks_under_load(1, max_iter=2)}
    return {"cores": usable_cores(), "training": training_under_load(), "tasks": whole_tasks_under_load()}


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick="--quick" in sys.argv), indent=1, default=float))
