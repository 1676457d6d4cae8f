"""Address clustering: which addresses one entity controls.

Heuristics (each one a set of links between two addresses, an Ibis expression in `links`; the clusters
are the connected components of all links):

* **multi-input** (common-input ownership): the inputs of one transaction are signed by one
  owner. CoinJoins break that rule, so a transaction with several inputs and at least
  ``coinjoin_min_equal_outputs`` outputs of the same value (Wasabi, Whirlpool, JoinMarket), or more
  than ``coinjoin_max_inputs`` inputs, links nothing.
* **change**: of a payment's outputs, the change goes back to the payer. An output gets a vote for
  each hint: it is the only *fresh* output (the address is first seen here), the only output
  whose *script type* matches the inputs', the only output with a non-*round* amount. The output
  with most votes (at least ``change_min_votes``, no tie) joins the inputs' cluster.
* **deposit-address reuse** (account chains, Victor 2020): an exchange deposit address belongs to
  one customer, so every address paying into it is that customer's. Deposit addresses are the
  exchange's own (``chain_transfers``) and any address forwarding at least ``sweep_share`` of its
  payments to a known exchange hot wallet. A sender paying more than ``deposit_max_targets``
  deposit addresses links nothing: it may be a service (another exchange, a payroll) paying many
  customers, and one wrong link merges two customers (default 1: only single-target senders link).

Two ways to run them, held equal by the parity tests (same rows, same link counts):

* `cluster_on_engine`: everything on the lake's engine (DuckDB or Spark): the links, then connected
  components as an iterative Ibis job (`components`). Only the result, one row per address, reaches
  the driver, so it scales with the engine. The product line's batch stage uses it.
* `cluster_tables`: Arrow tables already in memory. Addresses become integers first (sorted, so an
  integer's order is its address's and every ``min`` picks the same address the engine picks), the
  same link expressions run on an in-process DuckDB, and scipy's C union-find finds the components:
  tens of millions of addresses in seconds, where the iterative job needs a dozen rounds of joins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from cryptoscope.chain import links as heuristics
from cryptoscope.chain.components import connected_components as engine_components
from cryptoscope.chain.components import forget, keep
from cryptoscope.lake.scratch import scratch

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

HEURISTICS = ("multi_input", "change", "deposit_reuse")


@dataclass(frozen=True)
class ClusterConfig:
    """Which heuristics run and their guards; plain values so a run can be reproduced from its log."""

    multi_input: bool = True
    change: bool = True
    deposit_reuse: bool = True
    coinjoin_min_equal_outputs: int = 3
    coinjoin_max_inputs: int = 500
    change_min_votes: int = 2
    round_sat: int = 100_000
    deposit_max_targets: int = 1
    sweep_share: float = 0.9


#: script types as small integers; an input's type is read from its address's form (bc1p = taproot,
#: bc1q of 42 characters = P2WPKH, ...). Unknown input and output types get different codes so that
#: two unknowns never count as a match.
SCRIPT_TYPES = ("p2pkh", "p2sh", "p2wpkh", "p2wsh", "p2tr")
_UNKNOWN_IN, _UNKNOWN_OUT = 8, 9


@dataclass(frozen=True)
class ClusterStats:
    """What a clustering found, for the CLI, the docs and the benchmark."""

    addresses: int
    clusters: int
    singletons: int
    largest: int
    multi_address_clusters: int
    mean_size_multi: float
    links: dict[str, int]
    coinjoins_skipped: int


@dataclass(frozen=True)
class Clustering:
    """Node i is ``addresses[i]`` (sorted); it belongs to component ``component[i]``.

    ``rounds``: the connected-components rounds the engine ran (0 in memory); ``first_seen``: when each
    address first appeared on chain, when the engine computed it alongside (else `store` reads it).
    """

    chain: str
    addresses: pa.Array
    component: np.ndarray
    sizes: np.ndarray
    representative: np.ndarray  # component -> node of its smallest address
    flags: np.ndarray  # node -> bit i set when heuristic HEURISTICS[i] linked it
    links: dict[str, int] = field(default_factory=dict)
    coinjoins: int = 0
    rounds: int = 0
    first_seen: pa.Array | None = None

    @classmethod
    def from_rows(cls, chain: str, rows: pa.Table, links: dict[str, int], coinjoins: int, rounds: int
                  ) -> Clustering:
        """The clustering of rows address (sorted), cluster (a member address), flags[, first_seen]."""
        addresses = rows["address"].combine_chunks()
        reps = pc.index_in(rows["cluster"], value_set=addresses).to_numpy(zero_copy_only=False).astype(np.int64)
        representative, component = np.unique(reps, return_inverse=True)
        sizes = np.bincount(component) if len(component) else np.zeros(0, np.int64)
        flags = rows["flags"].to_numpy(zero_copy_only=False).astype(np.uint8)
        first = rows["first_seen"].combine_chunks() if "first_seen" in rows.column_names else None
        return cls(chain, addresses, component.astype(np.int64), sizes, representative.astype(np.int64), flags,
                   links, coinjoins, rounds, first)

    def node(self, address: str) -> int | None:
        hit = pc.index(self.addresses, pa.scalar(address, pa.string())).as_py()
        return None if hit < 0 else int(hit)

    def cluster_of(self, address: str) -> list[str]:
        """Every address in ``address``'s cluster, sorted; just itself when no heuristic linked it."""
        node = self.node(address)
        if node is None:
            return [address]
        members = np.flatnonzero(self.component == self.component[node])
        return sorted(self.addresses.take(pa.array(members)).to_pylist())

    def cluster_id(self, address: str) -> str:
        node = self.node(address)
        if node is None:
            return address
        return str(self.addresses[int(self.representative[self.component[node]])].as_py())

    def stats(self) -> ClusterStats:
        multi = self.sizes[self.sizes > 1]
        return ClusterStats(addresses=len(self.component), clusters=len(self.sizes),
                            singletons=int((self.sizes == 1).sum()), largest=int(self.sizes.max(initial=0)),
                            multi_address_clusters=len(multi),
                            mean_size_multi=round(float(multi.mean()), 3) if len(multi) else 0.0,
                            links=dict(self.links), coinjoins_skipped=self.coinjoins)

    def to_arrow(self) -> pa.Table:
        """address, cluster (its smallest address), cluster_size, heuristics: one row per address, by address."""
        rep_nodes = self.representative[self.component]
        names = np.array([",".join(h for i, h in enumerate(HEURISTICS) if f >> i & 1) for f in range(8)],
                         dtype=object)
        return pa.table({"address": self.addresses, "cluster": self.addresses.take(pa.array(rep_nodes)),
                         "cluster_size": pa.array(self.sizes[self.component], pa.int64()),
                         "heuristics": pa.array(names[self.flags], pa.string())})


