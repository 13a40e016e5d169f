"""Pretraining: reproducible with a seed, resumes exactly after an interruption, CLI end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from mofgap.cli import app
from mofgap.data.atom_targets import PBE_ATOM_TARGETS
from mofgap.data.graphs import qmof_graphs
from mofgap.data.qmof import QMOF
from mofgap.models import load_backbone
from mofgap.models.backbone import BackboneConfig
from mofgap.train.pretrain import PretrainConfig, pretrain

CONFIG = PretrainConfig(epochs=3, batch_size=8, backbone=BackboneConfig(d_model=16, n_blocks=2, n_heads=2))


@pytest.fixture(scope="module")
def graphs(sample: Path) -> list:
    return qmof_graphs(QMOF(sample), limit=36, atom_targets=PBE_ATOM_TARGETS).graphs


class Interrupted(Exception):
    pass


def test_same_seed_same_weights_and_exact_resume(tmp_path: Path, graphs: list) -> None:
    train, holdout = graphs[:30], graphs[30:]
    straight = pretrain(train, holdout, CONFIG, tmp_path / "a")
    again = pretrain(train, holdout, CONFIG, tmp_path / "b")
    for key, value in straight.backbone.state_dict().items():
        assert torch.equal(value, again.backbone.state_dict()[key]), key

    def stop_after_first_epoch(metrics: dict[str, float]) -> None:
        if metrics["epoch"] == 0:
            raise Interrupted

    with pytest.raises(Interrupted):
        pretrain(train, holdout, CONFIG, tmp_path / "c", on_epoch=stop_after_first_epoch)
    resumed = pretrain(train, holdout, CONFIG, tmp_path / "c")
    assert [h["epoch"] for h in resumed.history] == [0.0, 1.0, 2.0]
    for key, value in straight.backbone.state_dict().items():
        assert torch.equal(value, resumed.backbone.state_dict()[key]), key
    assert [h["holdout_loss"] for h in resumed.history] == [h["holdout_loss"] for h in straight.history]


def test_checkpoint_with_other_settings_is_refused(tmp_path: Path, graphs: list) -> None:
    pretrain(graphs[:30], graphs[30:], PretrainConfig(**{**CONFIG.__dict__, "epochs": 1}), tmp_path)
    with pytest.raises(ValueError, match="other settings"):
        pretrain(graphs[:30], graphs[30:], CONFIG, tmp_path)


def test_pretrain_cli_uses_train_split_only(tmp_path: Path, sample: Path) -> None:
    root = tmp_path / "qmof"
    shutil.copytree(sample, root)
    split = (root / "splits" / "jarvis_leaderboard.csv").read_text().splitlines()
    # 40 structures become "train"; the rest stay "test" and must not be used.
    relabelled = [split[0]] + [line.replace(",test", ",train") for line in split[1:41]] + split[41:]
    (root / "splits" / "jarvis_leaderboard.csv").write_text("\n".join(relabelled) + "\n")
    out = tmp_path / "model"
    args = ["pretrain", "--qmof", str(root), "--out", str(out), "--run-dir", str(tmp_path / "run"), "--epochs", "1",
            "--d-model", "16", "--n-blocks", "1", "--workers", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert config["data"]["n_train"] + config["data"]["n_holdout"] == 40
    assert set(config["holdout_mae"]) == {*PBE_ATOM_TARGETS, "ehull_eV_per_atom"}
    assert "sha256" in (out / "README.md").read_text()
    assert load_backbone(out).config.d_model == 16


def test_bf16_autocast_trains(tmp_path: Path, graphs: list) -> None:
    config = PretrainConfig(**{**CONFIG.__dict__, "epochs": 1, "bf16": True})
    result = pretrain(graphs[:30], graphs[30:], config, tmp_path)
    assert all(torch.isfinite(v).all() for v in result.backbone.state_dict().values())
    assert result.history[0]["holdout_loss"] < 10


def test_cli_resumes_after_a_kill(tmp_path: Path, sample: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    root = tmp_path / "qmof"
    shutil.copytree(sample, root)
    split = (root / "splits" / "jarvis_leaderboard.csv").read_text().replace(",test", ",train")
    (root / "splits" / "jarvis_leaderboard.csv").write_text(split)
    mofgap = str(Path(sys.executable).with_name("mofgap"))

    def command(out: Path, run: Path) -> list[str]:
        return [mofgap, "pretrain", "--qmof", str(root), "--out", str(out), "--run-dir", str(run), "--epochs", "4",
                "--d-model", "16", "--n-blocks", "1", "--workers", "1", "--limit", "120"]

    subprocess.run(command(tmp_path / "straight", tmp_path / "run-a"), check=True, capture_output=True)
    process = subprocess.Popen(command(tmp_path / "killed", tmp_path / "run-b"), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (tmp_path / "run-b" / "metrics.csv").is_file():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (tmp_path / "killed" / "config.json").exists(), "killed before it finished"
    subprocess.run(command(tmp_path / "killed", tmp_path / "run-b"), check=True, capture_output=True)
    straight = json.loads((tmp_path / "straight" / "config.json").read_text())
    resumed = json.loads((tmp_path / "killed" / "config.json").read_text())
    assert resumed["weights"] == straight["weights"], "same weights, bit for bit"
