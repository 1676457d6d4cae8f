"""The lake's events as one feed in event-time order, the way a live system would have seen them.

Warming the online state (``serve/bootstrap.py``) and publishing the lake to an event stream
(``stream/publish.py``) both need it, and must agree on the order: by event time, then by the table's
``rank`` at one instant (an order is placed before it trades, and trades before it is cancelled: the
order the surveillance detectors assume), then by table name, then by the table's primary key.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cryptoscope.schema import TABLES

#: tables that go after the others at one instant (order placements are rank 0)
RANK = {"trades": 1, "order_cancels": 2}
_CHUNK = 50_000


def _sorted(name: str, table: pa.Table, time_column: str) -> Iterator[tuple[int, int, str, int, dict[str, Any]]]:
    times = pc.cast(table[time_column], pa.int64())
    keys = list(TABLES[name].primary_key) if name in TABLES else []
    order = pc.sort_indices(pa.table({"t": times, **{k: table[k] for k in keys}}),
                            [("t", "ascending")] + [(k, "ascending") for k in keys]).to_numpy()
    rank = RANK.get(name, 0)
    numbers = times.to_numpy()
    for start in range(0, len(order), _CHUNK):
        chunk = order[start:start + _CHUNK]
        for i, row in zip(chunk.tolist(), table.take(chunk).to_pylist(), strict=True):
            yield int(numbers[i]), rank, name, i, row


def time_ordered(tables: Mapping[str, pa.Table],
                 time_column: str = "event_time") -> Iterator[tuple[str, dict[str, Any]]]:
    """(table name, row) of every row of ``tables``, merged in the order the module doc gives; rows are
    converted a chunk at a time, so memory follows the tables, not their Python rows."""
    streams = [_sorted(name, t, time_column) for name, t in tables.items()]
    for _, _, name, _, row in heapq.merge(*streams, key=lambda x: x[:4]):
        yield name, row


def cancels(orders: pa.Table) -> pa.Table:
    """The cancel events of ``orders``: one row per cancelled order, at its ``cancel_time``."""
    done = orders.filter(pc.is_valid(orders["cancel_time"]))
    return pa.table({"order_id": done["order_id"], "user_id": done["user_id"], "symbol": done["symbol"],
                     "status": done["status"], "event_time": done["cancel_time"], "cancel_time": done["cancel_time"]})


def between(table: pa.Table, since: dt.datetime | None, until: dt.datetime | None) -> pa.Table:
    """The rows of ``table`` whose event time is in ``[since, until)`` (either end open when None)."""
    kind = table.schema.field("event_time").type
    if since is not None:
        table = table.filter(pc.greater_equal(table["event_time"], pa.scalar(since, kind)))
    if until is not None:
        table = table.filter(pc.less(table["event_time"], pa.scalar(until, kind)))
    return table


def before(table: pa.Table, until: dt.datetime | None) -> pa.Table:
    return between(table, None, until)
