"""Address clustering: which addresses one entity controls.

Heuristics (each one a set of links between two addresses; the clusters are the connected
components of all links, found by scipy's C union-find over integer ids, so tens of millions of
addresses cluster in seconds rather than a Python dict loop's minutes):

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
"""

from __future__ import annotations

from collections.abc import Iterable
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
    """Node i is ``addresses[i]``; it belongs to component ``component[i]``."""

    chain: str
    addresses: pa.Array
    component: np.ndarray
    sizes: np.ndarray
    representative: np.ndarray  # component -> node of its smallest address
    flags: np.ndarray  # node -> bit i set when heuristic HEURISTICS[i] linked it
    links: dict[str, int] = field(default_factory=dict)
    coinjoins: int = 0

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
        """address, cluster (its smallest address), cluster_size, heuristics: one row per address."""
        rep_nodes = self.representative[self.component]
        names = np.array([",".join(h for i, h in enumerate(HEURISTICS) if f >> i & 1) for f in range(8)],
                         dtype=object)
        return pa.table({"address": self.addresses, "cluster": self.addresses.take(pa.array(rep_nodes)),
                         "cluster_size": pa.array(self.sizes[self.component], pa.int64()),
                         "heuristics": pa.array(names[self.flags], pa.string())})


def cluster_tables(chain: str, *, inputs: pa.Table | None = None, outputs: pa.Table | None = None,
                   flows: pa.Table | None = None, exchange_addresses: Iterable[str] = (),
                   deposit_addresses: Iterable[str] = (), config: ClusterConfig | None = None) -> Clustering:
    """Cluster one chain's addresses from Arrow tables shaped like the lake's.

    ``inputs``: txid, address, value; ``outputs``: txid, output_index, event_time, value, script_type,
    address (UTXO chains); ``flows``: src, dst (any chain, for deposit reuse, see `flows.read_flows`).
    Addresses and txids become integers first (one hash pass in Arrow), so every join of the
    heuristics (`links`, run in process) is on integers and the links come back as the node ids the
    union-find needs.
    """
    cfg = config or ClusterConfig()
    utxo = inputs is not None and outputs is not None
    columns = [inputs["address"], outputs["address"]] if utxo else []  # type: ignore[index]
    if flows is not None:
        columns += [flows["src"], flows["dst"]]
    addresses, codes = _encode(columns)
    links: dict[str, pa.Table] = {}
    coinjoins = 0
    with scratch() as backend:
        if utxo:
            assert inputs is not None and outputs is not None
            ins, outs = _coded_utxo(inputs, outputs, codes[0], codes[1])
            links, coinjoins = _utxo_links(backend, ins, outs, cfg)
        if flows is not None and cfg.deposit_reuse:
            links["deposit_reuse"] = backend.to_pyarrow(heuristics.deposit_reuse(
                ibis.memtable(pa.table({"src": codes[-2], "dst": codes[-1]})),
                _address_table(addresses, exchange_addresses), _address_table(addresses, deposit_addresses),
                sweep_share=cfg.sweep_share, max_targets=cfg.deposit_max_targets))
    return _components(chain, addresses, links, coinjoins)


def _utxo_links(backend: BaseBackend, ins: ir.Table, outs: ir.Table, cfg: ClusterConfig
                ) -> tuple[dict[str, pa.Table], int]:
    """Multi-input and change links, and how many CoinJoins were left unlinked.

    The CoinJoins are found once and handed to both heuristics as a table of their own.
    """
    skipped = backend.to_pyarrow(heuristics.coinjoins(ins, outs, min_equal_outputs=cfg.coinjoin_min_equal_outputs,
                                                      max_inputs=cfg.coinjoin_max_inputs))
    skip = ibis.memtable(skipped)
    links = {}
    if cfg.multi_input:
        links["multi_input"] = backend.to_pyarrow(heuristics.multi_input(ins, skip))
    if cfg.change:
        links["change"] = backend.to_pyarrow(heuristics.change(ins, outs, skip, round_unit=cfg.round_sat,
                                                               min_votes=cfg.change_min_votes))
    return links, skipped.num_rows


def _encode(columns: list[pa.ChunkedArray]) -> tuple[pa.Array, list[pa.Array]]:
    """One dictionary of every address in ``columns`` and each column as int64 codes (nulls stay null)."""
    chunks = [c for col in columns for c in col.cast(pa.string()).chunks]
    if not chunks or not sum(len(c) for c in chunks):
        return pa.array([], pa.string()), [pa.array([], pa.int64()) for _ in columns]
    encoded = pc.dictionary_encode(pa.chunked_array(chunks, type=pa.string()))
    dictionary = encoded.chunks[-1].dictionary  # the dictionary is unified across chunks
    indices = pa.chunked_array([c.indices for c in encoded.chunks]).cast(pa.int64()).combine_chunks()
    out, at = [], 0
    for col in columns:
        out.append(indices.slice(at, len(col)))
        at += len(col)
    return dictionary, out


def _address_table(addresses: pa.Array, wanted: Iterable[str]) -> ir.Table:
    """The codes of the ``wanted`` addresses that occur at all, as a one-column ``address`` table."""
    hits = pc.index_in(pa.array(sorted(set(wanted)), pa.string()), value_set=addresses)
    return ibis.memtable(pa.table({"address": pc.drop_null(hits).cast(pa.int64())}))


def _coded_utxo(inputs: pa.Table, outputs: pa.Table, in_codes: pa.Array, out_codes: pa.Array
                ) -> tuple[ir.Table, ir.Table]:
    """inputs(txid, address, stype) and outputs(txid, event_time, value, stype, address) with integer ids."""
    _, (in_tx, out_tx) = _encode([inputs["txid"], outputs["txid"]])
    known = pa.array(SCRIPT_TYPES, pa.string())
    out_type = pc.fill_null(pc.index_in(outputs["script_type"], value_set=known), _UNKNOWN_OUT)
    ins = pa.table({"txid": in_tx, "address": in_codes, "stype": _script_of_address(inputs["address"])})
    outs = pa.table({"txid": out_tx, "event_time": outputs["event_time"], "value": outputs["value"],
                     "stype": out_type, "address": out_codes})
    return ibis.memtable(ins), ibis.memtable(outs)


def _script_of_address(address: pa.ChunkedArray) -> pa.ChunkedArray:
    """The script type an address's form implies (Bitcoin mainnet), as the index into SCRIPT_TYPES."""
    bc1q = pc.starts_with(address, "bc1q")
    code = pc.if_else(pc.starts_with(address, "3"), 1, _UNKNOWN_IN)
    code = pc.if_else(pc.starts_with(address, "1"), 0, code)
    code = pc.if_else(bc1q, 3, code)
    code = pc.if_else(pc.and_(bc1q, pc.equal(pc.utf8_length(address), 42)), 2, code)
    return pc.fill_null(pc.if_else(pc.starts_with(address, "bc1p"), 4, code), _UNKNOWN_IN)


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
    order = pc.sort_indices(addresses).to_numpy()
    _, first = np.unique(component[order], return_index=True)
    representative = order[first]
    return Clustering(chain, addresses, component, sizes, representative, flags,
                      {k: v.num_rows for k, v in links.items()}, coinjoins)
