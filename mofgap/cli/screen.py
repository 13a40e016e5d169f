"""``mofgap screen``: rank predicted MOFs by an acquisition function."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def screen(
    predictions: Annotated[Path, typer.Argument(help="Prediction table from `mofgap predict` (CSV/Parquet).",
                                                metavar="PREDICTIONS", exists=True, dir_okay=False)],
    objective: Annotated[str, typer.Option(help="max, min, or window:LO:HI (eV).")] = "max",
    acquisition: Annotated[str, typer.Option(help="greedy | ucb | lcb | ei | pi | window-prob | max-sigma.")] = "ucb",
    top: Annotated[int, typer.Option(min=1, help="Candidates to keep.")] = 20,
    kappa: Annotated[float, typer.Option(min=0.0, help="Exploration weight κ of ucb/lcb.")] = 2.0,
    best: Annotated[float | None, typer.Option(help="Incumbent gap (eV) for ei/pi (default: the best "
                                                    "predicted gap).")] = None,
    diversity: Annotated[int, typer.Option(min=0, help="At most this many picks per chemical system "
                                                       "(0: no limit).")] = 0,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Ranked table (.csv; default: stdout).",
                                                metavar="FILE")] = None,
) -> None:
    """Ranked candidates with their score and the terms it is made of (see mofgap.screening.acquisition)."""
    import sys

    from mofgap.screening import Objective, rank
    from mofgap.uq.tables import read_table
    from mofgap.utils.atomic import atomic_write_bytes

    try:
        goal = Objective.parse(objective)
        ranked = rank(read_table(predictions), goal, acquisition, top=top, kappa=kappa, best=best,
                      diversity=diversity)
    except (ValueError, KeyError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    text = ranked.to_csv(index=False)
    if output is None:
        sys.stdout.write(text)
    else:
        atomic_write_bytes(output, text.encode())
        typer.echo(f"wrote {output}: top {len(ranked)} by {acquisition} for {objective}", err=True)
