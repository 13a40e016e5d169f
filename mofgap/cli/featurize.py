"""``mofgap featurize``: structure files → cached neighbour graphs, with a report per structure."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from mofgap.io.options import DEFAULT_MAX_ATOMS


def featurize(
    paths: Annotated[list[str], typer.Argument(help="Structure files, folders (searched recursively) or globs.")],
    cache: Annotated[Path, typer.Option(help="Graph cache folder (created if missing).")],
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    cutoff: Annotated[float, typer.Option(min=0.5, help="Neighbour search radius (Å).")] = 6.0,
    max_neighbors: Annotated[int, typer.Option(min=1, help="Nearest neighbours kept per atom.")] = 12,
    disorder: Annotated[str, typer.Option(help="Partial occupancies: error | majority | skip.")] = "error",
    max_atoms: Annotated[int, typer.Option(min=1, help="Largest cell accepted (atoms).")] = DEFAULT_MAX_ATOMS,
    on_error: Annotated[
        str, typer.Option(help="A failed structure: warn | skip (record it) or raise (stop).")
    ] = "skip",
    report: Annotated[Path | None, typer.Option(help="Also write the per-structure report as CSV.")] = None,
    quiet: Annotated[bool, typer.Option(help="List only failed structures, then the summary.")] = False,
) -> None:
    """Featurize structures into periodic neighbour graphs and cache them; report each structure."""
    import pandas as pd
    from rich.console import Console

    from mofgap.graph.neighbors import GraphSettings
    from mofgap.graph.pipeline import featurize_files
    from mofgap.io.errors import StructureReadError
    from mofgap.io.options import ReadOptions, check_on_error
    from mofgap.io.paths import expand_paths
    from mofgap.utils.atomic import atomic_write

    console = Console(stderr=True)
    try:
        files = expand_paths(paths)
        options = ReadOptions(disorder=disorder, max_atoms=max_atoms)  # type: ignore[arg-type]
        settings = GraphSettings(cutoff=cutoff, max_neighbors=max_neighbors)
        policy = check_on_error(on_error)
    except (FileNotFoundError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc

    start = time.perf_counter()
    rows = []
    try:
        for record in featurize_files(
            files, settings=settings, options=options, cache_dir=cache, workers=workers, on_error=policy,
            progress=True,
        ):
            edges = 0 if record.graph is None else int(record.graph.edge_index.shape[1])
            rows.append(
                {
                    "structure_id": record.structure_id,
                    "source_path": record.source_path,
                    "formula": record.formula,
                    "n_atoms": record.n_atoms,
                    "n_edges": edges,
                    "status": record.status,
                    "error": "" if record.error is None else str(record.error),
                    "cached": record.from_cache,
                }
            )
            if record.status == "ok" and not quiet:
                typer.echo(f"ok       {record.structure_id}  {record.formula}  {record.n_atoms} atoms  {edges} edges")
            elif record.status != "ok":
                typer.echo(f"{record.status:<8} {record.structure_id}  {record.error}")
    except StructureReadError as exc:
        console.print(f"[red]stopped (--on-error raise):[/red] {exc}")
        raise typer.Exit(1) from exc

    table = pd.DataFrame(rows)
    if report is not None:
        atomic_write(report, lambda stream: table.to_csv(stream, index=False))
    counts = table["status"].value_counts()
    console.print(
        f"{len(files)} files, {len(table)} structures: {counts.get('ok', 0)} ok, "
        f"{counts.get('error', 0)} failed, {counts.get('skipped', 0)} skipped "
        f"({int(table['cached'].sum())} from cache) in {time.perf_counter() - start:.1f} s; cache: {cache}"
    )
