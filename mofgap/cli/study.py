"""``mofgap study``: the steps of the BaLoRA-versus-baselines study that are not general commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

study = typer.Typer(help="Steps of the QMOF uncertainty study (driven by workflows/).", no_args_is_help=True)


@study.command()
def samples(
    qmof: Annotated[Path, typer.Option(help="QMOF folder (official layout).", metavar="<path>")],
    split: Annotated[str, typer.Option(help="train | val | test.")],
    model: Annotated[list[Path], typer.Option(
        help="Fine-tuned model folder; give it K ≥ 2 times for an ensemble (one pass per member).",
        metavar="<path>")],
    out: Annotated[Path, typer.Option(help="Output .npz.", metavar="<path>")],
    passes: Annotated[int, typer.Option("--samples", min=1, help="Stochastic passes M (single model).")] = 32,
    cache: Annotated[Path | None, typer.Option(help="Graph cache folder.", metavar="<path>")] = None,
    split_file: Annotated[Path | None, typer.Option(help="qmof_id,split file (default: the QMOF folder's).",
                                                    metavar="<path>")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Featurization processes.")] = 2,
    seed: Annotated[int, typer.Option(help="Seed of the noise draws.")] = 0,
) -> None:
    """Per-structure predictive samples of a model or an ensemble on one QMOF split."""
    from mofgap.data.graphs import qmof_graphs
    from mofgap.data.qmof import QMOF
    from mofgap.study.samples import ensemble_samples, model_samples

    graphs = qmof_graphs(QMOF(qmof), splits=(split,), split_file=split_file, cache_dir=cache,
                         workers=workers).graphs
    result = ensemble_samples(model, graphs) if len(model) > 1 else model_samples(model[0], graphs, passes, seed)
    result.save(out)
    typer.echo(f"wrote {out}: {result.means.shape[0]} passes × {result.means.shape[1]} structures")


@study.command()
def table(
    sample_file: Annotated[Path, typer.Argument(help="Samples .npz from `mofgap study samples`.", metavar="SAMPLES",
                                                exists=True, dir_okay=False)],
    out: Annotated[Path, typer.Option(help="Prediction table (.csv).", metavar="<path>")],
    passes: Annotated[int | None, typer.Option(
        "--samples", min=1, help="Use the first M passes (default: all).")] = None,
    name: Annotated[str, typer.Option(help="Value of the model column.")] = "",
) -> None:
    """The prediction table of a sample set, with the columns of `mofgap predict`."""
    from mofgap.study.samples import SampleSet
    from mofgap.utils.atomic import atomic_write_bytes

    frame = SampleSet.load(sample_file).table(passes, name)
    atomic_write_bytes(out, frame.to_csv(index=False).encode())
    typer.echo(f"wrote {out}: {len(frame)} rows")


@study.command()
def curves(
    sets: Annotated[list[str], typer.Argument(help="NAME=SAMPLES.npz; repeat a name for its seeds.",
                                              metavar="NAME=SAMPLES...")],
    out: Annotated[Path, typer.Option(help="Output folder: curves.json and figures.", metavar="<path>")],
) -> None:
    """MAE and Spearman ρ versus the number of passes (M for sampled models, K for ensembles)."""
    import json

    from mofgap.study.curves import SAMPLE_COUNTS, across_seeds, curve
    from mofgap.study.samples import SampleSet
    from mofgap.uq import plots
    from mofgap.utils.atomic import atomic_write_bytes

    per_name: dict[str, list[dict]] = {}
    for entry in sets:
        name, _, path = entry.partition("=")
        if not path:
            raise typer.BadParameter(f"expected NAME=SAMPLES.npz, got {entry!r}")
        samples = SampleSet.load(path)
        counts = SAMPLE_COUNTS if samples.means.shape[0] > 8 else tuple(range(1, samples.means.shape[0] + 1))
        per_name.setdefault(name, []).append(curve(samples, counts))
    summary = {name: {key: across_seeds(runs, key) for key in ("mae", "spearman_total", "spearman_epistemic")}
               | {"seeds": runs} for name, runs in per_name.items()}
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "curves.json", (json.dumps(summary, indent=1) + "\n").encode())
    for key, label in (("spearman_total", "Spearman ρ(σ total, |error|)"),
                       ("spearman_epistemic", "Spearman ρ(σ epistemic, |error|)"), ("mae", "MAE / eV")):
        plots.metric_vs_count({name: s[key] for name, s in summary.items()}, out / f"{key}_vs_passes",
                              xlabel="passes (M samples or K members)", ylabel=label)
    typer.echo(f"wrote {out / 'curves.json'}")


@study.command()
def ship(
    runs: Annotated[list[Path], typer.Argument(help="BaLoRA run folders of the study (one per seed).",
                                               metavar="RUN_DIRS...", exists=True, file_okay=False)],
    labels: Annotated[Path, typer.Option(help="Label table (QMOF's qmof.csv).", metavar="<path>", exists=True)],
    out: Annotated[Path, typer.Option(help="Model folder to write (models/<name>).", metavar="<path>")],
    passes: Annotated[int, typer.Option("--samples", min=1, help="M of the runs' prediction tables.")] = 32,
) -> None:
    """Copy the seed with the lowest validation NLL to a model folder, with calibration and a model card."""
    from mofgap.study.ship import ship as ship_model

    folder = ship_model(runs, labels, out, passes)
    typer.echo(f"wrote {folder}")


@study.command()
def report(
    results: Annotated[Path, typer.Option(help="The study's results folder.", metavar="<path>", exists=True)],
    config_file: Annotated[Path, typer.Option(help="The workflow config of the study.", metavar="<path>",
                                              exists=True)],
) -> None:
    """Write RESULTS/report.md: headline table, ablation, curves over M and K, targets, compute."""
    from mofgap.study.report import write_report

    path = write_report(results, config_file)
    typer.echo(f"wrote {path}")


WINDOW = "window:1.2:1.5"
"""Solar-absorber window around the Shockley–Queisser optimum (eV), one of the two screening targets."""


@study.command()
def screening(
    qmof: Annotated[Path, typer.Option(help="QMOF folder (labels and split).", metavar="<path>")],
    model: Annotated[list[str], typer.Option(help="NAME=TEST_PREDICTIONS.csv; repeat a name for its seeds.",
                                             metavar="NAME=FILE")],
    out: Annotated[Path, typer.Option(help="Output folder.", metavar="<path>")],
    split_file: Annotated[Path | None, typer.Option(help="qmof_id,split file (default: the QMOF folder's).",
                                                    metavar="<path>")] = None,
) -> None:
    """Retrospective screening on the test split: hits found within B DFT calls, per strategy."""
    import json

    import numpy as np

    from mofgap.data.qmof import QMOF
    from mofgap.screening import Objective
    from mofgap.screening.retrospective import Task, evaluate_task, markdown
    from mofgap.uq import plots
    from mofgap.uq.tables import match_predictions, read_table
    from mofgap.utils.atomic import atomic_write_bytes

    table = QMOF(qmof).table(split_file=split_file)
    test = table[table["split"] == "test"]
    labels = test.set_index("qmof_id")["gap_eV"]
    # candidates: test structures every prediction table has an ok row for (all strategies see the same pool)
    matched = [(entry.partition("=")[0], match_predictions(read_table(entry.partition("=")[2]), labels))
               for entry in model]
    pool = sorted(set.intersection(*(set(m.ids) for _, m in matched)))
    y = labels.loc[pool].to_numpy()
    top_threshold = float(np.quantile(y, 0.99))
    train_top = float(np.quantile(table.loc[table["split"] == "train", "gap_eV"], 0.99))
    window = Objective.parse(WINDOW)
    tasks = [
        Task(f"gap in [{window.low}, {window.high}] eV", window, window.hits(y), None,
             (("greedy", "greedy", 0.0), ("window-prob", "window-prob", 0.0), ("ucb κ=1", "ucb", 1.0))),
        Task(f"top 1 % gaps (≥ {top_threshold:.2f} eV)", Objective("max"), y >= top_threshold, train_top,
             (("greedy", "greedy", 0.0), ("ucb κ=1", "ucb", 1.0), ("ucb κ=2", "ucb", 2.0),
              ("ei (incumbent: train top 1 %)", "ei", 0.0), ("pi (incumbent: train top 1 %)", "pi", 0.0))),
    ]
    predictions: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for name, one in matched:
        position = {structure: i for i, structure in enumerate(one.ids)}
        order = [position[structure] for structure in pool]
        predictions.setdefault(name, []).append((one.mu[order], one.sigma[order]))
    results = {task.name: evaluate_task(task, predictions) for task in tasks}
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "screening.json", (json.dumps(results, indent=1) + "\n").encode())
    atomic_write_bytes(out / "screening.md", markdown(results).encode())
    for index, (name, result) in enumerate(results.items()):
        budgets = result["budgets"]
        series = {"random": {"count": budgets, "mean": result["random"], "std": [0.0] * len(budgets)}}
        series |= {label: {"count": budgets, **values} for label, values in result["strategies"].items()}
        plots.metric_vs_count(series, out / f"hits_task{index + 1}", xlabel="budget B (DFT calls)",
                              ylabel=f"hits found: {name}")
    typer.echo(markdown(results))
