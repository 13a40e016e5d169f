"""Reading structures: real QMOF CIFs, every failure mode, policies, formats."""

from __future__ import annotations

import gzip
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from pymatgen.io.cif import CifParser

import mofgap.io.cif as cif_module
from mofgap.io import (
    DisorderSkippedError,
    PartialOccupancyError,
    ReadOptions,
    StructureReadError,
    read_file,
    read_structures,
)
from tests.bad_inputs import BAD_INPUTS, CELL, MAX_ATOMS_FOR_TESTS, P1, atoms_loop, cif, write_bad_inputs


def test_real_qmof_cif_matches_pymatgen(sample_cifs: list[Path]) -> None:
    path = sample_cifs[0]
    (record,) = read_file(path)
    assert record.status == "ok" and record.error is None
    assert record.structure_id == path.stem
    reference = CifParser(path).parse_structures(primitive=False)[0]
    assert record.structure.composition == reference.composition
    assert record.structure.volume == pytest.approx(reference.volume, rel=1e-9)
    assert record.structure.lattice.abc == pytest.approx(reference.lattice.abc, rel=1e-9)
    np.testing.assert_array_equal(record.atomic_numbers, [site.specie.Z for site in record.structure])


def test_known_sample_structure(sample: Path) -> None:
    (record,) = read_file(sample / "relaxed_structures" / "qmof-772af30.cif")
    assert len(record.structure) == 26
    assert record.structure.composition.reduced_formula == "ZnH4C4(IN)2"


@pytest.mark.parametrize("mode", sorted(BAD_INPUTS))
def test_each_bad_input_gets_its_typed_error(tmp_path: Path, mode: str) -> None:
    path = write_bad_inputs(tmp_path)[mode]
    bad = BAD_INPUTS[mode]
    options = ReadOptions(max_atoms=MAX_ATOMS_FOR_TESTS)
    (record,) = read_file(path, options=options)
    assert record.status == "error"
    assert type(record.error) is bad.error
    assert str(path) in str(record.error), "the message names the file"
    assert bad.message in str(record.error)
    with pytest.raises(bad.error, match=bad.filename):
        list(read_structures([path], on_error="raise", options=options))


