"""Build the entity graph of a lake as of a time, and keep it on disk beside the lake.

The graph is a derived artefact, not a canonical table: it lives under ``<work>/graph/`` as
Parquet (links, edges, users, rings) plus a small JSON header, written to a temporary folder and
renamed into place so a reader never sees half a graph.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import igraph as ig
import pandas as pd

from cryptoscope.errors import CryptoscopeError
from cryptoscope.graph.build import EntityGraph
from cryptoscope.graph.communities import GraphFeatures, graph_features
from cryptoscope.graph.links import LINK_KINDS, known_bad_users, link_table, signup_times
from cryptoscope.lake import Lake, connect


@dataclass(frozen=True)
class GraphResult:
    """An entity graph with its features, as of one time."""

    graph: EntityGraph
    features: GraphFeatures
    as_of: dt.datetime
    known_bad: frozenset[int]


def lake_end(backend: Any) -> dt.datetime:
    """Just after the last event of the lake: "now" for a lake that is not being written any more."""
    tables = [backend.table(n) for n in ("sessions", "payments", "chain_transfers")]
    ends = [t.aggregate(t=t.event_time.max()) for t in tables]
    end: dt.datetime | None = ends[0].union(*ends[1:], distinct=False).t.max().to_pyarrow().as_py()
    if end is None:
        raise CryptoscopeError("the lake has no sessions, payments or chain transfers to build a graph from")
    return end.astimezone(dt.UTC) + dt.timedelta(microseconds=1)


def build_graph(lake: Lake | str | os.PathLike[str], as_of: dt.datetime | None = None, *, backend: Any = None,
                ip_window: dt.timedelta = dt.timedelta(days=7), resolution: float = 0.2) -> GraphResult:
    """Links, graph, communities and features from everything the lake saw before ``as_of``.

    ``backend`` is the Ibis backend that reads ``lake`` (default: `cryptoscope.lake.connect`).
    """
    backend = backend if backend is not None else connect(lake)
    at = as_of or lake_end(backend)
    eg = EntityGraph.from_table(link_table(backend, at, ip_window=ip_window), LINK_KINDS)
    bad = known_bad_users(backend, at)
    feats = graph_features(eg, bad, signup_times(backend, at), resolution=resolution)
    return GraphResult(eg, feats, at, frozenset(bad))


def save_graph(result: GraphResult, folder: str | os.PathLike[str]) -> Path:
    """Write the graph under ``folder`` (replacing an older one atomically)."""
    out = Path(folder)
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    g = result.graph.graph
    names = result.graph.user_ids()
    edges = pd.DataFrame(g.get_edgelist(), columns=["a", "b"]) if g.ecount() else pd.DataFrame({"a": [], "b": []})
    edges = pd.DataFrame({"a": names[edges["a"].astype(int)], "b": names[edges["b"].astype(int)],
                          "weight": g.es["weight"] if g.ecount() else [], "kinds": g.es["kinds"] if g.ecount() else [],
                          "shared": g.es["shared"] if g.ecount() else []})
    edges.to_parquet(tmp / "edges.parquet", index=False)
    result.graph.links.to_parquet(tmp / "links.parquet", index=False)
    result.features.users.to_parquet(tmp / "users.parquet", index=False)
    result.features.rings.to_parquet(tmp / "rings.parquet", index=False)
    (tmp / "graph.json").write_text(json.dumps({"as_of": result.as_of.isoformat(), "users": int(g.vcount()),
                                                "edges": int(g.ecount()), "known_bad": sorted(result.known_bad)}))
    old = out.with_name(f".{out.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)
    return out


def load_graph(folder: str | os.PathLike[str]) -> GraphResult:
    """Read a graph written by `save_graph`."""
    root = Path(folder)
    if not (root / "graph.json").exists():
        raise CryptoscopeError(f"no graph at {root}; run `cryptoscope graph build` first")
    meta = json.loads((root / "graph.json").read_text())
    users = pd.read_parquet(root / "users.parquet")
    edges = pd.read_parquet(root / "edges.parquet")
    index = pd.Series(range(len(users)), index=users["user_id"].to_numpy())
    g = ig.Graph(n=len(users), directed=False)
    g.vs["name"] = users["user_id"].astype("int64").tolist()
    if len(edges):
        g.add_edges(list(zip(index.loc[edges["a"]].tolist(), index.loc[edges["b"]].tolist(), strict=True)))
        g.es["weight"] = edges["weight"].astype(float).tolist()
        g.es["kinds"] = edges["kinds"].tolist()
        g.es["shared"] = edges["shared"].astype(int).tolist()
    links = pd.read_parquet(root / "links.parquet")
    degree = links[["user_id", "entity"]].drop_duplicates().groupby("entity")["user_id"].nunique()
    feats = GraphFeatures(users, pd.read_parquet(root / "rings.parquet"),
                          pd.Series(users["ring_id"].to_numpy(), index=users["user_id"].to_numpy(), name="ring_id"))
    return GraphResult(EntityGraph(g, links, degree), feats, dt.datetime.fromisoformat(meta["as_of"]),
                       frozenset(int(u) for u in meta["known_bad"]))
