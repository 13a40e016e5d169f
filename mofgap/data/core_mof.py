"""Unlabelled MOFs for screening: CIFs of the CoRE MOF databases shipped by the ``core-mof`` package.

CoRE MOF 2014 and 2019 (Chung et al., Chem. Mater. 26, 6185 (2014); J. Chem. Eng. Data 64, 5985
(2019); CC BY 4.0) are computation-ready experimental structures without DFT band gaps. Install the
package with ``pip install core-mof`` (or ``pip install mofgap[notebooks]``).
"""

from __future__ import annotations

import tarfile
from importlib import resources
from pathlib import Path

from mofgap.utils.atomic import atomic_write_bytes

DATASETS = ("2014", "2019-ASR", "2019-FSR")


def extract_core_mof(folder: str | Path, dataset: str = "2019-ASR", limit: int | None = None) -> list[Path]:
    """Write the CIFs of a CoRE MOF dataset into ``folder`` (the first ``limit`` in archive order).

    Raises:
        ModuleNotFoundError: the ``core-mof`` package is not installed.
        ValueError: unknown dataset.
    """
    if dataset not in DATASETS:
        raise ValueError(f"unknown CoRE MOF dataset {dataset!r}; choose from {', '.join(DATASETS)}")
    import CoRE_MOF

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tarfile.open(str(resources.files(CoRE_MOF.data) / f"{dataset}.tar.xz")) as archive:
        for member in archive:
            if limit is not None and len(written) >= limit:
                break
            if not (member.isfile() and member.size > 0 and member.name.endswith(".cif")):
                continue
            stream = archive.extractfile(member)
            assert stream is not None
            path = folder / Path(member.name).name
            atomic_write_bytes(path, stream.read())
            written.append(path)
    return written
