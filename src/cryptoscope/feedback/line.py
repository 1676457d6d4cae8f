"""Customer feedback as a product line: sentiment, topics and drivers of satisfaction, with intervals.

The batch stage scores the lake's tickets and survey answers into ``feedback_scores`` and writes the report
of topics and the drivers of CSAT and NPS, tied to what each user lived, with effect sizes and intervals.
"""

from __future__ import annotations

from cryptoscope.feedback.report import write_report
from cryptoscope.productline import RunContext, StageResult


class FeedbackLine:
    """See the module doc."""

    name = "feedback"
    purpose = "Sentiment, topics and drivers of CSAT/NPS from tickets and surveys, with effect sizes."
    reads = ("accounts", "chain_transfers", "kyc_submissions", "loans", "payments", "sessions", "surveys", "tickets",
             "trades")
    writes = ("feedback_scores",)
    after = ()
    command = "cryptoscope feedback analyze|drivers|report"

    def run(self, ctx: RunContext) -> StageResult:
        ctx.progress("customer feedback")
        report = write_report(ctx.lake, ctx.reports, backend=ctx.connect())
        return StageResult(f"tickets and surveys scored into feedback_scores, drivers of CSAT/NPS; report {report}",
                           report)
