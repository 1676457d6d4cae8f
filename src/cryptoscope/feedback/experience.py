"""What each user went through, read from the lake and joined to their feedback by time.

For every ticket, flags of what happened to its author in the days before it was opened (withdrawals
left pending, funds held, deposits not credited, KYC rejected, loans liquidated or defaulted, cards
declined) and controls (channel, language, segment, account age, how much they deposit). For every NPS
answer, the same flags over the 30 days before the answer. This is the evidence side of the drivers:
the text says what users complain about, the lake says what really happened to them.

Every read is an Ibis expression over the lake's canonical tables, so it runs on DuckDB or Spark.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake import Lake, connect

TICKET_WINDOW_DAYS = 7
SURVEY_WINDOW_DAYS = 30

#: A lake table by name, over one backend.
Tables = Callable[[str], ir.Table]
#: Events of one experience: (user_id, t).
Events = Callable[[Tables], ir.Table]


def _transfers(direction: str, *statuses: str) -> Events:
    def events(table: Tables) -> ir.Table:
        c = table("chain_transfers")
        return c.filter((c.direction == direction) & c.status.isin(statuses)).select("user_id", t=c.event_time)
    return events


def _kyc_rejected(table: Tables) -> ir.Table:
    k = table("kyc_submissions")
    return k.filter((k.decision == "rejected") & k.decision_time.notnull()).select("user_id", t=k.decision_time)


def _loan_loss(table: Tables) -> ir.Table:
    loans = table("loans")
    lost = loans.outcome.isin(["liquidated", "defaulted"]) & loans.outcome_time.notnull()
    return loans.filter(lost).select("user_id", t=loans.outcome_time)


def _card_declined(table: Tables) -> ir.Table:
    p = table("payments")
    return p.filter(p.status == "declined").select("user_id", t=p.event_time)


#: experience flag -> (what it means in words, its events)
EXPERIENCES: dict[str, tuple[str, Events]] = {
    "withdrawal_pending": ("a crypto withdrawal left pending", _transfers("withdrawal", "pending")),
    "funds_held": ("a withdrawal held (funds frozen)", _transfers("withdrawal", "held")),
    "deposit_missing": ("a crypto deposit not credited (pending or held)", _transfers("deposit", "pending", "held")),
    "kyc_rejected": ("KYC rejected", _kyc_rejected),
    "loan_loss": ("a loan or margin position liquidated or defaulted", _loan_loss),
    "card_declined": ("a card deposit declined", _card_declined),
}


def _flags(table: Tables, spine: ir.Table, key: str, days: int) -> ir.Table:
    """Per ``key`` of the spine that has any, which experiences its user had in [t - days, t]."""
    parts = [events(table).mutate(flag=ibis.literal(name)) for name, (_, events) in EXPERIENCES.items()]
    events = parts[0].union(*parts[1:], distinct=False)
    s = spine.select(key, "user_id", "t")
    hits = s.join(events, [s.user_id == events.user_id, events.t <= s.t, events.t >= s.t - ibis.interval(days=days)])
    return hits.group_by(key).aggregate(**{name: (hits.flag == name).any() for name in EXPERIENCES})


def _deposits(table: Tables, spine: ir.Table, key: str) -> ir.Table:
    """Per ``key`` of the spine, the USD its user deposited (completed) up to its time ``t``."""
    p = table("payments")
    paid = p.filter((p.direction == "deposit") & (p.status == "completed")).select(
        "user_id", "amount_usd", paid=p.event_time)
    s = spine.select(key, "user_id", "t")
    hits = s.join(paid, [s.user_id == paid.user_id, paid.paid <= s.t])
    return hits.group_by(key).aggregate(deposits_usd=hits.amount_usd.sum())


def _tables(backend: Any) -> Tables:
    """Each table looked up once: on DuckDB a look-up binds the table's view over all of its files."""
    return functools.cache(backend.table)


def _read(table: Tables, spine: ir.Table, key: str, days: int) -> pd.DataFrame:
    """``spine`` (key, user_id, t, ...) with the experience flags (0/1) and the controls, oldest first."""
    a = table("accounts")
    accounts = a.select("user_id", "segment", opened=a.event_time)
    out = (spine.left_join(_flags(table, spine, key, days), key).left_join(accounts, "user_id")
           .left_join(_deposits(table, spine, key), key))
    tenure = ibis.greatest(out.t.date().delta(out.opened.date(), unit="day"), 0)
    expr = out.select(*spine.columns, **{name: ibis.coalesce(out[name], False).cast("int32") for name in EXPERIENCES},
                      segment=ibis.coalesce(out.segment, "unknown"), log_tenure_days=(1 + tenure).ln(),
                      log_deposits_usd=(1 + ibis.coalesce(out.deposits_usd, 0)).ln())
    return expr.to_pyarrow().to_pandas().sort_values(["t", key], kind="stable").reset_index(drop=True)


def ticket_experience(lake: Lake, *, backend: Any = None) -> pd.DataFrame:
    """One row per ticket: its CSAT, resolution time, category and the experience flags and controls.

    ``backend`` is the Ibis backend that reads ``lake`` (default: `cryptoscope.lake.connect`).
    """
    table = _tables(backend if backend is not None else connect(lake))
    k = table("tickets")
    if k.count().to_pyarrow().as_py() == 0:
        raise CryptoscopeError(f"the lake {lake.root} has no tickets; simulate or import some first")
    spine = k.mutate(t=k.event_time).select("ticket_id", "user_id", "t", "channel", "language", "category", "status",
                                           "csat", "resolution_hours")
    return _read(table, spine, "ticket_id", TICKET_WINDOW_DAYS)


def survey_experience(lake: Lake, *, backend: Any = None) -> pd.DataFrame:
    """One row per NPS answer with the author's experiences in the 30 days before, and controls."""
    table = _tables(backend if backend is not None else connect(lake))
    k = table("tickets")
    first = k.group_by("user_id").aggregate(first_ticket=k.event_time.min())
    v = table("surveys")
    v = v.filter(v.nps.notnull()).left_join(first, "user_id")
    # a ticket before the answer exists exactly when the user's first ticket is not after it
    v = v.mutate(t=v.event_time, ticket_before=ibis.coalesce(v.first_ticket <= v.event_time, False).cast("int32"))
    spine = v.select("survey_id", "user_id", "t", "channel", "language", "nps", "comment", "ticket_before")
    return _read(table, spine, "survey_id", SURVEY_WINDOW_DAYS)


def describe(flag: str) -> str:
    if flag in EXPERIENCES:
        return EXPERIENCES[flag][0]
    words: dict[str, Any] = {"log_resolution_days": "slower ticket resolution (per +1 in log(1 + days))",
                             "ticket_before": "opened a support ticket before answering",
                             "log_deposits_usd": "deposits (per +1 in log(1 + USD))"}
    return str(words.get(flag, flag.replace("_", " ")))
