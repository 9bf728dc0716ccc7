r"""The imputer's linear refinement of its point fills (``VAEImputer(refinement="linear")``).

The VAE predicts a missing cell through its latent bottleneck: with most of a
row observed, the conditional mean of a continuous column given the others
is often close to linear, and a bottleneck of ``latent_dim`` units blurs what
a regression on every other column keeps (IterativeImputer's edge at low
missingness). The refinement adds that regression, fitted once after the VAE:

1. complete the training table with the VAE's fills (importance-weighted
   conditional means);
2. per continuous column j (kinds :data:`REFINED_KINDS`), fit a
   :class:`sklearn.linear_model.BayesianRidge` of x_j on every other column
   of the completed table (numbers standardised, categories one-hot), on the
   rows where x_j was observed; numeric columns of few values (3 to
   :data:`MAX_LEVELS`) are offered also as indicators of their levels, and
   each regression keeps them where its evidence says so (see
   :data:`MAX_LEVELS`);
3. a missing cell of column j in a row with observed share o of its cells
   is filled with (1 - w) * the VAE's fill + w * the regression's
   prediction from the row completed by the VAE, w = o clipped to
   :data:`LINEAR_SHARE` (from 1/2 to 3/4), and then decoded as every fill
   is (kept in the column's range and precision).

The same refinement applies under ``missing_mechanism="self_masking"``,
blending the not-MIWAE fills. A regression fitted on the observed cells of a
self-masked column is fitted on a selected sample (the high values are the
ones hidden), and its predictions of the hidden cells lean toward the observed
ones; the bias grows with the regression's residual spread. Measured anyway
on the imputation benchmark's self-masking scenario (three masks), the
blend lowered the RMSE on breast cancer from 0.669 / 0.926 / 0.837 to
0.491 / 0.525 / 0.503 (IterativeImputer: 0.526 / 0.543 / 0.555) and on
penguins from 0.884 / 0.476 / 0.472 to 0.870 / 0.418 / 0.454, and raised it on
diabetes from 0.721 / 0.622 / 0.603 to 0.777 / 0.804 / 0.787 (the best peer:
0.986 / 0.940 / 0.959); the tables of few continuous columns were unchanged.
Weighting the regression by its R² (power 1/2, 1 or 2) kept diabetes nearer
the plain fills but lost breast cancer's second mask to IterativeImputer;
fitting it on every row of the completed table lost on breast cancer. The
plain blend, the rule of the ignorable mechanism, won every measured case
against every peer, so no separate rule.

Draws (``sample_posterior=True``, ``multiple_imputations``) are never
refined: they are draws from the model's conditional, and a blend would
shrink their spread. Columns of other kinds (categories, counts, 0/1,
zero-inflated) keep the VAE's fills, which are valid values of theirs.

The state (:func:`fit_refinement`) is plain arrays and lists: the refined
columns' positions, the design's standardisation, one coefficient row and
intercept per refined column, and the level columns' positions with their
levels.
"""

import numpy as np

#: Least and greatest weight of the regression's prediction in a refined
#: fill; a row's weight is the observed share of its cells, clipped to this
#: range. The regression reads the row's other cells: where most are observed
#: it is a regression on real values, where most are the VAE's own fills it
#: adds little to the VAE. Measured on the imputation benchmark's three tables
#: with several continuous columns (breast cancer, diabetes, penguins), MCAR
#: 20/50/80 %, MAR and self-masking MNAR, two masks each (30 cases), against
#: the plain average of 0.7.0 (weight 1/2 everywhere): lower RMSE in 21, the
#: same in 8 (every MCAR 80 % case, where rows keep a fifth of their cells),
#: higher in 1 (breast cancer MAR, seed 1: 0.370 to 0.372); breast cancer MCAR
#: 20 % 0.417 to 0.403, MNAR 0.592 to 0.574, diabetes MNAR 1.030 to 1.013. A
#: fixed 3/4 gained as much at low missingness but lost at 80 % (diabetes
#: 0.985 to 0.994, penguins 0.910 to 0.921); a range from 1/4 lost at 50 %.
#: The regression alone (weight 1) lost to the VAE at 80 % and under MAR.
#: A regression fitted leak-free (on cells hidden from the VAE's completion
#: of their rows) was worse in 8 of 10 cases: not adopted.
LINEAR_SHARE = (0.5, 0.75)

#: The kinds whose fills are refined: continuous values a blend keeps valid.
REFINED_KINDS = ("gaussian", "quantile_normal", "lognormal")

#: Widest design (columns after one-hot encoding) the refinement fits: a
#: regression per column costs O(rows * width^2) each, and wide tables
#: (images, spectra) are where the VAE's bottleneck is the better model.
MAX_FEATURES = 256

#: Fewest observed cells a column needs for its regression.
MIN_ROWS = 10

