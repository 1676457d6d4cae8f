"""Market surveillance in its own process: the same alerts as the detectors in this one, each sent once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cryptoscope.stream.codec import encode
from cryptoscope.stream.surveyor import Surveyor
from cryptoscope.surveillance.links import LINK_SCHEMA
from cryptoscope.surveillance.stream import StreamDetector

T0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def self_trade(i: int, user: int = 7) -> dict[str, Any]:
    """Account ``user`` trading with itself (wash trading from the second such trade)."""
    return {"trade_id": 100 + i, "symbol": "MOONX-USDT", "event_time": T0 + dt.timedelta(minutes=i), "price": 2.0,
            "quantity": 5.0, "amount_usd": 10.0, "buyer_user_id": user, "seller_user_id": user,
            "buy_order_id": 1_000 + 2 * i, "sell_order_id": 1_001 + 2 * i, "aggressor_side": "buy"}


def detector() -> StreamDetector:
    return StreamDetector(LINK_SCHEMA.empty_table())


@pytest.fixture
def surveyor() -> Any:
    s = Surveyor(detector(), set(), every_s=0.05)
    yield s
    s.close()


def test_the_child_finds_what_the_detectors_find_here_and_sends_it_once(surveyor: Surveyor) -> None:
    here = detector()
    for i in range(3):
        surveyor.put("trade", self_trade(i))
        here.on_event("trade", self_trade(i))
    surveyor.drain()
    found = surveyor.take()
    assert found["alert_id"].to_pylist() == here.alerts()["alert_id"].to_pylist()
    assert found["typology"].to_pylist() == ["wash_trading"]
    surveyor.put("trade", self_trade(3))  # the same episode goes on: no second alert
    surveyor.drain()
    assert surveyor.take().num_rows == 0
    state, emitted = surveyor.state()
    assert state.wash.pairs[(7, 7, "MOONX-USDT")]["n"] == 4
    assert emitted == set(found["alert_id"].to_pylist())


def test_events_sent_as_their_messages_give_the_same_alerts(surveyor: Surveyor) -> None:
    """The consumer sends the message bytes (the child decodes them): the same detectors' state as rows."""
    here = detector()
    for i in range(3):
        surveyor.put("trade", encode(self_trade(i)) if i % 2 else self_trade(i))  # either form, in one stream
        here.on_event("trade", self_trade(i))
    surveyor.drain()
    assert surveyor.take()["alert_id"].to_pylist() == here.alerts()["alert_id"].to_pylist() != []
    assert surveyor.state()[0].wash.pairs == here.wash.pairs


def test_alerts_already_out_are_not_sent_again() -> None:
    here = detector()
    for i in range(3):
        here.on_event("trade", self_trade(i))
    out = set(here.alerts()["alert_id"].to_pylist())
    s = Surveyor(detector(), set(out))
    try:
        for i in range(3):
            s.put("trade", self_trade(i))
        s.drain()
        assert s.take().num_rows == 0
    finally:
        s.close()


def test_a_dead_child_is_an_error_not_silence(surveyor: Surveyor) -> None:
    surveyor.put("trade", self_trade(0))
    surveyor.drain()
    surveyor._process.kill()
    surveyor._process.join()
    with pytest.raises(RuntimeError, match="market surveillance stopped"):
        for i in range(1, 2_000):  # the pipe may take a few batches before it reports the closed end
            surveyor.put("trade", self_trade(i))
        surveyor.drain()


def test_the_childs_own_error_reaches_the_consumer(surveyor: Surveyor) -> None:
    surveyor.put("trade", {"symbol": "X"})  # no accounts: the detector fails on it
    with pytest.raises(RuntimeError, match="KeyError"):
        surveyor.drain()
