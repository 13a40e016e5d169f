"""The QMOF test-split sample bundled with mofgap (``data/qmof-sample``)."""

from __future__ import annotations

from pathlib import Path

SAMPLE_NAME = "qmof-sample"


def sample_dir() -> Path:
    """Folder of the bundled sample (official QMOF layout), in a source checkout of mofgap.

    Raises:
        FileNotFoundError: mofgap was installed without its ``data/`` folder.
    """
    folder = Path(__file__).resolve().parents[2] / "data" / SAMPLE_NAME
    if not (folder / "qmof.csv").is_file():
        raise FileNotFoundError(
            f"the bundled QMOF sample is not at {folder}; install mofgap from a clone of its repository"
        )
    return folder
