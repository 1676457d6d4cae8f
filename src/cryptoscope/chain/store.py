"""The chain analytics' side of the lake: read what clustering and tracing need, write their results."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cryptoscope.chain.backend import LakeLike, Source, backend_of, epoch_us, lake_table
from cryptoscope.chain.clustering import ClusterConfig, Clustering, cluster_on_engine, cluster_tables
from cryptoscope.chain.flows import account_flows, is_utxo, utxo_flows
from cryptoscope.lake import Lake
from cryptoscope.schema import ILLICIT_CATEGORIES

if TYPE_CHECKING:
    from ibis.backends import BaseBackend


def exchange_tables(chain: str) -> tuple[ir.Table, ir.Table]:
    """(hot wallets and other exchanges' labelled addresses, our own deposit addresses) on ``chain``, as
    one-column ``address`` expressions: the clustering keeps them on the engine, `exchange_addresses` reads them."""
    transfers = lake_table("chain_transfers")
    transfers = transfers.filter(transfers.chain == chain)
    labels = lake_table("address_labels")
    labelled = labels.filter(labels.chain == chain, labels.category == "exchange").select("address")
    withdrawals = transfers.filter(transfers.direction == "withdrawal")
    hot = withdrawals.select(address=withdrawals.exchange_address).union(labelled, distinct=True)
    deposits = transfers.filter(transfers.direction == "deposit")
    return hot, deposits.select(address=deposits.exchange_address).difference(hot, distinct=True)


def exchange_addresses(source: Source, chain: str) -> tuple[set[str], set[str]]:
    """(hot wallets and other exchanges' labelled addresses, our own deposit addresses) on ``chain``."""
    backend = backend_of(source)
    hot, deposits = (backend.to_pyarrow(t)["address"].to_pylist() for t in exchange_tables(chain))
    return {str(a) for a in hot}, {str(a) for a in deposits}


def first_seen(chain: str, *, utxo: bool) -> ir.Table:
    """address, first_seen: when each address of ``chain`` first appears in any transaction."""
    if utxo:
        parts = [lake_table(t) for t in ("chain_outputs", "chain_inputs")]
        seen = [p.filter(p.chain == chain, p.address.notnull()).select("address", "event_time") for p in parts]
    else:
        tx, tok = lake_table("eth_transactions"), lake_table("eth_token_transfers")
        tx, tok = tx.filter(tx.chain == chain), tok.filter(tok.chain == chain)
        seen = [tx.select(address=tx.from_address, event_time=tx.event_time),
                tx.filter(tx.to_address.notnull()).select(address=tx.to_address, event_time=tx.event_time),
                tok.select(address=tok.from_address, event_time=tok.event_time),
                tok.select(address=tok.to_address, event_time=tok.event_time)]
    every = seen[0].union(*seen[1:], distinct=False)
    return every.group_by("address").aggregate(first_seen=every.event_time.min())


def clustering_inputs(chain: str, *, utxo: bool) -> tuple[ir.Table | None, ir.Table | None, ir.Table]:
    """(inputs, outputs, flows) of ``chain`` as the clustering takes them, over the lake; no inputs and outputs
    on an account chain. The flows are `flows.read_flows`'s edges (an unparsable amount is no payment)."""
    edges = utxo_flows(chain) if utxo else account_flows(chain)
    flows = edges.filter(edges.amount.notnull()).select("src", "dst")
    if not utxo:
        return None, None, flows
    ins, outs = lake_table("chain_inputs"), lake_table("chain_outputs")
    return (ins.filter(ins.chain == chain).select("txid", "address", "value"),
            outs.filter(outs.chain == chain).select("txid", "output_index", "event_time", "value", "script_type",
                                                    "address"),
            flows)


def cluster_lake(source: Source, chain: str, config: ClusterConfig | None = None, *,
                 on_engine: bool = False) -> Clustering:
    """Cluster every address of ``chain`` in the lake with every heuristic that applies to it.

    ``on_engine``: on ``source``'s engine (`clustering.cluster_on_engine`): only the result, one row per
    address, comes to this process, with each address's first appearance for `write_clusters`. Otherwise
    the chain's transactions are read into memory and clustered there (`clustering.cluster_tables`); the
    two give the same rows (tests/chain/test_clustering.py).
    """
    backend = backend_of(source)
    utxo = is_utxo(backend, chain)
    inputs, outputs, flows = clustering_inputs(chain, utxo=utxo)
    if on_engine:
        hot, deposits = exchange_tables(chain)
        return cluster_on_engine(backend, chain, inputs=inputs, outputs=outputs, flows=flows, exchange=hot,
                                 deposits=deposits, first_seen=first_seen(chain, utxo=utxo), config=config)
    hot_set, deposit_set = exchange_addresses(backend, chain)
    return cluster_tables(chain, inputs=None if inputs is None else backend.to_pyarrow(inputs),
                          outputs=None if outputs is None else backend.to_pyarrow(outputs),
                          flows=backend.to_pyarrow(flows), exchange_addresses=hot_set, deposit_addresses=deposit_set,
                          config=config)


def write_clusters(lake: LakeLike, *clusterings: Clustering, source: Source | None = None,
                   keep_others: bool = True) -> int:
    """Replace the rows of ``clusterings``' chains in `address_clusters`; rows written.

    ``keep_others``: other chains' rows stay (read through ``source``, the lake's DuckDB by default);
    without it the table holds exactly ``clusterings``. Every column but ``computed_at`` is a function
    of the lake's data, so a re-run on the same data writes the same rows.
    """
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    backend = backend_of(lake if source is None else source)
    now = dt.datetime.now(dt.UTC)
    parts = [_cluster_rows(backend, c, now) for c in clusterings]
    if keep_others:
        clusters = lake_table("address_clusters")
        parts.insert(0, backend.to_pyarrow(clusters.filter(~clusters.chain.isin([c.chain for c in clusterings]))))
    with lake.transaction() as tx:
        tx.replace("address_clusters")
        for part in parts:
            tx.append("address_clusters", part, dedupe=False)
    return sum(len(c.addresses) for c in clusterings)


def _cluster_rows(backend: BaseBackend, clustering: Clustering, now: dt.datetime) -> pa.Table:
    """``clustering``'s rows of `address_clusters`; first appearances from the clustering, else read here."""
    rows = clustering.to_arrow()
    n = rows.num_rows
    epoch = np.datetime64(0, "us")
    if clustering.first_seen is not None:
        known = clustering.first_seen.cast(pa.timestamp("us", tz="UTC"))
        times = pc.fill_null(known, pa.scalar(0, pa.timestamp("us", tz="UTC")))
    else:
        seen = backend.to_pyarrow(first_seen(clustering.chain, utxo=is_utxo(backend, clustering.chain)))
        at = pc.index_in(rows["address"], value_set=seen["address"]).to_numpy(zero_copy_only=False)
        first = seen["first_seen"].to_numpy().astype("datetime64[us]")
        times = pa.array(np.where(np.isnan(at), epoch, first[np.nan_to_num(at).astype(np.int64)]) if len(first)
                         else np.full(n, epoch), pa.timestamp("us", tz="UTC"))
    return rows.append_column("chain", pa.array(np.full(n, clustering.chain), pa.string())) \
        .append_column("event_time", times) \
        .append_column("computed_at", pa.array(np.full(n, now), pa.timestamp("us", tz="UTC")))


def stored_cluster_of(source: Source, address: str, chain: str | None = None) -> tuple[str, str, list[str]] | None:
    """(chain, cluster id, members) of ``address`` from `address_clusters`; None when it was never clustered."""
    backend, clusters = backend_of(source), lake_table("address_clusters")
    hit = clusters.filter(clusters.address == address)
    if chain is not None:
        hit = hit.filter(hit.chain == chain)
    first = backend.to_pyarrow(hit.select("chain", "cluster").limit(1)).to_pylist()
    if not first:
        return None
    found_chain, cluster = str(first[0]["chain"]), str(first[0]["cluster"])
    members = clusters.filter(clusters.chain == found_chain, clusters.cluster == cluster).select("address")
    return found_chain, cluster, [str(m) for m in backend.to_pyarrow(members.order_by("address"))["address"]]


def stored_clusters(source: Source, chain: str) -> dict[str, str]:
    """address -> cluster id for the multi-address clusters of ``chain`` (singletons map to themselves anyway)."""
    clusters = lake_table("address_clusters")
    rows = backend_of(source).to_pyarrow(clusters.filter(clusters.chain == chain, clusters.cluster_size > 1)
                                         .select("address", "cluster"))
    return dict(zip(rows["address"].to_pylist(), rows["cluster"].to_pylist(), strict=True))


def read_labels(source: Source, chain: str) -> pa.Table:
    """Labels of ``chain``: address, category, source, name, published (µs); illicit and exchange ones."""
    labels = lake_table("address_labels")
    wanted = labels.filter(labels.chain == chain, labels.category.isin([*ILLICIT_CATEGORIES, "exchange"]))
    rows = backend_of(source).to_pyarrow(wanted.select("address", "category", "source", "name",
                                                       published=wanted.event_time))
    return rows.set_column(rows.schema.get_field_index("published"), "published", epoch_us(rows["published"]))
