"""Per-structure predictive samples of a model (M stochastic passes) or an ensemble (K members) on a split.

A :class:`SampleSet` keeps every pass, so predictions with any M′ ≤ M (or K′ ≤ K) are nested subsets
of one draw: the curves over M and K need no re-prediction.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import Data

from mofgap.models.ensemble import LoRAEnsemble
from mofgap.models.finetuned import load_finetuned
from mofgap.models.sampling import combine_samples, sample_predictions
from mofgap.train.batches import epoch_batches
from mofgap.utils.atomic import atomic_write

BATCH_SIZE = 64


@dataclass(frozen=True)
class SampleSet:
    """Passes of one model on one split.

    Attributes:
        ids: structure ids (n,).
        y: DFT band gaps (n,), eV.
        means: per-pass predicted gaps (M, n), eV.
        sigmas: per-pass aleatoric σ (M, n), eV.
    """

    ids: np.ndarray
    y: np.ndarray
    means: np.ndarray
    sigmas: np.ndarray

    def save(self, path: str | Path) -> None:
        """Write a compressed ``.npz`` atomically."""
        buffer = io.BytesIO()
        np.savez_compressed(buffer, ids=self.ids.astype(str), y=self.y, means=self.means, sigmas=self.sigmas)
        atomic_write(path, lambda stream: stream.write(buffer.getvalue()))

    @classmethod
    def load(cls, path: str | Path) -> SampleSet:
        """Read a set written by :meth:`save`."""
        with np.load(path) as data:
            return cls(data["ids"], data["y"], data["means"], data["sigmas"])

    def table(self, passes: int | None = None, model: str = "") -> pd.DataFrame:
        """The prediction table (``mofgap predict`` columns) from the first ``passes`` passes (all by default)."""
        combined = combine_samples(torch.from_numpy(self.means[:passes]), torch.from_numpy(self.sigmas[:passes]))
        return pd.DataFrame({
            "structure_id": self.ids, "gap_eV": combined.mean_eV.numpy(), "sigma_eV": combined.sigma_eV.numpy(),
            "sigma_epistemic_eV": combined.sigma_epistemic_eV.numpy(),
            "sigma_aleatoric_eV": combined.sigma_aleatoric_eV.numpy(), "status": "ok", "error": "", "model": model,
        })


@torch.no_grad()
def model_samples(model_dir: str | Path, graphs: Sequence[Data], samples: int, seed: int = 0) -> SampleSet:
    """``samples`` stochastic passes of one fine-tuned model (one pass repeated if it is deterministic)."""
    torch.manual_seed(seed)
    model = load_finetuned(model_dir)
    means, sigmas = [], []
    for batch in epoch_batches(list(graphs), BATCH_SIZE, seed=None):
        mean, sigma = sample_predictions(model, batch, samples)
        means.append(mean)
        sigmas.append(sigma)
    return _sample_set(graphs, torch.cat(means, 1), torch.cat(sigmas, 1))


@torch.no_grad()
def ensemble_samples(member_dirs: Sequence[str | Path], graphs: Sequence[Data]) -> SampleSet:
    """One pass per ensemble member, in the order given."""
    ensemble = LoRAEnsemble(member_dirs)
    means, sigmas = [], []
    for batch in epoch_batches(list(graphs), BATCH_SIZE, seed=None):
        mean, sigma = ensemble.member_predictions(batch)
        means.append(mean)
        sigmas.append(sigma)
    return _sample_set(graphs, torch.cat(means, 1), torch.cat(sigmas, 1))


def _sample_set(graphs: Sequence[Data], means: torch.Tensor, sigmas: torch.Tensor) -> SampleSet:
    return SampleSet(
        ids=np.array([g.qmof_id for g in graphs]), y=torch.cat([g.y for g in graphs]).numpy().astype(np.float64),
        means=means.numpy().astype(np.float64), sigmas=sigmas.numpy().astype(np.float64),
    )
