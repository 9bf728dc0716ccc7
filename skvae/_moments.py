"""Column statistics: moments and standardization safe at the extremes of float64, and decimals.

The Gaussian kinds encode a column as (x - shift) / scale, the count kinds
show the encoder log1p(x) standardized the same way. Columns of 1e300 or of
1e-300 are legal input: sums of squares overflow or underflow there, so the
moments of such columns are taken on values / max|values|.
"""

import numpy as np

#: Beyond this magnitude (or below its inverse) a column's moments are taken on rescaled values.
_EXTREME = 1e150


def shift_scale_columns(block):
    """(shifts, scales) of each column's observed values (NaN missing), as :func:`shift_scale` computes them."""
    # Overflow at the extremes is expected here: those columns are redone one by one below.
    with np.errstate(over="ignore", invalid="ignore"):
        # NumPy's nan-functions copy the block: about twice the time where nothing is missing.
        complete = not np.isnan(block).any()
        high = (np.max if complete else np.nanmax)(block, axis=0)
        low = (np.min if complete else np.nanmin)(block, axis=0)
        magnitude = np.maximum(np.abs(high), np.abs(low))
        shifts = (np.mean if complete else np.nanmean)(block, axis=0)
        scales = (np.std if complete else np.nanstd)(block, axis=0)
    shifts, scales = [float(v) for v in shifts], [float(v) for v in scales]
    for j in np.flatnonzero((magnitude > _EXTREME) | ((magnitude > 0) & (magnitude < 1 / _EXTREME))
                            | ~np.isfinite(np.asarray(shifts)) | ~np.isfinite(np.asarray(scales))):
        column = block[:, j]
        shifts[j], scales[j] = shift_scale(column[~np.isnan(column)])
    for j in np.flatnonzero(high == low):
        shifts[j], scales[j] = _constant(high[j])
    return shifts, [_unit_if_constant(scale) for scale in scales]


def shift_scale(values):
    """Mean and standard deviation (1 for a constant), safe at the extremes of float64."""
    high, low = float(np.max(values)), float(np.min(values))
    if high == low:
        return _constant(high)
    magnitude = max(abs(high), abs(low))
    if magnitude > _EXTREME or 0 < magnitude < 1 / _EXTREME:
        unit = values / magnitude
        shift, scale = float(unit.mean()) * magnitude, float(unit.std()) * magnitude
    else:
        shift, scale = float(values.mean()), float(values.std())
    return shift, _unit_if_constant(scale)


def _constant(value):
    """(shift, scale) of a column whose observed values all equal ``value``: (value, 1), exactly.

    Summed in floating point, the mean of equal values can miss them by an
    ulp and their standard deviation come out 1e-17 instead of 0 (ten copies
    of -0.132): a scale of 1e-17 turned any other value at transform into
    1e16 standard deviations (latent codes of 1e15, scores of -1e32) and made
    training fit rounding noise. Compared, not summed, equal values are exact.
    """
    return float(value), 1.0


def _unit_if_constant(scale):
    # A constant column keeps unit scale, as StandardScaler does.
    return scale if scale > np.finfo(np.float64).tiny * 1e3 else 1.0


