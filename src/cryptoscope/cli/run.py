"""`cryptoscope run`: every batch stage of every product line on one engine, with what each cost."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cryptoscope.cli._shared import EngineOpt, LakeOpt, RegistryOpt, ReportDirOpt, console
from cryptoscope.cli._stages import run_lines, summary_table

app = typer.Typer()

StagesOpt = Annotated[str | None, typer.Option(
    "--stages", help="Comma-separated product lines to run (default: all; see `cryptoscope products list`). "
                     "Lines they depend on are not added: their outputs are read from the lake as they are.")]
MasterOpt = Annotated[str | None, typer.Option(
    "--master", envvar="CRYPTOSCOPE_SPARK_MASTER",
    help="Spark master with --engine spark: local[N], spark://host:7077, yarn, k8s://... (default local[2]).")]


@app.command("run")
def run_command(lake: LakeOpt, engine: EngineOpt = "duckdb", stages: StagesOpt = None,
                registry: RegistryOpt = Path("./models-registry"), report_dir: ReportDirOpt = Path("./reports"),
                master: MasterOpt = None) -> None:
    """Run every batch stage (features, models, scores, cases, chain, recommendations, feedback, behaviour).

    In dependency order; a stage this lake cannot support says why and the others go on; the exit code is 0
    when every stage that could run did. Writes REPORT_DIR/run.json with each stage's seconds, peak driver
    memory and the most rows one query brought to the driver."""
    from cryptoscope.errors import CryptoscopeError
    from cryptoscope.lake import Lake
    from cryptoscope.lake.catalog import CATALOG_FILE

    if not (Path(lake) / CATALOG_FILE).exists():
        raise CryptoscopeError(f"no lake at {lake}; create one with `cryptoscope simulate --lake {lake}`")
    names = [s.strip() for s in stages.split(",") if s.strip()] if stages else None
    report = run_lines(Lake(lake), registry, report_dir, engine=engine, names=names, master=master)
    console.print(summary_table(report))
