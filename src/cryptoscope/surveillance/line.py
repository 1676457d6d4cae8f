"""Market surveillance as a product line: wash trading, spoofing and pump-and-dump on orders and trades.

The batch stage runs every detector over the lake, appends new alerts to ``surveillance_alerts`` and the
case queue, scores them against the world's ground truth where it has one, and writes the report.
"""

from __future__ import annotations

from cryptoscope.productline import RunContext, StageResult
from cryptoscope.surveillance.demo import run_demo


class SurveillanceLine:
    """See the module doc."""

    name = "surveillance"
    purpose = "Market abuse (wash trading, spoofing, pump-and-dump) on orders and trades, alerts into cases."
    reads = ("accounts", "ground_truth", "orders", "trades")
    writes = ("surveillance_alerts",)
    after = ("abnormal",)
    command = "cryptoscope surveillance run"

    def run(self, ctx: RunContext) -> StageResult:
        ctx.progress("market surveillance")
        report = run_demo(ctx.lake, ctx.reports)
        return StageResult("wash trading, spoofing and pump-and-dump alerts in surveillance_alerts and the case "
                           f"queue; {report}", report)
