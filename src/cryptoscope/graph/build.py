"""The user–user entity graph: users who share an entity become neighbours.

Each shared entity adds ``kind_weight / log2(degree)`` to the edge of every pair of its users,
where ``degree`` is how many users it links (the Adamic–Adar weight). A device shared by two
accounts is a strong tie; an IP behind a carrier NAT shared by hundreds adds little, so common
IPs are down-weighted by their own degree, never by a hand-made list. Entities above
``max_degree`` are not expanded into pairs (they would cost ``degree²`` edges), and pairs whose
summed weight stays under ``min_weight`` are dropped: two strangers who once shared a busy IP in
the same week are not a tie, a household that shares its home IP every week is.

>>> g = EntityGraph.from_links(read_links(connect("demo-lake")))       # doctest: +SKIP
>>> g.graph.vcount(), g.graph.ecount()                                  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import igraph as ig
import numpy as np
import pandas as pd

from cryptoscope.graph.edges import read_edges
from cryptoscope.graph.links import links_frame, shared_links

#: How much one shared entity of each kind says about two accounts being run by one operator.
KIND_WEIGHTS: dict[str, float] = {"device": 1.0, "card": 1.0, "bank": 1.0, "address": 1.0, "document": 1.0,
                                  "ip": 0.5, "referrer": 0.5}


@dataclass
class EntityGraph:
    """A weighted undirected igraph over users plus the links it was built from (`from_table`: the links of
    shared entities only).

    Vertex attribute ``name`` is the user id; edge attributes ``weight`` (sum of shared-entity weights),
    ``kinds`` (the kinds of entity the pair shares, comma-joined) and ``shared`` (how many entities).
    """

    graph: ig.Graph
    links: pd.DataFrame
    entity_degree: pd.Series = field(repr=False)

    @classmethod
    def from_links(cls, links: pd.DataFrame, *, max_degree: int = 50, min_weight: float = 0.3,
                   kind_weights: dict[str, float] | None = None) -> EntityGraph:
        """Project user–entity links held in memory onto users (in-process DuckDB runs `graph.edges`)."""
        weights = KIND_WEIGHTS if kind_weights is None else kind_weights
        kinds = tuple(sorted({str(k) for k in links["kind"].unique()}))
        table = ibis.memtable(links[["user_id", "kind", "entity"]].astype({"user_id": "int64"}))
        edges = read_edges(table, kinds, weights, max_degree=max_degree, min_weight=min_weight)
        return cls.from_edges(np.unique(links["user_id"].to_numpy(dtype=np.int64)), edges, links)

    @classmethod
    def from_table(cls, links: ir.Table, kinds: tuple[str, ...], *, max_degree: int = 50, min_weight: float = 0.3,
                   kind_weights: dict[str, float] | None = None) -> EntityGraph:
        """Project links that live on an engine (`links.link_table`): pairs are formed and summed there.

        Three results come to the driver: the edges, the user ids, and the links of shared entities (degree
        2+; what ring features and neighbourhoods read — an entity seen by one user links nobody)."""
        weights = KIND_WEIGHTS if kind_weights is None else kind_weights
        with links.cache() as cached:  # read from the lake once, not once per result
            edges = read_edges(cached, kinds, weights, max_degree=max_degree, min_weight=min_weight)
            users = cached.select("user_id").distinct().to_pyarrow()["user_id"].to_numpy()
            shared = links_frame(shared_links(cached))
        return cls.from_edges(np.sort(users.astype(np.int64)), edges, shared)

    @classmethod
    def from_edges(cls, users: np.ndarray, edges: pd.DataFrame, links: pd.DataFrame) -> EntityGraph:
        """The igraph over ``users`` (sorted ids; vertex order) with the edges of `graph.edges.read_edges`."""
        graph = ig.Graph(n=len(users), directed=False)
        graph.vs["name"] = users.tolist()
        if len(edges):
            index = pd.Series(np.arange(len(users)), index=users)
            src = index.loc[edges["a"].to_numpy()].to_numpy()
            dst = index.loc[edges["b"].to_numpy()].to_numpy()
            graph.add_edges(np.column_stack([src, dst]).tolist())
            graph.es["weight"] = edges["weight"].astype(float).tolist()
            graph.es["kinds"] = edges["kinds"].tolist()
            graph.es["shared"] = edges["shared"].astype(int).tolist()
        degree = links[["user_id", "entity"]].drop_duplicates().groupby("entity")["user_id"].nunique()
        return cls(graph, links, degree)

    def vertex(self, user_id: int) -> int | None:
        """The vertex index of ``user_id``, or None when the user shares nothing with anyone."""
        try:
            return int(self.graph.vs.find(name=int(user_id)).index)
        except (ValueError, KeyError):
            return None

    def user_ids(self) -> np.ndarray:
        return np.asarray(self.graph.vs["name"], dtype=np.int64)

