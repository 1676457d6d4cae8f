"""Mapping files: how the columns of someone else's export become the columns of a canonical table.

A mapping is a small JSON file, checked when it is loaded, then applied to the Arrow table read from
the export *before* that table is validated, so every check of the normal ingest path still applies
to what comes out (types, nulls, negatives, repeated keys)::

    {
      "table": "payments",
      "doc": "free text: where the export comes from",
      "columns": {
        "payment_id": "TRANSACTION_ID",
        "event_time": {"column": "TX_DATETIME", "timezone": "UTC"},
        "direction": {"value": "deposit"},
        "instrument_hash": {"template": "card-{CUSTOMER_ID}"},
        "merchant_id": {"column": "TERMINAL_ID", "cast": "string"},
        "decline_reason": {"value": null}
      }
    }

Every column of the table needs a rule (a nullable column the export lacks says ``{"value": null}``),
so a forgotten column is an error rather than a silent null. A rule is one of:

* ``"NAME"`` or ``{"column": "NAME"}`` — the export's column, converted as a plain export's would be;
* ``{"value": V}`` — the same JSON value on every row;
* ``{"template": "card-{NAME}"}`` — text with ``{NAME}`` replaced by each row's value (null if it is null);
* ``{"column": ..., "cast": "string"}`` — cast first (``string``, ``int64``, ``float64`` or ``bool``);
* ``{"column": ..., "timezone": "UTC"}`` — read naive timestamps as local times of that zone (an IANA
  name or an offset like ``+02:00``); without it naive timestamps stay an error, as everywhere;
* ``{"column": ..., "timezone": "UTC", "plus": "7d"}`` — then shift by a duration (``s``, ``m``, ``h``,
  ``d``; negative with a leading ``-``), e.g. when a label becomes known a fixed delay after the event.

>>> m = Mapping.from_dict({"table": "address_labels", "columns": {
...     "chain": {"value": "ethereum"}, "address": "addr", "event_time": "seen", "category": {"value": "scam"},
...     "name": {"value": None}, "source": {"template": "list:{list}"}}})
>>> m.sources()
['addr', 'seen', 'list']
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import string
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from cryptoscope.errors import UnknownTableError, ValidationError
from cryptoscope.schema import Table, get_table
from cryptoscope.sources.importers.locate import Locator, first_failing

Kind = Literal["column", "value", "template"]

#: Types a ``cast`` may name, in Arrow's words.
CASTS: dict[str, pa.DataType] = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(),
                                 "bool": pa.bool_()}

_TOP_KEYS = ("table", "columns", "doc")
_RULE_KEYS = ("column", "value", "template", "cast", "timezone", "plus")
_OFFSET = re.compile(r"^[+-]\d{2}:\d{2}$")
_DURATION = re.compile(r"^(-?)(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)


@dataclass(frozen=True)
class ColumnRule:
    """How one canonical column is made: from a source column, a constant, or a template."""

    target: str
    kind: Kind
    column: str | None = None
    value: Any = None
    template: str | None = None
    cast: str | None = None
    timezone: str | None = None
    plus: dt.timedelta | None = None

    def sources(self) -> list[str]:
        """The export's columns this rule reads."""
        if self.kind == "column" and self.column is not None:
            return [self.column]
        if self.kind == "template" and self.template is not None:
            return [f for _, f, _, _ in string.Formatter().parse(self.template) if f is not None]
        return []


