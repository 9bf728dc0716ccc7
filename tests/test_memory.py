"""Inference on large inputs runs in bounded batches: memory is the output plus a working set.

A fresh subprocess fits a small model, then runs transform, inverse_transform
and score_samples on 200,000 and 1,000,000 rows of 100 features. Around each
call it returns freed heap memory to the OS (glibc ``malloc_trim``), resets the
kernel's peak-RSS counter (``/proc/self/clear_refs``) and reads the peak after
the call (``VmHWM``): the peak increase is what the call itself needed.
"""

import json
import os
import subprocess
import sys

import pytest

from skvae._inference import MAX_BATCH_ELEMENTS

pytestmark = pytest.mark.slow  # the quick set (-m 'not slow') leaves this module out

N_FEATURES, LATENT_DIM = 100, 2
ROWS = (200_000, 1_000_000)

# A batch holds at most MAX_BATCH_ELEMENTS elements per intermediate array.
# score_samples keeps the most alive at once: float64/uint64 copies of the
# batch while it hashes rows to their Monte Carlo noise (measured: ~3.5 such
# arrays), besides the networks' float32 activations. Eight float64 batches is
# a bound with 2x headroom, and it is the same for any number of rows.
WORKING_SET_BYTES = 8 * MAX_BATCH_ELEMENTS * 8

# Going from 200k to 1M rows, the peak may grow by the output's growth plus
# this much noise (two float64 batches; repeated runs spread by up to 30 MiB,
# as buffers kept by the allocator and torch's math libraries vary). Anything
# held per row beyond the output exceeds it: a boolean mask of the output or
# input grows by 76 MiB here, a float32 copy of the input by 305 MiB.
GROWTH_SLACK_BYTES = 2 * MAX_BATCH_ELEMENTS * 8

CHILD = f"""
import ctypes, gc, json, re
import numpy as np
from skvae import VAETransformer

libc = ctypes.CDLL("libc.so.6")

def status(field):
    with open("/proc/self/status") as f:
        return int(re.search(field + r":\\s+(\\d+) kB", f.read()).group(1)) * 1024

def reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")

rng = np.random.default_rng(0)

def uniform(n_rows, n_columns):
    out = np.empty((n_rows, n_columns), dtype=np.float32)
    for start in range(0, n_rows, 100_000):
        out[start:start + 100_000] = rng.random((min(100_000, n_rows - start), n_columns), dtype=np.float32)
    return out

model = VAETransformer(latent_dim={LATENT_DIM}, hidden_layer_sizes=(16,), random_state=0, device="cpu")
model.partial_fit(uniform(2000, {N_FEATURES}))
methods = {{
    "transform": lambda X, Z: model.transform(X),
    "inverse_transform": lambda X, Z: model.inverse_transform(Z),
    "score_samples": lambda X, Z: model.score_samples(X),
}}
# Build the inference networks, and let torch's math libraries size their
# buffers on a few full batches, before measuring.
for method in methods.values():
    method(uniform(50_000, {N_FEATURES}), uniform(50_000, {LATENT_DIM}))

results = []
for n_rows in {ROWS}:
    X, Z = uniform(n_rows, {N_FEATURES}), uniform(n_rows, {LATENT_DIM})
    for name, method in methods.items():
        gc.collect()
        libc.malloc_trim(0)
        reset_peak()
        before = status("VmRSS")
        out = method(X, Z)
        results.append(dict(method=name, n_rows=n_rows, increase=status("VmHWM") - before, output=out.nbytes))
        del out
    del X, Z
print(json.dumps(results))
"""


def _can_measure():
    """Linux with glibc: the peak-RSS reset and malloc_trim exist (checked without using them here)."""
    if not os.access("/proc/self/clear_refs", os.W_OK):
        return False
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return False
    return True


@pytest.fixture(scope="module")
def peaks():
    if not _can_measure():
        pytest.skip("needs Linux with glibc (/proc/self/clear_refs and malloc_trim)")
    # One thread: the measurement does not need more, and CI cores are shared.
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    return {(r["method"], r["n_rows"]): r for r in measured}


@pytest.mark.slow
@pytest.mark.parametrize("method", ["transform", "inverse_transform", "score_samples"])
def test_peak_memory_is_output_plus_a_bounded_working_set(peaks, method):
    for n_rows in ROWS:
        peak = peaks[method, n_rows]
        assert peak["increase"] < peak["output"] + WORKING_SET_BYTES, peak


@pytest.mark.slow
@pytest.mark.parametrize("method", ["transform", "inverse_transform", "score_samples"])
def test_peak_memory_grows_only_with_the_output(peaks, method):
    small, large = (peaks[method, n_rows] for n_rows in ROWS)
    extra_growth = (large["increase"] - small["increase"]) - (large["output"] - small["output"])
    assert extra_growth <= GROWTH_SLACK_BYTES, (small, large)
