"""Inference: the fitted networks applied to encoded NumPy arrays in bounded batches.

Two rules shape this module:

- **Bounded memory.** Inputs are processed in batches whose size is chosen so
  that no intermediate tensor exceeds :data:`MAX_BATCH_ELEMENTS` elements; the
  only allocation that grows with the input is the output array itself. That
  holds for importance sampling too: K samples are walked through in chunks
  with a running log-sum-exp, whatever K is.
- **A row's result does not depend on its batch, at float32 speed.**
  scikit-learn requires a row's result not to depend on which rows share
  its call (checked at 1e-7). The networks run in float32, their training
  dtype, whatever the input's dtype: float64 copies of them cost far more
  time (benchmarks/README.md, "Numbers behind the code"). Row independence comes from the shapes
  instead: every network call gets a row count padded to a multiple of
  :data:`ROW_MULTIPLE`, because matrix products of 1-3 rows, and of row
  counts that are not a multiple of 4, take other kernels whose float32 sums
  differ in the last bits, while for padded row counts each row's bits were
  found identical whatever the batch (every activation, on one thread).
  On several threads the matrix library splits a product's sums across
  threads for some row counts and not for others (seen at 784 features on
  2 threads: a row's bits in a call of 16-64 rows differed from its bits in
  a call of 336, by about 1e-7 relative; on one thread they agree), so
  every product runs on one thread: the parallelism is across blocks of
  rows instead, each block on its own Python thread with one intra-op
  thread (:func:`map_row_batches`). Calls that draw from a generator in
  call order (sampling) cannot be split that way and keep torch's threads;
  their rows depend on the call anyway. On
  a GPU every call runs on blocks of exactly :data:`GPU_ROW_BLOCK` rows
  instead, because cuBLAS chooses its kernel from the whole shape. Everything outside the networks (the
  encoding constants, the likelihood, the importance weights) runs in the
  input's dtype, so float64 data at float64 scales (up to 1.7e308) stay
  exact where the arithmetic needs it.

Arrays reach this module already encoded by :mod:`skvae._schema`: one matrix
per call, NaN where a cell is missing; :func:`split_missing` turns it into
values and the observed mask. Every NumPy array enters torch through
:func:`to_tensor`, whatever its memory layout (negative strides, Fortran order,
views, read-only, byte order, memmaps), so that no layout reaches a torch
function that refuses it.
"""

import copy
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from ._objectives import (
    elbo,
    encode,
    importance_log_weights,
    importance_weighted_bound,
    logsumexp_over_draws,
    reparameterize,
    sum_over_draws,
)
from ._refusals import Refusal
from ._threads import one_thread_for_this_thread, torch_threads

#: Largest number of elements in one intermediate tensor (4 MiB in float64).
#: Also a speed setting: batches this small keep the elementwise work of the
#: likelihood (and the host's encoding) in cache. On 784 features, against
#: 2**22, 100,000-row ``transform`` took half the time and ``score_samples``
#: two thirds; 2**18 was slower again (per-batch overhead). See
#: ``float64_inference_ratio`` in benchmarks/speed.py.
MAX_BATCH_ELEMENTS = 2**19

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


def split_missing(encoded):
    """(values with missing cells zeroed, observed mask or None when nothing is missing)."""
    missing = np.isnan(encoded)
    if not missing.any():
        return encoded, None
    return np.where(missing, 0, encoded).astype(encoded.dtype, copy=False), ~missing


#: Every network call gets a row count padded to a multiple of this (see the
#: module docstring). 16 leaves room for CPUs whose matrix kernels work on
#: taller tiles than the machines tried; what the padding costs a one-row
#: ``transform`` is the price of rows that do not depend on their batch
#: (benchmarks/README.md, "Numbers behind the code").
ROW_MULTIPLE = 16


