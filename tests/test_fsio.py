"""fsio's flushes: a SyncBatch's barrier waits for every path added, and says when one could not be flushed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from cryptoscope import fsio
from cryptoscope.fsio import SyncBatch


def test_wait_returns_once_every_added_path_is_flushed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flushed: list[Path] = []
    lock = threading.Lock()
    real = fsio.fsync

    def recording(path: Path) -> None:
        real(path)
        with lock:
            flushed.append(Path(path))

    monkeypatch.setattr(fsio, "fsync", recording)
    files = [tmp_path / f"f{i}" for i in range(20)]
    for f in files:
        f.write_bytes(b"x" * 1000)
    batch = SyncBatch()
    for f in files[:10]:
        batch.add(f)
    batch.sync([*files[10:], tmp_path])
    assert sorted(flushed) == sorted([*files, tmp_path])
    batch.close()
    batch.close()  # idempotent


def test_a_failed_flush_is_raised_at_the_barrier(tmp_path: Path) -> None:
    batch = SyncBatch()
    batch.add(tmp_path / "missing")
    with pytest.raises(FileNotFoundError):
        batch.wait()
    batch.sync([tmp_path])  # the batch stays usable after an error
    batch.close()


def test_close_without_adds_starts_no_threads() -> None:
    before = threading.active_count()
    SyncBatch().close()
    assert threading.active_count() == before
