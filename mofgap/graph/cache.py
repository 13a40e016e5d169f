"""On-disk graph cache keyed by file content and by every setting that changes the graph.

Layout: ``<root>/<settings key>/<sha[:2]>/<sha>.npz`` with ``settings.json`` in each settings folder.
The settings key hashes the graph settings, the reader options and the graph format version, so any
change of them reads and writes a different folder (old entries are never returned). The entry name
hashes the detected file format and the file's bytes. Entries hold every structure of the file,
failures included (their error type and cause), and are written atomically.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mofgap.graph.featurize import ARRAY_DTYPES, GraphArrays
from mofgap.graph.neighbors import GraphSettings
from mofgap.io.options import ReadOptions
from mofgap.utils.atomic import atomic_write, atomic_write_bytes


@dataclass(frozen=True, slots=True)
class StructureOutcome:
    """What featurizing one structure of a file gave (cacheable, picklable).

    Attributes:
        sub_id: block or frame id inside the file (empty for a file's only structure).
        formula: reduced formula ("" on failure).
        arrays: the graph arrays, or ``None`` on failure.
        error_type: the :class:`~mofgap.io.errors.StructureReadError` subclass name ("" on success).
        error_cause: the error's cause, without the file name ("" on success).
    """

    sub_id: str
    formula: str = ""
    arrays: GraphArrays | None = None
    error_type: str = ""
    error_cause: str = ""


def content_key(raw: bytes, fmt: str) -> str:
    """SHA-256 of a file's detected format and bytes (hex)."""
    digest = hashlib.sha256(fmt.encode())
    digest.update(b"\0")
    digest.update(raw)
    return digest.hexdigest()


def settings_key(settings: GraphSettings, options: ReadOptions) -> str:
    """Short hash of everything besides the file content that decides a cached entry."""
    blob = json.dumps({"graph": settings.as_dict(), "read": options.as_dict()}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class GraphCache:
    """A folder of cached graphs for one combination of graph settings and reader options."""

    def __init__(self, root: str | Path, settings: GraphSettings, options: ReadOptions) -> None:
        self.folder = Path(root) / settings_key(settings, options)
        self.folder.mkdir(parents=True, exist_ok=True)
        manifest = self.folder / "settings.json"
        if not manifest.exists():
            text = json.dumps({"graph": settings.as_dict(), "read": options.as_dict()}, indent=2)
            atomic_write_bytes(manifest, text.encode())

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.npz"

    def load(self, key: str) -> list[StructureOutcome] | None:
        """The cached outcomes of a file, or ``None`` if absent or unreadable."""
        path = self._path(key)
        try:
            with np.load(path, allow_pickle=False) as stored:
                meta = json.loads(str(stored["meta"]))
                outcomes = []
                for index, entry in enumerate(meta):
                    arrays = None
                    if not entry["error_type"]:
                        arrays = {name: stored[f"b{index}_{name}"] for name in ARRAY_DTYPES}
                    outcomes.append(StructureOutcome(arrays=arrays, **entry))
                return outcomes
        except (OSError, KeyError, ValueError):
            return None

    def store(self, key: str, outcomes: list[StructureOutcome]) -> None:
        """Write a file's outcomes atomically (a concurrent writer of the same key is harmless)."""
        meta = [
            {"sub_id": o.sub_id, "formula": o.formula, "error_type": o.error_type, "error_cause": o.error_cause}
            for o in outcomes
        ]
        arrays = {
            f"b{index}_{name}": value
            for index, outcome in enumerate(outcomes)
            if outcome.arrays is not None
            for name, value in outcome.arrays.items()
        }
        atomic_write(self._path(key), lambda stream: np.savez(stream, meta=np.array(json.dumps(meta)), **arrays))
