"""`cryptoscope stream publish`: the lake's events from a date on, onto ``events.<table>`` in event-time order.

The feed a live exchange would send, built from the lake (`cryptoscope.lake.replay`): one message per row
of every table the stream consumers read, an order's cancel as its own message at its cancel time. Without
a rate the publisher keeps a window of unacknowledged publishes in flight (as fast as the broker stores
them); with ``rate`` it paces to that many events per second. Each message's ``Nats-Msg-Id`` is its table
and primary key, so publishing the same days twice within the broker's duplicate window adds nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from cryptoscope.lake import Lake, connect
from cryptoscope.lake.replay import between, cancels, time_ordered
from cryptoscope.stream import subjects
from cryptoscope.stream.codec import encode, schema_of
from cryptoscope.stream.connection import connect as connect_broker
from cryptoscope.surveillance.stream import TABLES as SURVEILLED

Progress = Callable[[int, int], None]
_IN_FLIGHT = 4_000


def published_tables() -> list[str]:
    """Every lake table a stream consumer reads: the served products' feature tables, then the order book."""
    from cryptoscope.serve.bootstrap import replay_tables

    return sorted(set(replay_tables()) | set(SURVEILLED))


@dataclass(frozen=True)
class Published:
    events: int
    seconds: float
    by_table: dict[str, int]


def feed(lake: Lake, since: dt.datetime | None,
         until: dt.datetime | None = None) -> tuple[int, Iterator[tuple[str, dict[str, Any]]]]:
    """(number of events, the events in order) of ``lake`` in ``[since, until)``."""
    con = connect(lake)
    present = set(lake.catalog().tables)
    tables: dict[str, pa.Table] = {}
    for name in published_tables():
        if name not in present:
            continue
        t = con.table(name)
        if name == "orders":  # one read: the orders placed in the window, and those cancelled in it
            if since is not None:
                t = t.filter((t.event_time >= since) | (t.cancel_time >= since))
            o = t.to_pyarrow()
            tables["order_cancels"] = between(cancels(o), since, until)
            tables[name] = between(o, since, until)
        else:
            tables[name] = between((t.filter(t.event_time >= since) if since else t).to_pyarrow(), None, until)
    return sum(t.num_rows for t in tables.values()), time_ordered(tables)


def message_id(table: str, row: dict[str, Any]) -> str:
    return table + ":" + ":".join(str(row[k]) for k in schema_of(table).primary_key)


async def publish(lake: Lake, url: str, *, since: dt.datetime | None = None, until: dt.datetime | None = None,
                  rate: float | None = None, credentials: Path | None = None,
                  progress: Progress | None = None) -> Published:
    """Publish the lake's events (see the module doc); returns how many went out, per table."""
    nc = await connect_broker(url, credentials, name="cryptoscope-publish")  # first: a wrong URL fails at once
    total, events = feed(lake, since, until)
    js = nc.jetstream(publish_async_max_pending=2 * _IN_FLIGHT)
    by_table: dict[str, int] = {}
    start = time.perf_counter()
    try:
        await subjects.ensure_streams(js)
        acks: deque[asyncio.Future[Any]] = deque()
        for n, (table, row) in enumerate(events, start=1):
            acks.append(await js.publish_async(subjects.events(table), encode(row),
                                               headers={subjects.MSG_ID: message_id(table, row)}))
            if len(acks) >= _IN_FLIGHT:
                await acks.popleft()  # raises when the broker refused it
            by_table[table] = by_table.get(table, 0) + 1
            if rate is not None:
                ahead = n / rate - (time.perf_counter() - start)
                if ahead > 0.002:
                    await asyncio.sleep(ahead)
            if progress is not None and n % 5_000 == 0:
                progress(n, total)
        await asyncio.wait_for(asyncio.gather(*acks), timeout=60)
    finally:
        await nc.drain()
    if progress is not None:
        progress(total, total)
    return Published(sum(by_table.values()), time.perf_counter() - start, by_table)
