"""Compaction: a table's small files of one month become one file; readers see the same rows throughout."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cryptoscope.cli import app
from cryptoscope.lake import FileEntry, Lake, connect, store
from cryptoscope.lake.compact import compact, plan

from .test_store import payments, seen, unlisted_parquet


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """Payments 1..120, two a day from May 1 (so May and June), written in four transactions: 64 small files
    (a day that two transactions wrote is two files)."""
    lake, every = Lake(tmp_path / "lake"), payments(range(1, 121))
    for start in (0, 30, 60, 90):
        with lake.transaction() as tx:
            tx.append("payments", every.slice(start, 30))
    return lake


def _months(lake: Lake) -> list[tuple[str, str]]:
    return [((f.min_time or "")[:7], (f.max_time or "")[:7]) for f in lake.catalog().files("payments")]


def test_small_files_of_a_month_become_one_and_the_rows_stay(lake: Lake) -> None:
    before, files = seen(lake), len(lake.catalog().files("payments"))
    assert files == 64 and sorted(set(_months(lake))) == [("2024-05", "2024-05"), ("2024-06", "2024-06")]
    reader = connect(lake)  # listed the small files before the compaction

    assert compact(lake) == {"payments": (64, 2)}
    assert seen(lake) == before and _months(lake) == [("2024-05", "2024-05"), ("2024-06", "2024-06")]
    assert [f.rows for f in lake.catalog().files("payments")] == [61, 59]
    assert all("/event_month=2024-0" in f.path for f in lake.catalog().files("payments"))
    assert reader.con.sql("SELECT count(*) FROM payments").fetchall() == [(120,)]  # its files are retired, not gone
    assert unlisted_parquet(lake) == []
    assert compact(lake) == {}  # nothing small left to merge
    with lake.transaction() as tx:  # keys are still found after the merge
        assert tx.append("payments", payments(range(100, 125))) == 4


def test_a_failed_compaction_leaves_the_lake_as_it_was(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog, before = lake.catalog(), seen(lake)

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(store.pq, "write_table", broken)
    with pytest.raises(OSError, match="disk full"):
        compact(lake)
    assert lake.catalog() == catalog and seen(lake) == before and not (lake.root / "_staging").exists()


def test_retired_files_are_deleted_by_a_commit_after_the_retention(lake: Lake, monkeypatch: pytest.MonkeyPatch
                                                                   ) -> None:
    old = [lake.root / f.path for f in lake.catalog().files("payments")]
    compact(lake)
    assert len(lake.catalog().retired) == 64 and all(p.exists() for p in old)
    with lake.transaction() as tx:
        tx.append("payments", payments(range(200, 201)))
    assert all(p.exists() for p in old)  # within the hour: kept
    monkeypatch.setattr(store, "RETENTION", dt.timedelta(0))
    with lake.transaction() as tx:
        tx.append("payments", payments(range(201, 202)))
    assert not any(p.exists() for p in old) and not lake.catalog().retired and unlisted_parquet(lake) == []


def test_a_commit_deletes_a_bounded_number_of_expired_files_the_oldest_first(lake: Lake,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """So that a commit after a large compaction's retention does not stall a stream's feed; none is orphaned."""
    old = [lake.root / f.path for f in lake.catalog().files("payments")]
    compact(lake)
    monkeypatch.setattr(store, "RETENTION", dt.timedelta(0))
    monkeypatch.setattr(store, "DELETE_PER_COMMIT", 25)
    gone = []
    for i in range(3):
        with lake.transaction() as tx:
            tx.append("payments", payments(range(300 + i, 301 + i)))
        gone.append(sum(not p.exists() for p in old))
        assert set(lake.catalog().retired) == {f"{p.relative_to(lake.root).as_posix()}" for p in old if p.exists()}
    assert gone == [25, 50, 64] and unlisted_parquet(lake) == []


def _entry(name: str, day: str, last: str | None = None, size: int = 1_000) -> FileEntry:
    return FileEntry(name, 10, f"{day}T00:00:00+00:00", f"{last or day}T23:00:00+00:00", size)


def test_the_plan_merges_small_files_within_a_month_up_to_the_target() -> None:
    files = [_entry("a", "2024-05-01"), _entry("b", "2024-05-02"), _entry("c", "2024-05-03"),
             _entry("big", "2024-05-04", size=10 << 20), _entry("across", "2024-05-31", "2024-06-01"),
             _entry("d", "2024-06-02"), _entry("lonely", "2024-07-01")]
    assert [[f.path for f in g] for g in plan(files)] == [["a", "b", "c"]]  # June's d has no partner
    assert [[f.path for f in g] for g in plan(files, target_bytes=2_000)] == [["a", "b"]]  # c would pass it
    assert plan(files, small_bytes=1_000) == []


def test_cli_compacts_the_tables_named(lake: Lake) -> None:
    out = CliRunner().invoke(app, ["lake", "compact", "--lake", str(lake.root), "--tables", "payments"])
    assert out.exit_code == 0 and "payments: 64 files -> 2" in out.output
    out = CliRunner().invoke(app, ["lake", "compact", "--lake", str(lake.root)])
    assert out.exit_code == 0 and "nothing to compact" in out.output
