"""A loaded band-gap model ready to predict: weights, validation calibration, name and checksum."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy import stats
from torch_geometric.data import Batch

from mofgap.adapters.io import read_adapter_config
from mofgap.models.finetuned import load_finetuned
from mofgap.models.heads import BandGapModel
from mofgap.models.registry import resolve_model_dir
from mofgap.models.sampling import combine_samples, sample_predictions
from mofgap.uq.calibration import CALIBRATION_FILE, Calibration

DEFAULT_MODEL = "gt-qmof-pbe-balora-r8-v1"
"""The shipped band-gap model used when none is named."""


@dataclass(frozen=True)
class BatchPrediction:
    """Per-crystal predictions of a batch (numpy, eV); σ already multiplied by the calibration scale."""

    gap: np.ndarray
    sigma: np.ndarray
    sigma_epistemic: np.ndarray
    sigma_aleatoric: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


class Predictor:
    """A fine-tuned model with its calibration.

    Args:
        model: shipped model name or folder (default :data:`DEFAULT_MODEL`).
        device: ``cpu`` or ``cuda``.

    σ from a model folder with ``calibration.json`` is multiplied by the validation-fitted scale (the
    epistemic and aleatoric parts alike, so σ² = σ²_epistemic + σ²_aleatoric still holds), and intervals
    are split-conformal ones from the validation scores; without it σ is raw and intervals Gaussian.
    """

    def __init__(self, model: str | Path | None = None, device: str = "cpu") -> None:
        self.folder = resolve_model_dir(model or DEFAULT_MODEL)
        self.device = torch.device(device)
        self.model: BandGapModel = load_finetuned(self.folder).to(self.device)
        document = read_adapter_config(self.folder)
        self.name = self.folder.name
        self.sha256 = next(iter(document["weights"].values()))
        path = self.folder / CALIBRATION_FILE
        self.calibration = Calibration.from_dict(json.loads(path.read_text())) if path.is_file() else None

    def calibration_note(self, samples: int) -> str | None:
        """A warning when ``samples`` differs from the M the calibration was fitted with, else ``None``."""
        if self.calibration is None or self.calibration.samples == samples:
            return None
        return (f"{self.name} was calibrated with M = {self.calibration.samples} samples; with M = {samples} the "
                f"σ scale and the interval coverage are approximate")

    @torch.no_grad()
    def predict(self, batch: Batch, samples: int, coverage: float) -> BatchPrediction:
        """Mean, σ (total, epistemic, aleatoric) and the ``coverage`` interval of every crystal in ``batch``."""
        means, sigmas = sample_predictions(self.model, batch.to(self.device), samples)
        combined = combine_samples(means.double().cpu(), sigmas.double().cpu())
        scale = self.calibration.sigma_scale.factor if self.calibration else 1.0
        gap = combined.mean_eV.numpy()
        sigma, epistemic, aleatoric = (scale * t.numpy() for t in
                                       (combined.sigma_eV, combined.sigma_epistemic_eV, combined.sigma_aleatoric_eV))
        if self.calibration is not None:
            lower, upper = self.calibration.interval(coverage).bounds(gap, sigma / scale)
        else:
            half = stats.norm.ppf(0.5 + coverage / 2) * sigma
            lower, upper = gap - half, gap + half
        return BatchPrediction(gap, sigma, epistemic, aleatoric, lower, upper)
