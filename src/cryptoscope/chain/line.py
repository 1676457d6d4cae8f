"""On-chain analytics as a product line: exposure of every deposit and withdrawal, and the address clusters.

The batch stage scores the exposure of every transfer of the exchange's users to labelled illicit sources
(point in time and with hindsight, upstream and downstream), stores it in ``chain_exposure`` (which the
deposit risk product reads) and writes the exposure report with its flow graphs. Then it clusters the
addresses of every chain with data on the run's engine and replaces ``address_clusters`` with the result:
cluster ids are the clusters' smallest addresses, so a re-run on the same lake writes the same rows (only
``computed_at`` moves), on DuckDB and Spark alike.
"""

from __future__ import annotations

from cryptoscope.chain.flows import chains_in_lake
from cryptoscope.chain.report import write_demo_report
from cryptoscope.chain.store import cluster_lake, write_clusters
from cryptoscope.productline import RunContext, StageResult


class ChainLine:
    """See the module doc."""

    name = "chain"
    purpose = ("Exposure of every deposit and withdrawal to illicit sources, traced hop by hop on chain; "
               "address clusters.")
    reads = ("address_labels", "chain_transfers", "chain_transactions", "chain_inputs", "chain_outputs",
             "eth_transactions", "eth_token_transfers", "labels", "payments")
    writes = ("chain_exposure", "address_clusters")
    after = ()
    command = "cryptoscope chain score-transfers"

    def run(self, ctx: RunContext) -> StageResult:
        backend = ctx.connect()
        ctx.progress("on-chain exposure")
        report = write_demo_report(ctx.lake, ctx.reports, source=backend)
        clusterings = []
        for chain in chains_in_lake(backend):
            ctx.progress(f"address clusters of {chain}")
            clustering = cluster_lake(backend, chain, on_engine=True)
            if len(clustering.addresses):  # a chain without addresses has nothing to cluster
                clusterings.append(clustering)
        rows = write_clusters(ctx.lake, *clusterings, source=backend, keep_others=False)
        multi = sum(c.stats().multi_address_clusters for c in clusterings)
        return StageResult(f"exposure of every deposit and withdrawal in chain_exposure; {rows:,} addresses of "
                           f"{len(clusterings)} chain(s) in address_clusters ({multi:,} multi-address clusters); "
                           f"report {report}", report)
