"""Ship the study's BaLoRA model: pick the seed on validation, copy it to ``models/<name>/`` with a card.

The folder holds the adapter (``adapter.safetensors``, ``adapter_config.json``), ``calibration.json``
(σ scale and conformal scores fitted on the validation split), ``test_metrics.json`` (the study's
evaluation of this run) and the model card ``README.md``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mofgap.adapters.io import ADAPTER_CONFIG, ADAPTER_WEIGHTS
from mofgap.models.card import QMOF_CITATION, markdown_table
from mofgap.uq.calibration import CALIBRATION_FILE, Calibration
from mofgap.uq.metrics import gaussian_nll
from mofgap.uq.tables import match_predictions, read_labels, read_table
from mofgap.utils.atomic import atomic_write, atomic_write_bytes

TEST_METRICS_FILE = "test_metrics.json"


def validation_nll(run_dir: Path, labels: Path) -> float:
    """Gaussian NLL of a run's validation predictions."""
    matched = match_predictions(read_table(run_dir / "val-predictions.csv"), read_labels(labels))
    return gaussian_nll(matched.y, matched.mu, matched.sigma)


def ship(run_dirs: Sequence[str | Path], labels: str | Path, out: str | Path, samples: int) -> Path:
    """Copy the run with the lowest validation NLL to ``out`` and write its calibration and card.

    ``samples`` is the M the runs' prediction tables were made with.
    """
    runs = [Path(r) for r in run_dirs]
    scores = {run: validation_nll(run, Path(labels)) for run in runs}
    finite = [run for run in runs if math.isfinite(scores[run])]
    if not finite:
        raise ValueError("no run has a finite validation NLL")
    chosen = min(finite, key=lambda run: scores[run])
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name in (ADAPTER_WEIGHTS, ADAPTER_CONFIG):
        source = chosen / "model" / name
        atomic_write(folder / name, lambda stream, source=source: stream.write(source.read_bytes()))
    val = match_predictions(read_table(chosen / "val-predictions.csv"), read_labels(labels))
    evaluation = json.loads((chosen / "eval-test" / "metrics.json").read_text())
    calibration = Calibration.fit(val.y, val.mu, val.sigma, samples)
    atomic_write_bytes(folder / CALIBRATION_FILE, (json.dumps(calibration.as_dict()) + "\n").encode())
    test = {"samples": samples, **{key: evaluation[key] for key in ("counts", "metrics", "components", "calibrated")}}
    atomic_write_bytes(folder / TEST_METRICS_FILE, (json.dumps(test, indent=1) + "\n").encode())
    write_card(folder, chosen, scores, test)
    return folder


def write_card(folder: Path, chosen: Path, scores: dict[Path, float], test: dict[str, Any]) -> None:
    """The model card of a shipped band-gap model."""
    document = json.loads((folder / ADAPTER_CONFIG).read_text())
    m, cal = test["metrics"], test["calibrated"]
    finetune = document["finetune"]
    text = f"""# {folder.name}

Band gap (PBE, eV) of metal-organic frameworks with an uncertainty: the pretrained backbone
`{document["base_model"]}` with a BaLoRA adapter (rank {document["adapter"]["rank"]}) and a Gaussian
head, fine-tuned on the QMOF **train** split, chosen on the **validation** split, evaluated once on
the **test** split (JARVIS-Leaderboard `qmof_bandgap`). `mofgap predict` uses it when no model is named.

## Test metrics (n = {m["n"]:.0f}, M = {test["samples"]} samples)

{markdown_table({
    "MAE": f"{m['mae']:.3f} eV", "RMSE": f"{m['rmse']:.3f} eV", "R²": f"{m['r2']:.3f}",
    "Spearman ρ(σ, abs. error)": f"{m['spearman']:.3f}", "AUSE": f"{m['ause']:.3f} eV",
    "miscalibration area (raw → σ-scaled)":
        f"{m['miscalibration_area']:.3f} → {cal['metrics']['miscalibration_area']:.3f}",
    "Gaussian NLL (raw → σ-scaled)": f"{m['nll']:.3f} → {cal['metrics']['nll']:.3f}",
    "90 % conformal interval: coverage, mean width":
        f"{cal['conformal']['coverage']:.3f}, {cal['conformal']['mean_width_eV']:.2f} eV",
    "mean σ (total / epistemic / aleatoric)": f"{m['sharpness']:.3f} / "
        f"{test['components']['epistemic']['sharpness']:.3f} / {test['components']['aleatoric']['sharpness']:.3f} eV",
})}

σ-scale fitted on validation: {cal["sigma_scale"]:.3f} (applied by `mofgap predict`); conformal scores in
`{CALIBRATION_FILE}`; every metric in `{TEST_METRICS_FILE}`. The DFT labels are PBE gaps, which
underestimate experimental gaps.

## Training

{markdown_table({
    "method": document["method"], "adapter": f"`{json.dumps(document['adapter'])}`",
    "epochs": finetune["epochs"], "learning rate": finetune["learning_rate"],
    "best epoch": document["best_epoch"], "train structures": document["n_train"],
    "train time": f"{document['train_seconds'] / 60:.1f} min on {document['hardware']}",
    "command": f"`{document['command']}`",
    "seed chosen on validation NLL": ", ".join(f"{run.name}: {nll:.4f}" for run, nll in scores.items())
        + f" → {chosen.name}",
})}

Load with `mofgap.models.finetuned.load_finetuned("models/{folder.name}")`.

## Citation

{QMOF_CITATION}
"""
    atomic_write_bytes(folder / "README.md", text.encode())
