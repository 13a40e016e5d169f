"""mofgap: band gaps of metal-organic frameworks from crystal structures, with uncertainties.

``mofgap.predict(paths_or_structures, model=..., samples=...)`` returns a pandas table of predictions
(see :func:`mofgap.prediction.predict`); it is imported on first use, so ``import mofgap`` stays light.
"""

from typing import Any

from mofgap._version import __version__

__all__ = ["__version__", "predict"]


def __getattr__(name: str) -> Any:
    if name == "predict":
        from mofgap.prediction import predict

        return predict
    raise AttributeError(f"module 'mofgap' has no attribute {name!r}")
