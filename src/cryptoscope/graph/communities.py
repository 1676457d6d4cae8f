"""Components, Leiden communities ("rings") and the features that describe them and their members.

Communities come from Leiden with the Constant Potts Model: a group is kept together only while
its internal edge weight per pair stays above ``resolution``, so a ring of accounts run by one
operator stays a small dense group instead of being swallowed by a large modularity community.

Known-bad users (labels known before the cut-off, never the simulator's truth) seed a personalized
PageRank: the label-propagation score says how close a user sits to confirmed fraud.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import igraph as ig
import leidenalg
import numpy as np
import pandas as pd

from cryptoscope.graph.build import EntityGraph
from cryptoscope.graph.links import LINK_KINDS

#: Per-user graph features (beside user_id and ring_id), in a fixed order.
USER_FEATURES = ("degree", "strength", "component_size", "ring_size", "ring_density", "ring_shared_kinds",
                 "ring_shared_entities", "ring_known_bad", "known_bad_neighbours", "propagation", "shared_kinds")
#: Per-ring features (beside ring_id), in a fixed order.
RING_FEATURES = ("size", "density", "mean_strength", "shared_kinds", "shared_entities", "known_bad",
                 "signup_span_days", *(f"shared_{k}" for k in LINK_KINDS))


@dataclass(frozen=True)
class GraphFeatures:
    """What the graph says: one row per user, one per ring (community of 2+ users), and members."""

    users: pd.DataFrame
    rings: pd.DataFrame
    membership: pd.Series  # user_id -> ring_id (every user in the graph)


def leiden(graph: ig.Graph, *, resolution: float = 0.2, seed: int = 7) -> list[int]:
    """Community of each vertex: Leiden, Constant Potts Model on edge weights, reproducible by seed.

    Communities are numbered by size (largest first) and then by their first vertex, so the numbers follow
    from the partition alone: Leiden's own numbering of equal-sized communities moves with the last bits
    of the weights, which two engines' sums need not share."""
    if graph.ecount() == 0:
        return list(range(graph.vcount()))
    part = leidenalg.find_partition(graph, leidenalg.CPMVertexPartition, weights="weight",
                                    resolution_parameter=resolution, seed=seed)
    return canonical_labels(np.asarray(part.membership)).tolist()


def canonical_labels(membership: np.ndarray) -> np.ndarray:
    """Relabel communities 0, 1, ... by size descending, ties by their lowest vertex index."""
    if not len(membership):
        return membership.astype(np.int64)
    labels, first, inverse, size = np.unique(membership, return_index=True, return_inverse=True, return_counts=True)
    order = np.lexsort((first, -size))  # last key first: size, then first vertex
    rank = np.empty(len(labels), dtype=np.int64)
    rank[order] = np.arange(len(labels))
    return rank[inverse.reshape(-1)]


def propagation(graph: ig.Graph, seeds: Iterable[int]) -> np.ndarray:
    """Personalized PageRank from the known-bad vertices (zeros when there are none)."""
    seeds = list(seeds)
    if not seeds or graph.ecount() == 0:
        return np.zeros(graph.vcount())
    pr = graph.personalized_pagerank(reset_vertices=seeds, weights="weight", damping=0.85)
    return np.asarray(pr) * len(seeds)  # 1.0 ~ "as close as an average seed"


def graph_features(eg: EntityGraph, known_bad: set[int], signup: pd.Series | None = None, *,
                   resolution: float = 0.2, seed: int = 7) -> GraphFeatures:
    """Components, communities, per-user and per-ring features of one entity graph."""
    g = eg.graph
    users = eg.user_ids()
    ring = np.asarray(leiden(g, resolution=resolution, seed=seed))
    comp = np.asarray(g.connected_components().membership)
    comp_size = np.bincount(comp)[comp] if len(comp) else comp
    membership = pd.Series(ring, index=users, name="ring_id")
    rings = ring_table(eg, membership, known_bad, signup)
    is_bad = np.isin(users, list(known_bad))
    bad_nb = np.array([int(is_bad[g.neighbors(v)].sum()) for v in range(g.vcount())], dtype=np.int64)
    strength = np.asarray(g.strength(weights="weight")) if g.ecount() else np.zeros(len(users))
    kinds = _user_kinds(g)
    ring_rows = rings.set_index("ring_id").reindex(ring)
    frame = pd.DataFrame({
        "user_id": users, "ring_id": ring, "degree": np.asarray(g.degree(), dtype=np.int64),
        "strength": strength, "component_size": comp_size,
        "ring_size": ring_rows["size"].fillna(1).to_numpy(), "ring_density": ring_rows["density"].fillna(0).to_numpy(),
        "ring_shared_kinds": ring_rows["shared_kinds"].fillna(0).to_numpy(),
        "ring_shared_entities": ring_rows["shared_entities"].fillna(0).to_numpy(),
        "ring_known_bad": ring_rows["known_bad"].fillna(0).to_numpy(),
        "known_bad_neighbours": bad_nb, "propagation": propagation(g, np.flatnonzero(is_bad)), "shared_kinds": kinds,
    })
    return GraphFeatures(frame, rings, membership)


