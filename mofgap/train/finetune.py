"""Band-gap fine-tuning of a pretrained backbone: full fine-tuning, LoRA, BaLoRA or MC-dropout LoRA.

The objective is the data loss (Gaussian NLL with the head's aleatoric σ, or L1) plus, for BaLoRA,
``β(t) · KL / N_train`` with β rising linearly from 0 to ``kl_weight`` over the first
``kl_warmup_epochs`` epochs (an ELBO with one noise sample per step). AdamW with a warm-up + cosine
schedule, gradient clipping, early stopping on the validation MAE, a checkpoint after every epoch
(trainable weights, optimizer, RNG state, history, best weights) from which a run resumes exactly,
and a per-epoch metrics CSV. When the adapters sit only in the top blocks, the frozen lower blocks
run once (:mod:`mofgap.train.prefix_cache`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor
from torch_geometric.data import Data

from mofgap.adapters import AdapterConfig, add_adapters, set_stochastic, total_kl
from mofgap.adapters.io import adapter_state_dict
from mofgap.models import BandGapModel, GraphTransformer
from mofgap.models.sampling import first_adapted_block
from mofgap.train.distributed import Distributed
from mofgap.train.gap import GapLoss, gap_loss, predict_gaps, targets
from mofgap.train.prefix_cache import with_frozen_prefix
from mofgap.train.run_state import RunState
from mofgap.train.schedule import optimizer_step, scheduled_lr, set_learning_rate
from mofgap.utils.progress import progress_bar

Method = Literal["ft", "lora", "balora", "mcdropout"]


@dataclass(frozen=True)
class FinetuneConfig:
    """Settings of a fine-tuning run.

    Attributes:
        method: ``ft`` (every parameter), ``lora``, ``balora`` or ``mcdropout``.
        adapter: the adapters (rank, targets, BaLoRA variant); its ``method`` is set from ``method``.
        epochs: maximum passes over the training set.
        batch_size: crystals per step.
        learning_rate: peak AdamW learning rate.
        weight_decay: AdamW weight decay.
        warmup_fraction: fraction of the steps spent warming the learning rate up.
        grad_clip: maximum global gradient norm.
        loss: ``nll`` or ``l1``.
        kl_weight: final β of the KL term (BaLoRA).
        kl_warmup_epochs: epochs over which β rises linearly from 0.
        patience: epochs without a better validation MAE before stopping.
        seed: seeds the head, the adapters, the batch order and the noise.
        device: ``cpu`` or ``cuda``.
    """

    method: Method = "balora"
    adapter: AdapterConfig = field(default_factory=AdapterConfig)
    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 2e-3
    weight_decay: float = 0.01
    warmup_fraction: float = 0.03
    grad_clip: float = 1.0
    loss: GapLoss = "nll"
    kl_weight: float = 1.0
    kl_warmup_epochs: int = 5
    patience: int = 8
    seed: int = 0
    device: str = "cpu"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready settings."""
        out = asdict(self)
        out["adapter"] = self.adapter.as_dict()
        return out


@dataclass
class FinetuneResult:
    """The fine-tuned model (best validation epoch) and the run's record."""

    model: BandGapModel
    best_epoch: int
    best_val_mae_eV: float
    history: list[dict[str, float]]
    train_seconds: float


def build_model(backbone: GraphTransformer, config: FinetuneConfig) -> BandGapModel:
    """A band-gap model on ``backbone`` with a fresh head and, unless ``ft``, the configured adapters."""
    torch.manual_seed(config.seed)
    model = BandGapModel(backbone)
    if config.method != "ft":
        add_adapters(model.backbone, AdapterConfig(**{**config.adapter.__dict__, "method": config.method}))
    for parameter in model.head.parameters():
        parameter.requires_grad_(True)
    return model


def trainable_state(model: BandGapModel, method: Method) -> dict[str, Tensor]:
    """What a checkpoint keeps: the whole model for ``ft``, otherwise adapters and head."""
    if method == "ft":
        return {k: v.detach().clone() for k, v in model.state_dict().items()}
    return adapter_state_dict(model)


def _load_trainable(model: BandGapModel, state: dict[str, Tensor]) -> None:
    unexpected = model.load_state_dict(state, strict=False).unexpected_keys
    if unexpected:
        raise ValueError(f"checkpoint holds keys the model lacks: {unexpected[:5]}")


