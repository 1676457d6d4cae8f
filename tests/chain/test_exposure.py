"""Tracing: haircut and poison on a hand-made flow graph, with time, label dates, hubs and clusters."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest

from cryptoscope.chain.exposure import DOWNSTREAM, UPSTREAM, ExposureConfig, Labels, trace
from cryptoscope.chain.flows import FlowGraph, read_flows
from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake import Lake, connect

H = 3_600_000_000  # one hour in µs

#            mixer --60--> a --100--> target      (t=1h, t=3h)
#            clean --40--> a                      (t=2h)
#            scam  --10--> target                 (t=4h: after the traced deposit at 3.5h)
#            target --50--> hot (an exchange hot wallet), hot --5--> target (t=0.5h)
FLOWS = pa.table({
    "txid": ["t1", "t2", "t3", "t4", "t5", "t6"],
    "src": ["mixer", "clean", "a", "scam", "target", "hot"],
    "dst": ["a", "a", "target", "target", "hot", "target"],
    "amount": [60.0, 40.0, 100.0, 10.0, 50.0, 5.0],
    "asset": ["native"] * 6,
    "time": [1 * H, 2 * H, 3 * H, 4 * H, 5 * H, H // 2],
})
LABELS = pa.table({"address": ["mixer", "scam", "hot"], "category": ["mixer", "scam", "exchange"],
                   "source": ["list", "list", "list"], "published": [0, 10 * H, 0]})


@pytest.fixture()
def graph() -> FlowGraph:
    return FlowGraph.build(FLOWS)


def test_haircut_is_the_illicit_share_and_poison_any_path(graph: FlowGraph) -> None:
    labels = Labels.build(graph, LABELS)
    exp = trace(graph, labels, "target", direction=UPSTREAM, at_us=int(3.5 * H), config=ExposureConfig(decay=0.5))
    # target's inflow before 3.5h: 100 from a (a's inflow: 60% mixer) and 5 from the hot wallet (a stop)
    share = 100 / 105 * 0.6
    assert exp.hops == 2
    assert exp.haircut == pytest.approx(share * 0.25)
    assert exp.poison == pytest.approx(0.25)
    assert exp.category == "mixer"
    path = exp.paths[0]
    assert [h.txid for h in path.payments] == ["t1", "t3"]  # from the source to the traced address
    assert path.payments[0].sender == "mixer" and path.payments[-1].receiver == "target"
    assert exp.known_at_us == 3 * H


def test_later_payments_and_later_labels_do_not_count(graph: FlowGraph) -> None:
    labels = Labels.build(graph, LABELS)
    late = trace(graph, labels, "target", at_us=5 * H)  # now the scam payment at 4h is in the past
    assert "scam" in late.by_category
    before_label = trace(graph, labels, "target", at_us=5 * H, label_cutoff_us=9 * H)  # scam labelled at 10h
    assert "scam" not in before_label.by_category
    assert trace(graph, labels, "target", at_us=int(0.9 * H)).poison == 0  # only the hot wallet paid by then


def test_downstream_follows_where_the_funds_went(graph: FlowGraph) -> None:
    labels = Labels.build(graph, pa.table({"address": ["hot"], "category": ["sanctioned"], "source": ["ofac"],
                                           "published": [0]}))
    exp = trace(graph, labels, "a", direction=DOWNSTREAM, at_us=0)
    assert exp.hops == 2 and exp.by_category == {"sanctioned": pytest.approx(0.25)}
    assert [h.txid for h in exp.paths[0].payments] == ["t3", "t5"]


def test_a_labelled_address_is_fully_exposed_and_unknown_ones_not_at_all(graph: FlowGraph) -> None:
    labels = Labels.build(graph, LABELS)
    own = trace(graph, labels, "mixer")
    assert (own.haircut, own.poison, own.hops) == (1.0, 1.0, 0)
    assert trace(graph, labels, "nobody").poison == 0
    with pytest.raises(CryptoscopeError, match="direction"):
        trace(graph, labels, "a", direction="sideways")


def test_the_hop_limit_and_a_cluster_view(graph: FlowGraph) -> None:
    labels = Labels.build(graph, LABELS)
    assert trace(graph, labels, "target", at_us=int(3.5 * H), config=ExposureConfig(max_hops=1)).poison == 0
    # with 'a' and 'target' one entity, the mixer is one hop from the cluster
    node_of = {"a": "entity", "target": "entity"}
    merged = FlowGraph.build(FLOWS, node_of)
    exp = trace(merged, Labels.build(merged, LABELS, node_of=node_of), "entity", at_us=int(3.5 * H))
    assert exp.hops == 1


BLOCK = Path(__file__).resolve().parents[3] / "shared" / "data" / "bitcoin" / "block-277647.dat.bz2"


@pytest.mark.skipif(not BLOCK.exists() and "CI" not in os.environ, reason="shared bitcoin data missing")
def test_one_hop_haircut_on_a_real_block_is_the_value_share_of_the_labelled_input(real_block: Lake) -> None:
    """Label one input address of a real multi-input transaction; an output's haircut must be that
    input's share of the value paying the output (computed here from the raw rows, not from flows)."""
    con = connect(real_block).con
    inputs = con.sql("SELECT txid, address, value FROM chain_inputs WHERE address IS NOT NULL").fetchall()
    outputs = con.sql("SELECT txid, address, value FROM chain_outputs WHERE address IS NOT NULL").fetchall()
    spenders = {a for _, a, _ in inputs}
    by_tx: dict[str, list[tuple[str, int]]] = {}
    for txid, address, value in inputs:
        by_tx.setdefault(txid, []).append((address, value))
    txid, source = next((t, ins[0][0]) for t, ins in sorted(by_tx.items()) if len({a for a, _ in ins}) > 1)
    target = next(a for t, a, _ in sorted(outputs) if t == txid and a not in spenders)
    paid = [(t, v) for t, a, v in outputs if a == target and t in by_tx]  # coinbase pays carry no sender
    tainted = sum(v * sum(iv for ia, iv in by_tx.get(t, []) if ia == source) / sum(iv for _, iv in by_tx[t])
                  for t, v in paid)
    expected = tainted / sum(v for _, v in paid)

    graph = FlowGraph.build(read_flows(real_block, "bitcoin"))
    labels = Labels.build(graph, pa.table({"address": [source], "category": ["scam"], "source": ["test"],
                                           "published": [0]}))
    exp = trace(graph, labels, target, config=ExposureConfig(max_hops=1, decay=0.5))
    assert 0 < expected < 1
    assert exp.haircut == pytest.approx(0.5 * expected, rel=1e-9)
    assert exp.poison == 0.5
    assert {h.txid for p in exp.paths for h in p.payments} <= {t for t, _ in paid}
    assert txid in {h.txid for p in exp.paths for h in p.payments}
