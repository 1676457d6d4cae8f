"""The shape every canonical table shares: typed columns, a primary key and an event time."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

#: Every event time in the lake is a UTC instant with microsecond precision.
TIMESTAMP = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Column:
    """One column: its name, Arrow type, whether it may be null, and what it means."""

    name: str
    type: pa.DataType
    doc: str
    nullable: bool = False


@dataclass(frozen=True)
class Table:
    """A canonical table: the contract between importers, the lake and every product."""

    name: str
    domain: str
    doc: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    event_time: str = "event_time"
    non_negative: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        names = self.column_names
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name}: duplicate column names")
        for key in (*self.primary_key, self.event_time, *self.non_negative):
            if key not in names:
                raise ValueError(f"table {self.name}: unknown column {key!r}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in self.columns])

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def empty(self) -> pa.Table:
        return self.arrow_schema.empty_table()


def col(name: str, type_: pa.DataType, doc: str, *, nullable: bool = False) -> Column:
    """Shorthand used by the schema modules so a table reads as a list of lines."""
    return Column(name, type_, doc, nullable)


def event_time(doc: str = "When the event happened (UTC).") -> Column:
    return Column("event_time", TIMESTAMP, doc)
