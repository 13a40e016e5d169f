"""The shipped pretrained backbone: loads strictly on a fresh clone and reproduces its golden outputs."""

from __future__ import annotations

import json

import numpy as np

from mofgap.models import available_models, load
from mofgap.models.registry import models_dir, read_config
from tests.golden.regenerate import GOLDEN, SHIPPED_BACKBONE, crystal_features


def test_shipped_backbone_is_registered_and_documented() -> None:
    assert SHIPPED_BACKBONE in available_models()
    folder = models_dir() / SHIPPED_BACKBONE
    config = read_config(folder)
    assert config["data"]["split"].endswith("train split only")
    card = (folder / "README.md").read_text()
    assert config["weights"]["backbone.safetensors"] in card
    assert load(SHIPPED_BACKBONE).config.d_model == config["architecture"]["d_model"]


def test_golden_crystal_features() -> None:
    golden = json.loads(GOLDEN.read_text())
    assert golden["backbone"] == SHIPPED_BACKBONE
    features = crystal_features()
    assert set(features) == set(golden["features"])
    for name, values in golden["features"].items():
        np.testing.assert_allclose(features[name], values, atol=1e-5, rtol=0)
