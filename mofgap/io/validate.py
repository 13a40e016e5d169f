"""Checks that a parsed structure is one mofgap can use, and the disorder policy."""

from __future__ import annotations

import numpy as np
from pymatgen.core import DummySpecies, Element, Structure
from pymatgen.optimization.neighbors import find_points_in_spheres

from mofgap.io.errors import (
    DisorderSkippedError,
    InvalidLatticeError,
    OverlappingAtomsError,
    PartialOccupancyError,
    TooManyAtomsError,
    UnsupportedElementError,
)
from mofgap.io.options import ReadOptions

MIN_CELL_VOLUME = 1e-3
"""Smallest cell volume (Å³) treated as a real cell; below it the lattice is degenerate."""


def check_lattice_matrix(matrix: np.ndarray, source: str) -> None:
    """Raise :class:`InvalidLatticeError` if a 3×3 lattice matrix (Å) is not finite or has ~zero volume."""
    if matrix.shape != (3, 3) or not np.all(np.isfinite(matrix)):
        raise InvalidLatticeError(source, "the unit cell is missing or not a finite 3x3 matrix")
    volume = abs(float(np.linalg.det(matrix)))
    if volume < MIN_CELL_VOLUME:
        raise InvalidLatticeError(source, f"the unit cell has zero volume ({volume:.3g} Å^3)")


def resolve_disorder(structure: Structure, options: ReadOptions, source: str) -> Structure:
    """Apply the disorder policy to a structure with partial occupancies.

    ``majority`` keeps, at each site, the species with the largest occupancy; a site whose vacancy
    fraction (1 − total occupancy) exceeds every species' occupancy is removed.
    """
    if structure.is_ordered:
        return structure
    disordered = [i for i, site in enumerate(structure) if not site.is_ordered]
    where = f"{len(disordered)} partially occupied site(s), first at index {disordered[0]}"
    if options.disorder == "error":
        raise PartialOccupancyError(
            source, f"the structure is disordered: {where}; use disorder='majority' or 'skip'"
        )
    if options.disorder == "skip":
        raise DisorderSkippedError(source, f"skipped by the disorder policy: {where}")
    species: list[object] = []
    coords: list[np.ndarray] = []
    for site in structure:
        occupancies = site.species.as_dict()
        best = max(occupancies, key=lambda name: (occupancies[name], name))
        if 1.0 - sum(occupancies.values()) > occupancies[best]:
            continue
        species.append(best)
        coords.append(site.frac_coords)
    if not species:
        raise PartialOccupancyError(source, "every site is mostly vacant; nothing is left by 'majority'")
    return Structure(structure.lattice, species, np.array(coords), coords_are_cartesian=False)


def atomic_numbers(structure: Structure, options: ReadOptions, source: str) -> np.ndarray:
    """Atomic numbers of an ordered structure (int64), checked against the accepted element range."""
    numbers = np.empty(len(structure), dtype=np.int64)
    for i, site in enumerate(structure):
        specie = site.specie
        if isinstance(specie, DummySpecies):
            raise UnsupportedElementError(source, f"site {i} holds the dummy species {specie!s}")
        z = Element(specie.symbol).Z
        if z > options.max_atomic_number:
            raise UnsupportedElementError(
                source,
                f"element {specie.symbol} (Z={z}) at site {i} is outside the model's range "
                f"Z=1..{options.max_atomic_number}",
            )
        numbers[i] = z
    return numbers


def check_size(n_atoms: int, options: ReadOptions, source: str) -> None:
    """Raise :class:`TooManyAtomsError` when a cell holds more than ``max_atoms`` atoms."""
    if n_atoms > options.max_atoms:
        raise TooManyAtomsError(source, f"{n_atoms} atoms exceed max_atoms={options.max_atoms}")


def check_overlaps(structure: Structure, options: ReadOptions, source: str) -> None:
    """Raise :class:`OverlappingAtomsError` if any two atoms (images included) are closer than allowed."""
    if options.min_distance <= 0:
        return
    cart = np.ascontiguousarray(structure.cart_coords, dtype=float)
    centers, neighbors, images, distances = find_points_in_spheres(
        cart,
        cart,
        r=options.min_distance,
        pbc=np.ones(3, dtype=np.int64),
        lattice=np.ascontiguousarray(structure.lattice.matrix, dtype=float),
        tol=1e-8,
    )
    real = (centers != neighbors) | np.any(images != 0, axis=1)
    if not np.any(real):
        return
    closest = int(np.argmin(np.where(real, distances, np.inf)))
    i, j = sorted((int(centers[closest]), int(neighbors[closest])))
    what = "its own periodic image" if i == j else f"site {j} ({structure[j].specie})"
    raise OverlappingAtomsError(
        source,
        f"site {i} ({structure[i].specie}) is {distances[closest]:.3f} Å from {what}, "
        f"closer than min_distance={options.min_distance} Å",
    )


def validate_structure(structure: Structure, options: ReadOptions, source: str) -> tuple[Structure, np.ndarray]:
    """Resolve disorder and run every check; return the usable structure and its atomic numbers."""
    check_lattice_matrix(np.asarray(structure.lattice.matrix), source)
    structure = resolve_disorder(structure, options, source)
    check_size(len(structure), options, source)
    numbers = atomic_numbers(structure, options, source)
    check_overlaps(structure, options, source)
    return structure, numbers
