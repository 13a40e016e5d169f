"""Learning-rate schedule shared by every training loop."""

from __future__ import annotations

import math


def scheduled_lr(step: int, total_steps: int, peak: float, warmup_fraction: float) -> float:
    """Linear warm-up to ``peak`` over ``warmup_fraction`` of the steps, then cosine decay to zero.

    It depends on the step only, so a resumed run continues the same schedule.
    """
    warmup = max(1, int(warmup_fraction * total_steps))
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total_steps - warmup)
    return peak * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
