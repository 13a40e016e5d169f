"""Bookkeeping shared by the epoch loops: resume, early stopping, best weights, checkpoints, metrics CSV."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor

from mofgap.train.checkpoint import load_checkpoint, save_checkpoint
from mofgap.train.metrics_log import write_metrics_csv


@dataclass
class RunState:
    """History, best epoch (lowest ``score``) and wall time of a run, saved in every checkpoint.

    Attributes:
        run_dir: the run's folder (``checkpoint.pt``, ``metrics.csv``).
        config: the run's settings; a checkpoint made with other settings is refused (the device may
            differ: a run may resume on another device, and each process of a distributed run has its own).
        history: one metrics dict per finished epoch.
        best: ``{"score", "epoch", "state"}`` of the best epoch so far (``state``: weights to restore).
        elapsed: seconds spent in finished epochs, earlier runs included.
        restored: the checkpoint read at start (model and optimizer states to restore), or ``None``.
        writes: whether this process writes the checkpoint and metrics (rank 0 of a distributed run).
    """

    run_dir: Path
    config: dict[str, Any]
    history: list[dict[str, float]]
    best: dict[str, Any]
    elapsed: float
    restored: dict[str, Any] | None
    writes: bool = True

    @classmethod
    def open(cls, run_dir: str | Path, config: dict[str, Any], *, resume: bool, writes: bool = True) -> RunState:
        """Start a run in ``run_dir``, continuing from its checkpoint when ``resume`` and one exists."""
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        checkpoint = load_checkpoint(run_dir) if resume else None
        if checkpoint is None:
            return cls(run_dir, config, [], {"score": math.inf, "epoch": -1, "state": None}, 0.0, None, writes)
        if _without_device(checkpoint["config"]) != _without_device(config):
            raise ValueError(f"{run_dir}: the checkpoint was made with other settings; use a new run folder")
        return cls(run_dir, config, list(checkpoint["history"]), checkpoint["best"],
                   float(checkpoint["train_seconds"]), checkpoint, writes)

    @property
    def next_epoch(self) -> int:
        """The first epoch still to run."""
        return len(self.history)

    def patience_exhausted(self, epoch: int, patience: int) -> bool:
        """Whether more than ``patience`` epochs have passed since the best one."""
        return self.best["epoch"] >= 0 and epoch - int(self.best["epoch"]) > patience

    def finish_epoch(
        self, metrics: dict[str, float], score: float, best_state: Callable[[], dict[str, Tensor]],
        checkpoint: dict[str, Any],
    ) -> None:
        """Record an epoch, keep its weights if it is the best, write the checkpoint and metrics CSV."""
        self.elapsed += metrics["seconds"]
        self.history.append(metrics)
        if score < self.best["score"]:
            self.best = {"score": score, "epoch": int(metrics["epoch"]), "state": best_state()}
        if not self.writes:
            return
        save_checkpoint(self.run_dir, {
            **checkpoint, "config": self.config, "history": self.history, "best": self.best,
            "train_seconds": self.elapsed,
        })
        write_metrics_csv(self.run_dir / "metrics.csv", self.history)

    def best_state(self) -> dict[str, Tensor]:
        """The weights of the best epoch (raises if no epoch ran)."""
        if self.best["state"] is None:
            raise RuntimeError(f"{self.run_dir}: no epoch ran")
        return self.best["state"]


def _without_device(config: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in config.items() if key != "device"}
