"""Files → graphs, in parallel worker processes, through the cache, one record per structure."""

from __future__ import annotations

import functools
import multiprocessing
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from torch_geometric.data import Data

from mofgap.graph.cache import GraphCache, StructureOutcome, content_key
from mofgap.graph.featurize import arrays_to_data, graph_arrays
from mofgap.graph.neighbors import GraphSettings
from mofgap.io.errors import StructureReadError, UnreadableFileError, rebuild_error
from mofgap.io.options import OnError, ReadOptions
from mofgap.io.read import Status, apply_on_error, detect_format, load_bytes, read_bytes, status_of, structure_id_for
from mofgap.utils.progress import progress_bar

CHUNK_FILES = 8
"""Files handed to a worker at a time: large enough to amortise inter-process overhead."""


@dataclass(frozen=True, slots=True)
class GraphRecord:
    """One structure's graph, or the reason there is none.

    Attributes:
        structure_id: file stem, plus ``#block``/``#frame`` when a file holds several structures.
        source_path: the file it came from.
        formula: reduced formula ("" on failure).
        graph: the graph (see :mod:`mofgap.graph.featurize`), ``None`` on failure.
        error: what went wrong, ``None`` on success.
        from_cache: whether the graph was read from the cache.
    """

    structure_id: str
    source_path: str
    formula: str
    graph: Data | None
    error: StructureReadError | None
    from_cache: bool = False

    @property
    def status(self) -> Status:
        """``ok``, ``skipped`` (excluded by the disorder policy) or ``error``."""
        return status_of(self.error)

    @property
    def n_atoms(self) -> int:
        """Atoms in the cell (0 on failure)."""
        return 0 if self.graph is None else int(self.graph.num_nodes)


@functools.lru_cache(maxsize=4)
def _open_cache(root: str, settings: GraphSettings, options: ReadOptions) -> GraphCache:
    return GraphCache(root, settings, options)


@dataclass(frozen=True, slots=True)
class FileFeaturizer:
    """Featurizes one file into :class:`StructureOutcome` s; picklable, so it runs in worker processes.

    Attributes:
        settings: graph settings.
        options: reader options.
        cache_dir: graph cache root, or ``None`` for no cache.
    """

    settings: GraphSettings
    options: ReadOptions
    cache_dir: str | None = None

    def __call__(self, path: Path) -> tuple[list[StructureOutcome], bool]:
        """The outcomes of every structure in ``path`` and whether they came from the cache."""
        try:
            raw = load_bytes(path)
        except UnreadableFileError as error:
            return [StructureOutcome("", error_type=type(error).__name__, error_cause=error.cause)], False
        cache = _open_cache(self.cache_dir, self.settings, self.options) if self.cache_dir else None
        key = content_key(raw, detect_format(path) or "unknown")
        if cache is not None and (cached := cache.load(key)) is not None:
            return cached, True
        outcomes = []
        for record in read_bytes(raw, path, options=self.options):
            if record.structure is None or record.atomic_numbers is None:
                error = record.error
                assert error is not None
                outcomes.append(
                    StructureOutcome(record.sub_id, error_type=type(error).__name__, error_cause=error.cause)
                )
                continue
            arrays = graph_arrays(record.structure, record.atomic_numbers, self.settings)
            outcomes.append(StructureOutcome(record.sub_id, record.structure.composition.reduced_formula, arrays))
        if cache is not None:
            cache.store(key, outcomes)
        return outcomes, False


def to_records(path: Path, outcomes: list[StructureOutcome], from_cache: bool) -> list[GraphRecord]:
    """Turn one file's outcomes into :class:`GraphRecord` s (graphs as ``Data``, errors rebuilt)."""
    records = []
    for outcome in outcomes:
        structure_id = structure_id_for(path, outcome.sub_id)
        if outcome.arrays is None:
            source = f"{path}#{outcome.sub_id}" if outcome.sub_id else str(path)
            error = rebuild_error(outcome.error_type, source, outcome.error_cause)
            records.append(GraphRecord(structure_id, str(path), "", None, error, from_cache))
            continue
        graph = arrays_to_data(outcome.arrays, structure_id=structure_id, source_path=str(path))
        records.append(GraphRecord(structure_id, str(path), outcome.formula, graph, None, from_cache))
    return records


def _pool_context() -> multiprocessing.context.BaseContext:
    # Workers never touch torch, so fork is safe on Linux and saves the re-import of pymatgen.
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def featurize_files(
    paths: Sequence[str | Path],
    *,
    settings: GraphSettings | None = None,
    options: ReadOptions | None = None,
    cache_dir: str | Path | None = None,
    workers: int = 1,
    on_error: OnError = "warn",
    progress: bool = False,
) -> Iterator[GraphRecord]:
    """Graphs of every structure in ``paths``, in input order, one record per structure.

    Args:
        paths: structure files (see :func:`mofgap.io.read_structures`).
        settings: neighbour-graph settings.
        options: reader options (disorder policy, size and element limits).
        cache_dir: graph cache root; ``None`` disables caching.
        workers: worker processes (1 = in this process).
        on_error: ``raise`` at the first failed structure, ``warn``, or ``skip`` silently; failed
            structures are always yielded as records unless raised.
        progress: show a progress bar over files.
    """
    files = [Path(p) for p in paths]
    job = FileFeaturizer(settings or GraphSettings(), options or ReadOptions(), str(cache_dir) if cache_dir else None)
    records = _records(files, job, workers, progress)
    yield from apply_on_error(records, on_error)


def _records(files: list[Path], job: FileFeaturizer, workers: int, progress: bool) -> Iterator[GraphRecord]:
    if workers <= 1 or len(files) <= 1:
        yield from _collect(files, map(job, files), progress)
        return
    with _pool_context().Pool(processes=workers) as pool:
        yield from _collect(files, pool.imap(job, files, chunksize=CHUNK_FILES), progress)


def _collect(
    files: list[Path], results: Iterable[tuple[list[StructureOutcome], bool]], progress: bool
) -> Iterator[GraphRecord]:
    shown = progress_bar(zip(files, results, strict=False), total=len(files), description="featurizing",
                         enabled=progress)
    for path, (outcomes, from_cache) in shown:
        yield from to_records(path, outcomes, from_cache)
