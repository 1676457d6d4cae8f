"""Recommendations as a product line: every user's top 10 within their suitability, with reasons.

The batch stage reads the lake through the run's engine (``ctx.connect()``), fits the recommender on the
driver, saves it as ``recommender.pkl`` in the reports folder (what ``cryptoscope reco recommend --model`` and
the server load), appends the top 10 of every account to the lake table ``recommendations`` (on Spark computed
on the executors, `serve.write_batch`) and writes ``recommendations.html`` (``preview.py``).
"""

from __future__ import annotations

import time

from cryptoscope.productline import RunContext, StageResult
from cryptoscope.reco.data import load
from cryptoscope.reco.model import Recommender
from cryptoscope.reco.preview import preview_page
from cryptoscope.reco.serve import write_batch


class RecommendationsLine:
    """See the module doc."""

    name = "recommendations"
    purpose = "Each user's top 10 products within their suitability and country rules, with the reason."
    reads = ("accounts", "chain_transfers", "kyc_submissions", "labels", "orders", "payments", "product_catalog",
             "product_events", "risk_scores", "trades")
    writes = ("recommendations",)
    after = ("kyc", "payment", "withdrawal", "credit", "deposit")  # it keeps risky products from flagged users
    command = "cryptoscope reco train|recommend"

    def run(self, ctx: RunContext) -> StageResult:
        started = time.perf_counter()
        ctx.progress("recommendations: fitting")
        backend = ctx.connect()
        model = Recommender.fit(load(ctx.lake.root, backend=backend))
        model.save(ctx.reports / "recommender.pkl")
        ctx.progress("recommendations: every user's top 10")
        run = write_batch(model, ctx.lake.root, show_progress=False, backend=backend)
        page = ctx.reports / "recommendations.html"
        page.write_text(preview_page(model, run, time.perf_counter() - started), encoding="utf-8")
        return StageResult(f"every user's top 10 in recommendations, within their suitability; preview {page}", page)
