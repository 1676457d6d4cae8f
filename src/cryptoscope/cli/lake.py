"""`cryptoscope lake status|export`: what the lake holds, and a table out as CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cryptoscope.cli._shared import LakeOpt, NewLakeOpt, console, print_status

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


@app.command("diff")
def lake_diff(
    left: Annotated[Path, typer.Argument(help="A lake folder.")],
    right: Annotated[Path, typer.Argument(help="Another lake folder.")],
    tables: Annotated[str, typer.Option("--tables", help="Comma-separated tables (default: every table either "
                                                         "lake holds rows of).")] = "",
    tolerance: Annotated[float, typer.Option("--tolerance", help="Floats equal within this.")] = 1e-6,
) -> None:
    """Whether two lakes hold the same rows (by primary key; floats within TOLERANCE; when-computed columns
    ignored), e.g. a run on DuckDB and one on Spark. Exit code 1 when they differ."""
    from cryptoscope.lake import Lake
    from cryptoscope.lake.diff import diff_lakes

    a, b = Lake(left), Lake(right)
    names = [t.strip() for t in tables.split(",") if t.strip()] or sorted(
        {s.name for s in a.status() if s.rows} | {s.name for s in b.status() if s.rows})
    diffs = diff_lakes(a, b, names, tolerance=tolerance)
    for d in diffs:
        console.print(("[green]same[/] " if d.same else "[red]differs[/] ") + d.text(), highlight=False)
    if not all(d.same for d in diffs):
        raise typer.Exit(1)


@app.command("compact")
def lake_compact(
    lake: LakeOpt = Path("./demo-lake"),
    tables: Annotated[str, typer.Option("--tables", help="Comma-separated tables (default: every table).")] = "",
) -> None:
    """Merge each table's small files of one month into one (same rows, one atomic commit): a table of many
    tiny files makes every query open each of them. `run` and `data simulate` compact what they write."""
    from cryptoscope.errors import CryptoscopeError
    from cryptoscope.lake import Lake
    from cryptoscope.lake.catalog import CATALOG_FILE
    from cryptoscope.lake.compact import compact
    from cryptoscope.schema import get_table

    if not (lake / CATALOG_FILE).exists():
        raise CryptoscopeError(f"{lake}: not a lake (no {CATALOG_FILE})")
    names = [get_table(t.strip()).name for t in tables.split(",") if t.strip()] or None
    with console.status("compacting"):
        done = compact(Lake(lake), names)
    for name, (before, after) in done.items():
        console.print(f"{name}: {before:,} files -> {after:,}", highlight=False)
    if not done:
        console.print("nothing to compact: no month holds two small files of one table")
