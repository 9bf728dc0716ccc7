"""torch's defaults (and NumPy's error handling) as skvae needs them inside a call, as the user left them after.

skvae's networks, optimizer and data are float32 tensors that need
gradients while training. Four of torch's settings would otherwise leak in
from the caller and break a call deep inside torch: the default dtype
(``torch.set_default_dtype(torch.float64)`` builds float64 layers that then
meet float32 data: "mat1 and mat2 must have the same dtype"), the default
device (``torch.set_default_device("meta")`` builds layers without data),
grad mode (``torch.no_grad()`` or ``torch.set_grad_enabled(False)`` around a
fit: "element 0 of tensors does not require grad") and inference mode
(tensors made under ``torch.inference_mode()`` cannot be saved for
backward).

The default device, grad and inference mode (and autocast and NumPy's error
handling, :func:`_precision`) are per Python thread: :func:`torch_defaults`
sets them for the duration of one public call and puts them back after,
whether the call returns or raises.

The default dtype is process-wide, so it is never set: every tensor skvae
creates names its dtype (:data:`DTYPE`). Setting it for the duration of a
call, as skvae once did, changed it under the caller's other threads (their
``torch.zeros`` came out float32 while a fit ran beside them), and a thread
that set its own default during a fit broke that fit halfway ("mat1 and mat2
must have the same dtype") or had its setting undone when the fit ended.
"""

import contextlib
import functools

import numpy as np
import torch

from ._threads import forked_child_scope

#: The dtype of skvae's networks, data and draws, passed to every tensor skvae creates (see the module docstring).
DTYPE = torch.float32


def _default_device():
    """The CPU as torch's default device inside the block, where the caller set another one.

    skvae creates tensors on the CPU and moves them to its device explicitly;
    ``torch.set_default_device("meta")`` (or "cuda") would put them elsewhere.
    The context is a torch function mode, which costs every torch call a
    Python dispatch: entered only when the default is not the CPU already.
    """
    if _default_is_cpu():
        return contextlib.nullcontext()
    return torch.device("cpu")


def _default_is_cpu():
    """Whether torch's default device is the CPU, without ``torch.get_default_device`` where possible.

    That call walks the function-mode stack in Python: 8 µs, a tenth of a
    one-row ``transform``. A default device other than the CPU is always a
    function mode (``torch.set_default_device`` and ``with torch.device(...)``
    push one); with none on the stack and no global device context, the
    default is the CPU. Any other state, or a torch without these internals,
    asks ``get_default_device``.
    """
    try:
        if torch._C._len_torch_function_stack() == 0 and getattr(torch._GLOBAL_DEVICE_CONTEXT, "device_context",
                                                                  None) is None:
            return True
    except AttributeError:
        pass
    return torch.get_default_device().type == "cpu"


#: The device types skvae runs on (skvae._device), whose autocast :func:`_precision` turns off.
_AUTOCAST_DEVICE_TYPES = ("cpu", "cuda")

#: NumPy's own floating-point error handling (``np.geterr()`` of a fresh process), the one skvae's arithmetic
#: is written and tested for: underflow to 0 is silent, the rest warns where it is not handled.
_NUMPY_ERRORS = {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}

_NO_CHANGE = contextlib.nullcontext()


def _autocast_checker():
    """``is_autocast_enabled(device_type)``; torch before 2.4 has one function per device type."""
    try:
        torch.is_autocast_enabled("cpu")
        return torch.is_autocast_enabled
    except TypeError:
        return lambda device: torch.is_autocast_cpu_enabled() if device == "cpu" else torch.is_autocast_enabled()


_autocast_enabled = _autocast_checker()


def _precision():
    """Autocast off and NumPy's default error handling inside the block, where the caller set otherwise.

    Hostile sweep 18, two settings per thread (as grad mode is) that reached
    skvae's arithmetic. A caller's ``torch.autocast("cpu", dtype=torch.bfloat16)``
    (around their own model, with skvae as a step of it): every fit trained
    and every call inferred in bfloat16 or float16, other results than the
    same call outside it, without a word, and an array model's ``transform``
    failed with NumPy's "Got unsupported ScalarType BFloat16". A caller's
    ``np.seterr(all="raise")`` (a debugging habit): a column of subnormal
    values, or one holding 1e300, failed ``fit`` with NumPy's bare
    ``FloatingPointError: underflow encountered in square`` (the column's
    scaling), an underflow that is 0 by design. skvae's precision is its own
    (float32 networks, float64 where a call needs it). The usual case, both
    as torch and NumPy start, costs two flag reads and one ``np.geterr()``.
    """
    cpu, cuda = _autocast_enabled("cpu"), _autocast_enabled("cuda")
    errors = np.geterr() != _NUMPY_ERRORS
    if not (cpu or cuda or errors):
        return _NO_CHANGE
    stack = contextlib.ExitStack()
    for device, enabled in zip(_AUTOCAST_DEVICE_TYPES, (cpu, cuda)):
        if enabled:
            stack.enter_context(torch.autocast(device, enabled=False))
    if errors:
        stack.enter_context(np.errstate(**_NUMPY_ERRORS))
    return stack


@contextlib.contextmanager
def torch_defaults():
    """The CPU as default device, grad mode on, inference mode and autocast off, NumPy's error handling
    its default, inside the block; the caller's after."""
    # In a forked child, torch's work runs on one thread (skvae._threads._after_fork_in_child).
    with _default_device(), torch.inference_mode(False), torch.enable_grad(), _precision(), forked_child_scope():
        yield


def with_torch_defaults(method):
    """Decorate a public method that reaches torch so that it runs under :func:`torch_defaults`."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with torch_defaults():
            return method(*args, **kwargs)

    return wrapper
