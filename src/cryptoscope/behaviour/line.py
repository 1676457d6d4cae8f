"""User behaviour as a product line: segments in words, funnel, patterns, churn and lifetime value.

The batch stage analyses the lake on the context's engine, writes ``behaviour_segments`` and
``churn_scores`` and the report.
"""

from __future__ import annotations

from cryptoscope.behaviour.demo import run_demo
from cryptoscope.productline import RunContext, StageResult


class BehaviourLine:
    """See the module doc."""

    name = "behaviour"
    purpose = "Behavioural segments in words, onboarding funnel, sequence patterns, churn and lifetime value."
    reads = ("accounts", "sessions", "payments", "chain_transfers", "trades", "product_events")
    writes = ("behaviour_segments", "churn_scores")
    after = ()
    command = "cryptoscope behaviour segments|funnel|patterns|churn"

    def run(self, ctx: RunContext) -> StageResult:
        ctx.progress("user behaviour")
        report = run_demo(ctx.lake.root, ctx.reports, engine=ctx.engine)
        return StageResult("segments, funnel, patterns, churn and value in behaviour_segments and churn_scores; "
                           f"report {report}", report)
