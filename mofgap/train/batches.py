"""Deterministic mini-batches of graphs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch_geometric.data import Batch, Data


def epoch_batches(
    graphs: Sequence[Data], batch_size: int, *, seed: int | None, epoch: int = 0
) -> Iterator[Batch]:
    """Batches of ``graphs``; shuffled by a generator seeded from ``(seed, epoch)``, in order if ``seed`` is None.

    The order of an epoch depends only on the seed and the epoch number, so a resumed run sees the
    same batches as an uninterrupted one.
    """
    if seed is None:
        order = torch.arange(len(graphs))
    else:
        generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
        order = torch.randperm(len(graphs), generator=generator)
    for start in range(0, len(graphs), batch_size):
        yield Batch.from_data_list([graphs[int(i)] for i in order[start : start + batch_size]])
