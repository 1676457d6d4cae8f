"""Mapping files: a vendor export's columns turned into a canonical table's, then checked like any export."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cryptoscope.errors import ValidationError
from cryptoscope.lake import Lake, connect
from cryptoscope.sources.importers import Mapping, ingest_files

REPO = Path(__file__).resolve().parents[3]
FDH = REPO.parent / "shared" / "data" / "fdh" / "transactions.parquet"
UTC = dt.UTC

#: A card-network style export: its own column names, naive local times, integer ids.
VENDOR = pa.table({
    "TX_ID": pa.array([10, 11, 12], pa.int64()),
    "CUSTOMER": pa.array([7, 8, 7], pa.int64()),
    "WHEN": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5), dt.datetime(2024, 7, 1, 12, 0),
                      dt.datetime(2024, 7, 2, 0, 30)], pa.timestamp("ns")),
    "TERMINAL": pa.array([501, 502, 501], pa.int64()),
    "AMOUNT": pa.array([12.5, 0.0, 99.99]),
    "FRAUD": pa.array([0, 1, 0], pa.int64()),
})


def payments_mapping(**overrides: Any) -> dict[str, Any]:
    columns: dict[str, Any] = {
        "payment_id": "TX_ID", "user_id": "CUSTOMER", "event_time": {"column": "WHEN", "timezone": "UTC"},
        "direction": {"value": "deposit"}, "method": {"value": "card"},
        "instrument_hash": {"template": "card-{CUSTOMER}"}, "instrument_country": {"value": "FR"},
        "merchant_id": {"column": "TERMINAL", "cast": "string"}, "currency": {"value": "EUR"},
        "amount": "AMOUNT", "amount_usd": "AMOUNT", "status": {"value": "completed"},
        "decline_reason": {"value": None}, "device_id": {"value": "unknown"}, "ip": {"value": "0.0.0.0"},
    }
    columns.update(overrides)
    return {"table": "payments", "doc": "test export", "columns": columns}


def write(tmp_path: Path, mapping: dict[str, Any], data: pa.Table = VENDOR) -> tuple[Path, Path]:
    (m := tmp_path / "mapping.json").write_text(json.dumps(mapping))
    pq.write_table(data, d := tmp_path / "export.parquet")
    return m, d


def ingest(tmp_path: Path, mapping: dict[str, Any], data: pa.Table = VENDOR, table: str = "payments") -> pa.Table:
    m, d = write(tmp_path, mapping, data)
    lake = Lake(tmp_path / "lake")
    ingest_files(lake, table, [d], mapping=m)
    return connect(lake).table(table).order_by("event_time").to_pyarrow()


# -- each feature ---------------------------------------------------------------------------------


def test_names_constants_templates_and_casts_make_the_canonical_rows(tmp_path: Path) -> None:
    rows = ingest(tmp_path, payments_mapping())
    assert rows["payment_id"].to_pylist() == [10, 11, 12]
    assert rows["user_id"].to_pylist() == [7, 8, 7]
    assert rows["instrument_hash"].to_pylist() == ["card-7", "card-8", "card-7"]
    assert rows["merchant_id"].to_pylist() == ["501", "502", "501"]
    assert set(rows["direction"].to_pylist()) == {"deposit"}
    assert rows["decline_reason"].null_count == 3
    assert rows["amount"].to_pylist() == rows["amount_usd"].to_pylist() == [12.5, 0.0, 99.99]


def test_a_time_zone_reads_naive_times_as_local_times(tmp_path: Path) -> None:
    mapping = payments_mapping(event_time={"column": "WHEN", "timezone": "Europe/Paris"})
    times = ingest(tmp_path, mapping)["event_time"].to_pylist()
    assert times == [dt.datetime(2024, 1, 2, 2, 4, 5, tzinfo=UTC),  # winter: UTC+1
                     dt.datetime(2024, 7, 1, 10, 0, tzinfo=UTC),  # summer: UTC+2
                     dt.datetime(2024, 7, 1, 22, 30, tzinfo=UTC)]  # and into the previous UTC day


def test_a_fixed_offset_is_a_time_zone_too(tmp_path: Path) -> None:
    mapping = payments_mapping(event_time={"column": "WHEN", "timezone": "-05:00"})
    assert ingest(tmp_path, mapping)["event_time"][0].as_py() == dt.datetime(2024, 1, 2, 8, 4, 5, tzinfo=UTC)


def test_without_a_time_zone_naive_timestamps_stay_an_error(tmp_path: Path) -> None:
    m, d = write(tmp_path, payments_mapping(event_time="WHEN"))
    with pytest.raises(ValidationError, match="naive timestamps") as err:
        ingest_files(tmp_path / "lake", "payments", [d], mapping=m)
    assert err.value.column == "event_time" and err.value.file == str(d)
    assert not (tmp_path / "lake").exists() or Lake(tmp_path / "lake").status() == []


def test_plus_shifts_times_and_makes_a_label_known_later(tmp_path: Path) -> None:
    mapping = {"table": "labels", "columns": {
        "label_id": "TX_ID", "entity_type": {"value": "payment"}, "entity_id": {"column": "TX_ID", "cast": "string"},
        "user_id": "CUSTOMER", "label_type": {"value": "card_fraud"}, "label": "FRAUD",
        "decision_time": {"column": "WHEN", "timezone": "UTC"},
        "event_time": {"column": "WHEN", "timezone": "UTC", "plus": "7d"}, "source": {"value": "chargeback"}}}
    rows = ingest(tmp_path, mapping, table="labels")
    assert rows["entity_id"].to_pylist() == ["10", "11", "12"]
    for known, decided in zip(rows["event_time"].to_pylist(), rows["decision_time"].to_pylist(), strict=True):
        assert known - decided == dt.timedelta(days=7)


def test_a_negative_shift(tmp_path: Path) -> None:
    mapping = payments_mapping(event_time={"column": "WHEN", "timezone": "UTC", "plus": "-90m"})
    assert ingest(tmp_path, mapping)["event_time"][0].as_py() == dt.datetime(2024, 1, 2, 1, 34, 5, tzinfo=UTC)


def test_csv_text_goes_through_the_same_rules(tmp_path: Path) -> None:
    (m := tmp_path / "m.json").write_text(json.dumps(payments_mapping(
        payment_id={"column": "TX_ID", "cast": "int64"}, merchant_id="TERMINAL")))
    (d := tmp_path / "export.csv").write_text(
        "TX_ID,CUSTOMER,WHEN,TERMINAL,AMOUNT\n1,7,2024-01-02 03:04:05,T-1,5.5\n2,8,2024-01-03T00:00:00,,6\n")
    lake = Lake(tmp_path / "lake")
    ingest_files(lake, "payments", [d], mapping=m)
    rows = connect(lake).table("payments").order_by("payment_id").to_pyarrow()
    assert rows["merchant_id"].to_pylist() == ["T-1", None]
    assert rows["event_time"][1].as_py() == dt.datetime(2024, 1, 3, tzinfo=UTC)


def test_a_template_with_a_null_gives_null_and_the_schema_refuses_it(tmp_path: Path) -> None:
    data = VENDOR.set_column(1, "CUSTOMER", pa.array([7, None, 7], pa.int64()))
    m, d = write(tmp_path, payments_mapping(user_id={"value": 1}), data)
    with pytest.raises(ValidationError, match="may not be null") as err:
        ingest_files(tmp_path / "lake", "payments", [d], mapping=m)
    assert (err.value.row, err.value.column) == (2, "instrument_hash")


def test_every_existing_check_still_applies(tmp_path: Path) -> None:
    data = VENDOR.set_column(4, "AMOUNT", pa.array([1.0, -2.0, 3.0]))
    m, d = write(tmp_path, payments_mapping(), data)
    with pytest.raises(ValidationError, match=r"negative value -2\.0") as err:
        ingest_files(tmp_path / "lake", "payments", [d], mapping=m)
    assert (err.value.row, err.value.column) == (2, "amount")
    dup = VENDOR.set_column(0, "TX_ID", pa.array([10, 11, 10], pa.int64()))
    m, d = write(tmp_path, payments_mapping(), dup)
    with pytest.raises(ValidationError, match="duplicate primary key"):
        ingest_files(tmp_path / "lake", "payments", [d], mapping=m)


def test_a_lossy_cast_names_the_value(tmp_path: Path) -> None:
    m, d = write(tmp_path, payments_mapping(user_id={"column": "AMOUNT", "cast": "int64"}))
    with pytest.raises(ValidationError, match=r"12\.5 does not cast to int64") as err:
        ingest_files(tmp_path / "lake", "payments", [d], mapping=m)
    assert (err.value.row, err.value.column) == (1, "AMOUNT")


def test_a_time_that_does_not_exist_in_the_zone_is_refused(tmp_path: Path) -> None:
    gap = VENDOR.set_column(2, "WHEN", pa.array([dt.datetime(2024, 3, 30, 12), dt.datetime(2024, 3, 31, 2, 30),
                                                 dt.datetime(2024, 4, 1)], pa.timestamp("us")))
    m, d = write(tmp_path, payments_mapping(event_time={"column": "WHEN", "timezone": "Europe/Paris"}), gap)
    with pytest.raises(ValidationError, match="daylight-saving") as err:
        ingest_files(tmp_path / "lake", "payments", [d], mapping=m)
    assert err.value.row == 2


def test_a_time_zone_on_instants_that_have_one_is_refused(tmp_path: Path) -> None:
    aware = VENDOR.set_column(2, "WHEN", VENDOR["WHEN"].cast(pa.timestamp("ns", tz="UTC")))
    m, d = write(tmp_path, payments_mapping(), aware)
    with pytest.raises(ValidationError, match="already carry the time zone UTC"):
        ingest_files(tmp_path / "lake", "payments", [d], mapping=m)


def test_a_column_the_file_lacks_is_named_with_the_mapping(tmp_path: Path) -> None:
    m, d = write(tmp_path, payments_mapping(amount="TX_AMOUNT"))
    with pytest.raises(ValidationError, match=r"reads column 'TX_AMOUNT', which is not a column of this file") as err:
        ingest_files(tmp_path / "lake", "payments", [d], mapping=m)
    assert str(m) in str(err.value) and err.value.file == str(d)


def test_a_mapping_for_another_table_is_refused(tmp_path: Path) -> None:
    m, d = write(tmp_path, payments_mapping())
    with pytest.raises(ValidationError, match="is for table payments, not labels"):
        ingest_files(tmp_path / "lake", "labels", [d], mapping=m)


# -- bad mapping files -----------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "key", "reason"), [
    (lambda m: m.pop("table"), "table", "missing"),
    (lambda m: m.update(table="paymentz"), "table", "unknown table 'paymentz'"),
    (lambda m: m.update(tables="x"), "tables", "unknown key"),
    (lambda m: m.update(columns=[]), "columns", "expected an object"),
    (lambda m: m["columns"].pop("ip"), "columns", "no rule for ip"),
    (lambda m: m["columns"].update(shop="TERMINAL"), "columns.shop", "not a column of payments"),
    (lambda m: m["columns"].update(ip=5), "columns.ip", "expected a column name or an object"),
    (lambda m: m["columns"].update(ip={"column": "A", "value": "b"}), "columns.ip", "exactly one of"),
    (lambda m: m["columns"].update(ip={}), "columns.ip", "found none"),
    (lambda m: m["columns"].update(ip={"column": "A", "tz": "UTC"}), "columns.ip.tz", "unknown option"),
    (lambda m: m["columns"].update(ip={"column": "A", "cast": "text"}), "columns.ip.cast", "unknown type 'text'"),
    (lambda m: m["columns"].update(ip={"value": "x", "cast": "string"}), "columns.ip.cast", "only applies to a"),
    (lambda m: m["columns"].update(ip={"column": ""}), "columns.ip.column", "non-empty column name"),
    (lambda m: m["columns"].update(ip={"value": None}), "columns.ip.value", "may not be null"),
    (lambda m: m["columns"].update(ip={"value": [1]}), "columns.ip.value", "a single value"),
    (lambda m: m["columns"].update(ip={"template": "ip-{A:>5}"}), "columns.ip.template", "format spec"),
    (lambda m: m["columns"].update(ip={"template": "ip-{}"}), "columns.ip.template", "empty {}"),
    (lambda m: m["columns"].update(ip={"template": "ip-{A"}), "columns.ip.template", "expected '}'"),
    (lambda m: m["columns"].update(ip={"template": "const"}), "columns.ip.template", "names no column"),
    (lambda m: m["columns"].update(ip={"column": "A", "timezone": "UTC"}), "columns.ip.timezone",
     "only applies to timestamps"),
    (lambda m: m["columns"].update(event_time={"column": "W", "timezone": "Mars/Olympus"}),
     "columns.event_time.timezone", "unknown time zone 'Mars/Olympus'"),
    (lambda m: m["columns"].update(event_time={"column": "W", "timezone": "UTC", "plus": "1 week"}),
     "columns.event_time.plus", "expected a duration"),
    (lambda m: m["columns"].update(event_time={"column": "W", "timezone": "UTC", "cast": "string"}),
     "columns.event_time.cast", "not both"),
])
def test_bad_mapping_files_name_the_file_and_the_key(tmp_path: Path, change: Any, key: str, reason: str) -> None:
    mapping = payments_mapping()
    change(mapping)
    (path := tmp_path / "bad.json").write_text(json.dumps(mapping))
    with pytest.raises(ValidationError) as err:
        Mapping.load(path)
    assert err.value.file == str(path)
    assert f"mapping key {key}: " in str(err.value)
    assert reason in str(err.value)


def test_a_mapping_that_is_not_json_says_where(tmp_path: Path) -> None:
    (path := tmp_path / "bad.json").write_text('{"table": "payments",\n "columns": {,}}')
    with pytest.raises(ValidationError, match=r"not valid JSON: .* \(line 2, column 14\)") as err:
        Mapping.load(path)
    assert err.value.file == str(path)
    with pytest.raises(ValidationError, match="no such mapping file"):
        Mapping.load(tmp_path / "missing.json")
    (top := tmp_path / "list.json").write_text("[]")
    with pytest.raises(ValidationError, match=r"mapping key \(top level\): expected a JSON object"):
        Mapping.load(top)


def test_sources_lists_each_read_column_once() -> None:
    mapping = Mapping.from_dict(payments_mapping())
    assert mapping.sources() == ["TX_ID", "CUSTOMER", "WHEN", "TERMINAL", "AMOUNT"]


# -- the shipped mappings and the command line -------------------------------------------------------


def fdh_slice(tmp_path: Path, n: int = 2_000) -> Path:
    data = pq.ParquetFile(FDH).read_row_group(0).slice(0, n)
    pq.write_table(data, path := tmp_path / "fdh.parquet")
    return path


@pytest.mark.skipif(not FDH.exists() and "CI" not in os.environ, reason="shared FDH data not available")
def test_the_fdh_mappings_load_the_handbook_file(tmp_path: Path) -> None:
    data = fdh_slice(tmp_path)
    lake = Lake(tmp_path / "lake")
    ingest_files(lake, "payments", [data], mapping=REPO / "mappings" / "fdh_payments.json")
    ingest_files(lake, "labels", [data], mapping=REPO / "mappings" / "fdh_labels.json")
    raw = pq.read_table(data).to_pandas().set_index("TRANSACTION_ID")
    con = connect(lake)
    pay = con.table("payments").to_pandas().set_index("payment_id").loc[raw.index]
    lab = con.table("labels").to_pandas().set_index("label_id").loc[raw.index]
    assert (pay.user_id == raw.CUSTOMER_ID).all()
    assert (pay.merchant_id == raw.TERMINAL_ID.astype(str)).all()
    assert (pay.instrument_hash == "card-" + raw.CUSTOMER_ID.astype(str)).all()
    assert (pay.amount == raw.TX_AMOUNT).all() and (pay.currency == "EUR").all()
    assert (pay.event_time.dt.tz_localize(None) == raw.TX_DATETIME).all()
    assert (lab.label == raw.TX_FRAUD).all() and (lab.entity_id == raw.index.astype(str)).all()
    assert ((lab.event_time - lab.decision_time) == dt.timedelta(days=7)).all()
    assert set(lab.label_type) == {"card_fraud"} and set(lab.entity_type) == {"payment"}


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cryptoscope.cli", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "250"}, timeout=120)


@pytest.mark.skipif(not FDH.exists() and "CI" not in os.environ, reason="shared FDH data not available")
def test_ingest_with_mapping_on_the_command_line(tmp_path: Path) -> None:
    data, lake = fdh_slice(tmp_path, 500), tmp_path / "lake"
    done = cli("ingest", "labels", data, "--mapping", REPO / "mappings" / "fdh_labels.json", "--lake", lake)
    assert done.returncode == 0, done.stderr
    assert "500" in done.stdout
    again = cli("ingest", "labels", data, "--mapping", REPO / "mappings" / "fdh_labels.json", "--lake", lake)
    line = next(x for x in again.stdout.splitlines() if str(data) in x)
    assert [c.strip() for c in line.split("│")[2:5]] == ["500", "0", "500"]
    naive = cli("ingest", "payments", data, "--lake", lake)
    assert naive.returncode == 2 and "missing column" in naive.stderr
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"table": "labels", "columns": {"label_id": {"column": "X", "plus": "7d"}}}))
    wrong = cli("ingest", "labels", data, "--mapping", bad, "--lake", lake)
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    assert f"file {bad}: mapping key columns.label_id.plus: only applies to timestamps" in wrong.stderr
