"""What BaLoRA costs over LoRA, measured as ratios in one run on the bundled QMOF sample.

1. trainable parameters of BaLoRA / LoRA at the same rank and targets (every linear layer of every block);
2. training-step time (forward, backward, AdamW) of BaLoRA / LoRA, interleaved repeats, median — for
   the default BaLoRA (noise in the top block's feed-forward, LoRA path elsewhere) and with noise in
   every adapted layer;
3. prediction time with M = 32 samples / one deterministic pass, for several placements (everything
   below the first stochastic layer runs once; the rest runs on the M copies, in bounded chunks).

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

ALL = r".*blocks\.\d+\.(query|key|value|output|edge|ffn_in|ffn_out)"
TOP_FFN = r".*blocks\.3\.(ffn_in|ffn_out)"
PLACEMENTS = {  # label: (adapted layers, stochastic layers)
    "adapters in all blocks, noise in the top feed-forward (default)": (ALL, TOP_FFN),
    "adapters and noise in all blocks": (ALL, None),
    "adapters and noise in the top block": (r".*blocks\.3\.(query|key|value|output|edge|ffn_in|ffn_out)", None),
    "adapters and noise in the top feed-forward": (TOP_FFN, None),
}


def model_with(method: str, target: str, rank: int, stochastic: str | None = None) -> BandGapModel:
    torch.manual_seed(0)
    model = BandGapModel(GraphTransformer())
    config = AdapterConfig(method=method, rank=rank, target_modules=target, stochastic_modules=stochastic)  # type: ignore[arg-type]
    add_adapters(model.backbone, config)
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

    models = {
        "lora": model_with("lora", ALL, args.rank),
        "balora": model_with("balora", ALL, args.rank, TOP_FFN),
        "balora_noise_everywhere": model_with("balora", ALL, args.rank),
    }
    optimizers = {name: torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=1e-5)
                  for name, m in models.items()}
    step_times: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(3):  # interleave to share the machine's noise
        for name, model in models.items():
            step_times[name].append(timed(lambda m=model, n=name: train_step(m, train_batch, optimizers[n]),
                                          args.repeats))
    steps = {name: statistics.median(times) for name, times in step_times.items()}
    lora, balora = models["lora"], models["balora"]

    placements = {}
    for label, (target, stochastic) in PLACEMENTS.items():
        model = model_with("balora", target, args.rank, stochastic).eval()

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
        "train_step_s": steps,
        "train_step_ratio": steps["balora"] / steps["lora"],
        "train_step_ratio_noise_everywhere": steps["balora_noise_everywhere"] / steps["lora"],
        "prediction_cost_by_placement": placements,
    }
    emit(report, args.out)


if __name__ == "__main__":
    main()
