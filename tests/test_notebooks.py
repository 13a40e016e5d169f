"""The notebooks run top to bottom on small inputs, and are committed without outputs."""

from __future__ import annotations

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


def test_predict_and_screen_notebook(tmp_path: Path, tiny_balora_model: Path) -> None:
    pytest.importorskip("CoRE_MOF")
    notebook = execute("01_predict_and_screen.ipynb", {"MODEL": str(tiny_balora_model), "N_STRUCTURES": 6,
                                                       "SAMPLES": 4, "WORKERS": 1}, tmp_path)
    text = text_outputs(notebook)
    assert "6 structures from CoRE MOF 2019-ASR" in text
    assert "ok" in text and "in both shortlists" in text
