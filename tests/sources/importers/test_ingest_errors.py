"""Bad input is refused with the file, row, line and column to fix, and the lake stays exactly as it was."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from fake_rows import csv_text, fake_rows, payment_fields, payments_csv

from cryptoscope.errors import ValidationError
from cryptoscope.lake import Lake, connect
from cryptoscope.sources.importers import ingest_files

HEADER = list(payment_fields(1))


def snapshot(lake: Lake) -> tuple[bytes, list[str], int]:
    """Catalog bytes, every file on disk, and the rows a reader sees: all must survive a refused ingest."""
    files = sorted(p.relative_to(lake.root).as_posix() for p in lake.root.rglob("*") if p.is_file())
    rows = connect(lake).con.sql("SELECT count(*) FROM payments").fetchall()[0][0]
    return (lake.root / "_catalog.json").read_bytes(), files, rows


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """A lake that already holds payments 1..5, so "unchanged" means something."""
    lake = Lake(tmp_path / "lake")
    seed = tmp_path / "seed.csv"
    seed.write_text(payments_csv(5))
    ingest_files(lake, "payments", [seed])
    return lake


def refuse(lake: Lake, path: Path, *, table: str = "payments", row: int | None, column: str | None,
           line: int | None, match: str) -> ValidationError:
    """Ingest ``path``, expect a ValidationError pointing at row/column/line, and check nothing changed."""
    before = snapshot(lake)
    with pytest.raises(ValidationError, match=match) as info:
        ingest_files(lake, table, [path])
    err = info.value
    assert (err.file, err.row, err.column, err.line) == (str(path), row, column, line)
    message = str(err)
    assert message.startswith(f"file {path}")
    if row is not None:
        assert f"row {row}" in message
    if column is not None:
        assert repr(column) in message
    if line is not None:
        assert re.search(rf"\bline {line}\b", message), message
    assert snapshot(lake) == before
    return err


def write_payments(tmp_path: Path, edits: dict[int, dict[str, str]], n: int = 6, name: str = "in.csv",
                   header: list[str] | None = None) -> Path:
    """Payments 101..100+n as CSV, with ``edits`` applied to data rows (1-based)."""
    rows = [payment_fields(100 + i) | edits.get(i, {}) for i in range(1, n + 1)]
    path = tmp_path / name
    path.write_text(csv_text(rows, header))
    return path


def test_missing_column(lake: Lake, tmp_path: Path) -> None:
    path = write_payments(tmp_path, {}, header=[c for c in HEADER if c != "amount"])
    refuse(lake, path, row=None, column="amount", line=1, match="missing column")


def test_extra_column(lake: Lake, tmp_path: Path) -> None:
    path = write_payments(tmp_path, {1: {"note": "hello"}}, header=[*HEADER, "note"])
    refuse(lake, path, row=None, column="note", line=1, match="unexpected column")


def test_text_in_an_int_column_names_the_first_bad_row(lake: Lake, tmp_path: Path) -> None:
    path = write_payments(tmp_path, {3: {"user_id": "abc"}, 5: {"user_id": "1.5"}})
    err = refuse(lake, path, row=3, column="user_id", line=4, match="expected an integer, got 'abc'")
    assert "1.5" not in str(err)


def test_unparseable_timestamp(lake: Lake, tmp_path: Path) -> None:
    path = write_payments(tmp_path, {2: {"event_time": "2024-02-30T01:00:00Z"}})
    refuse(lake, path, row=2, column="event_time", line=3, match="unparseable timestamp")


def test_naive_timestamp(lake: Lake, tmp_path: Path) -> None:
    path = write_payments(tmp_path, {4: {"event_time": "2024-01-02 03:04:05"}})
    refuse(lake, path, row=4, column="event_time", line=5, match="naive timestamp .* no UTC offset")


def test_naive_timestamp_in_a_second_time_column(lake: Lake, tmp_path: Path) -> None:
    rows = fake_rows("labels", 4)
    times = [f"{t:%Y-%m-%dT%H:%M:%S}+02:00" for t in rows["decision_time"].to_pylist()]
    times[2] = "2024-01-01T00:00:00"
    path = tmp_path / "labels.csv"
    pcsv.write_csv(rows.set_column(6, "decision_time", pa.array(times)), path)
    refuse(lake, path, table="labels", row=3, column="decision_time", line=4, match="naive timestamp")


def test_negative_amount(lake: Lake, tmp_path: Path) -> None:
    path = write_payments(tmp_path, {5: {"amount_usd": "-0.01"}})
    refuse(lake, path, row=5, column="amount_usd", line=6, match="negative value -0.01")


def test_null_in_a_non_nullable_column(lake: Lake, tmp_path: Path) -> None:
    path = write_payments(tmp_path, {2: {"device_id": ""}})
    refuse(lake, path, row=2, column="device_id", line=3, match="may not be null")


def test_duplicate_primary_key_names_both_rows(lake: Lake, tmp_path: Path) -> None:
    path = write_payments(tmp_path, {4: {"payment_id": "102"}})
    err = refuse(lake, path, row=4, column="payment_id", line=5, match="duplicate primary key")
    assert "payment_id=102" in str(err) and "already in row 2 (line 3)" in str(err)


def test_empty_file(lake: Lake, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    refuse(lake, path, row=None, column=None, line=None, match="empty")


def test_header_only(lake: Lake, tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text(",".join(HEADER) + "\n")
    refuse(lake, path, row=None, column=None, line=None, match="no data rows")


def test_non_utf8_bytes_name_the_line(lake: Lake, tmp_path: Path) -> None:
    path = write_payments(tmp_path, {})
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b"h103", b"h\xe9103")  # Latin-1 é in data row 3
    path.write_bytes(b"\n".join(lines))
    refuse(lake, path, row=3, column="instrument_hash", line=4, match="not UTF-8")


def test_wrong_number_of_fields(lake: Lake, tmp_path: Path) -> None:
    path = write_payments(tmp_path, {})
    path.write_text(path.read_text() + "999,1\n")
    refuse(lake, path, row=7, column=None, line=8, match="expected 15 fields")


def test_line_numbers_count_newlines_inside_quoted_values(lake: Lake, tmp_path: Path) -> None:
    path = write_payments(tmp_path, {1: {"decline_reason": '"two\nlines"'}, 2: {"user_id": "x"}})
    refuse(lake, path, row=2, column="user_id", line=4, match="expected an integer")


def test_truncated_parquet(lake: Lake, tmp_path: Path) -> None:
    path = tmp_path / "cut.parquet"
    pq.write_table(fake_rows("payments", 50, start=200), path)
    path.write_bytes(path.read_bytes()[:-100])
    refuse(lake, path, row=None, column=None, line=None, match="not a readable Parquet file")


def test_parquet_naive_timestamps(lake: Lake, tmp_path: Path) -> None:
    rows = fake_rows("payments", 5, start=200)
    naive = rows.set_column(2, "event_time", rows["event_time"].cast(pa.timestamp("us")))
    pq.write_table(naive, path := tmp_path / "naive.parquet")
    refuse(lake, path, row=1, column="event_time", line=None, match="naive timestamps")


def test_parquet_lossy_cast_names_the_row(lake: Lake, tmp_path: Path) -> None:
    rows = fake_rows("payments", 5, start=200)
    ids = pa.array([200.0, 201.0, 202.5, 203.0, 204.0])
    pq.write_table(rows.set_column(0, "payment_id", ids), path := tmp_path / "float_ids.parquet")
    refuse(lake, path, row=3, column="payment_id", line=None, match="202.5 does not convert to int64")


def test_file_that_does_not_exist(lake: Lake, tmp_path: Path) -> None:
    refuse(lake, tmp_path / "nope.csv", row=None, column=None, line=None, match="no such file")


def test_unknown_table(lake: Lake, tmp_path: Path) -> None:
    before = snapshot(lake)
    with pytest.raises(ValidationError, match="unknown table 'paymnets'; known tables: accounts"):
        ingest_files(lake, "paymnets", [write_payments(tmp_path, {})])
    assert snapshot(lake) == before


def test_a_bad_last_file_leaves_the_lake_unchanged(lake: Lake, tmp_path: Path) -> None:
    good1 = tmp_path / "a.csv"
    good1.write_text(payments_csv(10, start=1000))
    good2 = tmp_path / "b.csv"
    good2.write_text(payments_csv(10, start=2000))
    bad = write_payments(tmp_path, {6: {"amount": "lots"}}, name="c.csv")
    before = snapshot(lake)
    with pytest.raises(ValidationError, match="amount") as info:
        ingest_files(lake, "payments", [good1, good2, bad])
    assert (info.value.file, info.value.row) == (str(bad), 6)
    assert snapshot(lake) == before
