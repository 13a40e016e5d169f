"""CIF → graph throughput and peak memory: mofgap against a CGCNN-style reference, in one run.

Reference (as in CGCNN's ``CIFData``): ``Structure.from_file`` (pymatgen's full CIF parser), then
``structure.get_all_neighbors(r, include_index=True)``, each atom's list sorted by distance and cut to
the same ``max_neighbors``, then the Gaussian expansion of the distances (0 to r in 0.2 Å steps,
width 0.2 Å). mofgap: :func:`mofgap.graph.pipeline.featurize_files` without a cache, which yields
``torch_geometric`` graphs (the distance expansion is part of the model, not the featurizer).
Both use the same cutoff, neighbour count, worker processes and files. Each variant runs in its own
child process so that its peak memory (largest resident set of the process and of its workers) is
its own.

    python benchmarks/featurize.py --qmof ../shared/data/qmof --workers 2 --compare 1000 \
        --out benchmarks/results/featurize.json
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import random
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _report import emit

CUTOFF = 6.0
MAX_NEIGHBORS = 12


def reference_features(path: str) -> tuple[int, int]:
    """CGCNN-style featurization of one CIF; returns (atoms, edges)."""
    from pymatgen.core import Structure

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            structure = Structure.from_file(path)
        except Exception:
            return 0, 0
    neighbors = structure.get_all_neighbors(CUTOFF, include_index=True)
    neighbors = [sorted(n, key=lambda x: x[1])[:MAX_NEIGHBORS] for n in neighbors]
    index = np.array([[x[2] for x in n] + [0] * (MAX_NEIGHBORS - len(n)) for n in neighbors])
    assert index.shape == (len(structure), MAX_NEIGHBORS)
    distance = np.array([[x[1] for x in n] + [CUTOFF + 1.0] * (MAX_NEIGHBORS - len(n)) for n in neighbors])
    centres = np.arange(0.0, CUTOFF + 0.2, 0.2)
    expanded = np.exp(-((distance[..., None] - centres) ** 2) / 0.2**2)
    return len(structure), int(expanded.shape[0] * expanded.shape[1])


def run_reference(paths: list[str], workers: int) -> dict[str, object]:
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        results = pool.map(reference_features, paths, chunksize=8)
    seconds = time.perf_counter() - start
    return {"structures": len(paths), "seconds": seconds, "ok": sum(1 for n, _ in results if n)}


def run_ours(paths: list[str], workers: int) -> dict[str, object]:
    from mofgap.graph.neighbors import GraphSettings
    from mofgap.graph.pipeline import featurize_files

    settings = GraphSettings(cutoff=CUTOFF, max_neighbors=MAX_NEIGHBORS)
    errors: collections.Counter[str] = collections.Counter()
    examples: dict[str, list[str]] = collections.defaultdict(list)
    start = time.perf_counter()
    structures = edges = 0
    for record in featurize_files(paths, settings=settings, workers=workers, on_error="skip"):
        structures += 1
        if record.graph is None:
            name = type(record.error).__name__
            errors[name] += 1
            if len(examples[name]) < 5:
                examples[name].append(str(record.error))
        else:
            edges += int(record.graph.edge_index.shape[1])
    seconds = time.perf_counter() - start
    return {
        "structures": structures,
        "seconds": seconds,
        "ok": structures - sum(errors.values()),
        "edges": edges,
        "failures": dict(errors),
        "failure_examples": dict(examples),
    }


def child(variant: str, list_file: Path, workers: int) -> None:
    """Run one variant and print its JSON result (with peak memory) on stdout."""
    paths = list_file.read_text().split("\n")
    result = run_ours(paths, workers) if variant == "ours" else run_reference(paths, workers)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result.update(peak_rss_main_MiB=own, peak_rss_worker_MiB=workers_peak)
    result["structures_per_s"] = result["structures"] / result["seconds"]  # type: ignore[operator]
    print(json.dumps(result))


def measure(variant: str, paths: list[str], workers: int, scratch: Path) -> dict[str, object]:
    list_file = scratch / f"{variant}-{len(paths)}.txt"
    list_file.write_text("\n".join(paths))
    command = [sys.executable, __file__, "--child", variant, "--list", str(list_file), "--workers", str(workers)]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qmof", type=Path, help="QMOF folder (official layout)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--compare", type=int, default=1000, help="random CIFs timed with both featurizers")
    parser.add_argument("--limit", type=int, default=0, help="time mofgap on this many CIFs (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--child", choices=["ours", "reference"], help=argparse.SUPPRESS)
    parser.add_argument("--list", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.list, args.workers)
        return

    from mofgap.data.qmof import QMOF

    paths = QMOF(args.qmof).table()["cif_path"].tolist()
    subset = random.Random(args.seed).sample(paths, args.compare)
    everything = paths[: args.limit] if args.limit else paths
    scratch = Path(args.out).parent if args.out else Path(".")
    scratch.mkdir(parents=True, exist_ok=True)
    reference = measure("reference", subset, args.workers, scratch)
    ours_subset = measure("ours", subset, args.workers, scratch)
    ours_all = measure("ours", everything, args.workers, scratch)
    for name in ("reference", "ours"):
        (scratch / f"{name}-{len(subset)}.txt").unlink()
    (scratch / f"ours-{len(everything)}.txt").unlink(missing_ok=True)
    report = {
        "command": " ".join(sys.argv),
        "workers": args.workers,
        "cutoff_A": CUTOFF,
        "max_neighbors": MAX_NEIGHBORS,
        "reference_same_files": reference,
        "ours_same_files": {k: v for k, v in ours_subset.items() if k != "failure_examples"},
        "speedup_same_files": ours_subset["structures_per_s"] / reference["structures_per_s"],  # type: ignore[operator]
        "ours_all_files": ours_all,
    }
    emit(report, args.out)


if __name__ == "__main__":
    main()
