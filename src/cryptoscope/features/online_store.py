"""Where an online state rests between processes: a SQLite file or a Redis server.

Both hold the same thing: a small header (format, the state's clock, each view's fingerprint) and
per view one record per entity, ``(key as JSON, rows as JSON)``. A save replaces the whole state
atomically: SQLite writes a temporary file next to the target and `os.replace`-s it; Redis writes a
new generation of keys and then switches one pointer key, so a reader sees the old snapshot or the
new one, never a mix. These are snapshots for restart and hand-over, not a store shared live by
several writers (one writer at a time; readers may run concurrently with it).
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from cryptoscope.fsio import fsync

FORMAT = 1

Entities = list[tuple[str, str]]


class StateStore(Protocol):
    def write(self, meta: Mapping[str, Any], views: Mapping[str, Iterable[tuple[str, str]]]) -> None: ...

    def read(self) -> tuple[dict[str, Any], dict[str, Entities]]: ...


class SQLiteStateStore:
    """One SQLite file (stdlib `sqlite3`), replaced atomically on every write."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def write(self, meta: Mapping[str, Any], views: Mapping[str, Iterable[tuple[str, str]]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}.tmp")
        try:
            con = sqlite3.connect(tmp)
            try:
                # no journal: the file is private until os.replace publishes it, after an fsync
                con.execute("PRAGMA journal_mode=OFF")
                con.execute("PRAGMA synchronous=OFF")
                con.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
                con.execute("CREATE TABLE entities (view TEXT NOT NULL, key TEXT NOT NULL, rows TEXT NOT NULL, "
                            "PRIMARY KEY (view, key)) WITHOUT ROWID")
                con.execute("INSERT INTO meta VALUES ('state', ?)", (json.dumps(dict(meta)),))
                for name, entities in views.items():
                    con.executemany("INSERT INTO entities VALUES (?, ?, ?)", ((name, k, r) for k, r in entities))
                con.commit()
            finally:
                con.close()
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)
        fsync(self.path.parent)

    def read(self) -> tuple[dict[str, Any], dict[str, Entities]]:
        if not self.path.exists():
            raise FileNotFoundError(f"no online state snapshot at {self.path}")
        con = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            (meta_json,) = con.execute("SELECT value FROM meta WHERE name = 'state'").fetchone()
            views: dict[str, Entities] = {}
            for view, key, rows in con.execute("SELECT view, key, rows FROM entities ORDER BY view"):
                views.setdefault(view, []).append((key, rows))
        finally:
            con.close()
        return _check(json.loads(meta_json)), views


class RedisStateStore:
    """A Redis server: per save a generation of hashes (one per view, field = entity key), then one pointer.

    Keys: ``{prefix}:current`` holds the live generation; ``{prefix}:{gen}:meta`` the header and
    ``{prefix}:{gen}:view:{name}`` a hash of the view's entities. A save deletes the generation it
    replaced once the pointer has moved.
    """

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", *, prefix: str = "cryptoscope:online",
                 batch: int = 2_000) -> None:
        import redis

        self.client = redis.Redis.from_url(url, decode_responses=True)
        self.prefix = prefix
        self.batch = batch

    def _key(self, gen: str, part: str) -> str:
        return f"{self.prefix}:{gen}:{part}"

    def write(self, meta: Mapping[str, Any], views: Mapping[str, Iterable[tuple[str, str]]]) -> None:
        gen = uuid.uuid4().hex
        r = self.client
        written = [self._key(gen, "meta")]
        try:
            for name, entities in views.items():
                key = self._key(gen, f"view:{name}")
                written.append(key)
                pipe = r.pipeline(transaction=False)
                pending = 0
                for k, rows in entities:
                    pipe.hset(key, k, rows)
                    pending += 1
                    if pending == self.batch:
                        pipe.execute()
                        pending = 0
                pipe.execute()
            r.set(self._key(gen, "meta"), json.dumps({**meta, "views_stored": list(views)}))
            old = _text(r.set(f"{self.prefix}:current", gen, get=True))  # the atomic switch
        except BaseException:
            r.delete(*written)
            raise
        if old:
            self._drop(old)

    def _drop(self, gen: str) -> None:
        meta_json = _text(self.client.get(self._key(gen, "meta")))
        stored = json.loads(meta_json).get("views_stored", []) if meta_json else []
        self.client.delete(self._key(gen, "meta"), *(self._key(gen, f"view:{n}") for n in stored))

    def read(self) -> tuple[dict[str, Any], dict[str, Entities]]:
        r = self.client
        for _ in range(5):  # a save that lands while we read deletes what we read: read the new one
            gen = _text(r.get(f"{self.prefix}:current"))
            if gen is None:
                raise FileNotFoundError(f"no online state under {self.prefix!r} in Redis")
            meta_json = _text(r.get(self._key(gen, "meta")))
            if meta_json is None:
                continue
            meta = json.loads(meta_json)
            views = {name: list(r.hscan_iter(self._key(gen, f"view:{name}"), count=self.batch))
                     for name in meta.get("views_stored", [])}
            if _text(r.get(f"{self.prefix}:current")) == gen:
                return _check(meta), views
        raise RuntimeError("online state in Redis kept changing while it was read")

    def close(self) -> None:
        self.client.close()


def _text(value: Any) -> str | None:
    """A reply of the decode_responses client: text or nothing."""
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"unexpected Redis reply {value!r}")


def _check(meta: dict[str, Any]) -> dict[str, Any]:
    if meta.get("format") != FORMAT:
        raise ValueError(f"online state snapshot format {meta.get('format')!r}, this version reads {FORMAT}")
    return meta
