"""Accuracy, error–uncertainty ranking and calibration metrics for Gaussian predictive distributions.

Every function takes 1-D arrays of targets ``y``, predictive means ``mu`` and predictive standard
deviations ``sigma`` in the same unit (eV for band gaps), with error ``e = y − mu`` and ``z = e / σ``.
Metrics carrying a unit (MAE, RMSE, AUSE, NLL's σ term, CRPS, sharpness) are in that unit.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

Array = NDArray[np.float64]

DEFAULT_BINS = 10
"""Equal-count σ bins for ENCE and the binned |error|-versus-σ curve."""

PROPORTIONS = np.linspace(0.0, 1.0, 101)
"""Expected central-interval proportions at which the calibration curve is evaluated."""

SPARSIFICATION_STEPS = 100
"""Fractions 0, 1/100, …, 99/100 of the most uncertain points removed in the sparsification curve."""


def _arrays(*values: ArrayLike) -> list[Array]:
    arrays = [np.asarray(v, dtype=np.float64).ravel() for v in values]
    if len({a.size for a in arrays}) != 1:
        raise ValueError(f"arrays of different lengths: {[a.size for a in arrays]}")
    if arrays[0].size == 0:
        raise ValueError("no values")
    return arrays


def _positive_sigma(sigma: Array) -> Array:
    if np.any(~np.isfinite(sigma)) or np.any(sigma <= 0):
        raise ValueError("σ must be finite and > 0")
    return sigma


def mae(y: ArrayLike, mu: ArrayLike) -> float:
    """Mean absolute error."""
    a, b = _arrays(y, mu)
    return float(np.mean(np.abs(a - b)))


def rmse(y: ArrayLike, mu: ArrayLike) -> float:
    """Root-mean-square error."""
    a, b = _arrays(y, mu)
    return float(np.sqrt(np.mean((a - b) ** 2)))


def r2(y: ArrayLike, mu: ArrayLike) -> float:
    """Coefficient of determination 1 − SS_res / SS_tot."""
    a, b = _arrays(y, mu)
    return float(1.0 - np.sum((a - b) ** 2) / np.sum((a - a.mean()) ** 2))


def spearman(sigma: ArrayLike, abs_error: ArrayLike) -> float:
    """Spearman rank correlation between σ and |error| (ties get average ranks)."""
    s, e = _arrays(sigma, abs_error)
    return float(stats.spearmanr(s, e).statistic)


def spearman_or_none(sigma: ArrayLike, abs_error: ArrayLike) -> float | None:
    """Spearman ρ, or ``None`` when σ is constant (it then ranks nothing)."""
    s, e = _arrays(sigma, abs_error)
    return spearman(s, e) if np.ptp(s) > 0 else None


def pearson_or_none(sigma: ArrayLike, abs_error: ArrayLike) -> float | None:
    """Pearson r, or ``None`` when σ is constant."""
    s, e = _arrays(sigma, abs_error)
    return pearson(s, e) if np.ptp(s) > 0 else None


def pearson(sigma: ArrayLike, abs_error: ArrayLike) -> float:
    """Pearson correlation between σ and |error|."""
    s, e = _arrays(sigma, abs_error)
    return float(stats.pearsonr(s, e).statistic)


def sparsification_curve(order_by: ArrayLike, abs_error: ArrayLike, steps: int = SPARSIFICATION_STEPS) -> Array:
    """MAE of the points kept after removing the fraction k/steps with the largest ``order_by``.

    Returns ``steps`` values for k = 0 … steps − 1; ties in ``order_by`` keep their input order.
    """
    key, err = _arrays(order_by, abs_error)
    most_uncertain_first = err[np.argsort(-key, kind="stable")]
    n = err.size
    return np.array([most_uncertain_first[(k * n) // steps:].mean() for k in range(steps)])


def ause(sigma: ArrayLike, abs_error: ArrayLike, steps: int = SPARSIFICATION_STEPS) -> float:
    """Area between the σ sparsification curve and the oracle (|error|) curve, MAE-based, unit of the error.

    The curves are sampled at removed fractions k/steps and integrated with the rectangle rule.
    0 means σ orders the errors perfectly.
    """
    curve = sparsification_curve(sigma, abs_error, steps)
    oracle = sparsification_curve(abs_error, abs_error, steps)
    return float(np.sum(curve - oracle) / steps)


def observed_proportions(y: ArrayLike, mu: ArrayLike, sigma: ArrayLike,
                         expected: ArrayLike = PROPORTIONS) -> Array:
    """Fraction of targets inside the central Gaussian interval of each expected proportion p."""
    a, b, s = _arrays(y, mu, sigma)
    z = np.abs(a - b) / _positive_sigma(s)
    p = np.asarray(expected, dtype=np.float64)
    half_widths = stats.norm.ppf(0.5 + p / 2.0)
    return np.array([np.mean(z <= w) for w in half_widths])


def miscalibration_area(y: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> float:
    """Area between the calibration curve (observed vs expected proportion) and the diagonal, in [0, 0.5]."""
    observed = observed_proportions(y, mu, sigma)
    return float(np.trapezoid(np.abs(observed - PROPORTIONS), PROPORTIONS))


def coverage(y: ArrayLike, mu: ArrayLike, sigma: ArrayLike, proportion: float) -> float:
    """Fraction of targets inside the central Gaussian interval μ ± Φ⁻¹((1+p)/2)·σ."""
    return float(observed_proportions(y, mu, sigma, [proportion])[0])


def binned_rmse_rmv(y: ArrayLike, mu: ArrayLike, sigma: ArrayLike, bins: int = DEFAULT_BINS) -> tuple[Array, Array]:
    """Per equal-count σ bin (sorted by σ): root mean variance √mean(σ²) and RMSE."""
    a, b, s = _arrays(y, mu, sigma)
    groups = np.array_split(np.argsort(s, kind="stable"), min(bins, a.size))
    rmv = np.array([np.sqrt(np.mean(s[g] ** 2)) for g in groups])
    err = np.array([np.sqrt(np.mean((a[g] - b[g]) ** 2)) for g in groups])
    return rmv, err


def ence(y: ArrayLike, mu: ArrayLike, sigma: ArrayLike, bins: int = DEFAULT_BINS) -> float:
    """Expected normalised calibration error: mean over σ bins of |RMV − RMSE| / RMV."""
    rmv, err = binned_rmse_rmv(y, mu, sigma, bins)
    return float(np.mean(np.abs(rmv - err) / rmv))


def mean_z2(y: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> float:
    """Mean squared standardised error; 1 for calibrated Gaussian σ."""
    a, b, s = _arrays(y, mu, sigma)
    return float(np.mean(((a - b) / _positive_sigma(s)) ** 2))


def gaussian_nll(y: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> float:
    """Mean Gaussian negative log-likelihood ½log(2πσ²) + e²/(2σ²) (nats; depends on the unit of y)."""
    a, b, s = _arrays(y, mu, sigma)
    s = _positive_sigma(s)
    return float(np.mean(0.5 * np.log(2 * np.pi * s**2) + (a - b) ** 2 / (2 * s**2)))


def crps(y: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> float:
    """Mean continuous ranked probability score of N(μ, σ²): σ[z(2Φ(z) − 1) + 2φ(z) − 1/√π]."""
    a, b, s = _arrays(y, mu, sigma)
    z = (a - b) / _positive_sigma(s)
    return float(np.mean(s * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))))


def sharpness(sigma: ArrayLike) -> float:
    """Mean predictive σ."""
    (s,) = _arrays(sigma)
    return float(np.mean(s))


def interval_coverage(y: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Fraction of targets with lower ≤ y ≤ upper."""
    a, lo, hi = _arrays(y, lower, upper)
    return float(np.mean((a >= lo) & (a <= hi)))


def all_metrics(y: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> dict[str, float | None]:
    """Every metric of the evaluation protocol for one set of predictions (σ is the total σ).

    Correlations of a constant σ are ``None``.
    """
    a, b, s = _arrays(y, mu, sigma)
    err = np.abs(a - b)
    return {
        "n": float(a.size),
        "mae": mae(a, b),
        "rmse": rmse(a, b),
        "r2": r2(a, b),
        "spearman": spearman_or_none(s, err),
        "pearson": pearson_or_none(s, err),
        "ause": ause(s, err),
        "miscalibration_area": miscalibration_area(a, b, s),
        "ence": ence(a, b, s),
        "coverage_68": coverage(a, b, s, 0.6827),
        "coverage_90": coverage(a, b, s, 0.90),
        "coverage_95": coverage(a, b, s, 0.95),
        "mean_z2": mean_z2(a, b, s),
        "nll": gaussian_nll(a, b, s),
        "crps": crps(a, b, s),
        "sharpness": sharpness(s),
    }
