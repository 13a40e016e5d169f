"""Post-hoc calibration fitted on the validation split: one σ scale factor, and split-conformal intervals.

σ-scaling multiplies every σ by ``s = √mean(z²)`` of the validation set (the maximum-likelihood scale for
a Gaussian). Split conformal prediction with σ-normalised scores ``r = |y − μ| / σ`` takes the
⌈(n + 1)(1 − a)⌉-th smallest validation score ``q`` and predicts ``μ ± q·σ``: for exchangeable data the
interval holds the target with probability ≥ 1 − a (Lei et al. 2018; Angelopoulos & Bates 2021).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from mofgap.uq.metrics import Array, _arrays, _positive_sigma


@dataclass(frozen=True)
class SigmaScale:
    """σ → factor·σ (dimensionless factor)."""

    factor: float

    @classmethod
    def fit(cls, y: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> SigmaScale:
        """Maximum-likelihood scale on calibration data: √mean(((y − μ)/σ)²)."""
        a, b, s = _arrays(y, mu, sigma)
        return cls(float(np.sqrt(np.mean(((a - b) / _positive_sigma(s)) ** 2))))

    def apply(self, sigma: ArrayLike) -> Array:
        """Scaled σ."""
        return np.asarray(sigma, dtype=np.float64) * self.factor


@dataclass(frozen=True)
class ConformalInterval:
    """σ-normalised split-conformal interval μ ± quantile·σ at a target coverage."""

    coverage: float
    quantile: float
    n_calibration: int

    @classmethod
    def fit(cls, y: ArrayLike, mu: ArrayLike, sigma: ArrayLike, coverage: float = 0.9) -> ConformalInterval:
        """Finite-sample conformal quantile of |y − μ|/σ on calibration data (``inf`` if too few points)."""
        a, b, s = _arrays(y, mu, sigma)
        return cls.from_scores(np.abs(a - b) / _positive_sigma(s), coverage)

    @classmethod
    def from_scores(cls, scores: ArrayLike, coverage: float = 0.9) -> ConformalInterval:
        """The interval from calibration scores |y − μ|/σ."""
        if not 0 < coverage < 1:
            raise ValueError(f"coverage must be in (0, 1), got {coverage}")
        scores = np.sort(np.asarray(scores, dtype=np.float64).ravel())
        rank = math.ceil((scores.size + 1) * coverage - 1e-9)  # no extra rank from float rounding
        quantile = float(scores[rank - 1]) if rank <= scores.size else math.inf
        return cls(coverage, quantile, int(scores.size))

    def bounds(self, mu: ArrayLike, sigma: ArrayLike) -> tuple[Array, Array]:
        """Lower and upper interval bounds (unit of μ)."""
        m = np.asarray(mu, dtype=np.float64)
        half = self.quantile * np.asarray(sigma, dtype=np.float64)
        return m - half, m + half


CALIBRATION_FILE = "calibration.json"


@dataclass(frozen=True)
class Calibration:
    """What a shipped model needs to calibrate its predictions: the σ scale and the conformal scores.

    Attributes:
        sigma_scale: validation-fitted σ factor.
        scores: sorted validation scores |y − μ|/σ (unscaled σ), from which any conformal coverage follows.
        samples: the M the scores were computed with.
    """

    sigma_scale: SigmaScale
    scores: Array
    samples: int

    @classmethod
    def fit(cls, y: ArrayLike, mu: ArrayLike, sigma: ArrayLike, samples: int) -> Calibration:
        """Fit both on held-out (validation) predictions made with ``samples`` passes."""
        a, b, s = _arrays(y, mu, sigma)
        scores = np.sort(np.abs(a - b) / _positive_sigma(s))
        return cls(SigmaScale.fit(a, b, s), scores, samples)

    def interval(self, coverage: float) -> ConformalInterval:
        """The conformal interval of a target coverage."""
        return ConformalInterval.from_scores(self.scores, coverage)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (scores rounded to 1e-6)."""
        return {"sigma_scale": self.sigma_scale.factor, "samples": self.samples,
                "scores": [round(float(v), 6) for v in self.scores]}

    @classmethod
    def from_dict(cls, document: dict[str, object]) -> Calibration:
        """Inverse of :meth:`as_dict`."""
        return cls(SigmaScale(float(document["sigma_scale"])),  # type: ignore[arg-type]
                   np.asarray(document["scores"], dtype=np.float64), int(document["samples"]))  # type: ignore[call-overload]
