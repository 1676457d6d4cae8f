"""The HTML exposure report: flow graph drawn, paths listed, demo report from a scored lake."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa

from cryptoscope.chain.exposure import Labels, trace
from cryptoscope.chain.flows import FlowGraph
from cryptoscope.chain.report import flow_graph_png, write_report
from cryptoscope.lake import Lake

H = 3_600_000_000


def test_report_draws_the_flow_graph_and_lists_every_payment(tmp_path: Path) -> None:
    flows = pa.table({"txid": ["aa" * 32, "bb" * 32], "src": ["darkmarket", "hop"], "dst": ["hop", "customer"],
                      "amount": [5.0, 4.9], "asset": ["native", "native"], "time": [H, 2 * H]})
    graph = FlowGraph.build(flows)
    labels = Labels.build(graph, pa.table({"address": ["darkmarket"], "category": ["darknet"], "source": ["intel"],
                                           "published": [0]}))
    exposure = trace(graph, labels, "customer")
    assert flow_graph_png(exposure) is not None
    out = write_report(tmp_path / "r.html", "Exposure of customer", [("upstream", exposure)])
    html = out.read_text()
    assert html.count("data:image/png;base64,") == 1
    assert "darknet" in html and "aaaaaaaaaaaaaaaa" in html and "bbbbbbbbbbbbbbbb" in html
    clean = trace(graph, labels, "darkmarket", direction="downstream")  # labelled itself: no payments to draw
    assert flow_graph_png(clean) is None


def test_demo_report_shows_exposed_transfers_at_several_distances(scored_world: tuple[Lake, Path]) -> None:
    _, report = scored_world
    html = report.read_text()
    assert report.name == "chain_exposure.html"
    assert "point_in_time" in html and "retrospective" in html
    hops = {int(h) for h in re.findall(r"\((\d) hops\)</h2>", html)}
    assert {2, 3} <= hops  # the deepest planted paths are drawn
    assert html.count("data:image/png;base64,") >= 3
