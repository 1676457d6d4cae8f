"""User–entity links read from the lake: the raw material of the entity graph.

A link says "this user used this entity before the cut-off": a device, an IP within one time
window, a card, a bank or P2P instrument, an external chain address, a KYC document or selfie
image, or a referrer. Two users sharing an entity become neighbours in `cryptoscope.graph.build`.

IPs are keyed by (IP, time window): a dynamic IP re-assigned weeks later is a different entity,
while two accounts behind one IP in the same week are linked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

#: Link kinds and the SQL (over the lake's canonical views) that yields (user_id, entity, event_time).
#: ``{ip_window}`` is the IP window in seconds; ``{cutoff}`` filters to events strictly before the cut-off.
_LINK_SQL: dict[str, tuple[str, ...]] = {
    "device": (
        "SELECT user_id, device_id AS entity, event_time FROM sessions",
        "SELECT user_id, signup_device_id AS entity, event_time FROM accounts",
        "SELECT user_id, device_id AS entity, event_time FROM payments",
        "SELECT user_id, device_id AS entity, event_time FROM account_changes",
    ),
    "ip": (
        "SELECT user_id, ip AS entity, event_time FROM sessions",
        "SELECT user_id, signup_ip AS entity, event_time FROM accounts",
        "SELECT user_id, ip AS entity, event_time FROM payments",
    ),
    "card": ("SELECT user_id, instrument_hash AS entity, event_time FROM payments WHERE method = 'card'",),
    "bank": ("SELECT user_id, instrument_hash AS entity, event_time FROM payments WHERE method <> 'card'",),
    "address": ("SELECT user_id, address AS entity, event_time FROM chain_transfers",),
    "document": (
        "SELECT user_id, document_hash AS entity, event_time FROM kyc_submissions",
        "SELECT user_id, 'selfie:' || selfie_hash AS entity, event_time FROM kyc_submissions",
    ),
    "referrer": (
        # the referrer and everyone it referred share the entity "ref:<referrer>"
        "SELECT user_id, 'ref:' || CAST(referrer_user_id AS VARCHAR) AS entity, event_time FROM accounts "
        "WHERE referrer_user_id IS NOT NULL",
        "SELECT referrer_user_id AS user_id, 'ref:' || CAST(referrer_user_id AS VARCHAR) AS entity, "
        "min(event_time) AS event_time FROM accounts WHERE referrer_user_id IS NOT NULL GROUP BY referrer_user_id",
    ),
}

LINK_KINDS: tuple[str, ...] = tuple(_LINK_SQL)


def _kind_sql(kind: str, cutoff: dt.datetime | None, ip_window_s: int) -> str:
    parts = " UNION ALL ".join(f"({q})" for q in _LINK_SQL[kind])
    where = "entity IS NOT NULL AND user_id IS NOT NULL"
    if cutoff is not None:
        where += f" AND event_time < TIMESTAMPTZ '{cutoff.isoformat()}'"
    entity = "entity"
    if kind == "ip":
        entity = f"entity || '@' || CAST(floor(epoch(event_time) / {int(ip_window_s)}) AS BIGINT)"
    return (f"SELECT CAST(user_id AS BIGINT) AS user_id, '{kind}' AS kind, '{kind}:' || {entity} AS entity, "
            f"min(event_time) AS first_seen, count(*) AS events FROM ({parts}) WHERE {where} "
            f"GROUP BY ALL")


def read_links(con: Any, cutoff: dt.datetime | None = None, *, ip_window: dt.timedelta = dt.timedelta(days=7),
               kinds: tuple[str, ...] = LINK_KINDS) -> pd.DataFrame:
    """Every (user, entity) pair seen before ``cutoff`` with its first time and number of events.

    ``con`` is a DuckDB connection over the lake (``cryptoscope.lake.connect(lake).con``).
    Columns: user_id, kind, entity, first_seen, events.
    """
    window_s = int(ip_window.total_seconds())
    sql = " UNION ALL ".join(f"({_kind_sql(k, cutoff, window_s)})" for k in kinds)
    frame: pd.DataFrame = con.sql(sql).df()
    frame["user_id"] = frame["user_id"].astype("int64")
    frame["events"] = frame["events"].astype("int64")
    return frame.sort_values(["kind", "entity", "user_id"], kind="stable").reset_index(drop=True)


def known_bad_users(con: Any, cutoff: dt.datetime | None = None) -> set[int]:
    """Users with a bad label (label = 1) known before ``cutoff``: seeds for propagation, never the truth."""
    where = "label = 1 AND user_id IS NOT NULL"
    if cutoff is not None:
        where += f" AND event_time < TIMESTAMPTZ '{cutoff.isoformat()}'"
    rows = con.sql(f"SELECT DISTINCT user_id FROM labels WHERE {where}").fetchall()
    return {int(r[0]) for r in rows}


def signup_times(con: Any, cutoff: dt.datetime | None = None) -> pd.Series:
    """Account opening time per user (accounts opened before ``cutoff``)."""
    where = "" if cutoff is None else f" WHERE event_time < TIMESTAMPTZ '{cutoff.isoformat()}'"
    frame = con.sql(f"SELECT user_id, event_time FROM accounts{where}").df()
    return pd.Series(frame["event_time"].to_numpy(), index=frame["user_id"].astype("int64"), name="signup")
