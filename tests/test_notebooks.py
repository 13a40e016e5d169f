"""The notebooks run top to bottom on small inputs, and are committed without outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def execute(name: str, parameters: dict[str, object], workdir: Path) -> nbformat.NotebookNode:
    """Run a notebook with its ``parameters`` cell overridden; return the executed notebook."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    cell.source += "\n" + "\n".join(f"{key} = {value!r}" for key, value in parameters.items())
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}}).execute()
    return notebook


def text_outputs(notebook: nbformat.NotebookNode) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", "") + str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_are_committed_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear the outputs"


def test_predict_and_screen_notebook(tmp_path: Path) -> None:
    pytest.importorskip("CoRE_MOF")
    notebook = execute("01_predict_and_screen.ipynb", {"N_STRUCTURES": 6, "SAMPLES": 4, "WORKERS": 1}, tmp_path)
    text = text_outputs(notebook)
    assert "6 structures from CoRE MOF 2019-ASR" in text
    assert "ok" in text and "in both shortlists" in text


def _miniature_study(root: Path) -> Path:
    """A results folder shaped like the study's, made by the study's own commands from synthetic numbers."""
    import numpy as np
    import pandas as pd
    from typer.testing import CliRunner

    from mofgap.cli import app
    from mofgap.study.samples import SampleSet

    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    n = 200
    ids = np.array([f"q{i}" for i in range(n)])
    y = rng.uniform(0, 4, n)
    pd.DataFrame({"structure_id": ids, "gap_eV": y}).to_csv(root / "labels.csv", index=False)
    runner = CliRunner()
    evaluations, sample_sets = [], []
    for folder, name, passes in (("runs/balora-s0", "BaLoRA", 16), ("runs/balora-s1", "BaLoRA", 16),
                                 ("ensembles/lora-ensemble-r0", "LoRA ensemble", 5)):
        run = root / folder
        run.mkdir(parents=True)
        spread = rng.uniform(0.05, 0.5, n)
        for split in ("val", "test"):
            samples = SampleSet(ids, y, y + spread * rng.standard_normal((passes, n)),
                                rng.uniform(0.1, 0.3, (passes, n)))
            samples.save(run / f"{split}.npz")
            samples.table(None, name).to_csv(run / f"{split}-predictions.csv", index=False)
        result = runner.invoke(app, ["evaluate", str(run / "test-predictions.csv"), "--labels",
                                     str(root / "labels.csv"), "--calibration", str(run / "val-predictions.csv"),
                                     "--name", name, "--out", str(run / "eval-test")])
        assert result.exit_code == 0, result.output
        evaluations.append(str(run / "eval-test"))
        sample_sets.append(f"{name}={run / 'test.npz'}")
    for args in (["compare", *evaluations, "--out", str(root / "comparison")],
                 ["study", "curves", *sample_sets, "--out", str(root / "curves")]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    return root


def test_uncertainty_analysis_notebook(tmp_path: Path) -> None:
    results = _miniature_study(tmp_path / "study")
    notebook = execute("02_uncertainty_analysis.ipynb", {"RESULTS": str(results)}, tmp_path)
    text = text_outputs(notebook)
    assert "BaLoRA: MAE" in text and "LoRA ensemble: MAE" in text


def test_uncertainty_analysis_notebook_on_the_committed_study(tmp_path: Path) -> None:
    results = NOTEBOOKS.parent / "results" / "study"
    if not (results / "comparison" / "summary.json").is_file():
        pytest.skip("the study's comparison is not committed")
    first_balora = json.loads(sorted(results.glob("runs/balora-s*/eval-test/metrics.json"))[0].read_text())
    notebook = execute("02_uncertainty_analysis.ipynb", {"RESULTS": str(results)}, tmp_path)
    assert f"BaLoRA: MAE {first_balora['metrics']['mae']:.3f} eV" in text_outputs(notebook)
