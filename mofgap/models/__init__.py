"""Models: the graph-transformer backbone, its heads, and the registry of named models on disk."""

from mofgap.models.backbone import BackboneConfig, GraphTransformer
from mofgap.models.heads import BandGapModel, GapHead, GapPrediction, PretrainModel
from mofgap.models.registry import ModelLoadError, available_models, load_backbone, save_backbone

load = load_backbone
"""Load a pretrained backbone by shipped name or folder (strict keys and sha256)."""

__all__ = [
    "BackboneConfig",
    "BandGapModel",
    "GapHead",
    "GapPrediction",
    "GraphTransformer",
    "ModelLoadError",
    "PretrainModel",
    "available_models",
    "load",
    "load_backbone",
    "save_backbone",
]