def standardize(values, shift, scale):
    """(values - shift) / scale; where the difference overflows, values / scale - shift / scale."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = values - shift
        out /= scale
        # One pass where nothing overflowed (the rule): the full test only otherwise.
        if np.isfinite(np.add.reduce(out, axis=None)):
            return out
        overflowed = ~np.isfinite(out) & np.isfinite(values)
        if overflowed.any():
            alternative = values / scale - shift / scale
            out[overflowed] = alternative[overflowed]
    return out


#: Decimals a column keeps at most: beyond, values are measured, not written, to a precision.
MAX_DECIMALS = 6

#: A value this many units in the last place (float64's spacing at it) from its rounding is
#: written at that rounding (hostile sweep 22). A column computed from written values (a rate,
#: a sum, a unit conversion) carries a few ulps of float error: statsmodels' fertility table
#: holds 3.4530000000000003 and 5.5710000000000015 beside 4.82 (every one of its 54 year
#: columns, 2 to 4 ulps off), so no count of decimals wrote them exactly and samples came
#: back as 6.824697 in a column of three decimals. A measured value lands this close to a
#: 6-decimal number by chance about once in 10**7 (the spacing of 5.5 is 8.9e-16), and a
#: column needs every value to.
WRITTEN_ULPS = 8


#: A narrow float's value widened to float64 and written in R's 15 significant digits (write.csv:
#: float32's 10.8, 10.800000190734863, as 10.8000001907349) lies up to half a unit in its 15th
#: digit, 5e-15 of it, from the float64 it was: about 45 units in float64's last place, beyond
#: WRITTEN_ULPS (hostile sweep 33). Written in 9 significant digits, the fewest that tell every
#: float32 value apart (``%.9g``: carData's TitanicSurvival holds ages of 0.1667 years as
#: 0.166700006, whose column decoded unrounded, 0.9166719 beside 29; hostile sweep 38), it lies up
#: to half a unit in its 9th digit, 5e-9 of it. Two float32 (float16) values lie at least 6e-8
#: (1e-3) of them apart, so a value this close to one written as that type is that value written
#: in 9 digits or more. A measured float64 value lands this close to a float32 value by chance
#: about once in six, and a column needs every value to (as float32 rounded to its decimals, too).
NARROW_WRITTEN_SHARE = 5e-9

#: A value computed from written values by a subtraction (rain as the difference of two gauge
#: readings: 5.1 - 5.0 is 0.0999999999999996) carries the float error of its operands, not of
#: itself: crch's RainIbk holds 0.0999999999999996 beside 114.0, 29 units in the last place of
#: 0.1, so its column of one decimal was found to have none and sampled as 1.3359808735848973
#: (hostile sweep 36). A float64 column's value is also written at a rounding to d decimals
#: within WRITTEN_ULPS units in the last place of the column's largest magnitude, where that
#: tolerance is at most this share of 10**-d: a measured value lands so close to a d-decimal
#: number by chance about once in 5,000, and a column needs every value to.
COLUMN_SCALE_SHARE = 1e-4


def _written_at(rounded, values, precision=None, column_tolerance=None):
    """Whether each value is `rounded` (its rounding) up to WRITTEN_ULPS units in its last place.

    Subnormal values are written only exactly: their spacing is float64's
    smallest, 5e-324, so within a few of it lie 0 and the column's other
    subnormals, values no rounding wrote. Where `rounded` is held in a
    narrow float type (`precision`), a value written in 9 or more significant
    digits (NARROW_WRITTEN_SHARE) is written at it too. `column_tolerance`
    (per column, or None): a distance every value of its column may lie
    from its rounding (see COLUMN_SCALE_SHARE).
    """
    normal = np.abs(values) >= np.finfo(np.float64).tiny
    tolerance = WRITTEN_ULPS * np.spacing(np.abs(values))
    if column_tolerance is not None:
        tolerance = np.maximum(tolerance, column_tolerance)
    if precision is not None:
        tolerance = np.maximum(tolerance, NARROW_WRITTEN_SHARE * np.abs(values))
    near = np.abs(rounded - values) <= tolerance
    return (rounded == values) | (normal & near)


def narrow_written(values, precision):
    """Whether each of `values` may be a value held in `precision` (np.float32, np.float16) written out.

    That is, the value as `precision` holds it, up to :func:`_written_at`'s
    tolerance (NARROW_WRITTEN_SHARE: 9 or more significant digits of it, as R's
    write.csv writes a float32 value); missing cells pass.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        held = values.astype(precision).astype(np.float64)
    return _written_at(held, values, precision) | np.isnan(values)


def decimals(block, precision=None):
    """Per column of `block`, the fewest decimals (0 to MAX_DECIMALS) that write every value; None if none do.

    "Write" up to WRITTEN_ULPS units in the last place (:func:`_written_at`):
    3.4530000000000003, a computation's 3.453, has three decimals; in a float64
    column also up to WRITTEN_ULPS units in the last place of the column's
    largest magnitude (COLUMN_SCALE_SHARE): 0.0999999999999996, 5.1 - 5.0, is
    0.1 in a column of tenths up to 114.

    Values read from text with d decimals round to themselves at d; a whole-number
    column (counts, or a float column of whole numbers) has 0, so it decodes to
    whole numbers. Missing cells (NaN) do not count.

    `precision` (np.float32, np.float16) is the float type the columns' values
    are held in: 659.72 in float32 is 659.719970703125, which rounds to itself
    at no count of decimals in float64, so a float32 column of money was
    found to have none and decoded to 659.7179565 where a float64 one gives
    659.72. Its values are compared as that type holds them: d decimals
    written when the value rounded to d and held in that type is the value
    (or that value written in 9 or more significant digits, NARROW_WRITTEN_SHARE:
    a float64 column of float32 values as R writes it).
    """
    def rounds_to_itself(values, d):
        rounded = np.round(values, d)
        if precision is not None:
            rounded = rounded.astype(precision).astype(np.float64)
        written = _written_at(rounded, values, precision) | np.isnan(values)
        # The column's scale is read only for the columns that need it (most pass or fail at once).
        retry = np.flatnonzero(~written.all(axis=0))
        if precision is None and retry.size:
            again, tolerance = values[:, retry], _column_tolerance(values[:, retry], d)
            written[:, retry] = _written_at(rounded[:, retry], again, None, tolerance) | np.isnan(again)
        return written

    found = [None] * block.shape[1]
    undecided = np.arange(block.shape[1])
    with np.errstate(over="ignore", invalid="ignore"):
        for d in range(MAX_DECIMALS + 1):
            # Most measured columns fail on their first rows: test the rest only where those pass.
            head = block[:64, undecided]
            candidates = undecided[rounds_to_itself(head, d).all(axis=0)]
            values = block[:, candidates]
            exact = np.zeros(undecided.size, dtype=bool)
            exact[np.searchsorted(undecided, candidates)] = rounds_to_itself(values, d).all(axis=0)
            for j in undecided[exact]:
                found[j] = d
            undecided = undecided[~exact]
            if not undecided.size:
                break
    return found


