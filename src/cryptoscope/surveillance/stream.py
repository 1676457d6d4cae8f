"""The streaming pass: the same rules as `batch`, applied event by event to an order stream.

Events are order placements, cancels and trades in time order (`events` builds the stream from
the lake's tables; a live feed would hand them over one by one). Each event updates small per-key
states; a pump burst is flagged at the very trade that crosses the thresholds, and the wash and
spoofing states know the moment their rules are first met. `StreamDetector.alerts` turns the state
into the same raw rows as the batch expressions, so both paths give the same alerts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa

from cryptoscope.surveillance import alerts
from cryptoscope.surveillance.params import DEFAULT, Params
from cryptoscope.surveillance.stream_state import PumpState, SpoofState, WashState

US = 1_000_000
#: the lake tables the detectors read, and the kind of event each stream table is
TABLES = ("orders", "trades")
KIND = {"orders": "order", "trades": "trade", "order_cancels": "cancel"}


def _us(t: dt.datetime) -> int:
    return int(t.timestamp()) * US + t.microsecond


def events(orders: pa.Table, trades: pa.Table) -> Iterator[tuple[str, dict[str, Any]]]:
    """(kind, row) in time order; at one instant: placements, then trades, then cancels."""
    rows: list[tuple[int, int, int, str, dict[str, Any]]] = []
    for r in orders.to_pylist():
        rows.append((_us(r["event_time"]), 0, r["order_id"], "order", r))
        if r["cancel_time"] is not None:
            rows.append((_us(r["cancel_time"]), 2, r["order_id"], "cancel", r))
    for r in trades.to_pylist():
        rows.append((_us(r["event_time"]), 1, r["trade_id"], "trade", r))
    rows.sort(key=lambda x: x[:3])
    for _, _, _, kind, row in rows:
        yield kind, row


class StreamDetector:
    """Per-event surveillance state; ``links`` is the linked-pair table of `links.linked_pairs`."""

    def __init__(self, links: pa.Table, p: Params = DEFAULT) -> None:
        self.p = p
        self.wash = WashState({}, p)
        self.use_links(links)
        self.spoof = SpoofState(p)
        self.pump = PumpState(p)
        self.user_trades: defaultdict[int, int] = defaultdict(int)
        self.first_alert: dict[tuple[str, str], dt.datetime] = {}
        self.recent: deque[tuple[str, dt.datetime]] = deque(maxlen=1000)

    def use_links(self, links: pa.Table) -> None:
        """Weigh wash trades against these linked pairs (`links.linked_pairs`), e.g. as the lake knows them now."""
        self.wash.links = {(r["u1"], r["u2"]): r["link_kinds"] for r in links.to_pylist()}
        self._all_pairs = True  # a pair may meet the rule now that it is linked: `new_alerts` looks at every one

    def on_event(self, kind: str, row: dict[str, Any]) -> None:
        if kind == "order":
            self.spoof.on_order(row)
        elif kind == "cancel":
            self.spoof.on_cancel(row)
        else:
            self.user_trades[row["buyer_user_id"]] += 1
            self.user_trades[row["seller_user_id"]] += 1
            self.wash.on_trade(row)
            self.spoof.on_trade(row)
            flagged = self.pump.on_trade(row)
            if flagged is not None:
                self.recent.append((flagged, row["event_time"]))

    def run(self, stream: Iterable[tuple[str, dict[str, Any]]]) -> StreamDetector:
        for kind, row in stream:
            self.on_event(kind, row)
        return self

    def alerts(self, scored_at: dt.datetime | None = None) -> pa.Table:
        """The alerts the state holds now, as canonical rows (what the batch gives on the same events)."""
        rows = alerts.wash_rows(self.wash.raw(self.user_trades))
        rows += alerts.spoofing_rows(self.spoof.raw())
        rows += alerts.pump_rows(self.pump.raw())
        return alerts.to_table(rows, scored_at or dt.datetime.now(dt.UTC))

    def new_alerts(self, emitted: set[str], scored_at: dt.datetime | None = None) -> pa.Table:
        """`alerts` but those whose id is in ``emitted``, at the cost of what changed since the last call, not of
        the whole state (the stream asks every few seconds): wash pairs traded since then (or all of them after
        `use_links`), spoofing groups worded only when new."""
        touched = self.wash.take_touched()
        pairs, self._all_pairs = None if self._all_pairs else touched, False
        rows = alerts.wash_rows(self.wash.raw(self.user_trades, pairs))
        rows += alerts.spoofing_rows(self.spoof.raw(emitted))
        rows += alerts.pump_rows(self.pump.raw())
        return alerts.to_table([r for r in rows if r["alert_id"] not in emitted], scored_at or dt.datetime.now(dt.UTC))

    def burst_flags(self) -> list[tuple[str, int, dt.datetime]]:
        """(symbol, burst bucket start in epoch seconds, time of the trade that flagged it) per burst."""
        return self.pump.flags()
