"""Device resolution: the estimator's `device` parameter to a torch.device."""

import torch
from ._inference import to_tensor
from ._refusals import ParameterRefusal, parameter, parameter_phrase
from ._warnings import warn


def resolve_device(device):
    """Map the `device` parameter to an available :class:`torch.device`.

    ``"auto"`` is CUDA when ``torch.cuda.is_available()``, else the CPU. An
    explicit device that does not exist here is a ``ValueError`` naming the
    parameter, never a torch error later in the fit: scikit-learn's
    InvalidParameterError (a ValueError), as for every other parameter.
    """
    if isinstance(device, str) and device == "auto":
        # The same name as an explicit device="cuda" gets ("cuda:0"), so that
        # `device_` does not depend on how the GPU was asked for.
        return torch.device("cuda", torch.cuda.current_device()) if torch.cuda.is_available() else torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ParameterRefusal(
            parameter_phrase("device"), f" must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {device!r}."
        ) from None
    if resolved.type == "cpu":
        # torch accepts "cpu:0" (any index: there is one CPU device); the state
        # records the device by name, and "cpu:0" is no name a saved model has.
        return torch.device("cpu")
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ParameterRefusal(
                parameter("device", device), " was requested but CUDA is not available on this machine; use ",
                parameter("device", "auto"), " or ", parameter("device", "cpu"), ".",
            )
        index = 0 if resolved.index is None else resolved.index
        if index >= torch.cuda.device_count():
            raise ParameterRefusal(
                parameter("device", device), f" was requested but only {torch.cuda.device_count()} "
                "CUDA device(s) are visible.",
            )
        return torch.device("cuda", index)
    if resolved.type == "mps" and torch.backends.mps.is_available():
        return torch.device("mps")
    raise ParameterRefusal(
        parameter_phrase("device"), f" must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {device!r}, "
        "which is not available on this machine."
    )


def runs_on(device):
    """Whether `device` names a device of a kind skvae runs on (CPU, CUDA, MPS), available here or not."""
    try:
        return torch.device(device).type in ("cpu", "cuda", "mps")
    except (RuntimeError, TypeError, ValueError):
        return False


def restore_device(device_name):
    """The device a loaded model should live on: its own if present, else the CPU.

    A model fitted on a GPU must load on a machine without one (as skorch's
    pickles do), with a warning rather than an error.
    """
    device = torch.device(device_name)
    if device.type == "cuda" and (
        not torch.cuda.is_available() or (device.index or 0) >= torch.cuda.device_count()
    ):
        # At the caller's line (hostile sweep 22): stacklevel=3 named skvae's own unpickling code.
        warn(
            f"This model was fitted on {device_name!r}, which is not available here; "
            "it is loaded on the CPU.",
            UserWarning,
        )
        return torch.device("cpu")
    if device.type == "mps" and not torch.backends.mps.is_available():
        return torch.device("cpu")
    return device


#: Fraction of the free GPU memory the training data may take when moved once.
_DEVICE_DATA_FRACTION = 0.5


def place_training_data(array, device):
    """The training data as a tensor: on `device` once, or left on the host.

    On CUDA the whole array moves to the GPU once per fit when it takes at most
    half of the free GPU memory; otherwise it stays where it is, shared with
    `array`, and the training loop copies one minibatch at a time. It is not
    pinned: pinning copies the whole array into page-locked memory (the very
    case of data too large for the GPU), and a minibatch gathered from a
    pinned tensor is a new, pageable tensor anyway.
    """
    tensor = to_tensor(array)
    if device.type == "cuda":
        free_bytes, _ = torch.cuda.mem_get_info(device)
        if tensor.nbytes > _DEVICE_DATA_FRACTION * free_bytes:
            return tensor
    return tensor.to(device)
