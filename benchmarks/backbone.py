"""Training and inference throughput (atoms/s) of the default backbone, and how it scales with cell size.

* Throughput on the bundled QMOF sample: training steps (forward, backward, AdamW) in batches of 32
  crystals, and inference (no gradient) in batches of 64.
* Scaling: supercells (up to 4×4×4) of the first sample MOF, 40 to 2,560 atoms, one crystal per call; time per
  crystal and atoms/s, and atoms/s relative to the smallest cell (1.0 = linear scaling).

Graphs are built before timing (featurization is measured by ``benchmarks/featurize.py``).

    python benchmarks/backbone.py --out benchmarks/results/backbone.json
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from _report import emit
from torch_geometric.data import Batch

from mofgap.data.sample import sample_dir
from mofgap.graph.featurize import structure_to_graph
from mofgap.graph.pipeline import featurize_files
from mofgap.io import read_file
from mofgap.models import BandGapModel, GraphTransformer
from mofgap.train.batches import epoch_batches

SUPERCELLS = ((1, 1, 1), (2, 1, 1), (2, 2, 1), (2, 2, 2), (4, 2, 2), (4, 4, 2), (4, 4, 4))


def train_throughput(model: BandGapModel, graphs: list, repeats: int) -> float:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()
    atoms, started = 0, time.perf_counter()
    for epoch in range(repeats):
        for batch in epoch_batches(graphs, 32, seed=0, epoch=epoch):
            loss = model(batch).mean_eV.abs().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            atoms += batch.num_nodes
    return atoms / (time.perf_counter() - started)


@torch.no_grad()
def inference_throughput(model: BandGapModel, graphs: list, repeats: int) -> float:
    model.eval()
    atoms, started = 0, time.perf_counter()
    for _ in range(repeats):
        for batch in epoch_batches(graphs, 64, seed=None):
            model(batch)
            atoms += batch.num_nodes
    return atoms / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = BandGapModel(GraphTransformer())
    files = sorted((sample_dir() / "relaxed_structures").glob("*.cif"))
    graphs = [r.graph for r in featurize_files(files)]
    mean_atoms = sum(g.num_nodes for g in graphs) / len(graphs)
    inference_throughput(model, graphs[:64], 1)  # warm-up
    training = train_throughput(model, graphs, args.repeats)
    inference = inference_throughput(model, graphs, args.repeats)

    structure = read_file(files[0])[0].structure
    scaling = []
    model.eval()
    for multiples in SUPERCELLS:
        graph = Batch.from_data_list([structure_to_graph(structure * multiples)])
        with torch.no_grad():
            model(graph)
            calls, started = 0, time.perf_counter()
            while calls < 3 or time.perf_counter() - started < 1.0:
                model(graph)
                calls += 1
        seconds = (time.perf_counter() - started) / calls
        atoms = graph.num_nodes
        scaling.append({"atoms": atoms, "seconds_per_crystal": seconds, "atoms_per_s": atoms / seconds})
    for row in scaling:
        row["relative_to_smallest"] = row["atoms_per_s"] / scaling[0]["atoms_per_s"]
    report = {
        "command": " ".join(["python", *sys.argv]),
        "threads": torch.get_num_threads(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "sample_structures": len(graphs),
        "mean_atoms_per_structure": mean_atoms,
        "train_atoms_per_s": training,
        "train_structures_per_s": training / mean_atoms,
        "inference_atoms_per_s": inference,
        "inference_structures_per_s": inference / mean_atoms,
        "inference_over_train": inference / training,
        "scaling": scaling,
    }
    emit(report, args.out)


if __name__ == "__main__":
    main()
