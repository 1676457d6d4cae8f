"""Rows for any canonical table, with the values that break naive CSV code: quotes, commas, newlines,
empty strings next to nulls, shortest-repr doubles, microsecond UTC times spread over several days."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from cryptoscope.schema import Table, get_table

START = dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)
TRICKY = ["plain", "", "a,b", 'say "hi"', "line one\nline two", "ünïcødé ✓", "  padded  ", "NULL", "0x00ff"]


def _values(table: Table, name: str, type_: pa.DataType, n: int, start: int, rng: np.random.Generator) -> list:
    ids = range(start, start + n)
    if name in table.primary_key:
        return [f"{name}-{i}" for i in ids] if pa.types.is_string(type_) else list(ids)
    low = 0 if name in table.non_negative else -1_000_000
    if pa.types.is_integer(type_):
        return [int(v) for v in rng.integers(low, 1_000_000, n)]
    if pa.types.is_floating(type_):
        special = itertools.cycle([1 / 3, 0.1, 1e300, 5e-324, 0.0, 123456.789])
        values = rng.normal(0, 1e4, n)
        values = np.abs(values) if low == 0 else values
        return [float(v) if i % 3 else next(special) for i, v in enumerate(values)]
    if pa.types.is_boolean(type_):
        return [bool(v) for v in rng.integers(0, 2, n)]
    if pa.types.is_date(type_):
        return [dt.date(1950, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 20_000, n)]
    if pa.types.is_timestamp(type_):
        return [START + dt.timedelta(microseconds=int(us)) for us in rng.integers(0, 4 * 86_400_000_000, n)]
    return [TRICKY[i % len(TRICKY)] + (f"-{i}" if i >= len(TRICKY) else "") for i in ids]


def fake_rows(table_name: str, n: int, *, start: int = 1, seed: int = 0) -> pa.Table:
    """``n`` valid rows of ``table_name`` whose integer/string keys run from ``start``."""
    table = get_table(table_name)
    rng = np.random.default_rng(seed)
    columns = []
    for column in table.columns:
        values = _values(table, column.name, column.type, n, start, rng)
        if column.nullable:
            values = [None if i % 7 == 3 else v for i, v in enumerate(values)]
        columns.append(pa.array(values, column.type))
    return pa.Table.from_arrays(columns, schema=table.arrow_schema)


def payment_fields(i: int) -> dict[str, str]:
    """Payment ``i`` as the text fields of a CSV line (a plain, valid row)."""
    time = START + dt.timedelta(hours=i)
    return {"payment_id": str(i), "user_id": str(1000 + i), "event_time": f"{time:%Y-%m-%dT%H:%M:%S.%f}Z",
            "direction": "deposit", "method": "card", "instrument_hash": f"h{i}", "instrument_country": "DE",
            "merchant_id": "", "currency": "EUR", "amount": f"{i * 1.5}", "amount_usd": f"{i * 1.65:.2f}",
            "status": "completed",
            "decline_reason": "", "device_id": f"d{i}", "ip": f"10.0.0.{i % 250}"}


def csv_text(rows: list[dict[str, str]], header: list[str] | None = None) -> str:
    """CSV text of ``rows`` (fields are written as given, unquoted) under ``header``."""
    header = header or list(rows[0])
    return "\n".join([",".join(header), *(",".join(r.get(c, "") for c in header) for r in rows)]) + "\n"


def payments_csv(n: int, *, start: int = 1) -> str:
    """A plain, valid CSV of payments ``start`` .. ``start + n - 1``."""
    return csv_text([payment_fields(i) for i in range(start, start + n)])


def write_big_csv(path: str, n: int, *, start: int = 1) -> None:
    """A large payments CSV built with numpy and written by Arrow (fast): UTC times like ``...05.123456Z``."""
    table = get_table("payments")
    rng = np.random.default_rng(n)
    ids = np.arange(start, start + n)
    micros = int(START.timestamp() * 1_000_000) + rng.integers(0, 10 * 86_400_000_000, n)
    text = np.char.add("x", ids.astype(str))
    amount = np.round(rng.exponential(100.0, n), 2)
    columns = {
        "payment_id": ids, "user_id": rng.integers(1, 50_000, n),
        "event_time": pa.array(micros).cast(pa.timestamp("us", tz="UTC")),
        "direction": np.where(ids % 2 == 0, "deposit", "withdrawal"), "method": np.full(n, "card"),
        "instrument_hash": text, "instrument_country": np.full(n, "DE"),
        "merchant_id": pa.nulls(n, pa.string()), "currency": np.full(n, "EUR"),
        "amount": amount, "amount_usd": amount * 1.1, "status": np.full(n, "completed"),
        "decline_reason": pa.nulls(n, pa.string()), "device_id": text, "ip": np.full(n, "10.0.0.1"),
    }
    rows = pa.Table.from_arrays([pa.array(columns[c]) if not isinstance(columns[c], pa.Array) else columns[c]
                                 for c in table.column_names], names=table.column_names)
    pcsv.write_csv(rows.cast(table.arrow_schema), path)