def input_script(address: ir.StringValue) -> ir.IntegerValue:
    """The script type an input address's form implies (Bitcoin mainnet), as the index into SCRIPT_TYPES."""
    bc1q = address.startswith("bc1q")
    return ibis.cases((address.startswith("bc1p"), 4), (bc1q & (address.length() == 42), 2), (bc1q, 3),
                      (address.startswith("1"), 0), (address.startswith("3"), 1), else_=_UNKNOWN_IN)


def output_script(script_type: ir.StringValue) -> ir.IntegerValue:
    """An output's script type as the index into SCRIPT_TYPES (`_UNKNOWN_OUT` for others and nulls)."""
    return ibis.cases(*[(script_type == name, i) for i, name in enumerate(SCRIPT_TYPES)], else_=_UNKNOWN_OUT)


def heuristic_links(inputs: ir.Table | None, outputs: ir.Table | None, flows: ir.Table | None,
                    exchange: ir.Table, deposits: ir.Table, cfg: ClusterConfig,
                    kept: Callable[[ir.Table], ir.Table]) -> tuple[dict[str, ir.Table], ir.Table | None]:
    """The links of each heuristic that applies, and the CoinJoins (None without UTXO tables).

    ``inputs``: txid, address, stype; ``outputs``: txid, event_time, value, stype, address; ``flows``:
    src, dst; ``exchange`` and ``deposits``: address. ``kept`` computes a table once where it is used
    twice (the CoinJoins feed both UTXO heuristics; each link table feeds the graph and the flags).
    """
    links: dict[str, ir.Table] = {}
    skip = None
    if inputs is not None and outputs is not None:
        skip = kept(heuristics.coinjoins(inputs, outputs, min_equal_outputs=cfg.coinjoin_min_equal_outputs,
                                         max_inputs=cfg.coinjoin_max_inputs))
        if cfg.multi_input:
            links["multi_input"] = kept(heuristics.multi_input(inputs, skip))
        if cfg.change:
            links["change"] = kept(heuristics.change(inputs, outputs, skip, round_unit=cfg.round_sat,
                                                     min_votes=cfg.change_min_votes))
    if flows is not None and cfg.deposit_reuse:
        links["deposit_reuse"] = kept(heuristics.deposit_reuse(flows, exchange, deposits, sweep_share=cfg.sweep_share,
                                                               max_targets=cfg.deposit_max_targets))
    return links, skip


