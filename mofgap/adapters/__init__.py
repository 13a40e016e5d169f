"""Adapters: LoRA, BaLoRA and MC-dropout LoRA, injected into any module by name."""

from mofgap.adapters.balora import AlphaEncoder, BaLoRAConfig, BaLoRALinear, kl_per_weight
from mofgap.adapters.config import DEFAULT_TARGETS, AdapterConfig, add_adapters
from mofgap.adapters.inject import (
    adapter_layers,
    inject_adapters,
    merge_adapters,
    set_stochastic,
    total_kl,
    unmerge_adapters,
)
from mofgap.adapters.lora import LoRALinear

__all__ = [
    "DEFAULT_TARGETS",
    "AdapterConfig",
    "AlphaEncoder",
    "BaLoRAConfig",
    "BaLoRALinear",
    "LoRALinear",
    "adapter_layers",
    "add_adapters",
    "inject_adapters",
    "kl_per_weight",
    "merge_adapters",
    "set_stochastic",
    "total_kl",
    "unmerge_adapters",
]
