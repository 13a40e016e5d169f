"""``mofgap compare``: a markdown table and figures from several evaluations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def compare(
    evaluations: Annotated[list[Path], typer.Argument(
        help="Folders written by `mofgap evaluate` (seeds of one method share a name).", metavar="EVAL_DIRS...",
        exists=True)],
    out: Annotated[Path, typer.Option(help="Folder for comparison.md, summary.json and the figures.",
                                      metavar="<path>")],
) -> None:
    """Mean ± std over seeds of every metric, per method, with calibration and sparsification figures."""
    import json

    from mofgap.uq.compare import comparison_figures, group_by_name, markdown_table, read_evaluation, summary
    from mofgap.utils.atomic import atomic_write_bytes

    groups = group_by_name([read_evaluation(folder) for folder in evaluations])
    table = markdown_table(groups)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "comparison.md", table.encode())
    atomic_write_bytes(out / "summary.json", (json.dumps(summary(groups), indent=1) + "\n").encode())
    comparison_figures(groups, out)
    typer.echo(table)
