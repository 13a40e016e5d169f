"""Put adapters into any ``nn.Module`` by name, and act on all of them at once.

``target_modules`` is either a regular expression that must match a module's full name
(``re.fullmatch``), or a list of exact names or name suffixes (``"query"`` matches
``"backbone.blocks.0.query"``), as in PEFT. Only ``nn.Linear`` modules are adapted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

import torch
from torch import Tensor, nn

from mofgap.adapters.balora import BaLoRALinear
from mofgap.adapters.lora import LoRALinear

TargetModules = str | Sequence[str]


def name_matches(name: str, target_modules: TargetModules) -> bool:
    """Whether a module name is selected by ``target_modules``."""
    if isinstance(target_modules, str):
        return re.fullmatch(target_modules, name) is not None
    return any(name == target or name.endswith(f".{target}") for target in target_modules)


def adapter_layers(model: nn.Module) -> Iterator[tuple[str, LoRALinear]]:
    """Every adapted layer of ``model`` with its name."""
    for name, module in model.named_modules():
        if isinstance(module, LoRALinear):
            yield name, module


def inject_adapters(
    model: nn.Module, target_modules: TargetModules, make: Callable[[str, nn.Linear], LoRALinear]
) -> list[str]:
    """Replace every matching ``nn.Linear`` by ``make(name, layer)``; return the names replaced.

    Linear layers inside existing adapters are never matched. Raises ``ValueError`` if nothing matches.
    """
    inside_adapters = {f"{name}." for name, _ in adapter_layers(model)}
    names = [
        name
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear)
        and not any(name.startswith(prefix) for prefix in inside_adapters)
        and name_matches(name, target_modules)
    ]
    if not names:
        raise ValueError(f"target_modules={target_modules!r} matches no nn.Linear of the model")
    for name in names:
        parent_name, _, attribute = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, attribute, make(name, getattr(parent, attribute)))
    return names


def set_stochastic(model: nn.Module, stochastic: bool) -> None:
    """Switch every BaLoRA layer between sampling (``True``) and its mean path (``False``)."""
    for _, layer in adapter_layers(model):
        if isinstance(layer, BaLoRALinear):
            layer.stochastic = stochastic


def total_kl(model: nn.Module) -> Tensor:
    """Sum of the KL terms of every BaLoRA layer from the last stochastic forward pass (0 if none)."""
    terms = [layer.last_kl for _, layer in adapter_layers(model)
             if isinstance(layer, BaLoRALinear) and layer.last_kl is not None]
    return torch.stack(terms).sum() if terms else torch.zeros(())


def merge_adapters(model: nn.Module) -> None:
    """Fold every adapter's (mean) update into its frozen layer."""
    for _, layer in adapter_layers(model):
        layer.merge()


def unmerge_adapters(model: nn.Module) -> None:
    """Undo :func:`merge_adapters`."""
    for _, layer in adapter_layers(model):
        layer.unmerge()
