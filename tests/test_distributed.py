"""Data-parallel fine-tuning under torchrun (gloo, 2 CPU processes) matches one process with the same batches."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from mofgap.data.atom_targets import PBE_ATOM_TARGETS
from mofgap.models import GraphTransformer, save_backbone
from mofgap.models.backbone import BackboneConfig
from mofgap.models.heads import PretrainModel


def _qmof_with_splits(sample: Path, root: Path) -> Path:
    shutil.copytree(sample, root)
    split = root / "splits" / "jarvis_leaderboard.csv"
    lines = split.read_text().splitlines()
    relabelled = [lines[0]] + [line.replace(",test", ",train") for line in lines[1:41]]
    relabelled += [line.replace(",test", ",val") for line in lines[41:51]]
    split.write_text("\n".join(relabelled) + "\n")
    return root


def _finetune(launcher: list[str], qmof: Path, base: Path, out: Path, method: str) -> None:
    args = ["finetune", "--qmof", str(qmof), "--backbone", str(base), "--out", str(out / "model"),
            "--run-dir", str(out / "run"), "--method", method, "--epochs", "2", "--batch-size", "8",
            "--rank", "2", "--workers", "1", "--target-modules", r"blocks\.1\..*", "--learning-rate", "1e-3"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([*launcher, "-m", "mofgap.cli", *args], capture_output=True, text=True, env=env,
                            timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("method", ["lora", "ft"])
def test_two_processes_match_one(tmp_path: Path, sample: Path, method: str) -> None:
    qmof = _qmof_with_splits(sample, tmp_path / "qmof")
    torch.manual_seed(0)
    save_backbone(GraphTransformer(BackboneConfig(d_model=16, n_blocks=2, n_heads=2)), tmp_path / "base")
    _finetune([sys.executable], qmof, tmp_path / "base", tmp_path / "one", method)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    _finetune(torchrun, qmof, tmp_path / "base", tmp_path / "two", method)
    weights = "adapter.safetensors" if method != "ft" else "model.safetensors"
    one, two = load_file(tmp_path / "one" / "model" / weights), load_file(tmp_path / "two" / "model" / weights)
    assert json.loads((tmp_path / "two" / "run" / "config.json").read_text())["processes"] == 2
    assert one.keys() == two.keys()
    for key in one:
        torch.testing.assert_close(two[key], one[key], atol=2e-5, rtol=1e-4, msg=key)
    changed = [k for k in one if "lora_B" in k or k.startswith("head.")]
    assert changed and any(one[k].abs().sum() > 0 for k in changed)  # training moved the weights
    metrics_one = (tmp_path / "one" / "run" / "metrics.csv").read_text().splitlines()
    metrics_two = (tmp_path / "two" / "run" / "metrics.csv").read_text().splitlines()
    assert len(metrics_two) == len(metrics_one) == 3  # header + 2 epochs, written once (rank 0)
    val_one = [float(r.split(",")[3]) for r in metrics_one[1:]]
    val_two = [float(r.split(",")[3]) for r in metrics_two[1:]]
    assert val_two == pytest.approx(val_one, abs=1e-4)  # validation MAE per epoch


def test_pretraining_under_torchrun(tmp_path: Path, sample: Path) -> None:
    qmof = _qmof_with_splits(sample, tmp_path / "qmof")
    args = ["pretrain", "--qmof", str(qmof), "--epochs", "1", "--batch-size", "8", "--d-model", "16",
            "--n-blocks", "2", "--workers", "1", "--limit", "40"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for name, launcher in (("one", [sys.executable]),
                           ("two", [sys.executable, "-m", "torch.distributed.run", "--standalone",
                                    "--nproc_per_node", "2"])):
        result = subprocess.run([*launcher, "-m", "mofgap.cli", *args, "--out", str(tmp_path / name / "model"),
                                 "--run-dir", str(tmp_path / name / "run")], capture_output=True, text=True,
                                env=env, timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr
    one = load_file(tmp_path / "one" / "model" / "backbone.safetensors")
    two = load_file(tmp_path / "two" / "model" / "backbone.safetensors")
    torch.manual_seed(0)  # the pretraining run's initial weights (seed 0)
    start = PretrainModel(GraphTransformer(BackboneConfig(d_model=16, n_blocks=2)), len(PBE_ATOM_TARGETS))
    initial = start.backbone.state_dict()
    # losses are divided by the global batch's target counts: the same steps up to summation order
    difference = sum(float((one[k] - two[k]).norm()) for k in one)
    moved = sum(float((one[k] - initial[k]).norm()) for k in one)
    assert moved > 0 and difference < 1e-4 * moved, (difference, moved)
    assert json.loads((tmp_path / "two" / "model" / "config.json").read_text())["training"]["processes"] == 2
