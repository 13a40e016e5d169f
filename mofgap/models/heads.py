"""Prediction heads on top of the backbone: band gap with aleatoric σ, and the pretraining heads."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch, Data

from mofgap.models.backbone import GraphTransformer

MIN_SIGMA_EV = 1e-3
"""Floor of the predicted aleatoric σ (eV), for a finite Gaussian likelihood."""


def mlp(d_in: int, d_hidden: int, d_out: int) -> nn.Sequential:
    """Two ``nn.Linear`` layers with a SiLU between them."""
    return nn.Sequential(nn.Linear(d_in, d_hidden), nn.SiLU(), nn.Linear(d_hidden, d_out))


class Standardizer(nn.Module):
    """Stores a target's mean and standard deviation (as buffers, saved with the weights)."""

    def __init__(self, size: int = 1) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(size))
        self.register_buffer("std", torch.ones(size))

    def fit(self, values: Tensor) -> None:
        """Set mean and std from (n, size) or (n,) values, ignoring NaN."""
        values = values.reshape(values.shape[0], -1).double()
        finite = torch.isfinite(values)
        filled = torch.where(finite, values, 0.0)
        count = finite.sum(0).clamp(min=1)
        mean = filled.sum(0) / count
        var = (torch.where(finite, values - mean, 0.0) ** 2).sum(0) / count
        self.mean.copy_(mean.float())
        self.std.copy_(var.sqrt().clamp(min=1e-6).float())

    def scale(self, values: Tensor) -> Tensor:
        """Physical units → standard units."""
        return (values - self.mean) / self.std


@dataclass(frozen=True)
class GapPrediction:
    """Band-gap prediction for a batch: ``mean_eV`` (B,) and aleatoric ``sigma_eV`` (B,)."""

    mean_eV: Tensor
    sigma_eV: Tensor


class GapHead(nn.Module):
    """Crystal features → band-gap mean and aleatoric σ (eV), through a standardised output."""

    def __init__(self, d_model: int) -> None:
        super().__init__()
        self.mlp = mlp(d_model, d_model, 2)
        self.target = Standardizer(1)

    def forward(self, pooled: Tensor) -> GapPrediction:
        out = self.mlp(pooled)
        mean = out[:, 0] * self.target.std + self.target.mean
        sigma = nn.functional.softplus(out[:, 1]) * self.target.std + MIN_SIGMA_EV
        return GapPrediction(mean, sigma)


class BandGapModel(nn.Module):
    """Backbone + band-gap head."""

    def __init__(self, backbone: GraphTransformer) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = GapHead(backbone.config.d_model)

    def forward(self, batch: Data | Batch) -> GapPrediction:
        _, pooled = self.backbone(batch)
        return self.head(pooled)


@dataclass(frozen=True)
class PretrainPrediction:
    """Standardised pretraining outputs: per-atom (N, T) and per-crystal (B, 1)."""

    atom: Tensor
    crystal: Tensor


class PretrainModel(nn.Module):
    """Backbone + per-atom and per-crystal heads for multi-task pretraining on DFT properties."""

    def __init__(self, backbone: GraphTransformer, n_atom_targets: int) -> None:
        super().__init__()
        d = backbone.config.d_model
        self.backbone = backbone
        self.atom_head = mlp(d, d, n_atom_targets)
        self.crystal_head = mlp(d, d, 1)
        self.atom_target = Standardizer(n_atom_targets)
        self.crystal_target = Standardizer(1)

    def forward(self, batch: Data | Batch) -> PretrainPrediction:
        nodes, pooled = self.backbone(batch)
        return PretrainPrediction(self.atom_head(nodes), self.crystal_head(pooled))
