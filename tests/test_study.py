"""The study's steps: sample sets, curves over M, variant selection, comparison tables, shipping a model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from mofgap.cli import app
from mofgap.models.sampling import combine_samples
from mofgap.study.curves import across_seeds, curve
from mofgap.study.samples import SampleSet
from mofgap.study.selection import select_variant
from mofgap.uq.compare import format_mean_std, group_by_name, markdown_table


def _sample_set(passes: int = 16, n: int = 300, seed: int = 0) -> SampleSet:
    """Passes whose spread grows with the true error: epistemic σ should rank errors."""
    rng = np.random.default_rng(seed)
    y = rng.uniform(0, 5, n)
    spread = rng.uniform(0.05, 1.0, n)
    means = y + spread * rng.standard_normal((passes, n))
    return SampleSet(np.array([f"s{i}" for i in range(n)]), y, means, np.full((passes, n), 0.2))


def test_sample_set_round_trip_and_nested_tables(tmp_path: Path) -> None:
    samples = _sample_set()
    samples.save(tmp_path / "s.npz")
    loaded = SampleSet.load(tmp_path / "s.npz")
    np.testing.assert_array_equal(loaded.means, samples.means)
    assert list(loaded.ids[:2]) == ["s0", "s1"]
    table = loaded.table(4, "m")
    expected = combine_samples(torch.from_numpy(samples.means[:4]), torch.from_numpy(samples.sigmas[:4]))
    np.testing.assert_allclose(table["gap_eV"], expected.mean_eV.numpy())
    np.testing.assert_allclose(table["sigma_epistemic_eV"], samples.means[:4].std(0))
    np.testing.assert_allclose(table["sigma_eV"] ** 2, samples.means[:4].var(0) + 0.04)
    assert set(table["status"]) == {"ok"} and set(table["model"]) == {"m"}


def test_curve_over_passes() -> None:
    result = curve(_sample_set(), (1, 2, 8, 16, 64))
    assert result["count"] == [1, 2, 8, 16]  # 64 > stored passes
    assert result["spearman_epistemic"][0] is None  # one pass: no spread
    assert result["spearman_epistemic"][-1] > 0.3
    assert result["mae"][-1] < result["mae"][0]  # averaging passes removes noise
    summary = across_seeds([result, curve(_sample_set(seed=1), (1, 2, 8, 16))], "mae")
    assert summary["count"] == [1, 2, 8, 16] and len(summary["std"]) == 4


def _evaluation(name: str, mae: float, nll: float) -> dict:
    return {"name": name, "metrics": {"mae": mae, "nll": nll, "spearman": 0.5}, "curves": {}}


def test_select_variant_by_validation_nll(tmp_path: Path) -> None:
    paths = {}
    for variant, nll in (("default", 0.60), ("top2-blocks", 0.55), ("noise-B", 0.58)):
        paths[variant] = tmp_path / f"{variant}.json"
        paths[variant].write_text(json.dumps(_evaluation(variant, 0.3, nll)))
    flags = {"default": "", "top2-blocks": "--target-modules X", "noise-B": "--noise-site B"}
    chosen = select_variant(paths, flags, ["top2-blocks"], tmp_path / "selected.json")
    assert chosen["selected"] == "top2-blocks"
    assert (chosen["placement_flags"], chosen["balora_flags"]) == ("--target-modules X", "")
    paths.pop("top2-blocks")
    chosen = select_variant(paths, flags, ["top2-blocks"], tmp_path / "selected.json")
    assert (chosen["selected"], chosen["balora_flags"]) == ("noise-B", "--noise-site B")
    assert json.loads((tmp_path / "selected.json").read_text())["selected"] == "noise-B"


def test_markdown_table_mean_and_std_over_seeds() -> None:
    groups = group_by_name([_evaluation("A", 0.30, 1.0), _evaluation("A", 0.34, 1.2), _evaluation("B", 0.25, 0.9)])
    table = markdown_table(groups, [("MAE (eV)", "metrics", "mae"), ("cov", "conformal", "coverage")])
    lines = table.splitlines()
    assert lines[0] == "| method | n | MAE (eV) | cov |"
    assert lines[2] == "| A | 2 | 0.320 ± 0.028 | – |"  # std with ddof = 1: 0.02·√2
    assert lines[3] == "| B | 1 | 0.250 | – |"


def _predictions(path: Path, seed: int, labels: pd.DataFrame, noise: float) -> None:
    rng = np.random.default_rng(seed)
    sigma = rng.uniform(0.1, 0.5, len(labels))
    mu = labels["gap_eV"].to_numpy() + noise * sigma * rng.standard_normal(len(labels))
    pd.DataFrame({"structure_id": labels["structure_id"], "gap_eV": mu, "sigma_eV": sigma, "status": "ok",
                  "model": "m"}).to_csv(path, index=False)


def test_evaluate_and_compare_commands(tmp_path: Path) -> None:
    labels = pd.DataFrame({"structure_id": [f"q{i}" for i in range(400)],
                           "gap_eV": np.random.default_rng(9).uniform(0, 4, 400)})
    labels.to_csv(tmp_path / "labels.csv", index=False)
    runner = CliRunner()
    folders = []
    for seed, name in ((0, "calibrated"), (1, "calibrated"), (2, "overconfident")):
        noise = 1.0 if name == "calibrated" else 3.0
        _predictions(tmp_path / f"val{seed}.csv", 100 + seed, labels, noise)
        _predictions(tmp_path / f"test{seed}.csv", seed, labels, noise)
        out = tmp_path / f"eval{seed}"
        result = runner.invoke(app, ["evaluate", str(tmp_path / f"test{seed}.csv"), "--labels",
                                     str(tmp_path / "labels.csv"), "--calibration", str(tmp_path / f"val{seed}.csv"),
                                     "--name", name, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert {p.name for p in out.iterdir()} >= {"metrics.json", "parity.png", "calibration.svg"}
        folders.append(str(out))
    over = json.loads((tmp_path / "eval2" / "metrics.json").read_text())
    assert over["metrics"]["mean_z2"] == pytest.approx(9.0, rel=0.2)
    assert over["calibrated"]["sigma_scale"] == pytest.approx(3.0, rel=0.1)
    assert over["calibrated"]["conformal"]["coverage"] == pytest.approx(0.9, abs=0.04)
    result = runner.invoke(app, ["compare", *folders, "--out", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    table = (tmp_path / "cmp" / "comparison.md").read_text()
    assert "| calibrated | 2 |" in table and "| overconfident | 1 |" in table
    summary = json.loads((tmp_path / "cmp" / "summary.json").read_text())
    assert summary["calibrated"]["seeds"] == 2
    assert (tmp_path / "cmp" / "sparsification.png").is_file()


def test_evaluate_reports_unmatched_ids(tmp_path: Path) -> None:
    pd.DataFrame({"structure_id": ["a"], "gap_eV": [1.0]}).to_csv(tmp_path / "labels.csv", index=False)
    pd.DataFrame({"structure_id": ["b"], "gap_eV": [1.0], "sigma_eV": [0.1]}).to_csv(tmp_path / "p.csv", index=False)
    result = CliRunner().invoke(app, ["evaluate", str(tmp_path / "p.csv"), "--labels", str(tmp_path / "labels.csv"),
                                      "--out", str(tmp_path / "e")])
    assert result.exit_code == 2 and "no prediction has a label" in result.output


def test_samples_table_evaluate_ship_chain(tmp_path: Path, sample: Path, tiny_balora_model: Path) -> None:
    """The study's per-run steps on a tiny BaLoRA model, ending in a loadable shipped model with a card."""
    import shutil

    from mofgap.models.finetuned import load_finetuned
    from mofgap.uq.calibration import Calibration, ConformalInterval
    from mofgap.uq.tables import match_predictions, read_labels, read_table

    run = tmp_path / "runs" / "balora-s0"
    shutil.copytree(tiny_balora_model, run / "model")
    runner = CliRunner()
    labels = str(sample / "qmof.csv")
    steps = [
        ["study", "samples", "--qmof", str(sample), "--split", "test", "--model", str(run / "model"),
         "--samples", "8", "--workers", "1", "--out", str(run / "test.npz")],
        ["study", "table", str(run / "test.npz"), "--samples", "8", "--name", "BaLoRA",
         "--out", str(run / "val-predictions.csv")],
        ["study", "table", str(run / "test.npz"), "--samples", "8", "--out", str(run / "test-predictions.csv")],
        ["evaluate", str(run / "test-predictions.csv"), "--calibration", str(run / "val-predictions.csv"),
         "--labels", labels, "--out", str(run / "eval-test")],
        ["study", "ship", str(run), "--labels", labels, "--samples", "8", "--out", str(tmp_path / "shipped")],
    ]
    for args in steps:
        outcome = runner.invoke(app, args)
        assert outcome.exit_code == 0, (args, outcome.output)
    samples = SampleSet.load(run / "test.npz")
    assert samples.means.shape == (8, 250) and samples.means.std(0).max() > 0  # BaLoRA passes differ
    shipped = tmp_path / "shipped"
    load_finetuned(shipped)
    val = match_predictions(read_table(run / "val-predictions.csv"), read_labels(labels))
    calibration = Calibration.from_dict(json.loads((shipped / "calibration.json").read_text()))
    assert calibration.interval(0.9).quantile == pytest.approx(
        ConformalInterval.fit(val.y, val.mu, val.sigma, 0.9).quantile, abs=1e-5)
    test_metrics = json.loads((shipped / "test_metrics.json").read_text())
    assert f"{test_metrics['metrics']['mae']:.3f} eV" in (shipped / "README.md").read_text()


