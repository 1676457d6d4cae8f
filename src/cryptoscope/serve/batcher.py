"""The micro-batcher: scoring requests that arrive together are scored together (and, optionally,
explained off the event loop).

Why batches: one pass over a batch pays the per-call costs (the journal transaction, numpy set-up)
once. Each batch, in arrival order: on the event loop, each event's decision row is read from the
online state and then the event is fed to it (``OnlineScorer.prepare``: rows, scores, decisions), so
the next batch sees it; then the TreeSHAP values; then reasons, and event, decision and idempotency
key committed to the journal in one transaction (``Service.commit``); only then are the requests
answered.

By default a batch is one call, ``Service.decide``: catch up with other processes' events, read, feed,
explain and journal, under the journal's write lock. With ``explain_thread`` (``CRYPTOSCOPE_EXPLAIN_THREAD=1``,
one server process only) the TreeSHAP step runs on one worker
thread: it is compiled code that runs without the GIL (Numba, or LightGBM's C TreeSHAP), so it can
use the machine's other core while the loop reads the next requests. Batches still commit in the
order the state took them (each waits for the one before). Measured on the shared 2-core machine the
hand-offs (executor, loop wake-ups, GIL) cost about what the loop saved and the server-side median
rose, so it is off by default: see ``docs/serve.md``.

Under load a batch waits a little for company (``wait``: ``serve --batch-wait-ms``, ``CRYPTOSCOPE_BATCH_WAIT_MS``,
2 ms by default; 0 turns it off): when the previous batch was flushed less than ``2 * wait`` ago, the next is
flushed ``wait`` later instead of on the loop's next turn, so requests arriving about a millisecond apart share
one journal transaction and one pass of the per-call set-up. A quiet server (the last batch longer ago) flushes
at once, so the wait only costs latency when it saves CPU: at 1,000 requests/s, batches of ~3.8 instead of ~1.2,
a third less server CPU per request, ~2 ms more latency (``docs/serve.md``).

``drain()`` waits until every batch taken has been journalled: snapshots, login feeds and shutdown
call it, so a snapshot never covers an event the journal does not yet hold. ``inflight`` maps the
idempotency keys being scored to their answers, so a retry that arrives before the first attempt is
journalled waits for it and is answered as a replay instead of being scored twice.
"""

from __future__ import annotations

import asyncio
import functools
import math
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np

from cryptoscope.productline import Decision
from cryptoscope.risk.scorer import Prepared
from cryptoscope.serve.metrics import Metrics
from cryptoscope.serve.online import OnlineScorer

Key = tuple[str, str, str]  # idempotency key, principal, request hash
Pending = tuple[Mapping[str, Any], Key | None, "asyncio.Future[Decision]"]


class Committer(Protocol):
    """What the batcher needs of the service (``service.Service``): the scorer, and a journal commit."""

    scorer: OnlineScorer
    metrics: Metrics

    def decide(self, kind: str, rows: list[Mapping[str, Any]],
               keys: list[Key | None] | None = None) -> list[Decision | None]: ...

    def commit(self, kind: str, prepared: Prepared, contributions: np.ndarray | None,
               keys: list[Key | None] | None = None) -> list[Decision]: ...


class Answered(Exception):
    """The request's idempotency key was answered by another server process meanwhile: replay that answer."""


class Batcher:
    """Collects the scoring requests that arrive together and scores them as one batch per product."""

    def __init__(self, service: Committer, *, max_batch: int, explain_thread: bool, wait: float = 0.0) -> None:
        self.service = service
        self.max_batch = max_batch
        self.wait = wait  # seconds a batch may wait for company when the server is busy (see the module doc)
        self._last = -math.inf  # loop time of the last flush
        self.pending: dict[str, list[Pending]] = {}
        self.batches = 0
        self.inflight: dict[str, asyncio.Future[Decision]] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cryptoscope-treeshap")
        self._tail: asyncio.Task[None] | None = None  # the newest batch not yet journalled
        self.thread = explain_thread  # else TreeSHAP runs on the loop with the rest

    async def submit(self, kind: str, row: Mapping[str, Any], key: Key | None = None) -> Decision:
        """The decision of ``row``, once its batch is journalled."""
        return await self.enqueue(kind, row, key)

    def enqueue(self, kind: str, row: Mapping[str, Any], key: Key | None = None) -> asyncio.Future[Decision]:
        """``row`` queued for the next batch of ``kind``; the future holds its decision once that batch is journalled
        (for callers that answer from a callback, not a coroutine: ``wire.LaneProtocol``)."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Decision] = loop.create_future()
        if key is not None:
            self.inflight[key[0]] = fut
            fut.add_done_callback(lambda _: self.inflight.pop(key[0], None))
        queue = self.pending.setdefault(kind, [])
        queue.append((row, key, fut))
        if len(queue) == 1:
            if self.wait and loop.time() - self._last < 2 * self.wait:  # busy: gather the next arrivals too
                loop.call_later(self.wait, self._flush, kind)
            else:
                loop.call_soon(self._flush, kind)  # after the requests already read are queued too
        return fut

    async def drain(self) -> None:
        """Flush the batches waiting for company now, and wait until every batch taken so far is journalled and
        answered (a request the HTTP parser handed to the lane has no task for the server to wait on at shutdown)."""
        for kind in list(self.pending):
            self._flush(kind)
        while self._tail is not None and not self._tail.done():
            await asyncio.wait([self._tail])

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _flush(self, kind: str) -> None:
        queue = self.pending.pop(kind, [])
        limit = self.max_batch
        loop = asyncio.get_running_loop()
        self._last = loop.time()
        for start in range(0, len(queue), limit):
            part = queue[start:start + limit]
            try:
                if not self.thread:  # all on the loop, as one call
                    self._answer(part, self.service.decide(kind, [r for r, _, _ in part], [k for _, k, _ in part]))
                    continue
                prepared = self.service.scorer.prepare(kind, [r for r, _, _ in part])
            except Exception as exc:  # every waiting request gets the error; none is left hanging
                _fail(part, exc)
                continue
            self._tail = loop.create_task(self._finish(kind, part, prepared, self._tail))

    async def _finish(self, kind: str, part: list[Pending], prepared: Prepared,
                      previous: asyncio.Task[None] | None) -> None:
        try:
            contributions: np.ndarray | None = None
            if prepared.texts is None:
                explain = functools.partial(self.service.scorer.contributions, kind, prepared)
                contributions = await asyncio.get_running_loop().run_in_executor(self._pool, explain)
            if previous is not None and not previous.done():
                await asyncio.wait([previous])  # journal order = the order the state took the events
            results = self.service.commit(kind, prepared, contributions, [k for _, k, _ in part])
        except Exception as exc:
            _fail(part, exc)
            return
        self._answer(part, results)

    def _answer(self, part: list[Pending], results: list[Decision] | list[Decision | None]) -> None:
        self.batches += 1
        self.service.metrics.batch(len(part))
        for (_, _, fut), res in zip(part, results, strict=True):
            if fut.done():
                continue
            if res is None:
                fut.set_exception(Answered())
            else:
                fut.set_result(res)


def _fail(part: list[Pending], exc: Exception) -> None:
    for _, _, fut in part:
        if not fut.done():
            fut.set_exception(exc)
