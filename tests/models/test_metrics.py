"""Metrics agree with scikit-learn, and the alerting ones are right on cases small enough to count."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import (
    Costs,
    Metrics,
    evaluate,
    expected_cost,
    metrics_over_time,
    pr_auc,
    precision_at_k,
    precision_recall_at_rate,
    recall_at_k,
    roc_auc,
)


@pytest.fixture(scope="module")
def scored() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    y = (rng.random(3000) < 0.05).astype(int)
    return y, np.clip(0.05 + 0.3 * y + rng.normal(0, 0.15, y.size), 0, 1)


def test_auc_metrics_match_sklearn(scored: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = scored
    assert roc_auc(y, p) == pytest.approx(roc_auc_score(y, p))
    assert pr_auc(y, p) == pytest.approx(average_precision_score(y, p))


def test_precision_and_recall_at_k_on_a_hand_case() -> None:
    y = [1, 0, 1, 0, 0, 1, 0, 0]
    p = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]
    assert precision_at_k(y, p, 1) == 1.0
    assert precision_at_k(y, p, 3) == pytest.approx(2 / 3)  # 0.9 bad, 0.8 good, 0.7 bad
    assert recall_at_k(y, p, 3) == pytest.approx(2 / 3)  # two of the three bad rows
    assert precision_at_k(y, p, 8) == pytest.approx(3 / 8) and recall_at_k(y, p, 8) == 1.0
    # an alert rate of 25% of 8 rows flags the top 2
    assert precision_recall_at_rate(y, p, 0.25) == (pytest.approx(0.5), pytest.approx(1 / 3))


def test_ties_at_the_cut_are_broken_by_row_order() -> None:
    assert precision_at_k([0, 1, 1], [0.5, 0.5, 0.1], 1) == 0.0


def test_evaluate_gathers_everything_and_prices_decisions() -> None:
    y = np.array([1, 0, 0, 1])
    p = np.array([0.8, 0.1, 0.6, 0.3])
    decisions = ["block", "approve", "review", "approve"]
    m = evaluate(y, p, alert_rate=0.25, decisions=decisions, costs=Costs(missed_fraud=100, review=5, block_good=20))
    assert (m.rows, m.positives, m.base_rate) == (4, 2, 0.5)
    assert m.precision_at_alert_rate == 1.0 and m.recall_at_alert_rate == 0.5
    assert m.cost == 105.0 and m.cost_per_row == pytest.approx(26.25)  # one fraud approved, one good reviewed
    assert expected_cost(y, decisions, Costs(missed_fraud=100, review=5, block_good=20)) == pytest.approx(26.25)
    assert Metrics.from_dict(m.to_dict()) == m


def test_auc_is_nan_when_a_period_has_one_class_and_survives_json() -> None:
    m = evaluate([0, 0, 0], [0.1, 0.2, 0.3])
    assert math.isnan(m.roc_auc) and math.isnan(m.pr_auc)
    assert m.to_dict()["roc_auc"] is None
    assert math.isnan(Metrics.from_dict(m.to_dict()).roc_auc)


def test_metrics_over_time_has_one_row_per_week_starting_monday() -> None:
    times = pd.to_datetime(["2025-03-03 10:00", "2025-03-05", "2025-03-09 23:59", "2025-03-10", "2025-03-12",
                            "2025-03-13"], utc=True, format="ISO8601")
    y = [1, 0, 0, 1, 0, 1]
    p = [0.9, 0.2, 0.1, 0.3, 0.8, 0.7]
    weekly = metrics_over_time(times, y, p, freq="W", alert_rate=0.5)
    assert weekly["period"].tolist() == [pd.Timestamp("2025-03-03", tz="UTC"), pd.Timestamp("2025-03-10", tz="UTC")]
    assert weekly["rows"].tolist() == [3, 3] and weekly["positives"].tolist() == [1, 2]
    assert weekly["roc_auc"].tolist() == [1.0, 0.0]  # week two: both bad rows score below the good 0.8
    assert weekly["precision_at_alert_rate"].tolist() == [0.5, 0.5]  # top 2 of 3 each week
    assert weekly["recall_at_alert_rate"].tolist() == [1.0, 0.5]
    daily = metrics_over_time(times, y, p, freq="D")
    assert len(daily) == 6 and daily["roc_auc"].isna().all()  # one row a day: a single class


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(CryptoscopeError, match="k must be between 1"):
        precision_at_k([0, 1], [0.1, 0.2], 3)
    with pytest.raises(CryptoscopeError, match="alert_rate must be in"):
        precision_recall_at_rate([0, 1], [0.1, 0.2], 0.0)
    with pytest.raises(CryptoscopeError, match="3 scores for 2 labels"):
        roc_auc([0, 1], [0.1, 0.2, 0.3])
