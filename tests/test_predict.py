"""`mofgap predict` and `mofgap.predict`: one row per structure, failures included, resume, calibration."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from torch_geometric.data import Batch
from typer.testing import CliRunner

import mofgap
from mofgap.cli import app
from mofgap.graph.pipeline import GraphRecord
from mofgap.prediction.batching import atom_bounded_groups
from mofgap.prediction.output import COLUMNS, partial_path
from mofgap.prediction.predictor import BatchPrediction, Predictor
from mofgap.uq.calibration import CALIBRATION_FILE, Calibration
from tests.bad_inputs import BAD_INPUTS, write_bad_inputs

SAMPLES = 4


@pytest.fixture(scope="module")
def model_dir(tiny_balora_model: Path) -> Path:
    return tiny_balora_model


@pytest.fixture()
def mixed_folder(tmp_path: Path, sample_cifs: list[Path]) -> Path:
    folder = tmp_path / "inputs"
    write_bad_inputs(folder)
    for cif in sample_cifs[:6]:
        shutil.copy(cif, folder)
    return folder


def run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["predict", *args])
    return result.exit_code, result.output


def test_mixed_folder_gives_one_row_per_input(tmp_path: Path, mixed_folder: Path, model_dir: Path) -> None:
    out = tmp_path / "predictions.csv"
    pdf = mixed_folder / BAD_INPUTS["unknown_format"].filename  # not listed from a folder: named explicitly
    code, output = run([str(mixed_folder), str(pdf), "--model", str(model_dir), "--samples", str(SAMPLES),
                        "--max-atoms", "10000", "-o", str(out)])
    assert code == 0, output
    table = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert tuple(table.columns) == COLUMNS
    n_bad = len(BAD_INPUTS)
    assert len(table) == 6 + n_bad
    assert (table["status"] == "ok").sum() == 6
    failed = table[table["status"] != "ok"]
    assert set(failed["status"]) == {"error"}  # the disorder policy "error" makes it an error
    for name, bad in BAD_INPUTS.items():
        structure_id = bad.filename if name == "unknown_format" else bad.filename.rsplit(".", 1)[0]
        error = table.loc[table["structure_id"] == structure_id, "error"].iloc[0]
        if name != "too_many_atoms":  # allowed by max_atoms=10000; its atoms 0.5 Å apart fail another check
            assert error.startswith(bad.error.__name__), (name, error)
    ok = table[table["status"] == "ok"]
    assert ok["gap_eV"].notna().all() and (ok["sigma_eV"] > 0).all()
    np.testing.assert_allclose(ok["sigma_eV"] ** 2, ok["sigma_epistemic_eV"] ** 2 + ok["sigma_aleatoric_eV"] ** 2)
    assert (ok["lower_eV"] < ok["gap_eV"]).all() and (ok["gap_eV"] < ok["upper_eV"]).all()
    assert (ok["sigma_epistemic_eV"] > 0).all()  # BaLoRA passes differ
    assert set(table["model"]) == {"tiny-balora"} and table["model_sha256"].str.len().eq(64).all()
    assert "6 ok" in output and not partial_path(out).exists()


def test_api_matches_cli_and_takes_structures(tmp_path: Path, sample_cifs: list[Path], model_dir: Path) -> None:
    from ase.io import read as ase_read
    from pymatgen.core import Structure

    out = tmp_path / "p.csv"
    code, output = run([*map(str, sample_cifs[:3]), "--model", str(model_dir), "--samples", str(SAMPLES),
                        "-o", str(out)])
    assert code == 0, output
    cli = pd.read_csv(out)
    api = mofgap.predict(sample_cifs[:3], model=model_dir, samples=SAMPLES)
    np.testing.assert_allclose(api["gap_eV"], cli["gap_eV"], rtol=1e-9)
    np.testing.assert_allclose(api["sigma_eV"], cli["sigma_eV"], rtol=1e-9)
    # in-memory structures: same graph as the file; a single noisy pass differs by the noise only (≈1e-4 eV)
    alone = mofgap.predict([Structure.from_file(sample_cifs[0]), ase_read(sample_cifs[0])], model=model_dir,
                           samples=1)
    single_file = mofgap.predict(sample_cifs[0], model=model_dir, samples=1)
    assert list(alone["structure_id"]) == ["structure_0", "structure_1"]
    np.testing.assert_allclose(alone["gap_eV"], single_file["gap_eV"].iloc[0], atol=2e-3)
    assert set(alone["n_atoms"]) == {single_file["n_atoms"].iloc[0]}
    assert set(alone["formula"]) == {single_file["formula"].iloc[0]}
    assert (alone["sigma_epistemic_eV"] == 0).all()


def test_same_inputs_give_the_same_numbers(sample_cifs: list[Path], model_dir: Path) -> None:
    first = mofgap.predict(sample_cifs[:4], model=model_dir, samples=SAMPLES)
    again = mofgap.predict(sample_cifs[:4], model=model_dir, samples=SAMPLES)
    pd.testing.assert_frame_equal(first, again)


def test_resume_keeps_written_rows_and_redoes_the_last_file(
    tmp_path: Path, sample_cifs: list[Path], model_dir: Path
) -> None:
    out = tmp_path / "p.csv"
    args = [*map(str, sample_cifs[:5]), "--model", str(model_dir), "--samples", str(SAMPLES), "-o", str(out)]
    assert run(args)[0] == 0
    full = pd.read_csv(out)
    interrupted = full.head(3).copy()
    interrupted.loc[:, "gap_eV"] = [-1.0, -2.0, -3.0]  # marks: kept rows must not be recomputed
    interrupted.to_csv(partial_path(out), index=False)
    out.unlink()
    code, output = run([*args, "--resume"])
    assert code == 0, output
    resumed = pd.read_csv(out)
    assert list(resumed["structure_id"]) == list(full["structure_id"])
    assert list(resumed["gap_eV"][:2]) == [-1.0, -2.0]  # kept
    assert resumed["gap_eV"][2] > -3.0  # the last file of the partial table was predicted again
    assert "2 kept from before" in output


def test_exit_codes(tmp_path: Path, model_dir: Path) -> None:
    paths = write_bad_inputs(tmp_path / "bad")
    assert run([str(tmp_path / "nothing-*.cif"), "--model", str(model_dir)])[0] == 2
    assert run([str(paths["empty"]), "--model", str(tmp_path / "no-such-model")])[0] == 1
    assert run([str(paths["empty"]), "--model", str(model_dir)])[0] == 1  # nothing could be predicted
    code, output = run([str(tmp_path / "bad"), "--model", str(model_dir), "--on-error", "raise",
                        "-o", str(tmp_path / "p.csv")])
    assert code == 1 and "--resume" in output


def test_calibration_scales_sigma_and_sets_conformal_intervals(
    tmp_path: Path, sample_cifs: list[Path], model_dir: Path
) -> None:
    calibrated = tmp_path / "calibrated"
    shutil.copytree(model_dir, calibrated)
    scores = np.linspace(0.0, 2.0, 99)  # quantile at 90 %: the 90th of 99 scores
    document = Calibration(sigma_scale=Calibration.fit([0.0, 1.0], [0.0, 0.0], [1.0, 1.0], 4).sigma_scale,
                           scores=scores, samples=SAMPLES).as_dict()
    document["sigma_scale"] = 2.0
    (calibrated / CALIBRATION_FILE).write_text(json.dumps(document))
    raw = mofgap.predict(sample_cifs[:3], model=model_dir, samples=SAMPLES)
    scaled = mofgap.predict(sample_cifs[:3], model=calibrated, samples=SAMPLES)
    np.testing.assert_allclose(scaled["sigma_eV"], 2 * raw["sigma_eV"])
    np.testing.assert_allclose(scaled["upper_eV"] - scaled["gap_eV"], scores[89] * raw["sigma_eV"], rtol=1e-6)
    half = raw["upper_eV"] - raw["gap_eV"]
    np.testing.assert_allclose(half, 1.6448536 * raw["sigma_eV"], rtol=1e-6)  # Gaussian without calibration


def test_a_failing_batch_is_retried_one_structure_at_a_time(
    monkeypatch: pytest.MonkeyPatch, sample_cifs: list[Path], model_dir: Path
) -> None:
    predictor = Predictor(model_dir)
    original = predictor.predict

    def fragile(batch: Batch, samples: int, coverage: float) -> BatchPrediction:
        if batch.num_graphs > 1 or int(batch.num_nodes) > 100:
            raise RuntimeError("out of memory")
        return original(batch, samples, coverage)

    monkeypatch.setattr(predictor, "predict", fragile)
    table = mofgap.predict(sample_cifs[:4], model=predictor, samples=SAMPLES)
    big = table["n_atoms"] > 100
    assert (table.loc[~big, "status"] == "ok").all()
    assert (table.loc[big, "status"] == "error").all()
    assert table.loc[big, "error"].str.startswith("PredictionError: out of memory").all()


def _record(n_atoms: int) -> GraphRecord:
    from torch_geometric.data import Data

    graph = Data(num_nodes=n_atoms) if n_atoms else None
    return GraphRecord(str(n_atoms), "", "", graph, None)


def test_groups_are_bounded_by_atoms_and_keep_order() -> None:
    sizes = [40, 50, 0, 30, 500, 10, 10]
    groups = list(atom_bounded_groups([_record(n) for n in sizes], 100))
    assert [[r.n_atoms for r in g] for g in groups] == [[40, 50, 0], [30], [500], [10, 10]]
    with pytest.raises(ValueError):
        list(atom_bounded_groups([], 0))


def test_shards_merge_back_into_the_whole_run(tmp_path: Path, mixed_folder: Path, model_dir: Path) -> None:
    common = [str(mixed_folder), "--model", str(model_dir), "--samples", "1"]
    assert run([*common, "-o", str(tmp_path / "whole.csv")])[0] == 0
    outputs = []
    for index in range(3):
        outputs.append(tmp_path / f"shard{index}.csv")
        code, output = run([*common, "--shard", f"{index}/3", "-o", str(outputs[-1])])
        assert code == 0, output
    sizes = [len(pd.read_csv(o)) for o in outputs]
    assert max(sizes) - min(sizes) <= 1  # k mod 3 balances the shards
    merge = CliRunner().invoke(app, ["merge", *map(str, outputs), "-o", str(tmp_path / "merged.csv")])
    assert merge.exit_code == 0, merge.output
    whole, merged = pd.read_csv(tmp_path / "whole.csv"), pd.read_csv(tmp_path / "merged.csv")
    assert list(merged["structure_id"]) == list(whole["structure_id"])  # input order restored
    assert list(merged["status"]) == list(whole["status"])
    ok = whole["status"] == "ok"
    np.testing.assert_allclose(merged.loc[ok, "gap_eV"], whole.loc[ok, "gap_eV"], atol=2e-3)  # noise only
    for broken, message in ((outputs[:2], "missing \\[2\\]"), ([*outputs, outputs[0]], "repeated \\[0\\]")):
        result = CliRunner().invoke(app, ["merge", *map(str, broken), "-o", str(tmp_path / "m.csv")])
        assert result.exit_code == 1 and re.search(message, result.output), result.output
    lost = pd.read_csv(outputs[1]).iloc[1:]
    lost.to_csv(outputs[1], index=False)
    result = CliRunner().invoke(app, ["merge", *map(str, outputs), "-o", str(tmp_path / "m.csv")])
    assert result.exit_code == 1 and "files without rows" in result.output
    assert run([*common, "--shard", "3/3", "-o", str(tmp_path / "x.csv")])[0] == 2


def test_resume_survives_a_row_cut_mid_write(tmp_path: Path, sample_cifs: list[Path], model_dir: Path) -> None:
    out = tmp_path / "p.csv"
    args = [*map(str, sample_cifs[:4]), "--model", str(model_dir), "--samples", "1", "-o", str(out)]
    assert run(args)[0] == 0
    full = out.read_text()
    lines = full.splitlines(keepends=True)
    partial_path(out).write_text("".join(lines[:3]) + lines[3][:25])  # killed while writing row 3
    out.unlink()
    code, output = run([*args, "--resume"])
    assert code == 0, output
    resumed = pd.read_csv(out)
    assert list(resumed["structure_id"]) == list(pd.read_csv(io.StringIO(full))["structure_id"])
    assert "1 kept from before" in output  # row 1 kept; row 2 (last complete file) and the cut row redone


def test_resume_refuses_rows_of_another_model(tmp_path: Path, sample_cifs: list[Path], model_dir: Path) -> None:
    out = tmp_path / "p.csv"
    assert run([str(sample_cifs[0]), "--model", str(model_dir), "--samples", "1", "-o", str(out)])[0] == 0
    table = pd.read_csv(out)
    table["model_sha256"] = "0" * 64
    table.to_csv(out, index=False)
    code, output = run([str(sample_cifs[0]), "--model", str(model_dir), "-o", str(out), "--resume"])
    assert code == 2 and "another model" in output


def test_a_single_structure_object_is_one_input(sample_cifs: list[Path], model_dir: Path) -> None:
    from pymatgen.core import Structure

    table = mofgap.predict(Structure.from_file(sample_cifs[0]), model=model_dir, samples=1)
    assert list(table["structure_id"]) == ["structure_0"] and table["status"].iloc[0] == "ok"
