"""Raw blocks from a node, several requests in flight, handed on in height order.

A node serves a block in a few milliseconds but a round trip to a remote one takes tens: keeping ``workers``
requests in flight hides the latency, and Bitcoin Core answers them on its own threads (``rpcthreads``). Blocks
come back in any order and are handed on in height order, at most ``2 × workers`` ahead of the consumer, so a
slow consumer (parsing, the lake write) never makes blocks pile up in memory.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice

from cryptoscope.sources.chain.bitcoin.node import BitcoinNode


def fetch_blocks(node: BitcoinNode, wanted: Sequence[tuple[int, str]], workers: int = 4
                 ) -> Iterator[tuple[int, str, bytes]]:
    """(height, hash, serialized block) for each (height, hash) of ``wanted``, in that order."""
    queue = iter(wanted)
    pending: deque[tuple[int, str, Future[bytes]]] = deque()
    pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="getblock")
    try:
        for height, block_hash in islice(queue, 2 * max(1, workers)):
            pending.append((height, block_hash, pool.submit(node.raw_block, block_hash, height)))
        while pending:
            height, block_hash, future = pending.popleft()
            raw = future.result()
            for h, b in islice(queue, 1):
                pending.append((h, b, pool.submit(node.raw_block, b, h)))
            yield height, block_hash, raw
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
