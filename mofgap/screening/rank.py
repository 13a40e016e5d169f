"""Rank the rows of a prediction table by an acquisition score."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mofgap.screening.acquisition import Objective, acquisition_parts


def chemical_system(formula: str) -> str:
    """Sorted element symbols of a formula, joined by '-' (e.g. 'C-H-O-Zn'); '' if it cannot be parsed."""
    from pymatgen.core import Composition

    try:
        return "-".join(sorted(e.symbol for e in Composition(formula).elements))
    except (ValueError, KeyError):
        return ""


def rank(
    predictions: pd.DataFrame, objective: Objective, acquisition: str, *, top: int | None = None, kappa: float = 2.0,
    best: float | None = None, diversity: int = 0,
) -> pd.DataFrame:
    """Candidates ordered by score (higher first; ties: smaller σ first, then input order).

    Rows whose ``status`` is not ``ok`` are left out. The result has ``rank``, the identifying columns,
    ``gap_eV``, ``sigma_eV``, ``score`` and one ``part_<name>`` column per term of the score.

    Args:
        predictions: a prediction table (``mofgap predict`` columns).
        objective: what is sought.
        acquisition: see :mod:`mofgap.screening.acquisition`.
        top: keep the best ``top`` (all by default).
        kappa: exploration weight of ucb/lcb.
        best: incumbent for ei/pi (default: the best predicted gap among the candidates).
        diversity: if > 0, at most this many picks per chemical system (set of elements).
    """
    table = predictions if "status" not in predictions else predictions[predictions["status"] == "ok"]
    table = table.reset_index(drop=True)
    parts = acquisition_parts(acquisition, objective, table["gap_eV"].to_numpy(), table["sigma_eV"].to_numpy(),
                              kappa=kappa, best=best)
    keep = [c for c in ("structure_id", "source_path", "formula", "n_atoms") if c in table]
    ranked = table[[*keep, "gap_eV", "sigma_eV"]].copy()
    ranked["score"] = parts["score"]
    for name, values in parts.items():
        if name != "score":
            ranked[f"part_{name}"] = values
    order = np.lexsort((np.arange(len(ranked)), ranked["sigma_eV"].to_numpy(), -ranked["score"].to_numpy()))
    ranked = ranked.iloc[order]
    if diversity > 0 and "formula" in ranked:
        systems = ranked["formula"].astype(str).map(chemical_system)
        ranked = ranked[systems.groupby(systems).cumcount() < diversity]
    if top is not None:
        ranked = ranked.head(top)
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    return ranked.reset_index(drop=True)
