"""Shared fixtures: the bundled QMOF sample and, where present, the full QMOF development data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mofgap.data.sample import sample_dir

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def sample() -> Path:
    """The bundled QMOF test-split sample (official layout)."""
    return sample_dir()


@pytest.fixture(scope="session")
def sample_cifs(sample: Path) -> list[Path]:
    """All CIFs of the bundled sample, sorted."""
    return sorted((sample / "relaxed_structures").glob("*.cif"))


@pytest.fixture(scope="session")
def shared_qmof() -> Path:
    """The full QMOF development data beside the repository (``$MOFGAP_QMOF`` or ``../shared/data/qmof``)."""
    path = Path(os.environ.get("MOFGAP_QMOF", REPO.parent / "shared" / "data" / "qmof"))
    if not (path / "qmof.csv").is_file():
        pytest.skip(f"full QMOF data not found at {path}")
    return path
