"""Read structure files into validated records: one record per structure, failures included."""

from __future__ import annotations

import gzip
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, TypeVar

import numpy as np
from pymatgen.core import Structure

from mofgap.io.ase_formats import iter_ase_structures
from mofgap.io.cif import iter_cif_structures
from mofgap.io.errors import (
    BinaryFileError,
    DisorderSkippedError,
    EmptyFileError,
    StructureReadError,
    UnreadableFileError,
    UnsupportedFormatError,
)
from mofgap.io.options import OnError, ReadOptions, check_on_error
from mofgap.io.validate import validate_structure

FileFormat = Literal["cif", "vasp", "extxyz"]
Status = Literal["ok", "skipped", "error"]

_BINARY_PROBE_BYTES = 8192
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class StructureRecord:
    """One structure read from a file, or the reason it could not be.

    Attributes:
        structure_id: file stem, plus ``#block`` (CIF) or ``#frame`` (extxyz) when a file holds several.
        source_path: the file it came from.
        structure: the validated, ordered structure; ``None`` on failure.
        atomic_numbers: atomic numbers of its sites (int64); ``None`` on failure.
        error: what went wrong; ``None`` on success.
        sub_id: the block or frame id inside the file ("" for a file's only structure).
    """

    structure_id: str
    source_path: str
    structure: Structure | None = None
    atomic_numbers: np.ndarray | None = None
    error: StructureReadError | None = None
    sub_id: str = ""

    @property
    def status(self) -> Status:
        """``ok``, ``skipped`` (excluded by the disorder policy) or ``error``."""
        return status_of(self.error)


def status_of(error: StructureReadError | None) -> Status:
    """A record's status from its error: ``ok``, ``skipped`` (by the disorder policy) or ``error``."""
    if error is None:
        return "ok"
    return "skipped" if isinstance(error, DisorderSkippedError) else "error"


def load_bytes(path: Path) -> bytes:
    """A file's bytes, or :class:`UnreadableFileError` if it is missing or cannot be opened."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UnreadableFileError(str(path), f"cannot read the file: {exc.strerror or exc}") from exc


def detect_format(path: Path) -> FileFormat | None:
    """The structure format implied by a file name (``.gz`` is looked through), or ``None``."""
    name = path.name[:-3] if path.name.lower().endswith(".gz") else path.name
    lower = name.lower()
    if lower.endswith(".cif"):
        return "cif"
    if lower.endswith((".extxyz", ".xyz")):
        return "extxyz"
    if lower.endswith((".vasp", ".poscar")) or lower.startswith(("poscar", "contcar")):
        return "vasp"
    return None


def decode_text(raw: bytes, source: str) -> str:
    """Decode a file's bytes (gzip allowed) into text, rejecting empty and binary content."""
    if raw.startswith(_GZIP_MAGIC):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise BinaryFileError(source, f"corrupt gzip data: {exc}") from exc
    if not raw.strip():
        raise EmptyFileError(source, "the file is empty")
    probe = raw[:_BINARY_PROBE_BYTES]
    control = sum(1 for byte in probe if byte < 32 and byte not in (9, 10, 12, 13))
    if b"\x00" in probe or control > 0.05 * len(probe):
        raise BinaryFileError(source, "the file holds binary data, not a text structure file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def structure_id_for(path: Path, sub_id: str) -> str:
    """A structure's id: the file name without structure suffixes, plus ``#sub_id`` when given."""
    stem = path.name
    for suffix in (".gz", ".cif", ".extxyz", ".xyz", ".vasp", ".poscar"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    return f"{stem}#{sub_id}" if sub_id else stem


def read_text(text: str, path: Path, *, options: ReadOptions, fmt: FileFormat) -> list[StructureRecord]:
    """Read every structure of already-decoded file content; never raises :class:`StructureReadError`."""
    source = str(path)
    try:
        if fmt == "cif":
            parsed = list(iter_cif_structures(text, source))
        else:
            parsed = list(iter_ase_structures(text, source, fmt))
    except StructureReadError as error:
        return [StructureRecord(structure_id_for(path, ""), source, error=error)]
    records = []
    for sub_id, sub_source, outcome in parsed:
        structure_id = structure_id_for(path, sub_id)
        if isinstance(outcome, StructureReadError):
            records.append(StructureRecord(structure_id, source, error=outcome, sub_id=sub_id))
            continue
        try:
            structure, numbers = validate_structure(outcome, options, sub_source)
        except StructureReadError as error:
            records.append(StructureRecord(structure_id, source, error=error, sub_id=sub_id))
            continue
        records.append(
            StructureRecord(structure_id, source, structure=structure, atomic_numbers=numbers, sub_id=sub_id)
        )
    return records


def read_bytes(raw: bytes, path: Path, *, options: ReadOptions) -> list[StructureRecord]:
    """Read every structure of a file's raw bytes; never raises :class:`StructureReadError`."""
    source = str(path)
    fmt = detect_format(path)
    try:
        if fmt is None:
            raise UnsupportedFormatError(
                source, "unknown structure format (expected .cif, POSCAR/CONTCAR/.vasp, .extxyz/.xyz)"
            )
        text = decode_text(raw, source)
    except StructureReadError as error:
        return [StructureRecord(structure_id_for(path, ""), source, error=error)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_text(text, path, options=options, fmt=fmt)


def read_file(path: str | Path, *, options: ReadOptions | None = None) -> list[StructureRecord]:
    """Read every structure in one file. Failures become records with an ``error``; nothing is raised."""
    path = Path(path)
    try:
        raw = load_bytes(path)
    except UnreadableFileError as error:
        return [StructureRecord(structure_id_for(path, ""), str(path), error=error)]
    return read_bytes(raw, path, options=options or ReadOptions())


class HasOutcome(Protocol):
    """Anything with a ``status`` and an ``error``: structure and graph records alike."""

    @property
    def status(self) -> Status: ...

    @property
    def error(self) -> StructureReadError | None: ...


RecordT = TypeVar("RecordT", bound=HasOutcome)


def apply_on_error(records: Iterable[RecordT], on_error: OnError) -> Iterator[RecordT]:
    """Pass records through, raising (``raise``) or warning (``warn``) at each failure.

    Records excluded by the disorder policy ``skip`` are never raised; they are the policy's result.
    """
    check_on_error(on_error)
    for record in records:
        if record.status == "error" and record.error is not None:
            if on_error == "raise":
                raise record.error
            if on_error == "warn":
                warnings.warn(str(record.error), stacklevel=3)
        yield record


def read_structures(
    paths: Iterable[str | Path],
    *,
    on_error: OnError = "raise",
    options: ReadOptions | None = None,
) -> Iterator[StructureRecord]:
    """Read structures from files, one record per structure, in the order of ``paths``.

    Args:
        paths: structure files (CIF, POSCAR/CONTCAR/.vasp, extxyz/xyz; optionally gzipped).
        on_error: ``raise`` the first failure, ``warn`` and keep going, or ``skip`` silently; in the
            last two cases failed structures still come out as records with ``status`` and ``error``.
        options: accepted structures and disorder policy (:class:`ReadOptions`).
    """
    options = options or ReadOptions()
    for path in paths:
        yield from apply_on_error(read_file(path, options=options), on_error)
