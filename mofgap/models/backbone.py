"""A graph transformer over periodic neighbour graphs.

Each atom attends over its (≤ k) neighbours. With ``x`` the atom features (width ``d``, ``H`` heads of
width ``d/H``) and ``e(r)`` a radial basis of the neighbour distance ``r`` times a cosine envelope
that vanishes at the cutoff, one pre-norm block is

    x̂ = LayerNorm(x);  q = W_q x̂_i,  k = W_k x̂_j,  v = W_v x̂_j ⊙ f_v(e(r_ij)),  b = f_b(e(r_ij))
    a_ij = softmax_j(q·k / √(d/H) + b) · envelope(r_ij)        (per head)
    x ← x + W_o Σ_j a_ij v;   x ← x + W_2 SiLU(W_1 LayerNorm(x))

followed by a final LayerNorm and a mean over the atoms of each crystal. Every projection is a plain
``torch.nn.Linear`` (``W_q, W_k, W_v, W_o``, the edge projection ``f = [f_v, f_b]``, the feed-forward
``W_1, W_2``), so adapters can wrap any of them by name. Inputs are atomic numbers and geometry only.

The neighbour lists are laid out densely as (atoms × k) with a mask: the graphs of
:mod:`mofgap.graph` give every atom its k nearest neighbours, sorted by centre, so the attention is a
batched dense computation instead of scatter operations over edges.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch, Data


@dataclass(frozen=True)
class BackboneConfig:
    """Hyperparameters of :class:`GraphTransformer`.

    Attributes:
        d_model: width of the atom features.
        n_blocks: transformer blocks.
        n_heads: attention heads (``d_model`` must be divisible by it).
        n_rbf: Gaussian radial basis functions of the distance, evenly spaced on [0, cutoff].
        cutoff: distance (Å) at which the envelope reaches zero; equal to the graph cutoff.
        ffn_multiplier: hidden width of the feed-forward layers in units of ``d_model``.
        max_atomic_number: largest atomic number embedded.
    """

    d_model: int = 64
    n_blocks: int = 4
    n_heads: int = 4
    n_rbf: int = 32
    cutoff: float = 6.0
    ffn_multiplier: int = 2
    max_atomic_number: int = 94

    def __post_init__(self) -> None:
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model={self.d_model} is not divisible by n_heads={self.n_heads}")

    def as_dict(self) -> dict[str, int | float]:
        """The hyperparameters as a plain dictionary."""
        return asdict(self)


@dataclass(frozen=True)
class DenseNeighbors:
    """Neighbour lists of a batch laid out as (atoms × k).

    Attributes:
        index: (N, K) int64 neighbour atom index (0 where masked).
        mask: (N, K) bool, True where a neighbour exists.
        distance: (N, K) float distance (Å); the cutoff where masked.
        scatter: sparse CSR (N, N·K) matrix with a 1 at (neighbour, centre·K + slot) for every edge:
            the transpose of the gather, used for its gradient.
    """

    index: Tensor
    mask: Tensor
    distance: Tensor
    scatter: Tensor | None

    def gather(self, x: Tensor) -> Tensor:
        """Rows of ``x`` (N, C) for every neighbour slot: (N, K, C)."""
        if self.scatter is None:
            return x[self.index]
        return _NeighborGather.apply(x, self.index, self.scatter)

    def repeat(self, copies: int) -> DenseNeighbors:
        """``copies`` disjoint copies of these neighbour lists (for batched sampling; no gradient path)."""
        n = self.index.shape[0]
        offsets = (torch.arange(copies, device=self.index.device) * n).repeat_interleave(n)[:, None]
        return DenseNeighbors(
            self.index.repeat(copies, 1) + offsets, self.mask.repeat(copies, 1), self.distance.repeat(copies, 1), None
        )


class _NeighborGather(torch.autograd.Function):
    """``x[index]`` whose backward is a sparse CSR product: deterministic, and faster than the scatter-add
    autograd uses (which sums in a thread-dependent order on CPU)."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: Tensor, index: Tensor, scatter: Tensor) -> Tensor:
        ctx.scatter = scatter  # type: ignore[attr-defined]
        return x[index]

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: Tensor) -> tuple[Tensor, None, None]:
        scatter = ctx.scatter  # type: ignore[attr-defined]
        flat = grad.reshape(-1, grad.shape[-1]).to(scatter.dtype)  # autocast may hand in bfloat16
        return torch.sparse.mm(scatter, flat).to(grad.dtype), None, None


