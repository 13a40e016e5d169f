"""Acquisition scores and rankings on fixed inputs, computed by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mofgap.cli import app
from mofgap.screening import Objective, acquisition_parts, rank

MU = np.array([1.0, 2.0, 3.0, 2.5])
SIGMA = np.array([1.0, 0.5, 0.1, 1.0])
TABLE = pd.DataFrame({"structure_id": ["a", "b", "c", "d"], "formula": ["ZnC2", "ZnC4", "CuC2", "ZnC6"],
                      "gap_eV": MU, "sigma_eV": SIGMA, "status": "ok"})


def order(objective: str, acquisition: str, **options: float) -> list[str]:
    return list(rank(TABLE, Objective.parse(objective), acquisition, **options)["structure_id"])


@pytest.mark.parametrize(("objective", "acquisition", "options", "expected"), [
    ("max", "greedy", {}, "cdba"),
    ("max", "ucb", {"kappa": 2.0}, "dcba"),  # 3, 3, 3.2, 4.5: the tie a/b goes to the smaller σ
    ("max", "lcb", {"kappa": 2.0}, "cbda"),  # −1, 1, 2.8, 0.5
    ("min", "greedy", {}, "abdc"),
    ("max", "ei", {"best": 3.0}, "dcab"),  # 0.00849, 0.00425, 0.03989, 0.19780
    ("max", "pi", {"best": 3.0}, "cdba"),  # Φ(z) 0.0228, 0.0228, 0.5, 0.3085
    ("window:1.8:2.2", "greedy", {}, "bdca"),  # distances 0.8, 0, 0.8, 0.3
    ("window:1.8:2.2", "window-prob", {}, "bdac"),  # 0.0968, 0.3108, ≈0, 0.1401
    ("window:1.8:2.2", "ucb", {"kappa": 1.0}, "badc"),  # −max(0, d − σ): 0, 0, −0.7, 0 → ties: σ, then order
    ("max", "max-sigma", {}, "adbc"),
])
def test_rankings_by_hand(objective: str, acquisition: str, options: dict, expected: str) -> None:
    assert "".join(order(objective, acquisition, **options)) == expected


def test_scores_and_parts_by_hand() -> None:
    ei = acquisition_parts("ei", Objective("max"), MU, SIGMA, best=3.0)
    np.testing.assert_allclose(ei["score"], [0.0084907, 0.0042454, 0.0398942, 0.1977966], atol=1e-6)
    np.testing.assert_allclose(ei["score"], ei["exploit"] + ei["explore"])
    prob = acquisition_parts("window-prob", Objective.parse("window:1.8:2.2"), MU, SIGMA)["score"]
    np.testing.assert_allclose(prob, [0.0967852, 0.3108435, 0.0, 0.1401244], atol=1e-6)
    ucb = acquisition_parts("ucb", Objective("min"), MU, SIGMA, kappa=1.0)
    np.testing.assert_allclose(ucb["score"], -MU + SIGMA)
    default_best = acquisition_parts("pi", Objective("max"), MU, SIGMA)["score"]  # incumbent = max μ = 3
    np.testing.assert_allclose(default_best[2], 0.5)


def test_ranked_table_columns_top_diversity_and_failures() -> None:
    table = pd.concat([TABLE, pd.DataFrame({"structure_id": ["bad"], "formula": [""], "gap_eV": [np.nan],
                                            "sigma_eV": [np.nan], "status": ["error"]})])
    ranked = rank(table, Objective("max"), "ucb", top=3)
    assert list(ranked["rank"]) == [1, 2, 3] and "bad" not in set(ranked["structure_id"])
    assert {"score", "part_exploit", "part_explore"} <= set(ranked.columns)
    diverse = rank(table, Objective("max"), "greedy", diversity=1)
    assert list(diverse["structure_id"]) == ["c", "d"]  # one per chemical system: Cu-C, then C-Zn


def test_objective_parsing() -> None:
    assert Objective.parse("window:1:3") == Objective("window", 1.0, 3.0)
    for text in ("window:3:1", "window:a:b", "between", "window:1"):
        with pytest.raises(ValueError, match="objective must be"):
            Objective.parse(text)
    with pytest.raises(ValueError, match="use window-prob"):
        acquisition_parts("ei", Objective.parse("window:1:2"), MU, SIGMA)
    with pytest.raises(ValueError, match="needs a window"):
        acquisition_parts("window-prob", Objective("max"), MU, SIGMA)


def test_screen_command(tmp_path: Path) -> None:
    TABLE.to_csv(tmp_path / "p.csv", index=False)
    result = CliRunner().invoke(app, ["screen", str(tmp_path / "p.csv"), "--objective", "window:1.8:2.2",
                                      "--acquisition", "window-prob", "--top", "2", "-o", str(tmp_path / "r.csv")])
    assert result.exit_code == 0, result.output
    ranked = pd.read_csv(tmp_path / "r.csv")
    assert list(ranked["structure_id"]) == ["b", "d"]
    bad = CliRunner().invoke(app, ["screen", str(tmp_path / "p.csv"), "--objective", "window:2:1"])
    assert bad.exit_code == 2 and "objective must be" in bad.output


def test_retrospective_screening_step(tmp_path: Path, sample: Path) -> None:
    """Perfect predictions find every hit once the budget allows; noisy ones fewer; random by expectation."""
    import json
    import shutil

    from mofgap.data.qmof import QMOF

    root = tmp_path / "qmof"
    shutil.copytree(sample, root)
    split = root / "splits" / "jarvis_leaderboard.csv"
    lines = split.read_text().splitlines()
    split.write_text("\n".join([lines[0]] + [line.replace(",test", ",train") for line in lines[1:101]]
                               + lines[101:]) + "\n")
    table = QMOF(root).table()
    test = table[table["split"] == "test"]
    rng = np.random.default_rng(0)
    for name, noise in (("perfect", 0.0), ("noisy", 1.0)):
        mu = test["gap_eV"].to_numpy() + noise * rng.standard_normal(len(test))
        pd.DataFrame({"structure_id": test["qmof_id"], "gap_eV": mu, "sigma_eV": 0.1 + noise,
                      "status": "ok"}).to_csv(tmp_path / f"{name}.csv", index=False)
    result = CliRunner().invoke(app, ["study", "screening", "--qmof", str(root), "--model",
                                      f"perfect={tmp_path / 'perfect.csv'}", "--model",
                                      f"noisy={tmp_path / 'noisy.csv'}", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "screening.json").read_text())
    window, top = summary.values()
    assert window["n"] == 150
    b50 = window["budgets"].index(50)
    assert window["strategies"]["perfect · greedy"]["mean"][b50] == min(50, window["hits_available"])
    assert top["strategies"]["perfect · greedy"]["mean"][0] == top["hits_available"]  # ≤ 10 hits at B = 10
    assert top["random"][0] == pytest.approx(10 * top["hits_available"] / 150)
    assert (tmp_path / "out" / "hits_task1.png").is_file() and "| random (expected) |" in (
        tmp_path / "out" / "screening.md").read_text()
