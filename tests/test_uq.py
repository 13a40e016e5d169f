"""Uncertainty metrics against hand-computed values, calibration, evaluation of tables, and figures."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from mofgap.uq import metrics
from mofgap.uq.calibration import ConformalInterval, SigmaScale
from mofgap.uq.evaluate import evaluate
from mofgap.uq.tables import match_predictions, read_labels

# errors y − μ = [-0.5, 0, 1, -1], z = [-0.5, 0, 0.5, -1]
Y = np.array([0.0, 1.0, 2.0, 3.0])
MU = np.array([0.5, 1.0, 1.0, 4.0])
SIGMA = np.array([1.0, 0.5, 2.0, 1.0])
ABS_ERROR = np.abs(Y - MU)


def test_accuracy_metrics_by_hand() -> None:
    assert metrics.mae(Y, MU) == pytest.approx(0.625)
    assert metrics.rmse(Y, MU) == pytest.approx(0.75)
    assert metrics.r2(Y, MU) == pytest.approx(1 - 2.25 / 5)


def test_ranking_metrics_by_hand() -> None:
    # ranks σ [2.5, 1, 4, 2.5], |e| [2, 1, 3.5, 3.5] → 3.75 / 4.5
    assert metrics.spearman(SIGMA, ABS_ERROR) == pytest.approx(3.75 / 4.5)
    assert metrics.pearson(SIGMA, ABS_ERROR) == pytest.approx(0.6875 / math.sqrt(1.1875 * 0.6875))


def test_sparsification_and_ause_by_hand() -> None:
    # most uncertain first: |e| [1, 0.5, 1, 0]; oracle [1, 1, 0.5, 0]
    curve = metrics.sparsification_curve(SIGMA, ABS_ERROR, steps=4)
    oracle = metrics.sparsification_curve(ABS_ERROR, ABS_ERROR, steps=4)
    np.testing.assert_allclose(curve, [0.625, 0.5, 0.5, 0.0])
    np.testing.assert_allclose(oracle, [0.625, 0.5, 0.25, 0.0])
    assert metrics.ause(SIGMA, ABS_ERROR, steps=4) == pytest.approx(0.0625)
    assert metrics.ause(ABS_ERROR + 1, ABS_ERROR, steps=4) == pytest.approx(0.0)


def test_calibration_metrics_by_hand() -> None:
    assert metrics.mean_z2(Y, MU, SIGMA) == pytest.approx(0.375)
    # ½log(2π) + mean(log σ) (= 0) + mean(z²)/2
    assert metrics.gaussian_nll(Y, MU, SIGMA) == pytest.approx(0.5 * math.log(2 * math.pi) + 0.1875)
    assert metrics.coverage(Y, MU, SIGMA, 0.5) == pytest.approx(0.75)  # |z| ≤ 0.674: 3 of 4
    assert metrics.coverage(Y, MU, SIGMA, 0.95) == pytest.approx(1.0)
    # σ bins {0.5, 1} and {1, 2}: RMV √0.625 vs RMSE √0.125; RMV √2.5 vs RMSE 1
    first = abs(math.sqrt(0.625) - math.sqrt(0.125)) / math.sqrt(0.625)
    second = abs(math.sqrt(2.5) - 1) / math.sqrt(2.5)
    assert metrics.ence(Y, MU, SIGMA, bins=2) == pytest.approx((first + second) / 2)
    assert metrics.sharpness(SIGMA) == pytest.approx(1.125)


def test_crps_by_hand_and_by_its_definition() -> None:
    def term(z: float, s: float) -> float:
        return s * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi))

    by_hand = np.mean([term(-0.5, 1.0), term(0.0, 0.5), term(0.5, 2.0), term(-1.0, 1.0)])
    assert by_hand == pytest.approx((0.331403 + 0.116847 + 0.662806 + 0.602440) / 4, abs=1e-5)
    assert metrics.crps(Y, MU, SIGMA) == pytest.approx(by_hand)
    # CRPS = ∫ (F(x) − 1[x ≥ y])² dx for one point
    y, mu, s = 2.0, 1.0, 2.0
    left = integrate.quad(lambda x: stats.norm.cdf(x, mu, s) ** 2, -40, y)[0]
    right = integrate.quad(lambda x: (1 - stats.norm.cdf(x, mu, s)) ** 2, y, 40)[0]
    assert metrics.crps([y], [mu], [s]) == pytest.approx(left + right, rel=1e-6)


def test_miscalibration_area_limits() -> None:
    # every target exactly at μ: observed proportion 1 everywhere → area ∫(1 − p)dp = 0.5
    assert metrics.miscalibration_area(Y, Y, SIGMA) == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    sigma = rng.uniform(0.1, 2.0, 20_000)
    y = rng.normal(0.0, sigma)
    mu = np.zeros_like(y)
    assert metrics.miscalibration_area(y, mu, sigma) < 0.01
    assert metrics.ence(y, mu, sigma) < 0.05
    assert metrics.mean_z2(y, mu, sigma) == pytest.approx(1.0, abs=0.05)
    assert metrics.miscalibration_area(y, mu, sigma / 4) > 0.3


def test_metrics_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="different lengths"):
        metrics.mae([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="σ must be"):
        metrics.mean_z2(Y, MU, [1.0, 0.0, 1.0, 1.0])


def test_sigma_scale_and_conformal_by_hand() -> None:
    assert SigmaScale.fit(Y, MU, SIGMA).factor == pytest.approx(math.sqrt(0.375))
    # scores |z| sorted [0, 0.5, 0.5, 1]; rank ⌈5 · 0.5⌉ = 3
    interval = ConformalInterval.fit(Y, MU, SIGMA, coverage=0.5)
    assert interval.quantile == pytest.approx(0.5)
    lower, upper = interval.bounds([1.0], [2.0])
    assert (lower[0], upper[0]) == (0.0, 2.0)
    assert ConformalInterval.fit(Y, MU, SIGMA, coverage=0.9).quantile == math.inf


def test_conformal_coverage_holds_on_exchangeable_data() -> None:
    rng = np.random.default_rng(1)
    covered = []
    for _ in range(200):
        sigma = rng.uniform(0.2, 1.0, 400)
        y = rng.standard_t(3, 400) * sigma  # heavy tails: Gaussian intervals would be wrong
        interval = ConformalInterval.fit(y[:200], np.zeros(200), sigma[:200] * 3, coverage=0.9)
        lower, upper = interval.bounds(np.zeros(200), sigma[200:] * 3)
        covered.append(metrics.interval_coverage(y[200:], lower, upper))
    assert np.mean(covered) == pytest.approx(0.9, abs=0.01)
    assert np.mean(covered) >= 0.895


def _table(ids: list[str], mu: np.ndarray, sigma: np.ndarray, status: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"structure_id": ids, "gap_eV": mu, "sigma_eV": sigma,
                         "sigma_epistemic_eV": sigma / 2, "sigma_aleatoric_eV": np.full_like(sigma, 0.3),
                         "status": status})


def test_evaluate_matches_labels_and_skips_failures(tmp_path) -> None:
    labels_csv = tmp_path / "labels.csv"
    pd.DataFrame({"qmof_id": ["a", "b", "c", "d"], "outputs.pbe.bandgap": Y}).to_csv(labels_csv, index=False)
    labels = read_labels(labels_csv)
    table = _table(["d", "c", "b", "a", "x", "bad"], np.r_[MU[::-1], 1.0, np.nan],
                   np.r_[SIGMA[::-1], 1.0, np.nan], ["ok"] * 5 + ["failed"])
    matched = match_predictions(table, labels)
    assert (matched.n_failed, matched.n_unlabelled) == (1, 1)
    result = evaluate(matched, calibration=match_predictions(table, labels), coverage=0.5)
    assert result["metrics"]["mae"] == pytest.approx(0.625)
    assert result["metrics"]["spearman"] == pytest.approx(3.75 / 4.5)
    assert result["components"]["aleatoric"]["spearman"] is None  # constant σ ranks nothing
    assert result["calibrated"]["sigma_scale"] == pytest.approx(math.sqrt(0.375))
    assert result["calibrated"]["metrics"]["mean_z2"] == pytest.approx(1.0)
    assert result["calibrated"]["conformal"]["coverage"] == pytest.approx(0.75)
    json.dumps(result, allow_nan=False)


def test_read_labels_names_missing_columns(tmp_path) -> None:
    path = tmp_path / "labels.csv"
    pd.DataFrame({"key": ["a"], "value": [1.0]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="no id column"):
        read_labels(path)
    assert read_labels(path, id_column="key", label_column="value").loc["a"] == 1.0


def test_conformal_rank_is_not_pushed_up_by_float_rounding() -> None:
    # (74 + 1) · 0.68 = 51 exactly, but 75 * 0.68 = 51.000000000000007 in floating point
    interval = ConformalInterval.from_scores(np.arange(74, dtype=float), coverage=0.68)
    assert interval.quantile == 50.0  # the 51st smallest score


def test_labels_keep_numeric_looking_ids_and_drop_missing_values(tmp_path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("structure_id,gap_eV\n0001,1.5\n0002,\n")
    labels = read_labels(path)
    assert list(labels.index) == ["0001"] and labels.loc["0001"] == 1.5
    predictions = tmp_path / "p.csv"
    predictions.write_text("structure_id,gap_eV,sigma_eV\n0001,1.0,0.5\n")
    from mofgap.uq.tables import read_table

    assert match_predictions(read_table(predictions), labels).ids.tolist() == ["0001"]


def test_figures_are_byte_reproducible(tmp_path) -> None:
    from mofgap.uq import plots

    rng = np.random.default_rng(0)
    y = rng.uniform(0, 4, 50)
    mu, sigma = y + rng.normal(0, 0.2, 50), rng.uniform(0.1, 0.3, 50)
    first = plots.parity(y, mu, sigma, tmp_path / "a")
    second = plots.parity(y, mu, sigma, tmp_path / "b")
    assert [p.suffix for p in first] == [".png", ".svg"]
    for one, other in zip(first, second, strict=True):
        assert one.read_bytes() == other.read_bytes()
    assert b"<dc:date>" not in first[1].read_bytes()
