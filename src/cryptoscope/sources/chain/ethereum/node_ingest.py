"""Ethereum from a node's JSON-RPC into the lake: blocks with their transactions, receipts, Transfer logs.

For each chunk of blocks (`CHUNK_BLOCKS`) three kinds of batched JSON-RPC requests go out, several in flight:
``eth_getBlockByNumber`` with full transactions, ``eth_getTransactionReceipt`` for each transaction (its status;
the universal call, where ``eth_getBlockReceipts`` is not), and ``eth_getLogs`` for the ERC-20 ``Transfer`` events
(topic 0) of every `LOG_BLOCKS` blocks. The answers become the same records as saved files (`records.py`) and go through
the same table building and checks (`ingest.build_tables`); each chunk is one lake transaction. Blocks already
in ``eth_transactions`` are skipped, so an interrupted ingest resumes where its last commit ended (a block without
transactions leaves no row, so it is asked again: it costs one small answer).

The answers of a chunk must be of one chain: each block's parent is the block loaded (or checked) below it, and
every receipt and log names the hash of the block it came with; else the chain moved while it was read, and the
pass starts again. `follow_ethereum_node` keeps loading as the node's latest block changes (`follow.py`, the loop
the Bitcoin follower runs too); each of its passes first asks the node the hash of the lake's blocks near the
tip, removes those the node no longer has (`reorg.py`) and loads the node's blocks in their place.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cryptoscope.lake import Lake
from cryptoscope.lake.sql import local_duckdb, parquet_source
from cryptoscope.sources.chain.errors import ChainDataError, NodeError
from cryptoscope.sources.chain.ethereum.ingest import EthereumIngestResult, build_tables, lake_times
from cryptoscope.sources.chain.ethereum.records import Record, rpc_records
from cryptoscope.sources.chain.ethereum.reorg import remove_blocks
from cryptoscope.sources.chain.ethereum.transfers import TRANSFER_TOPIC
from cryptoscope.sources.chain.follow import MAX_REORG_DEPTH, follow_tip
from cryptoscope.sources.chain.rpc.client import Call, RpcClient

CHUNK_BLOCKS = 100  # blocks per lake transaction
BATCH = 20  # calls per JSON-RPC batch (providers cap batches; a block with full transactions is large)
LOG_BLOCKS = 10  # blocks per eth_getLogs: providers cap its answer (10,000 logs at Infura); a busy block has 500
MAX_NUMBER = 2**62
#: (blocks done, blocks to do, bytes of answers so far)
EthProgress = Callable[[int, int, int], None]


class _ChainMoved(Exception):
    """The node's chain changed while a pass read it: the pass starts again."""


def ingest_ethereum_node(lake: Lake | str | os.PathLike[str], client: RpcClient, lo: int, hi: int | None = None, *,
                         chain: str = "ethereum", workers: int = 4, progress: EthProgress | None = None,
                         result: EthereumIngestResult | None = None) -> EthereumIngestResult:
    """Blocks ``lo`` to ``hi`` (default: the node's latest) into eth_transactions and eth_token_transfers."""
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    result = result if result is not None else EthereumIngestResult()
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="eth-rpc") as pool:
        _passes(lake, client, pool, lo, hi, chain, progress, result, check=False)
    return result


def follow_ethereum_node(lake: Lake | str | os.PathLike[str], client: RpcClient, lo: int, *, stop: threading.Event,
                         poll: float = 10.0, chain: str = "ethereum", workers: int = 4,
                         progress: EthProgress | None = None,
                         on_pass: Callable[[EthereumIngestResult], None] | None = None,
                         result: EthereumIngestResult | None = None) -> EthereumIngestResult:
    """Load from ``lo`` to the latest block, then look at the latest block every ``poll`` seconds and load what
    comes, re-organisations included, until ``stop`` is set. ``result`` (filled as it goes) is the caller's, to
    read after an interrupt."""
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    result = result if result is not None else EthereumIngestResult()
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="eth-rpc") as pool:

        def load(start: int) -> int | None:
            _passes(lake, client, pool, start, None, chain, progress, result, check=True)
            return result.tip

        def passed() -> None:
            if on_pass:
                on_pass(result)

        follow_tip(lo, stop=stop, poll=poll, tip=lambda: _latest(client), load=load, on_pass=passed)
    return result


def _latest(client: RpcClient) -> tuple[int, str]:
    """The node's latest block, number and hash: a re-organisation may keep the number and change the hash."""
    head = client.call("eth_getBlockByNumber", ["latest", False])
    if not isinstance(head, dict):
        raise NodeError(f"expected the latest block, got {str(head)[:60]!r}", url=client.node.shown,
                        call="eth_getBlockByNumber")
    return _quantity(head.get("number"), client, "eth_getBlockByNumber", None), str(head.get("hash"))


