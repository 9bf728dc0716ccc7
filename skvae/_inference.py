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
"""

import copy
import threading

import numpy as np
import torch

from ._objectives import importance_weighted_bound, kl_to_standard_normal, reparameterize

#: Largest number of elements in one intermediate tensor (32 MiB in float64).
MAX_BATCH_ELEMENTS = 2**22


def rows_per_batch(row_width):
    """How many rows fit a batch when each row needs `row_width` elements."""
    return max(1, MAX_BATCH_ELEMENTS // max(1, row_width))


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

    def as_tensor(self, array):
        # torch.tensor copies, so read-only inputs (memmaps) are safe.
        return torch.tensor(array, dtype=self.dtype).to(self.device, non_blocking=True)

    def standardize(self, x):
        return (x - self.shift) / self.scale

    def encode_mean(self, x):
        return self.encoder.mean(self.standardize(x))

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


def networks_in_dtype(encoder, decoder, dtype):
    """`encoder` and `decoder` themselves if already in `dtype`, else copies cast to it."""
    if encoder.mean_head.weight.dtype == dtype:
        return encoder, decoder
    return copy.deepcopy(encoder).to(dtype), copy.deepcopy(decoder).to(dtype)


def map_row_batches(function, X, out_shape_tail, row_width):
    """Apply `function(X_batch) -> tensor` to bounded batches of rows of X.

    Returns a NumPy array of shape (n_rows, *out_shape_tail) in X's dtype,
    written batch by batch so that memory is the output plus one batch.
    """
    out = np.empty((X.shape[0], *out_shape_tail), dtype=X.dtype)
    step = rows_per_batch(row_width)
    with torch.inference_mode():
        for start in range(0, X.shape[0], step):
            stop = start + step
            out[start:stop] = function(X[start:stop]).cpu().numpy()
    return out
