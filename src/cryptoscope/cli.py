"""The `cryptoscope` command: one Typer group per product line, errors as one clear line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from cryptoscope.errors import CryptoscopeError

if TYPE_CHECKING:
    from cryptoscope.demo import Stage
    from cryptoscope.lake import Lake

app = typer.Typer(
    help="cryptoscope: risk, abnormal users, on-chain analytics, personalization and feedback for an exchange.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
lake_app = typer.Typer(help="Inspect the Parquet lake.", no_args_is_help=True)
app.add_typer(lake_app, name="lake")

# piped output (CI logs, files) gets a wide page instead of rich's 80 columns, so names are not cut
console = Console(width=None if sys.stdout.isatty() else 140)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 140)

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


def table_view(title: str, left: tuple[str, ...], right: tuple[str, ...] = (), after: tuple[str, ...] = ()
               ) -> RichTable:
    """A titled table: text columns, then right-aligned number columns, then more text columns."""
    view = RichTable(title=title, title_justify="left")
    for header in left:
        view.add_column(header)
    for header in right:
        view.add_column(header, justify="right")
    for header in after:
        view.add_column(header)
    return view


def print_status(lake: Lake) -> None:
    rows = lake.status()
    view = table_view(f"lake {lake.root}", ("table",), ("files", "rows", "MB"), ("first event", "last event"))
    for s in rows:
        view.add_row(s.name, f"{s.files:,}", f"{s.rows:,}", f"{s.bytes / 1e6:,.1f}",
                     (s.min_time or "")[:16].replace("T", " "), (s.max_time or "")[:16].replace("T", " "))
    if not rows:
        view.add_row("(empty)", "0", "0", "0", "", "")
    console.print(view)


@app.command()
def ingest(
    table: Annotated[str, typer.Argument(help="Canonical table to load, e.g. payments.")],
    files: Annotated[list[Path], typer.Argument(help="CSV or Parquet files (all validated before any is written).")],
    lake: LakeOpt = Path("./demo-lake"),
    fmt: Annotated[str, typer.Option("--format", help="auto (by file name), csv, parquet, or forta "
                                     "(Forta labelled-datasets CSV, for address_labels).")] = "auto",
    mapping: Annotated[Path | None, typer.Option("--mapping", help="JSON file mapping the files' columns to the "
                                                 "table's, e.g. mappings/fdh_payments.json.")] = None,
) -> None:
    """Load exports into a table: all files or none, rows already in the lake skipped."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from cryptoscope.errors import ValidationError
    from cryptoscope.sources.importers import InputFormat, ProgressEvent, ingest_files

    formats = [f.value for f in InputFormat]
    if fmt not in formats:
        raise ValidationError(f"unknown --format {fmt!r}; use one of {', '.join(formats)}")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True, disable=not err_console.is_terminal) as bar:
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


@lake_app.command("export")
def lake_export(
    table: Annotated[str, typer.Argument(help="Table to export.")],
    out: Annotated[Path, typer.Argument(help="CSV file to write (replaced atomically).")],
    lake: LakeOpt = Path("./demo-lake"),
) -> None:
    """Write a table to CSV, ordered by primary key; `cryptoscope ingest` reads it back as is."""
    from cryptoscope.sources.importers import export_csv

    rows = export_csv(lake, table, out)
    console.print(f"wrote {rows:,} rows of {table} to {out}")


