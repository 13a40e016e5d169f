"""Measure what the neighbour-graph defaults (cutoff, max_neighbors) mean on QMOF.

For a random sample of QMOF CIFs: how many atoms have fewer than k neighbours inside each cutoff
(so that the k-nearest selection is truncated by the sphere), where the k-th neighbour lies, how
many edges each setting gives, and the neighbour-search time per cutoff.

    python benchmarks/graph_settings.py --qmof ../shared/data/qmof --sample 2000
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np
from _report import emit
from pymatgen.optimization.neighbors import find_points_in_spheres

from mofgap.data.qmof import QMOF
from mofgap.io import read_file

CUTOFFS = (4.0, 5.0, 6.0, 8.0)
KS = (8, 12, 16, 24)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qmof", type=Path, required=True, help="QMOF folder (qmof.csv + structures)")
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="write the numbers as JSON here")
    args = parser.parse_args()

    paths = QMOF(args.qmof).table()["cif_path"].tolist()
    random.Random(args.seed).shuffle(paths)
    paths = paths[: args.sample]
    per_cutoff_counts: dict[float, list[np.ndarray]] = {c: [] for c in CUTOFFS}
    kth_distance: dict[int, list[np.ndarray]] = {k: [] for k in KS}
    seconds = dict.fromkeys(CUTOFFS, 0.0)
    n_atoms = 0
    for path in paths:
        record = read_file(path)[0]
        if record.structure is None:
            continue
        cart = np.ascontiguousarray(record.structure.cart_coords)
        lattice = np.ascontiguousarray(record.structure.lattice.matrix)
        n = len(cart)
        n_atoms += n
        for cutoff in CUTOFFS:
            start = time.perf_counter()
            centers, neighbors, images, distances = find_points_in_spheres(
                cart, cart, r=cutoff, pbc=np.ones(3, dtype=np.int64), lattice=lattice, tol=1e-8
            )
            seconds[cutoff] += time.perf_counter() - start
            real = (centers != neighbors) | np.any(np.rint(images) != 0, axis=1)
            per_cutoff_counts[cutoff].append(np.bincount(centers[real], minlength=n))
            if cutoff == max(CUTOFFS):
                order = np.lexsort((distances[real], centers[real]))
                c, d = centers[real][order], distances[real][order]
                starts = np.searchsorted(c, np.arange(n))
                counts = np.bincount(c, minlength=n)
                for k in KS:
                    kth = np.where(counts >= k, d[np.minimum(starts + k - 1, len(d) - 1)], np.inf)
                    kth_distance[k].append(kth)
    report: dict[str, object] = {"structures": len(paths), "atoms": n_atoms, "cutoffs": {}, "k": {}}
    for cutoff in CUTOFFS:
        counts = np.concatenate(per_cutoff_counts[cutoff])
        report["cutoffs"][str(cutoff)] = {  # type: ignore[index]
            "mean_neighbours_per_atom": float(counts.mean()),
            **{f"fraction_atoms_below_{k}": float((counts < k).mean()) for k in KS},
            "isolated_atoms": int((counts == 0).sum()),
            "search_seconds_relative_to_6A": seconds[cutoff] / seconds[6.0],
        }
    for k in KS:
        kth = np.concatenate(kth_distance[k])
        finite = kth[np.isfinite(kth)]
        report["k"][str(k)] = {  # type: ignore[index]
            "kth_neighbour_distance_median_A": float(np.median(finite)),
            "kth_neighbour_distance_p99_A": float(np.percentile(finite, 99)),
            "kth_neighbour_distance_max_A": float(finite.max()),
            "edges_per_mean_structure": float(k * n_atoms / len(paths)),
        }
    emit(report, args.out)


if __name__ == "__main__":
    main()