def _passes(lake: Lake, client: RpcClient, pool: ThreadPoolExecutor, lo: int, hi: int | None, chain: str,
            progress: EthProgress | None, result: EthereumIngestResult, *, check: bool) -> None:
    for _ in range(3):
        try:
            _pass(lake, client, pool, lo, hi, chain, progress, result, check)
            return
        except _ChainMoved:
            continue
    raise NodeError("the chain kept changing while its blocks were read; run the ingest again", url=client.node.shown)


def _pass(lake: Lake, client: RpcClient, pool: ThreadPoolExecutor, lo: int, hi: int | None, chain: str,
          progress: EthProgress | None, result: EthereumIngestResult, check: bool) -> None:
    tip = result.tip = _quantity(client.call("eth_blockNumber"), client, "eth_blockNumber", None)
    if hi is not None and hi > tip:
        raise NodeError(f"--to {hi:,} is beyond the node's latest block {tip:,}", url=client.node.shown,
                        call="eth_blockNumber")
    top = tip if hi is None else hi
    known, floor = _drop_stale(lake, client, pool, chain, lo, tip, result) if check else ({}, lo)
    done = _lake_blocks(lake, chain, floor, top)
    numbers = [n for n in range(floor, top + 1) if n not in done]
    for start in range(0, len(numbers), CHUNK_BLOCKS):
        chunk = numbers[start:start + CHUNK_BLOCKS]
        records = _records(client, pool, chunk, known)
        tables = _tables(client, records, chain, lambda blocks: lake_times(lake, chain, blocks))
        with lake.transaction() as tx:
            added = {name: tx.append(name, rows) for name, rows in tables.items()}
        for r in records:  # counted once committed, so a reader of ``result`` finds them in the lake
            result.records[r.kind] = result.records.get(r.kind, 0) + 1
        for name, rows in tables.items():
            result.rows_read[name] = result.rows_read.get(name, 0) + rows.num_rows
            result.rows_added[name] = result.rows_added.get(name, 0) + added[name]
        if progress:
            progress(start + len(chunk), len(numbers), client.received)


def _drop_stale(lake: Lake, client: RpcClient, pool: ThreadPoolExecutor, chain: str, start: int, tip: int,
                result: EthereumIngestResult) -> tuple[dict[int, str], int]:
    """Remove the lake's blocks from ``start`` up (or `MAX_REORG_DEPTH` below the tip, if higher), and below it as
    deep as they go, whose hash is not the node's block hash at their number; return the node's hashes asked and
    the number to load from (below ``start`` when blocks below it were removed)."""
    window = max(start, tip - MAX_REORG_DEPTH)
    present = _lake_blocks(lake, chain, window, MAX_NUMBER)
    if present and max(present) - tip > MAX_REORG_DEPTH:
        raise NodeError(f"the node's latest block is {tip:,}, {max(present) - tip:,} below the lake's highest block "
                        f"{max(present):,}: a node still syncing, or another chain? Nothing was removed",
                        url=client.node.shown, call="eth_blockNumber")
    asked = [n for n in sorted(present) if n <= tip]
    known = dict(zip(asked, _block_hashes(client, pool, asked), strict=True))
    stale = [(n, x) for n in sorted(present) for x in sorted(present[n]) if known.get(n) != x]
    below = _lake_blocks(lake, chain, max(0, window - MAX_REORG_DEPTH - 1), window - 1)
    for n in sorted(below, reverse=True):  # the lake's blocks below the window, down to one the node still has
        known[n] = _block_hashes(client, pool, [n])[0]
        gone = [(n, x) for x in sorted(below[n]) if x != known[n]]
        if not gone:
            break
        if tip - n > MAX_REORG_DEPTH:
            raise NodeError(f"the lake's block {n:,} ({gone[0][1][:18]}…) is not the node's block at that number, "
                            f"{tip - n:,} below its latest block {tip:,}: a re-organisation deeper than "
                            f"{MAX_REORG_DEPTH} blocks, or another chain? Nothing was removed",
                            url=client.node.shown, call="eth_getBlockByNumber", height=n)
        stale = gone + stale
    if stale:
        remove_blocks(lake, chain, [x for _, x in stale])
        result.removed += stale
    return known, min([start, *(n for n, _ in stale)])