def _column_tolerance(values, d):
    """Per column of float64 `values`, WRITTEN_ULPS units in the last place of its largest magnitude, where that
    is at most COLUMN_SCALE_SHARE of 10**-d (else 0)."""
    scale = np.max(np.abs(values), axis=0, initial=0.0, where=~np.isnan(values))
    tolerance = WRITTEN_ULPS * np.spacing(scale)
    return np.where(tolerance <= COLUMN_SCALE_SHARE * 10.0 ** -d, tolerance, 0.0)


#: Significant digits a column without decimals keeps at most (values written as 9.417e-06, 1.2e+20):
#: beyond, as beyond MAX_DECIMALS, its values are measured, not written, to a precision.
MAX_DIGITS = 6
#: 10 ** k is exact in float64 up to this k: the rounding below reproduces a written value exactly.
_EXACT_POWER = 22
#: Magnitudes a column's values must lie within for significant digits to be recorded: there every
#: count of digits up to MAX_DIGITS rounds with an exact power of ten.
_DIGITS_RANGE = (1e-15, 1e15)


def round_significant(values, digits, out=None):
    """`values` rounded to `digits` significant digits; zeros, NaN and infinities stay as they are.

    A value written with that many digits (``9.417e-06``, read from text)
    rounds to itself: the power of ten is applied by a multiplication or a
    division by an exact power (10**k, k <= 22), never by a rounded one.
    """
    values = np.asarray(values, dtype=np.float64)
    out = np.empty_like(values) if out is None else out
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        shift = (digits - 1) - np.floor(np.log10(np.abs(values)))
        usable = np.isfinite(shift) & (np.abs(shift) <= _EXACT_POWER)
        power = 10.0 ** np.where(usable, np.abs(shift), 0.0)
        up = np.round(values * power) / power
        down = np.round(values / power) * power
        rounded = np.where(shift >= 0, up, down)
    np.copyto(out, np.where(usable & np.isfinite(rounded), rounded, values))
    return out


def _within_digits_range(values, counted):
    """Per column, whether its counted values' magnitudes all lie within _DIGITS_RANGE (and some are counted)."""
    magnitude = np.abs(values)
    if counted is None:
        return magnitude.min(axis=0) >= _DIGITS_RANGE[0] and magnitude.max(axis=0) <= _DIGITS_RANGE[1]
    return (counted.any(axis=0) & (np.where(counted, magnitude, np.inf).min(axis=0) >= _DIGITS_RANGE[0])
            & (np.where(counted, magnitude, 0.0).max(axis=0) <= _DIGITS_RANGE[1]))


def significant_digits(block, decimals, precision=None):
    """Per column of `block` without `decimals`, the fewest significant digits (1 to MAX_DIGITS) that write every value.

    None where the column has decimals (they decide its precision) or no
    such number of digits writes all its values (a measured column).
    Missing cells do not count. `precision` is the float type the values are
    held in, as for :func:`decimals` (float32's 9.417e-06 is 9.4169...e-06).
    """
    def rounded(values, d):
        out = round_significant(values, d)
        return out if precision is None else out.astype(precision).astype(np.float64)

    found = [None] * block.shape[1]
    columns = np.array([j for j in range(block.shape[1]) if decimals[j] is None], dtype=np.intp)
    if not columns.size:
        return found
    # Most measured columns fail on their first rows: all columns are screened there at once, and only
    # those that pass are read whole (a wide array's columns had cost a Python loop of six roundings
    # each, 0.19 s of a 784-column fit, and whole-array passes 0.2 s more). A column written with d
    # digits passes any screen at d.
    head = np.asarray(block[:64, columns], dtype=np.float64)
    head_counted = np.isfinite(head) & (head != 0)
    # Beyond the range, round_significant leaves values as they are: every count of digits would "write"
    # them. A head out of range puts its whole column out of range.
    undecided = np.flatnonzero(_within_digits_range(head, head_counted) | ~head_counted.any(axis=0))
    for d in range(1, MAX_DIGITS + 1):
        if not undecided.size:
            break
        screen = (_written_at(rounded(head[:, undecided], d), head[:, undecided], precision)
                  | ~head_counted[:, undecided]).all(axis=0)
        decided = np.zeros(undecided.size, dtype=bool)
        for k in np.flatnonzero(screen):
            column = np.asarray(block[:, columns[undecided[k]]], dtype=np.float64)
            column = column[np.isfinite(column) & (column != 0)]
            if not column.size or not _within_digits_range(column, None):
                decided[k] = True  # no digits to record
            elif _written_at(rounded(column, d), column, precision).all():
                found[columns[undecided[k]]] = d
                decided[k] = True
        undecided = undecided[~decided]
    return found
