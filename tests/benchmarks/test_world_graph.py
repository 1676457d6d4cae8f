"""The world's graph protocol: periods in order, each one horizon apart, and the metrics of the later period."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from cryptoscope.benchmarks.world_graph import TOP_K, judge, periods


def test_development_comes_one_horizon_before_the_test_and_judges_before_it() -> None:
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    dev, test = periods(start, 120, 30)
    days = [(t - start).days for t in (dev.fit_at, dev.score_at, dev.judge_until, test.judge_until)]
    assert days == [30, 60, 90, 120]
    assert dev.score_at == test.fit_at
    assert dev.judge_until == test.score_at, "no development label after the test cut-off"


def test_precision_and_ring_recall_at_the_top() -> None:
    users = np.arange(1000)
    scores = -users.astype(float)  # user 0 ranks first
    keep = users != 3  # user 3 was known bad already: left out
    positive = {0, 1, 3, 150, 500}
    rings = pd.Series({0: 10, 1: 10, 150: 11, 3: 12})  # ring 12's only member is not judged
    out = judge(scores, users, positive, keep, rings)
    assert out["users"] == 999 and out["bad"] == 4
    assert out["precision_at_100"] == pytest.approx(2 / TOP_K)
    assert out["rings"] == 2 and out["ring_recall_at_100"] == pytest.approx(0.5), "ring 10 found, ring 11 not"
    assert 0.5 < out["auc_roc"] < 1
