"""Ethereum from a node's JSON-RPC into the lake: blocks with their transactions, receipts, Transfer logs.

For each chunk of blocks (`CHUNK_BLOCKS`) three kinds of batched JSON-RPC requests go out, several in flight:
``eth_getBlockByNumber`` with full transactions, ``eth_getTransactionReceipt`` for each transaction (its status;
the universal call, where ``eth_getBlockReceipts`` is not), and ``eth_getLogs`` for the ERC-20 ``Transfer`` events
(topic 0) of every `LOG_BLOCKS` blocks. The answers become the same records as saved files (`records.py`) and go through
the same table building and checks (`ingest.build_tables`); each chunk is one lake transaction. Blocks already
in ``eth_transactions`` are skipped, so an interrupted ingest resumes where its last commit ended (a block without
transactions leaves no row, so it is asked again: it costs one small answer).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cryptoscope.lake import Lake
from cryptoscope.lake.sql import local_duckdb, parquet_source
from cryptoscope.sources.chain.errors import ChainDataError, NodeError
from cryptoscope.sources.chain.ethereum.ingest import EthereumIngestResult, build_tables, lake_times
from cryptoscope.sources.chain.ethereum.records import Record, rpc_records
from cryptoscope.sources.chain.ethereum.transfers import TRANSFER_TOPIC
from cryptoscope.sources.chain.rpc.client import Call, RpcClient

CHUNK_BLOCKS = 100  # blocks per lake transaction
BATCH = 20  # calls per JSON-RPC batch (providers cap batches; a block with full transactions is large)
LOG_BLOCKS = 10  # blocks per eth_getLogs: providers cap its answer (10,000 logs at Infura); a busy block has 500
#: (blocks done, blocks to do, bytes of answers so far)
EthProgress = Callable[[int, int, int], None]


def ingest_ethereum_node(lake: Lake | str | os.PathLike[str], client: RpcClient, lo: int, hi: int | None = None, *,
                         chain: str = "ethereum", workers: int = 4, progress: EthProgress | None = None
                         ) -> EthereumIngestResult:
    """Blocks ``lo`` to ``hi`` (default: the node's latest) into eth_transactions and eth_token_transfers."""
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    tip = _quantity(client.call("eth_blockNumber"), client, "eth_blockNumber", None)
    hi = tip if hi is None else hi
    if hi > tip:
        raise NodeError(f"--to {hi:,} is beyond the node's latest block {tip:,}", url=client.node.shown,
                        call="eth_blockNumber")
    done = _lake_blocks(lake, chain, lo, hi)
    numbers = [n for n in range(lo, hi + 1) if n not in done]
    result = EthereumIngestResult()
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="eth-rpc") as pool:
        for start in range(0, len(numbers), CHUNK_BLOCKS):
            chunk = numbers[start:start + CHUNK_BLOCKS]
            records = _records(client, pool, chunk)
            for r in records:
                result.records[r.kind] = result.records.get(r.kind, 0) + 1
            tables = _tables(client, records, chain, lambda blocks: lake_times(lake, chain, blocks))
            with lake.transaction() as tx:
                for name, rows in tables.items():
                    result.rows_read[name] = result.rows_read.get(name, 0) + rows.num_rows
                    result.rows_added[name] = result.rows_added.get(name, 0) + tx.append(name, rows)
            if progress:
                progress(start + len(chunk), len(numbers), client.received)
    return result


def _records(client: RpcClient, pool: ThreadPoolExecutor, numbers: Sequence[int]) -> list[Record]:
    """Blocks (with transactions), receipts (statuses only: logs come from eth_getLogs) and Transfer logs."""
    calls = [("eth_getBlockByNumber", [hex(n), True]) for n in numbers]
    blocks = _batched(client, pool, calls, numbers)
    records: list[Record] = []
    txs: list[tuple[str, int]] = []
    for n, block in zip(numbers, blocks, strict=True):
        if block is None:
            raise NodeError("the node has no such block (null answer)", url=client.node.shown,
                            call="eth_getBlockByNumber", height=n)
        found = _read(client, block, f"eth_getBlockByNumber({hex(n)})", n)
        records += found
        txs += [(str(r.data.get("hash")), n) for r in found if r.kind == "transaction"]
    receipts = _batched(client, pool, [("eth_getTransactionReceipt", [h]) for h, _ in txs], [n for _, n in txs])
    for (tx_hash, n), receipt in zip(txs, receipts, strict=True):
        if receipt is None:
            raise NodeError(f"the node has no receipt for transaction {tx_hash} (a node that prunes receipts cannot "
                            "give transaction statuses)", url=client.node.shown, call="eth_getTransactionReceipt",
                            height=n)
        records += [r for r in _read(client, receipt, f"eth_getTransactionReceipt({tx_hash})", n)
                    if r.kind == "receipt"]
    spans = [(a, min(a + LOG_BLOCKS - 1, last)) for first, last in _runs(numbers)
             for a in range(first, last + 1, LOG_BLOCKS)]
    calls = [("eth_getLogs", [{"fromBlock": hex(a), "toBlock": hex(b), "topics": [TRANSFER_TOPIC]}]) for a, b in spans]
    for (a, b), logs in zip(spans, _batched(client, pool, calls, [a for a, _ in spans]), strict=True):
        records += _read(client, logs or [], f"eth_getLogs({hex(a)}..{hex(b)})", a)
    return records


def _batched(client: RpcClient, pool: ThreadPoolExecutor, calls: Sequence[Call], heights: Sequence[int]
             ) -> list[Any]:
    """The answers to ``calls``, sent as batches of `BATCH`, several at once."""
    parts = [pool.submit(client.batch, calls[i:i + BATCH], height=heights[i]) for i in range(0, len(calls), BATCH)]
    return [answer for part in parts for answer in part.result()]


def _read(client: RpcClient, result: Any, label: str, height: int) -> list[Record]:
    try:
        return list(rpc_records(result, label, "result"))
    except ChainDataError as err:
        raise NodeError(f"{err.reason} (at {err.field})", url=client.node.shown, call=label, height=height) from None


def _tables(client: RpcClient, records: list[Record], chain: str,
            times: Callable[[set[int]], dict[int, int]]) -> dict[str, Any]:
    try:
        return build_tables(records, chain, times)
    except ChainDataError as err:
        where = f" (at {err.field})" if err.field else ""
        raise NodeError(f"{err.reason}{where}", url=client.node.shown, call=err.file) from None


def _runs(numbers: Sequence[int]) -> Iterator[tuple[int, int]]:
    """Contiguous runs (first, last) of sorted block numbers, for eth_getLogs's block range."""
    first = prev = None
    for n in numbers:
        if prev is not None and n == prev + 1:
            prev = n
            continue
        if first is not None and prev is not None:
            yield first, prev
        first = prev = n
    if first is not None and prev is not None:
        yield first, prev


def _quantity(value: Any, client: RpcClient, call: str, height: int | None) -> int:
    try:
        return int(value, 16)
    except (TypeError, ValueError):
        raise NodeError(f"expected a hex quantity, got {str(value)[:60]!r}", url=client.node.shown, call=call,
                        height=height) from None


def _lake_blocks(lake: Lake, chain: str, lo: int, hi: int) -> set[int]:
    files = lake.file_paths("eth_transactions")
    if not files:
        return set()
    with local_duckdb() as con:
        rows = con.sql(f"SELECT DISTINCT block_number FROM {parquet_source(files)} WHERE chain = ? AND "
                           "block_number BETWEEN ? AND ?", params=[chain, lo, hi]).fetchall()
    return {int(n) for (n,) in rows}
