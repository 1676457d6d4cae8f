"""The surveillance part of `make demo`: detect, file cases, score against the world's truth, draw one pump.

>>> from cryptoscope.surveillance.demo import run_demo
>>> run_demo("demo-lake", "reports")          # doctest: +SKIP
PosixPath('reports/surveillance.md')
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from cryptoscope.lake.store import Lake
from cryptoscope.surveillance import evaluate
from cryptoscope.surveillance.pipeline import default_cases_url, run_surveillance


def run_demo(lake: Lake | str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> Path:
    """Detect on DuckDB over ``lake`` (alerts into the lake and the case queue); report into ``out_dir``.

    Writes ``surveillance.md`` (returned), ``surveillance.json`` and ``surveillance_pump.png``.
    """
    from cryptoscope.lake.engine import connect

    lake = lake if isinstance(lake, Lake) else Lake(lake)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = run_surveillance(lake, cases_url=default_cases_url(lake.root))
    con = connect(lake)
    scores = evaluate.score(result.alerts, con)
    figure = _draw_pump(con, result.alerts.to_pylist(), out / "surveillance_pump.png")
    (out / "surveillance.json").write_text(json.dumps(scores, indent=2, default=str) + "\n")
    lines = ["# Surveillance", "", f"{result.alerts.num_rows} alerts, {result.written} new in `surveillance_alerts`; "
             f"{'no case queue' if result.cases is None else f'{result.cases} new alerts in the case queue'}.", "",
             "| typology | precision | recall | flagged | abusive | median delay (s) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, m in scores["typologies"].items():
        lines.append(f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['flagged']} | {m['abusive']} | "
                     f"{m['delay_s_median']} |")
    if figure:
        lines += ["", f"![the most severe pump]({figure.name})"]
    path = out / "surveillance.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _draw_pump(con: Any, alerts: list[dict[str, Any]], path: Path) -> Path | None:
    """Price and trades around the most severe pump alert, the named accounts' sells marked."""
    pumps = sorted((a for a in alerts if a["typology"] == "pump_and_dump"), key=lambda a: -a["severity"])
    if not pumps:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a = pumps[0]
    burst = dt.datetime.fromisoformat(json.loads(a["evidence"])["burst_start"])
    t = con.table("trades")
    t = t.filter((t.symbol == a["symbol"]) & (t.event_time >= burst - dt.timedelta(hours=12))
                 & (t.event_time <= burst + dt.timedelta(hours=6))).to_pyarrow().to_pylist()
    accounts = {int(x) for x in a["accounts"].split(",")}
    fig, ax = plt.subplots(figsize=(9, 4))
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
    plt.close(fig)
    return path
