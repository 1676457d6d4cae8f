"""Drivers of satisfaction on the simulated world: the planted ones come back with the right sign and a
confidence interval that excludes zero; rare experiences are called weak evidence, not findings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoscope.feedback.drivers import DriverResult, csat_drivers, estimate, importance_performance, nps_drivers
from cryptoscope.feedback.experience import survey_experience, ticket_experience
from cryptoscope.lake import Lake


@pytest.fixture(scope="module")
def tickets(small_world: tuple[Lake, object, object]) -> pd.DataFrame:
    return ticket_experience(small_world[0])


@pytest.fixture(scope="module")
def csat(tickets: pd.DataFrame) -> DriverResult:
    return csat_drivers(tickets)


def _effect(result: DriverResult, name: str):  # type: ignore[no-untyped-def]
    return next(e for e in result.effects if e.driver == name)


@pytest.mark.parametrize("driver", ["log_resolution_days", "withdrawal_pending", "funds_held"])
def test_planted_csat_drivers_are_recovered(csat: DriverResult, driver: str) -> None:
    """The simulator lowers CSAT with severity (slow or held withdrawals) and with resolution time."""
    e = _effect(csat, driver)
    assert e.effect < 0
    assert e.ci_high < 0 and e.boot_high < 0  # both 95 % intervals exclude zero
    assert e.evidence == "strong"


def test_resolution_time_effect_is_in_the_planted_range(csat: DriverResult) -> None:
    e = _effect(csat, "log_resolution_days")
    assert -2.5 < e.ci_low < e.effect < e.ci_high < -0.5  # planted -0.9 per log1p(days), plus severity confounding


def test_experiences_are_joined_by_time(tickets: pd.DataFrame) -> None:
    withdrawal = tickets["category"] == "withdrawal"
    pending = tickets["withdrawal_pending"]
    assert pending[withdrawal].mean() > 5 * pending[~withdrawal].mean()


def test_weak_evidence_is_said_plainly(tickets: pd.DataFrame) -> None:
    rng = np.random.default_rng(0)
    frame = tickets.assign(coin_flip=rng.integers(0, 2, len(tickets)), rare=0)
    frame.loc[frame.index[:10], "rare"] = 1
    res = estimate(frame, "csat", ["coin_flip", "rare"], reps=100)
    flip, rare = _effect(res, "coin_flip"), _effect(res, "rare")
    assert flip.evidence.startswith("weak")  # a random flag: no effect claimed
    assert rare.evidence.startswith("weak: only")


def test_nps_follows_support_experience(small_world: tuple[Lake, object, object]) -> None:
    res = nps_drivers(survey_experience(small_world[0]), reps=100)
    e = _effect(res, "ticket_before")
    assert e.effect < 0 and e.ci_high < 0


def test_importance_vs_performance_puts_withdrawals_before_praise(tickets: pd.DataFrame) -> None:
    table = importance_performance(tickets, reps=100).set_index("category")
    assert table.loc["withdrawal", "gap_low"] > 0  # significantly worse than the rest
    assert table.loc["withdrawal", "action"].startswith("fix")
    assert table.loc["withdrawal", "importance"] > table.loc["other", "importance"]