def cluster_on_engine(backend: BaseBackend, chain: str, *, inputs: ir.Table | None = None,
                      outputs: ir.Table | None = None, flows: ir.Table | None = None, exchange: ir.Table,
                      deposits: ir.Table, first_seen: ir.Table | None = None,
                      config: ClusterConfig | None = None) -> Clustering:
    """Cluster one chain's addresses on ``backend`` (any Ibis engine: DuckDB, Spark) from expressions over it.

    ``inputs``: txid, address; ``outputs``: txid, event_time, value, script_type, address (UTXO chains);
    ``flows``: src, dst; ``exchange``, ``deposits``: address; ``first_seen``: address, first_seen (optional).
    Links, components, cluster sizes and flags are all computed on the engine, intermediate tables kept
    there (`components.keep`); the only result that comes to the driver is the answer itself, one row per
    clustered address, plus a handful of counts (links per heuristic, CoinJoins, the convergence checks).
    """
    cfg = config or ClusterConfig()
    names: list[str] = []
    try:
        def kept(expr: ir.Table) -> ir.Table:
            return keep(backend, expr, names)

        # Each input is read several times by the heuristics; an engine without shared subplans (Spark)
        # would otherwise recompute the flows' joins once per reference.
        ins = outs = None
        if inputs is not None and outputs is not None:
            ins = kept(inputs.select("txid", "address", stype=input_script(inputs.address)))
            outs = kept(outputs.select("txid", "event_time", "value", stype=output_script(outputs.script_type),
                                       address=outputs.address))
        flows = None if flows is None else kept(flows.select("src", "dst"))
        links, skip = heuristic_links(ins, outs, flows, kept(exchange.select("address")),
                                      kept(deposits.select("address")), cfg, kept)
        addresses = _addresses(ins, outs, flows)
        edges = _union([addresses.select(a=addresses.address, b=addresses.address),
                        *[t.select("a", "b") for t in links.values()]], distinct=False)
        found = engine_components(backend, edges)
        names.append(found.table.get_name())
        rows = _result(found.table, links, first_seen)
        counts = _counts(backend, links, skip)
        return Clustering.from_rows(chain, backend.to_pyarrow(rows.order_by("address")),
                                    {k: counts[k] for k in links}, counts.get("coinjoins", 0), found.rounds)
    finally:
        for name in names:
            forget(backend, name)


