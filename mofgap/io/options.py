"""Settings that decide which structures are accepted and how disorder is resolved."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

OnError = Literal["raise", "warn", "skip"]
"""What a batch does with a structure that fails: raise at once, warn and record it, or record it silently."""

DisorderPolicy = Literal["error", "majority", "skip"]
"""Partial occupancies: fail with an error, keep each site's majority species, or skip the structure."""

DEFAULT_MAX_ATOMS = 5000
"""Largest cell accepted by default (atoms). QMOF's largest cell has 500 atoms, CoRE MOF 2019's a few thousand."""

DEFAULT_MAX_ATOMIC_NUMBER = 94
"""Elements H (1) to Pu (94): the range of the element embedding of mofgap's models."""

DEFAULT_MIN_DISTANCE = 0.5
"""Closest allowed distance between two atoms (Å); shorter means duplicated or overlapping sites."""


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """What the reader accepts.

    Attributes:
        disorder: policy for partially occupied sites.
        max_atoms: the largest number of atoms per cell accepted.
        max_atomic_number: the heaviest element accepted (atomic number).
        min_distance: the shortest interatomic distance accepted (Å), periodic images included.
    """

    disorder: DisorderPolicy = "error"
    max_atoms: int = DEFAULT_MAX_ATOMS
    max_atomic_number: int = DEFAULT_MAX_ATOMIC_NUMBER
    min_distance: float = DEFAULT_MIN_DISTANCE

    def __post_init__(self) -> None:
        if self.disorder not in ("error", "majority", "skip"):
            raise ValueError(f"disorder must be 'error', 'majority' or 'skip', not {self.disorder!r}")
        if self.max_atoms < 1:
            raise ValueError(f"max_atoms must be positive, not {self.max_atoms}")
        if not 1 <= self.max_atomic_number <= 118:
            raise ValueError(f"max_atomic_number must lie in 1..118, not {self.max_atomic_number}")
        if self.min_distance < 0:
            raise ValueError(f"min_distance must be non-negative, not {self.min_distance}")

    def as_dict(self) -> dict[str, object]:
        """The settings as a plain dictionary (for configs and cache keys)."""
        return asdict(self)


def check_on_error(on_error: str) -> OnError:
    """Validate an ``on_error`` policy and return it."""
    if on_error not in ("raise", "warn", "skip"):
        raise ValueError(f"on_error must be 'raise', 'warn' or 'skip', not {on_error!r}")
    return on_error  # type: ignore[return-value]
