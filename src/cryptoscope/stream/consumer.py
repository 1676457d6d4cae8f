"""`cryptoscope stream run`: consume ``events.>`` with a durable JetStream consumer, exactly once in effect.

Start: restore this consumer's snapshot (``serve/snapshot.py``, the server's format too) or, on a first start,
warm the online state and the surveillance detectors from the lake's events before ``--since``. The lake's
catalog holds the consumer's *cursor*: the stream sequence up to which its results are committed. The durable
consumer is (re)created to deliver from just after the snapshot; messages up to the cursor only feed the state
(their results are in the lake already), later ones are processed. So a restart never double-counts an event
in the state and never writes a result twice, whether the consumer was killed, the broker restarted, or both.

Each micro-batch (up to ``batch`` messages): decode (bad ones to ``dead.<table>``), apply (``work.py``),
publish decisions to ``scores.<kind>`` and new alerts to ``alerts.<typology>`` (message ids make a re-sent
copy a no-op), then one lake transaction appends the raw events, ``risk_scores`` and ``surveillance_alerts``
(keyed, de-duplicated) and moves the cursor, alerts are filed in the case queue (idempotent), and only then
are the messages acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from cryptoscope.errors import CryptoscopeError
from cryptoscope.features.online_window import from_micros, to_micros
from cryptoscope.lake import Lake, connect
from cryptoscope.lake.compact import compact
from cryptoscope.lake.replay import before, cancels, time_ordered
from cryptoscope.models import Registry
from cryptoscope.productline import Decision
from cryptoscope.risk.products import PRODUCTS
from cryptoscope.risk.scoring import TABLE as SCORES_TABLE
from cryptoscope.risk.scoring import scores_frame
from cryptoscope.serve import snapshot
from cryptoscope.serve.bootstrap import replay_tables, warm
from cryptoscope.serve.online import SERVED, OnlineScorer
from cryptoscope.stream import subjects
from cryptoscope.stream.codec import BadMessage, decode, encode
from cryptoscope.stream.connection import connect as connect_broker
from cryptoscope.stream.metrics import StreamMetrics
from cryptoscope.stream.partition import Partition
from cryptoscope.stream.pull import Pull
from cryptoscope.stream.work import Work
from cryptoscope.surveillance.alerts import TABLE as ALERTS_TABLE
from cryptoscope.surveillance.batch import account_links
from cryptoscope.surveillance.pipeline import default_cases_url, file_cases
from cryptoscope.surveillance.stream import KIND, StreamDetector

Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True)
class RunConfig:
    """Where to read and write, and how the consumer batches, acknowledges and snapshots."""

    lake: Path
    url: str
    registry: Path = Path("./models-registry")
    since: dt.datetime | None = None
    until_idle: float | None = None
    partition: Partition = field(default_factory=Partition)
    credentials: Path | None = None
    batch: int = 500  # most messages per fetch: their decisions go out together
    commit_every_s: float = 2.0  # a lake commit (and the acknowledgements) at least this often while busy
    commit_max: int = 50_000  # ... or once this many messages are held
    fetch_wait_s: float = 0.02
    ack_wait_s: float = 120.0
    snapshot_every_s: float = 300.0
    late_tolerance: dt.timedelta = dt.timedelta(minutes=5)
    file_cases: bool = True

    @property
    def consumer(self) -> str:
        return f"cryptoscope-{self.partition.name}"

    @property
    def work_dir(self) -> Path:
        return self.lake / "_stream" / self.consumer


@dataclass
class RunStats:
    """What one `run` did."""

    warmed: int = 0
    restored_at: int | None = None
    caught_up: int = 0
    processed: int = 0
    decisions: int = 0
    alerts: int = 0
    dead: int = 0
    skipped: int = 0
    cursor: int = 0
    seconds: float = 0.0
    busy_s: float = 0.0  # from the first message taken to the last commit: what `processed` took
    busy_until: float = 0.0  # when the last commit was done (epoch seconds)
    busy_cpu_s: float = 0.0  # the event loop's thread's CPU time over `busy_s`: what bounds one consumer


class Consumer:
    """One partition's consumer; see the module doc."""

    def __init__(self, config: RunConfig, progress: Progress | None = None,
                 metrics: StreamMetrics | None = None) -> None:
        if not config.lake.is_dir():
            raise CryptoscopeError(f"no lake at {config.lake}")
        self.config = config
        self.lake = Lake(config.lake)
        self.progress = progress or (lambda what, done, total: None)
        self.metrics = metrics or StreamMetrics()
        self.stats = RunStats()
        registry = Registry.configured(config.registry)
        self.scorer = OnlineScorer(registry, SERVED)
        if not self.scorer.models:
            raise CryptoscopeError(f"no promoted model in {config.registry} serves any of {', '.join(SERVED)}: "
                                   "train one first (`cryptoscope risk train KIND`)")
        self.snapshot_seq = 0
        self.cursor = self.lake.catalog().cursors.get(config.consumer, 0)
        self.work = self._start()
        self.applied = self.snapshot_seq  # the last message the state has taken
        self.gap_from: int | None = None  # set after resubscribing at a gap: a gap seen again there is real
        self._busy_from: float | None = None
        self._busy_cpu_from = 0.0
        self._pending: asyncio.Task[None] | None = None  # the commit under way
        self._written: set[str] = set()  # the lake tables this run appended to: what a checkpoint compacts
        self._pull: Pull | None = None  # the messages of the durable consumer, as (re)created
        self._tolerance_us = config.late_tolerance // dt.timedelta(microseconds=1)  # `_check_time`, per event

    # -- start ---------------------------------------------------------------------------------------
    def _start(self) -> Work:
        cfg = self.config
        con = connect(self.lake)
        links = account_links(con)
        side = snapshot.load(cfg.work_dir, self.scorer)
        if side is None:
            if self.cursor:
                raise CryptoscopeError(f"the lake says {cfg.consumer} committed up to message {self.cursor}, but its "
                                       f"snapshot in {cfg.work_dir} is gone: restore it, or start a new consumer")
            detector, emitted, clock = self._warm(con, links)
            self._snapshot(0, (detector, emitted), clock)
        else:
            self.scorer.fit_explainers(side.background)
            detector, emitted, clock = side.extra["detector"], side.extra["emitted"], side.clock
            detector.use_links(links)  # the links as the lake knows them now
            self.background = side.background
            self.snapshot_seq = self.stats.restored_at = side.seq
        if ALERTS_TABLE in self.lake.catalog().tables:
            emitted.update(con.table(ALERTS_TABLE).alert_id.to_pyarrow().to_pylist())
        work = Work(self.scorer, detector, cfg.partition, emitted, frozenset(replay_tables()))
        work.clock = clock
        return work

    def _warm(self, con: Any, links: pa.Table) -> tuple[StreamDetector, set[str], int | None]:
        """The online state from the lake before ``--since``, and (where this partition surveils) the detectors
        and the ids of the alerts the lake's past already shows: those are the batch job's to report, not news."""
        cfg = self.config
        warmup = warm(self.scorer, self.lake, until=cfg.since, progress=lambda d, t: self.progress("warming", d, t))
        self.background = warmup.reference
        self.scorer.fit_explainers(self.background)
        self.stats.warmed = warmup.events
        detector, emitted = StreamDetector(links), set()
        if cfg.partition.surveils:
            orders, trades = con.table("orders"), con.table("trades")
            if cfg.since is not None:
                orders = orders.filter(orders.event_time < cfg.since)
                trades = trades.filter(trades.event_time < cfg.since)
            o = orders.to_pyarrow()
            past = {"orders": o, "trades": trades.to_pyarrow(), "order_cancels": before(cancels(o), cfg.since)}
            for table, row in time_ordered(past):
                detector.on_event(KIND[table], row)
            emitted = set(detector.alerts()["alert_id"].to_pylist())
        return detector, emitted, None if warmup.end is None else to_micros(warmup.end)

    def _snapshot(self, seq: int, surveillance: tuple[StreamDetector, set[str]], clock: int | None) -> None:
        """Save the state as of message ``seq`` (every message up to it applied, and committed when fresh)."""
        detector, emitted = surveillance
        side = snapshot.Side(seq, self.scorer.context, self.background, clock,
                             {"detector": detector, "emitted": emitted})
        snapshot.save(self.config.work_dir, self.scorer, side)
        self.snapshot_seq = seq

    # -- run -----------------------------------------------------------------------------------------
    def run(self) -> RunStats:
        return asyncio.run(self.arun())

    async def arun(self) -> RunStats:
        cfg = self.config
        start = time.perf_counter()
        nc = await connect_broker(cfg.url, cfg.credentials, name=cfg.consumer)
        js = nc.jetstream()
        try:
            await subjects.ensure_streams(js)
            await self._consume(nc, js)
            await self._checkpoint(js)  # not on an error: the state may hold uncommitted events
        finally:
            self.work.close()
            await nc.drain()
        self.stats.cursor = self.cursor
        self.stats.seconds = time.perf_counter() - start
        return self.stats

    async def _subscribe(self, nc: Client, js: Any, start: int) -> Pull:
        """The durable consumer, recreated to deliver from message ``start`` on (see the module doc)."""
        cfg = self.config
        if self._pull is not None:
            await self._pull.close()
        with contextlib.suppress(NotFoundError):
            await js.delete_consumer(subjects.EVENTS, cfg.consumer)
        # AckPolicy.ALL: acknowledging a message acknowledges every one before it (the consumer applies them in
        # order), so a commit sends one acknowledgement, not one per message
        config = ConsumerConfig(durable_name=cfg.consumer, ack_policy=AckPolicy.ALL, ack_wait=cfg.ack_wait_s,
                                max_ack_pending=-1, deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                                opt_start_seq=start, filter_subject="events.>")
        await js.add_consumer(subjects.EVENTS, config)
        self._pull = await Pull(nc, subjects.EVENTS, cfg.consumer, cfg.batch).start()
        return self._pull

    async def _consume(self, nc: Client, js: Any) -> None:
        try:
            await self._drain(nc, js)
        finally:
            if self._pull is not None:
                await self._pull.close()

    async def _drain(self, nc: Client, js: Any) -> None:
        """Take, apply and commit batches until ``--until-idle`` says the feed is done (or forever)."""
        cfg = self.config
        sub = await self._subscribe(nc, js, self.applied + 1)
        idle_since: float | None = None  # when the feed last paused (None while messages come)
        last_snapshot = time.monotonic()
        held = Held()
        while True:
            msgs = await sub.fetch(cfg.fetch_wait_s)
            gap = False
            if msgs:
                idle_since = None
                gap = await self._take(js, msgs, held)
            if held.msgs and (gap or not msgs or len(held.msgs) >= cfg.commit_max
                              or time.monotonic() - held.since >= cfg.commit_every_s):
                await self._settle()  # one commit at a time, in order
                self._pending = asyncio.create_task(self._commit(js, held))
                held = Held()
            if gap:  # a message is missing before this one: deliver again from the first one not applied
                await self._settle()
                sub = await self._subscribe(nc, js, self.applied + 1)
                self.gap_from = self.applied
                continue
            if not held.msgs and time.monotonic() - last_snapshot >= cfg.snapshot_every_s:
                await self._checkpoint(js)  # everything applied is committed now
                last_snapshot = time.monotonic()
            if msgs:
                continue
            if idle_since is None:  # the feed paused: what surveillance found in it is committed now
                idle_since = time.monotonic()
                await self._settle()
                self.work.drain()
                await self._commit(js, Held())
            if cfg.until_idle is None:
                continue
            info = await js.consumer_info(subjects.EVENTS, cfg.consumer)
            if info.num_pending or info.num_ack_pending:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= cfg.until_idle:
                await self._settle()
                return

    async def _settle(self) -> None:
        """Wait for the commit under way, if any (and raise what it raised)."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            await pending

    async def _take(self, js: Any, msgs: list[Msg], held: Held) -> bool:
        """Apply a fetched batch in stream order and send its decisions at once; the rest waits for the commit.
        Returns True when it stopped at a gap: a message delivered before an earlier one (a fetch lost when the
        broker went away is delivered again only after the acknowledgement wait)."""
        first_new, gap = self.cursor + 1, False
        published: dict[str, list[int]] = {}  # when each decision's event reached the broker (ns)
        counted: Counter[str] = Counter()  # fresh events per table, for the metrics
        if self._busy_from is None:
            self._busy_from, self._busy_cpu_from = time.perf_counter(), time.thread_time()
        for i, msg in enumerate(msgs):
            seq, at_ns = subjects.position(msg)
            if seq <= self.applied:
                self.stats.skipped += 1  # a copy redelivered while its first delivery was being handled
                continue
            if seq > self.applied + 1 and self.gap_from != self.applied:
                msgs, gap = msgs[:i], True  # the rest is not acknowledged: the new subscription brings it again
                break
            self.gap_from = None  # past a gap the stream really has (messages deleted): go on
            table = subjects.table_of(msg.subject)
            fresh = seq >= first_new
            try:
                row = self._accept(table, msg.data)
            except BadMessage as exc:
                if fresh:
                    held.dead.append((msg, table, str(exc)))
                row = None
            if row is not None:
                # not fresh: its results are in the lake already, feed only
                kind = self.work.apply(table, row, score=fresh, data=msg.data)
                if kind is not None:
                    published.setdefault(kind, []).append(at_ns)
                if fresh:
                    counted[table] += 1
                else:
                    self.stats.caught_up += 1
            self.applied, held.last = seq, msg
        held.msgs += msgs
        for table, n in counted.items():
            self.metrics.events.labels(table).inc(n)
        self.stats.processed += counted.total()
        await self._send_decisions(js, held, published)
        self.progress("consuming", self.stats.processed, None)
        return gap

    async def _send_decisions(self, js: Any, held: Held, published: dict[str, list[int]]) -> None:
        """Each decision to ``scores.<kind>``, with the time its event reached the broker (for latency)."""
        for kind, decisions in self.work.decide().items():
            held.decisions.setdefault(kind, []).extend(decisions)
            for d, at in zip(decisions, published[kind], strict=True):
                body = {"kind": d.kind, "entity_id": d.entity_id, "user_id": d.user_id, "event_time": d.event_time,
                        "score": d.score, "decision": d.decision, "reasons": list(d.reasons), "model": d.model,
                        "model_version": d.model_version}
                key = f"{kind}:{d.entity_id}:{d.model_version}"  # the risk_scores key
                headers = {subjects.MSG_ID: key, subjects.EVENT_AT_HEADER: subjects.broker_time(at).isoformat()}
                held.acks.append(await js.publish_async(subjects.scores(kind), encode(body), headers=headers))
                self.metrics.decisions.labels(kind, d.decision).inc()

    async def _checkpoint(self, js: Any) -> None:
        """Snapshot once surveillance has caught up and its alerts are committed (the snapshot's record of the
        alerts already out must not run ahead of the lake)."""
        await self._settle()
        self.work.drain()
        await self._commit(js, Held())
        self._snapshot(self.applied, self.work.surveillance(), self.work.clock)
        # a commit every two seconds is a few rows per file: merge them while the feed is quiet
        await asyncio.to_thread(compact, self.lake, sorted(self._written))

    def _commit(self, js: Any, held: Held) -> Coroutine[Any, Any, None]:
        """What `_send` commits: everything applied so far, cut now. The cut must not wait for the commit task to
        start: a batch applied meanwhile would move the cursor past decisions this commit does not hold."""
        return self._send(js, held, self.applied, self.work.take_raw())

    async def _send(self, js: Any, held: Held, last: int, raw: dict[str, list[dict[str, Any]]]) -> None:
        """Send the new alerts and dead letters, wait for the broker to hold everything sent, commit the lake
        with the cursor, file the alerts as cases, and only then acknowledge the messages. The lake write runs
        on a worker thread (Parquet, DuckDB and fsync release the interpreter), so the event loop goes on
        taking and scoring the next messages meanwhile."""
        alerts = self.work.new_alerts()
        for a in alerts.to_pylist():
            held.acks.append(await js.publish_async(subjects.alerts(a["typology"]), encode(a),
                                                    headers={subjects.MSG_ID: a["alert_id"]}))
            self.metrics.alerts.labels(a["typology"]).inc()
        for msg, table, reason in held.dead:
            headers = {subjects.MSG_ID: f"dead:{subjects.position(msg)[0]}", subjects.ERROR_HEADER: reason[:1000],
                       "Cryptoscope-Subject": msg.subject}
            held.acks.append(await js.publish_async(subjects.dead(table), msg.data, headers=headers))
            self.metrics.dead.labels(table, _reason(reason)).inc()
        await asyncio.gather(*held.acks)
        if last > self.cursor or alerts.num_rows:
            await asyncio.to_thread(self._write, held.decisions, alerts, raw, max(last, self.cursor))
        self.stats.dead += len(held.dead)
        if held.last is not None:
            await held.last.ack()
            self.stats.busy_s = time.perf_counter() - (self._busy_from or time.perf_counter())
            self.stats.busy_cpu_s = time.thread_time() - self._busy_cpu_from
            self.stats.busy_until = time.time()

    def _accept(self, table: str, data: bytes) -> dict[str, Any] | None:
        """The message's row, None when it is before ``--since`` (the warmed past); `BadMessage` when unusable."""
        row = decode(table, data)
        if self.config.since is not None and row["event_time"] < self.config.since:
            return None
        self._check_time(table, row)
        return row

    def _check_time(self, table: str, row: dict[str, Any]) -> None:
        clock, tolerance = self.work.clock, self.config.late_tolerance
        if clock is not None and to_micros(row["event_time"]) < clock - self._tolerance_us:
            raise BadMessage(f"{table}: event_time {row['event_time'].isoformat()} is more than {tolerance} older "
                             f"than the newest event ({from_micros(clock).isoformat()})")

    def _write(self, decisions: dict[str, list[Decision]], alerts: pa.Table, raw: dict[str, list[dict[str, Any]]],
               last: int) -> None:
        """One lake transaction: raw events, scores, alerts (each keyed, so a copy adds nothing) and the cursor."""
        now = pd.Timestamp.now(tz="UTC")
        self._written |= {*raw, SCORES_TABLE, ALERTS_TABLE}
        with self.lake.transaction() as tx:
            for table, rows in raw.items():
                tx.append(table, pa.Table.from_pylist(rows), same_time=True)
            for kind, done in decisions.items():
                if done:
                    frame = scores_frame(PRODUCTS[kind], done, now)
                    tx.append(SCORES_TABLE, pa.Table.from_pandas(frame, preserve_index=False), same_time=True)
                    self.stats.decisions += len(done)
            if alerts.num_rows:
                tx.append(ALERTS_TABLE, alerts, same_time=True)
                self.stats.alerts += alerts.num_rows
            tx.set_cursor(self.config.consumer, last)
        self.cursor = last
        if self.config.file_cases and alerts.num_rows:
            file_cases(alerts, default_cases_url(self.lake.root))


@dataclass
class Held:
    """What a consumer holds between two commits: the messages to acknowledge and the results to write."""

    msgs: list[Msg] = field(default_factory=list)
    last: Msg | None = None  # the last one applied: acknowledging it acknowledges every one before it
    decisions: dict[str, list[Decision]] = field(default_factory=dict)
    dead: list[tuple[Msg, str, str]] = field(default_factory=list)
    acks: list[asyncio.Future[Any]] = field(default_factory=list)
    since: float = field(default_factory=time.monotonic)


def _reason(text: str) -> str:
    """A short label for the metrics: "payments: field 'amount_usd': expected a number, ..." -> "field 'amount_usd'"."""
    parts = text.split(":")
    return parts[1].strip()[:40] if len(parts) > 2 else parts[-1].strip()[:40]
