"""End-to-end prediction cost: files → table, as `mofgap predict` runs it.

* Throughput (structures/s) on QMOF test-split CIFs with M = 32 and M = 1, cold graph cache, and
  featurization alone on the same files in the same run as the reference (ratios are robust to a
  busy machine, absolute numbers are not).
* Streaming: peak memory of `mofgap predict` over growing numbers of files (it must stay flat).
* Large cells: peak memory of predicting one supercell of about 5,000 atoms.

Each measurement runs `mofgap predict` in its own process under GNU time (peak RSS of the process).

    python benchmarks/predict.py --qmof ../shared/data/qmof --model MODEL --throughput 1000 \
        --stream 500,2000,8000,19890 --big-cell 5000 --out benchmarks/results/predict.json
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import emit

from mofgap.data.qmof import QMOF
from mofgap.data.sample import sample_dir
from mofgap.graph.pipeline import featurize_files
from mofgap.utils.hardware import describe_hardware


def linked_folder(paths: list[Path], folder: Path) -> Path:
    """A folder of symbolic links to ``paths`` (one command-line argument for any number of files)."""
    folder.mkdir(parents=True)
    for path in paths:
        (folder / path.name).symlink_to(path.resolve())
    return folder


def timed_predict(inputs: Path, model: str, samples: int, workers: int, out: Path) -> dict[str, float]:
    """Run `mofgap predict` on a folder; files, wall seconds, peak RSS (MiB) and structures/s."""
    files = len(list(inputs.iterdir()))
    command = ["/usr/bin/time", "-f", "%M %e", sys.executable, "-m", "mofgap.cli", "predict", str(inputs),
               "--model", model, "--samples", str(samples), "--workers", str(workers), "-o", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    rss_kb, wall = re.findall(r"^(\d+) ([\d.]+)$", result.stderr, re.MULTILINE)[-1]
    return {"files": files, "wall_s": float(wall), "peak_rss_mib": int(rss_kb) / 1024,
            "structures_per_s": files / float(wall)}


def featurize_rate(paths: list[Path], workers: int) -> float:
    """Structures/s of featurization alone (no cache)."""
    started = time.perf_counter()
    count = sum(1 for _ in featurize_files(paths, workers=workers, on_error="skip"))
    return count / (time.perf_counter() - started)


def supercell_cif(atoms: int, folder: Path) -> tuple[Path, int]:
    """A CIF of a sample MOF repeated until it holds about ``atoms`` atoms."""
    from pymatgen.core import Structure

    cif = sorted((sample_dir() / "relaxed_structures").glob("*.cif"))[0]
    structure = Structure.from_file(cif)
    factor = max(1, round((atoms / len(structure)) ** (1 / 3)))
    structure.make_supercell([factor] * 3)
    path = folder / f"supercell-{len(structure)}.cif"
    structure.to(filename=str(path))
    return path, len(structure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--qmof", type=Path, required=True)
    parser.add_argument("--model", required=True, help="model name or folder")
    parser.add_argument("--throughput", type=int, default=1000, help="test-split CIFs to time (0: skip)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stream", default="", help="comma-separated file counts for the memory run")
    parser.add_argument("--big-cell", type=int, default=0, help="atoms of the large-cell run (0: skip)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    table = QMOF(args.qmof).table()
    report: dict[str, object] = {"command": " ".join(["python", *sys.argv]), "hardware": describe_hardware("cpu"),
                                 "cpus": os.cpu_count(), "model": args.model}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.throughput:
            test = [Path(p) for p in table.loc[table["split"] == "test", "cif_path"].head(args.throughput)]
            listing = linked_folder(test, folder / "test")
            runs = {f"M={m}": timed_predict(listing, args.model, m, args.workers, folder / f"m{m}.csv")
                    for m in (1, 32)}
            reference = featurize_rate(test, args.workers)
            report["throughput"] = {**runs, "featurize_only_structures_per_s": reference,
                                    "M32_over_M1_time": runs["M=32"]["wall_s"] / runs["M=1"]["wall_s"],
                                    "target_structures_per_s_at_M32": 30}
        if args.stream:
            every = [Path(p) for p in table["cif_path"]]
            stream = {}
            for count in (int(c) for c in args.stream.split(",")):
                listing = linked_folder(every[:count], folder / f"stream-{count}")
                stream[str(count)] = timed_predict(listing, args.model, 32, 1, folder / "stream.csv")
            report["streaming_workers_1"] = stream
        if args.big_cell:
            (folder / "big").mkdir()
            cif, atoms = supercell_cif(args.big_cell, folder / "big")
            listing = cif.parent
            report["large_cell"] = {"atoms": atoms, **timed_predict(listing, args.model, 32, 1, folder / "big.csv"),
                                    "target_peak_rss_mib": 4096}
        shutil.rmtree(folder, ignore_errors=True)
    emit(report, args.out)


if __name__ == "__main__":
    main()
