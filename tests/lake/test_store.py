"""The lake's promises: readers see only committed files, failed writers leave nothing, replace replaces."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cryptoscope import fsio
from cryptoscope.errors import LakeError
from cryptoscope.lake import Lake, connect, store
from cryptoscope.lake import catalog as lake_catalog
from cryptoscope.lake.catalog import CATALOG_FILE
from cryptoscope.lake.store import COMMITTING
from cryptoscope.schema import get_table

DAY = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)


def payments(ids: range, *, amount: float = 1.0) -> pa.Table:
    """Minimal valid payments with the given ids, two per day."""
    n = len(ids)
    text = [f"x{i}" for i in ids]
    columns = {
        "payment_id": list(ids), "user_id": [i % 7 for i in ids],
        "event_time": [DAY + dt.timedelta(hours=12 * k) for k in range(n)],
        "direction": ["deposit"] * n, "method": ["card"] * n, "instrument_hash": text,
        "instrument_country": ["DE"] * n, "merchant_id": [None] * n, "currency": ["EUR"] * n, "amount": [amount] * n,
        "amount_usd": [amount] * n, "status": ["completed"] * n, "decline_reason": [None] * n,
        "device_id": text, "ip": ["10.0.0.1"] * n,
    }
    schema = get_table("payments").arrow_schema
    return pa.Table.from_pydict(columns, schema=schema)


def seen(lake: Lake) -> list[tuple[int, float]]:
    """(payment_id, amount) of every payment a reader sees."""
    query = "SELECT payment_id, amount FROM payments ORDER BY payment_id"
    return [tuple(r) for r in connect(lake).con.sql(query).fetchall()]


def disk(lake: Lake) -> list[str]:
    """Every file under the lake root except the lock file."""
    return sorted(p.relative_to(lake.root).as_posix() for p in lake.root.rglob("*")
                  if p.is_file() and p.name != ".lock")


def unlisted_parquet(lake: Lake) -> list[str]:
    listed = lake.catalog().all_paths()
    return [p for p in disk(lake) if p.endswith(".parquet") and p not in listed]


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """A lake holding payments 1..10, 12 hours apart."""
    lake = Lake(tmp_path / "lake")
    with lake.transaction() as tx:
        assert tx.append("payments", payments(range(1, 11))) == 10
    return lake


def test_a_commit_lists_every_file_and_leaves_no_staging(lake: Lake) -> None:
    assert lake.catalog().version == 1
    assert len(lake.catalog().files("payments")) == 6  # one file per UTC day, May 1 to May 6
    assert unlisted_parquet(lake) == []
    assert not (lake.root / "_staging").exists()
    assert seen(lake) == [(i, 1.0) for i in range(1, 11)]


def test_files_a_killed_writer_left_are_invisible_and_the_next_transaction_removes_them(lake: Lake) -> None:
    before, catalog = seen(lake), (lake.root / CATALOG_FILE).read_bytes()
    # What a writer killed mid-commit leaves: a staged file, a file already renamed into its partition
    # (not yet in the catalog), a half-written catalog temp file and the marker of a commit under way.
    staged = lake.root / "_staging" / "20240501T000000-dead" / "payments" / "event_date=2024-05-01"
    staged.mkdir(parents=True)
    pq.write_table(payments(range(100, 110)), staged / "part-dead-00001.parquet")
    renamed = lake.root / "payments" / "event_date=2024-05-01" / "part-dead-00002.parquet"
    pq.write_table(payments(range(200, 201)), renamed)
    (lake.root / f".{CATALOG_FILE}.99999.tmp").write_text("{half a catal")
    (lake.root / COMMITTING).write_text("20240501T000000-dead")

    assert seen(lake) == before
    assert (lake.root / CATALOG_FILE).read_bytes() == catalog
    assert unlisted_parquet(lake) == ["_staging/20240501T000000-dead/payments/event_date=2024-05-01/"
                                      "part-dead-00001.parquet", "payments/event_date=2024-05-01/"
                                      "part-dead-00002.parquet"]

    with lake.transaction():
        pass
    assert unlisted_parquet(lake) == []
    assert not (lake.root / "_staging").exists()
    assert not list(lake.root.glob(f".{CATALOG_FILE}.*.tmp"))
    assert not (lake.root / COMMITTING).exists()
    assert seen(lake) == before


def test_an_exception_inside_a_transaction_leaves_nothing(lake: Lake) -> None:
    before, files = seen(lake), disk(lake)
    with pytest.raises(RuntimeError, match="boom"), lake.transaction() as tx:
        tx.append("payments", payments(range(11, 40)))
        tx.append("payments", payments(range(40, 50)), dedupe=False)  # an open streaming writer too
        raise RuntimeError("boom")
    assert disk(lake) == files
    assert not (lake.root / "_staging").exists()
    assert lake.catalog().version == 1
    assert seen(lake) == before


@pytest.mark.parametrize("damage", ["truncated", "deleted"])
def test_a_damaged_committed_file_is_a_lake_error_and_releases_the_lock(lake: Lake, damage: str) -> None:
    victim = lake.root / lake.catalog().files("payments")[0].path
    if damage == "truncated":
        victim.write_bytes(victim.read_bytes()[:100])
    else:
        victim.unlink()
    files = disk(lake)
    with pytest.raises(LakeError, match="a committed file of payments is missing or unreadable"), \
            lake.transaction() as tx:
        tx.append("payments", payments(range(11, 20)))
    assert disk(lake) == files and lake.catalog().version == 1
    with lake.transaction():  # the lock is free again
        pass


def test_replace_then_append_replaces_the_table(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    old_files = [lake.root / f.path for f in lake.catalog().files("payments")]
    reader = connect(lake)  # opened on the old catalog
    with lake.transaction() as tx:
        tx.replace("payments")
        assert tx.append("payments", payments(range(5, 8), amount=9.0)) == 3  # old keys do not count
    assert seen(lake) == [(5, 9.0), (6, 9.0), (7, 9.0)]
    # the old files retire: a reader that listed them still finishes, and the lake still owns them
    assert reader.con.sql("SELECT count(*) FROM payments").fetchall() == [(10,)]
    assert all(p.exists() for p in old_files) and unlisted_parquet(lake) == []
    monkeypatch.setattr(store, "RETENTION", dt.timedelta(0))
    with lake.transaction() as tx:  # a later commit past the retention deletes them
        tx.append("payments", payments(range(30, 31)))
    assert not any(p.exists() for p in old_files) and not lake.catalog().retired
    assert unlisted_parquet(lake) == []


def test_dedupe_skips_keys_in_the_lake_and_earlier_in_the_same_transaction(lake: Lake) -> None:
    with lake.transaction() as tx:
        assert tx.append("payments", payments(range(8, 15), amount=2.0)) == 4  # 11..14
        assert tx.append("payments", payments(range(14, 17), amount=3.0)) == 2  # 15, 16
    assert seen(lake) == [*((i, 1.0) for i in range(1, 11)), *((i, 2.0) for i in range(11, 15)),
                          (15, 3.0), (16, 3.0)]


def test_a_reader_opened_before_a_commit_keeps_its_snapshot(lake: Lake, tmp_path: Path) -> None:
    reader = connect(lake)
    copy = tmp_path / "copy"
    shutil.copytree(lake.root, copy)
    with lake.transaction() as tx:
        tx.append("payments", payments(range(11, 13)))
    assert reader.con.sql("SELECT count(*) FROM payments").fetchall() == [(10,)]
    assert len(seen(lake)) == 12
    assert len(seen(Lake(copy))) == 10


def test_a_commit_flushes_each_file_before_its_rename_and_the_catalog_last(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The order power loss needs: staged files on disk before they move in, the partition folders and the new
    catalog on disk before the catalog swap, and the lake folder flushed after it."""
    events: list[tuple[str, str]] = []
    lock = threading.Lock()
    real_fsync, real_replace = fsio.fsync, os.replace

    def fsync(path: str | os.PathLike[str]) -> None:
        real_fsync(path)
        with lock:
            events.append(("fsync", str(path)))

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        real_replace(src, dst)
        with lock:
            events.append(("replace", str(src)))

    monkeypatch.setattr(fsio, "fsync", fsync)
    monkeypatch.setattr(lake_catalog, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    lake = Lake(tmp_path / "lake")
    with lake.transaction() as tx:
        tx.append("payments", payments(range(1, 11)))  # six days: six files
    renames = [i for i, (kind, path) in enumerate(events) if kind == "replace" and path.endswith(".parquet")]
    assert len(renames) == 6
    staged = [p for kind, p in events if kind == "replace" and p.endswith(".parquet")]
    for path in staged:
        assert ("fsync", path) in events[:renames[0]], f"{path} moved in before it was on disk"
    swap = next(i for i, (kind, path) in enumerate(events) if kind == "replace" and CATALOG_FILE in path)
    folders = {str(lake.root / f.path).rsplit("/", 1)[0] for f in lake.catalog().files("payments")}
    flushed = {p for kind, p in events[renames[-1]:swap] if kind == "fsync"}
    assert folders <= flushed, "a partition folder was not flushed before the catalog swap"
    assert any(CATALOG_FILE in p for p in flushed), "the new catalog was not flushed before its swap"
    assert events[swap + 1:] == [("fsync", str(lake.root))]
    assert seen(lake) == [(i, 1.0) for i in range(1, 11)]


def test_a_monthly_append_writes_one_file_per_month_that_readers_and_compaction_take(tmp_path: Path) -> None:
    """Rows over days of two months: two files in ``event_month=`` folders, the same rows a reader sees, and a
    rerun adds nothing (the duplicate check reads month files as it reads day files)."""
    lake = Lake(tmp_path / "lake")
    rows = payments(range(1, 81))  # 40 days from 2024-05-01: May and June
    with lake.transaction() as tx:
        assert tx.append("payments", rows, monthly=True) == 80
    files = sorted(f.path for f in lake.catalog().files("payments"))
    assert [Path(f).parent.name for f in files] == ["event_month=2024-05", "event_month=2024-06"]
    assert seen(lake) == [(i, 1.0) for i in range(1, 81)]
    with lake.transaction() as tx:
        assert tx.append("payments", rows, monthly=True) == 0
    assert unlisted_parquet(lake) == [] and not (lake.root / "_staging").exists()
