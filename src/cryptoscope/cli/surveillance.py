"""`cryptoscope surveillance run|alerts|evaluate`: market-abuse detection on the exchange's own books."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cryptoscope.cli._shared import EngineOpt, LakeOpt, console
from cryptoscope.errors import CryptoscopeError

app = typer.Typer(help="Exchange surveillance: wash trading, spoofing/layering, pump-and-dump.", no_args_is_help=True)


def _lake(lake: Path) -> Path:
    if not (lake / "_catalog.json").exists():
        raise CryptoscopeError(f"{lake}: not a lake (no _catalog.json); simulate one with `cryptoscope simulate`")
    return lake


@app.command("run")
def surveillance_run(lake: LakeOpt = Path("./demo-lake"), engine: EngineOpt = "duckdb",
                     cases_db: Annotated[str | None, typer.Option(
                         "--cases-db", help="Case store URL (default: the SQLite queue beside the lake).")] = None,
                     no_cases: Annotated[bool, typer.Option("--no-cases", help="Do not file alerts as cases.")] = False
                     ) -> None:
    """Detect over the whole lake, append new alerts to `surveillance_alerts`, file them in the case queue."""
    from cryptoscope.surveillance.pipeline import default_cases_url, run_surveillance

    url = None if no_cases else (cases_db or default_cases_url(_lake(lake)))
    with console.status(f"surveillance on {engine}"):
        result = run_surveillance(_lake(lake), engine=engine, cases_url=url)
    counts: dict[str, int] = {}
    for t in result.alerts["typology"].to_pylist():
        counts[t] = counts.get(t, 0) + 1
    filed = "case queue not installed" if result.cases is None else f"{result.cases} new alerts in the case queue"
    console.print(f"{result.alerts.num_rows} alerts ({', '.join(f'{k}: {v}' for k, v in sorted(counts.items()))});"
                  f" {result.written} new rows in surveillance_alerts; {filed}")


@app.command("alerts")
def surveillance_alerts(lake: LakeOpt = Path("./demo-lake"),
                        typology: Annotated[str | None, typer.Option(help="Only this typology.")] = None,
                        limit: Annotated[int, typer.Option(help="How many, most severe first.")] = 20) -> None:
    """The alerts in the lake, most severe first: accounts, symbol, span, severity, evidence."""
    from cryptoscope.lake.engine import connect

    con = connect(_lake(lake))
    t = con.table("surveillance_alerts")
    if typology:
        t = t.filter(t.typology == typology)
    rows = t.order_by([t.severity.desc(), t.alert_id]).limit(limit).to_pyarrow().to_pylist()
    table = Table("typology", "symbol", "accounts", "start", "end", "severity", "evidence", title="surveillance alerts")
    for r in rows:
        table.add_row(r["typology"], r["symbol"], r["accounts"][:40], f"{r['event_time']:%Y-%m-%d %H:%M:%S}",
                      f"{r['end_time']:%Y-%m-%d %H:%M:%S}", f"{r['severity']:.2f} {r['level']}", r["evidence"][:90])
    console.print(table)


@app.command("evaluate")
def surveillance_evaluate(lake: LakeOpt = Path("./demo-lake"), engine: EngineOpt = "duckdb",
                          out: Annotated[Path, typer.Option("--out", help="Result JSON.")] = Path("surveillance.json")
                          ) -> None:
    """Precision and recall per typology (abusive accounts against ground truth), detection delay, Cong et al."""
    from cryptoscope.surveillance.report import evaluate_lake

    with console.status("evaluating surveillance"):
        result = evaluate_lake(_lake(lake), engine=engine)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    for name, m in result["typologies"].items():
        console.print(f"{name:14s} precision {m['precision']:.3f} recall {m['recall']:.3f} "
                      f"(flagged {m['flagged']}, abusive {m['abusive']}) delay median {m['delay_s_median']} s")
    console.print(f"wrote {out}")
