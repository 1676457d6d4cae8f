"""Durable file operations shared by the lake, the model registry and the online state store."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path


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
    The threads live as long as the batch (`close`), so a forked child never inherits a pool without threads.
    """

    def __init__(self, threads: int = 8) -> None:
        self.threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[Future[None]] = []

    def add(self, path: str | os.PathLike[str]) -> None:
        """Start flushing ``path`` (a file or a folder)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="fsync")
        self._pending.append(self._pool.submit(fsync, path))

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
        """Stop the threads (after the flushes under way; queued ones are dropped, their outcome unread)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._pending = []
