"""Recommendations as a product line: every user's top 10 within their suitability, with reasons.

The batch stage fits the recommender on the lake, saves it beside the reports (``recommender.pkl``, what
``cryptoscope reco recommend --model`` and the server load), appends every account's list to
``recommendations`` and writes a preview page.
"""

from __future__ import annotations

from cryptoscope.productline import RunContext, StageResult
from cryptoscope.reco.demo import run_demo


class RecommendationsLine:
    """See the module doc."""

    name = "recommendations"
    purpose = "Each user's top 10 products within their suitability and country rules, with the reason."
    reads = ("accounts", "kyc_submissions", "product_catalog", "product_events", "trades")
    writes = ("recommendations",)
    after = ()
    command = "cryptoscope reco train|recommend"

    def run(self, ctx: RunContext) -> StageResult:
        ctx.progress("recommendations")
        page = run_demo(ctx.lake.root, ctx.reports, show_progress=False)
        return StageResult(f"every user's top 10 in recommendations, within their suitability; preview {page}", page)
