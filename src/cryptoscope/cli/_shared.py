"""What every command group shares: the consoles, tables, progress bars and the options defined once.

Each group module imports from here and from no other group, so the groups stay independent and an
option keeps one spelling and one help text everywhere it appears.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable
from rich.text import Text

from cryptoscope.errors import CryptoscopeError

if TYPE_CHECKING:
    from cryptoscope.cases import CaseStore
    from cryptoscope.lake import Lake

# piped output (CI logs, files) gets a wide page instead of rich's 80 columns, so names are not cut
console = Console(width=None if sys.stdout.isatty() else 140)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 140)

LakeOpt = Annotated[Path, typer.Option("--lake", help="Lake folder.")]
#: the lake of the commands that load data (and of the lake group), which make the folder themselves
NewLakeOpt = Annotated[Path, typer.Option("--lake", help="Lake folder (created if missing).")]
RegistryOpt = Annotated[Path, typer.Option("--registry", help="Model registry folder: MLflow's SQLite store and a "
                                          "cache (the store is $MLFLOW_TRACKING_URI when set).")]
ReportDirOpt = Annotated[Path, typer.Option("--report-dir", help="Where the HTML reports go.")]
EngineOpt = Annotated[str, typer.Option("--engine", help="duckdb (embedded) or spark.")]
WorkOpt = Annotated[Path | None, typer.Option("--work", help="Folder for the graph, the SQLite case queue and "
                                              "reports (default: LAKE/_abnormal).")]
DbOpt = Annotated[str | None, typer.Option("--db", envvar="CRYPTOSCOPE_CASES_URL",
                                           help="Case store URL, e.g. postgresql+psycopg://user@host/db "
                                                "(default: SQLite in the work folder).")]


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
    """The lake's tables with files, rows, size and time range (from the catalog: no Parquet file is opened)."""
    rows = lake.status()
    view = table_view(f"lake {lake.root}", ("table",), ("files", "rows", "MB"), ("first event", "last event"))
    for s in rows:
        view.add_row(s.name, f"{s.files:,}", f"{s.rows:,}", f"{s.bytes / 1e6:,.1f}",
                     (s.min_time or "")[:16].replace("T", " "), (s.max_time or "")[:16].replace("T", " "))
    if not rows:
        view.add_row("(empty)", "0", "0", "0", "", "")
    console.print(view)


def progress_bar() -> Progress:
    """A bar on stderr that vanishes when done and stays hidden when stderr is not a terminal (logs, pipes)."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=err_console, transient=True, disable=not err_console.is_terminal)


class RateColumn(ProgressColumn):
    """Items per second and MB per second since the task started (its ``bytes`` field counts the bytes)."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        if elapsed <= 0:
            return Text("")
        megabytes = float(task.fields.get("bytes", 0)) / 1e6
        return Text(f"{task.completed / elapsed:,.1f} {self.unit}/s  {megabytes / elapsed:,.2f} MB/s")


@contextmanager
def rate_task(label: str, unit: str) -> Iterator[Callable[[int, int, int], None]]:
    """A bar with rates (`RateColumn`) for long transfers; yields the ``(done, total, bytes)`` callback."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(unit),
               TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True, disable=not err_console.is_terminal) as bar:
        task = bar.add_task(label, total=None, bytes=0)
        yield lambda done, total, size: bar.update(task, completed=done, total=total, bytes=size)


@contextmanager
def progress_task(label: str) -> Iterator[Callable[[int, int], None]]:
    """One task of `progress_bar` whose total is learnt as it goes; yields the ``(done, total)`` callback."""
    with progress_bar() as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def utc_time(text: str, option: str, example: str = "2025-03-01 or 2025-03-01T12:00") -> dt.datetime:
    """An ISO date or time given on the command line, read as UTC; a typo is one line naming the option."""
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    except ValueError:
        raise CryptoscopeError(f"{option} must look like {example} (got {text!r})") from None


def run_simulation(lake: Path, users: int, days: int, seed: int, start: str, fraud_scale: float) -> None:
    """Simulate a world into the lake with a progress bar (shared by `simulate` and `demo`)."""
    from cryptoscope.lake import Lake
    from cryptoscope.sources.simulate.config import SimConfig
    from cryptoscope.sources.simulate.world import simulate

    cfg = SimConfig(users=users, days=days, seed=seed, start=utc_time(start, "--start", "2025-01-01"),
                    fraud_scale=fraud_scale)
    columns = (TextColumn("[bold]simulating"), BarColumn(), MofNCompleteColumn(), TextColumn("chunks"),
               TimeElapsedColumn())
    with Progress(*columns, console=err_console) as progress:
        task = progress.add_task("chunks", total=cfg.n_chunks)
        summary = simulate(cfg, Lake(lake), lambda done, total: progress.update(task, completed=done))
    console.print(f"wrote {summary.events:,} rows in {summary.seconds:.1f}s "
                  f"({summary.events / summary.seconds:,.0f} rows/s) to {lake}")


def log_benchmark(registry: Path, name: str, figures: Mapping[str, Any], command: str, *, files: tuple[Path, ...] = (),
                  params: Mapping[str, object] | None = None) -> None:
    """Log a benchmark command's figures (every number) as an MLflow run of the experiment ``name`` in the
    registry's tracking store, with the command that reproduces it, and say which run it is."""
    from cryptoscope.models import Registry

    run_id = Registry(registry).log_benchmark(name, figures, params={"command": command, **(params or {})}, files=files)
    console.print(f"MLflow run {run_id} (experiment {name})", highlight=False)


def work_dir(lake: Path, work: Path | None) -> Path:
    """The abnormal-user line's folder (graph, case queue, reports): ``--work``, else beside the lake."""
    from cryptoscope.anomaly.line import work_dir_of

    return work or work_dir_of(lake)


def case_store(lake: Path, work: Path | None, db: str | None) -> CaseStore:
    """The case queue at ``--db``, else the SQLite file in the work folder."""
    from cryptoscope.cases import CaseStore, default_url

    return CaseStore(db or default_url(work_dir(lake, work)))
