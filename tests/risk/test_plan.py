"""Time plans and labels as known: what a model built on a given day could have learnt from."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from cryptoscope.errors import CryptoscopeError
from cryptoscope.risk.labels import attach_labels
from cryptoscope.risk.plan import TimePlan

START, END = dt.datetime(2025, 1, 1, tzinfo=dt.UTC), dt.datetime(2025, 4, 1, tzinfo=dt.UTC)


def test_the_build_date_starts_the_last_quarter_and_the_maturity_wait_precedes_it() -> None:
    b = TimePlan().boundaries(START, END, maturity=dt.timedelta(days=21))
    assert b.build_date == START + (END - START) * 0.75
    assert b.valid_end == b.build_date - dt.timedelta(days=21)
    assert b.train_end == START + (b.valid_end - START) * 0.6
    assert TimePlan(maturity=dt.timedelta(days=3)).boundaries(START, END, maturity=dt.timedelta(days=21)).valid_end \
        == b.build_date - dt.timedelta(days=3)


def test_an_outcome_horizon_ends_the_test_period_before_the_end_of_the_data() -> None:
    # KYC findings and loan outcomes take weeks: younger decisions would pass as good for want of news
    b = TimePlan().boundaries(START, END, maturity=dt.timedelta(days=14), horizon=dt.timedelta(days=30))
    assert b.test_end == END - dt.timedelta(days=30) and b.last_decision == b.test_end
    assert b.build_date == START + (b.test_end - START) * 0.75
    assert b.valid_end == b.build_date - dt.timedelta(days=14)
    assert TimePlan().boundaries(START, END).last_decision == END
    with pytest.raises(CryptoscopeError, match="no decision that can be judged"):
        TimePlan().boundaries(START, END, horizon=dt.timedelta(days=90))


def test_a_maturity_longer_than_the_history_is_refused() -> None:
    with pytest.raises(CryptoscopeError, match="no labelled decisions"):
        TimePlan().boundaries(START, END, maturity=dt.timedelta(days=80))


def ts(day: int) -> pd.Timestamp:
    return pd.Timestamp(START) + pd.Timedelta(days=day)


def test_labels_are_those_known_at_the_build_date_before_it_and_all_of_them_after() -> None:
    frame = pd.DataFrame({"entity_id": ["a", "b", "c", "d"], "decision_time": [ts(1), ts(2), ts(3), ts(70)]})
    events = pd.DataFrame({"entity_id": ["a", "b", "d"], "label": [1, 1, 1],
                           "label_time": [ts(10), ts(60), ts(80)]})
    out = attach_labels(frame, events, ts(50).to_pydatetime())
    assert out["label"].tolist() == [1, 0, 0, 1]            # b's chargeback came after the build date
    assert out["label_time"].tolist()[:1] == [ts(10)] and pd.isna(out["label_time"].iloc[1])


def test_outcome_products_keep_only_decisions_whose_outcome_is_known() -> None:
    frame = pd.DataFrame({"entity_id": ["a", "b", "c"], "decision_time": [ts(1), ts(2), ts(3)]})
    events = pd.DataFrame({"entity_id": ["a", "b"], "label": [0, 1], "label_time": [ts(20), ts(30)]})
    out = attach_labels(frame, events, ts(25).to_pydatetime(), outcome_required=True)
    assert out[["entity_id", "label"]].values.tolist() == [["a", 0]]
