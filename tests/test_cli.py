"""The command line: version, help, featurize on a mixed folder of good and bad files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from mofgap import __version__
from mofgap.cli import app
from tests.bad_inputs import BAD_INPUTS, write_bad_inputs

runner = CliRunner()


def test_version_and_help() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"mofgap {__version__}"
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "featurize" in result.output


def test_console_script_is_installed() -> None:
    mofgap = Path(sys.executable).with_name("mofgap")
    out = subprocess.run([str(mofgap), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"mofgap {__version__}"


def test_featurize_mixed_folder(tmp_path: Path, sample_cifs: list[Path]) -> None:
    folder = tmp_path / "inputs"
    write_bad_inputs(folder)
    for cif in sample_cifs[:3]:
        shutil.copy(cif, folder)
    report = tmp_path / "report.csv"
    args = ["featurize", str(folder), "--cache", str(tmp_path / "cache"), "--report", str(report), "--workers", "2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(report, keep_default_na=False)
    # The folder scan keeps known formats only: every bad input but the .pdf, plus 3 good CIFs.
    expected_bad = {b.filename for b in BAD_INPUTS.values() if not b.filename.endswith(".pdf")}
    assert set(Path(p).name for p in table["source_path"]) == expected_bad | {c.name for c in sample_cifs[:3]}
    ok = table[table["status"] == "ok"]
    assert len(ok) == 3 and (ok["n_edges"] == 12 * ok["n_atoms"]).all()
    failed = table[table["status"] == "error"]
    assert (failed["error"].str.len() > 0).all()
    for cif in sample_cifs[:3]:
        assert f"ok       {cif.stem}" in result.output
    assert "empty  " in result.output or "empty.cif: the file is empty" in result.output
    again = runner.invoke(app, args)
    assert again.exit_code == 0
    assert pd.read_csv(report)["cached"].all()


def test_featurize_on_error_raise_stops_with_exit_1(tmp_path: Path) -> None:
    bad = write_bad_inputs(tmp_path)
    result = runner.invoke(app, ["featurize", str(bad["empty"]), "--cache", str(tmp_path / "c"), "--on-error", "raise"])
    assert result.exit_code == 1


def test_featurize_without_inputs_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["featurize", str(tmp_path / "*.cif"), "--cache", str(tmp_path / "c")])
    assert result.exit_code == 2
