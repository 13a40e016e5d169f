"""Validated structures → graph arrays (NumPy, cacheable) → ``torch_geometric.data.Data``.

A graph carries only what a user's structure file has: atomic numbers and geometry.

Data attributes:
    z: (N,) int64 atomic numbers.
    pos: (N, 3) float32 Cartesian positions (Å).
    cell: (1, 3, 3) float32 cell vectors as rows (Å).
    edge_index: (2, E) int64, rows ``[neighbour, centre]``.
    edge_shift: (E, 3) int64 lattice translation of the neighbour image (cell vectors).
    edge_vec: (E, 3) float32 vector from centre to neighbour image (Å).
    edge_dist: (E,) float32 its length (Å).
    structure_id, source_path: where the graph came from.
"""

from __future__ import annotations

import numpy as np
import torch
from pymatgen.core import Structure
from torch_geometric.data import Data

from mofgap.graph.neighbors import GraphSettings, neighbor_graph

GraphArrays = dict[str, np.ndarray]

ARRAY_DTYPES: dict[str, np.dtype] = {
    "z": np.dtype(np.int64),
    "pos": np.dtype(np.float32),
    "cell": np.dtype(np.float32),
    "edge_index": np.dtype(np.int64),
    "edge_shift": np.dtype(np.int64),
    "edge_vec": np.dtype(np.float32),
    "edge_dist": np.dtype(np.float32),
}
"""The arrays of a graph and their stored dtypes."""


def graph_arrays(structure: Structure, atomic_numbers: np.ndarray, settings: GraphSettings) -> GraphArrays:
    """The graph of one ordered structure as NumPy arrays (see the module docstring for the fields)."""
    cart = np.asarray(structure.cart_coords, dtype=float)
    lattice = np.asarray(structure.lattice.matrix, dtype=float)
    graph = neighbor_graph(cart, lattice, settings)
    arrays = {
        "z": atomic_numbers,
        "pos": cart,
        "cell": lattice[None],
        "edge_index": graph.edge_index,
        "edge_shift": graph.edge_shift,
        "edge_vec": graph.edge_vec,
        "edge_dist": graph.edge_dist,
    }
    return {name: np.ascontiguousarray(value, dtype=ARRAY_DTYPES[name]) for name, value in arrays.items()}


def arrays_to_data(arrays: GraphArrays, *, structure_id: str, source_path: str) -> Data:
    """Wrap graph arrays (no copy) into a ``torch_geometric.data.Data``."""
    tensors = {name: torch.from_numpy(np.ascontiguousarray(arrays[name])) for name in ARRAY_DTYPES}
    return Data(
        **tensors,
        num_nodes=int(arrays["z"].shape[0]),
        structure_id=structure_id,
        source_path=source_path,
    )


def structure_to_graph(
    structure: Structure,
    *,
    settings: GraphSettings | None = None,
    structure_id: str = "",
) -> Data:
    """Graph of an ordered pymatgen structure (no validation; use :mod:`mofgap.io` for untrusted input)."""
    numbers = np.array([site.specie.Z for site in structure], dtype=np.int64)
    arrays = graph_arrays(structure, numbers, settings or GraphSettings())
    return arrays_to_data(arrays, structure_id=structure_id, source_path="")
