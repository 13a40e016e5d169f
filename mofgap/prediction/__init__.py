"""Band-gap prediction with uncertainties for structure files and in-memory structures."""

from mofgap.prediction.api import predict
from mofgap.prediction.predictor import DEFAULT_MODEL, Predictor

__all__ = ["DEFAULT_MODEL", "Predictor", "predict"]
