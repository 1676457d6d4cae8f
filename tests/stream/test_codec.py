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
