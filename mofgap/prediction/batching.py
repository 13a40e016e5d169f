"""Group featurized records into prediction batches bounded by their total number of atoms."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from mofgap.graph.pipeline import GraphRecord

DEFAULT_BATCH_ATOMS = 20_000
"""Atoms per prediction batch: large enough to keep 2 CPU cores busy, small enough for a laptop's memory."""


def atom_bounded_groups(records: Iterable[GraphRecord], max_atoms: int) -> Iterator[list[GraphRecord]]:
    """Consecutive records whose graphs hold at most ``max_atoms`` atoms together, in input order.

    Failed records (no graph) count as zero atoms and stay in place; a structure larger than
    ``max_atoms`` forms a group of its own.
    """
    if max_atoms < 1:
        raise ValueError(f"max_atoms must be ≥ 1, got {max_atoms}")
    group: list[GraphRecord] = []
    atoms = 0
    for record in records:
        if group and atoms + record.n_atoms > max_atoms:
            yield group
            group, atoms = [], 0
        group.append(record)
        atoms += record.n_atoms
    if group:
        yield group
