"""Neighbour graphs: geometry, invariances, determinism, cache, parallel featurization."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from pymatgen.core import Lattice, Structure

from mofgap.graph.featurize import structure_to_graph
from mofgap.graph.neighbors import GraphSettings
from mofgap.graph.pipeline import featurize_files
from mofgap.io import read_file
from tests.bad_inputs import write_bad_inputs


def per_atom_distances(structure: Structure, settings: GraphSettings) -> list[tuple[float, ...]]:
    """Sorted multiset of per-atom sorted neighbour distances (rounded to 1e-4 Å)."""
    graph = structure_to_graph(structure, settings=settings)
    centers = graph.edge_index[1].numpy()
    dist = graph.edge_dist.double().numpy()
    rows = [tuple(np.round(np.sort(dist[centers == i]), 4)) for i in range(graph.num_nodes)]
    return sorted(rows)


@pytest.fixture(scope="module")
def mof(sample_cifs: list[Path]) -> Structure:
    return read_file(sample_cifs[3])[0].structure


def test_simple_cubic_shells() -> None:
    structure = Structure(Lattice.cubic(3.0), ["Po"], [[0, 0, 0]])
    graph = structure_to_graph(structure, settings=GraphSettings(cutoff=6.0, max_neighbors=12))
    dist = np.sort(graph.edge_dist.numpy())
    np.testing.assert_allclose(dist[:6], 3.0, rtol=1e-6)
    np.testing.assert_allclose(dist[6:], 3.0 * np.sqrt(2), rtol=1e-6)
    assert graph.edge_index.shape == (2, 12)


def test_edge_vectors_are_consistent(mof: Structure) -> None:
    graph = structure_to_graph(mof)
    source, target = graph.edge_index
    expected = graph.pos[source] + graph.edge_shift.float() @ graph.cell[0] - graph.pos[target]
    torch.testing.assert_close(graph.edge_vec, expected, atol=1e-4, rtol=0)
    torch.testing.assert_close(graph.edge_vec.norm(dim=1), graph.edge_dist, atol=1e-5, rtol=0)
    assert float(graph.edge_dist.max()) <= 6.0
    counts = torch.bincount(target, minlength=graph.num_nodes)
    assert int(counts.max()) == 12
    assert graph.z.dtype == torch.int64 and graph.edge_index.dtype == torch.int64


def test_shifted_origin_gives_same_neighbour_distances(mof: Structure) -> None:
    settings = GraphSettings()
    shifted = mof.copy()
    shifted.translate_sites(list(range(len(shifted))), [0.37, -0.21, 0.55], frac_coords=True, to_unit_cell=True)
    assert per_atom_distances(shifted, settings) == per_atom_distances(mof, settings)


def test_supercell_gives_same_neighbour_distances(mof: Structure) -> None:
    settings = GraphSettings()
    original = per_atom_distances(mof, settings)
    supercell = per_atom_distances(mof * (2, 1, 1), settings)
    assert supercell == sorted(original + original)


def test_graph_is_deterministic(mof: Structure) -> None:
    first = structure_to_graph(mof)
    second = structure_to_graph(mof.copy())
    for key in ("edge_index", "edge_shift", "edge_vec", "edge_dist", "z", "pos"):
        assert torch.equal(first[key], second[key])


def test_cache_hits_and_invalidation(tmp_path: Path, sample_cifs: list[Path]) -> None:
    files = sample_cifs[:5]
    cache = tmp_path / "cache"
    cold = list(featurize_files(files, cache_dir=cache))
    warm = list(featurize_files(files, cache_dir=cache))
    assert not any(r.from_cache for r in cold) and all(r.from_cache for r in warm)
    for a, b in zip(cold, warm, strict=False):
        assert a.structure_id == b.structure_id and a.formula == b.formula
        for key in ("edge_index", "edge_vec", "z", "pos", "cell"):
            assert torch.equal(a.graph[key], b.graph[key])
    changed = list(featurize_files(files, cache_dir=cache, settings=GraphSettings(max_neighbors=8)))
    assert not any(r.from_cache for r in changed)
    assert changed[0].graph.edge_index.shape[1] == 8 * changed[0].n_atoms
    edited = tmp_path / files[0].name
    edited.write_text(files[0].read_text().replace("_cell_length_a ", "_cell_length_a  ", 1) + "\n")
    assert not next(featurize_files([edited], cache_dir=cache)).from_cache


def test_cached_failures_keep_their_error(tmp_path: Path) -> None:
    bad = write_bad_inputs(tmp_path / "bad")
    for _ in range(2):
        (record,) = featurize_files([bad["overlap"]], cache_dir=tmp_path / "cache", on_error="skip")
        assert type(record.error).__name__ == "OverlappingAtomsError"
        assert str(bad["overlap"]) in str(record.error)
    assert record.from_cache


def test_parallel_equals_serial(tmp_path: Path, sample_cifs: list[Path]) -> None:
    bad = write_bad_inputs(tmp_path)
    files = [*sample_cifs[:12], bad["empty"], *sample_cifs[12:20]]
    serial = list(featurize_files(files, workers=1, on_error="skip"))
    parallel = list(featurize_files(files, workers=2, on_error="skip"))
    assert [r.structure_id for r in serial] == [r.structure_id for r in parallel]
    assert [r.status for r in parallel].count("error") == 1
    for a, b in zip(serial, parallel, strict=False):
        if a.graph is not None:
            assert torch.equal(a.graph.edge_index, b.graph.edge_index)
            assert torch.equal(a.graph.edge_vec, b.graph.edge_vec)