def dense_neighbors(edge_index: Tensor, edge_dist: Tensor, num_nodes: int, cutoff: float) -> DenseNeighbors:
    """Lay edges ``[neighbour, centre]`` out as per-centre rows (any edge order is accepted)."""
    source, target = edge_index[0], edge_index[1]
    order = torch.argsort(target, stable=True)
    source, target, distance = source[order], target[order], edge_dist[order]
    counts = torch.bincount(target, minlength=num_nodes)
    start = torch.cumsum(counts, 0) - counts
    slot = torch.arange(target.numel(), device=target.device) - start[target]
    k = int(counts.max()) if counts.numel() else 0
    index = torch.zeros(num_nodes, max(k, 1), dtype=torch.long, device=target.device)
    mask = torch.zeros(num_nodes, max(k, 1), dtype=torch.bool, device=target.device)
    dense_distance = torch.full((num_nodes, max(k, 1)), cutoff, dtype=edge_dist.dtype, device=target.device)
    index[target, slot] = source
    mask[target, slot] = True
    dense_distance[target, slot] = distance
    by_source = torch.argsort(source, stable=True)
    row_counts = torch.bincount(source, minlength=num_nodes)
    crow = torch.cat([row_counts.new_zeros(1), torch.cumsum(row_counts, 0)])
    columns = (target * max(k, 1) + slot)[by_source]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "sparse CSR support is in beta"
        scatter = torch.sparse_csr_tensor(
            crow, columns, torch.ones(columns.numel(), dtype=edge_dist.dtype, device=target.device),
            size=(num_nodes, num_nodes * max(k, 1)), check_invariants=False,
        )
    return DenseNeighbors(index, mask, dense_distance, scatter)


class RadialBasis(nn.Module):
    """Gaussian radial basis with a cosine cutoff envelope: (…,) distances (Å) → (…, n_rbf), envelope."""

    def __init__(self, n_rbf: int, cutoff: float) -> None:
        super().__init__()
        self.cutoff = cutoff
        self.register_buffer("centers", torch.linspace(0.0, cutoff, n_rbf), persistent=False)
        self.width = cutoff / (n_rbf - 1)

    def forward(self, distance: Tensor) -> tuple[Tensor, Tensor]:
        envelope = 0.5 * (torch.cos(torch.pi * distance.clamp(max=self.cutoff) / self.cutoff) + 1.0)
        basis = torch.exp(-(((distance[..., None] - self.centers) / self.width) ** 2))
        return basis * envelope[..., None], envelope


class TransformerBlock(nn.Module):
    """One pre-norm neighbour-attention block with a feed-forward layer (see the module docstring)."""

    def __init__(self, config: BackboneConfig) -> None:
        super().__init__()
        d = config.d_model
        self.n_heads = config.n_heads
        self.norm_attention = nn.LayerNorm(d)
        self.query = nn.Linear(d, d)
        self.key = nn.Linear(d, d)
        self.value = nn.Linear(d, d)
        self.edge = nn.Linear(config.n_rbf, d + config.n_heads)
        self.output = nn.Linear(d, d)
        self.norm_ffn = nn.LayerNorm(d)
        self.ffn_in = nn.Linear(d, config.ffn_multiplier * d)
        self.ffn_out = nn.Linear(config.ffn_multiplier * d, d)

    ATTENTION_LAYERS = ("query", "key", "value", "edge", "output")
    """The projections of the attention half; ``ffn_in`` and ``ffn_out`` form the feed-forward half."""

    def forward(self, x: Tensor, neighbors: DenseNeighbors, basis: Tensor, envelope: Tensor) -> Tensor:
        return self.feed_forward(self.attention(x, neighbors, basis, envelope))

    def attention(self, x: Tensor, neighbors: DenseNeighbors, basis: Tensor, envelope: Tensor) -> Tensor:
        """The attention half with its residual connection."""
        n, k = neighbors.index.shape
        d = x.shape[-1]
        heads, width = self.n_heads, d // self.n_heads
        h = self.norm_attention(x)
        edge_value, edge_bias = self.edge(basis).split([d, heads], dim=-1)
        query = self.query(h).view(n, heads, 1, width)
        key, value = neighbors.gather(torch.cat([self.key(h), self.value(h)], dim=-1)).split(d, dim=-1)
        key = key.reshape(n, k, heads, width).permute(0, 2, 3, 1)
        logits = (query @ key).squeeze(2) / math.sqrt(width) + edge_bias.transpose(1, 2)
        logits = logits.masked_fill(~neighbors.mask[:, None, :], float("-inf"))
        weights = torch.softmax(logits, dim=-1).nan_to_num(0.0) * envelope[:, None, :]
        value = (value * edge_value).reshape(n, k, heads, width).transpose(1, 2)
        attended = (weights[:, :, None, :] @ value).reshape(n, d)
        return x + self.output(attended)

    def feed_forward(self, x: Tensor) -> Tensor:
        """The feed-forward half with its residual connection."""
        return x + self.ffn_out(nn.functional.silu(self.ffn_in(self.norm_ffn(x))))


