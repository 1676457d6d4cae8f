"""Running the product lines' batch stages with a spinner and a line per stage: shared by `run` and `demo`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table as RichTable

from cryptoscope.cli._shared import console, table_view

if TYPE_CHECKING:
    from cryptoscope.lake import Lake
    from cryptoscope.runner import RunReport, StageRun


def run_lines(lake: Lake, registry: Path, reports: Path, *, engine: str = "duckdb", names: list[str] | None = None,
              master: str | None = None) -> RunReport:
    """The stages on ``engine`` with a spinner, each stage's line printed as it ends; ``run.json`` written."""
    from cryptoscope.features.engines import engine_name
    from cryptoscope.productline import RunContext
    from cryptoscope.products import ordered
    from cryptoscope.runner import run_stages, write_report

    chosen = engine_name(engine)
    ordered(names)  # unknown names fail here, before any engine starts
    if chosen == "spark":
        from cryptoscope.lake.spark import spark_session

        spark_session(master)  # the session every stage's connection reuses
    with console.status("starting") as status:
        ctx = RunContext(lake, Path(registry), Path(reports), chosen, progress=lambda line: status.update(line))
        report = run_stages(ctx, names, on_stage=_print_stage)
    write_report(report, Path(reports) / "run.json")
    return report


def _print_stage(stage: StageRun) -> None:
    if stage.status == "done":
        console.print(f"[bold]{stage.name}[/] ({stage.seconds:.0f}s): {stage.summary}", highlight=False)
    else:
        console.print(f"[yellow]{stage.name}: not run[/] — {stage.summary}", highlight=False)


def summary_table(report: RunReport) -> RichTable:
    """One row per stage: status, seconds, peak driver memory, rows brought to the driver."""
    view = table_view(f"run on {report.engine}: {len(report.ran)} of {len(report.stages)} stages ran",
                      ("stage", "status"), ("seconds", "peak MB", "largest result", "rows to driver"))
    for s in report.stages:
        view.add_row(s.name, s.status, f"{s.seconds:,.1f}", f"{s.peak_rss_mb:,.0f}", f"{s.driver_rows_largest:,}",
                     f"{s.driver_rows_total:,}")
    return view
