"""Compare fine-tuned models on the QMOF validation split: accuracy and error–uncertainty ranking.

For each model folder: MAE and RMSE of the predictive mean, and Spearman / Pearson correlation of
σ with |error| for the total σ and its epistemic and aleatoric parts (M stochastic passes; a
deterministic model has only its aleatoric σ). Validation split only: model selection never sees test.

    python benchmarks/validation_comparison.py --qmof ../shared/data/qmof --cache .cache/graphs \
        --model lora=runs/lora/model --model balora=runs/balora/model --samples 32 \
        --out benchmarks/results/validation_comparison.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from _report import emit
from scipy import stats

from mofgap.data.graphs import qmof_graphs
from mofgap.data.qmof import QMOF
from mofgap.models.finetuned import load_finetuned
from mofgap.models.sampling import predict_with_uncertainty
from mofgap.train.batches import epoch_batches
from mofgap.train.gap import targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qmof", type=Path, required=True)
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--model", action="append", required=True, help="label=folder")
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    val = qmof_graphs(QMOF(args.qmof), splits=("val",), cache_dir=args.cache, workers=2).graphs
    y = targets(val)
    results = {}
    for item in args.model:
        label, folder = item.split("=", 1)
        model = load_finetuned(folder)
        parts = [predict_with_uncertainty(model, batch, args.samples) for batch in epoch_batches(val, 64, seed=None)]
        mean = torch.cat([p.mean_eV for p in parts])
        error = (mean - y).abs()
        row: dict[str, float] = {"mae_eV": float(error.mean()), "rmse_eV": float((mean - y).pow(2).mean().sqrt())}
        for name in ("sigma_eV", "sigma_epistemic_eV", "sigma_aleatoric_eV"):
            sigma = torch.cat([getattr(p, name) for p in parts])
            if float(sigma.std()) == 0.0:
                continue
            key = name.removesuffix("_eV")
            row[f"spearman_{key}"] = float(stats.spearmanr(sigma.numpy(), error.numpy()).statistic)
            row[f"pearson_{key}"] = float(stats.pearsonr(sigma.numpy(), error.numpy()).statistic)
            row[f"mean_{name}"] = float(sigma.mean())
        results[label] = row
        print(label, row, file=sys.stderr)
    emit({"command": " ".join(["python", *sys.argv]), "n_val": len(val), "samples": args.samples,
          "results": results}, args.out)


if __name__ == "__main__":
    main()
