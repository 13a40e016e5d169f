"""Prediction tables on disk: rows appended to a partial file as they come, the final file written atomically.

While a run goes on, rows are appended (and flushed) to a hidden ``.NAME.partial.csv`` beside the
output; at the end the table is written in its final format (CSV or Parquet, by extension) by an
atomic rename and the partial file is removed. ``--resume`` reads the rows of either file back.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mofgap.utils.atomic import atomic_write, atomic_write_bytes

COLUMNS = (
    "structure_id", "source_path", "formula", "n_atoms", "gap_eV", "sigma_eV", "sigma_epistemic_eV",
    "sigma_aleatoric_eV", "lower_eV", "upper_eV", "status", "error", "model", "model_sha256",
)
"""Columns of a prediction table; gaps, σ and interval bounds in eV."""


def partial_path(out: Path) -> Path:
    """The hidden partial file of an output."""
    return out.with_name(f".{out.name}.partial.csv")


TEXT_COLUMNS = {"structure_id": str, "source_path": str, "formula": str, "error": str, "status": str,
                "model": str, "model_sha256": str}
STATUSES = ("ok", "error", "skipped")


def read_rows(path: Path) -> pd.DataFrame:
    """A prediction table (CSV, Parquet, or a partial file) with the expected columns."""
    if path.suffix.lower() in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
    else:
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=TEXT_COLUMNS)
    missing = set(COLUMNS) - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: not a prediction table (missing {sorted(missing)})")
    return frame.loc[:, list(COLUMNS)]


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a table atomically as Parquet (``.parquet``/``.pq``) or CSV (anything else)."""
    if path.suffix.lower() in (".parquet", ".pq"):
        atomic_write(path, lambda stream: frame.to_parquet(stream, index=False))
    else:
        atomic_write_bytes(path, frame.to_csv(index=False).encode())


class TableWriter:
    """Append rows to the partial file; :meth:`finish` writes the final table atomically.

    Args:
        out: final output path (``.csv`` or ``.parquet``).
        previous: rows kept from an earlier run (``--resume``); they are rewritten first.
    """

    def __init__(self, out: Path, previous: pd.DataFrame | None = None) -> None:
        self.out = out
        self.partial = partial_path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        start = previous if previous is not None else pd.DataFrame(columns=list(COLUMNS))
        atomic_write_bytes(self.partial, start.to_csv(index=False).encode())
        self._stream = self.partial.open("a", newline="")
        self._writer = csv.DictWriter(self._stream, fieldnames=COLUMNS)

    def append(self, rows: Sequence[dict[str, Any]]) -> None:
        """Append rows and flush them to disk (missing numbers as empty fields)."""
        self._writer.writerows({k: "" if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
                               for row in rows)
        self._stream.flush()
        os.fsync(self._stream.fileno())

    def finish(self) -> pd.DataFrame:
        """Write the final table (atomically), remove the partial file, and return the table."""
        self._stream.close()
        frame = read_rows(self.partial)
        write_table(frame, self.out)
        self.partial.unlink()
        return frame

    def close(self) -> None:
        """Close the partial file without finishing (it stays for ``--resume``)."""
        self._stream.close()


def resumable_rows(out: Path) -> pd.DataFrame | None:
    """Rows of an earlier run of the same output: its partial file if present, else the finished table.

    A partial table may end inside a row if the run was killed while writing: an unterminated last
    line is dropped, then every row of the last file still listed (that file may have been cut short),
    so it is predicted again.
    """
    partial = partial_path(out)
    if not partial.is_file():
        return read_rows(out) if out.is_file() else None
    text = partial.read_text()
    records = list(csv.reader(io.StringIO(text)))
    if not records:
        return None
    header, rows = records[0], records[1:]
    if rows and not text.endswith("\n"):
        rows = rows[:-1]  # cut short while being written
    rows = [row for row in rows if len(row) == len(header)]
    frame = pd.read_csv(io.StringIO(pd.DataFrame(rows, columns=header).to_csv(index=False)), keep_default_na=False,
                        na_values=[""], dtype=TEXT_COLUMNS)
    frame = frame[frame["status"].isin(STATUSES) & frame["source_path"].notna()]
    if len(frame):
        frame = frame[frame["source_path"] != frame["source_path"].iloc[-1]]
    return frame.loc[:, list(COLUMNS)].reset_index(drop=True)
