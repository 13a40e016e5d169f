"""Evaluate matched predictions: every protocol metric, per-component ranking, validation-fitted calibration.

The result is a JSON-ready dict: ``metrics`` (total σ), ``components`` (ranking metrics of the
epistemic and aleatoric σ alone), ``calibrated`` (σ-scaling and conformal intervals fitted on the
calibration set, applied to the evaluated set) and ``curves`` (the data behind the figures).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mofgap.uq import metrics
from mofgap.uq.calibration import ConformalInterval, SigmaScale
from mofgap.uq.tables import MatchedPredictions

CALIBRATION_METRICS = ("miscalibration_area", "ence", "coverage_68", "coverage_90", "coverage_95", "mean_z2",
                       "nll", "crps", "sharpness")


def _ranking(sigma: np.ndarray, abs_error: np.ndarray) -> dict[str, float | None]:
    """Ranking metrics of one σ; ``None`` where σ is constant (no ranking to measure)."""
    rho = metrics.spearman_or_none(sigma, abs_error)
    if rho is None:
        return {"spearman": None, "pearson": None, "ause": None, "sharpness": float(np.mean(sigma))}
    return {"spearman": rho, "pearson": metrics.pearson_or_none(sigma, abs_error),
            "ause": metrics.ause(sigma, abs_error), "sharpness": metrics.sharpness(sigma)}


def _curves(y: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> dict[str, list[float]]:
    abs_error = np.abs(y - mu)
    rmv, binned_rmse = metrics.binned_rmse_rmv(y, mu, sigma)
    return {
        "expected_proportion": metrics.PROPORTIONS.tolist(),
        "observed_proportion": metrics.observed_proportions(y, mu, sigma).tolist(),
        "removed_fraction": (np.arange(metrics.SPARSIFICATION_STEPS) / metrics.SPARSIFICATION_STEPS).tolist(),
        "sparsification_mae": metrics.sparsification_curve(sigma, abs_error).tolist(),
        "oracle_mae": metrics.sparsification_curve(abs_error, abs_error).tolist(),
        "bin_rmv": rmv.tolist(),
        "bin_rmse": binned_rmse.tolist(),
    }


def evaluate(
    evaluated: MatchedPredictions, calibration: MatchedPredictions | None = None, *, coverage: float = 0.9
) -> dict[str, Any]:
    """All metrics of ``evaluated``; with ``calibration`` (the validation split), also after calibration."""
    y, mu, sigma = evaluated.y, evaluated.mu, evaluated.sigma
    abs_error = np.abs(y - mu)
    result: dict[str, Any] = {
        "counts": {"evaluated": int(y.size), "failed": evaluated.n_failed, "unlabelled": evaluated.n_unlabelled},
        "metrics": metrics.all_metrics(y, mu, sigma),
        "components": {
            name: _ranking(values, abs_error)
            for name, values in (("epistemic", evaluated.sigma_epistemic), ("aleatoric", evaluated.sigma_aleatoric))
            if values is not None
        },
        "curves": {"raw": _curves(y, mu, sigma)},
    }
    if calibration is not None:
        scale = SigmaScale.fit(calibration.y, calibration.mu, calibration.sigma)
        scaled = scale.apply(sigma)
        interval = ConformalInterval.fit(calibration.y, calibration.mu, calibration.sigma, coverage)
        lower, upper = interval.bounds(mu, sigma)
        every = metrics.all_metrics(y, mu, scaled)
        result["calibrated"] = {
            "sigma_scale": scale.factor,
            "metrics": {name: every[name] for name in CALIBRATION_METRICS},
            "conformal": {
                "target_coverage": coverage, "quantile": interval.quantile,
                "n_calibration": interval.n_calibration,
                "coverage": metrics.interval_coverage(y, lower, upper),
                "mean_width_eV": float(np.mean(upper - lower)),
            },
        }
        result["curves"]["scaled"] = _curves(y, mu, scaled)
    return finite_or_none(result)


def finite_or_none(value: Any) -> Any:
    """``value`` with every non-finite float (an infinite conformal quantile, say) replaced by ``None``."""
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite_or_none(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
