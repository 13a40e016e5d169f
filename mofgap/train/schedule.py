"""Learning-rate schedule and optimizer step shared by every training loop."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch


def scheduled_lr(step: int, total_steps: int, peak: float, warmup_fraction: float) -> float:
    """Linear warm-up to ``peak`` over ``warmup_fraction`` of the steps, then cosine decay to zero.

    It depends on the step only, so a resumed run continues the same schedule.
    """
    warmup = max(1, int(warmup_fraction * total_steps))
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total_steps - warmup)
    return peak * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group."""
    for group in optimizer.param_groups:
        group["lr"] = lr


def optimizer_step(
    optimizer: torch.optim.Optimizer, loss: torch.Tensor | None, parameters: Iterable[torch.Tensor], grad_clip: float,
    reduce: Callable[[list[torch.Tensor]], None] | None = None,
) -> None:
    """Backpropagate ``loss`` (``None``: no local contribution), ``reduce`` the gradients (e.g. sum them
    across processes), clip their global norm to ``grad_clip`` and step."""
    parameters = list(parameters)
    optimizer.zero_grad(set_to_none=True)
    if loss is not None:
        loss.backward()
    if reduce is not None:
        reduce(parameters)
    torch.nn.utils.clip_grad_norm_(parameters, grad_clip)
    optimizer.step()
