"""Address clustering at scale: 10M+ Bitcoin-like addresses, time and peak memory, and whether it is right.

Synthetic but shaped like the chain: entities own 8 addresses each; every transaction spends 1-5
inputs of one entity and pays a round amount to another entity plus non-round change to an
address of its own (same script type); 1 % of transactions are CoinJoins mixing 5 entities into 5
equal outputs. Because the owner of every address is known, the result is checked too: purity
(share of addresses whose cluster's majority owner is their owner) and the largest cluster, with
the CoinJoin guard and, on a smaller world in the same run, without it.

    python benchmarks/chain_cluster.py --entities 1600000 --transactions 8000000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cryptoscope.chain.clustering import ClusterConfig, Clustering, cluster_tables

RESULTS = Path(__file__).parent / "results" / "chain_cluster.json"
PER_ENTITY = 8


def _names(ids: np.ndarray, prefix: str) -> pa.Array:
    """'bc1q<id>'-style strings built in Arrow's C++ kernels, not in a Python loop."""
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(ids), pa.string()), "")


def world(entities: int, transactions: int, seed: int = 7) -> tuple[pa.Table, pa.Table]:
    """(inputs, outputs) tables shaped like the lake's chain_inputs / chain_outputs."""
    rng = np.random.default_rng(seed)
    owner = rng.integers(0, entities, transactions)
    coinjoin = rng.random(transactions) < 0.01
    n_in = np.where(coinjoin, 5, np.minimum(1 + rng.geometric(0.5, transactions) - 1, 5))
    tx_of_input = np.repeat(np.arange(transactions), n_in)
    in_owner = owner[tx_of_input]
    mixed = coinjoin[tx_of_input]
    in_owner[mixed] = rng.integers(0, entities, int(mixed.sum()))  # CoinJoin inputs come from 5 strangers
    in_addr = in_owner * PER_ENTITY + rng.integers(0, PER_ENTITY, len(tx_of_input))
    inputs = pa.table({"txid": _names(tx_of_input, "t"), "address": _names(in_addr, "bc1q"),
                       "value": pa.array(rng.integers(10_000, 10_000_000, len(tx_of_input)))})
    n_out = np.where(coinjoin, 5, 2)
    tx_of_output = np.repeat(np.arange(transactions), n_out)
    slot = np.arange(len(tx_of_output)) - np.repeat(np.cumsum(n_out) - n_out, n_out)
    payee = rng.integers(0, entities, len(tx_of_output))
    own = owner[tx_of_output]
    is_change = (slot == 1) & ~coinjoin[tx_of_output]
    out_owner = np.where(is_change, own, payee)
    out_addr = out_owner * PER_ENTITY + rng.integers(0, PER_ENTITY, len(tx_of_output))
    round_value = rng.integers(1, 500, len(tx_of_output)) * 100_000
    value = np.where(coinjoin[tx_of_output], 10_000_000, np.where(is_change, round_value + 12_345, round_value))
    times = np.datetime64("2025-01-01T00:00:00", "us") + (tx_of_output * 1_000_000).astype("timedelta64[us]")
    outputs = pa.table({"txid": _names(tx_of_output, "t"), "output_index": pa.array(slot.astype(np.int64)),
                        "event_time": pa.array(times, pa.timestamp("us", tz="UTC")), "value": pa.array(value),
                        "script_type": pa.array(np.full(len(slot), "p2wpkh")),
                        "address": _names(out_addr, "bc1q")})
    return inputs, outputs


def quality(clustering: Clustering) -> dict[str, float]:
    """Purity against the known owners, and how the clusters compare with the true entities."""
    owner = pc.cast(pc.utf8_slice_codeunits(clustering.addresses, 4), pa.int64()).to_numpy() // PER_ENTITY
    pair = clustering.component * (owner.max() + 1) + owner
    _, inverse, counts = np.unique(pair, return_inverse=True, return_counts=True)
    majority = np.zeros(len(clustering.sizes), dtype=np.int64)
    np.maximum.at(majority, clustering.component, counts[inverse])
    return {"purity": round(float(majority.sum() / len(owner)), 4),
            "largest_cluster_share": round(float(clustering.sizes.max() / len(owner)), 4),
            "true_entities_seen": len(np.unique(owner)), "clusters": len(clustering.sizes)}


def _cpu() -> float:
    """CPU seconds of this process (all threads): less sensitive than wall time to a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(entities: int, transactions: int, guard: bool) -> dict[str, object]:
    started = time.perf_counter()
    inputs, outputs = world(entities, transactions)
    generated = time.perf_counter() - started
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cfg = ClusterConfig() if guard else ClusterConfig(coinjoin_min_equal_outputs=10**9, coinjoin_max_inputs=10**9)
    started, cpu = time.perf_counter(), _cpu()
    load = os.getloadavg()[0]
    clustering = cluster_tables("bitcoin", inputs=inputs, outputs=outputs, config=cfg)
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    stats = clustering.stats()
    return {"entities": entities, "transactions": transactions, "input_rows": inputs.num_rows,
            "output_rows": outputs.num_rows, "addresses": stats.addresses, "coinjoin_guard": guard,
            "generate_seconds": round(generated, 1), "cluster_seconds": round(seconds, 1),
            "cluster_cpu_seconds": round(cpu, 1), "load_average_at_start": round(load, 1),
            "addresses_per_s": round(stats.addresses / seconds), "peak_rss_mb_before_clustering": round(rss_before),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "links": stats.links, "coinjoins_skipped": stats.coinjoins_skipped,
            "multi_address_clusters": stats.multi_address_clusters, "largest": stats.largest, **quality(clustering)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=1_600_000)
    parser.add_argument("--transactions", type=int, default=8_000_000)
    parser.add_argument("--small-entities", type=int, default=150_000, help="world for the no-guard comparison")
    parser.add_argument("--small-transactions", type=int, default=600_000)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    full = run(args.entities, args.transactions, guard=True)  # first, so its peak RSS is its own
    small_guard = run(args.small_entities, args.small_transactions, guard=True)
    small_no_guard = run(args.small_entities, args.small_transactions, guard=False)
    result = {"command": shlex.join(["python", "benchmarks/chain_cluster.py", *sys.argv[1:]]),
              "machine": f"{platform.machine()}, 2 cores, 24 GiB (shared with other jobs while measured)",
              "full": full, "small_with_coinjoin_guard": small_guard, "small_without_coinjoin_guard": small_no_guard}
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
