"""Structures in, one prediction row per structure out: featurize in windows, batch by atoms, sample.

Files are read ``WINDOW_FILES`` at a time, so memory depends on the window and the batch size, never
on how many files there are. A structure that cannot be read or predicted still gets its row, with
``status`` and ``error``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch_geometric.data import Batch

from mofgap.graph.featurize import arrays_to_data, graph_arrays
from mofgap.graph.neighbors import GraphSettings
from mofgap.graph.pipeline import GraphRecord, featurize_files
from mofgap.io.errors import StructureReadError
from mofgap.io.options import DEFAULT_MAX_ATOMS, OnError, ReadOptions
from mofgap.io.validate import validate_structure
from mofgap.prediction.batching import DEFAULT_BATCH_ATOMS, atom_bounded_groups
from mofgap.prediction.predictor import BatchPrediction, Predictor

WINDOW_FILES = 256
"""Files featurized per window (bounds the graphs held in memory at once)."""


@dataclass(frozen=True)
class PredictSettings:
    """How to predict.

    Attributes:
        samples: stochastic passes M.
        batch_atoms: atoms per prediction batch.
        coverage: target coverage of the ``lower_eV``/``upper_eV`` interval.
        workers: featurization processes.
        max_atoms: largest cell accepted (atoms).
        on_error: ``skip`` (record failures as rows) or ``raise`` at the first failure.
        cache_dir: graph cache root (``None``: no cache).
        seed: seed of the noise draws, reset for every batch, so the same inputs with the same batch settings
            give the same numbers.
    """

    samples: int = 32
    batch_atoms: int = DEFAULT_BATCH_ATOMS
    coverage: float = 0.9
    workers: int = 1
    max_atoms: int = DEFAULT_MAX_ATOMS
    on_error: OnError = "skip"
    cache_dir: str | Path | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.samples < 1:
            raise ValueError(f"samples must be ≥ 1, got {self.samples}")
        if not 0 < self.coverage < 1:
            raise ValueError(f"coverage must be in (0, 1), got {self.coverage}")


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _row(record: GraphRecord, predictor: Predictor, prediction: BatchPrediction | None = None, index: int = 0,
         error: str = "") -> dict[str, Any]:
    row: dict[str, Any] = {
        "structure_id": record.structure_id, "source_path": record.source_path, "formula": record.formula,
        "n_atoms": record.n_atoms, "model": predictor.name, "model_sha256": predictor.sha256,
    }
    if prediction is None:
        reason = error or (_error_text(record.error) if record.error else "")
        status = "error" if error else record.status
        return row | dict.fromkeys(("gap_eV", "sigma_eV", "sigma_epistemic_eV", "sigma_aleatoric_eV", "lower_eV",
                                    "upper_eV"), np.nan) | {"status": status, "error": reason}
    return row | {
        "gap_eV": float(prediction.gap[index]), "sigma_eV": float(prediction.sigma[index]),
        "sigma_epistemic_eV": float(prediction.sigma_epistemic[index]),
        "sigma_aleatoric_eV": float(prediction.sigma_aleatoric[index]),
        "lower_eV": float(prediction.lower[index]), "upper_eV": float(prediction.upper[index]),
        "status": "ok", "error": "",
    }


Rows = list[dict[str, Any]]


def predict_group(group: Sequence[GraphRecord], predictor: Predictor, settings: PredictSettings) -> Rows:
    """Rows of one group of records, in order; a batch that fails is retried one structure at a time."""
    with torch.random.fork_rng(devices=[]):  # the caller's random state is left alone
        torch.manual_seed(settings.seed)
        return _predict_group(group, predictor, settings)


def _predict_group(group: Sequence[GraphRecord], predictor: Predictor, settings: PredictSettings) -> Rows:
    ready = [r for r in group if r.graph is not None]
    predictions: dict[int, tuple[BatchPrediction, int] | str] = {}
    if ready:
        try:
            batch = predictor.predict(Batch.from_data_list([r.graph for r in ready]), settings.samples,
                                      settings.coverage)
            predictions = {id(r): (batch, i) for i, r in enumerate(ready)}
        except (RuntimeError, ValueError) as batch_error:
            if len(ready) == 1:
                predictions = {id(ready[0]): f"PredictionError: {batch_error}"}
            else:
                for record in ready:
                    predictions |= _predict_alone(record, predictor, settings)
    rows = []
    for record in group:
        outcome = predictions.get(id(record))
        if isinstance(outcome, tuple):
            rows.append(_row(record, predictor, outcome[0], outcome[1]))
        else:
            rows.append(_row(record, predictor, error=outcome or ""))
    return rows


def _predict_alone(record: GraphRecord, predictor: Predictor, settings: PredictSettings) -> dict[int, Any]:
    try:
        return {id(record): (predictor.predict(Batch.from_data_list([record.graph]), settings.samples,
                                               settings.coverage), 0)}
    except (RuntimeError, ValueError) as error:
        return {id(record): f"PredictionError: {error}"}


def file_records(paths: Sequence[Path], settings: PredictSettings,
                 graph_settings: GraphSettings | None = None) -> Iterator[GraphRecord]:
    """Records of every structure in ``paths``, featurized ``WINDOW_FILES`` files at a time."""
    options = ReadOptions(max_atoms=settings.max_atoms)
    for start in range(0, len(paths), WINDOW_FILES):
        yield from featurize_files(paths[start:start + WINDOW_FILES], settings=graph_settings, options=options,
                                   cache_dir=settings.cache_dir, workers=settings.workers,
                                   on_error=settings.on_error)


def structure_record(structure: Any, structure_id: str, settings: PredictSettings,
                     graph_settings: GraphSettings | None = None) -> GraphRecord:
    """The record of an in-memory pymatgen ``Structure`` or ASE ``Atoms`` (validated like a file)."""
    from ase import Atoms
    from pymatgen.io.ase import AseAtomsAdaptor

    try:
        if isinstance(structure, Atoms):
            if not all(structure.pbc):
                raise StructureReadError(structure_id, "not periodic in all three directions")
            structure = AseAtomsAdaptor.get_structure(structure)
        usable, numbers = validate_structure(structure, ReadOptions(max_atoms=settings.max_atoms), structure_id)
    except StructureReadError as error:
        if settings.on_error == "raise":
            raise
        return GraphRecord(structure_id, "", "", None, error)
    arrays = graph_arrays(usable, numbers, graph_settings or GraphSettings())
    graph = arrays_to_data(arrays, structure_id=structure_id, source_path="")
    return GraphRecord(structure_id, "", usable.composition.reduced_formula, graph, None)


def predict_records(
    records: Iterable[GraphRecord], predictor: Predictor, settings: PredictSettings
) -> Iterator[Rows]:
    """Rows per atom-bounded group of ``records``, in input order."""
    for group in atom_bounded_groups(records, settings.batch_atoms):
        yield predict_group(group, predictor, settings)
