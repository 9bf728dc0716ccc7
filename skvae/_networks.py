"""The torch networks: an MLP trunk with linear heads, for encoder and decoder.

Pure torch: no scikit-learn, no device choice, no global RNG. Weights are
initialised from an explicit :class:`torch.Generator`, so that a seeded fit is
repeatable without touching ``torch.manual_seed``.
"""

import math

import torch
from torch import nn

from ._torch_scope import DTYPE

ACTIVATIONS = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
}

# exp(-30) .. exp(20) covers every sensible posterior variance; the clamp keeps
# exp() finite when a badly scaled batch pushes the head far out.
LOG_VARIANCE_RANGE = (-30.0, 20.0)


def _linear(in_features, out_features, generator):
    """``nn.Linear`` with PyTorch's default initialisation, drawn from `generator`."""
    # Built on the meta device, the layer draws nothing from the global RNG and
    # holds no memory; its CPU parameters are then drawn from `generator`.
    # (torch.nn.utils.skip_init does the same, but its move off the meta
    # device imported sympy through torch's Python references: 0.3 s of every
    # process's first fit.)
    layer = nn.Linear(in_features, out_features, dtype=DTYPE, device="meta")
    layer.weight = nn.Parameter(torch.empty((out_features, in_features), dtype=DTYPE, device="cpu"))
    layer.bias = nn.Parameter(torch.empty(out_features, dtype=DTYPE, device="cpu"))
    bound = 1.0 / math.sqrt(in_features)
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound, generator=generator)
        layer.bias.uniform_(-bound, bound, generator=generator)
    return layer


def _trunk(in_features, hidden_layer_sizes, activation, generator):
    layers = []
    for width in hidden_layer_sizes:
        layers += [_linear(in_features, width, generator), ACTIVATIONS[activation]()]
        in_features = width
    return nn.Sequential(*layers)


class Encoder(nn.Module):
    """q(z | x) = N(mean(x), diag exp(log_variance(x))): trunk H, then two heads.

    ``mean = H W1 + b1`` and ``log_variance = H W2 + b2``.
    """

    def __init__(self, n_inputs, hidden_layer_sizes, latent_dim, activation, generator):
        super().__init__()
        self.trunk = _trunk(n_inputs, hidden_layer_sizes, activation, generator)
        self.mean_head = _linear(hidden_layer_sizes[-1], latent_dim, generator)
        self.log_variance_head = _linear(hidden_layer_sizes[-1], latent_dim, generator)

    def forward(self, x):
        hidden = self.trunk(x)
        return self.mean_head(hidden), self.log_variance_head(hidden).clamp(*LOG_VARIANCE_RANGE)

    def mean(self, x):
        """The posterior mean alone: what ``transform`` needs."""
        return self.mean_head(self.trunk(x))


class Decoder(nn.Module):
    """p(x | z): trunk H over z, one linear head for every likelihood parameter.

    ``forward`` returns ``(params, free)``: the head's output, sliced by the
    likelihood blocks, and the free per-column parameters that do not depend
    on z (a negative binomial's dispersion, as scVI's ``dispersion="gene"``).
    """

    def __init__(self, latent_dim, hidden_layer_sizes, n_params, n_free, activation, generator):
        super().__init__()
        self.trunk = _trunk(latent_dim, hidden_layer_sizes, activation, generator)
        self.head = _linear(hidden_layer_sizes[-1], n_params, generator)
        self.free = nn.Parameter(torch.zeros(n_free, dtype=DTYPE))

    def forward(self, z):
        return self.head(self.trunk(z)), self.free


def build_networks(spec, generator):
    """Encoder and decoder from a spec dict (see ``VAETransformer._network_spec``).

    The decoder mirrors the encoder: its hidden layers are the encoder's in
    reverse order.
    """
    hidden = tuple(spec["hidden_layer_sizes"])
    encoder = Encoder(spec["n_inputs"], hidden, spec["latent_dim"], spec["activation"], generator)
    decoder = Decoder(spec["latent_dim"], hidden[::-1], spec["n_params"], spec["n_free"], spec["activation"], generator)
    return encoder, decoder


def parameter_shapes(spec):
    """The (name, shape) of every parameter of ``build_networks(spec)``, without building them.

    Two lazy iterators, encoder then decoder, each in the order of the
    module's ``parameters()`` and ``state_dict()``. Checking a model file's
    tensors against them, or counting the parameters before allocating any,
    costs no memory whatever widths the spec declares.
    ``tests/test_hostile_files.py`` checks them against the built modules.
    """
    hidden = tuple(spec["hidden_layer_sizes"])
    latent_dim = spec["latent_dim"]
    encoder = _linear_shapes("trunk", spec["n_inputs"], hidden, _trunk_indices(hidden))
    encoder_heads = (
        _linear_shapes(head, hidden[-1], (latent_dim,), (None,)) for head in ("mean_head", "log_variance_head")
    )
    decoder = _linear_shapes("trunk", latent_dim, hidden[::-1], _trunk_indices(hidden))
    decoder_head = _linear_shapes("head", hidden[0], (spec["n_params"],), (None,))
    # A module's own parameters come before its children's: ``free`` first.
    decoder_free = iter([("free", (spec["n_free"],))])
    return _chain(encoder, *encoder_heads), _chain(decoder_free, decoder, decoder_head)


def count_parameters(spec):
    """(number of parameter tensors, number of scalar parameters) of ``build_networks(spec)``.

    Computed from the spec alone (:func:`parameter_shapes`), without building anything.
    """
    n_tensors = n_values = 0
    for shapes in parameter_shapes(spec):
        for _, shape in shapes:
            n_tensors += 1
            n_values += math.prod(shape)
    return n_tensors, n_values


def _trunk_indices(hidden):
    # A trunk is Sequential(Linear, activation, Linear, activation, ...).
    return range(0, 2 * len(hidden), 2)


def _linear_shapes(prefix, in_features, widths, indices):
    for width, index in zip(widths, indices):
        name = prefix if index is None else f"{prefix}.{index}"
        yield f"{name}.weight", (width, in_features)
        yield f"{name}.bias", (width,)
        in_features = width


def _chain(*iterators):
    for iterator in iterators:
        yield from iterator
