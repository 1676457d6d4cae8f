"""User–entity links read from the lake: the raw material of the entity graph.

A link says "this user used this entity before the cut-off": a device, an IP within one time
window, a card, a bank or P2P instrument, an external chain address, a KYC document or selfie
image, or a referrer. Two users sharing an entity become neighbours in `cryptoscope.graph.build`.

IPs are keyed by (IP, time window): a dynamic IP re-assigned weeks later is a different entity,
while two accounts behind one IP in the same week are linked.

Every read is an Ibis expression over the lake's canonical tables, so the same links come out of
DuckDB and Spark (`cryptoscope.features.engines.connect`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

#: A lake table by name, over one backend.
Tables = Callable[[str], ir.Table]


def _rows(t: ir.Table, entity: ir.Value, user: str = "user_id") -> ir.Table:
    """(user_id, entity, event_time) of one table: the shape every link kind is read into."""
    return t.select(user_id=t[user].cast("int64"), entity=entity.cast("string"), event_time=t.event_time)


def _device(table: Tables) -> list[ir.Table]:
    s, a, p, c = (table(n) for n in ("sessions", "accounts", "payments", "account_changes"))
    return [_rows(s, s.device_id), _rows(a, a.signup_device_id), _rows(p, p.device_id), _rows(c, c.device_id)]


def _ip(table: Tables) -> list[ir.Table]:
    s, a, p = (table(n) for n in ("sessions", "accounts", "payments"))
    return [_rows(s, s.ip), _rows(a, a.signup_ip), _rows(p, p.ip)]


def _card(table: Tables) -> list[ir.Table]:
    p = table("payments")
    return [_rows(p.filter(p.method == "card"), p.instrument_hash)]


def _bank(table: Tables) -> list[ir.Table]:
    p = table("payments")
    return [_rows(p.filter(p.method != "card"), p.instrument_hash)]


def _address(table: Tables) -> list[ir.Table]:
    c = table("chain_transfers")
    return [_rows(c, c.address)]


def _document(table: Tables) -> list[ir.Table]:
    k = table("kyc_submissions")
    return [_rows(k, k.document_hash), _rows(k, ibis.literal("selfie:") + k.selfie_hash)]


def _referrer(table: Tables) -> list[ir.Table]:
    """The referrer and everyone it referred share the entity "ref:<referrer>"; the referrer from its first referral."""
    a = table("accounts")
    referred = a.filter(a.referrer_user_id.notnull())
    ref = ibis.literal("ref:") + referred.referrer_user_id.cast("string")
    first = (referred.mutate(entity=ref).group_by(["referrer_user_id", "entity"])
             .aggregate(event_time=referred.event_time.min()))
    return [_rows(referred, ref), _rows(first, first.entity, user="referrer_user_id")]


#: Link kinds and the lake rows (user_id, entity, event_time) each is read from.
_LINK_ROWS: dict[str, Callable[[Tables], list[ir.Table]]] = {
    "device": _device, "ip": _ip, "card": _card, "bank": _bank, "address": _address, "document": _document,
    "referrer": _referrer,
}

LINK_KINDS: tuple[str, ...] = tuple(_LINK_ROWS)


def _kind_links(table: Tables, kind: str, cutoff: dt.datetime | None, ip_window_s: int) -> ir.Table:
    parts = _LINK_ROWS[kind](table)
    rows = parts[0].union(*parts[1:], distinct=False) if len(parts) > 1 else parts[0]
    keep = rows.entity.notnull() & rows.user_id.notnull()
    rows = rows.filter(keep if cutoff is None else keep & (rows.event_time < cutoff))
    entity = rows.entity
    if kind == "ip":
        window = rows.event_time.epoch_seconds() // ip_window_s
        entity = entity + "@" + window.cast("string")
    rows = rows.select("user_id", kind=ibis.literal(kind), entity=ibis.literal(f"{kind}:") + entity,
                       event_time=rows.event_time)
    return rows.group_by(["user_id", "kind", "entity"]).aggregate(first_seen=rows.event_time.min(),
                                                                   events=rows.count())


def link_table(backend: Any, cutoff: dt.datetime | None = None, *, ip_window: dt.timedelta = dt.timedelta(days=7),
               kinds: tuple[str, ...] = LINK_KINDS) -> ir.Table:
    """The links as one Ibis expression over ``backend``: columns user_id, kind, entity, first_seen, events.

    For callers that join the links further on the engine (`cryptoscope.surveillance.links`) instead of
    reading them into memory.
    """
    window_s = int(ip_window.total_seconds())
    # each table looked up once: on DuckDB a look-up binds the table's view over all of its files
    table = functools.cache(backend.table)
    tables = [_kind_links(table, k, cutoff, window_s) for k in kinds]
    return tables[0].union(*tables[1:], distinct=False) if len(tables) > 1 else tables[0]


def read_links(backend: Any, cutoff: dt.datetime | None = None, *, ip_window: dt.timedelta = dt.timedelta(days=7),
               kinds: tuple[str, ...] = LINK_KINDS) -> pd.DataFrame:
    """Every (user, entity) pair seen before ``cutoff`` with its first time and number of events.

    ``backend`` is an Ibis backend over the lake (`cryptoscope.lake.connect`, or Spark through
    `cryptoscope.features.engines.connect`). Columns: user_id, kind, entity, first_seen, events.
    """
    return links_frame(link_table(backend, cutoff, ip_window=ip_window, kinds=kinds))


def links_frame(links: ir.Table) -> pd.DataFrame:
    """A link expression computed on its engine, typed and sorted by (kind, entity, user_id) on the driver."""
    frame = links.to_pyarrow().to_pandas()
    frame["user_id"] = frame["user_id"].astype("int64")
    frame["events"] = frame["events"].astype("int64")
    return frame.sort_values(["kind", "entity", "user_id"], kind="stable").reset_index(drop=True)


def shared_links(links: ir.Table) -> ir.Table:
    """The links of entities seen by two or more users: the only ones that tie anyone to anyone."""
    users = links.select("user_id", "entity").distinct()
    shared = users.group_by("entity").aggregate(users=users.user_id.nunique())
    shared = shared.filter(shared.users >= 2).select("entity")
    return links.semi_join(shared, "entity")


def known_bad_users(backend: Any, cutoff: dt.datetime | None = None) -> set[int]:
    """Users with a bad label (label = 1) known before ``cutoff``: seeds for propagation, never the truth."""
    t = backend.table("labels")
    keep = (t.label == 1) & t.user_id.notnull()
    t = t.filter(keep if cutoff is None else keep & (t.event_time < cutoff))
    return {int(u) for u in t.select("user_id").distinct().to_pyarrow()["user_id"].to_pylist()}


def signup_times(backend: Any, cutoff: dt.datetime | None = None) -> pd.Series:
    """Account opening time per user (accounts opened before ``cutoff``)."""
    t = backend.table("accounts")
    t = t if cutoff is None else t.filter(t.event_time < cutoff)
    frame = t.select("user_id", "event_time").to_pyarrow().to_pandas()
    return pd.Series(frame["event_time"].to_numpy(), index=frame["user_id"].astype("int64"), name="signup")
