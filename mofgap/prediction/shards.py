"""Sharded prediction: a deterministic split of the inputs into N parts, and a merge that checks them.

Shard I of N takes the files whose position k in the expanded input list has k mod N = I. Each shard's
table gets a sidecar ``<output>.shard.json`` naming its shard, the checksum of the full input list
and its files; :func:`merge_shards` refuses missing, repeated or foreign shards, lost files and
duplicated rows, and restores the original input order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mofgap.prediction.output import read_rows
from mofgap.utils.atomic import atomic_write_bytes


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (0-based) of ``count``."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``I/N`` with 0 ≤ I < N."""
        try:
            index, count = (int(part) for part in text.split("/"))
        except ValueError:
            index, count = -1, 0
        if not 0 <= index < count:
            raise ValueError(f"shard must be I/N with 0 ≤ I < N, got {text!r}")
        return cls(index, count)

    def select(self, files: Sequence[Path]) -> list[Path]:
        """This shard's files, in input order."""
        return [f for k, f in enumerate(files) if k % self.count == self.index]


class ShardMergeError(ValueError):
    """Shard outputs that do not add up to exactly the inputs."""


def sidecar_path(output: Path) -> Path:
    """Where a shard's description lives."""
    return output.with_name(output.name + ".shard.json")


def inputs_digest(files: Sequence[Path]) -> str:
    """Checksum of the full, ordered input list (identifies the run the shards belong to)."""
    return hashlib.sha256("\n".join(map(str, files)).encode()).hexdigest()


def write_sidecar(output: Path, shard: Shard, files: Sequence[Path]) -> None:
    """Describe a shard's output: its shard, the whole input list's checksum, its own files."""
    document = {"shard": shard.index, "of": shard.count, "inputs_sha256": inputs_digest(files),
                "n_inputs": len(files), "files": [str(f) for f in shard.select(files)]}
    atomic_write_bytes(sidecar_path(output), (json.dumps(document, indent=1) + "\n").encode())


def merge_shards(outputs: Sequence[Path]) -> pd.DataFrame:
    """One table from every shard's output, in the original input order; checked for completeness."""
    shards = []
    for output in outputs:
        sidecar = sidecar_path(output)
        if not sidecar.is_file():
            raise ShardMergeError(f"{output}: no {sidecar.name}; was it written by `mofgap predict --shard`?")
        shards.append((output, json.loads(sidecar.read_text())))
    runs = {(doc["inputs_sha256"], doc["of"]) for _, doc in shards}
    if len(runs) != 1:
        raise ShardMergeError("the outputs come from different inputs or shard counts")
    count = shards[0][1]["of"]
    seen = sorted(doc["shard"] for _, doc in shards)
    if seen != list(range(count)):
        missing = sorted(set(range(count)) - set(seen))
        repeated = sorted({s for s in seen if seen.count(s) > 1})
        raise ShardMergeError(f"expected shards 0..{count - 1}: missing {missing}, repeated {repeated}")
    frames = []
    for output, doc in shards:
        rows = read_rows(output)
        expected = set(doc["files"])
        found = set(rows["source_path"])
        if found != expected:
            raise ShardMergeError(f"{output}: files without rows {sorted(expected - found)[:3]}, "
                                  f"rows from files outside the shard {sorted(found - expected)[:3]}")
        position = {path: j * count + doc["shard"] for j, path in enumerate(doc["files"])}
        frames.append(rows.assign(_position=rows["source_path"].map(position)))
    merged = pd.concat(frames, ignore_index=True)
    duplicated = merged.duplicated(["source_path", "structure_id"])
    if duplicated.any():
        raise ShardMergeError(f"duplicated rows, e.g. {merged.loc[duplicated, 'structure_id'].iloc[0]!r}")
    if merged["_position"].nunique() != shards[0][1]["n_inputs"]:
        raise ShardMergeError("the shards do not cover every input file")
    return merged.sort_values("_position", kind="stable").drop(columns="_position").reset_index(drop=True)
