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


def first_stochastic_site(backbone: GraphTransformer) -> tuple[int, bool] | None:
    """``(block, in_feed_forward)`` of the lowest stochastic adapter, or ``None`` if there is none."""
    sites = [(int(name.split(".")[1]), name.split(".")[2] in ("ffn_in", "ffn_out"))
             for name, layer in adapter_layers(backbone) if name.startswith("blocks.") and _is_stochastic(layer)]
    return min(sites) if sites else None


MAX_SAMPLED_ATOMS = 65_536
"""Atoms (copies × atoms per batch) run at once when sampling: bounds memory, keeps tensors cache-sized."""


@torch.no_grad()
def sample_predictions(
    model: BandGapModel, batch: Data | Batch, samples: int, *, max_atoms: int = MAX_SAMPLED_ATOMS
) -> tuple[Tensor, Tensor]:
    """Means and aleatoric σ of ``samples`` stochastic passes: two (samples, B) tensors (eV).

    Everything below the first stochastic layer (at the granularity of a block's attention or
    feed-forward half) runs once; the rest runs on copies, ``max_atoms`` atoms at a time.
    """
    model.eval()
    backbone = model.backbone
    site = first_stochastic_site(backbone)
    if site is None:
        set_stochastic(model, False)
        out = model(batch)
        return out.mean_eV.expand(samples, -1), out.sigma_eV.expand(samples, -1)
    block, in_feed_forward = site
    set_stochastic(model, False)  # the shared prefix is deterministic anyway; keep it so
    geometry = backbone.geometry(batch)
    x = backbone.run_blocks(backbone.embedding(batch.z), geometry, 0, block)
    if in_feed_forward:
        x = backbone.blocks[block].attention(x, geometry.neighbors, geometry.basis, geometry.envelope)
    set_stochastic(model, True)
    index, size = graph_index(batch)
    per_chunk = max(1, min(samples, max_atoms // max(1, index.numel())))
    means, sigmas = [], []
    for done in range(0, samples, per_chunk):
        copies = min(per_chunk, samples - done)
        offsets = torch.arange(copies, device=index.device).repeat_interleave(index.numel()) * size
        copied = x.repeat(copies, 1)
        start = block
        if in_feed_forward:
            copied, start = backbone.blocks[block].feed_forward(copied), block + 1
        if start < len(backbone.blocks):
            copied = backbone.run_blocks(copied, geometry.repeat(copies), start)
        out = model.head(backbone.readout(copied, index.repeat(copies) + offsets, copies * size)[1])
        means.append(out.mean_eV.view(copies, size))
        sigmas.append(out.sigma_eV.view(copies, size))
    set_stochastic(model, False)
    return torch.cat(means), torch.cat(sigmas)


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
