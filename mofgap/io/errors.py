"""Typed errors for structures that cannot be read or used.

Every error names the file (and the CIF block, where there is one) and the cause, so that a line in a
batch report is enough to find and fix the input.
"""

from __future__ import annotations


class StructureReadError(ValueError):
    """A structure could not be read, or is not usable by mofgap.

    Args:
        source: the file (optionally ``file#block``) the structure came from.
        cause: a human-readable reason, without the file name.
    """

    def __init__(self, source: str, cause: str) -> None:
        super().__init__(f"{source}: {cause}")
        self.source = source
        self.cause = cause

    def __reduce__(self) -> tuple[type[StructureReadError], tuple[str, str]]:
        return (type(self), (self.source, self.cause))


class UnreadableFileError(StructureReadError):
    """The file does not exist or cannot be opened."""


class EmptyFileError(StructureReadError):
    """The file has no content (zero bytes or whitespace only)."""


class BinaryFileError(StructureReadError):
    """The file holds binary data, not a text structure format."""


class UnsupportedFormatError(StructureReadError):
    """The file's format is not one mofgap reads (CIF, POSCAR, extxyz)."""


class MalformedFileError(StructureReadError):
    """The file is text in a known format but cannot be parsed (e.g. a malformed CIF)."""


class NoStructureError(StructureReadError):
    """The file parses but contains no atoms (e.g. a CIF without an atom-site loop)."""


class InvalidLatticeError(StructureReadError):
    """The unit cell is missing, degenerate (zero volume) or not a number."""


class NonPeriodicError(StructureReadError):
    """The structure is not periodic in all three directions (a molecule or a slab)."""


class OverlappingAtomsError(StructureReadError):
    """Two atoms (or an atom and its periodic image) are closer than the allowed minimum."""


class UnsupportedElementError(StructureReadError):
    """An element (or a dummy species) lies outside the range the model knows."""


class TooManyAtomsError(StructureReadError):
    """The cell has more atoms than the configured ``max_atoms``."""


class PartialOccupancyError(StructureReadError):
    """The structure is disordered (partial occupancies) and the disorder policy is ``error``."""


class DisorderSkippedError(StructureReadError):
    """The structure is disordered and the disorder policy ``skip`` excluded it."""


ERROR_TYPES: dict[str, type[StructureReadError]] = {
    cls.__name__: cls
    for cls in (
        StructureReadError,
        UnreadableFileError,
        EmptyFileError,
        BinaryFileError,
        UnsupportedFormatError,
        MalformedFileError,
        NoStructureError,
        InvalidLatticeError,
        NonPeriodicError,
        OverlappingAtomsError,
        UnsupportedElementError,
        TooManyAtomsError,
        PartialOccupancyError,
        DisorderSkippedError,
    )
}
"""Error classes by name, to rebuild an error that crossed a process boundary or a cache file."""


def rebuild_error(type_name: str, source: str, cause: str) -> StructureReadError:
    """Rebuild an error from its class name, source and cause (unknown names give the base class)."""
    return ERROR_TYPES.get(type_name, StructureReadError)(source, cause)
