"""Monte Carlo noise that belongs to a row, not to a position in a batch.

``score_samples`` estimates an expectation with random eps. scikit-learn
requires a row's score to be the same whichever other rows share the call,
in whatever order, at whatever batch size. Drawing eps from a generator in
call order breaks that, and one small set of draws shared by every row makes
the *mean* score swing with the seed, because its Monte Carlo error then no
longer averages out across rows.

So each row gets its own eps, computed from a 64-bit key hashed from the row's
values and the fitted seed, by a counter-based generator (SplitMix64 and the
Box-Muller transform). Everything is vectorised NumPy on uint64 (wrap-around
arithmetic is defined there), with no Python loop over rows.
"""

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TWO_POW_MINUS_53 = 2.0**-53


def _splitmix64(x):
    """SplitMix64 finaliser of (x + golden ratio), elementwise on a uint64 array."""
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def row_keys(X, seed, float32=True):
    """One uint64 key per row: a hash of the row's values, rounded to float32, and `seed`.

    Rounded to float32 because a table given as float32 is the same table as
    its float64 original to float32's precision, and its scores are
    documented to agree to that precision: keyed on the float64 bits, a row
    and its float32 copy drew unrelated noise, and their one-sample ELBOs
    differed by up to 2 nats (hostile sweeps 20 and 22). Rows equal to
    float32's precision share their noise, which no estimate minds (the noise
    of two rows need only not depend on the other rows of the call). Values
    beyond float32's range round to +-inf, their keys as distinct as their signs.
    With `float32` False, the float64 bits: the keys of models fitted before
    skvae 0.11, whose saved files keep scoring and imputing as they did.
    """
    # + 0.0 maps -0.0 to 0.0, so equal values give equal keys; every NaN
    # (a missing cell) is given the same bits.
    values = np.asarray(X, dtype=np.float64)
    if float32:
        with np.errstate(over="ignore"):
            values = values.astype(np.float32).astype(np.float64)
    values = values + 0.0
    values[np.isnan(values)] = np.nan
    words = values.view(np.uint64)
    column_salt = _splitmix64(np.arange(words.shape[1], dtype=np.uint64))
    mixed = _splitmix64(words ^ column_salt).sum(axis=1, dtype=np.uint64)
    return _splitmix64(mixed ^ np.uint64(seed))


def _uniform_open(keys, counters):
    """Uniform on (0, 1] from 53 bits of SplitMix64(key + counter * golden)."""
    bits = _splitmix64(keys[:, None] + counters[None, :] * _GOLDEN) >> np.uint64(11)
    return (bits.astype(np.float64) + 1.0) * _TWO_POW_MINUS_53


def standard_normal(keys, n_draws, dim, first_draw=0):
    """eps of shape (n_draws, len(keys), dim), N(0, 1), a pure function of the keys.

    Draw d of a row is the same whether it is drawn alone or among others:
    ``first_draw`` lets a caller walk through K draws in bounded chunks.
    """
    cells = (np.uint64(first_draw * dim) + np.arange(n_draws * dim, dtype=np.uint64)) * np.uint64(2)
    radius = np.sqrt(-2.0 * np.log(_uniform_open(keys, cells)))
    angle = 2.0 * np.pi * _uniform_open(keys, cells + np.uint64(1))
    normal = radius * np.cos(angle)
    return normal.reshape(len(keys), n_draws, dim).transpose(1, 0, 2)
