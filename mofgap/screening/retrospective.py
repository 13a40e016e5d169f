"""Retrospective screening: with the true gaps hidden, how many hits each strategy finds within B "DFT calls".

A strategy orders the candidates once (from predicted μ and σ); the first B are "computed" and the
hits among them counted. Random selection is given by its expectation B·H/N (H hits among N).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mofgap.screening.acquisition import Objective, acquisition_parts

BUDGETS = (10, 20, 50, 100, 200, 500)


@dataclass(frozen=True)
class Task:
    """A screening target: the objective to rank by, which true gaps count as hits, the incumbent for ei/pi."""

    name: str
    objective: Objective
    hits: np.ndarray
    best: float | None
    strategies: tuple[tuple[str, str, float], ...]  # (label, acquisition, kappa)


def found(order: np.ndarray, hits: np.ndarray, budgets: Sequence[int]) -> list[int]:
    """Hits among the first B of ``order``, per budget B."""
    cumulative = np.cumsum(hits[order])
    return [int(cumulative[min(b, len(order)) - 1]) for b in budgets]


def strategy_order(task: Task, acquisition: str, kappa: float, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Candidates by decreasing score (ties: smaller σ first, then index)."""
    score = acquisition_parts(acquisition, task.objective, mu, sigma, kappa=kappa, best=task.best)["score"]
    return np.lexsort((np.arange(len(mu)), sigma, -score))


def evaluate_task(
    task: Task, predictions: Mapping[str, Sequence[tuple[np.ndarray, np.ndarray]]], budgets: Sequence[int] = BUDGETS
) -> dict[str, Any]:
    """Hits per budget for random selection and for every (model, strategy); mean and std over a model's seeds.

    ``predictions[model]`` holds one (μ, σ) pair per seed, aligned with ``task.hits``.
    """
    n, total = len(task.hits), int(task.hits.sum())
    result: dict[str, Any] = {"n": n, "hits_available": total, "budgets": list(budgets),
                              "random": [min(b, n) * total / n for b in budgets], "strategies": {}}
    for model, seeds in predictions.items():
        for label, acquisition, kappa in task.strategies:
            runs = np.array([found(strategy_order(task, acquisition, kappa, mu, sigma), task.hits, budgets)
                             for mu, sigma in seeds])
            result["strategies"][f"{model} · {label}"] = {
                "mean": runs.mean(0).tolist(), "std": (runs.std(0, ddof=1) if len(runs) > 1 else 0 * runs[0]).tolist(),
                "seeds": len(runs),
            }
    return result


def markdown(results: Mapping[str, dict[str, Any]]) -> str:
    """One table per task: hits found (mean ± std over seeds) per budget."""
    blocks = []
    for name, result in results.items():
        budgets = result["budgets"]
        lines = [f"### {name} ({result['hits_available']} hits among {result['n']})", "",
                 "| strategy | " + " | ".join(f"B = {b}" for b in budgets) + " |",
                 "|---|" + "---|" * len(budgets),
                 "| random (expected) | " + " | ".join(f"{v:.1f}" for v in result["random"]) + " |"]
        for label, values in result["strategies"].items():
            cells = [f"{m:.1f} ± {s:.1f}" if values["seeds"] > 1 else f"{m:.0f}"
                     for m, s in zip(values["mean"], values["std"], strict=True)]
            lines.append(f"| {label} (n = {values['seeds']}) | " + " | ".join(cells) + " |")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
