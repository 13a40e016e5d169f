"""LoRA ensembles: K adapters trained separately (one job each, different seeds) on one frozen backbone.

Members are ordinary fine-tuned adapter folders (``mofgap finetune --method lora --seed k``) that share
their base backbone and adapter configuration. Prediction loads the backbone once, computes the
frozen blocks below the adapters once per batch, and swaps the members' adapter weights for the rest:

    μ = mean_k μ_k,   σ²_epistemic = var_k μ_k,   σ²_aleatoric = mean_k σ_k²
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import Tensor
from torch_geometric.data import Batch, Data

from mofgap.adapters.io import ADAPTER_WEIGHTS, read_adapter_config
from mofgap.models.backbone import graph_index
from mofgap.models.finetuned import load_finetuned
from mofgap.models.heads import BandGapModel
from mofgap.models.sampling import UncertainPrediction, combine_samples, first_adapted_block


class LoRAEnsemble:
    """K adapter members on one backbone.

    Args:
        member_dirs: fine-tuned adapter folders with the same base model and adapter configuration.
    """

    def __init__(self, member_dirs: Sequence[str | Path]) -> None:
        if len(member_dirs) < 2:
            raise ValueError("an ensemble needs at least two members")
        configs = [read_adapter_config(d) for d in member_dirs]
        reference = configs[0]
        for folder, config in zip(member_dirs, configs, strict=True):
            if config.get("method") == "ft" or config["adapter"] != reference["adapter"]:
                raise ValueError(f"{folder}: not an adapter with the same configuration as {member_dirs[0]}")
            if config["base_sha256"] != reference["base_sha256"]:
                raise ValueError(f"{folder}: trained on another base backbone than {member_dirs[0]}")
        self.member_dirs = [Path(d) for d in member_dirs]
        self.model: BandGapModel = load_finetuned(self.member_dirs[0])
        self.states: list[dict[str, Tensor]] = []
        for folder in self.member_dirs:
            load_finetuned(folder)  # checks keys and checksums of every member
            self.states.append(load_file(str(folder / ADAPTER_WEIGHTS)))
        first = first_adapted_block(self.model.backbone)
        self.start_block = len(self.model.backbone.blocks) if first is None else first

    def __len__(self) -> int:
        return len(self.states)

    @torch.no_grad()
    def member_predictions(self, batch: Data | Batch) -> tuple[Tensor, Tensor]:
        """Means and aleatoric σ of every member: two (K, B) tensors (eV)."""
        backbone = self.model.backbone
        geometry = backbone.geometry(batch)
        prefix = backbone.run_blocks(backbone.embedding(batch.z), geometry, 0, self.start_block)
        index, size = graph_index(batch)
        means, sigmas = [], []
        for state in self.states:
            self.model.load_state_dict(state, strict=False)
            x = backbone.run_blocks(prefix, geometry, self.start_block)
            out = self.model.head(backbone.readout(x, index, size)[1])
            means.append(out.mean_eV)
            sigmas.append(out.sigma_eV)
        return torch.stack(means), torch.stack(sigmas)

    def predict(self, batch: Data | Batch, members: int | None = None) -> UncertainPrediction:
        """Ensemble mean and σ, from the first ``members`` members (all by default)."""
        means, sigmas = self.member_predictions(batch)
        return combine_samples(means[:members], sigmas[:members])
