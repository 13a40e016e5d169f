"""Data-parallel training with torch.distributed, as launched by ``torchrun --nproc_per_node N``.

Every process holds the whole model and sees every global batch of the single-process run; process
r trains on the graphs ``batch[r::N]``. Its loss is weighted by its share of the batch and gradients
are summed across processes (all-reduce) before clipping, so each step applies the gradient of the
mean loss over the global batch — the single-process step, up to floating-point summation order.
Noise (BaLoRA, dropout) is drawn per process. Only rank 0 writes checkpoints, metrics and models.
Backends: gloo on CPU, NCCL on CUDA (one GPU per process, ``cuda:LOCAL_RANK``).
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch_geometric.data import Batch, Data

from mofgap.train.batches import epoch_order


def _leave_process_group() -> None:
    """Destroy the process group while the interpreter is still whole.

    Without this, gloo's worker threads outlive the interpreter and the process can die at exit with
    "terminate called without an active exception" (SIGABRT) after its work is done.
    """
    if dist.is_initialized():
        dist.destroy_process_group()


@dataclass(frozen=True)
class Distributed:
    """This process's place in a data-parallel run (a single process by default)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend_device: str = "cpu"

    @property
    def active(self) -> bool:
        """Whether more than one process trains."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that writes files."""
        return self.rank == 0

    @classmethod
    def from_environment(cls, device: str = "cpu") -> Distributed:
        """Join the process group that ``torchrun`` describes in the environment (``WORLD_SIZE`` > 1)."""
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if world_size <= 1:
            return cls()
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        cuda = device.startswith("cuda")
        if cuda:
            torch.cuda.set_device(local_rank)
        if not dist.is_initialized():
            dist.init_process_group("nccl" if cuda else "gloo")
            atexit.register(_leave_process_group)
        return cls(dist.get_rank(), dist.get_world_size(), local_rank, f"cuda:{local_rank}" if cuda else "cpu")

    def device(self, device: str) -> str:
        """The device of this process: ``cuda:LOCAL_RANK`` for CUDA runs, else ``device``."""
        return f"cuda:{self.local_rank}" if self.active and device == "cuda" else device

    def batches(self, graphs: Sequence[Data], batch_size: int, *, seed: int, epoch: int
                ) -> Iterator[tuple[Batch | None, int]]:
        """This process's part of every global batch (``None`` if it gets no graph) and the global batch size."""
        order = epoch_order(len(graphs), seed, epoch)
        for start in range(0, len(graphs), batch_size):
            chunk = order[start:start + batch_size]
            mine = chunk[self.rank::self.world_size]
            yield (Batch.from_data_list([graphs[int(i)] for i in mine]) if len(mine) else None), len(chunk)

    def sum_gradients(self, parameters: Iterable[torch.Tensor]) -> None:
        """Sum every gradient across processes (missing gradients count as zeros)."""
        if not self.active:
            return
        for parameter in parameters:
            if parameter.grad is None:
                parameter.grad = torch.zeros_like(parameter)
            dist.all_reduce(parameter.grad)

    def total(self, tensor: torch.Tensor) -> torch.Tensor:
        """Element-wise sum of a tensor across processes (the tensor itself in one process)."""
        if not self.active:
            return tensor
        summed = tensor.detach().to(self.backend_device, copy=True)  # NCCL reduces CUDA tensors only
        dist.all_reduce(summed)
        return summed.to(tensor.device)

    def sum(self, values: Sequence[float]) -> list[float]:
        """Element-wise sum of numbers across processes."""
        if not self.active:
            return list(values)
        tensor = torch.tensor(values, dtype=torch.float64, device=self.backend_device)
        dist.all_reduce(tensor)
        return tensor.tolist()

    def from_main(self, values: Sequence[float]) -> list[float]:
        """Rank 0's numbers on every process (so that every process takes the same decisions)."""
        if not self.active:
            return list(values)
        tensor = torch.tensor(values, dtype=torch.float64, device=self.backend_device)
        dist.broadcast(tensor, src=0)
        return tensor.tolist()

    def noise_seed(self, seed: int, epoch: int) -> int:
        """A different noise seed per process and epoch (used only when several processes train)."""
        return (seed * 1_000_003 + epoch) * 1_009 + self.rank