@app.command()
def simulate(
    lake: LakeOpt = Path("./demo-lake"),
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


def run_simulation(lake: Path, users: int, days: int, seed: int, start: str, fraud_scale: float) -> None:
    import datetime as dt

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from cryptoscope.lake import Lake
    from cryptoscope.sources.simulate.config import SimConfig
    from cryptoscope.sources.simulate.world import simulate as run

    try:
        first_day = dt.datetime.fromisoformat(start).replace(tzinfo=dt.UTC)
    except ValueError:
        raise CryptoscopeError(f"--start must be a date like 2025-01-01 (got {start!r})") from None
    cfg = SimConfig(users=users, days=days, seed=seed, start=first_day, fraud_scale=fraud_scale)
    columns = (TextColumn("[bold]simulating"), BarColumn(), MofNCompleteColumn(), TextColumn("chunks"),
               TimeElapsedColumn())
    with Progress(*columns, console=err_console) as progress:
        task = progress.add_task("chunks", total=cfg.n_chunks)
        summary = run(cfg, Lake(lake), lambda done, total: progress.update(task, completed=done))
    console.print(f"wrote {summary.events:,} rows in {summary.seconds:.1f}s "
                  f"({summary.events / summary.seconds:,.0f} rows/s) to {lake}")


@app.command()
def demo(lake: LakeOpt = Path("./demo-lake"),
         registry: Annotated[Path, typer.Option("--registry", help="Model registry folder.")] = Path(
             "./models-registry"),
         report_dir: Annotated[Path, typer.Option("--report-dir", help="HTML reports.")] = Path("./reports")) -> None:
    """The end-to-end demo: simulate a 50,000-user, 120-day world, then run every product line on it.

    The size is what the slowest labels need: KYC findings and loan outcomes take weeks, and a smaller
    world leaves each model only a handful of bad rows to learn from and be judged on."""
    from cryptoscope.demo import CONSOLE, STAGES
    from cryptoscope.lake import Lake

    run_simulation(Path(lake), 50_000, 120, 7, "2025-01-01", 1.0)
    print_status(Lake(lake))
    demo_risk(lake, registry, report_dir)
    demo_stages(lake, registry, report_dir, STAGES)
    console.print(
        "\n[bold]Next:[/]\n"
        f"  cryptoscope features list                          # the feature views\n"
        f"  cryptoscope features build --label card_fraud --cutoff 2025-03-01 --out train.parquet --lake {lake}\n"
        f"  cryptoscope models list --registry {registry}      # registered risk models\n"
        f"  cryptoscope cases list --lake {lake}               # the case queue (abnormal users, market abuse)\n"
        f"  cryptoscope reco recommend USER --lake {lake} --model {report_dir}/recommender.pkl  # with reasons\n"
        f"  open {report_dir}/*.html                            # every report: risk models, chain, feedback, ...\n"
        "  README.md and docs/                                 # what is simulated, computed and decided")
    demo_stages(lake, registry, report_dir, (CONSOLE,))


def demo_risk(lake: Path, registry: Path, report_dir: Path) -> None:
    """Train every risk product; a product without labelled test data yet is reported, not faked."""
    from cryptoscope.risk.products import KINDS
    from cryptoscope.risk.scoring import score
    from cryptoscope.risk.training import train

    for kind in KINDS:
        try:
            with console.status(f"training {kind} risk"):
                result = train(kind, lake, registry, report_dir=report_dir)
        except CryptoscopeError as exc:
            console.print(f"[yellow]{kind}: not trained[/] — {exc}", highlight=False)
            continue
        ev = result.evaluation
        console.print(f"[bold]{kind}[/] v{result.version}: test PR-AUC {ev.model.pr_auc:.3f} (rules "
                      f"{ev.rules.pr_auc:.3f}); cost ${ev.model.cost:,.0f} vs rules ${ev.rules.cost:,.0f} -> "
                      f"{'promoted' if result.promoted else 'not promoted'}; report {result.report}", highlight=False)
        if result.promoted:
            run = score(kind, lake, registry)
            console.print(f"  scored {run.scored:,} decisions into risk_scores", highlight=False)


def demo_stages(lake: Path, registry: Path, report_dir: Path, stages: tuple[Stage, ...]) -> None:
    """The product lines after risk (``demo.py``): a stage that cannot run on this lake says why."""
    for stage in stages:
        try:
            with console.status(stage.name):
                line = stage.run(Path(lake), Path(registry), Path(report_dir))
        except CryptoscopeError as exc:
            console.print(f"[yellow]{stage.name}: not run[/] — {exc}", highlight=False)
            continue
        console.print(f"[bold]{stage.name}[/]: {line}", highlight=False)


features_app = typer.Typer(help="Feature views: list them, describe them, build point-in-time training sets.",
                            no_args_is_help=True)
app.add_typer(features_app, name="features")


@features_app.command("list")
def features_list() -> None:
    """One view per line: name, entity, windows, number of features, what it is for."""
    from cryptoscope.features.views import VIEWS

    for v in VIEWS.values():
        console.print(f"{v.name:<20} {v.entity:<10} {','.join(v.windows):<16} {len(v.feature_names()):>3} "
                      f"features  {v.doc}", highlight=False, soft_wrap=True)


@features_app.command("show")
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


@features_app.command("build")
def features_build(
    label_type: Annotated[str, typer.Option("--label", help="Label type, e.g. card_fraud, account_takeover.")],
    cutoff: Annotated[str, typer.Option(help="Training cut-off (UTC), YYYY-MM-DD[THH:MM].")],
    out: Annotated[Path, typer.Option(help="Parquet file to write.")],
    lake: LakeOpt = Path("./demo-lake"),
    engine: Annotated[str, typer.Option(help="duckdb (embedded) or spark.")] = "duckdb",
) -> None:
    """A point-in-time training set: labels known by the cut-off, features from before each decision."""
    import datetime as dt
    import os

    import pyarrow.parquet as pq

    from cryptoscope.features.engines import connect
    from cryptoscope.features.training import training_set
    from cryptoscope.features.views import VIEWS

    try:
        at = dt.datetime.fromisoformat(cutoff).replace(tzinfo=dt.UTC)
    except ValueError:
        raise CryptoscopeError(f"--cutoff must look like 2025-03-01 or 2025-03-01T12:00 (got {cutoff!r})") from None
    with console.status(f"building {label_type} training set on {engine}"):
        table = training_set(connect(lake, engine), list(VIEWS.values()), label_type, at).to_pyarrow()
    tmp = out.with_name(f".{out.name}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, out)
    positives = sum(1 for v in table.column("label").to_pylist() if v == 1)
    console.print(f"wrote {table.num_rows:,} rows x {table.num_columns} columns ({positives:,} positive) to {out}")


risk_app = typer.Typer(help="Risk scoring: fraud models, and how they hold up against outside benchmarks.",
                        no_args_is_help=True)
app.add_typer(risk_app, name="risk")
risk_benchmark_app = typer.Typer(help="Run a published benchmark's protocol on data that went through the lake.",
                                 no_args_is_help=True)
risk_app.add_typer(risk_benchmark_app, name="benchmark")


@risk_benchmark_app.command("fdh")
def risk_benchmark_fdh(
    data: Annotated[Path, typer.Option("--data", help="The handbook's transactions (fdh/transactions.parquet).")],
    out: Annotated[Path, typer.Option("--out", help="JSON file to write the figures to.")],
    train_start: Annotated[str, typer.Option("--train-start", help="First training day, YYYY-MM-DD (the book's: "
                                             "2018-07-25).")] = "2018-07-25",
    lake: Annotated[Path | None, typer.Option("--lake", help="Lake to ingest into and read from (default: one per "
                                              "data file in ~/.cache/cryptoscope).")] = None,
) -> None:
    """The Fraud Detection Handbook's protocol: 7 training days, 7 delay days, 7 test days, figures vs the book's."""
    import datetime as dt
    import json
    import os
    import shlex

    from cryptoscope.benchmarks.fdh import BOOK_BEST, BOOK_FIGURES, run_fdh

    try:
        start = dt.date.fromisoformat(train_start)
    except ValueError:
        raise CryptoscopeError(f"--train-start must be a date like 2018-07-25 (got {train_start!r})") from None
    command = shlex.join(["cryptoscope", "risk", "benchmark", "fdh", "--data", str(data), "--train-start",
                          train_start, "--out", str(out), *(["--lake", str(lake)] if lake else [])])
    with console.status(f"FDH benchmark from {start}"):
        result = run_fdh(data, start, lake)
    payload = result.as_json(command)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out)
    periods = result.periods.as_dict()
    view = table_view(f"FDH: train {' .. '.join(periods['train'])}, test {' .. '.join(periods['test'])}",
                      ("model",), ("AUC-ROC", "avg precision", "card P@100"))
    rows = [(result.model_name, result.model), (result.baseline_name, result.baseline),
            (f"book: {BOOK_BEST} (its dates)", BOOK_FIGURES[BOOK_BEST])]
    for name, s in rows:
        view.add_row(name, f"{s.auc_roc:.3f}", f"{s.average_precision:.3f}", f"{s.card_precision_at_100:.3f}")
    console.print(view)
    console.print(f"{result.rows.train:,} training and {result.rows.test:,} test payments "
                  f"({result.rows.test_removed_known_compromised:,} of known-compromised customers removed); "
                  f"wrote {out}")


from cryptoscope.cli_risk import models_app, register  # noqa: E402  (after the groups it extends)

register(risk_app)
app.add_typer(models_app, name="models")

from cryptoscope.cli_abnormal import anomaly_app, cases_app, graph_app  # noqa: E402
from cryptoscope.cli_behaviour import behaviour_app  # noqa: E402
from cryptoscope.cli_chain import chain_app  # noqa: E402
from cryptoscope.cli_chain_analytics import register as register_chain_analytics  # noqa: E402
from cryptoscope.cli_feedback import feedback_app  # noqa: E402
from cryptoscope.cli_reco import reco_app  # noqa: E402
from cryptoscope.cli_serve import serve_app  # noqa: E402
from cryptoscope.cli_surveillance import surveillance_app  # noqa: E402

# one group per product line, in the order of the README
for group, name in ((graph_app, "graph"), (anomaly_app, "anomaly"), (cases_app, "cases"), (chain_app, "chain"),
                    (reco_app, "reco"), (feedback_app, "feedback"), (surveillance_app, "surveillance"),
                    (behaviour_app, "behaviour"), (serve_app, "serve")):
    app.add_typer(group, name=name)
register_chain_analytics(chain_app)


def main() -> None:
    """Entry point: user errors become exit code 2 and one line on stderr, never a traceback."""
    try:
        app()
    except CryptoscopeError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