#: The likelihood's arithmetic (scores, imputation means, point decodings)
#: runs on a row count padded to a multiple of this many bytes' worth of its
#: dtype's values (16 rows in float64, 32 in float32), the rows past the
#: caller's copies of its first row. torch's CPU kernels for softplus,
#: sigmoid, logaddexp, ndtri and the leading-dimension log-softmax compute the
#: elements past their last whole loop step (two vectors: 128 bytes on
#: AVX-512, 64 on AVX2) in a scalar loop that rounds differently, and which
#: elements fall there depends on the tensor's length, that is on the rows
#: sharing the call: a row's score differed in its last bit alone and in a
#: batch (hostile sweep 23: a few-level categorical column, a negative
#: binomial one). On such a row count every such tensor is whole steps. The
#: padding costs a lone row's call with many importance draws most (one row,
#: K = 1,000: 4 ms to 30-45 ms on a busy 2-core machine); a batch pays at
#: most 15 or 31 rows.
LIKELIHOOD_LOOP_BYTES = 128


#: Rows per network call on a GPU. cuBLAS picks its kernel (tiling, split-K)
#: from the whole matrix shape, so padding to ROW_MULTIPLE is not enough
#: there: calls of different row counts summed a row's products in different
#: orders (seen on an H200: codes differing in the 6th digit between a row
#: alone and in a batch). Every call of exactly this many rows takes one
#: kernel, and a row's result is the same whatever shares its block; a GPU
#: computes a block this size in about the time of one row.
GPU_ROW_BLOCK = 1024


#: Rows whose network input exceeds this in magnitude go through float64
#: copies of the networks instead. In-distribution inputs are standardized
#: (|h| below ~10); a row a thousand billion standard deviations out could
#: overflow float32 (3.4e38) a few layers later, where float64 still returns
#: the finite code or the -inf score it returned before float32 inference.
#: The choice depends on the row alone, so rows stay independent of their batch.
FLOAT32_SAFE = 1e12


#: In-place versions of the activations: the output of the product before
#: them is fresh, so nothing else sees it, and the same kernels write the same
#: bits without allocating another tensor.
_IN_PLACE_ACTIVATIONS = {torch.nn.ReLU: torch.relu_, torch.nn.Tanh: torch.tanh_, torch.nn.Sigmoid: torch.sigmoid_}


class _LayerStack:
    """One dtype's encoder and decoder as the three functions inference calls."""

    def __init__(self, encoder, decoder):
        self.dtype = encoder.mean_head.weight.dtype
        self.encoder = encoder
        self._decoder = decoder
        self.free = decoder.free
        # encoder.mean as a flat list of steps: (bias, transposed weight) for
        # torch.addmm, which is what F.linear calls on rows, without its
        # per-call transpose; an activation's in-place function or its
        # module's `forward`; identities dropped. nn.Module's call machinery
        # (hooks, which these private networks never have), attribute lookups
        # and allocations cost more than the arithmetic on a single row. The
        # detached, transposed weights share the parameters' memory: training
        # updates them in place, and they carry no autograd history.
        self._mean_steps = tuple(
            (layer.bias.detach(), layer.weight.detach().t()) if type(layer) is torch.nn.Linear
            else _IN_PLACE_ACTIVATIONS.get(type(layer), layer.forward)
            for layer in (*encoder.trunk, encoder.mean_head) if type(layer) is not torch.nn.Identity
        )

    def mean(self, h):
        for step in self._mean_steps:
            h = torch.addmm(step[0], h, step[1]) if type(step) is tuple else step(h)
        return h

    def decoder(self, z):
        return self._decoder.head(self._decoder.trunk(z))