def _addresses(inputs: ir.Table | None, outputs: ir.Table | None, flows: ir.Table | None) -> ir.Table:
    """Every address the clustering sees once: inputs', outputs', payers' and payees'."""
    parts = []
    if inputs is not None and outputs is not None:
        parts += [inputs.select("address"), outputs.select("address")]
    if flows is not None:
        parts += [flows.select(address=flows.src), flows.select(address=flows.dst)]
    if not parts:
        raise ValueError("clustering needs UTXO inputs and outputs, or flows")
    every = _union(parts, distinct=True)
    return every.filter(every.address.notnull())


def _union(parts: list[ir.Table], *, distinct: bool) -> ir.Table:
    """The rows of every table in ``parts`` (one or more)."""
    return parts[0].union(*parts[1:], distinct=distinct) if len(parts) > 1 else parts[0]


def _result(components: ir.Table, links: dict[str, ir.Table], first_seen: ir.Table | None) -> ir.Table:
    """address, cluster, flags[, first_seen] of every clustered address (on the engine)."""
    rows = components.select(address=components.node, cluster=components.component)
    if links:
        ends = [t.select(node=t[end], bit=ibis.literal(1 << HEURISTICS.index(name), "int64"))
                for name, t in links.items() for end in ("a", "b")]
        bits = _union(ends, distinct=True)
        flags = bits.group_by("node").aggregate(flags=bits.bit.sum())
        joined = rows.left_join(flags, rows.address == flags.node)
        rows = joined.select("address", "cluster", flags=joined.flags.coalesce(0))
    else:
        rows = rows.mutate(flags=ibis.literal(0, "int64"))
    if first_seen is not None:
        joined = rows.left_join(first_seen, "address")
        rows = joined.select("address", "cluster", "flags", first_seen=joined.first_seen)
    return rows


def _counts(backend: BaseBackend, links: dict[str, ir.Table], skip: ir.Table | None) -> dict[str, int]:
    """Rows of each link table and of the CoinJoins, in one small query."""
    parts = {**links, **({"coinjoins": skip} if skip is not None else {})}
    if not parts:
        return {}
    each = [t.aggregate(n=t.count()).mutate(name=ibis.literal(name)) for name, t in parts.items()]
    rows = backend.to_pyarrow(_union(each, distinct=False))
    return dict(zip(rows["name"].to_pylist(), rows["n"].to_pylist(), strict=True))


def cluster_tables(chain: str, *, inputs: pa.Table | None = None, outputs: pa.Table | None = None,
                   flows: pa.Table | None = None, exchange_addresses: Iterable[str] = (),
                   deposit_addresses: Iterable[str] = (), config: ClusterConfig | None = None) -> Clustering:
    """Cluster one chain's addresses from Arrow tables shaped like the lake's, in memory.

    ``inputs``: txid, address, value; ``outputs``: txid, output_index, event_time, value, script_type,
    address (UTXO chains); ``flows``: src, dst (any chain, for deposit reuse, see `flows.read_flows`).
    Addresses and txids become integers first (one hash pass in Arrow, then sorted), so every join of
    the heuristics (`links`, run in process) is on integers and the links come back as the node ids the
    union-find needs.
    """
    cfg = config or ClusterConfig()
    utxo = inputs is not None and outputs is not None
    columns = [inputs["address"], outputs["address"]] if utxo else []  # type: ignore[index]
    if flows is not None:
        columns += [flows["src"], flows["dst"]]
    addresses, codes = _encode(columns)
    with scratch() as backend:
        ins = outs = None
        if utxo:
            assert inputs is not None and outputs is not None
            ins, outs = _coded_utxo(backend, inputs, outputs, codes[0], codes[1])
        coded_flows = ibis.memtable(pa.table({"src": codes[-2], "dst": codes[-1]})) if flows is not None else None
        links, skip = heuristic_links(ins, outs, coded_flows, _address_table(addresses, exchange_addresses),
                                      _address_table(addresses, deposit_addresses), cfg,
                                      lambda e: ibis.memtable(backend.to_pyarrow(e)))
        arrow = {name: backend.to_pyarrow(t) for name, t in links.items()}
        coinjoins = 0 if skip is None else int(backend.to_pyarrow(skip.count()).as_py())
    return _components(chain, addresses, arrow, coinjoins)


