"""Market surveillance as a product line: wash trading, spoofing and pump-and-dump on orders and trades.

The batch stage runs every detector over the lake on the run's engine, appends new alerts to ``surveillance_alerts`` and
the case queue beside the lake, scores them against the world's ground truth where it has one, and writes
``surveillance.md``, ``surveillance.json`` and a picture of the most severe pump to the reports folder.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from cryptoscope.productline import RunContext, StageResult
from cryptoscope.surveillance import evaluate
from cryptoscope.surveillance.pipeline import default_cases_url, run_surveillance


class SurveillanceLine:
    """See the module doc."""

    name = "surveillance"
    purpose = "Market abuse (wash trading, spoofing, pump-and-dump) on orders and trades, alerts into cases."
    reads = ("account_changes", "accounts", "ground_truth", "orders", "payments", "sessions", "trades")
    writes = ("surveillance_alerts",)
    after = ("abnormal",)
    command = "cryptoscope surveillance run"

    def run(self, ctx: RunContext) -> StageResult:
        ctx.progress("market surveillance")
        out = ctx.reports
        out.mkdir(parents=True, exist_ok=True)
        con = ctx.connect()
        result = run_surveillance(ctx.lake, cases_url=default_cases_url(ctx.lake.root), backend=con)
        scores = evaluate.score(result.alerts, con)
        figure = _draw_pump(con, result.alerts.to_pylist(), out / "surveillance_pump.png")
        (out / "surveillance.json").write_text(json.dumps(scores, indent=2, default=str) + "\n")
        path = out / "surveillance.md"
        path.write_text(_markdown(result.alerts.num_rows, result.written, result.cases, scores, figure))
        return StageResult("wash trading, spoofing and pump-and-dump alerts in surveillance_alerts and the case "
                           f"queue; {path}", path)


def _markdown(alerts: int, written: int, cases: int | None, scores: dict[str, Any], figure: Path | None) -> str:
    lines = ["# Surveillance", "", f"{alerts} alerts, {written} new in `surveillance_alerts`; "
             f"{'no case queue' if cases is None else f'{cases} new alerts in the case queue'}.", "",
             "| typology | precision | recall | flagged | abusive | median delay (s) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, m in scores["typologies"].items():
        lines.append(f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['flagged']} | {m['abusive']} | "
                     f"{m['delay_s_median']} |")
    if figure:
        lines += ["", f"![the most severe pump]({figure.name})"]
    return "\n".join(lines) + "\n"


def _draw_pump(con: Any, alerts: list[dict[str, Any]], path: Path) -> Path | None:
    """Price and trades around the most severe pump alert, the named accounts' sells marked."""
    pumps = sorted((a for a in alerts if a["typology"] == "pump_and_dump"), key=lambda a: -a["severity"])
    if not pumps:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    a = pumps[0]
    burst = dt.datetime.fromisoformat(json.loads(a["evidence"])["burst_start"])
    t = con.table("trades")
    t = t.filter((t.symbol == a["symbol"]) & (t.event_time >= burst - dt.timedelta(hours=12))
                 & (t.event_time <= burst + dt.timedelta(hours=6))).to_pyarrow().to_pylist()
    accounts = {int(x) for x in a["accounts"].split(",")}
    fig = Figure(figsize=(9, 4))  # not pyplot: a report must not switch the process's backend (a notebook's)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot([r["event_time"] for r in t], [r["price"] for r in t], ".", ms=3, color="grey", label="trades")
    dumps = [r for r in t if r["seller_user_id"] in accounts and r["aggressor_side"] == "sell"]
    ax.plot([r["event_time"] for r in dumps], [r["price"] for r in dumps], "v", color="crimson",
            label="named accounts selling")
    ax.axvline(burst, color="orange", label="burst bucket")  # type: ignore[arg-type]  # matplotlib takes datetimes
    ax.axvline(a["detected_at"], color="crimson", ls="--", label="accounts named")
    ax.set_title(f"{a['symbol']}: pump alert, {len(accounts)} accounts, severity {a['severity']:.2f}")
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path
