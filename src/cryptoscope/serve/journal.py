"""The serving journal: every accepted event, every decision, every idempotency key, in one SQLite file.

Why a journal: the online state lives in memory and is snapshotted now and then; each event is also
committed here (WAL mode, one transaction per batch) before its answer goes out, so a restart restores
the last snapshot and replays the events committed after it: nothing acknowledged is lost.

Tables: ``events`` (seq, table, row as JSON), ``scored`` (one row per decision, with the model's
inputs, read by drift and performance monitoring), ``idempotency`` (key -> the answer given).

Several server processes (``serve --workers N``, ``workers.py``) share one journal: its ``seq`` is the one
order of every event. ``exclusive()`` holds SQLite's write lock across processes while a process catches its
state up with the events the others journalled, scores and records its own (``Service.decide``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from cryptoscope.productline import Decision

_SCHEMA = (
    # seq is the rowid: events are never deleted, so each new one gets the largest seq plus one (AUTOINCREMENT, kept by
    # journals created before, would add a write of its counter page to every commit)
    "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, row TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS scored (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, entity_id TEXT NOT NULL, "
    "user_id INTEGER NOT NULL, event_time TEXT NOT NULL, day TEXT NOT NULL, score REAL NOT NULL, "
    "decision TEXT NOT NULL, reasons TEXT NOT NULL, model TEXT NOT NULL, model_version INTEGER NOT NULL, "
    "features TEXT NOT NULL, served_at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS scored_day ON scored (model, day)",
    "CREATE INDEX IF NOT EXISTS scored_user ON scored (user_id)",
    "CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, principal TEXT NOT NULL, kind TEXT NOT NULL, "
    "request TEXT NOT NULL, response TEXT NOT NULL, at TEXT NOT NULL)",
)


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in the journal")


def encode_row(row: Mapping[str, Any]) -> str:
    """A row as JSON (orjson: a tenth of ``json.dumps``' time on the per-request path; datetimes in ISO 8601)."""
    return orjson.dumps(row, default=_default).decode()


def decode_row(text: str) -> dict[str, Any]:
    row: dict[str, Any] = json.loads(text)
    if isinstance(row.get("event_time"), str):
        row["event_time"] = dt.datetime.fromisoformat(row["event_time"])
    return row


class Journal:
    """The SQLite journal; safe to call from several threads (one lock, one connection) and processes."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._open = False  # inside exclusive(): record() joins that transaction
        # the cross-process writer lock: SQLite's own busy handler sleeps (1, 2, 5, ... ms) while another process
        # writes, which would sit in the latency of every request that waits; flock wakes the waiter at once
        # (kept open for the journal's life: the lock is taken and released per batch)
        self._writer = open(self.path.with_name(self.path.name + ".lock"), "a+b")  # noqa: SIM115
        self._con = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._con.execute("PRAGMA busy_timeout=30000")  # another process's write transaction: wait, do not fail
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a commit survives a process crash
        # checkpoints (the only step that fsyncs) run on a thread of their own, never inside a request's commit
        self._con.execute("PRAGMA wal_autocheckpoint=0")
        for sql in _SCHEMA:
            self._con.execute(sql)
        self._stop = threading.Event()
        self._checkpointer = threading.Thread(target=self._checkpoints, name="journal-checkpoint", daemon=True)
        self._checkpointer.start()

    def _checkpoints(self, every_s: float = 2.0) -> None:
        """Copy the write-ahead log into the database now and then, without blocking writers (PASSIVE).

        A checkpoint copies a few MB at 1,000 requests/s; on a server given one core it would take turns
        with the event loop for milliseconds, so this thread lowers its own priority (Linux nice 10: the
        scheduler then gives the loop ~90 % of the core while both want it)."""
        with contextlib.suppress(AttributeError, OSError):  # elsewhere: checkpoints at normal priority
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)  # this thread only, on Linux
        con = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            while not self._stop.wait(every_s):
                con.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            con.close()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """One writer at a time across every process on this journal (an exclusive ``flock`` on ``journal.db.lock``,
        then ``BEGIN IMMEDIATE``): what is read inside is every event journalled so far, and what is recorded
        inside gets the next seqs. Committed on leaving, rolled back on an error."""
        with self._lock:
            fcntl.flock(self._writer, fcntl.LOCK_EX)
            try:
                self._con.execute("BEGIN IMMEDIATE")
                self._open = True
                try:
                    yield
                except BaseException:
                    self._con.execute("ROLLBACK")
                    raise
                else:
                    self._con.execute("COMMIT")
                finally:
                    self._open = False
            finally:
                fcntl.flock(self._writer, fcntl.LOCK_UN)

    def record(self, events: Sequence[tuple[str, Mapping[str, Any]]], scored: Sequence[Decision | None] = (),
               remember: Sequence[tuple[str, str, str, str, str] | None] = ()) -> int:
        """Append events (and their decisions and idempotency keys, aligned by position) in one transaction.

        Returns the last seq. ``remember`` rows are (key, principal, kind, request hash, response JSON)."""
        now = dt.datetime.now(dt.UTC).isoformat()
        seq = 0
        with self._lock:
            own = not self._open  # else the caller's exclusive() transaction commits it
            if own:
                self._con.execute("BEGIN")
            try:
                for i, (table, row) in enumerate(events):
                    cur = self._con.execute("INSERT INTO events (tbl, row) VALUES (?, ?)", (table, encode_row(row)))
                    seq = int(cur.lastrowid or 0)
                    s = scored[i] if i < len(scored) else None
                    if s is not None:
                        self._con.execute(
                            "INSERT INTO scored VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                            (seq, s.kind, s.entity_id, s.user_id, s.event_time.isoformat(),
                             s.event_time.astimezone(dt.UTC).date().isoformat(), s.score, s.decision,
                             orjson.dumps(s.reasons).decode(), s.model, s.model_version,
                             orjson.dumps(s.features).decode(), now))
                    key = remember[i] if i < len(remember) else None
                    if key is not None:
                        self._con.execute("INSERT OR IGNORE INTO idempotency VALUES (?,?,?,?,?,?)", (*key, now))
                if own:
                    self._con.execute("COMMIT")
            except BaseException:
                if own:
                    self._con.execute("ROLLBACK")
                raise
        return seq

    def events_after(self, seq: int) -> Iterator[tuple[int, str, dict[str, Any]]]:
        """Events committed after ``seq``, in order (the replay after a snapshot)."""
        with self._lock:
            rows = self._con.execute("SELECT seq, tbl, row FROM events WHERE seq > ? ORDER BY seq", (seq,)).fetchall()
        for s, table, row in rows:
            yield int(s), str(table), decode_row(row)

    def last_seq(self) -> int:
        with self._lock:
            (seq,) = self._con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
        return int(seq)

    def remembered(self, key: str) -> tuple[str, str, str, str] | None:
        """(principal, kind, request hash, response JSON) given earlier under an idempotency key."""
        with self._lock:
            row = self._con.execute("SELECT principal, kind, request, response FROM idempotency WHERE key = ?",
                                    (key,)).fetchone()
        return None if row is None else (str(row[0]), str(row[1]), str(row[2]), str(row[3]))

    def remember(self, key: str, principal: str, kind: str, request: str, response: str) -> None:
        with self._lock:
            self._con.execute("INSERT OR IGNORE INTO idempotency VALUES (?,?,?,?,?,?)",
                              (key, principal, kind, request, response, dt.datetime.now(dt.UTC).isoformat()))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Read-only queries for monitoring and the console (parameters bound, never formatted in)."""
        with self._lock:
            return list(self._con.execute(sql, tuple(params)).fetchall())

    def close(self) -> None:
        self._stop.set()
        self._checkpointer.join(10)
        with self._lock:
            self._con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._con.close()
            self._writer.close()
