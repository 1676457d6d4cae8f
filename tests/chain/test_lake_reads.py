"""The chain analytics' lake reads, pinned: the figures below are what the DuckDB SQL gave before
the reads became Ibis expressions, on hand-made chains with every edge case (`write_tiny_chains`).

The other chain tests check properties (no cluster mixes two customers, every planted path is
found); these catch any change at all in flows, clusters, labels and exposure. One test runs the
same readers on Spark and must find the same rows.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from cryptoscope.chain.flows import chains_in_lake, is_utxo, read_flows
from cryptoscope.chain.scoring import score_transfers
from cryptoscope.chain.store import cluster_lake, exchange_addresses, read_labels
from cryptoscope.lake import Lake

FLOWS = {
    "bitcoin": [
        ("cj", "1Erin", "1P", 33.333333333333336, "native", 1709252400000000),
        ("cj", "1Erin", "1Q", 33.333333333333336, "native", 1709252400000000),
        ("cj", "1Erin", "1R", 33.333333333333336, "native", 1709252400000000),
        ("cj", "1Frank", "1P", 33.333333333333336, "native", 1709252400000000),
        ("cj", "1Frank", "1Q", 33.333333333333336, "native", 1709252400000000),
        ("cj", "1Frank", "1R", 33.333333333333336, "native", 1709252400000000),
        ("cj", "bc1qdddddddddddddddddddddddddddddddddddddd", "1P", 33.333333333333336, "native", 1709252400000000),
        ("cj", "bc1qdddddddddddddddddddddddddddddddddddddd", "1Q", 33.333333333333336, "native", 1709252400000000),
        ("cj", "bc1qdddddddddddddddddddddddddddddddddddddd", "1R", 33.333333333333336, "native", 1709252400000000),
        ("f1", "1Alice", "1Change", 308.5, "native", 1709251800000000),
        ("f1", "1Alice", "3Shop", 500000.0, "native", 1709251800000000),
        ("f1", "1Alice2", "1Change", 925.5, "native", 1709251800000000),
        ("f1", "1Alice2", "3Shop", 1500000.0, "native", 1709251800000000),
        ("m1", "1Mixer", "1Alice", 8000.0, "native", 1709251500000000),
        ("m2", "1Xavier", "1Depo", 3900.0, "native", 1709254200000000),
        ("nv", "3Gina", "1Yan", 250.0, "native", 1709253000000000),
        ("nv", "3Hugo", "1Yan", 250.0, "native", 1709253000000000),
        ("nv", "3Hugo", "3Gina", 50000.0, "native", 1709253000000000),
        ("sp", "1Alice", "1Xavier", 400.0, "native", 1709253600000000),
    ],
    "ethereum": [
        ("e1", "0xmixer", "0xbob", 5000.0, "native", 1709251260000000),
        ("e2", "0xbob", "0xdep", 4000.0, "native", 1709251320000000),
        ("e8", "0xdep", "0xhot", 4600.0, "native", 1709251680000000),
        ("e9", "0xhot", "0xdave", 1000.0, "native", 1709251740000000),
        ("k1", "0xmixer", "0xbob", 70.0, "0xusdt", 1709251260000000),
        ("k2", "0xbob", "0xdep", 60.0, "0xusdt", 1709251320000000),
    ],
}
CLUSTERS = {  # (address, cluster, heuristics) of every address in a cluster of two or more
    "bitcoin": [
        ("1Alice", "1Alice", "multi_input,change"),
        ("1Alice2", "1Alice", "multi_input"),
        ("1Change", "1Alice", "change"),
        ("1Depo", "1Depo", "deposit_reuse"),
        ("1Xavier", "1Depo", "deposit_reuse"),
        ("3Gina", "3Gina", "multi_input"),
        ("3Hugo", "3Gina", "multi_input"),
    ],
    "ethereum": [("0xbob", "0xbob", "deposit_reuse"), ("0xdep", "0xbob", "deposit_reuse")],
}
LINKS = {"bitcoin": {"multi_input": 2, "change": 1, "deposit_reuse": 1}, "ethereum": {"deposit_reuse": 1}}
#: (score id, haircut, poison, hops, category, known at hh:mm)
SCORES = [
    ("1:point_in_time", 0.5, 0.5, 1, "mixer", "00:02"),
    ("1:retrospective", 0.5, 0.5, 1, "mixer", "00:02"),
    ("2:point_in_time", 0.5, 0.5, 1, "mixer", "00:02"),
    ("2:retrospective", 0.5, 0.5, 1, "mixer", "00:02"),
    ("3:point_in_time", 0.0, 0.0, None, None, "00:09"),
    ("3:retrospective", 1.0, 1.0, 0, "scam", "01:40"),
    ("4:point_in_time", 0.0, 0.0, None, None, "00:50"),
    ("4:retrospective", 0.25, 0.25, 2, "sanctioned", "01:00"),
]


def rows(table: pa.Table) -> list[tuple[object, ...]]:
    return sorted(tuple(r.values()) for r in table.to_pylist())


@pytest.mark.parametrize("chain", ["bitcoin", "ethereum"])
def test_flows_are_the_same_edges_as_before(tiny_chains: Lake, chain: str) -> None:
    assert rows(read_flows(tiny_chains, chain)) == FLOWS[chain]


@pytest.mark.parametrize("chain", ["bitcoin", "ethereum"])
def test_clusters_are_the_same_as_before(tiny_chains: Lake, chain: str) -> None:
    clustering = cluster_lake(tiny_chains, chain)
    multi = [(r["address"], r["cluster"], r["heuristics"]) for r in clustering.to_arrow().to_pylist()
             if r["cluster_size"] > 1]
    assert sorted(multi) == CLUSTERS[chain]
    assert clustering.stats().links == LINKS[chain]
    assert clustering.stats().coinjoins_skipped == (chain == "bitcoin")


def test_exchange_addresses_and_labels_are_the_same_as_before(tiny_chains: Lake) -> None:
    assert exchange_addresses(tiny_chains, "ethereum") == ({"0xhot"}, {"0xdep"})
    assert exchange_addresses(tiny_chains, "bitcoin") == (set(), {"1Depo"})
    assert rows(read_labels(tiny_chains, "ethereum")) == [
        ("0xdave", "scam", "test", None, 1709257200000000), ("0xhot", "exchange", "test", None, 1709251200000000),
        ("0xmixer", "mixer", "test", None, 1709251200000000)]
    assert rows(read_labels(tiny_chains, "bitcoin")) == [('1Mixer', 'sanctioned', 'test', None, 1709254800000000)]
    assert chains_in_lake(tiny_chains) == ["bitcoin", "ethereum"]
    assert is_utxo(tiny_chains, "bitcoin") and not is_utxo(tiny_chains, "ethereum")


def test_exposure_scores_are_the_same_as_before(tiny_chains: Lake) -> None:
    scored = score_transfers(tiny_chains).to_pylist()
    assert [(r["score_id"], r["haircut"], r["poison"], r["hops"], r["category"], r["known_at"].strftime("%H:%M"))
            for r in scored] == SCORES


@pytest.fixture(scope="module")
def spark(tiny_chains: Lake, spark_session: Any) -> Any:
    """The tiny chains on the run's local Spark."""
    from cryptoscope.features import engines

    return engines.connect(tiny_chains, "spark")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
@pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")
def test_the_same_reads_on_spark(tiny_chains: Lake, spark: Any) -> None:
    for chain in ("bitcoin", "ethereum"):
        assert rows(read_flows(spark, chain)) == FLOWS[chain]
        assert rows(read_labels(spark, chain)) == rows(read_labels(tiny_chains, chain))
        assert cluster_lake(spark, chain).to_arrow().equals(cluster_lake(tiny_chains, chain).to_arrow())
    assert chains_in_lake(spark) == ["bitcoin", "ethereum"]
    scored = score_transfers(spark).drop_columns(["scored_at"])
    assert scored.equals(score_transfers(tiny_chains).drop_columns(["scored_at"]))
