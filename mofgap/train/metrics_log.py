"""Per-epoch metrics as CSV, rewritten atomically after every epoch."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mofgap.utils.atomic import atomic_write_bytes


def write_metrics_csv(path: Path, history: Sequence[dict[str, float]]) -> None:
    """One row per epoch, columns from the first row's keys."""
    names = list(history[0])
    lines = [",".join(names)] + [",".join(f"{row[name]:.6g}" for name in names) for row in history]
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
