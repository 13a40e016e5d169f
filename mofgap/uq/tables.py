"""Prediction and label tables: reading them and matching predictions to labels by structure id.

A prediction table (``mofgap predict`` output, CSV or Parquet) has one row per input structure with at
least ``structure_id``, ``gap_eV`` and ``sigma_eV`` (eV); ``sigma_epistemic_eV``,
``sigma_aleatoric_eV`` and ``status`` are used when present. A label table has an id column and a
band-gap column (eV), e.g. QMOF's ``qmof.csv`` (``qmof_id``, ``outputs.pbe.bandgap``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mofgap.uq.metrics import Array

ID_COLUMNS = ("structure_id", "qmof_id", "id", "name")
LABEL_COLUMNS = ("gap_eV", "outputs.pbe.bandgap", "bandgap", "band_gap", "target")
SIGMA_COLUMNS = ("sigma_eV", "sigma_epistemic_eV", "sigma_aleatoric_eV")


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV or Parquet table (by extension)."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=dict.fromkeys(ID_COLUMNS, str))


def _pick(frame: pd.DataFrame, wanted: str | None, candidates: tuple[str, ...], what: str, path: Path) -> str:
    if wanted is not None:
        if wanted not in frame.columns:
            raise ValueError(f"{path}: no column {wanted!r} (columns: {', '.join(map(str, frame.columns))})")
        return wanted
    for name in candidates:
        if name in frame.columns:
            return name
    raise ValueError(f"{path}: no {what} column; expected one of {', '.join(candidates)} or name it explicitly")


def read_labels(path: str | Path, *, id_column: str | None = None, label_column: str | None = None) -> pd.Series:
    """Band gaps (eV) indexed by structure id."""
    path = Path(path)
    frame = read_table(path)
    ids = _pick(frame, id_column, ID_COLUMNS, "id", path)
    labels = _pick(frame, label_column, LABEL_COLUMNS, "label", path)
    series = pd.Series(frame[labels].to_numpy(dtype=np.float64), index=frame[ids].astype(str), name="label_eV")
    series = series.dropna()
    if series.index.has_duplicates:
        raise ValueError(f"{path}: repeated ids, e.g. {series.index[series.index.duplicated()][0]!r}")
    return series


@dataclass(frozen=True)
class MatchedPredictions:
    """Predictions with a label, as arrays in one order (eV), and what could not be used.

    Attributes:
        ids: structure ids.
        y: labels.
        mu: predicted gaps.
        sigma: total σ; ``sigma_epistemic`` / ``sigma_aleatoric`` when the table has them, else ``None``.
        n_failed: rows whose status is not ``ok``.
        n_unlabelled: ok rows without a label.
    """

    ids: np.ndarray
    y: Array
    mu: Array
    sigma: Array
    sigma_epistemic: Array | None
    sigma_aleatoric: Array | None
    n_failed: int
    n_unlabelled: int


def match_predictions(predictions: pd.DataFrame, labels: pd.Series) -> MatchedPredictions:
    """Join successful predictions with their labels (rows keep the prediction table's order)."""
    ok = predictions if "status" not in predictions else predictions[predictions["status"] == "ok"]
    ids = ok["structure_id"].astype(str)
    labelled = ids.isin(labels.index).to_numpy()
    kept = ok[labelled]
    kept_ids = ids[labelled].to_numpy()
    if len(kept) == 0:
        raise ValueError("no prediction has a label: check that the ids match")

    def column(name: str) -> Array | None:
        return kept[name].to_numpy(dtype=np.float64) if name in kept else None

    sigma = column("sigma_eV")
    if sigma is None:
        raise ValueError("the prediction table has no sigma_eV column")
    return MatchedPredictions(
        ids=kept_ids, y=labels.loc[kept_ids].to_numpy(), mu=kept["gap_eV"].to_numpy(dtype=np.float64),
        sigma=sigma, sigma_epistemic=column("sigma_epistemic_eV"), sigma_aleatoric=column("sigma_aleatoric_eV"),
        n_failed=len(predictions) - len(ok), n_unlabelled=int((~labelled).sum()),
    )
