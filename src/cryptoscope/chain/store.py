"""The chain analytics' side of the lake: read what clustering and tracing need, write their results."""

from __future__ import annotations

import datetime as dt

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cryptoscope.chain.backend import LakeLike, Source, backend_of, epoch_us, lake_table
from cryptoscope.chain.clustering import ClusterConfig, Clustering, cluster_tables
from cryptoscope.chain.flows import is_utxo, read_flows
from cryptoscope.lake import Lake
from cryptoscope.schema import ILLICIT_CATEGORIES


def exchange_addresses(source: Source, chain: str) -> tuple[set[str], set[str]]:
    """(hot wallets and other exchanges' labelled addresses, our own deposit addresses) on ``chain``."""
    backend = backend_of(source)
    transfers = lake_table("chain_transfers")
    own = backend.to_pyarrow(transfers.filter(transfers.chain == chain).select(
        address=transfers.exchange_address, direction=transfers.direction).distinct())
    labels = lake_table("address_labels")
    labelled = backend.to_pyarrow(labels.filter(labels.chain == chain, labels.category == "exchange")
                                  .select("address").distinct())
    by_direction = list(zip(own["address"].to_pylist(), own["direction"].to_pylist(), strict=True))
    hot = {str(a) for a, d in by_direction if d == "withdrawal"} | set(labelled["address"].to_pylist())
    deposits = {str(a) for a, d in by_direction if d == "deposit"} - hot
    return hot, deposits


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


def cluster_lake(source: Source, chain: str, config: ClusterConfig | None = None) -> Clustering:
    """Cluster every address of ``chain`` in the lake with every heuristic that applies to it."""
    backend = backend_of(source)
    hot, deposits = exchange_addresses(backend, chain)
    flows = read_flows(backend, chain)
    if is_utxo(backend, chain):
        ins, outs = lake_table("chain_inputs"), lake_table("chain_outputs")
        inputs = backend.to_pyarrow(ins.filter(ins.chain == chain).select("txid", "address", "value"))
        outputs = backend.to_pyarrow(outs.filter(outs.chain == chain).select(
            "txid", "output_index", "event_time", "value", "script_type", "address"))
        return cluster_tables(chain, inputs=inputs, outputs=outputs, flows=flows, exchange_addresses=hot,
                              deposit_addresses=deposits, config=config)
    return cluster_tables(chain, flows=flows, exchange_addresses=hot, deposit_addresses=deposits, config=config)


def write_clusters(lake: LakeLike, clustering: Clustering) -> int:
    """Replace ``clustering.chain``'s rows of `address_clusters` (other chains' rows stay); rows written."""
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    backend = backend_of(lake)
    seen = backend.to_pyarrow(first_seen(clustering.chain, utxo=is_utxo(backend, clustering.chain)))
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
    clusters = lake_table("address_clusters")
    others = backend.to_pyarrow(clusters.filter(clusters.chain != clustering.chain))
    with lake.transaction() as tx:
        tx.replace("address_clusters")
        tx.append("address_clusters", others, dedupe=False)
        tx.append("address_clusters", out, dedupe=False)
    return n


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
