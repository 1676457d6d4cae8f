"""User–entity links into weighted user–user edges, as one Ibis expression computed on the run's engine.

The expansion of a shared entity into pairs is the costly step (``degree²`` rows per entity); it runs
where the links are (DuckDB, or Spark executors) and only the reduced edge list comes to the driver,
where igraph and Leiden work on it (`cryptoscope.graph.communities`).

Two engines, and two runs of one engine, must give the same edges *bit for bit*: Leiden breaks ties by
weight, so a last-bit difference in a summed weight can move a user to another ring. Float sums are not
(the order of a parallel or shuffled sum changes the last bits, and Spark's ``log2`` is not DuckDB's), so
each entity's weight ``kind_weight / log2(degree)`` is computed once on the driver (numpy, a table of
``kinds × degrees`` rows), rounded to a fixed point of 2⁻⁴⁰, and summed as integers, which is exact in
any order. The result differs from the float sum by less than 10⁻¹² per shared entity.

Sizes, measured on the ``small_world`` test fixture (8,000 users, 90 days): 239,752 links over 150,075
entities, 15,195 of them shared. 63,349 edges reach the driver (2.6 MB as Arrow) with the 8,000 user ids and
the 104,872 links of shared entities (6.7 MB; ring features and neighbourhoods read them, `build.from_table`);
the igraph graph with its attribute lists and those links add ~19 MB to the driver, about 2.3 KB per user,
and Leiden takes 2 s. Edges grow with users (≈ 8 per user here; the degree cap of 50 bounds what any one
entity adds), so extrapolating linearly: 10⁶ users ≈ 8·10⁶ edges, ~2.5 GB and minutes of Leiden on the
driver, still fine; at ~5·10⁶ users (~12 GB, Leiden's single thread near an hour) the community step stops
fitting one driver and has to be distributed itself (e.g. label propagation on GraphFrames), and the shared
links should stay on the engine (ring features computed there from the membership).
"""

from __future__ import annotations

import math

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

#: Fixed point of the summed weights: exact integer sums on every engine, 2⁻⁴⁰ ≈ 9·10⁻¹³ resolution.
SCALE = 2**40
#: The weight of a kind of entity missing from ``kind_weights``.
DEFAULT_WEIGHT = 0.5


def _weight_table(kind_weights: dict[str, float], max_degree: int) -> tuple[ir.Table, dict[str, int]]:
    """(klass, degree, w) for every weight class and degree 2..max_degree: the per-entity weight in fixed point."""
    classes = sorted(set(kind_weights.values()) | {DEFAULT_WEIGHT})
    degrees = np.arange(2, max(max_degree, 2) + 1, dtype=np.int64)
    rows = [pd.DataFrame({"klass": i, "degree": degrees, "w": np.rint(w / np.log2(degrees) * SCALE).astype(np.int64)})
            for i, w in enumerate(classes)]
    frame = pd.concat(rows, ignore_index=True).astype({"klass": "int64"})
    return ibis.memtable(frame), {k: classes.index(w) for k, w in kind_weights.items()}


def edge_table(links: ir.Table, kinds: tuple[str, ...], kind_weights: dict[str, float], *, max_degree: int,
               min_weight: float) -> ir.Table:
    """Every pair of users sharing an entity of degree 2..max_degree, as columns a < b, w, shared, bits.

    ``links`` needs user_id, kind and entity; ``kinds`` lists every kind it may hold (bit ``i`` of ``bits``
    is ``kinds[i]``). ``w`` is the summed weight in units of 1/`SCALE`; pairs under ``min_weight`` are dropped.
    """
    weights = kind_weights
    scale, klass_of = _weight_table(weights, max_degree)
    default = sorted(set(weights.values()) | {DEFAULT_WEIGHT}).index(DEFAULT_WEIGHT)
    uniq = links.select("user_id", "kind", "entity").distinct()
    degree = uniq.group_by("entity").aggregate(degree=uniq.user_id.nunique())
    degree = degree.filter((degree.degree >= 2) & (degree.degree <= max_degree))
    ent = uniq.join(degree, "entity").select("entity", "user_id", "kind", "degree")
    klass = ent.kind.cases(*klass_of.items(), else_=default) if klass_of else ibis.literal(default)
    bit = ent.kind.cases(*((k, 1 << i) for i, k in enumerate(kinds)))
    ent = ent.select("entity", "user_id", "degree", klass=klass.cast("int64"), bit=bit.cast("int64"))
    ent = ent.join(scale, ["klass", "degree"]).select("entity", "user_id", "bit", "w")
    other = ent.view().select(entity_b="entity", b="user_id")
    pairs = ent.join(other, [ent.entity == other.entity_b, ent.user_id < other.b])
    per_kind = pairs.group_by(a=pairs.user_id, b=pairs.b, bit=pairs.bit).aggregate(w=pairs.w.sum(),
                                                                                    shared=pairs.count())
    edges = per_kind.group_by("a", "b").aggregate(w=per_kind.w.sum(), shared=per_kind.shared.sum(),
                                                  bits=per_kind.bit.sum())
    return edges.filter(edges.w >= math.ceil(min_weight * SCALE))


def read_edges(links: ir.Table, kinds: tuple[str, ...], kind_weights: dict[str, float], *, max_degree: int,
               min_weight: float) -> pd.DataFrame:
    """The edges of `edge_table`, computed on the links' engine, as a frame sorted by (a, b).

    Columns a, b (user ids), weight (float), kinds (the kinds shared, comma-joined in ``kinds``' alphabetical
    order), shared (how many entities).
    """
    expr = edge_table(links, kinds, kind_weights, max_degree=max_degree, min_weight=min_weight)
    frame = expr.to_pyarrow().to_pandas()
    frame = frame.sort_values(["a", "b"], kind="stable").reset_index(drop=True)
    order = sorted(range(len(kinds)), key=kinds.__getitem__)
    names = {bits: ",".join(kinds[i] for i in order if bits >> i & 1) for bits in frame["bits"].unique().tolist()}
    return pd.DataFrame({"a": frame["a"].to_numpy(dtype=np.int64), "b": frame["b"].to_numpy(dtype=np.int64),
                         "weight": frame["w"].to_numpy(dtype=np.int64) / SCALE,
                         "kinds": frame["bits"].map(names).to_numpy(dtype=object),
                         "shared": frame["shared"].to_numpy(dtype=np.int64)})
