"""Fine-tuning: every method trains, KL warm-up, exact resume, reproducibility, trainable parts."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mofgap.adapters import AdapterConfig
from mofgap.data.graphs import qmof_graphs
from mofgap.data.qmof import QMOF
from mofgap.models import GraphTransformer
from mofgap.models.backbone import BackboneConfig
from mofgap.train.finetune import FinetuneConfig, build_model, finetune, kl_beta

TINY = BackboneConfig(d_model=16, n_blocks=2, n_heads=2)


@pytest.fixture(scope="module")
def graphs(sample: Path) -> list:
    return qmof_graphs(QMOF(sample), limit=40).graphs


def backbone() -> GraphTransformer:
    torch.manual_seed(42)
    return GraphTransformer(TINY)


def config(method: str, **changes: object) -> FinetuneConfig:
    base = {"method": method, "epochs": 3, "batch_size": 8, "adapter": AdapterConfig(rank=2), "kl_warmup_epochs": 2}
    return FinetuneConfig(**{**base, **changes})


@pytest.mark.parametrize("method", ["ft", "lora", "balora", "mcdropout"])
def test_each_method_trains_its_own_parameters(tmp_path: Path, graphs: list, method: str) -> None:
    cfg = config(method, adapter=AdapterConfig(rank=2, dropout=0.1 if method == "mcdropout" else 0.0))
    model = build_model(backbone(), cfg)
    frozen = {k: v.clone() for k, v in model.backbone.state_dict().items() if "lora_" not in k and "alpha" not in k}
    result = finetune(model, graphs[:30], graphs[30:], cfg, tmp_path)
    assert len(result.history) == 3 and (tmp_path / "metrics.csv").is_file()
    assert all(torch.isfinite(torch.tensor(h["val_mae_eV"])) for h in result.history)
    after = result.model.backbone.state_dict()
    changed = [k for k in frozen if not torch.equal(after[k], frozen[k])]
    if method == "ft":
        assert changed
    else:
        assert changed == []
    kl = result.history[-1]["train_kl"]
    assert kl > 0 if method == "balora" else kl == 0


def test_kl_warmup_is_linear() -> None:
    cfg = config("balora", kl_warmup_epochs=4, kl_weight=0.5)
    assert kl_beta(0, 0.0, cfg) == 0.0
    assert kl_beta(1, 0.0, cfg) == pytest.approx(0.125)
    assert kl_beta(9, 0.5, cfg) == 0.5


class Stop(Exception):
    pass


def test_resume_continues_exactly_and_seed_reproduces(tmp_path: Path, graphs: list) -> None:
    cfg = config("balora")
    straight = finetune(build_model(backbone(), cfg), graphs[:30], graphs[30:], cfg, tmp_path / "a")
    again = finetune(build_model(backbone(), cfg), graphs[:30], graphs[30:], cfg, tmp_path / "b")
    assert [h["val_mae_eV"] for h in again.history] == [h["val_mae_eV"] for h in straight.history]

    def stop(metrics: dict[str, float]) -> None:
        if metrics["epoch"] == 1:
            raise Stop

    with pytest.raises(Stop):
        finetune(build_model(backbone(), cfg), graphs[:30], graphs[30:], cfg, tmp_path / "c", on_epoch=stop)
    resumed = finetune(build_model(backbone(), cfg), graphs[:30], graphs[30:], cfg, tmp_path / "c")
    assert [h["val_mae_eV"] for h in resumed.history] == [h["val_mae_eV"] for h in straight.history]
    for key, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key


@pytest.mark.parametrize("method", ["balora", "ft"])
def test_finetune_cli_saves_a_loadable_model(tmp_path: Path, sample: Path, method: str) -> None:
    import shutil

    from typer.testing import CliRunner

    from mofgap.cli import app
    from mofgap.models import save_backbone
    from mofgap.models.finetuned import load_finetuned
    from mofgap.train.gap import predict_gaps

    root = tmp_path / "qmof"
    shutil.copytree(sample, root)
    lines = (root / "splits" / "jarvis_leaderboard.csv").read_text().splitlines()
    relabelled = [lines[0]] + [line.replace(",test", ",train") for line in lines[1:31]]
    relabelled += [line.replace(",test", ",val") for line in lines[31:41]] + lines[41:]
    (root / "splits" / "jarvis_leaderboard.csv").write_text("\n".join(relabelled) + "\n")
    save_backbone(backbone(), tmp_path / "base")
    out = tmp_path / "model"
    args = ["finetune", "--qmof", str(root), "--out", str(out), "--run-dir", str(tmp_path / "run"), "--method", method,
            "--backbone", str(tmp_path / "base"), "--epochs", "2", "--rank", "2", "--workers", "1", "--batch-size", "8"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "metrics.csv").is_file() and (tmp_path / "run" / "config.json").is_file()
    model = load_finetuned(out)
    val = qmof_graphs(QMOF(root), splits=("val",)).graphs
    mae = float((predict_gaps(model, val).mean_eV - torch.cat([g.y for g in val])).abs().mean())
    import json

    saved = json.loads((out / "adapter_config.json").read_text())
    assert mae == pytest.approx(saved["val_mae_eV"], abs=1e-5)
