"""What users went through before their feedback: checked against a plain pandas reading, and on Spark."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cryptoscope.features import engines
from cryptoscope.feedback.analyze import load_feedback
from cryptoscope.feedback.experience import (
    EXPERIENCES,
    SURVEY_WINDOW_DAYS,
    TICKET_WINDOW_DAYS,
    survey_experience,
    ticket_experience,
)
from cryptoscope.lake import Lake, connect
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import SimSummary, simulate

# pyspark 4.0 and ibis 12 still call pandas APIs that pandas 3 deprecates: noise, not our code
pytestmark = [pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
              pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")]


def _events(read: Any) -> pd.DataFrame:
    """(user_id, et, flag) of every experience, filtered in pandas."""
    ct, kyc, loans, pay = (read(n) for n in ("chain_transfers", "kyc_submissions", "loans", "payments"))
    parts = {
        "withdrawal_pending": ct[(ct.direction == "withdrawal") & (ct.status == "pending")],
        "funds_held": ct[(ct.direction == "withdrawal") & (ct.status == "held")],
        "deposit_missing": ct[(ct.direction == "deposit") & ct.status.isin(["pending", "held"])],
        "kyc_rejected": kyc[kyc.decision.eq("rejected") & kyc.decision_time.notna()].assign(
            event_time=lambda f: f.decision_time),
        "loan_loss": loans[loans.outcome.isin(["liquidated", "defaulted"]) & loans.outcome_time.notna()].assign(
            event_time=lambda f: f.outcome_time),
        "card_declined": pay[pay.status == "declined"],
    }
    return pd.concat([f[["user_id", "event_time"]].assign(flag=name) for name, f in parts.items()]).rename(
        columns={"event_time": "et"})


def _expected(read: Any, spine: pd.DataFrame, key: str, days: int) -> pd.DataFrame:
    """Flags, segment, log tenure and log deposits of each spine row (key, user_id, t), the slow and obvious way."""
    hits = spine.merge(_events(read), on="user_id")
    hits = hits[(hits.et <= hits.t) & (hits.et >= hits.t - dt.timedelta(days=days))]
    flags = pd.crosstab(hits[key], hits["flag"]).gt(0).astype("int32").reindex(columns=list(EXPERIENCES), fill_value=0)
    out = spine.set_index(key).join(flags).fillna({f: 0 for f in EXPERIENCES}).astype({f: "int32" for f in EXPERIENCES})
    acc = read("accounts").set_index("user_id")
    out["segment"] = out["user_id"].map(acc["segment"]).fillna("unknown")
    days_open = (out["t"].dt.normalize() - out["user_id"].map(acc["event_time"]).dt.normalize()).dt.days
    out["log_tenure_days"] = np.log(1 + days_open.fillna(0).clip(lower=0).astype(float))
    pay = read("payments")
    paid = spine.merge(pay[(pay.direction == "deposit") & (pay.status == "completed")], on="user_id")
    usd = paid[paid.event_time <= paid.t].groupby(key)["amount_usd"].sum()
    out["log_deposits_usd"] = np.log(1 + usd.reindex(out.index).fillna(0.0))
    return out.reset_index()


def test_flags_and_controls_are_what_happened_before_each_answer(small_world: tuple[Lake, SimConfig, SimSummary]
                                                                  ) -> None:
    lake, _, _ = small_world
    backend = connect(lake)

    def read(name: str) -> pd.DataFrame:
        return backend.table(name).to_pyarrow().to_pandas()

    tickets, surveys = ticket_experience(lake, backend=backend), survey_experience(lake, backend=backend)
    for got, key, days in ((tickets, "ticket_id", TICKET_WINDOW_DAYS), (surveys, "survey_id", SURVEY_WINDOW_DAYS)):
        assert got[key].is_unique and got["t"].is_monotonic_increasing
        want = _expected(read, got[[key, "user_id", "t"]], key, days)
        assert got[list(EXPERIENCES)].to_numpy().sum() > 20, "the world gives users something to complain about"
        pd.testing.assert_frame_equal(got[want.columns], want, check_exact=False, rtol=1e-12)
    first_ticket = read("tickets").groupby("user_id")["event_time"].min()
    before = (surveys["user_id"].map(first_ticket) <= surveys["t"]).astype("int32")
    np.testing.assert_array_equal(surveys["ticket_before"].to_numpy(), before.to_numpy())
    assert len(surveys) == read("surveys")["nps"].notna().sum() and len(tickets) == len(read("tickets"))


@pytest.mark.slow
def test_feedback_reads_are_the_same_on_duckdb_and_spark(tmp_path: Any, spark_session: Any) -> None:
    lake = Lake(tmp_path / "lake")
    simulate(SimConfig(users=1_000, days=21, seed=5, fraud_scale=4.0), lake)
    out = {}
    for name in ("duckdb", "spark"):
        backend = engines.connect(lake, name)
        out[name] = [load_feedback(lake, backend=backend), ticket_experience(lake, backend=backend),
                     survey_experience(lake, backend=backend)]
    assert out["duckdb"][1][list(EXPERIENCES)].to_numpy().sum() > 0
    for duck, spark in zip(out["duckdb"], out["spark"], strict=True):
        assert len(duck) > 20
        pd.testing.assert_frame_equal(duck, spark, check_exact=False, rtol=1e-12)
