"""Band-gap losses and predictions, and training a head alone on a frozen backbone's features.

The loss is the Gaussian negative log-likelihood of the gap under the head's mean and aleatoric σ
(``nll``) or the absolute error of the mean (``l1``). Fine-tuning whole models lives in
:mod:`mofgap.train.finetune`.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor
from torch_geometric.data import Data

from mofgap.adapters.inject import set_stochastic
from mofgap.models.backbone import GraphTransformer
from mofgap.models.heads import BandGapModel, GapHead, GapPrediction
from mofgap.train.batches import epoch_batches
from mofgap.train.schedule import optimizer_step, scheduled_lr, set_learning_rate

GapLoss = Literal["nll", "l1"]


@dataclass(frozen=True)
class GapTrainConfig:
    """Settings of head-only training on frozen features.

    Attributes:
        epochs: passes over the training set.
        batch_size: crystals per step.
        learning_rate: peak AdamW learning rate (linear warm-up, cosine decay to zero).
        weight_decay: AdamW weight decay.
        warmup_fraction: fraction of the steps spent warming up.
        grad_clip: maximum global gradient norm.
        loss: ``nll`` (Gaussian, with the head's σ) or ``l1``.
        seed: seeds the head's initialisation and the batch order.
    """

    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup_fraction: float = 0.03
    grad_clip: float = 1.0
    loss: GapLoss = "nll"
    seed: int = 0


def gap_loss(prediction: GapPrediction, target_eV: Tensor, kind: GapLoss, scale_eV: Tensor) -> Tensor:
    """Mean loss over a batch; errors are measured in units of the training set's gap std ``scale_eV``."""
    error = (prediction.mean_eV - target_eV) / scale_eV
    if kind == "l1":
        return error.abs().mean()
    sigma = prediction.sigma_eV / scale_eV
    return (0.5 * error**2 / sigma**2 + torch.log(sigma)).mean()


@torch.no_grad()
def predict_gaps(model: BandGapModel, graphs: Sequence[Data], batch_size: int = 64) -> GapPrediction:
    """Deterministic predictions (BaLoRA layers on their mean path) for a list of graphs, in order."""
    model.eval()
    set_stochastic(model, False)
    means, sigmas = [], []
    for batch in epoch_batches(graphs, batch_size, seed=None):
        out = model(batch)
        means.append(out.mean_eV)
        sigmas.append(out.sigma_eV)
    return GapPrediction(torch.cat(means), torch.cat(sigmas))


def targets(graphs: Sequence[Data]) -> Tensor:
    """The band gaps ``y`` (eV) of a list of graphs."""
    return torch.cat([g.y for g in graphs])


@torch.no_grad()
def pooled_features(backbone: GraphTransformer, graphs: Sequence[Data], batch_size: int = 64) -> Tensor:
    """Crystal features (n, d) of a frozen backbone, computed once."""
    backbone.eval()
    return torch.cat([backbone(batch)[1] for batch in epoch_batches(graphs, batch_size, seed=None)])


def fit_gap_head(
    head: GapHead, train_x: Tensor, train_y: Tensor, val_x: Tensor, val_y: Tensor, config: GapTrainConfig
) -> list[dict[str, float]]:
    """Train only a head on precomputed crystal features of a frozen backbone; keep the best validation MAE."""
    head.target.fit(train_y)
    scale = head.target.std
    optimizer = torch.optim.AdamW(head.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(train_y) / config.batch_size)
    total = steps_per_epoch * config.epochs
    generator = torch.Generator()
    history: list[dict[str, float]] = []
    best_mae, best_state = math.inf, None
    for epoch in range(config.epochs):
        started = time.perf_counter()
        head.train()
        generator.manual_seed(config.seed * 100_003 + epoch)
        order = torch.randperm(len(train_y), generator=generator)
        for step, start in enumerate(range(0, len(order), config.batch_size)):
            index = order[start : start + config.batch_size]
            lr = scheduled_lr(epoch * steps_per_epoch + step, total, config.learning_rate, config.warmup_fraction)
            set_learning_rate(optimizer, lr)
            loss = gap_loss(head(train_x[index]), train_y[index], config.loss, scale)
            optimizer_step(optimizer, loss, head.parameters(), config.grad_clip)
        head.eval()
        with torch.no_grad():
            val_mae = float((head(val_x).mean_eV - val_y).abs().mean())
        history.append({"epoch": epoch, "val_mae_eV": val_mae, "seconds": time.perf_counter() - started})
        if val_mae < best_mae:
            best_mae, best_state = val_mae, copy.deepcopy(head.state_dict())
    assert best_state is not None
    head.load_state_dict(best_state)
    return history
