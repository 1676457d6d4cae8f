"""Turning one input column into its canonical Arrow type, or saying which value is wrong.

Text (from a CSV, or a string column in Parquet) is parsed; typed Parquet columns are cast only
where Arrow's *safe* cast allows it, so no value is silently truncated, wrapped or rounded.
Every timestamp must carry a UTC offset: a naive time is ambiguous (whose midnight?), and
guessing a zone would shift events across the daily partitions without anyone noticing.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from cryptoscope.schema import Column
from cryptoscope.sources.importers.locate import Locator, first_failing

_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)
_NAIVE = pa.timestamp("us")


def _type_word(type_: pa.DataType) -> str:
    """How a type is named in an error message, in words a spreadsheet user knows."""
    if pa.types.is_integer(type_):
        return "an integer"
    if pa.types.is_floating(type_):
        return "a number"
    if pa.types.is_boolean(type_):
        return "true or false"
    if pa.types.is_date(type_):
        return "a date (YYYY-MM-DD)"
    if pa.types.is_timestamp(type_):
        return "a timestamp with a UTC offset (e.g. 2024-01-02T03:04:05Z)"
    return str(type_)


def _is_naive_text(value: str) -> bool:
    """Whether ``value`` is a well-formed timestamp that only lacks its offset."""
    try:
        pa.array([value]).cast(_NAIVE)
    except _ARROW_ERRORS:
        return False
    return True


def parse_text(values: pa.ChunkedArray, column: Column, where: Locator) -> pa.ChunkedArray:
    """Parse a string column into ``column.type``; name the first value that does not parse."""
    if pa.types.is_string(column.type):
        return values.cast(pa.string())
    try:
        return values.cast(column.type)
    except _ARROW_ERRORS:
        pass
    index = first_failing(values, lambda a: a.cast(column.type))
    raw = values[index].as_py()
    if pa.types.is_timestamp(column.type) and _is_naive_text(raw):
        reason = f"naive timestamp {raw!r} has no UTC offset; write it as e.g. {raw}Z or {raw}+00:00"
    elif pa.types.is_timestamp(column.type):
        reason = f"unparseable timestamp {raw!r}: expected {_type_word(column.type)}"
    else:
        reason = f"expected {_type_word(column.type)}, got {raw!r}"
    raise where.error(reason, index=index, column=column.name)


def _first_valid(values: pa.ChunkedArray) -> int | None:
    index = pc.index(pc.is_valid(values), True).as_py()
    return None if index is None or index < 0 else int(index)


def cast_typed(values: pa.ChunkedArray, column: Column, where: Locator) -> pa.ChunkedArray:
    """Cast a typed (e.g. Parquet) column to ``column.type``; only casts that lose nothing pass."""
    source, target = values.type, column.type
    if source == target:
        return values
    if pa.types.is_dictionary(source):
        return cast_typed(values.cast(source.value_type), column, where)
    if pa.types.is_string(source) or pa.types.is_large_string(source):
        return parse_text(values.cast(pa.string()), column, where)
    if pa.types.is_timestamp(target) and pa.types.is_timestamp(source) and source.tz is None:
        index = _first_valid(values)
        raise where.error(f"naive timestamps: column type {source} has no time zone; store UTC instants "
                          f"(e.g. timestamp[us, tz=UTC])", index=index, column=column.name)
    try:
        return values.cast(target, safe=True)
    except pa.ArrowNotImplementedError:
        raise where.error(f"column type {source} cannot be converted to {target}", column=column.name) from None
    except _ARROW_ERRORS:
        pass
    index = first_failing(values, lambda a: a.cast(target, safe=True))
    raise where.error(f"value {values[index].as_py()!r} does not convert to {target} without loss",
                      index=index, column=column.name)
