"""mofgap: band gaps of metal-organic frameworks from crystal structures, with uncertainties."""

from mofgap._version import __version__

__all__ = ["__version__"]
