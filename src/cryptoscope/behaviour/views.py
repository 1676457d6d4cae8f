"""Behaviour features: the shared user views plus a few behaviour views, on any engine.

Segments, churn and lifetime value all read one monthly snapshot table: per user and snapshot time,
the last 30 days of activity (how often, through which channel, from where), money in and out,
trading style, products used and how many other accounts share the user's home IP. Everything is
an Ibis expression over `cryptoscope.features.offline`, so DuckDB and Spark compute the same rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from cryptoscope.errors import CryptoscopeError
from cryptoscope.features.offline import point_in_time, view_features
from cryptoscope.features.spec import Agg, FeatureView, Source, eq, isin
from cryptoscope.features.views import VIEWS

BEHAVIOUR_SESSIONS = FeatureView(
    name="behaviour_sessions", entity="user", key="user_id",
    sources=(Source("sessions", where=(eq("success", True),),
                    columns={"day": lambda t: t.event_time.date(), "channel": "channel",
                             "ip_country": "ip_country", "device_id": "device_id"}),),
    windows=("30d", "90d"),
    aggs=(Agg("sessions", "count"), Agg("active_days", "nunique", "day"),
          Agg("api_share", "share", where=(eq("channel", "api"),)),
          Agg("mobile_share", "share", where=(isin("channel", ("ios", "android")),)),
          Agg("login_countries", "nunique", "ip_country"), Agg("login_devices", "nunique", "device_id"),
          Agg("since_active", "since_last")),
    doc="Successful sessions: how often, on how many days, via API or mobile, from how many countries.")

BEHAVIOUR_ORDERS = FeatureView(
    name="behaviour_orders", entity="user", key="user_id", sources=(Source("orders"),), windows=("30d",),
    aggs=(Agg("orders", "count"), Agg("order_cancel_share", "share", where=(eq("status", "cancelled"),)),
          Agg("limit_share", "share", where=(eq("order_type", "limit"),)), Agg("order_symbols", "nunique", "symbol")),
    doc="Order style over a month: quoting (many cancelled limit orders) against taking.")

BEHAVIOUR_PRODUCTS = FeatureView(
    name="behaviour_products", entity="user", key="user_id", sources=(Source("product_events"),), windows=("30d",),
    aggs=(Agg("product_events", "count"), Agg("earn_events", "count", where=(eq("product_type", "earn"),)),
          Agg("futures_events", "count", where=(eq("product_type", "futures"),)),
          Agg("article_events", "count", where=(eq("product_type", "article"),)),
          Agg("product_usd", "sum", "amount_usd")),
    doc="Products used: earn (low risk), futures (high risk), articles (learning).")

BEHAVIOUR_LOANS = FeatureView(
    name="behaviour_loans", entity="user", key="user_id", sources=(Source("loans"),), windows=("30d",),
    aggs=(Agg("loans", "count"), Agg("loan_usd", "sum", "principal_usd"), Agg("max_leverage", "max", "leverage")),
    doc="Credit taken: margin and crypto loans, and the leverage used (risk appetite).")

BEHAVIOUR_MONEY = FeatureView(
    name="behaviour_money", entity="user", key="user_id",
    sources=(Source("payments", where=(eq("direction", "deposit"), eq("status", "completed"))),),
    windows=("30d", "90d"),
    aggs=(Agg("fiat_deposits", "count"), Agg("deposit_size_usd", "mean", "amount_usd")),
    doc="Completed fiat deposits and their typical size: how much money a user moves at a time (wealth).")

HOME_IP = FeatureView(
    name="behaviour_home_ip", entity="ip", key="ip",
    sources=(Source("sessions", where=(eq("success", True),)),), windows=("30d",),
    aggs=(Agg("ip_accounts", "nunique", "user_id"),),
    doc="Accounts seen on an IP over a month: a home IP has one, a household two to four, carrier NAT many.")

#: the user-keyed views behind a snapshot, in join order
USER_VIEWS: tuple[FeatureView, ...] = (BEHAVIOUR_SESSIONS, BEHAVIOUR_ORDERS, BEHAVIOUR_PRODUCTS, BEHAVIOUR_LOANS,
                                       BEHAVIOUR_MONEY,
                                       VIEWS["user_payments"], VIEWS["user_chain"], VIEWS["user_trading"])
#: features kept from the shared views (the rest are short windows that describe risk, not behaviour)
SHARED_KEEP = ("deposit_usd_30d", "payments_30d", "deposits_30d", "withdrawals_30d", "withdrawal_usd_30d",
               "trades_30d", "volume_usd_30d", "symbols_30d", "counterparties_30d")
DAY = dt.timedelta(days=1)


def snapshot_spine(con: Any, times: Sequence[dt.datetime]) -> ir.Table:
    """(user_id, decision_time, signup_time) for every account opened before each snapshot time."""
    accounts = con.table("accounts").select("user_id", signup_time="event_time")
    points = ibis.memtable(pd.DataFrame({"decision_time": pd.to_datetime(list(times), utc=True)}))
    points = points.mutate(decision_time=points.decision_time.cast("timestamp('UTC', 6)"))
    spine = accounts.cross_join(points)
    return spine.filter(spine.signup_time < spine.decision_time)


def shared_home_ip(con: Any, spine: ir.Table) -> ir.Table:
    """Per spine row, the accounts on the user's home IP: the IP of most of their sessions in the month before.

    Ties go to the smallest IP, so every engine picks the same one.
    """
    sessions = con.table("sessions").filter(con.table("sessions").success)
    used = spine.select("user_id", "decision_time").join(
        sessions.select("user_id", "ip", _t="event_time"), "user_id")
    used = used.filter((used._t < used.decision_time) & (used._t >= used.decision_time - ibis.interval(days=30)))
    counts = used.group_by(["user_id", "decision_time", "ip"]).aggregate(n=used.count())
    rank = ibis.row_number().over(group_by=[counts.user_id, counts.decision_time],
                                  order_by=[counts.n.desc(), counts.ip])
    home = counts.mutate(_r=rank).filter(lambda t: t._r == 0).select("user_id", "decision_time", "ip")
    per_ip = view_features(con, HOME_IP, home.select("ip", "decision_time").distinct())
    joined = home.join(per_ip, ["ip", "decision_time"])
    return joined.select("user_id", "decision_time", home_ip_accounts=joined.ip_accounts_30d)


def snapshot_table(con: Any, times: Sequence[dt.datetime]) -> ir.Table:
    """Every behaviour feature per (user, snapshot time), as one Ibis expression."""
    spine = snapshot_spine(con, times)
    wide = point_in_time(con, USER_VIEWS, spine)
    home = shared_home_ip(con, spine).rename(_hu="user_id", _ht="decision_time")
    wide = wide.left_join(home, [wide.user_id == home._hu, wide.decision_time == home._ht]).drop("_hu", "_ht")
    own = [name for v in USER_VIEWS[:5] for name in v.feature_names()]
    return wide.select("user_id", "decision_time", "signup_time", *own, *SHARED_KEEP, "home_ip_accounts")


def snapshots(con: Any, times: Sequence[dt.datetime]) -> pd.DataFrame:
    """`snapshot_table` run on the engine behind ``con``, sorted, as pandas (NaN for missing numbers)."""
    frame = snapshot_table(con, times).to_pyarrow().to_pandas()
    frame = frame.sort_values(["decision_time", "user_id"], kind="stable").reset_index(drop=True)
    frame["decision_time"] = pd.to_datetime(frame["decision_time"], utc=True)
    return frame


def world_bounds(con: Any) -> tuple[dt.datetime, dt.datetime]:
    """First and last session time in the lake: the period every analysis works inside."""
    s = con.table("sessions")
    row = s.aggregate(lo=s.event_time.min(), hi=s.event_time.max()).to_pyarrow().to_pylist()[0]
    if row["lo"] is None:
        raise CryptoscopeError("the lake has no sessions: the behaviour analysis works inside the period they "
                               "cover; run `cryptoscope simulate` or `cryptoscope ingest sessions FILE`")
    return pd.Timestamp(row["lo"]).floor("D").to_pydatetime(), pd.Timestamp(row["hi"]).ceil("D").to_pydatetime()


def month_ends(start: dt.datetime, end: dt.datetime, step_days: int = 30) -> list[dt.datetime]:
    """Snapshot times every ``step_days`` after ``start`` (a full month of history each), up to ``end``."""
    out, t = [], start + step_days * DAY
    while t <= end:
        out.append(t)
        t += step_days * DAY
    return out
