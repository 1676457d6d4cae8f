"""Market surveillance beside the scoring: the detectors on a thread of their own, so a decision never waits
for an alert computation.

Asking the detectors for every alert walks their whole state (half a second on the serving world), which
on the consumer's event loop held every decision behind it, and on this thread still took a quarter of the
interpreter; `StreamDetector.new_alerts` looks only at what changed. Here the orders, trades and cancels go to a
thread through a queue, in stream order; the thread applies them and, at most every ``every_s`` seconds
when something arrived, turns the state into alerts, keeping those not out yet in an outbox the consumer
empties at each commit. Alerts are a function of the detectors' state, keyed by content: one that a crash
kept from the lake is found again when the restarted consumer replays the same events, so they need not be
committed with the stream position. `drain` waits until every event put so far is applied and its alerts
are in the outbox: a snapshot or the consumer's last commit calls it first.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from typing import Any

import pyarrow as pa

from cryptoscope.schema import get_table
from cryptoscope.surveillance.alerts import TABLE as ALERTS
from cryptoscope.surveillance.stream import StreamDetector

_STOP = object()


class Surveyor:
    """The detectors and the ids of the alerts already out, on a thread; see the module doc."""

    def __init__(self, detector: StreamDetector, emitted: set[str], every_s: float = 2.0) -> None:
        self.detector, self.emitted, self.every_s = detector, emitted, every_s
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._outbox: list[pa.Table] = []
        self._lock = threading.Lock()
        self._dirty = False
        self._last = time.monotonic()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="surveillance", daemon=True)
        self._thread.start()

    def put(self, kind: str, row: dict[str, Any]) -> None:
        self._raise()
        self._queue.put((kind, row))

    def drain(self) -> None:
        """Return once every event put so far is applied and its alerts are in the outbox."""
        done = threading.Event()
        self._queue.put(done)
        while not done.wait(0.5):
            self._raise()
        self._raise()

    def take(self) -> pa.Table:
        """The alerts found since the last call (none when nothing is found yet)."""
        self._raise()
        with self._lock:
            found, self._outbox = self._outbox, []
        return pa.concat_tables(found) if found else get_table(ALERTS).empty()

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=60)

    def _raise(self) -> None:
        if self._error is not None:
            raise RuntimeError("market surveillance stopped") from self._error

    def _loop(self) -> None:
        try:
            while True:
                try:
                    item = self._queue.get(timeout=self.every_s)
                except queue.Empty:
                    item = None
                if item is _STOP:
                    return
                if isinstance(item, threading.Event):
                    self._alerts()
                    item.set()
                    continue
                if item is not None:
                    self.detector.on_event(*item)
                    self._dirty = True
                if self._dirty and time.monotonic() - self._last >= self.every_s:
                    self._alerts()
        except BaseException as exc:  # surfaced on the consumer's next call
            self._error = exc

    def _alerts(self) -> None:
        self._last = time.monotonic()
        if not self._dirty:
            return
        self._dirty = False
        table = self.detector.new_alerts(self.emitted, dt.datetime.now(dt.UTC))
        self.emitted.update(table["alert_id"].to_pylist())
        if table.num_rows:
            with self._lock:
                self._outbox.append(table)
