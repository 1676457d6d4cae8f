"""Calibration fitted on one period makes another period's probabilities honest."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import Calibrator, brier_score, expected_calibration_error, reliability_table


@pytest.fixture(scope="module")
def overconfident() -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from true probabilities, and a score that doubles their log-odds and shifts them up."""
    rng = np.random.default_rng(0)
    logit = rng.normal(-2.5, 1.2, 8000)
    y = (rng.random(logit.size) < 1 / (1 + np.exp(-logit))).astype(int)
    return y, 1 / (1 + np.exp(-(2 * logit + 1.5)))


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_calibrating_on_one_half_improves_brier_and_ece_on_the_other(
        overconfident: tuple[np.ndarray, np.ndarray], method: str) -> None:
    y, score = overconfident
    fit_half, eval_half = slice(0, 4000), slice(4000, None)
    calibrated = Calibrator(method).fit(score[fit_half], y[fit_half]).transform(score[eval_half])
    before_ece = expected_calibration_error(y[eval_half], score[eval_half])
    after_ece = expected_calibration_error(y[eval_half], calibrated)
    assert brier_score(y[eval_half], calibrated) < brier_score(y[eval_half], score[eval_half])
    assert after_ece < before_ece / 3
    assert ((calibrated >= 0) & (calibrated <= 1)).all()


def test_calibration_keeps_the_order_of_the_scores(overconfident: tuple[np.ndarray, np.ndarray]) -> None:
    y, score = overconfident
    order = np.argsort(score)
    for method in ("isotonic", "sigmoid"):
        calibrated = Calibrator(method).fit(score, y).transform(score)
        assert (np.diff(calibrated[order]) >= -1e-12).all()


def test_the_reliability_table_on_a_hand_case() -> None:
    y = [0, 0, 1, 1, 1, 0]
    p = [0.05, 0.15, 0.15, 0.85, 0.95, 0.95]
    table = reliability_table(y, p, bins=2)
    assert table["count"].tolist() == [3, 3]
    assert table["lower"].tolist() == [0.0, 0.5] and table["upper"].tolist() == [0.5, 1.0]
    np.testing.assert_allclose(table["mean_predicted"], [0.35 / 3, 2.75 / 3])
    np.testing.assert_allclose(table["observed_rate"], [1 / 3, 2 / 3])
    # ECE: half the rows are off by 0.35/3 - 1/3, the other half by 2.75/3 - 2/3
    expected = 0.5 * (1 / 3 - 0.35 / 3) + 0.5 * (2.75 / 3 - 2 / 3)
    assert expected_calibration_error(y, p, bins=2) == pytest.approx(expected)


def test_bins_are_half_open_the_last_closed_and_empty_bins_stay() -> None:
    table = reliability_table([0, 1, 1], [0.25, 0.5, 1.0], bins=4)
    assert table["count"].tolist() == [0, 1, 1, 1]  # 0.25 opens bin 1, 0.5 opens bin 2, 1.0 closes bin 3
    assert np.isnan(table.loc[0, "mean_predicted"]) and np.isnan(table.loc[0, "observed_rate"])


def test_brier_matches_sklearn(overconfident: tuple[np.ndarray, np.ndarray]) -> None:
    y, score = overconfident
    assert brier_score(y, score) == pytest.approx(brier_score_loss(y, score))


def test_calibration_refuses_what_it_cannot_use() -> None:
    with pytest.raises(CryptoscopeError, match="good and bad rows"):
        Calibrator().fit([0.1, 0.2], [0, 0])
    with pytest.raises(CryptoscopeError, match="'isotonic' or 'sigmoid'"):
        Calibrator("beta").fit([0.1, 0.2], [0, 1])
    with pytest.raises(CryptoscopeError, match=r"lie in \[0, 1\]"):
        reliability_table([0, 1], [-0.5, 2.0])


def test_the_serving_path_gives_transforms_numbers_one_row_or_many() -> None:
    rng = np.random.default_rng(3)
    scores = rng.random(4000)
    platt = Calibrator(method="sigmoid").fit(scores, (rng.random(4000) < scores).astype(int))
    probabilities = np.concatenate([rng.random(500), [0.0, 1.0, 1e-12, 1 - 1e-12]])
    expected = platt.transform(probabilities)
    assert np.allclose(platt.transform_fast(probabilities), expected, rtol=1e-14, atol=0.0)
    one_at_a_time = [platt.transform_fast(np.array([p]))[0] for p in probabilities]  # the scalar path
    assert np.allclose(one_at_a_time, expected, rtol=1e-14, atol=0.0)
    margins = np.array([-800.0, -30.0, 2.5, 40.0])  # raw scores: used as they are, even far out
    assert np.allclose([platt.transform_fast(np.array([m]))[0] for m in margins],
                       [platt.transform(np.array([m]))[0] for m in margins], rtol=1e-14, atol=0.0)
    few = probabilities[:8]  # a request batch: Python floats, the same numbers
    assert np.allclose(platt.transform_fast(few), platt.transform(few), rtol=1e-14, atol=0.0)
    mixed = np.array([0.5, 2.5])  # not all probabilities: the batch rule (no log-odds for any of them)
    assert np.allclose(platt.transform_fast(mixed), platt.transform(mixed), rtol=1e-14, atol=0.0)
    with pytest.raises(CryptoscopeError, match="finite"):
        platt.transform_fast(np.array([np.nan]))
    with pytest.raises(CryptoscopeError, match="finite"):
        platt.transform_fast(np.array([0.5, np.nan]))
