"""The exchange's transfers scored in the simulated world, judged against the planted exposure paths."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.compute as pc

from cryptoscope.chain.scoring import evaluate, write_scores
from cryptoscope.lake import Lake, connect


def test_every_transfer_is_scored_in_both_modes_with_evidence(scored_world: tuple[Lake, Path]) -> None:
    lake, _ = scored_world
    con = connect(lake).con
    transfers = con.sql("SELECT count(*) FROM chain_transfers").fetchall()[0][0]
    rows = con.sql("SELECT * FROM chain_exposure").to_arrow_table()
    assert rows.num_rows == 2 * transfers
    exposed = rows.filter(pc.greater(rows["poison"], 0)).to_pylist()
    assert exposed
    for row in exposed[:50]:
        paths = json.loads(row["evidence"])
        assert (paths and paths[0]["hops"] == row["hops"]) or min(p["hops"] for p in paths) == row["hops"]
        for p in paths:
            assert len(p["payments"]) == p["hops"]  # one transaction per hop, in time order
            if p["payments"] and row["direction"] == "deposit":
                assert p["payments"][0]["from"] == p["source"] and p["payments"][-1]["to"] == row["address"]
            elif p["payments"]:
                assert p["payments"][0]["from"] == row["address"] and p["payments"][-1]["to"] == p["source"]
            times = [h["time_us"] for h in p["payments"]]
            assert times == sorted(times)
        assert 0 < row["haircut"] <= row["poison"] <= 1


def test_point_in_time_scores_use_nothing_after_the_transfer(scored_world: tuple[Lake, Path]) -> None:
    lake, _ = scored_world
    con = connect(lake).con
    late = con.sql("SELECT count(*) FROM chain_exposure WHERE mode = 'point_in_time' AND known_at > event_time"
                   ).fetchall()[0][0]
    assert late == 0
    # withdrawals can only be traced downstream after the fact: point in time sees only labelled counterparties
    far = con.sql("SELECT count(*) FROM chain_exposure WHERE mode = 'point_in_time' AND direction = 'withdrawal' "
                  "AND hops > 0").fetchall()[0][0]
    assert far == 0


def test_scores_find_the_planted_paths_and_nothing_else(scored_world: tuple[Lake, Path]) -> None:
    lake, _ = scored_world
    rows = connect(lake).con.sql("SELECT * FROM chain_exposure").to_arrow_table()
    results = {e.mode: e for e in evaluate(lake, rows)}
    retro, pit = results["retrospective"], results["point_in_time"]
    assert retro.planted > 50
    assert all(r == 1.0 for r in retro.recall_by_hops.values())  # every planted path is traced back
    assert retro.false_positive_rate < 0.001
    assert 0.5 < pit.recall_by_hops[0] < 1.0  # some labels are published only after the transfer
    assert pit.auc_poison < retro.auc_poison
    assert write_scores(lake, rows) == 0  # scoring again adds nothing
