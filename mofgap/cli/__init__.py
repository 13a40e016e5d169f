"""The ``mofgap`` command line: one module per command, heavy imports inside the commands."""

from __future__ import annotations

from typing import Annotated

import typer

from mofgap._version import __version__
from mofgap.cli.compare import compare
from mofgap.cli.evaluate import evaluate
from mofgap.cli.featurize import featurize
from mofgap.cli.finetune import finetune
from mofgap.cli.merge import merge
from mofgap.cli.predict import predict
from mofgap.cli.pretrain import pretrain
from mofgap.cli.screen import screen
from mofgap.cli.study import study

app = typer.Typer(
    name="mofgap",
    help="Band gaps of metal-organic frameworks from their crystal structures, with uncertainties.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(predict)
app.command()(screen)
app.command()(merge)
app.command()(featurize)
app.command()(pretrain)
app.command()(finetune)
app.command()(evaluate)
app.command()(compare)
app.add_typer(study, name="study")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"mofgap {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Band gaps of metal-organic frameworks from their crystal structures, with uncertainties."""


def main() -> None:
    """Entry point of the ``mofgap`` console script."""
    app()
