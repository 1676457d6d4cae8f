"""Address clustering: each heuristic on hand-made transactions, then on a real block and the simulated world."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

import networkx as nx
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from cryptoscope.chain.backend import lake_table
from cryptoscope.chain.clustering import ClusterConfig, Clustering, cluster_tables
from cryptoscope.chain.flows import chains_in_lake
from cryptoscope.chain.line import ChainLine
from cryptoscope.chain.store import cluster_lake, stored_cluster_of, write_clusters
from cryptoscope.lake import Lake, connect
from cryptoscope.lake.driver import tracking
from cryptoscope.lake.spark import connect_spark
from cryptoscope.productline import RunContext

BLOCK = Path(__file__).resolve().parents[3] / "shared" / "data" / "bitcoin" / "block-277647.dat.bz2"
needs_block = pytest.mark.skipif(not BLOCK.exists() and "CI" not in os.environ, reason="shared bitcoin data missing")
T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def utxo(txs: list[tuple[str, list[str], list[tuple[str, int, str]]]]) -> tuple[pa.Table, pa.Table]:
    """(inputs, outputs) from [(txid, input addresses, [(output address, value, script type)])], in order."""
    ins = [(t, a) for t, addrs, _ in txs for a in addrs]
    outs = [(t, i, T0 + dt.timedelta(minutes=n), v, s, a) for n, (t, _, os_) in enumerate(txs)
            for i, (a, v, s) in enumerate(os_)]
    inputs = pa.table({"txid": [t for t, _ in ins], "address": [a for _, a in ins], "value": [1000] * len(ins)})
    outputs = pa.table({"txid": [o[0] for o in outs], "output_index": [o[1] for o in outs],
                        "event_time": pa.array([o[2] for o in outs], pa.timestamp("us", tz="UTC")),
                        "value": [o[3] for o in outs], "script_type": [o[4] for o in outs],
                        "address": [o[5] for o in outs]})
    return inputs, outputs


def test_multi_input_links_the_inputs_of_one_transaction_but_not_of_a_coinjoin() -> None:
    inputs, outputs = utxo([
        ("t1", ["1A", "1B", "1C"], [("1X", 5000, "p2pkh")]),
        ("cj", ["1D", "1E", "1F"], [("1P", 100, "p2pkh"), ("1Q", 100, "p2pkh"), ("1R", 100, "p2pkh")]),
    ])
    c = cluster_tables("bitcoin", inputs=inputs, outputs=outputs)
    assert c.cluster_of("1B") == ["1A", "1B", "1C"]
    assert c.cluster_of("1D") == ["1D"]  # three equal outputs: a CoinJoin links nothing
    assert c.stats().coinjoins_skipped == 1
    unguarded = cluster_tables("bitcoin", inputs=inputs, outputs=outputs,
                               config=ClusterConfig(coinjoin_min_equal_outputs=99))
    assert unguarded.cluster_of("1D") == ["1D", "1E", "1F"]


def test_change_needs_two_agreeing_hints_and_no_tie() -> None:
    inputs, outputs = utxo([
        ("old", ["1Z"], [("3Pay", 1_000_000, "p2sh")]),  # 3Pay seen before: not fresh later
        # fresh + same script type + non-round: 1Chg is the change
        ("t1", ["1A"], [("3Pay", 2_000_000, "p2sh"), ("1Chg", 123_457, "p2pkh")]),
        # only the round-amount hint: not enough
        ("t2", ["1B"], [("1N1", 300_000, "p2pkh"), ("1N2", 87_654, "p2pkh")]),
    ])
    c = cluster_tables("bitcoin", inputs=inputs, outputs=outputs)
    assert c.cluster_of("1A") == ["1A", "1Chg"]
    assert c.cluster_of("1B") == ["1B"]
    assert c.stats().links["change"] == 1
    assert "change" in c.to_arrow().to_pandas().set_index("address").loc["1Chg", "heuristics"]


def test_deposit_reuse_links_senders_of_one_deposit_address_but_not_services() -> None:
    flows = pa.table({
        "src": ["alice1", "alice2", "dep_a", "bob1", "dep_b", "payroll", "payroll", "payroll", "payroll"],
        "dst": ["dep_a", "dep_a", "hot", "dep_b", "hot", "dep_a", "dep_b", "dep_c", "dep_d"],
    })
    c = cluster_tables("ethereum", flows=flows, exchange_addresses={"hot"}, deposit_addresses={"dep_c", "dep_d"},
                       config=ClusterConfig(deposit_max_targets=3))
    assert c.cluster_of("alice2") == ["alice1", "alice2", "dep_a"]  # dep_a found by its sweep to the hot wallet
    assert c.cluster_of("bob1") == ["bob1", "dep_b"]
    assert c.cluster_of("payroll") == ["payroll"]  # pays four deposit addresses: a service, not a customer
    assert c.cluster_id("alice2") == "alice1"


@needs_block
def test_multi_input_on_a_real_block_matches_an_independent_union_find(real_block: Lake) -> None:
    """Block 277,647: 115 transactions with several inputs; networkx's components must agree."""
    con = connect(real_block).con
    rows = con.sql("SELECT txid, address FROM chain_inputs WHERE address IS NOT NULL").fetchall()
    clustering = cluster_lake(real_block, "bitcoin", ClusterConfig(change=False))
    coinjoins = con.sql("""SELECT txid FROM chain_outputs GROUP BY txid, value HAVING count(*) >= 3
                           INTERSECT SELECT txid FROM chain_inputs GROUP BY txid HAVING count(*) >= 2""").fetchall()
    skip = {t for (t,) in coinjoins}
    graph = nx.Graph()
    by_tx: dict[str, list[str]] = {}
    for txid, address in rows:
        graph.add_node(address)
        by_tx.setdefault(txid, []).append(address)
    for txid, addresses in by_tx.items():
        if txid not in skip:
            nx.add_path(graph, addresses)
    expected = [sorted(c) for c in nx.connected_components(graph) if len(c) > 1]
    assert len(expected) > 50
    for component in expected:
        assert clustering.cluster_of(component[0]) == component
    assert clustering.stats().coinjoins_skipped == len(skip)