def test_on_error_policies(tmp_path: Path, sample_cifs: list[Path]) -> None:
    bad = write_bad_inputs(tmp_path)
    paths = [sample_cifs[0], bad["empty"], sample_cifs[1]]
    with pytest.raises(StructureReadError):
        list(read_structures(paths, on_error="raise"))
    with pytest.warns(UserWarning, match="the file is empty"):
        warned = list(read_structures(paths, on_error="warn"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        skipped = list(read_structures(paths, on_error="skip"))
    for records in (warned, skipped):
        assert [r.status for r in records] == ["ok", "error", "ok"]
    with pytest.raises(ValueError, match="on_error"):
        list(read_structures(paths, on_error="ignore"))  # type: ignore[arg-type]


def test_disorder_policies(tmp_path: Path) -> None:
    path = tmp_path / "disordered.cif"
    rows = ["Zn 0.0 0.0 0.0 1.0", "O 0.2 0.0 0.0 0.5", "C 0.0 0.3 0.0 1.0", "N 0.5 0.5 0.5 0.3"]
    path.write_text(cif(CELL + P1 + atoms_loop(rows, occupancy=True)))
    (error,) = read_file(path, options=ReadOptions(disorder="error"))
    assert isinstance(error.error, PartialOccupancyError) and "2 partially occupied site(s)" in str(error.error)
    (skipped,) = read_file(path, options=ReadOptions(disorder="skip"))
    assert skipped.status == "skipped" and isinstance(skipped.error, DisorderSkippedError)
    (majority,) = read_file(path, options=ReadOptions(disorder="majority"))
    assert majority.status == "ok"
    # O at occupancy 0.5 stays (ties go to the species); N at 0.3 is mostly vacant and is removed.
    assert sorted(s.specie.symbol for s in majority.structure) == ["C", "O", "Zn"]
    assert majority.structure.is_ordered


def test_multi_block_cif_gives_distinct_ids(tmp_path: Path, sample_cifs: list[Path]) -> None:
    one = sample_cifs[0].read_text()
    two = sample_cifs[1].read_text()
    same_name_again = one.replace("data_", "data_", 1)
    text = "data_global\n_journal_name_full 'Nowhere'\n" + one + two + same_name_again
    path = tmp_path / "several.cif"
    path.write_text(text)
    records = read_file(path)
    assert [r.status for r in records] == ["ok", "ok", "ok"]
    ids = [r.structure_id for r in records]
    assert len(set(ids)) == 3 and all(i.startswith("several#") for i in ids)
    assert ids[2] == ids[0] + "-2"
    assert len(records[0].structure) == len(read_file(sample_cifs[0])[0].structure)


def test_one_bad_block_does_not_lose_the_others(tmp_path: Path, sample_cifs: list[Path]) -> None:
    bad_block = cif(CELL + P1 + atoms_loop(["Zn 0 0 0", "O 0.01 0 0"]), name="bad")
    path = tmp_path / "mixed.cif"
    path.write_text(sample_cifs[0].read_text() + bad_block)
    records = read_file(path)
    assert [r.status for r in records] == ["ok", "error"]
    assert "mixed.cif#bad" in str(records[1].error) and "Å from site 1" in str(records[1].error)


def test_symmetry_expansion_uses_pymatgen(tmp_path: Path) -> None:
    path = tmp_path / "nacl.cif"
    body = ("_cell_length_a 5.64\n_cell_length_b 5.64\n_cell_length_c 5.64\n_cell_angle_alpha 90\n"
            "_cell_angle_beta 90\n_cell_angle_gamma 90\n_symmetry_space_group_name_H-M 'F m -3 m'\n"
            + atoms_loop(["Na 0 0 0", "Cl 0.5 0.5 0.5"]))
    path.write_text(cif(body))
    (record,) = read_file(path)
    assert record.status == "ok"
    assert len(record.structure) == 8
    assert record.structure.composition.reduced_formula == "NaCl"


def test_ase_fallback_when_pymatgen_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "nacl.cif"
    body = ("_cell_length_a 5.64\n_cell_length_b 5.64\n_cell_length_c 5.64\n_cell_angle_alpha 90\n"
            "_cell_angle_beta 90\n_cell_angle_gamma 90\n_symmetry_space_group_name_H-M 'F m -3 m'\n"
            + atoms_loop(["Na 0 0 0", "Cl 0.5 0.5 0.5"]))
    path.write_text(cif(body))

    def broken(text: str, source: str) -> None:
        raise ValueError("pymatgen cannot")

    monkeypatch.setattr(cif_module, "_cif_parser_structure", broken)
    (record,) = read_file(path)
    assert record.status == "ok" and len(record.structure) == 8


def test_gzipped_cif(tmp_path: Path, sample_cifs: list[Path]) -> None:
    path = tmp_path / f"{sample_cifs[0].stem}.cif.gz"
    path.write_bytes(gzip.compress(sample_cifs[0].read_bytes()))
    (record,) = read_file(path)
    assert record.status == "ok" and record.structure_id == sample_cifs[0].stem


def test_poscar_and_extxyz_through_ase(tmp_path: Path, sample_cifs: list[Path]) -> None:
    import ase.io
    from pymatgen.io.ase import AseAtomsAdaptor

    reference = read_file(sample_cifs[0])[0].structure
    atoms = AseAtomsAdaptor.get_atoms(reference)
    ase.io.write(tmp_path / "POSCAR", atoms, format="vasp")
    ase.io.write(tmp_path / "frames.extxyz", [atoms, atoms], format="extxyz")
    (poscar,) = read_file(tmp_path / "POSCAR")
    assert poscar.status == "ok" and poscar.structure.composition == reference.composition
    frames = read_file(tmp_path / "frames.extxyz")
    assert [r.structure_id for r in frames] == ["frames#0", "frames#1"]
    assert all(r.status == "ok" and len(r.structure) == len(reference) for r in frames)
    shutil.copy(tmp_path / "POSCAR", tmp_path / "CONTCAR")
    assert read_file(tmp_path / "CONTCAR")[0].status == "ok"


def test_missing_file_is_a_record_not_a_crash(tmp_path: Path) -> None:
    (record,) = read_file(tmp_path / "absent.cif")
    assert record.status == "error" and "No such file" in str(record.error)
