"""skvae: the variational autoencoder as a scikit-learn estimator on PyTorch."""

__version__ = "0.22.0"

from ._estimator import VAETransformer  # noqa: E402
from ._imputer import VAEImputer  # noqa: E402
from ._outliers import VAEOutlierDetector  # noqa: E402
from ._persistence import load, save  # noqa: E402

__all__ = ["VAETransformer", "VAEImputer", "VAEOutlierDetector", "load", "save", "__version__"]
