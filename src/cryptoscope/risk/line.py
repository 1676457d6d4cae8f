"""Each risk product as a product line: its declarations and its batch stage, over `RiskScorer`'s scoring.

``RiskLine(kind)`` follows the product contract (``cryptoscope.productline``): ``run(ctx)`` trains the
product on the lake, judges it against the rules on the later test period, registers it, promotes it when it
costs less than the rules, and then batch-scores every decision into ``risk_scores`` (``scoring.py``, through
``score_many``). Online it scores with ``score_one`` after ``load`` (``scorer.py``).

>>> [line.name for line in risk_lines()]
['kyc', 'payment', 'withdrawal', 'credit', 'deposit']
>>> RiskLine("deposit").after
('chain',)
"""

from __future__ import annotations

from cryptoscope.productline import RunContext, StageResult
from cryptoscope.risk.products import ALL_KINDS
from cryptoscope.risk.scorer import RiskScorer
from cryptoscope.risk.scoring import TABLE as RISK_SCORES
from cryptoscope.risk.scoring import score
from cryptoscope.risk.training import train


class RiskLine(RiskScorer):
    """One risk product as a product line; see the module doc."""

    writes = (RISK_SCORES,)

    # -- what it declares ----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.kind

    @property
    def purpose(self) -> str:
        return self.product.doc

    @property
    def reads(self) -> tuple[str, ...]:
        product = self.product
        tables = {product.table, "accounts", "sessions", "labels"}  # sessions: the activity window
        tables |= {source.table for view, _ in product.views for source in view.sources}
        if product.kind == "kyc":
            tables.add("kyc_submissions")
        if product.kind == "deposit":
            tables.add("chain_exposure")
        return tuple(sorted(tables))

    @property
    def after(self) -> tuple[str, ...]:
        return ("chain",) if "chain_exposure" in self.reads else ()

    @property
    def command(self) -> str:
        return f"cryptoscope risk train|evaluate|score {self.kind}"

    @property
    def online(self) -> bool:
        return self.product.online

    def run(self, ctx: RunContext) -> StageResult:
        """Train, judge, register and promote; then score every decision when the new version was promoted."""
        ctx.progress(f"training {self.kind} risk")
        backend = ctx.connect()  # the training set and the decisions are built by the run's engine
        result = train(self.kind, ctx.lake, ctx.registry, report_dir=ctx.reports, backend=backend)
        ev = result.evaluation
        line = (f"v{result.version}: test PR-AUC {ev.model.pr_auc:.3f} (rules {ev.rules.pr_auc:.3f}); cost "
                f"${ev.model.cost:,.0f} vs rules ${ev.rules.cost:,.0f} -> "
                f"{'promoted' if result.promoted else f'not promoted ({result.refused})'}; report {result.report}")
        if result.promoted:
            ctx.progress(f"scoring {self.kind} decisions")
            scored = score(self.kind, ctx.lake, ctx.registry, backend=backend).scored
            line += f"\n  scored {scored:,} decisions into {RISK_SCORES}"
        return StageResult(line, result.report)


def risk_lines() -> tuple[RiskLine, ...]:
    """Every risk product as a line, the event products first and the chain products after."""
    return tuple(RiskLine(kind) for kind in ALL_KINDS)
