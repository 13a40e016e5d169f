"""Adapter configuration and the one call that puts adapters into a model."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from torch import nn

from mofgap.adapters.balora import AlphaEncoder, BaLoRAConfig, BaLoRALinear
from mofgap.adapters.inject import TargetModules, inject_adapters
from mofgap.adapters.lora import LoRALinear

Method = Literal["lora", "balora", "mcdropout"]

DEFAULT_TARGETS = r".*blocks\.\d+\.(query|key|value|output|edge|ffn_in|ffn_out)"
"""Every linear layer of every transformer block of :class:`~mofgap.models.backbone.GraphTransformer`."""

@dataclass(frozen=True)
class AdapterConfig:
    """Which adapters go where.

    Attributes:
        method: ``lora``, ``balora`` or ``mcdropout`` (LoRA with dropout on its input kept at test time).
        rank: r.
        lora_alpha: the update is scaled by ``lora_alpha / rank``.
        target_modules: regular expression (full match) or list of names / name suffixes.
        dropout: dropout on the adapter input (the MC-dropout probability for ``mcdropout``).
        balora: BaLoRA's variant (``method="balora"`` only).
    """

    method: Method = "balora"
    rank: int = 8
    lora_alpha: float = 16.0
    target_modules: TargetModules = DEFAULT_TARGETS
    dropout: float = 0.0
    balora: BaLoRAConfig = field(default_factory=BaLoRAConfig)

    def as_dict(self) -> dict[str, object]:
        """Plain dictionary (JSON-ready)."""
        out = asdict(self)
        if not isinstance(self.target_modules, str):
            out["target_modules"] = list(self.target_modules)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> AdapterConfig:
        """Inverse of :meth:`as_dict`."""
        values = dict(data)
        values["balora"] = BaLoRAConfig(**values["balora"])  # type: ignore[arg-type]
        if isinstance(values["target_modules"], list):
            values["target_modules"] = tuple(values["target_modules"])
        return cls(**values)  # type: ignore[arg-type]


def add_adapters(model: nn.Module, config: AdapterConfig) -> list[str]:
    """Freeze ``model`` and inject adapters as ``config`` says; return the adapted layer names.

    Only the adapters' parameters (``lora_A``, ``lora_B``, BaLoRA's α encoder) are trainable
    afterwards; unfreeze other parts (e.g. a new head) explicitly. A shared α encoder is registered
    in the first adapted layer (so it is saved once) and referred to by the others.
    """
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    shared: AlphaEncoder | None = None
    if config.method == "balora" and config.balora.share_alpha_encoder:
        shared = AlphaEncoder(config.rank, config.balora)
    made: list[LoRALinear] = []

    def make(name: str, layer: nn.Linear) -> LoRALinear:
        if config.method == "balora":
            adapter: LoRALinear = BaLoRALinear(
                layer, rank=config.rank, lora_alpha=config.lora_alpha, config=config.balora,
                alpha_encoder=shared, owns_encoder=shared is None or not made,
            )
            made.append(adapter)
            if config.dropout:
                adapter.dropout = config.dropout
            return adapter
        return LoRALinear(
            layer, rank=config.rank, lora_alpha=config.lora_alpha, dropout=config.dropout,
            mc_dropout=config.method == "mcdropout",
        )

    return inject_adapters(model, config.target_modules, make)
