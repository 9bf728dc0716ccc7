"""Child process: peak resident memory that one bulk ``transform`` adds.

Usage: ``python -m benchmarks._memory_probe N_ROWS N_FEATURES DEVICE``;
prints one JSON line. The input is built in place (no float64 temporary),
then the kernel's peak-RSS counter is reset (``/proc/self/clear_refs``) so the
reported peak belongs to ``transform`` alone. Where that counter cannot be
reset, a thread polls the resident size every millisecond instead.
"""

import json
import sys
import threading
import time
import warnings

import numpy as np


def _status_kib(field):
    """A memory field of /proc/self/status in KiB; VmRSS from psutil where there is no /proc."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        if field == "VmRSS":
            import psutil

            return psutil.Process().memory_info().rss // 1024
        raise
    raise KeyError(field)


def _release_free_heap():
    """Hand freed heap memory back to the OS (glibc), so the baseline is live memory only.

    Without it, memory that fitting freed but the allocator kept would be
    reused by ``transform`` without showing up as added memory.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


class _Poller:
    """Highest resident size seen while running, sampled every millisecond."""

    def __init__(self):
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _status_kib("VmRSS"))
            time.sleep(0.001)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def measure(n_rows, n_features, device):
    from skvae import VAETransformer

    rng = np.random.default_rng(0)
    basis = rng.standard_normal((20, n_features)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit_rows = rng.standard_normal((min(2000, n_rows), 20)).astype(np.float32) @ basis
        vae = VAETransformer(latent_dim=20, hidden_layer_sizes=(256, 128), max_iter=1, device=device,
                             random_state=0).fit(fit_rows)
    X = np.empty((n_rows, n_features), dtype=np.float32)
    for start in range(0, n_rows, 10_000):
        block = X[start : start + 10_000]
        block[...] = rng.standard_normal((block.shape[0], 20), dtype=np.float32) @ basis
    vae.transform(X[:10])  # builds the inference cache outside the measurement
    on_gpu = vae.device_.startswith("cuda")
    if on_gpu:
        import torch

        torch.cuda.reset_peak_memory_stats(vae.device_)
        gpu_baseline = torch.cuda.memory_allocated(vae.device_)
    _release_free_heap()
    baseline_kib = _status_kib("VmRSS")
    if _reset_peak():
        method = "VmHWM reset"
        Z = vae.transform(X)
        peak_kib = _status_kib("VmHWM")
    else:
        method = "polled VmRSS"
        with _Poller() as poller:
            Z = vae.transform(X)
        peak_kib = poller.peak
    added = max(0, peak_kib - baseline_kib) * 1024
    extra = {}
    if on_gpu:
        extra["gpu_peak_added_bytes"] = torch.cuda.max_memory_allocated(vae.device_) - gpu_baseline
    return {
        **extra,
        "n_rows": n_rows,
        "n_features": n_features,
        "input_bytes": X.nbytes,
        "output_bytes": Z.nbytes,
        "peak_added_bytes": added,
        "working_set_bytes": added - Z.nbytes,
        "method": method,
    }


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])))
