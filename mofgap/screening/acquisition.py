"""Acquisition functions: how attractive a candidate is, from its predicted gap μ and σ (eV).

Objectives: ``max`` (large gaps), ``min`` (small gaps; every formula below applies to −μ, −best) and
``window:LO:HI`` (gaps inside [LO, HI]; d(μ) = distance from μ to the window, 0 inside). With Φ, φ the
standard normal CDF and PDF, κ ≥ 0 and the incumbent ``best`` (the best value known so far):

=============  ==================================================  ===========================================
acquisition    max objective                                      window objective
=============  ==================================================  ===========================================
greedy         μ                                                  −d(μ)
ucb            μ + κσ (optimistic)                                 −max(0, d(μ) − κσ)
lcb            μ − κσ (conservative)                               −(d(μ) + κσ)
ei             σ[zΦ(z) + φ(z)], z = (μ − best)/σ                   (not defined; use window-prob)
pi             Φ((μ − best)/σ)                                    (not defined; use window-prob)
window-prob    (window only)                                      Φ((HI − μ)/σ) − Φ((LO − μ)/σ)
max-sigma      σ (pure exploration)                               σ
=============  ==================================================  ===========================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

Acquisition = Literal["greedy", "ucb", "lcb", "ei", "pi", "window-prob", "max-sigma"]
ACQUISITIONS: tuple[str, ...] = ("greedy", "ucb", "lcb", "ei", "pi", "window-prob", "max-sigma")


@dataclass(frozen=True)
class Objective:
    """What a good candidate is: ``kind`` max, min or window; ``low``/``high`` bound the window (eV)."""

    kind: Literal["max", "min", "window"]
    low: float = float("nan")
    high: float = float("nan")

    @classmethod
    def parse(cls, text: str) -> Objective:
        """``max``, ``min`` or ``window:LO:HI`` (eV)."""
        if text in ("max", "min"):
            return cls(text)  # type: ignore[arg-type]
        parts = text.split(":")
        if len(parts) == 3 and parts[0] == "window":
            try:
                low, high = float(parts[1]), float(parts[2])
            except ValueError:
                low = high = float("nan")
            if low < high:
                return cls("window", low, high)
        raise ValueError(f"objective must be max, min or window:LO:HI with LO < HI (eV), got {text!r}")

    def distance(self, mu: np.ndarray) -> np.ndarray:
        """Distance from μ to the window (0 inside), eV."""
        return np.maximum(0.0, np.maximum(self.low - mu, mu - self.high))

    def hits(self, y: np.ndarray) -> np.ndarray:
        """Which true gaps satisfy a window objective."""
        return (y >= self.low) & (y <= self.high)


def acquisition_parts(
    acquisition: str, objective: Objective, mu: np.ndarray, sigma: np.ndarray, *, kappa: float = 2.0,
    best: float | None = None,
) -> dict[str, np.ndarray]:
    """The score (higher is better) and the terms it is made of, per candidate.

    Args:
        acquisition: one of :data:`ACQUISITIONS`.
        objective: what is sought.
        mu: predicted gaps (eV).
        sigma: predicted σ (eV, > 0 for ei/pi/window-prob).
        kappa: exploration weight of ucb/lcb.
        best: incumbent for ei/pi (default: the best μ among the candidates).
    """
    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    if acquisition not in ACQUISITIONS:
        raise ValueError(f"unknown acquisition {acquisition!r}; choose from {', '.join(ACQUISITIONS)}")
    if acquisition == "max-sigma":
        return {"score": sigma, "sigma": sigma}
    if objective.kind == "window":
        return _window_parts(acquisition, objective, mu, sigma, kappa)
    sign = 1.0 if objective.kind == "max" else -1.0
    signed = sign * mu
    if acquisition == "greedy":
        return {"score": signed, "exploit": signed}
    if acquisition in ("ucb", "lcb"):
        explore = (kappa if acquisition == "ucb" else -kappa) * sigma
        return {"score": signed + explore, "exploit": signed, "explore": explore}
    if acquisition == "window-prob":
        raise ValueError("window-prob needs a window objective (window:LO:HI)")
    incumbent = float(np.max(signed)) if best is None else sign * best
    z = (signed - incumbent) / sigma
    if acquisition == "pi":
        return {"score": stats.norm.cdf(z), "z": z}
    improvement = sigma * (z * stats.norm.cdf(z) + stats.norm.pdf(z))
    return {"score": improvement, "z": z, "exploit": (signed - incumbent) * stats.norm.cdf(z),
            "explore": sigma * stats.norm.pdf(z)}


def _window_parts(acquisition: str, objective: Objective, mu: np.ndarray, sigma: np.ndarray,
                  kappa: float) -> dict[str, np.ndarray]:
    distance = objective.distance(mu)
    if acquisition == "greedy":
        return {"score": -distance, "distance": distance}
    if acquisition == "ucb":
        return {"score": -np.maximum(0.0, distance - kappa * sigma), "distance": distance, "explore": kappa * sigma}
    if acquisition == "lcb":
        return {"score": -(distance + kappa * sigma), "distance": distance, "explore": -kappa * sigma}
    if acquisition == "window-prob":
        probability = stats.norm.cdf((objective.high - mu) / sigma) - stats.norm.cdf((objective.low - mu) / sigma)
        return {"score": probability, "probability": probability}
    raise ValueError(f"{acquisition} is not defined for a window objective; use window-prob")
