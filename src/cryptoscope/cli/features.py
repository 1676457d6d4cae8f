"""`cryptoscope features list|show|build`: the feature views and point-in-time training sets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cryptoscope.cli._shared import EngineOpt, NewLakeOpt, console, table_view, utc_time
from cryptoscope.errors import CryptoscopeError

app = typer.Typer(help="Feature views: list them, describe them, build point-in-time training sets.",
                  no_args_is_help=True)


@app.command("list")
def features_list() -> None:
    """One view per line: name, entity, windows, number of features, what it is for."""
    from cryptoscope.features.views import VIEWS

    for v in VIEWS.values():
        console.print(f"{v.name:<20} {v.entity:<10} {','.join(v.windows):<16} {len(v.feature_names()):>3} "
                      f"features  {v.doc}", highlight=False, soft_wrap=True)


@app.command("show")
def features_show(view: Annotated[str, typer.Argument(help="View name, see `features list`.")]) -> None:
    """Sources, filters, windows, aggregations and derived columns of one view."""
    from cryptoscope.features.views import VIEWS

    if view not in VIEWS:
        raise CryptoscopeError(f"unknown view {view!r}; known views: {', '.join(VIEWS)}")
    v = VIEWS[view]
    console.print(f"[bold]{v.name}[/]: {v.doc}\nentity {v.entity} (key {v.key}); windows {', '.join(v.windows)}; "
                  f"sources {', '.join(s.table for s in v.sources)}")
    out = table_view("aggregations", ("feature", "function", "column", "where"))
    for a in v.aggs:
        where = " and ".join(f"{c.column} {c.op} {c.value!r}" for c in a.where)
        out.add_row(f"{a.name}_{{{','.join(v.windows)}}}", a.fn, a.column or "", where)
    for d in v.derived:
        out.add_row(d.name, "derived", ", ".join(d.inputs), d.doc)
    console.print(out)


@app.command("build")
def features_build(
    label_type: Annotated[str, typer.Option("--label", help="Label type, e.g. card_fraud, account_takeover.")],
    cutoff: Annotated[str, typer.Option(help="Training cut-off (UTC), YYYY-MM-DD[THH:MM].")],
    out: Annotated[Path, typer.Option(help="Parquet file to write.")],
    lake: NewLakeOpt = Path("./demo-lake"),
    engine: EngineOpt = "duckdb",
) -> None:
    """A point-in-time training set: labels known by the cut-off, features from before each decision."""
    import os

    import pyarrow.parquet as pq

    from cryptoscope.features.engines import connect
    from cryptoscope.features.training import training_set
    from cryptoscope.features.views import VIEWS

    at = utc_time(cutoff, "--cutoff")
    with console.status(f"building {label_type} training set on {engine}"):
        table = training_set(connect(lake, engine), list(VIEWS.values()), label_type, at).to_pyarrow()
    tmp = out.with_name(f".{out.name}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, out)
    positives = sum(1 for v in table.column("label").to_pylist() if v == 1)
    console.print(f"wrote {table.num_rows:,} rows x {table.num_columns} columns ({positives:,} positive) to {out}")
