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

import numpy as np
import pandas as pd

from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake import Lake, connect
from cryptoscope.reco.catalog import Catalog, read_catalog

_DAY = "CAST(floor(epoch(event_time) / 86400) AS INTEGER)"


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


def _df(con: Any, sql: str) -> pd.DataFrame:
    frame: pd.DataFrame = con.sql(sql).df()
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
    items = pd.DataFrame({"product_id": catalog.item_id.astype(str), "item": np.arange(catalog.n)})
    con.register("_reco_items", items)
    frame = _df(con, f"""
        SELECT user_id, item, day, sum(views) AS views, sum(clicks) AS clicks, sum(acts) AS acts,
               sum(net_usd) AS net_usd FROM (
            SELECT user_id, item, {_DAY} AS day, count(*) FILTER (WHERE action = 'view') AS views,
                   count(*) FILTER (WHERE action = 'click') AS clicks,
                   count(*) FILTER (WHERE action IN ('subscribe', 'trade')) AS acts, 0.0 AS net_usd
            FROM product_events JOIN _reco_items USING (product_id) GROUP BY ALL
            UNION ALL
            SELECT user_id, item, {_DAY} AS day, 0 AS views, 0 AS clicks, count(*) AS acts,
                   sum(CASE WHEN side = 'buy' THEN 1 ELSE -1 END * filled_quantity * price) AS net_usd
            FROM orders JOIN _reco_items ON split_part(symbol, '-', 1) = product_id
            WHERE filled_quantity > 0 GROUP BY ALL)
        GROUP BY ALL ORDER BY user_id, item, day""")
    return _rows(users, frame).astype({"item": np.int64, "day": np.int64, "views": np.int64, "clicks": np.int64,
                                       "acts": np.int64, "net_usd": np.float64})


def load(lake: str | os.PathLike[str] | Lake, catalog: Catalog | None = None) -> LakeData:
    """Read and aggregate everything once; raises when the lake has no catalogue, accounts or product events."""
    backend = connect(lake)
    catalog = catalog or read_catalog(backend)
    con = backend.con
    users = _df(con, f"SELECT user_id, country, segment, {_DAY} AS signup_day FROM accounts ORDER BY user_id")
    if users.empty:
        raise CryptoscopeError(f"lake {lake}: the accounts table is empty; run `cryptoscope simulate` or import")
    events = _events(con, catalog, users)
    if events.empty:
        raise CryptoscopeError(f"lake {lake}: no product_events or orders to learn from")
    kyc = _rows(users, _df(con, """SELECT user_id, CAST(floor(epoch(decision_time) / 86400) AS INTEGER) AS day, level
        FROM kyc_submissions WHERE decision = 'approved' AND decision_time IS NOT NULL"""))
    flags = _rows(users, _df(con, f"""
        SELECT user_id, {_DAY} AS day FROM risk_scores WHERE decision = 'block' OR score >= 0.5
        UNION ALL SELECT user_id, {_DAY} AS day FROM labels WHERE label = 1"""))
    deposits = _rows(users, _df(con, f"""
        SELECT user_id, {_DAY} AS day, sum(amount_usd) AS amount_usd FROM (
            SELECT user_id, event_time, amount_usd FROM payments WHERE direction = 'deposit' AND status = 'completed'
            UNION ALL SELECT user_id, event_time, amount_usd FROM chain_transfers
            WHERE direction = 'deposit' AND status = 'completed') GROUP BY ALL"""))
    chain = _rows(users, _df(con, f"SELECT user_id, {_DAY} AS day, count(*) AS transfers FROM chain_transfers "
                                  "GROUP BY ALL"))
    prices = _df(con, f"""SELECT split_part(symbol, '-', 1) AS coin, {_DAY} AS day, arg_max(price, event_time) AS price
        FROM trades GROUP BY ALL ORDER BY coin, day""")
    end_day = int(events["day"].max()) + 1
    return LakeData(catalog, users, events, kyc, flags, deposits, chain, prices, end_day)