def _block_hashes(client: RpcClient, pool: ThreadPoolExecutor, numbers: Sequence[int]) -> list[str]:
    """The node's block hash at each number (``eth_getBlockByNumber`` without transactions, batched)."""
    out = []
    for n, head in zip(numbers, _batched(client, pool, [("eth_getBlockByNumber", [hex(n), False]) for n in numbers],
                                         numbers), strict=True):
        block_hash = head.get("hash") if isinstance(head, dict) else None
        if not isinstance(block_hash, str) or len(block_hash) != 66:
            raise NodeError(f"expected a block with its hash, got {str(head)[:60]!r}", url=client.node.shown,
                            call="eth_getBlockByNumber", height=n)
        out.append(block_hash.lower())
    return out


def _records(client: RpcClient, pool: ThreadPoolExecutor, numbers: Sequence[int], known: dict[int, str]
             ) -> list[Record]:
    """Blocks (with transactions), receipts (statuses only: logs come from eth_getLogs) and Transfer logs, all of
    one chain: each block's parent is ``known`` (number → hash, the blocks this pass checked or loaded, to which
    these are added), and each receipt and log is of the block it came with."""
    calls = [("eth_getBlockByNumber", [hex(n), True]) for n in numbers]
    blocks = _batched(client, pool, calls, numbers)
    records: list[Record] = []
    txs: list[tuple[str, int]] = []
    for n, block in zip(numbers, blocks, strict=True):
        if block is None:
            raise NodeError("the node has no such block (null answer)", url=client.node.shown,
                            call="eth_getBlockByNumber", height=n)
        found = _read(client, block, f"eth_getBlockByNumber({hex(n)})", n)
        _link(known, n, block.get("hash"), block.get("parentHash"))
        records += found
        txs += [(str(r.data.get("hash")), n) for r in found if r.kind == "transaction"]
    receipts = _batched(client, pool, [("eth_getTransactionReceipt", [h]) for h, _ in txs], [n for _, n in txs])
    for (tx_hash, n), receipt in zip(txs, receipts, strict=True):
        if receipt is None:
            if _block_hashes(client, pool, [n])[0] != known[n]:  # its block left the chain: a node forgets it
                raise _ChainMoved
            raise NodeError(f"the node has no receipt for transaction {tx_hash} (a node that prunes receipts cannot "
                            "give transaction statuses)", url=client.node.shown, call="eth_getTransactionReceipt",
                            height=n)
        _same_block(known, n, receipt)
        records += [r for r in _read(client, receipt, f"eth_getTransactionReceipt({tx_hash})", n)
                    if r.kind == "receipt"]
    spans = [(a, min(a + LOG_BLOCKS - 1, last)) for first, last in _runs(numbers)
             for a in range(first, last + 1, LOG_BLOCKS)]
    calls = [("eth_getLogs", [{"fromBlock": hex(a), "toBlock": hex(b), "topics": [TRANSFER_TOPIC]}]) for a, b in spans]
    for (a, b), logs in zip(spans, _batched(client, pool, calls, [a for a, _ in spans]), strict=True):
        found = _read(client, logs or [], f"eth_getLogs({hex(a)}..{hex(b)})", a)
        for log in logs or []:
            if isinstance(log, dict):
                _same_block(known, _quantity(log.get("blockNumber"), client, "eth_getLogs", a), log)
        records += found
    return records


def _link(known: dict[int, str], number: int, block_hash: Any, parent: Any) -> None:
    """Record the block's hash; the chain moved if another block was seen at its number or below it."""
    block_hash, parent = str(block_hash).lower(), str(parent).lower()
    if known.get(number, block_hash) != block_hash or known.get(number - 1, parent) != parent:
        raise _ChainMoved
    known[number] = block_hash


def _same_block(known: dict[int, str], number: int, answer: dict[str, Any]) -> None:
    """A receipt or log names its block's hash: the chain moved if that is not the block read at its number."""
    said = answer.get("blockHash")
    if isinstance(said, str) and number in known and said.lower() != known[number]:
        raise _ChainMoved


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


def _lake_blocks(lake: Lake, chain: str, lo: int, hi: int) -> dict[int, set[str]]:
    """Block number → the hashes of the lake's blocks at that number (one, unless a re-organisation was missed)."""
    files = lake.file_paths("eth_transactions")
    if not files or hi < lo:
        return {}
    with local_duckdb() as con:
        rows = con.sql(f"SELECT DISTINCT block_number, block_hash FROM {parquet_source(files)} WHERE chain = ? AND "
                       "block_number BETWEEN ? AND ?", params=[chain, lo, hi]).fetchall()
    found: dict[int, set[str]] = {}
    for n, block_hash in rows:
        found.setdefault(int(n), set()).add(str(block_hash).lower())
    return found
