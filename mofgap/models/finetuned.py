"""Fine-tuned band-gap models on disk: adapter-only folders on a named backbone, or full fine-tunes.

An adapter folder (:mod:`mofgap.adapters.io`) names its base backbone and that backbone's sha256;
loading rebuilds the backbone, checks the sha256, injects the same adapters and loads their weights.
A full fine-tune (``method = "ft"``) stores every weight of the band-gap model instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mofgap.adapters import AdapterConfig, add_adapters, set_stochastic
from mofgap.adapters.io import ADAPTER_CONFIG, load_adapter_weights, read_adapter_config, save_adapter
from mofgap.models.backbone import BackboneConfig, GraphTransformer
from mofgap.models.heads import BandGapModel
from mofgap.models.registry import (
    BACKBONE_WEIGHTS,
    ModelLoadError,
    load_backbone,
    load_weights,
    models_dir,
    read_config,
    resolve_model_dir,
    save_weights,
)
from mofgap.utils.atomic import atomic_write_bytes

FULL_WEIGHTS = "model.safetensors"


def save_finetuned(
    model: BandGapModel, folder: str | Path, *, method: str, adapter: AdapterConfig, base: str | Path,
    extra: dict[str, Any],
) -> None:
    """Save a fine-tuned model: adapters and head only, or (``ft``) every weight."""
    folder = Path(folder)
    base_dir = resolve_model_dir(base)
    base_sha = read_adapter_base_sha(base_dir)
    shipped = base_dir.resolve().parent == models_dir().resolve()
    base_name = base_dir.name if shipped else str(base_dir.resolve())
    document = {"method": method, "base_model": base_name, "base_sha256": base_sha, **extra}
    if method != "ft":
        save_adapter(model, folder, adapter, document)
        return
    folder.mkdir(parents=True, exist_ok=True)
    digest = save_weights(model, folder / FULL_WEIGHTS)
    document.update(architecture=model.backbone.config.as_dict(), weights={FULL_WEIGHTS: digest})
    atomic_write_bytes(folder / ADAPTER_CONFIG, (json.dumps(document, indent=2) + "\n").encode())


def read_adapter_base_sha(base_dir: Path) -> str:
    """The sha256 of a backbone folder's weights, from its config."""
    return str(read_config(base_dir)["weights"][BACKBONE_WEIGHTS])


def load_finetuned(name_or_folder: str | Path) -> BandGapModel:
    """Load a fine-tuned band-gap model by shipped name or folder (strict keys and checksums)."""
    folder = resolve_model_dir(name_or_folder)
    document = read_adapter_config(folder)
    if document["method"] == "ft":
        model = BandGapModel(GraphTransformer(BackboneConfig(**document["architecture"])))
        load_weights(model, folder / FULL_WEIGHTS, document["weights"][FULL_WEIGHTS])
        return model.eval()
    base_dir = resolve_model_dir(document["base_model"])
    if read_adapter_base_sha(base_dir) != document["base_sha256"]:
        raise ModelLoadError(f"{folder}: base model {base_dir.name} has other weights than the adapter was trained on")
    model = BandGapModel(load_backbone(base_dir))
    add_adapters(model.backbone, AdapterConfig.from_dict(document["adapter"]))
    load_adapter_weights(model, folder)
    set_stochastic(model, False)
    return model.eval()
