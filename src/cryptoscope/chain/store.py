"""The chain analytics' side of the lake: read what clustering and tracing need, write their results."""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cryptoscope.chain.clustering import ClusterConfig, Clustering, cluster_tables
from cryptoscope.chain.flows import is_utxo, lake_sql, read_flows
from cryptoscope.lake import Lake
from cryptoscope.schema import ILLICIT_CATEGORIES

LakeLike = Lake | str | os.PathLike[str]

_OWN_SQL = """SELECT DISTINCT exchange_address AS address, direction FROM chain_transfers WHERE chain = $chain"""
_FIRST_SEEN_UTXO = """SELECT address, min(event_time) AS first_seen FROM (
  SELECT address, event_time FROM chain_outputs WHERE chain = $chain AND address IS NOT NULL
  UNION ALL SELECT address, event_time FROM chain_inputs WHERE chain = $chain AND address IS NOT NULL)
GROUP BY address"""
_FIRST_SEEN_ACCOUNT = """SELECT address, min(event_time) AS first_seen FROM (
  SELECT from_address AS address, event_time FROM eth_transactions WHERE chain = $chain
  UNION ALL SELECT to_address, event_time FROM eth_transactions WHERE chain = $chain AND to_address IS NOT NULL
  UNION ALL SELECT from_address, event_time FROM eth_token_transfers WHERE chain = $chain
  UNION ALL SELECT to_address, event_time FROM eth_token_transfers WHERE chain = $chain)
GROUP BY address"""


def exchange_addresses(lake: LakeLike, chain: str) -> tuple[set[str], set[str]]:
    """(hot wallets and other exchanges' labelled addresses, our own deposit addresses) on ``chain``."""
    con = lake_sql(lake)
    own = con.sql(_OWN_SQL, params={"chain": chain}).fetchall()
    labelled = con.sql("SELECT DISTINCT address FROM address_labels WHERE chain = $chain AND category = 'exchange'",
                       params={"chain": chain}).fetchall()
    hot = {str(a) for a, d in own if d == "withdrawal"} | {str(a) for (a,) in labelled}
    deposits = {str(a) for a, d in own if d == "deposit"} - hot
    return hot, deposits


def cluster_lake(lake: LakeLike, chain: str, config: ClusterConfig | None = None) -> Clustering:
    """Cluster every address of ``chain`` in the lake with every heuristic that applies to it."""
    con = lake_sql(lake)
    hot, deposits = exchange_addresses(lake, chain)
    flows = read_flows(lake, chain)
    if is_utxo(lake, chain):
        inputs = con.sql("SELECT txid, address, value FROM chain_inputs WHERE chain = $chain",
                         params={"chain": chain}).to_arrow_table()
        outputs = con.sql("SELECT txid, output_index, event_time, value, script_type, address FROM chain_outputs "
                          "WHERE chain = $chain", params={"chain": chain}).to_arrow_table()
        return cluster_tables(chain, inputs=inputs, outputs=outputs, flows=flows, exchange_addresses=hot,
                              deposit_addresses=deposits, config=config)
    return cluster_tables(chain, flows=flows, exchange_addresses=hot, deposit_addresses=deposits, config=config)


def write_clusters(lake: LakeLike, clustering: Clustering) -> int:
    """Replace ``clustering.chain``'s rows of `address_clusters` (other chains' rows stay); rows written."""
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    con = lake_sql(lake)
    sql = _FIRST_SEEN_UTXO if is_utxo(lake, clustering.chain) else _FIRST_SEEN_ACCOUNT
    seen = con.sql(sql, params={"chain": clustering.chain}).to_arrow_table()
    rows = clustering.to_arrow()
    at = pc.index_in(rows["address"], value_set=seen["address"]).to_numpy(zero_copy_only=False)
    first = seen["first_seen"].to_numpy().astype("datetime64[us]")
    epoch = np.datetime64(0, "us")
    times = np.where(np.isnan(at), epoch, first[np.nan_to_num(at).astype(np.int64)]) if len(first) else \
        np.full(len(at), epoch)
    now = dt.datetime.now(dt.UTC)
    n = rows.num_rows
    out = rows.append_column("chain", pa.array(np.full(n, clustering.chain), pa.string())) \
        .append_column("event_time", pa.array(times, pa.timestamp("us", tz="UTC"))) \
        .append_column("computed_at", pa.array(np.full(n, now), pa.timestamp("us", tz="UTC")))
    others = con.sql("SELECT * FROM address_clusters WHERE chain <> $chain",
                     params={"chain": clustering.chain}).to_arrow_table()
    with lake.transaction() as tx:
        tx.replace("address_clusters")
        tx.append("address_clusters", others, dedupe=False)
        tx.append("address_clusters", out, dedupe=False)
    return n


def stored_cluster_of(lake: LakeLike, address: str, chain: str | None = None) -> tuple[str, str, list[str]] | None:
    """(chain, cluster id, members) of ``address`` from `address_clusters`; None when it was never clustered."""
    con = lake_sql(lake)
    hit = con.sql("SELECT chain, cluster FROM address_clusters WHERE address = $a AND ($c IS NULL OR chain = $c) "
                  "LIMIT 1", params={"a": address, "c": chain}).fetchall()
    if not hit:
        return None
    found_chain, cluster = str(hit[0][0]), str(hit[0][1])
    members = con.sql("SELECT address FROM address_clusters WHERE chain = $c AND cluster = $k ORDER BY address",
                      params={"c": found_chain, "k": cluster}).fetchall()
    return found_chain, cluster, [str(m[0]) for m in members]


def stored_clusters(lake: LakeLike, chain: str) -> dict[str, str]:
    """address -> cluster id for the multi-address clusters of ``chain`` (singletons map to themselves anyway)."""
    con = lake_sql(lake)
    rows = con.sql("SELECT address, cluster FROM address_clusters WHERE chain = $c AND cluster_size > 1",
                   params={"c": chain}).to_arrow_table()
    return dict(zip(rows["address"].to_pylist(), rows["cluster"].to_pylist(), strict=True))


def read_labels(lake: LakeLike, chain: str) -> pa.Table:
    """Labels of ``chain``: address, category, source, name, published (µs); illicit and exchange ones."""
    con = lake_sql(lake)
    cats = ", ".join(f"'{c}'" for c in (*ILLICIT_CATEGORIES, "exchange"))
    return con.sql(f"SELECT address, category, source, name, epoch_us(event_time) AS published FROM address_labels "
                   f"WHERE chain = $c AND category IN ({cats})", params={"c": chain}).to_arrow_table()
