"""Inference: the fitted networks applied to NumPy arrays in bounded batches.

Two rules shape this module:

- **Bounded memory.** Inputs are processed in batches whose size is chosen so
  that no intermediate tensor exceeds :data:`MAX_BATCH_ELEMENTS` elements; the
  only allocation that grows with the input is the output array itself.
- **Exact in the input's dtype.** float32 matrix products differ in the last
  bits with the batch size, and scikit-learn requires a row's result not to
  depend on which rows share its call (checked at 1e-7). So float64 input runs
  through a float64 copy of the networks, float32 input through the float32
  training networks. The copies live in an :class:`InferenceCache` that the
  estimator clears whenever training changes the weights.

Every NumPy array enters torch through :func:`to_tensor`, whatever its memory
layout (negative strides, Fortran order, views, read-only, byte order,
memmaps), so that no layout reaches a torch function that refuses it.
"""

import copy
import threading

import numpy as np
import torch

from ._objectives import importance_weighted_bound, kl_to_standard_normal, reparameterize
from ._threads import torch_threads

#: Largest number of elements in one intermediate tensor (32 MiB in float64).
MAX_BATCH_ELEMENTS = 2**22


def rows_per_batch(row_width):
    """How many rows fit a batch when each row needs `row_width` elements."""
    return max(1, MAX_BATCH_ELEMENTS // max(1, row_width))


def to_tensor(array):
    """The one door from NumPy into torch: a CPU tensor for any layout NumPy allows.

    Every array that enters torch in skvae passes here. ``torch.from_numpy``
    shares memory, which is what a writable, C-contiguous array in native
    byte order gets: skvae never writes into its inputs, and a copy costs as
    much as a whole small network on one row. Every other layout is copied
    into a fresh C-contiguous native-order array first, because torch refuses
    negative strides (``X[::-1]``) and non-native byte order, warns about
    read-only memory (read-only memmaps, frozen arrays), and strided views
    (Fortran order, ``X[:, ::2]``) would make every layer pay for the
    scattered reads. NumPy subclasses (``np.memmap``) are read as plain arrays.
    """
    array = np.asarray(array)
    if not (array.flags.c_contiguous and array.flags.writeable and array.dtype.isnative):
        array = np.array(array, dtype=array.dtype.newbyteorder("="), order="C", copy=True)
    return torch.from_numpy(array)


class InferenceNetworks:
    """The fitted encoder/decoder in one dtype on one device, in the user's units."""

    def __init__(self, encoder, decoder, likelihood, data_shift, data_scale, dtype):
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = likelihood
        self.device = encoder.mean_head.weight.device
        self.dtype = dtype
        self.shift = torch.as_tensor(data_shift, dtype=dtype, device=self.device)
        self.scale = torch.as_tensor(data_scale, dtype=dtype, device=self.device)
        # log|d x_std / d x|: turns densities of standardized data into densities of x.
        self.log_jacobian = -float(np.sum(np.log(data_scale)))
        # encoder.mean as a flat list of steps: (weight, bias) for F.linear, or a
        # module's `forward`. nn.Module's call machinery (hooks, which these
        # private networks never have) and attribute lookups cost more than the
        # arithmetic when transforming a single row. The tensors are the
        # modules' own, updated in place by training; the cache is cleared on
        # every fit anyway.
        self._mean_steps = tuple(
            (layer.weight, layer.bias) if type(layer) is torch.nn.Linear else layer.forward
            for layer in (*encoder.trunk, encoder.mean_head)
        )

    def as_tensor(self, array):
        """`array` (any NumPy layout) as a tensor in the networks' dtype on their device."""
        tensor = to_tensor(array)
        if tensor.dtype == self.dtype and tensor.device == self.device:
            return tensor
        return tensor.to(device=self.device, dtype=self.dtype, non_blocking=True)

    def standardize(self, x):
        return (x - self.shift) / self.scale

    def encode_mean(self, x):
        """``encoder.mean`` of the standardized rows, layer by layer."""
        x = self.standardize(x)
        for step in self._mean_steps:
            x = torch.nn.functional.linear(x, *step) if type(step) is tuple else step(x)
        return x

    def decode_mean(self, z):
        return self.likelihood.mean(self.decoder(z)) * self.scale + self.shift

    def decode_sample(self, z, generator):
        return self.likelihood.sample(self.decoder(z), generator) * self.scale + self.shift

    def elbo(self, x, noise):
        """Per-row ELBO in nats of x: one reparameterised sample, closed-form KL."""
        x = self.standardize(x)
        mean, log_variance = self.encoder(x)
        z = reparameterize(mean, log_variance, noise)
        reconstruction = self.likelihood.log_prob(x, self.decoder(z))
        return reconstruction - kl_to_standard_normal(mean, log_variance) + self.log_jacobian

    def importance_weighted_bound(self, x, noise):
        """Per-row importance-weighted bound in nats of x, noise of shape (K, n, q)."""
        bound = importance_weighted_bound(
            self.encoder, self.decoder, self.likelihood, self.standardize(x), noise
        )
        return bound + self.log_jacobian


class InferenceCache:
    """Thread-safe map dtype -> :class:`InferenceNetworks`, filled on first use."""

    def __init__(self):
        self._lock = threading.Lock()
        self._networks = {}

    def clear(self):
        with self._lock:
            self._networks.clear()

    def get(self, dtype, build):
        """The networks for `dtype`, from `build(dtype)` the first time."""
        with self._lock:
            if dtype not in self._networks:
                self._networks[dtype] = build(dtype)
            return self._networks[dtype]


def is_plain_float_matrix(X, n_features):
    """Whether X is a finite float32/float64 ndarray of shape (n >= 1, n_features).

    For exactly such input, scikit-learn's ``validate_data(reset=False)``
    converts nothing and checks only the shape and finiteness tested here, yet
    spends tens of microseconds looking for dataframes: more than the networks
    take on one row. Anything else (lists, dataframes, other dtypes or byte
    orders, subclasses such as memmaps, a wrong shape, NaN or inf) answers
    False and goes through ``validate_data``, which converts it or raises its
    usual error.
    """
    if type(X) is not np.ndarray or X.ndim != 2 or X.shape[0] < 1 or X.shape[1] != n_features:
        return False
    if X.dtype != np.float64 and X.dtype != np.float32:
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        # Finite sum means every value is finite; an overflowing sum just takes the slow path.
        return bool(np.isfinite(np.add.reduce(X, axis=None)))


def networks_in_dtype(encoder, decoder, dtype):
    """`encoder` and `decoder` themselves if already in `dtype`, else copies cast to it."""
    if encoder.mean_head.weight.dtype == dtype:
        return encoder, decoder
    return copy.deepcopy(encoder).to(dtype), copy.deepcopy(decoder).to(dtype)


def map_row_batches(function, X, out_shape_tail, row_width, n_threads=None):
    """Apply `function(X_batch) -> tensor` to bounded batches of rows of X.

    Returns a NumPy array of shape (n_rows, *out_shape_tail) in X's dtype,
    written batch by batch so that memory is the output plus one batch.
    torch runs on `n_threads` CPU threads meanwhile (None: as it is).
    """
    step = rows_per_batch(row_width)
    with torch.inference_mode(), torch_threads(n_threads):
        if X.shape[0] <= step:  # one batch (a single row, say): no copy into a separate output
            out = function(X).cpu().numpy().astype(X.dtype, copy=False)
        else:
            out = np.empty((X.shape[0], *out_shape_tail), dtype=X.dtype)
            for start in range(0, X.shape[0], step):
                stop = start + step
                out[start:stop] = function(X[start:stop]).cpu().numpy()
    _refuse_overflow(out, step)
    return out


def _acceptable_rows(block):
    """Per row of `block`: no NaN or inf, except -inf in a 1-D (log-density) block.

    -inf is the honest score of a row whose density underflows (an extreme
    outlier); NaN and +inf in any output are overflow.
    """
    if block.ndim == 1:
        return block < np.inf  # False for NaN and +inf only
    return np.isfinite(block.reshape(block.shape[0], -1)).all(axis=1)


def _refuse_overflow(out, step):
    """NaN or inf is never an answer: overflow inside the networks is reported instead.

    Checked `step` rows at a time, so the check's masks stay batch-sized.
    """
    bad_rows = []
    for start in range(0, out.shape[0], step):
        bad_rows.extend(start + np.flatnonzero(~_acceptable_rows(out[start : start + step])))
    if bad_rows:
        hint = " float64 input has a far wider range than float32." if out.dtype == np.float32 else ""
        raise ValueError(
            f"The fitted networks overflowed on {len(bad_rows)} of {out.shape[0]} rows "
            f"(the first is row {bad_rows[0]}): their values are too extreme for {out.dtype} "
            f"arithmetic, typically far outside the range of the training data.{hint}"
        )
