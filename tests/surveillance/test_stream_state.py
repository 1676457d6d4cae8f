"""The streaming states' caches hold exactly what they stand for (the parity with batch is in
``test_surveillance_stream.py``)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from cryptoscope.surveillance.params import Params
from cryptoscope.surveillance.stream_state import PumpState

T0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def trade(i: int, minute: float, price: float, side: str = "buy") -> dict[str, Any]:
    return {"trade_id": i, "symbol": "MOONX-USDT", "event_time": T0 + dt.timedelta(minutes=minute), "price": price,
            "quantity": 10.0, "amount_usd": 10.0 * price, "buyer_user_id": 1 + i % 3, "seller_user_id": 7,
            "buy_order_id": 2 * i, "sell_order_id": 2 * i + 1, "aggressor_side": side}


def bucket(r: dict[str, Any]) -> tuple[str, int]:
    return r["symbol"], int(r["event_time"].timestamp()) // Params().pump_bucket_s


def test_a_late_trade_into_a_closed_bucket_counts_in_later_baselines() -> None:
    """Each closed 15-minute bucket's record is made once, when a later bucket first needs it; a trade that
    arrives late into that bucket must not leave the record stale (the same sums as with no records at all)."""
    on_time = [trade(i, 15 * i + 1, 2.0 + 0.01 * i) for i in range(6)]
    late = trade(90, 15 * 2 + 7, 2.5, side="sell")  # into bucket 2, which bucket 3 closed
    last = trade(91, 15 * 6 + 1, 2.1)  # a new bucket: its baseline reads bucket 2
    cached, fresh = PumpState(Params()), PumpState(Params())
    for state in (cached, fresh):
        for r in on_time:
            state.on_trade(dict(r))
    symbol, b2 = bucket(on_time[2])
    assert b2 in cached.records[symbol]  # made when bucket 3 opened
    for state in (cached, fresh):
        state.on_trade(dict(late))
    fresh.records.clear()  # every record made again from the buckets
    for state in (cached, fresh):
        state.on_trade(dict(last))
    assert cached.base[bucket(last)] == fresh.base[bucket(last)]
    assert cached.clipped[bucket(last)] == fresh.clipped[bucket(last)]
    assert cached.base[bucket(last)][1] == 7  # trades in the day before: six on time and the late one


def test_the_moving_window_sums_what_a_fresh_one_sums() -> None:
    """A symbol's trailing day is kept as columns that move on as buckets open; through quiet spells, gaps of
    days, late trades into closed buckets and buckets opened late, every baseline must be the one rebuilt from
    scratch, to the bit."""
    rng = random.Random(5)
    minute, trades = 0.0, []
    for i in range(3_000):
        minute += rng.choice([0.5, 3, 14, 40, 200]) if rng.random() > 0.002 else 2 * 24 * 60  # a two-day gap
        at = minute - rng.uniform(20, 300) if rng.random() < 0.03 else minute  # a late trade, now and then
        trades.append(trade(i, at, rng.lognormvariate(1.0, 0.05) * (3 if rng.random() < 0.01 else 1),
                            side=rng.choice(["buy", "sell"])))
    moving, fresh = PumpState(Params()), PumpState(Params())
    for r in trades:
        moving.on_trade(dict(r))
        fresh.windows.clear()
        fresh.records.clear()
        fresh.on_trade(dict(r))
    assert len(moving.base) > 1_000
    assert moving.base == fresh.base
    assert moving.clipped == fresh.clipped