@dataclass(frozen=True)
class Mapping:
    """A parsed, checked mapping file: one rule per column of ``table``."""

    table: str
    rules: tuple[ColumnRule, ...]
    path: str = "<mapping>"
    doc: str = ""

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Mapping:
        """Read and check a mapping file; a `ValidationError` names the file and the key at fault."""
        path = Path(path)
        if not path.is_file():
            raise ValidationError("no such mapping file", file=str(path))
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise ValidationError("mapping file is not UTF-8 text", file=str(path)) from None
        except json.JSONDecodeError as exc:
            raise ValidationError(f"mapping file is not valid JSON: {exc.msg} (line {exc.lineno}, column "
                                  f"{exc.colno})", file=str(path)) from None
        return cls.from_dict(raw, str(path))

    @classmethod
    def from_dict(cls, raw: object, path: str = "<mapping>") -> Mapping:
        """Check a decoded mapping; ``path`` is only used to name it in errors."""
        if not isinstance(raw, dict):
            raise _bad(path, "(top level)", f"expected a JSON object with keys {', '.join(_TOP_KEYS)}")
        unknown = [k for k in raw if k not in _TOP_KEYS]
        if unknown:
            raise _bad(path, unknown[0], f"unknown key; a mapping has the keys {', '.join(_TOP_KEYS)}")
        for key in ("table", "columns"):
            if key not in raw:
                raise _bad(path, key, "missing")
        if not isinstance(raw["table"], str):
            raise _bad(path, "table", "expected a table name")
        try:
            table = get_table(raw["table"])
        except UnknownTableError as exc:
            raise _bad(path, "table", str(exc)) from None
        doc = raw.get("doc", "")
        if not isinstance(doc, str):
            raise _bad(path, "doc", "expected text")
        columns = raw["columns"]
        if not isinstance(columns, dict):
            raise _bad(path, "columns", "expected an object from canonical column names to rules")
        rules = tuple(_parse_rule(path, table, target, spec) for target, spec in columns.items())
        missing = [c for c in table.column_names if c not in columns]
        if missing:
            raise _bad(path, "columns", f"no rule for {', '.join(missing)}; every column of {table.name} needs "
                       'one (write {"value": null} for a nullable column the export lacks)')
        return cls(table.name, rules, path, doc)

    def sources(self) -> list[str]:
        """The export's columns the mapping reads, each once, in the order first used."""
        return list(dict.fromkeys(s for r in self.rules for s in r.sources()))

    def check_sources(self, names: list[str], where: Locator) -> None:
        """Refuse a file that lacks a column the mapping reads, or has it twice."""
        for name in self.sources():
            if names.count(name) != 1:
                how = "appears more than once in" if name in names else "is not a column of"
                raise where.error(f"the mapping {self.path} reads column {name!r}, which {how} this file "
                                  f"(its columns: {', '.join(names)})", column=name)

    def apply(self, data: pa.Table, where: Locator) -> pa.Table:
        """The canonical columns, in the table's order, computed from ``data`` (one row per input row).

        Values are not yet converted to the canonical types: the caller does that, with the same
        checks as for any export.
        """
        self.check_sources(data.column_names, where)
        by_target = {r.target: r for r in self.rules}
        order = get_table(self.table).column_names
        return pa.table({t: _apply_rule(by_target[t], data, where, self.path) for t in order})


def _bad(path: str, key: str, reason: str) -> ValidationError:
    return ValidationError(f"mapping key {key}: {reason}", file=path)


def _parse_rule(path: str, table: Table, target: str, spec: object) -> ColumnRule:
    key = f"columns.{target}"
    if target not in table.column_names:
        raise _bad(path, key, f"{target!r} is not a column of {table.name}; its columns are "
                   f"{', '.join(table.column_names)}")
    if isinstance(spec, str):
        spec = {"column": spec}
    if not isinstance(spec, dict):
        raise _bad(path, key, 'expected a column name or an object such as {"column": ...}, {"value": ...} or '
                   '{"template": ...}')
    unknown = [k for k in spec if k not in _RULE_KEYS]
    if unknown:
        raise _bad(path, f"{key}.{unknown[0]}", f"unknown option; a rule has {', '.join(_RULE_KEYS)}")
    kinds = [k for k in ("column", "value", "template") if k in spec]
    if len(kinds) != 1:
        raise _bad(path, key, f"needs exactly one of column, value or template (found {', '.join(kinds) or 'none'})")
    kind: Kind = kinds[0]  # type: ignore[assignment]
    if kind != "column":
        extra = [k for k in ("cast", "timezone", "plus") if k in spec]
        if extra:
            raise _bad(path, f"{key}.{extra[0]}", f"only applies to a source column, not to a {kind}")
    column = _parse_text(path, f"{key}.column", spec.get("column"))
    template = _parse_template(path, f"{key}.template", spec.get("template"))
    column_type = table.column(target).type
    if kind == "value" and spec["value"] is None and not table.column(target).nullable:
        raise _bad(path, f"{key}.value", f"null, but {target} may not be null")
    if kind == "value" and isinstance(spec["value"], list | dict):
        raise _bad(path, f"{key}.value", "expected a single value (text, number, true/false or null)")
    cast = spec.get("cast")
    if cast is not None and cast not in CASTS:
        raise _bad(path, f"{key}.cast", f"unknown type {cast!r}; use one of {', '.join(CASTS)}")
    timezone = _parse_timezone(path, f"{key}.timezone", spec.get("timezone"))
    plus = _parse_duration(path, f"{key}.plus", spec.get("plus"))
    if (timezone is not None or plus is not None) and not pa.types.is_timestamp(column_type):
        option = "timezone" if timezone is not None else "plus"
        raise _bad(path, f"{key}.{option}", f"only applies to timestamps, and {target} is {column_type}")
    if cast is not None and timezone is not None:
        raise _bad(path, f"{key}.cast", "give cast or timezone, not both (timezone already reads the timestamps)")
    return ColumnRule(target, kind, column, spec.get("value"), template, cast, timezone, plus)


def _parse_text(path: str, key: str, value: object) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        raise _bad(path, key, "expected a non-empty column name")
    return value


