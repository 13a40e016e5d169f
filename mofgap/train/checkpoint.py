"""Training checkpoints: written atomically every epoch, read back to resume exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from mofgap.utils.atomic import atomic_write

CHECKPOINT_NAME = "checkpoint.pt"


def save_checkpoint(run_dir: Path, state: dict[str, Any]) -> None:
    """Write ``state`` (tensors, numbers, strings, lists and dicts of them) to ``run_dir/checkpoint.pt``."""
    atomic_write(run_dir / CHECKPOINT_NAME, lambda stream: torch.save(state, stream))


def load_checkpoint(run_dir: Path) -> dict[str, Any] | None:
    """The last checkpoint of a run, or ``None`` if there is none (tensors only: ``weights_only``)."""
    path = run_dir / CHECKPOINT_NAME
    if not path.is_file():
        return None
    return torch.load(path, map_location="cpu", weights_only=True)
