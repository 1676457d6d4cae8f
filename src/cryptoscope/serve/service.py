"""The serving process's state: config, auth, journal, online scorer, snapshots, and the micro-batcher.

Start-up: restore the newest snapshot (``snapshot.py``: feature state + context + the journal position it
covers) and replay the journal's later events; with none, start from another holder's snapshot when given
(``from_snapshot``: a stream consumer's) or warm from the lake (``bootstrap.py``), and take one. Shutdown
takes a snapshot. Between the two, every accepted event is committed to the journal before it is answered, so
a crash loses no acknowledged event: the next start replays it.

Scoring runs in micro-batches (``batcher.py``): requests that arrive together are scored together, in
arrival order, with the same answers as one at a time; the state is read and fed on the event loop,
and each batch is journalled before its requests are answered.

Several processes may serve one lake (``serve --workers N``, ``workers.py``): each holds the whole online
state and they share the journal, whose seq orders every event. A process first catches its state up with
the events the others journalled (``applied`` is the last seq its state holds), then scores and records its
own batch, all inside the journal's cross-process write lock (``Journal.exclusive``): every answer is the
one a single process would have given for the journal's order.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import Registry
from cryptoscope.productline import Decision
from cryptoscope.risk.scorer import Prepared
from cryptoscope.serve import snapshot as snapshots
from cryptoscope.serve.auth import AuthStore
from cryptoscope.serve.batcher import Batcher
from cryptoscope.serve.bootstrap import warm
from cryptoscope.serve.journal import Journal
from cryptoscope.serve.metrics import Metrics
from cryptoscope.serve.online import SERVED, OnlineScorer

log = logging.getLogger("cryptoscope.serve")


def batch_wait_ms_default() -> float:
    """How long a batch waits for company under load unless told (``CRYPTOSCOPE_BATCH_WAIT_MS``, else 2 ms)."""
    return float(os.environ.get("CRYPTOSCOPE_BATCH_WAIT_MS", "2"))


@dataclass(frozen=True)
class ServeConfig:
    """Where things live and the limits the server enforces."""

    lake: Path
    registry: Path = Path("./models-registry")
    work: Path | None = None  # default: <lake>/_serve
    max_body_bytes: int = 64 * 1024
    service_rate: str = "5000/second"
    user_rate: str = "30/second"
    login_rate: str = "10/minute"
    drift_threshold: float = 0.25
    drift_min_rows: int = 50
    max_batch: int = 64
    kinds: tuple[str, ...] = SERVED
    secure_cookies: bool = False  # set behind TLS
    reco_model: Path | None = None  # default: reco-model/recommender.pkl (where `cryptoscope reco train` saves)
    feedback_report: Path | None = None  # default: <lake>/_feedback/feedback.html
    abnormal: Path | None = None  # the case queue and entity graph: default <lake>/_abnormal
    lookback_days: int = 366  # how much of the lake a first start replays (the longest window is 365 days)
    from_snapshot: Path | None = None  # a first start restores this snapshot (a stream consumer's) instead
    # TreeSHAP on a worker thread (batcher.py), with CRYPTOSCOPE_EXPLAIN_THREAD=1; by default on the event loop
    explain_thread: bool = field(default_factory=lambda: os.environ.get("CRYPTOSCOPE_EXPLAIN_THREAD", "0") == "1")
    # under load a batch waits this long for company (batcher.py), with CRYPTOSCOPE_BATCH_WAIT_MS; 0: never
    batch_wait_ms: float = field(default_factory=batch_wait_ms_default)

    @property
    def work_dir(self) -> Path:
        return self.work or Path(self.lake) / "_serve"

    @property
    def abnormal_dir(self) -> Path:
        return self.abnormal or Path(self.lake) / "_abnormal"


@dataclass
class Reference:
    """Per product: the reference inputs (a frame) and scores that drift is measured against."""

    inputs: dict[str, pd.DataFrame] = field(default_factory=dict)
    scores: dict[str, np.ndarray] = field(default_factory=dict)


class Service:
    """Everything one server process holds; see the module doc."""

    def __init__(self, config: ServeConfig, progress: Callable[[int, int], None] | None = None) -> None:
        self.config = config
        work = config.work_dir
        work.mkdir(parents=True, exist_ok=True)
        self.auth = AuthStore(work)
        self.journal = Journal(work / "journal.db")
        self.metrics = Metrics()
        registry = Registry.configured(config.registry)
        self.scorer = OnlineScorer(registry, config.kinds)
        self.reference = Reference()
        self.snapshot_seq = 0
        self.applied = 0  # the last journal seq the online state holds
        self.decided = 0  # batches this process scored (``/healthz``: which worker took part)
        self.started = dt.datetime.now(dt.UTC)
        self._restore_or_warm(progress)
        self.batcher = Batcher(self, max_batch=config.max_batch, explain_thread=config.explain_thread,
                               wait=config.batch_wait_ms / 1000)
        gc.collect()
        gc.freeze()  # the warmed state is millions of long-lived objects: keep full collections from pausing on them

    # -- snapshots -----------------------------------------------------------------------------------
    def _restore_or_warm(self, progress: Callable[[int, int], None] | None) -> None:
        work = self.config.work_dir
        side = snapshots.load(work, self.scorer)
        if side is None and self.config.from_snapshot is not None:
            side = self._seed(self.config.from_snapshot)
        if side is not None:
            background = side.background
            self.applied = side.seq
            replayed = self._catch_up()
            self.snapshot_seq = self.applied
            log.info("restored the online state at journal seq %s and replayed %s events", side.seq, replayed)
        else:
            warmup = warm(self.scorer, self.config.lake, lookback=dt.timedelta(days=self.config.lookback_days),
                          progress=progress)
            background = warmup.reference
            self._catch_up()
            log.info("warmed the online state from %s events of the lake", warmup.events)
        self._background = background
        self.scorer.fit_explainers(background)
        for kind, rows in background.items():
            live = self.scorer.models.get(kind)
            if live is None or not rows:
                continue
            scored = live.finish(live.prepare_rows([dict(r) for r in rows]))
            self.reference.inputs[kind] = pd.DataFrame.from_records([s.features for s in scored],
                                                                    columns=list(live.model_.bundle.features))
            self.reference.scores[kind] = np.array([s.score for s in scored])
        if not snapshots.exists(work):
            self.snapshot()

    def _seed(self, folder: Path) -> snapshots.Side:
        """Another holder's snapshot (a stream consumer's: the same format) as this server's first state, instead
        of replaying the lake. Only into a server that has journalled nothing: the state would otherwise miss
        or double-count what its journal holds."""
        if self.journal.last_seq():
            raise CryptoscopeError(f"{self.config.work_dir}: this server has journalled events already; "
                                   "--from-snapshot only starts a new one")
        side = snapshots.load(folder, self.scorer)
        if side is None:
            raise CryptoscopeError(f"{folder}: no snapshot to start from (no side-*.pickle)")
        side.seq = 0  # its position was in the consumer's stream; this server's journal starts here
        return side

    def snapshot(self) -> int:
        """Save the online state and context, with the journal position they include; returns it.

        Inside the journal's write lock: the state is caught up with every journalled event first, and no two
        processes sharing the journal write (or prune) snapshot files at once."""
        with self.journal.exclusive():
            self._catch_up()
            seq = self.applied
            snapshots.save(self.config.work_dir, self.scorer,
                           snapshots.Side(seq, self.scorer.context, self._background))
        self.snapshot_seq = seq
        return seq

    def _catch_up(self) -> int:
        """Feed the state the journal's events after ``applied`` (another process's, or a restart's replay)."""
        fed = 0
        for seq, table, row in self.journal.events_after(self.applied):
            self.scorer.feed(table, row)
            fed, self.applied = fed + 1, seq
        return fed

    # -- events --------------------------------------------------------------------------------------
    def feed(self, table: str, rows: list[Mapping[str, Any]]) -> int:
        """Journal and apply non-decision events (logins); returns the last journal seq."""
        with self.journal.exclusive():
            self._catch_up()
            seq = self.journal.record([(table, r) for r in rows])
            for row in rows:
                self.scorer.feed(table, row)
            self.applied = seq
        return seq

    def decide(self, kind: str, rows: list[Mapping[str, Any]],
               keys: list[tuple[str, str, str] | None] | None = None) -> list[Decision | None]:
        """Score a batch and journal it with its idempotency keys (key, principal, request hash) in one
        transaction, after catching up with what other processes journalled (see the module doc).

        None in place of a row whose key another process answered meanwhile: its answer is in the journal."""
        keys = keys or [None] * len(rows)
        with self.journal.exclusive():
            self._catch_up()
            fresh = [i for i, k in enumerate(keys) if k is None or self.journal.remembered(k[0]) is None]
            out: list[Decision | None] = [None] * len(rows)
            if fresh:
                prepared = self.scorer.prepare(kind, [rows[i] for i in fresh])
                for i, d in zip(fresh, self.commit(kind, prepared, None, [keys[i] for i in fresh]), strict=True):
                    out[i] = d
        self.decided += 1
        return out

    def score_now(self, kind: str, rows: list[Mapping[str, Any]]) -> list[Decision]:
        """Score and journal a batch without idempotency keys (``decide``; for benchmarks and tests)."""
        return [d for d in self.decide(kind, rows) if d is not None]

    def commit(self, kind: str, prepared: Prepared, contributions: np.ndarray | None,
               keys: list[tuple[str, str, str] | None] | None = None) -> list[Decision]:
        """Explain a prepared batch and journal it with its idempotency keys in one transaction (or in the
        caller's ``exclusive()`` one); the state already took its events, so ``applied`` moves past them."""
        scored = self.scorer.finish(kind, prepared, contributions)
        remember = [None if k is None else (k[0], k[1], kind, k[2], json.dumps(scored_json(s)))
                    for k, s in zip(keys or [None] * len(scored), scored, strict=True)]
        seq = self.journal.record([(self.scorer.live(kind).table, r) for r in prepared.events], scored, remember)
        self.applied = max(self.applied, seq)
        for s in scored:
            self.metrics.decision(kind, s.decision)
        return scored

    def close(self) -> None:
        """Snapshot and close (the caller drains the batcher first when requests may be in flight)."""
        try:
            self.snapshot()
        finally:
            self.batcher.close()
            self.journal.close()

    def served(self, kind: str, since_day: str | None = None) -> pd.DataFrame:
        """Served decisions of a product (from the journal) as a frame."""
        sql = ("SELECT day, entity_id, user_id, score, decision, features, model_version FROM scored "
               "WHERE kind = ?" + (" AND day >= ?" if since_day else "") + " ORDER BY seq")
        rows = self.journal.query(sql, (kind, since_day) if since_day else (kind,))
        return pd.DataFrame(rows, columns=["day", "entity_id", "user_id", "score", "decision", "features",
                                           "model_version"])


def scored_json(s: Decision) -> dict[str, Any]:
    return {"kind": s.kind, "entity_id": s.entity_id, "user_id": s.user_id, "score": round(s.score, 6),
            "decision": s.decision, "reasons": list(s.reasons), "model": s.model, "model_version": s.model_version}


def request_hash(body: Mapping[str, Any]) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None
