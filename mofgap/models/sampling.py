"""Predictions with uncertainty from M stochastic passes that share everything below the noise.

The blocks below the first one holding a stochastic adapter (BaLoRA, MC-dropout) are deterministic,
so they run once; their output is copied M times and the remaining blocks and the head run on the
M copies as one batch. Per crystal, with μ_m and σ_m the mean and aleatoric σ of pass m:

    μ = mean_m μ_m,   σ²_epistemic = var_m μ_m,   σ²_aleatoric = mean_m σ_m²,   σ² = σ²_epistemic + σ²_aleatoric
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from mofgap.adapters import BaLoRALinear, LoRALinear, adapter_layers, set_stochastic
from mofgap.models.backbone import GraphTransformer, graph_index
from mofgap.models.heads import BandGapModel


@dataclass(frozen=True)
class UncertainPrediction:
    """Per-crystal prediction (all (B,), eV)."""

    mean_eV: Tensor
    sigma_eV: Tensor
    sigma_epistemic_eV: Tensor
    sigma_aleatoric_eV: Tensor


def _is_stochastic(layer: LoRALinear) -> bool:
    if isinstance(layer, BaLoRALinear):
        return not layer.merged
    return layer.mc_dropout and layer.dropout > 0


def first_adapted_block(backbone: GraphTransformer, *, stochastic_only: bool = False) -> int | None:
    """Index of the lowest block with an adapter (a stochastic one if asked), or ``None`` if there is none."""
    blocks = [int(name.split(".")[1]) for name, layer in adapter_layers(backbone)
              if name.startswith("blocks.") and (_is_stochastic(layer) or not stochastic_only)]
    return min(blocks) if blocks else None


def first_stochastic_block(backbone: GraphTransformer) -> int | None:
    """Index of the lowest block with a stochastic adapter, or ``None`` if the backbone is deterministic."""
    return first_adapted_block(backbone, stochastic_only=True)


@torch.no_grad()
def sample_predictions(model: BandGapModel, batch: Data | Batch, samples: int) -> tuple[Tensor, Tensor]:
    """Means and aleatoric σ of ``samples`` stochastic passes: two (samples, B) tensors (eV)."""
    model.eval()
    backbone = model.backbone
    start = first_stochastic_block(backbone)
    if start is None:
        out = model(batch)
        return out.mean_eV.expand(samples, -1), out.sigma_eV.expand(samples, -1)
    set_stochastic(model, True)
    geometry = backbone.geometry(batch)
    x = backbone.run_blocks(backbone.embedding(batch.z), geometry, 0, start)
    index, size = graph_index(batch)
    copies = torch.arange(samples, device=index.device).repeat_interleave(index.numel()) * size
    x = backbone.run_blocks(x.repeat(samples, 1), geometry.repeat(samples), start)
    _, pooled = backbone.readout(x, index.repeat(samples) + copies, samples * size)
    out = model.head(pooled)
    set_stochastic(model, False)
    return out.mean_eV.view(samples, size), out.sigma_eV.view(samples, size)


def combine_samples(means: Tensor, sigmas: Tensor) -> UncertainPrediction:
    """Predictive mean and total / epistemic / aleatoric σ from per-pass means and σ ((M, B) each)."""
    epistemic = means.var(0, unbiased=False) if means.shape[0] > 1 else torch.zeros_like(means[0])
    aleatoric = sigmas.pow(2).mean(0)
    return UncertainPrediction(
        means.mean(0), (epistemic + aleatoric).sqrt(), epistemic.sqrt(), aleatoric.sqrt()
    )


def predict_with_uncertainty(model: BandGapModel, batch: Data | Batch, samples: int = 32) -> UncertainPrediction:
    """M-sample predictive distribution of a batch (see the module docstring)."""
    return combine_samples(*sample_predictions(model, batch, samples))
