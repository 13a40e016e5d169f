"""Print a benchmark's JSON report and, when asked, keep it in a file."""

from __future__ import annotations

import json
from pathlib import Path


def emit(report: dict[str, object], out: Path | None) -> None:
    """Print ``report`` as indented JSON and write it to ``out`` when given."""
    text = json.dumps(report, indent=2)
    print(text)
    if out:
        out.write_text(text + "\n")
