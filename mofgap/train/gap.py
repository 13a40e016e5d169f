"""Band-gap training on top of a backbone: the whole model, or only the head on frozen features.

The loss is the Gaussian negative log-likelihood of the gap under the head's mean and aleatoric σ
(``nll``) or the absolute error of the mean (``l1``). The model kept is the one with the lowest
validation MAE.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from mofgap.models.backbone import GraphTransformer
from mofgap.models.heads import BandGapModel, GapHead, GapPrediction
from mofgap.train.batches import epoch_batches
from mofgap.train.schedule import scheduled_lr

GapLoss = Literal["nll", "l1"]


@dataclass(frozen=True)
class GapTrainConfig:
    """Settings of band-gap training.

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
    """Deterministic predictions for a list of graphs, in order."""
    model.eval()
    means, sigmas = [], []
    for batch in epoch_batches(graphs, batch_size, seed=None):
        out = model(batch)
        means.append(out.mean_eV)
        sigmas.append(out.sigma_eV)
    return GapPrediction(torch.cat(means), torch.cat(sigmas))


def targets(graphs: Sequence[Data]) -> Tensor:
    """The band gaps ``y`` (eV) of a list of graphs."""
    return torch.cat([g.y for g in graphs])


def _fit(
    module: nn.Module,
    predict: Callable[[object], GapPrediction],
    n_train: int,
    batches: Callable[[int], Iterator[tuple[object, Tensor]]],
    validate: Callable[[], float],
    config: GapTrainConfig,
    scale: Tensor,
) -> list[dict[str, float]]:
    """Shared loop: AdamW over ``module``'s trainable parameters, keep the best validation MAE."""
    parameters = [p for p in module.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(n_train / config.batch_size)
    total = steps_per_epoch * config.epochs
    history: list[dict[str, float]] = []
    best_mae, best_state = math.inf, None
    for epoch in range(config.epochs):
        started = time.perf_counter()
        module.train()
        for step, (inputs, target) in enumerate(batches(epoch)):
            for group in optimizer.param_groups:
                group["lr"] = scheduled_lr(epoch * steps_per_epoch + step, total, config.learning_rate,
                                           config.warmup_fraction)
            loss = gap_loss(predict(inputs), target, config.loss, scale)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(parameters, config.grad_clip)
            optimizer.step()
        module.eval()
        val_mae = validate()
        history.append({"epoch": epoch, "val_mae_eV": val_mae, "seconds": time.perf_counter() - started})
        if val_mae < best_mae:
            best_mae, best_state = val_mae, copy.deepcopy(module.state_dict())
    assert best_state is not None
    module.load_state_dict(best_state)
    return history


def fit_gap_model(
    model: BandGapModel, train: Sequence[Data], val: Sequence[Data], config: GapTrainConfig
) -> list[dict[str, float]]:
    """Train every trainable parameter of ``model`` on graphs; returns per-epoch validation MAE (eV)."""
    model.head.target.fit(targets(train))
    scale = model.head.target.std

    def batches(epoch: int) -> Iterator[tuple[object, Tensor]]:
        for batch in epoch_batches(train, config.batch_size, seed=config.seed, epoch=epoch):
            yield batch, batch.y

    def validate() -> float:
        return float((predict_gaps(model, val).mean_eV - targets(val)).abs().mean())

    return _fit(model, model, len(train), batches, validate, config, scale)


@torch.no_grad()
def pooled_features(backbone: GraphTransformer, graphs: Sequence[Data], batch_size: int = 64) -> Tensor:
    """Crystal features (n, d) of a frozen backbone, computed once."""
    backbone.eval()
    return torch.cat([backbone(batch)[1] for batch in epoch_batches(graphs, batch_size, seed=None)])


def fit_gap_head(
    head: GapHead, train_x: Tensor, train_y: Tensor, val_x: Tensor, val_y: Tensor, config: GapTrainConfig
) -> list[dict[str, float]]:
    """Train only a head on precomputed crystal features of a frozen backbone."""
    head.target.fit(train_y)
    scale = head.target.std
    generator = torch.Generator()

    def batches(epoch: int) -> Iterator[tuple[object, Tensor]]:
        generator.manual_seed(config.seed * 100_003 + epoch)
        order = torch.randperm(len(train_y), generator=generator)
        for start in range(0, len(order), config.batch_size):
            index = order[start : start + config.batch_size]
            yield train_x[index], train_y[index]

    def validate() -> float:
        with torch.no_grad():
            return float((head(val_x).mean_eV - val_y).abs().mean())

    return _fit(head, head, len(train_y), batches, validate, config, scale)