def _user_kinds(g: ig.Graph) -> np.ndarray:
    """How many kinds of entity (device, card, ...) each user shares with anyone."""
    out = [set() for _ in range(g.vcount())]  # type: list[set[str]]
    if g.ecount():
        for e, kinds in zip(g.get_edgelist(), g.es["kinds"], strict=True):
            out[e[0]].update(kinds.split(","))
            out[e[1]].update(kinds.split(","))
    return np.array([len(s) for s in out], dtype=np.int64)


def ring_table(eg: EntityGraph, membership: pd.Series, known_bad: set[int], signup: pd.Series | None) -> pd.DataFrame:
    """One row per community of 2+ users: size, density, what its members share, known-bad members."""
    sizes = membership.value_counts()
    multi = membership[membership.map(sizes) >= 2]
    if multi.empty:
        return pd.DataFrame(columns=["ring_id", *RING_FEATURES])
    g = eg.graph
    edges = np.asarray(g.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    ring_of = membership.to_numpy()
    inside = ring_of[edges[:, 0]] == ring_of[edges[:, 1]] if len(edges) else np.zeros(0, dtype=bool)
    w = np.asarray(g.es["weight"]) if g.ecount() else np.zeros(0)
    e_in = pd.Series(1, index=ring_of[edges[inside, 0]]).groupby(level=0).sum() if inside.any() else pd.Series()
    w_in = pd.Series(w[inside], index=ring_of[edges[inside, 0]]).groupby(level=0).sum() if inside.any() else pd.Series()
    links = eg.links[["user_id", "kind", "entity"]].drop_duplicates()
    links = links[links["user_id"].isin(multi.index)].assign(ring_id=lambda d: d["user_id"].map(multi))
    per_entity = links.groupby(["ring_id", "kind", "entity"])["user_id"].nunique()
    shared = per_entity[per_entity >= 2].reset_index().groupby(["ring_id", "kind"])["entity"].size().unstack(
        fill_value=0).reindex(columns=list(LINK_KINDS), fill_value=0)
    ids = np.sort(multi.unique())
    size = sizes.reindex(ids).to_numpy()
    out = pd.DataFrame({"ring_id": ids, "size": size})
    out["density"] = e_in.reindex(ids, fill_value=0).to_numpy() / (size * (size - 1) / 2)
    out["mean_strength"] = 2 * w_in.reindex(ids, fill_value=0).to_numpy() / size
    shared = shared.reindex(ids, fill_value=0)
    out["shared_kinds"] = (shared > 0).sum(axis=1).to_numpy()
    out["shared_entities"] = shared.sum(axis=1).to_numpy()
    out["known_bad"] = multi[multi.index.isin(list(known_bad))].value_counts().reindex(ids, fill_value=0).to_numpy()
    out["signup_span_days"] = _signup_span(multi, signup, ids)
    for k in LINK_KINDS:
        out[f"shared_{k}"] = shared[k].to_numpy()
    return out


def _signup_span(multi: pd.Series, signup: pd.Series | None, ids: np.ndarray) -> np.ndarray:
    """Days between the first and last sign-up in each ring: rings are opened within days."""
    if signup is None:
        return np.full(len(ids), np.nan)
    t = pd.to_datetime(signup.reindex(multi.index).to_numpy(), utc=True)
    frame = pd.DataFrame({"ring_id": multi.to_numpy(), "t": t})
    span = frame.groupby("ring_id")["t"].agg(lambda s: (s.max() - s.min()).total_seconds() / 86400)
    return span.reindex(ids).to_numpy(dtype=float)
