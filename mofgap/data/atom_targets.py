"""Per-atom DFT properties stored in QMOF CIFs, aligned with the parsed sites.

QMOF CIFs carry extra ``_atom_site_*`` columns (partial charges, bond orders, magnetic moments). They
are *pretraining targets* only: a user's CIF does not have them, so they must never be model inputs.
They are read from the atom-site loop and matched to the sites of the parsed structure by
fractional coordinates (periodically), because a parser may return the sites in another order than
the loop's rows.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from pymatgen.io.cif import CifBlock

from mofgap.io.cif import split_blocks

PBE_ATOM_TARGETS = ("pbe_ddec_charge", "pbe_cm5_charge", "pbe_ddec_sum_bond_order", "pbe_magmom")
"""Default per-atom targets: DDEC and CM5 charges (e), DDEC bond-order sum, magnetic moment (μB)."""

MATCH_TOLERANCE = 1e-3
"""Largest fractional-coordinate difference (per axis, periodic) for a row to match a site."""

_MATCH_CHUNK = 256


def _column(block: CifBlock, name: str, n_rows: int) -> np.ndarray:
    values = block.data.get(f"_atom_site_{name}")
    if values is None:
        return np.full(n_rows, np.nan)
    out = np.full(n_rows, np.nan)
    for i, text in enumerate(values if isinstance(values, list) else [values]):
        try:
            out[i] = float(text)
        except ValueError:
            continue  # "?" and "." are missing values
    return out


def match_rows_to_sites(row_frac: np.ndarray, site_frac: np.ndarray, tolerance: float = MATCH_TOLERANCE) -> np.ndarray:
    """For every site, the index of the loop row at the same fractional position (periodic).

    Raises:
        ValueError: a site has no row within ``tolerance``, or two sites match the same row.
    """
    nearest = np.empty(len(site_frac), dtype=np.int64)
    gap = np.empty(len(site_frac))
    for start in range(0, len(site_frac), _MATCH_CHUNK):
        delta = site_frac[start : start + _MATCH_CHUNK, None, :] - row_frac[None, :, :]
        delta -= np.rint(delta)
        distance = np.abs(delta).max(axis=2)
        nearest[start : start + _MATCH_CHUNK] = distance.argmin(axis=1)
        gap[start : start + _MATCH_CHUNK] = distance.min(axis=1)
    unmatched = np.flatnonzero(gap > tolerance)
    if len(unmatched):
        raise ValueError(f"{len(unmatched)} site(s) match no atom-site row, first: site {unmatched[0]}")
    if len(np.unique(nearest)) != len(nearest):
        raise ValueError("two sites match the same atom-site row")
    return nearest


def read_atom_targets(
    cif_text: str, site_frac: np.ndarray, columns: Sequence[str] = PBE_ATOM_TARGETS
) -> np.ndarray:
    """Per-atom properties of a single-block CIF, aligned with the sites of a parsed structure.

    Args:
        cif_text: the CIF's text (its first ``data_`` block is used).
        site_frac: (N, 3) fractional coordinates of the structure parsed from the same CIF, in any
            site order (e.g. ``structure.frac_coords``).
        columns: property names after ``_atom_site_``; a missing column or value gives NaN.

    Returns:
        (N_sites, len(columns)) float64 array.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        block = CifBlock.from_str(split_blocks(cif_text)[0].text)
    row_frac = np.stack([_column(block, f"fract_{axis}", len(block.data["_atom_site_fract_x"])) for axis in "xyz"], 1)
    table = np.stack([_column(block, name, len(row_frac)) for name in columns], axis=1)
    order = match_rows_to_sites(row_frac, np.asarray(site_frac, dtype=float))
    return table[order]