#: Most (and fewest) distinct observed values of a numeric column whose
#: levels the regressions are also offered as indicators. Real tables hold
#: lookups: one value per level of another column (an advertising budget per
#: month, a fee per tariff), which trees copy and a straight line through the
#: level's number cannot. Each refined column's regression is fitted with and
#: without the other columns' indicators and keeps the design of higher
#: evidence (BayesianRidge's log marginal likelihood), so a measurement that
#: merely comes rounded (an age in years) keeps its straight line. On a
#: table of computer prices with an advertising column set by the month
#: (MCAR 20 %, one mask) the month's and the budget's RMSE fell from 0.487 and
#: 1.054 to 0.380 and 0.551 (missForest-style 0.468 and 0.705), the table's
#: from 0.917 to 0.862; at 50 % from 0.995 to 0.966 (IterativeImputer 0.970);
#: under self-masking from 1.421 to 1.269. Without the evidence test, 64
#: levels cost diabetes (age and s6 have 58 and 56) 0.02-0.035 in every
#: scenario; with it, its fills stayed as they were, as did those of the
#: imputation benchmark's other tables (see benchmarks/README.md). Two levels
#: need no indicator: the number is one.
MAX_LEVELS = 64
MIN_LEVELS = 3

#: Most rows a column's regression is fitted on (a random subset beyond).
#: A BayesianRidge costs O(rows * width^2) and each column with level columns
#: fits two; on 100,000 rows of a 150-column design one fit took 4 s, on
#: 20,000 rows 0.3 s, and at most 256 coefficients are well estimated from
#: 10,000 rows.
MAX_REGRESSION_ROWS = 10_000


def _design(completed, columns, levels=()):
    """The regression design of a completed table (user units, category codes).

    Numbers, then one-hot codes per category, then an indicator per level of
    each ``(column, levels)`` in `levels` (a value that is none of them, such
    as a fill between two levels, has none set). Returns the design
    (n_rows, width) and the table column each design column comes from.
    """
    parts, owners = [], []
    for j, column in enumerate(columns):
        if column["kind"] == "categorical":
            n_levels = len(column["categories"])
            codes = np.clip(completed[:, j], 0, n_levels - 1).astype(np.intp)
            parts.append(np.eye(n_levels)[codes])
            owners += [j] * n_levels
        else:
            parts.append(completed[:, j : j + 1])
            owners.append(j)
    for j, values in levels:
        parts.append(_indicators(completed[:, j], values))
        owners += [j] * len(values)
    return np.hstack(parts), np.asarray(owners)


def _indicators(column, values):
    """(n_rows, len(values)): 1 where a cell of `column` equals that value of the sorted `values`."""
    codes = np.clip(np.searchsorted(values, column), 0, len(values) - 1)
    out = np.zeros((len(column), len(values)))
    hit = values[codes] == column
    out[np.flatnonzero(hit), codes[hit]] = 1.0
    return out


def _level_columns(completed, observed, columns):
    """``[(column, its sorted distinct observed values)]`` of the numeric columns with few values.

    From MIN_LEVELS to MAX_LEVELS values each, in column order, while the
    design stays within MAX_FEATURES.
    """
    room = MAX_FEATURES - design_width(columns)
    out = []
    for j, column in enumerate(columns):
        if column["kind"] == "categorical":
            continue
        values = np.unique(completed[observed[:, j], j])
        if MIN_LEVELS <= len(values) <= min(MAX_LEVELS, room):
            out.append((j, values))
            room -= len(values)
    return out


def _state_levels(refinement):
    """The refinement state's ``(column, values)`` pairs (none in states of skvae 0.10.0 and older)."""
    return list(zip(refinement.get("level_columns", ()), refinement.get("levels", ())))


def state_design_width(refinement, columns):
    """Width of the design a refinement state was fitted on: the schema's columns and its level indicators."""
    return design_width(columns) + sum(len(values) for _, values in _state_levels(refinement))


def design_width(columns):
    """Width of :func:`_design` for the schema's columns."""
    return sum(len(c["categories"]) if c["kind"] == "categorical" else 1 for c in columns)


def refinement_applies(columns):
    """Whether a schema has a column to refine and a design :func:`fit_refinement` fits (before any data pass).

    A one-column table has nothing to regress on; see MAX_FEATURES for the upper bound.
    """
    return any(column["kind"] in REFINED_KINDS for column in columns) and 1 < design_width(columns) <= MAX_FEATURES


