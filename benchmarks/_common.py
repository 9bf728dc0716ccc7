"""What every benchmark shares: the device, the machine's description, fair timing.

Timings on a shared machine drift with the load, so contenders are never
timed in separate blocks: each round times every contender once, in an order
that rotates from round to round, and results are reported as the median over
rounds of the per-round ratio to a reference measured in the same round.
"""

import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch


def benchmark_device():
    """CUDA when available, else the CPU: the device every contender trains on."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def synchronize(device):
    """Wait for queued GPU work, so that a timer measures it."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def cpu_model():
    """The CPU's model name from /proc/cpuinfo, else what platform knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_description(device):
    """A dict naming the hardware and software the numbers were measured on."""
    import sklearn

    import skvae

    description = {
        "CPU": cpu_model(),
        "CPU cores (visible)": str(os.cpu_count()),
        "torch threads": str(torch.get_num_threads()),
        "device": device,
        "Python": platform.python_version(),
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "skvae": skvae.__version__,
        "OS": f"{platform.system()} {platform.release()}",
    }
    if torch.device(device).type == "cuda":
        description["GPU"] = torch.cuda.get_device_name(device)
    try:
        description["load average (1 min) at start"] = f"{os.getloadavg()[0]:.2f}"
    except OSError:
        pass
    return description


@dataclass
class RoundRobin:
    """Per-round measurements of several contenders, timed in rotating order.

    ``values[name]`` holds one number per round (for example rows per
    second). :meth:`ratio` pairs each round's value with the reference's value
    from the same round, so a load spike that slows one round slows both.
    """

    values: dict = field(default_factory=dict)

    def run(self, contenders, n_rounds):
        """Call each of `contenders` (name -> zero-argument function returning a number) per round."""
        names = list(contenders)
        for round_index in range(n_rounds):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                self.values.setdefault(name, []).append(float(contenders[name]()))
        return self

    def median(self, name):
        return statistics.median(self.values[name])

    def ratio(self, name, reference):
        """Median over rounds of value[name] / value[reference] in the same round."""
        return statistics.median(a / b for a, b in zip(self.values[name], self.values[reference]))


def timed(function, device="cpu"):
    """Seconds that `function()` takes, GPU work included."""
    synchronize(device)
    start = time.perf_counter()
    function()
    synchronize(device)
    return time.perf_counter() - start


def per_call_seconds(function, n_calls):
    """Mean seconds per call over a block of `n_calls` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(n_calls):
        function()
    return (time.perf_counter() - start) / n_calls


def low_rank_data(n_rows, n_features, rank=20, noise=0.5, seed=0, dtype=np.float32):
    """Gaussian rows near a random `rank`-dimensional subspace: realistic, cheap to make."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, rank)) @ rng.standard_normal((rank, n_features))
    X += noise * rng.standard_normal((n_rows, n_features))
    return X.astype(dtype, copy=False)


@contextlib.contextmanager
def module_constant(module, name, value):
    """Temporarily replace a module constant that is not a parameter (the variance floor, say)."""
    saved = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, saved)


@contextlib.contextmanager
def busy_core(busy=True):
    """One extra process spinning on one core for the duration (nothing when `busy` is False)."""
    if not busy:
        yield
        return
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)  # let it reach the scheduler before timing starts
        yield
    finally:
        spinner.kill()
        spinner.wait()


def run_in_tree(tree, code, *args, drop_env=()):
    """Run Python `code` with `args` in a child process importing skvae from source `tree`.

    Returns the JSON object the child printed on its last line of output;
    `drop_env` names environment variables the child must not inherit.
    """
    tree = Path(tree).resolve()
    env = {**os.environ, "PYTHONPATH": str(tree)}
    for name in drop_env:
        env.pop(name, None)
    # In the tree's folder: `python -c` puts the working folder first on sys.path, ahead of PYTHONPATH, so
    # a child started from a checkout imported that checkout's skvae whatever `tree` said (every before /
    # after run of speed_report.py, before_after.py and fit_time.py until 2026-12-05 measured one tree).
    preamble = ("import skvae as _skvae, pathlib as _pathlib\n"
                f"assert _pathlib.Path(_skvae.__file__).resolve().is_relative_to({str(tree)!r}), _skvae.__file__\n")
    result = subprocess.run([sys.executable, "-c", preamble + code, *args], env=env, cwd=tree,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} on {tree} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
