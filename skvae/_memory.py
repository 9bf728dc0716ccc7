"""Memory budget of the networks: refuse, before allocating, what cannot fit.

A network spec is a few integers, but ``hidden_layer_sizes=(10**9,)`` asks
for billions of weights: allocating them first would grow memory for a minute
(or swap, or wake the OOM killer) before failing. :func:`check_networks_fit`
counts the parameters from the spec alone (:func:`skvae._networks.count_parameters`)
and compares what training them needs with the memory available on the
device. ``fit`` and the loading of a pickled or saved model both build
networks through it.

The estimate per scalar parameter is :data:`BYTES_PER_PARAMETER`: the float32
weight, its gradient, Adam's two moments, and the copy of the weights kept
per epoch to restore after a divergence. Each parameter tensor adds
:data:`BYTES_PER_TENSOR` of bookkeeping (modules, tensor objects, optimizer
state entries; measured at about 5 kB per tensor with torch 2.13), which is
what a spec of a million one-unit layers costs. Activations are not counted:
they scale with ``batch_size``, which the caller can lower.

Available memory is the host's ``MemAvailable`` (lowered to the cgroup's
remaining limit inside a container) for the CPU and MPS, and the free memory
``torch.cuda.mem_get_info`` reports for a CUDA device. Where it cannot be
read, nothing is refused.
"""

import os

import torch

from ._networks import count_parameters

BYTES_PER_PARAMETER = 5 * 4
BYTES_PER_TENSOR = 8 * 2**10


def network_bytes(spec):
    """(number of scalar parameters, estimated bytes to train them) for a network spec."""
    n_tensors, n_values = count_parameters(spec)
    return n_values, n_values * BYTES_PER_PARAMETER + n_tensors * BYTES_PER_TENSOR


def check_networks_fit(spec, device):
    """Raise ValueError if the networks of `spec` cannot be trained in the memory of `device`."""
    n_values, needed = network_bytes(spec)
    available = available_bytes(device)
    if available is None or needed <= available:
        return
    raise ValueError(
        f"Could not build the networks with hidden_layer_sizes={tuple(spec['hidden_layer_sizes'])!r}, "
        f"latent_dim={spec['latent_dim']!r} for {spec['n_inputs']!r} inputs and {spec['n_params']!r} outputs "
        f"on device={str(device)!r}: "
        f"their {n_values:,} parameters need about {_human(needed)} to train (weights, gradients and "
        f"Adam's state), more than the {_human(available)} of memory available there. "
        "Use smaller hidden_layer_sizes or latent_dim."
    )


def available_bytes(device):
    """Bytes that can be allocated on `device` now, or None where that cannot be read."""
    device = torch.device(device)
    if device.type == "cuda":
        try:
            free, _ = torch.cuda.mem_get_info(device)
        except (RuntimeError, AssertionError, ValueError):
            return None
        return int(free)
    if device.type in ("cpu", "mps"):
        return _host_available_bytes()
    return None


def _host_available_bytes():
    candidates = [
        _meminfo_available(),
        _cgroup_remaining("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        _cgroup_remaining(
            "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"
        ),
    ]
    known = [value for value in candidates if value is not None]
    if not known:
        try:
            known = [os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")]
        except (ValueError, OSError, AttributeError):
            return None
    return min(known)


def _meminfo_available():
    try:
        with open("/proc/meminfo") as file:
            for line in file:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_remaining(limit_path, usage_path):
    try:
        with open(limit_path) as file:
            limit = file.read().strip()
        with open(usage_path) as file:
            usage = int(file.read().strip())
        # "max" (v2) or a page-rounded 2**63 (v1) means no limit.
        if limit == "max" or int(limit) >= 2**62:
            return None
        return max(0, int(limit) - usage)
    except (OSError, ValueError):
        return None


def _human(n_bytes):
    if n_bytes < 1024:
        return f"{n_bytes} bytes"
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        n_bytes /= 1024
        if n_bytes < 1024 or unit == "EiB":
            return f"{n_bytes:.1f} {unit}"
