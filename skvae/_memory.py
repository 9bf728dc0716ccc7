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
what a spec of a million one-unit layers costs. Activations are not counted
there: they scale with ``batch_size``, which the caller can lower. One training
step's activations are checked apart (:func:`check_step_fits`), as
``n_importance_train`` multiplies them by up to 100,000; and arrays a call
returns whose size a count argument sets (``sample(n_samples=10**12)``) are
checked against the host's memory (:func:`check_host_allocation`), so that the
count is refused by name rather than by NumPy's MemoryError.

Available memory is the host's ``MemAvailable`` (lowered to the cgroup's
remaining limit inside a container, and to what the process's address-space
limit leaves, :func:`_address_space_remaining`) for the CPU and MPS, and the free memory
``torch.cuda.mem_get_info`` reports for a CUDA device. Where it cannot be
read, nothing is refused.
"""

import os

import torch

from ._networks import count_parameters
from ._refusals import Refusal, advice, parameter

BYTES_PER_PARAMETER = 5 * 4
BYTES_PER_TENSOR = 8 * 2**10
#: Below this, an output array is not checked against the host's free memory.
ALWAYS_AFFORDABLE_BYTES = 64 * 2**20


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
    raise Refusal(
        "Could not build the networks with ", *networks_terms(spec["hidden_layer_sizes"], spec["latent_dim"]),
        f" for {spec['n_inputs']!r} inputs and {spec['n_params']!r} outputs on ", parameter("device", str(device)),
        f": their {n_values:,} parameters need about {_human(needed)} to train (weights, gradients and "
        f"Adam's state), more than the {_human(available)} of memory available there. ",
        advice("smaller_networks", "Use smaller hidden_layer_sizes or latent_dim."),
    )


def networks_terms(hidden_layer_sizes, latent_dim):
    """The parameters of a refusal of networks: ``hidden_layer_sizes=(256, 128), latent_dim=10``."""
    return parameter("hidden_layer_sizes", tuple(hidden_layer_sizes)), ", ", parameter("latent_dim", latent_dim)


def check_step_fits(spec, rows_per_step, n_importance, device):
    """Raise ValueError if one training step of `rows_per_step` rows and `n_importance` samples cannot fit on `device`.

    The networks' weights are :func:`check_networks_fit`'s; a step's
    activations grow with ``rows x n_importance`` (the decoder runs once per
    sample of z), which ``n_importance_train`` can make far larger than any
    network: refused here, before the first batch allocates it.
    """
    widths = sum(spec["hidden_layer_sizes"])
    per_sample = widths + spec["latent_dim"] + spec["n_params"] + spec["n_inputs"]
    per_row = widths + 2 * spec["latent_dim"] + 2 * spec["n_inputs"]
    # Forward values, their gradients and the activation's saved input: about 3 float32 copies.
    needed = 3 * 4 * rows_per_step * (n_importance * per_sample + per_row)
    available = available_bytes(device)
    if available is None or needed <= available:
        return
    raise Refusal(
        "One training step of ", parameter("batch_size", rows_per_step), " rows with ",
        parameter("n_importance_train", n_importance), f" samples each needs about {_human(needed)} of "
        "activations on ", parameter("device", str(device)), f", more than the {_human(available)} of memory "
        "available there. ", advice("smaller_step", "Lower n_importance_train or batch_size (or hidden_layer_sizes)."),
    )


def check_host_allocation(n_bytes, what, remedy):
    """Raise a Refusal if an array of `n_bytes` cannot fit in the host's memory.

    `what` (a string, or a tuple of refusal parts) says what asked for it,
    `remedy` (the same) what to do.

    NumPy would raise MemoryError (or the OS kill the process) only after the
    request reached the allocator; a count such as ``n_samples=10**12`` is a
    usage error, and says which argument to lower.
    """
    if n_bytes <= ALWAYS_AFFORDABLE_BYTES:  # spares the everyday call reading /proc
        return
    available = _host_available_bytes()
    if available is None or n_bytes <= available:
        return
    what = what if isinstance(what, tuple) else (what,)
    remedy = remedy if isinstance(remedy, tuple) else (remedy,)
    raise Refusal(*what, f" needs about {_human(n_bytes)}, more than the {_human(available)} of memory "
                  "available. ", *remedy)


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
        _address_space_remaining(),
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
        with open("/proc/meminfo", encoding="ascii", errors="replace") as file:
            for line in file:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _address_space_remaining(status_path="/proc/self/status"):
    """Bytes the process's address-space limit (``ulimit -v``, ``RLIMIT_AS``) leaves, or None without one.

    Hostile sweep 21: under such a limit (a batch system's, or the caller's
    ``resource.setrlimit``) the host's free memory is no bound: a fit of
    networks beyond it passed the check and failed in torch's allocator
    halfway through building them, with its own "[enforce fail at
    alloc_cpu.cpp] ... can't allocate memory", naming no parameter. The limit
    less the process's present size (``VmSize``) is what it can still map.
    """
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    except (ImportError, AttributeError, OSError, ValueError):  # not on Unix
        return None
    if limit == resource.RLIM_INFINITY or limit < 0:
        return None
    try:
        with open(status_path, encoding="ascii", errors="replace") as file:
            for line in file:
                if line.startswith("VmSize:"):
                    return max(0, limit - int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_remaining(limit_path, usage_path):
    try:
        with open(limit_path, encoding="ascii", errors="replace") as file:
            limit = file.read().strip()
        with open(usage_path, encoding="ascii", errors="replace") as file:
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
