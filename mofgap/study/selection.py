"""Choose the BaLoRA variant on the validation split, by a rule fixed before the runs."""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from mofgap.utils.atomic import atomic_write_bytes

SELECTION_METRIC = "nll"
"""Validation Gaussian NLL of the total predictive distribution (lower is better): a proper scoring rule
that rewards accuracy and σ that matches the error together."""


def select_variant(
    evaluations: Mapping[str, str | Path], flags: Mapping[str, str], placement_variants: Collection[str],
    out: str | Path,
) -> dict[str, Any]:
    """Write and return the selection: the variant with the lowest validation NLL and its finetune flags.

    A variant listed in ``placement_variants`` changes where adapters go; its flags then apply to every
    adapter method of the main study (same target modules for all), not to BaLoRA alone.
    """
    scores = {name: float(json.loads(Path(path).read_text())["metrics"][SELECTION_METRIC])
              for name, path in evaluations.items()}
    finite = [name for name in scores if math.isfinite(scores[name])]
    if not finite:
        raise ValueError("no variant has a finite validation score")
    chosen = min(finite, key=lambda name: scores[name])
    placement = chosen in placement_variants
    selection = {
        "rule": f"lowest validation {SELECTION_METRIC} at the ablation's M",
        "selected": chosen,
        "scores": scores,
        "placement_flags": flags[chosen] if placement else "",
        "balora_flags": "" if placement else flags[chosen],
    }
    atomic_write_bytes(out, (json.dumps(selection, indent=1) + "\n").encode())
    return selection
