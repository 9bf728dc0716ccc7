"""What the public faces over a VAETransformer share: its parameters, passed through.

:class:`~skvae.VAEOutlierDetector` and :class:`~skvae.VAEImputer` hold a
fitted :class:`~skvae.VAETransformer` (``vae_``) and take every one of its
parameters besides their own. They read them from ``VAETransformer.__init__``'s
signature here, so that a parameter added to the VAE reaches every face
without an edit, with its constraint and its docstring entry.
"""

import inspect

from ._estimator import VAETransformer

VAE_PARAMETERS = tuple(
    parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY)
    for name, parameter in inspect.signature(VAETransformer.__init__).parameters.items()
    if name != "self"
)
VAE_PARAMETER_NAMES = tuple(parameter.name for parameter in VAE_PARAMETERS)


def face_signature(own_parameters):
    """``__init__``'s signature: the VAE's parameters, then `own_parameters` ((name, default) pairs)."""
    own = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default) for name, default in own_parameters]
    own_names = {parameter.name for parameter in own}
    return inspect.Signature([*(p for p in VAE_PARAMETERS if p.name not in own_names), *own])


def init_signature(signature):
    """`signature` with ``self`` in front: what ``get_params``, ``clone`` and ``repr`` read."""
    return inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD), *signature.parameters.values()]
    )


def bound_parameters(signature, params):
    """Every parameter with its value: `params` over the defaults. Unknown names raise TypeError."""
    bound = signature.bind(**params)
    bound.apply_defaults()
    return bound.arguments


class VAEFace:
    """A public face over a VAETransformer: ``__init__`` takes the VAE's parameters and the face's own.

    A subclass names its own parameters in ``_OWN_PARAMETERS`` ((name,
    default) pairs; a pair may override a VAE parameter's default). Its
    ``__init__`` only stores the arguments, as scikit-learn requires, and its
    signature, which ``get_params``, ``clone`` and ``repr`` read, is the VAE's
    plus its own.
    """

    _OWN_PARAMETERS = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        signature = face_signature(cls._OWN_PARAMETERS)

        def __init__(self, **params):
            for name, value in bound_parameters(signature, params).items():
                setattr(self, name, value)

        __init__.__signature__ = init_signature(signature)
        __init__.__qualname__ = f"{cls.__qualname__}.__init__"
        cls.__init__ = __init__


def vae_from(face):
    """An unfitted VAETransformer with the face's VAE parameters."""
    return VAETransformer(**{name: getattr(face, name) for name in VAE_PARAMETER_NAMES})


def with_vae_parameters_doc(doc):
    """`doc` with ``{vae_parameters}`` replaced by the Parameters section of VAETransformer's docstring."""
    vae_doc = VAETransformer.__doc__
    start = vae_doc.index("----------\n", vae_doc.index("    Parameters\n")) + len("----------\n")
    section = vae_doc[start : vae_doc.index("    Attributes\n")].strip("\n")
    return doc.replace("    {vae_parameters}", section)
