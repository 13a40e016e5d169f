"""Accuracy and error–uncertainty ranking as functions of the number of passes (M samples or K members)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mofgap.study.samples import SampleSet
from mofgap.uq import metrics

SAMPLE_COUNTS = (1, 2, 4, 8, 16, 32, 64, 128)
"""M values of the protocol's ρ-versus-M curve."""


def curve(samples: SampleSet, counts: Sequence[int]) -> dict[str, list[Any]]:
    """MAE and Spearman ρ(σ, |error|) (total and epistemic σ) using the first m passes, per m in ``counts``.

    Counts above the number of stored passes are left out; ρ of a constant σ is ``None``.
    """
    result: dict[str, list[Any]] = {"count": [], "mae": [], "spearman_total": [], "spearman_epistemic": []}
    for count in (c for c in counts if c <= samples.means.shape[0]):
        table = samples.table(count)
        mu = table["gap_eV"].to_numpy()
        abs_error = np.abs(samples.y - mu)
        result["count"].append(count)
        result["mae"].append(metrics.mae(samples.y, mu))
        result["spearman_total"].append(metrics.spearman_or_none(table["sigma_eV"].to_numpy(), abs_error))
        result["spearman_epistemic"].append(metrics.spearman_or_none(table["sigma_epistemic_eV"].to_numpy(), abs_error))
    return result


def across_seeds(curves: Sequence[dict[str, list[Any]]], key: str) -> dict[str, list[Any]]:
    """Mean and std (ddof 1; 0 for one seed) of ``key`` over seeds, at the counts all seeds share
    (``None`` where no seed has a value, e.g. the epistemic ρ of one pass)."""
    shared = sorted(set.intersection(*(set(c["count"]) for c in curves)))
    mean, std = [], []
    for count in shared:
        values = [c[key][c["count"].index(count)] for c in curves]
        values = [v for v in values if v is not None]
        mean.append(float(np.mean(values)) if values else None)
        std.append(float(np.std(values, ddof=1)) if len(values) > 1 else (0.0 if values else None))
    return {"count": shared, "mean": mean, "std": std}