class InferenceNetworks:
    """The fitted encoder/decoder applied to data in `dtype` on their device.

    The networks are the training ones (float32, updated in place by
    training; the estimator clears the cache on every fit), called on padded
    row counts (see the module docstring); the likelihood and everything
    around the networks work in `dtype`.
    """

    def __init__(self, encoder, decoder, likelihood, dtype, missingness=None):
        self.device = encoder.mean_head.weight.device
        self.dtype = dtype
        self.likelihood = likelihood.to(self.device, dtype)
        self._mechanism_source = missingness
        self._mechanism = None  # (the source's parameters when copied, the copy in `dtype`)
        self.latent_dim = encoder.mean_head.out_features
        self._narrow = _LayerStack(encoder, decoder)
        self._wide = None
        self._wide_lock = threading.Lock()

    @property
    def missingness(self):
        """The fitted missingness mechanism in `dtype` (None: ignorable), for the calls that model the mask.

        A copy in `dtype`, made again whenever the fitted module's parameters
        differ from those it was made from. Hostile sweep 23: the copy was made
        once per fit, so a ``missingness_`` edited in place after a first
        score or imputation (what the networks' weights, used in place,
        follow) was ignored by every later call of the session, while
        ``skvae.save`` wrote the edited values: the loaded model answered
        otherwise than the one in memory. The comparison reads a few numbers
        per column, against a decoder pass per call.
        """
        source = self._mechanism_source
        if source is None:
            return None
        with torch.no_grad():
            current = torch.cat([parameter.detach().reshape(-1) for parameter in source.parameters()])
        made = self._mechanism
        if made is not None and torch.equal(made[0], current):
            return made[1]
        mechanism = copy.deepcopy(source).to(self.device, self.dtype)
        self._mechanism = (current.clone(), mechanism)  # one assignment: threads see the old pair or the new
        return mechanism

    def encoder(self, h):
        """(mean, log_variance) of q(z | x) for the encoder input `h`, in `dtype`."""
        return self._run("encoder", h)

    def decoder(self, z):
        """(params, free) of p(x | z), in `dtype`; `free` does not depend on z."""
        return self._run("decoder", z), self._narrow.free.to(self.dtype)

    def _run(self, part, h):
        """``part`` of the networks on h, row by row as if each row came alone, in `dtype`.

        `h` may have leading sample axes (K, n, width); its rows are
        flattened and run on the float32 networks, except rows beyond
        FLOAT32_SAFE, which run on float64 copies.
        """
        lead, width = h.shape[:-1], h.shape[-1]
        rows = h if h.dim() == 2 else h.reshape(-1, width)
        out = _on_padded_rows(self._narrow, part, rows)
        extreme = _extreme_rows(rows)
        if extreme is not None:
            wide = _on_padded_rows(self._wide_stack(), part, rows[extreme])
            out = tuple(o.to(torch.float64).index_put((extreme,), w) for o, w in zip(out, wide))
        if h.dim() != 2:
            out = tuple(o.reshape(*lead, -1) for o in out)
        out = tuple(o.to(self.dtype) for o in out)
        return out if len(out) > 1 else out[0]

    def _wide_stack(self):
        with self._wide_lock:
            if self._wide is None:
                narrow = self._narrow
                self._wide = _LayerStack(copy.deepcopy(narrow.encoder).double(),
                                         copy.deepcopy(narrow._decoder).double())
            return self._wide

    def as_tensor(self, array):
        """`array` (any NumPy layout) as a tensor in `dtype` on the networks' device."""
        tensor = to_tensor(array)
        if tensor.dtype == torch.bool or tensor.dtype == self.dtype:
            return tensor if tensor.device == self.device else tensor.to(self.device, non_blocking=True)
        return tensor.to(device=self.device, dtype=self.dtype, non_blocking=True)

    def batch(self, encoded_rows):
        """Encoded rows (NaN where missing) as (values, observed or None) tensors."""
        values, observed = split_missing(encoded_rows)
        return self.as_tensor(values), None if observed is None else self.as_tensor(observed)

    def mean_of_plain_rows(self, rows):
        """The posterior mean of standardized float64 NumPy rows (finite, far within FLOAT32_SAFE), a float32 tensor.

        What :meth:`encode_mean` computes for such rows of an all-Gaussian
        model without mask inputs, with the cast and the padding done by
        NumPy in one write: the same float32 values in the same padded shape
        reach the same float32 networks, so the bits are the same.
        """
        n_rows = rows.shape[0]
        padded = np.zeros((n_rows + -n_rows % ROW_MULTIPLE, rows.shape[1]), dtype=np.float32)
        padded[:n_rows] = rows
        return self._narrow.mean(torch.from_numpy(padded))[:n_rows]

    def encode_mean(self, x, observed=None):
        """The posterior mean mu(x)."""
        return self._run("mean", self.likelihood.encoder_input(x, observed))

    def decode_point(self, z):
        """E[x | z] per cell, in user units (for categories, see ``CategoricalBlock.point``)."""
        n_rows, (z,) = _padded_rows(z)
        return self.likelihood.point(self.decoder(z))[:n_rows]

    def decode_sample(self, z, generator):
        return self.likelihood.sample(self.decoder(z), generator)

    def elbo(self, x, observed, noise, missingness=None):
        """Per-row ELBO in nats (:func:`skvae._objectives.elbo`): one reparameterised sample, closed-form KL."""
        n_rows, (x, observed, noise) = _padded_rows(x, observed, noise)
        return elbo(self.encoder, self.decoder, self.likelihood, x, noise, observed, missingness)[:n_rows]

    def importance_weighted_bound(self, x, observed, noise_chunks, n_importance, missingness=None):
        """log (1/K) sum_k w_k per row over noise chunks of shape (k, n, q) (:mod:`skvae._objectives`)."""
        n_rows, (x, observed) = _padded_rows(x, observed)
        noise_chunks = (_padded_rows(chunk, row_axis=1)[1][0] for chunk in noise_chunks)
        return importance_weighted_bound(self.encoder, self.decoder, self.likelihood, x, noise_chunks, observed,
                                         n_importance, missingness)[:n_rows]

    def cell_log_likelihood(self, x, observed, noise):
        """E_q[log p(x_ij | z)] per cell over the K samples in `noise` (NaN where missing)."""
        n_rows, (x, observed) = _padded_rows(x, observed)
        noise = _padded_rows(noise, row_axis=1)[1][0]
        mean, log_variance = encode(self.encoder, self.likelihood, x, observed)
        z = reparameterize(mean, log_variance, noise)
        # Summed in draw order, so that a row's terms do not depend on the rows sharing its call.
        return (sum_over_draws(self.likelihood.cell_log_prob(x, self.decoder(z), observed)) / noise.shape[0])[:n_rows]

    def impute(self, x, observed, noise, generator=None, n_draws=1, missingness=None, prior_share=0.0):
        """Per cell, the self-normalised importance-weighted conditional mean (MIWAE).

        With a `generator`, instead a draw of x from p(x | z_k), z_k chosen by
        sampling-importance-resampling: a draw from the approximate conditional
        of the missing cells given the observed ones. With ``n_draws=m > 1``,
        m such draws per row from the same importance samples (one pass),
        as (rows, m * columns): draw after draw.

        With `missingness` (not-MIWAE), the weights hold the estimate of
        log p(s | x_obs, z_k) from the draws x_mis,km too, and a self-masking
        column gets the weighted mean of those draws (or, resampling, one of
        the chosen sample's draws; :class:`skvae._missingness.SelfMasking`):
        the weights depend on the draws, so the decoder's means would not do.
        `prior_share` > 0: a defensive proposal (see
        :func:`skvae._objectives.importance_log_weights`).
        """
        n_rows = x.shape[0]
        if generator is None:
            # Padded for the bits of each row's weights and mean; draws (a generator) take the rows given,
            # so that the generator's stream is what it was.
            n_rows, (x, observed) = _padded_rows(x, observed)
            noise = _padded_rows(noise, row_axis=1)[1][0]
        log_weights, decoded, missing_draws = importance_log_weights(
            self.encoder, self.decoder, self.likelihood, x, noise, observed, missingness, prior_share)
        # softmax over the draws, normalised in draw order (torch.softmax(dim=0) rounds a row's
        # weights differently with the rows sharing its call; see logsumexp_over_draws).
        weights = torch.exp(log_weights - logsumexp_over_draws(log_weights))
        if missingness is not None and missingness.level_columns:
            decoded = missingness.tilted(self.likelihood, decoded)
        if generator is None:
            point = self.likelihood.point(decoded, weights)
            if missingness is not None and missingness.columns:
                point[:, missingness.columns] = missingness.weighted_fill(self.likelihood, decoded, missing_draws,
                                                                          weights)
            return point[:n_rows]
        params, free = decoded
        rows = torch.arange(x.shape[0], device=x.device)
        # A row whose weights overflowed (values far beyond the training range) has no
        # distribution to resample from: torch.multinomial would fail with its own
        # error. It resamples from even weights and comes back NaN, which
        # map_row_batches reports as the overflow it is, as for the mean.
        overflowed = ~torch.isfinite(weights).all(dim=0)
        if overflowed.any():
            weights = torch.where(overflowed, 1.0 / weights.shape[0], weights)
        if n_draws == 1:
            chosen = torch.multinomial(weights.T, 1, generator=generator).squeeze(-1)
            sample = self.likelihood.sample((params[chosen, rows], free), generator)
            if missingness is not None and missingness.columns:
                sample[:, missingness.columns] = missingness.resampled(self.likelihood, decoded, missing_draws,
                                                                       chosen, generator)
            sample[overflowed] = torch.nan
            return sample
        chosen = torch.multinomial(weights.T, n_draws, replacement=True, generator=generator)  # (rows, m)
        picked = params[chosen, rows[:, None]]  # (rows, m, params)
        draws = self.likelihood.sample((picked.reshape(-1, picked.shape[-1]), free), generator)
        if missingness is not None and missingness.columns:
            draws = draws.reshape(x.shape[0], n_draws, -1)
            draws[:, :, missingness.columns] = missingness.resampled(self.likelihood, decoded, missing_draws,
                                                                     chosen, generator)
        draws = draws.reshape(x.shape[0], -1)
        draws[overflowed] = torch.nan
        return draws


