"""``python -m skvae`` and the ``skvae`` console script: see :mod:`skvae._cli`."""

import sys

from ._cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
