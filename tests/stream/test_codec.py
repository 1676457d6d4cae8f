"""A message is one canonical row as JSON; anything else is refused with the field that is wrong."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest

from cryptoscope.stream.codec import BadMessage, decode, encode

ROW = {"payment_id": 7, "user_id": 3, "event_time": dt.datetime(2025, 3, 1, 12, 30, 0, 250, tzinfo=dt.UTC)}


def payment(**change: object) -> dict[str, object]:
    from cryptoscope.schema import TABLES

    base: dict[str, object] = {c.name: None for c in TABLES["payments"].columns}
    for c in TABLES["payments"].columns:
        if not c.nullable:
            base[c.name] = {"int64": 1, "double": 1.5, "bool": True, "string": "x"}.get(str(c.type), "x")
    return base | ROW | change


def test_a_row_comes_back_as_the_lake_gives_it() -> None:
    row = payment()
    assert decode("payments", encode(row)) == row
    later = decode("payments", encode(payment(event_time="2025-03-01T14:30:00.000250+02:00")))
    assert later["event_time"] == ROW["event_time"]  # read as the same UTC instant


@pytest.mark.parametrize(("data", "says"), [
    (b"[1, 2", "payments: not JSON"),
    (b"[1, 2]", "payments: expected a JSON object, got list"),
    (orjson.dumps({k: v for k, v in payment().items() if k != "user_id"}, default=str), "field 'user_id' is missing"),
    (encode(payment(user_id="3")), "field 'user_id': expected an integer, got '3'"),
    (encode(payment(user_id=True)), "field 'user_id': expected an integer"),
    (encode(payment(event_time="2025-03-01T12:00:00")), "field 'event_time': the time has no zone"),
    (encode(payment(event_time=None)), "field 'event_time' may not be null"),
    (encode(payment(extra=1)), "unknown field(s) 'extra'"),
])
def test_a_bad_message_names_what_is_wrong(data: bytes, says: str) -> None:
    with pytest.raises(BadMessage, match=says.replace("(", r"\(").replace(")", r"\)")):
        decode("payments", data)


def test_an_unknown_table_is_refused() -> None:
    with pytest.raises(BadMessage, match="unknown table 'nonsense'"):
        decode("nonsense", b"{}")


def _every_kind_of_row(table: str) -> list[dict[str, object]]:
    """A row of ``table`` with every field set (numbers as ints where a number may be one), and one with every
    nullable field null."""
    from cryptoscope.stream.codec import schema_of

    full, nulls = {}, {}
    for c in schema_of(table).columns:
        kind = str(c.type)
        value = {"int64": 3, "int32": 3, "double": 2, "float": 2, "bool": False, "string": "x"}.get(kind)
        if value is None:
            value = "2025-03-01" if kind.startswith("date") else "2025-03-01T12:00:00.000001+01:00"
        full[c.name] = value
        nulls[c.name] = None if c.nullable else value
    return [full, nulls]


def test_the_generated_reader_agrees_with_the_field_by_field_checks() -> None:
    """`decode` reads an ordinary message with a function generated per table and falls back to `_checked` for
    anything else: both give the same row, value for value and type for type, on every table."""
    from cryptoscope.schema import TABLES
    from cryptoscope.stream.codec import ORDER_CANCELS, _checked

    for table in [*TABLES, ORDER_CANCELS.name]:
        for row in _every_kind_of_row(table):
            data = orjson.dumps(row)
            fast, checked = decode(table, data), _checked(table, orjson.loads(data))
            assert fast == checked, table
            assert [type(v) for v in fast.values()] == [type(v) for v in checked.values()], table
            assert list(fast) == list(checked), table