def likelihood_rows(n_rows, dtype):
    """The row count the likelihood's arithmetic runs `n_rows` rows of `dtype` on (see LIKELIHOOD_LOOP_BYTES).

    Draws are chunked by these rows (:func:`draw_chunks`), and batches of
    scores are whole multiples of the padding (``map_row_batches(padded=True)``):
    a batch within its bound then takes all its draws in one chunk, and every
    row alone the same chunks, within the bound.
    """
    multiple = max(1, LIKELIHOOD_LOOP_BYTES // dtype.itemsize)
    return n_rows + -n_rows % multiple


def _padded_rows(*tensors, row_axis=0):
    """(the row count, `tensors` with their rows padded to LIKELIHOOD_LOOP_BYTES' worth of the first's values).

    The added rows repeat the first row (valid values, mask and noise, so
    nothing in them overflows); callers cut results back to the row count.
    None entries (no mask) stay None.
    """
    values = next(t for t in tensors if t is not None)
    n_rows = values.shape[row_axis]
    padding = likelihood_rows(n_rows, values.dtype) - n_rows
    if not padding or not n_rows:
        return n_rows, tensors
    padded = []
    for tensor in tensors:
        if tensor is not None:
            first = tensor.narrow(row_axis, 0, 1)
            shape = list(first.shape)
            shape[row_axis] = padding
            tensor = torch.cat([tensor, first.expand(shape)], dim=row_axis)
        padded.append(tensor)
    return n_rows, tuple(padded)


def _parts(out):
    return out if isinstance(out, tuple) else (out,)


def _extreme_rows(rows):
    """Per row of `rows`, whether a value exceeds FLOAT32_SAFE in magnitude; None where none does.

    The usual answer costs one reduction (a bulk call's (min, max) is cheaper
    than any elementwise test); a NaN anywhere fails it, and then the cells
    are tested one by one, where NaN counts as not extreme.
    """
    if not rows.numel():
        return None
    low, high = torch.aminmax(rows)
    if -FLOAT32_SAFE <= float(low) and float(high) <= FLOAT32_SAFE:
        return None
    extreme = (rows.abs() > FLOAT32_SAFE).any(-1)
    return extreme if bool(extreme.any()) else None


def _on_padded_rows(stack, part, rows):
    """``part`` of a :class:`_LayerStack` on `rows` (in its dtype), their count padded to a multiple of ROW_MULTIPLE.

    On a GPU, instead, in blocks of exactly :data:`GPU_ROW_BLOCK` rows.
    Returns a tuple of outputs cut back to the rows given.
    """
    n_rows = rows.shape[0]
    if rows.device.type != "cpu" and n_rows:
        return _on_fixed_blocks(stack, part, rows.to(stack.dtype))
    padding = -n_rows % ROW_MULTIPLE
    if padding or rows.dtype != stack.dtype:
        # The cast to the networks' dtype and the padding in one new tensor.
        padded = rows.new_empty((n_rows + padding, rows.shape[1]), dtype=stack.dtype)
        padded[:n_rows] = rows
        if padding:
            padded[n_rows:] = 0
        rows = padded
    return tuple(out[:n_rows] for out in _parts(getattr(stack, part)(rows)))


def _on_fixed_blocks(stack, part, rows):
    """``part`` on `rows` in blocks of exactly GPU_ROW_BLOCK rows (the last padded); outputs cut back."""
    n_rows = rows.shape[0]
    padding = -n_rows % GPU_ROW_BLOCK
    if padding:
        rows = torch.nn.functional.pad(rows, (0, 0, 0, padding))
    blocks = [_parts(getattr(stack, part)(block)) for block in rows.split(GPU_ROW_BLOCK)]
    return tuple(torch.cat(outputs)[:n_rows] for outputs in zip(*blocks))


class InferenceCache:
    """Thread-safe map dtype -> :class:`InferenceNetworks`, filled on first use.

    What it saves is the likelihood's constants placed on the device in each
    dtype, and the flattened layer list: a one-row ``transform`` pays for
    neither.
    """

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


def draw_chunks(n_draws, row_width, n_rows, dtype):
    """Split K draws into chunks so that (chunk * padded rows * row_width) stays within the batch bound.

    The rows counted are those the likelihood runs on (:func:`likelihood_rows` of `n_rows` in `dtype`).
    A review of sweep 23: counted as the rows given, a lone row's chunks were 16 (32) times the bound
    (one row, K = 100,000 on 30 columns: 16 MB grew to 209 MB, 0.11 s to 3.4 s). Batches of
    ``map_row_batches(padded=True)`` are whole paddings, so a batch within its bound still takes all its
    draws in one chunk, and a row alone, or in a batch of fewer rows than one padding, the same chunks.
    """
    n_rows = likelihood_rows(n_rows, dtype)
    chunk = max(1, min(n_draws, MAX_BATCH_ELEMENTS // max(1, row_width * n_rows)))
    return [(start, min(chunk, n_draws - start)) for start in range(0, n_draws, chunk)]


def map_row_batches(function, X, out_shape_tail, row_width, out_dtype=None, nan_is_missing=False, n_threads=None,
                    sequential=False, log_densities=False, padded=False):
    """Apply `function(X_batch) -> tensor` to bounded batches of rows of X.

    Returns a NumPy array of shape (n_rows, *out_shape_tail) in `out_dtype`
    (X's dtype by default), written batch by batch so that memory is the
    output plus one batch per thread. NaN or inf in the output is refused as
    overflow, except NaN where `nan_is_missing` says it marks a missing cell,
    and -inf where `log_densities` says the output is log-densities (per row,
    as a 1-D output always is, or per cell).

    `n_threads` above 1 (only ever given on the CPU) runs blocks of rows
    (:func:`row_blocks`) on that many Python threads, each with one torch
    intra-op thread, so that a row's bits do not depend on the thread count
    or on its batch (see the module docstring). With `sequential` (a
    `function` that draws from a generator in call order) the batches run in
    order on one Python thread and torch gets the `n_threads` intra-op
    threads instead. None leaves torch's setting alone (a GPU).

    `padded`: `function` runs the likelihood on rows padded to
    :func:`likelihood_rows`; a batch is then a whole number of such
    paddings: where the bound holds one, as many as it holds, so that a
    full batch padded stays within the bound (see :func:`draw_chunks`);
    where it holds fewer rows (many draws), one padding's worth, which its
    tensors take anyway (a review of sweep 23: batches of 2 rows each
    padded to 16 made an imputer's ``transform`` with ``n_importance=2000``
    5.7 times slower).
    """
    out_dtype = X.dtype if out_dtype is None else np.dtype(out_dtype)
    step = rows_per_batch(row_width)
    if padded:
        padding = likelihood_rows(1, X.dtype)
        step = padding if step <= padding else step - step % padding
    parallel = n_threads is not None and n_threads > 1 and not sequential
    if parallel:
        step = row_blocks(X.shape[0], step, n_threads)
    with torch.inference_mode(), torch_threads(1 if parallel else n_threads):
        if X.shape[0] <= step:  # one batch (a single row, say): no copy into a separate output
            out = function(X[0 : X.shape[0]]).cpu().numpy().astype(out_dtype, copy=False)
        else:
            out = np.empty((X.shape[0], *out_shape_tail), dtype=out_dtype)

            def write(start):
                out[start : start + step] = function(X[start : start + step]).cpu().numpy()

            if parallel:
                _on_threads(write, range(0, X.shape[0], step), n_threads)
            else:
                for start in range(0, X.shape[0], step):
                    write(start)
    _refuse_overflow(out, step, nan_is_missing, log_densities)
    return out


#: Least work (multiply-adds: rows x the networks' weights) per block of
#: rows handed to another thread. On 2 idle cores, a 784-wide model's
#: transform (321,332 weights): 64 rows took 0.37 ms on one thread and 0.60
#: ms in two blocks, 200 rows 0.86 and 1.06 ms, 600 rows 3.40 and 2.25 ms
#: (benchmarks/README.md, "Numbers behind the code"): below a few hundred
#: rows the hand-off costs more than the second thread saves.
BLOCK_WORK = 50_000_000


def row_blocks(n_rows, step, n_threads):
    """Rows per block when `n_rows` rows are shared by `n_threads` threads, batches at most `step` rows.

    At least one block per thread where the rows allow it, each a multiple
    of ROW_MULTIPLE (the padding a block would get anyway): ROW_MULTIPLE
    rows or fewer make one block.
    """
    share = -(-n_rows // n_threads)
    return max(ROW_MULTIPLE, min(step, share + -share % ROW_MULTIPLE))


def _on_threads(work, starts, n_threads):
    """`work(start)` for each start, shared by the calling thread and a pool of `n_threads - 1` threads.

    Each thread takes the next block when it finishes one, so that a slower
    thread (beside another process's work) takes fewer. Every thread runs
    one torch intra-op thread (the caller's is set by
    :func:`map_row_batches`). The calling thread works too rather than wait:
    handing every block to the pool cost a 200-row ``transform`` at 784
    features half a millisecond more. After an exception no new block
    starts, and the first exception is raised once the running ones have
    finished (none writes into the output after the call returns).
    """
    remaining, lock, failed = iter(starts), threading.Lock(), threading.Event()

    def take():
        with lock:
            return None if failed.is_set() else next(remaining, None)

    def drain():
        try:
            while (start := take()) is not None:
                work(start)
        except BaseException:
            failed.set()
            raise

    def drain_in_worker():
        with torch.inference_mode():  # grad mode is per thread
            drain()

    pool = _row_pool(n_threads - 1)
    helpers = []
    for _ in range(min(n_threads, len(starts)) - 1):
        try:
            helpers.append(pool.submit(drain_in_worker))
        except RuntimeError:
            # "cannot schedule new futures after (interpreter) shutdown": a call from an atexit handler
            # (a model scored or saved at exit) failed here. The calling thread takes the blocks left,
            # with the same bits: a row's bits do not depend on the thread that runs it.
            break
    try:
        drain()
    finally:
        # Every block is taken once drain returns: a helper that has not started would find none, and
        # waiting for it could wait on a pool busy with this very call (a call made from a pool thread).
        for helper in helpers:
            helper.cancel()
        errors = [helper.exception() for helper in helpers if not helper.cancelled()]  # waits for each
    for error in errors:
        if error is not None:
            raise error


_row_pools = {}
_row_pools_lock = threading.Lock()


def _row_pool(n_threads):
    """The process's pool of `n_threads` threads for blocks of rows, started on first use.

    Kept between calls because a new thread pays for its OpenMP and MKL
    setup on its first product: a fresh pool per call cost 3 ms on two
    threads, more than the products of a 200-row ``transform`` at 784
    features. Keyed by process too, since a forked child has the pool's
    object but not its threads.
    """
    key = (os.getpid(), n_threads)
    with _row_pools_lock:
        pool = _row_pools.get(key)
        if pool is None:
            pool = _row_pools[key] = ThreadPoolExecutor(n_threads, thread_name_prefix="skvae-rows",
                                                        initializer=one_thread_for_this_thread)
        return pool


def _acceptable_cells(block, nan_is_missing=False, log_densities=False):
    """Per cell of `block`: no NaN or inf, except -inf in a 1-D (log-density) block or where `log_densities`.

    -inf is the honest score of a row whose density underflows (an extreme
    outlier), and of a cell's log-likelihood likewise (a cell of 1e300 in a
    column fitted near 1: ``score_columns`` refused the row as the networks'
    overflow where ``score_samples`` scored it -inf); NaN and +inf in any
    output are overflow, unless NaN marks a missing cell.
    """
    if block.ndim == 1:
        return block < np.inf  # False for NaN and +inf only
    acceptable = ~np.isinf(block) if nan_is_missing else np.isfinite(block)
    if log_densities:
        acceptable |= block == -np.inf
    return acceptable


class NetworkOverflow(Refusal):
    """The networks' arithmetic overflowed on some rows (`rows`: their positions, in order).

    A ValueError, as it always was; its own class lets a caller that knows
    which of its inputs can be extreme (``sample(given=...)``'s conditions)
    name them instead. `message`: text, or a tuple of refusal parts.
    """

    def __init__(self, message, rows=()):
        super().__init__(*(message if isinstance(message, tuple) else (message,)))
        self.rows = rows


def _refuse_overflow(out, step, nan_is_missing=False, log_densities=False):
    """NaN or inf is never an answer: overflow inside the networks is reported instead.

    Checked `step` rows at a time, so the check's masks stay batch-sized.
    """
    bad_rows = []
    for start in range(0, out.shape[0], step):
        acceptable = _acceptable_cells(out[start : start + step], nan_is_missing, log_densities)
        if not acceptable.all():
            rows_ok = acceptable.reshape(acceptable.shape[0], -1).all(axis=1)
            bad_rows.extend(start + np.flatnonzero(~rows_ok))
    if bad_rows:
        hint = " float64 input has a far wider range than float32." if out.dtype == np.float32 else ""
        raise NetworkOverflow(
            f"The fitted networks overflowed on {len(bad_rows)} of {out.shape[0]} rows "
            f"(the first is row {bad_rows[0]}): their values are too extreme for {out.dtype} "
            f"arithmetic, typically far outside the range of the training data.{hint}",
            [int(row) for row in bad_rows],
        )
