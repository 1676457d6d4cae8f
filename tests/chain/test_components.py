"""Connected components as an iterative Ibis job: the same answer as scipy's union-find, on DuckDB and Spark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components as scipy_components

from cryptoscope.chain.components import connected_components, forget
from cryptoscope.lake import Lake
from cryptoscope.lake.scratch import scratch


def random_graph(seed: int, n: int, edges: int, chain: int) -> tuple[np.ndarray, np.ndarray]:
    """``edges`` random edges among ``n`` nodes, a path through ``chain`` shuffled nodes (many rounds: the
    ids along it go up and down), and a self-loop on every node so the isolated ones are nodes too."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, n, edges), rng.integers(0, n, edges)
    path = rng.permutation(n)[:chain]
    nodes = np.arange(n)
    return np.concatenate([a, path[:-1], nodes]), np.concatenate([b, path[1:], nodes])


def expected(a: np.ndarray, b: np.ndarray, n: int) -> list[int]:
    """Each node's component as its smallest node, from scipy."""
    _, label = scipy_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)), directed=False)
    first: dict[int, int] = {}
    for node, lab in enumerate(label.tolist()):
        first.setdefault(lab, node)
    return [first[lab] for lab in label.tolist()]


def run(backend: Any, a: np.ndarray, b: np.ndarray) -> tuple[list[int], int]:
    found = connected_components(backend, ibis.memtable(pa.table({"a": a, "b": b})))
    rows = backend.to_pyarrow(found.table.order_by("node"))
    forget(backend, found.table.get_name())
    return rows["component"].to_pylist(), found.rounds


@pytest.mark.parametrize(("seed", "n", "edges", "chain"), [
    (1, 300, 150, 2), (2, 500, 40, 300), (3, 1_000, 900, 500), (4, 200, 0, 200), (5, 50, 0, 1)])
def test_components_match_scipy_on_duckdb(seed: int, n: int, edges: int, chain: int) -> None:
    a, b = random_graph(seed, n, edges, chain)
    with scratch() as backend:
        components, rounds = run(backend, a, b)
    assert components == expected(a, b, n)
    if edges == 0 and chain == n:  # one shuffled path of n nodes: O(log² n) rounds, and more than one
        assert 1 < rounds <= int(np.log2(n)) ** 2


def test_string_ids_give_the_smallest_string_and_nulls_add_nothing() -> None:
    edges = pa.table({"a": ["b", "c", "x", "z", None, "q"], "b": ["c", "a", "y", "z", "w", "q"]})
    with scratch() as backend:
        found = connected_components(backend, ibis.memtable(edges))
        rows = backend.to_pyarrow(found.table.order_by("node")).to_pylist()
    assert [(r["node"], r["component"]) for r in rows] == [
        ("a", "a"), ("b", "a"), ("c", "a"), ("q", "q"), ("w", "w"), ("x", "x"), ("y", "x"), ("z", "z")]


def test_an_edgeless_graph_converges_at_once() -> None:
    with scratch() as backend:
        assert run(backend, np.arange(5), np.arange(5)) == ([0, 1, 2, 3, 4], 0)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
@pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")
def test_components_match_scipy_on_spark(spark_session: Any, tmp_path: Path) -> None:
    """A long path on Spark: each round is checkpointed, so many rounds keep a small plan."""
    from cryptoscope.lake.spark import connect_spark

    backend = connect_spark(Lake(tmp_path / "lake"), session=spark_session)
    a, b = random_graph(7, 400, 100, 300)
    components, rounds = run(backend, a, b)
    assert components == expected(a, b, 400)
    assert rounds > 1