def kl_beta(epoch: int, step_fraction: float, config: FinetuneConfig) -> float:
    """β of the KL term at a point of training (linear warm-up over ``kl_warmup_epochs``)."""
    if config.kl_warmup_epochs <= 0:
        return config.kl_weight
    return config.kl_weight * min(1.0, (epoch + step_fraction) / config.kl_warmup_epochs)


def finetune(
    model: BandGapModel,
    train: Sequence[Data],
    val: Sequence[Data],
    config: FinetuneConfig,
    run_dir: str | Path,
    *,
    resume: bool = True,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
    progress: bool = False,
    distributed: Distributed | None = None,
) -> FinetuneResult:
    """Fine-tune ``model`` (from :func:`build_model`) on graphs with ``y`` (eV); see the module docstring.

    ``progress`` shows a progress bar over each epoch's batches. With ``distributed`` (several
    processes, :mod:`mofgap.train.distributed`) each process trains on its share of every global batch.
    """
    distributed = distributed or Distributed()
    model.head.target.fit(targets(train))
    model.to(config.device)
    if config.method != "ft":  # frozen lower blocks: computed once, reused every epoch
        start_block = first_adapted_block(model.backbone) or 0
        train = with_frozen_prefix(model.backbone, train, start_block)
        val = with_frozen_prefix(model.backbone, val, start_block)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(train) / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    scale = model.head.target.std
    val_y = targets(val).to(config.device)
    run = RunState.open(run_dir, config.as_dict(), resume=resume, writes=distributed.is_main)
    if run.restored is not None:
        _load_trainable(model, run.restored["trainable"])
        optimizer.load_state_dict(run.restored["optimizer"])
        torch.set_rng_state(run.restored["rng"])
    else:
        torch.manual_seed(config.seed)

    for epoch in range(run.next_epoch, config.epochs):
        if run.patience_exhausted(epoch, config.patience):
            break
        started = time.perf_counter()
        model.train()
        set_stochastic(model, True)
        if distributed.active:
            torch.manual_seed(distributed.noise_seed(config.seed, epoch))
        sums = {"loss": 0.0, "kl": 0.0}
        batches = progress_bar(distributed.batches(train, config.batch_size, seed=config.seed, epoch=epoch),
                               total=steps_per_epoch, description=f"epoch {epoch}", enabled=progress, transient=True)
        for step, (batch, global_size) in enumerate(batches):
            lr = scheduled_lr(epoch * steps_per_epoch + step, total_steps, config.learning_rate, config.warmup_fraction)
            set_learning_rate(optimizer, lr)
            loss = None
            if batch is not None:
                batch = batch.to(config.device)
                data_loss = gap_loss(model(batch), batch.y, config.loss, scale)
                kl = total_kl(model).to(data_loss.device)
                beta = kl_beta(epoch, step / steps_per_epoch, config)
                loss = data_loss + beta * kl / len(train)
                if distributed.active:  # this process's share of the global batch's mean
                    loss = loss * (batch.num_graphs / global_size)
                sums["loss"] += float(data_loss.detach()) * batch.num_graphs
                sums["kl"] += float(kl.detach()) * batch.num_graphs
            optimizer_step(optimizer, loss, parameters, config.grad_clip, distributed.sum_gradients)
        sums["loss"], sums["kl"] = distributed.sum([sums["loss"], sums["kl"]])
        prediction = predict_gaps(model, val)
        error = prediction.mean_eV - val_y
        metrics = {
            "epoch": float(epoch),
            "train_data_loss": sums["loss"] / len(train),
            "train_kl": sums["kl"] / len(train),
            **dict(zip(("val_mae_eV", "val_rmse_eV"),  # rank 0's: every process stops at the same epoch
                       distributed.from_main([float(error.abs().mean()), float(error.pow(2).mean().sqrt())]),
                       strict=True)),
            "learning_rate": lr,
            "seconds": time.perf_counter() - started,
        }
        run.finish_epoch(
            metrics, metrics["val_mae_eV"], lambda: trainable_state(model, config.method),
            {"epoch": epoch, "trainable": trainable_state(model, config.method), "optimizer": optimizer.state_dict(),
             "rng": torch.get_rng_state()},
        )
        if on_epoch is not None:
            on_epoch(metrics)

    _load_trainable(model, run.best_state())
    return FinetuneResult(model.cpu(), int(run.best["epoch"]), float(run.best["score"]), run.history, run.elapsed)