def fit_refinement(completed, observed, columns):
    """The refinement's state for a completed training table, or None when no column qualifies.

    Parameters
    ----------
    completed : ndarray of shape (n_rows, n_columns)
        The training table in user units (category codes), missing cells
        filled by the VAE.
    observed : ndarray of bool, same shape
        Which cells were observed.
    columns : list of dict
        The VAE's column schema (``skvae._schema.ColumnSchema.columns``).
    """
    refined = [j for j, column in enumerate(columns)
               if column["kind"] in REFINED_KINDS and observed[:, j].sum() >= MIN_ROWS]
    if not refined or not refinement_applies(columns):
        return None
    levels = _level_columns(completed, observed, columns)
    design, owners = _design(completed, columns, levels)
    mean, scale = _moments(design)
    standardized = _standardized(design, mean, scale)
    coef = np.zeros((len(refined), design.shape[1]))
    intercept = np.zeros(len(refined))
    fitted = np.zeros(len(refined), dtype=bool)
    plain = np.arange(design.shape[1]) < design_width(columns)
    sampler = np.random.default_rng(0)  # a fixed subsample: the same refinement for the same table
    for i, j in enumerate(refined):
        rows = _regression_rows(observed[:, j], sampler)
        others = owners != j
        # Without level columns there is one design, and no evidence to compute.
        candidates = [others & plain, others] if levels else [others]
        target = completed[rows, j]
        # BayesianRidge squares the target: beyond about 1e150 (or below 1e-150) its
        # variance overflows (underflows) and it fails on its own NaN. A power of two
        # rescales exactly; the regression is refitted in those units and scaled back.
        # The exponent is read off exactly (frexp): log2 of float64's largest rounds to 1024,
        # and 2**1024 was a unit of inf, so such a column silently kept the VAE's fills.
        peak = float(np.max(np.abs(target)))
        unit = np.ldexp(1.0, np.frexp(peak)[1] - 1) if peak > 0 and not 1e-100 < peak < 1e100 else 1.0
        kept, model = _regression(standardized[rows], target / unit, candidates)
        row = np.zeros(design.shape[1])
        row[kept] = model.coef_
        with np.errstate(over="ignore", invalid="ignore"):
            row, offset = row * unit, model.intercept_ * unit
        if np.all(np.isfinite(row)) and np.isfinite(offset):
            coef[i], intercept[i], fitted[i] = row, offset, True
    if not fitted.any():
        return None
    # A column whose regression does not fit in float64 keeps the VAE's fills.
    return {"columns": [j for j, keep in zip(refined, fitted) if keep], "mean": mean, "scale": scale,
            "coef": coef[fitted], "intercept": intercept[fitted],
            "level_columns": [j for j, _ in levels], "levels": [values for _, values in levels]}


def _regression_rows(observed, sampler):
    """The rows a column's regression is fitted on: its observed ones, at most MAX_REGRESSION_ROWS of them."""
    rows = np.flatnonzero(observed)
    if len(rows) > MAX_REGRESSION_ROWS:
        rows = np.sort(sampler.choice(rows, MAX_REGRESSION_ROWS, replace=False))
    return rows


def _regression(design, target, candidates):
    """(design columns kept, BayesianRidge of `target` on them), of the candidate of highest evidence.

    `candidates` are boolean masks over the design's columns, the plainest
    first: it is kept unless another's log marginal likelihood is higher.
    """
    from sklearn.linear_model import BayesianRidge

    best = None
    for kept in candidates:
        model = BayesianRidge(compute_score=len(candidates) > 1).fit(design[:, kept], target)
        if best is None or model.scores_[-1] > best[1].scores_[-1]:
            best = kept, model
    return best


def _moments(design):
    """Each design column's mean and standard deviation (1 where it is constant), also near float64's limits.

    ``design.mean(0)`` of values near 1e308 overflows to infinity; such a
    column's moments are taken in units of its largest magnitude instead.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        mean, scale = design.mean(0), design.std(0)
    bad = ~(np.isfinite(mean) & np.isfinite(scale))
    if bad.any():
        block = design[:, bad]
        peak = np.abs(block).max(0)
        peak[peak == 0] = 1.0
        unit = block / peak
        mean[bad], scale[bad] = peak * unit.mean(0), peak * unit.std(0)
    # Equal values are a constant column however their sums round (their
    # std can come out 1e-17, not 0): compared exactly, as in _moments.shift_scale_columns.
    constant = design.max(0) == design.min(0)
    mean[constant], scale[constant] = design[0, constant], 1.0
    scale[scale == 0] = 1.0
    return mean, scale


def _standardized(design, mean, scale):
    """(design - mean) / scale, computed as design / scale - mean / scale where the difference overflows."""
    with np.errstate(over="ignore", invalid="ignore"):
        standardized = (design - mean) / scale
    bad = ~np.isfinite(standardized)
    if bad.any():
        with np.errstate(over="ignore", invalid="ignore"):
            standardized[bad] = (design / scale - mean / scale)[bad]
    return standardized


def refine(values, completed, missing, refinement, columns):
    """`values` (the VAE's point fills, user units) with the refined columns' missing cells blended; in place.

    `completed` is the table with its missing cells filled by `values`;
    `missing` marks the cells to fill.
    """
    design, _ = _design(completed, columns, _state_levels(refinement))
    with np.errstate(over="ignore", invalid="ignore"):
        predicted = (_standardized(design, refinement["mean"], refinement["scale"]) @ refinement["coef"].T
                     + refinement["intercept"])
    weight = np.clip(1.0 - missing.mean(axis=1), *LINEAR_SHARE)  # the row's observed share, see LINEAR_SHARE
    for i, j in enumerate(refinement["columns"]):
        # A prediction beyond float64 (a row far outside the training rows) leaves the VAE's fill.
        rows = missing[:, j] & np.isfinite(predicted[:, i])
        values[rows, j] = (1.0 - weight[rows]) * values[rows, j] + weight[rows] * predicted[rows, i]
    return values
