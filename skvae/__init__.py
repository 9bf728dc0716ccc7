"""skvae: the variational autoencoder as a scikit-learn estimator on PyTorch."""

from ._estimator import VAETransformer

__version__ = "0.1.0"

__all__ = ["VAETransformer", "__version__"]
