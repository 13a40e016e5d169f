"""Compare evaluations: group ``metrics.json`` files by name, mean ± std over seeds, markdown and figures."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mofgap.uq import plots

METRICS_FILE = "metrics.json"

TABLE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    # (label, section, key); section "metrics", "epistemic", "calibrated" or "conformal"
    ("MAE (eV)", "metrics", "mae"),
    ("RMSE (eV)", "metrics", "rmse"),
    ("R²", "metrics", "r2"),
    ("Spearman ρ", "metrics", "spearman"),
    ("ρ epistemic σ", "epistemic", "spearman"),
    ("mean epistemic σ (eV)", "epistemic", "sharpness"),
    ("Pearson r", "metrics", "pearson"),
    ("AUSE (eV)", "metrics", "ause"),
    ("miscal. area", "metrics", "miscalibration_area"),
    ("miscal. area (σ-scaled)", "calibrated", "miscalibration_area"),
    ("ENCE", "metrics", "ence"),
    ("cov. 68 %", "metrics", "coverage_68"),
    ("cov. 95 %", "metrics", "coverage_95"),
    ("mean z²", "metrics", "mean_z2"),
    ("NLL", "metrics", "nll"),
    ("NLL (σ-scaled)", "calibrated", "nll"),
    ("CRPS (eV)", "metrics", "crps"),
    ("sharpness (eV)", "metrics", "sharpness"),
    ("conformal 90 % cov.", "conformal", "coverage"),
)


def read_evaluation(folder: str | Path) -> dict[str, Any]:
    """The ``metrics.json`` of an evaluation folder (or the file itself)."""
    path = Path(folder)
    path = path / METRICS_FILE if path.is_dir() else path
    return dict(json.loads(path.read_text()))


def metric_value(evaluation: dict[str, Any], section: str, key: str) -> float | None:
    """One metric of an evaluation, ``None`` if it was not computed."""
    if section == "metrics":
        return evaluation["metrics"].get(key)
    if section == "epistemic":
        return evaluation.get("components", {}).get("epistemic", {}).get(key)
    calibrated = evaluation.get("calibrated")
    if calibrated is None:
        return None
    return (calibrated["conformal"] if section == "conformal" else calibrated["metrics"]).get(key)


def group_by_name(evaluations: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Evaluations grouped by their ``name`` (one entry per seed), in first-seen order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for evaluation in evaluations:
        groups.setdefault(str(evaluation["name"]), []).append(evaluation)
    return groups


def mean_std(values: Sequence[float | None]) -> tuple[float, float] | None:
    """Mean and population-free sample std (ddof = 1, 0 for one value) of the non-missing values."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    return float(np.mean(present)), float(np.std(present, ddof=1)) if len(present) > 1 else 0.0


def format_mean_std(stat: Sequence[float | None] | None, runs: int | None = None, digits: int = 3) -> str:
    """``mean ± std`` over ``runs`` (``None``: several); the mean alone for one run; ``–`` when missing."""
    if stat is None or stat[0] is None or not math.isfinite(stat[0]):
        return "–"
    return f"{stat[0]:.{digits}f} ± {stat[1]:.{digits}f}" if runs != 1 else f"{stat[0]:.{digits}f}"


def summary(groups: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per name and metric: mean, std and the number of seeds."""
    return {
        name: {"seeds": len(runs), **{
            key if section == "metrics" else f"{section}.{key}": stat
            for _, section, key in TABLE_COLUMNS
            if (stat := mean_std([metric_value(run, section, key) for run in runs])) is not None
        }}
        for name, runs in groups.items()
    }


def markdown_table(
    groups: dict[str, list[dict[str, Any]]], columns: Sequence[tuple[str, str, str]] = TABLE_COLUMNS
) -> str:
    """A markdown table: one row per name, mean ± std over its seeds (n = seeds)."""
    header = "| method | n | " + " | ".join(label for label, _, _ in columns) + " |"
    rule = "|" + "---|" * (len(columns) + 2)
    rows = [header, rule]
    for name, runs in groups.items():
        cells = [format_mean_std(mean_std([metric_value(run, section, key) for run in runs]), len(runs))
                 for _, section, key in columns]
        rows.append(f"| {name} | {len(runs)} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def _mean_curves(runs: Sequence[dict[str, Any]], kind: str) -> dict[str, list[float]] | None:
    curves = [run["curves"][kind] for run in runs if kind in run.get("curves", {})]
    if not curves:
        return None
    return {key: np.mean([c[key] for c in curves], axis=0).tolist() for key in curves[0]}


def comparison_figures(groups: dict[str, list[dict[str, Any]]], out_dir: str | Path) -> list[Path]:
    """Calibration, binned-error and sparsification curves (mean over seeds), MAE and ρ bars."""
    out = Path(out_dir)
    raw = {name: c for name, runs in groups.items() if (c := _mean_curves(runs, "raw")) is not None}
    scaled = {f"{name} (σ-scaled)": c for name, runs in groups.items()
              if (c := _mean_curves(runs, "scaled")) is not None}
    paths = plots.calibration_curves(raw | scaled, out / "calibration")
    paths += plots.binned_errors(raw, out / "binned_errors")
    paths += plots.sparsification(raw, out / "sparsification")
    for key, label in (("mae", "test MAE / eV"), ("spearman", "Spearman ρ(σ, |error|)")):
        values = {name: stat for name, runs in groups.items()
                  if (stat := mean_std([run["metrics"].get(key) for run in runs])) is not None}
        paths += plots.bars(values, out / f"{key}_bars", ylabel=label)
    return paths
