"""Address clustering: each heuristic on hand-made transactions, then on a real block and the simulated world."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import networkx as nx
import pyarrow as pa
import pytest

from cryptoscope.chain.clustering import ClusterConfig, cluster_tables
from cryptoscope.chain.store import cluster_lake, stored_cluster_of, write_clusters
from cryptoscope.lake import Lake, connect

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
