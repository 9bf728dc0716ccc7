"""The likelihood of a table: its column blocks side by side.

:class:`CompositeLikelihood` holds one block per kind and column group (see
:mod:`skvae._likelihoods`). A cell that is missing (``observed`` False) simply
drops out of log p(x | z): its log-density is multiplied by zero, never
evaluated on a stand-in value that could leak into the gradient.

The categorical blocks of a table (one per number of levels) are evaluated
together in :meth:`CompositeLikelihood.log_prob`, the sum that training and
scoring run (:class:`_ShortCategoricals`).
"""

import torch


class CompositeLikelihood:
    """p(x | z) = prod over blocks of p(x_block | z), with missing cells dropped.

    Parameters
    ----------
    blocks : list of Block
        Disjoint column sets covering the encoded table.
    n_columns : int
        Width of the encoded table.
    mask_columns : list of int
        Columns whose missingness the encoder sees as an extra 0/1 input
        (those that had missing cells in the training data).
    """

    def __init__(self, blocks, n_columns, mask_columns=()):
        self.blocks = list(blocks)
        self.n_columns = int(n_columns)
        self.mask_columns = list(mask_columns)
        offset = free_offset = 0
        self._param_slices, self._free_slices = [], []
        for block in self.blocks:
            self._param_slices.append(slice(offset, offset + block.n_params))
            self._free_slices.append(slice(free_offset, free_offset + block.n_free))
            offset += block.n_params
            free_offset += block.n_free
        self.n_params, self.n_free = offset, free_offset
        self._column_index = [_column_selector(block.columns, self.n_columns) for block in self.blocks]
        self._mask_index = _column_selector(self.mask_columns, self.n_columns)
        self._block_order = _column_selector([c for block in self.blocks for c in block.columns], self.n_columns)
        self._categoricals = _ShortCategoricals.of(self)

    @property
    def input_width(self):
        return sum(block.input_width for block in self.blocks) + len(self.mask_columns)

    def to(self, device, dtype):
        blocks = [block.to(device, dtype) for block in self.blocks]
        return CompositeLikelihood(blocks, self.n_columns, self.mask_columns)

    def _block_params(self, decoded):
        # One split, not a slice per block: autograd then joins the blocks' gradients in one
        # concatenation, where each slice's backward wrote its part into a zero tensor of the
        # whole width and the parts were summed (bit for bit the same gradient).
        params, free = decoded
        block_params = params.split([block.n_params for block in self.blocks], dim=-1)
        block_free = free.split([block.n_free for block in self.blocks])
        return zip(self.blocks, self._column_index, block_params, block_free)

    @property
    def normal_columns(self):
        """Table positions of the columns whose encoded value is Gaussian (``gaussian``, ``quantile_normal``, ``lognormal``), in block order."""
        return [column for block in self.blocks if block.reparameterised_draws for column in block.columns]

    @property
    def numeric_level_parts(self):
        """Per categorical column whose levels are numbers: (table position, block index, index in block, level values).

        In block order; the level values are a float64 tensor of the
        column's L levels (see :func:`skvae._likelihoods.numeric_level_values`).
        """
        parts = []
        for b, block in enumerate(self.blocks):
            level_values = block.stats.get("level_values") if block.kind == "categorical" else None
            if level_values is None:
                continue
            for i, column in enumerate(block.columns):
                if not torch.isnan(level_values[i]).any():
                    parts.append((column, b, i, level_values[i]))
        return parts

    def block_logits(self, b, decoded):
        """The logits (..., block's columns, L) of categorical block `b`, unnormalised (a view)."""
        block = self.blocks[b]
        return decoded[0][..., self._param_slices[b]].unflatten(-1, (block.n_columns, block.n_levels))

    def tilt_levels(self, b, decoded, log_factors):
        """`decoded` with the logits of categorical block `b` shifted by `log_factors` (block's columns, L).

        Shifting logit c by log f_c turns the softmax p_c into p_c f_c / sum p f:
        the level distribution reweighted by f (a copy; `decoded` is unchanged).
        """
        params, free = decoded
        params = params.clone()
        shape = params[..., self._param_slices[b]].shape
        params[..., self._param_slices[b]] += log_factors.reshape(-1).to(params.dtype).expand(shape)
        return params, free

    def encoded_normal(self, decoded):
        """(mean, standard deviation) of the encoded values of :attr:`normal_columns`, shape (..., n_normal)."""
        means, deviations = [], []
        for block, params_slice in zip(self.blocks, self._param_slices):
            if block.reparameterised_draws:
                mean, deviation = block.encoded_normal(decoded[0][..., params_slice])
                means.append(mean)
                deviations.append(deviation)
        return torch.cat(means, dim=-1), torch.cat(deviations, dim=-1)

    def normal_user_units(self, encoded):
        """Encoded values of :attr:`normal_columns` (..., n_normal) in the columns' units."""
        parts, start = [], 0
        for block in self.blocks:
            if block.reparameterised_draws:
                parts.append(block.user_units(encoded[..., start : start + block.n_columns]))
                start += block.n_columns
        return torch.cat(parts, dim=-1)

    def encoder_input(self, x, observed=None):
        """The encoder's view of a batch: each block's encoding, missing cells zeroed, plus the mask."""
        parts = []
        for block, columns in zip(self.blocks, self._column_index):
            part = block.encoder_input(x[..., columns])
            if observed is not None:
                seen = observed[..., columns]
                if part.shape[-1] != seen.shape[-1]:  # one-hot: repeat each column's flag per level
                    seen = seen.repeat_interleave(part.shape[-1] // seen.shape[-1], dim=-1)
                part = part * seen
            parts.append(part)
        if self.mask_columns:
            seen = torch.ones_like(x[..., self._mask_index]) if observed is None else observed[..., self._mask_index]
            parts.append(seen.to(x.dtype))
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)

    def log_prob(self, x, decoded, observed=None, constants=True):
        """log p(x_observed | z) per row, summed over observed cells.

        With ``constants=False``, without the terms that depend on the data
        alone (:meth:`log_constant`): what a training step differentiates.
        """
        fused = {} if self._categoricals is None else self._categoricals.cell_log_prob(x, decoded[0])
        cell_terms = "cell_log_prob" if constants else "cell_log_variable"
        parts = [fused[b] if b in fused else getattr(block, cell_terms)(x[..., columns], own_params, own_free)
                 for b, (block, columns, own_params, own_free) in enumerate(self._block_params(decoded))]
        # The blocks' cells side by side (in block order), masked and summed once: a sum, an addition
        # and a mask per block cost a table of five blocks about 25 small operations per step.
        cells = parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)
        if observed is not None:
            cells = torch.where(observed[..., self._block_order], cells, 0.0)
        return cells.sum(-1)

    def log_constant(self, x, observed=None):
        """Per row, the terms of log p(x_observed | z) that depend on the data alone, summed over observed cells.

        ``log_prob(x, decoded, observed)`` is ``log_prob(x, decoded, observed,
        constants=False) + log_constant(x, observed)``, up to rounding: the
        log-Jacobians of the columns' encodings and a count's -log x!.
        """
        total = x.new_zeros(x.shape[:-1])
        for block, columns in zip(self.blocks, self._column_index):
            cells = block.cell_log_constant(x[..., columns])
            if cells is None:
                continue
            if observed is not None:
                cells = torch.where(observed[..., columns], cells, 0.0)
            total = total + cells.sum(-1)
        return total

    def cell_log_prob(self, x, decoded, observed=None):
        """log p(x_ij | z) per cell in table order, NaN where a cell is missing."""
        params = decoded[0]
        out = params.new_full((*params.shape[:-1], self.n_columns), float("nan"))
        for block, columns, block_params, free in self._block_params(decoded):
            cells = block.cell_log_prob(x[..., columns], block_params, free)
            if observed is not None:
                cells = torch.where(observed[..., columns], cells, float("nan"))
            out[..., columns] = cells
        return out

    def point(self, decoded, weights=None):
        """Per cell, the weighted conditional mean (mode for categories) over K decodings.

        `decoded` has a leading K axis when `weights` (K, n) is given; without
        weights it is one decoding and the result is E[x | z].
        """
        params, free = decoded
        if weights is None:
            params = params.unsqueeze(0)
            weights = params.new_ones(params.shape[:-1])
        out = params.new_empty((*params.shape[1:-1], self.n_columns))
        for block, columns, params_slice, free_slice in zip(
            self.blocks, self._column_index, self._param_slices, self._free_slices
        ):
            out[..., columns] = block.point(params[..., params_slice], free[free_slice], weights)
        return out

    def sample(self, decoded, generator):
        params, free = decoded
        out = params.new_empty((*params.shape[:-1], self.n_columns))
        for block, columns, params_slice, free_slice in zip(
            self.blocks, self._column_index, self._param_slices, self._free_slices
        ):
            out[..., columns] = block.sample(params[..., params_slice], free[free_slice], generator)
        return out


