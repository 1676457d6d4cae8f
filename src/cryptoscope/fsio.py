"""Durable file operations shared by the lake, the model registry and the online state store."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from pathlib import Path
from typing import Any

#: threads of the process's shared pool (`io_pool`)
IO_THREADS = 8
_io_pool: ThreadPoolExecutor | None = None
_io_lock = threading.Lock()


def io_pool() -> ThreadPoolExecutor:
    """The process's threads for file work that waits on the disk or runs without the GIL (flushes, Parquet
    encoding), started at first use and kept.

    Why shared: starting a thread costs 50 µs to 1 ms (more on a busy machine), and a small lake commit flushes
    a dozen paths: a pool per commit spent more time starting threads than flushing. Work on it never waits for
    other work on it, so callers cannot deadlock it. A forked child starts its own (the parent's threads are
    not copied into it).
    """
    global _io_pool
    with _io_lock:
        if _io_pool is None:
            _io_pool = ThreadPoolExecutor(IO_THREADS, thread_name_prefix="io")
        return _io_pool


def _forget_pool_in_child() -> None:
    global _io_pool, _io_lock
    _io_pool, _io_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool_in_child)


def drop(futures: Iterable[Future[Any]]) -> None:
    """Cancel the queued ``futures`` and wait for those already running (their outcome unread)."""
    running = [f for f in futures if not f.cancel()]
    wait_all(running)


def fsync(path: str | os.PathLike[str]) -> None:
    """Flush a file's or a folder's entry to disk: a rename is durable only once its folder is synced."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once: readers see the old bytes or the new, never a mix."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync(path.parent)


class SyncBatch:
    """Files flushed to disk on a few threads while the caller goes on; `wait` is the barrier.

    Why: an fsync waits milliseconds for the disk whatever its size, and a commit flushes a dozen files and
    folders; one after the other those waits add up to most of a small commit's time, while fsyncs issued
    together overlap (ext4 serves them with one journal commit) and overlap the caller's own work (the next
    file's encoding). Durability is the same: nothing may count on a file being on disk before `wait` returns.
    The flushes run on the process's shared `io_pool`.
    """

    def __init__(self) -> None:
        self._pending: list[Future[None]] = []

    def add(self, path: str | os.PathLike[str]) -> None:
        """Start flushing ``path`` (a file or a folder)."""
        self._pending.append(io_pool().submit(fsync, path))

    def wait(self) -> None:
        """Return once every path added so far is on disk; raise the first flush's error."""
        pending, self._pending = self._pending, []
        errors = [f.exception() for f in pending]
        first = next((e for e in errors if e is not None), None)
        if first is not None:
            raise first

    def sync(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Flush ``paths`` (and what was added before) together, and wait for all of them."""
        for path in paths:
            self.add(path)
        self.wait()

    def close(self) -> None:
        """Drop the flushes not yet waited for (after those under way)."""
        drop(self._pending)
        self._pending = []
