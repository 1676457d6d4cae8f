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
    fast = _FAST.get(table) or _compile(table)
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadMessage(f"{table}: not JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise BadMessage(f"{table}: expected a JSON object, got {type(raw).__name__}")
    try:
        return fast(raw)
    except (KeyError, TypeError, ValueError):  # not the ordinary case: the checks below say what is wrong
        return _checked(table, raw)


def _checked(table: str, raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` checked field by field, with the `BadMessage` that names the first wrong one."""
    readers = _readers(table)
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
        try:
            row[name] = read(value)
        except (TypeError, ValueError) as exc:
            raise BadMessage(f"{table}: field {name!r}: {exc}, got {value!r:.80}") from None
    if len(raw) != len(readers):
        extra = sorted(set(raw) - {name for name, _, _ in readers})
        raise BadMessage(f"{table}: unknown field(s) {', '.join(map(repr, extra))}")
    return row


#: the exact JSON type each reader passes through unchanged; the others convert (and check) in the reader
_EXACT: dict[Callable[[Any], Any], str] = {_text: "str", _integer: "int", _flag: "bool"}
_FAST: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def _compile(table: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The table's row reader for the ordinary message, as one generated function (the stream consumer decodes
    every event; the loop over readers above was a fifth of its time). Anything unusual raises KeyError,
    TypeError or ValueError, and `decode` then checks the message with `_checked`, which names the field:
    one set of readers, so the two agree on every row they both accept (a test holds them equal)."""
    readers = _readers(table)
    lines = ["def read(raw):", f"    if len(raw) != {len(readers)}:", "        raise KeyError"]
    env: dict[str, Any] = {}
    for i, (name, nullable, read) in enumerate(readers):
        v, exact = f"v{i}", _EXACT.get(read, "float" if read is _number else None)
        lines.append(f"    {v} = raw[{name!r}]")
        unusual = [f"type({v}) is not {exact}"] if exact else []  # a value of the exact type passes as it is
        if nullable:
            unusual.append(f"{v} is not None")
        if read in _EXACT:  # most fields: nothing to convert
            lines += [f"    if {' and '.join(unusual)}:", "        raise TypeError"]
        else:  # checked and converted by its reader
            env[f"r{i}"] = read
            call = f"{v} = r{i}({v})"
            lines += [f"    if {' and '.join(unusual)}:", f"        {call}"] if unusual else [f"    {call}"]
    fields = ", ".join(f"{name!r}: v{i}" for i, (name, _, _) in enumerate(readers))
    lines.append(f"    return {{{fields}}}")
    exec(compile("\n".join(lines), f"<stream decode: {table}>", "exec"), env)  # from the table's schema only
    _FAST[table] = fast = env["read"]
    return fast
