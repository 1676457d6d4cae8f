"""`cryptoscope schema`, `ingest` and `simulate`: the tables, and the two ways data gets into the lake."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from cryptoscope.cli._shared import NewLakeOpt, console, progress_bar, run_simulation, table_view

app = typer.Typer()


@app.command()
def schema(
    table: Annotated[str | None, typer.Argument(help="Table to show; all tables when left out.")] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print Markdown (docs/schema.md).")] = False,
) -> None:
    """Print the canonical tables: columns, types, primary key, event time."""
    from cryptoscope.schema import TABLES, get_table
    from cryptoscope.schema._markdown import schema_markdown, table_markdown

    tables = [get_table(table)] if table else list(TABLES.values())
    if markdown:
        sys.stdout.write(table_markdown(tables[0]) if table else schema_markdown(tables))
        return
    for t in tables:
        view = RichTable(title=f"{t.name} — {t.doc}", title_justify="left")
        for header in ("column", "type", "key", "meaning"):
            view.add_column(header)
        for c in t.columns:
            mark = "PK" if c.name in t.primary_key else ("time" if c.name == t.event_time else "")
            view.add_row(c.name, f"{c.type}{'' if c.nullable else ' not null'}", mark, c.doc)
        console.print(view)


@app.command()
def ingest(
    table: Annotated[str, typer.Argument(help="Canonical table to load, e.g. payments.")],
    files: Annotated[list[Path], typer.Argument(help="CSV or Parquet files (all validated before any is written).")],
    lake: NewLakeOpt = Path("./demo-lake"),
    fmt: Annotated[str, typer.Option("--format", help="auto (by file name), csv, parquet, or forta "
                                     "(Forta labelled-datasets CSV, for address_labels).")] = "auto",
    mapping: Annotated[Path | None, typer.Option("--mapping", help="JSON file mapping the files' columns to the "
                                                 "table's, e.g. mappings/fdh_payments.json.")] = None,
) -> None:
    """Load exports into a table: all files or none, rows already in the lake skipped."""
    from cryptoscope.errors import ValidationError
    from cryptoscope.sources.importers import InputFormat, ProgressEvent, ingest_files

    formats = [f.value for f in InputFormat]
    if fmt not in formats:
        raise ValidationError(f"unknown --format {fmt!r}; use one of {', '.join(formats)}")
    with progress_bar() as bar:
        task = bar.add_task("reading", total=len(files))

        def show(event: ProgressEvent) -> None:
            name = event.path.name if event.path else ""
            bar.update(task, completed=event.done, description=f"{event.stage} {name}".strip())

        result = ingest_files(lake, table, files, show, fmt=fmt, mapping=mapping)
    view = table_view(f"{result.table} → lake {lake} (catalog version {result.catalog_version})", ("file",),
                      ("rows read", "added", "already present"))
    for f in result.files:
        view.add_row(str(f.path), f"{f.rows_read:,}", f"{f.rows_added:,}", f"{f.already_present:,}")
    view.add_row("total", f"{result.rows_read:,}", f"{result.rows_added:,}", f"{result.already_present:,}",
                 style="bold")
    console.print(view)


@app.command()
def simulate(
    lake: NewLakeOpt = Path("./demo-lake"),
    users: Annotated[int, typer.Option(help="Number of accounts.")] = 20_000,
    days: Annotated[int, typer.Option(help="Days of activity.")] = 90,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same world.")] = 7,
    start: Annotated[str, typer.Option(help="First day (UTC), YYYY-MM-DD.")] = "2025-01-01",
    fraud_scale: Annotated[float, typer.Option(help="Multiply every fraud typology's prevalence.")] = 1.0,
) -> None:
    """Simulate an exchange world with fraud, abuse and ground truth, and write it to the lake.

    Replaces the tables a previous simulation wrote, in one atomic commit.
    """
    run_simulation(Path(lake), users, days, seed, start, fraud_scale)
