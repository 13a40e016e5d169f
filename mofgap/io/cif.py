"""CIF blocks → pymatgen structures: pymatgen's parser, a fast path for P1 cells, ASE as fallback.

Every block is tokenised by pymatgen (:class:`pymatgen.io.cif.CifBlock`). Blocks that are already a
plain P1 cell with fully occupied sites and element symbols (every QMOF and CoRE MOF file) are built
directly from the tokenised loop, which keeps the file's atom order and is ~5× faster than
:class:`pymatgen.io.cif.CifParser`; all other blocks go through ``CifParser`` (symmetry expansion,
occupancies, oxidation states), and a block that ``CifParser`` rejects is retried with ASE's reader.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from pymatgen.core import Element, Lattice, Structure
from pymatgen.io.cif import CifBlock, CifParser, str2float

from mofgap.io.errors import InvalidLatticeError, MalformedFileError, NoStructureError, StructureReadError
from mofgap.io.validate import check_lattice_matrix

_BLOCK_START = re.compile(r"^\s*data_", flags=re.MULTILINE)
_ELEMENT_SYMBOL = re.compile(r"^[A-Z][a-z]?$")
_CELL_KEYS = ("_cell_length_a", "_cell_length_b", "_cell_length_c")
_ANGLE_KEYS = ("_cell_angle_alpha", "_cell_angle_beta", "_cell_angle_gamma")
_SYMOP_KEYS = (
    "_symmetry_equiv_pos_as_xyz",
    "_symmetry_equiv_pos_as_xyz_",
    "_space_group_symop_operation_xyz",
    "_space_group_symop_operation_xyz_",
    "_space_group_symop.operation_xyz",
)
_SPACE_GROUP_KEYS = (
    "_symmetry_space_group_name_h-m",
    "_space_group_name_h-m_alt",
    "_symmetry_space_group_name_H-M",
    "_space_group_name_H-M_alt",
)


@dataclass(frozen=True, slots=True)
class CifBlockText:
    """One ``data_`` block of a CIF file.

    Attributes:
        name: the block name (the text after ``data_``).
        text: the block's text, starting at ``data_``.
    """

    name: str
    text: str


def split_blocks(text: str) -> list[CifBlockText]:
    """Split CIF text into its ``data_`` blocks, in file order (blocks with equal names are all kept)."""
    parts = _BLOCK_START.split(f"x\n{text}")[1:]
    blocks = []
    for part in parts:
        name = part.split(maxsplit=1)[0] if part.strip() else ""
        blocks.append(CifBlockText(name=name, text=f"data_{part}"))
    return blocks


def _values(block: CifBlock, key: str) -> list[str] | None:
    value = block.data.get(key)
    if value is None:
        return None
    return value if isinstance(value, list) else [value]


def _first_present(block: CifBlock, keys: tuple[str, ...]) -> list[str] | None:
    for key in keys:
        values = _values(block, key)
        if values is not None:
            return values
    return None


def _number(text: str, what: str, source: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return str2float(text)
    except ValueError as exc:
        raise MalformedFileError(source, f"malformed CIF: {what} is not a number ({text!r})") from exc


def has_atoms(block: CifBlock) -> bool:
    """Whether a tokenised block has an atom-site loop with coordinates."""
    return any(key in block.data for key in ("_atom_site_fract_x", "_atom_site_Cartn_x", "_atom_site_cartn_x"))


def block_lattice(block: CifBlock, source: str) -> Lattice:
    """The block's unit cell, or :class:`InvalidLatticeError` if it is missing or degenerate."""
    lengths = [_values(block, key) for key in _CELL_KEYS]
    if any(value is None for value in lengths):
        raise InvalidLatticeError(source, "the CIF gives no unit cell (_cell_length_a/b/c missing)")
    angles = [_values(block, key) or ["90"] for key in _ANGLE_KEYS]
    parameters = [_number(v[0], k, source) for v, k in zip(lengths + angles, _CELL_KEYS + _ANGLE_KEYS, strict=False)]
    with np.errstate(invalid="ignore"):
        lattice = Lattice.from_parameters(*parameters)
    check_lattice_matrix(np.asarray(lattice.matrix), source)
    return lattice


def _is_identity_p1(block: CifBlock) -> bool:
    symops = _first_present(block, _SYMOP_KEYS)
    if symops is not None:
        return all(re.sub(r"[\s'\"]", "", op).lower() == "x,y,z" for op in symops)
    space_group = _first_present(block, _SPACE_GROUP_KEYS)
    return space_group is not None and re.sub(r"[\s'\"_]", "", space_group[0]).lower() == "p1"


