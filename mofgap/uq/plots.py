"""Figures of the uncertainty analysis (matplotlib, Agg), each saved as ``STEM.png`` and ``STEM.svg``.

Gaps, errors and σ are in eV. Every function takes plain arrays or the ``curves`` dicts written by
:func:`mofgap.uq.evaluate.evaluate`, so figures can be redrawn from committed JSON without the models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from mofgap.utils.atomic import atomic_write

FORMATS = ("png", "svg")


def save_figure(figure: Figure, stem: str | Path) -> list[Path]:
    """Write ``stem.png`` (150 dpi) and ``stem.svg`` atomically and close the figure.

    Both files are byte-reproducible: no creation date, and the SVG's element ids are hashed with a
    fixed salt, so redrawing a figure from the same numbers changes nothing under version control.
    """
    paths = []
    for fmt in FORMATS:
        path = Path(f"{stem}.{fmt}")
        metadata = {"Date": None} if fmt == "svg" else None
        with matplotlib.rc_context({"svg.hashsalt": "mofgap"}):
            atomic_write(path, lambda stream, fmt=fmt, metadata=metadata: figure.savefig(
                stream, format=fmt, dpi=150, bbox_inches="tight", metadata=metadata))
        paths.append(path)
    plt.close(figure)
    return paths


def parity(y: np.ndarray, mu: np.ndarray, sigma: np.ndarray, stem: str | Path, title: str = "") -> list[Path]:
    """Predicted vs DFT gap with ±σ error bars, coloured by σ (the points are rasterized inside the SVG)."""
    figure, axes = plt.subplots(figsize=(4.6, 4.2))
    axes.errorbar(y, mu, yerr=sigma, fmt="none", ecolor="0.6", elinewidth=0.5, alpha=0.4, zorder=1, rasterized=True)
    points = axes.scatter(y, mu, c=sigma, s=6, cmap="viridis", zorder=2, rasterized=True)
    high = float(max(np.max(y), np.max(mu))) * 1.05
    axes.plot([0, high], [0, high], color="k", lw=0.8)
    axes.set(xlim=(0, high), ylim=(0, high), xlabel="DFT (PBE) band gap / eV", ylabel="predicted band gap / eV",
             title=title)
    figure.colorbar(points, ax=axes, label="σ / eV")
    return save_figure(figure, stem)


def calibration_curves(curves: Mapping[str, Mapping[str, Sequence[float]]], stem: str | Path) -> list[Path]:
    """Observed vs expected proportion inside central Gaussian intervals, one line per entry."""
    figure, axes = plt.subplots(figsize=(4.2, 4.2))
    axes.plot([0, 1], [0, 1], color="k", lw=0.8, ls="--", label="ideal")
    for name, curve in curves.items():
        axes.plot(curve["expected_proportion"], curve["observed_proportion"], label=name)
    axes.set(xlim=(0, 1), ylim=(0, 1), xlabel="expected proportion in interval",
             ylabel="observed proportion in interval")
    axes.legend(fontsize=7)
    return save_figure(figure, stem)


def binned_errors(curves: Mapping[str, Mapping[str, Sequence[float]]], stem: str | Path) -> list[Path]:
    """RMSE vs root mean variance in equal-count σ bins (on the diagonal when calibrated)."""
    figure, axes = plt.subplots(figsize=(4.2, 4.2))
    high = max(max(max(c["bin_rmv"]), max(c["bin_rmse"])) for c in curves.values()) * 1.05
    axes.plot([0, high], [0, high], color="k", lw=0.8, ls="--", label="ideal")
    for name, curve in curves.items():
        axes.plot(curve["bin_rmv"], curve["bin_rmse"], marker="o", ms=3, label=name)
    axes.set(xlim=(0, high), ylim=(0, high), xlabel="RMV (binned σ) / eV", ylabel="RMSE in bin / eV")
    axes.legend(fontsize=7)
    return save_figure(figure, stem)


def sparsification(curves: Mapping[str, Mapping[str, Sequence[float]]], stem: str | Path) -> list[Path]:
    """MAE of the kept points vs the fraction removed by σ (solid) and by |error| (oracle, dotted)."""
    figure, axes = plt.subplots(figsize=(4.8, 4.0))
    for index, (name, curve) in enumerate(curves.items()):
        color = f"C{index}"
        axes.plot(curve["removed_fraction"], curve["sparsification_mae"], color=color, label=name)
        axes.plot(curve["removed_fraction"], curve["oracle_mae"], color=color, ls=":", lw=0.8)
    axes.set(xlim=(0, 1), ylim=(0, None), xlabel="fraction removed (most uncertain first)",
             ylabel="MAE of the rest / eV", title="sparsification (dotted: oracle)")
    axes.legend(fontsize=7)
    return save_figure(figure, stem)


def metric_vs_count(
    series: Mapping[str, Mapping[str, Any]], stem: str | Path, *, xlabel: str, ylabel: str, log_x: bool = True
) -> list[Path]:
    """A metric (mean ± std over seeds) against a count such as samples M or members K.

    ``series[name]`` holds ``count``, ``mean`` and ``std`` lists of equal length (``None``: no value).
    """
    figure, axes = plt.subplots(figsize=(4.8, 3.8))
    for name, values in series.items():
        mean, std = (np.array([np.nan if v is None else v for v in values[k]], dtype=float) for k in ("mean", "std"))
        axes.errorbar(values["count"], mean, yerr=std, marker="o", ms=3, capsize=2, label=name)
    if log_x:
        axes.set_xscale("log", base=2)
    axes.set(xlabel=xlabel, ylabel=ylabel)
    axes.legend(fontsize=7)
    return save_figure(figure, stem)


def bars(values: Mapping[str, tuple[float, float]], stem: str | Path, *, ylabel: str) -> list[Path]:
    """One bar per method: mean with a ±std error bar."""
    figure, axes = plt.subplots(figsize=(0.9 * len(values) + 1.5, 3.6))
    names = list(values)
    axes.bar(names, [values[n][0] for n in names], yerr=[values[n][1] for n in names], capsize=3, color="C0")
    axes.set(ylabel=ylabel)
    axes.tick_params(axis="x", labelrotation=30)
    return save_figure(figure, stem)
