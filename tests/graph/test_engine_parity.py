"""The entity graph's edges on DuckDB and on Spark: the same edges, weights and rings as the pandas projection
they replaced (`_pandas_pairs`, kept here as the reference)."""

from __future__ import annotations

import time
from typing import Any

import igraph as ig
import numpy as np
import pandas as pd
import pytest

from cryptoscope.graph.build import KIND_WEIGHTS, EntityGraph
from cryptoscope.graph.communities import leiden
from cryptoscope.graph.links import LINK_KINDS, link_table, read_links
from cryptoscope.graph.pipeline import lake_end
from cryptoscope.lake import Lake, connect
from cryptoscope.lake.spark import connect_spark
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import SimSummary

# pyspark 4.0 and ibis 12 still call pandas APIs that pandas 3 deprecates: noise, not our code
pytestmark = [pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
              pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")]


def _pandas_pairs(links: pd.DataFrame, max_degree: int = 50, min_weight: float = 0.3) -> pd.DataFrame:
    """`graph.build._pairs` as it was before the edges moved to the engine: float sums on the driver."""
    uniq = links[["user_id", "kind", "entity"]].drop_duplicates()
    degree = uniq.groupby("entity")["user_id"].nunique()
    deg = uniq["entity"].map(degree)
    shared = uniq[(deg >= 2) & (deg <= max_degree)]
    codes = {k: i for i, k in enumerate(sorted(set(shared["kind"])))}
    ent = shared["entity"].astype("category").cat.codes.to_numpy()
    m = pd.DataFrame({"e": ent, "u": shared["user_id"].to_numpy(), "k": shared["kind"].map(codes).to_numpy(),
                      "w": shared["kind"].map(KIND_WEIGHTS).fillna(0.5).to_numpy()
                      / np.log2(shared["entity"].map(degree).to_numpy())})
    m = m.merge(m[["e", "u"]], on="e", suffixes=("", "_b"))
    m = m[m["u"] < m["u_b"]]
    m["bit"] = np.left_shift(1, m["k"].to_numpy())
    key = m.groupby(["u", "u_b"], sort=True)
    out = key.agg(weight=("w", "sum"), shared=("e", "size")).reset_index()
    bits = m.drop_duplicates(["u", "u_b", "k"]).groupby(["u", "u_b"], sort=True)["bit"].sum().to_numpy()
    names = sorted(codes, key=codes.__getitem__)
    out["kinds"] = [",".join(n for i, n in enumerate(names) if b >> i & 1) for b in bits]
    out = out.rename(columns={"u": "a", "u_b": "b"})
    return out[out["weight"] >= min_weight].reset_index(drop=True)


def _edges(g: ig.Graph) -> pd.DataFrame:
    names = np.asarray(g.vs["name"], dtype=np.int64)
    ends = np.asarray(g.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    return pd.DataFrame({"a": names[ends[:, 0]], "b": names[ends[:, 1]], "weight": g.es["weight"],
                         "kinds": g.es["kinds"], "shared": g.es["shared"]})


def test_edges_and_rings_are_the_same_on_duckdb_spark_and_the_pandas_reference(
        small_world: tuple[Lake, SimConfig, SimSummary], spark_session: Any) -> None:
    lake, _, _ = small_world
    duck = connect(lake)
    at = lake_end(duck)
    links = read_links(duck, at)
    ref_edges = _pandas_pairs(links)
    users = np.unique(links["user_id"].to_numpy())
    reference = EntityGraph.from_edges(users, ref_edges, links)
    graphs, seconds = {}, {}
    for name, backend in (("duckdb", duck), ("spark", connect_spark(lake, session=spark_session))):
        start = time.perf_counter()
        graphs[name] = EntityGraph.from_table(link_table(backend, at), LINK_KINDS)
        seconds[name] = time.perf_counter() - start
    edges = {name: _edges(g.graph) for name, g in graphs.items()}
    print(f"edges: {len(ref_edges):,} over {len(users):,} users from {len(links):,} links; "
          + ", ".join(f"{n} {s:.1f}s" for n, s in seconds.items()))
    assert len(ref_edges) > 1_000
    pd.testing.assert_frame_equal(edges["duckdb"], edges["spark"], check_exact=True)  # bit for bit
    for name, frame in edges.items():
        assert frame["a"].tolist() == ref_edges["a"].tolist() and frame["b"].tolist() == ref_edges["b"].tolist(), name
        assert frame["kinds"].tolist() == ref_edges["kinds"].tolist(), name
        assert frame["shared"].tolist() == ref_edges["shared"].tolist(), name
        np.testing.assert_allclose(frame["weight"], ref_edges["weight"], rtol=0, atol=1e-9, err_msg=name)
        assert graphs[name].user_ids().tolist() == users.tolist(), name
    rings = leiden(reference.graph)
    assert leiden(graphs["duckdb"].graph) == rings and leiden(graphs["spark"].graph) == rings
    # the driver keeps only the links of shared entities: the ones ring features and neighbourhoods read
    shared = links[links["entity"].map(links.groupby("entity")["user_id"].nunique()) >= 2].reset_index(drop=True)
    for name, g in graphs.items():
        pd.testing.assert_frame_equal(g.links.reset_index(drop=True), shared, check_dtype=False, obj=name)
