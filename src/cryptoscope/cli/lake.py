"""`cryptoscope lake status|export`: what the lake holds, and a table out as CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cryptoscope.cli._shared import NewLakeOpt, console, print_status

app = typer.Typer(help="Inspect the Parquet lake.", no_args_is_help=True)


@app.command("status")
def lake_status(lake: NewLakeOpt = Path("./demo-lake")) -> None:
    """Tables in the lake with their files, rows and time ranges."""
    from cryptoscope.lake import Lake

    print_status(Lake(lake))


@app.command("export")
def lake_export(
    table: Annotated[str, typer.Argument(help="Table to export.")],
    out: Annotated[Path, typer.Argument(help="CSV file to write (replaced atomically).")],
    lake: NewLakeOpt = Path("./demo-lake"),
) -> None:
    """Write a table to CSV, ordered by primary key; `cryptoscope ingest` reads it back as is."""
    from cryptoscope.sources.importers import export_csv

    rows = export_csv(lake, table, out)
    console.print(f"wrote {rows:,} rows of {table} to {out}")
