"""Deleting rows (a block that left the best chain): gone at commit, old files retired, appends see the deletion."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from cryptoscope.errors import LakeError
from cryptoscope.lake import Lake, connect

from .test_store import DAY, payments, seen, unlisted_parquet


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = Lake(tmp_path / "lake")
    with lake.transaction() as tx:
        tx.append("payments", payments(range(1, 11)))
    return lake


def test_deleted_rows_vanish_at_commit_and_files_retire(lake: Lake) -> None:
    reader = connect(lake)
    files = len(lake.catalog().files("payments"))
    with lake.transaction() as tx:
        # 1 is alone in May 1's file (emptied: dropped); 2 and 5 share May 2's and May 3's (rewritten)
        assert tx.delete("payments", pa.table({"payment_id": [1, 2, 5, 99]})) == 3
        assert seen(lake) == [(i, 1.0) for i in range(1, 11)]  # nothing visible before the commit
    assert seen(lake) == [(i, 1.0) for i in (3, 4, 6, 7, 8, 9, 10)]
    assert len(lake.catalog().files("payments")) == files - 1 and len(lake.catalog().retired) == 3
    assert reader.con.sql("SELECT count(*) FROM payments").fetchall() == [(10,)]  # its old snapshot still reads
    assert unlisted_parquet(lake) == []


def test_an_append_after_a_delete_in_one_transaction_adds_the_rows_back(lake: Lake) -> None:
    with lake.transaction() as tx:
        tx.delete("payments", pa.table({"payment_id": [3, 4]}))
        assert tx.append("payments", payments(range(3, 5), amount=7.0)) == 2  # dedupe sees the deletion
    assert (3, 7.0) in seen(lake) and (4, 7.0) in seen(lake) and len(seen(lake)) == 10


def test_the_time_window_limits_the_files_read(lake: Lake) -> None:
    with lake.transaction() as tx:
        since = DAY + dt.timedelta(hours=12 * 9)  # payment 10, alone in its day
        assert tx.delete("payments", pa.table({"payment_id": [1, 10]}), since=since, until=since) == 1
    assert [p for p, _ in seen(lake)] == list(range(1, 10))
    with pytest.raises(LakeError, match="both replace and delete"), lake.transaction() as tx:
        tx.replace("payments")
        tx.delete("payments", pa.table({"payment_id": [1]}))
