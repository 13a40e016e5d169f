"""Frozen lower blocks computed once: graphs carrying the backbone's features after those blocks.

When adapters sit only in the top blocks, every block below the first trainable one gives the same
output at every epoch. :func:`with_frozen_prefix` runs them once per graph and attaches the result
(``prefix_x``, ``prefix_blocks``); the backbone then starts from there — the same numbers as the
full pass, at a fraction of the cost.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch_geometric.data import Data

from mofgap.models.backbone import GraphTransformer
from mofgap.train.batches import epoch_batches


@torch.no_grad()
def with_frozen_prefix(backbone: GraphTransformer, graphs: Sequence[Data], n_blocks: int,
                       batch_size: int = 64) -> list[Data]:
    """Shallow copies of ``graphs`` carrying the atom features after the first ``n_blocks`` (frozen) blocks."""
    if n_blocks == 0:
        return list(graphs)
    backbone.eval()
    device = next(backbone.parameters()).device
    out: list[Data] = []
    for batch in epoch_batches(graphs, batch_size, seed=None):
        features = backbone.prefix(batch.to(device), n_blocks).cpu()
        batch = batch.cpu()
        for i in range(batch.num_graphs):
            graph = copy.copy(graphs[len(out)])
            graph.prefix_x = features[batch.ptr[i] : batch.ptr[i + 1]].clone()
            graph.prefix_blocks = n_blocks
            out.append(graph)
    return out
