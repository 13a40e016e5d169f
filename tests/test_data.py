"""QMOF reader, split files, per-atom pretraining targets, the bundled sample."""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pymatgen.io.cif import CifParser

from mofgap.data.atom_targets import PBE_ATOM_TARGETS, match_rows_to_sites, read_atom_targets
from mofgap.data.graphs import qmof_graphs
from mofgap.data.qmof import QMOF, read_split
from mofgap.io import read_file


def test_sample_is_test_split_and_spans_the_gap_range(sample: Path) -> None:
    table = QMOF(sample).table()
    assert len(table) == 250
    assert set(table["split"]) == {"test"}
    assert table["gap_eV"].min() < 0.2 and table["gap_eV"].max() > 5.5
    counts = np.histogram(table["gap_eV"], bins=np.arange(0, 6.5, 0.5))[0]
    assert (counts[:10] >= 20).all()
    assert all(Path(p).is_file() for p in table["cif_path"])


def test_sample_matches_full_qmof(sample: Path, shared_qmof: Path) -> None:
    full = pd.read_csv(shared_qmof / "qmof.csv").set_index("qmof_id")
    split = read_split(shared_qmof / "splits" / "jarvis_leaderboard.csv")
    ours = QMOF(sample).table().set_index("qmof_id")
    np.testing.assert_array_equal(ours["gap_eV"], full.loc[ours.index, "outputs.pbe.bandgap"])
    assert (split.loc[ours.index] == "test").all()


def test_reads_the_tarball_layout(tmp_path: Path, sample: Path) -> None:
    root = tmp_path / "qmof"
    root.mkdir()
    (root / "qmof.csv").write_text((sample / "qmof.csv").read_text())
    with tarfile.open(root / "relaxed_structures.tar.gz", "w:gz") as tar:
        tar.add(sample / "relaxed_structures", arcname="relaxed_structures")
    qmof = QMOF(root, extract_root=tmp_path / "cache")
    table = qmof.table()
    assert "split" not in table.columns
    assert all(Path(p).is_file() for p in table["cif_path"])
    assert qmof.structures_dir() == QMOF(root, extract_root=tmp_path / "cache").structures_dir()


def test_split_file_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "split.csv"
    path.write_text("qmof_id,split\nqmof-1,train\nqmof-2,holdout\n")
    with pytest.raises(ValueError, match="holdout"):
        read_split(path)


def test_atom_targets_follow_the_sites_not_the_rows(sample_cifs: list[Path]) -> None:
    path = sample_cifs[0]
    text = path.read_text()
    ours = read_file(path)[0].structure
    theirs = CifParser.from_str(text).parse_structures(primitive=False)[0]
    ours_targets = read_atom_targets(text, ours.frac_coords)
    permuted = ours.copy()
    order = np.random.default_rng(0).permutation(len(ours))
    permuted = permuted.__class__.from_sites([ours[i] for i in order])
    np.testing.assert_array_equal(read_atom_targets(text, permuted.frac_coords), ours_targets[order])
    mapping = match_rows_to_sites(ours.frac_coords, theirs.frac_coords)
    np.testing.assert_allclose(read_atom_targets(text, theirs.frac_coords), ours_targets[mapping])
    # The first row of this CIF, read by hand.
    first_row = next(line for line in text.splitlines() if line.startswith(ours[0].specie.symbol + " "))
    fields = first_row.split()
    header = [line.strip() for line in text.splitlines() if line.strip().startswith("_atom_site_")]
    expected = [float(fields[header.index(f"_atom_site_{name}")]) for name in PBE_ATOM_TARGETS]
    np.testing.assert_allclose(ours_targets[0], expected)


def test_labelled_graphs_carry_labels_and_targets(sample: Path) -> None:
    qmof = QMOF(sample)
    table = qmof.table().set_index("qmof_id")
    labelled = qmof_graphs(qmof, splits=("test",), atom_targets=PBE_ATOM_TARGETS)
    assert len(labelled.graphs) == 250 and not labelled.failures
    graph = labelled.graphs[0]
    assert float(graph.y) == pytest.approx(table.loc[graph.qmof_id, "gap_eV"], abs=1e-6)
    assert graph.y_atom.shape == (graph.num_nodes, 4)
    assert not np.isnan(graph.y_atom.numpy()).any()
    assert float(graph.ehull) == pytest.approx(qmof.ehull()[graph.qmof_id], abs=1e-6)


@pytest.mark.shared
def test_full_qmof_table_and_split(shared_qmof: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    qmof = QMOF(shared_qmof, extract_root=tmp_path_factory.mktemp("qmof"))
    table = qmof.table()
    assert len(table) == 19890
    assert table["split"].value_counts().to_dict() == {"train": 15837, "val": 2028, "test": 2025}
    assert Path(table["cif_path"].iloc[0]).is_file()


def test_core_mof_cifs_are_extracted_and_readable(tmp_path: Path) -> None:
    pytest.importorskip("CoRE_MOF")
    from mofgap.data.core_mof import extract_core_mof

    paths = extract_core_mof(tmp_path, "2019-ASR", limit=3)
    assert len(paths) == 3 and all(p.suffix == ".cif" and p.stat().st_size > 0 for p in paths)
    records = read_file(paths[1])
    assert records[0].structure is not None  # a computation-ready structure reads cleanly
    with pytest.raises(ValueError, match="unknown CoRE MOF dataset"):
        extract_core_mof(tmp_path, "2020")


def test_random_split_covers_every_structure(tmp_path: Path, sample: Path) -> None:
    from mofgap.data.qmof import write_random_split

    split = write_random_split(QMOF(sample), tmp_path / "split.csv", train=0.6, val=0.2, seed=0)
    assert split.value_counts().to_dict() == {"train": 150, "val": 50, "test": 50}
    assert read_split(tmp_path / "split.csv").equals(split)
    table = QMOF(sample).table(split_file=tmp_path / "split.csv")
    assert table["split"].notna().all()
    with pytest.raises(ValueError, match="train \\+ val < 1"):
        write_random_split(QMOF(sample), tmp_path / "bad.csv", train=0.8, val=0.3, seed=0)
