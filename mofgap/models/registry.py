"""Named models on disk: save, list and load them strictly.

A model is a folder ``models/<name>/`` with

* ``<part>.safetensors``: the weights (``backbone.safetensors`` for a pretrained backbone),
* ``config.json``: ``kind``, the architecture, ``weights`` (file name → sha256), training
  configuration and metrics, library versions,
* ``README.md``: the model card.

Loading refuses a checksum that differs from ``config.json`` and any missing or unexpected key.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save
from torch import nn

from mofgap._version import __version__
from mofgap.models.backbone import BackboneConfig, GraphTransformer
from mofgap.utils.atomic import atomic_write, atomic_write_bytes
from mofgap.utils.hashing import sha256_file

BACKBONE_WEIGHTS = "backbone.safetensors"
MODEL_MARKERS = ("config.json", "adapter_config.json")
"""A folder holding one of these files is a model: a pretrained backbone or a fine-tuned band-gap model."""


class ModelLoadError(RuntimeError):
    """A model folder is missing, inconsistent, or does not match the code that loads it."""


def models_dir() -> Path:
    """The ``models/`` folder of this mofgap checkout (where the shipped models live)."""
    return Path(__file__).resolve().parents[2] / "models"


def _is_model(folder: Path) -> bool:
    return any((folder / marker).is_file() for marker in MODEL_MARKERS)


def available_models() -> list[str]:
    """Names of the models shipped in :func:`models_dir` (backbones and band-gap models)."""
    folder = models_dir()
    return sorted(p.name for p in folder.iterdir() if _is_model(p)) if folder.is_dir() else []


def resolve_model_dir(name_or_path: str | Path) -> Path:
    """A model folder from a shipped model's name or a path to a folder."""
    path = Path(name_or_path)
    if _is_model(path):
        return path
    shipped = models_dir() / str(name_or_path)
    if _is_model(shipped):
        return shipped
    raise ModelLoadError(
        f"no model {str(name_or_path)!r}: not a model folder, nor one of {available_models()}"
    )


def versions() -> dict[str, str]:
    """Versions of mofgap, Python and torch, for configs."""
    return {"mofgap": __version__, "python": platform.python_version(), "torch": torch.__version__}


def save_weights(module: nn.Module, path: Path) -> str:
    """Write a module's state dict as safetensors (atomically); return its sha256."""
    state = {key: value.detach().contiguous().cpu() for key, value in module.state_dict().items()}
    atomic_write(path, lambda stream: stream.write(save(state)))
    return sha256_file(path)


def load_weights(module: nn.Module, path: Path, expected_sha256: str) -> None:
    """Load safetensors weights into ``module`` after checking their sha256; keys must match exactly."""
    if not path.is_file():
        raise ModelLoadError(f"{path}: weights file missing")
    actual = sha256_file(path)
    if actual != expected_sha256:
        raise ModelLoadError(f"{path}: sha256 {actual} does not match config.json ({expected_sha256})")
    state = load_file(str(path))
    expected = set(module.state_dict())
    missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
    if missing or unexpected:
        raise ModelLoadError(f"{path}: missing keys {missing[:5]}, unexpected keys {unexpected[:5]}")
    module.load_state_dict(state, strict=True)


def write_config(folder: Path, config: dict[str, Any]) -> None:
    """Write ``config.json`` atomically."""
    atomic_write_bytes(folder / "config.json", (json.dumps(config, indent=2) + "\n").encode())


def read_config(folder: Path) -> dict[str, Any]:
    """Read a model folder's ``config.json``."""
    try:
        return json.loads((folder / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{folder}: unreadable config.json: {exc}") from exc


def save_backbone(
    backbone: GraphTransformer, folder: str | Path, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Save a pretrained backbone as a model folder; return the config written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    digest = save_weights(backbone, folder / BACKBONE_WEIGHTS)
    config = {
        "kind": "backbone",
        "architecture": {"name": "GraphTransformer", **backbone.config.as_dict()},
        "weights": {BACKBONE_WEIGHTS: digest},
        "versions": versions(),
        **(extra or {}),
    }
    write_config(folder, config)
    return config


def load_backbone(name_or_path: str | Path) -> GraphTransformer:
    """Load a pretrained backbone by shipped name or folder, strictly (keys and sha256)."""
    folder = resolve_model_dir(name_or_path)
    config = read_config(folder)
    if config.get("kind") != "backbone":
        raise ModelLoadError(f"{folder}: kind {config.get('kind')!r} is not a backbone")
    architecture = dict(config["architecture"])
    if architecture.pop("name", None) != "GraphTransformer":
        raise ModelLoadError(f"{folder}: unknown architecture {config['architecture'].get('name')!r}")
    backbone = GraphTransformer(BackboneConfig(**architecture))
    load_weights(backbone, folder / BACKBONE_WEIGHTS, config["weights"][BACKBONE_WEIGHTS])
    return backbone
