"""Backbone: invariances, dense neighbour layout, strict loading, save/load round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from pymatgen.core import Structure
from pymatgen.core.operations import SymmOp
from torch_geometric.data import Batch

from mofgap.graph.featurize import structure_to_graph
from mofgap.io import read_file
from mofgap.models import BandGapModel, GraphTransformer, ModelLoadError, load_backbone, save_backbone
from mofgap.models.backbone import BackboneConfig, dense_neighbors


@pytest.fixture(scope="module")
def structure(sample_cifs: list[Path]) -> Structure:
    return read_file(sample_cifs[7])[0].structure


@pytest.fixture(scope="module")
def model() -> BandGapModel:
    torch.manual_seed(0)
    model = BandGapModel(GraphTransformer(BackboneConfig(d_model=32, n_blocks=2)))
    with torch.no_grad():  # a non-trivial head so that outputs differ between crystals
        for p in model.head.parameters():
            p.normal_(0, 0.5)
    return model.eval()


def predict(model: BandGapModel, structure: Structure) -> tuple[float, float]:
    with torch.no_grad():
        out = model(Batch.from_data_list([structure_to_graph(structure)]))
    return float(out.mean_eV), float(out.sigma_eV)


def test_every_projection_is_a_plain_linear() -> None:
    block = GraphTransformer().blocks[0]
    for name in ("query", "key", "value", "edge", "output", "ffn_in", "ffn_out"):
        assert type(getattr(block, name)) is torch.nn.Linear


def test_output_is_invariant(model: BandGapModel, structure: Structure) -> None:
    reference = predict(model, structure)
    rotation = SymmOp.from_axis_angle_and_translation([1, 2, 3], 47.0)
    rotated = Structure(
        structure.lattice.matrix @ rotation.rotation_matrix.T, structure.species,
        structure.cart_coords @ rotation.rotation_matrix.T, coords_are_cartesian=True,
    )
    translated = structure.copy()
    translated.translate_sites(list(range(len(structure))), [0.31, 0.17, -0.4], to_unit_cell=True)
    order = np.random.default_rng(1).permutation(len(structure))
    permuted = Structure.from_sites([structure[i] for i in order])
    supercell = structure * (2, 1, 1)
    for variant in (rotated, translated, permuted, supercell):
        np.testing.assert_allclose(predict(model, variant), reference, atol=2e-5)
    assert abs(reference[0]) > 1e-3


def test_batched_equals_single(model: BandGapModel, sample_cifs: list[Path]) -> None:
    structures = [read_file(p)[0].structure for p in sample_cifs[:4]]
    singles = [predict(model, s)[0] for s in structures]
    with torch.no_grad():
        batched = model(Batch.from_data_list([structure_to_graph(s) for s in structures])).mean_eV
    np.testing.assert_allclose(batched.numpy(), singles, atol=1e-5)


def test_dense_neighbors_layout() -> None:
    edge_index = torch.tensor([[1, 2, 0, 0], [0, 0, 1, 2]])
    distance = torch.tensor([1.0, 2.0, 1.5, 2.5])
    dense = dense_neighbors(edge_index, distance, num_nodes=3, cutoff=6.0)
    assert dense.index.tolist() == [[1, 2], [0, 0], [0, 0]]
    assert dense.mask.tolist() == [[True, True], [True, False], [True, False]]
    assert dense.distance.tolist() == [[1.0, 2.0], [1.5, 6.0], [2.5, 6.0]]


def test_save_load_round_trip_and_strictness(tmp_path: Path, structure: Structure) -> None:
    torch.manual_seed(3)
    backbone = GraphTransformer(BackboneConfig(d_model=32, n_blocks=2))
    folder = tmp_path / "tiny-backbone"
    save_backbone(backbone, folder)
    loaded = load_backbone(folder)
    graph = Batch.from_data_list([structure_to_graph(structure)])
    with torch.no_grad():
        torch.testing.assert_close(loaded(graph)[1], backbone.eval()(graph)[1], atol=0, rtol=0)

    config = json.loads((folder / "config.json").read_text())
    config["weights"]["backbone.safetensors"] = "0" * 64
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="sha256"):
        load_backbone(folder)

    wider = tmp_path / "wrong-keys"
    save_backbone(GraphTransformer(BackboneConfig(d_model=32, n_blocks=3)), wider)
    config = json.loads((wider / "config.json").read_text())
    config["architecture"]["n_blocks"] = 2
    (wider / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="unexpected keys"):
        load_backbone(wider)
    with pytest.raises(ModelLoadError, match="no model"):
        load_backbone("no-such-model")


DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA"))]


@pytest.mark.parametrize("device", DEVICES)
def test_forward_and_backward_on_device(device: str, model: BandGapModel, sample_cifs: list[Path]) -> None:
    graphs = [structure_to_graph(read_file(p)[0].structure) for p in sample_cifs[:3]]
    batch = Batch.from_data_list(graphs)
    with torch.no_grad():
        expected = model(batch).mean_eV
    moved = BandGapModel(GraphTransformer(model.backbone.config)).to(device)
    moved.load_state_dict(model.state_dict())
    out = moved(batch.to(device))
    torch.testing.assert_close(out.mean_eV.detach().cpu(), expected, atol=1e-4, rtol=1e-4)
    out.mean_eV.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in moved.parameters() if p.requires_grad)
