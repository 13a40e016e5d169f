"""Does pretraining help? Band-gap validation MAE from the pretrained backbone versus random init.

Two regimes, each with the same budget for both initialisations:

* ``head``: the backbone is frozen, its crystal features are computed once, and only the band-gap
  head is trained (``--head-epochs`` epochs, several seeds: it is cheap);
* ``full``: every parameter is fine-tuned for ``--full-epochs`` epochs (:func:`mofgap.train.finetune.finetune`,
  method ``ft``).

Train and validation are the JARVIS-Leaderboard QMOF train and val splits; the test split is not
touched. Loss: Gaussian NLL with the head's σ; the epoch kept is the best on validation.

    python benchmarks/pretraining_evidence.py --qmof ../shared/data/qmof \
        --backbone models/gt-qmof-pbe-atomprops-d64l4-v1 --cache .cache/graphs \
        --out benchmarks/results/pretraining_evidence.json
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from _report import emit

from mofgap.data.graphs import qmof_graphs
from mofgap.data.qmof import QMOF
from mofgap.models import GraphTransformer, load_backbone
from mofgap.models.heads import GapHead
from mofgap.train.finetune import FinetuneConfig, build_model, finetune
from mofgap.train.gap import GapTrainConfig, fit_gap_head, pooled_features, targets


def backbone_for(init: str, pretrained: Path, seed: int) -> GraphTransformer:
    """The pretrained backbone, or a randomly initialised one of the same architecture."""
    loaded = load_backbone(pretrained)
    if init == "pretrained":
        return loaded
    torch.manual_seed(seed)
    return GraphTransformer(loaded.config)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qmof", type=Path, required=True)
    parser.add_argument("--backbone", type=Path, required=True)
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--head-epochs", type=int, default=60)
    parser.add_argument("--head-seeds", type=int, default=3)
    parser.add_argument("--full-epochs", type=int, default=3)
    parser.add_argument("--full-seeds", type=int, default=1)
    parser.add_argument("--limit", type=int, default=0, help="use the first N train structures (0: all)")
    parser.add_argument("--run-root", type=Path, default=Path(".cache/pretraining-evidence"),
                        help="checkpoints of the full fine-tuning runs")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    qmof = QMOF(args.qmof)
    train = qmof_graphs(qmof, splits=("train",), cache_dir=args.cache, workers=args.workers, limit=args.limit).graphs
    val = qmof_graphs(qmof, splits=("val",), cache_dir=args.cache, workers=args.workers).graphs
    train_y, val_y = targets(train), targets(val)
    results: dict[str, dict[str, object]] = {}
    for init in ("pretrained", "random"):
        started = time.perf_counter()
        frozen = backbone_for(init, args.backbone, seed=0)
        train_x, val_x = pooled_features(frozen, train), pooled_features(frozen, val)
        maes = []
        for seed in range(args.head_seeds):
            torch.manual_seed(seed)
            head = GapHead(frozen.config.d_model)
            config = GapTrainConfig(epochs=args.head_epochs, batch_size=64, learning_rate=2e-3, seed=seed)
            history = fit_gap_head(head, train_x, train_y, val_x, val_y, config)
            maes.append(min(h["val_mae_eV"] for h in history))
        results[f"head/{init}"] = {
            "val_mae_eV": maes,
            "mean": statistics.mean(maes),
            "std": statistics.stdev(maes) if len(maes) > 1 else 0.0,
            "seconds": time.perf_counter() - started,
        }
        print(f"head/{init}: {results[f'head/{init}']}", file=sys.stderr)
    for init in ("pretrained", "random"):
        started = time.perf_counter()
        maes, curves = [], []
        for seed in range(args.full_seeds):
            config = FinetuneConfig(method="ft", epochs=args.full_epochs, learning_rate=1e-3, seed=seed,
                                    patience=args.full_epochs)
            model = build_model(backbone_for(init, args.backbone, seed=seed), config)
            result = finetune(model, train, val, config, args.run_root / f"full-{init}-{seed}", resume=False)
            maes.append(result.best_val_mae_eV)
            curves.append([h["val_mae_eV"] for h in result.history])
        results[f"full/{init}"] = {
            "val_mae_eV": maes,
            "mean": statistics.mean(maes),
            "std": statistics.stdev(maes) if len(maes) > 1 else 0.0,
            "val_mae_per_epoch": curves,
            "seconds": time.perf_counter() - started,
        }
        print(f"full/{init}: {results[f'full/{init}']}", file=sys.stderr)
    report = {
        "command": " ".join(["python", *sys.argv]),
        "n_train": len(train),
        "n_val": len(val),
        "head_epochs": args.head_epochs,
        "full_epochs": args.full_epochs,
        "results": results,
    }
    emit(report, args.out)


if __name__ == "__main__":
    main()
