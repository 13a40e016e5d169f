"""Labelled QMOF graphs for training and evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data

from mofgap.data.atom_targets import read_atom_targets
from mofgap.data.qmof import QMOF
from mofgap.graph.neighbors import GraphSettings
from mofgap.graph.pipeline import GraphRecord, featurize_files


@dataclass(frozen=True, slots=True)
class LabelledGraphs:
    """Graphs with labels, and the structures that could not be featurized.

    Attributes:
        graphs: one ``Data`` per structure, with ``y`` (1,) the PBE band gap (eV), ``qmof_id``, and,
            when requested, ``y_atom`` (N, T) per-atom pretraining targets (NaN where missing) and
            ``ehull`` (1,) energy above hull (eV/atom, NaN where missing).
        failures: records of the structures left out, with their errors.
    """

    graphs: list[Data]
    failures: list[GraphRecord]


def qmof_graphs(
    qmof: QMOF,
    *,
    splits: tuple[str, ...] | None = None,
    split_file: str | Path | None = None,
    limit: int = 0,
    settings: GraphSettings | None = None,
    cache_dir: str | Path | None = None,
    workers: int = 1,
    atom_targets: tuple[str, ...] = (),
    progress: bool = False,
) -> LabelledGraphs:
    """Featurize QMOF structures (optionally only some splits) and attach their labels.

    Args:
        qmof: the database on disk.
        splits: keep only these splits (``None``: every structure).
        split_file: the split file to use (default: the database's own).
        limit: keep only the first ``limit`` structures after the split filter (0: all).
        settings: graph settings.
        cache_dir: graph cache root (``None``: no cache).
        workers: featurization processes.
        atom_targets: per-atom CIF columns to attach as ``y_atom`` (e.g.
            :data:`~mofgap.data.atom_targets.PBE_ATOM_TARGETS`); targets only, never inputs.
        progress: show a progress bar.
    """
    table = qmof.table(split_file=split_file)
    if splits is not None:
        table = table[table["split"].isin(splits)]
    if limit:
        table = table.head(limit)
    ehull = qmof.ehull() if atom_targets else None
    gaps = dict(zip(table["qmof_id"], table["gap_eV"], strict=False))
    graphs, failures = [], []
    records = featurize_files(
        table["cif_path"].tolist(), settings=settings, cache_dir=cache_dir, workers=workers,
        on_error="skip", progress=progress,
    )
    for record in records:
        if record.graph is None:
            failures.append(record)
            continue
        graph = record.graph
        graph.qmof_id = record.structure_id
        graph.y = torch.tensor([gaps[record.structure_id]], dtype=torch.float32)
        if atom_targets:
            graph.y_atom = torch.from_numpy(_atom_targets(record, atom_targets)).float()
            value = ehull.get(record.structure_id, np.nan) if ehull is not None else np.nan
            graph.ehull = torch.tensor([value], dtype=torch.float32)
        graphs.append(graph)
    return LabelledGraphs(graphs, failures)


def _atom_targets(record: GraphRecord, columns: tuple[str, ...]) -> np.ndarray:
    """Per-atom targets aligned with the graph's nodes, matched through their fractional coordinates."""
    assert record.graph is not None
    pos = record.graph.pos.double().numpy()
    cell = record.graph.cell[0].double().numpy()
    return read_atom_targets(Path(record.source_path).read_text(), pos @ np.linalg.inv(cell), columns)
