"""Reading crystal structures: CIF (pymatgen, ASE fallback), POSCAR and extxyz (ASE), with typed errors."""

from mofgap.io.errors import (
    BinaryFileError,
    DisorderSkippedError,
    EmptyFileError,
    InvalidLatticeError,
    MalformedFileError,
    NonPeriodicError,
    NoStructureError,
    OverlappingAtomsError,
    PartialOccupancyError,
    StructureReadError,
    TooManyAtomsError,
    UnreadableFileError,
    UnsupportedElementError,
    UnsupportedFormatError,
)
from mofgap.io.options import DisorderPolicy, OnError, ReadOptions
from mofgap.io.paths import expand_paths
from mofgap.io.read import StructureRecord, read_file, read_structures

__all__ = [
    "BinaryFileError",
    "DisorderPolicy",
    "DisorderSkippedError",
    "EmptyFileError",
    "InvalidLatticeError",
    "MalformedFileError",
    "NoStructureError",
    "NonPeriodicError",
    "OnError",
    "OverlappingAtomsError",
    "PartialOccupancyError",
    "ReadOptions",
    "StructureReadError",
    "StructureRecord",
    "TooManyAtomsError",
    "UnreadableFileError",
    "UnsupportedElementError",
    "UnsupportedFormatError",
    "expand_paths",
    "read_file",
    "read_structures",
]
