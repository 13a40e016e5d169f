"""The study's report: ``RESULTS/report.md`` from the committed outputs of every step.

Reads ``comparison/summary.json`` (test, mean ± std over seeds), ``ablation/`` (validation),
``curves/curves.json``, and per run ``run/metrics.csv``, ``benchmark-*.tsv`` and the model folder.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
from pathlib import Path
from typing import Any

import yaml
from safetensors import safe_open

from mofgap.uq.compare import format_mean_std, mean_std
from mofgap.utils.atomic import atomic_write_bytes

CGCNN_TARGET_EV = 0.27
ALIGNN_EV = 0.202


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


def _shown_path(path: Path) -> str:
    """``path`` relative to the working directory (the repository root under the workflow) when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def parameter_count(model_dir: Path) -> int:
    """Numbers stored in a model folder's weights (adapter + head, or every weight for FT)."""
    total = 0
    for weights in model_dir.glob("*.safetensors"):
        with safe_open(str(weights), "pt") as handle:
            for key in handle.keys():  # noqa: SIM118 (safe_open has no __iter__)
                total += math.prod(handle.get_slice(key).get_shape())
    return total


def run_costs(folder: Path) -> dict[str, float]:
    """Training seconds (sum over epochs) and CPU seconds of every step with a benchmark file."""
    costs: dict[str, float] = {}
    metrics = folder / "run" / "metrics.csv"
    if metrics.is_file():
        with metrics.open() as stream:
            costs["train_epoch_s"] = sum(float(row["seconds"]) for row in csv.DictReader(stream))
    for bench in sorted(folder.glob("benchmark-*.tsv")):
        with bench.open() as stream:
            row = next(csv.DictReader(stream, delimiter="\t"))
        costs[f"{bench.stem.removeprefix('benchmark-')}_wall_s"] = float(row["s"])
        costs[f"{bench.stem.removeprefix('benchmark-')}_cpu_s"] = float(row["cpu_time"])
    return costs


def _cost_table(results: Path) -> str:
    rows = ["| step folder | stored parameters | train time (sum of epochs) | CPU time of each step's last run |",
            "|---|---|---|---|"]
    for folder in sorted([*results.glob("ablation/*/"), *results.glob("runs/*/"), *results.glob("ensembles/*/")]):
        if not folder.is_dir() or (not (folder / "run").exists() and folder.parent.name != "ensembles"):
            continue
        costs = run_costs(folder)
        params = parameter_count(folder / "model") if (folder / "model").is_dir() else 0
        cpu = ", ".join(f"{k.removesuffix('_cpu_s')} {v:.0f} s" for k, v in costs.items() if k.endswith("_cpu_s"))
        train = f"{costs['train_epoch_s'] / 60:.1f} min" if "train_epoch_s" in costs else "–"
        rows.append(f"| {folder.relative_to(results)} | {params:,} | {train} | {cpu or '–'} |")
    return "\n".join(rows)


