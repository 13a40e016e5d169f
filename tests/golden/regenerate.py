"""Regenerate the golden outputs of the shipped models (run only when the shipped weights change).

    python tests/golden/regenerate.py
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from mofgap.data.sample import sample_dir
from mofgap.graph.pipeline import featurize_files
from mofgap.models import load_backbone

SHIPPED_BACKBONE = "gt-qmof-pbe-atomprops-d64l4-v1"
FIXTURES = ("qmof-772af30", "qmof-017c7fa", "qmof-9b6e28a")
"""Three sample MOFs: 26, 40 and 476 atoms."""

GOLDEN = Path(__file__).with_name("backbone_features.json")
GOLDEN_PREDICTIONS = Path(__file__).with_name("default_model_predictions.json")
PREDICTION_COLUMNS = ("gap_eV", "sigma_eV", "sigma_epistemic_eV", "sigma_aleatoric_eV", "lower_eV", "upper_eV")


@torch.no_grad()
def crystal_features() -> dict[str, list[float]]:
    """Crystal features of the shipped backbone for the fixture CIFs."""
    backbone = load_backbone(SHIPPED_BACKBONE).eval()
    paths = [sample_dir() / "relaxed_structures" / f"{name}.cif" for name in FIXTURES]
    return {r.structure_id: backbone(r.graph)[1][0].tolist() for r in featurize_files(paths)}


def default_model_predictions() -> dict[str, dict[str, float]]:
    """`mofgap.predict` with the shipped default model (M = 32, default seed) for the fixture CIFs."""
    from mofgap.prediction import predict

    table = predict([sample_dir() / "relaxed_structures" / f"{name}.cif" for name in FIXTURES], samples=32)
    return {row["structure_id"]: {c: float(row[c]) for c in PREDICTION_COLUMNS} for _, row in table.iterrows()}


if __name__ == "__main__":
    from mofgap.prediction import DEFAULT_MODEL

    GOLDEN.write_text(json.dumps({"backbone": SHIPPED_BACKBONE, "features": crystal_features()}, indent=1) + "\n")
    GOLDEN_PREDICTIONS.write_text(json.dumps({"model": DEFAULT_MODEL, "samples": 32,
                                              "predictions": default_model_predictions()}, indent=1) + "\n")
    print(f"wrote {GOLDEN} and {GOLDEN_PREDICTIONS}")
