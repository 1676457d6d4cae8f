"""Who paid whom on chain: one flow edge per (transaction, sender, receiver), for UTXO and account chains.

A UTXO transaction has no sender-to-receiver pairs, only inputs and outputs; each input address is
credited with a share of every output proportional to its input value (equal shares when input
values are unknown). Account chains pay directly: native transfers from `eth_transactions`, token
transfers from `eth_token_transfers`. Amounts are in the asset's smallest unit, as floats: only
ratios within one asset are ever used (the haircut shares), never sums across assets.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cryptoscope.chain.backend import Source, backend_of, epoch_us, lake_table

NATIVE = "native"


def utxo_flows(chain: str) -> ir.Table:
    """txid, src, dst, amount, asset, time (the earliest output's timestamp) of a UTXO chain."""
    ins = lake_table("chain_inputs")
    ins = ins.filter(ins.chain == chain, ins.address.notnull()).select(
        "txid", src=ins.address, v=ins.value.coalesce(0))
    totals = ins.group_by("txid").aggregate(tot=ins.v.sum(), n=ins.count())
    outs = lake_table("chain_outputs")
    outs = outs.filter(outs.chain == chain, outs.address.notnull()).select(
        "txid", dst=outs.address, value=outs.value, event_time=outs.event_time)
    paid = ins.join(totals, "txid").join(outs, "txid")
    paid = paid.filter(paid.src != paid.dst)
    value = paid.value.cast("float64")
    share = (paid.tot > 0).ifelse(value * paid.v / paid.tot, value / paid.n)
    edges = paid.group_by(["txid", "src", "dst"]).aggregate(amount=share.sum(), time=paid.event_time.min())
    return edges.select("txid", "src", "dst", "amount", asset=ibis.literal(NATIVE), time=edges.time)


def account_flows(chain: str) -> ir.Table:
    """The same columns for an account chain: successful native payments, then token transfers."""
    tx = lake_table("eth_transactions")
    native = tx.filter(tx.chain == chain, tx.to_address.notnull(), tx.value != "0",
                       tx.receipt_status.coalesce(1) == 1, tx.from_address != tx.to_address).select(
        txid=tx.tx_hash, src=tx.from_address, dst=tx.to_address, amount=tx.value.try_cast("float64"),
        asset=ibis.literal(NATIVE), time=tx.event_time)
    tok = lake_table("eth_token_transfers")
    tokens = tok.filter(tok.chain == chain, tok.from_address != tok.to_address, tok.value != "0").select(
        txid=tok.tx_hash, src=tok.from_address, dst=tok.to_address, amount=tok.value.try_cast("float64"),
        asset=tok.token_address, time=tok.event_time)
    return native.union(tokens, distinct=False)


def chains_in_lake(source: Source) -> list[str]:
    """Every chain with transactions in the lake, UTXO and account chains alike."""
    chains = [lake_table(t).select("chain").distinct()
              for t in ("chain_outputs", "eth_transactions", "eth_token_transfers")]
    rows = backend_of(source).to_pyarrow(chains[0].union(*chains[1:], distinct=True).order_by("chain"))
    return [str(c) for c in rows["chain"].to_pylist()]


def is_utxo(source: Source, chain: str) -> bool:
    outputs = lake_table("chain_outputs")
    return bool(backend_of(source).to_pyarrow(outputs.filter(outputs.chain == chain).count()).as_py())


def read_flows(source: Source, chain: str) -> pa.Table:
    """Flow edges of ``chain``: txid, src, dst, amount, asset, time (µs since the epoch, UTC)."""
    backend = backend_of(source)
    table = backend.to_pyarrow(utxo_flows(chain) if is_utxo(backend, chain) else account_flows(chain))
    table = table.set_column(table.schema.get_field_index("time"), "time", epoch_us(table["time"]))
    return table.filter(pc.is_valid(table["amount"]))


@dataclass
class FlowGraph:
    """Flow edges indexed both ways (by receiver and by sender, each in time order) for tracing.

    ``node_of`` optionally maps an address to its cluster, so a cluster is traced as one node and
    payments inside it disappear (they are the entity moving its own funds).
    """

    nodes: np.ndarray  # node id -> address or cluster id
    src: np.ndarray
    dst: np.ndarray
    amount: np.ndarray
    time: np.ndarray
    asset: np.ndarray  # asset code per edge
    assets: list[str]
    txid: np.ndarray
    in_ptr: np.ndarray
    in_edges: np.ndarray
    out_ptr: np.ndarray
    out_edges: np.ndarray
    _index: pd.Index
    sender: np.ndarray  # per edge, the real address (a node may be a whole cluster)
    receiver: np.ndarray
    _lookup: dict[str, int] | None = None

    @classmethod
    def build(cls, flows: pa.Table, node_of: dict[str, str] | None = None) -> FlowGraph:
        src = sender = np.asarray(flows["src"].to_numpy(zero_copy_only=False), dtype=object)
        dst = receiver = np.asarray(flows["dst"].to_numpy(zero_copy_only=False), dtype=object)
        if node_of:
            mapping = pd.Series(node_of, dtype=object)
            src = pd.Series(src).map(mapping).fillna(pd.Series(src)).to_numpy(dtype=object)
            dst = pd.Series(dst).map(mapping).fillna(pd.Series(dst)).to_numpy(dtype=object)
        keep = src != dst
        codes, nodes = pd.factorize(np.concatenate([src[keep], dst[keep]]))
        n = int(keep.sum())
        s, d = codes[:n].astype(np.int64), codes[n:].astype(np.int64)
        asset_codes, assets = pd.factorize(np.asarray(flows["asset"].to_numpy(zero_copy_only=False))[keep])
        time = flows["time"].to_numpy()[keep].astype(np.int64)
        in_edges, in_ptr = _csr(d, time, len(nodes))
        out_edges, out_ptr = _csr(s, time, len(nodes))
        return cls(np.asarray(nodes, dtype=object), s, d, flows["amount"].to_numpy()[keep].astype(np.float64), time,
                   asset_codes.astype(np.int32), [str(a) for a in assets],
                   np.asarray(flows["txid"].to_numpy(zero_copy_only=False), dtype=object)[keep],
                   in_ptr, in_edges, out_ptr, out_edges, pd.Index(nodes), sender[keep], receiver[keep])

    def node(self, address: str) -> int | None:
        """Node id of an address (or cluster id), None when it never moved funds.

        A plain dict, built on first use: one lookup per traced transfer, where pandas' per-call
        overhead (about 0.5 ms) would dominate a batch of tens of thousands.
        """
        if self._lookup is None:
            self._lookup = {str(a): i for i, a in enumerate(self.nodes.tolist())}
        return self._lookup.get(address)

    def node_ids(self, addresses: np.ndarray) -> np.ndarray:
        """Node ids of many addresses at once; -1 for unknown ones."""
        return np.asarray(self._index.get_indexer(pd.Index(addresses)), dtype=np.int64)

    def asset_code(self, asset: str) -> int | None:
        return self.assets.index(asset) if asset in self.assets else None

    def edges_into(self, node: int) -> np.ndarray:
        return self.in_edges[self.in_ptr[node]:self.in_ptr[node + 1]]

    def edges_out_of(self, node: int) -> np.ndarray:
        return self.out_edges[self.out_ptr[node]:self.out_ptr[node + 1]]

    @property
    def num_nodes(self) -> int:
        return len(self.nodes)


def _csr(key: np.ndarray, time: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Edge ids grouped by ``key`` (time-ordered within a group) and the group offsets."""
    order = np.lexsort((time, key))
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(key, minlength=n), out=ptr[1:])
    return order.astype(np.int64), ptr
