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
        magnitude = np.nanmax(np.abs(block), axis=0)
        shifts, scales = np.nanmean(block, axis=0), np.nanstd(block, axis=0)
    shifts, scales = [float(v) for v in shifts], [float(v) for v in scales]
    for j in np.flatnonzero((magnitude > _EXTREME) | ((magnitude > 0) & (magnitude < 1 / _EXTREME))
                            | ~np.isfinite(np.asarray(shifts)) | ~np.isfinite(np.asarray(scales))):
        column = block[:, j]
        shifts[j], scales[j] = shift_scale(column[~np.isnan(column)])
    return shifts, [_unit_if_constant(scale) for scale in scales]


def shift_scale(values):
    """Mean and standard deviation (1 for a constant), safe at the extremes of float64."""
    magnitude = float(np.max(np.abs(values)))
    if magnitude > _EXTREME or 0 < magnitude < 1 / _EXTREME:
        unit = values / magnitude
        shift, scale = float(unit.mean()) * magnitude, float(unit.std()) * magnitude
    else:
        shift, scale = float(values.mean()), float(values.std())
    return shift, _unit_if_constant(scale)


def _unit_if_constant(scale):
    # A constant column keeps unit scale, as StandardScaler does.
    return scale if scale > np.finfo(np.float64).tiny * 1e3 else 1.0


def standardize(values, shift, scale):
    """(values - shift) / scale; where the difference overflows, values / scale - shift / scale."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = (values - shift) / scale
        overflowed = ~np.isfinite(out) & np.isfinite(values)
        if overflowed.any():
            alternative = values / scale - shift / scale
            out[overflowed] = alternative[overflowed]
    return out


#: Decimals a column keeps at most: beyond, values are measured, not written, to a precision.
MAX_DECIMALS = 6


def decimals(block):
    """Per column of `block`, the fewest decimals (0 to MAX_DECIMALS) that write every value; None if none do.

    Values read from text with d decimals round to themselves at d; a whole-number
    column (counts, or a float column of whole numbers) has 0, so it decodes to
    whole numbers. Missing cells (NaN) do not count.
    """
    found = [None] * block.shape[1]
    undecided = np.arange(block.shape[1])
    with np.errstate(over="ignore", invalid="ignore"):
        for d in range(MAX_DECIMALS + 1):
            # Most measured columns fail on their first rows: test the rest only where those pass.
            head = block[:64, undecided]
            candidates = undecided[((np.round(head, d) == head) | np.isnan(head)).all(axis=0)]
            values = block[:, candidates]
            exact = np.zeros(undecided.size, dtype=bool)
            exact[np.searchsorted(undecided, candidates)] = (
                (np.round(values, d) == values) | np.isnan(values)).all(axis=0)
            for j in undecided[exact]:
                found[j] = d
            undecided = undecided[~exact]
            if not undecided.size:
                break
    return found