def _parse_template(path: str, key: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(path, key, 'expected text such as "card-{CUSTOMER_ID}"')
    try:
        parts = list(string.Formatter().parse(value))
    except ValueError as exc:
        raise _bad(path, key, f"{exc} (write {{{{ and }}}} for literal braces)") from None
    for _, field, spec, conversion in parts:
        if field == "":
            raise _bad(path, key, "empty {} in the template: name a column, e.g. {CUSTOMER_ID}")
        if spec or conversion:
            raise _bad(path, key, f"{{{field}}} has a format spec or conversion; only plain {{COLUMN}} is supported")
    if not any(field for _, field, _, _ in parts):
        raise _bad(path, key, 'names no column; for a constant write {"value": ...}')
    return value


def _parse_timezone(path: str, key: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(path, key, "expected a time zone name such as UTC or Europe/Paris, or an offset like +02:00")
    if _OFFSET.match(value):
        return value
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _bad(path, key, f"unknown time zone {value!r}; use an IANA name such as UTC or Europe/Paris, or an "
                   "offset like +02:00") from None
    return value


def _parse_duration(path: str, key: str, value: object) -> dt.timedelta | None:
    if value is None:
        return None
    m = _DURATION.match(value) if isinstance(value, str) else None
    if m is None:
        raise _bad(path, key, f"expected a duration such as 7d, 12h, 30m, 15s or -1h, got {value!r}")
    delta = dt.timedelta(**{_UNITS[m.group(3)]: int(m.group(2))})
    return -delta if m.group(1) else delta


# -- applying ------------------------------------------------------------------------------------


def _apply_rule(rule: ColumnRule, data: pa.Table, where: Locator, path: str) -> pa.ChunkedArray:
    n = data.num_rows
    if rule.kind == "value":
        if rule.value is None:
            return pa.chunked_array([pa.nulls(n)])
        return pa.chunked_array([pa.repeat(pa.scalar(rule.value), n)])
    if rule.kind == "template":
        return _template(rule, data)
    assert rule.column is not None
    values = data[rule.column]
    if rule.cast is not None:
        target = CASTS[rule.cast]
        values = _convert(values, lambda a: a.cast(target, safe=True), where, rule.column,
                          f"does not cast to {rule.cast} without loss (mapping {path})")
    if rule.timezone is not None:
        values = _localize(values, rule, where, path)
    if rule.plus is not None:
        values = _shift(values, rule, where, path)
    return values


def _template(rule: ColumnRule, data: pa.Table) -> pa.ChunkedArray:
    assert rule.template is not None
    pieces: list[Any] = []
    for literal, field, _, _ in string.Formatter().parse(rule.template):
        if literal:
            pieces.append(pa.scalar(literal))
        if field is not None:
            pieces.append(data[field].cast(pa.string()))
    return pc.binary_join_element_wise(*pieces, "")


def _convert(values: pa.ChunkedArray, convert: Callable[[pa.ChunkedArray], Any], where: Locator, column: str,
             reason: str) -> Any:
    """``convert(values)``, or an error naming the first value it fails on."""
    try:
        return convert(values)
    except _ARROW_ERRORS:
        pass
    index = first_failing(values, convert)
    raise where.error(f"value {values[index].as_py()!r} {reason}", index=index, column=column)


def _localize(values: pa.ChunkedArray, rule: ColumnRule, where: Locator, path: str) -> pa.ChunkedArray:
    """Naive timestamps (typed, or text without an offset) read as local times of ``rule.timezone``."""
    assert rule.column is not None and rule.timezone is not None
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        values = _convert(values, lambda a: a.cast(pa.timestamp("us")), where, rule.column,
                          f"is not a timestamp without offset (mapping {path} gives it the time zone "
                          f"{rule.timezone}); write it like 2024-01-02 03:04:05")
    if not pa.types.is_timestamp(values.type):
        raise where.error(f"the mapping {path} gives column {rule.column!r} a time zone, but it holds {values.type}, "
                          "not timestamps", column=rule.column)
    if values.type.tz is not None:
        raise where.error(f"timestamps already carry the time zone {values.type.tz}; remove timezone from "
                          f"columns.{rule.target} in the mapping {path}", column=rule.column)
    zone = rule.timezone
    local = _convert(values, lambda a: pc.assume_timezone(a, zone), where, rule.column,
                     f"does not exist or is ambiguous in the time zone {zone} (a daylight-saving change)")
    return local.cast(pa.timestamp(values.type.unit, tz="UTC"))


def _shift(values: pa.ChunkedArray, rule: ColumnRule, where: Locator, path: str) -> pa.ChunkedArray:
    assert rule.column is not None and rule.plus is not None
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        values = _convert(values, lambda a: a.cast(pa.timestamp("us", tz="UTC")), where, rule.column,
                          "is not a timestamp with a UTC offset (e.g. 2024-01-02T03:04:05Z); for naive times add "
                          f"a timezone to columns.{rule.target} in the mapping {path}")
    if not pa.types.is_timestamp(values.type) or values.type.tz is None:
        raise where.error(f"the mapping {path} shifts column {rule.column!r} by {rule.plus}, but its values are "
                          f"{values.type}, not UTC instants; add a timezone to columns.{rule.target}",
                          column=rule.column)
    step = pa.scalar(rule.plus, pa.duration(values.type.unit))
    return _convert(values, lambda a: pc.add_checked(a, step), where, rule.column,
                    f"overflows when shifted by {rule.plus}")
