"""The graph of users and shared entities as of a cut-off: nothing from after it, shared entities connect
users, the same arrays every time, and a table for the trees beside it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from cryptoscope.graph import EntityGraph, known_bad_users, read_links
from cryptoscope.graph.hetero import TABLE_FEATURES, GraphSnapshot, hetero_graph, snapshot
from cryptoscope.lake import Lake, connect
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import simulate


def _links(rows: list[tuple[int, str, str]]) -> pd.DataFrame:
    return pd.DataFrame({"user_id": [r[0] for r in rows], "kind": [r[1] for r in rows],
                         "entity": [r[2] for r in rows], "first_seen": pd.Timestamp("2025-01-01", tz="UTC"),
                         "events": 1})


def test_a_shared_entity_joins_its_users_and_an_unshared_one_is_left_out() -> None:
    rows = [(1, "device", "device:d1"), (2, "device", "device:d1"), (3, "device", "device:d2"),
            (2, "card", "card:c1"), (3, "card", "card:c1"), (4, "ip", "ip:x@1")]
    eg = EntityGraph.from_links(_links(rows))
    features = pd.DataFrame({"logins_7d": [5.0, 1.0]}, index=pd.Index([2, 9], name="user_id"))
    g = hetero_graph(eg, {3}, features)
    users = g.user_ids.tolist()
    assert users == [1, 2, 3, 4]
    pairs = {k: {(users[u], int(e)) for u, e in v.T} for k, v in g.edges.items()}
    assert pairs["device"] == {(1, 0), (2, 0)}, "d2 was seen by user 3 alone: it links nobody"
    assert pairs["card"] == {(2, 0), (3, 0)}
    assert pairs["ip"] == set() and g.entity_features["ip"].shape == (0, 1)
    assert g.kinds == tuple(sorted(g.edges)) and "bank" in g.kinds, "every kind, even an empty one"
    assert g.entity_features["device"][0, 0] == pytest.approx(1.0), "log2 of the two users it links"
    x = pd.DataFrame(g.user_features, index=users, columns=list(g.feature_names))
    assert x.loc[2, "logins_7d"] == 5.0 and np.isnan(x.loc[1, "logins_7d"])
    assert x["known_bad"].tolist() == [0.0, 0.0, 1.0, 0.0]
    assert x.loc[2, ["shared_device", "shared_card"]].tolist() == [1.0, 1.0]


def test_the_same_links_in_any_order_give_the_same_arrays() -> None:
    rows = [(u, "ip", f"ip:{u % 3}@1") for u in range(1, 13)] + [(u, "device", f"device:{u % 4}") for u in range(1, 13)]
    a = hetero_graph(EntityGraph.from_links(_links(rows)), set(), pd.DataFrame())
    b = hetero_graph(EntityGraph.from_links(_links(rows[::-1])), set(), pd.DataFrame())
    for kind in a.kinds:
        np.testing.assert_array_equal(a.edges[kind], b.edges[kind])
        np.testing.assert_array_equal(a.entity_features[kind], b.entity_features[kind])
    np.testing.assert_array_equal(a.user_features, b.user_features)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, dt.datetime, GraphSnapshot]:
    """A 600-user, 24-day world (fraud ten times as common, so rings and labels show up early) as of day 16."""
    cfg = SimConfig(users=600, days=24, seed=5, fraud_scale=10.0)
    lake = Lake(tmp_path_factory.mktemp("hetero") / "lake")
    simulate(cfg, lake)
    cut = cfg.start + dt.timedelta(days=16)
    features = pd.DataFrame({"score": 1.0}, index=pd.Index([], name="user_id"))
    return lake, cut, snapshot(lake, cut, features=features)


def _pairs(snap: GraphSnapshot) -> set[tuple[int, str]]:
    h = snap.hetero
    out = set()
    for kind in h.kinds:
        names = np.unique(snap.result.graph.links.query("kind == @kind")["entity"].to_numpy(dtype=str))
        out |= {(int(h.user_ids[u]), str(names[e])) for u, e in h.edges[kind].T}
    return out


def test_no_link_or_label_at_or_after_the_cut_off_leaks_in(tiny: tuple[Lake, dt.datetime, GraphSnapshot]) -> None:
    lake, cut, snap = tiny
    everything = read_links(connect(lake))  # every link, whenever it was first seen
    late = everything[everything["first_seen"] >= pd.Timestamp(cut)]
    late = {(int(u), str(e)) for u, e in zip(late["user_id"], late["entity"], strict=True)}
    early = everything[everything["first_seen"] < pd.Timestamp(cut)]
    early = {(int(u), str(e)) for u, e in zip(early["user_id"], early["entity"], strict=True)}
    pairs = _pairs(snap)
    assert pairs and pairs <= early and not pairs & (late - early)
    later = snapshot(lake, cut + dt.timedelta(days=8))
    assert _pairs(later) & (late - early), "the later snapshot has edges the earlier one must not"
    known = known_bad_users(connect(lake), cut)
    flags = snap.hetero.user_features[:, snap.hetero.feature_names.index("known_bad")]
    assert set(snap.hetero.user_ids[flags == 1].tolist()) == known & set(snap.hetero.user_ids.tolist())
    assert known < known_bad_users(connect(lake)), "labels found after the cut-off exist and are not flagged"


def test_the_trees_table_matches_the_graph_users(tiny: tuple[Lake, dt.datetime, GraphSnapshot]) -> None:
    _, _, snap = tiny
    assert snap.table.index.tolist() == snap.user_ids.tolist()
    assert list(snap.table.columns) == ["score", *TABLE_FEATURES]
    share = snap.table["known_bad_share"]
    assert share.between(0, 1).all() and (share > 0).any()
    assert (snap.table["known_bad_neighbours"] <= snap.table["degree"]).all()
