"""``mofgap predict``: band gaps with uncertainties for structure files, one row per structure."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mofgap.io.options import DEFAULT_MAX_ATOMS


def predict(
    paths: Annotated[list[str], typer.Argument(help="Structure files, folders or globs (CIF, POSCAR, extxyz; .gz).",
                                               metavar="PATHS...")],
    model: Annotated[str | None, typer.Option(help="Shipped model name or folder (default: the shipped "
                                                    "default band-gap model).", metavar="NAME|DIR")] = None,
    samples: Annotated[int, typer.Option(min=1, help="Stochastic passes M.")] = 32,
    batch_atoms: Annotated[int, typer.Option(min=1, help="Atoms per prediction batch.")] = 20_000,
    workers: Annotated[int, typer.Option(min=1, help="Featurization processes.")] = 1,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output table (.csv or .parquet; "
                                                                        "default: CSV on stdout).",
                                                metavar="FILE")] = None,
    on_error: Annotated[str, typer.Option(help="skip: a failed structure gets an error row; raise: stop.")] = "skip",
    max_atoms: Annotated[int, typer.Option(min=1, help="Largest cell accepted (atoms).")] = DEFAULT_MAX_ATOMS,
    coverage: Annotated[float, typer.Option(help="Target coverage of the lower_eV/upper_eV interval.")] = 0.9,
    cache: Annotated[Path | None, typer.Option(help="Graph cache folder.", metavar="<path>")] = None,
    device: Annotated[str, typer.Option(help="cpu | cuda.")] = "cpu",
    resume: Annotated[bool, typer.Option(help="Keep the rows an earlier run wrote to --output and "
                                              "predict only the rest.")] = False,
    shard: Annotated[str | None, typer.Option(help="I/N: predict only shard I (0-based) of N of the inputs; "
                                                   "combine the outputs with `mofgap merge`.",
                                              metavar="I/N")] = None,
) -> None:
    """Predict band gaps (eV) with total, epistemic and aleatoric σ and a calibrated interval."""
    import sys
    import time

    import pandas as pd
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from mofgap.io.paths import expand_paths
    from mofgap.models.registry import ModelLoadError
    from mofgap.prediction.engine import PredictSettings, file_records, predict_records
    from mofgap.prediction.output import COLUMNS, TableWriter, resumable_rows
    from mofgap.prediction.predictor import Predictor
    from mofgap.prediction.shards import Shard, write_sidecar

    console = Console(stderr=True)
    if on_error not in ("skip", "raise"):
        raise typer.BadParameter("--on-error must be skip or raise")
    if resume and output is None:
        raise typer.BadParameter("--resume needs --output")
    if shard is not None and output is None:
        raise typer.BadParameter("--shard needs --output")
    try:
        files = expand_paths(paths)
        part = Shard.parse(shard) if shard is not None else None
    except (FileNotFoundError, ValueError) as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    if part is not None and output is not None:
        write_sidecar(output, part, files)
        files = part.select(files)
    try:
        settings = PredictSettings(samples=samples, batch_atoms=batch_atoms, coverage=coverage, workers=workers,
                                   max_atoms=max_atoms, on_error=on_error, cache_dir=cache)  # type: ignore[arg-type]
        predictor = Predictor(model, device=device)
    except (ModelLoadError, ValueError, OSError) as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from error
    previous = resumable_rows(output) if resume and output is not None else None
    if previous is not None and len(previous) and set(previous["model_sha256"]) != {predictor.sha256}:
        console.print(f"[red]error:[/red] {output} holds rows of another model; not resuming into it")
        raise typer.Exit(2)
    if (note := predictor.calibration_note(samples)) is not None:
        console.print(f"[yellow]note:[/yellow] {note}")
    done = set(previous["source_path"]) if previous is not None else set()
    todo = [f for f in files if str(f) not in done]
    writer = TableWriter(output, previous) if output is not None else None
    collected: list[dict] = []
    started = time.perf_counter()
    seen: set[str] = set()
    columns = [TextColumn("predicting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    try:
        with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
            task = progress.add_task("predict", total=len(todo))
            for rows in predict_records(file_records(todo, settings), predictor, settings):
                if writer is not None:
                    writer.append(rows)
                else:
                    collected.extend(rows)
                new = {row["source_path"] for row in rows} - seen
                seen |= new
                progress.advance(task, len(new))
    except Exception as error:
        if writer is not None:
            writer.close()
        console.print(f"[red]stopped:[/red] {type(error).__name__}: {error}"
                      + (f" (rows so far kept; rerun with --resume -o {output})" if output else ""))
        raise typer.Exit(1) from error
    if writer is not None:
        table = writer.finish()
    else:
        table = pd.DataFrame(collected, columns=list(COLUMNS))
        sys.stdout.write(table.to_csv(index=False))
    seconds = time.perf_counter() - started
    counts = table["status"].value_counts()
    ok = int(counts.get("ok", 0))
    console.print(f"{len(table)} structures from {len(files)} files ({len(files) - len(todo)} kept from before): "
                  f"{ok} ok, {int(counts.get('error', 0))} failed, {int(counts.get('skipped', 0))} skipped "
                  f"in {seconds:.1f} s; model {predictor.name}, M = {samples}"
                  + (f"; wrote {output}" if output else ""))
    if ok == 0 and len(table) > 0:  # nothing could be predicted (an empty shard is not a failure)
        raise typer.Exit(1)