class _ShortCategoricals:
    """The categorical blocks of few levels (``CategoricalBlock.short``), evaluated as one.

    A table's categorical columns form one block per number of levels (a
    block is one unpadded (n, columns, levels) tensor; the decoder's outputs
    and saved models are laid out by block). Evaluated block by block, each
    cost about a dozen small torch operations forward and as many backward,
    whatever its width: on a table of five such blocks (``fair``), 130 of a
    training step's 270 operations. Here their logits are gathered into one
    (..., columns, most levels) tensor in one indexing operation, the levels a
    column lacks set to -inf, and one log-softmax and one gather give every
    column's log-probability. Over the leading dimension (the short-softmax
    layout, see :meth:`skvae._likelihoods.CategoricalBlock._log_probabilities`)
    a -inf level adds an exact zero to each sum and gets a zero gradient, so
    values and gradients are the blocks' own, bit for bit where the rows fill
    whole vector lanes (as inference pads the likelihood's rows:
    :data:`skvae._inference.LIKELIHOOD_LOOP_BYTES`); the
    last, partial batch of a training epoch can round in the last bit.
    """

    def __init__(self, likelihood, members):
        self.members = members
        levels = max(likelihood.blocks[b].n_levels for b in members)
        index, padding, columns, self.widths = [], [], [], []
        for b in members:
            block, start = likelihood.blocks[b], likelihood._param_slices[b].start
            for j in range(block.n_columns):
                first = start + j * block.n_levels
                index.append([first + min(c, block.n_levels - 1) for c in range(levels)])
                padding.append([c >= block.n_levels for c in range(levels)])
            columns.extend(block.columns)
            self.widths.append(block.n_columns)
        device = next((v.device for b in members for v in likelihood.blocks[b].stats.values()), None)
        self.index = torch.tensor(index, dtype=torch.long, device=device)
        self.padding = torch.tensor(padding, dtype=torch.bool, device=device)
        self.columns = _column_selector(columns, likelihood.n_columns)

    def _padding_bias(self, dtype):
        """0 at each column's own levels, -inf at its padded ones, in `dtype` (built once per dtype)."""
        biases = self.__dict__.setdefault("_biases", {})
        bias = biases.get(dtype)
        if bias is None:
            bias = biases[dtype] = torch.zeros(self.padding.shape, dtype=dtype, device=self.padding.device
                                               ).masked_fill_(self.padding, float("-inf"))
        return bias

    @classmethod
    def of(cls, likelihood):
        """The evaluator of `likelihood`'s short categorical blocks, or None where it has fewer than two."""
        members = [b for b, block in enumerate(likelihood.blocks) if block.kind == "categorical" and block.short]
        return cls(likelihood, members) if len(members) > 1 else None

    def cell_log_prob(self, x, params):
        """{block index: its cells' log p(x_ij | z), (..., block's columns)} for the member blocks."""
        # index_select, not params[..., index]: its backward is one index_add, not an accumulating index_put.
        logits = params.index_select(-1, self.index.view(-1)).unflatten(-1, self.index.shape)
        # + 0 or -inf rather than masked_fill: the same logits (x + 0.0 is x), and no backward pass of
        # its own (masked_fill's zeroed the padded levels' gradients, which the log-softmax leaves 0).
        logits = logits + self._padding_bias(logits.dtype)
        log_probabilities = torch.log_softmax(logits.movedim(-1, 0), 0).movedim(0, -1)
        codes = x[..., self.columns].long().expand(log_probabilities.shape[:-1]).unsqueeze(-1)
        cells = log_probabilities.gather(-1, codes).squeeze(-1)
        return dict(zip(self.members, cells.split(self.widths, dim=-1)))


def _column_selector(columns, n_columns):
    """A slice where `columns` is a contiguous run (a view, no copy), else an index list."""
    columns = list(columns)
    if columns and columns == list(range(columns[0], columns[0] + len(columns))):
        return slice(columns[0], columns[0] + len(columns))
    return torch.tensor(columns, dtype=torch.long) if columns else slice(0, 0)
