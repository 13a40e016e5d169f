"""LoRA ensembles: members trained on their own, combined afterwards on one backbone."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch_geometric.data import Batch

from mofgap.adapters import AdapterConfig
from mofgap.data.graphs import qmof_graphs
from mofgap.data.qmof import QMOF
from mofgap.models import GraphTransformer, load_backbone, save_backbone
from mofgap.models.backbone import BackboneConfig
from mofgap.models.ensemble import LoRAEnsemble
from mofgap.models.finetuned import load_finetuned, save_finetuned
from mofgap.train.finetune import FinetuneConfig, build_model, finetune
from mofgap.train.gap import predict_gaps


@pytest.fixture(scope="module")
def members(tmp_path_factory: pytest.TempPathFactory, sample: Path) -> tuple[list[Path], list]:
    root = tmp_path_factory.mktemp("ensemble")
    torch.manual_seed(0)
    base = root / "base"
    save_backbone(GraphTransformer(BackboneConfig(d_model=16, n_blocks=2, n_heads=2)), base)
    graphs = qmof_graphs(QMOF(sample), limit=30).graphs
    adapter = AdapterConfig(method="lora", rank=2, target_modules=r"blocks\.1\..*")
    folders = []
    for seed in range(3):  # one independent job per member
        config = FinetuneConfig(method="lora", adapter=adapter, epochs=2, batch_size=8, seed=seed)
        result = finetune(build_model(load_backbone(base), config), graphs[:24], graphs[24:], config,
                          root / f"run-{seed}")
        folder = root / f"member-{seed}"
        save_finetuned(result.model, folder, method="lora", adapter=adapter, base=base, extra={"seed": seed})
        folders.append(folder)
    return folders, graphs[24:]


def test_members_match_their_own_models(members: tuple[list[Path], list]) -> None:
    folders, val = members
    ensemble = LoRAEnsemble(folders)
    assert len(ensemble) == 3 and ensemble.start_block == 1
    means, sigmas = ensemble.member_predictions(Batch.from_data_list(val))
    for k, folder in enumerate(folders):
        own = predict_gaps(load_finetuned(folder), val)
        torch.testing.assert_close(means[k], own.mean_eV, atol=1e-5, rtol=0)
        torch.testing.assert_close(sigmas[k], own.sigma_eV, atol=1e-5, rtol=0)
    assert not torch.allclose(means[0], means[1])
    combined = ensemble.predict(Batch.from_data_list(val))
    torch.testing.assert_close(combined.mean_eV, means.mean(0))
    torch.testing.assert_close(combined.sigma_epistemic_eV, means.var(0, unbiased=False).sqrt())
    two = ensemble.predict(Batch.from_data_list(val), members=2)
    torch.testing.assert_close(two.mean_eV, means[:2].mean(0))


def test_an_ensemble_needs_two_members(members: tuple[list[Path], list]) -> None:
    folders, _ = members
    with pytest.raises(ValueError, match="at least two"):
        LoRAEnsemble(folders[:1])
