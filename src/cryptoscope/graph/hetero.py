"""The graph of users and the entities they share, as of a cut-off: arrays for a graph network, a table for trees.

`snapshot` builds both from one `build_graph` (the links, the user–user ties and the Leiden communities of
`cryptoscope.graph.pipeline`), so the graph network and the trees it is compared with see exactly the same
lake as of the same time: links and known-bad labels strictly before ``as_of``, nothing at or after it.

* `hetero_graph`: users and the shared entities (devices, IPs per week, cards, bank instruments, chain
  addresses, documents, referrers; an entity only one user saw links nobody and is left out) as the
  `cryptoscope.models.graph.HeteroGraph` a `GraphClassifier` reads. A user's node carries its tabular
  features, whether it is known bad and how many shared entities of each kind it has; an entity's node
  carries its degree (``log2`` of the users it links, as the Adamic–Adar weights of `graph.build` do).
* `graph_table`: the same users with the tabular features and the graph's hand-built features (degree,
  strength, component and community statistics, known-bad neighbours and their share, propagation), for
  LightGBM.

>>> snap = snapshot(lake, as_of, features=behaviour)          # doctest: +SKIP
>>> GraphClassifier().fit(snap.hetero, y).predict_proba(later.hetero)   # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cryptoscope.graph.build import EntityGraph
from cryptoscope.graph.links import LINK_KINDS
from cryptoscope.graph.pipeline import GraphResult, build_graph
from cryptoscope.lake import Lake
from cryptoscope.models.graph import HeteroGraph

#: Graph features the trees get (`graph.communities.USER_FEATURES` plus two shares); none is the user's own label.
TABLE_FEATURES = ("degree", "strength", "component_size", "ring_size", "ring_density", "ring_shared_kinds",
                  "ring_shared_entities", "ring_known_bad", "known_bad_neighbours", "propagation", "shared_kinds",
                  "known_bad_share", "ring_known_bad_share")


@dataclass(frozen=True)
class GraphSnapshot:
    """One cut-off: the entity graph with its communities, the network's arrays, the trees' table (index user_id)."""

    as_of: dt.datetime
    result: GraphResult
    hetero: HeteroGraph
    table: pd.DataFrame

    @property
    def user_ids(self) -> np.ndarray:
        return self.hetero.user_ids


def snapshot(lake: Lake | str | os.PathLike[str], as_of: dt.datetime, *, features: pd.DataFrame | None = None,
             backend: object = None) -> GraphSnapshot:
    """The graph of ``lake`` as of ``as_of`` for both models; ``features`` (index user_id) as of the same time."""
    result = build_graph(lake, as_of, backend=backend)
    feats = features if features is not None else pd.DataFrame(index=pd.Index([], name="user_id"))
    return GraphSnapshot(as_of, result, hetero_graph(result.graph, result.known_bad, feats),
                         graph_table(result, feats))


def hetero_graph(eg: EntityGraph, known_bad: frozenset[int] | set[int], features: pd.DataFrame) -> HeteroGraph:
    """Users (sorted ids) and their shared entities; ``features`` rows are matched to users by id (missing: NaN)."""
    users = eg.user_ids()
    index = pd.Series(np.arange(len(users)), index=users)
    links = eg.links[["user_id", "kind", "entity"]].drop_duplicates()
    # `EntityGraph.from_table` keeps only shared entities' links, `from_links` every link: keep the shared here
    links = links[links.groupby("entity")["user_id"].transform("size") >= 2]
    edges, entity_features, counts = {}, {}, {}
    for kind in LINK_KINDS:
        mine = links[links["kind"] == kind]
        names, ent = np.unique(mine["entity"].to_numpy(dtype=str), return_inverse=True)
        user = index.loc[mine["user_id"].to_numpy()].to_numpy()
        order = np.lexsort((user, ent))  # by entity, then user: the same arrays whatever order the links came in
        edges[kind] = np.vstack([user[order], ent[order]]).astype(np.int64).reshape(2, -1)
        degree = np.bincount(ent, minlength=len(names)).astype(float)
        entity_features[kind] = np.log2(np.maximum(degree, 1.0)).reshape(-1, 1)
        counts[f"shared_{kind}"] = np.bincount(user, minlength=len(users)).astype(float)
    own = features.reindex(users).astype(float)
    frame = own.assign(known_bad=np.isin(users, list(known_bad)).astype(float), **counts)
    return HeteroGraph(users, frame.to_numpy(dtype=float), tuple(str(c) for c in frame.columns), edges,
                       entity_features)


def graph_table(result: GraphResult, features: pd.DataFrame) -> pd.DataFrame:
    """Per user (index user_id): ``features`` and the graph features of `TABLE_FEATURES`, as of the snapshot."""
    users = result.features.users.set_index("user_id")
    table = users[[c for c in TABLE_FEATURES if c in users.columns]].astype(float)
    table["known_bad_share"] = table["known_bad_neighbours"] / table["degree"].where(table["degree"] > 0)
    table["ring_known_bad_share"] = table["ring_known_bad"] / table["ring_size"].where(table["ring_size"] > 0)
    table = table.fillna({"known_bad_share": 0.0, "ring_known_bad_share": 0.0})
    own = features.reindex(table.index).astype(float)
    return pd.concat([own, table[list(TABLE_FEATURES)]], axis=1).rename_axis("user_id")
