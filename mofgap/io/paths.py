"""Expand files, folders and glob patterns into a list of structure files."""

from __future__ import annotations

import glob
from collections.abc import Iterable
from pathlib import Path

from mofgap.io.read import detect_format


def expand_paths(inputs: Iterable[str | Path]) -> list[Path]:
    """Files, folders (searched recursively for structure files) and globs → a list of files.

    A path that is not a glob is kept as a file even if it does not exist or has an unknown name,
    so that it gets an error row rather than vanishing; folder and glob matches are kept only if
    their name is a known structure format. Each folder's and glob's matches are sorted; the order of
    ``inputs`` is kept and duplicates are dropped.

    Raises:
        FileNotFoundError: nothing at all to read.
    """
    found: dict[Path, None] = {}
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            candidates = sorted(p for p in path.rglob("*") if p.is_file() and detect_format(p))
        elif glob.has_magic(str(item)):
            matches = sorted(Path(m) for m in glob.glob(str(item), recursive=True))
            candidates = [m for m in matches if m.is_file() and detect_format(m)]
        else:
            candidates = [path]
        for candidate in candidates:
            found.setdefault(candidate, None)
    if not found:
        raise FileNotFoundError(f"no structure file found in {[str(i) for i in inputs]}")
    return list(found)
