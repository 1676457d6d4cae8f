"""Rendering the schema as Markdown, so docs/schema.md is always what the code says."""

from __future__ import annotations

from cryptoscope.schema._table import Table


def _type_name(table: Table, column: str) -> str:
    c = table.column(column)
    return f"{c.type}{'' if c.nullable else ' not null'}"


def table_markdown(table: Table) -> str:
    lines = [
        f"## `{table.name}`",
        "",
        table.doc,
        "",
        f"- domain: {table.domain}",
        f"- primary key: {', '.join(f'`{k}`' for k in table.primary_key)}",
        f"- event time: `{table.event_time}`",
    ]
    if table.non_negative:
        lines.append(f"- never negative: {', '.join(f'`{k}`' for k in table.non_negative)}")
    lines += ["", "| column | type | meaning |", "| --- | --- | --- |"]
    lines += [f"| `{c.name}` | {_type_name(table, c.name)} | {c.doc} |" for c in table.columns]
    return "\n".join(lines) + "\n"


def schema_markdown(tables: list[Table]) -> str:
    head = [
        "# Canonical schema",
        "",
        "Generated from `src/cryptoscope/schema/` by `cryptoscope schema --markdown`; a test keeps it current.",
        "Every event time is UTC (`timestamp[us, tz=UTC]`); the lake partitions each table by its UTC date.",
        "",
        "| table | domain | rows mean |",
        "| --- | --- | --- |",
    ]
    head += [f"| [`{t.name}`](#{t.name}) | {t.domain} | {t.doc} |" for t in tables]
    return "\n".join(head) + "\n\n" + "\n".join(table_markdown(t) for t in tables)
