"""The `cryptoscope` command: one Typer group per product line, errors as one clear line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from cryptoscope.errors import CryptoscopeError

app = typer.Typer(
    help="cryptoscope: risk, abnormal users, on-chain analytics, personalization and feedback for an exchange.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
lake_app = typer.Typer(help="Inspect the Parquet lake.", no_args_is_help=True)
app.add_typer(lake_app, name="lake")

console = Console()
err_console = Console(stderr=True)

LakeOpt = Annotated[Path, typer.Option("--lake", help="Lake folder (created if missing).")]


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


@lake_app.command("status")
def lake_status(lake: LakeOpt = Path("./demo-lake")) -> None:
    """Tables in the lake with their files, rows and time ranges."""
    from cryptoscope.lake import Lake

    print_status(Lake(lake))


def print_status(lake: object) -> None:
    from cryptoscope.lake import Lake

    assert isinstance(lake, Lake)
    rows = lake.status()
    view = RichTable(title=f"lake {lake.root}", title_justify="left")
    for header, justify in (("table", "left"), ("files", "right"), ("rows", "right"), ("MB", "right"),
                            ("first event", "left"), ("last event", "left")):
        view.add_column(header, justify=justify)  # type: ignore[arg-type]
    for s in rows:
        view.add_row(s.name, f"{s.files:,}", f"{s.rows:,}", f"{s.bytes / 1e6:,.1f}",
                     (s.min_time or "")[:19], (s.max_time or "")[:19])
    if not rows:
        view.add_row("(empty)", "0", "0", "0", "", "")
    console.print(view)


def main() -> None:
    """Entry point: user errors become exit code 2 and one line on stderr, never a traceback."""
    try:
        app()
    except CryptoscopeError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
