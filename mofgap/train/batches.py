"""Deterministic mini-batches of graphs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch_geometric.data import Batch, Data


def epoch_order(n: int, seed: int | None, epoch: int = 0) -> torch.Tensor:
    """Indices 0..n-1 shuffled by a generator seeded from ``(seed, epoch)``; in order if ``seed`` is None."""
    if seed is None:
        return torch.arange(n)
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return torch.randperm(n, generator=generator)


def epoch_batches(
    graphs: Sequence[Data], batch_size: int, *, seed: int | None, epoch: int = 0
) -> Iterator[Batch]:
    """Batches of ``graphs``; shuffled by a generator seeded from ``(seed, epoch)``, in order if ``seed`` is None.

    The order of an epoch depends only on the seed and the epoch number, so a resumed run sees the
    same batches as an uninterrupted one.
    """
    order = epoch_order(len(graphs), seed, epoch)
    for start in range(0, len(graphs), batch_size):
        yield Batch.from_data_list([graphs[int(i)] for i in order[start : start + batch_size]])
