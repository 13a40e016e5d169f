"""LoRA on a frozen ``nn.Linear``, with optional (MC-)dropout on the adapter's input.

``y = W0 x + b0 + s · B A dropout(x)`` with ``A ∈ R^{r×d_in}`` (Kaiming-uniform), ``B ∈ R^{d_out×r}``
(zeros, so a new adapter leaves the model unchanged) and ``s = lora_alpha / r``. Only ``lora_A`` and
``lora_B`` train. Names follow PEFT's conventions.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class LoRALinear(nn.Module):
    """A frozen linear layer plus a low-rank update.

    Args:
        base: the layer to adapt (its parameters are frozen).
        rank: r, the adapter's rank.
        lora_alpha: scaling numerator; the update is multiplied by ``lora_alpha / rank``.
        dropout: dropout probability on the adapter's input.
        mc_dropout: keep that dropout active in evaluation mode too (MC-dropout LoRA).
    """

    def __init__(
        self, base: nn.Linear, *, rank: int, lora_alpha: float, dropout: float = 0.0, mc_dropout: bool = False
    ) -> None:
        super().__init__()
        if rank < 1:
            raise ValueError(f"rank must be positive, not {rank}")
        self.base = base
        for parameter in base.parameters():
            parameter.requires_grad_(False)
        self.rank = rank
        self.scaling = lora_alpha / rank
        self.dropout = dropout
        self.mc_dropout = mc_dropout
        factory = {"device": base.weight.device, "dtype": base.weight.dtype}
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_features, **factory))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank, **factory))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.merged = False

    @property
    def in_features(self) -> int:
        return self.base.in_features

    @property
    def out_features(self) -> int:
        return self.base.out_features

    def adapter_input(self, x: Tensor) -> Tensor:
        """The adapter's input: ``x`` after (MC-)dropout."""
        if self.dropout > 0 and (self.training or self.mc_dropout):
            return nn.functional.dropout(x, self.dropout, training=True)
        return x

    def update(self, x: Tensor) -> Tensor:
        """The low-rank update ``s · B A x`` (without the frozen layer)."""
        return self.scaling * (self.adapter_input(x) @ self.lora_A.T) @ self.lora_B.T

    def forward(self, x: Tensor) -> Tensor:
        if self.merged:
            return self.base(x)
        return self.base(x) + self.update(x)

    def delta_weight(self) -> Tensor:
        """``s · B A``: the update as a (d_out, d_in) weight."""
        return self.scaling * self.lora_B @ self.lora_A

    @torch.no_grad()
    def merge(self) -> None:
        """Fold the (mean) update into the frozen weight: outputs stay the same, the adapter costs nothing."""
        if self.merged:
            return
        if self.dropout > 0 and self.mc_dropout:
            raise RuntimeError("an MC-dropout adapter is stochastic at test time and cannot be merged")
        self.base.weight += self.delta_weight()
        self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """Undo :meth:`merge`."""
        if not self.merged:
            return
        self.base.weight -= self.delta_weight()
        self.merged = False

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, rank={self.rank}, "
                f"scaling={self.scaling:g}, dropout={self.dropout}, mc_dropout={self.mc_dropout}")
