"""The review queue: expected loss first, every 5th place for the case that teaches most, and a rank that tells
the top cases apart where their percentile scores all round to 1.000."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoscope.anomaly.review import exposure, probability, queue_places, review_order
from cryptoscope.cases import CaseStore
from cryptoscope.cases.grouping import RingAlert, UserAlert, file_alerts

AT = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def test_every_fifth_place_goes_to_the_most_uncertain_row() -> None:
    value = np.array([9.0, 8, 7, 6, 5, 4, 3, 2, 1, 0])
    doubt = np.array([0.0, 0, 0, 0, 0, 0, 0, 0, 0.25, 0.2])
    order = review_order(value, doubt, explore_every=5)
    assert order[:4].tolist() == [0, 1, 2, 3] and order[4] == 8  # the 5th place: the row nearest 50/50
    assert order[9] == 9 and sorted(order.tolist()) == list(range(10))  # every row once
    assert review_order(value, None).tolist() == list(range(10))  # nothing to learn from yet: by value


def test_probability_is_calibrated_on_the_decisions_and_unknown_before_them() -> None:
    rng = np.random.default_rng(0)
    score = rng.normal(size=2000)
    labels = np.full(2000, np.nan)
    top = np.argsort(-score)[:60]
    labels[top] = (np.arange(60) < 20).astype(float)  # analysts confirmed a third of the top 60
    p = probability(score, labels)
    assert p is not None and np.all((p > 0) & (p < 1))
    assert p[top[0]] > p[top[59]] > p[np.argmin(score)]  # higher score, likelier abnormal
    assert p[top].mean() == pytest.approx(1 / 3, abs=0.05)  # the share the analysts confirmed
    labels[top[2:20]] = np.nan  # two confirmed cases only: no calibration, no guess
    assert probability(score, labels) is None
    labels[top] = (np.arange(60) >= 40).astype(float)  # the confirmed ones at the lower end of the top 60
    assert probability(score, labels) is None  # a probability falling with the score would invert the queue


def test_exposure_is_the_money_moved_in_30_days() -> None:
    features = pd.DataFrame({"deposit_usd_30d": [100.0, 0, -5], "withdrawal_usd_30d": [50.0, 10, 0],
                             "logins": [1, 2, 3]})
    assert exposure(features).tolist() == [150.0, 10.0, 0.0]
    assert exposure(features[["logins"]]).tolist() == [0.0, 0.0, 0.0]


def test_open_cases_get_a_place_a_rank_and_an_expected_loss(tmp_path: Path) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'cases.db'}")
    # four users all at the top of a 1,000-user run (their percentile scores round to 1.000), and a ring
    users = np.arange(1, 1001)
    score = np.linspace(0, 1, 1000)
    file_alerts(store, "run-1", AT, [UserAlert(int(u), 1.0, "top") for u in (1000, 999, 998, 997)],
                [RingAlert(1, (10, 11, 12), 0.99, "ring")], 1000)
    money = np.zeros(1000)
    money[[995, 996, 9, 10, 11]] = [100.0, 5_000.0, 10.0, 10.0, 10.0]  # user 997 moved $5,000
    before = queue_places(store, users, score, np.full(1000, np.nan), money)
    # the ring ranks as its best member, user 12
    assert [p.rank for p in sorted(before, key=lambda p: p.position)] == [1, 2, 3, 4, 989]
    assert all(p.probability is None and p.expected_loss_usd is None and not p.explore for p in before)
    decisions = np.full(1000, np.nan)
    decisions[[0, 1, 2, 3, 4, 5]] = 0  # cleared low scorers and confirmed high ones
    decisions[[900, 950, 980]] = 1
    after = sorted(queue_places(store, users, score, decisions, money), key=lambda p: p.position)
    assert after[0].exposure_usd == 5_000.0 and after[0].rank == 4  # the money at stake leads, not the rank
    assert after[0].expected_loss_usd == pytest.approx(5_000.0 * after[0].probability, rel=1e-3)
    assert [p.explore for p in after] == [False, False, False, False, True]
    store.set_queue("run-1", after)
    queue = store.queue()
    assert [q.position for _, q in queue if q is not None] == [1, 2, 3, 4, 5]
    assert queue[0][1] is not None and queue[0][1].top_share == pytest.approx(0.004)