def test_report_validation_curves_and_headline(tmp_path: Path) -> None:
    from mofgap.study.report import headline, validation_curve_table, validation_curves

    for folder, maes in (("lora-s0", [0.40, 0.35, 0.33]), ("lora-s1", [0.42, 0.37, 0.31]), ("ft-s0", [0.41, 0.34])):
        run = tmp_path / "runs" / folder / "run"
        run.mkdir(parents=True)
        rows = "".join(f"{epoch},0,0,{mae},0,0,1\n" for epoch, mae in enumerate(maes))
        (run / "metrics.csv").write_text("epoch,train_data_loss,train_kl,val_mae_eV,val_rmse_eV,learning_rate,seconds\n"
                                         + rows)
    by_method = validation_curves(tmp_path)
    assert by_method == {"ft": [[0.41, 0.34]], "lora": [[0.40, 0.35, 0.33], [0.42, 0.37, 0.31]]}
    table = validation_curve_table(by_method).splitlines()
    assert table[2] == "| ft | 1 | 0.410 | 0.340 | – | -0.070 |"
    assert table[3] == "| lora | 2 | 0.410 | 0.360 | 0.320 | -0.040 |"

    summary = {"BaLoRA": {"seeds": 3, "mae": [0.30, 0.01], "spearman": [0.25, 0.01],
                          "epistemic.sharpness": [0.02, 0.001], "epistemic.spearman": [0.1, 0.02]},
               "LoRA ensemble": {"seeds": 1, "mae": [0.29, 0.0], "spearman": [0.30, 0.0],
                                 "epistemic.sharpness": [0.12, 0.0], "epistemic.spearman": [0.2, 0.0]},
               "LoRA": {"seeds": 3, "mae": [0.34, 0.01], "spearman": [0.2, 0.01]},
               "FT": {"seeds": 3, "mae": [0.26, 0.01], "spearman": [0.2, 0.01]}}
    curves = {"LoRA ensemble": {"spearman_total": {"mean": [0.1, 0.2, 0.3]}, "mae": {"mean": [0.33, 0.30, 0.29],
                                                                                   "count": [1, 3, 5]}},
              "BaLoRA": {"spearman_total": {"mean": [0.2, 0.25, 0.24]}, "mae": {"mean": [0.31, 0.30, 0.31],
                                                                              "count": [1, 8, 32]}}}
    text = "\n".join(headline(summary, curves))
    assert "target ≤ 0.27 eV NOT met" in text
    assert "BaLoRA closes 50 % of it" in text  # (0.34 - 0.30) / (0.34 - 0.26)
    assert "ensemble higher by 0.050" in text
    assert "BaLoRA mean 0.020 ± 0.001 eV" in text and "LoRA ensemble mean 0.120 eV" in text  # n = 1: no std
    assert "- LoRA ensemble: test MAE 0.290 eV, Spearman ρ(σ, |error|) 0.300 (n = 1)." in text
    summary["BaLoRA"]["mae"] = [0.35, 0.01]
    assert "BaLoRA closes none of it (BaLoRA 0.350 vs LoRA 0.340 eV)" in "\n".join(headline(summary, curves))
    assert ("LoRA ensemble versus K (1…5): ρ 0.100 → 0.300 (monotone in the seed mean), "
            "MAE 0.330 → 0.290 eV (monotone)") in text
    assert ("BaLoRA versus M (1…32): ρ 0.200 → 0.240 (not monotone in the seed mean), "
            "MAE 0.310 → 0.310 eV (not monotone)") in text


def test_report_names_the_config_relative_to_the_repository(tmp_path: Path) -> None:
    from mofgap.study.report import _shown_path

    assert _shown_path(Path.cwd() / "workflows" / "config" / "qmof.yaml") == "workflows/config/qmof.yaml"
    outside = tmp_path.resolve() / "qmof.yaml"
    assert _shown_path(outside) == str(outside)


def test_readme_results_match_the_committed_study() -> None:
    repo = Path(__file__).resolve().parents[1]
    summary = json.loads((repo / "results" / "study" / "comparison" / "summary.json").read_text())
    readme = (repo / "README.md").read_text()
    rows = {"full fine-tuning": "FT", "LoRA": "LoRA", "BaLoRA (α per layer)": "BaLoRA",
            "MC-dropout LoRA": "MC-dropout LoRA", "LoRA ensemble, K = 5 (one ensemble)": "LoRA ensemble"}
    for label, name in rows.items():
        stats = summary[name]
        cells = [format_mean_std(stats[key], stats["seeds"])
                 for key in ("mae", "spearman", "ause", "conformal.coverage")]
        assert f"| {label} | " + " | ".join(cells) + " |" in readme, label
