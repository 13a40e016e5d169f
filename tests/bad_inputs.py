"""Bad structure files, one per failure mode, written by the tests themselves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mofgap.io import errors

CELL = """_cell_length_a 10.0
_cell_length_b 10.0
_cell_length_c 10.0
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
"""
P1 = "_symmetry_space_group_name_H-M 'P 1'\n"


def atoms_loop(rows: list[str], occupancy: bool = False) -> str:
    """A CIF atom-site loop with the given rows (``symbol x y z [occ]``)."""
    columns = ["_atom_site_type_symbol", "_atom_site_label", "_atom_site_fract_x", "_atom_site_fract_y",
               "_atom_site_fract_z"] + (["_atom_site_occupancy"] if occupancy else [])
    lines = []
    for index, row in enumerate(rows):
        symbol, *rest = row.split()
        lines.append(" ".join([symbol, f"{symbol}{index}", *rest]))
    return "loop_\n" + "\n".join(columns) + "\n" + "\n".join(lines) + "\n"


def cif(body: str, name: str = "test") -> str:
    """A CIF with one data block."""
    return f"data_{name}\n{body}"


GOOD_ROWS = ["Zn 0.0 0.0 0.0", "O 0.2 0.0 0.0", "C 0.0 0.3 0.0"]


@dataclass(frozen=True)
class BadInput:
    """A bad file, the error it must raise and a fragment its message must contain."""

    filename: str
    content: bytes
    error: type[errors.StructureReadError]
    message: str


BAD_INPUTS: dict[str, BadInput] = {
    "empty": BadInput("empty.cif", b"", errors.EmptyFileError, "the file is empty"),
    "whitespace": BadInput("blank.cif", b"  \n\n\t\n", errors.EmptyFileError, "the file is empty"),
    "binary": BadInput("junk.cif", bytes(range(256)) * 8, errors.BinaryFileError, "binary data"),
    "malformed": BadInput(
        "malformed.cif",
        cif(CELL + "loop_\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\nZn 0.0\n").encode(),
        errors.MalformedFileError,
        "malformed CIF",
    ),
    "not_cif": BadInput(
        "prose.cif", b"This is a letter, not a crystal.\n", errors.MalformedFileError, "no data_ block"
    ),
    "no_structure": BadInput("nostructure.cif", cif(CELL + P1).encode(), errors.NoStructureError, "has atoms"),
    "no_lattice": BadInput(
        "nolattice.cif", cif(P1 + atoms_loop(GOOD_ROWS)).encode(), errors.InvalidLatticeError, "no unit cell"
    ),
    "zero_volume": BadInput(
        "flat.cif",
        cif(CELL.replace("_cell_length_c 10.0", "_cell_length_c 0.0") + P1 + atoms_loop(GOOD_ROWS)).encode(),
        errors.InvalidLatticeError,
        "zero volume",
    ),
    "non_periodic": BadInput(
        "molecule.xyz",
        b"3\nProperties=species:S:1:pos:R:3\nO 0.0 0.0 0.0\nH 0.76 0.59 0.0\nH -0.76 0.59 0.0\n",
        errors.NonPeriodicError,
        "not periodic in 3D",
    ),
    "overlap": BadInput(
        "overlap.cif",
        cif(CELL + P1 + atoms_loop(["Zn 0.0 0.0 0.0", "O 0.01 0.0 0.0", "C 0.5 0.5 0.5"])).encode(),
        errors.OverlappingAtomsError,
        "0.100 Å from site 1 (O)",
    ),
    "element": BadInput(
        "americium.cif",
        cif(CELL + P1 + atoms_loop(["Am 0.0 0.0 0.0", "O 0.2 0.0 0.0"])).encode(),
        errors.UnsupportedElementError,
        "element Am (Z=95)",
    ),
    "too_many_atoms": BadInput(
        "big.cif",
        cif(CELL + P1 + atoms_loop([f"C {i / 20:.3f} 0.5 0.5" for i in range(20)])).encode(),
        errors.TooManyAtomsError,
        "20 atoms exceed max_atoms=10",
    ),
    "disorder": BadInput(
        "disordered.cif",
        cif(CELL + P1 + atoms_loop(["Zn 0.0 0.0 0.0 1.0", "O 0.2 0.0 0.0 0.5", "C 0.0 0.3 0.0 1.0"], True)).encode(),
        errors.PartialOccupancyError,
        "partially occupied site",
    ),
    "unknown_format": BadInput("structure.pdf", b"%PDF-1.4 not a structure", errors.UnsupportedFormatError,
                               "unknown structure format"),
}
"""Every failure mode; ``too_many_atoms`` applies with ``max_atoms=10`` (see :data:`MAX_ATOMS_FOR_TESTS`)."""

MAX_ATOMS_FOR_TESTS = 10


def write_bad_inputs(folder: Path) -> dict[str, Path]:
    """Write every bad input into ``folder``; return their paths by failure mode."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, bad in BAD_INPUTS.items():
        path = folder / bad.filename
        path.write_bytes(bad.content)
        paths[name] = path
    return paths
