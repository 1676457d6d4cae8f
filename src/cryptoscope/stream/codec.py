"""Events on the wire: one canonical-table row per message, JSON, checked against the table's schema.

A message on ``events.<table>`` carries one row of that lake table (``order_cancels``: the cancel of an
order, see `cryptoscope.lake.replay.cancels`). Times are ISO 8601 with a zone and are read back as UTC
datetimes, so a decoded row is the row `to_pylist` gives from the lake and every consumer reads the
same values in batch and in the stream. A message that is not JSON, names an unknown table, lacks a
field, carries an unknown one or has a wrong type is refused with a `BadMessage` naming the field:
the consumer sends it to the dead-letter subject instead of dying.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import orjson
import pyarrow as pa

from cryptoscope.schema import TABLES
from cryptoscope.schema._table import TIMESTAMP, Column, Table, col

#: the cancel of an order, published at its cancel time (the lake keeps it on the order's row)
ORDER_CANCELS = Table(
    name="order_cancels", domain="orders & trades", doc="An order's cancel, as a live feed sends it.",
    columns=(col("order_id", pa.int64(), "Order id."), col("user_id", pa.int64(), "Account."),
             col("symbol", pa.string(), "Market."), col("status", pa.string(), "The order's status."),
             col("event_time", TIMESTAMP, "When it was cancelled."), col("cancel_time", TIMESTAMP, "The same.")),
    primary_key=("order_id",))


class BadMessage(ValueError):
    """A message no consumer can use; the text says which field of which table is wrong."""


def schema_of(table: str) -> Table:
    if table == ORDER_CANCELS.name:
        return ORDER_CANCELS
    try:
        return TABLES[table]
    except KeyError:
        raise BadMessage(f"unknown table {table!r}") from None


def encode(row: Mapping[str, Any]) -> bytes:
    """A row as JSON bytes (orjson; datetimes in ISO 8601 with their zone)."""
    return orjson.dumps(row, option=orjson.OPT_NON_STR_KEYS)


def _timestamp(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise TypeError("expected an ISO 8601 time with a zone")
    t = dt.datetime.fromisoformat(value)
    if t.tzinfo is None:
        raise TypeError("the time has no zone")
    return t.astimezone(dt.UTC)


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected an integer")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("expected a number")
    return float(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected text")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value


def _date(value: Any) -> dt.date:
    if not isinstance(value, str):
        raise TypeError("expected a date YYYY-MM-DD")
    return dt.date.fromisoformat(value)


def _reader(column: Column) -> Callable[[Any], Any]:
    t = column.type
    if pa.types.is_timestamp(t):
        return _timestamp
    if pa.types.is_integer(t):
        return _integer
    if pa.types.is_floating(t):
        return _number
    if pa.types.is_boolean(t):
        return _flag
    if pa.types.is_date(t):
        return _date
    return _text


_READERS: dict[str, list[tuple[str, bool, Callable[[Any], Any]]]] = {}


def _readers(table: str) -> list[tuple[str, bool, Callable[[Any], Any]]]:
    if table not in _READERS:
        _READERS[table] = [(c.name, c.nullable, _reader(c)) for c in schema_of(table).columns]
    return _READERS[table]


def decode(table: str, data: bytes) -> dict[str, Any]:
    """The row a message on ``events.<table>`` carries, checked field by field (see the module doc)."""
    readers = _readers(table)
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadMessage(f"{table}: not JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise BadMessage(f"{table}: expected a JSON object, got {type(raw).__name__}")
    row: dict[str, Any] = {}
    for name, nullable, read in readers:
        if name not in raw:
            raise BadMessage(f"{table}: field {name!r} is missing")
        value = raw[name]
        if value is None:
            if not nullable:
                raise BadMessage(f"{table}: field {name!r} may not be null")
            row[name] = None
            continue
        if (read is _text and type(value) is str) or (read is _integer and type(value) is int):
            row[name] = value  # what the reader returns for these exact types, without the call (most fields)
            continue
        try:
            row[name] = read(value)
        except (TypeError, ValueError) as exc:
            raise BadMessage(f"{table}: field {name!r}: {exc}, got {value!r:.80}") from None
    if len(raw) != len(readers):
        extra = sorted(set(raw) - {name for name, _, _ in readers})
        raise BadMessage(f"{table}: unknown field(s) {', '.join(map(repr, extra))}")
    return row
