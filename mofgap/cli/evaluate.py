"""``mofgap evaluate``: metrics and figures of a prediction table against labels."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def evaluate(
    predictions: Annotated[Path, typer.Argument(help="Prediction table (CSV/Parquet) from `mofgap predict`.",
                                                metavar="PREDICTIONS", exists=True, dir_okay=False)],
    labels: Annotated[Path, typer.Option(help="Label table: an id column and a band-gap column (eV).",
                                         metavar="<path>", exists=True, dir_okay=False)],
    out: Annotated[Path, typer.Option(help="Folder for metrics.json and the figures.", metavar="<path>")],
    calibration: Annotated[Path | None, typer.Option(
        help="Predictions on a held-out calibration set (the validation split) to fit σ-scaling and "
             "conformal intervals on.", metavar="<path>", exists=True, dir_okay=False)] = None,
    coverage: Annotated[float, typer.Option(help="Target coverage of the conformal intervals.")] = 0.9,
    name: Annotated[str | None, typer.Option(help="Name of these predictions in comparisons "
                                                  "(default: the table's model column or file name).")] = None,
    id_column: Annotated[str | None, typer.Option(help="Id column of the label table.")] = None,
    label_column: Annotated[str | None, typer.Option(help="Band-gap column of the label table.")] = None,
) -> None:
    """Every uncertainty metric of the protocol, before and after validation-fitted calibration, and figures."""
    import json

    from mofgap.uq import plots
    from mofgap.uq.compare import METRICS_FILE
    from mofgap.uq.evaluate import evaluate as evaluate_predictions
    from mofgap.uq.tables import match_predictions, read_labels, read_table
    from mofgap.utils.atomic import atomic_write_bytes

    try:
        label_series = read_labels(labels, id_column=id_column, label_column=label_column)
        table = read_table(predictions)
        matched = match_predictions(table, label_series)
        held_out = match_predictions(read_table(calibration), label_series) if calibration else None
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    if name is None:
        name = str(table["model"].iloc[0]) if "model" in table and len(table) else predictions.stem
    result = {"name": name, "predictions": str(predictions), "calibration": str(calibration) if calibration else None,
              **evaluate_predictions(matched, held_out, coverage=coverage)}
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / METRICS_FILE, (json.dumps(result, indent=1, allow_nan=False) + "\n").encode())
    plots.parity(matched.y, matched.mu, matched.sigma, out / "parity", title=name)
    curves = {"raw": result["curves"]["raw"]} | ({"σ-scaled": result["curves"]["scaled"]} if held_out else {})
    plots.calibration_curves(curves, out / "calibration")
    plots.binned_errors(curves, out / "binned_errors")
    plots.sparsification({name: result["curves"]["raw"]}, out / "sparsification")
    m = result["metrics"]
    rho = "–" if m["spearman"] is None else f"{m['spearman']:.3f}"
    typer.echo(f"{name}: n={m['n']:.0f} MAE {m['mae']:.3f} eV, RMSE {m['rmse']:.3f} eV, "
               f"Spearman ρ(σ,|err|) {rho}, miscalibration area {m['miscalibration_area']:.3f}"
               + (f", conformal {coverage:.0%} coverage {result['calibrated']['conformal']['coverage']:.3f}"
                  if held_out else ""))
    typer.echo(f"wrote {out / METRICS_FILE} and figures")
