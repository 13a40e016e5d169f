"""``mofgap.predict``: the Python entry point, on the same engine as ``mofgap predict``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from mofgap.graph.pipeline import GraphRecord
from mofgap.io.paths import expand_paths
from mofgap.prediction.engine import PredictSettings, file_records, predict_records, structure_record
from mofgap.prediction.output import COLUMNS
from mofgap.prediction.predictor import Predictor

PathLike = str | Path


def _as_list(inputs: Any) -> list[Any]:
    from ase import Atoms
    from pymatgen.core import Structure

    single = (str, Path, Structure, Atoms)  # structures are iterable (over sites/atoms) but are one input
    if isinstance(inputs, single) or not isinstance(inputs, Iterable):
        return [inputs]
    return list(inputs)


def input_records(inputs: Iterable[Any], settings: PredictSettings) -> Iterator[GraphRecord]:
    """Records of paths (files, folders, globs) and in-memory structures, in the order given.

    In-memory structures are named ``structure_<i>`` by their position in ``inputs``.
    """
    pending: list[PathLike] = []
    for position, item in enumerate(inputs):
        if isinstance(item, (str, Path)):
            pending.append(item)
            continue
        if pending:
            yield from file_records(expand_paths(pending), settings)
            pending = []
        yield structure_record(item, f"structure_{position}", settings)
    if pending:
        yield from file_records(expand_paths(pending), settings)


def predict(
    inputs: PathLike | Any | Iterable[PathLike | Any],
    model: str | Path | Predictor | None = None,
    *,
    samples: int = 32,
    coverage: float = 0.9,
    batch_atoms: int | None = None,
    workers: int = 1,
    on_error: str = "skip",
    cache_dir: str | Path | None = None,
    device: str = "cpu",
) -> pd.DataFrame:
    """Band gaps (eV) with uncertainties for structure files, folders, globs, pymatgen ``Structure`` s or
    ASE ``Atoms``: one row per structure (columns :data:`~mofgap.prediction.output.COLUMNS`), failures included.

    Args:
        inputs: one input or a sequence of them.
        model: shipped model name, folder, or a loaded :class:`Predictor` (default: the shipped default).
        samples: stochastic passes M.
        coverage: target coverage of ``lower_eV``/``upper_eV``.
        batch_atoms: atoms per prediction batch (default :data:`~mofgap.prediction.batching.DEFAULT_BATCH_ATOMS`).
        workers: featurization processes.
        on_error: ``skip`` (failed structures become rows with ``status``/``error``) or ``raise``.
        cache_dir: graph cache root.
        device: ``cpu`` or ``cuda``.
    """
    predictor = model if isinstance(model, Predictor) else Predictor(model, device=device)
    settings = PredictSettings(samples=samples, coverage=coverage, workers=workers, on_error=on_error,  # type: ignore[arg-type]
                               cache_dir=cache_dir,
                               **({"batch_atoms": batch_atoms} if batch_atoms is not None else {}))
    rows = [row for group in predict_records(input_records(_as_list(inputs), settings), predictor, settings)
            for row in group]
    return pd.DataFrame(rows, columns=list(COLUMNS))
