"""Raw blocks from a node, several requests in flight, handed on in height order.

A node serves a block in a few milliseconds but a round trip to a remote one takes tens: keeping ``workers``
requests in flight hides the latency, and Bitcoin Core answers them on its own threads (``rpcthreads``). Early
blocks are a few hundred bytes, so one request per block would be all round trips: blocks are asked in JSON-RPC
batches sized from the blocks seen so far to about `TARGET_BYTES` each (one block per request once blocks are that
large): a first small batch alone, then, its sizes known, the others (a range of early blocks is then two
requests, not a dozen of four blocks each sent before any size was known). Answers are handed on in height order,
at most ``2 × workers`` requests ahead of the consumer, so a slow consumer (parsing, the lake write) never makes
blocks pile up in memory. A few blocks (a follower's new block, a lone block) are one request, sent from the
caller's thread: no threads to start for it. The threads stay for the next call (`_pool`), each with its
keep-alive connection to the node.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from cryptoscope.fsio import drop
from cryptoscope.sources.chain.bitcoin.node import BitcoinNode

TARGET_BYTES = 2 << 20  # block bytes per request
MAX_BATCH = 1000  # calls in one JSON-RPC batch, as for getblockhash (`node.HASHES_PER_BATCH`)
FIRST_BATCH = 4  # before any block size is known
_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    """The process's ``workers`` fetch threads, kept between calls.

    Why kept: `RpcClient` keeps one keep-alive connection per thread, so threads that stay ask the next range
    without a new TCP connection (a TLS handshake, for a provider); and a range of a few requests spent more
    starting threads than waiting for the node. Fetches never wait on other fetches, so callers share them.
    """
    with _pools_lock:
        if workers not in _pools:
            _pools[workers] = ThreadPoolExecutor(workers, thread_name_prefix="getblock")
        return _pools[workers]


def _forget_pools_in_child() -> None:
    global _pools_lock
    _pools.clear()
    _pools_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_pools_in_child)


def fetch_blocks(node: BitcoinNode, wanted: Sequence[tuple[int, str]], workers: int = 4
                 ) -> Iterator[tuple[int, str, bytes]]:
    """(height, hash, serialized block) for each (height, hash) of ``wanted``, in that order."""
    if len(wanted) <= FIRST_BATCH:  # one request (a follower's new block, a lone block): no threads to start
        yield from ((h, x, raw) for (h, x), raw in zip(wanted, node.raw_blocks(wanted), strict=True))
        return
    workers = max(1, workers)
    pending: deque[tuple[Sequence[tuple[int, str]], Future[list[bytes]]]] = deque()
    seen_blocks = seen_bytes = 0
    at = 0
    pool = _pool(workers)
    try:
        while at < len(wanted) or pending:
            while at < len(wanted) and len(pending) < (2 * workers if seen_blocks else 1):
                size = FIRST_BATCH if not seen_blocks else TARGET_BYTES * seen_blocks // max(seen_bytes, 1)
                group = wanted[at:at + max(1, min(MAX_BATCH, size))]
                pending.append((group, pool.submit(node.raw_blocks, group)))
                at += len(group)
            group, future = pending.popleft()
            for (height, block_hash), raw in zip(group, future.result(), strict=True):
                seen_blocks, seen_bytes = seen_blocks + 1, seen_bytes + len(raw)
                yield height, block_hash, raw
    finally:  # stopped early (an error, a bad block): requests not sent are dropped, those under way end first
        drop(future for _, future in pending)
