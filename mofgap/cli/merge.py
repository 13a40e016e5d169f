"""``mofgap merge``: one prediction table from the outputs of `mofgap predict --shard I/N`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def merge(
    outputs: Annotated[list[Path], typer.Argument(help="Every shard's output table.", metavar="SHARD_OUTPUTS...",
                                                  exists=True, dir_okay=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Merged table (.csv or .parquet).",
                                         metavar="FILE")],
) -> None:
    """Merge shard outputs in input order; fail if a shard, a file or a row is missing or repeated."""
    from mofgap.prediction.output import write_table
    from mofgap.prediction.shards import ShardMergeError, merge_shards

    try:
        table = merge_shards(outputs)
    except ShardMergeError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    write_table(table, output)
    counts = table["status"].value_counts()
    typer.echo(f"merged {len(outputs)} shards: {len(table)} rows, {int(counts.get('ok', 0))} ok; wrote {output}")