def fast_p1_structure(block: CifBlock, lattice: Lattice, source: str) -> Structure | None:
    """Build a P1, fully occupied, element-symbol block directly; ``None`` when the block is not one."""
    if not _is_identity_p1(block):
        return None
    symbols = _values(block, "_atom_site_type_symbol")
    fract = [_values(block, f"_atom_site_fract_{axis}") for axis in "xyz"]
    if symbols is None or any(f is None for f in fract):
        return None
    if not all(_ELEMENT_SYMBOL.match(s) and Element.is_valid_symbol(s) for s in symbols):
        return None
    occupancies = _values(block, "_atom_site_occupancy")
    if occupancies is not None and any(_number(o, "_atom_site_occupancy", source) != 1.0 for o in occupancies):
        return None
    coords = np.array([[_number(v, f"_atom_site_fract_{axis}", source) for v in column]
                       for axis, column in zip("xyz", fract, strict=False)]).T
    if coords.shape[0] != len(symbols):
        raise MalformedFileError(source, "malformed CIF: the atom-site loop has columns of unequal length")
    return Structure(lattice, symbols, coords, coords_are_cartesian=False)


def _cif_parser_structure(text: str, source: str) -> Structure:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parser = CifParser.from_str(text)
        structures = parser.parse_structures(primitive=False, check_occu=True, on_error="raise")
    return structures[0]


def _ase_structure(text: str) -> Structure:
    import ase.io
    from pymatgen.io.ase import AseAtomsAdaptor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        atoms = ase.io.read(io.StringIO(text), format="cif")
    return AseAtomsAdaptor.get_structure(atoms)


def block_structure(block_text: CifBlockText, source: str) -> Structure:
    """Parse one CIF block into a (possibly disordered) structure.

    Raises:
        MalformedFileError: neither pymatgen nor ASE can parse the block.
        InvalidLatticeError: the cell is missing or degenerate.
        NoStructureError: the block has no atom-site loop.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            block = CifBlock.from_str(block_text.text)
    except Exception as exc:  # pymatgen's tokenizer raises ValueError, ZeroDivisionError, IndexError, ...
        raise MalformedFileError(source, f"malformed CIF: {_one_line(exc)}") from exc
    if not has_atoms(block):
        raise NoStructureError(source, "the CIF block has no atom-site loop (_atom_site_fract_x ...)")
    lattice = block_lattice(block, source)
    structure = fast_p1_structure(block, lattice, source)
    if structure is not None:
        return structure
    try:
        return _cif_parser_structure(block_text.text, source)
    except Exception as pymatgen_error:  # pymatgen raises ValueError, KeyError, RuntimeError, ...
        try:
            return _ase_structure(block_text.text)
        except Exception as ase_error:
            raise MalformedFileError(
                source, f"malformed CIF: pymatgen: {_one_line(pymatgen_error)}; ASE: {_one_line(ase_error)}"
            ) from pymatgen_error


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def iter_cif_structures(text: str, path: str) -> Iterator[tuple[str, str, Structure | StructureReadError]]:
    """Yield ``(block_id, source, structure or error)`` for every block with atoms.

    ``block_id`` is empty for a file with one structure-bearing block and the block name (made
    unique by a ``-k`` suffix) otherwise; ``source`` names the file and, for several blocks, the block.
    A file without ``data_`` blocks raises :class:`MalformedFileError`; one whose blocks carry no
    atoms raises :class:`NoStructureError`.
    """
    blocks = split_blocks(text)
    if not blocks:
        raise MalformedFileError(path, "malformed CIF: no data_ block found")
    with_atoms = [b for b in blocks if re.search(r"_atom_site_(fract|cartn)_x", b.text, flags=re.IGNORECASE)]
    if not with_atoms:
        raise NoStructureError(path, "no data_ block of the CIF has atoms (no _atom_site_fract_x loop)")
    used: set[str] = set()
    for block in with_atoms:
        if len(with_atoms) == 1:
            block_id, source = "", path
        else:
            block_id = base = block.name or "block"
            copy = 1
            while block_id in used:
                copy += 1
                block_id = f"{base}-{copy}"
            used.add(block_id)
            source = f"{path}#{block_id}"
        try:
            yield block_id, source, block_structure(block, source)
        except StructureReadError as error:
            yield block_id, source, error
