"""On-chain analytics as a product line: exposure of every deposit and withdrawal, traced on chain.

The batch stage scores the exposure of every transfer of the exchange's users to labelled illicit sources
(point in time and with hindsight, upstream and downstream), stores it in ``chain_exposure`` (which the
deposit risk product reads) and writes the exposure report with its flow graphs.
"""

from __future__ import annotations

from cryptoscope.chain.report import write_demo_report
from cryptoscope.productline import RunContext, StageResult


class ChainLine:
    """See the module doc."""

    name = "chain"
    purpose = "Exposure of every deposit and withdrawal to illicit sources, traced hop by hop on chain."
    reads = ("address_labels", "chain_transfers", "chain_transactions", "chain_inputs", "chain_outputs",
             "eth_transactions", "eth_token_transfers", "labels", "payments")
    writes = ("chain_exposure",)
    after = ()
    command = "cryptoscope chain score-transfers"

    def run(self, ctx: RunContext) -> StageResult:
        ctx.progress("on-chain exposure")
        report = write_demo_report(ctx.lake, ctx.reports, source=ctx.connect())
        return StageResult(f"exposure of every deposit and withdrawal in chain_exposure; report {report}", report)
