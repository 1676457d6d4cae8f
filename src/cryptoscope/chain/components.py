"""Connected components of an edge table as an iterative Ibis job: the same code on DuckDB and Spark.

The address clusters are the connected components of the heuristics' links. On one machine scipy's
union-find does that in C, but it needs every edge in the driver's memory; on a cluster the edges must
stay on the engine. This is the large-star / small-star algorithm of Kiveris et al. (2014, "Connected
Components in MapReduce and Beyond"): each round is two plain relational steps (a window ``min`` and a
projection), every node ends up linked to its component's smallest node, and it needs O(log² n) rounds
(a handful in practice; a path of n nodes takes about log₂ n).

Edges are kept as (``big``, ``small``) with ``big > small``, distinct.

* **large-star**: each node ``u`` links every *larger* neighbour to ``m(u)``, the smallest of ``u``
  and its neighbours;
* **small-star**: each node ``u`` links itself and every *smaller* neighbour to the smallest of them.

Both keep connectivity. It has converged when the edges form stars centred on each component's
smallest node: no node is the ``big`` end of two edges, and no node is both a ``big`` and a ``small``
end. That is one small aggregate per round (a count); a star is a fixed point of both steps.

Node ids are any ordered type (integers, or the addresses themselves, so the component id *is* the
smallest address). Each round's edges are materialised on the engine (`materialise`), so the query
plan stays the size of one round however many rounds run; nothing but that count and the round
number reaches the driver.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

_names = itertools.count()


@dataclass(frozen=True)
class Components:
    """``table``: node, component (the component's smallest node), kept on the engine until the caller
    `forget`s it (or closes the connection); ``rounds``: how many large-star + small-star rounds ran."""

    table: ir.Table
    rounds: int


def connected_components(backend: BaseBackend, edges: ir.Table, *, max_rounds: int = 200) -> Components:
    """The connected components of ``edges`` (columns ``a``, ``b``, undirected), computed on ``backend``.

    Every node of ``edges`` gets a row, so a self-loop (``a == b``) adds a node with no link: an isolated
    node is its own component. An edge with a null end adds its other end alone. Raises ``RuntimeError``
    if ``max_rounds`` pass without converging (the algorithm's bound rules that out for any graph that fits
    on a cluster; it guards against a bug).
    """
    names: list[str] = []
    try:
        nodes = keep(backend, _ends(edges), names)
        current = keep(backend, canonical(edges), names)
        rounds = 0
        while not _converged(backend, current):
            if rounds == max_rounds:
                raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
            current = keep(backend, large_star(current), names)
            current = keep(backend, small_star(current), names)
            for old in names[1:-1]:  # the previous round's edges are not read again
                forget(backend, old)
            del names[1:-1]
            rounds += 1
        star = current.select(node=current.big, component=current.small)
        joined = nodes.left_join(star, "node")
        result = joined.select(node=joined.node, component=joined.component.coalesce(joined.node))
        return Components(keep(backend, result, []), rounds)
    finally:
        for name in names:
            forget(backend, name)


def _ends(edges: ir.Table) -> ir.Table:
    """Every node that occurs in ``edges`` once, as ``node`` (a null end is no node)."""
    ends = edges.select(node=edges.a).union(edges.select(node=edges.b), distinct=True)
    return ends.filter(ends.node.notnull())


def canonical(edges: ir.Table) -> ir.Table:
    """``edges`` as distinct (big, small) pairs, self-loops and null ends dropped."""
    e = edges.filter(edges.a.notnull(), edges.b.notnull(), edges.a != edges.b)
    return e.select(big=ibis.greatest(e.a, e.b), small=ibis.least(e.a, e.b)).distinct()


def _both_ways(edges: ir.Table) -> ir.Table:
    return edges.select(u=edges.big, v=edges.small).union(edges.select(u=edges.small, v=edges.big), distinct=False)


def large_star(edges: ir.Table) -> ir.Table:
    """Each node's larger neighbours linked to the smallest of the node and its neighbours."""
    sym = _both_ways(edges)
    sym = sym.mutate(m=ibis.least(sym.u, sym.v.min().over(group_by=sym.u)))
    larger = sym.filter(sym.v > sym.u)
    return larger.select(big=larger.v, small=larger.m).distinct()


def small_star(edges: ir.Table) -> ir.Table:
    """Each node and its smaller neighbours linked to the smallest of them."""
    w = edges.mutate(m=edges.small.min().over(group_by=edges.big))
    neighbours = w.filter(w.small != w.m).select(big=w.small, small=w.m)
    return neighbours.union(w.select(big=w.big, small=w.m), distinct=True)


def violations(edges: ir.Table) -> ir.IntegerScalar:
    """Nodes that keep ``edges`` from being stars: the ``big`` end of two edges, or both a big and a small end."""
    ends = edges.select(node=edges.big, as_big=ibis.literal(1), as_small=ibis.literal(0)).union(
        edges.select(node=edges.small, as_big=ibis.literal(0), as_small=ibis.literal(1)), distinct=False)
    per = ends.group_by("node").aggregate(n_big=ends.as_big.sum(), n_small=ends.as_small.sum())
    return per.filter((per.n_big > 1) | ((per.n_big > 0) & (per.n_small > 0))).count()


def _converged(backend: BaseBackend, edges: ir.Table) -> bool:
    return int(backend.to_pyarrow(violations(edges)).as_py()) == 0


def keep(backend: BaseBackend, expr: ir.Table, names: list[str]) -> ir.Table:
    """``expr`` computed once on the engine under a fresh name (added to ``names``, for `forget`), as an
    unbound table of that name: expressions over it run on any engine that has it."""
    name = f"_cryptoscope_cc_{next(_names)}"
    materialise(backend, expr, name)
    names.append(name)
    return ibis.table(expr.schema(), name=name)


def materialise(backend: BaseBackend, expr: ir.Table, name: str) -> None:
    """Compute ``expr`` on ``backend`` and keep it there as table ``name``: the one engine-specific step.

    Spark: the rows are checkpointed on the executors (``localCheckpoint``), which also cuts the
    lineage, so round k's plan does not carry rounds 1..k-1; the checkpoint is served as a temporary
    view. DuckDB (and other SQL engines): a temporary table. Nothing comes to the driver either way.
    """
    if backend.name == "pyspark":
        backend._run_pre_execute_hooks(expr)  # registers memtables, if any
        frame = backend._session.sql(backend.compile(expr)).localCheckpoint()
        frame.createOrReplaceTempView(name)
        return
    backend.create_table(name, expr, temp=True, overwrite=True)


def forget(backend: BaseBackend, name: str) -> None:
    """Drop a table `materialise` made (Spark: the view; its checkpoint goes with the last reference)."""
    if backend.name == "pyspark":
        backend._session.catalog.dropTempView(name)
        return
    backend.drop_table(name, force=True)


__all__ = ["Components", "canonical", "connected_components", "forget", "keep", "large_star", "materialise",
           "small_star", "violations"]
