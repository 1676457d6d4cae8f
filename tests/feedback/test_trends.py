"""Week-over-week topic growth: a planted surge is found, noise is not called a change."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cryptoscope.feedback.trends import topic_growth, weekly_counts

END = pd.Timestamp("2025-03-31", tz="UTC")


def _weeks(rng: np.random.Generator, n: int, surge: int) -> tuple[pd.Series, pd.Series]:
    times = END - pd.to_timedelta(rng.uniform(0, 14, n), unit="D")
    topics = rng.choice(["fees", "app", "kyc", "withdrawal"], n)
    extra_t = END - pd.to_timedelta(rng.uniform(0, 7, surge), unit="D")
    return (pd.Series(np.concatenate([times, extra_t])),
            pd.Series(np.concatenate([topics, np.full(surge, "withdrawal")])))


def test_a_surge_is_significant_and_the_rest_is_noise() -> None:
    times, topics = _weeks(np.random.default_rng(1), 600, 60)
    growth = {g.topic: g for g in topic_growth(times, topics, END)}
    assert growth["withdrawal"].verdict == "grew significantly"
    assert growth["withdrawal"].this_week > growth["withdrawal"].last_week
    assert all(g.verdict != "grew significantly" for t, g in growth.items() if t != "withdrawal")


def test_no_surge_no_alarm() -> None:
    times, topics = _weeks(np.random.default_rng(2), 600, 0)
    assert all(g.verdict in {"change within noise", "too few items this week to tell"}
               for g in topic_growth(times, topics, END))


def test_weekly_counts_by_monday() -> None:
    times, topics = _weeks(np.random.default_rng(3), 100, 0)
    weekly = weekly_counts(times, topics)
    assert weekly.to_numpy().sum() == 100
    assert all(d.weekday() == 0 for d in weekly.index)
