"""Progress bars on stderr, shown only to a person at a terminal."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import track

Item = TypeVar("Item")


def progress_bar(items: Iterable[Item], *, total: int, description: str, enabled: bool = True,
                 transient: bool = False) -> Iterator[Item]:
    """``items``, with a progress bar on stderr while they are consumed.

    The bar (and the refresh thread that draws it) exists only when ``enabled`` and stderr is a
    terminal: logs, pipes and captured streams get the items alone.

    Args:
        items: what to iterate over.
        total: number of items (for the percentage).
        description: label left of the bar.
        enabled: show the bar at all.
        transient: erase the bar when done.
    """
    console = Console(stderr=True)
    if not (enabled and console.is_terminal):
        yield from items
        return
    yield from track(items, total=total, description=description, console=console, transient=transient)
