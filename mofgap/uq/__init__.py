"""Uncertainty quantification: metrics, post-hoc calibration, evaluation of prediction tables, figures."""

from mofgap.uq.calibration import ConformalInterval, SigmaScale
from mofgap.uq.metrics import all_metrics

__all__ = ["ConformalInterval", "SigmaScale", "all_metrics"]
