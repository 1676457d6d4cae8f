"""Market surveillance beside the scoring: the detectors in a process of their own, so a decision never waits
for an alert computation and the detectors never hold the consumer's interpreter.

The detectors are pure-Python state updated on every order, trade and cancel; on a thread of the consumer they
took a third of its interpreter time (the consumer drained 7,300 events/s with them and 10,500 without,
``docs/stream.md``). Here they run in a child process: the consumer sends the events in batches, in stream
order, over a pipe; the child applies them and, at most every ``every_s`` seconds when something arrived,
asks the detectors for the alerts not out yet (`StreamDetector.new_alerts`) and sends them back; the consumer
collects them at each commit (`take`). Alerts are a function of the detectors' state, keyed by content: one
that a crash kept from the lake is found again when the restarted consumer replays the same events, so they
need not be committed with the stream position. `drain` returns once every event sent so far is applied and
its alerts are collected: a snapshot or the consumer's last commit calls it first; `state` brings the
detectors and the ids of the alerts out back for the snapshot. When the consumer dies (even by SIGKILL) its
end of the pipe closes and the child exits.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing as mp
import time
import traceback
from collections.abc import Mapping
from multiprocessing.connection import Connection
from typing import Any

import pyarrow as pa

from cryptoscope.schema import get_table
from cryptoscope.stream.codec import decode
from cryptoscope.surveillance.alerts import TABLE as ALERTS
from cryptoscope.surveillance.stream import KIND, StreamDetector

#: events held before they are sent to the child in one message (a fetched batch is about this size)
SEND_EVERY = 500
TABLE_OF = {kind: table for table, kind in KIND.items()}  # the table whose messages carry each kind of event


class Surveyor:
    """The detectors and the ids of the alerts already out, in a child process; see the module doc."""

    def __init__(self, detector: StreamDetector, emitted: set[str], every_s: float = 2.0) -> None:
        ctx = mp.get_context("spawn")  # the consumer has threads by now: no fork
        requests_in, self._requests = ctx.Pipe(duplex=False)  # (reading end, writing end)
        self._results, results_out = ctx.Pipe(duplex=False)
        self._process = ctx.Process(target=_serve, args=(requests_in, results_out, detector, emitted, every_s),
                                    name="cryptoscope-surveillance", daemon=True)
        self._process.start()
        requests_in.close()
        results_out.close()
        self._held: list[tuple[str, Mapping[str, Any] | bytes]] = []
        self._outbox: list[pa.Table] = []
        self._asked = 0  # requests sent that expect an answer

    def put(self, kind: str, event: Mapping[str, Any] | bytes) -> None:
        """Send an event of ``kind`` (``order``, ``trade``, ``cancel``): its row, or the message that carries it (the
        child decodes it: bytes cost the consumer almost nothing to send, a pickled row a few µs of its thread)."""
        self._held.append((kind, event))
        if len(self._held) >= SEND_EVERY:
            self._send()

    def drain(self) -> None:
        """Return once every event put so far is applied and its alerts are collected."""
        self._ask("drain")

    def state(self) -> tuple[StreamDetector, set[str]]:
        """The detectors and the ids of the alerts out, as of every event put so far (for a snapshot)."""
        answer: tuple[StreamDetector, set[str]] = self._ask("state")
        return answer

    def take(self) -> pa.Table:
        """The alerts found since the last call (none when nothing is found yet)."""
        self._send()
        self._collect(block=False)
        found, self._outbox = self._outbox, []
        return pa.concat_tables(found) if found else get_table(ALERTS).empty()

    def close(self) -> None:
        if self._process.is_alive():
            with contextlib.suppress(BrokenPipeError, OSError):
                self._requests.send(("stop", None))
            self._process.join(timeout=60)
        if self._process.is_alive():
            self._process.kill()
        self._requests.close()
        self._results.close()

    # -- the pipe ------------------------------------------------------------------------------------------
    def _send(self) -> None:
        if self._held:
            batch, self._held = self._held, []
            self._request(("events", batch))

    def _request(self, message: tuple[str, Any]) -> None:
        try:
            self._requests.send(message)
        except (BrokenPipeError, OSError) as exc:
            self._collect(block=False)  # the child's own error, when it sent one
            raise RuntimeError("market surveillance stopped") from exc

    def _ask(self, what: str) -> Any:
        self._send()
        self._asked += 1
        token = self._asked
        self._request((what, token))
        while True:
            answer = self._collect(block=True, token=token)
            if answer is not None:
                return answer[1]

    def _collect(self, block: bool, token: int | None = None) -> tuple[int, Any] | None:
        """Take what the child sent: alerts go to the outbox; returns the answer to request ``token`` when it
        comes (blocking for it with ``block``)."""
        while block or self._results.poll():
            try:
                kind, body = self._results.recv()
            except EOFError:
                raise RuntimeError(f"market surveillance stopped (exit code {self._process.exitcode})") from None
            if kind == "alerts":
                self._outbox.append(body)
            elif kind == "error":
                raise RuntimeError(f"market surveillance stopped:\n{body}")
            elif body[0] == token:
                return body
        return None


def _serve(requests: Connection, results: Connection, detector: StreamDetector, emitted: set[str],
           every_s: float) -> None:
    """The child: apply events, send new alerts at most every ``every_s`` seconds, answer drain and state."""
    dirty, last = False, time.monotonic()

    def alerts() -> None:
        nonlocal dirty, last
        last, dirty = time.monotonic(), False
        table = detector.new_alerts(emitted, dt.datetime.now(dt.UTC))
        if table.num_rows:
            emitted.update(table["alert_id"].to_pylist())
            results.send(("alerts", table))

    try:
        while True:
            what, body = requests.recv() if requests.poll(every_s) else ("idle", [])
            if what == "stop":
                return
            if what == "events":
                for kind, event in body:
                    detector.on_event(kind, decode(TABLE_OF[kind], event) if isinstance(event, bytes) else event)
                dirty = True
            elif what in ("drain", "state"):
                if dirty:
                    alerts()
                results.send((what, (body, (detector, emitted) if what == "state" else None)))
                continue
            if dirty and time.monotonic() - last >= every_s:
                alerts()
    except EOFError:  # the consumer is gone
        return
    except BaseException:  # surfaced on the consumer's next call
        results.send(("error", traceback.format_exc()))
