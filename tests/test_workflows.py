"""The Snakemake pipeline: a dry run of both configurations, a real local run of the tiny one, and a
real single-node Slurm run of the sbatch templates and the Slurm profile (where Slurm can start)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "workflows" / "Snakefile"
STAGES = ("prepare_split", "featurize", "pretrain", "ablation_finetune", "ablation_select", "run_finetune",
          "run_samples", "ensemble_samples", "evaluate_test", "compare", "curves", "screening_benchmark",
          "report", "default_model", "predict_shard", "predict_merge", "screen")


def snakemake(*args: str, results: Path, timeout: int = 3000) -> subprocess.CompletedProcess[str]:
    """Run snakemake from the repository root with the results (and default model) under ``results``."""
    pytest.importorskip("snakemake")
    command = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), *args, "--config",
               f"results={results}", f"default_model_dir={results}/model"]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def job_counts(output: str) -> dict[str, int]:
    lines = output[output.index("Job stats:"):].splitlines()[3:]
    counts = {}
    for line in lines:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        counts[parts[0]] = int(parts[1])
    return counts


def test_dry_run_of_the_tiny_pipeline(tmp_path: Path) -> None:
    result = snakemake("--configfile", "workflows/config/tiny.yaml", "-n", results=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    counts = job_counts(result.stdout)
    assert set(STAGES) <= set(counts), set(STAGES) - set(counts)
    assert counts["run_finetune"] == 8  # 4 methods × 2 seeds (the ensemble's members are LoRA seeds 0, 1)
    assert counts["predict_shard"] == 2


def test_dry_run_of_the_qmof_study(tmp_path: Path) -> None:
    result = snakemake("--configfile", "workflows/config/qmof.yaml", "-n", "all", results=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    counts = job_counts(result.stdout)
    assert counts["ablation_finetune"] == 9
    assert counts["run_finetune"] == 14  # 4 methods × 3 seeds + LoRA seeds 3, 4 for the K = 5 ensemble
    assert "pretrain" not in counts  # the shipped backbone is used


def _check_tiny_outputs(results: Path) -> None:
    for output in ("report.md", "comparison/comparison.md", "ablation/selected.json", "curves/curves.json",
                   "screening/screening.md", "model/README.md", "predict/shortlist.csv"):
        assert (results / output).is_file(), output
    predictions = pd.read_csv(results / "predict" / "predictions.csv")
    assert len(predictions) == 250 and (predictions["status"] == "ok").all()
    assert "| BaLoRA | 2 |" in (results / "comparison" / "comparison.md").read_text()


def stage_times(results: Path) -> dict[str, float]:
    """Wall seconds per rule, summed over its jobs, from the benchmark files."""
    times: dict[str, float] = {}
    for bench in results.rglob("benchmark*.tsv"):
        stage = bench.parent.parent.name if bench.parent.parent != results else bench.parent.name
        times[stage] = times.get(stage, 0.0) + float(pd.read_csv(bench, sep="\t")["s"].iloc[0])
    return times


@pytest.mark.slow
@pytest.mark.timeout(3600)  # the whole tiny pipeline, on 2 cores
def test_tiny_pipeline_runs_locally(tmp_path: Path) -> None:
    started = time.perf_counter()
    result = snakemake("--configfile", "workflows/config/tiny.yaml", "--profile", "workflows/profiles/local",
                       "--cores", "2", results=tmp_path / "tiny")
    assert result.returncode == 0, result.stderr[-5000:]
    _check_tiny_outputs(tmp_path / "tiny")
    print(f"tiny pipeline: {time.perf_counter() - started:.0f} s; per stage {stage_times(tmp_path / 'tiny')}")


def _slurm_cluster() -> None:
    if shutil.which("slurmctld") is None or os.geteuid() != 0:
        pytest.skip("needs Debian's slurm-wlm and munge, and root, to start a test cluster")
    started = subprocess.run([str(REPO / "workflows" / "slurm" / "local-cluster.sh"), "start"], capture_output=True,
                             text=True, timeout=120)
    if started.returncode != 0:
        pytest.skip(f"Slurm did not start: {started.stderr[-500:]}")


def _wait_for_jobs(job_ids: list[str], timeout: float = 1800) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        queue = subprocess.run(["squeue", "-h", "-o", "%i %T", "-j", ",".join(job_ids)], capture_output=True,
                               text=True).stdout
        if not any(state in queue for state in ("PENDING", "RUNNING", "CONFIGURING", "COMPLETING")):
            return
        time.sleep(3)
    raise TimeoutError(f"Slurm jobs {job_ids} did not finish")


@pytest.mark.slow
@pytest.mark.slurm
@pytest.mark.timeout(5400)  # the tiny pipeline through Slurm, then the job arrays
def test_slurm_profile_and_sbatch_templates(tmp_path: Path) -> None:
    _slurm_cluster()
    results = tmp_path / "tiny"
    result = snakemake("--configfile", "workflows/config/tiny.yaml", "--profile", "workflows/profiles/slurm-cpu",
                       results=results)
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    _check_tiny_outputs(results)
    assert "slurm" in (result.stdout + result.stderr).lower()
    env = {**os.environ, "QMOF": "data/qmof-sample", "OUT": str(tmp_path / "ensemble"), "EPOCHS": "1",
           "EXTRA": f"--split-file {results}/prepare/split.csv --backbone {results}/backbone --rank 2"}
    array = subprocess.run(["sbatch", "--parsable", "--array=0-1", "--chdir", str(REPO), "--output",
                            str(tmp_path / "ft-%A_%a.out"), "workflows/slurm/finetune-array.sbatch"],
                           cwd=REPO, env=env, capture_output=True, text=True, check=True).stdout.strip()
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for cif in sorted((REPO / "data" / "qmof-sample" / "relaxed_structures").glob("*.cif"))[:12]:
        shutil.copy(cif, inputs)
    env = {**os.environ, "INPUTS": str(inputs), "OUT": str(tmp_path / "predict"), "MODEL": str(results / "model"),
           "SAMPLES": "4"}
    submitted = subprocess.run(["workflows/slurm/submit-predict.sh", "3", "--chdir", str(REPO), "--output",
                                str(tmp_path / "predict-%A_%a.out")], cwd=REPO, env=env, capture_output=True,
                               text=True, check=True).stdout
    job_ids = [array] + [word.rstrip(",") for word in submitted.split() if word.rstrip(",").isdigit()]
    _wait_for_jobs(job_ids)
    for seed in (0, 1):
        assert (tmp_path / "ensemble" / f"lora-s{seed}" / "model" / "adapter_config.json").is_file()
    merged = pd.read_csv(tmp_path / "predict" / "predictions.csv")
    assert len(merged) == 12 and (merged["status"] == "ok").all()
