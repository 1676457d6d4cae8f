"""Ingesting good exports: CSV round trips through `lake export`, Parquet casts, counts per file, idempotence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fake_rows import csv_text, fake_rows, payment_fields, payments_csv

from cryptoscope.lake import Lake, connect
from cryptoscope.schema import TABLES, get_table
from cryptoscope.sources.importers import ProgressEvent, export_csv, ingest_files


def lake_rows(lake: Lake, name: str) -> list[dict]:
    """Every row a reader sees in ``name``, ordered by primary key."""
    key = ", ".join(f'"{k}"' for k in get_table(name).primary_key)
    return connect(lake).con.sql(f'SELECT * FROM "{name}" ORDER BY {key}').to_arrow_table().to_pylist()


@pytest.mark.parametrize("name", list(TABLES))
def test_export_then_ingest_into_a_fresh_lake_gives_identical_rows(tmp_path: Path, name: str) -> None:
    source = Lake(tmp_path / "source")
    with source.transaction() as tx:
        tx.append(name, fake_rows(name, 120))
    out = tmp_path / f"{name}.csv"
    assert export_csv(source, name, out) == 120

    target = Lake(tmp_path / "target")
    result = ingest_files(target, name, [out])
    assert (result.rows_read, result.rows_added) == (120, 120)
    assert lake_rows(target, name) == lake_rows(source, name)

    again = ingest_files(target, name, [out])
    assert (again.rows_read, again.rows_added, again.already_present) == (120, 0, 120)
    assert len(lake_rows(target, name)) == 120


def test_exported_csv_uses_duckdb_utc_times_and_keeps_empty_strings_apart_from_nulls(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    rows = fake_rows("payments", 8)
    with lake.transaction() as tx:
        tx.append("payments", rows)
    out = tmp_path / "p.csv"
    export_csv(lake, "payments", out)
    text = out.read_text()
    assert "2024-01-0" in text and "+00," in text  # e.g. 2024-01-02 07:00:05.573328+00
    assert ',"",' in text  # an empty string is quoted; a null is an empty field
    assert not list(tmp_path.glob(".p.csv.*"))  # the temp file was renamed into place


@pytest.mark.parametrize(("written", "utc"), [
    ("2024-01-02 03:04:05.123456+00", dt.datetime(2024, 1, 2, 3, 4, 5, 123456)),
    ("2024-01-02T03:04:05Z", dt.datetime(2024, 1, 2, 3, 4, 5)),
    ("2024-01-02T03:04:05.5+00:00", dt.datetime(2024, 1, 2, 3, 4, 5, 500000)),
    ("2024-01-02T05:34:05+05:30", dt.datetime(2024, 1, 2, 0, 4, 5)),
    ("2024-01-01 20:04:05-07", dt.datetime(2024, 1, 2, 3, 4, 5)),
])
def test_timestamps_with_any_offset_are_stored_in_utc(tmp_path: Path, written: str, utc: dt.datetime) -> None:
    path = tmp_path / "p.csv"
    path.write_text(csv_text([payment_fields(1) | {"event_time": written}]))
    ingest_files(tmp_path / "lake", "payments", [path])
    assert lake_rows(Lake(tmp_path / "lake"), "payments")[0]["event_time"] == utc.replace(tzinfo=dt.UTC)


def test_unquoted_empty_is_null_and_quoted_empty_is_an_empty_string(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(csv_text([payment_fields(1) | {"decline_reason": ""},
                              payment_fields(2) | {"decline_reason": '""', "method": '"card, online"'}]))
    ingest_files(tmp_path / "lake", "payments", [path])
    got = lake_rows(Lake(tmp_path / "lake"), "payments")
    assert [r["decline_reason"] for r in got] == [None, ""]
    assert got[1]["method"] == "card, online"


def test_parquet_columns_that_cast_safely_are_accepted(tmp_path: Path) -> None:
    rows = fake_rows("payments", 40)
    berlin = rows["event_time"].cast(pa.timestamp("ns", tz="Europe/Berlin"))
    loose = (rows.set_column(0, "payment_id", rows["payment_id"].cast(pa.int32()))
             .set_column(2, "event_time", berlin)
             .set_column(4, "method", rows["method"].dictionary_encode())
             .set_column(8, "amount", pa.array([i * 0.25 for i in range(40)], pa.float32()))
             .set_column(13, "ip", rows["ip"].cast(pa.large_string())))
    loose = loose.select([*reversed(loose.column_names)])  # column order does not matter
    pq.write_table(loose, path := tmp_path / "p.parquet")

    result = ingest_files(tmp_path / "lake", "payments", [path])
    assert result.rows_added == 40
    got = lake_rows(Lake(tmp_path / "lake"), "payments")
    want = rows.to_pylist()
    assert [r["event_time"] for r in got] == [r["event_time"] for r in want]
    assert [r["ip"] for r in got] == [r["ip"] for r in want]
    assert [r["amount"] for r in got] == [i * 0.25 for i in range(40)]


def test_parquet_without_a_suffix_is_recognised_by_its_magic_bytes(tmp_path: Path) -> None:
    pq.write_table(fake_rows("payments", 5), path := tmp_path / "export.bin")
    assert ingest_files(tmp_path / "lake", "payments", [path]).rows_added == 5


def test_several_files_report_rows_per_file_and_overlaps_count_as_already_present(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    (a := tmp_path / "a.csv").write_text(payments_csv(10, start=1))
    ingest_files(lake, "payments", [a])
    (b := tmp_path / "b.csv").write_text(payments_csv(10, start=6))  # 6..15: 6..10 are in the lake
    (c := tmp_path / "c.csv").write_text(payments_csv(10, start=11))  # 11..20: 11..15 come with b
    events: list[ProgressEvent] = []
    result = ingest_files(lake, "payments", [b, c], events.append)

    assert [(f.path, f.rows_read, f.rows_added, f.already_present) for f in result.files] == [
        (b, 10, 5, 5), (c, 10, 5, 5)]
    assert (result.rows_read, result.rows_added, result.already_present) == (20, 10, 10)
    assert [r["payment_id"] for r in lake_rows(lake, "payments")] == list(range(1, 21))
    assert result.catalog_version == lake.catalog().version == 2
    assert [(e.stage, e.done, e.total) for e in events] == [
        ("read", 1, 2), ("read", 2, 2), ("write", 1, 2), ("write", 2, 2), ("commit", 2, 2)]


def test_rows_land_in_daily_partitions_of_their_utc_event_time(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(csv_text([payment_fields(1) | {"event_time": "2024-03-01T23:30:00-02:00"}]))
    ingest_files(tmp_path / "lake", "payments", [path])
    (entry,) = Lake(tmp_path / "lake").catalog().files("payments")
    assert "event_date=2024-03-02/" in entry.path
