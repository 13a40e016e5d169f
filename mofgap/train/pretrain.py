"""Multi-task pretraining of the backbone on DFT properties (never the band gap).

Targets: per-atom PBE properties from the QMOF CIFs (DDEC and CM5 charges, DDEC bond-order sum,
magnetic moment) and the crystal's energy above hull, each standardised on the training structures;
the loss is the mean absolute error in standard units, masked where a target is missing. Early
stopping watches a held-out part of the *training* split. A checkpoint is written after every epoch
and a run resumes from it exactly: batch order depends only on (seed, epoch), and the learning rate
only on the step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from mofgap.data.atom_targets import PBE_ATOM_TARGETS
from mofgap.models.backbone import BackboneConfig, GraphTransformer
from mofgap.models.heads import PretrainModel
from mofgap.train.batches import epoch_batches
from mofgap.train.distributed import Distributed
from mofgap.train.run_state import RunState
from mofgap.train.schedule import optimizer_step, scheduled_lr, set_learning_rate

CRYSTAL_TARGET = "ehull_eV_per_atom"


@dataclass(frozen=True)
class PretrainConfig:
    """Settings of a pretraining run.

    Attributes:
        epochs: maximum number of passes over the training structures.
        batch_size: crystals per step.
        learning_rate: peak AdamW learning rate (after a linear warm-up, then cosine decay to 0).
        weight_decay: AdamW weight decay.
        warmup_fraction: fraction of all steps spent warming up.
        grad_clip: maximum global gradient norm.
        holdout_fraction: fraction of the training split held out for early stopping.
        patience: epochs without holdout improvement before stopping.
        seed: seeds initialisation, hold-out choice and batch order.
        atom_targets: per-atom CIF columns used as targets.
        crystal_weight: weight of the energy-above-hull loss relative to the per-atom loss.
        device: ``cpu`` or ``cuda``.
        bf16: bfloat16 autocast (mostly for CUDA).
        backbone: the backbone's hyperparameters.
    """

    epochs: int = 24
    batch_size: int = 32
    learning_rate: float = 2e-3
    weight_decay: float = 0.01
    warmup_fraction: float = 0.03
    grad_clip: float = 1.0
    holdout_fraction: float = 0.1
    patience: int = 4
    seed: int = 0
    atom_targets: tuple[str, ...] = PBE_ATOM_TARGETS
    crystal_weight: float = 1.0
    device: str = "cpu"
    bf16: bool = False
    backbone: BackboneConfig = field(default_factory=BackboneConfig)

    def as_dict(self) -> dict[str, Any]:
        """Plain dictionary of the settings (the backbone's nested)."""
        out = asdict(self)
        out["atom_targets"] = list(self.atom_targets)
        return out


@dataclass
class PretrainResult:
    """Outcome of :func:`pretrain`: the best backbone (by holdout loss) and its record.

    Attributes:
        backbone: the backbone at the best holdout epoch.
        best_epoch: that epoch (0-based).
        holdout_mae: per-target holdout MAE at the best epoch, in the targets' units.
        history: one dict per epoch (losses, per-target MAE, seconds).
        train_seconds: wall time of all epochs run (including earlier runs resumed from).
    """

    backbone: GraphTransformer
    best_epoch: int
    holdout_mae: dict[str, float]
    history: list[dict[str, float]]
    train_seconds: float


def holdout_split(ids: Sequence[str], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices of (kept, held-out) items: a seeded random ``fraction`` held out."""
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(ids), generator=generator).tolist()
    n_holdout = max(1, round(fraction * len(ids)))
    return sorted(order[n_holdout:]), sorted(order[:n_holdout])


CountTotal = Callable[[Tensor], Tensor]
"""Turns this process's per-column target counts into the global batch's (identity in one process)."""


def _masked_l1(prediction: Tensor, target: Tensor, total: CountTotal | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """Per-column sums of |error| over finite targets, their counts, and the mean loss over columns.

    With ``total``, each column's sum is divided by the global batch's count, so the losses of the
    processes add up to the global batch's loss.
    """
    finite = torch.isfinite(target)
    error = torch.where(finite, (prediction - torch.where(finite, target, 0.0)).abs(), 0.0)
    sums, counts = error.sum(0), finite.sum(0)
    divisor = counts if total is None else total(counts)
    present = divisor > 0
    loss = (sums / divisor.clamp(min=1))[present].mean() if bool(present.any()) else error.sum() * 0
    return sums, counts, loss


def _losses(model: PretrainModel, batch: Batch, config: PretrainConfig, total: CountTotal | None = None
            ) -> dict[str, Tensor]:
    device_type = "cuda" if config.device.startswith("cuda") else "cpu"
    with torch.autocast(device_type, dtype=torch.bfloat16, enabled=config.bf16):
        out = model(batch)
    atom_sums, atom_counts, atom_loss = _masked_l1(out.atom.float(), model.atom_target.scale(batch.y_atom), total)
    crystal_sums, crystal_counts, crystal_loss = _masked_l1(
        out.crystal.float(), model.crystal_target.scale(batch.ehull.view(-1, 1)), total
    )
    return {
        "loss": atom_loss + config.crystal_weight * crystal_loss,
        "atom_sums": atom_sums.detach(),
        "atom_counts": atom_counts,
        "crystal_sums": crystal_sums.detach(),
        "crystal_counts": crystal_counts,
    }


@torch.no_grad()
def evaluate(model: PretrainModel, graphs: Sequence[Data], config: PretrainConfig) -> dict[str, float]:
    """Holdout loss and per-target MAE (targets' own units) of a pretraining model."""
    model.eval()
    totals: dict[str, Tensor] = {}
    for batch in epoch_batches(graphs, 2 * config.batch_size, seed=None):
        parts = _losses(model, batch.to(config.device), config)
        for key in ("atom_sums", "atom_counts", "crystal_sums", "crystal_counts"):
            totals[key] = totals.get(key, 0) + parts[key].double()
    atom_mae = totals["atom_sums"] / totals["atom_counts"].clamp(min=1)
    crystal_mae = totals["crystal_sums"] / totals["crystal_counts"].clamp(min=1)
    standard = atom_mae[totals["atom_counts"] > 0].mean() + config.crystal_weight * crystal_mae.sum()
    metrics = {"holdout_loss": float(standard)}
    for i, name in enumerate(config.atom_targets):
        metrics[f"mae_{name}"] = float(atom_mae[i] * model.atom_target.std[i].double())
    metrics[f"mae_{CRYSTAL_TARGET}"] = float(crystal_mae[0] * model.crystal_target.std[0].double())
    return metrics


def _fit_standardizers(model: PretrainModel, graphs: Sequence[Data]) -> None:
    model.atom_target.fit(torch.cat([g.y_atom for g in graphs]))
    model.crystal_target.fit(torch.cat([g.ehull for g in graphs]))


def pretrain(
    train_graphs: Sequence[Data],
    holdout_graphs: Sequence[Data],
    config: PretrainConfig,
    run_dir: str | Path,
    *,
    resume: bool = True,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
    distributed: Distributed | None = None,
) -> PretrainResult:
    """Pretrain a backbone; checkpoints go to ``run_dir`` after every epoch.

    Args:
        train_graphs: graphs with ``y_atom`` (N, T) and ``ehull`` (1,) (NaN where missing).
        holdout_graphs: the same, held out from training, for early stopping.
        config: run settings.
        run_dir: folder for ``checkpoint.pt`` and ``metrics.csv``.
        resume: continue from ``run_dir/checkpoint.pt`` when present (otherwise start over).
        on_epoch: called with each epoch's metrics.
        distributed: several processes, each training on its share of every global batch
            (:mod:`mofgap.train.distributed`); rank 0 writes the files.
    """
    distributed = distributed or Distributed()
    torch.manual_seed(config.seed)
    model = PretrainModel(GraphTransformer(config.backbone), len(config.atom_targets))
    _fit_standardizers(model, train_graphs)
    model.to(config.device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(train_graphs) / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    run = RunState.open(run_dir, config.as_dict(), resume=resume, writes=distributed.is_main)
    if run.restored is not None:
        model.load_state_dict(run.restored["model"])
        optimizer.load_state_dict(run.restored["optimizer"])

    for epoch in range(run.next_epoch, config.epochs):
        if run.patience_exhausted(epoch, config.patience):
            break
        started = time.perf_counter()
        model.train()
        running, count = 0.0, 0
        batches = distributed.batches(train_graphs, config.batch_size, seed=config.seed, epoch=epoch)
        for step, (batch, global_size) in enumerate(batches):
            lr = scheduled_lr(epoch * steps_per_epoch + step, total_steps, config.learning_rate, config.warmup_fraction)
            set_learning_rate(optimizer, lr)
            loss = None
            if batch is not None:  # a process's losses add up to the global batch's (counts are global)
                loss = _losses(model, batch.to(config.device), config, distributed.total)["loss"]
                running += float(loss.detach()) * global_size
            else:  # no graph here: still take part in the count totals
                distributed.total(torch.zeros(len(config.atom_targets), dtype=torch.long))
                distributed.total(torch.zeros(1, dtype=torch.long))
            count += global_size
            optimizer_step(optimizer, loss, model.parameters(), config.grad_clip, distributed.sum_gradients)
        running = distributed.sum([running])[0]
        holdout = evaluate(model, holdout_graphs, config)  # rank 0's: every process stops at the same epoch
        holdout = dict(zip(holdout, distributed.from_main(list(holdout.values())), strict=True))
        metrics = {"epoch": float(epoch), "train_loss": running / count, **holdout}
        metrics["seconds"] = time.perf_counter() - started
        run.finish_epoch(
            metrics, metrics["holdout_loss"],
            lambda: {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
            {"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict()},
        )
        if on_epoch is not None:
            on_epoch(metrics)

    model.load_state_dict(run.best_state())
    best_epoch = int(run.best["epoch"])
    holdout_mae = {k.removeprefix("mae_"): v for k, v in run.history[best_epoch].items() if k.startswith("mae_")}
    return PretrainResult(model.backbone.cpu(), best_epoch, holdout_mae, run.history, run.elapsed)
