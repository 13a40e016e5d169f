"""Shared fixtures: the bundled QMOF sample, a tiny trained BaLoRA model, and the full QMOF data where present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from mofgap.data.sample import sample_dir

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def sample() -> Path:
    """The bundled QMOF test-split sample (official layout)."""
    return sample_dir()


@pytest.fixture(scope="session")
def sample_cifs(sample: Path) -> list[Path]:
    """All CIFs of the bundled sample, sorted."""
    return sorted((sample / "relaxed_structures").glob("*.cif"))


@pytest.fixture(scope="session")
def shared_qmof() -> Path:
    """The full QMOF development data beside the repository (``$MOFGAP_QMOF`` or ``../shared/data/qmof``)."""
    path = Path(os.environ.get("MOFGAP_QMOF", REPO.parent / "shared" / "data" / "qmof"))
    if not (path / "qmof.csv").is_file():
        pytest.skip(f"full QMOF data not found at {path}")
    return path


@pytest.fixture(scope="session")
def tiny_balora_model(tmp_path_factory: pytest.TempPathFactory, sample: Path) -> Path:
    """A tiny BaLoRA model (d = 16, 2 blocks) trained for one epoch on 30 sample structures; no calibration."""
    from mofgap.adapters import AdapterConfig
    from mofgap.data.graphs import qmof_graphs
    from mofgap.data.qmof import QMOF
    from mofgap.models import GraphTransformer, load_backbone, save_backbone
    from mofgap.models.backbone import BackboneConfig
    from mofgap.models.finetuned import save_finetuned
    from mofgap.train.finetune import FinetuneConfig, build_model, finetune

    root = tmp_path_factory.mktemp("predict-model")
    torch.manual_seed(0)
    save_backbone(GraphTransformer(BackboneConfig(d_model=16, n_blocks=2, n_heads=2)), root / "base")
    graphs = qmof_graphs(QMOF(sample), limit=40).graphs
    adapter = AdapterConfig(method="balora", rank=2, target_modules=r"blocks\.1\..*")
    config = FinetuneConfig(method="balora", adapter=adapter, epochs=1, batch_size=8, seed=0)
    result = finetune(build_model(load_backbone(root / "base"), config), graphs[:30], graphs[30:], config,
                      root / "run")
    folder = root / "tiny-balora"
    save_finetuned(result.model, folder, method="balora", adapter=adapter, base=root / "base",
                   extra={"finetune": config.as_dict(), "n_train": 30, "best_epoch": result.best_epoch,
                          "train_seconds": result.train_seconds, "hardware": "cpu", "command": "pytest fixture"})
    return folder
