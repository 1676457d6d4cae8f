"""What the recommender reads from the lake, aggregated to one row per user, item and day.

The items are the lake's ``product_catalog`` (`catalog.read_catalog`). Interactions are product
views, clicks and acts (subscribe / trade) from ``product_events`` plus filled spot orders from
``orders`` (a trade of SOL-USDT is an act on the coin SOL, and its net signed notional says whether
the user holds it). Around them: who the user is (``accounts``: KYC country, segment, sign-up), how
verified (``kyc_submissions``), how risky the exchange found them (``risk_scores`` and ``labels``),
first deposits (``payments``), chain activity (``chain_transfers``) and recent market moves (hourly
prices from ``trades``).

Everything is kept by day (days since 1970-01-01), so any time split is a mask over numpy arrays,
read once per run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake import Lake, connect
from cryptoscope.reco.catalog import Catalog, read_catalog

DAY_S = 86_400


MICROS = 1_000_000


def _day(time: ir.TimestampValue) -> ir.IntegerValue:
    """Days since 1970-01-01 (UTC) of a timestamp."""
    return (time.epoch_seconds() / DAY_S).floor().cast("int32")


@dataclass
class LakeData:
    catalog: Catalog
    users: pd.DataFrame  # user_id, country, segment, signup_day; row position = user index everywhere
    events: pd.DataFrame  # user, item, day, views, clicks, acts, net_usd (orders: signed notional)
    kyc: pd.DataFrame  # user, day, level (approved submissions)
    flags: pd.DataFrame  # user, day: a block decision, a score >= 0.5 or a bad label known that day
    deposits: pd.DataFrame  # user, day, amount_usd (completed fiat and chain deposits)
    chain: pd.DataFrame  # user, day, transfers
    prices: pd.DataFrame  # coin, day, price (last trade of the day)
    end_day: int  # first day after the data


def _micros(usd: ir.NumericValue) -> ir.IntegerValue:
    """Dollars as whole micro-dollars: integer sums are the same in any order, so every engine and every
    partitioning gives the fit the same bits (float sums differed in the last bit between a Spark cluster
    and DuckDB, enough to flip a near tie in one user's list of 200,000)."""
    return (usd * MICROS).round().cast("int64")


def _df(expr: ir.Table) -> pd.DataFrame:
    frame: pd.DataFrame = expr.to_pandas()
    return frame


def _rows(users: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Replace user_id by the row index of the user (rows of unknown users are dropped)."""
    ids = users["user_id"].to_numpy()
    pos = np.searchsorted(ids, frame["user_id"].to_numpy())
    pos = np.minimum(pos, len(ids) - 1)
    keep = ids[pos] == frame["user_id"].to_numpy() if len(ids) else np.zeros(len(frame), dtype=bool)
    out = frame.loc[keep].drop(columns="user_id")
    out.insert(0, "user", pos[keep].astype(np.int64))
    return out.reset_index(drop=True)


def _events(con: Any, catalog: Catalog, users: pd.DataFrame) -> pd.DataFrame:
    """Views, clicks and acts on each product per user and day, and filled spot orders as acts on their coin."""
    items = ibis.memtable(pd.DataFrame({"product_id": catalog.item_id.astype(str), "item": np.arange(catalog.n)}))
    pe = con.table("product_events")
    pe = pe.join(items, "product_id")
    seen = pe.group_by(user_id=pe.user_id, item=pe.item, day=_day(pe.event_time)).aggregate(
        views=(pe.action == "view").sum().cast("int64"), clicks=(pe.action == "click").sum().cast("int64"),
        acts=pe.action.isin(("subscribe", "trade")).sum().cast("int64"), net_usd=ibis.literal(0, "int64"))
    o = con.table("orders")
    o = o.filter(o.filled_quantity > 0).mutate(product_id=o.symbol.split("-")[0])
    o = o.join(items, "product_id")
    signed = ibis.ifelse(o.side == "buy", 1, -1) * o.filled_quantity * o.price
    traded = o.group_by(user_id=o.user_id, item=o.item, day=_day(o.event_time)).aggregate(
        views=ibis.literal(0, "int64"), clicks=ibis.literal(0, "int64"), acts=o.count(), net_usd=_micros(signed).sum())
    both = seen.union(traded, distinct=False)
    frame = _df(both.group_by("user_id", "item", "day").aggregate(
        views=both.views.sum(), clicks=both.clicks.sum(), acts=both.acts.sum(), net_usd=both.net_usd.sum())
        .order_by("user_id", "item", "day"))
    frame["net_usd"] = frame["net_usd"] / MICROS
    return _rows(users, frame).astype({"item": np.int64, "day": np.int64, "views": np.int64, "clicks": np.int64,
                                       "acts": np.int64, "net_usd": np.float64})


def _deposits(con: Any) -> ir.Table:
    """Completed fiat and chain deposits per user and day."""
    p, c = con.table("payments"), con.table("chain_transfers")
    rows = p.filter(p.direction == "deposit", p.status == "completed").select("user_id", "event_time", "amount_usd")
    rows = rows.union(c.filter(c.direction == "deposit", c.status == "completed")
                      .select("user_id", "event_time", "amount_usd"), distinct=False)
    daily = rows.group_by(user_id=rows.user_id, day=_day(rows.event_time)).aggregate(
        amount_usd=_micros(rows.amount_usd).sum())
    return daily.mutate(amount_usd=daily.amount_usd.cast("float64") / MICROS).order_by("user_id", "day")


def _flags(con: Any) -> ir.Table:
    """Days a user was blocked or scored 0.5 or more by a risk model, or labelled bad."""
    r, lab = con.table("risk_scores"), con.table("labels")
    scored = r.filter((r.decision == "block") | (r.score >= 0.5)).select(user_id=r.user_id, day=_day(r.event_time))
    both = scored.union(lab.filter(lab.label == 1).select(user_id=lab.user_id, day=_day(lab.event_time)),
                        distinct=False)
    return both.order_by("user_id", "day")


def load(lake: str | os.PathLike[str] | Lake, catalog: Catalog | None = None, *, backend: Any = None) -> LakeData:
    """Read and aggregate everything once; raises when the lake has no catalogue, accounts or product events.

    ``backend`` is the Ibis backend the reads go through (the run's engine, DuckDB or Spark); by default
    DuckDB over ``lake``. The aggregates come back sorted, so both engines hand the fit the same frames."""
    con = backend if backend is not None else connect(lake)
    catalog = catalog or read_catalog(con)
    a = con.table("accounts")
    users = _df(a.select("user_id", "country", "segment", signup_day=_day(a.event_time)).order_by("user_id"))
    if users.empty:
        raise CryptoscopeError(f"lake {lake}: the accounts table is empty; run `cryptoscope simulate` or import")
    events = _events(con, catalog, users)
    if events.empty:
        raise CryptoscopeError(f"lake {lake}: no product_events or orders to learn from")
    k = con.table("kyc_submissions")
    k = k.filter(k.decision == "approved", k.decision_time.notnull())
    kyc = _rows(users, _df(k.select("user_id", day=_day(k.decision_time), level=k.level)
                           .order_by("user_id", "day", "level")))
    c, t = con.table("chain_transfers"), con.table("trades")
    chain = _rows(users, _df(c.group_by(user_id=c.user_id, day=_day(c.event_time)).aggregate(transfers=c.count())
                             .order_by("user_id", "day")))
    prices = _df(t.group_by(coin=t.symbol.split("-")[0], day=_day(t.event_time))
                 .aggregate(price=t.price.argmax(t.event_time)).order_by("coin", "day"))
    end_day = int(events["day"].max()) + 1
    return LakeData(catalog, users, events, kyc, _rows(users, _df(_flags(con))), _rows(users, _df(_deposits(con))),
                    chain, prices, end_day)
