"""Make ``data/qmof-sample/``: a small, real, out-of-sample slice of QMOF for demos and tests.

Takes structures from the JARVIS-Leaderboard **test** split only, spread evenly over the band-gap
range (equal-width 0.5 eV bins, the same number from each bin where it has enough, the rest drawn
at random from the remaining test structures), and copies their CIFs verbatim in the official QMOF
layout, so that :class:`mofgap.data.qmof.QMOF` reads the sample like the full database.

    python data/make_qmof_sample.py --qmof ../shared/data/qmof --size 250
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from mofgap.data.qmof import EHULL_FILE, GAP_COLUMN, QMOF, SPLIT_FILE, STRUCTURES_FOLDER

BIN_WIDTH_EV = 0.5


def choose(table: pd.DataFrame, size: int, seed: int) -> pd.DataFrame:
    """Pick ``size`` test structures spread over the gap range (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    test = table[table["split"] == "test"].sort_values("qmof_id").reset_index(drop=True)
    bins = np.floor(test["gap_eV"] / BIN_WIDTH_EV).astype(int)
    per_bin = size // bins.nunique()
    chosen: list[int] = []
    for _, members in test.groupby(bins):
        picks = rng.permutation(members.index.to_numpy())[:per_bin]
        chosen.extend(int(i) for i in picks)
    rest = np.setdiff1d(test.index.to_numpy(), chosen)
    chosen.extend(int(i) for i in rng.permutation(rest)[: size - len(chosen)])
    return test.loc[sorted(chosen)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qmof", type=Path, required=True, help="QMOF folder in the official layout")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "qmof-sample")
    parser.add_argument("--size", type=int, default=250)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    qmof = QMOF(args.qmof)
    sample = choose(qmof.table(), args.size, args.seed)
    structures = args.out / STRUCTURES_FOLDER
    if structures.exists():
        shutil.rmtree(structures)
    structures.mkdir(parents=True)
    for cif in sample["cif_path"]:
        shutil.copyfile(cif, structures / Path(cif).name)
    sample.rename(columns={"gap_eV": GAP_COLUMN})[["qmof_id", "name", GAP_COLUMN]].to_csv(
        args.out / "qmof.csv", index=False
    )
    (args.out / SPLIT_FILE).parent.mkdir(parents=True, exist_ok=True)
    sample[["qmof_id", "split"]].to_csv(args.out / SPLIT_FILE, index=False)
    ehull = qmof.ehull()
    ehull[ehull.index.isin(sample["qmof_id"])].sort_index().to_csv(args.out / EHULL_FILE)
    print(f"{len(sample)} structures, gaps {sample['gap_eV'].min():.3f}–{sample['gap_eV'].max():.3f} eV")
    print(np.histogram(sample["gap_eV"], bins=np.arange(0, 6.5, BIN_WIDTH_EV))[0])


if __name__ == "__main__":
    main()
