"""The entity graph: degree-weighted ties, rings found on a simulated world, saved, shown as text and picture."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoscope.errors import CryptoscopeError
from cryptoscope.graph import EntityGraph, build_graph, load_graph, save_graph
from cryptoscope.graph.show import neighbourhood
from cryptoscope.lake import Lake, connect
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import SimSummary


def _links(rows: list[tuple[int, str, str]]) -> pd.DataFrame:
    return pd.DataFrame({"user_id": [r[0] for r in rows], "kind": [r[1] for r in rows],
                         "entity": [r[2] for r in rows], "first_seen": pd.Timestamp("2025-01-01", tz="UTC"),
                         "events": 1})


def test_shared_entities_make_ties_and_busy_ips_count_little() -> None:
    rows = [(1, "device", "d1"), (2, "device", "d1")]  # two accounts on one phone
    rows += [(u, "ip", "ip:nat@1") for u in range(100, 140)]  # a carrier NAT shared by 40 strangers
    rows += [(u, "ip", f"ip:home@{w}") for u in (7, 8) for w in range(12)]  # a household, every week
    g = EntityGraph.from_links(_links(rows)).graph
    ties = {(g.vs[e.source]["name"], g.vs[e.target]["name"]): e for e in g.es}
    assert ties[(1, 2)]["weight"] == pytest.approx(1.0) and ties[(1, 2)]["kinds"] == "device"
    assert ties[(7, 8)]["weight"] == pytest.approx(12 * 0.5) and ties[(7, 8)]["shared"] == 12
    assert not any(a >= 100 for a, _ in ties), "one shared busy IP is not a tie"
    # eight accounts on one device are linked: the weight follows the kind and the degree, not a list of IPs
    farm = EntityGraph.from_links(_links([(u, "device", "farm") for u in range(100, 108)])).graph
    assert farm.ecount() == 8 * 7 // 2
    assert farm.es[0]["weight"] == pytest.approx(1 / np.log2(8))


@pytest.fixture(scope="module")
def world_graph(small_world: tuple[Lake, SimConfig, SimSummary], tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    lake, cfg, _ = small_world
    as_of = cfg.start + dt.timedelta(days=80)
    result = build_graph(lake, as_of)
    folder = save_graph(result, tmp_path_factory.mktemp("graph") / "graph")
    return lake, result, folder


def test_rings_of_the_simulated_world_are_found(world_graph) -> None:  # type: ignore[no-untyped-def]
    lake, result, _ = world_graph
    truth = connect(lake).con.sql(
        "SELECT user_id, group_id FROM ground_truth WHERE typology = 'multi_accounting' AND event_time < "
        f"TIMESTAMPTZ '{result.as_of.isoformat()}'").df()
    assert truth["group_id"].nunique() >= 3
    ring_of = result.features.membership
    rings = result.features.rings.set_index("ring_id")
    for _, members in truth.groupby("group_id")["user_id"]:
        found = members.map(ring_of).value_counts()
        assert found.iloc[0] > len(members) / 2, "one community holds most of the ring"
        ring = rings.loc[found.index[0]]
        assert ring["shared_kinds"] >= 3 and ring["density"] >= 0.5
    users = result.features.users.set_index("user_id")
    assert (users["component_size"] >= users["ring_size"]).all()


def test_known_bad_seeds_come_only_from_labels_known_before_the_cut_off(world_graph) -> None:  # type: ignore[no-untyped-def]
    lake, result, _ = world_graph
    known = set(connect(lake).con.sql(
        "SELECT DISTINCT user_id FROM labels WHERE label = 1 AND event_time < "
        f"TIMESTAMPTZ '{result.as_of.isoformat()}'").df()["user_id"])
    assert result.known_bad == known and known
    users = result.features.users.set_index("user_id")
    seeds = [u for u in known if u in users.index]
    others = users.drop(index=seeds)
    assert users.loc[seeds, "propagation"].mean() > 5 * others["propagation"].mean()


def test_saved_graph_loads_and_shows_a_neighbourhood(world_graph, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, result, folder = world_graph
    loaded = load_graph(folder)
    assert loaded.graph.graph.ecount() == result.graph.graph.ecount()
    assert loaded.as_of == result.as_of and loaded.known_bad == result.known_bad
    rings = loaded.features.rings
    ring = rings.sort_values(["shared_kinds", "size"]).iloc[-1]
    user = int(loaded.features.membership[loaded.features.membership == ring["ring_id"]].index[0])
    hood = neighbourhood(loaded, user)
    text = hood.text()
    assert str(user) in text and "device" in text
    png = tmp_path / "hood.png"
    hood.draw(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(CryptoscopeError, match="user 424242424242 is not in the graph"):
        neighbourhood(loaded, 424242424242)
    with pytest.raises(CryptoscopeError, match="no graph at"):
        load_graph(tmp_path / "nothing")
