"""Bitcoin Core's JSON-RPC, the few calls an ingest needs, typed: tip, hashes by height, raw blocks, headers.

Only standard calls are used (``getblockcount``, ``getbestblockhash``, ``getblockhash``, ``getblock`` with
verbosity 0, ``getblockheader``), so any Bitcoin Core from 0.12 on, or a provider speaking its API, will do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptoscope.sources.chain.errors import NodeError
from cryptoscope.sources.chain.rpc.client import RpcClient

HASHES_PER_BATCH = 1000  # getblockhash calls sent in one JSON-RPC batch


class BitcoinNode:
    """One Bitcoin node, through an `RpcClient` (which retries what may pass)."""

    def __init__(self, client: RpcClient) -> None:
        self.client = client

    @property
    def url(self) -> str:
        """The node's URL without its password, for messages."""
        return self.client.node.shown

    def block_count(self) -> int:
        """Height of the tip of the node's best chain."""
        return self._int(self.client.call("getblockcount"), "getblockcount")

    def best_block_hash(self) -> str:
        return self._hash(self.client.call("getbestblockhash"), "getbestblockhash", None)

    def block_hashes(self, heights: Sequence[int]) -> list[str]:
        """The best chain's block hash at each height, asked in batches."""
        out: list[str] = []
        for i in range(0, len(heights), HASHES_PER_BATCH):
            chunk = heights[i:i + HASHES_PER_BATCH]
            answers = self.client.batch([("getblockhash", [h]) for h in chunk], height=chunk[0], heights=chunk)
            out += [self._hash(a, "getblockhash", h) for a, h in zip(answers, chunk, strict=True)]
        return out

    def tip_and_hashes(self, heights: Sequence[int]) -> tuple[int, list[str]]:
        """The tip's height and the best chain's hash at each height, the tip asked in the first batch of hashes:
        one round trip fewer than `block_count` then `block_hashes`, for a range whose end is known. A height
        beyond the tip fails with the node's error (-8), as `block_hashes` does."""
        first = list(heights[:HASHES_PER_BATCH])
        answers = self.client.batch([("getblockcount", []), *(("getblockhash", [h]) for h in first)],
                                    heights=[first[0] if first else 0, *first])
        tip = self._int(answers[0], "getblockcount")
        hashes = [self._hash(a, "getblockhash", h) for a, h in zip(answers[1:], first, strict=True)]
        return tip, hashes + self.block_hashes(heights[HASHES_PER_BATCH:])

    def raw_block(self, block_hash: str, height: int | None = None) -> bytes:
        """The serialized block (``getblock <hash> 0``)."""
        return self._bytes(self.client.call("getblock", [block_hash, 0], height=height, raw_hex=True), height)

    def raw_blocks(self, wanted: Sequence[tuple[int, str]]) -> list[bytes]:
        """Several serialized blocks, (height, hash) each, asked in one JSON-RPC batch."""
        if len(wanted) == 1:
            return [self.raw_block(wanted[0][1], wanted[0][0])]
        answers = self.client.batch([("getblock", [x, 0]) for _, x in wanted], heights=[h for h, _ in wanted],
                                    raw_hex=True)
        return [self._bytes(a, h) for a, (h, _) in zip(answers, wanted, strict=True)]

    def _bytes(self, answer: Any, height: int | None) -> bytes:
        """A raw block from its answer: bytes already (long hex, `hexbody`), or hex to decode."""
        if isinstance(answer, bytes):
            return answer
        try:
            return bytes.fromhex(answer) if isinstance(answer, str) else b""
        except ValueError:
            raise NodeError("getblock answered invalid hex", url=self.url, call="getblock", height=height) from None

    def in_best_chain(self, block_hash: str, height: int | None = None) -> bool:
        """Whether the block is on the node's best chain (``getblockheader``: confirmations -1 when it left it,
        and unknown blocks are not on it either)."""
        try:
            header: Any = self.client.call("getblockheader", [block_hash, True], height=height)
        except NodeError as err:
            if err.code == -5:  # block not found
                return False
            raise
        return isinstance(header, dict) and int(header.get("confirmations", -1)) >= 0

    def _int(self, value: Any, call: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise NodeError(f"expected a height, got {str(value)[:60]!r}", url=self.url, call=call)
        return value

    def _hash(self, value: Any, call: str, height: int | None) -> str:
        if not isinstance(value, str) or len(value) != 64:
            raise NodeError(f"expected a block hash, got {str(value)[:80]!r}", url=self.url, call=call, height=height)
        return value.lower()
