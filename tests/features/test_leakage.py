"""No leakage: a feature at decision time d never depends on events at or after d.

Hypothesis draws event histories for a few users and a decision point, then changes, removes
and adds events at or after the decision time; every feature of every user-keyed view it can
feed must stay exactly the same.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import ibis
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cryptoscope.features.offline import view_features
from cryptoscope.features.views import USER_CHAIN, USER_LOGINS, USER_PAYMENTS
from cryptoscope.schema import get_table

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
VIEWS = (USER_PAYMENTS, USER_LOGINS, USER_CHAIN)

offsets = st.integers(min_value=-40 * 86_400, max_value=5 * 86_400)  # seconds around the decision time


def payment(user: int, offset: int, amount: float, declined: bool, card: int) -> dict[str, Any]:
    return {"payment_id": 0, "user_id": user, "event_time": T0 + dt.timedelta(seconds=offset),
            "direction": "deposit", "method": "card", "instrument_hash": f"card{card}", "instrument_country": "DE",
            "currency": "EUR", "amount": amount, "amount_usd": amount,
            "status": "declined" if declined else "completed", "decline_reason": None, "device_id": "d",
            "ip": "1.1.1.1", "merchant_id": None}


def session(user: int, offset: int, device: int, ok: bool) -> dict[str, Any]:
    return {"session_id": 0, "user_id": user, "event_time": T0 + dt.timedelta(seconds=offset),
            "device_id": f"dev{device}", "ip": f"10.0.0.{device}", "ip_country": "FR" if device % 2 else "DE",
            "user_agent": "ua", "channel": "web", "success": ok, "used_2fa": device % 3 == 0}


def transfer(user: int, offset: int, amount: float, deposit: bool, address: int) -> dict[str, Any]:
    return {"transfer_id": 0, "user_id": user, "event_time": T0 + dt.timedelta(seconds=offset),
            "direction": "deposit" if deposit else "withdrawal", "chain": "ethereum", "asset": "ETH",
            "address": f"0x{address}", "exchange_address": "0xex", "tx_hash": "0x", "amount": amount,
            "amount_usd": amount, "fee": 0.0, "status": "completed"}


users = st.integers(1, 3)
amounts = st.floats(1, 10_000, allow_nan=False)
payments = st.lists(st.builds(payment, users, offsets, amounts, st.booleans(), st.integers(0, 4)), max_size=25)
sessions = st.lists(st.builds(session, users, offsets, st.integers(0, 5), st.booleans()), max_size=25)
transfers = st.lists(st.builds(transfer, users, offsets, amounts, st.booleans(), st.integers(0, 4)), max_size=25)


def features(tables: dict[str, list[dict[str, Any]]], user: int) -> list[dict[str, Any]]:
    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    for name, rows in tables.items():
        schema = get_table(name).arrow_schema
        con.create_table(name, pa.Table.from_pylist(rows, schema=schema) if rows else schema.empty_table())
    points = ibis.memtable(pa.table({"user_id": [user], "decision_time": pa.array([T0], pa.timestamp("us", "UTC"))}))
    return [view_features(con, v, points).to_pyarrow().to_pylist()[0] for v in VIEWS]


def altered(value: Any) -> Any:
    return value + "-changed" if isinstance(value, str) else value * 7 + 1


def future_changed(rows: list[dict[str, Any]], extra: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Past rows as they were; rows at or after T0 altered or dropped; new rows added at or after T0."""
    out = []
    for i, r in enumerate(rows):
        if r["event_time"] < T0:
            out.append(r)
        elif i % 3:
            out.append({**r, key: altered(r[key])})
    return out + [{**e, "event_time": T0 + abs(e["event_time"] - T0)} for e in extra]


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return bool(a == b)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payments, sessions, transfers, payments, sessions, transfers, users)
def test_events_at_or_after_the_decision_never_change_a_feature(
        pay: list[dict[str, Any]], ses: list[dict[str, Any]], tra: list[dict[str, Any]], pay_x: list[dict[str, Any]],
        ses_x: list[dict[str, Any]], tra_x: list[dict[str, Any]], user: int) -> None:
    before = features({"payments": pay, "sessions": ses, "chain_transfers": tra}, user)
    after = features({"payments": future_changed(pay, pay_x, "amount_usd"),
                      "sessions": future_changed(ses, ses_x, "device_id"),
                      "chain_transfers": future_changed(tra, tra_x, "amount_usd")}, user)
    for view, b, a in zip(VIEWS, before, after, strict=True):
        changed = [k for k in b if not same(b[k], a[k])]
        assert not changed, f"{view.name}: {changed} changed by events at or after the decision time"


def test_an_event_just_before_the_decision_does_count() -> None:
    """The other half of the contract: the window is [d - w, d), so a past event one second ago is in."""
    row = payment(1, -1, 100.0, False, 0)
    (pay, *_rest) = features({"payments": [row], "sessions": [], "chain_transfers": []}, 1)
    assert pay["payments_1h"] == 1 and pay["deposit_usd_1h"] == 100.0
    (pay, *_rest) = features({"payments": [payment(1, 0, 100.0, False, 0)], "sessions": [], "chain_transfers": []}, 1)
    assert pay["payments_1h"] == 0 and pay["deposit_usd_1h"] == 0
