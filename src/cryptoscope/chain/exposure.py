"""Exposure of an address (or a cluster) to labelled illicit sources, with the paths that prove it.

Tracing walks the flow graph hop by hop, respecting time: upstream (where did the funds that reached
this address come from?) only follows payments made before the one already on the path; downstream
(where did they go?) only payments made after. Two classic methods come out of the same walk:

* **haircut** (proportional): each payment carries the share of the receiver's inflow it made up
  (upstream) or of the sender's outflow (downstream); a path's share is the product along it, so
  the haircut score is the share of value that traces to illicit sources.
* **poison**: any path at all to an illicit source taints the address fully.

A path k transactions long weighs ``decay ** k`` (k = 0: the address itself is labelled), so a
far-away link counts less. The walk stops at labelled sources (the evidence ends there) and at
exchange addresses (commingled funds of thousands of customers would taint everyone), and it keeps
the ``max_frontier`` strongest partial paths per hop so hubs cannot blow it up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from cryptoscope.chain.flows import FlowGraph
from cryptoscope.errors import CryptoscopeError
from cryptoscope.schema import ILLICIT_CATEGORIES
from cryptoscope.schema.scores import EXPOSURE_MAX_HOPS

UPSTREAM, DOWNSTREAM = "upstream", "downstream"
_NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True)
class ExposureConfig:
    max_hops: int = EXPOSURE_MAX_HOPS  # the limit chain_exposure documents, and the deposit product reads against
    decay: float = 0.5
    max_fanout: int = 50
    max_frontier: int = 2_000
    evidence_paths: int = 5
    categories: tuple[str, ...] = ILLICIT_CATEGORIES


@dataclass(frozen=True)
class Hop:
    """One payment on an evidence path. A path lists its payments in time order: upstream from the
    labelled source to the traced address, downstream from the traced address to the source."""

    txid: str
    sender: str
    receiver: str
    amount: float
    time_us: int


@dataclass(frozen=True)
class ExposurePath:
    category: str
    source_address: str
    label_source: str
    hops: int
    share: float
    known_at_us: int
    payments: tuple[Hop, ...]

    def to_dict(self) -> dict[str, object]:
        return {"category": self.category, "source": self.source_address, "label_source": self.label_source,
                "hops": self.hops, "share": round(self.share, 6),
                "payments": [{"txid": h.txid, "from": h.sender, "to": h.receiver, "amount": h.amount,
                              "time_us": h.time_us} for h in self.payments]}


@dataclass(frozen=True)
class Exposure:
    address: str
    direction: str
    haircut: float
    poison: float
    hops: int | None
    by_category: dict[str, float]
    paths: tuple[ExposurePath, ...]
    known_at_us: int | None
    nodes_visited: int = 0

    @property
    def category(self) -> str | None:
        return max(self.by_category, key=lambda c: self.by_category[c]) if self.by_category else None


@dataclass
class Labels:
    """Labelled nodes of a flow graph: illicit sources (category, source, published µs) and stop nodes."""

    illicit: dict[int, list[tuple[str, str, int]]] = field(default_factory=dict)
    stop: set[int] = field(default_factory=set)

    @classmethod
    def build(cls, graph: FlowGraph, labels: pa.Table, categories: tuple[str, ...] = ILLICIT_CATEGORIES,
              stop_addresses: set[str] | None = None, node_of: dict[str, str] | None = None) -> Labels:
        """From an `address_labels`-shaped table (address, category, source, published µs)."""
        out = cls()
        addresses = labels["address"].to_pylist()
        if node_of:
            addresses = [node_of.get(a, a) for a in addresses]
        nodes = graph.node_ids(np.asarray(addresses, dtype=object)) if addresses else np.zeros(0, np.int64)
        for node, cat, src, pub in zip(nodes.tolist(), labels["category"].to_pylist(), labels["source"].to_pylist(),
                                       labels["published"].to_pylist(), strict=True):
            if node < 0:
                continue
            if cat in categories:
                out.illicit.setdefault(node, []).append((str(cat), str(src), int(pub)))
            elif cat == "exchange":
                out.stop.add(node)
        stops = [node_of.get(a, a) for a in stop_addresses or ()] if node_of else list(stop_addresses or ())
        if stops:
            out.stop |= {int(n) for n in graph.node_ids(np.asarray(stops, dtype=object)) if n >= 0}
        return out

    def illicit_at(self, node: int, cutoff_us: int) -> tuple[str, str, int] | None:
        """The earliest-published illicit label of ``node`` known by ``cutoff_us``."""
        known = [lab for lab in self.illicit.get(node, ()) if lab[2] <= cutoff_us]
        return min(known, key=lambda lab: lab[2]) if known else None


@dataclass(frozen=True)
class _Partial:
    node: int
    share: float
    time_us: int
    edges: tuple[int, ...]


def trace(graph: FlowGraph, labels: Labels, address: str, *, direction: str = UPSTREAM, at_us: int | None = None,
          until_us: int | None = None, label_cutoff_us: int | None = None, asset: str | None = None,
          config: ExposureConfig | None = None) -> Exposure:
    """Exposure of ``address`` (a node of ``graph``: an address or a cluster id).

    ``at_us``: upstream, only funds received before it; downstream, only payments after it.
    ``until_us``: ignore payments after it (a point-in-time score). ``label_cutoff_us``: only labels
    published by then. ``asset``: follow one asset ('native' or a token contract); all when None.
    """
    cfg = config or ExposureConfig()
    if direction not in (UPSTREAM, DOWNSTREAM):
        raise CryptoscopeError(f"direction must be {UPSTREAM} or {DOWNSTREAM}, not {direction!r}")
    cutoff = _NEVER if label_cutoff_us is None else label_cutoff_us
    start = graph.node(address)
    if start is None:
        return Exposure(address, direction, 0.0, 0.0, None, {}, (), None)
    own = labels.illicit_at(start, cutoff)
    if own is not None:
        path = ExposurePath(own[0], address, own[1], 0, 1.0, own[2], ())
        return Exposure(address, direction, 1.0, 1.0, 0, {own[0]: 1.0}, (path,), own[2])
    asset_code = None if asset is None else graph.asset_code(asset)
    if asset is not None and asset_code is None:
        return Exposure(address, direction, 0.0, 0.0, None, {}, (), None)
    t0 = (_NEVER if direction == UPSTREAM else -_NEVER) if at_us is None else at_us
    frontier = [_Partial(start, 1.0, t0, ())]
    hits: list[ExposurePath] = []
    visited = 1
    for hop in range(1, cfg.max_hops + 1):
        grown: list[_Partial] = []
        for part in frontier:
            for child in _expand(graph, part, direction, until_us, asset_code, cfg.max_fanout):
                if child.node in _path_nodes(graph, part, direction, start):
                    continue
                label = labels.illicit_at(child.node, cutoff)
                if label is not None:
                    hits.append(_evidence(graph, child, label, hop, direction))
                elif child.node not in labels.stop:
                    grown.append(child)
        visited += len(grown)
        grown.sort(key=lambda p: -p.share)
        frontier = grown[:cfg.max_frontier]
        if not frontier:
            break
    return _score(address, direction, hits, cfg)


def _expand(graph: FlowGraph, part: _Partial, direction: str, until_us: int | None, asset: int | None,
            fanout: int) -> list[_Partial]:
    """The payments one step further from the traced address, each with its share of the flow."""
    edges = graph.edges_into(part.node) if direction == UPSTREAM else graph.edges_out_of(part.node)
    times = graph.time[edges]
    keep = times <= part.time_us if direction == UPSTREAM else times >= part.time_us
    if until_us is not None:
        keep &= times <= until_us
    if asset is not None:
        keep &= graph.asset[edges] == asset
    edges = edges[keep]
    if not len(edges):
        return []
    amounts = graph.amount[edges]
    total = float(amounts.sum())
    if total <= 0:
        return []
    top = np.argsort(-amounts, kind="stable")[:fanout]
    far = graph.src if direction == UPSTREAM else graph.dst
    return [_Partial(int(far[e]), part.share * float(amounts[i]) / total, int(graph.time[e]), (*part.edges, int(e)))
            for i, e in zip(top.tolist(), edges[top].tolist(), strict=True)]


def _path_nodes(graph: FlowGraph, part: _Partial, direction: str, start: int) -> set[int]:
    far = graph.src if direction == UPSTREAM else graph.dst
    return {start, *(int(far[e]) for e in part.edges)}


def _evidence(graph: FlowGraph, child: _Partial, label: tuple[str, str, int], hop: int, direction: str
              ) -> ExposurePath:
    """The path written from the labelled source to the traced address, as an investigator reads it."""
    edges = child.edges[::-1] if direction == UPSTREAM else child.edges
    payments = tuple(Hop(str(graph.txid[e]), str(graph.sender[e]), str(graph.receiver[e]), float(graph.amount[e]),
                         int(graph.time[e])) for e in edges)
    known = max([label[2], *(p.time_us for p in payments)])
    return ExposurePath(label[0], str(graph.nodes[child.node]), label[1], hop, child.share, known, payments)


def _score(address: str, direction: str, hits: list[ExposurePath], cfg: ExposureConfig) -> Exposure:
    if not hits:
        return Exposure(address, direction, 0.0, 0.0, None, {}, (), None)
    by_category: dict[str, float] = {}
    for h in hits:
        by_category[h.category] = by_category.get(h.category, 0.0) + h.share * cfg.decay ** h.hops
    haircut = min(1.0, sum(by_category.values()))
    poison = max(cfg.decay ** h.hops for h in hits)
    strongest = sorted(hits, key=lambda h: (-h.share * cfg.decay ** h.hops, h.hops))[:cfg.evidence_paths]
    known = max(h.known_at_us for h in hits)
    return Exposure(address, direction, round(haircut, 9), round(poison, 9), min(h.hops for h in hits),
                    {k: round(min(1.0, v), 9) for k, v in by_category.items()}, tuple(strongest), known)
