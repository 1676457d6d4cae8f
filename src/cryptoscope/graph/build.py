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

import igraph as ig
import numpy as np
import pandas as pd

#: How much one shared entity of each kind says about two accounts being run by one operator.
KIND_WEIGHTS: dict[str, float] = {"device": 1.0, "card": 1.0, "bank": 1.0, "address": 1.0, "document": 1.0,
                                  "ip": 0.5, "referrer": 0.5}


@dataclass
class EntityGraph:
    """A weighted undirected igraph over users plus the links it was built from.

    Vertex attribute ``name`` is the user id; edge attributes ``weight`` (sum of shared-entity weights),
    ``kinds`` (the kinds of entity the pair shares, comma-joined) and ``shared`` (how many entities).
    """

    graph: ig.Graph
    links: pd.DataFrame
    entity_degree: pd.Series = field(repr=False)

    @classmethod
    def from_links(cls, links: pd.DataFrame, *, max_degree: int = 50, min_weight: float = 0.3,
                   kind_weights: dict[str, float] | None = None) -> EntityGraph:
        """Project the user–entity links onto users."""
        weights = KIND_WEIGHTS if kind_weights is None else kind_weights
        uniq = links[["user_id", "kind", "entity"]].drop_duplicates()
        degree = uniq.groupby("entity")["user_id"].nunique()
        pairs = _pairs(uniq, degree, max_degree, weights)
        pairs = pairs[pairs["weight"] >= min_weight]
        users = np.unique(uniq["user_id"].to_numpy())
        graph = ig.Graph(n=len(users), directed=False)
        graph.vs["name"] = users.tolist()
        if len(pairs):
            index = pd.Series(np.arange(len(users)), index=users)
            src = index.loc[pairs["a"].to_numpy()].to_numpy()
            dst = index.loc[pairs["b"].to_numpy()].to_numpy()
            graph.add_edges(np.column_stack([src, dst]).tolist())
            graph.es["weight"] = pairs["weight"].astype(float).tolist()
            graph.es["kinds"] = pairs["kinds"].tolist()
            graph.es["shared"] = pairs["shared"].astype(int).tolist()
        return cls(graph, links, degree)

    def vertex(self, user_id: int) -> int | None:
        """The vertex index of ``user_id``, or None when the user shares nothing with anyone."""
        try:
            return int(self.graph.vs.find(name=int(user_id)).index)
        except (ValueError, KeyError):
            return None

    def user_ids(self) -> np.ndarray:
        return np.asarray(self.graph.vs["name"], dtype=np.int64)


def _pairs(uniq: pd.DataFrame, degree: pd.Series, max_degree: int, weights: dict[str, float]) -> pd.DataFrame:
    """Every pair of users sharing an entity of degree 2..max_degree, weights summed per pair."""
    deg = uniq["entity"].map(degree)
    shared = uniq[(deg >= 2) & (deg <= max_degree)]
    if shared.empty:
        return pd.DataFrame({"a": [], "b": [], "weight": [], "kinds": [], "shared": []})
    codes = {k: i for i, k in enumerate(sorted(set(shared["kind"])))}
    ent = shared["entity"].astype("category").cat.codes.to_numpy()
    m = pd.DataFrame({"e": ent, "u": shared["user_id"].to_numpy(), "k": shared["kind"].map(codes).to_numpy(),
                      "w": shared["kind"].map(weights).fillna(0.5).to_numpy()
                      / np.log2(shared["entity"].map(degree).to_numpy())})
    m = m.merge(m[["e", "u"]], on="e", suffixes=("", "_b"))
    m = m[m["u"] < m["u_b"]]
    m["bit"] = np.left_shift(1, m["k"].to_numpy())
    key = m.groupby(["u", "u_b"], sort=True)
    out = key.agg(weight=("w", "sum"), shared=("e", "size")).reset_index()
    bits = m.drop_duplicates(["u", "u_b", "k"]).groupby(["u", "u_b"], sort=True)["bit"].sum().to_numpy()
    names = sorted(codes, key=codes.__getitem__)
    out["kinds"] = [",".join(n for i, n in enumerate(names) if b >> i & 1) for b in bits]
    return out.rename(columns={"u": "a", "u_b": "b"})
