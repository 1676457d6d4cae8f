"""On-chain analytics over the lake's public chain tables: clustering, exposure, learning.

One module per concept (imported directly, so a command loads only what it uses):
`flows` (who paid whom), `links`, `clustering`, `components` and `store` (address clusters: the
heuristics' links, then connected components, in memory or on the lake's engine), `exposure` (tracing to
labelled sources), `scoring` (the exchange's transfers -> `chain_exposure`), `report` (HTML with the
flow graph), `classify` and `account_features`, `forecast` (volatility backtest), `reco` (tokens).

>>> from cryptoscope.chain.store import cluster_lake                          # doctest: +SKIP
>>> cluster_lake("demo-lake", "bitcoin").stats().multi_address_clusters       # doctest: +SKIP
>>> cluster_lake(connect("demo-lake", "spark"), "bitcoin", on_engine=True)   # doctest: +SKIP
>>> from cryptoscope.chain.scoring import ChainTracer                         # doctest: +SKIP
>>> from cryptoscope.chain.exposure import trace                              # doctest: +SKIP
>>> tracer = ChainTracer.from_lake("demo-lake", "ethereum")                   # doctest: +SKIP
>>> trace(tracer.graph, tracer.labels, "0x...", direction="upstream").haircut  # doctest: +SKIP
"""
