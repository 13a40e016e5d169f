"""What BaLoRA costs over LoRA, measured as ratios in one run on the bundled QMOF sample.

1. trainable parameters of BaLoRA / LoRA at the same rank and targets;
2. training-step time (forward, backward, AdamW) of BaLoRA / LoRA, interleaved repeats, median;
3. prediction time with M = 32 samples / one deterministic pass, for several adapter placements
   (the blocks below the first stochastic layer run once; the rest runs on the M copies as one batch).

    python benchmarks/adapters.py --out benchmarks/results/adapters.json
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from _report import emit
from torch_geometric.data import Batch

from mofgap.adapters import AdapterConfig, add_adapters, set_stochastic
from mofgap.data.sample import sample_dir
from mofgap.graph.pipeline import featurize_files
from mofgap.models import BandGapModel, GraphTransformer
from mofgap.models.sampling import sample_predictions

PLACEMENTS = {
    "all blocks": r".*blocks\.\d+\.(query|key|value|output|edge|ffn_in|ffn_out)",
    "top block": r".*blocks\.3\.(query|key|value|output|edge|ffn_in|ffn_out)",
    "top block feed-forward": r".*blocks\.3\.(ffn_in|ffn_out)",
}


def model_with(method: str, target: str, rank: int) -> BandGapModel:
    torch.manual_seed(0)
    model = BandGapModel(GraphTransformer())
    add_adapters(model.backbone, AdapterConfig(method=method, rank=rank, target_modules=target))  # type: ignore[arg-type]
    for parameter in model.head.parameters():
        parameter.requires_grad_(True)
    return model


def trainable(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def timed(action: Callable[[], object], repeats: int) -> float:
    action()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def train_step(model: BandGapModel, batch: Batch, optimizer: torch.optim.Optimizer) -> None:
    model.train()
    loss = model(batch).mean_eV.abs().mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    files = sorted((sample_dir() / "relaxed_structures").glob("*.cif"))[:64]
    graphs = [r.graph for r in featurize_files(files)]
    train_batch = Batch.from_data_list(graphs[:32])
    predict_batch = Batch.from_data_list(graphs)

    lora = model_with("lora", PLACEMENTS["all blocks"], args.rank)
    balora = model_with("balora", PLACEMENTS["all blocks"], args.rank)
    optimizers = {name: torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=1e-5)
                  for name, m in (("lora", lora), ("balora", balora))}
    step_times: dict[str, list[float]] = {"lora": [], "balora": []}
    for _ in range(3):  # interleave to share the machine's noise
        for name, model in (("lora", lora), ("balora", balora)):
            step_times[name].append(timed(lambda m=model, n=name: train_step(m, train_batch, optimizers[n]),
                                          args.repeats))
    step_lora, step_balora = statistics.median(step_times["lora"]), statistics.median(step_times["balora"])

    placements = {}
    for label, target in PLACEMENTS.items():
        model = model_with("balora", target, args.rank).eval()

        def deterministic(m: BandGapModel = model) -> None:
            set_stochastic(m, False)
            with torch.no_grad():
                m(predict_batch)

        one = timed(deterministic, args.repeats)
        sampled = timed(lambda m=model: sample_predictions(m, predict_batch, args.samples), args.repeats)
        placements[label] = {"deterministic_s": one, f"samples_{args.samples}_s": sampled, "ratio": sampled / one}

    report = {
        "command": " ".join(["python", *sys.argv]),
        "rank": args.rank,
        "threads": torch.get_num_threads(),
        "trainable_lora": trainable(lora.backbone),
        "trainable_balora": trainable(balora.backbone),
        "trainable_ratio": trainable(balora.backbone) / trainable(lora.backbone),
        "train_step_lora_s": step_lora,
        "train_step_balora_s": step_balora,
        "train_step_ratio": step_balora / step_lora,
        "prediction_cost_by_placement": placements,
    }
    emit(report, args.out)


if __name__ == "__main__":
    main()