def _curve_table(curves: dict[str, Any]) -> str:
    lines = ["| model | passes | MAE (eV) | ρ total σ | ρ epistemic σ |", "|---|---|---|---|---|"]
    for name, curve in curves.items():
        for index, count in enumerate(curve["mae"]["count"]):
            cells = [format_mean_std([curve[key]["mean"][index], curve[key]["std"][index]], len(curve["seeds"]))
                     for key in ("mae", "spearman_total", "spearman_epistemic")]
            lines.append(f"| {name} | {count} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _monotone(values: list[float]) -> bool:
    return all(later >= earlier for earlier, later in itertools.pairwise(values))


def headline(summary: dict[str, Any], curves: dict[str, Any]) -> list[str]:
    """Sentences with the headline numbers, whatever they are."""
    lines = []
    get = summary.get
    for name, stats in summary.items():
        mae, rho = (format_mean_std(stats.get(key), stats["seeds"]) for key in ("mae", "spearman"))
        lines.append(f"- {name}: test MAE {mae} eV, Spearman ρ(σ, |error|) {rho} (n = {stats['seeds']}).")
    balora, ensemble, lora, ft = get("BaLoRA"), get("LoRA ensemble"), get("LoRA"), get("FT")
    if balora:
        n_ens = ensemble["seeds"] if ensemble else 0
        mae = balora["mae"][0]
        lines.append(f"- BaLoRA test MAE {mae:.3f} eV: target ≤ {CGCNN_TARGET_EV} eV "
                     f"{'met' if mae <= CGCNN_TARGET_EV else 'NOT met'}; ALIGNN's {ALIGNN_EV} eV "
                     f"{'beaten' if mae < ALIGNN_EV else 'not beaten'}.")
        if ensemble:
            diff = balora["spearman"][0] - ensemble["spearman"][0]
            lines.append(f"- ρ(σ, |error|): BaLoRA {format_mean_std(balora['spearman'])} vs LoRA ensemble "
                         f"{format_mean_std(ensemble['spearman'], n_ens)} "
                         f"({'BaLoRA higher' if diff > 0 else 'ensemble higher'} by {abs(diff):.3f}).")
        if lora and ft:
            gap = lora["mae"][0] - ft["mae"][0]
            if gap > 0:
                closed = (lora["mae"][0] - mae) / gap
                share = f"{100 * closed:.0f} % of it" if closed > 0 else (
                    f"none of it (BaLoRA {mae:.3f} vs LoRA {lora['mae'][0]:.3f} eV)")
                lines.append(f"- LoRA → FT accuracy gap {gap:.3f} eV; BaLoRA closes {share}.")
            else:
                lines.append(f"- LoRA is not worse than FT here (LoRA {lora['mae'][0]:.3f} vs FT "
                             f"{ft['mae'][0]:.3f} eV): no gap to close.")
        lines.append(f"- BaLoRA calibration: miscalibration area "
                     f"{format_mean_std(balora.get('miscalibration_area'))} raw → "
                     f"{format_mean_std(balora.get('calibrated.miscalibration_area'))} after validation σ-scaling; "
                     f"90 % conformal coverage on test {format_mean_std(balora.get('conformal.coverage'))}.")
        if ensemble and "epistemic.sharpness" in balora and "epistemic.sharpness" in ensemble:
            lines.append(f"- Epistemic σ alone: BaLoRA mean {format_mean_std(balora['epistemic.sharpness'])} eV, ρ "
                         f"{format_mean_std(balora.get('epistemic.spearman'))}; LoRA ensemble mean "
                         f"{format_mean_std(ensemble['epistemic.sharpness'], n_ens)} eV, ρ "
                         f"{format_mean_std(ensemble.get('epistemic.spearman'), n_ens)}.")
    for name, curve in curves.items():
        rho, mae_m, counts = curve["spearman_total"]["mean"], curve["mae"]["mean"], curve["mae"]["count"]
        passes = "K" if "ensemble" in name.lower() else "M"
        lines.append(f"- {name} versus {passes} ({counts[0]}…{counts[-1]}): ρ {rho[0]:.3f} → {rho[-1]:.3f} "
                     f"({'monotone' if _monotone(rho) else 'not monotone'} in the seed mean), MAE "
                     f"{mae_m[0]:.3f} → {mae_m[-1]:.3f} eV "
                     f"({'monotone' if _monotone([-m for m in mae_m]) else 'not monotone'}).")
    return lines


def validation_curves(results: Path) -> dict[str, list[list[float]]]:
    """Validation MAE (eV) per epoch of every seed, by method: ``runs/<method>-s<seed>/run/metrics.csv``."""
    by_method: dict[str, list[list[float]]] = {}
    for metrics in sorted(results.glob("runs/*-s*/run/metrics.csv")):
        method = metrics.parents[1].name.rsplit("-s", 1)[0]
        with metrics.open() as stream:
            by_method.setdefault(method, []).append([float(row["val_mae_eV"]) for row in csv.DictReader(stream)])
    return by_method


def validation_curve_table(by_method: dict[str, list[list[float]]]) -> str:
    """Markdown: mean validation MAE per epoch over the seeds that finished it, and the last epoch's change."""
    epochs = max((len(run) for runs in by_method.values() for run in runs), default=0)
    lines = ["| method | seeds | " + " | ".join(f"epoch {e + 1}" for e in range(epochs))
             + " | change over the last epoch (eV) |", "|---|---|" + "---|" * (epochs + 1)]
    for method, runs in by_method.items():
        stats = [mean_std([run[e] if len(run) > e else None for run in runs]) for e in range(epochs)]
        means = [None if stat is None else stat[0] for stat in stats]
        cells = ["–" if m is None else f"{m:.3f}" for m in means]
        finished = [m for m in means if m is not None]
        change = f"{finished[-1] - finished[-2]:+.3f}" if len(finished) > 1 else "–"
        lines.append(f"| {method} | {len(runs)} | " + " | ".join(cells) + f" | {change} |")
    return "\n".join(lines)


def write_report(results: str | Path, config_file: str | Path) -> Path:
    """Write ``results/report.md`` and return its path."""
    results = Path(results)
    config = yaml.safe_load(Path(config_file).read_text())
    summary = _json(results / "comparison" / "summary.json")
    curves = _json(results / "curves" / "curves.json")
    selected = _json(results / "ablation" / "selected.json")
    ablation = config["ablation"]
    backbone = config.get("backbone", "pretrained by the workflow")
    shown_config = _shown_path(Path(config_file))
    ablation_setup = f"seed {ablation['seed']}, {ablation['epochs']} epochs, M = {ablation['samples']}"
    text = f"""# BaLoRA versus baselines on QMOF band gaps

Data: QMOF PBE band gaps, JARVIS-Leaderboard split (train for fitting, val for every choice, test
reported once per final configuration). Backbone `{backbone}`; every method fine-tuned for
{config["epochs"]} epochs (KL warm-up {config["kl_warmup_epochs"]}), seeds {config["seeds"]}; LoRA ensemble
of K = {config["ensemble"]["members"]} members ({config["ensemble"]["repeats"]} ensemble(s)); headline
numbers at M = {config["eval_samples"]} samples; σ-scaling and conformal intervals fitted on val.

Reproduce: `snakemake -s workflows/Snakefile --configfile {shown_config} --profile workflows/profiles/local study`
(finished steps are kept; the command resumes).

## Headline (test split, mean ± std over seeds)

{chr(10).join(headline(summary, curves))}

{(results / "comparison" / "comparison.md").read_text()}
Figures: `comparison/` (calibration, binned errors, sparsification, MAE and ρ bars); per run
`runs/*/eval-test/` (parity, calibration, sparsification).

## Ablation of BaLoRA (validation split, {ablation_setup})

Selection rule, fixed before the runs: {selected["rule"]}. Selected: **{selected["selected"]}**.

{(results / "ablation" / "comparison.md").read_text()}
## Validation MAE per epoch (eV, mean over seeds)

Every method has the same epoch budget. The learning rate is annealed to 0 by the last epoch, so a
small last-epoch change does not show convergence; a large one shows a method still improving.

{validation_curve_table(validation_curves(results))}

## Accuracy and ranking versus test-time compute (test split)

{_curve_table(curves)}

Figures: `curves/spearman_total_vs_passes`, `curves/spearman_epistemic_vs_passes`, `curves/mae_vs_passes`.

## Compute

Train time sums the epochs' wall-clock seconds over every part of a resumed run; CPU time comes
from the workflow's benchmark of each step's last run (for a resumed fine-tuning, its last part).

{_cost_table(results)}
"""
    path = results / "report.md"
    atomic_write_bytes(path, text.encode())
    return path
