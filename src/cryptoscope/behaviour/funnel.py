"""The onboarding funnel: sign-up -> KYC approved -> first deposit -> first trade -> active in month two.

Only accounts opened inside the data's period count (older ones did their steps before it), and
only those whose second month (days 30-60 after sign-up) ends before the data does, so nobody is
counted as dropping out of a step they had no time to reach.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pandas as pd

STEPS = ("signed_up", "kyc_approved", "first_deposit", "first_trade", "second_month")


def _first(con: Any, table: str, user: str, where: Any = None) -> pd.Series:
    t = con.table(table)
    if where is not None:
        t = t.filter(where(t))
    got = t.group_by(user).aggregate(first=t.event_time.min()).to_pyarrow().to_pandas()
    return got.set_index(user)["first"]


def funnel_users(con: Any, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """One row per eligible new account: whether (and when) it reached every step."""
    acc = con.table("accounts")
    acc = acc.filter((acc.event_time >= ibis.literal(start)) & (acc.event_time < ibis.literal(end - dt.timedelta(60))))
    users = acc.select("user_id", signup="event_time").to_pyarrow().to_pandas().set_index("user_id")
    kyc = _first(con, "kyc_submissions", "user_id", lambda t: t.decision == "approved")
    pay = _first(con, "payments", "user_id", lambda t: (t.direction == "deposit") & (t.status == "completed"))
    chain = _first(con, "chain_transfers", "user_id", lambda t: t.direction == "deposit")
    buys = _first(con, "trades", "buyer_user_id")
    sells = _first(con, "trades", "seller_user_id")
    s = con.table("sessions")
    sessions = s.filter(s.success).select("user_id", "event_time").to_pyarrow().to_pandas()
    out = pd.DataFrame(index=users.index)
    out["signed_up"] = True
    out["kyc_approved"] = users.index.isin(kyc.index)
    deposit = pd.concat([pay, chain], axis=1).min(axis=1)
    out["first_deposit"] = out["kyc_approved"] & users.index.isin(deposit.dropna().index)
    trade = pd.concat([buys, sells], axis=1).min(axis=1)
    out["first_trade"] = out["first_deposit"] & users.index.isin(trade.dropna().index)
    sessions = sessions.merge(users, left_on="user_id", right_index=True)
    age = (sessions["event_time"] - sessions["signup"]).dt.total_seconds() / 86_400
    month_two = set(sessions.loc[(age >= 30) & (age < 60), "user_id"])
    out["second_month"] = out["first_trade"] & users.index.isin(list(month_two))
    return out


def funnel_table(users: pd.DataFrame, segment: pd.Series | None = None) -> pd.DataFrame:
    """Users reaching each step, conversion from the previous step and drop-off, overall and per segment."""
    groups = {"all": users} if segment is None else {"all": users, **{
        str(k): g for k, g in users.join(segment.rename("segment")).groupby("segment")}}
    rows = []
    for name, g in groups.items():
        prev = None
        for step in STEPS:
            n = int(g[step].sum())
            rate = (n / prev) if prev else 1.0
            rows.append({"segment": name, "step": step, "users": n, "conversion": rate, "drop_off": 1.0 - rate})
            prev = n
    return pd.DataFrame(rows)
