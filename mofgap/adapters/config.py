"""Adapter configuration and the one call that puts adapters into a model."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from torch import nn

from mofgap.adapters.balora import AlphaEncoder, BaLoRAConfig, BaLoRALinear
from mofgap.adapters.inject import TargetModules, inject_adapters, name_matches
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
        stochastic_modules: the targets that get the stochastic adapter (BaLoRA or MC-dropout); the
            other targets get plain LoRA. ``None``: every target. Putting the noise only in the top
            layers lets M-sample prediction run everything below them once.
        balora: BaLoRA's variant (``method="balora"`` only).
    """

    method: Method = "balora"
    rank: int = 8
    lora_alpha: float = 16.0
    target_modules: TargetModules = DEFAULT_TARGETS
    dropout: float = 0.0
    stochastic_modules: TargetModules | None = None
    balora: BaLoRAConfig = field(default_factory=BaLoRAConfig)

    def as_dict(self) -> dict[str, object]:
        """Plain dictionary (JSON-ready)."""
        out = asdict(self)
        for key in ("target_modules", "stochastic_modules"):
            if out[key] is not None and not isinstance(out[key], str):
                out[key] = list(out[key])
        return out

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> AdapterConfig:
        """Inverse of :meth:`as_dict`."""
        values = dict(data)
        values["balora"] = BaLoRAConfig(**values["balora"])  # type: ignore[arg-type]
        for key in ("target_modules", "stochastic_modules"):
            if isinstance(values.get(key), list):
                values[key] = tuple(values[key])  # type: ignore[arg-type]
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
        stochastic = config.stochastic_modules is None or name_matches(name, config.stochastic_modules)
        if config.method == "balora" and stochastic:
            adapter: LoRALinear = BaLoRALinear(
                layer, rank=config.rank, lora_alpha=config.lora_alpha, config=config.balora,
                alpha_encoder=shared, owns_encoder=shared is None or not made,
            )
            made.append(adapter)
            if config.dropout:
                adapter.dropout = config.dropout
            return adapter
        return LoRALinear(
            layer, rank=config.rank, lora_alpha=config.lora_alpha, dropout=config.dropout if stochastic else 0.0,
            mc_dropout=config.method == "mcdropout" and stochastic,
        )

    return inject_adapters(model, config.target_modules, make)
