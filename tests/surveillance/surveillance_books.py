"""Hand-built order books for the detector tests: every order, cancel and trade written out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from cryptoscope.lake import Lake
from cryptoscope.schema import get_table

T0 = dt.datetime(2025, 3, 3, tzinfo=dt.UTC)
MAKER = 900  # a market maker: quotes both sides, cancels within seconds, fills everyone


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


class Book:
    """Orders, trades and login sessions, added one by one with times in seconds after `T0`."""

    def __init__(self) -> None:
        self.orders: list[dict[str, Any]] = []
        self.trades: list[dict[str, Any]] = []
        self.sessions: list[dict[str, Any]] = []
        self.owner: dict[int, int] = {}

    def order(self, user: int, t: float, symbol: str, side: str, price: float, qty: float, *, filled: float = 0.0,
              cancel: float | None = None, market: bool = False) -> int:
        oid = len(self.orders) + 1
        status = "filled" if filled >= qty else "cancelled" if cancel is not None else (
            "partially_filled" if filled else "open")
        self.orders.append({"order_id": oid, "user_id": user, "event_time": at(t), "symbol": symbol, "side": side,
                            "order_type": "market" if market else "limit", "price": price, "quantity": qty,
                            "filled_quantity": filled, "status": status,
                            "cancel_time": None if cancel is None else at(cancel)})
        self.owner[oid] = user
        return oid

    def trade(self, t: float, symbol: str, price: float, qty: float, buy_order: int, sell_order: int,
              aggressor: str) -> int:
        tid = len(self.trades) + 1
        users = self.owner
        self.trades.append({"trade_id": tid, "event_time": at(t), "symbol": symbol, "price": price, "quantity": qty,
                            "amount_usd": price * qty, "buyer_user_id": users[buy_order],
                            "seller_user_id": users[sell_order], "buy_order_id": buy_order,
                            "sell_order_id": sell_order, "aggressor_side": aggressor})
        return tid

    def cross(self, taker: int, maker: int, t: float, symbol: str, side: str, price: float, qty: float,
              delay: float = 1.0) -> int:
        """``maker`` rests an order; ``taker`` hits it ``delay`` seconds later with a market order on ``side``."""
        other = "sell" if side == "buy" else "buy"
        resting = self.order(maker, t, symbol, other, price, qty, filled=qty)
        taking = self.order(taker, t + delay, symbol, side, price, qty, filled=qty, market=True)
        buy, sell = (taking, resting) if side == "buy" else (resting, taking)
        return self.trade(t + delay + 0.05, symbol, price, qty, buy, sell, side)

    def login(self, user: int, t: float, device: str, ip: str) -> None:
        self.sessions.append({"session_id": len(self.sessions) + 1, "user_id": user, "event_time": at(t),
                              "device_id": device, "ip": ip, "ip_country": "DE", "user_agent": "ua",
                              "channel": "web", "success": True, "used_2fa": True})

    def table(self, name: str) -> pa.Table:
        rows = {"orders": self.orders, "trades": self.trades, "sessions": self.sessions}[name]
        schema = get_table(name).arrow_schema
        return pa.Table.from_pylist(rows, schema=schema)

    def lake(self, root: Any) -> Lake:
        lake = Lake(root)
        with lake.transaction() as tx:
            for name in ("orders", "trades", "sessions"):
                if getattr(self, name):
                    tx.append(name, self.table(name))
        return lake


def assert_same_alerts(left: pa.Table, right: pa.Table, what: str) -> None:
    """Same alert ids, accounts, spans and evidence ids; figures equal up to the summation order of floats."""
    import json
    import math

    lrows = {r["alert_id"]: r for r in left.drop(["scored_at"]).to_pylist()}
    rrows = {r["alert_id"]: r for r in right.drop(["scored_at"]).to_pylist()}
    assert sorted(lrows) == sorted(rrows), f"{what}: alerts differ: {sorted(set(lrows) ^ set(rrows))[:5]}"
    for key, lr in lrows.items():
        rr = rrows[key]
        for col, lv in lr.items():
            rv = rr[col]
            if col == "evidence":
                le, re_ = json.loads(lv), json.loads(rv)
                assert le.keys() == re_.keys(), f"{what} {key}: evidence keys"
                for k in le:
                    if isinstance(le[k], float):
                        assert math.isclose(le[k], re_[k], rel_tol=1e-4, abs_tol=1e-6), f"{what} {key}.{k}"
                    else:
                        assert le[k] == re_[k], f"{what} {key}.{k}: {le[k]!r} != {re_[k]!r}"
            elif isinstance(lv, float):
                assert math.isclose(lv, rv, rel_tol=1e-4, abs_tol=1e-6), f"{what} {key}.{col}: {lv} != {rv}"
            else:
                assert lv == rv, f"{what} {key}.{col}: {lv!r} != {rv!r}"
