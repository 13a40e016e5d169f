"""Expand files, folders and glob patterns into a list of structure files."""

from __future__ import annotations

import glob
from collections.abc import Iterable
from pathlib import Path

from mofgap.io.read import detect_format


def expand_paths(inputs: Iterable[str | Path]) -> list[Path]:
    """Files, folders (searched recursively for structure files) and globs → a list of files.

    Explicit files are kept whatever their name (so that a bad name still gets an error row);
    folder and glob matches are kept only if their name is a known structure format. Each folder and
    glob's matches are sorted; the order of ``inputs`` is kept and duplicates are dropped.

    Raises:
        FileNotFoundError: an input that is neither a file, a folder, nor a glob with matches.
    """
    found: dict[Path, None] = {}
    for item in inputs:
        path = Path(item)
        if path.is_file():
            found.setdefault(path, None)
        elif path.is_dir():
            for candidate in sorted(p for p in path.rglob("*") if p.is_file() and detect_format(p)):
                found.setdefault(candidate, None)
        else:
            matches = sorted(Path(m) for m in glob.glob(str(item), recursive=True))
            files = [m for m in matches if m.is_file() and detect_format(m)]
            if not files:
                raise FileNotFoundError(f"no structure file matches {str(item)!r}")
            for match in files:
                found.setdefault(match, None)
    return list(found)
