"""Who paid whom on chain: one flow edge per (transaction, sender, receiver), for UTXO and account chains.

A UTXO transaction has no sender-to-receiver pairs, only inputs and outputs; each input address is
credited with a share of every output proportional to its input value (equal shares when input
values are unknown). Account chains pay directly: native transfers from `eth_transactions`, token
transfers from `eth_token_transfers`. Amounts are in the asset's smallest unit, as floats: only
ratios within one asset are ever used (the haircut shares), never sums across assets.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from cryptoscope.lake import Lake, connect

NATIVE = "native"
LakeLike = Lake | str | os.PathLike[str]


def lake_sql(lake: LakeLike) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with every lake table as a view, shared by the chain analytics.

    Building the views takes seconds on a big lake and one command asks many questions, so the
    connection is kept per lake folder and catalog version: any commit gives a fresh one.
    """
    root = Path(lake.root if isinstance(lake, Lake) else lake).resolve()
    return _connection(str(root), Lake(root).catalog().version)


@contextmanager
def lake_sql_with(lake: LakeLike, **tables: object) -> Iterator[duckdb.DuckDBPyConnection]:
    """`lake_sql` with Arrow tables or frames registered under the given names for the block's duration.

    (A cursor would not do: the lake's views read Arrow tables registered on the main connection.)
    """
    con = lake_sql(lake)
    for name, table in tables.items():
        con.register(name, table)
    try:
        yield con
    finally:
        for name in tables:
            con.unregister(name)


@lru_cache(maxsize=4)
def _connection(root: str, version: int) -> duckdb.DuckDBPyConnection:
    return connect(root).con

_UTXO_SQL = """
WITH i AS (SELECT txid, address AS src, coalesce(value, 0) AS v FROM chain_inputs
           WHERE chain = $chain AND address IS NOT NULL),
     it AS (SELECT txid, sum(v) AS tot, count(*) AS n FROM i GROUP BY txid),
     o AS (SELECT txid, address AS dst, value, event_time FROM chain_outputs
           WHERE chain = $chain AND address IS NOT NULL)
SELECT i.txid AS txid, i.src AS src, o.dst AS dst,
       sum(CASE WHEN it.tot > 0 THEN o.value::DOUBLE * i.v / it.tot ELSE o.value::DOUBLE / it.n END) AS amount,
       'native' AS asset, min(epoch_us(o.event_time)) AS time
FROM i JOIN it USING (txid) JOIN o USING (txid)
WHERE i.src <> o.dst
GROUP BY 1, 2, 3
"""

_ACCOUNT_SQL = """
SELECT tx_hash AS txid, from_address AS src, to_address AS dst, TRY_CAST(value AS DOUBLE) AS amount,
       'native' AS asset, epoch_us(event_time) AS time
FROM eth_transactions
WHERE chain = $chain AND to_address IS NOT NULL AND value <> '0' AND coalesce(receipt_status, 1) = 1
      AND from_address <> to_address
UNION ALL
SELECT tx_hash, from_address, to_address, TRY_CAST(value AS DOUBLE), token_address, epoch_us(event_time)
FROM eth_token_transfers
WHERE chain = $chain AND from_address <> to_address AND value <> '0'
"""


def chains_in_lake(lake: LakeLike) -> list[str]:
    """Every chain with transactions in the lake, UTXO and account chains alike."""
    con = lake_sql(lake)
    rows = con.sql("SELECT DISTINCT chain FROM chain_outputs UNION SELECT DISTINCT chain FROM eth_transactions "
                   "UNION SELECT DISTINCT chain FROM eth_token_transfers ORDER BY 1").fetchall()
    return [str(r[0]) for r in rows]


def is_utxo(lake: LakeLike, chain: str) -> bool:
    con = lake_sql(lake)
    row = con.execute("SELECT count(*) FROM chain_outputs WHERE chain = $chain", {"chain": chain}).fetchall()
    return bool(row and row[0][0])


def read_flows(lake: LakeLike, chain: str) -> pa.Table:
    """Flow edges of ``chain``: txid, src, dst, amount, asset, time (µs since the epoch, UTC)."""
    con = lake_sql(lake)
    sql = _UTXO_SQL if is_utxo(lake, chain) else _ACCOUNT_SQL
    table = con.sql(sql, params={"chain": chain}).to_arrow_table()
    return table.filter(pa.compute.is_valid(table["amount"]))


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
