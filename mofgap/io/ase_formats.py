"""POSCAR and extended-XYZ files → pymatgen structures, through ASE."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from typing import Literal

import numpy as np
from pymatgen.core import Lattice, Structure

from mofgap.io.errors import MalformedFileError, NonPeriodicError, NoStructureError, StructureReadError
from mofgap.io.validate import check_lattice_matrix

AseFormat = Literal["vasp", "extxyz"]


def _atoms_to_structure(atoms: object, source: str) -> Structure:
    pbc = np.asarray(atoms.pbc, dtype=bool)  # type: ignore[attr-defined]
    if not pbc.all():
        periodic = "".join(axis for axis, p in zip("abc", pbc, strict=False) if p) or "none"
        raise NonPeriodicError(
            source, f"the structure is not periodic in 3D (periodic axes: {periodic}); mofgap needs a crystal"
        )
    matrix = np.asarray(atoms.cell.array, dtype=float)  # type: ignore[attr-defined]
    check_lattice_matrix(matrix, source)
    symbols = atoms.get_chemical_symbols()  # type: ignore[attr-defined]
    if not symbols:
        raise NoStructureError(source, "the structure has no atoms")
    return Structure(Lattice(matrix), symbols, atoms.positions, coords_are_cartesian=True)  # type: ignore[attr-defined]


def iter_ase_structures(
    text: str, path: str, fmt: AseFormat
) -> Iterator[tuple[str, str, Structure | StructureReadError]]:
    """Yield ``(frame_id, source, structure or error)`` for every frame of a POSCAR or extxyz text.

    ``frame_id`` is empty for a single frame and the frame index otherwise.
    """
    import ase.io

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frames = ase.io.read(io.StringIO(text), format=fmt, index=":")
    except Exception as exc:  # ASE raises many types for malformed input
        cause = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise MalformedFileError(path, f"malformed {fmt} file: {type(exc).__name__}: {cause}") from exc
    if not frames:
        raise NoStructureError(path, f"no structure found in the {fmt} file")
    for index, atoms in enumerate(frames):
        frame_id = "" if len(frames) == 1 else str(index)
        source = path if len(frames) == 1 else f"{path}#{frame_id}"
        try:
            yield frame_id, source, _atoms_to_structure(atoms, source)
        except StructureReadError as error:
            yield frame_id, source, error
