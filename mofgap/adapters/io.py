"""Adapter-only files: the trained adapter (and head) weights as safetensors, and their configuration.

A fine-tuned model folder holds ``adapter.safetensors`` (the adapters' ``lora_A``/``lora_B``, BaLoRA's α
encoder, and the task head), ``adapter_config.json`` (the :class:`AdapterConfig`, the base backbone's
name and sha256, the weights' sha256, and whatever the trainer adds), never the frozen backbone.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save
from torch import Tensor, nn

from mofgap.adapters.config import AdapterConfig
from mofgap.utils.atomic import atomic_write, atomic_write_bytes
from mofgap.utils.hashing import sha256_file

ADAPTER_WEIGHTS = "adapter.safetensors"
ADAPTER_CONFIG = "adapter_config.json"
_ADAPTER_KEY = re.compile(r"(^|\.)(lora_A|lora_B)$|(^|\.)alpha_encoder\.")


class AdapterLoadError(RuntimeError):
    """An adapter folder does not match the model it is loaded into, or its checksum is wrong."""


def adapter_state_dict(model: nn.Module, extra_prefixes: tuple[str, ...] = ("head.",)) -> dict[str, Tensor]:
    """The adapters' entries of ``model.state_dict()``, plus those under ``extra_prefixes`` (the task head)."""
    return {
        key: value.detach().cpu().contiguous()
        for key, value in model.state_dict().items()
        if _ADAPTER_KEY.search(key) or key.startswith(extra_prefixes)
    }


def save_adapter(model: nn.Module, folder: str | Path, config: AdapterConfig, extra: dict[str, Any]) -> str:
    """Write the adapter weights and ``adapter_config.json`` (atomically); return the weights' sha256."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = adapter_state_dict(model)
    atomic_write(folder / ADAPTER_WEIGHTS, lambda stream: stream.write(save(state)))
    digest = sha256_file(folder / ADAPTER_WEIGHTS)
    document = {"adapter": config.as_dict(), "weights": {ADAPTER_WEIGHTS: digest}, **extra}
    atomic_write_bytes(folder / ADAPTER_CONFIG, (json.dumps(document, indent=2) + "\n").encode())
    return digest


def read_adapter_config(folder: str | Path) -> dict[str, Any]:
    """The parsed ``adapter_config.json`` of a folder."""
    path = Path(folder) / ADAPTER_CONFIG
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise AdapterLoadError(f"{path}: unreadable: {exc}") from exc


def load_adapter_weights(model: nn.Module, folder: str | Path) -> None:
    """Load adapter weights into a model that already carries the same adapters (strict keys, sha256)."""
    folder = Path(folder)
    document = read_adapter_config(folder)
    path = folder / ADAPTER_WEIGHTS
    expected_digest = document["weights"][ADAPTER_WEIGHTS]
    if not path.is_file() or sha256_file(path) != expected_digest:
        raise AdapterLoadError(f"{path}: missing, or its sha256 does not match {ADAPTER_CONFIG}")
    state = load_file(str(path))
    expected = set(adapter_state_dict(model))
    missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
    if missing or unexpected:
        raise AdapterLoadError(f"{path}: missing keys {missing[:5]}, unexpected keys {unexpected[:5]}")
    model.load_state_dict(state, strict=False)
