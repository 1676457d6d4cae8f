"""Adapters for outside benchmark data: the Fraud Detection Handbook, MovieLens-100k, the airline tweets,
and the public anomaly-table corpora.

They load someone else's data and protocol to judge our products against published figures, so they
import the product packages and never the other way round: product code does not import
`cryptoscope.benchmarks`. The commands that run them are `cryptoscope risk benchmark fdh`,
`reco benchmark movielens`, `feedback benchmark airline`, and the scripts under the top-level `benchmarks/`.
"""