def test_simulated_deposit_clusters_never_mix_two_customers(scored_world: tuple[Lake, Path]) -> None:
    """Every address that paid into a deposit address in the simulated world belongs to that customer."""
    lake, _ = scored_world
    clustering = cluster_lake(lake, "ethereum")
    assert clustering.stats().links["deposit_reuse"] > 100
    write_clusters(lake, clustering)
    con = connect(lake).con
    mixed = con.sql("""
        WITH owner AS (SELECT DISTINCT address, user_id FROM chain_transfers WHERE direction = 'deposit'
                       UNION SELECT DISTINCT exchange_address, user_id FROM chain_transfers
                       WHERE direction = 'deposit')
        SELECT c.cluster, count(DISTINCT o.user_id) AS users FROM address_clusters c JOIN owner o USING (address)
        WHERE c.chain = 'ethereum' AND c.cluster_size > 1 GROUP BY 1 HAVING count(DISTINCT o.user_id) > 1
        """).fetchall()
    assert mixed == []
    some = con.sql("SELECT address FROM address_clusters WHERE chain = 'ethereum' AND cluster_size > 2 LIMIT 1"
                   ).fetchall()[0][0]
    found = stored_cluster_of(lake, some)
    assert found is not None and some in found[2] and len(found[2]) > 2


def same_on_engine(source: Any, chain: str) -> Clustering:
    """The engine path's clustering of ``chain``, after checking it gives the in-memory path's rows and counts."""
    memory = cluster_lake(source, chain)
    engine = cluster_lake(source, chain, on_engine=True)
    assert engine.to_arrow().equals(memory.to_arrow()), chain
    assert engine.stats() == memory.stats(), chain
    return engine


@pytest.mark.parametrize("chain", ["bitcoin", "ethereum"])
def test_the_engine_path_gives_the_in_memory_rows_on_tiny_chains(tiny_chains: Lake, chain: str) -> None:
    engine = same_on_engine(tiny_chains, chain)
    assert engine.first_seen is not None and engine.first_seen.null_count == 0


@needs_block
def test_the_engine_path_gives_the_in_memory_rows_on_a_real_block(real_block: Lake) -> None:
    """Only the answer comes to the driver: no result larger than one row per address."""
    engine = same_on_engine(connect(real_block), "bitcoin")
    assert engine.stats().multi_address_clusters > 50 and engine.stats().links["change"] > 0
    assert engine.rounds >= 1
    with tracking() as alone:
        cluster_lake(connect(real_block), "bitcoin", on_engine=True)
    assert alone.largest == engine.stats().addresses


def test_the_engine_path_gives_the_in_memory_rows_on_the_simulated_world(
        small_world: tuple[Lake, object, object]) -> None:
    lake = small_world[0]
    backend = connect(lake)
    chains = chains_in_lake(backend)
    assert chains
    for chain in chains:
        same_on_engine(backend, chain)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
@pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")
def test_spark_clusters_as_duckdb_and_memory_do(spark_session: Any, real_block: Lake) -> None:
    """Real Bitcoin (multi-input, change and CoinJoins, which the simulated world lacks) on Spark: the same rows,
    counts and first appearances. The simulated world's clusters on a Spark cluster: the conformance suite."""
    for lake in [real_block] if BLOCK.exists() else []:
        spark = connect_spark(lake, session=spark_session)  # one lake's views at a time in the session
        for chain in chains_in_lake(spark):
            on_spark = cluster_lake(spark, chain, on_engine=True)
            on_duckdb = cluster_lake(connect(lake), chain, on_engine=True)
            assert on_spark.to_arrow().equals(cluster_lake(lake, chain).to_arrow()), chain
            assert on_spark.stats() == on_duckdb.stats() and on_spark.rounds == on_duckdb.rounds
            assert on_spark.first_seen is not None and on_duckdb.first_seen is not None
            assert on_spark.first_seen.equals(on_duckdb.first_seen)


def address_clusters(lake: Lake) -> pa.Table:
    rows = connect(lake).to_pyarrow(lake_table("address_clusters").order_by(["chain", "address"]))
    return rows.drop_columns(["computed_at"])


def test_the_chain_line_writes_the_in_memory_clusters_and_a_second_run_changes_nothing(
        tiny_chains: Lake, tmp_path: Path) -> None:
    """On DuckDB; on Spark, the conformance suite's run on a cluster writes these same rows."""
    lake = Lake(shutil.copytree(tiny_chains.root, tmp_path / "lake"))
    ctx = RunContext(lake, tmp_path / "registry", tmp_path / "reports")
    assert "2 chain(s) in address_clusters" in ChainLine().run(ctx).summary
    first = address_clusters(lake)
    for chain in ("bitcoin", "ethereum"):
        mine = first.filter(pc.equal(first["chain"], chain)).select(["address", "cluster", "cluster_size",
                                                                     "heuristics"])
        assert mine.equals(cluster_lake(tiny_chains, chain).to_arrow())
    rows_before = sum(f.rows for f in lake.catalog().files("address_clusters"))
    ChainLine().run(ctx)
    assert sum(f.rows for f in lake.catalog().files("address_clusters")) == rows_before
    assert address_clusters(lake).equals(first)
