"""The shared real blocks by height, a replay node serving them, small blocks for a competing branch, and small
Ethereum chains (blocks with their receipts and Transfer logs) for a replay node to serve and reorganise."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from _chain_data import BITCOIN, BLOCK_FILES

from cryptoscope.sources.chain.bitcoin.node import BitcoinNode
from cryptoscope.sources.chain.ethereum.transfers import TRANSFER_TOPIC
from cryptoscope.sources.chain.replay import BitcoinReplay, ReplayServer
from cryptoscope.sources.chain.replay.bitcoin import blocks_from_files
from cryptoscope.sources.chain.rpc import connect

USER, PASSWORD = "analyst", "s3cret:with@signs"


def shared_blocks() -> dict[int, bytes]:
    """Heights 1-255, 277,647, 540,107 and 574,200 of mainnet, from ``../shared/data/bitcoin``."""
    return blocks_from_files([BITCOIN / name for name in BLOCK_FILES])


@contextmanager
def bitcoin_node(blocks: dict[int, bytes], **client: float
                 ) -> Iterator[tuple[ReplayServer, BitcoinReplay, BitcoinNode]]:
    """A replay node behind basic auth, and a client logged in to it (fast retries unless told otherwise)."""
    replay = BitcoinReplay(blocks)
    with ReplayServer(replay, user=USER, password=PASSWORD) as server:
        options = {"backoff": 0.01, "timeout": 5.0, **client}
        yield server, replay, BitcoinNode(connect(_url(server), **options))


def _url(server: ReplayServer) -> str:
    return f"http://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:{server.port}/"


def branch_block(parent: str, tag: int, time: int) -> bytes:
    """A block on a competing branch: a coinbase paying 50 BTC to ``OP_TRUE``, its merkle root right, no proof of
    work (so it loads only without verification, as a node's stale block would have been loaded)."""
    script = b"\x04" + tag.to_bytes(4, "little")
    coinbase = (b"\x01\x00\x00\x00\x01" + b"\x00" * 32 + b"\xff" * 4 + bytes([len(script)]) + script + b"\xff" * 4
                + b"\x01" + (50 * 10**8).to_bytes(8, "little") + b"\x01\x51" + b"\x00" * 4)
    merkle = hashlib.sha256(hashlib.sha256(coinbase).digest()).digest()
    header = struct.pack("<i32s32sIII", 1, bytes.fromhex(parent)[::-1], merkle, time, 0x1D00FFFF, tag)
    return header + b"\x01" + coinbase


def eth_chain(numbers: range, tag: str, parent: str | None = None) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Ethereum blocks ``numbers``, one chain (each block's parent the one before, the first's ``parent``), as a
    node answers them: a block with full transactions and the receipts of its transaction, which pays 1,000 +
    number wei and carries one ERC-20 ``Transfer`` log. ``tag`` names the branch: other tags, other hashes."""
    out = []
    for n in numbers:
        block_hash, tx_hash = _h(f"block {n} {tag}"), _h(f"tx {n} {tag}")
        sender, token = "0x" + hashlib.sha256(tag.encode()).hexdigest()[:40], "0x" + "7" * 40
        where = {"blockHash": block_hash, "blockNumber": hex(n), "transactionIndex": "0x0"}
        tx = {"hash": tx_hash, "nonce": hex(n), "from": sender, "to": token, "value": hex(1_000 + n), "gas": "0x5208",
              "gasPrice": "0x3b9aca00", "input": "0x", **where}
        log = {"logIndex": "0x0", "transactionHash": tx_hash, "address": token, "data": "0x" + f"{n:064x}",
               "topics": [TRANSFER_TOPIC, "0x" + sender[2:].rjust(64, "0"), "0x" + "9" * 64], "removed": False,
               **where}
        receipt = {"transactionHash": tx_hash, "cumulativeGasUsed": "0x5208", "gasUsed": "0x5208", "status": "0x1",
                   "logs": [log], **where}
        block = {"number": hex(n), "hash": block_hash, "parentHash": parent or _h(f"block {n - 1} {tag}"),
                 "timestamp": hex(1_700_000_000 + 12 * n), "transactions": [tx]}
        out.append((block, [receipt]))
        parent = block_hash
    return out


def _h(text: str) -> str:
    return "0x" + hashlib.sha256(text.encode()).hexdigest()
