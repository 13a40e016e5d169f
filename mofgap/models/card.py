"""Model cards: the README.md of a model folder, written from its config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mofgap.utils.atomic import atomic_write_bytes

QMOF_CITATION = (
    "QMOF (CC BY 4.0): Rosen et al., Matter 4, 1578 (2021); Rosen et al., npj Comput. Mater. 8, 112 (2022). "
    "QMOF-Thermo energies above hull (BSD-3). Split: JARVIS-Leaderboard qmof_bandgap."
)


def markdown_table(rows: dict[str, Any]) -> str:
    """A two-column markdown table of key → value."""
    lines = ["| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in rows.items()]
    return "\n".join(lines)


def write_backbone_card(folder: Path, config: dict[str, Any]) -> None:
    """Write the model card of a pretrained backbone folder."""
    training = config["training"]
    data = config["data"]
    errors = config["holdout_mae"]
    name = folder.name
    text = f"""# {name}

A graph transformer backbone for MOF crystal graphs, pretrained by mofgap on DFT properties of
QMOF structures from the **train** split only. It never saw a band gap: the band-gap head is
fine-tuned on top of it.

## Architecture

{markdown_table(config["architecture"])}

Parameters: {config["n_parameters"]:,}. Graph: {config["graph"]["max_neighbors"]} nearest neighbours within
{config["graph"]["cutoff"]} Å.

## Data

{markdown_table({"source": "QMOF (PBE), JARVIS-Leaderboard split",
                 "structures used": data["n_train"] + data["n_holdout"],
         "trained on": data["n_train"], "held out for early stopping": data["n_holdout"],
         "train ids sha256": data["train_ids_sha256"], "targets": ", ".join(data["targets"])})}

## Held-out errors (MAE at the selected epoch {config["best_epoch"]})

{markdown_table({k: f"{v:.4g}" for k, v in errors.items()})}

Units: charges in e, bond-order sums dimensionless, magnetic moments in μB, energy above hull in eV/atom.

## Training

{markdown_table({"epochs run": training["epochs_run"], "wall time": f"{training['seconds'] / 60:.1f} min",
         "hardware": training["hardware"], "command": f"`{training['command']}`"})}

## Files

{markdown_table({f"`{k}`": f"sha256 `{v}`" for k, v in config["weights"].items()})}

`training_metrics.csv`, where present, holds the per-epoch training loss, held-out loss and
per-target held-out MAE of the run.

Load with `mofgap.models.load_backbone("{name}")`; loading checks the keys and the sha256.

## Citation

{QMOF_CITATION}
"""
    atomic_write_bytes(folder / "README.md", text.encode())
