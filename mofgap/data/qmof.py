"""The QMOF database in its official layout: ``qmof.csv`` + ``relaxed_structures/`` (or its ``.tar.gz``).

QMOF: Rosen et al., Matter 4, 1578 (2021); Rosen et al., npj Comput. Mater. 8, 112 (2022). CC BY 4.0.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from mofgap.utils.atomic import atomic_write_bytes

GAP_COLUMN = "outputs.pbe.bandgap"
"""The PBE band-gap column of the official ``qmof.csv`` (eV)."""

STRUCTURES_FOLDER = "relaxed_structures"
SPLIT_FILE = Path("splits") / "jarvis_leaderboard.csv"
EHULL_FILE = "qmof_thermo_ehull.csv"
SPLITS = ("train", "val", "test")


def default_extract_root() -> Path:
    """Where archives are unpacked: ``$MOFGAP_CACHE`` or ``~/.cache/mofgap``."""
    return Path(os.environ.get("MOFGAP_CACHE", Path.home() / ".cache" / "mofgap"))


def read_split(path: str | Path) -> pd.Series:
    """A split file (``qmof_id,split``) as a Series ``qmof_id → split``; rejects unknown split names."""
    frame = pd.read_csv(path, dtype=str)
    unknown = set(frame["split"]) - set(SPLITS)
    if unknown:
        raise ValueError(f"{path}: unknown split name(s) {sorted(unknown)}; expected {SPLITS}")
    if frame["qmof_id"].duplicated().any():
        raise ValueError(f"{path}: qmof_id listed more than once")
    return frame.set_index("qmof_id")["split"]


class QMOF:
    """QMOF data on disk.

    Args:
        root: folder holding ``qmof.csv`` and ``relaxed_structures/`` or ``relaxed_structures.tar.gz``
            (the official ``qmof_database`` layout); ``splits/jarvis_leaderboard.csv`` and
            ``qmof_thermo_ehull.csv`` are used when present.
        extract_root: where a ``.tar.gz`` is unpacked (once; reused afterwards). Defaults to
            :func:`default_extract_root`.
    """

    def __init__(self, root: str | Path, *, extract_root: str | Path | None = None) -> None:
        self.root = Path(root)
        if not (self.root / "qmof.csv").is_file():
            raise FileNotFoundError(f"{self.root}: no qmof.csv (expected the official QMOF layout)")
        self.extract_root = Path(extract_root) if extract_root else default_extract_root()

    def structures_dir(self) -> Path:
        """The folder of CIFs, unpacking ``relaxed_structures.tar.gz`` on first use (atomically)."""
        folder = self.root / STRUCTURES_FOLDER
        if folder.is_dir():
            return folder
        archive = self.root / f"{STRUCTURES_FOLDER}.tar.gz"
        if not archive.is_file():
            raise FileNotFoundError(f"{self.root}: neither {STRUCTURES_FOLDER}/ nor {archive.name}")
        stat = archive.stat()
        tag = hashlib.sha256(f"{archive.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
        target = self.extract_root / f"qmof-{tag}"
        if not (target / STRUCTURES_FOLDER).is_dir():
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".qmof-", dir=target.parent))
            try:
                with tarfile.open(archive, "r:gz") as tar:
                    tar.extractall(staging, filter="data")
                if not (staging / STRUCTURES_FOLDER).is_dir():
                    raise FileNotFoundError(f"{archive}: has no {STRUCTURES_FOLDER}/ folder")
                target.mkdir(exist_ok=True)
                os.replace(staging / STRUCTURES_FOLDER, target / STRUCTURES_FOLDER)
            except OSError:
                if not (target / STRUCTURES_FOLDER).is_dir():  # not a lost race with another process
                    raise
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        return target / STRUCTURES_FOLDER

    def table(self, *, split_file: str | Path | None = None) -> pd.DataFrame:
        """One row per structure: ``qmof_id, name, gap_eV, cif_path`` and ``split`` when a split is known.

        Args:
            split_file: a ``qmof_id,split`` file; defaults to ``splits/jarvis_leaderboard.csv`` under the
                root when present. Structures absent from the split file get ``split = <NA>``.
        """
        frame = pd.read_csv(self.root / "qmof.csv", usecols=["qmof_id", "name", GAP_COLUMN], dtype={"name": str})
        frame = frame.rename(columns={GAP_COLUMN: "gap_eV"})
        folder = self.structures_dir()
        frame["cif_path"] = [str(folder / f"{qmof_id}.cif") for qmof_id in frame["qmof_id"]]
        split_path = Path(split_file) if split_file else self.root / SPLIT_FILE
        if split_file or split_path.is_file():
            frame["split"] = frame["qmof_id"].map(read_split(split_path))
        return frame

    def ehull(self) -> pd.Series:
        """Energy above the convex hull (eV/atom) by ``qmof_id`` (QMOF-Thermo); an auxiliary target only."""
        frame = pd.read_csv(self.root / EHULL_FILE)
        return frame.set_index("qmof_id")["ehull_eV_per_atom"]


def write_random_split(qmof: QMOF, out: str | Path, *, train: float, val: float, seed: int) -> pd.Series:
    """Write a seeded random ``qmof_id,split`` file over every structure of ``qmof`` (the rest is test).

    For small collections without their own split, such as the bundled sample; returns the split.
    """
    if not (train > 0 and val > 0 and train + val < 1):
        raise ValueError(f"need 0 < train, 0 < val and train + val < 1, got {train}, {val}")
    ids = pd.read_csv(qmof.root / "qmof.csv", usecols=["qmof_id"])["qmof_id"].to_numpy()
    order = np.random.default_rng(seed).permutation(len(ids))
    n_train, n_val = round(train * len(ids)), round(val * len(ids))
    split = np.full(len(ids), "test", dtype=object)
    split[order[:n_train]] = "train"
    split[order[n_train:n_train + n_val]] = "val"
    frame = pd.DataFrame({"qmof_id": ids, "split": split})
    atomic_write_bytes(out, frame.to_csv(index=False).encode())
    return frame.set_index("qmof_id")["split"]
