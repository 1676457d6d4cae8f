"""User behaviour as a product line: segments in words, funnel, patterns, churn and lifetime value.

The batch stage analyses the lake on the context's engine, writes ``behaviour_segments`` and
``churn_scores`` (the top 500 churn risks with their reasons) and the HTML report.
"""

from __future__ import annotations

from cryptoscope.behaviour import analysis
from cryptoscope.behaviour.churn import churn_reasons
from cryptoscope.behaviour.report import write_report
from cryptoscope.behaviour.store import write_outputs
from cryptoscope.productline import RunContext, StageResult


class BehaviourLine:
    """See the module doc."""

    name = "behaviour"
    purpose = "Behavioural segments in words, onboarding funnel, sequence patterns, churn and lifetime value."
    reads = ("accounts", "chain_transfers", "kyc_submissions", "labels", "loans", "orders", "payments",
             "product_events", "sessions", "trades")
    writes = ("behaviour_segments", "churn_scores")
    after = ()
    command = "cryptoscope behaviour segments|funnel|patterns|churn"

    def run(self, ctx: RunContext) -> StageResult:
        ctx.progress("user behaviour")
        result = analysis.run(ctx.lake.root, ctx.engine)
        scored = result.extras["scored"]
        top = scored.head(500).copy()
        scored["reasons"] = ""
        scored.loc[top.index, "reasons"] = churn_reasons(result.extras["churn"], top)
        write_outputs(ctx.lake, result)
        report = write_report(result, ctx.reports / "behaviour.html")
        return StageResult("segments, funnel, patterns, churn and value in behaviour_segments and churn_scores; "
                           f"report {report}", report)
