"""The shipped default band-gap model: loads on a fresh clone, is the default of `mofgap predict`, carries
its test metrics, and reproduces its golden predictions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from mofgap.cli import app
from mofgap.models import available_models
from mofgap.models.registry import models_dir
from mofgap.prediction import DEFAULT_MODEL, Predictor
from tests.golden.regenerate import GOLDEN_PREDICTIONS, PREDICTION_COLUMNS, default_model_predictions


def test_default_model_is_shipped_with_card_metrics_and_calibration() -> None:
    assert DEFAULT_MODEL in available_models()
    folder = models_dir() / DEFAULT_MODEL
    metrics = json.loads((folder / "test_metrics.json").read_text())
    card = (folder / "README.md").read_text()
    assert f"{metrics['metrics']['mae']:.3f} eV" in card and "test" in card
    predictor = Predictor()
    assert predictor.name == DEFAULT_MODEL and predictor.calibration is not None
    assert predictor.calibration.interval(0.9).quantile > 0


def test_golden_predictions_of_the_default_model() -> None:
    golden = json.loads(GOLDEN_PREDICTIONS.read_text())
    assert golden["model"] == DEFAULT_MODEL
    predictions = default_model_predictions()
    assert set(predictions) == set(golden["predictions"])
    for name, values in golden["predictions"].items():
        np.testing.assert_allclose([predictions[name][c] for c in PREDICTION_COLUMNS],
                                   [values[c] for c in PREDICTION_COLUMNS], atol=1e-5, rtol=0)


def test_predict_uses_the_default_model(tmp_path: Path, sample_cifs: list[Path]) -> None:
    out = tmp_path / "p.csv"
    result = CliRunner().invoke(app, ["predict", *map(str, sample_cifs[:2]), "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert set(table["model"]) == {DEFAULT_MODEL} and (table["status"] == "ok").all()