def _encode(columns: list[pa.ChunkedArray]) -> tuple[pa.Array, list[pa.Array]]:
    """One sorted dictionary of every value in ``columns`` and each column as int64 codes (nulls stay null).

    Sorted, so that a smaller code is a smaller value: the heuristics' ``min`` then picks the address
    the engine path picks over the strings themselves.
    """
    chunks = [c for col in columns for c in col.cast(pa.string()).chunks]
    if not chunks or not sum(len(c) for c in chunks):
        return pa.array([], pa.string()), [pa.array([], pa.int64()) for _ in columns]
    encoded = pc.dictionary_encode(pa.chunked_array(chunks, type=pa.string()))
    dictionary = encoded.chunks[-1].dictionary  # the dictionary is unified across chunks
    order = pc.sort_indices(dictionary).to_numpy()
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    indices = pa.chunked_array([c.indices for c in encoded.chunks]).cast(pa.int64()).combine_chunks()
    indices = pc.take(pa.array(rank, pa.int64()), indices)
    out, at = [], 0
    for col in columns:
        out.append(indices.slice(at, len(col)))
        at += len(col)
    return dictionary.take(pa.array(order)), out


def _address_table(addresses: pa.Array, wanted: Iterable[str]) -> ir.Table:
    """The codes of the ``wanted`` addresses that occur at all, as a one-column ``address`` table."""
    hits = pc.index_in(pa.array(sorted(set(wanted)), pa.string()), value_set=addresses)
    return ibis.memtable(pa.table({"address": pc.drop_null(hits).cast(pa.int64())}))


def _coded_utxo(backend: BaseBackend, inputs: pa.Table, outputs: pa.Table, in_codes: pa.Array,
                out_codes: pa.Array) -> tuple[ir.Table, ir.Table]:
    """inputs(txid, address, stype) and outputs(txid, event_time, value, stype, address) with integer ids.

    The script types come from `input_script` and `output_script`, run here over the strings, before
    the addresses become integers: one definition for both paths.
    """
    _, (in_tx, out_tx) = _encode([inputs["txid"], outputs["txid"]])
    named_in = ibis.memtable(inputs.select(["address"]))
    in_type = backend.to_pyarrow(named_in.select(stype=input_script(named_in.address)))["stype"]
    named_out = ibis.memtable(outputs.select(["script_type"]))
    out_type = backend.to_pyarrow(named_out.select(stype=output_script(named_out.script_type)))["stype"]
    ins = pa.table({"txid": in_tx, "address": in_codes, "stype": in_type})
    outs = pa.table({"txid": out_tx, "event_time": outputs["event_time"], "value": outputs["value"],
                     "stype": out_type, "address": out_codes})
    return ibis.memtable(ins), ibis.memtable(outs)


def _components(chain: str, addresses: pa.Array, links: dict[str, pa.Table], coinjoins: int) -> Clustering:
    """Connected components of the link graph over node ids 0..n-1 (scipy's union-find, in C)."""
    n = len(addresses)
    src_parts, dst_parts = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    flags = np.zeros(n, dtype=np.uint8)
    for name, table in links.items():
        a = table["a"].to_numpy().astype(np.int64)
        b = table["b"].to_numpy().astype(np.int64)
        bit = np.uint8(1 << HEURISTICS.index(name))
        flags[a] |= bit
        flags[b] |= bit
        src_parts.append(a)
        dst_parts.append(b)
    src, dst = np.concatenate(src_parts), np.concatenate(dst_parts)
    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n)).tocsr()
    _, component = connected_components(graph, directed=False)
    component = component.astype(np.int64)
    sizes = np.bincount(component) if n else np.zeros(0, np.int64)
    _, representative = np.unique(component, return_index=True)  # addresses are sorted: first = smallest
    return Clustering(chain, addresses, component, sizes, representative, flags,
                      {k: v.num_rows for k, v in links.items()}, coinjoins)