@dataclass(frozen=True)
class Geometry:
    """What every block needs besides the atom features: neighbours, radial basis (N, K, R), envelope (N, K)."""

    neighbors: DenseNeighbors
    basis: Tensor
    envelope: Tensor

    def repeat(self, copies: int) -> Geometry:
        """The geometry of ``copies`` disjoint copies of the batch (for batched sampling)."""
        return Geometry(
            self.neighbors.repeat(copies), self.basis.repeat(copies, 1, 1), self.envelope.repeat(copies, 1)
        )


class GraphTransformer(nn.Module):
    """The backbone: atom embeddings → transformer blocks → normalised atom features and crystal pooling."""

    def __init__(self, config: BackboneConfig | None = None) -> None:
        super().__init__()
        self.config = config or BackboneConfig()
        self.embedding = nn.Embedding(self.config.max_atomic_number + 1, self.config.d_model)
        self.radial = RadialBasis(self.config.n_rbf, self.config.cutoff)
        self.blocks = nn.ModuleList(TransformerBlock(self.config) for _ in range(self.config.n_blocks))
        self.norm = nn.LayerNorm(self.config.d_model)

    def geometry(self, batch: Data | Batch) -> Geometry:
        """Neighbour layout and distance encodings of a batch."""
        neighbors = dense_neighbors(batch.edge_index, batch.edge_dist, batch.num_nodes, self.config.cutoff)
        basis, envelope = self.radial(neighbors.distance)
        return Geometry(neighbors, basis, envelope * neighbors.mask)

    def run_blocks(self, x: Tensor, geometry: Geometry, start: int = 0, stop: int | None = None) -> Tensor:
        """Atom features after blocks ``start … stop-1`` (before the final LayerNorm)."""
        for block in self.blocks[start:stop]:
            x = block(x, geometry.neighbors, geometry.basis, geometry.envelope)
        return x

    def prefix(self, batch: Data | Batch, n_blocks: int) -> Tensor:
        """Atom features after the first ``n_blocks`` blocks: what frozen lower blocks give, computed once."""
        return self.run_blocks(self.embedding(batch.z), self.geometry(batch), 0, n_blocks)

    def readout(self, x: Tensor, index: Tensor, size: int) -> tuple[Tensor, Tensor]:
        """Normalised atom features (N, d) and their mean per crystal (size, d); ``index`` maps atoms to crystals."""
        x = self.norm(x)
        return x, mean_pool(x, index, size)

    def forward(self, batch: Data | Batch) -> tuple[Tensor, Tensor]:
        """Atom features (N, d) and crystal features (B, d), the mean of each crystal's atoms.

        A batch carrying ``prefix_x`` and ``prefix_blocks`` (from :meth:`prefix`) starts after those blocks.
        """
        geometry = self.geometry(batch)
        start = int(torch.as_tensor(batch.prefix_blocks).flatten()[0]) if "prefix_blocks" in batch else 0
        x = batch.prefix_x if start else self.embedding(batch.z)
        return self.readout(self.run_blocks(x, geometry, start), *graph_index(batch))


def graph_index(batch: Data | Batch) -> tuple[Tensor, int]:
    """The crystal of every atom (N,) and the number of crystals of a batch (or of a single graph)."""
    index = getattr(batch, "batch", None)
    if index is None:
        return torch.zeros(batch.num_nodes, dtype=torch.long, device=batch.z.device), 1
    return index, int(batch.num_graphs)


def mean_pool(x: Tensor, index: Tensor, size: int) -> Tensor:
    """Mean of the rows of ``x`` per crystal: (N, d) → (size, d)."""
    total = torch.zeros(size, x.shape[1], dtype=x.dtype, device=x.device).index_add_(0, index, x)
    count = torch.bincount(index, minlength=size).clamp(min=1).to(x.dtype)
    return total / count[:, None]
